"""NumPy programs: gradients of ndarray code, judged by finite differences and closed forms.

The programs live in numpy_programs.py, written as a NumPy user writes them. Their text is imported
with conftest's `import_source` (so inspect can read each function back). Every case is a program, a
builder of its arguments (seeded, well conditioned, away from kinks) and the parameters to
differentiate. The truth is a central finite difference over every element of every differentiated
array (`numeric_grad`), and a closed form where one is known; never s2s_ad's own output.

What every gradient must be: an ndarray of the argument's shape and dtype for an ndarray parameter
(a float for a float parameter, a list of them for a list parameter); a tuple in `wrt` order when
`wrt` is a tuple, the bare gradient for `wrt="x"` or a one-parameter function; the arguments are not
changed; where the function raises, its gradient raises.
"""

from __future__ import annotations

import copy
import inspect
import types
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import import_source

from s2s_ad import S2SError, grad, value_and_grad

PROGRAMS_FILE = Path(__file__).resolve().parent / "numpy_programs.py"

RTOL, ATOL = 1e-5, 1e-7
RTOL_32, ATOL_32 = 1e-4, 1e-5  # a float32 gradient, against a float64 truth


@pytest.fixture(scope="module")
def programs(tmp_path_factory: pytest.TempPathFactory) -> types.ModuleType:
    return import_source(PROGRAMS_FILE.read_text(), Path(tmp_path_factory.mktemp("numpy_programs")))


# -- the truth ---------------------------------------------------------------------------------------


def _as_float64(value: Any) -> Any:
    if isinstance(value, np.ndarray) and value.dtype.kind == "f":
        return value.astype(np.float64)
    if isinstance(value, list):
        return [_as_float64(v) for v in value]
    return copy.deepcopy(value)


def _central(value_at: Callable[[Any], float], x: Any) -> Any:
    """Central differences of value_at around x (a float or an ndarray, element by element)."""
    if isinstance(x, np.ndarray):
        out = np.zeros(x.shape)
        for i in np.ndindex(x.shape):
            h = 1e-6 * max(1.0, abs(float(x[i])))
            up, down = x.copy(), x.copy()
            up[i] += h
            down[i] -= h
            step = up[i] - down[i]  # the step as represented
            out[i] = (value_at(up) - value_at(down)) / step
        return out
    x = float(x)
    h = 1e-6 * max(1.0, abs(x))
    return (value_at(x + h) - value_at(x - h)) / ((x + h) - (x - h))


def numeric_grad(f: Callable[..., Any], args: Sequence[Any], index: int) -> Any:
    """d f / d args[index] by central differences in float64: an array of its shape, a float, or a list of them."""
    base = [_as_float64(a) for a in args]

    def value_with(replacement: Any) -> float:
        call = [copy.deepcopy(a) for a in base]  # a program that writes into an argument writes into a copy
        call[index] = copy.deepcopy(replacement)
        return float(f(*call))

    target = base[index]
    if isinstance(target, list):
        parts = []
        for k, item in enumerate(target):

            def value_at(r: Any, k: int = k) -> float:
                replaced = copy.deepcopy(target)
                replaced[k] = r
                return value_with(replaced)

            parts.append(_central(value_at, item))
        return parts
    return _central(value_with, target)


# -- argument builders ---------------------------------------------------------------------------------


def normal(rng: np.random.Generator, *shape: int) -> np.ndarray:
    return rng.standard_normal(shape)


def uniform(rng: np.random.Generator, lo: float, hi: float, *shape: int) -> np.ndarray:
    return rng.uniform(lo, hi, shape)


def away_from(rng: np.random.Generator, point: float, *shape: int, lo: float = 0.2, hi: float = 1.0) -> np.ndarray:
    """Values point ± [lo, hi): no element within lo of a kink at `point`."""
    return point + rng.choice([-1.0, 1.0], size=shape) * rng.uniform(lo, hi, shape)


def clip_inputs(rng: np.random.Generator, *shape: int) -> np.ndarray:
    """Inside (-0.8, 0.8) or outside ±1.2: away from the clip boundaries ±1."""
    inside = rng.uniform(-0.8, 0.8, shape)
    outside = rng.choice([-1.0, 1.0], size=shape) * rng.uniform(1.2, 2.0, shape)
    return np.where(rng.random(shape) < 0.5, inside, outside)


def well_conditioned(rng: np.random.Generator, n: int) -> np.ndarray:
    return 3.0 * np.eye(n) + 0.5 * rng.standard_normal((n, n))


def one_hot(rng: np.random.Generator, n: int, classes: int) -> np.ndarray:
    return np.eye(classes)[rng.integers(0, classes, n)]


def pair_apart(rng: np.random.Generator, *shape: int) -> tuple[np.ndarray, np.ndarray]:
    x = normal(rng, *shape)
    return x, x + rng.choice([-1.0, 1.0], size=shape) * rng.uniform(0.2, 1.0, shape)


# -- the cases ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    name: str
    args: Callable[[np.random.Generator], tuple[Any, ...]]
    wrt: str | tuple[str, ...] | None = None  # None: grad(f) of a one-parameter f, the bare gradient
    fn: str = ""  # the program's name, when it is not the case's name
    seed: int = 0

    @property
    def program(self) -> str:
        return self.fn or self.name

    def build(self) -> tuple[Any, ...]:
        return self.args(np.random.default_rng(self.seed))


def _x(builder: Callable[[np.random.Generator], np.ndarray]) -> Callable[[np.random.Generator], tuple[Any, ...]]:
    return lambda rng: (builder(rng),)


