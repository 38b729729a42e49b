"""What the frontend hands on: a `ParsedFunction`, its `Source`, and what each free name resolves to.

These are the frontend's contract with the lowering. A `ParsedFunction`'s
`resolve` answers "what is this name?" with one of the `Resolved` kinds
(the `math` module, a module of the user's, a primitive or structural
builtin, a number, a list of numbers, a helper to differentiate too, a
function with a custom derivative), or None for anything else. They live apart from the code that
finds them so that the lowering can read them without the machinery of
looking names up.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from dataclasses import dataclass, field

from ..errors import S2SError
from . import tree

# -- what a name can be ------------------------------------------------------


@dataclass(frozen=True)
class MathModule:
    """The `math` module, under whatever name it was imported."""


@dataclass(frozen=True)
class NumpyModule:
    """NumPy, or one of its submodules (`path` is "linalg" for `np.linalg`), under whatever name it was imported."""

    path: str = ""


@dataclass(frozen=True)
class UserModule:
    """A module of the user's own (not `math` nor NumPy), under whatever name it was imported: what
    `module.name` is, a helper or a number, the resolver says when asked for "module.name"."""

    name: str


@dataclass(frozen=True)
class Callee:
    """A function the lowering knows: a primitive of the rule table or a structural builtin."""

    spelling: str  # "math.sin", "abs", "len", "range", ...


@dataclass(frozen=True)
class Constant:
    value: float | int | bool


@dataclass(frozen=True)
class Data:
    """A module-level float or list of numbers, read by generated code under `name`."""

    name: str
    value: object = field(compare=False, default=None)
    # The file a list is defined in, where generated code cannot read it by `name` (a list of another module
    # read by a function of that module, when the command line reads the modules without running them).
    foreign: str | None = None


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


Resolved = MathModule | NumpyModule | UserModule | Callee | Constant | Data | Helper | Custom

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
    "list",
    "all",
    "any",
    "sorted",
    "map",
    "list",
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


# What only an array has: a user's function that reads one of these of a value works on arrays.
ARRAY_ATTRIBUTES = frozenset(
    {"T", "shape", "ndim", "size", "sum", "mean", "max", "min", "prod", "reshape", "dot", "transpose", "ravel"}
    | {"flatten", "astype", "cumsum", "squeeze", "std", "var", "copy", "argmax", "argmin", "swapaxes"}
)


def uses_arrays(parsed: ParsedFunction, seen: frozenset[str] = frozenset()) -> bool:
    """Whether the function (or a helper it calls) works on NumPy arrays: it reads NumPy, multiplies with
    `@`, indexes with a tuple (`A[i, j]`), or reads an attribute only arrays have (`x.T`,
    `x.sum()`). Its gradient then depends on the shapes
    of the arrays it is called with."""
    skipped = tree.annotation_ids(parsed.node) | {id(n) for n in tree.nodes(parsed.node.args)}
    checked = set(seen)  # names already resolved (a name read on many lines is looked up once)
    for node in tree.function_nodes(parsed.node):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.MatMult):
            return True
        if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Tuple):
            return True  # `A[i, j]`: an array's index (a slice `x[1:]` may be a list's too)
        if isinstance(node, ast.Attribute) and node.attr in ARRAY_ATTRIBUTES:
            base = node.value
            if not isinstance(base, ast.Name) or parsed.resolve(base.id) is None:
                return True
        if not isinstance(node, ast.Name) or node.id in checked:
            continue
        checked.add(node.id)
        try:
            found = parsed.resolve(node.id)
        except S2SError:  # a name the lowering refuses, pointing at it
            continue
        if isinstance(found, NumpyModule) or (isinstance(found, Callee) and found.spelling.startswith("numpy.")):
            return True
        if isinstance(found, Helper):
            try:
                inner = found.load()
            except S2SError:
                continue
            if uses_arrays(inner, seen | {node.id, parsed.name}):
                return True
    return False
