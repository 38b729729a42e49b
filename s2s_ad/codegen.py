"""IR -> Python source text, statement by statement, then compile.

Expressions are built as `ast` nodes from the rule table's spellings and
printed with the standard library's `ast.unparse`; statements, indentation
and `# line N:` comments are printed here. SSA names become Python names:
versions of one family (`x_bar`, `x_bar.1`, ...) share one Python name where
their lifetimes do not overlap, which is what turns a chain of SSA
accumulations back into `x_bar += ...`.
"""

from __future__ import annotations

import ast
import heapq
import linecache
import math
import os
import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache

from . import ir
from .ir import Assign, Const, Function, Global, Operand, Var
from .rules import RULES, Rule

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


@dataclass(frozen=True)
class Generated:
    """One generated function: its text, the imports it needs, and the module-level names it reads."""

    name: str
    function: str  # the `def`, as source text
    imports: tuple[str, ...]  # `import math`, when the function uses it
    globals: tuple[str, ...]  # module-level data the function reads by name
    helpers: tuple[str, ...] = ()  # functions its spellings call that the module defines (rules' `helper`)

    @property
    def source(self) -> str:
        """A module holding just this function."""
        return module((self,))


def generate(
    function: Function,
    rules: Mapping[str, Rule] = RULES,
    packed: tuple[tuple[str, tuple[str, ...]], ...] | None = None,
    fold: bool = True,
) -> Generated:
    """Print `function`; with `packed`, its parameters arrive in tuples (`f_jvp(primals, tangents)`).

    With `fold`, a temporary read once is printed inside the expression that
    reads it (see `_folded`); without, every primitive has its own line.
    """
    folded = _folded(function, rules) if fold else {}
    names = _python_names(function, folded)
    printer = _Printer(function, names, rules, folded)
    printer.function(packed)
    math_import = "import math" if printer.math == "math" else f"import math as {printer.math}"
    helpers = sorted({h for s in ir.walk(function.body) if isinstance(s, Assign) and (h := rules[s.op].helper) is not None})
    return Generated(
        function.name,
        "\n".join(printer.lines),
        (math_import,) if printer.uses_math else (),
        tuple(sorted(printer.globals)),
        tuple(helpers),
    )


def module(functions: Sequence[Generated], header: str | None = None, imports: Sequence[str] = ()) -> str:
    """A module of generated functions: an optional docstring `header`, each import once, the functions.

    `imports` are extra import lines (the command line imports the data the
    functions read from the user's module).
    """
    import_lines: list[str] = []
    for line in [*(line for f in functions for line in f.imports), *imports]:
        if line not in import_lines:
            import_lines.append(line)
    lines = [f'"""{header}"""', ""] if header else []
    if import_lines:
        lines += [*import_lines, "", ""]
    for helper in dict.fromkeys(h for f in functions for h in f.helpers):
        lines += [helper, "", ""]
    return "\n".join(lines) + ("\n" if lines else "") + "\n\n\n".join(f.function for f in functions) + "\n"


def compile_generated(generated: Generated, namespace: dict[str, object], label: str) -> object:
    """Compile generated source into a function whose lines `inspect.getsource`, debuggers and tracebacks show.

    The source is written to a file of this process's own directory (see
    `_source_directory`) and compiled under that file's name. It has to be a
    file: Python 3.10-3.12 print the source lines of an uncaught exception's
    traceback by opening the file a code object names (only 3.13 asks
    `linecache`), and debuggers open it too. The lines are also registered in
    `linecache`, with no modification time so that `linecache.checkcache`
    keeps them. Where no file can be written, the name is `<s2s_ad label
    digest>`, known to `linecache` only.
    """
    import hashlib  # here, not at import time: `import s2s_ad` stays cheap

    digest = hashlib.sha1(generated.source.encode()).hexdigest()[:10]
    filename = _source_file(f"{label}_{digest}", generated.source) or f"<s2s_ad {label} {digest}>"
    linecache.cache[filename] = (len(generated.source), None, generated.source.splitlines(True), filename)
    code = compile(generated.source, filename, "exec")
    namespace = {"math": math, "__name__": f"s2s_ad.generated.{generated.name}", **namespace}
    exec(code, namespace)  # noqa: S102 - our own generated code
    return namespace[generated.name]


_SOURCE_DIRECTORY: list[str | None] = []  # made once per process: [path], or [None] where none could be made


