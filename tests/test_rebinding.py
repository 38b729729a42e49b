"""Lists rebound in a loop or a branch: `v = [... v[i] ...]` in each iteration, `alpha = new_alpha`,
a rolling row of a dynamic program, a list chosen by a condition.

Every gradient is compared with central finite differences (`assert_gradient`);
forward mode and the Hessian with finite differences of the gradient.
"""

from __future__ import annotations

import inspect
import math
from typing import Any

import pytest
from test_lists import assert_gradient, flatten

from s2s_ad import grad, hessian, jvp, value_and_grad
from s2s_ad.errors import S2SError


def power_iteration(a: float, b: float, c: float) -> float:
    """The Rayleigh quotient after five steps of power iteration on [[a, b], [b, c]]."""
    v = [1.0, 1.0]
    for _ in range(5):
        w = [a * v[0] + b * v[1], b * v[0] + c * v[1]]
        norm = math.sqrt(w[0] ** 2 + w[1] ** 2)
        v = [w[0] / norm, w[1] / norm]
    return v[0] * (a * v[0] + b * v[1]) + v[1] * (b * v[0] + c * v[1])


def heat_equation(u0: list[float], k: float) -> float:
    """Four explicit steps of the heat equation with zero boundaries, one new list per step."""
    u = [x for x in u0]
    for _ in range(4):
        u = [u[i] + k * ((u[i - 1] if i > 0 else 0.0) - 2 * u[i] + (u[i + 1] if i < len(u) - 1 else 0.0)) for i in range(len(u))]
    return sum(x * x for x in u)


def hmm_forward(pi: list[float], A: list[list[float]], B: list[list[float]], obs: list[int]) -> float:
    """The log-likelihood of `obs` under a hidden Markov model: the forward algorithm."""
    alpha = [pi[s] * B[s][obs[0]] for s in range(len(pi))]
    for t in range(1, len(obs)):
        new_alpha = []
        for j in range(len(pi)):
            total = 0.0
            for i in range(len(pi)):
                total += alpha[i] * A[i][j]
            new_alpha.append(total * B[j][obs[t]])
        alpha = new_alpha
    return math.log(sum(alpha))


def binomial_tree(s0: float, up: float, p: float, strike: float) -> float:
    """A European call on a four-step binomial tree: the list shrinks by one each step."""
    values = [max(s0 * up ** (2 * i - 4) - strike, 0.0) for i in range(5)]
    while len(values) > 1:
        values = [p * values[i + 1] + (1 - p) * values[i] for i in range(len(values) - 1)]
    return values[0]


def soft_edit_distance(a: list[float], b: list[float], gamma: float) -> float:
    """Edit distance with a soft minimum, row by row: `cur` is filled in place, then becomes `prev`."""
    prev = [float(j) for j in range(len(b) + 1)]
    for i in range(1, len(a) + 1):
        cur = [0.0] * (len(b) + 1)
        cur[0] = float(i)
        for j in range(1, len(b) + 1):
            d = (a[i - 1] - b[j - 1]) ** 2
            x, y, z = prev[j] + 1.0, cur[j - 1] + 1.0, prev[j - 1] + d
            m = min(x, y, z)
            soft = math.exp(-(x - m) / gamma) + math.exp(-(y - m) / gamma) + math.exp(-(z - m) / gamma)
            cur[j] = m - gamma * math.log(soft)
        prev = cur
    return prev[len(b)]


def chosen_by_a_branch(xs: list[float], t: float) -> float:
    if t > 0:
        ys = [x * t for x in xs]
    else:
        ys = xs
    return sum(y * y for y in ys) + ys[0]


def branch_in_a_loop(xs: list[float], t: float) -> float:
    v = [x for x in xs]
    for _ in range(3):
        if v[0] > t:
            v = [x * 0.5 for x in v]
        else:
            v = [x + t for x in v]
    return sum(v)


def scaled_n_times(xs: list[float], n: int) -> float:
    v = xs
    for _ in range(n):
        v = [x * 2.0 for x in v]
    return v[0] * v[1]


