"""Benchmark s2s_ad's gradients of NumPy models against hand-written NumPy gradients, autograd and jax.jit.

Run it with the machine's BLAS slowdown switched off (the script never changes these variables itself):

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/bench_numpy.py [--quick] [--out results_numpy.md]

Options: --sizes 100,1000 (N), --models mlp,softmax, --rounds R, --quick (a smoke test of a few seconds),
--out FILE (also write the markdown report), --blas-threads 1 (hold NumPy's BLAS to one thread: on a shared
machine with few CPUs, OpenBLAS's threads waiting for each other made NumPy's times jump between runs).

Models (`numpy_models.py`, written as a NumPy user writes them): logistic regression, softmax regression,
a two-layer tanh MLP, the window model sum_i u @ tanh(W @ E[ids_i].reshape(-1) + b) in batch form, a tanh
RNN over T steps (a Python loop that rebinds h), and single-head attention over a batch of sequences
(loss: the sum of squares of softmax(Q K^T / sqrt(dk)) V). Each at N = 100, 1,000 and 10,000 samples.

Per model and N, in one process, interleaved round by round (the contenders of a round in random order):

1. `f`: the plain loss, forward only;
2. `hand`: the hand-written NumPy gradient (checked against central finite differences at startup; a wrong
   one stops the run before anything is timed);
3. `s2s_ad`: `grad(loss, wrt=(...))`, then `g(*args)`; a refusal (`S2SError`) or a gradient that disagrees
   with `hand` (relative 1e-6) is reported in the row, and the run goes on;
4. `autograd`: `autograd.grad` of the same loss with `np` bound to `autograd.numpy`, if installed;
5. `jax.jit`: `jax.jit(jax.grad(...))` of the same loss with `np` bound to `jax.numpy` (64-bit floats, CPU),
   if installed; the first call (trace and compile) is reported on its own, and every timed call ends in
   `block_until_ready`.

Reported: per-call medians, and medians of per-round ratios (s2s_ad/hand, s2s_ad/autograd, s2s_ad/jax.jit,
hand/f; the peers against hand); tracemalloc peak of one call (hand against s2s_ad); s2s_ad's transform
time per model (a fresh `grad(...)`, its cache cleared before each build). Which BLAS kernel NumPy ran is
printed at the top, with the values of the OPENBLAS_* variables the process saw.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import importlib.metadata
import importlib.util
import inspect
import os
import platform
import random
import statistics
import subprocess
import sys
import time
import timeit
import tracemalloc
import types
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(1, str(REPO))

import numpy_models as M  # noqa: E402

DEFAULT_SIZES = (100, 1_000, 10_000)
SLOWING_VARIABLES = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
SHOWN_VARIABLES = (*SLOWING_VARIABLES, "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS")
AGREE_RTOL = 1e-6  # a gradient agrees with the hand-written one to this, relative to each array's largest entry
FD_RTOL = 1e-5  # the hand-written gradients against central finite differences, on the tiny sizes

# Wall time, not CPU time: BLAS and XLA run on several threads, and CPU time would charge a two-thread GEMM
# twice. Noise from the shared machine is handled by interleaving and by medians of per-round ratios.
CLOCK = time.perf_counter


# -- the libraries: s2s_ad and the peers, each imported if it can be ----------------------------------------


@dataclass
class Libraries:
    """s2s_ad, autograd and jax: a module (or function) by name, or why it is missing."""

    found: dict[str, Any] = field(default_factory=dict)
    missing: dict[str, str] = field(default_factory=dict)

    def get(self, name: str) -> Any:
        return self.found.get(name)


def describe(error: BaseException) -> str:
    """The error's class and the first line of its message, absolute paths into the repository made relative."""
    lines = str(error).strip().splitlines()
    first = lines[0].replace(str(REPO) + os.sep, "") if lines else ""
    return f"{type(error).__name__}: {first}".rstrip(": ")


