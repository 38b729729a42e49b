"""Computation graphs of functions on NumPy arrays (`s2s_ad.graph`, `s2s-ad graph`, `s2s-ad trace`).

Each array node has the shape of its value; a small array's values are shown. The truths are
independent of s2s_ad: a node's value is NumPy evaluating the same expression directly, an input's
adjoint is a central finite difference over every element of the array, and a named intermediate's
adjoint a central difference of the rest of the function written out by hand (`h -> sum(tanh(h + b))`).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import import_source

from s2s_ad import frontend, lower, pipeline
from s2s_ad.cli import main
from s2s_ad.graph import Graph, GraphError, Node, evaluate, graph
from s2s_ad.graph.array_adjoints import with_gradient
from s2s_ad.interpret import data_of
from s2s_ad.rules import RULES

H = 1e-6


def numeric_grad(f: Callable[..., Any], args: Sequence[Any], index: int) -> Any:
    """d f / d args[index] by central differences, element by element (a float for a float argument)."""
    base = args[index]
    if not isinstance(base, np.ndarray):
        up, down = list(args), list(args)
        up[index], down[index] = base + H, base - H
        return (float(f(*up)) - float(f(*down))) / (2 * H)
    result = np.zeros(base.shape)
    for cell in np.ndindex(base.shape):
        values = []
        for sign in (1, -1):
            moved = list(args)
            changed = np.array(base, dtype=float)
            changed[cell] += sign * H
            moved[index] = changed
            values.append(float(f(*moved)))
        result[cell] = (values[0] - values[1]) / (2 * H)
    return result


def assert_close(ours: Any, truth: Any, tol: float = 1e-6) -> None:
    assert ours is not None
    assert np.shape(ours) == np.shape(truth)
    np.testing.assert_allclose(np.asarray(ours, dtype=float), np.asarray(truth, dtype=float), rtol=tol, atol=tol)


def assert_gradient(g: Graph, f: Callable[..., Any], args: Sequence[Any]) -> None:
    """Every float input's adjoint (its node's and the gradient's) against central differences."""
    inputs = {node.name: node for node in g.nodes if node.op is None}
    for index, name in enumerate(g.params):
        if isinstance(args[index], int | list) or (isinstance(args[index], np.ndarray) and args[index].dtype.kind != "f"):
            continue
        truth = numeric_grad(f, args, index)
        assert_close(g.gradient[name], truth)
        assert_close(inputs[name].adjoint, truth)


def node(g: Graph, name: str) -> Node:
    found = [n for n in g.nodes if n.name == name]
    assert len(found) == 1, [n.name for n in g.nodes]
    return found[0]


# -- the functions -------------------------------------------------------------------------------


def layer(W, b, x):
    h = W @ x
    z = h + b
    a = np.tanh(z)
    return np.sum(a)


def elementwise(x, y):
    u = np.sin(x) * y
    v = np.exp(x / 2.0) - y**2
    return np.sum(u + v)


def broadcast(A, v, c):
    y = A * v + c
    return np.sum(y * y)


def matrices(A, B):
    C = A @ B
    return np.sum(C * C)


def reductions(X):
    col = X.sum(axis=0)
    row = np.mean(X, axis=1, keepdims=True)
    top = np.max(X)
    return np.sum(col**2) + np.sum(row * X) + top + np.prod(X[0])


def rows(X, w):
    s = 0.0
    for i in range(X.shape[0]):
        r = X[i]
        s = s + np.tanh(np.dot(r, w)) ** 2
    return s


def written(x, W):
    h = np.zeros(3)
    h[0] = x[1] * 2.0
    h[1:] = h[1:] + x[:2]
    return np.sum(np.maximum(W.T @ h, 0.0))


def twice(x):
    return x @ x


def scalars(x, y):
    return np.sin(x) * y + np.exp(x * y)


def large(W, x):
    return np.sum(np.tanh(W @ x))


def counted(X, n):
    s = 0.0
    for i in range(n):
        s = s + np.sum(X[i] ** 2)
    return s


