"""Builtins and `math` functions of lists: `math.fsum`, `math.prod`, `math.dist` and `sorted`.

Like the list operations of `rules/lists.py` these are structural: their
derivatives move values between positions, written once as templates
(`reverse`, `tangent`, `run`; the sweeps and the runner are the protocols
there):

- `math.fsum(xs)` is a sum: every element gets its adjoint; its tangent is
  the fsum of the tangents.
- `math.prod(xs)`: each element gets the adjoint times the product of the
  others, `_prod_others(xs)` (prefix and suffix products, no division: exact
  where an element is 0), a helper the generated module defines. Its
  tangent is the sum of each element's tangent times the same products.
  (The Hessian through it, forward mode over that helper, is refused.)
- `math.dist(p, q)`, sqrt(sum((p[j] - q[j]) ** 2)): `p[j]` gets the adjoint
  times `(p[j] - q[j]) / d` and `q[j]` its negative; where d is 0 both get
  0, the convention of `hypot` at the origin.
- `sorted(xs)` (and `reverse=True`) permutes: the adjoint of the element at
  position j goes back to the position it came from, `order[j]`, where
  `order` is `sorted(range(len(xs)), key=xs.__getitem__)`, the permutation
  `sorted` applies (its tangent is the tangent list in that order). `sorted`
  is stable, and so is `order`: at a tie, equal elements keep the order they
  had, and the one met first gets the derivative of the first of their
  positions (as `max`/`min` of a list send it to the first maximal or
  minimal element). There the derivative does not exist; this is the
  one-sided derivative in the direction that keeps the order.

Where the reverse sweep would read a list that changes (`order` and the
products of the others are of the list as it was), they are computed in
the forward sweep instead (`also_forward`); `math.dist` reads `p[j] - q[j]`
in the reverse sweep, over as many coordinates as there were then, and is
refused for a list whose elements are assigned again later.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, Protocol

from ..errors import UnsupportedError
from ..ir import FLOAT, INT, Assign, Carry, Const, Effect, For, Function, ListOf, Loc, Namer, Operand, Stmt, Type, Var
from .core import Rule
from .lists import ListRunner, ReverseSweep, TangentSweep


class _Reverse(ReverseSweep, Protocol):
    mutated: set[str]  # lists some effect changes (appends too), and the other names for them


class _Tangents(TangentSweep, Protocol):
    namer: Namer
    function: Function


class _Runner(ListRunner, Protocol):
    def decide(self, value: Any, what: str) -> bool: ...


# -- reverse mode ------------------------------------------------------------------


def _name(operand: Operand) -> str:
    assert isinstance(operand, Var)
    return operand.name


def _loop(sweep: ReverseSweep, count: Operand, loc: Loc, body: Callable[[Var], None]) -> list[Stmt]:
    """The statements of a loop `for _j in range(count)` whose body `body(_j)` emits into `sweep.out`."""
    index = Var(sweep.fresh("_j", INT))
    saved, sweep.out = sweep.out, []
    try:
        body(index)
        statements = tuple(sweep.out)
    finally:
        sweep.out = saved
    return [For(index.name, Const(0), count, Const(1), (), statements, None, loc)]


def _taken_now(sweep: _Reverse, stmt: Assign, op: str, type_: Type, *args: Operand) -> Operand:
    """`op(*args)` of the list the statement read, computed in the reverse sweep, or, where something changes
    that list (overwrites an element, or appends one: the reverse sweep would see it), in the forward sweep
    next to the statement."""
    items = args[0]
    if sweep.rewritten(items) or (isinstance(items, Var) and items.name in sweep.mutated):
        target = sweep.fresh("_order" if type_ == ListOf(INT) else "_others", type_)
        sweep.also_forward.append(Assign(target, op, args, type_, stmt.loc))
        return Var(target)
    return sweep.emit(op, *args, type_=type_, loc=stmt.loc)


def _fsum_reverse(sweep: ReverseSweep, stmt: Assign, bar: Operand) -> None:
    """Every element gets the sum's adjoint: `for _j in range(len(xs_bar)): xs_bar[_j] += s_bar`."""
    items = stmt.args[0]
    if not sweep.active(items):
        return
    items_bar = sweep.adjoint[_name(items)]
    count = sweep.emit("len", items_bar, type_=INT, loc=stmt.loc)
    sweep.out.extend(
        _loop(sweep, count, stmt.loc, lambda j: sweep.out.append(Effect("accum_item", (items_bar, j, bar), stmt.loc)))
    )


