"""A one-hidden-layer tanh network, trained with the generated gradient of its squared loss.

The weights are lists of rows (`W1[j][k]` connects input k to hidden unit j),
the hidden activations are a list built per sample with a comprehension, and
the loss is the mean squared error over a small fixed data set: XOR in the
±1 encoding, which no linear model can fit. This script

1. compares the generated gradient with respect to all four weight lists with
   central finite differences, entry by entry,
2. trains the network by plain gradient descent from fixed initial weights,
   printing the loss as it goes down,
3. prints the network's outputs, the final accuracy and the generated code.

    python examples/mlp.py

exits with status 1 if the gradient disagrees with finite differences or the
training does not fit XOR.
"""

from __future__ import annotations

import inspect
import math
import sys

from s2s_ad import grad, value_and_grad

DATA_X = [[-1.0, -1.0], [-1.0, 1.0], [1.0, -1.0], [1.0, 1.0]]
DATA_Y = [-1.0, 1.0, 1.0, -1.0]  # XOR: the product of the signs, negated

# Fixed initial weights (three hidden units): no randomness, so every run is the same.
W1_START = [[0.5, -0.3], [-0.4, 0.6], [0.2, 0.7]]
B1_START = [0.1, -0.1, 0.05]
W2_START = [0.3, -0.5, 0.4]
B2_START = 0.0


def mlp_loss(W1: list[list[float]], b1: list[float], W2: list[float], b2: float,
             X: list[list[float]], Y: list[float]) -> float:
    """Mean squared error of a tanh network with one hidden layer."""
    total = 0.0
    for x, y in zip(X, Y):
        hidden = [math.tanh(b1[j] + sum(W1[j][k] * x[k] for k in range(len(x)))) for j in range(len(W1))]
        out = b2
        for j in range(len(hidden)):
            out += W2[j] * hidden[j]
        total += (out - y) ** 2
    return total / len(X)


GOLDEN = (mlp_loss,)
GOLDEN_POINTS = {"mlp_loss": (W1_START, B1_START, W2_START, B2_START, DATA_X, DATA_Y)}
PARAMETERS = ("W1", "b1", "W2", "b2")


def forward(W1: list[list[float]], b1: list[float], W2: list[float], b2: float, x: list[float]) -> float:
    hidden = [math.tanh(b1[j] + sum(W1[j][k] * x[k] for k in range(len(x)))) for j in range(len(W1))]
    return b2 + sum(w * h for w, h in zip(W2, hidden))


def flatten(value: object) -> list[float]:
    return [x for item in value for x in flatten(item)] if isinstance(value, list) else [float(value)]  # type: ignore[arg-type]


def finite_differences(params: list[object], h: float = 1e-6) -> list[float]:
    """Central differences of the loss with respect to every entry of every weight list, flattened."""
    def loss_at(ps: list[object]) -> float:
        return mlp_loss(*ps, DATA_X, DATA_Y)  # type: ignore[arg-type]

    result = []
    for p, value in enumerate(params):
        if isinstance(value, float):
            up, down = list(params), list(params)
            up[p], down[p] = value + h, value - h
            result.append((loss_at(up) - loss_at(down)) / (2 * h))
            continue
        rows = value if isinstance(value[0], list) else [value]  # type: ignore[index]
        for r, row in enumerate(rows):  # type: ignore[union-attr]
            for c in range(len(row)):
                for sign, store in ((1, "up"), (-1, "down")):
                    changed = [list(rw) for rw in rows]
                    changed[r][c] += sign * h
                    trial = list(params)
                    trial[p] = changed if isinstance(value[0], list) else changed[0]  # type: ignore[index]
                    if store == "up":
                        upper = loss_at(trial)
                    else:
                        lower = loss_at(trial)
                result.append((upper - lower) / (2 * h))
    return result


def check_gradient() -> int:
    gradient = grad(mlp_loss, wrt=PARAMETERS)
    failures = 0
    points = [
        [W1_START, B1_START, W2_START, B2_START],
        [[[1.0, -2.0], [0.3, 0.3], [-1.1, 0.4]], [0.0, 0.5, -0.5], [1.0, 1.0, -2.0], 0.3],
    ]
    for params in points:
        got = flatten(list(gradient(*params, DATA_X, DATA_Y)))
        expected = finite_differences(params)  # type: ignore[arg-type]
        ok = len(got) == len(expected) and all(math.isclose(g, e, rel_tol=1e-6, abs_tol=1e-8)
                                                for g, e in zip(got, expected))
        failures += not ok
        worst = max(abs(g - e) for g, e in zip(got, expected))
        print(f"gradient of {len(got)} weights: largest difference from finite differences {worst:.1e} "
              f"{'ok' if ok else 'MISMATCH'}")
    return failures


def train(rate: float = 0.02, steps: int = 1000) -> tuple[list[object], list[float]]:
    step = value_and_grad(mlp_loss, wrt=PARAMETERS)
    W1, b1, W2, b2 = [list(r) for r in W1_START], list(B1_START), list(W2_START), B2_START
    losses = []
    for i in range(steps + 1):
        loss, (dW1, db1, dW2, db2) = step(W1, b1, W2, b2, DATA_X, DATA_Y)
        if i % 200 == 0:
            losses.append(loss)
            print(f"  step {i:5d}: loss {loss:.6f}")
        W1 = [[w - rate * g for w, g in zip(row, grow)] for row, grow in zip(W1, dW1)]
        b1 = [b - rate * g for b, g in zip(b1, db1)]
        W2 = [w - rate * g for w, g in zip(W2, dW2)]
        b2 -= rate * db2
    return [W1, b1, W2, b2], losses


def main() -> int:
    failures = check_gradient()
    print()
    print("Gradient descent on XOR:")
    params, losses = train()
    if not all(later < earlier for earlier, later in zip(losses, losses[1:])) or not losses[-1] < 0.05:
        print("training did not converge", file=sys.stderr)
        failures += 1
    right = 0
    for x, y in zip(DATA_X, DATA_Y):
        out = forward(*params, x)  # type: ignore[arg-type]
        right += (out > 0) == (y > 0)
        print(f"  x = {x}: network {out:+.4f}, target {y:+.1f}")
    print(f"final accuracy {right / len(DATA_X):.0%}")
    if right != len(DATA_X):
        failures += 1
    print()
    print("The generated gradient:")
    print()
    print(inspect.getsource(grad(mlp_loss, wrt=PARAMETERS)))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
