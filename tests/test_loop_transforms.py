"""Adversarial tests of four loop transforms and the gradient gates of max/min/abs.

1. replay: a loop that only accumulates is not taped, its reverse computes each iteration again;
2. loops over `reversed(range(...))` and `reversed(xs)`;
3. hoist: loop-invariant list reads and lengths move out of inner loops;
4. tape arrays: a `for i in range(n)` loop records into arrays of n items;
5. gates: the gradients of max/min/abs written as conditional expressions.

Every expectation is independent of s2s_ad's own output: central finite differences at smooth
points, SymPy (`check`), the plain function's value, or the same derivative with the optimizer off.
"""

from __future__ import annotations

import copy
import inspect
import math
from collections.abc import Callable, Sequence
from typing import Any

import pytest
from conftest import bits

from s2s_ad import (
    S2SError,
    ad,
    check,
    codegen,
    custom_derivative,
    frontend,
    grad,
    graph,
    hessian,
    jacobian,
    jvp,
    lower,
    optimize,
    value_and_grad,
    vjp,
)
from s2s_ad.rules import RULES

inf, nan = math.inf, math.nan

# -- helpers ---------------------------------------------------------------------------------------------------


def source_of(derived: Callable[..., Any]) -> str:
    return inspect.getsource(derived)


def _perturbed(args: Sequence[Any], path: tuple[int, ...], h: float) -> list[Any]:
    new = copy.deepcopy(list(args))
    holder: Any = new
    for p in path[:-1]:
        holder = holder[p]
    holder[path[-1]] += h
    return new


def numeric(f: Callable[..., float], args: Sequence[Any], path: tuple[int, ...], h: float = 1e-6) -> Any:
    """d f / d (the argument at `path`) by central differences; a list for a list (of lists)."""
    holder: Any = args
    for p in path:
        holder = holder[p]
    if isinstance(holder, list):
        return [numeric(f, args, (*path, k), h) for k in range(len(holder))]
    return (f(*_perturbed(args, path, h)) - f(*_perturbed(args, path, -h))) / (2 * h)


def numeric_grad(f: Callable[..., float], args: Sequence[Any], wrt: Sequence[int]) -> tuple[Any, ...]:
    return tuple(numeric(f, args, (i,)) for i in wrt)


def assert_close(got: Any, want: Any, rel: float = 1e-6, abs_: float = 1e-7) -> None:
    if isinstance(want, (list, tuple)):
        assert isinstance(got, (list, tuple)), (got, want)
        assert len(got) == len(want), (got, want)
        for g, w in zip(got, want):
            assert_close(g, w, rel, abs_)
        return
    assert isinstance(got, (int, float)), (got, want)
    assert got == pytest.approx(want, rel=rel, abs=abs_), (got, want)


def check_fd(
    f: Callable[..., float], args: Sequence[Any], wrt: Sequence[int], rel: float = 1e-6, abs_: float = 1e-7
) -> tuple[Any, ...]:
    """grad(f) and value_and_grad(f) against central differences, and against each other.

    They agree up to rounding, not bit for bit: where `grad` computes an
    iteration again instead of taping it, its reverse loop may run forwards
    and so add the iterations' contributions up in the other order.
    """
    names = tuple(inspect.signature(f).parameters)
    wrt_names = tuple(names[i] for i in wrt)
    g = grad(f, wrt=wrt_names)(*copy.deepcopy(list(args)))
    value, g2 = value_and_grad(f, wrt=wrt_names)(*copy.deepcopy(list(args)))
    assert bits(value) == bits(f(*copy.deepcopy(list(args)))), "value_and_grad's value is the function's value"
    assert_close(g, g2, 1e-12, 1e-300)
    assert_close(g, numeric_grad(f, args, wrt), rel, abs_)
    return g


def outcome(f: Callable[..., Any], point: Sequence[object]) -> tuple[str, object]:
    try:
        return bits(f(*copy.deepcopy(list(point))))
    except Exception as error:  # noqa: BLE001 - the exception's type is the outcome
        return ("raises", type(error).__name__)


def builds(f: Callable[..., Any], wrt: tuple[str, ...]) -> tuple[Callable[..., Any], Callable[..., Any], str]:
    """The value-and-gradient of `f`, without and with the optimizer, and the optimized source."""
    primal = lower.lower(frontend.from_function(f), RULES)
    derived = ad.gradient(primal, wrt, with_value=True, rules=RULES)
    plain = codegen.compile_generated(codegen.generate(derived, RULES), {}, label=f"plain {f.__name__}")
    better = optimize.optimize(derived, RULES)
    generated = codegen.generate(better, RULES)
    fast = codegen.compile_generated(generated, {}, label=f"optimized {f.__name__}")
    return plain, fast, getattr(generated, "source", str(generated))  # type: ignore[return-value]


def same_with_and_without_optimizer(
    f: Callable[..., Any], wrt: tuple[str, ...], points: Sequence[Sequence[object]], value_too: bool = True
) -> None:
    plain, fast, _ = builds(f, wrt)
    for point in points:
        assert outcome(fast, point) == outcome(plain, point), point
        if value_too:
            got = outcome(fast, point)
            if got[0] != "raises":
                assert bits(fast(*copy.deepcopy(list(point)))[0]) == outcome(f, point), point


# ============================================================================================================
# 1. replay: loops that only accumulate
# ============================================================================================================


def sum_of_losses(xs, w):
    total = 0.0
    for i in range(len(xs)):
        total += math.sin(w * xs[i]) ** 2
    return total


def reads_carried_directly(xs, w):
    total = 0.0
    for i in range(len(xs)):
        total += math.sin(w * xs[i] + total)
    return total


def reads_carried_in_branch(xs, w):
    total = 0.0
    for i in range(len(xs)):
        if total > 0.6:
            total += w * xs[i]
        else:
            total += w * w * xs[i]
    return total


def reads_carried_through_max(xs, w):
    total = 0.0
    for i in range(len(xs)):
        total = max(total, w * xs[i]) + 0.5 * xs[i] * w
    return total


def scaled_sine(a, b):
    return a * math.sin(b)


def reads_carried_through_helper(xs, w):
    total = 0.5
    for i in range(len(xs)):
        total += scaled_sine(total, w * xs[i])
    return total


def reads_carried_through_inner_loop(xs, w):
    total = 0.3
    for i in range(len(xs)):
        for j in range(2):
            total += math.sin(total * w + xs[i] * j)
    return total


