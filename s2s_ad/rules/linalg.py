"""Linear algebra on arrays: trace, determinant, inverse, solving a linear system.

Each adjoint is the textbook one (Giles, "An extended collection of matrix
derivative results for forward and reverse mode AD", 2008): for `d = det(A)`,
`A_bar = d_bar * d * inv(A).T`; for `B = inv(A)`, `A_bar = -B.T @ B_bar @ B.T`;
for `x = solve(A, b)`, `b_bar = solve(A.T, x_bar)` and `A_bar = -b_bar x.T`.
The inverse and the solve raise NumPy's `LinAlgError` for a singular matrix,
in the gradient as in the function.
"""

from __future__ import annotations

from ..ir import FLOAT, Assign, Const, Operand, Type, Var
from . import array_tangents, shapes
from .arrays import array_op, like_first, like_second, name_of, operand_type
from .core import Rule
from .lists import ReverseSweep


def _number(types: tuple[Type, ...], args: tuple[Operand, ...]) -> Type:
    return FLOAT


def _trace_reverse(sweep: ReverseSweep, stmt: Assign, bar: Operand) -> None:
    """The diagonal gets the trace's adjoint: `A_bar = t_bar * np.eye(*A.shape)`."""
    a = stmt.args[0]
    if sweep.active(a):
        eye = sweep.emit("eye_like", a, type_=operand_type(sweep, a), loc=stmt.loc)
        sweep.accumulate(name_of(a), sweep.emit("mul", bar, eye, type_=operand_type(sweep, a), loc=stmt.loc), Const(1), stmt.loc)


def _det_reverse(sweep: ReverseSweep, stmt: Assign, bar: Operand) -> None:
    a = stmt.args[0]
    if sweep.active(a):
        loc, ta = stmt.loc, operand_type(sweep, a)
        inverse = sweep.emit("numpy.linalg.inv", a, type_=ta, loc=loc)
        scale = sweep.emit("mul", bar, Var(stmt.target), type_=FLOAT, loc=loc)
        part = sweep.emit("mul", scale, sweep.emit("transpose", inverse, type_=ta, loc=loc), type_=ta, loc=loc)
        sweep.accumulate(name_of(a), part, Const(1), loc)


def _inv_reverse(sweep: ReverseSweep, stmt: Assign, bar: Operand) -> None:
    a = stmt.args[0]
    if sweep.active(a):
        loc, ta = stmt.loc, operand_type(sweep, a)
        inverse_t = sweep.emit("transpose", Var(stmt.target), type_=ta, loc=loc)
        part = sweep.emit("matmul", sweep.emit("matmul", inverse_t, bar, type_=ta, loc=loc), inverse_t, type_=ta, loc=loc)
        sweep.accumulate(name_of(a), sweep.emit("neg", part, type_=ta, loc=loc), Const(1), loc)


def _solve_reverse(sweep: ReverseSweep, stmt: Assign, bar: Operand) -> None:
    a, b = stmt.args
    if not (sweep.active(a) or sweep.active(b)):
        return
    loc, ta, tb = stmt.loc, operand_type(sweep, a), operand_type(sweep, b)
    b_bar = sweep.emit("numpy.linalg.solve", sweep.emit("transpose", a, type_=ta, loc=loc), bar, type_=tb, loc=loc)
    if sweep.active(a):  # first: accumulating into b may rename b_bar's temporary
        x = Var(stmt.target)
        if len(shapes.dims(tb)) == 1:
            product = sweep.emit("numpy.outer", b_bar, x, type_=ta, loc=loc)
        else:
            product = sweep.emit(
                "matmul", b_bar, sweep.emit("transpose", x, type_=shapes.transposed(tb), loc=loc), type_=ta, loc=loc
            )
        sweep.accumulate(name_of(a), sweep.emit("neg", product, type_=ta, loc=loc), Const(1), loc)
    if sweep.active(b):
        sweep.accumulate(name_of(b), b_bar, Const(1), loc)


LINALG: dict[str, Rule] = {
    "numpy.trace": array_op("numpy.trace({0})", _number, _trace_reverse, names=("numpy.trace",)),
    "numpy.linalg.det": array_op(
        "numpy.linalg.det({0})", _number, _det_reverse, names=("numpy.linalg.det",), tangent=array_tangents.det
    ),
    "numpy.linalg.inv": array_op(
        "numpy.linalg.inv({0})", like_first, _inv_reverse, names=("numpy.linalg.inv",), tangent=array_tangents.inv
    ),
    "numpy.linalg.solve": array_op(
        "numpy.linalg.solve({0}, {1})", like_second, _solve_reverse, names=("numpy.linalg.solve",), tangent=array_tangents.solve
    ),
    "eye_like": Rule("numpy.eye(*{0}.shape)", None, None, "float", structural=True, shape=like_first, flows=()),
}
