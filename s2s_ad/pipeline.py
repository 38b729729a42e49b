"""The pipeline: the stages in order, as one flat list of calls, with the IR printed after each on request.

    frontend (ParsedFunction) -> lower -> reverse | forward -> optimize -> codegen -> compile

`build` runs it on a parsed function and returns everything it made
(`Built`); `api` (the decorators), `check`, `graph` and `cli` all call it,
so the command line writes exactly the code `@grad` compiles. `compiled`
turns what was built into a live function. This module imports the stages
and nothing above them (never `api`, `check`, `graph` or `cli`).

A function some of whose parameters arrive as structures (`structures=`)
takes one more step first: `lower.flatten` reads it with a parameter per
leaf, and `codegen` prints it with the frame that takes the structures and
returns gradients shaped like them.
"""

from __future__ import annotations

import ast
import contextlib
import dataclasses
import gc
import os
import sys
import types
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from . import ad, codegen, ir, lower, optimize
from .errors import S2SError, SignatureError, UnsupportedError
from .frontend import Data, ParsedFunction
from .frontend.structures import Node, is_structure, structure_key
from .frontend.structures import leaves as structures_leaves
from .rules import RULES, Rule

Wrt = str | int | Sequence[str | int] | None


class NotScalarError(SignatureError):
    """A derivative was asked of a function whose output it does not take: a gradient of a tuple or a
    list, forward mode of a list.

    Its own class so that the command line, which differentiates every
    function of a file, can tell a helper that returns several values from a
    function it could not differentiate.
    """


@dataclass(frozen=True)
class Built:
    """Everything the pipeline made for one request; tests and the CLI read it."""

    primal: ir.Function
    derived: ir.Function
    generated: codegen.Generated
    wrt: tuple[str, ...]
    with_value: bool = False
    rules: Mapping[str, Rule] = field(default_factory=lambda: RULES)
    bare: bool = False  # the caller asked for one parameter (a bare gradient), not a tuple of them
    flat: lower.Flattened | None = None  # for structured parameters: the function as lowered, a parameter per leaf
    backend: str = "python"  # what the code is printed for and run by: "python", or "numba" (`codegen.BACKENDS`)
    checkpoints: int | None = None  # at most this many snapshots per checkpointed loop (`ad.checkpoints`); None: none
    schedule: str = "uniform"  # how a checkpointed `for` loop's snapshots are placed: "uniform" or "revolve" (`ad.revolve`)


def build(
    parsed: ParsedFunction,
    wrt: Wrt,
    *,
    with_value: bool = False,
    verbose: bool = False,
    kind: str = "grad",
    has_aux: bool = False,
    rules: Mapping[str, Rule] = RULES,
    arg_types: Mapping[str, ir.Type] | None = None,
    structures: Mapping[str, Node] | None = None,
    backend: str = "python",
    progress: Callable[[str], None] | None = None,
    checkpoints: int | None = None,
    narrow: frozenset[str] = frozenset(),
    schedule: str = "uniform",
) -> Built:
    """Run the pipeline on one function (see `_build`); the garbage collector pauses meanwhile,
    as the transform makes many small objects and frees none of them until it is done. `arg_types`
    types the array parameters (see `argument_types`); `structures` describes the parameters that arrive
    as structures (`frontend.structures_of`). `backend` is what the code is printed for: "python", or "numba"
    (code `numba.njit` compiles; what it cannot compile is refused here, saying why). `checkpoints=K` bounds the
    tape of the loops that allow it (`ad.checkpoints`): at most K snapshots of their carried values each;
    `schedule` places a `for` loop's: "uniform" segments, or "revolve" (binomial, `ad.revolve`).
    `progress` is told each stage as it ends (`STAGES`: the command line reports a long transform with it).
    `narrow` names the parameters that are arrays of float32 (or narrower): their gradients keep that dtype
    (`narrow_floats`)."""
    codegen.backend(backend)  # a backend there is, or a SignatureError
    checkpoints = checked_checkpoints(checkpoints)
    checked_schedule(schedule)
    options: dict[str, Any] = dict(
        with_value=with_value,
        verbose=verbose,
        kind=kind,
        has_aux=has_aux,
        table=rules,
        arg_types=arg_types,
        backend=backend,
        progress=progress,
        checkpoints=checkpoints,
        narrow=narrow,
        schedule=schedule,
    )
    with collector_paused():
        if structures:
            return _build_structured(parsed, wrt, structures, **options)
        return _build(parsed, wrt, **options)


