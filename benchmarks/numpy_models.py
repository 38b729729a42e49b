"""NumPy models for `bench_numpy.py`: each loss as a NumPy user writes it, its hand-written gradient, its data.

The losses live in a real file because s2s_ad reads a function's source
with `inspect`. Each loss is one self-contained function that reads NumPy
only through the module name `np` and calls no helper of its own, for two
reasons: s2s_ad then sees the whole model in one body, and the benchmark can
run the very same code on autograd or JAX by binding `np` to
`autograd.numpy` or `jax.numpy` (see `bench_numpy.rebind`). For the same
reason the losses avoid what those libraries cannot trace: no in-place
updates, and `K.swapaxes(1, 2)` rather than `K.transpose(0, 2, 1)` (autograd's
array boxes take `transpose`'s axes as one tuple only).

Each hand-written gradient returns the gradients of the parameters named in
the model's `wrt`, in that order, and is written to be fast as well as
correct (one GEMM where a loop of small ones would do, `np.bincount` for the
scatter-add of the embedding gradient); `bench_numpy.py` checks each one
against central finite differences before anything is timed.

Losses are sums over the samples (not means), so a gradient grows with N.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

Array = Any  # an ndarray, or the array type of autograd or JAX when `np` is rebound


@dataclass(frozen=True)
class Dims:
    """Every size of every model except N (the number of samples, windows or sequences)."""

    d: int = 20  # features per sample (and per token, for attention; inputs per step, for the RNN)
    h: int = 32  # hidden units (MLP, window model, RNN)
    k: int = 10  # classes (softmax regression, MLP)
    vocab: int = 1000  # window model: rows of the embedding matrix E
    embed: int = 20  # window model: columns of E
    window: int = 5  # window model: ids per window
    steps: int = 10  # RNN: time steps T
    seq: int = 16  # attention: tokens per sequence
    dk: int = 16  # attention: width of queries, keys and values


FULL = Dims()
TINY = Dims(d=3, h=4, k=3, vocab=7, embed=2, window=3, steps=3, seq=4, dk=3)  # for the finite-difference check


# -- logistic regression ------------------------------------------------------------------------------


def logistic_loss(w: Array, b: float, X: Array, y: Array) -> Array:
    """Binary cross-entropy of a linear model, summed over samples; `y` holds 0.0 or 1.0."""
    z = X @ w + b
    return np.sum(np.logaddexp(0.0, z) - y * z)


def logistic_grad(w: Array, b: float, X: Array, y: Array) -> tuple[Array, Array]:
    """(dL/dw, dL/db): the residual sigmoid(z) - y, spread back through X."""
    z = X @ w + b
    r = 0.5 * (1.0 + np.tanh(0.5 * z)) - y  # sigmoid(z) - y, without exp's overflow for large |z|
    return X.T @ r, r.sum()


def logistic_data(n: int, dims: Dims, rng: np.random.Generator) -> tuple[Any, ...]:
    """Standard normal features, weights at scale 1/sqrt(D) (so z is of order 1), labels 0.0 or 1.0."""
    X = rng.standard_normal((n, dims.d))
    w = rng.standard_normal(dims.d) / np.sqrt(dims.d)
    y = (rng.random(n) < 0.5).astype(float)
    return w, 0.1, X, y


# -- softmax regression ---------------------------------------------------------------------------------


def softmax_loss(W: Array, b: Array, X: Array, Y: Array) -> Array:
    """Cross-entropy of softmax(X @ W + b) against the one-hot rows of `Y`, summed over samples."""
    logits = X @ W + b
    shifted = logits - logits.max(axis=1, keepdims=True)
    logp = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    return -np.sum(Y * logp)


def _softmax_residual(logits: Array, Y: Array) -> Array:
    """dL/dlogits of -sum(Y * log_softmax(logits)): softmax * rowsum(Y) - Y (P - Y for one-hot rows).

    The general form, not P - Y: the loss is defined for any `Y`, and an AD tool cannot know the rows sum to 1."""
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True) * Y.sum(axis=1, keepdims=True) - Y


def softmax_grad(W: Array, b: Array, X: Array, Y: Array) -> tuple[Array, Array]:
    """(dL/dW, dL/db)."""
    G = _softmax_residual(X @ W + b, Y)
    return X.T @ G, G.sum(axis=0)


def _one_hot(n: int, k: int, rng: np.random.Generator) -> Array:
    return np.eye(k)[rng.integers(k, size=n)]


def softmax_data(n: int, dims: Dims, rng: np.random.Generator) -> tuple[Any, ...]:
    """Standard normal features, weights at scale 1/sqrt(D), one-hot labels drawn uniformly."""
    X = rng.standard_normal((n, dims.d))
    W = rng.standard_normal((dims.d, dims.k)) / np.sqrt(dims.d)
    b = 0.1 * rng.standard_normal(dims.k)
    return W, b, X, _one_hot(n, dims.k, rng)


# -- two-layer MLP ----------------------------------------------------------------------------------------


def mlp_loss(W1: Array, b1: Array, W2: Array, b2: Array, X: Array, Y: Array) -> Array:
    """A tanh hidden layer, then softmax cross-entropy against one-hot `Y`, summed over samples."""
    h = np.tanh(X @ W1 + b1)
    logits = h @ W2 + b2
    shifted = logits - logits.max(axis=1, keepdims=True)
    logp = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    return -np.sum(Y * logp)


def mlp_grad(W1: Array, b1: Array, W2: Array, b2: Array, X: Array, Y: Array) -> tuple[Array, Array, Array, Array]:
    """(dL/dW1, dL/db1, dL/dW2, dL/db2): backpropagation, tanh' = 1 - tanh^2 from the stored activations."""
    h = np.tanh(X @ W1 + b1)
    G = _softmax_residual(h @ W2 + b2, Y)
    dz = (G @ W2.T) * (1.0 - h * h)
    return X.T @ dz, dz.sum(axis=0), h.T @ G, G.sum(axis=0)


