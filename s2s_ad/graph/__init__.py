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
  (`interpret.Interpreter`) in a value domain of plain Python numbers in which
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

A function on NumPy arrays is drawn the same way, with one node per array:

    g = graph(layer, W, b, x)   # def layer(W, b, x): return np.sum(np.tanh(W @ x + b))

It is lowered for the types of the arrays given (as `grad` lowers it) and run
on NumPy values; each array node is labelled with its shape (`tanh  (2,)`) and,
when it has at most six elements, its values (a larger one by the range of
its values). An array's adjoint is an array of its shape, pushed back through
the rule table's partials and reverse templates evaluated on the arrays
(`array_adjoints`); an adjoint no rule gives is not shown, and the inputs'
adjoints are those of the gradient generated for the function, run at the
point.

The picture reads left to right (`rankdir=LR`): inputs, primitives, output.
Each node shows its forward value (black) and its adjoint (red), the gradient
of the output with respect to that node; each edge is labelled (red) with what
flows back along it, `partial * adjoint of the consumer`. Past `max_nodes`
nodes, loops are drawn with their first iteration only, and a note says so.

The package: `evaluation` (running the function at the point, the
adjoints: `graph`, `graph_of`, `evaluate`), `tracing` (the interpreter's
value domains that record nodes, on numbers and on NumPy arrays), `numeric`
(primitives and their adjoints evaluated on NumPy values), `array_adjoints`
(reverse accumulation on arrays, and the generated gradient at the point),
`nodes` (`Node`, `Loop`, the errors), `result` (`Graph` and its outputs),
`dot` (the DOT text), `trace` (the sweeps as a table), `labels` (how numbers,
arrays and primitives are written in all of them). No module here is named after a name the
package exports: importing a submodule sets the package attribute of its
name, and `s2s_ad.graph.graph` (like `s2s_ad.graph`, see
`s2s_ad/__init__.py`) must stay the function.
"""

from __future__ import annotations

from .evaluation import evaluate, graph, graph_of
from .nodes import GraphError, GraphvizNotFound, Loop, Node
from .result import GRAPHVIZ_HINT, MAX_NODES, Graph

__all__ = [
    "GRAPHVIZ_HINT",
    "MAX_NODES",
    "Graph",
    "GraphError",
    "GraphvizNotFound",
    "Loop",
    "Node",
    "evaluate",
    "graph",
    "graph_of",
]
