"""The builtins and `math` functions programs use: math.fsum, math.prod, math.dist, math.lgamma, math.gamma,
round(x, n), all/any, sorted, map, and the newer math functions (copysign, isfinite, cbrt, exp2).

Every gradient is compared with an independent truth: central finite differences (of lists too, one
element at a time), closed forms (the product of the other elements, (p - q) / |p - q|, the digamma
function as mpmath computes it) or SymPy's cross-check (`check`). The refusals are checked by their
messages.

Conventions tested here: `sorted` at a tie sends each position's derivative to the element its stable
order put there (equal elements keep their order: the first one met gets the first position, as
`max`/`min` of a list send their derivative to the first extreme element); `math.dist` of two equal
points has gradient 0 (as `math.hypot` at the origin); `math.prod` of an empty list is 1 (an int) and
`math.fsum` of one is 0.0, with an empty gradient.
"""

from __future__ import annotations

import importlib
import inspect
import linecache
import math
import random
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest
from conftest import central_difference, numeric_gradient

from s2s_ad import S2SError, check, grad, hessian, jvp, value_and_grad

mpmath = pytest.importorskip("mpmath")


def list_gradient(f: Callable[..., float], args: Sequence[Any], h: float = 1e-6) -> list[Any]:
    """Central differences of f in every number of its arguments (each element of a list argument)."""
    result: list[Any] = []
    for k, arg in enumerate(args):
        if isinstance(arg, list):
            parts = []
            for j in range(len(arg)):

                def moved(t: float, k: int = k, j: int = j, arg: list[float] = arg) -> float:
                    changed = list(args)
                    changed[k] = [t if i == j else v for i, v in enumerate(arg)]
                    return f(*changed)

                parts.append(central_difference(moved, (arg[j],), 0, h))
            result.append(parts)
        else:
            result.append(central_difference(f, list(args), k, h))
    return result


def as_tuple(gradient: Any, arity: int) -> tuple[Any, ...]:
    return (gradient,) if arity == 1 else tuple(gradient)


def assert_close(got: Any, expected: Any, rel: float = 1e-6, abs_: float = 1e-7) -> None:
    if isinstance(expected, (list, tuple)):
        assert isinstance(got, (list, tuple)) and len(got) == len(expected), (got, expected)
        for g, e in zip(got, expected):
            assert_close(g, e, rel, abs_)
    else:
        assert got == pytest.approx(expected, rel=rel, abs=abs_), (got, expected)


def matches_differences(f: Callable[..., float], *args: Any) -> None:
    got = as_tuple(grad(f)(*args), len(args))
    assert_close(list(got), list_gradient(f, args))


# -- math.fsum ----------------------------------------------------------------------------------------


def fsum_squares(xs):
    return math.fsum(x * x for x in xs) * xs[0]


def fsum_of_list(xs, w):
    return math.fsum(xs) * w


def fsum_in_loop(xs, n):
    total = 0.0
    for i in range(n):
        total += math.fsum(xs) * i + xs[i] * math.fsum([xs[i], 1.0])
    return total


def fsum_helper(values):
    return math.fsum(values) ** 2


def fsum_through_helper(xs):
    return fsum_helper(xs) + fsum_helper([xs[0], xs[1] * 3.0])


def test_fsum_matches_finite_differences() -> None:
    matches_differences(fsum_squares, [1.5, -2.0, 0.3])
    matches_differences(fsum_of_list, [0.1, 0.2, 0.3], 2.5)
    matches_differences(fsum_through_helper, [0.7, -1.2, 2.0])


def test_fsum_in_a_loop() -> None:
    xs = [0.5, -1.5, 2.0]
    got = grad(fsum_in_loop, wrt="xs")(xs, 3)
    assert_close(got, list_gradient(lambda v: fsum_in_loop(v, 3), [xs])[0])


def test_fsum_value_and_grad_and_empty_list() -> None:
    value, gradient = value_and_grad(fsum_of_list)([0.1, 0.2, 0.3], 2.0)
    assert value == math.fsum([0.1, 0.2, 0.3]) * 2.0  # the function's own value, bit for bit
    assert gradient == ([2.0, 2.0, 2.0], pytest.approx(0.6))
    value, gradient = value_and_grad(fsum_of_list)([], 2.0)
    assert value == 0.0 and isinstance(value, float)
    assert gradient == ([], 0.0)


# -- math.prod ----------------------------------------------------------------------------------------


def prod_times_first(xs):
    return math.prod(xs) * xs[0]


