"""The IR's nodes: types, operands, statements and functions, as small frozen dataclasses.

A `Function` is a block of statements. Every name is assigned once (SSA); each
`Assign` applies one primitive to names or constants. Control flow stays
structured: an `If` has two blocks and merges the names they define, a loop
has a body and carries names from one iteration to the next.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Union


@dataclass(frozen=True, slots=True)
class Scalar:
    kind: str  # "float", "int" or "bool"

    def __str__(self) -> str:
        return self.kind

    # Compared and hashed at nearly every statement of every stage: written out, cheaper than the generated pair.
    def __eq__(self, other: object) -> bool:
        return other.__class__ is Scalar and self.kind == other.kind  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash(self.kind)


@dataclass(frozen=True, slots=True)
class ListOf:
    elem: Type

    def __str__(self) -> str:
        return f"list[{self.elem}]"


Dim = int | str  # a size known when the code is generated, or a symbolic one ("n", "W.shape[0]")


@dataclass(frozen=True, slots=True)
class ArrayOf:
    """An array of `elem` (a `Scalar`) and `shape`: one size per axis; `()` is a 0-d array.

    Nothing lowers to arrays yet: the type is here so that array operations
    are new rules and new IR values, not a new IR."""

    elem: Scalar
    shape: tuple[Dim, ...]

    @property
    def ndim(self) -> int:
        return len(self.shape)

    def __str__(self) -> str:
        return f"array[{self.elem}, ({', '.join(map(str, self.shape))}{',' if len(self.shape) == 1 else ''})]"


Type = Union[Scalar, ListOf, ArrayOf]


FLOAT = Scalar("float")


INT = Scalar("int")


BOOL = Scalar("bool")


def carries_derivative(type_: Type | None) -> bool:
    """A float, a list (of floats, at some depth) or an array of floats: what adjoints and tangents are for."""
    return type_ == FLOAT or isinstance(type_, ListOf) or (isinstance(type_, ArrayOf) and type_.elem == FLOAT)


def list_depth(type_: Type) -> int:
    depth = 0
    while isinstance(type_, ListOf):
        depth, type_ = depth + 1, type_.elem
    return depth


@dataclass(frozen=True, slots=True)
class Var:
    name: str

    def __str__(self) -> str:
        return self.name

    # Compared and hashed at nearly every statement of every stage: written out, cheaper than the generated pair.
    def __eq__(self, other: object) -> bool:
        return other.__class__ is Var and self.name == other.name  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash(self.name)


@dataclass(frozen=True, slots=True)
class Const:
    value: float | int | bool

    def __str__(self) -> str:
        return repr(self.value)


@dataclass(frozen=True, slots=True)
class Global:
    """A module-level data value (a list of numbers) that generated code reads by name."""

    name: str
    type: Type

    def __str__(self) -> str:
        return self.name


Operand = Union[Var, Const, Global]


def independent(partial: Operand) -> bool:
    """A rule's partial written as the int 0: the result does not depend on that operand (it only
    chooses, as `x` and `y` in `gate(x, y, g)`), so it passes nothing back, not even `g * 0`."""
    return isinstance(partial, Const) and type(partial.value) is int and partial.value == 0


def identity(operand: Operand) -> object:
    """What tells operands apart: `Const(2) == Const(2.0)` and `Const(0.0) == Const(-0.0)` are equal as
    dataclasses, but not as values a program computes with."""
    if isinstance(operand, Const):
        return Const, type(operand.value), repr(operand.value)
    return operand


def const_type(value: object) -> Scalar:
    if isinstance(value, bool):
        return BOOL
    return INT if isinstance(value, int) else FLOAT


@dataclass(frozen=True, slots=True)
class Loc:
    """Where a statement comes from: a line of a source file (and a column, for error messages)."""

    file: str
    line: int
    col: int | None = field(default=None, compare=False)


@dataclass(frozen=True, slots=True)
class Assign:
    """`target = op(*args)`: one primitive (or structural list operation)."""

    target: str
    op: str
    args: tuple[Operand, ...]
    type: Type
    loc: Loc


@dataclass(frozen=True, slots=True)
class Effect:
    """A statement evaluated for its effect: a list mutation (`append`, `setitem`, `accum_item`,
    `discard_pop`), or `raise`, the function's own check of its input, whose exception `text` is
    printed as the source wrote it (`ValueError('x must be positive')`)."""

    op: str
    args: tuple[Operand, ...]
    loc: Loc
    text: str | None = None


@dataclass(frozen=True, slots=True)
class Push:
    """Record values on the tape (a list used as a stack) for the reverse sweep."""

    values: tuple[Operand, ...]
    loc: Loc
    slot: int = 0  # the same number as the `Pop` that takes them back


@dataclass(frozen=True, slots=True)
class Pop:
    """Take back the values of the matching `Push`, in the same order."""

    targets: tuple[str, ...]
    types: tuple[Type, ...]
    loc: Loc
    slot: int = 0


@dataclass(frozen=True, slots=True)
class Note:
    """A comment in the generated code (`# reverse sweep`)."""

    text: str


@dataclass(frozen=True, slots=True)
class Merge:
    """`target` is `then` if the branch was taken, else `orelse` (an SSA phi)."""

    target: str
    type: Type
    then: Operand
    orelse: Operand


@dataclass(frozen=True, slots=True)
class If:
    cond: Operand
    then: Block
    orelse: Block
    merges: tuple[Merge, ...]
    loc: Loc


@dataclass(frozen=True, slots=True)
class Carry:
    """A value carried around a loop: `header` holds it at the start of each iteration,
    `update` (computed by the body) at the end, `result` after the loop."""

    header: str
    type: Type
    init: Operand
    update: Operand
    result: str
    loc: Loc | None = field(default=None, compare=False)  # where the body assigns it
    init_loc: Loc | None = field(default=None, compare=False)  # where it got its value before the loop (`z = b`)


@dataclass(frozen=True, slots=True)
class For:
    """`for index in range(start, stop, step)`, or reversed, or the first `limit` of them reversed.

    `until`, computed by the body, ends the loop after the current iteration (from `break`).
    """

    index: str
    start: Operand
    stop: Operand
    step: Operand
    carried: tuple[Carry, ...]
    body: Block
    until: Operand | None
    loc: Loc
    reverse: bool = False
    limit: Operand | None = None


@dataclass(frozen=True, slots=True)
class While:
    """`while cond`, where the `test` block computes `cond` from the carried headers."""

    carried: tuple[Carry, ...]
    test: Block
    cond: Operand
    body: Block
    until: Operand | None
    loc: Loc


Stmt = Union[Assign, Effect, Push, Pop, Note, If, For, While]


Block = tuple[Stmt, ...]


Returns = Union[Operand, tuple["Returns", ...]]


@dataclass(frozen=True, slots=True)
class Param:
    name: str
    type: Type
    default: Const | None = None  # `def f(x, n=1000)`: the generated function takes the same default
    keyword_only: bool = False  # after `*` in the source: the generated function takes it by name only too


@dataclass(frozen=True, slots=True)
class Function:
    name: str
    params: tuple[Param, ...]
    body: Block
    returns: Returns
    loc: Loc
    sources: tuple[tuple[str, tuple[str, ...]], ...] = ()  # (file, its lines) for comments
    exact: tuple[str, ...] = ()  # returned values that must be bit-for-bit what the source computes
    gradient: tuple[int, ...] | None = None  # where in `returns` a gradient sits (a path of tuple positions)
    wrt: tuple[str, ...] = ()  # the parameters whose gradients sit there, in order (one, returned bare, or a tuple)
    # Values computed although nothing may read them: computing them may raise where the function raises
    # (`t = math.log(x - 10.0)` with `t` unused), and its derivatives raise there too (optimize's dead code).
    checks: tuple[str, ...] = ()

    def source_line(self, loc: Loc) -> str | None:
        for file, lines in self.sources:
            if file == loc.file and 1 <= loc.line <= len(lines):
                return lines[loc.line - 1]
        return None
