"""The SymPy cross-check: is the generated gradient the derivative SymPy computes?

For each parameter the check builds two expressions and compares them:

- SymPy's: the primal IR (what the lowering made of the user's function) is
  interpreted statement by statement with the rule table's SymPy spellings,
  and `sympy.diff` differentiates the resulting expression;
- ours: the optimized gradient IR (the IR code generation prints one to one)
  is interpreted the same way, giving the expression the generated code
  computes.

Both come from ONE small IR interpreter parameterised by a value domain:
SymPy expressions (exact, symbolic) or mpmath numbers at 50 digits (numeric).
An `If` whose condition depends on the parameters becomes a `Piecewise`;
loops whose trip count is a known integer are unrolled, up to a limit on the
number of statements evaluated. Past that limit, or when a loop's trip count
or condition depends on the parameters, the check follows the path each
sample point takes: the conditions are decided by that point's numbers.

The comparison goes from the strongest method to the weakest, within a time
budget per parameter. First SymPy tries to prove the difference zero (the
structural test, `expand`, `cancel`, the pieces of a `Piecewise` one by one,
then `simplify` and `equals`); all but the structural test run in a forked
child process that is killed when its share of the budget is spent, because
`simplify` can run for minutes (a fork needs no signal and no main thread).
If that is inconclusive, both derivatives are evaluated at random points
inside the function's domain (the primal and both derivatives finite and
real there) with mpmath at 50 and at 70 digits, and compared with a
relative tolerance of 1e-30 plus ten times the rounding error (how much the
two precisions differ), so that a derivative of 1e-80 is compared as
strictly as one of 1 and a zero computed with rounding passes (the only
absolute floor is 1e-300, below which floating point has no numbers); a mismatch
is evaluated once more at 200 digits before it counts (`expm1(x) + 1` loses
everything to cancellation at x = -170 even at 70 digits). A mismatch at any point is a failure (one point is tried before
the proof, so that a wrong gradient does not wait for `simplify`); a check
that runs out of time or finds no usable points says "undecided", never
"pass".

When the function has no single expression (the path depends on the
parameters, or unrolling passes the limit), SymPy's derivative is taken
along the path of each sample point and compared with the gradient IR
evaluated at that point; past the limit even along one path, SymPy's side
is mpmath's high-precision numerical derivative (`mpmath.diff`) of the
primal, with a tolerance of 1e-20.

Float constants are named exactly where they can be (`57.29577951308232` is
`180/pi`), so that a formula the rule table writes with `math.pi` compares
exactly; where the gradient holds a float the check cannot name (folded
in floating point), the tolerance is 1e-12 plus ten times how much the
generated derivative moves when those floats move by 2**-50 (cancellation
can magnify their rounding), and the report says so.

Conventions at non-differentiable points follow the rule table: SymPy's
derivative is taken almost everywhere (`DiracDelta` and the derivatives of
`floor`/`ceiling` are zero), and sample points are random, so they avoid
kinks and ties; a sample that lands on one is rejected and counted.

SymPy and mpmath are imported inside the functions that use them, so
`import s2s_ad` does not import SymPy.
"""

from __future__ import annotations

import itertools
import math
import multiprocessing
import random
import sys
import time
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from . import frontend, ir
from .errors import S2SError, UnsupportedError
from .rules import RULES, Rule

Verdict = str  # "pass", "fail" or "undecided"

DIGITS = 50  # working precision of the numeric comparison, in decimal digits
RTOL = 1e-30  # relative tolerance of the numeric comparison
EXTRA_DIGITS = 20  # each point is evaluated again at DIGITS + EXTRA_DIGITS: the change measures rounding
SMALLEST = 1e-300  # below this, a number is zero to floating point (erfc(22026.0) == 0.0): the only absolute floor
CONFIRM_DIGITS = 200  # a mismatch is evaluated once more at this precision (cancellation below 70 digits)
ROUNDED_RTOL = 1e-12  # when the gradient holds float constants the check cannot name exactly
DIFF_RTOL = 1e-20  # when SymPy's side is a high-precision numeric derivative (mpmath.diff)
STATEMENT_LIMIT = 2_000  # statements one symbolic interpretation may evaluate before following paths
WHILE_LIMIT = 2_000  # iterations of one while loop at a sample point (it may never end there)
SYMBOLIC_SHARE = 0.5  # at most this part of a parameter's budget goes to the symbolic proof
DEFAULT_LENGTH = 3  # elements of each list parameter (at each level), unless `lengths=` says otherwise


# -- the report ----------------------------------------------------------------


@dataclass(frozen=True)
class Entry:
    """The verdict for one parameter (or one element of a list parameter, `xs[1]`).

    `sympy` and `ours` are SymPy's derivative and the generated one as SymPy
    expressions, or None when the derivative depends on the path through the
    code (then only sample points compare). `points` are the sample points
    used, one value per coordinate of the function (`Report.coordinates`);
    `max_difference` is the largest difference seen at those points,
    relative to the derivatives' size where that is above 1
    (`|a - b| / max(1, |a|, |b|)`), None if no point was evaluated.
    """

    parameter: str
    sympy: Any
    ours: Any
    method: str
    verdict: Verdict
    points: tuple[tuple[float, ...], ...] = ()
    max_difference: float | None = None
    seconds: float = 0.0
    note: str = ""

    @property
    def ok(self) -> bool:
        return self.verdict == "pass"


@dataclass(frozen=True)
class Report:
    """The result of a check: one `Entry` per parameter differentiated.

    `ok` is True only if every parameter passed. `str(report)` prints each
    derivative as SymPy computes it beside the one the generated code computes;
    `report.latex()` gives the same as LaTeX.
    """

    function: str
    params: tuple[str, ...]
    expression: Any  # the function as a SymPy expression, or None if it depends on the path
    entries: tuple[Entry, ...]
    notes: tuple[str, ...] = ()
    coordinates: tuple[str, ...] = ()  # what each value of a sample point is: `x`, or `xs[0]` of a list

    @property
    def ok(self) -> bool:
        return bool(self.entries) and all(entry.ok for entry in self.entries)

    @property
    def verdict(self) -> Verdict:
        verdicts = {entry.verdict for entry in self.entries}
        if "fail" in verdicts:
            return "fail"
        return "pass" if verdicts == {"pass"} else "undecided"

    def entry(self, parameter: str) -> Entry:
        for entry in self.entries:
            if entry.parameter == parameter:
                return entry
        raise KeyError(parameter)

    def __str__(self) -> str:
        head = f"check of {self.function}({', '.join(self.params)})"
        lines = [f"{head} = {_show(self.expression)}" if self.expression is not None else head]
        width = max((len(e.parameter) for e in self.entries), default=1) + 4
        for entry in self.entries:
            label = f"d/d{entry.parameter}".ljust(width)
            pad = " " * width
            if entry.sympy is not None or entry.ours is not None:
                lines.append(f"  {label}SymPy: {_show(entry.sympy)}")
                lines.append(f"  {pad}ours:  {_show(entry.ours)}")
            else:
                lines.append(f"  {label}(depends on the path through the code: compared at sample points)")
            lines.append(f"  {pad}{entry.verdict.upper()}: {_describe(entry)}")
            if entry.note:
                lines.append(f"  {pad}note: {entry.note}")
        for note in self.notes:
            lines.append(f"  note: {note}")
        summary = {
            "pass": "every derivative agrees with SymPy's",
            "fail": "a generated derivative DISAGREES with SymPy's",
            "undecided": "the check could not decide every derivative",
        }[self.verdict]
        lines.append(f"  => {summary}")
        return "\n".join(lines)

    def latex(self) -> str:
        """The derivatives as a LaTeX `aligned` block: SymPy's on one line, ours on the next."""
        from sympy import latex

        rows = []
        for entry in self.entries:
            lhs = rf"\frac{{\partial {self.function_latex()}}}{{\partial {latex(_symbol(entry.parameter))}}}"
            verdict = rf"\text{{{entry.verdict} ({_latex_text(entry.method)})}}"
            if entry.sympy is not None or entry.ours is not None:
                rows.append(rf"{lhs} &= {_latex(entry.sympy)} && \text{{SymPy}} \\")
                rows.append(rf"&= {_latex(entry.ours)} && \text{{generated}}\ {verdict} \\")
            else:
                rows.append(rf"{lhs} &: \text{{path dependent}} && {verdict} \\")
        return "\\begin{aligned}\n" + "\n".join(rows) + "\n\\end{aligned}"

    def function_latex(self) -> str:
        return r"\operatorname{" + _latex_text(self.function) + "}"


def _show(expression: Any) -> str:
    from sympy import sstr

    return "(none)" if expression is None else _printed(sstr, expression, "(an expression too large to print)")


def _latex(expression: Any) -> str:
    from sympy import latex

    return r"\text{(none)}" if expression is None else _printed(latex, expression, r"\text{(too large to print)}")


