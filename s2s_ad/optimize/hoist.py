"""Loop-invariant list reads and lengths move out of loops where the read cannot fail."""

from __future__ import annotations

from collections.abc import Mapping

from .. import ir
from ..ir import Assign, Function, Stmt, Var
from ..rules import RULES, Rule
from .common import mutated_lists, replaced


def hoist(function: Function, rules: Mapping[str, Rule] = RULES) -> Function:
    """A read of a list that a loop does not change, at a position the loop does not change, moves out of
    the loop (`row = X[i]` before `for k in ...: row[k]`), when the read cannot fail where the loop
    would not have run: its position is the index of an enclosing loop over `range(len(that list))`.
    Lengths move out too (of lists nothing resizes)."""
    if not any(isinstance(stmt, ir.For) for stmt in ir.walk(function.body)):
        return function
    return replaced(function, _Hoisting(function, rules).block(function.body, set()), function.returns)


class _Hoisting:
    """What the function says of its lists: which something changes, which lengths are of which list,
    which lists have the same length. `bounded` holds (index, list) for each enclosing loop whose
    index is a position of that list."""

    def __init__(self, function: Function, rules: Mapping[str, Rule]) -> None:
        self.rules = rules
        self.mutated = mutated_lists(function, rules)
        self.direct = _directly_mutated(function, rules)
        self.length_of: dict[str, str] = {}  # n -> the list whose len(...) n is
        self.same: dict[str, str] = {}  # a list -> a list of the same length (zeros_like)
        for stmt in ir.walk(function.body):
            if isinstance(stmt, Assign) and rules[stmt.op].cheap == "length" and isinstance(stmt.args[0], Var):
                self.length_of[stmt.target] = stmt.args[0].name
            elif isinstance(stmt, Assign) and rules[stmt.op].like and isinstance(stmt.args[0], Var):
                self.same[stmt.target] = stmt.args[0].name

    def root(self, name: str) -> str:
        while name in self.same:
            name = self.same[name]
        return name

    def movable(self, stmt: Stmt, inside: set[str], bounded: set[tuple[str, str]]) -> bool:
        if not isinstance(stmt, Assign) or not self.rules[stmt.op].reads_list:
            return False
        if not isinstance(stmt.args[0], Var):
            return False
        items = stmt.args[0].name
        if any(isinstance(a, Var) and a.name in inside for a in stmt.args):
            return False
        if self.rules[stmt.op].cheap == "length":
            return items not in self.mutated
        position = stmt.args[1]
        if items in self.direct or (not isinstance(stmt.type, ir.ListOf) and items in self.mutated):
            return False
        return isinstance(position, Var) and (position.name, self.root(items)) in bounded

    def block(self, statements: ir.Block, bounded: set[tuple[str, str]]) -> ir.Block:
        out: list[Stmt] = []
        for stmt in statements:
            if isinstance(stmt, ir.For):
                out.extend(self.loop(stmt, bounded))
            else:
                out.append(ir.with_blocks(stmt, lambda b: self.block(b, bounded)))
        return tuple(out)

    def loop(self, stmt: ir.For, bounded: set[tuple[str, str]]) -> list[Stmt]:
        """The reads that move out of the loop, then the loop without them."""
        inner = set(bounded)
        if (
            isinstance(stmt.start, ir.Const)
            and stmt.start.value >= 0
            and stmt.step == ir.Const(1)
            and isinstance(stmt.stop, Var)
            and stmt.stop.name in self.length_of
        ):
            inner.add((stmt.index, self.root(self.length_of[stmt.stop.name])))
        body = self.block(stmt.body, inner)
        inside = {n for s in ir.walk(body) for n in ir.defs(s)} | set(ir.defs(stmt))
        moved: list[Stmt] = []
        kept: list[Stmt] = []
        for s in body:  # in order: what a moved read defines is outside the loop for the next ones
            if self.movable(s, inside, bounded):
                moved.append(s)
                inside.difference_update(ir.defs(s))
            else:
                kept.append(s)
        return [*moved, ir.with_blocks(stmt, lambda _b: tuple(kept))]


def _directly_mutated(function: Function, rules: Mapping[str, Rule]) -> set[str]:
    """Lists whose own slots something changes (not through a row they hold), with their copies."""
    changed = {
        s.args[0].name
        for s in ir.walk(function.body)
        if isinstance(s, (ir.Effect, Assign))
        and (isinstance(s, ir.Effect) or rules[s.op].overwrites)
        and s.args
        and isinstance(s.args[0], Var)
    }
    changed |= {t for s in ir.walk(function.body) if isinstance(s, ir.Pop) for t in s.targets}
    return ir.aliases(function, changed, rules, rows=False)
