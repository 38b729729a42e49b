"""A recurrent network that learns to add up a sequence, trained with the NumPy gradient s2s_ad writes.

Each sequence is T numbers drawn uniformly from [-0.5, 0.5]; the target is
their sum. The network reads one number per step and keeps a hidden state h
of H units, then reads its answer off the last state:

    h = 0
    for t in range(T):
        h = tanh(Wx @ x_t + Wh @ h + b)
    prediction = v @ h

It has to carry a running total from step to step, through Wh. The loss is
the mean squared error over a batch of sequences, all run at once: xs has
shape (T, 1, N), so xs[t] holds the t-th number of every sequence as one row
and h holds one column per sequence. s2s_ad differentiates the Python loop
as it is: the generated gradient keeps every step's state on a tape in the
forward sweep and runs the steps backwards in the reverse sweep, which is
backpropagation through time (run with `--show-code` to read it). This
script

1. draws training and held-out sequences from a fixed seed,
2. checks the generated gradient with respect to Wx, Wh, b and v against
   central finite differences at a few random coordinates, at the initial
   parameters,
3. trains by gradient descent with momentum, scaling the gradient down when
   its norm exceeds 1 (clipping: the classic guard against the exploding
   gradients of recurrent networks), printing the loss as it goes.

    python examples/numpy_rnn.py               # a few seconds
    python examples/numpy_rnn.py --show-code   # also print the generated gradient
    python examples/numpy_rnn.py --quick       # a few steps only (the tests run this)

Exit status 1: the gradient disagrees with finite differences, or the
held-out error does not fall below 5% of the variance of the targets (the
error of always answering 0; with `--quick`: the loss does not go down).
"""

from __future__ import annotations

import argparse
import inspect
import sys

import numpy as np

from s2s_ad import grad, value_and_grad

T, HIDDEN = 8, 16  # steps per sequence, hidden units
N_TRAIN, N_TEST = 500, 1000
STEPS, QUICK_STEPS = 1500, 30
LEARNING_RATE, MOMENTUM, CLIP = 0.1, 0.9, 1.0
TARGET = 0.05  # held-out mean squared error, as a fraction of the variance of the targets
FD_STEP = 1e-6  # h of the central differences (f(x + h) - f(x - h)) / 2h
FD_TOLERANCE = 1e-5  # largest relative error accepted between the generated gradient and finite differences
FD_FLOOR = 1e-4  # smaller derivatives are judged on |difference| / 1e-4: round-off in the differences is ~1e-10


def rnn_loss(Wx, Wh, b, v, xs, y):
    """Mean squared error of v @ h against y, h the last state of a tanh RNN run over xs (T, 1, N) from 0."""
    h = np.zeros((Wh.shape[0], xs.shape[2]))  # one column per sequence
    for t in range(xs.shape[0]):
        h = np.tanh(Wx @ xs[t] + Wh @ h + b)
    return np.mean((v @ h - y) ** 2)


def predict(Wx, Wh, b, v, xs):
    """The network's answer for every sequence of xs: the same loop, without the loss."""
    h = np.zeros((Wh.shape[0], xs.shape[2]))
    for t in range(xs.shape[0]):
        h = np.tanh(Wx @ xs[t] + Wh @ h + b)
    return v @ h


def sequences(n, rng):
    """(xs, y): n sequences of T numbers as an array of shape (T, 1, n), and the n sums."""
    xs = rng.uniform(-0.5, 0.5, size=(T, 1, n))
    return xs, xs.sum(axis=(0, 1))


