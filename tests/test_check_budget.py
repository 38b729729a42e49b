"""The check keeps its budget, whatever the function, and still decides long functions numerically.

`x = math.sin(x) * x + math.cos(x)` repeated L times has a derivative SymPy
cannot build in minutes from L = 14 on. The check's SymPy side runs in a
child process that is killed when the budget is spent; the numbers (the
chain rule of each primitive's SymPy derivative, against the printed code
run in high precision) still give a verdict. Wall times are asserted with a
generous margin (CI machines are noisy); `python benchmarks/check_examples.py`
and the times printed with `pytest -s` are the measurements.
"""

from __future__ import annotations

import dataclasses
import importlib
import os
import time
from pathlib import Path
from typing import Any

import mpmath
import pytest

from s2s_ad.check.chain import ChainRule, Dual, Partials
from s2s_ad.check.constants import Constants
from s2s_ad.check.prove import Child
from s2s_ad.interpret import Interpreter
from s2s_ad.ir import FLOAT, Assign, Const, Function, Loc, Param, Var
from s2s_ad.rules import RULES

check = importlib.import_module("s2s_ad.check").check

BUDGET = 3.0
LOC = Loc("<test>", 1)


def _chain(tmp_path: Path, length: int) -> Any:
    """`chain(x)`: `x = math.sin(x) * x + math.cos(x)`, `length` times (in a file: the check reads source)."""
    body = "".join("    x = math.sin(x) * x + math.cos(x)\n" for _ in range(length))
    path = tmp_path / f"chain_{length}.py"
    path.write_text(f"import math\n\n\ndef chain(x):\n{body}    return x\n")
    spec = importlib.util.spec_from_file_location(f"chain_{length}", path)
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module.chain


def _timed(f: Any, **options: Any) -> tuple[Any, float]:
    started = time.monotonic()
    report = check(f, **options)
    return report, time.monotonic() - started


@pytest.mark.parametrize("length", [12, 20, 50, 1000])
def test_an_exploding_chain_passes_numerically_within_the_budget(tmp_path: Path, length: int) -> None:
    import sympy  # noqa: F401 - imported before the clock starts, as in any check after the first

    f = _chain(tmp_path, length)
    report, seconds = _timed(f, budget=BUDGET)
    print(f"chain of {length}: {report.verdict} in {seconds:.2f} s ({report.entries[0].method})")
    entry = report.entries[0]
    assert report.verdict == "pass", str(report)
    assert entry.method.startswith("numeric") and len(entry.points) == 6
    assert seconds < 3 * BUDGET + 10  # about BUDGET (plus building the gradient); generous for slow machines


def test_a_wrong_rule_in_an_exploding_chain_fails_quickly(tmp_path: Path) -> None:
    rules = dict(RULES)
    rules["cos"] = dataclasses.replace(RULES["cos"], partials=lambda m, out, x: (m.sin(x),))
    report, seconds = _timed(_chain(tmp_path, 50), budget=BUDGET, rules=rules)
    assert report.verdict == "fail", str(report)
    assert "chain rule" in report.entries[0].note  # SymPy's whole derivative is not there: the chain rule is
    assert seconds < 3 * BUDGET + 10


def test_a_small_budget_is_kept(tmp_path: Path) -> None:
    report, seconds = _timed(_chain(tmp_path, 20), budget=0.5)
    assert report.verdict in ("pass", "undecided")
    if report.verdict == "undecided":
        assert "ran out of time" in report.entries[0].note
    assert seconds < 3 * 0.5 + 10


def test_a_short_chain_is_still_proved_symbolically(tmp_path: Path) -> None:
    report = check(_chain(tmp_path, 3), budget=BUDGET)
    assert report.ok, str(report)
    assert report.entries[0].method.startswith("symbolic")
    assert report.expression is not None


# -- the child: killed at its time, whatever it does ---------------------------------------------


