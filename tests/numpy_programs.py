"""NumPy programs, written as a NumPy user writes them, whose gradients test_numpy_programs.py judges.

Every function returns a scalar. The tests read this file's text and import it with conftest's
`import_source`, so that s2s_ad can read each function's source back with inspect.
"""

import math

import numpy
import numpy as np
from numpy import exp, tanh

# -- 1. elementwise ------------------------------------------------------------------------------


def exp_sum(x):
    return np.sum(np.exp(x))


def exp_imported(x):
    return exp(x).mean()


def log_sum(x):
    return np.sum(np.log(x))


def log1p_mean(x):
    return np.mean(np.log1p(x))


def expm1_sum(x):
    return np.expm1(x).sum()


def sqrt_sum(x):
    return np.sqrt(x).sum()


def square_sum(x):
    return np.sum(np.square(x))


def sin_sum(x):
    return np.sum(np.sin(x))


def sin_numpy_module(x):
    return numpy.sum(numpy.sin(x))


def cos_sum(x):
    return np.sum(np.cos(x))


def tan_sum(x):
    return np.sum(np.tan(x))


def arcsin_sum(x):
    return np.sum(np.arcsin(x))


def arccos_sum(x):
    return np.sum(np.arccos(x))


def arctan_sum(x):
    return np.sum(np.arctan(x))


def sinh_sum(x):
    return np.sum(np.sinh(x))


def cosh_sum(x):
    return np.sum(np.cosh(x))


def tanh_sum(x):
    return np.sum(np.tanh(x))


def tanh_imported(x):
    return tanh(x).sum()


def abs_sum(x):
    return np.sum(np.abs(x))


def relu_sum(x):
    return np.sum(np.maximum(x, 0.0))


def minimum_const(x):
    return np.sum(np.minimum(x, 1.0))


def minimum_pair(x, y):
    return np.sum(np.minimum(x, y))


def maximum_pair(x, y):
    return np.sum(np.maximum(x, y) ** 2)


def logaddexp_pair(x, y):
    return np.sum(np.logaddexp(x, 3.0 * y))


def clip_squares(x):
    return np.sum(np.clip(x, -1, 1) ** 2)


def leaky_relu(x):
    return np.sum(np.where(x > 0, x, 0.1 * x))


def power_cube(x):
    return np.sum(np.power(x, 3))


def pow_square(x):
    return np.sum(x**2)


def reciprocal_sum(x):
    return np.sum(1 / x)


def negate_cube(x):
    y = -x
    return np.sum(y * y * y)


# -- 2. broadcasting -----------------------------------------------------------------------------


def add_row(A, r):
    return np.sum(np.sin(A + r))


def row_minus_matrix(r, A):
    return np.sum((r - A) ** 2 * A)


def add_col(A, c):
    return np.sum((A + c) ** 2)


def scale_by_float(A, s):
    return np.sum(np.tanh(A * s))


def float_minus_matrix(s, A):
    return np.sum((s - A) ** 2)


def scale_by_0d(A, s):
    return np.sum(np.exp(A * s))


def outer_broadcast(a, b):
    return np.sum(np.sin(a * b))


def vector_times_matrix(v, M):
    return np.sum(np.cos(v * M))


def divide_by_row(A, d):
    return np.sum((A / d) ** 2)


def col_divided_by_matrix(c, A):
    return np.sum(c / A)


def bias_3d(X, b):
    return np.sum(np.tanh(X + b))


# -- 3. reductions -------------------------------------------------------------------------------


def sum_axis0(x):
    return np.sum(x.sum(axis=0) ** 2)


def sum_axis1_keepdims(x):
    return np.sum(x * x.sum(axis=1, keepdims=True))


def mean_axis0(x):
    return np.sum(x.mean(axis=0) ** 3)


def center_columns(x):
    return np.sum((x - x.mean(axis=0, keepdims=True)) ** 2)


def max_axis1(x):
    return np.sum(np.max(x, axis=1) ** 2)


def min_all(x):
    return x.min() ** 2


def prod_axis1(x):
    return np.sum(x.prod(axis=1))


def var_all(x):
    return np.var(x)


def std_axis0(x):
    return np.sum(np.std(x, axis=0))


def spread_methods_with_ddof(x):
    return np.sum(x.std(axis=0, ddof=1) * np.arange(1.0, x.shape[1] + 1.0)) + x.var() + np.std(x, ddof=1, axis=None)


def tuple_axes(x):
    return np.sum(np.sum(x, axis=(0, 2)) ** 2) + np.sum(x.mean(axis=(-1, 0), keepdims=True) * x) + np.prod(x, axis=(1, 2)).sum()