def checked_checkpoints(checkpoints: object) -> int | None:
    """`checkpoints=` as given: None, or a whole number of snapshots, at least 1; else a SignatureError."""
    if checkpoints is None:
        return None
    if isinstance(checkpoints, bool) or not isinstance(checkpoints, int) or checkpoints < 1:
        raise SignatureError(f"checkpoints takes a whole number of snapshots, at least 1 (or None), not {checkpoints!r}")
    return checkpoints


SCHEDULES = ("uniform", "revolve")


def checked_schedule(schedule: object) -> str:
    """`schedule=` as given: one of `SCHEDULES`; else a SignatureError."""
    if not isinstance(schedule, str) or schedule not in SCHEDULES:
        raise SignatureError(f"schedule takes one of {', '.join(map(repr, SCHEDULES))}, not {schedule!r}")
    return schedule


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
    parsed: ParsedFunction,
    wrt: Wrt,
    *,
    with_value: bool,
    verbose: bool,
    kind: str,
    has_aux: bool,
    table: Mapping[str, Rule],
    arg_types: Mapping[str, ir.Type] | None = None,
    frame: Callable[[ir.Function, ir.Function], codegen.Frame] | None = None,
    backend: str = "python",
    progress: Callable[[str], None] | None = None,
    checkpoints: int | None = None,
    narrow: frozenset[str] = frozenset(),
    schedule: str = "uniform",
) -> Built:
    """Run the pipeline on one function.

    `kind` is what to derive: "grad" (reverse mode; `with_value` adds the
    value, `has_aux` passes auxiliary outputs through), "vjp" (reverse mode
    seeded with the outputs' adjoints), "jvp" (forward mode) or "hvp" (forward
    mode over the gradient: Hessian-vector products).
    """
    show = _printer(verbose, progress)
    primal, created = lower.lowered(parsed, table, arg_types)
    rules = {**table, **created} if created else table  # this build's table: with the rules of custom derivatives
    show("lowered", primal)
    names, single = resolve_wrt(primal, wrt, parsed)
    if kind == "grad":
        _check_scalar(parsed, primal, has_aux)
        derived = ad.gradient(
            primal,
            names,
            with_value=with_value,
            bare=single,
            aux=has_aux,
            rules=rules,
            checkpoints=checkpoints,
            schedule=schedule,
        )
    elif kind == "vjp":
        _check_numbers(parsed, primal)
        derived = ad.gradient(
            primal,
            names,
            with_value=True,
            seeded=True,
            name=f"{primal.name}_vjp",
            rules=rules,
            checkpoints=checkpoints,
            schedule=schedule,
        )
    elif kind == "jvp":
        _check_numbers(parsed, primal)
        derived = ad.tangent(primal, names, rules)
    elif kind == "hvp":
        _check_scalar(parsed, primal, False)
        gradient = optimize.optimize(ad.gradient(primal, names, rules=rules), rules)
        show("gradient", gradient)
        derived = ad.tangent(gradient, names, rules, name=f"{primal.name}_hvp")
    else:
        raise ValueError(f"unknown derivative kind {kind!r}")
    show("reverse" if kind in ("grad", "vjp") else "forward", derived)
    derived = optimize.narrow_gradients(optimize.optimize(derived, rules), narrow)
    show("optimized", derived)
    packed = packing(derived, names) if kind in ("jvp", "hvp") else None
    framed = frame(primal, derived) if frame is not None else None
    dialect = codegen.backend(backend)
    dialect.refuse(derived, rules, framed)
    generated = codegen.generate(derived, rules, packed=packed, frame=framed, dialect=dialect)
    if progress is not None:
        progress("generated")
    if verbose:
        print(f"--- generated code for {parsed.name} (wrt {', '.join(names)}) ---\n{generated.source}", file=sys.stderr)
    return Built(
        primal, derived, generated, names, with_value, rules, single, backend=backend, checkpoints=checkpoints, schedule=schedule
    )