def _source_file(stem: str, source: str) -> str | None:
    """Write `source` as `<stem>.py` into this process's directory of generated code; its path, or None."""
    directory = _source_directory()
    if directory is None:
        return None
    safe = "".join(c if c.isalnum() or c in "._-" else "_" for c in stem)
    path = os.path.join(directory, (safe if len(safe) <= 120 else safe[:60] + "_" + safe[-59:]) + ".py")
    if not os.path.exists(path):  # the digest in the name says what it holds
        try:
            temporary = f"{path}.{os.getpid()}.tmp"
            with open(temporary, "w", encoding="utf-8") as handle:
                handle.write(source)
            os.replace(temporary, path)
        except OSError:
            return None
    return path


def _source_directory() -> str | None:
    """A directory of this process's own for generated source, removed when the process exits.

    Made with `os.mkdir` (mode 0o700, so it cannot be one somebody else made)
    under the first of `$TMPDIR`, `$TEMP`, `$TMP`, the system's temporary
    directories, that takes it; None if none does. A forked child leaves it
    to the process that made it.
    """
    if _SOURCE_DIRECTORY:
        return _SOURCE_DIRECTORY[0]
    import atexit

    bases = [os.environ.get(name) for name in ("TMPDIR", "TEMP", "TMP")]
    bases += [r"C:\TEMP", r"C:\TMP"] if os.name == "nt" else ["/tmp", "/var/tmp", "/usr/tmp"]
    made = None
    for base in filter(None, bases):
        try:
            made = os.path.join(base, f"s2s_ad-{os.getpid()}-{os.urandom(4).hex()}")
            os.mkdir(made, 0o700)
            break
        except OSError:
            made = None
    _SOURCE_DIRECTORY.append(made)
    if made is not None:
        atexit.register(_remove_directory, made, os.getpid())
    return made


def _remove_directory(directory: str, owner: int) -> None:
    if os.getpid() != owner:
        return
    try:
        for name in os.listdir(directory):
            os.remove(os.path.join(directory, name))
        os.rmdir(directory)
    except OSError:
        pass


# -- names -------------------------------------------------------------------


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

    def define(self, name: str) -> None:
        self.start.setdefault(name, self.position)
        self.end[name] = max(self.end.get(name, self.position), self.position)

    def write(self, name: str) -> None:
        self.writes.setdefault(name, []).append(self.position)

    def use(self, operand: Operand | None) -> None:
        if isinstance(operand, Var):
            self.used.add(operand.name)
            self.end[operand.name] = max(self.end.get(operand.name, self.position), self.position)
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
        for c in stmt.carried:
            self.define(c.result)

    def interval(self, name: str) -> tuple[float, float]:
        """[definition, last use]; a name nobody reads still occupies its definition's instant."""
        start = self.start.get(name, 0)
        if name not in self.used:
            return start, start + 0.5
        return start, self.end.get(name, start)


