"""Slices, copies, concatenation, nested iteration (`enumerate(zip(...))`, `enumerate(reversed(...))`),
tuples held in lists and unpacked, `xs[:] = ...`, and names a `while True` loop assigns.

Gradients are compared with central finite differences; values with the
function itself. Slices are swept over every bound from -7 to 7 and several
steps, against Python's own slicing.
"""

from __future__ import annotations

import inspect
import math
from pathlib import Path
from typing import Any

import pytest
from conftest import import_source, numeric_gradient
from test_lists import assert_gradient, numeric_gradient_of

from s2s_ad import S2SError, check, grad, jvp, value_and_grad

XS = [0.3, -1.2, 0.5, 2.0, 1.1]


def slice_by_bounds(xs: list[float], a: int, b: int) -> float:
    total = 0.0
    for k, y in enumerate(xs[a:b]):
        total += (k + 1) * math.sin(y)
    return total + len(xs[a:b])


def slice_by_bounds_stepping_back(xs: list[float], a: int, b: int) -> float:
    total = 0.0
    for k, y in enumerate(xs[a:b:-2]):
        total += (k + 1) * math.sin(y)
    return total + len(xs[a:b:-2])


@pytest.mark.parametrize("function", [slice_by_bounds, slice_by_bounds_stepping_back])
def test_every_slice_bound_against_python(function: Any) -> None:
    derived = value_and_grad(function, wrt="xs")
    for a in range(-7, 8):
        for b in range(-7, 8):
            value, gradient = derived(list(XS), a, b)
            assert value == function(list(XS), a, b)
            expected = numeric_gradient_of(lambda x, a=a, b=b: function(x, a, b), [list(XS)], 0)
            assert gradient == pytest.approx(expected, abs=1e-7)


def written_slices(xs: list[float]) -> float:
    return sum(xs[1:]) * xs[:-1][0] + sum(xs[::-1][:2]) * 2.0 + sum(xs[1:4:2]) ** 2 + sum(xs[:]) + xs[-3:][0]


def differences(xs: list[float]) -> float:
    total = 0.0
    for a, b in zip(xs, xs[1:]):
        total += (b - a) ** 2
    return total


def concatenated(xs: list[float], ys: list[float]) -> float:
    zs = xs + ys + [1.0]
    return sum(k * z * z for k, z in enumerate(zs))


def copied(xs: list[float]) -> float:
    ys = list(xs)
    ys[0] = ys[0] * 3.0
    return sum(ys) * xs[0]


def enumerate_of_zip(xs: list[float], ys: list[float]) -> float:
    s = 0.0
    for i, (a, b) in enumerate(zip(xs, ys), 1):
        s += i * a * b
    return s


def zip_of_reversed(xs: list[float]) -> float:
    s = 0.0
    for a, b in zip(xs, reversed(xs)):
        s += a * b * b
    return s


def zip_of_range(xs: list[float]) -> float:
    return sum(k * x for k, x in zip(range(1, 10, 2), xs))


def list_of_enumerate(xs: list[float]) -> float:
    return sum(x * x for x in list(reversed(xs))[1:])


def tuples_in_a_list(x: float, y: float) -> float:
    pts = [(x, y), (y, 1.0), (2.0, x)]
    pts.append((x * y, 3.0))
    s = 0.0
    for a, b in pts:
        s += a * b
    x1, y1 = pts[1]
    return s + x1 * y1


def nested_unpacking(x: float, y: float) -> float:
    c, (d, e) = x * 2, (y, x + y)
    return c * d + e


def assigned_whole(xs: list[float]) -> float:
    ys = [0.0] * len(xs)
    ys[:] = [x * x for x in xs]
    return sum(y * k for k, y in enumerate(ys))


def read_after_while_true(x: float) -> float:
    k = 0
    while True:
        y = x * k + math.sin(x)
        k += 1
        if k > 3:
            break
    return y * y


CASES: list[tuple[Any, tuple[Any, ...]]] = [
    (written_slices, (list(XS),)),
    (differences, (list(XS),)),
    (concatenated, ([1.0, 2.0], [0.5])),
    (copied, (list(XS),)),
    (enumerate_of_zip, ([1.0, 2.0, 3.0], [0.5, -1.0])),
    (zip_of_reversed, (list(XS),)),
    (zip_of_range, (list(XS),)),
    (list_of_enumerate, (list(XS),)),
    (tuples_in_a_list, (1.5, -0.5)),
    (nested_unpacking, (1.0, 2.0)),
    (assigned_whole, (list(XS),)),
    (read_after_while_true, (0.7,)),
]


@pytest.mark.parametrize("function, args", CASES, ids=[c[0].__name__ for c in CASES])
def test_gradient_agrees_with_finite_differences(function: Any, args: tuple[Any, ...]) -> None:
    assert_gradient(function, *args, rel=1e-6, abs_=1e-7)
    value, _ = value_and_grad(function)(*args)
    assert value == function(*args)


