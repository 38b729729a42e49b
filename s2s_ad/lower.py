"""Python AST -> IR: three-address code, one primitive per assignment, SSA names.

The lowering walks the `def` once, keeping a scope that maps each source
variable to its current SSA value. Nested expressions become temporaries,
re-assignments become new versions (`x`, `x.1`, ...), calls to the user's own
functions are lowered in place with their parameters bound to the caller's
values. Everything outside the supported language is refused here, with the
file, line and construct, before any code is generated.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from . import ir
from .errors import ResolutionError, S2SError, SignatureError, UnsupportedError
from .frontend import Callee, Constant, Custom, Data, Helper, MathModule, ParsedFunction, Resolved
from .ir import BOOL, FLOAT, INT, Assign, Const, Loc, Namer, Operand, Type, Var
from .rules import BINARY_OPERATORS, CALLS, COMPARISONS, MATH_CONSTANTS, RULES, Rule
from .rules.emit import fold


@dataclass(frozen=True)
class Value:
    operand: Operand
    type: Type


@dataclass(frozen=True)
class TupleValue:
    items: tuple[Value, ...]


Bound = Value | TupleValue

# Constructs refused with a hint; the key is the ast class name.
_REFUSED_STATEMENTS = {
    "Try": ("'try' statements cannot be differentiated", "move the error handling outside the function you differentiate"),
    "TryStar": ("'try' statements cannot be differentiated", "move the error handling outside the function you differentiate"),
    "With": ("'with' statements cannot be differentiated", "move the 'with' block outside the function you differentiate"),
    "AsyncWith": ("'async with' statements cannot be differentiated", None),
    "Global": ("'global' statements cannot be differentiated", "pass the value in as a parameter and return the result"),
    "Nonlocal": ("'nonlocal' statements cannot be differentiated", "pass the value in as a parameter and return the result"),
    "Raise": ("'raise' statements cannot be differentiated", "check inputs before calling the function you differentiate"),
    "FunctionDef": ("nested function definitions cannot be differentiated", "define helper functions at module level"),
    "AsyncFunctionDef": ("nested function definitions cannot be differentiated", "define helper functions at module level"),
    "ClassDef": ("class definitions cannot be differentiated", None),
    "Import": ("imports inside a differentiated function are not supported", "import at module level"),
    "ImportFrom": ("imports inside a differentiated function are not supported", "import at module level"),
    "Delete": ("'del' statements cannot be differentiated", None),
    "Match": ("'match' statements cannot be differentiated", "use if/elif/else"),
    "Assert": ("'assert' statements cannot be differentiated", "check inputs before calling the function you differentiate"),
    "AsyncFor": ("'async for' loops cannot be differentiated", None),
}
_REFUSED_EXPRESSIONS = {
    "Lambda": ("lambda expressions cannot be differentiated", "define a helper function with `def` at module level"),
    "Yield": ("generators ('yield') cannot be differentiated", "return a value instead"),
    "YieldFrom": ("generators ('yield from') cannot be differentiated", "return a value instead"),
    "Await": ("'await' cannot be differentiated", None),
    "JoinedStr": ("string operations cannot be differentiated", "keep formatting and printing outside the function"),
    "Dict": ("dictionaries cannot be differentiated", "use separate parameters or lists"),
    "Set": ("sets cannot be differentiated", None),
    "DictComp": ("dictionaries cannot be differentiated", None),
    "SetComp": ("sets cannot be differentiated", None),
    "NamedExpr": ("assignment expressions (':=') are not supported", "assign in a separate statement"),
    "Starred": ("starred expressions are not supported", None),
    "Slice": ("slices are not supported", "index elements one at a time"),
}


@dataclass(frozen=True)
class Undefined:
    """A name that is not bound on every path (assigned in one branch, or only inside a loop).

    When it was bound in one branch of an `if`, `when` remembers the condition,
    the branch and the value: a later `if` on the same condition may read it
    in the same branch (generated gradients do exactly that).
    """

    reason: str
    when: tuple[Operand, bool, Bound] | None = None


Scope = dict[str, "Bound | Undefined"]

# Scope entries that are not source variables: whether and what the function
# returned, and whether the current loop iteration was left by break/continue.
RETURNED, RESULT, BREAK, CONTINUE = "#returned", "#result", "#break", "#continue"
_PSEUDO_FAMILIES = {RETURNED: "_returned", RESULT: "_result", BREAK: "_broke", CONTINUE: "_skip"}
_FALSE = Value(Const(False), BOOL)
_TRUE = Value(Const(True), BOOL)


def lower(parsed: ParsedFunction, rules: Mapping[str, Rule] = RULES) -> ir.Function:
    """Lower a parsed function to IR."""
    lowering = _Lowering(parsed, rules, Namer(), stack=(parsed.name,))
    node = parsed.node
    if lowering.tape is not None:  # a gradient s2s_ad generated, read back: its stack of tuples is no list of numbers
        raise lowering.error(
            UnsupportedError,
            "this generated gradient records on a tape (`_tape`); differentiating it again is not supported",
            lowering.tape,
            "use hessian(f) for second derivatives",
        )
    params = lowering.params(node)
    scope: Scope = {p.name: Value(Var(lowering.namer.fresh(p.name)), p.type) for p in params}
    lowering.callers.update(p.name for p in params if isinstance(p.type, ir.ListOf))
    lowering.maybe_int.update(p.name for p in params if p.type == FLOAT)
    returned = lowering.body(node, scope)
    if isinstance(returned, TupleValue):
        returns: ir.Returns = tuple(v.operand for v in returned.items)
    else:
        returns = returned.operand
    sources = tuple((src.filename, src.lines) for src in lowering.sources.values())
    return ir.Function(parsed.name, params, tuple(lowering.out), returns, Loc(parsed.source.filename, node.lineno), sources)


class _Lowering:
    def __init__(self, parsed: ParsedFunction, rules: Mapping[str, Rule], namer: Namer, stack: tuple[str, ...]) -> None:
        self.parsed = parsed
        self.rules = rules
        self.namer = namer
        self.stack = stack  # helper functions being lowered, to refuse recursion
        self.out: list[ir.Stmt] = []
        self.types: dict[str, Type] = {}
        self.loc = Loc(parsed.source.filename, parsed.node.lineno)
        self.sources = {parsed.source.filename: parsed.source}
        self.mutated: set[str] = set()  # SSA names of lists this function mutates
        self.held: set[str] = set()  # temporaries a scope holds besides the expression that made them
        self.callers: set[str] = set()  # SSA names of lists that are the caller's (parameters, and names for them)
        self.maybe_int: set[str] = set()  # names typed float that may hold an int (see ir.maybe_int)
        self.tape: ast.Name | None = None  # where a generated gradient's `_tape` first appears
        self.reserve(parsed.node)

    # -- errors ------------------------------------------------------------

    def error(self, cls: type[S2SError], message: str, node: ast.AST | None, hint: str | None = None) -> S2SError:
        return self.parsed.source.error(cls, message, node, hint)

    def reserve(self, node: ast.AST) -> None:
        """Source names are taken: no temporary or adjoint may be called like one. (And the first `_tape`
        is remembered: only generated gradients use one.)"""
        for child in _nodes(node):
            if isinstance(child, ast.Name):
                self.namer.reserved.add(child.id)
                if child.id == "_tape" and self.tape is None:
                    self.tape = child
            elif isinstance(child, ast.arg):
                self.namer.reserved.add(child.arg)

    def fresh(self, key: str) -> str:
        """A new SSA name for a scope entry (a source variable or a pseudo entry)."""
        if key.startswith("#"):
            return self.namer.fresh(_PSEUDO_FAMILIES.get(key) or "_" + key[1:].split("_")[0].rstrip("0123456789"))
        return self.namer.fresh(key)

    # -- the function --------------------------------------------------------

    def params(self, node: ast.FunctionDef, arg_types: tuple[Type, ...] | None = None) -> tuple[ir.Param, ...]:
        args = node.args
        if args.vararg or args.kwarg or args.kwonlyargs or args.posonlyargs:
            raise self.error(
                UnsupportedError,
                "only plain positional parameters are supported",
                node,
                "write each parameter out by name: def f(x, y, z)",
            )
        if args.defaults:
            raise self.error(UnsupportedError, "default parameter values are not supported", args.defaults[0])
        if not args.args:
            raise self.error(SignatureError, f"function '{node.name}' has no parameters to differentiate", node)
        types = arg_types or param_types(node, self.parsed.resolve)
        return tuple(ir.Param(a.arg, t) for a, t in zip(args.args, types))

    def body(self, node: ast.FunctionDef, scope: Scope) -> Bound:
        statements = node.body
        if (
            statements
            and isinstance(statements[0], ast.Expr)
            and isinstance(statements[0].value, ast.Constant)
            and isinstance(statements[0].value.value, str)
        ):
            statements = statements[1:]  # docstring
        scope[RETURNED] = _FALSE
        self.block(statements, scope)
        returned = scope[RETURNED]
        if returned != _TRUE:
            raise self.error(
                SignatureError,
                f"function '{node.name}' may end without returning a value",
                node,
                "make every path end with `return <expression>`",
            )
        result = scope[RESULT]
        assert not isinstance(result, Undefined)
        return result

    # -- blocks and exits ----------------------------------------------------

    def block(self, statements: list[ast.stmt], scope: Scope) -> None:
        """Lower statements in order; after a possible exit the rest is guarded, after a certain one dropped."""
        for i, stmt in enumerate(statements):
            exited = self.exited(scope, stmt)
            if exited == _TRUE:
                return
            if exited != _FALSE:
                self.guarded(statements[i:], scope, exited, stmt)
                return
            self.loc = Loc(self.parsed.source.filename, stmt.lineno)
            if isinstance(stmt, ast.If):
                self.if_statement(stmt, scope, statements[i + 1 :])
                return
            self.statement(stmt, scope)

    def exited(self, scope: Scope, node: ast.AST) -> Value:
        """True if control has left the block (return/break/continue), False if not, or a flag."""
        flags = [scope[k] for k in (RETURNED, BREAK, CONTINUE) if k in scope]
        if any(f == _TRUE for f in flags):
            return _TRUE
        result = _FALSE
        for flag in flags:
            if flag != _FALSE:
                assert isinstance(flag, Value)
                result = flag if result == _FALSE else self.apply("or", (result, flag), node)
        return result

    def guarded(self, statements: list[ast.stmt], scope: Scope, exited: Value, node: ast.AST) -> None:
        """`if not exited: <statements>`."""
        go_on = self.apply("not", (exited,), node)
        then_scope = dict(scope)
        for flag in (RETURNED, BREAK, CONTINUE):  # on this path, control has not left
            if flag in then_scope:
                then_scope[flag] = _FALSE
        then_block = self.nested(lambda: self.block(statements, then_scope))
        else_scope = dict(scope)
        raised = [flag for flag in (RETURNED, BREAK, CONTINUE) if flag in scope and scope[flag] != _FALSE]
        if len(raised) == 1:  # on the other path control left, and only this way is possible
            else_scope[raised[0]] = _TRUE
        self.merge(go_on, then_scope, then_block, else_scope, (), node)
        scope.clear()
        scope.update(self.last_merged)

    def nested(self, lower_it: Callable[[], object]) -> ir.Block:
        """Lower into a new block and return it."""
        saved, self.out = self.out, []
        try:
            lower_it()
            return tuple(self.out)
        finally:
            self.out = saved

    def if_statement(self, node: ast.If, scope: Scope, rest: list[ast.stmt]) -> None:
        """An `if`; when one branch always leaves the block, the rest of the block joins the other."""
        cond = self.scalar(self.expr(node.test, scope), node.test)
        then_exits, else_exits = _always_exits(node.body), _always_exits(node.orelse)
        joins = then_exits or else_exits
        then_statements = node.body + (rest if joins and not then_exits else [])
        else_statements = node.orelse + (rest if joins and not else_exits else [])
        then_scope, else_scope = dict(scope), dict(scope)
        for key, value in scope.items():  # bound earlier under this very condition: bound again here
            if isinstance(value, Undefined) and value.when is not None and value.when[0] == cond.operand:
                (then_scope if value.when[1] else else_scope)[key] = value.when[2]
        then_block = self.nested(lambda: self.block(then_statements, then_scope))
        else_block = self.nested(lambda: self.block(else_statements, else_scope))
        self.loc = Loc(self.parsed.source.filename, node.lineno)
        self.merge(cond, then_scope, then_block, else_scope, else_block, node)
        scope.clear()
        scope.update(self.last_merged)
        if not joins:
            self.block(rest, scope)

    def merge(
        self, cond: Value, then_scope: Scope, then_block: ir.Block, else_scope: Scope, else_block: ir.Block, node: ast.AST
    ) -> None:
        """Emit the `If` and leave the merged scope in `self.last_merged`."""
        merged: Scope = {}
        merges: list[ir.Merge] = []
        for key in list(then_scope) + [k for k in else_scope if k not in then_scope]:
            a, b = then_scope.get(key), else_scope.get(key)
            if key in (BREAK, CONTINUE):
                a, b = a or _FALSE, b or _FALSE
            if a is None or b is None or isinstance(a, Undefined) or isinstance(b, Undefined):
                if key == RESULT:  # returned on one path only: the other path's value is never read
                    a, b = (
                        a if isinstance(a, (Value, TupleValue)) else _placeholder(b),
                        b if isinstance(b, (Value, TupleValue)) else _placeholder(a),
                    )
                else:
                    line = getattr(node, "lineno", "?")
                    reason = f"'{key}' is assigned in only one branch of the `if` at line {line}"
                    in_loop = BREAK in then_scope  # there the tape would not record it for a later branch
                    if in_loop:
                        merged[key] = Undefined(reason)
                    elif isinstance(a, (Value, TupleValue)) and b is None:
                        merged[key] = Undefined(reason, (cond.operand, True, a))
                    elif isinstance(b, (Value, TupleValue)) and a is None:
                        merged[key] = Undefined(reason, (cond.operand, False, b))
                    else:
                        merged[key] = a if isinstance(a, Undefined) else b if isinstance(b, Undefined) else Undefined(reason)
                    continue
            merged[key] = self.merged_value(key, a, b, merges, node)
        self.out.append(ir.If(cond.operand, then_block, else_block, tuple(merges), self.loc))
        self.last_merged = merged

    def merged_value(self, key: str, a: Bound, b: Bound, merges: list[ir.Merge], node: ast.AST) -> Bound:
        if isinstance(a, TupleValue) or isinstance(b, TupleValue):
            if not (isinstance(a, TupleValue) and isinstance(b, TupleValue) and len(a.items) == len(b.items)):
                raise self.error(UnsupportedError, "branches return tuples of different lengths", node)
            return TupleValue(
                tuple(
                    self.merged_value(key, x, y, merges, node)  # type: ignore[misc]
                    for x, y in zip(a.items, b.items)
                )
            )
        assert isinstance(a, Value) and isinstance(b, Value)
        if a.operand == b.operand:
            return a
        type_ = _join(a.type, b.type)
        if type_ is None:
            raise self.error(UnsupportedError, f"'{key.lstrip('#')}' is a list on one path and a number on another", node)
        target = self.fresh(key)
        self.types[target] = type_
        merges.append(ir.Merge(target, type_, a.operand, b.operand))
        if any(isinstance(o, ir.Global) or (isinstance(o, Var) and o.name in self.callers) for o in (a.operand, b.operand)):
            self.callers.add(target)
        return Value(Var(target), type_)

    # -- loops ---------------------------------------------------------------

    def for_statement(self, node: ast.For, scope: Scope) -> None:
        if node.orelse:
            raise self.error(UnsupportedError, "'for ... else' is not supported", node.orelse[0])
        self.refuse_growing(node)
        start, stop, step, bind_target, backwards = self.iteration(node.iter, node.target, scope, node)
        index_key = node.target.id if isinstance(node.target, ast.Name) and bind_target is None else "#k"

        def lower_body(body_scope: Scope) -> None:
            if bind_target is not None:
                bind_target(body_scope)
            self.block(node.body, body_scope)

        self.loop(node, scope, index_key, (start, stop, step), lower_body, None, node.body, backwards)

    def refuse_growing(self, node: ast.For) -> None:
        """A loop over a list (directly, or in zip/enumerate) visits what its body appends to that list;
        the lowered loop runs over the items there at the start, so such a loop is refused."""
        iterated = (
            node.iter.args
            if isinstance(node.iter, ast.Call)
            and isinstance(node.iter.func, ast.Name)
            and node.iter.func.id in ("zip", "enumerate")
            else [node.iter]
        )
        names = {n.id for n in iterated if isinstance(n, ast.Name)}
        for child in (c for stmt in node.body for c in _nodes(stmt)):
            if (
                isinstance(child, ast.Call)
                and isinstance(child.func, ast.Attribute)
                and child.func.attr == "append"
                and isinstance(child.func.value, ast.Name)
                and child.func.value.id in names
            ):
                raise self.error(
                    UnsupportedError,
                    f"the list '{child.func.value.id}' grows inside the loop that runs "
                    "over it (Python would visit the new items too)",
                    child,
                    f"loop over range(len({child.func.value.id})) for the items there at the start",
                )

    def while_statement(self, node: ast.While, scope: Scope) -> None:
        if node.orelse:
            raise self.error(UnsupportedError, "'while ... else' is not supported", node.orelse[0])
        self.loop(node, scope, None, None, lambda body_scope: self.block(node.body, body_scope), node.test, node.body)

    def loop(
        self,
        node: ast.stmt,
        scope: Scope,
        index_key: str | None,
        bounds: tuple[Value, Value, Value] | None,
        lower_body: Callable[[Scope], None],
        test: ast.expr | None,
        body: list[ast.stmt],
        backwards: bool = False,
    ) -> None:
        """A `for` over a range (`bounds`, run `backwards` for `reversed(...)`) or a `while` (`test`), with its
        carried values."""
        assigned = _assigned_names(body) | ({index_key} if index_key else set())
        carried = [
            k
            for k in scope
            if k in assigned and not isinstance(scope[k], Undefined) and k not in (RETURNED, RESULT, BREAK, CONTINUE)
        ]
        if _contains(body, ast.Return):
            carried += [RETURNED, RESULT]
            if RESULT not in scope:
                scope[RESULT] = Value(Const(0.0), FLOAT)
        for key in carried:
            if isinstance(scope[key], TupleValue):
                raise self.error(UnsupportedError, "returning a tuple from inside a loop is not supported", node)
        types = {k: scope[k].type for k in carried}  # type: ignore[union-attr]
        snapshot = self.namer.snapshot()
        for _ in range(3):  # widen int-typed carried values that the body makes floats, and lower again
            self.namer.restore(snapshot)
            headers = {k: self.fresh(k) for k in carried}
            body_scope: Scope = dict(scope)
            for key in carried:
                body_scope[key] = Value(Var(headers[key]), types[key])
                self.types[headers[key]] = types[key]
            body_scope[BREAK] = body_scope[CONTINUE] = _FALSE
            if RETURNED in carried:  # an iteration only starts if nothing has returned yet
                body_scope[RETURNED] = _FALSE
            index = self.fresh(index_key) if index_key else None
            if index is not None:
                body_scope[index_key] = Value(Var(index), INT)  # type: ignore[index]
                self.types[index] = INT
            test_block: ir.Block = ()
            cond: Value | None = None
            if test is not None:
                holder: list[Value] = []
                test_block = self.nested(lambda: holder.append(self.scalar(self.expr(test, body_scope), test)))  # noqa: B023
                cond = holder[0]
            exits: list[Operand | None] = []

            def lower_iteration(body_scope: Scope = body_scope, exits: list[Operand | None] = exits) -> None:
                lower_body(body_scope)
                exits.append(self.loop_exit(body_scope, node))  # computed in the body, at its end

            body_block = self.nested(lower_iteration)
            self.loc = Loc(self.parsed.source.filename, node.lineno)
            updates = {k: body_scope[k] for k in carried}
            for key, value in updates.items():
                if isinstance(value, Undefined) or isinstance(value, TupleValue):
                    raise self.error(UnsupportedError, f"'{key}' has no value at the end of some loop iterations", node)
            widened = {k: _join(types[k], v.type) for k, v in updates.items()}  # type: ignore[union-attr]
            if any(t is None for t in widened.values()):
                raise self.error(UnsupportedError, "a loop variable changes between a list and a number", node)
            if widened == types:
                break
            types = widened  # type: ignore[assignment]
        exit_flag = exits[0]
        carries = []
        for key in carried:
            result = self.fresh(key)
            self.types[result] = types[key]
            update = updates[key]
            assert isinstance(update, Value)
            init = scope[key]
            assert isinstance(init, Value)
            carries.append(ir.Carry(headers[key], types[key], init.operand, update.operand, result, self.assignment(body, key)))
            scope[key] = Value(Var(result), types[key])
        if backwards and exit_flag is not None:
            raise self.error(
                UnsupportedError,
                "leaving a loop over reversed(...) early (break or return) is not supported",
                node,
                "loop forwards, or let the loop run to its end",
            )
        self.out.append(self.loop_statement(index, bounds, tuple(carries), body_block, test_block, cond, exit_flag, backwards))
        for key in assigned - set(carried):
            if not key.startswith("#"):
                scope[key] = Undefined(f"'{key}' is assigned only inside the loop at line {node.lineno}")
        if RETURNED in carried and scope[RETURNED] != _FALSE:
            pass  # the rest of the enclosing block is guarded by `block`

    def assignment(self, body: list[ast.stmt], key: str) -> Loc | None:
        """Where a loop body first assigns `key` (for error messages)."""
        for stmt in body:
            for node in ast.walk(stmt):
                if isinstance(node, ast.Name) and node.id == key and isinstance(node.ctx, ast.Store):
                    return Loc(self.parsed.source.filename, node.lineno, node.col_offset)
        return None

    def loop_exit(self, body_scope: Scope, node: ast.AST) -> Operand | None:
        flags = [body_scope[k] for k in (BREAK, RETURNED) if k in body_scope and body_scope[k] != _FALSE]
        if not flags:
            return None
        result = flags[0]
        assert isinstance(result, Value)
        for flag in flags[1:]:
            result = self.apply("or", (result, flag), node)  # type: ignore[arg-type]
        return result.operand

    def loop_statement(
        self,
        index: str | None,
        bounds: tuple[Value, Value, Value] | None,
        carries: tuple[ir.Carry, ...],
        body: ir.Block,
        test: ir.Block,
        cond: Value | None,
        until: Operand | None,
        backwards: bool = False,
    ) -> ir.Stmt:
        if bounds is not None:
            assert index is not None
            start, stop, step = bounds
            return ir.For(index, start.operand, stop.operand, step.operand, carries, body, until, self.loc, reverse=backwards)
        assert cond is not None
        return ir.While(carries, test, cond.operand, body, until, self.loc)

    def iteration(
        self, iterable: ast.expr, target: ast.expr, scope: Scope, node: ast.AST
    ) -> tuple[Value, Value, Value, Callable[[Scope], None] | None, bool]:
        """What a `for` iterates over, as range bounds, a binder of the loop target per iteration, and
        whether it runs backwards."""
        zero, one = Value(Const(0), INT), Value(Const(1), INT)
        if isinstance(iterable, ast.Call) and isinstance(iterable.func, ast.Name) and iterable.func.id not in scope:
            spelling, callee = self.callee(iterable, scope)
            kind = callee.spelling if isinstance(callee, Callee) else None
            if kind == "reversed":
                inner = iterable.args[0] if len(iterable.args) == 1 and not iterable.keywords else None
                if inner is None or (
                    isinstance(inner, ast.Call)
                    and isinstance(inner.func, ast.Name)
                    and inner.func.id in ("zip", "enumerate", "reversed")
                ):
                    raise self.error(UnsupportedError, "write `reversed(range(...))` or `reversed(xs)` for a list", iterable)
                start, stop, step, bind, backwards = self.iteration(inner, target, scope, node)
                return start, stop, step, bind, not backwards
            if kind == "range":
                args = [self.integer(self.expr(a, scope), a) for a in iterable.args]
                if not 1 <= len(args) <= 3:
                    raise self.error(UnsupportedError, "range() takes 1 to 3 arguments", iterable)
                if len(args) == 1:
                    args = [zero, args[0]]
                if len(args) == 2:
                    args.append(one)
                if not isinstance(target, ast.Name):
                    raise self.error(UnsupportedError, "a range loop needs a single loop variable", target)
                return args[0], args[1], args[2], None, False
            if kind == "enumerate":
                start = self.enumerate_start(iterable, scope)
                if not (isinstance(target, ast.Tuple) and len(target.elts) == 2):
                    raise self.error(UnsupportedError, "write `for i, x in enumerate(xs)`", iterable)
                items = self.list_value(self.expr(iterable.args[0], scope), iterable.args[0])
                stop = self.apply("len", (items,), iterable)

                def bind_enumerate(body_scope: Scope) -> None:
                    index = body_scope["#k"]
                    assert isinstance(index, Value)
                    count = index if start is None else self.apply("add", (index, start), iterable)
                    self.bind(target.elts[0], count, body_scope)
                    self.bind(target.elts[1], self.element(items, index, iterable), body_scope)

                return zero, stop, one, bind_enumerate, False
            if kind in ("zip", "range") and iterable.keywords:
                raise self.error(
                    UnsupportedError,
                    f"keyword arguments to {kind}() are not supported",
                    iterable.keywords[0],
                    "zip(..., strict=True): check the lengths with an `if` before the loop" if kind == "zip" else None,
                )
            if kind == "zip":
                if not (isinstance(target, ast.Tuple) and len(target.elts) == len(iterable.args) >= 1):
                    raise self.error(UnsupportedError, "write `for a, b in zip(xs, ys)` with one name per list", iterable)
                lists = [self.list_value(self.expr(a, scope), a) for a in iterable.args]
                stop = self.apply("len", (lists[0],), iterable)
                for other in lists[1:]:
                    stop = self.apply("min", (stop, self.apply("len", (other,), iterable)), iterable)

                def bind_zip(body_scope: Scope) -> None:
                    index = body_scope["#k"]
                    assert isinstance(index, Value)
                    for element, items in zip(target.elts, lists):
                        self.bind(element, self.element(items, index, iterable), body_scope)

                return zero, stop, one, bind_zip, False
            if kind is not None:
                raise self.error(
                    UnsupportedError,
                    f"loops over {spelling}(...) are not supported",
                    iterable,
                    "loop over range(...), a list, zip(...) or enumerate(...)",
                )
        items = self.list_value(self.expr(iterable, scope), iterable)
        stop = self.apply("len", (items,), iterable)

        def bind_element(body_scope: Scope) -> None:
            index = body_scope["#k"]
            assert isinstance(index, Value)
            self.bind(target, self.element(items, index, iterable), body_scope)

        return zero, stop, one, bind_element, False

    def enumerate_start(self, call: ast.Call, scope: Scope) -> Value | None:
        """The `start` of `enumerate(xs, start)` or `enumerate(xs, start=K)`: a whole number, or None for 0."""
        starts = [k.value for k in call.keywords if k.arg == "start"]
        if len(call.args) + len(starts) not in (1, 2) or len(starts) != len(call.keywords) or not call.args:
            raise self.error(UnsupportedError, "write `enumerate(xs)` or `enumerate(xs, start)`", call)
        starts.extend(call.args[1:])
        if not starts:
            return None
        start = self.integer(self.expr(starts[0], scope), starts[0], "enumerate()")
        return None if start.operand == Const(0) else start

    def integer(self, value: Value, node: ast.AST, what: str = "range()") -> Value:
        if value.type not in (INT, BOOL):
            raise self.error(
                UnsupportedError, "range() needs whole numbers (int), not floats", node, "use int(...) if the bound is computed"
            )
        return value

    def list_value(self, value: Value, node: ast.AST) -> Value:
        if not isinstance(value.type, ir.ListOf):
            raise self.error(UnsupportedError, "expected a list here", node)
        return value

    def element(self, items: Value, index: Value, node: ast.AST) -> Value:
        assert isinstance(items.type, ir.ListOf)
        target = self.namer.temp()
        self.types[target] = items.type.elem
        self.out.append(Assign(target, "index", (items.operand, index.operand), items.type.elem, self.loc))
        if isinstance(items.operand, ir.Global) or (isinstance(items.operand, Var) and items.operand.name in self.callers):
            self.maybe_int.add(target)  # the caller's list may hold ints
        return Value(Var(target), items.type.elem)

    # -- statements ----------------------------------------------------------

    def statement(self, node: ast.stmt, scope: Scope) -> None:
        kind = type(node).__name__
        if isinstance(node, ast.Assign):
            value = self.bound(node.value, scope)
            if len(node.targets) > 1:  # `a = b = ...`: every target holds the value, none may rename it
                items = value.items if isinstance(value, TupleValue) else (value,)
                self.held.update(v.operand.name for v in items if isinstance(v.operand, Var) and ir.is_temp(v.operand.name))
            for target in node.targets:
                self.bind(target, value, scope)
        elif isinstance(node, ast.AnnAssign):
            if node.value is None:
                return
            self.bind(node.target, self.bound(node.value, scope), scope)
        elif isinstance(node, ast.AugAssign):
            op = BINARY_OPERATORS.get(type(node.op).__name__)
            if op is None:
                raise self.error(UnsupportedError, f"the operator '{_spell(node.op)}=' cannot be differentiated", node)
            if isinstance(node.target, ast.Name):
                current = self.name(node.target.id, scope, node.target)
                self.bind(node.target, self.apply(op, (current, self.expr(node.value, scope)), node), scope)
            elif isinstance(node.target, ast.Subscript):
                current = self.expr(
                    ast.Subscript(
                        node.target.value, node.target.slice, ast.Load(), lineno=node.lineno, col_offset=node.col_offset
                    ),
                    scope,
                )
                self.bind(node.target, self.apply(op, (current, self.expr(node.value, scope)), node), scope)
            else:
                raise self.error(UnsupportedError, "augmented assignment to this target is not supported", node.target)
        elif isinstance(node, ast.Return):
            if node.value is None:
                raise self.error(SignatureError, "'return' without a value: nothing to differentiate", node)
            scope[RESULT] = self.returned(node.value, scope)
            scope[RETURNED] = _TRUE
        elif isinstance(node, ast.Break):
            if BREAK not in scope:
                raise self.error(UnsupportedError, "'break' outside a loop", node)
            scope[BREAK] = _TRUE
        elif isinstance(node, ast.Continue):
            if CONTINUE not in scope:
                raise self.error(UnsupportedError, "'continue' outside a loop", node)
            scope[CONTINUE] = _TRUE
        elif isinstance(node, ast.For):
            self.for_statement(node, scope)
        elif isinstance(node, ast.While):
            self.while_statement(node, scope)
        elif isinstance(node, ast.Pass):
            return
        elif isinstance(node, ast.Expr):
            if isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
                return  # a string used as a comment
            if isinstance(node.value, ast.Call) and isinstance(node.value.func, ast.Attribute):
                self.method_call(node.value, scope)
                return
            self.expr(node.value, scope)
            raise self.error(
                UnsupportedError,
                "an expression whose value is discarded cannot be differentiated",
                node,
                "assign the value to a name, or remove the statement",
            )
        elif kind in _REFUSED_STATEMENTS:
            message, hint = _REFUSED_STATEMENTS[kind]
            raise self.error(UnsupportedError, message, node, hint)
        else:
            raise self.error(UnsupportedError, f"'{kind}' statements cannot be differentiated", node)

    def method_call(self, node: ast.Call, scope: Scope) -> None:
        func = node.func
        assert isinstance(func, ast.Attribute)
        if func.attr != "append" or not isinstance(func.value, ast.Name) or func.value.id not in scope:
            raise self.error(
                UnsupportedError,
                f"the method call '{ast.unparse(func)}(...)' cannot be differentiated",
                node,
                "the only list method supported is append",
            )
        if len(node.args) != 1 or node.keywords:
            raise self.error(UnsupportedError, "append takes one argument", node)
        items = self.mutable_list(func.value.id, scope, func.value)
        value = self.expr(node.args[0], scope)
        if isinstance(value.type, ir.ListOf):
            raise self.error(
                UnsupportedError,
                "appending a list to a list is not supported",
                node.args[0],
                "build nested lists with a list literal or a comprehension of literals",
            )
        self.check_element(items, value, node.args[0])
        self.out.append(ir.Effect("append", (items.operand, value.operand), self.loc))

    def mutable_list(self, name: str, scope: Scope, node: ast.AST) -> Value:
        items = self.list_value(self.name(name, scope, node), node)
        operand = items.operand
        if isinstance(operand, ir.Global) or (isinstance(operand, Var) and operand.name in self.callers):
            raise self.error(
                UnsupportedError,
                f"'{name}' is the caller's list (a parameter or global): changing it cannot be differentiated",
                node,
                "copy it into a new local list first (`ys = [v for v in xs]`) and change the copy",
            )
        assert isinstance(operand, Var)
        self.mutated.add(operand.name)
        return items

    def check_element(self, items: Value, value: Value, node: ast.AST) -> None:
        assert isinstance(items.type, ir.ListOf)
        if _join(items.type.elem, value.type) is None:
            raise self.error(UnsupportedError, "this list holds numbers; lists of mixed kinds are not supported", node)

    def bound(self, node: ast.expr, scope: Scope) -> Bound:
        if isinstance(node, ast.Tuple):
            return TupleValue(tuple(self.expr(e, scope) for e in node.elts))
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id not in scope:
            resolved = self.parsed.resolve(node.func.id)
            if isinstance(resolved, Helper):
                return self.inline(node.func.id, resolved, node, scope, allow_tuple=True)
        return self.expr(node, scope)

    def bind(self, target: ast.expr, value: Bound, scope: Scope) -> None:
        if isinstance(target, ast.Name):
            if isinstance(value, TupleValue):
                raise self.error(UnsupportedError, "a tuple can only be unpacked into names", target, "write `a, b = ...`")
            scope[target.id] = self.named(target.id, value)
        elif isinstance(target, (ast.Tuple, ast.List)):
            if not isinstance(value, TupleValue) or len(value.items) != len(target.elts):
                raise self.error(UnsupportedError, f"cannot unpack this value into {len(target.elts)} names", target)
            for element, item in zip(target.elts, value.items):
                self.bind(element, item, scope)
        elif isinstance(target, ast.Subscript):
            if not isinstance(target.value, ast.Name):
                raise self.error(UnsupportedError, "only `name[index] = value` can assign into a list", target)
            items = self.mutable_list(target.value.id, scope, target.value)
            index = self.index_value(target.slice, scope)
            assert isinstance(value, Value)
            if isinstance(value.type, ir.ListOf):
                raise self.error(UnsupportedError, "assigning a list into a list is not supported", target)
            self.check_element(items, value, target)
            self.out.append(ir.Effect("setitem", (items.operand, index.operand, value.operand), self.loc))
        elif isinstance(target, ast.Starred):
            raise self.error(UnsupportedError, "starred assignment is not supported", target)
        elif isinstance(target, ast.Attribute):
            raise self.error(UnsupportedError, "assignment to an attribute cannot be differentiated", target)
        else:
            raise self.error(UnsupportedError, "assignment to this target is not supported", target)

    def named(self, name: str, value: Value) -> Value:
        """Give a value a source name: rename the temporary that computed it, or copy."""
        last = self.out[-1] if self.out else None
        if (
            isinstance(value.operand, Var)
            and isinstance(last, Assign)
            and last.target == value.operand.name
            and ir.is_temp(last.target)
            and last.target not in self.held
        ):
            # The temporary was made for this very expression, so nothing has read it yet.
            target = self.fresh(name)
            self.out[-1] = Assign(target, last.op, last.args, last.type, last.loc)
            self.types[target] = last.type
            self.namer.issued.discard(last.target)
            if last.target in self.mutated:
                self.mutated.add(target)
            return Value(Var(target), value.type)
        target = self.fresh(name)
        self.out.append(Assign(target, "copy", (value.operand,), value.type, self.loc))
        self.types[target] = value.type
        if isinstance(value.operand, ir.Global) or (isinstance(value.operand, Var) and value.operand.name in self.callers):
            self.callers.add(target)  # `ys = xs`: the same list
        return Value(Var(target), value.type)

    def returned(self, node: ast.expr, scope: Scope) -> Bound:
        """A returned value: a number, a list, or a tuple of them (what may be differentiated is
        decided by the caller: `grad` wants one number, `has_aux` passes the rest through)."""
        if isinstance(node, ast.Tuple):
            return TupleValue(tuple(self.expr(e, scope) for e in node.elts))
        return self.bound(node, scope)

    # -- expressions ---------------------------------------------------------

    def expr(self, node: ast.expr, scope: Scope) -> Value:
        if isinstance(node, ast.Constant):
            if isinstance(node.value, bool | int | float) and not isinstance(node.value, complex):
                return Value(Const(node.value), ir.const_type(node.value))
            if isinstance(node.value, str):
                raise self.error(
                    UnsupportedError,
                    "string operations cannot be differentiated",
                    node,
                    "keep formatting and printing outside the function",
                )
            raise self.error(UnsupportedError, f"the constant {node.value!r} cannot be differentiated", node)
        if isinstance(node, ast.Name):
            return self.name(node.id, scope, node)
        if isinstance(node, ast.BinOp):
            op = BINARY_OPERATORS.get(type(node.op).__name__)
            if op is None:
                raise self.error(UnsupportedError, f"the operator '{_spell(node.op)}' cannot be differentiated", node)
            if op == "mul" and (isinstance(node.left, ast.List) or isinstance(node.right, ast.List)):
                return self.repeat(node, scope)
            return self.apply(op, (self.expr(node.left, scope), self.expr(node.right, scope)), node)
        if isinstance(node, ast.UnaryOp):
            operand = self.expr(node.operand, scope)
            if isinstance(node.op, ast.USub):
                return self.apply("neg", (operand,), node)
            if isinstance(node.op, ast.UAdd):
                return operand
            if isinstance(node.op, ast.Not):
                return self.apply("not", (operand,), node)
            raise self.error(UnsupportedError, f"the operator '{_spell(node.op)}' cannot be differentiated", node)
        if isinstance(node, ast.Compare):
            return self.compare(node, scope)
        if isinstance(node, ast.BoolOp):
            return self.bool_op(node, scope)
        if isinstance(node, ast.IfExp):
            return self.if_expression(node, scope)
        if isinstance(node, ast.Call):
            return self.call(node, scope)
        if isinstance(node, ast.Attribute):
            return self.attribute(node, scope)
        if isinstance(node, ast.Subscript):
            items = self.list_value(self.expr(node.value, scope), node.value)
            return self.element(items, self.index_value(node.slice, scope), node)
        if isinstance(node, ast.List):
            return self.list_literal(node, scope)
        if isinstance(node, ast.ListComp):
            return self.comprehension(node, scope, "list")
        if isinstance(node, ast.GeneratorExp):
            raise self.error(
                UnsupportedError,
                "a generator expression is only supported inside sum(), max() or min()",
                node,
                "use a list comprehension [...]",
            )
        if isinstance(node, ast.Tuple):
            raise self.error(UnsupportedError, "tuples can only be unpacked or returned", node)
        kind = type(node).__name__
        if kind in _REFUSED_EXPRESSIONS:
            message, hint = _REFUSED_EXPRESSIONS[kind]
            raise self.error(UnsupportedError, message, node, hint)
        raise self.error(UnsupportedError, f"'{kind}' expressions are not supported", node)

    def index_value(self, node: ast.expr, scope: Scope) -> Value:
        if isinstance(node, ast.Slice):
            raise self.error(UnsupportedError, "slices are not supported", node, "index elements one at a time")
        index = self.expr(node, scope)
        if index.type not in (INT, BOOL):
            raise self.error(UnsupportedError, "list indices must be whole numbers (int)", node)
        return index

    def list_literal(self, node: ast.List, scope: Scope) -> Value:
        items = [self.expr(e, scope) for e in node.elts]
        elem: Type | None = items[0].type if items else FLOAT
        for item in items[1:]:
            elem = _join(elem, item.type) if elem is not None else None
        if elem is None:
            raise self.error(UnsupportedError, "lists of mixed kinds are not supported", node)
        if elem in (INT, BOOL):
            elem = FLOAT  # a list of numbers; its elements may become floats
        type_ = ir.ListOf(elem)
        target = self.namer.temp()
        self.types[target] = type_
        self.out.append(Assign(target, "list", tuple(i.operand for i in items), type_, self.loc))
        return Value(Var(target), type_)

    def repeat(self, node: ast.BinOp, scope: Scope) -> Value:
        literal, count = (node.left, node.right) if isinstance(node.left, ast.List) else (node.right, node.left)
        assert isinstance(literal, ast.List)
        if len(literal.elts) != 1:
            raise self.error(UnsupportedError, "only `[value] * n` repetition is supported", node)
        value = self.scalar(self.expr(literal.elts[0], scope), literal.elts[0])
        n = self.expr(count, scope)
        if n.type not in (INT, BOOL):
            raise self.error(UnsupportedError, "a list can only be repeated a whole number of times", count)
        type_ = ir.ListOf(FLOAT)
        target = self.namer.temp()
        self.types[target] = type_
        self.out.append(Assign(target, "repeat", (value.operand, n.operand), type_, self.loc))
        return Value(Var(target), type_)

    def comprehension(self, node: ast.ListComp | ast.GeneratorExp, scope: Scope, into: str) -> Value:
        """`[e for ...]` builds a list with append; `sum(e for ...)` accumulates; max/min build a list."""
        accumulator = f"#acc{len(self.out)}_{node.col_offset}"
        if into == "sum":
            init: ast.expr = ast.Constant(0)
            update: ast.stmt = ast.AugAssign(ast.Name(accumulator, ast.Store()), ast.Add(), node.elt)
        else:
            init = ast.List([], ast.Load())
            update = ast.Expr(ast.Call(ast.Attribute(ast.Name(accumulator, ast.Load()), "append", ast.Load()), [node.elt], []))
        inner: ast.stmt = update
        for generator in reversed(node.generators):
            if generator.is_async:
                raise self.error(UnsupportedError, "async comprehensions are not supported", node)
            for condition in reversed(generator.ifs):
                inner = ast.If(condition, [inner], [])
            inner = ast.For(generator.target, generator.iter, [inner], [])
        statements = [ast.Assign([ast.Name(accumulator, ast.Store())], init), inner]
        for statement in statements:
            ast.copy_location(statement, node)
            for child in ast.walk(statement):
                if not hasattr(child, "lineno") or getattr(child, "lineno", None) is None:
                    ast.copy_location(child, node)
        inner_scope = dict(scope)
        inner_scope.pop(BREAK, None)
        inner_scope.pop(CONTINUE, None)
        self.block(statements, inner_scope)
        result = inner_scope[accumulator]
        assert isinstance(result, Value)
        for key, value in inner_scope.items():  # the comprehension's loop variables stay inside it
            if key in scope and not key.startswith("#"):
                scope[key] = value
        return result

    def scalar(self, value: Value, node: ast.AST) -> Value:
        if isinstance(value.type, ir.ListOf):
            raise self.error(UnsupportedError, "expected a number here, not a list", node)
        return value

    def compare(self, node: ast.Compare, scope: Scope) -> Value:
        left = self.expr(node.left, scope)
        result: Value | None = None
        for op_node, right_node in zip(node.ops, node.comparators):
            op = COMPARISONS.get(type(op_node).__name__)
            if op is None:
                raise self.error(UnsupportedError, f"the comparison '{_spell(op_node)}' is not supported", node)
            right = self.expr(right_node, scope)
            test = self.apply(op, (left, right), node)
            result = test if result is None else self.apply("and", (result, test), node)
            left = right
        assert result is not None
        return result

    def bool_op(self, node: ast.BoolOp, scope: Scope) -> Value:
        """`a and b`, `a or b`: b is evaluated only when needed, unless it cannot fail."""
        op = "and" if isinstance(node.op, ast.And) else "or"
        result = self.expr(node.values[0], scope)
        for value_node in node.values[1:]:
            holder: list[Value] = []
            block = self.nested(lambda: holder.append(self.expr(value_node, scope)))  # noqa: B023
            value = holder[0]
            if (
                result.type == BOOL
                and value.type == BOOL
                and all(isinstance(s, Assign) and self.rules[s.op].cannot_raise(s.args) for s in block)
            ):
                self.out.extend(block)
                result = self.apply(op, (result, value), node)
                continue
            then_block, else_block = (block, ()) if op == "and" else ((), block)
            then_value, else_value = (value, result) if op == "and" else (result, value)
            type_ = _join(then_value.type, else_value.type)
            if type_ is None or isinstance(type_, ir.ListOf):
                raise self.error(UnsupportedError, f"'{op}' of lists is not supported", node)
            target = self.namer.temp()
            self.types[target] = type_
            self.out.append(
                ir.If(
                    result.operand,
                    then_block,
                    else_block,
                    (ir.Merge(target, type_, then_value.operand, else_value.operand),),
                    self.loc,
                )
            )
            result = Value(Var(target), type_)
        return result

    def if_expression(self, node: ast.IfExp, scope: Scope) -> Value:
        cond = self.scalar(self.expr(node.test, scope), node.test)
        holder: list[Value] = []
        then_block = self.nested(lambda: holder.append(self.expr(node.body, scope)))
        else_block = self.nested(lambda: holder.append(self.expr(node.orelse, scope)))
        then_value, else_value = holder
        if then_value.operand == else_value.operand and not then_block and not else_block:
            return then_value
        type_ = _join(then_value.type, else_value.type)
        if type_ is None:
            raise self.error(UnsupportedError, "the two sides of this conditional expression differ in kind", node)
        target = self.namer.temp()
        self.types[target] = type_
        self.out.append(
            ir.If(
                cond.operand, then_block, else_block, (ir.Merge(target, type_, then_value.operand, else_value.operand),), self.loc
            )
        )
        return Value(Var(target), type_)

    def name(self, name: str, scope: Mapping[str, Bound | Undefined], node: ast.AST) -> Value:
        if name in scope:
            value = scope[name]
            if isinstance(value, Undefined):
                raise self.error(
                    UnsupportedError,
                    f"'{name}' may be undefined here: {value.reason}",
                    node,
                    f"give '{name}' a value before the branch or loop",
                )
            if isinstance(value, TupleValue):
                raise self.error(UnsupportedError, f"'{name}' is a tuple; unpack it into names first", node)
            return value
        resolved = self.resolve(name, node)
        if isinstance(resolved, Constant):
            return Value(Const(resolved.value), ir.const_type(resolved.value))
        if isinstance(resolved, Data):
            type_ = _data_type(resolved.value)
            return Value(ir.Global(name, type_), type_)
        what = "the math module" if isinstance(resolved, MathModule) else "a function"
        raise self.error(UnsupportedError, f"'{name}' is {what}, not a number", node)

    def resolve(self, name: str, node: ast.AST) -> Resolved:
        resolved = self.parsed.resolve(name)
        if resolved is None:
            raise self.error(
                ResolutionError,
                f"name '{name}' cannot be resolved to a number or a known function",
                node,
                "s2s_ad differentiates numbers, lists of numbers, the math module and your own functions",
            )
        return resolved

    def attribute(self, node: ast.Attribute, scope: Scope) -> Value:
        if isinstance(node.value, ast.Name) and node.value.id not in scope:
            base = self.parsed.resolve(node.value.id)
            if isinstance(base, MathModule):
                if node.attr in MATH_CONSTANTS:
                    return Value(Const(MATH_CONSTANTS[node.attr]), FLOAT)
                raise self.error(UnsupportedError, f"'math.{node.attr}' is not a number", node)
        raise self.error(
            UnsupportedError,
            f"attribute access '{ast.unparse(node)}' cannot be differentiated",
            node,
            "only names of the math module (math.sin, math.pi, ...) can be read with '.'",
        )

    def callee(self, node: ast.Call, scope: Scope) -> tuple[str, Resolved]:
        func = node.func
        if isinstance(func, ast.Name) and func.id not in scope:
            return func.id, self.resolve(func.id, func)
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id not in scope:
            base = self.parsed.resolve(func.value.id)
            if isinstance(base, MathModule):
                return f"math.{func.attr}", Callee(f"math.{func.attr}")
        if isinstance(func, ast.Attribute) and func.attr == "append":
            raise self.error(UnsupportedError, "append(...) returns nothing; call it as a statement", node)
        raise self.error(
            ResolutionError,
            f"call to unknown function '{ast.unparse(func)}'",
            func,
            "s2s_ad differentiates calls to the math module, abs/max/min/float/int/pow/len/sum, and functions you define",
        )

    def call(self, node: ast.Call, scope: Scope) -> Value:
        spelling, callee = self.callee(node, scope)
        if node.keywords:
            raise self.error(
                UnsupportedError, f"keyword arguments in a call to '{spelling}' are not supported", node.keywords[0].value
            )
        if isinstance(callee, Helper):
            result = self.inline(spelling, callee, node, scope)
            assert isinstance(result, Value)
            return result
        if isinstance(callee, Custom):
            return self.custom_call(spelling, callee, node, scope)
        if not isinstance(callee, Callee):
            raise self.error(ResolutionError, f"'{spelling}' is not a function that can be differentiated", node.func)
        name = callee.spelling
        if name in ("sum", "max", "min") and len(node.args) == 1:
            return self.reduction(name, node.args[0], scope, node)
        if name in ("range", "zip", "enumerate", "reversed"):
            raise self.error(UnsupportedError, f"{name}(...) is only supported as what a `for` loop iterates over", node)
        args = [self.expr(arg, scope) for arg in node.args]
        if name == "len":
            if len(args) != 1:
                raise self.error(UnsupportedError, "len takes one argument", node)
            return self.apply("len", (self.list_value(args[0], node.args[0]),), node)
        if name in ("max", "min") and len(args) > 2:
            result = self.apply(name, (args[0], args[1]), node)
            for arg in args[2:]:
                result = self.apply(name, (result, arg), node)
            return result
        op = CALLS.get((name, len(args)))
        if op is None:
            known = sorted({n for n, _ in CALLS})
            if any(n == name for n, _ in CALLS):
                raise self.error(UnsupportedError, f"'{spelling}' does not take {len(args)} argument(s) here", node)
            raise self.error(
                ResolutionError,
                f"call to '{spelling}', which cannot be differentiated",
                node.func,
                "supported functions: " + ", ".join(known),
            )
        return self.apply(op, tuple(args), node)

    def custom_call(self, name: str, callee: Custom, node: ast.Call, scope: Scope) -> Value:
        """A function with a user-supplied derivative: one primitive, added to this build's rule table."""
        from .api import custom_rules

        custom = callee.rule
        if getattr(custom, "derivative", None) is None:
            raise self.error(UnsupportedError, f"'{name}' has no derivative yet", node, f"give it one with @{name}.defderiv")
        args = tuple(self.scalar(self.expr(arg, scope), arg) for arg in node.args)
        op = f"custom:{name}"
        if op not in self.rules:
            if not isinstance(self.rules, dict):
                raise self.error(UnsupportedError, f"custom derivative '{name}' needs a rule table of its own", node)
            self.rules.update(custom_rules(name, custom, len(args)))  # type: ignore[arg-type]
        elif self.rules[op].arity != len(args):
            raise self.error(SignatureError, f"'{name}' is called with different numbers of arguments", node)
        target = self.namer.temp()
        self.types[target] = FLOAT
        self.out.append(Assign(target, op, tuple(a.operand for a in args), FLOAT, self.loc))
        return Value(Var(target), FLOAT)

    def reduction(self, name: str, arg: ast.expr, scope: Scope, node: ast.AST) -> Value:
        """`sum(xs)`, `max(xs)`, `min(xs)` of a list or a generator expression."""
        if isinstance(arg, ast.GeneratorExp) and name == "sum":
            return self.comprehension(arg, scope, "sum")
        if isinstance(arg, (ast.GeneratorExp, ast.ListComp)):
            items = self.comprehension(arg, scope, "list")
        else:
            items = self.list_value(self.expr(arg, scope), arg)
        assert isinstance(items.type, ir.ListOf)
        if isinstance(items.type.elem, ir.ListOf):
            raise self.error(UnsupportedError, f"{name}() of a list of lists is not supported", arg)
        op = {"sum": "sum", "max": "list_max", "min": "list_min"}[name]
        target = self.namer.temp()
        self.types[target] = FLOAT
        self.out.append(Assign(target, op, (items.operand,), FLOAT, self.loc))
        if op == "sum" or items.operand.name in self.callers:  # type: ignore[union-attr]  # sum([]) is the int 0
            self.maybe_int.add(target)
        return Value(Var(target), FLOAT)

    def inline(self, name: str, helper: Helper, node: ast.Call, scope: Scope, allow_tuple: bool = False) -> Bound:
        """Lower a call to the user's own function in place, its parameters bound to the arguments."""
        if name in self.stack:
            raise self.error(
                UnsupportedError, f"recursive call to '{name}' cannot be differentiated", node, "rewrite the recursion as a loop"
            )
        if node.keywords:
            raise self.error(UnsupportedError, f"keyword arguments in a call to '{name}' are not supported", node)
        parsed = helper.load()
        params = parsed.node.args
        if params.vararg or params.kwarg or params.kwonlyargs or params.posonlyargs or params.defaults:
            raise self.error(UnsupportedError, f"'{name}' must take plain positional parameters only", node)
        if len(params.args) != len(node.args):
            raise self.error(SignatureError, f"'{name}' takes {len(params.args)} argument(s), {len(node.args)} given", node)
        args = [self.expr(arg, scope) for arg in node.args]
        inner = _Lowering(parsed, self.rules, self.namer, self.stack + (name,))
        inner.out, inner.types, inner.sources, inner.mutated = self.out, self.types, self.sources, self.mutated
        inner.held, inner.callers, inner.maybe_int = self.held, self.callers, self.maybe_int
        self.held.update(a.operand.name for a in args if isinstance(a.operand, Var) and ir.is_temp(a.operand.name))
        self.sources.setdefault(parsed.source.filename, parsed.source)
        inner.reserve(parsed.node)
        inner_scope: Scope = {p.arg: a for p, a in zip(params.args, args)}
        result = inner.body(parsed.node, inner_scope)
        self.loc = Loc(self.parsed.source.filename, node.lineno)
        if isinstance(result, TupleValue) and not allow_tuple:
            raise self.error(UnsupportedError, f"'{name}' returns a tuple; unpack it: `a, b = {name}(...)`", node)
        return result

    def apply(self, op: str, args: tuple[Value, ...], node: ast.AST) -> Value:
        if op != "len":
            for arg in args:
                self.scalar(arg, node)
        operands = tuple(a.operand for a in args)
        types = {a.operand: INT if self.may_be_int(a.operand) else a.type for a in args}
        folded = fold(self.rules, op, operands, lambda o: types.get(o, FLOAT))
        if folded is not None:
            return Value(folded, ir.const_type(folded.value) if isinstance(folded, Const) else args[0].type)
        rule = self.rules[op]
        result_type = rule.result_type(tuple(a.type for a in args))
        target = self.namer.temp()
        self.types[target] = result_type
        self.out.append(Assign(target, op, operands, result_type, self.loc))
        if result_type == FLOAT and rule.result == "promote" and all(self.may_be_int(o) for o in operands):
            self.maybe_int.add(target)
        return Value(Var(target), result_type)

    def may_be_int(self, operand: Operand) -> bool:
        """Whether a value may be an int when the function runs (a float parameter passed an int, and
        what int-keeping operations compute from it): `1.0 * n` is then not `n`."""
        if isinstance(operand, Const):
            return not isinstance(operand.value, float)
        return isinstance(operand, Var) and (operand.name in self.maybe_int or self.types.get(operand.name) in (INT, BOOL))