def _prod_reverse(sweep: _Reverse, stmt: Assign, bar: Operand) -> None:
    """`xs_bar[_j] += p_bar * others[_j]`, with `others = _prod_others(xs)`."""
    items = stmt.args[0]
    if not sweep.active(items):
        return
    others = _taken_now(sweep, stmt, "prod_others", ListOf(FLOAT), items)
    items_bar = sweep.adjoint[_name(items)]
    count = sweep.emit("len", items_bar, type_=INT, loc=stmt.loc)

    def body(j: Var) -> None:
        other = sweep.emit("index", others, j, type_=FLOAT, loc=stmt.loc)
        sweep.out.append(Effect("accum_item", (items_bar, j, sweep.emit("mul", bar, other, type_=FLOAT, loc=stmt.loc)), stmt.loc))

    sweep.out.extend(_loop(sweep, count, stmt.loc, body))


def _dist_reverse(sweep: ReverseSweep, stmt: Assign, bar: Operand) -> None:
    """`p_bar[_j] += g * (p[_j] - q[_j])` and `q_bar[_j] -= ...`, with `g = d_bar / d` (0 where d is 0)."""
    p, q = stmt.args
    if not (sweep.active(p) or sweep.active(q)):
        return
    for points in (p, q):
        if sweep.rewritten(points):
            raise sweep.refuse(
                stmt.loc,
                f"math.dist of the list '{_name(points).split('.')[0]}', whose elements are assigned again later, "
                "is not supported",
                "give the changed list another name, or take the distance after the last change",
            )
    loc = stmt.loc
    scale = sweep.emit("div_pos", bar, Var(stmt.target), type_=FLOAT, loc=loc)
    # As many coordinates as there were: an adjoint list has the length its list had here (a later append to
    # the list is undone on its adjoint by now), the list itself may have grown since.
    count = sweep.emit("len", sweep.adjoint[_name(p if sweep.active(p) else q)], type_=INT, loc=loc)

    def body(j: Var) -> None:
        gap = sweep.emit(
            "sub",
            sweep.emit("index", p, j, type_=FLOAT, loc=loc),
            sweep.emit("index", q, j, type_=FLOAT, loc=loc),
            type_=FLOAT,
            loc=loc,
        )
        share = sweep.emit("mul", scale, gap, type_=FLOAT, loc=loc)
        if sweep.active(p):
            sweep.out.append(Effect("accum_item", (sweep.adjoint[_name(p)], j, share), loc))
        if sweep.active(q):
            sweep.out.append(
                Effect("accum_item", (sweep.adjoint[_name(q)], j, sweep.emit("neg", share, type_=FLOAT, loc=loc)), loc)
            )

    sweep.out.extend(_loop(sweep, count, loc, body))


def _sorted_reverse(order_op: str) -> Callable[..., None]:
    def reverse(sweep: _Reverse, stmt: Assign, bar: Operand) -> None:
        """The adjoint of each position goes back to where its element came from: `xs_bar[order[_j]] += s_bar[_j]`."""
        items = stmt.args[0]
        if not sweep.active(items):
            return
        order = _taken_now(sweep, stmt, order_op, ListOf(INT), items)
        items_bar = sweep.adjoint[_name(items)]
        count = sweep.emit("len", order, type_=INT, loc=stmt.loc)

        def body(j: Var) -> None:
            source = sweep.emit("index", order, j, type_=INT, loc=stmt.loc)
            moved = sweep.emit("index", bar, j, type_=FLOAT, loc=stmt.loc)
            sweep.out.append(Effect("accum_item", (items_bar, source, moved), stmt.loc))

        sweep.out.extend(_loop(sweep, count, stmt.loc, body))

    return reverse


