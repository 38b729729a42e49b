"""The tape: slots nobody pops are cut; counted loops record into arrays indexed by the iteration."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import cast

from .. import ir
from ..ir import Assign, Function, Stmt, Var
from ..rules import RULES, Rule
from .common import namer_for, replaced
from .dead_code import dead_code


def tape_slots(function: Function, rules: Mapping[str, Rule] = RULES) -> Function:
    """Record on the tape only what some reverse statement still reads (after the other passes)."""
    pops = [s for s in ir.walk(function.body) if isinstance(s, ir.Pop)]
    if not pops:
        return function
    used: set[str] = {o.name for o in ir.return_operands(function.returns) if isinstance(o, Var)}
    for stmt in ir.walk(function.body):
        used.update(ir.used_names(stmt))
    keep = {pop.slot: tuple(t in used for t in pop.targets) for pop in pops}
    if all(all(k) for k in keep.values()):
        return function
    # Values only a dropped slot recorded are dead now: sweep again after the slots are cut.

    def block(statements: ir.Block) -> ir.Block:
        out: list[Stmt] = []
        for stmt in statements:
            if isinstance(stmt, ir.Pop):
                mask = keep[stmt.slot]
                if any(mask):
                    out.append(ir.Pop(_select(stmt.targets, mask), _select(stmt.types, mask), stmt.loc, stmt.slot))
            elif isinstance(stmt, ir.Push):
                mask = keep.get(stmt.slot, (True,) * len(stmt.values))
                if any(mask):
                    out.append(ir.Push(_select(stmt.values, mask), stmt.loc, stmt.slot))
            else:
                out.append(ir.with_blocks(stmt, block))
        return tuple(out)

    return dead_code(replaced(function, block(function.body), function.returns), rules)


def _select(items: tuple, mask: tuple[bool, ...]) -> tuple:  # type: ignore[type-arg]
    return tuple(item for item, kept in zip(items, mask) if kept)


def tape_arrays(function: Function, rules: Mapping[str, Rule] = RULES) -> Function:
    """What a `for i in range(n)` loop records each iteration goes into arrays of n items, `x_tape[i] = x`,
    which its reverse loop reads back, `x = x_tape[i]`, instead of a tuple pushed on the tape and popped.

    Only where that is the same: the loop counts from 0 by 1 and never leaves early (so iteration `i`
    is item `i`), records once per iteration, and its reverse loop is in the same block (so the arrays
    it reads are the ones this run of the loop filled). Storing into a list is cheaper than building and
    pushing a tuple, and the arrays hold the values themselves.
    """
    namer = namer_for(function)

    def counted(stmt: Stmt) -> bool:
        return (
            isinstance(stmt, ir.For)
            and stmt.start == ir.Const(0)
            and stmt.step == ir.Const(1)
            and stmt.until is None
            and stmt.limit is None
        )

    def block(statements: ir.Block) -> ir.Block:
        statements = tuple(ir.with_blocks(s, block) for s in statements)
        pops = {p.slot: (k, p) for k, s in enumerate(statements) if counted(s) for p in s.body if isinstance(p, ir.Pop)}  # type: ignore[union-attr]
        out = list(statements)
        before: dict[int, list[Stmt]] = {}
        for k in range(len(out)):
            current = out[k]  # a reverse loop may have had its pops replaced already
            if not counted(current):
                continue
            assert isinstance(current, ir.For)
            loop: ir.For = current
            for push in [s for s in loop.body if isinstance(s, ir.Push) and s.slot in pops]:
                r, pop = pops[push.slot]
                reverse = out[r]
                assert isinstance(reverse, ir.For)
                if r <= k or reverse.stop != loop.stop:
                    continue
                arrays = [
                    namer().new_family(f"{ir.family(v.name)}_tape" if isinstance(v, Var) else "_saved") for v in push.values
                ]
                before.setdefault(k, []).extend(
                    Assign(a, "tape_array", (ir.Const(0.0), loop.stop), ir.ListOf(t), push.loc) for a, t in zip(arrays, pop.types)
                )
                stores = [ir.Effect("setitem", (Var(a), Var(loop.index), v), push.loc) for a, v in zip(arrays, push.values)]
                reads = tuple(
                    Assign(t, "index", (Var(a), Var(reverse.index)), ty, pop.loc)
                    for a, t, ty in zip(arrays, pop.targets, pop.types)
                )
                # A carried value is the same all through its iteration: recorded first, the name is free for
                # the next value at once (`x_tape[i] = x` then `x = x + dt * math.sin(x)`, no `x_2`).
                headers = {Var(c.header) for c in loop.carried}
                first = tuple(s for s in stores if s.args[2] in headers and push in loop.body)
                last = tuple(s for s in stores if s not in first)
                loop = cast(ir.For, ir.with_blocks(loop, _splicer(push, last)))
                loop = dataclasses.replace(loop, body=(*first, *loop.body))
                out[r] = ir.with_blocks(reverse, _splicer(pop, reads))
            out[k] = loop
        return tuple(x for k, s in enumerate(out) for x in (*before.get(k, ()), s))

    return replaced(function, block(function.body), function.returns)


def _splicer(old: Stmt, new: tuple[Stmt, ...]) -> Callable[[ir.Block], ir.Block]:
    """What `ir.with_blocks` applies to each block: `old` replaced by `new`."""
    return lambda block: _spliced(block, old, new)


def _spliced(block: ir.Block, old: Stmt, new: tuple[Stmt, ...]) -> ir.Block:
    """The block with the statement `old` (that very object) replaced by the statements `new`."""
    return tuple(x for stmt in block for x in (new if stmt is old else (stmt,)))