def _printed(printer: Callable[[Any], str], expression: Any, instead: str) -> str:
    """Printed, or with its numbers to 15 digits if an exact one has too many (Python refuses to
    print integers of more than 4300 digits)."""
    try:
        return printer(expression)
    except ValueError:
        try:
            return printer(expression.evalf(15))
        except (ValueError, AttributeError):
            return instead


def _latex_text(text: str) -> str:
    return text.replace("\\", r"\textbackslash{}").replace("_", r"\_").replace("%", r"\%").replace("&", r"\&")


def _describe(entry: Entry) -> str:
    parts = [entry.method]
    if entry.points:
        parts.append(f"{len(entry.points)} point(s)")
    if entry.max_difference is not None:
        parts.append(f"max difference {entry.max_difference:.3g}")
    parts.append(f"{entry.seconds:.2f} s")
    return ", ".join(parts)


# -- entry points ----------------------------------------------------------------


def check(
    f: Callable[..., Any],
    wrt: Any = None,
    *,
    budget: float = 3.0,
    points: int = 6,
    seed: int = 0,
    rules: Mapping[str, Rule] = RULES,
    symbolic: bool = True,
    lengths: Mapping[str, int] | None = None,
) -> Report:
    """Cross-check the gradient s2s_ad generates for `f` against SymPy's derivative.

    `wrt` is as for `grad` (None means every parameter). `budget` is the time
    allowed per parameter, in seconds; `points` the number of sample points the
    numeric comparison needs; `seed` makes the points reproducible. `rules` is
    the rule table to build the gradient with (tests inject wrong rules to see
    the check fail); the expressions are always read with the same table.
    `symbolic=False` skips the symbolic proof and compares at points only
    (fast, for property tests that check thousands of functions). A list
    parameter gets one symbol per element; `lengths` gives its length
    (default 3, at every level of a list of lists).
    """
    from . import api  # api may come to import this module

    parsed = frontend.from_function(f)
    built = api.build(parsed, wrt, with_value=False, rules=rules)
    primal, derived, names = built.primal, built.derived, built.wrt
    rules = built.rules  # with the entries of custom derivatives
    return check_built(
        primal,
        derived,
        names,
        data_of(parsed, primal, derived),
        rules,
        budget=budget,
        points=points,
        seed=seed,
        symbolic=symbolic,
        lengths=lengths,
    )


def data_of(parsed: frontend.ParsedFunction, *functions: ir.Function) -> dict[str, object]:
    """The values of the module-level data (`ir.Global`) the functions read."""
    data: dict[str, object] = {}
    for function in functions:
        for stmt in ir.walk(function.body):
            for operand in ir.operands(stmt):
                if isinstance(operand, ir.Global) and operand.name not in data:
                    found = parsed.resolve(operand.name)
                    if isinstance(found, frontend.Data) and found.value is not None:
                        data[operand.name] = found.value
    return data


def check_built(
    primal: ir.Function,
    derived: ir.Function,
    wrt: tuple[str, ...],
    data: Mapping[str, object],
    rules: Mapping[str, Rule] = RULES,
    *,
    budget: float = 3.0,
    points: int = 6,
    seed: int = 0,
    symbolic: bool = True,
    lengths: Mapping[str, int] | None = None,
) -> Report:
    """Cross-check a gradient IR (`derived`) against SymPy's derivative of `primal`.

    `derived` returns one gradient operand per name of `wrt` (a tuple, or the
    operand itself for a single name). `data` gives the values of the
    `ir.Global` names. Raises `UnsupportedError` for IR the check cannot read.
    """
    return _Checker(primal, derived, tuple(wrt), data, rules, budget, points, seed, symbolic, lengths).run()


# -- value domains -------------------------------------------------------------

# Signals inside the check; none of them escapes it.


class _FollowPaths(Exception):
    """The function has no single expression: follow the path of each sample point instead."""


class _Rejected(Exception):
    """A sample point outside the domain, or on a tie or kink."""

    def __init__(self, reason: str, tie: bool = False) -> None:
        super().__init__(reason)
        self.tie = tie


class _NeverEnds(_Rejected):
    """A `while` loop that does not end at this point (within the interpreter's bound)."""


class _OutOfTime(Exception):
    """The budget ran out."""


_LOGICAL = frozenset({"and", "or", "not"})


class _Constants:
    """IR constants as exact SymPy numbers and as mpmath numbers, the same for both sides.

    A float constant is named exactly when it is a small rational or a small
    rational multiple of a common constant (pi, e, log 2, sqrt(pi), ...) to
    within two units in the last place (Python computes `1/math.log(10)` with
    two roundings): `57.29577951308232` is `180/pi`. Generated code computes such
    constants in floating point; the check compares the formulas. A float it
    cannot name is taken as the decimal it prints as, and remembered.
    """

    def __init__(self) -> None:
        self._exact: dict[float, tuple[Fraction, str]] = {}
        self.unnamed: set[float] = set()
        self.perturbed: frozenset[float] = frozenset()  # read a few units in the last place off (see `_Checker`)

    def name(self, value: float) -> tuple[Fraction, str]:
        """`value` as (rational factor, base constant name)."""
        found = self._exact.get(value)
        if found is None:
            found = self._exact[value] = self._recognise(value)
        return found

    def _recognise(self, value: float) -> tuple[Fraction, str]:
        if value.is_integer():
            return Fraction(int(value)), "1"
        for base, (_, _, approx) in _BASES.items():
            ratio = Fraction(value / approx).limit_denominator(1000)
            if ratio and abs(ratio.numerator) < 10**6 and abs(_float_of(ratio, base) - value) <= 2 * math.ulp(value):
                return ratio, base
        self.unnamed.add(value)
        return Fraction(repr(value)), "1"

    def sympy(self, value: object) -> Any:
        import sympy

        if isinstance(value, bool):
            return sympy.true if value else sympy.false
        if isinstance(value, int):
            return sympy.Integer(value)
        if isinstance(value, float):
            if math.isnan(value):
                return sympy.nan
            if math.isinf(value):
                return sympy.oo if value > 0 else -sympy.oo
            ratio, base = self.name(value)
            return sympy.Rational(ratio.numerator, ratio.denominator) * _BASES[base][0](sympy)
        raise UnsupportedError(f"the check cannot read the constant {value!r}")

    def mpmath(self, value: object) -> Any:
        import mpmath

        if isinstance(value, bool):
            return value
        if isinstance(value, int):
            return mpmath.mpf(value)
        if isinstance(value, float):
            if not math.isfinite(value):
                return mpmath.mpf(value)
            ratio, base = self.name(value)
            number = mpmath.mpf(ratio.numerator) / ratio.denominator * _BASES[base][1](mpmath)
            return number * (1 + mpmath.mpf(2) ** -50) if value in self.perturbed else number
        raise UnsupportedError(f"the check cannot read the constant {value!r}")


def _float_of(ratio: Fraction, base: str) -> float:
    import mpmath

    with mpmath.workdps(40):
        return float(mpmath.mpf(ratio.numerator) / ratio.denominator * _BASES[base][1](mpmath))


# name -> (SymPy value, mpmath value, float value)
_BASES: dict[str, tuple[Callable[[Any], Any], Callable[[Any], Any], float]] = {
    "1": (lambda sp: sp.Integer(1), lambda mp: mp.mpf(1), 1.0),
    "pi": (lambda sp: sp.pi, lambda mp: +mp.pi, math.pi),
    "1/pi": (lambda sp: 1 / sp.pi, lambda mp: 1 / mp.pi, 1 / math.pi),
    "sqrt(pi)": (lambda sp: sp.sqrt(sp.pi), lambda mp: mp.sqrt(mp.pi), math.sqrt(math.pi)),
    "1/sqrt(pi)": (lambda sp: 1 / sp.sqrt(sp.pi), lambda mp: 1 / mp.sqrt(mp.pi), 1 / math.sqrt(math.pi)),
    "E": (lambda sp: sp.E, lambda mp: +mp.e, math.e),
    "1/E": (lambda sp: 1 / sp.E, lambda mp: 1 / mp.e, 1 / math.e),
    "sqrt(2)": (lambda sp: sp.sqrt(2), lambda mp: mp.sqrt(2), math.sqrt(2)),
    "sqrt(3)": (lambda sp: sp.sqrt(3), lambda mp: mp.sqrt(3), math.sqrt(3)),
}
for _n in range(2, 11):  # the bases of `math.log(x, n)`, `log2` and `log10`
    _BASES[f"log({_n})"] = (lambda sp, n=_n: sp.log(n), lambda mp, n=_n: mp.log(n), math.log(_n))
    _BASES[f"1/log({_n})"] = (lambda sp, n=_n: 1 / sp.log(n), lambda mp, n=_n: 1 / mp.log(n), 1 / math.log(_n))


