"""Lists of arrays: built in a loop (`hs.append(h)`), written out (`[A, B]`), made by a comprehension, repeated,
stacked (`np.stack(hs)`, `np.array(hs)`), summed, sliced, zipped and read by index; gradients against central
differences, and the programs whose arrays a list would share refused by name.

Python keeps the very array in a list, not a copy: writing into it afterwards (`h[0] = 5.0`, `h += 1.0`),
or into an element read back out (`g = hs[0]; g[1] = 2.0`), changes the list too, which the gradient's
`h = _put(h, ...)` would not. Those are refused before any code runs.
"""

from __future__ import annotations

import re
import types
from pathlib import Path

import numpy as np
import pytest
from conftest import import_source
from test_numpy_programs import numeric_grad

from s2s_ad import UnsupportedError, check, grad, jvp, value_and_grad

SOURCE = """
import numpy as np


def rnn(Wh, Wx, b, X):
    h = np.zeros(Wh.shape[0])
    hs = []
    for t in range(X.shape[0]):
        h = np.tanh(Wh @ h + Wx @ X[t] + b)
        hs.append(h)
    total = 0.0
    for h in hs:
        total += np.sum(h ** 2)
    return total / len(hs)


def _states(Wh, Wx, b, X):
    h = np.zeros(Wh.shape[0])
    hs = []
    for t in range(X.shape[0]):
        h = np.tanh(Wh @ h + Wx @ X[t] + b)
        hs.append(h)
    return hs


def rnn_stacked(Wh, Wx, b, X):
    hs = _states(Wh, Wx, b, X)
    H = np.stack(hs)
    return np.sum(H[1:] * H[:-1]) + np.sum(np.stack(hs, axis=1)[0] ** 3) + np.sum(np.array(hs)[-1])


def layers_literal(A, B, x):
    layers = [A, B]
    h = x
    for W in layers:
        h = np.tanh(W @ h)
    return np.sum(h)


def one_layer_unused(A, B, x):
    layers = [A, B]
    return np.sum(np.tanh(layers[1] @ x))


def activations(W1, W2, x):
    acts = [x]
    for W in [W1, W2]:
        acts.append(np.tanh(W @ acts[-1]))
    return np.sum(acts[-1]) + np.sum(acts[1] ** 2)


def comprehension(W, X):
    outs = [np.tanh(W @ x) for x in X]
    return sum(np.sum(o ** 2) for o in outs) + np.sum(sum(outs))


def list_operations(W, X):
    hs = [np.tanh(W @ x) for x in X]
    total = 0.0
    for i, h in enumerate(hs[::-1]):
        total += np.sum(h) * (i + 1)
    for a, b in zip(hs, hs[1:]):
        total += np.sum(a * b)
    gs = list(hs) + hs[:2]
    for g in reversed(gs):
        total += np.sum(g ** 2)
    return total + len(gs)


def in_a_branch(W, X):
    hs = []
    for x in X:
        h = np.tanh(W @ x)
        if np.sum(h) > 0:
            hs.append(h)
        else:
            hs.append(h * 2.0)
    return np.sum(hs[0] + hs[-1])


def replaced_elements(W, X):
    hs = [np.zeros(W.shape[0]), np.zeros(W.shape[0])]
    for i in range(X.shape[0]):
        hs[i % 2] = hs[i % 2] + np.tanh(W @ X[i])
    hs[0] = np.tanh(hs[1])
    return np.sum(hs[0] * hs[1])


def added_into_elements(W, X):
    hs = [np.zeros(W.shape[0]), np.zeros(W.shape[0])]
    for i in range(X.shape[0]):
        hs[i % 2] += np.tanh(W @ X[i])
    return np.sum(hs[0] * hs[1])


def fresh_array_each_step(W, X):
    hs = []
    for t in range(X.shape[0]):
        h = np.zeros(W.shape[0])
        h[0] = np.sum(W @ X[t])
        h[1] = np.sum(W[1] * X[t])
        hs.append(h)
    return np.sum(hs[0] * hs[1])


def repeated(W, x):
    hs = [W @ x] * 3
    return np.sum(hs[0] * hs[2])


def _layer(W, X):
    return [np.tanh(W @ x) for x in X]


def _total(hs):
    s = 0.0
    for h in hs:
        s += np.sum(h)
    return s


def through_helpers(W, X):
    return _total(_layer(W, X))


def conditional_length(W, X):
    hs = []
    for x in X:
        h = np.tanh(W @ x)
        if h[0] > 0:
            hs.append(h)
    total = 0.0
    for h in hs:
        total += np.sum(h ** 2)
    return total

def nested_loops(W, X):
    hs = []
    for i in range(X.shape[0]):
        acc = np.zeros(W.shape[0])
        for j in range(i + 1):
            acc = acc + np.tanh(W @ X[j])
        hs.append(acc)
    return np.sum(np.stack(hs) ** 2)

def read_while_building(W, X):
    hs = [np.zeros(W.shape[0])]
    for x in X:
        hs.append(np.tanh(W @ x + hs[-1]))
    return np.sum(hs[-1] * hs[1])

def two_lists(W, X):
    hs, gs = [], []
    for x in X:
        h = W @ x
        hs.append(h)
        gs.append(np.tanh(h))
    return np.sum(sum(gs) * hs[0])


def written_after_append(W, x):
    h = np.tanh(W @ x)
    hs = []
    hs.append(h)
    h[0] = 5.0
    return np.sum(hs[0]) + np.sum(h)


def written_in_the_loop(W, X):
    h = np.zeros(W.shape[0])
    hs = []
    for t in range(X.shape[0]):
        h[0] = np.sum(W @ X[t])
        hs.append(h)
    return np.sum(hs[0] * hs[1])


def added_after_listing(W, X):
    h = np.tanh(W @ X[0])
    hs = [h]
    h += 1.0
    return np.sum(hs[0])


def element_written(W, X):
    hs = [np.tanh(W @ x) for x in X]
    g = hs[0]
    g[1] = 2.0
    return np.sum(hs[0] * hs[1])


def _activations(W, X, scale):
    out = []
    for t in range(X.shape[0]):
        out.append(np.tanh(scale * (W @ X[t])))
    return out


def helper_called_twice(W, X):
    first = _activations(W, X, 1.0)
    second = _activations(W, X[:2], 0.5)
    return np.sum(np.stack(first) ** 2) + np.sum(second[-1] * first[0])


def joined(W, X):
    hs = []
    for t in range(X.shape[0]):
        hs.append(np.tanh(W @ X[t]))
    blocks = [np.outer(h, X[0]) for h in hs]
    total = np.sum(np.concatenate(hs) ** 2) + np.sum(np.vstack(hs) * np.hstack(hs)[: W.shape[0]])
    return total + np.sum(np.concatenate(blocks, axis=1) ** 3) + np.sum(np.vstack(blocks)) + np.sum(np.hstack(blocks) ** 2)


def summed_generators(W, X):
    hs = [np.tanh(W @ x) for x in X]
    total = sum(np.sin(h) * k for k, h in enumerate(hs))
    return np.sum(sum(h * h for h in hs)) + total @ np.arange(1.0, W.shape[0] + 1.0) + sum(np.sum(h) for h in hs)


def numbers_and_arrays(W, x):
    hs = []
    hs.append(np.sum(W @ x))
    hs.append(W @ x)
    return np.sum(hs[1]) + hs[0]
"""

