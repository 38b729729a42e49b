"""Expressions: constants, names, operators, comparisons, `and`/`or`, conditional expressions, lists."""

from __future__ import annotations

import ast
from collections.abc import Callable, Mapping

from .. import ir
from ..errors import UnsupportedError
from ..frontend import Constant, Data, MathModule, UserModule
from ..ir import BOOL, FLOAT, INT, Assign, Const, Type, Var
from ..rules import BINARY_OPERATORS, COMPARISONS, MATH_CONSTANTS
from ..rules.shapes import is_array
from .base import LoweringBase, kind_of
from .refusals import REFUSED_EXPRESSIONS
from .scope import Entry, Function, NoneValue, Scope, TupleValue, Undefined, Value, join, spell
from .types import data_type


class Expressions(LoweringBase):
    """Expressions: constants, names, operators, comparisons, `and`/`or`, conditional expressions, lists."""

    def expr(self, node: ast.expr, scope: Scope) -> Value:
        """An expression's value, by a method per kind of expression (`expr_BinOp`, ...), looked up by the
        node's class name as `ast.NodeVisitor` does; a kind without one is refused."""
        kind = type(node).__name__
        lower: Callable[[ast.expr, Scope], Value] | None = getattr(self, f"expr_{kind}", None)
        if lower is not None:
            return lower(node, scope)
        if kind in REFUSED_EXPRESSIONS:
            message, hint = REFUSED_EXPRESSIONS[kind]
            raise self.error(UnsupportedError, message, node, hint)
        raise self.error(UnsupportedError, f"'{kind}' expressions are not supported", node)

    def expr_Constant(self, node: ast.Constant, scope: Scope) -> Value:
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

    def expr_Name(self, node: ast.Name, scope: Scope) -> Value:
        return self.name(node.id, scope, node)

    def expr_BinOp(self, node: ast.BinOp, scope: Scope) -> Value:
        op = BINARY_OPERATORS.get(type(node.op).__name__)
        if op is None:
            raise self.error(UnsupportedError, f"the operator '{spell(node.op)}' cannot be differentiated", node)
        if isinstance(node.op, ast.Mult) and (isinstance(node.left, ast.List) or isinstance(node.right, ast.List)):
            return self.repeat(node, scope)
        if isinstance(node.op, ast.MatMult):
            return self.matmul(self.expr(node.left, scope), self.expr(node.right, scope), node)
        left, right = self.expr(node.left, scope), self.expr(node.right, scope)
        if isinstance(node.op, ast.Add) and isinstance(left.type, ir.ListOf) and isinstance(right.type, ir.ListOf):
            return self.concatenated(left, right, node, scope)
        return self.apply(op, (left, right), node)

    def expr_UnaryOp(self, node: ast.UnaryOp, scope: Scope) -> Value:
        operand = self.expr(node.operand, scope)
        if isinstance(node.op, ast.USub):
            return self.apply("neg", (operand,), node)
        if isinstance(node.op, ast.UAdd):
            return operand
        if isinstance(node.op, ast.Not):
            return self.apply("not", (self.truth(operand, node.operand),), node)
        raise self.error(UnsupportedError, f"the operator '{spell(node.op)}' cannot be differentiated", node)

    def expr_Call(self, node: ast.Call, scope: Scope) -> Value:
        return self.call(node, scope)

    def expr_Subscript(self, node: ast.Subscript, scope: Scope) -> Value:
        if isinstance(node.value, ast.Attribute) and node.value.attr == "shape":  # `x.shape[0]`
            shape = self.shape_of(node.value, scope)
            if shape is not None:
                size = self.tuple_item(shape, node)
                assert isinstance(size, Value)
                return size
        if isinstance(node.value, ast.Name) and isinstance(held := scope.get(node.value.id), TupleValue):  # `t[0]`
            item = self.tuple_item(held, node, "a tuple")
            if isinstance(item, TupleValue):
                raise self.error(UnsupportedError, f"'{ast.unparse(node)}' is a tuple; unpack it into names", node)
            return item
        value = self.expr(node.value, scope)
        if is_array(value.type):
            return self.array_index(value, node.slice, scope, node)
        items = self.list_value(value, node.value)
        if isinstance(node.slice, ast.Slice):
            return self.slice_of(items, node.slice, node, scope)
        return self.element(items, self.index_value(node.slice, scope), node)

    def expr_ListComp(self, node: ast.ListComp, scope: Scope) -> Value:
        return self.comprehension(node, scope, "list")

    def expr_GeneratorExp(self, node: ast.GeneratorExp, scope: Scope) -> Value:
        raise self.error(
            UnsupportedError,
            "a generator expression is only supported inside sum(), max() or min()",
            node,
            "use a list comprehension [...]",
        )

    def expr_Tuple(self, node: ast.Tuple, scope: Scope) -> Value:
        raise self.error(
            UnsupportedError,
            "tuples can only be unpacked, returned, or held in a list",
            node,
            "write a, b = ... or [(a, b), ...]",
        )

    def element_expr(self, node: ast.expr, scope: Scope) -> Value:
        """An element of a list: a tuple there (`[(x, y), ...]`) is held as a list that nothing may change."""
        if not isinstance(node, ast.Tuple):
            return self.expr(node, scope)
        held = self.expr_List(ast.copy_location(ast.List(node.elts, ast.Load()), node), scope)
        assert isinstance(held.operand, Var)
        self.frozen.add(held.operand.name)
        return held

    def index_value(self, node: ast.expr, scope: Scope) -> Value:
        if isinstance(node, ast.Slice):
            raise self.error(UnsupportedError, "slices are not supported", node, "index elements one at a time")
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            raise self.error(
                UnsupportedError,
                "indexing with a string (a dict) is not supported",
                node,
                "pass the values as separate parameters, or as a list",
            )
        index = self.expr(node, scope)
        if index.type not in (INT, BOOL):
            raise self.error(
                UnsupportedError,
                "list indices must be whole numbers (int); this one may be a float here (the items of a list the "
                "function makes are read as numbers)",
                node,
                "index with range(...) and len(...), an int parameter, or the items of a list parameter of ints",
            )
        return index

    def expr_List(self, node: ast.List, scope: Scope) -> Value:
        for e in node.elts:
            if isinstance(e, ast.Tuple) and any(isinstance(x, (ast.Tuple, ast.List)) for x in e.elts):
                raise self.error(
                    UnsupportedError,
                    "a list of tuples that hold tuples or lists is not supported",
                    e,
                    "flatten each tuple, `(x, y, x * y)`, and unpack it so: `for c, d, e in pts`",
                )
        items = [self.element_expr(e, scope) for e in node.elts]
        for item in items:
            self.held_by_list(item)
        key = self.origin.get(id(node)) or self.place(node)
        elem: Type | None = items[0].type if items else self.elements.get(key, FLOAT)
        for _ in range(self.nesting.get(id(node), 1) - 1):  # `table = []` that is filled with rows
            elem = ir.ListOf(elem)  # type: ignore[arg-type]
        for item in items[1:]:
            elem = join(elem, item.type) if elem is not None else None
        if elem is None:
            raise self.error(
                UnsupportedError,
                "lists of mixed kinds are not supported",
                node,
                "keep one list for each kind: Ws = [W1, W2] and bs = [b1, b2], then zip(Ws, bs)"
                if any(is_array(i.type) or isinstance(i.type, ir.ListOf) for i in items)
                else None,
            )
        if elem in (INT, BOOL):
            elem = FLOAT  # a list of numbers; its elements may become floats
        type_ = ir.ListOf(elem)
        target = self.namer.temp()
        self.types[target] = type_
        if isinstance(elem, ir.ListOf) and id(node) in self.grown:  # rows, then more rows: all appended
            self.out.append(Assign(target, "list", (), type_, self.loc))
            self.out.extend(ir.Effect("append", (Var(target), i.operand), self.loc) for i in items)
            self.mutated.add(target)
        else:
            self.out.append(Assign(target, "list", tuple(i.operand for i in items), type_, self.loc))
        if not items:
            self.empties[target] = key
        if any(isinstance(e, ast.Tuple) for e in node.elts) or id(node) in self.tuple_rows:
            self.tuples_in.add(target)
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
        self.held_by_list(value)  # `[h] * n`: n times that very array
        type_ = ir.ListOf(value.type if is_array(value.type) else FLOAT)
        target = self.namer.temp()
        self.types[target] = type_
        self.out.append(Assign(target, "repeat", (value.operand, n.operand), type_, self.loc))
        return Value(Var(target), type_)

    def expr_Compare(self, node: ast.Compare, scope: Scope) -> Value:
        left = self.expr(node.left, scope)
        result: Value | None = None
        for op_node, right_node in zip(node.ops, node.comparators):
            if isinstance(op_node, (ast.In, ast.NotIn)):
                if len(node.ops) > 1:
                    raise self.error(UnsupportedError, f"'{spell(op_node)}' in a chain of comparisons is not supported", node)
                return self.membership(left, op_node, right_node, scope, node)
            op = COMPARISONS.get(type(op_node).__name__)
            if op is None:
                raise self.error(UnsupportedError, f"the comparison '{spell(op_node)}' is not supported", node)
            right = self.expr(right_node, scope)
            test = self.apply(op, (left, right), node)
            result = test if result is None else self.apply("and", (result, test), node)
            left = right
        assert result is not None
        return result

    def membership(self, left: Value, op_node: ast.cmpop, right_node: ast.expr, scope: Scope, node: ast.AST) -> Value:
        """`k in (1, 2, 3)`: `k == 1 or k == 2 or k == 3` (`not in`: every `!=`), the display's items evaluated
        first, as Python builds it; equality of numbers cannot raise, so nothing is left unevaluated."""
        if not isinstance(right_node, (ast.Tuple, ast.List, ast.Set)) or not right_node.elts:
            raise self.error(
                UnsupportedError,
                f"'{spell(op_node)}' is supported only over a tuple or list written out, `k {spell(op_node)} (1, 2, 3)`",
                node,
                "compare with each value (`k == a or k == b`), or loop over the list",
            )
        items = [self.expr(item, scope) for item in right_node.elts]
        found = isinstance(op_node, ast.In)
        tests = [self.apply("eq" if found else "ne", (left, item), node) for item in items]
        result = tests[0]
        for test in tests[1:]:
            result = self.apply("or" if found else "and", (result, test), node)
        return result

    def expr_BoolOp(self, node: ast.BoolOp, scope: Scope) -> Value:
        return self.bool_op(node, scope, truths=False)

    def bool_op(self, node: ast.BoolOp, scope: Scope, truths: bool) -> Value:
        """`a and b`, `a or b`: b is evaluated only when needed, unless it cannot fail. With `truths`, the
        truth of each operand (a condition's), else the operand itself (`xs or ys` is a list)."""
        op = "and" if isinstance(node.op, ast.And) else "or"
        operand = self.condition if truths else self.expr
        result = operand(node.values[0], scope)
        for value_node in node.values[1:]:
            holder: list[Value] = []
            block = self.nested(lambda: holder.append(operand(value_node, scope)))  # noqa: B023
            value = holder[0]
            if (
                result.type == BOOL
                and value.type == BOOL
                and all(
                    isinstance(s, Assign) and self.rules[s.op].cannot_raise(s.args, ir.operand_types(s.args, self.types))
                    for s in block
                )
            ):
                self.out.extend(block)
                result = self.apply(op, (result, value), node)
                continue
            conjunction = isinstance(node.op, ast.And)
            then_block, else_block = (block, ()) if conjunction else ((), block)
            then_value, else_value = (value, result) if conjunction else (result, value)
            type_ = join(then_value.type, else_value.type)
            if type_ is None:
                raise self.error(
                    UnsupportedError,
                    f"'{op}' between {kind_of(result.type)} and {kind_of(value.type)} is not supported",
                    node,
                    "write the choice as an `if` statement",
                )
            target = self.namer.temp()
            self.types[target] = type_
            self.note_callers(target, (then_value.operand, else_value.operand))
            self.out.append(
                ir.If(
                    self.truth(result, node).operand,  # a list is true when it is not empty
                    then_block,
                    else_block,
                    (ir.Merge(target, type_, then_value.operand, else_value.operand),),
                    self.loc,
                )
            )
            result = Value(Var(target), type_)
        return result

    def condition(self, node: ast.expr, scope: Scope) -> Value:
        """What `if`, `while` and `x if c else y` test: a number, or a list (true when it is not empty);
        in `if xs and x > 0:` only the truth of each operand matters, so that of each is taken."""
        if isinstance(node, ast.BoolOp):
            return self.bool_op(node, scope, truths=True)
        return self.truth(self.expr(node, scope), node)

    def truth(self, value: Value, node: ast.AST) -> Value:
        if isinstance(value.type, ir.ListOf):
            return self.apply("gt", (self.apply("len", (value,), node), Value(Const(0), INT)), node)
        return value

    def expr_IfExp(self, node: ast.IfExp, scope: Scope) -> Value:
        cond = self.condition(node.test, scope)
        holder: list[Value] = []
        then_block = self.nested(lambda: holder.append(self.expr(node.body, scope)))
        else_block = self.nested(lambda: holder.append(self.expr(node.orelse, scope)))
        then_value, else_value = holder
        if then_value.operand == else_value.operand and not then_block and not else_block:
            return then_value
        type_ = join(then_value.type, else_value.type)
        if type_ is None:
            raise self.error(
                UnsupportedError,
                f"the two sides of this conditional expression differ in kind ({kind_of(then_value.type)} and "
                f"{kind_of(else_value.type)})",
                node,
            )
        target = self.namer.temp()
        self.types[target] = type_
        self.note_callers(target, (then_value.operand, else_value.operand))
        self.out.append(
            ir.If(
                cond.operand,
                then_block,
                else_block,
                (ir.Merge(target, type_, then_value.operand, else_value.operand),),
                self.loc,
            )
        )
        return Value(Var(target), type_)

    def name(self, name: str, scope: Mapping[str, Entry], node: ast.AST) -> Value:
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
            if isinstance(value, Function):
                raise self.error(
                    UnsupportedError,
                    f"'{name}' is the function '{value.spelling}' here, not a number",
                    node,
                    f"call it, {name}(...), or pass it to a function of yours as an argument",
                )
            if isinstance(value, NoneValue):
                raise self.error(
                    UnsupportedError, f"'{name}' is None here, not a number", node, f"test it first: if {name} is not None: ..."
                )
            return value
        resolved = self.resolve(name, node)
        if isinstance(resolved, Constant):
            return Value(Const(resolved.value), ir.const_type(resolved.value))
        if isinstance(resolved, Data):
            if resolved.foreign is not None:
                raise self.error(
                    UnsupportedError,
                    f"the list '{name}' of {resolved.foreign} is read by a function defined there; the command line "
                    "reads module-level lists only from the file it differentiates",
                    node,
                    "pass the list to the function as a parameter",
                )
            type_ = data_type(resolved.value)
            return Value(ir.Global(name, type_), type_)
        what = (
            "the math module"
            if isinstance(resolved, MathModule)
            else "a module"
            if isinstance(resolved, UserModule)
            else "a function"
        )
        raise self.error(UnsupportedError, f"'{name}' is {what}, not a number", node)

    def shape_of(self, node: ast.Attribute, scope: Scope) -> TupleValue | None:
        """`x.shape` of an array: a tuple of its sizes (None where `x` is no array)."""
        if self.numpy_path(node, scope) is not None:
            return None
        value = self.expr(node.value, scope)
        if not is_array(value.type):
            return None
        found = self.attribute(value, node)
        assert isinstance(found, TupleValue)
        return found

    def tuple_item(self, items: TupleValue, node: ast.Subscript, what: str = "a shape") -> Value | TupleValue:
        index = node.slice
        negative = isinstance(index, ast.UnaryOp) and isinstance(index.op, ast.USub)
        written = index.operand if isinstance(index, ast.UnaryOp) and negative else index
        if not isinstance(written, ast.Constant) or not isinstance(written.value, int) or isinstance(written.value, bool):
            raise self.error(UnsupportedError, f"index {what} with a whole number written in the code", index)
        position = -written.value if negative else written.value
        if not -len(items.items) <= position < len(items.items):
            size = f"this array has {len(items.items)} axes" if what == "a shape" else f"this tuple has {len(items.items)} items"
            raise self.error(UnsupportedError, size, node)
        return items.items[position]

    def expr_Attribute(self, node: ast.Attribute, scope: Scope) -> Value:
        path = self.numpy_path(node, scope)
        if path is not None:
            return self.numpy_constant(path[len("numpy.") :], node)
        if not (isinstance(node.value, ast.Name) and node.value.id not in scope):
            value = self.expr(node.value, scope)
            if is_array(value.type):
                found = self.attribute(value, node)
                if isinstance(found, TupleValue):
                    raise self.error(UnsupportedError, "a shape is a tuple; index it (`x.shape[0]`) or unpack it", node)
                return found
        if isinstance(node.value, ast.Name) and node.value.id not in scope:
            base = self.resolve_or_none(node.value.id, node.value)
            if isinstance(base, MathModule):
                if node.attr in MATH_CONSTANTS:
                    return Value(Const(MATH_CONSTANTS[node.attr]), FLOAT)
                raise self.error(UnsupportedError, f"'math.{node.attr}' is not a number", node)
            if isinstance(base, UserModule):  # `helpers.SCALE`: a number of a module of the user's
                member = self.resolve_or_none(f"{node.value.id}.{node.attr}", node)
                if isinstance(member, Constant):
                    return Value(Const(member.value), ir.const_type(member.value))
                if isinstance(member, Data) and isinstance(member.value, float):  # its value now, as Python reads it
                    return Value(Const(member.value), FLOAT)
                if isinstance(member, Data):
                    raise self.error(
                        UnsupportedError,
                        f"the list '{ast.unparse(node)}' is read through its module",
                        node,
                        f"import it by name, `from {base.name} import {node.attr}`, or pass it as a parameter",
                    )
        raise self.error(
            UnsupportedError,
            f"attribute access '{ast.unparse(node)}' cannot be differentiated",
            node,
            "only names of the math module (math.sin, math.pi, ...) can be read with '.'",
        )
