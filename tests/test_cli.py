"""The `s2s-ad` command line: options, refusals, written modules, safe writes.

Input files live in `tests/cli_inputs/`; every test copies the ones it needs
into a temporary directory and runs there, so paths in generated headers are
relative and nothing is written into the repository.
"""

from __future__ import annotations

import ast
import dataclasses
import functools
import importlib.util
import json
import os
import shlex
import shutil
import subprocess
import sys
import types
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import central_difference, import_file

import s2s_ad
from s2s_ad import cli, ir, pipeline
from s2s_ad.cli import MARKER, main

INPUTS = Path(__file__).parent / "cli_inputs"


# -- helpers -------------------------------------------------------------------


@pytest.fixture
def work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A temporary working directory holding copies of the test inputs."""
    for source in INPUTS.glob("*.py"):
        shutil.copy(source, tmp_path / source.name)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """Run the command in-process: (exit status, standard output, standard error)."""
    status = main(list(argv))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def fresh_python(code: str, cwd: Path, path: Path | None = None) -> object:
    """Run `code` in a new interpreter (no s2s_ad on its path) and return the JSON it prints."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("PYTHON")}
    if path is not None:
        env["PYTHONPATH"] = str(path)
    result = subprocess.run([sys.executable, "-c", code], cwd=cwd, env=env, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def load_module(path: Path) -> types.ModuleType:
    """Import a test input normally (as a user's code would), under a unique name."""
    return import_file(path, f"cli_input_{path.stem}_{abs(hash(path))}")


def imported_modules(source: str) -> set[str]:
    tree = ast.parse(source)
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            found.add(node.module or "")
    return found


def temporaries(directory: Path) -> list[Path]:
    return [p for p in directory.rglob("*") if p.name.endswith(".tmp") or p.name.startswith(".")]


def header_command(source: str) -> list[str]:
    """The regeneration command written in a module's header, as argv."""
    docstring = ast.get_docstring(ast.parse(source)) or ""
    lines = docstring.splitlines()
    command = lines[lines.index("Regenerate with:") + 2].strip()
    return shlex.split(command)


# -- help, version, entry points -----------------------------------------------


def test_help_shows_usage_and_examples(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, "--help")
    assert status == 0
    assert "usage: s2s-ad" in out
    assert "examples:" in out
    assert "s2s-ad grad model.py:loss --wrt w,b -o grad_model.py" in out
    assert "s2s-ad check model.py:loss" in out


def test_grad_help_lists_every_option(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, "grad", "--help")
    assert status == 0
    for option in ("--wrt", "-o", "--value", "--check", "--forward", "--hessian", "--force", "-q", "-v", "FILE[:NAME"):
        assert option in out
    assert "examples:" in out


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, "--version")
    assert status == 0
    assert out.strip() == f"s2s-ad {s2s_ad.__version__}"


