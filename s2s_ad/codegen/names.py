"""SSA names -> Python names: which SSA versions share one Python variable, and what it is called.

The IR assigns every name once (`x_bar`, `x_bar.1`, ...); the printed code
should read like a person's, with `x_bar += ...` and one name per loop
variable. `python_names` gets there in three steps: values an `if` merges or
a loop carries join one "web" where their lifetimes allow (otherwise the
printer copies); webs of one family share a Python name where their
lifetimes do not overlap (interval colouring); then each colour is named:
parameters keep theirs, the user's names are kept (`hidden_bar`), and
temporaries keep the IR's numbers, with their adjoints following (`_t4`,
`_t4_bar`): the IR printout, the trace and the code name one value alike
(a number missing from the code is a temporary printed inside another's
expression). Everything is ordered by program position, so
the same IR always gets the same names.
"""

from __future__ import annotations

import heapq
import re
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass

from .. import ir
from ..ir import Function, Operand, Var
from ..rules import RULES

# Names generated code relies on; no variable may take them.
RESERVED = frozenset(
    {
        "math",
        "_math",
        "abs",
        "max",
        "min",
        "len",
        "range",
        "reversed",
        "float",
        "int",
        "sum",
        "pow",
        "round",
        "_tape",
        "None",
        "True",
        "False",
    }
) | frozenset(re.findall(r"^def (\w+)", "\n".join(rule.helper for rule in RULES.values() if rule.helper), re.M))


class _Lifetimes:
    """Where each SSA name is defined and how long it must live, on one line of positions.

    Positions number the statements in program order. A name used inside a
    loop but defined before it lives to the loop's end (every iteration reads
    it). `writes` are the extra places where a copy may write a name that is
    merged by an `if` or carried by a loop.
    """

    def __init__(self, function: Function) -> None:
        self.position = 0
        self.start: dict[str, int] = {}
        self.end: dict[str, int] = {}
        self.writes: dict[str, list[int]] = {}
        self.open_loops: list[tuple[int, set[str]]] = []
        self.used: set[str] = set()
        for param in function.params:
            self.define(param.name)
        self.block(function.body)
        self.step()
        for operand in ir.return_operands(function.returns):
            self.use(operand)

    def step(self) -> int:
        self.position += 1
        return self.position

    # Positions only grow: a name's last use (or definition) so far is the one at the position at hand.
    def define(self, name: str) -> None:
        self.start.setdefault(name, self.position)
        self.end[name] = self.position

    def write(self, name: str) -> None:
        self.writes.setdefault(name, []).append(self.position)

    def use(self, operand: Operand | None) -> None:
        if isinstance(operand, Var):
            self.used.add(operand.name)
            self.end[operand.name] = self.position
            for _, used in self.open_loops:
                used.add(operand.name)

    def block(self, block: ir.Block) -> None:
        for stmt in block:
            if isinstance(stmt, ir.If):
                self.step()
                self.use(stmt.cond)
                for body, pick in ((stmt.then, lambda m: m.then), (stmt.orelse, lambda m: m.orelse)):
                    self.block(body)
                    self.step()
                    for m in stmt.merges:
                        self.use(pick(m))
                        self.write(m.target)
                self.step()
                for m in stmt.merges:
                    self.define(m.target)
            elif isinstance(stmt, (ir.For, ir.While)):
                self.loop(stmt)
            elif isinstance(stmt, ir.Assign):
                self.step()
                for operand in stmt.args:
                    self.use(operand)
                self.define(stmt.target)
            else:
                self.step()
                for operand in ir.operands(stmt):
                    self.use(operand)
                for name in ir.defs(stmt):
                    self.define(name)

    def loop(self, stmt: ir.For | ir.While) -> None:
        start = self.step()
        for operand in ir.operands(stmt):
            if (
                operand not in [c.update for c in stmt.carried]
                and operand != stmt.until
                and (not isinstance(stmt, ir.While) or operand != stmt.cond)
            ):
                self.use(operand)
        for c in stmt.carried:
            self.define(c.header)
            self.write(c.header)
        if isinstance(stmt, ir.For):
            self.define(stmt.index)
        used: set[str] = set()
        self.open_loops.append((start, used))
        if isinstance(stmt, ir.While):
            self.block(stmt.test)
            self.step()
            self.use(stmt.cond)
            for c in stmt.carried:  # a loop that ends here ends with its carried values as they are here
                self.use(Var(c.header))
        self.block(stmt.body)
        self.step()
        for c in stmt.carried:
            self.use(c.update)
            self.write(c.header)
        self.use(stmt.until)
        self.open_loops.pop()
        end = self.step()
        for name in used:
            if self.start.get(name, start) < start:
                self.end[name] = max(self.end[name], end)
        if isinstance(stmt, ir.For):  # every iteration writes the index: it lives as long as the loop runs
            self.used.add(stmt.index)
            self.end[stmt.index] = max(self.end[stmt.index], end)
        for c in stmt.carried:
            self.define(c.result)

    def interval(self, name: str) -> tuple[float, float]:
        """[definition, last use]; a name nobody reads still occupies its definition's instant."""
        start = self.start.get(name, 0)
        if name not in self.used:
            return start, start + 0.5
        return start, self.end.get(name, start)


