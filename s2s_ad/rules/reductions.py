"""Reductions of arrays: sum, mean, max, min and prod, of the whole array or along an axis (with `keepdims`).

A sum's adjoint goes to every element it added (spread over the operand with
`np.ones_like`; `optimize.spreads` drops that where broadcasting does it), a
mean's shared among them, a maximum's to the elements tied at it, in equal
shares (as autograd and JAX do), a product's to each element times the
product of the others (`_others`: no division, so a zero element is no
trouble). The axis is a constant operand:
`x.sum(axis=1, keepdims=True)` is `sum_axis_keep(x, 1)`.
"""

from __future__ import annotations

from collections.abc import Callable

from ..ir import FLOAT, INT, ArrayOf, Assign, Const, Loc, Operand, Type, Var
from . import array_tangents as tangents
from . import shapes
from .arrays import array_op, axis_of, expanded_type, like_first, name_of, operand_type
from .core import Rule
from .lists import ReverseSweep, TangentSweep


def _reduced_type(keepdims: bool, whole: bool) -> Callable[[tuple[Type, ...], tuple[Operand, ...]], Type]:
    def type_(types: tuple[Type, ...], args: tuple[Operand, ...]) -> Type:
        return shapes.reduced(types[0], None if whole else axis_of(args), keepdims)

    return type_


def _spread(sweep: ReverseSweep, stmt: Assign, bar: Operand, keepdims: bool, whole: bool) -> Operand:
    """A reduction's adjoint with the reduced axis back (size 1), ready to broadcast over its operand."""
    if whole or keepdims:
        return bar
    x = stmt.args[0]
    return sweep.emit(
        "numpy.expand_dims", bar, stmt.args[1], type_=expanded_type((operand_type(sweep, bar),), (x, stmt.args[1])), loc=stmt.loc
    )


def _everywhere(sweep: ReverseSweep, stmt: Assign, value: Operand) -> Operand:
    """`value * np.ones_like(x)`: an adjoint shaped like the operand x, from one that broadcasts over it."""
    x = stmt.args[0]
    ones = sweep.emit("numpy.ones_like", x, type_=operand_type(sweep, x), loc=stmt.loc)
    return sweep.emit("mul", value, ones, type_=operand_type(sweep, x), loc=stmt.loc)


def _count(sweep: ReverseSweep, stmt: Assign, whole: bool) -> Operand:
    """How many elements a mean averages: read off a parameter where the operand's type names its sizes
    after one (`X.shape[0]`), so that the operand itself (`np.sum(Y * logp, axis=1)`) need not be computed
    for its size alone; else off the operand."""
    x = stmt.args[0]
    sizes = shapes.dims(operand_type(sweep, x))
    counted = sizes if whole else (sizes[axis_of(stmt.args)],)
    known = [_size(sweep, size, stmt.loc) for size in counted]
    if known and all(k is not None for k in known):
        count = known[0]
        for k in known[1:]:
            count = sweep.emit("mul", count, k, type_=INT, loc=stmt.loc)  # type: ignore[arg-type]
        assert count is not None
        return count
    if whole:
        return sweep.emit("size", x, type_=INT, loc=stmt.loc)
    return sweep.emit("shape_at", x, stmt.args[1], type_=INT, loc=stmt.loc)


def _size(sweep: ReverseSweep, size: object, loc: Loc) -> Operand | None:
    """A size as an operand: a constant, or read off the parameter it is named after; None if neither."""
    if isinstance(size, int):
        return Const(size)
    found = shapes.read_off(size)
    if found is None:
        return None
    name, axis = found
    array = sweep.types.get(name)  # the parameter: its SSA name is its own (a rebinding gets another)
    if not isinstance(array, ArrayOf) or axis >= len(shapes.dims(array)):
        return None
    return sweep.emit("shape_at", Var(name), Const(axis), type_=INT, loc=loc)


def _sum_reverse(keepdims: bool, whole: bool) -> Callable[..., None]:
    def reverse(sweep: ReverseSweep, stmt: Assign, bar: Operand) -> None:
        """Every element gets the sum's adjoint."""
        x = stmt.args[0]
        if sweep.active(x):
            sweep.accumulate(name_of(x), _everywhere(sweep, stmt, _spread(sweep, stmt, bar, keepdims, whole)), Const(1), stmt.loc)

    return reverse


def _mean_reverse(keepdims: bool, whole: bool) -> Callable[..., None]:
    def reverse(sweep: ReverseSweep, stmt: Assign, bar: Operand) -> None:
        """Every element gets the mean's adjoint over the number of elements averaged."""
        x = stmt.args[0]
        if sweep.active(x):
            spread = _spread(sweep, stmt, bar, keepdims, whole)
            share = sweep.emit("div", spread, _count(sweep, stmt, whole), type_=operand_type(sweep, spread), loc=stmt.loc)
            sweep.accumulate(name_of(x), _everywhere(sweep, stmt, share), Const(1), stmt.loc)

    return reverse


