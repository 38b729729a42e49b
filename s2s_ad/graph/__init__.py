"""Computation-graph pictures of a function at a point: forward values and adjoints.

The picture a backpropagation lecture draws for f(x, y, z) = (x + y) * max(y, z)
at (1, 2, 0) is the function's SSA IR evaluated at that point:

    from s2s_ad import graph
    g = graph(f, 1.0, 2.0, 0.0)
    g.save("f.svg")          # needs Graphviz's `dot`; `g.save("f.dot")` never does
    print(g.to_dot())        # Graphviz DOT text
    print(g.trace())         # the forward and reverse sweeps as a table

How it is made:

- The primal IR (`lower.lower`) is run by the check's IR interpreter
  (`check._Interpreter`) in a value domain of plain Python numbers in which
  every number computed from an input is a `_Tracked` value that knows the
  node that made it. Each primitive `Assign` evaluated becomes one node, so
  loops appear unrolled: one node per SSA value *per iteration* at that point.
  Copies (branch merges, loop-carried values, list elements) are the same
  value, hence the same node. Values computed from constants alone are
  constants: they appear inside the label of the node that reads them.
- Adjoints come from reverse accumulation over the recorded nodes, in reverse
  order, with the rule table's partial derivatives evaluated with floats
  (`RULES[op].partials(m, out, *args)`, `m.<primitive>` being the primitive's
  Python evaluation): the output's adjoint is seeded with 1, and each node
  adds `partial * adjoint` to each of its operands. That is what the
  generated gradient computes, so the inputs' adjoints are `grad(f)` at the point.

The picture reads left to right (`rankdir=LR`): inputs, primitives, output.
Each node shows its forward value (black) and its adjoint (red), the gradient
of the output with respect to that node; each edge is labelled (red) with what
flows back along it, `partial * adjoint of the consumer`. Past `max_nodes`
nodes, loops are drawn with their first iteration only, and a note says so.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import frontend, ir, lower
from ..errors import S2SError
from ..interpret import FollowPaths as _FollowPaths
from ..interpret import Interpreter as _Interpreter
from ..interpret import NeverEnds as _NeverEnds
from ..interpret import Rejected as _Rejected
from ..interpret import data_of
from ..rules import RULES, Rule

MAX_NODES = 120  # past this many nodes, a picture shows each loop's first iteration only
GRAPHVIZ_HINT = (
    "install Graphviz (Debian/Ubuntu: apt-get install graphviz; macOS: brew install graphviz; "
    "conda: conda install graphviz), or save as .dot and render it elsewhere"
)
_FORMATS = ("svg", "png", "pdf")
_VALUE_COLOR = "#1f2328"
_ADJOINT_COLOR = "#c0392b"
_MUTED_COLOR = "#8c959f"


class GraphError(S2SError):
    """A computation graph that cannot be made: the function fails at the point, bad arguments, ..."""


class GraphvizNotFound(GraphError):
    """Rendering SVG or PNG needs Graphviz's `dot` program, and it is not installed."""


# -- the graph ---------------------------------------------------------------------


@dataclass(eq=False)
class Node:
    """One value of the evaluated function: an input, or one primitive applied once."""

    id: int
    name: str | None  # SSA name (`x`, `_t1`, `s.1`), `xs[0]` for a list input's element; None: a reduction step
    op: str | None  # the primitive; None for an input
    args: tuple[Any, ...]  # operands: a `Node`, or a constant (a number)
    value: Any
    line: int | None = None
    iteration: tuple[int, ...] = ()  # iteration numbers of the enclosing loops, outermost first, from 1
    loops: tuple[int, ...] = ()  # which executions of loops it is in (ids of `Graph.loops`)
    adjoint: float | None = None  # d output / d this node; None for a truth value
    partials: tuple[float | None, ...] = ()  # d this / d each operand (None: not differentiable)

    @property
    def label(self) -> str:
        """The node's name in the trace: its SSA name, with the iteration in loops."""
        base = self.name if self.name is not None else f"_n{self.id}"
        return base + (f"[{'.'.join(map(str, self.iteration))}]" if self.iteration else "")

    @property
    def differentiable(self) -> bool:
        return not isinstance(self.value, bool)

    def contribution(self, position: int) -> float | None:
        """What flows back to operand `position`: partial times this node's adjoint."""
        if self.adjoint is None or position >= len(self.partials) or self.partials[position] is None:
            return None
        return _times(self.partials[position], self.adjoint)  # type: ignore[arg-type]