def prod_plain(xs):
    return math.prod(xs)


def prod_of_numbers(x, y, z):
    return math.prod([x, y, z, x])


def prod_of_generator(xs):
    return math.prod(1.0 + x * x for x in xs)


INTS = [2, 3, 4]


def prod_of_data(x):
    return math.prod(INTS) * x


def test_prod_matches_finite_differences() -> None:
    matches_differences(prod_times_first, [1.5, -2.0, 0.3])
    matches_differences(prod_of_generator, [0.5, -0.25, 1.5])
    matches_differences(prod_of_numbers, 1.2, -0.7, 2.5)


def test_prod_gradient_is_the_product_of_the_others_also_at_zero() -> None:
    xs = [3.0, 0.0, 2.5, -1.5]
    got = grad(prod_plain)(xs)
    expected = [math.prod(v for i, v in enumerate(xs) if i != j) for j in range(len(xs))]
    assert got == expected  # no division: exact where an element is 0
    assert grad(prod_plain)([0.0, 0.0, 2.0]) == [0.0, 0.0, 0.0]


def test_prod_of_ints_is_an_int_and_of_nothing_is_one() -> None:
    value, gradient = value_and_grad(prod_of_data)(2.0)
    assert value == 48.0 and gradient == 24.0 and isinstance(gradient, float)
    value, gradient = value_and_grad(prod_plain)([2, 3, 4])
    assert value == 24 and isinstance(value, int)  # as math.prod of ints is
    assert gradient == [12.0, 8.0, 6.0] and all(isinstance(g, float) for g in gradient)
    value, gradient = value_and_grad(prod_plain)([])
    assert value == 1 and isinstance(value, int) and gradient == []
    value, _ = value_and_grad(prod_times_one)([2, 3])
    assert value == 6.0 and isinstance(value, float)  # `* 1.0` is kept: the product of the caller's ints is an int


def prod_times_one(xs):
    return math.prod(xs) * 1.0


def test_prod_forward_mode_and_its_hessian_refused() -> None:
    value, tangent = jvp(prod_of_numbers, (1.2, -0.7, 2.5), (0.3, -1.0, 0.5))
    numeric = sum(d * t for d, t in zip(numeric_gradient(prod_of_numbers, (1.2, -0.7, 2.5)), (0.3, -1.0, 0.5)))
    assert value == prod_of_numbers(1.2, -0.7, 2.5) and tangent == pytest.approx(numeric, rel=1e-6)
    with pytest.raises(S2SError, match="the Hessian through math.prod"):
        hessian(prod_of_numbers)(1.2, -0.7, 2.5)


# -- math.dist ----------------------------------------------------------------------------------------


def dist_cubed(p, q):
    return math.dist(p, q) ** 3


def dist_of_tuples(x1, y1, x2, y2):
    return math.dist((x1, y1), (x2, y2))


def dist_plain(p, q):
    return math.dist(p, q)


def path_length(xs, ys):
    total = 0.0
    for i in range(len(xs) - 1):
        total += math.dist([xs[i], ys[i]], [xs[i + 1], ys[i + 1]])
    return total


def test_dist_matches_finite_differences_and_its_closed_form() -> None:
    matches_differences(dist_cubed, [1.5, 2.0, -0.5], [0.3, -1.0, 0.25])
    matches_differences(path_length, [0.0, 1.0, 1.5, 3.0], [0.0, 0.5, 2.0, 2.5])
    p, q = [1.0, 2.0, 2.0], [0.0, 0.0, 0.0]
    assert grad(dist_plain)(p, q) == ([1 / 3, 2 / 3, 2 / 3], [-1 / 3, -2 / 3, -2 / 3])  # (p - q) / |p - q|, and minus


def test_dist_of_tuples_with_number_parameters_and_its_hessian() -> None:
    point = (0.3, -1.2, 2.0, 0.5)
    matches_differences(dist_of_tuples, *point)
    rows = hessian(dist_of_tuples)(*point)
    for i in range(4):  # the Hessian's row i: the differences of the gradient's entry i
        row = [central_difference(lambda *a, i=i: grad(dist_of_tuples)(*a)[i], point, j, 1e-5) for j in range(4)]
        assert_close(list(rows[i]), row, rel=1e-5)


