"""`grad(f, checkpoints=K)`: a long loop's reverse sweep from at most K snapshots of its carried values.

The contract: the gradient is the same, bit for bit, as without checkpoints,
for every K and trip count; it agrees with central finite differences; the
tape it keeps while running is bounded by K snapshots and one segment; loops
that cannot be checkpointed get the un-checkpointed code; the option is part
of the cache key and of the command line.
"""

from __future__ import annotations

import functools
import inspect
import math
import tracemalloc
from pathlib import Path
from typing import Any

import pytest
from conftest import numeric_gradient

from s2s_ad import S2SError, grad, value_and_grad
from s2s_ad.cli import main

KS = (1, 2, 3, 7, 100, 10**9)
TRIPS = (0, 1, 2, 13, 101)


def euler(x, n, dt):
    for _ in range(n):
        x = x + dt * math.sin(x)
    return x


def oscillator(x, v, n):
    for _ in range(n):
        a = -x
        x = x + 0.01 * v
        v = v + 0.01 * a * math.cos(x)
    return x * x + v


def weighted(x, w, n):
    s = 0.0
    for i in range(n):
        x = math.tanh(x * w[i % len(w)]) + s
        s = s + 0.01 * x * x
    return s + x


def branchy(x, y, n):
    for i in range(n):
        if x > 0.5:
            x = x * math.cos(y) + 0.1
        else:
            x = x * 1.1 + 0.01 * i
        y = y + 0.01 * x * y
    return x + y


def _step(x, dt):
    return x + dt * math.exp(-x * x)


def helper_loop(x, dt, n):
    for _ in range(2, n + 2):
        x = _step(x, dt)
    return x * x


def inside_an_outer_loop(x, n):
    total = 0.0
    for _ in range(3):
        for _ in range(n):
            x = x * 0.99 + 0.01 * math.sin(x)
        total = total + x
    return total


CASES: list[tuple[Any, tuple[Any, ...], Any]] = [
    (euler, (0.3, 0.05), None),
    (oscillator, (0.4, -0.2), None),
    (weighted, (0.3, [0.5, -0.4, 0.9]), ("x", "w")),
    (branchy, (0.7, 0.2), ("x", "y")),
    (helper_loop, (0.2, 0.1), ("x", "dt")),
    (inside_an_outer_loop, (0.6,), "x"),
]


def _call(f: Any, args: tuple[Any, ...], n: int) -> tuple[Any, ...]:
    if f is euler:
        return (args[0], n, args[1])
    return (*args, n)


@pytest.mark.parametrize("f,args,wrt", CASES, ids=[c[0].__name__ for c in CASES])
def test_bit_for_bit_the_same_gradient(f: Any, args: tuple[Any, ...], wrt: Any) -> None:
    plain = grad(f, wrt=wrt)
    assert "# checkpointed: the loop runs in at most 3 segments" in inspect.getsource(grad(f, wrt=wrt, checkpoints=3))
    for n in TRIPS:
        call = _call(f, args, n)
        expected = repr(plain(*call))
        for k in (*KS, n, n + 1):
            if k >= 1:
                assert repr(grad(f, wrt=wrt, checkpoints=k)(*call)) == expected, (f.__name__, n, k)


@pytest.mark.parametrize("f,args,wrt", CASES[:2] + CASES[3:5], ids=[c[0].__name__ for c in CASES[:2] + CASES[3:5]])
def test_agrees_with_finite_differences(f: Any, args: tuple[Any, ...], wrt: Any) -> None:
    call = _call(f, args, 37)
    numbers = [i for i, a in enumerate(call) if isinstance(a, float)]
    got = grad(f, wrt=tuple(numbers), checkpoints=5)(*call)
    fixed = list(call)

    def g(*xs: float) -> float:
        for i, x in zip(numbers, xs):
            fixed[i] = x
        return f(*fixed)  # type: ignore[no-any-return]

    assert got == pytest.approx(numeric_gradient(g, [call[i] for i in numbers]), rel=1e-5, abs=1e-7)