def python_names(function: Function, inlined: Collection[str] = (), avoid: Collection[str] = ()) -> dict[str, str]:
    """A Python name for every SSA name, except the `inlined` ones (printed inside the expression that reads them);
    none is one of the names to `avoid`.

    Values joined by an `if` or carried by a loop share a name where their
    lifetimes allow (a "web"); otherwise the printer copies. Webs of one
    family (`x_bar`, `x_bar.1`, ...) then share a name where their lifetimes
    do not overlap, which prints accumulations as `x_bar += ...`.
    """
    life = _Lifetimes(function)
    params = [p.name for p in function.params]
    param_set = set(params)
    webs = _joined_webs(function, life, params)
    printed = [name for name in life.start if name not in inlined]  # in program order: the output is deterministic
    everything = set(printed)
    colours = _colours(webs, printed, param_set)

    computed = {c.family for c in colours if c.temporary}
    for colour in colours:  # the adjoint of a temporary that is not printed is a temporary itself: no `_t3_bar` alone
        match = _ADJOINT_OF_TEMP.match(colour.preferred)
        if match and not colour.temporary and not colour.has_param and match.group(1) not in computed:
            colour.temporary, colour.family = True, ir.family(colour.preferred)
    taken = set(RESERVED) | param_set | set(avoid)
    user_names = {family for n in everything if not ir.is_temp(family := ir.family(n))}
    renumbered, numbered = _number_temporaries(colours, user_names | taken)

    # Parameters first, then the returned values (a gradient is `x_bar`, not `x_bar_3`), named values, temporaries.
    returned = {o.name for o in ir.return_operands(function.returns) if isinstance(o, Var)}
    colours.sort(key=lambda c: (not c.has_param, returned.isdisjoint(c.names()), c.temporary, c.start))
    result: dict[str, str] = {}
    for colour in colours:
        names = colour.names()
        if colour.has_param:
            chosen = next(n for n in names if n in param_set)
        elif colour.temporary:
            chosen = numbered[id(colour)]
            taken.add(chosen)
        else:
            chosen = _user_name(colour, renumbered, taken, everything, claim=not returned.isdisjoint(colour.names()))
        for name in names:
            result[name] = chosen
    return result


@dataclass
class _Colour:
    """Webs of one family that share a Python name."""

    webs: list[list[str]]
    preferred: str
    family: str
    start: float
    temporary: bool
    has_param: bool

    def names(self) -> list[str]:
        return [n for w in self.webs for n in w]


def _joined_webs(function: Function, life: _Lifetimes, params: list[str]) -> _Webs:
    """The webs of `function`: every name an `if` merges or a loop carries, joined with its sources where it can be."""
    webs = _Webs(life, params)
    for stmt in ir.walk(function.body):
        if isinstance(stmt, ir.If):
            for m in stmt.merges:
                webs.join(m.target, m.then)
                webs.join(m.target, m.orelse)
        elif isinstance(stmt, (ir.For, ir.While)):
            for c in stmt.carried:
                webs.join(c.header, c.update)
                webs.join(c.header, Var(c.result))
                webs.join(c.header, c.init)
    return webs


