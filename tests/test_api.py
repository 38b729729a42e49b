"""The user-facing API: `grad`, `value_and_grad`, `wrt`, caching, and the generated code users see.

Gradients are checked against central finite differences or closed forms;
the generated source is read through `inspect.getsource`, as a user would,
and must stand on its own: with only `import math` it computes the same
numbers.
"""

from __future__ import annotations

import importlib.util
import inspect
import linecache
import math
import math as m
import sys
import textwrap
import traceback
import types
from collections.abc import Callable
from math import exp as e
from math import sin
from pathlib import Path

import pytest
from conftest import numeric_gradient

from s2s_ad import grad, value_and_grad

SCALE = 3.0
OFFSET = -0.5


def f(x: float, y: float, z: float) -> float:
    return x * y + math.sin(z) * x


def one(x: float) -> float:
    return x**3


@grad
def decorated(x: float, y: float) -> float:
    return x * x * y


@grad(wrt="y")
def decorated_wrt(x: float, y: float) -> float:
    return x * x * y


@value_and_grad
def decorated_value(x: float) -> float:
    return math.exp(x) * x


@value_and_grad(wrt=(0,))
def decorated_value_wrt(x: float, y: float) -> float:
    return x / y


def close(got: object, expected: object) -> bool:
    return got == pytest.approx(expected, rel=1e-6, abs=1e-6)


# -- the three spellings ---------------------------------------------------------------------


def test_bare_decorator() -> None:
    assert decorated(1.5, 2.0) == pytest.approx((2 * 1.5 * 2.0, 1.5**2))


def test_decorator_with_wrt() -> None:
    assert decorated_wrt(1.5, 2.0) == pytest.approx(1.5**2)


def test_call_with_wrt() -> None:
    assert grad(f, wrt="z")(1.5, 2.0, 0.3) == pytest.approx(math.cos(0.3) * 1.5)


def test_value_and_grad_decorator() -> None:
    value, gradient = decorated_value(0.7)
    assert value == pytest.approx(math.exp(0.7) * 0.7)
    assert gradient == pytest.approx(math.exp(0.7) * 1.7)


def test_value_and_grad_decorator_with_wrt() -> None:
    value, gradient = decorated_value_wrt(3.0, 2.0)
    assert value == 1.5
    assert gradient == pytest.approx((0.5,))
    assert isinstance(gradient, tuple)


def test_value_and_grad_call() -> None:
    point = (1.5, -2.0, 0.4)
    value, gradient = value_and_grad(f)(*point)
    assert value == pytest.approx(f(*point))
    assert close(gradient, numeric_gradient(f, point))
    value, gradient = value_and_grad(f, wrt="x")(*point)
    assert value == pytest.approx(f(*point))
    assert close(gradient, numeric_gradient(f, point)[0])


# -- wrt ---------------------------------------------------------------------------------------

POINT = (1.5, -2.0, 0.4)
TRUTH = numeric_gradient(f, POINT)


@pytest.mark.parametrize(
    "wrt, expected",
    [
        ("x", TRUTH[0]),
        ("z", TRUTH[2]),
        (0, TRUTH[0]),
        (1, TRUTH[1]),
        (-1, TRUTH[2]),
        (-3, TRUTH[0]),
        (("x",), (TRUTH[0],)),
        ((2,), (TRUTH[2],)),
        (("z", "x"), (TRUTH[2], TRUTH[0])),
        ((0, "y"), (TRUTH[0], TRUTH[1])),
        (["y", -1], (TRUTH[1], TRUTH[2])),
        (None, TRUTH),
    ],
    ids=repr,
)
def test_wrt(wrt: object, expected: object) -> None:
    got = grad(f, wrt=wrt)(*POINT)  # type: ignore[arg-type]
    assert type(got) is type(expected)  # a tuple for a tuple wrt, even of one, like JAX's argnums
    assert close(got, expected)


def test_wrt_none_is_bare_for_one_parameter() -> None:
    got = grad(one)(2.0)
    assert isinstance(got, float)
    assert got == pytest.approx(12.0)
    assert grad(one, wrt=("x",))(2.0) == pytest.approx((12.0,))


def test_value_and_grad_wrt_tuple_of_one() -> None:
    value, gradient = value_and_grad(one, wrt=(0,))(2.0)
    assert value == 8.0
    assert isinstance(gradient, tuple) and gradient == pytest.approx((12.0,))


