"""s2s_ad's transform time against CPython's own `compile()` of the same source, and its peak memory per primitive.

    python benchmarks/bench_transform.py [--quick] [--sizes 1000,3000,10000,30000,100000] [--memory-sizes 1000,...,30000]
        [--repeats 3] [--compile-repeats 5] [--long 20] [--cli-size 10000]
        [--out benchmarks/results_transform.md] [--plot benchmarks/bench_transform.png]

The functions are the two families of straight-line functions of `bench.py`
(`bench.FAMILIES`, the same sizes for a number of primitives): *mixed*,
seeded lines `v = f(a) op b` over four variables (`functions.mixed_source`),
and *chain*, `x = math.sin(x) * x + math.cos(x)` repeated
(`functions.chain_source`). For each size and each repeat a new module is
written and imported (a module name, a file and a function name of its own),
so that nothing of an earlier repeat is reused: not s2s_ad's cache of built
gradients (kept per function object), not its parse of the module's file
(kept per file), not the file of generated code (named after the function).
Then, interleaved, in the same run:

1. `compile(source, filename, "exec")` of that module's text (the text the
   function was loaded from), `--compile-repeats` times with the garbage
   collector paused, as the transform pauses it;
2. right after, the first `s2s_ad.grad(f)` of the new function, end to end
   (reading the source, parsing, lowering, reverse, optimize, generate,
   compile); the gradient is called once afterwards, untimed, to see that
   it runs.

The ratio of a size is the median over the repeats of transform / median
compile() of the same repeat. After the repeats, `bench.staged_transform`
gives the time of each stage on a fresh function (once), and one more fresh
function is transformed under `tracemalloc` (for `--memory-sizes`) for the
peak memory of the transform per primitive. A size whose first transform takes
more than `--long` seconds is transformed once. Times are CPU time of this
process (on a shared machine, wall time also counts waiting for a CPU).

Last, the command line (`python -m s2s_ad grad FILE:NAME -o OUT`) transforms
the `--cli-size` mixed function once, and the progress lines it prints on
standard error for a transform longer than a second are shown as printed.
The report is printed as markdown and written to `--out`; the plot to `--plot`.
"""

from __future__ import annotations

import argparse
import gc
import inspect
import linecache
import os
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(1, str(REPO))

import bench  # noqa: E402
import functions as F  # noqa: E402

from s2s_ad import api, grad  # noqa: E402

CLOCK = bench.CLOCK  # CPU time of this process
STAGES = bench.STAGES
FAMILY_NAMES = tuple(bench.FAMILIES)
DEFAULT_SIZES = (1000, 3000, 10000, 30000, 100000)
QUICK_SIZES = (1000, 3000)
MEMORY_LIMIT = 30000  # the largest size that gets a tracemalloc run unless --memory-sizes says otherwise
RATIO_TARGET = 20.0  # transform at most this many times compile()
KIB_TARGET = 2.0  # peak memory of the transform per primitive, KiB

