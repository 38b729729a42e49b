"""Arrays joined, split and rearranged: concatenate and stack, cumulative sums and differences, squeeze,
transposes with axes; and the constant arrays `np.eye` and `np.arange`.

A join's adjoint is the adjoint cut back into the pieces (`a_bar = g[:, 0:n]`);
a cumulative sum's is the cumulative sum from the other end; a difference's
is the adjoint shifted against itself. Operations whose spelling depends on
constants the code writes (how many arrays are joined, along which axis, the
order of a transpose's axes) are made per use by the lowering (`joined`,
`stacked`, `permuted`), with the rules their adjoints index with.
"""

from __future__ import annotations

from ..ir import FLOAT, INT, ArrayOf, Assign, Const, Effect, For, ListOf, Operand, Type, Var
from . import shapes
from .array_tangents import pieces
from .arrays import adjoint_by, array_op, constant_op, first_operand, index_rules, like_first, name_of, operand_type
from .core import Rule
from .lists import ReverseSweep


def _slice_pattern(axis: int) -> str:
    return "{0}[" + ":, " * axis + "{1}:{2}]"


def _at_pattern(axis: int) -> str:
    return "{0}[" + ":, " * axis + "{1}]"


def joined(count: int, axis: int, ndim: int) -> tuple[str, dict[str, Rule]]:
    """`np.concatenate((a, b, ...), axis=k)` of `count` arrays: its rule, and the rule of the slices its
    adjoint is cut into."""
    holes = ", ".join(f"{{{i}}}" for i in range(count))
    cut = _slice_pattern(axis)

    def shape(types: tuple[Type, ...], args: tuple[Operand, ...]) -> Type:
        sizes = list(shapes.dims(types[0]))
        sizes[axis] = shapes.UNKNOWN
        return ArrayOf(FLOAT, tuple(sizes))

    def reverse(sweep: ReverseSweep, stmt: Assign, bar: Operand) -> None:
        start: Operand = Const(0)
        for piece in stmt.args:
            size = sweep.emit("shape_at", piece, Const(axis), type_=INT, loc=stmt.loc)
            stop = sweep.emit("add", start, size, type_=INT, loc=stmt.loc)
            if sweep.active(piece):
                part = sweep.emit(f"getitem {cut}", bar, start, stop, type_=operand_type(sweep, piece), loc=stmt.loc)
                sweep.accumulate(name_of(piece), part, Const(1), stmt.loc)
            start = stop

    op = f"concatenate{count} axis={axis}"
    rule = array_op(f"numpy.concatenate(({holes}{',' if count == 1 else ''}), axis={axis})", shape, reverse, tangent=pieces)
    return op, {op: rule, **index_rules(cut, False)}


def stacked(count: int, axis: int) -> tuple[str, dict[str, Rule]]:
    """`np.stack((a, b, ...), axis=k)`: a new axis k; each piece's adjoint is the adjoint at its position."""
    holes = ", ".join(f"{{{i}}}" for i in range(count))
    at = _at_pattern(axis)

    def shape(types: tuple[Type, ...], args: tuple[Operand, ...]) -> Type:
        sizes = list(shapes.dims(types[0]))
        sizes.insert(axis, count)
        return ArrayOf(FLOAT, tuple(sizes))

    def reverse(sweep: ReverseSweep, stmt: Assign, bar: Operand) -> None:
        for k, piece in enumerate(stmt.args):
            if sweep.active(piece):
                part = sweep.emit(f"getitem {at}", bar, Const(k), type_=operand_type(sweep, piece), loc=stmt.loc)
                sweep.accumulate(name_of(piece), part, Const(1), stmt.loc)

    op = f"stack{count} axis={axis}"
    rule = array_op(f"numpy.stack(({holes}{',' if count == 1 else ''}), axis={axis})", shape, reverse, tangent=pieces)
    return op, {op: rule, **index_rules(at, False)}


def stacked_from_list(axis: int) -> tuple[str, dict[str, Rule]]:
    """`np.stack(hs, axis=k)` (and `np.array(hs)`) of a list of arrays, as long as it is when it runs: each
    element's adjoint is the adjoint at its position, `hs_bar[j] += g[j]` (the elements' adjoints are arrays
    of zeros to begin with: `zeros_op`)."""
    at = _at_pattern(axis)

    def shape(types: tuple[Type, ...], args: tuple[Operand, ...]) -> Type:
        items = types[0]
        assert isinstance(items, ListOf)
        sizes = list(shapes.dims(items.elem))
        sizes.insert(axis, shapes.UNKNOWN)
        return ArrayOf(FLOAT, tuple(sizes))

    def reverse(sweep: ReverseSweep, stmt: Assign, bar: Operand) -> None:
        items = stmt.args[0]
        if not sweep.active(items):
            return
        items_bar = sweep.adjoint_of_list(items, stmt.loc)
        elem = operand_type(sweep, items)
        assert isinstance(elem, ListOf)
        count = sweep.emit("len", items_bar, type_=INT, loc=stmt.loc)
        index, part = sweep.fresh("_j"), sweep.fresh("_part", elem.elem)
        body = (
            Assign(part, f"getitem {at}", (bar, Var(index)), elem.elem, stmt.loc),
            Effect("accum_item", (items_bar, Var(index), Var(part)), stmt.loc),
        )
        sweep.out.append(For(index, Const(0), count, Const(1), (), body, None, stmt.loc))

    op = f"stack_list axis={axis}"
    rule = array_op(f"numpy.stack({{0}}, axis={axis})", shape, reverse)
    return op, {op: rule, **index_rules(at, False)}


