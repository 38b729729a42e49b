"""A piecewise function: the Huber loss, and a robust straight-line fit trained with its gradient.

huber(r, delta) is r**2 / 2 for |r| <= delta and delta * (|r| - delta / 2)
beyond: quadratic near zero, linear in the tails, with a continuous first
derivative. The generated gradient takes the branch the forward sweep took.
The fit below sums the Huber loss of the residuals of a line over data with
one gross outlier, calling `huber` (a helper the gradient inlines) from a
loop over zip(xs, ys). This script

1. compares the generated derivatives of `huber` with the closed form
   (r on the quadratic piece, delta * sign(r) on the linear one, and
   |r| - delta beyond, with respect to delta) and with finite differences,
2. fits the line by gradient descent and shows that the outlier moves it
   only a little, unlike least squares.

    python examples/huber.py

exits with status 1 on a disagreement, or if the fit does not converge near the line.
"""

from __future__ import annotations

import inspect
import math
import sys

from s2s_ad import grad, value_and_grad

# Points on y = 2 x + 1, and one gross outlier.
XS = [0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0]
YS = [1.0, 3.0, 5.0, 7.0, 9.0, 11.0, 13.0, -20.0]


def huber(r: float, delta: float) -> float:
    """The Huber loss of a residual r."""
    if abs(r) <= delta:
        return 0.5 * r * r
    else:
        return delta * (abs(r) - 0.5 * delta)


def huber_fit(a: float, b: float, xs: list[float], ys: list[float]) -> float:
    """The total Huber loss (delta = 1) of the line y = a x + b over the data."""
    total = 0.0
    for x, y in zip(xs, ys):
        total += huber(a * x + b - y, 1.0)
    return total


GOLDEN = (huber, huber_fit)
GOLDEN_POINTS = {"huber": (0.3, 1.0), "huber_fit": (1.5, 0.5, XS, YS)}


def closed_form(r: float, delta: float) -> tuple[float, float]:
    if abs(r) <= delta:
        return r, 0.0
    return delta * math.copysign(1.0, r), abs(r) - delta


def check_huber() -> int:
    derivative = grad(huber)
    failures = 0
    for r, delta in ((0.3, 1.0), (-0.7, 1.0), (2.5, 1.0), (-4.0, 1.5), (0.2, 0.1)):
        got = derivative(r, delta)
        h = 1e-6
        numeric = ((huber(r + h, delta) - huber(r - h, delta)) / (2 * h),
                   (huber(r, delta + h) - huber(r, delta - h)) / (2 * h))
        expected = closed_form(r, delta)
        ok = all(math.isclose(g, e, rel_tol=1e-12, abs_tol=1e-12) for g, e in zip(got, expected)) and \
            all(math.isclose(g, n, rel_tol=1e-6, abs_tol=1e-8) for g, n in zip(got, numeric))
        failures += not ok
        print(f"huber({r:+.1f}, {delta}): generated ({got[0]:+.6f}, {got[1]:+.6f}), closed form "
              f"({expected[0]:+.6f}, {expected[1]:+.6f}) {'ok' if ok else 'MISMATCH'}")
    return failures


def fit(rate: float = 0.01, steps: int = 4000) -> tuple[float, float]:
    step = value_and_grad(huber_fit, wrt=("a", "b"))
    a, b = 0.0, 0.0
    for i in range(steps + 1):
        loss, (da, db) = step(a, b, XS, YS)
        if i % 1000 == 0:
            print(f"  step {i:5d}: line y = {a:+.4f} x {b:+.4f}, Huber loss {loss:.4f}")
        a, b = a - rate * da, b - rate * db
    return a, b


def least_squares() -> tuple[float, float]:
    n = len(XS)
    mx, my = sum(XS) / n, sum(YS) / n
    a = sum((x - mx) * (y - my) for x, y in zip(XS, YS)) / sum((x - mx) ** 2 for x in XS)
    return a, my - a * mx


def main() -> int:
    failures = check_huber()
    gradient = grad(huber_fit, wrt=("a", "b"))
    for a, b in ((1.5, 0.5), (2.0, 1.3)):
        got = gradient(a, b, XS, YS)
        h = 1e-6
        numeric = ((huber_fit(a + h, b, XS, YS) - huber_fit(a - h, b, XS, YS)) / (2 * h),
                   (huber_fit(a, b + h, XS, YS) - huber_fit(a, b - h, XS, YS)) / (2 * h))
        ok = all(math.isclose(g, n, rel_tol=1e-6, abs_tol=1e-8) for g, n in zip(got, numeric))
        failures += not ok
        print(f"huber_fit at ({a}, {b}): generated ({got[0]:+.6f}, {got[1]:+.6f}), finite differences "
              f"({numeric[0]:+.6f}, {numeric[1]:+.6f}) {'ok' if ok else 'MISMATCH'}")
    print()
    print("Gradient descent on the Huber loss:")
    a, b = fit()
    la, lb = least_squares()
    print(f"Huber fit: y = {a:.4f} x + {b:.4f}; least squares: y = {la:.4f} x + {lb:.4f}; truth: y = 2 x + 1")
    # The outlier still pulls with a constant force delta, so the Huber fit sits near, not on, the line.
    da, db = gradient(a, b, XS, YS)
    if not (abs(da) < 1e-6 and abs(db) < 1e-6):
        print("gradient descent did not converge", file=sys.stderr)
        failures += 1
    if not (abs(a - 2.0) < 0.2 and abs(b - 1.0) < 0.5 and abs(a - 2.0) < abs(la - 2.0)):
        print("the Huber fit did not find the line", file=sys.stderr)
        failures += 1
    print()
    print("The generated gradient of huber:")
    print()
    print(inspect.getsource(grad(huber)))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