def inner_and_outer_accumulate(xs, w):
    total = 0.0
    for i in range(len(xs)):
        s = 0.0
        for j in range(len(xs)):
            s += math.cos(w * xs[i] * xs[j])
        total += s * s + math.sin(w * xs[i])
    return total


def inner_only_accumulates(xs, w):
    total = 0.0
    for i in range(len(xs)):
        for j in range(i + 1):
            total += math.sin(w * xs[i] - xs[j])
    return total


def appends_in_body(xs, w):
    ys = []
    total = 0.0
    for i in range(len(xs)):
        ys.append(math.sin(w * xs[i]))
        total += ys[i] * ys[i]
    return total + ys[0]


def assigns_in_body(xs, w):
    ys = [0.0 * x for x in xs]
    total = 0.0
    for i in range(len(xs)):
        ys[i] = w * xs[i]
        total += math.exp(ys[i])
    return total


def list_mutated_before(xs, w):
    ys = [w * x for x in xs]
    ys[0] = w * w
    total = 0.0
    for i in range(len(ys)):
        total += math.sin(ys[i]) * ys[i]
    return total


def list_mutated_after(xs, w):
    ys = [w * x for x in xs]
    total = 0.0
    for i in range(len(ys)):
        total += math.sin(ys[i]) * ys[i]
    ys[1] = total * w
    return total + ys[1] * ys[0]


def list_appended_after(xs, w):
    ys = [w * x for x in xs]
    total = 0.0
    for i in range(len(ys)):
        total += math.cos(ys[i])
    ys.append(total)
    return total * ys[-1] + ys[0]


def breaks(xs, w):
    total = 0.0
    for i in range(len(xs)):
        if xs[i] > 2.5:
            break
        total += math.sin(w * xs[i])
    return total


def breaks_on_carried(xs, w):
    total = 0.0
    for i in range(len(xs)):
        total += math.sin(w * xs[i]) + 0.4
        if total > 1.2:
            break
    return total * w


def skips(xs, w):
    total = 0.0
    for i in range(len(xs)):
        if xs[i] < 0:
            continue
        total += math.sin(w * xs[i]) ** 2
    return total


def skips_on_carried(xs, w):
    total = 0.0
    for i in range(len(xs)):
        if total > 0.8:
            continue
        total += math.sin(w * xs[i]) ** 2
    return total


def returns_early(xs, w):
    total = 0.0
    for i in range(len(xs)):
        total += math.sin(w * xs[i])
        if total > 1.0:
            return total * w
    return total


def counter_beside_total(xs, w):
    total = 0.0
    k = 0
    for i in range(len(xs)):
        k += 1
        total += math.sin(w * xs[i]) * k
    return total


def counter_not_read(xs, w):
    total = 0.0
    k = 0
    for i in range(len(xs)):
        k += 2
        total += math.sin(w * xs[i])
    return total * k


def loop_in_branch(xs, w):
    total = 0.0
    if w > 0:
        for i in range(len(xs)):
            total += math.sin(w * xs[i]) ** 2
    else:
        for x in xs:
            total += math.cos(w * x)
    return total


def two_loops_second_reads_first(xs, w):
    s = 0.0
    for i in range(len(xs)):
        s += math.sin(w * xs[i])
    t = 0.0
    for i in range(len(xs)):
        t += math.cos(s * xs[i])
    return t


def second_bounded_by_first(xs, w):
    s = 0
    for x in xs:
        if x > 0:
            s += 1
    total = 0.0
    for i in range(s):
        total += math.sin(w * xs[i])
    return total


def first_result_as_condition(xs, w):
    s = 0.0
    for i in range(len(xs)):
        s += math.sin(w * xs[i])
    if s > 0:
        return w * 3.0
    return w * w


def branch_on_data_in_body(xs, w):
    total = 0.0
    for x in xs:
        if x > 0:
            t = math.sin(w * x)
        else:
            t = math.cos(w * x) * x
        total += t * t
    return total


def while_inside(xs, w):
    total = 0.0
    for i in range(len(xs)):
        y = xs[i] * w
        while y > 0.5:
            y = y * 0.5 + 0.1 * math.sin(y)
        total += y * y
    return total


def over_matrix(X, w):
    total = 0.0
    for row in X:
        for v in row:
            total += math.tanh(w * v) * v
    return total


def with_aux(xs, w):
    total = 0.0
    count = 0
    for i in range(len(xs)):
        total += math.sin(w * xs[i]) ** 2
        count += 1
    return total, count


def replay_in_zip_enumerate(xs, ys, w):
    total = 0.0
    for a, b in zip(xs, ys):
        total += math.sin(w * a * b)
    for k, a in enumerate(xs):
        total += math.cos(a * w) * k
    for a in reversed(ys):
        total += a * a * w
    return total


def scalar_accumulator(x, y):
    total = 0.0
    for i in range(4):
        total += math.sin(x * i + y) * (x - i * y)
    return total


def scalar_recurrence(x, y):
    total = 1.0
    for i in range(3):
        total = total * math.sin(x + i) + y * total
    return total


XS = [0.3, -0.7, 1.1, 2.9, -0.2]
YS = [0.5, 0.25, -1.5, 0.8, 1.3]


def test_replay_is_used_for_a_sum_over_samples() -> None:
    text = source_of(grad(sum_of_losses, wrt="w"))
    assert "this iteration again" in text and "_tape" not in text
    check_fd(sum_of_losses, (XS, 0.7), (0, 1))


@pytest.mark.parametrize(
    "f",
    [
        reads_carried_directly,
        reads_carried_in_branch,
        reads_carried_through_max,
        reads_carried_through_helper,
        reads_carried_through_inner_loop,
    ],
    ids=lambda f: f.__name__,
)
def test_a_loop_whose_reverse_reads_carried_values_is_taped_correctly(f: Callable[..., float]) -> None:
    for w in (0.7, -1.3):
        check_fd(f, (XS, w), (0, 1))


@pytest.mark.parametrize(
    "f",
    [
        inner_and_outer_accumulate,
        inner_only_accumulates,
        appends_in_body,
        assigns_in_body,
        list_mutated_before,
        list_mutated_after,
        list_appended_after,
        breaks,
        breaks_on_carried,
        skips,
        skips_on_carried,
        returns_early,
        counter_beside_total,
        counter_not_read,
        two_loops_second_reads_first,
        second_bounded_by_first,
        branch_on_data_in_body,
        while_inside,
    ],
    ids=lambda f: f.__name__,
)
def test_replay_candidates_against_finite_differences(f: Callable[..., float]) -> None:
    for w in (0.7, 1.9):
        check_fd(f, (XS, w), (0, 1))


