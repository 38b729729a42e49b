"""Structured parameters ("pytrees"): dicts, tuples and lists, NamedTuples and dataclasses, nested.

Every gradient is compared with central finite differences taken on the
structure itself (each number of each leaf moved in turn), or with a closed
form; the gradient must also have the argument's structure: the same type,
the same keys in the same order, the same class, leaves shaped like the
argument's.
"""

from __future__ import annotations

import copy
import dataclasses
import inspect
import math
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import pytest

from s2s_ad import S2SError, check, grad, hessian, jacobian, jvp, value_and_grad, vjp
from s2s_ad.cli import main

H = 1e-6

# -- an independent truth: finite differences over every number of a structure -----------------------


def _slots(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """The path to every number in a structure (an array's elements one by one)."""
    if isinstance(value, np.ndarray):
        for index in np.ndindex(value.shape):
            yield (*path, ("element", index))
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        yield path
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _slots(item, (*path, ("item", key)))
    elif isinstance(value, tuple) and hasattr(value, "_fields"):
        for name in value._fields:
            yield from _slots(getattr(value, name), (*path, ("field", name)))
    elif dataclasses.is_dataclass(value):
        for f in dataclasses.fields(value):
            yield from _slots(getattr(value, f.name), (*path, ("field", f.name)))
    elif isinstance(value, (list, tuple)):
        for k, item in enumerate(value):
            yield from _slots(item, (*path, ("item", k)))


def _replaced(value: Any, path: tuple[Any, ...], new: float) -> Any:
    """`value` with the number at `path` replaced (nothing of `value` is changed)."""
    if not path:
        return new
    (kind, key), rest = path[0], path[1:]
    if kind == "element":
        out = np.array(value, dtype=np.float64 if value.dtype.kind != "f" else value.dtype)
        out[key] = new
        return out
    if kind == "field":
        inner = _replaced(getattr(value, key), rest, new)
        return value._replace(**{key: inner}) if isinstance(value, tuple) else dataclasses.replace(value, **{key: inner})
    if isinstance(value, dict):
        return {**value, key: _replaced(value[key], rest, new)}
    items = list(value)
    items[key] = _replaced(items[key], rest, new)
    return type(value)(items) if isinstance(value, tuple) else items


def _get(value: Any, path: tuple[Any, ...]) -> Any:
    for kind, key in path:
        value = getattr(value, key) if kind == "field" else value[key]
    return value


def _zeros(value: Any) -> Any:
    """A structure like `value` holding 0.0 everywhere (float64 arrays)."""
    out = value
    for slot in _slots(value):
        out = _replaced(out, slot, 0.0)
    if isinstance(value, np.ndarray):
        return np.zeros(value.shape)
    return out


def numeric(f: Callable[..., Any], args: tuple[Any, ...], index: int, h: float = H) -> Any:
    """d f / d args[index], by central differences, shaped like args[index]."""
    result = _zeros(args[index])
    for slot in _slots(args[index]):
        at = float(_get(args[index], slot))
        up = list(args)
        down = list(args)
        up[index] = _replaced(args[index], slot, at + h)
        down[index] = _replaced(args[index], slot, at - h)
        result = _replaced(result, slot, (float(f(*up)) - float(f(*down))) / (2 * h))
    return result


def assert_like(gradient: Any, argument: Any, expected: Any, where: str = "gradient", rtol: float = 1e-6) -> None:
    """`gradient` has the structure of `argument` (types, keys in order, classes, shapes) and the values of `expected`."""
    if isinstance(argument, np.ndarray):
        assert isinstance(gradient, np.ndarray), f"{where}: {type(gradient).__name__}, not an array"
        assert gradient.shape == argument.shape, f"{where}: shape {gradient.shape}, argument {argument.shape}"
        if argument.dtype.kind == "f":
            assert gradient.dtype == argument.dtype, f"{where}: dtype {gradient.dtype}"
        np.testing.assert_allclose(gradient, expected, rtol=rtol, atol=1e-7, err_msg=where)
    elif isinstance(argument, (int, float)) and not isinstance(argument, bool):
        assert type(gradient) is float, f"{where}: {type(gradient).__name__}, not a float"
        assert gradient == pytest.approx(expected, rel=rtol, abs=1e-7), where
    elif isinstance(argument, dict):
        assert type(gradient) is dict, f"{where}: {type(gradient).__name__}, not a dict"
        assert list(gradient) == list(argument), f"{where}: keys {list(gradient)}, argument {list(argument)}"
        for key in argument:
            assert_like(gradient[key], argument[key], expected[key], f"{where}[{key!r}]", rtol)
    elif isinstance(argument, tuple) and hasattr(argument, "_fields") or dataclasses.is_dataclass(argument):
        assert type(gradient) is type(argument), f"{where}: {type(gradient).__name__}, not {type(argument).__name__}"
        names = argument._fields if isinstance(argument, tuple) else [f.name for f in dataclasses.fields(argument)]
        for name in names:
            assert_like(getattr(gradient, name), getattr(argument, name), getattr(expected, name), f"{where}.{name}", rtol)
    else:
        assert type(gradient) is type(argument), f"{where}: {type(gradient).__name__}, not {type(argument).__name__}"
        assert len(gradient) == len(argument), f"{where}: {len(gradient)} items, argument {len(argument)}"
        for k, (g, a, e) in enumerate(zip(gradient, argument, expected)):
            assert_like(g, a, e, f"{where}[{k}]", rtol)


def assert_gradient(f: Callable[..., Any], args: tuple[Any, ...], rtol: float = 1e-6) -> Any:
    """grad(f)(*args) against finite differences, parameter by parameter; returns the gradient."""
    before = copy.deepcopy(args)
    gradients = grad(f)(*args)
    gradients = gradients if len(args) > 1 else (gradients,)
    assert isinstance(gradients, tuple) and len(gradients) == len(args)
    for k, (g, a) in enumerate(zip(gradients, args)):
        assert_like(g, a, numeric(f, args, k), f"d/d{list(inspect.signature(f).parameters)[k]}", rtol)
    _assert_unchanged(before, args)
    return gradients


def _assert_unchanged(before: Any, after: Any) -> None:
    for slot in _slots(before):
        assert _get(before, slot) == _get(after, slot), f"argument changed at {slot}"


def source(g: Callable[..., Any]) -> str:
    return inspect.getsource(g)


# -- the programs ------------------------------------------------------------------------------------


def linear(p, x):
    return p["w"] * x + p["b"]


class Line(NamedTuple):
    w: float
    b: float


def line_loss(p, x):
    return (p.w * x + p.b - 1.0) ** 2


@dataclasses.dataclass(frozen=True)
class Frozen:
    w: float
    b: float
    unused: float = 0.5


@dataclasses.dataclass
class Plain:
    scale: float
    ws: list[float]


def frozen_loss(p, x):
    return math.tanh(p.w * x) + p.b**2


def plain_loss(p, xs):
    return sum(p.scale * w * x for w, x in zip(p.ws, xs))


def tuple_of_list_and_number(params, x):
    w, b = params
    return math.sin(w[0] * x) + w[1] * b


def tuple_of_structures(params, x):
    return params[0].w * x + params[-1]["b"] * params[1]["c"] ** 2


def nested(params, x):
    first = params["layer1"]
    h = math.tanh(first["W"] * x + first["b"])
    return params["layer2"]["W"] * h + params["layer2"]["b"]


def pure_mlp(params, x):
    hidden = []
    for j in range(len(params["b1"])):
        a = params["b1"][j]
        for i in range(len(x)):
            a += params["W1"][j][i] * x[i]
        hidden.append(math.tanh(a))
    out = params["b2"]
    for j in range(len(hidden)):
        out += params["W2"][j] * hidden[j]
    return (out - 0.5) ** 2


def numpy_mlp(params, X, Y):
    h = np.tanh(X @ params["W1"] + params["b1"])
    out = h @ params["W2"] + params["b2"]
    return np.mean((out - Y) ** 2)


def _layer(p, x):
    return np.tanh(p["W"] @ x + p["b"])


def stacked(params, x):
    h = _layer(params[0], x)
    h = _layer(params[1], h)
    return np.sum(h**2)


def looped(layers, x):
    for W, b in layers:
        x = np.tanh(W @ x + b)
    return np.sum(x**2)


def enumerated(layers, x):
    total = 0.0
    for i, layer in enumerate(layers):
        total += (i + 1) * math.sin(layer["w"] * x)
    for w, c in zip(layers, reversed(layers)):
        total += w["w"] * c["w"]
    return total + len(layers) * x


def _affine(p, x):
    return p["w"] * x + p["b"]


def keyword_helper(params, x):
    return _affine(x=x, p=params["out"]) * _affine(params["in"], x)


def _square(v):
    return v * v


def helper_both_ways(params, x):
    return _square(params["a"]) + _square(x) * params["b"]


def unread_leaves(p, x):
    return p["w"] * x


def counted(cfg, x):
    total = 0.0
    for k in range(cfg["n"]):
        total += cfg["w"] * x**k
    return total


def with_aux(p, x):
    v = p["w"] * x
    return v * v, v


def self_like(model, x):
    return model.w * x + model.b


# -- dicts, NamedTuples, dataclasses, tuples -------------------------------------------------------------


def test_a_dict_of_numbers_gives_a_dict_with_the_same_keys() -> None:
    g = grad(linear)({"w": 2.0, "b": 1.0}, 3.0)
    assert g == ({"w": 3.0, "b": 1.0}, 2.0)  # closed form: d/dw = x, d/db = 1, d/dx = w
    assert list(g[0]) == ["w", "b"]
    assert_gradient(linear, ({"b": 1.0, "w": -2.5}, 0.75))  # the argument's order of keys


def affine(p, x):
    return p["w"] * x + p["b"]


def test_the_generated_code_reads_the_structure_and_builds_the_gradient_back() -> None:
    g = grad(affine)
    g({"w": 2.0, "b": 1.0}, 3.0)
    text = source(g)  # the code generated last
    assert text.startswith("def affine_grad(p, x):\n")
    assert 'p_w = p["w"]' in text
    assert 'return {"w": p_w_bar, "b": p_b_bar}' in text and "p_b_bar = 1.0" in text
    assert "s2s_ad" not in text


def test_a_namedtuple_gives_a_namedtuple_of_its_class() -> None:
    p, x = Line(2.0, 1.0), 3.0
    gp, gx = assert_gradient(line_loss, (p, x))
    r = 2 * (p.w * x + p.b - 1.0)
    assert (gp.w, gp.b, gx) == pytest.approx((r * x, r, r * p.w))
    assert type(gp) is Line
    assert "p._replace(w=" in source(grad(line_loss))


def test_a_frozen_dataclass_gives_one_of_its_class_with_zeros_for_a_field_never_read() -> None:
    gp, _ = assert_gradient(frozen_loss, (Frozen(0.3, -1.2), 2.0))
    assert type(gp) is Frozen and gp.unused == 0.0
    g = grad(frozen_loss)
    g(Frozen(0.3, -1.2), 2.0)
    assert "dataclasses.replace(p, w=" in source(g) and "import dataclasses" in g.__s2s_ad__.generated.source


def test_a_plain_dataclass_holding_a_list() -> None:
    gp, gxs = assert_gradient(plain_loss, (Plain(1.5, [1.0, -2.0, 0.5]), [0.5, 0.25, 2.0]))
    assert type(gp) is Plain and gp.ws == pytest.approx([0.75, 0.375, 3.0]) and type(gp.ws) is list
    assert gxs == pytest.approx([1.5, -3.0, 0.75])


def test_a_dataclass_instance_as_the_first_argument_of_a_plain_function() -> None:
    gm = grad(self_like, wrt="model")(Frozen(2.0, 1.0), 3.0)
    assert gm == Frozen(3.0, 1.0, 0.0)


def test_a_tuple_unpacked_into_a_list_and_a_number() -> None:
    gp, gx = assert_gradient(tuple_of_list_and_number, (([0.5, 2.0], 3.0), 1.5))
    assert type(gp) is tuple and type(gp[0]) is list


def test_a_tuple_of_structures_read_at_constant_positions() -> None:
    args = ((Line(2.0, 9.0), {"c": 0.5}, {"b": -1.0}), 3.0)
    gp, _ = assert_gradient(tuple_of_structures, args)
    assert gp[0].b == 0.0  # never read


def test_nested_dicts_and_a_name_for_a_part() -> None:
    params = {"layer1": {"W": 0.7, "b": -0.2}, "layer2": {"W": 1.3, "b": 0.1}}
    gp, _ = assert_gradient(nested, (params, 0.4))
    assert list(gp) == ["layer1", "layer2"] and list(gp["layer1"]) == ["W", "b"]


# -- lists and arrays in structures -----------------------------------------------------------------


def test_a_dict_of_lists_a_small_network_written_with_loops() -> None:
    params = {
        "W1": [[0.1, -0.3], [0.4, 0.2], [-0.5, 0.6]],
        "b1": [0.0, 0.1, -0.1],
        "W2": [0.3, -0.2, 0.5],
        "b2": 0.05,
    }
    gp, _ = assert_gradient(pure_mlp, (params, [0.5, -1.5]))
    assert type(gp["W1"]) is list and type(gp["W1"][0]) is list


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_a_dict_of_numpy_arrays_a_two_layer_network(dtype: type) -> None:
    rng = np.random.default_rng(0)
    params = {
        "W1": rng.normal(size=(3, 4)).astype(dtype),
        "b1": rng.normal(size=4).astype(dtype),
        "W2": rng.normal(size=(4, 2)).astype(dtype),
        "b2": rng.normal(size=2).astype(dtype),
    }
    X, Y = rng.normal(size=(5, 3)).astype(dtype), rng.normal(size=(5, 2)).astype(dtype)
    g = grad(numpy_mlp, wrt="params")
    found = g(params, X, Y)
    if dtype is np.float64:
        assert_like(found, params, numeric(numpy_mlp, (params, X, Y), 0))
    else:  # float32 arithmetic: compared loosely, with finite differences in float64
        wide = ({k: v.astype(np.float64) for k, v in params.items()}, X.astype(np.float64), Y.astype(np.float64))
        assert_like(found, params, numeric(numpy_mlp, wide, 0), rtol=1e-3)
    text = source(g)
    assert 'params_W1 = params["W1"]' in text
    assert 'return {"W1": params_W1_bar, "b1": params_b1_bar, "W2": params_W2_bar, "b2": params_b2_bar}' in text


def test_a_tuple_of_dicts_passed_to_a_helper() -> None:
    rng = np.random.default_rng(1)
    params = ({"W": rng.normal(size=(4, 3)), "b": rng.normal(size=4)}, {"W": rng.normal(size=(2, 4)), "b": rng.normal(size=2)})
    assert_gradient(stacked, (params, rng.normal(size=3)))


def test_a_list_of_tuples_of_arrays_looped_over() -> None:
    rng = np.random.default_rng(2)
    layers = [(rng.normal(size=(4, 3)), rng.normal(size=4)), (rng.normal(size=(2, 4)), rng.normal(size=2))]
    g, _ = assert_gradient(looped, (layers, rng.normal(size=3)))
    assert type(g) is list and type(g[0]) is tuple


def test_loops_with_enumerate_zip_and_reversed_and_len() -> None:
    assert_gradient(enumerated, ([{"w": 0.5}, {"w": -1.0}, {"w": 2.0}], 0.3))


def test_leaves_never_read_get_zeros_shaped_like_them() -> None:
    p = {
        "w": 2.0,
        "c": [1.0, 2.0, 3.0],
        "M": [[1.0, 2.0], [3.0, 4.0]],
        "A": np.ones((2, 3), dtype=np.float32),
        "ids": np.array([1, 2]),
        "n": 3,
    }
    g = grad(unread_leaves, wrt="p")
    found = g(p, 1.5)
    assert found["w"] == 1.5 and found["c"] == [0.0, 0.0, 0.0] and found["M"] == [[0.0, 0.0], [0.0, 0.0]]
    assert found["A"].shape == (2, 3) and found["A"].dtype == np.float32 and not found["A"].any()
    assert found["ids"].dtype == np.float64 and not found["ids"].any()
    assert found["n"] == 0.0 and type(found["n"]) is float
    assert "import numpy as np" in g.__s2s_ad__.generated.source  # for the zeros, in a function that uses no NumPy


def test_a_whole_number_leaf_used_as_a_range_bound_gets_zero() -> None:
    gp, gx = grad(counted)({"n": 3, "w": 2.0}, 0.5)
    assert gp == {"n": 0.0, "w": pytest.approx(1 + 0.5 + 0.25)}
    assert gx == pytest.approx(2.0 * (1 + 2 * 0.5))


# -- helpers -----------------------------------------------------------------------------------------------


def test_parts_passed_to_a_helper_by_keyword_and_by_position() -> None:
    params = {"in": {"w": 0.5, "b": 1.0}, "out": {"w": -2.0, "b": 0.25}}
    assert_gradient(keyword_helper, (params, 1.5))


def test_a_helper_called_with_a_leaf_and_with_a_number() -> None:
    gp, gx = grad(helper_both_ways)({"a": 3.0, "b": 2.0}, 1.5)
    assert gp == {"a": 6.0, "b": 2.25} and gx == 6.0


# -- wrt, value_and_grad, has_aux, check ---------------------------------------------------------------------


def test_wrt_by_name_by_position_and_mixed() -> None:
    p = {"w": 2.0, "b": 1.0}
    assert grad(linear, wrt="p")(p, 3.0) == {"w": 3.0, "b": 1.0}
    assert grad(linear, wrt=0)(p, 3.0) == {"w": 3.0, "b": 1.0}
    assert grad(linear, wrt="x")(p, 3.0) == 2.0
    assert grad(linear, wrt=("x", "p"))(p, 3.0) == (2.0, {"w": 3.0, "b": 1.0})
    assert grad(linear, argnums=(0,))(p, 3.0) == ({"w": 3.0, "b": 1.0},)
    with pytest.raises(S2SError, match="no parameter 'q'"):
        grad(linear, wrt="q")(p, 3.0)


def test_value_and_grad_and_has_aux() -> None:
    value, (gp, gx) = value_and_grad(linear)({"w": 2.0, "b": 1.0}, 3.0)
    assert value == 7.0 and gp == {"w": 3.0, "b": 1.0} and gx == 2.0
    (value, aux), gp = value_and_grad(with_aux, wrt="p", has_aux=True)({"w": 2.0}, 3.0)
    assert (value, aux) == (36.0, 6.0) and gp == {"w": 36.0}  # d(w x)^2/dw = 2 w x^2
    gp, aux = grad(with_aux, wrt="p", has_aux=True)({"w": 2.0}, 3.0)
    assert gp == {"w": 36.0} and aux == 6.0


def test_keyword_arguments_and_a_new_structure_builds_a_new_gradient() -> None:
    g = grad(linear)
    assert g(p={"w": 2.0, "b": 1.0}, x=3.0) == ({"w": 3.0, "b": 1.0}, 2.0)
    assert g({"w": 2.0, "b": 1.0, "extra": [1.0]}, 3.0) == ({"w": 3.0, "b": 1.0, "extra": [0.0]}, 2.0)
    assert g({"w": 5.0, "b": 1.0}, 3.0) == ({"w": 3.0, "b": 1.0}, 5.0)


def test_the_generated_module_runs_without_s2s_ad() -> None:
    g = grad(frozen_loss)
    expected = g(Frozen(0.3, -1.2), 2.0)
    text = g.__s2s_ad__.generated.source
    assert "s2s_ad" not in text
    namespace: dict[str, Any] = {}
    exec(compile(text, "<generated>", "exec"), namespace)  # noqa: S102 - the code under test
    assert namespace["frozen_loss_grad"](Frozen(0.3, -1.2), 2.0) == expected


def test_the_check_on_structures() -> None:
    report = check(frozen_loss, args=(Frozen(0.3, -1.2), 2.0))
    assert report.ok, str(report)
    rng = np.random.default_rng(3)
    params = {"W1": rng.normal(size=(3, 4)), "b1": rng.normal(size=4), "W2": rng.normal(size=(4, 2)), "b2": rng.normal(size=2)}
    report = check(numpy_mlp, args=(params, rng.normal(size=(5, 3)), rng.normal(size=(5, 2))))
    assert report.ok, str(report)
    assert grad(linear, check=True)({"w": 2.0, "b": 1.0}, 3.0) == ({"w": 3.0, "b": 1.0}, 2.0)
    with pytest.raises(S2SError, match="needs example arguments"):
        check(linear)


# -- refusals: file, line, construct ---------------------------------------------------------------------


def computed_key(p, k, x):
    return p["w"] * p[k] * x


def iterated(p, x):
    total = p["w"]
    for key in p:
        total = total * x + len(key)
    return total


def used_whole(p, x):
    return p["w"] * _norm(p) * x


def _norm(q):
    return float(q)


def rebound(p, x):
    p = {"w": x}
    return p["w"]


def written(p, x):
    p["w"] = x
    return p["w"] * x


def missing_key(p, x):
    return p["c"] * x


def not_a_field(p, x):
    return p.total * x


def returned(p, x):
    return p if p["w"] > 0 else x


def part_named_in_a_branch(p, x):
    if x > 0:
        part = p["inner"]
        return part["w"] * x
    return x


def unpacked_wrongly(p, x):
    a, b = p["pair"]
    return a * b * x


def broken_loop(p, x):
    for w in p["ws"]:
        if w["w"] > 1.0:
            break
        x = x * w["w"]
    return x


def _recursive(p, n):
    if n == 0:
        return p["w"]
    return _recursive(p, n - 1)


def recursive(p, x):
    return _recursive(p, 2) * x


def dict_method(p, x):
    return p.get("w", 0.0) * p["b"] * x


def _line(f: Callable[..., Any], text: str) -> int:
    lines, start = inspect.getsourcelines(f)
    return start + next(k for k, line in enumerate(lines) if text in line)


REFUSALS = [
    (computed_key, ({"w": 1.0}, "w", 2.0), "p[k]", "computed key"),
    (iterated, ({"w": 1.0}, 2.0), "for key in p", "iterating over 'p'"),
    (used_whole, ({"w": 1.0}, 2.0), "return float(q)", "is passed to 'float'"),
    (rebound, ({"w": 1.0}, 2.0), 'p = {"w": x}', "cannot be rebound"),
    (written, ({"w": 1.0}, 2.0), 'p["w"] = x', "writing into a structured parameter"),
    (missing_key, ({"w": 1.0, "b": 2.0}, 2.0), 'p["c"]', 'has no key "c" \\(its keys: "w", "b"\\)'),
    (not_a_field, (Line(1.0, 2.0), 2.0), "p.total", "not a field of a NamedTuple Line"),
    (returned, ({"w": 1.0}, 2.0), "return p if", "uses 'p' \\(a dict\\) whole"),
    (part_named_in_a_branch, ({"inner": {"w": 1.0}}, 2.0), 'part = p["inner"]', "inside a branch"),
    (unpacked_wrongly, ({"pair": (1.0, 2.0, 3.0)}, 2.0), 'a, b = p["pair"]', "unpacks 2 values, but the structure holds 3"),
    (broken_loop, ({"ws": ({"w": 0.5}, {"w": 2.0})}, 2.0), "break", "'break' in a loop over a structure"),
    (recursive, ({"w": 1.0}, 2.0), "return _recursive(p, n - 1)", "recursive call"),
    (dict_method, ({"w": 1.0, "b": 2.0}, 2.0), "p.get", "dict methods are not supported"),
    (linear, ({"w": "heavy", "b": 1.0}, 2.0), "def linear", "'p\\[\"w\"\\]' is a str"),
    (linear, ({"w": None, "b": 1.0}, 2.0), 'p["w"] * x', "is None in the argument"),
    (linear, ({"w": object(), "b": 1.0}, 2.0), "def linear", "'p\\[\"w\"\\]' is a object"),
]


@pytest.mark.parametrize("f, args, text, message", REFUSALS, ids=[f"{r[0].__name__}-{k}" for k, r in enumerate(REFUSALS)])
def test_refused_naming_file_line_and_construct(f: Callable[..., Any], args: tuple[Any, ...], text: str, message: str) -> None:
    with pytest.raises(S2SError, match=message) as info:
        grad(f)(*args)
    error = info.value
    assert error.filename is not None and Path(error.filename).name == "test_structures.py"
    target = _norm if text == "return float(q)" else _recursive if "_recursive(p, n" in text else f
    assert error.lineno == _line(target, text), str(error)
    assert error.source_line is not None and text in error.source_line


@dataclasses.dataclass
class Derived:
    w: float
    double: float = dataclasses.field(init=False)

    def __post_init__(self) -> None:
        self.double = 2 * self.w


def test_a_dataclass_field_not_set_by_init_is_refused() -> None:
    with pytest.raises(S2SError, match="init=False"):
        grad(self_like)(Derived(1.0), 2.0)


def test_jacobians_and_hessians_are_refused_for_structures() -> None:
    with pytest.raises(S2SError, match="not yet jacobian and hessian"):
        hessian(linear)({"w": 2.0, "b": 1.0}, 3.0)
    with pytest.raises(S2SError, match="not yet jacobian and hessian"):
        jacobian(linear)({"w": 2.0, "b": 1.0}, 3.0)


def _dot(a: Any, b: Any) -> float:
    return sum(float(_get(a, slot)) * float(_get(b, slot)) for slot in _slots(a))


def test_jvp_takes_tangents_shaped_like_the_structures() -> None:
    p, x = {"w": 2.0, "b": 1.0}, 3.0
    tp, tx = {"w": 1.0, "b": 0.5}, 2.0
    value, tangent = jvp(linear, (p, x), (tp, tx))
    assert value == 7.0 and tangent == 3.0 * 1.0 + 0.5 + 2.0 * 2.0  # x w' + b' + w x'
    assert jvp(linear, wrt="p")((p, x), (tp,)) == (7.0, 3.5)
    rng = np.random.default_rng(6)
    layers = [(rng.normal(size=(4, 3)), rng.normal(size=4)), (rng.normal(size=(2, 4)), rng.normal(size=2))]
    xs = rng.normal(size=3)
    directions = (
        [(rng.normal(size=(4, 3)), rng.normal(size=4)), (rng.normal(size=(2, 4)), rng.normal(size=2))],
        rng.normal(size=3),
    )
    value, tangent = jvp(looped, (layers, xs), directions)
    expected = _dot(numeric(looped, (layers, xs), 0), directions[0]) + _dot(numeric(looped, (layers, xs), 1), directions[1])
    assert value == pytest.approx(looped(layers, xs)) and tangent == pytest.approx(expected, rel=1e-6)
    g = jvp(linear)
    g((p, x), (tp, tx))
    assert 'p_w_dot = tangents[0]["w"]' in source(g)


def two_outputs(p, x):
    return p["w"] * x, math.sin(p["b"] * x)


def test_vjp_pulls_back_into_the_structure() -> None:
    value, pullback = vjp(linear)({"w": 2.0, "b": 1.0}, 3.0)
    assert value == 7.0 and pullback(2.0) == ({"w": 6.0, "b": 2.0}, 4.0)  # 2 * (x, 1, w)
    rng = np.random.default_rng(5)
    p, x, seed = {"W": rng.normal(size=(2, 3)), "b": rng.normal(size=2)}, rng.normal(size=3), np.array([1.0, -2.0])
    value, pullback = vjp(_layer)(p, x)
    np.testing.assert_allclose(value, _layer(p, x))
    gp, gx = pullback(seed)
    assert_like(gp, p, numeric(lambda q, y: float(seed @ _layer(q, y)), (p, x), 0))
    assert_like(gx, x, numeric(lambda q, y: float(seed @ _layer(q, y)), (p, x), 1))
    (a, b), pullback = vjp(two_outputs, wrt="p")({"w": 2.0, "b": 0.5}, 3.0)
    assert (a, b) == (6.0, math.sin(1.5))
    (gp,) = pullback((1.0, 2.0))
    assert gp == {"w": 3.0, "b": pytest.approx(2.0 * 3.0 * math.cos(1.5))}


def test_the_command_line_refuses_and_says_how_to_call_it_from_python(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "model.py").write_text('def loss(p, x):\n    return p["w"] * x + p["b"]\n\n\ndef other(x):\n    return x * x\n')
    monkeypatch.chdir(tmp_path)
    assert main(["grad", "model.py:loss"]) == 1
    err = capsys.readouterr().err
    assert "model.py:2:12: error: 'loss' reads a parameter as a structure (p['w'])" in err
    assert "s2s_ad.grad(loss)" in err and "Traceback" not in err
    assert main(["grad", "model.py", "-o", "out/", "-v"]) == 0  # the whole file: left out, saying why (-v)
    assert (tmp_path / "out" / "model_other_grad.py").exists() and not (tmp_path / "out" / "model_loss_grad.py").exists()
    assert "left out 'loss': it reads a parameter as a structure" in capsys.readouterr().err
    assert main(["trace", "model.py:loss", "--at", "x=1"]) == 1
    assert "which --at cannot give" in capsys.readouterr().err


def comprehended(layers, x):
    total = sum(layer["w"] * x for layer in layers)
    scaled = [(i + 1.0) * layer["w"] for i, layer in enumerate(layers)]
    return total * max(scaled) + sum(w * b for w, b in zip(layers[0]["ws"], layers[1]["ws"]))


def test_comprehensions_over_a_structure_are_unrolled() -> None:
    layers = [{"w": 0.5, "ws": [1.0, 2.0]}, {"w": -1.0, "ws": [3.0, -1.0]}, {"w": 2.0, "ws": []}]
    assert_gradient(comprehended, (layers, 0.3))


def _scaled(p, x):
    return p["w"] * x


def _line_value(p, x):
    return p.w * x + p.b


def one_helper_two_structures(params, x):
    return _scaled(params["a"], x) * _scaled(params["c"], x) + _line_value(params["line"], x)


def test_one_helper_read_for_two_structures() -> None:
    params = {"a": {"w": 2.0}, "c": {"w": 5.0, "z": 1.0}, "line": Line(0.5, 4.0)}
    gp, gx = assert_gradient(one_helper_two_structures, (params, 1.5))
    assert gp["c"]["z"] == 0.0 and type(gp["line"]) is Line


class Scaled:
    def __init__(self, scale: float) -> None:
        self.scale = scale

    def loss(self, p, x):
        return self.scale * p["w"] * x**2


def test_a_method_taking_a_structure() -> None:
    gp, gx = grad(Scaled(3.0).loss)({"w": 2.0}, 1.5)
    assert gp == {"w": pytest.approx(3.0 * 2.25)} and gx == pytest.approx(3.0 * 2.0 * 2 * 1.5)


def filtered(layers, x):
    return sum(layer["w"] * x for layer in layers if layer["w"] > 0)


def test_a_comprehension_over_a_structure_with_a_condition_is_refused() -> None:
    with pytest.raises(S2SError, match="with a condition") as info:
        grad(filtered)([{"w": 1.0}], 2.0)
    assert info.value.lineno == _line(filtered, "if layer")


def unpacked_part(layers, x):
    W, b = layers[0]
    first = layers[1]
    return np.sum(np.tanh(W @ x + b)) * np.sum(first[0] * x) + len(layers)


def test_a_part_unpacked_and_a_part_named() -> None:
    rng = np.random.default_rng(4)
    layers = ((rng.normal(size=(2, 3)), rng.normal(size=2)), (rng.normal(size=3), rng.normal(size=4)))
    g, _ = assert_gradient(unpacked_part, (layers, rng.normal(size=3)))
    assert not g[1][1].any()  # never read


def indexed(p, x):
    return p[0] * x + p[1] ** 2


def unpacks(p, x):
    w, b = p
    return (w * x + b) ** 2 + p[-1]


def test_a_namedtuple_unpacked_a_dict_with_int_keys_and_a_tuple_of_numbers() -> None:
    gp, gx = assert_gradient(unpacks, (Line(2.0, 1.0), 3.0))
    assert type(gp) is Line and gp == Line(2 * 7.0 * 3.0, 2 * 7.0 + 1.0)
    gp, gx = assert_gradient(indexed, ({1: 1.0, 0: 2.0}, 3.0))
    assert list(gp) == [1, 0]
    with pytest.raises(S2SError, match="unpacking a dict"):  # Python would unpack its keys
        grad(unpacks)({0: 2.0, 1: 1.0}, 3.0)
    assert grad(unpacks)((2.0, 1.0), 3.0) == ([42.0, 15.0], 14.0 * 2.0)  # numbers: a list parameter, as always


def test_the_graph_of_a_function_taking_a_structure_draws_its_leaves() -> None:
    from s2s_ad import graph

    trace = graph(linear, {"w": 2.0, "b": 1.0}, 3.0).trace()
    assert "gradient: p_w_bar = 3, p_b_bar = 1, x_bar = 2" in trace  # d/dw = x, d/db = 1, d/dx = w


def ranged(layers, x):
    total = 0.0
    for i in range(len(layers)):
        total += layers[i]["w"] * x ** (i + 1)
    for i, layer in enumerate(layers):
        total += layer["w"] * layers[-1 - i]["w"]
    return total + i


def test_a_range_over_a_structure_s_positions_is_unrolled() -> None:
    assert_gradient(ranged, ([{"w": 0.5}, {"w": -1.0}, {"w": 2.0}], 0.7))


def test_an_entry_left_none_gets_none() -> None:
    gp, gx = grad(linear)({"w": 2.0, "b": 1.0, "extra": None, "more": (None, 1.0)}, 3.0)
    assert gp == {"w": 3.0, "b": 1.0, "extra": None, "more": (None, 0.0)} and gx == 2.0


def layers_of_pairs(layers, x):
    h = x
    for w, b in layers:
        h = math.tanh(sum(wi * h for wi in w) + b)
    return h


def layers_of_pairs_enumerated(layers, x):
    h = x
    for k, (w, b) in enumerate(layers):
        h = math.tanh(w[0] * h + w[1] * h * k + b)
    return h


@pytest.mark.parametrize("function", [layers_of_pairs, layers_of_pairs_enumerated])
def test_a_list_of_pairs_of_a_list_and_a_number_looped_over(function) -> None:
    layers = [([0.5, 0.2], 0.1), ([-0.3, 0.8], -0.2)]
    got = grad(function, wrt=0)(layers, 0.7)
    assert isinstance(got, list) and isinstance(got[0], tuple) and isinstance(got[0][0], list)
    h = 1e-6
    for i in range(2):
        for j in range(2):
            moved = [([*w], b) for w, b in layers]
            moved[i][0][j] += h
            up = function(moved, 0.7)
            moved[i][0][j] -= 2 * h
            down = function(moved, 0.7)
            assert got[i][0][j] == pytest.approx((up - down) / (2 * h), rel=1e-6, abs=1e-9)
        up = function([(w, b + h * (k == i)) for k, (w, b) in enumerate(layers)], 0.7)
        down = function([(w, b - h * (k == i)) for k, (w, b) in enumerate(layers)], 0.7)
        assert got[i][1] == pytest.approx((up - down) / (2 * h), rel=1e-6, abs=1e-9)
    pairs = [[1.0, 2.0], [0.5, -1.0]]  # a list of lists of numbers looped over in pairs is a list parameter, as before
    assert grad(pairs_distance)(pairs) == [[1.0, 1.0], [1.0, 1.0]]  # d(a + b) for each a and b


def pairs_distance(pts):
    total = 0.0
    for a, b in pts:
        total += a + b
    return total