def test_dist_of_equal_points_is_zero_and_of_different_lengths_raises() -> None:
    assert grad(dist_plain)([1.0, 2.0], [1.0, 2.0]) == ([0.0, 0.0], [0.0, 0.0])  # as math.hypot at the origin
    with pytest.raises(ValueError):
        dist_plain([1.0, 2.0], [1.0])
    with pytest.raises(ValueError):
        grad(dist_plain)([1.0, 2.0], [1.0])


# -- lists that change after the call ---------------------------------------------------------------------


def changed_after(x, y):
    xs = [x, y]
    s = sorted(xs)
    p = math.prod(xs)
    d = math.dist(xs, [1.0, 0.5])
    xs.append(-5.0 * x)
    return s[0] * 2.0 + s[1] + p + d * 3.0 + xs[2]


def overwritten_after(x, y):
    xs = [x, y, x * y]
    s = sorted(xs, reverse=True)
    p = math.prod(xs)
    xs[0] = xs[2] * y
    xs[2] = 4.0
    return s[0] * 2.0 + s[1] * s[2] + p * xs[0]


def built_then_used(x, y):
    q = []
    for k in range(3):
        q.append(x * k + y)
    d = math.dist(q, [0.5, 1.0, 2.0]) + math.fsum(q) * sorted(q, reverse=True)[1] * math.prod(q)
    q.append(x)
    return d + q[3]


def dist_then_overwritten(x, y):
    p = [x, y]
    r = math.dist(p, [0.0, 0.0])
    p[0] = 2.0
    return r + p[0]


def test_lists_that_change_after_the_call() -> None:
    """Where the list grows or changes later, the reverse sweep still reads it as it was at the call."""
    matches_differences(changed_after, 1.5, -0.5)
    matches_differences(overwritten_after, 1.5, -0.5)
    matches_differences(built_then_used, 0.3, -1.2)
    with pytest.raises(S2SError, match="math.dist of the list 'p', whose elements are assigned again later"):
        grad(dist_then_overwritten)


# -- math.lgamma and math.gamma -----------------------------------------------------------------------


def lgamma_plain(x):
    return math.lgamma(x)


def gamma_plain(x):
    return math.gamma(x)


def log_likelihood(alpha, beta, xs):
    """A gamma distribution's log-likelihood: the program these functions are for."""
    total = 0.0
    for x in xs:
        total += alpha * math.log(beta) - math.lgamma(alpha) + (alpha - 1.0) * math.log(x) - beta * x
    return total


def gamma_ratio(x, y):
    return math.gamma(x) / math.gamma(y) + math.lgamma(x * y)


DIGAMMA_POINTS = (-7.3, -2.5, -0.4, 0.01, 0.3, 1.2, 2.0, 7.5, 31.0, 1234.5)


def test_lgamma_and_gamma_gradients_are_digamma() -> None:
    with mpmath.workdps(30):
        for x in DIGAMMA_POINTS:
            digamma = float(mpmath.digamma(x))
            assert grad(lgamma_plain)(x) == pytest.approx(digamma, rel=1e-13)
            if x < 100:
                assert grad(gamma_plain)(x) == pytest.approx(float(mpmath.gamma(x) * mpmath.digamma(x)), rel=1e-13)


def test_gamma_programs_match_finite_differences() -> None:
    xs = [0.5, 1.5, 2.25, 4.0]
    got = grad(log_likelihood, wrt=("alpha", "beta"))(2.5, 1.3, xs)
    assert_close(list(got), numeric_gradient(lambda a, b: log_likelihood(a, b, xs), (2.5, 1.3)))
    matches_differences(gamma_ratio, 1.7, 2.3)
    matches_differences(gamma_ratio, -0.6, 1.4)
    value, gradient = value_and_grad(gamma_ratio)(1.7, 2.3)
    assert value == gamma_ratio(1.7, 2.3)


def test_second_derivative_of_lgamma_is_trigamma() -> None:
    for x in (-2.5, 0.3, 2.0, 17.5):
        assert hessian(lgamma_plain)(x)[0][0] == pytest.approx(float(mpmath.psi(1, x)), rel=1e-12)
        assert grad(grad(lgamma_plain))(x) == pytest.approx(float(mpmath.psi(1, x)), rel=1e-12)  # read back
    assert grad(grad(grad(lgamma_plain)))(2.0) == pytest.approx(float(mpmath.psi(2, 2.0)), rel=1e-12)


def test_gamma_gradient_raises_at_the_poles_as_gamma_does() -> None:
    for x in (0.0, -1.0, -3.0):
        with pytest.raises(ValueError):
            math.lgamma(x)
        with pytest.raises(ValueError):
            grad(lgamma_plain)(x)
        with pytest.raises(ValueError):
            grad(gamma_plain)(x)


