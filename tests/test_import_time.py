"""What `import s2s_ad` and a first `grad(f)` load: only what building a gradient needs.

SymPy is for the cross-check, Graphviz's driver for pictures, argparse for
the command line; none of them, nor multiprocessing, sockets, pickle or
decimal (which the check's child process and exact arithmetic use), may be
loaded by importing the package or building a gradient. The pipeline's
stages load when a first gradient is built. Each test runs a fresh
interpreter, since this one has imported everything already. (How long the
import takes is measured by `python -X importtime -c "import s2s_ad"`, not
asserted here: tests do not time things.)
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

HEAVY = ("sympy", "mpmath", "multiprocessing", "socket", "pickle", "decimal", "fractions", "subprocess", "argparse")
OURS_LATER = ("s2s_ad.check", "s2s_ad.graph", "s2s_ad.cli", "s2s_ad.interpret")
STAGES = ("s2s_ad.pipeline", "s2s_ad.lower", "s2s_ad.ad", "s2s_ad.optimize", "s2s_ad.codegen", "s2s_ad.ir")


def loaded(script: str, tmp_path: Path) -> dict[str, list[str]]:
    """Run `script` in a new interpreter; it prints a JSON object of module lists, which is returned."""
    module = tmp_path / "user_module.py"
    module.write_text("import math\n\n\ndef f(x, y):\n    return math.sin(x) * y ** 2\n")
    prelude = f"import json, sys\nsys.path.insert(0, {str(tmp_path)!r})\nbefore = set(sys.modules)\n"
    result = subprocess.run(
        [sys.executable, "-c", prelude + textwrap.dedent(script)], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def test_import_loads_only_the_api(tmp_path: Path) -> None:
    found = loaded(
        """
        import s2s_ad
        print(json.dumps({"new": sorted(set(sys.modules) - before)}))
        """,
        tmp_path,
    )
    new = set(found["new"])
    assert {name for name in new if name.startswith("s2s_ad")} == {"s2s_ad", "s2s_ad.api", "s2s_ad.errors"}
    for name in HEAVY + ("ast", "inspect", "dataclasses", "linecache"):  # not even what parsing needs, yet
        assert name not in new, f"import s2s_ad imported {name}"


def test_a_first_gradient_loads_the_stages_and_nothing_heavy(tmp_path: Path) -> None:
    found = loaded(
        """
        import s2s_ad
        import user_module
        g = s2s_ad.grad(user_module.f)
        assert abs(g(1.0, 2.0)[1] - 4 * __import__("math").sin(1.0)) < 1e-12
        s2s_ad.value_and_grad(user_module.f, wrt="x")(1.0, 2.0)
        s2s_ad.jvp(user_module.f, (1.0, 2.0), (1.0, 0.0))
        s2s_ad.hessian(user_module.f)(1.0, 2.0)
        print(json.dumps({"new": sorted(set(sys.modules) - before)}))
        """,
        tmp_path,
    )
    new = set(found["new"])
    for name in HEAVY + OURS_LATER:
        assert name not in new, f"building a gradient imported {name}"
    for name in STAGES:
        assert name in new


def test_check_and_graph_are_the_functions_before_and_after_their_modules_load(tmp_path: Path) -> None:
    found = loaded(
        """
        import types
        import s2s_ad
        kinds = [type(s2s_ad.graph).__name__]
        import s2s_ad.graph, s2s_ad.check  # importing the modules sets the package's attributes to them
        from s2s_ad import check, graph
        kinds += [type(s2s_ad.check).__name__, type(s2s_ad.graph).__name__, type(check).__name__, type(graph).__name__]
        print(json.dumps({"kinds": kinds, "new": sorted(set(sys.modules) - before)}))
        """,
        tmp_path,
    )
    assert found["kinds"] == ["function"] * 5
    assert "sympy" not in found["new"]  # the check module imports SymPy only when a check runs
