"""The IR interpreter: runs an `ir.Function` in a value domain.

One interpreter serves every reader of IR that needs values: the SymPy
cross-check runs the primal and the gradient with SymPy expressions (exact,
symbolic), with mpmath numbers at 50 digits, and with mpmath numbers that
carry their derivatives (the chain rule at a point); `graph.py` runs the
primal with Python floats that record the computation graph. What differs
between them is the domain, a small protocol (`Domain`): how a constant is
read, how a primitive is applied, and how a condition, a whole number (a
loop bound, a list index) and a choice between two values are decided.

The interpreter does the rest the same way for every domain: lists are
Python lists of domain values (the list operations of the rule table are
evaluated structurally), an `If` whose condition the domain cannot decide
(a SymPy condition on the parameters) evaluates both branches and lets the
domain `select`, loops run with their carried values, and tape pushes and
pops are a Python list.

Signals, none of which is an error of the user's program:

- `FollowPaths`: the function has no single expression here (a loop count,
  a list index or a condition depends on the parameters, or more than
  `limit` statements would be unrolled);
- `Rejected`: the point is outside the function's domain (the function
  raises there, its own `raise` or an operation undefined there), or on a tie;
  `NeverEnds` (a `Rejected`): a `while` loop did not end within `WHILE_LIMIT`;
- `OutOfTime`: the caller's `deadline` passed.

IR the interpreter cannot read raises `UnsupportedError`. This module
imports neither SymPy nor mpmath: the domains do.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from . import frontend, ir
from .errors import UnsupportedError
from .rules import Rule

WHILE_LIMIT = 2_000  # iterations of one while loop at a point (it may never end there)


class FollowPaths(Exception):
    """The function has no single expression: follow the path of each point instead."""


class Rejected(Exception):
    """A point outside the domain, or on a tie or kink (`tie`)."""

    def __init__(self, reason: str, tie: bool = False) -> None:
        super().__init__(reason)
        self.tie = tie


class NeverEnds(Rejected):
    """A `while` loop that does not end at this point (within `WHILE_LIMIT` iterations)."""


class OutOfTime(Exception):
    """The deadline passed."""


class Domain(Protocol):
    """What the interpreter asks of a value domain.

    `truth` and `integer` return None when the domain cannot decide (a
    symbolic condition): the interpreter then evaluates both branches of an
    `If` and merges them with `select`, or raises `FollowPaths` where it
    cannot (a loop bound, a list index).
    """

    def const(self, value: object) -> Any: ...

    def apply(self, op: str, rule: Rule, args: Sequence[Any]) -> Any: ...

    def truth(self, value: Any, what: str) -> bool | None: ...

    def integer(self, value: Any, what: str) -> int | None: ...

    def select(self, cond: Any, then: Any, orelse: Any) -> Any: ...


def data_of(parsed: frontend.ParsedFunction, *functions: ir.Function) -> dict[str, object]:
    """The values of the module-level data (`ir.Global`) the functions read."""
    data: dict[str, object] = {}
    for function in functions:
        for stmt in ir.walk(function.body):
            for operand in ir.operands(stmt):
                if isinstance(operand, ir.Global) and operand.name not in data:
                    found = parsed.resolve(operand.name)
                    if isinstance(found, frontend.Data) and found.value is not None:
                        data[operand.name] = found.value
    return data


class Interpreter:
    """Runs IR in a value domain.

    `limit` bounds the statements evaluated (symbolic interpretation unrolls
    loops, and expressions grow with them); past it `FollowPaths` is raised.
    `deadline` (a `time.monotonic()` value) raises `OutOfTime`.
    """

    def __init__(
        self,
        domain: Domain,
        rules: Mapping[str, Rule],
        data: Mapping[str, object],
        *,
        limit: int | None = None,
        deadline: float | None = None,
    ) -> None:
        self.domain = domain
        self.rules = rules
        self.data = data
        self.limit = limit
        self.deadline = deadline
        self.statements = 0
        self.env: dict[str, Any] = {}
        self.globals: dict[str, Any] = {}
        self.tape: list[tuple[Any, ...]] = []
        self.speculative = 0  # > 0 while both branches of an undecided `If` are evaluated

    def run(self, function: ir.Function, args: Mapping[str, Any]) -> Any:
        self.env = dict(args)
        self.block(function.body)
        return self.returns(function.returns)

    def returns(self, returns: ir.Returns) -> Any:
        if isinstance(returns, tuple):
            return tuple(self.returns(r) for r in returns)
        return self.operand(returns)

    # operands

    def operand(self, operand: ir.Operand) -> Any:
        if isinstance(operand, ir.Var):
            try:
                return self.env[operand.name]
            except KeyError:
                raise UnsupportedError(f"the check found a read of '{operand.name}' before it is assigned") from None
        if isinstance(operand, ir.Const):
            return self.domain.const(operand.value)
        if isinstance(operand, ir.Global):
            if operand.name not in self.globals:
                if operand.name not in self.data:
                    raise UnsupportedError(f"the check has no value for the module-level data '{operand.name}'")
                self.globals[operand.name] = self.convert(self.data[operand.name])
            return self.globals[operand.name]
        raise UnsupportedError(f"the check cannot read the operand {operand!r}")

    def convert(self, value: object) -> Any:
        if isinstance(value, (list, tuple)):
            return [self.convert(v) for v in value]
        return self.domain.const(value)

    # statements

    def block(self, block: ir.Block) -> None:
        for stmt in block:
            self.statement(stmt)

    def tick(self) -> None:
        self.statements += 1
        if self.limit is not None and self.statements > self.limit:
            raise FollowPaths(f"more than {self.limit} statements to unroll")
        if self.deadline is not None and self.statements % 64 == 0 and time.monotonic() > self.deadline:
            raise OutOfTime()

    def statement(self, stmt: ir.Stmt) -> None:
        self.tick()
        if isinstance(stmt, ir.Assign):
            self.env[stmt.target] = self.assign(stmt)
        elif isinstance(stmt, ir.Effect):
            self.effect(stmt)
        elif isinstance(stmt, ir.Push):
            self.no_speculation("a tape push")
            self.tape.append(tuple(self.operand(v) for v in stmt.values))
        elif isinstance(stmt, ir.Pop):
            self.pop(stmt)
        elif isinstance(stmt, ir.Note):
            pass
        elif isinstance(stmt, ir.If):
            self.branch(stmt)
        elif isinstance(stmt, ir.For):
            self.for_loop(stmt)
        elif isinstance(stmt, ir.While):
            self.while_loop(stmt)
        else:
            raise UnsupportedError(f"the check cannot read the statement {type(stmt).__name__}")

    def raised(self, text: str | None) -> None:
        """The function's own `raise` (or failed `assert`): the point is outside its domain. While both
        branches of an undecided `If` are evaluated it is passed over: the other branch's values stand
        for the function where it does not raise, and each point is judged by its own path."""
        if not self.speculative:
            raise Rejected(f"the function raises {text or 'an exception'} here")

    def pop(self, stmt: ir.Pop) -> None:
        self.no_speculation("a tape pop")
        if not self.tape:
            raise UnsupportedError("the check found a pop from an empty tape")
        values = self.tape.pop()
        if len(values) != len(stmt.targets):
            raise UnsupportedError(f"the check found a pop of {len(stmt.targets)} values after a push of {len(values)}")
        self.env.update(zip(stmt.targets, values))

    def no_speculation(self, what: str) -> None:
        if self.speculative:
            raise FollowPaths(f"{what} under a condition that depends on the parameters")

    def assign(self, stmt: ir.Assign) -> Any:
        rule = self.rules.get(stmt.op)
        if rule is None:
            raise UnsupportedError(f"the check does not know the operation '{stmt.op}'")
        args = [self.operand(a) for a in stmt.args]
        if rule.run is not None:  # a list operation: its template in rules/lists.py
            return rule.run(self, stmt, args)
        if rule.sympy is None:
            raise UnsupportedError(f"the rule table has no SymPy spelling for '{stmt.op}'")
        if not rule.structural and not rule.copy and any(isinstance(a, list) for a in args):
            raise UnsupportedError(f"the check expected numbers as the operands of '{stmt.op}', found a list")
        return self.domain.apply(stmt.op, rule, args)

    def effect(self, stmt: ir.Effect) -> None:
        rule = self.rules.get(stmt.op)
        if rule is None or rule.run is None:
            raise UnsupportedError(f"the check does not know the list operation '{stmt.op}'")
        rule.run(self, stmt, [self.operand(a) for a in stmt.args])

    # -- what the list templates of rules/lists.py ask (`ListRunner`) ----------------

    def items(self, value: Any, what: str) -> list[Any]:
        if not isinstance(value, list):
            raise UnsupportedError(f"the check expected a list as the operand of '{what}'")
        return value

    def mutated(self, value: Any, what: str) -> list[Any]:
        """A list about to change: not while both branches of an undecided condition run."""
        self.no_speculation(what)
        return self.items(value, what)

    def count(self, value: Any, what: str) -> int:
        count = self.domain.integer(value, what)
        if count is None:
            raise FollowPaths(f"{what} depends on the parameters")
        return int(count)

    def apply(self, op: str, *values: Any) -> Any:
        return self.domain.apply(op, self.rules[op], list(values))

    def found(self, items: list[Any], wanted: Any) -> int:
        for position, item in enumerate(items):
            found = self.domain.truth(self.apply("eq", item, wanted), "a list search")
            if found is None:
                raise FollowPaths("a list search depends on the parameters")
            if found:
                return position
        raise Rejected("a list search found nothing")

    def decide(self, value: Any, what: str) -> bool:
        """A condition a list operation's result depends on (the order `sorted` finds), decided by the domain."""
        decided = self.domain.truth(value, what)
        if decided is None:
            raise FollowPaths(f"{what} depends on the parameters")
        return decided

    def pop_last(self, items: list[Any]) -> Any:
        if not items:
            raise Rejected("pop from an empty list")
        return items.pop()

    def reject(self, message: str) -> None:
        raise Rejected(message)

    def item(self, items: list[Any], index: Any) -> tuple[int, Any]:
        position = self.domain.integer(index, "a list index")
        if position is None:
            raise FollowPaths("a list index depends on the parameters")
        if not -len(items) <= position < len(items):
            raise Rejected("a list index is out of range")
        return position % len(items), items[position]

    def zeros(self, items: list[Any]) -> list[Any]:
        return [self.zeros(v) if isinstance(v, list) else self.domain.const(0.0) for v in items]

    # control flow

    def branch(self, stmt: ir.If) -> None:
        cond = self.operand(stmt.cond)
        taken = self.domain.truth(cond, "a branch condition")
        if taken is not None:
            self.block(stmt.then if taken else stmt.orelse)
            for merge in stmt.merges:
                self.env[merge.target] = self.operand(merge.then if taken else merge.orelse)
            return
        self.speculative += 1
        try:
            self.block(stmt.then)
            self.block(stmt.orelse)
        finally:
            self.speculative -= 1
        for merge in stmt.merges:
            then, orelse = self.operand(merge.then), self.operand(merge.orelse)
            if isinstance(then, list) or isinstance(orelse, list):
                raise FollowPaths("a list chosen by a condition that depends on the parameters")
            self.env[merge.target] = self.domain.select(cond, then, orelse)

    def bound(self, operand: ir.Operand, what: str) -> int:
        value = self.domain.integer(self.operand(operand), what)
        if value is None:
            raise FollowPaths(f"{what} depends on the parameters")
        return value

    def for_loop(self, stmt: ir.For) -> None:
        indices: Sequence[int] = range(
            self.bound(stmt.start, "a loop start"), self.bound(stmt.stop, "a loop end"), self.bound(stmt.step, "a loop step") or 1
        )
        if stmt.limit is not None:
            indices = indices[: max(0, self.bound(stmt.limit, "a loop's trip count"))]
        if stmt.reverse:
            indices = indices[::-1]
        for carry in stmt.carried:
            self.env[carry.header] = self.operand(carry.init)
        for index in indices:
            self.env[stmt.index] = self.domain.const(index)
            self.block(stmt.body)
            if self.iterate(stmt.carried, stmt.until, "a loop's exit condition"):
                break
        for carry in stmt.carried:
            self.env[carry.result] = self.env[carry.header]

    def while_loop(self, stmt: ir.While) -> None:
        self.no_speculation("a while loop")
        for carry in stmt.carried:
            self.env[carry.header] = self.operand(carry.init)
        for iteration in itertools.count():
            if iteration == WHILE_LIMIT:
                raise NeverEnds(f"a while loop ran {WHILE_LIMIT} times here without ending")
            self.block(stmt.test)
            going = self.domain.truth(self.operand(stmt.cond), "a while condition")
            if going is None:
                raise FollowPaths("a while condition depends on the parameters")
            if not going:
                break
            self.block(stmt.body)
            if self.iterate(stmt.carried, stmt.until, "a loop's exit condition"):
                break
        for carry in stmt.carried:
            self.env[carry.result] = self.env[carry.header]

    def iterate(self, carried: tuple[ir.Carry, ...], until: ir.Operand | None, what: str) -> bool:
        """Carry the updates to the next iteration; whether `until` ends the loop now."""
        updates = [self.operand(carry.update) for carry in carried]
        for carry, value in zip(carried, updates):
            self.env[carry.header] = value
        if until is None:
            return False
        done = self.domain.truth(self.operand(until), what)
        if done is None:
            raise FollowPaths(f"{what} depends on the parameters")
        return done
