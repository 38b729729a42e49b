"""NumPy arrays: calls to NumPy, array methods and attributes, `@`, and indexing.

Each becomes one primitive of `rules/arrays.py` (or of the scalar table, for
elementwise functions), with constant operands for what NumPy takes as
parameters (`axis`, `keepdims`, the sizes of a shape). A few functions are
written here as the primitives they are made of, so that their derivative
needs no rule of its own: `np.var(x)` is the mean of `(x - x.mean()) ** 2`,
`np.std` its square root, `np.linalg.norm(x)` the square root of the sum of
squares. What NumPy offers beyond that is refused by name.
"""

from __future__ import annotations

import ast

from .. import ir
from ..errors import UnsupportedError
from ..ir import FLOAT, INT, ArrayOf, Const, Operand, Var
from ..rules import CALLS, MATH_CONSTANTS
from ..rules.arrays import array_literal
from ..rules.joins import joined, permuted, stacked, stacked_from_list
from ..rules.shapes import UNKNOWN, dims, is_array
from .indexing import Indexing
from .scope import Scope, TupleValue, Value

_REDUCTIONS = ("sum", "mean", "max", "min", "prod")
_METHODS = (
    *_REDUCTIONS,
    "argmax",
    "argmin",
    "swapaxes",
    "reshape",
    "transpose",
    "dot",
    "copy",
    "ravel",
    "flatten",
    "astype",
    "cumsum",
    "squeeze",
    "var",
    "std",
    "clip",
)


_WITH_KEYWORDS = (*_REDUCTIONS, "var", "std", "argmax", "argmin", "cumsum")  # methods that take axis= and the like


