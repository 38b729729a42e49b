"""Second derivatives: the generated code of every example differentiated again.

For every function an example lists in `GOLDEN`:

- `hessian` (forward mode over the generated gradient) works for the
  functions of numbers, is symmetric and agrees with finite differences of
  the generated gradient; functions of lists are refused with an `S2SError`
  and work with `wrt` naming their number parameters;
- `grad(grad(f))` (reverse over reverse, by re-reading the generated source)
  either works and agrees with finite differences of the gradient and with
  the Hessian, or is refused with a clean `S2SError`: which one is written
  down per function in `REREAD`. Straight-line examples must work.

Random straight-line programs: `grad(grad(f, wrt=0), wrt=j)` is row 0 of the
Hessian and SymPy's second derivative. Newton's method on Rosenbrock
(examples/newton_rosenbrock.py) converges in a handful of steps.
"""

from __future__ import annotations

import functools
import inspect
import re
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest

sympy = pytest.importorskip("sympy")
from hypothesis import assume, given, note  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from test_forward import (  # noqa: E402
    EXAMPLES,
    ROOT,
    SETTINGS,
    evaluate,
    example,
    load_program,
    programs,
    random_point,
    smooth_point,
    symbols,
    sympy_formula,
)

from s2s_ad import S2SError, grad, hessian  # noqa: E402

STEMS = sorted(path.stem for path in EXAMPLES.glob("*.py") if re.search(r"^GOLDEN\s*=", path.read_text(), re.M))

# Points where each function of numbers is smooth (defaults below otherwise).
POINTS: dict[str, tuple[float, ...]] = {
    "planck": (5e-7, 5772.0),
    "lennard_jones": (0.3, -0.2, 3.9, 1.1),
    "projectile_range": (20.0, 0.5, 9.81),
    "circuit": (0.7, 1.3, 0.4),
    "huber": (0.3, 1.0),
    "newton_sqrt": (2.0,),
    "scaled_root": (7.0, 1.5),
}
DEFAULTS = (0.7, -1.3, 0.4, 1.9)

LOOP_TAPE = "records on a tape (`_tape`)"  # a stack of tuples is not read back

# What `grad(grad(f, wrt=i), wrt=i)` does for each example function, re-reading generated code:
# "works", or the refusal's message (a clean S2SError).
REREAD: dict[str, str] = {  # huber_fit and bce_loss only accumulate: their gradients have no tape, and work
    "logistic_regression.bce_loss": "scalar-output",  # wrt=0 is the list w: its gradient is a list (wrt b: below)
    "mlp.mlp_loss": "putting a new list in place of a row",  # its gradient tapes each sample's hidden list
    "newton_sqrt.newton_sqrt": LOOP_TAPE,
    "newton_sqrt.scaled_root": LOOP_TAPE,  # wrt a, which the loop reads (wrt c works: see below)
}
EXPECTED_FAILURES: dict[str, Any] = {}  # key -> pytest.mark.xfail(strict=True, ...) for a known core bug


def golden_functions() -> list[tuple[str, str]]:
    return [(stem, f.__name__) for stem in STEMS for f in example(stem).GOLDEN]


def function_of(key: str) -> Callable[..., Any]:
    stem, name = key.split(".")
    return getattr(example(stem), name)


def is_number_function(f: Callable[..., Any]) -> bool:
    """Whether every parameter is a number (the examples annotate their parameters)."""
    return all(annotation == "float" for name, annotation in f.__annotations__.items() if name != "return")


def point_of(f: Callable[..., Any]) -> tuple[Any, ...]:
    if f.__name__ == "huber_fit":  # its golden point puts one residual exactly on the kink |r| = delta
        return (1.4, 0.5, example("huber").XS, example("huber").YS)
    return POINTS.get(f.__name__, DEFAULTS[: f.__code__.co_argcount])


def as_tuple(value: Any) -> tuple[float, ...]:
    return value if isinstance(value, tuple) else (value,)


def numeric_hessian(gradient: Callable[..., Any], point: Sequence[float], args: Sequence[Any] = ()) -> list[list[float]]:
    """Central differences of a generated gradient: entry (i, j) is d gradient_i / d x_j."""
    n = len(point)
    columns = []
    for j in range(n):
        h = 1e-5 * (abs(point[j]) or 1.0)  # relative: Planck's wavelength is 5e-7
        up = [p + (h if k == j else 0.0) for k, p in enumerate(point)]
        down = [p - (h if k == j else 0.0) for k, p in enumerate(point)]
        columns.append([(a - b) / (2 * h) for a, b in zip(as_tuple(gradient(*up, *args)), as_tuple(gradient(*down, *args)))])
    return [[columns[j][i] for j in range(n)] for i in range(n)]


def assert_close_matrix(got: Sequence[Sequence[float]], expected: Sequence[Sequence[float]], rel: float) -> None:
    scale = max(1e-300, *(abs(v) for row in expected for v in row))
    for got_row, row in zip(got, expected, strict=True):
        for a, b in zip(got_row, row, strict=True):
            assert abs(a - b) <= rel * max(abs(b), 1e-3 * scale), (got, expected)


