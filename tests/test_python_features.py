"""The Python people write: defaults and keywords, and more, each against central finite differences.

Every program is a module written to disk (so `inspect.getsource` finds it);
every gradient is compared with a central difference of the plain function,
and `value_and_grad` with the function's own value.
"""

from __future__ import annotations

import copy
import inspect
from pathlib import Path

import pytest
from conftest import import_source, numeric_gradient
from test_lists import numeric_gradient_of

from s2s_ad import S2SError, grad, value_and_grad

PROGRAMS = """
import math

def rk4_step(rate, y, h=0.1):
    k1 = rate * y
    k2 = rate * (y + 0.5 * h * k1)
    k3 = rate * (y + 0.5 * h * k2)
    k4 = rate * (y + h * k3)
    return y + h / 6.0 * (k1 + 2.0 * k2 + 2.0 * k3 + k4)

def triplet_loss(a, p, n, margin=0.5):
    return max(0.0, (a - p) ** 2 - (a - n) ** 2 + margin)

def keywords_and_defaults(y, s):
    return rk4_step(s, y) + rk4_step(rate=s, y=y, h=0.2) + triplet_loss(y, s, 0.3, margin=1.0)

def _scaled(x, *, scale=2.0, shift=0.0):
    return scale * x + shift

def keyword_only_helper(x):
    return _scaled(x) * _scaled(x, shift=1.0, scale=x)

def chain(x, n=3):
    for _ in range(n):
        x = math.sin(x) * x + 0.5
    return x

def keyword_only_parameter(x, *, scale=2.0):
    return scale * x * x

def hmm_emissions(log_B, obs, a):
    total = 0.0
    for t in range(len(obs)):
        total += a * log_B[0][obs[t]] ** 2
    return total

def indices_by_iteration(log_B, obs, a):
    total = 0.0
    for t in obs:
        total += a * log_B[t] * log_B[t]
    return total

def class_score(W, x, y):
    scores = [sum(w * v for w, v in zip(row, x)) for row in W]
    m = max(scores)
    return m + math.log(sum(math.exp(s - m) for s in scores)) - scores[y]

def path_length(pts):
    total = 0.0
    for i in range(len(pts) - 1):
        x1, y1 = pts[i]
        x2, y2 = pts[i + 1]
        total += math.hypot(x2 - x1, y2 - y1)
    return total

def pairs_by_iteration(pts):
    total = 0.0
    for x, y in pts:
        total += x * y * y
    return total

def unpacked_parameters(params, x):
    w, b = params
    return math.tanh(w * x + b)

def nested_unpacking(rows):
    (a, b), c = rows[0], rows[1][0]
    return a * b + c * c

def newton_while_true(a):
    x = a
    while True:
        nx = 0.5 * (x + a / x)
        if abs(nx - x) < 1e-12:
            return nx
        x = nx

def first_or_zero(xs):
    if xs:
        return xs[0] * 2.0
    return 0.0

def empty_or_sum(xs):
    return 0.0 if not xs else sum(xs)

def sum_from_start(xs):
    return sum((x * x for x in xs), 1.5) + sum(xs, 0.5) + sum(xs, start=2.0)

def all_positive(xs):
    if all(x > 0 for x in xs) and not any(x > 5.0 for x in xs):
        return sum(x * x for x in xs)
    return -sum(xs)

def for_else(xs):
    t = 0.0
    for x in xs:
        if x > 10.0:
            break
        t += x
    else:
        t = t * 2.0
    return t

def while_else(x):
    k = 0
    y = x
    while k < 5:
        y = y * x
        if y > 100.0:
            break
        k += 1
    else:
        y = -y
    return y

def loop_index_after(xs):
    for i in range(len(xs)):
        if xs[i] > 5.0:
            break
    return xs[i] * 2.0

def loop_element_after(xs):
    for x in xs:
        pass
    return x * x

def tuple_elements_after(pts):
    s = 0.0
    for a, b in pts:
        s += a * b
    return s + a * b

def row_after(M):
    s = 0.0
    for row in M:
        s += row[0]
    return s * row[1]

def enumerated_pair_after(xs):
    s = 0.0
    for i, (u, v) in enumerate(zip(xs, reversed(xs))):
        s += u * v
    return s * v + i

def _positional_only(a, b, /, c=1.0):
    return a * b - c

def positional_only_helper(x, y):
    return _positional_only(x, y) + _positional_only(y, x, c=x)
"""


