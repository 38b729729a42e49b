"""THE table of primitives: how each is spelled in Python and in SymPy, and its derivative.

Each entry is written once. `python` is the spelling in generated code, with
`{0}`, `{1}` for the operands. `sympy(sp, *args)` builds the SymPy expression
from the `sympy` module passed in (so importing this table never imports
SymPy). `partials(m, out, *args)` gives one partial derivative per argument,
written with Python operators and `m.<primitive>(...)`: the same formula
emits IR in the reverse and forward transforms and SymPy expressions in the
check. `out` is the primitive's own result, so a rule can reuse what the
forward sweep computed (d exp(x)/dx is `out`). `partials=None` marks a
primitive that is piecewise constant: its derivative is zero where it exists.

Conventions at the points where a derivative does not exist, chosen to agree
with SymPy's: d|x|/dx at 0 is 0 (`sign(0) = 0`); at a tie `max(x, y)` and
`min(x, y)` send half the gradient to each argument (`Heaviside(0) = 1/2`).

The table is assembled here from `scalar` (with `special`, the gamma
function's family), `lists` (list operations and effects, with their
structural templates) and `builtins` (`math.fsum`, `math.prod`, `math.dist`,
`sorted`) and `schedules` (the checkpointing schedules' helpers); `core` has the Rule
dataclass, `emit` builds IR from the derivative formulas, `numba` the numba
backend's spellings and refusals.
"""

from __future__ import annotations

import dataclasses
import math

from ..ir import Const
from .algebra import simplify_mul, simplify_neg, simplify_pow
from .arrays import ARRAYS, numpy_counterparts
from .builtins import BUILTIN_LISTS
from .core import Rule
from .joins import JOINS
from .linalg import LINALG
from .lists import EFFECTS, LISTS, copy_reverse_list, zeros_op
from .numba import with_numba_facts
from .reductions import REDUCTIONS
from .scalar import SCALAR
from .schedules import SCHEDULES
from .slices import SLICES

RULES: dict[str, Rule] = {**SCALAR, **LISTS, **SLICES, **BUILTIN_LISTS, **EFFECTS, **SCHEDULES}

RULES["mul"] = dataclasses.replace(RULES["mul"], symbol="×")  # the gate of the lecture slides

# How the check computes these in high precision (mpmath's function of the same name differs from Python's).
for _op, _mpmath in (
    ("logb", lambda mp, x, b: mp.log(x) / mp.log(b)),
    ("log2", lambda mp, x: mp.log(x, 2)),
    ("exp2", lambda mp, x: mp.power(2, x)),
    ("cbrt", lambda mp, x: mp.sign(x) * mp.cbrt(abs(x))),  # the real cube root, as Python's
    ("copysign", lambda mp, x, y: abs(x) if y >= 0 else -abs(x)),
    ("fpow", lambda mp, x, y: mp.power(x, y)),
):
    if _op in RULES:
        RULES[_op] = dataclasses.replace(RULES[_op], mpmath=_mpmath)

# The gates pass their adjoint operand on as it is on some paths: an int adjoint gives an int there; so do
# max and min their operands (`max(1, 0.5)` is the int 1).
for _op, _chosen in (("gate", (2,)), ("gate_else", (2,)), ("gate_sign", (1,)), ("max", (0, 1)), ("min", (0, 1))):
    RULES[_op] = dataclasses.replace(RULES[_op], chooses=_chosen)
RULES["prod"] = dataclasses.replace(RULES["prod"], int_when_empty=True)  # `math.prod([])` is the int 1

# Algebra for the optimizer: exact rewrites, and where signs may move (optimize/peephole.py, signs.py).
RULES["pow"] = dataclasses.replace(RULES["pow"], simplify=simplify_pow)
RULES["mul"] = dataclasses.replace(RULES["mul"], simplify=simplify_mul, odd=True, commutative=True)
RULES["neg"] = dataclasses.replace(RULES["neg"], simplify=simplify_neg, negation=True)
RULES["div"] = dataclasses.replace(RULES["div"], odd=True)
RULES["add"] = dataclasses.replace(RULES["add"], negated_second="sub", commutative=True)
RULES["sub"] = dataclasses.replace(RULES["sub"], negated_second="add")
# Python specializes these for two floats only: `2 * x` takes a slower path than `2.0 * x`, which is the
# same value (Python converts the int first), as is `x > 0` and `x > 0.0`.
for _op in ("add", "sub", "mul", "div", "lt", "le", "gt", "ge", "eq", "ne"):
    RULES[_op] = dataclasses.replace(RULES[_op], float_specialized=True)
# A copy of a list is the same list, with the same adjoint.
RULES["copy"] = dataclasses.replace(RULES["copy"], copy=True, reverse_list=copy_reverse_list)
for _op in ("and", "or", "not"):
    RULES[_op] = dataclasses.replace(RULES[_op], logical=True)
for _op, _symbol in (("add", "+="), ("sub", "-="), ("mul", "*=")):
    RULES[_op] = dataclasses.replace(RULES[_op], augmented=_symbol)
# What the reverse sweep of a loop recomputes rather than tapes: one arithmetic operation on a value
# and a constant, and integer arithmetic (list reads say so in their own rules).
for _op in ("add", "sub", "mul", "neg"):
    RULES[_op] = dataclasses.replace(RULES[_op], cheap="arith")
for _op in ("floordiv", "mod", "copy", "min", "max"):
    RULES[_op] = dataclasses.replace(RULES[_op], cheap="int")


def _nonzero_divisor(args: tuple[object, ...]) -> bool:
    divisor = args[1]
    return isinstance(divisor, Const) and not isinstance(divisor.value, bool) and divisor.value != 0


