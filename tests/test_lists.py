"""Lists: list parameters (flat and nested), len, indexing, local lists, reductions, comprehensions.

Every gradient is compared with central finite differences taken entry by
entry (`numeric_gradient_of`, also used by the other program tests). The
gradient with respect to a list parameter is a list of the same shape.
"""

from __future__ import annotations

import copy
import inspect
import math
from collections.abc import Callable, Sequence
from typing import Any

import pytest

from s2s_ad import grad, value_and_grad

Nested = float | list["Nested"]


def _moved(args: Sequence[Any], where: tuple[int, ...], h: float) -> list[Any]:
    moved = [copy.deepcopy(a) for a in args]
    if len(where) == 1:
        moved[where[0]] += h
        return moved
    holder = moved[where[0]]
    for i in where[1:-1]:
        holder = holder[i]
    holder[where[-1]] += h
    return moved


def numeric_gradient_of(f: Callable[..., float], args: Sequence[Any], i: int, h: float = 1e-6) -> Nested:
    """d f / d args[i] by central differences; a list of the same shape when args[i] is a list."""

    def at(where: tuple[int, ...], value: Any) -> Nested:
        if isinstance(value, list):
            return [at(where + (j,), item) for j, item in enumerate(value)]
        return (f(*_moved(args, where, h)) - f(*_moved(args, where, -h))) / (2 * h)

    return at((i,), args[i])


def flatten(value: Any) -> list[float]:
    if isinstance(value, (list, tuple)):
        return [x for item in value for x in flatten(item)]
    return [value]