@pytest.fixture(scope="module")
def programs(tmp_path_factory: pytest.TempPathFactory) -> object:
    return import_source(PROGRAMS, Path(tmp_path_factory.mktemp("python_features")))


CASES = [
    ("keywords_and_defaults", (0.7, 1.3), {}),
    ("keyword_only_helper", (0.9,), {}),
    ("chain", (0.5,), {}),
    ("chain", (0.5, 5), {}),
    ("keyword_only_parameter", (1.5,), {}),
    ("keyword_only_parameter", (1.5,), {"scale": 3.0}),
    ("positional_only_helper", (0.4, -1.1), {}),
]

LIST_CASES = [
    ("hmm_emissions", ([[0.1, 0.2, 0.3]], [0, 2, 1, 2], 2.0)),
    ("indices_by_iteration", ([0.1, 0.2, 0.3], [0, 2, 2], 2.0)),
    ("class_score", ([[0.1, 0.2], [0.3, -0.4], [0.5, 0.1]], [1.0, 2.0], 1)),
    ("path_length", ([[0.0, 0.0], [3.0, 4.0], [6.5, 8.0]],)),
    ("pairs_by_iteration", ([[1.0, 2.0], [3.0, -4.0]],)),
    ("unpacked_parameters", ([0.7, -0.2], 1.5)),
    ("nested_unpacking", ([[1.5, -2.0], [0.5, 9.0]],)),
    ("newton_while_true", (2.0,)),
    ("first_or_zero", ([3.0, 1.0],)),
    ("empty_or_sum", ([3.0, 1.0],)),
    ("sum_from_start", ([3.0, -1.0],)),
    ("all_positive", ([3.0, 1.0],)),
    ("all_positive", ([3.0, -1.0],)),
    ("all_positive", ([3.0, 6.0],)),
    ("for_else", ([1.0, 2.0],)),
    ("for_else", ([1.0, 20.0, 3.0],)),
    ("while_else", (1.1,)),
    ("while_else", (4.0,)),
    ("loop_index_after", ([1.0, 2.0],)),
    ("loop_index_after", ([1.0, 7.0, 3.0],)),
    ("loop_element_after", ([1.0, 3.0],)),
    ("enumerated_pair_after", ([1.0, 2.0, 3.5],)),
    ("row_after", ([[1.0, 2.0], [3.0, 4.0], [0.5, -1.0]],)),
]


@pytest.mark.parametrize(
    "name", ["loop_index_after", "loop_element_after", "tuple_elements_after", "enumerated_pair_after", "row_after"]
)
def test_a_loop_variable_after_a_loop_that_never_ran_is_unbound(programs: object, name: str) -> None:
    f = getattr(programs, name)
    with pytest.raises(UnboundLocalError):
        f([])
    with pytest.raises(UnboundLocalError):
        grad(f)([])


def test_the_last_pair_of_a_loop_over_tuples_is_read_after_it(programs: object) -> None:
    f = programs.tuple_elements_after  # type: ignore[attr-defined]
    pts = [(1.0, 2.0), (3.0, 4.0), (-0.5, 1.5)]
    flat = [v for p in pts for v in p]
    truth = numeric_gradient(lambda *v: f([(v[k], v[k + 1]) for k in range(0, len(v), 2)]), flat)
    gradient = grad(f)(pts)
    assert [v for g in gradient for v in g] == pytest.approx(truth, rel=1e-6, abs=1e-8)
    assert value_and_grad(f)(pts)[0] == f(pts)


