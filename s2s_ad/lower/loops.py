"""Loops: `for` over ranges, lists, zip and enumerate, `while`, carried values, comprehensions."""

from __future__ import annotations

import ast
from collections.abc import Callable
from dataclasses import dataclass

from .. import ir
from ..errors import UnsupportedError
from ..frontend import Callee
from ..frontend.tree import nodes
from ..ir import FLOAT, INT, Assign, Const, Loc, Operand, Type, Var
from ..rules.shapes import dims, is_array
from . import rows
from .base import KindChanged, LoweringBase, kind_of
from .scope import (
    BREAK,
    CONTINUE,
    FALSE,
    RESULT,
    RETURNED,
    TRUE,
    Entry,
    Function,
    NoneValue,
    Scope,
    TupleValue,
    Undefined,
    Value,
    assigned_names,
    contains,
    join,
    stored_into,
)

# A `for` loop as the lowering runs it: range bounds (start, stop, step), what binds the loop target in each
# iteration (None: the index is the target), and whether it runs backwards.
Iteration = tuple[Value, Value, Value, Callable[[Scope], None] | None, bool]

_ZERO, _ONE = Value(Const(0), INT), Value(Const(1), INT)


@dataclass(frozen=True)
class _LoweredBody:
    """A loop's test and body lowered once: the header name of each carried value, the index (a `for`),
    the test's block and value (a `while`), the body, the flag that leaves the loop early (None: it runs
    to its end) and each carried value at the end of the body."""

    headers: dict[str, str]
    index: str | None
    test: ir.Block
    cond: Value | None
    body: ir.Block
    until: Operand | None
    updates: dict[str, Entry]


