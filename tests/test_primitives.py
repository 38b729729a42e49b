"""Every primitive of the rule table, differentiated through `grad`, against an independent truth.

Each differentiable primitive (`RULES` entries with partial derivatives) is
used in a small `def` below and its gradient is compared with a central
finite difference at several points of its domain, including negative
arguments wherever the primitive is defined there. Piecewise-constant
primitives (floor, ceil, trunc, int, round, `//`, comparisons, logic) must
contribute a zero derivative. The conventions at kinks (abs'(0) = 0, half the
gradient to each argument of a `max`/`min` tie) are checked exactly, since a
finite difference cannot decide them.

Primitives that only derivatives are written with (such as `xlogy`) cannot be
called from source; their partials are checked on the rule itself, against
finite differences of the primitive as generated code evaluates it.

Two coverage tests fail when a primitive is added to the rule table without a
case here, and a third checks that each case really lowers to the primitive
it is listed under, so the table cannot go stale silently. Finally the value
`value_and_grad` returns must be the function's own value, bit for bit.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from conftest import central_difference, numeric_gradient

from s2s_ad import frontend, grad, ir, lower, value_and_grad
from s2s_ad.rules import ARRAY_OPS, RULES, Rule

# Primitives that derivatives are written with; source code cannot call them.
INTERNAL_HELPERS = frozenset({"sign", "step"})


# -- the functions ---------------------------------------------------------------
# Real `def`s: the decorator reads their source.


def add(x: float, y: float) -> float:
    return x + y


def add_constant(x: float) -> float:
    return 2.5 + x


def sub(x: float, y: float) -> float:
    return x - y


def sub_from_constant(x: float) -> float:
    return 3.0 - x


def mul(x: float, y: float) -> float:
    return x * y


def square_by_mul(x: float) -> float:
    return x * x


def div(x: float, y: float) -> float:
    return x / y


def reciprocal(x: float) -> float:
    return 1.0 / x


def neg(x: float) -> float:
    return -x


def neg_product(x: float, y: float) -> float:
    return -(x * y)


def cube(x: float) -> float:
    return x**3


def inverse_square(x: float) -> float:
    return x**-2


def inverse_cube(x: float) -> float:
    return x ** (-3)


def square_root_by_pow(x: float) -> float:
    return x**0.5


def power_of_two(x: float) -> float:
    return 2.0**x


def power_of_constant_negative_base(x: float) -> float:
    return (-2.0) ** 3 * x + (-1.5) ** 2 * x**2


def power(x: float, y: float) -> float:
    return x**y


def mod(x: float, y: float) -> float:
    return x % y


def copy(x: float) -> float:
    y = x
    return y


def builtin_abs(x: float) -> float:
    return abs(x)


def builtin_max(x: float, y: float) -> float:
    return max(x, y)


def builtin_max3(x: float, y: float, z: float) -> float:
    return max(x, y, z)


def builtin_min(x: float, y: float) -> float:
    return min(x, y)


def builtin_float(x: float) -> float:
    return float(x) * x


def builtin_pow(x: float, y: float) -> float:
    return pow(x, y)


def builtin_pow_integer_exponent(x: float) -> float:
    return pow(x, 3)


def sin(x: float) -> float:
    return math.sin(x)


def cos(x: float) -> float:
    return math.cos(x)


def tan(x: float) -> float:
    return math.tan(x)


def asin(x: float) -> float:
    return math.asin(x)


def acos(x: float) -> float:
    return math.acos(x)


def atan(x: float) -> float:
    return math.atan(x)


def atan2(y: float, x: float) -> float:
    return math.atan2(y, x)


def sinh(x: float) -> float:
    return math.sinh(x)


def cosh(x: float) -> float:
    return math.cosh(x)


def tanh(x: float) -> float:
    return math.tanh(x)


def asinh(x: float) -> float:
    return math.asinh(x)


def acosh(x: float) -> float:
    return math.acosh(x)


def atanh(x: float) -> float:
    return math.atanh(x)


def exp(x: float) -> float:
    return math.exp(x)


def expm1(x: float) -> float:
    return math.expm1(x)


def log(x: float) -> float:
    return math.log(x)


def log_base(x: float, b: float) -> float:
    return math.log(x, b)


def log_base_two(x: float) -> float:
    return math.log(x, 2.0)


def log1p(x: float) -> float:
    return math.log1p(x)


def log2(x: float) -> float:
    return math.log2(x)


def log10(x: float) -> float:
    return math.log10(x)


def sqrt(x: float) -> float:
    return math.sqrt(x)


def hypot(x: float, y: float) -> float:
    return math.hypot(x, y)


def math_pow(x: float, y: float) -> float:
    return math.pow(x, y)


def math_pow_negative_exponent(x: float) -> float:
    return math.pow(x, -2.0)


def fabs(x: float) -> float:
    return math.fabs(x)


def erf(x: float) -> float:
    return math.erf(x)


def erfc(x: float) -> float:
    return math.erfc(x)


def copysign(x: float, y: float) -> float:
    return math.copysign(x, y) * x


def ldexp(x: float) -> float:
    return math.ldexp(x * x, 3) + math.ldexp(x, -2)


def cbrt(x: float) -> float:
    return math.cbrt(x)  # Python 3.11+


def exp2(x: float) -> float:
    return math.exp2(x)  # Python 3.11+


def lgamma(x: float) -> float:
    return math.lgamma(x)


def gamma(x: float) -> float:
    return math.gamma(x)


def finite_times(x: float) -> float:
    return (math.isfinite(x) and not math.isnan(x) and not math.isinf(x)) * x


def degrees(x: float) -> float:
    return math.degrees(x)


def radians(x: float) -> float:
    return math.radians(x)


# -- differentiable primitives against finite differences ----------------------------


@dataclass(frozen=True)
class Case:
    """A function using primitive `rule`, and points where it is smooth."""

    rule: str
    function: Callable[..., float]
    points: tuple[tuple[float, ...], ...]

    @property
    def id(self) -> str:
        return f"{self.rule}-{self.function.__name__}"


ONE_SIGNED = ((-1.7,), (-0.4,), (0.3,), (2.1,))
TWO_SIGNED = ((1.3, -0.7), (-2.0, 0.5), (0.25, 3.0), (-1.1, -2.4))
POSITIVE = ((0.2,), (1.0,), (3.7,))

CASES: tuple[Case, ...] = (
    Case("add", add, TWO_SIGNED),
    Case("add", add_constant, ONE_SIGNED),
    Case("sub", sub, TWO_SIGNED),
    Case("sub", sub_from_constant, ONE_SIGNED),
    Case("mul", mul, TWO_SIGNED),
    Case("mul", square_by_mul, ONE_SIGNED),
    Case("div", div, TWO_SIGNED),
    Case("div", reciprocal, ONE_SIGNED),
    Case("neg", neg, ONE_SIGNED),
    Case("neg", neg_product, TWO_SIGNED),
    Case("pow", cube, ONE_SIGNED),
    Case("pow", inverse_square, ONE_SIGNED),
    Case("pow", inverse_cube, ONE_SIGNED),
    Case("pow", square_root_by_pow, POSITIVE),
    Case("pow", power_of_two, ONE_SIGNED),
    Case("pow", power_of_constant_negative_base, ONE_SIGNED),
    Case("pow", power, ((1.5, 2.0), (0.5, -1.5), (2.0, -0.3), (3.0, 0.0))),
    Case("mod", mod, ((7.5, 2.0), (-7.5, 2.0), (7.5, -2.0), (5.3, 1.7), (0.4, 3.0))),
    Case("copy", copy, ONE_SIGNED),
    Case("abs", builtin_abs, ONE_SIGNED),
    Case("max", builtin_max, ((1.0, 2.0), (2.0, 1.0), (-3.0, -1.0), (-1.0, -3.0))),
    Case("max", builtin_max3, ((1.0, 2.0, 3.0), (3.0, 1.0, 2.0), (-1.0, -3.0, -2.0))),
    Case("min", builtin_min, ((1.0, 2.0), (2.0, 1.0), (-3.0, -1.0), (-1.0, -3.0))),
    Case("float", builtin_float, ONE_SIGNED),
    Case("fpow_builtin", builtin_pow, ((1.5, 2.0), (0.5, -1.5), (2.0, -0.3))),
    Case("fpow_builtin", builtin_pow_integer_exponent, ONE_SIGNED),
    Case("sin", sin, ONE_SIGNED),
    Case("cos", cos, ONE_SIGNED),
    Case("tan", tan, ONE_SIGNED),
    Case("asin", asin, ((-0.8,), (-0.3,), (0.1,), (0.9,))),
    Case("acos", acos, ((-0.8,), (-0.3,), (0.1,), (0.9,))),
    Case("atan", atan, ONE_SIGNED),
    # all four quadrants, away from the branch cut on the negative x axis
    Case("atan2", atan2, ((1.0, 2.0), (1.0, -2.0), (-1.0, -2.0), (-1.5, 0.5), (0.3, 0.0))),
    Case("sinh", sinh, ONE_SIGNED),
    Case("cosh", cosh, ONE_SIGNED),
    Case("tanh", tanh, ONE_SIGNED),
    Case("asinh", asinh, ONE_SIGNED),
    Case("acosh", acosh, ((1.2,), (2.0,), (7.5,))),
    Case("atanh", atanh, ((-0.8,), (-0.3,), (0.1,), (0.9,))),
    Case("exp", exp, ONE_SIGNED),
    Case("expm1", expm1, ONE_SIGNED),
    Case("log", log, POSITIVE),
    Case("logb", log_base, ((8.0, 2.0), (0.3, 10.0), (5.0, 0.5), (2.0, 3.0))),
    Case("logb", log_base_two, POSITIVE),
    Case("log1p", log1p, ((-0.5,), (0.0,), (2.0,))),
    Case("log2", log2, POSITIVE),
    Case("log10", log10, POSITIVE),
    Case("sqrt", sqrt, POSITIVE),
    Case("hypot", hypot, TWO_SIGNED),
    Case("fpow", math_pow, ((1.5, 2.0), (0.5, -1.5), (2.0, -0.3))),
    Case("fpow", math_pow_negative_exponent, ONE_SIGNED),
    Case("fabs", fabs, ONE_SIGNED),
    Case("erf", erf, ONE_SIGNED),
    Case("erfc", erfc, ONE_SIGNED),
    Case("copysign", copysign, TWO_SIGNED),
    Case("ldexp", ldexp, ONE_SIGNED),
    *([Case("cbrt", cbrt, ONE_SIGNED), Case("exp2", exp2, ONE_SIGNED)] if hasattr(math, "cbrt") else []),
    Case("degrees", degrees, ONE_SIGNED),
    Case("radians", radians, ONE_SIGNED),
    # both sides of the poles at 0, -1, -2, ..., and past the minimum of gamma near 1.46
    Case("lgamma", lgamma, ((-2.5,), (-0.4,), (0.3,), (1.2,), (2.1,), (7.5,))),
    Case("gamma", gamma, ((-2.5,), (-0.4,), (0.3,), (1.2,), (2.1,), (7.5,))),
)


# Differentiable primitives that only derivatives are written with (source code cannot call
# them): their partials are checked on the rule itself, against finite differences of the
# primitive as generated code evaluates it.
RULE_LEVEL: dict[str, tuple[tuple[float, ...], ...]] = {
    "xlogy": ((2.0, 3.0), (0.5, 0.2), (-1.5, 4.0), (0.0, 2.0), (1e-3, 0.7)),
    "div_pos": ((2.0, 3.0), (-0.5, 0.2), (1.5, 4.0)),  # (x, y) with y > 0: x / y
    "expit": ((-40.0,), (-2.5,), (0.0,), (0.3,), (4.0,), (35.0,)),  # the sigmoid, in both tails
    # (x, y): y * x ** (y - 1), with x > 0 for fractional y
    "pow_base": ((2.0, 3.0), (0.5, 0.2), (1.5, -1.0), (3.0, 0.5)),
    "fpow_base": ((2.0, 3.0), (0.5, 0.2), (1.5, -1.0), (3.0, 0.5)),
    # (x, y, g): away from the tie x == y, where the gradient g is split in half
    "gate": ((2.0, 1.0, 0.7), (1.0, 2.0, -1.3), (-0.5, -3.0, 4.0)),
    "gate_else": ((2.0, 1.0, 0.7), (1.0, 2.0, -1.3), (-0.5, -3.0, 4.0)),
    "gate_sign": ((2.0, 0.7), (-1.5, -1.3), (0.25, 4.0)),  # (x, g) away from x == 0
    # the derivatives of math.gamma and math.lgamma: digamma psi(x), and psi_n(x) of a whole order n
    "digamma": ((-2.5,), (-0.4,), (0.3,), (1.2,), (7.5,), (30.0,)),
    "polygamma": ((1, -2.5), (1, 0.3), (2, 1.2), (3, 7.5), (1, 30.0)),
}


class _Numeric:
    """The namespace `m` that rules write partials against, evaluating each primitive on floats."""

    def __getattr__(self, name: str) -> Callable[..., object]:
        return RULES[name].evaluate


@pytest.mark.parametrize("rule", sorted(RULE_LEVEL))
def test_internal_rule_partials_match_finite_differences(rule: str) -> None:
    """Operands taken as whole numbers only (the order of polygamma) do not move: their partial is 0."""
    primitive = RULES[rule]
    # (a helper that generated modules define, `_digamma`, is called by its name only from generated code)
    assert all(n.startswith("_") for n in primitive.names), "callable from source: give it a Case with a `def` instead"
    assert primitive.partials is not None
    for point in RULE_LEVEL[rule]:
        out = primitive.evaluate(*point)
        partials = primitive.partials(_Numeric(), out, *point)
        expected = tuple(
            0 if i in primitive.whole else central_difference(primitive.evaluate, point, i) for i in range(len(point))
        )
        assert tuple(partials) == pytest.approx(expected, rel=1e-6, abs=1e-6)


@pytest.mark.parametrize(
    "gated", [("gate", "step", False), ("gate_else", "step", True), ("gate_sign", "sign", False)], ids=lambda g: g[0]
)
def test_gates_are_the_products_they_replace_bit_for_bit(gated: tuple[str, str, bool]) -> None:
    """`gate(x, y, g)` is `g * step(x, y)` (and so on) for every sign of zero, tie, inf and nan."""
    name, chooser, complement = gated
    edges = (0.0, -0.0, 1.5, -2.0, math.inf, -math.inf, math.nan)
    arity = RULES[chooser].arity
    for point in itertools.product(edges, repeat=arity + 1):
        *chosen, g = point
        factor = RULES[chooser].evaluate(*chosen)
        product = g * (1.0 - factor if complement else factor)
        got = RULES[name].evaluate(*chosen, g)
        if math.isnan(product):  # a nan's sign means nothing (the hardware does not keep it either)
            assert math.isnan(got), point
        else:
            assert got == product and math.copysign(1, got) == math.copysign(1, product), point


def _as_tuple(gradient: object, arity: int) -> tuple[float, ...]:
    """`grad` returns a bare number for one-parameter functions, a tuple otherwise."""
    if arity == 1:
        assert not isinstance(gradient, tuple)
        return (gradient,)  # type: ignore[return-value]
    assert isinstance(gradient, tuple) and len(gradient) == arity
    return gradient


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_gradient_matches_finite_differences(case: Case) -> None:
    derivative = grad(case.function)
    for point in case.points:
        expected = numeric_gradient(case.function, point)
        got = _as_tuple(derivative(*point), len(point))
        assert got == pytest.approx(expected, rel=1e-6, abs=1e-6), f"at {point}"


MULTI = tuple(c for c in CASES if len(c.points[0]) > 1)


@pytest.mark.parametrize("case", MULTI, ids=[c.id for c in MULTI])
def test_each_partial_matches_finite_differences(case: Case) -> None:
    """`grad(f, wrt=i)` for each parameter alone gives the same partials (activity analysis)."""
    for i in range(len(case.points[0])):
        partial = grad(case.function, wrt=i)
        for point in case.points:
            expected = numeric_gradient(case.function, point)[i]
            assert partial(*point) == pytest.approx(expected, rel=1e-6, abs=1e-6), f"d/d{i} at {point}"


def test_mod_closed_form() -> None:
    """d(x % y)/dx = 1 and d(x % y)/dy = -floor(x / y), the derivative of x - y * floor(x / y)."""
    for x, y in ((7.5, 2.0), (-7.5, 2.0), (7.5, -2.0), (-7.5, -2.0), (0.4, 3.0)):
        dx, dy = grad(mod)(x, y)
        assert dx == 1.0
        assert dy == -math.floor(x / y)


def test_negative_integer_powers_closed_form() -> None:
    """d x**-2 / dx = -2 x**-3, also for negative x."""
    for x in (-2.0, -0.5, 0.5, 3.0):
        assert grad(inverse_square)(x) == pytest.approx(-2 * x**-3, rel=1e-14)
        assert grad(cube)(x) == pytest.approx(3 * x**2, rel=1e-14)


def test_constant_negative_base_closed_form() -> None:
    """(-2.0) ** 3 * x + (-1.5) ** 2 * x**2 has derivative -8 + 4.5 x."""
    for x in (-1.0, 0.0, 2.0):
        assert grad(power_of_constant_negative_base)(x) == pytest.approx(-8.0 + 4.5 * x, rel=1e-14)


def test_power_closed_form() -> None:
    """d x**y = (y x**(y-1), x**y log x) for x > 0."""
    for x, y in ((1.5, 2.0), (0.5, -1.5), (4.0, 0.5)):
        dx, dy = grad(power)(x, y)
        assert dx == pytest.approx(y * x ** (y - 1), rel=1e-14)
        assert dy == pytest.approx(x**y * math.log(x), rel=1e-14)


# -- piecewise-constant primitives: zero derivative ----------------------------------


def floor_times(x: float) -> float:
    return math.floor(x) * x


def ceil_times(x: float) -> float:
    return math.ceil(x) * x


def trunc_times(x: float) -> float:
    return math.trunc(x) * x


def int_times(x: float) -> float:
    return int(x) * x


def round_times(x: float) -> float:
    return round(x) * x


def round_digits_times(x: float) -> float:
    return round(x, 1) * x + round(x, -1) + round(x * 100.0, -1)


def floordiv_times(x: float, y: float) -> float:
    return (x // y) * x


def less_times(x: float, y: float) -> float:
    return (x < y) * x + (x <= y) * y


def greater_times(x: float, y: float) -> float:
    return (x > y) * x + (x >= y) * y


def equal_times(x: float, y: float) -> float:
    return (x == y) * x + (x != y) * y


def logic_times(x: float, y: float) -> float:
    return ((x > 0.0) and (y > 0.0)) * x + ((x < 0.0) or (y < 0.0)) * y + (not x > y) * x


PIECEWISE: tuple[tuple[tuple[str, ...], Callable[..., float], tuple[tuple[float, ...], ...]], ...] = (
    (("floor",), floor_times, ONE_SIGNED),
    (("ceil",), ceil_times, ONE_SIGNED),
    (("trunc",), trunc_times, ONE_SIGNED),
    (("int",), int_times, ONE_SIGNED),
    (("round",), round_times, ONE_SIGNED),
    (("round_digits",), round_digits_times, ONE_SIGNED),
    (("floordiv",), floordiv_times, ((7.5, 2.0), (-7.5, 2.0), (7.5, -2.0), (5.3, 1.7))),
    (("lt", "le"), less_times, TWO_SIGNED),
    (("gt", "ge"), greater_times, TWO_SIGNED),
    (("eq", "ne"), equal_times, TWO_SIGNED),
    (("and", "or", "not"), logic_times, TWO_SIGNED),
    (("isfinite", "isnan", "isinf"), finite_times, ONE_SIGNED),
)


@pytest.mark.parametrize("rules, function, points", PIECEWISE, ids=[f.__name__ for _, f, _ in PIECEWISE])
def test_piecewise_constant_in_a_product(
    rules: tuple[str, ...], function: Callable[..., float], points: tuple[tuple[float, ...], ...]
) -> None:
    """`p(x) * x` with p piecewise constant: the gradient is p(x), as finite differences say."""
    derivative = grad(function)
    for point in points:
        got = _as_tuple(derivative(*point), len(point))
        assert got == pytest.approx(numeric_gradient(function, point), rel=1e-6, abs=1e-6), f"at {point}"


def floor_alone(x: float) -> float:
    return math.floor(x)


def ceil_alone(x: float) -> float:
    return math.ceil(x)


def trunc_alone(x: float) -> float:
    return math.trunc(x)


def int_alone(x: float) -> float:
    return int(x)


def round_alone(x: float) -> float:
    return round(x)


def floordiv_alone(x: float, y: float) -> float:
    return x // y


def comparison_alone(x: float, y: float) -> float:
    return x < y


@pytest.mark.parametrize(
    "function, point",
    [
        (floor_alone, (1.5,)),
        (floor_alone, (-1.5,)),
        (floor_alone, (2.0,)),
        (ceil_alone, (1.5,)),
        (ceil_alone, (-2.0,)),
        (trunc_alone, (-1.5,)),
        (int_alone, (2.7,)),
        (round_alone, (0.5,)),
        (floordiv_alone, (7.0, 2.0)),
        (floordiv_alone, (-7.5, 2.0)),
        (comparison_alone, (1.0, 2.0)),
        (comparison_alone, (2.0, 2.0)),
    ],
    ids=lambda v: getattr(v, "__name__", str(v)),
)
def test_piecewise_constant_alone_has_zero_derivative(function: Callable[..., float], point: tuple[float, ...]) -> None:
    """Zero also at the jumps themselves (x = 2.0 for floor), where the derivative is taken as 0."""
    got = _as_tuple(grad(function)(*point), len(point))
    assert all(g == 0 for g in got)


# -- conventions at kinks ---------------------------------------------------------------


def test_abs_at_zero_is_zero() -> None:
    """abs'(0) = 0 (sign(0) = 0), the convention SymPy uses too."""
    assert grad(builtin_abs)(0.0) == 0
    assert grad(fabs)(0.0) == 0
    assert grad(builtin_abs)(-0.0) == 0