class Arrays(Indexing):
    """NumPy arrays: calls to NumPy, array methods and attributes, `@`, and indexing."""

    def array(self, value: Value, node: ast.AST, what: str) -> Value:
        if not is_array(value.type):
            raise self.error(
                UnsupportedError, f"{what} needs an array here, not a number", node, "make it an array with np.array(...)"
            )
        return value

    def whole(self, node: ast.expr, scope: Scope, what: str) -> int:
        """A constant whole number the code says (an axis): NumPy's parameters are not differentiated."""
        value = self.expr(node, scope).operand
        if not isinstance(value, Const) or not isinstance(value.value, int) or isinstance(value.value, bool):
            raise self.error(UnsupportedError, f"{what} must be a whole number written in the code", node)
        return value.value

    # -- operators -----------------------------------------------------------------

    def matmul(self, left: Value, right: Value, node: ast.AST) -> Value:
        """`a @ b` (and `np.dot`, `np.matmul`, `a.dot(b)`) of vectors and matrices; a number times an array is `*`."""
        if not is_array(left.type) or not is_array(right.type):
            if not is_array(left.type) and not is_array(right.type) and isinstance(node, ast.BinOp):
                raise self.error(UnsupportedError, "the operator '@' multiplies arrays, not numbers", node, "use '*' for numbers")
            return self.apply("mul", (left, right), node)
        if max(len(dims(left.type)), len(dims(right.type))) > 2 and min(len(dims(left.type)), len(dims(right.type))) < 2:
            raise self.error(UnsupportedError, "'@' of a vector and a stack of matrices cannot be differentiated yet", node)
        return self.array_op("matmul", (left.operand, right.operand))

    # -- calls ---------------------------------------------------------------------

    def numpy_call(self, spelling: str, node: ast.Call, scope: Scope) -> Value:
        """A call to a NumPy function, `np.<name>(...)` under any import spelling."""
        name = spelling[len("numpy.") :]
        shown = f"np.{name}"
        if name.startswith("random."):
            raise self.error(
                UnsupportedError,
                f"'{shown}' draws random numbers, which cannot be differentiated",
                node,
                "draw the numbers outside the function and pass them in as an argument",
            )
        name = {"amax": "max", "amin": "min"}.get(name, name)
        if name in _REDUCTIONS:
            return self.reduction_call(name, node.args[0] if node.args else None, node.args[1:], node, scope)
        if name in ("argmax", "argmin"):
            return self.position(name, node.args[0] if node.args else None, node.args[1:], node, scope)
        if name in ("dot", "matmul") and len(node.args) == 2 and not node.keywords:
            return self.matmul(self.expr(node.args[0], scope), self.expr(node.args[1], scope), node)
        if name == "linalg.norm" and len(node.args) == 1:
            return self.norm_of(node, scope)
        if name in ("var", "std"):
            return self.spread_of(name, node, scope)
        made = self.numpy_made(name, node, scope)
        if made is not None:
            return made
        op = CALLS.get((spelling, len(node.args)))
        if op is None or node.keywords:
            raise self.error(
                UnsupportedError,
                f"'{shown}' is not differentiable yet" if op is None else f"keyword arguments to '{shown}' are not supported",
                node,
                "the README lists the NumPy functions s2s_ad differentiates",
            )
        return self.apply(op, tuple(self.expr(a, scope) for a in node.args), node)

    def numpy_made(self, name: str, node: ast.Call, scope: Scope) -> Value | None:
        """Arrays NumPy makes: `np.array([...])` of numbers, zeros and ones, transposes, outer products."""
        args = node.args
        if name == "array" and len(args) == 1 and isinstance(args[0], ast.Name) and not node.keywords:
            return self.array_of_list(args[0], node, scope)
        if name == "array" and len(args) == 1 and isinstance(args[0], (ast.List, ast.Tuple)) and not node.keywords:
            items = [self.scalar(self.expr(e, scope), e) for e in args[0].elts]
            if any(is_array(i.type) or isinstance(i.type, ir.ListOf) for i in items) or not items:
                raise self.error(UnsupportedError, "np.array(...) of numbers only is supported", node, "use np.stack for arrays")
            op, rule = array_literal(len(items))
            self.created.setdefault(op, rule)
            return self.array_op(op, tuple(self.as_float(i, node).operand for i in items))
        if name in ("zeros", "ones") and len(args) == 1 and not node.keywords:
            sizes = args[0].elts if isinstance(args[0], ast.Tuple) else [args[0]]
            values = [self.integer(self.expr(s, scope), s, f"np.{name}()") for s in sizes]
            if not 1 <= len(values) <= 3:
                raise self.error(UnsupportedError, f"np.{name} of up to three axes is supported", node)
            shape = tuple(self.size_of(v.operand) for v in values)
            return self.array_op(f"numpy.{name}{len(values)}", tuple(v.operand for v in values), ArrayOf(FLOAT, shape))
        if name in ("zeros_like", "ones_like") and len(args) == 1 and not node.keywords:
            x = self.array(self.expr(args[0], scope), node, f"np.{name}")
            return self.array_op(f"numpy.{name}", (x.operand,), ArrayOf(FLOAT, dims(x.type)))
        if name == "transpose" and len(args) == 1 and not node.keywords:
            return self.array_op("transpose", (self.array(self.expr(args[0], scope), node, "np.transpose").operand,))
        if name == "outer" and len(args) == 2 and not node.keywords:
            a, b = (self.array(self.expr(a, scope), node, "np.outer") for a in args)
            return self.array_op("numpy.outer", (a.operand, b.operand))
        if name == "reshape" and len(args) == 2 and not node.keywords:
            return self.reshaped(self.expr(args[0], scope), args[1:], node, scope)
        if name in ("concatenate", "stack", "hstack", "vstack"):
            return self.join(name, node, scope)
        if name in ("cumsum", "diff", "squeeze", "ravel", "eye", "arange"):
            return self.rearranged(name, node, scope)
        if name == "swapaxes" and len(args) == 3 and not node.keywords:
            return self.swapped(self.expr(args[0], scope), list(args[1:]), node, scope)
        if name == "transpose" and len(args) == 2 and isinstance(args[1], (ast.Tuple, ast.List)) and not node.keywords:
            return self.permute(self.expr(args[0], scope), args[1].elts, node, scope)
        if name == "expand_dims" and len(args) == 2 and not node.keywords:
            x = self.array(self.expr(args[0], scope), node, "np.expand_dims")
            return self.array_op("numpy.expand_dims", (x.operand, Const(self.whole(args[1], scope, "the axis"))))
        return None

    def join(self, name: str, node: ast.Call, scope: Scope) -> Value:
        """`np.concatenate((a, b), axis=k)`, `np.stack`, `np.hstack`, `np.vstack` of arrays written out."""
        options = self.keywords(node, ("axis",), f"np.{name}")
        if name == "stack" and len(node.args) == 1 and not isinstance(node.args[0], (ast.Tuple, ast.List)):
            listed = self.expr(node.args[0], scope)
            if isinstance(listed.type, ir.ListOf) and is_array(listed.type.elem):  # `np.stack(hs)`, hs a list of arrays
                axis = self.whole(options["axis"], scope, "the axis") if "axis" in options else 0
                return self.stacked_list(listed, axis, node)
        if (
            name in ("concatenate", "hstack", "vstack")
            and len(node.args) == 1
            and not isinstance(node.args[0], (ast.Tuple, ast.List))
        ):
            listed = self.expr(node.args[0], scope)
            if isinstance(listed.type, ir.ListOf) and is_array(listed.type.elem):  # `np.concatenate(hs)`
                return self.joined_list(name, listed, options, node, scope)
        if len(node.args) != 1 or not isinstance(node.args[0], (ast.Tuple, ast.List)) or not node.args[0].elts:
            raise self.error(UnsupportedError, f"write np.{name}((a, b, ...)) with the arrays listed", node)
        pieces = [self.array(self.expr(e, scope), e, f"np.{name}") for e in node.args[0].elts]
        ndim = len(dims(pieces[0].type))
        if any(len(dims(p.type)) != ndim for p in pieces):
            raise self.error(UnsupportedError, f"np.{name} of arrays with different numbers of axes is not supported", node)
        axis = self.whole(options["axis"], scope, "the axis") if "axis" in options else 0
        stack = name == "stack" or (name == "vstack" and ndim == 1)
        if name == "hstack":
            axis = 0 if ndim == 1 else 1
        elif name == "vstack":
            axis = 0
        axis = axis % (ndim + stack)
        made = stacked(len(pieces), axis) if stack else joined(len(pieces), axis, ndim)
        op, rules = made
        for key, rule in rules.items():
            self.created.setdefault(key, rule)
        return self.array_op(op, tuple(p.operand for p in pieces))

    def array_of_list(self, name: ast.Name, node: ast.Call, scope: Scope) -> Value:
        """`np.array(hs)` of a list of arrays: stacked along a new first axis."""
        listed = self.expr(name, scope)
        if not (isinstance(listed.type, ir.ListOf) and is_array(listed.type.elem)):
            raise self.error(
                UnsupportedError, "np.array(...) of numbers only is supported", node, "write the numbers out: np.array([a, b])"
            )
        return self.stacked_list(listed, 0, node)

    def joined_list(self, name: str, items: Value, options: dict[str, ast.expr], node: ast.Call, scope: Scope) -> Value:
        """`np.concatenate(hs, axis=k)`, `np.hstack(hs)`, `np.vstack(hs)` of a list of arrays: its arrays all have
        the size its type says along the axis, so joining them is stacking them there and merging that axis with
        the new one (`np.stack(hs, axis=k)` reshaped)."""
        assert isinstance(items.type, ir.ListOf)
        sizes = dims(items.type.elem)
        ndim = len(sizes)
        if name == "vstack" and ndim == 1:
            return self.stacked_list(items, 0, node)
        if ndim == 0:
            raise self.error(UnsupportedError, f"np.{name} of a list of 0-d arrays is not supported", node, "use np.stack")
        axis = 1 if name == "hstack" and ndim > 1 else 0
        if name == "concatenate" and "axis" in options:
            axis = self.whole(options["axis"], scope, "the axis") % ndim
        if sizes[axis] == UNKNOWN:
            raise self.error(
                UnsupportedError,
                f"np.{name} of a list whose arrays may differ in size along the axis is not supported",
                node,
                f"list the arrays: np.{name}((a, b, ...))",
            )
        if not 1 <= ndim <= 4:
            raise self.error(UnsupportedError, f"np.{name} of a list of arrays of up to four axes is supported", node)
        stack = self.stacked_list(items, axis, node)
        shape = [self.size_at(stack, k).operand for k in range(ndim + 1)]
        merged = (*shape[:axis], Const(-1), *shape[axis + 2 :])
        result = ArrayOf(FLOAT, (*sizes[:axis], UNKNOWN, *sizes[axis + 1 :]))
        return self.array_op(f"reshape{ndim}", (stack.operand, *merged), result)

    def stacked_list(self, items: Value, axis: int, node: ast.AST) -> Value:
        """`np.stack(hs, axis=k)` or `np.array(hs)` of a list of arrays, however many it holds."""
        assert isinstance(items.type, ir.ListOf)
        op, rules = stacked_from_list(axis % (len(dims(items.type.elem)) + 1))
        for key, rule in rules.items():
            self.created.setdefault(key, rule)
        return self.array_op(op, (items.operand,))

    def rearranged(self, name: str, node: ast.Call, scope: Scope, x: Value | None = None) -> Value:
        """`np.cumsum`, `np.diff`, `np.squeeze`, `np.ravel` of an array; the constants `np.eye(n)`, `np.arange`."""
        args = node.args if x is None else [node.func, *node.args]  # a method: the array is the first operand
        options = self.keywords(node, ("axis",) if name == "cumsum" else (), f"np.{name}")
        if name in ("eye", "arange"):
            values = [self.expr(a, scope) for a in args]
            if not 1 <= len(values) <= (1 if name == "eye" else 3) or any(
                isinstance(v.type, (ArrayOf, ir.ListOf)) for v in values
            ):
                raise self.error(UnsupportedError, f"this call of np.{name} is not supported", node)
            return self.array_op(f"numpy.{name}" + ("" if name == "eye" else str(len(values))), tuple(v.operand for v in values))
        if len(args) != 1:
            raise self.error(
                UnsupportedError, f"write np.{name}(x)" + (" or np.cumsum(x, axis=k)" if name == "cumsum" else ""), node
            )
        value = x if x is not None else self.array(self.expr(args[0], scope), node, f"np.{name}")
        ndim = len(dims(value.type))
        if name == "ravel":
            return self.array_op("reshape1", (value.operand, Const(-1)), ArrayOf(FLOAT, (UNKNOWN,)))
        if name == "squeeze":
            if UNKNOWN in dims(value.type):
                raise self.error(UnsupportedError, "squeeze of an array whose sizes are known only when it runs", node)
            return self.array_op("numpy.squeeze", (value.operand,))
        if name == "diff":
            return self.array_op("numpy.diff", (value.operand,))
        if "axis" in options:
            return self.array_op("cumsum_axis", (value.operand, Const(self.whole(options["axis"], scope, "the axis") % ndim)))
        if ndim != 1:
            raise self.error(UnsupportedError, "np.cumsum of an array of several axes needs the axis", node)
        return self.array_op("cumsum_all", (value.operand,))

    def swapped(self, x: Value, pair: list[ast.expr], node: ast.AST, scope: Scope) -> Value:
        """`x.swapaxes(i, j)`, `np.swapaxes(x, i, j)`: the transpose that exchanges two axes."""
        ndim = len(dims(self.array(x, node, "swapaxes").type))
        i, j = (self.whole(a, scope, "an axis") % max(ndim, 1) for a in pair)
        order = list(range(ndim))
        order[i], order[j] = order[j], order[i]
        return self.permute(x, [ast.Constant(k) for k in order], node, scope)

    def permute(self, x: Value, order: list[ast.expr], node: ast.AST, scope: Scope) -> Value:
        x = self.array(x, node, "transpose")
        axes = tuple(self.whole(a, scope, "an axis") for a in order)
        if sorted(axes) != list(range(len(dims(x.type)))):
            raise self.error(UnsupportedError, "the axes of a transpose must be each axis once", node)
        op, rules = permuted(axes)
        for key, rule in rules.items():
            self.created.setdefault(key, rule)
        return self.array_op(op, (x.operand,))

    def as_float(self, value: Value, node: ast.AST) -> Value:
        return self.apply("float", (value,), node) if value.type != FLOAT else value

    def keywords(self, node: ast.Call, allowed: tuple[str, ...], what: str) -> dict[str, ast.expr]:
        found = {}
        for keyword in node.keywords:
            if keyword.arg not in allowed:
                raise self.error(UnsupportedError, f"{what} does not take the keyword '{keyword.arg}' here", keyword.value)
            found[keyword.arg] = keyword.value
        return found

    def reduction_call(
        self, name: str, target: ast.expr | None, rest: list[ast.expr], node: ast.Call, scope: Scope, x: Value | None = None
    ) -> Value:
        """`np.sum(x, axis=..., keepdims=...)` and `x.sum(...)`: sum, mean, max and min."""
        options = self.keywords(node, ("axis", "keepdims"), f"{name}()")
        if rest:
            options.setdefault("axis", rest[0])
        if x is None:
            if target is None:
                raise self.error(UnsupportedError, f"np.{name} needs an array", node)
            x = self.expr(target, scope)
        axis = options.get("axis")
        if isinstance(axis, ast.Tuple) and name in ("max", "min"):  # ties across the axes would split unequally
            raise self.error(
                UnsupportedError, f"{name}() over a tuple of axes is not supported yet", axis, "reduce one axis at a time"
            )
        keep = options.get("keepdims")
        keepdims = False
        if keep is not None:
            if not isinstance(keep, ast.Constant) or not isinstance(keep.value, bool):
                raise self.error(UnsupportedError, "keepdims must be True or False, written in the code", keep)
            keepdims = keep.value
        if axis is not None and isinstance(axis, ast.Constant) and axis.value is None:
            axis = None
        if not is_array(x.type):
            if axis is not None or keepdims:
                raise self.error(UnsupportedError, f"{name}() of a number takes no axis", node)
            return x
        if isinstance(axis, ast.Tuple):  # one axis after another, the last first: the rest keep their numbers
            ndim = len(dims(x.type))
            axes = sorted({self.whole(a, scope, "the axis") % max(ndim, 1) for a in axis.elts}, reverse=True)
            for one in axes:
                x = self.reduce(name, x, one, keepdims, node)
            return x
        axis_value = None if axis is None else self.whole(axis, scope, "the axis")
        return self.reduce(name, x, axis_value, keepdims, node)

    def norm_of(self, node: ast.Call, scope: Scope) -> Value:
        """`np.linalg.norm(x, axis=k, keepdims=...)`: the square root of the sum of squares (Frobenius for a
        matrix without an axis, as NumPy)."""
        options = self.keywords(node, ("axis", "keepdims"), "np.linalg.norm")
        x = self.expr(node.args[0], scope)
        squares = self.apply("mul", (x, x), node)
        given = options.get("axis")
        keep = options.get("keepdims")
        if keep is not None and not (isinstance(keep, ast.Constant) and isinstance(keep.value, bool)):
            raise self.error(UnsupportedError, "keepdims must be True or False, written in the code", keep)
        keepdims = bool(keep is not None and keep.value)  # type: ignore[attr-defined]
        if given is None or (isinstance(given, ast.Constant) and given.value is None):
            if keepdims:
                raise self.error(UnsupportedError, "keepdims=True without an axis is not supported", node, "give the axis")
            return self.apply("numpy.sqrt", (self.reduce("sum", squares, None, False, node),), node)
        if isinstance(given, ast.Tuple):
            raise self.error(UnsupportedError, "np.linalg.norm over a tuple of axes is not supported yet", given)
        axis = self.whole(given, scope, "the axis")
        return self.apply("numpy.sqrt", (self.reduce("sum", squares, axis, keepdims, node),), node)

    def position(
        self, name: str, target: ast.expr | None, rest: list[ast.expr], node: ast.Call, scope: Scope, x: Value | None = None
    ) -> Value:
        """`np.argmax(x, axis=k)`, `x.argmin()`: where the extreme is, a whole number (no derivative)."""
        options = self.keywords(node, ("axis",), f"{name}()")
        if rest:
            options.setdefault("axis", rest[0])
        if x is None:
            if target is None:
                raise self.error(UnsupportedError, f"np.{name} needs an array", node)
            x = self.array(self.expr(target, scope), node, f"np.{name}")
        if "axis" not in options:
            return self.array_op(f"{name}_all", (x.operand,))
        axis = self.whole(options["axis"], scope, "the axis") % max(1, len(dims(x.type)))
        return self.array_op(f"{name}_axis", (x.operand, Const(axis)))

    def reduce(self, name: str, x: Value, axis: int | None, keepdims: bool, node: ast.AST) -> Value:
        if not is_array(x.type):
            return x
        if axis is None:
            if keepdims:
                raise self.error(UnsupportedError, "keepdims=True without an axis is not supported", node, "give the axis")
            return self.array_op(f"{name}_all", (x.operand,))
        if not -len(dims(x.type)) <= axis < len(dims(x.type)):
            raise self.error(UnsupportedError, f"axis {axis} is out of range for an array of {len(dims(x.type))} axes", node)
        return self.array_op(f"{name}_axis_keep" if keepdims else f"{name}_axis", (x.operand, Const(axis)))

    def spread_of(self, name: str, node: ast.Call, scope: Scope, x: Value | None = None) -> Value:
        """`np.var(x, axis=..., ddof=...)` (and `x.var(...)`) as the mean of the squared deviations, times
        n / (n - ddof); `np.std` as its square root."""
        what = f"np.{name}" if x is None else f".{name}()"
        options = self.keywords(node, ("axis", "ddof"), what)
        if len(node.args) != (1 if x is None else 0):
            raise self.error(UnsupportedError, f"write {what[:-1] if x is not None else what}(x, axis=k, ddof=d)", node)
        x = x if x is not None else self.array(self.expr(node.args[0], scope), node, what)
        given = options.get("axis")
        none = given is None or (isinstance(given, ast.Constant) and given.value is None)
        axis = None if none else self.whole(given, scope, "the axis")  # type: ignore[arg-type]
        mean = self.reduce("mean", x, axis, axis is not None, node)
        deviation = self.apply("sub", (x, mean), node)
        variance = self.reduce("mean", self.apply("mul", (deviation, deviation), node), axis, False, node)
        if "ddof" in options:
            ddof = self.integer(self.expr(options["ddof"], scope), options["ddof"], f"{what}'s ddof")
            count = self.array_op("size", (x.operand,), INT) if axis is None else self.size_at(x, axis % len(dims(x.type)))
            scale = self.apply("div", (count, self.apply("sub", (count, ddof), node)), node)
            variance = self.apply("mul", (variance, scale), node)
        return variance if name == "var" else self.apply("numpy.sqrt", (variance,), node)

    def reshaped(self, x: Value, sizes: list[ast.expr], node: ast.AST, scope: Scope) -> Value:
        x = self.array(x, node, "reshape")
        if len(sizes) == 1 and isinstance(sizes[0], ast.Tuple):
            sizes = list(sizes[0].elts)
        values = [self.integer(self.expr(s, scope), s, "reshape()") for s in sizes]
        if not 1 <= len(values) <= 4:
            raise self.error(UnsupportedError, "reshape to up to four axes is supported", node)
        return self.array_op(f"reshape{len(values)}", (x.operand, *(v.operand for v in values)))

    def method(self, x: Value, node: ast.Call, scope: Scope) -> Value:
        """`x.sum(axis=1)`, `x.reshape(n, -1)`, `x.dot(y)`, `x.copy()`, ... on an array."""
        assert isinstance(node.func, ast.Attribute)
        name = node.func.attr
        if name not in _METHODS:
            raise self.error(UnsupportedError, f"the array method '.{name}()' is not differentiable yet", node.func)
        if name in _WITH_KEYWORDS:
            return self.method_with_keywords(x, name, node, scope)
        if node.keywords:
            raise self.error(UnsupportedError, f"keyword arguments to '.{name}()' are not supported", node.keywords[0].value)
        if name == "reshape":
            return self.reshaped(x, node.args, node, scope)
        if name in ("ravel", "flatten") and not node.args:
            return self.array_op("reshape1", (x.operand, Const(-1)), ArrayOf(FLOAT, (UNKNOWN,)))
        if name == "transpose" and not node.args:
            return self.array_op("transpose", (x.operand,))
        if name == "transpose":
            return self.permute(x, list(node.args), node, scope)
        if name == "swapaxes" and len(node.args) == 2:
            return self.swapped(x, node.args, node, scope)
        if name in ("cumsum", "squeeze"):
            return self.rearranged(name, node, scope, x)
        if name == "dot" and len(node.args) == 1:
            return self.matmul(x, self.expr(node.args[0], scope), node)
        if name == "clip" and len(node.args) == 2:  # `x.clip(lo, hi)` is `np.clip(x, lo, hi)`
            return self.apply("clip", (x, *(self.expr(a, scope) for a in node.args)), node)
        if name == "copy" and not node.args:
            return x  # a gradient never writes into an array: the same values are the same array
        if name == "astype" and len(node.args) == 1 and isinstance(node.args[0], ast.Name) and node.args[0].id == "float":
            return (
                x
                if isinstance(x.type, ArrayOf) and x.type.elem == FLOAT
                else self.apply("mul", (x, Value(Const(1.0), FLOAT)), node)
            )
        raise self.error(UnsupportedError, f"this call of '.{name}()' is not supported", node)

    def method_with_keywords(self, x: Value, name: str, node: ast.Call, scope: Scope) -> Value:
        """`x.sum(axis=1, keepdims=True)`, `x.std(ddof=1)`, `x.argmax(axis=0)`, `x.cumsum(axis=0)`."""
        if name in _REDUCTIONS:
            return self.reduction_call(name, None, node.args, node, scope, x)
        if name in ("var", "std"):
            return self.spread_of(name, node, scope, x)
        if name in ("argmax", "argmin"):
            return self.position(name, None, node.args, node, scope, x)
        return self.rearranged(name, node, scope, x)

    # -- attributes and indexing ------------------------------------------------------

    def attribute(self, x: Value, node: ast.Attribute) -> Value | TupleValue:
        """`x.T`, `x.shape` (a tuple of ints), `x.ndim`, `x.size`."""
        if node.attr == "T":
            return self.array_op("transpose", (x.operand,))
        if node.attr == "shape":
            return TupleValue(tuple(self.size_at(x, k) for k in range(len(dims(x.type)))))
        if node.attr == "ndim":
            return Value(Const(len(dims(x.type))), INT)
        if node.attr == "size":
            return self.array_op("size", (x.operand,), INT)
        raise self.error(UnsupportedError, f"the array attribute '.{node.attr}' cannot be differentiated", node)

    def size_at(self, x: Value, axis: int) -> Value:
        size = dims(x.type)[axis]
        if isinstance(size, int):
            return Value(Const(size), INT)
        value = self.array_op("shape_at", (x.operand, Const(axis)), INT)
        assert isinstance(value.operand, Var)
        self.sizes[value.operand.name] = size
        return value

    def size_of(self, operand: Operand) -> ir.Dim:
        """The size an int operand is, as a shape says it: a constant, a size read off an array (`H =
        b.shape[0]` is b's first size, whatever it is), or one known only when the code runs."""
        if isinstance(operand, Const) and isinstance(operand.value, int):
            return operand.value
        if isinstance(operand, Var):
            return self.sizes.get(operand.name, UNKNOWN)
        return UNKNOWN

    def numpy_constant(self, name: str, node: ast.AST) -> Value:
        if name in MATH_CONSTANTS:  # np.pi is math.pi, and so on
            return Value(Const(MATH_CONSTANTS[name]), FLOAT)
        raise self.error(UnsupportedError, f"'np.{name}' is not a number", node)
