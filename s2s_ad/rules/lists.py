"""List operations: their spelling, SymPy meaning, and the templates that say what no partials can.

A list operation is structural: its derivative moves values between
positions rather than multiplying by a partial. Each template below is
written once and read by every stage that needs it:

- `reverse(sweep, stmt, bar)`: backpropagation. For an operation whose
  result is a number, `bar` is that number's adjoint (`y = xs[i]` gives
  `xs_bar[i] += y_bar`); for one that makes a list, and for an effect, it is
  the list's adjoint list.
- `reverse_list(sweep, stmt)`: the adjoint list of a list the operation
  makes, allocated where the reverse sweep of its block begins.
- `tangent(sweep, stmt)`: forward mode. The list operations are linear, so a
  tangent is the same operation on the tangents.
- `run(runner, stmt, values)`: evaluation by the IR interpreter, with Python
  lists of domain values.

The sweeps and the runner are the small protocols below; `s2s_ad.ad` and
`s2s_ad.interpret` implement them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from ..ir import FLOAT, INT, ArrayOf, Assign, Const, Effect, For, ListOf, Loc, Operand, Stmt, Type, Var, list_depth
from .core import Rule


class ReverseSweep(Protocol):
    """What a reverse template may ask of the reverse transform."""

    adjoint: dict[str, Operand]
    types: dict[str, Type]
    out: list[Stmt]
    also_forward: list[Stmt]  # statements the forward sweep computes after the one at hand
    appended_at: Mapping[Effect, str]  # appends whose item lands at the index of the loop around them: that index
    growing: set[str]  # lists a later statement of the block whose adjoints are being allocated appends to or pops

    def active(self, operand: Operand) -> bool: ...
    def adjoint_of_list(self, items: Operand, loc: Loc) -> Operand: ...
    def accumulate(self, name: str, out_bar: Operand, partial: Operand, loc: Loc) -> None: ...
    def emit(self, op: str, *args: Operand, type_: Type, loc: Loc) -> Operand: ...
    def new_adjoint(self, stmt: Assign, op: str, args: tuple[Operand, ...]) -> Operand: ...
    def zeros_like(self, name: str, type_: Type, loc: Loc) -> Operand: ...
    def fresh(self, name: str, type_: Type | None = None) -> str: ...
    def rewritten(self, items: Operand) -> bool: ...
    def take_row(self, name: str, row_bar: Operand, loc: Loc) -> None: ...
    def grown(self, name: str) -> bool: ...
    def position_from_start(self, items: Var, position: Const, loc: Loc) -> Operand: ...
    def refuse(self, loc: Loc, message: str, hint: str | None) -> Exception: ...


class TangentSweep(Protocol):
    """What a forward-mode template may ask of the forward transform."""

    tangent: dict[str, Operand]
    out: list[Stmt]
    types: dict[str, Type]

    def has_tangent(self, operand: Operand) -> bool: ...
    def tangent_of(self, operand: Operand) -> Operand: ...
    def emit(self, target_of: str, op: str, args: tuple[Operand, ...], type_: Type, loc: Loc) -> Var: ...
    def emit_temp(self, op: str, *args: Operand, type_: Type, loc: Loc) -> Operand: ...


class ListRunner(Protocol):
    """What an evaluation template may ask of the IR interpreter."""

    domain: Any

    def items(self, value: Any, what: str) -> list[Any]: ...
    def item(self, items: list[Any], index: Any) -> tuple[int, Any]: ...
    def count(self, value: Any, what: str) -> int: ...
    def zeros(self, items: list[Any]) -> list[Any]: ...
    def apply(self, op: str, *values: Any) -> Any: ...
    def found(self, items: list[Any], wanted: Any) -> int: ...
    def mutated(self, value: Any, what: str) -> list[Any]: ...
    def pop_last(self, items: list[Any]) -> Any: ...
    def reject(self, message: str) -> None: ...
    def raised(self, text: str | None) -> None: ...


# -- reverse mode ------------------------------------------------------------------


def _index_reverse(sweep: ReverseSweep, stmt: Assign, bar: Operand) -> None:
    """`y = xs[i]` gives `xs_bar[i] += y_bar`; a row needs nothing: its adjoint is a row of `xs_bar`."""
    if list_depth(stmt.type) == 0 and sweep.active(stmt.args[0]):
        sweep.out.append(Effect("accum_item", (sweep.adjoint[_name(stmt.args[0])], stmt.args[1], bar), stmt.loc))


def _index_reverse_list(sweep: ReverseSweep, stmt: Assign) -> Operand:
    """A row of a list of lists: its adjoint is the row of the list's adjoint. Counted from the end (`T[-1]`) of a
    list that grows, it is the row at the position the read saw, `len(T) - 1` then: the adjoint row is taken
    before the reverse sweep undoes the appends that followed the read."""
    items, position = stmt.args
    if isinstance(position, Const) and position.value < 0 and isinstance(items, Var) and items.name in sweep.growing:
        position = sweep.position_from_start(items, position, stmt.loc)
    return sweep.new_adjoint(stmt, "index", (sweep.adjoint_of_list(items, stmt.loc), position))


def _sum_reverse(sweep: ReverseSweep, stmt: Assign, bar: Operand) -> None:
    """Every element gets the sum's adjoint: `for j in range(len(xs_bar)): xs_bar[j] += s_bar`."""
    items = stmt.args[0]
    if not sweep.active(items):
        return
    items_bar = sweep.adjoint[_name(items)]
    count = sweep.emit("len", items_bar, type_=INT, loc=stmt.loc)
    index = sweep.fresh("_j")
    body = (Effect("accum_item", (items_bar, Var(index), bar), stmt.loc),)
    sweep.out.append(For(index, Const(0), count, Const(1), (), body, None, stmt.loc))


