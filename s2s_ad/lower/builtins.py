"""Builtins that take lists: `sorted`, `list`, `map`, `all`/`any` of a list, and the `math` functions of
lists (`math.fsum`, `math.prod`, `math.dist`).

`map(f, xs, ...)` is written as the generator expression it stands for,
`(f(a) for a in xs)` (over `zip(xs, ys)` for several iterables), where it is
read: inside `sum`, `max`, `min`, `all`, `any`, `list`, `sorted`,
`math.fsum` and `math.prod`, and as what a `for` loop runs over
(`for y in map(f, xs)` is `for a in xs:` with `y = f(a)` first in the
body). `list(it)` is the comprehension `[a for a in it]`, a new list.
Tuple displays are lists there (`math.dist((x1, y1), (x2, y2))`).
"""

from __future__ import annotations

import ast
import copy
import math
import sys
from typing import TypeVar

from .. import ir
from ..errors import UnsupportedError
from ..frontend import Callee
from ..ir import BOOL, FLOAT, INT, Assign, Const, Var
from ..rules import CALLS
from .base import LoweringBase
from .refusals import REFUSED_EXPRESSIONS
from .scope import Scope, Value

_Node = TypeVar("_Node", bound=ast.AST)


def _item_name(*parts: ast.AST) -> str:
    """A name for the element of a generator written for `map(...)`, `list(...)` or `all(...)`: `_item`, unless
    the expressions it is written with read a name like it (which it would hide)."""
    taken = {n.id for part in parts for n in ast.walk(part) if isinstance(n, ast.Name)}
    name, k = "_item", 1
    while name in taken or any(t.startswith(name) and t[len(name) :].isdigit() for t in taken):
        name, k = f"_item{k}", k + 1
    return name


