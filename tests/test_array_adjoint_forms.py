"""The faster forms of three array adjoints, against central finite differences and NumPy itself.

- rows picked by an array of ids (`E[ids]`, the window model's word vectors): the adjoint is added back
  with the generated module's `_rows_added`, one `np.bincount` where the ids cover a good part of E and
  `np.add.at` otherwise; repeated and negative ids add up as `np.add.at` adds them;
- a stack of matrices times one matrix (`X @ W`, tokens of sequences times a weight): each adjoint is
  one matrix product over all rows of the stack;
- a sum's adjoint spread over its operand and added into another adjoint of the operand's shape
  (`e / e.sum(axis=-1, keepdims=True)`): broadcasting spreads it, no array of ones is made.
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

from s2s_ad import check, grad, hessian

PROGRAMS = """
import numpy as np


def window_score(E, W, u, ids):
    X = E[ids].reshape(ids.shape[0], -1)
    return np.sum(np.tanh(X @ W) @ u)


def rows_squared(E, ids):
    return np.sum(np.cos(E[ids]) * E[ids] ** 2)


def vector_picks(v, ids):
    return np.sum(np.sin(v[ids]) * np.arange(1.0, ids.size + 1.0))


def tokens(X, W):
    return np.sum(np.tanh(X @ W) ** 2)


def tokens_both(X, W):
    return np.sum(np.cos(X @ W))


def normalised(x):
    e = np.exp(x)
    a = e / e.sum(axis=-1, keepdims=True)
    return np.sum(a * np.arange(1.0, x.shape[-1] + 1.0))


def softplus_loss(w, X, y):
    z = X @ w
    return np.sum(np.logaddexp(0.0, z) - y * z)


def both_sides(a, z):
    return np.sum(np.logaddexp(a, z) * np.arange(1.0, a.size + 1.0)) + np.logaddexp(0.5, float(a[0]))


def softplus_of_a_number(x):
    return np.logaddexp(0.0, x) * 3.0


def centred(x):
    c = x - x.mean(axis=0, keepdims=True)
    return np.sum(np.sin(c) * x)


def softmax_mean(W, b, X, Y):
    logits = X @ W + b
    logits = logits - logits.max(axis=1, keepdims=True)
    logp = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
    return -np.mean(np.sum(Y * logp, axis=1)) + np.mean(W * W, axis=0).sum()


def signs_on_arrays(a, b, k):
    p = (-a) * (-b) * np.cos(a)
    q = a - (-b) * k
    return np.sum(p - (-q) * b - (-2.0 * a) * (3.0 * b)) + np.sum(np.tanh(b - (-1.0 * k) * a))
