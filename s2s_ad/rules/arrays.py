"""NumPy: elementwise functions (from the scalar rules), linear algebra, reductions, shapes and indexing.

Elementwise NumPy functions are the scalar rules with a NumPy spelling: the
same SymPy meaning and the same partials (`numpy.tanh` reuses `tanh`'s
`1 - out ** 2`). A scalar rule names its NumPy counterpart in `on_arrays`, so
that a derivative formula written once (`m.cos(x)`) emits `np.cos` where `x`
is an array; the reverse sweep sums each adjoint back to its operand's shape
(`shapes.summed_axes`), which is the adjoint of broadcasting.

The other operations are linear or nearly so, and their adjoints are
templates, as for lists (`reverse(sweep, stmt, bar)`): `A @ B` sends
`bar @ B.T` and `A.T @ bar`, a sum sends its adjoint to every element, an
index adds its adjoint into zeros at the same place. Axes and `keepdims` are
constant operands (`x.sum(axis=1, keepdims=True)` is `sum_axis_keep(x, 1)`).
Generated code spells NumPy `numpy.<name>`; the printer writes the module's
name for it (`np`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from ..ir import FLOAT, INT, ArrayOf, Assign, Const, Effect, Loc, Operand, Type, Var
from . import array_tangents as tangents
from . import shapes
from .core import Rule
from .lists import ReverseSweep, TangentSweep, zeros_tangent

# The scalar rules' NumPy counterparts: scalar op -> NumPy function.
ELEMENTWISE = {
    "exp": "exp",
    "expm1": "expm1",
    "exp2": "exp2",
    "log": "log",
    "log1p": "log1p",
    "log2": "log2",
    "log10": "log10",
    "sqrt": "sqrt",
    "cbrt": "cbrt",
    "sin": "sin",
    "cos": "cos",
    "tan": "tan",
    "asin": "arcsin",
    "acos": "arccos",
    "atan": "arctan",
    "sinh": "sinh",
    "cosh": "cosh",
    "tanh": "tanh",
    "asinh": "arcsinh",
    "acosh": "arccosh",
    "atanh": "arctanh",
    "atan2": "arctan2",
    "hypot": "hypot",
    "abs": "abs",
    "fabs": "fabs",
    "sign": "sign",
    "max": "maximum",
    "min": "minimum",
    "pow": "power",  # not linked: a formula's `x ** 2` stays `x ** 2` on arrays
    "copysign": "copysign",
    "degrees": "degrees",
    "radians": "radians",
    "floor": "floor",
    "ceil": "ceil",
    "trunc": "trunc",
    "isfinite": "isfinite",
    "isnan": "isnan",
    "isinf": "isinf",
}

# Scalar helpers of the derivative formulas whose Python spelling is a conditional expression: on arrays,
# the same choice elementwise.
HELPERS = {
    "step": "numpy.heaviside({0} - {1}, 0.5)",
    "gate": "numpy.where({0} > {1}, {2}, numpy.where({0} == {1}, 0.5 * {2}, {2} * 0.0))",
    "gate_else": "numpy.where({0} > {1}, {2} * 0.0, numpy.where({0} == {1}, 0.5 * {2}, {2}))",
    "gate_sign": "numpy.where({0} > 0, {1}, numpy.where({0} < 0, -{1}, {1} * 0.0))",
    "xlogy": "numpy.where({1} > 0, {0} * numpy.log(numpy.where({1} > 0, {1}, 1.0)), 0.0)",
    "div_pos": "numpy.where({1} > 0, {0} / numpy.where({1} > 0, {1}, 1.0), 0.0)",
    "expit": "_expit({0})",
}
_EXPIT = '''def _expit(x):
    """1 / (1 + exp(-x)) elementwise, to 2.5e-16 relatively down to x = -709 (a large exp(-x) has as exact a
    reciprocal); below, where the true value is under 1.3e-308, it stays 1 / (1 + exp(709)): exp(-x) would overflow."""
    import numpy

    e = numpy.exp(numpy.minimum(-x, 709.0))
    e += 1.0  # a new array: in place, at most two arrays of x's size live at once
    return 1.0 / e'''
HELPER_SOURCES = {"expit": _EXPIT}  # the helpers' NumPy spellings that call a function the generated module defines


def _minus(a: Any, b: Any) -> Any:
    """a - b in a derivative formula, and a itself where b is the constant 0 (`logaddexp(0.0, z)`: the
    elementwise sigmoid of z is expit(z), with no pass over z to subtract nothing)."""
    operand = getattr(b, "operand", None)  # an emitted operand (the formula also runs on SymPy's symbols)
    zero = isinstance(operand, Const) and operand.value == 0 and not isinstance(operand.value, bool)
    return a if zero else a - b


def numpy_counterparts(scalar: dict[str, Rule]) -> tuple[dict[str, Rule], dict[str, Rule]]:
    """The NumPy rules made from the scalar ones, and the scalar rules with `on_arrays` set."""
    made: dict[str, Rule] = {}
    linked: dict[str, Rule] = {}
    for op, name in ELEMENTWISE.items():
        rule = scalar[op]
        operands = ", ".join(f"{{{i}}}" for i in range(rule.arity))
        numpy_op = f"numpy.{name}"
        made[numpy_op] = dataclasses.replace(
            rule,
            python=f"numpy.{name}({operands})",
            names=(numpy_op,),
            foldable=False,
            safe=False,
            safe_if=None,
            raises_like="",  # NumPy warns where `math` raises
            float_specialized=False,
            expand=None,
            cheap="",
            augmented=None,
            simplify=None,
        )
        if op != "pow":
            linked[op] = dataclasses.replace(rule, on_arrays=numpy_op)
    for op, python in HELPERS.items():
        numpy_op = f"numpy.{op}"
        made[numpy_op] = dataclasses.replace(
            scalar[op], python=python, names=(), foldable=False, cheap="", helper=HELPER_SOURCES.get(op)
        )
        linked[op] = dataclasses.replace(scalar[op], on_arrays=numpy_op)
    return made, linked


# -- types of the structural operations ------------------------------------------


def like_first(types: tuple[Type, ...], args: tuple[Operand, ...]) -> Type:
    return types[0]


def _matmul_type(types: tuple[Type, ...], args: tuple[Operand, ...]) -> Type:
    return shapes.matmul(types[0], types[1])


def _transpose_type(types: tuple[Type, ...], args: tuple[Operand, ...]) -> Type:
    return shapes.transposed(types[0])


def _outer_type(types: tuple[Type, ...], args: tuple[Operand, ...]) -> Type:
    (m,), (n,) = shapes.dims(types[0]) or (1,), shapes.dims(types[1]) or (1,)
    return ArrayOf(FLOAT, (m, n))


def axis_of(args: tuple[Operand, ...]) -> int:
    axis = args[1]
    assert isinstance(axis, Const) and isinstance(axis.value, int)
    return axis.value


def expanded_type(types: tuple[Type, ...], args: tuple[Operand, ...]) -> Type:
    shape = list(shapes.dims(types[0]))
    axis = axis_of(args)
    shape.insert(axis if axis >= 0 else len(shape) + 1 + axis, 1)
    return ArrayOf(FLOAT, tuple(shape))


def like_second(types: tuple[Type, ...], args: tuple[Operand, ...]) -> Type:
    return types[1]


def _int(types: tuple[Type, ...], args: tuple[Operand, ...]) -> Type:
    return INT


def _reshaped_type(types: tuple[Type, ...], args: tuple[Operand, ...]) -> Type:
    sizes = [a.value if isinstance(a, Const) and isinstance(a.value, int) and a.value >= 0 else shapes.UNKNOWN for a in args[1:]]
    return ArrayOf(FLOAT, tuple(sizes))


def _made_type(types: tuple[Type, ...], args: tuple[Operand, ...]) -> Type:
    sizes = [a.value if isinstance(a, Const) and isinstance(a.value, int) else shapes.UNKNOWN for a in args]
    return ArrayOf(FLOAT, tuple(sizes))


def _literal_type(types: tuple[Type, ...], args: tuple[Operand, ...]) -> Type:
    return ArrayOf(FLOAT, (len(args),))


# -- reverse mode -------------------------------------------------------------------


def name_of(operand: Operand) -> str:
    assert isinstance(operand, Var)
    return operand.name


def operand_type(sweep: ReverseSweep, operand: Operand) -> Type:
    return sweep.types.get(operand.name, FLOAT) if isinstance(operand, Var) else FLOAT


def adjoint_by(op: str, *operands: Callable[[Assign], Operand]) -> Callable[..., None]:
    """The reverse of an operation linear in its first operand x: `x_bar += op(bar, *operands(stmt))` (the
    transpose of a transpose, the reshape back of a reshape)."""

    def reverse(sweep: ReverseSweep, stmt: Assign, bar: Operand) -> None:
        x = stmt.args[0]
        if sweep.active(x):
            part = sweep.emit(op, bar, *(pick(stmt) for pick in operands), type_=operand_type(sweep, x), loc=stmt.loc)
            sweep.accumulate(name_of(x), part, Const(1), stmt.loc)

    return reverse


def first_operand(stmt: Assign) -> Operand:
    return stmt.args[0]


def _matmul_reverse(sweep: ReverseSweep, stmt: Assign, bar: Operand) -> None:
    """`C = A @ B`: `A_bar += C_bar @ B.T`, `B_bar += A.T @ C_bar`, as vectors and matrices (a vector
    operand's adjoint is a matrix-vector product, a matrix's next to a vector an outer product)."""
    a, b = stmt.args
    ta, tb = operand_type(sweep, a), operand_type(sweep, b)
    na, nb = len(shapes.dims(ta)), len(shapes.dims(tb))
    if na == 0 or nb == 0 or (max(na, nb) > 2 and min(na, nb) < 2):
        raise sweep.refuse(stmt.loc, "'@' of a vector and a stack of matrices cannot be differentiated yet", None)
    loc = stmt.loc
    if na > 2 and nb == 2:
        _stack_times_matrix_reverse(sweep, stmt, bar)
        return
    if max(na, nb) > 2:  # stacks of matrices: the same adjoints, matrix by matrix, summed over broadcast stacks
        if sweep.active(a):
            bt = sweep.emit("swap_last", b, type_=_swapped(tb), loc=loc)
            part = sweep.emit("matmul", bar, bt, type_=shapes.matmul(operand_type(sweep, bar), _swapped(tb)), loc=loc)
            sweep.accumulate(name_of(a), part, Const(1), loc)
        if sweep.active(b):
            at = sweep.emit("swap_last", a, type_=_swapped(ta), loc=loc)
            part = sweep.emit("matmul", at, bar, type_=shapes.matmul(_swapped(ta), operand_type(sweep, bar)), loc=loc)
            sweep.accumulate(name_of(b), part, Const(1), loc)
        return
    if sweep.active(a):
        if na == 2 and nb == 2:
            bt = sweep.emit("transpose", b, type_=shapes.transposed(tb), loc=loc)
            part = sweep.emit("matmul", bar, bt, type_=ta, loc=loc)
        elif na == 2:
            part = sweep.emit("numpy.outer", bar, b, type_=ta, loc=loc)
        elif nb == 2:
            part = sweep.emit("matmul", b, bar, type_=ta, loc=loc)
        else:
            part = sweep.emit("mul", bar, b, type_=ta, loc=loc)
        sweep.accumulate(name_of(a), part, Const(1), loc)
    if sweep.active(b):
        if na == 2:
            at = sweep.emit("transpose", a, type_=shapes.transposed(ta), loc=loc)
            part = sweep.emit("matmul", at, bar, type_=tb, loc=loc)
        elif nb == 2:
            part = sweep.emit("numpy.outer", a, bar, type_=tb, loc=loc)
        else:
            part = sweep.emit("mul", bar, a, type_=tb, loc=loc)
        sweep.accumulate(name_of(b), part, Const(1), loc)


def _stack_times_matrix_reverse(sweep: ReverseSweep, stmt: Assign, bar: Operand) -> None:
    """`C = A @ B`, A a stack of matrices (tokens of sequences) and B one matrix (a weight): the stack's rows
    are one matrix's rows, so each adjoint is one matrix product over all of them (one GEMM, not one per
    matrix of the stack and a sum): `B_bar += A2.T @ C_bar2` and `A_bar += (C_bar2 @ B.T).reshape(A.shape)`,
    with `A2 = A.reshape(-1, A.shape[-1])` and `C_bar2` the same of C_bar."""
    a, b = stmt.args
    ta, tb, loc = operand_type(sweep, a), operand_type(sweep, b), stmt.loc
    rows_of_bar = _rows(sweep, bar, loc)
    if sweep.active(a):
        bt = sweep.emit("transpose", b, type_=shapes.transposed(tb), loc=loc)
        flat = sweep.emit("matmul", rows_of_bar, bt, type_=ArrayOf(FLOAT, (shapes.UNKNOWN, shapes.dims(ta)[-1])), loc=loc)
        sweep.accumulate(name_of(a), sweep.emit("reshape_like", flat, a, type_=ta, loc=loc), Const(1), loc)
    if sweep.active(b):
        rows_of_a = sweep.emit(
            "transpose", _rows(sweep, a, loc), type_=ArrayOf(FLOAT, (shapes.dims(ta)[-1], shapes.UNKNOWN)), loc=loc
        )
        sweep.accumulate(name_of(b), sweep.emit("matmul", rows_of_a, rows_of_bar, type_=tb, loc=loc), Const(1), loc)


def _rows(sweep: ReverseSweep, stack: Operand, loc: Loc) -> Operand:
    """`x.reshape(-1, x.shape[-1])`: a stack of matrices as one matrix of all their rows."""
    width = sweep.emit("shape_at", stack, Const(-1), type_=INT, loc=loc)
    last = shapes.dims(operand_type(sweep, stack))[-1]
    return sweep.emit("reshape2", stack, Const(-1), width, type_=ArrayOf(FLOAT, (shapes.UNKNOWN, last)), loc=loc)


def _swapped(type_: Type) -> Type:
    sizes = shapes.dims(type_)
    return ArrayOf(FLOAT, (*sizes[:-2], sizes[-1], sizes[-2]))


def _swapped_type(types: tuple[Type, ...], args: tuple[Operand, ...]) -> Type:
    return _swapped(types[0])


def _outer_reverse(sweep: ReverseSweep, stmt: Assign, bar: Operand) -> None:
    """`C = outer(a, b)`: `a_bar += C_bar @ b`, `b_bar += a @ C_bar`."""
    a, b = stmt.args
    if sweep.active(a):
        sweep.accumulate(name_of(a), sweep.emit("matmul", bar, b, type_=operand_type(sweep, a), loc=stmt.loc), Const(1), stmt.loc)
    if sweep.active(b):
        sweep.accumulate(name_of(b), sweep.emit("matmul", a, bar, type_=operand_type(sweep, b), loc=stmt.loc), Const(1), stmt.loc)


def _literal_reverse(sweep: ReverseSweep, stmt: Assign, bar: Operand) -> None:
    """`np.array([a, b, c])`: each element gets its entry of the adjoint."""
    for k, arg in enumerate(stmt.args):
        if sweep.active(arg):
            entry = sweep.emit("item", bar, Const(k), type_=FLOAT, loc=stmt.loc)
            sweep.accumulate(name_of(arg), entry, Const(1), stmt.loc)


def _item_reverse(sweep: ReverseSweep, stmt: Assign, bar: Operand) -> None:
    """`y = x[i]` (one index, a number or a row): the adjoint added into zeros at the same place."""
    x = stmt.args[0]
    if sweep.active(x):
        zeros = sweep.emit("numpy.zeros_like", x, type_=operand_type(sweep, x), loc=stmt.loc)
        sweep.out.append(Effect("add_item", (zeros, stmt.args[1], bar), stmt.loc))
        sweep.accumulate(name_of(x), zeros, Const(1), stmt.loc)


def index_rules(pattern: str, advanced: bool) -> dict[str, Rule]:
    """The rules of one way of indexing an array, `"{0}[{1}, :]"` (its operands the array, then the
    index's names and numbers), and of adding an adjoint back in at the same place (`np.add.at` where an
    index is an array of ints, which may repeat)."""
    get, put, rows = f"getitem {pattern}", f"add_at {pattern}", f"rows_added {pattern}"
    arity = pattern.count("{")
    value = f"{{{arity}}}"
    by_rows = pattern == "{0}[{1}]" and advanced  # rows picked by an array of ids: the word vectors of a window
    if advanced:
        inside = pattern[pattern.index("[") + 1 : -1]
        adding = f"numpy.add.at({{0}}, ({inside},), {value})"
    else:
        adding = f"{pattern} += {value}"

    def reverse(sweep: ReverseSweep, stmt: Assign, bar: Operand) -> None:
        x = stmt.args[0]
        if not sweep.active(x):
            return
        if by_rows:  # one new array, the adjoint added into zeros at its rows
            added = sweep.emit(rows, x, *stmt.args[1:], bar, type_=operand_type(sweep, x), loc=stmt.loc)
            sweep.accumulate(name_of(x), added, Const(1), stmt.loc)
            return
        zeros = sweep.emit("numpy.zeros_like", x, type_=operand_type(sweep, x), loc=stmt.loc)
        sweep.out.append(Effect(put, (zeros, *stmt.args[1:], bar), stmt.loc))
        sweep.accumulate(name_of(x), zeros, Const(1), stmt.loc)

    made = {}
    if by_rows:
        made[rows] = Rule(
            "_rows_added({0}, {1}, {2})",
            None,
            None,
            "float",
            structural=True,
            shape=lambda types, args: types[0],
            tangent=tangents.linear_in_last,
            helper=_ROWS_ADDED,
            numba_refused="numba cannot compile `np.add.at` (adding the adjoint of `E[ids]` back where ids repeat)",
        )
    return made | {
        get: Rule(
            pattern, None, None, "float", structural=True, flows=(0,), reverse=reverse, view=not advanced, tangent=tangents.linear
        ),
        put: Rule(
            adding,
            None,
            None,
            "list",
            pure=False,
            structural=True,
            effect=True,
            flows=(arity,),
            inline_operands=(),
            tangent=tangents.put,
            numba_refused="numba cannot compile `np.add.at` (adding the adjoint of `E[ids]` back where ids repeat)"
            if advanced
            else "",
        ),
    }


_ROWS_ADDED = '''def _rows_added(a, ids, value):
    """Zeros shaped like a, with value added where a[ids] reads (rows picked by ids, or the elements a mask
    picks), an id that repeats adding each time (as np.add.at does): by one np.bincount over the cells of the
    rows where the ids cover a good part of a, which is several times faster."""
    import numpy

    rows = a.shape[0] if a.ndim else 0
    width = a.size // rows if rows else 0
    if a.dtype.kind != "f" or ids.dtype.kind not in "iu" or rows == 0 or 4 * ids.size * width < a.size:
        added = numpy.zeros_like(a)
        numpy.add.at(added, (ids,), value)
        return added
    weights = numpy.broadcast_to(value, ids.shape + a.shape[1:]).reshape(-1)
    ids = numpy.where(ids < 0, ids + rows, ids).reshape(-1, 1)
    cells = (ids * width + numpy.arange(width)).reshape(-1)
    return numpy.bincount(cells, weights=weights, minlength=a.size).reshape(a.shape).astype(a.dtype, copy=False)'''


_PUT = '''def _put(a, key, value):
    """a with a[key] = value, as a new array: a itself is left as it was (the reverse sweep reads it)."""
    a = a.copy()
    a[key] = value
    return a'''


def _key(text: str) -> str:
    """One part of an index as a value: `:` is `slice(None)`, `{1}:{2}` is `slice({1}, {2})`."""
    if ":" not in text:
        return text
    bounds = [b or "None" for b in text.split(":")]  # start, stop[, step]
    if len(bounds) == 3 and bounds[2] == "None":
        bounds.pop()
    return "slice(None)" if bounds == ["None", "None"] else "slice(" + ", ".join(bounds) + ")"


def put_rules(texts: list[str], slot: Type) -> tuple[str, dict[str, Rule]]:
    """`h[key] = v` as a value, `h_1 = _put(h, key, v)`, for one way of indexing (`texts`, as `index_rules`
    writes them) and the type of the place written (`slot`): v gets the adjoint at that place, h the adjoint
    with that place zeroed."""
    pattern = "{0}[" + ", ".join(texts) + "]"
    value = f"{{{pattern.count('{')}}}"
    keys = [_key(t) for t in texts]
    key = "(" + ", ".join(keys) + ("," if len(keys) == 1 else "") + ")"
    op = f"put {pattern} {slot}"
    get = f"getitem {pattern}"

    def reverse(sweep: ReverseSweep, stmt: Assign, bar: Operand) -> None:
        a, index, v = stmt.args[0], stmt.args[1:-1], stmt.args[-1]
        if sweep.active(v):
            sweep.accumulate(name_of(v), sweep.emit(get, bar, *index, type_=slot, loc=stmt.loc), Const(1), stmt.loc)
        if sweep.active(a):
            cleared = sweep.emit(op, bar, *index, Const(0.0), type_=operand_type(sweep, a), loc=stmt.loc)
            sweep.accumulate(name_of(a), cleared, Const(1), stmt.loc)

    def tangent(sweep: TangentSweep, stmt: Assign) -> None:
        a, index, v = stmt.args[0], stmt.args[1:-1], stmt.args[-1]
        if sweep.has_tangent(a) or sweep.has_tangent(v):
            a_dot = tangents.zero(sweep, a, stmt)
            v_dot = sweep.tangent_of(v) if sweep.has_tangent(v) else Const(0.0)
            sweep.tangent[stmt.target] = sweep.emit(stmt.target, op, (a_dot, *index, v_dot), stmt.type, stmt.loc)

    rule = Rule(
        f"_put({{0}}, {key}, {value})",
        None,
        None,
        "float",
        structural=True,
        shape=like_first,
        reverse=reverse,
        tangent=tangent,
        helper=_PUT,
    )
    return op, {op: rule}


_UNBROADCAST = '''def _unbroadcast(g, x):
    """g, the adjoint of a broadcast result, summed back to the shape of x (broadcasting undone)."""
    shape = getattr(x, "shape", ())
    while getattr(g, "ndim", 0) > len(shape):
        g = g.sum(axis=0)
    for axis, size in enumerate(shape):
        if size == 1 and g.shape[axis] != 1:
            g = g.sum(axis=axis, keepdims=True)
    return g'''


# -- the table ------------------------------------------------------------------------


def array_op(python: str, shape: Callable[..., Type], reverse: Callable[..., None] | None = None, **facts: Any) -> Rule:
    """A structural array operation; its tangent is the operation on its first operand's tangent unless
    `tangent=` says otherwise (most are linear in it: array_tangents.py)."""
    facts.setdefault("tangent", tangents.linear)
    return Rule(python, None, None, "float", structural=True, shape=shape, reverse=reverse, **facts)


def constant_op(python: str, shape: Callable[..., Type], result: str = "float", safe: bool = False) -> Rule:
    """An array that depends on no operand's value (zeros, ones, a shape): no derivative flows through it.
    `safe`: it cannot fail on the arrays the reverse sweep gives it (ones shaped like an array it has)."""
    return Rule(python, None, None, result, structural=True, shape=shape, flows=(), safe=safe)


ARRAYS: dict[str, Rule] = {
    "matmul": array_op("{0} @ {1}", _matmul_type, _matmul_reverse, tangent=tangents.bilinear),
    "numpy.outer": array_op("numpy.outer({0}, {1})", _outer_type, _outer_reverse, tangent=tangents.bilinear),
    "transpose": array_op("{0}.T", _transpose_type, adjoint_by("transpose"), safe=True, view=True),
    "swap_last": array_op("numpy.swapaxes({0}, -1, -2)", _swapped_type, adjoint_by("swap_last"), safe=True, view=True),
    "numpy.expand_dims": array_op(
        "numpy.expand_dims({0}, {1})",
        expanded_type,
        adjoint_by("reshape_like", first_operand),
        flows=(0,),
        view=True,
        expands=True,
    ),
    "reshape_like": array_op("{0}.reshape({1}.shape)", like_second, flows=(0,), view=True),
    **{
        f"reshape{k}": array_op(
            "{0}.reshape(" + ", ".join(f"{{{i}}}" for i in range(1, k + 1)) + ")",
            _reshaped_type,
            adjoint_by("reshape_like", first_operand),
            flows=(0,),
            view=True,
        )
        for k in (1, 2, 3, 4)
    },  # fmt: skip
    "item": array_op("{0}[{1}]", like_first, _item_reverse, flows=(0,), view=True),
    "square": Rule("numpy.square({0})", lambda sp, x: x**2, lambda m, out, x: (2 * x,), names=("numpy.square",), foldable=False),
    "logaddexp": Rule(
        "numpy.logaddexp({0}, {1})",
        lambda sp, x, y: sp.log(sp.exp(x) + sp.exp(y)),
        lambda m, out, x, y: (m.expit(_minus(x, y)), m.expit(_minus(y, x))),  # softmax weights, without the value
        names=("numpy.logaddexp",),
        foldable=False,
    ),
    "where": Rule(
        "numpy.where({0}, {1}, {2})",
        lambda sp, c, a, b: sp.Piecewise((a, c), (b, True)),
        lambda m, out, c, a, b: (0, m.where(c, 1.0, 0.0), m.where(c, 0.0, 1.0)),
        names=("numpy.where",),
        foldable=False,
    ),
    "clip": Rule(
        "numpy.clip({0}, {1}, {2})",
        lambda sp, x, lo, hi: sp.Min(sp.Max(x, lo), hi),
        lambda m, out, x, lo, hi: (
            m.where(m.lt(x, lo), 0.0, m.where(m.gt(x, hi), 0.0, 1.0)),
            m.where(m.lt(x, lo), 1.0, 0.0),
            m.where(m.gt(x, hi), 1.0, 0.0),
        ),
        names=("numpy.clip",),
        foldable=False,
    ),
    "numpy.ones_like": dataclasses.replace(constant_op("numpy.ones_like({0})", like_first, safe=True), ones=True),
    "numpy.zeros_like": constant_op("numpy.zeros_like({0})", like_first, safe=True),
    "size": constant_op("{0}.size", _int, result="int", safe=True),
    "shape_at": constant_op("{0}.shape[{1}]", _int, result="int", safe=True),  # axes the array is known to have
    # Where x equals its maximum (`out`, broadcast): 1.0 there, 0.0 elsewhere, in x's own dtype (a float32
    # gradient stays float32).
    "ties": constant_op("({0} == {1}).astype({0}.dtype)", like_first, safe=True),
    "zeros_float_like": constant_op("numpy.zeros_like({0}, dtype=float)", like_first, safe=True),
    # A gradient in its parameter's dtype (a float32 parameter met by float64 arrays gets a float32 gradient).
    "in_dtype_of": Rule(
        "{0}.astype({1}.dtype, copy=False)", None, None, structural=True, shape=like_first, flows=(0,), safe=True
    ),
    # the adjoint a list of arrays starts from (`zeros_op`): an array of zeros for each element
    "zeros_like_arrays": Rule(
        "[numpy.zeros_like(_a, dtype=numpy.result_type(_a, 0.0)) for _a in {0}]",
        None,
        None,
        "list",
        structural=True,
        flows=(),
        like=True,
        inline=False,
        inline_operands=(),
        tangent=zeros_tangent,
        run=lambda runner, stmt, v: [runner.apply("zeros_float_like", a) for a in runner.items(v[0], "zeros_like")],
    ),
    "unbroadcast": array_op("_unbroadcast({0}, {1})", like_second, flows=(0,), helper=_UNBROADCAST),
    "add_item": Rule(
        "{0}[{1}] += {2}",
        None,
        None,
        "list",
        pure=False,
        structural=True,
        effect=True,
        flows=(2,),
        inline_operands=(),
        tangent=tangents.put,
    ),
    **{
        f"numpy.zeros{k}": constant_op(
            "numpy.zeros((" + ", ".join(f"{{{i}}}" for i in range(k)) + ("," if k == 1 else "") + "))", _made_type
        )
        for k in (1, 2, 3)
    },  # fmt: skip
    **{
        f"numpy.ones{k}": constant_op(
            "numpy.ones((" + ", ".join(f"{{{i}}}" for i in range(k)) + ("," if k == 1 else "") + "))", _made_type
        )
        for k in (1, 2, 3)
    },  # fmt: skip
}


def array_literal(arity: int) -> tuple[str, Rule]:
    """`np.array([a, b, c])` of numbers: one rule per length."""
    holes = ", ".join(f"{{{i}}}" for i in range(arity))
    return f"array_literal{arity}", array_op(f"numpy.array([{holes}])", _literal_type, _literal_reverse, tangent=tangents.pieces)
