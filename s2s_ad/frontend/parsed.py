"""What the frontend hands on: a `ParsedFunction`, its `Source`, and what each free name resolves to.

These are the frontend's contract with the lowering. A `ParsedFunction`'s
`resolve` answers "what is this name?" with one of the `Resolved` kinds
(the `math` module, a primitive or structural builtin, a number, a list of
numbers, a helper to differentiate too, a function with a custom
derivative), or None for anything else. They live apart from the code that
finds them so that the lowering can read them without the machinery of
looking names up.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from dataclasses import dataclass, field

from ..errors import S2SError

# -- what a name can be ------------------------------------------------------


@dataclass(frozen=True)
class MathModule:
    """The `math` module, under whatever name it was imported."""


@dataclass(frozen=True)
class Callee:
    """A function the lowering knows: a primitive of the rule table or a structural builtin."""

    spelling: str  # "math.sin", "abs", "len", "range", ...


@dataclass(frozen=True)
class Constant:
    value: float | int | bool


@dataclass(frozen=True)
class Data:
    """A module-level list of numbers, read by generated code under `name`."""

    name: str
    value: object = field(compare=False, default=None)


@dataclass(frozen=True)
class Helper:
    """A user function that is differentiated too."""

    name: str
    load: Callable[[], ParsedFunction] = field(compare=False)


@dataclass(frozen=True)
class Custom:
    """A function with a user-supplied derivative (see `s2s_ad.custom_derivative`)."""

    name: str
    rule: object = field(compare=False)


Resolved = MathModule | Callee | Constant | Data | Helper | Custom

BUILTIN_CALLEES = (
    "abs",
    "max",
    "min",
    "float",
    "int",
    "pow",
    "round",
    "len",
    "range",
    "sum",
    "zip",
    "enumerate",
    "reversed",
    "all",
    "any",
)


@dataclass(frozen=True)
class Source:
    """The text a function came from, for error messages and `# line N:` comments."""

    filename: str
    lines: tuple[str, ...]  # the whole file (line 1 is lines[0])

    def line(self, lineno: int) -> str | None:
        return self.lines[lineno - 1] if 1 <= lineno <= len(self.lines) else None

    def error(self, cls: type[S2SError], message: str, node: ast.AST | None, hint: str | None = None) -> S2SError:
        lineno = getattr(node, "lineno", None)
        col = getattr(node, "col_offset", None)
        end_col = getattr(node, "end_col_offset", None)
        if getattr(node, "end_lineno", lineno) != lineno:
            end_col = None
        return cls(
            message,
            filename=self.filename,
            lineno=lineno,
            col_offset=col,
            end_col_offset=end_col,
            source_line=self.line(lineno) if lineno else None,
            hint=hint,
        )


@dataclass(frozen=True)
class ParsedFunction:
    name: str
    node: ast.FunctionDef
    source: Source
    resolve: Callable[[str], Resolved | None] = field(compare=False)
    qualname: str = ""
    data_params: tuple[str, ...] = ()  # parameters that are data, never differentiated (`self` of `Model.loss`)
