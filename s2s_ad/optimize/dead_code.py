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

    The function's checks stay, with what they read, unless another operation that stays raises where
    one does (`total / n` where the reverse sweep computes `1 / n` anyway): where the function raises
    (`t = math.log(x - 10.0)` with `t` unused), its gradient raises the same error.
    """
    statements = list(ir.walk(function.body))
    returned = {o.name for o in ir.return_operands(function.returns) if isinstance(o, Var)}
    live = _closure(function, statements, returned, rules)
    if function.checks:
        checks = set(function.checks) - live
        live = _closure(function, statements, live | (checks - _covered(function, checks, live, rules)), rules)

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


def _closure(function: Function, statements: list[Stmt], live: set[str], rules: Mapping[str, Rule]) -> set[str]:
    """`live` and everything it needs."""
    live = set(live)
    # One backward sweep finds everything live in straight-line code; branches and loops need more.
    changed = True
    while changed:
        size = len(live)
        for stmt in reversed(statements):
            live.update(_needs(stmt, live, rules))
        changed = len(live) != size and any(isinstance(s, (ir.If, ir.For, ir.While)) for s in function.body)
    return live


def _covered(function: Function, checks: set[str], live: set[str], rules: Mapping[str, Rule]) -> set[str]:
    """The checks that a live operation of the same kind, on the same operands where it matters, raises for:
    one that always runs (outside branches and loops) or that runs beside the check, in its block."""
    covered: set[str] = set()

    def key(stmt: Assign) -> tuple[object, ...]:
        rule = rules[stmt.op]
        positions = rule.raises_by
        return (rule.raises_like or stmt.op, *(stmt.args if positions is None else (stmt.args[i] for i in positions)))

    def visit(block: ir.Block, always: set[tuple[object, ...]], top: bool) -> None:
        here = always | {key(s) for s in block if isinstance(s, Assign) and s.target in live}
        for stmt in block:
            if isinstance(stmt, Assign) and stmt.target in checks and key(stmt) in here:
                covered.add(stmt.target)
            for inner in ir.blocks_of(stmt):
                visit(inner, here if top else always, False)  # what the function's body runs, every block sees

    visit(function.body, set(), True)
    return covered


def _does_something(block: ir.Block) -> bool:
    return any(not isinstance(stmt, ir.Note) for stmt in block)


def _does_something_live(block: ir.Block, live: set[str], rules: Mapping[str, Rule]) -> bool:
    """Whether the block has an effect or computes something live (a check) that stays inside it."""
    return has_effect(block, rules) or any(isinstance(s, Assign) and s.target in live for s in ir.walk(block))


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
        if needed or any(_does_something_live(b, live, rules) for b in (stmt.then, stmt.orelse)):
            needed.append(stmt.cond)
        return [o.name for o in needed if isinstance(o, Var)]
    if isinstance(stmt, (ir.For, ir.While)):
        needed = [o for c in stmt.carried if c.header in live or c.result in live for o in (c.init, c.update)]
        if needed or _does_something_live(stmt.body, live, rules):  # the loop runs: what decides how often is live
            if isinstance(stmt, ir.For):
                needed += [stmt.start, stmt.stop, stmt.step, *([stmt.limit] if stmt.limit else [])]
            else:
                needed.append(stmt.cond)
            needed += [stmt.until] if stmt.until else []
        return [o.name for o in needed if isinstance(o, Var)]
    return []