ELEMENTWISE = [
    Case("exp_sum", _x(lambda r: normal(r, 3, 4))),
    Case("exp_imported", _x(lambda r: normal(r, 3, 4)), wrt="x"),
    Case("log_sum", _x(lambda r: uniform(r, 0.5, 2.0, 3, 4))),
    Case("log1p_mean", _x(lambda r: uniform(r, -0.5, 2.0, 3, 4))),
    Case("expm1_sum", _x(lambda r: normal(r, 3, 4))),
    Case("sqrt_sum", _x(lambda r: uniform(r, 0.5, 2.0, 3, 4))),
    Case("square_sum", _x(lambda r: normal(r, 3, 4))),
    Case("sin_sum", _x(lambda r: normal(r, 3, 4))),
    Case("sin_numpy_module", _x(lambda r: normal(r, 3, 4))),
    Case("cos_sum", _x(lambda r: normal(r, 3, 4))),
    Case("tan_sum", _x(lambda r: uniform(r, -1.0, 1.0, 3, 4))),
    Case("arcsin_sum", _x(lambda r: uniform(r, -0.9, 0.9, 3, 4))),
    Case("arccos_sum", _x(lambda r: uniform(r, -0.9, 0.9, 3, 4))),
    Case("arctan_sum", _x(lambda r: normal(r, 3, 4))),
    Case("sinh_sum", _x(lambda r: normal(r, 3, 4))),
    Case("cosh_sum", _x(lambda r: normal(r, 3, 4))),
    Case("tanh_sum", _x(lambda r: normal(r, 3, 4))),
    Case("tanh_imported", _x(lambda r: normal(r, 3, 4)), wrt="x"),
    Case("abs_sum", _x(lambda r: away_from(r, 0.0, 3, 4, hi=1.5))),
    Case("relu_sum", _x(lambda r: away_from(r, 0.0, 3, 4, hi=1.5))),
    Case("minimum_const", _x(lambda r: away_from(r, 1.0, 3, 4))),
    Case("minimum_pair", lambda r: pair_apart(r, 3, 4), wrt=("x", "y")),
    Case("maximum_pair", lambda r: pair_apart(r, 3, 4), wrt=("x", "y")),
    Case("logaddexp_pair", lambda r: pair_apart(r, 3, 4), wrt=("x", "y")),
    Case("clip_squares", _x(lambda r: clip_inputs(r, 3, 4))),
    Case("leaky_relu", _x(lambda r: away_from(r, 0.0, 3, 4, hi=1.5))),
    Case("power_cube", _x(lambda r: normal(r, 3, 4))),
    Case("pow_square", _x(lambda r: normal(r, 3, 4))),
    Case("reciprocal_sum", _x(lambda r: away_from(r, 0.0, 3, 4, lo=0.5, hi=2.0))),
    Case("negate_cube", _x(lambda r: normal(r, 3, 4))),
]

BROADCASTING = [
    Case("add_row", lambda r: (normal(r, 3, 4), normal(r, 4)), wrt=("A", "r")),
    Case("row_minus_matrix", lambda r: (normal(r, 4), normal(r, 3, 4)), wrt=("r", "A")),
    Case("add_col", lambda r: (normal(r, 3, 4), normal(r, 3, 1)), wrt=("A", "c")),
    Case("scale_by_float", lambda r: (normal(r, 3, 4), 0.7), wrt=("A", "s")),
    Case("float_minus_matrix", lambda r: (1.3, normal(r, 3, 4)), wrt=("s", "A")),
    Case("scale_by_0d", lambda r: (normal(r, 3, 4), np.array(0.6)), wrt=("A", "s")),
    Case("outer_broadcast", lambda r: (normal(r, 3, 1), normal(r, 1, 4)), wrt=("a", "b")),
    Case("vector_times_matrix", lambda r: (normal(r, 4), normal(r, 3, 4)), wrt=("v", "M")),
    Case("divide_by_row", lambda r: (normal(r, 3, 4), away_from(r, 0.0, 4, lo=0.5, hi=1.5)), wrt=("A", "d")),
    Case("col_divided_by_matrix", lambda r: (normal(r, 3, 1), away_from(r, 0.0, 3, 4, lo=0.5, hi=1.5)), wrt=("c", "A")),
    Case("bias_3d", lambda r: (normal(r, 2, 3, 4), normal(r, 3, 1)), wrt=("X", "b")),
]

REDUCTIONS = [
    Case("sum_axis0", _x(lambda r: normal(r, 3, 4))),
    Case("sum_axis1_keepdims", _x(lambda r: normal(r, 3, 4))),
    Case("mean_axis0", _x(lambda r: normal(r, 3, 4))),
    Case("center_columns", _x(lambda r: normal(r, 3, 4))),
    Case("max_axis1", _x(lambda r: normal(r, 3, 4))),
    Case("min_all", _x(lambda r: normal(r, 3, 4))),
    Case("prod_axis1", _x(lambda r: uniform(r, 0.5, 1.5, 3, 4))),
    Case("var_all", _x(lambda r: normal(r, 3, 4))),
    Case("std_axis0", _x(lambda r: normal(r, 3, 4))),
    Case("spread_methods_with_ddof", _x(lambda r: normal(r, 5, 4))),
    Case("var_rows_ddof", _x(lambda r: normal(r, 3, 4))),
    Case("tuple_axes", _x(lambda r: uniform(r, 0.5, 1.5, 2, 3, 4))),
    Case("norms_and_clips", _x(lambda r: normal(r, 3, 4))),
    Case("norm_vector", _x(lambda r: normal(r, 5))),
    Case("norm_matrix", _x(lambda r: normal(r, 3, 4))),
]

