"""Where the function raises, its gradient raises the same error, also where the raising value is never read.

Each program below computes something that raises at the point given and
then does not use it (or uses it only where the gradient does not need it):
a dead `math.log` at the top, in a branch, in a loop that only accumulates
(the reverse sweep computes the iteration again instead of recording it), in
a loop that records, in a nested loop, in a helper, a division by a length
that is zero. The plain function raises there; `grad`, `value_and_grad`,
`jvp` and `hessian` must raise the same exception type, never return a
number. At a point where the function does not raise, the gradient agrees
with central finite differences.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from conftest import central_difference, import_source

from s2s_ad import grad, hessian, jvp, value_and_grad

SOURCE = """
import math


def dead_log(x):
    t = math.log(x - 10.0)
    return x * x


def dead_exp_in_branch(x):
    if x > 0.0:
        t = math.exp(x)
    return 2.0 * x


def dead_exp_in_replayed_loop(x, n):
    s = 0.0
    for i in range(n):
        t = math.exp(x * i)
        s += x
    return s


def dead_sqrt_in_taped_loop(x, n):
    y = x
    for i in range(n):
        r = math.sqrt(y - 5.0)
        y = y * 0.5 + math.sin(y)
    return y


def dead_log_in_nested_loop(xs):
    total = 0.0
    for a in xs:
        for b in xs:
            u = math.log(a * b)
            total += a * b
    return total


def mean_of_empty(xs):
    total = 0.0
    for v in xs:
        total += v * v
    return total / len(xs)


def division_by_zero_unused(x):
    a = x * x
    b = 1.0 / (a - a)
    return a


def _domain(v):
    w = math.acos(v)
    return v * 3.0


def dead_in_helper(x):
    return _domain(x) + x


def dead_in_while(x):
    k = 0
    while k < 3:
        q = math.log(x - k)
        x = x * 1.5
        k += 1
    return x


def read_only_by_a_comparison(x):
    y = math.log(x)
    if y > 100.0:
        return x
    return x * 2.0


def dead_in_comprehension(xs):
    logs = [math.log(v) for v in xs]
    return sum(v * v for v in xs)


def overflow_in_accumulation(xs):
    total = 0.0
    for v in xs:
        total += math.exp(v) - math.exp(v) + v
    return total


def dead_square_overflows(x):
    t = x ** 2
    return 3.0 * x


def _power_helper(u, v):
    for j in range(3):
        u, v = (v, u * v)
        v *= abs(v) ** 1.5 / 3.5
    return u - v


def dead_power_in_helper_in_while(x, y):
    k = 0
    while k < 2:
        k += 1
        y, p = (math.atan(x * y), _power_helper(_power_helper(x, y), y))
    return y


def dead_sine_of_an_overflow(x):
    big = x * 1e308 * 10.0
    s = math.sin(big)
    return x * x


def dead_cosine_in_a_loop(xs):
    total = 0.0
    for v in xs:
        c = math.cos(math.exp(v) * 1e300)
        total += v
    return total
