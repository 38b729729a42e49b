"""Parameter types from how the body uses each parameter (no call runs the function)."""

from __future__ import annotations

import ast
from collections.abc import Callable
from typing import Any, cast

from .. import ir
from ..errors import S2SError
from ..frontend import Callee, Helper, MathModule, Resolved, tree
from ..frontend.tree import function_nodes, nodes
from ..ir import FLOAT, INT, Type
from . import rows


def param_types(
    node: ast.FunctionDef, resolve: Callable[[str], Resolved | None] | None = None, _seen: frozenset[str] = frozenset()
) -> tuple[Type, ...]:
    """Each parameter's type, from how the body uses it: indexed or iterated -> a list (of lists, when
    its elements are indexed too, here or in a helper it is passed to); a range bound or an index -> an
    int; otherwise a float."""
    every = function_nodes(node)
    local = set(_parameters(node)) | {n.id for n in every if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
    uses = _Uses(resolve, _seen, frozenset(local))
    for child in every:
        uses.visit(child)
    uses.settle(_made_anew(node))
    return tuple(uses.type_of(name) for name in _parameters(node))


def _parameters(node: ast.FunctionDef) -> list[str]:
    return [a.arg for a in (*node.args.posonlyargs, *node.args.args, *node.args.kwonlyargs)]


def _subscript_root(expr: ast.expr) -> tuple[str, int] | None:
    """The name under a chain of subscripts, and how many subscripts take an element (a slice, a
    copy by `list(...)` or `sorted(...)` take none): `x[i][j]` -> ("x", 2), `x[1:][0]` -> ("x", 1)."""
    levels = 0
    while True:
        if isinstance(expr, ast.Subscript):
            levels += not isinstance(expr.slice, ast.Slice)
            expr = expr.value
        elif _is_copy(expr):
            assert isinstance(expr, ast.Call)
            expr = expr.args[0]
        else:
            break
    return (expr.id, levels) if isinstance(expr, ast.Name) else None


def _added_terms(node: ast.expr) -> list[ast.expr]:
    """The terms of `a + b + c`."""
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return _added_terms(node.left) + _added_terms(node.right)
    return [node]


def _alternatives(expr: ast.expr) -> list[ast.expr]:
    """What a value may be: either side of `a if c else b`, any operand of `a or b` and `a and b`."""
    if isinstance(expr, ast.IfExp):
        return _alternatives(expr.body) + _alternatives(expr.orelse)
    if isinstance(expr, ast.BoolOp):
        return [e for v in expr.values for e in _alternatives(v)]
    return [expr]


def _is_copy(expr: ast.expr) -> bool:
    return (
        isinstance(expr, ast.Call)
        and isinstance(expr.func, ast.Name)
        and expr.func.id in ("list", "sorted", "reversed")
        and len(expr.args) == 1
    )


def _made_anew(node: ast.FunctionDef) -> set[str]:
    """Names the body assigns a new list to. A loop variable that the body also makes a new list of
    (`v = [0.0] * 2` after `[v * v for v in xs]`, which Python scopes apart) says nothing about the
    elements it once held."""
    parents = tree.parents(node)
    making: dict[int, ast.Assign] = {}  # the assignments whose value holds a list display or comprehension
    for child in function_nodes(node):
        if isinstance(child, ast.List | ast.ListComp):
            above, below = parents.get(id(child)), cast(ast.AST, child)
            while above is not None and not isinstance(above, ast.stmt):
                above, below = parents.get(id(above)), cast(ast.AST, above)
            if isinstance(above, ast.Assign) and above.value is below:
                making[id(above)] = above
    return {t.id for assign in making.values() for target in assign.targets for t in nodes(target) if isinstance(t, ast.Name)}


class _Uses:
    """What the body does with its names, read one node at a time (a method per kind of node, looked up
    by class name): how deeply each name is indexed (its list depth), which names hold whole numbers, and
    which local names are an element of, or another name for, a list."""

    def __init__(
        self, resolve: Callable[[str], Resolved | None] | None, seen: frozenset[str], local: frozenset[str] = frozenset()
    ) -> None:
        self.resolve = resolve
        self.seen = seen  # helpers whose parameter types are being found, to stop at recursion
        self.local = local  # the function's parameters and the names it assigns: they hide the module's
        self.element_of: dict[str, str] = {}  # local name -> the name it is an element of
        self.alias_of: dict[str, list[str]] = {}  # local name -> the names of the lists it was made from
        self.held_by: dict[str, list[tuple[str, int]]] = {}  # list -> (name, levels): its items are name[...]
        self.depth: dict[str, int] = {}
        self.integer: set[str] = set()

    def visit(self, child: ast.AST) -> None:
        method = _VISITORS.get(type(child).__name__)
        if method is not None:
            method(self, child)

    def indexed(self, name: str, levels: int) -> None:
        self.depth[name] = max(self.depth.get(name, 0), levels)

    def integers(self, expr: ast.expr) -> None:
        """Names that are whole numbers because this expression is (no calls: `int(x)` takes a float)."""
        if isinstance(expr, ast.Name):
            self.integer.add(expr.id)
        elif isinstance(expr, ast.BinOp) and not isinstance(expr.op, ast.Div):
            self.integers(expr.left)
            self.integers(expr.right)
        elif isinstance(expr, ast.UnaryOp):
            self.integers(expr.operand)
        elif isinstance(expr, ast.Slice):  # `xs[a:b]`: slice bounds are whole numbers
            for bound in (expr.lower, expr.upper, expr.step):
                if bound is not None:
                    self.integers(bound)
        elif isinstance(expr, ast.Subscript):  # `B[obs[t]]`: the elements of `obs` are whole numbers
            found = _subscript_root(expr)
            if found:
                self.integer.add(found[0])

    # Subscripts and list repetition

    def visit_BinOp(self, node: ast.BinOp) -> None:
        if isinstance(node.op, ast.Mult):  # `[0.0] * n`: n is a count
            if isinstance(node.left, ast.List):
                self.integers(node.right)
            elif isinstance(node.right, ast.List):
                self.integers(node.left)
        elif isinstance(node.op, ast.Add):  # `xs + ys + [1.0]`: a list added to lists
            terms = _added_terms(node)
            deepest = max((rows.depth(t, lambda name: 0) for t in terms), default=0)
            for term in terms:
                found = _subscript_root(term) if deepest else None
                if found:
                    self.indexed(found[0], found[1] + deepest)

    def visit_Subscript(self, node: ast.Subscript) -> None:
        found = _subscript_root(node)
        if found:
            self.indexed(*found)
        if isinstance(node.slice, ast.Slice) and (inner := _subscript_root(node.value)):  # `xs[1:]`: a list
            self.indexed(inner[0], inner[1] + 1)
        self.integers(node.slice)

    # Iteration

    def visit_For(self, node: ast.For) -> None:
        self.iterated(node.iter, node.target)

    def visit_comprehension(self, node: ast.comprehension) -> None:
        self.iterated(node.iter, node.target)

    def iterated(self, expr: ast.expr, target: ast.expr) -> None:
        if isinstance(expr, ast.Call) and isinstance(expr.func, ast.Name):
            if expr.func.id in ("zip", "enumerate"):
                self.iterated_together(expr, target)
                return
            if expr.func.id == "range":
                return
        found = _subscript_root(expr)
        if found and (not isinstance(expr, ast.Call) or _is_copy(expr)):
            unpacked = isinstance(target, (ast.Tuple, ast.List))  # `for x, y in pts`
            self.indexed(found[0], found[1] + 1 + unpacked)
            if isinstance(target, ast.Name):
                self.element_of[target.id] = found[0]

    def iterated_together(self, call: ast.Call, target: ast.expr) -> None:
        """`for x, y in zip(xs, ys)`, `for i, x in enumerate(xs)`: each list, with the name of its element."""
        assert isinstance(call.func, ast.Name)
        lists = call.args if call.func.id == "zip" else call.args[:1]
        names = target.elts if isinstance(target, ast.Tuple) else []
        if call.func.id == "enumerate":
            names = names[1:]
        for items, name in zip(lists, names):
            self.iterated(items, name)
        for items in lists[len(names) :]:  # `for pair in zip(xs, ys)`: lists, at least
            found = _subscript_root(items)
            if found:
                self.indexed(found[0], found[1] + 1)

    # Assignments: unpacking, other names for a list, its elements

    def visit_Assign(self, node: ast.Assign) -> None:
        if any(isinstance(t, ast.Subscript) and isinstance(t.slice, ast.Slice) for t in node.targets):
            found = _subscript_root(node.value)  # `ys[:] = xs`: a list
            if found:
                self.indexed(found[0], found[1] + 1)
        if any(isinstance(t, (ast.Tuple, ast.List)) for t in node.targets):
            found = _subscript_root(node.value)  # `w, b = params`, `x1, y1 = pts[i]`: a list is unpacked
            if found:
                self.indexed(found[0], found[1] + 1)
            for target in node.targets:  # `w, b = W1, b1`: each name for what it is given
                self.paired(target, node.value)
        elif len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            for value in _alternatives(node.value):
                self.assigned(node.targets[0].id, value)
                if isinstance(value, ast.ListComp):  # `M = [list(r) for r in A]`: M's items are copies of r
                    self.holds(node.targets[0].id, value.elt)
                elif isinstance(value, ast.List):
                    for item in value.elts:
                        self.holds(node.targets[0].id, item)

    def visit_Expr(self, node: ast.Expr) -> None:
        call = node.value  # `M.append(list(r))`
        if isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute) and call.func.attr == "append":
            if isinstance(call.func.value, ast.Name) and len(call.args) == 1:
                self.holds(call.func.value.id, call.args[0])

    def holds(self, name: str, item: ast.expr) -> None:
        """`name` holds `item` (or a copy of it): an item one level less deep than the list."""
        found = _subscript_root(item)
        if found:
            self.held_by.setdefault(name, []).append(found)

    def paired(self, target: ast.expr, value: ast.expr) -> None:
        if isinstance(target, (ast.Tuple, ast.List)) and isinstance(value, (ast.Tuple, ast.List)):
            if len(target.elts) == len(value.elts):
                for t, v in zip(target.elts, value.elts):
                    self.paired(t, v)
        elif isinstance(target, ast.Name):
            self.assigned(target.id, value)

    def assigned(self, name: str, value: ast.expr) -> None:
        """`name = value`: what it says of the types of the lists `value` reads."""
        if isinstance(value, ast.Name):  # `ys = xs`: the same list
            self.alias_of.setdefault(name, []).append(value.id)
        elif isinstance(value, ast.Subscript) or _is_copy(value):
            found = _subscript_root(value)
            if found and found[1] == 1:
                self.element_of[name] = found[0]
            elif found and found[1] == 0:  # `ys = xs[1:]`, `ys = list(xs)`: a list like it
                self.alias_of.setdefault(name, []).append(found[0])
        elif isinstance(value, ast.BinOp) and isinstance(value.op, ast.Add):  # `zs = xs + ys`, if zs is a list
            for term in _added_terms(value):
                if (found := _subscript_root(term)) and found[1] == 0:
                    self.alias_of.setdefault(name, []).append(found[0])

    # Calls: range bounds, builtins that take a list, the user's helpers

    def visit_Call(self, node: ast.Call) -> None:
        called = self.called(node.func)
        if called in _OF_LISTS:  # math.fsum(xs), math.dist(p, q), sorted(xs): each argument is a list
            for arg in node.args:
                if isinstance(arg, ast.Name):
                    self.indexed(arg.id, 1)
            return
        if called == "round" and len(node.args) == 2:  # round(x, n): n digits
            self.integers(node.args[1])
        if called == "map" and len(node.args) >= 2:
            self.mapped(node)
        if isinstance(node.func, ast.Attribute):
            self.passed_to_helper(node)
        if not isinstance(node.func, ast.Name):
            return
        if node.func.id == "range":
            for arg in node.args:
                self.integers(arg)
        elif node.func.id in ("zip", "enumerate", "reversed"):  # also read as a value: `list(zip(xs, ys))`
            for arg in node.args[: 1 if node.func.id == "enumerate" else None]:
                found = _subscript_root(arg)
                if found:
                    self.indexed(found[0], found[1] + 1)
        elif node.func.id in ("len", "sum", "list", "sorted") or (node.func.id in ("max", "min") and len(node.args) == 1):
            found = _subscript_root(node.args[0]) if node.args else None
            if found:
                self.indexed(found[0], found[1] + 1)
        else:
            self.passed_to_helper(node)

    def called(self, func: ast.expr) -> str | None:
        """What a call calls, spelled as the lowering knows it (`math.fsum`, `sorted`), when the name says so."""
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
            base = self.resolved(func.value.id)
            if isinstance(base, MathModule) or (base is None and func.value.id == "math"):
                return f"math.{func.attr}"
            return None
        if not isinstance(func, ast.Name):
            return None
        found = self.resolved(func.id)
        return found.spelling if isinstance(found, Callee) else func.id

    def resolved(self, name: str) -> Resolved | None:
        """What a name is, where the lookup says (a refusal of it is the lowering's to report, where it points);
        None for a name of the function's own (a parameter `f` called as `f(a)` is not the module's `f`)."""
        if name.split(".")[0] in self.local:
            return None
        try:
            return self.resolve(name) if self.resolve is not None else None
        except S2SError:
            return None

    def mapped(self, call: ast.Call) -> None:
        """`map(f, xs, ...)`: each iterable is iterated, and its elements are f's parameters."""
        types: tuple[Type, ...] = ()
        func = call.args[0]
        if isinstance(func, ast.Name) and self.resolve is not None and func.id not in self.seen | self.local:
            try:
                helper = self.resolve(func.id)
                if isinstance(helper, Helper):
                    callee = helper.load()
                    types = param_types(callee.node, callee.resolve, self.seen | {func.id})
            except S2SError:
                types = ()
        for k, items in enumerate(call.args[1:]):
            found = _subscript_root(items)
            if found:
                self.indexed(found[0], found[1] + 1 + (ir.list_depth(types[k]) if k < len(types) else 0))

    def passed_to_helper(self, call: ast.Call) -> None:
        """A parameter passed on to the user's own function has the type that function gives it."""
        func = call.func
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):  # `helpers.sq(x)`
            name = f"{func.value.id}.{func.attr}"
        elif isinstance(func, ast.Name):
            name = func.id
        else:
            return
        if self.resolve is None or name in self.seen or name.split(".")[0] in self.local:
            return
        try:
            helper = self.resolve(name)
            if not isinstance(helper, Helper):
                return
            callee = helper.load()
            types = param_types(callee.node, callee.resolve, self.seen | {name})
        except S2SError:
            return
        names = _parameters(callee.node)
        passed = list(zip(call.args, types)) + [(k.value, types[names.index(k.arg)]) for k in call.keywords if k.arg in names]
        for arg, type_ in passed:
            found = _subscript_root(arg)
            if found and ir.list_depth(type_) > found[1]:
                self.indexed(found[0], found[1] + ir.list_depth(type_))
            if type_ == INT:  # a whole number there (a range bound, an index): so are the names it is made of (`n // 2`)
                self.integers(arg)

    # After the whole body is read

    def settle(self, made_anew: set[str]) -> None:
        """An element's own depth adds to its list's; another name for a list has its depth; a list whose
        elements are whole numbers (`for t in obs: B[t]`) holds ints."""
        for _ in range(4):
            for name, parent in self.element_of.items():
                if name in self.depth and name not in made_anew:
                    self.indexed(parent, self.depth[name] + 1)
            for name, parents in self.alias_of.items():
                if name in self.depth:
                    for parent in parents:
                        self.indexed(parent, self.depth[name])
            for name, items in self.held_by.items():
                if self.depth.get(name, 0) > 1:
                    for item, levels in items:
                        self.indexed(item, self.depth[name] - 1 + levels)
        for name, parent in self.element_of.items():
            if name in self.integer:
                self.integer.add(parent)

    def type_of(self, name: str) -> Type:
        type_: Type = INT if name in self.integer else FLOAT
        for _ in range(self.depth.get(name, 0)):
            type_ = ir.ListOf(type_)
        return type_


# Functions whose arguments are lists (of numbers).
_OF_LISTS = frozenset({"math.fsum", "math.prod", "math.dist", "sorted", "list", "all", "any"})


def data_type(value: object) -> Type:
    if isinstance(value, (list, tuple)):
        return ir.ListOf(data_type(value[0]) if value else FLOAT)
    return INT if isinstance(value, int) else FLOAT


# The `visit_` methods by the name of the node class they read: looked up once, not per node.
_VISITORS: dict[str, Callable[[_Uses, Any], None]] = {
    name[len("visit_") :]: method for name, method in vars(_Uses).items() if name.startswith("visit_")
}