@pytest.mark.parametrize("name, args", [("path_length", ([[0.0, 0.0, 1.0], [3.0, 4.0]],)), ("unpacked_parameters", ([1.0], 2.0))])
def test_unpacking_a_list_of_another_length_raises_as_python_does(programs: object, name: str, args: tuple) -> None:
    f = getattr(programs, name)
    with pytest.raises(ValueError):
        f(*args)
    with pytest.raises(ValueError):
        grad(f)(*args)


def _floats(value: object) -> list[float]:
    if isinstance(value, list):
        return [f for v in value for f in _floats(v)]
    return [value] if isinstance(value, float) else []  # type: ignore[list-item]


def _with(value: object, numbers: list[float]) -> object:
    """`value` with its floats replaced, in order, by `numbers` (consumed)."""
    if isinstance(value, list):
        return [_with(v, numbers) for v in value]
    return numbers.pop(0) if isinstance(value, float) else value


@pytest.mark.parametrize("name, args", LIST_CASES, ids=[n for n, _ in LIST_CASES])
def test_lists_indexed_by_whole_numbers_read_from_parameters(programs: object, name: str, args: tuple) -> None:
    f = getattr(programs, name)
    truth = numeric_gradient(lambda *v: f(*_with(list(args), list(v))), _floats(list(args)))
    gradient = grad(f)(*copy.deepcopy(args))
    gradient = gradient if len(args) > 1 else (gradient,)
    assert _floats([g for g, a in zip(gradient, args) if _floats(a)]) == pytest.approx(truth, rel=1e-6, abs=1e-8)
    index_gradients = [g for g, a in zip(gradient, args) if not _floats(a)]
    assert all(set(_floats(g)) <= {0.0} for g in index_gradients), "whole numbers get no gradient"


@pytest.mark.parametrize("name, args, keywords", CASES, ids=[f"{n}{a}{k or ''}" for n, a, k in CASES])
def test_gradient_agrees_with_finite_differences(programs: object, name: str, args: tuple, keywords: dict) -> None:
    f = getattr(programs, name)
    floats = [i for i, a in enumerate(args) if isinstance(a, float)]

    def at(*values: float) -> float:
        point = list(args)
        for i, v in zip(floats, values):
            point[i] = v
        return f(*point, **keywords)

    gradient = grad(f)(*copy.deepcopy(args), **keywords)
    parts = gradient if isinstance(gradient, tuple) else (gradient,)
    truth = numeric_gradient(at, [args[i] for i in floats])
    assert [parts[i] for i in floats] == pytest.approx(truth, rel=1e-6, abs=1e-8)
    value, again = value_and_grad(f)(*args, **keywords)
    assert value == f(*args, **keywords)
    assert again == gradient


def test_a_default_is_in_the_generated_signature(programs: object) -> None:
    assert inspect.getsource(grad(programs.chain)).startswith("def chain_grad(x, n=3):")  # type: ignore[attr-defined]
    assert "scale=2.0" in inspect.getsource(grad(programs.keyword_only_parameter)).splitlines()[0]  # type: ignore[attr-defined]


BAD_CALLS = """
def _h(a, b=1.0):
    return a * b

def unknown_keyword(x):
    return _h(x, c=2.0)

def twice(x):
    return _h(x, a=2.0)

def missing(x):
    return _h(b=x)

def too_many(x):
    return _h(x, x, x)

def star_args(x, *rest):
    return x
"""


@pytest.mark.parametrize(
    "name, message",
    [
        ("unknown_keyword", "has no parameter 'c'"),
        ("twice", "gets 'a' twice"),
        ("missing", "missing the argument 'a'"),
        ("too_many", "takes 2 positional argument"),
        ("star_args", "'*rest' parameters are not supported"),
    ],
)
def test_wrong_calls_are_refused_naming_the_argument(tmp_path: Path, name: str, message: str) -> None:
    f = getattr(import_source(BAD_CALLS, tmp_path), name)
    with pytest.raises(S2SError, match=message):
        grad(f)


