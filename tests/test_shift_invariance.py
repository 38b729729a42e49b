"""A stable softmax's shift carries no derivative: the maximum's adjoint is not backpropagated where the
output cannot see the shift (ad/invariance.py), and is wherever it can.

Every gradient is compared with central finite differences over every element; the generated code is
read for whether the maximum's ties (`==`) are spread an adjoint.
"""

from __future__ import annotations

import inspect
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import import_source

from s2s_ad import grad, value_and_grad, vjp
from s2s_ad.ad import reverse

PROGRAMS = """
import numpy as np


def log_softmax_loss(x, Y):
    s = x - x.max(axis=1, keepdims=True)
    logp = s - np.log(np.exp(s).sum(axis=1, keepdims=True))
    return -np.sum(Y * logp)


def softmax_weights(x, w):
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    p = e / e.sum(axis=-1, keepdims=True)
    return np.sum(p * w)


def mean_shift_softmax(x, w):
    z = x - x.mean(axis=0, keepdims=True)
    e = np.exp(z)
    return np.sum(e / e.sum(axis=0, keepdims=True) * w)


def softmax_then_more(x, W):
    m = x.max(axis=1, keepdims=True)
    e = np.exp(x - m)
    p = e / e.sum(axis=1, keepdims=True)
    return np.sum(np.tanh(p @ W)) + np.sum(m)


def logsumexp(x):
    m = x.max(axis=1, keepdims=True)
    return np.sum(m + np.log(np.exp(x - m).sum(axis=1, keepdims=True)))


def shifted_squares(x):
    s = x - x.max(axis=1, keepdims=True)
    return np.sum(s * s)


def normalised_the_other_way(x, w):
    e = np.exp(x - x.max(axis=1, keepdims=True))
    return np.sum(e / e.sum(axis=0, keepdims=True) * w)


def scaled_shift(x, w):
    e = np.exp(2.0 * (x - x.max(axis=1, keepdims=True)))
    return np.sum(e / e.sum(axis=1, keepdims=True) * w)


def shift_read_in_a_branch(x, w):
    s = x - x.max(axis=1, keepdims=True)
    e = np.exp(s)
    p = e / e.sum(axis=1, keepdims=True)
    if np.sum(s) > -1000.0:
        return np.sum(p * w) + np.sum(s)
    return np.sum(p * w)


def softmax_of_a_sum(x, w):
    e = np.exp(x - x.max(axis=1, keepdims=True))
    return np.sum(e.sum(axis=1, keepdims=True) * w)
"""

SILENT = ["log_softmax_loss", "softmax_weights", "mean_shift_softmax", "softmax_then_more"]
SEEN = ["logsumexp", "shifted_squares", "normalised_the_other_way", "scaled_shift", "shift_read_in_a_branch", "softmax_of_a_sum"]


@pytest.fixture(scope="module")
def programs(tmp_path_factory: pytest.TempPathFactory) -> types.ModuleType:
    return import_source(PROGRAMS, Path(tmp_path_factory.mktemp("shift_invariance")))


def numeric(f: Callable[..., Any], x: Any, rest: tuple[Any, ...], h: float = 1e-6) -> Any:
    out = np.zeros_like(x)
    for k in range(x.size):
        up, down = x.copy(), x.copy()
        up.flat[k] += h
        down.flat[k] -= h
        out.flat[k] = (f(up, *rest) - f(down, *rest)) / (2 * h)
    return out


def arguments(name: str, x: Any, rng: np.random.Generator) -> tuple[Any, ...]:
    if name == "log_softmax_loss":
        return (np.eye(x.shape[1])[rng.integers(x.shape[1], size=x.shape[0])],)
    if name == "softmax_then_more":
        return (rng.standard_normal((x.shape[1], 2)),)
    if name in ("logsumexp", "shifted_squares"):
        return ()
    return (rng.standard_normal(x.shape),)


def gradient_source(f: Callable[..., Any], x: Any, rest: tuple[Any, ...]) -> tuple[Any, str]:
    g = grad(f, wrt="x")
    found = g(x, *rest)
    return found, inspect.getsource(g)