@pytest.mark.parametrize("function, args", CASES[:8], ids=[c[0].__name__ for c in CASES[:8]])
def test_the_check_agrees(function: Any, args: tuple[Any, ...]) -> None:
    assert check(function, args=args).ok


def test_forward_mode_through_slices() -> None:
    direction = [0.1 * k for k in range(len(XS))]
    _, derivative = jvp(written_slices)((list(XS),), (direction,))
    gradient = grad(written_slices)(list(XS))
    assert derivative == pytest.approx(sum(g * d for g, d in zip(gradient, direction)), rel=1e-12)


def test_slices_are_printed_as_written() -> None:
    source = inspect.getsource(grad(differences))
    assert "xs[1:]" in source
    source = inspect.getsource(grad(written_slices))
    assert "xs[::-1]" in source and "xs[1:4:2]" in source


def changes_a_tuple(x: float) -> float:
    pts = [(x, 1.0)]
    pts[0][0] = 2.0
    return pts[0][0]


def slice_assignment_with_bounds(xs: list[float]) -> float:
    ys = [0.0, 0.0, 0.0]
    ys[1:] = xs
    return sum(ys)


def reversed_of_zip(xs: list[float]) -> float:
    return sum(a * b for a, b in reversed(zip(xs, xs)))


@pytest.mark.parametrize(
    "function, words",
    [
        (changes_a_tuple, ("tuple cannot be changed",)),
        (slice_assignment_with_bounds, ("xs[:] =",)),
        (reversed_of_zip, ("cannot be reversed",)),
    ],
)
def test_what_python_refuses_or_we_do_not_support_is_refused(function: Any, words: tuple[str, ...]) -> None:
    with pytest.raises(S2SError) as info:
        grad(function)
    for word in words:
        assert word in info.value.message
    assert info.value.filename == __file__


def test_assigning_a_list_of_another_length_to_all_of_a_list_raises() -> None:
    with pytest.raises(ValueError, match="another length"):
        grad(assigned_whole_other_length)([1.0, 2.0])


def assigned_whole_other_length(xs: list[float]) -> float:
    ys = [0.0]
    ys[:] = xs
    return sum(ys)


REVERSED_LEFT_EARLY = """
def first_large_from_the_end(xs, t):
    s = 0.0
    for i in reversed(range(len(xs))):
        s += xs[i] * t
        if xs[i] > 2.0:
            break
    return s

def back_over_a_list_with_a_return(xs, t):
    s = t
    for x in reversed(xs):
        s = s * x
        if s > 5.0:
            return s + t
    return s

def stepped_backwards(xs, t):
    s = 0.0
    for i in reversed(range(1, len(xs), 2)):
        s += xs[i] * t * i
        if s > 3.0:
            break
    return s
"""


@pytest.mark.parametrize(
    "name, xs, t",
    [
        ("first_large_from_the_end", [1.0, 3.0, 0.5, 1.5], 0.7),
        ("first_large_from_the_end", [1.0, 1.0], 0.7),
        ("first_large_from_the_end", [], 0.7),
        ("back_over_a_list_with_a_return", [1.5, 2.0, 3.0], 1.2),
        ("back_over_a_list_with_a_return", [1.1, 1.2], 1.2),
        ("stepped_backwards", [1.0, 2.0, 3.0, 4.0, 5.0, 6.0], 0.4),
        ("stepped_backwards", [1.0] * 7, 0.1),
    ],
)
def test_a_loop_over_reversed_left_early(tmp_path: Path, name: str, xs: list[float], t: float) -> None:
    """`for i in reversed(range(...))` or `for x in reversed(xs)` left by `break` or `return`: counted down."""
    f = getattr(import_source(REVERSED_LEFT_EARLY, tmp_path), name)
    dxs, dt = grad(f)(list(xs), t)
    truth = numeric_gradient(lambda *v: f(list(v[:-1]), v[-1]), (*xs, t))
    assert [*dxs, dt] == pytest.approx(list(truth), rel=1e-6, abs=1e-8)
    assert value_and_grad(f)(list(xs), t)[0] == f(list(xs), t)


# -- lists however made as loop iterables, and lists chosen by `or`, `and` and `if ... else` -------------


def over_sorted(xs: list[float]) -> float:
    total = 0.0
    for v in sorted(xs):
        total = total * 0.5 + v * v
    return total + sum(v * k for k, v in enumerate(sorted(xs, reverse=True))) + sum(math.sin(v) for v in sorted(xs))


def either_list(xs: list[float], ys: list[float]) -> float:
    zs = xs or ys
    ws = xs and ys
    vs = xs if xs[0] > 0.0 else ys
    return sum(zs) * 2.0 + sum(w * w for w in ws) + vs[0] * vs[-1]


def list_in_a_condition(xs: list[float], x: float) -> float:
    while (xs or [x]) and -3.0 < x < 3.0:
        x = x * 2.0 + sum(xs)
    if xs and x > 0.0 or not xs:
        return x * x
    return x


