"""The worked examples of backpropagation courses, differentiated by s2s_ad.

Each function below is a classic from lecture notes on backprop (the circuit
`(x + y) * max(y, z)`, `e = (a + b) * (b + 1)`, Rosenbrock, ...). The script
prints the gradient s2s_ad's generated code computes beside the textbook
value, which is evaluated here from the closed-form derivative, then shows
the generated code of one example.

    python examples/backprop_lecture.py

exits with status 1 if any gradient disagrees with its textbook value.
"""

from __future__ import annotations

import inspect
import math
import sys
from collections.abc import Callable
from dataclasses import dataclass

from s2s_ad import grad


def circuit(x: float, y: float, z: float) -> float:
    """The gate circuit of CS231n's backprop notes: an add gate, a max gate, a multiply gate."""
    return (x + y) * max(y, z)


def sums_product(a: float, b: float) -> float:
    """Colah's computational graph: c = a + b, d = b + 1, e = c * d."""
    c = a + b
    d = b + 1
    e = c * d
    return e


def chain(x: float, y: float, z: float) -> float:
    """A nested chain rule: the derivative reaches x through sin and a square."""
    return z + math.sin(x**2 + y * math.exp(z))


def quartic(x: float) -> float:
    """The chain rule exercise (x**2 + 3)**4."""
    return (x**2 + 3) ** 4


def exp_sin_square(x: float) -> float:
    """Three nested functions: exp(sin(x**2))."""
    return math.exp(math.sin(x**2))


def three_inputs(x1: float, x2: float, x3: float) -> float:
    """A product of inputs and a cosine: x1**2 * x2 + cos(x3)."""
    return x1**2 * x2 + math.cos(x3)


def cube_then_square(x: float) -> float:
    """An intermediate variable: z = x**3, then z**2."""
    z = x**3
    return z**2


def rosenbrock(x: float, y: float) -> float:
    """Rosenbrock's banana function, the standard test of optimisers."""
    return (1 - x) ** 2 + 100 * (y - x**2) ** 2


# Functions whose generated code is kept as golden files (tests/test_golden.py).
GOLDEN = (circuit, sums_product, chain, quartic, exp_sin_square, three_inputs, cube_then_square, rosenbrock)


@dataclass(frozen=True)
class Example:
    """A function, a point, and the textbook gradient as a closed form."""

    title: str
    function: Callable[..., float]
    point: tuple[float, ...]
    textbook: Callable[..., tuple[float, ...]]


def _circuit_gradient(x: float, y: float, z: float) -> tuple[float, ...]:
    # The max gate routes the gradient to its larger input.
    return (max(y, z), max(y, z) + (x + y) * (y > z), (x + y) * (z > y))


def _chain_gradient(x: float, y: float, z: float) -> tuple[float, ...]:
    inner = math.cos(x**2 + y * math.exp(z))
    return (2 * x * inner, math.exp(z) * inner, 1 + y * math.exp(z) * inner)


EXAMPLES = (
    Example("(x + y) * max(y, z)", circuit, (1.0, 2.0, 0.0), _circuit_gradient),
    Example("e = (a + b) * (b + 1)", sums_product, (2.0, 1.0), lambda a, b: (b + 1, a + 2 * b + 1)),
    Example("z + sin(x**2 + y*exp(z))", chain, (0.5, 1.5, -0.3), _chain_gradient),
    Example("(x**2 + 3)**4", quartic, (1.5,), lambda x: (8 * x * (x**2 + 3) ** 3,)),
    Example("exp(sin(x**2))", exp_sin_square, (0.8,), lambda x: (math.exp(math.sin(x**2)) * math.cos(x**2) * 2 * x,)),
    Example("x1**2 * x2 + cos(x3)", three_inputs, (1.5, -2.0, 0.7),
            lambda x1, x2, x3: (2 * x1 * x2, x1**2, -math.sin(x3))),
    Example("z = x**3; z**2", cube_then_square, (2.0,), lambda x: (6 * x**5,)),
    Example("(1-x)**2 + 100*(y-x**2)**2", rosenbrock, (-1.2, 1.0),
            lambda x, y: (-400 * x * y + 400 * x**3 + 2 * x - 2, 200 * y - 200 * x**2)),
)


def gradient_tuple(example: Example) -> tuple[float, ...]:
    """The generated gradient, as a tuple even for one-parameter functions."""
    got = grad(example.function)(*example.point)
    return got if isinstance(got, tuple) else (got,)


def agrees(got: tuple[float, ...], expected: tuple[float, ...]) -> bool:
    return len(got) == len(expected) and all(
        math.isclose(g, e, rel_tol=1e-12, abs_tol=1e-12) for g, e in zip(got, expected)
    )


def _show(values: tuple[float, ...]) -> str:
    return "(" + ", ".join(f"{v:.6g}" for v in values) + ")"


def main() -> int:
    """Print every example beside its textbook gradient; 0 if all agree, 1 otherwise."""
    failures = 0
    print(f"{'function':<30} {'at':<20} {'s2s_ad':<36} {'textbook':<36}")
    for example in EXAMPLES:
        got = gradient_tuple(example)
        expected = tuple(float(v) for v in example.textbook(*example.point))
        ok = agrees(got, expected)
        failures += not ok
        print(f"{example.title:<30} {_show(example.point):<20} {_show(got):<36} {_show(expected):<36} "
              f"{'ok' if ok else 'MISMATCH'}")
    print()
    print("The generated code for (x + y) * max(y, z):")
    print()
    print(inspect.getsource(grad(circuit)))
    if failures:
        print(f"{failures} gradient(s) disagree with the textbook", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
