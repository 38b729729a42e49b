"""Shape rules: the type of an array operation's result, and which axes an adjoint is summed over.

An array's type is `ir.ArrayOf(elem, shape)`; each size in the shape is an
int (known when the code is generated: 1, or a constant the program wrote),
a name (`"W.shape[0]"`: known to be more than 1, as in the arguments the
gradient was specialised on) or `UNKNOWN` (computed at run time: it may be 1).
Broadcasting follows NumPy: shapes are aligned on the right, a size 1 takes
the other size. Where two named sizes meet, NumPy raises unless they are
equal, so either name will do.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from ..ir import BOOL, FLOAT, ArrayOf, Dim, Scalar, Type

UNKNOWN = "?"  # a size computed when the code runs, which may be 1


def read_off(size: object) -> tuple[str, int] | None:
    """The parameter and axis a size is named after (`W.shape[0]`, as `pipeline.array_type` names them)."""
    found = _READ_OFF.fullmatch(size) if isinstance(size, str) else None
    return (found.group(1), int(found.group(2))) if found else None


_READ_OFF = re.compile(r"([A-Za-z_]\w*)\.shape\[(\d+)\]")


def is_array(type_: Type | None) -> bool:
    return isinstance(type_, ArrayOf)


def dims(type_: Type) -> tuple[Dim, ...]:
    """The shape of an array, `()` for a number (a number broadcasts as a 0-d array)."""
    return type_.shape if isinstance(type_, ArrayOf) else ()


def _meet(a: Dim, b: Dim) -> Dim:
    if a == 1:
        return b
    if b == 1:
        return a
    if isinstance(a, int):
        return a
    if isinstance(b, int) or a == UNKNOWN:
        return b
    return a


def broadcast_shape(shapes: Sequence[tuple[Dim, ...]]) -> tuple[Dim, ...]:
    ndim = max((len(s) for s in shapes), default=0)
    result: list[Dim] = [1] * ndim
    for shape in shapes:
        for k, size in enumerate(shape):
            axis = ndim - len(shape) + k
            result[axis] = _meet(result[axis], size)
    return tuple(result)


def broadcast_for_certain(types: Sequence[Type]) -> bool:
    """Whether these operands are NumPy float arrays and numbers whose shapes broadcast whatever the sizes
    named in them are: along each axis one size (a constant or a name) besides 1, never one computed when the
    code runs, unless a single operand has a size there (`np.sin(x[mask])`, `x[mask] ** 2`). (Named sizes
    that are equal share one name: `pipeline.argument_types`.)"""
    if not any(isinstance(t, ArrayOf) for t in types):
        return False
    for t in types:
        if isinstance(t, ArrayOf):
            if t.elem != FLOAT:
                return False
        elif not (isinstance(t, Scalar) and t.kind in ("float", "int", "bool")):
            return False
    ndim = max(len(dims(t)) for t in types)
    for axis in range(1, ndim + 1):
        sizes = [dims(t)[-axis] for t in types if len(dims(t)) >= axis and dims(t)[-axis] != 1]
        if len(sizes) > 1 and (UNKNOWN in sizes or len(set(sizes)) > 1):
            return False
    return True


def elementwise(types: Sequence[Type], elem: Scalar = FLOAT) -> Type | None:
    """The type of an elementwise operation's result: an array of the broadcast shape if an operand is
    an array, else None (the scalar rule types it)."""
    if not any(isinstance(t, ArrayOf) for t in types):
        return None
    return ArrayOf(elem, broadcast_shape([dims(t) for t in types]))


def elem_of(result: str) -> Scalar:
    return BOOL if result == "bool" else FLOAT


def summed_axes(source: Type, target: Type) -> tuple[tuple[int, ...], tuple[int, ...]] | None:
    """How an adjoint shaped like `source` (a broadcast result) is summed back to `target`'s shape:
    the leading axes `target` lacks (summed away), then the axes where `target` has size 1 and `source`
    not (summed, keeping them). None where a size unknown until run time decides it."""
    have, want = dims(source), dims(target)
    if len(want) > len(have):
        return None
    leading = tuple(range(len(have) - len(want)))
    kept: list[int] = []
    for k, (size, wanted) in enumerate(zip(have[len(leading) :], want)):
        if wanted == 1 and size != 1:
            if size == UNKNOWN:
                return None
            kept.append(k)
        elif wanted == UNKNOWN and size != 1:
            return None
    return leading, tuple(kept)


def reduced(type_: Type, axis: int | None, keepdims: bool) -> Type:
    """The type of a reduction of `type_` over `axis` (None: all of them)."""
    shape = dims(type_)
    if axis is None:
        if keepdims:
            return ArrayOf(FLOAT, (1,) * len(shape))
        return FLOAT
    axis = axis % len(shape) if shape else 0
    rest = shape[:axis] + ((1,) if keepdims else ()) + shape[axis + 1 :]
    return ArrayOf(FLOAT, rest) if rest or keepdims else FLOAT


def matmul(left: Type, right: Type) -> Type:
    a, b = dims(left), dims(right)
    if len(a) == 1 and len(b) == 1:
        return FLOAT
    if len(a) == 1:
        return ArrayOf(FLOAT, b[:-2] + b[-1:])
    if len(b) == 1:
        return ArrayOf(FLOAT, a[:-1])
    return ArrayOf(FLOAT, broadcast_shape([a[:-2], b[:-2]]) + (a[-2], b[-1]))


def transposed(type_: Type) -> Type:
    return ArrayOf(FLOAT, tuple(reversed(dims(type_)))) if isinstance(type_, ArrayOf) else type_