def _python_names(function: Function, folded: Collection[str] = ()) -> dict[str, str]:
    """A Python name for every SSA name, except the `folded` ones (printed inside the expression that reads them).

    Values joined by an `if` or carried by a loop share a name where their
    lifetimes allow (a "web"); otherwise the printer copies. Webs of one
    family (`x_bar`, `x_bar.1`, ...) then share a name where their lifetimes
    do not overlap, which prints accumulations as `x_bar += ...`.
    """
    life = _Lifetimes(function)
    params = [p.name for p in function.params]
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
    param_set = set(params)
    printed = [name for name in life.start if name not in folded]  # in program order: the output is deterministic
    everything = set(printed)

    @dataclass
    class Colour:
        """Webs of one family that share a Python name."""

        webs: list[list[str]]
        preferred: str
        family: str
        start: float
        temporary: bool
        has_param: bool

        def names(self) -> list[str]:
            return [n for w in self.webs for n in w]

    groups: dict[str, list[tuple[float, float, list[str], str, bool]]] = {}
    for web in webs.all(printed):
        preferred = webs.preferred(web)
        first, last = webs.hull(web)
        groups.setdefault(ir.family(preferred), []).append((first, last, web, preferred, any(n in param_set for n in web)))
    colours: list[Colour] = []
    for family, family_webs in groups.items():
        # Interval colouring: a web takes the oldest colour free at its start (its name reads best).
        own: list[Colour] = []
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
                own.append(Colour([web], preferred, family, first, ir.is_temp(family), has_param))
            heapq.heappush(busy, (last, index))
        colours.extend(own)

    taken = set(RESERVED) | param_set
    # Temporaries are numbered in order of appearance, and their adjoints follow (`_t3_bar`).
    user_names = {family for n in everything if not ir.is_temp(family := ir.family(n))}
    renumbered: dict[str, str] = {}  # a temporary's family -> its first number, which its adjoint follows
    numbered: dict[int, str] = {}  # id of a temporary's colour -> its number (versions that overlap differ)
    given: set[str] = set()  # the numbers some colour has
    number = 0
    temporaries = [(c.start, c.family, id(c)) for c in colours if c.temporary]
    computed = {c.family for c in colours if c.temporary}
    for colour in colours:  # the adjoint of a temporary that is not computed still takes a number
        match = _ADJOINT_OF_TEMP.match(colour.preferred)
        if match and not colour.temporary and match.group(1) not in computed:
            temporaries.append((colour.start, match.group(1), 0))
    for _, family, key in sorted(temporaries, key=lambda t: t[:2]):
        name = renumbered.get(family)
        if name is None or (key and name in given):
            number += 1
            while f"_t{number}" in user_names or f"_t{number}" in taken:
                number += 1
            name = f"_t{number}"
            renumbered.setdefault(family, name)
        if key:
            numbered[key] = name
            given.add(name)

    # Parameters first, then named values, then temporaries.
    colours.sort(key=lambda c: (not c.has_param, c.temporary, c.start))
    result: dict[str, str] = {}
    for colour in colours:
        names = colour.names()
        if colour.has_param:
            chosen = next(n for n in names if n in param_set)
        elif colour.temporary:
            chosen = numbered[id(colour)]
            taken.add(chosen)
        else:
            preferred = _renumber_adjoint(colour.preferred, renumbered)
            base = preferred.replace(".", "_")
            chosen, n = ir.family(preferred), 1
            if chosen in taken or (chosen in everything and chosen not in names):
                chosen = base  # an SSA name spelled exactly like the family keeps it
            while chosen in taken:
                chosen, n = f"{base}_{n}", n + 1
            taken.add(chosen)
        for name in names:
            result[name] = chosen
    return result


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
        if sum(n in self.params for n in self.members[a] + self.members[b]) > 1:
            return
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


# -- folding -----------------------------------------------------------------


def _folded(function: Function, rules: Mapping[str, Rule]) -> dict[str, Assign]:
    """Temporaries printed inside the one expression that reads them (`w_bar[j] += _t4 * X[i][j]`), by name.

    A temporary (or a temporary's adjoint) that is read once folds into its
    reader when Python would then evaluate everything in the order the
    statements did: the reader is the next statement printed in the same
    block, and it reads the folded values in the order they were computed.
    So folding changes no value and no effect; it saves a store and a load
    per temporary, and the code reads like the source expression it came from.
    """
    uses = ir.use_counts(function)
    folded: dict[str, Assign] = {}

    def foldable(stmt: ir.Stmt) -> bool:
        return (
            isinstance(stmt, Assign)
            and uses.get(stmt.target) == 1
            and rules[stmt.op].inline
            and _COMPILER_MADE.match(stmt.target) is not None
            and rules[stmt.op].pure
        )

    def block(statements: ir.Block, last_reads: tuple[Operand, ...] = ()) -> None:
        pending: list[Assign] = []  # foldable, not yet read, in the order they were computed
        for stmt in statements:
            if isinstance(stmt, ir.Note):
                continue
            taken = _fold_into(pending, _reads(stmt, rules))
            folded.update((s.target, s) for s in taken)
            if foldable(stmt):
                del pending[len(pending) - len(taken) :]
                pending.append(stmt)  # type: ignore[arg-type]
            else:
                pending = []
            if isinstance(stmt, ir.While):
                block(stmt.test, (stmt.cond,))
                block(stmt.body)
            else:
                for inner in ir.blocks_of(stmt):
                    block(inner)
        for s in _fold_into(pending, last_reads):
            folded[s.target] = s

    block(function.body, tuple(ir.return_operands(function.returns)))
    return folded


_COMPILER_MADE = re.compile(r"^_t\d+(_bar|_dot)?(\.\d+)?$")  # a temporary, or its adjoint or tangent, any version


