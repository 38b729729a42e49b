"""Parameter types from how the body uses each parameter (no call runs the function)."""

from __future__ import annotations

import ast
from collections.abc import Callable

from .. import ir
from ..errors import S2SError
from ..frontend import Helper, Resolved
from ..ir import FLOAT, INT, Type
from .scope import nodes


def param_types(
    node: ast.FunctionDef, resolve: Callable[[str], Resolved | None] | None = None, _seen: frozenset[str] = frozenset()
) -> tuple[Type, ...]:
    """Each parameter's type, from how the body uses it: indexed or iterated -> a list (of lists, when
    its elements are indexed too, here or in a helper it is passed to); a range bound or an index -> an
    int; otherwise a float."""
    params = [a.arg for a in (*node.args.posonlyargs, *node.args.args, *node.args.kwonlyargs)]
    element_of: dict[str, str] = {}  # local name -> the name it is an element of
    alias_of: dict[str, str] = {}  # local name -> the name it was assigned from
    depth: dict[str, int] = {}
    integer: set[str] = set()

    def root_depth(expr: ast.expr) -> tuple[str, int] | None:
        levels = 0
        while isinstance(expr, ast.Subscript):
            expr, levels = expr.value, levels + 1
        return (expr.id, levels) if isinstance(expr, ast.Name) else None

    def note(name: str, levels: int) -> None:
        depth[name] = max(depth.get(name, 0), levels)

    def integers(expr: ast.expr) -> None:
        """Names that are whole numbers because this expression is (no calls: `int(x)` takes a float)."""
        if isinstance(expr, ast.Name):
            integer.add(expr.id)
        elif isinstance(expr, ast.BinOp) and not isinstance(expr.op, ast.Div):
            integers(expr.left)
            integers(expr.right)
        elif isinstance(expr, ast.UnaryOp):
            integers(expr.operand)
        elif isinstance(expr, ast.Subscript):  # `B[obs[t]]`: the elements of `obs` are whole numbers
            found = root_depth(expr)
            if found:
                integer.add(found[0])

    def iterated(expr: ast.expr, targets: list[ast.expr]) -> None:
        if isinstance(expr, ast.Call) and isinstance(expr.func, ast.Name) and expr.func.id == "reversed" and len(expr.args) == 1:
            iterated(expr.args[0], targets)
            return
        if isinstance(expr, ast.Call) and isinstance(expr.func, ast.Name) and expr.func.id in ("zip", "enumerate"):
            lists = expr.args if expr.func.id == "zip" else expr.args[:1]
            names = targets[0].elts if targets and isinstance(targets[0], ast.Tuple) else []
            if expr.func.id == "enumerate":
                names = names[1:]
            for items, name in zip(lists, names):
                found = root_depth(items)
                if found:
                    note(found[0], found[1] + 1)
                    if isinstance(name, ast.Name):
                        element_of[name.id] = found[0]
            return
        found = root_depth(expr)
        if found and not isinstance(expr, ast.Call):
            unpacked = bool(targets) and isinstance(targets[0], (ast.Tuple, ast.List))  # `for x, y in pts`
            note(found[0], found[1] + 1 + unpacked)
            if targets and isinstance(targets[0], ast.Name):
                element_of[targets[0].id] = found[0]

    def passed_to_helper(call: ast.Call) -> None:
        """A parameter passed on to the user's own function has the type that function gives it."""
        if resolve is None or not isinstance(call.func, ast.Name) or call.func.id in _seen:
            return

        helper = resolve(call.func.id)
        if not isinstance(helper, Helper):
            return
        try:
            callee = helper.load()
            types = param_types(callee.node, callee.resolve, _seen | {call.func.id})
        except S2SError:
            return
        names = [a.arg for a in (*callee.node.args.posonlyargs, *callee.node.args.args, *callee.node.args.kwonlyargs)]
        passed = list(zip(call.args, types)) + [(k.value, types[names.index(k.arg)]) for k in call.keywords if k.arg in names]
        for arg, type_ in passed:
            found = root_depth(arg)
            if found and ir.list_depth(type_) > found[1]:
                note(found[0], found[1] + ir.list_depth(type_))
            if type_ == INT and isinstance(arg, ast.Name):  # a whole number there (a range bound, an index)
                integer.add(arg.id)

    for child in nodes(node):
        if isinstance(child, ast.BinOp) and isinstance(child.op, ast.Mult):  # `[0.0] * n`: n is a count
            if isinstance(child.left, ast.List):
                integers(child.right)
            elif isinstance(child.right, ast.List):
                integers(child.left)
        if isinstance(child, ast.Subscript):
            found = root_depth(child)
            if found:
                note(*found)
            integers(child.slice)
        elif isinstance(child, (ast.For, ast.comprehension)):
            iterated(child.iter, [child.target])
        elif isinstance(child, ast.Assign) and any(isinstance(t, (ast.Tuple, ast.List)) for t in child.targets):
            found = root_depth(child.value)  # `w, b = params`, `x1, y1 = pts[i]`: a list is unpacked
            if found:
                note(found[0], found[1] + 1)
        elif isinstance(child, ast.Assign) and len(child.targets) == 1 and isinstance(child.targets[0], ast.Name):
            if isinstance(child.value, ast.Name):  # `ys = xs`: the same list
                alias_of[child.targets[0].id] = child.value.id
            elif isinstance(child.value, ast.Subscript):
                found = root_depth(child.value)
                if found and found[1] == 1:
                    element_of[child.targets[0].id] = found[0]
        elif isinstance(child, ast.Call) and isinstance(child.func, ast.Name):
            if child.func.id == "range":
                for arg in child.args:
                    integers(arg)
            elif child.func.id in ("len", "sum") or (child.func.id in ("max", "min") and len(child.args) == 1):
                if child.args and isinstance(child.args[0], ast.Name):
                    note(child.args[0].id, 1)
            else:
                passed_to_helper(child)
    # A loop variable that the body also makes a new list of (`v = [0.0] * 2` after `[v * v for v in xs]`,
    # which Python scopes apart) says nothing about the elements it once held.
    assigned = {
        t.id
        for child in nodes(node)
        if isinstance(child, ast.Assign) and any(isinstance(n, (ast.List, ast.ListComp)) for n in ast.walk(child.value))
        for target in child.targets
        for t in ast.walk(target)
        if isinstance(t, ast.Name)
    }
    for _ in range(4):  # an element's own depth adds to its list's; another name for a list has its depth
        for name, parent in element_of.items():
            if name in depth and name not in assigned:
                note(parent, depth[name] + 1)
        for name, parent in alias_of.items():
            if name in depth:
                note(parent, depth[name])
    types: list[Type] = []
    for name, parent in element_of.items():  # `for t in obs: B[t]`
        if name in integer:
            integer.add(parent)
    for name in params:
        levels = depth.get(name, 0)
        if levels:
            type_: Type = INT if name in integer else FLOAT
            for _ in range(levels):
                type_ = ir.ListOf(type_)
            types.append(type_)
        else:
            types.append(INT if name in integer else FLOAT)
    return tuple(types)


def data_type(value: object) -> Type:
    if isinstance(value, (list, tuple)):
        return ir.ListOf(data_type(value[0]) if value else FLOAT)
    return INT if isinstance(value, int) else FLOAT
