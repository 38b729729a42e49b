"""The intermediate representation: SSA primitive assignments, structured control flow.

A `Function` is a block of statements. Every name is assigned once (SSA); each
`Assign` applies one primitive to names or constants. Control flow stays
structured: an `If` has two blocks and merges the names they define, a loop
has a body and carries names from one iteration to the next.

Names are strings. A source variable keeps its name (`x`); re-assignments get
versions (`x.1`, `x.2`), temporaries are `_t1`, `_t2`, adjoints `x_bar`,
tangents `x_dot`. The part before the last `.` is the name's *family*: code
generation prints each family under one Python name where lifetimes allow.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Union

# -- types -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Scalar:
    kind: str  # "float", "int" or "bool"

    def __str__(self) -> str:
        return self.kind


@dataclass(frozen=True, slots=True)
class ListOf:
    elem: Type

    def __str__(self) -> str:
        return f"list[{self.elem}]"


Type = Union[Scalar, ListOf]
FLOAT = Scalar("float")
INT = Scalar("int")
BOOL = Scalar("bool")


def list_depth(type_: Type) -> int:
    depth = 0
    while isinstance(type_, ListOf):
        depth, type_ = depth + 1, type_.elem
    return depth


# -- operands ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Var:
    name: str

    def __str__(self) -> str:
        return self.name


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


# -- statements --------------------------------------------------------------


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
    """A list mutation evaluated for its effect: `append`, `setitem`, `accum_item`, `discard_pop`."""

    op: str
    args: tuple[Operand, ...]
    loc: Loc


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

    def source_line(self, loc: Loc) -> str | None:
        for file, lines in self.sources:
            if file == loc.file and 1 <= loc.line <= len(lines):
                return lines[loc.line - 1]
        return None


# -- walking -----------------------------------------------------------------


def blocks_of(stmt: Stmt) -> tuple[Block, ...]:
    if isinstance(stmt, If):
        return (stmt.then, stmt.orelse)
    if isinstance(stmt, For):
        return (stmt.body,)
    if isinstance(stmt, While):
        return (stmt.test, stmt.body)
    return ()


_COMPOUND = (If, For, While)


def walk(block: Block) -> Iterator[Stmt]:
    """Every statement, nested ones included, in program order."""
    for stmt in block:
        yield stmt
        if isinstance(stmt, _COMPOUND):
            for inner in blocks_of(stmt):
                yield from walk(inner)


def defs(stmt: Stmt) -> tuple[str, ...]:
    """Names a statement itself defines (not those of its nested blocks)."""
    if isinstance(stmt, Assign):
        return (stmt.target,)
    if isinstance(stmt, Pop):
        return stmt.targets
    if isinstance(stmt, If):
        return tuple(m.target for m in stmt.merges)
    if isinstance(stmt, For):
        return (stmt.index, *(c.header for c in stmt.carried), *(c.result for c in stmt.carried))
    if isinstance(stmt, While):
        return (*(c.header for c in stmt.carried), *(c.result for c in stmt.carried))
    return ()


def operands(stmt: Stmt) -> tuple[Operand, ...]:
    """Operands a statement itself reads (not those of its nested blocks)."""
    if isinstance(stmt, (Assign, Effect)):
        return stmt.args
    if isinstance(stmt, Push):
        return stmt.values
    if isinstance(stmt, If):
        return (stmt.cond, *(m.then for m in stmt.merges), *(m.orelse for m in stmt.merges))
    if isinstance(stmt, For):
        bounds = (stmt.start, stmt.stop, stmt.step) + ((stmt.limit,) if stmt.limit else ())
        tail = (stmt.until,) if stmt.until else ()
        return (*bounds, *(c.init for c in stmt.carried), *(c.update for c in stmt.carried), *tail)
    if isinstance(stmt, While):
        tail = (stmt.until,) if stmt.until else ()
        return (stmt.cond, *(c.init for c in stmt.carried), *(c.update for c in stmt.carried), *tail)
    return ()


def used_names(stmt: Stmt) -> list[str]:
    return [operand.name for operand in operands(stmt) if type(operand) is Var]


def return_operands(returns: Returns) -> Iterator[Operand]:
    if isinstance(returns, tuple):
        for item in returns:
            yield from return_operands(item)
    else:
        yield returns


def use_counts(function: Function, returned: int = 1) -> dict[str, int]:
    """How many times each name is read, a name the function returns counting `returned` times."""
    uses: dict[str, int] = {}
    for stmt in walk(function.body):
        for name in used_names(stmt):
            uses[name] = uses.get(name, 0) + 1
    for operand in return_operands(function.returns):
        if isinstance(operand, Var):
            uses[operand.name] = uses.get(operand.name, 0) + returned
    return uses


def all_names(function: Function) -> set[str]:
    names = {p.name for p in function.params}
    for stmt in walk(function.body):
        names.update(defs(stmt))
    return names


def substitute(operand: Operand, mapping: Mapping[str, Operand]) -> Operand:
    if type(operand) is Var:
        return mapping.get(operand.name, operand)
    return operand


def rename(block: Block, mapping: Mapping[str, Operand]) -> Block:
    """The block with every use of a name in `mapping` replaced (definitions are kept)."""
    if not mapping:
        return block
    return tuple(rename_statement(stmt, mapping) for stmt in block)


def rename_statement(stmt: Stmt, mapping: Mapping[str, Operand]) -> Stmt:
    """One statement with its uses renamed (its nested blocks too)."""

    def sub(operand: Operand) -> Operand:
        return substitute(operand, mapping)

    def subs(operands: tuple[Operand, ...]) -> tuple[Operand, ...]:
        return tuple(sub(o) for o in operands)

    def carries(carried: tuple[Carry, ...]) -> tuple[Carry, ...]:
        return tuple(Carry(c.header, c.type, sub(c.init), sub(c.update), c.result) for c in carried)

    if isinstance(stmt, Assign):
        for a in stmt.args:
            if type(a) is Var and a.name in mapping:
                return Assign(stmt.target, stmt.op, subs(stmt.args), stmt.type, stmt.loc)
        return stmt
    if isinstance(stmt, Effect):
        return Effect(stmt.op, subs(stmt.args), stmt.loc)
    if isinstance(stmt, Push):
        return Push(subs(stmt.values), stmt.loc, stmt.slot)
    if isinstance(stmt, If):
        merges = tuple(Merge(m.target, m.type, sub(m.then), sub(m.orelse)) for m in stmt.merges)
        return If(sub(stmt.cond), rename(stmt.then, mapping), rename(stmt.orelse, mapping), merges, stmt.loc)
    if isinstance(stmt, For):
        return For(
            stmt.index,
            sub(stmt.start),
            sub(stmt.stop),
            sub(stmt.step),
            carries(stmt.carried),
            rename(stmt.body, mapping),
            sub(stmt.until) if stmt.until else None,
            stmt.loc,
            stmt.reverse,
            sub(stmt.limit) if stmt.limit else None,
        )
    if isinstance(stmt, While):
        return While(
            carries(stmt.carried),
            rename(stmt.test, mapping),
            sub(stmt.cond),
            rename(stmt.body, mapping),
            sub(stmt.until) if stmt.until else None,
            stmt.loc,
        )
    return stmt


def renamed_copy(block: Block, fresh: Callable[[str], str]) -> tuple[Block, dict[str, Operand]]:
    """A copy of `block` in which every name it defines, nested ones too, is a new one (`fresh(old)`),
    and its reads follow; with the renaming."""
    mapping: dict[str, Operand] = {name: Var(fresh(name)) for stmt in walk(block) for name in defs(stmt)}
    new = {old: var.name for old, var in mapping.items()}  # type: ignore[union-attr]
    return tuple(_redefine(rename_statement(stmt, mapping), new) for stmt in block), mapping


def _redefine(stmt: Stmt, new: Mapping[str, str]) -> Stmt:
    """The statement with the names it defines (in nested blocks too) renamed; its reads are left alone."""

    def name(old: str) -> str:
        return new.get(old, old)

    def carries(carried: tuple[Carry, ...]) -> tuple[Carry, ...]:
        return tuple(Carry(name(c.header), c.type, c.init, c.update, name(c.result), c.loc) for c in carried)

    def block(statements: Block) -> Block:
        return tuple(_redefine(s, new) for s in statements)

    if isinstance(stmt, Assign):
        return Assign(name(stmt.target), stmt.op, stmt.args, stmt.type, stmt.loc)
    if isinstance(stmt, Pop):
        return Pop(tuple(name(t) for t in stmt.targets), stmt.types, stmt.loc, stmt.slot)
    if isinstance(stmt, If):
        merges = tuple(Merge(name(m.target), m.type, m.then, m.orelse) for m in stmt.merges)
        return If(stmt.cond, block(stmt.then), block(stmt.orelse), merges, stmt.loc)
    if isinstance(stmt, For):
        return For(
            name(stmt.index),
            stmt.start,
            stmt.stop,
            stmt.step,
            carries(stmt.carried),
            block(stmt.body),
            stmt.until,
            stmt.loc,
            stmt.reverse,
            stmt.limit,
        )
    if isinstance(stmt, While):
        return While(carries(stmt.carried), block(stmt.test), stmt.cond, block(stmt.body), stmt.until, stmt.loc)
    return stmt


def without_pushes(block: Block) -> Block:
    """The block with every `Push`, nested ones too, left out."""
    return tuple(with_blocks(s, without_pushes) for s in block if not isinstance(s, Push))


def with_blocks(stmt: Stmt, transform: Callable[[Block], Block]) -> Stmt:
    """The statement with each of its nested blocks replaced by `transform(block)`."""
    if isinstance(stmt, If):
        return If(stmt.cond, transform(stmt.then), transform(stmt.orelse), stmt.merges, stmt.loc)
    if isinstance(stmt, For):
        return For(
            stmt.index,
            stmt.start,
            stmt.stop,
            stmt.step,
            stmt.carried,
            transform(stmt.body),
            stmt.until,
            stmt.loc,
            stmt.reverse,
            stmt.limit,
        )
    if isinstance(stmt, While):
        return While(stmt.carried, transform(stmt.test), stmt.cond, transform(stmt.body), stmt.until, stmt.loc)
    return stmt


def free_names(block: Block) -> set[str]:
    """Names a block reads but does not define."""
    used: set[str] = set()
    defined: set[str] = set()
    for stmt in walk(block):
        used.update(used_names(stmt))
        defined.update(defs(stmt))
    return used - defined


def types_of(function: Function) -> dict[str, Type]:
    """The type of every name a function defines."""
    types = {p.name: p.type for p in function.params}
    for stmt in walk(function.body):
        if isinstance(stmt, Assign):
            types[stmt.target] = stmt.type
        elif isinstance(stmt, Pop):
            types.update(zip(stmt.targets, stmt.types))
        elif isinstance(stmt, If):
            types.update((m.target, m.type) for m in stmt.merges)
        elif isinstance(stmt, (For, While)):
            for c in stmt.carried:
                types[c.header] = types[c.result] = c.type
            if isinstance(stmt, For):
                types[stmt.index] = INT
    return types


def dependencies(function: Function, rules: Mapping[str, object], types: Mapping[str, Type]) -> list[tuple[str, str]]:
    """Edges (a, b): b's value depends differentiably on a. Lists are objects: both directions."""
    edges: list[tuple[str, str]] = []
    pushed: dict[int, tuple[Operand, ...]] = {}

    def flow(source: Operand, target: str, both: bool = False) -> None:
        if isinstance(source, Var):
            edges.append((source.name, target))
            if both:
                edges.append((target, source.name))

    for stmt in walk(function.body):
        if isinstance(stmt, Assign):
            rule: Any = rules[stmt.op]
            is_list = isinstance(stmt.type, ListOf)
            if rule.structural:
                if stmt.op in ("index", "sum", "list_max", "list_min", "pop"):
                    flow(stmt.args[0], stmt.target, both=is_list)
                elif stmt.op in ("list", "repeat"):
                    for arg in stmt.args[:1] if stmt.op == "repeat" else stmt.args:
                        flow(arg, stmt.target, both=isinstance(types.get(getattr(arg, "name", "")), ListOf))
            elif rule.partials is not None and (stmt.type == FLOAT or is_list):
                for arg in stmt.args:
                    flow(arg, stmt.target, both=is_list)
        elif isinstance(stmt, Effect) and stmt.op in ("append", "setitem", "accum_item"):
            list_name = stmt.args[0]
            if isinstance(list_name, Var):
                flow(stmt.args[-1], list_name.name)
        elif isinstance(stmt, Push):
            pushed[stmt.slot] = stmt.values
        elif isinstance(stmt, Pop):
            for value, target in zip(pushed.get(stmt.slot, ()), stmt.targets):
                flow(value, target)
        elif isinstance(stmt, If):
            for m in stmt.merges:
                if m.type == FLOAT or isinstance(m.type, ListOf):
                    flow(m.then, m.target, isinstance(m.type, ListOf))
                    flow(m.orelse, m.target, isinstance(m.type, ListOf))
        elif isinstance(stmt, (For, While)):
            for c in stmt.carried:
                if c.type == FLOAT or isinstance(c.type, ListOf):
                    both = isinstance(c.type, ListOf)
                    flow(c.init, c.header, both)
                    flow(c.update, c.header, both)
                    flow(Var(c.header), c.result, both)
                    flow(c.update, c.result, both)
    return edges


