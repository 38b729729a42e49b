"""What a function computes from what: types, dependencies, aliases of lists, values that may be ints, liveness."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from .nodes import (
    BOOL,
    FLOAT,
    INT,
    Assign,
    Block,
    Const,
    Effect,
    For,
    Function,
    Global,
    If,
    ListOf,
    Operand,
    Pop,
    Push,
    Stmt,
    Type,
    Var,
    While,
    carries_derivative,
)
from .walk import blocks_of, defs, return_operands, used_names, walk

# -- the last few answers, per analysis ---------------------------------------------------------------
#
# Passes and printers ask the same questions of the same function (its types, its names, how often each is
# read) one after another. An explicit cache of the last few functions asked about, held (so that an `id`
# is never another function's), answers again without a walk; each caller gets a copy it may change.

_REMEMBERED = 4
_answers: dict[tuple[str, int, object], tuple[Function, Any]] = {}


def _remembered(kind: str, function: Function, extra: object, compute: Callable[[], Any]) -> Any:
    key = (kind, id(function), extra)
    held = _answers.get(key)
    if held is None or held[0] is not function:
        held = _answers[key] = (function, compute())
        mine = [k for k in _answers if k[0] == kind]
        for old in mine[: max(0, len(mine) - _REMEMBERED)]:
            del _answers[old]
    return held[1].copy()


def use_counts(function: Function, returned: int = 1) -> dict[str, int]:
    """How many times each name is read, a name the function returns counting `returned` times."""
    answer: dict[str, int] = _remembered("uses", function, returned, lambda: _use_counts(function, returned))
    return answer


def _use_counts(function: Function, returned: int) -> dict[str, int]:
    uses: dict[str, int] = {}
    for stmt in walk(function.body):
        for name in used_names(stmt):
            uses[name] = uses.get(name, 0) + 1
    for operand in return_operands(function.returns):
        if isinstance(operand, Var):
            uses[operand.name] = uses.get(operand.name, 0) + returned
    return uses


def all_names(function: Function) -> set[str]:
    """Every name the function defines, its parameters included."""
    answer: set[str] = _remembered("names", function, None, lambda: _all_names(function))
    return answer


def _all_names(function: Function) -> set[str]:
    names = {p.name for p in function.params}
    for stmt in walk(function.body):
        names.update(defs(stmt))
    return names


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
    answer: dict[str, Type] = _remembered("types", function, None, lambda: _types_of(function))
    return answer


def _types_of(function: Function) -> dict[str, Type]:
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


def dependencies(function: Function, rules: Mapping[str, Any], types: Mapping[str, Type]) -> list[tuple[str, str]]:
    """Edges (a, b): b's value depends differentiably on a. Lists are objects: both directions."""
    found = _Dependencies(rules, types)
    for stmt in walk(function.body):
        found.statement(stmt)
    return found.edges


def _float_or_list(type_: Type) -> bool:
    return carries_derivative(type_)


class _Dependencies:
    """The edges found so far, and the values pushed to each tape slot (a pop's values flow from there)."""

    def __init__(self, rules: Mapping[str, Any], types: Mapping[str, Type]) -> None:
        self.rules = rules
        self.types = types
        self.edges: list[tuple[str, str]] = []
        self.pushed: dict[int, tuple[Operand, ...]] = {}

    def flow(self, source: Operand, target: str, both: bool = False) -> None:
        if isinstance(source, Var):
            self.edges.append((source.name, target))
            if both:
                self.edges.append((target, source.name))

    def statement(self, stmt: Stmt) -> None:
        if isinstance(stmt, Assign):
            self.assign(stmt)
        elif isinstance(stmt, Effect) and stmt.args and isinstance(stmt.args[0], Var):
            for i in self.rules[stmt.op].flows or ():
                self.flow(stmt.args[i], stmt.args[0].name)
        elif isinstance(stmt, Push):
            self.pushed[stmt.slot] = stmt.values
        elif isinstance(stmt, Pop):
            for value, target in zip(self.pushed.get(stmt.slot, ()), stmt.targets):
                self.flow(value, target)
        elif isinstance(stmt, If):
            for m in stmt.merges:
                if _float_or_list(m.type):
                    self.flow(m.then, m.target, isinstance(m.type, ListOf))
                    self.flow(m.orelse, m.target, isinstance(m.type, ListOf))
        elif isinstance(stmt, (For, While)):
            for c in stmt.carried:
                if _float_or_list(c.type):
                    both = isinstance(c.type, ListOf)
                    self.flow(c.init, c.header, both)
                    self.flow(c.update, c.header, both)
                    self.flow(Var(c.header), c.result, both)
                    self.flow(c.update, c.result, both)

    def assign(self, stmt: Assign) -> None:
        rule: Any = self.rules[stmt.op]
        is_list = isinstance(stmt.type, ListOf)
        if rule.structural:
            flowing = stmt.args if rule.flows is None else tuple(stmt.args[i] for i in rule.flows)
            for arg in flowing:
                self.flow(arg, stmt.target, both=is_list and isinstance(self.types.get(getattr(arg, "name", "")), ListOf))
        elif rule.partials is not None and (carries_derivative(stmt.type)):
            for arg in stmt.args:
                self.flow(arg, stmt.target, both=is_list)


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


