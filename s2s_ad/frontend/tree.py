"""Every node of a tree in one list: the walk that the analyses of a function share.

Each stage asks many questions of a whole `def` (which names it stores, which
lists it appends to, whether it reads NumPy, ...). Walking the tree once per
question cost more than CPython's `compile()` of the same source, per question;
so the walk of a `def` is made once, kept in `function_nodes`' cache while the
node lives (weakly: the cache never keeps a tree alive), and each question is
a loop over that list. A `def` is never changed once parsed (what changes a
function works on a copy: `copy_def`, `copy.deepcopy`), which is what makes
the cached list right.
"""

from __future__ import annotations

import ast
import weakref

# A parsed `def` -> the nodes under it, and the parent of each of those below its own children (by `id`).
_WALKED: weakref.WeakKeyDictionary[ast.AST, tuple[list[ast.AST], dict[int, ast.AST]]] = weakref.WeakKeyDictionary()


def nodes(node: ast.AST) -> list[ast.AST]:
    """Every node under `node`, itself included, in the order `ast.walk` yields them (twice as fast)."""
    found = [node]
    for parent in found:  # grows while it is read
        for field in parent._fields:
            value = getattr(parent, field, None)
            if type(value) is list:
                found.extend([item for item in value if isinstance(item, ast.AST)])
            elif isinstance(value, ast.AST):
                found.append(value)
    return found


def _walked(node: ast.FunctionDef) -> tuple[list[ast.AST], dict[int, ast.AST]]:
    """The nodes under a `def` and their parents, in one walk, once while the node lives.

    The cache holds nothing that refers to the `def` itself (its children's parent is added by the callers):
    a weak key that its own value held would never be let go."""
    found = _WALKED.get(node)
    if found is None:
        below: list[ast.AST] = list(ast.iter_child_nodes(node))
        parents: dict[int, ast.AST] = {}
        for parent in below:  # grows while it is read
            for field in parent._fields:
                value = getattr(parent, field, None)
                if type(value) is list:
                    for item in value:
                        if isinstance(item, ast.AST):
                            below.append(item)
                            parents[id(item)] = parent
                elif isinstance(value, ast.AST):
                    below.append(value)
                    parents[id(value)] = parent
        found = _WALKED[node] = (below, parents)
    return found


def function_nodes(node: ast.FunctionDef) -> list[ast.AST]:
    """`nodes(node)` of a parsed `def`, walked once while the node lives (a new list each time, of shared nodes)."""
    return [node, *_walked(node)[0]]


def parents(node: ast.FunctionDef) -> dict[int, ast.AST]:
    """The parent of each node of a parsed `def` but the `def` itself, by the child's `id` (a new dict each time)."""
    found = dict(_walked(node)[1])
    found.update((id(child), node) for child in ast.iter_child_nodes(node))
    return found


def annotation_ids(node: ast.FunctionDef) -> set[int]:
    """The `id`s of the nodes of a `def`'s annotations (`xs: list[float]`, `-> tuple[float, float]`): types,
    not code; `tuple[float, float]` indexes nothing."""
    roots: list[ast.AST] = [node.returns] if node.returns is not None else []
    for child in function_nodes(node):
        if isinstance(child, ast.arg | ast.AnnAssign) and child.annotation is not None:
            roots.append(child.annotation)
    return {id(n) for root in roots for n in nodes(root)}
