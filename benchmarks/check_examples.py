"""Run the SymPy cross-check on every example function and report verdicts and times.

    python benchmarks/check_examples.py [--unoptimized]

With `--unoptimized` the gradients are checked as the reverse transform wrote
them, before the optimizer: comparing the two runs shows that no optimizer
pass changes a derivative.
"""

from __future__ import annotations

import argparse
import importlib
import statistics
import sys
import time
from pathlib import Path

from s2s_ad import ad, api, check, frontend, optimize
from s2s_ad.check import check_built, data_of

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def example_functions() -> list[object]:
    sys.path.insert(0, str(EXAMPLES))
    functions = []
    for path in sorted(EXAMPLES.glob("*.py")):
        functions.extend(getattr(importlib.import_module(path.stem), "GOLDEN", ()))
    return functions


def check_unoptimized(function: object) -> object:
    parsed = frontend.from_function(function)
    built = api.build(parsed, None)
    names, single = api.resolve_wrt(built.primal, None, parsed)
    derived = ad.gradient(built.primal, names, bare=single, rules=built.rules)
    return check_built(built.primal, derived, names, data_of(parsed, built.primal, derived), built.rules)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--unoptimized", action="store_true", help="check the gradients before the optimizer")
    options = parser.parse_args()
    assert optimize.PASSES  # the passes the default run goes through
    times, failures = [], 0
    for function in example_functions():
        start = time.perf_counter()
        report = check_unoptimized(function) if options.unoptimized else check(function)
        seconds = time.perf_counter() - start
        times.append(seconds)
        methods = sorted({entry.method for entry in report.entries})
        verdict = "ok" if report.ok else "NOT OK"
        failures += not report.ok
        print(f"{function.__module__}.{function.__name__:24} {verdict:7} {seconds:6.2f} s  {', '.join(methods)}")
    print(f"{len(times)} functions, median {statistics.median(times):.2f} s, max {max(times):.2f} s, {failures} not ok")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
