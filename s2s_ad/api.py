"""`grad`, `value_and_grad` and friends: the pipeline, and a cache of what it built.

The pipeline is the flat list of calls in `build`: frontend, lower, reverse,
optimize, codegen, compile. `grad(f)` returns the compiled generated function
itself, so calling it costs exactly what calling generated code costs.
"""

from __future__ import annotations

import ast
import os
import sys
import types
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from . import codegen, frontend, ir, lower, optimize, reverse
from .errors import CheckError, SignatureError
from .frontend import Data, ParsedFunction

Wrt = str | int | Sequence[str | int] | None


@dataclass(frozen=True)
class Built:
    """Everything the pipeline made for one request; tests and the CLI read it."""

    primal: ir.Function
    derived: ir.Function
    generated: codegen.Generated
    wrt: tuple[str, ...]
    with_value: bool = False


def build(parsed: ParsedFunction, wrt: Wrt, *, with_value: bool = False, verbose: bool = False) -> Built:
    """Run the pipeline on one function."""
    show = _printer(verbose)
    primal = lower.lower(parsed)
    show("lowered", primal)
    names, single = resolve_wrt(primal, wrt, parsed)
    if isinstance(primal.returns, tuple) or _is_list(primal, primal.returns):
        returns = [n for n in ast.walk(parsed.node) if isinstance(n, ast.Return)]
        raise parsed.source.error(SignatureError, "gradient is only defined for scalar-output functions",
                                  returns[-1] if returns else parsed.node, "return a single number")
    derived = reverse.gradient(primal, names, with_value=with_value, bare=single)
    show("reverse", derived)
    derived = optimize.optimize(derived)
    show("optimized", derived)
    generated = codegen.generate(derived)
    if verbose:
        print(f"--- generated code for {parsed.name} (wrt {', '.join(names)}) ---\n{generated.source}", file=sys.stderr)
    return Built(primal, derived, generated, names, with_value)


def _printer(verbose: bool) -> Callable[[str, ir.Function], None]:
    if not (verbose or os.environ.get("S2S_AD_VERBOSE")):
        return lambda stage, function: None
    return lambda stage, function: print(f"--- after {stage} ---\n{ir.format_function(function)}", file=sys.stderr)


def _is_list(function: ir.Function, operand: ir.Returns) -> bool:
    if isinstance(operand, ir.Global):
        return True
    if isinstance(operand, ir.Var):
        return isinstance(ir.types_of(function).get(operand.name), ir.ListOf)
    return False


def resolve_wrt(function: ir.Function, wrt: Wrt, parsed: ParsedFunction) -> tuple[tuple[str, ...], bool]:
    """Parameter names to differentiate with respect to, and whether the caller wants a bare gradient."""
    params = [p.name for p in function.params]
    if wrt is None:
        return tuple(params), len(params) == 1

    def refuse(message: str, hint: str | None = None) -> SignatureError:
        return parsed.source.error(SignatureError, message, parsed.node, hint)  # type: ignore[return-value]

    single = isinstance(wrt, (str, int)) and not isinstance(wrt, bool)
    if not single and not isinstance(wrt, (tuple, list)):
        raise refuse(f"wrt takes a parameter name or index, or a tuple of them, not {wrt!r}")
    items = [wrt] if single else list(wrt)  # type: ignore[list-item, arg-type]
    if not items:
        raise refuse("wrt is empty: name at least one parameter")
    names = []
    for item in items:
        if isinstance(item, bool) or not isinstance(item, (str, int)):
            raise refuse(f"wrt takes parameter names or indices, not {item!r}")
        if isinstance(item, int):
            if not -len(params) <= item < len(params):
                raise parsed.source.error(SignatureError, f"wrt={item}: '{function.name}' has {len(params)} "
                                                          f"parameter(s)", parsed.node)
            names.append(params[item])
        elif item not in params:
            raise parsed.source.error(SignatureError, f"wrt={item!r}: '{function.name}' has no parameter "
                                                      f"'{item}'", parsed.node,
                                      "parameters are: " + ", ".join(params))
        else:
            names.append(item)
    if len(set(names)) != len(names):
        raise refuse(f"wrt names a parameter twice: {tuple(items)!r}")
    return tuple(names), single


# -- the cache ---------------------------------------------------------------

_CACHE: weakref.WeakKeyDictionary[Callable[..., Any], dict[tuple[Any, ...], Callable[..., Any]]] = (
    weakref.WeakKeyDictionary()
)


def _derive(f: Callable[..., Any], wrt: Wrt, with_value: bool, verbose: bool, check: bool) -> Callable[..., Any]:
    if not isinstance(f, types.FunctionType):
        frontend.from_function(f)  # refuses it with the reason
    key = (_freeze(wrt), with_value)
    per_function = _CACHE.setdefault(f, {})
    if key in per_function and not verbose and not check:
        return per_function[key]
    parsed = frontend.from_function(f)
    built = build(parsed, wrt, with_value=with_value, verbose=verbose)
    if check:
        _cross_check(parsed, built)
    namespace: dict[str, object] = {}
    for name in built.generated.globals:
        found = parsed.resolve(name)
        if isinstance(found, Data):
            namespace[name] = found.value
    compiled = codegen.compile_generated(built.generated, namespace, label=f"{parsed.qualname or parsed.name}")
    compiled.__s2s_ad__ = built  # type: ignore[attr-defined]
    per_function[key] = compiled
    return compiled


def _cross_check(parsed: ParsedFunction, built: Built) -> None:
    """Raise `CheckError` unless SymPy agrees with the generated gradient."""
    from . import check as checking  # imports SymPy: only when asked for

    derived = built.derived
    if built.with_value:  # check the gradient part of (value, gradient)
        derived = ir.Function(derived.name, derived.params, derived.body, derived.returns[1],  # type: ignore[index]
                              derived.loc, derived.sources)
    report = checking.check_built(built.primal, derived, built.wrt,
                                  checking.data_of(parsed, built.primal, derived))
    if not report.ok:
        raise parsed.source.error(CheckError, f"the generated gradient of '{parsed.name}' does not pass the SymPy "
                                              f"cross-check:\n{report}", parsed.node,
                                  "this is a bug in s2s_ad or in a custom derivative; please report it")


def _freeze(wrt: Wrt) -> object:
    return wrt if wrt is None or isinstance(wrt, (str, int)) else tuple(wrt)


def grad(f: Callable[..., Any] | None = None, *, wrt: Wrt = None, check: bool = False,
         verbose: bool = False) -> Any:
    """The gradient of a scalar function, as generated Python.

    Usable as `@grad`, `@grad(wrt=...)` or `grad(f, wrt=...)`. `wrt` takes a
    parameter name or index (the gradient is returned bare) or a tuple of
    them (a tuple is returned, in that order); `None` means all parameters.
    `check=True` proves the generated gradient against SymPy first and raises
    `CheckError` if they disagree. `verbose=True` prints the IR after each stage.
    """
    if f is None:
        return lambda func: grad(func, wrt=wrt, check=check, verbose=verbose)
    return _derive(f, wrt, with_value=False, verbose=verbose, check=check)


def value_and_grad(f: Callable[..., Any] | None = None, *, wrt: Wrt = None, check: bool = False,
                   verbose: bool = False) -> Any:
    """Like `grad`, but the generated function returns `(value, gradient)`."""
    if f is None:
        return lambda func: value_and_grad(func, wrt=wrt, check=check, verbose=verbose)
    return _derive(f, wrt, with_value=True, verbose=verbose, check=check)


class CustomDerivative:
    """Placeholder for user-supplied derivative rules (not available yet)."""
