"""SymPy expressions evaluated with mpmath, SymPy's derivative almost everywhere, and number guards.

`MpMathEvaluator` evaluates a SymPy expression node by node with mpmath at
the working precision, each repeated subexpression once, recording ties
(`Abs`, `sign`, `Heaviside`, `Max`, `Min` or a comparison evaluated where
its two sides are equal). `derivative` is `sympy.diff` with the rule
table's conventions for piecewise-constant parts. `in_range`, `finite`
and `whole` reject numbers a sample point cannot use.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

from ..interpret import Rejected

DIGITS = 50  # working precision of the numeric comparison, in decimal digits
LARGEST_EXPONENT = 997  # beyond 2**997 (about 1e300) a sample point is rejected (doubles overflow near 1.8e308)


class CannotEvaluate(Exception):
    """A SymPy node the mpmath evaluator does not know."""


@functools.cache
def _functions() -> dict[Any, Any]:
    """SymPy function -> the mpmath function of the same name."""
    import mpmath
    import sympy

    return {
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
        sympy.gamma: mpmath.gamma,
        sympy.loggamma: mpmath.loggamma,
        sympy.polygamma: mpmath.polygamma,
        sympy.floor: mpmath.floor,
        sympy.ceiling: mpmath.ceil,
        sympy.atan2: mpmath.atan2,
        sympy.re: mpmath.re,
        sympy.im: mpmath.im,
        sympy.conjugate: mpmath.conj,
        sympy.arg: mpmath.arg,
    }


class MpMathEvaluator:
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
        self.functions = _functions()

    def value(self, node: Any) -> Any:
        if self.digits is not None and self.mp.mp.dps < self.digits:
            with self.mp.workdps(self.digits):
                return self.value(node)
        found = self.memo.get(node)
        if found is None:
            found = self.memo[node] = in_range(self._value(node))
        return found

    def _value(self, node: Any) -> Any:
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
        return self._call(node)

    def _call(self, node: Any) -> Any:
        """A function of SymPy's at its arguments' values."""
        sp, mp = self.sp, self.mp
        function = self.functions.get(node.func)
        if function is not None:
            return function(*(self.value(a) for a in node.args))
        if node.func is sp.log and len(node.args) == 1:
            return mp.log(self.value(node.args[0]))
        if node.func in (sp.Abs, sp.sign, sp.Heaviside):
            return self.kink(node.func, self.value(node.args[0]))
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
        raise CannotEvaluate(type(node).__name__)

    def kink(self, func: Any, x: Any) -> Any:
        """`Abs`, `sign` or `Heaviside` of x, counting a tie at x = 0."""
        self.ties += x == 0
        if func is self.sp.Abs:
            return abs(x)
        if func is self.sp.sign:
            return self.mp.sign(x)
        return self.mp.mpf(1) if x > 0 else self.mp.mpf(0) if x < 0 else self.mp.mpf(0.5)

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
        raise CannotEvaluate(type(condition).__name__)


class _CosSin:
    """`sin` and `cos` of an mpmath number, both computed by one `mpmath.cos_sin` and remembered.

    Each point computes the same sines and cosines many times: the function's own, the chain rule's
    partials (d sin(x) = cos(x)), the printed gradient's forward and reverse sweeps. They are most of
    what a long trigonometric function costs at 50 digits.
    """

    LIMIT = 50_000  # remembered pairs; then the memory starts again

    def __init__(self) -> None:
        self.memo: dict[tuple[Any, int], tuple[Any, Any]] = {}

    def pair(self, x: Any) -> tuple[Any, Any]:
        import mpmath

        key = (x._mpf_, mpmath.mp.prec)
        found = self.memo.get(key)
        if found is None:
            if len(self.memo) >= self.LIMIT:
                self.memo.clear()
            found = self.memo[key] = mpmath.cos_sin(x)
        return found

    def sin(self, x: Any) -> Any:
        import mpmath

        return self.pair(x)[1] if isinstance(x, mpmath.mpf) else mpmath.sin(x)

    def cos(self, x: Any) -> Any:
        import mpmath

        return self.pair(x)[0] if isinstance(x, mpmath.mpf) else mpmath.cos(x)


TRIG = _CosSin()


def in_range(value: Any) -> Any:
    """`value`, unless it is a number too large for floating point: the generated code would overflow
    there, and mpmath would spend hours reducing `sin(1e100000)` modulo pi."""
    real = getattr(value, "_mpf_", None)
    parts: tuple[Any, ...] = (real,) if real is not None else getattr(value, "_mpc_", ())
    for _, mantissa, exponent, bits in parts:  # mpmath's (sign, mantissa, exponent, bit count)
        if mantissa and exponent + bits > LARGEST_EXPONENT:
            raise Rejected("a value overflows floating point at this point")
    return value


def finite(value: Any, what: str) -> Any:
    """`value` as a finite real mpmath number, or the point is rejected."""
    import mpmath

    if isinstance(value, bool | int):
        return mpmath.mpf(value)
    if isinstance(value, mpmath.mpf) and mpmath.isfinite(value):
        return value
    raise Rejected(f"{what} is not a finite real number here")


def whole(number: Any, what: str) -> int:
    """`number` as an int, or the point is rejected (a loop count of 2.5)."""
    try:
        nearest = int(round(number))
    except (TypeError, ValueError, OverflowError) as exc:
        raise Rejected(f"{what} is not a finite number") from exc
    if abs(number - nearest) > 1e-30 * (1 + abs(nearest)):
        raise Rejected(f"{what} is not an integer")
    return nearest


def derivative(expression: Any, symbol: Any) -> Any:
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
    result = sympy.diff(expression, symbol)

    def constant_piece(node: Any) -> bool:
        if isinstance(node, sympy.DiracDelta):
            return True
        if isinstance(node, sympy.Subs):
            if node.expr == 0:
                return True
            node = node.expr
        return isinstance(node, sympy.Derivative) and isinstance(node.expr, (sympy.floor, sympy.ceiling))

    return result.replace(constant_piece, lambda node: sympy.S.Zero)


def to_mpmath(value: Any) -> Any:
    """A number SymPy's `evalf` gave, as a finite real mpmath number."""
    import mpmath
    import sympy

    if isinstance(value, (sympy.Float, sympy.Rational)) and value.is_finite:
        return finite(in_range(mpmath.mpf(sympy.Float(value, DIGITS)._mpf_)), "SymPy's derivative")
    if isinstance(value, sympy.Expr) and value.is_number:
        raise Rejected("SymPy's derivative is not a finite real number here")
    raise Rejected(f"SymPy's derivative does not evaluate to a number: {value}")