rng = np.random.default_rng(7)
W, x, X = rng.normal(size=(3, 2)), rng.normal(size=2), rng.normal(size=(4, 2))
SQUARE = rng.normal(size=(3, 3)) * 0.5
POINTS = {
    "rnn": ((SQUARE, W, rng.normal(size=3), X), ("Wh", "Wx", "b")),
    "rnn_stacked": ((SQUARE, W, rng.normal(size=3), X), ("Wh", "Wx", "b")),
    "layers_literal": ((rng.normal(size=(3, 2)), rng.normal(size=(2, 3)), x), ("A", "B")),
    "one_layer_unused": ((SQUARE, SQUARE.T.copy(), rng.normal(size=3)), ("A", "B")),
    "activations": ((rng.normal(size=(3, 2)), rng.normal(size=(2, 3)), x), ("W1", "W2")),
    "comprehension": ((W, X), ("W",)),
    "list_operations": ((W, X), ("W",)),
    "in_a_branch": ((W, X), ("W",)),
    "replaced_elements": ((W, X), ("W",)),
    "added_into_elements": ((W, X), ("W",)),
    "fresh_array_each_step": ((W, X), ("W",)),
    "repeated": ((W, x), ("W",)),
    "through_helpers": ((W, X), ("W",)),
    "conditional_length": ((W, rng.normal(size=(6, 2))), ("W",)),
    "nested_loops": ((W, X), ("W",)),
    "read_while_building": ((rng.normal(size=(2, 2)), X), ("W",)),
    "two_lists": ((rng.normal(size=(2, 2)), X), ("W",)),
    "helper_called_twice": ((W, X), ("W",)),  # a helper's list, parsed anew at each lowering: learnt once
    "joined": ((W, X), ("W", "X")),
    "summed_generators": (
        (W, X),
        ("W", "X"),
    ),  # sum(gen) of arrays: the sum of their list  # np.concatenate, np.vstack and np.hstack of lists of vectors and matrices
}


@pytest.fixture(scope="module")
def programs(tmp_path_factory: pytest.TempPathFactory) -> types.ModuleType:
    return import_source(SOURCE, Path(tmp_path_factory.mktemp("lists_of_arrays")))