def shape(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return (type(value).__name__, [shape(v) for v in value])
    return "number"


def assert_gradient(
    f: Callable[..., float], *args: Any, wrt: Sequence[int] | None = None, rel: float = 1e-6, abs_: float = 1e-7
) -> None:
    """grad(f, wrt=...) at args agrees with finite differences, in value and in shape."""
    indices = tuple(range(len(args))) if wrt is None else tuple(wrt)
    generated = grad(f, wrt=indices)(*copy.deepcopy(list(args)))
    expected = tuple(numeric_gradient_of(f, args, i) for i in indices)
    assert shape(list(generated)) == shape(list(expected))
    assert flatten(generated) == pytest.approx(flatten(expected), rel=rel, abs=abs_)


# -- list parameters ---------------------------------------------------------------


def dot(w: list[float], x: list[float]) -> float:
    s = 0.0
    for i in range(len(w)):
        s += w[i] * x[i]
    return s


def quadratic_form(A: list[list[float]], x: list[float]) -> float:
    total = 0.0
    for i in range(len(A)):
        for j in range(len(A[i])):
            total += x[i] * A[i][j] * x[j]
    return total


def matvec_norm(W: list[list[float]], x: list[float]) -> float:
    total = 0.0
    for row in W:
        y = 0.0
        for w, xi in zip(row, x):
            y += w * xi
        total += y * y
    return math.sqrt(total)


def test_flat_list_parameters() -> None:
    assert_gradient(dot, [1.0, -2.0, 0.5], [0.3, 0.7, -1.1])
    assert grad(dot)([1.0, 2.0], [3.0, 4.0]) == ([3.0, 4.0], [1.0, 2.0])


def test_nested_list_parameter_gets_a_gradient_of_the_same_shape() -> None:
    A = [[1.0, 0.5, -0.2], [0.3, 2.0, 0.1], [-0.4, 0.6, 1.5]]
    x = [0.7, -1.3, 0.4]
    assert_gradient(quadratic_form, A, x)
    A_bar, x_bar = grad(quadratic_form)(A, x)
    assert flatten(A_bar) == pytest.approx([x[i] * x[j] for i in range(3) for j in range(3)])


def test_ragged_rows_and_iterating_rows() -> None:
    assert_gradient(matvec_norm, [[1.0, 2.0], [0.5, -1.0], [0.3, 0.3]], [0.4, -0.9])


def test_indexing_with_computed_integer_indices() -> None:
    def shifted(xs: list[float], k: int) -> float:
        n = len(xs)
        total = 0.0
        for i in range(n - 1):
            total += xs[i] * xs[(i + k) % n] - xs[n - 1 - i] ** 2
        return total + xs[n // 2] * xs[-1]

    assert_gradient(shifted, [0.5, -1.0, 2.0, 0.25, 1.5], 2, wrt=(0,))


def test_len_of_a_list_as_a_number() -> None:
    def mean(xs: list[float]) -> float:
        return sum(xs) / len(xs)

    assert_gradient(mean, [1.0, 2.0, 4.5])


def test_integer_parameter_used_as_a_count_gets_no_gradient() -> None:
    def power_sum(x: float, n: int) -> float:
        s = 0.0
        for i in range(n):
            s += x ** (i + 1)
        return s

    dx, dn = grad(power_sum)(0.8, 4)
    assert dx == pytest.approx(sum((i + 1) * 0.8**i for i in range(4)))
    assert dn == 0.0
    assert grad(power_sum, wrt="x")(0.8, 4) == pytest.approx(dx)


def test_integer_parameter_used_as_an_index() -> None:
    def pick(xs: list[float], i: int) -> float:
        return xs[i] * xs[i + 1]

    xs_bar = grad(pick, wrt="xs")([1.0, 2.0, 3.0], 1)
    assert xs_bar == [0.0, 3.0, 2.0]


# -- local lists -------------------------------------------------------------------


def test_local_list_built_with_append_and_read_back() -> None:
    def squares_then_weighted(xs: list[float], c: float) -> float:
        ys = []
        for x in xs:
            ys.append(c * x * x)
        total = 0.0
        for i in range(len(ys)):
            total += (i + 1) * ys[i]
        return total + ys[0] * ys[-1]

    assert_gradient(squares_then_weighted, [0.5, -1.2, 2.0], 0.7)


LIST_LITERAL_BUG = "core bug: elements of a list literal get no adjoint (grad of `xs = [a, b]; return xs[0] * xs[1]` is (0, 0))"


def test_local_list_literal_minimal() -> None:
    def product(a: float, b: float) -> float:
        items = [a, b]
        return items[0] * items[1]

    assert grad(product)(2.0, 3.0) == (3.0, 2.0)


def test_local_list_literal() -> None:
    def from_literal(a: float, b: float) -> float:
        items = [a, a * b, math.sin(b)]
        return items[0] * items[1] + items[2] ** 2 + sum(items)

    assert_gradient(from_literal, 0.7, -1.3)


def test_sum_max_min_of_a_list() -> None:
    def spread(xs: list[float]) -> float:
        return max(xs) - min(xs) + 0.1 * sum(xs)

    assert_gradient(spread, [0.5, 2.0, -1.0, 0.3])  # unique max and min: away from switches
    assert grad(spread)([0.5, 2.0, -1.0, 0.3]) == pytest.approx([0.1, 1.1, -0.9, 0.1])


def test_list_comprehension() -> None:
    def softplus_total(xs: list[float]) -> float:
        ys = [math.log(1.0 + math.exp(x)) for x in xs]
        return sum(ys) * ys[0]

    assert_gradient(softplus_total, [0.3, -1.0, 2.0])


def test_comprehension_over_range_with_indices() -> None:
    def pairwise(xs: list[float]) -> float:
        diffs = [xs[i + 1] - xs[i] for i in range(len(xs) - 1)]
        return sum(d * d for d in diffs)

    assert_gradient(pairwise, [0.3, -1.0, 2.0, 0.4])


def test_generator_expression_dot_product() -> None:
    def gen_dot(w: list[float], x: list[float]) -> float:
        n = len(w)
        return sum(w[i] * x[i] for i in range(n))

    assert_gradient(gen_dot, [1.0, -0.5, 2.0], [0.3, 0.6, -0.9])


def test_nested_comprehension_matrix() -> None:
    def frobenius(W: list[list[float]], x: list[float]) -> float:
        hidden = [math.tanh(sum(W[j][k] * x[k] for k in range(len(x)))) for j in range(len(W))]
        return sum(h * h for h in hidden)

    assert_gradient(frobenius, [[0.5, -0.3], [0.2, 0.8], [-0.6, 0.1]], [0.9, -0.4])


def test_zip_and_enumerate_of_lists() -> None:
    def weighted(xs: list[float], ys: list[float]) -> float:
        total = 0.0
        for i, (x) in enumerate(xs):
            total += (i + 1) * x * x
        for x, y in zip(xs, ys):
            total += math.sin(x) * y
        return total

    assert_gradient(weighted, [0.2, -0.7, 1.1], [0.5, 0.25, -2.0])


def test_zip_of_lists_of_different_lengths_stops_at_the_shortest() -> None:
    def pairs(xs: list[float], ys: list[float]) -> float:
        total = 0.0
        for x, y in zip(xs, ys):
            total += x * y
        return total

    assert grad(pairs)([1.0, 2.0, 3.0], [4.0, 5.0]) == ([4.0, 5.0, 0.0], [1.0, 2.0])


def test_value_and_grad_of_a_function_of_lists() -> None:
    value, (w_bar, x_bar) = value_and_grad(dot)([1.0, 2.0], [3.0, 4.0])
    assert value == 11.0
    assert (w_bar, x_bar) == ([3.0, 4.0], [1.0, 2.0])


def test_the_generated_code_allocates_list_adjoints_of_the_same_shape() -> None:
    source = inspect.getsource(grad(quadratic_form))
    assert "A_bar" in source and "x_bar" in source
    A_bar, _ = grad(quadratic_form)([[1.0, 2.0], [3.0, 4.0]], [1.0, 1.0])
    assert shape(A_bar) == shape([[0.0, 0.0], [0.0, 0.0]])


def test_the_inputs_are_not_mutated() -> None:
    w, x = [1.0, 2.0], [3.0, 4.0]
    grad(dot)(w, x)
    assert (w, x) == ([1.0, 2.0], [3.0, 4.0])


# -- more programs on lists ---------------------------------------------------------------


def while_appending(a: float, c: float) -> float:
    ys = []
    x = a
    while x < 10.0:
        x = x * 1.5 + c
        ys.append(x)
    return sum(ys) + max(ys)


def filtered_generator(xs: list[float]) -> float:
    return sum(x * x for x in xs if x > 0)


def filtered_comprehension(xs: list[float]) -> float:
    ys = [x * x for x in xs if x > 0]
    return sum(ys)


def nested_enumerate(W: list[list[float]], x: list[float]) -> float:
    t = 0.0
    for i, row in enumerate(W):
        for j, w in enumerate(row):
            t += w * x[j] * (i + 1)
    return t


def append_with_continue(xs: list[float], c: float) -> float:
    ys = []
    for x in xs:
        if x > 0:
            continue
        ys.append(x * c)
    return sum(ys) * c


def reversed_index(xs: list[float], c: float) -> float:
    acc = 0.0
    for i in range(len(xs)):
        acc = acc * c + xs[len(xs) - 1 - i]
    return acc


def local_item_assignment(xs: list[float], c: float) -> float:
    zs = [x * c for x in xs]
    total = 0.0
    for i in range(len(zs)):
        zs[i] = zs[i] * zs[i]
    for z in zs:
        total += z
    return total


def first_row_length(W: list[list[float]], x: list[float]) -> float:
    t = 0.0
    for i in range(len(W)):
        for j in range(len(W[0])):
            t += W[i][j] * x[j]
    return t


def chained_comprehensions(xs: list[float]) -> float:
    ys = [math.tanh(x) for x in xs]
    zs = [y * y for y in ys]
    return max(zs) + min(ys) * sum(zs)


def hidden_layer_with_append(W1: list[list[float]], x: list[float]) -> float:
    hs = []
    for row in W1:
        a = 0.0
        for w, xi in zip(row, x):
            a += w * xi
        hs.append(math.tanh(a))
    return sum(h * h for h in hs)


LIST_PROGRAMS = [
    (while_appending, (1.3, 0.4)),
    (filtered_generator, ([0.5, -1.0, 2.0],)),
    (filtered_comprehension, ([0.5, -1.0, 2.0],)),
    (nested_enumerate, ([[0.5, 1.0], [2.0, -1.0]], [0.3, 0.7])),
    (append_with_continue, ([0.5, -1.0, -2.0], 0.7)),
    (reversed_index, ([0.5, -1.0, 2.0], 0.7)),
    (local_item_assignment, ([0.5, -1.0, 2.0], 0.7)),
    (first_row_length, ([[0.5, 1.0], [2.0, -1.0]], [0.3, 0.7])),
    (chained_comprehensions, ([0.5, -1.0, 2.0],)),
    (hidden_layer_with_append, ([[0.5, 1.0], [2.0, -1.0], [0.1, 0.2]], [0.3, 0.7])),
]


@pytest.mark.parametrize("function, args", LIST_PROGRAMS, ids=[f.__name__ for f, _ in LIST_PROGRAMS])
def test_programs_on_lists(function: Callable[..., float], args: tuple[object, ...]) -> None:
    assert_gradient(function, *args)


def test_range_step_from_an_integer_parameter() -> None:
    def every_nth(xs: list[float], n: int) -> float:
        t = 0.0
        for i in range(0, len(xs), n):
            t += xs[i] ** 2
        return t

    assert grad(every_nth, wrt="xs")([1.0, 2.0, 3.0, 4.0, 5.0], 2) == [2.0, 0.0, 6.0, 0.0, 10.0]
