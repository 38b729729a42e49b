"""Golden files: the generated source of the example functions, compared byte for byte.

Generated code is what users read, paste and step through, and it is
deterministic, so any change to it should be a deliberate one. Every module
in `examples/` that defines `GOLDEN` (a tuple of its functions) has, for each
of them, a golden file `tests/golden/<module>/<function>_grad.py` holding the
whole generated module of `grad(function)`.

After an intended change to the generated code, refresh the golden files with

    S2S_AD_REFRESH_GOLDEN=1 python -m pytest tests/test_golden.py

which rewrites them (and removes those of functions that are gone); review the
diff of `tests/golden/` before committing it.

The example scripts also run here, in a subprocess: each compares its
gradients with textbook closed forms and exits non-zero on a disagreement.
"""

from __future__ import annotations

import ast
import importlib.util
import linecache
import math
import os
import subprocess
import sys
import types
from collections.abc import Callable
from functools import cache
from pathlib import Path

import pytest
from conftest import central_difference

from s2s_ad import grad

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
GOLDEN = Path(__file__).resolve().parent / "golden"
REFRESH = os.environ.get("S2S_AD_REFRESH_GOLDEN") == "1"


def _defines_golden(path: Path) -> bool:
    """Whether a module opts in, read from its source so other examples are never imported."""
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"))
    except SyntaxError:
        return False
    return any(
        isinstance(stmt, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "GOLDEN" for t in stmt.targets)
        for stmt in tree.body
    )


GOLDEN_MODULES = sorted(path.stem for path in EXAMPLES.glob("*.py") if _defines_golden(path))


