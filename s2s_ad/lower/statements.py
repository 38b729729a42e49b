"""Statements: blocks and early exits, `if`, assignments and the names they bind."""

from __future__ import annotations

import ast
import builtins
from collections.abc import Callable

from .. import ir
from ..errors import SignatureError, UnsupportedError
from ..frontend import Helper
from ..ir import INT, Assign, Const, Loc, Var
from ..rules import BINARY_OPERATORS
from ..rules.shapes import is_array
from .base import LoweringBase
from .refusals import REFUSED_STATEMENTS
from .rewrites import assertion_error, kept_after, loop_keeping_target, loop_with_else, runs_at_least_once
from .scope import (
    BREAK,
    CONTINUE,
    FALSE,
    NONE,
    RAISED,
    RESULT,
    RETURNED,
    TRUE,
    Bound,
    Function,
    Held,
    NoneValue,
    Scope,
    TupleValue,
    Undefined,
    Value,
    always_exits,
    always_raises,
    described,
    join,
    placeholder,
    spell,
)


class Statements(LoweringBase):
    """Statements: blocks and early exits, `if`, assignments and the names they bind."""

    def block(self, statements: list[ast.stmt], scope: Scope) -> None:
        """Lower statements in order; after a possible exit the rest is guarded, after a certain one dropped."""
        for i, stmt in enumerate(statements):
            exited = self.exited(scope, stmt)
            if exited == TRUE:
                return
            if exited != FALSE:
                self.guarded(statements[i:], scope, exited, stmt)
                return
            self.loc = Loc(self.parsed.source.filename, stmt.lineno, stmt.col_offset)
            if isinstance(stmt, (ast.For, ast.While)) and stmt.orelse:  # `else` runs when no `break` left the loop
                self.block(loop_with_else(stmt) + statements[i + 1 :], scope)
                return
            kept = kept_after(stmt, statements[i + 1 :]) if isinstance(stmt, ast.For) else []
            if isinstance(stmt, ast.For) and kept:  # the loop variables' last values are read later
                for name, certain in kept:
                    if name not in scope and not certain and not runs_at_least_once(stmt):  # Python raises at the read
                        raise self.error(
                            UnsupportedError,
                            f"'{name}' is read after this loop on some paths only, and is unbound there if the loop runs"
                            " no iteration",
                            stmt,
                            f"give '{name}' a value before the loop",
                        )
                over = scope.get(stmt.iter.id) if isinstance(stmt.iter, ast.Name) else None
                rows = isinstance(stmt.target, ast.Name) and isinstance(getattr(over, "type", None), ir.ListOf)
                rows = rows and isinstance(over.type.elem, ir.ListOf)  # type: ignore[union-attr]
                self.block(loop_keeping_target(stmt, {n: n in scope for n, _ in kept}, rows) + statements[i + 1 :], scope)
                return
            if isinstance(stmt, ast.Assert):  # `if not test: raise AssertionError(msg)`
                stmt = ast.copy_location(ast.If(ast.UnaryOp(ast.Not(), stmt.test), [assertion_error(stmt)], []), stmt)
            if isinstance(stmt, ast.If):
                self.if_statement(stmt, scope, statements[i + 1 :])
                return
            self.statement(stmt, scope)

    def exited(self, scope: Scope, node: ast.AST) -> Value:
        """True if control has left the block (return/break/continue), False if not, or a flag."""
        if scope.get(RAISED) == TRUE:
            return TRUE
        flags = [scope[k] for k in (RETURNED, BREAK, CONTINUE) if k in scope]
        if any(f == TRUE for f in flags):
            return TRUE
        result = FALSE
        for flag in flags:
            if flag != FALSE:
                assert isinstance(flag, Value)
                result = flag if result == FALSE else self.apply("or", (result, flag), node)
        return result

    def guarded(self, statements: list[ast.stmt], scope: Scope, exited: Value, node: ast.AST) -> None:
        """`if not exited: <statements>`."""
        go_on = self.apply("not", (exited,), node)
        then_scope = dict(scope)
        for flag in (RETURNED, BREAK, CONTINUE):  # on this path, control has not left
            if flag in then_scope:
                then_scope[flag] = FALSE
        then_block = self.nested(lambda: self.block(statements, then_scope))
        else_scope = dict(scope)
        raised = [flag for flag in (RETURNED, BREAK, CONTINUE) if flag in scope and scope[flag] != FALSE]
        if len(raised) == 1:  # on the other path control left, and only this way is possible
            else_scope[raised[0]] = TRUE
        self.merge(go_on, then_scope, then_block, else_scope, (), node)
        scope.clear()
        scope.update(self.last_merged)

    def if_statement(self, node: ast.If, scope: Scope, rest: list[ast.stmt]) -> None:
        """An `if`; when one branch always leaves the block, the rest of the block joins the other."""
        cond = self.condition(node.test, scope)
        # A branch that raises needs no join: what follows runs only after the other branch.
        then_exits = always_exits(node.body) and not always_raises(node.body)
        else_exits = always_exits(node.orelse) and not always_raises(node.orelse)
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
        dead = [s.get(RAISED) == TRUE for s in (then_scope, else_scope)]
        if any(dead):  # a branch that raised goes on nowhere: after the `if`, names are the other branch's
            self.out.append(ir.If(cond.operand, then_block, else_block, (), self.loc))
            self.last_merged = dict(then_scope if not dead[0] else else_scope)
            return
        merged: Scope = {}
        merges: list[ir.Merge] = []
        for key in list(then_scope) + [k for k in else_scope if k not in then_scope]:
            a, b = then_scope.get(key), else_scope.get(key)
            if key in (BREAK, CONTINUE):
                a, b = a or FALSE, b or FALSE
            if a is None or b is None or isinstance(a, Undefined) or isinstance(b, Undefined):
                if key == RESULT:  # returned on one path only: the other path's value is never read
                    assert not isinstance(a, (Function, NoneValue)) and not isinstance(b, (Function, NoneValue))
                    a, b = (
                        a if isinstance(a, (Value, TupleValue)) else placeholder(b),
                        b if isinstance(b, (Value, TupleValue)) else placeholder(a),
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

    def merged_value(self, key: str, a: Held, b: Held, merges: list[ir.Merge], node: ast.AST) -> Held:
        if isinstance(a, (Function, NoneValue)) or isinstance(b, (Function, NoneValue)):
            if a is b or (a == NONE and b == NONE):
                return a
            raise self.error(
                UnsupportedError,
                f"'{key}' is {described(a)} on one path of this `if` and {described(b)} on the other",
                node,
                "which function a name holds, or whether it is None, must be known where the code is read: "
                "call the function inside each branch",
            )
        if isinstance(a, TupleValue) or isinstance(b, TupleValue):
            if not (isinstance(a, TupleValue) and isinstance(b, TupleValue) and len(a.items) == len(b.items)):
                raise self.error(UnsupportedError, "branches return tuples of different lengths", node)
            return TupleValue(
                tuple(
                    self.merged_value(key, x, y, merges, node)  # type: ignore[misc]  # items may be tuples: Bound, not Value
                    for x, y in zip(a.items, b.items)
                )
            )
        assert isinstance(a, Value) and isinstance(b, Value)
        if a.operand == b.operand:
            return a
        type_ = join(a.type, b.type)
        if type_ is None:
            raise self.error(UnsupportedError, f"'{key.lstrip('#')}' is a list on one path and a number on another", node)
        target = self.fresh(key)
        self.types[target] = type_
        merges.append(ir.Merge(target, type_, a.operand, b.operand))
        self.note_callers(target, (a.operand, b.operand))
        return Value(Var(target), type_)

    def statement(self, node: ast.stmt, scope: Scope) -> None:
        """A statement, by a method per kind of statement (`statement_Assign`, ...), looked up by the node's
        class name as `ast.NodeVisitor` does; a kind without one is refused. (`block` lowers an `if`, and
        an `assert` as one, itself: the statements after an `if` may join one of its branches.)"""
        kind = type(node).__name__
        lower: Callable[[ast.stmt, Scope], None] | None = getattr(self, f"statement_{kind}", None)
        if lower is not None:
            lower(node, scope)
        elif kind in REFUSED_STATEMENTS:
            message, hint = REFUSED_STATEMENTS[kind]
            raise self.error(UnsupportedError, message, node, hint)
        else:
            raise self.error(UnsupportedError, f"'{kind}' statements cannot be differentiated", node)

    def statement_Assign(self, node: ast.Assign, scope: Scope) -> None:
        target = node.targets[0]
        if len(node.targets) == 1 and isinstance(target, ast.Name) and isinstance(node.value, ast.ListComp):
            self.assigned_to = target.id
        value = self.bound(node.value, scope)
        self.assigned_to = None
        if len(node.targets) > 1:  # `a = b = ...`: every target holds the value, none may rename it
            items = value.items if isinstance(value, TupleValue) else (value,)
            self.held.update(
                v.operand.name
                for v in items
                if isinstance(v, Value) and isinstance(v.operand, Var) and ir.is_temp(v.operand.name)
            )
        for target in node.targets:
            self.bind(target, value, scope)

    def statement_AnnAssign(self, node: ast.AnnAssign, scope: Scope) -> None:
        if node.value is not None:
            self.bind(node.target, self.bound(node.value, scope), scope)

    def statement_AugAssign(self, node: ast.AugAssign, scope: Scope) -> None:
        op = BINARY_OPERATORS.get(type(node.op).__name__)
        if op is None:
            raise self.error(UnsupportedError, f"the operator '{spell(node.op)}=' cannot be differentiated", node)
        if isinstance(node.target, ast.Name):
            current = self.name(node.target.id, scope, node.target)
            if isinstance(current.type, ir.ArrayOf) and isinstance(current.operand, Var):
                self.in_place(node, current.operand.name)
        elif isinstance(node.target, ast.Subscript):
            read = ast.Subscript(node.target.value, node.target.slice, ast.Load(), lineno=node.lineno, col_offset=node.col_offset)
            current = self.expr(read, scope)
        else:
            raise self.error(UnsupportedError, "augmented assignment to this target is not supported", node.target)
        self.bind(node.target, self.apply(op, (current, self.expr(node.value, scope)), node), scope)

    def in_place(self, node: ast.AugAssign, array: str) -> None:
        """`a += b` on an array changes it in place; the gradient computes `a = a + b`, the same numbers only
        where no other name holds that array."""
        if array in self.shared or array in self.views:
            raise self.error(
                UnsupportedError,
                f"'{ast.unparse(node.target)} {spell(node.op)}= ...' changes an array in place that another name "
                "(a parameter, a copy of a name, a view such as x.T or x[i]) or a list may hold too",
                node,
                f"write {ast.unparse(node.target)} = {ast.unparse(node.target)} {spell(node.op)} ..., which makes a new array",
            )
        self.augmented.add(array)

    def statement_Return(self, node: ast.Return, scope: Scope) -> None:
        if node.value is None:
            raise self.error(SignatureError, "'return' without a value: nothing to differentiate", node)
        scope[RESULT] = self.returned(node.value, scope)
        scope[RETURNED] = TRUE

    def statement_Break(self, node: ast.Break, scope: Scope) -> None:
        if BREAK not in scope:
            raise self.error(UnsupportedError, "'break' outside a loop", node)
        scope[BREAK] = TRUE

    def statement_Continue(self, node: ast.Continue, scope: Scope) -> None:
        if CONTINUE not in scope:
            raise self.error(UnsupportedError, "'continue' outside a loop", node)
        scope[CONTINUE] = TRUE

    def statement_For(self, node: ast.For, scope: Scope) -> None:
        self.for_statement(node, scope)

    def statement_While(self, node: ast.While, scope: Scope) -> None:
        self.while_statement(node, scope)

    def statement_Pass(self, node: ast.Pass, scope: Scope) -> None:
        pass

    def statement_Expr(self, node: ast.Expr, scope: Scope) -> None:
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

    def unpack(self, target: ast.Tuple | ast.List, items: Value, scope: Scope) -> None:
        """`a, b = xs` for a list: its elements, after the check Python makes of its length."""
        if any(isinstance(e, ast.Starred) for e in target.elts):
            raise self.error(UnsupportedError, "starred assignment is not supported", target, "index the elements you need")
        count = len(target.elts)
        length = self.apply("len", (items,), target)
        wrong = self.apply("ne", (length, Value(Const(count), INT)), target)
        error = f"ValueError('cannot unpack the list into {count} names: it has another length')"
        self.out.append(ir.If(wrong.operand, (ir.Effect("raise", (), self.loc, error),), (), (), self.loc))
        for k, element in enumerate(target.elts):
            self.bind(element, self.element(items, Value(Const(k), INT), target), scope)

    def statement_Raise(self, node: ast.Raise, scope: Scope) -> None:
        """`raise ValueError("...")`: kept in the forward sweep as written, where the function raises its
        gradient raises too. The exception is a builtin one, its arguments literals."""
        exc = node.exc
        call = exc if isinstance(exc, ast.Call) else None
        name = (call.func if call else exc) if exc is not None else None
        if exc is None or node.cause is not None:
            raise self.error(
                UnsupportedError,
                "only `raise SomeError(...)` can be differentiated",
                node,
                'raise a builtin exception with a message: raise ValueError("...")',
            )
        known = (
            isinstance(name, ast.Name)
            and isinstance(getattr(builtins, name.id, None), type)
            and issubclass(getattr(builtins, name.id), BaseException)
            and self.parsed.resolve(name.id) is None
        )
        literal = call is None or (not call.keywords and all(isinstance(a, ast.Constant) for a in call.args))
        if not (known and literal):
            raise self.error(
                UnsupportedError,
                "only builtin exceptions with literal arguments can be raised here",
                exc,
                'write the message as a string: raise ValueError("x must be positive")',
            )
        self.out.append(ir.Effect("raise", (), self.loc, ast.unparse(exc)))
        scope[RAISED] = TRUE

    def method_call(self, node: ast.Call, scope: Scope) -> None:
        func = node.func
        assert isinstance(func, ast.Attribute)
        known = isinstance(func.value, ast.Name) and func.value.id in scope or isinstance(func.value, ast.Subscript)
        if func.attr != "append" or not known:
            raise self.error(
                UnsupportedError,
                f"the method call '{ast.unparse(func)}(...)' cannot be differentiated",
                node,
                "the only list method supported is append",
            )
        if len(node.args) != 1 or node.keywords:
            raise self.error(UnsupportedError, "append takes one argument", node)
        items = self.mutable(func.value, scope)
        value = self.element_expr(node.args[0], scope)
        if isinstance(node.args[0], ast.Tuple) and isinstance(items.operand, Var):
            self.tuples_in.add(items.operand.name)
        self.check_element(items, value, node.args[0])
        self.out.append(ir.Effect("append", (items.operand, value.operand), self.loc))

    def mutable(self, node: ast.expr, scope: Scope) -> Value:
        """The list that `node[...] = v` or `node.append(v)` changes: a local list, or a row of one (`D[i]`)."""
        if isinstance(node, ast.Name):
            return self.mutable_list(node.id, scope, node)
        if not isinstance(node, ast.Subscript):
            raise self.error(UnsupportedError, "only a list or a row of a list (`D[i][j] = ...`) can be changed", node)
        base = node
        while isinstance(base, ast.Subscript):
            base = base.value  # type: ignore[assignment]
        if isinstance(base, ast.Name):
            self.mutable_list(base.id, scope, base)  # refuses the caller's list, and its rows
        row = self.list_value(self.expr(node, scope), node)
        assert isinstance(row.operand, Var)
        if row.operand.name in self.callers:
            raise self.error(
                UnsupportedError,
                f"'{ast.unparse(node)}' is a row of the caller's list (a parameter or global): changing it cannot be "
                "differentiated",
                node,
                "put a copy of the row in the list instead (`M.append(list(A[i]))`, `[list(r) for r in A]`)",
            )
        self.refuse_frozen(row.operand, node)
        self.mutated.add(row.operand.name)
        return row

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
        self.refuse_frozen(operand, node)
        self.mutated.add(operand.name)
        return items

    def replace_all(self, items: Value, part: ast.Slice, value: Value, target: ast.AST) -> None:
        """`xs[:] = ys`: each element of xs becomes ys's (a copy of ys first: ys may be xs itself), after a
        check that the lengths agree (a slice assignment that resizes the list is not differentiated)."""
        if part.lower is not None or part.upper is not None or part.step is not None:
            raise self.error(UnsupportedError, "only `xs[:] = ...` can assign to a slice", part, "assign element by element")
        new = self.list_value(value, target)
        if ir.list_depth(new.type) != 1 or ir.list_depth(items.type) != 1:
            raise self.error(UnsupportedError, "`xs[:] = ...` is supported for lists of numbers", target)
        copied = self.new_list_of(new)
        length = self.apply("len", (items,), target)
        wrong = self.apply("ne", (length, self.apply("len", (copied,), target)), target)
        error = "ValueError('xs[:] = ys with ys of another length cannot be differentiated')"
        self.out.append(ir.If(wrong.operand, (ir.Effect("raise", (), self.loc, error),), (), (), self.loc))
        loop = ast.copy_location(ast.For(ast.Name("#k", ast.Store()), ast.Constant(0), [], [], None), target)

        def lower_body(body_scope: Scope) -> None:
            index = body_scope["#k"]
            assert isinstance(index, Value)
            element = self.element(copied, index, target)
            self.out.append(ir.Effect("setitem", (items.operand, index.operand, element.operand), self.loc))

        self.loop(loop, {}, "#k", (Value(Const(0), INT), length, Value(Const(1), INT)), lower_body, None, [])

    def refuse_frozen(self, operand: ir.Operand, node: ast.AST) -> None:
        if isinstance(operand, Var) and operand.name in self.frozen:
            raise self.error(
                UnsupportedError, "a tuple cannot be changed (Python raises TypeError)", node, "hold the values in a list"
            )

    def bound(self, node: ast.expr, scope: Scope) -> Held:
        """What an assignment binds (`functions` adds functions and None, by name)."""
        if isinstance(node, ast.Tuple):  # `c, (d, e) = x, (y, z)`
            items = [self.bound(e, scope) for e in node.elts]
            for item, element in zip(items, node.elts):
                if isinstance(item, (Function, NoneValue)):
                    raise self.error(
                        UnsupportedError,
                        f"a tuple holding {described(item)} is not supported",
                        element,
                        "assign it to a name of its own",
                    )
            return TupleValue(tuple(i for i in items if isinstance(i, (Value, TupleValue))))
        if isinstance(node, ast.Name) and isinstance(held := scope.get(node.id), TupleValue):  # `c, (d, e) = t`
            return held
        if isinstance(node, ast.Attribute) and node.attr == "shape":  # `n, d = X.shape`
            shape = self.shape_of(node, scope)
            if shape is not None:
                return shape
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id not in scope:
            resolved = self.parsed.resolve(node.func.id)
            if isinstance(resolved, Helper):
                return self.inline(node.func.id, resolved, node, scope, allow_tuple=True)
        return self.expr(node, scope)

    def bind(self, target: ast.expr, value: Held, scope: Scope) -> None:
        assert isinstance(value, (Value, TupleValue))  # `functions` binds a function or None itself
        if isinstance(target, ast.Name):
            if isinstance(value, TupleValue):  # `t = (x * y, (y, z))`: a name for the tuple, read by unpacking or `t[0]`
                scope[target.id] = value
                self.bound_at[target.id] = self.loc
                self.held.update(_temporaries(value))  # `t` holds them: `a, b = t` copies, renaming none (`t[0]` reads it)
                return
            scope[target.id] = self.named(target.id, value)
            self.bound_at[target.id] = self.loc
        elif isinstance(target, (ast.Tuple, ast.List)) and isinstance(value, Value) and isinstance(value.type, ir.ListOf):
            self.unpack(target, value, scope)
        elif isinstance(target, (ast.Tuple, ast.List)):
            if not isinstance(value, TupleValue) or len(value.items) != len(target.elts):
                raise self.error(UnsupportedError, f"cannot unpack this value into {len(target.elts)} names", target)
            for element, item in zip(target.elts, value.items):
                self.bind(element, item, scope)
        elif isinstance(target, ast.Subscript):
            if not isinstance(target.value, (ast.Name, ast.Subscript)):
                raise self.error(UnsupportedError, "only `name[index] = value` can assign into a list", target)
            if isinstance(target.value, ast.Name) and is_array(getattr(scope.get(target.value.id), "type", None)):
                assert isinstance(value, Value)
                self.array_store(target.value.id, target.slice, value, scope, target)
                return
            items = self.mutable(target.value, scope)
            assert isinstance(value, Value)
            if isinstance(target.slice, ast.Slice):
                self.replace_all(items, target.slice, value, target)
                return
            index = self.index_value(target.slice, scope)
            if isinstance(value.type, ir.ListOf):
                raise self.error(
                    UnsupportedError,
                    "putting a new list in place of a row (D[i] = [...]) is not supported",
                    target,
                    "change the row in place, D[i][:] = [...], or build the rows in order with append",
                )
            self.check_element(items, value, target)
            self.out.append(ir.Effect("setitem", (items.operand, index.operand, value.operand), self.loc))
        elif isinstance(target, ast.Starred):
            raise self.error(UnsupportedError, "starred assignment is not supported", target)
        elif isinstance(target, ast.Attribute):
            raise self.error(UnsupportedError, "assignment to an attribute cannot be differentiated", target)
        else:
            raise self.error(UnsupportedError, "assignment to this target is not supported", target)

    def renamed_facts(self, old: str, new: str) -> None:
        """What the lowering knows of the temporary `old` is known of `new`, the source name it became."""
        for held in (self.mutated, self.frozen, self.tuples_in, self.callers, self.holds_callers, self.floats, self.shared):
            if old in held:
                held.add(new)
        if old in self.sizes:
            self.sizes[new] = self.sizes[old]
        if old in self.empties:
            self.empties[new] = self.empties[old]
        if old in self.views:  # `r = X[0]`: r and X hold one memory
            self.shared.update((new, self.views[old]))

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
            self.renamed_facts(last.target, target)
            return Value(Var(target), value.type)
        target = self.fresh(name)
        self.out.append(Assign(target, "copy", (value.operand,), value.type, self.loc))
        self.types[target] = value.type
        operand = value.operand
        if isinstance(operand, Var) and operand.name in self.sizes:
            self.sizes[target] = self.sizes[operand.name]
        if isinstance(operand, Var) and isinstance(value.type, ir.ArrayOf):  # `B = A`: one array, two names
            self.shared.update((target, operand.name, *([self.views[operand.name]] if operand.name in self.views else [])))
        if isinstance(operand, Var) and operand.name in self.floats:
            self.floats.add(target)
        if isinstance(operand, Var) and operand.name in self.empties:  # `ys = xs`: the same list
            self.empties[target] = self.empties[operand.name]
        if isinstance(value.operand, ir.Global) or (isinstance(value.operand, Var) and value.operand.name in self.callers):
            self.callers.add(target)  # `ys = xs`: the same list
        if isinstance(value.operand, Var) and value.operand.name in self.holds_callers:
            self.holds_callers.add(target)
        return Value(Var(target), value.type)

    def returned(self, node: ast.expr, scope: Scope) -> Bound:
        """A returned value: a number, a list, or a tuple of them (what may be differentiated is
        decided by the caller: `grad` wants one number, `has_aux` passes the rest through)."""
        if isinstance(node, ast.Tuple):
            return TupleValue(tuple(self.returned(e, scope) for e in node.elts))
        value = self.bound(node, scope)
        if isinstance(value, (Function, NoneValue)):
            raise self.error(
                UnsupportedError,
                f"returning {described(value)} is not supported: a function differentiated returns numbers",
                node,
                "call the function where its value is needed instead",
            )
        return value


def _temporaries(value: TupleValue) -> list[str]:
    """The temporaries a tuple holds, at any depth."""
    found: list[str] = []
    for item in value.items:
        if isinstance(item, TupleValue):
            found += _temporaries(item)
        elif isinstance(item, Value) and isinstance(item.operand, Var) and ir.is_temp(item.operand.name):
            found.append(item.operand.name)
    return found