LINEAR_ALGEBRA = [
    Case("matvec", lambda r: (normal(r, 3, 4), normal(r, 4)), wrt=("W", "x")),
    Case("vecmat", lambda r: (normal(r, 3), normal(r, 3, 4)), wrt=("x", "W")),
    Case("matmat", lambda r: (normal(r, 3, 4), normal(r, 4, 2)), wrt=("A", "B")),
    Case("vecvec", lambda r: (normal(r, 4), normal(r, 4)), wrt=("u", "v")),
    Case("dot_matvec", lambda r: (normal(r, 3, 4), normal(r, 4)), wrt=("W", "x")),
    Case("dot_vecmat", lambda r: (normal(r, 3), normal(r, 3, 4)), wrt=("x", "W")),
    Case("dot_matmat", lambda r: (normal(r, 3, 4), normal(r, 4, 2)), wrt=("A", "B")),
    Case("dot_vecvec", lambda r: (normal(r, 4), normal(r, 4)), wrt=("u", "v")),
    Case("method_dot", lambda r: (normal(r, 3, 4), normal(r, 4)), wrt=("W", "x")),
    Case("gram_xty", lambda r: (normal(r, 5, 3), normal(r, 5, 2)), wrt=("X", "Y")),
    Case("outer_sin", lambda r: (normal(r, 3), normal(r, 4)), wrt=("u", "v")),
    Case("trace_plain", _x(lambda r: normal(r, 3, 3))),
    Case("trace_product", lambda r: (normal(r, 3, 4), normal(r, 4, 3)), wrt=("A", "B")),
    Case("minus_identity", _x(lambda r: normal(r, 3, 3))),
    Case("det3", _x(lambda r: well_conditioned(r, 3))),
    Case("inv_squares", _x(lambda r: well_conditioned(r, 3))),
    Case("solve_dot", lambda r: (well_conditioned(r, 3), normal(r, 3), normal(r, 3)), wrt=("A", "b", "c")),
]

SHAPES = [
    Case("reshape_then_matvec", lambda r: (normal(r, 3, 4), normal(r, 3)), wrt=("x", "w")),
    Case("transpose_attribute", lambda r: (normal(r, 3, 4), normal(r, 3)), wrt=("x", "w")),
    Case("transpose_2d", lambda r: (normal(r, 3, 4), normal(r, 4, 3)), wrt=("x", "w")),
    Case("transpose_axes", lambda r: (normal(r, 2, 3, 4), normal(r, 3, 2, 4)), wrt=("x", "w")),
    Case("concatenate_1d", lambda r: (normal(r, 2), normal(r, 3), normal(r, 5)), wrt=("a", "b", "w")),
    Case("concatenate_axis1", lambda r: (normal(r, 3, 2), normal(r, 3, 1), normal(r, 3, 3)), wrt=("a", "b", "w")),
    Case("stack_axis1", lambda r: (normal(r, 3), normal(r, 3), normal(r, 3, 2)), wrt=("a", "b", "w")),
    Case("hstack_1d", lambda r: (normal(r, 2), normal(r, 3), normal(r, 5)), wrt=("a", "b", "w")),
    Case("vstack_mixed", lambda r: (normal(r, 3), normal(r, 2, 3), normal(r, 3, 3)), wrt=("a", "B", "w")),
    Case("expand_dims_broadcast", lambda r: (normal(r, 3), normal(r, 4, 1)), wrt=("x", "y")),
    Case("none_axis_broadcast", lambda r: (normal(r, 3), normal(r, 4)), wrt=("x", "y")),
    Case("squeeze_then_dot", lambda r: (normal(r, 3, 1), normal(r, 3)), wrt=("x", "w")),
    Case("ravel_then_dot", lambda r: (normal(r, 3, 4), normal(r, 12)), wrt=("x", "w")),
    Case("flatten_then_dot", lambda r: (normal(r, 3, 4), normal(r, 12)), wrt=("x", "w")),
    Case("cumsum_1d", _x(lambda r: normal(r, 5))),
    Case("cumsum_axis1", _x(lambda r: normal(r, 3, 4))),
    Case("diff_squares", _x(lambda r: normal(r, 6))),
]

INDEXING = [
    Case("masked_reads", _x(lambda r: normal(r, 7))),
    Case("masked_rows", lambda r: (normal(r, 5, 3), normal(r, 5)), wrt=("X",)),
    Case("index_first", _x(lambda r: normal(r, 5))),
    Case("index_last", _x(lambda r: normal(r, 5))),
    Case("slice_middle", _x(lambda r: normal(r, 5))),
    Case("slice_step", _x(lambda r: normal(r, 5))),
    Case("element_2d", _x(lambda r: normal(r, 3, 4))),
    Case("column", _x(lambda r: normal(r, 3, 4))),
    Case("row_dot", lambda r: (normal(r, 3, 4), normal(r, 4)), wrt=("A", "w")),
    Case("embed_sum", lambda r: (normal(r, 5, 3), np.array([2, 0, 2, 4, 2]), normal(r, 3)), wrt=("E", "w")),
    Case("local_slice_write", _x(lambda r: normal(r, 5))),
]


def _softmax_args(r: np.random.Generator, dtype: type = np.float64) -> tuple[Any, ...]:
    W, b, X, Y = normal(r, 4, 3), normal(r, 3), normal(r, 6, 4), one_hot(r, 6, 3)
    return tuple(a.astype(dtype) for a in (W, b, X, Y))


def _window_embed_args(r: np.random.Generator) -> tuple[Any, ...]:
    # V = 6 words of d = 2; a window of 3 ids, one repeated; H = 3 hidden units
    return normal(r, 6, 2), np.array([4, 1, 4]), normal(r, 3, 6), normal(r, 3), normal(r, 3)