def _extreme_reverse(sweep: ReverseSweep, stmt: Assign, bar: Operand) -> None:
    """`max(xs)` passes its adjoint to the (first) element it chose."""
    items = stmt.args[0]
    if not sweep.active(items):
        return
    if sweep.rewritten(items):  # by the reverse sweep the list may hold other values: look now
        at = sweep.fresh("_at", INT)
        sweep.also_forward.append(Assign(at, "index_of", (items, Var(stmt.target)), INT, stmt.loc))
        where: Operand = Var(at)
    else:
        where = sweep.emit("index_of", items, Var(stmt.target), type_=INT, loc=stmt.loc)
    sweep.out.append(Effect("accum_item", (sweep.adjoint[_name(items)], where, bar), stmt.loc))


def _literal_reverse(sweep: ReverseSweep, stmt: Assign, bar: Operand) -> None:
    """The elements of a list literal get what its adjoint collected (rows are the adjoint's rows)."""
    for k, arg in enumerate(stmt.args):
        if sweep.active(arg) and _operand_depth(sweep, arg) == 0:
            element = sweep.emit("index", bar, Const(k), type_=_element_type(stmt.type), loc=stmt.loc)
            sweep.accumulate(_name(arg), element, Const(1), stmt.loc)


def _literal_reverse_list(sweep: ReverseSweep, stmt: Assign) -> Operand:
    if list_depth(stmt.type) > 1 and stmt.args:  # a list of rows: its adjoint is the list of the rows' adjoints
        if sweep.grown(stmt.target):
            raise sweep.refuse(
                stmt.loc,
                "a list of rows written out as a literal and then appended to cannot be differentiated yet",
                "start from an empty list and append every row: table = []; table.append(row)",
            )
        return sweep.new_adjoint(stmt, "list", tuple(sweep.adjoint_of_list(a, stmt.loc) for a in stmt.args))
    return sweep.zeros_like(stmt.target, stmt.type, stmt.loc)


def _repeat_reverse(sweep: ReverseSweep, stmt: Assign, bar: Operand) -> None:
    """Every element of `[x] * n` is x: x gets the sum of the adjoint."""
    value = stmt.args[0]
    if not sweep.active(value):
        return
    if _operand_depth(sweep, value) > 0:
        raise sweep.refuse(
            stmt.loc,
            "a list repeating a differentiated list ([row] * n) is not supported: its rows are one list",
            "build the rows with a comprehension: [[...] for _ in range(n)]",
        )
    total = sweep.emit("sum", bar, type_=_element_type(stmt.type), loc=stmt.loc)
    sweep.accumulate(_name(value), total, Const(1), stmt.loc)


def _new_list_reverse_list(sweep: ReverseSweep, stmt: Assign) -> Operand:
    return sweep.zeros_like(stmt.target, stmt.type, stmt.loc)


def copy_reverse_list(sweep: ReverseSweep, stmt: Assign) -> Operand:
    """A copy of a list is the same list: the same adjoint."""
    return sweep.adjoint_of_list(stmt.args[0], stmt.loc)


