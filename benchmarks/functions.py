"""The benchmark functions, written as plain Python, and their hand-written gradients.

Each function is written the way a student would write it: scalars and
`math`, `for` loops over `range`, lists of floats, matrices as lists of rows.
Next to each one is a careful hand-written gradient: reverse mode worked out
on paper, local derivatives simplified, nothing computed twice. The
hand-written gradients are the truth every other gradient in the benchmark is
checked against, and `tests/test_benchmark_functions.py` checks them in turn
against central finite differences.

The gradient conventions follow s2s_ad's: one parameter gives a bare gradient
(a float, or a list for a list parameter), several give a tuple in parameter
order.
"""

from __future__ import annotations

import importlib.util
import math
import random
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

# -- the lecture examples ----------------------------------------------------


def nested(x, y, z):
    """z + sin(x**2 + y*exp(z)): the chain rule through a nested expression."""
    return z + math.sin(x**2 + y * math.exp(z))


def nested_grad(x: float, y: float, z: float) -> tuple[float, float, float]:
    """Hand-written gradient of `nested`."""
    ez = math.exp(z)
    c = math.cos(x * x + y * ez)
    yc = y * ez * c
    return 2.0 * x * c, ez * c, 1.0 + yc


def lecture(x, y, z):
    """(x + y) * max(y, z): the computational graph of the backpropagation lecture."""
    return (x + y) * max(y, z)


def lecture_grad(x: float, y: float, z: float) -> tuple[float, float, float]:
    """Hand-written gradient of `lecture` (at a tie y == z the gradient of max is split in half)."""
    s = x + y
    if y > z:
        return y, y + s, 0.0
    if z > y:
        return z, z, s
    return y, y + 0.5 * s, 0.5 * s


def rosenbrock(x, y):
    """The Rosenbrock function (1 - x)**2 + 100*(y - x**2)**2."""
    return (1 - x) ** 2 + 100 * (y - x**2) ** 2


def rosenbrock_grad(x: float, y: float) -> tuple[float, float]:
    """Hand-written gradient of `rosenbrock`."""
    r = 200.0 * (y - x * x)
    return 2.0 * (x - 1.0 - x * r), r


# -- loops over lists ----------------------------------------------------------


def logistic_loss(w, X, y):
    """Mean cross-entropy of logistic regression; `X` is a list of rows, `y` holds 0/1 labels."""
    total = 0.0
    for i in range(len(X)):
        z = 0.0
        for j in range(len(w)):
            z += w[j] * X[i][j]
        p = 1.0 / (1.0 + math.exp(-z))
        total -= y[i] * math.log(p) + (1.0 - y[i]) * math.log(1.0 - p)
    return total / len(X)


def logistic_loss_grad(w: list[float], X: list[list[float]], y: list[float]) -> list[float]:
    """Hand-written gradient of `logistic_loss` with respect to `w` (d loss/d z = p - y)."""
    n = len(X)
    d = len(w)
    g = [0.0] * d
    for i in range(n):
        row = X[i]
        z = 0.0
        for j in range(d):
            z += w[j] * row[j]
        r = (1.0 / (1.0 + math.exp(-z)) - y[i]) / n
        for j in range(d):
            g[j] += r * row[j]
    return g


def mlp_loss(W1, b1, w2, b2, X, y):
    """Mean squared error of a one-hidden-layer tanh network; `W1` is a list of rows."""
    total = 0.0
    for n in range(len(X)):
        out = b2
        for i in range(len(W1)):
            a = b1[i]
            for j in range(len(X[n])):
                a += W1[i][j] * X[n][j]
            out += w2[i] * math.tanh(a)
        diff = out - y[n]
        total += diff * diff
    return total / len(X)


def mlp_loss_grad(
    W1: list[list[float]], b1: list[float], w2: list[float], b2: float, X: list[list[float]], y: list[float]
) -> tuple[list[list[float]], list[float], list[float], float]:
    """Hand-written gradient of `mlp_loss` with respect to `W1`, `b1`, `w2`, `b2`."""
    hidden = len(W1)
    inputs = len(W1[0])
    gW1 = [[0.0] * inputs for _ in range(hidden)]
    gb1 = [0.0] * hidden
    gw2 = [0.0] * hidden
    gb2 = 0.0
    scale = 2.0 / len(X)
    for n in range(len(X)):
        x = X[n]
        h = [0.0] * hidden
        out = b2
        for i in range(hidden):
            row = W1[i]
            a = b1[i]
            for j in range(inputs):
                a += row[j] * x[j]
            h[i] = math.tanh(a)
            out += w2[i] * h[i]
        d_out = scale * (out - y[n])
        gb2 += d_out
        for i in range(hidden):
            gw2[i] += d_out * h[i]
            d_a = d_out * w2[i] * (1.0 - h[i] * h[i])
            gb1[i] += d_a
            grow = gW1[i]
            for j in range(inputs):
                grow[j] += d_a * x[j]
    return gW1, gb1, gw2, gb2


# -- the chain x = sin(x)*x + cos(x) --------------------------------------------

CHAIN_STEPS = 1000
LONG_STEPS = 100_000


def chain_loop(x):
    """x = sin(x)*x + cos(x), repeated 1,000 times in a loop."""
    for _ in range(1000):
        x = math.sin(x) * x + math.cos(x)
    return x


