"""Binomial checkpointing (revolve) of a counted loop, and an online schedule for a `while` loop.

With `checkpoints=K, schedule="revolve"`, a `for` loop that `checkpoints.fits`
keeps at most K snapshots of its carried values at once, each on the tape as
`(iteration, values)`, and tapes at most K iterations at once: in blocks of K
iterations, the schedule is Griewank's binomial one (`_revolve`, a helper the
generated module defines, `rules/schedules.py`), so each iteration runs
untaped at most r times, r the fewest with binom(K + r, r) >= ceil(n / K)
(once more for the iterations after the forward sweep's last snapshot, which
the forward sweep runs to give the loop's result), and the total is the fewest
possible.

The forward sweep runs from snapshot to snapshot where `_revolve` puts them,
then to the end. The reverse sweep is one loop of turns over the snapshots
kept (`_turns`): take the last snapshot (state at `_lo`) and ask `_revolve`
where to run on to (`_at`); put the snapshot back if it is still needed
(`_at > _lo`), run on to `_at` untaped, then either keep a snapshot there (more
than K iterations remain before `_hi`) or tape `_at` to `_hi` and run its
reverse iterations, and `_hi = _at`. The loop ends when no snapshot is left.

A `while` loop that fits (the same conditions, and a test that reads only the
carried values) has no trip count when it starts: its forward sweep keeps the
state every `_every` iterations, and when that would be more than K snapshots,
drops every other one and doubles `_every` (`_thin`); its reverse sweep is the
same loop of turns over the snapshots kept.

Every iteration computes the same operations on the same values as without
checkpoints, so the gradient is the same, bit for bit.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .. import ir
from ..ir import BOOL, INT, Assign, Carry, Const, Merge, Note, Operand, Stmt, Var
from .checkpoints import again_recording, reversed_stretch

if TYPE_CHECKING:
    from .reverse import Reverse


def fits_while(sweep: Reverse, stmt: ir.While, forward_body: ir.Block) -> bool:
    """Whether the `while` loop can be checkpointed: as `checkpoints.fits` asks of a `for` loop, and its test
    computes its condition from the carried values with pure operations."""
    if sweep.checkpoints is None or stmt.until is not None or not all(isinstance(c.type, ir.Scalar) for c in stmt.carried):
        return False
    inner = [*ir.walk(stmt.body), *ir.walk(stmt.test)]
    if any(isinstance(s, (ir.For, ir.While, ir.Effect)) or (isinstance(s, Assign) and not sweep.rules[s.op].pure) for s in inner):
        return False
    if not (ir.free_names(stmt.body) | ir.free_names(stmt.test)).isdisjoint(sweep.mutated):
        return False
    if not {n for s in stmt.test for n in ir.defs(s)}.isdisjoint(ir.free_names(stmt.body)):
        return False  # the body reads what the test computed: running the body alone would not do
    return any(isinstance(s, ir.Push) for s in ir.walk(forward_body))


def _run(sweep: Reverse, stmt: ir.For | ir.While, body: ir.Block, start: Operand, stop: Operand, state: dict[str, str]) -> ir.For:
    """Iterations `start` to `stop` of the loop again, untaped, under new names, from the carried values
    `state` (header -> name); `state` then names the carried values after them."""
    index = sweep.fresh(stmt.index if isinstance(stmt, ir.For) else "_", INT)
    heads = {c.header: sweep.fresh(c.header, c.type) for c in stmt.carried}
    mapping: dict[str, Operand] = {h: Var(n) for h, n in heads.items()}
    if isinstance(stmt, ir.For):
        mapping[stmt.index] = Var(index)
    renamed = ir.rename(ir.without_pushes(body), mapping)
    copy, names = ir.renamed_copy(renamed, lambda name: sweep.fresh(name, sweep.types.get(name)))
    carried = []
    for c in stmt.carried:
        update = ir.substitute(ir.substitute(c.update, mapping), names)
        result = sweep.fresh(c.header, c.type)
        carried.append(Carry(heads[c.header], c.type, Var(state[c.header]), update, result, c.loc))
        state[c.header] = result
    return ir.For(index, start, stop, Const(1), tuple(carried), copy, None, stmt.loc)


def binomial(sweep: Reverse, stmt: ir.For, forward_body: ir.Block, reverse_body: ir.Block, reverse_index: str,
             reverse_carries: tuple[Carry, ...]) -> ir.Block:  # fmt: skip
    """Append the loop of turns to the reverse sweep; the forward statements that replace `stmt`."""
    assert sweep.checkpoints is not None
    k, loc, fresh = sweep.checkpoints, stmt.loc, sweep.fresh
    sweep.slots += 1
    slot = sweep.slots
    text = f"checkpointed (binomial, revolve): at most {k} snapshots at once, and at most {k} iterations taped"
    out: list[Stmt] = [Note(text), ir.Push((stmt.start, *(c.init for c in stmt.carried)), loc, slot)]
    first = fresh("_at", INT)
    out.append(Assign(first, "revolve", (stmt.start, stmt.stop, Const(k), Const(k)), INT, loc))
    lo, at, held = fresh("_lo", INT), fresh("_at", INT), fresh("_held", INT)
    state = {c.header: fresh(c.header, c.type) for c in stmt.carried}
    heads = dict(state)
    rest, more = sweep.temp(INT), sweep.temp(BOOL)
    test = (Assign(rest, "sub", (stmt.stop, Var(at)), INT, loc), Assign(more, "gt", (Var(rest), Const(k)), BOOL, loc))
    run = _run(sweep, stmt, forward_body, Var(lo), Var(at), state)
    held_1, free, at_1 = fresh("_held", INT), sweep.temp(INT), fresh("_at", INT)
    body = (
        run,
        ir.Push((Var(at), *(Var(state[c.header]) for c in stmt.carried)), loc, slot),
        Assign(held_1, "add", (Var(held), Const(1)), INT, loc),
        Assign(free, "sub", (Const(k + 1), Var(held_1)), INT, loc),
        Assign(at_1, "revolve", (Var(at), stmt.stop, Var(free), Const(k)), INT, loc),
    )
    lo_r, at_r, held_r = fresh("_lo", INT), fresh("_at", INT), fresh("_held", INT)
    carried = [Carry(heads[c.header], c.type, c.init, Var(state[c.header]), fresh(c.header, c.type)) for c in stmt.carried]
    carried += [
        Carry(lo, INT, stmt.start, Var(at), lo_r),
        Carry(at, INT, Var(first), Var(at_1), at_r),
        Carry(held, INT, Const(1), Var(held_1), held_r),
    ]
    out.append(ir.While(tuple(carried), test, Var(more), body, None, loc))
    state = {c.header: carried[i].result for i, c in enumerate(stmt.carried)}
    last = _run(sweep, stmt, forward_body, Var(lo_r), stmt.stop, state)
    out.append(_with_results(last, stmt))
    sweep.out.append(
        _turns(sweep, stmt, forward_body, reverse_body, reverse_index, reverse_carries, stmt.stop, Var(held_r), slot)
    )
    return tuple(out)


def online(sweep: Reverse, stmt: ir.While, forward_body: ir.Block, reverse_body: ir.Block, reverse_index: str,
           reverse_carries: tuple[Carry, ...]) -> ir.Block:  # fmt: skip
    """The `while` loop keeping at most K snapshots, thinned as it goes; its loop of turns in the reverse sweep."""
    assert sweep.checkpoints is not None
    k, loc, fresh = sweep.checkpoints, stmt.loc, sweep.fresh
    sweep.slots += 1
    slot = sweep.slots
    text = f"checkpointed (online): at most {k} snapshots, every _every iterations, thinned when full"
    out: list[Stmt] = [Note(text), ir.Push((Const(0), *(c.init for c in stmt.carried)), loc, slot)]
    count, every = fresh("_n", INT), fresh("_every", INT)
    count_1, left, due = fresh("_n", INT), sweep.temp(INT), sweep.temp(BOOL)
    thinned, every_1 = fresh("_every", INT), fresh("_every", INT)
    keep = ir.If(
        Var(due),
        (
            ir.Push((Var(count_1), *(c.update for c in stmt.carried)), loc, slot),
            Assign(thinned, "thin", (Var(count_1), Var(every), Const(k), Const(slot)), INT, loc),  # slot: numba's tape
        ),
        (),
        (Merge(every_1, INT, Var(thinned), Var(every)),),
        loc,
    )
    body = (
        *ir.without_pushes(forward_body),
        Assign(count_1, "add", (Var(count), Const(1)), INT, loc),
        Assign(left, "mod", (Var(count_1), Var(every)), INT, loc),
        Assign(due, "eq", (Var(left), Const(0)), BOOL, loc),
        keep,
    )
    total, spacing = fresh("_n", INT), fresh("_every", INT)
    carried = (
        *stmt.carried,
        Carry(count, INT, Const(0), Var(count_1), total),
        Carry(every, INT, Const(1), Var(every_1), spacing),
    )
    out.append(ir.While(carried, stmt.test, stmt.cond, body, None, loc))
    blocks, held = sweep.temp(INT), fresh("_held", INT)
    out += [
        Assign(blocks, "floordiv", (Var(total), Var(spacing)), INT, loc),
        Assign(held, "add", (Var(blocks), Const(1)), INT, loc),
    ]
    sweep.out.append(_turns(sweep, stmt, forward_body, reverse_body, reverse_index, reverse_carries, Var(total), Var(held), slot))
    return tuple(out)


def _with_results(loop: ir.For, stmt: ir.For) -> ir.For:
    """The loop's last run, giving the carried values the names the rest of the function reads."""
    carried = tuple(Carry(c.header, c.type, c.init, c.update, o.result, c.loc) for c, o in zip(loop.carried, stmt.carried))
    return ir.For(loop.index, loop.start, loop.stop, loop.step, carried, loop.body, None, loop.loc)


