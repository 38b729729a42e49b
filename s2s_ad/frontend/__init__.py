"""Find a function's source, parse it, and resolve every free name it uses.

Two ways in: from a live function object (the decorator), where names are
looked up in the function's closure, globals and builtins; or statically from
a source file (the command line), where names come from the module's own
imports, definitions and literal constants, and nothing is imported or run.
Either way the result is a `ParsedFunction`: the `def` node, its source, and
an environment that answers "what is this name?" for the later stages.

Besides plain functions, `from_callable` takes what else has source: bound
methods and class methods (the object they are bound to is data: its
attributes read as `self.w` are numbers compiled in, or lists the generated
code reads), functions read off a class, `functools.partial` objects (the
bound arguments are data; the remaining parameters are differentiated) and
`custom_derivative` functions. A live lookup can be recorded in `Reads`, so
that a cache can later tell, without parsing again, whether every name still
holds what it held.
"""

from __future__ import annotations

import ast
import builtins
import functools
import inspect
import math
import os
import textwrap
import types
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from ..errors import ResolutionError, S2SError, SignatureError, SourceError, UnsupportedError

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
    data_params: tuple[str, ...] = ()  # parameters that are data, never differentiated (`self` of `Model.loss`)


# -- what a build read -------------------------------------------------------

MISSING = object()  # what `Reads` records for a name that was not bound


Lookups = tuple[tuple[tuple[Any, str, object], ...], tuple[tuple[Any, object], ...], tuple[tuple[Any, str, object], ...]]


class Reads:
    """The live lookups one build made, each once: where, which name, and the object found.

    `where` is a namespace (a module's globals, the builtins, an object's or
    a class's `__dict__`), a closure cell (the name is ""), or an object whose
    attribute was read (a function's `__code__`). `holds(reads.frozen())`
    tells whether every lookup still finds the same object, which is how a
    cache knows that a gradient built earlier is still right without reading
    the source again. `data` is the lists of numbers found, by the name
    generated code reads them under.
    """

    def __init__(self) -> None:
        self._found: dict[tuple[int, str], tuple[object, str, object]] = {}
        self.data: dict[str, object] = {}

    def note(self, where: object, name: str, value: object) -> None:
        self._found.setdefault((id(where), name), (where, name, value))

    def places(self) -> list[object]:
        """Every namespace, cell and object looked into."""
        return [where for where, _, _ in self._found.values()]

    def frozen(self, skip: object = None) -> Lookups:
        """The lookups for `holds`, sorted by kind (namespaces, cells, attributes); `skip`: an object whose
        attribute reads the caller checks itself (the function a cache entry is kept under)."""
        namespaces, cells, attributes = [], [], []
        for where, name, value in self._found.values():
            kind = type(where)
            if kind is dict or kind is types.MappingProxyType:
                namespaces.append((where, name, value))
            elif kind is types.CellType:
                cells.append((where, value))
            elif where is not skip:
                attributes.append((where, name, value))
        return tuple(namespaces), tuple(cells), tuple(attributes)


def holds(reads: Lookups) -> bool:
    """Whether every lookup of `reads` (see `Reads.frozen`) still finds what it found.

    The same object passes; so does a number of the same type and value (a
    module constant assigned again). This runs on every cache hit: a few
    dictionary lookups, no parsing.
    """
    namespaces, cells, attributes = reads
    for where, name, expected in namespaces:
        found = where.get(name, MISSING)
        if found is not expected and not same_number(found, expected):
            return False
    for cell, expected in cells:
        try:
            found = cell.cell_contents
        except ValueError:
            found = MISSING
        if found is not expected and not same_number(found, expected):
            return False
    for where, name, expected in attributes:
        if getattr(where, name, MISSING) is not expected:
            return False
    return True


def same_number(a: object, b: object) -> bool:
    """Equal numbers of one type that generated code cannot tell apart (0.0 and -0.0 differ, nan never matches)."""
    kind = type(a)
    if kind is not type(b) or kind not in (int, float, bool):
        return False
    return a == b and (kind is not float or a != 0.0 or math.copysign(1.0, a) == math.copysign(1.0, b))  # type: ignore[arg-type]


