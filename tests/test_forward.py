"""Forward mode (`jvp`): directional derivatives against SymPy and finite differences.

Every function differentiated here also has its formula written a second
time, independently, with SymPy functions (`FORMULAS`); SymPy's `diff` of
that formula, dotted with the tangent, is the truth the generated forward
mode must reach, together with a central finite difference along the
tangent and the generated reverse-mode gradient dotted with the tangent.

Covered: the straight-line examples, branches (Huber), `while` (Newton's
square root), `for` loops over lists with list parameters whose tangents are
lists (logistic regression, the MLP), helper calls (the Huber fit), tuple
outputs, `wrt`, the generated text, and random straight-line programs
written by hypothesis (the grammar of tests/test_properties.py).

The SymPy tables and helpers here are shared with tests/test_jacobian_hessian.py
and tests/test_higher_order.py.
"""

from __future__ import annotations

import copy
import functools
import importlib.util
import inspect
import math
import os
import sys
import types
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from conftest import import_source

sympy = pytest.importorskip("sympy")
hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, assume, given, note, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from s2s_ad import S2SError, grad, jvp  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"


@functools.cache
def example(stem: str) -> types.ModuleType:
    """An example module, imported from its file under a name of its own."""
    name = f"forward_tests_{stem}"
    spec = importlib.util.spec_from_file_location(name, EXAMPLES / f"{stem}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


# -- the same formulas, written with SymPy -------------------------------------


def _bce(w0: Any, w1: Any, b: Any) -> Any:
    data = example("logistic_regression")
    total = 0
    for x, y in zip(data.DATA_X, data.DATA_Y):
        s = 1 / (1 + sympy.exp(-(b + w0 * x[0] + w1 * x[1])))
        total -= y * sympy.log(s) + (1 - y) * sympy.log(1 - s)
    return total / len(data.DATA_X)


def _mlp(*weights: Any) -> Any:
    """mlp_loss with its 13 weights flattened: W1 (3x2), b1 (3), W2 (3), b2."""
    data = example("mlp")
    w1 = [weights[0:2], weights[2:4], weights[4:6]]
    b1, w2, b2 = weights[6:9], weights[9:12], weights[12]
    total = 0
    for x, y in zip(data.DATA_X, data.DATA_Y):
        hidden = [sympy.tanh(b1[j] + w1[j][0] * x[0] + w1[j][1] * x[1]) for j in range(3)]
        total += (b2 + sum(w2[j] * hidden[j] for j in range(3)) - y) ** 2
    return total / len(data.DATA_X)


def _huber_fit(a: Any, b: Any) -> Any:
    """The Huber fit at points where only the outlier is on the linear piece (delta = 1)."""
    data = example("huber")
    total = 0
    for x, y in zip(data.XS, data.YS):
        r = a * x + b - y
        total += r * r / 2 if y != -20.0 else sympy.Abs(r) - sympy.Rational(1, 2)
    return total


def _lennard_jones(x1: Any, y1: Any, x2: Any, y2: Any) -> Any:
    physics = example("physics")
    r2 = (x2 - x1) ** 2 + (y2 - y1) ** 2
    s6 = physics.SIGMA**6 / r2**3
    return 4 * physics.EPSILON * (s6**2 - s6)


def _planck(wavelength: Any, temperature: Any) -> Any:
    p = example("physics")
    return 2 * p.H * p.C**2 / wavelength**5 / (sympy.exp(p.H * p.C / (wavelength * p.K * temperature)) - 1)


@dataclass(frozen=True)
class Case:
    """One example function, its SymPy formula (over scalar symbols) and a point where it is smooth."""

    stem: str
    name: str
    formula: Callable[..., Any]
    point: tuple[float, ...]
    straight: bool = True  # straight-line code (no branches, loops or list parameters)

    @property
    def function(self) -> Callable[..., Any]:
        return getattr(example(self.stem), self.name)

    def __str__(self) -> str:
        return f"{self.stem}.{self.name}"


# Scalar-parameter example functions. `circuit` is evaluated where y > z (max picks y).
CASES = [
    Case("backprop_lecture", "circuit", lambda x, y, z: (x + y) * y, (0.7, 1.3, 0.4)),
    Case("backprop_lecture", "sums_product", lambda a, b: (a + b) * (b + 1), (0.7, -1.3)),
    Case("backprop_lecture", "chain", lambda x, y, z: z + sympy.sin(x**2 + y * sympy.exp(z)), (0.7, -1.3, 0.4)),
    Case("backprop_lecture", "quartic", lambda x: (x**2 + 3) ** 4, (0.7,)),
    Case("backprop_lecture", "exp_sin_square", lambda x: sympy.exp(sympy.sin(x**2)), (0.7,)),
    Case("backprop_lecture", "three_inputs", lambda a, b, c: a**2 * b + sympy.cos(c), (0.7, -1.3, 0.4)),
    Case("backprop_lecture", "cube_then_square", lambda x: x**6, (0.7,)),
    Case("backprop_lecture", "rosenbrock", lambda x, y: (1 - x) ** 2 + 100 * (y - x**2) ** 2, (-1.2, 1.0)),
    Case("rosenbrock", "rosenbrock", lambda x, y: (1 - x) ** 2 + 100 * (y - x**2) ** 2, (0.3, 0.8)),
    Case(
        "rosenbrock",
        "rosenbrock4",
        lambda a, b, c, d: sum(100 * (q - p**2) ** 2 + (1 - p) ** 2 for p, q in ((a, b), (b, c), (c, d))),
        (0.7, -1.3, 0.4, 1.9),
    ),
    Case("physics", "projectile_range", lambda v, t, g: v**2 * sympy.sin(2 * t) / g, (20.0, 0.5, 9.81)),
    Case("physics", "lennard_jones", _lennard_jones, (0.3, -0.2, 3.9, 1.1)),
    Case("physics", "planck", _planck, (5e-7, 5772.0)),
    Case("newton_rosenbrock", "rosenbrock", lambda x, y: (1 - x) ** 2 + 100 * (y - x**2) ** 2, (-1.2, 1.0)),
    Case("huber", "huber", lambda r, d: r * r / 2, (0.3, 1.0), straight=False),  # quadratic piece
    Case("huber", "huber", lambda r, d: d * (sympy.Abs(r) - d / 2), (-2.5, 1.0), straight=False),  # linear piece
    Case("newton_sqrt", "newton_sqrt", lambda a: sympy.sqrt(a), (2.0,), straight=False),
    Case("newton_sqrt", "scaled_root", lambda a, c: c * sympy.sqrt(a) + a, (7.0, 1.5), straight=False),
]


def symbols(n: int) -> list[Any]:
    return list(sympy.symbols(f"s0:{n}", real=True))


def sympy_gradient(formula: Callable[..., Any], point: Sequence[float]) -> list[float]:
    """SymPy's gradient of `formula` at `point`."""
    xs = symbols(len(point))
    expression = formula(*xs)
    at = dict(zip(xs, point))
    return [float(sympy.diff(expression, x).evalf(30, subs=at)) for x in xs]


def sympy_directional(formula: Callable[..., Any], point: Sequence[float], tangent: Sequence[float]) -> float:
    """SymPy's derivative of `formula(point + eps * tangent)` in eps at 0: one `diff` however many parameters."""
    eps = sympy.Symbol("eps", real=True)
    expression = formula(*(sympy.Float(p, 30) + eps * sympy.Float(t, 30) for p, t in zip(point, tangent)))
    return float(sympy.diff(expression, eps).evalf(30, subs={eps: 0}))


def sympy_hessian(formula: Callable[..., Any], point: Sequence[float]) -> list[list[float]]:
    """SymPy's Hessian (`sympy.hessian`) of `formula` at `point`."""
    xs = symbols(len(point))
    matrix = sympy.hessian(formula(*xs), xs)
    at = dict(zip(xs, point))
    return [[float(matrix[i, j].evalf(30, subs=at)) for j in range(len(xs))] for i in range(len(xs))]


def along(function: Callable[..., float], point: Sequence[float], tangent: Sequence[float], h: float) -> float:
    """A central finite difference of `function` at `point` along `tangent`."""
    up = [p + h * t for p, t in zip(point, tangent)]
    down = [p - h * t for p, t in zip(point, tangent)]
    return (function(*up) - function(*down)) / (2 * h)


def tangent_for(point: Sequence[float]) -> tuple[float, ...]:
    """A direction with every component non-zero, scaled like the point."""
    base = (0.6, -1.1, 0.35, 0.8)
    return tuple(b * (abs(p) if abs(p) > 10 or abs(p) < 1e-3 else 1.0) for b, p in zip(base, point))


def assert_close(got: float, expected: float, rel: float = 1e-9, scale: float = 1.0) -> None:
    assert got == pytest.approx(expected, rel=rel, abs=rel * scale)


# -- the examples --------------------------------------------------------------


@pytest.mark.parametrize("case", CASES, ids=str)
def test_jvp_of_examples_matches_sympy_finite_differences_and_grad(case: Case) -> None:
    f, point = case.function, case.point
    tangent = tangent_for(point)
    value, derivative = jvp(f)(point, tangent)
    assert value == f(*point)
    symbolic = sympy_gradient(case.formula, point)
    expected = sum(g * t for g, t in zip(symbolic, tangent))
    scale = max(abs(g * t) for g, t in zip(symbolic, tangent))
    assert_close(derivative, expected, 1e-9, scale)
    h = 1e-6 * max(1.0, min(abs(p) for p in point))
    assert_close(derivative, along(f, point, tangent, h), 1e-5, scale)
    gradient = grad(f)(*point)
    gradient = gradient if isinstance(gradient, tuple) else (gradient,)
    assert_close(derivative, sum(g * t for g, t in zip(gradient, tangent)), 1e-12, scale)


@pytest.mark.parametrize("case", [c for c in CASES if len(c.point) > 1], ids=str)
def test_jvp_basis_vectors_give_sympy_partials_and_wrt_selects_them(case: Case) -> None:
    f, point = case.function, case.point
    symbolic = sympy_gradient(case.formula, point)
    scale = max(map(abs, symbolic))
    for j in range(len(point)):
        basis = tuple(1.0 if k == j else 0.0 for k in range(len(point)))
        assert_close(jvp(f)(point, basis)[1], symbolic[j], 1e-9, scale)
        value, partial = jvp(f, wrt=j)(point, (1.0,))
        assert value == f(*point)
        assert_close(partial, symbolic[j], 1e-9, scale)


# -- control flow, lists and helpers -------------------------------------------


def test_jvp_through_both_branches_of_huber() -> None:
    huber = example("huber").huber
    for r, delta, expected in ((0.3, 1.0, 0.3 * 0.5 + 0.0), (-2.5, 1.0, -1.0 * 0.5 + 1.5), (4.0, 2.0, 0.5 * 2 + 2.0)):
        _, derivative = jvp(huber)((r, delta), (0.5, 1.0))
        assert derivative == pytest.approx(expected, rel=1e-12)
        assert derivative == pytest.approx(along(huber, (r, delta), (0.5, 1.0), 1e-6), rel=1e-6)


def test_jvp_through_a_while_loop_newton_sqrt() -> None:
    newton_sqrt = example("newton_sqrt").newton_sqrt
    for a in (0.3, 2.0, 50.0):
        value, derivative = jvp(newton_sqrt)((a,), (1.0,))
        assert value == newton_sqrt(a)
        assert derivative == pytest.approx(1 / (2 * math.sqrt(a)), rel=1e-9)
        assert derivative == pytest.approx(grad(newton_sqrt)(a), rel=1e-12)


def test_jvp_of_logistic_regression_with_a_list_tangent() -> None:
    module = example("logistic_regression")
    w, b = [0.3, -0.4], 0.1
    w_dot, b_dot = [0.7, -0.2], 0.5
    value, derivative = jvp(module.bce_loss, wrt=("w", "b"))((w, b, module.DATA_X, module.DATA_Y), (w_dot, b_dot))
    assert value == module.bce_loss(w, b, module.DATA_X, module.DATA_Y)
    assert derivative == pytest.approx(sympy_directional(_bce, (*w, b), (*w_dot, b_dot)), rel=1e-10)
    gw, gb = grad(module.bce_loss, wrt=("w", "b"))(w, b, module.DATA_X, module.DATA_Y)
    assert derivative == pytest.approx(sum(g * t for g, t in zip(gw, w_dot)) + gb * b_dot, rel=1e-12)

    def loss(w0: float, w1: float, bias: float) -> float:
        return module.bce_loss([w0, w1], bias, module.DATA_X, module.DATA_Y)

    assert derivative == pytest.approx(along(loss, (*w, b), (*w_dot, b_dot), 1e-6), rel=1e-6)


def _flat(value: object) -> list[float]:
    return [x for item in value for x in _flat(item)] if isinstance(value, (list, tuple)) else [value]  # type: ignore[attr-defined,union-attr]


def test_jvp_of_the_mlp_with_nested_list_tangents() -> None:
    module = example("mlp")
    params = [copy.deepcopy(module.W1_START), list(module.B1_START), list(module.W2_START), module.B2_START]
    tangents = [[[0.1, -0.2], [0.3, 0.05], [-0.4, 0.2]], [0.2, -0.1, 0.3], [0.5, -0.3, 0.1], 0.7]
    f = jvp(module.mlp_loss, wrt=("W1", "b1", "W2", "b2"))
    value, derivative = f((*params, module.DATA_X, module.DATA_Y), tangents)
    assert value == module.mlp_loss(*params, module.DATA_X, module.DATA_Y)
    assert derivative == pytest.approx(sympy_directional(_mlp, _flat(params), _flat(tangents)), rel=1e-10)
    gradient = grad(module.mlp_loss, wrt=("W1", "b1", "W2", "b2"))(*params, module.DATA_X, module.DATA_Y)
    assert derivative == pytest.approx(sum(g * t for g, t in zip(_flat(gradient), _flat(tangents))), rel=1e-12)


def test_jvp_through_a_helper_call_in_a_zip_loop() -> None:
    module = example("huber")
    point, tangent = (1.5, 0.5), (0.3, -0.8)
    fit = jvp(module.huber_fit, wrt=("a", "b"))
    value, derivative = fit((*point, module.XS, module.YS), tangent)
    assert value == module.huber_fit(*point, module.XS, module.YS)
    symbolic = sympy_gradient(_huber_fit, (2.0, 1.0))  # only the outlier on the linear piece there
    got = fit((2.0, 1.0, module.XS, module.YS), tangent)[1]
    assert got == pytest.approx(sum(g * t for g, t in zip(symbolic, tangent)), rel=1e-10)

    def loss(a: float, b: float) -> float:
        return module.huber_fit(a, b, module.XS, module.YS)

    assert derivative == pytest.approx(along(loss, point, tangent, 1e-7), rel=1e-6)


def loop_and_branch(x: float, y: float, n: int) -> float:
    total = 0.0
    for i in range(n):
        if total < 1.0:
            total += x * y + i
        else:
            total = total * math.sin(x) - y
    k = 0
    while k < 3:
        total = total / 2 + x
        k += 1
    return total


def list_in_list_out(xs: list[float], c: float) -> tuple[float, float]:
    squares = [v * v for v in xs]
    return sum(squares) * c, xs[0] / c


def test_jvp_through_for_while_and_if_in_one_function() -> None:
    point, tangent = (0.7, 0.4), (1.0, -0.5)

    def f(x: float, y: float) -> float:
        return loop_and_branch(x, y, 4)

    value, derivative = jvp(loop_and_branch, wrt=("x", "y"))((*point, 4), tangent)
    assert value == f(*point)
    assert derivative == pytest.approx(along(f, point, tangent, 1e-6), rel=1e-7)
    gx, gy = grad(loop_and_branch, wrt=("x", "y"))(*point, 4)
    assert derivative == pytest.approx(gx * tangent[0] + gy * tangent[1], rel=1e-12)


def test_jvp_of_a_list_parameter_and_tuple_output() -> None:
    xs, c = [0.5, -1.5, 2.0], 1.3
    (value, first), (d_value, d_first) = jvp(list_in_list_out)((xs, c), ([1.0, 0.0, 2.0], 0.5))
    assert (value, first) == list_in_list_out(xs, c)
    s0, s1, s2, k = symbols(4)
    exprs = ((s0**2 + s1**2 + s2**2) * k, s0 / k)
    at = {s0: xs[0], s1: xs[1], s2: xs[2], k: c}
    tangent = (1.0, 0.0, 2.0, 0.5)
    for got, expression in ((d_value, exprs[0]), (d_first, exprs[1])):
        expected = sum(float(sympy.diff(expression, s).evalf(subs=at)) * t for s, t in zip((s0, s1, s2, k), tangent))
        assert got == pytest.approx(expected, rel=1e-12)


# -- the generated code ---------------------------------------------------------


def test_generated_forward_code_is_readable_with_dot_names() -> None:
    rosenbrock = example("newton_rosenbrock").rosenbrock
    source = inspect.getsource(jvp(rosenbrock))
    assert source.startswith("def rosenbrock_jvp(primals, tangents):\n")
    assert "    x, y = primals\n    x_dot, y_dot = tangents\n" in source
    assert "# line " in source and "_bar" not in source and "_tape" not in source
    assert source.rstrip().splitlines()[-1].strip().startswith("return ")
    assert "_dot" in source.rstrip().splitlines()[-1]
    loops = inspect.getsource(jvp(example("logistic_regression").bce_loss, wrt=("w", "b")))
    assert "w_dot, b_dot = tangents" in loops and "w_dot[k]" in loops and "for k in range(" in loops


def test_jvp_refuses_list_outputs_and_unknown_wrt() -> None:
    def listed(x: float) -> list[float]:
        return [x, x]

    with pytest.raises(S2SError, match="outputs must be numbers"):
        jvp(listed)((1.0,), (1.0,))
    with pytest.raises(S2SError, match="no parameter 'q'"):
        jvp(loop_and_branch, wrt="q")


# -- random straight-line programs ----------------------------------------------

from test_properties import FORMS as _ALL_FORMS  # noqa: E402
from test_properties import expressions as _expressions  # noqa: E402

# SymPy reads every form but % and // (whose derivatives SymPy leaves unevaluated).
FORMS = {op: forms for op, forms in _ALL_FORMS.items() if op not in ("mod", "floordiv")}
CONSTANTS = [0.5, 2.0, 3.0, 1.5, 0.25, 1, 2, 3, "math.pi", "math.e"]
# The profiles of tests/test_properties.py: `S2S_AD_HYPOTHESIS_PROFILE=thorough` runs 5,000 random programs.
# The thorough run can meet points where the program's own floating point is ill-conditioned for second
# derivatives (math.pow(1 + x**2, x**-1) near 0: 1 + x**2 is rounded before the log), where the generated
# derivatives agree with each other but not with SymPy's exact arithmetic to 1e-7.
_PROFILES = {"default": {"max_examples": 100, "derandomize": True}, "thorough": {"max_examples": 5000, "derandomize": False}}
SETTINGS = settings(
    deadline=None,
    database=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
    **_PROFILES[os.environ.get("S2S_AD_HYPOTHESIS_PROFILE", "default")],
)


def expressions(names: tuple[str, ...], depth: int) -> st.SearchStrategy[str]:
    """The random-program grammar of test_properties, without the piecewise-constant // and %."""
    return _expressions(names, depth, FORMS, CONSTANTS)


@st.composite
def programs(draw: st.DrawFn, depth: int = 3) -> tuple[str, tuple[str, ...]]:
    """A straight-line function `f` of one to three parameters, as module source."""
    params = draw(st.sampled_from([("x",), ("x", "y"), ("x", "y", "z")]))
    names = list(params)
    lines = [f"def f({', '.join(params)}):"]
    for _ in range(draw(st.integers(0, 3))):
        target = draw(st.sampled_from([*names, "t", "u"]))
        lines.append(f"    {target} = {draw(expressions(tuple(names), depth))}")
        if target not in names:
            names.append(target)
    lines.append(f"    return {draw(expressions(tuple(names), depth))}")
    return "\n".join(["import math", "", "", *lines, ""]), params


def load_program(source: str, directory: Path) -> Callable[..., float]:
    """Write the program as a module (so its source can be read back) and import it."""
    return import_source(source, directory, "s2s_fwd_").f  # type: ignore[no-any-return]


class _SympyMath:
    """`math` spelled with SymPy: the same program text builds the SymPy expression."""

    pi, e = sympy.pi, sympy.E
    sin, cos, tan, asin, acos, atan = sympy.sin, sympy.cos, sympy.tan, sympy.asin, sympy.acos, sympy.atan
    sinh, cosh, tanh, asinh, acosh, atanh = sympy.sinh, sympy.cosh, sympy.tanh, sympy.asinh, sympy.acosh, sympy.atanh
    exp, sqrt, erf, erfc, fabs, atan2 = sympy.exp, sympy.sqrt, sympy.erf, sympy.erfc, sympy.Abs, sympy.atan2

    @staticmethod
    def log(x: Any, base: Any = None) -> Any:
        return sympy.log(x) if base is None else sympy.log(x) / sympy.log(base)

    expm1 = staticmethod(lambda x: sympy.exp(x) - 1)
    log1p = staticmethod(lambda x: sympy.log(1 + x))
    log2 = staticmethod(lambda x: sympy.log(x) / sympy.log(2))
    log10 = staticmethod(lambda x: sympy.log(x) / sympy.log(10))
    degrees = staticmethod(lambda x: x * 180 / sympy.pi)
    radians = staticmethod(lambda x: x * sympy.pi / 180)
    hypot = staticmethod(lambda x, y: sympy.sqrt(x**2 + y**2))
    pow = staticmethod(lambda x, y: x**y)
    copysign = staticmethod(lambda x, y: sympy.Abs(x) * sympy.sign(y))
    cbrt = staticmethod(lambda x: sympy.sign(x) * sympy.Abs(x) ** sympy.Rational(1, 3))
    exp2 = staticmethod(lambda x: 2**x)
    ldexp = staticmethod(lambda x, i: x * 2**i)
    gamma = staticmethod(sympy.gamma)
    lgamma = staticmethod(lambda x: sympy.log(sympy.Abs(sympy.gamma(x))))  # log|gamma(x)|, for x < 0 too


def sympy_formula(source: str) -> Callable[..., Any]:
    """The program's `f`, run on SymPy symbols: its own text, read with SymPy's functions."""
    namespace: dict[str, Any] = {
        "math": _SympyMath,
        "abs": sympy.Abs,
        "max": sympy.Max,
        "min": sympy.Min,
        "pow": lambda x, y: x**y,
        "float": lambda x: x,
    }
    exec(compile(source.replace("import math\n", ""), "<sympy program>", "exec"), namespace)  # noqa: S102
    return namespace["f"]


def random_point(values: Sequence[float]) -> list[float]:
    """Three decimals, moved off the round numbers where `abs`, `max`, ... of a program have their kinks.

    At a kink the generated code follows the usual AD convention (d|u|/du = 0 at u = 0), which is not
    the derivative of a function that is smooth there (|log1p(x**2)|) nor its finite difference.
    """
    return [round(v, 3) + 1e-4 * math.sqrt(2.0 + i) for i, v in enumerate(values)]


def _finite(*values: object) -> bool:
    return all(isinstance(v, (int, float)) and math.isfinite(v) for v in values)


def smooth_point(f: Callable[..., float], point: list[float], order: int = 1) -> bool:
    """Whether `f` is finite and smooth at `point` (finite differences of two steps agree)."""
    try:
        if not _finite(f(*point)):
            return False
        for i in range(len(point)):
            unit = [1.0 if k == i else 0.0 for k in range(len(point))]
            coarse, fine = along(f, point, unit, 1e-3), along(f, point, unit, 1e-4)
            if not _finite(coarse, fine) or abs(coarse - fine) > 1e-3 * max(1.0, abs(fine)):
                return False
            h = 1e-6  # one-sided differences disagree at a kink (max(x, abs(x)) at 0)
            ahead = (f(*[p + h * u for p, u in zip(point, unit)]) - f(*point)) / h
            behind = (f(*point) - f(*[p - h * u for p, u in zip(point, unit)])) / h
            if not _finite(ahead, behind) or abs(ahead - behind) > 1e-3 * max(1.0, abs(fine)):
                return False
    except (ArithmeticError, ValueError):
        return False
    return True


def evaluate(expression: Any, at: dict[Any, float]) -> float | None:
    """A SymPy expression's value at a point, or None where SymPy cannot give a real number."""
    try:
        value = complex(expression.evalf(30, subs=at))
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    if value.imag != 0 or not math.isfinite(value.real):
        return None
    return value.real


@pytest.fixture(scope="module")
def directory(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("forward_programs")


@SETTINGS
@given(
    program=programs(),
    point=st.lists(st.floats(-2.0, 2.0), min_size=3, max_size=3),
    tangent=st.lists(st.sampled_from([-1.5, -1.0, -0.5, 0.5, 1.0, 2.0]), min_size=3, max_size=3),
)
def test_random_programs_jvp_matches_sympy_and_finite_differences(
    directory: Path, program: tuple[str, tuple[str, ...]], point: list[float], tangent: list[float]
) -> None:
    source, params = program
    note(source)
    f = load_program(source, directory)
    point = random_point(point[: len(params)])
    tangent = tangent[: len(params)]
    assume(smooth_point(f, point))
    assume(abs(f(*point)) < 1e8)  # finite differences lose every digit on |x - 1e20|
    try:
        value, derivative = jvp(f)(tuple(point), tuple(tangent))
    except (ArithmeticError, ValueError):
        assume(False)
    assert value == f(*point)
    xs = symbols(len(params))
    expression = sympy_formula(source)(*xs)
    at = dict(zip(xs, point))
    partials = [evaluate(sympy.diff(expression, x), at) for x in xs]
    assume(all(p is not None for p in partials))
    expected = sum(p * t for p, t in zip(partials, tangent))  # type: ignore[operator]
    scale = max(1.0, *(abs(p * t) for p, t in zip(partials, tangent)))  # type: ignore[operator]
    assert _finite(derivative)
    assert abs(derivative - expected) <= 1e-8 * scale, (derivative, expected)
    assert abs(derivative - along(f, point, tangent, 1e-5)) <= 1e-4 * scale
    gradient = grad(f)(*point)
    gradient = gradient if isinstance(gradient, tuple) else (gradient,)
    assert abs(derivative - sum(g * t for g, t in zip(gradient, tangent))) <= 1e-10 * scale


def two_parameters(x: float, y: float) -> float:
    return 2.0 * x + 3.0 * y * y


def test_jvp_tangents_follow_the_order_of_wrt() -> None:
    assert grad(two_parameters, wrt=("y", "x"))(1.0, 1.0) == (6.0, 2.0)
    assert jvp(two_parameters, wrt=("y", "x"))((1.0, 1.0), (1.0, 0.0)) == (5.0, 6.0)