class Builtins(LoweringBase):
    """`sorted`, `list`, `map`, `all`/`any` of lists, and the `math` functions of lists."""

    def is_builtin(self, node: ast.expr, name: str, scope: Scope) -> bool:
        """Whether `node` is a call of the builtin `name` (not of a local or module name that hides it)."""
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id not in scope):
            return False
        resolved = self.parsed.resolve(node.func.id)
        return isinstance(resolved, Callee) and resolved.spelling == name

    def mapped(self, node: ast.expr, scope: Scope) -> ast.expr:
        """`map(f, xs, ...)` as the generator expression it stands for; any other expression as it is."""
        if not self.is_builtin(node, "map", scope):
            return node
        assert isinstance(node, ast.Call)
        if node.keywords or len(node.args) < 2 or any(isinstance(a, ast.Starred) for a in node.args):
            raise self.error(UnsupportedError, "write map(function, iterable, ...)", node)
        function, iterables = node.args[0], node.args[1:]
        if isinstance(function, ast.Lambda):
            message, hint = REFUSED_EXPRESSIONS["Lambda"]
            raise self.error(UnsupportedError, message, function, hint)
        item = _item_name(*node.args)
        names = [item] if len(iterables) == 1 else [f"{item}_{k}" for k in range(len(iterables))]
        element = ast.Call(copy.deepcopy(function), [ast.Name(n, ast.Load()) for n in names], [])
        if len(iterables) == 1:
            target: ast.expr = ast.Name(names[0], ast.Store())
            over = iterables[0]
        else:
            target = ast.Tuple([ast.Name(n, ast.Store()) for n in names], ast.Store())
            over = ast.Call(ast.Name("zip", ast.Load()), list(iterables), [])
        return _located(ast.GeneratorExp(element, [ast.comprehension(target, over, [], 0)]), node)

    def listed(self, node: ast.expr, scope: Scope, what: str) -> Value:
        """The list an argument of `sorted`, `math.fsum`, ... is: a list, a comprehension, a generator
        expression, `map(...)`, or a tuple display (numbers only)."""
        node = self.mapped(node, scope)
        if isinstance(node, (ast.GeneratorExp, ast.ListComp)):
            items = self.comprehension(node, scope, "list")
        elif isinstance(node, ast.Tuple):
            items = self.expr(_located(ast.List(node.elts, ast.Load()), node), scope)
        else:
            items = self.list_value(self.expr(node, scope), node)
        assert isinstance(items.type, ir.ListOf)
        if isinstance(items.type.elem, ir.ListOf):
            raise self.error(UnsupportedError, f"{what}() of a list of lists is not supported", node)
        return items

    def builtin_call(self, name: str, spelling: str, node: ast.Call, scope: Scope) -> Value | None:
        """`sorted(...)`, `list(...)`, `round(x, n)`, the `math` functions of lists, and the refusals of `map(...)`
        where it is not read as a generator and of what this Python's math module lacks; None for any other call
        (and for these with keywords, but `sorted`'s)."""
        if name == "sorted":
            return self.sorted_call(node, scope)
        if name in ("range", "zip", "enumerate", "reversed"):  # read as a value: the list a comprehension over it makes
            item = ast.Name("#item", ast.Load())
            each = ast.comprehension(ast.Name("#item", ast.Store()), node, [], 0)
            return self.expr(ast.copy_location(ast.ListComp(item, [each]), node), scope)
        if node.keywords or name in ("sum", "max", "min", "all", "any"):
            return None
        if name == "round" and len(node.args) == 2:
            args = [self.expr(arg, scope) for arg in node.args]
            if args[1].type not in (INT, BOOL):
                raise self.error(UnsupportedError, "round(x, ndigits) needs a whole number (int) of digits", node.args[1])
            return self.apply("round_digits", (args[0], args[1]), node)
        if name == "map":
            raise self.error(
                UnsupportedError,
                "map(...) is only supported inside sum(), max(), min(), all(), any(), list(), sorted(), math.fsum() "
                "and math.prod(), and as what a `for` loop iterates over",
                node,
                "write a list comprehension: [f(x) for x in xs]",
            )
        if name == "list":
            return self.listed_call(node, scope)
        if name.startswith("math.") and not hasattr(math, name[len("math.") :]) and any(n == name for n, _ in CALLS):
            version = f"{sys.version_info.major}.{sys.version_info.minor}"
            written = {"math.cbrt": "math.copysign(abs(x) ** (1 / 3), x)", "math.exp2": "2.0 ** x"}.get(name)
            raise self.error(
                UnsupportedError,
                f"'{spelling}' is new in Python 3.11; this is Python {version}, whose math module does not have it",
                node.func,
                "run with Python 3.11 or later" + (f", or write {written}" if written else ""),
            )
        op = CALLS.get((name, len(node.args)))
        if op is not None and name.startswith("math.") and self.rules[op].structural:  # math.fsum(xs), math.dist(p, q)
            return self.list_call(op, spelling, node, scope)
        return None

    def list_call(self, op: str, spelling: str, node: ast.Call, scope: Scope) -> Value:
        """`math.fsum(xs)`, `math.prod(xs)`, `math.dist(p, q)`: a list operation of the rule table."""
        if any(isinstance(a, ast.Starred) for a in node.args):
            raise self.error(UnsupportedError, "a starred argument (*args) is not supported", node)
        lists = [self.listed(arg, scope, spelling) for arg in node.args]
        rule = self.rules[op]
        whole = all(isinstance(items.type, ir.ListOf) and items.type.elem in (INT, BOOL) for items in lists)
        type_ = INT if rule.result == "promote" and whole else FLOAT
        target = self.namer.temp()
        self.types[target] = type_
        self.out.append(Assign(target, op, tuple(items.operand for items in lists), type_, self.loc))
        return Value(Var(target), type_)

    def sorted_call(self, node: ast.Call, scope: Scope) -> Value:
        """`sorted(xs)` and `sorted(xs, reverse=True)` of numbers; `key=` is refused."""
        if len(node.args) != 1 or isinstance(node.args[0], ast.Starred):
            raise self.error(UnsupportedError, "sorted() takes one list here", node)
        descending = False
        for keyword in node.keywords:
            if keyword.arg == "key":
                raise self.error(
                    UnsupportedError,
                    "sorted(..., key=...) is not supported",
                    keyword.value,
                    "sort the numbers themselves: sorted(xs) or sorted(xs, reverse=True)",
                )
            if keyword.arg != "reverse":
                raise self.error(UnsupportedError, f"sorted() has no argument '{keyword.arg}' here", keyword.value)
            flag = self.expr(keyword.value, scope)
            if not isinstance(flag.operand, Const):
                raise self.error(
                    UnsupportedError,
                    "sorted(..., reverse=...) needs True or False written in the code",
                    keyword.value,
                    "choose between sorted(xs) and sorted(xs, reverse=True) with an `if`",
                )
            descending = bool(flag.operand.value)
        items = self.listed(node.args[0], scope, "sorted")
        target = self.namer.temp()
        self.types[target] = items.type
        self.out.append(Assign(target, "sorted_reverse" if descending else "sorted", (items.operand,), items.type, self.loc))
        return Value(Var(target), items.type)

    def listed_call(self, node: ast.Call, scope: Scope) -> Value:
        """`list(it)`: a new list of what `it` holds (a list, a sequence, a comprehension, a generator, `map(...)`)."""
        if len(node.args) != 1 or node.keywords or isinstance(node.args[0], ast.Starred):
            raise self.error(UnsupportedError, "write list(iterable) with one argument", node, "or a list comprehension [...]")
        arg = self.mapped(node.args[0], scope)
        if isinstance(arg, (ast.GeneratorExp, ast.ListComp)):
            made = ast.ListComp(arg.elt, arg.generators)
        elif not isinstance(arg, ast.Tuple) and not _of_tuples(arg):  # a list (`list(xs)` is a copy), reversed, range
            return self.new_list(node, scope)
        elif isinstance(arg, ast.Call):  # zip, enumerate: a tuple of names per item, as a `for` unpacks them
            assert isinstance(arg.func, ast.Name)
            names = [f"#item{k}" for k in range(len(arg.args) if arg.func.id == "zip" else 2)]
            target = ast.Tuple([ast.Name(n, ast.Store()) for n in names], ast.Store())
            item_tuple = ast.Tuple([ast.Name(n, ast.Load()) for n in names], ast.Load())
            made = ast.ListComp(item_tuple, [ast.comprehension(target, arg, [], 0)])
        else:
            assert isinstance(arg, ast.Tuple)
            arg = _located(ast.List(arg.elts, ast.Load()), arg)
            item = _item_name(arg)
            made = ast.ListComp(ast.Name(item, ast.Load()), [ast.comprehension(ast.Name(item, ast.Store()), arg, [], 0)])
        return self.comprehension(_located(made, node), scope, "list")

    def all_or_any(self, name: str, arg: ast.expr, scope: Scope) -> Value:
        """`all(...)`/`any(...)` of a list display (every element evaluated first, as Python builds the list), of a
        list, of `map(...)` or of a generator expression: a truth value, with no derivative."""
        arg = self.mapped(arg, scope)
        if isinstance(arg, (ast.List, ast.Tuple)):
            truths = [self.truth(self.expr(e, scope), e) for e in arg.elts]
            result: Value | None = None
            for truth in truths:
                if truth.type != BOOL:  # a bool, as all() gives
                    truth = self.apply("not", (self.apply("not", (truth,), arg),), arg)
                result = truth if result is None else self.apply("and" if name == "all" else "or", (result, truth), arg)
            return result or Value(Const(name == "all"), BOOL)
        if not isinstance(arg, (ast.GeneratorExp, ast.ListComp)):
            item = _item_name(arg)
            element = ast.Name(item, ast.Load())
            arg = _located(ast.GeneratorExp(element, [ast.comprehension(ast.Name(item, ast.Store()), arg, [], 0)]), arg)
        return self.comprehension(arg, scope, name)

    def for_statement(self, node: ast.For, scope: Scope) -> None:
        """`for y in map(f, xs)` is `for a in xs:` with `y = f(a)` first in the body."""
        if self.is_builtin(node.iter, "map", scope):
            generator = self.mapped(node.iter, scope)
            assert isinstance(generator, ast.GeneratorExp)
            inner = generator.generators[0]
            bound = _located(ast.Assign([node.target], generator.elt), node.iter)
            node = _located(ast.For(inner.target, inner.iter, [bound, *node.body], node.orelse), node)
        super().for_statement(node, scope)  # type: ignore[safe-super]  # the loops part of the lowering


def _located(node: _Node, like: ast.AST) -> _Node:
    """A node written for `like`, with its location (and its new parts' too)."""
    ast.copy_location(node, like)
    for child in ast.walk(node):
        if getattr(child, "lineno", None) is None:
            ast.copy_location(child, like)
    return node


def _of_tuples(arg: ast.expr) -> bool:
    """`zip(...)`, `enumerate(...)`: what they give are tuples, which a comprehension holds (`list(zip(xs, ys))`)."""
    return isinstance(arg, ast.Call) and isinstance(arg.func, ast.Name) and arg.func.id in ("zip", "enumerate")