class _Symbolic:
    """SymPy expressions. With a `point`, conditions are decided by that point's numbers."""

    def __init__(self, constants: _Constants, point: Mapping[Any, Any] | None = None) -> None:
        import sympy

        self.sp = sympy
        self.constants = constants
        self.point = point  # symbol -> mpmath number: the sample point whose path is followed

    def const(self, value: object) -> Any:
        return self.constants.sympy(value)

    def apply(self, op: str, rule: Rule, args: Sequence[Any]) -> Any:
        if op not in _LOGICAL and op != "copy":
            args = [self._number(a) for a in args]
            if args and all(isinstance(a, self.sp.Number) for a in args):
                self._preview(op, rule, args)
        return rule.sympy(self.sp, *args)  # type: ignore[misc]

    def _preview(self, op: str, rule: Rule, args: Sequence[Any]) -> None:
        """Numbers only: evaluate in floating point first, so that SymPy never computes a power
        like (5e8)**22310 exactly (floating point overflows there, and SymPy would take ages)."""
        import mpmath

        with mpmath.workdps(30):
            evaluator = _MpMathEvaluator({})
            _Numeric(self.constants).apply(op, rule, [evaluator.value(a) for a in args])

    def _number(self, value: Any) -> Any:
        """A truth value used as a number (`True + 1`) is 1 or 0."""
        sp = self.sp
        if isinstance(value, sp.logic.boolalg.Boolean) and not isinstance(value, sp.Expr):
            if value in (sp.true, sp.false):
                return sp.Integer(1 if value == sp.true else 0)
            return sp.Piecewise((sp.Integer(1), value), (sp.Integer(0), True))
        return value

    def truth(self, value: Any, what: str) -> bool | None:
        sp = self.sp
        if isinstance(value, bool):
            return value
        if value == sp.true or value == sp.false:
            return bool(value == sp.true)
        if isinstance(value, sp.Expr) and value.is_number:
            return bool(value != 0)
        if self.point is None:
            return None
        return self._decide(value, what)

    def _decide(self, value: Any, what: str) -> bool:
        """A condition at the point (mpmath at 50 digits); a tie rejects the point."""
        sp = self.sp
        evaluator = self.evaluator()
        try:
            if isinstance(value, sp.core.relational.Relational):
                gap = evaluator.value(value.lhs) - evaluator.value(value.rhs)
                if abs(gap) <= 1e-30 * (1 + abs(evaluator.value(value.lhs))):
                    raise _Rejected(f"{what} is a tie at this point", tie=True)
            if isinstance(value, sp.Expr):
                return bool(evaluator.value(value) != 0)
            decided = evaluator.truth(value)
        except _CannotEvaluate as exc:
            raise _Rejected(f"{what} cannot be decided at this point ({exc})") from exc
        except (ArithmeticError, ValueError, TypeError) as exc:
            raise _Rejected(f"{what} is undefined at this point ({exc})") from exc
        if evaluator.ties:
            raise _Rejected(f"{what} is a tie at this point", tie=True)
        return decided

    def evaluator(self) -> _MpMathEvaluator:
        return _MpMathEvaluator(self.point or {}, digits=DIGITS)

    def integer(self, value: Any, what: str) -> int | None:
        sp = self.sp
        if isinstance(value, bool | int):
            return int(value)
        if not isinstance(value, sp.Expr) or (self.point is None and not value.is_number):
            return None
        try:
            return _whole(self.evaluator().value(value), what)
        except _CannotEvaluate as exc:
            raise _Rejected(f"{what} cannot be evaluated at this point ({exc})") from exc
        except (ArithmeticError, ValueError, TypeError) as exc:
            raise _Rejected(f"{what} is undefined at this point ({exc})") from exc

    def select(self, cond: Any, then: Any, orelse: Any) -> Any:
        sp = self.sp
        if not self._boolean(cond):  # a number used as a condition: Python's truth
            cond = sp.Ne(cond, 0)
        if self._boolean(then) and self._boolean(orelse):  # a flag stays a truth value
            return sp.Or(sp.And(cond, then), sp.And(sp.Not(cond), orelse))
        return sp.Piecewise((self._number(then), cond), (self._number(orelse), True))

    def _boolean(self, value: Any) -> bool:
        return isinstance(value, bool) or (
            isinstance(value, self.sp.logic.boolalg.Boolean) and not isinstance(value, self.sp.Expr)
        )


def _whole(number: Any, what: str) -> int:
    try:
        nearest = int(round(number))
    except (TypeError, ValueError, OverflowError) as exc:
        raise _Rejected(f"{what} is not a finite number") from exc
    if abs(number - nearest) > 1e-30 * (1 + abs(nearest)):
        raise _Rejected(f"{what} is not an integer")
    return nearest


class _MpMathNamespace:
    """The names the rule table's SymPy spellings use, over mpmath numbers.

    `Max`, `Min`, `Abs`, `sign` and `Heaviside` record when they are evaluated
    at a tie or kink, so that the check can reject such a sample point.
    """

    def __init__(self, mpmath: Any) -> None:
        self.mp = mpmath
        self.ties = 0

    @property
    def pi(self) -> Any:
        return +self.mp.pi

    @property
    def E(self) -> Any:  # noqa: N802 - SymPy's name
        return +self.mp.e

    def Rational(self, p: int, q: int) -> Any:  # noqa: N802
        return self.mp.mpf(p) / q

    def Integer(self, n: int) -> Any:  # noqa: N802
        return self.mp.mpf(n)

    def _tie(self, gap: Any) -> None:
        if gap == 0:
            self.ties += 1

    def Abs(self, x: Any) -> Any:  # noqa: N802
        self._tie(x)
        return abs(x)

    def sign(self, x: Any) -> Any:
        self._tie(x)
        return self.mp.sign(x)

    def Heaviside(self, x: Any) -> Any:  # noqa: N802
        self._tie(x)
        return self.mp.mpf(1) if x > 0 else self.mp.mpf(0) if x < 0 else self.mp.mpf(0.5)

    def Max(self, x: Any, y: Any) -> Any:  # noqa: N802
        self._tie(x - y)
        return x if x >= y else y

    def Min(self, x: Any, y: Any) -> Any:  # noqa: N802
        self._tie(x - y)
        return x if x <= y else y

    def floor(self, x: Any) -> Any:
        return self.mp.floor(x)

    def ceiling(self, x: Any) -> Any:
        return self.mp.ceil(x)

    def Mod(self, x: Any, y: Any) -> Any:  # noqa: N802
        if y == 0:
            raise ZeroDivisionError("modulo by zero")
        return x - y * self.mp.floor(x / y)

    def Lt(self, x: Any, y: Any) -> bool:
        return bool(x < y)  # noqa: N802

    def Le(self, x: Any, y: Any) -> bool:
        return bool(x <= y)  # noqa: N802

    def Gt(self, x: Any, y: Any) -> bool:
        return bool(x > y)  # noqa: N802

    def Ge(self, x: Any, y: Any) -> bool:
        return bool(x >= y)  # noqa: N802

    def Eq(self, x: Any, y: Any) -> bool:
        return bool(x == y)  # noqa: N802

    def Ne(self, x: Any, y: Any) -> bool:
        return bool(x != y)  # noqa: N802

    def Not(self, x: Any) -> bool:
        return not x  # noqa: N802

    def And(self, x: Any, y: Any) -> bool:
        return bool(x and y)  # noqa: N802

    def Or(self, x: Any, y: Any) -> bool:
        return bool(x or y)  # noqa: N802

    def __getattr__(self, name: str) -> Any:
        if name in _MPMATH_FUNCTIONS:
            return getattr(self.mp, name)
        raise UnsupportedError(f"the numeric check has no mpmath value for sympy.{name}")


_MPMATH_FUNCTIONS = frozenset(
    {
        "sin",
        "cos",
        "tan",
        "asin",
        "acos",
        "atan",
        "atan2",
        "sinh",
        "cosh",
        "tanh",
        "asinh",
        "acosh",
        "atanh",
        "exp",
        "log",
        "sqrt",
        "erf",
        "erfc",
    }
)


class _Numeric:
    """mpmath numbers at the current working precision; every condition is decided."""

    def __init__(self, constants: _Constants) -> None:
        import mpmath

        self.mp = mpmath
        self.constants = constants
        self.namespace = _MpMathNamespace(mpmath)

    def const(self, value: object) -> Any:
        return self.constants.mpmath(value)

    def apply(self, op: str, rule: Rule, args: Sequence[Any]) -> Any:
        if op not in _LOGICAL:
            args = [self.mp.mpf(a) if isinstance(a, bool | int) else a for a in args]
        try:
            return _in_range(rule.sympy(self.namespace, *args))  # type: ignore[misc]
        except (ArithmeticError, ValueError, TypeError) as exc:
            raise _Rejected(f"{op} is undefined at this point ({exc})") from exc

    def truth(self, value: Any, what: str) -> bool:
        try:
            return bool(value)
        except TypeError as exc:
            raise _Rejected(f"{what} is not a truth value at this point") from exc

    def integer(self, value: Any, what: str) -> int:
        if isinstance(value, bool | int):
            return int(value)
        if isinstance(value, self.mp.mpc) or not self.mp.isfinite(value):
            raise _Rejected(f"{what} is not a finite number at this point")
        return _whole(value, what)

    def select(self, cond: Any, then: Any, orelse: Any) -> Any:  # conditions are always decided
        return then if cond else orelse


