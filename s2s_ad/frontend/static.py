"""The names of a module read from its source file without importing or running it (the command line's way in).

Names come from the module's own imports (`math` and what it holds, and
modules next to the file, `helpers.py`, read the same way: `import helpers`
then `helpers.sq(x)`, or `from helpers import sq`), its top-level `def`s
(helpers) and its constants and lists of numbers: literals and constant
expressions of them (`SCALE = 2.0 * 3`, `math.pi / 2`, `2 ** 10`), computed
by walking the tree, never by running anything; a name bound in a way that
is not followed (in a branch, a loop, a class) is known to exist but not
what it holds. Parsed modules are cached by file and modification time.
"""

from __future__ import annotations

import ast
import builtins
import math
import operator
import os
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from ..errors import ResolutionError, SourceError
from ..rules import CALLS, RULES
from .live import classify, is_number_data
from .parsed import Callee, Constant, Data, Helper, MathModule, NumpyModule, ParsedFunction, Resolved, Source, UserModule
from .parsing import copy_def


class StaticModule:
    """Names of a module read from its source without running it."""

    _cache: dict[tuple[str, float, bool], StaticModule | None] = {}

    def __init__(self, filename: str, text: str, imported: bool = False) -> None:
        self.filename = filename
        # Read for another module's `import`: its functions' lists cannot be read by generated code by name.
        self.imported = imported
        self.source = Source(filename, tuple(text.splitlines()))
        self.tree = ast.parse(text, filename=filename)
        self.names: dict[str, ast.AST] = {}
        for stmt in self.tree.body:
            for name, node in _bindings(stmt):
                self.names[name] = node

    @classmethod
    def for_file(cls, filename: str, imported: bool = False) -> StaticModule | None:
        try:
            key = (os.path.realpath(filename), os.stat(filename).st_mtime, imported)
        except (OSError, ValueError):
            return None
        if key not in cls._cache:
            try:
                cls._cache[key] = cls(filename, _read_text(filename), imported)
            except (OSError, SyntaxError, UnicodeDecodeError, ValueError):
                cls._cache[key] = None
        return cls._cache[key]

    def function(self, name: str) -> ParsedFunction:
        node = self.names.get(name)
        if not isinstance(node, ast.FunctionDef):
            raise ResolutionError(f"'{name}' is not a function defined in {self.filename}")
        node = copy_def(node)
        return ParsedFunction(name, node, self.source, self, name)

    def definition(self, first_line: int, name: str) -> ast.FunctionDef | None:
        """The `def name` of any depth (a method, a nested function) whose first line, its first decorator's if it
        has one, is `first_line`: looked for in the statement that spans that line, and so on inwards."""
        statements: list[ast.AST] = list(self.tree.body)
        while statements:
            inner: list[ast.AST] = []
            for stmt in statements:
                decorators = getattr(stmt, "decorator_list", [])
                first = min([stmt.lineno, *(d.lineno for d in decorators)])  # type: ignore[attr-defined]
                if first == first_line and isinstance(stmt, ast.FunctionDef) and stmt.name == name:
                    return stmt
                if first <= first_line <= (getattr(stmt, "end_lineno", None) or first):
                    for child in ast.iter_child_nodes(stmt):  # a `case` has no line of its own: its statements
                        inner += child.body if isinstance(child, ast.match_case) else [child]
            statements = [s for s in inner if isinstance(s, (ast.stmt, ast.excepthandler))]
        return None

    def functions(self) -> list[str]:
        return [s.name for s in self.tree.body if isinstance(s, ast.FunctionDef)]

    def __call__(self, name: str) -> Resolved | None:
        base, dot, attr = name.partition(".")
        if dot:  # `helpers.sq` of `import helpers`: a name of that module
            module = self.sibling(self.names.get(base)) if isinstance(self.resolved(base), UserModule) else None
            return module(attr) if module is not None else None
        found = self.resolved(name)
        if self.imported and isinstance(found, Data) and found.foreign is None:
            return replace(found, foreign=os.path.basename(self.filename))
        return found

    def resolved(self, name: str) -> Resolved | None:
        node = self.names.get(name)
        if node is None:
            if hasattr(builtins, name):
                return classify(name, getattr(builtins, name))
            return None
        if isinstance(node, ast.alias):
            return self.imported_name(name, node)
        if isinstance(node, ast.FunctionDef):
            return Helper(name, lambda: self.function(name))
        if isinstance(node, ast.expr):
            value = self.constant(node, frozenset({name}))
            if isinstance(value, float):
                return Data(name, value)  # generated code reads it by name (`4 * EPSILON`, not `479.2`)
            if isinstance(value, bool | int):
                return Constant(value)
            if value is not None and is_number_data(value):
                return Data(name, value)
        return None

    def imported_name(self, name: str, node: ast.alias) -> Resolved | None:
        """What an import binds: `math`, NumPy, or a module next to this file (or one of their names)."""
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
            known = any(spelling == f"math.{attr}" for spelling, _ in CALLS)  # math.cbrt on 3.10: the lowering says why
            return Callee(f"math.{attr}") if value is not None or known else None
        sibling = self.sibling(node)
        if sibling is None:
            return None
        if not attr:  # import helpers [as h]
            return UserModule(module)
        found = sibling(attr)  # from helpers import sq [as s]: generated code reads a list by the name here
        return replace(found, name=name, foreign=None) if isinstance(found, Data) else found

    def sibling(self, node: ast.AST | None) -> StaticModule | None:
        """The module an `import helpers` or `from helpers import ...` names, where it is a file next to this
        one (`helpers.py`), read the same way: never imported nor run."""
        if not isinstance(node, ast.alias):
            return None
        module = node.name.partition(":")[0]
        if not module.isidentifier():  # a package's module (`a.b`): not followed
            return None
        return StaticModule.for_file(os.path.join(os.path.dirname(self.filename), f"{module}.py"), imported=True)

    def constant(self, node: ast.expr, seen: frozenset[str]) -> object:
        """The value of a constant expression of numbers, as Python computes it: literals, `+ - * / // % **`,
        unary `-` and `+`, other such module constants, `math.pi` and the like, calls of the math functions of
        the rule table on such values (`math.sqrt(2.0)`), and lists and tuples of them. None for anything else.
        The tree is walked; nothing is evaluated that is not a number operation of our own choosing."""
        try:
            return _Constant(self, seen).value(node)
        except _NotConstant:
            return None


