"""Primitives evaluated on NumPy values, and the adjoints of one node of a graph on arrays.

A function on arrays is drawn from the same rule table as one on numbers,
read with NumPy: each rule's Python spelling (`{0} @ {1}`, `numpy.tanh({0})`,
`{0}.sum(axis={1})`) is compiled once into a function of NumPy values
(`evaluator`), and so is an effect's statement (`{0}[{1}] += {2}`).

The adjoint of a node comes from the rules too, evaluated with numbers
rather than written as code (`pullback`):

- an elementwise primitive: its partial derivatives (`RULES[op].partials`,
  with `m.<primitive>` evaluated on the arrays, `NumpyMath`), times the
  node's adjoint, summed back to each operand's shape where the operation
  broadcast it (`summed_to`);
- a structural operation (`@`, a reduction, an index, a reshape): its reverse
  template, the one the reverse transform writes code with, run by
  `_Sweep`, which evaluates each operation the template emits at once and
  keeps what it accumulates into each operand.

What no rule says raises `NoAdjoint`: the graph then shows no adjoint there
rather than a guessed one. NumPy is imported only when a function on arrays
is drawn.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from .. import ir
from ..ir import FLOAT, Assign, Const, Effect, Operand, Var
from ..rules import Rule
from .nodes import Node

_COMPILED: dict[tuple[str, str | None, bool], Callable[..., Any]] = {}


class NoAdjoint(Exception):
    """The rules say nothing that gives this node's contribution to an operand's adjoint."""


def is_array(value: object) -> bool:
    """A NumPy array (told without importing NumPy)."""
    return type(value).__name__ == "ndarray" and type(value).__module__ == "numpy"


def floating(value: object) -> bool:
    """A value with a derivative: a float, or an array of floats (ints and truth values have none)."""
    dtype = getattr(value, "dtype", None)
    if dtype is not None:
        return bool(dtype.kind == "f")
    return isinstance(value, float)


def evaluator(rule: Rule, effect: bool = False) -> Callable[..., Any]:
    """The rule's spelling as a function of values, with `numpy` and `math` (and the rule's helper) in
    scope; for an effect, a function that runs its statement (changing its first operand in place)."""
    key = (rule.python, rule.helper, effect)
    found = _COMPILED.get(key)
    if found is None:
        import numpy

        params = ", ".join(f"_{i}" for i in range(rule.arity))
        body = rule.python.format(*(f"_{i}" for i in range(rule.arity)))
        namespace: dict[str, Any] = {"math": math, "numpy": numpy}
        if rule.helper is not None:
            exec(rule.helper, namespace)  # noqa: S102 - our own table
        if effect:
            exec(f"def _effect({params}):\n    {body}\n", namespace)  # noqa: S102 - our own table
            found = namespace["_effect"]
        else:
            found = eval(f"lambda {params}: {body}", namespace)  # noqa: S307 - our own table
        _COMPILED[key] = found
    return found


def counterpart(rules: Mapping[str, Rule], op: str, values: Sequence[Any]) -> tuple[str, Rule]:
    """The primitive to evaluate: a scalar rule's NumPy counterpart where an operand is an array (`cos` is
    `numpy.cos` there), as the transforms choose it."""
    rule = rules[op]
    if rule.on_arrays is not None and any(is_array(v) for v in values):
        return rule.on_arrays, rules[rule.on_arrays]
    return op, rule


def type_of(value: Any) -> ir.Type:
    """The IR type of a value: an array's element kind and its shape (known sizes), or a number's."""
    dtype = getattr(value, "dtype", None)
    elem = FLOAT
    if dtype is not None:
        elem = ir.BOOL if dtype.kind == "b" else ir.INT if dtype.kind in "iu" else FLOAT
    if is_array(value):
        return ir.ArrayOf(elem, tuple(int(size) for size in value.shape))
    if dtype is not None:
        return elem
    return ir.const_type(value) if isinstance(value, bool | int | float) else FLOAT


def summed_to(value: Any, like: Any) -> Any:
    """`value`, the adjoint of a broadcast result, summed back to the shape of `like` (broadcasting undone);
    a number where `like` is a number. `NoAdjoint` where the shapes do not fit."""
    import numpy

    shape = numpy.shape(like)
    summed = numpy.asarray(value)
    while summed.ndim > len(shape):
        summed = summed.sum(axis=0)
    for axis, size in enumerate(shape):
        if size == 1 and summed.shape[axis] != 1:
            summed = summed.sum(axis=axis, keepdims=True)
    if summed.shape != shape:
        if summed.size != 1:
            raise NoAdjoint(f"an adjoint of shape {summed.shape} for a value of shape {shape}")
        summed = numpy.broadcast_to(summed.reshape(()), shape)  # a constant partial: the same everywhere
    if not is_array(like):
        return float(summed)
    return numpy.array(summed, dtype=summed.dtype if summed.dtype.kind == "f" else float)


class NumpyMath:
    """`m.<primitive>(...)` in the rule table's derivative formulas, evaluated on NumPy values."""

    def __init__(self, rules: Mapping[str, Rule]) -> None:
        self.rules = rules

    def __getattr__(self, op: str) -> Callable[..., Any]:
        rules = self.rules

        def evaluate(*args: Any) -> Any:
            chosen, rule = counterpart(rules, op, args)
            return evaluator(rule)(*args)

        return evaluate