def mismatch(W, x):
    h = W @ x
    return np.sum(h)


def ambiguous(x):
    if x > 0:
        return np.sum(x)
    return 0.0


def vector_out(x):
    return np.tanh(x)


def transposed(A):
    B = A.T
    return np.sum(B * B)


W0 = np.array([[0.5, -1.0, 0.25], [1.0, 0.5, -0.5]])
B0 = np.array([0.1, -0.2])
X0 = np.array([1.0, 2.0, -1.0])


# -- shapes and values --------------------------------------------------------------------------


def test_the_layer_has_array_nodes_with_shapes_and_values() -> None:
    g = graph(layer, W0, B0, X0)
    assert [(n.name, n.shape) for n in g.nodes] == [
        ("W", (2, 3)),
        ("b", (2,)),
        ("x", (3,)),
        ("h", (2,)),
        ("z", (2,)),
        ("a", (2,)),
        ("_t4", None),
    ]
    assert_close(node(g, "h").value, W0 @ X0, 1e-15)
    assert_close(node(g, "z").value, W0 @ X0 + B0, 1e-15)
    assert_close(node(g, "a").value, np.tanh(W0 @ X0 + B0), 1e-15)
    assert g.value == pytest.approx(float(np.sum(np.tanh(W0 @ X0 + B0))), rel=1e-15)
    assert_gradient(g, layer, (W0, B0, X0))


def test_intermediate_adjoints_are_differences_of_the_rest_of_the_function() -> None:
    g = graph(layer, W0, B0, X0)
    h, z = W0 @ X0, W0 @ X0 + B0
    assert_close(node(g, "h").adjoint, numeric_grad(lambda h: np.sum(np.tanh(h + B0)), [h], 0))
    assert_close(node(g, "z").adjoint, numeric_grad(lambda z: np.sum(np.tanh(z)), [z], 0))
    assert_close(node(g, "a").adjoint, numeric_grad(lambda a: np.sum(a), [np.tanh(z)], 0))
    # each edge carries what flows back along it; into an input they add up to its adjoint
    W, x = node(g, "W"), node(g, "x")
    matmul = node(g, "h")
    assert_close(matmul.contribution(0), W.adjoint, 1e-12)
    assert_close(matmul.contribution(1), x.adjoint, 1e-12)


def test_elementwise() -> None:
    x, y = np.array([[0.3, -1.2, 2.0], [0.5, 0.1, -0.7]]), np.array([[1.5, 0.2, -0.4], [2.0, -1.0, 0.6]])
    g = graph(elementwise, x, y)
    assert node(g, "u").shape == (2, 3) and node(g, "v").shape == (2, 3)
    assert_close(node(g, "u").value, np.sin(x) * y, 1e-15)
    assert_close(node(g, "v").value, np.exp(x / 2.0) - y**2, 1e-15)
    assert_close(node(g, "u").adjoint, np.ones((2, 3)), 1e-15)
    assert_gradient(g, elementwise, (x, y))


def test_broadcasting_sums_adjoints_back_to_each_shape() -> None:
    A, v, c = np.array([[1.0, -2.0, 0.5], [0.3, 0.7, -1.1]]), np.array([0.5, -1.5, 2.0]), np.array([[0.2], [-0.4]])
    g = graph(broadcast, A, v, c)
    assert [n.shape for n in g.nodes if n.op is None] == [(2, 3), (3,), (2, 1)]
    assert node(g, "y").shape == (2, 3)
    assert_close(node(g, "y").value, A * v + c, 1e-15)
    assert np.shape(g.gradient["v"]) == (3,) and np.shape(g.gradient["c"]) == (2, 1)
    assert_close(node(g, "y").adjoint, numeric_grad(lambda y: np.sum(y * y), [A * v + c], 0))
    assert_gradient(g, broadcast, (A, v, c))


