"""Checkpointing a long loop: the plain function, its gradient, and its gradient checkpointed, in one process.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/bench_checkpoints.py [--rounds 7] [--steps 1000000]
        [--out benchmarks/results_checkpoints.md]

The loop is `x = x + dt * math.sin(x)`, 1,000,000 steps; the gradients are with respect to
every parameter (`grad(simulate)`: x, n and dt), un-checkpointed, with `checkpoints=100` (uniform
segments) and with `checkpoints=100, schedule="revolve"` (binomial). The same loop as a `while` loop
(`while t < t_end`, 1,000,000 steps too) is measured un-checkpointed and with `checkpoints=100` (the
online schedule). The gradients are checked to be the same, bit for bit, before anything is timed.
Per-call times are medians of CPU time over interleaved rounds (each round calls every contender
once; gc off while timing). The memory is the peak that `tracemalloc` sees
during one call, apart from the timed calls (tracing slows them down): for
the gradients, that is the tape. The report is printed as markdown and
written to `--out`.
"""

from __future__ import annotations

import argparse
import gc
import math
import platform
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from s2s_ad import grad  # noqa: E402

CLOCK = time.process_time  # CPU time of this process: on a shared machine, wall time also counts waiting for a CPU
CHECKPOINTS = 100


def simulate(x, n=1000000, dt=1e-6):
    """1,000,000 explicit Euler steps of x' = sin(x)."""
    for _ in range(n):
        x = x + dt * math.sin(x)
    return x


def simulate_while(x, t_end=1.0, dt=1e-6):
    """The same steps as a `while` loop: its trip count is not known when it starts."""
    t = 0.0
    while t < t_end:
        x = x + dt * math.sin(x)
        t = t + dt
    return x


def timed(function: Callable[..., Any], args: tuple[Any, ...]) -> float:
    gc.disable()
    try:
        start = CLOCK()
        function(*args)
        return CLOCK() - start
    finally:
        gc.enable()


def peak(function: Callable[..., Any], args: tuple[Any, ...]) -> int:
    """The most memory `tracemalloc` saw allocated during one call, in bytes."""
    gc.collect()
    tracemalloc.start()
    try:
        function(*args)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def measure(
    contenders: dict[str, Callable[..., Any]], args: tuple[Any, ...], rounds: int
) -> tuple[dict[str, float], dict[str, int]]:
    """Median CPU time per call over interleaved rounds, and the peak memory of one call, of each contender."""
    medians = timings(contenders, args, rounds)
    return medians, {name: peak(contenders[name], args) for name in contenders}


def timings(contenders: dict[str, Callable[..., Any]], args: tuple[Any, ...], rounds: int) -> dict[str, float]:
    """Median CPU time per call over interleaved rounds, once every checkpointed gradient (the contenders after
    the first two) is checked to be the un-checkpointed one (the second), bit for bit."""
    names = list(contenders)
    reference = contenders[names[1]](*args)
    for name in names[2:]:
        if contenders[name](*args) != reference:
            raise SystemExit(f"{name}: the checkpointed gradient differs from the un-checkpointed one")
    times: dict[str, list[float]] = {name: [] for name in names}
    for _ in range(rounds):
        for name in names:
            times[name].append(timed(contenders[name], args))
    return {name: statistics.median(times[name]) for name in names}


def table(medians: dict[str, float], peaks: dict[str, int] | None) -> list[str]:
    """One row per contender; without `peaks`, no memory column (numba allocates where `tracemalloc` does not see)."""
    names = list(medians)
    head = "| | time per call | vs plain | vs gradient |" + (" peak memory |" if peaks is not None else "")
    lines = [head, "| --- | ---: | ---: | ---: |" + (" ---: |" if peaks is not None else "")]
    for name in names:
        ratio_plain = medians[name] / medians[names[0]]
        ratio_grad = medians[name] / medians[names[1]]
        memory = f" {peaks[name] / 2**20:.3f} MiB |" if peaks is not None else ""
        lines.append(f"| {name} | {medians[name] * 1e3:.1f} ms | {ratio_plain:.2f}x | {ratio_grad:.2f}x |{memory}")
    return lines


