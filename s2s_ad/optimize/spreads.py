"""An adjoint spread over an array, then multiplied by an array of that whole shape: no spreading needed.

A sum's reverse sweep spreads its adjoint over the summed array `x` as
`s = g * np.ones_like(x)` (rules/arrays.py), so that the adjoint has `x`'s
shape wherever it goes (a matrix product, a reshape, a returned gradient).
Where `s` meets another array `p` of `x`'s whole shape in a product
`u = s * p`, broadcasting does the spreading: `u = g * p` is the same numbers
(multiplying by 1.0 is exact) of the same shape, without the array of ones
and one product over it; so for `-(c * np.ones_like(x))` with a constant c,
which is `(-c) * np.ones_like(x)`. `1.0 * p` of an array of floats is `p`.
So too in a sum or difference `u = p + s` (an adjoint added into another of
x's shape): `p + g` adds the same numbers, each once.
What is then unread, dead code drops.
"""

from __future__ import annotations

from collections.abc import Mapping

from .. import ir
from ..ir import Assign, Const, Function, Operand, Stmt, Var
from ..rules import RULES, Rule, shapes
from .common import replaced


def spreads(function: Function, rules: Mapping[str, Rule] = RULES) -> Function:
    """The rewrites below, again while they find more (`(expand_dims(g * ones) * ones) * p` takes two)."""
    for _ in range(3):
        rewritten = _spread_once(function, rules)
        if rewritten is function:
            break
        function = rewritten
    return function


def _spread_once(function: Function, rules: Mapping[str, Rule]) -> Function:
    types = ir.types_of(function)
    spread = _spreads(function, rules)
    if not spread:
        return function
    changed = False

    def rewritten(stmt: Stmt) -> Stmt:
        nonlocal changed
        rule = rules[stmt.op] if isinstance(stmt, Assign) else None
        if not (isinstance(stmt, Assign) and rule is not None and (_product(rule) or _sum(rule)) and len(stmt.args) == 2):
            return stmt
        for k in (0, 1):
            s, p = stmt.args[k], stmt.args[1 - k]
            if isinstance(s, Var) and s.name in spread and _whole(types, p, spread[s.name][1]):
                g = spread[s.name][0]
                changed = True
                if _product(rule) and isinstance(g, Const) and g.value == 1.0 and isinstance(g.value, float):
                    return Assign(stmt.target, "copy", (p,), stmt.type, stmt.loc)
                args = (g, p) if k == 0 else (p, g)
                return Assign(stmt.target, stmt.op, args, stmt.type, stmt.loc)
        return stmt

    def block(statements: ir.Block) -> ir.Block:
        return tuple(ir.with_blocks(rewritten(s), block) for s in statements)

    body = block(function.body)
    return replaced(function, body, function.returns) if changed else function


def _spreads(function: Function, rules: Mapping[str, Rule]) -> dict[str, tuple[Operand, ir.Type]]:
    """s -> (g, the type of s) for each `s = g * np.ones_like(x)` (and `s = -(c * np.ones_like(x))`, as -c),
    and for `np.expand_dims(s, k)` of one with a number g (the ones gain an axis of size 1)."""
    types = ir.types_of(function)
    spread: dict[str, tuple[Operand, ir.Type]] = {}
    ones: dict[str, Operand] = {}  # o -> x for `o = ones_like(x)`
    for stmt in ir.walk(function.body):
        if not isinstance(stmt, Assign):
            continue
        rule = rules[stmt.op]
        if rule.ones:
            ones[stmt.target] = stmt.args[0]
        elif _product(rule) and len(stmt.args) == 2:
            for k in (0, 1):
                other = stmt.args[1 - k]
                if isinstance(other, Var) and other.name in ones:
                    spread[stmt.target] = (stmt.args[k], _type(types, ones[other.name]))
        elif rule.negation and isinstance(stmt.args[0], Var) and stmt.args[0].name in spread:
            g, shape = spread[stmt.args[0].name]
            if isinstance(g, Const) and isinstance(g.value, float):
                spread[stmt.target] = (Const(-g.value), shape)
        elif rule.expands and isinstance(stmt.args[0], Var) and stmt.args[0].name in spread:
            g, _ = spread[stmt.args[0].name]
            if not isinstance(_type(types, g), ir.ArrayOf):  # a number spreads the same over any shape
                spread[stmt.target] = (g, stmt.type)
    return spread


def _whole(types: Mapping[str, ir.Type], p: Operand, shape: ir.Type) -> bool:
    """Whether the product or sum with p has p's shape whatever the ones spread over: along each axis the
    ones' size is 1, or p's, or both are more than 1 (then the product, which the code computes either way,
    needs them equal)."""
    tp = _type(types, p)
    if not isinstance(tp, ir.ArrayOf) or tp.elem != ir.FLOAT or len(shapes.dims(tp)) != len(shapes.dims(shape)):
        return False
    return all(b == 1 or a == b or (_more_than_one(a) and _more_than_one(b)) for a, b in zip(shapes.dims(tp), shapes.dims(shape)))


def _more_than_one(size: ir.Dim) -> bool:
    return (isinstance(size, int) and size > 1) or (isinstance(size, str) and size != shapes.UNKNOWN)


def _product(rule: Rule) -> bool:
    """Multiplication, as the rule table describes it: commutative, and odd in each operand."""
    return rule.commutative and rule.odd


def _sum(rule: Rule) -> bool:
    """Addition or subtraction, as the rule table describes them: `op(a, -b)` is the other one."""
    return rule.negated_second is not None


def _type(types: Mapping[str, ir.Type], operand: Operand) -> ir.Type:
    return types.get(operand.name, ir.FLOAT) if isinstance(operand, Var) else ir.FLOAT
