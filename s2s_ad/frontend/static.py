"""The names of a module read from its source file without importing or running it (the command line's way in).

Names come from the module's own imports (`math` and what it holds), its
top-level `def`s (helpers) and its literal constants and lists of numbers;
a name bound in a way that is not followed (in a branch, a loop, a class)
is known to exist but not what it holds. Parsed modules are cached by file
and modification time.
"""

from __future__ import annotations

import ast
import builtins
import math
import os

from ..errors import ResolutionError, SourceError
from .live import classify, is_number_data
from .parsed import Callee, Constant, Data, Helper, MathModule, NumpyModule, ParsedFunction, Resolved, Source
from .parsing import copy_def


class StaticModule:
    """Names of a module read from its source without running it."""

    _cache: dict[tuple[str, float], StaticModule | None] = {}

    def __init__(self, filename: str, text: str) -> None:
        self.filename = filename
        self.source = Source(filename, tuple(text.splitlines()))
        self.tree = ast.parse(text, filename=filename)
        self.names: dict[str, ast.AST] = {}
        for stmt in self.tree.body:
            for name, node in _bindings(stmt):
                self.names[name] = node

    @classmethod
    def for_file(cls, filename: str) -> StaticModule | None:
        try:
            key = (os.path.realpath(filename), os.stat(filename).st_mtime)
        except (OSError, ValueError):
            return None
        if key not in cls._cache:
            try:
                cls._cache[key] = cls(filename, _read_text(filename))
            except (OSError, SyntaxError, UnicodeDecodeError, ValueError):
                cls._cache[key] = None
        return cls._cache[key]

    def function(self, name: str) -> ParsedFunction:
        node = self.names.get(name)
        if not isinstance(node, ast.FunctionDef):
            raise ResolutionError(f"'{name}' is not a function defined in {self.filename}")
        node = copy_def(node)
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
            if node.name == "numpy" or node.name.startswith("numpy."):  # import numpy [as np], import numpy.linalg
                return NumpyModule(node.name[len("numpy.") :] if "." in node.name else "")
            module, _, attr = node.name.partition(":")
            if module == "numpy" or module.startswith("numpy."):  # from numpy import exp [as e]
                inside = module[len("numpy.") :] + "." if "." in module else ""
                return NumpyModule(inside + attr) if attr in ("linalg", "random") else Callee(f"numpy.{inside}{attr}")
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
            if is_number_data(value):
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
        names: list[tuple[str, ast.AST]] = []
        for node in ast.walk(stmt) if not isinstance(stmt, ast.ClassDef) else []:
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                names.append((node.id, ast.Pass()))
        if isinstance(stmt, ast.ClassDef):
            names.append((stmt.name, ast.Pass()))
        return names
    return []


def _read_text(filename: str) -> str:
    with open(filename, encoding="utf-8") as handle:
        return handle.read()


def from_file(path: str | os.PathLike[str], name: str) -> ParsedFunction:
    """Parse function `name` of a source file, statically."""
    return static_module(path).function(name)


def static_module(path: str | os.PathLike[str]) -> StaticModule:
    """The module at `path`, parsed for static name resolution; a file that cannot be read or parsed is a `SourceError`."""
    filename = os.fspath(path)
    try:
        text = _read_text(filename)
    except (OSError, UnicodeDecodeError) as exc:
        raise SourceError(f"cannot read {filename}: {exc}", filename=filename) from exc
    try:
        return StaticModule(filename, text)
    except SyntaxError as exc:
        raise SourceError(
            f"cannot parse {filename}: {exc.msg}",
            filename=filename,
            lineno=exc.lineno,
            col_offset=(exc.offset or 1) - 1,
            source_line=exc.text,
        ) from exc