def pullback(node: Node, bar: Any, rules: Mapping[str, Rule], active: Sequence[bool]) -> tuple[Any, ...]:
    """What flows back from `node` (its adjoint `bar`) to each operand: an array shaped like the operand,
    a number, or None for an operand that gets nothing (a constant, a value without a derivative)."""
    import numpy

    assert node.op is not None
    rule = rules[node.op]
    values = [a.value if isinstance(a, Node) else a for a in node.args]
    with numpy.errstate(all="ignore"):
        if not rule.structural:
            if rule.partials is None:  # piecewise constant: no derivative flows
                return tuple(None for _ in node.args)
            partials: tuple[Any, ...] = rule.partials(NumpyMath(rules), node.value, *values)
            return tuple(
                summed_to(numpy.multiply(bar, partial), value) if wanted else None
                for wanted, partial, value in zip(active, partials, values)
            )
        if rule.flows == ():  # an array that depends on no operand's value (zeros, a shape)
            return tuple(None for _ in node.args)
        if rule.reverse is None:
            raise NoAdjoint(f"the rule of '{node.op}' has no reverse template")
        return _Sweep(rules, node, values, active).run(rule, bar)


class _Out(list[ir.Stmt]):
    """The statements a reverse template writes, each run as it is written."""

    def __init__(self, sweep: _Sweep) -> None:
        super().__init__()
        self.sweep = sweep

    def append(self, stmt: ir.Stmt) -> None:
        self.sweep.execute(stmt)

    def extend(self, stmts: Any) -> None:
        for stmt in stmts:
            self.append(stmt)


