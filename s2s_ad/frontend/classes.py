"""The methods of a source file's top-level classes, read without running it (the command line's `FILE:Class.method`).

A method is differentiated without an object:

- a `@staticmethod` is a function;
- a `@classmethod` loses its first parameter (`cls`): `cls.X` reads the class;
- a plain method keeps its first parameter (`self`) as data: the generated
  gradient takes it first and never differentiates it.

What a method reads through its class (`self.X`, `cls.X`, `Ops.X`) is
answered from the class body as the file writes it:

- a number bound there by a constant expression (`SCALE = 2.0`, `RATE =
  SCALE * 3`) is a constant: a whole number is compiled in, a float is read
  by a name of its own (`Ops_SCALE`, see `constant_names`) that the command
  line writes out in the gradient module, as it writes the module's own
  constants. `self.X` reads it too, unless a method of the class assigns
  `self.X` (then it is the object's own attribute);
- a method of the class called through it (`self.helper(x)`,
  `cls.helper(x)`, `Ops.helper(x)`) is inlined as a helper function is;
- anything else read through `self` is an attribute of an object, which the
  command line does not have: refused, with a way out.

Bases are followed where they are top-level classes of the same file with one
base each (or none); what a class with another base (`Enum`, `NamedTuple`,
`nn.Module`, several bases) inherits, or how such a base changes the class's
own numbers, is not known statically, so numbers are then refused, while
methods the class itself defines are still found. In a class with decorators
(`@dataclass`), `w: float = 1.0` may be a field of each object rather than a
class constant: refused unless annotated `ClassVar`. The class is the one
named: a subclass that redefines a number or a method is not seen.
"""

from __future__ import annotations

import ast
import functools
import math
from dataclasses import dataclass

from ..errors import ResolutionError, S2SError, SignatureError, UnsupportedError
from .parsed import Constant, Data, Helper, ParsedFunction, Resolved
from .parsing import copy_def
from .static import StaticModule, _bindings, _Constant, _NotConstant

STATIC, CLASS, PLAIN, PROPERTY = "static", "class", "plain", "property"


class NeedsObject(UnsupportedError):
    """A method reads an attribute of its object (`self.w`), which only an object holds: the command line has none."""


@dataclass(frozen=True)
class _Binding:
    """One binding of a name in a class body: its position, and what the statement says it is."""

    index: int  # the statement's position in the class body
    kind: str  # "assign", "annotated" (a value with an annotation), "declared" (an annotation alone), "def", "other"
    node: ast.AST  # the value, the `def`, or the statement


@dataclass(frozen=True)
class _Class:
    """A top-level class: its body's bindings in order, and its bases."""

    name: str
    node: ast.ClassDef
    bindings: dict[str, tuple[_Binding, ...]]

    def final(self, attr: str) -> _Binding | None:
        """What the class holds under `attr` once its body has run (the last binding)."""
        found = self.bindings.get(attr)
        return found[-1] if found else None

    def before(self, attr: str, index: int) -> _Binding | None:
        """What `attr` is while the class body runs its statement `index` (the last binding before it), if bound yet."""
        found = [b for b in self.bindings.get(attr, ()) if b.index < index]
        return found[-1] if found else None


def top_level_classes(module: StaticModule) -> dict[str, ast.ClassDef]:
    """The top-level classes of the file, in file order: those whose name nothing else at top level binds."""
    counts: dict[str, int] = {}
    for stmt in module.tree.body:
        for name, _ in _bindings(stmt):
            counts[name] = counts.get(name, 0) + 1
    return {s.name: s for s in module.tree.body if isinstance(s, ast.ClassDef) and counts.get(s.name) == 1}


def methods_of(node: ast.ClassDef) -> list[ast.FunctionDef | ast.AsyncFunctionDef]:
    """The `def`s of a class body, in order (a name defined twice: the last one, where the first was)."""
    found: dict[str, ast.FunctionDef | ast.AsyncFunctionDef] = {}
    for stmt in node.body:
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
            found[stmt.name] = stmt
    return list(found.values())


