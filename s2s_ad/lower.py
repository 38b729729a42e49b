"""Python AST -> IR: three-address code, one primitive per assignment, SSA names.

The lowering walks the `def` once, keeping a scope that maps each source
variable to its current SSA value. Nested expressions become temporaries,
re-assignments become new versions (`x`, `x.1`, ...), calls to the user's own
functions are lowered in place with their parameters bound to the caller's
values. Everything outside the supported language is refused here, with the
file, line and construct, before any code is generated.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping
from dataclasses import dataclass

from . import ir
from .errors import ResolutionError, S2SError, SignatureError, UnsupportedError
from .frontend import Callee, Constant, Custom, Data, Helper, MathModule, ParsedFunction, Resolved
from .ir import FLOAT, INT, Assign, Const, Loc, Namer, Operand, Type, Var
from .rules import BINARY_OPERATORS, CALLS, COMPARISONS, MATH_CONSTANTS, RULES, Rule


@dataclass(frozen=True)
class Value:
    operand: Operand
    type: Type


@dataclass(frozen=True)
class TupleValue:
    items: tuple[Value, ...]


Bound = Value | TupleValue

# Constructs refused with a hint; the key is the ast class name.
_REFUSED_STATEMENTS = {
    "Try": ("'try' statements cannot be differentiated", "move the error handling outside the function you differentiate"),
    "TryStar": ("'try' statements cannot be differentiated", "move the error handling outside the function you differentiate"),
    "With": ("'with' statements cannot be differentiated", "move the 'with' block outside the function you differentiate"),
    "AsyncWith": ("'async with' statements cannot be differentiated", None),
    "Global": ("'global' statements cannot be differentiated", "pass the value in as a parameter and return the result"),
    "Nonlocal": ("'nonlocal' statements cannot be differentiated", "pass the value in as a parameter and return the result"),
    "Raise": ("'raise' statements cannot be differentiated", "check inputs before calling the function you differentiate"),
    "FunctionDef": ("nested function definitions cannot be differentiated", "define helper functions at module level"),
    "AsyncFunctionDef": ("nested function definitions cannot be differentiated", "define helper functions at module level"),
    "ClassDef": ("class definitions cannot be differentiated", None),
    "Import": ("imports inside a differentiated function are not supported", "import at module level"),
    "ImportFrom": ("imports inside a differentiated function are not supported", "import at module level"),
    "Delete": ("'del' statements cannot be differentiated", None),
    "Match": ("'match' statements cannot be differentiated", "use if/elif/else"),
    "Assert": ("'assert' statements cannot be differentiated", "check inputs before calling the function you differentiate"),
    "AsyncFor": ("'async for' loops cannot be differentiated", None),
}
_REFUSED_EXPRESSIONS = {
    "Lambda": ("lambda expressions cannot be differentiated", "define a helper function with `def` at module level"),
    "Yield": ("generators ('yield') cannot be differentiated", "return a value instead"),
    "YieldFrom": ("generators ('yield from') cannot be differentiated", "return a value instead"),
    "Await": ("'await' cannot be differentiated", None),
    "JoinedStr": ("string operations cannot be differentiated", "keep formatting and printing outside the function"),
    "Dict": ("dictionaries cannot be differentiated", "use separate parameters or lists"),
    "Set": ("sets cannot be differentiated", None),
    "DictComp": ("dictionaries cannot be differentiated", None),
    "SetComp": ("sets cannot be differentiated", None),
    "NamedExpr": ("assignment expressions (':=') are not supported", "assign in a separate statement"),
    "Starred": ("starred expressions are not supported", None),
    "Slice": ("slices are not supported", "index elements one at a time"),
}


def lower(parsed: ParsedFunction, rules: Mapping[str, Rule] = RULES) -> ir.Function:
    """Lower a parsed function to IR; every parameter is a float."""
    lowering = _Lowering(parsed, rules, Namer(), stack=(parsed.name,))
    node = parsed.node
    params = lowering.params(node)
    scope: dict[str, Bound] = {p.name: Value(Var(lowering.namer.fresh(p.name)), p.type) for p in params}
    returned = lowering.body(node, scope)
    if isinstance(returned, TupleValue):
        returns: ir.Returns = tuple(v.operand for v in returned.items)
    else:
        returns = returned.operand
    sources = tuple((src.filename, src.lines) for src in lowering.sources.values())
    return ir.Function(parsed.name, params, tuple(lowering.out), returns,
                       Loc(parsed.source.filename, node.lineno), sources)


class _Lowering:
    def __init__(self, parsed: ParsedFunction, rules: Mapping[str, Rule], namer: Namer,
                 stack: tuple[str, ...]) -> None:
        self.parsed = parsed
        self.rules = rules
        self.namer = namer
        self.stack = stack  # helper functions being lowered, to refuse recursion
        self.out: list[ir.Stmt] = []
        self.types: dict[str, Type] = {}
        self.loc = Loc(parsed.source.filename, parsed.node.lineno)
        self.sources = {parsed.source.filename: parsed.source}
        self.reserve(parsed.node)

    # -- errors ------------------------------------------------------------

    def error(self, cls: type[S2SError], message: str, node: ast.AST | None, hint: str | None = None) -> S2SError:
        return self.parsed.source.error(cls, message, node, hint)

    def reserve(self, node: ast.AST) -> None:
        """Source names are taken: no temporary or adjoint may be called like one."""
        for child in ast.walk(node):
            if isinstance(child, ast.Name):
                self.namer.reserved.add(child.id)
            elif isinstance(child, ast.arg):
                self.namer.reserved.add(child.arg)

    # -- the function --------------------------------------------------------

    def params(self, node: ast.FunctionDef) -> tuple[ir.Param, ...]:
        args = node.args
        if args.vararg or args.kwarg or args.kwonlyargs or args.posonlyargs:
            raise self.error(UnsupportedError, "only plain positional parameters are supported", node,
                             "write each parameter out by name: def f(x, y, z)")
        if args.defaults:
            raise self.error(UnsupportedError, "default parameter values are not supported", args.defaults[0])
        if not args.args:
            raise self.error(SignatureError, f"function '{node.name}' has no parameters to differentiate", node)
        return tuple(ir.Param(a.arg, FLOAT) for a in args.args)

    def body(self, node: ast.FunctionDef, scope: dict[str, Bound]) -> Bound:
        statements = node.body
        if statements and isinstance(statements[0], ast.Expr) and isinstance(statements[0].value, ast.Constant) \
                and isinstance(statements[0].value.value, str):
            statements = statements[1:]  # docstring
        for stmt in statements:
            self.loc = Loc(self.parsed.source.filename, stmt.lineno)
            if isinstance(stmt, ast.Return):
                if stmt.value is None:
                    raise self.error(SignatureError, "'return' without a value: nothing to differentiate", stmt)
                return self.returned(stmt.value, scope)
            self.statement(stmt, scope)
        raise self.error(SignatureError, f"function '{node.name}' does not return a value", node,
                         "end the function with `return <expression>`")

    def returned(self, node: ast.expr, scope: dict[str, Bound]) -> Bound:
        if isinstance(node, ast.Tuple):
            return TupleValue(tuple(self.scalar(self.expr(e, scope), e) for e in node.elts))
        return self.expr(node, scope)

    # -- statements ----------------------------------------------------------

    def statement(self, node: ast.stmt, scope: dict[str, Bound]) -> None:
        kind = type(node).__name__
        if isinstance(node, ast.Assign):
            value = self.bound(node.value, scope)
            for target in node.targets:
                self.bind(target, value, scope)
        elif isinstance(node, ast.AnnAssign):
            if node.value is None:
                return
            self.bind(node.target, self.bound(node.value, scope), scope)
        elif isinstance(node, ast.AugAssign):
            if not isinstance(node.target, ast.Name):
                raise self.error(UnsupportedError, "augmented assignment to this target is not supported", node.target)
            current = self.name(node.target.id, scope, node.target)
            op = BINARY_OPERATORS.get(type(node.op).__name__)
            if op is None:
                raise self.error(UnsupportedError, f"the operator '{_spell(node.op)}=' cannot be differentiated", node)
            result = self.apply(op, (current, self.expr(node.value, scope)), node)
            self.bind(node.target, result, scope)
        elif isinstance(node, ast.Pass):
            return
        elif isinstance(node, ast.Expr):
            if isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
                return  # a string used as a comment
            self.expr(node.value, scope)
            raise self.error(UnsupportedError, "an expression whose value is discarded cannot be differentiated",
                             node, "assign the value to a name, or remove the statement")
        elif kind in ("If", "For", "While", "Break", "Continue"):
            raise self.error(UnsupportedError, f"'{_keyword(node)}' statements are not supported yet", node,
                             "write the function as straight-line code")
        elif kind in _REFUSED_STATEMENTS:
            message, hint = _REFUSED_STATEMENTS[kind]
            raise self.error(UnsupportedError, message, node, hint)
        else:
            raise self.error(UnsupportedError, f"'{kind}' statements cannot be differentiated", node)

    def bound(self, node: ast.expr, scope: dict[str, Bound]) -> Bound:
        if isinstance(node, ast.Tuple):
            return TupleValue(tuple(self.expr(e, scope) for e in node.elts))
        return self.expr(node, scope)

    def bind(self, target: ast.expr, value: Bound, scope: dict[str, Bound]) -> None:
        if isinstance(target, ast.Name):
            if isinstance(value, TupleValue):
                raise self.error(UnsupportedError, "a tuple can only be unpacked into names", target,
                                 "write `a, b = ...`")
            scope[target.id] = self.named(target.id, value)
        elif isinstance(target, (ast.Tuple, ast.List)):
            if not isinstance(value, TupleValue) or len(value.items) != len(target.elts):
                raise self.error(UnsupportedError, f"cannot unpack this value into {len(target.elts)} names", target)
            for element, item in zip(target.elts, value.items):
                self.bind(element, item, scope)
        elif isinstance(target, ast.Starred):
            raise self.error(UnsupportedError, "starred assignment is not supported", target)
        elif isinstance(target, ast.Attribute):
            raise self.error(UnsupportedError, "assignment to an attribute cannot be differentiated", target)
        else:
            raise self.error(UnsupportedError, "assignment to this target is not supported", target)

    def named(self, name: str, value: Value) -> Value:
        """Give a value a source name: rename the temporary that computed it, or copy."""
        last = self.out[-1] if self.out else None
        if isinstance(value.operand, Var) and isinstance(last, Assign) and last.target == value.operand.name \
                and ir.is_temp(last.target):
            # The temporary was made for this very expression, so nothing has read it yet.
            target = self.namer.fresh(name)
            self.out[-1] = Assign(target, last.op, last.args, last.type, last.loc)
            self.types[target] = last.type
            self.namer.issued.discard(last.target)
            return Value(Var(target), value.type)
        target = self.namer.fresh(name)
        self.out.append(Assign(target, "copy", (value.operand,), value.type, self.loc))
        self.types[target] = value.type
        return Value(Var(target), value.type)

    # -- expressions ---------------------------------------------------------

    def expr(self, node: ast.expr, scope: dict[str, Bound]) -> Value:
        if isinstance(node, ast.Constant):
            if isinstance(node.value, bool | int | float) and not isinstance(node.value, complex):
                return Value(Const(node.value), ir.const_type(node.value))
            if isinstance(node.value, str):
                raise self.error(UnsupportedError, "string operations cannot be differentiated", node,
                                 "keep formatting and printing outside the function")
            raise self.error(UnsupportedError, f"the constant {node.value!r} cannot be differentiated", node)
        if isinstance(node, ast.Name):
            return self.name(node.id, scope, node)
        if isinstance(node, ast.BinOp):
            op = BINARY_OPERATORS.get(type(node.op).__name__)
            if op is None:
                raise self.error(UnsupportedError, f"the operator '{_spell(node.op)}' cannot be differentiated", node)
            return self.apply(op, (self.expr(node.left, scope), self.expr(node.right, scope)), node)
        if isinstance(node, ast.UnaryOp):
            operand = self.expr(node.operand, scope)
            if isinstance(node.op, ast.USub):
                return self.apply("neg", (operand,), node)
            if isinstance(node.op, ast.UAdd):
                return operand
            if isinstance(node.op, ast.Not):
                return self.apply("not", (operand,), node)
            raise self.error(UnsupportedError, f"the operator '{_spell(node.op)}' cannot be differentiated", node)
        if isinstance(node, ast.Compare):
            return self.compare(node, scope)
        if isinstance(node, ast.BoolOp):
            op = "and" if isinstance(node.op, ast.And) else "or"
            result = self.expr(node.values[0], scope)
            for value in node.values[1:]:
                result = self.apply(op, (result, self.expr(value, scope)), node)
            return result
        if isinstance(node, ast.Call):
            return self.call(node, scope)
        if isinstance(node, ast.Attribute):
            return self.attribute(node, scope)
        if isinstance(node, ast.Tuple):
            raise self.error(UnsupportedError, "tuples can only be unpacked or returned", node)
        kind = type(node).__name__
        if kind in _REFUSED_EXPRESSIONS:
            message, hint = _REFUSED_EXPRESSIONS[kind]
            raise self.error(UnsupportedError, message, node, hint)
        raise self.error(UnsupportedError, f"'{kind}' expressions are not supported yet", node)

    def scalar(self, value: Value, node: ast.AST) -> Value:
        if isinstance(value.type, ir.ListOf):
            raise self.error(UnsupportedError, "expected a number here, not a list", node)
        return value

    def compare(self, node: ast.Compare, scope: dict[str, Bound]) -> Value:
        left = self.expr(node.left, scope)
        result: Value | None = None
        for op_node, right_node in zip(node.ops, node.comparators):
            op = COMPARISONS.get(type(op_node).__name__)
            if op is None:
                raise self.error(UnsupportedError, f"the comparison '{_spell(op_node)}' is not supported", node)
            right = self.expr(right_node, scope)
            test = self.apply(op, (left, right), node)
            result = test if result is None else self.apply("and", (result, test), node)
            left = right
        assert result is not None
        return result

    def name(self, name: str, scope: Mapping[str, Bound], node: ast.AST) -> Value:
        if name in scope:
            value = scope[name]
            if isinstance(value, TupleValue):
                raise self.error(UnsupportedError, f"'{name}' is a tuple; unpack it into names first", node)
            return value
        resolved = self.resolve(name, node)
        if isinstance(resolved, Constant):
            return Value(Const(resolved.value), ir.const_type(resolved.value))
        if isinstance(resolved, Data):
            return Value(ir.Global(name, _data_type(resolved.value)), _data_type(resolved.value))
        what = "the math module" if isinstance(resolved, MathModule) else "a function"
        raise self.error(UnsupportedError, f"'{name}' is {what}, not a number", node)

    def resolve(self, name: str, node: ast.AST) -> Resolved:
        resolved = self.parsed.resolve(name)
        if resolved is None:
            raise self.error(ResolutionError, f"name '{name}' cannot be resolved to a number or a known function",
                             node, "s2s_ad differentiates numbers, the math module and your own functions")
        return resolved

    def attribute(self, node: ast.Attribute, scope: Mapping[str, Bound]) -> Value:
        if isinstance(node.value, ast.Name) and node.value.id not in scope:
            base = self.parsed.resolve(node.value.id)
            if isinstance(base, MathModule):
                if node.attr in MATH_CONSTANTS:
                    value = MATH_CONSTANTS[node.attr]
                    return Value(Const(value), FLOAT)
                raise self.error(UnsupportedError, f"'math.{node.attr}' is not a number", node)
        raise self.error(UnsupportedError, f"attribute access '{ast.unparse(node)}' cannot be differentiated", node,
                         "only names of the math module (math.sin, math.pi, ...) can be read with '.'")

    def callee(self, node: ast.Call, scope: Mapping[str, Bound]) -> tuple[str, Resolved]:
        func = node.func
        if isinstance(func, ast.Name) and func.id not in scope:
            return func.id, self.resolve(func.id, func)
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id not in scope:
            base = self.parsed.resolve(func.value.id)
            if isinstance(base, MathModule):
                return f"math.{func.attr}", Callee(f"math.{func.attr}")
        raise self.error(ResolutionError, f"call to unknown function '{ast.unparse(func)}'", func,
                         "s2s_ad differentiates calls to the math module, abs/max/min/float/int/pow, "
                         "and functions you define")

    def call(self, node: ast.Call, scope: dict[str, Bound]) -> Value:
        spelling, callee = self.callee(node, scope)
        if node.keywords:
            raise self.error(UnsupportedError, f"keyword arguments in a call to '{spelling}' are not supported",
                             node.keywords[0].value if node.keywords else node)
        if isinstance(callee, Helper):
            return self.inline(spelling, callee, node, scope)
        if isinstance(callee, Custom):
            raise self.error(UnsupportedError, f"custom derivative '{spelling}' is not supported yet", node)
        if not isinstance(callee, Callee):
            raise self.error(ResolutionError, f"'{spelling}' is not a function that can be differentiated", node.func)
        args = [self.expr(arg, scope) for arg in node.args]
        name = callee.spelling
        if name in ("max", "min") and len(args) > 2:
            result = self.apply(name, (args[0], args[1]), node)
            for arg in args[2:]:
                result = self.apply(name, (result, arg), node)
            return result
        op = CALLS.get((name, len(args)))
        if op is None:
            known = sorted({n for n, _ in CALLS})
            if any(n == name for n, _ in CALLS):
                raise self.error(UnsupportedError, f"'{spelling}' does not take {len(args)} argument(s) here", node)
            raise self.error(ResolutionError, f"call to '{spelling}', which cannot be differentiated", node.func,
                             "supported functions: " + ", ".join(known))
        return self.apply(op, tuple(args), node)

    def inline(self, name: str, helper: Helper, node: ast.Call, scope: dict[str, Bound]) -> Value:
        """Lower a call to the user's own function in place, its parameters bound to the arguments."""
        if name in self.stack:
            raise self.error(UnsupportedError, f"recursive call to '{name}' cannot be differentiated", node,
                             "rewrite the recursion as a loop")
        parsed = helper.load()
        params = parsed.node.args
        if params.vararg or params.kwarg or params.kwonlyargs or params.posonlyargs or params.defaults:
            raise self.error(UnsupportedError, f"'{name}' must take plain positional parameters only", node)
        if len(params.args) != len(node.args):
            raise self.error(SignatureError, f"'{name}' takes {len(params.args)} argument(s), "
                                             f"{len(node.args)} given", node)
        args = [self.expr(arg, scope) for arg in node.args]
        inner = _Lowering(parsed, self.rules, self.namer, self.stack + (name,))
        inner.out = self.out
        inner.types = self.types
        inner.sources = self.sources
        self.sources.setdefault(parsed.source.filename, parsed.source)
        inner_scope: dict[str, Bound] = {p.arg: a for p, a in zip(params.args, args)}
        result = inner.body(parsed.node, inner_scope)
        self.loc = Loc(self.parsed.source.filename, node.lineno)
        if isinstance(result, TupleValue):
            raise self.error(UnsupportedError, f"'{name}' returns a tuple; unpack it: `a, b = {name}(...)`", node)
        return result

    def apply(self, op: str, args: tuple[Value, ...], node: ast.AST) -> Value:
        for arg in args:
            self.scalar(arg, node)
        operands = tuple(a.operand for a in args)
        folded = ir.fold(self.rules, op, operands)
        if folded is not None:
            return Value(folded, ir.const_type(folded.value) if isinstance(folded, Const) else args[0].type)
        rule = self.rules[op]
        result_type = rule.result_type(tuple(a.type for a in args))
        target = self.namer.temp()
        self.types[target] = result_type
        self.out.append(Assign(target, op, operands, result_type, self.loc))
        return Value(Var(target), result_type)


def _data_type(value: object) -> Type:
    if isinstance(value, (list, tuple)):
        return ir.ListOf(_data_type(value[0]) if value else FLOAT)
    return INT if isinstance(value, int) else FLOAT


def _keyword(node: ast.stmt) -> str:
    return type(node).__name__.lower()


_OPERATOR_SPELLING = {"MatMult": "@", "BitAnd": "&", "BitOr": "|", "BitXor": "^", "LShift": "<<",
                      "RShift": ">>", "Invert": "~", "Is": "is", "IsNot": "is not", "In": "in", "NotIn": "not in"}


def _spell(op: ast.AST) -> str:
    name = type(op).__name__
    return _OPERATOR_SPELLING.get(name, name)
