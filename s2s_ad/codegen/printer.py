"""The printer: one IR function -> the lines of its `def`, statement by statement.

Statements, indentation, loops and `# line N: <source>` comments are printed
here, line by line; expressions are a rule's spelling filled with operand
texts (see `spelling` for where parentheses go), and a temporary in
`inlined` is printed as the expression that computes it wherever it is read.
Constants are printed so that they read back as the same value (`-0.0`,
`math.inf`, `math.pi`; never a negative `ast.Constant`). What the function
needs from outside is recorded as it prints: whether it uses `math` (and
under which name) and which module-level names it reads. The few spellings a
backend chooses (backward loops, the tape, a decorator) come from its
`dialect`.
"""

from __future__ import annotations

import ast
import math
import re
from collections.abc import Mapping, Sequence

from .. import ir
from ..ir import Assign, Const, Function, Global, Operand, Var
from ..rules import Rule
from .dialect import PYTHON, Dialect
from .frame import Frame
from .releases import releases
from .spelling import ATOM, level_of, numpy_named, plain, shape

_CONDITIONAL = "{1} if {0} else {2}"  # an `if` that only picks one of two values
_NEGATION = "not {0}"


class Printer:
    """Prints `function` into `lines`, under the Python `names` chosen for its SSA names."""

    def __init__(
        self,
        function: Function,
        names: Mapping[str, str],
        rules: Mapping[str, Rule],
        inlined: Mapping[str, Assign],
        dialect: Dialect = PYTHON,
    ) -> None:
        self.f = function
        self.dialect = dialect
        self.names = names
        self.rules = rules
        self.inlined = inlined
        self.lines: list[str] = []
        self.uses_math = False
        self.globals: set[str] = set()
        self.last_loc: ir.Loc | None = None
        # A parameter called `math` would hide the module: import it under another name then.
        self.math = "math" if "math" not in names.values() else "_math"
        self.uses_numpy = False
        self.numpy = "np" if "np" not in names.values() else "_np"
        self.released = releases(function, names, inlined) if dialect.releases else {}
        self.definitions = {s.target: s for s in ir.walk(function.body) if isinstance(s, Assign)}
        read = {n for stmt in ir.walk(function.body) for n in ir.used_names(stmt)}
        read |= {o.name for o in ir.return_operands(function.returns) if isinstance(o, Var)}
        self.unread_checks = set(function.checks) - read  # computed only to raise where the function does

    def function(self, packed: tuple[tuple[str, tuple[str, ...]], ...] | None = None, frame: Frame | None = None) -> None:
        """The `def`; with `packed`, parameters arrive in tuples (`f_jvp(primals, tangents)`) and are unpacked;
        with a `frame`, they arrive as structures (`frame.Frame`): read in a prologue, the gradient built back."""
        if frame is not None:
            self.framed(frame)
            return
        if self.dialect.decorator is not None:
            self.lines.append(self.dialect.decorator)
        if packed is None:
            self.lines.append(f"def {self.f.name}({_signature(self.f.params)}):")
        else:
            self.lines.append(f"def {self.f.name}({', '.join(name for name, _ in packed)}):")
            for name, members in packed:
                names = ", ".join(self.names.get(m, m) for m in members)
                self.lines.append(f"    {names}{',' if len(members) == 1 else ''} = {name}")
        self.lines += [f"    {line}" for line in self.dialect.tapes(self.tape_slots())]
        self.block(self.f.body, 1)
        self.lines.append(f"    return {self.returns(self.f.returns, top=True)}")
        self.drop_lone_pass()  # everything inlined into the return

    def framed(self, frame: Frame) -> None:
        """The `def` of a function whose parameters arrive as structures: each leaf the code uses read from its
        argument first, the gradient built as the arguments are at the end."""
        if "np" in frame.avoid:
            self.numpy = "_np"
        self.lines.append(f"def {self.f.name}({_signature(frame.params)}):")
        self.lines += [f"    {line}" for line in frame.head]
        head = len(self.lines)
        self.lines += [f"    {line}" for line in self.dialect.tapes(self.tape_slots())]
        self.block(self.f.body, 1)
        returns = self.f.returns
        returned = self.returns(returns, top=True) if frame.result is None else frame.result(returns, self.returns, self.numpy)
        self.uses_numpy = self.uses_numpy or frame.numpy
        self.lines.append(f"    return {returned}")
        self.drop_lone_pass()
        code = "\n".join(line for line in self.lines[head:] if not line.lstrip().startswith("#"))
        read = [
            f"    {self.names.get(leaf, leaf)} = {reading}"
            for leaf, reading in frame.unpack
            if re.search(rf"(?<![\w.]){re.escape(self.names.get(leaf, leaf))}(?!\w)", code)
        ]
        self.lines[head:head] = read

    def tape_slots(self) -> list[int]:
        """The tape slots the function pushes, in their order."""
        return list(dict.fromkeys(s.slot for s in ir.walk(self.f.body) if isinstance(s, ir.Push)))

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
        for position, stmt in enumerate(block):
            if depth == 1 and position - 1 in self.released:  # the body's arrays last read just before
                self.lines.append(f"{pad}del {', '.join(self.released[position - 1])}")
            if isinstance(stmt, ir.Note):
                self.lines.append(f"{pad}# {stmt.text}")
                self.last_loc = None
                continue
            if isinstance(stmt, Assign) and stmt.target in self.inlined:
                continue
            if not isinstance(stmt, (ir.For, ir.While)):  # a loop's comment follows the values it starts from
                self.comment(stmt.loc, pad)
            if isinstance(stmt, Assign):
                note = "  # read by nothing: raises where the function does" if stmt.target in self.unread_checks else ""
                self.lines.append(pad + self.assign(stmt) + note)
            elif isinstance(stmt, ir.Effect):
                self.lines.append(pad + self.effect(stmt))
            elif isinstance(stmt, ir.Push):
                values = ", ".join(self.text(v) for v in stmt.values)
                self.lines.append(pad + self.dialect.push(stmt.slot, values if len(stmt.values) == 1 else f"({values})"))
            elif isinstance(stmt, ir.Pop):
                targets = ", ".join(self.names[t] for t in stmt.targets)
                self.lines.append(pad + self.dialect.pop(stmt.slot, targets))
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
        self.last_loc = stmt.loc  # what follows at this depth is under the `if`'s comment still

    def drop_lone_pass(self) -> None:
        """`pass` followed by copies in the same block is not needed."""
        if len(self.lines) >= 2 and self.lines[-2].strip() == "pass" and _indent(self.lines[-2]) == _indent(self.lines[-1]):
            del self.lines[-2]

    def loop_header(self, stmt: ir.For | ir.While, pad: str) -> None:
        """The values the loop starts from, each under the line that gave it (`# line 39: z = b`), then the
        loop's own comment. (One parallel assignment under the loop's comment where one value is read under a
        name another is assigned to.)"""
        carried = [c for c in stmt.carried if not (isinstance(c.init, Var) and self.names[c.init.name] == self.names[c.header])]
        targets = {self.names[c.header] for c in carried}
        if any(isinstance(c.init, Var) and self.names[c.init.name] in targets for c in carried):
            located: list[ir.Carry] = []
        else:
            located = sorted((c for c in carried if c.init_loc is not None), key=lambda c: c.init_loc.line)  # type: ignore[union-attr]
        for loc in dict.fromkeys(c.init_loc for c in located):
            assert loc is not None
            self.comment(loc, pad)
            self.copies([(c.header, c.init) for c in located if c.init_loc == loc], pad)
        self.comment(stmt.loc, pad)
        self.copies([(c.header, c.init) for c in carried if c not in located], pad)

    def loop_footer(self, stmt: ir.For | ir.While, depth: int) -> None:
        inner = "    " * (depth + 1)
        self.copies([(c.header, c.update) for c in stmt.carried], inner)
        self.drop_lone_pass()
        if stmt.until is not None:
            self.lines.append(f"{inner}if {self.text(stmt.until)}:")
            self.lines.append(f"{inner}    break")
        self.copies([(c.result, Var(c.header)) for c in stmt.carried], "    " * depth)
        self.last_loc = stmt.loc  # what follows at this depth is under the loop's comment still

    def for_loop(self, stmt: ir.For, depth: int) -> None:
        pad = "    " * depth
        self.loop_header(stmt, pad)
        step = stmt.step.value if isinstance(stmt.step, Const) and isinstance(stmt.step.value, int) else None
        limit = self.text(stmt.limit) if stmt.limit is not None else None
        start, stop, by = (self.text(b) for b in (stmt.start, stmt.stop, stmt.step))
        iterable = self.dialect.loop(start, stop, by, step, limit, stmt.reverse)
        used = any(stmt.index in ir.used_names(s) for s in ir.walk(stmt.body)) or any(
            c.update == Var(stmt.index) for c in stmt.carried
        )
        index = self.names[stmt.index] if used or "_" in self.names.values() else "_"  # `_` may be a live name
        items = self.backwards_over_record(stmt)
        if items is not None:  # `for x in reversed(x_tape):`, not `for i in reversed(range(n)): x = x_tape[i]`
            self.lines.append(f"{pad}for {self.names[stmt.body[0].target]} in {items}:")  # type: ignore[union-attr]
            self.block(stmt.body[1:], depth + 1)
        else:
            self.lines.append(f"{pad}for {index} in {iterable}:")
            self.block(stmt.body, depth + 1)
        self.loop_footer(stmt, depth)

    def backwards_over_record(self, stmt: ir.For) -> str | None:
        """What a reverse loop runs over when all it does with its index is read, first thing, the record its forward
        loop filled, one item per iteration: that record backwards (a hand-written gradient's `reversed(x_tape)`)."""
        if not (stmt.reverse and stmt.start == Const(0) and stmt.step == Const(1) and stmt.limit is None and stmt.until is None):
            return None
        first = stmt.body[0] if stmt.body else None
        if not (isinstance(first, Assign) and first.args[1:] == (Var(stmt.index),) and isinstance(first.args[0], Var)):
            return None
        record = self.definitions.get(first.args[0].name)
        if record is None or not self.rules[record.op].recorded or record.args[1:] != (stmt.stop,):
            return None
        if self.rules[first.op].cheap != "element" or first.target in self.inlined:
            return None
        rest = [n for s in ir.walk(stmt.body[1:]) for n in ir.used_names(s)]
        if stmt.index in rest or any(c.update == Var(stmt.index) for c in stmt.carried):
            return None
        return self.dialect.backwards_over(self.names[first.args[0].name])

    def while_loop(self, stmt: ir.While, depth: int) -> None:
        pad = "    " * depth
        self.loop_header(stmt, pad)
        if all(isinstance(s, Assign) and s.target in self.inlined for s in stmt.test):
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
        if (
            rule.augmented
            and not isinstance(stmt.type, ir.ArrayOf)  # `a += b` would change the array other names may hold
            and isinstance(stmt.args[0], Var)
            and self.names.get(stmt.args[0].name) == target
        ):
            return f"{target} {rule.augmented} {self.text(stmt.args[1])}"
        own = self.spelled(rule, stmt)
        if own is not None:
            return f"{target} = {own}"
        if rule.spell is not None:
            return f"{target} = {rule.spell(tuple(self.text(a) for a in stmt.args), stmt)}"
        return f"{target} = {self.render(rule.python, stmt.args)[0]}"

    def spelled(self, rule: Rule, stmt: Assign | ir.Effect) -> str | None:
        """The backend's own spelling of a statement, where it has one (`Dialect.spelled`)."""
        own = self.dialect.spelled(rule, lambda: tuple(self.text(a) for a in stmt.args), stmt, self.numpy)
        if own is not None and f"{self.numpy}." in own:
            self.uses_numpy = True
        return own

    def effect(self, stmt: ir.Effect) -> str:
        """A statement printed from its rule's spelling, with its operands as written."""
        rule = self.rules[stmt.op]
        own = self.spelled(rule, stmt)
        if own is not None:
            return own
        texts = tuple(self.text(a) for a in stmt.args)
        if rule.spell is not None:
            return rule.spell(texts, stmt)
        self.uses_numpy = self.uses_numpy or "numpy." in rule.python
        return numpy_named(rule.python, self.numpy).format(*texts)

    def render(self, spelling: str, args: tuple[Operand, ...]) -> tuple[str, int]:
        """A spelling filled with its operands, inlined ones as expressions; and how tightly the result binds.

        Operands are parenthesized exactly where `ast.unparse` would put
        parentheses, which `shape` works out once per spelling.
        """
        if spelling == "{0}":  # a copy binds as tightly as what it copies
            return self.operand(args[0])
        form = shape(spelling, self.math, self.numpy)
        if form.uses_math:
            self.uses_math = True
        if form.uses_numpy:
            self.uses_numpy = True
        texts = []
        for arg, parenthesize in zip(args, form.parenthesize):
            text, level = self.operand(arg)
            texts.append(f"({text})" if level in parenthesize else text)
        return form.text.format(*texts), form.level

    def operand(self, operand: Operand) -> tuple[str, int]:
        """An operand's text and how tightly it binds; an inlined temporary is the expression that computes it."""
        if isinstance(operand, Var):
            definition = self.inlined.get(operand.name)
            if definition is not None:
                own = self.spelled(self.rules[definition.op], definition)
                if own is not None:
                    return f"({own})", ATOM
                return self.render(self.rules[definition.op].python, definition.args)
            return self.names[operand.name], ATOM
        if isinstance(operand, Global):
            self.globals.add(operand.name)
            return operand.name, ATOM
        if plain(operand.value):
            return repr(operand.value), ATOM
        text = ast.unparse(self.constant(operand))
        return text, level_of(ast.parse(text, mode="eval").body)

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


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def _basename(path: str) -> str:
    return path.replace("\\", "/").rsplit("/", 1)[-1]


def _literal(value: float | int | bool) -> str:
    if isinstance(value, float) and not math.isfinite(value):
        return "math.nan" if math.isnan(value) else "math.inf" if value > 0 else "-math.inf"
    return repr(value)


def _signature(params: Sequence[ir.Param]) -> str:
    """`x, n=1000`: a parameter's default is printed where every later parameter has one too; `x, *, w, b=0.0`
    where the source's last parameters are keyword-only (and nothing the transform adds follows them)."""
    named = len(params)
    while named > 0 and params[named - 1].keyword_only:
        named -= 1
    if named == len(params) or any(p.keyword_only for p in params[:named]):
        named = len(params)
    printed: list[str] = []
    defaults_allowed = True
    for k in reversed(range(len(params))):
        param = params[k]
        defaults_allowed = (defaults_allowed or k >= named) and param.default is not None
        printed.append(f"{param.name}={_literal(param.default.value)}" if defaults_allowed and param.default else param.name)
    printed.reverse()
    return ", ".join([*printed[:named], "*", *printed[named:]] if named < len(params) else printed)