class _NotConstant(Exception):
    """The expression is not a constant expression of numbers."""


_OPERATORS: dict[type, Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,
}
_LARGEST_POWER = 10_000  # bits of an int power computed (2 ** 10 ** 9 is refused, not computed for hours)


class _Constant:
    """The value of a module-level constant expression (see `StaticModule.constant`)."""

    def __init__(self, module: StaticModule, seen: frozenset[str]) -> None:
        self.module = module
        self.seen = seen  # the constants being evaluated: `A = B + 1; B = A` is no constant

    def value(self, node: ast.expr) -> Any:
        if isinstance(node, ast.Constant) and isinstance(node.value, bool | int | float):
            return node.value
        if isinstance(node, (ast.List, ast.Tuple)):
            return [self.value(e) for e in node.elts]
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            operand = self.number(node.operand)
            return -operand if isinstance(node.op, ast.USub) else +operand
        if isinstance(node, ast.BinOp) and type(node.op) in _OPERATORS:
            left, right = self.number(node.left), self.number(node.right)
            if isinstance(node.op, ast.Pow) and isinstance(left, int) and isinstance(right, int):
                if right > 0 and max(1, abs(left).bit_length()) * right > _LARGEST_POWER:
                    raise _NotConstant()
            return self.computed(_OPERATORS[type(node.op)], left, right)
        if isinstance(node, ast.Name):
            return self.named(node.id)
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            return self.attribute(node.value.id, node.attr)
        if isinstance(node, ast.Call) and not node.keywords:
            return self.called(node)
        raise _NotConstant()

    def named(self, name: str) -> Any:
        """Another constant of the module, or one it imports (`from math import pi`, `from helpers import SCALE`)."""
        if name in self.seen:
            raise _NotConstant()
        bound = self.module.names.get(name)
        if isinstance(bound, ast.expr):
            return _Constant(self.module, self.seen | {name}).value(bound)
        resolved = self.module.resolved(name)
        if isinstance(resolved, Constant):
            return resolved.value
        raise _NotConstant()

    def attribute(self, base: str, attr: str) -> Any:
        """`math.pi` and the math module's other constants; `helpers.SCALE` of a module next to this one."""
        module = self.module.resolved(base)
        if isinstance(module, MathModule) and isinstance(getattr(math, attr, None), float):
            return getattr(math, attr)  # math.pi, math.e, math.tau, math.inf, math.nan
        if isinstance(module, UserModule):
            member = self.module(f"{base}.{attr}")
            if isinstance(member, Constant):
                return member.value
        raise _NotConstant()

    def number(self, node: ast.expr) -> Any:
        value = self.value(node)
        if not isinstance(value, bool | int | float):
            raise _NotConstant()
        return value

    def called(self, node: ast.Call) -> Any:
        """`math.sqrt(2.0)`, `float(3)`: a function of the rule table (not a list operation) of constants."""
        func = node.func
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
            spelling = f"math.{func.attr}" if isinstance(self.module.resolved(func.value.id), MathModule) else None
        elif isinstance(func, ast.Name):
            resolved = self.module.resolved(func.id)
            spelling = resolved.spelling if isinstance(resolved, Callee) else None
        else:
            spelling = None
        op = CALLS.get((spelling or "", len(node.args)))
        if op is None or RULES[op].structural or not RULES[op].pure:
            raise _NotConstant()
        return self.computed(RULES[op].evaluate, *(self.number(a) for a in node.args))

    @staticmethod
    def computed(function: Callable[..., Any], *args: Any) -> Any:
        try:
            value = function(*args)
        except (ArithmeticError, ValueError, TypeError, AttributeError):  # 1 / 0, math.log(-1): Python raises at import
            raise _NotConstant() from None
        if not isinstance(value, bool | int | float):
            raise _NotConstant()
        return value


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