def test_python_dash_m_help() -> None:
    result = subprocess.run([sys.executable, "-m", "s2s_ad", "--help"], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert "usage: python -m s2s_ad" in result.stdout
    assert "examples:" in result.stdout


def test_console_script(work: Path) -> None:
    script = Path(sys.executable).with_name("s2s-ad")
    if not script.exists():
        pytest.skip("the s2s-ad console script is not installed next to this interpreter")
    result = subprocess.run([str(script), "grad", "model.py:energy"], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith('"""' + MARKER)
    bad = subprocess.run([str(script), "grad", "missing.py"], capture_output=True, text=True, check=False)
    assert bad.returncode == 1
    assert "Traceback" not in bad.stderr


# -- usage errors: exit status 2 -----------------------------------------------


@pytest.mark.parametrize(
    "argv, message",
    [
        ([], "required"),
        (["grad"], "required"),
        (["frobnicate", "model.py"], "invalid choice"),
        (["grad", "model.py", "--no-such-option"], "unrecognized arguments"),
        (["grad", "model.py:loss", "-q", "-v"], "not allowed with argument"),
        (["grad", "model.py:loss", "--wrt", "w,,b"], "neither a parameter name nor an index"),
        (["grad", "model.py:loss", "--wrt", "w+b"], "neither a parameter name nor an index"),
        (["grad", "model.py:loss", "--wrt", "w, w"], "names a parameter twice"),
        (["grad", "model.py:"], "name at least one function"),
        (["grad", "model.py:loss,2x"], "is not a list of function names"),
        (["grad", "model.py:loss", "-o", ""], "-o needs"),
        (["grad", "model.py:loss", "--forward", "--hessian"], "not allowed with argument"),
        (["grad", "model.py:loss", "--forward", "--value"], "leave out --value"),
        (["grad", "model.py:loss", "--hessian", "--check"], "cannot be combined with --hessian"),
    ],
)
def test_usage_errors(work: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str) -> None:
    status, out, err = run(capsys, *argv)
    assert status == 2
    assert message in err
    assert "usage:" in err
    assert out == ""
    assert "Traceback" not in err


# -- one function to standard output or a file --------------------------------


def test_one_function_to_stdout(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run(capsys, "grad", "model.py:loss")
    assert status == 0, err
    assert out.startswith(f'"""{MARKER} {s2s_ad.__version__} from model.py; do not edit by hand.\n')
    assert "def loss_grad(w, b):" in out
    assert "loss_grad(w, b) -> (dloss/dw, dloss/db)" in out
    assert header_command(out) == ["s2s-ad", "grad", "model.py:loss"]
    assert imported_modules(out) == {"math"}
    assert "s2s_ad" not in out.split('"""', 2)[2]  # the code after the header never names the package
    assert err == ""  # nothing was written, so nothing to report


def test_output_file_header_and_message(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run(capsys, "grad", "model.py:loss", "--wrt", "w,b", "-o", "grad_model.py")
    assert status == 0, err
    assert out == ""
    assert "wrote grad_model.py (loss_grad)" in err
    source = (work / "grad_model.py").read_text()
    assert source.splitlines()[0].startswith('"""' + MARKER)
    assert header_command(source) == ["s2s-ad", "grad", "model.py:loss", "--wrt", "w,b", "-o", "grad_model.py"]
    assert str(work) not in source  # no absolute paths


def test_header_command_regenerates_the_same_bytes(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "grad", "model.py:loss", "--wrt", "1", "--value", "-o", "out.py")[0] == 0
    first = (work / "out.py").read_bytes()
    command = header_command(first.decode())
    assert command[0] == "s2s-ad"
    (work / "out.py").write_text('"""' + MARKER + ' stale"""\n')
    assert run(capsys, *command[1:])[0] == 0
    assert (work / "out.py").read_bytes() == first


def test_paths_with_spaces_and_backslashes_are_quoted(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    odd = work / 'odd dir\\ "q"'
    odd.mkdir()
    shutil.copy(work / "model.py", odd / "model.py")
    given = os.path.join(odd.name, "model.py")
    status, out, err = run(capsys, "grad", f"{given}:energy")
    assert status == 0, err
    assert ast.get_docstring(ast.parse(out)) is not None  # the header is still one valid docstring
    assert header_command(out) == ["s2s-ad", "grad", f"{given}:energy"]


# -- the written module runs standalone and agrees with the decorator ---------


def test_fresh_interpreter_matches_decorator_and_finite_differences(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "grad", "model.py:loss,energy", "-o", "grad_model.py")[0] == 0
    point = (0.3, -0.7)
    result = fresh_python(
        "import json, sys\n"
        "import grad_model\n"
        f"print(json.dumps({{'loss': grad_model.loss_grad{point!r}, 'energy': grad_model.energy_grad(0.8),\n"
        "                   'names': sorted(n for n in sys.modules if n.startswith(('s2s_ad', 'model')))}))\n",
        cwd=work,
    )
    assert isinstance(result, dict)
    assert result["names"] == []  # neither s2s_ad nor the user's module was imported
    model = load_module(work / "model.py")
    expected = s2s_ad.grad(model.loss)(*point)
    assert tuple(result["loss"]) == pytest.approx(expected, rel=1e-12)
    numeric = tuple(central_difference(model.loss, point, i) for i in range(2))
    assert tuple(result["loss"]) == pytest.approx(numeric, rel=1e-6)
    assert result["energy"] == pytest.approx(s2s_ad.grad(model.energy)(0.8), rel=1e-12)
    assert result["energy"] == pytest.approx(central_difference(model.energy, (0.8,), 0), rel=1e-6)


def test_value_option_matches_value_and_grad(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, _, err = run(capsys, "grad", "model.py:loss", "--value", "-o", "vg.py")
    assert status == 0, err
    source = (work / "vg.py").read_text()
    assert "loss_value_and_grad(w, b) -> (loss, (dloss/dw, dloss/db))" in source
    result = fresh_python("import json, vg\nprint(json.dumps(vg.loss_value_and_grad(1.1, 0.4)))", cwd=work)
    model = load_module(work / "model.py")
    value, gradient = s2s_ad.value_and_grad(model.loss)(1.1, 0.4)
    assert isinstance(result, list)
    assert result[0] == pytest.approx(value, rel=1e-12)
    assert tuple(result[1]) == pytest.approx(gradient, rel=1e-12)


@pytest.mark.parametrize("wrt, expected_wrt", [("b", "b"), ("1", 1), ("w,b", ("w", "b")), ("b,0", ("b", 0)), ("-1", -1)])
def test_wrt_names_and_indices(work: Path, capsys: pytest.CaptureFixture[str], wrt: str, expected_wrt: object) -> None:
    status, _, err = run(capsys, "grad", "model.py:loss", f"--wrt={wrt}", "-o", "g.py")
    assert status == 0, err
    result = fresh_python("import json, g\nprint(json.dumps(g.loss_grad(0.5, 0.25)))", cwd=work)
    model = load_module(work / "model.py")
    expected = s2s_ad.grad(model.loss, wrt=expected_wrt)(0.5, 0.25)
    if isinstance(expected, tuple):
        assert tuple(result) == pytest.approx(expected, rel=1e-12)  # type: ignore[arg-type]
    else:
        assert result == pytest.approx(expected, rel=1e-12)


def test_wrt_unknown_parameter_is_refused(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run(capsys, "grad", "model.py:loss", "--wrt", "x")
    assert status == 1
    assert out == ""
    assert "model.py:14:1: error: wrt='x': 'loss' has no parameter 'x'" in err
    assert "hint: parameters are: w, b" in err
    status, _, err = run(capsys, "grad", "model.py:loss", "--wrt", "5")
    assert status == 1
    assert "has 2 parameter(s)" in err


# -- the input is never imported or run ---------------------------------------


def test_never_executes_the_input(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run(capsys, "grad", "side_effects.py", "-o", "out/")
    assert status == 0, err
    assert "EXECUTED" not in out
    assert not (work / "EXECUTED").exists()
    assert "side_effects" not in sys.modules
    assert (work / "out" / "side_effects_f_grad.py").exists()
    result = subprocess.run(
        [sys.executable, "-m", "s2s_ad", "check", "side_effects.py"], cwd=work, capture_output=True, text=True, check=False
    )
    assert "EXECUTED" not in result.stdout
    assert not (work / "EXECUTED").exists()
    result = subprocess.run(
        [sys.executable, "-m", "s2s_ad", "grad", "side_effects.py:f"], cwd=work, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert "EXECUTED" not in result.stdout
    assert not (work / "EXECUTED").exists()
    gradient = fresh_python("import json, out.side_effects_f_grad as g\nprint(json.dumps(g.f_grad(2.0)))", cwd=work)
    assert gradient == pytest.approx(2 * 2.0 + 3.0)


# -- every top-level function; a directory of modules ------------------------


def test_directory_output_one_file_per_function(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, _, err = run(capsys, "grad", "model.py", "-o", "build/")
    assert status == 0, err
    written = sorted(p.name for p in (work / "build").iterdir())
    assert written == ["model_energy_grad.py", "model_loss_grad.py", "model_square_grad.py"]
    for name in ("square", "loss", "energy"):
        source = (work / "build" / f"model_{name}_grad.py").read_text()
        assert header_command(source) == ["s2s-ad", "grad", f"model.py:{name}", "-o", "build/"]
        assert f"def {name}_grad(" in source
        assert f"wrote build/model_{name}_grad.py ({name}_grad)" in err
    assert temporaries(work) == []


def test_existing_directory_without_slash(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (work / "gen").mkdir()
    status, _, err = run(capsys, "grad", "model.py:energy", "--value", "-o", "gen")
    assert status == 0, err
    assert [p.name for p in (work / "gen").iterdir()] == ["model_energy_value_and_grad.py"]


def test_several_functions_in_one_module(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run(capsys, "grad", "model.py")
    assert status == 0, err
    tree = ast.parse(out)
    assert [node.name for node in tree.body if isinstance(node, ast.FunctionDef)] == ["square_grad", "loss_grad", "energy_grad"]
    assert out.count("import math") == 1
    assert header_command(out) == ["s2s-ad", "grad", "model.py"]


def test_refused_functions_are_reported_and_the_others_written(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """In a whole file, `constant()` (no parameters) is left out; `guarded` could be differentiated but uses `try`."""
    status, _, err = run(capsys, "grad", "mixed.py", "-o", "mixed_grad.py")
    assert status == 1
    assert "constant" not in err
    assert err.count(": error: ") == 1
    assert "mixed.py:15:5: error: 'try' statements cannot be differentiated\n        try:\n        ^~~~\n" in err
    assert "hint: move the error handling outside" in err
    assert "Traceback" not in err
    source = (work / "mixed_grad.py").read_text()
    tree = ast.parse(source)
    assert [node.name for node in tree.body if isinstance(node, ast.FunctionDef)] == ["good_grad", "also_good_grad"]
    result = fresh_python(
        "import json, mixed_grad as g\nprint(json.dumps([g.good_grad(2.0, 0.5), g.also_good_grad(1.5)]))", cwd=work
    )
    assert isinstance(result, list)
    assert tuple(result[0]) == pytest.approx((0.8775825618903728, -2.0 * 0.479425538604203))
    assert result[1] == pytest.approx(3 * 1.5**2)


def test_refused_functions_in_directory_mode(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, _, err = run(capsys, "grad", "mixed.py", "-o", "out/")
    assert status == 1
    assert err.count(": error: ") == 1  # guarded's `try`; constant() is left out
    assert sorted(p.name for p in (work / "out").iterdir()) == ["mixed_also_good_grad.py", "mixed_good_grad.py"]


def test_nothing_differentiable_writes_nothing(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run(capsys, "grad", "mixed.py:constant,guarded", "-o", "none.py")
    assert status == 1
    assert out == ""
    assert not (work / "none.py").exists()
    assert temporaries(work) == []


def test_file_without_functions(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (work / "empty.py").write_text("X = 1\n")
    status, out, err = run(capsys, "grad", "empty.py")
    assert status == 1
    assert out == ""
    assert "empty.py: error: empty.py defines no top-level functions" in err


# -- whole files: helpers and drivers are left out, not refused ---------------

HELPERS = """\
import math


def pair(x, y):
    return x * y, x + y


def annotated(x: float) -> tuple[float, float]:
    square = x * x
    return square, x


def rows(n):
    return [float(i) for i in range(n)]


def is_positive(x) -> bool:
    return x > 0


def label(x):
    return f"{x:.3f}"


def report(x):
    print(x)


def main():
    return 0


def count(x) -> int:
    return int(x)


def doubled(xs):
    ys = [2.0 * x for x in xs]
    return ys


def loss(x, y):
    a, b = pair(x, y)
    return math.sin(a) * b + rows_sum(x)


def rows_sum(x):
    return x * x
"""


def test_whole_file_leaves_out_helpers_and_writes_the_rest(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (work / "helpers.py").write_text(HELPERS)
    status, _, err = run(capsys, "grad", "helpers.py", "-o", "out/")
    assert status == 0, err
    assert "error" not in err and "note" not in err  # notes only under -v
    assert sorted(p.name for p in (work / "out").iterdir()) == ["helpers_loss_grad.py", "helpers_rows_sum_grad.py"]
    helpers = load_module(work / "helpers.py")
    gradient = fresh_python("import json, helpers_loss_grad as g\nprint(json.dumps(g.loss_grad(0.7, -1.2)))", cwd=work / "out")
    expected = tuple(central_difference(helpers.loss, (0.7, -1.2), i) for i in range(2))
    assert tuple(gradient) == pytest.approx(expected, rel=1e-6)  # type: ignore[arg-type]


def test_whole_file_notes_under_verbose_say_why(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (work / "helpers.py").write_text(HELPERS)
    status, _, err = run(capsys, "grad", "helpers.py", "-o", "out/", "-v")
    assert status == 0, err
    notes = [line for line in err.splitlines() if line.startswith("s2s-ad: note:")]
    expected = {
        "pair": "it returns a tuple, not one number (line 5)",
        "annotated": "its return annotation, tuple[float, float], is not a float",
        "rows": "it returns a list, not one number (line 14)",
        "is_positive": "its return annotation, bool, is not a float",
        "label": "it returns a string, not one number (line 22)",
        "report": "it returns no value",
        "main": "it takes no parameters",
        "count": "its return annotation, int, is not a float",
        "doubled": "its output is not one number (a helper, not a function to differentiate)",
    }
    assert notes == [f"s2s-ad: note: left out '{name}': {why}" for name, why in expected.items()]


def test_a_named_helper_is_still_refused(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (work / "helpers.py").write_text(HELPERS)
    status, _, err = run(capsys, "grad", "helpers.py:pair")
    assert status == 1
    assert "helpers.py:5:5: error: gradient is only defined for scalar-output functions" in err
    status, _, err = run(capsys, "grad", "helpers.py:main")
    assert status == 1
    assert "has no parameters to differentiate" in err


def test_whole_file_in_forward_mode_keeps_tuple_outputs(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (work / "helpers.py").write_text(HELPERS)
    status, _, err = run(capsys, "grad", "helpers.py", "--forward", "-o", "fwd/", "-v")
    assert status == 0, err
    written = sorted(p.name for p in (work / "fwd").iterdir())
    assert "helpers_pair_jvp.py" in written and "helpers_loss_jvp.py" in written
    assert "helpers_rows_jvp.py" not in written and "helpers_doubled_jvp.py" not in written
    value, derivative = fresh_python(
        "import json, helpers_pair_jvp as g\nprint(json.dumps(g.pair_jvp((2.0, 3.0), (1.0, 0.0))))", cwd=work / "fwd"
    )  # type: ignore[misc]
    assert value == [6.0, 5.0] and derivative == [3.0, 1.0]  # d(x y, x + y)/dx


def test_a_refused_construct_in_a_whole_file_is_still_an_error(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (work / "helpers.py").write_text(
        HELPERS + "\n\ndef guarded(x):\n    try:\n        return x\n    except ValueError:\n        return 0.0\n"
    )
    status, _, err = run(capsys, "grad", "helpers.py", "-o", "out/")
    assert status == 1
    assert err.count(": error: ") == 1 and "'try' statements cannot be differentiated" in err
    assert (work / "out" / "helpers_loss_grad.py").exists()


def test_a_whole_file_of_helpers_only_is_an_error(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (work / "only.py").write_text("def pair(x):\n    return x, x\n\n\ndef main():\n    return 0\n")
    status, out, err = run(capsys, "grad", "only.py")
    assert status == 1
    assert "only.py: error: only.py defines no function to differentiate" in err
    assert out == ""


# -- refusals: exit status 1, compiler-style messages, never a traceback ------


def test_unreadable_file(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run(capsys, "grad", "missing.py:f")
    assert status == 1
    assert out == ""
    assert err.startswith("missing.py: error: cannot read missing.py")
    status, _, err = run(capsys, "grad", ".")
    assert status == 1
    assert "error: cannot read ." in err
    (work / "latin1.py").write_bytes(b"def f(x):\n    return x  # caf\xe9\n")
    status, _, err = run(capsys, "grad", "latin1.py")
    assert status == 1
    assert "error: cannot read latin1.py" in err


def test_syntax_error(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (work / "broken.py").write_text("def f(x):\n    return x +* 2\n")
    status, out, err = run(capsys, "grad", "broken.py:f")
    assert status == 1
    assert out == ""
    assert err.startswith("broken.py:2:")
    assert "error: cannot parse broken.py: invalid syntax" in err
    assert "return x +* 2" in err
    assert "Traceback" not in err


def test_unknown_function_name(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run(capsys, "grad", "model.py:nope,energy", "-o", "g.py")
    assert status == 1
    assert "model.py: error: no top-level function 'nope'" in err
    assert "hint: top-level functions: square, loss, energy" in err
    assert "def energy_grad(" in (work / "g.py").read_text()  # the others are still written


def test_names_not_resolvable_statically(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run(capsys, "grad", "unresolved.py")
    assert status == 1
    assert "unresolved.py:10:12: error: name 'scale' cannot be resolved" in err
    assert "'numpy_sort'" not in err  # works on arrays: left out without --shapes (a note under -v)
    assert "Traceback" not in err
    assert "def fine_grad(x):" in out


def test_async_function_is_refused(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (work / "aio.py").write_text("async def f(x):\n    return x\n\n\ndef g(x):\n    return x * x\n")
    status, out, err = run(capsys, "grad", "aio.py")
    assert status == 1
    assert "aio.py:1:1: error: async functions cannot be differentiated" in err
    assert "def g_grad(x):" in out


def test_no_traceback_in_a_subprocess(work: Path) -> None:
    (work / "broken.py").write_text("def f(x:\n")
    for argv in (
        ["grad", "broken.py"],
        ["grad", "missing.py"],
        ["grad", "unresolved.py:scaled"],
        ["grad", "model.py:nope"],
        ["grad", "mixed.py:guarded", "-o", "g.py"],
    ):
        result = subprocess.run([sys.executable, "-m", "s2s_ad", *argv], cwd=work, capture_output=True, text=True, check=False)
        assert result.returncode == 1, (argv, result.stderr)
        assert "Traceback" not in result.stderr
        assert "error:" in result.stderr


def test_internal_error_is_reported_without_traceback(
    work: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object, **kwargs: object) -> pipeline.Built:
        raise KeyError("oops")

    monkeypatch.setattr(cli.pipeline, "build", broken)
    status, out, err = run(capsys, "grad", "model.py:energy")
    assert status == 1
    assert "s2s-ad: error: internal error while differentiating 'energy': KeyError" in err
    assert "Traceback" not in err
    status, out, err = run(capsys, "grad", "model.py:energy", "-v")
    assert "Traceback" in err  # -v shows it, for a bug report


# -- verbosity ---------------------------------------------------------------


def test_verbose_prints_each_stage(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run(capsys, "grad", "model.py:energy", "-v")
    assert status == 0
    for stage in ("--- after lowered ---", "--- after reverse ---", "--- after optimized ---"):
        assert stage in err
    assert out.startswith('"""' + MARKER)


def test_quiet_prints_only_errors(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, _, err = run(capsys, "grad", "model.py", "-q", "-o", "q/")
    assert status == 0
    assert err == ""
    status, _, err = run(capsys, "grad", "mixed.py", "-q", "-o", "q/")
    assert status == 1
    assert "error: 'try' statements" in err
    assert "wrote" not in err and "note" not in err


# -- determinism ---------------------------------------------------------------


def test_deterministic_output(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "grad", "model.py", "-o", "once.py")[0] == 0
    first = (work / "once.py").read_bytes()
    assert run(capsys, "grad", "model.py", "-o", "once.py")[0] == 0
    assert (work / "once.py").read_bytes() == first
    outputs = set()
    for seed in ("0", "1", "12345"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        result = subprocess.run(
            [sys.executable, "-m", "s2s_ad", "grad", "model.py", "-o", "once.py"],
            cwd=work,
            env=env,
            capture_output=True,
            check=False,
        )
        assert result.returncode == 0
        outputs.add((work / "once.py").read_bytes())
        result = subprocess.run(
            [sys.executable, "-m", "s2s_ad", "grad", "model.py", "-o", "once.py"],
            cwd=work,
            env=env,
            capture_output=True,
            check=False,
        )
    assert outputs == {first}


# -- safe writes ---------------------------------------------------------------


def test_refuses_to_write_over_its_input(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    original = (work / "model.py").read_bytes()
    for target in ("model.py", "./model.py", str(work / "model.py")):
        status, out, err = run(capsys, "grad", "model.py:loss", "-o", target, "--force")
        assert status == 1
        assert "refusing to write over the input file model.py" in err
    assert (work / "model.py").read_bytes() == original
    assert temporaries(work) == []


def test_refuses_to_overwrite_a_file_it_did_not_write(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    mine = work / "notes.py"
    mine.write_text("# my own notes\n")
    status, _, err = run(capsys, "grad", "model.py:loss", "-o", "notes.py")
    assert status == 1
    assert "refusing to overwrite notes.py: it was not generated by s2s-ad" in err
    assert "hint: pass --force" in err
    assert mine.read_text() == "# my own notes\n"
    assert temporaries(work) == []
    status, _, err = run(capsys, "grad", "model.py:loss", "-o", "notes.py", "--force")
    assert status == 0, err
    assert mine.read_text().startswith('"""' + MARKER)


def test_overwrites_its_own_output(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "grad", "model.py:loss", "-o", "g.py")[0] == 0
    assert run(capsys, "grad", "model.py:loss", "--value", "-o", "g.py")[0] == 0
    assert "def loss_value_and_grad(" in (work / "g.py").read_text()


def test_refuses_to_overwrite_in_directory_mode(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (work / "build").mkdir()
    (work / "build" / "model_loss_grad.py").write_text("handwritten = True\n")
    status, _, err = run(capsys, "grad", "model.py", "-o", "build")
    assert status == 1
    assert "refusing to overwrite build/model_loss_grad.py" in err
    assert (work / "build" / "model_loss_grad.py").read_text() == "handwritten = True\n"
    assert (work / "build" / "model_energy_grad.py").exists()  # the others are written


def test_missing_output_directory(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, _, err = run(capsys, "grad", "model.py:loss", "-o", "nowhere/g.py")
    assert status == 1
    assert "directory nowhere does not exist" in err


def test_no_temporary_files_after_success(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "grad", "model.py", "-o", "a.py")[0] == 0
    assert run(capsys, "grad", "model.py", "-o", "d/")[0] == 0
    assert temporaries(work) == []
    mode = (work / "a.py").stat().st_mode & 0o777
    assert mode & 0o644 == 0o644  # an ordinary readable file, not the 0600 of a temporary file


@pytest.mark.parametrize("failure", [OSError(28, "No space left on device"), KeyboardInterrupt()])
def test_interrupted_write_leaves_old_file_and_no_temporary(
    work: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, failure: BaseException
) -> None:
    assert run(capsys, "grad", "model.py:loss", "-o", "g.py")[0] == 0
    before = (work / "g.py").read_bytes()

    def replace(src: str, dst: str) -> None:
        assert Path(src).read_text().startswith('"""' + MARKER)  # the whole module was in the temporary file
        raise failure

    monkeypatch.setattr(cli.os, "replace", replace)
    if isinstance(failure, KeyboardInterrupt):
        with pytest.raises(KeyboardInterrupt):
            main(["grad", "model.py:loss", "--value", "-o", "g.py"])
    else:
        status, _, err = run(capsys, "grad", "model.py:loss", "--value", "-o", "g.py")
        assert status == 1
        assert "cannot write g.py: No space left on device" in err
    assert (work / "g.py").read_bytes() == before
    assert temporaries(work) == []


def test_write_atomic_keeps_the_mode_of_an_existing_file(tmp_path: Path) -> None:
    target = tmp_path / "g.py"
    target.write_text("old\n")
    target.chmod(0o640)
    cli.write_atomic(target, "new\n")
    assert target.read_text() == "new\n"
    assert target.stat().st_mode & 0o777 == 0o640
    assert [p.name for p in tmp_path.iterdir()] == ["g.py"]


# -- module-level data: `from <stem> import <names>` --------------------------


def test_data_import_next_to_input_and_on_sys_path(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run(capsys, "grad", "data_model.py:loss", "-o", "g.py")
    assert status == 0, err
    source = (work / "g.py").read_text()
    assert imported_modules(source) == {"math", "data_model"}
    assert "from data_model import WEIGHTS\n" in source
    assert "Reads WEIGHTS from the module data_model (data_model.py)" in source
    model = load_module(work / "data_model.py")
    expected = s2s_ad.grad(model.loss)(0.2, 0.9)
    # next to the input
    result = fresh_python("import json, g\nprint(json.dumps(g.loss_grad(0.2, 0.9)))", cwd=work)
    assert tuple(result) == pytest.approx(expected, rel=1e-12)  # type: ignore[arg-type]
    # elsewhere, with the input's directory on sys.path
    (work / "elsewhere").mkdir()
    shutil.move(str(work / "g.py"), work / "elsewhere" / "g.py")
    result = fresh_python("import json, g\nprint(json.dumps(g.loss_grad(0.2, 0.9)))", cwd=work / "elsewhere", path=work)
    assert tuple(result) == pytest.approx(expected, rel=1e-12)  # type: ignore[arg-type]


def test_data_import_needs_a_module_name(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    shutil.copy(work / "data_model.py", work / "my-model.py")
    status, out, err = run(capsys, "grad", "my-model.py:loss,energy")
    assert status == 1
    assert "reads WEIGHTS from my-model.py, but 'my-model' is not a module name" in err
    assert out == ""


def test_real_module_level_data(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run(capsys, "grad", "data.py:poly", "-o", "g.py")
    if status == 1 and "not supported yet" in err:
        pytest.skip("indexing module-level lists is not lowered yet")
    assert status == 0, err
    assert "from data import COEFFS" in (work / "g.py").read_text()
    result = fresh_python("import json, g\nprint(json.dumps(g.poly_grad(1.5)))", cwd=work)
    assert result == pytest.approx(-1.0 + 2 * 0.5 * 1.5)


# -- the SymPy cross-check -----------------------------------------------------


@dataclasses.dataclass
class FakeReport:
    ok: bool
    text: str

    def __str__(self) -> str:
        return self.text


@pytest.fixture
def fake_check(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[tuple[object, ...]]]:
    """A stand-in `s2s_ad.check` whose reports disagree for functions named `energy`."""
    calls: list[tuple[object, ...]] = []

    def check_built(
        primal: ir.Function, derived: ir.Function, wrt: tuple[str, ...], data: object, rules: object, **options: object
    ) -> FakeReport:
        calls.append((primal.name, derived.name, wrt, data))
        if primal.name == "square":
            raise s2s_ad.CheckError("SymPy cannot express this", filename="model.py", lineno=11)
        if primal.name == "tanh_sq":
            raise ZeroDivisionError("oops")
        ok = primal.name != "energy"
        return FakeReport(ok, f"cross-check of {primal.name}: {'ok' if ok else 'MISMATCH'}")

    module = types.ModuleType("s2s_ad.check")
    module.check_built = check_built  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "s2s_ad.check", module)
    yield calls


def test_grad_check_prints_report_and_writes(
    work: Path, capsys: pytest.CaptureFixture[str], fake_check: list[tuple[object, ...]]
) -> None:
    status, out, err = run(capsys, "grad", "model.py:loss", "--check", "-o", "g.py")
    assert status == 0, err
    assert "cross-check of loss: ok" in err
    assert fake_check == [("loss", "loss_grad", ("w", "b"), {"OFFSET": -0.25, "SCALE": 2.5})]  # the numbers it reads
    assert (work / "g.py").exists()
    assert "--check" not in header_command((work / "g.py").read_text())  # it does not change the output


def test_grad_check_mismatch_is_not_written(
    work: Path, capsys: pytest.CaptureFixture[str], fake_check: list[tuple[object, ...]]
) -> None:
    status, out, err = run(capsys, "grad", "model.py:loss,energy", "--check", "-o", "out/")
    assert status == 1
    assert "cross-check of energy: MISMATCH" in err
    assert "not writing the gradient of 'energy': it disagrees with SymPy" in err
    assert [p.name for p in (work / "out").iterdir()] == ["model_loss_grad.py"]


def test_grad_check_quiet_shows_only_mismatches(
    work: Path, capsys: pytest.CaptureFixture[str], fake_check: list[tuple[object, ...]]
) -> None:
    status, out, err = run(capsys, "grad", "model.py:loss,energy", "--check", "-q")
    assert status == 1
    assert "cross-check of loss" not in err
    assert "cross-check of energy: MISMATCH" in err
    assert "def loss_grad(" in out and "def energy_grad(" not in out


def test_check_command(work: Path, capsys: pytest.CaptureFixture[str], fake_check: list[tuple[object, ...]]) -> None:
    status, out, err = run(capsys, "check", "model.py:loss")
    assert status == 0, err
    assert out.strip() == "cross-check of loss: ok"
    assert sorted(p.name for p in work.iterdir()) == sorted(p.name for p in INPUTS.glob("*.py"))  # nothing written
    status, out, err = run(capsys, "check", "model.py")
    assert status == 1
    assert "cross-check of energy: MISMATCH" in out
    status, out, err = run(capsys, "check", "mixed.py", "--wrt", "0")
    assert status == 1
    assert "error: 'try' statements" in err and "constant" not in err
    assert "cross-check of good: ok" in out
    status, out, err = run(capsys, "check", "mixed.py:constant")
    assert status == 1  # named, it is refused
    assert "error: function 'constant' has no parameters" in err


def test_check_that_cannot_be_done(work: Path, capsys: pytest.CaptureFixture[str], fake_check: list[tuple[object, ...]]) -> None:
    (work / "t.py").write_text("import math\n\n\ndef tanh_sq(x):\n    return math.tanh(x) ** 2\n")
    status, out, err = run(capsys, "grad", "model.py:square,loss", "--check", "-o", "g.py")
    assert status == 1
    assert "model.py:11: error: SymPy cannot express this" in err
    assert "not writing the gradient of 'square': the cross-check failed" in err
    assert "def loss_grad(" in (work / "g.py").read_text()
    status, out, err = run(capsys, "check", "t.py")
    assert status == 1
    assert "internal error while cross-checking 'tanh_sq': ZeroDivisionError: oops" in err
    assert "Traceback" not in err


@pytest.mark.parametrize("argv", [["grad", "model.py:loss", "--check", "-o", "g.py"], ["check", "model.py:loss"]])
def test_check_module_missing(
    work: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, argv: list[str]
) -> None:
    monkeypatch.setitem(sys.modules, "s2s_ad.check", None)  # makes `import s2s_ad.check` fail
    status, out, err = run(capsys, *argv)
    assert status == 2
    assert "s2s-ad: error: the SymPy cross-check is not available in this installation" in err
    assert not (work / "g.py").exists()


def test_real_check_module(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    if importlib.util.find_spec("s2s_ad.check") is None:
        pytest.skip("s2s_ad.check is not there yet")
    status, out, err = run(capsys, "check", "model.py:loss,energy")
    assert status == 0, err
    assert out.strip()
    status, out, err = run(capsys, "grad", "model.py:loss", "--check", "-o", "g.py")
    assert status == 0, err
    assert (work / "g.py").exists()


# -- odds and ends -------------------------------------------------------------


def test_dash_means_standard_output(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run(capsys, "grad", "model.py:energy", "-o", "-")
    assert status == 0, err
    assert "def energy_grad(x):" in out
    assert header_command(out) == ["s2s-ad", "grad", "model.py:energy", "-o", "-"]
    assert not (work / "-").exists()


def test_refuses_an_output_that_would_import_itself(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, _, err = run(capsys, "grad", "model.py:energy", "-o", "math.py")
    assert status == 1
    assert "cannot write math.py: the generated code imports 'math'" in err
    assert not (work / "math.py").exists()


def test_refuses_an_output_named_like_the_data_module(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (work / "out").mkdir()
    status, _, err = run(capsys, "grad", "data_model.py:loss", "-o", "out/data_model.py")
    assert status == 1
    assert "the generated code imports 'data_model'" in err
    assert not (work / "out" / "data_model.py").exists()


def test_combined_module_imports_data_once(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run(capsys, "grad", "data_model.py:loss,square,energy")
    assert status == 0, err
    assert out.count("from data_model import WEIGHTS\n") == 1
    assert out.count("import math\n") == 1
    assert out.index("import math") < out.index("from data_model import WEIGHTS") < out.index("def loss_grad(")


def test_module_level_numbers_are_written_out_by_name(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`SCALE = 2.5` in the input: the written module reads `SCALE`, which it defines itself (it imports nothing of
    the input), and agrees with the decorator."""
    status, out, err = run(capsys, "grad", "model.py:loss", "-o", "g.py")
    assert status == 0, err
    source = (work / "g.py").read_text()
    assert imported_modules(source) == {"math"}
    assert "SCALE = 2.5\n" in source and "OFFSET = -0.25\n" in source
    assert "SCALE" in source.split("def loss_grad")[1]
    model = load_module(work / "model.py")
    result = fresh_python("import json, g\nprint(json.dumps(g.loss_grad(0.2, 0.9)))", cwd=work)
    assert tuple(result) == pytest.approx(s2s_ad.grad(model.loss)(0.2, 0.9), rel=1e-12)  # type: ignore[arg-type]


def test_closed_standard_output_is_not_a_traceback(
    work: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    class ClosedPipe:
        def write(self, text: str) -> int:
            raise BrokenPipeError(32, "Broken pipe")

        def flush(self) -> None:
            pass

        def fileno(self) -> int:
            raise OSError("no file descriptor")

    monkeypatch.setattr(sys, "stdout", ClosedPipe())
    assert main(["grad", "model.py:energy"]) == 0
    assert "Traceback" not in capsys.readouterr().err


# -- --forward and --hessian ---------------------------------------------------


def test_help_says_how_to_get_the_hessian(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, "grad", "--help")
    assert status == 0
    text = " ".join(out.split())
    assert "one call per basis vector" in text
    assert "<function>_hvp(primals, tangents)" in text
    assert "<function>_jvp(primals, tangents)" in text


def test_forward_option_writes_jvp_that_agrees_with_jvp_and_finite_differences(
    work: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, _, err = run(capsys, "grad", "model.py:loss,energy", "--forward", "-o", "fwd.py")
    assert status == 0, err
    source = (work / "fwd.py").read_text()
    assert "def loss_jvp(primals, tangents):" in source and "def energy_jvp(primals, tangents):" in source
    assert "loss_jvp((w, b), (w_dot, b_dot)) -> (loss, derivative of loss along the tangents)" in source
    assert "w_dot" in source and "_bar" not in source
    assert imported_modules(source) <= {"math"}
    point, direction = (0.3, -0.7), (0.6, -1.1)
    result = fresh_python(
        "import json, sys\n"
        "import fwd\n"
        f"print(json.dumps({{'loss': fwd.loss_jvp({point!r}, {direction!r}), 'energy': fwd.energy_jvp((0.8,), (1.0,)),\n"
        "                   'names': sorted(n for n in sys.modules if n.startswith(('s2s_ad', 'model')))}))\n",
        cwd=work,
    )
    assert isinstance(result, dict)
    assert result["names"] == []
    model = load_module(work / "model.py")
    value, derivative = s2s_ad.jvp(model.loss)(point, direction)
    assert result["loss"][0] == pytest.approx(value, rel=1e-12)
    assert result["loss"][1] == pytest.approx(derivative, rel=1e-12)
    h = 1e-6
    moved = [(model.loss(*(p + s * h * d for p, d in zip(point, direction)))) for s in (1, -1)]
    assert result["loss"][1] == pytest.approx((moved[0] - moved[1]) / (2 * h), rel=1e-6)
    assert result["energy"][1] == pytest.approx(central_difference(model.energy, (0.8,), 0), rel=1e-6)


def test_hessian_option_writes_hvp_that_agrees_with_hessian_and_finite_differences(
    work: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, _, err = run(capsys, "grad", "model.py:loss", "--hessian", "-o", "hvp.py")
    assert status == 0, err
    source = (work / "hvp.py").read_text()
    assert "def loss_hvp(primals, tangents):" in source
    assert "one call per basis vector" in " ".join(source.split())
    assert "_bar_dot" in source
    assert imported_modules(source) <= {"math"}
    point = (0.3, -0.7)
    result = fresh_python(
        "import json, hvp\n"
        f"columns = [hvp.loss_hvp({point!r}, e)[1] for e in ((1.0, 0.0), (0.0, 1.0))]\n"
        f"print(json.dumps({{'columns': columns, 'gradient': hvp.loss_hvp({point!r}, (0.0, 0.0))[0]}}))\n",
        cwd=work,
    )
    assert isinstance(result, dict)
    model = load_module(work / "model.py")
    rows = s2s_ad.hessian(model.loss)(*point)
    got = [[result["columns"][j][i] for j in range(2)] for i in range(2)]
    for i in range(2):
        assert got[i] == pytest.approx(list(rows[i]), rel=1e-12)
    assert tuple(result["gradient"]) == pytest.approx(s2s_ad.grad(model.loss)(*point), rel=1e-12)
    gradient = s2s_ad.grad(model.loss)
    for j in range(2):  # column j: finite differences of the gradient along e_j
        numeric = [central_difference(lambda *a, i=i: gradient(*a)[i], point, j, h=1e-5) for i in range(2)]
        assert [got[i][j] for i in range(2)] == pytest.approx(numeric, rel=1e-6, abs=1e-8)


@pytest.mark.parametrize("option, suffix", [("--forward", "jvp"), ("--hessian", "hvp")])
def test_forward_and_hessian_headers_regenerate_the_same_bytes(
    work: Path, capsys: pytest.CaptureFixture[str], option: str, suffix: str
) -> None:
    assert run(capsys, "grad", "model.py:loss", "--wrt", "w", option, "-o", "out.py")[0] == 0
    first = (work / "out.py").read_bytes()
    command = header_command(first.decode())
    assert option in command
    assert command == ["s2s-ad", "grad", "model.py:loss", "--wrt", "w", option, "-o", "out.py"]
    assert f"def loss_{suffix}(primals, tangents):" in first.decode()
    (work / "out.py").write_text('"""' + MARKER + ' stale"""\n')
    assert run(capsys, *command[1:])[0] == 0
    assert (work / "out.py").read_bytes() == first


@pytest.mark.parametrize("option, suffix", [("--forward", "jvp"), ("--hessian", "hvp")])
def test_forward_and_hessian_directory_output(work: Path, capsys: pytest.CaptureFixture[str], option: str, suffix: str) -> None:
    status, _, err = run(capsys, "grad", "model.py:loss,energy", option, "-o", "build/")
    assert status == 0, err
    written = sorted(p.name for p in (work / "build").iterdir())
    assert written == [f"model_energy_{suffix}.py", f"model_loss_{suffix}.py"]
    source = (work / "build" / f"model_energy_{suffix}.py").read_text()
    assert header_command(source) == ["s2s-ad", "grad", "model.py:energy", option, "-o", "build/"]
    namespace: dict[str, object] = {}
    exec(compile(source, "energy", "exec"), namespace)  # noqa: S102
    model = load_module(work / "model.py")
    got = namespace[f"energy_{suffix}"]((0.8,), (1.0,))  # type: ignore[operator]
    if suffix == "jvp":
        assert got == pytest.approx(s2s_ad.jvp(model.energy)((0.8,), (1.0,)), rel=1e-12)
    else:
        assert got[1][0] == pytest.approx(s2s_ad.hessian(model.energy)(0.8)[0][0], rel=1e-12)


def test_hessian_option_refuses_a_function_without_scalar_output(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (work / "pair.py").write_text("def pair(x, y):\n    return x * y, x + y\n")
    status, out, err = run(capsys, "grad", "pair.py:pair", "--hessian")
    assert status == 1
    assert "scalar-output" in err and "Traceback" not in err
    assert out == ""
    status, out, err = run(capsys, "grad", "pair.py:pair", "--forward")  # forward mode takes tuples
    assert status == 0, err
    namespace: dict[str, object] = {}
    exec(compile(out, "pair", "exec"), namespace)  # noqa: S102
    assert namespace["pair_jvp"]((2.0, 3.0), (1.0, 0.0)) == ((6.0, 5.0), (3.0, 1.0))  # type: ignore[operator]


def test_hessian_option_through_loops_with_list_parameters(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Hessian-vector products of logistic regression's loss (nested loops, a list of weights)."""
    shutil.copy(Path(__file__).parent.parent / "examples" / "logistic_regression.py", work / "lr.py")
    status, _, err = run(capsys, "grad", "lr.py:bce_loss", "--hessian", "--wrt", "w,b", "-o", "lr_hvp.py")
    assert status == 0, err
    source = (work / "lr_hvp.py").read_text()
    assert "bce_loss_hvp((w, b, X, y), (w_dot, b_dot))" in source
    model = load_module(work / "lr.py")
    w, b, w_dot, b_dot = [0.3, -0.4], 0.1, [0.7, -0.2], 0.5
    result = fresh_python(
        "import json, lr_hvp\n"
        f"print(json.dumps(lr_hvp.bce_loss_hvp(({w!r}, {b!r}, {model.DATA_X!r}, {model.DATA_Y!r}), "
        f"({w_dot!r}, {b_dot!r}))))\n",
        cwd=work,
    )
    assert isinstance(result, list)
    gradient = s2s_ad.grad(model.bce_loss, wrt=("w", "b"))
    h = 1e-5
    up = gradient([w[0] + h * w_dot[0], w[1] + h * w_dot[1]], b + h * b_dot, model.DATA_X, model.DATA_Y)
    down = gradient([w[0] - h * w_dot[0], w[1] - h * w_dot[1]], b - h * b_dot, model.DATA_X, model.DATA_Y)
    numeric = [(u - d) / (2 * h) for u, d in zip([*up[0], up[1]], [*down[0], down[1]])]
    assert [*result[1][0], result[1][1]] == pytest.approx(numeric, rel=1e-6)
    assert [*result[0][0], result[0][1]] == pytest.approx(
        [*gradient(w, b, model.DATA_X, model.DATA_Y)[0], gradient(w, b, model.DATA_X, model.DATA_Y)[1]], rel=1e-12
    )


# -- names the command line computes without running the file ------------------------------------------


def test_constant_expressions_are_numbers(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`SCALE = 2.0 * 3`, `-1.5`, `2 ** 10`, `1e-3 * 4`, `math.pi / 2` and expressions of those: the values
    Python gives them, compiled in (a list of them is data the module reads)."""
    status, _, err = run(capsys, "grad", "constant_expressions.py", "-o", "g.py")
    assert status == 0, err
    assert "cannot be resolved" not in err
    source = (work / "g.py").read_text()
    assert imported_modules(source) <= {"math", "constant_expressions"}
    model = load_module(work / "constant_expressions.py")
    point = {"scaled": (0.7,), "angles": (0.3, -1.1), "weighted": (1.3,)}
    names = ", ".join(f"'{n}': g.{n}_grad{p!r}" for n, p in point.items())
    result = fresh_python(f"import json, g\nprint(json.dumps({{{names}}}))", cwd=work)
    assert isinstance(result, dict)
    for name, args in point.items():
        function = getattr(model, name)
        numeric = [central_difference(function, args, i) for i in range(len(args))]
        got = result[name] if len(args) > 1 else [result[name]]
        assert got == pytest.approx(numeric, rel=1e-6)
        assert got == pytest.approx(list(s2s_ad.grad(function)(*args)) if len(args) > 1 else [s2s_ad.grad(function)(*args)])


def test_names_that_need_running_the_file_are_still_refused(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run(capsys, "grad", "not_constant.py")
    assert status == 1
    assert "not_constant.py:10:12: error: name 'LIMIT' cannot be resolved" in err  # int(input()): not computed
    assert "not_constant.py:14:12: error: name 'HUGE' cannot be resolved" in err  # 2**10**9: not computed either
    assert "def fine_grad(x):" in out


def test_helpers_through_a_module_attribute(
    work: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """`import module_helpers_lib` then `module_helpers_lib.square(x)` (and `lib.cube`, `lib.GAIN` under another
    name) works as `from module_helpers_lib import softsign` does: the module next to the file is read too."""
    status, _, err = run(capsys, "grad", "module_helpers.py:through_module,by_name", "-o", "g.py")
    assert status == 0, err
    source = (work / "g.py").read_text()
    assert imported_modules(source) <= {"math"}  # the helpers are inlined: neither module is imported
    monkeypatch.syspath_prepend(str(work))  # the input imports its helpers' module, as it does where it sits
    model = load_module(work / "module_helpers.py")
    result = fresh_python("import json, g\nprint(json.dumps([g.through_module_grad(0.6, -1.3), g.by_name_grad(0.8)]))", cwd=work)
    assert isinstance(result, list)
    assert result[0] == pytest.approx([central_difference(model.through_module, (0.6, -1.3), i) for i in range(2)], rel=1e-6)
    assert result[1] == pytest.approx(central_difference(model.by_name, (0.8,), 0), rel=1e-6)
    assert result[0] == pytest.approx(list(s2s_ad.grad(model.through_module)(0.6, -1.3)), rel=1e-12)  # the decorator too


def test_module_attribute_refusals_say_what_to_do(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, _, err = run(capsys, "grad", "module_helpers.py:module_list,reads_its_own_list,unknown_member")
    assert status == 1
    assert "module_helpers.py:17:12: error: the list 'lib.TABLE' is read through its module" in err
    assert "hint: import it by name, `from module_helpers_lib import TABLE`, or pass it as a parameter" in err
    assert "\nmodule_helpers_lib.py:21:12: error: the list 'TABLE' of module_helpers_lib.py is read by a function defined" in err
    assert "module_helpers.py:25:12: error: call to unknown function 'lib.missing'" in err
    assert "Traceback" not in err


def test_a_long_transform_reports_its_stages(
    work: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past a second into one function's transform, each stage that ends is reported on standard error (here
    the threshold is lowered so that a small function shows it); a quick transform reports nothing."""
    status, _, err = run(capsys, "grad", "model.py:loss", "-o", "g.py")
    assert status == 0 and "stages" not in err
    from s2s_ad.cli import inputs, output

    monkeypatch.setattr(inputs, "Progress", functools.partial(output.Progress, after=-1.0))
    status, _, err = run(capsys, "grad", "model.py:loss", "-o", "g.py")
    assert status == 0, err
    reported = [line for line in err.splitlines() if "stages" in line]
    assert [line.split(": ")[2].split(",")[0] for line in reported] == ["lowered", "reverse", "optimized", "generated"]
    assert reported[-1].startswith("s2s-ad: loss: generated, 4 of 4 stages (")


def test_a_numpy_function_without_shapes_names_the_arrays_in_the_hint(tmp_path: Path) -> None:
    source = tmp_path / "model.py"
    source.write_text("import numpy as np\n\n\ndef loss(W, b, X):\n    return np.sum(np.tanh(X @ W + b))\n")
    result = subprocess.run(
        [sys.executable, "-m", "s2s_ad", "grad", f"{source}:loss", "--wrt", "W,b", "-o", str(tmp_path / "out.py")],
        capture_output=True,
        text=True,
    )
    assert result.returncode != 0
    assert "their shapes are needed" in result.stderr
    assert "--shapes W=3x4" in result.stderr and "plainly arrays here: W, X" in result.stderr
