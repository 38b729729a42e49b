"""Calls to the user's own functions: inlined and differentiated to any depth.

Helpers are defined at module level (where s2s_ad resolves them), called
from loops and branches, return a number or a tuple the caller unpacks.
Recursion, direct or mutual, is refused with an error naming the call.
"""

from __future__ import annotations

import inspect
import math

import pytest
from conftest import numeric_gradient
from test_lists import assert_gradient

from s2s_ad import S2SError, grad

# -- helpers ---------------------------------------------------------------------


def sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-z))


def softplus(z: float) -> float:
    if z > 20.0:
        return z
    return math.log(1.0 + math.exp(z))


def polar(r: float, theta: float) -> tuple[float, float]:
    return r * math.cos(theta), r * math.sin(theta)


def level3(x: float) -> float:
    return math.sin(x) * x


def level2(x: float, y: float) -> float:
    return level3(x * y) + level3(y)


def level1(x: float, y: float) -> float:
    t = level2(x, y)
    return level2(t, x) * 0.5


def dot(w: list[float], x: list[float]) -> float:
    s = 0.0
    for i in range(len(w)):
        s += w[i] * x[i]
    return s


def repeat_square(x: float, n: int) -> float:
    for _ in range(n):
        x = x * x * 0.5 + 0.1
    return x


def clash(x: float) -> float:
    """Uses local names the callers use too."""
    t = x * 2.0
    s = t + 1.0
    return s * t


def factorial_like(x: float, n: int) -> float:
    if n <= 0:
        return 1.0
    return x * factorial_like(x, n - 1)


def is_even_weight(x: float, n: int) -> float:
    if n == 0:
        return x
    return is_odd_weight(x * 2.0, n - 1)


def is_odd_weight(x: float, n: int) -> float:
    if n == 0:
        return -x
    return is_even_weight(x, n - 1)


# -- the tests ------------------------------------------------------------------------


def test_a_scalar_helper_is_inlined_and_differentiated() -> None:
    def logistic_loss(w: float, b: float) -> float:
        return -math.log(sigmoid(w * 0.7 + b))

    assert grad(logistic_loss)(0.3, -0.2) == pytest.approx(numeric_gradient(logistic_loss, (0.3, -0.2)), rel=1e-6)
    assert "sigmoid" not in inspect.getsource(grad(logistic_loss)).split("\n", 1)[1].replace("# line", "").split("return")[-1], (
        "the helper is inlined, not called"
    )


def test_helpers_to_any_depth() -> None:
    for point in ((0.4, 0.9), (-1.2, 0.3)):
        assert grad(level1)(*point) == pytest.approx(numeric_gradient(level1, point), rel=1e-6, abs=1e-9)


def test_a_helper_returning_a_tuple_that_the_caller_unpacks() -> None:
    def distance_after_rotation(r: float, theta: float) -> float:
        x, y = polar(r, theta)
        return (x - 1.0) ** 2 + (y + 0.5) ** 2

    assert grad(distance_after_rotation)(1.3, 0.4) == pytest.approx(
        numeric_gradient(distance_after_rotation, (1.3, 0.4)), rel=1e-6
    )


def test_a_helper_called_from_a_loop() -> None:
    def total_softplus(xs: list[float], c: float) -> float:
        total = 0.0
        for x in xs:
            total += softplus(c * x) + sigmoid(x)
        return total

    assert_gradient(total_softplus, [0.3, -1.5, 25.0, 0.8], 1.1)  # 25 * 1.1 takes softplus's early return


def test_a_helper_called_from_branches() -> None:
    def choose(x: float, y: float) -> float:
        if x > y:
            r = sigmoid(x - y) * level3(x)
        else:
            a, b = polar(x, y)
            r = a * b
        return r

    for point in ((1.0, 0.2), (-0.5, 0.4)):
        assert grad(choose)(*point) == pytest.approx(numeric_gradient(choose, point), rel=1e-6, abs=1e-9)


