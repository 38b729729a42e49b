"""The numba backend against the default one and against `jax.jit(jax.grad)`, on loops, in one process.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/bench_numba.py [--quick] [--out benchmarks/results_numba.md]

For each loop example, the same gradient three ways: the code s2s_ad generates
run by CPython (`grad(f)`), the same code compiled by numba
(`grad(f, backend="numba")`, called as users call it: with the lists the
function takes), and `jax.jit(jax.grad(g))` of the same loop written with
`jax.lax.fori_loop` (float64, so that the three compute the same numbers; left
out if JAX is not installed). Every gradient is checked against the CPython one
before it is timed.

Per-call times are medians of CPU time per call over interleaved rounds
(each round calls every contender, calls per round calibrated to a fixed
round length; gc off while timing). One-off costs are reported apart and not
counted per call: the transform (`grad(...)`), numba's compile (its first
call), JAX's trace and compile (its first call). The report is printed as
markdown and written to `--out`.
"""

from __future__ import annotations

import argparse
import gc
import importlib.metadata
import math
import platform
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(1, str(HERE.parent))

import functions as F  # noqa: E402

from s2s_ad import grad  # noqa: E402

CLOCK = time.process_time  # CPU time of this process: on a shared machine, wall time also counts waiting for a CPU

EULER_STEPS = 100_000


def euler(k, x0, v0):
    """Energy x**2 + v**2 after 100,000 explicit Euler steps of the oscillator x'' = -k x."""
    x = x0
    v = v0
    dt = 0.001
    for _ in range(100000):
        a = -k * x
        x = x + dt * v
        v = v + dt * a
    return x * x + v * v


# -- the same loops for JAX, with fori_loop -----------------------------------------------------------


def jax_versions() -> dict[str, tuple[Callable[..., Any], tuple[int, ...]]] | None:
    """Each example written with `jax.lax.fori_loop`, and the arguments its gradient is taken for; None
    without JAX."""
    try:
        import jax
    except ImportError:
        return None
    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp
    from jax import lax

    def chain(x):
        return lax.fori_loop(0, F.CHAIN_STEPS, lambda i, x: jnp.sin(x) * x + jnp.cos(x), x)

    def euler_jax(k, x0, v0):
        def step(i, state):
            x, v = state
            a = -k * x
            return x + 0.001 * v, v + 0.001 * a

        x, v = lax.fori_loop(0, EULER_STEPS, step, (x0, v0))
        return x * x + v * v

    def logistic(w, X, y):
        n, d = X.shape

        def sample(i, total):
            z = lax.fori_loop(0, d, lambda j, z: z + w[j] * X[i, j], 0.0)
            p = 1.0 / (1.0 + jnp.exp(-z))
            return total - (y[i] * jnp.log(p) + (1.0 - y[i]) * jnp.log(1.0 - p))

        return lax.fori_loop(0, n, sample, 0.0) / n

    def mlp(W1, b1, w2, b2, X, y):
        hidden, inputs = W1.shape

        def sample(n, total):
            def unit(i, out):
                a = lax.fori_loop(0, inputs, lambda j, a: a + W1[i, j] * X[n, j], b1[i])
                return out + w2[i] * jnp.tanh(a)

            diff = lax.fori_loop(0, hidden, unit, b2) - y[n]
            return total + diff * diff

        return lax.fori_loop(0, X.shape[0], sample, 0.0) / X.shape[0]

    return {"chain": (chain, (0,)), "euler": (euler_jax, (0, 1, 2)), "logistic": (logistic, (0,)), "mlp": (mlp, (0, 1, 2, 3))}


# -- the cases ------------------------------------------------------------------------------------------


@dataclass
class Case:
    name: str
    what: str
    f: Callable[..., Any]
    wrt: Any
    args: tuple[Any, ...]
    per_call: dict[str, float] = field(default_factory=dict)
    once: dict[str, float] = field(default_factory=dict)