@pytest.mark.parametrize("xs", [[0.3, -1.2, 2.5, 0.7], [2.0], [-0.4, 1.1]])
def test_a_loop_over_a_sorted_list(xs: list[float]) -> None:
    assert_gradient(over_sorted, xs)


@pytest.mark.parametrize(
    "xs, ys", [([0.3, -1.2, 2.5], [1.0, 2.0]), ([-0.3, 1.2], [1.0, 2.0, 0.5]), ([0.4], [-1.0]), ([2.0, 1.0], [])]
)
def test_a_list_chosen_by_or_and_and_a_conditional_expression(xs: list[float], ys: list[float]) -> None:
    assert grad(either_list, wrt=(0, 1))(list(xs), list(ys)) is not None
    assert_gradient(either_list, xs, ys)
    assert value_and_grad(either_list, wrt=(0, 1))(list(xs), list(ys))[0] == pytest.approx(either_list(xs, ys), rel=1e-15)


@pytest.mark.parametrize("xs, x", [([0.1, 0.2], 0.5), ([], 0.5), ([-2.0], 0.5), ([0.3], 4.0)])
def test_a_list_in_a_condition_is_true_when_not_empty(xs: list[float], x: float) -> None:
    assert_gradient(list_in_a_condition, xs, x)


def test_or_between_a_list_and_a_number_says_so() -> None:
    def mixed(xs: list[float], x: float) -> float:
        zs = xs or x
        return zs * 2.0 + xs[0]

    with pytest.raises(S2SError, match="'or' between a list and a number is not supported") as raised:
        grad(mixed)([1.0], 2.0)
    assert "if" in str(raised.value)


def tuples_made_by_a_comprehension(xs: list[float]) -> float:
    pairs = [(v, v * v) for v in xs if v > -1.0]
    total = sum(p * q for p, q in pairs)
    for k, (p, q) in enumerate(pairs):
        total += (k + 1) * math.sin(p - q)
    return total + pairs[0][1] * pairs[-1][0] + len(pairs)


@pytest.mark.parametrize("xs", [[0.3, -1.2, 2.5, 0.7], [0.5], [-0.5, 1.5]])
def test_a_comprehension_of_tuples(xs: list[float]) -> None:
    assert_gradient(tuples_made_by_a_comprehension, xs)
    value, _ = value_and_grad(tuples_made_by_a_comprehension)(list(xs))
    assert value == pytest.approx(tuples_made_by_a_comprehension(xs), rel=1e-15)


def tuple_named_then_unpacked(x, y, z):
    t = (x * y, (y + z, z * x))
    c, (d, e) = t
    return c * d + e


def tuple_indexed(x, y):
    t = (x * y, y - x)
    return t[0] * math.sin(t[1]) + t[-1]


def tuple_chosen_by_a_branch(x, y):
    if x > 0:
        t = (x, y * y)
    else:
        t = (y, x)
    a, b = t
    return a * b


@pytest.mark.parametrize(
    ("function", "args"),
    [
        (tuple_named_then_unpacked, (1.5, 0.7, -0.3)),
        (tuple_indexed, (1.5, 0.7)),
        (tuple_chosen_by_a_branch, (1.5, 0.7)),
        (tuple_chosen_by_a_branch, (-1.5, 0.7)),
    ],
)
def test_a_name_holding_a_tuple(function: Any, args: tuple[float, ...]) -> None:
    expected = numeric_gradient(function, args)
    value, gradient = value_and_grad(function)(*args)
    assert value == function(*args)
    assert gradient == pytest.approx(expected, rel=1e-6, abs=1e-9)


def tuple_carried_by_a_loop(x, y):
    t = (x, y)
    for _ in range(3):
        t = (t[1], t[0] * x)
    return t[0] + t[1]


def test_a_tuple_a_loop_assigns_again_is_refused_with_what_to_write() -> None:
    with pytest.raises(S2SError, match="cannot carry a tuple") as info:
        grad(tuple_carried_by_a_loop)
    assert info.value.hint is not None and "a, b = b, a * x" in info.value.hint


def factorial_weighted(x, n):
    return x * math.prod(range(1, n)) + sum(range(n)) * x * x


def pairs_listed(xs, ys):
    pairs = list(zip(xs, ys))
    return sum(a * b * b for a, b in pairs)


def enumerated_listed(xs):
    e = list(enumerate(xs))
    return sum(i * v * v for i, v in e)


def test_range_zip_and_enumerate_read_as_values() -> None:
    # d/dx of 3! x + 6 x^2 at 1.5 (n = 4): 6 + 12 * 1.5
    assert grad(factorial_weighted, wrt=0)(1.5, 4) == pytest.approx(24.0)
    for f, args in ((pairs_listed, ([1.0, 2.0], [0.5, 3.0])), (enumerated_listed, ([1.0, -2.0, 3.0],))):
        value, gradient = value_and_grad(f, wrt=0)(*args)
        assert value == f(*args)
        expected = numeric_gradient_of(f, list(args), 0)
        assert gradient == pytest.approx(expected, rel=1e-6, abs=1e-9)
