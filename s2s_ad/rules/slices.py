"""New lists made of others: slices (`xs[1:]`, `xs[::-1]`, `xs[a:b:s]`), copies (`list(xs)`) and
concatenation (`xs + ys`), as Python spells them.

Each makes a new list whose elements are elements of its operands, so its
adjoint is scattered back: `xs_bar[j] += ys_bar[k]` for the position `j` of
`xs` that position `k` came from (`range(len(xs))[a:b:s]` says which). The
rows of a list of lists are shared, as in Python, so there the new list's
adjoint is made of the rows' adjoints instead (`xs_bar[1:]`), and nothing is
scattered.

A slice is one primitive per choice of bounds that are written (`xs[1:]` is
`slice_l`, `xs[a:b]` is `slice_lu`), so that the code reads as the source.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .. import ir
from ..ir import INT, Assign, Const, Effect, For, ListOf, Operand, Var, list_depth
from .core import Rule
from .lists import ListRunner, ReverseSweep, TangentSweep


def _bounds_spelling(pattern: str, first: int) -> str:
    """`{1}:{2}` for "lu", `:{1}` for "u", `::{1}` for "s", ... with operands numbered from `first`."""
    parts, k = [], first
    for letter in "lus":
        if letter in pattern:
            parts.append(f"{{{k}}}")
            k += 1
        else:
            parts.append("")
    text = ":".join(parts)
    return text[:-1] if text.endswith(":") and "s" not in pattern else text


def _python_slice(pattern: str, bounds: tuple[Any, ...]) -> slice:
    given = iter(bounds)
    return slice(*(next(given) if letter in pattern else None for letter in "lus"))


def _slice_reverse(pattern: str) -> Callable[..., None]:
    def reverse(sweep: ReverseSweep, stmt: Assign, bar: Operand) -> None:
        items = stmt.args[0]
        if list_depth(stmt.type) > 1 or not sweep.active(items):
            return  # rows: the new list's adjoint is made of the rows' adjoints
        target = sweep.adjoint_of_list(items, stmt.loc)
        length = sweep.emit("len", target, type_=INT, loc=stmt.loc)
        positions = sweep.emit(f"positions_{pattern}", length, *stmt.args[1:], type_=ListOf(INT), loc=stmt.loc)
        _scatter(sweep, target, bar, lambda k: sweep.emit("index", positions, k, type_=INT, loc=stmt.loc), stmt)

    return reverse


def _scatter(sweep: ReverseSweep, target: Operand, bar: Operand, position: Callable[[Operand], Operand], stmt: Assign) -> None:
    """`target[position(k)] += bar[k]` for every position k of `bar`."""
    _adding_loop(sweep, bar, stmt, lambda k: (position(k), sweep.emit("index", bar, k, type_=_elem(stmt), loc=stmt.loc)), target)


def _adding_loop(
    sweep: ReverseSweep, counted: Operand, stmt: Assign, at: Callable[[Operand], tuple[Operand, Operand]], target: Operand
) -> None:
    """`for k in range(len(counted)): target[where] += value`, with `(where, value) = at(k)` written in the loop."""
    count = sweep.emit("len", counted, type_=INT, loc=stmt.loc)
    k = sweep.fresh("_k", INT)
    saved, sweep.out = sweep.out, []
    where, value = at(Var(k))
    sweep.out.append(Effect("accum_item", (target, where, value), stmt.loc))
    body, sweep.out = tuple(sweep.out), saved
    sweep.out.append(For(k, Const(0), count, Const(1), (), body, None, stmt.loc))


def _elem(stmt: Assign) -> ir.Type:
    assert isinstance(stmt.type, ListOf)
    return stmt.type.elem


def _rows_adjoint(op: str) -> Callable[..., Operand]:
    """The adjoint of the new list: of a list of rows, the same operation on the rows' adjoints."""

    def make(sweep: ReverseSweep, stmt: Assign) -> Operand:
        if list_depth(stmt.type) > 1:
            lists = tuple(sweep.adjoint_of_list(a, stmt.loc) if i in _LIST_OPERANDS[op] else a for i, a in enumerate(stmt.args))
            return sweep.new_adjoint(stmt, op, lists)
        return sweep.zeros_like(stmt.target, stmt.type, stmt.loc)

    return make


def _same_on_tangents(lists: tuple[int, ...]) -> Callable[..., None]:
    def tangent(sweep: TangentSweep, stmt: Assign) -> None:
        if any(sweep.has_tangent(stmt.args[i]) for i in lists):
            args = tuple(sweep.tangent_of(a) if i in lists else a for i, a in enumerate(stmt.args))
            sweep.tangent[stmt.target] = sweep.emit(stmt.target, stmt.op, args, stmt.type, stmt.loc)

    return tangent