def first_line(error: BaseException) -> str:
    """The first line of the error's message (paths into the repository made relative)."""
    lines = str(error).strip().splitlines()
    return lines[0].replace(str(REPO) + os.sep, "") if lines else type(error).__name__


def import_libraries() -> Libraries:
    """Import s2s_ad (its `grad`, `S2SError` and cache), autograd and jax (64-bit floats, CPU) where they import.

    s2s_ad is imported defensively too: it is under active development, and a broken checkout should make
    its column say so rather than stop the peers' numbers."""
    libs = Libraries()
    try:
        import s2s_ad
        from s2s_ad import S2SError, grad

        libs.found.update({"s2s_ad": s2s_ad, "s2s_ad.grad": grad, "s2s_ad.S2SError": S2SError})
    except Exception as error:  # noqa: BLE001 - any import failure means the contender is missing
        libs.missing["s2s_ad"] = describe(error)
    try:
        import autograd
        import autograd.numpy as anp

        libs.found.update({"autograd": autograd, "autograd.numpy": anp})
    except Exception as error:  # noqa: BLE001
        libs.missing["autograd"] = describe(error)
    try:
        import jax

        jax.config.update("jax_enable_x64", True)
        jax.config.update("jax_platforms", "cpu")
        import jax.numpy as jnp

        libs.found.update({"jax": jax, "jax.numpy": jnp})
    except Exception as error:  # noqa: BLE001
        libs.missing["jax"] = describe(error)
    return libs


def rebind(f: Callable[..., Any], np_like: Any) -> Callable[..., Any]:
    """`f` with its global `np` bound to `np_like` (autograd.numpy, jax.numpy): the same code on another library."""
    return types.FunctionType(f.__code__, {**f.__globals__, "np": np_like}, f.__name__, f.__defaults__, f.__closure__)


def wrt_indices(model: M.Model) -> tuple[int, ...]:
    """The positions of the model's differentiated parameters in its loss's signature."""
    names = list(inspect.signature(model.loss).parameters)
    return tuple(names.index(name) for name in model.wrt)


# -- the machine: BLAS kernel, environment, versions ----------------------------------------------------------


def blas_lines() -> list[str]:
    """Which BLAS NumPy runs and with which kernel (threadpoolctl if installed, else numpy.show_config), and the
    OPENBLAS_* variables this process saw: the kernel is what OPENBLAS_CORETYPE changes."""
    lines = []
    try:
        from threadpoolctl import threadpool_info

        pools = [p for p in threadpool_info() if p.get("user_api") == "blas"]
        for p in pools:
            lines.append(
                f"BLAS (threadpoolctl): {p.get('internal_api')} {p.get('version')}, kernel {p.get('architecture')}, "
                f"{p.get('num_threads')} threads ({Path(str(p.get('filepath', ''))).name})"
            )
        if not pools:
            lines.append("BLAS (threadpoolctl): no BLAS library loaded")
    except ImportError:
        try:
            blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
            built = " ".join(str(blas.get("openblas configuration", "")).split())
            lines.append(
                f"BLAS (numpy.show_config; threadpoolctl not installed, so the running kernel is unknown): "
                f"{blas.get('name')} {blas.get('version')}, built as {built}"
            )
        except Exception as error:  # noqa: BLE001 - older NumPy: no mode="dicts"
            lines.append(f"BLAS: unknown ({describe(error)})")
    seen = ", ".join(f"{name}={os.environ[name]!r}" if name in os.environ else f"{name} unset" for name in SHOWN_VARIABLES)
    lines.append(f"Environment: {seen}")
    slowing = [name for name in SLOWING_VARIABLES if name in os.environ]
    if slowing:
        lines.append(
            f"WARNING: {', '.join(slowing)} set: NumPy's BLAS may run a slow kernel. Run as "
            "`env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/bench_numpy.py`."
        )
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