def check_gradient(loss, gradient_of_loss, params, names, data, rng, per_parameter=3) -> bool:
    """Compare the gradient with central finite differences at a few random coordinates; True if they agree."""
    gradients = gradient_of_loss(*params, *data)
    # For one coordinate i of one parameter P: dloss/dP[i] ~ (loss(P[i] + h) - loss(P[i] - h)) / 2h, off by
    # O(h^2) from the truth and by round-off of about 1e-16 * loss / h (~1e-10).
    worst = 0.0
    for k, (name, value, gradient) in enumerate(zip(names, params, gradients)):
        assert gradient.shape == value.shape, (name, gradient.shape, value.shape)
        for flat in rng.choice(value.size, size=min(per_parameter, value.size), replace=False):
            i = np.unravel_index(flat, value.shape)  # the coordinate, as a tuple of indices
            up, down = value.copy(), value.copy()
            up[i] += FD_STEP
            down[i] -= FD_STEP
            loss_up = loss(*params[:k], up, *params[k + 1 :], *data)
            loss_down = loss(*params[:k], down, *params[k + 1 :], *data)
            numeric = (loss_up - loss_down) / (2 * FD_STEP)
            error = abs(gradient[i] - numeric) / max(abs(gradient[i]), abs(numeric), FD_FLOOR)
            worst = max(worst, error)
            where = f"{name}[{', '.join(str(int(j)) for j in i)}]"
            print(f"  {where:10} generated {gradient[i]:+.8e}  finite differences {numeric:+.8e}  rel. error {error:.1e}")
    ok = worst <= FD_TOLERANCE
    print(f"  largest relative error {worst:.1e}: {'ok' if ok else 'MISMATCH'} (tolerance {FD_TOLERANCE:.0e})")
    return ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help=f"train {QUICK_STEPS} steps only (still checks the gradient)")
    parser.add_argument("--show-code", action="store_true", help="print the generated gradient code at the end")
    options = parser.parse_args(argv)

    rng = np.random.default_rng(0)
    xs, y = sequences(N_TRAIN, rng)
    xs_test, y_test = sequences(N_TEST, rng)
    params = [
        rng.standard_normal((HIDDEN, 1)),  # Wx
        0.5 * rng.standard_normal((HIDDEN, HIDDEN)) / np.sqrt(HIDDEN),  # Wh: small, so the state does not saturate
        np.zeros((HIDDEN, 1)),  # b: a column, added to every sequence's column
        rng.standard_normal(HIDDEN) / np.sqrt(HIDDEN),  # v
    ]
    names = ("Wx", "Wh", "b", "v")
    baseline = np.var(y_test)
    print(
        f"{N_TRAIN} training and {N_TEST} held-out sequences of {T} numbers; {HIDDEN} hidden units; "
        f"always answering 0 has mean squared error {baseline:.4f}"
    )

    print("Generated gradient against finite differences, at the initial parameters:")
    gradient = grad(rnn_loss, wrt=names)  # generated at its first call, for these shapes
    if not check_gradient(rnn_loss, gradient, params, names, (xs, y), rng):
        return 1

    steps = QUICK_STEPS if options.quick else STEPS
    print(
        f"Gradient descent with momentum {MOMENTUM}, learning rate {LEARNING_RATE}, "
        f"gradient norm clipped at {CLIP}, {steps} steps:"
    )
    loss_and_gradient = value_and_grad(rnn_loss, wrt=names)
    velocity = [np.zeros_like(p) for p in params]
    losses = []
    for step in range(steps + 1):
        loss, gradients = loss_and_gradient(*params, xs, y)
        losses.append(loss)
        if step % max(1, steps // 5) == 0 or step == steps:
            test_error = np.mean((predict(*params, xs_test) - y_test) ** 2)
            print(f"  step {step:5d}: loss {loss:.5f}  held-out error {test_error:.5f}")
        if step < steps:
            norm = np.sqrt(sum(np.sum(g * g) for g in gradients))
            scale = min(1.0, CLIP / norm)
            velocity = [MOMENTUM * m + scale * g for m, g in zip(velocity, gradients)]
            params = [p - LEARNING_RATE * m for p, m in zip(params, velocity)]
    test_error = np.mean((predict(*params, xs_test) - y_test) ** 2)
    print(f"held-out mean squared error {test_error:.5f}, {test_error / baseline:.2%} of always answering 0")
    x_show, y_show = sequences(1, rng)
    print(f"for example {np.round(x_show.ravel(), 2)}: sum {y_show[0]:+.3f}, network {predict(*params, x_show)[0]:+.3f}")

    if options.show_code:
        print("\nThe generated gradient:\n")
        print(inspect.getsource(gradient))
    if not losses[-1] < losses[0]:
        print(f"training failed: the loss went from {losses[0]:.4f} to {losses[-1]:.4f}", file=sys.stderr)
        return 1
    if not options.quick and not test_error < TARGET * baseline:
        print(f"training failed: held-out error {test_error:.4f} is not below {TARGET:.0%} of {baseline:.4f}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
