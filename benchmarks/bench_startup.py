"""What `import s2s_ad` and a cached `grad(f)(x)` written inline cost, for this tree and (optionally) another revision.

    python benchmarks/bench_startup.py [--revision REV] [--import-rounds 31] [--call-rounds 21]
        [--round-seconds 0.05] [--out benchmarks/results_startup.md]

Import time: `python -X importtime -c "import s2s_ad"` in a fresh interpreter,
the cumulative microseconds of the top-level `s2s_ad` entry of its stderr,
against `python -X importtime -c "import ast, inspect, dataclasses"` (the sum
of the cumulative times of those three top-level entries: what parsing a
function's source needs anyway). `PYTHONDONTWRITEBYTECODE` is removed from the
children's environment, and each command runs twice before anything is
recorded, so the numbers are those of a warm `.pyc` cache. Medians over
interleaved rounds: each round runs every command once, in rotating order, so
a noisy neighbour on a shared machine hits them alike. Also the modules
`import s2s_ad` loads beyond a bare interpreter, and which heavy ones
(multiprocessing, socket, pickle, decimal, random, sympy, numpy) are among them.

Inline call: for a few scalar functions, `grad(f)(x, y)` written inline (a
cache hit after the first call), against `g(x, y)` with `g = grad(f)` held in a
variable, and against `f(x, y)` itself; also `value_and_grad`, `wrt=` and
`argnums=`. Median CPU time per call (`timeit`, gc off, calls per round
calibrated to `--round-seconds`) over interleaved rounds; `inline - held` is the
median of the per-round differences: what a cache hit costs.

Every measurement runs in child interpreters with `PYTHONPATH` at the tree
measured: this one, and with `--revision REV` also REV checked out in a
temporary `git worktree` (removed at the end). The call timings of the two run
in two long-lived workers that take turns, round by round. Where REV's API has
no `argnums=`, its `wrt=` with the same indices stands in (said in the table).
The report is printed as markdown and written to `--out`.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import timeit
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent

CLOCK = time.process_time  # CPU time of this process: on a shared machine, wall time also counts waiting for a CPU
HEAVY = ("multiprocessing", "socket", "pickle", "decimal", "random", "sympy", "numpy")
BASELINE = ("ast", "inspect", "dataclasses")
IMPORT_S2S = "import s2s_ad"
IMPORT_BASELINE = "import " + ", ".join(BASELINE)
WARMUP_RUNS = 2
IMPORTTIME_LINE = re.compile(r"^import time:\s+(\d+) \|\s+(\d+) \| (\S.*)$")  # top level: the name right after "| "


# The functions differentiated (in the workers: s2s_ad reads their source from this file).


def product_sin(x: float, y: float) -> float:
    return x * y + math.sin(x)


def lecture(x: float, y: float, z: float) -> float:
    return z + math.sin(x**2 + y * math.exp(z))


def weighted_tanh(xs: list[float], w: float) -> float:
    s = 0.0
    for v in xs:
        s = s + math.tanh(w * v) * v
    return s


XS = [0.1 * k - 0.4 for k in range(10)]


@dataclass(frozen=True)
class Case:
    name: str
    transform: str  # an expression of grad/value_and_grad and the function: what is written inline
    function: str
    args: str  # the call's argument list, names of the timing namespace

    def statements(self, transform: str) -> dict[str, str]:
        return {"plain": f"{self.function}({self.args})", "held": f"held({self.args})", "inline": f"{transform}({self.args})"}


CASES = (
    Case("x * y + sin(x)", "grad(product_sin)", "product_sin", "x, y"),
    Case("lecture: z + sin(x**2 + y*exp(z))", "grad(lecture)", "lecture", "x, y, z"),
    Case("loop over a list of 10", "grad(weighted_tanh)", "weighted_tanh", "xs, w"),
    Case("lecture, value_and_grad", "value_and_grad(lecture)", "lecture", "x, y, z"),
    Case('lecture, wrt="x"', 'grad(lecture, wrt="x")', "lecture", "x, y, z"),
    Case("lecture, argnums=(0, 2)", "grad(lecture, argnums=(0, 2))", "lecture", "x, y, z"),
)
CONTENDERS = ("plain", "held", "inline")


# Import time and loaded modules (run from the parent, each in a fresh interpreter).


def child_env(root: Path) -> dict[str, str]:
    """The environment of a child measuring the tree at `root`: its PYTHONPATH, and .pyc files written and read."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONDONTWRITEBYTECODE", "PYTHONPATH")}
    env["PYTHONPATH"] = str(root)
    return env