def mlp_data(n: int, dims: Dims, rng: np.random.Generator) -> tuple[Any, ...]:
    """Weights at scale 1/sqrt(fan-in), so the tanh layer works away from saturation; one-hot labels."""
    X = rng.standard_normal((n, dims.d))
    W1 = rng.standard_normal((dims.d, dims.h)) / np.sqrt(dims.d)
    b1 = 0.1 * rng.standard_normal(dims.h)
    W2 = rng.standard_normal((dims.h, dims.k)) / np.sqrt(dims.h)
    b2 = 0.1 * rng.standard_normal(dims.k)
    return W1, b1, W2, b2, X, _one_hot(n, dims.k, rng)


# -- window model ------------------------------------------------------------------------------------------


def window_loss(E: Array, W: Array, b: Array, u: Array, ids: Array) -> Array:
    """Sum over windows of the score u @ tanh(W @ x + b), x the window's embeddings E[ids] laid end to end.

    Batched: row i of X is E[ids[i]].reshape(-1), so X @ W.T + b holds W @ x + b for every window at once."""
    X = E[ids].reshape(ids.shape[0], -1)
    hidden = np.tanh(X @ W.T + b)
    return np.sum(hidden @ u)


def window_grad(E: Array, W: Array, b: Array, u: Array, ids: Array) -> tuple[Array, Array, Array, Array]:
    """(dL/dE, dL/dW, dL/db, dL/du). dL/dE scatter-adds each window's dL/dx into the rows it read: one
    `np.bincount` over (row, column) pairs, about 4x faster than `np.add.at` at N = 10,000."""
    n, width = ids.shape
    X = E[ids].reshape(n, -1)
    hidden = np.tanh(X @ W.T + b)
    dz = (1.0 - hidden * hidden) * u
    dX = (dz @ W).reshape(n * width, -1)  # dL/d(embedding) for each id of each window
    cols = E.shape[1]
    cells = (ids.reshape(-1, 1) * cols + np.arange(cols)).ravel()
    dE = np.bincount(cells, weights=dX.ravel(), minlength=E.size).reshape(E.shape)
    return dE, dz.T @ X, dz.sum(axis=0), hidden.sum(axis=0)