# -- from a function object --------------------------------------------------


def from_callable(target: object, reads: Reads | None = None) -> ParsedFunction:
    """Parse anything callable that has source.

    A plain function; a bound method or class method (the object it is bound
    to is data: `self.w` reads its attribute); a function read off a class
    (`Model.loss`: `self` stays a parameter, as data); a static method; a
    `functools.partial` (its bound arguments are data, the remaining
    parameters are differentiated); a `custom_derivative` function (its own
    derivative is used); an object whose class defines `__call__` (that
    method, bound to the object, named after the class).
    """
    if isinstance(target, types.FunctionType):
        return from_function(target, reads)
    if isinstance(target, types.MethodType):
        if not isinstance(target.__func__, types.FunctionType):
            _refuse_object(target)
        return from_function(target.__func__, reads, owner=target.__self__)
    if isinstance(target, functools.partial):
        return _from_partial(target, reads)
    if isinstance(target, staticmethod):
        return from_callable(target.__func__, reads)
    if isinstance(target, classmethod):
        raise SourceError(
            f"cannot differentiate {target!r}: a class method needs its class",
            hint="read it off the class: grad(Model.method)",
        )
    custom = _custom_class()
    if isinstance(target, custom):
        return _from_custom(target, reads)
    call = type(target).__call__ if callable(target) else None  # type: ignore[operator]
    if isinstance(call, types.FunctionType):  # an object with a `__call__` method of its own: that method, bound
        return replace(from_function(call, reads, owner=target), name=type(target).__name__)
    _refuse_object(target)
    raise AssertionError("unreachable")


def _refuse_object(target: object) -> None:
    raise SourceError(
        f"cannot differentiate {target!r}: it is not a Python function with source code",
        hint="pass a function defined with `def` in a file (or a method, a functools.partial of one, a @custom_derivative)",
    )


def _custom_class() -> type:
    from ..api import CustomDerivative  # the one object of ours a user function may call

    return CustomDerivative


def from_function(func: object, reads: Reads | None = None, *, owner: object = MISSING) -> ParsedFunction:
    """Parse a live function; its free names resolve against its closure and globals.

    With an `owner`, the function is a method bound to it: its first
    parameter (`self`, `cls`) is dropped, and `self.attr` reads the owner's
    attribute, as data. A function defined in a class whose first parameter
    is `self` or `cls` and that has no owner (`Model.loss`) keeps that
    parameter as data: it is never differentiated.
    """
    if isinstance(func, (types.BuiltinFunctionType, types.BuiltinMethodType)) or not isinstance(func, types.FunctionType):
        _refuse_object(func)
    assert isinstance(func, types.FunctionType)
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
    source = Source(filename, file_lines)
    if reads is not None:
        reads.note(func, "__code__", func.__code__)
    static = _StaticModule.for_file(filename)
    resolver = _RuntimeResolver(func, static, reads)
    data_params: tuple[str, ...] = ()
    if owner is not MISSING:
        resolver.owner = owner
        resolver.owner_name = _bound_parameter(node, source, name)
        _read_through(node, resolver.owner_name, source, None)
    elif _defined_in_class(func) and node.args.args and node.args.args[0].arg in ("self", "cls"):
        first = node.args.args[0].arg
        _read_through(node, first, source, f"{func.__qualname__.rpartition('.')[0]}.{name}")
        data_params = (first,)
    return ParsedFunction(name, node, source, resolver, func.__qualname__, data_params)


def _defined_in_class(func: types.FunctionType) -> bool:
    """`Model.loss`: the function's qualified name says it was defined in a class body."""
    outer, _, _ = func.__qualname__.rpartition(".")
    return bool(outer) and not outer.endswith("<locals>")


def _bound_parameter(node: ast.FunctionDef, source: Source, name: str) -> str:
    """Drop a bound method's first parameter (the object it is bound to) and return its name."""
    params = node.args
    if params.posonlyargs:
        first, params.posonlyargs = params.posonlyargs[0], params.posonlyargs[1:]
    elif params.args:
        first, params.args = params.args[0], params.args[1:]
    else:
        raise source.error(SignatureError, f"method '{name}' has no parameter for the object it is bound to", node)
    return first.arg