MODELS = [
    Case("softmax_loss", _softmax_args, wrt=("W", "b")),
    Case("window_score", lambda r: (normal(r, 3, 4), normal(r, 3), normal(r, 3), normal(r, 4)), wrt=("W", "b", "u", "x")),
    Case("window_embed", _window_embed_args, wrt=("E", "W", "b", "u")),
    Case("window_embed_E_only", _window_embed_args, wrt="E", fn="window_embed"),
    Case(
        "logistic_loss",
        lambda r: (normal(r, 3), 0.3, normal(r, 6, 3), r.integers(0, 2, 6).astype(np.float64)),
        wrt=("w", "b"),
    ),
    Case(
        "mlp_loss",
        lambda r: (normal(r, 3, 4), normal(r, 4), normal(r, 4, 2), normal(r, 2), normal(r, 5, 3), normal(r, 5, 2)),
        wrt=("W1", "b1", "W2", "b2"),
    ),
    Case(
        "rnn_loss",
        lambda r: (0.5 * normal(r, 3, 2), 0.5 * normal(r, 3, 3), normal(r, 3), normal(r, 4, 2)),
        wrt=("Wx", "Wh", "b", "xs"),
    ),
    Case("rnn_buffer", lambda r: (0.5 * normal(r, 3, 3), normal(r, 4, 3)), wrt=("W", "xs")),
    Case("row_loop", lambda r: (normal(r, 5, 3), normal(r, 3)), wrt=("X", "w")),
    Case("accumulate_inplace", lambda r: (normal(r, 5, 3), normal(r, 3)), wrt=("X", "w")),
    Case(
        "branch_positive", lambda r: (np.array([1.0, 0.5, -0.2]), np.array([0.8, 1.1, 0.3])), wrt=("x", "w"), fn="branch_on_dot"
    ),
    Case(
        "branch_negative", lambda r: (np.array([1.0, -0.5, 0.2]), np.array([-0.8, 1.1, 0.3])), wrt=("x", "w"), fn="branch_on_dot"
    ),
    Case(
        "two_dense",
        lambda r: (normal(r, 4, 3), normal(r, 4), normal(r, 2, 4), normal(r, 2), normal(r, 3)),
        wrt=("W1", "b1", "W2", "b2", "x"),
    ),
    Case("layer_list", lambda r: ([normal(r, 4, 3), normal(r, 4, 4), normal(r, 2, 4)], normal(r, 3)), wrt=("Ws", "x")),
    Case(
        "layer_list_local",
        lambda r: (normal(r, 4, 3), normal(r, 4, 4), normal(r, 2, 4), normal(r, 3)),
        wrt=("W1", "W2", "W3", "x"),
    ),
]

MIXED = [
    Case("exp_of_float", lambda r: (0.4,)),
    Case("float_and_array", lambda r: (normal(r, 3, 4), -0.3), wrt=("x", "a")),
    Case("math_and_numpy", lambda r: (normal(r, 3, 4), 0.8), wrt=("x", "s")),
    Case("math_of_reduction", _x(lambda r: normal(r, 3, 4))),
]

DTYPES = [
    Case("float32_exp_sum", _x(lambda r: normal(r, 3, 4).astype(np.float32)), fn="exp_sum"),
    Case(
        "float32_matvec",
        lambda r: (normal(r, 3, 4).astype(np.float32), normal(r, 4).astype(np.float32)),
        wrt=("W", "x"),
        fn="matvec",
    ),
    Case("float32_softmax_loss", lambda r: _softmax_args(r, np.float32), wrt=("W", "b"), fn="softmax_loss"),
    Case("nll_labels", lambda r: (normal(r, 4, 3), normal(r, 6, 4), r.integers(0, 3, 6)), wrt=("W",)),
    Case("nll_labels_bare", lambda r: (normal(r, 4, 3), normal(r, 6, 4), r.integers(0, 3, 6)), wrt="W", fn="nll_labels"),
    Case("gather_rows", lambda r: (normal(r, 4, 3), np.array([3, 1, 3, 0])), wrt=("W",)),
]

CASES = ELEMENTWISE + BROADCASTING + REDUCTIONS + LINEAR_ALGEBRA + SHAPES + INDEXING + MODELS + MIXED + DTYPES
BY_NAME = {case.name: case for case in CASES}
assert len(BY_NAME) == len(CASES), "case names are test ids: they must be unique"


# -- closed forms (each verified against numeric_grad) -------------------------------------------------


def _sech2(z: np.ndarray) -> np.ndarray:
    return 1.0 - np.tanh(z) ** 2


def _softmax(logits: np.ndarray) -> np.ndarray:
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def _elementwise(derivative: Callable[[np.ndarray], np.ndarray], mean: bool = False) -> Callable[..., tuple[Any, ...]]:
    return lambda x: (derivative(x) / (x.size if mean else 1),)


def cf_softmax_loss(W: np.ndarray, b: np.ndarray, X: np.ndarray, Y: np.ndarray) -> tuple[Any, ...]:
    N = X.shape[0]
    P = _softmax(X @ W + b)
    return X.T @ (P - Y) / N, (P - Y).sum(0) / N


def cf_window_score(W: np.ndarray, b: np.ndarray, u: np.ndarray, x: np.ndarray) -> tuple[Any, ...]:
    z = W @ x + b
    delta = u * (1 - np.tanh(z) ** 2)
    return np.outer(delta, x), delta, np.tanh(z), W.T @ delta


def cf_window_embed(E: np.ndarray, ids: np.ndarray, W: np.ndarray, b: np.ndarray, u: np.ndarray) -> tuple[Any, ...]:
    d = E.shape[1]
    x = E[ids].reshape(-1)
    z = W @ x + b
    delta = u * _sech2(z)
    dx = W.T @ delta
    dE = np.zeros_like(E)
    for k, i in enumerate(ids):
        dE[i] += dx[k * d : (k + 1) * d]
    return dE, np.outer(delta, x), delta, np.tanh(z)


def cf_logistic_loss(w: np.ndarray, b: float, X: np.ndarray, y: np.ndarray) -> tuple[Any, ...]:
    p = 1 / (1 + np.exp(-(X @ w + b)))
    return X.T @ (p - y) / len(y), float(np.mean(p - y))


