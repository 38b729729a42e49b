"""Benchmark s2s_ad against a hand-written gradient and its peers, in one process.

    python benchmarks/bench.py [--quick] [--out benchmarks/results.md] [--plot benchmarks/bench.png]

Per call, on the same functions and the same arguments, interleaved
round-robin: the plain function, a hand-written gradient, s2s_ad's generated
gradient, autograd, jax.grad, jax.jit(jax.grad) (compile time shown
separately) and SymPy's lambdified derivative (derivation time shown
separately, under a time limit). Every gradient is checked against the
hand-written one before it is timed. Then: transform time against the size of
a straight-line function (per stage), SymPy's derivation time on the
x = sin(x)*x + cos(x) family, tape entries and peak memory of loops, and the
cost of the callable `grad` returns against the generated function itself.

A peer that is not installed is reported as missing; the rest still runs.
The report is printed as markdown and written to `--out`; the plot to `--plot`.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import importlib.metadata
import inspect
import io
import math
import os
import platform
import pstats
import signal
import statistics
import sys
import time
import timeit
import tracemalloc
import types
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(1, str(HERE.parent))

import functions as F  # noqa: E402

from s2s_ad import ad, api, codegen, frontend, grad, ir, lower, optimize  # noqa: E402

CONTENDERS = ("f", "hand", "s2s_ad", "autograd", "jax", "jax.jit", "sympy")

# Per-call times and stage times are CPU time of this process: on a shared machine with more runnable
# processes than CPUs, wall time also counts the time spent waiting for a CPU. One-off costs are wall time.
CLOCK = time.process_time


# -- peers: imported if present --------------------------------------------------


@dataclass
class Peers:
    """The optional peer libraries: a module, or the reason it is missing."""

    modules: dict[str, Any] = field(default_factory=dict)
    missing: dict[str, str] = field(default_factory=dict)

    def get(self, name: str) -> Any:
        return self.modules.get(name)


def import_peers() -> Peers:
    """Import autograd, jax (64-bit floats), sympy and matplotlib where installed."""
    peers = Peers()
    try:
        import autograd
        import autograd.numpy as anp

        peers.modules["autograd"] = autograd
        peers.modules["autograd.numpy"] = anp
    except Exception as error:  # noqa: BLE001 - any import failure means the peer is missing
        peers.missing["autograd"] = _describe(error)
    try:
        import jax

        jax.config.update("jax_enable_x64", True)
        jax.config.update("jax_platforms", "cpu")
        import jax.numpy as jnp

        peers.modules["jax"] = jax
        peers.modules["jax.numpy"] = jnp
    except Exception as error:  # noqa: BLE001
        peers.missing["jax"] = _describe(error)
    try:
        import sympy

        peers.modules["sympy"] = sympy
    except Exception as error:  # noqa: BLE001
        peers.missing["sympy"] = _describe(error)
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        peers.modules["matplotlib.pyplot"] = plt
    except Exception as error:  # noqa: BLE001
        peers.missing["matplotlib"] = _describe(error)
    return peers


def _describe(error: BaseException) -> str:
    lines = str(error).strip().splitlines()
    return f"{type(error).__name__}: {lines[0] if lines else ''}".rstrip(": ")


def rebind(f: Callable[..., Any], names: dict[str, Any]) -> Callable[..., Any]:
    """`f` with some of its global names (`math`, `max`) bound to other objects: the same code, another library."""
    glob = {**f.__globals__, **names}
    return types.FunctionType(f.__code__, glob, f.__name__, f.__defaults__, f.__closure__)


def numpy_like(np: Any) -> dict[str, Any]:
    """Globals that make a `math`-based function run on a numpy-like module (autograd.numpy, jax.numpy)."""
    shim = types.SimpleNamespace(
        sin=np.sin, cos=np.cos, tan=np.tan, exp=np.exp, log=np.log, tanh=np.tanh, sqrt=np.sqrt, pi=math.pi
    )
    return {"math": shim, "max": np.maximum, "min": np.minimum, "abs": np.abs}


# -- the cases ---------------------------------------------------------------------


@dataclass
class Case:
    """One benchmark function: its arguments, which of them to differentiate, its hand-written gradient."""

    name: str
    description: str
    f: Callable[..., Any]
    hand: Callable[..., Any]
    args: tuple[Any, ...]
    wrt: int | tuple[int, ...]
    loops: bool = False
    heavy: bool = False  # skipped in --quick mode

    @property
    def wrt_indices(self) -> tuple[int, ...]:
        return (self.wrt,) if isinstance(self.wrt, int) else self.wrt


def make_cases() -> list[Case]:
    w, X, y = F.logistic_data()
    mlp_args = F.mlp_data()
    return [
        Case("nested", "z + sin(x**2 + y*exp(z))", F.nested, F.nested_grad, (2.0, 1.5, 0.5), (0, 1, 2)),
        Case("lecture", "(x + y) * max(y, z)", F.lecture, F.lecture_grad, (1.0, 2.0, 0.5), (0, 1, 2)),
        Case("rosenbrock", "(1 - x)**2 + 100*(y - x**2)**2", F.rosenbrock, F.rosenbrock_grad, (-1.2, 1.0), (0, 1)),
        Case(
            "logistic",
            "logistic loss, loops, 50 samples x 10 features",
            F.logistic_loss,
            F.logistic_loss_grad,
            (w, X, y),
            0,
            loops=True,
        ),
        Case(
            "mlp",
            "MLP 4-8-1 tanh, loops, 16 samples",
            F.mlp_loss,
            F.mlp_loss_grad,
            mlp_args,
            (0, 1, 2, 3),
            loops=True,
            heavy=True,
        ),
        Case(
            "chain_straight",
            "x = sin(x)*x + cos(x), 1,000 straight-line steps",
            F.straight_chain(F.CHAIN_STEPS),
            F.chain_grad,
            (0.5,),
            0,
            heavy=True,
        ),
        Case("chain_loop", "x = sin(x)*x + cos(x), 1,000 steps as a loop", F.chain_loop, F.chain_grad, (0.5,), 0, loops=True),
    ]


# -- checking ----------------------------------------------------------------------


def flatten(value: Any) -> list[float]:
    """Every number in a gradient (floats, tuples, lists, arrays), in order."""
    if hasattr(value, "tolist") and not isinstance(value, (float, int)):
        value = value.tolist()
    if isinstance(value, (list, tuple)):
        return [x for item in value for x in flatten(item)]
    return [float(value)]


def agreement(got: Any, want: Any, rel: float = 1e-9) -> str | None:
    """None when `got` agrees with `want`, else what is wrong."""
    a, b = flatten(got), flatten(want)
    if len(a) != len(b):
        return f"{len(a)} numbers, expected {len(b)}"
    scale = max([abs(v) for v in b] + [1e-300])
    worst = max((abs(x - y) for x, y in zip(a, b)), default=0.0)
    if not all(math.isfinite(x) for x in a) or worst > rel * scale:
        return f"max abs error {worst:.3g} (scale {scale:.3g})"
    return None


# -- time limits -----------------------------------------------------------------------


class TimeLimit(Exception):
    """The time limit of `time_limit` ran out."""


@contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Raise `TimeLimit` in this (main) thread after `seconds`; no limit where SIGALRM does not exist."""
    if not hasattr(signal, "setitimer"):
        yield
        return

    def expire(signum: int, frame: object) -> None:
        # Raised inside a callback that swallows it (a garbage-collector hook, say), it would be lost:
        # ring again soon, until the limited block is left.
        signal.setitimer(signal.ITIMER_REAL, 0.5)
        raise TimeLimit(f"over {seconds:g} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


# -- contenders ----------------------------------------------------------------------


@dataclass
class Contender:
    """A callable to time, or the reason there is none; one-off costs on the side."""

    name: str
    fn: Callable[..., Any] | None = None
    status: str = ""  # why fn is None, or a remark
    setup_seconds: float | None = None  # s2s_ad transform, jax.jit compile, sympy derivation
    times: list[float] = field(default_factory=list)

    @property
    def median(self) -> float | None:
        return statistics.median(self.times) if self.times else None


def sympy_gradient(case: Case, sympy: Any, limit: float) -> tuple[Callable[..., Any], float]:
    """SymPy's derivative of `case.f`: build the expression, `sympy.diff`, `lambdify(cse=True)`; and its time."""
    symbols: list[Any] = []

    def symbolic(value: Any, prefix: str) -> Any:
        if isinstance(value, list):
            return [symbolic(v, f"{prefix}_{i}") for i, v in enumerate(value)]
        symbol = sympy.Symbol(prefix, real=True)
        symbols.append(symbol)
        return symbol

    args = list(case.args)
    for k in case.wrt_indices:
        args[k] = symbolic(case.args[k], f"p{k}")
    shim = types.SimpleNamespace(
        sin=sympy.sin, cos=sympy.cos, tan=sympy.tan, exp=sympy.exp, log=sympy.log, tanh=sympy.tanh, sqrt=sympy.sqrt, pi=sympy.pi
    )
    symbolic_f = rebind(case.f, {"math": shim, "max": sympy.Max, "min": sympy.Min, "abs": sympy.Abs})
    start = time.perf_counter()
    with time_limit(limit):
        expression = symbolic_f(*args)
        derivatives = [sympy.diff(expression, s) for s in symbols]
        lam = sympy.lambdify(symbols, derivatives, modules="math", cse=True)
    seconds = time.perf_counter() - start
    wrt = case.wrt_indices
    if all(not isinstance(case.args[k], list) for k in wrt) and list(wrt) == list(range(len(case.args))):
        return lam, seconds

    def call(*values: Any) -> list[float]:
        return lam(*[x for k in wrt for x in _flat(values[k])])

    return call, seconds


def _flat(value: Any) -> list[Any]:
    if isinstance(value, list):
        return [x for item in value for x in _flat(item)]
    return [value]


def make_contenders(case: Case, peers: Peers, sympy_limit: float, quick: bool) -> list[Contender]:
    """Every contender for one case, each checked against the hand-written gradient."""
    truth = case.hand(*case.args)
    result = [Contender("f", case.f), Contender("hand", case.hand)]

    def attempt(name: str, build: Callable[[], tuple[Callable[..., Any], float | None]]) -> None:
        contender = Contender(name)
        try:
            fn, contender.setup_seconds = build()
        except TimeLimit as error:
            contender.status = f"derivation time limit ({error})"
        except Exception as error:  # noqa: BLE001 - a contender that fails is reported, not fatal
            contender.status = f"unsupported ({_describe(error)})" if name == "s2s_ad" else f"failed ({_describe(error)})"
        else:
            try:
                if contender.setup_seconds is None:  # jax.jit: the first call compiles
                    start = time.perf_counter()
                    got = fn(*case.args)
                    contender.setup_seconds = time.perf_counter() - start
                else:
                    got = fn(*case.args)
                wrong = agreement(got, truth)
            except Exception as error:  # noqa: BLE001
                wrong = f"raised {_describe(error)}"
            if wrong is None:
                contender.fn = fn
            else:
                contender.status = f"WRONG: {wrong}"
        result.append(contender)

    def s2s() -> tuple[Callable[..., Any], float]:
        start = time.perf_counter()
        g = grad(case.f, wrt=case.wrt)
        return g, time.perf_counter() - start

    attempt("s2s_ad", s2s)
    autograd = peers.get("autograd")
    if autograd is None:
        result.append(Contender("autograd", status="missing"))
    else:
        f_ag = rebind(case.f, numpy_like(peers.get("autograd.numpy")))
        attempt("autograd", lambda: (autograd.grad(f_ag, case.wrt), 0.0))
    jax = peers.get("jax")
    if jax is None:
        result += [Contender("jax", status="missing"), Contender("jax.jit", status="missing")]
    else:
        f_jax = rebind(case.f, numpy_like(peers.get("jax.numpy")))
        if quick and case.loops:  # eager jax takes seconds per call on scalar loops, jit seconds to compile
            result += [Contender("jax", status="skipped in --quick"), Contender("jax.jit", status="skipped in --quick")]
        else:
            attempt("jax", lambda: (jax.grad(f_jax, case.wrt), 0.0))
            attempt("jax.jit", lambda: (jax.jit(jax.grad(f_jax, case.wrt)), None))
    sympy = peers.get("sympy")
    if sympy is None:
        result.append(Contender("sympy", status="missing"))
    else:
        attempt("sympy", lambda: sympy_gradient(case, sympy, sympy_limit))
    for c in result:
        if c.name in ("jax", "autograd") and c.setup_seconds == 0.0:
            c.setup_seconds = None
    return result


# -- timing ------------------------------------------------------------------------------


def make_timer(fn: Callable[..., Any], args: Sequence[Any]) -> timeit.Timer:
    """A timer whose statement is the plain call `fn(a0, a1, ...)`, as user code would write it."""
    names = {f"a{i}": a for i, a in enumerate(args)}
    return timeit.Timer(f"fn({', '.join(names)})", timer=CLOCK, globals={"fn": fn, **names})


def calibrate(timer: timeit.Timer, target: float) -> int:
    """Calls per round so that a round lasts about `target` seconds."""
    timer.timeit(1)
    one = timer.timeit(1)
    if one >= target:
        return 1
    number = max(1, int(target / one))
    elapsed = timer.timeit(number)
    return max(1, int(number * target / max(elapsed, 1e-9)))


def time_interleaved(contenders: list[Contender], args: Sequence[Any], rounds: int, target: float, budget: float) -> None:
    """Median per-call time of each contender, over `rounds` rounds that visit every contender in turn."""
    live = [c for c in contenders if c.fn is not None]
    timers = {c.name: make_timer(c.fn, args) for c in live}  # type: ignore[arg-type]
    numbers = {c.name: calibrate(timers[c.name], target) for c in live}
    start = time.perf_counter()
    for r in range(rounds):
        order = live[r % len(live) :] + live[: r % len(live)]
        for c in order:
            c.times.append(timers[c.name].timeit(numbers[c.name]) / numbers[c.name])
        if r >= 2 and time.perf_counter() - start > budget:
            break


# -- transform time against size -----------------------------------------------------------

STAGES = ("frontend", "lower", "reverse", "optimize", "generate", "compile")


def count_primitives(function: ir.Function) -> int:
    """Primitive assignments in a lowered function."""
    return sum(isinstance(s, ir.Assign) for s in ir.walk(function.body))


def staged_transform(f: Callable[..., Any], profile: dict[str, cProfile.Profile] | None = None) -> tuple[dict[str, float], int]:
    """Time each stage of the pipeline on `f` separately (optionally under cProfile); and its primitive count.

    Also times "naming" on its own: the part of `generate` that gives every
    SSA name its Python name (`codegen.python_names`), where present. It is
    reported beside the stages and not added to the totals.
    """
    times: dict[str, float] = {}

    def run(stage: str, call: Callable[[], Any]) -> Any:
        profiler = profile.setdefault(stage, cProfile.Profile()) if profile is not None else None
        start = CLOCK()
        if profiler is not None:
            profiler.enable()
        value = call()
        if profiler is not None:
            profiler.disable()
        times[stage] = CLOCK() - start
        return value

    parsed = run("frontend", lambda: frontend.from_function(f))
    primal = run("lower", lambda: lower.lower(parsed))
    names, single = api.resolve_wrt(primal, None, parsed)
    derived = run("reverse", lambda: ad.gradient(primal, names, bare=single))
    derived = run("optimize", lambda: optimize.optimize(derived))
    naming = getattr(codegen, "python_names", None)
    if naming is not None and profile is None:
        run("naming", lambda: naming(derived))
    generated = run("generate", lambda: codegen.generate(derived))
    compiled = run("compile", lambda: codegen.compile_generated(generated, {}, label=f"bench {f.__name__}"))
    args = [0.3 + 0.1 * i for i in range(len(names))]
    compiled(*args)  # the generated function runs
    return times, count_primitives(primal)


@dataclass
class SizeRow:
    family: str
    target: int
    primitives: int
    stages: dict[str, float]
    gc_on: float | None = None  # transform time with the garbage collector running throughout

    @property
    def transform(self) -> float:
        """lower + reverse + optimize + generate + compile."""
        return sum(self.stages.get(k, 0.0) for k in STAGES if k != "frontend")

    @property
    def total(self) -> float:
        return sum(self.stages.get(k, 0.0) for k in STAGES)


FAMILIES: dict[str, Callable[[int], Callable[..., Any]]] = {
    "mixed": lambda size: F.straight_mixed(max(1, (size - 3) // 2)),
    "chain": lambda size: F.straight_chain(max(1, size // 4)),
}


def transform_vs_size(family: str, sizes: Sequence[int], repeats: int) -> list[SizeRow]:
    """Per-stage transform time (median of `repeats`) of straight-line functions of about `sizes` primitives,
    with the garbage collector paused as `grad` pauses it.

    One more run with the collector running throughout shows its share (which
    grows with the number of live objects).
    """
    rows = []
    for size in sizes:
        f = FAMILIES[family](size)
        samples = []
        primitives = 0
        for _ in range(repeats):
            gc.collect()
            with api.collector_paused():
                stages, primitives = staged_transform(f)
            samples.append(stages)
        medians = {s: statistics.median(x[s] for x in samples) for s in samples[0]}
        row = SizeRow(family, size, primitives, medians)
        gc.collect()
        row.gc_on = SizeRow(family, size, primitives, staged_transform(f)[0]).transform
        rows.append(row)
        print(f"[bench]   {family} {primitives}: transform {row.transform:.3f} s", file=sys.stderr)
    return rows


def slope(rows: Sequence[SizeRow], value: Callable[[SizeRow], float | None]) -> float | None:
    """Least-squares exponent k in time ~ size**k over the rows (1 = linear)."""
    points = [(math.log(r.primitives), math.log(v)) for r in rows if (v := value(r))]
    if len(points) < 2:
        return None
    mx = statistics.fmean(p[0] for p in points)
    my = statistics.fmean(p[1] for p in points)
    den = sum((p[0] - mx) ** 2 for p in points)
    return sum((p[0] - mx) * (p[1] - my) for p in points) / den if den else None


def profile_stages(f: Callable[..., Any], stages: Sequence[str] = STAGES, top: int = 6) -> dict[str, str]:
    """cProfile of each stage on `f`: the top functions by own time."""
    profiles: dict[str, cProfile.Profile] = {}
    staged_transform(f, profiles)
    report = {}
    for stage in stages:
        out = io.StringIO()
        stats = pstats.Stats(profiles[stage], stream=out)
        stats.sort_stats("tottime").print_stats(top)
        stdlib = os.path.dirname(os.__file__) + os.sep
        lines = [
            ln.replace(str(HERE.parent) + os.sep, "").replace(stdlib, "") for ln in out.getvalue().splitlines() if ln.strip()
        ]
        start = next((i for i, ln in enumerate(lines) if ln.lstrip().startswith("ncalls")), 0)
        report[stage] = "\n".join(lines[start : start + top + 1])
    return report


# -- the SymPy explosion family -------------------------------------------------------------


@dataclass
class ExplosionRow:
    steps: int
    sympy_diff: float | None
    sympy_lambdify: float | None
    s2s_transform: float
    status: str = ""


def explosion(steps_list: Sequence[int], limit: float, sympy: Any) -> list[ExplosionRow]:
    """sympy.diff (and lambdify) time against L for x = sin(x)*x + cos(x) repeated L times, beside s2s_ad's."""
    rows = []
    gave_up = False
    for steps in steps_list:
        f = F.straight_chain(steps)
        stages, _ = staged_transform(f)
        row = ExplosionRow(steps, None, None, sum(stages.values()))
        if sympy is None:
            row.status = "sympy missing"
        elif gave_up:
            row.status = "not tried (a shorter chain hit the limit)"
        else:
            x = sympy.Symbol("x", real=True)
            expression = x
            for _ in range(steps):
                expression = sympy.sin(expression) * expression + sympy.cos(expression)
            try:
                start = CLOCK()
                with time_limit(limit):
                    derivative = sympy.diff(expression, x)
                row.sympy_diff = CLOCK() - start
                start = CLOCK()
                with time_limit(limit):
                    lam = sympy.lambdify([x], derivative, modules="math", cse=True)
                row.sympy_lambdify = CLOCK() - start
                want = F.chain_grad(0.5, steps)
                if agreement(lam(0.5), want, rel=1e-6) is not None:
                    row.status = f"WRONG: {lam(0.5)!r} vs {want!r}"
            except TimeLimit as error:
                row.status = f"time limit ({error})"
                gave_up = True
            except RecursionError as error:
                row.status = f"failed ({_describe(error)})"
                gave_up = True
        rows.append(row)
    return rows


# -- memory ----------------------------------------------------------------------------------


def tape_entries(g: Callable[..., Any]) -> list[str]:
    """Per loop of a generated gradient: the values its forward sweep records per iteration (pushed on the
    tape, or stored into the loop's arrays, `x_tape[i] = x`); loops the reverse sweep replays record nothing."""
    built = getattr(g, "__s2s_ad__", None)
    if built is None:
        return ["(no IR attached)"]
    found: list[str] = []

    def pushed(block: ir.Block) -> tuple[int, int]:
        """Values pushed per iteration, outside nested loops: (always, at most)."""
        always = most = 0
        for stmt in block:
            if isinstance(stmt, ir.Push):
                always += len(stmt.values)
                most += len(stmt.values)
            elif (
                isinstance(stmt, ir.Effect)
                and stmt.op == "setitem"
                and isinstance(stmt.args[0], ir.Var)
                and ir.family(stmt.args[0].name).endswith("_tape")
            ):
                always += 1
                most += 1
            elif isinstance(stmt, ir.If):
                a = pushed(stmt.then)
                b = pushed(stmt.orelse)
                always += min(a[0], b[0])
                most += max(a[1], b[1])
        return always, most

    def visit(block: ir.Block, where: str = "") -> None:
        for stmt in block:
            if isinstance(stmt, (ir.For, ir.While)) and any(
                isinstance(s, ir.Note) and s.text.startswith("this iteration again") for s in stmt.body
            ):
                found.append(
                    f"loop at line {stmt.loc.line}: replayed (the reverse loop computes each iteration again), nothing recorded"
                )
                for inner in ir.blocks_of(stmt):
                    visit(inner, " (inside the replayed loop)")
                continue
            if isinstance(stmt, (ir.For, ir.While)) and not getattr(stmt, "reverse", False):
                always, most = pushed(stmt.body)
                amount = f"{always}" if always == most else f"{always} to {most}"
                found.append(f"loop at line {stmt.loc.line}{where}: {amount} value(s) per iteration")
            for inner in ir.blocks_of(stmt):
                visit(inner, where)

    visit(built.derived.body)
    return found or ["no loops in the generated code"]


@dataclass
class MemoryRow:
    name: str
    peak: int | None
    seconds: float | None
    status: str = ""
    iterations: int = F.LONG_STEPS


def peak_memory(fn: Callable[..., Any], args: Sequence[Any]) -> tuple[int, float]:
    """Peak traced memory (bytes) of one call, and its (wall) time under tracing."""
    gc.collect()
    tracemalloc.start()
    tracemalloc.reset_peak()
    start = time.perf_counter()
    fn(*args)
    seconds = time.perf_counter() - start
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak, seconds


AUTOGRAD_STEPS = 10_000  # autograd's graph under tracemalloc takes minutes at 100,000 steps


def memory_long_loop(peers: Peers, quick: bool) -> list[MemoryRow]:
    """tracemalloc peak of one gradient of the 100,000-step chain loop (autograd: 10,000 steps)."""
    rows = []
    candidates: list[tuple[str, Callable[[], Callable[..., Any]], tuple[Any, ...], int]] = [
        ("f", lambda: F.chain_long, (0.5,), F.LONG_STEPS),
        ("hand", lambda: F.chain_long_grad, (0.5,), F.LONG_STEPS),
        ("s2s_ad", lambda: grad(F.chain_long), (0.5,), F.LONG_STEPS),
    ]
    autograd = peers.get("autograd")
    if autograd is not None and not quick:
        f_ag = rebind(F.chain_reference, numpy_like(peers.get("autograd.numpy")))
        candidates.append(("autograd", lambda: autograd.grad(f_ag), (0.5, AUTOGRAD_STEPS), AUTOGRAD_STEPS))
    for name, make, args, iterations in candidates:
        try:
            fn = make()
        except Exception as error:  # noqa: BLE001
            rows.append(MemoryRow(name, None, None, f"unsupported ({_describe(error)})"))
            continue
        try:
            peak, seconds = peak_memory(fn, args)
        except Exception as error:  # noqa: BLE001
            rows.append(MemoryRow(name, None, None, f"failed ({_describe(error)})"))
            continue
        note = "" if iterations == F.LONG_STEPS else f"{iterations:,} iterations (the same loop, shorter)"
        rows.append(MemoryRow(name, peak, seconds, note, iterations))
    if autograd is None:
        rows.append(MemoryRow("autograd", None, None, "missing"))
    elif quick:
        rows.append(MemoryRow("autograd", None, None, "skipped in --quick"))
    rows.append(MemoryRow("jax", None, None, "not measured: tracemalloc does not see XLA's buffers"))
    return rows


# -- grad's callable against the generated function ----------------------------------------------


def callable_overhead(cases: Sequence[Case], rounds: int, target: float) -> list[tuple[str, bool, float, float]]:
    """Per case: is `grad(f)` a plain function compiled from the generated source, and its time against a
    separately compiled copy of the same source."""
    out = []
    for case in cases:
        try:
            g = grad(case.f, wrt=case.wrt)
            built = api.build(frontend.from_function(case.f), case.wrt)
            direct = codegen.compile_generated(built.generated, {}, label=f"direct {case.name}")
        except Exception:  # noqa: BLE001 - unsupported functions are reported elsewhere
            continue
        plain = (
            inspect.isfunction(g)
            and g is grad(case.f, wrt=case.wrt)
            and g.__code__.co_filename != getattr(case.f, "__code__", g.__code__).co_filename  # generated, not a wrapper
            and inspect.getsource(g) == inspect.getsource(direct)
        )
        pair = [Contender("grad(f)", g), Contender("direct", direct)]
        time_interleaved(pair, case.args, rounds, target, budget=5.0)
        out.append((case.name, plain, pair[0].median or 0.0, pair[1].median or 0.0))
    return out


# -- report ------------------------------------------------------------------------------------


def fmt_time(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 1e-6:
        return f"{seconds * 1e9:.0f} ns"
    if seconds < 1e-3:
        return f"{seconds * 1e6:.3g} µs"
    if seconds < 1:
        return f"{seconds * 1e3:.3g} ms"
    return f"{seconds:.3g} s"


def fmt_bytes(n: int | None) -> str:
    if n is None:
        return "-"
    if n < 1024:
        return f"{n} B"
    if n < 1024**2:
        return f"{n / 1024:.1f} KiB"
    return f"{n / 1024**2:.1f} MiB"


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(" --- " for _ in header) + "|"]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return lines


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} logical CPUs; Python {platform.python_version()} ({platform.system()})"


def versions(peers: Peers) -> str:
    parts = []
    for name in ("autograd", "jax", "sympy"):
        if peers.get(name) is None:
            parts.append(f"{name} missing")
            continue
        try:
            parts.append(f"{name} {importlib.metadata.version(name)}")
        except importlib.metadata.PackageNotFoundError:
            parts.append(f"{name} {getattr(peers.get(name), '__version__', '?')}")
    return ", ".join(parts)


@dataclass
class Results:
    quick: bool
    peers: Peers
    cases: list[Case]
    contenders: dict[str, list[Contender]]
    sizes: list[SizeRow]
    profiles: dict[str, dict[str, str]]
    family: list[ExplosionRow]
    tapes: dict[str, list[str]]
    memory: list[MemoryRow]
    overhead: list[tuple[str, bool, float, float]]
    rounds: int
    seconds: float = 0.0


def report(res: Results) -> str:
    lines = ["# s2s_ad benchmark results", ""]
    lines += [
        f"Mode: {'quick (smoke test, numbers are rough)' if res.quick else 'full'}; machine: {machine()}; {versions(res.peers)}.",
        "",
    ]
    if res.peers.missing:
        lines += ["Missing peers: " + "; ".join(f"{k} ({v})" for k, v in res.peers.missing.items()) + ".", ""]

    lines += [
        "## Per call",
        "",
        f"Median CPU time per call over up to {res.rounds} interleaved rounds (each round visits every contender "
        "once, in rotating order; calls per round calibrated to a fixed round length; gc off while timing, "
        "as `timeit` does). Every gradient was checked against the hand-written one before it was timed. "
        "The peers run the same plain-Python code, with `math` bound to `autograd.numpy` / `jax.numpy` "
        "and `max` to their `maximum`; they would be much faster on vectorized array code.",
        "",
    ]
    header = ["function", *CONTENDERS]
    rows = []
    for case in res.cases:
        row = [f"{case.name}"]
        for c in res.contenders[case.name]:
            row.append(fmt_time(c.median) if c.median is not None else (c.status or "-"))
        rows.append(row)
    lines += table(header, rows) + [""]

    lines += [
        "### Ratios",
        "",
        "Each contender's median against the hand-written gradient; last column: s2s_ad against the plain function.",
        "",
    ]
    rows = []
    ratios_hand: list[float] = []
    ratios_f: list[float] = []
    for case in res.cases:
        by = {c.name: c for c in res.contenders[case.name]}
        hand = by["hand"].median
        row = [case.name]
        for name in CONTENDERS[2:]:
            m = by[name].median
            row.append(f"{m / hand:.2f}x" if m is not None and hand else "-")
        s2s, plain = by["s2s_ad"].median, by["f"].median
        if s2s is not None and hand and plain:
            ratios_hand.append(s2s / hand)
            ratios_f.append(s2s / plain)
            row.append(f"{s2s / plain:.2f}x")
        else:
            row.append("-")
        rows.append(row)
    lines += table(["function", *(f"{n} / hand" for n in CONTENDERS[2:]), "s2s_ad / f"], rows) + [""]

    lines += [
        "### One-off costs",
        "",
        "Wall time. s2s_ad: the first `grad(f)` call (frontend, lower, reverse, optimize, generate, compile). jax.jit: the "
        "first call (trace and XLA compile). sympy: building the expression, `sympy.diff`, "
        "`lambdify(cse=True)`, under a time limit.",
        "",
    ]
    rows = []
    for case in res.cases:
        by = {c.name: c for c in res.contenders[case.name]}
        rows.append(
            [case.name, case.description]
            + [
                fmt_time(by[n].setup_seconds) if by[n].setup_seconds is not None else (by[n].status or "-")
                for n in ("s2s_ad", "jax.jit", "sympy")
            ]
        )
    lines += table(["function", "what", "s2s_ad transform", "jax.jit compile", "sympy derivation"], rows) + [""]

    lines += ["## Target 1: per call", ""]
    if ratios_hand:
        med_hand, med_f = statistics.median(ratios_hand), statistics.median(ratios_f)
        verdict = "met" if max(ratios_f) <= 3 else "met by the median, not by every function" if med_f <= 3 else "NOT met"
        lines += [
            f"- s2s_ad / hand-written, median over the {len(ratios_hand)} functions s2s_ad supports: "
            f"**{med_hand:.2f}x** (target at most 1.2x: {'met' if med_hand <= 1.2 else 'NOT met'}); "
            f"range {min(ratios_hand):.2f}x to {max(ratios_hand):.2f}x.",
            f"- s2s_ad / plain function: median **{med_f:.2f}x**, worst {max(ratios_f):.2f}x (target at most 3x: {verdict}).",
            "",
        ]
    unsupported = [c for case in res.cases for c in res.contenders[case.name] if c.name == "s2s_ad" and c.fn is None]
    if unsupported:
        names = [case.name for case in res.cases if next(c for c in res.contenders[case.name] if c.name == "s2s_ad").fn is None]
        lines += [f"- Not yet measured (s2s_ad refuses them): {', '.join(names)}.", ""]

    lines += [
        "## Target 2: transform time against size",
        "",
        "Two families of straight-line functions. *mixed*: seeded lines `v = f(a) op b` over four variables "
        "(f in sin, cos, tanh; op in +, -, *), three inputs, differentiated with respect to all three. "
        "*chain*: `x = math.sin(x) * x + math.cos(x)` repeated, one variable. Size is the number of "
        "primitive assignments after lowering. Each stage is timed separately, in CPU time (median of the repeats). "
        "'transform' is lower + reverse + optimize + generate + compile, the issue's definition; "
        "'grad() total' adds the frontend (reading the source, parsing, resolving names), which a first "
        "`grad(f)` call also pays. 'naming' is the part of generate that picks Python names "
        "(`codegen.python_names`), timed on its own and not added to the totals. The garbage collector is "
        "paused meanwhile, as `grad` pauses it (the transform frees nothing until it is done); 'gc on' is "
        "one more transform with the collector running throughout.",
        "",
    ]
    for family in FAMILIES:
        rows_f = [r for r in res.sizes if r.family == family]
        if not rows_f:
            continue
        lines += [f"### {family}", ""]
        rows = []
        for r in rows_f:
            rows.append(
                [
                    str(r.primitives),
                    *(fmt_time(r.stages.get(s)) for s in STAGES),
                    fmt_time(r.stages.get("naming")),
                    fmt_time(r.transform),
                    f"{r.transform / r.primitives * 1e6:.0f} µs",
                    fmt_time(r.gc_on),
                    fmt_time(r.total),
                ]
            )
        lines += table(["primitives", *STAGES, "(naming)", "transform", "per primitive", "gc on", "grad() total"], rows) + [""]
        big = [r for r in rows_f if r.primitives >= 300]
        big = big if len(big) >= 2 else rows_f
        exps = {s: slope(big, lambda r, s=s: r.stages.get(s)) for s in (*STAGES, "naming")}
        exps["transform"] = slope(big, lambda r: r.transform)
        exps["gc on"] = slope(big, lambda r: r.gc_on)
        exps["grad() total"] = slope(big, lambda r: r.total)
        lines += [f"Growth exponent k in time ~ size^k, fitted over sizes from {big[0].primitives} up (1.0 is linear):", ""]
        lines += table(list(exps), [[f"{v:.2f}" if v is not None else "-" for v in exps.values()]]) + [""]
        at = [r for r in rows_f if r.target == 10000] or [max(rows_f, key=lambda r: r.primitives)]
        for r in at:
            verdict = "under" if r.transform < 2.0 else "OVER"
            slowest = max(STAGES, key=lambda s: r.stages.get(s, 0.0))
            lines += [
                f"At {r.primitives} primitives: transform {fmt_time(r.transform)} ({verdict} the 2 s target), "
                f"grad() total {fmt_time(r.total)}; slowest stage: {slowest} "
                f"({r.stages[slowest] / r.total:.0%} of the total).",
                "",
            ]
        superlinear = [s for s in (*STAGES, "naming") if (exps.get(s) or 0) > 1.15]
        lines += [f"Stages growing faster than linearly here (k > 1.15): {', '.join(superlinear) or 'none'}.", ""]
    for title, profiles in res.profiles.items():
        lines += [f"Profile, {title} (cProfile, top functions by own time):", ""]
        for stage, text in profiles.items():
            lines += [f"<details><summary>{stage}</summary>", "", "```", text, "```", "", "</details>", ""]

    lines += [
        "## SymPy on x = sin(x)*x + cos(x), repeated L times",
        "",
        "SymPy builds the nested expression, then `sympy.diff` and `lambdify(cse=True)`, each under the time "
        "limit (wall time; the times shown are CPU time); s2s_ad's grad() total is shown for the same chain "
        "written as L straight-line statements "
        "(4 primitives each).",
        "",
    ]
    rows = [
        [str(r.steps), str(4 * r.steps), fmt_time(r.sympy_diff), fmt_time(r.sympy_lambdify), fmt_time(r.s2s_transform), r.status]
        for r in res.family
    ]
    lines += table(["L", "primitives", "sympy.diff", "lambdify(cse)", "s2s_ad grad() total", "note"], rows) + [""]

    lines += [
        "## Target 3: memory",
        "",
        "Values the generated forward sweep records per loop iteration, on the tape "
        "or in its arrays (read from the generated IR):",
        "",
    ]
    for name, found in res.tapes.items():
        lines += [f"- {name}: " + "; ".join(found)]
    lines += [
        "",
        "For comparison, the hand-written gradients record: chain, 1 float per step (x); logistic, "
        "nothing (each sample's contribution is added as it goes); MLP, the 8 hidden activations of the "
        "current sample.",
        "",
        f"Peak memory (tracemalloc) of one gradient of `chain_long`, {F.LONG_STEPS:,} iterations:",
        "",
    ]
    rows = [
        [
            m.name,
            fmt_bytes(m.peak),
            f"{m.peak / m.iterations:.1f} B" if m.peak is not None else "-",
            fmt_time(m.seconds),
            m.status,
        ]
        for m in res.memory
    ]
    lines += table(["contender", "peak", "per iteration", "time (traced)", "note"], rows) + [""]

    lines += [
        "## Target 4: the callable `grad` returns",
        "",
        "`grad(f)` against a separately compiled copy of the same generated source (interleaved medians).",
        "",
    ]
    rows = [
        [name, "yes" if plain else "no", fmt_time(a), fmt_time(b), f"{a / b:.3f}" if b else "-"]
        for name, plain, a, b in res.overhead
    ]
    lines += table(["function", "plain generated function", "grad(f)", "direct", "ratio"], rows) + [""]
    lines += [f"Benchmark run time: {res.seconds:.0f} s.", ""]
    return "\n".join(lines)


def plot(res: Results, path: Path, plt: Any) -> None:
    """Left: transform time against size; right: per-call time of each contender against the hand-written one."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(13, 5))
    for family, marker in (("mixed", "o-"), ("chain", "s-")):
        rows = [r for r in res.sizes if r.family == family]
        if rows:
            xs = [r.primitives for r in rows]
            left.loglog(xs, [r.transform for r in rows], marker, label=f"s2s_ad transform ({family})")
    mixed = [r for r in res.sizes if r.family == "mixed"]
    if mixed:
        xs = [r.primitives for r in mixed]
        ref = max(mixed, key=lambda r: r.primitives if r.primitives <= 1000 else 0)
        left.loglog(xs, [ref.transform * x / ref.primitives for x in xs], ":", color="grey", label="linear")
    fam = [r for r in res.family if r.sympy_diff is not None]
    if fam:
        left.loglog([4 * r.steps for r in fam], [r.sympy_diff for r in fam], "^-", label="sympy.diff (chain, 4L ops)")
    left.axhline(2.0, color="red", linewidth=0.8, label="2 s")
    left.set_xlabel("primitive operations")
    left.set_ylabel("seconds")
    left.set_title("Transform time against size")
    left.legend(fontsize=8)
    names = [n for n in CONTENDERS[2:]]
    width = 0.8 / len(names)
    for k, name in enumerate(names):
        heights, positions = [], []
        for i, case in enumerate(res.cases):
            by = {c.name: c for c in res.contenders[case.name]}
            m, hand = by[name].median, by["hand"].median
            if m is not None and hand:
                heights.append(m / hand)
                positions.append(i + (k - (len(names) - 1) / 2) * width)
        right.bar(positions, heights, width=width, label=name)
    right.axhline(1.0, color="black", linewidth=0.8)
    right.axhline(1.2, color="red", linewidth=0.8, linestyle="--", label="1.2x target")
    right.set_yscale("log")
    right.set_xticks(range(len(res.cases)), [c.name for c in res.cases], rotation=30, ha="right")
    right.set_ylabel("time per call / hand-written gradient")
    right.set_title("Per-call cost against the hand-written gradient")
    right.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.22), ncol=6)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


# -- main ----------------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a few seconds, for smoke-testing")
    parser.add_argument("--out", type=Path, help="write the markdown report here")
    parser.add_argument("--plot", type=Path, help="write the PNG plot here")
    options = parser.parse_args(argv)
    quick = options.quick
    began = time.perf_counter()
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 20000))

    rounds = 3 if quick else 21
    target = 0.002 if quick else 0.02
    budget = 1.0 if quick else 30.0
    sympy_limit = 0.5 if quick else 20.0

    peers = import_peers()
    cases = [c for c in make_cases() if not (quick and c.heavy)]
    contenders = {}
    for case in cases:
        print(f"[bench] {case.name}: preparing contenders", file=sys.stderr)
        contenders[case.name] = make_contenders(case, peers, sympy_limit, quick)
        print(f"[bench] {case.name}: timing", file=sys.stderr)
        time_interleaved(contenders[case.name], case.args, rounds, target, budget)

    print("[bench] transform time against size", file=sys.stderr)
    sizes = [10, 100, 1000] if quick else [10, 30, 100, 300, 1000, 3000, 10000]
    size_rows = transform_vs_size("mixed", sizes, repeats=1 if quick else 3)
    size_rows += transform_vs_size("chain", sizes if quick else [*sizes, 20000], repeats=1 if quick else 3)
    profiles = (
        {}
        if quick
        else {
            "mixed, 10,000 primitives, every stage": profile_stages(FAMILIES["mixed"](10000)),
            "chain, 20,000 primitives, generate": profile_stages(FAMILIES["chain"](20000), ["generate"], top=8),
        }
    )

    print("[bench] sympy explosion family", file=sys.stderr)
    steps = [1, 2, 4] if quick else [1, 2, 3, 4, 5, 6, 7, 8, 10, 12, 16, 24, 32, 48, 64]
    family = explosion(steps, 0.5 if quick else 10.0, peers.get("sympy"))

    print("[bench] memory", file=sys.stderr)
    tapes = {}
    for case in cases:
        if case.loops:
            s2s = next(c for c in contenders[case.name] if c.name == "s2s_ad")
            tapes[case.name] = tape_entries(s2s.fn) if s2s.fn is not None else [s2s.status]
    memory = memory_long_loop(peers, quick)

    print("[bench] grad callable overhead", file=sys.stderr)
    overhead = callable_overhead(
        [c for c in cases if c.name in ("nested", "lecture", "rosenbrock", "chain_loop")], max(rounds, 31), target
    )

    res = Results(quick, peers, cases, contenders, size_rows, profiles, family, tapes, memory, overhead, rounds)
    res.seconds = time.perf_counter() - began
    text = report(res)
    print(text)
    if options.out:
        options.out.write_text(text)
    if options.plot:
        plt = peers.get("matplotlib.pyplot")
        if plt is None:
            print(f"[bench] no plot: matplotlib missing ({peers.missing.get('matplotlib')})", file=sys.stderr)
        else:
            plot(res, options.plot, plt)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
