"""Functions as values, and `None`, where both are known where the code is read.

Helpers are lowered in place at each call, so what a helper's parameter holds
is known there: a function passed in (`rk4_step(decay, y)`, `math.sin`, a
`lambda` reading the caller's names, a `def` written inside the function) is
called wherever the helper calls the parameter, and passed on as it is. A
parameter that holds `None` (`def layer(x, w, b=None)` called without `b`)
decides every `b is None` and `b is not None` there: an `if` on one lowers
only the branch taken, a conditional expression only the side chosen.

The scope holds such a name as a `Function` or as `NONE` (see `scope`); a
function that is not known so (`fs[i](x)`, a parameter of the function
differentiated itself) is refused, naming what was called.
"""

from __future__ import annotations

import ast
import dataclasses
import sys

from ..errors import UnsupportedError
from ..frontend import Callee, Custom, Helper, MathModule, ParsedFunction, UserModule
from ..ir import BOOL, Const, Var
from ..rules import CALLS, MATH_CONSTANTS
from .base import LoweringBase
from .scope import NONE, Bound, Function, Held, NoneValue, Scope, TupleValue, Undefined, Value, assigned_names, described

_FUNCTION_NAMES = frozenset(name for name, _ in CALLS)


class Functions(LoweringBase):
    """Functions as values (`Function`) and `None` (`NONE`): what they are, calls of them, and the tests of
    `is None` decided where the code is read."""

    # -- what an argument holds --------------------------------------------------------------------------

    def argument(self, node: ast.expr, scope: Scope) -> Held:
        """What an argument of a call to a function of the user's holds (or the right-hand side of an
        assignment): a function known where the code is read, None, or a value."""
        if isinstance(node, ast.Constant) and node.value is None:
            return NONE
        if isinstance(node, ast.Lambda):
            return self.lambda_value(node, scope, dict(scope))
        if isinstance(node, ast.Name):
            held = scope.get(node.id)
            if isinstance(held, Function):
                return self.read_function(held, scope)
            if isinstance(held, NoneValue):
                return NONE
            if node.id not in scope:
                known = self.module_function(node.id, node)
                if known is not None:
                    return known
        if isinstance(node, ast.Attribute):
            known = self.attribute_function(node, scope)
            if known is not None:
                return known
        if isinstance(node, ast.IfExp):
            chosen = self.static_test(node.test, scope)
            if chosen is not None:
                return self.argument(node.body if chosen else node.orelse, scope)
        return self.expr(node, scope)

    def module_function(self, name: str, node: ast.AST) -> Function | None:
        """A function a module-level name is: a helper, a custom derivative, a builtin, NumPy's (else None)."""
        resolved = self.resolve_or_none(name, node)
        if isinstance(resolved, (Helper, Custom)):
            return Function(name, resolved)
        if isinstance(resolved, Callee):
            return Function(resolved.spelling if resolved.spelling.startswith("numpy.") else name, resolved)
        return None

    def attribute_function(self, node: ast.Attribute, scope: Scope) -> Function | None:
        """`math.sin`, `np.tanh`, `helpers.decay`: a function read through its module (else None)."""
        path = self.numpy_path(node, scope)
        if path is not None:
            return Function(path, Callee(path)) if path in _FUNCTION_NAMES else None
        if not isinstance(node.value, ast.Name) or node.value.id in scope:
            return None
        base = self.resolve_or_none(node.value.id, node.value)
        if isinstance(base, MathModule) and node.attr not in MATH_CONSTANTS:
            return Function(f"math.{node.attr}", Callee(f"math.{node.attr}"))
        if isinstance(base, UserModule):
            dotted = f"{node.value.id}.{node.attr}"
            found = self.resolve_or_none(dotted, node)
            if isinstance(found, Custom):
                raise self.error(
                    UnsupportedError,
                    f"'{dotted}' has a custom derivative: pass it by its own name",
                    node,
                    f"from {base.name} import {node.attr}",
                )
            if isinstance(found, Helper):
                return Function(dotted, found)
        return None

    def lambda_value(self, node: ast.Lambda, scope: Scope, closure: Scope | None) -> Function:
        """A `lambda`, as the `def` it stands for; its defaults evaluated here, where Python evaluates them."""
        returned = ast.copy_location(ast.Return(node.body), node.body)
        written = ast.FunctionDef(name="<lambda>", args=node.args, body=[returned], decorator_list=[], returns=None)
        if sys.version_info >= (3, 12):
            written.type_params = []
        ast.copy_location(written, node)
        written.end_lineno, written.end_col_offset = node.end_lineno, node.end_col_offset
        return Function("<lambda>", None, written, self.parsed, closure, self.defaults_of(node.args, scope))

    def defaults_of(self, args: ast.arguments, scope: Scope) -> tuple[tuple[str, Held], ...]:
        """The default values of a `lambda`'s or a nested `def`'s parameters, evaluated in `scope`."""
        positional = [*args.posonlyargs, *args.args]
        named = [p.arg for p in positional][len(positional) - len(args.defaults) :]
        pairs = list(zip(named, args.defaults))
        pairs += [(p.arg, d) for p, d in zip(args.kwonlyargs, args.kw_defaults) if d is not None]
        return tuple((name, self.argument(default, scope)) for name, default in pairs)

    def read_function(self, function: Function, scope: Scope) -> Function:
        """A function read from `scope`: a `lambda` or `def` of this very scope reads its names as they are now."""
        if function.node is not None and function.closure is None:
            return dataclasses.replace(function, closure=dict(scope))
        return function

    def statement_FunctionDef(self, node: ast.FunctionDef, scope: Scope) -> None:
        """A `def` inside a function: a function its name holds, called (or passed to a helper) in place."""
        if node.decorator_list:
            raise self.error(
                UnsupportedError,
                f"the nested function '{node.name}' is decorated (@{ast.unparse(node.decorator_list[0])}): a decorated "
                "nested function cannot be differentiated",
                node,
                "remove the decorator, or define the function at module level",
            )
        scope[node.name] = Function(node.name, None, node, self.parsed, None, self.defaults_of(node.args, scope))

    # -- calls of functions held by names ----------------------------------------------------------------

    def called_function(self, node: ast.Call, scope: Scope) -> Function | None:
        """The function a call calls where a name of the scope holds it, or a `lambda` is called in place
        (None: a module's function, found by its name). What is not known where the code is read is refused."""
        func = node.func
        if isinstance(func, ast.Name) and func.id in scope:
            held = scope[func.id]
            if isinstance(held, Function):
                return self.read_function(held, scope)
            if isinstance(held, NoneValue):
                raise self.error(UnsupportedError, f"'{func.id}' is None here: calling it raises TypeError", func)
            if isinstance(held, Undefined):
                raise self.error(
                    UnsupportedError,
                    f"'{func.id}' may be undefined here: {held.reason}",
                    func,
                    f"give '{func.id}' a value before the branch or loop",
                )
            parameter = self.differentiated_parameter(held)
            if parameter is not None:
                top = self.differentiated[0]
                what = (
                    f"'{func.id}' is a parameter of the function you differentiate"
                    if len(self.stack) == 1
                    else f"'{func.id}' holds '{parameter}', a parameter of the function you differentiate ('{top}'),"
                )
                raise self.error(
                    UnsupportedError,
                    f"{what} and it is called: a function passed to the differentiated function itself is not known "
                    "where the code is read",
                    func,
                    f"differentiate a function that calls '{top}' with the function (def loss(...): return "
                    f"{top}(decay, ...)), or bind it with functools.partial({top}, decay)",
                )
            raise self.error(UnsupportedError, f"'{func.id}' holds {described(held)} here, not a function", func)
        if isinstance(func, ast.Lambda):
            return self.lambda_value(func, scope, dict(scope))
        if isinstance(func, ast.IfExp):
            chosen = self.static_test(func.test, scope)
            if chosen is not None:
                picked = func.body if chosen else func.orelse
                found = self.argument(picked, scope)
                if isinstance(found, Function):
                    return found
        unknown = {
            "Subscript": "a function taken from a list, tuple or dict",
            "Call": "the function another call returns",
            "IfExp": "a function chosen by a conditional expression",
            "BoolOp": "a function chosen by 'and' / 'or'",
        }.get(type(func).__name__)
        if unknown is not None:
            spelled = ast.unparse(func) if isinstance(func, (ast.Subscript, ast.Call)) else f"({ast.unparse(func)})"
            raise self.error(
                UnsupportedError,
                f"calling {unknown} (`{spelled}(...)`) is not supported: which function is called must be "
                "known where the code is read",
                func,
                "call the function by its name, or pass it to a function of yours as an argument",
            )
        return None

    def differentiated_parameter(self, held: Bound) -> str | None:
        """The parameter of the function differentiated that a value is, as it came in (None: another value)."""
        if isinstance(held, Value) and isinstance(held.operand, Var) and held.operand.name in self.differentiated[1]:
            return held.operand.name
        return None

    def call_function(self, function: Function, node: ast.Call, scope: Scope, allow_tuple: bool = False) -> Bound:
        """A call of a function a name holds: as if by its own name, or a `lambda`/`def` lowered in place."""
        resolved = function.resolved
        if isinstance(resolved, Helper):
            return self.inline(function.spelling, resolved, node, scope, allow_tuple)
        if isinstance(resolved, Callee) and resolved.spelling.startswith("numpy."):
            return self.numpy_call(resolved.spelling, node, scope)
        if resolved is not None:
            return self.call_of(function.spelling, resolved, node, scope)  # type: ignore[arg-type]  # a frontend `Resolved`
        assert function.node is not None and isinstance(function.parsed, ParsedFunction)
        key = f"{function.spelling}@{function.parsed.source.filename}:{function.node.lineno}:{function.node.col_offset}"
        if key in self.stack:
            raise self.error(
                UnsupportedError,
                f"recursive call to '{function.spelling}' cannot be differentiated",
                node,
                "rewrite the recursion as a loop",
            )
        closure: Scope = {k: v for k, v in (function.closure or {}).items() if not k.startswith("#")}
        for name in assigned_names(function.node.body):  # assigned in its body: its own, not the caller's
            if name in closure:
                closure[name] = Undefined(f"'{name}' is assigned in '{function.spelling}', so it is local there")
        defaults = dict(function.defaults)
        return self.inline_parsed(
            function.spelling, key, function.parsed, function.node, node, scope, allow_tuple, closure, defaults
        )

    # -- None, and the tests of it -----------------------------------------------------------------------

    def is_none(self, node: ast.expr, scope: Scope) -> bool | None:
        """Whether an expression is None, where that is known where the code is read (None: not known so)."""
        if isinstance(node, ast.Constant):
            return node.value is None
        if isinstance(node, ast.Name):
            held = scope.get(node.id)
            if held is None:
                return False if self.resolve_or_none(node.id, node) is not None else None
            if isinstance(held, Undefined):
                return None
            return isinstance(held, NoneValue)
        if isinstance(node, ast.Lambda):
            return False
        return None

    def static_test(self, node: ast.expr, scope: Scope) -> bool | None:
        """A test decided where the code is read: `x is None`, `x is not None` of a name known to be None or
        not, `not` of one, and `and`/`or` of them (None: the test is computed)."""
        if isinstance(node, ast.Compare) and len(node.ops) == 1 and isinstance(node.ops[0], (ast.Is, ast.IsNot)):
            left, right = self.is_none(node.left, scope), self.is_none(node.comparators[0], scope)
            if left is None or right is None or not (left or right):  # `x is y` of two values is about objects
                return None
            same = left and right
            return same if isinstance(node.ops[0], ast.Is) else not same
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            inner = self.static_test(node.operand, scope)
            return None if inner is None else not inner
        if isinstance(node, ast.BoolOp):
            simplified = self.simplified(node, scope)
            return simplified if isinstance(simplified, bool) else None
        return None

    def simplified(self, node: ast.expr, scope: Scope) -> ast.expr | bool:
        """A test with its parts decided where the code is read taken out (or the truth of the whole, where
        they decide it): `b is not None and b > 0` with `b` None is False, with `b` a number `b > 0`. An
        operand before one that decides the test stays, so that it is still evaluated (and may raise)."""
        if not isinstance(node, ast.BoolOp):
            static = self.static_test(node, scope)
            return node if static is None else static
        deciding = not isinstance(node.op, ast.And)  # `and` is decided by a false operand, `or` by a true one
        kept: list[ast.expr] = []
        for value in node.values:
            part = self.simplified(value, scope)
            if part is deciding:
                if not kept:
                    return deciding
                kept.append(ast.copy_location(ast.Constant(deciding), value))
                break
            if not isinstance(part, bool):
                kept.append(part)
        if not kept:
            return not deciding
        if len(kept) == 1:
            return kept[0]
        return ast.copy_location(ast.BoolOp(node.op, kept), node)

    # -- the parts of the lowering that read them --------------------------------------------------------

    def condition(self, node: ast.expr, scope: Scope) -> Value:
        simplified = self.simplified(node, scope)
        if isinstance(simplified, bool):
            return Value(Const(simplified), BOOL)
        return super().condition(simplified, scope)  # type: ignore[safe-super]

    def if_statement(self, node: ast.If, scope: Scope, rest: list[ast.stmt]) -> None:
        """An `if` whose test is decided where the code is read is the branch it takes."""
        simplified = self.simplified(node.test, scope)
        if isinstance(simplified, bool):
            self.block((node.body if simplified else node.orelse) + rest, scope)
            return
        if simplified is not node.test:
            node = ast.copy_location(ast.If(simplified, node.body, node.orelse), node)
        super().if_statement(node, scope, rest)  # type: ignore[misc]

    def expr_IfExp(self, node: ast.IfExp, scope: Scope) -> Value:
        chosen = self.static_test(node.test, scope)
        if chosen is not None:
            return self.expr(node.body if chosen else node.orelse, scope)
        return super().expr_IfExp(node, scope)  # type: ignore[misc]

    def expr_Compare(self, node: ast.Compare, scope: Scope) -> Value:
        static = self.static_test(node, scope)
        if static is not None:
            return Value(Const(static), BOOL)
        return super().expr_Compare(node, scope)  # type: ignore[misc]

    def bound(self, node: ast.expr, scope: Scope) -> Held:
        """What an assignment's right-hand side or a `return` binds: also a function or None, by name."""
        if isinstance(node, ast.Call):
            function = self.called_function(node, scope)
            if function is not None:
                return self.call_function(function, node, scope, allow_tuple=True)
        if isinstance(node, ast.Lambda):
            return self.lambda_value(node, scope, None)  # its names are this scope's when it is read
        if isinstance(node, ast.Constant) and node.value is None:
            return NONE
        if isinstance(node, ast.Name) and isinstance(held := scope.get(node.id), TupleValue):  # `c, (d, e) = t`
            return held
        if isinstance(node, ast.Name):
            return self.argument(node, scope)
        if isinstance(node, ast.Attribute):
            known = self.attribute_function(node, scope)
            if known is not None:
                return known
        if isinstance(node, ast.IfExp):
            chosen = self.static_test(node.test, scope)
            if chosen is not None:
                return self.bound(node.body if chosen else node.orelse, scope)
            for side in (node.body, node.orelse):
                self.refuse_function_in(side, scope, "chosen by a conditional expression")
        return super().bound(node, scope)  # type: ignore[misc]

    def element_expr(self, node: ast.expr, scope: Scope) -> Value:
        self.refuse_function_in(node, scope, "held in a list or a tuple")
        return super().element_expr(node, scope)  # type: ignore[misc]

    def refuse_function_in(self, node: ast.expr, scope: Scope, how: str) -> None:
        """Refuse a function where only a value can stand (`[decay, grow]`, `decay if c else grow`): which
        function is called would be known only when the code runs."""
        held = scope.get(node.id) if isinstance(node, ast.Name) else None
        if isinstance(held, Function) or (held is None and self.names_function(node)):
            what = held.spelling if isinstance(held, Function) else ast.unparse(node)
            raise self.error(
                UnsupportedError,
                f"a function {how} ('{what}') is not supported: which function a call calls must be known where the code is read",
                node,
                "call the functions by name, or pass one to a function of yours as an argument",
            )

    def bind(self, target: ast.expr, value: Held, scope: Scope) -> None:
        if isinstance(value, (Function, NoneValue)):
            if not isinstance(target, ast.Name):
                raise self.error(
                    UnsupportedError, f"{described(value)} can only be assigned to a name", target, "assign it to a name"
                )
            scope[target.id] = value
            return
        super().bind(target, value, scope)  # type: ignore[misc]