def _root_exponent(args: tuple[object, ...]) -> bool:
    exponent = args[1]
    return isinstance(exponent, Const) and not isinstance(exponent.value, bool) and 0 <= exponent.value <= 1


# Operations that cannot raise on numbers: `a and b` may evaluate b eagerly when b is made of them, and
# an unread one may be dropped. Every other primitive may raise (`math.log(-1.0)`, `1 / 0`,
# `math.exp(1000.0)`, `math.sin(math.inf)`), and where the function raises, its gradient raises too.
for _op in (
    "add",
    "sub",
    "mul",
    "neg",
    "copy",
    "lt",
    "le",
    "gt",
    "ge",
    "eq",
    "ne",
    "not",
    "and",
    "or",
    "abs",
    "max",
    "min",
    "float",
    "len",
    "sign",
    "step",
    "expit",
    "gate",
    "gate_else",
    "gate_sign",
    "xlogy",
    "div_pos",
    "atan",
    "tanh",
    "atan2",
    "erf",
    "erfc",
    "fabs",
    "degrees",
    "radians",
    "hypot",
    "copysign",
    "isfinite",
    "isnan",
    "isinf",
    "index_of",
):
    RULES[_op] = dataclasses.replace(RULES[_op], safe=True)
# exp, expm1, sinh and cosh raise OverflowError past about 709.78: not safe either (`x < 1.0 and
# math.exp(c) <= y` must not compute exp(c) where x >= 1.0). Nor are sin, cos and tan: a product that
# overflowed to inf makes them raise ValueError.
# x ** c with a constant 0 <= c <= 1 cannot raise: |x| ** c <= max(|x|, 1) (`1e200 ** 2` raises
# OverflowError, `0.0 ** -1` ZeroDivisionError).
RULES["pow"] = dataclasses.replace(RULES["pow"], safe_if=_root_exponent)
for _op in ("sin", "cos", "tan"):
    RULES[_op] = dataclasses.replace(RULES[_op], raises_like="trigonometric")
# x / c, x // c and x % c with a constant c != 0 cannot divide by zero.
for _op in ("div", "floordiv", "mod"):
    RULES[_op] = dataclasses.replace(RULES[_op], safe_if=_nonzero_divisor, raises_by=(1,))


# NumPy: the scalar rules' elementwise counterparts (with every fact above), and the array operations.
_numpy, _linked = numpy_counterparts(RULES)
RULES.update(_linked)
RULES.update(_numpy)
RULES.update({**ARRAYS, **REDUCTIONS, **LINALG, **JOINS})
ARRAY_OPS = frozenset(_numpy) | frozenset(ARRAYS) | frozenset(REDUCTIONS) | frozenset(LINALG) | frozenset(JOINS)  # NumPy's
RULES["numpy.abs"] = dataclasses.replace(RULES["numpy.abs"], names=("numpy.abs", "numpy.absolute"))
# Shifts along an axis (ad/invariance.py): how `s + c`, c the same along the axis, passes through each
# operation; a stable softmax's `x - x.max(axis, keepdims=True)` feeds only ones that undo the shift.
_SHIFTS: dict[str, tuple[tuple[tuple[str, ...], str], ...]] = {
    "add": ((("plus", "same"), "plus"), (("same", "plus"), "plus")),
    "sub": ((("plus", "same"), "plus"), (("plus", "plus"), "same")),
    "mul": ((("times", "same"), "times"), (("same", "times"), "times")),
    "div": ((("times", "same"), "times"), (("times", "times"), "same")),
    "numpy.exp": ((("plus",), "times"),),
    "numpy.log": ((("times",), "plus"),),
}
for _op, _table in _SHIFTS.items():
    RULES[_op] = dataclasses.replace(RULES[_op], shifts=_table)
for _name in ("sum", "mean", "max", "min"):  # along the shift's axis, keeping it: (v + c) -> max(v) + c, ...
    _kept = ((("plus", "same"), "plus"), (("times", "same"), "times")) if _name != "sum" else ((("times", "same"), "times"),)
    RULES[f"{_name}_axis_keep"] = dataclasses.replace(RULES[f"{_name}_axis_keep"], shifts=_kept, along=True)
with_numba_facts(RULES)  # how the numba backend spells what numba compiles otherwise, and what it cannot compile

# How source code spells a call -> the primitive it is. `math.log` with two
# arguments is `logb`; `math.pow` is `fpow` (always a float, unlike `**`).
CALLS: dict[tuple[str, int], str] = {}
for _op, _rule in RULES.items():
    for _spelling in _rule.names:
        CALLS[(_spelling, _rule.arity)] = _op

# Python operators -> primitives, by the `ast` node's class name.
BINARY_OPERATORS = {
    "Add": "add",
    "Sub": "sub",
    "Mult": "mul",
    "Div": "div",
    "Pow": "pow",
    "FloorDiv": "floordiv",
    "Mod": "mod",
    "MatMult": "matmul",
}
COMPARISONS = {"Lt": "lt", "LtE": "le", "Gt": "gt", "GtE": "ge", "Eq": "eq", "NotEq": "ne"}

# Values of the math module that are constants.
MATH_CONSTANTS = {"pi": math.pi, "e": math.e, "tau": math.tau, "inf": math.inf, "nan": math.nan}


def differentiable(op: str) -> bool:
    rule = RULES.get(op)
    return rule is not None and rule.partials is not None


__all__ = [
    "ARRAY_OPS",
    "BINARY_OPERATORS",
    "CALLS",
    "COMPARISONS",
    "MATH_CONSTANTS",
    "RULES",
    "Rule",
    "differentiable",
    "zeros_op",
]