LIST_THROUGH_HELPER_BUG = (
    "core bug: a parameter the caller only passes on to a helper that uses it as a list is "
    "typed as a number (param_types reads the caller's body only), so the helper's len(w) "
    "is refused with 'expected a list here'"
)


def test_a_list_parameter_only_passed_on_to_a_helper_minimal() -> None:
    def doubled(w: list[float], x: list[float]) -> float:
        return dot(w, x) * 2.0

    assert grad(doubled)([1.0, 2.0], [3.0, 4.0]) == ([6.0, 8.0], [2.0, 4.0])


def test_a_list_parameter_the_caller_also_indexes_can_be_passed_to_a_helper() -> None:
    def doubled(w: list[float], x: list[float]) -> float:
        return dot(w, x) * w[0] + x[0]

    assert_gradient(doubled, [1.0, 2.0, -0.5], [3.0, 4.0, 0.25])


def test_a_helper_taking_lists_and_one_with_a_loop_and_an_integer_count() -> None:
    def model(w: list[float], x: list[float], k: float) -> float:
        return repeat_square(dot(w, x) * k, 3)

    assert_gradient(model, [0.4, -0.3, 0.2], [1.0, 0.5, -2.0], 0.9)


def test_a_helper_whose_local_names_clash_with_the_caller() -> None:
    def caller(x: float) -> float:
        t = x * 3.0
        s = clash(t) + clash(x)
        return s * t

    assert grad(caller)(0.7) == pytest.approx(numeric_gradient(caller, (0.7,))[0], rel=1e-6)


def test_a_helper_called_twice_with_different_arguments() -> None:
    def twice(x: float, y: float) -> float:
        return sigmoid(x) * sigmoid(y * x)

    assert grad(twice)(0.5, -1.5) == pytest.approx(numeric_gradient(twice, (0.5, -1.5)), rel=1e-6)


def test_direct_recursion_is_refused_naming_the_call() -> None:
    def uses_recursion(x: float) -> float:
        return factorial_like(x, 3)

    with pytest.raises(S2SError) as info:
        grad(uses_recursion)
    error = info.value
    assert "factorial_like" in error.message and "recursi" in error.message
    assert error.filename == __file__
    assert error.lineno == factorial_like.__code__.co_firstlineno + 3
    assert error.col_offset is not None


def test_mutual_recursion_is_refused_naming_the_call() -> None:
    def uses_mutual(x: float) -> float:
        return is_even_weight(x, 4)

    with pytest.raises(S2SError) as info:
        grad(uses_mutual)
    error = info.value
    assert "is_even_weight" in error.message and "recursi" in error.message
    assert error.lineno == is_odd_weight.__code__.co_firstlineno + 3


def test_differentiating_a_recursive_function_itself_is_refused() -> None:
    with pytest.raises(S2SError, match="factorial_like"):
        grad(factorial_like, wrt="x")


def test_a_helper_with_a_loop_and_an_integer_count() -> None:
    def iterate(x: float) -> float:
        return repeat_square(x, 3) + repeat_square(x * x, 2)

    for x in (0.4, -0.9):
        assert grad(iterate)(x) == pytest.approx(numeric_gradient(iterate, (x,))[0], rel=1e-6)


def appender(x: float) -> float:
    ys = []
    for i in range(3):
        ys.append(x * i)
    return sum(ys)


def test_a_helper_returning_a_tuple_called_in_a_loop() -> None:
    def rotated_products(xs: list[float], c: float) -> float:
        t = 0.0
        for x in xs:
            u, v = polar(x, c)
            t += u * v
        return t

    assert_gradient(rotated_products, [0.5, -1.0, 1.7], 0.3)


def test_a_helper_in_a_generator_expression() -> None:
    def total(xs: list[float]) -> float:
        return sum(sigmoid(x) for x in xs)

    assert_gradient(total, [0.5, -1.0, 2.0])


def test_a_helper_with_a_local_list_called_in_a_loop() -> None:
    def repeated(x: float, c: float) -> float:
        t = 0.0
        for i in range(4):
            t += appender(x * c) * i
        return t

    assert_gradient(repeated, 0.5, 0.7)
