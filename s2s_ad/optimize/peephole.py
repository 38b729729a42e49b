"""Local rewrites that are exact in IEEE arithmetic: float constants beside floats, small powers, gates."""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping

from .. import ir
from ..ir import Assign, Function, Operand, Stmt
from ..rules import RULES, Rule
from ..rules.algebra import Context
from .common import replaced


def peephole(function: Function, rules: Mapping[str, Rule] = RULES) -> Function:
    """Exact local rewrites that make the code cheaper: each primitive's own (its rule's `simplify`, in
    rules/algebra.py), and int constants beside floats.

    `--x` is `x`, exactly. `c1 * (c2 * x)` is `(c1 * c2) * x` when `c2` is a
    power of two and neither is smaller than 1 in size (scaling up by a power
    of two is exact, and neither side can overflow where the other does not).
    An int constant beside a float becomes a float constant (`2 * x` is
    `2.0 * x`; Python runs the second faster), except where a returned value
    is computed from a value that may be an int. The gradients max, min and abs
    pass back, `g * step(x, y)` and the like, become the choice they are.
    `x ** 2` becomes `x * x` and `x ** -1` becomes `1 / x`, which are correctly
    rounded where the C library's `pow` may not be: so these two are not made
    in what computes a returned value of the user's function (`exact`), which
    stays bit for bit what Python computes, nor in a power the user's function
    computes that may raise (its `checks`): `1e200 ** 2` raises OverflowError
    where `1e200 * 1e200` is inf. `x + 0.0` is left alone: it turns -0.0 into
    0.0.
    """
    definition = {s.target: s for s in ir.walk(function.body) if isinstance(s, Assign)}
    types = ir.types_of(function)
    # What computes the returned values: found when a power first asks.
    cone = functools.cache(lambda: ir.reach(set(function.exact), ir.sources(function)))

    raising = set(function.checks)
    # Floats for certain in what computes a returned value: a parameter typed float may be an int there (`n * 2`).
    may_be_int = functools.cache(lambda: ir.maybe_int(function, rules))

    def protected(name: str) -> bool:
        return name in raising or name in cone()

    def is_float(operand: Operand) -> bool:
        if isinstance(operand, ir.Const):
            return isinstance(operand.value, float)
        return (operand.type if isinstance(operand, ir.Global) else types.get(operand.name)) == ir.FLOAT

    context = Context(definition, types, is_float, protected)

    def rewrite(stmt: Assign) -> Assign:
        rule = rules[stmt.op]
        args = stmt.args
        int_constant = any(type(a) is ir.Const and type(a.value) is int for a in args)
        if rule.float_specialized and int_constant and any(map(is_float, args)) and not _keeps_int(stmt, cone, may_be_int):
            floats = tuple(_as_float(a) for a in args)
            if any(f is not a for f, a in zip(floats, args)):  # Const(2) == Const(2.0): compare identity
                stmt = Assign(stmt.target, stmt.op, floats, stmt.type, stmt.loc)
        if rule.simplify is not None:
            simpler = rule.simplify(stmt, context)
            if simpler is not None:
                assert isinstance(simpler, Assign)
                return simpler
        return stmt

    def block(statements: ir.Block) -> ir.Block:
        out: list[Stmt] = []
        for stmt in statements:
            if isinstance(stmt, Assign):
                stmt = rewrite(stmt)
                definition[stmt.target] = stmt
                out.append(stmt)
            else:
                out.append(ir.with_blocks(stmt, block))
        return tuple(out)

    return replaced(function, block(function.body), function.returns)


def _keeps_int(stmt: Assign, cone: Callable[[], set[str]], may_be_int: Callable[[], set[str]]) -> bool:
    """Whether `2` must stay an int in `stmt`: it computes a returned value from one that may be an int (Python's
    `n * 2` is an int there, `n * 2.0` a float)."""
    if stmt.type == ir.BOOL or stmt.target not in cone():
        return False
    return any(isinstance(a, ir.Var) and a.name in may_be_int() for a in stmt.args)


def _as_float(operand: Operand) -> Operand:
    """An int constant as the float Python would convert it to, where that is exact."""
    if isinstance(operand, ir.Const) and type(operand.value) is int and abs(operand.value) <= 2**53:
        return ir.Const(float(operand.value))
    return operand
