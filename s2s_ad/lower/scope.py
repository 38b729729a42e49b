"""What the lowering keeps per name: SSA values, tuples, names not bound on every path, and small AST helpers."""

from __future__ import annotations

import ast
from dataclasses import dataclass

from .. import ir
from ..ir import BOOL, FLOAT, INT, Const, Operand, Type
from ..rules.shapes import UNKNOWN


@dataclass(frozen=True)
class Value:
    operand: Operand
    type: Type


@dataclass(frozen=True)
class TupleValue:
    items: tuple[Value | TupleValue, ...]  # a tuple of tuples: `for i, (a, b) in enumerate(zip(xs, ys))`


Bound = Value | TupleValue


@dataclass(frozen=True)
class Undefined:
    """A name that is not bound on every path (assigned in one branch, or only inside a loop).

    When it was bound in one branch of an `if`, `when` remembers the condition,
    the branch and the value: a later `if` on the same condition may read it
    in the same branch (generated gradients do exactly that).
    """

    reason: str
    when: tuple[Operand, bool, Bound] | None = None


@dataclass(frozen=True, eq=False)
class Function:
    """A function known where the code is read, held by a name (a helper's parameter, `g = lambda ...`).

    Either a function of a module (`resolved`: a helper, `math.sin`, a builtin, a custom derivative), called
    as if by its own name `spelling`; or a `lambda` or `def` written in a function being lowered (`node`, as a
    `def`), whose free names are those of `parsed`, the function it was written in, and of `closure`, that
    function's names where the lambda is read (None while it is held by the very scope that defined it: its
    names are that scope's, whatever they hold when it is read, as Python reads them late). `defaults` are its
    parameters' default values, evaluated where it was defined, as Python evaluates them.
    """

    spelling: str
    resolved: object = None  # a frontend `Resolved` (typed loosely: this module knows no frontend kinds)
    node: ast.FunctionDef | None = None
    parsed: object = None  # the frontend `ParsedFunction` the lambda or def was written in
    closure: dict[str, Entry] | None = None
    defaults: tuple[tuple[str, Held], ...] = ()


@dataclass(frozen=True)
class NoneValue:
    """`None`, held by a parameter of a helper (`def layer(x, b=None)`): where it is, a test of `b is None`
    is known where the code is read."""


NONE = NoneValue()


Held = Bound | Function | NoneValue  # what a name may hold: a value, or what is known where the code is read

Entry = Bound | Undefined | Function | NoneValue  # what a scope holds for a name

Scope = dict[str, Entry]


# Scope entries that are not source variables: whether and what the function
# returned, and whether the current loop iteration was left by break/continue.
RETURNED, RESULT, BREAK, CONTINUE = "#returned", "#result", "#break", "#continue"
# A path that raised: it never reaches what follows, so nothing it bound is merged.
RAISED = "#raised"


PSEUDO_FAMILIES = {RETURNED: "_returned", RESULT: "_result", BREAK: "_broke", CONTINUE: "_skip"}


FALSE = Value(Const(False), BOOL)


TRUE = Value(Const(True), BOOL)


def placeholder(value: Bound | Undefined | None) -> Bound:
    """The result on a path that did not return: never read, but typed like the real one."""
    if isinstance(value, TupleValue):
        return TupleValue(tuple(placeholder(v) for v in value.items))
    if isinstance(value, Value) and isinstance(value.type, ir.ListOf):
        return value
    return Value(Const(0.0), FLOAT)