def cases() -> list[Case]:
    w, X, y = F.logistic_data(samples=50, features=10)
    return [
        Case("chain", "x = sin(x)*x + cos(x), 1,000 steps", F.chain_loop, None, (0.5,)),
        Case("euler", "100,000 Euler steps of an oscillator", euler, None, (1.3, 1.0, 0.0)),
        Case("logistic", "logistic regression, 50 x 10, loops over lists", F.logistic_loss, "w", (w, X, y)),
        Case("mlp", "MLP 4-8-1, 16 samples, loops over lists", F.mlp_loss, ("W1", "b1", "w2", "b2"), F.mlp_data()),
    ]


def flat(value: Any) -> list[float]:
    if isinstance(value, (list, tuple)):
        return [x for item in value for x in flat(item)]
    if hasattr(value, "tolist"):
        return flat(value.tolist())
    return [float(value)]


def agree(got: Any, expected: Any, what: str) -> None:
    a, b = flat(got), flat(expected)
    if len(a) != len(b) or any(not math.isclose(x, y, rel_tol=1e-9, abs_tol=1e-12) for x, y in zip(a, b)):
        raise SystemExit(f"{what}: the gradient disagrees with the CPython one")


def timed_once(call: Callable[[], Any]) -> tuple[Any, float]:
    start = time.perf_counter()
    result = call()
    return result, time.perf_counter() - start


def contenders(case: Case, jax_loops: dict[str, Any] | None) -> dict[str, Callable[[], Any]]:
    """Each contender as a call without arguments, built, compiled and checked; one-off costs in `case.once`."""
    python, case.once["transform (python)"] = timed_once(lambda: grad(case.f, wrt=case.wrt))
    expected = python(*case.args)
    jitted, case.once["transform (numba)"] = timed_once(lambda: grad(case.f, wrt=case.wrt, backend="numba"))
    got, case.once["numba compile (first call)"] = timed_once(lambda: jitted(*case.args))
    agree(got, expected, f"{case.name} numba")
    found = {"python": lambda: python(*case.args), "numba": lambda: jitted(*case.args)}
    if any(isinstance(a, list) for a in case.args):  # the same, given the lists as NumPy arrays: no conversion per call
        import numpy

        arrays = tuple(numpy.array(a, dtype=numpy.float64) if isinstance(a, list) else a for a in case.args)
        agree(jitted(*arrays), expected, f"{case.name} numba on arrays")
        found["numba (arrays)"] = lambda: jitted(*arrays)
    if jax_loops is not None:
        import jax
        import jax.numpy as jnp

        g, argnums = jax_loops[case.name]
        jax_args = tuple(jnp.asarray(a, dtype=jnp.float64) for a in case.args)
        gradient = jax.jit(jax.grad(g, argnums=argnums if len(argnums) > 1 else argnums[0]))
        got, case.once["jax trace + compile (first call)"] = timed_once(lambda: jax.block_until_ready(gradient(*jax_args)))
        agree(got, expected, f"{case.name} jax")
        found["jax.jit"] = lambda: jax.block_until_ready(gradient(*jax_args))
    return found


def measure(calls: dict[str, Callable[[], Any]], rounds: int, round_seconds: float) -> dict[str, float]:
    """Median CPU time per call of each contender over interleaved rounds."""
    counts = {}
    for name, call in calls.items():  # calibrate: calls per round so that one round takes about `round_seconds`
        n = 1
        while True:
            start = CLOCK()
            for _ in range(n):
                call()
            spent = CLOCK() - start
            if spent >= round_seconds / 4 or n >= 1 << 20:
                break
            n *= 2
        counts[name] = max(1, int(n * round_seconds / max(spent, 1e-9)))
    samples: dict[str, list[float]] = {name: [] for name in calls}
    names = list(calls)
    gc.disable()
    try:
        for r in range(rounds):
            for name in names[r % len(names) :] + names[: r % len(names)]:
                call, n = calls[name], counts[name]
                start = CLOCK()
                for _ in range(n):
                    call()
                samples[name].append((CLOCK() - start) / n)
    finally:
        gc.enable()
    return {name: statistics.median(times) for name, times in samples.items()}