# -- the interpreter ---------------------------------------------------------------

_STRUCTURAL_ASSIGN = frozenset({"list", "repeat", "index", "len", "zeros_like", "sum", "list_max", "list_min", "index_of", "pop"})
_STRUCTURAL_EFFECT = frozenset({"append", "setitem", "accum_item", "discard_pop"})


class _Interpreter:
    """Runs IR in a value domain: one interpreter for the symbolic and the numeric evaluation.

    `limit` bounds the statements evaluated (symbolic interpretation unrolls
    loops, and expressions grow with them); past it `_FollowPaths` is raised.
    `deadline` (a `time.monotonic()` value) raises `_OutOfTime`.
    """

    def __init__(
        self,
        domain: _Symbolic | _Numeric,
        rules: Mapping[str, Rule],
        data: Mapping[str, object],
        *,
        limit: int | None = None,
        deadline: float | None = None,
    ) -> None:
        self.domain = domain
        self.rules = rules
        self.data = data
        self.limit = limit
        self.deadline = deadline
        self.count = 0
        self.env: dict[str, Any] = {}
        self.globals: dict[str, Any] = {}
        self.tape: list[tuple[Any, ...]] = []
        self.speculative = 0  # > 0 while both branches of a symbolic `If` are evaluated

    def run(self, function: ir.Function, args: Mapping[str, Any]) -> Any:
        self.env = dict(args)
        self.block(function.body)
        return self.returns(function.returns)

    def returns(self, returns: ir.Returns) -> Any:
        if isinstance(returns, tuple):
            return tuple(self.returns(r) for r in returns)
        return self.operand(returns)

    # operands

    def operand(self, operand: ir.Operand) -> Any:
        if isinstance(operand, ir.Var):
            try:
                return self.env[operand.name]
            except KeyError:
                raise UnsupportedError(f"the check found a read of '{operand.name}' before it is assigned") from None
        if isinstance(operand, ir.Const):
            return self.domain.const(operand.value)
        if isinstance(operand, ir.Global):
            if operand.name not in self.globals:
                if operand.name not in self.data:
                    raise UnsupportedError(f"the check has no value for the module-level data '{operand.name}'")
                self.globals[operand.name] = self.convert(self.data[operand.name])
            return self.globals[operand.name]
        raise UnsupportedError(f"the check cannot read the operand {operand!r}")

    def convert(self, value: object) -> Any:
        if isinstance(value, (list, tuple)):
            return [self.convert(v) for v in value]
        return self.domain.const(value)

    # statements

    def block(self, block: ir.Block) -> None:
        for stmt in block:
            self.statement(stmt)

    def tick(self) -> None:
        self.count += 1
        if self.limit is not None and self.count > self.limit:
            raise _FollowPaths(f"more than {self.limit} statements to unroll")
        if self.deadline is not None and self.count % 64 == 0 and time.monotonic() > self.deadline:
            raise _OutOfTime()

    def statement(self, stmt: ir.Stmt) -> None:
        self.tick()
        if isinstance(stmt, ir.Assign):
            self.env[stmt.target] = self.assign(stmt.op, [self.operand(a) for a in stmt.args])
        elif isinstance(stmt, ir.Effect):
            self.no_speculation("a list mutation")
            self.effect(stmt.op, [self.operand(a) for a in stmt.args])
        elif isinstance(stmt, ir.Push):
            self.no_speculation("a tape push")
            self.tape.append(tuple(self.operand(v) for v in stmt.values))
        elif isinstance(stmt, ir.Pop):
            self.no_speculation("a tape pop")
            if not self.tape:
                raise UnsupportedError("the check found a pop from an empty tape")
            values = self.tape.pop()
            if len(values) != len(stmt.targets):
                raise UnsupportedError(f"the check found a pop of {len(stmt.targets)} values after a push of {len(values)}")
            self.env.update(zip(stmt.targets, values))
        elif isinstance(stmt, ir.Note):
            pass
        elif isinstance(stmt, ir.If):
            self.branch(stmt)
        elif isinstance(stmt, ir.For):
            self.for_loop(stmt)
        elif isinstance(stmt, ir.While):
            self.while_loop(stmt)
        else:
            raise UnsupportedError(f"the check cannot read the statement {type(stmt).__name__}")

    def no_speculation(self, what: str) -> None:
        if self.speculative:
            raise _FollowPaths(f"{what} under a condition that depends on the parameters")

    def assign(self, op: str, args: list[Any]) -> Any:
        if op in _STRUCTURAL_ASSIGN:
            return self.structural(op, args)
        rule = self.rules.get(op)
        if rule is None:
            raise UnsupportedError(f"the check does not know the operation '{op}'")
        if rule.sympy is None:
            raise UnsupportedError(f"the rule table has no SymPy spelling for '{op}'")
        if not getattr(rule, "structural", False) and op != "copy" and any(isinstance(a, list) for a in args):
            raise UnsupportedError(f"the check expected numbers as the operands of '{op}', found a list")
        return self.domain.apply(op, rule, args)

    def structural(self, op: str, args: list[Any]) -> Any:
        """List operations, evaluated with Python lists of domain values."""
        if op == "list":
            return list(args)
        if op == "repeat":
            count = self.domain.integer(args[1], "a list's length")
            if count is None:
                raise _FollowPaths("a list's length depends on the parameters")
            return [args[0]] * count
        items = self.as_list(args[0], op)
        if op == "len":
            return self.domain.const(len(items))
        if op == "index":
            return self.item(items, args[1])[1]
        if op == "zeros_like":
            return self.zeros(items)
        if op in ("sum", "list_max", "list_min"):
            if not items and op != "sum":
                raise _Rejected(f"{op} of an empty list")
            reduce = {"sum": "add", "list_max": "max", "list_min": "min"}[op]
            total = self.domain.const(0) if op == "sum" else items[0]
            for item in items if op == "sum" else items[1:]:
                total = self.domain.apply(reduce, self.rules[reduce], [total, item])
            return total
        if op == "index_of":
            for position, item in enumerate(items):
                found = self.domain.truth(self.domain.apply("eq", self.rules["eq"], [item, args[1]]), "a list search")
                if found is None:
                    raise _FollowPaths("a list search depends on the parameters")
                if found:
                    return self.domain.const(position)
            raise _Rejected("a list search found nothing")
        # pop
        self.no_speculation("a list pop")
        if not items:
            raise _Rejected("pop from an empty list")
        return items.pop() if len(args) == 1 else items.pop(self.item(items, args[1])[0])

    def effect(self, op: str, args: list[Any]) -> None:
        if op not in _STRUCTURAL_EFFECT:
            raise UnsupportedError(f"the check does not know the list operation '{op}'")
        items = self.as_list(args[0], op)
        if op == "append":
            items.append(args[1])
        elif op == "discard_pop":
            if not items:
                raise _Rejected("pop from an empty list")
            items.pop()
        elif op == "setitem":
            items[self.item(items, args[1])[0]] = args[2]
        else:  # accum_item
            position, old = self.item(items, args[1])
            items[position] = self.domain.apply("add", self.rules["add"], [old, args[2]])

    def as_list(self, value: Any, op: str) -> list[Any]:
        if not isinstance(value, list):
            raise UnsupportedError(f"the check expected a list as the operand of '{op}'")
        return value

    def item(self, items: list[Any], index: Any) -> tuple[int, Any]:
        position = self.domain.integer(index, "a list index")
        if position is None:
            raise _FollowPaths("a list index depends on the parameters")
        if not -len(items) <= position < len(items):
            raise _Rejected("a list index is out of range")
        return position % len(items), items[position]

    def zeros(self, items: list[Any]) -> list[Any]:
        return [self.zeros(v) if isinstance(v, list) else self.domain.const(0.0) for v in items]

    # control flow

    def branch(self, stmt: ir.If) -> None:
        cond = self.operand(stmt.cond)
        taken = self.domain.truth(cond, "a branch condition")
        if taken is not None:
            self.block(stmt.then if taken else stmt.orelse)
            for merge in stmt.merges:
                self.env[merge.target] = self.operand(merge.then if taken else merge.orelse)
            return
        self.speculative += 1
        try:
            self.block(stmt.then)
            self.block(stmt.orelse)
        finally:
            self.speculative -= 1
        for merge in stmt.merges:
            then, orelse = self.operand(merge.then), self.operand(merge.orelse)
            if isinstance(then, list) or isinstance(orelse, list):
                raise _FollowPaths("a list chosen by a condition that depends on the parameters")
            self.env[merge.target] = self.domain.select(cond, then, orelse)

    def bound(self, operand: ir.Operand, what: str) -> int:
        value = self.domain.integer(self.operand(operand), what)
        if value is None:
            raise _FollowPaths(f"{what} depends on the parameters")
        return value

    def for_loop(self, stmt: ir.For) -> None:
        indices: Sequence[int] = range(
            self.bound(stmt.start, "a loop start"), self.bound(stmt.stop, "a loop end"), self.bound(stmt.step, "a loop step") or 1
        )
        if stmt.limit is not None:
            indices = indices[: max(0, self.bound(stmt.limit, "a loop's trip count"))]
        if stmt.reverse:
            indices = indices[::-1]
        for carry in stmt.carried:
            self.env[carry.header] = self.operand(carry.init)
        for index in indices:
            self.env[stmt.index] = self.domain.const(index)
            self.block(stmt.body)
            if self.iterate(stmt.carried, stmt.until, "a loop's exit condition"):
                break
        for carry in stmt.carried:
            self.env[carry.result] = self.env[carry.header]

    def while_loop(self, stmt: ir.While) -> None:
        self.no_speculation("a while loop")
        for carry in stmt.carried:
            self.env[carry.header] = self.operand(carry.init)
        for iteration in itertools.count():
            if iteration == WHILE_LIMIT:
                raise _NeverEnds(f"a while loop ran {WHILE_LIMIT} times here without ending")
            self.block(stmt.test)
            going = self.domain.truth(self.operand(stmt.cond), "a while condition")
            if going is None:
                raise _FollowPaths("a while condition depends on the parameters")
            if not going:
                break
            self.block(stmt.body)
            if self.iterate(stmt.carried, stmt.until, "a loop's exit condition"):
                break
        for carry in stmt.carried:
            self.env[carry.result] = self.env[carry.header]

    def iterate(self, carried: tuple[ir.Carry, ...], until: ir.Operand | None, what: str) -> bool:
        """Carry the updates to the next iteration; whether `until` ends the loop now."""
        updates = [self.operand(carry.update) for carry in carried]
        for carry, value in zip(carried, updates):
            self.env[carry.header] = value
        if until is None:
            return False
        done = self.domain.truth(self.operand(until), what)
        if done is None:
            raise _FollowPaths(f"{what} depends on the parameters")
        return done