def test_matrix_products() -> None:
    A, B = np.array([[1.0, 2.0], [-0.5, 0.3], [0.2, 0.1]]), np.array([[0.4, -1.0, 0.5], [1.5, 0.2, -0.3]])
    g = graph(matrices, A, B)
    assert node(g, "C").shape == (3, 3)
    assert_close(node(g, "C").value, A @ B, 1e-15)
    assert_gradient(g, matrices, (A, B))


def test_the_same_array_twice_sends_back_along_each_edge() -> None:
    x = np.array([1.0, -2.0, 0.5])
    g = graph(twice, x)
    (product,) = [n for n in g.nodes if n.op == "matmul"]
    assert product.args == (g.nodes[0], g.nodes[0])
    assert_close(product.contribution(0), x, 1e-15)
    assert_close(product.contribution(1), x, 1e-15)
    assert_gradient(g, twice, (x,))
    assert g.to_dot().count("n1 -> n2") == 2


def test_reductions() -> None:
    X = np.array([[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]])  # one maximum: no tie
    g = graph(reductions, X)
    assert node(g, "col").shape == (3,) and node(g, "row").shape == (2, 1) and node(g, "top").shape is None
    assert_close(node(g, "col").value, X.sum(axis=0), 1e-15)
    assert_close(node(g, "row").value, X.mean(axis=1, keepdims=True), 1e-15)
    assert node(g, "top").value == X.max()
    assert_gradient(g, reductions, (X,))


def test_a_loop_over_rows() -> None:
    X, w = np.array([[0.5, -1.0], [2.0, 0.3], [-0.4, 0.8]]), np.array([0.7, -0.2])
    g = graph(rows, X, w)
    picked = [n for n in g.nodes if n.name == "r"]
    assert [n.iteration for n in picked] == [(1,), (2,), (3,)]
    assert all(n.shape == (2,) for n in picked)
    for k, n in enumerate(picked):
        assert_close(n.value, X[k], 0)
        rest = lambda r, k=k: np.tanh(np.dot(r, w)) ** 2  # noqa: E731 - the rest of the function, by hand
        assert_close(n.adjoint, numeric_grad(rest, [X[k]], 0))
    assert_gradient(g, rows, (X, w))
    assert len(g.loops) == 1 and g.loops[0].iterations == 3


def test_writing_into_a_local_array() -> None:
    x, W = np.array([1.0, 2.0, 3.0]), np.array([[-2.0, -1.0], [0.5, 1.0], [2.0, 3.0]])
    g = graph(written, x, W)
    assert [n.shape for n in g.nodes if n.name is not None and n.name.startswith("h")] == [(3,), (3,)]
    assert_gradient(g, written, (x, W))


def test_numbers_in_a_function_that_uses_numpy() -> None:
    g = graph(scalars, 0.5, 2.0)
    assert all(n.shape is None for n in g.nodes)
    assert g.value == pytest.approx(np.sin(0.5) * 2.0 + np.exp(1.0), rel=1e-15)
    assert_gradient(g, scalars, (0.5, 2.0))
    assert "*" in g.trace() and "(2,)" not in g.trace()


def test_int_parameters_have_the_gradient_s_zero() -> None:
    X = np.array([[0.5, -1.0], [2.0, 0.3], [-0.4, 0.8]])
    g = graph(counted, X, 2)
    assert_close(g.gradient["X"], numeric_grad(lambda X: counted(X, 2), [X], 0))
    assert g.gradient["n"] == 0  # a loop count is not differentiated, as grad says
    assert node(g, "n").adjoint == 0


def test_a_transpose() -> None:
    A = np.array([[1.0, 2.0, -1.0], [0.5, 0.0, 3.0]])
    g = graph(transposed, A)
    assert node(g, "B").shape == (3, 2)
    assert_close(node(g, "B").value, A.T, 0)
    assert_gradient(g, transposed, (A,))


# -- the picture and the trace ----------------------------------------------------------------