CHECKS = """
import math

def validated(x, n):
    assert n > 0, "n must be positive"
    if x < 0:
        raise ValueError("x must be non-negative")
    t = 0.0
    for k in range(n):
        if k > 100:
            raise RuntimeError("too many steps")
        t += math.sqrt(x) * k
    return t

def _checked_log(u):
    if u <= 0.0:
        raise ValueError("log of a non-positive number")
    return math.log(u)

def helper_checks(x, y):
    assert x != y
    return _checked_log(x * x + y) * y

def raises_with_a_computed_message(x):
    if x < 0:
        raise ValueError(f"bad {x}")
    return x

def bare_raise(x):
    if x < 0:
        raise
    return x

class MyError(Exception):
    pass

def raises_its_own_class(x):
    if x < 0:
        raise MyError("no")
    return x

def always_raises(x):
    raise ValueError("never")
"""


@pytest.fixture(scope="module")
def checks(tmp_path_factory: pytest.TempPathFactory) -> object:
    return import_source(CHECKS, Path(tmp_path_factory.mktemp("checks")))


@pytest.mark.parametrize("name, args", [("validated", (2.0, 3)), ("helper_checks", (1.5, 0.5)), ("helper_checks", (0.9, -0.5))])
def test_asserts_and_raises_pass_where_the_input_is_valid(checks: object, name: str, args: tuple) -> None:
    f = getattr(checks, name)
    floats = [i for i, a in enumerate(args) if isinstance(a, float)]

    def at(*values: float) -> float:
        point = list(args)
        for i, v in zip(floats, values):
            point[i] = v
        return f(*point)

    gradient = grad(f)(*args)
    assert [gradient[i] for i in floats] == pytest.approx(numeric_gradient(at, [args[i] for i in floats]), rel=1e-6)


@pytest.mark.parametrize(
    "name, args",
    [("validated", (-1.0, 3)), ("validated", (2.0, 0)), ("helper_checks", (-0.5, -1.0)), ("helper_checks", (0.5, 0.5))],
)
def test_where_the_function_raises_its_gradient_raises_the_same_error(checks: object, name: str, args: tuple) -> None:
    f = getattr(checks, name)
    with pytest.raises((ValueError, AssertionError, RuntimeError)) as expected:
        f(*args)
    for derivative in (grad(f), value_and_grad(f)):
        with pytest.raises(type(expected.value)) as raised:
            derivative(*args)
        assert str(raised.value) == str(expected.value)


@pytest.mark.parametrize(
    "name, message",
    [
        ("raises_with_a_computed_message", "literal arguments"),
        ("bare_raise", "only `raise SomeError"),
        ("raises_its_own_class", "builtin exceptions"),
        ("always_raises", "always raises"),
    ],
)
def test_raises_that_cannot_be_kept_are_refused(checks: object, name: str, message: str) -> None:
    with pytest.raises(S2SError, match=message):
        grad(getattr(checks, name))


@pytest.mark.parametrize("name", ["first_or_zero", "empty_or_sum", "sum_from_start", "all_positive"])
def test_empty_lists(programs: object, name: str) -> None:
    f = getattr(programs, name)
    value, gradient = value_and_grad(f)([])
    assert value == f([]) and gradient == []


MESSAGES = """
def comprehension_name_reused_for_a_list(xs):
    ys = [v * v for v in xs]
    v = [0.0] * 2
    v[0] = ys[0]
    return v[0] + v[1]

def a_local_called_tape(x):
    _tape = x * 2.0
    return _tape * x

def a_list_called_tape(xs, a):
    _tape = []
    for x in xs:
        _tape.append(x * a)
    h = 0.0
    for i in range(len(xs)):
        h = h * a + _tape[i]
    return h

def dict_parameter(p, x):
    return p["w"] * x
"""


def test_names_python_scopes_apart_are_kept_apart(tmp_path: Path) -> None:
    module = import_source(MESSAGES, tmp_path)
    assert grad(module.comprehension_name_reused_for_a_list)([2.0]) == [4.0]
    assert grad(module.a_local_called_tape)(1.5) == pytest.approx(numeric_gradient(module.a_local_called_tape, (1.5,))[0])
    # a list of one's own called `_tape` is not a generated gradient's tape
    xs, a = [1.0, 2.0, 3.0], 0.5
    expected = [numeric_gradient_of(module.a_list_called_tape, [xs, a], i) for i in (0, 1)]
    got = grad(module.a_list_called_tape)(xs, a)
    assert got[0] == pytest.approx(expected[0], rel=1e-6) and got[1] == pytest.approx(expected[1], rel=1e-6)