def _new_list_reverse_list(sweep: ReverseSweep, stmt: Assign) -> Operand:
    return sweep.zeros_like(stmt.target, stmt.type, stmt.loc)


# -- forward mode ------------------------------------------------------------------


def _tangent_sum(sweep: _Tangents, count: Operand, loc: Loc, term: Callable[[Var], Operand]) -> Operand:
    """`_acc = 0.0; for _j in range(count): _acc += term(_j)`: the loop's statements go to `sweep.out`."""
    header, update_name, result = (sweep.namer.fresh("_acc") for _ in range(3))
    for name in (header, update_name, result):
        sweep.types[name] = FLOAT
    index = sweep.namer.fresh("_j")
    sweep.types[index] = INT
    saved, sweep.out = sweep.out, []
    try:
        added = sweep.emit_temp("add", Var(header), term(Var(index)), type_=FLOAT, loc=loc)
        body = tuple(sweep.out)
    finally:
        sweep.out = saved
    carry = Carry(header, FLOAT, Const(0.0), added, result, loc)
    sweep.out.append(For(index, Const(0), count, Const(1), (carry,), body, None, loc))
    return Var(result)


def _fsum_tangent(sweep: _Tangents, stmt: Assign) -> None:
    items = stmt.args[0]
    if sweep.has_tangent(items):
        sweep.tangent[stmt.target] = sweep.emit(stmt.target, stmt.op, (sweep.tangent_of(items),), stmt.type, stmt.loc)


def _prod_tangent(sweep: _Tangents, stmt: Assign) -> None:
    """The sum of each element's tangent times the product of the others."""
    items = stmt.args[0]
    if not sweep.has_tangent(items):
        return
    loc = stmt.loc
    others = sweep.emit_temp("prod_others", items, type_=ListOf(FLOAT), loc=loc)
    dots = sweep.tangent_of(items)
    count = sweep.emit_temp("len", items, type_=INT, loc=loc)

    def term(j: Var) -> Operand:
        other = sweep.emit_temp("index", others, j, type_=FLOAT, loc=loc)
        return sweep.emit_temp("mul", other, sweep.emit_temp("index", dots, j, type_=FLOAT, loc=loc), type_=FLOAT, loc=loc)

    sweep.tangent[stmt.target] = _tangent_sum(sweep, count, loc, term)


def _dist_tangent(sweep: _Tangents, stmt: Assign) -> None:
    """`sum((p[j] - q[j]) * (p_dot[j] - q_dot[j])) / d`, and 0 where d is 0."""
    p, q = stmt.args
    if not (sweep.has_tangent(p) or sweep.has_tangent(q)):
        return
    loc = stmt.loc
    count = sweep.emit_temp("len", p, type_=INT, loc=loc)

    def term(j: Var) -> Operand:
        gap = sweep.emit_temp(
            "sub", *(sweep.emit_temp("index", a, j, type_=FLOAT, loc=loc) for a in (p, q)), type_=FLOAT, loc=loc
        )
        moves = [sweep.emit_temp("index", sweep.tangent_of(a), j, type_=FLOAT, loc=loc) for a in (p, q) if sweep.has_tangent(a)]
        if sweep.has_tangent(p) and sweep.has_tangent(q):
            move = sweep.emit_temp("sub", moves[0], moves[1], type_=FLOAT, loc=loc)
        elif sweep.has_tangent(p):
            move = moves[0]
        else:
            move = sweep.emit_temp("neg", moves[0], type_=FLOAT, loc=loc)
        return sweep.emit_temp("mul", gap, move, type_=FLOAT, loc=loc)

    total = _tangent_sum(sweep, count, loc, term)
    sweep.tangent[stmt.target] = sweep.emit(stmt.target, "div_pos", (total, Var(stmt.target)), FLOAT, loc)


