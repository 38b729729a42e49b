"""Rosenbrock's function in two and four variables: generated gradients, checked and used.

The banana-shaped valley of `(1 - x)**2 + 100 * (y - x**2)**2` is the classic
test of optimisers; its minimum is at (1, 1, ...). This script

1. compares the generated gradients with the closed forms at a few points,
2. runs plain gradient descent from the classic start (-1.2, 1) with
   `value_and_grad`, which gives the value and the gradient in one call,
3. prints the generated code of the two-variable gradient.

    python examples/rosenbrock.py

exits with status 1 if a gradient disagrees with its closed form or the
descent does not approach the minimum.
"""

from __future__ import annotations

import inspect
import math
import sys

from s2s_ad import grad, value_and_grad

A = 1.0  # the minimum is at (A, A**2)
B = 100.0  # the steepness of the valley's walls


def rosenbrock(x: float, y: float) -> float:
    """Rosenbrock's function with the usual constants a = 1, b = 100."""
    return (A - x) ** 2 + B * (y - x**2) ** 2


def rosenbrock4(x1: float, x2: float, x3: float, x4: float) -> float:
    """The extended Rosenbrock function in four variables: one valley per consecutive pair."""
    first = B * (x2 - x1**2) ** 2 + (1 - x1) ** 2
    second = B * (x3 - x2**2) ** 2 + (1 - x2) ** 2
    third = B * (x4 - x3**2) ** 2 + (1 - x3) ** 2
    return first + second + third


# Functions whose generated code is kept as golden files (tests/test_golden.py).
GOLDEN = (rosenbrock, rosenbrock4)


def rosenbrock_gradient(x: float, y: float) -> tuple[float, float]:
    """The closed form: (-2 (a - x) - 4 b x (y - x**2), 2 b (y - x**2))."""
    return (-2 * (A - x) - 4 * B * x * (y - x**2), 2 * B * (y - x**2))


def rosenbrock4_gradient(*xs: float) -> tuple[float, ...]:
    """The closed form of the extended function, term by term."""
    n = len(xs)
    result = []
    for i, x in enumerate(xs):
        d = 0.0
        if i < n - 1:
            d += -4 * B * x * (xs[i + 1] - x**2) - 2 * (1 - x)
        if i > 0:
            d += 2 * B * (x - xs[i - 1] ** 2)
        result.append(d)
    return tuple(result)


def agrees(got: tuple[float, ...], expected: tuple[float, ...]) -> bool:
    return len(got) == len(expected) and all(math.isclose(g, e, rel_tol=1e-12, abs_tol=1e-9)
                                             for g, e in zip(got, expected))


def check_gradients() -> int:
    """Print generated and closed-form gradients side by side; the number of disagreements."""
    failures = 0
    cases = [
        (rosenbrock, rosenbrock_gradient, (-1.2, 1.0)),
        (rosenbrock, rosenbrock_gradient, (1.0, 1.0)),
        (rosenbrock, rosenbrock_gradient, (0.5, -0.3)),
        (rosenbrock4, rosenbrock4_gradient, (-1.2, 1.0, -1.2, 1.0)),
        (rosenbrock4, rosenbrock4_gradient, (1.0, 1.0, 1.0, 1.0)),
        (rosenbrock4, rosenbrock4_gradient, (0.3, -0.7, 1.1, 2.0)),
    ]
    for function, closed_form, point in cases:
        got = grad(function)(*point)
        expected = closed_form(*point)
        ok = agrees(got, expected)
        failures += not ok
        print(f"{function.__name__}{point}: generated {tuple(round(g, 6) for g in got)}, "
              f"closed form {tuple(round(e, 6) for e in expected)} {'ok' if ok else 'MISMATCH'}")
    return failures


def descend(start: tuple[float, float], rate: float = 1e-3, steps: int = 20000) -> tuple[float, float, float]:
    """Plain gradient descent with the generated `value_and_grad`; the last point and value."""
    step = value_and_grad(rosenbrock)
    x, y = start
    value = rosenbrock(x, y)
    for i in range(steps):
        value, (dx, dy) = step(x, y)
        if i % (steps // 5) == 0:
            print(f"  step {i:6d}: f({x:+.6f}, {y:+.6f}) = {value:.3e}")
        x, y = x - rate * dx, y - rate * dy
    value = rosenbrock(x, y)
    print(f"  step {steps:6d}: f({x:+.6f}, {y:+.6f}) = {value:.3e}")
    return x, y, value


def main() -> int:
    failures = check_gradients()
    print()
    print("Gradient descent from (-1.2, 1):")
    x, y, value = descend((-1.2, 1.0))
    if not (value < 1e-3 and abs(x - A) < 0.1 and abs(y - A**2) < 0.1):
        print("gradient descent did not approach the minimum (1, 1)", file=sys.stderr)
        failures += 1
    print()
    print("The generated gradient:")
    print()
    print(inspect.getsource(grad(rosenbrock)))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
