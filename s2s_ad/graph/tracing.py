"""Running a function's IR at a point and recording every primitive evaluated as a node.

The primal IR is run by the IR interpreter (`interpret.Interpreter`) in a
value domain in which every value computed from an input is a `Tracked`
value that knows the node that made it:

- `Floats`: plain Python numbers, each primitive evaluated as the rule's
  Python spelling (`rule.evaluate`);
- `Arrays`: NumPy values (arrays, NumPy numbers, Python numbers), each
  primitive evaluated as the rule's spelling with NumPy in scope
  (`numeric.evaluator`), so that the structural array operations of
  rules/arrays.py (`@`, reductions, indexing, reshapes) run too. What
  depends on no operand's value (`np.zeros_like(x)`, `x.shape[0]`) is a
  constant, not a node.

A value that cannot be computed at the point (a shape mismatch, a domain
error) is a `GraphError` naming the line.
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping, Sequence
from typing import Any

from .. import ir
from ..interpret import FollowPaths, Interpreter, NeverEnds, Rejected
from ..rules import RULES, Rule
from .labels import fmt, infix, shape_text
from .nodes import GraphError, Loop, Node
from .numeric import evaluator, is_array

__all__ = ["ArrayTracer", "Arrays", "FollowPaths", "Floats", "NeverEnds", "Rejected", "Tracer", "Tracked", "plain"]


class Tracked:
    """A value computed from the inputs, and the node that holds it."""

    __slots__ = ("node",)

    def __init__(self, node: Node) -> None:
        self.node = node


def plain(value: Any) -> Any:
    return value.node.value if isinstance(value, Tracked) else value


class Floats:
    """The interpreter's value domain: Python numbers; numbers made from inputs are `Tracked`."""

    def __init__(self) -> None:
        self.tracer: Tracer | None = None

    def const(self, value: object) -> Any:
        return value

    def apply(self, op: str, rule: Rule, args: Sequence[Any]) -> Any:
        values = [plain(a) for a in args]
        try:
            value = rule.evaluate(*values)
        except (ArithmeticError, ValueError, TypeError) as exc:
            where = self.tracer.where() if self.tracer else ""
            shown = ", ".join(fmt(v) for v in values)
            raise GraphError(
                f"the function cannot be evaluated at this point: {op}({shown}) fails{where}: {exc}",
                hint="choose a point inside the function's domain",
            ) from exc
        return self.tracked(op, args, value)

    def tracked(self, op: str, args: Sequence[Any], value: Any) -> Any:
        if self.tracer is None or not any(isinstance(a, Tracked) for a in args):
            return value  # computed from constants alone: a constant
        return Tracked(self.tracer.record(op, tuple(a.node if isinstance(a, Tracked) else a for a in args), value))

    def truth(self, value: Any, what: str) -> bool:
        return bool(plain(value))

    def integer(self, value: Any, what: str) -> int:
        number = plain(value)
        if isinstance(number, bool | int):
            return int(number)
        if isinstance(number, float) and number.is_integer():
            return int(number)
        raise GraphError(f"{what} is {fmt(number)} at this point, not a whole number")

    def select(self, cond: Any, then: Any, orelse: Any) -> Any:  # conditions are always decided
        return then if self.truth(cond, "a condition") else orelse


class Tracer(Interpreter):
    """The check's interpreter, recording each primitive evaluated as a node, with its loop iteration."""

    def __init__(self, domain: Floats, data: Mapping[str, object], limit: int, rules: Mapping[str, Rule] = RULES) -> None:
        super().__init__(domain, rules, data, limit=limit)  # type: ignore[arg-type]
        domain.tracer = self
        self.nodes: list[Node] = []
        self.frames: list[list[int]] = []  # [loop id, iteration] of the loops being run, outermost first
        self.loop_records: list[Loop] = []
        self.loops_started = 0
        self.loc: ir.Loc | None = None

    def where(self) -> str:
        return f" (line {self.loc.line})" if self.loc else ""

    def record(self, op: str, args: tuple[Any, ...], value: Any) -> Node:
        node = Node(
            len(self.nodes) + 1,
            None,
            op,
            args,
            value,
            self.loc.line if self.loc else None,
            tuple(frame[1] for frame in self.frames),
            tuple(frame[0] for frame in self.frames),
        )
        self.nodes.append(node)
        return node

    def input(self, name: str, value: Any) -> Any:
        """An argument: a node (or, for a list, one node per element)."""
        if isinstance(value, list | tuple):
            return [self.input(f"{name}[{i}]", v) for i, v in enumerate(value)]
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise GraphError(f"the argument {name}={value!r} is not a number")
        return self.input_node(name, value)

    def input_node(self, name: str, value: Any) -> Tracked:
        node = Node(len(self.nodes) + 1, name, None, (), value)
        self.nodes.append(node)
        return Tracked(node)

    def statement(self, stmt: ir.Stmt) -> None:
        if isinstance(stmt, ir.Assign):
            self.loc, start = stmt.loc, len(self.nodes)
            try:
                super().statement(stmt)
            except Rejected as exc:
                raise GraphError(f"the function cannot be evaluated at this point{self.where()}: {exc}") from None
            made = self.env[stmt.target]
            if isinstance(made, Tracked) and made.node.id > start and made.node.name is None:
                made.node.name = stmt.target
        elif isinstance(stmt, ir.For | ir.While):
            self.loc = stmt.loc
            self.loops_started += 1
            self.frames.append([self.loops_started, 1])
            try:
                super().statement(stmt)
            except NeverEnds as exc:
                raise GraphError(
                    f"the function did not finish at this point{self.where()}: {exc}",
                    hint="a loop may never end here; choose another point",
                ) from None
            except Rejected as exc:
                raise GraphError(f"the function cannot be evaluated at this point{self.where()}: {exc}") from None
            frame = self.frames.pop()
            kind = "for" if isinstance(stmt, ir.For) else "while"
            self.loop_records.append(Loop(frame[0], stmt.loc.line, kind, frame[1] - 1))
        else:
            super().statement(stmt)

    def iterate(self, carried: tuple[ir.Carry, ...], until: ir.Operand | None, what: str) -> bool:
        self.frames[-1][1] += 1
        return super().iterate(carried, until, what)