def cf_mlp_loss(W1: Any, b1: Any, W2: Any, b2: Any, X: Any, y: Any) -> tuple[Any, ...]:
    h = np.tanh(X @ W1 + b1)
    out = h @ W2 + b2
    d_out = 2 * (out - y) / out.size
    dz = (d_out @ W2.T) * (1 - h**2)
    return X.T @ dz, dz.sum(0), h.T @ d_out, d_out.sum(0)


def cf_rnn_loss(Wx: Any, Wh: Any, b: Any, xs: Any) -> tuple[Any, ...]:
    hs = [np.zeros(b.shape[0])]
    for t in range(xs.shape[0]):
        hs.append(np.tanh(Wx @ xs[t] + Wh @ hs[-1] + b))
    dWx, dWh, db, dxs = np.zeros_like(Wx), np.zeros_like(Wh), np.zeros_like(b), np.zeros_like(xs)
    dh = 2 * hs[-1]
    for t in reversed(range(xs.shape[0])):
        dz = dh * (1 - hs[t + 1] ** 2)
        dWx += np.outer(dz, xs[t])
        dWh += np.outer(dz, hs[t])
        db += dz
        dxs[t] = Wx.T @ dz
        dh = Wh.T @ dz
    return dWx, dWh, db, dxs


def cf_rnn_buffer(W: Any, xs: Any) -> tuple[Any, ...]:
    hs = [np.zeros(W.shape[0])]
    for t in range(xs.shape[0]):
        hs.append(np.tanh(W @ hs[-1] + xs[t]))
    dW, dxs = np.zeros_like(W), np.zeros_like(xs)
    dh = np.ones(W.shape[0])
    for t in reversed(range(xs.shape[0])):
        dz = dh * (1 - hs[t + 1] ** 2)
        dW += np.outer(dz, hs[t])
        dxs[t] = dz
        dh = W.T @ dz
    return dW, dxs


def _at_extreme(x: np.ndarray, which: Callable[..., Any], axis: int | None, scale: np.ndarray) -> np.ndarray:
    out = np.zeros_like(x)
    if axis is None:
        out[np.unravel_index(which(x), x.shape)] = scale
    else:
        rows = np.arange(x.shape[0])
        out[rows, which(x, axis=1)] = scale
    return out


def _inv_squares(A: np.ndarray) -> tuple[Any, ...]:
    Ai = np.linalg.inv(A)
    return (-Ai.T @ (2 * Ai) @ Ai.T,)


def _solve_dot(A: np.ndarray, b: np.ndarray, c: np.ndarray) -> tuple[Any, ...]:
    x = np.linalg.solve(A, b)
    lam = np.linalg.solve(A.T, c)
    return -np.outer(lam, x), lam, x