@pytest.mark.parametrize("w", [0.9, -0.6])
def test_replay_inside_either_branch(w: float) -> None:
    check_fd(loop_in_branch, (XS, w), (0, 1))


def test_replay_first_result_as_condition() -> None:
    for w in (0.5, -0.5):
        assert grad(first_result_as_condition, wrt="w")(XS, w) == pytest.approx(
            3.0 if first_result_as_condition(XS, w) == w * 3 else 2 * w
        )


def test_replay_over_a_matrix_gives_a_matrix_gradient() -> None:
    X = [[0.3, -1.2, 0.8], [1.5, 0.1, -0.4]]
    check_fd(over_matrix, (X, 0.8), (0, 1))


def test_replay_in_zip_enumerate_and_reversed_lists() -> None:
    check_fd(replay_in_zip_enumerate, (XS, YS[:4], 0.6), (0, 1, 2))


def test_replay_with_value_and_aux() -> None:
    g, aux = grad(with_aux, wrt=("xs", "w"), has_aux=True)(XS, 0.4)
    (value, aux2), g2 = value_and_grad(with_aux, wrt=("xs", "w"), has_aux=True)(XS, 0.4)
    assert (value, aux2) == with_aux(XS, 0.4) and aux == aux2 == len(XS)
    assert bits(g) == bits(g2)
    assert_close(g, numeric_grad(lambda xs, w: with_aux(xs, w)[0], (XS, 0.4), (0, 1)))


def test_replay_gradient_is_the_same_on_a_second_call() -> None:
    derived = grad(sum_of_losses, wrt=("xs", "w"))
    first = derived(XS, 0.3)
    assert bits(derived(list(XS), 0.3)) == bits(first)
    assert derived([], 0.3) == ([], 0.0)


@pytest.mark.parametrize("f", [scalar_accumulator, scalar_recurrence], ids=lambda f: f.__name__)
def test_replay_agrees_with_sympy(f: Callable[..., float]) -> None:
    report = check(f)
    assert report.ok, str(report)


@pytest.mark.parametrize("f", [scalar_accumulator, scalar_recurrence], ids=lambda f: f.__name__)
def test_replay_second_derivatives(f: Callable[..., float]) -> None:
    point = (0.4, -0.9)
    H = hessian(f)(*point)
    g = grad(f)
    for i in range(2):
        assert_close(list(H[i]), [numeric(lambda *a, i=i: g(*a)[i], point, (j,)) for j in range(2)], rel=1e-5, abs_=1e-6)
    gx = grad(grad(f, wrt="x"), wrt="x")
    assert gx(*point) == pytest.approx(H[0][0], rel=1e-9, abs=1e-12)
    value, tangent = jvp(f)(point, (0.3, -1.1))
    assert value == f(*point)
    assert tangent == pytest.approx(0.3 * numeric(f, point, (0,)) - 1.1 * numeric(f, point, (1,)), rel=1e-6)


def test_hessian_of_a_replayed_list_loop() -> None:
    f = sum_of_losses
    H = hessian(f, wrt=("w",))(XS, 0.7)
    g = grad(f, wrt="w")
    assert H[0][0] == pytest.approx(numeric(lambda w: g(XS, w), (0.7,), (0,)), rel=1e-6)


@pytest.mark.parametrize(
    "f",
    [
        sum_of_losses,
        reads_carried_directly,
        breaks,
        skips,
        skips_on_carried,
        returns_early,
        counter_beside_total,
        counter_not_read,
        two_loops_second_reads_first,
        inner_and_outer_accumulate,
        inner_only_accumulates,
        branch_on_data_in_body,
        while_inside,
        list_mutated_after,
        appends_in_body,
    ],
    ids=lambda f: f.__name__,
)
def test_replay_candidates_bit_for_bit_without_optimizer(f: Callable[..., float]) -> None:
    points = [(XS, 0.7), ([], 0.7), ([0.0, -0.0], -0.0), ([inf, 1.0], 0.5), ([nan, 0.5], 1.0), ([1e308, 2.0], 1e-300)]
    same_with_and_without_optimizer(f, ("xs", "w"), points)


DATA = [0.5, -1.5, 2.0, 0.25]


@custom_derivative
def softplus(x):
    return math.log1p(math.exp(x))


@softplus.defderiv
def _softplus_derivative(x):
    return 1.0 / (1.0 + math.exp(-x))


def replay_global_data_and_custom_derivative(w, b):
    total = 0.0
    for i in range(len(DATA)):
        total += softplus(w * DATA[i] + b) * DATA[i]
    return total


def outer_carried_read_by_inner(xs, w):
    c = 1.0
    total = 0.0
    for _i in range(3):
        for j in range(len(xs)):
            total += math.sin(c * xs[j] * w)
        c = c * 0.5 + w
    return total


def inner_bound_is_outer_counter(xs, w):
    k = 1
    total = 0.0
    for i in range(3):
        for j in range(k):
            total += math.cos(w * xs[j] + i)
        k += 1
    return total


def position_is_carried(xs, w):
    total = 0.0
    k = 0
    for _i in range(6):
        total += math.sin(xs[k] * w)
        k = (k + 1) % len(xs)
    return total


def position_through_min_of_counter(xs, w):
    total = 0.0
    k = 0
    for _i in range(6):
        j = min(k, 2)
        total += math.sin(xs[j] * w) * xs[j]
        k = k + 1
    return total


def carried_value_feeds_later_iteration_of_outer(xs, w):
    total = 0.0
    acc = 0.5
    for _r in range(3):
        total += math.sin(acc) * w
        s = 0.0
        for i in range(len(xs)):
            s += math.cos(xs[i] * w)
        acc = s * 0.25
    return total


@pytest.mark.parametrize(
    "f",
    [
        outer_carried_read_by_inner,
        inner_bound_is_outer_counter,
        position_is_carried,
        position_through_min_of_counter,
        carried_value_feeds_later_iteration_of_outer,
    ],
    ids=lambda f: f.__name__,
)
def test_replay_of_inner_loops_reading_outer_values(f: Callable[..., float]) -> None:
    for w in (0.7, -1.1):
        check_fd(f, (XS, w), (0, 1))
    same_with_and_without_optimizer(f, ("xs", "w"), [(XS, 0.7), ([0.0, -0.0, 1.0], -0.0), ([inf, nan, 1.0], 0.5)])


