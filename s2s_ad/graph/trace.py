"""The trace: the forward sweep and the reverse sweep of a graph, step by step with values.

It is the table a student writes by hand: each primitive with its operands
and value, then each adjoint with the contributions `partial * adjoint`
that make it up (`s2s-ad trace`, `Graph.trace()`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .labels import expression, fmt, operand_text, point_text
from .nodes import Node, plain_arg

if TYPE_CHECKING:
    from .result import Graph


def trace_text(graph: Graph) -> str:
    nodes = graph.nodes
    width = max([len(n.label) for n in nodes] + [4])
    lines = [f"{graph.function}({', '.join(graph.params)}) at {point_text(graph.point)}", "", "forward sweep"]
    for step, node in enumerate(nodes, 1):
        if node.op is None:
            what = "input"
        else:
            formula = expression(node, operand_text)
            numbers = expression(node, lambda a: fmt(plain_arg(a)))
            what = formula if formula == numbers else f"{formula} = {numbers}"
        line = f"line {node.line}" if node.line else ""
        mark = "   <- output" if node is graph.output else ""
        lines.append(
            f"  {step:>4}  {node.label:<{width}} {line:>9}  {what} = {fmt(node.value)}{mark}"
            if node.op
            else f"  {step:>4}  {node.label:<{width}} {line:>9}  {what}: {fmt(node.value)}"
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
                f"  {step:>4}  {node.label}_bar = {fmt(node.adjoint)}    ({node.label} = {expression(node, operand_text)})"
            )
            for position, arg in enumerate(node.args):
                if not isinstance(arg, Node) or arg.adjoint is None:
                    continue
                partial = node.partials[position]
                lines.append(
                    f"          {arg.label}_bar += {node.label}_bar * d{node.label}/d{arg.label}"
                    f" = {fmt(node.adjoint)} * {fmt(partial)} = {fmt(node.contribution(position))}"
                )
    lines.append("")
    lines.append(f"value: {graph.function} = {fmt(graph.value)}")
    lines.append("gradient: " + ", ".join(f"{name}_bar = {fmt(value)}" for name, value in graph.gradient.items()))
    return "\n".join(lines) + "\n"