# -- the symbolic proof, in a child process that can be stopped ----------------------


def _prove_zero(difference: Any) -> tuple[str, str]:
    """(stage that proved `difference` zero, "") or ("", why not); the strongest cheap test first."""
    import sympy

    if difference == 0:
        return "identical", ""
    if sympy.expand(difference) == 0:
        return "expand", ""
    if sympy.cancel(difference) == 0:
        return "cancel", ""
    if difference.has(sympy.Heaviside, sympy.Max, sympy.Min, sympy.Abs):  # kinks, all written with sign()
        if sympy.expand(_sign_form(difference)) == 0:
            return "sign form", ""
    if difference.has(sympy.Piecewise):  # branches: compare the pieces one by one
        folded = sympy.piecewise_fold(difference)
        pieces = folded.args if isinstance(folded, sympy.Piecewise) else ((folded, True),)
        if all(piece == 0 or sympy.expand(piece) == 0 or sympy.cancel(piece) == 0 for piece, _ in pieces):
            return "piecewise cancel", ""
    if sympy.simplify(difference) == 0:
        return "simplify", ""
    if difference.equals(0) is True:
        return "equals", ""
    return "", "SymPy did not reduce the difference to zero"


def _sign_form(expression: Any) -> Any:
    """Heaviside, Max, Min and Abs rewritten with `sign`, exactly, at the tie too (Heaviside(0) = 1/2):
    `Heaviside(z - y)` and `1 - Heaviside(y - z)` both become `1/2 - sign(y - z)/2`."""
    import sympy

    def maximum(*args: Any) -> Any:
        first, *rest = args
        return first if not rest else (first + maximum(*rest) + sympy.Abs(first - maximum(*rest))) / 2

    def minimum(*args: Any) -> Any:
        first, *rest = args
        return first if not rest else (first + minimum(*rest) - sympy.Abs(first - minimum(*rest))) / 2

    expression = expression.replace(sympy.Max, maximum).replace(sympy.Min, minimum)
    half = sympy.Rational(1, 2)
    expression = expression.replace(
        sympy.Heaviside, lambda x, *h: (1 + sympy.sign(x)) / 2 if not h or h[0] == half else sympy.Heaviside(x, *h)
    )
    expression = expression.replace(sympy.Abs, lambda x: x * sympy.sign(x))

    def canonical(x: Any) -> Any:  # sign(z - y) is -sign(y - z): one spelling for both
        negated = sympy.expand(-x)
        return -sympy.sign(negated) if sympy.default_sort_key(negated) < sympy.default_sort_key(x) else sympy.sign(x)

    return expression.replace(sympy.sign, canonical)


def _child(connection: Any, difference: Any) -> None:
    try:
        result = _prove_zero(difference)
    except Exception as exc:  # noqa: BLE001 - any SymPy failure is reported, not raised
        result = ("", f"SymPy raised {type(exc).__name__}: {exc}")
    connection.send(result)
    connection.close()


def _prove_zero_within(difference: Any, seconds: float) -> tuple[str, str]:
    """`_prove_zero` in a forked child that is killed after `seconds`; never hangs."""
    if seconds <= 0.01:
        return "", "no time left for a symbolic proof"
    try:
        context = multiprocessing.get_context("fork")
    except ValueError:
        return "", "no symbolic proof: this platform cannot fork"
    receiver, sender = context.Pipe(duplex=False)
    child = context.Process(target=_child, args=(sender, difference), daemon=True)
    for stream in (sys.stdout, sys.stderr):  # or the child would write the parent's buffered output again
        if stream is not None:
            stream.flush()
    with warnings.catch_warnings():  # Python 3.12+ warns about fork() when threads exist
        warnings.simplefilter("ignore", DeprecationWarning)
        child.start()
    sender.close()
    try:
        if receiver.poll(seconds):
            try:
                return receiver.recv()  # type: ignore[no-any-return]
            except (EOFError, OSError):
                return "", "the symbolic proof stopped without an answer"
        return "", f"the symbolic proof ran out of time ({seconds:.2f} s)"
    finally:
        receiver.close()
        if child.is_alive():
            child.kill()
        child.join(1.0)


# -- the check -----------------------------------------------------------------------


@dataclass
class _Sample:
    """One candidate point and what has been computed there."""

    values: tuple[float, ...]
    primal: Any = None
    ours: dict[tuple[int, frozenset[float]], tuple[Any, ...]] = field(default_factory=dict)  # per coordinate
    rejected: str = ""
    tie: bool = False
    path_derivatives: dict[str, Any] = field(default_factory=dict)


