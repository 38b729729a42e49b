"""How deeply a list nests, read from the source before it is lowered: `M = []` filled with rows is a list of lists.

An IR value has one type from where it is made, but an empty list literal
says nothing of what it will hold: `table = []` followed by
`table.append(row)`, or the accumulator of `[[0.0] * m for _ in range(n)]`.
`nesting` reads the function's source for the lists that are appended to
and what is appended, and gives each such empty literal its depth (2 for a
list of rows). Where the guess is wrong the lowering says so (a list of
mixed kinds), never a wrong type silently.
"""

from __future__ import annotations

import ast
import functools
from collections.abc import Callable

from ..frontend.tree import function_nodes


def grown(function: ast.FunctionDef) -> set[int]:
    """`id` of each list literal assigned to a name that the function appends to (`pts = [(x, y)]`, then
    `pts.append(...)`): a list of rows so made is built by appending its rows, so that its adjoint is too."""
    appended = {
        node.func.value.id
        for node in function_nodes(function)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "append"
        and isinstance(node.func.value, ast.Name)
    }
    return {
        id(node.value)
        for node in function_nodes(function)
        if isinstance(node, ast.Assign)
        and isinstance(node.value, ast.List)
        and any(isinstance(t, ast.Name) and t.id in appended for t in node.targets)
    }


def nesting(function: ast.FunctionDef) -> dict[int, int]:
    """`id` of each empty list literal assigned to a name that the function fills with lists -> its depth."""
    assigned: dict[str, list[ast.expr]] = {}
    appended: dict[str, list[ast.expr]] = {}
    for node in function_nodes(function):
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            assigned.setdefault(node.targets[0].id, []).append(node.value)
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "append"
            and isinstance(node.func.value, ast.Name)
            and len(node.args) == 1
        ):
            appended.setdefault(node.func.value.id, []).append(node.args[0])

    def of_name(name: str, seen: frozenset[str]) -> int:
        if name in seen:
            return 0
        inner = seen | {name}
        found = [depth(v, lambda n: of_name(n, inner)) for v in assigned.get(name, [])]
        if any(isinstance(v, ast.List) and not v.elts for v in assigned.get(name, [])):
            found.append(1 + max((depth(v, lambda n: of_name(n, inner)) for v in appended.get(name, [])), default=0))
        return max(found, default=0)

    depths: dict[int, int] = {}
    for name, values in assigned.items():
        known = functools.partial(of_name, seen=frozenset({name}))
        for value in values:
            if isinstance(value, ast.List) and not value.elts and name in appended:
                found = 1 + max(depth(v, known) for v in appended[name])
                if found > 1:
                    depths[id(value)] = found
    return depths


def depth(node: ast.expr, of_name: Callable[[str], int]) -> int:
    """How deeply the value of an expression nests as a list (0: a number), as far as its syntax tells."""
    if isinstance(node, ast.List):
        return 1 + max((depth(e, of_name) for e in node.elts), default=0)
    if isinstance(node, ast.ListComp):
        return 1 + depth(node.elt, of_name)
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Mult, ast.Add)):
        return max(depth(node.left, of_name), depth(node.right, of_name))
    if isinstance(node, ast.Name):
        return of_name(node.id)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("list", "sorted") and node.args:
        return depth(node.args[0], of_name)
    if isinstance(node, ast.Subscript):
        inner = depth(node.value, of_name)
        return max(inner, 1) if isinstance(node.slice, ast.Slice) else max(inner - 1, 0)
    return 0
