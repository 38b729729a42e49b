"""The adjoints of a graph on NumPy arrays: reverse accumulation over the nodes, then the generated gradient.

`backward_arrays` pushes each node's adjoint back to its operands as the
rules say (`numeric.pullback`): an array's adjoint is an array of its shape.
A node whose contribution to an operand no rule gives makes that operand's
adjoint unknown, and so every value it was computed from: those show no
adjoint rather than a partial sum. Values without a derivative (ints, truth
values) show none either.

`with_gradient` then runs the gradient s2s_ad generates for the function at
the point (`pipeline.build`, as `grad` does) and makes the inputs' adjoints
exactly its values. Where an input's adjoint found by accumulation differs
from it, the adjoints inside the graph are not shown at all (a note says
so): a picture never shows an adjoint that the gradient contradicts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from .. import ir, pipeline
from ..errors import S2SError
from ..frontend import ParsedFunction
from ..rules import Rule
from .nodes import Node, plain_arg
from .numeric import NoAdjoint, NumpyMath, floating, is_array, nan_where_undefined, pullback

if TYPE_CHECKING:
    from .result import Graph

_FAILURES = (NoAdjoint, ArithmeticError, ValueError, TypeError, IndexError, AttributeError, KeyError)
RTOL = 1e-7  # how far an input's accumulated adjoint may be from the generated gradient's (rounding only)
MOST_FLOWN = 2_000_000  # numbers kept of what flows back along the edges (each `X[i]` of a loop sends back an X)


def backward_arrays(nodes: Sequence[Node], output: Node | None, rules: Mapping[str, Rule]) -> bool:
    """Reverse accumulation on NumPy values: seed the output's adjoint with 1, push what flows back to each
    operand (an array shaped like it); an adjoint the rules cannot give is None, and so are its operands'.
    Past `MOST_FLOWN` numbers, what flows along the edges is not kept (the adjoints are): True then."""
    import numpy

    kept, trimmed = 0, False
    active = {node.id for node in nodes if floating(node.value)}
    for node in nodes:
        node.adjoint, node.partials, node.flows = None, (), None
    if output is not None and output.id not in active:
        return False
    bars: dict[int, Any] = {}
    if output is not None:
        bars[output.id] = numpy.ones_like(output.value, dtype=float) if is_array(output.value) else 1.0
    unknown: set[int] = set()
    m = _SafeMath(rules)
    for node in reversed(nodes):
        if node.id not in active:
            continue
        wanted = [isinstance(a, Node) and a.id in active for a in node.args]
        if node.id in unknown:
            unknown.update(a.id for a, w in zip(node.args, wanted) if w)
            continue
        bar = bars.get(node.id)
        if bar is None:  # the output does not depend on it
            bar = numpy.zeros_like(node.value, dtype=float) if is_array(node.value) else 0.0
        node.adjoint = bar
        if node.op is None:
            continue
        try:
            flows = _flows(node, bar, rules, wanted, m)
        except _FAILURES:
            node.flows = tuple(None for _ in node.args)
            unknown.update(a.id for a, w in zip(node.args, wanted) if w)
            continue
        for arg, flow, w in zip(node.args, flows, wanted):
            if w and flow is not None:
                bars[arg.id] = flow if arg.id not in bars else bars[arg.id] + flow
        if node.flows is not None:
            kept += sum(int(numpy.size(f)) for f in node.flows if f is not None)
            if kept > MOST_FLOWN:
                node.flows, trimmed = tuple(None for _ in node.args), True
    return trimmed


def _flows(node: Node, bar: Any, rules: Mapping[str, Rule], wanted: list[bool], m: _SafeMath) -> tuple[Any, ...]:
    """What flows back to each operand; for a primitive on numbers, as on numbers: `partial * adjoint`."""
    assert node.op is not None
    rule = rules[node.op]
    values = [plain_arg(a) for a in node.args]
    if rule.structural or any(is_array(v) for v in (node.value, *values)):
        node.flows = pullback(node, bar, rules, wanted)
        return node.flows
    if rule.partials is None:
        node.partials = tuple(None for _ in node.args)
        return node.partials
    raw = rule.partials(m, node.value, *values)
    node.partials = tuple(float(p) if w else None for p, w in zip(raw, wanted))  # type: ignore[arg-type]
    return tuple(node.contribution(k) for k in range(len(node.args)))


class _SafeMath(NumpyMath):
    """`NumpyMath` on numbers, with nan for a primitive undefined at its operands, as on numbers (one
    partial that cannot be computed, a constant exponent's, does not spoil the others)."""

    def __getattr__(self, op: str) -> Any:
        return nan_where_undefined(super().__getattr__(op))


def with_gradient(drawn: Graph, parsed: ParsedFunction, types: Mapping[str, ir.Type], data: Mapping[str, object]) -> None:
    """The inputs' adjoints made those of the gradient generated for the function, run at the point."""
    import numpy

    try:
        built = pipeline.build(parsed, None, arg_types=types)
        function = pipeline.compiled(parsed, built, data)
    except S2SError as exc:
        _hide_adjoints(drawn, f"no adjoints: the gradient cannot be generated ({exc.message})")
        return
    try:
        with numpy.errstate(all="ignore"):
            found = function(*(drawn.point[p.name] for p in built.primal.params))
    except Exception as exc:  # noqa: BLE001 - the generated gradient fails here: no adjoints, and why
        _hide_adjoints(drawn, f"no adjoints: the gradient fails at this point ({type(exc).__name__}: {exc})")
        return
    gradient = dict(zip(built.wrt, (found,) if built.bare else tuple(found)))
    inputs = {node.name: node for node in drawn.nodes if node.op is None}
    if not all(_agree(drawn.gradient.get(name), value) for name, value in gradient.items()):
        _hide_adjoints(drawn, "the adjoints inside the graph are not shown: they do not add up to the gradient")
    for name, value in gradient.items():
        _set_inputs(inputs, name, value)
        drawn.gradient[name] = value


def _set_inputs(inputs: Mapping[str | None, Node], name: str, value: Any) -> None:
    if isinstance(value, list | tuple) and name not in inputs:
        for k, item in enumerate(value):
            _set_inputs(inputs, f"{name}[{k}]", item)
    elif name in inputs:
        inputs[name].adjoint = value


def _agree(ours: Any, truth: Any) -> bool:
    """Whether an input's accumulated adjoint is the gradient's, up to rounding (None: unknown, no conflict)."""
    import numpy

    if ours is None:
        return True
    if isinstance(ours, list) and isinstance(truth, list | tuple):
        return len(ours) == len(truth) and all(_agree(a, b) for a, b in zip(ours, truth))
    try:
        a, b = numpy.asarray(ours, dtype=float), numpy.asarray(truth, dtype=float)
    except (TypeError, ValueError):
        return False
    if a.shape != b.shape:
        return False
    finite = numpy.abs(b[numpy.isfinite(b)])
    scale = max(1.0, float(finite.max())) if finite.size else 1.0
    return bool(numpy.allclose(a, b, rtol=RTOL, atol=RTOL * 1e-2 * scale, equal_nan=True))


def _hide_adjoints(drawn: Graph, note: str) -> None:
    for node in drawn.nodes:
        node.adjoint, node.flows = None, tuple(None for _ in node.args)
        node.partials = ()
    for name in drawn.gradient:
        drawn.gradient[name] = None
    drawn.notes.append(note)
