"""Arrays the generated code lets go of (`del`) after their last reader: never one read later, never one a
branch or a loop may leave unbound, never a parameter or what the function returns, and never a number.

Each program's gradient is compared with central finite differences (and its value with the function's),
so a `del` too early would raise NameError or UnboundLocalError here; the code is read for the `del` lines.
"""

from __future__ import annotations

import inspect
import re
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import import_source

from s2s_ad import grad, value_and_grad, vjp

PROGRAMS = """
import math
import numpy as np


def chain(x, w):
    a = np.tanh(x * w)
    b = a * a + x
    c = np.exp(-b)
    return np.sum(c * a)


def branchy(x, w):
    a = np.sin(x)
    if np.sum(x) > 0.0:
        b = a * w
    else:
        b = a + w
    c = b * b
    return np.sum(c) + np.sum(a)


def only_in_a_branch(x, w):
    total = np.sum(x * w)
    if total > 100.0:
        big = np.exp(x)
        return np.sum(big)
    return total


def looped(x, w):
    h = np.tanh(x)
    acc = np.zeros_like(x)
    for k in range(3):
        acc = acc + h * w * (k + 1.0)
    return np.sum(acc * acc)


def rebinding(x, w):
    y = x * w
    y = np.sin(y)
    y = y * y
    return np.sum(y)


def read_after_a_loop(x, w):
    a = np.cos(x)
    s = 0.0
    for k in range(2):
        s = s + np.sum(w * k)
    return np.sum(a * a) + s


def vector_out(x, w):
    a = np.tanh(x)
    b = a * w
    return b * b


def with_aux(x, w):
    a = np.tanh(x)
    p = a / np.sum(a * a)
    return np.sum(p * w), p


def scalar_only(x, y):
    a = math.sin(x * y)
    b = a * a
    return b + x
"""


@pytest.fixture(scope="module")
def programs(tmp_path_factory: pytest.TempPathFactory) -> types.ModuleType:
    return import_source(PROGRAMS, Path(tmp_path_factory.mktemp("releases")))


def numeric(f: Callable[..., Any], x: Any, w: Any, h: float = 1e-6) -> Any:
    out = np.zeros_like(x)
    for k in range(x.size):
        up, down = x.copy(), x.copy()
        up.flat[k] += h
        down.flat[k] -= h
        out.flat[k] = (f(up, w) - f(down, w)) / (2 * h)
    return out


SCALAR_OUT = ["chain", "branchy", "only_in_a_branch", "looped", "rebinding", "read_after_a_loop"]


@pytest.mark.parametrize("name", SCALAR_OUT)
@pytest.mark.parametrize("sign", [1.0, -1.0])
def test_gradients_with_released_arrays(programs: types.ModuleType, name: str, sign: float) -> None:
    rng = np.random.default_rng(len(name))
    f = getattr(programs, name)
    x, w = sign * (0.5 + rng.random((3, 4))), rng.standard_normal((3, 4))
    value, found = value_and_grad(f, wrt="x")(x, w)
    assert value == pytest.approx(f(x, w), rel=1e-12)
    np.testing.assert_allclose(found, numeric(f, x, w), rtol=1e-6, atol=1e-8)


def test_only_surely_bound_arrays_no_parameters_and_no_numbers(programs: types.ModuleType) -> None:
    x, w = np.ones((3, 4)), np.ones((3, 4))
    g = grad(programs.chain, wrt="x")
    g(x, w)
    lines = [line.strip() for line in inspect.getsource(g).splitlines()]
    released = [name for line in lines if line.startswith("del ") for name in line[4:].split(", ")]
    assert released, "the forward sweep's arrays are let go of"
    assert not {"x", "w"} & set(released)
    g = grad(programs.branchy, wrt="x")
    g(x, w)
    assert not re.search(r"^\s*del .*\bb\b", inspect.getsource(g), re.M)  # bound inside the branches only
    g = grad(programs.scalar_only)
    g(0.3, 0.4)
    assert "del " not in inspect.getsource(g)


def test_returned_arrays_stay(programs: types.ModuleType) -> None:
    rng = np.random.default_rng(5)
    x, w = rng.random(4), rng.standard_normal(4)
    out, pullback = vjp(programs.vector_out, wrt="x")(x, w)
    np.testing.assert_allclose(out, programs.vector_out(x, w))
    seed = rng.standard_normal(4)
    (found,) = pullback(seed)
    np.testing.assert_allclose(found, numeric(lambda a, b: float(np.dot(programs.vector_out(a, b), seed)), x, w), rtol=1e-6)
    (value, aux), found = value_and_grad(programs.with_aux, wrt="x", has_aux=True)(x, w)
    np.testing.assert_allclose(aux, programs.with_aux(x, w)[1])
    np.testing.assert_allclose(found, numeric(lambda a, b: programs.with_aux(a, b)[0], x, w), rtol=1e-6, atol=1e-8)
