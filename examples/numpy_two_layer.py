"""A two-layer neural network on three interleaved spirals, trained with the NumPy gradient s2s_ad writes.

No straight line separates the spirals, so a linear classifier tops out near
50%; one hidden layer of tanh units bends the boundary around them. With
weight matrices W1 (2 x H) and W2 (H x 3), one row of X per point and one
one-hot row of Y per label, the network and its loss are

    h = tanh(X @ W1 + b1)
    logits = h @ W2 + b2
    loss = mean cross-entropy of softmax(logits) against Y

`grad(two_layer_loss, wrt=("W1", "b1", "W2", "b2"))` writes the
backpropagation you would write by hand: the softmax residual, then
`W2_bar = h.T @ ...`, back through tanh' = 1 - h * h, then `W1_bar = X.T @ ...`
(run with `--show-code` to read it). This script

1. draws 100 points of each spiral for training and another 100 for testing,
   from a fixed seed,
2. checks the generated gradient against central finite differences at a
   few random coordinates of every parameter, at the initial parameters,
3. trains by full-batch gradient descent, printing the loss and the training
   and held-out accuracies.

    python examples/numpy_two_layer.py               # about a second
    python examples/numpy_two_layer.py --show-code   # also print the generated gradient
    python examples/numpy_two_layer.py --quick       # a few steps only (the tests run this)

or with the gradient module the command line writes (it imports NumPy, not s2s_ad):

    s2s-ad grad examples/numpy_two_layer.py:two_layer_loss --wrt W1,b1,W2,b2 \\
        --shapes W1=2x32,b1=32,W2=32x3,b2=3,X=300x2,Y=300x3 -o build/
    python examples/numpy_two_layer.py --gradient build/numpy_two_layer_two_layer_loss_grad.py

Exit status 1: the gradient disagrees with finite differences, or training
does not reach 95% training and 90% held-out accuracy (with `--quick`: the
loss does not go down).
"""

from __future__ import annotations

import argparse
import importlib.util
import inspect
import sys
from collections.abc import Callable

import numpy as np

from s2s_ad import grad, value_and_grad

CLASSES, POINTS_PER_CLASS, HIDDEN = 3, 100, 32
STEPS, QUICK_STEPS = 2000, 50
LEARNING_RATE = 1.0
TARGET_TRAIN, TARGET_TEST = 0.95, 0.90
FD_STEP = 1e-6  # h of the central differences (f(x + h) - f(x - h)) / 2h
FD_TOLERANCE = 1e-5  # largest relative error accepted between the generated gradient and finite differences
FD_FLOOR = 1e-4  # smaller derivatives are judged on |difference| / 1e-4: round-off in the differences is ~1e-10


def two_layer_loss(W1, b1, W2, b2, X, Y):
    """Mean softmax cross-entropy of a network with one tanh hidden layer; Y holds one-hot rows."""
    h = np.tanh(X @ W1 + b1)
    logits = h @ W2 + b2
    logits = logits - logits.max(axis=1, keepdims=True)
    logp = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
    return -np.mean(np.sum(Y * logp, axis=1))


def predict(W1, b1, W2, b2, X):
    """The class of each row of X: the largest logit."""
    return np.argmax(np.tanh(X @ W1 + b1) @ W2 + b2, axis=1)


def spirals(rng, noise=0.2):
    """(X, labels): POINTS_PER_CLASS points on each of CLASSES spiral arms, the angle jittered by `noise`."""
    points, labels = [], []
    for c in range(CLASSES):
        radius = np.linspace(0.0, 1.0, POINTS_PER_CLASS)
        angle = np.linspace(4.0 * c, 4.0 * (c + 1), POINTS_PER_CLASS) + noise * rng.standard_normal(POINTS_PER_CLASS)
        points.append(np.column_stack([radius * np.sin(angle), radius * np.cos(angle)]))
        labels.append(np.full(POINTS_PER_CLASS, c))
    return np.concatenate(points), np.concatenate(labels)


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