def _concat_reverse(sweep: ReverseSweep, stmt: Assign, bar: Operand) -> None:
    """`zs = xs + ys`: `xs_bar[k] += zs_bar[k]`, then `ys_bar[k] += zs_bar[len(xs) + k]`."""
    if list_depth(stmt.type) > 1:
        return
    first, second = stmt.args
    offset = sweep.emit("len", first, type_=INT, loc=stmt.loc)
    for items, shift in ((first, None), (second, offset)):
        if not sweep.active(items):
            continue
        target = sweep.adjoint_of_list(items, stmt.loc)

        def at(k: Operand, shift: Operand | None = shift) -> tuple[Operand, Operand]:
            read = k if shift is None else sweep.emit("add", shift, k, type_=INT, loc=stmt.loc)
            return k, sweep.emit("index", bar, read, type_=_elem(stmt), loc=stmt.loc)

        _adding_loop(sweep, target, stmt, at, target)


def _copy_reverse(sweep: ReverseSweep, stmt: Assign, bar: Operand) -> None:
    if list_depth(stmt.type) > 1 or not sweep.active(stmt.args[0]):
        return
    target = sweep.adjoint_of_list(stmt.args[0], stmt.loc)
    _scatter(sweep, target, bar, lambda k: k, stmt)


def _run_slice(pattern: str) -> Callable[..., Any]:
    def run(runner: ListRunner, stmt: Assign, values: list[Any]) -> Any:
        items = runner.items(values[0], "a slice")
        bounds = tuple(runner.count(v, "a slice bound") for v in values[1:])
        return list(items[_python_slice(pattern, bounds)])

    return run


_LIST_OPERANDS = {"list_copy": (0,), "concat": (0, 1), **{f"slice_{p}": (0,) for p in ("l", "u", "s", "lu", "ls", "us", "lus")}}


def _slice_rule(pattern: str) -> Rule:
    return Rule(
        f"{{0}}[{_bounds_spelling(pattern, 1)}]",
        lambda sp, xs, *bounds: list(xs)[_python_slice(pattern, tuple(int(b) for b in bounds))],
        None,
        "list",
        structural=True,
        flows=(0,),
        shares=True,
        inline=False,
        reverse=_slice_reverse(pattern),
        reverse_list=_rows_adjoint(f"slice_{pattern}"),
        tangent=_same_on_tangents((0,)),
        run=_run_slice(pattern),
    )


def _positions_rule(pattern: str) -> Rule:
    """The positions of a list of length n that a slice takes, as a range: `range(n)[1:]`."""
    return Rule(
        f"range({{0}})[{_bounds_spelling(pattern, 1)}]",
        lambda sp, n, *bounds: list(range(int(n)))[_python_slice(pattern, tuple(int(b) for b in bounds))],
        None,
        "list",
        structural=True,
        flows=(),
        inline=True,
        run=lambda runner, stmt, v: [
            runner.domain.const(i)
            for i in range(runner.count(v[0], "a length"))[
                _python_slice(pattern, tuple(runner.count(b, "a bound") for b in v[1:]))
            ]
        ],
    )


_PATTERNS = ("l", "u", "s", "lu", "ls", "us", "lus")

SLICES: dict[str, Rule] = {
    **{f"slice_{p}": _slice_rule(p) for p in _PATTERNS},
    **{f"positions_{p}": _positions_rule(p) for p in _PATTERNS},
    "list_copy": Rule(
        "list({0})",
        lambda sp, xs: list(xs),
        None,
        "list",
        structural=True,
        flows=(0,),
        shares=True,
        inline=False,
        reverse=_copy_reverse,
        reverse_list=_rows_adjoint("list_copy"),
        tangent=_same_on_tangents((0,)),
        run=lambda runner, stmt, v: list(runner.items(v[0], "list")),
    ),
    "concat": Rule(
        "{0} + {1}",
        lambda sp, xs, ys: list(xs) + list(ys),
        None,
        "list",
        structural=True,
        flows=(0, 1),
        shares=True,
        inline=False,
        reverse=_concat_reverse,
        reverse_list=_rows_adjoint("concat"),
        tangent=_same_on_tangents((0, 1)),
        run=lambda runner, stmt, v: list(runner.items(v[0], "+")) + list(runner.items(v[1], "+")),
    ),
}