def _build_structured(
    parsed: ParsedFunction,
    wrt: Wrt,
    structures: Mapping[str, Node],
    *,
    kind: str,
    arg_types: Mapping[str, ir.Type] | None,
    with_value: bool,
    has_aux: bool,
    **request: Any,
) -> Built:
    """The pipeline on a function some of whose parameters arrive as structures: lowered with a parameter per
    leaf it reads (`lower.flatten`), printed taking the structures and returning gradients shaped like them
    (`codegen.structured_frame`)."""
    if kind not in ("grad", "vjp", "jvp"):
        raise parsed.source.error(
            UnsupportedError,
            f"'{parsed.name}' takes a structured parameter ('{next(iter(structures))}'); grad, value_and_grad, jvp and "
            "vjp are supported for those, not yet jacobian and hessian",
            parsed.node,
            "pass the numbers it holds as parameters of their own for jacobian and hessian",
        )
    node = parsed.node.args
    params = [a.arg for a in (*node.posonlyargs, *node.args, *node.kwonlyargs)]
    chosen, single = _wrt_names(params, parsed.name, wrt, parsed)
    flat = lower.flatten(parsed, structures)
    flattened = tuple(n for name in chosen for n in flat.names_of(name))
    if not flattened:  # the function reads nothing of the structures asked for: one leaf, read or not, for the zeros
        first = next(((name, found[0][0]) for name in chosen if (found := structures_leaves(structures[name]))), None)
        if first is None:
            raise parsed.source.error(
                SignatureError, f"'{chosen[0]}' holds no numbers: there is nothing to differentiate", parsed.node
            )
        flat = lower.flatten(parsed, structures, keep=(first,))
        flattened = tuple(n for name in chosen for n in flat.names_of(name))
    types = dict(arg_types or {})
    node = flat.parsed.node.args
    inferred = dict(
        zip(
            [a.arg for a in (*node.posonlyargs, *node.args, *node.kwonlyargs)],
            lower.param_types(flat.parsed.node, flat.parsed.resolve),
        )
    )
    for leaf in flat.leaves:
        if leaf.spec.kind == "array":
            kind_of = {"f": ir.FLOAT, "b": ir.BOOL}.get(leaf.spec.dtype, ir.INT)
            types[leaf.name] = array_type(leaf.name, leaf.spec.shape, kind_of)
        elif leaf.spec.kind == "list" and ir.list_depth(inferred[leaf.name]) != leaf.spec.depth:  # the argument says
            made: ir.Type = ir.FLOAT
            for _ in range(leaf.spec.depth):
                made = ir.ListOf(made)
            types[leaf.name] = made

    def frame(primal: ir.Function, derived: ir.Function) -> codegen.Frame:
        if kind == "jvp":
            return codegen.forward_frame(flat, primal, derived, chosen)
        seeds = derived.params[len(primal.params) :]  # a pullback's output adjoints
        return codegen.structured_frame(
            flat, primal, chosen, single, with_value=with_value or kind == "vjp", aux=has_aux, seeds=seeds
        )

    built = _build(
        flat.parsed, flattened, kind=kind, arg_types=types, with_value=with_value, has_aux=has_aux, frame=frame, **request
    )
    return dataclasses.replace(built, flat=flat)


def compiled(parsed: ParsedFunction, built: Built, data: Mapping[str, object] | None = None) -> Callable[..., Any]:
    """The generated function of `built`, compiled and registered so that `inspect.getsource`, the
    debugger and tracebacks show its lines.

    Its module namespace holds the data it reads by name (`data`, else what
    `parsed` resolves the names to) and the functions custom derivatives call.
    A method's data is read as `self.ws`: the namespace then holds a `self`
    whose attributes are the values the build read.
    """
    dialect = codegen.backend(built.backend)
    dialect.require()
    namespace: dict[str, object] = {}
    for name in built.generated.globals:
        if data is not None and name in data:
            value = data[name]
        else:
            found = parsed.resolve(name)
            if not isinstance(found, Data):
                continue
            value = found.value
        base, dot, attribute = name.partition(".")
        if dot:
            holder = namespace.setdefault(base, types.SimpleNamespace())
            setattr(holder, attribute, value)
        else:
            namespace[name] = value
    for rule in built.rules.values():
        namespace.update(rule.callables)  # the functions custom derivatives call
    with collector_paused():
        function = codegen.compile_generated(built.generated, dialect.data(namespace), label=f"{parsed.qualname or parsed.name}")
    function = dialect.wrapped(function, built.derived)  # numba's: the njit function, called with lists as arrays
    assert callable(function)  # compile_generated gives the generated function
    function.__s2s_ad__ = built  # type: ignore[attr-defined]  # a function's own attribute: what was built
    return function


