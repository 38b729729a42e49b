"""Branches and loops: the reverse sweep follows the forward sweep's path.

Each function is differentiated at several points, chosen away from branch
switches, and compared with central finite differences.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable

import pytest
from conftest import central_difference, numeric_gradient
from test_lists import assert_gradient

from s2s_ad import check, grad, value_and_grad


def assert_scalar_gradient(f: Callable[..., float], *point: float) -> None:
    got = grad(f, wrt=tuple(range(len(point))))(*point)
    assert list(got) == pytest.approx(list(numeric_gradient(f, point)), rel=1e-6, abs=1e-8)


# -- branches ------------------------------------------------------------------------


def piecewise(x: float, y: float) -> float:
    if x < -1.0:
        z = -x * y
    elif x < 0.5:
        z = x * x * math.exp(y)
    elif x < 2.0:
        z = math.sin(x) + y
    else:
        z = x * y * y
    return z * 2.0


def conditional_expression(x: float, y: float) -> float:
    a = x * y if x > y else x + y * y
    return math.exp(a) if a < 1.0 else a * a


def early_returns(x: float, y: float) -> float:
    if x > 2.0:
        return x * y
    t = x * x
    if t > 1.0:
        return math.log(t) + y
    return t * y - x


def boolean_conditions(x: float, y: float) -> float:
    if 0.0 < x < 1.0 and not y > 2.0:
        r = x * y
    elif x > 1.0 or y < -1.0:
        r = x - y * y
    else:
        r = math.cos(x * y)
    return r


def branch_without_else(x: float, y: float) -> float:
    z = x * y
    if x > 0:
        z = z * z + x
    return z + y


PIECEWISE_POINTS = [(-2.0, 0.5), (0.2, -0.7), (1.3, 0.4), (3.0, 1.1)]


@pytest.mark.parametrize("point", PIECEWISE_POINTS)
def test_if_elif_else(point: tuple[float, float]) -> None:
    assert_scalar_gradient(piecewise, *point)


@pytest.mark.parametrize("point", [(2.0, 0.3), (3.0, 0.5), (0.3, 0.6), (-0.4, -0.3)])
def test_conditional_expression(point: tuple[float, float]) -> None:
    assert_scalar_gradient(conditional_expression, *point)


@pytest.mark.parametrize("point", [(3.0, 0.5), (1.5, -0.2), (0.4, 0.7), (-0.5, 2.0)])
def test_early_return_in_any_branch(point: tuple[float, float]) -> None:
    assert_scalar_gradient(early_returns, *point)


@pytest.mark.parametrize("point", [(0.5, 1.0), (0.5, 3.0), (1.5, 0.0), (-0.5, -2.0), (-0.5, 0.5)])
def test_and_or_not_and_chained_comparisons(point: tuple[float, float]) -> None:
    assert_scalar_gradient(boolean_conditions, *point)


@pytest.mark.parametrize("point", [(0.7, -1.3), (-0.7, 1.3)])
def test_if_without_else(point: tuple[float, float]) -> None:
    assert_scalar_gradient(branch_without_else, *point)


def test_the_reverse_sweep_reuses_the_forward_condition() -> None:
    source = inspect.getsource(grad(piecewise))
    code = [line for line in source.splitlines() if not line.strip().startswith("#")]
    assert sum("x < -1.0" in line for line in code) == 1, "the condition is computed once, in the forward sweep"
    assert "_tape" not in source


def test_value_and_grad_with_early_return() -> None:
    value, gradient = value_and_grad(early_returns)(1.5, -0.2)
    assert value == early_returns(1.5, -0.2)
    assert list(gradient) == pytest.approx(list(numeric_gradient(early_returns, (1.5, -0.2))), rel=1e-6)


# -- for loops over range -------------------------------------------------------------


def range_forms(x: float, n: int) -> float:
    t = 0.0
    for i in range(n):
        t += x ** (i + 1)
    for i in range(2, n):
        t += i * math.sin(x * i)
    for i in range(1, 2 * n, 3):
        t = t * 0.5 + x / i
    for i in range(n, 0, -1):
        t += x * i
    return t


def test_every_form_of_range() -> None:
    for n in (0, 1, 4):
        for x in (0.3, -1.1):
            got = grad(range_forms, wrt="x")(x, n)
            assert got == pytest.approx(central_difference(range_forms, (x, n), 0), rel=1e-6, abs=1e-8)


def test_range_bounds_computed_from_the_inputs() -> None:
    def middle(xs: list[float]) -> float:
        n = len(xs)
        total = 0.0
        for i in range(n // 2, n - 1):
            total += xs[i] * xs[i + 1]
        for i in range(n - 1, -1, -2):
            total += math.exp(xs[i])
        return total

    assert_gradient(middle, [0.5, -0.2, 1.3, 0.7, -1.0])


def test_loop_carried_values_by_assignment_and_augmented_assignment() -> None:
    def fibonacci_like(x: float, y: float, n: int) -> float:
        a, b = x, y
        for _ in range(n):
            a, b = b, a * b + 0.1
        c = x
        for _ in range(n):
            c *= 0.9
            c += y
            c -= c * c * 0.01
            c /= 1.1
        return a + b + c

    assert_gradient(fibonacci_like, 0.7, 0.9, 5, wrt=(0, 1))


def test_zero_trip_loop() -> None:
    def maybe(x: float, n: int) -> float:
        y = x * x
        for _ in range(n):
            y = math.sin(y)
        return y

    assert grad(maybe, wrt="x")(1.5, 0) == pytest.approx(3.0)
    assert grad(maybe, wrt="x")(1.5, 3) == pytest.approx(numeric_gradient(lambda v: maybe(v, 3), (1.5,))[0], rel=1e-6)


def test_loop_over_a_list_directly() -> None:
    def softmax_log(xs: list[float]) -> float:
        total = 0.0
        for x in xs:
            total += math.exp(x)
        return math.log(total)

    assert_gradient(softmax_log, [0.2, -1.0, 1.5])


def backwards(xs: list[float], c: float) -> float:
    t = 0.0
    for i in reversed(range(len(xs))):
        t = t * c + math.sin(xs[i])
    for x in reversed(xs):
        t = t * math.cos(x) + c * x
    for i in reversed(range(1, len(xs), 2)):
        t += xs[i] * i
    return t


def test_loops_over_reversed_ranges_and_lists() -> None:
    assert_gradient(backwards, [0.5, -1.2, 2.0, 0.3], 0.8)
    assert_gradient(backwards, [], 0.8)
    for x in ([0.5, -1.2, 2.0], [1.5]):
        assert check(backwards, lengths={"xs": len(x)}).ok


def _until_small(xs: list[float]) -> float:
    t = 1.0
    for x in reversed(xs):
        t *= x
        if t < 0.1:
            break
    return t


def test_a_reversed_loop_that_stops_early() -> None:
    assert_gradient(_until_small, [0.5, 0.3, 0.2, 0.9])  # leaves after two elements
    assert_gradient(_until_small, [0.9, 0.8])  # runs to its end
    assert_gradient(_until_small, [])


# -- while ---------------------------------------------------------------------------


def bisect_like(a: float) -> float:
    x = a
    steps = 0
    while x * x > 2.0 and steps < 50:
        x = 0.5 * x + 0.3
        steps += 1
    return x * a


@pytest.mark.parametrize("a", [0.5, 3.0, 10.0])
def test_while_with_a_data_dependent_condition(a: float) -> None:
    assert_scalar_gradient(bisect_like, a)


def newton_sqrt(a: float) -> float:
    x = a
    while abs(x * x - a) > 1e-12 * a:
        x = 0.5 * (x + a / x)
    return x


@pytest.mark.parametrize("a", [2.0, 9.0, 150.0])
def test_derivative_of_a_converged_iterate(a: float) -> None:
    assert grad(newton_sqrt)(a) == pytest.approx(1 / (2 * math.sqrt(a)), rel=1e-9)
    assert grad(newton_sqrt)(a) == pytest.approx(numeric_gradient(newton_sqrt, (a,))[0], rel=1e-5)


# -- break, continue, early return inside loops ------------------------------------------


def with_break(xs: list[float], limit: float) -> float:
    total = 0.0
    for x in xs:
        if total > limit:
            break
        total += x * x
    return total * limit


def with_continue(xs: list[float]) -> float:
    total = 0.0
    for i in range(len(xs)):
        if xs[i] < 0:
            continue
        total += math.sqrt(xs[i]) * (i + 1)
    return total


def first_large(xs: list[float], c: float) -> float:
    for x in xs:
        if x * c > 1.0:
            return x * x * c
    return c


def while_with_break(a: float) -> float:
    x = a
    while True:
        x = x * 0.7 + 0.05
        if x < 0.5:
            break
    return x * a


def test_break() -> None:
    assert_gradient(with_break, [0.5, 1.0, 2.0, 3.0], 1.6)
    assert_gradient(with_break, [0.5, 1.0, 2.0, 3.0], 20.0)


def test_continue() -> None:
    assert_gradient(with_continue, [0.5, -1.0, 2.0, -0.3, 1.7])


RETURN_IN_LOOP_BUG = (
    "core bug: any `return` inside a loop body makes lower.block/guarded recurse forever (RecursionError instead of a gradient)"
)


def test_return_from_inside_a_loop_minimal() -> None:
    def first(x: float, n: int) -> float:
        for _ in range(n):
            return x * 2.0
        return x

    assert grad(first, wrt="x")(0.3, 3) == 2.0


def test_return_from_inside_a_loop() -> None:
    assert_gradient(first_large, [0.2, 0.5, 3.0, 5.0], 0.6)
    assert_gradient(first_large, [0.2, 0.5], 0.6)  # the loop ends without returning


@pytest.mark.parametrize("a", [0.4, 2.0, 30.0])
def test_while_true_with_break(a: float) -> None:
    assert_scalar_gradient(while_with_break, a)


def test_break_and_continue_in_nested_loops() -> None:
    def nested(W: list[list[float]], x: float) -> float:
        total = 0.0
        for row in W:
            for w in row:
                if w < 0:
                    continue
                if w > 2.0:
                    break
                total += math.sin(w * x)
            total = total * x
        return total

    assert_gradient(nested, [[0.5, -1.0, 3.0, 0.2], [1.5, 0.3], [-0.4, 2.5, 0.7]], 0.8)


def test_branch_inside_nested_loops_with_carried_values() -> None:
    def relu_net(W: list[list[float]], x: list[float]) -> float:
        out = 0.0
        for j in range(len(W)):
            a = 0.0
            for k in range(len(x)):
                a += W[j][k] * x[k]
            if a > 0:
                out += a
            else:
                out += 0.1 * a
        return out * out

    assert_gradient(relu_net, [[0.5, -1.0], [1.5, 0.3], [-0.4, 0.7]], [0.9, 0.4])


# -- more programs mixing the constructs ----------------------------------------------------


def conditional_in_loop(xs: list[float], c: float) -> float:
    t = 0.0
    for x in xs:
        t += x * c if x > 0 else math.exp(x * c)
    return t


def max_min_in_loop(xs: list[float], c: float) -> float:
    t = 0.0
    for x in xs:
        t = max(t, x * c) + min(x, c)
    return t


def while_over_a_list_with_break(xs: list[float], c: float) -> float:
    n = len(xs)
    t = 0.0
    i = 0
    while i < n:
        t += xs[i] * c
        if t > 3.0:
            break
        i += 1
    return t


def running_best(xs: list[float]) -> float:
    best = xs[0]
    for x in xs:
        if x > best:
            best = x
    return best * best


def while_inside_for(xs: list[float], c: float) -> float:
    t = 0.0
    for x in xs:
        y = x
        while y < c:
            y = y * 1.3 + 0.1
        t += y * x
    return t


def loop_inside_branch_inside_loop(xs: list[float], c: float) -> float:
    t = 0.0
    for x in xs:
        if x > 0:
            for _ in range(3):
                t = t * c + x
        else:
            t -= x * c
    return t


def while_on_a_list_element(xs: list[float], c: float) -> float:
    i = 0
    while xs[i] * c < 2.0:
        i += 1
    return xs[i] * c


def assigned_in_one_branch_used_there(x: float, y: float) -> float:
    z = 0.0
    if x > 0:
        w = x * y
        z = w * w
    return z + x


def nested_boolean_returns(x: float, y: float) -> float:
    if not (x > 0 or y > 0):
        return x * y
    return x + y if x * y > 0.1 else x - y


PROGRAMS = [
    (conditional_in_loop, ([0.5, -1.0, 2.0], 0.7)),
    (max_min_in_loop, ([0.5, -1.0, 2.0], 0.7)),
    (while_over_a_list_with_break, ([1.0, 1.5, 2.0, 0.5], 1.1)),
    (while_over_a_list_with_break, ([0.1, 0.2], 1.1)),
    (running_best, ([0.5, -1.0, 2.0, 1.0],)),
    (while_inside_for, ([0.5, 1.0, 2.0], 1.7)),
    (loop_inside_branch_inside_loop, ([0.5, -1.0, 2.0], 0.7)),
    (while_on_a_list_element, ([0.5, 1.0, 2.0, 4.0], 1.1)),
    (assigned_in_one_branch_used_there, (0.5, 0.7)),
    (assigned_in_one_branch_used_there, (-0.5, 0.7)),
    (nested_boolean_returns, (0.5, 0.5)),
    (nested_boolean_returns, (-0.5, -0.6)),
    (nested_boolean_returns, (0.2, 0.3)),
]


@pytest.mark.parametrize("function, args", PROGRAMS, ids=[f"{f.__name__}-{i}" for i, (f, _) in enumerate(PROGRAMS)])
def test_programs_mixing_branches_and_loops(function: Callable[..., float], args: tuple[object, ...]) -> None:
    assert_gradient(function, *args)


def test_a_float_parameter_inside_a_range_bound_keeps_its_gradient() -> None:
    def count_then_scale(x: float) -> float:
        t = 0.0
        for _ in range(int(x)):
            t += 1.0
        return t * x

    assert grad(count_then_scale)(3.5) == pytest.approx(central_difference(count_then_scale, (3.5,), 0))