def keyed(pairs: list[tuple[str, str]]) -> list[Any]:
    keys = [f"{stem}.{name}" for stem, name in pairs]
    return [pytest.param(k, marks=EXPECTED_FAILURES[k], id=k) if k in EXPECTED_FAILURES else pytest.param(k, id=k) for k in keys]


NUMBER_FUNCTIONS = [p for p in golden_functions() if is_number_function(function_of(".".join(p)))]
LIST_FUNCTIONS = [p for p in golden_functions() if not is_number_function(function_of(".".join(p)))]


def test_every_example_is_covered() -> None:
    assert {
        "backprop_lecture",
        "huber",
        "logistic_regression",
        "mlp",
        "newton_rosenbrock",
        "newton_sqrt",
        "physics",
        "rosenbrock",
    } <= set(STEMS)
    assert len(NUMBER_FUNCTIONS) >= 15 and len(LIST_FUNCTIONS) == 3


# -- hessian: forward over reverse ---------------------------------------------


@pytest.mark.parametrize("key", keyed(NUMBER_FUNCTIONS))
def test_hessian_of_every_number_example_is_symmetric_and_matches_finite_differences(key: str) -> None:
    f = function_of(key)
    point = point_of(f)
    matrix = hessian(f)(*point)
    n = len(point)
    assert len(matrix) == n and all(len(row) == n for row in matrix)
    scale = max(1e-300, *(abs(v) for row in matrix for v in row))
    for i in range(n):
        for j in range(i):
            assert abs(matrix[i][j] - matrix[j][i]) <= 1e-12 * scale
    assert_close_matrix(matrix, numeric_hessian(grad(f), point), 1e-5)


# The number parameters of the functions of lists, and their data.
LIST_CALLS: dict[str, Callable[[], tuple[tuple[str, ...], tuple[float, ...], tuple[Any, ...], tuple[Any, ...]]]] = {
    # key: (wrt, point of the wrt parameters, arguments before them, arguments after them)
    "huber.huber_fit": lambda: (("a", "b"), (2.0, 1.0), (), (example("huber").XS, example("huber").YS)),
    "logistic_regression.bce_loss": lambda: (
        ("b",),
        (0.1,),
        ([0.3, -0.4],),
        (example("logistic_regression").DATA_X, example("logistic_regression").DATA_Y),
    ),
    "mlp.mlp_loss": lambda: (
        ("b2",),
        (0.3,),
        (example("mlp").W1_START, example("mlp").B1_START, example("mlp").W2_START),
        (example("mlp").DATA_X, example("mlp").DATA_Y),
    ),
}


@pytest.mark.parametrize("key", [f"{s}.{n}" for s, n in LIST_FUNCTIONS])
def test_hessian_of_list_examples_is_refused_and_works_with_wrt_numbers(key: str) -> None:
    f = function_of(key)
    with pytest.raises(S2SError, match="take number parameters"):
        hessian(f)
    wrt, point, before, after = LIST_CALLS[key]()
    matrix = hessian(f, wrt=wrt)(*before, *point, *after)

    def gradient(*values: float) -> Any:
        return grad(f, wrt=wrt if len(wrt) > 1 else wrt[0])(*before, *values, *after)

    assert_close_matrix(matrix, numeric_hessian(gradient, point), 1e-5)


# -- grad(grad(f)): re-reading the generated gradient ----------------------------


def test_grad_of_grad_through_a_loop_that_only_accumulates() -> None:
    """The gradient of a sum over samples has no tape (each sample is computed again in reverse), so it
    can be read back and differentiated again, loops and all."""
    module = example("logistic_regression")
    w, X, y = [0.3, -0.4], module.DATA_X, module.DATA_Y
    second = grad(grad(module.bce_loss, wrt="b"), wrt="b")
    first = grad(module.bce_loss, wrt="b")
    h = 1e-5
    numeric = (first(w, 0.1 + h, X, y) - first(w, 0.1 - h, X, y)) / (2 * h)
    assert second(w, 0.1, X, y) == pytest.approx(numeric, rel=1e-6)
    assert second(w, 0.1, X, y) == pytest.approx(hessian(module.bce_loss, wrt="b")(w, 0.1, X, y), rel=1e-12)


@pytest.mark.parametrize("key", keyed(golden_functions()))
def test_grad_of_grad_of_every_example_works_or_is_refused_cleanly(key: str) -> None:
    f = function_of(key)
    n = f.__code__.co_argcount
    expected = REREAD.get(key, "works")
    if expected != "works":
        with pytest.raises(S2SError, match=re.escape(expected)):
            grad(grad(f, wrt=0), wrt=0)
        return
    point = point_of(f)
    second = grad(grad(f, wrt=0), wrt=0)(*point)
    first = grad(f, wrt=0)
    h = 1e-5 * (abs(point[0]) or 1.0)
    numeric = (first(point[0] + h, *point[1:]) - first(point[0] - h, *point[1:])) / (2 * h)
    assert second == pytest.approx(numeric, rel=1e-5, abs=1e-9 * max(1.0, abs(numeric)))
    if n == 1:  # the whole gradient is a number: grad(grad(f)) itself
        assert grad(grad(f))(*point) == second
    else:  # the whole gradient is a tuple: not a scalar function
        with pytest.raises(S2SError, match="scalar-output"):
            grad(grad(f))