class _Checker:
    """One check. Parameters that are lists become one coordinate per element (`xs[0]`, `xs[1]`, ...)."""

    def __init__(
        self,
        primal: ir.Function,
        derived: ir.Function,
        wrt: tuple[str, ...],
        data: Mapping[str, object],
        rules: Mapping[str, Rule],
        budget: float,
        points: int,
        seed: int,
        symbolic: bool = True,
        lengths: Mapping[str, int] | None = None,
    ) -> None:
        self.primal = primal
        self.derived = derived
        self.wrt = wrt
        self.data = data
        self.rules = rules
        self.budget = max(0.0, float(budget))
        self.points = max(1, int(points))
        self.symbolic = symbolic
        self.rng = random.Random(seed)
        self.params = tuple(p.name for p in primal.params)
        self.lengths = dict(lengths or {})
        self.shapes = {p.name: self.shape(p) for p in primal.params}
        self.coordinates = {name: _labels(name, shape) for name, shape in self.shapes.items()}
        self.coords = tuple(label for name in self.params for label in self.coordinates[name])
        self.wrt_coords = tuple(label for name in self.wrt for label in self.coordinates.get(name, ()))
        self.kinds = {label: _element_kind(p.type) for p in primal.params for label in self.coordinates[p.name]}
        self.constants = _Constants()
        self.samples: list[_Sample] = []
        self.paths_too_long = False
        self.sympy_error = ""  # SymPy failed building the expressions: every parameter is undecided
        self.notes: list[str] = []
        self.validate()

    def shape(self, param: ir.Param) -> tuple[int, ...]:
        """() for a number, (n,) for a list of n numbers, (n, n) for a list of lists, ..."""
        depth = ir.list_depth(param.type)
        length = self.lengths.get(param.name, DEFAULT_LENGTH)
        if depth and (not isinstance(length, int) or length < 0):
            raise UnsupportedError(f"the check needs a length for the list parameter '{param.name}', not {length!r}")
        return (length,) * depth

    def structure(self, name: str, leaf: Callable[[str], Any]) -> Any:
        """The argument for parameter `name`, with `leaf(label)` at each coordinate."""
        labels = iter(self.coordinates[name])

        def build(shape: tuple[int, ...]) -> Any:
            return [build(shape[1:]) for _ in range(shape[0])] if shape else leaf(next(labels))

        return build(self.shapes[name])

    def arguments(self, leaf: Callable[[str], Any]) -> dict[str, Any]:
        return {name: self.structure(name, leaf) for name in self.params}

    def flatten(self, gradients: Sequence[Any]) -> tuple[Any, ...]:
        """Per-parameter gradients (lists for list parameters) -> one value per coordinate of `wrt`."""
        flat: list[Any] = []

        def walk(value: Any, shape: tuple[int, ...], name: str) -> None:
            if not shape:
                if isinstance(value, list):
                    raise UnsupportedError(f"the gradient of '{name}' has a list where a number belongs")
                flat.append(value)
                return
            if not isinstance(value, list) or len(value) != shape[0]:
                size = len(value) if isinstance(value, list) else "no"
                raise UnsupportedError(f"the gradient of '{name}' has {size} elements where {shape[0]} belong")
            for item in value:
                walk(item, shape[1:], name)

        for name, value in zip(self.wrt, gradients):
            walk(value, self.shapes[name], name)
        return tuple(flat)

    def validate(self) -> None:
        if isinstance(self.primal.returns, tuple):
            raise UnsupportedError("the check takes functions that return one number")
        for name in self.wrt:
            if name not in self.params:
                raise UnsupportedError(f"the check was asked for '{name}', which is not a parameter")
        returns = self.derived.returns
        if not isinstance(returns, tuple):
            returns = (returns,)
        if len(returns) != len(self.wrt) or any(isinstance(r, tuple) for r in returns):
            raise UnsupportedError(f"the gradient IR does not return one value per parameter of {self.wrt}")
        self.gradients: tuple[ir.Operand, ...] = returns  # type: ignore[assignment]

    def gradient_function(self) -> ir.Function:
        """The derived function returning the per-parameter tuple, whatever its original shape."""
        return ir.Function(
            self.derived.name, self.derived.params, self.derived.body, self.gradients, self.derived.loc, self.derived.sources
        )

    # the whole check

    def run(self) -> Report:
        import sympy

        self.symbols = {label: sympy.Symbol(label, real=True) for label in self.coords}
        start = time.monotonic()
        expression, ours, why = self.symbolic_expressions(start + self.budget)
        if why:
            self.notes.append(why)
        if any(self.shapes.values()):
            self.notes.append(
                "list parameters have "
                + ", ".join(f"{name}: {' x '.join(map(str, shape))}" for name, shape in self.shapes.items() if shape)
                + " elements (`lengths=` sets them)"
            )
        entries = []
        for i, name in enumerate(self.wrt_coords):
            began = time.monotonic() if i else start
            entry = self.check_parameter(i, name, expression, ours, began)
            entries.append(entry)
        unnamed = sorted(self.constants.unnamed - self.primal_constants())
        if unnamed:
            self.notes.append(
                "the gradient holds float constants compared as printed: "
                + ", ".join(map(repr, unnamed[:4]))
                + f" (tolerance {ROUNDED_RTOL:g})"
            )
        return Report(self.primal.name, self.params, expression, tuple(entries), tuple(self.notes), self.coords)

    def primal_constants(self) -> set[float]:
        return {
            a.value
            for s in ir.walk(self.primal.body)
            for a in ir.operands(s)
            if isinstance(a, ir.Const) and isinstance(a.value, float)
        }

    def gradient_constants(self) -> set[float]:
        return {
            a.value
            for s in ir.walk(self.derived.body)
            for a in ir.operands(s)
            if isinstance(a, ir.Const) and isinstance(a.value, float) and math.isfinite(a.value) and a.value
        }

    def rtol(self) -> float:
        return ROUNDED_RTOL if self.constants.unnamed - self.primal_constants() else RTOL

    def symbolic_expressions(self, deadline: float) -> tuple[Any, tuple[Any, ...] | None, str]:
        """The primal and the gradient as SymPy expressions, or why they are path dependent."""
        try:
            primal = _Interpreter(_Symbolic(self.constants), self.rules, self.data, limit=STATEMENT_LIMIT, deadline=deadline).run(
                self.primal, self.arguments(self.symbols.__getitem__)
            )
            ours = self.flatten(
                _Interpreter(_Symbolic(self.constants), self.rules, self.data, limit=STATEMENT_LIMIT, deadline=deadline).run(
                    self.gradient_function(), self.arguments(self.symbols.__getitem__)
                )
            )
        except _FollowPaths as exc:
            return None, None, f"following the path of each sample point: {exc}"
        except _OutOfTime:
            return None, None, "following the path of each sample point: no time to build the expressions"
        except _Rejected as exc:
            return None, None, f"following the path of each sample point: {exc}"
        except S2SError:
            raise
        except Exception as exc:  # noqa: BLE001 - SymPy's own failures make the check undecided
            self.sympy_error = f"SymPy raised {type(exc).__name__}: {exc}"
            return None, None, ""
        return primal, ours, ""

    def check_parameter(self, i: int, name: str, expression: Any, ours: tuple[Any, ...] | None, began: float) -> Entry:
        deadline = began + self.budget
        if self.sympy_error:
            return Entry(name, None, None, "SymPy", "undecided", seconds=time.monotonic() - began, note=self.sympy_error)
        sympy_derivative = our_derivative = None
        note = ""
        if expression is not None and ours is not None:
            try:
                sympy_derivative = _derivative(expression, self.symbols[name])
            except Exception as exc:  # noqa: BLE001
                return Entry(
                    name,
                    None,
                    ours[i],
                    "SymPy",
                    "undecided",
                    seconds=time.monotonic() - began,
                    note=f"SymPy raised {type(exc).__name__} differentiating: {exc}",
                )
            our_derivative = ours[i]
            if not self.symbolic or time.monotonic() >= deadline:
                note = ""
            elif sympy_derivative - our_derivative == 0:  # SymPy's canonical form already agrees
                return Entry(
                    name, sympy_derivative, our_derivative, "symbolic (identical)", "pass", seconds=time.monotonic() - began
                )
            # One sample point first: a mismatch there is a failure that no proof can turn around.
            elif self.compare_at_points(i, name, sympy_derivative, deadline, wanted=1)[0] == "fail":
                note = "no symbolic proof attempted: a sample point disagrees"
            else:
                share = min(self.budget * SYMBOLIC_SHARE, deadline - time.monotonic())
                stage, note = _prove_zero_within(sympy_derivative - our_derivative, share)
                if stage:
                    return Entry(
                        name, sympy_derivative, our_derivative, f"symbolic ({stage})", "pass", seconds=time.monotonic() - began
                    )
        verdict, method, used, largest, why = self.compare_at_points(i, name, sympy_derivative, deadline)
        notes = "; ".join(n for n in (note, why) if n)
        return Entry(name, sympy_derivative, our_derivative, method, verdict, used, largest, time.monotonic() - began, notes)

    # numeric comparison

    def candidates(self) -> Iterator[_Sample]:
        """Sample points: those drawn before (shared by every parameter), then new ones."""
        yield from self.samples
        while True:
            sample = _Sample(self.draw())
            self.samples.append(sample)
            yield sample

    def draw(self) -> tuple[float, ...]:
        """A random point; scales vary so that narrow domains (|x| < 1, x > 1) are reached too.

        A parameter the lowering typed `int` (a loop count, an index) gets a small whole number.
        """
        rng = self.rng
        positive = rng.random() < 0.3
        values: list[float] = []
        for label in self.coords:
            if self.kinds[label] != "float":
                values.append(float(rng.randint(0, 5) if self.kinds[label] == "int" else rng.randint(0, 1)))
                continue
            scale = rng.choice((0.95, 2.0, 3.0, 0.5, 5.0))
            value = round(rng.uniform(-scale, scale), 4)
            values.append(abs(value) if positive else value)
        return tuple(values)

    def compare_at_points(
        self,
        i: int,
        name: str,
        sympy_derivative: Any,
        deadline: float,
        wanted: int = 0,
    ) -> tuple[Verdict, str, tuple[tuple[float, ...], ...], float | None, str]:
        """Compare at `wanted` (default: `points`) sample points inside the domain."""
        import mpmath

        wanted = wanted or self.points

        used: list[tuple[float, ...]] = []
        largest: float | None = None
        rejected = ties = 0
        reasons: dict[str, None] = {}  # why samples were rejected, first seen first
        methods: set[str] = set()
        failure = ""
        attempts = 0
        rtol = self.rtol()
        for sample in self.candidates():
            if len(used) >= wanted or attempts >= 60 * wanted:
                break
            attempts += 1
            if time.monotonic() > deadline:
                return (
                    "undecided",
                    "numeric",
                    tuple(used),
                    largest,
                    f"ran out of time after {len(used)} of {wanted} sample points",
                )
            try:
                method, tol = "numeric", rtol
                measured = {}  # digits -> (SymPy's, ours): how much precisions differ is the rounding error
                for digits in (DIGITS, DIGITS + EXTRA_DIGITS, CONFIRM_DIGITS):
                    with mpmath.workdps(digits):
                        ours = _finite(self.ours_at(sample, deadline, digits)[i], "the generated derivative")
                        if sympy_derivative is not None:
                            truth = self.evaluate(sympy_derivative, sample)
                        else:
                            truth, method, tol = self.path_derivative(sample, name, deadline)
                            tol = max(tol, rtol)
                        measured[digits] = (truth, ours)
                    if digits == DIGITS:
                        continue
                    rough, fine = list(measured.values())[-2:]
                    with mpmath.workdps(digits):
                        truth, ours = fine
                        rounding = abs(truth - rough[0]) + abs(ours - rough[1])
                        rounding += self.sensitivity(sample, deadline, i, ours)
                        difference = abs(truth - ours)
                        bound = tol * max(abs(truth), abs(ours)) + 10 * rounding + SMALLEST
                    if difference <= bound:
                        break  # agreed: a mismatch is confirmed at CONFIRM_DIGITS before it fails
            except _Rejected as exc:
                rejected += 1
                ties += exc.tie
                reasons.setdefault(str(exc), None)
                continue
            except _OutOfTime:
                return (
                    "undecided",
                    "numeric",
                    tuple(used),
                    largest,
                    f"ran out of time after {len(used)} of {wanted} sample points",
                )
            except S2SError:
                raise
            except Exception as exc:  # noqa: BLE001 - SymPy's own failures make the check undecided
                return (
                    "undecided",
                    "numeric",
                    tuple(used),
                    largest,
                    f"evaluating at a sample point raised {type(exc).__name__}: {exc}",
                )
            methods.add(method)
            used.append(sample.values)
            with mpmath.workdps(DIGITS):
                largest = max(largest or 0.0, float(difference / max(1, abs(truth), abs(ours))))
            if difference > bound and not failure:
                failure = (
                    f"at {self._where(sample)}: SymPy gives {mpmath.nstr(truth, 17)}, the generated code {mpmath.nstr(ours, 17)}"
                )
        method = " + ".join(sorted(methods)) or "numeric"
        skipped = []
        if rejected:
            skipped.append(
                f"{rejected} sample(s) rejected"
                + (f", {ties} of them at a tie or kink" if ties else "")
                + f" ({'; '.join(list(reasons)[:2])})"
            )
        if failure:
            return "fail", method, tuple(used), largest, "; ".join([failure, *skipped])
        if len(used) < wanted:
            return (
                "undecided",
                method,
                tuple(used),
                largest,
                "; ".join([f"only {len(used)} of {wanted} sample points inside the function's domain", *skipped]),
            )
        return "pass", method, tuple(used), largest, "; ".join(skipped)

    def _where(self, sample: _Sample) -> str:
        return ", ".join(f"{p}={v}" for p, v in zip(self.coords, sample.values))

    def ours_at(
        self, sample: _Sample, deadline: float, digits: int, perturbed: frozenset[float] = frozenset()
    ) -> tuple[Any, ...]:
        """The generated gradient at the point, at `digits` (computed once, shared by parameters),
        with the `perturbed` float constants read 2**-50 off.

        The primal is evaluated first: a point where it is not finite and real is rejected.
        """
        if sample.rejected:
            raise _Rejected(sample.rejected, sample.tie)
        key = (digits, perturbed)
        if key not in sample.ours:
            try:
                if sample.primal is None:
                    sample.primal = self.numeric_primal(sample.values, deadline)
                self.constants.perturbed = perturbed
                try:
                    gradient = _Interpreter(_Numeric(self.constants), self.rules, self.data, deadline=deadline).run(
                        self.gradient_function(), self.numeric_args(sample.values)
                    )
                finally:
                    self.constants.perturbed = frozenset()
                sample.ours[key] = self.flatten(gradient)
            except _Rejected as exc:
                sample.rejected, sample.tie = str(exc), exc.tie
                raise
        return sample.ours[key]

    def sensitivity(self, sample: _Sample, deadline: float, i: int, ours: Any) -> Any:
        """How much the generated derivative moves when the float constants only the gradient holds
        (folded in floating point: `(180 * 0.5 / pi) ** 2`, or `31.622776601683793 ** 2` printed as the
        round 1000.0) move by 2**-50: their rounding, which cancellation can magnify far beyond 1e-16 in
        the result."""
        suspects = frozenset(self.gradient_constants() - self.primal_constants())
        if not suspects:
            return 0
        return abs(self.ours_at(sample, deadline, DIGITS + EXTRA_DIGITS, suspects)[i] - ours)

    def numeric_args(self, values: Sequence[Any]) -> dict[str, Any]:
        import mpmath

        numbers = {label: mpmath.mpf(v) for label, v in zip(self.coords, values)}
        return self.arguments(numbers.__getitem__)

    def numeric_primal(self, values: Sequence[Any], deadline: float, ties: bool = False) -> Any:
        """The function at a point, finite and real; with `ties`, a point on a tie or kink is rejected.

        Ties matter only where SymPy's derivative is not at hand: elsewhere the
        derivative's own `Heaviside`, `sign`, ... tell (`max(x, x)` is no kink).
        """
        domain = _Numeric(self.constants)
        value = _Interpreter(domain, self.rules, self.data, deadline=deadline).run(self.primal, self.numeric_args(values))
        if ties and domain.namespace.ties:
            raise _Rejected("the function is at a tie or kink here", tie=True)
        return _finite(value, "the function")

    def evaluate(self, expression: Any, sample: _Sample) -> Any:
        """A SymPy expression at the sample point, as a finite real mpmath number."""
        import mpmath
        import sympy

        values = {self.symbols[p]: mpmath.mpf(v) for p, v in zip(self.coords, sample.values)}
        evaluator = _MpMathEvaluator(values)
        try:
            value = evaluator.value(expression)
            if evaluator.ties:
                raise _Rejected("SymPy's derivative is at a tie or kink here", tie=True)
            return _finite(value, "SymPy's derivative")
        except _CannotEvaluate:
            pass
        except (ArithmeticError, ValueError, TypeError) as exc:
            raise _Rejected(f"SymPy's derivative is undefined here ({exc})") from exc
        point = {self.symbols[p]: sympy.Float(v, DIGITS) for p, v in zip(self.coords, sample.values)}
        try:
            value = expression.xreplace(point).evalf(DIGITS)
        except (ArithmeticError, ValueError) as exc:
            raise _Rejected(f"SymPy's derivative is undefined here ({exc})") from exc
        return _to_mpmath(value)

    def path_derivative(self, sample: _Sample, name: str, deadline: float) -> tuple[Any, str, float]:
        """SymPy's derivative along the path the sample point takes (or mpmath's, past the size limit),
        at the working precision, with the method's name and tolerance."""
        import mpmath

        if name not in sample.path_derivatives:
            point = {self.symbols[p]: mpmath.mpf(v) for p, v in zip(self.coords, sample.values)}
            try:
                if self.paths_too_long:  # one path was past the limit: the others are likely too
                    raise _FollowPaths("the paths are too long")
                path = _Interpreter(
                    _Symbolic(self.constants, point), self.rules, self.data, limit=STATEMENT_LIMIT, deadline=deadline
                ).run(self.primal, self.arguments(self.symbols.__getitem__))
                sample.path_derivatives[name] = _derivative(path, self.symbols[name])
            except _FollowPaths:
                self.paths_too_long = True
                sample.path_derivatives[name] = None
        expression = sample.path_derivatives[name]
        if expression is not None:
            return self.evaluate(expression, sample), "numeric (along the path)", RTOL
        index = self.coords.index(name)

        def along(t: Any) -> Any:
            values = list(sample.values)
            values[index] = t
            return self.numeric_primal(values, deadline, ties=True)

        derivative = mpmath.diff(along, mpmath.mpf(sample.values[index]))
        return _finite(derivative, "mpmath's derivative"), "numeric (mpmath.diff)", DIFF_RTOL