def versions(libs: Libraries) -> str:
    parts = [f"numpy {np.__version__}"]
    for name in ("autograd", "jax", "jaxlib"):
        try:
            parts.append(f"{name} {importlib.metadata.version(name)}")
        except importlib.metadata.PackageNotFoundError:
            parts.append(f"{name} missing")
    return ", ".join(parts)


def s2s_revision() -> str:
    """The repository's commit, and whether s2s_ad/ has uncommitted changes (it is being worked on)."""
    try:
        head = subprocess.run(
            ["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"], capture_output=True, text=True, timeout=10
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(REPO), "status", "--porcelain", "--", "s2s_ad"], capture_output=True, text=True, timeout=10
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown revision"
    return f"{head or 'unknown'}{' with uncommitted changes in s2s_ad/' if dirty else ''}"


# -- checking ---------------------------------------------------------------------------------------------------


def disagreement(got: Any, want: Sequence[Any], names: Sequence[str], rtol: float = AGREE_RTOL) -> str | None:
    """None when the gradients `got` agree with `want` (each array to `rtol` of its largest entry), else what is off."""
    if not isinstance(got, (tuple, list)) or len(got) != len(want):
        return f"expected a tuple of {len(want)} gradients, got {type(got).__name__}"
    for name, g, w in zip(names, got, want):
        g, w = np.asarray(g, dtype=float), np.asarray(w, dtype=float)
        if g.shape != w.shape:
            return f"d{name}: shape {g.shape}, expected {w.shape}"
        scale = max(float(np.abs(w).max(initial=0.0)), 1e-300)
        worst = float(np.abs(g - w).max(initial=0.0))
        if not np.isfinite(g).all() or worst > rtol * scale:
            return f"d{name}: max abs error {worst:.3g} (largest entry {scale:.3g})"
    return None


def finite_difference_check(models: Sequence[M.Model], n: int = 5) -> None:
    """Every hand-written gradient against central finite differences of its loss, on the tiny sizes.

    Stops the run (SystemExit) on the first disagreement: every other number is measured against these."""
    for model in models:
        args = model.args(n, M.TINY, seed=1)
        hand = model.hand(*args)
        if len(hand) != len(model.wrt):
            abort(f"{model.name}: the hand-written gradient returns {len(hand)} values for wrt {model.wrt}")
        for name, k, g in zip(model.wrt, wrt_indices(model), hand):
            x0 = np.array(args[k], dtype=float)
            if np.shape(g) != x0.shape:
                abort(f"{model.name}: d{name} has shape {np.shape(g)}, the parameter {x0.shape}")
            fd = np.empty_like(x0)
            for idx in np.ndindex(x0.shape):
                step = 1e-6 * max(1.0, abs(float(x0[idx])))
                values = []
                for sign in (1.0, -1.0):
                    x = x0.copy()
                    x[idx] += sign * step
                    trial = list(args)
                    trial[k] = float(x) if isinstance(args[k], float) else x
                    values.append(float(model.loss(*trial)))
                fd[idx] = (values[0] - values[1]) / (2.0 * step)
            scale = max(1.0, float(np.abs(fd).max(initial=0.0)))
            worst = float(np.abs(fd - np.asarray(g)).max(initial=0.0))
            if worst > FD_RTOL * scale:
                abort(
                    f"{model.name}: the hand-written d{name} disagrees with central finite differences "
                    f"(max abs error {worst:.3g}, scale {scale:.3g})\nhand:\n{np.asarray(g)}\nfinite differences:\n{fd}"
                )


def abort(message: str) -> None:
    """Stop loudly: a wrong hand-written gradient makes every ratio meaningless."""
    bar = "!" * 78
    print(f"{bar}\nbench_numpy.py: HAND-WRITTEN GRADIENT CHECK FAILED\n{message}\n{bar}", file=sys.stderr)
    raise SystemExit(2)


