"""SymPy's derivative at a point without SymPy's whole expression: the chain rule, in mpmath.

The primal IR runs in a domain of `Dual` numbers: an mpmath value (the rule
table's SymPy spelling evaluated with mpmath, as in `Numeric`) and its
derivatives with respect to the coordinates differentiated. Each primitive
passes on `sum(partial_i * tangent_i)`, where `partial_i` is `sympy.diff`
of the primitive's own SymPy spelling (a formula of one or two symbols,
differentiated once per check), evaluated at the operands. This is what
SymPy's derivative of the whole function evaluates to at that point, by the
chain rule, and it never depends on the rule table's `partials` (the
formulas the gradient was built from): it is a truth the gradient can be
compared with when SymPy's whole expression is too large or too slow to
build (a chain of 20 `sin(x) * x + cos(x)` has a derivative of millions of
terms), or when the path through the code depends on the point.

Conditions, loop counts and indices are decided by the values, so the
point's own path is followed. A derivative that does not exist at the
point is nan: a partial that is not finite there (even where its operand
does not move: `cbrt(x - x)` is constant, but no chain rule gets there
through the infinite slope of `cbrt` at 0, and the gradient raises), or a tie of `max`, `min`
or `abs` where the pieces that meet do not move together (`max(x, y)` at
x = y; but `max(x, x)` and `abs(x - x)` have derivatives).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from ..interpret import Rejected
from ..rules import Rule
from .constants import Constants
from .domains import Numeric
from .evaluate import TRIG, derivative


class Dual:
    """A value and its derivatives: coordinate index -> d value / d coordinate (absent: 0)."""

    __slots__ = ("value", "tangent")

    def __init__(self, value: Any, tangent: dict[int, Any]) -> None:
        self.value = value
        self.tangent = tangent


def plain(value: Any) -> Any:
    return value.value if isinstance(value, Dual) else value


class Partials:
    """The partial derivatives of each primitive's SymPy spelling, built once per rule and arity.

    Each partial is `sympy.diff` of the spelling (almost everywhere, `evaluate.derivative`), turned
    into a Python function of mpmath numbers by `sympy.lambdify`; `Heaviside`, `sign` and `Abs`
    count the ties they are evaluated at. One table (`PARTIALS`) serves every check: a rule is known
    by its identity, so a rule replaced in the table (a test's wrong spelling) is built anew.
    """

    LIMIT = 1_000  # rules remembered (custom derivatives make new ones with every build); then it starts again

    def __init__(self) -> None:
        self.built: dict[tuple[int, int], tuple[Rule, tuple[Callable[..., Any], ...]]] = {}
        self.ties = 0

    def of(self, rule: Rule, arity: int) -> tuple[Callable[..., Any], ...]:
        """One function of the operands per operand: the partial derivative in it."""
        key = (id(rule), arity)
        found = self.built.get(key)
        if found is None or found[0] is not rule:
            import sympy

            if len(self.built) >= self.LIMIT:
                self.built.clear()

            symbols = tuple(sympy.Dummy(f"a{i}", real=True) for i in range(arity))
            expression = rule.sympy(sympy, *symbols)  # type: ignore[misc]  # never None: the interpreter refuses those
            # powsimp: d(x**y)/dx is y*x**(y - 1), not y*x**y/x (which is 0/0 at x = 0)
            partials = [sympy.powsimp(derivative(expression, s)) for s in symbols]
            tied = {"Heaviside": self.heaviside, "sign": self.sign, "Abs": self.absolute}
            modules = [{**tied, "sin": TRIG.sin, "cos": TRIG.cos}, "mpmath"]
            found = self.built[key] = (rule, tuple(sympy.lambdify(symbols, p, modules=modules) for p in partials))
        return found[1]

    def heaviside(self, x: Any, at_zero: Any = 0.5) -> Any:
        import mpmath

        self.ties += x == 0
        return mpmath.mpf(1) if x > 0 else mpmath.mpf(0) if x < 0 else mpmath.mpf(at_zero)

    def sign(self, x: Any) -> Any:
        import mpmath

        self.ties += x == 0
        return mpmath.sign(x)

    def absolute(self, x: Any) -> Any:
        self.ties += x == 0
        return abs(x)

    def at(self, rule: Rule, values: Sequence[Any], wanted: Sequence[int]) -> tuple[dict[int, Any], bool]:
        """The partials in the `wanted` operands at `values` (nan where one is undefined), and whether
        one was evaluated at a tie (`Heaviside(0)`, `sign(0)`, ...)."""
        import mpmath

        functions = self.of(rule, len(values))
        numbers = [mpmath.mpf(v) if isinstance(v, bool | int) else v for v in values]
        self.ties = 0
        slopes = {}
        for i in wanted:
            try:
                slope = functions[i](*numbers)
            except (ArithmeticError, ValueError, TypeError, Rejected):
                slope = mpmath.nan
            if isinstance(slope, int | float):
                slope = mpmath.mpf(slope)
            slopes[i] = slope if isinstance(slope, mpmath.mpf) and mpmath.isfinite(slope) else mpmath.nan
        return slopes, bool(self.ties)


PARTIALS = Partials()


class ChainRule:
    """The interpreter's domain of `Dual` numbers; every condition is decided by the values."""

    def __init__(self, constants: Constants, partials: Partials) -> None:
        import mpmath

        self.mp = mpmath
        self.numeric = Numeric(constants)
        self.partials = partials

    def const(self, value: object) -> Any:
        return self.numeric.const(value)

    def apply(self, op: str, rule: Rule, args: Sequence[Any]) -> Any:
        if rule.copy:
            return args[0]
        values = [a.value if isinstance(a, Dual) else a for a in args]
        out = self.numeric.apply(op, rule, values)
        moving = [(i, a.tangent) for i, a in enumerate(args) if isinstance(a, Dual) and a.tangent]
        if not moving or rule.logical or isinstance(out, bool):
            return out
        slopes, tie = self.partials.at(rule, values, [i for i, _ in moving])
        tangent: dict[int, Any] = {}
        for i, moves in moving:
            for k, speed in moves.items():
                if not self.mp.isfinite(slopes[i]):
                    tangent[k] = self.mp.nan  # an infinite partial, even at speed 0: the chain rule stops here
                else:  # a speed 0 is kept, so that an infinite partial further on is still seen
                    tangent[k] = tangent.get(k, 0) + (slopes[i] * speed if speed else 0)
        if tie:
            for k in tangent:
                if not _together([moves.get(k, 0) for _, moves in moving], len(args)):
                    tangent[k] = self.mp.nan
        return Dual(out, tangent)

    def truth(self, value: Any, what: str) -> bool:
        return self.numeric.truth(plain(value), what)

    def integer(self, value: Any, what: str) -> int:
        return self.numeric.integer(plain(value), what)

    def select(self, cond: Any, then: Any, orelse: Any) -> Any:  # conditions are always decided
        return then if self.truth(cond, "a condition") else orelse


def _together(speeds: list[Any], arity: int) -> bool:
    """At a tie the pieces that meet are the operands (`max(x, y)`), or for one operand the operand
    and its negation (`abs(x)`): the derivative exists where they move together."""
    if len(speeds) < arity:
        speeds = [*speeds, 0]  # an operand without derivatives stands still
    return all(s == speeds[0] for s in speeds) and (arity > 1 or speeds[0] == 0)