def read_before_and_after(xs: list[float], w: float) -> float:
    """The first list is read again after the loop, under its own name."""
    first = [x * w for x in xs]
    v = first
    for _ in range(2):
        v = [math.sin(x) + w for x in v]
    return sum(v) * first[0]


def rebound_in_a_while_loop(x: float) -> float:
    v = [x, 1.0]
    while v[0] < 10.0:
        v = [v[0] * v[1] + x, v[1] + 0.5]
    return v[0] + v[1]


def nested_rebinding(xs: list[float], w: float) -> float:
    total = 0.0
    for _ in range(2):
        row = [x for x in xs]
        for _ in range(2):
            row = [w * r + 1.0 for r in row]
        total += sum(row)
    return total


def matrix_power(A: list[list[float]], p: int) -> float:
    """A ** p for a 2x2 table: each product is a new table filled in place, then the loop's."""
    n = len(A)
    R = A
    for _ in range(p - 1):
        C = [[0.0] * n for _ in range(n)]
        for i in range(n):
            for j in range(n):
                for t in range(n):
                    C[i][j] += R[i][t] * A[t][j]
        R = C
    return R[0][0] + R[1][1] * R[0][1]


def concatenated_each_step(xs: list[float], a: float) -> float:
    v = xs
    for _ in range(2):
        w = [a * t for t in v]
        v = w + xs
    return sum(t * t for t in v)


def sliced_each_step(xs: list[float], a: float) -> float:
    v = xs
    for _ in range(2):
        v = [a * t for t in v[1:]] + v[:1]
    return sum(t * t for t in v)


def made_then_filled(xs: list[float], a: float) -> float:
    v = [x for x in xs]
    for k in range(3):
        new = []
        for x in v:
            new.append(math.sin(x * a) + k)
        new[0] = new[0] * a
        v = new
    return sum(v) * v[-1]


CASES: list[tuple[Any, tuple[Any, ...], tuple[int, ...]]] = [
    (power_iteration, (2.0, 0.5, 1.0), (0, 1, 2)),
    (heat_equation, ([1.0, 2.0, 0.5, -1.0], 0.1), (0, 1)),
    (hmm_forward, ([0.6, 0.4], [[0.7, 0.3], [0.4, 0.6]], [[0.5, 0.4, 0.1], [0.1, 0.3, 0.6]], [0, 1, 2, 1]), (0, 1, 2)),
    (binomial_tree, (100.0, 1.1, 0.55, 95.0), (0, 1, 2, 3)),
    (soft_edit_distance, ([1.0, 2.0, 0.5], [1.5, 0.2], 0.7), (0, 1, 2)),
    (chosen_by_a_branch, ([1.0, 2.0], 1.5), (0, 1)),
    (chosen_by_a_branch, ([1.0, 2.0], -1.5), (0, 1)),
    (branch_in_a_loop, ([1.0, 2.0], 1.5), (0, 1)),
    (branch_in_a_loop, ([3.0, 2.0], 0.5), (0, 1)),
    (scaled_n_times, ([1.0, 2.0], 0), (0,)),
    (scaled_n_times, ([1.0, 2.0], 3), (0,)),
    (read_before_and_after, ([0.3, -0.2, 0.9], 1.3), (0, 1)),
    (rebound_in_a_while_loop, (1.5,), (0,)),
    (nested_rebinding, ([0.5, -1.0], 0.8), (0, 1)),
    (matrix_power, ([[0.5, 0.2], [0.1, 0.9]], 3), (0,)),
    (matrix_power, ([[0.5, 0.2], [0.1, 0.9]], 1), (0,)),
    (concatenated_each_step, ([1.0, 2.0, 0.5], 0.5), (0, 1)),
    (sliced_each_step, ([1.0, 2.0, 0.5], 0.7), (0, 1)),
    (made_then_filled, ([0.3, 1.2, -0.4], 0.9), (0, 1)),
]


