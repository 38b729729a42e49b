"""Forward mode of the array operations: each one's tangent, written once (`Rule.tangent`).

Most array operations are linear in their first operand, the others being
constants (axes, sizes, indices, a shape to follow): the tangent is the same
operation on the operand's tangent (`linear`). A product is linear in each
factor (`bilinear`); a join in each piece (`pieces`, with zeros for a piece
that does not vary). A maximum passes on the tangents of the elements it
ties with, shared as its adjoint is; the linear-algebra ones are the
textbook differentials: `d det(A) = det(A) tr(A^-1 dA)`,
`d A^-1 = -A^-1 dA A^-1`, `d solve(A, b) = solve(A, db - dA x)`.
"""

from __future__ import annotations

from collections.abc import Callable

from ..ir import FLOAT, ArrayOf, Assign, Const, Effect, Operand, Type, Var
from . import shapes
from .lists import TangentSweep


def _type(sweep: TangentSweep, operand: Operand) -> Type:
    return sweep.types.get(operand.name, FLOAT) if isinstance(operand, Var) else FLOAT


def zero(sweep: TangentSweep, operand: Operand, stmt: Assign) -> Operand:
    """The tangent of what does not vary: zeros shaped like it (0.0 for a number)."""
    if sweep.has_tangent(operand):
        return sweep.tangent_of(operand)
    if isinstance(_type(sweep, operand), ArrayOf):
        return sweep.emit_temp("numpy.zeros_like", operand, type_=_type(sweep, operand), loc=stmt.loc)
    return Const(0.0)


def _total(sweep: TangentSweep, stmt: Assign, terms: list[Operand]) -> None:
    if not terms:
        return
    total = terms[0]
    for term in terms[1:]:
        total = sweep.emit_temp("add", total, term, type_=stmt.type, loc=stmt.loc)
    sweep.tangent[stmt.target] = total


def linear(sweep: TangentSweep, stmt: Assign) -> None:
    """Linear in the first operand: the same operation on its tangent."""
    x = stmt.args[0]
    if sweep.has_tangent(x):
        sweep.tangent[stmt.target] = sweep.emit(stmt.target, stmt.op, (sweep.tangent_of(x), *stmt.args[1:]), stmt.type, stmt.loc)


def linear_in_last(sweep: TangentSweep, stmt: Assign) -> None:
    """Linear in the last operand (the others say where, or how shaped): the same operation on its tangent."""
    value = stmt.args[-1]
    if sweep.has_tangent(value):
        sweep.tangent[stmt.target] = sweep.emit(
            stmt.target, stmt.op, (*stmt.args[:-1], sweep.tangent_of(value)), stmt.type, stmt.loc
        )


def bilinear(sweep: TangentSweep, stmt: Assign) -> None:
    """`a @ b`, `outer(a, b)`: `da @ b + a @ db`."""
    a, b = stmt.args
    terms = []
    if sweep.has_tangent(a):
        terms.append(sweep.emit_temp(stmt.op, sweep.tangent_of(a), b, type_=stmt.type, loc=stmt.loc))
    if sweep.has_tangent(b):
        terms.append(sweep.emit_temp(stmt.op, a, sweep.tangent_of(b), type_=stmt.type, loc=stmt.loc))
    _total(sweep, stmt, terms)


def pieces(sweep: TangentSweep, stmt: Assign) -> None:
    """A join of its operands (concatenate, stack, an array literal): the join of their tangents."""
    if any(sweep.has_tangent(a) for a in stmt.args):
        dots = tuple(zero(sweep, a, stmt) for a in stmt.args)
        sweep.tangent[stmt.target] = sweep.emit(stmt.target, stmt.op, dots, stmt.type, stmt.loc)


