"""Float constants named exactly, the same for every side of the comparison.

Generated code computes `180 / math.pi` in floating point and prints
`57.29577951308232`; the rule table writes the formula. The check reads
every float (of the IR, of the printed code, of the module-level data) as
the exact number it stands for where it can name one, so that formulas
compare exactly, and as the decimal it prints as otherwise (remembered in
`unnamed`: the tolerance then allows for its rounding).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from fractions import Fraction
from typing import Any

from ..errors import UnsupportedError


class Constants:
    """IR constants as exact SymPy numbers and as mpmath numbers, the same for both sides.

    A float constant is named exactly when it is a small rational or a small
    rational multiple of a common constant (pi, e, log 2, sqrt(pi), ...) to
    within two units in the last place (Python computes `1/math.log(10)` with
    two roundings): `57.29577951308232` is `180/pi`. A float it cannot name is
    taken as the decimal it prints as, and remembered.
    """

    def __init__(self) -> None:
        self._exact: dict[float, tuple[Fraction, str]] = {}
        self._numbers: dict[tuple[object, float, int], Any] = {}  # (value, its sign, precision) -> mpmath number
        self.unnamed: set[float] = set()
        # Per check, shared by every domain: rule id -> (rule, symbols, expression), the SymPy form of a
        # spelling that gives SymPy objects even for numbers (see `domains.Numeric`).
        self.forms: dict[int, tuple[Any, tuple[Any, ...], Any]] = {}

    def name(self, value: float) -> tuple[Fraction, str]:
        """`value` as (rational factor, base constant name)."""
        found = self._exact.get(value)
        if found is None:
            found = self._exact[value] = self._recognise(value)
        return found

    def _recognise(self, value: float) -> tuple[Fraction, str]:
        if value.is_integer():
            return Fraction(int(value)), "1"
        for base, (_, _, approx) in BASES.items():
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
            return sympy.Rational(ratio.numerator, ratio.denominator) * BASES[base][0](sympy)
        raise UnsupportedError(f"the check cannot read the constant {value!r}")

    def mpmath(self, value: object) -> Any:
        """The constant as an mpmath number at the working precision (a truth value stays one)."""
        import mpmath

        if isinstance(value, bool):
            return value
        key = (value, math.copysign(1.0, value) if isinstance(value, float) else 1.0, mpmath.mp.prec)
        found = self._numbers.get(key)
        if found is None:
            found = self._numbers[key] = self._mpmath(value)
        return found

    def _mpmath(self, value: object) -> Any:
        import mpmath

        if isinstance(value, int):
            return mpmath.mpf(value)
        if isinstance(value, float):
            if not math.isfinite(value):
                return mpmath.mpf(value)
            ratio, base = self.name(value)
            return mpmath.mpf(ratio.numerator) / ratio.denominator * BASES[base][1](mpmath)
        raise UnsupportedError(f"the check cannot read the constant {value!r}")


def _float_of(ratio: Fraction, base: str) -> float:
    import mpmath

    with mpmath.workdps(40):
        return float(mpmath.mpf(ratio.numerator) / ratio.denominator * BASES[base][1](mpmath))


# name -> (SymPy value, mpmath value, float value)
BASES: dict[str, tuple[Callable[[Any], Any], Callable[[Any], Any], float]] = {
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


def _logarithm(n: int, inverse: bool) -> tuple[Callable[[Any], Any], Callable[[Any], Any], float]:
    """log(n), or 1/log(n): SymPy's, mpmath's and the float."""
    if inverse:
        return (lambda sp: 1 / sp.log(n)), (lambda mp: 1 / mp.log(n)), 1 / math.log(n)
    return (lambda sp: sp.log(n)), (lambda mp: mp.log(n)), math.log(n)


for _n in range(2, 11):  # the bases of `math.log(x, n)`, `log2` and `log10`
    BASES[f"log({_n})"] = _logarithm(_n, False)
    BASES[f"1/log({_n})"] = _logarithm(_n, True)
