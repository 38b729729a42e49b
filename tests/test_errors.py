"""Refusals: each is an `S2SError` of the right kind, at the right line, naming the construct.

Every refusal happens when the gradient is built (`grad(f)`), before any
generated code runs. Line numbers are the absolute lines of this file,
computed with `inspect` so the tests survive edits above them. The printed
form is a compiler's: `file:line:col: error: message`, the source line, a
caret line under the construct, and `hint: ...` when there is one.

`if`, `for`, `while` and conditional expressions used to be refused here;
now that they are differentiated, their tests check the gradient against
finite differences instead, so a regression to a refusal fails.
"""

from __future__ import annotations

import inspect
import math
import random
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import numeric_gradient

from s2s_ad import ResolutionError, S2SError, SignatureError, SourceError, UnsupportedError, grad, value_and_grad

G = 1.0
LABEL = "label"


def line_of(function: Callable[..., object], text: str) -> int:
    """Absolute line number, in this file, of the line of `function` that is `text`, or else contains it."""
    lines, start = inspect.getsourcelines(function)
    for offset, line in enumerate(lines):
        if line.strip() == text:
            return start + offset
    for offset, line in enumerate(lines):
        if text in line:
            return start + offset
    raise AssertionError(f"{text!r} not in the source of {function.__name__}")


def column_of(function: Callable[..., object], text: str) -> int:
    """0-based column of `text` on its line."""
    lines, start = inspect.getsourcelines(function)
    return lines[line_of(function, text) - start].index(text)


def refusal(function: Callable[..., object], cls: type[S2SError], **options: object) -> S2SError:
    with pytest.raises(cls) as info:
        derivative = grad(function, **options)  # type: ignore[arg-type]
        derivative(*(1.0 for _ in inspect.signature(function).parameters))  # one on arrays is built when called
    return info.value


# -- the functions ---------------------------------------------------------------------


def uses_try(x: float) -> float:
    try:
        y = x * 2
    except ValueError:
        y = 0.0
    return y


def uses_with(x: float) -> float:
    with open(__file__) as handle:
        y = x * len(handle.name)
    return y


lambda_itself = lambda x: x * 2  # noqa: E731 - the construct under test


def uses_lambda(x: float) -> float:
    return sum(map(lambda t: 2 * t, [x, x]))  # a lambda held by a name, or passed to a helper, is supported


def uses_yield(x: float) -> float:
    yield x * 2


def uses_global(x: float) -> float:
    global G
    return x * G


def uses_string(x: float) -> float:
    name = "x" + "y"
    return x * len(name)


def uses_fstring(x: float) -> float:
    text = f"{x:.3f}"
    return float(text)


def uses_module_string(x: float) -> float:
    return x * LABEL


def uses_attribute(x: float) -> float:
    return x.real * 2


def uses_method(x: float) -> float:
    return x.conjugate()


def uses_random(x: float) -> float:
    return x * random.random()


def uses_undefined(x: float) -> float:
    return x * undefined_helper(x)  # noqa: F821 - the construct under test


def uses_print(x: float) -> float:
    y = x * 2
    print(y)
    return y


def uses_raise(x: float) -> float:
    raise ValueError(x)


def uses_assert(x: float) -> float:
    assert x > 0, f"bad {x}"
    return x


def uses_nested_def(x: float) -> float:
    @staticmethod  # a nested `def` is supported, a decorated one not
    def inner(t: float) -> float:
        return t * 2

    return inner(x)


def uses_recursion(x: float) -> float:
    return uses_recursion(x)


def uses_matmul(x: float) -> float:
    return x @ x


def uses_complex(x: float) -> float:
    return x * 1j


def uses_is(x: float) -> float:
    return (x is x) * x  # `x is None` is known where the code is read; `is` between two values is not


def uses_keyword(x: float) -> float:
    return math.log(x, base=2.0)


def uses_star_args(*xs: float) -> float:
    return xs[0]


def uses_default(x: float, ys: list[float] = [2.0]) -> float:  # noqa: B006
    return x * ys[0]


def no_parameters() -> float:
    return 1.0


def no_return(x: float) -> None:
    y = x * 2  # noqa: F841 - the construct under test


