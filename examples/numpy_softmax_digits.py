"""Softmax regression on handwritten digits, trained with the NumPy gradient s2s_ad writes.

The loss below is softmax cross-entropy written as a NumPy user writes it,
with the max subtracted from each row of logits so that `np.exp` cannot
overflow. `grad(softmax_loss, wrt=("W", "b"))` returns a function that, at
its first call, generates NumPy code for the gradient at the shapes of the
arrays it is given (run with `--show-code` to read it). This script

1. loads scikit-learn's bundled 8x8 digits (1,797 images, nothing is
   downloaded), shuffles them with a fixed seed, holds out the last 20% as a
   test set and standardizes the 64 pixel features with the training set's
   mean and spread (the file is ordered by writer, so without the shuffle the
   test set holds writers the model never saw and tops out near 89%),
2. checks the generated gradient against central finite differences at a few
   random coordinates of W and b, at the initial parameters,
3. trains W (64 x 10) and b (10) by full-batch gradient descent, printing the
   loss and the training and held-out accuracies as it goes; the test set is
   only reported on, never trained on.

    python examples/numpy_softmax_digits.py               # about a second
    python examples/numpy_softmax_digits.py --show-code   # also print the generated gradient
    python examples/numpy_softmax_digits.py --quick       # a few steps only (the tests run this)

scikit-learn is needed for the data: `pip install "s2s_ad[examples]"` (or `pip install scikit-learn`). Without it
the script says so and exits with status 2 (0 with `--skip-missing`). Exit
status 1: the gradient disagrees with finite differences, or the held-out
accuracy does not pass 90% (with `--quick`: the loss does not go down).
"""

from __future__ import annotations

import argparse
import inspect
import sys

import numpy as np

from s2s_ad import grad, value_and_grad

STEPS, QUICK_STEPS = 200, 20
LEARNING_RATE = 0.5
TARGET_ACCURACY = 0.90  # on the held-out test set
FD_STEP = 1e-6  # h of the central differences (f(x + h) - f(x - h)) / 2h
FD_TOLERANCE = 1e-5  # largest relative error accepted between the generated gradient and finite differences
FD_FLOOR = 1e-4  # smaller derivatives are judged on |difference| / 1e-4: round-off in the differences is ~1e-10


def softmax_loss(W, b, X, Y):
    """Mean cross-entropy of softmax(X @ W + b) against the one-hot rows of Y."""
    logits = X @ W + b
    logits = logits - logits.max(axis=1, keepdims=True)
    logp = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
    return -np.mean(np.sum(Y * logp, axis=1))


def accuracy(W, b, X, labels):
    """The fraction of rows of X whose largest logit is at their label."""
    return np.mean(np.argmax(X @ W + b, axis=1) == labels)


def load_data(rng):
    """(X_train, labels_train, X_test, labels_test): shuffled, split 80/20, standardized with the training set."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    order = rng.permutation(len(digits.target))
    X, labels = digits.data[order], digits.target[order]
    n_train = int(0.8 * len(labels))
    X_train, X_test = X[:n_train], X[n_train:]
    mean = X_train.mean(axis=0)
    spread = X_train.std(axis=0)
    spread[spread == 0] = 1.0  # pixels that are blank in every training image stay 0
    return (X_train - mean) / spread, labels[:n_train], (X_test - mean) / spread, labels[n_train:]


def check_gradient(loss, gradient_of_loss, params, names, data, rng, per_parameter=4) -> bool:
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


def train(W, b, X, Y, X_test, labels_test, steps):
    """Full-batch gradient descent; returns W, b and the losses at the first and last steps."""
    loss_and_gradient = value_and_grad(softmax_loss, wrt=("W", "b"))
    labels = np.argmax(Y, axis=1)
    losses = []
    for step in range(steps + 1):
        loss, (dW, db) = loss_and_gradient(W, b, X, Y)
        losses.append(loss)
        if step % max(1, steps // 8) == 0 or step == steps:
            print(
                f"  step {step:4d}: loss {loss:.4f}  train accuracy {accuracy(W, b, X, labels):.1%}  "
                f"test accuracy {accuracy(W, b, X_test, labels_test):.1%}"
            )
        if step < steps:
            W = W - LEARNING_RATE * dW
            b = b - LEARNING_RATE * db
    return W, b, losses[0], losses[-1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help=f"train {QUICK_STEPS} steps only (still checks the gradient)")
    parser.add_argument("--skip-missing", action="store_true", help="exit 0, not 2, when scikit-learn is not installed")
    parser.add_argument("--show-code", action="store_true", help="print the generated gradient code at the end")
    options = parser.parse_args(argv)
    try:
        import sklearn  # noqa: F401  (only its bundled data set is used)
    except ImportError:
        print(
            "This example needs scikit-learn for its data set: pip install \"s2s_ad[examples]\" (or pip install scikit-learn)",
            file=sys.stderr,
        )
        return 0 if options.skip_missing else 2

    rng = np.random.default_rng(0)
    X_train, labels_train, X_test, labels_test = load_data(rng)
    Y_train = np.eye(10)[labels_train]  # one-hot rows
    W = 0.01 * rng.standard_normal((X_train.shape[1], 10))
    b = np.zeros(10)
    print(f"digits: {len(labels_train)} training and {len(labels_test)} test images of {X_train.shape[1]} pixels")

    print("Generated gradient against finite differences, at the initial parameters:")
    gradient = grad(softmax_loss, wrt=("W", "b"))  # generated at its first call, for these shapes
    if not check_gradient(softmax_loss, gradient, (W, b), ("W", "b"), (X_train, Y_train), rng):
        return 1

    steps = QUICK_STEPS if options.quick else STEPS
    print(f"Full-batch gradient descent, learning rate {LEARNING_RATE}, {steps} steps:")
    W, b, first_loss, last_loss = train(W, b, X_train, Y_train, X_test, labels_test, steps)
    test_accuracy = accuracy(W, b, X_test, labels_test)
    print(f"held-out test accuracy {test_accuracy:.1%}")

    if options.show_code:
        print("\nThe generated gradient:\n")
        print(inspect.getsource(gradient))
    if not last_loss < first_loss:
        print(f"training failed: the loss went from {first_loss:.4f} to {last_loss:.4f}", file=sys.stderr)
        return 1
    if not options.quick and not test_accuracy > TARGET_ACCURACY:
        print(f"training failed: held-out accuracy {test_accuracy:.1%} is not above {TARGET_ACCURACY:.0%}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
