"""Common subexpressions: the same pure operation on the same operands is computed once."""

from __future__ import annotations

from collections.abc import Mapping

from .. import ir
from ..ir import Assign, Function, Operand, Stmt, Var
from ..rules import RULES, Rule
from .common import map_returns, mutated_lists, replaced


def common_subexpressions(function: Function, rules: Mapping[str, Rule] = RULES) -> Function:
    """The same pure primitive of the same operands is computed once, within a block and the blocks
    it contains (so the reverse sweep reuses what the forward sweep computed)."""
    mapping: dict[str, Operand] = {}
    mutated = mutated_lists(function, rules)

    def shareable(stmt: Assign) -> bool:
        """Pure primitives, and reads of lists that nothing mutates (nor could through an alias)."""
        rule = rules[stmt.op]
        if rule.reads_list:
            return isinstance(stmt.args[0], (Var, ir.Global)) and stmt.args[0].name not in mutated
        return rule.pure and not rule.structural

    def block(statements: ir.Block, seen: dict[tuple[str, tuple[object, ...]], str]) -> ir.Block:
        out: list[Stmt] = []
        for stmt in statements:
            if isinstance(stmt, Assign):
                stmt = ir.rename_statement(stmt, mapping)
                assert isinstance(stmt, Assign)
                if shareable(stmt):
                    key = (stmt.op, tuple([a.name if type(a) is Var else ir.identity(a) for a in stmt.args]))
                    if key in seen:
                        mapping[stmt.target] = Var(seen[key])
                        continue
                    seen[key] = stmt.target
                out.append(stmt)
            elif isinstance(stmt, ir.If):
                then, orelse = block(stmt.then, dict(seen)), block(stmt.orelse, dict(seen))
                renamed = ir.rename_statement(ir.If(stmt.cond, (), (), stmt.merges, stmt.loc), mapping)
                assert isinstance(renamed, ir.If)
                out.append(ir.If(renamed.cond, then, orelse, renamed.merges, stmt.loc))
            elif isinstance(stmt, (ir.For, ir.While)):
                header = ir.rename_statement(_without_blocks(stmt), mapping)
                body = block(stmt.body, dict(seen))
                if isinstance(stmt, ir.For):
                    assert isinstance(header, ir.For)
                    out.append(
                        ir.For(
                            header.index,
                            header.start,
                            header.stop,
                            header.step,
                            header.carried,
                            body,
                            header.until,
                            stmt.loc,
                            stmt.reverse,
                            header.limit,
                        )
                    )
                else:
                    assert isinstance(header, ir.While)
                    test = block(stmt.test, dict(seen))
                    out.append(ir.While(header.carried, test, header.cond, body, header.until, stmt.loc))
            else:
                out.append(ir.rename_statement(stmt, mapping))
        return tuple(out)

    body = block(function.body, {})
    # Carried updates and merges may name values replaced inside the blocks: rename them once more.
    body = _rename_headers(body, mapping)
    return replaced(function, body, map_returns(function.returns, mapping))


def _rename_headers(block: ir.Block, mapping: Mapping[str, Operand]) -> ir.Block:
    """The block with uses renamed in the headers of its compound statements (merges, carried values,
    bounds, conditions), at every depth; other statements are kept as they are."""
    if not mapping:
        return block
    out: list[Stmt] = []
    for stmt in block:
        if isinstance(stmt, (ir.If, ir.For, ir.While)):
            header = ir.rename_statement(ir.with_blocks(stmt, lambda _: ()), mapping)  # the header alone
            inner = iter([_rename_headers(b, mapping) for b in ir.blocks_of(stmt)])
            stmt = ir.with_blocks(header, lambda _, blocks=inner: next(blocks))  # type: ignore[misc]
        out.append(stmt)
    return tuple(out)


def _without_blocks(stmt: ir.For | ir.While) -> ir.For | ir.While:
    if isinstance(stmt, ir.For):
        return ir.For(
            stmt.index, stmt.start, stmt.stop, stmt.step, stmt.carried, (), stmt.until, stmt.loc, stmt.reverse, stmt.limit
        )
    return ir.While(stmt.carried, (), stmt.cond, (), stmt.until, stmt.loc)