def dead_loop_with_a_custom_derivative(w):
    for i in range(3):
        t = softplus(w * i)  # noqa: F841 - a loop whose value nothing reads
    return w * 2.0


def test_a_dead_loop_calling_a_custom_derivative() -> None:
    assert grad(dead_loop_with_a_custom_derivative)(0.5) == 2.0


def test_replay_with_module_data_and_a_custom_derivative() -> None:
    assert "this iteration again" in source_of(grad(replay_global_data_and_custom_derivative))
    check_fd(replay_global_data_and_custom_derivative, (0.6, -0.2), (0, 1))
    assert check(replay_global_data_and_custom_derivative).ok


def test_grad_of_grad_of_a_replayed_list_loop() -> None:
    inner = grad(sum_of_losses, wrt="w")
    assert "_tape" not in source_of(inner)
    outer = grad(inner, wrt="w")
    assert outer(XS, 0.7) == pytest.approx(numeric(inner, (XS, 0.7), (1,)), rel=1e-6)
    both = grad(inner, wrt=("xs", "w"))(XS, 0.7)
    assert_close(both, numeric_grad(inner, (XS, 0.7), (0, 1)))


def value_leaks_out_of_the_loop(xs, w):
    t = 0.0
    total = 0.0
    for i in range(len(xs)):
        t = math.sin(w * xs[i])
        total += t
    return total + t * w


def index_leaks_out_of_the_loop(xs, w):
    i = 0
    total = 0.0
    for i in range(len(xs)):
        total += math.sin(w * xs[i])
    return total * xs[i]


def replay_inside_while(xs, w):
    total = 0.0
    n = 0
    while total < 2.0 and n < 5:
        for i in range(len(xs)):
            total += math.exp(w * xs[i]) * 0.1
        n += 1
    return total


def two_sums(xs, w):
    a = 0.0
    b = 0.0
    for i in range(len(xs)):
        a += math.sin(w * xs[i])
        b += math.cos(w * xs[i]) * xs[i]
    return a, b


@pytest.mark.parametrize(
    "f", [value_leaks_out_of_the_loop, index_leaks_out_of_the_loop, replay_inside_while], ids=lambda f: f.__name__
)
def test_replay_when_loop_values_are_read_after_the_loop(f: Callable[..., float]) -> None:
    for w in (0.7, -1.1):
        check_fd(f, (XS, w), (0, 1))
    same_with_and_without_optimizer(f, ("xs", "w"), [(XS, 0.7), ([0.0, -0.0, 1.0], -0.0), ([1e308, 1.0], 0.5)])


def replay_with_inner_break(xs, w):
    total = 0.0
    for i in range(len(xs)):
        for j in range(len(xs)):
            if xs[j] > xs[i]:
                break
            total += math.sin(w * xs[j] * xs[i])
    return total


def replay_with_list_reductions(xs, w):
    total = 0.0
    for i in range(len(xs)):
        total += math.sin(w * xs[i]) * max(xs) + sum(xs) * w * min(xs)
    return total


def replay_with_inner_continue_and_abs(xs, w):
    total = 0.0
    for i in range(len(xs)):
        for j in range(i):
            if xs[j] < 0:
                continue
            total += abs(xs[i] - w * xs[j]) + max(xs[i], w)
    return total


@pytest.mark.parametrize(
    "f", [replay_with_inner_break, replay_with_list_reductions, replay_with_inner_continue_and_abs], ids=lambda f: f.__name__
)
def test_replay_of_bodies_with_inner_exits_and_reductions(f: Callable[..., float]) -> None:
    for w in (0.7, -1.1):
        check_fd(f, (XS, w), (0, 1))
    same_with_and_without_optimizer(
        f, ("xs", "w"), [(XS, 0.7), ([0.0, -0.0, 1.0], -0.0), ([1.0, 1.0], 1.0), ([inf, nan, 1.0], 0.5)]
    )


def test_vjp_and_jacobian_of_replayed_sums() -> None:
    value, pullback = vjp(sum_of_losses, wrt="w")(XS, 0.7)
    assert value == sum_of_losses(XS, 0.7)
    assert pullback(2.0)[0] == pytest.approx(2.0 * numeric(sum_of_losses, (XS, 0.7), (1,)), rel=1e-6)
    rows = jacobian(two_sums, wrt=("w",), mode="rev")(XS, 0.7)
    assert_close([rows[0][0], rows[1][0]], [numeric(lambda xs, w, k=k: two_sums(xs, w)[k], (XS, 0.7), (1,)) for k in range(2)])


# ============================================================================================================
# 2. loops over reversed(...)
# ============================================================================================================


def horner_reversed_range(cs, x, a: int, b: int, c: int):
    s = 0.0
    for i in reversed(range(a, b, c)):
        s = s * x + cs[i]
    return s


def horner_reversed_list(cs, x):
    s = 0.0
    for v in reversed(cs):
        s = s * x + v * v
    return s


def nested_reversed(cs, x):
    s = 0.0
    for i in reversed(range(len(cs))):
        for j in reversed(range(i, len(cs), 2)):
            s = math.sin(s * x) + cs[i] * cs[j]
    return s


def reversed_with_continue(cs, x):
    s = 0.0
    for i in reversed(range(len(cs))):
        if cs[i] < 0:
            continue
        s = s * x + cs[i]
    return s


def reversed_with_inner_break(cs, x):
    s = 0.0
    for i in reversed(range(len(cs))):
        for j in range(len(cs)):
            if j > i:
                break
            s = s * x + cs[j]
    return s


def reversed_scalar(x, y):
    s = y
    for i in reversed(range(1, 6, 2)):
        s = s * math.sin(x * i) + y / i
    return s


def reversed_comprehension(cs, x):
    ys = [v * x for v in reversed(cs)]
    s = 0.0
    for k in range(len(ys)):
        s = s * 0.5 + ys[k] * (k + 1)
    return s


def break_in_reversed(cs, x):
    s = 0.0
    for i in reversed(range(len(cs))):
        s = s * x + cs[i]
        if s > 2:
            break
    return s