def array_type(name: str, shape: Sequence[int], elem: ir.Scalar, named: Mapping[int, str] | None = None) -> ir.ArrayOf:
    """The type a parameter's array is generated for: each size 1 as 1, any other named after the parameter
    (`W.shape[0]`), so that the code is right for every size but 1; with `named`, a size takes the name given
    to that size (equal sizes, one name)."""
    return ir.ArrayOf(
        elem,
        tuple(1 if size == 1 else (named or {}).get(size, f"{name}.shape[{k}]") for k, size in enumerate(shape)),
    )


def argument_types(
    parsed: ParsedFunction, args: Sequence[object], kwargs: Mapping[str, object], equal_sizes: bool = False
) -> dict[str, ir.Type]:
    """The types of the NumPy arrays among a call's arguments, by parameter name: the element kind and
    the shape, each size 1 where the argument's is 1 and otherwise named after the parameter
    (`W.shape[0]`), so that code generated for them is right for every size but 1.

    With `equal_sizes` (a build for calls with these arguments' `call_key` only), sizes that are equal share one
    name, that of the first axis with that size: `X @ w + b` then meets `y` of the same length, a
    broadcast that cannot fail, so an unread `y * z` cannot raise and need not run."""
    node = parsed.node.args
    names = [a.arg for a in (*node.posonlyargs, *node.args, *node.kwonlyargs)]
    found: dict[str, ir.Type] = {}
    named: dict[int, str] = {}
    for name, value in [*zip(names, args), *kwargs.items()]:
        if not _is_ndarray(value):  # a structure holding arrays: see `frontend.structures_of`
            continue
        array: Any = value
        kind = {"f": ir.FLOAT, "i": ir.INT, "u": ir.INT, "b": ir.BOOL}.get(array.dtype.kind)
        if kind is None:
            raise parsed.source.error(
                UnsupportedError, f"'{name}' is an array of {array.dtype}, which cannot be differentiated", parsed.node
            )
        shape = array.shape
        found[name] = array_type(name, shape, kind, named if equal_sizes else None)
        for k, size in enumerate(shape):
            named.setdefault(size, f"{name}.shape[{k}]")
    return found


def narrow_floats(parsed: ParsedFunction, args: Sequence[object], kwargs: Mapping[str, object]) -> frozenset[str]:
    """The parameters passed arrays of floats narrower than float64 (float32, float16): NumPy may widen
    what they meet to float64, and their gradients are cast back (`optimize.narrow_gradients`)."""
    node = parsed.node.args
    names = [a.arg for a in (*node.posonlyargs, *node.args, *node.kwonlyargs)]
    return frozenset(
        name
        for name, value in [*zip(names, args), *kwargs.items()]
        if _is_ndarray(value) and value.dtype.kind == "f" and value.dtype.itemsize < 8  # type: ignore[attr-defined]
    )


def _is_ndarray(value: object) -> bool:
    """A NumPy array (told without importing NumPy: only a program that made one has it loaded)."""
    return type(value).__name__ == "ndarray" and type(value).__module__ == "numpy"


_NUMBERS = frozenset((float, int, bool))


def call_key(args: Sequence[object], kwargs: Mapping[str, object]) -> tuple[object, ...]:
    """What a gradient specialised for a call depends on: each array argument's dtype and number of
    axes, which of all their sizes are 1 and which are equal (for each size, -1 for a 1, else the position
    of the first size equal to it: `argument_types(equal_sizes=True)`); any other argument's type (its
    structure: `frontend.structure_key`). It runs on every call, in one pass, so it tells kinds by type."""
    key: list[object] = []
    sizes: list[int] = []
    values = [*args, *kwargs.values()] if kwargs else args
    for value in values:
        kind = type(value)
        seen = _SEEN.get(kind)
        if seen is None:
            seen = _SEEN[kind] = "number" if kind in _NUMBERS else "array" if _is_ndarray(value) else "other"
        if seen == "number":
            key.append(kind)
        elif seen == "array":
            shape = value.shape  # type: ignore[attr-defined]
            key += value.dtype.char, len(shape)  # type: ignore[attr-defined]
            sizes += shape
        else:
            key.append(structure_key(value) if is_structure(value) else kind)
    if kwargs:  # after a marker no argument's description is: the names cannot pass for a dtype
        key.append(_KEYWORDS)
        key += kwargs
    if sizes:  # each size as the position of the first equal one; then which position holds the sizes 1
        key += map(sizes.index, sizes)
        key.append(sizes.index(1) if 1 in sizes else -1)
    return tuple(key)