def method_kind(node: ast.FunctionDef | ast.AsyncFunctionDef) -> str:
    """`STATIC`, `CLASS`, `PROPERTY` (`@property`, `@x.setter`, `@cached_property`) or `PLAIN`, by its decorators."""
    for decorator in node.decorator_list:
        target = decorator.func if isinstance(decorator, ast.Call) else decorator
        name = target.attr if isinstance(target, ast.Attribute) else target.id if isinstance(target, ast.Name) else ""
        if name == "staticmethod":
            return STATIC
        if name == "classmethod":
            return CLASS
        if name in ("property", "cached_property", "setter", "getter", "deleter"):
            return PROPERTY
    return PLAIN


def find_method(module: StaticModule, class_name: str, method: str) -> ast.FunctionDef | ast.AsyncFunctionDef | None:
    """The `def` of `class_name.method`: the class's own, else a base's (bases followed as the module docstring
    says); None if the file has no such class or it no such method."""
    klass = _classes(module).get(class_name)
    if klass is None:
        return None
    _, binding = _lookup(module, klass, method)
    if binding is None or not isinstance(binding.node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return None
    return binding.node


def method_function(module: StaticModule, class_name: str, method: str) -> ParsedFunction:
    """The method `class_name.method` of the file as a function to differentiate (see the module docstring).

    Its name is `<Class>_<method>` (the generated gradient is `Ops_softplus_grad`),
    its qualified name `Class.method`.
    """
    return _method(module, class_name, method, helper=False)


def _method(module: StaticModule, receiver: str, method: str, *, helper: bool) -> ParsedFunction:
    """`receiver.method`: the method found on the class `receiver` (or a base), its reads through the class
    answered for `receiver`. As a helper (called through the class from another method), a plain method's
    `self` is dropped too: it is the caller's object, read only through its class."""
    klass = _class(module, receiver)
    where, binding = _lookup(module, klass, method)
    spelled = f"{receiver}.{method}"
    if binding is None or binding.kind != "def":
        defined = [m.name for m in methods_of(klass.node)]
        raise ResolutionError(
            f"class '{receiver}' has no method '{method}'",
            filename=module.filename,
            lineno=klass.node.lineno,
            hint=(f"methods of {receiver}: " + ", ".join(defined)) if defined else f"{receiver} defines no methods",
        )
    node = binding.node
    assert isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and where is not None
    if isinstance(node, ast.AsyncFunctionDef):
        raise module.source.error(
            UnsupportedError, "async functions cannot be differentiated", node, "define the method with a plain `def`"
        )
    kind = method_kind(node)
    if kind == PROPERTY:
        raise module.source.error(
            UnsupportedError,
            f"'{spelled}' is a property: it is read, not called, and has no parameters to differentiate",
            node,
            "differentiate a method that takes the numbers as parameters",
        )
    copy = copy_def(node)
    owner = None
    data_params: tuple[str, ...] = ()
    if kind != STATIC:
        params = copy.args
        positional = params.posonlyargs if params.posonlyargs else params.args
        if not positional:
            what = "class" if kind == CLASS else "object"
            raise module.source.error(SignatureError, f"method '{spelled}' has no parameter for the {what} it is called on", node)
        owner = positional[0].arg
        if kind == CLASS or helper:  # the class, or the caller's object: read only through the class
            del positional[0]
        else:
            data_params = (owner,)  # `self` stays the first parameter, as data
    resolved: dict[str, Resolved] = {}
    _Rewrite(module, klass, where, owner, kind, copy, resolved).run(binding.index)
    name = spelled if helper else f"{receiver}_{method}"
    return ParsedFunction(name, copy, module.source, _Resolver(module, resolved), spelled, data_params)


class _Resolver:
    """A method's names: what its reads through the class became, then the module's names."""

    def __init__(self, module: StaticModule, resolved: dict[str, Resolved]) -> None:
        self.module = module
        self.resolved = resolved

    def __call__(self, name: str) -> Resolved | None:
        found = self.resolved.get(name)
        if found is not None:
            return found
        constant = _constant_of_name(self.module).get(name)  # a number of a class read by a method inlined here
        if constant is not None:
            return _number_resolved(self.module, *constant)
        return self.module(name)


@functools.cache
def _classes(module: StaticModule) -> dict[str, _Class]:
    found = {}
    for name, node in top_level_classes(module).items():
        bindings: dict[str, list[_Binding]] = {}
        for index, stmt in enumerate(node.body):
            for attr, binding in _class_bindings(index, stmt):
                bindings.setdefault(attr, []).append(binding)
        found[name] = _Class(name, node, {k: tuple(v) for k, v in bindings.items()})
    return found


def _class_bindings(index: int, stmt: ast.stmt) -> list[tuple[str, _Binding]]:
    if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return [(stmt.name, _Binding(index, "def", stmt))]
    if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name):
        return [(stmt.targets[0].id, _Binding(index, "assign", stmt.value))]
    if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
        if stmt.value is None:
            return [(stmt.target.id, _Binding(index, "declared", stmt))]
        class_var = any(isinstance(n, (ast.Name, ast.Attribute)) and _tail(n) == "ClassVar" for n in ast.walk(stmt.annotation))
        return [(stmt.target.id, _Binding(index, "assign" if class_var else "annotated", stmt.value))]
    return [(name, _Binding(index, "other", stmt)) for name, _ in _bindings(stmt)]