def sources(function: Function) -> dict[str, list[str]]:
    """For each name the forward computation defines, the names its value is computed from directly
    (through merges and loops too): `reach(names, sources(f))` is everything `names` are computed from."""
    edges: dict[str, list[str]] = {}
    for stmt in walk(function.body):
        if isinstance(stmt, Assign):
            edges[stmt.target] = list(used_names(stmt))
        elif isinstance(stmt, If):
            for m in stmt.merges:
                edges[m.target] = [o.name for o in (m.then, m.orelse, stmt.cond) if isinstance(o, Var)]
        elif isinstance(stmt, (For, While)):
            for c in stmt.carried:
                edges[c.result] = edges[c.header] = [o.name for o in (c.init, c.update) if isinstance(o, Var)]
    return edges


def aliases(function: Function, names: set[str]) -> set[str]:
    """`names` and every list that may be the same object as one of them (copies, merges, carries)."""
    links: dict[str, list[str]] = {}
    for stmt in walk(function.body):
        pairs: list[tuple[Operand, str]] = []
        if isinstance(stmt, Assign) and stmt.op == "copy":
            pairs = [(stmt.args[0], stmt.target)]
        elif isinstance(stmt, If):
            pairs = [(m.then, m.target) for m in stmt.merges] + [(m.orelse, m.target) for m in stmt.merges]
        elif isinstance(stmt, (For, While)):
            for c in stmt.carried:
                pairs += [(c.init, c.header), (c.update, c.header), (Var(c.header), c.result)]
        for a, b in pairs:
            if isinstance(a, Var):
                links.setdefault(a.name, []).append(b)
                links.setdefault(b, []).append(a.name)
    return reach(names, links)


