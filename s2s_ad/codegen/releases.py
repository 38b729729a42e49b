"""Arrays let go of as soon as nothing reads them: `del logits, shifted` after their last reader.

A Python function holds every local until it returns, so a gradient on
arrays would hold each array of the forward sweep, and each adjoint, to the
end: for a batch of a thousand rows, a dozen arrays of scores live at once
where three would do, and the reverse sweep writes into memory the cache no
longer holds. (A softmax-regression gradient runs 1.7x faster with its arrays
released: `benchmarks/bench_numpy.py`.) So the printer writes `del` after the
statement of the function's body that last reads an array; what the reverse
sweep reads of the forward sweep stays to its last use there, and the line
shows which values those are.

Only a name bound for certain is released (assigned in the body itself, not
only inside a branch or a loop), only an array whose size the arguments set
(a named or computed size: fixed small arrays are not worth a line), and
never a parameter (the caller holds it) or what the function returns. Names
are the printed ones: a temporary printed inside its reader's expression is
read where that expression is.
"""

from __future__ import annotations

from collections.abc import Mapping

from .. import ir
from ..ir import Assign, Function, Stmt, Var


def releases(function: Function, names: Mapping[str, str], inlined: Mapping[str, Assign]) -> dict[int, list[str]]:
    """For each position in the function's body, the printed names of arrays last read by its statement."""
    types = ir.types_of(function)
    if not any(_sized_by_arguments(t) for t in types.values()):
        return {}  # no array to let go of (scalar code): nothing to find
    printed: dict[str, set[str]] = {}
    for name in ir.all_names(function):
        printed.setdefault(names.get(name, name), set()).add(name)
    params = {names.get(p.name, p.name) for p in function.params}
    returned = {names.get(o.name, o.name) for o in _reads_of(list(ir.return_operands(function.returns)), inlined)}
    bound: dict[str, int] = {}  # printed name -> first position of the body that surely binds it
    last: dict[str, int] = {}
    for k, stmt in enumerate(function.body):
        for inner in ir.walk((stmt,)):
            if isinstance(inner, Assign) and inner.target in inlined:
                continue
            for read in _reads_of(list(ir.operands(inner)), inlined):
                last[names.get(read.name, read.name)] = k
        if not (isinstance(stmt, Assign) and stmt.target in inlined):
            for target in _bound_by(stmt):
                bound.setdefault(names.get(target, target), k)
    found: dict[int, list[str]] = {}
    for name, k in last.items():
        if name in params or name in returned or bound.get(name, k + 1) > k:
            continue
        if all(_sized_by_arguments(types.get(n)) for n in printed.get(name, {name})):
            found.setdefault(k, []).append(name)
    return {k: sorted(v) for k, v in found.items()}


def _reads_of(operands: list[ir.Operand], inlined: Mapping[str, Assign]) -> list[Var]:
    """The names a printed expression reads: an inlined temporary reads what its own expression reads."""
    found: list[Var] = []
    for operand in operands:
        if not isinstance(operand, Var):
            continue
        if operand.name in inlined:
            found += _reads_of(list(inlined[operand.name].args), inlined)
        else:
            found.append(operand)
    return found


def _bound_by(stmt: Stmt) -> tuple[str, ...]:
    """Names a statement of the body binds whenever it runs."""
    if isinstance(stmt, Assign):
        return (stmt.target,)
    if isinstance(stmt, ir.Pop):
        return stmt.targets
    return ()


def _sized_by_arguments(type_: ir.Type | None) -> bool:
    return isinstance(type_, ir.ArrayOf) and any(not isinstance(size, int) for size in type_.shape)