def _tail(node: ast.Name | ast.Attribute) -> str:
    return node.attr if isinstance(node, ast.Attribute) else node.id


def _class(module: StaticModule, name: str) -> _Class:
    classes = _classes(module)
    if name not in classes:
        defined = list(classes)
        raise ResolutionError(
            f"no top-level class '{name}'",
            filename=module.filename,
            hint=("top-level classes: " + ", ".join(defined)) if defined else "the file defines no top-level classes",
        )
    return classes[name]


def _chain(module: StaticModule, klass: _Class) -> tuple[list[_Class], str | None]:
    """The class and the bases followed, in lookup order; the first base not followed, as written (None: all were)."""
    chain = [klass]
    current = klass
    while True:
        node = current.node
        if node.keywords:
            return chain, ast.unparse(node.keywords[0])
        bases = [b for b in node.bases if not (isinstance(b, ast.Name) and b.id == "object")]
        if not bases:
            return chain, None
        if len(bases) > 1:
            return chain, ", ".join(ast.unparse(b) for b in bases)
        base = bases[0]
        following = _classes(module).get(base.id) if isinstance(base, ast.Name) else None
        if following is None or following in chain:
            return chain, ast.unparse(base)
        chain.append(following)
        current = following


def _lookup(module: StaticModule, klass: _Class, attr: str) -> tuple[_Class | None, _Binding | None]:
    """Where `klass.attr` is found once the class exists (the class itself, then the bases followed)."""
    chain, _ = _chain(module, klass)
    for candidate in chain:
        binding = candidate.final(attr)
        if binding is not None:
            return candidate, binding
    return None, None


@functools.cache
def _constant_names(module: StaticModule) -> dict[tuple[str, str], str]:
    """The name generated code reads each float of a class by: `<Class>_<name>` (with `_` added until it is a name
    no statement of the file uses and no other class's number has), the same in every method of the file."""
    used = {n.id for n in ast.walk(module.tree) if isinstance(n, ast.Name)}
    used |= {n.arg for n in ast.walk(module.tree) if isinstance(n, ast.arg)}
    used |= set(module.names)
    found: dict[tuple[str, str], str] = {}
    for name, klass in _classes(module).items():
        for attr in klass.bindings:
            candidate = f"{name}_{attr}"
            while candidate in used:
                candidate += "_"
            used.add(candidate)
            found[(name, attr)] = candidate
    return found


