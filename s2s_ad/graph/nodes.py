"""The pieces of a computation graph, `Node` and `Loop`, and the errors of making one.

A node is one value of the function evaluated at a point: an input, or one
primitive applied once (loops are unrolled, so a primitive in a loop gives
one node per iteration). It carries its forward value, its adjoint and the
partial derivatives with respect to its operands; everything that draws or
prints a graph reads these fields. On NumPy arrays the value and the adjoint
are arrays of the same shape, and what flows back to each operand is kept
as it is (`flows`: an array shaped like the operand), since no one number
is "the partial" of `W @ x`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from ..errors import S2SError


class GraphError(S2SError):
    """A computation graph that cannot be made: the function fails at the point, bad arguments, ..."""


class GraphvizNotFound(GraphError):
    """Rendering SVG or PNG needs Graphviz's `dot` program, and it is not installed."""


@dataclass(eq=False)
class Node:
    """One value of the evaluated function: an input, or one primitive applied once."""

    id: int
    name: str | None  # SSA name (`x`, `_t1`, `s.1`), `xs[0]` for a list input's element; None: a reduction step
    op: str | None  # the primitive; None for an input
    args: tuple[Any, ...]  # operands: a `Node`, or a constant (a number, an array)
    value: Any  # a number, or a NumPy array
    line: int | None = None
    iteration: tuple[int, ...] = ()  # iteration numbers of the enclosing loops, outermost first, from 1
    loops: tuple[int, ...] = ()  # which executions of loops it is in (ids of `Graph.loops`)
    adjoint: Any = None  # d output / d this node (an array shaped like an array's value); None: none shown
    partials: tuple[float | None, ...] = ()  # d this / d each operand (None: not differentiable)
    flows: tuple[Any, ...] | None = None  # on arrays: what flows back to each operand (None: nothing shown)

    @property
    def label(self) -> str:
        """The node's name in the trace: its SSA name, with the iteration in loops."""
        base = self.name if self.name is not None else f"_n{self.id}"
        return base + (f"[{'.'.join(map(str, self.iteration))}]" if self.iteration else "")

    @property
    def differentiable(self) -> bool:
        dtype = getattr(self.value, "dtype", None)  # a NumPy array or number
        return not isinstance(self.value, bool) and (dtype is None or dtype.kind != "b")

    @property
    def shape(self) -> tuple[int, ...] | None:
        """The shape of an array's value; None for a number."""
        value = self.value
        if type(value).__name__ == "ndarray" and type(value).__module__ == "numpy":
            return tuple(value.shape)
        return None

    def contribution(self, position: int) -> Any:
        """What flows back to operand `position`: partial times this node's adjoint (on arrays, `flows`)."""
        if self.flows is not None:
            return self.flows[position] if position < len(self.flows) and self.adjoint is not None else None
        if self.adjoint is None or position >= len(self.partials) or self.partials[position] is None:
            return None
        return times(self.partials[position], self.adjoint)  # type: ignore[arg-type]


@dataclass(frozen=True)
class Loop:
    """One execution of a loop statement, and how many iterations it ran."""

    id: int
    line: int
    kind: str  # "for" or "while"
    iterations: int


def plain_arg(arg: Any) -> Any:
    """An operand's number: a node's value, or the constant itself."""
    return arg.value if isinstance(arg, Node) else arg


def times(a: float, b: float) -> float:
    """`a * b`, infinite where the product overflows."""
    try:
        return a * b
    except OverflowError:
        return math.inf