def _sorted_tangent(order_op: str) -> Callable[..., None]:
    def tangent(sweep: _Tangents, stmt: Assign) -> None:
        """The tangents in the order `sorted` put the elements in."""
        items = stmt.args[0]
        if sweep.has_tangent(items):
            order = sweep.emit_temp(order_op, items, type_=ListOf(INT), loc=stmt.loc)
            sweep.tangent[stmt.target] = sweep.emit(stmt.target, "gather", (sweep.tangent_of(items), order), stmt.type, stmt.loc)

    return tangent


def _no_second_order(sweep: _Tangents, stmt: Assign) -> None:
    if sweep.has_tangent(stmt.args[0]):
        raise UnsupportedError(
            "the Hessian through math.prod (forward mode over its gradient) is not supported yet",
            filename=stmt.loc.file,
            lineno=stmt.loc.line,
            source_line=sweep.function.source_line(stmt.loc),
            hint="write the product with `*` (in a loop: p = p * x) to get its Hessian",
        )


# -- evaluation --------------------------------------------------------------------


def _run_fold(step: str, empty: int) -> Callable[..., Any]:
    """The elements added (multiplied) in order; `empty` for no elements."""

    def run(runner: ListRunner, stmt: Assign, values: list[Any]) -> Any:
        items = runner.items(values[0], stmt.op)
        if not items:
            return runner.domain.const(empty)
        total = items[0]
        for item in items[1:]:
            total = runner.apply(step, total, item)
        return total

    return run


def _run_dist(runner: ListRunner, stmt: Assign, values: list[Any]) -> Any:
    p, q = (runner.items(v, "math.dist") for v in values)
    if len(p) != len(q):
        runner.reject("math.dist of points with different numbers of coordinates")
    total = None
    for a, b in zip(p, q):
        gap = runner.apply("sub", a, b)
        square = runner.apply("mul", gap, gap)
        total = square if total is None else runner.apply("add", total, square)
    return runner.apply("sqrt", runner.domain.const(0) if total is None else total)


def _run_prod_others(runner: ListRunner, stmt: Assign, values: list[Any]) -> Any:
    items = runner.items(values[0], "_prod_others")
    others = []
    for j in range(len(items)):
        total = runner.domain.const(1)
        for i, item in enumerate(items):
            if i != j:
                total = runner.apply("mul", total, item)
        others.append(total)
    return others


def _order(runner: _Runner, items: list[Any], descending: bool) -> list[int]:
    """The positions of `items` in the order `sorted` puts them (stable), each comparison decided."""

    def before(a: Any, b: Any) -> bool:
        return runner.decide(runner.apply("lt", b, a) if descending else runner.apply("lt", a, b), "an order of sorted()")

    def compare(i: int, j: int) -> int:
        return -1 if before(items[i], items[j]) else 1 if before(items[j], items[i]) else 0

    return sorted(range(len(items)), key=functools.cmp_to_key(compare))


def _run_sorted(descending: bool, positions: bool) -> Callable[..., Any]:
    def run(runner: _Runner, stmt: Assign, values: list[Any]) -> Any:
        items = runner.items(values[0], "sorted")
        order = _order(runner, items, descending)
        return [runner.domain.const(i) for i in order] if positions else [items[i] for i in order]

    return run


def _run_gather(runner: ListRunner, stmt: Assign, values: list[Any]) -> Any:
    items = runner.items(values[0], "a permutation")
    return [runner.item(items, i)[1] for i in runner.items(values[1], "a permutation")]


# -- the table -----------------------------------------------------------------------


_PROD_OTHERS = '''def _prod_others(xs):
    """For each element of xs, the product of the others, without a division: a zero among them is no trouble."""
    others = [1.0] * len(xs)
    left = 1.0
    for j in range(len(xs)):
        others[j] = left
        left = left * xs[j]
    right = 1.0
    for j in reversed(range(len(xs))):
        others[j] = others[j] * right
        right = right * xs[j]
    return others'''