def aliases(
    function: Function, names: set[str], rules: Mapping[str, Any], rows: bool = True, types: Mapping[str, Type] | None = None
) -> set[str]:
    """`names` and every list that may be the same object as one of them (copies, merges, carries), and
    (with `rows`) every list that holds one of them as a row, or is a row of one (a change to a row
    changes its table)."""
    return reach(names, alias_links(function, rules, rows, types)) if names else set()


def alias_links(
    function: Function, rules: Mapping[str, Any], rows: bool = True, types: Mapping[str, Type] | None = None
) -> dict[str, list[str]]:
    """What `aliases` follows: each name -> the names it may be the same list as (or a row or table of), for
    a caller that asks many times of one function to compute once."""
    links: dict[str, list[str]] = {}
    types = types_of(function) if types is None and rows else types or {}
    for stmt in walk(function.body):
        pairs: list[tuple[Operand, str]] = []
        if isinstance(stmt, Assign) and rules[stmt.op].copy:
            pairs = [(stmt.args[0], stmt.target)]
        elif rows and isinstance(stmt, Assign) and rules[stmt.op].shares and isinstance(stmt.type, ListOf):
            pairs = [(a, stmt.target) for a in stmt.args if isinstance(a, Var) and isinstance(types.get(a.name), ListOf)]
        elif rows and isinstance(stmt, Effect) and len(stmt.args) > 1 and isinstance(stmt.args[0], Var):
            rows_put = [a for a in stmt.args[1:] if isinstance(a, Var) and isinstance(types.get(a.name), ListOf)]
            pairs = [(a, stmt.args[0].name) for a in rows_put]
        elif isinstance(stmt, If):
            pairs = [(m.then, m.target) for m in stmt.merges] + [(m.orelse, m.target) for m in stmt.merges]
        elif isinstance(stmt, (For, While)):
            for c in stmt.carried:
                pairs += [(c.init, c.header), (c.update, c.header), (Var(c.header), c.result)]
        for a, b in pairs:
            if isinstance(a, Var):
                links.setdefault(a.name, []).append(b)
                links.setdefault(b, []).append(a.name)
    return links


def maybe_int(function: Function, rules: Mapping[str, Any]) -> set[str]:
    """Names typed float that may hold an int when the function runs.

    A parameter's type comes from how the body uses it, so a parameter typed
    float may be passed an int (`f(5, 3.0)`), and so may every value computed
    from such parameters and int constants by operations that keep ints
    (`n // 2`, `x * y`), and an element read from a list parameter or data.
    A gradient is a float, always: these are the values it must convert.
    """
    search = _MaybeInt(function, rules)
    # Straight-line code defines each name before it is read: one pass finds all. A branch's merges and a
    # loop's carried values are read before the statements that define them: again until nothing is new.
    again = any(isinstance(stmt, (If, For, While)) for stmt in function.body)
    size = -1
    while size != len(search.found):
        size = len(search.found)
        for stmt in walk(function.body):
            search.found.update(search.marked(stmt))
        if not again:
            break
    return search.found