CLOSED_FORMS: dict[str, Callable[..., tuple[Any, ...]]] = {
    # elementwise: the derivative of the scalar function, element by element
    "exp_sum": _elementwise(np.exp),
    "exp_imported": _elementwise(np.exp, mean=True),
    "log_sum": _elementwise(lambda x: 1 / x),
    "log1p_mean": _elementwise(lambda x: 1 / (1 + x), mean=True),
    "expm1_sum": _elementwise(np.exp),
    "sqrt_sum": _elementwise(lambda x: 0.5 / np.sqrt(x)),
    "square_sum": _elementwise(lambda x: 2 * x),
    "sin_sum": _elementwise(np.cos),
    "sin_numpy_module": _elementwise(np.cos),
    "cos_sum": _elementwise(lambda x: -np.sin(x)),
    "tan_sum": _elementwise(lambda x: 1 / np.cos(x) ** 2),
    "arcsin_sum": _elementwise(lambda x: 1 / np.sqrt(1 - x**2)),
    "arccos_sum": _elementwise(lambda x: -1 / np.sqrt(1 - x**2)),
    "arctan_sum": _elementwise(lambda x: 1 / (1 + x**2)),
    "sinh_sum": _elementwise(np.cosh),
    "cosh_sum": _elementwise(np.sinh),
    "tanh_sum": _elementwise(_sech2),
    "tanh_imported": _elementwise(_sech2),
    "abs_sum": _elementwise(np.sign),
    "relu_sum": _elementwise(lambda x: (x > 0).astype(float)),
    "minimum_const": _elementwise(lambda x: (x < 1.0).astype(float)),
    "minimum_pair": lambda x, y: ((x < y).astype(float), (y < x).astype(float)),
    "maximum_pair": lambda x, y: (2 * np.maximum(x, y) * (x > y), 2 * np.maximum(x, y) * (y > x)),
    # the softmax weights of the two: 1 / (1 + e^(b - a))
    "logaddexp_pair": lambda x, y: (1 / (1 + np.exp(3 * y - x)), 3 / (1 + np.exp(x - 3 * y))),
    "clip_squares": _elementwise(lambda x: 2 * x * (np.abs(x) < 1)),
    "leaky_relu": _elementwise(lambda x: np.where(x > 0, 1.0, 0.1)),
    "power_cube": _elementwise(lambda x: 3 * x**2),
    "pow_square": _elementwise(lambda x: 2 * x),
    "reciprocal_sum": _elementwise(lambda x: -1 / x**2),
    "negate_cube": _elementwise(lambda x: -3 * x**2),
    # broadcasting: the elementwise adjoint, summed back to each operand's shape
    "add_row": lambda A, r: (np.cos(A + r), np.cos(A + r).sum(axis=0)),
    "add_col": lambda A, c: (2 * (A + c), (2 * (A + c)).sum(axis=1, keepdims=True)),
    "scale_by_float": lambda A, s: (s * _sech2(A * s), float(np.sum(A * _sech2(A * s)))),
    "float_minus_matrix": lambda s, A: (float(np.sum(2 * (s - A))), -2 * (s - A)),
    "scale_by_0d": lambda A, s: (s * np.exp(A * s), np.sum(A * np.exp(A * s))),
    "outer_broadcast": lambda a, b: (
        (b * np.cos(a * b)).sum(axis=1, keepdims=True),
        (a * np.cos(a * b)).sum(axis=0, keepdims=True),
    ),
    "vector_times_matrix": lambda v, M: ((-M * np.sin(v * M)).sum(axis=0), -v * np.sin(v * M)),
    "divide_by_row": lambda A, d: (2 * A / d**2, (-2 * A**2 / d**3).sum(axis=0)),
    "bias_3d": lambda X, b: (_sech2(X + b), _sech2(X + b).sum(axis=(0, 2))[:, None]),
    # reductions
    "sum_axis0": lambda x: (2 * np.broadcast_to(x.sum(axis=0), x.shape),),
    "sum_axis1_keepdims": lambda x: (2 * np.broadcast_to(x.sum(axis=1, keepdims=True), x.shape),),
    "mean_axis0": lambda x: (np.broadcast_to(3 * x.mean(axis=0) ** 2 / x.shape[0], x.shape),),
    "center_columns": lambda x: (2 * (x - x.mean(axis=0)),),
    "max_axis1": lambda x: (_at_extreme(x, np.argmax, 1, 2 * x.max(axis=1)),),
    "min_all": lambda x: (_at_extreme(x, np.argmin, None, 2 * x.min()),),
    "prod_axis1": lambda x: (x.prod(axis=1, keepdims=True) / x,),
    "var_all": lambda x: (2 * (x - x.mean()) / x.size,),
    "std_axis0": lambda x: ((x - x.mean(axis=0)) / (x.shape[0] * x.std(axis=0)),),
    "norm_vector": lambda x: (x / np.linalg.norm(x),),
    "norm_matrix": lambda x: (x / np.linalg.norm(x),),
    # linear algebra
    "matvec": lambda W, x: (np.outer(_sech2(W @ x), x), W.T @ _sech2(W @ x)),
    "dot_matvec": lambda W, x: (np.outer(_sech2(W @ x), x), W.T @ _sech2(W @ x)),
    "vecmat": lambda x, W: (W @ np.cos(x @ W), np.outer(x, np.cos(x @ W))),
    "dot_vecmat": lambda x, W: (W @ np.cos(x @ W), np.outer(x, np.cos(x @ W))),
    "matmat": lambda A, B: (2 * A @ B @ B.T, A.T @ (2 * A @ B)),
    "dot_matmat": lambda A, B: (2 * A @ B @ B.T, A.T @ (2 * A @ B)),
    "vecvec": lambda u, v: (np.cos(u @ v) * v, np.cos(u @ v) * u),
    "dot_vecvec": lambda u, v: (np.cos(u @ v) * v, np.cos(u @ v) * u),
    "method_dot": lambda W, x: (np.outer(2 * W @ x, x), W.T @ (2 * W @ x)),
    "gram_xty": lambda X, Y: (Y @ np.cos(X.T @ Y).T, X @ np.cos(X.T @ Y)),
    "outer_sin": lambda u, v: (np.cos(np.outer(u, v)) @ v, np.cos(np.outer(u, v)).T @ u),
    "trace_plain": lambda A: (np.eye(A.shape[0]),),
    "trace_product": lambda A, B: (B.T, A.T),
    "minus_identity": lambda A: (2 * (A - np.eye(3)),),
    "det3": lambda A: (np.linalg.det(A) * np.linalg.inv(A).T,),
    "inv_squares": _inv_squares,
    "solve_dot": _solve_dot,
    # lecture models
    "softmax_loss": lambda W, b, X, Y: cf_softmax_loss(W, b, X, Y),
    "window_score": cf_window_score,
    "window_embed": cf_window_embed,
    "logistic_loss": lambda w, b, X, y: cf_logistic_loss(w, b, X, y),
    "mlp_loss": lambda W1, b1, W2, b2, X, y: cf_mlp_loss(W1, b1, W2, b2, X, y),
    "rnn_loss": cf_rnn_loss,
    "rnn_buffer": cf_rnn_buffer,
    # mixed
    "exp_of_float": lambda a: (3.0 * float(np.exp(a)),),
    "float_and_array": lambda x, a: (2 * np.exp(a) * x, float(np.exp(a) * np.sum(x**2))),
}


# -- calling grad and checking what it gives --------------------------------------------------------------


def parameter_names(f: Callable[..., Any]) -> list[str]:
    return list(inspect.signature(f).parameters)


def wrt_names(case: Case, f: Callable[..., Any]) -> tuple[str, ...]:
    if case.wrt is None:
        names = parameter_names(f)
        assert len(names) == 1, "wrt=None is for one-parameter programs"
        return (names[0],)
    return (case.wrt,) if isinstance(case.wrt, str) else case.wrt


# Programs s2s_ad does not differentiate yet, and the words its refusal must say: each is refused before any
# generated code runs (tested below), never answered with a wrong number.
NOT_YET = {
    "vstack_mixed": "different numbers of axes",
}
# A function that only indexes its parameter with single integers is read as a function on lists (nothing in
# it says NumPy): its gradient is a list of floats, right element by element.
AS_LISTS = {"index_last"}


SUPPORTED = [c for c in CASES if c.name not in NOT_YET]


@pytest.mark.parametrize("name", sorted(NOT_YET))
def test_not_yet_supported_is_refused_clearly(programs: types.ModuleType, name: str) -> None:
    case = BY_NAME[name]
    f = getattr(programs, case.program)
    args = case.build()
    before = snapshot(args)
    with pytest.raises(S2SError, match=NOT_YET[name]):
        grad(f, wrt=case.wrt)(*args) if case.wrt else grad(f)(*args)
    assert_unchanged(before, args)