def maybe_int(function: Function, rules: Mapping[str, Any]) -> set[str]:
    """Names typed float that may hold an int when the function runs.

    A parameter's type comes from how the body uses it, so a parameter typed
    float may be passed an int (`f(5, 3.0)`), and so may every value computed
    from such parameters and int constants by operations that keep ints
    (`n // 2`, `x * y`), and an element read from a list parameter or data.
    A gradient is a float, always: these are the values it must convert.
    """

    def maybe(operand: Operand) -> bool:
        if isinstance(operand, Const):
            return not isinstance(operand.value, float)
        if isinstance(operand, Global):
            return True
        return operand.name in found or types.get(operand.name) in (INT, BOOL)

    types = types_of(function)
    found = {p.name for p in function.params if p.type == FLOAT or isinstance(p.type, ListOf)}
    pushed: dict[int, tuple[Operand, ...]] = {}
    size = -1
    while size != len(found):
        size = len(found)
        for stmt in walk(function.body):
            marked: list[str] = []
            if isinstance(stmt, Assign) and (stmt.type == FLOAT or isinstance(stmt.type, ListOf)):
                rule = rules[stmt.op]
                if rule.structural or stmt.type != FLOAT:
                    if stmt.args and isinstance(stmt.args[0], (Var, Global)) and maybe(stmt.args[0]):
                        marked.append(stmt.target)
                elif rule.result == "promote" and all(maybe(a) for a in stmt.args):
                    marked.append(stmt.target)
            elif isinstance(stmt, Push):
                pushed[stmt.slot] = stmt.values
            elif isinstance(stmt, Pop):
                marked += [t for v, t in zip(pushed.get(stmt.slot, ()), stmt.targets) if maybe(v)]
            elif isinstance(stmt, If):
                marked += [m.target for m in stmt.merges if maybe(m.then) or maybe(m.orelse)]
            elif isinstance(stmt, (For, While)):
                for c in stmt.carried:
                    if maybe(c.init) or maybe(c.update):
                        marked += [c.header, c.result]
            found.update(marked)
    return found