def window_data(n: int, dims: Dims, rng: np.random.Generator) -> tuple[Any, ...]:
    """An embedding table, a hidden layer at scale 1/sqrt(fan-in), N windows of ids drawn uniformly."""
    fan_in = dims.window * dims.embed
    E = 0.5 * rng.standard_normal((dims.vocab, dims.embed))
    W = rng.standard_normal((dims.h, fan_in)) / np.sqrt(fan_in)
    b = 0.1 * rng.standard_normal(dims.h)
    u = rng.standard_normal(dims.h) / np.sqrt(dims.h)
    ids = rng.integers(dims.vocab, size=(n, dims.window))
    return E, W, b, u, ids


# -- RNN ---------------------------------------------------------------------------------------------------


def rnn_loss(Wx: Array, Wh: Array, b: Array, v: Array, xs: Array, y: Array) -> Array:
    """A tanh RNN over the T steps of `xs` (T, N, D) from h = 0, then squared error of the readout h @ v."""
    h = np.zeros((xs.shape[1], Wh.shape[0]))
    for t in range(xs.shape[0]):
        h = np.tanh(xs[t] @ Wx + h @ Wh + b)
    return np.sum((h @ v - y) ** 2)


def rnn_grad(Wx: Array, Wh: Array, b: Array, v: Array, xs: Array, y: Array) -> tuple[Array, Array, Array, Array]:
    """(dL/dWx, dL/dWh, dL/db, dL/dv): backpropagation through time. The states are kept in one (T + 1, N, H)
    array and the pre-activation adjoints in one (T, N, H) array, so the weight gradients are one GEMM each
    over all steps rather than T small ones."""
    steps, n, d = xs.shape
    hid = Wh.shape[0]
    hs = np.zeros((steps + 1, n, hid))
    for t in range(steps):
        hs[t + 1] = np.tanh(xs[t] @ Wx + hs[t] @ Wh + b)
    r = 2.0 * (hs[steps] @ v - y)
    dh = np.outer(r, v)
    dz = np.empty((steps, n, hid))
    for t in range(steps - 1, -1, -1):
        dz[t] = dh * (1.0 - hs[t + 1] * hs[t + 1])
        if t:
            dh = dz[t] @ Wh.T
    flat_dz = dz.reshape(steps * n, hid)
    dWx = xs.reshape(steps * n, d).T @ flat_dz
    dWh = hs[1:steps].reshape((steps - 1) * n, hid).T @ dz[1:].reshape((steps - 1) * n, hid)  # h_0 = 0 adds nothing
    return dWx, dWh, flat_dz.sum(axis=0), hs[steps].T @ r


def rnn_data(n: int, dims: Dims, rng: np.random.Generator) -> tuple[Any, ...]:
    """Input weights at 1/sqrt(D), recurrent weights at 0.5/sqrt(H) (the state neither dies nor saturates in T steps)."""
    Wx = rng.standard_normal((dims.d, dims.h)) / np.sqrt(dims.d)
    Wh = 0.5 * rng.standard_normal((dims.h, dims.h)) / np.sqrt(dims.h)
    b = 0.1 * rng.standard_normal(dims.h)
    v = rng.standard_normal(dims.h) / np.sqrt(dims.h)
    xs = rng.standard_normal((dims.steps, n, dims.d))
    return Wx, Wh, b, v, xs, rng.standard_normal(n)


# -- single-head attention -----------------------------------------------------------------------------------


def attention_loss(Wq: Array, Wk: Array, Wv: Array, X: Array) -> Array:
    """Sum of squares of softmax(Q K^T / sqrt(dk)) V over a batch of sequences X (N, L, D), Q = X Wq etc."""
    Q = X @ Wq
    K = X @ Wk
    V = X @ Wv
    S = Q @ K.swapaxes(1, 2) / np.sqrt(Wq.shape[1])
    e = np.exp(S - S.max(axis=-1, keepdims=True))
    A = e / e.sum(axis=-1, keepdims=True)
    return np.sum((A @ V) ** 2)


