"""The examples' gradient modules, written by the command line and run in a fresh interpreter.

For every function an example lists in `GOLDEN`, `s2s-ad grad` writes a
standalone module; a new Python process imports it (with the examples'
directory on its path for their data, and without s2s_ad being imported)
and the gradient it prints is compared with central finite differences of
the original function. Given a whole example file, the command writes every
differentiable function and exits 0; the README quick start's main job runs
on what it wrote.
"""

from __future__ import annotations

import copy
import importlib
import json
import math
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from s2s_ad.cli import main

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
DEFAULT_POINT = (0.7, 1.3, -0.4, 0.9, 1.1, -1.2)


def example_functions() -> list[tuple[str, str]]:
    sys.path.insert(0, str(EXAMPLES))
    try:
        found = []
        for path in sorted(EXAMPLES.glob("*.py")):
            module = importlib.import_module(path.stem)
            for function in getattr(module, "GOLDEN", ()):
                found.append((path.stem, function.__name__))
        return found
    finally:
        sys.path.remove(str(EXAMPLES))


def load(stem: str, name: str) -> tuple[Callable[..., Any], tuple[Any, ...]]:
    sys.path.insert(0, str(EXAMPLES))
    try:
        module = importlib.import_module(stem)
    finally:
        sys.path.remove(str(EXAMPLES))
    function = getattr(module, name)
    points = getattr(module, "GOLDEN_POINTS", {})
    count = function.__code__.co_argcount
    return function, tuple(points.get(name, DEFAULT_POINT[:count]))


def finite_differences(f: Callable[..., float], point: tuple[Any, ...], h: float = 1e-6) -> list[Any]:
    """d f / d each argument; for a list argument, a list of the same shape."""

    def along(path: tuple[int, ...]) -> float:
        def shifted(step: float) -> float:
            args = copy.deepcopy(list(point))
            holder: Any = args
            for index in path[:-1]:
                holder = holder[index]
            holder[path[-1]] += step
            return f(*args)

        return (shifted(h) - shifted(-h)) / (2 * h)

    def shaped(value: Any, path: tuple[int, ...]) -> Any:
        if isinstance(value, list):
            return [shaped(v, path + (i,)) for i, v in enumerate(value)]
        if isinstance(value, int) and not isinstance(value, bool) and len(path) == 1:
            return None  # an integer parameter (a count): no gradient
        return along(path)

    return [shaped(value, (i,)) for i, value in enumerate(point)]


def close(got: Any, expected: Any) -> bool:
    if expected is None:
        return True
    if isinstance(expected, list):
        return isinstance(got, list) and len(got) == len(expected) and all(map(close, got, expected))
    return math.isclose(got, expected, rel_tol=1e-5, abs_tol=1e-6)