def reach(start: set[str], edges: Mapping[str, list[str]]) -> set[str]:
    """Every name reachable from `start` along `edges`."""
    seen = set(start)
    stack = list(start)
    while stack:
        for nxt in edges.get(stack.pop(), ()):
            if nxt not in seen:
                seen.add(nxt)
                stack.append(nxt)
    return seen


def needed_only(statements: list[Stmt], needed: list[Operand]) -> list[Stmt]:
    """The statements that compute `needed`: a rule writes every partial, a transform keeps the wanted ones."""
    live = {o.name for o in needed if isinstance(o, Var)}
    kept: list[Stmt] = []
    for stmt in reversed(statements):
        if isinstance(stmt, Assign) and stmt.target in live:
            kept.append(stmt)
            live.update(a.name for a in stmt.args if isinstance(a, Var))
    kept.reverse()
    return kept


# -- names -------------------------------------------------------------------

_VERSION = re.compile(r"^(.*)\.(\d+)$")


def family(name: str) -> str:
    """`x.2` -> `x`; a name without a version is its own family."""
    if "." not in name:
        return name
    match = _VERSION.match(name)
    return match.group(1) if match else name


_TEMP = re.compile(r"^_t\d+$")


def is_temp(name: str) -> bool:
    """A temporary of the lowering or a transform, as opposed to a named value."""
    return bool(_TEMP.match(name))


