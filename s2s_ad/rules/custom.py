"""User-defined derivatives: the `CustomDerivative` object (`@custom_derivative`, then `@f.defderiv`) and
the rule-table entries of its calls.

Generated code calls the function and its derivative instead of
differentiating the body. The lowering makes these entries per build, for the
calls it meets, and returns them with the IR; the shared table never changes.

Where the user gave no `sympy=` spelling, the SymPy spelling of the function
(or of its derivative) is its own body. Reading a body takes the stages above
the rules (parsing, lowering, interpreting with SymPy values), so the entry
holds a `Body`: the lowering supplies how to lower the body, the check
interprets it. This module imports nothing above the rules.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ..errors import UnsupportedError
from ..ir import Function
from .core import Rule

# A function's body, lowered when first asked: the IR and the rule table it needs (custom derivatives it calls included).
LoweredBody = Callable[[], tuple[Function, Mapping[str, Rule]]]


class CustomDerivative:
    """A function whose derivative the user supplies (`@custom_derivative`, then `@f.defderiv`).

    Generated code calls the function and its derivative instead of
    differentiating the body: for functions whose body s2s_ad cannot see
    into, or whose derivative has a better formula. Calling the object calls
    the function. The SymPy cross-check reads both bodies (or the `sympy=`
    spellings given), so `check` catches a derivative that disagrees.
    """

    def __init__(self, primal: Callable[..., Any], sympy: Callable[..., Any] | None = None) -> None:
        functools.update_wrapper(self, primal)
        self.primal = primal
        self.sympy = sympy
        self.derivative: Callable[..., Any] | None = None
        self.derivative_sympy: Callable[..., Any] | None = None

    def __call__(self, *args: Any) -> Any:
        return self.primal(*args)

    def defderiv(self, derivative: Callable[..., Any] | None = None, *, sympy: Callable[..., Any] | None = None) -> Any:
        """Give the derivative: a function of the same arguments returning the partial derivative
        (a tuple of them, one per argument, for a function of several arguments)."""
        if derivative is None:
            return lambda d: self.defderiv(d, sympy=sympy)
        self.derivative = derivative
        self.derivative_sympy = sympy
        return derivative


@dataclass(frozen=True)
class Body:
    """The SymPy spelling of a custom function, or of one partial of its derivative, read from the
    function's body: `lowered()` gives the body's IR and rule table, `index` picks one result of a
    derivative that returns a tuple.

    The check interprets the body with SymPy values (`check.spelled` puts that spelling in the
    rule's place); calling a `Body` itself refuses, as interpreting is no part of the rules.
    """

    name: str
    lowered: LoweredBody
    index: int | None = None

    def __call__(self, sp: Any, *xs: Any) -> Any:
        raise UnsupportedError(
            f"the SymPy spelling of '{self.name}' is its body, which only the check reads",
            hint=f"give one with @custom_derivative(sympy=...) to spell '{self.name}' elsewhere",
        )

    def pick(self, value: Any) -> Any:
        """The partial `index` of what the body returned (all of it for a function or a single partial)."""
        return _pick(value, self.index)


def custom_rules(
    name: str, custom: CustomDerivative, arity: int, body: Callable[[Callable[..., Any]], LoweredBody]
) -> dict[str, Rule]:
    """Rule-table entries for a call of a custom-derivative function: `custom:<name>` and one
    `custom:<name>:d<i>` per partial derivative, spelled as calls of the user's functions.

    `body(function)` gives how to lower one of the user's functions when its SymPy spelling is
    asked for (the caller, which can lower, supplies it); it is used where no `sympy=` was given.
    """
    args = ", ".join(f"{{{i}}}" for i in range(arity))
    derivative_name = f"{name}_derivative"
    ops = [f"custom:{name}:d{i}" for i in range(arity)]

    def second(*_: Any) -> tuple[Any, ...]:
        raise UnsupportedError(
            f"the derivative given for '{name}' has no derivative of its own",
            hint="second derivatives (hessian, grad of grad) need a function without a custom derivative",
        )

    def partials(m: Any, out: Any, *xs: Any) -> tuple[Any, ...]:
        return tuple(getattr(m, op)(*xs) for op in ops)

    def spelled(function: Callable[..., Any] | None, given: Callable[..., Any] | None, index: int | None) -> Callable[..., Any]:
        if given is not None:
            return lambda sp, *xs: _pick(given(sp, *xs), index)
        if function is None:
            return _missing(name)
        return Body(name, body(function), index)

    table = {
        f"custom:{name}": Rule(
            f"{name}({args})",
            spelled(custom.primal, custom.sympy, None),
            partials,
            foldable=False,
            callables=((name, custom.primal),),
        )
    }
    for i, op in enumerate(ops):
        spelling = f"{derivative_name}({args})" + (f"[{i}]" if arity > 1 else "")
        table[op] = Rule(
            spelling,
            spelled(custom.derivative, custom.derivative_sympy, i if arity > 1 else None),
            second,
            foldable=False,
            callables=((derivative_name, custom.derivative),) if custom.derivative is not None else (),
        )
    return table


def _pick(value: Any, index: int | None) -> Any:
    return value[index] if index is not None and isinstance(value, tuple) else value


def _missing(name: str) -> Callable[..., Any]:
    def spelling(sp: Any, *xs: Any) -> Any:
        raise UnsupportedError(f"'{name}' has no derivative: add one with @{name}.defderiv")

    return spelling
