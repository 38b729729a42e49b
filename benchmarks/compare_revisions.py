"""Per-call cost of the gradients two revisions of s2s_ad generate, measured side by side in one process.

Each revision (a git revision, checked out into a temporary worktree, or the
working tree itself) writes the gradients of the benchmark functions in a
child process; this process then runs the two versions of each gradient in
turn, round after round, and reports the median time per call of each and
their ratio. A restructure of the transform that leaves the generated code
byte for byte the same shows `same source` and a ratio of about 1.

    python benchmarks/compare_revisions.py 4f0c283            # that revision against the working tree
    python benchmarks/compare_revisions.py 4f0c283 HEAD --rounds 31
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

import functions as F  # noqa: E402

NAMES = ("nested", "lecture", "rosenbrock", "logistic_loss", "mlp_loss", "chain_loop")

# Run in a child process whose import path starts at one revision's tree: the generated module of each gradient.
_WRITE = """
import json, sys
sys.path.insert(0, {benchmarks!r})
import functions as F
from s2s_ad import grad
sources = {{}}
for name in {names!r}:
    g = grad(getattr(F, name))
    with open(g.__code__.co_filename, encoding="utf-8") as handle:
        sources[name] = (g.__name__, handle.read())
print(json.dumps(sources))
"""


def generated(tree: Path) -> dict[str, tuple[str, str]]:
    """name -> (gradient's name, generated module source), as the s2s_ad in `tree` writes them."""
    script = _WRITE.format(benchmarks=str(HERE), names=NAMES)
    found = subprocess.run(
        [sys.executable, "-c", script], cwd=tree, env={"PYTHONPATH": str(tree)}, capture_output=True, text=True, check=True
    )
    return {name: (pair[0], pair[1]) for name, pair in json.loads(found.stdout).items()}


def compiled(name: str, source: str) -> Callable[..., Any]:
    namespace: dict[str, Any] = {"math": math, "__name__": "compare_revisions"}
    exec(compile(source, f"<{name}>", "exec"), namespace)  # noqa: S102 - source that s2s_ad generated
    return namespace[name]


def arguments(name: str) -> tuple[Any, ...]:
    if name == "logistic_loss":
        return F.logistic_data()
    if name == "mlp_loss":
        return F.mlp_data()
    if name == "chain_loop":
        return (0.3,)
    return (0.5, -1.25, 0.75)[: 2 if name == "rosenbrock" else 3]


def per_call(functions: Sequence[Callable[..., Any]], args: tuple[Any, ...], rounds: int) -> list[float]:
    """Median seconds per call of each function, over rounds that visit every function in turn."""
    calls = 1
    while True:  # enough calls per round for about 20 ms
        start = time.perf_counter()
        for _ in range(calls):
            functions[0](*args)
        if time.perf_counter() - start > 0.02:
            break
        calls *= 2
    times: list[list[float]] = [[] for _ in functions]
    for _ in range(rounds):
        for k, f in enumerate(functions):
            start = time.perf_counter()
            for _ in range(calls):
                f(*args)
            times[k].append((time.perf_counter() - start) / calls)
    return [statistics.median(t) for t in times]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("before", help="a git revision")
    parser.add_argument("after", nargs="?", help="a git revision (default: the working tree)")
    parser.add_argument("--rounds", type=int, default=21)
    options = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as scratch:
        trees = []
        for k, revision in enumerate((options.before, options.after)):
            if revision is None:
                trees.append(ROOT)
                continue
            tree = Path(scratch) / f"tree{k}"
            subprocess.run(["git", "worktree", "add", "-q", "--detach", str(tree), revision], cwd=ROOT, check=True)
            trees.append(tree)
        try:
            before, after = (generated(tree) for tree in trees)
        finally:
            for tree in trees:
                if tree != ROOT:
                    subprocess.run(["git", "worktree", "remove", "--force", str(tree)], cwd=ROOT, check=False)
    print(f"per-call time of the generated gradient, median of {options.rounds} rounds (µs)")
    print(f"{'function':<16}{'before':>10}{'after':>10}{'after/before':>14}  source")
    ratios = []
    for name in NAMES:
        functions = [compiled(*before[name]), compiled(*after[name])]
        old, new = per_call(functions, arguments(name), options.rounds)
        ratios.append(new / old)
        same = "same" if before[name][1] == after[name][1] else "differs"
        print(f"{name:<16}{old * 1e6:>10.2f}{new * 1e6:>10.2f}{new / old:>14.3f}  {same}")
    print(f"median ratio after/before: {statistics.median(ratios):.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
