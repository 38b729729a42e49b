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

    All exact, for floats and arrays of floats (elementwise, of any float width): IEEE negation flips the
    sign bit and nothing else, products and quotients round the same whatever their signs, and `p - q` is
    defined as `p + -q`. Ints are left alone (`-0` is `0`, so moving an int's sign can change the sign of
    a float zero). A statement is changed in place only when a single statement reads it, and then only
    together with that reader.
    """
    rewriting = _Signs(function, rules)
    for stmt in ir.walk(function.body):
        if isinstance(stmt, Assign):
            rewriting.visit(stmt)
    return replaced(function, rewriting.block(function.body), function.returns)


class _Signs:
    """`current`: each assignment as rewritten so far (a later reader may rewrite an earlier one)."""

    def __init__(self, function: Function, rules: Mapping[str, Rule]) -> None:
        self.rules = rules
        self.uses = ir.use_counts(function, returned=2)  # a returned value is read by the caller too
        self.current: dict[str, Assign] = {}
        self.bearing: set[str] = set()  # names that may carry a negation to remove (a superset: a quick first test)
        self.namer = namer_for(function)
        self.types = ir.types_of(function)

    def float_array(self, operand: Operand) -> bool:
        """An array of floats (a number typed float may be an int when the function runs: `ir.maybe_int`)."""
        if isinstance(operand, ir.Const):
            return False
        found = operand.type if isinstance(operand, ir.Global) else self.types.get(operand.name)
        return isinstance(found, ir.ArrayOf) and found.elem == ir.FLOAT

    def visit(self, stmt: Assign) -> None:
        self.current[stmt.target] = new = self.rewrite(stmt) if _floats(stmt.type) else stmt
        if self.rules[new.op].negation or self.rules[new.op].odd and any(self.carries_sign(a) for a in new.args):
            self.bearing.add(stmt.target)

    def carries_sign(self, operand: Operand) -> bool:
        if isinstance(operand, Var):
            return operand.name in self.bearing
        return isinstance(operand, ir.Const) and type(operand.value) is float and operand.value < 0

    def flipped(self, operand: Operand, strict: bool) -> tuple[Operand, tuple[tuple[str, Assign], ...]] | None:
        """`-operand` without computing anything, and the statements to rewrite for it. Strict: only
        when the operand carries a negation to remove (so `p + q` is never churned into `p - -q`)."""
        if isinstance(operand, ir.Const):
            value = operand.value
            if type(value) is float and (value < 0 or not strict):
                return ir.Const(-value), ()
            return None
        if strict and isinstance(operand, Var) and operand.name not in self.bearing:
            return None
        definition = self.current.get(operand.name) if isinstance(operand, Var) else None
        if definition is None or not _floats(definition.type):  # -0 is 0: negating an int flips no sign bit
            return None
        rule = self.rules[definition.op]
        if rule.negation:
            return definition.args[0], ()
        if rule.odd and self.uses.get(definition.target) == 1:
            return self.flipped_factor(definition, strict)
        return None

    def flipped_factor(self, definition: Assign, strict: bool) -> tuple[Operand, tuple[tuple[str, Assign], ...]] | None:
        """A product (or quotient) read once, negated by negating one of its factors."""
        for i, factor in enumerate(definition.args):
            found = self.flipped(factor, strict)
            if found is not None:
                args = definition.args[:i] + (found[0],) + definition.args[i + 1 :]
                kept = definition.args[1 - i]
                if _one(found[0]) and (i == 1 or self.rules[definition.op].commutative) and self.float_array(kept):
                    return kept, found[1]  # `-1.0 * y` negated is `y` itself (its only reader makes a new array)
                # `x_bar` negated is no longer x's adjoint: it becomes a temporary.
                target = definition.target if ir.is_temp(definition.target) else self.namer().temp()
                change = Assign(target, definition.op, args, definition.type, definition.loc)
                return Var(target), (*found[1], (definition.target, change))
        return None

    def rewrite(self, stmt: Assign) -> Assign:
        op, args, rule = stmt.op, stmt.args, self.rules[stmt.op]
        flipped, current = self.flipped, self.current
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

    def block(self, statements: ir.Block) -> ir.Block:
        return tuple(self.current[s.target] if isinstance(s, Assign) else ir.with_blocks(s, self.block) for s in statements)


def _rewritten(
    stmt: Assign, op: str, args: tuple[Operand, ...], changes: tuple[tuple[str, Assign], ...], current: dict[str, Assign]
) -> Assign:
    for original, change in changes:
        current[original] = change
    return Assign(stmt.target, op, args, stmt.type, stmt.loc)


def _floats(type_: ir.Type) -> bool:
    """A float, or an array of floats: where moving a sign is exact."""
    return type_ == ir.FLOAT or (isinstance(type_, ir.ArrayOf) and type_.elem == ir.FLOAT)


def _one(operand: Operand) -> bool:
    return isinstance(operand, ir.Const) and type(operand.value) is float and operand.value == 1.0