def bare_return(x: float) -> None:
    return


def bad_helper(t: float) -> float:
    return t.imag


def calls_bad_helper(x: float) -> float:
    return bad_helper(x) * 2


def two_values(x: float, y: float) -> tuple[float, float]:
    return x, y


def product(x: float, y: float) -> float:
    return x * y


# -- statements and expressions outside the language --------------------------------------

REFUSALS = [
    # (function, class, text on the line at fault, words the message must contain)
    (uses_try, UnsupportedError, "try:", "'try'"),
    (uses_with, UnsupportedError, "with open", "'with'"),
    (uses_lambda, UnsupportedError, "lambda t", "lambda"),
    (uses_yield, UnsupportedError, "yield x", "yield"),
    (uses_global, UnsupportedError, "global G", "'global'"),
    (uses_string, UnsupportedError, '"x" + "y"', "string"),
    (uses_fstring, UnsupportedError, 'f"{x', "string"),
    (uses_attribute, UnsupportedError, "x.real", "x.real"),
    (uses_method, ResolutionError, "x.conjugate", "x.conjugate"),
    (uses_random, ResolutionError, "random.random", "random.random"),
    (uses_undefined, ResolutionError, "undefined_helper", "undefined_helper"),
    (uses_module_string, ResolutionError, "LABEL", "LABEL"),
    (uses_print, ResolutionError, "print(y)", "print"),
    (uses_raise, UnsupportedError, "raise ValueError", "literal arguments"),
    (uses_assert, UnsupportedError, "assert x > 0", "literal arguments"),
    (uses_nested_def, UnsupportedError, "def inner", "nested function"),
    (uses_recursion, UnsupportedError, "return uses_recursion", "recursive"),
    (uses_matmul, UnsupportedError, "x @ x", "@"),
    (uses_complex, UnsupportedError, "1j", "1j"),
    (uses_is, UnsupportedError, "x is x", "is"),
    (uses_keyword, UnsupportedError, "base=2.0", "keyword"),
    (uses_star_args, UnsupportedError, "def uses_star_args", "'*xs' parameters"),
    (uses_default, UnsupportedError, "ys: list[float] = [2.0]", "default value must be a number"),
    (no_parameters, SignatureError, "def no_parameters", "no parameters"),
    (no_return, SignatureError, "def no_return", "return"),
    (bare_return, SignatureError, "return", "'return' without a value"),
]


@pytest.mark.parametrize("function, cls, at, words", REFUSALS, ids=[r[0].__name__ for r in REFUSALS])
def test_refusal(function: Callable[..., object], cls: type[S2SError], at: str, words: str) -> None:
    error = refusal(function, cls)
    assert error.lineno == line_of(function, at)
    assert error.filename == __file__
    assert words in error.message
    assert words in str(error)


@pytest.mark.parametrize("function, cls, at, words", REFUSALS, ids=[r[0].__name__ for r in REFUSALS])
def test_refusal_is_printed_like_a_compiler_message(
    function: Callable[..., object], cls: type[S2SError], at: str, words: str
) -> None:
    error = refusal(function, cls)
    lineno = line_of(function, at)
    lines = str(error).splitlines()
    assert re.fullmatch(rf"{re.escape(__file__)}:{lineno}:\d+: error: .+", lines[0])
    column = int(lines[0][len(__file__) :].split(":")[2])
    assert column == error.col_offset + 1  # type: ignore[operator]
    source_line = inspect.getsourcelines(function)[0][lineno - inspect.getsourcelines(function)[1]]
    assert lines[1].strip() == source_line.strip()
    caret = lines[2]
    assert re.fullmatch(r" *\^~*", caret)
    # The caret sits under the column the message names (the source line is indented by 4).
    assert caret.index("^") - 4 == error.col_offset
    assert lines[1][caret.index("^") :].startswith(source_line.expandtabs(4)[error.col_offset :].rstrip()[:1])
    if error.hint:
        assert lines[3] == f"hint: {error.hint}"
        assert len(lines) == 4
    else:
        assert len(lines) == 3


