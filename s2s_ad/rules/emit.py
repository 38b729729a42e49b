"""Building IR from the rule table's derivative formulas, folding constants and exact identities."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping

from ..ir.names import Namer
from ..ir.nodes import FLOAT, INT, Assign, Const, Global, Loc, Operand, Scalar, Stmt, Type, Var, const_type
from . import shapes
from .core import Rule


class Emitter:
    """Appends primitive assignments to a list, folding constants and exact identities.

    `expr(operand)` wraps an operand so that the rule table's derivative
    formulas, written with Python operators and `m.<primitive>(...)`, emit IR.
    """

    def __init__(self, rules: Mapping[str, Rule], namer: Namer, out: list[Stmt], loc: Loc, types: dict[str, Type]) -> None:
        self.rules = rules
        self.namer = namer
        self.out = out
        self.loc = loc
        self.types = types

    def type_of(self, operand: Operand) -> Type:
        if isinstance(operand, Const):
            return const_type(operand.value)
        if isinstance(operand, Global):
            return operand.type
        return self.types.get(operand.name, FLOAT)

    def op(self, op: str, *args: Operand, name: str | None = None, type_: Type | None = None) -> Operand:
        rule = self.rules[op]
        arrays = any(shapes.is_array(self.type_of(a)) for a in args)
        if arrays and rule.on_arrays is not None:
            op, rule = rule.on_arrays, self.rules[rule.on_arrays]
        folded = fold(self.rules, op, args, self.type_of)
        if folded is not None:
            return folded
        if rule.expand is not None and any(type(a) is Const for a in args):
            formula = rule.expand(self.m, *(a.value if type(a) is Const else Expr(self, a) for a in args))
            if formula is not None:
                return operand_of(formula)
        if type_ is not None:
            result_type = type_
        elif arrays:
            result_type = rule.type_for(tuple(self.type_of(a) for a in args), args)
        elif rule.result == "float" or (
            rule.result == "promote" and any(type(a) is Var and self.types.get(a.name, FLOAT) == FLOAT for a in args)
        ):
            result_type = FLOAT
        else:
            result_type = rule.result_type(tuple(self.type_of(a) for a in args))
        target = self.namer.fresh(name) if name else self.namer.temp()
        self.types[target] = result_type
        self.out.append(Assign(target, op, tuple(args), result_type, self.loc))
        return Var(target)

    def expr(self, operand: Operand) -> Expr:
        return Expr(self, operand)

    @property
    def m(self) -> _Namespace:
        return _Namespace(self)


def fold(
    rules: Mapping[str, Rule], op: str, args: tuple[Operand, ...], type_of: Callable[[Operand], Type] | None = None
) -> Operand | None:
    """The operand an operation reduces to without computing anything, if any.

    Only exact rewrites: constants are evaluated as Python would (unless that
    raises), and `x*1`, `1*x`, `x/1`, `x-0`, `x**1`, `--x` are `x`. Never
    `0*x` (wrong for inf and nan) nor `x+0.0` (wrong for -0.0).
    """
    for a in args:  # every rewrite below needs a constant
        if type(a) is Const:
            break
    else:
        return None
    rule = rules[op]
    if rule.structural or not rule.foldable:
        return None
    if all(type(a) is Const for a in args):
        return _evaluated(rule, args)
    return _identity(op, args, type_of)


def _evaluated(rule: Rule, args: tuple[Operand, ...]) -> Operand | None:
    """Constant operands evaluated as Python would; None when that raises or gives no number."""
    if not rule.pure:
        return None
    try:
        value = rule.evaluate(*(a.value for a in args if isinstance(a, Const)))
    except (ArithmeticError, ValueError, TypeError):
        return None
    if isinstance(value, (int, float)) and not isinstance(value, complex):
        return Const(value)
    return None


def _identity(op: str, args: tuple[Operand, ...], type_of: Callable[[Operand], Type] | None) -> Operand | None:
    """The operand an exact identity with a constant operand reduces the operation to (see `fold`)."""
    if op == "mul":
        left, right = args
        if _is(right, 1) and _keeps_type(left, right, type_of):
            return left
        if _is(left, 1) and _keeps_type(right, left, type_of):
            return right
    elif op == "pow" and _is(args[1], 1) and (_kind(args[1]) is int or _is_float(args[0], type_of)):
        return args[0]  # n ** 1.0 is a float when n is an int
    elif op == "div" and _is(args[1], 1) and type_of is not None and type_of(args[0]) == FLOAT:
        return args[0]  # n / 1 is a float when n is an int
    elif op == "sub" and _is(args[1], 0) and math.copysign(1, _number(args[1])) > 0 and _keeps_type(args[0], args[1], type_of):
        return args[0]  # not x - -0.0, which is x + 0.0
    elif (
        op == "pow"
        and _is(args[1], 0)
        and type_of is not None
        and isinstance(type_of(args[0]), Scalar)
        and type_of(args[0]) != INT_OR_FLOAT
    ):  # (an array's ** 0 is an array of ones)
        # x ** 0 is 1 for every x (nan and inf too); its type follows the operands'.
        kind = FLOAT if FLOAT in (type_of(args[0]), const_type(_number(args[1]))) else INT
        return Const(1.0 if kind == FLOAT else 1)
    return None


def _keeps_type(kept: Operand, const: Operand, type_of: Callable[[Operand], Type] | None) -> bool:
    """`1.0 * n` is a float even when `n` is an int: only then is it not `n`."""
    assert isinstance(const, Const)
    return not isinstance(const.value, float) or (type_of is not None and type_of(kept) == FLOAT)


def _is_float(operand: Operand, type_of: Callable[[Operand], Type] | None) -> bool:
    return type_of is not None and type_of(operand) == FLOAT


# What `type_of` says of a value typed float that may be an int when the function runs (see
# ir.maybe_int): no rewrite that keeps or decides the type applies to it (`1.0 * n`, `n ** 0`).
INT_OR_FLOAT = Scalar("int or float")


def _number(operand: Operand) -> float | int | bool:
    assert isinstance(operand, Const)
    return operand.value


def _kind(operand: Operand) -> type:
    return type(_number(operand))


def _is(operand: Operand, value: float) -> bool:
    return isinstance(operand, Const) and not isinstance(operand.value, bool) and operand.value == value


class Expr:
    """An operand in the rule table's derivative formulas; operators emit IR."""

    __slots__ = ("emitter", "operand")

    def __init__(self, emitter: Emitter, operand: Operand) -> None:
        self.emitter = emitter
        self.operand = operand

    def _op(self, op: str, *others: object) -> Expr:
        args = [self.operand, *(operand_of(o) for o in others)]
        return Expr(self.emitter, self.emitter.op(op, *args))

    def _rop(self, op: str, other: object) -> Expr:
        return Expr(self.emitter, self.emitter.op(op, operand_of(other), self.operand))

    def __add__(self, other: object) -> Expr:
        return self._op("add", other)

    def __radd__(self, other: object) -> Expr:
        return self._rop("add", other)

    def __sub__(self, other: object) -> Expr:
        return self._op("sub", other)

    def __rsub__(self, other: object) -> Expr:
        return self._rop("sub", other)

    def __mul__(self, other: object) -> Expr:
        return self._op("mul", other)

    def __rmul__(self, other: object) -> Expr:
        return self._rop("mul", other)

    def __truediv__(self, other: object) -> Expr:
        return self._op("div", other)

    def __rtruediv__(self, other: object) -> Expr:
        return self._rop("div", other)

    def __floordiv__(self, other: object) -> Expr:
        return self._op("floordiv", other)

    def __pow__(self, other: object) -> Expr:
        return self._op("pow", other)

    def __rpow__(self, other: object) -> Expr:
        return self._rop("pow", other)

    def __neg__(self) -> Expr:
        return self._op("neg")


def operand_of(value: object) -> Operand:
    """The IR operand of a value in a derivative formula (an `Expr` or a Python number)."""
    if isinstance(value, Expr):
        return value.operand
    if isinstance(value, (int, float)):
        return Const(value)
    raise TypeError(f"not an IR value: {value!r}")


class _Namespace:
    """`m.sin(x)` in a derivative formula emits the primitive `sin`."""

    def __init__(self, emitter: Emitter) -> None:
        self._emitter = emitter

    def __getattr__(self, op: str) -> Callable[..., Expr]:
        emitter = self._emitter

        def emit(*args: object) -> Expr:
            return Expr(emitter, emitter.op(op, *(operand_of(a) for a in args)))

        return emit