def _fold_into(pending: list[Assign], reads: tuple[Operand, ...]) -> list[Assign]:
    """The pending temporaries a statement folds in: the longest run of the latest ones that it reads, each
    once, in the order they were computed (older ones are printed on their own lines before it)."""
    if not pending:
        return []
    order = {operand.name: i for i, operand in enumerate(reads) if isinstance(operand, Var)}
    k = len(pending)
    first_read = len(reads)  # where the run found so far is first read
    while k > 0 and (at := order.get(pending[k - 1].target)) is not None and at < first_read:
        k, first_read = k - 1, at
    return pending[k:]


def _reads(stmt: ir.Stmt, rules: Mapping[str, Rule]) -> tuple[Operand, ...]:
    """The operands of a statement where a folded expression may stand, in the order Python evaluates them.

    Not where evaluation is conditional (`a if c else b`, `and`) or
    repeated (loop bounds are read once, but a loop is printed over several
    lines): there a folded expression would run a different number of times.
    """
    if isinstance(stmt, (Assign, ir.Effect)):
        rule = rules[stmt.op]
        if rule.inline_operands is not None:
            return tuple(stmt.args[i] for i in rule.inline_operands)
        if rule.spell is None and not _in_order(rule.python):
            return ()
        return stmt.args
    if isinstance(stmt, ir.Push):
        return stmt.values
    if isinstance(stmt, ir.If):
        return (stmt.cond,)
    return ()


@cache
def _in_order(spelling: str) -> bool:
    """Whether a spelling evaluates each operand exactly once, in operand order."""
    holes = [int(i) for i in re.findall(r"\{(\d+)\}", spelling)]
    lazy = any(isinstance(node, (ast.IfExp, ast.BoolOp)) for node in ast.walk(_template(spelling)))
    return holes == list(range(len(holes))) and not lazy


# -- printing ----------------------------------------------------------------


@cache
def _template(spelling: str) -> ast.expr:
    arity = spelling.count("{")
    return ast.parse(spelling.format(*(f"_{i}" for i in range(arity))), mode="eval").body


