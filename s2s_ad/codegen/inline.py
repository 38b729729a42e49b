"""Which temporaries are printed inside the one expression that reads them, instead of on a line of their own.

`w_bar[j] += _t4 * X[i][j]` rather than `_t4 = ...` on the line before: it
saves a store and a load per temporary, and the code reads like the source
expression it came from. This is inlining at print time only: the IR keeps
every temporary. (`generate(fold=True)` asks for it; in the optimizer,
"folding" means constant folding, which this is not.)
Inlining must change no value and no effect, so a temporary is inlined only
where Python then evaluates everything in the order the statements did; the
rules here say where that holds. The printer reads the result (`inlined`)
and prints those temporaries as expressions; `names` gives them no name.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Mapping
from functools import cache

from .. import ir
from ..ir import Assign, Function, Operand, Var
from ..rules import Rule
from .spelling import template

# A temporary, or its adjoint or tangent, any version: the only names inlining may remove from the printed code.
_COMPILER_MADE = re.compile(r"^_t\d+(_bar|_dot)?(\.\d+)?$")


def inlined(function: Function, rules: Mapping[str, Rule]) -> dict[str, Assign]:
    """Temporaries printed inside the one expression that reads them (see `_inlined`), except a temporary whose
    adjoint is printed on a line of its own (`_t3_bar = math.cos(_t3)` goes with `_t3 = ...`), unless it only
    reads a list (`xs[k]` stays inline)."""
    first = _inlined(function, rules, frozenset())
    printed = {ir.family(n) for n in ir.all_names(function) if n not in first}
    adjointed = frozenset(f[: -len("_bar")] for f in printed if f.endswith("_bar"))
    return _inlined(function, rules, adjointed) if adjointed else first


def _inlined(function: Function, rules: Mapping[str, Rule], adjointed: frozenset[str]) -> dict[str, Assign]:
    """Temporaries printed inside the one expression that reads them (`w_bar[j] += _t4 * X[i][j]`), by name.

    A temporary (or a temporary's adjoint) that is read once is inlined into
    its reader when Python would then evaluate everything in the order the
    statements did: the reader is the next statement printed in the same
    block, and it reads the inlined values in the order they were computed.
    So inlining changes no value and no effect.
    """
    uses = ir.use_counts(function)
    result: dict[str, Assign] = {}

    def inlinable(stmt: Assign) -> bool:
        rule = rules[stmt.op]
        return (
            uses.get(stmt.target) == 1
            and rule.inline
            and _COMPILER_MADE.match(stmt.target) is not None
            and rule.pure
            and (ir.family(stmt.target) not in adjointed or rule.reads_list)  # `xs[k]` may stay inline
        )

    def block(statements: ir.Block, last_reads: tuple[Operand, ...] = ()) -> None:
        pending: list[Assign] = []  # inlinable, not yet read, in the order they were computed
        for stmt in statements:
            if isinstance(stmt, ir.Note):
                continue
            taken = _inlined_into(pending, _reads(stmt, rules))
            result.update((s.target, s) for s in taken)
            if isinstance(stmt, Assign) and inlinable(stmt):
                del pending[len(pending) - len(taken) :]
                pending.append(stmt)
            else:
                pending = []
            if isinstance(stmt, ir.While):
                block(stmt.test, (stmt.cond,))
                block(stmt.body)
            else:
                for inner in ir.blocks_of(stmt):
                    block(inner)
        for s in _inlined_into(pending, last_reads):
            result[s.target] = s

    block(function.body, tuple(ir.return_operands(function.returns)))
    return result


def _inlined_into(pending: list[Assign], reads: tuple[Operand, ...]) -> list[Assign]:
    """The pending temporaries a statement takes in: the longest run of the latest ones that it reads, each
    once, in the order they were computed (older ones are printed on their own lines before it)."""
    if not pending:
        return []
    order = {operand.name: i for i, operand in enumerate(reads) if isinstance(operand, Var)}
    k = len(pending)
    first_read = len(reads)  # where the run found so far is first read
    while k > 0 and (at := order.get(pending[k - 1].target)) is not None and at < first_read:
        k, first_read = k - 1, at
    return pending[k:]


def _reads(stmt: ir.Stmt, rules: Mapping[str, Rule]) -> tuple[Operand, ...]:
    """The operands of a statement where an inlined expression may stand, in the order Python evaluates them.

    Not where evaluation is conditional (`a if c else b`, `and`) or
    repeated (loop bounds are read once, but a loop is printed over several
    lines): there an inlined expression would run a different number of times.
    """
    if isinstance(stmt, (Assign, ir.Effect)):
        rule = rules[stmt.op]
        if rule.inline_operands is not None:
            return tuple(stmt.args[i] for i in rule.inline_operands)
        if rule.spell is None and not _in_order(rule.python):
            return ()
        return stmt.args
    if isinstance(stmt, ir.Push):
        return stmt.values
    if isinstance(stmt, ir.If):
        return (stmt.cond,)
    return ()


@cache
def _in_order(spelling: str) -> bool:
    """Whether a spelling evaluates each operand exactly once, in operand order."""
    holes = [int(i) for i in re.findall(r"\{(\d+)\}", spelling)]
    lazy = any(isinstance(node, (ast.IfExp, ast.BoolOp)) for node in ast.walk(template(spelling)))
    return holes == list(range(len(holes))) and not lazy