# -- caching and overhead ----------------------------------------------------------------------------


def test_cached_per_function_and_wrt() -> None:
    assert grad(f) is grad(f)
    assert grad(f, wrt="x") is grad(f, wrt="x")
    assert grad(f, wrt=("x", "y")) is grad(f, wrt=("x", "y"))
    assert grad(f, wrt="x") is not grad(f, wrt="y")
    assert grad(f) is not value_and_grad(f)
    assert value_and_grad(f) is value_and_grad(f)


def test_result_is_the_generated_function_itself() -> None:
    """No wrapper between the caller and the generated code: calling it costs what the code costs."""
    derivative = grad(f)
    assert type(derivative) is types.FunctionType
    assert derivative.__name__ == "f_grad"
    assert derivative.__code__.co_name == "f_grad"
    assert not hasattr(derivative, "__wrapped__")
    text = "".join(linecache.getlines(derivative.__code__.co_filename))
    compiled = compile(text, derivative.__code__.co_filename, "exec")
    (generated_code,) = [c for c in compiled.co_consts if isinstance(c, types.CodeType) and c.co_name == "f_grad"]
    assert generated_code.co_code == derivative.__code__.co_code
    assert inspect.getsource(derivative) in text


# -- the generated source --------------------------------------------------------------------------


def source_line(function: Callable[..., object], text: str) -> int:
    lines, start = inspect.getsourcelines(function)
    return start + next(i for i, line in enumerate(lines) if text in line)


def lecture(x: float, y: float) -> float:
    a = x * y
    b = math.exp(a) + y
    return b * x


def assert_line_comments_are_right(text: str) -> None:
    """Every `# line N: <source>` comment quotes line N of this file."""
    own = Path(__file__).read_text().splitlines()
    comments = [line.strip() for line in text.splitlines() if line.strip().startswith("# line ")]
    assert comments
    for comment in comments:
        number, _, quoted = comment.removeprefix("# line ").partition(": ")
        assert own[int(number) - 1].strip() == quoted


def test_getsource_shows_the_generated_function() -> None:
    text = inspect.getsource(grad(lecture))
    assert text.startswith("def lecture_grad(x, y):")
    for line in ("a = x * y", "b = math.exp(a) + y"):
        assert f"# line {source_line(lecture, line)}: {line}" in text
    assert_line_comments_are_right(text)
    assert "x_bar" in text and "y_bar" in text
    assert "# reverse sweep" in text
    assert inspect.getsource(value_and_grad(lecture)).startswith("def lecture_value_and_grad(x, y):")


def test_generated_source_is_standalone() -> None:
    """The text of `inspect.getsource`, with only `import math`, computes the same gradient."""
    for function, point in ((lecture, (0.3, -1.2)), (f, POINT), (one, (2.5,))):
        derivative = grad(function)
        namespace: dict[str, object] = {}
        exec("import math\n" + inspect.getsource(derivative), namespace)  # noqa: S102 - the code under test
        standalone = namespace[f"{function.__name__}_grad"]
        assert standalone(*point) == derivative(*point)  # type: ignore[operator]
        expected = numeric_gradient(function, point)
        assert close(standalone(*point), expected[0] if len(point) == 1 else expected)  # type: ignore[operator]


def test_generated_module_never_imports_s2s_ad() -> None:
    for function in (lecture, f, one, helper_user, aliases, closure(2.0)):
        for derivative in (grad(function), value_and_grad(function)):
            text = "".join(linecache.getlines(derivative.__code__.co_filename))
            assert text, "the generated module is registered in linecache"
            assert "s2s_ad" not in text
            assert all(line in ("import math",) for line in text.splitlines() if line.startswith(("import", "from")))


def clashing(x: float, x_bar: float, _t1: float) -> float:
    _t2 = x * x_bar
    y_bar = _t2 * _t1
    return math.sin(y_bar) + x_bar**2 + _t2 / _t1


def test_user_names_like_generated_ones_do_not_clash() -> None:
    point = (0.7, 1.3, -0.9)
    assert close(grad(clashing)(*point), numeric_gradient(clashing, point))
    value, gradient = value_and_grad(clashing)(*point)
    assert value == pytest.approx(clashing(*point))
    assert close(gradient, numeric_gradient(clashing, point))


