"""Evaluating a function at a point into a graph: every primitive a node, then adjoints by reverse accumulation.

The primal IR is run by the IR interpreter (`interpret.Interpreter`) in a
domain of plain Python numbers in which every number computed from an input
is a `Tracked` value that knows the node that made it (`tracing`). The
adjoints come from the rule table's partial derivatives evaluated with
floats, pushed from the output back to the inputs, so the inputs' adjoints
are `grad(f)` at the point.

A function on NumPy arrays (one that uses NumPy, or is given an array) is
lowered for the types of the arrays it is given, as `grad` lowers it
(`pipeline.argument_types`), and run in the domain of NumPy values; its
adjoints come from the rules evaluated on arrays (`array_adjoints`), and its
inputs' adjoints are those of the gradient s2s_ad generates for it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from .. import frontend, ir, lower, pipeline
from ..interpret import data_of
from ..rules import ARRAY_OPS, RULES, Rule
from .array_adjoints import backward_arrays, with_gradient
from .labels import shape_text
from .nodes import GraphError, Node, plain_arg
from .numeric import is_array, nan_where_undefined
from .result import Graph
from .tracing import Arrays, ArrayTracer, Floats, FollowPaths, NeverEnds, Rejected, Tracer, Tracked, plain


class _FloatMath:
    """`m.<primitive>(...)` in the rule table's formulas, evaluated with Python numbers.

    A primitive undefined at its operands gives nan rather than raising, so one
    partial that cannot be computed (d(x**2)/d2 = log(x)*x**2 at x < 0: the
    exponent is a constant, nobody needs it) does not spoil the others.
    """

    def __getattr__(self, op: str) -> Callable[..., Any]:
        return nan_where_undefined(RULES[op].evaluate)


def evaluate(
    primal: ir.Function,
    point: Mapping[str, Any],
    data: Mapping[str, object] | None = None,
    *,
    limit: int = 50_000,
    rules: Mapping[str, Rule] | None = None,
    arrays: bool | None = None,
) -> Graph:
    """The graph of `primal` (lowered IR) at `point` (parameter name -> number, list of numbers or NumPy array).

    `rules` is the table the IR was lowered with (with the rules lowering created: `lower.lowered`);
    `arrays` runs it on NumPy values (by default, where the point or the IR has arrays)."""
    missing = [p.name for p in primal.params if p.name not in point]
    extra = [name for name in point if name not in {p.name for p in primal.params}]
    if missing or extra:
        problems = ([f"no value for {', '.join(missing)}"] if missing else []) + (
            [f"no parameter {', '.join(extra)}"] if extra else []
        )
        raise GraphError(
            f"{primal.name}: {'; '.join(problems)}", hint="parameters are: " + ", ".join(p.name for p in primal.params)
        )
    table = RULES if rules is None else rules
    if arrays is None:
        arrays = _on_arrays(primal, point)
    tracer = ArrayTracer(Arrays(), data or {}, limit, table) if arrays else Tracer(Floats(), data or {}, limit, table)
    args = {p.name: tracer.input(p.name, _as_param(p, point[p.name])) for p in primal.params}
    try:
        result = tracer.run(primal, args)
    except NeverEnds as exc:
        raise GraphError(
            f"{primal.name} did not finish at this point: {exc}", hint="a loop may never end here; choose another point"
        ) from None
    except Rejected as exc:
        raise GraphError(f"the function cannot be evaluated at this point: {exc}") from None
    except FollowPaths:
        raise GraphError(
            f"{primal.name} did not finish within {limit} steps at this point",
            hint="a loop may never end here; choose another point",
        ) from None
    if isinstance(result, tuple | list):
        raise GraphError(f"{primal.name} returns several values: a graph with adjoints needs a single number")
    if is_array(plain(result)) and plain(result).ndim > 0:
        raise GraphError(
            f"{primal.name} returns an array of shape {shape_text(plain(result))}: a graph with adjoints needs a single number",
            hint="return a number: the sum of the array (np.sum), or one of its elements",
        )
    output = result.node if isinstance(result, Tracked) else None
    trimmed = backward_arrays(tracer.nodes, output, table) if arrays else _backward(tracer.nodes, output)
    gradient = {name: _adjoints(value) for name, value in args.items()}
    notes = [] if output is not None else [f"{primal.name} does not depend on its inputs at this point"]
    if trimmed:
        notes.append("what flows back along the edges is not shown where it would take too many numbers to keep")
    return Graph(
        primal.name,
        tuple(p.name for p in primal.params),
        dict(point),
        tuple(tracer.nodes),
        output,
        plain(result),
        gradient,
        tuple(sorted(tracer.loop_records, key=lambda loop: loop.id)),
        notes,
        table,
    )


def _as_param(param: ir.Param, value: Any) -> Any:
    """`f(1, 2)` for float parameters is `f(1.0, 2.0)`: the picture shows what the code computes."""
    if param.type == ir.FLOAT and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    return value


def _adjoints(value: Any) -> Any:
    if isinstance(value, list):
        return [_adjoints(v) for v in value]
    return value.node.adjoint if isinstance(value, Tracked) else 0.0


def _on_arrays(primal: ir.Function, point: Mapping[str, Any]) -> bool:
    """Whether a function is run on NumPy values: an argument, a parameter or an operation is an array."""
    if any(is_array(v) for v in point.values()) or any(isinstance(p.type, ir.ArrayOf) for p in primal.params):
        return True
    return any(
        isinstance(s, ir.Assign) and (s.op in ARRAY_OPS or s.op not in RULES or isinstance(s.type, ir.ArrayOf))
        for s in ir.walk(primal.body)
    )


def _backward(nodes: Sequence[Node], output: Node | None) -> bool:
    """Reverse accumulation: seed the output's adjoint with 1, push `partial * adjoint` to each operand.
    (False: every edge keeps what flows back along it, as `backward_arrays` says.)"""
    m = _FloatMath()
    for node in nodes:
        node.adjoint = 0.0 if node.differentiable else None
    if output is None or not output.differentiable:
        return False
    output.adjoint = 1.0
    for node in reversed(nodes):
        if node.op is None:
            continue
        rule = RULES[node.op]
        if rule.partials is None or not node.differentiable:
            node.partials = tuple(None for _ in node.args)
            continue
        try:
            raw = rule.partials(m, node.value, *(plain_arg(a) for a in node.args))
        except (ArithmeticError, ValueError, TypeError):
            raw = tuple(math.nan for _ in node.args)
        node.partials = tuple(float(p) for p in raw)  # type: ignore[arg-type]
        for position, arg in enumerate(node.args):
            if isinstance(arg, Node) and arg.adjoint is not None:
                arg.adjoint = arg.adjoint + node.contribution(position)  # type: ignore[operator]
    return False


def graph(f: Callable[..., Any], *args: Any, **kwargs: Any) -> Graph:
    """The computation graph of `f` evaluated at `f(*args, **kwargs)`, with forward values and adjoints.

    One node per SSA value (inputs, primitives, output; loops unrolled as
    run at that point), edges for data dependencies. The adjoint of the
    output is seeded with 1; the inputs' adjoints are the gradient `grad(f)`.
    """
    return graph_of(frontend.from_function(f), args, kwargs)


def graph_of(parsed: frontend.ParsedFunction, args: Sequence[Any] = (), kwargs: Mapping[str, Any] | None = None) -> Graph:
    """The graph of a parsed function (from a function object, or from a file as the command line reads it).

    A function on NumPy arrays is lowered for the types of its array arguments, as `grad` lowers it; its
    inputs' adjoints are those of the gradient generated for it (`array_adjoints.with_gradient`)."""
    kwargs = kwargs or {}
    structures = frontend.structures_of(parsed, args, kwargs)
    if structures:  # drawn as the function lowered with a parameter per leaf it reads (`p_w` for `p["w"]`)
        flat = lower.flatten(parsed, structures)
        node = parsed.node.args
        names = [a.arg for a in (*node.posonlyargs, *node.args, *node.kwonlyargs)]
        values = flat.arguments({**dict(zip(names, args)), **kwargs})
        return graph_of(flat.parsed, (), values)
    if not (frontend.uses_arrays(parsed) or any(is_array(v) for v in (*args, *kwargs.values()))):
        primal = lower.lower(parsed)
        return evaluate(primal, _point(primal, args, kwargs), data_of(parsed, primal), arrays=False)
    types = pipeline.argument_types(parsed, args, kwargs)
    made = lower.lowered(parsed, RULES, types)
    primal = made.function
    data = data_of(parsed, primal)
    drawn = evaluate(primal, _point(primal, args, kwargs), data, rules={**RULES, **made.rules}, arrays=True)
    with_gradient(drawn, parsed, types, data)
    return drawn


def _point(primal: ir.Function, args: Sequence[Any], kwargs: Mapping[str, Any]) -> dict[str, Any]:
    names = [p.name for p in primal.params]
    if len(args) > len(names):
        raise GraphError(f"{primal.name} takes {len(names)} argument(s), {len(args)} given")
    point = dict(zip(names, args))
    for name, value in kwargs.items():
        if name in point:
            raise GraphError(f"{primal.name}: two values for the argument {name!r}")
        point[name] = value
    return point
