"""Calls: the math module and builtins, reductions, custom derivatives, and the user's own functions inlined."""

from __future__ import annotations

import ast
import dataclasses
import math
from collections.abc import Mapping

from .. import ir
from ..errors import ResolutionError, SignatureError, UnsupportedError
from ..frontend import Callee, Custom, Helper, MathModule, NumpyModule, ParsedFunction, Resolved, UserModule
from ..ir import FLOAT, Assign, Const, Loc, Operand, Var
from ..rules import CALLS
from ..rules.custom import CustomDerivative, custom_rules
from ..rules.emit import INT_OR_FLOAT, fold
from ..rules.shapes import dims, is_array
from .arrays import Arrays
from .base import KindChanged, LoweringBase
from .scope import Bound, Held, Scope, TupleValue, Value


class Calls(Arrays):
    """Calls: the math module and builtins, reductions, custom derivatives, and the user's own functions inlined."""

    def callee(self, node: ast.Call, scope: Scope) -> tuple[str, Resolved]:
        func = node.func
        if isinstance(func, ast.Name) and func.id not in scope:
            return func.id, self.resolve(func.id, func)
        path = self.numpy_path(func, scope)
        if path is not None:
            return path, Callee(path)
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id not in scope:
            base = self.resolve_or_none(func.value.id, func.value)
            if isinstance(base, MathModule):
                return f"math.{func.attr}", Callee(f"math.{func.attr}")
            if isinstance(base, UserModule):  # `import helpers` ... `helpers.sq(x)`
                dotted = f"{func.value.id}.{func.attr}"
                found = self.resolve_or_none(dotted, func)
                if isinstance(found, Custom):
                    raise self.error(
                        UnsupportedError,
                        f"'{dotted}' has a custom derivative: call it by its own name",
                        func,
                        f"from {base.name} import {func.attr}",
                    )
                if found is not None:
                    return dotted, found
        if isinstance(func, ast.Attribute) and func.attr == "append":
            raise self.error(UnsupportedError, "append(...) returns nothing; call it as a statement", node)
        raise self.error(
            ResolutionError,
            f"call to unknown function '{ast.unparse(func)}'",
            func,
            "s2s_ad differentiates calls to the math module, abs/max/min/float/int/round/pow/len/sum/sorted, "
            "and functions you define",
        )

    def numpy_path(self, node: ast.expr, scope: Scope) -> str | None:
        """`np.linalg.norm` -> "numpy.linalg.norm": an attribute of NumPy (under any name), else None."""
        attrs: list[str] = []
        while isinstance(node, ast.Attribute):
            attrs.insert(0, node.attr)
            node = node.value
        if not attrs or not isinstance(node, ast.Name) or node.id in scope:
            return None
        base = self.parsed.resolve(node.id)
        if not isinstance(base, NumpyModule):
            return None
        return ".".join(["numpy", *filter(None, [base.path]), *attrs])

    def array_method(self, node: ast.Call, scope: Scope) -> Value | None:
        """`x.sum(axis=0)`, `(X @ W).max()`: a method of an array (None where the callee is no array's)."""
        func = node.func
        if not isinstance(func, ast.Attribute) or self.numpy_path(func, scope) is not None:
            return None
        base = func.value
        if isinstance(base, ast.Name) and not (base.id in scope and is_array(getattr(scope[base.id], "type", None))):
            return None
        value = self.expr(base, scope)
        return self.method(value, node, scope) if is_array(value.type) else None

    def call(self, node: ast.Call, scope: Scope) -> Value:
        method = self.array_method(node, scope)
        if method is not None:
            return method
        function = self.called_function(node, scope)
        if function is not None:  # a function a name holds (a helper's parameter), or a `lambda` called in place
            result = self.call_function(function, node, scope)
            assert isinstance(result, Value)  # `inline` refuses a tuple here
            return result
        spelling, callee = self.callee(node, scope)
        if isinstance(callee, Callee) and callee.spelling.startswith("numpy."):
            return self.numpy_call(callee.spelling, node, scope)
        return self.call_of(spelling, callee, node, scope)

    def call_of(self, spelling: str, callee: Resolved, node: ast.Call, scope: Scope) -> Value:
        """A call to a helper, a custom derivative, a builtin or the math module."""
        if isinstance(callee, Helper):
            result = self.inline(spelling, callee, node, scope)
            assert isinstance(result, Value)
            return result
        if isinstance(callee, Callee) and callee.spelling == "sum" and (len(node.args) == 2 or node.keywords):
            return self.sum_from(node, scope)
        if isinstance(callee, Callee):  # sorted, list, map, round(x, n), math.fsum, ...
            listed = self.builtin_call(callee.spelling, spelling, node, scope)
            if listed is not None:
                return listed
        if node.keywords:
            raise self.error(
                UnsupportedError, f"keyword arguments in a call to '{spelling}' are not supported", node.keywords[0].value
            )
        if isinstance(callee, Custom):
            return self.custom_call(spelling, callee, node, scope)
        if not isinstance(callee, Callee):
            raise self.error(ResolutionError, f"'{spelling}' is not a function that can be differentiated", node.func)
        name = callee.spelling
        if name in ("sum", "max", "min", "all", "any") and len(node.args) == 1:
            return self.reduction(name, node.args[0], scope, node)
        args = [self.expr(arg, scope) for arg in node.args]
        if name == "len":
            return self.length(args, node)
        if name in ("max", "min") and len(args) > 2:
            result = self.apply(name, (args[0], args[1]), node)
            for arg in args[2:]:
                result = self.apply(name, (result, arg), node)
            return result
        op = CALLS.get((name, len(args)))
        if op is not None and name.startswith("math.") and any(is_array(a.type) for a in args):
            raise self.error(UnsupportedError, f"'{spelling}' takes a number, not an array", node, f"use np.{name[5:]} on arrays")
        if op is None:
            known = known_calls("math." if name.startswith("math.") else "")
            if any(n == name for n, _ in CALLS):
                raise self.error(UnsupportedError, f"'{spelling}' does not take {len(args)} argument(s) here", node)
            raise self.error(
                ResolutionError,
                f"call to '{spelling}', which cannot be differentiated",
                node.func,
                "supported functions: " + ", ".join(known),
            )
        return self.apply(op, tuple(args), node)

    def length(self, args: list[Value], node: ast.Call) -> Value:
        """`len(xs)` of a list; of an array, its first size."""
        if len(args) != 1:
            raise self.error(UnsupportedError, "len takes one argument", node)
        if is_array(args[0].type) and dims(args[0].type):
            return self.size_at(args[0], 0)
        return self.apply("len", (self.list_value(args[0], node.args[0]),), node)

    def custom_call(self, name: str, callee: Custom, node: ast.Call, scope: Scope) -> Value:
        """A function with a user-supplied derivative: one primitive, its rules made by this lowering (`created`)."""
        custom = callee.rule
        assert isinstance(custom, CustomDerivative)  # what the frontend resolves to `Custom`
        if custom.derivative is None:
            raise self.error(UnsupportedError, f"'{name}' has no derivative yet", node, f"give it one with @{name}.defderiv")
        args = tuple(self.scalar(self.expr(arg, scope), arg) for arg in node.args)
        op = f"custom:{name}"
        if op not in self.rules:
            self.created.update(custom_rules(name, custom, len(args), self.custom_body))
        elif self.rules[op].arity != len(args):
            raise self.error(SignatureError, f"'{name}' is called with different numbers of arguments", node)
        target = self.namer.temp()
        self.types[target] = FLOAT
        self.out.append(Assign(target, op, tuple(a.operand for a in args), FLOAT, self.loc))
        return Value(Var(target), FLOAT)

    def sum_from(self, node: ast.Call, scope: Scope) -> Value:
        """`sum(xs, start)` and `sum(xs, start=...)`: the elements added to `start`, in order."""
        starts = [k.value for k in node.keywords if k.arg == "start"] + node.args[1:]
        if len(node.args) + len(node.keywords) != 2 or len(starts) != 1:
            raise self.error(UnsupportedError, "write sum(xs) or sum(xs, start)", node)
        arg = self.mapped(node.args[0], scope)
        if not isinstance(arg, (ast.GeneratorExp, ast.ListComp)):  # sum(xs, s) is sum(x for x in xs) from s
            element = ast.Name("_s2s_element", ast.Load())
            arg = ast.copy_location(
                ast.GeneratorExp(element, [ast.comprehension(ast.Name("_s2s_element", ast.Store()), arg, [], 0)]), arg
            )
            for child in ast.walk(arg):
                if getattr(child, "lineno", None) is None:
                    ast.copy_location(child, node)
        return self.comprehension(arg, scope, "sum", starts[0])

    def reduction(self, name: str, arg: ast.expr, scope: Scope, node: ast.AST) -> Value:
        """`sum(xs)`, `max(xs)`, `min(xs)`, `all(...)`, `any(...)` of a list, a generator expression or `map(...)`."""
        arg = self.mapped(arg, scope)
        if isinstance(arg, ast.GeneratorExp) and name == "sum":
            mark = len(self.out)
            try:
                return self.comprehension(arg, scope, "sum")
            except KindChanged:  # `sum(h * h for h in hs)` of arrays: not from the number 0, but a list's sum
                del self.out[mark:]
        if name in ("all", "any"):
            return self.all_or_any(name, arg, scope)
        if isinstance(arg, (ast.GeneratorExp, ast.ListComp)):
            items = self.comprehension(arg, scope, "list")
        else:
            items = self.list_value(self.expr(arg, scope), arg)
        assert isinstance(items.type, ir.ListOf)
        if isinstance(items.type.elem, ir.ListOf):
            raise self.error(UnsupportedError, f"{name}() of a list of lists is not supported", arg)
        op = {"sum": "sum", "max": "list_max", "min": "list_min"}[name]
        target = self.namer.temp()
        type_ = items.type.elem if is_array(items.type.elem) else FLOAT  # `sum(hs)` of arrays is an array
        self.types[target] = type_
        self.out.append(Assign(target, op, (items.operand,), type_, self.loc))
        return Value(Var(target), type_)

    def inline(self, name: str, helper: Helper, node: ast.Call, scope: Scope, allow_tuple: bool = False) -> Bound:
        """Lower a call to the user's own function in place, its parameters bound to the arguments."""
        if name in self.stack:
            raise self.error(
                UnsupportedError, f"recursive call to '{name}' cannot be differentiated", node, "rewrite the recursion as a loop"
            )
        parsed = helper.load()
        return self.inline_parsed(name, name, parsed, parsed.node, node, scope, allow_tuple)

    def inline_parsed(
        self,
        name: str,
        key: str,
        parsed: ParsedFunction,
        function: ast.FunctionDef,
        node: ast.Call,
        scope: Scope,
        allow_tuple: bool = False,
        closure: Scope | None = None,
        defaults: Mapping[str, Held] | None = None,
    ) -> Bound:
        """Lower `function` (a helper's `def`, or a `lambda` or `def` written in `parsed`) in place: its
        parameters bound to the arguments, over the names of `closure`; `defaults`, where given, are its
        defaults' values (a `lambda`'s, evaluated where it was written), else they are evaluated here."""
        if function is not parsed.node:  # a `lambda` or nested `def`: its free names are those of `parsed`
            parsed = dataclasses.replace(parsed, name=name, node=function)
        inner = type(self)(parsed, self.rules, self.namer, self.stack + (key,))
        inner.out, inner.types, inner.sources, inner.mutated = self.out, self.types, self.sources, self.mutated
        inner.held, inner.callers, inner.floats, inner.sizes = self.held, self.callers, self.floats, self.sizes
        inner.holds_callers = self.holds_callers
        inner.shared, inner.augmented, inner.views = self.shared, self.augmented, self.views
        inner.created, inner.rules, inner.differentiated = self.created, self.rules, self.differentiated
        inner.elements, inner.origin, inner.empties, inner.made_nodes = self.elements, self.origin, self.empties, self.made_nodes
        inner_scope: Scope = dict(closure or {})
        inner_scope.update(self.arguments(name, parsed.node.args, node, scope, inner, defaults))
        self.held.update(
            a.operand.name
            for a in inner_scope.values()
            if isinstance(a, Value) and isinstance(a.operand, Var) and ir.is_temp(a.operand.name)
        )
        self.sources.setdefault(parsed.source.filename, parsed.source)
        inner.reserve(parsed.node)
        result = inner.body(parsed.node, inner_scope)
        self.loc = Loc(self.parsed.source.filename, node.lineno)
        if isinstance(result, TupleValue) and not allow_tuple:
            raise self.error(UnsupportedError, f"'{name}' returns a tuple; unpack it: `a, b = {name}(...)`", node)
        return result

    def arguments(
        self,
        name: str,
        params: ast.arguments,
        call: ast.Call,
        scope: Scope,
        inner: LoweringBase,
        evaluated: Mapping[str, Held] | None = None,
    ) -> Scope:
        """The helper's parameters bound as Python binds them: positions, then keywords, then defaults
        (evaluated where the helper is defined, or given as `evaluated`). Arguments are evaluated in the order
        they are written; each may be a function or None (see `functions`)."""
        for star, extra in (("*", params.vararg), ("**", params.kwarg)):
            if extra is not None:
                raise self.error(
                    UnsupportedError,
                    f"'{name}' takes '{star}{extra.arg}': not supported",
                    call,
                    "give the helper named parameters",
                )
        positional = [*params.posonlyargs, *params.args]
        by_name = {p.arg: p for p in (*params.args, *params.kwonlyargs)}
        bound: Scope = {}
        for arg in call.args:
            if isinstance(arg, ast.Starred):
                raise self.error(UnsupportedError, "a starred argument (*args) is not supported", arg)
        if len(call.args) > len(positional):
            raise self.error(
                SignatureError, f"'{name}' takes {len(positional)} positional argument(s), {len(call.args)} given", call
            )
        for param, arg in zip(positional, call.args):
            bound[param.arg] = self.argument(arg, scope)
        for keyword in call.keywords:
            if keyword.arg is None:
                raise self.error(UnsupportedError, "a `**` argument is not supported", keyword.value)
            if keyword.arg not in by_name:
                raise self.error(SignatureError, f"'{name}' has no parameter '{keyword.arg}'", keyword.value)
            if keyword.arg in bound:
                raise self.error(SignatureError, f"'{name}' gets '{keyword.arg}' twice", keyword.value)
            bound[keyword.arg] = self.argument(keyword.value, scope)
        defaults = dict(zip([p.arg for p in positional][len(positional) - len(params.defaults) :], params.defaults))
        defaults.update((p.arg, d) for p, d in zip(params.kwonlyargs, params.kw_defaults) if d is not None)
        for param in (*positional, *params.kwonlyargs):
            if param.arg not in bound:
                if param.arg not in defaults:
                    raise self.error(SignatureError, f"'{name}' is missing the argument '{param.arg}'", call)
                if evaluated is not None:
                    bound[param.arg] = evaluated[param.arg]
                else:
                    bound[param.arg] = inner.argument(defaults[param.arg], {})
        return bound

    def apply(self, op: str, args: tuple[Value, ...], node: ast.AST) -> Value:
        if not self.rules[op].reads_list:
            for arg in args:
                self.scalar(arg, node)
        operands = tuple(a.operand for a in args)
        # `1.0 * y` is y only where y is a float for certain: typed float, a value may still hold an int
        types = {a.operand: INT_OR_FLOAT if a.type == FLOAT and not self.is_float(a.operand) else a.type for a in args}
        folded = fold(self.rules, op, operands, lambda o: types.get(o, FLOAT))
        if folded is not None:
            if isinstance(folded, Const):
                return Value(folded, ir.const_type(folded.value))
            return next(a for a in args if a.operand == folded)  # `1 * x` is x, of x's type
        rule = self.rules[op]
        result_type = rule.type_for(tuple(a.type for a in args), operands)
        target = self.namer.temp()
        self.types[target] = result_type
        self.out.append(Assign(target, op, operands, result_type, self.loc))
        if result_type == FLOAT and not (rule.chooses or rule.reads_list or rule.structural or rule.copy):
            if rule.result == "float" or (rule.result == "promote" and any(self.is_float(o) for o in operands)):
                self.floats.add(target)
        return Value(Var(target), result_type)

    def is_float(self, operand: Operand) -> bool:
        """Whether a value is a float whatever the arguments: a float constant, or what an operation that always
        gives a float computes (`math.exp(x)`, `x / y`, `x * 0.5`)."""
        return (isinstance(operand, Const) and isinstance(operand.value, float)) or (
            isinstance(operand, Var) and operand.name in self.floats
        )


def known_calls(prefix: str = "") -> list[str]:
    """The functions a user can call (starting with `prefix`), as a hint lists them: not the helpers that
    generated modules define for themselves (`_zeros_like`), nor what this Python's math module lacks."""
    names = {n for n, _ in CALLS if n.startswith(prefix) and not n.startswith(("_", "numpy."))}
    return sorted(n for n in names if not n.startswith("math.") or hasattr(math, n[len("math.") :]))