def _read_through(node: ast.FunctionDef, owner: str, source: Source, unbound: str | None) -> None:
    """Turn each `self.attr` read of a method's body into the name `self.attr`, which the resolver answers.

    The name is not a Python identifier, so it cannot clash with the user's
    names; messages quote it as written. Anything else done with `self`
    (assigning an attribute, passing `self` on) is refused here, as is any
    read when the method was not bound to an object (`unbound` is then how
    it was reached, for the message).
    """

    class Rewrite(ast.NodeTransformer):
        def visit_Attribute(self, attribute: ast.Attribute) -> ast.AST:
            base = attribute.value
            if not (isinstance(base, ast.Name) and base.id == owner):
                return self.generic_visit(attribute)
            written = f"{owner}.{attribute.attr}"
            if not isinstance(attribute.ctx, ast.Load):
                raise source.error(
                    UnsupportedError,
                    f"assigning to '{written}' changes the object: a differentiated function cannot have side effects",
                    attribute,
                    "compute into a local name and return it",
                )
            if unbound is not None:
                raise source.error(
                    UnsupportedError,
                    f"'{written}' reads the object the method is called on; {unbound} takes it as an argument, "
                    "so its attributes are not known when the gradient is written",
                    attribute,
                    f"differentiate the method of one object instead: grad(obj.{node.name})",
                )
            return ast.copy_location(ast.Name(id=written, ctx=ast.Load()), attribute)

        def visit_Name(self, name: ast.Name) -> ast.AST:
            if name.id == owner and unbound is None:
                raise source.error(
                    UnsupportedError,
                    f"'{owner}' can only be read as {owner}.<attribute> in a differentiated method",
                    name,
                    f"read the numbers it holds, {owner}.w, or pass them as arguments",
                )
            return name

    body = [Rewrite().visit(stmt) for stmt in node.body]
    node.body = body


def _from_partial(target: functools.partial, reads: Reads | None) -> ParsedFunction:  # type: ignore[type-arg]
    """A `functools.partial`: its bound arguments become data, the remaining parameters are differentiated.

    Positional arguments bind the first parameters, keywords bind by name;
    the generated function takes the remaining parameters in their order.
    """
    func, args = target.func, target.args
    if isinstance(func, types.FunctionType) and args and _defined_in_class(func):
        code = func.__code__
        if code.co_argcount and code.co_varnames[0] in ("self", "cls"):
            func, args = types.MethodType(func, args[0]), args[1:]  # partial(Model.loss, model) is model.loss
    inner = from_callable(func, reads)
    params = list(inner.node.args.args)
    names = [p.arg for p in params]
    spelled = f"functools.partial({inner.qualname or inner.name}, ...)"

    def refuse(message: str, hint: str | None = None) -> S2SError:
        return inner.source.error(SignatureError, f"{spelled}: {message}", inner.node, hint)

    if len(args) > len(names):
        raise refuse(f"binds {len(args)} positional arguments, but '{inner.name}' takes {len(names)}")
    bound: dict[str, object] = dict(zip(names, args))
    for key, value in target.keywords.items():
        if key not in names:
            raise refuse(f"binds '{key}', which is not a parameter of '{inner.name}'", "parameters are: " + ", ".join(names))
        if key in bound:
            raise refuse(f"binds '{key}' twice")
        bound[key] = value
    resolved: dict[str, Resolved] = {}
    for key, value in bound.items():
        found = classify(key, value)
        if not isinstance(found, (Constant, Data)):
            raise refuse(
                f"binds '{key}' to {type(value).__name__}: only a number or a list of numbers can be bound",
                "bind numbers and lists of numbers; pass anything else to the function you differentiate",
            )
        resolved[key] = found
        if reads is not None and isinstance(found, Data):
            reads.data[key] = value
    node = _copy_def(inner.node, deep=False)
    node.args.args = [p for p in params if p.arg not in bound]
    if not node.args.args:
        raise refuse("binds every parameter: nothing is left to differentiate")
    data_params = tuple(p for p in inner.data_params if p not in bound)
    return ParsedFunction(inner.name, node, inner.source, _Bound(inner.resolve, resolved), inner.qualname, data_params)