@pytest.mark.parametrize("function, args, wrt", CASES, ids=[f"{c[0].__name__}-{i}" for i, c in enumerate(CASES)])
def test_gradient_agrees_with_finite_differences(function: Any, args: tuple[Any, ...], wrt: tuple[int, ...]) -> None:
    assert_gradient(function, *args, wrt=wrt, rel=1e-5, abs_=1e-6)


@pytest.mark.parametrize("function, args, wrt", CASES[:6], ids=[c[0].__name__ for c in CASES[:6]])
def test_value_and_grad_returns_the_functions_value(function: Any, args: tuple[Any, ...], wrt: tuple[int, ...]) -> None:
    value, _ = value_and_grad(function, wrt=wrt)(*args)
    assert value == function(*args)


def test_forward_mode_agrees_with_the_gradient() -> None:
    point, direction = (2.0, 0.5, 1.0), (0.3, -1.0, 0.7)
    _, derivative = jvp(power_iteration)(point, direction)
    gradient = grad(power_iteration)(*point)
    assert derivative == pytest.approx(sum(g * d for g, d in zip(gradient, direction)), rel=1e-12)


def test_hessian_agrees_with_differences_of_the_gradient() -> None:
    point, h = [2.0, 0.5, 1.0], 1e-5
    rows = hessian(power_iteration)(*point)
    for i in range(3):
        up, down = list(point), list(point)
        up[i] += h
        down[i] -= h
        column = [(a - b) / (2 * h) for a, b in zip(grad(power_iteration)(*up), grad(power_iteration)(*down))]
        assert [rows[j][i] for j in range(3)] == pytest.approx(column, rel=1e-5, abs=1e-7)


def test_the_rolling_row_takes_the_adjoint_of_the_next_row_without_copying() -> None:
    """`prev = cur`: the reverse sweep hands the next row's adjoint to `cur` itself."""
    source = inspect.getsource(grad(soft_edit_distance, wrt="a"))
    assert "cur_bar" not in source or "[0.0] * len(cur)" not in source
    assert flatten(grad(soft_edit_distance, wrt="a")([1.0, 2.0, 0.5], [1.5, 0.2], 0.7))


def changed_after_the_loop(xs: list[float]) -> float:
    v = [x for x in xs]
    for _ in range(2):
        v = [x * 2.0 for x in v]
    v.append(1.0)
    return sum(v)


def changed_after_the_branch(xs: list[float], t: float) -> float:
    ys = [x for x in xs]
    if t > 0:
        ys = [x * t for x in xs]
    ys[0] = t
    return sum(ys)


def changed_once_it_is_the_loops(xs: list[float], a: float) -> float:
    v = [x for x in xs]
    for _ in range(2):
        w = [a * t for t in v]
        v = w
        w[0] = a  # v is w now: the loop's list changes
    return sum(v)


@pytest.mark.parametrize("function", [changed_after_the_loop, changed_after_the_branch, changed_once_it_is_the_loops])
def test_a_list_changed_in_place_after_a_rebinding_is_refused_with_what_to_write(function: Any) -> None:
    with pytest.raises(S2SError) as info:
        grad(function, wrt=0)
    assert "changed in place" in info.value.message
    assert info.value.hint is not None and "new list" in info.value.hint
    assert info.value.filename == __file__


def viterbi_rows_by_name(xs: list[float], a: float) -> float:
    """Each step's row is a new list under one name, appended to the table; the name is read again only
    after it is bound anew, so the loop carries nothing."""
    V = []
    row = [xs[0], xs[1]]
    V.append(row)
    for t in range(1, len(xs)):
        row = [max(V[t - 1][0] * a, V[t - 1][1]) + xs[t], V[t - 1][0] * xs[t] - a]
        V.append(row)
    return max(V[-1]) + V[1][1] * V[0][0]


def test_a_row_rebound_each_step_and_appended() -> None:
    assert_gradient(viterbi_rows_by_name, [0.5, 1.5, -0.3, 0.8], 0.7)
    assert_gradient(viterbi_rows_by_name, [0.5, 0.2], 1.3)