def return_in_reversed(cs, x):
    s = 0.0
    for v in reversed(cs):
        s = s * x + v
        if s > 2:
            return s
    return s


def return_in_inner_loop_of_reversed(cs, x):
    s = 0.0
    for v in reversed(cs):
        for _k in range(2):
            s = s * x + v
            if s > 100:
                return s
    return s


def break_in_branch_of_reversed(cs, x):
    s = 0.0
    for i in reversed(range(len(cs))):
        if x > 1000:
            if cs[i] > 0:
                break
        s = s * x + cs[i]
    return s


def refuse_reversed_of_reversed(cs, x):
    s = 0.0
    for v in reversed(reversed(cs)):
        s = s * x + v
    return s


def refuse_reversed_zip(cs, x):
    s = 0.0
    for a, b in reversed(zip(cs, cs)):
        s = s * x + a * b
    return s


def enumerate_of_reversed(cs, x):
    s = 0.0
    for k, v in enumerate(reversed(cs)):
        s = s * x + v * k
    return s


CS = [0.5, -1.25, 2.0, 0.75, -0.3, 1.1]
RANGES = [
    (0, 6, 1),
    (1, 6, 2),
    (0, 6, 3),
    (5, -1, -1),
    (5, 0, -2),
    (4, 1, -1),
    (3, 3, 1),
    (5, 2, 1),
    (0, 6, 7),
    (2, 5, 1),
    (-6, 0, 1),
    (0, 0, -1),
    (-1, -7, -2),
]


@pytest.mark.parametrize("a, b, c", RANGES)
def test_reversed_range_gradient(a: int, b: int, c: int) -> None:
    check_fd(horner_reversed_range, (CS, 0.8, a, b, c), (0, 1))


@pytest.mark.parametrize("a, b, c", RANGES)
def test_reversed_range_bit_for_bit_without_optimizer(a: int, b: int, c: int) -> None:
    same_with_and_without_optimizer(
        horner_reversed_range, ("cs", "x"), [(CS, 0.8, a, b, c), ([0.0, -0.0, inf, nan, 1.0, 2.0], -0.0, a, b, c)]
    )


@pytest.mark.parametrize(
    "f",
    [horner_reversed_list, nested_reversed, reversed_with_continue, reversed_with_inner_break, reversed_comprehension],
    ids=lambda f: f.__name__,
)
def test_reversed_loops_against_finite_differences(f: Callable[..., float]) -> None:
    for cs in (CS, [], [0.4]):
        check_fd(f, (cs, 0.8), (0, 1))
    same_with_and_without_optimizer(f, ("cs", "x"), [(CS, 0.8), ([], 1.0), ([-0.0, inf], nan)])


def test_reversed_loop_agrees_with_sympy_and_second_derivatives() -> None:
    assert check(reversed_scalar).ok
    point = (0.3, 1.7)
    H = hessian(reversed_scalar)(*point)
    g = grad(reversed_scalar)
    for i in range(2):
        assert_close(list(H[i]), [numeric(lambda *a, i=i: g(*a)[i], point, (j,)) for j in range(2)], rel=1e-5, abs_=1e-6)
    assert grad(grad(reversed_scalar, wrt="y"), wrt="y")(*point) == pytest.approx(H[1][1], rel=1e-9, abs=1e-12)
    value, tangent = jvp(reversed_scalar)(point, (1.0, 0.0))
    assert value == reversed_scalar(*point) and tangent == pytest.approx(numeric(reversed_scalar, point, (0,)), rel=1e-6)


def test_reversed_list_loop_hessian() -> None:
    H = hessian(horner_reversed_list, wrt=("x",))(CS, 0.8)
    d = grad(horner_reversed_list, wrt="x")
    assert H[0][0] == pytest.approx(numeric(lambda x: d(CS, x), (0.8,), (0,)), rel=1e-6)


def test_enumerate_of_reversed_counts_from_the_last_element() -> None:
    """`enumerate(reversed(cs))` pairs 0 with the last element: the gradient is that of the loop written out."""

    def written_out(cs: list[float], x: float) -> float:
        s = 0.0
        for k in range(len(cs)):
            s = s * x + cs[len(cs) - 1 - k] * k
        return s

    gradient = grad(enumerate_of_reversed)(CS, 0.8)
    assert enumerate_of_reversed(CS, 0.8) == written_out(CS, 0.8)
    assert_close(list(gradient), list(numeric_grad(written_out, [list(CS), 0.8], (0, 1))))


@pytest.mark.parametrize(
    "f",
    [break_in_reversed, return_in_reversed, return_in_inner_loop_of_reversed, break_in_branch_of_reversed],
    ids=lambda f: f.__name__,
)
def test_a_reversed_loop_left_early(f: Callable[..., float]) -> None:
    """`break` or `return` in a loop over `reversed(...)`: the loop is written counting down and reversed as any
    loop left early, where it leaves and where it runs to its end."""
    for cs in (CS, [], [0.4], [3.0, 0.5, 2.5]):
        for x in (0.8, 1.7, 3.0):
            check_fd(f, (cs, x), (0, 1))
    same_with_and_without_optimizer(f, ("cs", "x"), [(CS, 0.8), ([], 1.0), ([-0.0, inf], nan)])


@pytest.mark.parametrize(
    "f, word",
    [(refuse_reversed_of_reversed, None), (refuse_reversed_zip, None)],
    ids=lambda v: getattr(v, "__name__", v),
)
def test_what_a_reversed_loop_refuses_is_refused_with_a_line(f: Callable[..., float], word: str | None) -> None:
    lines, first = inspect.getsourcelines(f)
    for derive in (grad, value_and_grad, jvp, hessian):
        with pytest.raises(S2SError) as info:
            derive(f)
        error = info.value
        assert error.lineno is not None and first <= error.lineno < first + len(lines), str(error)
        if word:
            assert word in error.message or "early" in error.message, str(error)


def reversed_with_while_break(cs, x):
    s = 0.0
    for i in reversed(range(len(cs))):
        y = cs[i] * x
        while True:
            if y < 0.3:
                break
            y = y * 0.5
        s = s * x + y
    return s


def reversed_list_with_step_range(cs, x):
    s = 0.0
    for i in reversed(range(len(cs) - 1, -1, -2)):
        for v in reversed(cs):
            s = math.sin(s) * x + v * cs[i]
    return s