@dataclass(frozen=True)
class Loop:
    """One execution of a loop statement, and how many iterations it ran."""

    id: int
    line: int
    kind: str  # "for" or "while"
    iterations: int


@dataclass(eq=False)
class Graph:
    """The computation graph of a function evaluated at a point, with adjoints.

    `to_dot()` is Graphviz text (no dependency); `save(path)` writes `.dot`,
    `.svg`, `.png` or `.pdf` (the last three need Graphviz's `dot`); `trace()`
    is the forward and reverse sweeps as text. In Jupyter the graph shows itself.
    """

    function: str
    params: tuple[str, ...]
    point: dict[str, Any]
    nodes: tuple[Node, ...]
    output: Node | None
    value: Any
    gradient: dict[str, Any]  # param -> d output / d param (a list for a list parameter)
    loops: tuple[Loop, ...] = ()
    notes: list[str] = field(default_factory=list)

    def __repr__(self) -> str:
        return (
            f"<Graph of {self.function} at {_point_text(self.point)}: {len(self.nodes)} nodes, "
            f"value {_fmt(self.value)}, gradient {_gradient_text(self.gradient)}>"
        )

    # -- DOT ---------------------------------------------------------------------

    def to_dot(self, max_nodes: int = MAX_NODES) -> str:
        """The picture as Graphviz DOT text, laid out left to right."""
        return _Dot(self, max_nodes).text()

    # -- rendering ---------------------------------------------------------------

    def render(self, format: str = "svg", max_nodes: int = MAX_NODES) -> bytes:
        """The picture rendered by Graphviz's `dot` (`svg`, `png` or `pdf`); `GraphvizNotFound` without it."""
        if format not in _FORMATS:
            raise GraphError(f"cannot render the format {format!r}: choose one of {', '.join(_FORMATS)}, or dot")
        import subprocess  # only when a picture is rendered

        dot = _dot_program()
        if dot is None:
            raise GraphvizNotFound(
                f"rendering {format.upper()} needs Graphviz's 'dot' program, which is not installed (or not on PATH)",
                hint=GRAPHVIZ_HINT,
            )
        try:
            done = subprocess.run(
                [dot, f"-T{format}"], input=self.to_dot(max_nodes).encode(), capture_output=True, check=False, timeout=120
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise GraphError(f"Graphviz's 'dot' failed to run: {exc}", hint=GRAPHVIZ_HINT) from exc
        if done.returncode != 0:
            raise GraphError(f"Graphviz's 'dot' failed: {done.stderr.decode(errors='replace').strip()}")
        return done.stdout

    def save(self, path: str | Path, format: str | None = None, max_nodes: int = MAX_NODES) -> Path:
        """Write the picture; the format comes from the suffix (`.dot`/`.gv`, `.svg`, `.png`, `.pdf`)."""
        path = Path(path)
        chosen = (format or path.suffix.lstrip(".")).lower()
        if chosen in ("dot", "gv"):
            path.write_text(self.to_dot(max_nodes), encoding="utf-8")
        elif chosen in _FORMATS:
            path.write_bytes(self.render(chosen, max_nodes))
        else:
            raise GraphError(
                f"cannot tell which picture format to write to {str(path)!r}",
                hint="end the file name with .svg, .png, .pdf or .dot, or pass format=",
            )
        return path

    def _repr_svg_(self) -> str | None:
        """Jupyter: the SVG picture, when Graphviz is installed."""
        if _dot_program() is None:
            return None
        return self.render("svg").decode()

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        """Jupyter: the SVG picture, or (without Graphviz) the DOT text and the trace."""
        if _dot_program() is not None:
            return {"image/svg+xml": self.render("svg").decode(), "text/plain": repr(self)}
        return {"text/plain": f"{self!r}\n(install Graphviz to see the picture: {GRAPHVIZ_HINT})\n\n{self.trace()}"}

    # -- the trace ---------------------------------------------------------------

    def trace(self) -> str:
        """The forward sweep and the reverse sweep step by step, with values: the table done by hand."""
        return _trace(self)


def _dot_program() -> str | None:
    """Where Graphviz's `dot` is, if it is installed."""
    import shutil  # `import s2s_ad` imports this module: keep it light

    return shutil.which("dot")


# -- evaluation ---------------------------------------------------------------------


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
            shown = ", ".join(_fmt(v) for v in values)
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
        raise GraphError(f"{what} is {_fmt(number)} at this point, not a whole number")

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
            raw = rule.partials(m, node.value, *(_plain_arg(a) for a in node.args))
        except (ArithmeticError, ValueError, TypeError):
            raw = tuple(math.nan for _ in node.args)
        node.partials = tuple(float(p) for p in raw)  # type: ignore[arg-type]
        for position, arg in enumerate(node.args):
            if isinstance(arg, Node) and arg.adjoint is not None:
                arg.adjoint = arg.adjoint + node.contribution(position)  # type: ignore[operator]


def _plain_arg(arg: Any) -> Any:
    return arg.value if isinstance(arg, Node) else arg


def _times(a: float, b: float) -> float:
    try:
        return a * b
    except OverflowError:
        return math.inf


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


# -- formatting ----------------------------------------------------------------------


def _fmt(value: Any) -> str:
    """A number as a lecture slide writes it: 6 significant digits, `2` rather than `2.0`."""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, list):
        return "[" + ", ".join(_fmt(v) for v in value) + "]"
    if isinstance(value, int | float):
        text = format(value, ".6g")
        return "0" if text == "-0" else text
    return str(value)


