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
import hashlib
import linecache
import math
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache

from . import ir
from .ir import Assign, Const, Function, Global, Operand, Var
from .rules import RULES, Rule

# Names generated code relies on; no variable may take them.
RESERVED = frozenset({"math", "abs", "max", "min", "len", "range", "reversed", "float", "int", "sum", "pow",
                      "round", "_tape", "None", "True", "False"})


@dataclass(frozen=True)
class Generated:
    """Source text of a module holding one generated function, and the names it reads."""

    name: str
    source: str
    globals: tuple[str, ...]  # module-level data the function reads by name


def generate(function: Function, rules: Mapping[str, Rule] = RULES, header: str | None = None,
             imports: tuple[str, ...] = ()) -> Generated:
    """Print `function` as a module: optional docstring `header`, imports, the function.

    `imports` are extra import lines (the command line imports data the
    function reads from the user's module); `import math` is added when used.
    """
    names = _python_names(function)
    printer = _Printer(function, names, rules)
    printer.function()
    lines: list[str] = []
    if header:
        lines += [f'"""{header}"""', ""]
    import_lines = (["import math"] if printer.uses_math else []) + list(imports)
    if import_lines:
        lines += [*import_lines, "", ""]
    lines += printer.lines
    return Generated(function.name, "\n".join(lines) + "\n", tuple(sorted(printer.globals)))


def compile_generated(generated: Generated, namespace: dict[str, object], label: str) -> object:
    """Compile generated source into a function whose source `inspect.getsource` can show."""
    digest = hashlib.sha1(generated.source.encode()).hexdigest()[:10]
    filename = f"<s2s_ad {label} {digest}>"
    linecache.cache[filename] = (len(generated.source), None, generated.source.splitlines(True), filename)
    code = compile(generated.source, filename, "exec")
    namespace = {"math": math, "__name__": f"s2s_ad.generated.{generated.name}", **namespace}
    exec(code, namespace)  # noqa: S102 - our own generated code
    return namespace[generated.name]


# -- names -------------------------------------------------------------------


def _python_names(function: Function) -> dict[str, str]:
    """A Python name for every SSA name: families share one where lifetimes allow."""
    position: dict[str, int] = {p.name: 0 for p in function.params}
    last_use: dict[str, int] = {}
    counter = 0
    for stmt in function.body:
        counter += 1
        for name in ir.used_names(stmt):
            last_use[name] = counter
        for name in ir.defs(stmt):
            position[name] = counter
    end = counter + 1
    for operand in ir.return_operands(function.returns):
        if isinstance(operand, Var):
            last_use[operand.name] = end
    params = {p.name for p in function.params}

    groups: dict[str, list[list[str]]] = {}  # family -> colours, each a list of names
    ends: dict[int, int] = {}
    for name in sorted(position, key=lambda n: position[n]):
        colours = groups.setdefault(ir.family(name), [])
        start = position[name]
        for colour in colours:
            if ends[id(colour)] <= start and name not in params:
                colour.append(name)
                ends[id(colour)] = max(start, last_use.get(name, start))
                break
        else:
            colour = [name]
            colours.append(colour)
            ends[id(colour)] = last_use.get(name, start)

    taken = set(RESERVED) | params
    result = {p: p for p in params}
    ordered = [c for colours in groups.values() for c in colours]
    ordered.sort(key=lambda c: ("." in c[0], position[c[0]]))
    for colour in ordered:
        if colour[0] in params:
            for name in colour:
                result[name] = colour[0]
            continue
        base = colour[0].replace(".", "_")
        candidate, n = base, 1
        while candidate in taken:
            candidate, n = f"{base}_{n}", n + 1
        taken.add(candidate)
        for name in colour:
            result[name] = candidate
    return result


# -- printing ----------------------------------------------------------------


@cache
def _template(spelling: str) -> ast.expr:
    arity = spelling.count("{")
    return ast.parse(spelling.format(*(f"_{i}" for i in range(arity))), mode="eval").body


class _Substitute(ast.NodeTransformer):
    def __init__(self, args: list[ast.expr]) -> None:
        self.args = args

    def visit_Name(self, node: ast.Name) -> ast.expr:
        if node.id.startswith("_") and node.id[1:].isdigit():
            return self.args[int(node.id[1:])]
        return node


class _Printer:
    def __init__(self, function: Function, names: Mapping[str, str], rules: Mapping[str, Rule]) -> None:
        self.f = function
        self.names = names
        self.rules = rules
        self.lines: list[str] = []
        self.uses_math = False
        self.globals: set[str] = set()
        self.last_loc: ir.Loc | None = None

    def function(self) -> None:
        params = ", ".join(p.name for p in self.f.params)
        self.lines.append(f"def {self.f.name}({params}):")
        self.block(self.f.body, 1)
        self.lines.append(f"    return {self.returns(self.f.returns, top=True)}")

    def returns(self, returns: ir.Returns, top: bool = False) -> str:
        if isinstance(returns, tuple):
            inner = ", ".join(self.returns(r) for r in returns)
            if len(returns) == 1:
                inner += ","
            return inner if top else f"({inner})"
        return ast.unparse(self.operand(returns))

    def block(self, block: ir.Block, depth: int) -> None:
        pad = "    " * depth
        for stmt in block:
            if isinstance(stmt, ir.Note):
                self.lines.append(f"{pad}# {stmt.text}")
                self.last_loc = None
                continue
            if isinstance(stmt, Assign):
                self.comment(stmt.loc, pad)
                self.lines.append(pad + self.assign(stmt))
            else:
                raise NotImplementedError(type(stmt).__name__)

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
        if stmt.op in ("add", "sub", "mul") and isinstance(stmt.args[0], Var) \
                and self.names[stmt.args[0].name] == target:
            symbol = {"add": "+=", "sub": "-=", "mul": "*="}[stmt.op]
            return f"{target} {symbol} {ast.unparse(self.operand(stmt.args[1]))}"
        return f"{target} = {ast.unparse(self.expression(stmt.op, stmt.args))}"

    def expression(self, op: str, args: tuple[Operand, ...]) -> ast.expr:
        spelling = self.rules[op].python
        if spelling.startswith("math."):
            self.uses_math = True
        template = _template(spelling)
        import copy

        return _Substitute([self.operand(a) for a in args]).visit(copy.deepcopy(template))

    def operand(self, operand: Operand) -> ast.expr:
        if isinstance(operand, Var):
            return ast.Name(self.names[operand.name])
        if isinstance(operand, Global):
            self.globals.add(operand.name)
            return ast.Name(operand.name)
        return self.constant(operand)

    def constant(self, const: Const) -> ast.expr:
        value = const.value
        if isinstance(value, float):
            if math.isnan(value):
                self.uses_math = True
                return ast.Attribute(ast.Name("math"), "nan")
            if math.isinf(value):
                self.uses_math = True
                node: ast.expr = ast.Attribute(ast.Name("math"), "inf")
                return ast.UnaryOp(ast.USub(), node) if value < 0 else node
            if value == math.pi or value == math.e or value == math.tau:
                self.uses_math = True
                name = {math.pi: "pi", math.e: "e", math.tau: "tau"}[value]
                return ast.Attribute(ast.Name("math"), name)
            if value < 0 or (value == 0 and math.copysign(1.0, value) < 0):
                return ast.UnaryOp(ast.USub(), ast.Constant(-value))
        elif not isinstance(value, bool) and value < 0:
            return ast.UnaryOp(ast.USub(), ast.Constant(-value))
        return ast.Constant(value)


def _basename(path: str) -> str:
    return path.replace("\\", "/").rsplit("/", 1)[-1]
