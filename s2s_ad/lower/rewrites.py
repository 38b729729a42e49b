"""Statements lowered as other statements, before the lowering sees them: an `assert` as `if not test:
raise AssertionError(msg)`, a loop's `else` as a flag that each `break` sets, and a `for` loop whose variable
is read after the loop as one that keeps its last value in a name of its own."""

from __future__ import annotations

import ast
from dataclasses import dataclass


def assertion_error(node: ast.Assert) -> ast.Raise:
    """The `raise AssertionError(msg)` an `assert` performs when its test fails."""
    args = [node.msg] if node.msg is not None else []
    raised = ast.Raise(ast.Call(ast.Name("AssertionError", ast.Load()), args, []), None)
    for child in ast.walk(raised):
        if getattr(child, "lineno", None) is None:
            ast.copy_location(child, node)
    return raised


def loop_with_else(loop: ast.For | ast.While) -> list[ast.stmt]:
    """`for ...: ... else: rest` as `left = False; for ...: (left = True before each break); if not left: rest`.

    The breaks that leave this loop are those of its body outside inner loops, and those in an inner loop's
    own `else` (which runs after that loop, in this one's body). Each loop's flag is its own: named by how
    many loops with an `else` it holds, fewer for each inner one."""
    inner = sum(1 for n in ast.walk(ast.Module(loop.body, [])) if isinstance(n, (ast.For, ast.While)) and n.orelse)
    flag = f"#left{inner}"

    def marked(statements: list[ast.stmt]) -> list[ast.stmt]:
        out: list[ast.stmt] = []
        for stmt in statements:
            if isinstance(stmt, ast.Break):
                out.append(ast.copy_location(ast.Assign([ast.Name(flag, ast.Store())], ast.Constant(True)), stmt))
            elif isinstance(stmt, ast.If):
                stmt = ast.copy_location(ast.If(stmt.test, marked(stmt.body), marked(stmt.orelse)), stmt)
            elif isinstance(stmt, ast.For) and stmt.orelse:
                stmt = ast.copy_location(ast.For(stmt.target, stmt.iter, stmt.body, marked(stmt.orelse), stmt.type_comment), stmt)
            elif isinstance(stmt, ast.While) and stmt.orelse:
                stmt = ast.copy_location(ast.While(stmt.test, stmt.body, marked(stmt.orelse)), stmt)
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


def kept_after(loop: ast.For, rest: list[ast.stmt]) -> list[tuple[str, bool]]:
    """A `for` loop's variables (the names its target binds that the body does not assign) that may be read
    after the loop, each with whether every path after the loop reads it before binding it again."""
    if loop.orelse:
        return []
    if any(isinstance(s, ast.Assign) and getattr(s.targets[0], "id", "").startswith(("#last_", "#ran_")) for s in loop.body[:1]):
        return []  # already keeping them
    kept = []
    for target in [n.id for n in ast.walk(loop.target) if isinstance(n, ast.Name)]:
        names = [n for s in loop.body for n in ast.walk(s) if isinstance(n, ast.Name) and n.id == target]
        if any(isinstance(n.ctx, ast.Store) for n in names):
            continue
        uses = first_uses(target, rest)
        if uses.may_read:
            kept.append((target, uses.must_read))
    return kept


@dataclass(frozen=True)
class Uses:
    """How statements use a name before they bind it again: read on some path or on every path; bound
    on some path or on every path (a statement that both reads and binds it reads it)."""

    may_read: bool = False
    must_read: bool = False
    may_bind: bool = False
    must_bind: bool = False


def first_uses(name: str, statements: list[ast.stmt]) -> Uses:
    """`Uses` of a sequence: a later statement's read counts where no earlier one bound the name."""
    if not statements:
        return Uses()
    first, rest = _statement_uses(name, statements[0]), first_uses(name, statements[1:])
    return Uses(
        may_read=first.may_read or (not first.must_bind and rest.may_read),
        must_read=first.must_read or (not first.may_bind and not first.may_read and rest.must_read),
        may_bind=first.may_bind or rest.may_bind,
        must_bind=first.must_bind or rest.must_bind,
    )


def _statement_uses(name: str, stmt: ast.stmt) -> Uses:
    if isinstance(stmt, ast.If) and not _reads(name, stmt.test):
        then, orelse = first_uses(name, stmt.body), first_uses(name, stmt.orelse)
        return Uses(
            then.may_read or orelse.may_read,
            then.must_read and orelse.must_read,
            then.may_bind or orelse.may_bind,
            then.must_bind and orelse.must_bind,
        )
    if isinstance(stmt, (ast.For, ast.While)):
        head = stmt.iter if isinstance(stmt, ast.For) else stmt.test
        if _reads(name, head):
            return Uses(True, True)
        binds_target = isinstance(stmt, ast.For) and _binds(stmt.target, name)
        body = first_uses(name, [*stmt.body, *stmt.orelse])  # may run no iteration
        return Uses(may_read=body.may_read and not binds_target, may_bind=binds_target or body.may_bind)
    names = [n for n in _outside_comprehensions(stmt, name) if isinstance(n, ast.Name) and n.id == name]
    if any(isinstance(n.ctx, ast.Load) for n in names):
        return Uses(True, True)
    bound = any(isinstance(n.ctx, ast.Store) for n in names)
    return Uses(may_bind=bound, must_bind=bound)