def _point_text(point: Mapping[str, Any]) -> str:
    return ", ".join(f"{name} = {_fmt(value)}" for name, value in point.items())


def _gradient_text(gradient: Mapping[str, Any]) -> str:
    values = [_fmt(v) for v in gradient.values()]
    return values[0] if len(values) == 1 else "(" + ", ".join(values) + ")"


_SYMBOLS = {
    "add": "+",
    "sub": "-",
    "mul": "×",
    "div": "/",
    "pow": "**",
    "floordiv": "//",
    "mod": "%",
    "lt": "<",
    "le": "<=",
    "gt": ">",
    "ge": ">=",
    "eq": "==",
    "ne": "!=",
    "and": "and",
    "or": "or",
}
_TEXT_SYMBOLS = {**_SYMBOLS, "mul": "*"}


def _expression(node: Node, operand: Callable[[Any], str], symbols: Mapping[str, str] = _TEXT_SYMBOLS) -> str:
    """`x + y`, `max(y, z)`, `-x`: the primitive applied to its operands, spelled like Python."""
    shown = [operand(a) for a in node.args]
    op = node.op or ""
    if op in symbols and len(shown) == 2:
        return f"{shown[0]} {symbols[op]} {shown[1]}"
    if op == "neg":
        return f"-{shown[0]}"
    if op == "not":
        return f"not {shown[0]}"
    if op == "copy":
        return shown[0]
    name = RULES[op].names[0] if op in RULES and RULES[op].names else op
    return f"{name}({', '.join(shown)})"


def _operand_text(arg: Any) -> str:
    return arg.label if isinstance(arg, Node) else _fmt(arg)


# -- the trace -----------------------------------------------------------------------