def test_caret_underlines_the_construct() -> None:
    error = refusal(uses_attribute, UnsupportedError)
    assert error.col_offset == column_of(uses_attribute, "x.real")
    caret = str(error).splitlines()[2]
    assert caret.strip() == "^" + "~" * (len("x.real") - 1)


def test_hints_are_given_for_common_refusals() -> None:
    for function in (uses_try, uses_with, uses_lambda, uses_global, uses_string, uses_random):
        error = refusal(function, S2SError)
        assert error.hint
        assert str(error).splitlines()[-1] == f"hint: {error.hint}"


def test_error_inside_a_helper_points_at_the_helper() -> None:
    error = refusal(calls_bad_helper, UnsupportedError)
    assert error.lineno == line_of(bad_helper, "t.imag")
    assert "t.imag" in error.message


def test_every_refusal_class_is_an_s2s_error() -> None:
    for cls in (UnsupportedError, ResolutionError, SignatureError, SourceError):
        assert issubclass(cls, S2SError)
        assert issubclass(cls, Exception)


def test_value_and_grad_refuses_the_same_way() -> None:
    with pytest.raises(UnsupportedError) as info:
        value_and_grad(uses_try)
    assert info.value.lineno == line_of(uses_try, "try:")


# -- lambdas and functions without source ------------------------------------------------------


def test_lambda_as_the_function() -> None:
    error = refusal(lambda_itself, UnsupportedError)
    assert "lambda" in error.message
    assert error.lineno == line_of(lambda_itself, "lambda_itself = lambda")
    assert str(error).startswith(f"{__file__}:{error.lineno}")
    assert error.hint


def test_lambda_as_the_function_shows_the_source_line() -> None:
    error = refusal(lambda_itself, UnsupportedError)
    lines = str(error).splitlines()
    assert re.fullmatch(rf"{re.escape(__file__)}:\d+:\d+: error: .+", lines[0])
    assert lines[1].strip().startswith("lambda_itself = lambda")


def test_builtin_has_no_source() -> None:
    error = refusal(math.sin, SourceError)
    assert "source" in error.message
    assert "sin" in error.message
    assert str(error).startswith("error: ")


def test_function_made_with_exec_has_no_source() -> None:
    namespace: dict[str, object] = {}
    exec(compile("def typed(x):\n    return x * 2\n", "<stdin>", "exec"), namespace)  # noqa: S102
    error = refusal(namespace["typed"], SourceError)  # type: ignore[arg-type]
    assert "source" in error.message
    assert "typed" in error.message
    assert error.filename == "<stdin>"
    assert error.lineno == 1
    assert error.hint


