"""Differentiating through a `while` loop: Newton's method for the square root.

`newton_sqrt(a)` iterates x <- (x + a / x) / 2 until x * x is within a
relative tolerance of a. The number of iterations depends on the data, so
the generated gradient records each iteration's iterate on its tape and
replays the loop backwards as many times as it ran forwards.

The derivative of the converged iterate: each Newton step maps the previous
iterate's derivative d_k to d_{k+1} = (1 - a / x_k**2) d_k / 2 + 1 / (2 x_k).
Near the root the factor (1 - a / x**2) / 2 vanishes, so the derivative of
the iterate converges (quadratically, like the iterate) to 1 / (2 sqrt(a)),
the derivative of the true square root. The script checks the generated
derivative against that closed form and against central finite differences.

    python examples/newton_sqrt.py

exits with status 1 on a disagreement.
"""

from __future__ import annotations

import inspect
import math
import sys

from s2s_ad import grad

TOLERANCE = 1e-12


def newton_sqrt(a: float) -> float:
    """The square root of a > 0 by Newton's method, starting from x = a (or 1 when a < 1)."""
    x = a if a > 1.0 else 1.0
    while abs(x * x - a) > TOLERANCE * a:
        x = 0.5 * (x + a / x)
    return x


def scaled_root(a: float, c: float) -> float:
    """c * sqrt(a) + a: the iterate mixed with the inputs afterwards."""
    return c * newton_sqrt(a) + a


GOLDEN = (newton_sqrt, scaled_root)
GOLDEN_POINTS = {"newton_sqrt": (2.0,), "scaled_root": (7.0, 1.5)}


def iterations(a: float) -> int:
    x, n = (a if a > 1.0 else 1.0), 0
    while abs(x * x - a) > TOLERANCE * a:
        x, n = 0.5 * (x + a / x), n + 1
    return n


def main() -> int:
    derivative = grad(newton_sqrt)
    failures = 0
    for a in (0.3, 2.0, 10.0, 1234.5):
        got = derivative(a)
        closed = 1 / (2 * math.sqrt(a))
        h = 1e-6 * a
        numeric = (newton_sqrt(a + h) - newton_sqrt(a - h)) / (2 * h)
        ok = math.isclose(got, closed, rel_tol=1e-8) and math.isclose(got, numeric, rel_tol=1e-5)
        failures += not ok
        print(f"a = {a:8.2f} ({iterations(a):2d} Newton steps): d sqrt/da generated {got:.12f}, "
              f"1/(2 sqrt a) {closed:.12f}, finite differences {numeric:.12f} {'ok' if ok else 'MISMATCH'}")
    both = grad(scaled_root)
    da, dc = both(7.0, 1.5)
    expected = (1.5 / (2 * math.sqrt(7.0)) + 1.0, math.sqrt(7.0))
    ok = math.isclose(da, expected[0], rel_tol=1e-8) and math.isclose(dc, expected[1], rel_tol=1e-8)
    failures += not ok
    print(f"c sqrt(a) + a at (7, 1.5): generated ({da:.12f}, {dc:.12f}), closed form "
          f"({expected[0]:.12f}, {expected[1]:.12f}) {'ok' if ok else 'MISMATCH'}")
    print()
    print("The generated gradient:")
    print()
    print(inspect.getsource(derivative))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
