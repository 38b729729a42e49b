"""The lowering's state and the checks every part of it uses."""

from __future__ import annotations

import ast
from collections import ChainMap
from collections.abc import Callable, Mapping, MutableMapping
from typing import TYPE_CHECKING, cast

from .. import ir
from ..errors import ResolutionError, S2SError, SignatureError, UnsupportedError
from ..frontend import Callee, Custom, Data, Helper, MathModule, ParsedFunction, Resolved, Source
from ..frontend.tree import function_nodes
from ..ir import BOOL, INT, Const, Loc, Namer, Type, Var
from ..rules import MATH_CONSTANTS, Rule
from ..rules.custom import LoweredBody
from ..rules.shapes import is_array
from . import rows
from .scope import (
    FALSE,
    PSEUDO_FAMILIES,
    RAISED,
    RESULT,
    RETURNED,
    TRUE,
    Bound,
    Entry,
    Function,
    Held,
    Scope,
    TupleValue,
    Value,
    join,
)
from .types import param_types

if TYPE_CHECKING:
    from .sequences import Sequence


Place = tuple[str, int, int]  # a node's file, line and column


class Retype(Exception):  # noqa: N818 (not an error: the lowering's request to start again)
    """An empty list literal holds `elem`, not what was guessed: lower the function again knowing it."""

    def __init__(self, key: Place, elem: Type) -> None:
        super().__init__(key, elem)
        self.key, self.elem = key, elem


class KindChanged(UnsupportedError):
    """What a loop carries changes between a number and an array or a list (a refusal, unless the lowering
    can write the loop another way: `sum(h * h for h in hs)` of arrays becomes the sum of a list)."""