def test_reversed_loop_with_a_while_that_breaks() -> None:
    for cs in (CS, [2.5, 0.2], []):
        check_fd(reversed_with_while_break, (cs, 0.85), (0, 1))  # no y lands near 0.3 here
    same_with_and_without_optimizer(reversed_with_while_break, ("cs", "x"), [(CS, 0.85), ([1e308], -0.0), ([-0.0, 5e-324], 1.0)])


def test_reversed_loops_in_a_reversed_loop_with_negative_steps() -> None:
    for cs in (CS, [0.4], []):
        check_fd(reversed_list_with_step_range, (cs, 0.8), (0, 1))


def test_reversed_list_loop_agrees_with_sympy_and_the_graph() -> None:
    assert check(horner_reversed_list, lengths={"cs": 3}).ok
    assert check(nested_reversed, lengths={"cs": 3}).ok
    drawn = graph(horner_reversed_list, CS[:3], 0.8)
    assert drawn.value == horner_reversed_list(CS[:3], 0.8)
    assert_close([drawn.gradient["cs"], drawn.gradient["x"]], numeric_grad(horner_reversed_list, (CS[:3], 0.8), (0, 1)))


def grows_while_iterating(xs, w):
    ys = [x * w for x in xs]
    total = 0.0
    for v in ys:
        total += v
        if v > 0:
            ys.append(-v)
    return total


def test_a_loop_over_a_list_that_grows_inside_it_is_refused() -> None:
    """Python visits the items appended while it runs over a list; s2s_ad refuses rather than stop early."""
    with pytest.raises(S2SError, match="grows inside the loop that runs over it") as error:
        value_and_grad(grows_while_iterating)
    source, first = inspect.getsourcelines(grows_while_iterating)
    assert "append" in source[error.value.lineno - first]


def test_reversed_iteration_of_a_list_that_grows_inside_it() -> None:
    """reversed(ys) fixes its start when the loop begins, as Python's list_reverseiterator does."""
    try:
        derived = value_and_grad(grows_in_reversed)
    except S2SError:
        return
    for xs in ([0.5, -1.0, 2.0], [3.0]):
        value, g = derived(xs, 0.7)
        assert value == grows_in_reversed(xs, 0.7)
        assert_close(g, numeric_grad(grows_in_reversed, (xs, 0.7), (0, 1)))


def grows_in_reversed(xs, w):
    ys = [x * w for x in xs]
    total = 0.0
    for v in reversed(ys):
        total = total * 0.5 + v * v
        ys.append(v * 2.0)
    return total + ys[len(ys) - 1]


def reversed_index_leaks(cs, x, a: int, b: int, c: int):
    i = 7
    s = 0.0
    for i in reversed(range(a, b, c)):
        s = s * x + cs[i]
    return s + i * x


@pytest.mark.parametrize("a, b, c", [(0, 6, 1), (1, 6, 2), (5, 0, -2), (3, 3, 1)])
def test_reversed_loop_index_after_the_loop(a: int, b: int, c: int) -> None:
    check_fd(reversed_index_leaks, (CS, 0.8, a, b, c), (0, 1))


# ============================================================================================================
# 3. hoist: loop-invariant list reads
# ============================================================================================================


def hoist_mutated_inside(xs, w):
    ys = [w * x for x in xs]
    total = 0.0
    for i in range(len(ys)):
        for k in range(3):
            total += ys[i] * (k + 1)
            ys[i] = ys[i] * 0.5 + w
    return total


def hoist_appended_inside(xs, w, m: int):
    ys = [w * x for x in xs]
    total = 0.0
    for i in range(len(ys)):
        for k in range(m):
            total += ys[i] * ys[len(ys) - 1]
            ys.append(w * k)
    return total


def hoist_mutated_between(xs, w):
    ys = [w * x for x in xs]
    total = 0.0
    for i in range(len(ys)):
        for k in range(2):
            total += math.sin(ys[i] * k)
        ys[i] = total
        for _k in range(2):
            total += ys[i] * w
    return total


def hoist_from_one(xs, w):
    total = 0.0
    for i in range(1, len(xs)):
        for k in range(2):
            total += xs[i] * xs[i - 1] * w * k
    return total


def hoist_minus_one(xs, w):
    total = 0.0
    for i in range(len(xs) - 1):
        for k in range(2):
            total += xs[i + 1] * xs[i] * w + k
    return total


def hoist_other_list(xs, ys, w, m: int):
    total = 0.0
    for i in range(len(ys)):
        for _k in range(m):
            total += xs[i] * w + ys[i]
    return total


def hoist_other_length_list(xs, ys, w, m: int):
    total = 0.0
    n = len(xs)
    for i in range(len(ys)):
        for _k in range(m):
            total += xs[i] * w * n
    return total


def hoist_zero_trip_out_of_range(xs, w, m: int):
    total = 0.0
    for i in range(len(xs)):
        for _k in range(m):
            total += xs[i + 2] * w
    return total


def hoist_matrix_row_mutated(a, b, w):
    W = [[w * a, w * b, a], [b * w, a * b], []]
    total = 0.0
    for i in range(len(W)):
        for k in range(2):
            for j in range(len(W[i])):
                total += W[i][j] * (k + 1)
                row = W[i]
                row[j] = row[j] * w
    return total


def hoist_len_growing(xs, w):
    ys = [w * x for x in xs]
    total = 0.0
    for i in range(3):
        for k in range(len(ys)):
            total += ys[k] * (i + 1)
        ys.append(total * 0.1)
    return total


def hoist_alias_via_literal(xs, w):
    ys = [w * x for x in xs]
    rows = [ys, ys]
    total = 0.0
    for i in range(len(ys)):
        for k in range(2):
            total += ys[i] * (k + 1)
            r = rows[1]
            r[i] = total * 0.5
    return total


def hoist_row_alias_append(a, b, w):
    W = [[w * a, w * b, a], [b * w, a * b], [a]]
    total = 0.0
    for i in range(len(W)):
        for k in range(2):
            row = W[i]
            total += row[0] * (k + 1) + len(W[0])
            first = W[0]
            first.append(total)
    return total


@pytest.mark.parametrize(
    "f",
    [hoist_mutated_inside, hoist_mutated_between, hoist_from_one, hoist_minus_one, hoist_len_growing, hoist_alias_via_literal],
    ids=lambda f: f.__name__,
)
def test_hoist_candidates(f: Callable[..., float]) -> None:
    check_fd(f, (XS, 0.7), (0, 1))
    same_with_and_without_optimizer(f, ("xs", "w"), [(XS, 0.7), ([], 0.7), ([0.5], -0.0), ([inf, nan, -0.0], 2.0)])


