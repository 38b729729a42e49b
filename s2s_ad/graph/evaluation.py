"""Evaluating a function at a point into a graph: every primitive a node, then adjoints by reverse accumulation.

The primal IR is run by the IR interpreter (`interpret.Interpreter`) in a
domain of plain Python numbers in which every number computed from an input
is a `_Tracked` value that knows the node that made it. The adjoints come
from the rule table's partial derivatives evaluated with floats, pushed from
the output back to the inputs, so the inputs' adjoints are `grad(f)` at the
point.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from .. import frontend, ir, lower
from ..interpret import FollowPaths as _FollowPaths
from ..interpret import Interpreter as _Interpreter
from ..interpret import NeverEnds as _NeverEnds
from ..interpret import Rejected as _Rejected
from ..interpret import data_of
from ..rules import RULES, Rule
from .labels import fmt
from .nodes import GraphError, Loop, Node, plain_arg
from .result import Graph


class _Tracked:
    """A number computed from the inputs, and the node that holds it."""

    __slots__ = ("node",)

    def __init__(self, node: Node) -> None:
        self.node = node


def _plain(value: Any) -> Any:
    return value.node.value if isinstance(value, _Tracked) else value


class _FloatMath:
    """`m.<primitive>(...)` in the rule table's formulas, evaluated with Python numbers.

    A primitive undefined at its operands gives nan rather than raising, so one
    partial that cannot be computed (d(x**2)/d2 = log(x)*x**2 at x < 0: the
    exponent is a constant, nobody needs it) does not spoil the others.
    """

    def __getattr__(self, op: str) -> Callable[..., Any]:
        evaluate = RULES[op].evaluate

        def safe(*args: Any) -> Any:
            try:
                return evaluate(*args)
            except (ArithmeticError, ValueError, TypeError):
                return math.nan

        return safe


class _Floats:
    """The interpreter's value domain: Python numbers; numbers made from inputs are `_Tracked`."""

    def __init__(self) -> None:
        self.tracer: _Tracer | None = None

    def const(self, value: object) -> Any:
        return value

    def apply(self, op: str, rule: Rule, args: Sequence[Any]) -> Any:
        values = [_plain(a) for a in args]
        try:
            value = rule.evaluate(*values)
        except (ArithmeticError, ValueError, TypeError) as exc:
            where = self.tracer.where() if self.tracer else ""
            shown = ", ".join(fmt(v) for v in values)
            raise GraphError(
                f"the function cannot be evaluated at this point: {op}({shown}) fails{where}: {exc}",
                hint="choose a point inside the function's domain",
            ) from exc
        if self.tracer is None or not any(isinstance(a, _Tracked) for a in args):
            return value  # computed from constants alone: a constant
        return _Tracked(self.tracer.record(op, tuple(a.node if isinstance(a, _Tracked) else a for a in args), value))

    def truth(self, value: Any, what: str) -> bool:
        return bool(_plain(value))

    def integer(self, value: Any, what: str) -> int:
        number = _plain(value)
        if isinstance(number, bool | int):
            return int(number)
        if isinstance(number, float) and number.is_integer():
            return int(number)
        raise GraphError(f"{what} is {fmt(number)} at this point, not a whole number")

    def select(self, cond: Any, then: Any, orelse: Any) -> Any:  # conditions are always decided
        return then if self.truth(cond, "a condition") else orelse


class _Tracer(_Interpreter):
    """The check's interpreter, recording each primitive evaluated as a node, with its loop iteration."""

    def __init__(self, domain: _Floats, data: Mapping[str, object], limit: int) -> None:
        super().__init__(domain, RULES, data, limit=limit)  # type: ignore[arg-type]
        domain.tracer = self
        self.nodes: list[Node] = []
        self.frames: list[list[int]] = []  # [loop id, iteration] of the loops being run, outermost first
        self.loop_records: list[Loop] = []
        self.loops_started = 0
        self.loc: ir.Loc | None = None

    def where(self) -> str:
        return f" (line {self.loc.line})" if self.loc else ""

    def record(self, op: str, args: tuple[Any, ...], value: Any) -> Node:
        node = Node(
            len(self.nodes) + 1,
            None,
            op,
            args,
            value,
            self.loc.line if self.loc else None,
            tuple(frame[1] for frame in self.frames),
            tuple(frame[0] for frame in self.frames),
        )
        self.nodes.append(node)
        return node

    def input(self, name: str, value: Any) -> Any:
        """An argument: a node (or, for a list, one node per element)."""
        if isinstance(value, list | tuple):
            return [self.input(f"{name}[{i}]", v) for i, v in enumerate(value)]
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise GraphError(f"the argument {name}={value!r} is not a number")
        node = Node(len(self.nodes) + 1, name, None, (), value)
        self.nodes.append(node)
        return _Tracked(node)

    def statement(self, stmt: ir.Stmt) -> None:
        if isinstance(stmt, ir.Assign):
            self.loc, start = stmt.loc, len(self.nodes)
            try:
                super().statement(stmt)
            except _Rejected as exc:
                raise GraphError(f"the function cannot be evaluated at this point{self.where()}: {exc}") from None
            made = self.env[stmt.target]
            if isinstance(made, _Tracked) and made.node.id > start and made.node.name is None:
                made.node.name = stmt.target
        elif isinstance(stmt, ir.For | ir.While):
            self.loc = stmt.loc
            self.loops_started += 1
            self.frames.append([self.loops_started, 1])
            try:
                super().statement(stmt)
            except _NeverEnds as exc:
                raise GraphError(
                    f"the function did not finish at this point{self.where()}: {exc}",
                    hint="a loop may never end here; choose another point",
                ) from None
            except _Rejected as exc:
                raise GraphError(f"the function cannot be evaluated at this point{self.where()}: {exc}") from None
            frame = self.frames.pop()
            kind = "for" if isinstance(stmt, ir.For) else "while"
            self.loop_records.append(Loop(frame[0], stmt.loc.line, kind, frame[1] - 1))
        else:
            super().statement(stmt)

    def iterate(self, carried: tuple[ir.Carry, ...], until: ir.Operand | None, what: str) -> bool:
        self.frames[-1][1] += 1
        return super().iterate(carried, until, what)