def top_level_cumulative(stderr: str) -> dict[str, int]:
    """The cumulative microseconds of each top-level entry of `python -X importtime` output (the last one of a name)."""
    found = {}
    for line in stderr.splitlines():
        match = IMPORTTIME_LINE.match(line)
        if match:
            found[match.group(3).strip()] = int(match.group(2))
    return found


def import_microseconds(statement: str, root: Path, cwd: Path) -> int:
    """Run `python -X importtime -c statement`; the cumulative µs of the modules it names at top level, summed."""
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", statement],
        env=child_env(root),
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"{statement!r} failed under {root}:\n{result.stderr[-2000:]}")
    entries = top_level_cumulative(result.stderr)
    names = [name.strip() for name in statement.removeprefix("import ").split(",")]
    missing = [name for name in names if name not in entries]
    if missing:
        raise RuntimeError(f"no top-level importtime entry for {missing} in {statement!r} under {root}")
    return sum(entries[name] for name in names)


def import_times(roots: dict[str, Path], rounds: int, cwd: Path) -> dict[str, list[int]]:
    """µs per run of `import s2s_ad` for each tree, and of the baseline (keyed "baseline"), over interleaved rounds."""
    commands = [(label, IMPORT_S2S, root) for label, root in roots.items()]
    commands.append(("baseline", IMPORT_BASELINE, next(iter(roots.values()))))
    for _ in range(WARMUP_RUNS):
        for _label, statement, root in commands:
            import_microseconds(statement, root, cwd)
    times: dict[str, list[int]] = {label: [] for label, _, _ in commands}
    for k in range(rounds):
        for label, statement, root in commands[k % len(commands) :] + commands[: k % len(commands)]:
            times[label].append(import_microseconds(statement, root, cwd))
    return times


MODULES_SCRIPT = """
import json, sys
before = set(sys.modules)
{statement}
new = set(sys.modules) - before
print(json.dumps({{"count": len(new), "new": sorted(new), "file": getattr(sys.modules.get("s2s_ad"), "__file__", None)}}))
"""


