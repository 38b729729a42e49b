"""Local rewrites that are exact in IEEE arithmetic: float constants beside floats, small powers, gates."""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping

from .. import ir
from ..ir import Assign, Function, Operand, Stmt, Var
from ..rules import RULES, Rule
from .common import replaced


def peephole(function: Function, rules: Mapping[str, Rule] = RULES) -> Function:
    """Exact local rewrites that make the code cheaper.

    `--x` is `x`, exactly. `c1 * (c2 * x)` is `(c1 * c2) * x` when `c2` is a
    power of two and neither is smaller than 1 in size (scaling up by a power
    of two is exact, and neither side can overflow where the other does not).
    An int constant beside a float becomes a float constant (`2 * x` is
    `2.0 * x`; Python runs the second faster). The gradients max, min and abs
    pass back, `g * step(x, y)` and the like, become the choice they are.
    `x ** 2` becomes `x * x` and `x ** -1` becomes `1 / x`, which are correctly
    rounded where the C library's `pow` may not be: so these two are not made
    in what computes a returned value of the user's function (`exact`), which
    stays bit for bit what Python computes. `x + 0.0` is left alone: it turns
    -0.0 into 0.0.
    """
    definition = {s.target: s for s in ir.walk(function.body) if isinstance(s, Assign)}
    types = ir.types_of(function)
    # What computes the returned values: found when a power first asks.
    cone = functools.cache(lambda: ir.reach(set(function.exact), ir.sources(function)))

    def protected(name: str) -> bool:
        return name in cone()

    def is_float(operand: Operand) -> bool:
        if isinstance(operand, ir.Const):
            return isinstance(operand.value, float)
        return (operand.type if isinstance(operand, ir.Global) else types.get(operand.name)) == ir.FLOAT

    def rewrite(stmt: Assign) -> Assign:
        op, args = stmt.op, stmt.args
        if (
            op in _FLOAT_SPECIALIZED
            and any(type(a) is ir.Const and type(a.value) is int for a in args)
            and any(map(is_float, args))
        ):
            floats = tuple(_as_float(a) for a in args)
            if any(f is not a for f, a in zip(floats, args)):  # Const(2) == Const(2.0): compare identity
                stmt = Assign(stmt.target, op, floats, stmt.type, stmt.loc)
                args = floats
        if op == "pow" and isinstance(args[1], ir.Const) and not isinstance(args[1].value, bool) and not protected(stmt.target):
            if args[1].value == 2 and (type(args[1].value) is int or is_float(args[0])):  # n ** 2.0 is a float
                return Assign(stmt.target, "mul", (args[0], args[0]), stmt.type, stmt.loc)
            if args[1].value == -1 and stmt.type == ir.FLOAT:
                return Assign(stmt.target, "div", (ir.Const(1.0), args[0]), stmt.type, stmt.loc)
        if op == "mul" and stmt.type == ir.FLOAT and all(map(is_float, args)):
            for g, factor in ((args[0], args[1]), (args[1], args[0])):
                gated = _gated(factor, g, definition)
                if gated is not None:
                    return Assign(stmt.target, gated[0], gated[1], stmt.type, stmt.loc)
        if op == "neg" and isinstance(args[0], Var):
            inner = definition.get(args[0].name)
            if (
                inner is not None
                and inner.op == "neg"
                and (is_float(inner.args[0]) or stmt.type == ir.INT and types.get(getattr(inner.args[0], "name", "")) == ir.INT)
            ):
                return Assign(stmt.target, "copy", inner.args, stmt.type, stmt.loc)
        if op == "mul" and stmt.type == ir.FLOAT:
            constant, other = (args[0], args[1]) if isinstance(args[0], ir.Const) else (args[1], args[0])
            inner = definition.get(other.name) if isinstance(other, Var) else None
            if isinstance(constant, ir.Const) and inner is not None and inner.op == "mul" and inner.type == ir.FLOAT:
                k, rest = (inner.args[0], inner.args[1]) if isinstance(inner.args[0], ir.Const) else inner.args
                # Exact only when neither scaling shrinks: `0.25 * (4.0 * x)` overflows where `x` does not.
                if isinstance(k, ir.Const) and _power_of_two(k.value) and abs(k.value) >= 1 and abs(constant.value) >= 1:
                    product = float(constant.value) * float(k.value)
                    if math.isfinite(product):
                        return Assign(stmt.target, "mul", (ir.Const(product), rest), stmt.type, stmt.loc)
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


def _gated(factor: Operand, g: Operand, definition: Mapping[str, Assign]) -> tuple[str, tuple[Operand, ...]] | None:
    """`g * step(x, y)`, `g * (1 - step(x, y))` and `g * sign(x)` as the choices they are (see the rules)."""
    chosen = definition.get(factor.name) if isinstance(factor, Var) else None
    if chosen is None:
        return None
    if chosen.op == "step":
        return "gate", (*chosen.args, g)
    if chosen.op == "sign":
        return "gate_sign", (*chosen.args, g)
    if (
        chosen.op == "sub"
        and isinstance(chosen.args[0], ir.Const)
        and chosen.args[0].value == 1
        and type(chosen.args[0].value) is not bool
        and isinstance(chosen.args[1], Var)
    ):
        step = definition.get(chosen.args[1].name)
        if step is not None and step.op == "step":
            return "gate_else", (*step.args, g)
    return None


# Python specializes these for two floats only: `2 * x` takes a slower path than `2.0 * x`, which is the
# same value (Python converts the int first), as is `x > 0` and `x > 0.0`.
_FLOAT_SPECIALIZED = frozenset({"add", "sub", "mul", "div", "lt", "le", "gt", "ge", "eq", "ne"})


def _as_float(operand: Operand) -> Operand:
    """An int constant as the float Python would convert it to, where that is exact."""
    if isinstance(operand, ir.Const) and type(operand.value) is int and abs(operand.value) <= 2**53:
        return ir.Const(float(operand.value))
    return operand


def _power_of_two(value: object) -> bool:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value == 0 or not math.isfinite(value):
        return False
    mantissa, _ = math.frexp(abs(value))
    return mantissa == 0.5