# -- contenders ----------------------------------------------------------------------------------------------------


CONTENDERS = ("f", "hand", "s2s_ad", "autograd", "jax.jit")


@dataclass
class Contender:
    """A callable to time with its arguments, or the reason there is none; its first call's time on the side."""

    name: str
    fn: Callable[..., Any] | None = None
    args: tuple[Any, ...] = ()
    status: str = ""  # why fn is None
    first_call: float | None = None  # jax.jit: trace and compile (and one run)
    times: list[float] = field(default_factory=list)

    @property
    def median(self) -> float | None:
        return statistics.median(self.times) if self.times else None


def s2s_contender(model: M.Model, args: tuple[Any, ...], truth: tuple[Any, ...], libs: Libraries) -> Contender:
    """s2s_ad's generated gradient, if it builds, runs and agrees with the hand-written one."""
    contender = Contender("s2s_ad", args=args)
    grad, s2s_error = libs.get("s2s_ad.grad"), libs.get("s2s_ad.S2SError")
    if grad is None:
        contender.status = f"unavailable ({libs.missing.get('s2s_ad', 'not imported')})"
        return contender
    try:
        g = grad(model.loss, wrt=model.wrt)
        got = g(*args)
    except s2s_error as error:
        contender.status = f"refused: {first_line(error)}"
        return contender
    except Exception as error:  # noqa: BLE001 - a generated gradient that crashes is reported, not fatal
        contender.status = f"WRONG (raised {describe(error)})"
        return contender
    wrong = disagreement(got, truth, model.wrt)
    if wrong is None:
        contender.fn = g
    else:
        contender.status = f"WRONG ({wrong})"
    return contender


def peer_contender(
    name: str, build: Callable[[], Callable[..., Any]], args: tuple[Any, ...], truth: tuple[Any, ...], model: M.Model
) -> Contender:
    """A peer's gradient, checked against the hand-written one; the first call timed on its own (jit compiles)."""
    contender = Contender(name, args=args)
    try:
        fn = build()
        start = CLOCK()
        got = fn(*args)
        contender.first_call = CLOCK() - start
        wrong = disagreement(got, truth, model.wrt)
    except Exception as error:  # noqa: BLE001 - a peer that fails is reported, not fatal
        wrong = f"raised {describe(error)}"
    if wrong is None:
        contender.fn = fn
    else:
        contender.status = f"WRONG ({wrong})"
    return contender


def make_contenders(model: M.Model, args: tuple[Any, ...], libs: Libraries) -> list[Contender]:
    """Every contender for one model at one N; each gradient checked against the hand-written one."""
    truth = model.hand(*args)
    result = [Contender("f", model.loss, args), Contender("hand", model.hand, args), s2s_contender(model, args, truth, libs)]
    argnums = wrt_indices(model)
    autograd = libs.get("autograd")
    if autograd is None:
        result.append(Contender("autograd", status=f"missing ({libs.missing.get('autograd', '')})"))
    else:
        f_ag = rebind(model.loss, libs.get("autograd.numpy"))
        result.append(peer_contender("autograd", lambda: autograd.grad(f_ag, argnums), args, truth, model))
    jax = libs.get("jax")
    if jax is None:
        result.append(Contender("jax.jit", status=f"missing ({libs.missing.get('jax', '')})"))
    else:
        jitted = jax.jit(jax.grad(rebind(model.loss, libs.get("jax.numpy")), argnums=argnums))

        def jit_call(*a: Any) -> Any:
            return jax.block_until_ready(jitted(*a))

        on_device = tuple(jax.device_put(a) for a in args)  # as a JAX user holds them: no host copy per call
        result.append(peer_contender("jax.jit", lambda: jit_call, on_device, truth, model))
    return result


# -- timing ----------------------------------------------------------------------------------------------------------