class _Sweep:
    """The reverse transform, as a reverse template of rules/ sees it, for one node: each operation it
    emits is evaluated at once, and what it accumulates into an operand is added up (`contributions`).

    Each operand position has its own name (`x @ x` gets one contribution per edge); constant arrays are
    names too (inactive), numbers stay constants (an axis, an index)."""

    def __init__(self, rules: Mapping[str, Rule], node: Node, values: Sequence[Any], active: Sequence[bool]) -> None:
        self.rules = rules
        self.values: dict[str, Any] = {}
        self.types: dict[str, ir.Type] = {}
        self.adjoint: dict[str, Operand] = {}
        self.also_forward: list[ir.Stmt] = []
        self.out = _Out(self)
        self.active_names: set[str] = set()
        self.contributions: dict[str, Any] = {}
        self.count = 0
        operands: list[Operand] = []
        for k, (arg, value) in enumerate(zip(node.args, values)):
            number = value is None or isinstance(value, bool | int | float | str)
            if isinstance(arg, Node) or not number:
                name = f"_arg{k}"
                self.bind(name, value)
                if active[k]:
                    self.active_names.add(name)
                operands.append(Var(name))
            else:
                operands.append(Const(value))
        self.names = [o.name if isinstance(o, Var) else None for o in operands]
        self.bind("_out", node.value)
        loc = ir.Loc("<graph>", node.line or 1)
        self.stmt = Assign("_out", node.op or "", tuple(operands), type_of(node.value), loc)

    def bind(self, name: str, value: Any) -> None:
        self.values[name] = value
        self.types[name] = type_of(value)

    def value(self, operand: Operand) -> Any:
        if isinstance(operand, Var):
            return self.values[operand.name]
        if isinstance(operand, Const):
            return operand.value
        raise NoAdjoint(f"the reverse template read {operand!r}")

    def run(self, rule: Rule, bar: Any) -> tuple[Any, ...]:
        self.bind("_out_bar", bar)
        assert rule.reverse is not None
        rule.reverse(self, self.stmt, Var("_out_bar"))
        return tuple(self.contributions.get(name) if name is not None else None for name in self.names)

    # -- what a reverse template asks (rules/lists.py, `ReverseSweep`) ----------------

    def active(self, operand: Operand) -> bool:
        return isinstance(operand, Var) and operand.name in self.active_names

    def emit(self, op: str, *args: Operand, type_: ir.Type | None = None, loc: ir.Loc | None = None) -> Operand:
        values = [self.value(a) for a in args]
        chosen, rule = counterpart(self.rules, op, values)
        if rule.effect or rule.run is not None:
            raise NoAdjoint(f"the reverse template emitted '{op}', which is no operation on arrays")
        self.count += 1
        name = f"_v{self.count}"
        self.bind(name, evaluator(rule)(*values))
        return Var(name)

    def execute(self, stmt: ir.Stmt) -> None:
        if isinstance(stmt, Assign):
            values = [self.value(a) for a in stmt.args]
            chosen, rule = counterpart(self.rules, stmt.op, values)
            self.bind(stmt.target, evaluator(rule)(*values))
        elif isinstance(stmt, Effect) and self.rules[stmt.op].effect and self.rules[stmt.op].run is None:
            evaluator(self.rules[stmt.op], effect=True)(*(self.value(a) for a in stmt.args))
        else:
            raise NoAdjoint(f"the reverse template wrote a {type(stmt).__name__}")

    def accumulate(
        self, name: str, out_bar: Operand, partial: Operand, loc: ir.Loc | None = None, renamable: bool = True
    ) -> None:
        import numpy

        contribution = summed_to(numpy.multiply(self.value(out_bar), self.value(partial)), self.values[name])
        old = self.contributions.get(name)
        self.contributions[name] = contribution if old is None else old + contribution

    def refuse(self, loc: ir.Loc, message: str, hint: str | None) -> Exception:
        return NoAdjoint(message)

    def _no(self, *args: Any, **kwargs: Any) -> Any:
        raise NoAdjoint("a list operation in the reverse template of an array operation")

    adjoint_of_list = new_adjoint = zeros_like = _no

    def fresh(self, name: str, type_: ir.Type | None = None) -> str:
        self.count += 1
        return f"_v{self.count}"

    def rewritten(self, items: Operand) -> bool:
        return False


def nan_where_undefined(evaluate: Callable[..., Any]) -> Callable[..., Any]:
    """`evaluate`, giving nan where the primitive is undefined at its operands instead of raising."""

    def safe(*args: Any) -> Any:
        try:
            return evaluate(*args)
        except (ArithmeticError, ValueError, TypeError):
            return math.nan

    return safe