def test_value_and_grad_and_a_prime_trip_count() -> None:
    plain = value_and_grad(euler)(0.4, 9973, 0.001)
    assert value_and_grad(euler, checkpoints=10)(0.4, 9973, 0.001) == plain


def test_the_code_runs_the_loop_in_segments() -> None:
    source = inspect.getsource(grad(euler, checkpoints=100))
    assert "# checkpointed: the loop runs in at most 100 segments" in source
    assert "for _start in range(0, n, _every):" in source
    assert "for _start in reversed(range(0, n, _every)):" in source
    assert "# this segment again from its snapshot, recording, then its reverse" in source
    assert "x_tape = [0.0] * _length" in source
    assert "checkpointed" not in inspect.getsource(grad(euler))  # the default code is unchanged


def _tape_peak(function: Any, *args: Any) -> int:
    tracemalloc.start()
    try:
        function(*args)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_the_tape_is_bounded() -> None:
    n = 200_000
    taped = _tape_peak(grad(euler), 0.3, n, 1e-5)
    checkpointed = _tape_peak(grad(euler, checkpoints=100), 0.3, n, 1e-5)
    assert checkpointed * 20 < taped  # about 100 snapshots and 2,000 iterations of tape, against 200,000


def while_loop(x):
    while x < 10.0:
        x = x * 1.5 + math.sin(x)
    return x


def mutating(x, n):
    xs = [x]
    for i in range(n):
        xs.append(xs[i] * math.cos(xs[i]))
    return xs[-1]


def stepping(x, n):
    for _ in range(0, n, 2):
        x = x * math.sin(x) + 1.0
    return x


def breaking(x, n):
    for _ in range(n):
        x = x * math.sin(x) + 1.0
        if x > 1.9:
            break
    return x


def nested(x, n):
    for _ in range(n):
        for _ in range(3):
            x = x * math.sin(x) + 1.0
    return x


@pytest.mark.parametrize("f,args", [(mutating, (0.8, 9)), (stepping, (0.8, 9)), (breaking, (0.8, 9))])
@pytest.mark.parametrize("schedule", ["uniform", "revolve"])
def test_other_loops_are_taped_as_without_checkpoints(f: Any, args: tuple[Any, ...], schedule: str) -> None:
    made = grad(f, wrt="x", checkpoints=2, schedule=schedule)
    assert inspect.getsource(made).replace("_grad(", "(") == inspect.getsource(grad(f, wrt="x")).replace("_grad(", "(")
    assert made(*args) == grad(f, wrt="x")(*args)


def test_a_loop_holding_a_loop_checkpoints_the_inner_one() -> None:
    made = grad(nested, wrt="x", checkpoints=2)
    source = inspect.getsource(made)
    assert source.count("for _start in reversed(") == 1
    assert made(0.8, 5) == grad(nested, wrt="x")(0.8, 5)


@pytest.mark.parametrize("k", [0, -3, 2.5, True, "10"])
def test_a_wrong_number_of_snapshots_is_refused(k: Any) -> None:
    with pytest.raises(S2SError, match="checkpoints takes a whole number of snapshots"):
        grad(euler, checkpoints=k)


def test_the_option_is_part_of_the_cache_key() -> None:
    assert grad(euler, checkpoints=3) is grad(euler, checkpoints=3)
    assert grad(euler, checkpoints=3) is not grad(euler, checkpoints=4)
    assert grad(euler, checkpoints=3) is not grad(euler)