def new_modules(statement: str, root: Path, cwd: Path) -> dict[str, Any]:
    """How many modules `statement` loads beyond a bare interpreter, the heavy ones among them, and s2s_ad's file."""
    result = subprocess.run(
        [sys.executable, "-c", MODULES_SCRIPT.format(statement=statement)],
        env=child_env(root),
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    found: dict[str, Any] = json.loads(result.stdout)
    found["heavy"] = [name for name in HEAVY if name in found["new"]]
    return found


# Inline-call cost: a worker per tree (this script with --worker), driven one round at a time from the parent.


def worker_namespace() -> tuple[dict[str, Any], dict[str, str]]:
    """The timing namespace (s2s_ad from PYTHONPATH), and per case the transform written there (adapted to its API)."""
    import inspect

    import s2s_ad

    namespace: dict[str, Any] = {
        "grad": s2s_ad.grad,
        "value_and_grad": s2s_ad.value_and_grad,
        "product_sin": product_sin,
        "lecture": lecture,
        "weighted_tanh": weighted_tanh,
        "x": 1.3,
        "y": 0.7,
        "z": 0.5,
        "xs": list(XS),
        "w": 0.8,
    }
    has_argnums = "argnums" in inspect.signature(s2s_ad.grad).parameters
    transforms = {case.name: case.transform if has_argnums else case.transform.replace("argnums=", "wrt=") for case in CASES}
    return namespace, transforms


def calibrated(timer: timeit.Timer, round_seconds: float) -> int:
    """Calls per timing, so that one timing takes about `round_seconds` of CPU time."""
    number = 1
    while True:
        took = timer.timeit(number)
        if took >= round_seconds / 4 or number >= 10**7:
            return max(1, int(number * round_seconds / max(took, 1e-9)))
        number *= 4


def worker(round_seconds: float, stdin: IO[str], stdout: IO[str]) -> None:
    """Say what is timed (one JSON line), then answer each `round K` line with the seconds per call of every statement."""
    import s2s_ad

    namespace, transforms = worker_namespace()
    timers: dict[tuple[str, str], tuple[timeit.Timer, int]] = {}
    hello: dict[str, Any] = {"file": s2s_ad.__file__, "cases": {}}
    for case in CASES:
        namespace["held"] = held = eval(transforms[case.name], namespace)  # a gradient in hand: built once
        statements = case.statements(transforms[case.name])
        results = {c: repr(eval(s, namespace)) for c, s in statements.items()}  # the first call builds the inline one
        if results["held"] != results["inline"]:
            raise RuntimeError(f"{case.name}: inline {results['inline']} but held {results['held']}")
        for contender, statement in statements.items():
            timer = timeit.Timer(statement, timer=CLOCK, globals={**namespace, "held": held})
            timers[case.name, contender] = (timer, calibrated(timer, round_seconds))
        hello["cases"][case.name] = {"statements": statements, "result": results["inline"]}
    print(json.dumps(hello), file=stdout, flush=True)
    for line in stdin:
        if not line.startswith("round"):
            return
        k = int(line.split()[1])
        keys = list(timers)
        answer: dict[str, dict[str, float]] = {case.name: {} for case in CASES}
        for name, contender in keys[k % len(keys) :] + keys[: k % len(keys)]:
            timer, number = timers[name, contender]
            answer[name][contender] = timer.timeit(number) / number
        print(json.dumps(answer), file=stdout, flush=True)


@dataclass
class Calls:
    """What one tree's worker timed: its statements, results, and seconds per call of every round."""

    file: str
    cases: dict[str, Any]
    rounds: list[dict[str, dict[str, float]]] = field(default_factory=list)

    def median(self, case: str, contender: str) -> float:
        return statistics.median(r[case][contender] for r in self.rounds)

    def hit_cost(self, case: str) -> float:
        return statistics.median(r[case]["inline"] - r[case]["held"] for r in self.rounds)


def call_costs(roots: dict[str, Path], rounds: int, round_seconds: float, cwd: Path) -> dict[str, Calls]:
    """Start a worker per tree; each round asks every worker once, in rotating order."""
    workers: dict[str, subprocess.Popen[str]] = {}
    found: dict[str, Calls] = {}
    try:
        for label, root in roots.items():
            workers[label] = subprocess.Popen(
                [sys.executable, str(Path(__file__).resolve()), "--worker", "--round-seconds", str(round_seconds)],
                env=child_env(root),
                cwd=cwd,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
            )
        for label, process in workers.items():
            assert process.stdout is not None
            line = process.stdout.readline()
            if not line:
                raise RuntimeError(f"the worker for {label} ({roots[label]}) stopped before timing anything")
            hello = json.loads(line)
            found[label] = Calls(hello["file"], hello["cases"])
        labels = list(workers)
        for k in range(rounds):
            for label in labels[k % len(labels) :] + labels[: k % len(labels)]:
                process = workers[label]
                assert process.stdin is not None and process.stdout is not None
                process.stdin.write(f"round {k}\n")
                process.stdin.flush()
                found[label].rounds.append(json.loads(process.stdout.readline()))
    finally:
        for process in workers.values():
            if process.stdin is not None:
                process.stdin.close()
            process.wait(timeout=60)
            if process.stdout is not None:
                process.stdout.close()
    return found


# Trees, the report, the command line.


def git(*args: str) -> str:
    return subprocess.run(["git", "-C", str(REPO), *args], capture_output=True, text=True, check=True).stdout.strip()


def describe_current() -> str:
    changed = git("status", "--porcelain", "--", "s2s_ad")
    return git("rev-parse", "--short", "HEAD") + (" + uncommitted changes (working tree)" if changed else " (working tree)")


def subject(commit: str, width: int = 110) -> str:
    """The first line of a commit's message, cut at `width` characters."""
    text = git("log", "-1", "--format=%s", commit)
    return text if len(text) <= width else text[: width - 3] + "..."


@contextmanager
def worktree(revision: str, parent: Path) -> Iterator[tuple[Path, str]]:
    """`revision` checked out in a temporary git worktree under `parent`, and its short hash; removed afterwards."""
    commit = git("rev-parse", "--verify", f"{revision}^{{commit}}")
    path = parent / f"rev-{commit[:12]}"
    git("worktree", "add", "--detach", str(path), commit)
    try:
        yield path, commit[:7]
    finally:
        git("worktree", "remove", "--force", str(path))
        shutil.rmtree(path, ignore_errors=True)


def shown_ms(microseconds: float) -> str:
    return f"{microseconds / 1000:.1f} ms"


def shown_us(seconds: float) -> str:
    us = seconds * 1e6
    return f"{us:.2f}" if abs(us) < 10 else f"{us:.1f}" if abs(us) < 100 else f"{us:.0f}"


def quartiles(values: list[int]) -> str:
    if len(values) < 4:
        return ""
    q1, _, q3 = statistics.quantiles(values, n=4, method="inclusive")
    return f" ({q1 / 1000:.1f}-{q3 / 1000:.1f})"


def report(
    described: dict[str, str],
    imports: dict[str, list[int]],
    modules: dict[str, dict[str, Any]],
    calls: dict[str, Calls],
    command: str,
    load: str,
    subjects: dict[str, str] | None = None,
) -> str:
    import_rounds = len(imports["baseline"])
    call_rounds = min(len(c.rounds) for c in calls.values())
    lines = [
        "# Startup: `import s2s_ad` and inline `grad(f)(x)` calls",
        "",
        f"Machine: {platform.machine()}, {os.cpu_count()} CPUs, {platform.system()} {platform.release()}; "
        f"Python {platform.python_version()} ({sys.executable}); load average at the start {load}.",
        "",
        f"Command: `{command}`",
        "",
        *(f"- {described[label].split()[0]}: {text}" for label, text in (subjects or {}).items()),
        *([""] if subjects else []),
        "## Import time",
        "",
        f"`python -X importtime -c ...` in a fresh interpreter, warm `.pyc` cache: median (and quartiles) of {import_rounds} "
        "interleaved runs of the cumulative time of the top-level entries; the baseline is the sum of the three entries of "
        f"`{IMPORT_BASELINE}`. Modules: how many `{IMPORT_S2S}` adds to `sys.modules` of a bare interpreter.",
        "",
        f"| revision | `{IMPORT_S2S}` | `{IMPORT_BASELINE}` | ratio | modules loaded | heavy modules loaded |",
        "| --- | ---: | ---: | ---: | ---: | --- |",
    ]
    baseline = statistics.median(imports["baseline"])
    for label, text in described.items():
        ours = statistics.median(imports[label])
        heavy = ", ".join(modules[label]["heavy"]) or "none"
        lines.append(
            f"| {text} | {shown_ms(ours)}{quartiles(imports[label])} | {shown_ms(baseline)}{quartiles(imports['baseline'])} "
            f"| {ours / baseline:.2f}x | {modules[label]['count']} | {heavy} |"
        )
    lines += [
        "",
        f"For comparison, `{IMPORT_BASELINE}` itself loads {modules['baseline']['count']} modules "
        f"(heavy: {', '.join(modules['baseline']['heavy']) or 'none'}). Heavy modules looked for: {', '.join(HEAVY)}.",
        "",
        "## Inline calls",
        "",
        f"Median CPU time per call, µs, over {call_rounds} interleaved rounds (`timeit`, gc off). `f`: the function itself; "
        "`held`: `g(...)` with `g = grad(f)` (or the transform shown) built once and held in a variable; `inline`: the "
        "transform written in the call, a cache hit after the first; `inline - held`: median of the per-round differences, "
        "what a cache hit costs.",
        "",
        "| function | revision | inline call | `f` | held | inline | inline - held |",
        "| --- | --- | --- | ---: | ---: | ---: | ---: |",
    ]
    for case in CASES:
        for label, text in described.items():
            found = calls[label]
            inline = found.cases[case.name]["statements"]["inline"]
            adapted = " (no `argnums=` there)" if inline != case.statements(case.transform)["inline"] else ""
            cells = [shown_us(found.median(case.name, c)) for c in CONTENDERS] + [shown_us(found.hit_cost(case.name))]
            lines.append(f"| {case.name} | {text} | `{inline}`{adapted} | " + " | ".join(cells) + " |")
    if len(calls) > 1:
        results = {label: {name: c["result"] for name, c in found.cases.items()} for label, found in calls.items()}
        first, *others = results.values()
        same = all(other == first for other in others)
        lines += ["", "The gradients of the revisions are " + ("the same, bit for bit." if same else f"NOT the same: {results}")]
    return "\n".join(lines) + "\n"


def run(revision: str | None, import_rounds: int, call_rounds: int, round_seconds: float, out: Path, command: str) -> str:
    load = ", ".join(f"{v:.2f}" for v in os.getloadavg())
    with tempfile.TemporaryDirectory(prefix="bench_startup_") as scratch, ExitStack() as stack:
        cwd = Path(scratch) / "cwd"  # the children's working directory: nothing importable in it
        cwd.mkdir()
        roots = {"current": REPO}
        described = {"current": describe_current()}
        if revision is not None:
            roots["revision"], short = stack.enter_context(worktree(revision, Path(scratch)))
            described["revision"] = short if short.startswith(revision) else f"{short} (`{revision}`)"
        modules = {label: new_modules(IMPORT_S2S, root, cwd) for label, root in roots.items()}
        modules["baseline"] = new_modules(IMPORT_BASELINE, REPO, cwd)
        for label, root in roots.items():
            if not str(modules[label]["file"]).startswith(str(root)):
                raise RuntimeError(f"s2s_ad came from {modules[label]['file']}, not from {root}")
        print(f"import time: {import_rounds} rounds ...", file=sys.stderr)
        imports = import_times(roots, import_rounds, cwd)
        print(f"inline calls: {call_rounds} rounds ...", file=sys.stderr)
        calls = call_costs(roots, call_rounds, round_seconds, cwd)
    subjects = {label: subject(described[label].split()[0]) for label in described}
    text = report(described, imports, modules, calls, command, load, subjects)
    out.write_text(text)
    return text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--revision", help="also measure this git revision, checked out in a temporary worktree")
    parser.add_argument("--import-rounds", type=int, default=31, help="runs of each import command")
    parser.add_argument("--call-rounds", type=int, default=21, help="interleaved rounds of the call timings")
    parser.add_argument("--round-seconds", type=float, default=0.05, help="CPU time of one timing of one statement")
    parser.add_argument("--out", default=str(HERE / "results_startup.md"), help="where to write the markdown report")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)  # a child timing calls (internal)
    args = parser.parse_args(argv)
    if args.worker:
        worker(args.round_seconds, sys.stdin, sys.stdout)
        return 0
    shown = ["python", "benchmarks/bench_startup.py", *(sys.argv[1:] if argv is None else argv)]
    text = run(args.revision, args.import_rounds, args.call_rounds, args.round_seconds, Path(args.out), " ".join(shown))
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
