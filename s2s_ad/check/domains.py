"""The value domains of the check's interpreter: SymPy expressions and mpmath numbers.

`Symbolic` evaluates the IR with the rule table's SymPy spellings into
SymPy expressions (exact; an undecided condition becomes a `Piecewise`), or,
given a sample point, decides each condition with that point's numbers (the
expression along the point's path). `Numeric` evaluates the same spellings
with mpmath numbers at the working precision, through `MpMathNamespace`,
which spells SymPy's names (`Abs`, `Heaviside`, `Max`, ...) over mpmath.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ..errors import UnsupportedError
from ..interpret import Rejected
from ..rules import Rule
from .constants import Constants
from .evaluate import DIGITS, TRIG, CannotEvaluate, MpMathEvaluator, in_range, whole


class Symbolic:
    """SymPy expressions. With a `point`, conditions are decided by that point's numbers."""

    def __init__(self, constants: Constants, point: Mapping[Any, Any] | None = None) -> None:
        import sympy

        self.sp = sympy
        self.constants = constants
        self.point = point  # symbol -> mpmath number: the sample point whose path is followed

    def const(self, value: object) -> Any:
        return self.constants.sympy(value)

    def apply(self, op: str, rule: Rule, args: Sequence[Any]) -> Any:
        if not rule.logical and not rule.copy:
            args = [self._number(a) for a in args]
            if args and all(isinstance(a, self.sp.Number) for a in args):
                self._preview(op, rule, args)
        return rule.sympy(self.sp, *args)  # type: ignore[misc]  # never None: the interpreter refuses those

    def _preview(self, op: str, rule: Rule, args: Sequence[Any]) -> None:
        """Numbers only: evaluate in floating point first, so that SymPy never computes a power
        like (5e8)**22310 exactly (floating point overflows there, and SymPy would take ages)."""
        import mpmath

        with mpmath.workdps(30):
            evaluator = MpMathEvaluator({})
            Numeric(self.constants).apply(op, rule, [evaluator.value(a) for a in args])

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
                    raise Rejected(f"{what} is a tie at this point", tie=True)
            if isinstance(value, sp.Expr):
                return bool(evaluator.value(value) != 0)
            decided = evaluator.truth(value)
        except CannotEvaluate as exc:
            raise Rejected(f"{what} cannot be decided at this point ({exc})") from exc
        except (ArithmeticError, ValueError, TypeError) as exc:
            raise Rejected(f"{what} is undefined at this point ({exc})") from exc
        if evaluator.ties:
            raise Rejected(f"{what} is a tie at this point", tie=True)
        return decided

    def evaluator(self) -> MpMathEvaluator:
        return MpMathEvaluator(self.point or {}, digits=DIGITS)

    def integer(self, value: Any, what: str) -> int | None:
        sp = self.sp
        if isinstance(value, bool | int):
            return int(value)
        if not isinstance(value, sp.Expr) or (self.point is None and not value.is_number):
            return None
        try:
            return whole(self.evaluator().value(value), what)
        except CannotEvaluate as exc:
            raise Rejected(f"{what} cannot be evaluated at this point ({exc})") from exc
        except (ArithmeticError, ValueError, TypeError) as exc:
            raise Rejected(f"{what} is undefined at this point ({exc})") from exc

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


class MpMathNamespace:
    """The names the rule table's SymPy spellings use, over mpmath numbers.

    `Max`, `Min`, `Abs`, `sign` and `Heaviside` record when they are evaluated
    at a tie or kink, so that the check can reject such a sample point.
    """

    def __init__(self, mpmath: Any) -> None:
        self.mp = mpmath
        self.ties = 0
        for name in _MPMATH_FUNCTIONS:  # attributes, not `__getattr__`: they are called for every primitive
            setattr(self, name, getattr(mpmath, name))
        self.sin, self.cos = TRIG.sin, TRIG.cos

    @property
    def pi(self) -> Any:
        return +self.mp.pi

    @property
    def E(self) -> Any:  # noqa: N802 - SymPy's name
        return +self.mp.e

    true = True  # SymPy's truth values, as the spellings of `math.isfinite` and friends say them
    false = False

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
        "gamma",
        "loggamma",
        "polygamma",
    }
)


class Numeric:
    """mpmath numbers at the current working precision; every condition is decided."""

    def __init__(self, constants: Constants) -> None:
        import mpmath

        self.mp = mpmath
        self.constants = constants
        self.namespace = MpMathNamespace(mpmath)

    def const(self, value: object) -> Any:
        return self.constants.mpmath(value)

    def apply(self, op: str, rule: Rule, args: Sequence[Any]) -> Any:
        if not rule.logical:
            args = [self.mp.mpf(a) if isinstance(a, bool | int) else a for a in args]
        form = self.constants.forms.get(id(rule))
        try:
            if form is not None and form[0] is rule:
                value = self._by_form(form, args)
            else:
                value = rule.sympy(self.namespace, *args)  # type: ignore[misc]  # never None: the interpreter refuses those
                if not isinstance(value, bool | self.mp.mpf | self.mp.mpc | list):
                    value = self._by_form(self._form(rule, len(args)), args)
            return in_range(value)
        except (ArithmeticError, ValueError, TypeError, CannotEvaluate) as exc:
            raise Rejected(f"{op} is undefined at this point ({exc})") from exc

    def _form(self, rule: Rule, arity: int) -> tuple[Rule, tuple[Any, ...], Any]:
        """A spelling that gives SymPy objects even for numbers (a custom derivative's reads its function's
        body with SymPy, which would compute at 15 digits) as one SymPy expression, evaluated as such."""
        import sympy

        symbols = tuple(sympy.Dummy(f"a{i}", real=True) for i in range(arity))
        form = self.constants.forms[id(rule)] = (rule, symbols, rule.sympy(sympy, *symbols))  # type: ignore[misc]  # never None: the interpreter refuses those
        return form

    def _by_form(self, form: tuple[Rule, tuple[Any, ...], Any], args: Sequence[Any]) -> Any:
        return MpMathEvaluator(dict(zip(form[1], args))).value(form[2])

    def truth(self, value: Any, what: str) -> bool:
        try:
            return bool(value)
        except TypeError as exc:
            raise Rejected(f"{what} is not a truth value at this point") from exc

    def integer(self, value: Any, what: str) -> int:
        if isinstance(value, bool | int):
            return int(value)
        if isinstance(value, self.mp.mpc) or not self.mp.isfinite(value):
            raise Rejected(f"{what} is not a finite number at this point")
        return whole(value, what)

    def select(self, cond: Any, then: Any, orelse: Any) -> Any:  # conditions are always decided
        return then if cond else orelse
