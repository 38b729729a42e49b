"""The numba backend: generated code that `numba.njit` compiles as it is, and the wrapper that calls it.

What changes from plain Python is chosen here, and only here (`Numba`, the
printer's dialect):

- loops run backwards over `range(n - 1, -1, -1)` (the general reversed
  `range(a, b, k)`), not `reversed(range(...))`, which numba cannot compile;
- a counted loop records numbers into NumPy arrays allocated at loop entry
  (`x_tape = np.empty(1000)`), and lists or arrays into lists typed by a
  placeholder item (the rules' `numba` spellings, `rules/numba.py`);
- every other record goes on a tape of its own per slot (`_tape0`,
  `_tape1`, ...), since a numba list holds one type of item;
- the gradient (and each helper) is decorated with `@numba.njit`.

`refuse` says at transform time what numba cannot compile, naming the line
and what to write instead: primitives the rules mark (`numba_refused`),
structured parameters, custom derivatives that call Python functions.
`jitted` wraps the compiled dispatcher: list arguments become NumPy arrays
(numba cannot take lists of lists, and reflected lists are deprecated), and a
type numba cannot compile the code for, at the first call with it, becomes a
`BackendError` naming the user's line, before any generated code runs.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from .. import ir
from ..errors import BackendError
from ..ir import Assign, Const, Effect, Function
from ..rules import Rule
from .dialect import Dialect
from .frame import Frame

INSTALL = 'backend="numba" needs numba: pip install "s2s_ad[numba]"'


class Numba(Dialect):
    """The spellings that `numba.njit` compiles (see the module's docstring)."""

    name = "numba"
    imports = ("import numba",)
    decorator = "@numba.njit"
    releases = False  # numba frees what it compiled itself, and compiles no `del` of an array it typed

    def backwards_over(self, items: str) -> str | None:
        return None  # numba compiles loops over a range best; its records are arrays read by index

    def loop(self, start: str, stop: str, step: str, step_value: int | None, limit: str | None, reverse: bool) -> str:
        if limit is not None:  # the first `limit` items of range(start, stop, step): a nearer stop
            assert step_value is not None  # `refuse` refused the rest
            nearer = "min" if step_value > 0 else "max"
            reach = limit if (start, step) == ("0", "1") else f"{_atom(start)} + {_atom(limit)} * {_atom(step)}"
            stop = f"{nearer}({stop}, {reach})"
        if not reverse:
            return super().loop(start, stop, step, step_value, None, False)
        a, b = _atom(start), _atom(stop)
        if step_value is None:  # the last item a + (b - a - 1) // k * k for k > 0, a + (b - a + 1) // k * k for k < 0
            k = _atom(step)
            return f"range({a} + ({b} - {a} - (1 if {k} > 0 else -1)) // {k} * {k}, {a} - {k}, -{k})"
        if step_value == 1:
            return f"range({b} - 1, -1, -1)" if start == "0" else f"range({b} - 1, {a} - 1, -1)"
        if step_value > 0:  # the last item a + (b - a - 1) // k * k, down to a
            k = str(step_value)
            return f"range({a} + ({b} - {a} - 1) // {k} * {k}, {a} - {k}, -{k})"
        m = str(-step_value)
        return f"range({a} - ({a} - {b} - 1) // {m} * {m}, {a} + {m}, {m})"

    def tapes(self, slots: Sequence[int]) -> list[str]:
        return [f"{_tape(slot)} = []" for slot in slots]

    def push(self, slot: int, values: str) -> str:
        return f"{_tape(slot)}.append({values})"

    def pop(self, slot: int, targets: str) -> str:
        return f"{targets} = {_tape(slot)}.pop()"

    def refuse(self, function: Function, rules: Mapping[str, Rule], frame: Frame | None) -> None:
        refuse(function, rules, frame)

    def require(self) -> None:
        require()

    def data(self, namespace: Mapping[str, object]) -> dict[str, object]:
        return data(namespace)

    def wrapped(self, compiled: Any, function: Function) -> Any:
        return jitted(compiled, function)

    def spelled(self, rule: Rule, texts: Callable[[], tuple[str, ...]], stmt: Assign | Effect, numpy: str) -> str | None:
        return rule.numba(texts(), stmt, numpy) if rule.numba is not None else None


NUMBA = Numba()


def _tape(slot: int) -> str:
    return f"_tape{slot}"


def _atom(text: str) -> str:
    """`text` parenthesized unless it is a name, a number or a call (so that `- 1` after it is right)."""
    return text if re.fullmatch(r"[\w.]+(\([^()]*\))?", text) else f"({text})"


def require() -> None:
    """Raise `BackendError` saying what to install, unless numba can be imported."""
    try:
        import numba  # noqa: F401
    except ImportError:
        raise BackendError(INSTALL, hint='pip install "s2s_ad[numba]" (numba and NumPy)') from None


def refuse(function: Function, rules: Mapping[str, Rule], frame: Frame | None) -> None:
    """Raise `BackendError` at the first construct of `function` numba cannot compile, saying why and
    what to write instead."""
    if frame is not None:
        raise _error(
            function,
            function.loc,
            f"the numba backend takes numbers, lists and arrays as parameters; '{function.name}' is given a structure "
            "(a dict, tuple, NamedTuple or dataclass)",
            "pass the numbers, lists and arrays it holds as parameters of their own",
        )
    for stmt in ir.walk(function.body):
        if isinstance(stmt, (Assign, Effect)):
            rule = rules[stmt.op]
            if rule.numba_refused:
                hint = "write it with what numba compiles, or use the default backend"
                raise _error(function, stmt.loc, rule.numba_refused, hint)
            calls = [name for name, called in rule.callables if not hasattr(called, "py_func")]
            if calls:
                raise _error(
                    function,
                    stmt.loc,
                    f"numba cannot call the Python function '{calls[0]}' (a custom derivative)",
                    f"decorate '{calls[0]}' with @numba.njit, or use the default backend",
                )
        elif isinstance(stmt, ir.For) and (stmt.limit is not None) and not isinstance(stmt.step, Const):
            raise _error(
                function,
                stmt.loc,
                "the numba backend zips a range with a shorter sequence only where the range's step is a number",
                "write the step as a number: range(a, b, 2)",
            )


def _error(function: Function, loc: ir.Loc, message: str, hint: str) -> BackendError:
    return BackendError(
        message,
        filename=loc.file,
        lineno=loc.line,
        col_offset=loc.col,
        source_line=function.source_line(loc),
        hint=hint,
    )


def data(namespace: Mapping[str, object]) -> dict[str, object]:
    """The generated module's data as numba reads it: lists as NumPy arrays (numba reads module-level
    arrays as constants; it cannot read lists)."""
    return {name: _as_array(value) for name, value in namespace.items()}


def jitted(dispatcher: Any, function: Function) -> Callable[..., Any]:
    """What `grad(..., backend="numba")` returns: the njit `dispatcher`, called with list arguments as NumPy
    arrays (of the element kind the parameter is typed with: converting to a known dtype is the faster);
    a type numba cannot compile it for becomes a `BackendError` at the line it names."""
    from numba.core.errors import NumbaError

    kinds = tuple(_leaf_kind(p.type) for p in function.params)
    by_name = {p.name: kind for p, kind in zip(function.params, kinds)}

    @functools.wraps(dispatcher.py_func)
    def call(*args: Any, **kwargs: Any) -> Any:
        arrays = (*(_as_array(a, kind) for a, kind in zip(args, kinds)), *map(_as_array, args[len(kinds) :]))
        named = {name: _as_array(value, by_name.get(name)) for name, value in kwargs.items()}
        try:
            return dispatcher(*arrays, **named)
        except NumbaError as error:  # raised while compiling, before the generated code runs
            raise _compile_error(function, dispatcher, error) from None

    call.__wrapped__ = dispatcher.py_func  # type: ignore[attr-defined]  # inspect.getsource shows the generated code
    call.dispatcher = dispatcher  # type: ignore[attr-defined]  # the numba function itself: its signatures, compile times
    return call


def _leaf_kind(type_: ir.Type) -> str | None:
    """The kind of number a list parameter holds ("float", "int", "bool"), however deep; None for others."""
    if not isinstance(type_, ir.ListOf):
        return None
    while isinstance(type_, ir.ListOf):
        type_ = type_.elem
    return type_.kind if isinstance(type_, ir.Scalar) else None


_NUMPY_TYPES = {"float": "float64", "int": "int64", "bool": "bool_"}


def _as_array(value: object, kind: str | None = None) -> object:
    """A list (of lists) as a NumPy array (of `kind`, where the parameter's type says), a tuple of them as a
    tuple (`f_jvp(primals, tangents)`); anything else as it is."""
    if isinstance(value, tuple):
        return tuple(_as_array(v) for v in value)
    if not isinstance(value, list):
        return value
    import numpy

    try:
        return numpy.array(value, dtype=getattr(numpy, _NUMPY_TYPES[kind]) if kind is not None else None)
    except (ValueError, TypeError):
        raise TypeError(
            "the numba backend takes lists of numbers, or lists of lists of one length each (it passes them as arrays)"
        ) from None


def _compile_error(function: Function, dispatcher: Any, error: Exception) -> BackendError:
    """numba's compile error as a `BackendError` at the user's line (the `# line N:` comment above the generated
    line numba names), saying which generated statement numba could not compile and why."""
    import linecache
    import os

    text = re.sub(r"\x1b\[[0-9;]*m", "", str(error))
    filename = dispatcher.py_func.__code__.co_filename
    generated = linecache.getlines(filename)
    places = [
        int(n)
        for path, n in re.findall(r'File "([^"]+)", line (\d+)', text)
        if os.path.basename(path) == os.path.basename(filename)
    ]
    loc, statement = function.loc, ""
    if places and 1 <= places[-1] <= len(generated):
        statement = f" `{generated[places[-1] - 1].strip()}`"
        for line in reversed(generated[: places[-1]]):
            comment = re.match(r"\s*# line (\d+):", line)
            if comment:
                loc = ir.Loc(function.loc.file, int(comment.group(1)))
                break
    return _error(
        function,
        loc,
        f"numba cannot compile{statement or ' the generated code'} of '{function.name}' for these arguments: {_reason(text)}",
        "use the default backend for this function, or write this line with what numba compiles (numbers, arrays, "
        "lists of one type)",
    )


_REASONS = (
    "Unknown attribute",
    "Use of unsupported",
    "Untyped global name",
    "Cannot unify",
    "Invalid use of",
    "No implementation",
)


def _reason(text: str) -> str:
    """The line of numba's message that says why: the specific error it raised, else the first that names one."""
    specific = re.findall(r"TypingError: (.+)", text)
    if specific:
        return specific[-1].strip()
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return next((line for line in lines if line.startswith(_REASONS)), lines[1] if len(lines) > 1 else text.strip())