def _from_custom(custom: Any, reads: Reads | None) -> ParsedFunction:
    """A `custom_derivative` function: a function that calls it, so that its own derivative is used."""
    primal = from_function(custom.primal, reads)
    name = primal.name
    if custom.derivative is None:
        raise primal.source.error(
            UnsupportedError, f"'{name}' has no derivative yet", primal.node, f"give it one with @{name}.defderiv"
        )
    if reads is not None:
        for attribute in ("primal", "derivative", "sympy", "derivative_sympy"):
            reads.note(custom, attribute, getattr(custom, attribute))
    node = _copy_def(primal.node, deep=False)
    first = node.body[0]
    call = ast.Call(
        func=ast.Name(id=name, ctx=ast.Load()), args=[ast.Name(id=p.arg, ctx=ast.Load()) for p in node.args.args], keywords=[]
    )
    node.body = [ast.Return(value=call)]
    for made in ast.walk(node.body[0]):
        ast.copy_location(made, first)
    resolved: dict[str, Resolved] = {name: Custom(name, custom)}
    return ParsedFunction(name, node, primal.source, _Bound(primal.resolve, resolved), primal.qualname)


class _Bound:
    """A resolver that answers some names itself (arguments a partial binds) and asks another for the rest."""

    def __init__(self, inner: Callable[[str], Resolved | None], bound: dict[str, Resolved]) -> None:
        self.inner = inner
        self.bound = bound

    def __call__(self, name: str) -> Resolved | None:
        found = self.bound.get(name)
        return found if found is not None else self.inner(name)


def _lambda_error(func: types.FunctionType) -> S2SError:
    filename, lineno = func.__code__.co_filename, func.__code__.co_firstlineno
    lines = _file_lines(filename)
    line = lines[lineno - 1] if lines and 1 <= lineno <= len(lines) else None
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
    """Names of a live function: closure, then globals, then builtins; then the module's source.

    Every lookup is noted in `reads` (when given), with what it found or
    `MISSING`, so that a later lookup that would find something else (a
    rebound helper, a changed constant, a new global shadowing a builtin)
    can be noticed. A method's `self.attr` (see `_read_through`) reads the
    attribute of `owner`.
    """

    def __init__(self, func: types.FunctionType, static: _StaticModule | None, reads: Reads | None = None) -> None:
        self.func = func
        self.static = static
        self.reads = reads
        self.owner: object = MISSING
        self.owner_name = ""

    def __call__(self, name: str) -> Resolved | None:
        func = self.func
        code = func.__code__
        reads = self.reads
        if self.owner is not MISSING and name.startswith(self.owner_name + "."):
            return self.attribute(name, name[len(self.owner_name) + 1 :])
        if name in code.co_freevars and func.__closure__:
            cell = func.__closure__[code.co_freevars.index(name)]
            try:
                value = cell.cell_contents
            except ValueError:  # an empty cell: the name is not assigned yet
                if reads is not None:
                    reads.note(cell, "", MISSING)
                return None
            if reads is not None:
                reads.note(cell, "", value)
            return classify(name, value, reads)
        namespace = func.__globals__
        if name in namespace:
            value = namespace[name]
            if reads is not None:
                reads.note(namespace, name, value)
            return classify(name, value, reads)
        if reads is not None:
            reads.note(namespace, name, MISSING)
        if self.static is not None:
            found = self.static(name)
            if isinstance(found, Helper):  # defined later in the same file than the decorated function
                return found
        value = builtins.__dict__.get(name, MISSING)
        if reads is not None:
            reads.note(builtins.__dict__, name, value)
        return None if value is MISSING else classify(name, value, reads)

    def attribute(self, name: str, attr: str) -> Resolved | None:
        """`self.attr` of a bound method: the object's own attribute, else its class's (no properties)."""
        owner, reads = self.owner, self.reads
        classes = owner.__mro__ if isinstance(owner, type) else type(owner).__mro__
        if not isinstance(owner, type):
            own = getattr(owner, "__dict__", None)
            if isinstance(own, dict):
                value = own.get(attr, MISSING)
                if reads is not None:
                    reads.note(own, attr, value)
                if value is not MISSING:
                    return self.attribute_value(name, value)
        for klass in classes:
            namespace = klass.__dict__
            value = namespace.get(attr, MISSING)
            if reads is not None:
                reads.note(namespace, attr, value)
            if value is MISSING:
                continue
            if isinstance(value, staticmethod):
                return self.attribute_value(name, value.__func__)
            if isinstance(value, classmethod):
                bound_to = owner if isinstance(owner, type) else type(owner)
                return self.attribute_value(name, types.MethodType(value.__func__, bound_to))
            if isinstance(value, types.FunctionType) and not isinstance(owner, type):
                return self.attribute_value(name, types.MethodType(value, owner))
            if hasattr(type(value), "__get__") and not isinstance(value, types.FunctionType):
                raise UnsupportedError(
                    f"'{name}' is a {type(value).__name__}, which runs code when it is read",
                    hint="read a plain attribute holding a number or a list of numbers, or call a method",
                )
            return self.attribute_value(name, value)
        return None

    def attribute_value(self, name: str, value: object) -> Resolved | None:
        found = classify(name, value, self.reads)
        if isinstance(found, Custom):
            raise UnsupportedError(
                f"'{name}' is a custom-derivative function read through the object",
                hint=f"call it by its own name, {getattr(value, '__name__', name)}(...), from the module that defines it",
            )
        return found