def _turns(sweep: Reverse, stmt: ir.For | ir.While, forward_body: ir.Block, reverse_body: ir.Block, reverse_index: str,
           reverse_carries: tuple[Carry, ...], stop: Operand, held: Operand, slot: int) -> ir.While:  # fmt: skip
    """The reverse sweep's loop of turns (see the module's docstring), from `held` snapshots, up to `stop`."""
    assert sweep.checkpoints is not None
    k, loc, fresh = sweep.checkpoints, stmt.loc, sweep.fresh
    hi, count = fresh("_hi", INT), fresh("_held", INT)
    lo = fresh("_lo", INT)
    state = {c.header: fresh(c.header, c.type) for c in stmt.carried}
    restored = dict(state)
    free, at, back = sweep.temp(INT), fresh("_at", INT), sweep.temp(BOOL)
    dropped, count_1 = fresh("_held", INT), fresh("_held", INT)
    body: list[Stmt] = [
        ir.Pop((lo, *(restored[c.header] for c in stmt.carried)), (INT, *(c.type for c in stmt.carried)), loc, slot),
        Assign(free, "sub", (Const(k + 1), Var(count)), INT, loc),
        Assign(at, "revolve", (Var(lo), Var(hi), Var(free), Const(k)), INT, loc),
        Assign(back, "gt", (Var(at), Var(lo)), BOOL, loc),
        ir.If(
            Var(back),
            (ir.Push((Var(lo), *(Var(restored[c.header]) for c in stmt.carried)), loc, slot),),
            (Assign(dropped, "sub", (Var(count), Const(1)), INT, loc),),
            (Merge(count_1, INT, Var(count), Var(dropped)),),
            loc,
        ),
        _run(sweep, stmt, forward_body, Var(lo), Var(at), state),
    ]
    length, split = fresh("_length", INT), sweep.temp(BOOL)
    body += [Assign(length, "sub", (Var(hi), Var(at)), INT, loc), Assign(split, "gt", (Var(length), Const(k)), BOOL, loc)]
    kept = fresh("_held", INT)
    then: ir.Block = (
        ir.Push((Var(at), *(Var(state[c.header]) for c in stmt.carried)), loc, slot),
        Assign(kept, "add", (Var(count_1), Const(1)), INT, loc),
    )
    again = again_recording(sweep, _counted(stmt), forward_body, at, length, state)
    backwards, heads, ends = reversed_stretch(sweep, at, length, reverse_index, reverse_body, reverse_carries, loc)
    orelse = (Note("tape the iterations from _at on, then run their reverse"), again, backwards)
    merged = {c.header: fresh(c.header, c.type) for c in reverse_carries}
    count_2, hi_1 = fresh("_held", INT), fresh("_hi", INT)
    merges = [Merge(count_2, INT, Var(kept), Var(count_1)), Merge(hi_1, INT, Var(hi), Var(at))]
    merges += [Merge(merged[c.header], c.type, Var(heads[c.header]), Var(ends[c.header])) for c in reverse_carries]
    body.append(ir.If(Var(split), then, orelse, tuple(merges), loc))
    going = sweep.temp(BOOL)
    test = (Assign(going, "gt", (Var(count), Const(0)), BOOL, loc),)
    carried = [Carry(hi, INT, stop, Var(hi_1), fresh("_hi", INT)), Carry(count, INT, held, Var(count_2), fresh("_held", INT))]
    carried += [Carry(heads[c.header], c.type, c.init, Var(merged[c.header]), c.result, c.loc) for c in reverse_carries]
    note = Note("binomial checkpointing: from the last snapshot, run on to where _revolve says")
    return ir.While(tuple(carried), test, Var(going), (note, *body), None, loc)


def _counted(stmt: ir.For | ir.While) -> ir.For:
    """The loop as a counted one, for `again_recording` (a `while` loop's iterations, counted from 0, have no index)."""
    if isinstance(stmt, ir.For):
        return stmt
    return ir.For("_", Const(0), Const(0), Const(1), stmt.carried, stmt.body, None, stmt.loc)
