"""Structured parameters read as the leaves they hold: the pre-pass before the lowering.

A parameter that arrives as a structure (`frontend.structures`: a dict, a
tuple or list, a NamedTuple, a dataclass, nested) is replaced by one
parameter per leaf the function reads, and each read of a leaf by that name:

    def loss(p, x):                      def loss(p_w, p_b, x):
        return p["w"] * x + p["b"]   ->      return p_w * x + p_b

The rest of the lowering then sees plain parameters. What can be mapped to a
leaf from the source alone is: a constant key or position (`p["w"]`,
`p[0]`, `p[-1]`), a field (`p.w`), chains of them (`p["layer1"]["W"]`), a
local name for a part (`layer = p["layer1"]`, assigned once, at the top of
the function), unpacking (`w, b = p`), `len(p)`, a loop over a tuple or list
of structures (`for W, b in layers:`, also with `enumerate`, `zip` and
`reversed`; unrolled, one copy of the body per element), and passing a part
to a helper of your own (the helper is read the same way, for the part it
gets). Anything else done with a structure (a computed key `p[k]`, `p.get`,
`"w" in p`, passing it to another function, returning it, writing into it,
rebinding its name) is refused, naming the file, line and construct.
"""

from __future__ import annotations

import ast
import copy
import dataclasses
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from ..errors import S2SError, UnsupportedError
from ..frontend import Callee, Helper, ParsedFunction, Resolved
from ..frontend.structures import Key, Leaf, Node, access, leaves, literal
from .parts import Part, PartNames, Path, leaf_names, quoted, unused


@dataclass(frozen=True)
class LeafParam:
    """A parameter the flattened function takes for one leaf of a structured parameter."""

    param: str  # the structured parameter
    path: Path  # where in it: ("layer1", "W")
    name: str  # the flattened function's parameter: params_layer1_W
    spec: Leaf
    reading: str  # Python reading it from the argument: params["layer1"]["W"]


@dataclass(frozen=True)
class Flattened:
    """A function with a parameter per leaf it reads of its structured parameters."""

    parsed: ParsedFunction  # the function rewritten: leaves for structures
    original: ParsedFunction
    structures: Mapping[str, Node]  # the structured parameters
    leaves: tuple[LeafParam, ...]  # the parameters standing for leaves, in order

    def arguments(self, values: Mapping[str, object]) -> dict[str, object]:
        """The flattened function's arguments, by parameter name, for the original's (by name): each leaf read out."""
        out: dict[str, object] = {}
        for name, value in values.items():
            if name not in self.structures:
                out[name] = value
                continue
            for leaf in self.leaves:
                if leaf.param == name:
                    part = value
                    for key in leaf.path:
                        part = getattr(part, key) if isinstance(key, str) and not isinstance(part, dict) else part[key]  # type: ignore[index]
                    out[leaf.name] = part
        return out

    def names_of(self, param: str) -> tuple[str, ...]:
        """The flattened parameters that stand for a parameter: its leaves read, or itself."""
        if param not in self.structures:
            return (param,)
        return tuple(leaf.name for leaf in self.leaves if leaf.param == param)


def flatten(parsed: ParsedFunction, structures: Mapping[str, Node], keep: Iterable[tuple[str, Path]] = ()) -> Flattened:
    """`parsed` with each structured parameter replaced by the leaves the body reads of it (and those in
    `keep`, read or not), in the structure's order."""
    flattener = _Flattener(parsed, structures, (parsed.name,))
    rewritten, read = flattener.run(set(keep))
    made = tuple(leaf for leaf in flattener.all_leaves() if (leaf.param, leaf.path) in read)
    return Flattened(rewritten, parsed, dict(structures), made)


def reading(param: str, structure: Node, path: Path) -> str:
    """Python reading the part at `path` of a structured parameter: `p["layer1"]["W"]`, `p.w`, `p[0]`."""
    text, spec = param, structure
    for key in path:
        assert isinstance(spec, Node)
        text, child = access(text, spec, key), spec.child(key)
        if isinstance(child, Leaf):
            break
        spec = child
    return text