class Namer:
    """Hands out names that are new in one function.

    `reserved` names (the user's source names) may only be taken as the first
    version of their own family: a temporary or an adjoint never takes them.
    """

    def __init__(self, issued: Iterable[str] = (), reserved: Iterable[str] = ()) -> None:
        self.issued = set(issued)
        self.reserved = set(reserved) | self.issued
        self.next_version: dict[str, int] = {}
        self.next_temp = 1

    def fresh(self, base: str) -> str:
        """A new version of the family `base` (`x`, then `x.1`, `x.2`, ...)."""
        base = family(base)
        if base not in self.issued:
            return self._issue(base)
        n = self.next_version.get(base, 1)
        while f"{base}.{n}" in self.issued:
            n += 1
        self.next_version[base] = n + 1
        return self._issue(f"{base}.{n}")

    def new_family(self, base: str) -> str:
        """A family name that no source name or other family uses: `x_bar`, else `x_bar_1`, ..."""
        candidate, n = base.replace(".", "_"), 1
        while candidate in self.reserved or candidate in self.issued:
            candidate, n = f"{base.replace('.', '_')}_{n}", n + 1
        self.reserved.add(candidate)
        return candidate

    def temp(self) -> str:
        while f"_t{self.next_temp}" in self.reserved:
            self.next_temp += 1
        return self._issue(f"_t{self.next_temp}")

    def snapshot(self) -> tuple[set[str], set[str], dict[str, int], int]:
        return set(self.issued), set(self.reserved), dict(self.next_version), self.next_temp

    def restore(self, state: tuple[set[str], set[str], dict[str, int], int]) -> None:
        issued, reserved, versions, temp = state
        self.issued, self.reserved, self.next_version, self.next_temp = set(issued), set(reserved), dict(versions), temp

    def _issue(self, name: str) -> str:
        self.issued.add(name)
        self.reserved.add(name)
        return name


# -- building statements -----------------------------------------------------


