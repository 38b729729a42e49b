"""Adjoints that are exactly zero: the shift of a stable softmax.

A softmax or a log-softmax is written stably by shifting first,
`s = x - x.max(axis=1, keepdims=True)`; what follows, `exp(s) / exp(s).sum(axis=1,
keepdims=True)` or `s - log(exp(s).sum(axis=1, keepdims=True))`, is the same
for `s + c` with any c that is the same along axis 1. So the derivative of
the output in the shift m, through s, is exactly zero: it is
`-sum(s_bar, axis=1)`, the derivative along that c. Backpropagated as it is
written, it is rounding noise (1e-17) reached by four passes over the scores
and the spread of a maximum's adjoint to its ties. Here it is not
backpropagated: the reverse sweep treats the edge m -> s as carrying nothing,
which is the exact derivative (the hand-written softmax gradient `p - y`
never has it either).

The proof is an abstract interpretation of the straight-line body: add c to s
and follow each value's change, "same", "plus" (c added) or "times" (times
exp(c)), through the operations whose rules say how (`Rule.shifts`; a
reduction along the shift's axis only, `Rule.along`). A value that does not
depend on s does not change. The edge is silent only if every output
differentiated is "same", and nothing else (a branch, a loop, a list, an
operation without a table) reads a changed value.
"""

from __future__ import annotations

from collections.abc import Mapping

from .. import ir
from ..ir import Assign, Const, Function, Type, Var
from ..rules import Rule, shapes

SAME, PLUS, TIMES = "same", "plus", "times"


def silent_edges(
    function: Function, rules: Mapping[str, Rule], types: Mapping[str, Type], outputs: tuple[Var, ...]
) -> frozenset[tuple[str, str]]:
    """(m, s) for each `s = x - m`, m an array of x's shape with one axis reduced to size 1, through which
    the adjoint that the outputs send m is exactly zero."""
    found = set()
    for stmt in function.body:
        if isinstance(stmt, Assign) and ((PLUS, PLUS), SAME) in rules[stmt.op].shifts:  # a difference
            x, m = stmt.args
            axis = _reduced_axis(types, x, m)
            if axis is not None and isinstance(m, Var) and _undone(function, stmt.target, axis, rules, types, outputs):
                found.add((m.name, stmt.target))
    return frozenset(found)


def _reduced_axis(types: Mapping[str, Type], x: ir.Operand, m: ir.Operand) -> int | None:
    """The axis (counted from the end) where m has size 1 and x more, every other size the same."""
    tx, tm = _type(types, x), _type(types, m)
    if not (shapes.is_array(tx) and shapes.is_array(tm)):
        return None
    dx, dm = shapes.dims(tx), shapes.dims(tm)
    if len(dx) != len(dm):
        return None
    different = [k for k, (a, b) in enumerate(zip(dx, dm)) if a != b]
    if len(different) != 1 or dm[different[0]] != 1 or dx[different[0]] in (1, shapes.UNKNOWN):
        return None
    return different[0] - len(dx)


def _undone(
    function: Function, start: str, axis: int, rules: Mapping[str, Rule], types: Mapping[str, Type], outputs: tuple[Var, ...]
) -> bool:
    """Whether adding c (the same along `axis`) to `start` changes no output."""
    change = {start: PLUS}
    body = list(function.body)
    begin = next(k for k, s in enumerate(body) if isinstance(s, Assign) and s.target == start)
    for stmt in body[begin + 1 :]:
        read = [n for inner in ir.walk((stmt,)) for n in ir.used_names(inner) if n in change]
        if not read:
            continue
        if not isinstance(stmt, Assign):
            return False
        result = _through(stmt, change, axis, rules[stmt.op], types)
        if result is None:
            return False
        if result != SAME:
            change[stmt.target] = result
    return not any(o.name in change for o in outputs)


def _through(stmt: Assign, change: Mapping[str, str], axis: int, rule: Rule, types: Mapping[str, Type]) -> str | None:
    """How the result changes, from its operands' changes; None where the rule does not say."""
    kinds = tuple(change.get(a.name, SAME) if isinstance(a, Var) else SAME for a in stmt.args)
    if rule.along:
        reduced = stmt.args[1]
        ndim = len(shapes.dims(_type(types, stmt.args[0])))
        if not (isinstance(reduced, Const) and isinstance(reduced.value, int)) or ndim == 0:
            return None
        if reduced.value % ndim - ndim != axis:
            return None
    return dict(rule.shifts).get(kinds)


def _type(types: Mapping[str, Type], operand: ir.Operand) -> Type:
    return types.get(operand.name, ir.FLOAT) if isinstance(operand, Var) else ir.FLOAT