# -- names the function reads -----------------------------------------------------------------------


def constants(x: float) -> float:
    return SCALE * x**2 + OFFSET * x + math.pi * x + math.e + min(x, math.inf) + math.tau


def closure(k: float) -> Callable[[float], float]:
    def scaled(x: float) -> float:
        return k * math.sin(x) + k**2 * x

    return scaled


def aliases(x: float) -> float:
    return m.cos(x) * sin(x) + e(x) * m.pi


def test_module_constants_and_math_constants() -> None:
    for x in (-1.3, 0.4, 2.0):
        assert close(grad(constants)(x), numeric_gradient(constants, (x,))[0])
        assert grad(constants)(x) == pytest.approx(2 * SCALE * x + OFFSET + math.pi + 1.0)


def test_closure_constants() -> None:
    for k in (2.0, -0.5):
        scaled = closure(k)
        for x in (-1.0, 0.5):
            assert grad(scaled)(x) == pytest.approx(k * math.cos(x) + k**2)


def _code_lines(text: str) -> str:
    """The generated text without its comments."""
    return "\n".join(line for line in text.splitlines() if not line.strip().startswith("#"))


def test_import_aliases() -> None:
    for x in (-1.0, 0.3, 1.7):
        assert close(grad(aliases)(x), numeric_gradient(aliases, (x,))[0])
    code = _code_lines(inspect.getsource(grad(aliases)))
    assert "m." not in code.replace("math.", "")  # generated code always spells the module `math`
    assert "math.sin(x)" in code and "math.exp(x)" in code


def inner_helper(a: float, b: float) -> float:
    return a * math.exp(b)


def outer_helper(a: float) -> float:
    return inner_helper(a, a) + a**2


def helper_user(x: float, y: float) -> float:
    return outer_helper(x) * inner_helper(y, x) + later_helper(y)


def later_helper(t: float) -> float:
    return math.sqrt(t * t + 1.0)


def test_helper_functions_are_differentiated() -> None:
    for point in ((0.3, 1.2), (-1.0, 0.5)):
        assert close(grad(helper_user)(*point), numeric_gradient(helper_user, point))
    text = inspect.getsource(grad(helper_user))
    assert "inner_helper" not in _code_lines(text)  # inlined, no call back into user code
    assert f"# line {source_line(inner_helper, 'return a * math.exp(b)')}:" in text
    assert_line_comments_are_right(text)


# -- properties of the package (what importing it loads: tests/test_import_time.py) --------------------


def _load(path: Path, name: str) -> types.ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_generation_is_deterministic(tmp_path: Path) -> None:
    """Two identical functions (so no cache is shared) give byte-identical generated modules."""
    body = textwrap.dedent("""
        import math


        def model(a, b, c):
            t = a * b + math.exp(c)
            u = math.sin(t) / (1.0 + b * b)
            return t * u + max(a, c) ** 2
    """)
    path = tmp_path / "twins.py"
    path.write_text(body)
    first = _load(path, "twins_first").model
    second = _load(path, "twins_second").model
    assert first is not second
    texts = []
    for model in (first, second):
        derivative = grad(model)
        texts.append("".join(linecache.getlines(derivative.__code__.co_filename)).encode())
        assert inspect.getsource(derivative) == inspect.getsource(grad(first))
    assert texts[0] == texts[1]


def log_of(x: float) -> float:
    return math.log(x) * x


def test_tracebacks_show_generated_lines() -> None:
    derivative = grad(log_of)
    with pytest.raises(ValueError):
        derivative(-1.0)
    try:
        derivative(-1.0)
    except ValueError:
        text = traceback.format_exc()
    generated = inspect.getsource(derivative)
    failing = next(line.strip() for line in generated.splitlines() if "math.log(x)" in line and "#" not in line)
    assert "in log_of_grad" in text
    assert failing in text


def negative_base(x: float, n: float) -> float:
    return (-2.0) ** n * x + OFFSET**n


def test_negative_constants_print_with_parentheses() -> None:
    """(-2.0) ** n must not come out as -2.0 ** n, which is -(2.0 ** n)."""
    derivative = grad(negative_base, wrt="x")
    for n in (2.0, 3.0):
        assert derivative(1.5, n) == (-2.0) ** n
    namespace: dict[str, object] = {"OFFSET": OFFSET}  # a module-level number is read by name
    exec("import math\n" + inspect.getsource(derivative), namespace)  # noqa: S102 - the code under test
    assert namespace["negative_base_grad"](1.5, 2.0) == 4.0  # type: ignore[operator]