def _append_reverse(sweep: ReverseSweep, stmt: Effect, bar: Operand) -> None:
    """Undo the append on the adjoint list; what it held is the appended value's adjoint (a row's: the
    row's adjoint list itself). Where the item landed at the loop's index, the adjoint is read there
    (`xs_bar[i]`, as one writes it by hand) and the adjoint list keeps its length."""
    value = stmt.args[1]
    index = sweep.appended_at.get(stmt)

    def taken(type_: Type) -> Operand:
        if index is not None:
            return sweep.emit("index", bar, Var(index), type_=type_, loc=stmt.loc)
        return sweep.emit("pop", bar, type_=type_, loc=stmt.loc)

    if sweep.active(value) and _operand_depth(sweep, value) > 0:
        sweep.take_row(_name(value), taken(sweep.types[_name(value)]), stmt.loc)
    elif sweep.active(value):
        sweep.accumulate(_name(value), taken(_element_type(sweep.types.get(_name(stmt.args[0]), FLOAT))), Const(1), stmt.loc)
    elif index is None:
        sweep.out.append(Effect("discard_pop", (bar,), stmt.loc))


def _setitem_reverse(sweep: ReverseSweep, stmt: Effect, bar: Operand) -> None:
    """`xs[i] = v`: v gets `xs_bar[i]`, and the overwritten element's adjoint starts again from zero."""
    index, value = stmt.args[1], stmt.args[2]
    element_type = _element_type(sweep.types.get(_name(stmt.args[0]), FLOAT))
    element = sweep.emit("index", bar, index, type_=element_type, loc=stmt.loc)
    # an array's adjoint starts again from an array of zeros: what reads it later may index it
    zero = (
        sweep.emit("zeros_float_like", element, type_=element_type, loc=stmt.loc)
        if isinstance(element_type, ArrayOf)
        else Const(0.0)
    )
    if sweep.active(value):
        sweep.accumulate(_name(value), element, Const(1), stmt.loc)
    sweep.out.append(Effect("setitem", (bar, index, zero), stmt.loc))


# -- forward mode ------------------------------------------------------------------


def _on_tangent_of_first(sweep: TangentSweep, stmt: Assign) -> None:
    """`xs[i]`, `sum(xs)`, `xs.pop()`: the same operation on the tangent list."""
    first = stmt.args[0]
    if sweep.has_tangent(first):
        args = (sweep.tangent_of(first), *stmt.args[1:])
        sweep.tangent[stmt.target] = sweep.emit(stmt.target, stmt.op, args, stmt.type, stmt.loc)


def _extreme_tangent(sweep: TangentSweep, stmt: Assign) -> None:
    """`max(xs)`: the tangent of the element it chose."""
    first = stmt.args[0]
    if sweep.has_tangent(first):
        where = sweep.emit_temp("index_of", first, Var(stmt.target), type_=INT, loc=stmt.loc)
        sweep.tangent[stmt.target] = sweep.emit(stmt.target, "index", (sweep.tangent_of(first), where), stmt.type, stmt.loc)


def _literal_tangent(sweep: TangentSweep, stmt: Assign) -> None:
    args = tuple(sweep.tangent_of(a) for a in stmt.args)
    sweep.tangent[stmt.target] = sweep.emit(stmt.target, "list", args, stmt.type, stmt.loc)


def _repeat_tangent(sweep: TangentSweep, stmt: Assign) -> None:
    args = (sweep.tangent_of(stmt.args[0]), stmt.args[1])
    sweep.tangent[stmt.target] = sweep.emit(stmt.target, stmt.op, args, stmt.type, stmt.loc)


def zeros_tangent(sweep: TangentSweep, stmt: Assign) -> None:
    """A new list of zeros, that later statements add into: its tangent is zeros too."""
    sweep.tangent[stmt.target] = sweep.emit(stmt.target, stmt.op, stmt.args, stmt.type, stmt.loc)


def _effect_tangent(value_at: int, only_varied: bool = False) -> Callable[..., None]:
    """An effect on a list does the same to its tangent list, with the value's tangent (at `value_at`)."""

    def template(sweep: TangentSweep, stmt: Effect, dots: Operand) -> None:
        if value_at < 0:
            sweep.out.append(Effect(stmt.op, (dots,), stmt.loc))
            return
        value = stmt.args[value_at]
        if only_varied and not sweep.has_tangent(value):
            return
        sweep.out.append(Effect(stmt.op, (dots, *stmt.args[1:value_at], sweep.tangent_of(value)), stmt.loc))

    return template