def test_function_typed_on_standard_input_has_no_source() -> None:
    """`python -` reading a script from a pipe, like a session at the prompt: no file to read."""
    script = (
        "import s2s_ad\n"
        "def typed(x):\n"
        "    return x * 2\n"
        "try:\n"
        "    s2s_ad.grad(typed)\n"
        "except s2s_ad.SourceError as error:\n"
        "    print(error.lineno)\n"
        "    print(error)\n"
    )
    result = subprocess.run([sys.executable, "-"], input=script, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "2"
    assert lines[1].startswith("<stdin>:2: error: ")
    assert "source" in lines[1] and "'typed'" in lines[1]
    assert lines[-1].startswith("hint: ")


def test_function_whose_file_is_gone_has_no_source() -> None:
    namespace: dict[str, object] = {}
    exec(compile("def moved(x):\n    return x * 2\n", "/nonexistent/deleted_module.py", "exec"), namespace)  # noqa: S102
    error = refusal(namespace["moved"], SourceError)  # type: ignore[arg-type]
    assert "moved" in error.message
    assert error.filename == "/nonexistent/deleted_module.py"


def test_callables_without_source_are_refused() -> None:
    import functools

    error = refusal(functools.partial(math.hypot, 1.0), SourceError)  # a partial of a builtin: no source
    assert "hypot" in error.message


def test_non_callable_is_refused() -> None:
    refusal(3, SourceError)  # type: ignore[arg-type]


async def asynchronous(x: float) -> float:
    return x * 2


def test_async_function_is_refused() -> None:
    error = refusal(asynchronous, UnsupportedError)
    assert "async" in error.message


def test_async_function_refusal_points_at_its_line() -> None:
    error = refusal(asynchronous, UnsupportedError)
    assert error.lineno == line_of(asynchronous, "async def asynchronous")


# -- output and wrt -----------------------------------------------------------------------------------


def test_non_scalar_output() -> None:
    error = refusal(two_values, SignatureError)
    assert "scalar-output" in error.message
    assert error.filename == __file__
    assert error.lineno in (line_of(two_values, "def two_values"), line_of(two_values, "return x, y"))


def test_non_scalar_output_points_at_the_return() -> None:
    error = refusal(two_values, SignatureError)
    assert error.lineno == line_of(two_values, "return x, y")


def test_non_scalar_output_with_value_and_grad() -> None:
    with pytest.raises(SignatureError, match="scalar-output"):
        value_and_grad(two_values)


def test_wrt_unknown_name() -> None:
    error = refusal(product, SignatureError, wrt="z")
    assert "'z'" in error.message
    assert error.lineno == line_of(product, "def product")
    assert error.hint is not None and "x, y" in error.hint


@pytest.mark.parametrize("index", [2, -3, 10])
def test_wrt_index_out_of_range(index: int) -> None:
    error = refusal(product, SignatureError, wrt=index)
    assert str(index) in error.message
    assert "2 parameter" in error.message
    assert error.lineno == line_of(product, "def product")


@pytest.mark.parametrize("wrt", [("x", "x"), ("x", 0), (1, -1), ("y", 1)])
def test_wrt_duplicate(wrt: tuple[str | int, ...]) -> None:
    error = refusal(product, SignatureError, wrt=wrt)
    assert "twice" in error.message


def test_wrt_duplicate_points_at_the_function() -> None:
    error = refusal(product, SignatureError, wrt=("x", "x"))
    assert error.lineno == line_of(product, "def product")


def test_wrt_empty() -> None:
    refusal(product, SignatureError, wrt=())


@pytest.mark.parametrize("wrt", [True, ("x", None), (1.0,)])
def test_wrt_of_the_wrong_type(wrt: object) -> None:
    refusal(product, SignatureError, wrt=wrt)


def test_wrt_float_is_refused() -> None:
    refusal(product, SignatureError, wrt=1.5)


# -- control flow: once refused, now differentiated ---------------------------------------------------


def uses_if(x: float) -> float:
    if x > 0:
        y = x * x
    else:
        y = -x
    return y


def uses_for(x: float) -> float:
    y = x
    for _ in range(3):
        y = y * x
    return y


def uses_while(x: float) -> float:
    y = x
    while y < 10.0:
        y = y * 2.0
    return y


def uses_conditional_expression(x: float) -> float:
    return x * x if x > 0 else -x


@pytest.mark.parametrize(
    "function, points",
    [
        (uses_if, ((1.5,), (-0.7,))),
        (uses_for, ((1.5,), (-0.7,))),
        (uses_while, ((1.5,), (3.3,))),
        (uses_conditional_expression, ((1.5,), (-0.7,))),
    ],
    ids=["if", "for", "while", "conditional-expression"],
)
def test_control_flow_is_differentiated(function: Callable[..., float], points: tuple[tuple[float, ...], ...]) -> None:
    """No refusal any more: a gradient that matches finite differences on both sides of each branch."""
    derivative = grad(function)
    for point in points:
        assert derivative(*point) == pytest.approx(numeric_gradient(function, point)[0], rel=1e-6, abs=1e-6)


# -- tabs ------------------------------------------------------------------------------------------------


def test_caret_is_aligned_under_tab_indented_source(tmp_path: Path) -> None:
    path = tmp_path / "tabbed.py"
    path.write_text("def tabbed(x):\n\treturn x.real\n")
    namespace: dict[str, object] = {}
    exec(compile(path.read_text(), str(path), "exec"), namespace)  # noqa: S102 - a module with a real file
    error = refusal(namespace["tabbed"], UnsupportedError)  # type: ignore[arg-type]
    assert error.lineno == 2
    _, source, caret = str(error).splitlines()[:3]
    assert source[caret.index("^") :].startswith("x.real")