def _list_op(python: str, sympy: Callable[..., object] | None, result: str = "list", **facts: Any) -> Rule:
    return Rule(python, sympy, None, result, structural=True, **facts)


def _prod_mpmath(mp: Any, xs: Any) -> Any:
    """`math.prod` in high precision: an int of ints, as Python's."""
    return functools.reduce(lambda a, b: a * b, xs, 1) if all(isinstance(x, int) for x in xs) else mp.fprod(xs)


def _dist_mpmath(mp: Any, p: Any, q: Any) -> Any:
    if len(p) != len(q):
        raise ValueError("both points must have the same number of dimensions")
    return mp.sqrt(mp.fsum((a - b) ** 2 for a, b in zip(p, q)))


_ORDER = "sorted(range(len({0})), key={0}.__getitem__)"

BUILTIN_LISTS: dict[str, Rule] = {
    "fsum": _list_op(
        "math.fsum({0})",
        lambda sp, xs: sp.Add(*xs),
        "float",
        names=("math.fsum",),
        flows=(0,),
        reverse=_fsum_reverse,
        tangent=_fsum_tangent,
        run=_run_fold("add", 0),
        mpmath=lambda mp, xs: mp.fsum(xs),
    ),
    "prod": _list_op(
        "math.prod({0})",
        lambda sp, xs: sp.Mul(*xs),
        "promote",  # of ints an int (the lowering types it: a list operation's type comes from its operands)
        names=("math.prod",),
        flows=(0,),
        reverse=_prod_reverse,
        tangent=_prod_tangent,
        run=_run_fold("mul", 1),
        mpmath=_prod_mpmath,
    ),
    "dist": _list_op(
        "math.dist({0}, {1})",
        lambda sp, p, q: sp.sqrt(sp.Add(*((a - b) ** 2 for a, b in zip(p, q)))),
        "float",
        names=("math.dist",),
        reverse=_dist_reverse,
        tangent=_dist_tangent,
        run=_run_dist,
        mpmath=_dist_mpmath,
    ),
    # (no SymPy expression: the order depends on the values, which the check's interpreter decides at each point)
    "sorted": _list_op(
        "sorted({0})",
        None,
        flows=(0,),
        reverse=_sorted_reverse("argsort"),
        reverse_list=_new_list_reverse_list,
        tangent=_sorted_tangent("argsort"),
        run=_run_sorted(descending=False, positions=False),
    ),
    "sorted_reverse": _list_op(
        "sorted({0}, reverse=True)",
        None,
        flows=(0,),
        reverse=_sorted_reverse("argsort_reverse"),
        reverse_list=_new_list_reverse_list,
        tangent=_sorted_tangent("argsort_reverse"),
        run=_run_sorted(descending=True, positions=False),
    ),
    # What the derivatives above are written with.
    "argsort": _list_op(_ORDER, None, flows=(), run=_run_sorted(descending=False, positions=True)),
    "argsort_reverse": _list_op(
        _ORDER[:-1] + ", reverse=True)", None, flows=(), run=_run_sorted(descending=True, positions=True)
    ),
    # xs in the order given by a list of positions; its operands are names (the comprehension reads {0} repeatedly)
    "gather": _list_op(
        "[{0}[_i] for _i in {1}]",
        lambda sp, xs, order: [xs[int(i)] for i in order],
        flows=(0,),
        inline_operands=(),
        run=_run_gather,
        spell=lambda texts, stmt: f"[{texts[0]}[_i] for _i in {texts[1]}]",
    ),
    "prod_others": _list_op(
        "_prod_others({0})",
        lambda sp, xs: [sp.Mul(*(v for i, v in enumerate(xs) if i != j)) for j in range(len(xs))],
        flows=(0,),
        helper=_PROD_OTHERS,
        tangent=_no_second_order,
        run=_run_prod_others,
    ),
}
