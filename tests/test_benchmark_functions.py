"""The hand-written gradients of `benchmarks/functions.py` are the benchmark's truth: check them.

Each one is compared with central finite differences and, where s2s_ad
differentiates the function, with s2s_ad's gradient. No timing here.
"""

from __future__ import annotations

import importlib.util
import math
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from s2s_ad import grad

_PATH = Path(__file__).resolve().parent.parent / "benchmarks" / "functions.py"


def _load() -> Any:
    spec = importlib.util.spec_from_file_location("s2s_ad_benchmark_functions", _PATH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


F = _load()


def flatten(value: Any) -> list[float]:
    if isinstance(value, (list, tuple)):
        return [x for item in value for x in flatten(item)]
    return [float(value)]


def finite_differences(f: Callable[..., float], args: tuple[Any, ...], wrt: tuple[int, ...], h: float = 1e-6) -> list[float]:
    """Central differences of `f` with respect to every number inside the `wrt` arguments, in order."""

    def paths(value: Any, prefix: tuple[int, ...]) -> list[tuple[int, ...]]:
        if isinstance(value, list):
            return [p for i, item in enumerate(value) for p in paths(item, (*prefix, i))]
        return [prefix]

    def shifted(path: tuple[int, ...], step: float) -> tuple[Any, ...]:
        copy = [_deep_copy(a) for a in args]
        if len(path) == 1:
            copy[path[0]] += step
        else:
            holder = copy[path[0]]
            for i in path[1:-1]:
                holder = holder[i]
            holder[path[-1]] += step
        return tuple(copy)

    result = []
    for k in wrt:
        for path in paths(args[k], (k,)):
            result.append((f(*shifted(path, h)) - f(*shifted(path, -h))) / (2 * h))
    return result


def _deep_copy(value: Any) -> Any:
    return [_deep_copy(v) for v in value] if isinstance(value, list) else value


def assert_close(got: Any, want: list[float], rel: float, abs_: float) -> None:
    assert flatten(got) == pytest.approx(want, rel=rel, abs=abs_)


CASES: list[tuple[str, Callable[..., Any], Callable[..., Any], tuple[Any, ...], int | tuple[int, ...]]] = [
    ("nested", F.nested, F.nested_grad, (2.0, 1.5, 0.5), (0, 1, 2)),
    ("nested-2", F.nested, F.nested_grad, (-0.7, 0.3, -1.1), (0, 1, 2)),
    ("lecture-y", F.lecture, F.lecture_grad, (1.0, 2.0, 0.5), (0, 1, 2)),
    ("lecture-z", F.lecture, F.lecture_grad, (1.0, -2.0, 0.5), (0, 1, 2)),
    ("rosenbrock", F.rosenbrock, F.rosenbrock_grad, (-1.2, 1.0), (0, 1)),
    ("rosenbrock-2", F.rosenbrock, F.rosenbrock_grad, (1.5, 2.0), (0, 1)),
    ("logistic", F.logistic_loss, F.logistic_loss_grad, F.logistic_data(), 0),
    ("logistic-small", F.logistic_loss, F.logistic_loss_grad, F.logistic_data(5, 3, seed=2), 0),
    ("mlp", F.mlp_loss, F.mlp_loss_grad, F.mlp_data(), (0, 1, 2, 3)),
    ("mlp-small", F.mlp_loss, F.mlp_loss_grad, F.mlp_data(3, 2, 3, seed=4), (0, 1, 2, 3)),
]


def _wrt(wrt: int | tuple[int, ...]) -> tuple[int, ...]:
    return (wrt,) if isinstance(wrt, int) else wrt


@pytest.mark.parametrize("name, f, hand, args, wrt", CASES, ids=[c[0] for c in CASES])
def test_hand_gradient_matches_finite_differences(
    name: str, f: Callable[..., Any], hand: Callable[..., Any], args: tuple[Any, ...], wrt: int | tuple[int, ...]
) -> None:
    assert_close(hand(*args), finite_differences(f, args, _wrt(wrt)), rel=1e-6, abs_=1e-8)


def test_hand_gradient_shapes() -> None:
    """One parameter: a bare gradient; several: a tuple, lists shaped like their parameters."""
    w, X, y = F.logistic_data()
    assert isinstance(F.logistic_loss_grad(w, X, y), list) and len(F.logistic_loss_grad(w, X, y)) == len(w)
    W1, b1, w2, b2, X, y = F.mlp_data()
    gW1, gb1, gw2, gb2 = F.mlp_loss_grad(W1, b1, w2, b2, X, y)
    assert [len(r) for r in gW1] == [len(r) for r in W1] and len(gb1) == len(b1) and len(gw2) == len(w2)
    assert isinstance(gb2, float)
    assert isinstance(F.chain_grad(0.5, 3), float)


def test_lecture_tie_splits_the_gradient_of_max() -> None:
    assert F.lecture_grad(1.0, 2.0, 2.0) == (2.0, 2.0 + 0.5 * 3.0, 0.5 * 3.0)


@pytest.mark.parametrize("steps", [1, 2, 5, 10])
@pytest.mark.parametrize("x", [0.5, -1.3, 2.0])
def test_chain_gradient_matches_finite_differences(steps: int, x: float) -> None:
    want = (F.chain_reference(x + 1e-6, steps) - F.chain_reference(x - 1e-6, steps)) / 2e-6
    assert F.chain_grad(x, steps) == pytest.approx(want, rel=1e-6, abs=1e-9)


def test_chain_functions_agree_with_the_reference() -> None:
    assert F.chain_loop(0.5) == F.chain_reference(0.5, F.CHAIN_STEPS)
    assert F.chain_long_grad(0.5) == F.chain_grad(0.5, F.LONG_STEPS)
    assert F.chain_grad(0.5) == F.chain_grad(0.5, F.CHAIN_STEPS)


@pytest.mark.parametrize("steps", [1, 3, 7])
def test_generated_straight_chain_is_the_chain(steps: int) -> None:
    f = F.straight_chain(steps)
    assert f(0.5) == F.chain_reference(0.5, steps)
    assert f.__name__ == f"chain_straight_{steps}"


def test_generated_mixed_source_is_seeded_and_runs() -> None:
    assert F.mixed_source(20, seed=3) == F.mixed_source(20, seed=3)
    assert F.mixed_source(20, seed=3) != F.mixed_source(20, seed=4)
    f = F.straight_mixed(20, seed=3)
    assert math.isfinite(f(0.1, 0.2, 0.3))


# -- against s2s_ad, where it differentiates the function ------------------------------------------


def _s2s_or_skip(f: Callable[..., Any], wrt: int | tuple[int, ...]) -> Callable[..., Any]:
    try:
        return grad(f, wrt=wrt)
    except Exception as error:  # noqa: BLE001 - any refusal means: not supported yet
        pytest.skip(f"s2s_ad does not differentiate this function yet: {type(error).__name__}")


@pytest.mark.parametrize("name, f, hand, args, wrt", CASES, ids=[c[0] for c in CASES])
def test_hand_gradient_matches_s2s_ad(
    name: str, f: Callable[..., Any], hand: Callable[..., Any], args: tuple[Any, ...], wrt: int | tuple[int, ...]
) -> None:
    g = _s2s_or_skip(f, wrt)
    assert_close(g(*args), flatten(hand(*args)), rel=1e-10, abs_=1e-12)


@pytest.mark.parametrize("steps", [1, 5, 20])
def test_chain_gradient_matches_s2s_ad_straight_line(steps: int) -> None:
    g = _s2s_or_skip(F.straight_chain(steps), 0)
    assert g(0.5) == pytest.approx(F.chain_grad(0.5, steps), rel=1e-10, abs=1e-15)


@pytest.mark.parametrize("f, steps", [(F.chain_loop, F.CHAIN_STEPS)])
def test_chain_gradient_matches_s2s_ad_loop(f: Callable[..., Any], steps: int) -> None:
    g = _s2s_or_skip(f, 0)
    assert g(0.5) == pytest.approx(F.chain_grad(0.5, steps), abs=1e-15)


def test_s2s_ad_mixed_straight_line_matches_finite_differences() -> None:
    f = F.straight_mixed(30, seed=5)
    g = _s2s_or_skip(f, (0, 1, 2))
    args = (0.3, -0.4, 0.8)
    assert_close(g(*args), finite_differences(f, args, (0, 1, 2)), rel=1e-6, abs_=1e-8)


# -- the peers, where installed ---------------------------------------------------------------------


def test_autograd_agrees_on_the_lecture_examples() -> None:
    autograd = pytest.importorskip("autograd")
    anp = pytest.importorskip("autograd.numpy")
    import types

    shim = types.SimpleNamespace(sin=anp.sin, cos=anp.cos, exp=anp.exp)
    for f, hand, args in [(F.nested, F.nested_grad, (2.0, 1.5, 0.5)), (F.rosenbrock, F.rosenbrock_grad, (-1.2, 1.0))]:
        g = types.FunctionType(f.__code__, {**f.__globals__, "math": shim})
        got = autograd.grad(g, tuple(range(len(args))))(*args)
        assert_close(got, flatten(hand(*args)), rel=1e-12, abs_=1e-12)
