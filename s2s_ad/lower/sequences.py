"""What Python iterates over, as a length and the element at a position: lists, rows of arrays, ranges,
`reversed`, `zip`, `enumerate` and slices, nested as programs nest them (`enumerate(zip(xs, ys))`).

A loop over a sequence runs over its positions `k` and binds `at(k)` to its
target; a new list made of sequences (`list(xs)`, `xs[1:]`, `xs + ys`) is
built by appending their elements, so it is a new list as in Python. A slice
is such a new list even in a loop header (Python copies it when the loop
starts), so a loop that changes the list it slices still reads the old
elements.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from dataclasses import dataclass

from .. import ir
from ..errors import UnsupportedError
from ..frontend import Callee
from ..ir import INT, Const
from ..rules.shapes import dims, is_array
from .base import LoweringBase
from .scope import Bound, Scope, TupleValue, Value, join

_ITERATORS = ("reversed", "zip", "enumerate", "range", "list")


@dataclass(frozen=True)
class Sequence:
    """A length (an int value), the type of its elements, and what is at a position (bound to a loop
    target: a value, or a tuple of values)."""

    length: Value
    elem: ir.Type | None  # None: tuples (zip, enumerate), which a list cannot hold
    at: Callable[[Value], Bound]


_ZERO, _ONE = Value(Const(0), INT), Value(Const(1), INT)


class Sequences(LoweringBase):
    """Sequences, and the lists made of them."""

    def iterator_call(self, node: ast.expr, scope: Scope) -> str | None:
        """`reversed`, `zip`, `enumerate`, `range` or `list`, where `node` calls that builtin."""
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id not in scope:
            callee = self.resolve(node.func.id, node.func)
            if isinstance(callee, Callee) and callee.spelling in _ITERATORS:
                return callee.spelling
        return None

    def sequence(self, node: ast.expr, scope: Scope) -> Sequence:
        kind = self.iterator_call(node, scope)
        if kind is not None:
            assert isinstance(node, ast.Call)
            makers: dict[str, Callable[[ast.Call, Scope], Sequence]] = {
                "reversed": self.reversed_sequence,
                "zip": self.zipped,
                "enumerate": self.enumerated,
                "range": self.range_sequence,
                "list": lambda call, s: self.of_list(self.listed_call(call, s), call),
            }
            return makers[kind](node, scope)
        if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Slice):
            return self.of_list(self.sliced(node, scope), node)
        value = self.expr(node, scope)
        if is_array(value.type) and dims(value.type):  # the rows of an array
            return Sequence(
                self.size_at(value, 0), None, lambda k: self.array_index(value, ast.Name("#k", ast.Load()), {"#k": k}, node)
            )
        return self.of_list(self.list_value(value, node), node)

    def of_list(self, items: Value, node: ast.AST) -> Sequence:
        assert isinstance(items.type, ir.ListOf)
        return Sequence(self.apply("len", (items,), node), items.type.elem, lambda k: self.element(items, k, node))

    def one_argument(self, call: ast.Call, what: str) -> ast.expr:
        if len(call.args) != 1 or call.keywords:
            raise self.error(UnsupportedError, f"{what}(...) takes one argument here", call)
        return call.args[0]

    def reversed_sequence(self, call: ast.Call, scope: Scope) -> Sequence:
        inner_node = self.one_argument(call, "reversed")
        if self.iterator_call(inner_node, scope) in ("zip", "enumerate", "reversed"):
            raise self.error(UnsupportedError, "zip, enumerate and reversed objects cannot be reversed (Python raises)", call)
        inner = self.sequence(inner_node, scope)
        last = self.apply("sub", (inner.length, _ONE), call)
        return Sequence(inner.length, inner.elem, lambda k: inner.at(self.apply("sub", (last, k), call)))

    def zipped(self, call: ast.Call, scope: Scope) -> Sequence:
        if call.keywords:
            raise self.error(
                UnsupportedError,
                "keyword arguments to zip() are not supported",
                call.keywords[0],
                "zip(..., strict=True): check the lengths with an `if` before the loop",
            )
        if not call.args:
            raise self.error(UnsupportedError, "zip() needs at least one sequence", call)
        parts = [self.sequence(a, scope) for a in call.args]
        length = parts[0].length
        for part in parts[1:]:
            length = self.apply("min", (length, part.length), call)
        return Sequence(length, None, lambda k: TupleValue(tuple(p.at(k) for p in parts)))

    def enumerated(self, call: ast.Call, scope: Scope) -> Sequence:
        first = self.enumerate_start(call, scope)
        inner = self.sequence(call.args[0], scope)

        def at(k: Value) -> Bound:
            count = k if first is None else self.apply("add", (k, first), call)
            return TupleValue((count, inner.at(k)))

        return Sequence(inner.length, None, at)

    def range_sequence(self, call: ast.Call, scope: Scope) -> Sequence:
        """`range(a, b, s)` with a constant step: its length, and `a + k * s` at position k."""
        args = [self.integer(self.expr(a, scope), a) for a in call.args]
        if call.keywords or not 1 <= len(args) <= 3:
            raise self.error(UnsupportedError, "range() takes 1 to 3 arguments", call)
        start, stop = (_ZERO, args[0]) if len(args) == 1 else (args[0], args[1])
        step = args[2] if len(args) == 3 else _ONE
        if not isinstance(step.operand, Const) or step.operand.value == 0:
            raise self.error(UnsupportedError, "range() inside zip, enumerate or list needs a constant step, not 0", call)
        s = int(step.operand.value)
        return Sequence(self.range_length(start, stop, s, call), INT, lambda k: self.stepped(start, k, s, call))

    def stepped(self, start: Value, k: Value, step: int, node: ast.AST) -> Value:
        """`start + k * step`."""
        offset = k if step == 1 else self.apply("mul", (k, Value(Const(step), INT)), node)
        return offset if start.operand == Const(0) else self.apply("add", (start, offset), node)

    def range_length(self, start: Value, stop: Value, step: int, node: ast.AST) -> Value:
        """How many numbers `range(start, stop, step)` has: `max((stop - start + step - 1) // step, 0)`."""
        span = self.apply("sub", (stop, start) if step > 0 else (start, stop), node)
        if abs(step) > 1:
            span = self.apply("add", (span, Value(Const(abs(step) - 1), INT)), node)
            span = self.apply("floordiv", (span, Value(Const(abs(step)), INT)), node)
        return self.apply("max", (span, _ZERO), node)

    # -- new lists ------------------------------------------------------------------

    def new_list(self, call: ast.Call, scope: Scope) -> Value:
        """`list(xs)`: a new list of the elements of a sequence (its rows are shared, as in Python)."""
        argument = self.one_argument(call, "list")
        if self.iterator_call(argument, scope) is None and not isinstance(argument, ast.GeneratorExp):
            value = self.expr(argument, scope)
            if isinstance(value.type, ir.ListOf):
                return self.made("list_copy", (value,), value.type)
        return self.list_of([self.sequence(argument, scope)], call, scope)

    def concatenated(self, left: Value, right: Value, node: ast.AST, scope: Scope) -> Value:
        """`xs + ys` of two lists: a new list."""
        if ir.list_depth(left.type) != ir.list_depth(right.type):
            raise self.error(UnsupportedError, "lists of mixed kinds are not supported", node)
        joined = join(left.type, right.type)
        return self.made("concat", (left, right), joined if isinstance(joined, ir.ListOf) else left.type)

    def sliced(self, node: ast.Subscript, scope: Scope) -> Value:
        assert isinstance(node.slice, ast.Slice)
        return self.slice_of(self.list_value(self.expr(node.value, scope), node.value), node.slice, node, scope)

    def slice_of(self, items: Value, part: ast.Slice, node: ast.AST, scope: Scope) -> Value:
        """`xs[a:b:s]` of a list: a new list (Python's slice, printed as written)."""
        if part.step is not None:
            step = self.expr(part.step, scope)
            if not isinstance(step.operand, Const) or step.type != INT or step.operand.value == 0:
                raise self.error(UnsupportedError, "a slice's step must be a whole number written out (xs[::2])", part.step)
        pattern, bounds = "", []
        for letter, bound in zip("lus", (part.lower, part.upper, part.step)):
            if bound is not None:
                pattern += letter
                bounds.append(self.integer(self.expr(bound, scope), bound, "a slice"))
        if not pattern:  # `xs[:]`: a copy
            return self.made("list_copy", (items,), items.type)
        return self.made(f"slice_{pattern}", (items, *bounds), items.type)

    def new_list_of(self, items: Value) -> Value:
        """A copy of a list (`list(xs)`)."""
        return self.made("list_copy", (items,), items.type)

    def made(self, op: str, args: tuple[Value, ...], type_: ir.Type) -> Value:
        target = self.namer.temp()
        self.types[target] = type_
        self.out.append(ir.Assign(target, op, tuple(a.operand for a in args), type_, self.loc))
        return Value(ir.Var(target), type_)

    def list_of(self, parts: list[Sequence], node: ast.AST, scope: Scope) -> Value:
        """A new list of the elements of `parts`, one after another: an empty list, then a loop a part
        that appends its elements."""
        elems = {p.elem for p in parts}
        if None in elems:
            raise self.error(
                UnsupportedError, "a list of tuples (or of arrays) is not supported", node, "keep the values in lists"
            )
        elem: ir.Type = ir.FLOAT if elems <= {INT, ir.FLOAT, ir.BOOL} else parts[0].elem  # type: ignore[assignment]
        type_ = ir.ListOf(elem)
        target = self.namer.temp()
        self.types[target] = type_
        self.out.append(ir.Assign(target, "list", (), type_, self.loc))
        items = Value(ir.Var(target), type_)
        for part in parts:
            loop = ast.copy_location(ast.For(ast.Name("#k", ast.Store()), ast.Constant(0), [], [], None), node)

            def lower_body(body_scope: Scope, part: Sequence = part) -> None:
                index = body_scope["#k"]
                assert isinstance(index, Value)
                value = part.at(index)
                assert isinstance(value, Value)
                self.check_element(items, value, node)
                self.out.append(ir.Effect("append", (items.operand, value.operand), self.loc))

            self.loop(loop, dict(scope), "#k", (_ZERO, part.length, _ONE), lower_body, None, [])
        return items