def test_a_child_that_never_ends_ends_itself() -> None:
    def forever(send: Any) -> None:
        send(("started", os.getpid()))
        while True:
            pass

    child = Child.start(forever, 0.3)
    assert child is not None
    started = time.monotonic()
    messages = list(child.messages(started + 20))
    assert time.monotonic() - started < 10  # its interval timer ended it (SIGALRM), long before 20 s
    assert messages[0][0] == "started" and child.ended
    pid = messages[0][1]
    child.stop()
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def test_a_stopped_child_is_gone() -> None:
    child = Child.start(lambda send: time.sleep(60), 30.0)
    assert child is not None
    assert list(child.messages(time.monotonic() + 0.2)) == []
    child.stop()
    with pytest.raises(ProcessLookupError):
        os.kill(child.pid, 0)


def test_what_the_child_raises_is_reported() -> None:
    def broken(send: Any) -> None:
        raise ZeroDivisionError("no")

    child = Child.start(broken, 5.0)
    assert child is not None
    messages = list(child.messages(time.monotonic() + 5))
    child.stop()
    assert messages == [("error", "SymPy raised ZeroDivisionError: no"), ("end",)]


# -- the chain rule: SymPy's derivative at a point, primitive by primitive -----------------------------


def _at(body: tuple[Any, ...], returns: Any, **values: float) -> Any:
    """The chain rule's derivatives of a hand-written IR function of x and y at a point."""
    function = Function("f", (Param("x", FLOAT), Param("y", FLOAT)), body, returns, LOC)
    with mpmath.workdps(50):
        args = {name: Dual(mpmath.mpf(v), {k: mpmath.mpf(1)}) for k, (name, v) in enumerate(values.items())}
        result = Interpreter(ChainRule(Constants(), Partials()), RULES, {}).run(function, args)
    return result.value, result.tangent


def _assign(target: str, op: str, *args: Any) -> Assign:
    return Assign(target, op, tuple(args), FLOAT, LOC)


def test_the_chain_rule_differentiates_each_primitive_with_sympy() -> None:
    body = (_assign("s", "sin", Var("x")), _assign("p", "mul", Var("s"), Var("y")), _assign("q", "pow", Var("p"), Const(3)))
    value, tangent = _at(body, Var("q"), x=0.5, y=2.0)
    with mpmath.workdps(50):
        s = mpmath.sin(mpmath.mpf(0.5))
        assert abs(value - (2 * s) ** 3) < 1e-45
        assert abs(tangent[0] - 3 * (2 * s) ** 2 * 2 * mpmath.cos(mpmath.mpf(0.5))) < 1e-45
        assert abs(tangent[1] - 3 * (2 * s) ** 2 * s) < 1e-45


def test_the_chain_rule_at_ties() -> None:
    """`max(x, x)` and `abs(x - x)` have derivatives (the pieces move together); `max(x, y)` at x = y has none."""
    same = (_assign("m", "max", Var("x"), Var("x")), _assign("d", "sub", Var("x"), Var("x")), _assign("a", "abs", Var("d")))
    _, tangent = _at((*same, _assign("r", "add", Var("m"), Var("a"))), Var("r"), x=1.5, y=2.0)
    assert tangent[0] == 1
    _, tangent = _at((_assign("m", "max", Var("x"), Var("y")),), Var("m"), x=1.5, y=1.5)
    assert mpmath.isnan(tangent[0]) and mpmath.isnan(tangent[1])
    _, tangent = _at((_assign("m", "max", Var("x"), Var("y")),), Var("m"), x=1.5, y=1.25)
    assert (tangent[0], tangent.get(1, 0)) == (1, 0)


def test_the_chain_rule_where_a_partial_does_not_exist() -> None:
    """d sqrt(x)/dx at 0 is infinite: nan there, and only in what depends on it."""
    body = (_assign("r", "sqrt", Var("x")), _assign("t", "add", Var("r"), Var("y")))
    _, tangent = _at(body, Var("t"), x=0.0, y=1.0)
    assert mpmath.isnan(tangent[0]) and tangent[1] == 1