def attention_grad(Wq: Array, Wk: Array, Wv: Array, X: Array) -> tuple[Array, Array, Array]:
    """(dL/dWq, dL/dWk, dL/dWv): the softmax's Jacobian applied row by row as A * (dA - rowsum(dA * A)); each
    weight gradient is one GEMM over all tokens of all sequences."""
    scale = 1.0 / np.sqrt(Wq.shape[1])
    Q = X @ Wq
    K = X @ Wk
    V = X @ Wv
    S = (Q @ K.swapaxes(1, 2)) * scale
    e = np.exp(S - S.max(axis=-1, keepdims=True))
    A = e / e.sum(axis=-1, keepdims=True)
    dO = 2.0 * (A @ V)
    dA = dO @ V.swapaxes(1, 2)
    dS = A * (dA - (dA * A).sum(axis=-1, keepdims=True)) * scale
    tokens = X.reshape(-1, X.shape[-1]).T
    dQ = dS @ K
    dK = dS.swapaxes(1, 2) @ Q
    dV = A.swapaxes(1, 2) @ dO
    return tokens @ dQ.reshape(-1, Wq.shape[1]), tokens @ dK.reshape(-1, Wk.shape[1]), tokens @ dV.reshape(-1, Wv.shape[1])


def attention_data(n: int, dims: Dims, rng: np.random.Generator) -> tuple[Any, ...]:
    """Query, key and value weights at scale 1/sqrt(D), so the scores are of order 1; N sequences of L tokens."""
    Wq, Wk, Wv = (rng.standard_normal((dims.d, dims.dk)) / np.sqrt(dims.d) for _ in range(3))
    return Wq, Wk, Wv, rng.standard_normal((n, dims.seq, dims.d))


# -- the table of models ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Model:
    """One benchmark model: the loss, which of its parameters are differentiated, the hand-written gradient
    of those (in `wrt` order), and a maker of its arguments for N samples."""

    name: str
    loss: Callable[..., Any]
    hand: Callable[..., tuple[Any, ...]]
    wrt: tuple[str, ...]
    data: Callable[[int, Dims, np.random.Generator], tuple[Any, ...]]
    shapes: Callable[[Dims], str]  # the sizes other than N, for the report

    def args(self, n: int, dims: Dims = FULL, seed: int = 0) -> tuple[Any, ...]:
        """The loss's arguments for N = `n`, the same for the same seed."""
        return self.data(n, dims, np.random.default_rng(seed))


MODELS: tuple[Model, ...] = (
    Model(
        "logistic",
        logistic_loss,
        logistic_grad,
        ("w", "b"),
        logistic_data,
        lambda s: f"X (N, {s.d}), w ({s.d},), b a float",
    ),
    Model(
        "softmax",
        softmax_loss,
        softmax_grad,
        ("W", "b"),
        softmax_data,
        lambda s: f"X (N, {s.d}), W ({s.d}, {s.k}), one-hot Y (N, {s.k})",
    ),
    Model(
        "mlp",
        mlp_loss,
        mlp_grad,
        ("W1", "b1", "W2", "b2"),
        mlp_data,
        lambda s: f"X (N, {s.d}), tanh hidden {s.h}, softmax over {s.k}",
    ),
    Model(
        "window",
        window_loss,
        window_grad,
        ("E", "W", "b", "u"),
        window_data,
        lambda s: f"N windows of {s.window} ids, E ({s.vocab}, {s.embed}), W ({s.h}, {s.window * s.embed}), u ({s.h},)",
    ),
    Model(
        "rnn",
        rnn_loss,
        rnn_grad,
        ("Wx", "Wh", "b", "v"),
        rnn_data,
        lambda s: f"N sequences, T = {s.steps} steps of {s.d} inputs, H = {s.h}, readout to a number",
    ),
    Model(
        "attention",
        attention_loss,
        attention_grad,
        ("Wq", "Wk", "Wv"),
        attention_data,
        lambda s: f"N sequences of L = {s.seq} tokens x {s.d}, Wq/Wk/Wv ({s.d}, {s.dk})",
    ),
)
