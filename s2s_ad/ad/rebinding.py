"""Lists rebound in a branch or a loop (`v = [a * v[i] for i in ...]` in each iteration): one adjoint per list.

A list's adjoint is one list object, shared by every name of the list (`w = v`
gives `w` the adjoint of `v`). A name rebound in a branch (a merge) or in a
loop (a carried list) is one of several lists when the code runs, so it gets an
adjoint list of its own, allocated where the reverse sweep of its block begins.
Where the reverse sweep reaches the point at which the list was chosen, that
adjoint is passed on (`pass_on`) to the list that was chosen there:

- a list made in that branch or in that iteration takes it as its own adjoint
  (`_acc_bar` is `v_bar`): nothing is copied;
- any other list (a loop's list from the iteration before, a list from before
  the branch) gets it added element by element (`add_into`).

Adding is exact while nothing changes the lists in place: an element written
again, or a list grown or shrunk, would be undone on one of the two adjoints
only. `refusal` therefore refuses a change in place of a list, or of any
copy of it, once it has met another at a merge or a loop; a list made in an
iteration may be changed freely before it becomes the loop's list.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .. import ir
from ..ir import INT, Assign, Const, Effect, For, Loc, Operand, Stmt, Var
from ..rules import Rule

if TYPE_CHECKING:
    from .reverse import Reverse


def pass_on(sweep: Reverse, source: Operand, bar: Operand, block: ir.Block, loc: Loc) -> None:
    """The adjoint `bar` of a list rebound to `source`: `source`'s own, if `block` makes that list (it is
    allocated next, as `bar` itself); else added into `source`'s adjoint."""
    if not sweep.active(source):
        return
    assert isinstance(source, Var)
    root = _copied_from(sweep, source.name)
    made_here = {s.target for s in block if isinstance(s, Assign)} | {n for s in block for n in _merged_or_carried(s)}
    if root in made_here:
        sweep.preset[root] = bar
    else:
        add_into(sweep, sweep.adjoint_of_list(Var(root), loc), bar, sweep.types[root], loc)


def allocated(sweep: Reverse, made: Operand, name: str, loc: Loc) -> Operand:
    """The adjoint of the list `name`, just allocated as `made`, where a rebinding handed it one already:
    that one instead of new zeros, or, where the list's adjoint is made of others (rows), added into it."""
    given = sweep.preset.pop(name, None)
    if given is None:
        return made
    last = sweep.out[-1] if sweep.out else None
    if isinstance(last, Assign) and Var(last.target) == made and sweep.rules[last.op].like and last.args == (Var(name),):
        sweep.out.pop()
        return given
    add_into(sweep, made, given, sweep.types[name], loc)
    return made


def add_into(sweep: Reverse, target: Operand, addend: Operand, type_: ir.Type, loc: Loc) -> None:
    """`target[j] += addend[j]` for every element, at every depth of a list of lists."""
    sweep.out.append(_added(sweep, target, addend, type_, loc))


def _added(sweep: Reverse, target: Operand, addend: Operand, type_: ir.Type, loc: Loc) -> Stmt:
    assert isinstance(type_, ir.ListOf)
    count = _temp(sweep, INT)
    index = sweep.fresh("_j", INT)
    head = Assign(count, "len", (target,), INT, loc)
    sweep.out.append(head)
    element = _temp(sweep, type_.elem)
    read = Assign(element, "index", (addend, Var(index)), type_.elem, loc)
    if isinstance(type_.elem, ir.ListOf):
        row = _temp(sweep, type_.elem)
        saved, sweep.out = sweep.out, []
        inner = _added(sweep, Var(row), Var(element), type_.elem, loc)
        body: tuple[Stmt, ...] = (read, Assign(row, "index", (target, Var(index)), type_.elem, loc), *sweep.out, inner)
        sweep.out = saved
    else:
        body = (read, Effect("accum_item", (target, Var(index), Var(element)), loc))
    return For(index, Const(0), Var(count), Const(1), (), body, None, loc)


def _temp(sweep: Reverse, type_: ir.Type) -> str:
    name = sweep.namer.temp()
    sweep.types[name] = type_
    return name


def _copied_from(sweep: Reverse, name: str) -> str:
    """The list `name` is a copy of (through copies of copies), or itself."""
    while (stmt := sweep.definition.get(name)) is not None and sweep.rules[stmt.op].copy and isinstance(stmt.args[0], Var):
        name = stmt.args[0].name
    return name