# -- evaluation --------------------------------------------------------------------


def _run_repeat(runner: ListRunner, stmt: Assign, values: list[Any]) -> Any:
    return [values[0]] * runner.count(values[1], "a list's length")


def _run_reduce(step: str) -> Callable[..., Any]:
    def run(runner: ListRunner, stmt: Assign, values: list[Any]) -> Any:
        items = runner.items(values[0], stmt.op)
        if step == "add":
            total = runner.domain.const(0)
            for item in items:
                total = runner.apply("add", total, item)
            return total
        if not items:
            runner.reject(f"{stmt.op} of an empty list")
        total = items[0]
        for item in items[1:]:
            total = runner.apply(step, total, item)
        return total

    return run


def _run_pop(runner: ListRunner, stmt: Stmt, values: list[Any]) -> Any:
    return runner.pop_last(runner.mutated(values[0], "a list pop"))


def _run_setitem(runner: ListRunner, stmt: Effect, values: list[Any]) -> None:
    items = runner.mutated(values[0], "a list mutation")
    items[runner.item(items, values[1])[0]] = values[2]


def _run_accum_item(runner: ListRunner, stmt: Effect, values: list[Any]) -> None:
    items = runner.mutated(values[0], "a list mutation")
    position, old = runner.item(items, values[1])
    items[position] = runner.apply("add", old, values[2])


# -- the table -----------------------------------------------------------------------


def _list_op(python: str, sympy: Callable[..., object] | None, result: str = "list", **facts: Any) -> Rule:
    return Rule(python, sympy, None, result, structural=True, **facts)


def _effect(python: str, flows: tuple[int, ...], **facts: Any) -> Rule:
    return Rule(python, None, None, "list", pure=False, structural=True, effect=True, flows=flows, **facts)


def _zeros_like(value: object) -> object:
    return [_zeros_like(v) for v in value] if isinstance(value, list) else 0.0


def zeros_op(type_: Type) -> str:
    """The operation that makes the zeros an adjoint or tangent of a list of `type_` starts from: a list of
    arrays gets an array of zeros per element (an adjoint popped or read from it is shaped like its value)."""
    return "zeros_like_arrays" if isinstance(type_, ListOf) and isinstance(type_.elem, ArrayOf) else "zeros_like"


def _spell_zeros(texts: tuple[str, ...], stmt: Assign) -> str:
    """A list of zeros shaped like `texts[0]`, written out as deep as the type nests."""

    def zeros(items: str, depth: int) -> str:
        if depth <= 1:
            return f"[0.0] * len({items})"
        row = f"_row{depth}"
        return f"[{zeros(row, depth - 1)} for {row} in {items}]"

    return zeros(texts[0], list_depth(stmt.type))


_ZEROS_LIKE = '''def _zeros_like(value):
    """Zeros shaped like `value`: a list of zeros, or of lists of zeros, as deep as `value` is."""
    return [_zeros_like(v) for v in value] if isinstance(value, (list, tuple)) else 0.0'''

