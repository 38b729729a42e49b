"""`grad`, `value_and_grad`, `jvp`, `vjp`, `jacobian`, `hessian` and friends, and the cache of what they built.

The work is `pipeline.build` (frontend, lower, reverse or forward, optimize,
codegen) and `pipeline.compiled`. `grad(f)` returns the compiled generated
function itself, so calling it costs exactly what calling generated code
costs (behind a check of the number arguments it reads nothing of: `_guarded`);
the forward-mode, pullback and matrix functions are small wrappers that check
their arguments first, so that a wrong call fails with a message that says
what was expected, before any generated code runs.

`backend="numba"` returns the code compiled by `numba.njit` (`codegen.numba`:
what it prints, refuses and wraps).

A gradient is built once per callable and request and kept in the cache
(`s2s_ad.cache`) for as long as everything the build read still holds, so
`grad(f)(x)` written inline in a loop costs about a microsecond more than
calling the gradient.

This module imports the pipeline (and with it every stage) only when a
gradient is first built: `import s2s_ad` stays cheap.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from .errors import CheckError, SignatureError

if TYPE_CHECKING:
    from .frontend import ParsedFunction
    from .pipeline import Built, Wrt

# Names that moved to `pipeline`; `from s2s_ad.api import build` keeps working (so does `CustomDerivative`,
# which moved to `rules.custom`).
_PIPELINE = frozenset({"build", "Built", "Wrt", "resolve_wrt", "packing", "collector_paused"})


def __getattr__(name: str) -> Any:
    if name in _PIPELINE:
        from . import pipeline

        return getattr(pipeline, name)
    if name == "CustomDerivative":  # lives with its rules (`rules.custom`); `import s2s_ad` does not load them
        from .rules.custom import CustomDerivative

        return CustomDerivative
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# -- building, through the cache (`s2s_ad.cache`) -------------------------------

_lookup: Callable[[object, Wrt, tuple[Any, ...]], Callable[..., Any] | None] | None = None  # cache.lookup, once imported


def _derive(target: Callable[..., Any], wrt: Wrt, request: tuple[Any, ...], check: bool = False, verbose: bool = False) -> Any:
    """The function `request` asks for, from the cache when everything it was built from still holds.

    `request` is (kind, with_value, has_aux, finish, backend, checkpoints): what the
    pipeline derives, which wrapper (`_FINISH`) turns the generated function
    into what the caller gets (None: the generated function itself), the
    backend it is printed for, and how many snapshots a checkpointed loop keeps with which schedule
    (`(K, schedule)`; None: no checkpoints).
    """
    if request[5] is not None:  # a wrong number of snapshots or an unknown schedule: say so now
        from .pipeline import checked_checkpoints, checked_schedule

        checked_checkpoints(request[5][0])
        checked_schedule(request[5][1])
    if request[4] != "python":  # an unknown backend, or numba not installed: say so now, not at the first call
        from .codegen import backend

        backend(request[4]).require()
    if _lookup is not None and not (check or verbose):
        found = _lookup(target, wrt, request)
        if found is not None:
            return found
    return _build_entry(target, wrt, request, check, verbose)


def _build_entry(target: Callable[..., Any], wrt: Wrt, request: tuple[Any, ...], check: bool, verbose: bool) -> Any:
    """Parse, build, compile and wrap; keep the result in the cache."""
    global _lookup
    from . import cache, frontend, pipeline

    kind, with_value, has_aux, finish, backend, checkpointing = request
    checkpoints, schedule = checkpointing or (None, "uniform")
    reads = frontend.Reads()
    parsed = frontend.from_callable(target, reads)
    # `w, b = params` may unpack a NamedTuple: a gradient waits for the arguments (a list of numbers gets the same code)
    structured = frontend.reads_structures(parsed) or (finish is None and frontend.may_be_structured(parsed))
    if frontend.uses_arrays(parsed) or structured:  # built for the arrays and structures it is called with
        from .specialize import on_arrays

        function = on_arrays(parsed, target, wrt, request, check, verbose, reads.data)
        cache.remember(target, wrt, request, function, reads)
        _lookup = cache.lookup
        return function
    built = pipeline.build(
        parsed,
        _pipeline_wrt(wrt, finish),
        with_value=with_value,
        verbose=verbose,
        kind=kind,
        has_aux=has_aux,
        backend=backend,
        checkpoints=checkpoints,
        schedule=schedule,
    )
    if check:
        _cross_check(parsed, built)
    function = pipeline.compiled(parsed, built, reads.data)
    if finish is not None:
        function = _FINISH[finish](target, function, built, parsed, wrt)
    elif backend == "python":
        function = _guarded(function, built, parsed.data_params)

    cache.remember(target, wrt, request, function, reads)
    _lookup = cache.lookup
    return function


def _pipeline_wrt(wrt: Wrt, finish: str | None) -> Wrt:
    """What the pipeline is asked for: matrix functions build with a tuple of parameters (their wrappers
    make a bare result themselves, for one parameter named)."""
    return _as_tuple(wrt) if finish in _MATRICES and wrt is not None else wrt


def _cross_check(parsed: ParsedFunction, built: Built) -> None:
    """Raise `CheckError` unless SymPy agrees with the generated gradient."""
    from .check import check_built, data_of  # SymPy is imported when the check runs

    derived = built.derived  # the code compared is the code the caller gets: `built.generated`
    data = data_of(parsed, built.primal, derived)
    generated = built.generated if built.backend == "python" else None  # numba's is the same IR printed otherwise
    report = check_built(built.primal, derived, built.wrt, data, built.rules, generated=generated, with_value=built.with_value)
    if not report.ok:
        raise parsed.source.error(
            CheckError,
            f"the generated gradient of '{parsed.name}' does not pass the SymPy cross-check:\n{report}",
            parsed.node,
            "this is a bug in s2s_ad or in a custom derivative; please report it",
        )


# -- which parameters --------------------------------------------------------


def _choose(wrt: Wrt, argnums: int | Sequence[int] | None) -> Wrt:
    """`argnums=` as JAX spells it (indices only), or `wrt=` (names or indices); not both."""
    if argnums is None:
        return wrt
    if wrt is not None:
        raise TypeError("pass either wrt= or argnums=, not both (wrt= takes names and indices, argnums= indices)")
    items = [argnums] if isinstance(argnums, int) else argnums
    if not isinstance(items, (list, tuple)) or not all(isinstance(i, int) and not isinstance(i, bool) for i in items):
        raise TypeError(f"argnums takes an int or a tuple of ints, not {argnums!r} (use wrt= for parameter names)")
    return argnums if isinstance(argnums, int) else tuple(argnums)


def _as_tuple(wrt: Wrt) -> Wrt:
    return (wrt,) if isinstance(wrt, (str, int)) and not isinstance(wrt, bool) else wrt


def _single(wrt: Wrt) -> bool:
    return isinstance(wrt, (str, int)) and not isinstance(wrt, bool)


# -- the public functions ----------------------------------------------------


def grad(
    f: Callable[..., Any] | None = None,
    *,
    wrt: Wrt = None,
    argnums: int | Sequence[int] | None = None,
    has_aux: bool = False,
    check: bool = False,
    verbose: bool = False,
    backend: str = "python",
    checkpoints: int | None = None,
    schedule: str = "uniform",
) -> Any:
    """The gradient of a scalar function, as generated Python.

    Usable as `@grad`, `@grad(wrt=...)` or `grad(f, wrt=...)`. `wrt` takes a
    parameter name or index (the gradient is returned bare) or a tuple of
    them (a tuple is returned, in that order); `None` means all parameters.
    `argnums` is JAX's spelling of the same, with indices only. With
    `has_aux=True`, `f` returns `(output, aux)` and the gradient function
    returns `(gradient, aux)`, as in JAX. `check=True` proves the generated
    gradient against SymPy first and raises `CheckError` if they disagree.
    `verbose=True` prints the IR after each stage. `backend="numba"` returns it
    compiled with `numba.njit` (see the module's docstring). `checkpoints=K` bounds the memory of a long
    loop's reverse sweep: the forward sweep keeps at most K snapshots of the loop's carried values and the
    reverse sweep runs the iterations between them again (a `for` loop over a range carrying numbers; other
    loops are taped as without it); `schedule="revolve"` places a `for` loop's snapshots by Griewank's binomial
    schedule instead of in uniform segments (memory for K snapshots and K iterations, more recomputation), and
    a `while` loop keeps its snapshots by an online schedule. The gradient is the same, bit for bit.

    `f` may be a function, a bound method (`self` is data), a function read
    off a class (`Model.loss`: `self` stays its first parameter, as data), a
    static or class method, a `functools.partial` (the remaining parameters
    are differentiated) or a `custom_derivative` function.
    """
    if f is None:
        options: dict[str, Any] = {"has_aux": has_aux, "check": check, "verbose": verbose, "backend": backend}
        return lambda func: grad(func, wrt=wrt, argnums=argnums, checkpoints=checkpoints, schedule=schedule, **options)
    if argnums is not None:
        wrt = _choose(wrt, argnums)
    return _derive(f, wrt, ("grad", False, has_aux, None, backend, _checkpointing(checkpoints, schedule)), check, verbose)


def value_and_grad(
    f: Callable[..., Any] | None = None,
    *,
    wrt: Wrt = None,
    argnums: int | Sequence[int] | None = None,
    has_aux: bool = False,
    check: bool = False,
    verbose: bool = False,
    backend: str = "python",
    checkpoints: int | None = None,
    schedule: str = "uniform",
) -> Any:
    """Like `grad`, but the generated function returns `(value, gradient)` (`((value, aux), gradient)`
    with `has_aux`)."""
    if f is None:
        return lambda func: value_and_grad(
            func,
            wrt=wrt,
            argnums=argnums,
            has_aux=has_aux,
            check=check,
            verbose=verbose,
            backend=backend,
            checkpoints=checkpoints,
            schedule=schedule,
        )
    if argnums is not None:
        wrt = _choose(wrt, argnums)
    return _derive(f, wrt, ("grad", True, has_aux, None, backend, _checkpointing(checkpoints, schedule)), check, verbose)


def _checkpointing(checkpoints: int | None, schedule: str) -> tuple[int, str] | None:
    """The request's checkpointing: `(K, schedule)`, or None without checkpoints (checked in `_derive`)."""
    return None if checkpoints is None else (checkpoints, schedule)


def jvp(
    f: Callable[..., Any] | None = None,
    primals: Sequence[Any] | None = None,
    tangents: Sequence[Any] | None = None,
    *,
    wrt: Wrt = None,
    argnums: int | Sequence[int] | None = None,
    verbose: bool = False,
    backend: str = "python",
) -> Any:
    """Forward mode: `(f(*primals), directional derivative)`.

    Spelled as JAX does, `jvp(f, primals, tangents)`, or curried,
    `jvp(f)(primals, tangents)`. `primals` holds every argument of `f`;
    `tangents` one tangent per `wrt` parameter (all parameters by default).
    For a function returning a tuple, both results are tuples. `backend` as for `grad`.
    """
    if f is None:
        return lambda func: jvp(func, wrt=wrt, argnums=argnums, verbose=verbose, backend=backend)
    function = _derive(f, _as_tuple(_choose(wrt, argnums)), ("jvp", False, False, "jvp", backend, None), verbose=verbose)
    if primals is None and tangents is None:
        return function
    if primals is None or tangents is None:
        raise TypeError("jvp(f, primals, tangents) needs both the primals and the tangents")
    return function(primals, tangents)


def vjp(
    f: Callable[..., Any] | None = None,
    *primals: Any,
    wrt: Wrt = None,
    argnums: int | Sequence[int] | None = None,
    verbose: bool = False,
) -> Any:
    """Reverse mode for any output: `vjp(f)(*args)` (or JAX's `vjp(f, *args)`) returns `(f(*args), pullback)`,
    where `pullback(out_bar)` gives the adjoints of the `wrt` parameters (a tuple) for the output
    adjoint `out_bar` (a tuple of them if `f` returns a tuple). Each pullback runs the
    generated forward and reverse sweeps once."""
    if f is None:
        return lambda func: vjp(func, wrt=wrt, argnums=argnums, verbose=verbose)
    function = _derive(f, _as_tuple(_choose(wrt, argnums)), ("vjp", False, False, "vjp", "python", None), verbose=verbose)
    return function(*primals) if primals else function


def jacobian(
    f: Callable[..., Any] | None = None,
    *,
    wrt: Wrt = None,
    argnums: int | Sequence[int] | None = None,
    mode: str = "auto",
    backend: str = "python",
) -> Any:
    """`jacobian(f)(*args)`: d output_i / d parameter_j as a tuple of rows, one row per output
    (a function returning one number has one row).

    With one parameter named (`wrt="x"`, `argnums=0`) the parameter dimension
    is bare, as with `grad`: the derivative itself for a function returning a
    number, a tuple of one derivative per output otherwise. `mode="fwd"` runs
    forward mode once per parameter, `"rev"` reverse mode once per output;
    `"auto"` picks the one with fewer runs. `backend` as for `grad`.
    """
    if mode not in ("auto", "fwd", "rev"):
        raise SignatureError(f"mode must be 'auto', 'fwd' or 'rev', not {mode!r}")
    if f is None:
        return lambda func: jacobian(func, wrt=wrt, argnums=argnums, mode=mode, backend=backend)
    return _derive(f, _choose(wrt, argnums), ("jvp", False, False, f"jacobian:{mode}", backend, None))


def jacfwd(f: Callable[..., Any] | None = None, argnums: int | Sequence[int] = 0, *, wrt: Wrt = None) -> Any:
    """The Jacobian by forward mode, shaped as JAX's `jacfwd` shapes it.

    `argnums` (default 0, as in JAX) or `wrt` choose the parameters. A bare
    index gives one derivative per output, a tuple one tuple per output; a
    function returning one number gives that one row (or number) itself.
    """
    if f is None:
        return lambda func: jacfwd(func, argnums, wrt=wrt)
    chosen = wrt if wrt is not None else _choose(None, argnums)
    return _derive(f, chosen, ("jvp", False, False, "jacfwd", "python", None))


def jacrev(f: Callable[..., Any] | None = None, argnums: int | Sequence[int] = 0, *, wrt: Wrt = None) -> Any:
    """The Jacobian by reverse mode, shaped as JAX's `jacrev` shapes it (see `jacfwd`)."""
    if f is None:
        return lambda func: jacrev(func, argnums, wrt=wrt)
    chosen = wrt if wrt is not None else _choose(None, argnums)
    return _derive(f, chosen, ("jvp", False, False, "jacrev", "python", None))


def hessian(
    f: Callable[..., Any] | None = None,
    *,
    wrt: Wrt = None,
    argnums: int | Sequence[int] | None = None,
    verbose: bool = False,
    backend: str = "python",
) -> Any:
    """`hessian(f)(*args)`: the matrix of second derivatives of a scalar function, as a tuple of rows
    (the second derivative itself for one parameter named, `wrt="x"`, as with `grad`).

    It is computed exactly by forward mode over the generated gradient (one
    Hessian-vector product per parameter), never by finite differences. `backend` as for `grad`.
    """
    if f is None:
        return lambda func: hessian(func, wrt=wrt, argnums=argnums, verbose=verbose, backend=backend)
    return _derive(f, _choose(wrt, argnums), ("hvp", False, False, "hessian", backend, None), verbose=verbose)


# -- the wrappers: argument checks, then the generated code -----------------------


def _finish_jvp(target: Callable[..., Any], generated: Callable[..., Any], built: Built, parsed: ParsedFunction, wrt: Wrt) -> Any:
    params = _params(built)
    tangent_params = [params[[p[0] for p in params].index(name)] for name in built.wrt]
    name = parsed.name

    def f_jvp(primals: Sequence[Any], tangents: Sequence[Any]) -> Any:
        _check_arguments(f"jvp({name}): primals", params, primals, packed=True)
        _check_arguments(f"jvp({name}): tangents", tangent_params, tangents, packed=True, tangent=True)
        return generated(primals, tangents)

    return _wrapper(f_jvp, generated, built, f"{name}_jvp")


def _finish_vjp(target: Callable[..., Any], generated: Callable[..., Any], built: Built, parsed: ParsedFunction, wrt: Wrt) -> Any:
    params = _params(built)
    outputs = built.primal.returns
    several = isinstance(outputs, tuple)
    count = len(outputs) if isinstance(outputs, tuple) else 1
    name = parsed.name
    f = target

    def f_vjp(*args: Any) -> tuple[Any, Callable[[Any], tuple[Any, ...]]]:
        _check_arguments(f"vjp({name})", params, args)

        def pullback(out_bar: Any) -> tuple[Any, ...]:
            if several:
                if not isinstance(out_bar, (tuple, list)) or len(out_bar) != count:
                    raise TypeError(
                        f"the pullback of {name} takes one adjoint per output: a tuple of {count} numbers, not {_shown(out_bar)}"
                    )
                for index, seed in enumerate(out_bar):
                    _check_number(f"the pullback of {name}: the adjoint of output {index}", seed)
                seeds = tuple(out_bar)
            else:
                _check_number(f"the pullback of {name}: the output adjoint", out_bar, hint=" (f returns one number)")
                seeds = (out_bar,)
            return generated(*args, *seeds)[1]

        return f(*args), pullback

    return _wrapper(f_vjp, generated, built, f"{name}_vjp")


def _jacobian_finisher(mode: str, jax_shape: bool) -> Callable[..., Any]:
    """The wrapper of `jacobian` (`jax_shape=False`: rows, one per output) or `jacfwd`/`jacrev` (JAX's shapes)."""

    def finish(
        target: Callable[..., Any], forward_mode: Callable[..., Any], built: Built, parsed: ParsedFunction, wrt: Wrt
    ) -> Any:
        _numbers_only(parsed, built)
        params = _params(built)
        outputs = built.primal.returns
        several = isinstance(outputs, tuple)
        m = len(outputs) if isinstance(outputs, tuple) else 1
        n = len(built.wrt)
        bare = _single(wrt)
        use_forward = mode == "fwd" or (mode == "auto" and n <= m)
        reverse_mode = (
            None
            if use_forward
            else _derive(target, built.wrt if wrt is None else _as_tuple(wrt), ("vjp", False, False, None, built.backend, None))
        )
        name = parsed.name

        def f_jacobian(*args: Any, **kwargs: Any) -> Any:
            args = _positional(f"jacobian({name})", built, args, kwargs)
            _check_arguments(f"jacobian({name})", params, args)
            if reverse_mode is None:
                columns = []
                for j in range(n):
                    tangents = tuple(1.0 if k == j else 0.0 for k in range(n))
                    column = forward_mode(args, tangents)[1]
                    columns.append(column if isinstance(column, tuple) else (column,))
                rows = tuple(tuple(columns[j][i] for j in range(n)) for i in range(m))
            else:
                found = []
                for i in range(m):
                    seeds = tuple(1.0 if k == i else 0.0 for k in range(m))
                    found.append(tuple(reverse_mode(*args, *seeds)[1]))
                rows = tuple(found)
            if bare:
                rows = tuple(row[0] for row in rows)
            if bare and not several:
                return rows[0]
            if jax_shape and not several:
                return rows[0]
            return rows

        return _wrapper(f_jacobian, forward_mode, built, f"{name}_jacobian")

    return finish


def _finish_hessian(
    target: Callable[..., Any], products: Callable[..., Any], built: Built, parsed: ParsedFunction, wrt: Wrt
) -> Any:
    _numbers_only(parsed, built)
    params = _params(built)
    n = len(built.wrt)
    bare = _single(wrt)
    name = parsed.name

    def f_hessian(*args: Any, **kwargs: Any) -> Any:
        args = _positional(f"hessian({name})", built, args, kwargs)
        _check_arguments(f"hessian({name})", params, args)
        columns = []
        for j in range(n):
            tangents = tuple(1.0 if k == j else 0.0 for k in range(n))
            columns.append(products(args, tangents)[1])
        if bare:
            return columns[0][0]
        return tuple(tuple(columns[j][i] for j in range(n)) for i in range(n))

    return _wrapper(f_hessian, products, built, f"{name}_hessian")


_FINISH: dict[str, Callable[..., Any]] = {
    "jvp": _finish_jvp,
    "vjp": _finish_vjp,
    "jacobian:auto": _jacobian_finisher("auto", False),
    "jacobian:fwd": _jacobian_finisher("fwd", False),
    "jacobian:rev": _jacobian_finisher("rev", False),
    "jacfwd": _jacobian_finisher("fwd", True),
    "jacrev": _jacobian_finisher("rev", True),
    "hessian": _finish_hessian,
}
_MATRICES = frozenset({"jacobian:auto", "jacobian:fwd", "jacobian:rev", "jacfwd", "jacrev", "hessian"})


def _wrapper(function: Callable[..., Any], generated: Callable[..., Any], built: Built, name: str) -> Callable[..., Any]:
    function.__name__ = function.__qualname__ = name
    function.__wrapped__ = generated  # type: ignore[attr-defined]  # a function's own attribute (inspect.unwrap reads it)
    function.__s2s_ad__ = built  # type: ignore[attr-defined]  # a function's own attribute: what was built
    return function


def _guarded(generated: Callable[..., Any], built: Built, data: tuple[str, ...]) -> Callable[..., Any]:
    """The generated gradient, or, where it reads nothing of a number parameter (`3.0 * x + 1.0` has the
    gradient 3.0), the gradient behind a check that each such argument is a number: the function raises on
    a list or a string there (`[1.0] * 3.0`), and so must its gradient, not return 3.0."""
    from . import ir

    read = ir.use_counts(built.derived)
    unread = [
        (k, p.name)
        for k, p in enumerate(built.primal.params)
        if isinstance(p.type, ir.Scalar) and p.name not in read and p.name not in data  # `self`: an object, as data
    ]
    if not unread:
        return generated

    def checked(*args: Any, **kwargs: Any) -> Any:
        for k, param in unread:
            if k < len(args):
                _check_number(f"'{param}'", args[k])
            elif param in kwargs:
                _check_number(f"'{param}'", kwargs[param])
        return generated(*args, **kwargs)

    checked.__s2s_ad_checks__ = True  # type: ignore[attr-defined]  # differentiated again: the generated code is read
    return _wrapper(checked, generated, built, generated.__name__)


def _params(built: Built) -> list[tuple[str, object]]:
    return [(p.name, p.type) for p in built.primal.params]


def _positional(what: str, built: Built, args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[Any, ...]:
    """The arguments of a call as the function binds them, one per parameter in order: by position, by keyword,
    or the parameter's default (`hessian(f)(x, w=0.4)` for `def f(x, *, w, b=0.0)`)."""
    params = built.primal.params
    if not kwargs and len(args) == len(params):
        return args
    positional = [p for p in params if not p.keyword_only]
    if len(args) > len(positional):
        raise TypeError(f"{what} takes {len(positional)} positional value(s); {len(args)} given")
    unknown = set(kwargs) - {p.name for p in params}
    if unknown:
        raise TypeError(f"{what} got an unexpected keyword argument {sorted(unknown)[0]!r}")
    bound: list[Any] = []
    for k, param in enumerate(params):
        if k < len(args) and not param.keyword_only:
            if param.name in kwargs:
                raise TypeError(f"{what} got multiple values for {param.name!r}")
            bound.append(args[k])
        elif param.name in kwargs:
            bound.append(kwargs[param.name])
        elif param.default is not None:
            bound.append(param.default.value)
        else:
            raise TypeError(f"{what} is missing a value for {param.name!r}")
    return tuple(bound)


def _shown(value: object) -> str:
    text = repr(value)
    return f"{type(value).__name__} {text if len(text) <= 40 else text[:37] + '...'}"


def _check_arguments(
    what: str, params: Sequence[tuple[str, object]], values: object, *, packed: bool = False, tangent: bool = False
) -> None:
    """Raise a `TypeError` that says what was expected unless `values` fit `params` (count and kinds)."""
    names = ", ".join(name for name, _ in params)
    if packed and not isinstance(values, (tuple, list)):
        raise TypeError(f"{what} must be a tuple of {len(params)} value(s), ({names}), not {_shown(values)}")
    assert isinstance(values, (tuple, list))
    if len(values) != len(params):
        raise TypeError(f"{what} takes {len(params)} value(s), ({names}); {len(values)} given")
    from . import ir

    for (name, type_), value in zip(params, values):
        if isinstance(type_, ir.ListOf):
            if not isinstance(value, (list, tuple)):
                kind = "tangent" if tangent else "value"
                raise TypeError(f"{what}: '{name}' is a list, so its {kind} must be a list of numbers, not {_shown(value)}")
        else:
            _check_number(f"{what}: '{name}'", value)


def _check_number(what: str, value: object, hint: str = "") -> None:
    kind = type(value)
    if kind is float or kind is int or kind is bool:
        return
    if isinstance(value, (str, bytes, complex, list, tuple, dict, set)) or value is None or not hasattr(value, "__float__"):
        raise TypeError(f"{what} must be a number, not {_shown(value)}{hint}")


def _numbers_only(parsed: ParsedFunction, built: Built) -> None:
    from . import ir

    params = {p.name: p.type for p in built.primal.params}
    lists = [name for name in built.wrt if params[name] != ir.FLOAT]
    if lists:
        raise parsed.source.error(
            SignatureError,
            f"jacobian and hessian take number parameters; '{lists[0]}' is a list or an integer",
            parsed.node,
            "choose the number parameters with wrt=...",
        )


# -- custom derivatives ----------------------------------------------------------


def custom_derivative(f: Callable[..., Any] | None = None, *, sympy: Callable[..., Any] | None = None) -> Any:
    """Declare a function whose derivative you supply with `@f.defderiv` (a `CustomDerivative`).

    `sympy=lambda sp, x: ...` spells the function in SymPy for the cross-check
    when its body is not plain differentiable Python; by default the check
    reads the body itself.
    """
    if f is None:
        return lambda func: custom_derivative(func, sympy=sympy)
    from .rules.custom import CustomDerivative  # with the rules it makes; loaded by a first declaration

    return CustomDerivative(f, sympy)
