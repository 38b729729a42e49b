"""Checkpointing a long loop: the plain function, its gradient, and its gradient with `checkpoints=100`, in one process.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/bench_checkpoints.py [--rounds 7] [--steps 1000000]
        [--out benchmarks/results_checkpoints.md]

The loop is `x = x + dt * math.sin(x)`, 1,000,000 steps; the gradients are with respect to
every parameter (`grad(simulate)`: x, n and dt). The two gradients are
checked to be the same, bit for bit, before anything is timed. Per-call times
are medians of CPU time over interleaved rounds (each round calls the three
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--steps", type=int, default=1_000_000)
    parser.add_argument("--out", default=str(HERE / "results_checkpoints.md"))
    options = parser.parse_args()
    args = (0.5, options.steps, 1e-6)
    contenders = {
        "plain function": simulate,
        "gradient": grad(simulate),
        f"gradient, checkpoints={CHECKPOINTS}": grad(simulate, checkpoints=CHECKPOINTS),
    }
    names = list(contenders)
    plain, taped, checkpointed = (contenders[n] for n in names)
    if taped(*args) != checkpointed(*args):
        raise SystemExit("the checkpointed gradient differs from the un-checkpointed one")
    times: dict[str, list[float]] = {name: [] for name in names}
    for _ in range(options.rounds):
        for name in names:
            times[name].append(timed(contenders[name], args))
    medians = {name: statistics.median(times[name]) for name in names}
    peaks = {name: peak(contenders[name], args) for name in names}
    lines = [
        "# Checkpointing a long loop",
        "",
        f"`x = x + dt * math.sin(x)`, {options.steps:,} steps; medians of {options.rounds} interleaved rounds of CPU time "
        f"per call; peak memory seen by `tracemalloc` during one call. Python {platform.python_version()}, "
        f"{platform.machine()}.",
        "",
        "| | time per call | vs plain | vs gradient | peak memory |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for name in names:
        ratio_plain = medians[name] / medians[names[0]]
        ratio_grad = medians[name] / medians[names[1]]
        lines.append(
            f"| {name} | {medians[name] * 1e3:.0f} ms | {ratio_plain:.2f}x | {ratio_grad:.2f}x | {peaks[name] / 2**20:.3f} MiB |"
        )
    lines += [
        "",
        f"The gradient with checkpoints={CHECKPOINTS} is the same as without, bit for bit "
        f"({checkpointed(*args)!r}). Per step: the gradient costs {medians[names[1]] / medians[names[0]]:.2f}x the plain "
        f"function, with {peaks[names[1]] / options.steps:.1f} bytes of tape; checkpointed, "
        f"{medians[names[2]] / medians[names[1]]:.2f}x the gradient's time with {peaks[names[2]] / peaks[names[1]]:.4f} "
        "of its memory.",
        "",
        "Command: `env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/bench_checkpoints.py`",
        "",
    ]
    report = "\n".join(lines)
    print(report)
    Path(options.out).write_text(report)


if __name__ == "__main__":
    main()
