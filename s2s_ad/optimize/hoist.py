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
    mutated = mutated_lists(function, rules)
    direct = _directly_mutated(function, rules)
    length_of: dict[str, str] = {}  # n -> the list whose len(...) n is
    same: dict[str, str] = {}  # a list -> a list of the same length (zeros_like)
    for stmt in ir.walk(function.body):
        if isinstance(stmt, Assign) and rules[stmt.op].cheap == "length" and isinstance(stmt.args[0], Var):
            length_of[stmt.target] = stmt.args[0].name
        elif isinstance(stmt, Assign) and rules[stmt.op].like and isinstance(stmt.args[0], Var):
            same[stmt.target] = stmt.args[0].name

    def root(name: str) -> str:
        while name in same:
            name = same[name]
        return name

    def movable(stmt: Stmt, inside: set[str], bounded: set[tuple[str, str]]) -> bool:
        if not isinstance(stmt, Assign) or not rules[stmt.op].reads_list:
            return False
        if not isinstance(stmt.args[0], Var):
            return False
        items = stmt.args[0].name
        if any(isinstance(a, Var) and a.name in inside for a in stmt.args):
            return False
        if rules[stmt.op].cheap == "length":
            return items not in mutated
        position = stmt.args[1]
        if items in direct or (not isinstance(stmt.type, ir.ListOf) and items in mutated):
            return False
        return isinstance(position, Var) and (position.name, root(items)) in bounded

    def block(statements: ir.Block, bounded: set[tuple[str, str]]) -> ir.Block:
        out: list[Stmt] = []
        for stmt in statements:
            if isinstance(stmt, ir.For):
                inner = set(bounded)
                if (
                    isinstance(stmt.start, ir.Const)
                    and stmt.start.value >= 0
                    and stmt.step == ir.Const(1)
                    and isinstance(stmt.stop, Var)
                    and stmt.stop.name in length_of
                ):
                    inner.add((stmt.index, root(length_of[stmt.stop.name])))
                body = block(stmt.body, inner)
                inside = {n for s in ir.walk(body) for n in ir.defs(s)} | set(ir.defs(stmt))
                kept: list[Stmt] = []
                for s in body:  # in order: what a moved read defines is outside the loop for the next ones
                    if movable(s, inside, bounded):
                        out.append(s)
                        inside.difference_update(ir.defs(s))
                    else:
                        kept.append(s)
                out.append(ir.with_blocks(stmt, lambda _b, kept=tuple(kept): kept))  # type: ignore[misc]
            else:
                out.append(ir.with_blocks(stmt, lambda b: block(b, bounded)))
        return tuple(out)

    return replaced(function, block(function.body, set()), function.returns)


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
    return ir.aliases(function, changed, rules)
