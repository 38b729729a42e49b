"""The cross-check on NumPy arrays: the printed gradient against the printed primal's high-precision derivative,
element by element (`s2s_ad.check.arrays`); a wrong rule or spelling must fail it, naming the element."""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest
from conftest import import_source

from s2s_ad import S2SError, check
from s2s_ad.rules import RULES

SOURCE = """
import numpy as np


def softmax_loss(W, b, X, Y):
    logits = X @ W + b
    logits = logits - logits.max(axis=1, keepdims=True)
    logp = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
    return -np.mean(np.sum(Y * logp, axis=1))


def lossy(x):
    return np.sum(np.tanh(x).astype(float) ** 2)  # floats on the way: the high-precision run loses its digits


def newer_forms(W, X):
    Z = X @ W
    Z = Z / np.linalg.norm(Z, axis=1, keepdims=True)
    hs = [np.tanh(z) for z in Z]
    return (
        np.sum(Z.clip(-0.5, 0.9) ** 2) + np.sum(np.var(Z, axis=0, ddof=1)) + np.sum(Z[Z > 0.1])
        + np.sum(np.concatenate(hs) ** 2) + np.sum(sum(h * h for h in hs)) + np.mean(Z, axis=(0, 1))
    )


def rnn(Wx, Wh, b, xs):
    h = np.zeros(b.shape[0])
    for t in range(xs.shape[0]):
        h = np.tanh(Wx @ xs[t] + Wh @ h + b)
    return np.sum(h**2)
"""


@pytest.fixture(scope="module")
def module(tmp_path_factory: pytest.TempPathFactory) -> ModuleType:
    return import_source(SOURCE, Path(tmp_path_factory.mktemp("check_arrays")))


def softmax_args() -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(1)
    return rng.normal(size=(4, 3)), rng.normal(size=3), rng.normal(size=(5, 4)), np.eye(3)[[0, 2, 1, 1, 0]]


def rnn_args() -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(2)
    return rng.normal(size=(3, 2)) * 0.5, rng.normal(size=(3, 3)) * 0.5, rng.normal(size=3), rng.normal(size=(4, 2))


def test_the_lecture_models_pass(module: ModuleType) -> None:
    report = check(module.softmax_loss, ("W", "b"), args=softmax_args())
    assert report.ok, str(report)
    assert [e.parameter for e in report.entries] == ["W", "b"]
    assert all(e.max_difference is not None and e.max_difference < 1e-30 for e in report.entries)
    assert check(module.rnn, ("Wx", "Wh", "b"), args=rnn_args()).ok


def test_a_wrong_partial_fails_naming_the_element(module: ModuleType) -> None:
    wrong = dict(RULES)
    wrong["numpy.tanh"] = dataclasses.replace(RULES["numpy.tanh"], partials=lambda m, out, x: (1 + out**2,))
    report = check(module.rnn, ("Wx", "Wh", "b"), args=rnn_args(), rules=wrong)
    assert report.verdict == "fail"
    assert "Wx[" in report.entry("Wx").note and "DISAGREES" in str(report)


def test_a_wrong_python_spelling_fails(module: ModuleType) -> None:
    """The printed code is what is compared: a reduction spelled wrong (b's broadcast summed back) fails."""
    wrong = dict(RULES)
    wrong["sum_axis"] = dataclasses.replace(RULES["sum_axis"], python="{0}.sum(axis={1}) * 1.0001")
    report = check(module.softmax_loss, ("W", "b"), args=softmax_args(), rules=wrong)
    assert report.entry("b").verdict == "fail", str(report)  # the truth is the function itself, not what s2s_ad printed
    assert "the function" in str(report)


def test_a_function_on_arrays_needs_example_arguments(module: ModuleType) -> None:
    with pytest.raises(S2SError, match="example arguments"):
        check(module.softmax_loss)


def test_the_budget_is_kept(module: ModuleType) -> None:
    rng = np.random.default_rng(3)
    big = rng.normal(size=(30, 20)) * 0.3, rng.normal(size=(20, 20)) * 0.3, rng.normal(size=20), rng.normal(size=(40, 30))
    started = time.monotonic()
    report = check(module.rnn, ("Wx", "Wh", "b"), args=big, budget=1.0)
    assert time.monotonic() - started < 1.5 + 2.0  # the budget, and one element's evaluation past it at most
    assert report.verdict in ("pass", "undecided")


def test_a_function_that_drops_to_floats_is_undecided_not_passed(module: ModuleType) -> None:
    """The truth is the function run in high precision; where it is not (`.astype(float)`), its derivative
    disagrees with the function's own differences in floats, and the check says undecided, never pass."""
    report = check(module.lossy, args=(np.array([0.3, -0.2]),))
    assert report.verdict == "undecided"
    assert "does not agree with its own differences" in str(report)


@pytest.mark.parametrize("wrt", ["W", ("W",), ("W", "X")])
def test_the_newer_array_forms_pass_for_each_spelling_of_wrt(module: ModuleType, wrt: object) -> None:
    """Norms along an axis, clip, var with ddof, a mask, joining and summing a list of arrays, a tuple of axes:
    each against the high-precision derivative; `wrt=("W",)` is a tuple of one gradient, not a bare one."""
    rng = np.random.default_rng(4)
    report = check(module.newer_forms, wrt, args=(rng.normal(size=(3, 4)), rng.normal(size=(5, 3))))
    assert report.ok, str(report)