def _placeholder(value: Bound | Undefined | None) -> Bound:
    """The result on a path that did not return: never read, but typed like the real one."""
    if isinstance(value, TupleValue):
        return TupleValue(tuple(_placeholder(v) for v in value.items))  # type: ignore[misc]
    if isinstance(value, Value) and isinstance(value.type, ir.ListOf):
        return value
    return Value(Const(0.0), FLOAT)


def _join(a: Type | None, b: Type | None) -> Type | None:
    """The type of a value that is `a` on one path and `b` on another (None: incompatible)."""
    if a is None or b is None:
        return None
    if a == b:
        return a
    if isinstance(a, ir.ListOf) or isinstance(b, ir.ListOf):
        if isinstance(a, ir.ListOf) and isinstance(b, ir.ListOf):
            elem = _join(a.elem, b.elem)
            return ir.ListOf(elem) if elem is not None else None
        return None
    if FLOAT in (a, b):
        return FLOAT
    return INT


def _always_exits(statements: list[ast.stmt]) -> bool:
    """Whether control never falls off the end of these statements (return, break, continue)."""
    for stmt in statements:
        if isinstance(stmt, (ast.Return, ast.Break, ast.Continue, ast.Raise)):
            return True
        if isinstance(stmt, ast.If) and stmt.orelse and _always_exits(stmt.body) and _always_exits(stmt.orelse):
            return True
    return False