@pytest.mark.parametrize(
    "key",
    [f"{s}.{n}" for s, n in NUMBER_FUNCTIONS if f"{s}.{n}" not in REREAD and function_of(f"{s}.{n}").__code__.co_argcount > 1],
)
def test_reverse_over_reverse_is_the_hessian_of_straight_line_examples(key: str) -> None:
    """Every mixed second derivative by grad(grad(f, wrt=i), wrt=j) equals the Hessian's entry."""
    f = function_of(key)
    point = point_of(f)
    matrix = hessian(f)(*point)
    n = len(point)
    scale = max(1e-300, *(abs(v) for row in matrix for v in row))
    for i in range(n):
        for j in range(n):
            entry = grad(grad(f, wrt=i), wrt=j)(*point)
            assert abs(entry - matrix[i][j]) <= 1e-10 * max(abs(matrix[i][j]), 1e-3 * scale), (i, j)


def test_scaled_root_rereads_where_the_loop_is_not_active() -> None:
    """d/dc of c * sqrt(a) + a: the `while` loop does not depend on c, so its gradient re-reads."""
    scaled_root = example("newton_sqrt").scaled_root
    assert grad(grad(scaled_root, wrt="c"), wrt="c")(7.0, 1.5) == 0.0
    assert grad(grad(scaled_root, wrt="c"), wrt="a")(7.0, 1.5) == pytest.approx(0.5 / 7.0**0.5, rel=1e-12)
    with pytest.raises(S2SError, match=re.escape(LOOP_TAPE)):
        grad(grad(scaled_root, wrt="a"), wrt="a")


def test_generated_second_derivative_code_is_readable() -> None:
    f = example("backprop_lecture").exp_sin_square
    source = inspect.getsource(grad(grad(f)))
    assert source.startswith("def exp_sin_square_grad_grad(x):\n")
    assert "x_bar" in source and "# reverse sweep" in source
    products = inspect.getsource(hessian(f).__wrapped__)
    assert products.startswith("def exp_sin_square_hvp(primals, tangents):\n")
    assert "x_bar_dot" in products


# -- random straight-line programs ---------------------------------------------


@pytest.fixture(scope="module")
def directory(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("second_order_programs")


@SETTINGS
@given(program=programs(depth=2), point=st.lists(st.floats(-2.0, 2.0), min_size=3, max_size=3))
def test_random_programs_reverse_over_reverse_matches_hessian_and_sympy(
    directory: Path, program: tuple[str, tuple[str, ...]], point: list[float]
) -> None:
    source, params = program
    note(source)
    f = load_program(source, directory)
    point = random_point(point[: len(params)])
    assume(smooth_point(f, point))
    try:
        matrix = hessian(f)(*point)
        row = [grad(grad(f, wrt=0), wrt=j)(*point) for j in range(len(params))]
    except (ArithmeticError, ValueError):
        assume(False)
    xs = symbols(len(params))
    expression = sympy_formula(source)(*xs)
    at = dict(zip(xs, point))
    expected = [evaluate(sympy.diff(expression, xs[0], x), at) for x in xs]
    assume(all(v is not None for v in expected))
    note(f"grad(grad) {row}, hessian {matrix[0]}, sympy {expected}")
    scale = max(1.0, *(abs(v) for v in expected))  # type: ignore[arg-type]
    for got, via_forward, want in zip(row, matrix[0], expected):
        assert abs(got - via_forward) <= 1e-9 * scale
        assert abs(got - want) <= 1e-7 * scale  # type: ignore[operator]


# -- Newton's method with the generated Hessian ----------------------------------


@functools.cache
def newton_run() -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(EXAMPLES / "newton_rosenbrock.py")], capture_output=True, text=True, timeout=300, cwd=ROOT
    )


def test_newton_rosenbrock_script_reaches_the_minimum_in_a_handful_of_steps() -> None:
    result = newton_run()
    assert result.returncode == 0, result.stdout + result.stderr
    assert "MISMATCH" not in result.stdout
    steps = re.search(r"(\d+) Newton steps from \(-1\.2, 1\.0\)", result.stdout)
    assert steps is not None and int(steps.group(1)) <= 10
    assert "reaches the minimum (1, 1)" in result.stdout
    assert "def rosenbrock_hvp(primals, tangents):" in result.stdout


def test_newton_rosenbrock_in_process() -> None:
    module = example("newton_rosenbrock")
    path, agree = module.newton()
    assert agree
    x, y = path[-1]
    assert abs(x - 1) <= 1e-10 and abs(y - 1) <= 1e-10
    assert len(path) - 1 <= 10
    assert module.newton_step((2.0, 4.0), ((2.0, 0.0), (0.0, 4.0))) == (-1.0, -1.0)
