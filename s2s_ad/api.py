"""`grad`, `value_and_grad` and friends: the pipeline, and a cache of what it built.

The pipeline is the flat list of calls in `build`: frontend, lower, reverse,
optimize, codegen, compile. `grad(f)` returns the compiled generated function
itself, so calling it costs exactly what calling generated code costs.
"""

from __future__ import annotations

import ast
import contextlib
import functools
import gc
import os
import sys
import types
import weakref
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from . import codegen, forward, frontend, ir, lower, optimize, reverse
from .errors import CheckError, SignatureError, UnsupportedError
from .frontend import Data, ParsedFunction
from .rules import RULES, Rule

Wrt = str | int | Sequence[str | int] | None


@dataclass(frozen=True)
class Built:
    """Everything the pipeline made for one request; tests and the CLI read it."""

    primal: ir.Function
    derived: ir.Function
    generated: codegen.Generated
    wrt: tuple[str, ...]
    with_value: bool = False
    rules: Mapping[str, Rule] = field(default_factory=lambda: RULES)


def build(
    parsed: ParsedFunction,
    wrt: Wrt,
    *,
    with_value: bool = False,
    verbose: bool = False,
    kind: str = "grad",
    has_aux: bool = False,
    rules: Mapping[str, Rule] = RULES,
) -> Built:
    """Run the pipeline on one function (see `_build`); the garbage collector pauses meanwhile,
    as the transform makes many small objects and frees none of them until it is done."""
    with collector_paused():
        return _build(parsed, wrt, with_value=with_value, verbose=verbose, kind=kind, has_aux=has_aux, table=rules)


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """The garbage collector off meanwhile: a transform makes many small objects and frees none of them
    until it is done, so collecting on the way only costs time."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()


def _build(
    parsed: ParsedFunction, wrt: Wrt, *, with_value: bool, verbose: bool, kind: str, has_aux: bool, table: Mapping[str, Rule]
) -> Built:
    """Run the pipeline on one function.

    `kind` is what to derive: "grad" (reverse mode; `with_value` adds the
    value, `has_aux` passes auxiliary outputs through), "vjp" (reverse mode
    seeded with the outputs' adjoints), "jvp" (forward mode) or "hvp" (forward
    mode over the gradient: Hessian-vector products).
    """
    show = _printer(verbose)
    rules = dict(table)  # this build's table: custom derivatives add entries to it, never to RULES
    primal = lower.lower(parsed, rules)
    show("lowered", primal)
    names, single = resolve_wrt(primal, wrt, parsed)
    if kind == "grad":
        _check_scalar(parsed, primal, has_aux)
        derived = reverse.gradient(primal, names, with_value=with_value, bare=single, aux=has_aux, rules=rules)
    elif kind == "vjp":
        _check_numbers(parsed, primal)
        derived = reverse.gradient(primal, names, with_value=True, seeded=True, name=f"{primal.name}_vjp", rules=rules)
    elif kind == "jvp":
        _check_numbers(parsed, primal)
        derived = forward.tangent(primal, names, rules)
    elif kind == "hvp":
        _check_scalar(parsed, primal, False)
        gradient = optimize.optimize(reverse.gradient(primal, names, rules=rules), rules)
        show("gradient", gradient)
        derived = forward.tangent(gradient, names, rules, name=f"{primal.name}_hvp")
    else:
        raise ValueError(f"unknown derivative kind {kind!r}")
    show("reverse" if kind in ("grad", "vjp") else "forward", derived)
    derived = optimize.optimize(derived, rules)
    show("optimized", derived)
    packed = packing(derived, names) if kind in ("jvp", "hvp") else None
    generated = codegen.generate(derived, rules, packed=packed)
    if verbose:
        print(f"--- generated code for {parsed.name} (wrt {', '.join(names)}) ---\n{generated.source}", file=sys.stderr)
    return Built(primal, derived, generated, names, with_value, rules)


def packing(derived: ir.Function, wrt: tuple[str, ...]) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """`f_jvp(primals, tangents)`: the parameters, then the tangents, each packed in a tuple."""
    count = len(derived.params) - len(wrt)
    names = tuple(p.name for p in derived.params)
    return (("primals", names[:count]), ("tangents", names[count:]))


def _check_scalar(parsed: ParsedFunction, primal: ir.Function, has_aux: bool) -> None:
    returns = primal.returns
    if has_aux:
        if not isinstance(returns, tuple) or len(returns) < 2:
            raise parsed.source.error(
                SignatureError,
                "has_aux=True needs a function returning (output, aux)",
                _last_return(parsed),
                "return the output first, then the auxiliary data",
            )
        returns = returns[0]
    if isinstance(returns, tuple) or _is_list(primal, returns):
        raise parsed.source.error(
            SignatureError,
            "gradient is only defined for scalar-output functions",
            _last_return(parsed),
            "return a single number (or use jacobian/vjp)",
        )


def _check_numbers(parsed: ParsedFunction, primal: ir.Function) -> None:
    for operand in ir.return_operands(primal.returns):
        if _is_list(primal, operand):
            raise parsed.source.error(
                SignatureError,
                "the outputs must be numbers (a number or a tuple of them)",
                _last_return(parsed),
                "return a tuple of numbers: return (a, b)",
            )


def _last_return(parsed: ParsedFunction) -> ast.AST:
    returns = [n for n in ast.walk(parsed.node) if isinstance(n, ast.Return)]
    return returns[-1] if returns else parsed.node


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
                raise parsed.source.error(
                    SignatureError, f"wrt={item}: '{function.name}' has {len(params)} parameter(s)", parsed.node
                )
            names.append(params[item])
        elif item not in params:
            raise parsed.source.error(
                SignatureError,
                f"wrt={item!r}: '{function.name}' has no parameter '{item}'",
                parsed.node,
                "parameters are: " + ", ".join(params),
            )
        else:
            names.append(item)
    if len(set(names)) != len(names):
        raise refuse(f"wrt names a parameter twice: {tuple(items)!r}")
    return tuple(names), single


# -- the cache ---------------------------------------------------------------

_CACHE: weakref.WeakKeyDictionary[Callable[..., Any], dict[tuple[Any, ...], Callable[..., Any]]] = weakref.WeakKeyDictionary()


def _derive(
    f: Callable[..., Any],
    wrt: Wrt,
    with_value: bool = False,
    verbose: bool = False,
    check: bool = False,
    kind: str = "grad",
    has_aux: bool = False,
) -> Callable[..., Any]:
    if not isinstance(f, types.FunctionType):
        frontend.from_function(f)  # refuses it with the reason
    key = (_freeze(wrt), with_value, kind, has_aux)
    per_function = _CACHE.setdefault(f, {})
    if key in per_function and not verbose and not check:
        cached = per_function[key]
        if cached.__s2s_ad_constants__ == _constants(cached.__s2s_ad_parsed__):
            return cached
    parsed = frontend.from_function(f)
    built = build(parsed, wrt, with_value=with_value, verbose=verbose, kind=kind, has_aux=has_aux)
    if check:
        _cross_check(parsed, built)
    namespace: dict[str, object] = {}
    for name in built.generated.globals:
        found = parsed.resolve(name)
        if isinstance(found, Data):
            namespace[name] = found.value
    for rule in built.rules.values():
        namespace.update(rule.callables)  # the functions custom derivatives call
    with collector_paused():
        compiled = codegen.compile_generated(built.generated, namespace, label=f"{parsed.qualname or parsed.name}")
    compiled.__s2s_ad__ = built  # type: ignore[attr-defined]
    compiled.__s2s_ad_parsed__ = parsed  # type: ignore[attr-defined]
    compiled.__s2s_ad_constants__ = _constants(parsed)  # type: ignore[attr-defined]
    per_function[key] = compiled
    return compiled


def _cross_check(parsed: ParsedFunction, built: Built) -> None:
    """Raise `CheckError` unless SymPy agrees with the generated gradient."""
    from .check import check_built, data_of  # SymPy is imported when the check runs

    derived = built.derived
    if built.with_value:  # check the gradient part of (value, gradient)
        derived = ir.Function(
            derived.name,
            derived.params,
            derived.body,
            derived.returns[1],  # type: ignore[index]
            derived.loc,
            derived.sources,
        )
    report = check_built(built.primal, derived, built.wrt, data_of(parsed, built.primal, derived), built.rules)
    if not report.ok:
        raise parsed.source.error(
            CheckError,
            f"the generated gradient of '{parsed.name}' does not pass the SymPy cross-check:\n{report}",
            parsed.node,
            "this is a bug in s2s_ad or in a custom derivative; please report it",
        )


def _freeze(wrt: Wrt) -> object:
    return tuple(wrt) if isinstance(wrt, (list, tuple)) else wrt if isinstance(wrt, (str, int, type(None))) else id(wrt)


def _constants(parsed: ParsedFunction) -> tuple[tuple[str, object], ...]:
    """The module-level numbers the function reads: the generated code holds their values."""
    names = sorted({n.id for n in ast.walk(parsed.node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)})
    found = []
    for name in names:
        resolved = parsed.resolve(name)
        if isinstance(resolved, frontend.Constant):
            found.append((name, resolved.value))
    return tuple(found)


def grad(
    f: Callable[..., Any] | None = None, *, wrt: Wrt = None, has_aux: bool = False, check: bool = False, verbose: bool = False
) -> Any:
    """The gradient of a scalar function, as generated Python.

    Usable as `@grad`, `@grad(wrt=...)` or `grad(f, wrt=...)`. `wrt` takes a
    parameter name or index (the gradient is returned bare) or a tuple of
    them (a tuple is returned, in that order); `None` means all parameters.
    With `has_aux=True`, `f` returns `(output, aux)` and the gradient function
    returns `(gradient, aux)`, as in JAX. `check=True` proves the generated
    gradient against SymPy first and raises `CheckError` if they disagree.
    `verbose=True` prints the IR after each stage.
    """
    if f is None:
        return lambda func: grad(func, wrt=wrt, has_aux=has_aux, check=check, verbose=verbose)
    return _derive(f, wrt, with_value=False, verbose=verbose, check=check, has_aux=has_aux)


def value_and_grad(
    f: Callable[..., Any] | None = None, *, wrt: Wrt = None, has_aux: bool = False, check: bool = False, verbose: bool = False
) -> Any:
    """Like `grad`, but the generated function returns `(value, gradient)` (`((value, aux), gradient)`
    with `has_aux`)."""
    if f is None:
        return lambda func: value_and_grad(func, wrt=wrt, has_aux=has_aux, check=check, verbose=verbose)
    return _derive(f, wrt, with_value=True, verbose=verbose, check=check, has_aux=has_aux)


def jvp(f: Callable[..., Any] | None = None, *, wrt: Wrt = None, verbose: bool = False) -> Any:
    """Forward mode: `jvp(f)(primals, tangents)` returns `(f(*primals), directional derivative)`.

    `tangents` holds one tangent per `wrt` parameter (all parameters by
    default). For a function returning a tuple, both results are tuples.
    """
    if f is None:
        return lambda func: jvp(func, wrt=wrt, verbose=verbose)
    return _derive(f, _as_tuple(wrt), verbose=verbose, kind="jvp")


def vjp(f: Callable[..., Any] | None = None, *, wrt: Wrt = None, verbose: bool = False) -> Any:
    """Reverse mode for any output: `vjp(f)(*args)` returns `(f(*args), pullback)`, where
    `pullback(out_bar)` gives the adjoints of the `wrt` parameters (a tuple) for the output
    adjoint `out_bar` (a tuple of them if `f` returns a tuple). Each pullback runs the
    generated forward and reverse sweeps once."""
    if f is None:
        return lambda func: vjp(func, wrt=wrt, verbose=verbose)
    generated = _derive(f, _as_tuple(wrt), verbose=verbose, kind="vjp")
    outputs = generated.__s2s_ad__.primal.returns
    several = isinstance(outputs, tuple)

    def f_vjp(*args: Any) -> tuple[Any, Callable[[Any], tuple[Any, ...]]]:
        def pullback(out_bar: Any) -> tuple[Any, ...]:
            seeds = tuple(out_bar) if several else (out_bar,)
            return generated(*args, *seeds)[1]

        return f(*args), pullback

    f_vjp.__wrapped__ = generated  # type: ignore[attr-defined]
    return f_vjp


def jacobian(f: Callable[..., Any] | None = None, *, wrt: Wrt = None, mode: str = "auto") -> Any:
    """`jacobian(f)(*args)`: d output_i / d parameter_j as a tuple of rows, one row per output
    (a function returning one number has one row).

    `mode="fwd"` runs forward mode once per parameter, `"rev"` reverse mode once
    per output; `"auto"` picks the one with fewer runs.
    """
    if mode not in ("auto", "fwd", "rev"):
        raise SignatureError(f"mode must be 'auto', 'fwd' or 'rev', not {mode!r}")
    if f is None:
        return lambda func: jacobian(func, wrt=wrt, mode=mode)
    forward_mode = _derive(f, _as_tuple(wrt), kind="jvp")
    built: Built = forward_mode.__s2s_ad__
    _numbers_only(f, built)
    outputs = built.primal.returns
    m = len(outputs) if isinstance(outputs, tuple) else 1
    n = len(built.wrt)
    use_forward = mode == "fwd" or (mode == "auto" and n <= m)
    reverse_mode = None if use_forward else _derive(f, _as_tuple(wrt), kind="vjp")

    def f_jacobian(*args: Any) -> tuple[tuple[float, ...], ...]:
        if reverse_mode is None:
            columns = []
            for j in range(n):
                tangents = tuple(1.0 if k == j else 0.0 for k in range(n))
                column = forward_mode(args, tangents)[1]
                columns.append(column if isinstance(column, tuple) else (column,))
            return tuple(tuple(columns[j][i] for j in range(n)) for i in range(m))
        rows = []
        for i in range(m):
            seeds = tuple(1.0 if k == i else 0.0 for k in range(m))
            rows.append(tuple(reverse_mode(*args, *seeds)[1]))
        return tuple(rows)

    return f_jacobian


def hessian(f: Callable[..., Any] | None = None, *, wrt: Wrt = None, verbose: bool = False) -> Any:
    """`hessian(f)(*args)`: the matrix of second derivatives of a scalar function, as a tuple of rows.

    It is computed exactly by forward mode over the generated gradient (one
    Hessian-vector product per parameter), never by finite differences.
    """
    if f is None:
        return lambda func: hessian(func, wrt=wrt, verbose=verbose)
    products = _derive(f, _as_tuple(wrt), verbose=verbose, kind="hvp")
    built: Built = products.__s2s_ad__
    _numbers_only(f, built)
    n = len(built.wrt)

    def f_hessian(*args: Any) -> tuple[tuple[float, ...], ...]:
        columns = []
        for j in range(n):
            tangents = tuple(1.0 if k == j else 0.0 for k in range(n))
            columns.append(products(args, tangents)[1])
        return tuple(tuple(columns[j][i] for j in range(n)) for i in range(n))

    f_hessian.__wrapped__ = products  # type: ignore[attr-defined]
    return f_hessian


def _as_tuple(wrt: Wrt) -> Wrt:
    return (wrt,) if isinstance(wrt, (str, int)) and not isinstance(wrt, bool) else wrt


def _numbers_only(f: Callable[..., Any], built: Built) -> None:
    params = {p.name: p.type for p in built.primal.params}
    lists = [name for name in built.wrt if params[name] != ir.FLOAT]
    if lists:
        parsed = frontend.from_function(f)
        raise parsed.source.error(
            SignatureError,
            f"jacobian and hessian take number parameters; '{lists[0]}' is a list or an integer",
            parsed.node,
            "choose the number parameters with wrt=...",
        )


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


def custom_derivative(f: Callable[..., Any] | None = None, *, sympy: Callable[..., Any] | None = None) -> Any:
    """Declare a function whose derivative you supply with `@f.defderiv`.

    `sympy=lambda sp, x: ...` spells the function in SymPy for the cross-check
    when its body is not plain differentiable Python; by default the check
    reads the body itself.
    """
    if f is None:
        return lambda func: custom_derivative(func, sympy=sympy)
    return CustomDerivative(f, sympy)


def custom_rules(name: str, custom: CustomDerivative, arity: int) -> dict[str, Rule]:
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
                from .check import sympy_value

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
            callables=((derivative_name, custom.derivative),),
        )
    return table