def _assigned_names(statements: list[ast.stmt]) -> set[str]:
    names: set[str] = set()
    for stmt in statements:
        for node in ast.walk(stmt):
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                names.add(node.id)
            elif isinstance(node, (ast.For, ast.comprehension)) and isinstance(node.target, ast.Name):
                names.add(node.target.id)
    return names


def _contains(statements: list[ast.stmt], kind: type) -> bool:
    return any(isinstance(node, kind) for stmt in statements for node in ast.walk(stmt))


def param_types(
    node: ast.FunctionDef, resolve: Callable[[str], Resolved | None] | None = None, _seen: frozenset[str] = frozenset()
) -> tuple[Type, ...]:
    """Each parameter's type, from how the body uses it: indexed or iterated -> a list (of lists, when
    its elements are indexed too, here or in a helper it is passed to); a range bound or an index -> an
    int; otherwise a float."""
    params = [a.arg for a in node.args.args]
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
            note(found[0], found[1] + 1)
            if targets and isinstance(targets[0], ast.Name):
                element_of[targets[0].id] = found[0]

    def passed_to_helper(call: ast.Call) -> None:
        """A parameter passed on to the user's own function has the type that function gives it."""
        if resolve is None or not isinstance(call.func, ast.Name) or call.func.id in _seen:
            return
        from .frontend import Helper

        helper = resolve(call.func.id)
        if not isinstance(helper, Helper):
            return
        try:
            callee = helper.load()
            types = param_types(callee.node, callee.resolve, _seen | {call.func.id})
        except S2SError:
            return
        for arg, type_ in zip(call.args, types):
            found = root_depth(arg)
            if found and ir.list_depth(type_) > found[1]:
                note(found[0], found[1] + ir.list_depth(type_))

    for child in _nodes(node):
        if isinstance(child, ast.Subscript):
            found = root_depth(child)
            if found:
                note(*found)
            integers(child.slice)
        elif isinstance(child, (ast.For, ast.comprehension)):
            iterated(child.iter, [child.target])
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
    for _ in range(4):  # an element's own depth adds to its list's; another name for a list has its depth
        for name, parent in element_of.items():
            if name in depth:
                note(parent, depth[name] + 1)
        for name, parent in alias_of.items():
            if name in depth:
                note(parent, depth[name])
    types: list[Type] = []
    for name in params:
        levels = depth.get(name, 0)
        if levels:
            type_: Type = FLOAT
            for _ in range(levels):
                type_ = ir.ListOf(type_)
            types.append(type_)
        else:
            types.append(INT if name in integer else FLOAT)
    return tuple(types)


def _nodes(node: ast.AST) -> list[ast.AST]:
    """Every node under `node`, itself included (what `ast.walk` yields, in a list, twice as fast)."""
    found = [node]
    for parent in found:  # grows while it is read
        for field in parent._fields:
            value = getattr(parent, field, None)
            if type(value) is list:
                found.extend([item for item in value if isinstance(item, ast.AST)])
            elif isinstance(value, ast.AST):
                found.append(value)
    return found


def _data_type(value: object) -> Type:
    if isinstance(value, (list, tuple)):
        return ir.ListOf(_data_type(value[0]) if value else FLOAT)
    return INT if isinstance(value, int) else FLOAT


_OPERATOR_SPELLING = {
    "MatMult": "@",
    "BitAnd": "&",
    "BitOr": "|",
    "BitXor": "^",
    "LShift": "<<",
    "RShift": ">>",
    "Invert": "~",
    "Is": "is",
    "IsNot": "is not",
    "In": "in",
    "NotIn": "not in",
}


def _spell(op: ast.AST) -> str:
    name = type(op).__name__
    return _OPERATOR_SPELLING.get(name, name)