class _CannotEvaluate(Exception):
    """A SymPy node the mpmath evaluator does not know; SymPy's own evalf takes over."""


class _MpMathEvaluator:
    """A SymPy expression evaluated with mpmath at the working precision, node by node.

    Much faster than `evalf(subs=...)` on the large expressions derivatives
    become; repeated subexpressions are evaluated once. Conventions are
    SymPy's: `Heaviside(0) = 1/2`, `sign(0) = 0`, `Mod` takes the divisor's sign.
    """

    def __init__(self, values: Mapping[Any, Any], digits: int | None = None) -> None:
        import mpmath
        import sympy

        self.mp = mpmath
        self.digits = digits  # None: the working precision of the caller
        self.sp = sympy
        self.memo: dict[Any, Any] = dict(values)
        self.ties = 0  # evaluations of Abs, sign, Heaviside, Max, Min or a comparison at a tie
        functions = {
            sympy.sin: mpmath.sin,
            sympy.cos: mpmath.cos,
            sympy.tan: mpmath.tan,
            sympy.asin: mpmath.asin,
            sympy.acos: mpmath.acos,
            sympy.atan: mpmath.atan,
            sympy.sinh: mpmath.sinh,
            sympy.cosh: mpmath.cosh,
            sympy.tanh: mpmath.tanh,
            sympy.asinh: mpmath.asinh,
            sympy.acosh: mpmath.acosh,
            sympy.atanh: mpmath.atanh,
            sympy.exp: mpmath.exp,
            sympy.erf: mpmath.erf,
            sympy.erfc: mpmath.erfc,
            sympy.floor: mpmath.floor,
            sympy.ceiling: mpmath.ceil,
            sympy.atan2: mpmath.atan2,
            sympy.re: mpmath.re,
            sympy.im: mpmath.im,
            sympy.conjugate: mpmath.conj,
            sympy.arg: mpmath.arg,
        }
        self.functions = functions

    def value(self, node: Any) -> Any:
        if self.digits is not None and self.mp.mp.dps < self.digits:
            with self.mp.workdps(self.digits):
                return self.value(node)
        found = self.memo.get(node)
        if found is None:
            found = self.memo[node] = _in_range(self._value(node))
        return found

    def _value(self, node: Any) -> Any:  # noqa: C901 - one case per kind of node
        sp, mp = self.sp, self.mp
        if node.is_Rational:
            return mp.mpf(int(node.p)) / int(node.q)
        if node.is_Float:
            return mp.mpf(node._mpf_)
        if node is sp.pi:
            return +mp.pi
        if node is sp.E:
            return +mp.e
        if node.is_Add:
            return mp.fsum(self.value(a) for a in node.args)
        if node.is_Mul:
            return mp.fprod(self.value(a) for a in node.args)
        if node.is_Pow:
            base, exponent = self.value(node.base), node.exp
            if exponent.is_Integer:
                return base ** int(exponent)
            return mp.power(base, self.value(exponent))
        function = self.functions.get(node.func)
        if function is not None:
            return function(*(self.value(a) for a in node.args))
        if node.func is sp.log and len(node.args) == 1:
            return mp.log(self.value(node.args[0]))
        if node.func in (sp.Abs, sp.sign, sp.Heaviside):
            x = self.value(node.args[0])
            self.ties += x == 0
            if node.func is sp.Abs:
                return abs(x)
            if node.func is sp.sign:
                return mp.sign(x)
            return mp.mpf(1) if x > 0 else mp.mpf(0) if x < 0 else mp.mpf(0.5)
        if node.func in (sp.Max, sp.Min):
            values = [self.value(a) for a in node.args]
            self.ties += len(set(values)) < len(values)
            return max(values) if node.func is sp.Max else min(values)
        if node.func is sp.Mod:
            x, y = (self.value(a) for a in node.args)
            return x - y * mp.floor(x / y)
        if node.func is sp.Piecewise:
            for expression, condition in node.args:
                if self.truth(condition):
                    return self.value(expression)
            raise ValueError("no piece of a Piecewise applies")
        raise _CannotEvaluate(type(node).__name__)

    def truth(self, condition: Any) -> bool:
        sp = self.sp
        if condition in (sp.true, True):
            return True
        if condition in (sp.false, False):
            return False
        if isinstance(condition, sp.core.relational.Relational):
            compare = {
                sp.StrictLessThan: lambda a, b: a < b,
                sp.LessThan: lambda a, b: a <= b,
                sp.StrictGreaterThan: lambda a, b: a > b,
                sp.GreaterThan: lambda a, b: a >= b,
                sp.Equality: lambda a, b: a == b,
                sp.Unequality: lambda a, b: a != b,
            }.get(condition.func)
            if compare is not None:
                lhs, rhs = self.value(condition.lhs), self.value(condition.rhs)
                self.ties += lhs == rhs
                return bool(compare(lhs, rhs))
        if condition.func is sp.And:
            return all(self.truth(c) for c in condition.args)
        if condition.func is sp.Or:
            return any(self.truth(c) for c in condition.args)
        if condition.func is sp.Not:
            return not self.truth(condition.args[0])
        raise _CannotEvaluate(type(condition).__name__)