def norms_and_clips(x):
    rows = np.linalg.norm(x, axis=1)
    kept = np.linalg.norm(x, axis=-1, keepdims=True)
    return np.sum(rows * np.arange(1.0, x.shape[0] + 1.0)) + np.sum(x / kept) + np.sum(x.clip(-0.5, 0.7) ** 3)


def var_rows_ddof(x):
    return np.sum(np.var(x, axis=1, ddof=2)) + x[0].std() + np.sum(x.var(axis=-1, ddof=1))


def norm_vector(x):
    return np.linalg.norm(x)


def norm_matrix(x):
    return np.linalg.norm(x)


# -- 4. linear algebra ---------------------------------------------------------------------------


def matvec(W, x):
    return np.sum(np.tanh(W @ x))


def vecmat(x, W):
    return np.sum(np.sin(x @ W))


def matmat(A, B):
    return np.sum((A @ B) ** 2)


def vecvec(u, v):
    return np.sin(u @ v)


def dot_matvec(W, x):
    return np.sum(np.tanh(np.dot(W, x)))


def dot_vecmat(x, W):
    return np.sum(np.sin(np.dot(x, W)))


def dot_matmat(A, B):
    return np.sum(np.dot(A, B) ** 2)


def dot_vecvec(u, v):
    return np.sin(np.dot(u, v))


def method_dot(W, x):
    return np.sum(W.dot(x) ** 2)


def gram_xty(X, Y):
    return np.sum(np.sin(X.T @ Y))


def outer_sin(u, v):
    return np.sum(np.sin(np.outer(u, v)))


def trace_plain(A):
    return np.trace(A)


def trace_product(A, B):
    return np.trace(A @ B)


def minus_identity(A):
    return np.sum((A - np.eye(3)) ** 2)


def det3(A):
    return np.linalg.det(A)


def inv_squares(A):
    return np.sum(np.linalg.inv(A) ** 2)


def solve_dot(A, b, c):
    return c @ np.linalg.solve(A, b)


# -- 5. shapes -----------------------------------------------------------------------------------


def reshape_then_matvec(x, w):
    return np.sum((x.reshape(4, 3) @ w) ** 2)


def transpose_attribute(x, w):
    return np.sum((x.T * w) ** 2)


def transpose_2d(x, w):
    return np.sum(np.sin(np.transpose(x)) * w)


def transpose_axes(x, w):
    return np.sum(np.transpose(x, (1, 0, 2)) ** 2 * w)


def concatenate_1d(a, b, w):
    return np.sin(np.concatenate([a, b])) @ w


def concatenate_axis1(a, b, w):
    c = np.concatenate([a, b], axis=1)
    return np.sum(np.sin(c) * w)


def stack_axis1(a, b, w):
    return np.sum(np.sin(np.stack([a, b], axis=1)) * w)


def hstack_1d(a, b, w):
    return np.hstack([a, b]) ** 2 @ w


def vstack_mixed(a, B, w):
    return np.sum(np.sin(np.vstack([a, B])) * w)


def expand_dims_broadcast(x, y):
    return np.sum(np.sin(np.expand_dims(x, 0) * y))


def none_axis_broadcast(x, y):
    return np.sum(np.tanh(x[:, None] * y))


def squeeze_then_dot(x, w):
    return np.sin(np.squeeze(x)) @ w


def ravel_then_dot(x, w):
    return np.sin(np.ravel(x)) @ w


def flatten_then_dot(x, w):
    return x.flatten() ** 2 @ w


def cumsum_1d(x):
    return np.sum(np.sin(np.cumsum(x)))


def cumsum_axis1(x):
    return np.sum(np.cumsum(x, axis=1) ** 2)


def diff_squares(x):
    return np.sum(np.diff(x) ** 2)


# -- 6. indexing ---------------------------------------------------------------------------------


def index_first(x):
    return np.sin(x[0]) + np.sum(x**2)


def index_last(x):
    return x[-1] ** 3


def slice_middle(x):
    return np.sum(np.sin(x[1:3]))


def slice_step(x):
    return np.sum(x[::2] ** 2)


def element_2d(A):
    return A[1, 2] * A[0, 0]


def column(A):
    return np.sum(np.exp(A[:, 1]))


def row_dot(A, w):
    return A[1] @ w


def embed_sum(E, ids, w):
    return np.sum(np.tanh(E[ids] @ w))


def local_slice_write(x):
    out = np.zeros_like(x)
    out[1:] = x[:-1] * x[1:]
    out[0] = x[0]
    return np.sum(out**2)