"""

# (name, a point where the function raises, a point where it does not)
CASES = [
    ("dead_log", (1.0,), (11.5,)),
    ("dead_exp_in_branch", (1000.0,), (1.5,)),
    ("dead_exp_in_replayed_loop", (800.0, 3), (0.7, 3)),
    ("dead_sqrt_in_taped_loop", (6.0, 3), (30.0, 2)),
    ("dead_log_in_nested_loop", ([1.0, -2.0],), ([1.0, 2.0],)),
    ("mean_of_empty", ([],), ([1.0, 2.0],)),
    ("division_by_zero_unused", (2.0,), None),
    ("dead_in_helper", (2.0,), (0.25,)),
    ("dead_in_while", (0.5,), (4.0,)),
    ("read_only_by_a_comparison", (-1.0,), (2.0,)),
    ("dead_in_comprehension", ([1.0, 0.0],), ([1.0, 2.0],)),
    ("overflow_in_accumulation", ([1.0, 800.0],), ([1.0, 2.0],)),
    ("dead_square_overflows", (1e200,), (1.5,)),
    ("dead_power_in_helper_in_while", (3.0, 500.0), (0.5, 0.7)),
    ("dead_sine_of_an_overflow", (1.0,), (1e-300,)),
    ("dead_cosine_in_a_loop", ([0.5, 30.0],), ([0.5, 2.0],)),
]


@pytest.fixture(scope="module")
def programs(tmp_path_factory: pytest.TempPathFactory) -> object:
    return import_source(SOURCE, Path(tmp_path_factory.mktemp("raising")))


def _raised(call: object) -> type[BaseException] | None:
    try:
        call()  # type: ignore[operator]
    except (ValueError, OverflowError, ZeroDivisionError) as error:
        return type(error)
    return None


@pytest.mark.parametrize(("name", "raising", "fine"), CASES, ids=[c[0] for c in CASES])
def test_the_gradient_raises_where_the_function_does(programs: object, name: str, raising: tuple, fine: tuple | None) -> None:
    f = getattr(programs, name)
    expected = _raised(lambda: f(*raising))
    assert expected is not None, f"{name} should raise at {raising}"
    floats = tuple(i for i, a in enumerate(raising) if isinstance(a, (float, list)))
    assert _raised(lambda: grad(f, wrt=floats)(*raising)) is expected
    assert _raised(lambda: value_and_grad(f, wrt=floats)(*raising)) is expected


@pytest.mark.parametrize(("name", "raising", "fine"), [c for c in CASES if c[2] is not None], ids=[c[0] for c in CASES if c[2]])
def test_elsewhere_the_gradient_is_right(programs: object, name: str, raising: tuple, fine: tuple) -> None:
    f = getattr(programs, name)
    got = grad(f, wrt=0)(*fine)
    first = fine[0]
    if isinstance(first, list):
        expected = [
            central_difference(lambda v, k=k: f([*first[:k], v, *first[k + 1 :]], *fine[1:]), [first[k]], 0)
            for k in range(len(first))
        ]
    else:
        expected = central_difference(lambda v: f(v, *fine[1:]), [first], 0)
    assert got == pytest.approx(expected, rel=1e-6, abs=1e-8)


@pytest.mark.parametrize("name", ["dead_log", "dead_exp_in_branch", "dead_in_helper", "read_only_by_a_comparison"])
def test_forward_mode_and_hessians_raise_too(programs: object, name: str) -> None:
    f = getattr(programs, name)
    raising = dict((c[0], c[1]) for c in CASES)[name]
    expected = _raised(lambda: f(*raising))
    assert _raised(lambda: jvp(f, raising, (1.0,))) is expected
    assert _raised(lambda: hessian(f)(*raising)) is expected
    assert math.isfinite(f(*dict((c[0], c[2]) for c in CASES)[name]))


SHORT_CIRCUITS = """
import math


def power_after_and(x):
    if x < 1.0 and x ** 2 > 0.5:
        return 3.0 * x
    return x


def sine_after_or(x):
    big = x * 1e308
    if x > 0.5 or math.sin(big) > 0.0:
        return 2.0 * x
    return x
"""


@pytest.mark.parametrize(("name", "point", "expected"), [("power_after_and", 1e200, 1.0), ("sine_after_or", 1.0, 2.0)])
def test_what_and_or_skip_is_not_computed(tmp_path: Path, name: str, point: float, expected: float) -> None:
    """`a and b` does not compute b where a is false: where b would raise (`1e200 ** 2` overflows, `sin` of an
    overflowed product), the gradient does not raise either, and is the derivative of the branch taken."""
    f = getattr(import_source(SHORT_CIRCUITS, tmp_path), name)
    f(point)  # does not raise
    assert grad(f)(point) == expected  # the derivative of the branch taken: `x`, `2.0 * x`