def test_a_dict_parameter_is_read_by_key_and_a_list_refused_as_such(tmp_path: Path) -> None:
    f = import_source(MESSAGES, tmp_path).dict_parameter
    assert grad(f)({"w": 2.0}, 3.0) == ({"w": 3.0}, 2.0)  # a structured parameter: tests/test_structures.py
    with pytest.raises(S2SError, match="a dict"):
        grad(f)([2.0], 3.0)  # a list indexed with a string


COUNTS = """
def _grow(a, n):
    for _ in range(n):
        a = a * 1.5
    return a

def count_passed_to_a_helper(n, x):
    return _grow(x, n)

def count_of_a_repeated_list(x, n):
    zs = [0.0] * n
    return x * len(zs)
"""


@pytest.mark.parametrize(
    "name, args, truth", [("count_passed_to_a_helper", (2, 0.5), (0.0, 2.25)), ("count_of_a_repeated_list", (0.5, 3), (3.0, 0.0))]
)
def test_whole_numbers_used_as_counts_elsewhere_get_no_gradient(tmp_path: Path, name: str, args: tuple, truth: tuple) -> None:
    f = getattr(import_source(COUNTS, tmp_path), name)
    assert grad(f)(*args) == pytest.approx(truth)


def test_the_variable_of_a_loop_that_surely_runs_is_read_in_a_later_loop(tmp_path: Path) -> None:
    """`for k in range(2)` always runs, so `k` is bound wherever it is read later (here inside another loop)."""
    source = (
        "def f(x):\n    for k in range(2):\n        x = x * 2.0\n    for i in range(3):\n        x = x * k + 0.5\n    return x\n"
    )
    f = import_source(source, tmp_path).f
    assert grad(f)(0.5) == pytest.approx(numeric_gradient(f, (0.5,))[0])
    assert value_and_grad(f)(0.5)[0] == f(0.5)


def test_a_whole_number_computed_for_a_helpers_range_is_one(tmp_path: Path) -> None:
    """`_h(x, n // 2)` where the helper loops `range(k)`: `n` is a whole number, read as a number in `n * x` too."""
    source = (
        "def _h(u, k):\n    t = 0.0\n    for j in range(k):\n        t += u\n    return t\n\n"
        "def f(x, n):\n    return _h(x, n // 2) + n * x\n"
    )
    f = import_source(source, tmp_path).f
    assert grad(f)(0.5, 5) == (pytest.approx(numeric_gradient(lambda v: f(v, 5), (0.5,))[0]), 0.0)


def checked_membership(x, k):
    if k not in (1, 2, 3):
        raise ValueError("k must be 1, 2 or 3")
    y = x**k
    if x in [0.0, 1.0]:
        y = y + 1.0
    return y * 2.0 if k in (2, 3) else y


def test_membership_in_a_tuple_written_out() -> None:
    derived = grad(checked_membership, wrt=0)
    # d/dx of 2 x^2 at 1.5 is 6, of 2 x^3 is 13.5; k = 1 at 1.0 adds a constant: 1
    assert (derived(1.5, 2), derived(1.5, 3), derived(1.0, 1)) == pytest.approx((6.0, 13.5, 1.0))
    with pytest.raises(ValueError, match="k must be"):
        derived(1.5, 4)
    assert value_and_grad(checked_membership, wrt=0)(1.5, 2)[0] == checked_membership(1.5, 2)


def membership_in_a_list_variable(x, xs):
    return x * 2.0 if x in xs else x


def test_membership_in_a_list_variable_is_refused_with_what_to_write() -> None:
    with pytest.raises(S2SError, match="written out") as info:
        grad(membership_in_a_list_variable, wrt=0)
    assert info.value.hint is not None and "k == a or k == b" in info.value.hint