class Loops(LoweringBase):
    """Loops: `for` over ranges, lists, zip and enumerate, `while`, carried values, comprehensions."""

    def for_statement(self, node: ast.For, scope: Scope) -> None:
        self.refuse_growing(node)
        start, stop, step, bind_target, backwards = self.iteration(node.iter, node.target, scope, node)
        if backwards and (breaks(node.body) or contains(node.body, ast.Return)):
            start, stop, step = self.counting_down(start, stop, step, node)
            backwards = False
        index_key = node.target.id if isinstance(node.target, ast.Name) and bind_target is None else "#k"

        def lower_body(body_scope: Scope) -> None:
            if bind_target is not None:
                bind_target(body_scope)
            self.block(node.body, body_scope)

        self.loop(node, scope, index_key, (start, stop, step), lower_body, None, node.body, backwards)

    def counting_down(self, start: Value, stop: Value, step: Value, node: ast.AST) -> tuple[Value, Value, Value]:
        """`reversed(range(a, b, k))` as the range that counts down, `range(last, a - 1, -k)`: a loop it may leave
        early (`break`, `return`) is reversed as the first iterations of that range, as any such loop is."""
        if not (isinstance(step.operand, Const) and type(step.operand.value) is int and step.operand.value > 0):
            raise self.error(
                UnsupportedError,
                "leaving a loop over reversed(range(...)) early (break or return) needs a constant positive step",
                node,
                "write the range counting down, range(last, first - 1, -k)",
            )
        k = step.operand.value
        one, by = Value(Const(1), INT), Value(Const(k), INT)
        last = self.apply("sub", (stop, one), node)
        if k != 1:  # a + ((b - a - 1) // k) * k
            steps = self.apply("floordiv", (self.apply("sub", (last, start), node), by), node)
            last = self.apply("add", (start, self.apply("mul", (steps, by), node)), node)
        return last, self.apply("sub", (start, one), node), Value(Const(-k), INT)

    def refuse_growing(self, node: ast.For) -> None:
        """A loop over a list (directly, or in zip/enumerate) visits what its body appends to that list;
        the lowered loop runs over the items there at the start, so such a loop is refused."""
        iterated = (
            node.iter.args
            if isinstance(node.iter, ast.Call)
            and isinstance(node.iter.func, ast.Name)
            and node.iter.func.id in ("zip", "enumerate")
            else [node.iter]
        )
        names = {n.id for n in iterated if isinstance(n, ast.Name)}
        for child in (c for stmt in node.body for c in nodes(stmt)):
            if (
                isinstance(child, ast.Call)
                and isinstance(child.func, ast.Attribute)
                and child.func.attr == "append"
                and isinstance(child.func.value, ast.Name)
                and child.func.value.id in names
            ):
                raise self.error(
                    UnsupportedError,
                    f"the list '{child.func.value.id}' grows inside the loop that runs "
                    "over it (Python would visit the new items too)",
                    child,
                    f"loop over range(len({child.func.value.id})) for the items there at the start",
                )

    def while_statement(self, node: ast.While, scope: Scope) -> None:
        forever = isinstance(node.test, ast.Constant) and node.test.value is True
        if forever:  # `while True:` runs its body once at least: what it assigns before it can leave is set after it
            for key in _assigned_before_leaving(node.body):
                if not isinstance(scope.get(key), Value):
                    scope[key] = Value(Const(0), INT)  # never read: the first iteration assigns it first
                    self.seeded.add(key)
        self.loop(node, scope, None, None, lambda body_scope: self.block(node.body, body_scope), node.test, node.body)
        if isinstance(node.test, ast.Constant) and node.test.value is True and not breaks(node.body):
            scope[RETURNED] = TRUE  # `while True:` without a break is left only by `return`

    def loop(
        self,
        node: ast.stmt,
        scope: Scope,
        index_key: str | None,
        bounds: tuple[Value, Value, Value] | None,
        lower_body: Callable[[Scope], None],
        test: ast.expr | None,
        body: list[ast.stmt],
        backwards: bool = False,
    ) -> None:
        """A `for` over a range (`bounds`, run `backwards` for `reversed(...)`) or a `while` (`test`), with its
        carried values."""
        assigned = assigned_names(body) | ({index_key} if index_key else set())
        assigned |= {k for k in stored_into(body) if isinstance(getattr(scope.get(k), "type", None), ir.ArrayOf)}
        carried = self.carried(node, scope, assigned, body)
        types = {k: scope[k].type for k in carried}  # type: ignore[union-attr]  # carried: Values (no Undefined, tuples refused)
        bound_at = {k: self.bound_at.get(k) for k in carried}  # where each got the value the loop starts from
        snapshot = self.namer.snapshot()
        for _ in range(3):  # widen int-typed carried values that the body makes floats, and lower again
            self.namer.restore(snapshot)
            lowered = self.loop_body(node, scope, carried, types, index_key, lower_body, test)
            widened = self.widened(node, types, lowered.updates)
            if widened == types:
                break
            types = widened
        carries = []
        for key in carried:
            result = self.fresh(key)
            self.types[result] = types[key]
            update = lowered.updates[key]
            assert isinstance(update, Value)
            init = scope[key]
            assert isinstance(init, Value)
            self.carried_in_place(node, key, lowered.headers[key], update)
            carries.append(
                ir.Carry(
                    lowered.headers[key],
                    types[key],
                    init.operand,
                    update.operand,
                    result,
                    self.assignment(body, key),
                    bound_at[key],
                )
            )
            scope[key] = Value(Var(result), types[key])
        if backwards and lowered.until is not None:
            raise self.error(
                UnsupportedError,
                "leaving a loop over reversed(...) early (break or return) is not supported",
                node,
                "loop forwards, or let the loop run to its end",
            )
        self.out.append(
            self.loop_statement(
                lowered.index, bounds, tuple(carries), lowered.body, lowered.test, lowered.cond, lowered.until, backwards
            )
        )
        for key in assigned - set(carried):
            if not key.startswith("#"):
                scope[key] = Undefined(f"'{key}' is assigned only inside the loop at line {node.lineno}")
        # A loop that may return leaves a flag in scope[RETURNED]: `block` guards the rest of the enclosing block.

    def carried_in_place(self, node: ast.stmt, key: str, header: str, update: Value) -> None:
        """An array a `+=` or a store changes in the loop must not be one another name (or a list it was put
        into) holds at the next iteration."""
        if header in self.augmented and isinstance(update.operand, Var) and update.operand.name in self.shared:
            raise self.error(
                UnsupportedError,
                f"this loop changes the array '{key}' in place ('{key} += ...' or '{key}[...] = ...') while another "
                "name or a list may hold it from the iteration before",
                node,
                f"make a new array each iteration: {key} = {key} + ..., or {key} = {key}.copy() before writing into it",
            )

    def carried(self, node: ast.stmt, scope: Scope, assigned: set[str], body: list[ast.stmt]) -> list[str]:
        """The names a loop carries from one iteration to the next: those it assigns that have a value
        before it, and whether and what it returned when its body may return."""
        carried = [
            k
            for k in scope
            if k in assigned and not isinstance(scope[k], Undefined) and k not in (RETURNED, RESULT, BREAK, CONTINUE)
        ]
        if contains(body, ast.Return):
            returned = [n for stmt in body for n in ast.walk(stmt) if isinstance(n, ast.Return)]
            tuples = [n for n in returned if isinstance(n.value, ast.Tuple)]
            if tuples:
                raise self.error(
                    UnsupportedError,
                    "returning a tuple from inside a loop is not supported",
                    tuples[0],
                    "assign the values to names, break out of the loop, and return them after it",
                )
            carried += [RETURNED, RESULT]
            if RESULT not in scope:
                scope[RESULT] = Value(Const(0.0), FLOAT)
        for key in carried:
            if isinstance(scope[key], TupleValue) and key in (RETURNED, RESULT):
                raise self.error(UnsupportedError, "returning a tuple from inside a loop is not supported", node)
            held = scope[key]
            if isinstance(held, TupleValue):
                raise self.error(
                    UnsupportedError,
                    f"'{key}' is a tuple the loop assigns again; a loop cannot carry a tuple",
                    node,
                    f"keep its items in names the loop assigns (`a, b = b, a * x`) and make '{key}' after the loop",
                )
            if isinstance(held, (Function, NoneValue)):
                what = f"the function '{held.spelling}'" if isinstance(held, Function) else "None"
                raise self.error(
                    UnsupportedError,
                    f"'{key}' holds {what} and this loop assigns it again: a name that changes which function "
                    "(or whether None) it holds in a loop is not supported",
                    node,
                    "use another name inside the loop",
                )
        return carried

    def loop_body(
        self,
        node: ast.stmt,
        scope: Scope,
        carried: list[str],
        types: dict[str, Type],
        index_key: str | None,
        lower_body: Callable[[Scope], None],
        test: ast.expr | None,
    ) -> _LoweredBody:
        """A loop's test and body lowered once, each carried value read from a header name of its type in `types`."""
        headers = {k: self.fresh(k) for k in carried}
        body_scope: Scope = dict(scope)
        for key in carried:
            body_scope[key] = Value(Var(headers[key]), types[key])
            self.types[headers[key]] = types[key]
            init = scope[key]
            if isinstance(init, Value) and isinstance(init.operand, Var) and init.operand.name in self.shared:
                self.shared.add(headers[key])
        body_scope[BREAK] = body_scope[CONTINUE] = FALSE
        if RETURNED in carried:  # an iteration only starts if nothing has returned yet
            body_scope[RETURNED] = FALSE
        index = None
        if index_key:
            index = self.fresh(index_key)
            body_scope[index_key] = Value(Var(index), INT)
            self.types[index] = INT
        test_block: ir.Block = ()
        cond: Value | None = None
        if test is not None:
            holder: list[Value] = []
            test_block = self.nested(lambda: holder.append(self.condition(test, body_scope)))
            cond = holder[0]
        exits: list[Operand | None] = []

        def lower_iteration() -> None:
            lower_body(body_scope)
            exits.append(self.loop_exit(body_scope, node))  # computed in the body, at its end

        body_block = self.nested(lower_iteration)
        self.loc = Loc(self.parsed.source.filename, node.lineno)
        updates = {k: body_scope[k] for k in carried}
        return _LoweredBody(headers, index, test_block, cond, body_block, exits[0], updates)

    def widened(self, node: ast.stmt, types: dict[str, Type], updates: dict[str, Entry]) -> dict[str, Type]:
        """The carried values' types joined with those the body gives them (an int the body makes a float is a float)."""
        for key, value in updates.items():
            if isinstance(value, (Function, NoneValue)):
                raise self.error(
                    UnsupportedError,
                    f"'{key}' is {'a function' if isinstance(value, Function) else 'None'} at the end of an iteration of "
                    "this loop and a number before it",
                    node,
                    f"give '{key}' one kind of value, or use another name",
                )
            if isinstance(value, Undefined) or isinstance(value, TupleValue):
                raise self.error(UnsupportedError, f"'{key}' has no value at the end of some loop iterations", node)
        for key, value in updates.items():
            if key in self.seeded and not isinstance(value.type, ir.Scalar):  # type: ignore[union-attr]
                raise self.error(
                    UnsupportedError,
                    f"'{key}' is assigned only inside this `while True` loop; only a number assigned there can be read after it",
                    node,
                    f"give '{key}' a value before the loop",
                )
        joined = {k: join(types[k], v.type) for k, v in updates.items()}  # type: ignore[union-attr]  # Values: checked above
        changed = [k for k, t in joined.items() if t is None]
        if changed:
            before, after = types[changed[0]], updates[changed[0]].type  # type: ignore[union-attr]
            kinds = sorted({kind_of(before), kind_of(after)})
            name = f"'{changed[0]}'" if changed[0].isidentifier() and not changed[0].startswith("_") else "what this loop adds up"
            raise self.error(
                KindChanged,
                f"{name} changes between {' and '.join(kinds)} in this loop",
                node,
                "start it as what the loop makes it (an array: np.zeros(...)), or add up a list: sum(list)"
                if "an array" in kinds
                else None,
            )
        return {k: t for k, t in joined.items() if t is not None}

    def assignment(self, body: list[ast.stmt], key: str) -> Loc | None:
        """Where a loop body first assigns `key` (for error messages)."""
        for stmt in body:
            for node in ast.walk(stmt):
                if isinstance(node, ast.Name) and node.id == key and isinstance(node.ctx, ast.Store):
                    return Loc(self.parsed.source.filename, node.lineno, node.col_offset)
        return None

    def loop_exit(self, body_scope: Scope, node: ast.AST) -> Operand | None:
        flags = [body_scope[k] for k in (BREAK, RETURNED) if k in body_scope and body_scope[k] != FALSE]
        if not flags:
            return None
        result = flags[0]
        assert isinstance(result, Value)
        for flag in flags[1:]:
            result = self.apply("or", (result, flag), node)  # type: ignore[arg-type]  # a flag is a Value (a bool)
        return result.operand

    def loop_statement(
        self,
        index: str | None,
        bounds: tuple[Value, Value, Value] | None,
        carries: tuple[ir.Carry, ...],
        body: ir.Block,
        test: ir.Block,
        cond: Value | None,
        until: Operand | None,
        backwards: bool = False,
    ) -> ir.Stmt:
        if bounds is not None:
            assert index is not None
            start, stop, step = bounds
            return ir.For(index, start.operand, stop.operand, step.operand, carries, body, until, self.loc, reverse=backwards)
        assert cond is not None
        return ir.While(carries, test, cond.operand, body, until, self.loc)

    def iteration(self, iterable: ast.expr, target: ast.expr, scope: Scope, node: ast.AST) -> Iteration:
        """What a `for` iterates over, as range bounds, a binder of the loop target per iteration, and
        whether it runs backwards: a call of range, reversed, enumerate or zip, or a list."""
        if self.composed(iterable, scope):  # `enumerate(zip(xs, ys))`, `xs[1:]`, `list(...)`: over positions
            sequence = self.sequence(iterable, scope)

            def bind_element(body_scope: Scope) -> None:
                index = body_scope["#k"]
                assert isinstance(index, Value)
                self.bind(target, sequence.at(index), body_scope)

            return _ZERO, sequence.length, _ONE, bind_element, False
        if isinstance(iterable, ast.Call) and isinstance(iterable.func, ast.Name) and iterable.func.id not in scope:
            spelling, callee = self.callee(iterable, scope)
            kind = callee.spelling if isinstance(callee, Callee) else None
            if kind is not None:
                over = {
                    "reversed": self.iterate_reversed,
                    "range": self.iterate_range,
                    "enumerate": self.iterate_enumerate,
                    "zip": self.iterate_zip,
                }.get(kind)
                if over is not None:
                    return over(iterable, target, scope, node)
        return self.iterate_items(iterable, target, scope)  # a list, however made: `sorted(xs)`, a helper's

    def composed(self, iterable: ast.expr, scope: Scope) -> bool:
        """Whether a loop's iterable nests sequences (or slices, or copies a list), beyond the plain
        `range`, `reversed(range(...))`, `reversed(xs)`, `zip(xs, ys)` and `enumerate(xs)`."""
        kind = self.iterator_call(iterable, scope)
        if kind is None:
            return isinstance(iterable, ast.Subscript) and isinstance(iterable.slice, ast.Slice)
        if kind == "list":
            return True
        arguments = iterable.args if isinstance(iterable, ast.Call) else []
        nested = any(
            self.iterator_call(a, scope) not in (None, "range" if kind == "reversed" else None)
            or (isinstance(a, ast.Subscript) and isinstance(a.slice, ast.Slice))
            for a in arguments
        )
        return kind in ("zip", "enumerate", "reversed") and nested

    def iterate_reversed(self, iterable: ast.Call, target: ast.expr, scope: Scope, node: ast.AST) -> Iteration:
        inner = iterable.args[0] if len(iterable.args) == 1 and not iterable.keywords else None
        if inner is None or (
            isinstance(inner, ast.Call) and isinstance(inner.func, ast.Name) and inner.func.id in ("zip", "enumerate", "reversed")
        ):
            raise self.error(UnsupportedError, "write `reversed(range(...))` or `reversed(xs)` for a list", iterable)
        start, stop, step, bind, backwards = self.iteration(inner, target, scope, node)
        return start, stop, step, bind, not backwards

    def iterate_range(self, iterable: ast.Call, target: ast.expr, scope: Scope, node: ast.AST) -> Iteration:
        args = [self.integer(self.expr(a, scope), a) for a in iterable.args]
        if not 1 <= len(args) <= 3:
            raise self.error(UnsupportedError, "range() takes 1 to 3 arguments", iterable)
        if len(args) == 1:
            args = [_ZERO, args[0]]
        if len(args) == 2:
            args.append(_ONE)
        if not isinstance(target, ast.Name):
            raise self.error(UnsupportedError, "a range loop needs a single loop variable", target)
        return args[0], args[1], args[2], None, False

    def iterate_enumerate(self, iterable: ast.Call, target: ast.expr, scope: Scope, node: ast.AST) -> Iteration:
        first = self.enumerate_start(iterable, scope)
        if not (isinstance(target, ast.Tuple) and len(target.elts) == 2):
            raise self.error(UnsupportedError, "write `for i, x in enumerate(xs)`", iterable)
        items = self.list_value(self.expr(iterable.args[0], scope), iterable.args[0])
        stop = self.apply("len", (items,), iterable)

        def bind_enumerate(body_scope: Scope) -> None:
            index = body_scope["#k"]
            assert isinstance(index, Value)
            count = index if first is None else self.apply("add", (index, first), iterable)
            self.bind(target.elts[0], count, body_scope)
            self.bind(target.elts[1], self.element(items, index, iterable), body_scope)

        return _ZERO, stop, _ONE, bind_enumerate, False

    def iterate_zip(self, iterable: ast.Call, target: ast.expr, scope: Scope, node: ast.AST) -> Iteration:
        if iterable.keywords:
            raise self.error(
                UnsupportedError,
                "keyword arguments to zip() are not supported",
                iterable.keywords[0],
                "zip(..., strict=True): check the lengths with an `if` before the loop",
            )
        if not (isinstance(target, ast.Tuple) and len(target.elts) == len(iterable.args) >= 1):
            raise self.error(UnsupportedError, "write `for a, b in zip(xs, ys)` with one name per list", iterable)
        lists = [self.list_value(self.expr(a, scope), a) for a in iterable.args]
        stop = self.apply("len", (lists[0],), iterable)
        for other in lists[1:]:
            stop = self.apply("min", (stop, self.apply("len", (other,), iterable)), iterable)

        def bind_zip(body_scope: Scope) -> None:
            index = body_scope["#k"]
            assert isinstance(index, Value)
            for element, items in zip(target.elts, lists):
                self.bind(element, self.element(items, index, iterable), body_scope)

        return _ZERO, stop, _ONE, bind_zip, False

    def iterate_items(self, iterable: ast.expr, target: ast.expr, scope: Scope) -> Iteration:
        """`for x in xs`: the loop runs over the positions of the list, and binds its element at each."""
        value = self.expr(iterable, scope)
        if is_array(value.type) and dims(value.type):  # the rows of an array
            stop = self.size_at(value, 0)

            def bind_row(body_scope: Scope) -> None:
                index = body_scope["#k"]
                assert isinstance(index, Value)
                self.bind(target, self.array_index(value, ast.Name("_k", ast.Load()), {"_k": index}, iterable), body_scope)

            return _ZERO, stop, _ONE, bind_row, False
        items = self.list_value(value, iterable)
        stop = self.apply("len", (items,), iterable)

        def bind_element(body_scope: Scope) -> None:
            index = body_scope["#k"]
            assert isinstance(index, Value)
            self.bind(target, self.element(items, index, iterable), body_scope)

        return _ZERO, stop, _ONE, bind_element, False

    def enumerate_start(self, call: ast.Call, scope: Scope) -> Value | None:
        """The `start` of `enumerate(xs, start)` or `enumerate(xs, start=K)`: a whole number, or None for 0."""
        starts = [k.value for k in call.keywords if k.arg == "start"]
        if len(call.args) + len(starts) not in (1, 2) or len(starts) != len(call.keywords) or not call.args:
            raise self.error(UnsupportedError, "write `enumerate(xs)` or `enumerate(xs, start)`", call)
        starts.extend(call.args[1:])
        if not starts:
            return None
        start = self.integer(self.expr(starts[0], scope), starts[0], "enumerate()")
        return None if start.operand == Const(0) else start

    def element(self, items: Value, index: Value, node: ast.AST) -> Value:
        assert isinstance(items.type, ir.ListOf)
        target = self.namer.temp()
        self.types[target] = items.type.elem
        self.out.append(Assign(target, "index", (items.operand, index.operand), items.type.elem, self.loc))
        if is_array(items.type.elem):  # the very array the list holds
            self.shared.add(target)
        is_callers = isinstance(items.operand, ir.Global) or (
            isinstance(items.operand, Var) and (items.operand.name in self.callers or items.operand.name in self.holds_callers)
        )
        if is_callers and isinstance(items.type.elem, ir.ListOf):
            self.callers.add(target)  # a row of the caller's list is the caller's too
        if isinstance(items.operand, Var) and items.operand.name in self.tuples_in:
            self.frozen.add(target)  # a tuple held in a list (the list itself may change; the tuple may not)
        return Value(Var(target), items.type.elem)

    def comprehension(
        self, node: ast.ListComp | ast.GeneratorExp, scope: Scope, into: str, start: ast.expr | None = None
    ) -> Value:
        """`[e for ...]` builds a list with append; `sum(e for ...)` accumulates (from `start`);
        `all(...)`/`any(...)` accumulate with `and`/`or`; max/min build a list."""
        accumulator = f"#acc{len(self.out)}_{node.col_offset}"
        if into == "list" and self.assigned_to is not None:
            self.named_after[accumulator] = self.assigned_to
        self.assigned_to = None  # for this comprehension only, not those inside it
        if into == "sum":
            init: ast.expr = start or ast.Constant(0)
            update: ast.stmt = ast.AugAssign(ast.Name(accumulator, ast.Store()), ast.Add(), node.elt)
        elif into in ("all", "any"):
            init = ast.Constant(into == "all")
            truth = ast.UnaryOp(ast.Not(), ast.UnaryOp(ast.Not(), node.elt))  # a bool, as all() and any() give
            joined = ast.BoolOp(ast.And() if into == "all" else ast.Or(), [ast.Name(accumulator, ast.Load()), truth])
            update = ast.Assign([ast.Name(accumulator, ast.Store())], joined)
        else:
            init = ast.List([], ast.Load())
            self.origin[id(init)] = self.place(node)
            self.made_nodes.append(init)  # kept alive: a freed node's id could be another list's
            rows_deep = rows.depth(node.elt, lambda name: _depth_in(scope, name))
            if isinstance(node.elt, ast.Tuple):  # `[(v, v * v) for v in xs]`: a list of tuples, each a row
                rows_deep = max(rows_deep, 1)
                self.tuple_rows.add(id(init))
            if rows_deep:  # `[[0.0] * m for _ in range(n)]`: a list of rows
                self.nesting[id(init)] = 1 + rows_deep
            update = ast.Expr(ast.Call(ast.Attribute(ast.Name(accumulator, ast.Load()), "append", ast.Load()), [node.elt], []))
        inner: ast.stmt = update
        for generator in reversed(node.generators):
            if generator.is_async:
                raise self.error(UnsupportedError, "async comprehensions are not supported", node)
            for condition in reversed(generator.ifs):
                inner = ast.If(condition, [inner], [])
            inner = ast.For(generator.target, generator.iter, [inner], [])
        statements = [ast.Assign([ast.Name(accumulator, ast.Store())], init), inner]
        for statement in statements:
            ast.copy_location(statement, node)
            for child in ast.walk(statement):
                if not hasattr(child, "lineno") or getattr(child, "lineno", None) is None:
                    ast.copy_location(child, node)
        inner_scope = dict(scope)
        inner_scope.pop(BREAK, None)
        inner_scope.pop(CONTINUE, None)
        self.block(statements, inner_scope)
        result = inner_scope[accumulator]
        assert isinstance(result, Value)
        own = {n.id for g in node.generators for n in ast.walk(g.target) if isinstance(n, ast.Name)}
        for key, value in inner_scope.items():  # the comprehension's loop variables stay inside it
            if key in scope and not key.startswith("#") and key not in own:
                scope[key] = value
        return result


