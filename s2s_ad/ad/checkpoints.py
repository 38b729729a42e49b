"""A long loop's reverse sweep in segments (checkpointing): memory for at most K snapshots and one segment's tape.

With `checkpoints=K`, a `for` loop over a range whose carried values are
numbers runs forwards in at most K segments of `_every` iterations each,
keeping (on the tape) the carried values at the start of each segment and
recording nothing else. The reverse sweep takes the segments last to first:
it restores the segment's snapshot, runs the segment forwards again while
recording what the reverse reads (as the un-checkpointed loop records it),
then runs the reverse iterations of that segment. The tape thus holds at
most K snapshots and one segment's records, and the forward body runs
twice. Every iteration computes the same operations on the same values as
without checkpoints, so the gradient is the same, bit for bit.

A loop is taken as it is (un-checkpointed) unless that is exact and simple:
it counts by 1 over a range and never leaves early, carries numbers only,
changes no list, reads no list that changes anywhere, holds no loop itself,
and records something on the tape.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .. import ir
from ..ir import INT, Assign, Carry, Const, Effect, Note, Operand, Stmt, Var

if TYPE_CHECKING:
    from .reverse import Reverse


def fits(sweep: Reverse, stmt: ir.For, forward_body: ir.Block, backwards: bool) -> bool:
    """Whether the loop can be checkpointed (see the module's docstring)."""
    if sweep.checkpoints is None or not backwards or stmt.until is not None or stmt.reverse or stmt.limit is not None:
        return False
    if stmt.step != Const(1) or not all(isinstance(c.type, ir.Scalar) for c in stmt.carried):
        return False
    inner = list(ir.walk(stmt.body))
    if any(isinstance(s, (ir.For, ir.While, Effect)) or (isinstance(s, Assign) and not sweep.rules[s.op].pure) for s in inner):
        return False
    if not ir.free_names(stmt.body).isdisjoint(sweep.mutated):  # the reverse would read it changed
        return False
    return any(isinstance(s, ir.Push) for s in ir.walk(forward_body))


def segmented(
    sweep: Reverse,
    stmt: ir.For,
    forward_body: ir.Block,
    reverse_body: ir.Block,
    reverse_index: str,
    reverse_carries: tuple[Carry, ...],
) -> ir.Block:
    """Append the segmented reverse loop to the reverse sweep; the forward statements that replace `stmt`."""
    assert sweep.checkpoints is not None
    k, loc = sweep.checkpoints, stmt.loc
    fresh = sweep.fresh
    every = fresh("_every", INT)
    span: Operand = stmt.stop
    text = f"checkpointed: the loop runs in at most {k} segments; the values it carries at the start of each are kept"
    before: list[Stmt] = [Note(text)]
    if stmt.start != Const(0):
        span = Var(sweep.temp(INT))
        before.append(Assign(span.name, "sub", (stmt.stop, stmt.start), INT, loc))
    rounded, per = sweep.temp(INT), sweep.temp(INT)
    before += [  # _every = max((span + k - 1) // k, 1): k segments or fewer, none empty
        Assign(rounded, "add", (span, Const(k - 1)), INT, loc),
        Assign(per, "floordiv", (Var(rounded), Const(k)), INT, loc),
        Assign(every, "max", (Var(per), Const(1)), INT, loc),
    ]
    for a in before:
        if isinstance(a, Assign):
            sweep.definition[a.target] = a
    sweep.slots += 1
    slot = sweep.slots
    forward = _forward(sweep, stmt, forward_body, Var(every), slot)
    sweep.out.append(_reverse(sweep, stmt, forward_body, reverse_body, reverse_index, reverse_carries, Var(every), slot))
    return (*before, forward)


def _segment_end(sweep: Reverse, start: str, every: Var, stop: Operand, loc: ir.Loc) -> tuple[list[Stmt], str]:
    """`_end = min(start + _every, stop)`: where the segment starting at `start` ends."""
    total, end = sweep.temp(INT), sweep.fresh("_end", INT)
    return [Assign(total, "add", (Var(start), every), INT, loc), Assign(end, "min", (Var(total), stop), INT, loc)], end


def _forward(sweep: Reverse, stmt: ir.For, forward_body: ir.Block, every: Var, slot: int) -> ir.For:
    """The loop run once, in segments, keeping the carried values at the start of each and recording nothing else."""
    loc, fresh = stmt.loc, sweep.fresh
    segment = fresh("_start", INT)
    heads = {c.header: fresh(c.header, c.type) for c in stmt.carried}
    ends = {c.header: fresh(c.header, c.type) for c in stmt.carried}
    bounds, end = _segment_end(sweep, segment, every, stmt.stop, loc)
    inner = ir.For(
        stmt.index,
        Var(segment),
        Var(end),
        Const(1),
        tuple(Carry(c.header, c.type, Var(heads[c.header]), c.update, ends[c.header], c.loc) for c in stmt.carried),
        ir.without_pushes(forward_body),
        None,
        loc,
    )
    snapshot = ir.Push(tuple(Var(heads[c.header]) for c in stmt.carried), loc, slot)
    return ir.For(
        segment,
        stmt.start,
        stmt.stop,
        every,
        tuple(Carry(heads[c.header], c.type, c.init, Var(ends[c.header]), c.result, c.loc) for c in stmt.carried),
        (snapshot, *bounds, inner),
        None,
        loc,
    )


def _reverse(
    sweep: Reverse,
    stmt: ir.For,
    forward_body: ir.Block,
    reverse_body: ir.Block,
    reverse_index: str,
    reverse_carries: tuple[Carry, ...],
    every: Var,
    slot: int,
) -> ir.For:
    """Segments last to first: the snapshot restored, the segment run again recording, then its reverse iterations."""
    loc, fresh = stmt.loc, sweep.fresh
    segment = fresh("_start", INT)
    restored = {c.header: fresh(c.header, c.type) for c in stmt.carried}
    bounds, end = _segment_end(sweep, segment, every, stmt.stop, loc)
    length = fresh("_length", INT)
    bounds.append(Assign(length, "sub", (Var(end), Var(segment)), INT, loc))
    again = again_recording(sweep, stmt, forward_body, segment, length, restored)
    backwards, heads, ends = reversed_stretch(sweep, segment, length, reverse_index, reverse_body, reverse_carries, loc)
    pop = ir.Pop(tuple(restored[c.header] for c in stmt.carried), tuple(c.type for c in stmt.carried), loc, slot)
    note = Note("this segment again from its snapshot, recording, then its reverse")
    return ir.For(
        segment,
        stmt.start,
        stmt.stop,
        every,
        tuple(Carry(heads[c.header], c.type, c.init, Var(ends[c.header]), c.result, c.loc) for c in reverse_carries),
        (pop, *bounds, note, again, backwards),
        None,
        loc,
        reverse=True,
    )


def reversed_stretch(
    sweep: Reverse,
    start: str,
    length: str,
    reverse_index: str,
    reverse_body: ir.Block,
    reverse_carries: tuple[Carry, ...],
    loc: ir.Loc,
) -> tuple[ir.For, dict[str, str], dict[str, str]]:
    """The reverse iterations of the `length` iterations from `start` (just taped again), last to first, with the
    names their carried adjoints enter under (`heads`) and leave under (`ends`)."""
    heads = {c.header: sweep.fresh(c.header, c.type) for c in reverse_carries}
    ends = {c.header: sweep.fresh(c.header, c.type) for c in reverse_carries}
    step = sweep.fresh("_k", INT)
    backwards = ir.For(
        step,
        Const(0),
        Var(length),
        Const(1),
        tuple(Carry(c.header, c.type, Var(heads[c.header]), c.update, ends[c.header], c.loc) for c in reverse_carries),
        (Assign(reverse_index, "add", (Var(start), Var(step)), INT, loc), *reverse_body),
        None,
        loc,
        reverse=True,
    )
    return backwards, heads, ends


def again_recording(
    sweep: Reverse, stmt: ir.For, forward_body: ir.Block, segment: str, length: str, restored: dict[str, str]
) -> ir.For:
    """The segment's forward iterations under new names, recording what their reverse reads."""
    loc = stmt.loc
    index = sweep.fresh(stmt.index, INT)
    step = sweep.fresh("_k", INT)
    heads = {c.header: sweep.fresh(c.header, c.type) for c in stmt.carried}
    renamed = ir.rename(forward_body, {stmt.index: Var(index), **{h: Var(n) for h, n in heads.items()}})

    def new(name: str) -> str:
        return sweep.fresh(name, sweep.types.get(name))

    copy, mapping = ir.renamed_copy(renamed, new)
    carried = []
    for c in stmt.carried:
        update = ir.substitute(ir.substitute(c.update, {h: Var(n) for h, n in heads.items()}), mapping)
        carried.append(Carry(heads[c.header], c.type, Var(restored[c.header]), update, sweep.fresh(c.header, c.type), c.loc))
    body = (Assign(index, "add", (Var(segment), Var(step)), INT, loc), *copy)
    return ir.For(step, Const(0), Var(length), Const(1), tuple(carried), body, None, loc)