class _Printer:
    def __init__(
        self, function: Function, names: Mapping[str, str], rules: Mapping[str, Rule], folded: Mapping[str, Assign]
    ) -> None:
        self.f = function
        self.names = names
        self.rules = rules
        self.folded = folded
        self.lines: list[str] = []
        self.uses_math = False
        self.globals: set[str] = set()
        self.last_loc: ir.Loc | None = None
        # A parameter called `math` would hide the module: import it under another name then.
        self.math = "math" if "math" not in names.values() else "_math"

    def function(self, packed: tuple[tuple[str, tuple[str, ...]], ...] | None = None) -> None:
        """The `def`; with `packed`, parameters arrive in tuples (`f_jvp(primals, tangents)`) and are unpacked."""
        if packed is None:
            self.lines.append(f"def {self.f.name}({_signature(self.f.params)}):")
        else:
            self.lines.append(f"def {self.f.name}({', '.join(name for name, _ in packed)}):")
            for name, members in packed:
                names = ", ".join(self.names.get(m, m) for m in members)
                self.lines.append(f"    {names}{',' if len(members) == 1 else ''} = {name}")
        if any(isinstance(s, ir.Push) for s in ir.walk(self.f.body)):
            self.lines.append("    _tape = []")
        self.block(self.f.body, 1)
        self.lines.append(f"    return {self.returns(self.f.returns, top=True)}")
        self.drop_lone_pass()  # everything folded into the return

    def returns(self, returns: ir.Returns, top: bool = False) -> str:
        if isinstance(returns, tuple):
            inner = ", ".join(self.returns(r) for r in returns)
            if len(returns) == 1:
                inner += ","
            return inner if top else f"({inner})"
        return self.text(returns)

    def text(self, operand: Operand) -> str:
        """An operand as it stands where an expression needs no parentheses (`x = ...`, `return ..., ...`)."""
        return self.operand(operand)[0]

    def block(self, block: ir.Block, depth: int) -> None:
        pad = "    " * depth
        start = len(self.lines)
        for stmt in block:
            if isinstance(stmt, ir.Note):
                self.lines.append(f"{pad}# {stmt.text}")
                self.last_loc = None
                continue
            if isinstance(stmt, Assign) and stmt.target in self.folded:
                continue
            self.comment(stmt.loc, pad)
            if isinstance(stmt, Assign):
                self.lines.append(pad + self.assign(stmt))
            elif isinstance(stmt, ir.Effect):
                self.lines.append(pad + self.effect(stmt))
            elif isinstance(stmt, ir.Push):
                values = ", ".join(self.text(v) for v in stmt.values)
                self.lines.append(f"{pad}_tape.append({values if len(stmt.values) == 1 else f'({values})'})")
            elif isinstance(stmt, ir.Pop):
                targets = ", ".join(self.names[t] for t in stmt.targets)
                self.lines.append(f"{pad}{targets} = _tape.pop()")
            elif isinstance(stmt, ir.If):
                self.branch(stmt, depth)
            elif isinstance(stmt, ir.For):
                self.for_loop(stmt, depth)
            elif isinstance(stmt, ir.While):
                self.while_loop(stmt, depth)
        if len(self.lines) == start:
            self.lines.append(pad + "pass")

    def copies(self, pairs: list[tuple[str, Operand]], pad: str) -> None:
        """`target = value` for each pair whose names differ, as one parallel assignment."""
        pairs = [(t, v) for t, v in pairs if not (isinstance(v, Var) and self.names[v.name] == self.names[t])]
        if not pairs:
            return
        targets = ", ".join(self.names[t] for t, _ in pairs)
        values = ", ".join(self.text(v) for _, v in pairs)
        self.lines.append(f"{pad}{targets} = {values}")

    def branch(self, stmt: ir.If, depth: int) -> None:
        pad = "    " * depth
        if not stmt.then and not stmt.orelse and len(stmt.merges) == 1:
            m = stmt.merges[0]
            expression = self.render(_CONDITIONAL, (stmt.cond, m.then, m.orelse))[0]
            self.lines.append(f"{pad}{self.names[m.target]} = {expression}")
            return
        self.lines.append(f"{pad}if {self.text(stmt.cond)}:")
        self.block(stmt.then, depth + 1)
        self.copies([(m.target, m.then) for m in stmt.merges], pad + "    ")
        self.drop_lone_pass()
        else_start = len(self.lines)
        self.lines.append(f"{pad}else:")
        self.block(stmt.orelse, depth + 1)
        self.copies([(m.target, m.orelse) for m in stmt.merges], pad + "    ")
        self.drop_lone_pass()
        if self.lines[-1] == pad + "    pass" and len(self.lines) == else_start + 2:
            del self.lines[else_start:]  # an empty else
        self.last_loc = None

    def drop_lone_pass(self) -> None:
        """`pass` followed by copies in the same block is not needed."""
        if len(self.lines) >= 2 and self.lines[-2].strip() == "pass" and _indent(self.lines[-2]) == _indent(self.lines[-1]):
            del self.lines[-2]

    def loop_header(self, stmt: ir.For | ir.While, pad: str) -> None:
        self.copies([(c.header, c.init) for c in stmt.carried], pad)

    def loop_footer(self, stmt: ir.For | ir.While, depth: int) -> None:
        inner = "    " * (depth + 1)
        self.copies([(c.header, c.update) for c in stmt.carried], inner)
        self.drop_lone_pass()
        if stmt.until is not None:
            self.lines.append(f"{inner}if {self.text(stmt.until)}:")
            self.lines.append(f"{inner}    break")
        self.copies([(c.result, Var(c.header)) for c in stmt.carried], "    " * depth)
        self.last_loc = None

    def for_loop(self, stmt: ir.For, depth: int) -> None:
        pad = "    " * depth
        self.loop_header(stmt, pad)
        bounds = [stmt.start, stmt.stop, stmt.step]
        if stmt.step == Const(1):
            bounds.pop()
            if stmt.start == Const(0):
                bounds.pop(0)
        iterable = f"range({', '.join(self.text(b) for b in bounds)})"
        if stmt.limit is not None:
            iterable += f"[:{self.text(stmt.limit)}]"
        if stmt.reverse:
            iterable = f"reversed({iterable})"
        used = any(stmt.index in ir.used_names(s) for s in ir.walk(stmt.body)) or any(
            c.update == Var(stmt.index) for c in stmt.carried
        )
        index = self.names[stmt.index] if used else "_"
        self.lines.append(f"{pad}for {index} in {iterable}:")
        self.block(stmt.body, depth + 1)
        self.loop_footer(stmt, depth)

    def while_loop(self, stmt: ir.While, depth: int) -> None:
        pad = "    " * depth
        self.loop_header(stmt, pad)
        if all(isinstance(s, Assign) and s.target in self.folded for s in stmt.test):
            self.lines.append(f"{pad}while {self.text(stmt.cond)}:")
        else:
            self.lines.append(f"{pad}while True:")
            self.block(stmt.test, depth + 1)
            self.lines.append(f"{pad}    if {self.render(_NEGATION, (stmt.cond,))[0]}:")
            self.lines.append(f"{pad}        break")
        self.block(stmt.body, depth + 1)
        self.loop_footer(stmt, depth)

    def comment(self, loc: ir.Loc, pad: str) -> None:
        if loc == self.last_loc:
            return
        self.last_loc = loc
        text = self.f.source_line(loc)
        if text is None:
            return
        where = f"line {loc.line}" if loc.file == self.f.loc.file else f"{_basename(loc.file)}, line {loc.line}"
        self.lines.append(f"{pad}# {where}: {text.strip()}")

    def assign(self, stmt: Assign) -> str:
        target = self.names[stmt.target]
        rule = self.rules[stmt.op]
        if rule.augmented and isinstance(stmt.args[0], Var) and self.names.get(stmt.args[0].name) == target:
            return f"{target} {rule.augmented} {self.text(stmt.args[1])}"
        if rule.spell is not None:
            return f"{target} = {rule.spell(tuple(self.text(a) for a in stmt.args), stmt)}"
        return f"{target} = {self.render(rule.python, stmt.args)[0]}"

    def effect(self, stmt: ir.Effect) -> str:
        """A statement printed from its rule's spelling, with its operands as written."""
        rule = self.rules[stmt.op]
        texts = tuple(self.text(a) for a in stmt.args)
        return rule.spell(texts, stmt) if rule.spell is not None else rule.python.format(*texts)

    def render(self, spelling: str, args: tuple[Operand, ...]) -> tuple[str, int]:
        """A spelling filled with its operands, folded ones as expressions; and how tightly the result binds.

        Operands are parenthesized exactly where `ast.unparse` would put
        parentheses, which `_shape` works out once per spelling.
        """
        if spelling == "{0}":  # a copy binds as tightly as what it copies
            return self.operand(args[0])
        shape = _shape(spelling, self.math)
        if shape.uses_math:
            self.uses_math = True
        texts = []
        for arg, parenthesize in zip(args, shape.parenthesize):
            text, level = self.operand(arg)
            texts.append(f"({text})" if level in parenthesize else text)
        return shape.text.format(*texts), shape.level

    def operand(self, operand: Operand) -> tuple[str, int]:
        """An operand's text and how tightly it binds; a folded temporary is the expression that computes it."""
        if isinstance(operand, Var):
            definition = self.folded.get(operand.name)
            if definition is not None:
                return self.render(self.rules[definition.op].python, definition.args)
            return self.names[operand.name], _ATOM
        if isinstance(operand, Global):
            self.globals.add(operand.name)
            return operand.name, _ATOM
        if _plain(operand.value):
            return repr(operand.value), _ATOM
        text = ast.unparse(self.constant(operand))
        return text, _level(ast.parse(text, mode="eval").body)

    def constant(self, const: Const) -> ast.expr:
        value = const.value
        if isinstance(value, float):
            if math.isnan(value):
                self.uses_math = True
                return ast.Attribute(ast.Name(self.math), "nan")
            if math.isinf(value):
                self.uses_math = True
                node: ast.expr = ast.Attribute(ast.Name(self.math), "inf")
                return ast.UnaryOp(ast.USub(), node) if value < 0 else node
            if value == math.pi or value == math.e or value == math.tau:
                self.uses_math = True
                name = {math.pi: "pi", math.e: "e", math.tau: "tau"}[value]
                return ast.Attribute(ast.Name(self.math), name)
            if value < 0 or (value == 0 and math.copysign(1.0, value) < 0):
                return ast.UnaryOp(ast.USub(), ast.Constant(-value))
        elif not isinstance(value, bool) and value < 0:
            return ast.UnaryOp(ast.USub(), ast.Constant(-value))
        return ast.Constant(value)