def load_written_gradient(path: str) -> Callable[..., tuple[np.ndarray, ...]]:
    """`two_layer_loss_grad` from the module `s2s-ad grad examples/numpy_two_layer.py:two_layer_loss ... -o build/` wrote."""
    spec = importlib.util.spec_from_file_location("written_two_layer_loss_grad", path)
    if spec is None or spec.loader is None:
        raise SystemExit(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.two_layer_loss_grad


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help=f"train {QUICK_STEPS} steps only (still checks the gradient)")
    parser.add_argument("--show-code", action="store_true", help="print the generated gradient code at the end")
    parser.add_argument("--gradient", metavar="FILE", help="train with two_layer_loss_grad from the module s2s-ad grad wrote")
    options = parser.parse_args(argv)

    rng = np.random.default_rng(0)
    X, labels = spirals(rng)
    X_test, labels_test = spirals(rng)
    Y = np.eye(CLASSES)[labels]  # one-hot rows
    params = [
        rng.standard_normal((2, HIDDEN)),  # W1: large enough for the tanh units to bend early
        np.zeros(HIDDEN),  # b1
        rng.standard_normal((HIDDEN, CLASSES)) / np.sqrt(HIDDEN),  # W2
        np.zeros(CLASSES),  # b2
    ]
    names = ("W1", "b1", "W2", "b2")
    print(f"{CLASSES} spirals of {POINTS_PER_CLASS} points each (and as many held out), {HIDDEN} hidden tanh units")

    print("Generated gradient against finite differences, at the initial parameters:")
    if options.gradient:
        gradient = load_written_gradient(options.gradient)
        print(f"Using two_layer_loss_grad written to {options.gradient}")

        def loss_and_gradient(*args: np.ndarray) -> tuple[float, tuple[np.ndarray, ...]]:
            return two_layer_loss(*args), gradient(*args)
    else:
        gradient = grad(two_layer_loss, wrt=names)  # generated at its first call, for these shapes
        loss_and_gradient = value_and_grad(two_layer_loss, wrt=names)
    if not check_gradient(two_layer_loss, gradient, params, names, (X, Y), rng):
        return 1

    steps = QUICK_STEPS if options.quick else STEPS
    print(f"Full-batch gradient descent, learning rate {LEARNING_RATE}, {steps} steps:")
    losses = []
    for step in range(steps + 1):
        loss, gradients = loss_and_gradient(*params, X, Y)
        losses.append(loss)
        if step % max(1, steps // 5) == 0 or step == steps:
            train_accuracy = np.mean(predict(*params, X) == labels)
            test_accuracy = np.mean(predict(*params, X_test) == labels_test)
            print(f"  step {step:5d}: loss {loss:.4f}  train accuracy {train_accuracy:.1%}  test accuracy {test_accuracy:.1%}")
        if step < steps:
            params = [p - LEARNING_RATE * g for p, g in zip(params, gradients)]
    train_accuracy = np.mean(predict(*params, X) == labels)
    test_accuracy = np.mean(predict(*params, X_test) == labels_test)
    print(f"accuracy: training {train_accuracy:.1%}, held out {test_accuracy:.1%}")

    if options.show_code:
        print("\nThe generated gradient:\n")
        print(inspect.getsource(gradient))
    if not losses[-1] < losses[0]:
        print(f"training failed: the loss went from {losses[0]:.4f} to {losses[-1]:.4f}", file=sys.stderr)
        return 1
    if not options.quick and not (train_accuracy > TARGET_TRAIN and test_accuracy > TARGET_TEST):
        print(
            f"training failed: accuracy {train_accuracy:.1%} (training) and {test_accuracy:.1%} (held out) "
            f"must pass {TARGET_TRAIN:.0%} and {TARGET_TEST:.0%}",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