def make_timer(fn: Callable[..., Any], args: Sequence[Any]) -> timeit.Timer:
    """A timer whose statement is the plain call `fn(a0, a1, ...)` (gc off while it runs, as timeit does)."""
    names = {f"a{i}": a for i, a in enumerate(args)}
    return timeit.Timer(f"fn({', '.join(names)})", timer=CLOCK, globals={"fn": fn, **names})


def calibrate(timer: timeit.Timer, target: float) -> int:
    """Calls per timing so that one timing lasts about `target` seconds (at least one call)."""
    timer.timeit(1)
    one = timer.timeit(1)
    if one >= target:
        return 1
    number = max(1, int(target / max(one, 1e-9)))
    elapsed = timer.timeit(number)
    return max(1, int(number * target / max(elapsed, 1e-9)))


def time_rounds(contenders: Sequence[Contender], rounds: int, target: float, budget: float, rng: random.Random) -> int:
    """Per-call time of every live contender in each of up to `rounds` rounds, the contenders of a round in
    random order, so that a noisy neighbour hits all of them alike; stops early (after 5 rounds at least) once
    `budget` seconds have gone. Returns the number of rounds run."""
    live = [c for c in contenders if c.fn is not None]
    timers = {c.name: make_timer(c.fn, c.args) for c in live}  # type: ignore[arg-type]  # live: fn is set
    numbers = {c.name: calibrate(timers[c.name], target) for c in live}
    start = time.perf_counter()
    done = 0
    for done in range(1, rounds + 1):
        order = list(live)
        rng.shuffle(order)
        for c in order:
            c.times.append(timers[c.name].timeit(numbers[c.name]) / numbers[c.name])
        if done >= 5 and time.perf_counter() - start > budget:
            break
    return done


def ratio(a: Contender, b: Contender) -> float | None:
    """The median over rounds of a's time over b's time in the same round."""
    if not a.times or not b.times:
        return None
    return statistics.median(x / y for x, y in zip(a.times, b.times))


def peak_memory(fn: Callable[..., Any], args: Sequence[Any]) -> int:
    """Peak memory (bytes, tracemalloc: NumPy reports its array buffers to it) of one call, above what was
    allocated before the call: temporaries and results."""
    fn(*args)  # warm: a first call may allocate caches that are not per-call costs
    gc.collect()
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        fn(*args)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


# -- s2s_ad's transform time ----------------------------------------------------------------------------------------


def clear_s2s_cache(libs: Libraries) -> bool:
    """Empty s2s_ad's cache of built gradients, so the next `grad(...)` builds afresh; False if it cannot be found."""
    try:
        from s2s_ad import cache
    except Exception:  # noqa: BLE001 - a checkout without the module: report, do not stop
        return False
    entries = getattr(cache, "ENTRIES", None)
    if entries is None or not hasattr(entries, "clear"):
        return False
    entries.clear()
    return True


@dataclass
class TransformRow:
    model: str
    seconds: float | None  # median of the timed builds (to the refusal, when refused)
    builds: int
    status: str  # "ok", "refused: ...", "failed: ..."
    cache_cleared: bool


def transform_time(model: M.Model, libs: Libraries, repeats: int) -> TransformRow:
    """Time of `grad(model.loss, wrt=...)` built afresh (the cache cleared before each build) and its first
    call on N = 10 samples (a NumPy function's gradient is generated at its first call, for the shapes it is
    given), median of `repeats` builds after one untimed build (which also imports s2s_ad's stages)."""
    small = model.args(10)
    grad, s2s_error = libs.get("s2s_ad.grad"), libs.get("s2s_ad.S2SError")
    if grad is None:
        return TransformRow(model.name, None, 0, f"unavailable ({libs.missing.get('s2s_ad', '')})", False)
    times, status, cleared = [], "ok", True
    for i in range(repeats + 1):
        cleared = clear_s2s_cache(libs) and cleared
        start = time.perf_counter()
        try:
            grad(model.loss, wrt=model.wrt)(*small)
        except s2s_error as error:
            status = f"refused: {first_line(error)}"
        except Exception as error:  # noqa: BLE001
            status = f"failed: {describe(error)}"
        if i:
            times.append(time.perf_counter() - start)
    return TransformRow(model.name, statistics.median(times) if times else None, len(times), status, cleared)