def test_max_min_ties_split_the_gradient() -> None:
    """At a tie max(x, y) and min(x, y) send half the gradient to each argument."""
    assert grad(builtin_max)(1.5, 1.5) == (0.5, 0.5)
    assert grad(builtin_min)(-2.0, -2.0) == (0.5, 0.5)


def max_of_same(x: float) -> float:
    return max(x, x) + min(x, x)


def test_tie_with_itself_is_the_identity() -> None:
    """max(x, x) is x: the two halves add back up to 1."""
    assert grad(max_of_same)(0.7) == 2.0


def test_kinks_away_from_ties_are_one_sided() -> None:
    assert grad(builtin_max)(1.0, 2.0) == (0.0, 1.0)
    assert grad(builtin_min)(1.0, 2.0) == (1.0, 0.0)
    assert grad(builtin_abs)(-3.0) == -1
    assert grad(builtin_abs)(3.0) == 1


def test_gradients_are_floats() -> None:
    """A gradient is a float even when every partial on the path is an integer or a truth value."""
    assert isinstance(grad(floor_times)(1.5), float)
    assert isinstance(grad(builtin_abs)(0.0), float)
    assert isinstance(grad(less_times)(1.0, 2.0)[0], float)


# -- coverage of the rule table ---------------------------------------------------------


