"""IR -> IR clean-ups, each a small pure function, run as one short list.

Every pass keeps IEEE semantics: constants are folded only where Python
would compute the same value, identities are only the exact ones (see
`ir.fold`), and nothing with an effect on a list or the tape is dropped.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from . import ir
from .ir import Assign, Function, Operand, Stmt, Var
from .rules import RULES, Rule

Pass = Callable[[Function, Mapping[str, Rule]], Function]


def optimize(function: Function, rules: Mapping[str, Rule] = RULES) -> Function:
    for step in PASSES:
        function = step(function, rules)
    return function


def propagate(function: Function, rules: Mapping[str, Rule] = RULES) -> Function:
    """Copy propagation and constant folding: `a = b` disappears and `a` reads `b`."""
    mapping: dict[str, Operand] = {}

    def rewrite(block: ir.Block) -> ir.Block:
        out: list[Stmt] = []
        for stmt in block:
            if isinstance(stmt, Assign):
                args = tuple(ir.substitute(a, mapping) for a in stmt.args)
                if stmt.op == "copy":
                    mapping[stmt.target] = args[0]
                    continue
                folded = ir.fold(rules, stmt.op, args) if rules[stmt.op].pure else None
                if folded is not None:
                    mapping[stmt.target] = folded
                    continue
                out.append(Assign(stmt.target, stmt.op, args, stmt.type, stmt.loc))
            else:
                out.append(stmt)
        return tuple(out)

    body = rewrite(function.body)
    return _replace(function, body, _map_returns(function.returns, mapping))


def common_subexpressions(function: Function, rules: Mapping[str, Rule] = RULES) -> Function:
    """The same pure primitive of the same operands is computed once."""
    mapping: dict[str, Operand] = {}
    seen: dict[tuple[str, tuple[Operand, ...]], str] = {}
    out: list[Stmt] = []
    for stmt in function.body:
        if isinstance(stmt, Assign):
            args = tuple(ir.substitute(a, mapping) for a in stmt.args)
            key = (stmt.op, args)
            if rules[stmt.op].pure and key in seen:
                mapping[stmt.target] = Var(seen[key])
                continue
            seen.setdefault(key, stmt.target)
            stmt = Assign(stmt.target, stmt.op, args, stmt.type, stmt.loc)
        out.append(stmt)
    return _replace(function, tuple(out), _map_returns(function.returns, mapping))


def dead_code(function: Function, rules: Mapping[str, Rule] = RULES) -> Function:
    """Drop pure assignments whose value nobody reads."""
    live = {o.name for o in ir.return_operands(function.returns) if isinstance(o, Var)}
    kept: list[Stmt] = []
    for stmt in reversed(function.body):
        if isinstance(stmt, Assign) and rules[stmt.op].pure and stmt.target not in live:
            continue
        live.update(ir.used_names(stmt))
        kept.append(stmt)
    kept.reverse()
    return _replace(function, _drop_empty_notes(kept), function.returns)


def _drop_empty_notes(block: list[Stmt]) -> ir.Block:
    """A `# reverse sweep` note with nothing after it says nothing."""
    while block and isinstance(block[-1], ir.Note):
        block.pop()
    return tuple(block)


def _map_returns(returns: ir.Returns, mapping: Mapping[str, Operand]) -> ir.Returns:
    if isinstance(returns, tuple):
        return tuple(_map_returns(r, mapping) for r in returns)
    return ir.substitute(returns, mapping)


def _replace(function: Function, body: ir.Block, returns: ir.Returns) -> Function:
    return Function(function.name, function.params, body, returns, function.loc, function.sources)


PASSES: tuple[Pass, ...] = (propagate, common_subexpressions, propagate, dead_code)