class Emitter:
    """Appends primitive assignments to a list, folding constants and exact identities.

    `expr(operand)` wraps an operand so that the rule table's derivative
    formulas, written with Python operators and `m.<primitive>(...)`, emit IR.
    """

    def __init__(self, rules: Mapping[str, object], namer: Namer, out: list[Stmt], loc: Loc, types: dict[str, Type]) -> None:
        self.rules = rules
        self.namer = namer
        self.out = out
        self.loc = loc
        self.types = types

    def type_of(self, operand: Operand) -> Type:
        if isinstance(operand, Const):
            return const_type(operand.value)
        if isinstance(operand, Global):
            return operand.type
        return self.types.get(operand.name, FLOAT)

    def op(self, op: str, *args: Operand, name: str | None = None, type_: Type | None = None) -> Operand:
        folded = fold(self.rules, op, args, self.type_of)
        if folded is not None:
            return folded
        rule: Any = self.rules[op]
        if rule.expand is not None and any(type(a) is Const for a in args):
            formula = rule.expand(self.m, *(a.value if type(a) is Const else Expr(self, a) for a in args))  # type: ignore[union-attr]
            if formula is not None:
                return operand_of(formula)
        if type_ is not None:
            result_type = type_
        elif rule.result == "float" or (
            rule.result == "promote"
            and any(  # type: ignore[attr-defined]
                type(a) is Var and self.types.get(a.name, FLOAT) == FLOAT for a in args
            )
        ):
            result_type = FLOAT
        else:
            result_type = rule.result_type(tuple(self.type_of(a) for a in args))  # type: ignore[attr-defined]
        target = self.namer.fresh(name) if name else self.namer.temp()
        self.types[target] = result_type
        self.out.append(Assign(target, op, tuple(args), result_type, self.loc))
        return Var(target)

    def expr(self, operand: Operand) -> Expr:
        return Expr(self, operand)

    @property
    def m(self) -> _Namespace:
        return _Namespace(self)


def fold(
    rules: Mapping[str, object], op: str, args: tuple[Operand, ...], type_of: Callable[[Operand], Type] | None = None
) -> Operand | None:
    """The operand an operation reduces to without computing anything, if any.

    Only exact rewrites: constants are evaluated as Python would (unless that
    raises), and `x*1`, `1*x`, `x/1`, `x-0`, `x**1`, `--x` are `x`. Never
    `0*x` (wrong for inf and nan) nor `x+0.0` (wrong for -0.0).
    """
    for a in args:  # every rewrite below needs a constant
        if type(a) is Const:
            break
    else:
        return None
    rule = rules[op]
    if rule.structural or not rule.foldable:  # type: ignore[attr-defined]
        return None
    if all(type(a) is Const for a in args):
        if rule.pure:  # type: ignore[attr-defined]
            try:
                value = rule.evaluate(*(a.value for a in args))  # type: ignore[union-attr, attr-defined]
            except (ArithmeticError, ValueError, TypeError):
                return None
            if isinstance(value, (int, float)) and not isinstance(value, complex):
                return Const(value)
        return None

    def keeps_type(kept: Operand, const: Operand) -> bool:
        """`1.0 * n` is a float even when `n` is an int: only then is it not `n`."""
        assert isinstance(const, Const)
        return not isinstance(const.value, float) or (type_of is not None and type_of(kept) == FLOAT)

    if op == "mul":
        left, right = args
        if _is(right, 1) and keeps_type(left, right):
            return left
        if _is(left, 1) and keeps_type(right, left):
            return right
    elif op == "pow" and _is(args[1], 1) and (type(args[1].value) is int or _is_float(args[0], type_of)):  # type: ignore[union-attr]
        return args[0]  # n ** 1.0 is a float when n is an int
    elif op == "div" and _is(args[1], 1) and type_of is not None and type_of(args[0]) == FLOAT:
        return args[0]  # n / 1 is a float when n is an int
    elif op == "sub" and _is(args[1], 0) and math.copysign(1, args[1].value) > 0 and keeps_type(args[0], args[1]):  # type: ignore[union-attr]
        return args[0]  # not x - -0.0, which is x + 0.0
    elif op == "pow" and _is(args[1], 0) and type_of is not None:
        # x ** 0 is 1 for every x (nan and inf too); its type follows the operands'.
        kind = FLOAT if FLOAT in (type_of(args[0]), const_type(args[1].value)) else INT  # type: ignore[union-attr]
        return Const(1.0 if kind == FLOAT else 1)
    return None


def _is_float(operand: Operand, type_of: Callable[[Operand], Type] | None) -> bool:
    return type_of is not None and type_of(operand) == FLOAT


def _is(operand: Operand, value: float) -> bool:
    return isinstance(operand, Const) and not isinstance(operand.value, bool) and operand.value == value