# The module text of each family at a size, with the function named `name`; the sizes of `bench.FAMILIES`.
SOURCES: dict[str, Callable[[int, str], str]] = {
    "mixed": lambda size, name: F.mixed_source(max(1, (size - 3) // 2), 0, name),
    "chain": lambda size, name: F.chain_source(max(1, size // 4), name),
}


def progress(text: str) -> None:
    print(f"[bench] {text}", file=sys.stderr, flush=True)


# -- one fresh function ----------------------------------------------------------------------------


@dataclass
class Fresh:
    """A function imported from a module of its own, and the module's text and file."""

    f: Callable[..., Any]
    source: str
    filename: str


def fresh(family: str, size: int, tag: str) -> Fresh:
    """A new module of `family` at `size` (module, file and function named after `tag`), imported."""
    name = f"{family}_{size}_{tag}"
    source = SOURCES[family](size, name)
    f = F.load_module_function(f"s2s_ad_bench_transform_{name}", source, name)
    return Fresh(f, source, f.__code__.co_filename)


def forget(made: Fresh) -> None:
    """Drop the module from `sys.modules` and its lines from `linecache` (the file stays until the end)."""
    sys.modules.pop(made.f.__module__, None)
    linecache.cache.pop(made.filename, None)


def time_compile(made: Fresh, repeats: int) -> list[float]:
    """CPU seconds of each of `repeats` `compile(source, filename, "exec")` of the module's text, gc paused."""
    times = []
    gc.collect()
    with api.collector_paused():
        for _ in range(repeats):
            start = CLOCK()
            compile(made.source, made.filename, "exec")
            times.append(CLOCK() - start)
    return times


def time_transform(made: Fresh) -> tuple[float, str]:
    """CPU seconds of the first `grad(f)` (end to end), and the generated gradient's source; then one call of the
    gradient, untimed."""
    gc.collect()
    start = CLOCK()
    g = grad(made.f)
    seconds = CLOCK() - start
    g(*arguments(made.f))
    return seconds, inspect.getsource(g)


def compile_output(source: str, repeats: int) -> tuple[float, int]:
    """What CPython's own compiler costs for the generated gradient's source: the median CPU seconds of
    `compile()` over `repeats` (gc paused), and the peak bytes `tracemalloc` sees during one."""
    times = []
    with api.collector_paused():
        for _ in range(repeats):
            start = CLOCK()
            compile(source, "<generated>", "exec")
            times.append(CLOCK() - start)
    tracemalloc.start()
    compile(source, "<generated>", "exec")
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return statistics.median(times), peak


def arguments(f: Callable[..., Any]) -> list[float]:
    return [0.3 + 0.1 * i for i in range(f.__code__.co_argcount)]  # type: ignore[attr-defined]


# -- one size ----------------------------------------------------------------------------------------


@dataclass
class Row:
    family: str
    size: int  # the size asked for
    primitives: int = 0
    compiles: list[list[float]] = field(default_factory=list)  # per repeat: its compile() times
    transforms: list[float] = field(default_factory=list)  # per repeat: the transform time
    stages: dict[str, float] = field(default_factory=dict)
    peak: int | None = None  # bytes, tracemalloc
    output_lines: int = 0  # lines of the generated gradient
    output_compile: float | None = None  # CPU seconds of compile() of the generated gradient's source
    output_peak: int | None = None  # bytes, tracemalloc, during that compile()
    traced: float | None = None  # wall seconds of the traced transform

    @property
    def compile_median(self) -> float:
        return statistics.median(t for times in self.compiles for t in times)

    @property
    def transform_median(self) -> float:
        return statistics.median(self.transforms)

    @property
    def ratio(self) -> float:
        """Median over the repeats of the transform against the median compile() of the same repeat."""
        return statistics.median(t / statistics.median(c) for t, c in zip(self.transforms, self.compiles))

    @property
    def stage_sum(self) -> float:
        return sum(self.stages.get(s, 0.0) for s in STAGES)

    @property
    def kib_per_primitive(self) -> float | None:
        return self.peak / self.primitives / 1024 if self.peak is not None and self.primitives else None

    @property
    def output_ratio(self) -> float | None:
        """compile() of the generated gradient against compile() of the function's module: CPython's own share."""
        return self.output_compile / self.compile_median if self.output_compile is not None else None

    @property
    def output_kib(self) -> float | None:
        return self.output_peak / self.primitives / 1024 if self.output_peak is not None and self.primitives else None


def measure(family: str, size: int, repeats: int, compile_repeats: int, long: float, memory: bool) -> Row:
    """Interleaved compile() and transform times of fresh functions, the stages once, the traced peak once."""
    row = Row(family, size)
    for k in range(repeats):
        made = fresh(family, size, f"r{k}")
        row.compiles.append(time_compile(made, compile_repeats))
        seconds, output = time_transform(made)
        row.transforms.append(seconds)
        forget(made)
        if k == 0:
            row.output_lines = output.count("\n") + 1
            row.output_compile, row.output_peak = compile_output(output, compile_repeats)
        progress(
            f"  {family} {size}, repeat {k + 1}: compile() {statistics.median(row.compiles[-1]) * 1e3:.2f} ms, "
            f"transform {row.transforms[-1]:.3f} s"
        )
        if k == 0 and row.transforms[0] > long:
            progress(f"  {family} {size}: over {long:g} s, one repeat only")
            break
    made = fresh(family, size, "stages")
    gc.collect()
    with api.collector_paused():
        row.stages, row.primitives = bench.staged_transform(made.f)
    forget(made)
    if memory:
        made = fresh(family, size, "memory")
        row.peak, row.traced = bench.peak_memory(grad, (made.f,))
        forget(made)
    kib = row.kib_per_primitive
    progress(
        f"{family} {row.primitives} primitives: compile() {row.compile_median * 1e3:.2f} ms, "
        f"transform {row.transform_median:.3f} s ({row.ratio:.0f}x)" + (f", {kib:.2f} KiB/primitive" if kib is not None else "")
    )
    return row


def warm_up() -> None:
    """One small transform and compile() first: the stages' modules are imported by the first `grad`."""
    made = fresh("mixed", 11, "warm")
    time_compile(made, 1)
    time_transform(made)
    forget(made)


# -- the command line's progress lines -------------------------------------------------------------


@dataclass
class CliRun:
    command: str
    returncode: int
    seconds: float  # wall time of the whole command (a fresh interpreter: imports included)
    stderr: list[str]
    written: int  # lines of the module written


def run_cli(size: int, scratch: Path) -> CliRun:
    """`python -m s2s_ad grad FILE:NAME -o OUT` on the mixed function of `size`, this tree's s2s_ad."""
    name = f"mixed_{size}"
    source = scratch / f"{name}.py"
    source.write_text(SOURCES["mixed"](size, name))
    out = scratch / f"{name}_grad.py"
    args = ["-m", "s2s_ad", "grad", f"{source.name}:{name}", "-o", out.name]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, *args], cwd=scratch, env=env, capture_output=True, text=True, timeout=1800, check=False
    )
    seconds = time.perf_counter() - start
    written = len(out.read_text().splitlines()) if out.exists() else 0
    return CliRun(" ".join(["python", *args]), done.returncode, seconds, done.stderr.splitlines(), written)


# -- report ---------------------------------------------------------------------------------------------


def git_revision() -> str:
    try:
        head = subprocess.run(
            ["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True
        )
        dirty = subprocess.run(
            ["git", "-C", str(REPO), "status", "--porcelain", "--", "s2s_ad"], capture_output=True, text=True, check=True
        )
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head.stdout.strip() + (" + uncommitted changes" if dirty.stdout.strip() else "")


def load_average() -> str:
    try:
        return ", ".join(f"{v:.2f}" for v in os.getloadavg())
    except (AttributeError, OSError):
        return "unknown"


def verdict(value: float | None, target: float) -> str:
    if value is None:
        return "not measured"
    return "met" if value <= target else "NOT met"


def fmt_kib(value: float | None) -> str:
    return f"{value:.2f} KiB" if value is not None else "-"


@dataclass
class Results:
    command: str
    quick: bool
    rows: list[Row]
    repeats: int
    compile_repeats: int
    long: float
    cli: CliRun | None
    load_start: str
    load_end: str = ""
    seconds: float = 0.0


def report(res: Results) -> str:
    lines = [
        "# s2s_ad transform time against `compile()`, and its peak memory",
        "",
        f"Mode: {'quick (smoke test, numbers are rough)' if res.quick else 'full'}; machine: {bench.machine()}; "
        f"s2s_ad at {git_revision()}; load average at the start {res.load_start}, at the end {res.load_end}.",
        "",
        f"Command: `{res.command}`",
        "",
        f"Targets: the transform (the first `grad(f)`) at most {RATIO_TARGET:g}x `compile()` of the function's module, "
        f"and at most {KIB_TARGET:g} KiB of peak memory per primitive.",
        "",
        "Straight-line functions of `bench.FAMILIES`. *mixed*: seeded lines `v = f(a) op b` over four variables "
        "(f in sin, cos, tanh; op in +, -, *), three inputs, differentiated with respect to all three. *chain*: "
        "`x = math.sin(x) * x + math.cos(x)` repeated, one variable. Primitives: primitive assignments after lowering.",
        "",
        "Each repeat imports a new module (its own module name, file and function name: neither s2s_ad's cache of "
        f'gradients nor its parse of the file is reused), times `compile(source, filename, "exec")` of its text '
        f"{res.compile_repeats} times with the garbage collector paused, then the first `grad(f)` end to end (frontend "
        "included; the first call of the gradient is not). CPU time. `compile()`: median of every compile of the size; "
        "transform: median of the repeats; ratio: median over the repeats of the transform against the median "
        f"`compile()` of the same repeat. {res.repeats} repeats, one where the first took more than {res.long:g} s "
        "(the column 'repeats' says how many ran). Stages: `bench.staged_transform` once on another fresh function "
        "(gc paused; 'stage compile' is the compile of the generated gradient; 'sum' adds all six; 'rest' is the "
        "transform minus that sum: what `grad` does besides those stages, such as its look for arrays and structures "
        "before the pipeline and its cache entry, give or take the noise between runs). Peak: "
        "`tracemalloc` over one more `grad(f)` of a fresh function, apart from the timed runs; everything the transform "
        "allocates, including the gradient it keeps. The last three columns are CPython's own share, a floor under "
        "both figures while the output stays what it is: the generated gradient's length, `compile()` of its source "
        "against `compile()` of the function's module (median of the same number of compiles), and the peak "
        "`tracemalloc` sees during that one `compile()`, per primitive.",
        "",
    ]
    header = [
        "primitives",
        "`compile()`",
        "transform",
        "ratio",
        "repeats",
        *(f"stage {s}" if s == "compile" else s for s in STAGES),
        "sum",
        "rest",
        "peak",
        "per primitive",
        "output lines",
        "compile() of output",
        "its peak per primitive",
    ]
    for family in FAMILY_NAMES:
        rows = [r for r in res.rows if r.family == family]
        if not rows:
            continue
        lines += [f"## {family}", ""]
        cells = [
            [
                f"{r.primitives:,}",
                f"{r.compile_median * 1e3:.2f} ms",
                bench.fmt_time(r.transform_median),
                f"{r.ratio:.1f}x",
                str(len(r.transforms)),
                *(bench.fmt_time(r.stages.get(s)) for s in STAGES),
                bench.fmt_time(r.stage_sum),
                f"{(r.transform_median - r.stage_sum) * 1e3:.0f} ms",
                bench.fmt_bytes(r.peak),
                fmt_kib(r.kib_per_primitive),
                f"{r.output_lines:,}",
                f"{r.output_ratio:.1f}x" if r.output_ratio is not None else "-",
                fmt_kib(r.output_kib),
            ]
            for r in rows
        ]
        lines += bench.table(header, cells) + [""]
    lines += [
        "## Targets",
        "",
        f"Transform at most {RATIO_TARGET:g}x `compile()`; peak memory at most {KIB_TARGET:g} KiB per primitive.",
        "",
    ]
    cells = [
        [
            r.family,
            f"{r.primitives:,}",
            f"{r.ratio:.1f}x: {verdict(r.ratio, RATIO_TARGET)}",
            f"{fmt_kib(r.kib_per_primitive)}: {verdict(r.kib_per_primitive, KIB_TARGET)}",
        ]
        for r in res.rows
    ]
    lines += bench.table(["family", "primitives", f"ratio <= {RATIO_TARGET:g}x", f"per primitive <= {KIB_TARGET:g} KiB"], cells)
    lines += [""]
    single = [f"{r.family} {r.primitives:,}" for r in res.rows if len(r.transforms) == 1 and res.repeats > 1]
    if single:
        lines += [f"Transformed once (the first transform took more than {res.long:g} s): {', '.join(single)}.", ""]
    lines += cli_section(res.cli)
    lines += [f"Benchmark run time: {res.seconds:.0f} s.", ""]
    return "\n".join(lines)


def cli_section(cli: CliRun | None) -> list[str]:
    if cli is None:
        return []
    lines = [
        "## The command line's progress lines",
        "",
        f"`{cli.command}` (in a temporary directory, this tree's s2s_ad): exit status {cli.returncode}, "
        f"{cli.seconds:.1f} s wall time in all (a fresh interpreter), {cli.written:,} lines written. "
        "It prints a line on standard error for each stage that ends more than a second into a transform; standard "
        "error as printed:",
        "",
    ]
    if cli.stderr:
        lines += ["```", *cli.stderr, "```", ""]
    else:
        lines += ["(nothing: no stage ended more than a second into the transform)", ""]
    return lines


def plot(rows: Sequence[Row], path: Path) -> bool:
    """Left: the ratio against primitives, with the 20x target; right: KiB per primitive, with the 2 KiB target."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as error:
        progress(f"no plot: matplotlib missing ({error})")
        return False
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.6))

    def draw(axis: Any, found: Sequence[Row], value: Callable[[Row], float | None], style: str, colour: str, label: str) -> None:
        points = [(r.primitives, v) for r in found if (v := value(r)) is not None]
        if points:
            axis.semilogx(*zip(*points), style, color=colour, alpha=1.0 if style.endswith("-") else 0.5, label=label)

    for family, marker, colour in zip(FAMILY_NAMES, "os", ("tab:blue", "tab:green")):
        found = [r for r in rows if r.family == family]
        output = f"{family}: compile() of the output"
        draw(left, found, lambda r: r.ratio, marker + "-", colour, family)
        draw(left, found, lambda r: r.output_ratio, marker + ":", colour, output)
        draw(right, found, lambda r: r.kib_per_primitive, marker + "-", colour, family)
        draw(right, found, lambda r: r.output_kib, marker + ":", colour, output)
    left.axhline(RATIO_TARGET, color="red", linewidth=0.8, linestyle="--", label=f"{RATIO_TARGET:g}x target")
    left.set_ylim(bottom=0)
    left.set_xlabel("primitive operations")
    left.set_ylabel("transform time / compile() time")
    left.set_title("The first grad(f) against compile() of its module")
    left.legend(fontsize=8)
    right.axhline(KIB_TARGET, color="red", linewidth=0.8, linestyle="--", label=f"{KIB_TARGET:g} KiB target")
    right.set_ylim(bottom=0)
    right.set_xlabel("primitive operations")
    right.set_ylabel("KiB per primitive")
    right.set_title("Peak memory of the transform (tracemalloc)")
    right.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


# -- main ---------------------------------------------------------------------------------------------


def sizes(text: str) -> list[int]:
    return [int(s.replace("_", "")) for s in text.split(",") if s.strip()]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help=f"sizes {', '.join(map(str, QUICK_SIZES))} only, for smoke-testing")
    parser.add_argument("--sizes", type=sizes, help=f"comma-separated primitives (default {','.join(map(str, DEFAULT_SIZES))})")
    parser.add_argument(
        "--memory-sizes",
        type=sizes,
        help=f"the sizes that get a tracemalloc run (default: those up to {MEMORY_LIMIT:,}; '' for none)",
    )
    parser.add_argument("--families", default=",".join(FAMILY_NAMES), help="comma-separated (default: mixed,chain)")
    parser.add_argument("--repeats", type=int, default=3, help="timed transforms per size (default 3)")
    parser.add_argument("--compile-repeats", type=int, default=5, help="compile() times before each transform (default 5)")
    parser.add_argument("--long", type=float, default=20.0, help="a size whose first transform takes longer runs once (s)")
    parser.add_argument("--cli-size", type=int, default=10000, help="primitives of the command-line run (0: none)")
    parser.add_argument("--out", type=Path, default=HERE / "results_transform.md", help="write the markdown report here")
    parser.add_argument("--plot", type=Path, default=HERE / "bench_transform.png", help="write the PNG plot here")
    options = parser.parse_args(argv)
    families = [f for f in options.families.split(",") if f]
    unknown = sorted(set(families) - set(FAMILY_NAMES))
    if unknown:
        parser.error(
            f"unknown famil{'ies' if len(unknown) > 1 else 'y'} {', '.join(unknown)}; choose from {', '.join(FAMILY_NAMES)}"
        )
    chosen = options.sizes or list(QUICK_SIZES if options.quick else DEFAULT_SIZES)
    memory = set(options.memory_sizes if options.memory_sizes is not None else [s for s in chosen if s <= MEMORY_LIMIT])
    shown = ["python", "benchmarks/bench_transform.py", *(sys.argv[1:] if argv is None else argv)]
    began = time.perf_counter()
    res = Results(
        " ".join(shown), options.quick, [], options.repeats, options.compile_repeats, options.long, None, load_average()
    )
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 20000))

    warm_up()
    for family in families:
        for size in chosen:
            progress(f"{family}, about {size:,} primitives")
            res.rows.append(measure(family, size, options.repeats, options.compile_repeats, options.long, size in memory))
    if options.cli_size:
        progress(f"the command line on the mixed function of about {options.cli_size:,} primitives")
        with tempfile.TemporaryDirectory(prefix="s2s_ad_bench_cli_") as scratch:
            res.cli = run_cli(options.cli_size, Path(scratch))
        if res.cli.returncode != 0:
            progress(f"the command line failed (exit status {res.cli.returncode})")
    res.seconds = time.perf_counter() - began
    res.load_end = load_average()
    text = report(res)
    print(text)
    if options.out:
        options.out.write_text(text)
        progress(f"wrote {options.out}")
    if options.plot and plot(res.rows, options.plot):
        progress(f"wrote {options.plot}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
