"""Logistic regression trained with a generated gradient of a loss written with nested loops.

The model predicts s_i = 1 / (1 + exp(-(b + sum_k w_k x_ik))) for each sample and is scored by the
mean binary cross-entropy; the loss below is plain Python, a loop over the samples and an inner loop
over the features. This script (1) compares the generated gradient (with respect to the weight list
`w` and the bias `b`) with central finite differences, (2) trains the model with it by plain gradient
descent, printing the loss as it goes down, (3) prints the final accuracy and the generated code.

    python examples/logistic_regression.py        # with grad(bce_loss, wrt=("w", "b"))
    python examples/logistic_regression.py --gradient build/logistic_regression_bce_loss_grad.py

The second trains with the module `s2s-ad grad examples/logistic_regression.py:bce_loss --wrt w,b
-o build/` wrote. Exit status 1: the gradient disagrees with finite differences, or training fails.
"""

from __future__ import annotations

import argparse
import importlib.util
import inspect
import math
import sys
from collections.abc import Callable

from s2s_ad import grad, value_and_grad

# A fixed, linearly separable data set: two features, label 1 when x0 + 2 x1 > 1 (roughly).
DATA_X = [
    [0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [2.0, 0.5], [0.5, 1.5],
    [-1.0, 0.5], [0.5, -0.5], [1.5, -0.2], [-0.5, 1.2], [0.2, 0.1], [1.2, 0.8],
]
DATA_Y = [0.0, 0.0, 1.0, 1.0, 1.0, 1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 1.0]


def bce_loss(w: list[float], b: float, X: list[list[float]], y: list[float]) -> float:
    """Mean binary cross-entropy of logistic regression, written with nested loops."""
    total = 0.0
    for i in range(len(X)):
        z = b
        for k in range(len(w)):
            z += w[k] * X[i][k]
        s = 1.0 / (1.0 + math.exp(-z))
        total -= y[i] * math.log(s) + (1.0 - y[i]) * math.log(1.0 - s)
    return total / len(X)


# Functions whose generated code is kept as golden files (tests/test_golden.py), and a point for each.
GOLDEN = (bce_loss,)
GOLDEN_POINTS = {"bce_loss": ([0.3, -0.4], 0.1, DATA_X, DATA_Y)}


def predict(w: list[float], b: float, x: list[float]) -> float:
    z = b + sum(wk * xk for wk, xk in zip(w, x))
    return 1.0 / (1.0 + math.exp(-z))


def accuracy(w: list[float], b: float) -> float:
    right = sum((predict(w, b, x) > 0.5) == (label > 0.5) for x, label in zip(DATA_X, DATA_Y))
    return right / len(DATA_X)


def finite_difference_gradient(w: list[float], b: float, h: float = 1e-6) -> tuple[list[float], float]:
    """Central differences of the loss: an independent truth."""
    dw = []
    for k in range(len(w)):
        up, down = list(w), list(w)
        up[k] += h
        down[k] -= h
        dw.append((bce_loss(up, b, DATA_X, DATA_Y) - bce_loss(down, b, DATA_X, DATA_Y)) / (2 * h))
    db = (bce_loss(w, b + h, DATA_X, DATA_Y) - bce_loss(w, b - h, DATA_X, DATA_Y)) / (2 * h)
    return dw, db


def load_written_gradient(path: str) -> Callable[..., tuple[list[float], float]]:
    """`bce_loss_grad` from the module the command line wrote:

        s2s-ad grad examples/logistic_regression.py:bce_loss --wrt w,b -o build/
        python examples/logistic_regression.py --gradient build/logistic_regression_bce_loss_grad.py
    """
    spec = importlib.util.spec_from_file_location("written_bce_loss_grad", path)
    if spec is None or spec.loader is None:
        raise SystemExit(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.bce_loss_grad


def check_gradient(gradient: Callable[..., tuple[list[float], float]]) -> int:
    """Compare the generated gradient with finite differences at a few points; the number of mismatches."""
    failures = 0
    for w, b in (([0.0, 0.0], 0.0), ([0.3, -0.4], 0.1), ([1.5, 2.5], -1.7)):
        dw, db = gradient(w, b, DATA_X, DATA_Y)
        fw, fb = finite_difference_gradient(w, b)
        ok = all(math.isclose(g, e, rel_tol=1e-6, abs_tol=1e-8) for g, e in zip([*dw, db], [*fw, fb]))
        failures += not ok
        print(f"w={w}, b={b}: generated ({dw[0]:+.8f}, {dw[1]:+.8f}, {db:+.8f}), "
              f"finite differences ({fw[0]:+.8f}, {fw[1]:+.8f}, {fb:+.8f}) {'ok' if ok else 'MISMATCH'}")
    return failures


def train(gradient: Callable[..., tuple[list[float], float]], rate: float = 1.0,
          steps: int = 600) -> tuple[list[float], float, list[float]]:
    """Plain gradient descent from zero; the weights, the bias and the loss every 100 steps."""
    w, b = [0.0, 0.0], 0.0
    losses = []
    for i in range(steps + 1):
        if i % 100 == 0:
            losses.append(bce_loss(w, b, DATA_X, DATA_Y))
            print(f"  step {i:4d}: loss {losses[-1]:.6f}")
        dw, db = gradient(w, b, DATA_X, DATA_Y)
        w = [wk - rate * g for wk, g in zip(w, dw)]
        b -= rate * db
    return w, b, losses


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gradient", metavar="FILE",
                        help="train with bce_loss_grad from a module written by s2s-ad grad (default: grad(bce_loss))")
    args = parser.parse_args(argv)
    if args.gradient:
        gradient = load_written_gradient(args.gradient)
        print(f"Using bce_loss_grad written to {args.gradient}")
    else:
        gradient = grad(bce_loss, wrt=("w", "b"))
    failures = check_gradient(gradient)
    print()
    print("Gradient descent:")
    w, b, losses = train(gradient)
    if not all(later < earlier for earlier, later in zip(losses, losses[1:])):
        print("the loss did not go down at every report", file=sys.stderr)
        failures += 1
    if not losses[-1] < 0.5 * losses[0]:
        print("the loss did not halve", file=sys.stderr)
        failures += 1
    acc = accuracy(w, b)
    print(f"final weights ({w[0]:+.4f}, {w[1]:+.4f}), bias {b:+.4f}, accuracy {acc:.0%}")
    if acc < 1.0:
        print("training did not separate the data", file=sys.stderr)
        failures += 1
    value, _ = value_and_grad(bce_loss, wrt=("w", "b"))(w, b, DATA_X, DATA_Y)
    if value != bce_loss(w, b, DATA_X, DATA_Y):
        print("value_and_grad's value is not the loss", file=sys.stderr)
        failures += 1
    print()
    print("The generated gradient:")
    print()
    print(inspect.getsource(gradient))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
