"""A loop that appends one item per iteration to a list that was empty when it started puts item i at
position i: the reverse sweep reads the item there (`h = hidden[j]`) and its adjoint (`hidden_bar[j]`)
instead of taping the item a second time and popping the adjoint list.

Every program is compared with central finite differences. The near misses (a list that was not
empty, an append in a branch, two appends, a loop left early, a reversed loop, a loop from 1, an
alias appended to as well, items overwritten or appended after the loop) must keep popping and stay right.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable
from typing import Any

import pytest
from test_lists import assert_gradient

from s2s_ad import grad, value_and_grad

XS = [0.3, -1.2, 0.5, 2.0, 1.1]


def tanh_layer(W: list[list[float]], x: list[float]) -> float:
    hidden = []
    for j in range(len(W)):
        s = 0.0
        for k in range(len(x)):
            s += W[j][k] * x[k]
        hidden.append(math.tanh(s))
    total = 0.0
    for j in range(len(hidden)):
        total += hidden[j] * hidden[j]
    return total


def comprehension_in_a_loop(W: list[list[float]], X: list[list[float]]) -> float:
    total = 0.0
    for x in X:
        hidden = [math.tanh(sum(W[j][k] * x[k] for k in range(len(x)))) for j in range(len(W))]
        total += sum(h * h for h in hidden) + hidden[0]
    return total


def not_empty_at_the_start(xs: list[float], w: float) -> float:
    ys = [xs[0] * w]
    for i in range(len(xs)):
        ys.append(math.sin(xs[i] * w))
    return sum(y * y for y in ys) + ys[1] * ys[-1]


def appended_in_a_branch(xs: list[float], w: float) -> float:
    ys = []
    for i in range(len(xs)):
        if xs[i] > 0:
            ys.append(math.exp(xs[i] * w))
    return sum(ys) * ys[0]


def two_appends_per_iteration(xs: list[float], w: float) -> float:
    ys = []
    for i in range(len(xs)):
        ys.append(math.sin(xs[i] * w))
        ys.append(math.cos(xs[i]) * w)
    return ys[1] * ys[2] + sum(ys)


def left_early(xs: list[float], w: float) -> float:
    ys = []
    for i in range(len(xs)):
        ys.append(math.tanh(xs[i] * w))
        if xs[i] > 1.5:
            break
    return ys[-1] * sum(ys)


def reversed_loop(xs: list[float], w: float) -> float:
    ys = []
    for i in reversed(range(len(xs))):
        ys.append(math.tanh(xs[i] * w) * (i + 1))
    return ys[0] * 2.0 + ys[1] * ys[-1]


def counted_from_one(xs: list[float], w: float) -> float:
    ys = []
    for i in range(1, len(xs)):
        ys.append(math.tanh(xs[i] * w) * xs[i - 1])
    return ys[0] * 3.0 + ys[-1] * sum(ys)


def an_alias_grows_too(xs: list[float], w: float) -> float:
    ys = []
    zs = ys
    for i in range(len(xs)):
        ys.append(math.sin(xs[i] * w))
        if i % 2 == 0:
            zs.append(w * w)
    return ys[1] * 5.0 + sum(zs)


def overwritten_later(xs: list[float], w: float) -> float:
    ys = []
    for i in range(len(xs)):
        ys.append(math.sin(xs[i] * w))
    ys[1] = ys[0] * w
    return ys[1] * ys[2] + sum(ys)


def appended_after_the_loop(xs: list[float], w: float) -> float:
    ys = []
    for i in range(len(xs)):
        ys.append(xs[i] * w)
    ys.append(w * 2.0)
    total = 0.0
    for i in range(len(ys)):
        total += math.sin(ys[i]) * (i + 1)
    return total


def rows_of_a_table(xs: list[float], w: float) -> float:
    table = []
    for i in range(len(xs)):
        row = []
        for j in range(len(xs)):
            row.append(math.tanh(xs[i] * xs[j] * w))
        table.append(row)
    total = 0.0
    for i in range(len(table)):
        total += table[i][i] * table[i][-1] + table[-1][i]
    return total


def emptied_again_in_a_loop(xs: list[float], w: float) -> float:
    total = 0.0
    for r in range(3):
        ys = []
        for i in range(len(xs)):
            ys.append(math.sin(xs[i] * w + r))
        total += ys[r] * ys[-1]
    return total


PROGRAMS: list[Callable[..., float]] = [
    not_empty_at_the_start,
    appended_in_a_branch,
    two_appends_per_iteration,
    left_early,
    reversed_loop,
    counted_from_one,
    an_alias_grows_too,
    overwritten_later,
    appended_after_the_loop,
    rows_of_a_table,
    emptied_again_in_a_loop,
]

W = [[0.4, -0.3, 0.2, 0.1, 0.0], [0.1, 0.5, -0.2, 0.3, -0.4], [-0.6, 0.2, 0.3, -0.1, 0.2]]


@pytest.mark.parametrize("function", PROGRAMS, ids=lambda f: f.__name__)
def test_gradients_agree_with_differences(function: Callable[..., float]) -> None:
    assert_gradient(function, list(XS), 0.7)
    value, _ = value_and_grad(function, wrt=(0, 1))(list(XS), 0.7)
    assert value == function(list(XS), 0.7)


@pytest.mark.parametrize(("function", "args"), [(tanh_layer, (W, XS)), (comprehension_in_a_loop, (W, [XS, XS[::-1]]))])
def test_items_are_read_back_where_they_were_appended(function: Callable[..., float], args: tuple[Any, ...]) -> None:
    assert_gradient(function, *args)
    derived = grad(function)
    derived(*args)
    code = inspect.getsource(derived)
    assert ".pop()" not in code and "_tape.append" not in code
    assert "hidden_bar[j]" in code and "= hidden[j]" in code


def test_near_misses_keep_popping() -> None:
    derived = grad(appended_in_a_branch, wrt=(0, 1))
    derived(list(XS), 0.7)
    assert "ys_bar.pop()" in inspect.getsource(derived)