@pytest.mark.parametrize("name", SILENT + SEEN)
@pytest.mark.parametrize("shape", [(4, 3), (2, 5), (3, 1)])
def test_gradient_against_finite_differences(programs: types.ModuleType, name: str, shape: tuple[int, int]) -> None:
    rng = np.random.default_rng(sum(map(ord, name)) + shape[0])
    f = getattr(programs, name)
    x = rng.standard_normal(shape)
    rest = arguments(name, x, rng)
    found, _ = gradient_source(f, x, rest)
    np.testing.assert_allclose(found, numeric(f, x, rest), rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("name", SILENT)
def test_the_shift_is_not_backpropagated_where_nothing_sees_it(
    programs: types.ModuleType, name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Shorter reverse sweeps than with the shift's adjoint written out, and no ties of a maximum spread
    an adjoint unless the function adds the maximum itself."""
    rng = np.random.default_rng(1)
    x = rng.standard_normal((4, 3))
    rest = arguments(name, x, rng)
    _, source = gradient_source(getattr(programs, name), x, rest)
    monkeypatch.setattr(reverse, "silent_edges", lambda *args: frozenset())
    again = import_source(PROGRAMS, tmp_path, prefix="written_out_")
    written_out, longer = gradient_source(getattr(again, name), x, rest)
    np.testing.assert_allclose(gradient_source(getattr(programs, name), x, rest)[0], written_out, rtol=1e-12, atol=1e-15)
    assert len(source.split("# reverse sweep")[1]) < len(longer.split("# reverse sweep")[1])
    if name != "softmax_then_more":  # which adds the maximum itself too: that sum is backpropagated
        assert "==" not in source.split("# reverse sweep")[1]  # the ties of the maximum get no adjoint


@pytest.mark.parametrize("name", ["logsumexp", "shifted_squares", "normalised_the_other_way", "scaled_shift"])
def test_the_shift_is_backpropagated_where_the_output_sees_it(programs: types.ModuleType, name: str) -> None:
    rng = np.random.default_rng(2)
    x = rng.standard_normal((4, 3))
    _, source = gradient_source(getattr(programs, name), x, arguments(name, x, rng))
    assert "==" in source.split("# reverse sweep")[1]


def test_ties_of_the_maximum(programs: types.ModuleType) -> None:
    """Rows whose maximum is shared: the softmax is smooth there, and so is its gradient."""
    x = np.array([[1.0, 1.0, 0.0], [2.0, 2.0, 2.0], [0.5, -1.0, 0.5]])
    w = np.arange(9.0).reshape(3, 3)
    for f, rest in ((programs.softmax_weights, (w,)), (programs.log_softmax_loss, (np.eye(3),))):
        found, _ = gradient_source(f, x, rest)
        np.testing.assert_allclose(found, numeric(f, x, rest), rtol=1e-6, atol=1e-8)


def test_softmax_cross_entropy_gradient_is_p_minus_y(programs: types.ModuleType) -> None:
    """The lectures' closed form: d/dlogits of the cross-entropy of a softmax is p - y."""
    rng = np.random.default_rng(3)
    x, Y = rng.standard_normal((5, 4)), np.eye(4)[[0, 3, 1, 1, 2]]
    e = np.exp(x - x.max(axis=1, keepdims=True))
    found, _ = gradient_source(programs.log_softmax_loss, x, (Y,))
    np.testing.assert_allclose(found, e / e.sum(axis=1, keepdims=True) - Y, rtol=1e-12, atol=1e-14)


def test_value_and_grad_and_vjp(programs: types.ModuleType) -> None:
    rng = np.random.default_rng(4)
    x, w = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    value, found = value_and_grad(programs.softmax_weights, wrt="x")(x, w)
    assert value == pytest.approx(programs.softmax_weights(x, w))
    np.testing.assert_allclose(found, numeric(programs.softmax_weights, x, (w,)), rtol=1e-6, atol=1e-8)
    out, pullback = vjp(programs.softmax_weights, wrt="x")(x, w)
    (adjoint,) = pullback(2.0)
    np.testing.assert_allclose(adjoint, 2.0 * found, rtol=1e-12)