_FamilyWeb = tuple[float, float, list[str], str, bool]  # first and last position, names, preferred name, has a parameter


def _colours(webs: _Webs, printed: list[str], params: Collection[str]) -> list[_Colour]:
    """The webs of the `printed` names, coloured family by family (families in order of first appearance)."""
    groups: dict[str, list[_FamilyWeb]] = {}
    for web in webs.all(printed):
        preferred = webs.preferred(web)
        first, last = webs.hull(web)
        groups.setdefault(ir.family(preferred), []).append((first, last, web, preferred, any(n in params for n in web)))
    colours: list[_Colour] = []
    for family, family_webs in groups.items():
        colours.extend(_colour_family(family, family_webs))
    return colours


def _colour_family(family: str, family_webs: list[_FamilyWeb]) -> list[_Colour]:
    """Interval colouring: a web takes the oldest colour free at its start (its name reads best).

    A web holding a parameter always has a colour of its own.
    """
    own: list[_Colour] = []
    busy: list[tuple[float, int]] = []  # (end of the colour's last web, colour)
    free: list[int] = []
    for first, last, web, preferred, has_param in sorted(family_webs, key=lambda w: w[0]):
        while busy and busy[0][0] <= first:
            heapq.heappush(free, heapq.heappop(busy)[1])
        if free and not has_param:
            index = heapq.heappop(free)
            own[index].webs.append(web)
        else:
            index = len(own)
            own.append(_Colour([web], preferred, family, first, ir.is_temp(family), has_param))
        heapq.heappush(busy, (last, index))
    return own


_NUMBERED = re.compile(r"_t\d+")


def _number_temporaries(colours: list[_Colour], unavailable: Collection[str]) -> tuple[dict[str, str], dict[int, str]]:
    """Temporaries keep the IR's numbers (`_t4` in the IR printout, the trace and the code alike), except that a
    second version alive at once, and a temporary the IR did not number, takes the next number past them all.

    Returns the first number of each temporary's family, which its adjoint
    follows (`_t3_bar`), and the number of each temporary's colour, by `id`
    (versions of one temporary whose lifetimes overlap get different numbers).
    """
    renumbered: dict[str, str] = {}  # a temporary's family -> its first number, which its adjoint follows
    numbered: dict[int, str] = {}  # id of a temporary's colour -> its number (versions that overlap differ)
    given: set[str] = set()  # the numbers some colour has
    own = {c.family for c in colours if _NUMBERED.fullmatch(c.family)} - set(unavailable)  # kept: the IR's numbers
    number = max((int(f[2:]) for c in colours if _NUMBERED.fullmatch(f := c.family)), default=0)
    temporaries = [(c.start, c.family, id(c)) for c in colours if c.temporary]
    computed = {c.family for c in colours if c.temporary}
    for colour in colours:  # the adjoint of a temporary that is not computed still takes a number
        match = _ADJOINT_OF_TEMP.match(colour.preferred)
        if match and not colour.temporary and match.group(1) not in computed:
            temporaries.append((colour.start, match.group(1), 0))
    for _, family, key in sorted(temporaries, key=lambda t: t[:2]):
        name = renumbered.get(family)
        if name is None and family in own:
            name = renumbered[family] = family
        if name is None or (key and name in given):  # a temporary the IR did not number, or a second version alive
            number += 1
            while f"_t{number}" in unavailable:
                number += 1
            name = f"_t{number}"
            renumbered.setdefault(family, name)
        if key:
            numbered[key] = name
            given.add(name)
    return renumbered, numbered