def _plain(value: object) -> bool:
    """A constant that prints as its `repr` and never needs parentheses."""
    if isinstance(value, bool) or isinstance(value, int):
        return value >= 0
    return (
        isinstance(value, float)
        and math.isfinite(value)
        and math.copysign(1.0, value) > 0
        and value not in (math.pi, math.e, math.tau)
    )


# How tightly an expression binds, weakest first: one representative of each level of Python's grammar.
_REPRESENTATIVES = (
    "_x if _y else _z",
    "_x or _y",
    "_x and _y",
    "not _x",
    "_x < _y",
    "_x | _y",
    "_x ^ _y",
    "_x & _y",
    "_x << _y",
    "_x + _y",
    "_x * _y",
    "-_x",
    "_x ** _y",
)
_ATOM = len(_REPRESENTATIVES)  # names, constants, calls, subscripts: never parenthesized
_BINARY_LEVELS = {
    ast.BitOr: 5,
    ast.BitXor: 6,
    ast.BitAnd: 7,
    ast.LShift: 8,
    ast.RShift: 8,
    ast.Add: 9,
    ast.Sub: 9,
    ast.Mult: 10,
    ast.Div: 10,
    ast.FloorDiv: 10,
    ast.Mod: 10,
    ast.MatMult: 10,
    ast.Pow: 12,
}
_CONDITIONAL = "{1} if {0} else {2}"  # an `if` that only picks one of two values
_NEGATION = "not {0}"