def call_grad(case: Case, f: Callable[..., Any], args: Sequence[Any]) -> tuple[Any, ...]:
    """The gradients, as a tuple in wrt order; checks that a bare gradient is bare and a tuple a tuple."""
    if case.wrt is None:
        result = grad(f)(*args)
    else:
        result = grad(f, wrt=case.wrt)(*args)
    if isinstance(case.wrt, tuple):
        assert isinstance(result, tuple), f"wrt={case.wrt!r} gives a tuple, not {type(result).__name__}"
        assert len(result) == len(case.wrt), f"one gradient per name in wrt={case.wrt!r}, got {len(result)}"
        return result
    assert not isinstance(result, tuple), "a bare gradient, not a tuple"
    return (result,)


def assert_like(gradient: Any, arg: Any, label: str) -> None:
    """A gradient has its argument's kind: ndarray of the same shape and dtype, float, or list of them."""
    if isinstance(arg, np.ndarray):
        if arg.ndim == 0:  # a 0-d array: a 0-d ndarray (a NumPy scalar of the same dtype is accepted)
            assert isinstance(gradient, (np.ndarray, np.generic)), f"{label}: {type(gradient).__name__}, not a 0-d array"
        else:
            assert isinstance(gradient, np.ndarray), f"{label}: {type(gradient).__name__}, not an ndarray"
        assert gradient.shape == arg.shape, f"{label}: shape {gradient.shape}, argument {arg.shape}"
        assert gradient.dtype == arg.dtype, f"{label}: dtype {gradient.dtype}, argument {arg.dtype}"
    elif isinstance(arg, list):
        assert isinstance(gradient, (list, tuple)), f"{label}: {type(gradient).__name__}, not a list"
        assert len(gradient) == len(arg), f"{label}: {len(gradient)} entries, argument {len(arg)}"
        for k, (g, a) in enumerate(zip(gradient, arg)):
            assert_like(g, a, f"{label}[{k}]")
    else:
        assert isinstance(gradient, float) and not isinstance(gradient, np.ndarray), (
            f"{label}: {type(gradient).__name__}, not a float"
        )


def assert_close(actual: Any, expected: Any, label: str, rtol: float, atol: float) -> None:
    if isinstance(expected, list):
        assert len(actual) == len(expected), label
        for k, (a, e) in enumerate(zip(actual, expected)):
            assert_close(a, e, f"{label}[{k}]", rtol, atol)
        return
    np.testing.assert_allclose(np.asarray(actual, dtype=np.float64), expected, rtol=rtol, atol=atol, err_msg=label)


def tolerances(args: Sequence[Any]) -> tuple[float, float]:
    single = any(isinstance(a, np.ndarray) and a.dtype == np.float32 for a in args)
    return (RTOL_32, ATOL_32) if single else (RTOL, ATOL)


def snapshot(args: Sequence[Any]) -> list[Any]:
    return [copy.deepcopy(a) for a in args]


def assert_unchanged(before: Sequence[Any], after: Sequence[Any]) -> None:
    for k, (b, a) in enumerate(zip(before, after)):
        if isinstance(b, np.ndarray):
            assert a.dtype == b.dtype and np.array_equal(a, b), f"argument {k} was changed"
        elif isinstance(b, list):
            assert_unchanged(b, a)
        else:
            assert a == b, f"argument {k} was changed"


# -- the tests -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("case", SUPPORTED, ids=lambda c: c.name)
def test_gradient_matches_finite_differences(programs: types.ModuleType, case: Case) -> None:
    f = getattr(programs, case.program)
    args = case.build()
    names = wrt_names(case, f)
    gradients = call_grad(case, f, args)
    rtol, atol = tolerances(args)
    for name, g in zip(names, gradients):
        index = parameter_names(f).index(name)
        if case.name in AS_LISTS:
            assert isinstance(g, list), f"{name}: read as a list, its gradient is a list"
            g = np.asarray(g)
        else:
            assert_like(g, args[index], name)
        assert_close(g, numeric_grad(f, args, index), name, rtol, atol)


@pytest.mark.parametrize("name", [c.name for c in SUPPORTED if c.name in CLOSED_FORMS])
def test_gradient_matches_closed_form(programs: types.ModuleType, name: str) -> None:
    case = BY_NAME[name]
    f = getattr(programs, case.program)
    args = case.build()
    expected = CLOSED_FORMS[name](*args)
    gradients = call_grad(case, f, args)
    assert len(gradients) == len(expected)
    for wrt_name, g, e in zip(wrt_names(case, f), gradients, expected):
        assert_close(g, e, wrt_name, RTOL, ATOL)


@pytest.mark.parametrize("case", SUPPORTED, ids=lambda c: c.name)
def test_gradient_does_not_change_its_arguments(programs: types.ModuleType, case: Case) -> None:
    f = getattr(programs, case.program)
    args = case.build()
    before = snapshot(args)
    call_grad(case, f, args)
    assert_unchanged(before, args)


VALUE_AND_GRAD = ["softmax_loss", "matvec", "rnn_loss", "exp_of_float", "logistic_loss", "embed_sum", "float32_matvec"]