# -- one case: a model at one N ----------------------------------------------------------------------------------------


@dataclass
class CaseResult:
    model: M.Model
    n: int
    contenders: dict[str, Contender]
    rounds: int
    memory: dict[str, int | None]


def run_case(model: M.Model, n: int, libs: Libraries, opts: argparse.Namespace, rng: random.Random) -> CaseResult:
    """Build, check, time and measure the memory of every contender for `model` at N = `n`."""
    args = model.args(n)
    contenders = make_contenders(model, args, libs)
    rounds = time_rounds(contenders, opts.rounds, opts.target, opts.budget, rng)
    memory: dict[str, int | None] = {}
    for c in contenders:
        if c.name != "jax.jit":  # tracemalloc does not see XLA's buffers
            memory[c.name] = peak_memory(c.fn, c.args) if c.fn is not None else None
    return CaseResult(model, n, {c.name: c for c in contenders}, rounds, memory)


# -- the report ------------------------------------------------------------------------------------------------------------


def fmt_time(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    if seconds < 1e-3:
        return f"{seconds * 1e6:.1f} µs"
    if seconds < 1.0:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds:.2f} s"


def fmt_ratio(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}x"


def fmt_bytes(n: int | None) -> str:
    if n is None:
        return "—"
    if n < 1024**2:
        return f"{n / 1024:.1f} KiB"
    return f"{n / 1024**2:.2f} MiB"


def cell(c: Contender) -> str:
    """A contender's median time, or why it has none."""
    return fmt_time(c.median) if c.fn is not None else c.status.replace("|", "\\|")


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(" --- " for _ in header) + "|"]
    return lines + ["| " + " | ".join(r) + " |" for r in rows]