def _user_name(
    colour: _Colour, renumbered: Mapping[str, str], taken: set[str], everything: Collection[str], claim: bool = False
) -> str:
    """The name of a colour of named values (or of a temporary's adjoint): its family's, else its SSA name spelled
    with `_`, else that with a number; added to `taken`. A returned value `claim`s its family's name even from
    the SSA name spelled so (which then takes a number)."""
    names = colour.names()
    preferred = _renumber_adjoint(colour.preferred, renumbered)
    base = preferred.replace(".", "_")
    chosen, n = ir.family(preferred), 1
    if chosen in taken or (chosen in everything and chosen not in names and not claim):
        chosen = base  # an SSA name spelled exactly like the family keeps it
    while chosen in taken:
        chosen, n = f"{base}_{n}", n + 1
    taken.add(chosen)
    return chosen


_ADJOINT_OF_TEMP = re.compile(r"^(_t\d+)(_.*)$")


def _renumber_adjoint(name: str, renumbered: Mapping[str, str]) -> str:
    """`_t7_bar` is the adjoint of `_t7`: it follows the temporary's new number."""
    match = _ADJOINT_OF_TEMP.match(name)
    if match and match.group(1) in renumbered:
        return renumbered[match.group(1)] + match.group(2)
    return name


class _Webs:
    """Union of names that an `if` merges or a loop carries, when their lifetimes do not overlap."""

    def __init__(self, life: _Lifetimes, params: list[str]) -> None:
        self.life = life
        self.params = params
        self.parent: dict[str, str] = {}
        self.members: dict[str, list[str]] = {}
        self._hulls: dict[int, tuple[float, float]] = {}  # filled once the webs are final
        self._preferred: dict[int, str] = {}

    def find(self, name: str) -> str:
        if name not in self.parent:
            self.parent[name] = name
            self.members[name] = [name]
        while self.parent[name] != name:
            self.parent[name] = self.parent[self.parent[name]]
            name = self.parent[name]
        return name

    def join(self, name: str, operand: Operand) -> None:
        if not isinstance(operand, Var):
            return
        a, b = self.find(name), self.find(operand.name)
        if a == b:
            return
        joined = self.members[a] + self.members[b]
        if sum(n in self.params for n in joined) > 1:
            return
        if any(n in self.params for n in joined) and len({ir.family(n) for n in joined if not ir.is_temp(n)}) > 1:
            return  # a parameter keeps its name, and so does the loop variable that starts from it (`y = x`)
        ours = sorted(self.life.interval(n) for n in self.members[a])
        theirs = sorted(self.life.interval(n) for n in self.members[b])
        if _overlap(ours, theirs):
            return
        self.parent[b] = a
        self.members[a] += self.members.pop(b)

    def all(self, names: Iterable[str]) -> list[list[str]]:
        for name in names:
            self.find(name)
        return [self.members[root] for root in self.members if self.parent[root] == root]

    def hull(self, web: list[str]) -> tuple[float, float]:
        if len(web) == 1 and web[0] not in self.life.writes:
            return self.life.interval(web[0])
        key = id(web)
        if key not in self._hulls:
            points = [p for n in web for p in (*self.life.interval(n), *self.life.writes.get(n, ()))]
            self._hulls[key] = (min(points), max(points))
        return self._hulls[key]

    def preferred(self, web: list[str]) -> str:
        """The name a web is printed under: a parameter, else its earliest non-temporary, else its earliest."""
        if len(web) == 1:
            return web[0]
        key = id(web)
        if key not in self._preferred:
            ordered = sorted(web, key=lambda n: self.life.interval(n))
            params = [n for n in ordered if n in self.params]
            self._preferred[key] = params[0] if params else next((n for n in ordered if not ir.is_temp(n)), ordered[0])
        return self._preferred[key]


def _overlap(a: list[tuple[float, float]], b: list[tuple[float, float]]) -> bool:
    """Whether two sorted lists of closed intervals overlap; touching ends (read, then write) do not."""
    i = j = 0
    while i < len(a) and j < len(b):
        (s1, e1), (s2, e2) = a[i], b[j]
        if s1 < e2 and s2 < e1:
            return True
        if e1 <= e2:
            i += 1
        else:
            j += 1
    return False