@functools.cache
def _constant_of_name(module: StaticModule) -> dict[str, tuple[str, str]]:
    return {name: key for key, name in _constant_names(module).items()}


class _ClassConstant(_Constant):
    """A constant expression of a class body: its names are the class's bound before it, else the module's."""

    def __init__(self, module: StaticModule, klass: _Class, index: int, seen: frozenset[str]) -> None:
        super().__init__(module, seen)
        self.klass, self.index = klass, index

    def named(self, name: str) -> object:
        binding = self.klass.before(name, self.index)
        if binding is None:
            return super().named(name)
        if binding.kind != "assign" or f"{self.klass.name}.{name}" in self.seen:
            raise _NotConstant()
        assert isinstance(binding.node, ast.expr)
        inner = _ClassConstant(self.module, self.klass, binding.index, self.seen | {f"{self.klass.name}.{name}"})
        return inner.value(binding.node)


def _class_value(module: StaticModule, klass: _Class, binding: _Binding) -> object:
    """The value of a class constant (None: not a constant expression of numbers)."""
    assert isinstance(binding.node, ast.expr)
    try:
        return _ClassConstant(module, klass, binding.index, frozenset()).value(binding.node)
    except _NotConstant:
        return None


def _number_resolved(module: StaticModule, class_name: str, attr: str) -> Resolved | None:
    """What generated code reads for the number `attr` of the class `class_name` (a rewrite checked it may be
    read): a float by its name (`Ops_SCALE`), a whole number, a truth value or an infinity as the constant."""
    klass = _classes(module)[class_name]
    binding = klass.final(attr)
    if binding is None or binding.kind not in ("assign", "annotated"):
        return None
    value = _class_value(module, klass, binding)
    if isinstance(value, float) and math.isfinite(value):
        return Data(_constant_names(module)[(class_name, attr)], value)
    if isinstance(value, bool | int | float):
        return Constant(value)
    return None