def shown(seconds: float) -> str:
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6)):
        if seconds >= scale:
            return f"{seconds / scale:.3g} {unit}"
    return f"{seconds / 1e-9:.3g} ns"


def version(package: str) -> str:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def report(done: list[Case], quick: bool, has_jax: bool) -> str:
    lines = [
        "# s2s_ad numba backend: benchmark results",
        "",
        f"Mode: {'quick' if quick else 'full'}; machine: {platform.processor() or platform.machine()}; Python "
        f"{platform.python_version()} ({platform.system()}); numba {version('numba')}, jax {version('jax')}, "
        f"numpy {version('numpy')}.",
        "",
        "Command: `env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/bench_numba.py`.",
        "",
        "## Per call",
        "",
        "Median CPU time per call over interleaved rounds; one-off costs below, not counted here. `python`: the "
        'generated gradient run by CPython; `numba`: `grad(f, backend="numba")`, the same code compiled by numba, '
        "called with the lists the function takes (converted to NumPy arrays on each call); `jax.jit`: "
        "`jax.jit(jax.grad(g))` of the same loop written with `jax.lax.fori_loop`, in float64, on JAX arrays.",
        "",
    ]
    columns = ["python", "numba", "numba (arrays)"] + (["jax.jit"] if has_jax else [])
    ratios = ["python / numba", "python / numba (arrays)"] + (["jax.jit / numba", "jax.jit / numba (arrays)"] if has_jax else [])
    lines += ["| example | " + " | ".join(columns + ratios) + " |", "| --- " * (len(columns) + len(ratios) + 1) + "|"]
    for case in done:
        t = {"numba (arrays)": case.per_call["numba"], **case.per_call}  # numbers only: the same call
        row = [case.name, *(shown(t[c]) for c in columns)]
        row += [f"{t[top] / t[bottom]:.1f}x" for top, bottom in (r.split(" / ") for r in ratios)]
        lines.append("| " + " | ".join(row) + " |")
    lines += [
        "",
        "`numba (arrays)`: the same numba gradient given the lists as NumPy arrays (for the examples taking numbers, "
        "the `numba` call itself). Given lists, each call first converts them to arrays: for the 50 x 10 list of "
        "lists that is most of the call.",
    ]
    lines += ["", "## One-off costs (wall time)", ""]
    keys = list(dict.fromkeys(k for case in done for k in case.once))
    lines += ["| example | " + " | ".join(keys) + " |", "| --- " * (len(keys) + 1) + "|"]
    for case in done:
        lines.append("| " + " | ".join([case.name, *(shown(case.once[k]) if k in case.once else "-" for k in keys)]) + " |")
    lines += ["", "## The examples", ""]
    lines += [f"- `{case.name}`: {case.what}" for case in done]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer, shorter rounds")
    parser.add_argument("--out", default=str(HERE / "results_numba.md"), help="where to write the markdown report")
    args = parser.parse_args(argv)
    rounds, round_seconds = (5, 0.05) if args.quick else (15, 0.2)
    jax_loops = jax_versions()
    grad(F.rosenbrock)(1.0, 2.0)  # the stages and numba imported before anything is timed
    grad(F.rosenbrock, backend="numba")
    done = []
    for case in cases():
        calls = contenders(case, jax_loops)
        case.per_call = measure(calls, rounds, round_seconds)
        done.append(case)
        print(f"{case.name}: " + ", ".join(f"{k} {shown(v)}" for k, v in case.per_call.items()), file=sys.stderr)
    text = report(done, args.quick, jax_loops is not None)
    print(text)
    Path(args.out).write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