def test_generated_code_defines_digamma_and_imports_nothing_of_ours() -> None:
    gradient = grad(lgamma_plain)
    source = inspect.getsource(gradient)
    module = "".join(linecache.getlines(gradient.__code__.co_filename))  # the whole generated module
    assert "_digamma(x)" in source
    assert "def _digamma(x):" in module
    assert "s2s_ad" not in module and "scipy" not in module
    imports = [line.strip() for line in module.splitlines() if line.strip().startswith(("import ", "from "))]
    assert set(imports) <= {"import math"}


def _helpers() -> dict[str, Any]:
    from s2s_ad.rules.special import DIGAMMA, POLYGAMMA

    namespace: dict[str, Any] = {}
    exec(DIGAMMA, namespace)  # noqa: S102 - the helpers' own source, as generated modules define them
    exec(POLYGAMMA, namespace)  # noqa: S102
    return namespace


def test_digamma_and_polygamma_helpers_agree_with_mpmath() -> None:
    """To about 1e-15 relative, except near digamma's zeros, where its value is far smaller than the terms
    it is computed from: there the error is measured against those terms (|psi(1 - x)| for x < 0)."""
    helpers = _helpers()
    rng = random.Random(5)
    points = [rng.uniform(-40.0, 60.0) for _ in range(400)] + [10 ** rng.uniform(-6, 7) for _ in range(200)]
    with mpmath.workdps(40):
        for x in points:
            truth = mpmath.digamma(x)
            scale = max(abs(truth), abs(mpmath.digamma(1 - x)) if x < 0.5 else 0, 1)
            assert abs(helpers["_digamma"](x) - truth) <= 5e-15 * scale, x
            for n in (1, 2, 3):
                truth = mpmath.psi(n, x)
                assert abs(helpers["_polygamma"](n, x) - truth) <= 5e-14 * abs(truth), (n, x)


# -- round(x, n) --------------------------------------------------------------------------------------


def rounded_times(x):
    return round(x, 2) * x + round(x, -1) * x


def rounded_alone(x):
    return round(x, 1)


def test_round_with_digits_has_zero_derivative_and_gives_a_float() -> None:
    for x in (1.2345, -3.14159, 27.3):
        assert grad(rounded_times)(x) == pytest.approx(round(x, 2) + round(x, -1))
        assert grad(rounded_alone)(x) == 0.0
        value, _ = value_and_grad(rounded_alone)(x)
        assert value == round(x, 1) and isinstance(value, float)


def round_by_float(x):
    return round(x, 1.5)


def test_round_needs_whole_digits() -> None:
    with pytest.raises(S2SError, match=r"round\(x, ndigits\) needs a whole number"):
        grad(round_by_float)


# -- all and any --------------------------------------------------------------------------------------


def all_of_display(x, y):
    if all([x > 0, y > 0]):
        return x * y
    return x + y


def any_of_list(xs):
    flags = [x > 1.0 for x in xs]
    return sum(xs) * 2.0 if any(flags) else sum(xs)


def all_of_generator(xs):
    return math.fsum(xs) if all(x > 0 for x in xs) else -math.fsum(xs)


def test_all_and_any_choose_the_branch() -> None:
    assert grad(all_of_display)(2.0, 3.0) == (3.0, 2.0)
    assert grad(all_of_display)(2.0, -3.0) == (1.0, 1.0)
    assert grad(any_of_list)([0.5, 1.5]) == [2.0, 2.0]
    assert grad(any_of_list)([0.5, 0.25]) == [1.0, 1.0]
    assert grad(all_of_generator)([0.5, 1.5]) == [1.0, 1.0]
    assert grad(all_of_generator)([0.5, -1.5]) == [-1.0, -1.0]


# -- sorted --------------------------------------------------------------------------------------------


def smallest_times_largest(xs):
    s = sorted(xs)
    return s[0] * s[len(s) - 1] + s[1] ** 2


def top_two(xs):
    best = sorted(xs, reverse=True)
    return 3.0 * best[0] + best[1]


def sorted_of_numbers(x, y, z):
    s = sorted([x * x, y, z])
    return s[0] * s[1] ** 2 + math.sin(s[2])


