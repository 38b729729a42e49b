"""What the passes share: rebuilding a function, renaming its returns, a lazy Namer, list mutations."""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Mapping

from .. import ir
from ..ir import Assign, Function, Operand, Stmt, Var
from ..rules import Rule

Pass = Callable[[Function, Mapping[str, Rule]], Function]


def replaced(function: Function, body: ir.Block, returns: ir.Returns) -> Function:
    return dataclasses.replace(function, body=body, returns=returns)


def map_returns(returns: ir.Returns, mapping: Mapping[str, Operand]) -> ir.Returns:
    if isinstance(returns, tuple):
        return tuple(map_returns(r, mapping) for r in returns)
    return ir.substitute(returns, mapping)


def namer_for(function: Function) -> Callable[[], ir.Namer]:
    """A Namer over the function's names, made when first asked for (most runs of a pass need none)."""
    return functools.cache(lambda: ir.Namer(ir.all_names(function)))


def drop_trailing_notes(block: list[Stmt]) -> ir.Block:
    """A `# reverse sweep` note with nothing after it says nothing."""
    while block and isinstance(block[-1], ir.Note):
        block.pop()
    return tuple(block)


def has_effect(block: ir.Block, rules: Mapping[str, Rule]) -> bool:
    return any(
        isinstance(s, (ir.Effect, ir.Push, ir.Pop)) or (isinstance(s, Assign) and not rules[s.op].pure) for s in ir.walk(block)
    )


def mutated_lists(function: Function, rules: Mapping[str, Rule]) -> set[str]:
    """Lists something mutates, and every list that may be the same object or hold it as a row."""
    mutated: set[str] = set()
    for stmt in ir.walk(function.body):
        if isinstance(stmt, ir.Effect) and stmt.args and isinstance(stmt.args[0], Var):
            mutated.add(stmt.args[0].name)
        elif isinstance(stmt, Assign) and rules[stmt.op].overwrites and isinstance(stmt.args[0], Var):
            mutated.add(stmt.args[0].name)
        elif isinstance(stmt, ir.Pop):
            mutated.update(t for t, ty in zip(stmt.targets, stmt.types) if isinstance(ty, ir.ListOf))
    return ir.aliases(function, mutated, rules)
