"""Activity analysis: which values get adjoints (or tangents).

A value is active when it depends on a `wrt` parameter (varied) and the
outputs depend on it (useful). Only active values get adjoint or tangent
code; everything else is data the derived function reads as the primal does.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping

from .. import ir
from ..ir import Function, Var
from ..rules import RULES, Rule


def activity(
    function: Function,
    wrt: tuple[str, ...],
    rules: Mapping[str, Rule] = RULES,
    outputs: tuple[Var, ...] | None = None,
    silent: frozenset[tuple[str, str]] = frozenset(),
) -> set[str]:
    """Names that depend on a `wrt` parameter and that the outputs (by default: the result) depend on;
    `silent` edges (a, b), along which the derivative is exactly zero (`invariance`), do not count."""
    types = ir.types_of(function)
    forward: dict[str, list[str]] = defaultdict(list)
    backward: dict[str, list[str]] = defaultdict(list)
    for a, b in ir.dependencies(function, rules, types):
        if (a, b) in silent:
            continue
        forward[a].append(b)
        backward[b].append(a)
    varied = ir.reach(set(wrt), forward)
    if outputs is None:
        outputs = tuple(o for o in ir.return_operands(function.returns) if isinstance(o, Var))
    useful = ir.reach({o.name for o in outputs}, backward)
    return {n for n in varied & useful if ir.carries_derivative(types.get(n))}
