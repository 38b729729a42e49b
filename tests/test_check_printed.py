"""The check compares the code users run: the printed gradient, run in high precision.

- every rule's Python spelling (what generated code says) computes its SymPy
  spelling (what the check's truth says), at random points in its domain;
- a wrong Python spelling, a printing slip (parentheses, a name, a sign, a
  constant) or a statement the printer got wrong makes the check fail, naming
  the parameter, although the gradient IR read through the SymPy spellings is
  right;
- what the read-back code must do like Python (int division, `//`, `%`,
  `round`, `math.floor`, `float`, domain errors, module data, custom
  derivatives) it does, exactly.
"""

from __future__ import annotations

import dataclasses
import importlib
import math
import random
import time
from pathlib import Path
from typing import Any

import mpmath
import pytest
import sympy

from s2s_ad import api, codegen, frontend
from s2s_ad.check import check_built, data_of
from s2s_ad.check.constants import Constants
from s2s_ad.check.domains import Numeric
from s2s_ad.check.printed import HighPrecisionMath, PrintedCode
from s2s_ad.interpret import Rejected
from s2s_ad.rules import RULES

check = importlib.import_module("s2s_ad.check").check

# Helpers whose SymPy spelling holds only on part of the numbers where it is real (their Python spelling
# says 0 elsewhere, where the derivative they stand for does not exist, so the check never reads them there).
DOMAINS = {
    "div_pos": lambda x, y: y > 0,  # x / y where y > 0
    "polygamma": lambda n, x: n >= 1,  # psi_n(x) of an order n >= 1 (n = 0 is `digamma`)
}


def _python_high(spelling: str, args: list[Any]) -> Any:
    """The spelling as generated code would run it, read back by the check at the working precision."""
    names = [f"a{i}" for i in range(len(args))]
    source = f"def f({', '.join(names)}):\n    return {spelling.format(*names)}"
    generated = codegen.Generated("f", source, ("import math",), ())
    return PrintedCode(generated, {}, RULES, Constants()).run(args, time.monotonic() + 10)


def _sympy_value(op: str, args: list[Any]) -> Any:
    """The rule's SymPy spelling at the arguments, to 60 digits; None outside its domain: where
    its parts are not all finite and real (evaluated one by one, as the check's interpreter does: SymPy
    itself would cancel `log(-1.1) / log(-1.1)` to 1)."""
    try:
        parts = Numeric(Constants()).apply(op, RULES[op], [a if isinstance(a, bool) else mpmath.mpf(a) for a in args])
    except Rejected:
        return None
    if not isinstance(parts, bool) and not (isinstance(parts, mpmath.mpf) and mpmath.isfinite(parts)):
        return None
    exact = [a if isinstance(a, bool) else sympy.Float(a, 60) for a in args]  # the floats, exactly
    value = RULES[op].sympy(sympy, *exact)  # type: ignore[misc]
    if isinstance(value, sympy.logic.boolalg.BooleanAtom) or isinstance(value, bool):
        return bool(value)
    number = sympy.N(value, 60)
    if not number.is_real or not number.is_finite:
        return None
    return mpmath.mpf(sympy.Float(number, 60)._mpf_)


def _arguments(op: str, rng: random.Random) -> list[Any]:
    arity = RULES[op].arity
    if RULES[op].logical:
        return [rng.random() < 0.5 for _ in range(arity)]
    first = round(rng.uniform(-3, 3), rng.choice((1, 3, 6)))
    values = [first] + [round(rng.uniform(-3, 3), rng.choice((1, 3, 6))) for _ in range(arity - 1)]
    if arity > 1 and rng.random() < 0.25:
        values[1] = values[0]  # ties: max, min, step, gate and the comparisons decide them as SymPy does
    if rng.random() < 0.1:
        values[0] = 0.0
    for i in RULES[op].whole:  # operands the primitive takes as whole numbers only
        values[i] = rng.randint(-4, 4)
    return values