def evaluate(
    primal: ir.Function, point: Mapping[str, Any], data: Mapping[str, object] | None = None, *, limit: int = 50_000
) -> Graph:
    """The graph of `primal` (lowered IR) at `point` (parameter name -> number or list of numbers)."""
    missing = [p.name for p in primal.params if p.name not in point]
    extra = [name for name in point if name not in {p.name for p in primal.params}]
    if missing or extra:
        problems = ([f"no value for {', '.join(missing)}"] if missing else []) + (
            [f"no parameter {', '.join(extra)}"] if extra else []
        )
        raise GraphError(
            f"{primal.name}: {'; '.join(problems)}", hint="parameters are: " + ", ".join(p.name for p in primal.params)
        )
    tracer = _Tracer(_Floats(), data or {}, limit)
    args = {p.name: tracer.input(p.name, _as_param(p, point[p.name])) for p in primal.params}
    try:
        result = tracer.run(primal, args)
    except _NeverEnds as exc:
        raise GraphError(
            f"{primal.name} did not finish at this point: {exc}", hint="a loop may never end here; choose another point"
        ) from None
    except _Rejected as exc:
        raise GraphError(f"the function cannot be evaluated at this point: {exc}") from None
    except _FollowPaths:
        raise GraphError(
            f"{primal.name} did not finish within {limit} steps at this point",
            hint="a loop may never end here; choose another point",
        ) from None
    if isinstance(result, tuple | list):
        raise GraphError(f"{primal.name} returns several values: a graph with adjoints needs a single number")
    output = result.node if isinstance(result, _Tracked) else None
    _backward(tracer.nodes, output)
    gradient = {name: _adjoints(value) for name, value in args.items()}
    notes = [] if output is not None else [f"{primal.name} does not depend on its inputs at this point"]
    return Graph(
        primal.name,
        tuple(p.name for p in primal.params),
        dict(point),
        tuple(tracer.nodes),
        output,
        _plain(result),
        gradient,
        tuple(sorted(tracer.loop_records, key=lambda loop: loop.id)),
        notes,
    )


def _as_param(param: ir.Param, value: Any) -> Any:
    """`f(1, 2)` for float parameters is `f(1.0, 2.0)`: the picture shows what the code computes."""
    if param.type == ir.FLOAT and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    return value


def _adjoints(value: Any) -> Any:
    if isinstance(value, list):
        return [_adjoints(v) for v in value]
    return value.node.adjoint if isinstance(value, _Tracked) else 0.0


def _backward(nodes: Sequence[Node], output: Node | None) -> None:
    """Reverse accumulation: seed the output's adjoint with 1, push `partial * adjoint` to each operand."""
    m = _FloatMath()
    for node in nodes:
        node.adjoint = 0.0 if node.differentiable else None
    if output is None or not output.differentiable:
        return
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


def graph(f: Callable[..., Any], *args: Any, **kwargs: Any) -> Graph:
    """The computation graph of `f` evaluated at `f(*args, **kwargs)`, with forward values and adjoints.

    One node per SSA value (inputs, primitives, output; loops unrolled as
    run at that point), edges for data dependencies. The adjoint of the
    output is seeded with 1; the inputs' adjoints are the gradient `grad(f)`.
    """
    return graph_of(frontend.from_function(f), args, kwargs)


def graph_of(parsed: frontend.ParsedFunction, args: Sequence[Any] = (), kwargs: Mapping[str, Any] | None = None) -> Graph:
    """The graph of a parsed function (from a function object, or from a file as the command line reads it)."""
    primal = lower.lower(parsed)
    names = [p.name for p in primal.params]
    if len(args) > len(names):
        raise GraphError(f"{primal.name} takes {len(names)} argument(s), {len(args)} given")
    point = dict(zip(names, args))
    for name, value in (kwargs or {}).items():
        if name in point:
            raise GraphError(f"{primal.name}: two values for the argument {name!r}")
        point[name] = value
    return evaluate(primal, point, data_of(parsed, primal))