def test_helper_imported_from_another_module(tmp_path: Path) -> None:
    """`from helpers import softplus`: the helper is inlined, its comments name its file."""
    (tmp_path / "api_helpers.py").write_text("import math\n\n\ndef softplus(t):\n    return math.log1p(math.exp(t))\n")
    (tmp_path / "api_user.py").write_text(
        "from api_helpers import softplus\n\n\ndef loss(x, y):\n    return softplus(x * y) + softplus(y)\n"
    )
    sys.path.insert(0, str(tmp_path))
    try:
        loss = _load(tmp_path / "api_user.py", "api_user").loss
    finally:
        sys.path.remove(str(tmp_path))
        sys.modules.pop("api_helpers", None)
    derivative = grad(loss)
    for point in ((0.5, 1.5), (-2.0, 0.3)):
        assert close(derivative(*point), numeric_gradient(loss, point))
    text = inspect.getsource(derivative)
    assert "# api_helpers.py, line 5: return math.log1p(math.exp(t))" in text
    assert "softplus" not in _code_lines(text)


def parameter_named_math(math: float, y: float) -> float:
    return math**y


def test_parameter_named_like_the_math_module() -> None:
    point = (2.0, 3.0)
    assert close(grad(parameter_named_math)(*point), numeric_gradient(parameter_named_math, point))


# -- the value of value_and_grad ------------------------------------------------------------------------


def square_by_pow(x: float) -> float:
    return x**2


def reciprocal_by_pow(x: float) -> float:
    return x**-1


# Points where this machine's C library `pow` is not correctly rounded, found by sampling
# (glibc's pow promises an error below 0.52 ulp, not correct rounding): there `x ** 2`
# differs from `x * x` and `x ** -1` from `1 / x` in the last bit.
POW_SAMPLES = (6206021146675720.0, -2.3633997043325207e19, 2.4590361921535413e45)


def test_value_is_the_function_value_bit_for_bit() -> None:
    """value_and_grad computes f's own value, not an approximation of it."""
    for function, point in (
        (f, POINT),
        (lecture, (0.3, -1.2)),
        (clashing, (0.7, 1.3, -0.9)),
        (constants, (1.7,)),
        (helper_user, (0.3, 1.2)),
    ):
        value, _ = value_and_grad(function)(*point)
        assert value == function(*point)
        assert type(value) is type(function(*point))


def test_value_of_powers_is_bit_for_bit() -> None:
    differing = [
        (function, x)
        for x in POW_SAMPLES
        for function, same in ((square_by_pow, x**2 == x * x), (reciprocal_by_pow, x**-1 == 1 / x))
        if not same
    ]
    if not differing:
        pytest.skip("this platform's pow is correctly rounded at the sample points")
    for function, x in differing:
        assert value_and_grad(function)(x)[0] == function(x), f"{function.__name__}({x!r})"


def half_of_triple(x: float) -> float:
    return 0.5 * (3.0 * x)


def eighth_of_seven(x: float) -> float:
    y = 7.0 * x
    return 0.125 * y


def test_constant_reassociation_keeps_overflow_and_subnormals() -> None:
    assert value_and_grad(half_of_triple)(1e308)[0] == half_of_triple(1e308) == math.inf
    x = 2.3178206247291635e-308
    assert value_and_grad(eighth_of_seven)(x)[0] == eighth_of_seven(x)


def test_constant_reassociation_gradient() -> None:
    assert grad(half_of_triple)(2.0) == 1.5
    assert grad(eighth_of_seven)(-3.0) == 0.875


RATE = 3.0


def rated(x: float) -> float:
    return RATE * x**2


def test_gradient_follows_a_changed_module_constant(monkeypatch: pytest.MonkeyPatch) -> None:
    assert grad(rated)(1.0) == 6.0
    monkeypatch.setattr(sys.modules[__name__], "RATE", 4.0)
    assert rated(1.0) == 4.0
    assert grad(rated)(1.0) == pytest.approx(numeric_gradient(rated, (1.0,))[0]) == 8.0