class _Rewrite(ast.NodeTransformer):
    """Each read of a method through its class (`self.X`, `cls.X`, `Ops.X`) turned into a name the resolver answers:
    a class's float is read by its name (`Ops_SCALE`), a whole number as the constant, a method called as the name
    `Ops.helper` (a helper); whatever cannot be is refused, pointing at it."""

    def __init__(
        self,
        module: StaticModule,
        receiver: _Class,
        where: _Class,
        owner: str | None,
        kind: str,
        node: ast.FunctionDef,
        resolved: dict[str, Resolved],
    ) -> None:
        self.module, self.receiver, self.where, self.owner, self.kind = module, receiver, where, owner, kind
        self.node, self.resolved = node, resolved
        self.stores = {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and not isinstance(n.ctx, ast.Load)}
        self.locals = self.stores | {a.arg for a in ast.walk(node.args) if isinstance(a, ast.arg)}
        self.spelled = f"{receiver.name}.{node.name}"

    def run(self, index: int) -> None:
        if self.owner is not None and self.owner in self.stores:
            raise self.error(
                UnsupportedError,
                f"'{self.owner}' is assigned in '{self.spelled}': it is the {self.called_on()} the method is called on",
                self.node,
                "give the new value another name",
            )
        self.node.body = [self.visit(stmt) for stmt in self.node.body]
        args = self.node.args
        args.defaults = [self.default(d, index) for d in args.defaults]
        args.kw_defaults = [None if d is None else self.default(d, index) for d in args.kw_defaults]

    def called_on(self) -> str:
        return "class" if self.kind == CLASS else "object"

    def error(self, cls: type[S2SError], message: str, node: ast.AST, hint: str | None = None) -> S2SError:
        return self.module.source.error(cls, message, node, hint)

    def default(self, node: ast.expr, index: int) -> ast.expr:
        """A parameter's default is computed in the class body: a name it binds before the `def` is the class's."""
        outer = self

        class Defaults(ast.NodeTransformer):
            def visit_Name(self, name: ast.Name) -> ast.AST:
                binding = outer.where.before(name.id, index)
                if binding is None:
                    return name
                return outer.number(outer.where, name.id, binding, name, f"{outer.where.name}.{name.id}")

        return Defaults().visit(node)  # type: ignore[no-any-return]

    def base(self, node: ast.expr) -> tuple[_Class, str] | None:
        """The class an attribute is read through, and how it is spelled: `self`/`cls` (the receiver), or a
        top-level class by its name."""
        if not isinstance(node, ast.Name):
            return None
        if self.owner is not None and node.id == self.owner:
            return self.receiver, node.id
        if node.id not in self.locals:
            found = _classes(self.module).get(node.id)
            if found is not None:
                return found, node.id
        return None

    def visit_Call(self, node: ast.Call) -> ast.AST:
        func = node.func
        through = self.base(func.value) if isinstance(func, ast.Attribute) else None
        if through is None or not isinstance(func, ast.Attribute):
            return self.generic_visit(node)
        klass, spelling = through
        where, binding = _lookup(self.module, klass, func.attr)
        if binding is None or binding.kind != "def":
            self.visit(func)  # refused there, unless it is a number
            raise self.error(
                UnsupportedError, f"'{spelling}.{func.attr}' is a number of class '{klass.name}', not a method", func
            )
        assert isinstance(binding.node, (ast.FunctionDef, ast.AsyncFunctionDef))
        kind = method_kind(binding.node)
        called = f"{spelling}.{func.attr}"
        if kind == PROPERTY:
            raise self.error(UnsupportedError, f"'{called}' is a property, not a method to call", func)
        if kind == PLAIN and not (spelling == self.owner and self.kind == PLAIN):
            raise self.error(
                UnsupportedError,
                f"'{called}' calls the plain method '{klass.name}.{func.attr}' without an object to call it on",
                func,
                f"call it as self.{func.attr}(...) from a plain method, or make it a @staticmethod",
            )
        name = f"{klass.name}.{func.attr}"
        module, receiver, attr = self.module, klass.name, func.attr
        self.resolved[name] = Helper(name, lambda: _method(module, receiver, attr, helper=True))
        node.func = ast.copy_location(ast.Name(id=name, ctx=ast.Load()), func)
        node.args = [self.visit(a) for a in node.args]
        node.keywords = [self.visit(k) for k in node.keywords]
        return node

    def visit_Attribute(self, node: ast.Attribute) -> ast.AST:
        through = self.base(node.value)
        if through is None:
            return self.generic_visit(node)
        klass, spelling = through
        written = f"{spelling}.{node.attr}"
        if not isinstance(node.ctx, ast.Load):
            raise self.error(
                UnsupportedError,
                f"assigning to '{written}' changes the {'object' if spelling == self.owner and self.kind == PLAIN else 'class'}: "
                "a differentiated function cannot have side effects",
                node,
                "compute into a local name and return it",
            )
        where, binding = _lookup(self.module, klass, node.attr)
        if spelling == self.owner and self.kind == PLAIN:
            assigner = self.assigned_through_self(node.attr)
            if binding is None or binding.kind == "declared" or assigner is not None:
                also = f" ({assigner} assigns it)" if assigner is not None else ""
                raise self.error(
                    NeedsObject,
                    f"'{written}' reads an attribute of the object '{self.spelled}' is called on{also}: the command line "
                    "has no object, so what it holds is not known when the gradient is written",
                    node,
                    f"pass it as a parameter of the method, or use the Python API on an object: "
                    f"s2s_ad.grad(obj.{self.node.name})",
                )
        if binding is None or where is None:
            _, unknown = _chain(self.module, klass)
            beyond = (
                f", nor in the bases followed; it may come from {unknown}, which the command line does not read"
                if unknown
                else ""
            )
            raise self.error(
                ResolutionError,
                f"'{written}': class '{klass.name}' defines no '{node.attr}' in its body{beyond}",
                node,
                "pass it as a parameter of the method",
            )
        if isinstance(binding.node, (ast.FunctionDef, ast.AsyncFunctionDef)) and method_kind(binding.node) == PROPERTY:
            raise self.error(
                UnsupportedError,
                f"'{written}' is a property, which runs code when it is read",
                node,
                "read a class constant holding a number, call a method, or pass the number as a parameter",
            )
        if binding.kind == "def":
            raise self.error(
                UnsupportedError,
                f"'{written}' is a method read without being called",
                node,
                f"call it: {written}(...)",
            )
        return self.number(where, node.attr, binding, node, written, klass)

    def number(
        self, where: _Class, attr: str, binding: _Binding, node: ast.expr, written: str, klass: _Class | None = None
    ) -> ast.expr:
        """The name a class's number is read by, for `written` (`cls.SCALE`) found in the body of `where`."""
        _, unknown = _chain(self.module, klass or where)
        if unknown is not None:
            raise self.error(
                UnsupportedError,
                f"'{written}': class '{(klass or where).name}' derives from {unknown}, which the command line does not "
                "read: what its class attributes hold is not known without running the file",
                node,
                "pass the number as a parameter of the method, or move it to module level",
            )
        if binding.kind == "annotated" and where.node.decorator_list:
            raise self.error(
                UnsupportedError,
                f"'{written}' is declared with an annotation in a decorated class ({ast.unparse(where.node.decorator_list[0])}): "
                "it may be a field of each object, not a class constant",
                node,
                "annotate it ClassVar[float], or pass it as a parameter of the method",
            )
        if binding.kind not in ("assign", "annotated"):
            raise self.error(
                UnsupportedError,
                f"'{written}' is bound in the body of class '{where.name}' in a way the command line does not follow",
                node,
                "bind it once with a constant expression of numbers (SCALE = 2.0), or pass it as a parameter",
            )
        value = _class_value(self.module, where, binding)
        if isinstance(value, list):
            raise self.error(
                UnsupportedError,
                f"'{written}' is a list the class holds: the command line writes out the numbers of a class, not its lists",
                node,
                "pass the list as a parameter of the method, or bind it at module level and read it by its name",
            )
        if not isinstance(value, bool | int | float):
            assert isinstance(binding.node, ast.expr)
            raise self.error(
                UnsupportedError,
                f"'{written}' is bound to `{ast.unparse(binding.node)}` in class '{where.name}', "
                "which is not a constant expression of numbers",
                node,
                "pass it as a parameter of the method",
            )
        if where.final(attr) is not binding:
            raise self.error(
                UnsupportedError,
                f"'{written}' is bound again later in the body of class '{where.name}'",
                node,
                "bind the number once in the class body, or pass it as a parameter",
            )
        name = _constant_names(self.module)[(where.name, attr)]
        found = _number_resolved(self.module, where.name, attr)
        assert found is not None
        self.resolved[name] = found
        return ast.copy_location(ast.Name(id=name, ctx=ast.Load()), node)

    def assigned_through_self(self, attr: str) -> str | None:
        """The method of the receiver's class (or a base followed) that assigns `self.<attr>` on its first
        parameter, as `Class.method`; None if none does."""
        chain, _ = _chain(self.module, self.receiver)
        for klass in chain:
            for method in methods_of(klass.node):
                params = [*method.args.posonlyargs, *method.args.args]
                if not params or method_kind(method) != PLAIN:
                    continue
                first = params[0].arg
                for n in ast.walk(method):
                    if (
                        isinstance(n, ast.Attribute)
                        and n.attr == attr
                        and isinstance(n.value, ast.Name)
                        and n.value.id == first
                        and not isinstance(n.ctx, ast.Load)
                    ):
                        return f"{klass.name}.{method.name}"
        return None

    def visit_Name(self, node: ast.Name) -> ast.AST:
        if self.owner is not None and node.id == self.owner:
            raise self.error(
                UnsupportedError,
                f"'{self.owner}' can only be read as {self.owner}.<attribute> in a differentiated method",
                node,
                f"read the numbers it holds, {self.owner}.SCALE, or pass them as parameters",
            )
        return node
