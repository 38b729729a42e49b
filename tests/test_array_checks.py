"""Where an array function raises, its gradient raises, also for values the gradient does not read; where
the argument shapes say an operation cannot raise, the gradient does not compute what it does not read.

A gradient is built for the argument shapes of its call: which sizes are 1 and which sizes are equal
(`pipeline.call_key`). For equal sizes an elementwise operation only warns, so the loss's value is
not computed by `grad` (it is by `value_and_grad`); for other shapes a new build keeps the operation and
raises NumPy's own error where the function does. The truths: the function's own exception, and central
finite differences.
"""

from __future__ import annotations

import inspect
import types
from pathlib import Path

import numpy as np
import pytest
from conftest import import_source

from s2s_ad import grad, value_and_grad

PROGRAMS = """
import numpy as np


def logistic(w, b, X, y):
    z = X @ w + b
    return np.sum(np.logaddexp(0.0, z) - y * z)


def unread_product(x, y):
    t = x * y
    return np.sum(x ** 2)


def unread_maximum(x, e):
    m = e.max()
    return np.sum(x ** 2)


def unread_log(x):
    t = np.log(x - 10.0)
    return np.sum(x ** 2)
"""


@pytest.fixture(scope="module")
def programs(tmp_path_factory: pytest.TempPathFactory) -> types.ModuleType:
    return import_source(PROGRAMS, Path(tmp_path_factory.mktemp("array_checks")))


rng = np.random.default_rng(11)


def logistic_gradient(w: np.ndarray, b: float, X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, float]:
    r = 1.0 / (1.0 + np.exp(-(X @ w + b))) - y
    return X.T @ r, float(r.sum())


def test_the_value_nobody_reads_is_not_computed_for_matching_shapes(programs: types.ModuleType) -> None:
    X, w, y = rng.standard_normal((6, 3)), rng.standard_normal(3), (rng.random(6) < 0.5).astype(float)
    g = grad(programs.logistic, wrt=("w", "b"))
    dw, db = g(w, 0.2, X, y)
    want_w, want_b = logistic_gradient(w, 0.2, X, y)
    np.testing.assert_allclose(dw, want_w, rtol=1e-12)
    assert db == pytest.approx(want_b, rel=1e-12)
    code = "\n".join(line for line in inspect.getsource(g).splitlines() if not line.strip().startswith("#"))
    assert "y * z" not in code and ".sum()" in code  # b_bar is a sum; the loss itself is not computed
    value, _ = value_and_grad(programs.logistic, wrt=("w", "b"))(w, 0.2, X, y)
    assert value == pytest.approx(programs.logistic(w, 0.2, X, y), rel=1e-12)


def test_mismatched_shapes_raise_as_the_function_does(programs: types.ModuleType) -> None:
    X, w = rng.standard_normal((6, 3)), rng.standard_normal(3)
    g = grad(programs.logistic, wrt=("w", "b"))
    g(w, 0.2, X, np.zeros(6))  # a first build, for matching shapes
    for y in (np.zeros(5), np.zeros(7), np.zeros((2, 3))):
        with pytest.raises(ValueError) as theirs:
            programs.logistic(w, 0.2, X, y)
        with pytest.raises(ValueError) as ours:
            g(w, 0.2, X, y)
        assert "broadcast" in str(ours.value) and "broadcast" in str(theirs.value)
    dw, _ = g(w, 0.2, X, np.array([1.0]))  # a length-1 y broadcasts, in the function and its gradient
    np.testing.assert_allclose(dw, logistic_gradient(w, 0.2, X, np.array([1.0]))[0], rtol=1e-12)


@pytest.mark.parametrize(("x", "y"), [(np.ones(3), np.ones(4)), (np.ones((2, 3)), np.ones((3, 2)))])
def test_an_unread_product_of_mismatched_shapes_raises(programs: types.ModuleType, x: np.ndarray, y: np.ndarray) -> None:
    with pytest.raises(ValueError):
        programs.unread_product(x, y)
    with pytest.raises(ValueError):
        grad(programs.unread_product, wrt="x")(x, y)


def test_an_unread_product_of_matching_shapes_is_dropped(programs: types.ModuleType) -> None:
    x, y = rng.standard_normal(4), rng.standard_normal(4)
    g = grad(programs.unread_product, wrt="x")
    np.testing.assert_allclose(g(x, y), 2 * x)
    assert "x * y" not in "\n".join(line for line in inspect.getsource(g).splitlines() if not line.strip().startswith("#"))


def test_an_unread_maximum_of_an_empty_array_raises(programs: types.ModuleType) -> None:
    x = rng.standard_normal(3)
    with pytest.raises(ValueError):
        programs.unread_maximum(x, np.zeros(0))
    with pytest.raises(ValueError):
        grad(programs.unread_maximum, wrt="x")(x, np.zeros(0))
    np.testing.assert_allclose(grad(programs.unread_maximum, wrt="x")(x, np.zeros(2)), 2 * x)


def test_an_unread_log_out_of_its_domain_warns_as_numpy_does(programs: types.ModuleType) -> None:
    """NumPy's log of a negative number is nan with a warning, not an error: so for the function, so for
    the gradient, which need not compute it."""
    x = rng.standard_normal(3)
    with pytest.warns(RuntimeWarning):
        programs.unread_log(x)
    np.testing.assert_allclose(grad(programs.unread_log)(x), 2 * x)


def test_builds_follow_the_dtype_and_the_keywords_of_each_call(programs: types.ModuleType) -> None:
    """One build per dtype and pattern of sizes: a float32 call after a float64 one gets float32 gradients
    (`y * z` in float32 stays float32), keywords in either order name the same arguments, and a float64
    call afterwards is float64 again; each against the closed form."""
    X, w, y = rng.standard_normal((6, 3)), rng.standard_normal(3), (rng.random(6) < 0.5).astype(float)
    g = grad(programs.logistic, wrt=("w", "b"))
    for args in ((w, 0.2, X, y), (w.astype(np.float32), 0.2, X.astype(np.float32), y.astype(np.float32))):
        dw, db = g(*args)
        assert dw.dtype == args[0].dtype
        want_w, want_b = logistic_gradient(*(np.asarray(a, dtype=float) if isinstance(a, np.ndarray) else a for a in args))
        np.testing.assert_allclose(dw, want_w, rtol=1e-5)
        assert db == pytest.approx(want_b, rel=1e-5)
    one = g(w, 0.2, y=y, X=X)
    other = g(w, 0.2, X=X, y=y)
    for found in (one, other):
        np.testing.assert_allclose(found[0], logistic_gradient(w, 0.2, X, y)[0], rtol=1e-12)
        assert found[0].dtype == np.float64
    wide = g(w.astype(np.float32), 0.2, X, y)[0]  # float32 weights met by float64 data: a float32 gradient
    assert wide.dtype == np.float32
    np.testing.assert_allclose(wide, logistic_gradient(w.astype(np.float32).astype(float), 0.2, X, y)[0], rtol=1e-6)