def numba_section(args: tuple[Any, ...], rounds: int) -> list[str]:
    """The same loop with `backend="numba"`: numba's plain function, its gradient, and the gradient checkpointed
    (compiled before timing)."""
    try:
        import numba
    except ImportError:
        return ["numba is not installed: no numba rows.", ""]
    contenders = {
        "plain function, numba.njit": numba.njit(simulate),
        'gradient, backend="numba"': grad(simulate, backend="numba"),
        f'gradient, backend="numba", checkpoints={CHECKPOINTS} (uniform)': grad(
            simulate, backend="numba", checkpoints=CHECKPOINTS
        ),
        f'gradient, backend="numba", checkpoints={CHECKPOINTS}, schedule="revolve"': grad(
            simulate, backend="numba", checkpoints=CHECKPOINTS, schedule="revolve"
        ),
    }
    for function in contenders.values():
        function(*args)  # compiled here, not timed
    medians = timings(contenders, args, rounds)
    reference = list(contenders.values())[1](*args)
    return [
        f'With `backend="numba"` (numba {numba.__version__}; compile times not counted; numba allocates the tape '
        "outside Python's allocator, where `tracemalloc` does not see it: without checkpoints the tape is one "
        "float64 per step, 8 bytes, in a NumPy array):",
        "",
        *table(medians, None),
        "",
        f"The numba gradients are the same, bit for bit, with and without checkpoints ({reference!r}).",
        "",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--steps", type=int, default=1_000_000)
    parser.add_argument("--out", default=str(HERE / "results_checkpoints.md"))
    options = parser.parse_args()
    args = (0.5, options.steps, 1e-6)
    counted = {
        "plain function": simulate,
        "gradient": grad(simulate),
        f"gradient, checkpoints={CHECKPOINTS} (uniform)": grad(simulate, checkpoints=CHECKPOINTS),
        f'gradient, checkpoints={CHECKPOINTS}, schedule="revolve"': grad(simulate, checkpoints=CHECKPOINTS, schedule="revolve"),
    }
    medians, peaks = measure(counted, args, options.rounds)
    while_args = (0.5, 1.0, 1.0 / options.steps)
    whiles = {
        "plain function (while)": simulate_while,
        "gradient (while)": grad(simulate_while),
        f"gradient (while), checkpoints={CHECKPOINTS} (online)": grad(simulate_while, checkpoints=CHECKPOINTS),
    }
    while_medians, while_peaks = measure(whiles, while_args, options.rounds)
    names = list(counted)
    lines = [
        "# Checkpointing a long loop",
        "",
        f"`x = x + dt * math.sin(x)`, {options.steps:,} steps; medians of {options.rounds} interleaved rounds of CPU time "
        f"per call; peak memory seen by `tracemalloc` during one call. Python {platform.python_version()}, "
        f"{platform.machine()}.",
        "",
        "A `for` loop over `range(n)`:",
        "",
        *table(medians, peaks),
        "",
        "The same steps as `while t < t_end:` (trip count unknown when the loop starts):",
        "",
        *table(while_medians, while_peaks),
        "",
        *numba_section(args, options.rounds),
        f"Every checkpointed gradient is the same as the un-checkpointed one, bit for bit ({counted[names[1]](*args)!r}). "
        f"Per step: the gradient costs {medians[names[1]] / medians[names[0]]:.2f}x the plain function, with "
        f"{peaks[names[1]] / options.steps:.1f} bytes of tape; uniform checkpoints {medians[names[2]] / medians[names[1]]:.2f}x "
        f"the gradient's time with {peaks[names[2]] / peaks[names[1]]:.4f} of its memory; revolve "
        f"{medians[names[3]] / medians[names[1]]:.2f}x with {peaks[names[3]] / peaks[names[1]]:.4f}.",
        "",
        "Command: `env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/bench_checkpoints.py`",
        "",
    ]
    report = "\n".join(lines)
    print(report)
    Path(options.out).write_text(report)


if __name__ == "__main__":
    main()
