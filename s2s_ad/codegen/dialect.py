"""The few spellings a backend chooses: how a loop runs backwards, how the tape is kept, how a function is
decorated. `Dialect` is plain Python, the default; `codegen.numba` has the numba backend's.

The printer asks its dialect at those few places and nowhere else, so a
backend is one class here, not tests of a backend's name through the printer.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ..ir import Assign, Effect, Function
from ..rules import Rule
from .frame import Frame


class Dialect:
    """Plain Python: `reversed(range(...))`, one tape (a list used as a stack), no decorator."""

    name = "python"
    imports: tuple[str, ...] = ()  # modules the generated code imports for the backend itself
    decorator: str | None = None  # the line before each `def` (the gradient's and the helpers')
    releases = True  # `del` arrays after their last use (`codegen.releases`); a compiled function frees its own

    def loop(self, start: str, stop: str, step: str, step_value: int | None, limit: str | None, reverse: bool) -> str:
        """What a `for` runs over: `range(start, stop, step)`, its first `limit` items, backwards with `reverse`.
        The operands are printed texts ("0" and "1" where they are the defaults); `step_value` is the step
        where it is a constant."""
        bounds = [start, stop, step]
        if step == "1":
            bounds.pop()
            if start == "0":
                bounds.pop(0)
        iterable = f"range({', '.join(bounds)})"
        if limit is not None:
            iterable += f"[:{limit}]"
        return f"reversed({iterable})" if reverse else iterable

    def backwards_over(self, items: str) -> str | None:
        """What a loop runs over to take a list's items last to first (None: this backend loops by index)."""
        return f"reversed({items})"

    def tapes(self, slots: Sequence[int]) -> list[str]:
        """The lines that start the tape, for the slots the function pushes (in their order)."""
        return ["_tape = []"] if slots else []

    def push(self, slot: int, values: str) -> str:
        return f"_tape.append({values})"

    def pop(self, slot: int, targets: str) -> str:
        return f"{targets} = _tape.pop()"

    def spelled(self, rule: Rule, texts: Callable[[], tuple[str, ...]], stmt: Assign | Effect, numpy: str) -> str | None:
        """A primitive's spelling where this backend has its own (None: the rule's Python spelling); `texts` prints
        the operands."""
        return None

    def refuse(self, function: Function, rules: Mapping[str, Rule], frame: Frame | None) -> None:
        """Raise an `S2SError` at the first construct of `function` this backend cannot run (plain Python runs all)."""

    def require(self) -> None:
        """Raise an `S2SError` saying what to install, unless the backend can run here."""

    def data(self, namespace: Mapping[str, object]) -> dict[str, object]:
        """The generated module's data, as the backend reads it."""
        return dict(namespace)

    def wrapped(self, compiled: Any, function: Function) -> Any:
        """What the caller gets for the compiled generated `function`: here, that function itself."""
        return compiled


PYTHON = Dialect()