_KEYWORDS = object()
_SEEN: dict[type, str] = {}  # an explicit cache: a type's kind for `call_key` ("number", "array" or "other")


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
    if isinstance(returns, tuple) or _is_list(primal, returns) or _is_array(primal, returns):
        raise parsed.source.error(
            NotScalarError,
            "gradient is only defined for scalar-output functions",
            _last_return(parsed),
            "return a single number (or use jacobian/vjp)",
        )


def _check_numbers(parsed: ParsedFunction, primal: ir.Function) -> None:
    for operand in ir.return_operands(primal.returns):
        if _is_list(primal, operand):
            raise parsed.source.error(
                NotScalarError,
                "the outputs must be numbers (a number or a tuple of them)",
                _last_return(parsed),
                "return a tuple of numbers: return (a, b)",
            )


def _last_return(parsed: ParsedFunction) -> ast.AST:
    returns = [n for n in ast.walk(parsed.node) if isinstance(n, ast.Return)]
    return returns[-1] if returns else parsed.node


# The stages `progress` hears of, in order (a Hessian's "gradient" comes between the first two).
STAGES = ("lowered", "reverse", "forward", "optimized", "generated")


def _printer(verbose: bool, progress: Callable[[str], None] | None = None) -> Callable[[str, ir.Function], None]:
    """What runs after each stage: the IR printed with `verbose`, and `progress` told the stage's name."""
    printing = verbose or bool(os.environ.get("S2S_AD_VERBOSE"))

    def show(stage: str, function: ir.Function) -> None:
        if printing:
            print(f"--- after {stage} ---\n{ir.format_function(function)}", file=sys.stderr)
        if progress is not None:
            progress(stage)

    return show


def _is_array(function: ir.Function, operand: ir.Returns) -> bool:
    return isinstance(operand, ir.Var) and isinstance(ir.types_of(function).get(operand.name), ir.ArrayOf)


def _is_list(function: ir.Function, operand: ir.Returns) -> bool:
    if isinstance(operand, ir.Global):
        return True
    if isinstance(operand, ir.Var):
        return isinstance(ir.types_of(function).get(operand.name), ir.ListOf)
    return False


def resolve_wrt(function: ir.Function, wrt: Wrt, parsed: ParsedFunction) -> tuple[tuple[str, ...], bool]:
    """Parameter names to differentiate with respect to, and whether the caller wants a bare gradient.

    `None` means every parameter but those that are data (`self` of a method
    read off its class), bare if that leaves one; naming one of those is an
    error.
    """
    return _wrt_names([p.name for p in function.params], function.name, wrt, parsed)


def _wrt_names(params: Sequence[str], fname: str, wrt: Wrt, parsed: ParsedFunction) -> tuple[tuple[str, ...], bool]:
    """`resolve_wrt` over the parameter names `params` of the function `fname`."""
    if wrt is None:
        chosen = tuple(name for name in params if name not in parsed.data_params)
        return chosen, len(chosen) == 1

    def refuse(message: str, hint: str | None = None) -> S2SError:
        return parsed.source.error(SignatureError, message, parsed.node, hint)

    single = isinstance(wrt, (str, int)) and not isinstance(wrt, bool)
    items: list[object]
    if isinstance(wrt, (str, int)) and not isinstance(wrt, bool):
        items = [wrt]
    elif isinstance(wrt, (tuple, list)):
        items = list(wrt)
    else:
        raise refuse(f"wrt takes a parameter name or index, or a tuple of them, not {wrt!r}")
    if not items:
        raise refuse("wrt is empty: name at least one parameter")
    names = []
    for item in items:
        if isinstance(item, bool) or not isinstance(item, (str, int)):
            raise refuse(f"wrt takes parameter names or indices, not {item!r}")
        if isinstance(item, int):
            if not -len(params) <= item < len(params):
                raise parsed.source.error(SignatureError, f"wrt={item}: '{fname}' has {len(params)} parameter(s)", parsed.node)
            names.append(params[item])
        elif item not in params:
            raise parsed.source.error(
                SignatureError,
                f"wrt={item!r}: '{fname}' has no parameter '{item}'",
                parsed.node,
                "parameters are: " + ", ".join(params),
            )
        else:
            names.append(item)
    if len(set(names)) != len(names):
        raise refuse(f"wrt names a parameter twice: {tuple(items)!r}")
    for name in names:
        if name in parsed.data_params:
            raise refuse(
                f"'{name}' is the object the method is called on: it is data, not differentiated",
                "name the number parameters with wrt= (or argnums=)",
            )
    return tuple(names), single