def report(results: Sequence[CaseResult], transforms: Sequence[TransformRow], libs: Libraries, opts: argparse.Namespace) -> str:
    """The whole report as markdown."""
    lines = ["# s2s_ad on NumPy models", ""]
    threads = f"held to {opts.blas_threads} (--blas-threads)" if opts.blas_threads else "as the environment sets them"
    lines += [
        f"Mode: {'quick (smoke test; numbers are rough)' if opts.quick else 'full'}. Machine: {machine()}.",
        f"Versions: {versions(libs)}; s2s_ad at {s2s_revision()}.",
        f"NumPy BLAS threads: {threads}.",
        "",
    ]
    lines += [f"- {line}" for line in blas_lines()]
    lines += [
        "",
        "Per-call times are wall-clock medians over interleaved rounds (each round times every contender once, "
        f"in random order, for about {opts.target * 1e3:g} ms of calls each); ratios are medians of per-round ratios. "
        "`jax.jit` excludes its first call (trace and compile), shown as `jit 1st call`. Losses are sums over N.",
        "",
        "Models (other sizes):",
        "",
    ]
    shown = {r.model.name: r.model for r in results}
    lines += [f"- `{m.name}`: {m.shapes(M.FULL)}; wrt {', '.join(m.wrt)}" for m in shown.values()]
    lines += ["", "## Per call", ""]
    rows = []
    for r in results:
        c = r.contenders
        rows.append(
            [
                r.model.name,
                f"{r.n:,}",
                str(r.rounds),
                *(cell(c[name]) for name in CONTENDERS),
                fmt_time(c["jax.jit"].first_call),
                fmt_ratio(ratio(c["s2s_ad"], c["hand"])),
                fmt_ratio(ratio(c["s2s_ad"], c["autograd"])),
                fmt_ratio(ratio(c["s2s_ad"], c["jax.jit"])),
                fmt_ratio(ratio(c["hand"], c["f"])),
            ]
        )
    header = ["model", "N", "rounds", *CONTENDERS, "jit 1st call", "s2s_ad/hand", "s2s_ad/autograd", "s2s_ad/jax.jit", "hand/f"]
    lines += table(header, rows)
    lines += ["", "## The peers against the hand-written gradient (medians of per-round ratios)", ""]
    rows = []
    for r in results:
        c = r.contenders
        rows.append(
            [r.model.name, f"{r.n:,}", fmt_ratio(ratio(c["autograd"], c["hand"])), fmt_ratio(ratio(c["jax.jit"], c["hand"]))]
        )
    lines += table(["model", "N", "autograd/hand", "jax.jit/hand"], rows)
    lines += [
        "",
        "## Peak memory of one call (tracemalloc; jax.jit not measured: tracemalloc does not see XLA's buffers)",
        "",
    ]
    rows = []
    for r in results:
        m = r.memory
        generated, hand = m.get("s2s_ad"), m.get("hand")
        mem_ratio = generated / hand if generated is not None and hand else None
        rows.append(
            [r.model.name, f"{r.n:,}", *(fmt_bytes(m.get(k)) for k in ("f", "hand", "s2s_ad")), fmt_ratio(mem_ratio)]
            + [fmt_bytes(m.get("autograd"))]
        )
    lines += table(["model", "N", "f", "hand", "s2s_ad", "s2s_ad/hand", "autograd"], rows)
    lines += ["", "## s2s_ad's transform time (a fresh `grad(loss, wrt=...)` and its first call at N = 10, cache cleared)", ""]
    rows = []
    for t in transforms:
        note = "" if t.cache_cleared else " (cache NOT cleared: s2s_ad.cache.ENTRIES not found)"
        when = f"median of {t.builds}" if t.status == "ok" else f"to the refusal, median of {t.builds}"
        rows.append([t.model, fmt_time(t.seconds), when, t.status.replace("|", "\\|") + note])
    lines += table(["model", "build", "of", "status"], rows)
    return "\n".join(lines) + "\n"


# -- main ----------------------------------------------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    names = [m.name for m in M.MODELS]
    parser.add_argument("--sizes", help="comma-separated N (default 100,1000,10000; --quick: 100)")
    parser.add_argument("--models", help=f"comma-separated models (default all: {','.join(names)})")
    parser.add_argument("--rounds", type=int, help="interleaved rounds per model and N (default 40; --quick: 3)")
    parser.add_argument("--target", type=float, help="seconds of calls per contender per round (default 0.01)")
    parser.add_argument("--budget", type=float, help="seconds of rounds per model and N before stopping early (default 20)")
    parser.add_argument("--quick", action="store_true", help="a smoke test of a few seconds: N = 100, 3 rounds")
    parser.add_argument("--seed", type=int, default=0, help="seed of the per-round order")
    parser.add_argument(
        "--blas-threads", type=int, help="hold NumPy's BLAS to this many threads (threadpoolctl; default: unchanged)"
    )
    parser.add_argument("--out", type=Path, help="also write the markdown report here")
    parser.add_argument("--plot", type=Path, help="also draw the per-call ratios to the hand-written gradient here (matplotlib)")
    opts = parser.parse_args(argv)
    if opts.sizes:
        opts.sizes = [int(s.replace("_", "")) for s in opts.sizes.split(",")]
    else:
        opts.sizes = [100] if opts.quick else list(DEFAULT_SIZES)
    chosen = opts.models.split(",") if opts.models else names
    unknown = sorted(set(chosen) - set(names))
    if unknown:
        parser.error(f"unknown model(s) {', '.join(unknown)}; choose from {', '.join(names)}")
    opts.models = [m for m in M.MODELS if m.name in chosen]
    if opts.blas_threads is not None and importlib.util.find_spec("threadpoolctl") is None:
        parser.error("--blas-threads needs threadpoolctl (pip install threadpoolctl)")
    defaults = {"rounds": 3, "target": 0.002, "budget": 1.0} if opts.quick else {"rounds": 40, "target": 0.01, "budget": 20.0}
    for key, value in defaults.items():
        if getattr(opts, key) is None:
            setattr(opts, key, value)
    return opts