def median_loop(xs):
    total = 0.0
    for k in range(3):
        s = sorted([x + k * 0.5 for x in xs])
        total += s[len(s) // 2] * (k + 1)
    return total


def first_of_sorted(x, y):
    return sorted([x, y])[0]


def first_of_sorted_descending(x, y):
    return sorted([x, y], reverse=True)[0]


def test_sorted_matches_finite_differences_away_from_ties() -> None:
    matches_differences(smallest_times_largest, [0.3, -1.5, 2.0, 0.9])
    matches_differences(top_two, [0.3, -1.5, 2.0, 0.9])
    matches_differences(sorted_of_numbers, 1.1, -0.4, 0.2)
    matches_differences(median_loop, [0.3, -1.5, 2.0, 0.9, 0.1])


def test_sorted_follows_the_permutation() -> None:
    assert grad(top_two)([0.3, -1.5, 2.0, 0.9]) == [0.0, 0.0, 3.0, 1.0]
    assert grad(smallest_times_largest)([3.0, 1.0, 2.0]) == [1.0, 3.0, 4.0]


def test_sorted_at_a_tie_sends_the_derivative_to_the_element_met_first() -> None:
    """The convention: sorted is stable, so of equal elements the first one met takes the first position."""
    assert grad(first_of_sorted)(1.0, 1.0) == (1.0, 0.0)
    assert grad(first_of_sorted_descending)(1.0, 1.0) == (1.0, 0.0)
    assert grad(first_of_sorted)(2.0, 1.0) == (0.0, 1.0)
    assert grad(top_two)([2.0, 2.0, 1.0]) == [3.0, 1.0, 0.0]


def test_sorted_forward_mode_and_hessian() -> None:
    point, direction = (1.1, -0.4, 0.2), (0.5, 1.0, -2.0)
    value, tangent = jvp(sorted_of_numbers, point, direction)
    numeric = sum(d * t for d, t in zip(numeric_gradient(sorted_of_numbers, point), direction))
    assert value == sorted_of_numbers(*point) and tangent == pytest.approx(numeric, rel=1e-6)
    rows = hessian(sorted_of_numbers)(*point)
    for i in range(3):
        row = [central_difference(lambda *a, i=i: grad(sorted_of_numbers)(*a)[i], point, j, 1e-5) for j in range(3)]
        assert_close(list(rows[i]), row, rel=1e-5, abs_=1e-6)


def sorted_by_key(xs):
    return sorted(xs, key=abs)[0]


def sorted_rows(rows):
    return sorted(rows)[0][0] + rows[0][1]


def test_sorted_refusals() -> None:
    with pytest.raises(S2SError, match=r"sorted\(\.\.\., key=\.\.\.\) is not supported") as caught:
        grad(sorted_by_key)
    assert caught.value.lineno == inspect.getsourcelines(sorted_by_key)[1] + 1
    with pytest.raises(S2SError, match="sorted\\(\\) of a list of lists is not supported"):
        grad(sorted_rows)


# -- map -----------------------------------------------------------------------------------------------


def square(x):
    return x * x


def scaled_sum(x, y):
    return x * y + math.exp(x)


def sum_of_mapped_helper(xs):
    return sum(map(square, xs)) * xs[1]


def sum_of_mapped_math(xs):
    return sum(map(math.sin, xs))


def list_of_mapped(xs):
    ys = list(map(square, xs))
    return ys[0] * ys[1] + max(map(math.cos, xs))


def loop_over_map(xs, w):
    total = 0.0
    for y in map(square, xs):
        total += y * w
    return total


def map_of_two(xs, ys):
    return math.fsum(map(scaled_sum, xs, ys)) + sorted(map(square, ys))[0]


def test_map_matches_finite_differences() -> None:
    matches_differences(sum_of_mapped_helper, [1.5, -2.0, 0.3])
    matches_differences(sum_of_mapped_math, [1.5, -2.0, 0.3])
    matches_differences(list_of_mapped, [1.5, -2.0, 0.3])
    matches_differences(loop_over_map, [1.5, -2.0, 0.3], 0.7)
    matches_differences(map_of_two, [0.5, -1.0, 0.25], [1.5, 0.75, -2.0])
    assert grad(sum_of_mapped_math)([0.5, 1.0]) == [math.cos(0.5), math.cos(1.0)]


def mapped_lambda(xs):
    return sum(map(lambda x: x * x, xs))


def bare_map(xs):
    ys = map(square, xs)
    return sum(ys)


def test_map_refusals() -> None:
    with pytest.raises(S2SError, match="lambda expressions cannot be differentiated"):
        grad(mapped_lambda)
    with pytest.raises(S2SError, match=r"map\(\.\.\.\) is only supported inside sum\(\)") as caught:
        grad(bare_map)
    assert caught.value.hint is not None and "[f(x) for x in xs]" in caught.value.hint


# -- copysign, isfinite, isnan, isinf, cbrt, exp2 in programs ---------------------------------------------


def signs_and_checks(x, y):
    total = 0.0
    for k in range(3):
        if math.isfinite(x * k) and not math.isnan(y) and not math.isinf(x):
            total += math.copysign(x * x, y - k) * (k + 1)
    return total


def newer(x):
    return cube_root_of(x * x + 1.0) * math.exp2(x)


def cube_root_of(v):
    return math.cbrt(v)


def test_copysign_and_the_checks_in_loops() -> None:
    matches_differences(signs_and_checks, 1.3, 1.5)
    matches_differences(signs_and_checks, -0.7, 0.5)


@pytest.mark.skipif(not hasattr(math, "cbrt"), reason="math.cbrt and math.exp2 are new in Python 3.11")
def test_cbrt_and_exp2_in_helpers() -> None:
    matches_differences(newer, 0.8)
    matches_differences(newer, -1.7)


def test_cbrt_refused_naming_the_python_version_where_math_lacks_it(monkeypatch: pytest.MonkeyPatch) -> None:
    if hasattr(math, "cbrt"):
        monkeypatch.delattr(math, "cbrt")  # as on Python 3.10
    with pytest.raises(S2SError, match=r"'math.cbrt' is new in Python 3.11; this is Python 3\.\d+") as caught:
        grad(cube_root_of)
    assert caught.value.lineno == inspect.getsourcelines(cube_root_of)[1] + 1  # `return math.cbrt(v)`
    assert "run with Python 3.11 or later, or write math.copysign(abs(x) ** (1 / 3), x)" in (caught.value.hint or "")


# -- the hint lists only what a user can write ----------------------------------------------------------


def unknown_math(x):
    return math.frexp(x)


def test_refusal_hint_lists_only_callable_names() -> None:
    with pytest.raises(S2SError, match="call to 'math.frexp', which cannot be differentiated") as caught:
        grad(unknown_math)
    hint = caught.value.hint or ""
    listed = hint.removeprefix("supported functions: ").split(", ")
    assert "math.fsum" in listed and "math.lgamma" in listed and "math.sin" in listed
    assert not [name for name in listed if name.startswith("_") or not name.startswith("math.")]


# -- the SymPy cross-check agrees ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "f",
    [fsum_squares, prod_times_first, dist_cubed, gamma_ratio, rounded_times, top_two, sorted_of_numbers, map_of_two],
    ids=lambda f: f.__name__,
)
def test_check_passes(f: Callable[..., float]) -> None:
    report = check(f, budget=10.0)
    assert report.ok, str(report)


