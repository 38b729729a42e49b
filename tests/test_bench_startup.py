"""benchmarks/bench_startup.py runs, with tiny counts, and writes its tables (no timing is asserted)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import import_file

BENCH = import_file(Path(__file__).resolve().parent.parent / "benchmarks" / "bench_startup.py", "s2s_ad_bench_startup")

IMPORTTIME = """\
import time: self [us] | cumulative | imported package
import time:       120 |        120 |   _io
import time:       300 |        900 | site
import time:       250 |        250 |     _ast
import time:      1000 |       1250 |   ast
import time:       400 |       1650 | s2s_ad.errors
import time:       700 |       2500 | s2s_ad
"""


def test_top_level_entries_of_importtime() -> None:
    found = BENCH.top_level_cumulative(IMPORTTIME)
    assert found == {"site": 900, "s2s_ad.errors": 1650, "s2s_ad": 2500}  # nested entries (indented) are not top level


# Other tests' child processes may leave pipes for the collector to close while this one runs.
@pytest.mark.filterwarnings("ignore::ResourceWarning", "ignore::pytest.PytestUnraisableExceptionWarning")
def test_a_tiny_run_writes_both_tables(tmp_path: Path) -> None:
    out = tmp_path / "results_startup.md"
    code = BENCH.main(["--import-rounds", "1", "--call-rounds", "1", "--round-seconds", "0.0005", "--out", str(out)])
    assert code == 0
    text = out.read_text()
    assert text.startswith("# Startup: `import s2s_ad` and inline `grad(f)(x)` calls\n")
    assert re.search(r"^Machine: .+; Python \d+\.\d+\.\d+ ", text, re.MULTILINE)
    imports = [line for line in text.splitlines() if line.startswith("| ") and " ms" in line]
    assert len(imports) == 1  # this tree only
    cells = [cell.strip() for cell in imports[0].strip("|").split("|")]
    assert re.fullmatch(r"\d+\.\d ms", cells[1]) and re.fullmatch(r"\d+\.\d ms", cells[2])
    assert re.fullmatch(r"\d+\.\d\dx", cells[3]) and cells[4].isdigit() and cells[5] == "none"
    calls = [line for line in text.splitlines() if line.startswith("| ") and ("`grad(" in line or "`value_and_grad(" in line)]
    assert len(calls) == len(BENCH.CASES)
    for line in calls:
        numbers = [cell.strip() for cell in line.strip("|").split("|")][3:]
        assert len(numbers) == 4 and all(re.fullmatch(r"-?\d+(\.\d+)?", n) for n in numbers), line
