"""The numba backend: `grad(f, backend="numba")` and `s2s-ad grad --backend numba`.

Each gradient compiled by numba is compared with the default backend's (the
same IR, printed for plain Python) bit for bit, and with central finite
differences. numba compiles each function in about a second, so the suite
compiles only a few. The refusals and the error without numba need no
compiling at all.
"""

from __future__ import annotations

import builtins
import importlib.util
import inspect
import math
import sys
from pathlib import Path
from typing import Any

import pytest

from s2s_ad import BackendError, custom_derivative, grad, hessian, value_and_grad
from s2s_ad.cli import main
from s2s_ad.codegen.numba import INSTALL
from s2s_ad.errors import SignatureError

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))
sys.path.insert(0, str(ROOT / "examples"))

import functions  # noqa: E402  (benchmarks/functions.py)

try:
    import numpy as np
except ImportError:  # the tests that need it skip
    np = None
import mlp  # noqa: E402  (examples/mlp.py)


def central(f: Any, args: list[Any], position: tuple[int, ...], h: float = 1e-6) -> float:
    """d f / d args[position] by central differences (`position`: the argument, then indices into it)."""

    def at(delta: float) -> float:
        moved = [_copy(a) for a in args]
        holder: Any = moved
        for k in position[:-1]:
            holder = holder[k]
        holder[position[-1]] += delta
        return f(*moved)

    return (at(h) - at(-h)) / (2 * h)


def _copy(value: Any) -> Any:
    return [_copy(v) for v in value] if isinstance(value, list) else value


def chain(x: float) -> float:
    for _ in range(40):
        x = math.sin(x) * x + math.cos(x)
    return x


def stepped(x: float, y: float) -> float:
    """A loop over range(2, 23, 3) and a loop left by `break`: run backwards without reversed(...)."""
    total = 0.0
    for i in range(2, 23, 3):
        total = total * math.cos(x * i) + y
    for _ in range(50):
        total = math.sin(total) + x
        if total > 1.2:
            break
    return total * y


def test_chain_is_the_python_gradient_bit_for_bit() -> None:
    numba = pytest.importorskip("numba")
    gradient = grad(chain, backend="numba")
    source = inspect.getsource(gradient)
    assert source.startswith("@numba.njit\ndef chain_grad(x):")
    assert "reversed(" not in source and "range(40 - 1, -1, -1)" in source
    assert "np.empty(40)" in source  # the tape: NumPy arrays allocated at loop entry
    assert isinstance(gradient.dispatcher, numba.core.registry.CPUDispatcher)
    assert grad(chain, backend="numba") is gradient and grad(chain) is not gradient  # the backend is part of the key
    for x in (0.3, 0.5, 1.1):
        got = gradient(x)
        assert got == grad(chain)(x)
        assert got == pytest.approx(central(chain, [x], (0,)), rel=1e-6, abs=1e-9)


def test_stepped_and_breaking_loops() -> None:
    pytest.importorskip("numba")
    gradient = value_and_grad(stepped, backend="numba")
    source = inspect.getsource(gradient)
    assert "reversed(" not in source and "[:" not in source
    for x, y in ((0.2, 0.3), (0.7, -0.4), (0.05, 0.9)):
        value, (dx, dy) = gradient(x, y)
        assert (value, (dx, dy)) == value_and_grad(stepped)(x, y)
        assert value == stepped(x, y)
        assert dx == pytest.approx(central(stepped, [x, y], (0,)), rel=1e-6, abs=1e-8)
        assert dy == pytest.approx(central(stepped, [x, y], (1,)), rel=1e-6, abs=1e-8)


def test_logistic_regression_takes_lists_and_returns_lists() -> None:
    pytest.importorskip("numba")
    w, X, y = functions.logistic_data(samples=12, features=4)
    gradient = grad(functions.logistic_loss, wrt=("w", "X"), backend="numba")
    dw, dX = gradient(w, X, y)
    assert type(dw) is list and type(dX) is list and type(dX[0]) is list and type(dw[0]) is float
    expected = grad(functions.logistic_loss, wrt=("w", "X"))(w, X, y)
    assert max(abs(a - b) for a, b in zip(dw, expected[0])) <= 1e-12
    assert max(abs(a - b) for ra, rb in zip(dX, expected[1]) for a, b in zip(ra, rb)) <= 1e-12
    for j in range(4):
        assert dw[j] == pytest.approx(central(functions.logistic_loss, [w, X, y], (0, j)), rel=1e-6, abs=1e-9)
    assert dX[3][2] == pytest.approx(central(functions.logistic_loss, [w, X, y], (1, 3, 2)), rel=1e-6, abs=1e-9)


def test_mlp_tapes_lists_and_numbers() -> None:
    """examples/mlp.py: a list per sample on a counted loop's tape; its items are read back from it, not taped again."""
    pytest.importorskip("numba")
    point = list(mlp.GOLDEN_POINTS["mlp_loss"])
    gradient = grad(mlp.mlp_loss, wrt=mlp.PARAMETERS, backend="numba")
    source = inspect.getsource(gradient)
    assert "hidden_tape = [[0.0]] * " in source and "_tape1" not in source and "hidden[j]" in source
    got = gradient(*point)
    assert got == grad(mlp.mlp_loss, wrt=mlp.PARAMETERS)(*point)
    assert got[0][1][0] == pytest.approx(central(mlp.mlp_loss, point, (0, 1, 0)), rel=1e-6, abs=1e-9)
    assert got[3] == pytest.approx(central(mlp.mlp_loss, point, (3,)), rel=1e-6, abs=1e-9)