"""


@pytest.fixture(scope="module")
def programs(tmp_path_factory: pytest.TempPathFactory) -> types.ModuleType:
    return import_source(PROGRAMS, Path(tmp_path_factory.mktemp("adjoint_forms")))


def numeric(f: Callable[..., Any], args: list[Any], index: int, h: float = 1e-6) -> Any:
    """d f / d args[index], element by element, by central differences."""
    x = np.array(args[index], dtype=float)
    out = np.zeros_like(x)
    for k in range(x.size):
        up, down = x.copy(), x.copy()
        up.flat[k] += h
        down.flat[k] -= h
        out.flat[k] = (f(*args[:index], up, *args[index + 1 :]) - f(*args[:index], down, *args[index + 1 :])) / (2 * h)
    return out


def agrees(f: Callable[..., Any], args: list[Any], wrt: tuple[str, ...]) -> list[Any]:
    names = list(inspect.signature(f).parameters)
    found = grad(f, wrt=wrt)(*args)
    found = found if isinstance(found, tuple) else (found,)
    for name, g in zip(wrt, found):
        i = names.index(name)
        assert np.shape(g) == np.shape(args[i]), name
        np.testing.assert_allclose(g, numeric(f, args, i), rtol=1e-6, atol=1e-7, err_msg=name)
    return list(found)


rng = np.random.default_rng(7)


@pytest.mark.parametrize(
    "vocab, width, ids",
    [
        (7, 2, np.array([[0, 3, 3], [6, 0, 3]])),  # repeated ids, the bincount form (ids cover E)
        (7, 2, np.array([[-1, 3, -7], [6, 0, 3]])),  # negative ids name the same rows as their positives
        (60, 3, np.array([[1, 2, 1]])),  # few ids in a large table: the np.add.at form
    ],
)
def test_rows_picked_by_ids_against_finite_differences(programs: types.ModuleType, vocab: int, width: int, ids: Any) -> None:
    E = 0.5 * rng.standard_normal((vocab, width))
    W = rng.standard_normal((ids.shape[1] * width, 4))
    u = rng.standard_normal(4)
    agrees(programs.window_score, [E, W, u, ids], ("E", "W", "u"))


@pytest.mark.parametrize("shape, ids", [((5, 2, 3), np.array([4, 4, 0, -1])), ((6, 2), np.array([[5, 5], [5, 1]]))])
def test_rows_of_higher_arrays_and_ids_of_any_shape(programs: types.ModuleType, shape: tuple[int, ...], ids: Any) -> None:
    agrees(programs.rows_squared, [rng.standard_normal(shape), ids], ("E",))


def test_elements_of_a_vector_picked_by_ids(programs: types.ModuleType) -> None:
    agrees(programs.vector_picks, [rng.standard_normal(6), np.array([2, 2, 2, 5, -6, 0])], ("v",))


def test_added_rows_are_those_of_np_add_at(programs: types.ModuleType) -> None:
    """The helper written into the generated module adds as np.add.at does, in float32 too (either form)."""
    ids = np.array([[0, 3, 3], [6, 0, -4]])
    E = rng.standard_normal((7, 2))
    g = grad(programs.rows_squared, wrt="E")
    g(E, ids)
    rows_added = g.__wrapped__.__globals__["_rows_added"]
    for rows, dtype in ((7, np.float64), (7, np.float32), (400, np.float64)):
        value = rng.standard_normal((2, 3, 2)).astype(dtype)
        table = rng.standard_normal((rows, 2)).astype(dtype)
        theirs = np.zeros((rows, 2), dtype)
        np.add.at(theirs, (ids,), value)
        mine = rows_added(table, ids, value)
        assert mine.dtype == dtype and mine is not table
        np.testing.assert_allclose(mine, theirs, rtol=1e-6)


def test_float32_table_gets_a_float32_gradient(programs: types.ModuleType) -> None:
    E = rng.standard_normal((7, 2)).astype(np.float32)
    found = grad(programs.rows_squared, wrt="E")(E, np.array([[1, 1], [2, 6]]))
    assert found.dtype == np.float32
    np.testing.assert_allclose(found, numeric(programs.rows_squared, [E.astype(float), np.array([[1, 1], [2, 6]])], 0), rtol=1e-4)


@pytest.mark.parametrize("shape", [(3, 4, 5), (2, 3, 4, 5), (1, 4, 5), (3, 1, 5)])
def test_stack_times_matrix_is_one_product_per_adjoint(programs: types.ModuleType, shape: tuple[int, ...]) -> None:
    X, W = rng.standard_normal(shape), rng.standard_normal((shape[-1], 3)) / 2
    agrees(programs.tokens, [X, W], ("W",))
    agrees(programs.tokens_both, [X, W], ("X", "W"))
    g = grad(programs.tokens_both, wrt=("X", "W"))
    g(X, W)
    source = inspect.getsource(g)
    assert ".sum(axis=0)" not in source  # no product per matrix of the stack summed afterwards
    assert "X.reshape(-1, X.shape[-1])" in source


@pytest.mark.parametrize("shape", [(5,), (3, 4), (2, 3, 4), (3, 1)])
def test_spread_sum_added_into_an_adjoint(programs: types.ModuleType, shape: tuple[int, ...]) -> None:
    x = rng.standard_normal(shape)
    agrees(programs.normalised, [x], ("x",))
    agrees(programs.centred, [x], ("x",))
    g = grad(programs.normalised)
    g(x)
    if len(shape) > 1 and shape[-1] > 1:
        assert "np.ones_like(e)" not in inspect.getsource(g)  # the sum's adjoint is not spread by hand


def test_the_cross_check_reads_the_scatter_in_high_precision(programs: types.ModuleType) -> None:
    """`check` runs the printed gradient on arrays of high-precision numbers: `_rows_added` adds them as
    np.add.at does (np.bincount would round them to floats)."""
    E, W, u = 0.5 * rng.standard_normal((7, 2)), rng.standard_normal((6, 4)), rng.standard_normal(4)
    report = check(programs.window_score, ("E", "W", "u"), args=(E, W, u, np.array([[0, 3, 3], [6, 0, 3]])))
    assert report.ok, str(report)


def test_logaddexp_is_exact_in_both_tails(programs: types.ModuleType) -> None:
    """d logaddexp(a, z) / dz is the sigmoid of z - a: 1e-300 and 1 - 1e-22 where they are, not 0 and 1."""
    a, z = np.array([-40.0, 0.0, 3.0, 0.0]), np.array([0.0, -50.0, 700.0, 1e-3])
    da, dz = grad(programs.both_sides, wrt=("a", "z"))(a, z)
    weights = np.arange(1.0, 5.0)
    sig = 1.0 / (1.0 + np.exp(-(z - a)))  # no overflow at these points
    np.testing.assert_allclose(dz, weights * sig, rtol=1e-14)
    want_a = weights * (1.0 / (1.0 + np.exp(-(a - z))))
    want_a[0] += 1.0 / (1.0 + np.exp(-(a[0] - 0.5)))
    np.testing.assert_allclose(da, want_a, rtol=1e-14)
    assert check(programs.both_sides, ("a", "z"), args=(a, z)).ok


@pytest.mark.parametrize("x", [-800.0, -40.0, -1.5, 0.0, 2.0, 800.0])
def test_logaddexp_of_a_number_is_a_float(programs: types.ModuleType, x: float) -> None:
    found = grad(programs.softplus_of_a_number)(x)
    assert type(found) is float
    want = 3.0 * (np.exp(x) / (1.0 + np.exp(x)) if x < 0 else 1.0 / (1.0 + np.exp(-x)))
    assert found == pytest.approx(want, rel=1e-14, abs=0.0)


def test_logistic_loss_gradient_and_hessian(programs: types.ModuleType) -> None:
    X, y = rng.standard_normal((8, 3)), (rng.random(8) < 0.5).astype(float)
    w = rng.standard_normal(3)
    found = grad(programs.softplus_loss, wrt="w")(w, X, y)
    p = 1.0 / (1.0 + np.exp(-(X @ w)))
    np.testing.assert_allclose(found, X.T @ (p - y), rtol=1e-12)
    H = hessian(programs.softplus_loss, wrt="w")(w, X, y)
    np.testing.assert_allclose(H, X.T @ (X * (p * (1 - p))[:, None]), rtol=1e-10)


def test_the_sigmoid_helper_is_correctly_rounded_to_within_an_ulp_or_two(programs: types.ModuleType) -> None:
    """The generated module's `_expit` (the partial of logaddexp) against mpmath at 50 digits, over both tails
    and past where exp(-x) overflows: relatively within 2.5 ulp down to x = -709, within 1.3e-308 below,
    with no overflow warning; a number gives a number."""
    import warnings

    mpmath = pytest.importorskip("mpmath")
    g = grad(programs.both_sides, wrt="z")
    g(np.zeros(3), np.zeros(3))
    expit = g.__wrapped__.__globals__["_expit"]
    x = np.concatenate([np.linspace(-800.0, 800.0, 4001), np.linspace(-40.0, 40.0, 4001), [-709.0, -708.5, 0.0, 1e-300]])
    with mpmath.workdps(50):
        true = np.array([float(1 / (1 + mpmath.exp(-mpmath.mpf(v)))) for v in x])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        found = expit(x)
    normal = x >= -709.0
    assert np.max(np.abs(found[normal] - true[normal]) / true[normal]) <= 2.5 * 2.0**-52
    assert np.max(np.abs(found[~normal] - true[~normal])) <= 1.3e-308
    assert float(expit(-3.0)) == pytest.approx(float(1 / (1 + mpmath.exp(3))), rel=1e-15)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_negations_move_into_sums_of_arrays(programs: types.ModuleType, dtype: type) -> None:
    """`p + -q` is `p - q` on float arrays too (exact, elementwise): the logistic loss's residual is
    `_expit(z) - y`, one pass, not `-1.0 * y` and then a sum; an int array's negation stays where it is."""
    X, y = rng.standard_normal((6, 3)), (rng.random(6) < 0.5).astype(float)
    w = rng.standard_normal(3)
    agrees(programs.softplus_loss, [w, X, y], ("w",))
    g = grad(programs.softplus_loss, wrt="w")
    g(w, X, y)
    assert "_expit(z) - y" in inspect.getsource(g)
    a, b = rng.standard_normal((2, 3)).astype(dtype), rng.standard_normal(3).astype(dtype)
    k = np.array([[1, -2, 0], [3, 0, -1]])
    wide = [a.astype(float), b.astype(float), k]
    found = grad(programs.signs_on_arrays, wrt=("a", "b"))(a, b, k)
    for i, value in enumerate(found):
        assert value.dtype == dtype
        np.testing.assert_allclose(value, numeric(programs.signs_on_arrays, wide, i), rtol=1e-4 if dtype == np.float32 else 1e-6)


@pytest.mark.parametrize("n", [1, 5])
def test_a_mean_counts_off_a_parameter_and_its_spread_goes_through_expand_dims(programs: types.ModuleType, n: int) -> None:
    """`-np.mean(np.sum(Y * logp, axis=1))`: logp's adjoint is `-1.0 / X.shape[0] * Y`; the row sums are not
    computed for their size, nor an array of ones spread; against differences, one sample and several."""
    W, b = rng.standard_normal((4, 3)), rng.standard_normal(3)
    X, Y = rng.standard_normal((n, 4)), np.eye(3)[rng.integers(3, size=n)]
    agrees(programs.softmax_mean, [W, b, X, Y], ("W", "b"))
    g = grad(programs.softmax_mean, wrt=("W", "b"))
    g(W, b, X, Y)
    code = "\n".join(line for line in inspect.getsource(g).splitlines() if not line.strip().startswith("#"))
    assert ".size" not in code and ".sum(axis=1)\n" not in code and "logp =" not in code
    assert ("logp_bar = -1.0 / X.shape[0] * Y" if n > 1 else "logp_bar = -1.0 * Y") in code  # a size 1 is a 1
