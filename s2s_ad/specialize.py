"""Derivatives of functions on NumPy arrays, generated at the first call for the shapes of the arrays given
(and of functions taking structured parameters, for the structures given: `frontend.structures`).

What the code for an array needs to know is how many axes it has, which of
its sizes are 1 and which sizes are equal (`pipeline.argument_types`,
`call_key`: a broadcast between equal sizes cannot fail, so what the
gradient does not read need not run to raise where f would); every other size
is named, so one generated function serves every batch size. Each function here builds the
request once per such key and keeps what it built: `grad` and
`value_and_grad` (`gradient`), `jvp` (`tangents`), `vjp` (`pullbacks`),
`jacobian` (`jacobians`, one pullback per element of the output), `hessian`
(`second`, assembled from one Hessian-vector product per element). `inspect.getsource`
shows the code of the last call (`__wrapped__`). With `check`, each new build
is cross-checked at the arguments of the call that made it (`check.arrays`).

A dict, tuple, NamedTuple or dataclass argument is described the same way
(`pipeline.call_key`: its keys, classes and leaves), and its gradient
is built for that structure: the generated code takes the structure and
returns a gradient shaped like it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from .errors import CheckError, UnsupportedError
from .frontend import ParsedFunction, structures_of, uses_arrays
from .pipeline import Built, Wrt, argument_types, build, call_key, compiled, narrow_floats


class _Builds:
    """What one request built, by the key of the arguments it was built for."""

    def __init__(
        self,
        parsed: ParsedFunction,
        wrt: Wrt,
        data: Mapping[str, object] | None,
        check: Callable[..., Any] | None,
        **request: Any,
    ) -> None:
        self.parsed, self.wrt, self.data, self.check, self.request = parsed, wrt, data, check, request
        self.arrays = uses_arrays(parsed)  # else built here for its structures only: its arrays are typed as before
        self.built: dict[tuple[object, ...], tuple[Built, Callable[..., Any]]] = {}
        self.shown: tuple[Built, Callable[..., Any]] | None = None

    def get(
        self, owner: Callable[..., Any], args: Sequence[object], kwargs: Mapping[str, object]
    ) -> tuple[Built, Callable[..., Any]]:
        """What was built for calls like this one (built now if none was); it runs on every call."""
        key = call_key(args, kwargs)
        found = self.built.get(key)
        if found is None:
            types = argument_types(self.parsed, args, kwargs, equal_sizes=True) if self.arrays else {}
            structures = structures_of(self.parsed, args, kwargs)
            narrow = narrow_floats(self.parsed, args, kwargs) if self.arrays else frozenset()
            made = build(self.parsed, self.wrt, arg_types=types, structures=structures, narrow=narrow, **self.request)
            if self.check is not None:
                self.cross_check(self.check, args)
            found = self.built[key] = (made, compiled(self.parsed, made, self.data))
        if found is not self.shown:  # what inspect.getsource shows: the code of this call
            owner.__wrapped__ = found[1]  # type: ignore[attr-defined]
            owner.__s2s_ad__ = found[0]  # type: ignore[attr-defined]
            self.shown = found
        return found

    def cross_check(self, function: Callable[..., Any], args: Sequence[object]) -> None:
        from .check import check

        report = check(function, self.wrt, args=tuple(args))
        if not report.ok:
            raise self.parsed.source.error(
                CheckError,
                f"the generated gradient of '{self.parsed.name}' does not pass the cross-check:\n{report}",
                self.parsed.node,
                "this is a bug in s2s_ad; please report it",
            )


def gradient(
    parsed: ParsedFunction, wrt: Wrt, data: Mapping[str, object] | None, check: Callable[..., Any] | None, **request: Any
) -> Callable[..., Any]:
    """`grad` and `value_and_grad` of a function on arrays; with `check` (the user's function), each build is
    cross-checked at the call's arguments."""
    builds = _Builds(parsed, wrt, data, check, **request)

    def derived(*args: Any, **kwargs: Any) -> Any:
        return builds.get(derived, args, kwargs)[1](*args, **kwargs)

    return _named(derived, parsed, "value_and_grad" if request.get("with_value") else "grad")


def tangents(parsed: ParsedFunction, wrt: Wrt, data: Mapping[str, object] | None, backend: str = "python") -> Callable[..., Any]:
    """`jvp(f)(primals, tangents)` of a function on arrays: `(f(*primals), directional derivative)`."""
    builds = _Builds(parsed, wrt, data, None, kind="jvp", backend=backend)

    def derived(primals: Sequence[Any], tangents: Sequence[Any]) -> Any:
        return builds.get(derived, tuple(primals), {})[1](tuple(primals), tuple(tangents))

    return _named(derived, parsed, "jvp")


def second(
    parsed: ParsedFunction, wrt: Wrt, data: Mapping[str, object] | None, bare: bool, backend: str = "python"
) -> Callable[..., Any]:
    """`hessian(f)(*args)` of a function on arrays: the block of parameters i and j has the shape of i's
    argument then j's (an array's Hessian in itself is `x.shape + x.shape`), from one Hessian-vector product
    per element of each parameter."""
    import numpy

    builds = _Builds(parsed, wrt, data, None, kind="hvp", backend=backend)

    def derived(*args: Any) -> Any:
        made, products = builds.get(derived, args, {})
        names = [p.name for p in made.primal.params]
        shapes = [numpy.shape(args[names.index(name)]) for name in made.wrt]
        rows: list[list[Any]] = [[] for _ in made.wrt]
        for j, shape in enumerate(shapes):
            columns = []
            for k in range(int(numpy.prod(shape, dtype=int))):
                basis = [numpy.zeros(s) if s else 0.0 for s in shapes]
                if shape:
                    basis[j].flat[k] = 1.0  # type: ignore[union-attr]
                else:
                    basis[j] = 1.0
                columns.append(products(tuple(args), tuple(basis))[1])
            for i, shape_i in enumerate(shapes):
                block = numpy.stack([numpy.asarray(c[i], dtype=float) for c in columns], axis=-1)
                rows[i].append(block.reshape(shape_i + shape))
        if bare:
            return rows[0][0]
        return tuple(tuple(row) for row in rows)

    return _named(derived, parsed, "hessian")


def pullbacks(
    parsed: ParsedFunction, target: Callable[..., Any], wrt: Wrt, data: Mapping[str, object] | None
) -> Callable[..., Any]:
    """`vjp(f)(*args)` of a function on arrays: `(f(*args), pullback)`, `pullback(out_bar)` the adjoints of the
    `wrt` parameters for an output adjoint `out_bar` shaped like the output."""
    builds = _Builds(parsed, wrt, data, None, kind="vjp")

    def derived(*args: Any) -> Any:
        made, function = builds.get(derived, args, {})
        outputs = made.primal.returns
        count = len(outputs) if isinstance(outputs, tuple) else None  # a function returning a tuple: one adjoint each

        def pullback(out_bar: Any) -> Any:
            if count is None:
                return function(*args, out_bar)[1]
            if not isinstance(out_bar, (tuple, list)) or len(out_bar) != count:
                raise TypeError(f"the pullback of {parsed.name} takes one adjoint per output: a tuple of {count}")
            return function(*args, *out_bar)[1]

        return target(*args), pullback

    return _named(derived, parsed, "vjp")


def jacobians(
    parsed: ParsedFunction,
    target: Callable[..., Any],
    wrt: Wrt,
    data: Mapping[str, object] | None,
    bare: bool,
    backend: str = "python",
) -> Callable[..., Any]:
    """`jacobian(f)(*args)` of a function on arrays, by reverse mode (one pullback per element of the output):
    d output / d parameter shaped `output.shape + parameter.shape`, as JAX's; one per `wrt` parameter (the
    array itself for one parameter named)."""
    import numpy

    builds = _Builds(parsed, wrt, data, None, kind="vjp", backend=backend)

    def derived(*args: Any) -> Any:
        made, function = builds.get(derived, args, {})
        if made.flat is not None:
            raise parsed.source.error(
                UnsupportedError,
                f"'{parsed.name}' takes a structured parameter: grad, value_and_grad, jvp and vjp are supported for those, "
                "not yet jacobian and hessian",
                parsed.node,
                "pass the numbers it holds as parameters of their own for jacobian and hessian",
            )
        shape = numpy.shape(target(*args))
        rows = []
        for k in range(int(numpy.prod(shape, dtype=int))):
            seed: Any = 1.0
            if shape:
                seed = numpy.zeros(shape)
                seed.flat[k] = 1.0
            found = function(*args, seed)[1]
            rows.append(found if isinstance(found, tuple) else (found,))
        blocks = tuple(
            numpy.stack([numpy.asarray(row[j], dtype=float) for row in rows]).reshape(shape + numpy.shape(rows[0][j]))
            for j in range(len(rows[0]))
        )
        return blocks[0] if bare else blocks

    return _named(derived, parsed, "jacobian")


def _named(derived: Callable[..., Any], parsed: ParsedFunction, what: str) -> Callable[..., Any]:
    derived.__name__ = derived.__qualname__ = f"{parsed.name}_{what}"
    derived.__doc__ = (
        f"The {what} of {parsed.name}, generated for the shapes of the arrays (and the structures) it is called "
        "with (inspect.getsource shows the code generated last)."
    )
    return derived


def on_arrays(
    parsed: ParsedFunction,
    target: Callable[..., Any],
    wrt: Wrt,
    request: tuple[Any, ...],
    check: bool,
    verbose: bool,
    data: Mapping[str, object],
) -> Callable[..., Any]:
    """What `api` returns for `target`, a function on NumPy arrays; the derivatives not written for arrays
    yet are refused, saying so."""
    kind, with_value, has_aux, finish, backend, checkpointing = request
    checkpoints, schedule = checkpointing or (None, "uniform")
    if kind == "grad" and finish is None:
        checked = target if check else None
        return gradient(
            parsed,
            wrt,
            data,
            checked,
            with_value=with_value,
            has_aux=has_aux,
            verbose=verbose,
            backend=backend,
            checkpoints=checkpoints,
            schedule=schedule,
        )
    if kind == "jvp" and finish == "jvp":
        return tangents(parsed, wrt, data, backend)
    if kind == "vjp" and finish == "vjp":
        return pullbacks(parsed, target, wrt, data)
    if finish in ("jacobian:auto", "jacobian:rev", "jacobian:fwd", "jacfwd", "jacrev"):
        if isinstance(wrt, (str, int)) and not isinstance(wrt, bool):
            return jacobians(parsed, target, (wrt,), data, True, backend)
        return jacobians(parsed, target, wrt, data, False, backend)
    if kind == "hvp" and finish == "hessian":
        if isinstance(wrt, (str, int)) and not isinstance(wrt, bool):
            return second(parsed, (wrt,), data, True, backend)
        return second(parsed, wrt, data, False, backend)
    raise parsed.source.error(
        UnsupportedError,
        "this derivative of a function using NumPy is not supported yet",
        parsed.node,
        "grad, value_and_grad, jvp, vjp, jacobian and hessian work on NumPy functions",
    )
