"""Gradients are floats: a returned adjoint that may be an int is converted."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from .. import ir
from ..ir import Assign, Function, Stmt
from ..rules import RULES, Rule
from .common import namer_for, replaced


def float_gradients(function: Function, rules: Mapping[str, Rule] = RULES) -> Function:
    """Gradients are floats, always: a returned adjoint that may be an int when the function runs
    (`x_bar = n // 2` for `x * (n // 2)` called with an int `n`, or `y` itself for `x * y` called with
    ints) is converted with `float(...)`, an int constant becomes a float constant. Exact: the
    conversion changes no value, only its type."""
    if function.gradient is None:
        return function
    maybe = ir.maybe_int(function, rules)
    types = ir.types_of(function)
    extra: list[Stmt] = []
    namer = namer_for(function)

    taken = {ir.family(n) for n in ir.all_names(function)}

    def convert(returns: ir.Returns, param: str | None) -> ir.Returns:
        if isinstance(returns, tuple):
            return tuple(convert(r, None) for r in returns)
        if isinstance(returns, ir.Const) and not isinstance(returns.value, float):
            return ir.Const(float(returns.value))
        if (
            isinstance(returns, ir.Var)
            and returns.name in maybe
            and not isinstance(types.get(returns.name), (ir.ListOf, ir.ArrayOf))
        ):
            wanted = f"{param}_bar" if param is not None else None  # `x_bar = float(_t2)`: under its parameter's name
            family = wanted if wanted is not None and wanted not in taken else ir.family(returns.name)
            taken.add(family)
            target = namer().fresh(family)
            extra.append(Assign(target, "float", (returns,), ir.FLOAT, function.loc))
            return ir.Var(target)
        return returns

    returns = _each_gradient(function, convert)
    if not extra:
        return replaced(function, function.body, returns)
    return replaced(function, (*function.body, *extra), returns)


def narrow_gradients(function: Function, params: frozenset[str]) -> Function:
    """The gradients of `params`, arrays of floats narrower than float64 (float32), in their own dtype: NumPy
    computes float32 met by a float64 or an int array in float64 (`W * np.arange(3.0)`, `Y * logp` with
    int labels), and a float32 parameter gets a float32 gradient, rounded once at the end, as JAX gives."""
    if function.gradient is None or not params.intersection(function.wrt):
        return function
    types = ir.types_of(function)
    namer = namer_for(function)
    extra: list[Stmt] = []

    def cast(returns: ir.Returns, param: str | None) -> ir.Returns:
        found = types.get(returns.name) if isinstance(returns, ir.Var) else None
        if param not in params or not isinstance(returns, ir.Var) or not isinstance(found, ir.ArrayOf) or found.elem != ir.FLOAT:
            return returns
        target = namer().fresh(f"{param}_bar")
        extra.append(Assign(target, "in_dtype_of", (returns, ir.Var(param)), found, function.loc))
        return ir.Var(target)

    returns = _each_gradient(function, cast)
    return replaced(function, (*function.body, *extra), returns) if extra else function


def _each_gradient(function: Function, convert: Callable[[ir.Returns, str | None], ir.Returns]) -> ir.Returns:
    """The function's returns with `convert(gradient, its parameter)` applied to each gradient (the
    parameter None where the gradients are not one per parameter)."""
    assert function.gradient is not None

    def gradients(returns: ir.Returns) -> ir.Returns:
        if isinstance(returns, tuple) and len(returns) == len(function.wrt):
            return tuple(convert(r, p) for r, p in zip(returns, function.wrt))
        return convert(returns, function.wrt[0] if len(function.wrt) == 1 else None)

    def at(returns: ir.Returns, path: tuple[int, ...]) -> ir.Returns:
        if not path:
            return gradients(returns)
        assert isinstance(returns, tuple)
        head, rest = path[0], path[1:]
        return tuple(at(r, rest) if k == head else r for k, r in enumerate(returns))

    return at(function.returns, function.gradient)