@pytest.mark.parametrize("stem, name", example_functions(), ids=lambda v: v)
def test_written_module_runs_alone_and_agrees_with_finite_differences(stem: str, name: str, tmp_path: Path) -> None:
    function, point = load(stem, name)
    assert main(["grad", f"{EXAMPLES / stem}.py:{name}", "-o", f"{tmp_path}/", "-q"]) == 0
    written = tmp_path / f"{stem}_{name}_grad.py"
    assert written.exists()
    assert "s2s_ad" not in "".join(line for line in written.read_text().splitlines(True) if "import" in line)
    program = (
        "import json, sys\n"
        f"sys.path[:0] = [{str(tmp_path)!r}, {str(EXAMPLES)!r}]\n"
        f"from {stem}_{name}_grad import {name}_grad\n"
        f"gradient = {name}_grad(*json.loads(sys.argv[1]))\n"
        "assert 's2s_ad' not in sys.modules\n"
        "print(json.dumps(gradient if isinstance(gradient, tuple) else [gradient]))\n"
    )
    result = subprocess.run([sys.executable, "-c", program, json.dumps(point)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    gradient = json.loads(result.stdout)
    expected = finite_differences(function, point)
    assert len(gradient) == len(expected)
    for got, truth in zip(gradient, expected):
        assert close(got, truth), (name, got, truth)


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.py")), ids=lambda p: p.name)
def test_whole_example_file_writes_every_differentiable_function(path: Path, tmp_path: Path, capsys: Any) -> None:
    """`s2s-ad grad examples/X.py -o DIR/`: helpers and drivers are left out (notes under -v), exit status 0.
    The NumPy examples' arrays are given shapes (the command line never runs the file to see them)."""
    status = main(["grad", str(path), "-o", f"{tmp_path}/", "-v", *NUMPY_SHAPES.get(path.name, ())])
    err = capsys.readouterr().err
    assert status == 0, err
    assert ": error: " not in err
    written = {p.name for p in tmp_path.iterdir()}
    for stem, name in example_functions():
        if stem == path.stem:
            assert f"{stem}_{name}_grad.py" in written
    notes = [line for line in err.splitlines() if line.startswith("s2s-ad: note: left out")]
    assert len(notes) + len(written) == len(_top_level(path))  # every function is written or has its note


NUMPY_SHAPES = {
    "numpy_rnn.py": ("--shapes", "Wx=8x1,Wh=8x8,b=8x1,v=1x8,xs=5x1x20,y=1x20"),
    "numpy_softmax_digits.py": ("--shapes", "W=64x10,b=10,X=50x64,Y=50x10,labels=50:int"),
    "numpy_two_layer.py": ("--shapes", "W1=2x16,b1=16,W2=16x3,b2=3,X=50x2,Y=50x3"),
    "numpy_window_ner.py": ("--shapes", "E=40x4,W=6x12,b=6,u=6,ids=30x3:int,y=30"),
}


def _top_level(path: Path) -> list[str]:
    """The top-level functions and the methods of the top-level classes (`Class.method`) of a file."""
    import ast

    names = []
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.FunctionDef):
            names.append(node.name)
        elif isinstance(node, ast.ClassDef):
            names += [f"{node.name}.{m.name}" for m in node.body if isinstance(m, ast.FunctionDef)]
    return names


def quick_start_commands() -> list[str]:
    """The README quick start's main job after `pip install -e .`: the commands it runs, in order."""
    readme = (EXAMPLES.parent / "README.md").read_text()
    block = readme.split("## Quick start", 1)[1].split("```sh\n", 1)[1].split("```", 1)[0]
    commands = [part.strip().rstrip("\\").strip() for part in block.replace("\\\n", " ").split("&&")]
    return commands[next(k for k, c in enumerate(commands) if c.startswith("pip install -e .")) + 1 :]


def test_the_quick_start_main_job_uses_the_module_it_writes(tmp_path: Path) -> None:
    commands = quick_start_commands()
    assert commands and all(c.startswith(("s2s-ad ", "python ")) for c in commands)
    written = [c.split("-o ", 1)[1].split()[0] for c in commands if c.startswith("s2s-ad ")]
    run = [c for c in commands if c.startswith("python ")]
    assert run and all(any(out.rstrip("/") in c for out in written) for c in run)  # the job reads what it wrote
    shutil.copytree(EXAMPLES, tmp_path / "examples")
    outputs = []
    for command in commands:
        argv = command.split()
        argv = [sys.executable, "-m", "s2s_ad", *argv[1:]] if argv[0] == "s2s-ad" else [sys.executable, *argv[1:]]
        result = subprocess.run(argv, cwd=tmp_path, capture_output=True, text=True, timeout=300, check=False)
        assert result.returncode == 0, (command, result.stdout, result.stderr)
        outputs.append(result.stdout)
    assert "Using bce_loss_grad written to build/logistic_regression_bce_loss_grad.py" in "".join(outputs)
    assert "accuracy 100%" in "".join(outputs) and "MISMATCH" not in "".join(outputs)
    assert "Using two_layer_loss_grad written to build/numpy_two_layer_two_layer_loss_grad.py" in result.stdout