def join(a: Type | None, b: Type | None) -> Type | None:
    """The type of a value that is `a` on one path and `b` on another (None: incompatible)."""
    if a is None or b is None:
        return None
    if a == b:
        return a
    if isinstance(a, ir.ListOf) or isinstance(b, ir.ListOf):
        if isinstance(a, ir.ListOf) and isinstance(b, ir.ListOf):
            elem = join(a.elem, b.elem)
            return ir.ListOf(elem) if elem is not None else None
        return None
    if isinstance(a, ir.ArrayOf) or isinstance(b, ir.ArrayOf):  # arrays of as many axes: sizes that differ are unknown
        if not isinstance(a, ir.ArrayOf) or not isinstance(b, ir.ArrayOf) or a.ndim != b.ndim:
            return None
        elem = join(a.elem, b.elem)
        sizes = tuple(x if x == y else UNKNOWN for x, y in zip(a.shape, b.shape))
        return ir.ArrayOf(elem, sizes) if isinstance(elem, ir.Scalar) else None
    if FLOAT in (a, b):
        return FLOAT
    return INT


def always_raises(statements: list[ast.stmt]) -> bool:
    """Whether these statements raise before control can leave them another way."""
    for stmt in statements:
        if isinstance(stmt, ast.Raise):
            return True
        if isinstance(stmt, (ast.Return, ast.Break, ast.Continue)):
            return False
        if isinstance(stmt, ast.If) and stmt.orelse and always_raises(stmt.body) and always_raises(stmt.orelse):
            return True
    return False


def always_exits(statements: list[ast.stmt]) -> bool:
    """Whether control never falls off the end of these statements (return, break, continue)."""
    for stmt in statements:
        if isinstance(stmt, (ast.Return, ast.Break, ast.Continue, ast.Raise)):
            return True
        if isinstance(stmt, ast.If) and stmt.orelse and always_exits(stmt.body) and always_exits(stmt.orelse):
            return True
    return False


def assigned_names(statements: list[ast.stmt]) -> set[str]:
    """The names the statements bind. Not a comprehension's loop variables: Python scopes them inside it, so
    `[xs[0] for v in xs]` inside `for v in ...` leaves the outer `v` as it was; nor the names a nested `def` or
    a `lambda` binds inside itself."""
    names: set[str] = set()
    pending: list[ast.AST] = list(statements)
    while pending:
        node = pending.pop()
        if isinstance(node, (ast.ListComp, ast.SetComp, ast.GeneratorExp, ast.DictComp, ast.Lambda)):
            continue
        if isinstance(node, ast.FunctionDef):  # a `def` binds its name; what its body assigns is its own
            names.add(node.name)
            continue
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        pending.extend(ast.iter_child_nodes(node))
    return names


def stored_into(statements: list[ast.stmt]) -> set[str]:
    """The names written into at an index (`h[t] = ...`, `h[t] += ...`): an array so written is a new value."""
    return {
        node.value.id
        for stmt in statements
        for node in ast.walk(stmt)
        if isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Store) and isinstance(node.value, ast.Name)
    }


def contains(statements: list[ast.stmt], kind: type) -> bool:
    return any(isinstance(node, kind) for stmt in statements for node in ast.walk(stmt))


_OPERATOR_SPELLING = {
    "Add": "+",
    "Sub": "-",
    "Mult": "*",
    "Div": "/",
    "FloorDiv": "//",
    "Mod": "%",
    "Pow": "**",
    "MatMult": "@",
    "BitAnd": "&",
    "BitOr": "|",
    "BitXor": "^",
    "LShift": "<<",
    "RShift": ">>",
    "Invert": "~",
    "Is": "is",
    "IsNot": "is not",
    "In": "in",
    "NotIn": "not in",
}


def spell(op: ast.AST) -> str:
    name = type(op).__name__
    return _OPERATOR_SPELLING.get(name, name)


def described(held: Entry) -> str:
    """What a name holds, in words, for refusals: "the function 'decay'", "None", "a number", ..."""
    if isinstance(held, Function):
        return f"the function '{held.spelling}'"
    if isinstance(held, NoneValue):
        return "None"
    if isinstance(held, TupleValue):
        return "a tuple"
    if isinstance(held, Undefined):
        return "unbound"
    if isinstance(held.type, ir.ListOf):
        return "a list"
    return "an array" if isinstance(held.type, ir.ArrayOf) else "a number"