@pytest.mark.parametrize("name", VALUE_AND_GRAD)
def test_value_and_grad(programs: types.ModuleType, name: str) -> None:
    case = BY_NAME[name]
    f = getattr(programs, case.program)
    args = case.build()
    value, gradient = value_and_grad(f, wrt=case.wrt)(*snapshot(args)) if case.wrt else value_and_grad(f)(*snapshot(args))
    expected_value = f(*snapshot(args))
    assert np.ndim(value) == 0
    same = 1e-5 if tolerances(args)[0] == RTOL_32 else 1e-10  # the same numbers, up to the order of operations
    np.testing.assert_allclose(float(value), float(expected_value), rtol=same, atol=same)
    gradients = gradient if isinstance(case.wrt, tuple) else (gradient,)
    alone = call_grad(case, f, snapshot(args))
    rtol, atol = tolerances(args)
    for wrt_name, g, g_alone in zip(wrt_names(case, f), gradients, alone):
        index = parameter_names(f).index(wrt_name)
        assert_like(g, args[index], wrt_name)
        np.testing.assert_allclose(np.asarray(g), np.asarray(g_alone), rtol=same, atol=same)
        assert_close(g, numeric_grad(f, args, index), wrt_name, rtol, atol)


# -- the calling convention ----------------------------------------------------------------------------


def test_one_parameter_function_gives_the_bare_gradient(programs: types.ModuleType) -> None:
    x = normal(np.random.default_rng(1), 3, 4)
    g = grad(programs.exp_sum)(x)
    assert isinstance(g, np.ndarray) and g.shape == (3, 4) and g.dtype == np.float64
    np.testing.assert_allclose(g, np.exp(x), rtol=RTOL, atol=ATOL)


def test_wrt_one_name_gives_the_bare_gradient(programs: types.ModuleType) -> None:
    rng = np.random.default_rng(2)
    W, x = normal(rng, 3, 4), normal(rng, 4)
    g = grad(programs.matvec, wrt="x")(W, x)
    assert isinstance(g, np.ndarray) and g.shape == (4,)
    np.testing.assert_allclose(g, W.T @ _sech2(W @ x), rtol=RTOL, atol=ATOL)


def test_wrt_tuple_order_is_kept(programs: types.ModuleType) -> None:
    args = _softmax_args(np.random.default_rng(3))
    dW, db = cf_softmax_loss(*args)
    got_db, got_dW = grad(programs.softmax_loss, wrt=("b", "W"))(*args)
    assert got_db.shape == (3,) and got_dW.shape == (4, 3)
    np.testing.assert_allclose(got_db, db, rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(got_dW, dW, rtol=RTOL, atol=ATOL)


def test_repeated_ids_accumulate(programs: types.ModuleType) -> None:
    rng = np.random.default_rng(4)
    E, ids, w = normal(rng, 5, 3), np.array([2, 0, 2, 4, 2]), normal(rng, 3)
    dE, dw = grad(programs.embed_sum, wrt=("E", "w"))(E, ids, w)
    expected = np.zeros_like(E)
    for i in ids:
        expected[i] += _sech2(E[i] @ w) * w
    np.testing.assert_allclose(dE, expected, rtol=RTOL, atol=ATOL)
    assert np.all(dE[[1, 3]] == 0.0), "rows never looked up get no gradient"
    np.testing.assert_allclose(dw, sum(_sech2(E[i] @ w) * E[i] for i in ids), rtol=RTOL, atol=ATOL)


# -- where the function raises, its gradient raises ------------------------------------------------------


def test_a_raise_in_the_program_is_raised_by_its_gradient(programs: types.ModuleType) -> None:
    f = programs.checked_total
    good = uniform(np.random.default_rng(5), 0.1, 1.0, 4)
    np.testing.assert_allclose(grad(f)(good), 2 * good, rtol=RTOL, atol=ATOL)
    with pytest.raises(ValueError, match="negative total"):
        f(-good)
    with pytest.raises(ValueError, match="negative total"):
        grad(f)(-good)


def test_a_shape_mismatch_is_raised_by_the_gradient(programs: types.ModuleType) -> None:
    rng = np.random.default_rng(6)
    W = normal(rng, 3, 4)
    grad(programs.matvec, wrt=("W", "x"))(W, normal(rng, 4))
    with pytest.raises(ValueError):
        programs.matvec(W, normal(rng, 5))
    with pytest.raises(Exception):  # noqa: B017 - whatever numpy raises, or a refusal: not a number
        grad(programs.matvec, wrt=("W", "x"))(W, normal(rng, 5))


# -- refusals --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "word"),
    [("sorted_sum", "sort"), ("sorted_rows", "sort"), ("random_scale", "random"), ("random_noise", "random")],
)
def test_refused_with_the_function_named(programs: types.ModuleType, name: str, word: str) -> None:
    x = normal(np.random.default_rng(7), 3, 4)
    with pytest.raises(S2SError) as refused:
        grad(getattr(programs, name))(x)
    assert word in str(refused.value)


def test_sort_in_place_is_refused(programs: types.ModuleType) -> None:
    x = normal(np.random.default_rng(8), 5)
    before = x.copy()
    with pytest.raises(S2SError):
        grad(programs.sort_in_place)(x)
    assert np.array_equal(x, before)


@pytest.mark.parametrize("name", ["writes_parameter", "adds_into_parameter", "helper_writes_parameter"])
def test_writing_into_a_parameter_is_refused_or_leaves_it_alone(programs: types.ModuleType, name: str) -> None:
    f = getattr(programs, name)
    x = normal(np.random.default_rng(9), 5)
    before = x.copy()
    try:
        g = grad(f)(x)
    except S2SError:
        assert np.array_equal(x, before)
        return
    assert np.array_equal(x, before), "the caller's array was written into"
    assert_like(g, before, "x")
    assert_close(g, numeric_grad(f, (before,), 0), "x", RTOL, ATOL)


def test_a_mask_beside_other_indices_is_refused_by_name(tmp_path: Path) -> None:
    module = import_source("import numpy as np\n\n\ndef f(X):\n    return np.sum(X[X[:, 0] > 0, 1:])\n", tmp_path)
    with pytest.raises(S2SError, match="a boolean mask beside other indices is not supported"):
        grad(module.f)(np.ones((3, 2)))