SPELLED = sorted(
    op
    for op, rule in RULES.items()
    if not rule.structural and rule.sympy is not None and not rule.python.startswith("numpy.") and not op.startswith("numpy.")
)
# NumPy's elementwise rules, each with the scalar rule it is made from (whose domain it has), if any.
NUMPY_SPELLED = {
    op: next((scalar for scalar, r in RULES.items() if r.on_arrays == op), op)
    for op, rule in RULES.items()
    if not rule.structural
    and rule.sympy is not None
    and (rule.python.startswith("numpy.") or op.startswith("numpy."))
    and rule.arity < 3
}


@pytest.mark.parametrize("op", sorted(NUMPY_SPELLED))
def test_every_numpy_spelling_computes_its_sympy_spelling(op: str) -> None:
    """The NumPy spellings, on arrays of the sample points, against SymPy (to float precision)."""
    numpy = pytest.importorskip("numpy")
    scalar = NUMPY_SPELLED[op]
    rng = random.Random(op)
    points = []
    for _ in range(400):
        args = [a + 0.0 if isinstance(a, float) else a for a in _arguments(scalar, rng)]  # no -0.0: SymPy has none
        if scalar in DOMAINS and not DOMAINS[scalar](*args):
            continue
        if scalar == "copysign" and args[1] == 0:
            continue  # the sign of a zero, which SymPy's sign(0) = 0 does not have
        with mpmath.workdps(50):
            truth = _sympy_value(op, args)
        if truth is not None:
            points.append((args, truth))
    assert len(points) >= 10, f"{op}: only {len(points)} points inside its domain"
    columns = [numpy.array([args[i] for args, _ in points]) for i in range(RULES[op].arity)]
    spelled = RULES[op].python.format(*(f"_{i}" for i in range(len(columns))))
    namespace: dict[str, Any] = {"numpy": numpy}
    if RULES[op].helper is not None:  # a function the generated module defines (`_expit`)
        exec(RULES[op].helper, namespace)  # noqa: S102 - the rule table's own source
    with numpy.errstate(all="ignore"):  # a helper's unchosen branch may divide by zero (it is not picked)
        values = eval(spelled, namespace, {f"_{i}": c for i, c in enumerate(columns)})  # noqa: S307
    for (args, truth), value in zip(points, numpy.broadcast_to(values, (len(points),))):
        if isinstance(truth, bool):
            assert bool(value) == truth, (op, args)
        else:
            assert abs(float(value) - float(truth)) <= 1e-9 * max(1, abs(float(truth))), (op, args, value, truth)


@pytest.mark.parametrize("op", SPELLED)
def test_every_python_spelling_computes_its_sympy_spelling(op: str) -> None:
    rng = random.Random(op)
    compared = 0
    for _ in range(400):
        if compared >= 25:
            break
        args = _arguments(op, rng)
        if op in DOMAINS and not DOMAINS[op](*args):
            continue
        with mpmath.workdps(50):
            truth = _sympy_value(op, args)
            if truth is None:
                continue  # outside the domain: SymPy's value is complex or infinite there
            numbers = [a if isinstance(a, bool) else mpmath.mpf(a) for a in args]
            try:
                ours = _python_high(RULES[op].python, numbers)
            except (ValueError, ZeroDivisionError, OverflowError):
                pytest.fail(f"{op}{tuple(args)}: the Python spelling raises where SymPy's is {truth}")
            floats = RULES[op].evaluate(*args)  # the same spelling with floats and the math module
        if isinstance(truth, bool):
            assert bool(ours) == truth and bool(floats) == truth, (op, args)
        else:
            assert abs(ours - truth) <= 1e-40 * max(1, abs(truth)), (op, args, ours, truth)
            assert abs(floats - truth) <= 1e-9 * max(1, abs(truth)), (op, args, floats, truth)
        compared += 1
    assert compared >= 10, f"{op}: only {compared} points inside its domain"


def test_high_precision_math_raises_where_math_does() -> None:
    high = HighPrecisionMath()
    with mpmath.workdps(50):
        for name, args in (("log", (0,)), ("log", (-1,)), ("sqrt", (-1,)), ("acos", (2,)), ("pow", (-8, 1 / 3))):
            with pytest.raises(ValueError):
                getattr(math, name)(*args)
            with pytest.raises(ValueError):
                getattr(high, name)(*(mpmath.mpf(a) for a in args))
        assert isinstance(high.floor(mpmath.mpf("2.5")), int) and high.floor(mpmath.mpf("-2.5")) == -3
        assert high.pi == +mpmath.pi and high.log(mpmath.mpf(8), 2) == 3
        with pytest.raises(AttributeError, match="no high-precision math.frexp"):
            _ = high.frexp