def test_dot_labels_array_nodes_with_their_shapes_and_small_values() -> None:
    g = graph(layer, W0, B0, X0)
    dot = g.to_dot()
    assert re.search(r"<b>tanh</b>  <i>a</i>  <font[^>]*>\(2,\)</font>", dot)
    assert re.search(r"<b>@</b>  <i>h</i>  <font[^>]*>\(2,\)</font>", dot)
    assert re.search(r"<b>W</b>  <font[^>]*>\(2, 3\)</font>", dot)
    tanh = np.tanh(W0 @ X0 + B0)
    assert f"[{tanh[0]:.6g}, {tanh[1]:.6g}]" in dot
    assert "[0.5, -1, 0.25]<br/>[1, 0.5, -0.5]" in dot  # a small matrix, one row to a line
    (output,) = [line for line in dot.splitlines() if line.startswith("  n7 [")]
    assert "<b>·.sum()</b>" in output and "<font" not in output.split("<br/>")[0]  # a number: no shape


def test_large_arrays_are_shown_by_their_shape_and_range() -> None:
    W = np.linspace(-1.0, 1.0, 20).reshape(5, 4)
    x = np.array([1.0, 0.5, -0.5, 2.0])
    g = graph(large, W, x)
    dot, text = g.to_dot(), g.trace()
    assert "(5, 4)" in dot and "in [-1, 1]" in dot
    assert "-0.894737" not in dot  # the 20 values of W are not listed
    assert "array of shape (5, 4) in [-1, 1]" in text
    assert_gradient(g, large, (W, x))


def test_trace_of_arrays() -> None:
    g = graph(layer, W0, B0, X0)
    text = g.trace()
    assert "W @ x = (2,) [" in text
    assert "input: (2, 3) [[0.5, -1, 0.25], [1, 0.5, -0.5]]" in text
    assert "a_bar = [1, 1]" in text
    assert re.search(r"W_bar \+= \[\[.*\]\]", text)
    assert "gradient: W_bar = [[" in text


def test_repr_and_svg(tmp_path: Path) -> None:
    g = graph(layer, W0, B0, X0)
    assert repr(g).startswith("<Graph of layer at W = [[0.5, -1, 0.25], [1, 0.5, -0.5]], b = [0.1, -0.2]")
    if __import__("shutil").which("dot") is None:
        pytest.skip("Graphviz's dot is not installed")
    svg = g.save(tmp_path / "layer.svg").read_text(encoding="utf-8")
    assert "</svg>" in svg and "(2, 3)" in svg


# -- adjoints the rules do not give are not shown --------------------------------------------


def _lowered(f: Callable[..., Any], args: tuple[Any, ...]) -> tuple[frontend.ParsedFunction, Any, dict[str, Any], Any]:
    parsed = frontend.from_function(f)
    types = pipeline.argument_types(parsed, args, {})
    made = lower.lowered(parsed, RULES, types)
    return parsed, made.function, types, {**RULES, **made.rules}


def test_an_operation_without_a_reverse_template_shows_no_adjoint_upstream() -> None:
    A = np.array([[1.0, 2.0, -1.0], [0.5, 0.0, 3.0]])
    parsed, primal, types, rules = _lowered(transposed, (A,))
    rules["transpose"] = dataclasses.replace(rules["transpose"], reverse=None)
    g = evaluate(primal, {"A": A}, rules=rules, arrays=True)
    assert node(g, "B").adjoint is not None  # below the transpose: known
    assert_close(node(g, "B").adjoint, 2 * A.T, 1e-15)
    assert node(g, "A").adjoint is None and g.gradient["A"] is None  # above it: not shown
    assert node(g, "B").contribution(0) is None
    with_gradient(g, parsed, types, data_of(parsed, primal))  # the inputs' adjoints: the generated gradient's
    assert_close(node(g, "A").adjoint, numeric_grad(transposed, (A,), 0))
    g.to_dot()
    g.trace()


