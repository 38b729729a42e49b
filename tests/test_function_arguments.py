"""Functions passed to helpers (`rk4_step(decay, y)`, a `lambda`, a nested `def`, `math.sin`), and `None`
defaults of helpers (`def layer(x, w, b=None)`): each program against central finite differences, its
value against the function's, and the refusals of what is not known where the code is read."""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import import_file, numeric_gradient
from test_lists import assert_gradient

from s2s_ad import S2SError, grad, value_and_grad
from s2s_ad.cli import main


def assert_matches(f: Callable[..., float], *args: float) -> None:
    """The gradient agrees with finite differences, and `value_and_grad`'s value is f's."""
    expected = numeric_gradient(f, args)
    generated = grad(f)(*args)
    generated = generated if isinstance(generated, tuple) else (generated,)
    assert generated == pytest.approx(expected, rel=1e-6, abs=1e-7)
    value, _ = value_and_grad(f)(*args)
    assert value == f(*args)


# -- the functions passed ---------------------------------------------------------------------------------


def decay(y):
    return -0.5 * y


def grow(y):
    return 0.3 * y * (1.0 - y)


def rk4_step(f, y, h=0.1):
    k1 = f(y)
    k2 = f(y + h / 2 * k1)
    k3 = f(y + h / 2 * k2)
    k4 = f(y + h * k3)
    return y + h / 6 * (k1 + 2 * k2 + 2 * k3 + k4)


def euler_step(f, y, h):
    return y + h * f(y)


def rk4_simulation(y0, scale):
    y = y0
    for _ in range(100):
        y = rk4_step(decay, y, h=0.01)
    return scale * y


def rk4_logistic(y0):
    y = y0
    for _ in range(100):
        y = rk4_step(grow, y)
    return y


def euler_lambda(y0, k):
    y = y0
    for _ in range(50):
        y = euler_step(lambda v: -k * v + math.sin(v), y, 0.02)
    return y


def nested_def(y0, k):
    def rate(v):
        return -k * v * v

    y = y0
    for _ in range(20):
        y = rk4_step(rate, y, h=0.05)
    return y


def compose(f, g, x):
    return f(g(x))


def twice(f, x):
    return f(f(x))


def composed(x):
    return compose(math.sin, math.exp, x) + twice(decay, x) + compose(abs, grow, x)


def sine_passed(x):
    return rk4_step(math.sin, x, 0.2)


def integrate(y, f=decay, h=0.1):
    return y + h * f(y)


def function_default(y, k):
    return integrate(y) + integrate(y, lambda v: k * v * v) + integrate(y, f=grow, h=0.2)


def apply(f, y):
    return f(y) * f(y)


def middle(f, y):
    return apply(f, y + 1.0)


def outer(f, y):
    return middle(f, 2.0 * y)


def two_levels(y, k):
    return outer(decay, y) + outer(lambda v: k * math.tanh(v), y) + outer(f=math.cos, y=y)


def by_keyword(y):
    return rk4_step(y=y, f=grow, h=0.3) + euler_step(h=0.1, y=y, f=math.exp)


def late_binding(x, k):
    g = lambda v: k * v  # noqa: E731 (what is tested: a lambda held by a name)
    first = g(x)
    k = k * k
    return first + g(x) + twice(g, x)  # g reads k as it is now, as Python does


def default_captures(x, k):
    g = lambda v, c=k: c * v  # noqa: E731
    k = 3.0 * k
    return g(x) + k


def total(f, xs):
    return sum(f(x) for x in xs)


def mapped(f, xs):
    return sum(map(f, xs))


def over_lists(xs, k):
    return total(lambda v: k * v * v, xs) + mapped(math.sin, xs) + total(decay, xs)


def pair(v):
    return v * v, 2.0 * v


def unpacked(f, x):
    a, b = f(x)
    return a + b


def tuple_function(x):
    return unpacked(pair, x)


def nested_closure(x, k):
    def inner(v):
        return k * v + x

    def outer_fn(v):
        return inner(v) * inner(v)

    return compose(outer_fn, math.exp, x)


def branch_in_helper(f, x):
    if x > 0:
        return f(x)
    return -f(-x)


def branches(x):
    return branch_in_helper(math.sqrt, x)


@pytest.mark.parametrize(
    ("function", "args"),
    [
        (rk4_simulation, (1.0, 2.0)),
        (rk4_logistic, (0.2,)),
        (euler_lambda, (1.0, 0.7)),
        (nested_def, (1.0, 0.7)),
        (composed, (0.3,)),
        (sine_passed, (0.4,)),
        (function_default, (0.5, 1.5)),
        (two_levels, (0.5, 1.5)),
        (by_keyword, (0.4,)),
        (late_binding, (0.5, 1.5)),
        (default_captures, (0.5, 1.5)),
        (tuple_function, (0.7,)),
        (nested_closure, (0.3, 0.8)),
        (branches, (2.0,)),
        (branches, (-2.0,)),
    ],
    ids=lambda value: getattr(value, "__name__", ""),
)
def test_functions_passed(function: Callable[..., float], args: tuple[float, ...]) -> None:
    assert_matches(function, *args)