_FAILURES = (ArithmeticError, ValueError, TypeError, IndexError, AttributeError)


class Arrays(Floats):
    """The value domain of a function on NumPy arrays: NumPy values; those made from inputs are `Tracked`."""

    tracer: ArrayTracer | None

    def apply(self, op: str, rule: Rule, args: Sequence[Any]) -> Any:
        import numpy

        values = [plain(a) for a in args]
        try:
            with numpy.errstate(all="ignore"):  # inf and nan, as NumPy computes them
                value = evaluator(rule)(*values)
        except _FAILURES as exc:
            raise self.failed(op, values, exc) from None
        if rule.structural and rule.flows == ():  # zeros shaped like x, x.shape[0]: x's values do not matter
            return value
        return self.tracked(op, args, value)

    def failed(self, op: str, values: Sequence[Any], exc: Exception) -> GraphError:
        """The error of a primitive that fails at the point: what it was applied to (arrays by their
        shapes), where, and NumPy's own words."""
        tracer = self.tracer
        rules = tracer.rules if tracer is not None else RULES
        rule = rules.get(op)
        symbol = infix(op, rules=rules) or (rule.names[0] if rule is not None and rule.names else op)
        arrays = [shape_text(v) for v in values if is_array(v)]
        shown = ", ".join(shape_text(v) if is_array(v) else fmt(v) for v in values)
        if op.startswith(("getitem ", "put ")) and values and is_array(values[0]):
            what = f"{'indexing' if op.startswith('getitem') else 'writing into'} an array of shape {arrays[0]}"
        elif len(arrays) == len(values) > 1:
            what = f"'{symbol}' of arrays of shapes {' and '.join(arrays)}"
        else:
            what = f"{symbol}({shown})"
        where = tracer.location() if tracer is not None else {}
        return GraphError(
            f"the function cannot be evaluated at this point: {what} fails{tracer.where() if tracer else ''}: {str(exc).strip()}",
            hint="check the shapes of the arguments" if arrays else "choose a point inside the function's domain",
            **where,
        )

    def truth(self, value: Any, what: str) -> bool:
        number = plain(value)
        try:
            return bool(number)
        except ValueError:
            tracer = self.tracer
            raise GraphError(
                f"{what} is an array of shape {shape_text(number)} at this point{tracer.where() if tracer else ''}, "
                "not one truth value",
                hint="decide with np.all(...) or np.any(...)",
                **(tracer.location() if tracer is not None else {}),
            ) from None

    def integer(self, value: Any, what: str) -> int:
        number = plain(value)
        if is_array(number) and number.ndim == 0:
            number = number.item()
        if isinstance(number, numbers.Integral):
            return int(number)
        if isinstance(number, numbers.Real) and float(number).is_integer():
            return int(float(number))
        raise GraphError(f"{what} is {fmt(number)} at this point, not a whole number")


class ArrayTracer(Tracer):
    """The tracer of a function on NumPy arrays: structural array operations are evaluated too."""

    def __init__(self, domain: Arrays, data: Mapping[str, object], limit: int, rules: Mapping[str, Rule]) -> None:
        super().__init__(domain, data, limit, rules)
        self.function: ir.Function | None = None

    def run(self, function: ir.Function, args: Mapping[str, Any]) -> Any:
        self.function = function
        return super().run(function, args)

    def location(self) -> dict[str, Any]:
        """Where the statement being run is, for a `GraphError`: file, line, column, the source line."""
        if self.loc is None:
            return {}
        source = self.function.source_line(self.loc) if self.function is not None else None
        return {"filename": self.loc.file, "lineno": self.loc.line, "col_offset": self.loc.col, "source_line": source}

    def input(self, name: str, value: Any) -> Any:
        if is_array(value):
            if value.dtype.kind not in "fiub":
                raise GraphError(f"the argument {name} is an array of {value.dtype}, not of numbers")
            return self.input_node(name, value.copy())
        if not isinstance(value, list | tuple | bool) and isinstance(value, numbers.Real):
            return self.input_node(name, value)  # a NumPy number too
        return super().input(name, value)

    def assign(self, stmt: ir.Assign) -> Any:
        rule = self.rules.get(stmt.op)
        if rule is None or rule.run is not None or not rule.structural:
            return super().assign(stmt)
        return self.domain.apply(stmt.op, rule, [self.operand(a) for a in stmt.args])  # an array operation

    def effect(self, stmt: ir.Effect) -> None:
        rule = self.rules.get(stmt.op)
        if rule is not None and rule.run is None:
            raise GraphError(
                f"the graph cannot show '{stmt.op}', which changes an array in place{self.where()}",
                **self.location(),
            )
        super().effect(stmt)