def load_average() -> str:
    """The 1-minute load average (runnable processes), or "unknown": how busy the shared machine was."""
    try:
        return f"{os.getloadavg()[0]:.2f}"
    except (AttributeError, OSError):
        return "unknown"


def limit_blas_threads(threads: int | None) -> contextlib.AbstractContextManager[Any]:
    """A context that holds NumPy's BLAS to `threads` threads (threadpoolctl), or changes nothing for None.

    On a shared machine with few CPUs, a multithreaded GEMM whose partner thread is descheduled waits for it;
    one thread gives steadier numbers. XLA's own threads (jax.jit) are not limited by this."""
    if threads is None:
        return contextlib.nullcontext()
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=threads, user_api="blas")


def main(argv: Sequence[str] | None = None) -> int:
    opts = parse_args(argv)
    started = time.perf_counter()
    load_start = load_average()
    with limit_blas_threads(opts.blas_threads):
        for line in blas_lines():
            print(line, file=sys.stderr)
        finite_difference_check(M.MODELS)
        print("hand-written gradients agree with central finite differences", file=sys.stderr)
        libs = import_libraries()
        transforms = [transform_time(m, libs, repeats=1 if opts.quick else 3) for m in opts.models]
        rng = random.Random(opts.seed)
        results = []
        for model in opts.models:
            for n in opts.sizes:
                print(f"{model.name} N={n:,} ...", file=sys.stderr, flush=True)
                results.append(run_case(model, n, libs, opts, rng))
        text = report(results, transforms, libs, opts)
    text += (
        f"\nTotal time of the run: {time.perf_counter() - started:.1f} s; "
        f"1-minute load average {load_start} at the start, {load_average()} at the end ({os.cpu_count()} logical CPUs).\n"
    )
    print(text)
    if opts.out:
        opts.out.write_text(text)
        print(f"wrote {opts.out}", file=sys.stderr)
    if opts.plot:
        plot(results, opts.plot)
        print(f"wrote {opts.plot}", file=sys.stderr)
    return 0


def plot(results: Sequence[CaseResult], path: Path) -> None:
    """One group of bars per model and N: s2s_ad's, autograd's and jax.jit's time per call over the
    hand-written gradient's (medians of per-round ratios), on a log scale, with the 1.15x target."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    peers = ("s2s_ad", "autograd", "jax.jit")
    fig, axis = plt.subplots(figsize=(13, 4.8))
    width = 0.8 / len(peers)
    for k, name in enumerate(peers):
        positions, heights = [], []
        for i, case in enumerate(results):
            found = ratio(case.contenders[name], case.contenders["hand"])
            if found is not None:
                positions.append(i + (k - (len(peers) - 1) / 2) * width)
                heights.append(found)
        axis.bar(positions, heights, width=width, label=name)
    axis.axhline(1.0, color="black", linewidth=0.8)
    axis.axhline(1.15, color="red", linewidth=0.8, linestyle="--", label="1.15x target")
    axis.set_yscale("log")
    axis.set_xticks(range(len(results)), [f"{c.model.name}\nN={c.n:,}" for c in results], fontsize=8)
    axis.set_ylabel("time per call / hand-written NumPy gradient")
    axis.set_title("NumPy models: per-call cost against a careful hand-written gradient (lower is better)")
    axis.legend(fontsize=8, ncol=4)
    fig.tight_layout()
    fig.savefig(path, dpi=100)


if __name__ == "__main__":
    raise SystemExit(main())
