"""Statements lowered as other statements, before the lowering sees them: an `assert` as `if not test:
raise AssertionError(msg)`, a loop's `else` as a flag that each `break` sets, and a `for` loop whose variable
is read after the loop as one that keeps its last value in a name of its own."""

from __future__ import annotations

import ast


def assertion_error(node: ast.Assert) -> ast.Raise:
    """The `raise AssertionError(msg)` an `assert` performs when its test fails."""
    args = [node.msg] if node.msg is not None else []
    raised = ast.Raise(ast.Call(ast.Name("AssertionError", ast.Load()), args, []), None)
    for child in ast.walk(raised):
        if getattr(child, "lineno", None) is None:
            ast.copy_location(child, node)
    return raised


def loop_with_else(loop: ast.For | ast.While) -> list[ast.stmt]:
    """`for ...: ... else: rest` as `left = False; for ...: (left = True before each break); if not left: rest`."""
    flag = "#left"

    def marked(statements: list[ast.stmt]) -> list[ast.stmt]:
        out: list[ast.stmt] = []
        for stmt in statements:
            if isinstance(stmt, ast.Break):
                out.append(ast.copy_location(ast.Assign([ast.Name(flag, ast.Store())], ast.Constant(True)), stmt))
            elif isinstance(stmt, ast.If):
                stmt = ast.copy_location(ast.If(stmt.test, marked(stmt.body), marked(stmt.orelse)), stmt)
            out.append(stmt)
        return out

    start = ast.copy_location(ast.Assign([ast.Name(flag, ast.Store())], ast.Constant(False)), loop)
    body = marked(loop.body)
    bare = (
        ast.For(loop.target, loop.iter, body, [], loop.type_comment)
        if isinstance(loop, ast.For)
        else ast.While(loop.test, body, [])
    )
    test = ast.UnaryOp(ast.Not(), ast.Name(flag, ast.Load()))
    rest = ast.If(test, loop.orelse, [])
    for node in (bare, rest):
        ast.copy_location(node, loop)
        for child in ast.walk(node):
            if getattr(child, "lineno", None) is None:
                ast.copy_location(child, loop)
    return [start, bare, rest]


def kept_after(loop: ast.For, rest: list[ast.stmt]) -> str | None:
    """A `for` loop's variable (a name the body does not assign) if it is read after the loop."""
    target = loop.target
    if not isinstance(target, ast.Name) or loop.orelse:
        return None
    if any(isinstance(s, ast.Assign) and getattr(s.targets[0], "id", None) == f"#last_{target.id}" for s in loop.body[:2]):
        return None  # already keeping it
    names = [n for s in loop.body for n in ast.walk(s) if isinstance(n, ast.Name) and n.id == target.id]
    if any(isinstance(n.ctx, ast.Store) for n in names):
        return None
    return target.id if read_before_bound(target.id, rest) else None


def read_before_bound(name: str, statements: list[ast.stmt]) -> bool:
    """Whether `name` is read by these statements before one of them binds it again (a statement that
    both reads and binds it counts as a read; a loop binding it reads only its iterable)."""
    for stmt in statements:
        scanned: list[ast.AST] = [stmt.iter] if isinstance(stmt, ast.For) and _binds(stmt.target, name) else [stmt]
        names = [n for part in scanned for n in _outside_comprehensions(part, name) if isinstance(n, ast.Name) and n.id == name]
        if any(isinstance(n.ctx, ast.Load) for n in names):
            return True
        if scanned != [stmt] or any(isinstance(n.ctx, ast.Store) for n in names):
            return False
    return False


def _outside_comprehensions(node: ast.AST, name: str) -> list[ast.AST]:
    """The nodes under `node`, but not those of a comprehension with its own `name` (Python scopes it apart)."""
    found: list[ast.AST] = []
    pending = [node]
    while pending:
        current = pending.pop()
        if isinstance(current, (ast.ListComp, ast.GeneratorExp, ast.SetComp, ast.DictComp)) and any(
            _binds(g.target, name) for g in current.generators
        ):
            pending.extend(g.iter for g in current.generators[:1])  # the first iterable is evaluated outside
            continue
        found.append(current)
        pending.extend(ast.iter_child_nodes(current))
    return found


def _binds(target: ast.expr, name: str) -> bool:
    return any(isinstance(n, ast.Name) and n.id == name for n in ast.walk(target))


def loop_keeping_target(loop: ast.For, bound: bool) -> list[ast.stmt]:
    """`for i in ...: body` when `i` is read after the loop: Python keeps its last value there (and `i`
    is unbound after a loop that ran no iteration, unless it had a value before)."""
    assert isinstance(loop.target, ast.Name)
    name, last, ran = loop.target.id, f"#last_{loop.target.id}", f"#ran_{loop.target.id}"

    def assign(target: str, value: ast.expr) -> ast.stmt:
        return ast.Assign([ast.Name(target, ast.Store())], value)

    first = ast.Name(name, ast.Load()) if bound else ast.Constant(0)
    statements: list[ast.stmt] = [assign(last, first)]
    body: list[ast.stmt] = [assign(last, ast.Name(name, ast.Load())), *loop.body]
    if not bound:
        statements.append(assign(ran, ast.Constant(False)))
        body.insert(0, assign(ran, ast.Constant(True)))
    statements.append(ast.For(loop.target, loop.iter, body, [], loop.type_comment))
    if not bound:
        error = ast.Call(ast.Name("UnboundLocalError", ast.Load()), [ast.Constant(f"'{name}': the loop ran no iteration")], [])
        statements.append(ast.If(ast.UnaryOp(ast.Not(), ast.Name(ran, ast.Load())), [ast.Raise(error, None)], []))
    statements.append(assign(name, ast.Name(last, ast.Load())))
    for statement in statements:
        ast.copy_location(statement, loop)
        for child in ast.walk(statement):
            if getattr(child, "lineno", None) is None:
                ast.copy_location(child, loop)
    return statements
