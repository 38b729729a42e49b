"""Scalar primitives: arithmetic, comparisons and logic, the helpers derivatives are written with,
the builtins and the math module. The partials are checked against sympy.diff by tests/test_rules.py."""

from __future__ import annotations

import math

from .core import Rule, _math
from .special import DIGAMMA, POLYGAMMA, lgamma_mpmath, log_abs_gamma, polygamma_mpmath

SCALAR: dict[str, Rule] = {
    # arithmetic
    "add": Rule("{0} + {1}", lambda sp, x, y: x + y, lambda m, out, x, y: (1, 1), "promote"),
    "sub": Rule("{0} - {1}", lambda sp, x, y: x - y, lambda m, out, x, y: (1, -1), "promote"),
    "mul": Rule("{0} * {1}", lambda sp, x, y: x * y, lambda m, out, x, y: (y, x), "promote"),
    "div": Rule("{0} / {1}", lambda sp, x, y: x / y, lambda m, out, x, y: (1 / y, -out / y)),
    "neg": Rule("-{0}", lambda sp, x: -x, lambda m, out, x: (-1,), "promote"),
    "pow": Rule("{0} ** {1}", lambda sp, x, y: x**y, lambda m, out, x, y: (m.pow_base(x, y), m.xlogy(out, x)), "promote"),
    "floordiv": Rule("{0} // {1}", lambda sp, x, y: sp.floor(x / y), None, "promote"),
    "mod": Rule("{0} % {1}", lambda sp, x, y: sp.Mod(x, y), lambda m, out, x, y: (1, -(x // y)), "promote"),
    "copy": Rule("{0}", lambda sp, x: x, lambda m, out, x: (1,), "promote"),
    # comparisons and logic: piecewise constant
    "lt": Rule("{0} < {1}", lambda sp, x, y: sp.Lt(x, y), None, "bool"),
    "le": Rule("{0} <= {1}", lambda sp, x, y: sp.Le(x, y), None, "bool"),
    "gt": Rule("{0} > {1}", lambda sp, x, y: sp.Gt(x, y), None, "bool"),
    "ge": Rule("{0} >= {1}", lambda sp, x, y: sp.Ge(x, y), None, "bool"),
    "eq": Rule("{0} == {1}", lambda sp, x, y: sp.Eq(x, y), None, "bool"),
    "ne": Rule("{0} != {1}", lambda sp, x, y: sp.Ne(x, y), None, "bool"),
    "not": Rule("not {0}", lambda sp, x: sp.Not(x), None, "bool"),
    "and": Rule("{0} and {1}", lambda sp, x, y: sp.And(x, y), None, "bool"),
    "or": Rule("{0} or {1}", lambda sp, x, y: sp.Or(x, y), None, "bool"),
    # helpers that derivatives are written with
    "sign": Rule("1.0 if {0} > 0 else -1.0 if {0} < 0 else 0.0", lambda sp, x: sp.sign(x), None),
    "step": Rule("1.0 if {0} > {1} else 0.5 if {0} == {1} else 0.0", lambda sp, x, y: sp.Heaviside(x - y), None),
    # The gradient g that max, min and abs pass back, g * step(x, y), g * (1 - step(x, y)) and g * sign(x),
    # written as the choice they make: the same numbers bit for bit (`g * 1.0` is g), without the products.
    # The optimizer writes them; their partial 0 (an int) says x and y only choose.
    "gate": Rule(
        "{2} if {0} > {1} else 0.5 * {2} if {0} == {1} else {2} * 0.0",
        lambda sp, x, y, g: g * sp.Heaviside(x - y),
        lambda m, out, x, y, g: (0, 0, m.step(x, y)),
    ),
    "gate_else": Rule(
        "{2} * 0.0 if {0} > {1} else 0.5 * {2} if {0} == {1} else {2}",
        lambda sp, x, y, g: g * (1 - sp.Heaviside(x - y)),
        lambda m, out, x, y, g: (0, 0, 1 - m.step(x, y)),
    ),
    "gate_sign": Rule(
        "{1} if {0} > 0 else -{1} if {0} < 0 else {1} * 0.0", lambda sp, x, g: g * sp.sign(x), lambda m, out, x, g: (0, m.sign(x))
    ),
    # 1 / (1 + exp(-x)), the partial of logaddexp: exact in both tails and never overflowing, as each side
    # takes exp of a number at most 0
    "expit": Rule(
        "1.0 / (1.0 + math.exp(-{0})) if {0} >= 0 else math.exp({0}) / (1.0 + math.exp({0}))",
        lambda sp, x: 1 / (1 + sp.exp(-x)),
        lambda m, out, x: (out * (1 - out),),
    ),
    # x * log(y), and 0 where x is 0 (so d(0 ** y)/dy is 0, as 0 ** y is 0 for every y > 0)
    # x * log(y) where y > 0, else 0: the partial of x ** y in y. Where the base y is 0, 0 ** e is 0 for
    # every e > 0; where it is negative, x ** e is real only at whole e, where it has no derivative in e:
    # 0, as for every piecewise-constant operation (and an int exponent gets no gradient at all).
    "xlogy": Rule(
        "{0} * math.log({1}) if {1} > 0 else 0.0",
        lambda sp, x, y: x * sp.log(y),  # where it is differentiable, y > 0
        lambda m, out, x, y: (m.xlogy(1.0, y), m.div_pos(x, y)),
    ),
    # x / y where y > 0, else 0: the partial of xlogy in y
    "div_pos": Rule(
        "{0} / {1} if {1} > 0 else 0.0",
        lambda sp, x, y: x / y,
        lambda m, out, x, y: (m.div_pos(1.0, y), -m.div_pos(out, y)),
    ),
    # y * x ** (y - 1), the partial of x ** y in x, and 0 where y is 0 (x ** 0 is 1 for every x, 0 too,
    # where x ** -1 would divide by zero). A constant y is written out: `3 * x ** 2`.
    "pow_base": Rule(
        "{1} * {0} ** ({1} - 1) if {1} else 0.0",
        lambda sp, x, y: y * x ** (y - 1),
        lambda m, out, x, y: (y * m.pow_base(x, y - 1), x ** (y - 1) + y * m.xlogy(x ** (y - 1), x)),
        "promote",
        expand=lambda m, x, y: None if not isinstance(y, (int, float)) else y * x ** (y - 1) if y else 0,
    ),
    "fpow_base": Rule(
        "{1} * math.pow({0}, {1} - 1) if {1} else 0.0",
        lambda sp, x, y: y * x ** (y - 1),
        lambda m, out, x, y: (y * m.fpow_base(x, y - 1), m.fpow(x, y - 1) + y * m.xlogy(m.fpow(x, y - 1), x)),
        expand=lambda m, x, y: None if not isinstance(y, (int, float)) else y * m.fpow(x, y - 1) if y else 0,
    ),
    # builtins
    "abs": Rule("abs({0})", lambda sp, x: sp.Abs(x), lambda m, out, x: (m.sign(x),), "promote", names=("abs",)),
    # Two-argument max and min are spelled as the builtins decide (max(x, y) is y only when y > x), which
    # is the same value and type, without the call.
    "max": Rule(
        "{1} if {1} > {0} else {0}",
        lambda sp, x, y: sp.Max(x, y),
        lambda m, out, x, y: (m.step(x, y), 1 - m.step(x, y)),
        "promote",
        names=("max",),
    ),
    "min": Rule(
        "{1} if {1} < {0} else {0}",
        lambda sp, x, y: sp.Min(x, y),
        lambda m, out, x, y: (m.step(y, x), 1 - m.step(y, x)),
        "promote",
        names=("min",),
    ),
    "float": Rule("float({0})", lambda sp, x: x, lambda m, out, x: (1,), names=("float",)),
    "int": Rule("int({0})", lambda sp, x: sp.sign(x) * sp.floor(sp.Abs(x)), None, "int", names=("int",)),
    "round": Rule("round({0})", lambda sp, x: sp.floor(x + sp.Rational(1, 2)), None, "int", names=("round",)),
    # round(x, n): to n decimal places (n whole, maybe negative); an int stays an int, as in Python
    "round_digits": Rule(
        "round({0}, {1})",
        lambda sp, x, n: sp.floor(x * 10**n + sp.Rational(1, 2)) / 10**n,
        None,
        "promote",
        names=("round",),
        whole=(1,),
    ),
    "fpow_builtin": Rule(
        "pow({0}, {1})",
        lambda sp, x, y: x**y,
        lambda m, out, x, y: (m.pow_base(x, y), m.xlogy(out, x)),
        "promote",
        names=("pow",),
    ),
    # the math module
    "sin": _math("sin", lambda sp, x: sp.sin(x), lambda m, out, x: (m.cos(x),)),
    "cos": _math("cos", lambda sp, x: sp.cos(x), lambda m, out, x: (-m.sin(x),)),
    "tan": _math("tan", lambda sp, x: sp.tan(x), lambda m, out, x: (1 + out**2,)),
    "asin": _math("asin", lambda sp, x: sp.asin(x), lambda m, out, x: (1 / m.sqrt(1 - x**2),)),
    "acos": _math("acos", lambda sp, x: sp.acos(x), lambda m, out, x: (-1 / m.sqrt(1 - x**2),)),
    "atan": _math("atan", lambda sp, x: sp.atan(x), lambda m, out, x: (1 / (1 + x**2),)),
    "atan2": _math(
        "atan2", lambda sp, y, x: sp.atan2(y, x), lambda m, out, y, x: (x / (x**2 + y**2), -y / (x**2 + y**2)), arity=2
    ),
    "sinh": _math("sinh", lambda sp, x: sp.sinh(x), lambda m, out, x: (m.cosh(x),)),
    "cosh": _math("cosh", lambda sp, x: sp.cosh(x), lambda m, out, x: (m.sinh(x),)),
    "tanh": _math("tanh", lambda sp, x: sp.tanh(x), lambda m, out, x: (1 - out**2,)),
    "asinh": _math("asinh", lambda sp, x: sp.asinh(x), lambda m, out, x: (1 / m.sqrt(x**2 + 1),)),
    "acosh": _math("acosh", lambda sp, x: sp.acosh(x), lambda m, out, x: (1 / m.sqrt(x**2 - 1),)),
    "atanh": _math("atanh", lambda sp, x: sp.atanh(x), lambda m, out, x: (1 / (1 - x**2),)),
    "exp": _math("exp", lambda sp, x: sp.exp(x), lambda m, out, x: (out,)),
    "expm1": _math("expm1", lambda sp, x: sp.exp(x) - 1, lambda m, out, x: (m.exp(x),)),  # not out + 1: 0 at x << 0
    "log": _math("log", lambda sp, x: sp.log(x), lambda m, out, x: (1 / x,)),
    "logb": Rule(
        "math.log({0}, {1})",
        lambda sp, x, b: sp.log(x) / sp.log(b),
        lambda m, out, x, b: (1 / (x * m.log(b)), -out / (b * m.log(b))),
        names=("math.log",),
    ),
    "log1p": _math("log1p", lambda sp, x: sp.log(1 + x), lambda m, out, x: (1 / (1 + x),)),
    "log2": _math("log2", lambda sp, x: sp.log(x) / sp.log(2), lambda m, out, x: (1 / (x * math.log(2)),)),
    "log10": _math("log10", lambda sp, x: sp.log(x) / sp.log(10), lambda m, out, x: (1 / (x * math.log(10)),)),
    "sqrt": _math("sqrt", lambda sp, x: sp.sqrt(x), lambda m, out, x: (0.5 / out,)),
    "hypot": _math(
        "hypot", lambda sp, x, y: sp.sqrt(x**2 + y**2), lambda m, out, x, y: (m.div_pos(x, out), m.div_pos(y, out)), arity=2
    ),
    "fpow": _math("pow", lambda sp, x, y: x**y, lambda m, out, x, y: (m.fpow_base(x, y), m.xlogy(out, x)), arity=2),
    "copysign": _math(
        "copysign",
        lambda sp, x, y: sp.Abs(x) * sp.sign(y),
        lambda m, out, x, y: (m.sign(x) * m.copysign(1.0, y), 0),  # y only chooses the sign
        arity=2,
    ),
    "cbrt": _math("cbrt", lambda sp, x: sp.sign(x) * sp.Abs(x) ** sp.Rational(1, 3), lambda m, out, x: (1 / (3 * out**2),)),
    "exp2": _math("exp2", lambda sp, x: 2**x, lambda m, out, x: (out * math.log(2),)),
    # x * 2**i for a whole number i (read as a real number, as x ** n is).
    "ldexp": _math("ldexp", lambda sp, x, i: x * 2**i, lambda m, out, x, i: (2.0**i, out * math.log(2)), arity=2, whole=(1,)),
    # the gamma function and log|gamma| (rules/special.py); their derivatives need digamma and polygamma,
    # which generated modules define themselves (`helper`), as math has neither
    "gamma": _math("gamma", lambda sp, x: sp.gamma(x), lambda m, out, x: (out * m.digamma(x),)),
    "lgamma": Rule(
        "math.lgamma({0})", log_abs_gamma, lambda m, out, x: (m.digamma(x),), names=("math.lgamma",), mpmath=lgamma_mpmath
    ),
    "digamma": Rule(
        "_digamma({0})",
        lambda sp, x: sp.polygamma(0, x),
        lambda m, out, x: (m.polygamma(1, x),),
        names=("_digamma",),
        helper=DIGAMMA,
        mpmath=lambda mp, x: polygamma_mpmath(mp, 0, x),
    ),
    # psi_n(x) for a whole order n >= 1 (a constant of the derivative formulas): no derivative in n
    "polygamma": Rule(
        "_polygamma({0}, {1})",
        lambda sp, n, x: sp.polygamma(n, x),
        lambda m, out, n, x: (0, m.polygamma(n + 1, x)),
        names=("_polygamma",),
        whole=(0,),
        helper=POLYGAMMA,
        mpmath=polygamma_mpmath,
    ),
    "isfinite": _math("isfinite", lambda sp, x: sp.true, None, "bool"),
    "isnan": _math("isnan", lambda sp, x: sp.false, None, "bool"),
    "isinf": _math("isinf", lambda sp, x: sp.false, None, "bool"),
    "fabs": _math("fabs", lambda sp, x: sp.Abs(x), lambda m, out, x: (m.sign(x),)),
    "erf": _math("erf", lambda sp, x: sp.erf(x), lambda m, out, x: (2 / math.sqrt(math.pi) * m.exp(-(x**2)),)),
    "erfc": _math("erfc", lambda sp, x: sp.erfc(x), lambda m, out, x: (-2 / math.sqrt(math.pi) * m.exp(-(x**2)),)),
    "degrees": _math("degrees", lambda sp, x: x * 180 / sp.pi, lambda m, out, x: (180 / math.pi,)),
    "radians": _math("radians", lambda sp, x: x * sp.pi / 180, lambda m, out, x: (math.pi / 180,)),
    "floor": _math("floor", lambda sp, x: sp.floor(x), None, "int"),
    "ceil": _math("ceil", lambda sp, x: sp.ceiling(x), None, "int"),
    "trunc": _math("trunc", lambda sp, x: sp.sign(x) * sp.floor(sp.Abs(x)), None, "int"),
}