# -- a wrong Python spelling, a printing slip: the check fails, naming the parameter -----------------


def _module(tmp_path: Path, source: str) -> Any:
    """Functions need a source file: write one and import it."""
    name = f"printed_{abs(hash(source))}"
    (tmp_path / f"{name}.py").write_text("import math\n\n" + source)
    spec = importlib.util.spec_from_file_location(name, tmp_path / f"{name}.py")
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


NEURON = "def neuron(w, x, b):\n    return math.tanh(w * x + b) * w\n"
POLY = "def poly(x, y):\n    return (x - y) * (x + 2.0 * y) ** 2 + math.sin(x * y)\n"
MEAN = "def mean_square(xs):\n    total = 0.0\n    for v in xs:\n        total += (v - 1.5) ** 2\n    return total / len(xs)\n"


def test_a_wrong_python_spelling_fails_naming_the_parameters(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    f = _module(tmp_path, NEURON).neuron
    assert check(f).ok
    wrong = "(math.exp({0}) - math.exp(-{0})) / (math.exp({0}) + math.exp({0}))"  # a slip of the last sign
    monkeypatch.setitem(RULES, "tanh", dataclasses.replace(RULES["tanh"], python=wrong))
    report = check(f)
    assert report.verdict == "fail", str(report)
    assert {e.parameter for e in report.entries if e.verdict == "fail"} == {"w", "x", "b"}
    text = str(report)
    assert "d/dw" in text and "FAIL" in text and "the generated code" in text
    assert "the printed code is not" in text  # SymPy proves the gradient IR right: the fault is in the printing


def test_a_wrong_spelling_of_a_primitive_only_the_gradient_uses_fails(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    f = _module(tmp_path, "def kink(x, y):\n    return max(x, y) * y\n").kink
    assert check(f).ok
    gate = RULES["gate"]  # g if x > y else ...: the gradient max passes back, printed as a choice
    monkeypatch.setitem(RULES, "gate", dataclasses.replace(gate, python=gate.python.replace("{2} if", "-{2} if", 1)))
    assert "-" in RULES["gate"].python
    report = check(f)
    assert report.verdict == "fail", str(report)


def _corrupted(f: Any, old: str, new: str) -> tuple[api.Built, codegen.Generated]:
    """The built gradient of `f`, and its printed code with one statement changed."""
    built = api.build(frontend.from_function(f), None)
    generated = built.generated
    assert old in generated.function, generated.function
    return built, dataclasses.replace(generated, function=generated.function.replace(old, new, 1))


def _check_printed(f: Any, built: api.Built, generated: codegen.Generated) -> Any:
    parsed = frontend.from_function(f)
    data = data_of(parsed, built.primal, built.derived)
    return check_built(built.primal, built.derived, built.wrt, data, built.rules, generated=generated)


@pytest.mark.parametrize(
    "source, old, new, failing",
    [
        (NEURON, "w * (1.0 - _t3 * _t3)", "w * 1.0 - _t3 * _t3", {"w", "x", "b"}),  # parentheses lost
        (POLY, "y_bar -= _t4", "y_bar += _t4", {"y"}),  # a sign
        (POLY, "x_bar = _t6_bar * y", "x_bar = _t6_bar * x", {"x"}),  # a name folded wrongly
        (POLY, "y_bar += _t3_bar * 2.0", "y_bar += _t3_bar * 2.001", {"y"}),  # a constant
        (MEAN, "total_bar * (2.0 * _t3)", "total_bar * 2.0 * _t3 + 1.0", {"xs[0]", "xs[1]", "xs[2]"}),  # in a loop
        (MEAN, "total_bar = 1 / _t1", "total_bar = 1 / (_t1 + 1)", {"xs[0]", "xs[1]", "xs[2]"}),
    ],
    ids=["parentheses", "sign", "name", "constant", "loop", "division"],
)
def test_a_corrupted_printed_statement_fails(tmp_path: Path, source: str, old: str, new: str, failing: set[str]) -> None:
    f = next(v for k, v in vars(_module(tmp_path, source)).items() if callable(v) and not k.startswith("_") and k != "math")
    built, generated = _corrupted(f, old, new)
    assert _check_printed(f, built, built.generated).ok  # as printed, it passes
    report = _check_printed(f, built, generated)
    assert report.verdict == "fail", str(report)
    assert {e.parameter for e in report.entries if e.verdict == "fail"} == failing, str(report)
    for entry in report.entries:
        if entry.verdict == "fail":
            assert "the generated code" in entry.note


def test_printed_code_that_raises_fails(tmp_path: Path) -> None:
    f = _module(tmp_path, POLY).poly
    built, generated = _corrupted(f, "x_bar = _t6_bar * y", "x_bar = _t6_bar * y / (x - x)")
    report = _check_printed(f, built, generated)
    assert report.verdict == "fail", str(report)
    assert "raises ZeroDivisionError" in report.entry("x").note


# -- what the read-back code does like Python ------------------------------------------------------------

PYTHONIC = """
SCALE = 0.1
TABLE = [0.5, 1.25, 3]

def pythonic(x, y, n):
    k = len(TABLE)
    a = x // 0.7 + x % 0.3 + round(y) + math.floor(x) + float(k) + int(y)
    b = SCALE * x * TABLE[0] + TABLE[2] * y / 3 + k / 7
    c = math.log(x * x + 1, 3) + math.degrees(y) + abs(x) ** 1.5 + 2 ** -k
    s = 0.0
    for i in range(n):
        s += math.atan2(x, y + i) / (i + 1)
    return a * b + c + s + max(x, y) - min(x, y * y)
"""


def test_python_semantics_are_kept_exactly(tmp_path: Path) -> None:
    """Int division, `//`, `%`, `round`, `floor`, `float`, module data: the printed code agrees at 1e-30."""
    report = check(_module(tmp_path, PYTHONIC).pythonic)
    assert report.ok, str(report)
    assert not any("float constants" in note for note in report.notes)  # 0.1 and 1/3 are read exactly
    for entry in report.entries[:2]:
        assert entry.max_difference is not None and entry.max_difference < 1e-30


CUSTOM = """
from s2s_ad import custom_derivative

@custom_derivative
def softplus(x):
    return math.log1p(math.exp(x))

@softplus.defderiv
def softplus_derivative(x):
    return 1.0 / (1.0 + math.exp(-x)) * 0.1 * 10

def uses(w, b):
    return softplus(w * 0.3 + b) * w
"""


def test_custom_derivatives_are_read_back_too(tmp_path: Path) -> None:
    module = _module(tmp_path, CUSTOM)
    report = check(module.uses)
    assert report.ok, str(report)
    assert not any("floating point" in note for note in report.notes)  # run in high precision, not floats
    wrong = _module(tmp_path, CUSTOM.replace("* 0.1 * 10", "* 0.1 * 10.001"))
    assert check(wrong.uses).verdict == "fail"


def test_value_and_gradient_code_is_checked_as_printed(tmp_path: Path) -> None:
    """`value_and_grad`'s code returns (value, gradient): `with_value` compares its gradient part."""
    f = _module(tmp_path, POLY).poly
    parsed = frontend.from_function(f)
    built = api.build(parsed, None, with_value=True)
    data = data_of(parsed, built.primal, built.derived)
    options = dict(generated=built.generated, with_value=True)
    assert check_built(built.primal, built.derived, built.wrt, data, built.rules, **options).ok  # type: ignore[arg-type]
    wrong = dataclasses.replace(built.generated, function=built.generated.function.replace("y_bar -= ", "y_bar += ", 1))
    options["generated"] = wrong
    report = check_built(built.primal, built.derived, built.wrt, data, built.rules, **options)  # type: ignore[arg-type]
    assert report.verdict == "fail" and report.entry("y").verdict == "fail" and report.entry("x").ok, str(report)