@pytest.mark.parametrize("name", sorted(POINTS))
def test_the_gradient_matches_central_differences(programs: types.ModuleType, name: str) -> None:
    f = getattr(programs, name)
    args, wrt = POINTS[name]
    params = f.__code__.co_varnames[: f.__code__.co_argcount]
    got = grad(f, wrt=wrt)(*args)
    got = got if isinstance(got, tuple) else (got,)
    for parameter, part in zip(wrt, got):
        position = params.index(parameter)
        assert isinstance(part, np.ndarray) and part.shape == args[position].shape, parameter
        np.testing.assert_allclose(part, numeric_grad(f, args, position), rtol=1e-6, atol=1e-8, err_msg=parameter)
    value, again = value_and_grad(f, wrt=wrt)(*args)
    assert value == pytest.approx(f(*args), rel=1e-12)
    for a, b in zip(again if isinstance(again, tuple) else (again,), got):
        np.testing.assert_allclose(a, b, rtol=1e-12)


def test_arguments_are_left_as_they_were(programs: types.ModuleType) -> None:
    args, wrt = POINTS["replaced_elements"]
    before = [a.copy() for a in args]
    grad(programs.replaced_elements, wrt=wrt)(*args)
    for a, b in zip(args, before):
        np.testing.assert_array_equal(a, b)


def test_forward_mode_agrees(programs: types.ModuleType) -> None:
    (Wh, Wx, b, X_), _ = POINTS["rnn"]
    direction = rng.normal(size=Wh.shape)
    _, tangent = jvp(programs.rnn, wrt="Wh")((Wh, Wx, b, X_), (direction,))
    expected = np.sum(numeric_grad(programs.rnn, (Wh, Wx, b, X_), 0) * direction)
    assert tangent == pytest.approx(expected, rel=1e-6)


def test_the_sympy_check_passes_on_an_unrolled_network(programs: types.ModuleType) -> None:
    small = (rng.normal(size=(2, 2)), rng.normal(size=(2, 1)), rng.normal(size=2), rng.normal(size=(2, 1)))
    report = check(programs.rnn_stacked, ("Wh", "b"), args=small)
    assert report.ok, str(report)


def test_the_generated_code_keeps_the_list(programs: types.ModuleType) -> None:
    import inspect

    args, wrt = POINTS["rnn_stacked"]
    derived = grad(programs.rnn_stacked, wrt=wrt)
    derived(*args)
    code = inspect.getsource(derived)
    assert ".append(h" in code and "np.stack(hs, axis=0)" in code
    assert "hs_bar = [np.zeros_like(_a, dtype=np.result_type(_a, 0.0)) for _a in hs]" in code
    # each state was appended at the loop's index: read back there, its adjoint too, nothing popped
    assert re.search(r"h\w* = hs\[t\]", code) and "hs_bar[t]" in code and ".pop()" not in code


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("written_after_append", "writing into the array 'h', which another name (a parameter, a copy, a view) or a list"),
        ("written_in_the_loop", "this loop changes the array 'h' in place"),
        ("added_after_listing", "'h += ...' changes an array in place"),
        ("element_written", "writing into the array 'g'"),
        ("numbers_and_arrays", "a list of mixed kinds"),
    ],
)
def test_what_would_change_a_listed_array_is_refused(programs: types.ModuleType, name: str, message: str) -> None:
    f = getattr(programs, name)
    with pytest.raises(UnsupportedError) as refused:
        grad(f, wrt="W")(W, X if "X" in f.__code__.co_varnames[:2] else x)
    assert message in str(refused.value)
    assert "lists_of_arrays" in str(refused.value) or "s2s_test_" in str(refused.value)  # names the file


def test_a_float32_list_gets_a_float32_gradient(tmp_path: Path) -> None:
    source = "import numpy as np\n\n\ndef f(A, B):\n    ms = []\n    M = A\n    for k in range(3):\n"
    source += "        M = np.tanh(M @ B)\n        ms.append(M)\n    return float(np.sum(ms[0] * ms[2]))\n"
    f = import_source(source, tmp_path).f
    A, B = (rng.normal(size=(2, 2)).astype(np.float32) for _ in range(2))
    dA, dB = grad(f, wrt=("A", "B"))(A, B)
    assert dA.dtype == dB.dtype == np.float32
    np.testing.assert_allclose(dA, numeric_grad(f, (A, B), 0), rtol=1e-3, atol=1e-4)
    np.testing.assert_allclose(dB, numeric_grad(f, (A, B), 1), rtol=1e-3, atol=1e-4)


def test_joining_a_list_whose_arrays_may_differ_in_size_is_refused(tmp_path: Path) -> None:
    """Masked rows differ in length from row to row: np.concatenate of their list is refused by name (joining
    by stacking needs equal sizes), pointing at the written-out form."""
    source = "import numpy as np\n\n\ndef f(X):\n    parts = [x[x > 0] for x in X]\n    return np.sum(np.concatenate(parts))\n"
    module = import_source(source, tmp_path)
    with pytest.raises(UnsupportedError, match="may differ in size along the axis") as raised:
        grad(module.f)(np.array([[1.0, -1.0], [2.0, 3.0]]))
    assert "np.concatenate((a, b, ...))" in str(raised.value)
