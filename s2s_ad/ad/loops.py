"""A loop reversed: it runs backwards (or, where its iterations are independent, forwards), carrying the
adjoints of its carried values and of the outer values it reads; a `while` loop counts its iterations."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from .. import ir
from ..ir import FLOAT, INT, Assign, Const, Effect, Operand, Var
from ..rules import Rule
from . import checkpoints, rebinding, revolve

if TYPE_CHECKING:
    from .reverse import Reverse


def _value_type(type_: ir.Type | None) -> bool:
    """A number or an array of numbers: values whose adjoints a loop carries (a list's adjoint is one list)."""
    return ir.carries_derivative(type_) and not isinstance(type_, ir.ListOf)


def reverse_loop(sweep: Reverse, stmt: ir.For | ir.While) -> ir.For | ir.While | ir.Block:
    """Run the loop backwards, carrying the adjoints of its carried values and of the outer scalars it reads;
    in segments from snapshots where checkpoints are asked for and the loop allows (`checkpoints`)."""
    inside = {n for s in ir.walk((stmt,)) for n in ir.defs(s)}
    reads = ir.free_names(stmt.body) | {o.name for c in stmt.carried for o in (c.update,) if isinstance(o, Var)}
    outer = sorted(n for n in reads if n not in inside and n in sweep.active_names and _value_type(sweep.types.get(n)))
    carries = [c for c in stmt.carried if c.header in sweep.active_names]
    before = sweep.adjoint
    incoming = {c.result: before.pop(c.result, None) for c in carries}
    heads = {c.header: sweep.namer.fresh(sweep.bar_family(c.header)) for c in carries}
    outer_heads = {n: sweep.namer.fresh(sweep.bar_family(n)) for n in outer}
    sweep.adjoint = dict(before)
    for name, head in outer_heads.items():
        sweep.adjoint[name] = Var(head)
        sweep.types[head] = sweep.types.get(name, FLOAT)

    def flow_into_updates() -> None:
        for c in carries:
            sweep.types[heads[c.header]] = c.type
            _into_update(sweep, c, Var(heads[c.header]), stmt)

    index = stmt.index if isinstance(stmt, ir.For) else None
    reverse_index = sweep.namer.fresh(index or "_")
    keep = {index: Var(reverse_index)} if index else {}
    # A loop that changes no list and whose results nothing reads later is worth computing again in
    # reverse rather than taping: its forward copy is then dead.
    replay = (
        isinstance(stmt, ir.For)
        and stmt.until is None
        and not _has_effect(stmt.body, sweep.rules)
        and not needed_later(sweep, {c.result for c in stmt.carried})
    )
    forward_body, reverse_body = sweep.block(
        stmt.body,
        True,
        before=flow_into_updates,
        starts=tuple(c.header for c in stmt.carried),
        keep=keep,
        loc=stmt.loc,
        replay=replay,
    )
    after = sweep.adjoint
    reverse_carries = []
    results: dict[str, str] = {}
    for c in carries:
        result = sweep.namer.fresh(sweep.bar_family(c.header))
        results[c.header] = result
        if isinstance(c.type, ir.ListOf) and incoming[c.result] is None:
            incoming[c.result] = sweep.zeros_like(c.result, c.type, stmt.loc)
        zero = sweep.zero_of(c.result, stmt.loc)
        reverse_carries.append(ir.Carry(heads[c.header], c.type, incoming[c.result] or zero, after.get(c.header, zero), result))
        sweep.types[result] = c.type
    sweep.adjoint = {k: v for k, v in after.items() if k not in inside and k not in outer_heads}
    for name, head in outer_heads.items():
        update = after.get(name, Var(head))
        if update == Var(head):
            if name in before:
                sweep.adjoint[name] = before[name]
            continue
        result = sweep.namer.fresh(sweep.bar_family(name))
        reverse_carries.append(
            ir.Carry(head, sweep.types[head], before.get(name) or sweep.zero_of(name, stmt.loc), update, result)
        )
        sweep.types[result] = sweep.types[head]
        sweep.adjoint[name] = Var(result)

    # A reverse loop that passes the carried adjoints through unchanged (`total += ...`) may run
    # its iterations in any order if they do not depend on each other otherwise: forwards is quicker.
    backwards = (
        isinstance(stmt, ir.For)
        and not stmt.reverse
        and not (
            _any_order(reverse_body, sweep.rules) and all(c.update == Var(c.header) for c in reverse_carries[: len(carries)])
        )
    )
    made = _checkpointed(sweep, stmt, forward_body, reverse_body, reverse_index, tuple(reverse_carries), backwards)
    if made is not None:
        for c in carries:
            _into_init(sweep, c, Var(results[c.header]), stmt)
        return made
    count: Operand | None = None
    counter: list[ir.Carry] = []
    if isinstance(stmt, ir.While) or stmt.until is not None:
        head, step, total = (sweep.namer.fresh("_n") for _ in range(3))
        sweep.types.update({head: INT, step: INT, total: INT})
        forward_body = (*forward_body, Assign(step, "add", (Var(head), Const(1)), INT, stmt.loc))
        counter = [ir.Carry(head, INT, Const(0), Var(step), total)]
        count = Var(total)
    if isinstance(stmt, ir.For):
        sweep.out.append(
            ir.For(
                reverse_index,
                stmt.start,
                stmt.stop,
                stmt.step,
                tuple(reverse_carries),
                reverse_body,
                None,
                stmt.loc,
                reverse=backwards,
                limit=count,
            )
        )
        forward: ir.For | ir.While = ir.For(
            stmt.index,
            stmt.start,
            stmt.stop,
            stmt.step,
            (*stmt.carried, *counter),
            forward_body,
            stmt.until,
            stmt.loc,
            stmt.reverse,
        )
    else:
        assert count is not None
        sweep.out.append(ir.For(reverse_index, Const(0), count, Const(1), tuple(reverse_carries), reverse_body, None, stmt.loc))
        forward = ir.While((*stmt.carried, *counter), stmt.test, stmt.cond, forward_body, stmt.until, stmt.loc)
    for c in carries:
        _into_init(sweep, c, Var(results[c.header]), stmt)
    return forward


def _checkpointed(sweep: Reverse, stmt: ir.For | ir.While, forward_body: ir.Block, reverse_body: ir.Block, reverse_index: str,
                  reverse_carries: tuple[ir.Carry, ...], backwards: bool) -> ir.Block | None:  # fmt: skip
    """The forward statements of the loop checkpointed (its reverse appended), where that is asked for and the
    loop allows: a `for` loop in uniform segments (`checkpoints`) or by the binomial schedule, a `while` loop
    by the online one (`revolve`); else None."""
    if isinstance(stmt, ir.While):
        if not revolve.fits_while(sweep, stmt, forward_body):
            return None
        return revolve.online(sweep, stmt, forward_body, reverse_body, reverse_index, reverse_carries)
    if not checkpoints.fits(sweep, stmt, forward_body, backwards):
        return None
    schedule = revolve.binomial if sweep.schedule == "revolve" else checkpoints.segmented
    return schedule(sweep, stmt, forward_body, reverse_body, reverse_index, reverse_carries)


def _into_update(sweep: Reverse, c: ir.Carry, head: Var, stmt: ir.For | ir.While) -> None:
    """At the start of a reverse iteration, the carried adjoint `head` flows into what the iteration
    computed; a carried list's header gets an adjoint list of its own (`rebinding`)."""
    if isinstance(c.type, ir.ListOf):
        sweep.adjoint[c.header] = sweep.zeros_like(c.header, c.type, c.loc or stmt.loc)
        rebinding.pass_on(sweep, c.update, head, stmt.body, c.loc or stmt.loc)
    elif isinstance(c.update, Var) and c.update.name in sweep.active_names:
        sweep.accumulate(c.update.name, head, Const(1), stmt.loc)


def _into_init(sweep: Reverse, c: ir.Carry, result: Var, stmt: ir.For | ir.While) -> None:
    """After the reverse loop, the carried adjoint `result` flows into the value the loop started from."""
    if isinstance(c.type, ir.ListOf):
        rebinding.pass_on(sweep, c.init, result, (), stmt.loc)
    elif isinstance(c.init, Var) and c.init.name in sweep.active_names:
        sweep.accumulate(c.init.name, result, Const(1), stmt.loc)


def needed_later(sweep: Reverse, names: set[str]) -> bool:
    """Whether the derived function reads any of `names` after this point: it returns them, or the
    reverse code written so far reads them or a forward value computed from them."""
    reads = set(sweep.returned)
    for emitted in (*sweep.later, sweep.out):
        reads.update(ir.free_names(tuple(emitted)))
    return not names.isdisjoint(ir.reach(reads, sweep.sources))


def _has_effect(block: ir.Block, rules: Mapping[str, Rule]) -> bool:
    return any(isinstance(s, Effect) or (isinstance(s, Assign) and not rules[s.op].pure) for s in ir.walk(block))


def _any_order(block: ir.Block, rules: Mapping[str, Rule]) -> bool:
    """Whether the iterations of a reverse loop body are independent: each takes back from the tape only
    what it recorded itself, and its only effect is adding into adjoint lists (`w_bar[j] += ...`)."""
    statements = list(ir.walk(block))
    pushed = {s.slot for s in statements if isinstance(s, ir.Push)}
    for stmt in statements:
        if isinstance(stmt, ir.Pop) and stmt.slot not in pushed:
            return False
        if isinstance(stmt, Effect) and not rules[stmt.op].commutes:
            return False
        if isinstance(stmt, Assign) and not rules[stmt.op].pure:
            return False
    return True