def test_hessian() -> None:
    pytest.importorskip("numba")

    def f(x: float, y: float) -> float:
        return math.sin(x) * y**3 + math.exp(x * y)

    assert hessian(f, backend="numba")(0.4, 0.7) == hessian(f)(0.4, 0.7)


def test_what_numba_cannot_compile_is_refused_at_transform_time() -> None:
    pytest.importorskip("numba")

    def total(xs: list[float]) -> float:
        return math.fsum(xs) * 2.0

    with pytest.raises(BackendError, match="numba cannot compile math.fsum") as caught:
        grad(total, backend="numba")
    assert caught.value.lineno == inspect.getsourcelines(total)[1] + 1

    @custom_derivative
    def soft(x: float) -> float:
        return math.log1p(math.exp(x))

    @soft.defderiv
    def _(x: float) -> tuple[float]:
        return (1.0 / (1.0 + math.exp(-x)),)

    def uses(x: float) -> float:
        return soft(x) * x

    with pytest.raises(BackendError, match="numba cannot call the Python function"):
        grad(uses, backend="numba")


def test_structured_parameters_are_refused() -> None:
    pytest.importorskip("numba")

    def energy(params: dict[str, float]) -> float:
        return params["a"] * params["b"] ** 2

    with pytest.raises(BackendError, match="takes numbers, lists and arrays as parameters"):
        grad(energy, backend="numba")({"a": 1.0, "b": 2.0})


def test_a_numba_compile_error_names_the_line() -> None:
    np = pytest.importorskip("numpy")
    pytest.importorskip("numba")

    def picked(E: Any, ids: Any) -> Any:
        return np.sum(E[ids] ** 2)

    with pytest.raises(BackendError, match="numba cannot compile `np.add.at") as caught:
        grad(picked, wrt="E", backend="numba")(np.ones((4, 2)), np.array([0, 2, 2]))
    assert caught.value.lineno == inspect.getsourcelines(picked)[1] + 1
    assert "Traceback" not in str(caught.value)


def test_without_numba_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    real = builtins.__import__

    def without_numba(name: str, *args: Any, **kwargs: Any) -> Any:
        if name == "numba" or name.startswith("numba."):
            raise ImportError("No module named 'numba'")
        return real(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", without_numba)
    with pytest.raises(BackendError) as caught:
        grad(chain, backend="numba")
    assert caught.value.message == INSTALL == 'backend="numba" needs numba: pip install "s2s_ad[numba]"'


def test_an_unknown_backend() -> None:
    with pytest.raises(SignatureError, match="backend must be one of 'python', 'numba', not 'jax'"):
        grad(chain, backend="jax")


def test_the_default_backend_is_unchanged() -> None:
    source = inspect.getsource(grad(chain))
    assert "for x in reversed(x_tape):" in source and "numba" not in source and "x_tape = [0.0] * 40" in source


def test_command_line_module_imports_and_runs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    np = pytest.importorskip("numpy")
    pytest.importorskip("numba")
    output = tmp_path / "logistic_grad.py"
    status = main(
        ["grad", f"{ROOT / 'benchmarks' / 'functions.py'}:logistic_loss", "--wrt", "w", "--backend", "numba", "-o", str(output)]
    )
    assert status == 0, capsys.readouterr().err
    text = output.read_text()
    assert "import numba\n" in text and "@numba.njit\ndef logistic_loss_grad(w, X, y):" in text
    assert "--backend numba" in text
    spec = importlib.util.spec_from_file_location("written_logistic_grad", output)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    w, X, y = functions.logistic_data(samples=6, features=3)
    got = module.logistic_loss_grad(np.asarray(w), np.asarray(X), np.asarray(y))
    assert got == grad(functions.logistic_loss, wrt="w")(w, X, y)


def layer(W: Any, x: Any, v: Any) -> Any:
    h = np.tanh(W @ x)
    return np.sum(h * v) + 0.5 * np.sum(W * W)


def test_numpy_gradient() -> None:
    """A NumPy gradient (matrix products, elementwise functions, np.outer) compiles unchanged."""
    pytest.importorskip("numba")
    W = np.arange(6.0).reshape(2, 3) / 10
    x, v = np.array([0.1, -0.2, 0.3]), np.array([1.0, -1.0])
    got = grad(layer, backend="numba")(W, x, v)
    for a, b in zip(got, grad(layer)(W, x, v)):
        assert type(a) is np.ndarray and np.array_equal(a, b)
    step = np.zeros_like(W)
    step[1, 2] = 1e-6
    assert got[0][1, 2] == pytest.approx((layer(W + step, x, v) - layer(W - step, x, v)) / 2e-6, rel=1e-6)