def _assigned_before_leaving(body: list[ast.stmt]) -> list[str]:
    """Names the body assigns (`y = ...`) before anything that may leave the loop or skip the rest, and
    that it does not read before: each iteration, the first one too, gives them a value."""
    names: list[str] = []
    read: set[str] = set()
    for stmt in body:
        if any(isinstance(n, (ast.Break, ast.Continue, ast.Return, ast.Raise)) for n in ast.walk(stmt)):
            break
        if not isinstance(stmt, (ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Expr)):
            break  # a branch or a loop: what it assigns may not be assigned
        read.update(n.id for n in ast.walk(stmt) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load))
        if isinstance(stmt, ast.Assign) and all(isinstance(t, ast.Name) for t in stmt.targets):
            names += [t.id for t in stmt.targets if isinstance(t, ast.Name) and t.id not in read]  # type: ignore[union-attr]
    return names


def _depth_in(scope: Scope, name: str) -> int:
    value = scope.get(name)
    return ir.list_depth(value.type) if isinstance(value, Value) else 0


def breaks(statements: list[ast.stmt]) -> bool:
    """Whether a `break` of this loop (not of a loop inside it) is among these statements."""
    for stmt in statements:
        if isinstance(stmt, ast.Break):
            return True
        if isinstance(stmt, ast.If) and (breaks(stmt.body) or breaks(stmt.orelse)):
            return True
    return False