def test_rk4_closed_form() -> None:
    """RK4 of y' = -y/2 over 100 steps of 0.01: y(1) = y0 exp(-1/2) to the method's accuracy."""
    value, (d_y0, d_scale) = value_and_grad(rk4_simulation)(1.0, 2.0)
    assert value == pytest.approx(2.0 * math.exp(-0.5), rel=1e-10)
    assert d_y0 == pytest.approx(2.0 * math.exp(-0.5), rel=1e-10)
    assert d_scale == pytest.approx(math.exp(-0.5), rel=1e-10)


def test_lists_with_functions() -> None:
    assert_gradient(over_lists, [0.5, -1.0, 2.0], 0.7)
    assert value_and_grad(over_lists)([0.5, -1.0, 2.0], 0.7)[0] == over_lists([0.5, -1.0, 2.0], 0.7)


def test_partial_binds_a_function() -> None:
    """The hint of the refusal below: functools.partial binds the function; the rest is differentiated."""
    bound = functools.partial(rk4_step, decay)
    assert grad(bound, wrt=0)(1.0, 0.1) == pytest.approx(numeric_gradient(lambda y: rk4_step(decay, y), (1.0,))[0])
    assert grad(functools.partial(euler_step, math.sin), wrt=0)(0.3, 0.5) == pytest.approx(1.0 + 0.5 * math.cos(0.3))


def test_generated_code_inlines_the_function() -> None:
    import inspect

    source = inspect.getsource(grad(euler_lambda))
    assert "math.sin" in source and "math.cos" in source
    assert all(line.strip().startswith("# line") for line in source.splitlines() if "lambda v" in line)  # only comments


# -- None defaults ----------------------------------------------------------------------------------------


def layer(x, w, b=None):
    s = w * x
    if b is not None:
        s = s + b
    return s


def layer_none_set(x, w, b=None):
    if b is None:
        b = 0.0
    return math.tanh(w * x + b)


def layer_expression(x, w, b=None, scale=None):
    b = b if b is not None else 0.0
    factor = 1.0 if scale is None else scale
    return factor * (w * x + b) + (0.5 if b is None else 0.25)


def layer_conjunction(x, b=None):
    if b is not None and b > 0:
        return x * b
    if b is None or x > 1.0:
        return x * x
    return -x


def layers(x, w):
    return layer(x, w) + layer(x, w, b=0.3 * w) + layer(x, w, None)


def layers_set(x, w):
    return layer_none_set(x, w) + layer_none_set(x, w, 0.5 * x)


def layers_expression(x, w):
    return layer_expression(x, w) + layer_expression(x, w, b=w, scale=x) + layer_expression(x, w, scale=2.0)


def conjunctions(x, b):
    return layer_conjunction(x) + layer_conjunction(x, b) + layer_conjunction(x, -b)


def none_forwarded(x, w, b=None):
    return layer(x, w, b)


def forwarded(x, w):
    return none_forwarded(x, w) + none_forwarded(x, w, w * w)


@pytest.mark.parametrize(
    ("function", "args"),
    [
        (layers, (0.5, 1.5)),
        (layers_set, (0.5, 1.5)),
        (layers_expression, (0.5, 1.5)),
        (conjunctions, (0.5, 2.0)),
        (conjunctions, (1.5, 2.0)),
        (forwarded, (0.5, 1.5)),
    ],
    ids=lambda value: getattr(value, "__name__", ""),
)
def test_none_defaults(function: Callable[..., float], args: tuple[float, ...]) -> None:
    assert_matches(function, *args)


def test_none_branch_is_not_in_the_code() -> None:
    """`if b is not None:` of a call without b lowers no branch at all."""
    import inspect

    def only_none(x, w):
        return layer(x, w)

    source = inspect.getsource(grad(only_none))
    assert "if " not in source


# -- refusals ---------------------------------------------------------------------------------------------


def simulate_with(f, y0):
    y = y0
    for _ in range(10):
        y = rk4_step(f, y)
    return y


def top_none(x, b=None):
    return x if b is None else x + b


def top_function_default(y, f=decay):
    return f(y)


def pick(i, y):
    fs = [decay, grow]
    return fs[i](y)


def chosen(x):
    g = decay if x > 0 else grow
    return g(x)


def called_choice(x):
    return (decay if x > 0 else grow)(x)


def calls_none(f, x):
    return f(x)


