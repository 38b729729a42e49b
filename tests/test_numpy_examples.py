"""The NumPy examples, run as a student runs them: `python examples/numpy_X.py`, from the repository's root.

Each example checks the gradient s2s_ad generates for its loss against central finite differences
at the initial parameters before it trains, and exits with status 1 on a mismatch; so every run
here is also a test of the generated NumPy gradient. `--quick` trains a few steps only; the full
runs take a few seconds each and must reach each example's accuracy or error threshold. The digits
example needs scikit-learn for its data: without it, its full run is skipped, and the script is
checked to say how to install it and to exit with status 2 (0 with `--skip-missing`).
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import types
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("numpy")

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
WITHOUT_SKLEARN = ["numpy_two_layer", "numpy_window_ner", "numpy_rnn"]
DIGITS = "numpy_softmax_digits"
HAS_SKLEARN = importlib.util.find_spec("sklearn") is not None


def run(stem: str, *args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, f"examples/{stem}.py", *args]
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)


def assert_gradient_checked(result: subprocess.CompletedProcess[str]) -> None:
    assert result.returncode == 0, result.stdout + result.stderr
    assert "finite differences" in result.stdout
    assert "largest relative error" in result.stdout and "MISMATCH" not in result.stdout


@pytest.mark.parametrize("stem", WITHOUT_SKLEARN)
def test_quick_run_checks_the_gradient_and_exits_0(stem: str) -> None:
    assert_gradient_checked(run(stem, "--quick"))


@pytest.mark.parametrize("stem", WITHOUT_SKLEARN)
def test_full_run_trains_to_its_threshold(stem: str) -> None:
    assert_gradient_checked(run(stem))


def test_digits_quick_run_exits_0_with_skip_missing() -> None:
    result = run(DIGITS, "--quick", "--skip-missing")
    if HAS_SKLEARN:
        assert_gradient_checked(result)
    else:
        assert result.returncode == 0, result.stdout + result.stderr
        assert "pip install scikit-learn" in result.stderr


def test_digits_full_run_passes_90_percent_held_out() -> None:
    pytest.importorskip("sklearn")
    result = run(DIGITS)
    assert_gradient_checked(result)
    assert "held-out test accuracy" in result.stdout


@pytest.mark.parametrize("flags, status", [([], 2), (["--skip-missing"], 0)])
def test_digits_without_scikit_learn_says_how_to_install_it(flags: list[str], status: int) -> None:
    """`import sklearn` made to fail (sys.modules["sklearn"] = None) whether or not it is installed."""
    program = (
        "import runpy, sys\n"
        "sys.modules['sklearn'] = None\n"
        f"sys.argv = ['examples/{DIGITS}.py', *sys.argv[1:]]\n"
        f"runpy.run_path('examples/{DIGITS}.py', run_name='__main__')\n"
    )
    command = [sys.executable, "-c", program, "--quick", *flags]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == status, result.stdout + result.stderr
    assert "pip install scikit-learn" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.fixture
def example_module(request: pytest.FixtureRequest) -> Iterator[types.ModuleType]:
    """The example imported from its file (s2s_ad reads the loss's source back from there)."""
    stem = request.param
    name = f"s2s_test_example_{stem}"
    spec = importlib.util.spec_from_file_location(name, EXAMPLES / f"{stem}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
        yield module
    finally:
        del sys.modules[name]


@pytest.mark.parametrize("example_module", WITHOUT_SKLEARN, indirect=True)
def test_a_wrong_gradient_makes_the_example_exit_1(
    example_module: types.ModuleType, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The finite-difference check is not a formality: a gradient off by 0.1% in one array is caught."""
    real_grad = example_module.grad

    def wrong_grad(f: Callable[..., Any], **options: Any) -> Callable[..., Any]:
        gradient = real_grad(f, **options)

        def wrong(*args: Any) -> tuple[Any, ...]:
            first, *rest = gradient(*args)
            return (first * 1.001, *rest)

        return wrong

    monkeypatch.setattr(example_module, "grad", wrong_grad)
    assert example_module.main(["--quick"]) == 1
    assert "MISMATCH" in capsys.readouterr().out