class LoweringBase:
    """The lowering's state and the checks every part of it uses."""

    if TYPE_CHECKING:  # the parts of the lowering call each other; each method is defined in one part

        def apply(self, op: str, args: tuple[Value, ...], node: ast.AST) -> Value: ...
        def bind(self, target: ast.expr, value: Held, scope: Scope) -> None: ...
        def block(self, statements: list[ast.stmt], scope: Scope) -> None: ...
        def call(self, node: ast.Call, scope: Scope) -> Value: ...
        def callee(self, node: ast.Call, scope: Scope) -> tuple[str, Resolved]: ...
        def comprehension(
            self, node: ast.ListComp | ast.GeneratorExp, scope: Scope, into: str, start: ast.expr | None = None
        ) -> Value: ...
        def condition(self, node: ast.expr, scope: Scope) -> Value: ...
        def custom_body(self, function: Callable[..., object]) -> LoweredBody: ...
        def element(self, items: Value, index: Value, node: ast.AST) -> Value: ...
        def expr(self, node: ast.expr, scope: Scope) -> Value: ...
        def for_statement(self, node: ast.For, scope: Scope) -> None: ...
        def index_value(self, node: ast.expr, scope: Scope) -> Value: ...
        def inline(self, name: str, helper: Helper, node: ast.Call, scope: Scope, allow_tuple: bool = False) -> Bound: ...
        def inline_parsed(
            self,
            name: str,
            key: str,
            parsed: ParsedFunction,
            function: ast.FunctionDef,
            node: ast.Call,
            scope: Scope,
            allow_tuple: bool = False,
            closure: Scope | None = None,
            defaults: Mapping[str, Held] | None = None,
        ) -> Bound: ...
        def argument(self, node: ast.expr, scope: Scope) -> Held: ...
        def called_function(self, node: ast.Call, scope: Scope) -> Function | None: ...
        def call_function(self, function: Function, node: ast.Call, scope: Scope, allow_tuple: bool = False) -> Bound: ...
        def call_of(self, spelling: str, callee: Resolved, node: ast.Call, scope: Scope) -> Value: ...
        def numpy_call(self, spelling: str, node: ast.Call, scope: Scope) -> Value: ...
        def name(self, name: str, scope: Mapping[str, Entry], node: ast.AST) -> Value: ...
        def while_statement(self, node: ast.While, scope: Scope) -> None: ...
        def numpy_path(self, node: ast.expr, scope: Scope) -> str | None: ...
        def named(self, name: str, value: Value) -> Value: ...
        def array_store(self, name: str, index: ast.expr, value: Value, scope: Scope, node: ast.AST) -> None: ...
        def matmul(self, left: Value, right: Value, node: ast.AST) -> Value: ...
        def attribute(self, x: Value, node: ast.Attribute) -> Value | TupleValue: ...
        def array_index(self, x: Value, index: ast.expr, scope: Scope, node: ast.AST) -> Value: ...
        def numpy_constant(self, name: str, node: ast.AST) -> Value: ...
        def shape_of(self, node: ast.Attribute, scope: Scope) -> TupleValue | None: ...
        def size_at(self, x: Value, axis: int) -> Value: ...
        def enumerate_start(self, call: ast.Call, scope: Scope) -> Value | None: ...
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
        ) -> None: ...
        def sequence(self, node: ast.expr, scope: Scope) -> Sequence: ...
        def sliced(self, node: ast.Subscript, scope: Scope) -> Value: ...
        def slice_of(self, items: Value, part: ast.Slice, node: ast.AST, scope: Scope) -> Value: ...
        def new_list(self, call: ast.Call, scope: Scope) -> Value: ...
        def concatenated(self, left: Value, right: Value, node: ast.AST, scope: Scope) -> Value: ...
        def iterator_call(self, node: ast.expr, scope: Scope) -> str | None: ...
        def element_expr(self, node: ast.expr, scope: Scope) -> Value: ...
        def new_list_of(self, items: Value) -> Value: ...
        def listed_call(self, node: ast.Call, scope: Scope) -> Value: ...
        def truth(self, value: Value, node: ast.AST) -> Value: ...
        def mapped(self, node: ast.expr, scope: Scope) -> ast.expr: ...
        def builtin_call(self, name: str, spelling: str, node: ast.Call, scope: Scope) -> Value | None: ...
        def all_or_any(self, name: str, arg: ast.expr, scope: Scope) -> Value: ...

    def __init__(self, parsed: ParsedFunction, rules: Mapping[str, Rule], namer: Namer, stack: tuple[str, ...]) -> None:
        self.parsed = parsed
        self.created: dict[str, Rule] = {}  # the rules this lowering makes (custom derivatives): returned with the IR
        # What it reads: the rules it made, then the table given (a ChainMap writes into its first map only).
        self.rules: ChainMap[str, Rule] = ChainMap(self.created, cast("MutableMapping[str, Rule]", rules))
        self.namer = namer
        self.stack = stack  # helper functions being lowered, to refuse recursion
        args = parsed.node.args
        # The function differentiated and its parameters (a helper's lowering is given its caller's).
        self.differentiated = (parsed.name, frozenset(a.arg for a in (*args.posonlyargs, *args.args, *args.kwonlyargs)))
        self.out: list[ir.Stmt] = []
        self.types: dict[str, Type] = {}
        self.loc = Loc(parsed.source.filename, parsed.node.lineno)
        self.sources = {parsed.source.filename: parsed.source}
        self.mutated: set[str] = set()  # SSA names of lists this function mutates
        self.held: set[str] = set()  # temporaries a scope holds besides the expression that made them
        self.callers: set[str] = set()  # SSA names of lists that are the caller's (parameters, and names for them)
        self.holds_callers: set[str] = set()  # lists that hold rows of the caller's lists (`M.append(A[i])`)
        self.floats: set[str] = set()  # names that hold a float whatever the arguments (see `is_float`)
        self.bound_at: dict[str, Loc] = {}  # a source name -> the statement that last bound it (so far)
        self.sizes: dict[str, ir.Dim] = {}  # int names that are an array's size (`H = b.shape[0]`): which one
        # Arrays that may be one object with another name's (a parameter, `B = A`, a view `A.T`): a `+=` on
        # one of them would change the other too, which the gradient's `a = a + b` would not.
        self.shared: set[str] = set()
        self.augmented: set[str] = set()  # arrays changed in place: by a `+=`, or written into (`h[t] = v`)
        self.views: dict[str, str] = {}  # a view (`x.T`, `x[i]`) -> the array it views: both shared once it is named
        self.tape: ast.Name | None = None  # where a generated gradient's `_tape` first appears
        self.frozen: set[str] = set()  # lists made of tuples (`[(x, y), ...]`): changing one raises in Python
        self.tuples_in: set[str] = set()  # lists that hold such tuples: their elements are frozen
        self.named_after: dict[str, str] = {}  # a comprehension's accumulator -> the name it is assigned to
        self.assigned_to: str | None = None  # the name the expression being lowered is assigned to, if one
        self.seeded: set[str] = set()  # names a `while True` loop assigns first: their value before it is never read
        self.tuple_rows: set[int] = set()  # `id`s of the lists comprehensions of tuples start from
        self.made_nodes: list[ast.AST] = []  # nodes the lowering writes itself whose ids `nesting` holds
        # What the empty list literals hold where their appends showed it (arrays): where the literal, or the
        # comprehension that made it, stands in the source (`place`) -> the element type. Learnt by lowering
        # again (`Retype`), which parses a helper anew: so a place, not an `id`.
        self.elements: dict[Place, Type] = {}
        self.origin: dict[int, Place] = {}  # `id` of a literal the lowering made -> the place it stands for
        self.empties: dict[str, Place] = {}  # SSA name of a list made by an empty literal -> its key in `elements`
        self.nesting = rows.nesting(parsed.node)  # empty list literals that become lists of lists: their depth
        self.grown = rows.grown(parsed.node)  # list literals that are appended to later
        self.reserve(parsed.node)

    def error(self, cls: type[S2SError], message: str, node: ast.AST | None, hint: str | None = None) -> S2SError:
        return self.parsed.source.error(cls, message, node, hint)

    def reserve(self, node: ast.FunctionDef) -> None:
        """Source names are taken: no temporary or adjoint may be called like one. (And where a
        gradient s2s_ad generated, read back, first takes from its tape, `_tape.pop()`, is remembered.)"""
        for child in function_nodes(node):
            if isinstance(child, ast.Attribute) and isinstance(child.value, ast.Name) and child.value.id == "_tape":
                if child.attr == "pop" and self.tape is None and _generated(self.parsed.source, node):
                    self.tape = child.value
            elif isinstance(child, ast.Name):
                self.namer.reserved.add(child.id)
            elif isinstance(child, ast.arg):
                self.namer.reserved.add(child.arg)

    def fresh(self, key: str) -> str:
        """A new SSA name for a scope entry (a source variable or a pseudo entry)."""
        if key in self.named_after:  # `hidden = [...]`: the list the comprehension builds is `hidden`
            return self.namer.fresh(self.named_after[key])
        if key.startswith("#"):
            return self.namer.fresh(PSEUDO_FAMILIES.get(key) or "_" + key[1:].split("_")[0].rstrip("0123456789"))
        return self.namer.fresh(key)

    def params(self, node: ast.FunctionDef, arg_types: Mapping[str, Type] | None = None) -> tuple[ir.Param, ...]:
        """The parameters, typed from how the body uses them, except those `arg_types` types (the arrays a
        gradient is specialised on)."""
        args = node.args
        for star, extra in (("*", args.vararg), ("**", args.kwarg)):
            if extra is not None:
                raise self.error(
                    UnsupportedError,
                    f"'{star}{extra.arg}' parameters are not supported",
                    extra,
                    "write each parameter out by name: def f(x, y, z)",
                )
        names = [*args.posonlyargs, *args.args, *args.kwonlyargs]
        if not names:
            raise self.error(SignatureError, f"function '{node.name}' has no parameters to differentiate", node)
        types = param_types(node, self.parsed.resolve)
        if arg_types:
            types = tuple(arg_types.get(a.arg, t) for a, t in zip(names, types))
        defaults = [None] * (len(args.posonlyargs) + len(args.args) - len(args.defaults)) + [*args.defaults, *args.kw_defaults]
        keyword_only = {id(a) for a in args.kwonlyargs}
        return tuple(
            ir.Param(a.arg, t, self.default_value(d, a.arg), id(a) in keyword_only) for a, t, d in zip(names, types, defaults)
        )

    def default_value(self, default: ast.expr | None, name: str = "") -> Const | None:
        """A parameter's default: a number (a literal, or a constant the module defines). Not None, nor a
        function: those a helper may take (see `functions`), the function differentiated not."""
        if default is None:
            return None
        if (isinstance(default, ast.Constant) and default.value is None) or self.names_function(default):
            what = "None" if isinstance(default, ast.Constant) else f"the function '{ast.unparse(default)}'"
            raise self.error(
                UnsupportedError,
                f"the parameter '{name}' of the function you differentiate defaults to {what}: its gradient needs "
                "a number for every parameter",
                default,
                f"differentiate a function that calls '{self.parsed.name}' with the argument or without it (it is "
                "then a helper, where a default of None or a function is supported), or give it a number as its default",
            )
        value = self.expr(default, {})
        if isinstance(value.operand, ir.Global):  # a module-level number (`eps=EPSILON`): its value now, as Python's
            found = self.resolve(value.operand.name, default)
            if isinstance(found, Data) and isinstance(found.value, float):
                return Const(found.value)
        if not isinstance(value.operand, Const):
            raise self.error(
                UnsupportedError, "a parameter's default value must be a number", default, "pass other values as arguments"
            )
        return value.operand

    def names_function(self, node: ast.expr) -> bool:
        """Whether an expression names a function (`decay`, `math.sin`, a `lambda`), read as Python would."""
        if isinstance(node, ast.Lambda):
            return True
        if isinstance(node, ast.Name):
            return isinstance(self.resolve_or_none(node.id, node), (Helper, Custom, Callee))
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            base = self.resolve_or_none(node.value.id, node.value)
            return isinstance(base, MathModule) and node.attr not in MATH_CONSTANTS
        return False

    def body(self, node: ast.FunctionDef, scope: Scope) -> Bound:
        statements = node.body
        if (
            statements
            and isinstance(statements[0], ast.Expr)
            and isinstance(statements[0].value, ast.Constant)
            and isinstance(statements[0].value.value, str)
        ):
            statements = statements[1:]  # docstring
        scope[RETURNED] = FALSE
        self.block(statements, scope)
        if scope.get(RAISED) == TRUE:
            raise self.error(SignatureError, f"function '{node.name}' always raises: it has no value to differentiate", node)
        returned = scope[RETURNED]
        if returned != TRUE:
            raise self.error(
                SignatureError,
                f"function '{node.name}' may end without returning a value",
                node,
                "make every path end with `return <expression>`",
            )
        result = scope[RESULT]
        assert isinstance(result, (Value, TupleValue))  # `returned` refuses a function or None
        return result

    def nested(self, lower_it: Callable[[], object]) -> ir.Block:
        """Lower into a new block and return it."""
        saved, self.out = self.out, []
        try:
            lower_it()
            return tuple(self.out)
        finally:
            self.out = saved

    def resolve_or_none(self, name: str, node: ast.AST) -> Resolved | None:
        """What a name is (None: nothing differentiable); a refusal of the lookup itself points at `node`."""
        try:
            return self.parsed.resolve(name)
        except S2SError as exc:
            if exc.filename is not None:
                raise
            raise self.error(type(exc), exc.message, node, exc.hint) from None

    def resolve(self, name: str, node: ast.AST) -> Resolved:
        resolved = self.resolve_or_none(name, node)
        if resolved is None:
            raise self.error(
                ResolutionError,
                f"name '{name}' cannot be resolved to a number or a known function",
                node,
                "s2s_ad differentiates numbers, lists of numbers, the math module and your own functions",
            )
        return resolved

    def scalar(self, value: Value, node: ast.AST) -> Value:
        if isinstance(value.type, ir.ListOf):
            raise self.error(UnsupportedError, "expected a number here, not a list", node)
        return value

    def integer(self, value: Value, node: ast.AST, what: str = "range()") -> Value:
        if value.type not in (INT, BOOL):
            raise self.error(
                UnsupportedError, "range() needs whole numbers (int), not floats", node, "use int(...) if the bound is computed"
            )
        return value

    def list_value(self, value: Value, node: ast.AST) -> Value:
        if not isinstance(value.type, ir.ListOf):
            raise self.error(UnsupportedError, f"expected a list here, not {kind_of(value.type)}", node)
        return value

    def place(self, node: ast.AST) -> Place:
        """Where a node stands in the source: the same in every lowering of the function and its helpers (a
        node the lowering wrote itself, standing nowhere, by its `id`)."""
        line, column = getattr(node, "lineno", None), getattr(node, "col_offset", None)
        if line is None or column is None:
            return ("", id(node), -1)
        return (self.parsed.source.filename, line, column)

    def note_callers(self, target: str, chosen: tuple[ir.Operand, ...]) -> None:
        """`target` is one of `chosen` (a merge of branches): where one is the caller's list (a parameter, or
        data), so may it be."""
        if any(isinstance(o, ir.Global) or (isinstance(o, Var) and o.name in self.callers) for o in chosen):
            self.callers.add(target)
        if any(isinstance(o, Var) and o.name in self.holds_callers for o in chosen):
            self.holds_callers.add(target)

    def held_by_list(self, value: Value) -> None:
        """A list now holds this value: where it is an array, that very array, which writing into it (or into
        the view it is) would change for the list too."""
        if is_array(value.type) and isinstance(value.operand, Var):
            name = value.operand.name
            self.shared.update((name, *([self.views[name]] if name in self.views else [])))

    def check_element(self, items: Value, value: Value, node: ast.AST) -> None:
        """`value` may go into the list `items`. Where the list was made empty and its type guessed wrong
        (`hs = []`, then `hs.append(h)` with h an array; `[list(r) for r in A]`, rows), the lowering starts
        again, knowing better."""
        assert isinstance(items.type, ir.ListOf)
        key = self.empties.get(items.operand.name) if isinstance(items.operand, Var) else None
        guessed = (value.type, items.type.elem)
        if key is not None and any(is_array(t) or isinstance(t, ir.ListOf) for t in guessed):
            elem = value.type if key not in self.elements else join(items.type.elem, value.type)
            if elem is not None and elem != items.type.elem:
                raise Retype(key, elem)
        self.held_by_list(value)
        callers = isinstance(value.operand, ir.Global) or (isinstance(value.operand, Var) and value.operand.name in self.callers)
        if callers and isinstance(value.type, ir.ListOf) and isinstance(items.operand, Var):
            self.holds_callers.add(items.operand.name)  # its rows are the caller's: a write into one changes both
        if join(items.type.elem, value.type) is None:
            raise self.error(
                UnsupportedError,
                f"this list holds {kind_of(items.type.elem, plural=True)}; putting {kind_of(value.type, plural=True)} "
                "in it too (a list of mixed kinds) "
                "is not supported",
                node,
                "keep one list for each kind",
            )


def kind_of(type_: Type | None, plural: bool = False) -> str:
    """A value of this type in words, for refusals: a list, an array or a number."""
    if isinstance(type_, ir.ListOf):
        return "lists" if plural else "a list"
    if is_array(type_):
        return "arrays" if plural else "an array"
    return "numbers" if plural else "a number"


def _generated(source: Source, node: ast.AST) -> bool:
    """Whether the function at `node` reads like a gradient s2s_ad generated: its reverse sweep is announced."""
    first, last = getattr(node, "lineno", 1), getattr(node, "end_lineno", len(source.lines))
    return any(line.strip() == "# reverse sweep" for line in source.lines[first - 1 : last])