LISTS: dict[str, Rule] = {
    "index": _list_op(
        "{0}[{1}]",
        lambda sp, xs, i: xs[int(i)],
        flows=(0,),
        shares=True,
        cheap="element",
        reverse=_index_reverse,
        reverse_list=_index_reverse_list,
        tangent=_on_tangent_of_first,
        run=lambda runner, stmt, v: runner.item(runner.items(v[0], "index"), v[1])[1],
    ),
    "len": _list_op(
        "len({0})",
        lambda sp, xs: len(xs),
        "int",
        flows=(),
        cheap="length",
        run=lambda runner, stmt, v: runner.domain.const(len(runner.items(v[0], "len"))),
    ),
    "list": _list_op(
        "[{...}]",
        lambda sp, *xs: list(xs),
        shares=True,
        literal=True,
        inline=False,
        reverse=_literal_reverse,
        reverse_list=_literal_reverse_list,
        tangent=_literal_tangent,
        run=lambda runner, stmt, v: list(v),
        spell=lambda texts, stmt: f"[{', '.join(texts)}]",
    ),
    "repeat": _list_op(
        "[{0}] * {1}",
        lambda sp, x, n: [x] * int(n),
        flows=(0,),
        reverse=_repeat_reverse,
        reverse_list=_new_list_reverse_list,
        tangent=_repeat_tangent,
        run=_run_repeat,
    ),
    "zeros_like": _list_op(
        "zeros_like({0})",
        lambda sp, xs: _zeros_like(xs),
        flows=(),
        like=True,
        inline=False,
        inline_operands=(),
        tangent=zeros_tangent,
        run=lambda runner, stmt, v: runner.zeros(runner.items(v[0], "zeros_like")),
        spell=_spell_zeros,
    ),
    # Zeros shaped like a value the function never reads as a number (a list it only measures with
    # `len(W)`, a parameter it never reads), whose nesting the source does not tell: its gradient.
    "zeros_shaped": _list_op(
        "_zeros_like({0})",
        lambda sp, xs: _zeros_like(xs),
        "float",  # of a number; of a list, a list like it
        names=("_zeros_like",),
        flows=(),
        like=True,
        inline=False,
        helper=_ZEROS_LIKE,
        run=lambda runner, stmt, v: runner.zeros(v[0]) if isinstance(v[0], list) else runner.domain.const(0.0),
    ),
    "sum": _list_op(
        "sum({0})",
        lambda sp, xs: sp.Add(*xs),
        flows=(0,),
        int_when_empty=True,
        reverse=_sum_reverse,
        tangent=_on_tangent_of_first,
        run=_run_reduce("add"),
    ),
    "list_max": _list_op(
        "max({0})",
        lambda sp, xs: sp.Max(*xs),
        flows=(0,),
        reverse=_extreme_reverse,
        tangent=_extreme_tangent,
        run=_run_reduce("max"),
    ),
    "list_min": _list_op(
        "min({0})",
        lambda sp, xs: sp.Min(*xs),
        flows=(0,),
        reverse=_extreme_reverse,
        tangent=_extreme_tangent,
        run=_run_reduce("min"),
    ),
    "index_of": _list_op(
        "{0}.index({1})",
        lambda sp, xs, x: xs.index(x),
        "int",
        flows=(),
        run=lambda runner, stmt, v: runner.domain.const(runner.found(runner.items(v[0], "index"), v[1])),
    ),
    "pop": _list_op(
        "{0}.pop()", lambda sp, xs: xs.pop(), pure=False, flows=(0,), overwrites=True, tangent=_on_tangent_of_first, run=_run_pop
    ),
}

# What a counted loop records into, one item per iteration (`optimize.tape_arrays`): `repeat` under a name of its
# own, so that a backend may spell it otherwise (a NumPy array under numba).
LISTS["tape_array"] = dataclasses.replace(LISTS["repeat"], recorded=True)

# Effects: statements that change a list in place (and the function's own `raise`).
EFFECTS: dict[str, Rule] = {
    "append": _effect(
        "{0}.append({1})",
        (1,),
        grows=True,
        inline_operands=(1,),
        reverse=_append_reverse,
        tangent=_effect_tangent(1),
        run=lambda runner, stmt, v: runner.mutated(v[0], "a list mutation").append(v[1]),
    ),
    "setitem": _effect(
        "{0}[{1}] = {2}",
        (2,),
        overwrites=True,
        inline_operands=(2,),
        reverse=_setitem_reverse,
        tangent=_effect_tangent(2),
        run=_run_setitem,
    ),
    "accum_item": _effect(
        "{0}[{1}] += {2}",
        (2,),
        overwrites=True,
        commutes=True,
        inline_operands=(2,),
        tangent=_effect_tangent(2, only_varied=True),
        run=_run_accum_item,
    ),
    "discard_pop": _effect(
        "{0}.pop()",
        (),
        overwrites=True,
        inline_operands=(),
        tangent=_effect_tangent(-1),
        run=lambda runner, stmt, v: runner.pop_last(runner.mutated(v[0], "a list mutation")),
    ),
    # The function's own check of its input (`raise ValueError(...)`, a failed `assert`): no derivative;
    # where the function raises, its gradient raises the same.
    "raise": _effect(
        "raise",
        (),
        overwrites=True,
        inline_operands=(),
        run=lambda runner, stmt, v: runner.raised(stmt.text),
        spell=lambda texts, stmt: f"raise {stmt.text}",
    ),
}


def _operand_depth(sweep: ReverseSweep, operand: Operand) -> int:
    return list_depth(sweep.types[operand.name]) if isinstance(operand, Var) else 0


def _element_type(type_: Type) -> Type:
    return type_.elem if isinstance(type_, ListOf) else type_


def _name(operand: Operand) -> str:
    assert isinstance(operand, Var)
    return operand.name