# -- 7. lecture models ---------------------------------------------------------------------------


def softmax_loss(W, b, X, Y):
    logits = X @ W + b
    logits = logits - logits.max(axis=1, keepdims=True)
    logp = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
    return -np.mean(np.sum(Y * logp, axis=1))


def window_score(W, b, u, x):
    z = W @ x + b
    a = np.tanh(z)
    return u.T @ a


def window_embed(E, ids, W, b, u):
    x = E[ids].reshape(-1)
    s = u @ np.tanh(W @ x + b)
    return s


def logistic_loss(w, b, X, y):
    z = X @ w + b
    p = 1 / (1 + np.exp(-z))
    return -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))


def mlp_loss(W1, b1, W2, b2, X, y):
    h = np.tanh(X @ W1 + b1)
    out = h @ W2 + b2
    return np.mean((out - y) ** 2)


def rnn_loss(Wx, Wh, b, xs):
    T = xs.shape[0]
    H = b.shape[0]
    h = np.zeros(H)
    for t in range(T):
        h = np.tanh(Wx @ xs[t] + Wh @ h + b)
    return np.sum(h**2)


def rnn_buffer(W, xs):
    T = xs.shape[0]
    H = W.shape[0]
    hs = np.zeros((T + 1, H))
    for t in range(T):
        hs[t + 1] = np.tanh(W @ hs[t] + xs[t])
    return hs[-1].sum()


def row_loop(X, w):
    loss = 0.0
    for x in X:
        loss = loss + (np.tanh(x @ w) - 0.5) ** 2
    return loss / len(X)


def accumulate_inplace(X, w):
    acc = np.zeros_like(w)
    for x in X:
        acc += np.tanh(x * w)
    return np.sum(acc**2)


def branch_on_dot(x, w):
    if x @ w > 0:
        return np.sum(np.sin(x * w))
    else:
        return np.sum(x**2 * w)


def _dense(W, b, x):
    return np.tanh(W @ x + b)


def two_dense(W1, b1, W2, b2, x):
    h = _dense(W1, b1, x)
    return np.sum(_dense(W2, b2, h) ** 2)


def layer_list(Ws, x):
    h = x
    for W in Ws:
        h = np.tanh(W @ h)
    return np.sum(h**2)


def layer_list_local(W1, W2, W3, x):
    Ws = [W1, W2, W3]
    h = x
    for W in Ws:
        h = np.tanh(W @ h)
    return np.sum(h)


# -- 8. mixed floats, math and NumPy -------------------------------------------------------------


def exp_of_float(a):
    return np.exp(a) * 3.0


def float_and_array(x, a):
    return np.sum(np.exp(a) * x**2)


def math_and_numpy(x, s):
    return math.exp(s) * np.sum(np.sin(x)) + math.sin(s)


def math_of_reduction(x):
    return math.sqrt(np.sum(x**2)) + math.log(np.sum(np.exp(x)))


# -- 9. dtypes: integer labels -------------------------------------------------------------------


def nll_labels(W, X, labels):
    logits = X @ W
    logp = logits - np.log(np.sum(np.exp(logits), axis=1, keepdims=True))
    return -np.mean(logp[np.arange(len(labels)), labels])


def gather_rows(W, labels):
    return np.sum(W[labels] ** 2)


# -- raising -------------------------------------------------------------------------------------


def checked_total(x):
    if np.sum(x) < 0:
        raise ValueError("negative total")
    return np.sum(x**2)


# -- refusals ------------------------------------------------------------------------------------


def sorted_sum(x):
    return np.sort(x).sum()


def sorted_rows(x):
    s = np.sort(x, axis=1)
    return np.sum(s[:, 0] * 2.0)


def random_scale(x):
    return np.sum(x * np.random.rand())


def random_noise(x):
    return np.sum(x + np.random.normal(size=x.shape))


def sort_in_place(x):
    x.sort()
    return x[0] * 2.0


def writes_parameter(x):
    x[0] = 1.0
    return np.sum(x**2)


def adds_into_parameter(x):
    x += 1.0
    return np.sum(x**2)


def _zero_first(v):
    v[0] = 0.0
    return v


def helper_writes_parameter(x):
    y = _zero_first(x)
    return np.sum(y**3)


def masked_reads(x):
    return np.sum(x[x > 0] ** 2) + np.sum(np.sin(x[x < 0.5])) + np.mean(x[np.abs(x) > 0.2] * x[np.abs(x) > 0.2])


def masked_rows(X, y):
    return np.sum(X[y > 0] @ np.arange(1.0, X.shape[1] + 1.0)) + np.sum(X[X > 0.1] ** 3)
