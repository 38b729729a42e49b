"""Copy propagation and constant folding."""

from __future__ import annotations

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
    mapping: dict[str, Operand] = {}
    types = ir.types_of(function)

    def sub(operand: Operand) -> Operand:
        return ir.substitute(operand, mapping)

    maybe_int = functools.cache(lambda: ir.maybe_int(function, rules))
    # What computes a returned value of the user's function: its type must not change (`1.0 * n` is not
    # `n` when `n` may be an int, nor is anything computed from it).
    exact = ir.reach(set(function.exact), ir.sources(function)) if function.exact else set()

    def type_of(operand: Operand) -> ir.Type:
        if isinstance(operand, ir.Const):
            return ir.const_type(operand.value)
        return operand.type if isinstance(operand, ir.Global) else types.get(operand.name, ir.FLOAT)

    def type_at_runtime(operand: Operand) -> ir.Type:
        """For a returned value: an int may stand for a float (`1.0 * n` is not `n` when `n` may be an int)."""
        found = type_of(operand)
        if isinstance(operand, ir.Global) or (isinstance(operand, Var) and found == ir.FLOAT and operand.name in maybe_int()):
            return INT_OR_FLOAT
        return found

    def block(statements: ir.Block) -> ir.Block:
        out: list[Stmt] = []
        for stmt in statements:
            if isinstance(stmt, Assign):
                args = tuple([mapping.get(a.name, a) if type(a) is Var else a for a in stmt.args])
                if rules[stmt.op].copy:
                    mapping[stmt.target] = args[0]
                    continue
                typing = type_at_runtime if stmt.target in exact else type_of
                folded = fold(rules, stmt.op, args, typing) if rules[stmt.op].pure else None
                if folded is not None:
                    mapping[stmt.target] = folded
                    continue
                out.append(stmt if args == stmt.args else Assign(stmt.target, stmt.op, args, stmt.type, stmt.loc))
            elif isinstance(stmt, ir.If):
                then, orelse = block(stmt.then), block(stmt.orelse)
                merges = []
                for m in stmt.merges:
                    a, b = sub(m.then), sub(m.orelse)
                    if ir.identity(a) == ir.identity(b):
                        mapping[m.target] = a
                    else:
                        merges.append(ir.Merge(m.target, m.type, a, b))
                out.append(ir.If(sub(stmt.cond), then, orelse, tuple(merges), stmt.loc))
            elif isinstance(stmt, (ir.For, ir.While)):
                out.append(loop(stmt))
            else:
                out.append(ir.rename_statement(stmt, mapping))
        return tuple(out)

    def loop(stmt: ir.For | ir.While) -> ir.For | ir.While:
        carried = []
        for c in stmt.carried:
            if c.update == Var(c.header):  # never changed by the loop
                mapping[c.header] = mapping[c.result] = sub(c.init)
            else:
                carried.append(c)
        body = block(stmt.body)
        test = block(stmt.test) if isinstance(stmt, ir.While) else ()
        carries = tuple(ir.Carry(c.header, c.type, sub(c.init), sub(c.update), c.result) for c in carried)
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

    body = block(function.body)
    return replaced(function, body, map_returns(function.returns, mapping))
