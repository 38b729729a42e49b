"""`jacobian`, `hessian`, `vjp` and `has_aux`, against SymPy and finite differences.

- Hessians (forward mode over the generated gradient) of every scalar
  example against `sympy.hessian` of the formula written independently in
  tests/test_forward.py, against finite differences of the generated
  gradient, and symmetric to rounding; also through branches, `while` and
  `for` loops, and with `wrt` picking the number parameters of functions of
  lists. Random straight-line programs likewise.
- Jacobians of functions returning tuples: forward and reverse mode agree
  with each other, with `sympy.Matrix.jacobian` and with finite differences.
- `vjp`: the pullback of a scalar function is the gradient scaled; of a
  tuple, the adjoint-weighted sum of the Jacobian's rows.
- `has_aux` as in JAX: `grad` returns `(gradient, aux)`, `value_and_grad`
  returns `((value, aux), gradient)`.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest

sympy = pytest.importorskip("sympy")
from hypothesis import assume, given, note  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from test_forward import (  # noqa: E402
    CASES,
    SETTINGS,
    Case,
    _bce,
    along,
    evaluate,
    example,
    load_program,
    programs,
    random_point,
    smooth_point,
    symbols,
    sympy_formula,
    sympy_gradient,
    sympy_hessian,
)

from s2s_ad import S2SError, grad, hessian, jacobian, value_and_grad, vjp  # noqa: E402


def gradient_tuple(f: Callable[..., Any], point: Sequence[float], **options: Any) -> tuple[float, ...]:
    g = grad(f, **options)(*point)
    return g if isinstance(g, tuple) else (g,)


def numeric_hessian(f: Callable[..., float], point: Sequence[float]) -> list[list[float]]:
    """Central finite differences of the generated gradient: column j is d gradient / d x_j."""
    n = len(point)
    columns = []
    for j in range(n):
        h = 1e-5 * max(1.0, abs(point[j])) if abs(point[j]) > 1e-3 else 1e-5 * abs(point[j]) or 1e-5
        unit = [h if k == j else 0.0 for k in range(n)]
        up = gradient_tuple(f, [p + u for p, u in zip(point, unit)])
        down = gradient_tuple(f, [p - u for p, u in zip(point, unit)])
        columns.append([(a - b) / (2 * h) for a, b in zip(up, down)])
    return [[columns[j][i] for j in range(n)] for i in range(n)]


def assert_matrix(got: Sequence[Sequence[float]], expected: Sequence[Sequence[float]], rel: float) -> None:
    scale = max(1e-300, *(abs(v) for row in expected for v in row))
    assert len(got) == len(expected)
    for got_row, row in zip(got, expected):
        assert len(got_row) == len(row)
        for a, b in zip(got_row, row):
            assert abs(a - b) <= rel * max(abs(b), 1e-3 * scale), (got, expected)


def approx_matrix(matrix: Sequence[Sequence[float]], rel: float) -> tuple[Any, ...]:
    """`pytest.approx` row by row (it does not take nested sequences)."""
    return tuple(pytest.approx(tuple(row), rel=rel) for row in matrix)


def assert_symmetric(matrix: Sequence[Sequence[float]], floor: float = 1e-300) -> None:
    """Symmetric to rounding; `floor` is the smallest scale rounding is measured against."""
    scale = max(floor, *(abs(v) for row in matrix for v in row))
    for i in range(len(matrix)):
        for j in range(i):
            assert abs(matrix[i][j] - matrix[j][i]) <= 1e-12 * scale, (i, j, matrix)


# -- Hessians of the examples --------------------------------------------------


@pytest.mark.parametrize("case", CASES, ids=str)
def test_hessian_of_examples_matches_sympy_hessian_and_finite_differences(case: Case) -> None:
    matrix = hessian(case.function)(*case.point)
    assert_symmetric(matrix)
    assert_matrix(matrix, sympy_hessian(case.formula, case.point), 1e-7)
    assert_matrix(matrix, numeric_hessian(case.function, case.point), 1e-5)


def test_hessian_rows_are_tuples_and_the_product_function_returns_the_gradient() -> None:
    rosenbrock = example("newton_rosenbrock").rosenbrock
    matrix = hessian(rosenbrock)(-1.2, 1.0)
    assert matrix == ((1330.0, 480.0), (480.0, 200.0))  # 2 - 400 (y - 3 x^2), -400 x, 200: exact here
    products = hessian(rosenbrock).__wrapped__
    gradient, product = products((-1.2, 1.0), (1.0, 2.0))
    assert gradient == grad(rosenbrock)(-1.2, 1.0)
    assert product == pytest.approx((1330.0 + 2 * 480.0, 480.0 + 2 * 200.0), rel=1e-15)


def test_hessian_with_wrt_in_parameter_order_is_the_sub_matrix() -> None:
    case = next(c for c in CASES if c.name == "chain")
    full = hessian(case.function)(*case.point)
    sub = hessian(case.function, wrt=("x", "z"))(*case.point)
    assert sub == approx_matrix(((full[0][0], full[0][2]), (full[2][0], full[2][2])), 1e-14)
    assert hessian(case.function, wrt="y")(*case.point) == pytest.approx(full[1][1], rel=1e-14)  # bare, as grad


def test_hessian_with_wrt_out_of_order_is_the_permuted_sub_matrix() -> None:
    case = next(c for c in CASES if c.name == "chain")
    full = hessian(case.function)(*case.point)
    sub = hessian(case.function, wrt=("z", "x"))(*case.point)
    assert sub == approx_matrix(((full[2][2], full[2][0]), (full[0][2], full[0][0])), 1e-14)
    assert hessian(case.function, wrt="y")(*case.point) == pytest.approx(full[1][1], rel=1e-14)  # bare, as grad


def half_square_or_identity(x: float) -> float:
    if x > 0.0:
        return 0.5 * x * x
    return x


def test_hessian_of_a_branch_minimal() -> None:
    assert hessian(half_square_or_identity)(3.0) == ((1.0,),)


def test_hessian_of_a_branch_reading_only_parameters() -> None:
    assert hessian(half_square_or_identity)(-3.0) == ((0.0,),)
    assert hessian(example("backprop_lecture").circuit)(0.7, 1.3, 0.4) == ((0.0, 1.0, 0.0), (1.0, 2.0, 0.0), (0.0, 0.0, 0.0))


def test_hessian_through_both_branches_of_huber() -> None:
    huber = example("huber").huber
    assert hessian(huber)(0.3, 1.0) == ((1.0, 0.0), (0.0, 0.0))
    assert hessian(huber)(-2.5, 1.0) == ((0.0, -1.0), (-1.0, -1.0))
    assert hessian(huber)(2.5, 2.0) == ((0.0, 1.0), (1.0, -1.0))


def test_hessian_through_a_while_loop_approaches_the_square_roots() -> None:
    newton_sqrt = example("newton_sqrt").newton_sqrt
    for a in (0.3, 2.0, 50.0):
        ((second,),) = hessian(newton_sqrt)(a)
        assert second == pytest.approx(-0.25 * a**-1.5, rel=1e-8)


def test_hessian_of_number_parameters_of_functions_of_lists() -> None:
    logistic = example("logistic_regression")
    w, b = [0.3, -0.4], 0.1
    second = hessian(logistic.bce_loss, wrt="b")(w, b, logistic.DATA_X, logistic.DATA_Y)
    assert second == pytest.approx(sympy_hessian(lambda bias: _bce(w[0], w[1], bias), (b,))[0][0], rel=1e-10)
    mlp = example("mlp")
    second = hessian(mlp.mlp_loss, wrt="b2")(mlp.W1_START, mlp.B1_START, mlp.W2_START, 0.3, mlp.DATA_X, mlp.DATA_Y)
    assert second == pytest.approx(2.0, rel=1e-14)  # the mean of (out - y)**2 is quadratic in b2
    huber = example("huber")
    matrix = hessian(huber.huber_fit, wrt=("a", "b"))(2.0, 1.0, huber.XS, huber.YS)
    inliers = [x for x, y in zip(huber.XS, huber.YS) if y != -20.0]
    expected = ((sum(x * x for x in inliers), sum(inliers)), (sum(inliers), float(len(inliers))))
    assert matrix == approx_matrix(expected, 1e-14)


def test_hessian_refuses_list_parameters_and_tuple_outputs() -> None:
    logistic = example("logistic_regression")
    with pytest.raises(S2SError, match="take number parameters"):
        hessian(logistic.bce_loss)
    with pytest.raises(S2SError, match="scalar-output"):
        hessian(polar)


def test_generated_hessian_code_is_forward_over_reverse() -> None:
    source = inspect.getsource(hessian(example("physics").projectile_range).__wrapped__)
    assert source.startswith("def projectile_range_hvp(primals, tangents):\n")
    assert "v, theta, g = primals" in source and "v_dot, theta_dot, g_dot = tangents" in source
    assert "# reverse sweep" in source
    assert "_bar_dot" in source and "v_bar_dot" in source
    last = source.rstrip().splitlines()[-1]
    assert last.startswith("    return (") and "v_bar_dot" in last


# -- Jacobians -----------------------------------------------------------------


def polar(r: float, theta: float) -> tuple[float, float, float]:
    return r * math.cos(theta), r * math.sin(theta), r * r


def looped(x: float, y: float) -> tuple[float, float]:
    power, total = 1.0, 0.0
    for k in range(4):
        power = power * x
        total += power / (k + 1) + y * math.exp(-k * x)
    if total > 0:
        total = total * y
    return total, power - y


def wide(a: float, b: float, c: float, d: float) -> tuple[float, float]:
    return a * b + math.sin(c * d), math.hypot(a, d) - b / c


def polar_formula(r: Any, t: Any) -> list[Any]:
    return [r * sympy.cos(t), r * sympy.sin(t), r * r]


def wide_formula(a: Any, b: Any, c: Any, d: Any) -> list[Any]:
    return [a * b + sympy.sin(c * d), sympy.sqrt(a**2 + d**2) - b / c]


def sympy_jacobian(formula: Callable[..., list[Any]], point: Sequence[float]) -> list[list[float]]:
    xs = symbols(len(point))
    matrix = sympy.Matrix(formula(*xs)).jacobian(xs)
    at = dict(zip(xs, point))
    return [[float(matrix[i, j].evalf(30, subs=at)) for j in range(len(xs))] for i in range(matrix.rows)]


def numeric_jacobian(f: Callable[..., tuple[float, ...]], point: Sequence[float]) -> list[list[float]]:
    columns = []
    for j in range(len(point)):
        unit = [1.0 if k == j else 0.0 for k in range(len(point))]
        columns.append([along(lambda *a, i=i: f(*a)[i], point, unit, 1e-6) for i in range(len(f(*point)))])
    return [[columns[j][i] for j in range(len(point))] for i in range(len(columns[0]))]


@pytest.mark.parametrize(
    "f, formula, point",
    [
        (polar, polar_formula, (2.0, 0.3)),
        (wide, wide_formula, (0.7, -1.3, 0.4, 1.9)),
        (looped, None, (0.8, 1.2)),
    ],
    ids=["polar", "wide", "looped"],
)
def test_jacobian_forward_and_reverse_agree_with_sympy_and_finite_differences(
    f: Callable[..., tuple[float, ...]], formula: Callable[..., list[Any]] | None, point: tuple[float, ...]
) -> None:
    forward = jacobian(f, mode="fwd")(*point)
    backward = jacobian(f, mode="rev")(*point)
    auto = jacobian(f)(*point)
    assert isinstance(forward, tuple) and all(isinstance(row, tuple) for row in forward)
    assert len(forward) == len(f(*point)) and len(forward[0]) == len(point)
    assert_matrix(forward, backward, 1e-13)
    assert auto == forward or auto == backward
    if formula is not None:
        assert_matrix(forward, sympy_jacobian(formula, point), 1e-12)
    assert_matrix(backward, numeric_jacobian(f, point), 1e-6)


@pytest.mark.parametrize("case", [c for c in CASES if c.straight], ids=str)
def test_jacobian_of_a_scalar_example_is_one_row_the_gradient(case: Case) -> None:
    for mode in ("fwd", "rev"):
        (row,) = jacobian(case.function, mode=mode)(*case.point)
        assert row == pytest.approx(gradient_tuple(case.function, case.point), rel=1e-12)


def test_jacobian_wrt_picks_columns_and_bad_mode_is_refused() -> None:
    full = jacobian(wide)(0.7, -1.3, 0.4, 1.9)
    for mode in ("fwd", "rev"):
        picked = jacobian(wide, wrt=("a", "d"), mode=mode)(0.7, -1.3, 0.4, 1.9)
        assert picked == approx_matrix(tuple((row[0], row[3]) for row in full), 1e-13)
    assert jacobian(wide, wrt=("d", "a"), mode="rev")(0.7, -1.3, 0.4, 1.9) == approx_matrix(
        tuple((row[3], row[0]) for row in full), 1e-13
    )
    with pytest.raises(S2SError, match="mode must be"):
        jacobian(wide, mode="sideways")


def test_forward_jacobian_with_wrt_out_of_order() -> None:
    full = jacobian(wide)(0.7, -1.3, 0.4, 1.9)
    picked = jacobian(wide, wrt=("d", "a"), mode="fwd")(0.7, -1.3, 0.4, 1.9)
    assert picked == approx_matrix(tuple((row[3], row[0]) for row in full), 1e-13)


# -- vjp -------------------------------------------------------------------------


@pytest.mark.parametrize("case", CASES, ids=str)
def test_vjp_of_scalar_examples_is_the_gradient_scaled(case: Case) -> None:
    value, pullback = vjp(case.function)(*case.point)
    assert value == case.function(*case.point)
    gradient = gradient_tuple(case.function, case.point)
    assert pullback(1.0) == pytest.approx(gradient, rel=1e-14)
    assert pullback(-2.5) == pytest.approx(tuple(-2.5 * g for g in gradient), rel=1e-12)
    assert pullback(1.0) == pytest.approx(sympy_gradient(case.formula, case.point), rel=1e-8, abs=1e-12)


def test_vjp_of_a_tuple_is_the_adjoint_weighted_sum_of_jacobian_rows() -> None:
    point, adjoints = (0.7, -1.3, 0.4, 1.9), (0.5, -2.0)
    value, pullback = vjp(wide)(*point)
    assert value == wide(*point)
    rows = sympy_jacobian(wide_formula, point)
    expected = tuple(sum(u * row[j] for u, row in zip(adjoints, rows)) for j in range(len(point)))
    assert pullback(adjoints) == pytest.approx(expected, rel=1e-12)
    _, pullback_c = vjp(wide, wrt="c")(*point)
    assert pullback_c(adjoints) == pytest.approx((expected[2],), rel=1e-12)


# -- has_aux ---------------------------------------------------------------------


def loss_with_aux(w: float, b: float) -> tuple[float, float]:
    prediction = w * 2.0 + b
    loss = (prediction - 1.0) ** 2 + 0.1 * w * w
    return loss, prediction


def loss_with_two_aux(w: float, b: float) -> tuple[float, float, float]:
    loss = math.exp(w) * b
    return loss, w + b, w * b


def loss_with_list_aux(w: float, b: float) -> tuple[float, list[float]]:
    return w * b, [w, b]


def test_has_aux_grad_returns_gradient_and_aux_like_jax() -> None:
    gradient, aux = grad(loss_with_aux, has_aux=True)(0.3, -0.2)
    assert aux == 0.3 * 2.0 - 0.2
    w, b = symbols(2)
    loss = (w * 2 + b - 1) ** 2 + sympy.Rational(1, 10) * w * w
    expected = tuple(float(sympy.diff(loss, s).evalf(subs={w: 0.3, b: -0.2})) for s in (w, b))
    assert gradient == pytest.approx(expected, rel=1e-14)
    bare, aux_again = grad(loss_with_aux, wrt="w", has_aux=True)(0.3, -0.2)
    assert bare == pytest.approx(expected[0], rel=1e-14) and aux_again == aux


def test_has_aux_value_and_grad_returns_value_aux_then_gradient_like_jax() -> None:
    (value, aux), gradient = value_and_grad(loss_with_aux, has_aux=True)(0.3, -0.2)
    assert (value, aux) == loss_with_aux(0.3, -0.2)
    assert gradient == grad(loss_with_aux, has_aux=True)(0.3, -0.2)[0]
    (value, aux), gradient = value_and_grad(loss_with_two_aux, has_aux=True)(0.3, -0.2)
    assert value == loss_with_two_aux(0.3, -0.2)[0]
    assert aux == (0.3 - 0.2, 0.3 * -0.2)
    assert gradient == pytest.approx((math.exp(0.3) * -0.2, math.exp(0.3)), rel=1e-14)


def test_has_aux_needs_an_aux_output() -> None:
    with pytest.raises(S2SError, match="has_aux=True needs"):
        grad(polar_single, has_aux=True)


def polar_single(r: float) -> float:
    return r * r


def test_has_aux_with_a_list_aux() -> None:
    gradient, aux = grad(loss_with_list_aux, has_aux=True)(0.3, -0.2)
    assert gradient == (-0.2, 0.3) and aux == [0.3, -0.2]


# -- random straight-line programs ---------------------------------------------


@pytest.fixture(scope="module")
def directory(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("hessian_programs")


@SETTINGS
@given(program=programs(depth=2), point=st.lists(st.floats(-2.0, 2.0), min_size=3, max_size=3))
def test_random_programs_hessian_matches_sympy_hessian_and_is_symmetric(
    directory: Path, program: tuple[str, tuple[str, ...]], point: list[float]
) -> None:
    source, params = program
    note(source)
    f = load_program(source, directory)
    point = random_point(point[: len(params)])
    assume(smooth_point(f, point))
    try:
        matrix = hessian(f)(*point)
    except (ArithmeticError, ValueError):
        assume(False)
    xs = symbols(len(params))
    expression = sympy_formula(source)(*xs)
    at = dict(zip(xs, point))
    expected = [[evaluate(sympy.diff(expression, a, b), at) for b in xs] for a in xs]
    assume(all(v is not None for row in expected for v in row))
    note(f"hessian {matrix}, sympy {expected}")
    assert all(math.isfinite(v) for row in matrix for v in row)
    assert_symmetric(matrix, floor=1.0)  # a zero Hessian computed with cancellation is rounding, ~1e-12
    scale = max(1.0, *(abs(v) for row in expected for v in row))  # type: ignore[arg-type]
    for got_row, row in zip(matrix, expected):
        for got, want in zip(got_row, row):
            assert abs(got - want) <= 1e-7 * scale, (got, want)  # type: ignore[operator]


def weighted_square(x, *, w, b=0.0):
    return (w * x + b) ** 2


def test_hessian_and_jacobian_take_keywords_and_defaults_as_the_function_does() -> None:
    # the Hessian of (w x + b)^2 in (x, w, b) is 2 [[w^2, 2 w x + b, w], [2 w x + b, x^2, x], [w, x, 1]]
    x, w, b = 1.5, 0.4, 0.1
    expected = ((2 * w * w, 2 * (2 * w * x + b), 2 * w), (2 * (2 * w * x + b), 2 * x * x, 2 * x), (2 * w, 2 * x, 2.0))
    got = hessian(weighted_square)(x, w=w, b=b)
    assert [list(row) for row in got] == [pytest.approx(list(row)) for row in expected]
    assert hessian(weighted_square)(x, w=w)[0][1] == pytest.approx(2 * (2 * w * x))  # b from its default
    assert jacobian(weighted_square)(x, w=w, b=b)[0] == pytest.approx((2 * (w * x + b) * w, 2 * (w * x + b) * x, 2 * (w * x + b)))
    with pytest.raises(TypeError, match="missing a value for 'w'"):
        hessian(weighted_square)(x)
    with pytest.raises(TypeError, match="unexpected keyword argument 'z'"):
        hessian(weighted_square)(x, w=w, z=1.0)
