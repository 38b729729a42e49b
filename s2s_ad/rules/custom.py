"""Rule-table entries for the calls of a `@custom_derivative` function (`api.CustomDerivative`).

Generated code calls the function and its derivative instead of
differentiating the body. The lowering makes these entries per build, for the
calls it meets, and returns them with the IR; the shared table never changes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..errors import UnsupportedError
from .core import Rule


def custom_rules(name: str, custom: Any, arity: int) -> dict[str, Rule]:
    """Rule-table entries for a call of a custom-derivative function: `custom:<name>` and one
    `custom:<name>:d<i>` per partial derivative, spelled as calls of the user's functions."""
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
        def sympy_spelling(sp: Any, *xs: Any) -> Any:
            if given is not None:
                value = given(sp, *xs)
            elif function is None:
                raise UnsupportedError(f"'{name}' has no derivative: add one with @{name}.defderiv")
            else:
                from .. import frontend, lower  # the check reads the body: it needs the stages above
                from ..check import sympy_value

                value = sympy_value(lower.lower(frontend.from_function(function)), xs)
            return value[index] if index is not None and isinstance(value, tuple) else value

        return sympy_spelling

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