def _trace(graph: Graph) -> str:
    nodes = graph.nodes
    width = max([len(n.label) for n in nodes] + [4])
    lines = [f"{graph.function}({', '.join(graph.params)}) at {_point_text(graph.point)}", "", "forward sweep"]
    for step, node in enumerate(nodes, 1):
        if node.op is None:
            what = "input"
        else:
            formula = _expression(node, _operand_text)
            numbers = _expression(node, lambda a: _fmt(_plain_arg(a)))
            what = formula if formula == numbers else f"{formula} = {numbers}"
        line = f"line {node.line}" if node.line else ""
        mark = "   <- output" if node is graph.output else ""
        lines.append(
            f"  {step:>4}  {node.label:<{width}} {line:>9}  {what} = {_fmt(node.value)}{mark}"
            if node.op
            else f"  {step:>4}  {node.label:<{width}} {line:>9}  {what}: {_fmt(node.value)}"
        )
    lines.append("")
    if graph.output is None or graph.output.adjoint is None:
        lines.append("reverse sweep: nothing to do, the output does not depend on the inputs")
    else:
        out = graph.output
        lines.append(f"reverse sweep (the output's adjoint is seeded: {out.label}_bar = 1)")
        for step in range(len(nodes), 0, -1):
            node = nodes[step - 1]
            if node.op is None or node.adjoint is None:
                continue
            differentiable = any(p is not None for p in node.partials)
            if not differentiable:
                continue
            lines.append(
                f"  {step:>4}  {node.label}_bar = {_fmt(node.adjoint)}    ({node.label} = {_expression(node, _operand_text)})"
            )
            for position, arg in enumerate(node.args):
                if not isinstance(arg, Node) or arg.adjoint is None:
                    continue
                partial = node.partials[position]
                lines.append(
                    f"          {arg.label}_bar += {node.label}_bar * d{node.label}/d{arg.label}"
                    f" = {_fmt(node.adjoint)} * {_fmt(partial)} = {_fmt(node.contribution(position))}"
                )
    lines.append("")
    lines.append(f"value: {graph.function} = {_fmt(graph.value)}")
    lines.append("gradient: " + ", ".join(f"{name}_bar = {_fmt(value)}" for name, value in graph.gradient.items()))
    return "\n".join(lines) + "\n"


# -- DOT -------------------------------------------------------------------------------


