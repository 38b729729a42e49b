"""A graph as Graphviz DOT text, laid out left to right: inputs, primitives, output.

Each node shows its forward value (black) and its adjoint (red); each edge
is labelled with what flows back along it. Past `max_nodes` nodes, loops are
drawn with their first iteration only, and placeholders say how many
iterations were left out. The text is deterministic, so golden files stay
stable.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .. import ir
from .labels import cell, expression, fmt, gradient_text, html, infix, operand_text, point_text, quoted, shape_text
from .nodes import Loop, Node

if TYPE_CHECKING:
    from .result import Graph

_VALUE_COLOR = "#1f2328"
_ADJOINT_COLOR = "#c0392b"
_MUTED_COLOR = "#8c959f"


class Dot:
    """Writes one graph as DOT text: deterministic, so golden files stay stable."""

    def __init__(self, graph: Graph, max_nodes: int) -> None:
        self.graph = graph
        self.collapsed = len(graph.nodes) > max_nodes and bool(graph.loops)
        self.shown = [n for n in graph.nodes if not self.collapsed or all(i == 1 for i in n.iteration) or n is graph.output]
        self.shown_ids = {n.id for n in self.shown}

    def text(self) -> str:
        graph = self.graph
        lines = [
            f"digraph {quoted(graph.function)} {{",
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
            f"<b>{html(graph.function)}({html(', '.join(graph.params))})</b> at {html(point_text(graph.point))}",
            f"value {html(fmt(graph.value))}, "
            f'<font color="{_ADJOINT_COLOR}">gradient {html(gradient_text(graph.gradient))}</font>',
            f'<font point-size="10" color="{_MUTED_COLOR}">black: forward value; '
            f'<font color="{_ADJOINT_COLOR}">red: adjoint</font> (d output / d node; '
            f"on an edge: what flows back along it); the output's adjoint is seeded with 1</font>",
        ]
        for note in graph.notes:
            rows.append(f'<font point-size="10">{html(note)}</font>')
        if self.collapsed:
            per_line: dict[int, int] = {}
            for loop in graph.loops:
                per_line[loop.line] = per_line.get(loop.line, 0) + loop.iterations
            runs = ", ".join(f"line {line}: {count}" for line, count in sorted(per_line.items()))
            rows.append(
                f'<font point-size="10">{len(graph.nodes)} nodes: loops are shown with their first '
                f"iteration only (iterations run: {html(runs)}); s2s-ad trace lists every step</font>"
            )
        return "<br/>".join(rows)

    def node_attributes(self, node: Node) -> str:
        graph = self.graph
        rules = graph.rules
        if node.op is None:
            head = f"<b>{html(node.label)}</b>"
        else:
            operator = infix(node.op, drawn=True, rules=rules)
            if all(isinstance(a, Node) for a in node.args) and operator is not None:
                symbol = operator  # `+`, `×`: the gate of the lecture slides
            elif all(isinstance(a, Node) for a in node.args) and node.op in rules and rules[node.op].names:
                symbol = rules[node.op].names[0]  # `max`, `math.sin`
                if node.shape is not None:
                    symbol = symbol.removeprefix("numpy.")  # `tanh`, beside the shape of the array it made
            else:
                symbol = expression(node, lambda a: "·" if isinstance(a, Node) else cell(a), drawn=True, rules=rules)
            named = node.name is not None and not ir.is_temp(node.name)
            head = f"<b>{html(symbol)}</b>" + (f"  <i>{html(ir.family(node.name))}</i>" if named else "")  # type: ignore[arg-type]
        if node.shape is not None:
            head += f'  <font color="{_MUTED_COLOR}">{html(shape_text(node.value))}</font>'
        rows = [head, f'<font color="{_VALUE_COLOR}">{_matrix(node.value)}</font>']
        if node.adjoint is not None:
            rows.append(f'<font color="{_ADJOINT_COLOR}">{_matrix(node.adjoint)}</font>')
        if node.iteration:
            where = f"line {node.line}, " if node.line else ""
            rows.append(
                f'<font point-size="9" color="{_MUTED_COLOR}">{where}iteration {".".join(map(str, node.iteration))}</font>'
            )
        attributes = [f"label=<{'<br/>'.join(rows)}>"]
        tooltip = node.label if node.op is None else f"{node.label} = {expression(node, operand_text, rules=rules)}"
        if node.line:
            tooltip += f" (line {node.line})"
        attributes.append(f"tooltip={quoted(tooltip)}")
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
        return f'label=<<font color="{_ADJOINT_COLOR}">{html(cell(flow))}</font>>, color="#57606a"'


def _matrix(value: object) -> str:
    """A value as a node shows it: a small matrix one row to a line, as it is written on a slide."""
    text = cell(value)
    if shape_text(value) and getattr(value, "ndim", 0) == 2 and text.startswith("[["):
        return "<br/>".join(html(fmt(row)) for row in value)  # type: ignore[attr-defined]
    return html(text)
