"""The gamma function's family: what `math.gamma` and `math.lgamma` are, and the digamma and polygamma
functions their derivatives are written with.

d gamma(x)/dx = gamma(x) psi(x) and d lgamma(x)/dx = psi(x), where psi is the
digamma function; psi's own derivatives are the polygamma functions psi_n.
Python's `math` module has none of them, so a generated module that needs one
defines it itself (`_digamma`, `_polygamma`: the rules' `helper`), in plain
Python: no import of s2s_ad, nor of SciPy. Both shift x up by the recurrence
psi_n(x) = psi_n(x + 1) - (-1)**n n! / x**(n + 1) and sum the asymptotic
series there (Abramowitz and Stegun 6.3.18 and 6.4.11); digamma reflects
x < 0.5 first (psi(x) = psi(1 - x) - pi / tan(pi x)). They agree with
mpmath to about 1e-15 relative (tests/test_builtins_math.py), less only
near the zeros of digamma, where its value is the difference of two
numbers much larger than itself. At a pole of gamma (0, -1, -2, ...) they
raise ValueError, as `math.gamma` does there.

The check computes these helpers with mpmath (`mpmath` of the rules) rather
than running their float series at 50 digits, as it computes `math.gamma`
with mpmath rather than as C does.
"""

from __future__ import annotations

from typing import Any

DIGAMMA = '''def _digamma(x):
    """The digamma function psi(x), the derivative of log|gamma(x)|, of a real number x."""
    import math

    if x <= 0.0 and x == math.floor(x):
        raise ValueError("math domain error")  # a pole of gamma
    if x < 0.5:  # reflection; x - round(x) is exact, so pi * x loses nothing of the angle
        return _digamma(1.0 - x) - math.pi / math.tan(math.pi * (x - round(x)))
    shift = 0.0
    while x < 10.0:  # psi(x) = psi(x + 1) - 1 / x
        shift -= 1.0 / x
        x += 1.0
    t = 1.0 / (x * x)  # psi(x) ~ log(x) - 1/(2x) - sum B_2k / (2k x**2k), k = 1..8
    tail = 1 / 240 - t * (1 / 132 - t * (691 / 32760 - t * (1 / 12 - t * 3617 / 8160)))
    series = t * (1 / 12 - t * (1 / 120 - t * (1 / 252 - t * tail)))
    return shift + math.log(x) - 0.5 / x - series'''

POLYGAMMA = '''def _polygamma(n, x):
    """The polygamma function psi_n(x) of order n >= 1, the n-th derivative of digamma, of a real number x."""
    import math

    if x <= 0.0 and x == math.floor(x):
        raise ValueError("math domain error")  # a pole of gamma
    total = 0.0
    while x < 20.0 + n:  # psi_n(x) = psi_n(x + 1) - (-1)**n n! / x**(n + 1)
        total += 1.0 / x ** (n + 1)
        x += 1.0
    # (-1)**(n + 1) psi_n(x) / n! ~ 1/(n x**n) + 1/(2 x**(n + 1)) + sum B_2k C(2k + n - 1, 2k) / (n x**(2k + n))
    series = 1.0 / (n * x**n) + 0.5 / x ** (n + 1)
    for k, b in enumerate((1 / 6, -1 / 30, 1 / 42, -1 / 30, 5 / 66, -691 / 2730, 7 / 6, -3617 / 510), 1):
        series += b * math.comb(2 * k + n - 1, 2 * k) / (n * x ** (2 * k + n))
    return (-1.0) ** (n + 1) * math.factorial(n) * (total + series)'''


def log_abs_gamma(sp: Any, x: Any) -> Any:
    """`math.lgamma(x)`, log|gamma(x)|: SymPy's `loggamma` for x > 0, and for x < 0 the reflection
    formula, |gamma(x)| = pi / (|sin(pi x)| gamma(1 - x)) (real, where SymPy's `loggamma` is complex).
    Of a plain number (the check's mpmath values), the piece that applies, raising at a pole."""
    positive = x > 0
    if isinstance(positive, bool):
        if not positive and x == sp.floor(x):
            raise ValueError("math domain error")
        return sp.loggamma(x) if positive else _reflected(sp, x)
    return sp.Piecewise((sp.loggamma(x), positive), (_reflected(sp, x), True))


def _reflected(sp: Any, x: Any) -> Any:
    return sp.log(sp.pi / sp.Abs(sp.sin(sp.pi * x))) - sp.loggamma(1 - x)


def lgamma_mpmath(mp: Any, x: Any) -> Any:
    """`math.lgamma` in high precision."""
    return log_abs_gamma(_MpNames(mp), x)


def polygamma_mpmath(mp: Any, n: Any, x: Any) -> Any:
    """`_polygamma(n, x)` (and, for n = 0, `_digamma(x)`) in high precision, raising at a pole as they do."""
    if x <= 0 and x == mp.floor(x):
        raise ValueError("math domain error")
    return mp.polygamma(int(n), x)


class _MpNames:
    """The few SymPy names `log_abs_gamma` uses, over mpmath."""

    def __init__(self, mp: Any) -> None:
        self.mp = mp
        self.floor, self.loggamma, self.log, self.sin = mp.floor, mp.loggamma, mp.log, mp.sin
        self.Abs = abs  # noqa: N815 - SymPy's name

    @property
    def pi(self) -> Any:
        return +self.mp.pi
