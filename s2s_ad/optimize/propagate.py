"""Copy propagation and constant folding."""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Mapping

from .. import ir
from ..ir import Assign, Function, Operand, Stmt, Var
from ..rules import RULES, Rule
from ..rules.emit import INT_OR_FLOAT, fold
from .common import map_returns, replaced


def propagate(function: Function, rules: Mapping[str, Rule] = RULES) -> Function:
    """Copy propagation and constant folding: `a = b` disappears and `a` reads `b`; so do merges
    of one value and loop values that the loop never changes."""
    propagation = _Propagation(function, rules)
    body = propagation.block(function.body)
    return replaced(function, body, map_returns(function.returns, propagation.mapping))


class _Propagation:
    """`mapping`: what each name removed so far reads instead (a name, or a constant)."""

    def __init__(self, function: Function, rules: Mapping[str, Rule]) -> None:
        self.rules = rules
        self.mapping: dict[str, Operand] = {}
        self.types = ir.types_of(function)
        self.maybe_int = functools.cache(lambda: ir.maybe_int(function, rules))
        # What computes a returned value of the user's function: its type must not change (`1.0 * n` is
        # not `n` when `n` may be an int, nor is anything computed from it).
        self.exact = ir.reach(set(function.exact), ir.sources(function)) if function.exact else set()

    def sub(self, operand: Operand) -> Operand:
        return ir.substitute(operand, self.mapping)

    def type_of(self, operand: Operand) -> ir.Type:
        if isinstance(operand, ir.Const):
            return ir.const_type(operand.value)
        return operand.type if isinstance(operand, ir.Global) else self.types.get(operand.name, ir.FLOAT)

    def type_at_runtime(self, operand: Operand) -> ir.Type:
        """For a returned value: an int may stand for a float (`1.0 * n` is not `n` when `n` may be an int)."""
        found = self.type_of(operand)
        if isinstance(operand, ir.Global) or (
            isinstance(operand, Var) and found == ir.FLOAT and operand.name in self.maybe_int()
        ):
            return INT_OR_FLOAT
        return found

    def block(self, statements: ir.Block) -> ir.Block:
        out: list[Stmt] = []
        for stmt in statements:
            if isinstance(stmt, Assign):
                kept = self.assign(stmt)
                if kept is not None:
                    out.append(kept)
            elif isinstance(stmt, ir.If):
                out.append(self.if_statement(stmt))
            elif isinstance(stmt, (ir.For, ir.While)):
                out.append(self.loop(stmt))
            else:
                out.append(ir.rename_statement(stmt, self.mapping))
        return tuple(out)

    def assign(self, stmt: Assign) -> Assign | None:
        """The assignment reading what its operands stand for; None when it is a copy or folds away."""
        mapping = self.mapping
        renamed = False
        for a in stmt.args:
            if type(a) is Var and a.name in mapping:
                renamed = True
                break
        args = tuple([mapping.get(a.name, a) if type(a) is Var else a for a in stmt.args]) if renamed else stmt.args
        rule = self.rules[stmt.op]
        if rule.copy:
            self.mapping[stmt.target] = args[0]
            return None
        typing = self.type_at_runtime if stmt.target in self.exact else self.type_of
        folded = fold(self.rules, stmt.op, args, typing) if rule.pure else None
        if folded is not None:
            self.mapping[stmt.target] = folded
            return None
        return Assign(stmt.target, stmt.op, args, stmt.type, stmt.loc) if renamed else stmt

    def if_statement(self, stmt: ir.If) -> ir.If:
        then, orelse = self.block(stmt.then), self.block(stmt.orelse)
        merges = []
        for m in stmt.merges:
            a, b = self.sub(m.then), self.sub(m.orelse)
            if ir.identity(a) == ir.identity(b):
                self.mapping[m.target] = a
            else:
                merges.append(ir.Merge(m.target, m.type, a, b))
        return ir.If(self.sub(stmt.cond), then, orelse, tuple(merges), stmt.loc)

    def loop(self, stmt: ir.For | ir.While) -> ir.For | ir.While:
        sub = self.sub
        carried = []
        for c in stmt.carried:
            if c.update == Var(c.header):  # never changed by the loop
                self.mapping[c.header] = self.mapping[c.result] = sub(c.init)
            else:
                carried.append(c)
        body = self.block(stmt.body)
        test = self.block(stmt.test) if isinstance(stmt, ir.While) else ()
        carries = tuple(dataclasses.replace(c, init=sub(c.init), update=sub(c.update)) for c in carried)
        until = sub(stmt.until) if stmt.until else None
        if isinstance(stmt, ir.For):
            return ir.For(
                stmt.index,
                sub(stmt.start),
                sub(stmt.stop),
                sub(stmt.step),
                carries,
                body,
                until,
                stmt.loc,
                stmt.reverse,
                sub(stmt.limit) if stmt.limit else None,
            )
        return ir.While(carries, test, sub(stmt.cond), body, until, stmt.loc)