def permuted(axes: tuple[int, ...]) -> tuple[str, dict[str, Rule]]:
    """`x.transpose(1, 0, 2)`: the adjoint transposed back by the inverse permutation."""
    inverse = tuple(sorted(range(len(axes)), key=axes.__getitem__))
    ops = {order: f"transpose{order}" for order in (axes, inverse)}

    def rule_of(order: tuple[int, ...], back: tuple[int, ...]) -> Rule:
        def shape(types: tuple[Type, ...], args: tuple[Operand, ...]) -> Type:
            sizes = shapes.dims(types[0])
            return ArrayOf(FLOAT, tuple(sizes[k] for k in order))

        def reverse(sweep: ReverseSweep, stmt: Assign, bar: Operand) -> None:
            x = stmt.args[0]
            if sweep.active(x):
                part = sweep.emit(ops[back], bar, type_=operand_type(sweep, x), loc=stmt.loc)
                sweep.accumulate(name_of(x), part, Const(1), stmt.loc)

        return array_op("{0}.transpose(" + ", ".join(map(str, order)) + ")", shape, reverse, view=True)

    return ops[axes], {ops[axes]: rule_of(axes, inverse), ops[inverse]: rule_of(inverse, axes)}


def _axis_or_0(stmt: Assign) -> Operand:
    return stmt.args[1] if len(stmt.args) > 1 else Const(0)


def _one_shorter(types: tuple[Type, ...], args: tuple[Operand, ...]) -> Type:
    sizes = shapes.dims(types[0])
    return ArrayOf(FLOAT, (*sizes[:-1], shapes.UNKNOWN))


def _squeezed(types: tuple[Type, ...], args: tuple[Operand, ...]) -> Type:
    sizes = tuple(s for s in shapes.dims(types[0]) if s != 1)
    return ArrayOf(FLOAT, sizes) if sizes else FLOAT


def _square(types: tuple[Type, ...], args: tuple[Operand, ...]) -> Type:
    size = args[0].value if isinstance(args[0], Const) and isinstance(args[0].value, int) else shapes.UNKNOWN
    return ArrayOf(FLOAT, (size, size))


def _range(types: tuple[Type, ...], args: tuple[Operand, ...]) -> Type:
    return ArrayOf(INT if all(t == INT for t in types) else FLOAT, (shapes.UNKNOWN,))


def _position(types: tuple[Type, ...], args: tuple[Operand, ...]) -> Type:
    """Where the maximum is: an int, or along an axis an array of ints."""
    if len(args) == 1:
        return INT
    axis = args[1]
    assert isinstance(axis, Const) and isinstance(axis.value, int)
    reduced = shapes.reduced(types[0], axis.value, False)
    return ArrayOf(INT, shapes.dims(reduced)) if isinstance(reduced, ArrayOf) else INT


JOINS: dict[str, Rule] = {
    # positions are whole numbers: no derivative flows through them
    **{f"{name}_all": constant_op(f"numpy.{name}({{0}})", _position, result="int") for name in ("argmax", "argmin")},
    **{f"{name}_axis": constant_op(f"numpy.{name}({{0}}, axis={{1}})", _position) for name in ("argmax", "argmin")},
    "cumsum_all": array_op("numpy.cumsum({0})", like_first, adjoint_by("cumsum_back", _axis_or_0)),
    "cumsum_axis": array_op("numpy.cumsum({0}, axis={1})", like_first, adjoint_by("cumsum_back", _axis_or_0), flows=(0,)),
    "cumsum_back": array_op("numpy.flip(numpy.cumsum(numpy.flip({0}, {1}), axis={1}), {1})", like_first, flows=(0,)),
    "numpy.diff": array_op("numpy.diff({0})", _one_shorter, adjoint_by("diff_back"), names=("numpy.diff",)),
    "diff_back": array_op(
        "numpy.pad({0}, [(0, 0)] * ({0}.ndim - 1) + [(1, 0)]) - numpy.pad({0}, [(0, 0)] * ({0}.ndim - 1) + [(0, 1)])",
        _one_shorter,
    ),
    "numpy.squeeze": array_op(
        "numpy.squeeze({0})", _squeezed, adjoint_by("reshape_like", first_operand), names=("numpy.squeeze",), view=True
    ),
    **{
        f"numpy.arange{k}": constant_op("numpy.arange(" + ", ".join(f"{{{i}}}" for i in range(k)) + ")", _range)
        for k in (1, 2, 3)
    },
    "numpy.eye": constant_op("numpy.eye({0})", _square),
}
