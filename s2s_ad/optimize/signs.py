"""Negations moved where they cost nothing."""

from __future__ import annotations

from collections.abc import Mapping

from .. import ir
from ..ir import Assign, Function, Operand, Var
from ..rules import RULES, Rule
from .common import namer_for, replaced


def signs(function: Function, rules: Mapping[str, Rule] = RULES) -> Function:
    """Negations go where they cost nothing: `p + -q` is `p - q`, `p - -q` is `p + q`, `-a * -b` is
    `a * b`, `-a * (2.0 * x)` is `a * (-2.0 * x)`, and a product with a negated factor that only a sum
    reads hands its sign to the sum.

    All exact, for floats: IEEE negation flips the sign bit and nothing else, products and quotients
    round the same whatever their signs, and `p - q` is defined as `p + -q`. Ints are left alone (`-0`
    is `0`, so moving an int's sign can change the sign of a float zero). A statement is changed in place
    only when a single statement reads it, and then only together with that reader.
    """
    uses = ir.use_counts(function, returned=2)  # a returned value is read by the caller too
    current: dict[str, Assign] = {}
    bearing: set[str] = set()  # names that may carry a negation to remove (a superset: a quick first test)
    namer = namer_for(function)

    def flipped(operand: Operand, strict: bool) -> tuple[Operand, tuple[tuple[str, Assign], ...]] | None:
        """`-operand` without computing anything, and the statements to rewrite for it. Strict: only
        when the operand carries a negation to remove (so `p + q` is never churned into `p - -q`)."""
        if isinstance(operand, ir.Const):
            value = operand.value
            if type(value) is float and (value < 0 or not strict):
                return ir.Const(-value), ()
            return None
        if strict and isinstance(operand, Var) and operand.name not in bearing:
            return None
        definition = current.get(operand.name) if isinstance(operand, Var) else None
        if definition is None or definition.type != ir.FLOAT:  # -0 is 0: negating an int flips no sign bit
            return None
        rule = rules[definition.op]
        if rule.negation:
            return definition.args[0], ()
        if rule.odd and uses.get(definition.target) == 1:
            for i, factor in enumerate(definition.args):
                found = flipped(factor, strict)
                if found is not None:
                    args = definition.args[:i] + (found[0],) + definition.args[i + 1 :]
                    # `x_bar` negated is no longer x's adjoint: it becomes a temporary.
                    target = definition.target if ir.is_temp(definition.target) else namer().temp()
                    change = Assign(target, definition.op, args, definition.type, definition.loc)
                    return Var(target), (*found[1], (definition.target, change))
        return None

    def rewrite(stmt: Assign) -> Assign:
        op, args, rule = stmt.op, stmt.args, rules[stmt.op]
        if rule.negation and (found := flipped(args[0], strict=False)) is not None:
            return _rewritten(stmt, "copy", (found[0],), found[1], current)
        if rule.odd and len(args) == 2:
            for i in (0, 1):
                sign = flipped(args[i], strict=True)
                other = flipped(args[1 - i], strict=False) if sign is not None else None
                if sign is not None and other is not None:
                    operands = (sign[0], other[0]) if i == 0 else (other[0], sign[0])
                    return _rewritten(stmt, op, operands, sign[1] + other[1], current)
        if rule.negated_second is not None:
            if (found := flipped(args[1], strict=True)) is not None:
                return _rewritten(stmt, rule.negated_second, (args[0], found[0]), found[1], current)
            if rule.commutative and (found := flipped(args[0], strict=True)) is not None:
                return _rewritten(stmt, rule.negated_second, (args[1], found[0]), found[1], current)
        return stmt

    for stmt in ir.walk(function.body):
        if isinstance(stmt, Assign):
            current[stmt.target] = new = rewrite(stmt) if stmt.type == ir.FLOAT else stmt
            if (
                rules[new.op].negation
                or rules[new.op].odd
                and any(
                    isinstance(a, Var) and a.name in bearing or isinstance(a, ir.Const) and type(a.value) is float and a.value < 0
                    for a in new.args
                )
            ):
                bearing.add(stmt.target)

    def block(statements: ir.Block) -> ir.Block:
        return tuple(current[s.target] if isinstance(s, Assign) else ir.with_blocks(s, block) for s in statements)

    return replaced(function, block(function.body), function.returns)


def _rewritten(
    stmt: Assign, op: str, args: tuple[Operand, ...], changes: tuple[tuple[str, Assign], ...], current: dict[str, Assign]
) -> Assign:
    for original, change in changes:
        current[original] = change
    return Assign(stmt.target, op, args, stmt.type, stmt.loc)