def _level(node: ast.expr) -> int:
    if isinstance(node, ast.IfExp):
        return 0
    if isinstance(node, ast.BoolOp):
        return 1 if isinstance(node.op, ast.Or) else 2
    if isinstance(node, ast.UnaryOp):
        return 3 if isinstance(node.op, ast.Not) else 11
    if isinstance(node, ast.Compare):
        return 4
    if isinstance(node, ast.BinOp):
        return _BINARY_LEVELS[type(node.op)]
    return _ATOM


@dataclass(frozen=True)
class _Shape:
    """A spelling ready to fill: its text with `{i}` holes, how tightly it binds, where operands need parentheses."""

    text: str
    level: int
    parenthesize: tuple[frozenset[int], ...]  # per operand: the levels that must be parenthesized there
    uses_math: bool


@cache
def _shape(spelling: str, math_name: str = "math") -> _Shape:
    """Found by asking `ast.unparse` itself: an operand of level L needs parentheses in hole i exactly when
    unparsing the spelling with a representative of L in that hole prints the parentheses."""
    text = _format(spelling)
    arity = 1 + max(int(i) for i in re.findall(r"\{(\d+)\}", text))
    holes = [f"_p{i}" for i in range(arity)]
    parenthesize = []
    for i in range(arity):
        levels = set()
        for level, representative in enumerate(_REPRESENTATIVES):
            filled = [f"({representative})" if j == i else hole for j, hole in enumerate(holes)]
            bare = [representative if j == i else hole for j, hole in enumerate(holes)]
            if ast.unparse(ast.parse(text.format(*filled), mode="eval")) != text.format(*bare):
                levels.add(level)
        parenthesize.append(frozenset(levels))
    uses_math = re.search(r"\bmath\.", text) is not None
    if math_name != "math":
        text = re.sub(r"\bmath\.", f"{math_name}.", text)
    return _Shape(text, _level(_template(spelling)), tuple(parenthesize), uses_math)


@cache
def _format(spelling: str) -> str:
    """The rule's spelling unparsed once, with `{0}`, `{1}` where its operands go."""
    text = ast.unparse(_template(spelling)).replace("{", "{{").replace("}", "}}")
    return re.sub(r"\b_(\d+)\b", r"{\1}", text)


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def _basename(path: str) -> str:
    return path.replace("\\", "/").rsplit("/", 1)[-1]


def _literal(value: float | int | bool) -> str:
    if isinstance(value, float) and not math.isfinite(value):
        return "math.nan" if math.isnan(value) else "math.inf" if value > 0 else "-math.inf"
    return repr(value)


def _signature(params: Sequence[ir.Param]) -> str:
    """`x, n=1000`: a parameter's default is printed where every later parameter has one too."""
    printed: list[str] = []
    defaults_allowed = True
    for param in reversed(params):
        defaults_allowed = defaults_allowed and param.default is not None
        printed.append(f"{param.name}={_literal(param.default.value)}" if defaults_allowed and param.default else param.name)
    return ", ".join(reversed(printed))