def classify(name: str, value: object, reads: Reads | None = None) -> Resolved | None:
    """What a live object is to the lowering, or None if it is nothing differentiable.

    `reads`, when given, goes on recording the lookups of helpers, so that a
    cache notices a changed helper of a helper; lists of numbers are noted
    in it under `name`, the name generated code reads them by.
    """
    if value is math:
        return MathModule()
    if isinstance(value, bool | int | float):
        return Constant(value)
    if isinstance(value, _custom_class()):
        return Custom(name, value)
    for spelling in BUILTIN_CALLEES:
        if value is getattr(builtins, spelling):
            return Callee(spelling)
    if isinstance(value, types.BuiltinFunctionType) and getattr(value, "__module__", None) == "math":
        return Callee(f"math.{value.__name__}")
    if isinstance(value, types.FunctionType):
        target = getattr(value, "__wrapped_primal__", value)  # a function decorated with @grad
        return Helper(name, lambda: from_function(target, reads))
    if isinstance(value, (types.MethodType, functools.partial)):
        return Helper(name, lambda: from_callable(value, reads))
    if _is_number_data(value):
        if reads is not None:
            reads.data.setdefault(name, value)
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
        names: list[tuple[str, ast.AST]] = []
        for node in ast.walk(stmt) if not isinstance(stmt, ast.ClassDef) else []:
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                names.append((node.id, ast.Pass()))
        if isinstance(stmt, ast.ClassDef):
            names.append((stmt.name, ast.Pass()))
        return names
    return []


def _copy_def(node: ast.FunctionDef, deep: bool = True) -> ast.FunctionDef:
    """A copy of a `def` without its decorators; shallow copies only the node and its parameter list."""
    import copy

    if deep:
        node = copy.deepcopy(node)
    else:
        node = copy.copy(node)
        node.args = copy.copy(node.args)
    node.decorator_list = []
    return node


def _read_text(filename: str) -> str:
    with open(filename, encoding="utf-8") as handle:
        return handle.read()


def from_file(path: str | os.PathLike[str], name: str) -> ParsedFunction:
    """Parse function `name` of a source file, statically."""
    return static_module(path).function(name)


def static_module(path: str | os.PathLike[str]) -> _StaticModule:
    filename = os.fspath(path)
    try:
        text = _read_text(filename)
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