def _reads(name: str, node: ast.AST) -> bool:
    found = _outside_comprehensions(node, name)
    return any(isinstance(n, ast.Name) and n.id == name and isinstance(n.ctx, ast.Load) for n in found)


def _outside_comprehensions(node: ast.AST, name: str) -> list[ast.AST]:
    """The nodes under `node`, but not those of a comprehension with its own `name`, nor the body of a lambda
    with a parameter `name` (`lambda v: n * v`): Python scopes them apart."""
    found: list[ast.AST] = []
    pending = [node]
    while pending:
        current = pending.pop()
        if isinstance(current, (ast.ListComp, ast.GeneratorExp, ast.SetComp, ast.DictComp)) and any(
            _binds(g.target, name) for g in current.generators
        ):
            pending.extend(g.iter for g in current.generators[:1])  # the first iterable is evaluated outside
            continue
        if isinstance(current, ast.Lambda) and name in _parameters(current.args):
            pending.extend(d for d in (*current.args.defaults, *current.args.kw_defaults) if d is not None)  # outside
            continue
        if isinstance(current, ast.FunctionDef) and (name in _parameters(current.args) or _assigns(current.body, name)):
            pending.extend(d for d in (*current.args.defaults, *current.args.kw_defaults) if d is not None)
            continue  # a `def` inside the function whose own `name` it is (its body runs when called, in its scope)
        found.append(current)
        pending.extend(ast.iter_child_nodes(current))
    return found


def _parameters(args: ast.arguments) -> set[str]:
    named = [*args.posonlyargs, *args.args, *args.kwonlyargs, *(a for a in (args.vararg, args.kwarg) if a is not None)]
    return {a.arg for a in named}


def _assigns(body: list[ast.stmt], name: str) -> bool:
    """Whether statements store into `name` (in a function's body: a name of its own)."""
    return any(isinstance(n, ast.Name) and n.id == name and isinstance(n.ctx, ast.Store) for s in body for n in ast.walk(s))


def _binds(target: ast.expr, name: str) -> bool:
    return any(isinstance(n, ast.Name) and n.id == name for n in ast.walk(target))


def runs_at_least_once(loop: ast.For) -> bool:
    """Whether a loop runs an iteration for certain: `for k in range(2)`, a range of constants that is not empty."""
    call = loop.iter
    if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Name) and call.func.id == "range" and not call.keywords):
        return False
    bounds = [a.value for a in call.args if isinstance(a, ast.Constant) and type(a.value) is int]
    return 1 <= len(bounds) == len(call.args) <= 3 and bounds[-1 if len(bounds) == 3 else 0] != 0 and len(range(*bounds)) > 0


def loop_keeping_target(loop: ast.For, kept: dict[str, bool], rows: bool = False) -> list[ast.stmt]:
    """`for i in ...: body` when `i` is read after the loop: Python keeps its last value there (and `i`
    is unbound after a loop that ran no iteration, unless it had a value before). `kept` holds each such
    name of the loop's target (`for a, b in pts`) with whether it had a value before the loop; with `rows`,
    the loop runs over the rows of a table (its variable starts as a list, never read, not as a number)."""
    ran = f"#ran_{next(iter(kept))}"
    unset: ast.expr = ast.List([], ast.Load()) if rows else ast.Constant(0)

    def assign(target: str, value: ast.expr) -> ast.stmt:
        return ast.Assign([ast.Name(target, ast.Store())], value)

    statements: list[ast.stmt] = [assign(f"#last_{n}", ast.Name(n, ast.Load()) if bound else unset) for n, bound in kept.items()]
    body: list[ast.stmt] = [*(assign(f"#last_{n}", ast.Name(n, ast.Load())) for n in kept), *loop.body]
    unbound = [n for n, bound in kept.items() if not bound] if not runs_at_least_once(loop) else []
    if unbound:
        statements.append(assign(ran, ast.Constant(False)))
        body.insert(0, assign(ran, ast.Constant(True)))
    statements.append(ast.For(loop.target, loop.iter, body, [], loop.type_comment))
    if unbound:
        message = f"'{unbound[0]}': the loop ran no iteration"
        error = ast.Call(ast.Name("UnboundLocalError", ast.Load()), [ast.Constant(message)], [])
        statements.append(ast.If(ast.UnaryOp(ast.Not(), ast.Name(ran, ast.Load())), [ast.Raise(error, None)], []))
    statements += [assign(n, ast.Name(f"#last_{n}", ast.Load())) for n in kept]
    for statement in statements:
        ast.copy_location(statement, loop)
        for child in ast.walk(statement):
            if getattr(child, "lineno", None) is None:
                ast.copy_location(child, loop)
    return statements