@pytest.mark.parametrize("m", [0, 1, 3])
def test_hoist_appended_inside(m: int) -> None:
    check_fd(hoist_appended_inside, (XS, 0.7, m), (0, 1))
    same_with_and_without_optimizer(hoist_appended_inside, ("xs", "w"), [(XS, 0.7, m), ([], 0.7, m), ([nan], 0.7, m)])


@pytest.mark.parametrize("m", [0, 2])
def test_hoist_with_a_list_of_another_length(m: int) -> None:
    """Reading `xs[i]` for i < len(ys) in a loop that may not run: the optimized code must not fail earlier."""
    short, long_ = [0.5, 1.5], [1.0, 2.0, 3.0, 4.0]
    for f in (hoist_other_list, hoist_other_length_list):
        same_with_and_without_optimizer(f, ("xs", "ys", "w"), [(short, long_, 0.7, m), (long_, short, 0.7, m)])
        if m == 0:
            assert outcome(value_and_grad(f, wrt=("xs", "w")), (short, long_, 0.7, m))[0] != "raises"
        else:
            assert outcome(value_and_grad(f, wrt=("xs", "w")), (short, long_, 0.7, m)) == ("raises", "IndexError")
        check_fd(f, (long_, short, 0.7, m), (0, 1))


@pytest.mark.parametrize("m", [0, 1])
def test_hoist_zero_trip_inner_loop_with_a_position_out_of_range(m: int) -> None:
    f = hoist_zero_trip_out_of_range
    same_with_and_without_optimizer(f, ("xs", "w"), [(XS, 0.7, m), ([1.0], 0.7, m)])
    expected = outcome(f, (XS, 0.7, m))[0] == "raises"
    assert (outcome(grad(f, wrt=("xs", "w")), (XS, 0.7, m))[0] == "raises") == expected
    assert (outcome(value_and_grad(f, wrt=("xs", "w")), (XS, 0.7, m))[0] == "raises") == expected


@pytest.mark.parametrize("f", [hoist_matrix_row_mutated, hoist_row_alias_append], ids=lambda f: f.__name__)
def test_hoist_with_a_mutated_row(f: Callable[..., float]) -> None:
    check_fd(f, (0.3, -1.2, 0.8), (0, 1, 2))
    same_with_and_without_optimizer(f, ("a", "b", "w"), [(0.3, -1.2, 0.8), (inf, -0.0, nan), (-0.0, 0.0, -0.0)])


# ============================================================================================================
# 4. tape arrays
# ============================================================================================================


def taped_recurrence(x, n: int):
    y = x
    for i in range(n):
        y = math.sin(y) * x + 0.1 * i
    return y


def taped_over_list(xs, w):
    s = 1.0
    for i in range(len(xs)):
        s = s * math.cos(w * xs[i]) + xs[i]
    return s


def taped_with_branch(xs, w):
    s = 0.5
    for i in range(len(xs)):
        if s > 0.3:
            s = s * w + xs[i]
        else:
            s = math.sin(s) + w * xs[i]
    return s


def taped_nested(xs, w):
    s = 0.5
    for i in range(len(xs)):
        for j in range(len(xs)):
            s = math.sin(s * w) + xs[j] * xs[i]
    return s


def taped_with_break(xs, w):
    s = 0.5
    for i in range(len(xs)):
        s = math.sin(s * w) + xs[i]
        if s > 1.5:
            break
    return s


def taped_records_a_list(X, w):
    s = 0.5
    for i in range(len(X)):
        row = X[i]
        s = s * (w * row[0] + row[1])
    return s


def taped_siblings(xs, w):
    s = 0.5
    for i in range(len(xs)):
        s = math.sin(s) * w + xs[i]
    t = s
    for i in range(len(xs)):
        t = math.cos(t * xs[i]) + s
    return t


def taped_int_and_bool(xs, w):
    s = 0.5
    k = 0
    for i in range(len(xs)):
        up = s > 0.7
        if up:
            k += 1
        s = s * w * k + xs[i] * w
    return s


def taped_reversed_forward(xs, w):
    s = 0.5
    for i in reversed(range(len(xs))):
        s = math.sin(s * w) + xs[i] * i
    return s


def taped_with_continue(xs, w):
    s = 0.5
    for i in range(len(xs)):
        if xs[i] < 0:
            continue
        s = math.sin(s * w) + xs[i]
    return s


def taped_explicit_range(xs, w, a: int, b: int):
    s = 0.5
    for i in range(a, b, 1):
        s = math.sin(s * w) + xs[i]
    return s


def taped_in_branch(xs, w):
    s = 0.5
    if w > 0:
        for i in range(len(xs)):
            s = math.sin(s * w) + xs[i]
    else:
        for i in range(len(xs)):
            s = math.cos(s * w) - xs[i]
    return s


def taped_in_outer_loop(xs, w):
    s = 0.5
    for r in range(2):
        for i in range(len(xs)):
            s = math.sin(s * w) + xs[i] * r
    return s


def test_tape_arrays_are_used_and_correct_for_n_zero_and_more() -> None:
    text = source_of(grad(taped_recurrence, wrt="x"))
    assert "_tape[i]" in text and "_tape.append" not in text, text
    for n in (0, 1, 2, 7):
        g = grad(taped_recurrence, wrt="x")(0.6, n)
        assert g == pytest.approx(numeric(lambda x, n=n: taped_recurrence(x, n), (0.6,), (0,)), rel=1e-6, abs=1e-9)
    assert grad(taped_recurrence, wrt="x")(0.6, -3) == 1.0
    same_with_and_without_optimizer(
        taped_recurrence, ("x",), [(0.6, n) for n in (-1, 0, 1, 5)] + [(-0.0, 2), (inf, 1), (nan, 3), (1e308, 2)]
    )