class _MaybeInt:
    """The names found so far that may hold an int, and the values pushed to each tape slot."""

    def __init__(self, function: Function, rules: Mapping[str, Any]) -> None:
        self.rules = rules
        self.types = types_of(function)
        self.found = {p.name for p in function.params if _float_or_list(p.type)}
        self.pushed: dict[int, tuple[Operand, ...]] = {}

    def maybe(self, operand: Operand) -> bool:
        if isinstance(operand, Const):
            return not isinstance(operand.value, float)
        if isinstance(operand, Global):
            return True
        return operand.name in self.found or self.types.get(operand.name) in (INT, BOOL)

    def marked(self, stmt: Stmt) -> list[str]:
        """The names the statement defines that may hold an int, from what is found so far."""
        maybe = self.maybe
        if isinstance(stmt, Assign) and _float_or_list(stmt.type):
            return [stmt.target] if self.assigned(stmt) else []
        if isinstance(stmt, Effect) and stmt.args and isinstance(stmt.args[0], Var):  # `xs.append(n)`: xs holds an int
            flows = self.rules[stmt.op].flows or ()
            return [stmt.args[0].name] if any(maybe(stmt.args[i]) for i in flows if i < len(stmt.args)) else []
        if isinstance(stmt, Push):
            self.pushed[stmt.slot] = stmt.values
        elif isinstance(stmt, Pop):
            return [t for v, t in zip(self.pushed.get(stmt.slot, ()), stmt.targets) if maybe(v)]
        elif isinstance(stmt, If):
            return [m.target for m in stmt.merges if maybe(m.then) or maybe(m.orelse)]
        elif isinstance(stmt, (For, While)):
            return [name for c in stmt.carried if maybe(c.init) or maybe(c.update) for name in (c.header, c.result)]
        return []

    def assigned(self, stmt: Assign) -> bool:
        """Whether an assignment typed float (or a list) may give an int."""
        rule = self.rules[stmt.op]
        if rule.like:  # new zeros: floats
            return False
        if rule.int_when_empty and stmt.type == FLOAT:  # `sum([])` is 0, an int
            return True
        if rule.structural or stmt.type != FLOAT:
            return bool(stmt.args) and isinstance(stmt.args[0], (Var, Global)) and self.maybe(stmt.args[0])
        if any(self.maybe(stmt.args[i]) for i in rule.chooses):
            return True
        return bool(rule.result == "promote" and all(self.maybe(a) for a in stmt.args))


def may_raise(block: Block, rules: Mapping[str, Any], types: Mapping[str, Type] | None = None) -> dict[str, None]:
    """The pure assignments of `block` (nested ones too) that may raise on their operands, in order: where
    one raises the function raises, and so must what is derived from it. With `types`, NumPy's elementwise
    operations on arrays whose shapes broadcast for certain cannot raise (they warn)."""

    return {
        s.target: None
        for s in walk(block)
        if isinstance(s, Assign)
        and rules[s.op].pure
        and not rules[s.op].cannot_raise(s.args, None if types is None else operand_types(s.args, types))
    }


def operand_types(args: tuple[Operand, ...], types: Mapping[str, Type]) -> tuple[Type, ...]:
    """The types of a statement's operands: a name's from `types`, a constant's from its value."""
    return tuple(types.get(a.name, FLOAT) if isinstance(a, Var) else _constant_type(a) for a in args)


def _constant_type(operand: Operand) -> Type:
    value = getattr(operand, "value", None)
    if isinstance(value, bool):
        return BOOL
    return INT if isinstance(value, int) else FLOAT


def appended_at_index(function: Function, rules: Mapping[str, Any], links: Mapping[str, list[str]]) -> dict[Effect, str]:
    """The appends whose item lands at the index of the loop around them, each with that index.

    In `xs = []` then `for i in range(n): ... xs.append(v)`, where the loop counts from 0 by 1 and is
    never left early, and the one append, run every iteration, is the only change in the loop to `xs`
    or to any list that may be it (`links`, as `alias_links` gives them), the item iteration `i` appends
    is `xs[i]`: the reverse sweep reads it there, and its adjoint at `xs_bar[i]`, instead of popping.
    """
    found: dict[Effect, str] = {}

    def block(statements: Block) -> None:
        empty: dict[str, set[str]] = {}  # lists still empty here -> the names that may be them
        for stmt in statements:
            for inner in blocks_of(stmt):
                block(inner)
            counted = isinstance(stmt, For) and stmt.start == Const(0) and stmt.step == Const(1) and not stmt.reverse
            if isinstance(stmt, For) and counted and stmt.until is None and stmt.limit is None:
                for grow in stmt.body:
                    if isinstance(grow, Effect) and rules[grow.op].grows and isinstance(grow.args[0], Var):
                        same = empty.get(grow.args[0].name)
                        changes = [
                            s
                            for s in walk(stmt.body)
                            if isinstance(s, Effect) and s.args and isinstance(s.args[0], Var) and s.args[0].name in (same or ())
                        ]
                        if same is not None and changes == [grow]:
                            found[grow] = stmt.index
            touched = {n for s in walk((stmt,)) for n in used_names(s)}
            empty = {name: same for name, same in empty.items() if touched.isdisjoint(same)}
            if isinstance(stmt, Assign) and rules[stmt.op].literal and not stmt.args:
                empty[stmt.target] = reach({stmt.target}, links)

    block(function.body)
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