def extreme(total_op: str, spread: Callable[[TangentSweep, Assign, Operand], Operand]) -> Callable[..., None]:
    """A maximum (or minimum) reduction: the mean of the tangents of the elements tied at it."""

    def tangent(sweep: TangentSweep, stmt: Assign) -> None:
        x = stmt.args[0]
        if not sweep.has_tangent(x):
            return
        loc, tx = stmt.loc, _type(sweep, x)
        mask = sweep.emit_temp("ties", x, spread(sweep, stmt, Var(stmt.target)), type_=tx, loc=loc)
        moved = sweep.emit_temp("mul", mask, sweep.tangent_of(x), type_=tx, loc=loc)
        axis = stmt.args[1:]
        share = sweep.emit_temp(total_op, moved, *axis, type_=stmt.type, loc=loc)
        count = sweep.emit_temp(total_op, mask, *axis, type_=stmt.type, loc=loc)
        sweep.tangent[stmt.target] = sweep.emit(stmt.target, "div", (share, count), stmt.type, stmt.loc)

    return tangent


def det(sweep: TangentSweep, stmt: Assign) -> None:
    a = stmt.args[0]
    if sweep.has_tangent(a):
        loc, ta = stmt.loc, _type(sweep, a)
        inverse = sweep.emit_temp("numpy.linalg.inv", a, type_=ta, loc=loc)
        product = sweep.emit_temp("matmul", inverse, sweep.tangent_of(a), type_=ta, loc=loc)
        trace = sweep.emit_temp("numpy.trace", product, type_=FLOAT, loc=loc)
        sweep.tangent[stmt.target] = sweep.emit(stmt.target, "mul", (Var(stmt.target), trace), FLOAT, loc)


def inv(sweep: TangentSweep, stmt: Assign) -> None:
    a = stmt.args[0]
    if sweep.has_tangent(a):
        loc, ta, b = stmt.loc, _type(sweep, a), Var(stmt.target)
        left = sweep.emit_temp("matmul", b, sweep.tangent_of(a), type_=ta, loc=loc)
        product = sweep.emit_temp("matmul", left, b, type_=ta, loc=loc)
        sweep.tangent[stmt.target] = sweep.emit(stmt.target, "neg", (product,), ta, loc)


def solve(sweep: TangentSweep, stmt: Assign) -> None:
    a, b = stmt.args
    if not (sweep.has_tangent(a) or sweep.has_tangent(b)):
        return
    loc, tb = stmt.loc, _type(sweep, b)
    right = zero(sweep, b, stmt)
    if sweep.has_tangent(a):
        moved = sweep.emit_temp("matmul", sweep.tangent_of(a), Var(stmt.target), type_=tb, loc=loc)
        right = sweep.emit_temp("sub", right, moved, type_=tb, loc=loc)
    sweep.tangent[stmt.target] = sweep.emit(stmt.target, stmt.op, (a, right), stmt.type, loc)


def put(sweep: TangentSweep, stmt: Effect, items_dot: Operand) -> None:
    """`z[i] += g` (into zeros the reverse sweep made): `z_dot[i] += g_dot`."""
    value = stmt.args[-1]
    if sweep.has_tangent(value):
        sweep.out.append(Effect(stmt.op, (items_dot, *stmt.args[1:-1], sweep.tangent_of(value)), stmt.loc))


def expanded(axis_at: int = 1) -> Callable[[TangentSweep, Assign, Operand], Operand]:
    """A reduction's result with its reduced axis back (size 1): `np.expand_dims(out, axis)`."""

    def spread(sweep: TangentSweep, stmt: Assign, out: Operand) -> Operand:
        axis = stmt.args[axis_at]
        shape = list(shapes.dims(_type(sweep, out)))
        assert isinstance(axis, Const) and isinstance(axis.value, int)
        shape.insert(axis.value % (len(shape) + 1), 1)
        return sweep.emit_temp("numpy.expand_dims", out, axis, type_=ArrayOf(FLOAT, tuple(shape)), loc=stmt.loc)

    return spread


def kept(sweep: TangentSweep, stmt: Assign, out: Operand) -> Operand:
    return out