def _merged_or_carried(stmt: Stmt) -> tuple[str, ...]:
    if isinstance(stmt, ir.If):
        return tuple(m.target for m in stmt.merges)
    if isinstance(stmt, (ir.For, ir.While)):
        return tuple(c.result for c in stmt.carried)
    return ()


def rebound_lists(stmt: Stmt) -> Iterator[tuple[str, Loc | None]]:
    """The lists a branch merges or a loop carries (their names after it), with where they are assigned."""
    if isinstance(stmt, ir.If):
        yield from ((m.target, stmt.loc) for m in stmt.merges if isinstance(m.type, ir.ListOf))
    elif isinstance(stmt, (ir.For, ir.While)):
        yield from ((c.result, c.loc or stmt.loc) for c in stmt.carried if isinstance(c.type, ir.ListOf))


def refusal(function: ir.Function, rules: Mapping[str, Rule], active: set[str]) -> tuple[Loc, str] | None:
    """Where a list is changed in place after it met another at a merge or a loop (see the module's
    docstring), and its name; None if nowhere."""
    statements = list(ir.walk(function.body))
    where = {id(s): k for k, s in enumerate(statements)}
    group = _copy_groups(statements, rules)
    guards: list[_Guard] = []
    for position, stmt in enumerate(statements):
        if isinstance(stmt, ir.If):
            inside = {n for s in ir.walk((stmt,)) for n in ir.defs(s)} - set(_merged_or_carried(stmt))
            met: list[Operand] = []
            for m in stmt.merges:
                if isinstance(m.type, ir.ListOf) and m.target in active:
                    met += [Var(m.target), *(o for o in (m.then, m.orelse) if isinstance(o, Var) and o.name not in inside)]
            guards.append(_Guard(position, _grouped(met, group), frozenset(), position))
        elif isinstance(stmt, (ir.For, ir.While)):
            made = {n for block in ir.blocks_of(stmt) for s in ir.walk(block) for n in ir.defs(s)}
            for c in stmt.carried:
                if isinstance(c.type, ir.ListOf) and c.header in active:
                    names = _grouped([Var(c.header), Var(c.result), c.init, c.update], group)
                    # A list made in the iteration may change until it becomes the loop's list (`R = C`).
                    becomes = _defined_at(statements, where, c.update, position)
                    guards.append(_Guard(position, names, frozenset(names & made), becomes))
    for position, stmt in enumerate(statements):
        changed = _changed_list(stmt, rules)
        if changed is not None and any(g.refuses(position, changed) for g in guards):
            loc = stmt.loc if isinstance(stmt, (Assign, Effect)) else function.loc
            return loc, ir.family(changed)
    return None


@dataclass(frozen=True)
class _Guard:
    """From `start` on, no change in place to `names`; except to `free` ones before position `until`."""

    start: int
    names: set[str]
    free: frozenset[str]
    until: int

    def refuses(self, position: int, changed: str) -> bool:
        return position > self.start and changed in self.names and not (changed in self.free and position < self.until)


def _grouped(met: list[Operand], group: Mapping[str, set[str]]) -> set[str]:
    return {n for o in met if isinstance(o, Var) for n in group.get(o.name, {o.name})}


def _defined_at(statements: list[Stmt], where: Mapping[int, int], operand: Operand, default: int) -> int:
    """The position of the statement that defines `operand` (a loop's update), or `default`."""
    if isinstance(operand, Var):
        for k, stmt in enumerate(statements):
            if operand.name in ir.defs(stmt) and not isinstance(stmt, (ir.For, ir.While, ir.If)):
                return where.get(id(stmt), k)
    return default


def _changed_list(stmt: Stmt, rules: Mapping[str, Rule]) -> str | None:
    if isinstance(stmt, Effect) and stmt.args and isinstance(stmt.args[0], Var):
        return stmt.args[0].name
    if isinstance(stmt, Assign) and rules[stmt.op].overwrites and stmt.args and isinstance(stmt.args[0], Var):
        return stmt.args[0].name
    return None


def _copy_groups(statements: list[Stmt], rules: Mapping[str, Rule]) -> dict[str, set[str]]:
    """The names of one list object, as copies and rows make them (not merges or loops)."""
    links: dict[str, list[str]] = {}
    for stmt in statements:
        if isinstance(stmt, Assign) and isinstance(stmt.type, ir.ListOf) and (rules[stmt.op].copy or rules[stmt.op].shares):
            for arg in stmt.args:
                if isinstance(arg, Var):
                    links.setdefault(arg.name, []).append(stmt.target)
                    links.setdefault(stmt.target, []).append(arg.name)
    return {name: ir.reach({name}, links) for name in links}