def _extreme_reverse(keepdims: bool, whole: bool) -> Callable[..., None]:
    def reverse(sweep: ReverseSweep, stmt: Assign, bar: Operand) -> None:
        """The elements equal to the maximum share its adjoint equally (as autograd and JAX do)."""
        x = stmt.args[0]
        if not sweep.active(x):
            return
        loc, tx = stmt.loc, operand_type(sweep, x)
        out = _spread(sweep, stmt, Var(stmt.target), keepdims, whole)
        mask = sweep.emit("ties", x, out, type_=tx, loc=loc)
        if whole:
            ties = sweep.emit("sum_all", mask, type_=FLOAT, loc=loc)
        else:
            ties = sweep.emit("sum_axis_keep", mask, stmt.args[1], type_=shapes.reduced(tx, axis_of(stmt.args), True), loc=loc)
        spread = _spread(sweep, stmt, bar, keepdims, whole)
        share = sweep.emit("div", spread, ties, type_=operand_type(sweep, ties), loc=loc)
        sweep.accumulate(name_of(x), sweep.emit("mul", mask, share, type_=tx, loc=loc), Const(1), loc)

    return reverse


_OTHERS = '''def _others(x, axis=None):
    """For each element of x, the product of the others along axis (all of them for None), without a
    division: a zero among them is no trouble."""
    import numpy

    if axis is None:
        return _others(x.ravel(), 0).reshape(x.shape)
    x = numpy.moveaxis(x, axis, -1)
    ones = numpy.ones_like(x[..., :1])
    left = numpy.cumprod(numpy.concatenate([ones, x[..., :-1]], axis=-1), axis=-1)
    right = numpy.cumprod(numpy.concatenate([ones, x[..., :0:-1]], axis=-1), axis=-1)[..., ::-1]
    return numpy.moveaxis(left * right, -1, axis)'''


def _others(sweep: ReverseSweep, stmt: Assign, whole: bool) -> Operand:
    """`_others(x, axis)`: the partial of a product in each element, the product of the others."""
    x = stmt.args[0]
    if whole:
        return sweep.emit("others_all", x, type_=operand_type(sweep, x), loc=stmt.loc)
    return sweep.emit("others_axis", x, stmt.args[1], type_=operand_type(sweep, x), loc=stmt.loc)


def _prod_reverse(keepdims: bool, whole: bool) -> Callable[..., None]:
    def reverse(sweep: ReverseSweep, stmt: Assign, bar: Operand) -> None:
        """Each element gets the product's adjoint times the product of the other elements."""
        x = stmt.args[0]
        if sweep.active(x):
            spread = _spread(sweep, stmt, bar, keepdims, whole)
            part = sweep.emit("mul", spread, _others(sweep, stmt, whole), type_=operand_type(sweep, x), loc=stmt.loc)
            sweep.accumulate(name_of(x), part, Const(1), stmt.loc)

    return reverse


def _prod_tangent(total: str, whole: bool) -> Callable[..., None]:
    def tangent(sweep: TangentSweep, stmt: Assign) -> None:
        """The sum of each element's tangent times the product of the others."""
        x = stmt.args[0]
        if not sweep.has_tangent(x):
            return
        op = "others_all" if whole else "others_axis"
        others = sweep.emit_temp(op, *stmt.args, type_=sweep.types.get(getattr(x, "name", ""), FLOAT), loc=stmt.loc)
        moved = sweep.emit_temp(
            "mul", others, sweep.tangent_of(x), type_=sweep.types.get(getattr(x, "name", ""), FLOAT), loc=stmt.loc
        )
        sweep.tangent[stmt.target] = sweep.emit(stmt.target, total, (moved, *stmt.args[1:]), stmt.type, stmt.loc)

    return tangent


def _reductions() -> dict[str, Rule]:
    table: dict[str, Rule] = {
        # not linear in x: no tangent (a Hessian through a product is refused, not wrong)
        "others_all": array_op("_others({0})", like_first, helper=_OTHERS, tangent=None),
        "others_axis": array_op("_others({0}, {1})", like_first, helper=_OTHERS, flows=(0,), tangent=None),
    }
    kinds = (("sum", _sum_reverse), ("mean", _mean_reverse), ("max", _extreme_reverse), ("min", _extreme_reverse))
    for name, reverse in (*kinds, ("prod", _prod_reverse)):
        extreme = name in ("max", "min")
        forms = (
            ("all", f"{{0}}.{name}()", _reduced_type(False, True), reverse(False, True), "sum_all", tangents.kept),
            (
                "axis",
                f"{{0}}.{name}(axis={{1}})",
                _reduced_type(False, False),
                reverse(False, False),
                "sum_axis",
                tangents.expanded(),
            ),
            (
                "axis_keep",
                f"{{0}}.{name}(axis={{1}}, keepdims=True)",
                _reduced_type(True, False),
                reverse(True, False),
                "sum_axis_keep",
                tangents.kept,
            ),
        )
        for form, python, shape, backwards, total, spread in forms:
            tangent = tangents.extreme(total, spread) if extreme else tangents.linear
            if name == "prod":
                tangent = _prod_tangent(total, form == "all")
            # A sum, a mean or a product of an array cannot raise (an empty one's mean is nan); a maximum can.
            table[f"{name}_{form}"] = array_op(
                python, shape, backwards, tangent=tangent, flows=(0,) if form != "all" else None, safe=not extreme
            )
    return table


REDUCTIONS = _reductions()