@cache
def load_example(stem: str) -> types.ModuleType:
    spec = importlib.util.spec_from_file_location(f"examples_{stem}", EXAMPLES / f"{stem}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def golden_functions() -> list[tuple[str, str]]:
    return [(stem, function.__name__) for stem in GOLDEN_MODULES for function in load_example(stem).GOLDEN]


def generated_module(function: Callable[..., float]) -> str:
    """The whole generated module behind `grad(function)`, as registered for `inspect`/tracebacks."""
    derivative = grad(function)
    text = "".join(linecache.getlines(derivative.__code__.co_filename))
    assert text, "the generated module is registered in linecache"
    return text


def golden_path(stem: str, name: str) -> Path:
    return GOLDEN / stem / f"{name}_grad.py"


@pytest.mark.parametrize("stem, name", golden_functions(), ids=lambda v: v)
def test_generated_source_matches_golden_file(stem: str, name: str) -> None:
    function = getattr(load_example(stem), name)
    text = generated_module(function)
    path = golden_path(stem, name)
    if REFRESH:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(text.encode("utf-8"))
        return
    assert path.exists(), f"no golden file {path}; create it with S2S_AD_REFRESH_GOLDEN=1 python -m pytest {__file__}"
    assert text.encode("utf-8") == path.read_bytes(), (
        f"generated code of {stem}.{name} differs from {path}; if the change is intended, refresh with "
        f"S2S_AD_REFRESH_GOLDEN=1 python -m pytest tests/test_golden.py"
    )


def test_no_stale_golden_files() -> None:
    """Every golden file belongs to a function some example still lists in GOLDEN."""
    wanted = {golden_path(stem, name) for stem, name in golden_functions()}
    present = set(GOLDEN.glob("*/*_grad.py")) if GOLDEN.exists() else set()
    present = {p for p in present if p.parent.name != "numpy"}  # the NumPy examples': tests/test_numpy_codegen.py
    stale = present - wanted
    if REFRESH:
        for path in stale:
            path.unlink()
        return
    assert not stale, f"golden files without an example function: {sorted(map(str, stale))}"


def test_every_golden_module_is_found() -> None:
    assert {"backprop_lecture", "rosenbrock", "physics"} <= set(GOLDEN_MODULES)


@pytest.mark.parametrize("stem, name", golden_functions(), ids=lambda v: v)
def test_golden_file_is_a_correct_standalone_gradient(stem: str, name: str) -> None:
    """The golden text, run on its own (given the module-level numbers it reads by name, as the compiled gradient's
    namespace and the command line's module give them), agrees with finite differences of the example function."""
    if REFRESH:
        pytest.skip("refreshing")
    function = getattr(load_example(stem), name)
    namespace: dict[str, object] = {k: v for k, v in vars(load_example(stem)).items() if type(v) is float}
    exec(compile(golden_path(stem, name).read_text(), str(golden_path(stem, name)), "exec"), namespace)  # noqa: S102
    standalone = namespace[f"{name}_grad"]
    arity = function.__code__.co_argcount
    points = getattr(load_example(stem), "GOLDEN_POINTS", {})
    if name in points and not all(isinstance(p, (int, float)) for p in points[name]):
        _assert_list_gradient(function, standalone, points[name])  # type: ignore[arg-type]
        return
    point = points.get(name) or _smooth_point(function, arity)
    # A step relative to each coordinate: Planck's wavelength is 5e-7, its temperature 5772.
    expected = tuple(central_difference(function, point, i, h=1e-6 * (abs(p) or 1.0)) for i, p in enumerate(point))
    got = standalone(*point)  # type: ignore[operator]
    got = got if isinstance(got, tuple) else (got,)
    scale = max(1.0, *map(abs, expected))
    assert got == pytest.approx(expected, rel=1e-5, abs=1e-6 * scale)


def _assert_list_gradient(function: Callable[..., float], standalone: Callable[..., object], point: tuple[object, ...]) -> None:
    """The same comparison for functions of lists: every entry of every argument, flattened."""

    def flat(value: object) -> list[float]:
        return [x for item in value for x in flat(item)] if isinstance(value, (list, tuple)) else [value]  # type: ignore[list-item, attr-defined]

    def entries(value: object, path: tuple[int, ...] = ()) -> list[tuple[int, ...]]:
        return [e for i, item in enumerate(value) for e in entries(item, path + (i,))] if isinstance(value, list) else [path]  # type: ignore[arg-type]

    def moved(args: tuple[object, ...], where: tuple[int, ...], h: float) -> list[object]:
        copy = [__import__("copy").deepcopy(a) for a in args]
        if len(where) == 1:
            copy[where[0]] += h  # type: ignore[operator]
            return copy
        holder = copy[where[0]]
        for i in where[1:-1]:
            holder = holder[i]  # type: ignore[index]
        holder[where[-1]] += h  # type: ignore[index]
        return copy

    expected = []
    for where in [(i,) + e for i, arg in enumerate(point) for e in entries(arg)]:
        h = 1e-6
        expected.append((function(*moved(point, where, h)) - function(*moved(point, where, -h))) / (2 * h))
    got = flat(standalone(*point))
    scale = max(1.0, *map(abs, expected))
    assert got == pytest.approx(expected, rel=1e-5, abs=1e-6 * scale)


# Points in each example function's domain where it is smooth (the defaults suit the rest).
POINTS: dict[str, tuple[float, ...]] = {
    "planck": (5e-7, 5772.0),
    "lennard_jones": (0.3, -0.2, 3.9, 1.1),
    "projectile_range": (20.0, 0.5, 9.81),
}


def _smooth_point(function: Callable[..., float], arity: int) -> tuple[float, ...]:
    if function.__name__ in POINTS:
        return POINTS[function.__name__]
    defaults = (0.7, -1.3, 0.4, 1.9, -0.6)
    point = defaults[:arity]
    assert math.isfinite(function(*point))
    return point


@pytest.mark.parametrize(
    "script",
    [
        "backprop_lecture.py",
        "rosenbrock.py",
        "physics.py",
        "logistic_regression.py",
        "mlp.py",
        "newton_sqrt.py",
        "huber.py",
        "newton_rosenbrock.py",
    ],
)
def test_example_script_runs_and_agrees_with_textbooks(script: str) -> None:
    result = subprocess.run([sys.executable, str(EXAMPLES / script)], capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "MISMATCH" not in result.stdout
    assert "def " in result.stdout  # each script shows generated code


def test_backprop_lecture_prints_textbook_values() -> None:
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / "backprop_lecture.py")], capture_output=True, text=True, timeout=300, cwd=ROOT
    )
    lines = result.stdout.splitlines()
    circuit = next(line for line in lines if line.startswith("(x + y) * max(y, z)"))
    assert circuit.count("(2, 5, 0)") == 2 and circuit.endswith("ok")
    cube = next(line for line in lines if line.startswith("z = x**3; z**2"))
    assert cube.count("(192)") == 2
    assert "def circuit_grad(x, y, z):" in result.stdout