def test_every_differentiable_rule_has_a_numeric_case() -> None:
    """Adding a primitive with partials to RULES without a case above fails here."""

    def here(rule: Rule) -> bool:  # math.cbrt and math.exp2 are new in Python 3.11
        return all(hasattr(math, n.split(".")[1]) for n in rule.names if n.startswith("math."))

    differentiable = {name for name, rule in RULES.items() if rule.partials is not None and here(rule) and name not in ARRAY_OPS}
    covered = {case.rule for case in CASES} | set(RULE_LEVEL)
    assert differentiable - covered == set(), "add a Case (or, for internal helpers, a RULE_LEVEL entry)"
    assert covered - differentiable == set(), "these cases name primitives that are not differentiable rules"


def test_every_piecewise_constant_rule_has_a_zero_derivative_case() -> None:
    """Adding a piecewise-constant primitive to RULES without a case above fails here.

    List operations (`structural` rules) have adjoints written by the reverse
    transform rather than partials; they are not scalar primitives.
    """
    constant = {
        name
        for name, rule in RULES.items()
        if rule.partials is None and not getattr(rule, "structural", False) and name not in ARRAY_OPS
    } - INTERNAL_HELPERS
    covered = {rule for rules, _, _ in PIECEWISE for rule in rules}
    assert constant - covered == set(), "add a PIECEWISE entry for these primitives"