# -- helpers of another module, called through it (`import helpers` then `helpers.f(x)`) -------------------


def _modules(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, **sources: str) -> dict[str, Any]:
    monkeypatch.syspath_prepend(str(tmp_path))
    for name, source in sources.items():
        (tmp_path / f"{name}.py").write_text(source)
    return {name: importlib.import_module(name) for name in sources}


LIB = "SCALE = 1.5\nTABLE = [10.0, 20.0]\n\n\ndef square(x):\n    return x * x\n\n\ndef first(x):\n    return TABLE[0] * x\n"


def test_a_helper_called_through_its_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    main = (
        "import builtins_lib_a\nimport builtins_lib_a as lib\n\n\n"
        "def f(x, y):\n    return builtins_lib_a.square(x) * y + lib.SCALE * lib.first(y)\n"
    )
    modules = _modules(tmp_path, monkeypatch, builtins_lib_a=LIB, builtins_main_a=main)
    f = modules["builtins_main_a"].f
    matches_differences(f, 0.7, -1.2)
    assert grad(f)(0.7, -1.2) == (2 * 0.7 * -1.2, 0.7**2 + 1.5 * 10.0)


def test_two_lists_of_one_name_are_refused_not_mixed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The helper reads its module's TABLE, the function its own: generated code would read both by one name."""
    main = "from builtins_lib_b import first\n\nTABLE = [1.0, 2.0]\n\n\ndef f(x):\n    return TABLE[0] * x + first(x)\n"
    modules = _modules(tmp_path, monkeypatch, builtins_lib_b=LIB, builtins_main_b=main)
    with pytest.raises(S2SError, match="two different lists of numbers are both called 'TABLE'"):
        grad(modules["builtins_main_b"].f)