def none_called(x):
    return calls_none(None, x)


def adds(f, x):
    return f + x


def function_as_number(x):
    return adds(decay, x)


def plus(x, b=None):
    return x + b


def none_as_number(x):
    return plus(x)


def rebinds_in_loop(x):
    f = decay
    for _ in range(3):
        x = f(x)
        f = grow
    return x


def returns_function(f, x):
    return f


def function_returned(x):
    g = returns_function(decay, x)
    return g(x)


def recursive_closure(x):
    def again(v):
        return again(v - 1.0) if v > 0 else v

    return again(x)


def branch_functions(x):
    if x > 0:

        def g(v):
            return v

    else:

        def g(v):
            return -v

    return g(x)


def decorated(x):
    @functools.cache
    def g(v):
        return v

    return g(x)


@pytest.mark.parametrize(
    ("function", "message", "hint"),
    [
        (
            simulate_with,
            "'f' holds 'f', a parameter of the function you differentiate ('simulate_with'), and it is called: a "
            "function passed to the differentiated function itself is not known where the code is read",
            "functools.partial(simulate_with, decay)",
        ),
        (top_none, "the parameter 'b' of the function you differentiate defaults to None", "give it a number as its default"),
        (top_function_default, "the parameter 'f' of the function you differentiate defaults to the function 'decay'", "helper"),
        (pick, "a function held in a list or a tuple ('decay') is not supported", "pass one to a function of yours"),
        (chosen, "a function chosen by a conditional expression ('decay') is not supported", None),
        (called_choice, "calling a function chosen by a conditional expression (`(decay if x > 0 else grow)(...)`)", None),
        (none_called, "'f' is None here: calling it raises TypeError", None),
        (function_as_number, "'f' is the function 'decay' here, not a number", "pass it to a function of yours"),
        (none_as_number, "'b' is None here, not a number", "if b is not None"),
        (rebinds_in_loop, "'f' holds the function 'decay' and this loop assigns it again", "another name"),
        (function_returned, "returning the function 'decay' is not supported", None),
        (recursive_closure, "recursive call to 'again' cannot be differentiated", "loop"),
        (branch_functions, "'g' is the function 'g' on one path of this `if` and the function 'g' on the other", None),
        (decorated, "the nested function 'g' is decorated", None),
    ],
    ids=lambda value: getattr(value, "__name__", ""),
)
def test_refusals(function: Callable[..., Any], message: str, hint: str | None) -> None:
    with pytest.raises(S2SError) as caught:
        grad(function)
    error = caught.value
    assert message in error.message
    assert error.filename == __file__ and error.lineno is not None
    if hint is not None:
        assert error.hint is not None and hint in error.hint


def test_refusal_points_at_the_call() -> None:
    with pytest.raises(S2SError) as caught:
        grad(simulate_with)
    assert caught.value.source_line is not None and "k1 = f(y)" in caught.value.source_line
    assert str(caught.value).startswith(f"{__file__}:")


# -- the command line -------------------------------------------------------------------------------------

PROGRAM = """
import math


def decay(y):
    return -0.5 * y


def rk4_step(f, y, h=0.1):
    k1 = f(y)
    k2 = f(y + h / 2 * k1)
    k3 = f(y + h / 2 * k2)
    k4 = f(y + h * k3)
    return y + h / 6 * (k1 + 2 * k2 + 2 * k3 + k4)


def layer(x, w, b=None):
    s = w * x
    if b is not None:
        s = s + b
    return s


def simulate(y0, k):
    y = y0
    for _ in range(10):
        y = rk4_step(decay, y, h=0.1)
        y = rk4_step(lambda v: -k * math.sin(v), y)
    return layer(y, k) + layer(y, k, b=0.3)
"""


def test_command_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "ode.py").write_text(PROGRAM)
    assert main(["grad", "ode.py:simulate", "-o", "ode_grad.py"]) == 0
    program = import_file(tmp_path / "ode.py", "s2s_test_ode_program")
    written = import_file(tmp_path / "ode_grad.py", "s2s_test_ode_grad")
    assert written.simulate_grad(1.0, 0.7) == pytest.approx(numeric_gradient(program.simulate, (1.0, 0.7)), rel=1e-6)
    assert "s2s_ad" not in (tmp_path / "ode_grad.py").read_text().split('"""', 2)[2]
    capsys.readouterr()
    assert main(["grad", "ode.py", "-o", "all_grad.py"]) == 0  # the helpers are left out, not refused
    assert "simulate_grad" in (tmp_path / "all_grad.py").read_text()
    assert main(["grad", "ode.py:rk4_step"]) == 1
    err = capsys.readouterr().err
    assert "ode.py:10:10: error: 'f' is a parameter of the function you differentiate" in err
    assert "Traceback" not in err
