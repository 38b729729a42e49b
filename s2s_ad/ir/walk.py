"""Walking and rebuilding IR: the statements under a block, what a statement defines and reads, renaming."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator, Mapping

from .nodes import Assign, Block, Carry, Effect, For, If, Merge, Operand, Pop, Push, Returns, Stmt, Var, While


def blocks_of(stmt: Stmt) -> tuple[Block, ...]:
    if isinstance(stmt, If):
        return (stmt.then, stmt.orelse)
    if isinstance(stmt, For):
        return (stmt.body,)
    if isinstance(stmt, While):
        return (stmt.test, stmt.body)
    return ()


_COMPOUND = (If, For, While)
_COMPOUND_TYPES = frozenset(_COMPOUND)


def walk(block: Block) -> list[Stmt]:
    """Every statement, nested ones included, in program order (a list: cheaper to make than to yield)."""
    if _COMPOUND_TYPES.isdisjoint(map(type, block)):
        return list(block)
    found: list[Stmt] = []
    for stmt in block:
        found.append(stmt)
        if type(stmt) in _COMPOUND:
            for inner in blocks_of(stmt):
                found += walk(inner)
    return found


def defs(stmt: Stmt) -> tuple[str, ...]:
    """Names a statement itself defines (not those of its nested blocks)."""
    if isinstance(stmt, Assign):
        return (stmt.target,)
    if isinstance(stmt, Pop):
        return stmt.targets
    if isinstance(stmt, If):
        return tuple(m.target for m in stmt.merges)
    if isinstance(stmt, For):
        return (stmt.index, *(c.header for c in stmt.carried), *(c.result for c in stmt.carried))
    if isinstance(stmt, While):
        return (*(c.header for c in stmt.carried), *(c.result for c in stmt.carried))
    return ()


def operands(stmt: Stmt) -> tuple[Operand, ...]:
    """Operands a statement itself reads (not those of its nested blocks)."""
    if isinstance(stmt, (Assign, Effect)):
        return stmt.args
    if isinstance(stmt, Push):
        return stmt.values
    if isinstance(stmt, If):
        return (stmt.cond, *(m.then for m in stmt.merges), *(m.orelse for m in stmt.merges))
    if isinstance(stmt, For):
        bounds = (stmt.start, stmt.stop, stmt.step) + ((stmt.limit,) if stmt.limit else ())
        tail = (stmt.until,) if stmt.until else ()
        return (*bounds, *(c.init for c in stmt.carried), *(c.update for c in stmt.carried), *tail)
    if isinstance(stmt, While):
        tail = (stmt.until,) if stmt.until else ()
        return (stmt.cond, *(c.init for c in stmt.carried), *(c.update for c in stmt.carried), *tail)
    return ()


def used_names(stmt: Stmt) -> list[str]:
    found = stmt.args if isinstance(stmt, (Assign, Effect)) else operands(stmt)
    return [operand.name for operand in found if type(operand) is Var]


def return_operands(returns: Returns) -> Iterator[Operand]:
    if isinstance(returns, tuple):
        for item in returns:
            yield from return_operands(item)
    else:
        yield returns


def substitute(operand: Operand, mapping: Mapping[str, Operand]) -> Operand:
    if type(operand) is Var:
        return mapping.get(operand.name, operand)
    return operand


def rename(block: Block, mapping: Mapping[str, Operand]) -> Block:
    """The block with every use of a name in `mapping` replaced (definitions are kept)."""
    if not mapping:
        return block
    return tuple(rename_statement(stmt, mapping) for stmt in block)


def rename_statement(stmt: Stmt, mapping: Mapping[str, Operand]) -> Stmt:
    """One statement with its uses renamed (its nested blocks too)."""

    def sub(operand: Operand) -> Operand:
        return substitute(operand, mapping)

    def subs(operands: tuple[Operand, ...]) -> tuple[Operand, ...]:
        return tuple(sub(o) for o in operands)

    def carries(carried: tuple[Carry, ...]) -> tuple[Carry, ...]:
        return tuple(dataclasses.replace(c, init=sub(c.init), update=sub(c.update)) for c in carried)

    if isinstance(stmt, Assign):
        for a in stmt.args:
            if type(a) is Var and a.name in mapping:
                return Assign(stmt.target, stmt.op, subs(stmt.args), stmt.type, stmt.loc)
        return stmt
    if isinstance(stmt, Effect):
        return Effect(stmt.op, subs(stmt.args), stmt.loc, stmt.text)
    if isinstance(stmt, Push):
        return Push(subs(stmt.values), stmt.loc, stmt.slot)
    if isinstance(stmt, If):
        merges = tuple(Merge(m.target, m.type, sub(m.then), sub(m.orelse)) for m in stmt.merges)
        return If(sub(stmt.cond), rename(stmt.then, mapping), rename(stmt.orelse, mapping), merges, stmt.loc)
    if isinstance(stmt, For):
        return For(
            stmt.index,
            sub(stmt.start),
            sub(stmt.stop),
            sub(stmt.step),
            carries(stmt.carried),
            rename(stmt.body, mapping),
            sub(stmt.until) if stmt.until else None,
            stmt.loc,
            stmt.reverse,
            sub(stmt.limit) if stmt.limit else None,
        )
    if isinstance(stmt, While):
        return While(
            carries(stmt.carried),
            rename(stmt.test, mapping),
            sub(stmt.cond),
            rename(stmt.body, mapping),
            sub(stmt.until) if stmt.until else None,
            stmt.loc,
        )
    return stmt


def renamed_copy(block: Block, fresh: Callable[[str], str]) -> tuple[Block, dict[str, Operand]]:
    """A copy of `block` in which every name it defines, nested ones too, is a new one (`fresh(old)`),
    and its reads follow; with the renaming."""
    mapping: dict[str, Operand] = {name: Var(fresh(name)) for stmt in walk(block) for name in defs(stmt)}
    new = {old: var.name for old, var in mapping.items()}  # type: ignore[union-attr]
    return tuple(_redefine(rename_statement(stmt, mapping), new) for stmt in block), mapping


def _redefine(stmt: Stmt, new: Mapping[str, str]) -> Stmt:
    """The statement with the names it defines (in nested blocks too) renamed; its reads are left alone."""

    def name(old: str) -> str:
        return new.get(old, old)

    def carries(carried: tuple[Carry, ...]) -> tuple[Carry, ...]:
        return tuple(dataclasses.replace(c, header=name(c.header), result=name(c.result)) for c in carried)

    def block(statements: Block) -> Block:
        return tuple(_redefine(s, new) for s in statements)

    if isinstance(stmt, Assign):
        return Assign(name(stmt.target), stmt.op, stmt.args, stmt.type, stmt.loc)
    if isinstance(stmt, Pop):
        return Pop(tuple(name(t) for t in stmt.targets), stmt.types, stmt.loc, stmt.slot)
    if isinstance(stmt, If):
        merges = tuple(Merge(name(m.target), m.type, m.then, m.orelse) for m in stmt.merges)
        return If(stmt.cond, block(stmt.then), block(stmt.orelse), merges, stmt.loc)
    if isinstance(stmt, For):
        return For(
            name(stmt.index),
            stmt.start,
            stmt.stop,
            stmt.step,
            carries(stmt.carried),
            block(stmt.body),
            stmt.until,
            stmt.loc,
            stmt.reverse,
            stmt.limit,
        )
    if isinstance(stmt, While):
        return While(carries(stmt.carried), block(stmt.test), stmt.cond, block(stmt.body), stmt.until, stmt.loc)
    return stmt


def without_pushes(block: Block) -> Block:
    """The block with every `Push`, nested ones too, left out."""
    return tuple(with_blocks(s, without_pushes) for s in block if not isinstance(s, Push))


def with_blocks(stmt: Stmt, transform: Callable[[Block], Block]) -> Stmt:
    """The statement with each of its nested blocks replaced by `transform(block)`."""
    if isinstance(stmt, If):
        return If(stmt.cond, transform(stmt.then), transform(stmt.orelse), stmt.merges, stmt.loc)
    if isinstance(stmt, For):
        return For(
            stmt.index,
            stmt.start,
            stmt.stop,
            stmt.step,
            stmt.carried,
            transform(stmt.body),
            stmt.until,
            stmt.loc,
            stmt.reverse,
            stmt.limit,
        )
    if isinstance(stmt, While):
        return While(stmt.carried, transform(stmt.test), stmt.cond, transform(stmt.body), stmt.until, stmt.loc)
    return stmt
