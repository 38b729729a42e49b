"""Dead code: what nobody reads is dropped, except what may raise where the function would."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

from .. import ir
from ..ir import Assign, Function, Stmt, Var
from ..rules import RULES, Rule
from .common import drop_trailing_notes, has_effect, replaced


def dead_code(function: Function, rules: Mapping[str, Rule] = RULES) -> Function:
    """Drop what nobody reads: pure assignments, merges, carried values, empty branches and loops.

    An operation that may raise stays, read or not, where what it reads is computed anyway (outside
    loops): where the function raises (`math.log(x)` at x < 0, whose gradient reads only `1 / x`),
    its gradient raises the same error, for the cost of one operation.
    """
    live = {o.name for o in ir.return_operands(function.returns) if isinstance(o, Var)}
    statements = list(ir.walk(function.body))
    # One backward sweep finds everything live in straight-line code; branches and loops need more.
    changed = True
    while changed:
        size = len(live)
        for stmt in reversed(statements):
            live.update(_needs(stmt, live, rules))
        changed = len(live) != size and any(isinstance(s, (ir.If, ir.For, ir.While)) for s in function.body)
    _keep_raising(function, live, rules)

    def block(statements: ir.Block) -> ir.Block:
        out: list[Stmt] = []
        for stmt in statements:
            if isinstance(stmt, Assign):
                if rules[stmt.op].pure and stmt.target not in live:
                    continue
                out.append(stmt)
            elif isinstance(stmt, ir.If):
                then, orelse = block(stmt.then), block(stmt.orelse)
                merges = tuple(m for m in stmt.merges if m.target in live)
                if _does_something(then) or _does_something(orelse) or merges:
                    out.append(ir.If(stmt.cond, then, orelse, merges, stmt.loc))
            elif isinstance(stmt, (ir.For, ir.While)):
                body = block(stmt.body)
                carried = tuple(c for c in stmt.carried if c.header in live or c.result in live)
                if not _does_something(body) and not carried:
                    continue
                if isinstance(stmt, ir.For):
                    out.append(dataclasses.replace(stmt, carried=carried, body=body))
                else:
                    out.append(dataclasses.replace(stmt, carried=carried, test=block(stmt.test), body=body))
            else:
                out.append(stmt)
        return tuple(out)

    return replaced(function, drop_trailing_notes(list(block(function.body))), function.returns)


def _keep_raising(function: Function, live: set[str], rules: Mapping[str, Rule]) -> None:
    """Make live every operation outside loops that may raise and reads only what is live already
    (or parameters and constants), under conditions that are live too: keeping it costs that one
    operation."""
    known = live | {p.name for p in function.params}
    candidates = _may_raise(function.body, rules, ())
    grown = True
    while grown:
        grown = False
        for stmt, conditions in candidates:
            reads = [a for a in (*stmt.args, *conditions) if isinstance(a, Var)]
            if stmt.target not in known and all(a.name in known for a in reads):
                known.add(stmt.target)
                live.add(stmt.target)
                grown = True


def _may_raise(
    block: ir.Block, rules: Mapping[str, Rule], conditions: tuple[ir.Operand, ...]
) -> list[tuple[Assign, tuple[ir.Operand, ...]]]:
    """The operations outside loops that may raise, each with the conditions of the branches it is in."""
    found: list[tuple[Assign, tuple[ir.Operand, ...]]] = []
    for stmt in block:
        if isinstance(stmt, Assign) and not rules[stmt.op].cannot_raise(stmt.args):
            found.append((stmt, conditions))
        elif isinstance(stmt, ir.If):
            inner = (*conditions, stmt.cond)
            found += _may_raise(stmt.then, rules, inner) + _may_raise(stmt.orelse, rules, inner)
    return found


def _does_something(block: ir.Block) -> bool:
    return any(not isinstance(stmt, ir.Note) for stmt in block)


def _needs(stmt: Stmt, live: set[str], rules: Mapping[str, Rule]) -> list[str]:
    """Names a statement makes live, given what is live already."""
    if isinstance(stmt, Assign):
        if stmt.target in live or not rules[stmt.op].pure:
            return ir.used_names(stmt)
        return []
    if isinstance(stmt, (ir.Effect, ir.Push)):
        return ir.used_names(stmt)
    if isinstance(stmt, ir.If):
        needed = [o for m in stmt.merges if m.target in live for o in (m.then, m.orelse)]
        if needed or has_effect(stmt.then, rules) or has_effect(stmt.orelse, rules):
            needed.append(stmt.cond)
        return [o.name for o in needed if isinstance(o, Var)]
    if isinstance(stmt, (ir.For, ir.While)):
        needed = [o for c in stmt.carried if c.header in live or c.result in live for o in (c.init, c.update)]
        if needed or has_effect(stmt.body, rules):  # the loop runs: what decides how often is live
            if isinstance(stmt, ir.For):
                needed += [stmt.start, stmt.stop, stmt.step, *([stmt.limit] if stmt.limit else [])]
            else:
                needed.append(stmt.cond)
            needed += [stmt.until] if stmt.until else []
        return [o.name for o in needed if isinstance(o, Var)]
    return []
