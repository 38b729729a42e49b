"""From a live callable to a `ParsedFunction`: functions, methods, partials and custom derivatives.

`from_callable` is the decorator's way in. Each kind of callable is turned
into a `def` node and a resolver: a bound method's object becomes data read
as `self.attr`, a `functools.partial`'s bound arguments become data, a
`custom_derivative` becomes a function that calls it (so that its own
derivative is used). Anything without Python source is refused here, with a
hint.
"""

from __future__ import annotations

import ast
import functools
import inspect
import types
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from ..errors import S2SError, SignatureError, SourceError, UnsupportedError
from .live import RuntimeResolver, classify, custom_class
from .parsed import Callee, Constant, Custom, Data, Helper, ParsedFunction, Resolved, Source
from .parsing import copy_def, lambda_error, linecache_lines, parse_def
from .reads import MISSING, Reads
from .static import StaticModule


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
    if isinstance(target, types.FunctionType) and target.__dict__.get("__s2s_ad_checks__"):
        target = target.__dict__["__wrapped__"]  # a generated gradient behind its check of its arguments (`api._guarded`)
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
    custom = custom_class()
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
        raise lambda_error(func)
    found = _def_in_module(func)
    static: StaticModule | None
    start = func.__code__.co_firstlineno
    if found is not None:
        in_module, filename, file_lines, static = found
    else:
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
        file_lines = linecache_lines(filename) or ("",) * (start - 1) + tuple(line.rstrip("\n") for line in lines)
        static = StaticModule.for_file(filename)
    unbound_self = owner is MISSING and _defined_in_class(func) and _first_parameter(func) in ("self", "cls")
    if found is not None and owner is MISSING and not unbound_self:  # the module's own `def`, shared: nothing changes it
        node = copy_def(in_module, deep=False)
    else:  # a copy of its own, whose `self.attr` reads are rewritten
        if found is not None:
            lines = [line + "\n" for line in file_lines[start - 1 : in_module.end_lineno]]
        node = parse_def(lines, start, filename, file_lines, name)
    if node.name != func.__code__.co_name:  # the file changed since the function was loaded: another function's lines
        raise SourceError(
            f"the source of function '{name}' has changed since it was loaded: line {start} of {filename} now holds "
            f"'{node.name}'",
            filename=filename,
            lineno=start,
            hint="reload the module (or restart Python) so that the function and its file agree",
        )
    source = Source(filename, file_lines)
    if reads is None:  # the lookups are still noted: two different lists under one name are refused (`classify`)
        reads = Reads()
    reads.note(func, "__code__", func.__code__)
    resolver = RuntimeResolver(func, static, reads)
    data_params: tuple[str, ...] = ()
    if owner is not MISSING:
        resolver.owner = owner
        resolver.owner_name = _bound_parameter(node, source, name)
        _read_through(node, resolver.owner_name, source, None)
    elif unbound_self:
        first = (node.args.posonlyargs or node.args.args)[0].arg
        _read_through(node, first, source, f"{func.__qualname__.rpartition('.')[0]}.{name}")
        data_params = (first,)
    return ParsedFunction(name, node, source, resolver, func.__qualname__, data_params)


def _def_in_module(func: types.FunctionType) -> tuple[ast.FunctionDef, str, tuple[str, ...], StaticModule] | None:
    """`func`'s `def` in its module as parsed, the module's file name, its lines, and the module: found in the
    parsed module, which knows where each `def` ends, rather than by tokenizing the file from the function's
    first line and parsing those lines again (`inspect.getsourcelines`). None where the module cannot say: no
    file, or a file whose text is no longer the one the function was loaded from."""
    filename = func.__code__.co_filename
    static = StaticModule.for_file(filename)
    file_lines = linecache_lines(filename)
    if static is None or file_lines is None or static.source.lines != file_lines:
        return None
    node = static.definition(func.__code__.co_firstlineno, func.__code__.co_name)
    if node is None or node.end_lineno is None:
        return None
    return node, filename, file_lines, static


def _first_parameter(func: types.FunctionType) -> str | None:
    code = func.__code__
    return code.co_varnames[0] if code.co_argcount else None  # the count includes positional-only ones


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
        if not isinstance(found, (Constant, Data, Helper, Callee, Custom)):  # a function: called by the name it binds
            raise refuse(
                f"binds '{key}' to {type(value).__name__}: only a number, a list of numbers or a function can be bound",
                "bind numbers, lists of numbers and functions; pass anything else to the function you differentiate",
            )
        resolved[key] = found
        if reads is not None and isinstance(found, Data):
            reads.data[key] = value
    node = copy_def(inner.node, deep=False)
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
    node = copy_def(primal.node, deep=False)
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
