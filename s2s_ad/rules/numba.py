"""What the numba backend needs to know of the primitives: spellings that compile under `numba.njit`
where the Python ones do not (or run slower there), and the primitives numba cannot compile at all.

`numba` spellings take `(texts, stmt, np)`: the operands as printed, the
statement (its type says what the result holds) and the name NumPy is
imported under. The refusals say what numba lacks, in words the user can act
on; the backend (`codegen.numba`) raises them at transform time, naming the
line, rather than leaving them to numba's traceback at the first call.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

from ..ir import ArrayOf, Assign, ListOf, Scalar, Type
from .core import Rule

_DTYPES = {"float": "", "int": ", {np}.int64", "bool": ", {np}.bool_"}


def _placeholder(type_: Type, np: str) -> str:
    """A value of `type_` for numba to type a list by: `0.0`, `[0.0]`, `np.empty((0, 0))`."""
    if isinstance(type_, Scalar):
        return {"float": "0.0", "int": "0", "bool": "False"}[type_.kind]
    if isinstance(type_, ListOf):
        return f"[{_placeholder(type_.elem, np)}]"
    assert isinstance(type_, ArrayOf)
    dtype = _DTYPES[type_.elem.kind].format(np=np)
    return f"{np}.empty({(0,) * len(type_.shape)}{dtype})"


def _tape_array(texts: tuple[str, ...], stmt: Assign, np: str) -> str:
    """A counted loop's record of a number: a NumPy array of that many, filled as the loop runs
    (`np.empty(n)`); of a list or an array: a list of that many, typed by its first item until the loop
    overwrites it (numba types a list by what it holds: `[0.0] * n` could not hold lists)."""
    assert isinstance(stmt.type, ListOf)
    elem = stmt.type.elem
    if isinstance(elem, Scalar):
        return f"{np}.empty({texts[1]}{_DTYPES[elem.kind].format(np=np)})"
    return f"[{_placeholder(elem, np)}] * {texts[1]}"


_SORTED_KEY = "numba cannot compile the derivative of sorted(...) (it sorts positions by a key function)"
_RANGE_SLICE = "numba cannot compile the derivative of a slice of a list (it slices a range)"
REFUSED: Mapping[str, str] = {
    "fsum": "numba cannot compile math.fsum",
    "prod": "numba cannot compile math.prod",
    "dist": "numba cannot compile math.dist",
    "argsort": _SORTED_KEY,
    "argsort_reverse": _SORTED_KEY,
    **{f"positions_{p}": _RANGE_SLICE for p in ("l", "u", "s", "lu", "ls", "us", "lus")},
    **{
        f"{r}_axis_keep": f"numba's NumPy has no keepdims= ({r}(axis=..., keepdims=True))"
        for r in ("sum", "mean", "max", "min", "prod")
    },
    **{f"{r}_axis": f"numba's NumPy has no axis= for {r}" for r in ("mean", "max", "min", "prod")},
}


def _expit(texts: tuple[str, ...], stmt: Assign, np: str) -> str:
    """The generated module's `_expit` imports NumPy, which numba cannot compile: its formula (an overflow of
    exp gives inf there, and 1 / inf is the 0 it should be)."""
    return f"1.0 / (1.0 + {np}.exp(-{texts[0]}))"


SPELLED = {"tape_array": _tape_array, "numpy.expit": _expit}


def with_numba_facts(rules: dict[str, Rule]) -> None:
    """Write the numba backend's spellings and refusals into the table."""
    for op, reason in REFUSED.items():
        rules[op] = dataclasses.replace(rules[op], numba_refused=reason)
    for op, spelling in SPELLED.items():
        rules[op] = dataclasses.replace(rules[op], numba=spelling)