LARGEST_EXPONENT = 997  # beyond 2**997 (about 1e300) a sample point is rejected (doubles overflow near 1.8e308)


def _in_range(value: Any) -> Any:
    """`value`, unless it is a number too large for floating point: the generated code would overflow
    there, and mpmath would spend hours reducing `sin(1e100000)` modulo pi."""
    parts = getattr(value, "_mpf_", None)
    parts = (parts,) if parts is not None else getattr(value, "_mpc_", ())
    for _, mantissa, exponent, bits in parts:  # mpmath's (sign, mantissa, exponent, bit count)
        if mantissa and exponent + bits > LARGEST_EXPONENT:
            raise _Rejected("a value overflows floating point at this point")
    return value


def _element_kind(type_: ir.Type) -> str:
    """ "float", "int" or "bool": what the numbers of a parameter (or of its list) are."""
    while isinstance(type_, ir.ListOf):
        type_ = type_.elem
    return type_.kind


def _labels(name: str, shape: tuple[int, ...]) -> tuple[str, ...]:
    """`x` -> ("x",); a list `xs` of 3 -> ("xs[0]", "xs[1]", "xs[2]"); a list of lists -> ("m[0][0]", ...)."""
    labels = [name]
    for size in shape:
        labels = [f"{label}[{i}]" for label in labels for i in range(size)]
    return tuple(labels)


def _derivative(expression: Any, symbol: Any) -> Any:
    """`sympy.diff`, almost everywhere: piecewise constant parts contribute zero.

    `Mod(x, y)` is written `x - y*floor(x/y)` first (SymPy leaves its
    derivative unevaluated); then `DiracDelta` (from `Heaviside` and `sign`)
    and the derivatives of `floor` and `ceiling` are zero, the rule table's
    convention for primitives whose derivative is zero where it exists.
    """
    import sympy

    if isinstance(expression, sympy.logic.boolalg.Boolean) and not isinstance(expression, sympy.Expr):
        expression = sympy.Piecewise((1, expression), (0, True))  # a truth value used as a number
    expression = expression.replace(sympy.Mod, lambda x, y: x - y * sympy.floor(x / y))
    derivative = sympy.diff(expression, symbol)

    def constant_piece(node: Any) -> bool:
        if isinstance(node, sympy.DiracDelta):
            return True
        if isinstance(node, sympy.Subs):
            if node.expr == 0:
                return True
            node = node.expr
        return isinstance(node, sympy.Derivative) and isinstance(node.expr, (sympy.floor, sympy.ceiling))

    return derivative.replace(constant_piece, lambda node: sympy.S.Zero)


def _to_mpmath(value: Any) -> Any:
    import mpmath
    import sympy

    if isinstance(value, (sympy.Float, sympy.Rational)) and value.is_finite:
        return _finite(_in_range(mpmath.mpf(sympy.Float(value, DIGITS)._mpf_)), "SymPy's derivative")
    if isinstance(value, sympy.Expr) and value.is_number:
        raise _Rejected("SymPy's derivative is not a finite real number here")
    raise _Rejected(f"SymPy's derivative does not evaluate to a number: {value}")


def _finite(value: Any, what: str) -> Any:
    import mpmath

    if isinstance(value, bool | int):
        return mpmath.mpf(value)
    if isinstance(value, mpmath.mpf) and mpmath.isfinite(value):
        return value
    raise _Rejected(f"{what} is not a finite real number here")


def _symbol(name: str) -> Any:
    import sympy

    return sympy.Symbol(name, real=True)


def sympy_value(
    function: ir.Function, args: Sequence[Any], rules: Mapping[str, Rule] = RULES, data: Mapping[str, object] | None = None
) -> Any:
    """The SymPy expression `function` computes from the SymPy values `args` (its IR, interpreted with
    the rule table's SymPy spellings). Custom derivatives use it to spell a function in SymPy."""
    values = {p.name: a for p, a in zip(function.params, args)}
    return _Interpreter(_Symbolic(_Constants()), rules, data or {}, limit=STATEMENT_LIMIT).run(function, values)