class Expr:
    """An operand in the rule table's derivative formulas; operators emit IR."""

    __slots__ = ("emitter", "operand")

    def __init__(self, emitter: Emitter, operand: Operand) -> None:
        self.emitter = emitter
        self.operand = operand

    def _op(self, op: str, *others: object) -> Expr:
        args = [self.operand, *(operand_of(o) for o in others)]
        return Expr(self.emitter, self.emitter.op(op, *args))

    def _rop(self, op: str, other: object) -> Expr:
        return Expr(self.emitter, self.emitter.op(op, operand_of(other), self.operand))

    def __add__(self, other: object) -> Expr:
        return self._op("add", other)

    def __radd__(self, other: object) -> Expr:
        return self._rop("add", other)

    def __sub__(self, other: object) -> Expr:
        return self._op("sub", other)

    def __rsub__(self, other: object) -> Expr:
        return self._rop("sub", other)

    def __mul__(self, other: object) -> Expr:
        return self._op("mul", other)

    def __rmul__(self, other: object) -> Expr:
        return self._rop("mul", other)

    def __truediv__(self, other: object) -> Expr:
        return self._op("div", other)

    def __rtruediv__(self, other: object) -> Expr:
        return self._rop("div", other)

    def __floordiv__(self, other: object) -> Expr:
        return self._op("floordiv", other)

    def __pow__(self, other: object) -> Expr:
        return self._op("pow", other)

    def __rpow__(self, other: object) -> Expr:
        return self._rop("pow", other)

    def __neg__(self) -> Expr:
        return self._op("neg")


def operand_of(value: object) -> Operand:
    """The IR operand of a value in a derivative formula (an `Expr` or a Python number)."""
    if isinstance(value, Expr):
        return value.operand
    if isinstance(value, (int, float)):
        return Const(value)
    raise TypeError(f"not an IR value: {value!r}")


class _Namespace:
    """`m.sin(x)` in a derivative formula emits the primitive `sin`."""

    def __init__(self, emitter: Emitter) -> None:
        self._emitter = emitter

    def __getattr__(self, op: str) -> Callable[..., Expr]:
        emitter = self._emitter

        def emit(*args: object) -> Expr:
            return Expr(emitter, emitter.op(op, *(operand_of(a) for a in args)))

        return emit


# -- printing ----------------------------------------------------------------


def format_function(function: Function) -> str:
    """The IR as text, one statement a line; tests read it."""
    params = ", ".join(f"{p.name}: {p.type}" for p in function.params)
    lines = [f"def {function.name}({params}):"]
    _format_block(function.body, 1, lines)
    lines.append(f"  return {_format_returns(function.returns)}")
    return "\n".join(lines) + "\n"


def _format_returns(returns: Returns) -> str:
    if isinstance(returns, tuple):
        return "(" + ", ".join(_format_returns(r) for r in returns) + ")"
    return str(returns)


def _format_block(block: Block, depth: int, lines: list[str]) -> None:
    pad = "  " * depth
    if not block:
        lines.append(pad + "pass")
    for stmt in block:
        if isinstance(stmt, Assign):
            lines.append(f"{pad}{stmt.target} = {stmt.op}({', '.join(map(str, stmt.args))})")
        elif isinstance(stmt, Effect):
            lines.append(f"{pad}{stmt.op}({', '.join(map(str, stmt.args))})")
        elif isinstance(stmt, Push):
            lines.append(f"{pad}push({', '.join(map(str, stmt.values))})")
        elif isinstance(stmt, Pop):
            lines.append(f"{pad}{', '.join(stmt.targets)} = pop()")
        elif isinstance(stmt, Note):
            lines.append(f"{pad}# {stmt.text}")
        elif isinstance(stmt, If):
            lines.append(f"{pad}if {stmt.cond}:")
            _format_block(stmt.then, depth + 1, lines)
            lines.append(f"{pad}else:")
            _format_block(stmt.orelse, depth + 1, lines)
            for m in stmt.merges:
                lines.append(f"{pad}{m.target} = merge({m.then}, {m.orelse})")
        elif isinstance(stmt, (For, While)):
            carried = "; ".join(f"{c.header} = {c.init} | {c.update} -> {c.result}" for c in stmt.carried)
            if isinstance(stmt, For):
                head = f"for {stmt.index} in range({stmt.start}, {stmt.stop}, {stmt.step})"
                if stmt.reverse:
                    head += " reversed" + (f" first {stmt.limit}" if stmt.limit else "")
            else:
                head = "while"
            lines.append(f"{pad}{head} [{carried}]" + (f" until {stmt.until}" if stmt.until else "") + ":")
            if isinstance(stmt, While):
                _format_block(stmt.test, depth + 1, lines)
                lines.append(f"{pad}  test {stmt.cond}")
            _format_block(stmt.body, depth + 1, lines)