def test_adjoints_that_disagree_with_the_gradient_are_not_shown() -> None:
    A = np.array([[1.0, 2.0, -1.0], [0.5, 0.0, 3.0]])
    parsed, primal, types, rules = _lowered(transposed, (A,))
    wrong = dataclasses.replace(rules["mul"], partials=lambda m, out, x, y: (3 * y, 3 * x))
    g = evaluate(primal, {"A": A}, rules={**rules, "mul": wrong}, arrays=True)
    with_gradient(g, parsed, types, data_of(parsed, primal))
    assert any("not shown" in note for note in g.notes)
    assert all(n.adjoint is None for n in g.nodes if n.op is not None)
    assert_close(g.gradient["A"], numeric_grad(transposed, (A,), 0))
    assert "not shown" in g.to_dot() and "not shown" in g.trace()


# -- refusals ----------------------------------------------------------------------------------


def test_a_shape_mismatch_names_the_line() -> None:
    with pytest.raises(GraphError) as caught:
        graph(mismatch, np.ones((2, 3)), np.ones(2))
    error = caught.value
    line = mismatch.__code__.co_firstlineno + 1  # h = W @ x
    assert error.lineno == line and f"(line {line})" in error.message
    assert "(2, 3) and (2,)" in error.message and "Traceback" not in str(error)
    assert "h = W @ x" in str(error)


def test_an_array_as_a_condition() -> None:
    with pytest.raises(GraphError, match=r"shape \(3,\).*not one truth value"):
        graph(ambiguous, np.ones(3))


def test_an_array_output_is_refused() -> None:
    with pytest.raises(GraphError, match=r"returns an array of shape \(3,\)"):
        graph(vector_out, np.ones(3))


# -- the command line -----------------------------------------------------------------------------

MODULE = """import numpy as np


def layer(W, b, x):
    h = np.tanh(W @ x + b)
    return np.sum(h)
"""


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_cli_graph_and_trace_of_arrays(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    source = tmp_path / "model.py"
    source.write_text(MODULE, encoding="utf-8")
    W, b, x = np.array([[1.0, 2.0], [3.0, 4.0]]), np.zeros(2), np.array([0.5, -0.5])
    at = "W=[[1,2],[3,4]],b=[0,0],x=[0.5,-0.5]"
    status, out, err = run(capsys, "trace", f"{source}:layer", "--at", at)
    assert (status, err) == (0, "")
    assert "input: (2, 2) [[1, 2], [3, 4]]" in out
    x_bar = numeric_grad(lambda x: np.sum(np.tanh(W @ x + b)), [x], 0)
    assert f"x_bar = [{x_bar[0]:.6g}, {x_bar[1]:.6g}]" in out
    status, out, err = run(capsys, "graph", f"{source}:layer", "--at", at)
    assert (status, err) == (0, "") and out.startswith('digraph "layer"') and "(2, 2)" in out


@pytest.mark.parametrize(
    ("at", "status", "message"),
    [
        ("W=[[1,2],[3]],b=[0,0],x=[1,1]", 2, "not rectangular"),
        ("W=[[1,2,3],[3,4,5]],b=[0,0],x=[1,1]", 1, "(line 5)"),
    ],
)
def test_cli_refusals_of_arrays(at: str, status: int, message: str, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    source = tmp_path / "model.py"
    source.write_text(MODULE, encoding="utf-8")
    code, _, err = run(capsys, "graph", f"{source}:layer", "--at", at)
    assert code == status and message in err and "Traceback" not in err


def test_the_readme_example_prints_what_the_readme_says(tmp_path: Path) -> None:
    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("Functions on NumPy arrays are drawn") :]
    code = section[section.index("```python\n") + len("```python\n") : section.index("```\n", section.index("```python"))]
    shown = [line[2:] for line in code.splitlines() if line.startswith("#  ") and "..." not in line]
    program = "\n".join(line for line in code.splitlines() if not line.startswith(("#", "print(")))
    module = import_source("import numpy as np\nfrom s2s_ad import graph\n\n" + program + "\n", tmp_path)
    text = module.g.trace()  # `def layer` on line 4 of the module, as in the README
    assert len(shown) == 6
    for line in shown:
        assert line in text
