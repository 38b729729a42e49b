"""The trace: the forward sweep and the reverse sweep of a graph, step by step with values.

It is the table a student writes by hand: each primitive with its operands
and value, then each adjoint with the contributions `partial * adjoint`
that make it up (`s2s-ad trace`, `Graph.trace()`). On NumPy arrays a value
is written with its shape, and what flows back to an operand is written as
the array it is (no one number is the partial of `W @ x`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .labels import expression, fmt, operand_text, point_text, shaped
from .nodes import Node, plain_arg

if TYPE_CHECKING:
    from .result import Graph


def trace_text(graph: Graph) -> str:
    nodes, rules = graph.nodes, graph.rules
    width = max([len(n.label) for n in nodes] + [4])
    lines = [f"{graph.function}({', '.join(graph.params)}) at {point_text(graph.point)}", "", "forward sweep"]
    for step, node in enumerate(nodes, 1):
        if node.op is None:
            what = "input"
        else:
            formula = expression(node, operand_text, rules=rules)
            arrays = node.shape is not None or any(isinstance(a, Node) and a.shape is not None for a in node.args)
            numbers = formula if arrays else expression(node, lambda a: fmt(plain_arg(a)), rules=rules)
            what = formula if formula == numbers else f"{formula} = {numbers}"
        line = f"line {node.line}" if node.line else ""
        mark = "   <- output" if node is graph.output else ""
        lines.append(
            f"  {step:>4}  {node.label:<{width}} {line:>9}  {what} = {shaped(node.value)}{mark}"
            if node.op
            else f"  {step:>4}  {node.label:<{width}} {line:>9}  {what}: {shaped(node.value)}"
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
            differentiable = any(p is not None for p in node.partials) or any(f is not None for f in node.flows or ())
            if not differentiable:
                continue
            lines.append(
                f"  {step:>4}  {node.label}_bar = {fmt(node.adjoint)}    "
                f"({node.label} = {expression(node, operand_text, rules=rules)})"
            )
            for position, arg in enumerate(node.args):
                if not isinstance(arg, Node) or arg.adjoint is None:
                    continue
                if node.flows is not None:  # arrays: what flows back, as the array it is
                    flow = node.contribution(position)
                    if flow is not None:
                        lines.append(f"          {arg.label}_bar += {fmt(flow)}    (from {node.label}_bar)")
                    continue
                partial = node.partials[position] if position < len(node.partials) else None
                if partial is None:
                    continue
                lines.append(
                    f"          {arg.label}_bar += {node.label}_bar * d{node.label}/d{arg.label}"
                    f" = {fmt(node.adjoint)} * {fmt(partial)} = {fmt(node.contribution(position))}"
                )
    lines.append("")
    lines.append(f"value: {graph.function} = {fmt(graph.value)}")
    lines.append("gradient: " + ", ".join(f"{name}_bar = {fmt(value)}" for name, value in graph.gradient.items()))
    lines.extend(f"note: {note}" for note in graph.notes if graph.output is not None)
    return "\n".join(lines) + "\n"