@pytest.mark.parametrize(
    "f",
    [
        taped_over_list,
        taped_with_branch,
        taped_nested,
        taped_with_break,
        taped_siblings,
        taped_int_and_bool,
        taped_reversed_forward,
        taped_with_continue,
        taped_in_branch,
        taped_in_outer_loop,
    ],
    ids=lambda f: f.__name__,
)
def test_tape_arrays_against_finite_differences(f: Callable[..., float]) -> None:
    for w in (0.7, 1.3, -0.4):
        for xs in (XS, [], [0.9]):
            check_fd(f, (xs, w), (0, 1))
    same_with_and_without_optimizer(
        f, ("xs", "w"), [(XS, 0.7), ([], 0.7), ([0.0, -0.0], -0.0), ([inf, 1.0], 0.5), ([nan, 0.5], 1.0)]
    )


@pytest.mark.parametrize("a, b", [(0, 5), (0, 0), (2, 5), (0, -2), (4, 2)])
def test_tape_arrays_explicit_range(a: int, b: int) -> None:
    check_fd(taped_explicit_range, (XS, 0.8, a, b), (0, 1))
    same_with_and_without_optimizer(taped_explicit_range, ("xs", "w"), [(XS, 0.8, a, b), (XS, -0.0, a, b)])


def test_tape_arrays_record_a_list() -> None:
    X = [[0.3, -1.2], [1.5, 0.1], [2.0, 0.7]]
    check_fd(taped_records_a_list, (X, 0.8), (0, 1))
    same_with_and_without_optimizer(taped_records_a_list, ("X", "w"), [(X, 0.8), ([], 0.8), ([[inf, nan]], 1.0)])


def test_tape_arrays_a_second_call_gives_the_same_result() -> None:
    for f in (taped_with_branch, taped_nested, taped_siblings, taped_int_and_bool):
        derived = value_and_grad(f, wrt=("xs", "w"))
        first = derived(XS, 0.7)
        derived([9.0, 8.0], 0.1)
        derived([], 0.1)
        assert bits(derived(XS, 0.7)) == bits(first)


def test_tape_arrays_int_and_bool_are_recorded_as_such() -> None:
    text = source_of(value_and_grad(taped_int_and_bool, wrt=("xs", "w")))
    assert "_tape" in text
    check_fd(taped_int_and_bool, ([0.9, 0.8, 0.7, -0.2], 1.1), (0, 1))


# ============================================================================================================
# 5. gates of max, min and abs
# ============================================================================================================


def max_product(x, y):
    return (x + y) * max(x, y)


def min_square(x, y):
    return min(x * y, y) ** 2 + min(x, 0.5)


def abs_cubed(x, y):
    return abs(x) ** 3 * y + abs(x - y)


def nested_max_min(x, y, z):
    return max(min(x, y), z) * min(max(x, z), y)


def abs_in_loop(xs, w):
    total = 0.0
    for i in range(len(xs)):
        total += abs(xs[i] - w) * abs(w)
    return total


def max_in_taped_loop(xs, w):
    s = 0.0
    for i in range(len(xs)):
        s = max(s * w, xs[i]) + min(s, w)
    return s


SPECIAL = (0.0, -0.0, 1.0, -1.0, 2.5, inf, -inf, nan, 1e308, -5e-324)


@pytest.mark.parametrize("f", [max_product, min_square, abs_cubed], ids=lambda f: f.__name__)
def test_gates_bit_for_bit_without_optimizer_at_special_values(f: Callable[..., float]) -> None:
    points = [(a, b) for a in SPECIAL for b in SPECIAL]
    same_with_and_without_optimizer(f, ("x", "y"), points)


def test_gates_three_arguments_bit_for_bit() -> None:
    values = (0.0, -0.0, 1.0, -2.0, inf, nan)
    points = [(a, b, c) for a in values for b in values for c in values]
    same_with_and_without_optimizer(nested_max_min, ("x", "y", "z"), points)


def test_gates_ties_split_the_gradient() -> None:
    # d/dx of (x + y) * max(x, y) at x == y == 2: max(x, y) + (x + y) * 1/2
    assert grad(max_product)(2.0, 2.0) == (2.0 + 4.0 * 0.5, 2.0 + 4.0 * 0.5)
    assert grad(max_product)(-0.0, 0.0) == (0.0, 0.0)
    assert grad(nested_max_min)(1.0, 1.0, 1.0) == (0.5, 0.75, 0.75)  # by hand: halves at each tie
    # d|x|/dx at 0 is 0, also at -0.0
    g = grad(abs_cubed)(-0.0, 0.0)
    assert g == (0.0, 0.0) and all(bits(v) == bits(0.0) or bits(v) == bits(-0.0) for v in g)
    assert math.isnan(grad(max_product)(nan, 1.0)[0])


@pytest.mark.parametrize("f", [max_product, min_square, abs_cubed], ids=lambda f: f.__name__)
def test_gates_agree_with_sympy(f: Callable[..., float]) -> None:
    assert check(f).ok


@pytest.mark.parametrize("point", [(1.3, -0.4), (-0.7, 2.2), (0.6, 0.9)])
@pytest.mark.parametrize("f", [max_product, min_square, abs_cubed], ids=lambda f: f.__name__)
def test_gates_second_derivatives(f: Callable[..., float], point: tuple[float, float]) -> None:
    H = hessian(f)(*point)
    g = grad(f)
    for i in range(2):
        assert_close(list(H[i]), [numeric(lambda *a, i=i: g(*a)[i], point, (j,)) for j in range(2)], rel=1e-5, abs_=1e-6)
    assert grad(grad(f, wrt="x"), wrt="x")(*point) == pytest.approx(H[0][0], rel=1e-9, abs=1e-12)
    value, tangent = jvp(f)(point, (0.25, -1.0))
    assert value == f(*point)
    assert tangent == pytest.approx(0.25 * numeric(f, point, (0,)) - numeric(f, point, (1,)), rel=1e-6)


@pytest.mark.parametrize("f", [abs_in_loop, max_in_taped_loop], ids=lambda f: f.__name__)
def test_gates_inside_loops(f: Callable[..., float]) -> None:
    for w in (0.45, -0.35, 1.7):
        check_fd(f, (XS, w), (0, 1))
    same_with_and_without_optimizer(
        f, ("xs", "w"), [(XS, 0.3), ([0.3, 0.3], 0.3), ([-0.0, 0.0], -0.0), ([inf, -inf], 1.0), ([nan], nan), ([], 1.0)]
    )
    H = hessian(f, wrt=("w",))(XS, 0.45)
    d = grad(f, wrt="w")
    assert H[0][0] == pytest.approx(numeric(lambda w: d(XS, w), (0.45,), (0,)), rel=1e-5, abs=1e-6)