def _lowered_ops(function: Callable[..., float]) -> set[str]:
    lowered = lower.lower(frontend.from_function(function))
    return {stmt.op for stmt in ir.walk(lowered.body) if isinstance(stmt, ir.Assign)}


@pytest.mark.parametrize("rule", sorted({c.rule for c in CASES} | {r for rules, _, _ in PIECEWISE for r in rules}))
def test_cases_exercise_the_rule_they_are_listed_under(rule: str) -> None:
    """At least one function listed under a primitive really lowers to it (constant bases fold away)."""
    functions = [c.function for c in CASES if c.rule == rule] + [f for rules, f, _ in PIECEWISE if rule in rules]
    assert any(rule in _lowered_ops(f) for f in functions)


# -- powers at a zero base ------------------------------------------------------------------


def zero_power(x: float) -> float:
    return x**0


def constant_zero_base(y: float) -> float:
    return 0.0**y


def test_zeroth_power_at_zero() -> None:
    """x**0 is 1 everywhere (Python says 0.0**0 == 1.0): its derivative is 0, at 0 too."""
    assert grad(zero_power)(0.0) == 0.0


def test_zeroth_power_away_from_zero() -> None:
    for x in (-2.0, 0.5):
        assert grad(zero_power)(x) == 0.0


def test_power_at_zero_base() -> None:
    """0**y is 0 for every y > 0, so d/dy is 0 there (JAX and PyTorch give 0 too); d/dx = y * 0**(y-1)."""
    assert grad(power)(0.0, 2.0) == (0.0, 0.0)
    assert grad(constant_zero_base)(2.0) == 0.0


def test_power_at_zero_base_wrt_the_base_only() -> None:
    assert grad(power, wrt="x")(0.0, 2.0) == 0.0
    assert grad(power, wrt="x")(0.0, 1.0) == 1.0


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_value_and_grad_value_is_the_function_value(case: Case) -> None:
    """The forward sweep computes exactly what the function computes: same bits, same type."""
    for point in case.points:
        value, _ = value_and_grad(case.function)(*point)
        assert value == case.function(*point)
        assert type(value) is type(case.function(*point))
