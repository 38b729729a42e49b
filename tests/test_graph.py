"""Computation-graph pictures and traces (`s2s_ad.graph`, `s2s-ad graph`, `s2s-ad trace`).

The DOT text of the functions in `tests/golden/graph/lecture.py` is golden-tested
against `tests/golden/graph/*.dot` (and one trace against `*.trace.txt`). After an
intended change to the picture, refresh them with

    S2S_AD_REFRESH_GOLDEN=1 pytest tests/test_graph.py

and read the diff. Tests that render SVG need Graphviz's `dot` and skip without it.
"""

from __future__ import annotations

import html
import importlib.util
import math
import os
import re
import shutil
import subprocess
import sys
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from s2s_ad import grad
from s2s_ad.cli import main
from s2s_ad.graph import MAX_NODES, Graph, GraphError, GraphvizNotFound, graph

GOLDEN = Path(__file__).parent / "golden" / "graph"
LECTURE = GOLDEN / "lecture.py"
REFRESH = os.environ.get("S2S_AD_REFRESH_GOLDEN") == "1"
HAS_DOT = shutil.which("dot") is not None
needs_dot = pytest.mark.skipif(not HAS_DOT, reason="Graphviz's dot is not installed")


def _load() -> types.ModuleType:
    spec = importlib.util.spec_from_file_location("s2s_ad_graph_lecture", LECTURE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


lecture = _load()

# (golden stem, function, arguments, to_dot's max_nodes)
PICTURES: list[tuple[str, Callable[..., Any], tuple[Any, ...], int]] = [
    ("circuit", lecture.circuit, (1.0, 2.0, 0.0), MAX_NODES),
    ("sums_product", lecture.sums_product, (2.0, 1.0), MAX_NODES),
    ("neuron", lecture.neuron, (2.0, -1.0, -3.0, -2.0, -3.0), MAX_NODES),
    ("halving", lecture.halving, (1.5, 4), MAX_NODES),
    ("norm", lecture.norm, ([1.0, 2.0, 3.0],), MAX_NODES),
    ("doubling_collapsed", lecture.doubling, (1.5,), 4),
]


def _golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if REFRESH:
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"missing golden file {path}; create it with S2S_AD_REFRESH_GOLDEN=1"
    assert text == path.read_text(encoding="utf-8"), (
        f"{name} differs; if the change is intended, refresh with S2S_AD_REFRESH_GOLDEN=1 pytest tests/test_graph.py"
    )


# -- the lecture example -------------------------------------------------------------


def test_lecture_circuit_values_and_adjoints() -> None:
    g = graph(lecture.circuit, 1.0, 2.0, 0.0)
    assert g.value == 6.0
    assert g.gradient == {"x": 2.0, "y": 5.0, "z": 0.0}
    by_name = {node.name: node for node in g.nodes}
    assert [by_name[n].value for n in ("x", "y", "z")] == [1.0, 2.0, 0.0]
    assert [by_name[n].adjoint for n in ("x", "y", "z")] == [2.0, 5.0, 0.0]
    assert [(n.op, n.value, n.adjoint) for n in g.nodes if n.op] == [("add", 3.0, 2.0), ("max", 2.0, 3.0), ("mul", 6.0, 1.0)]
    assert g.output is g.nodes[-1] and g.output.adjoint == 1.0  # the seed
    assert len(g.nodes) == 6 and "gradient (2, 5, 0)" in repr(g)


@pytest.mark.parametrize(("stem", "f", "args", "max_nodes"), PICTURES, ids=[p[0] for p in PICTURES])
def test_dot_golden(stem: str, f: Callable[..., Any], args: tuple[Any, ...], max_nodes: int) -> None:
    _golden(f"{stem}.dot", graph(f, *args).to_dot(max_nodes))


def test_dot_reads_left_to_right_and_is_deterministic() -> None:
    text = graph(lecture.circuit, 1.0, 2.0, 0.0).to_dot()
    assert "rankdir=LR" in text
    assert text == graph(lecture.circuit, 1.0, 2.0, 0.0).to_dot()


def test_trace_golden() -> None:
    _golden("circuit.trace.txt", graph(lecture.circuit, 1.0, 2.0, 0.0).trace())


def test_collapsed_picture_shows_the_loop_once_with_a_note() -> None:
    g = graph(lecture.halving, 1.5, 40)
    full, collapsed = g.to_dot(max_nodes=10_000), g.to_dot(max_nodes=20)
    assert "iteration 40" in full and "iteration 2<" not in collapsed and "iteration 1<" in collapsed
    assert "first iteration only" in collapsed and "39 more iteration(s)" in collapsed
    assert f"n{g.output.id} [" in collapsed  # type: ignore[union-attr]  # the output is always drawn


def test_nested_loops_collapse_to_one_note_per_outer_loop() -> None:
    g = graph(_nested, [1.0, 2.0], 3)
    assert len(g.loops) == 4 and [loop.iterations for loop in g.loops] == [3, 2, 2, 2]
    collapsed = g.to_dot(max_nodes=5)
    assert collapsed.count("loop1 -> ") == 1 and "loop2" not in collapsed
    assert re.search(r"iterations run: line \d+: 3, line \d+: 6\)", collapsed)


def test_a_constant_output_has_no_adjoints_to_send() -> None:
    g = graph(lambda_free_constant, 1.0)
    assert g.output is None and g.value == 3.0 and g.gradient == {"x": 0.0}
    assert "nothing to do" in g.trace()


def lambda_free_constant(x: float) -> float:
    return 3.0


# -- adjoints agree with grad(f) -------------------------------------------------------


def _branchy(x: float, y: float) -> float:
    if x > y:
        z = x * y
    else:
        z = x - y
    return z**2 + abs(y)


def _elementary(x: float, y: float) -> float:
    return math.sin(x) * math.exp(y) / (1 + x**2) + math.log(1 + y * y) - math.tanh(x - y) + math.sqrt(x * x + 1)


def _reused(x: float) -> float:
    return x * x * x + x / (x + 3)


def _accumulate(w: list[float], b: float) -> float:
    total = 0.0
    for i in range(len(w)):
        total = total + math.tanh(w[i] * i + b)
    return total * total


_W = [1.0, 2.0, 3.0]


def _data(x: float) -> float:
    return x * _W[1] + sum(_W)


def _square(a: float) -> float:
    return a * a


def _calls(x: float) -> float:
    return _square(x) + _square(2 * x)


def _identity(x: float) -> float:
    return x


def _nested(xs: list[float], n: int) -> float:
    s = 0.0
    for i in range(n):
        for x in xs:
            s = s + x * i
    return s


AGREE: list[tuple[Callable[..., Any], tuple[Any, ...]]] = [
    (_data, (2.0,)),
    (_calls, (1.5,)),
    (_identity, (2.0,)),
    (_nested, ([1.0, 2.0], 3)),
    (lecture.circuit, (1.0, 2.0, 0.0)),
    (lecture.circuit, (-1.5, 0.25, 3.0)),
    (lecture.sums_product, (2.0, 1.0)),
    (lecture.neuron, (2.0, -1.0, -3.0, -2.0, -3.0)),
    (lecture.halving, (1.5, 4)),
    (lecture.halving, (0.3, 12)),
    (lecture.norm, ([1.0, 2.0, 3.0],)),
    (lecture.doubling, (1.5,)),
    (_branchy, (2.0, 0.5)),
    (_branchy, (0.5, 2.0)),
    (_elementary, (0.7, -0.4)),
    (_reused, (1.25,)),
    (_accumulate, ([0.5, -0.25, 1.0], 0.1)),
]


@pytest.mark.parametrize(("f", "args"), AGREE, ids=[f"{f.__name__}{i}" for i, (f, _) in enumerate(AGREE)])
def test_adjoints_agree_with_grad(f: Callable[..., Any], args: tuple[Any, ...]) -> None:
    g = graph(f, *args)
    float_params = [i for i, a in enumerate(args) if not isinstance(a, int)]
    expected = grad(f, wrt=tuple(float_params))(*args)
    assert g.value == pytest.approx(f(*args), rel=1e-12)
    for i, want in zip(float_params, expected):
        got = g.gradient[g.params[i]]
        assert got == pytest.approx(want, rel=1e-12, abs=1e-12)


def test_trace_numbers_match_the_gradient() -> None:
    args = (0.7, -0.4)
    text = graph(_elementary, *args).trace()
    found = dict(re.findall(r"(\w+)_bar = (\S+?)(?:,|$)", text.splitlines()[-1]))
    expected = grad(_elementary)(*args)
    assert set(found) == {"x", "y"}
    for name, want in zip(("x", "y"), expected):
        assert float(found[name]) == pytest.approx(want, rel=1e-5)
    # each input's contributions in the reverse sweep add up to its adjoint
    for name, want in zip(("x", "y"), expected):
        parts = [float(m) for m in re.findall(rf"^\s+{name}_bar \+= .* = (\S+)$", text, re.MULTILINE)]
        assert parts and sum(parts) == pytest.approx(want, abs=1e-5 * sum(abs(p) for p in parts))  # 6 digits each


def test_trace_lists_both_sweeps_step_by_step() -> None:
    text = graph(lecture.circuit, 1.0, 2.0, 0.0).trace()
    assert "forward sweep" in text and "reverse sweep" in text
    assert "_t3_bar = 1" in text and "y_bar += _t2_bar * d_t2/dy = 3 * 1 = 3" in text
    assert text.rstrip().endswith("gradient: x_bar = 2, y_bar = 5, z_bar = 0")


# -- errors ------------------------------------------------------------------------------


def _log(x: float) -> float:
    return math.log(x) * 2


def test_a_point_outside_the_domain_is_a_graph_error() -> None:
    with pytest.raises(GraphError, match="cannot be evaluated at this point"):
        graph(_log, -1.0)


def test_arguments_are_checked() -> None:
    with pytest.raises(GraphError, match="no value for z"):
        graph(lecture.circuit, 1.0, 2.0)
    with pytest.raises(GraphError, match="takes 3 argument"):
        graph(lecture.circuit, 1.0, 2.0, 3.0, 4.0)
    with pytest.raises(GraphError, match="two values"):
        graph(lecture.circuit, 1.0, 2.0, 3.0, x=1.0)
    assert graph(lecture.circuit, 1.0, z=0.0, y=2.0).gradient == {"x": 2.0, "y": 5.0, "z": 0.0}


def test_a_loop_that_never_ends_is_a_graph_error() -> None:
    with pytest.raises(GraphError, match="did not finish"):
        graph(lecture.doubling, -1.0)


def test_missing_graphviz_is_a_clear_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(shutil, "which", lambda name: None)
    g = graph(lecture.circuit, 1.0, 2.0, 0.0)
    with pytest.raises(GraphvizNotFound, match="Graphviz") as raised:
        g.save(tmp_path / "f.svg")
    assert "apt-get install graphviz" in str(raised.value)
    assert g.save(tmp_path / "f.dot").read_text() == g.to_dot()  # DOT needs nothing
    assert g._repr_svg_() is None
    assert "text/plain" in g._repr_mimebundle_()
    with pytest.raises(GraphError, match="picture format"):
        g.save(tmp_path / "f.txt")


def test_import_s2s_ad_stays_light() -> None:
    code = "import sys, s2s_ad; print('sympy' in sys.modules, 'subprocess' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["False", "False"]


def test_graph_is_exported() -> None:
    import s2s_ad

    assert "graph" in s2s_ad.__all__
    assert isinstance(s2s_ad.graph(lecture.circuit, 1.0, 2.0, 0.0), Graph)
    graph(lecture.circuit, 1.0, 2.0, 0.0).to_dot()
    assert callable(s2s_ad.graph)  # the function, not the submodule of the same name


# -- SVG (needs Graphviz) --------------------------------------------------------------


@needs_dot
@pytest.mark.parametrize(("stem", "f", "args", "max_nodes"), PICTURES, ids=[p[0] for p in PICTURES])
def test_svg_has_every_node_and_value(
    stem: str, f: Callable[..., Any], args: tuple[Any, ...], max_nodes: int, tmp_path: Path
) -> None:
    g = graph(f, *args)
    svg = g.save(tmp_path / f"{stem}.svg", max_nodes=max_nodes).read_text(encoding="utf-8")
    assert svg.lstrip().startswith("<?xml") and "</svg>" in svg
    shown = re.findall(r"^  n(\d+) \[", g.to_dot(max_nodes), re.MULTILINE)
    for node_id in shown:
        assert f"<title>n{node_id}</title>" in svg
    texts = {html.unescape(t) for t in re.findall(r">([^<>]*)</text>", svg)}
    for node in g.nodes:
        if str(node.id) in shown:
            assert _number(node.value) in texts
            if node.adjoint is not None:
                assert _number(node.adjoint) in texts


def _number(value: Any) -> str:
    return str(value) if isinstance(value, bool) else format(value, ".6g")


@needs_dot
def test_svg_of_the_lecture_shows_the_gradient(tmp_path: Path) -> None:
    svg = graph(lecture.circuit, 1.0, 2.0, 0.0).render("svg").decode()
    assert "gradient (2, 5, 0)" in svg
    assert g_has_png(graph(lecture.circuit, 1.0, 2.0, 0.0).render("png"))


def g_has_png(data: bytes) -> bool:
    return data.startswith(b"\x89PNG")


# -- the command line --------------------------------------------------------------------


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_cli_graph_prints_the_golden_dot(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(GOLDEN)
    status, out, err = run(capsys, "graph", "lecture.py:circuit", "--at", "x=1,y=2,z=0")
    assert (status, err) == (0, "")
    assert out == (GOLDEN / "circuit.dot").read_text(encoding="utf-8")
    status, positional, _ = run(capsys, "graph", "lecture.py:circuit", "--at", "1, 2, 0")
    assert (status, positional) == (0, out)


def test_cli_graph_writes_dot_and_lists(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    target = tmp_path / "norm.dot"
    status, _, err = run(capsys, "graph", f"{LECTURE}:norm", "--at", "xs=[1, 2, 3]", "-o", str(target))
    assert status == 0 and "wrote" in err
    assert target.read_text(encoding="utf-8") == (GOLDEN / "norm.dot").read_text(encoding="utf-8")


@needs_dot
def test_cli_graph_writes_svg(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    target = tmp_path / "f.svg"
    status, _, _ = run(capsys, "graph", f"{LECTURE}:circuit", "--at", "x=1,y=2,z=0", "-o", str(target))
    assert status == 0
    svg = target.read_text(encoding="utf-8")
    assert "gradient (2, 5, 0)" in svg and "<title>n6</title>" in svg


def test_cli_graph_without_graphviz(capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shutil, "which", lambda name: None)
    status, out, err = run(capsys, "graph", f"{LECTURE}:circuit", "--at", "1,2,0", "-o", str(tmp_path / "f.png"))
    assert status == 1 and "Traceback" not in err
    assert "Graphviz" in err and "apt-get install graphviz" in err
    assert not (tmp_path / "f.png").exists()


def test_cli_trace(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run(capsys, "trace", f"{LECTURE}:circuit", "--at", "x=1,y=2,z=0")
    assert (status, err) == (0, "")
    assert out.replace(str(LECTURE), "lecture.py") == (GOLDEN / "circuit.trace.txt").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["graph", "lecture.py:circuit", "--at", "x=1,y=oops,z=0"], "is not a number"),
        (["graph", "lecture.py:circuit", "--at", "x=1,2"], "without a name"),
        (["graph", "lecture.py:circuit,norm", "--at", "1,2,3"], "one function"),
        (["graph", "lecture.py:circuit", "--at", "1,2,0", "-o", "f.txt"], "picture format"),
        (["trace", "lecture.py:circuit"], "--at"),
    ],
)
def test_cli_usage_errors(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(GOLDEN)
    status, _, err = run(capsys, *argv)
    assert status == 2 and message in err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["trace", "lecture.py:circuit", "--at", "1,2"], "no value for z"),
        (["trace", "lecture.py", "--at", "1"], "name one as FILE:NAME"),
        (["trace", "lecture.py:nothing", "--at", "1"], "no top-level function 'nothing'"),
        (["trace", "lecture.py:doubling", "--at", "x=-1"], "did not finish"),
        (["graph", "lecture.py:circuit", "--at", "1,2,0", "-o", "lecture.py"], "refusing to write over the input"),
    ],
)
def test_cli_refusals(argv: list[str], message: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(GOLDEN)
    status, _, err = run(capsys, *argv)
    assert status == 1 and message in err and "Traceback" not in err