def test_the_command_line_option(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    Path("ode.py").write_text(inspect.getsource(euler).join(["import math\n\n\n", ""]))
    assert main(["grad", "ode.py:euler", "--checkpoints", "4", "-o", "g.py"]) == 0
    text = Path("g.py").read_text()
    assert "s2s-ad grad ode.py:euler --checkpoints 4 -o g.py" in text
    assert "for _start in reversed(range(0, n, _every)):" in text
    namespace: dict[str, Any] = {}
    exec(compile(text, "g.py", "exec"), namespace)
    assert namespace["euler_grad"](0.3, 17, 0.1) == grad(euler)(0.3, 17, 0.1)
    assert main(["grad", "ode.py:euler", "--checkpoints", "0"]) == 2
    assert "at least 1" in capsys.readouterr().err
    assert main(["grad", "ode.py:euler", "--forward", "--checkpoints", "3"]) == 2


def test_the_command_line_schedule(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    Path("ode.py").write_text(inspect.getsource(euler).join(["import math\n\n\n", ""]))
    assert main(["grad", "ode.py:euler", "--checkpoints", "3", "--schedule", "revolve", "-o", "g.py"]) == 0
    text = Path("g.py").read_text()
    assert "s2s-ad grad ode.py:euler --checkpoints 3 --schedule revolve -o g.py" in text
    assert "def _revolve(" in text and "while _held > 0:" in text
    namespace: dict[str, Any] = {}
    exec(compile(text, "g.py", "exec"), namespace)
    for n in (0, 1, 5, 17, 40):  # against the un-checkpointed gradient and central differences
        got = namespace["euler_grad"](0.3, n, 0.1)
        assert got == grad(euler)(0.3, n, 0.1)
        h = 1e-6
        assert got[0] == pytest.approx((euler(0.3 + h, n, 0.1) - euler(0.3 - h, n, 0.1)) / (2 * h), rel=1e-6, abs=1e-9)
    assert main(["grad", "ode.py:euler", "--schedule", "revolve"]) == 2
    assert "give --checkpoints too" in capsys.readouterr().err
    assert main(["grad", "ode.py:euler", "--checkpoints", "3", "--schedule", "binomial"]) == 2


@pytest.mark.parametrize("schedule", ["uniform", "revolve"])
@pytest.mark.parametrize("f,args,wrt", CASES, ids=[c[0].__name__ for c in CASES])
def test_with_the_numba_backend(f: Any, args: tuple[Any, ...], wrt: Any, schedule: str) -> None:
    """numba compiles the checkpointed code as it is: the same gradient as the numba gradient without
    checkpoints, bit for bit, and as the CPython one to rounding (numba's math is C's)."""
    pytest.importorskip("numba")
    plain = grad(f, wrt=wrt, backend="numba")
    checkpointed = grad(f, wrt=wrt, backend="numba", checkpoints=3, schedule=schedule)
    source = inspect.getsource(checkpointed.__wrapped__)
    assert "@numba.njit" in source and "# checkpointed" in source and "reversed(" not in source
    for n in TRIPS:
        call = _call(f, args, n)
        assert repr(checkpointed(*call)) == repr(plain(*call)), (f.__name__, n)
        assert _flat(checkpointed(*call)) == pytest.approx(_flat(grad(f, wrt=wrt)(*call)), rel=1e-12, abs=1e-15)


def test_the_command_line_with_the_numba_backend(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("numba")
    monkeypatch.chdir(tmp_path)
    Path("ode.py").write_text(inspect.getsource(euler).join(["import math\n\n\n", ""]))
    assert main(["grad", "ode.py:euler", "--backend", "numba", "--checkpoints", "3", "--schedule", "revolve", "-o", "g.py"]) == 0
    text = Path("g.py").read_text()
    assert "@numba.njit\ndef _revolve(" in text and "@numba.njit\ndef euler_grad(" in text
    namespace: dict[str, Any] = {}
    exec(compile(text, "g.py", "exec"), namespace)
    for n in (0, 1, 5, 17):
        assert namespace["euler_grad"](0.3, n, 0.1) == grad(euler, backend="numba")(0.3, n, 0.1)


def _flat(value: Any) -> list[float]:
    if isinstance(value, (list, tuple)):
        return [x for item in value for x in _flat(item)]
    return [float(value)]


# -- binomial checkpointing (schedule="revolve") and while loops (an online schedule) ---------------------------


def _revolve_helpers() -> dict[str, Any]:
    from s2s_ad.rules.schedules import REVOLVE, THIN

    namespace: dict[str, Any] = {}
    exec(REVOLVE, namespace)  # noqa: S102 - our own helper
    exec(THIN, namespace)  # noqa: S102 - our own helper
    return namespace


@pytest.mark.parametrize("f,args,wrt", CASES, ids=[c[0].__name__ for c in CASES])
def test_revolve_is_bit_for_bit_the_same_gradient(f: Any, args: tuple[Any, ...], wrt: Any) -> None:
    plain = grad(f, wrt=wrt)
    assert "# checkpointed (binomial, revolve): at most 3 snapshots" in inspect.getsource(
        grad(f, wrt=wrt, checkpoints=3, schedule="revolve")
    )
    for n in (*TRIPS, 3, 4, 7, 8, 9, 250):
        call = _call(f, args, n)
        expected = repr(plain(*call))
        for k in (*KS, n, n + 1, n - 1):
            if k >= 1:
                assert repr(grad(f, wrt=wrt, checkpoints=k, schedule="revolve")(*call)) == expected, (f.__name__, n, k)


def test_revolve_with_the_value() -> None:
    plain = value_and_grad(euler)(0.4, 9973, 0.001)
    assert value_and_grad(euler, checkpoints=10, schedule="revolve")(0.4, 9973, 0.001) == plain


@pytest.mark.parametrize("f,args,wrt", CASES[:2] + CASES[3:5], ids=[c[0].__name__ for c in CASES[:2] + CASES[3:5]])
def test_revolve_agrees_with_finite_differences(f: Any, args: tuple[Any, ...], wrt: Any) -> None:
    call = _call(f, args, 37)
    numbers = [i for i, a in enumerate(call) if isinstance(a, float)]
    got = grad(f, wrt=tuple(numbers), checkpoints=2, schedule="revolve")(*call)
    fixed = list(call)

    def g(*xs: float) -> float:
        for i, x in zip(numbers, xs):
            fixed[i] = x
        return f(*fixed)  # type: ignore[no-any-return]

    assert got == pytest.approx(numeric_gradient(g, [call[i] for i in numbers]), rel=1e-5, abs=1e-7)


def test_the_schedule_is_binomially_optimal() -> None:
    """From a snapshot, `_revolve`'s turns reverse L steps with s snapshots in the fewest untaped steps
    there are (a dynamic program over every split), never holding more than s, and taping each step once."""
    revolve = _revolve_helpers()["_revolve"]

    @functools.cache
    def fewest(length: int, snapshots: int) -> int:
        if length <= 1:
            return 0
        if snapshots <= 1:
            return length * (length - 1) // 2
        return min(m + fewest(length - m, snapshots - 1) + fewest(m, snapshots) for m in range(1, length))

    for length in range(0, 45):
        for snapshots in range(1, 7):
            kept, hi, untaped, taped = [0], length, [0] * length, [0] * length
            while kept:
                lo = kept.pop()
                at = revolve(lo, hi, snapshots + 1 - (len(kept) + 1), 1)
                if at > lo:
                    kept.append(lo)
                for i in range(lo, at):
                    untaped[i] += 1
                if hi - at > 1:
                    kept.append(at)
                    assert len(kept) <= snapshots
                else:
                    for i in range(at, hi):
                        taped[i] += 1
                    hi = at
            assert taped == [1] * length
            assert sum(untaped) == fewest(length, snapshots), (length, snapshots)
            repeats = next(r for r in range(length + 1) if math.comb(snapshots + r, r) >= length)
            assert max(untaped, default=0) <= repeats


def test_thinning_keeps_at_most_k_evenly_spaced_snapshots() -> None:
    thin = _revolve_helpers()["_thin"]
    for k in (1, 2, 3, 5, 8):
        tape: list[tuple[int]] = [(-1,), (0,)]  # a record of something else below
        every = 1
        for n in range(1, 700):
            if n % every == 0:
                tape.append((n,))
                every = thin(tape, n, every, k)
                assert len(tape) - 1 <= k and tape[0] == (-1,)
                assert [p for (p,) in tape[1:]] == list(range(0, n + 1, every))


def test_revolve_code_and_bounded_tape() -> None:
    made = grad(euler, checkpoints=100, schedule="revolve")
    source = inspect.getsource(made)
    assert inspect.getsource(made.__globals__["_revolve"]).startswith("def _revolve(lo, hi, snapshots, steps):")
    assert "_at = _revolve(_lo, _hi, 101 - _held, 100)" in source
    n = 200_000
    taped = _tape_peak(grad(euler), 0.3, n, 1e-5)
    assert _tape_peak(made, 0.3, n, 1e-5) * 200 < taped  # about 100 snapshots and 100 iterations of tape


def while_two(x, v):
    while x < 3.0:
        a = -x
        x = x + 0.01 * v + 0.001
        v = v + 0.01 * a * math.cos(x)
    return x * x + v


def while_counting(x, dt):
    t = 0.0
    while t < 1.0:
        x = x + dt * math.sin(x)
        t = t + dt
    return x


WHILES: list[tuple[Any, list[tuple[Any, ...]]]] = [
    (while_loop, [(1.2,), (10.5,), (9.9,), (0.01,)]),
    (while_two, [(0.4, 1.0), (2.999, 0.5), (3.5, 0.5), (-2.0, 3.0)]),
    (while_counting, [(0.3, 0.5), (0.3, 0.01), (0.3, 0.0013), (0.3, 2.0)]),
]


@pytest.mark.parametrize("f,calls", WHILES, ids=[w[0].__name__ for w in WHILES])
@pytest.mark.parametrize("schedule", ["uniform", "revolve"])
def test_while_loops_are_checkpointed_bit_for_bit(f: Any, calls: list[tuple[Any, ...]], schedule: str) -> None:
    assert "# checkpointed (online): at most 4 snapshots" in inspect.getsource(grad(f, checkpoints=4, schedule=schedule))
    for call in calls:
        expected = repr(grad(f)(*call))
        for k in (1, 2, 3, 4, 7, 100):
            assert repr(grad(f, checkpoints=k, schedule=schedule)(*call)) == expected, (call, k)
        assert value_and_grad(f, checkpoints=3)(*call) == value_and_grad(f)(*call)


@pytest.mark.parametrize("f,calls", WHILES, ids=[w[0].__name__ for w in WHILES])
def test_while_loops_with_the_numba_backend(f: Any, calls: list[tuple[Any, ...]]) -> None:
    pytest.importorskip("numba")
    plain = grad(f, backend="numba")
    for k in (1, 4):
        checkpointed = grad(f, backend="numba", checkpoints=k)
        for call in calls:
            assert repr(checkpointed(*call)) == repr(plain(*call)), (call, k)
            assert _flat(checkpointed(*call)) == pytest.approx(_flat(grad(f)(*call)), rel=1e-12, abs=1e-15)


def test_while_loops_agree_with_finite_differences() -> None:
    got = grad(while_two, checkpoints=3)(0.4, 1.0)
    assert got == pytest.approx(numeric_gradient(while_two, [0.4, 1.0], 1e-7), rel=1e-4)


def test_a_long_while_loop_keeps_a_bounded_tape() -> None:
    made = grad(while_counting, checkpoints=100)
    taped = _tape_peak(grad(while_counting), 0.3, 1e-5)
    assert made(0.3, 1e-5) == grad(while_counting)(0.3, 1e-5)
    assert _tape_peak(made, 0.3, 1e-5) * 10 < taped


def test_an_unknown_schedule_is_refused() -> None:
    with pytest.raises(S2SError, match="schedule takes one of 'uniform', 'revolve'"):
        grad(euler, checkpoints=3, schedule="binomial")