def chain_long(x):
    """x = sin(x)*x + cos(x), repeated 100,000 times in a loop (the memory benchmark)."""
    for _ in range(100000):
        x = math.sin(x) * x + math.cos(x)
    return x


def chain_grad(x: float, steps: int = CHAIN_STEPS) -> float:
    """Hand-written reverse-mode gradient of the chain: keep every x, then multiply d/dx = x*cos(x) backwards.

    The local derivative of sin(x)*x + cos(x) simplifies to x*cos(x). From
    x = 0.5 the chain converges to pi/2, where x*cos(x) is about 1e-16, so the
    gradient of the 1,000-step chain underflows to 0.0; short chains have a
    gradient of ordinary size (the tests use those).
    """
    xs = [0.0] * steps
    for k in range(steps):
        xs[k] = x
        x = math.sin(x) * x + math.cos(x)
    bar = 1.0
    for k in range(steps - 1, -1, -1):
        v = xs[k]
        bar *= v * math.cos(v)
    return bar


def chain_long_grad(x: float) -> float:
    """Hand-written gradient of `chain_long`."""
    return chain_grad(x, LONG_STEPS)


def chain_reference(x: float, steps: int) -> float:
    """The chain as a loop with its length as an argument (the truth for generated straight-line chains)."""
    for _ in range(steps):
        x = math.sin(x) * x + math.cos(x)
    return x


# -- straight-line source, generated into a module ------------------------------

_MODULE_DIR: tempfile.TemporaryDirectory[str] | None = None


def _module_dir() -> Path:
    global _MODULE_DIR
    if _MODULE_DIR is None:
        _MODULE_DIR = tempfile.TemporaryDirectory(prefix="s2s_ad_bench_")
    return Path(_MODULE_DIR.name)


def load_module_function(module_name: str, source: str, function_name: str) -> Callable[..., Any]:
    """Write `source` to a module file, import it and return `function_name` (inspect can find its source)."""
    path = _module_dir() / f"{module_name}.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location(module_name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    spec.loader.exec_module(module)
    return getattr(module, function_name)


def chain_source(steps: int, name: str = "chain_straight") -> str:
    """Source of the chain unrolled into `steps` straight-line statements (4 primitives each)."""
    lines = ["import math", "", "", f"def {name}(x):"]
    lines += ["    x = math.sin(x) * x + math.cos(x)"] * steps
    lines.append("    return x")
    return "\n".join(lines) + "\n"


def straight_chain(steps: int) -> Callable[[float], float]:
    """The chain unrolled into `steps` straight-line statements, imported from a generated module."""
    name = f"chain_straight_{steps}"
    return load_module_function(f"s2s_ad_bench_{name}", chain_source(steps, name), name)


_UNARY = ("math.sin", "math.cos", "math.tanh")
_BINARY = ("+", "-", "*")


def mixed_source(statements: int, seed: int = 0, name: str = "mixed") -> str:
    """Source of a straight-line function of three inputs: `statements` lines of two primitives each.

    Each line is `v = f(a) op b` with f drawn from sin, cos, tanh and op from
    +, -, * (seeded), over four carried variables, so values stay bounded and
    every line depends on earlier ones. The function returns a + b + c + d
    (three more primitives).
    """
    rng = random.Random(seed)
    names = ("a", "b", "c", "d")
    lines = ["import math", "", "", f"def {name}(a, b, c):", "    d = 0.5"]
    for _ in range(statements):
        target, first, second = rng.choice(names), rng.choice(names), rng.choice(names)
        lines.append(f"    {target} = {rng.choice(_UNARY)}({first}) {rng.choice(_BINARY)} {second}")
    lines.append("    return a + b + c + d")
    return "\n".join(lines) + "\n"


def straight_mixed(statements: int, seed: int = 0) -> Callable[[float, float, float], float]:
    """The seeded straight-line mix of `mixed_source`, imported from a generated module."""
    name = f"mixed_{statements}_{seed}"
    return load_module_function(f"s2s_ad_bench_{name}", mixed_source(statements, seed, name), name)


# -- data ---------------------------------------------------------------------------


def logistic_data(samples: int = 50, features: int = 10, seed: int = 0) -> tuple[list[float], list[list[float]], list[float]]:
    """Seeded weights, rows and 0/1 labels for `logistic_loss`."""
    rng = random.Random(seed)
    w = [rng.gauss(0.0, 0.5) for _ in range(features)]
    X = [[rng.gauss(0.0, 1.0) for _ in range(features)] for _ in range(samples)]
    y = [float(rng.random() < 0.5) for _ in range(samples)]
    return w, X, y


def mlp_data(samples: int = 16, inputs: int = 4, hidden: int = 8, seed: int = 1) -> tuple[Any, ...]:
    """Seeded parameters `W1, b1, w2, b2` and data `X, y` for `mlp_loss`."""
    rng = random.Random(seed)
    W1 = [[rng.gauss(0.0, 0.5) for _ in range(inputs)] for _ in range(hidden)]
    b1 = [rng.gauss(0.0, 0.1) for _ in range(hidden)]
    w2 = [rng.gauss(0.0, 0.5) for _ in range(hidden)]
    b2 = rng.gauss(0.0, 0.1)
    X = [[rng.gauss(0.0, 1.0) for _ in range(inputs)] for _ in range(samples)]
    y = [rng.gauss(0.0, 1.0) for _ in range(samples)]
    return W1, b1, w2, b2, X, y
