"""What a loop's reverse sweep reads of its forward iterations: recorded on the tape, recomputed, or replayed.

Inside a loop, the reverse iteration reads values the matching forward
iteration computed. `record` pushes them at the end of the forward iteration
and pops them at the start of the reverse one (`_tape`, a list used as a
stack), except what is cheap to compute again (`cheap`: a read of a list that
cannot have changed since, integer arithmetic, one operation on a value and a
constant). `replay` computes a whole iteration again instead, for loops that
only accumulate; `reuse` reads what the forward block computed rather than
computing it twice.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from .. import ir
from ..ir import INT, Assign, Const, Effect, Loc, Note, Operand, Stmt, Var

if TYPE_CHECKING:
    from .reverse import Reverse


def record(
    sweep: Reverse,
    forward: ir.Block,
    backward: ir.Block,
    starts: tuple[str, ...],
    keep: Mapping[str, Operand],
    loc: Loc | None,
    again: bool = False,
) -> tuple[ir.Block, ir.Block]:
    """Record at the end of `forward` what `backward` reads of its values; recompute the cheap ones.
    With `again`, replay the iteration instead where it can (see `replay`)."""
    backward = reuse(sweep, forward, backward)
    if again and (replayed := replay(sweep, forward, backward, starts, keep)) is not None:
        return replayed
    defined = list(starts)
    for stmt in forward:
        defined.extend(ir.defs(stmt))
    here = set(defined)
    changed = {s.args[0].name for s in ir.walk(forward) if isinstance(s, Effect) and s.args and isinstance(s.args[0], Var)}
    changing = ir.reach(changed, sweep.alias_links()) if changed else set()
    wanted = (ir.free_names(backward) & here) - set(keep)
    recompute = _read_where_appended(sweep, forward, wanted, keep)
    pending = list(wanted)
    while pending:
        name = pending.pop()
        definition = sweep.definition.get(name)
        if definition is not None and name not in recompute and cheap(sweep, definition, changing, set(keep)):
            recompute[name] = definition
            for arg in definition.args:
                if isinstance(arg, Var) and arg.name in here and arg.name not in wanted and arg.name not in keep:
                    wanted.add(arg.name)
                    pending.append(arg.name)
    recorded = [n for n in defined if n in wanted and n not in recompute and n not in keep]
    recorded = _one_of_recorded(sweep, recorded, recompute, here)
    mapping: dict[str, Operand] = dict(keep)
    if not recorded and not recompute:
        return forward, ir.rename(backward, mapping)
    prologue: list[Stmt] = []
    loc = loc or sweep.function.loc
    if recorded:
        targets = tuple(sweep.namer.fresh(n) for n in recorded)
        mapping.update({n: Var(t) for n, t in zip(recorded, targets)})
        sweep.slots += 1
        prologue.append(ir.Pop(targets, tuple(sweep.types[n] for n in recorded), loc, sweep.slots))
        for name, target in zip(recorded, targets):
            sweep.types[target] = sweep.types[name]
        forward = (*forward, ir.Push(tuple(Var(n) for n in recorded), loc, sweep.slots))
    for name in defined:
        if name in recompute:
            stmt = recompute[name]
            target = sweep.namer.fresh(name)
            sweep.types[target] = stmt.type
            prologue.append(Assign(target, stmt.op, tuple(ir.substitute(a, mapping) for a in stmt.args), stmt.type, stmt.loc))
            mapping[name] = Var(target)
    return forward, (*prologue, *ir.rename(backward, mapping))


def _read_where_appended(sweep: Reverse, forward: ir.Block, wanted: set[str], keep: Mapping[str, Operand]) -> dict[str, Assign]:
    """The numbers and arrays the iteration appended at its loop's index to a list whose items never change
    (`hidden.append(h)`, `ir.appended_at_index`): the reverse iteration reads them there, `h = hidden[j]`,
    instead of recording them a second time beside the list."""
    found: dict[str, Assign] = {}
    for stmt in forward:
        index = sweep.appended_at.get(stmt) if isinstance(stmt, Effect) else None
        if not isinstance(stmt, Effect) or index is None or index not in keep:
            continue
        items, value = stmt.args[0], stmt.args[1]
        if (
            isinstance(items, Var)
            and isinstance(value, Var)
            and value.name in wanted
            and items.name in sweep.appended_only
            and not isinstance(sweep.types.get(value.name), ir.ListOf)
        ):
            found[value.name] = Assign(value.name, "index", (items, Var(index)), sweep.types[value.name], stmt.loc)
    return found


def _one_of_recorded(sweep: Reverse, recorded: list[str], recompute: dict[str, Assign], here: set[str]) -> list[str]:
    """What is left to record once the numbers computed by one operation from another recorded number are
    computed again instead (`math.sin(x)` next to `x`): one value per iteration where a hand-written gradient
    keeps one, for the price of that one operation in the reverse sweep."""
    kept = set(recorded)
    for name in recorded:
        stmt = sweep.definition.get(name)
        if stmt is None or stmt.type != ir.FLOAT or not sweep.rules[stmt.op].pure or sweep.rules[stmt.op].structural:
            continue
        inside = [a.name for a in stmt.args if isinstance(a, Var) and a.name in here]
        if len(inside) == 1 and inside[0] in kept and inside[0] != name:
            kept.discard(name)
            recompute[name] = stmt
    return [n for n in recorded if n in kept]


def replay(
    sweep: Reverse, forward: ir.Block, backward: ir.Block, starts: tuple[str, ...], keep: Mapping[str, Operand]
) -> tuple[ir.Block, ir.Block] | None:
    """The reverse iteration computes what it reads of the forward one again, instead of taping it.

    Possible when what it reads does not depend on the loop's carried values
    (so the loop only accumulates, `total += f(x[i])`, as a sum over
    samples does), nor on a list something mutates, and computing it again
    changes nothing else. The forward loop then records nothing; when
    nothing else needs its results either, it is dead and the gradient is
    one loop, as one would write it by hand. None when it is not possible.
    """
    defined = set(starts)
    for stmt in forward:
        defined.update(ir.defs(stmt))
    needed = (ir.free_names(backward) & defined) - set(keep)
    if not needed.isdisjoint(starts):  # the reverse reads a carried value as this iteration saw it
        return None
    raising = _raising_apart_from(sweep, forward, starts)
    chosen: list[Stmt] = []
    for stmt in reversed(forward):  # what computes `needed`, whatever records on the tape, and what may raise
        inner = list(ir.walk((stmt,)))
        if (
            any(isinstance(s, ir.Push) for s in inner)
            or any(n in needed for s in inner for n in ir.defs(s))
            or any(isinstance(s, Assign) and s.target in raising for s in inner)
        ):
            chosen.append(stmt)
            needed.update(ir.free_names((stmt,)))
    if not chosen:
        return None
    again = tuple(reversed(chosen))
    if ir.free_names(again) & set(starts):
        return None
    for stmt in ir.walk(again):
        if isinstance(stmt, (Effect, ir.Pop)) or (isinstance(stmt, Assign) and not sweep.rules[stmt.op].pure):
            return None
        if not sweep.mutated.isdisjoint((*ir.defs(stmt), *ir.used_names(stmt))):  # a list that changes
            return None

    def fresh(name: str) -> str:
        new = sweep.namer.fresh(name)
        if name in sweep.types:
            sweep.types[new] = sweep.types[name]
        return new

    copy, mapping = ir.renamed_copy(again, fresh)
    for name in [n for s in ir.walk(again) for n in ir.defs(s) if n in sweep.checks]:  # the copy raises instead
        del sweep.checks[name]
        sweep.checks[mapping[name].name] = None  # type: ignore[union-attr]
    mapping.update(keep)
    note = Note("this iteration again (the loop only accumulates: nothing is taped)")
    return ir.without_pushes(forward), (note, *ir.rename(copy, keep), *ir.rename(backward, mapping))


def _raising_apart_from(sweep: Reverse, forward: ir.Block, starts: tuple[str, ...]) -> set[str]:
    """The checks of a forward iteration that a replay can compute again: pure statements that depend
    on no carried value (a dead `t = math.exp(x * i)` raises in the reverse iteration instead)."""
    carried = set(starts)
    movable: set[str] = set()
    for stmt in forward:
        inner = list(ir.walk((stmt,)))
        if ir.free_names((stmt,)) & carried or any(
            isinstance(s, (Effect, ir.Pop))
            or (isinstance(s, Assign) and not sweep.rules[s.op].pure)
            or not sweep.mutated.isdisjoint((*ir.defs(s), *ir.used_names(s)))
            for s in inner
        ):
            carried.update(n for s in inner for n in ir.defs(s))
        else:
            movable.update(s.target for s in inner if isinstance(s, Assign) and s.target in sweep.checks)
    return movable


def reuse(sweep: Reverse, forward: ir.Block, backward: ir.Block) -> ir.Block:
    """A value the reverse block computes that its forward block computed too is read from the
    forward block (and recorded once), not computed again: `cos(x)` next to a forward `cos(x)`."""
    computed = {
        (s.op, s.args): s.target
        for s in forward
        if isinstance(s, Assign) and sweep.rules[s.op].pure and not sweep.rules[s.op].structural
    }
    mapping: dict[str, Operand] = {}
    kept: list[Stmt] = []
    for stmt in backward:
        stmt = ir.rename_statement(stmt, mapping) if isinstance(stmt, Assign) else stmt
        if isinstance(stmt, Assign) and (stmt.op, stmt.args) in computed:
            mapping[stmt.target] = Var(computed[(stmt.op, stmt.args)])
            continue
        kept.append(stmt)
    return ir.rename(tuple(kept), mapping)


def cheap(sweep: Reverse, stmt: Assign, changing: set[str], indices: set[str]) -> bool:
    """Whether the reverse sweep should recompute this value rather than record it.

    Cheap are: a copy (another name for its operand), reading a list that cannot have changed since (never mutated,
    or only appended to outside this loop and read at a loop index or a
    constant position), integer arithmetic, and one arithmetic operation
    on a value and a constant. `changing` are the lists this loop mutates,
    `indices` the loop indices.
    """
    items = stmt.args[0] if stmt.args else None
    if sweep.rules[stmt.op].copy and isinstance(items, Var):
        return True  # another name for a value: read it under that name (one list is taped once)
    cheap = sweep.rules[stmt.op].cheap
    if cheap in ("element", "length"):
        if not (isinstance(items, Var) and items.name in sweep.mutated):
            return True
        position = stmt.args[1] if cheap == "element" else None
        stable_position = (
            isinstance(position, Const) and position.value >= 0 or (isinstance(position, Var) and position.name in indices)
        )
        return cheap == "element" and items.name not in changing and items.name in sweep.appended_only and stable_position
    if cheap in ("int", "arith") and stmt.type == INT:
        return True
    variables = [a for a in stmt.args if isinstance(a, Var)]
    return cheap == "arith" and len(variables) <= 1
