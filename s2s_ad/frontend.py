"""Find a function's source, parse it, and resolve every free name it uses.

Two ways in: from a live function object (the decorator), where names are
looked up in the function's closure, globals and builtins; or statically from
a source file (the command line), where names come from the module's own
imports, definitions and literal constants, and nothing is imported or run.
Either way the result is a `ParsedFunction`: the `def` node, its source, and
an environment that answers "what is this name?" for the later stages.
"""

from __future__ import annotations

import ast
import builtins
import inspect
import math
import textwrap
import types
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from .errors import ResolutionError, S2SError, SourceError, UnsupportedError

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


# -- from a function object --------------------------------------------------


def from_function(func: object) -> ParsedFunction:
    """Parse a live function; its free names resolve against its closure and globals."""
    if isinstance(func, (types.BuiltinFunctionType, types.BuiltinMethodType)) or not isinstance(func, types.FunctionType):
        raise SourceError(
            f"cannot differentiate {func!r}: it is not a Python function with source code",
            hint="pass a function defined with `def` in a file",
        )
    name = func.__name__
    if name == "<lambda>":
        raise _lambda_error(func)
    try:
        lines, start = inspect.getsourcelines(func)
        filename = inspect.getsourcefile(func) or func.__code__.co_filename
    except (OSError, TypeError) as exc:
        raise SourceError(
            f"cannot find the source of function '{name}'",
            filename=func.__code__.co_filename,
            lineno=func.__code__.co_firstlineno,
            hint="functions typed at an interactive prompt have no source file; put the function in a file",
        ) from exc
    file_lines = _file_lines(filename) or ("",) * (start - 1) + tuple(line.rstrip("\n") for line in lines)
    node = _parse_def(lines, start, filename, file_lines, name)
    static = _StaticModule.for_file(filename)
    return ParsedFunction(name, node, Source(filename, file_lines), _RuntimeResolver(func, static), func.__qualname__)


def _lambda_error(func: types.FunctionType) -> S2SError:
    filename, lineno = func.__code__.co_filename, func.__code__.co_firstlineno
    line = next(iter(_file_lines(filename)[lineno - 1 : lineno]), None) if _file_lines(filename) else None
    col = line.find("lambda") if line else -1
    return UnsupportedError(
        "lambda functions cannot be differentiated",
        filename=filename,
        lineno=lineno,
        source_line=line,
        col_offset=col if col >= 0 else None,
        end_col_offset=col + len("lambda") if col >= 0 else None,
        hint="define the function with `def`",
    )


def _file_lines(filename: str) -> tuple[str, ...] | None:
    import linecache

    lines = linecache.getlines(filename)
    return tuple(line.rstrip("\n") for line in lines) if lines else None


def _parse_def(lines: list[str], start: int, filename: str, file_lines: tuple[str, ...], name: str) -> ast.FunctionDef:
    text = textwrap.dedent("".join(lines))
    indent = len(lines[0]) - len(lines[0].lstrip()) if lines else 0
    try:
        module = ast.parse(text, filename=filename)
    except SyntaxError as exc:
        raise SourceError(f"cannot parse the source of '{name}': {exc.msg}", filename=filename, lineno=start) from exc
    if not module.body or not isinstance(module.body[0], (ast.FunctionDef, ast.AsyncFunctionDef)):
        raise SourceError(
            f"the source of '{name}' is not a `def` statement",
            filename=filename,
            lineno=start,
            hint="define the function with `def`",
        )
    node = module.body[0]
    ast.increment_lineno(node, start - 1)
    if isinstance(node, ast.AsyncFunctionDef):
        raise Source(filename, file_lines).error(UnsupportedError, "async functions cannot be differentiated", node)
    if indent:
        for child in ast.walk(node):
            if hasattr(child, "col_offset"):
                child.col_offset += indent  # type: ignore[attr-defined]
                if getattr(child, "end_col_offset", None) is not None:
                    child.end_col_offset += indent  # type: ignore[attr-defined]
    node.decorator_list = []
    return node


class _RuntimeResolver:
    """Names of a live function: closure, then globals, then builtins; then the module's source."""

    def __init__(self, func: types.FunctionType, static: _StaticModule | None) -> None:
        self.func = func
        self.static = static

    def __call__(self, name: str) -> Resolved | None:
        func = self.func
        code = func.__code__
        if name in code.co_freevars and func.__closure__:
            try:
                value = func.__closure__[code.co_freevars.index(name)].cell_contents
            except ValueError:  # an empty cell: the name is not assigned yet
                return None
            return classify(name, value)
        if name in func.__globals__:
            return classify(name, func.__globals__[name])
        if self.static is not None:
            found = self.static(name)
            if isinstance(found, Helper):  # defined later in the same file than the decorated function
                return found
        if hasattr(builtins, name):
            return classify(name, getattr(builtins, name))
        return None