def _html(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def _quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


class _Dot:
    """Writes one graph as DOT text: deterministic, so golden files stay stable."""

    def __init__(self, graph: Graph, max_nodes: int) -> None:
        self.graph = graph
        self.collapsed = len(graph.nodes) > max_nodes and bool(graph.loops)
        self.shown = [n for n in graph.nodes if not self.collapsed or all(i == 1 for i in n.iteration) or n is graph.output]
        self.shown_ids = {n.id for n in self.shown}

    def text(self) -> str:
        graph = self.graph
        lines = [
            f"digraph {_quoted(graph.function)} {{",
            f'  graph [rankdir=LR, fontname="Helvetica", fontsize=12, labelloc=t, label=<{self.title()}>];',
            '  node [fontname="Helvetica", fontsize=11, shape=box, style="rounded"];',
            '  edge [fontname="Helvetica", fontsize=10, arrowsize=0.7];',
        ]
        for node in self.shown:
            lines.append(f"  n{node.id} [{self.node_attributes(node)}];")
        placeholders: dict[int, Loop] = {}
        for node in self.shown:
            for position, arg in enumerate(node.args):
                if not isinstance(arg, Node):
                    continue
                if arg.id in self.shown_ids:
                    lines.append(f"  n{arg.id} -> n{node.id} [{self.edge_attributes(node, position)}];")
                else:
                    loop = self.loop_of(arg)
                    edge = f'  loop{loop.id} -> n{node.id} [style=dashed, color="{_MUTED_COLOR}"];'
                    if edge not in lines:
                        lines.append(edge)
                    placeholders[loop.id] = loop
        for loop in sorted(placeholders.values(), key=lambda loop: loop.id):
            lines.append(
                f'  loop{loop.id} [shape=note, color="{_MUTED_COLOR}", fontcolor="{_MUTED_COLOR}", '
                f"label=<... {loop.iterations - 1} more iteration(s)<br/>of the loop at line {loop.line}>];"
            )
        lines.append("}")
        return "\n".join(lines) + "\n"

    def loop_of(self, node: Node) -> Loop:
        loops = {loop.id: loop for loop in self.graph.loops}
        return loops[node.loops[0]]

    def title(self) -> str:
        graph = self.graph
        rows = [
            f"<b>{_html(graph.function)}({_html(', '.join(graph.params))})</b> at {_html(_point_text(graph.point))}",
            f"value {_html(_fmt(graph.value))}, "
            f'<font color="{_ADJOINT_COLOR}">gradient {_html(_gradient_text(graph.gradient))}</font>',
            f'<font point-size="10" color="{_MUTED_COLOR}">black: forward value; '
            f'<font color="{_ADJOINT_COLOR}">red: adjoint</font> (d output / d node; '
            f"on an edge: what flows back along it); the output's adjoint is seeded with 1</font>",
        ]
        for note in graph.notes:
            rows.append(f'<font point-size="10">{_html(note)}</font>')
        if self.collapsed:
            per_line: dict[int, int] = {}
            for loop in graph.loops:
                per_line[loop.line] = per_line.get(loop.line, 0) + loop.iterations
            runs = ", ".join(f"line {line}: {count}" for line, count in sorted(per_line.items()))
            rows.append(
                f'<font point-size="10">{len(graph.nodes)} nodes: loops are shown with their first '
                f"iteration only (iterations run: {_html(runs)}); s2s-ad trace lists every step</font>"
            )
        return "<br/>".join(rows)

    def node_attributes(self, node: Node) -> str:
        graph = self.graph
        if node.op is None:
            head = f"<b>{_html(node.label)}</b>"
        else:
            if all(isinstance(a, Node) for a in node.args) and node.op in _SYMBOLS:
                symbol = _SYMBOLS[node.op]  # `+`, `×`: the gate of the lecture slides
            elif all(isinstance(a, Node) for a in node.args) and node.op in RULES and RULES[node.op].names:
                symbol = RULES[node.op].names[0]  # `max`, `math.sin`
            else:
                symbol = _expression(node, lambda a: "·" if isinstance(a, Node) else _fmt(a), _SYMBOLS)
            named = node.name is not None and not ir.is_temp(node.name)
            head = f"<b>{_html(symbol)}</b>" + (f"  <i>{_html(ir.family(node.name))}</i>" if named else "")  # type: ignore[arg-type]
        rows = [head, f'<font color="{_VALUE_COLOR}">{_html(_fmt(node.value))}</font>']
        if node.adjoint is not None:
            rows.append(f'<font color="{_ADJOINT_COLOR}">{_html(_fmt(node.adjoint))}</font>')
        if node.iteration:
            where = f"line {node.line}, " if node.line else ""
            rows.append(
                f'<font point-size="9" color="{_MUTED_COLOR}">{where}iteration {".".join(map(str, node.iteration))}</font>'
            )
        attributes = [f"label=<{'<br/>'.join(rows)}>"]
        tooltip = node.label if node.op is None else f"{node.label} = {_expression(node, _operand_text)}"
        if node.line:
            tooltip += f" (line {node.line})"
        attributes.append(f"tooltip={_quoted(tooltip)}")
        if node.op is None:
            attributes.append('shape=box, style="rounded,filled", fillcolor="#eef4ff"')
        else:
            attributes.append("shape=ellipse")
        if node is graph.output:
            attributes.append("peripheries=2")
        return ", ".join(attributes)

    def edge_attributes(self, node: Node, position: int) -> str:
        flow = node.contribution(position)
        if flow is None:
            return f'style=dashed, color="{_MUTED_COLOR}"'
        return f'label=<<font color="{_ADJOINT_COLOR}">{_html(_fmt(flow))}</font>>, color="#57606a"'