class _Flattener(PartNames):
    """The pre-pass over one function (and, through `helper_call`, over the helpers it passes parts to)."""

    def __init__(self, parsed: ParsedFunction, structures: Mapping[str, Node], stack: tuple[str, ...]) -> None:
        self.parsed = parsed
        self.structures = structures
        self.stack = stack  # helpers being read, to refuse recursion
        # A helper and the kinds of parts passed to it -> (its name, the helper read for them, its leaf parameters).
        self.variants: dict[tuple[object, ...], tuple[str, ParsedFunction, tuple[LeafParam, ...]]] = {}
        node = parsed.node
        self.stores = Counter(n.id for n in ast.walk(node) if isinstance(n, ast.Name) and not isinstance(n.ctx, ast.Load))
        self.identifiers = {n.id for n in ast.walk(node) if isinstance(n, ast.Name)} | {
            a.arg for a in ast.walk(node.args) if isinstance(a, ast.arg)
        }
        self.names = leaf_names(structures, self.identifiers)
        self.aliases: dict[str, Part] = {}  # local names for parts: `layer = p["layer1"]`
        self.constants: dict[str, ast.expr] = {}  # a position in a comprehension unrolled over a structure (enumerate)
        self.read: set[tuple[str, Path]] = set()
        self.straight: set[int] = set()  # ids of statements run once, in order, at the function's level
        self.calls: dict[str, list[tuple[ast.Name, tuple[object, ...] | None]]] = {}  # helper calls by name, with variant keys
        self.parents: dict[int, ast.AST] = {}

    # -- the pass --------------------------------------------------------------

    def run(self, keep: set[tuple[str, Path]]) -> tuple[ParsedFunction, set[tuple[str, Path]]]:
        node = copy.deepcopy(self.parsed.node)
        self.check_defaults(node)
        for parent in ast.walk(node):
            for child in ast.iter_child_nodes(parent):
                self.parents[id(child)] = parent
        self.straight = {id(stmt) for stmt in node.body}
        node.body = self.statements(node.body) or [ast.copy_location(ast.Pass(), node.body[-1])]
        self.read |= keep
        args = node.args
        args.posonlyargs = self.params(args.posonlyargs)
        args.args = self.params(args.args)
        args.kwonlyargs, args.kw_defaults = self.keyword_params(args.kwonlyargs, args.kw_defaults)
        resolve = self.resolver()
        return dataclasses.replace(self.parsed, node=node, resolve=resolve), self.read

    def statements(self, body: list[ast.stmt]) -> list[ast.stmt]:
        out: list[ast.stmt] = []
        for stmt in body:
            result = self.visit(stmt)
            if result is None:
                continue
            out.extend(result if isinstance(result, list) else [result])
        return out

    def all_leaves(self) -> list[LeafParam]:
        return [
            LeafParam(param, path, self.names[(param, path)], leaf, reading(param, structure, path))
            for param, structure in self.structures.items()
            for path, leaf in leaves(structure)
        ]

    def params(self, params: list[ast.arg]) -> list[ast.arg]:
        out: list[ast.arg] = []
        for param in params:
            if param.arg not in self.structures:
                out.append(param)
                continue
            for leaf in self.all_leaves():
                if leaf.param == param.arg and (leaf.param, leaf.path) in self.read:
                    out.append(ast.copy_location(ast.arg(arg=leaf.name), param))
        return out

    def keyword_params(
        self, params: list[ast.arg], defaults: list[ast.expr | None]
    ) -> tuple[list[ast.arg], list[ast.expr | None]]:
        out: list[ast.arg] = []
        out_defaults: list[ast.expr | None] = []
        for param, default in zip(params, defaults):
            made = self.params([param])
            out += made
            out_defaults += [default] * len(made)
        return out, out_defaults

    def check_defaults(self, node: ast.FunctionDef) -> None:
        args = node.args
        positional = [*args.posonlyargs, *args.args]
        with_defaults = positional[len(positional) - len(args.defaults) :] if args.defaults else []
        with_defaults += [p for p, d in zip(args.kwonlyargs, args.kw_defaults) if d is not None]
        for param in with_defaults:
            if param.arg in self.structures:
                raise self.error(
                    f"'{param.arg}' is passed a structure, so it cannot have a default value here",
                    param,
                    "remove the default, or pass the structure every time",
                )

    def resolver(self) -> Callable[[str], Resolved | None]:
        """The rewritten function's names: the helpers read for the parts passed to them under names of their own
        (the helper's name where every call passes it the same kinds of parts)."""
        given: dict[str, Resolved] = {}
        for name, calls in self.calls.items():
            keys = list(dict.fromkeys(key for _, key in calls))
            for key in keys:
                if key is None:
                    continue
                variant, helper, _ = self.variants[key]
                if keys == [key]:
                    variant = name
                else:
                    variant = unused(
                        f"{name}_{keys.index(key)}", lambda n: n in self.identifiers or self.parsed.resolve(n) is not None
                    )
                given[variant] = Helper(variant, (lambda h: lambda: h)(helper))
                for call, called in calls:
                    if called == key:
                        call.id = variant
        inner = self.parsed.resolve
        if not given:
            return inner
        return lambda name: given.get(name) or inner(name)

    # -- reading parts ---------------------------------------------------------

    def part(self, expr: ast.expr) -> Part | None:
        """The part of a structure `expr` reads (a leaf or a structure), or None where it reads none."""
        if isinstance(expr, ast.Name):
            if expr.id in self.aliases:
                return self.aliases[expr.id]
            if expr.id in self.structures:
                return expr.id, (), self.structures[expr.id]
            return None
        if not isinstance(expr, (ast.Subscript, ast.Attribute)):
            return None
        base = self.part(expr.value)
        if base is None or isinstance(base[2], Leaf):
            return None
        param, path, spec = base
        assert isinstance(spec, Node)
        key = self.key(expr, spec) if isinstance(expr, ast.Subscript) else self.field(expr, spec)
        return param, (*path, key), spec.child(key)

    def key(self, expr: ast.Subscript, node: Node) -> Key:
        """The key a subscript of a structure reads: a constant, which the structure has."""
        written = ast.unparse(expr.value)
        index = expr.slice
        constant = self.constant(index)
        if isinstance(index, ast.Slice):
            raise self.error(f"{quoted(ast.unparse(expr))} slices {node.what}: a structure is read one entry at a time", expr)
        if type(constant) not in (str, int):
            raise self.error(
                f"{quoted(ast.unparse(expr))} reads {node.what} with a computed key; the gradient is written for the keys "
                "the function reads, so each key must be written out",
                expr,
                f"write the key itself: {written}[{literal(node.keys[0])}]" if node.keys else None,
            )
        assert isinstance(constant, (str, int))
        if node.kind == "dict":
            if constant not in node.keys or type(constant) is not type(node.keys[node.keys.index(constant)]):
                shown = ", ".join(literal(k) for k in node.keys) or "none"
                raise self.error(f"{quoted(written)} has no key {literal(constant)} (its keys: {shown})", expr)
            return constant
        if node.kind == "dataclass":
            raise self.error(
                f"{quoted(ast.unparse(expr))} indexes {node.what}, which is read by field", expr, f"write {written}.<field>"
            )
        if not isinstance(constant, int):
            raise self.error(f"{quoted(ast.unparse(expr))} reads {node.what} with a string; it is read by position", expr)
        if not -len(node.keys) <= constant < len(node.keys):
            raise self.error(
                f"{quoted(ast.unparse(expr))}: index {constant} is out of range ({quoted(written)} holds {len(node.keys)})", expr
            )
        return node.keys[constant]

    def constant(self, expr: ast.expr) -> object:
        """The value of a key known from the source: a constant, a position of an unrolled loop (`i`), whole-number
        arithmetic on them (`-1 - i`); None for anything else."""
        if isinstance(expr, ast.Constant):
            return expr.value
        if isinstance(expr, ast.Name) and expr.id in self.constants:
            return self.constant(self.constants[expr.id])
        if isinstance(expr, ast.UnaryOp) and isinstance(expr.op, (ast.USub, ast.UAdd)):
            value = self.constant(expr.operand)
            return (-value if isinstance(expr.op, ast.USub) else value) if type(value) is int else None
        if isinstance(expr, ast.BinOp) and isinstance(expr.op, (ast.Add, ast.Sub, ast.Mult, ast.FloorDiv, ast.Mod)):
            left, right = self.constant(expr.left), self.constant(expr.right)
            if type(left) is not int or type(right) is not int or (isinstance(expr.op, (ast.FloorDiv, ast.Mod)) and not right):
                return None
            assert isinstance(left, int) and isinstance(right, int)
            operations: dict[type, Callable[[int, int], int]] = {
                ast.Add: lambda a, b: a + b,
                ast.Sub: lambda a, b: a - b,
                ast.Mult: lambda a, b: a * b,
                ast.FloorDiv: lambda a, b: a // b,
                ast.Mod: lambda a, b: a % b,
            }
            return operations[type(expr.op)](left, right)
        return None

    def field(self, expr: ast.Attribute, node: Node) -> Key:
        written = ast.unparse(expr.value)
        if node.kind in ("namedtuple", "dataclass"):
            if expr.attr in node.keys:
                return expr.attr
            fields = ", ".join(str(k) for k in node.keys) or "none"
            raise self.error(
                f"{quoted(ast.unparse(expr))} is not a field of {node.what} (its fields: {fields})",
                expr,
                "a structured parameter is read by its fields; compute anything else in the function",
            )
        if node.kind == "dict":
            first = f"[{literal(node.keys[0])}]" if node.keys else '["w"]'
            raise self.error(
                f"{quoted(ast.unparse(expr))}: dict methods are not supported on a structured parameter",
                expr,
                f"read its entries with constant keys: {written}{first}",
            )
        raise self.error(
            f"{quoted(ast.unparse(expr))}: {node.what} has no attribute '{expr.attr}' that can be differentiated", expr
        )

    def leaf(self, expr: ast.expr, part: Part) -> ast.expr:
        """The name standing for a leaf, where `expr` read it."""
        param, path, spec = part
        if not isinstance(expr.ctx, ast.Load):  # type: ignore[attr-defined]  # a Name, Subscript or Attribute
            raise self.error(
                f"{quoted(ast.unparse(expr))} is written; writing into a structured parameter would change the caller's argument",
                expr,
                "compute into a local name instead",
            )
        if isinstance(spec, Node):
            raise self.whole(expr, spec)
        self.read.add((param, path))
        return ast.copy_location(ast.Name(id=self.names[(param, path)], ctx=ast.Load()), expr)

    def whole(self, expr: ast.expr, node: Node) -> S2SError:
        """The refusal of a structure used whole, saying in what."""
        written = ast.unparse(expr)
        if node.kind == "none":
            return self.error(
                f"{quoted(written)} is None in the argument: it holds no number to differentiate",
                expr,
                "decide on None outside the function, or pass a number there",
            )
        parent = self.parents.get(id(expr))
        key = (
            f"[{literal(node.keys[0])}]" if node.keys and node.kind != "dataclass" else (f".{node.keys[0]}" if node.keys else "")
        )
        hint = f"read its entries with constant keys, {written}{key}, or unpack it: a, b = {written}"
        if node.kind in ("dict", "dataclass"):
            hint = f"read its entries one by one: {written}{key}"
        if isinstance(parent, (ast.For, ast.comprehension)) and parent.iter is expr:
            return self.error(f"iterating over {quoted(written)} ({node.what}) is not supported here", expr, hint)
        if isinstance(parent, ast.Return):
            return self.error(f"{quoted(written)} is {node.what}: a differentiated function returns numbers", expr)
        if isinstance(parent, ast.Call) and expr is not parent.func:
            return self.error(
                f"{quoted(written)} ({node.what}) is passed to {quoted(ast.unparse(parent.func))}, which is not a function of "
                "yours that s2s_ad can read",
                expr,
                "pass the entries it needs, or pass the structure to a function defined with `def`",
            )
        if isinstance(parent, ast.Name) or parent is None:
            return self.error(f"{quoted(written)} is {node.what}, used whole here", expr, hint)
        construct = ast.unparse(parent) if isinstance(parent, ast.expr) else type(parent).__name__.lower()
        return self.error(
            f"{quoted(construct)} uses {quoted(written)} ({node.what}) whole, which cannot be differentiated", expr, hint
        )

    # -- expressions -------------------------------------------------------------

    def visit_Name(self, node: ast.Name) -> ast.AST:
        if node.id in self.constants and isinstance(node.ctx, ast.Load):
            return ast.copy_location(copy.deepcopy(self.constants[node.id]), node)
        if node.id in self.structures or node.id in self.aliases:
            if not isinstance(node.ctx, ast.Load):
                raise self.error(
                    f"'{node.id}' holds a structure and is assigned here; a structured parameter and the names for "
                    "its parts cannot be rebound",
                    node,
                    "use a new name",
                )
            part = self.part(node)
            assert part is not None
            return self.leaf(node, part)
        return node

    def visit_Subscript(self, node: ast.Subscript) -> ast.AST:
        part = self.part(node)
        return self.generic_visit(node) if part is None else self.leaf(node, part)

    def visit_Attribute(self, node: ast.Attribute) -> ast.AST:
        part = self.part(node)
        return self.generic_visit(node) if part is None else self.leaf(node, part)

    def visit_Call(self, node: ast.Call) -> ast.AST:
        parts = [self.part(a) for a in node.args] + [self.part(k.value) for k in node.keywords]
        whole = [p for p in parts if p is not None and isinstance(p[2], Node)]
        func = node.func
        if isinstance(func, ast.Name) and len(node.args) == 1 and not node.keywords and whole and self.builtin(func.id, "len"):
            spec = whole[0][2]
            assert isinstance(spec, Node)
            if spec.kind != "dataclass":
                return ast.copy_location(ast.Constant(len(spec.keys)), node)
        if isinstance(func, ast.Name):
            helper = None if func.id in self.stores else self.parsed.resolve(func.id)
            if isinstance(helper, Helper):
                if whole:
                    return self.helper_call(node, func, helper)
                self.calls.setdefault(func.id, []).append((func, None))
        return self.generic_visit(node)

    def builtin(self, name: str, spelling: str) -> bool:
        found = self.parsed.resolve(name) if name not in self.stores else None
        return isinstance(found, Callee) and found.spelling == spelling

    def helper_call(self, node: ast.Call, func: ast.Name, helper: Helper) -> ast.AST:
        """A call passing parts of structures to a helper of the user's: the helper is read for those parts,
        and the call passes it the leaves it reads."""
        if func.id in self.stack:
            raise self.error(f"recursive call to '{func.id}' cannot be differentiated", node, "rewrite the recursion as a loop")
        inner = helper.load()
        positional = [p.arg for p in (*inner.node.args.posonlyargs, *inner.node.args.args)]
        given = self.given(node, func.id, inner)
        structures = {name: part[2] for name, part in given.items() if isinstance(part[2], Node)}
        key = (func.id, tuple(sorted(structures.items(), key=lambda item: item[0])))
        if key not in self.variants:
            sub = _Flattener(inner, structures, (*self.stack, func.id))
            rewritten, read = sub.run(set())
            made = tuple(leaf for leaf in sub.all_leaves() if (leaf.param, leaf.path) in read)
            self.variants[key] = (func.id, rewritten, made)
        _, _, made = self.variants[key]

        def passed(name: str) -> list[tuple[str, ast.expr]]:
            param, path, _ = given[name]
            out: list[tuple[str, ast.expr]] = []
            for leaf in made:
                if leaf.param == name:
                    self.read.add((param, (*path, *leaf.path)))
                    out.append((leaf.name, ast.Name(id=self.names[(param, (*path, *leaf.path))], ctx=ast.Load())))
            return out

        args: list[ast.expr] = []
        for index, arg in enumerate(node.args):
            if index < len(positional) and positional[index] in given:
                args += [ast.copy_location(value, arg) for _, value in passed(positional[index])]
            else:
                args.append(self.visit(arg))
        keywords: list[ast.keyword] = []
        for keyword in node.keywords:
            if keyword.arg is not None and keyword.arg in given:
                keywords += [
                    ast.copy_location(ast.keyword(arg=n, value=ast.copy_location(v, keyword.value)), keyword)
                    for n, v in passed(keyword.arg)
                ]
            else:
                keywords.append(ast.copy_location(ast.keyword(arg=keyword.arg, value=self.visit(keyword.value)), keyword))
        call = ast.copy_location(
            ast.Call(func=ast.copy_location(ast.Name(id=func.id, ctx=ast.Load()), func), args=args, keywords=keywords), node
        )
        assert isinstance(call.func, ast.Name)
        self.calls.setdefault(func.id, []).append((call.func, key))
        return call

    def given(self, node: ast.Call, name: str, inner: ParsedFunction) -> dict[str, Part]:
        """The helper's parameters a call passes structures to, and what it passes them."""
        params = inner.node.args
        positional = [p.arg for p in (*params.posonlyargs, *params.args)]
        named = {p.arg for p in (*params.args, *params.kwonlyargs)}
        given: dict[str, Part] = {}
        for index, arg in enumerate(node.args):
            part = self.part(arg) if not isinstance(arg, ast.Starred) else None
            if part is not None and isinstance(part[2], Node):
                if index >= len(positional):
                    raise self.error(f"'{name}' takes {len(positional)} positional argument(s), {len(node.args)} given", node)
                given[positional[index]] = part
        for keyword in node.keywords:
            part = self.part(keyword.value) if keyword.arg is not None else None
            if part is not None and isinstance(part[2], Node):
                if keyword.arg not in named:
                    raise self.error(f"'{name}' has no parameter '{keyword.arg}'", keyword.value)
                assert keyword.arg is not None
                given[keyword.arg] = part
        return given

    def visit_AugAssign(self, node: ast.AugAssign) -> ast.AST:
        part = self.part(node.target)
        if part is not None:
            raise self.error(
                f"{quoted(ast.unparse(node.target))} is written; writing into a structured parameter would change the caller's "
                "argument",
                node.target,
                "compute into a local name instead",
            )
        return self.generic_visit(node)

    def visit_FunctionDef(self, node: ast.FunctionDef) -> ast.AST:
        return node  # refused by the lowering, with its own message

    def error(self, message: str, node: ast.AST | None, hint: str | None = None) -> S2SError:
        return self.parsed.source.error(UnsupportedError, message, node, hint)