def classify(name: str, value: object) -> Resolved | None:
    """What a live object is to the lowering, or None if it is nothing differentiable."""
    from .api import CustomDerivative  # the one object of ours a user function may call

    if value is math:
        return MathModule()
    if isinstance(value, bool | int | float):
        return Constant(value)
    if isinstance(value, CustomDerivative):
        return Custom(name, value)
    for spelling in BUILTIN_CALLEES:
        if value is getattr(builtins, spelling):
            return Callee(spelling)
    if isinstance(value, types.BuiltinFunctionType) and getattr(value, "__module__", None) == "math":
        return Callee(f"math.{value.__name__}")
    if isinstance(value, types.FunctionType):
        target = getattr(value, "__wrapped_primal__", value)  # a function decorated with @grad
        return Helper(name, lambda: from_function(target))
    if _is_number_data(value):
        return Data(name, value)
    return None


def _is_number_data(value: object) -> bool:
    if isinstance(value, (list, tuple)):
        return all(_is_number_data(v) for v in value)
    return isinstance(value, (int, float)) and not isinstance(value, bool)


# -- statically from a file ----------------------------------------------------


class _StaticModule:
    """Names of a module read from its source without running it."""

    _cache: dict[tuple[str, float], _StaticModule | None] = {}

    def __init__(self, filename: str, text: str) -> None:
        self.filename = filename
        self.source = Source(filename, tuple(text.splitlines()))
        self.tree = ast.parse(text, filename=filename)
        self.names: dict[str, ast.AST] = {}
        for stmt in self.tree.body:
            for name, node in _bindings(stmt):
                self.names[name] = node

    @classmethod
    def for_file(cls, filename: str) -> _StaticModule | None:
        path = Path(filename)
        try:
            key = (str(path.resolve()), path.stat().st_mtime)
        except OSError:
            return None
        if key not in cls._cache:
            try:
                cls._cache[key] = cls(filename, path.read_text(encoding="utf-8"))
            except (OSError, SyntaxError, UnicodeDecodeError, ValueError):
                cls._cache[key] = None
        return cls._cache[key]

    def function(self, name: str) -> ParsedFunction:
        node = self.names.get(name)
        if not isinstance(node, ast.FunctionDef):
            raise ResolutionError(f"'{name}' is not a function defined in {self.filename}")
        node = _copy_def(node)
        return ParsedFunction(name, node, self.source, self, name)

    def functions(self) -> list[str]:
        return [s.name for s in self.tree.body if isinstance(s, ast.FunctionDef)]

    def __call__(self, name: str) -> Resolved | None:
        node = self.names.get(name)
        if node is None:
            if hasattr(builtins, name):
                return classify(name, getattr(builtins, name))
            return None
        if isinstance(node, ast.alias):
            if node.name == "math":  # import math [as m]
                return MathModule()
            module, _, attr = node.name.partition(":")
            if module == "math":  # from math import sin [as s]
                value = getattr(math, attr, None)
                if isinstance(value, float):
                    return Constant(value)
                return Callee(f"math.{attr}") if value is not None else None
            return None
        if isinstance(node, ast.FunctionDef):
            return Helper(name, lambda: self.function(name))
        if isinstance(node, ast.expr):
            try:
                value = ast.literal_eval(node)
            except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
                return None
            if isinstance(value, bool | int | float):
                return Constant(value)
            if _is_number_data(value):
                return Data(name, value)
        return None


def _bindings(stmt: ast.stmt) -> list[tuple[str, ast.AST]]:
    """Top-level names a module statement binds, with the node that says what they are."""
    if isinstance(stmt, ast.FunctionDef):
        return [(stmt.name, stmt)]
    if isinstance(stmt, ast.Import):
        return [((a.asname or a.name).split(".")[0], a) for a in stmt.names]
    if isinstance(stmt, ast.ImportFrom) and stmt.level == 0:
        return [(a.asname or a.name, ast.alias(name=f"{stmt.module}:{a.name}")) for a in stmt.names]
    if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name):
        return [(stmt.targets[0].id, stmt.value)]
    if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name) and stmt.value is not None:
        return [(stmt.target.id, stmt.value)]
    if isinstance(stmt, (ast.If, ast.Try, ast.For, ast.While, ast.With, ast.ClassDef, ast.AugAssign, ast.Assign)):
        # Bound in a way we do not follow: the name exists, but is not statically known.
        names = []
        for node in ast.walk(stmt) if not isinstance(stmt, ast.ClassDef) else []:
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                names.append((node.id, ast.Pass()))
        if isinstance(stmt, ast.ClassDef):
            names.append((stmt.name, ast.Pass()))
        return names
    return []


def _copy_def(node: ast.FunctionDef) -> ast.FunctionDef:
    import copy

    node = copy.deepcopy(node)
    node.decorator_list = []
    return node


def from_file(path: str | Path, name: str) -> ParsedFunction:
    """Parse function `name` of a source file, statically."""
    return static_module(path).function(name)


def static_module(path: str | Path) -> _StaticModule:
    filename = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SourceError(f"cannot read {filename}: {exc}", filename=filename) from exc
    try:
        return _StaticModule(filename, text)
    except SyntaxError as exc:
        raise SourceError(
            f"cannot parse {filename}: {exc.msg}",
            filename=filename,
            lineno=exc.lineno,
            col_offset=(exc.offset or 1) - 1,
            source_line=exc.text,
        ) from exc
