"""Exact identities of particular primitives, as `simplify` templates the optimizer's peephole pass calls.

Each template gets the statement and what it may ask about its operands
(`Context`), and returns the statement rewritten, or None. Every rewrite is
exact in IEEE arithmetic; the argument for each is in its docstring.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from ..ir import FLOAT, INT, Assign, Const, Operand, Type, Var


@dataclass(frozen=True)
class Context:
    """What a `simplify` template may know: each name's defining statement and type, which operands are
    floats, and whether the statement computes a value the user's function returns or is one of its
    operations that may raise (`protected`: kept bit for bit what Python computes, raising where it does)."""

    definition: Mapping[str, Assign]
    types: Mapping[str, Type]
    is_float: Callable[[Operand], bool]
    protected: Callable[[str], bool]


def simplify_pow(stmt: Assign, c: Context) -> Assign | None:
    """`x ** 2` is `x * x` and `x ** -1` is `1 / x`, correctly rounded where the C library's `pow` may not
    be: so not in what computes a returned value, nor where the user's power may raise (`1e200 ** 2`
    raises OverflowError, `1e200 * 1e200` is inf)."""
    base, exponent = stmt.args
    if not isinstance(exponent, Const) or isinstance(exponent.value, bool) or c.protected(stmt.target):
        return None
    if exponent.value == 2 and (type(exponent.value) is int or c.is_float(base)):  # n ** 2.0 is a float
        return Assign(stmt.target, "mul", (base, base), stmt.type, stmt.loc)
    if exponent.value == -1 and stmt.type == FLOAT:
        return Assign(stmt.target, "div", (Const(1.0), base), stmt.type, stmt.loc)
    return None


def simplify_mul(stmt: Assign, c: Context) -> Assign | None:
    """The gradients max, min and abs pass back (`g * step(x, y)`, `g * (1 - step(x, y))`, `g * sign(x)`)
    become the choices they are, and `c1 * (c2 * x)` is `(c1 * c2) * x` when `c2` is a power of two and
    neither is smaller than 1 in size (scaling up by a power of two is exact, and neither side can
    overflow where the other does not)."""
    if stmt.type != FLOAT:
        return None
    args = stmt.args
    if all(map(c.is_float, args)):
        for g, factor in ((args[0], args[1]), (args[1], args[0])):
            gated = _gated(factor, g, c.definition)
            if gated is not None:
                return Assign(stmt.target, gated[0], gated[1], stmt.type, stmt.loc)
    constant, other = (args[0], args[1]) if isinstance(args[0], Const) else (args[1], args[0])
    inner = c.definition.get(other.name) if isinstance(other, Var) else None
    if isinstance(constant, Const) and inner is not None and inner.op == "mul" and inner.type == FLOAT:
        k, rest = (inner.args[0], inner.args[1]) if isinstance(inner.args[0], Const) else inner.args
        # Exact only when neither scaling shrinks: `0.25 * (4.0 * x)` overflows where `x` does not.
        if isinstance(k, Const) and _power_of_two(k.value) and abs(k.value) >= 1 and abs(constant.value) >= 1:
            product = float(constant.value) * float(k.value)
            if math.isfinite(product):
                return Assign(stmt.target, "mul", (Const(product), rest), stmt.type, stmt.loc)
    return None


def simplify_neg(stmt: Assign, c: Context) -> Assign | None:
    """`--x` is `x`, exactly (for ints as well, where the inner operand is an int)."""
    operand = stmt.args[0]
    inner = c.definition.get(operand.name) if isinstance(operand, Var) else None
    if inner is None or inner.op != "neg":
        return None
    value = inner.args[0]
    if c.is_float(value) or (stmt.type == INT and isinstance(value, Var) and c.types.get(value.name) == INT):
        return Assign(stmt.target, "copy", inner.args, stmt.type, stmt.loc)
    return None


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
        and isinstance(chosen.args[0], Const)
        and chosen.args[0].value == 1
        and type(chosen.args[0].value) is not bool
        and isinstance(chosen.args[1], Var)
    ):
        step = definition.get(chosen.args[1].name)
        if step is not None and step.op == "step":
            return "gate_else", (*step.args, g)
    return None


def _power_of_two(value: object) -> bool:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value == 0 or not math.isfinite(value):
        return False
    mantissa, _ = math.frexp(abs(value))
    return mantissa == 0.5
