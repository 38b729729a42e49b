"""Structured parameters ("pytrees"): what the structure of an argument is, and which functions read one.

A parameter may arrive as a dict of numbers, lists of numbers or NumPy
arrays (`params["W1"]`), a tuple or list of such values, a `NamedTuple`, a
dataclass, or these nested. `describe` turns an argument into a `Node` (the
structure: its kind, its keys in order, its class) whose leaves are `Leaf`s
(a number, a list of numbers, an array: what a plain parameter can be). The
lowering then reads each leaf the function reads as a parameter of its own
(`lower.structures`), and the generated code takes the structure itself and
returns a gradient of the same structure.

A description holds only what the code generated for it depends on (the
keys, the classes, list depths, an array's element kind and which of its
sizes are 1), so it is also the key a specialised gradient is kept under.
`reads_structures` tells from the source alone whether a function reads a
parameter as a structure (`p["w"]`, `p.w`), so that its gradient waits for
the first call, which says what the structure is.
"""

from __future__ import annotations

import ast
import dataclasses
import numbers
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from ..errors import S2SError, UnsupportedError
from . import tree
from .parsed import ARRAY_ATTRIBUTES, Helper, ParsedFunction
from .tree import function_nodes

Key = str | int  # a dict's key, a tuple's or list's position, a field's name


@dataclass(frozen=True)
class Leaf:
    """What a plain parameter can be: a number, a list of numbers (`depth` levels), a NumPy array."""

    kind: str  # "number", "list" or "array"
    depth: int = 0  # a list's: 2 for a list of lists
    dtype: str = ""  # an array's element kind: "f", "i", "u" or "b"
    shape: tuple[int, ...] = ()  # an array's: 1 where the argument's size is 1, 2 for any other size


@dataclass(frozen=True)
class Node:
    """A structure: a dict, tuple, list, NamedTuple or dataclass, with its keys (positions, field names) in order."""

    kind: str  # "dict", "tuple", "list", "namedtuple", "dataclass", or "none" (None: nothing in it, as in JAX)
    keys: tuple[Key, ...]
    children: tuple[Spec, ...]
    cls: type | None = field(default=None)  # the NamedTuple or dataclass

    def child(self, key: Key) -> Spec:
        return self.children[self.keys.index(key)]

    @property
    def what(self) -> str:
        """How a message names it: "a dict", "a NamedTuple P", "a dataclass P"."""
        if self.cls is not None:
            return f"{'a NamedTuple' if self.kind == 'namedtuple' else 'a dataclass'} {self.cls.__name__}"
        return {"dict": "a dict", "tuple": "a tuple", "list": "a list", "none": "None"}[self.kind]


Spec = Leaf | Node


class NotAStructure(Exception):
    """An argument holds something a gradient cannot be taken of: `where` says which part, `what` what it is."""

    def __init__(self, where: str, what: str, hint: str | None = None) -> None:
        super().__init__(where, what)
        self.where, self.what, self.hint = where, what, hint


def is_structure(value: object) -> bool:
    """Whether an argument is a structure (not a number, a list of numbers or an array, which are plain
    parameters): a dict, a NamedTuple, a dataclass, or a tuple or list that is not a list of numbers."""
    if isinstance(value, dict) or _is_namedtuple(value) or _is_dataclass(value):
        return True
    return isinstance(value, (list, tuple)) and _list_depth(value) is None


def describe(value: object, where: str) -> Spec:
    """The structure of `value` (`where` is how a message names it: `params`, `params["W1"]`).

    None is a structure with nothing in it (its gradient is None, as in JAX).
    Raises `NotAStructure` for a part that is none of these kinds (a string, an
    object, a dict subclass, a key that is not a str or an int).
    """
    if _is_ndarray(value):
        kind = value.dtype.kind  # type: ignore[attr-defined]  # a NumPy array
        if kind not in "fiub":
            raise NotAStructure(where, f"an array of {value.dtype}")  # type: ignore[attr-defined]
        return Leaf("array", dtype=kind, shape=tuple(1 if size == 1 else 2 for size in value.shape))  # type: ignore[attr-defined]
    if isinstance(value, numbers.Real):
        return Leaf("number")
    if value is None:  # an entry left empty (`{"W": W, "b": None}`): its gradient is None
        return Node("none", (), ())
    if type(value) is list:
        depth = _list_depth(value)
        if depth is not None:
            return Leaf("list", depth=depth)
        return Node("list", tuple(range(len(value))), tuple(describe(v, f"{where}[{k}]") for k, v in enumerate(value)))
    if _is_namedtuple(value):
        assert isinstance(value, tuple)
        names = tuple(type(value)._fields)  # type: ignore[attr-defined]  # a NamedTuple's
        children = tuple(describe(v, f"{where}.{n}") for n, v in zip(names, value))
        return Node("namedtuple", names, children, type(value))
    if type(value) is tuple:
        return Node("tuple", tuple(range(len(value))), tuple(describe(v, f"{where}[{k}]") for k, v in enumerate(value)))
    if type(value) is dict:
        for key in value:
            if type(key) not in (str, int):
                raise NotAStructure(f"{where}[{key!r}]", f"a key of type {type(key).__name__}", "use str or int keys")
        return Node("dict", tuple(value), tuple(describe(v, f"{where}[{literal(k)}]") for k, v in value.items()))
    if _is_dataclass(value):
        return _dataclass(value, where)
    if isinstance(value, dict):
        raise NotAStructure(where, f"a {type(value).__name__} (a dict subclass)", "pass a plain dict")
    raise NotAStructure(
        where,
        f"a {type(value).__name__}",
        "a structured parameter holds numbers, lists of numbers and NumPy arrays (in dicts, tuples, lists, "
        "NamedTuples and dataclasses); pass anything else outside it",
    )


def _dataclass(value: object, where: str) -> Node:
    fields = dataclasses.fields(value)  # type: ignore[arg-type]  # an instance, not the class
    for f in fields:
        if not f.init:
            raise NotAStructure(
                f"{where}.{f.name}",
                f"a field with init=False of the dataclass {type(value).__name__}",
                "a gradient shaped like the argument is built with dataclasses.replace, which sets only init fields",
            )
    children = tuple(describe(getattr(value, f.name), f"{where}.{f.name}") for f in fields)
    return Node("dataclass", tuple(f.name for f in fields), children, type(value))


def structures_of(parsed: ParsedFunction, args: Sequence[object], kwargs: Mapping[str, object]) -> dict[str, Node]:
    """The structured arguments of a call, by parameter name (the data parameters, `self` of a method read off
    its class, are never structures). A part of one that cannot be differentiated is refused, naming it."""
    node = parsed.node.args
    names = [a.arg for a in (*node.posonlyargs, *node.args, *node.kwonlyargs)]
    found: dict[str, Node] = {}
    for name, value in [*zip(names, args), *kwargs.items()]:
        if name in parsed.data_params or not is_structure(value):
            continue
        try:
            spec = describe(value, name)
        except NotAStructure as refused:
            raise parsed.source.error(
                UnsupportedError,
                f"'{refused.where}' is {refused.what}, which cannot be part of a differentiated parameter",
                parsed.node,
                refused.hint,
            ) from None
        assert isinstance(spec, Node)
        found[name] = spec
    return found


def structure_key(value: object) -> object:
    """What a gradient generated for a structured argument depends on: its description (hashable); for an
    argument that cannot be described, its type (the build then says what is wrong with it)."""
    try:
        return describe(value, "")
    except NotAStructure:
        return type(value)


def access(base: str, node: Node, key: Key) -> str:
    """Python reading `key` of the structure `base` holds: `p["w"]`, `p[0]`, `p.w`."""
    if node.kind in ("namedtuple", "dataclass"):
        return f"{base}.{key}"
    return f"{base}[{literal(key)}]"


def literal(key: Key) -> str:
    """A key as Python source, a string in double quotes where it reads the same: `"w"`, `0`."""
    if isinstance(key, str) and key.isprintable() and '"' not in key and "\\" not in key:
        return f'"{key}"'
    return repr(key)


def leaves(spec: Spec, path: tuple[Key, ...] = ()) -> list[tuple[tuple[Key, ...], Leaf]]:
    """Every leaf of a structure with its path, in order (a dict's insertion order, positions, fields)."""
    if isinstance(spec, Leaf):
        return [(path, spec)]
    return [found for key, child in zip(spec.keys, spec.children) for found in leaves(child, (*path, key))]


# -- which functions read a parameter as a structure -----------------------------


def reads_structures(parsed: ParsedFunction) -> bool:
    """Whether the function (or a helper it calls) reads a parameter as a structure: `p["w"]` (a string key)
    or `p.w` (an attribute that is not an array's, and not a method called). Its gradient then depends on
    the structure of the argument, known at the first call."""
    return structure_read(parsed) is not None


def structure_read(parsed: ParsedFunction, seen: frozenset[str] = frozenset()) -> tuple[ParsedFunction, ast.expr] | None:
    """The first read of a parameter as a structure (see `reads_structures`), and the function it is in."""
    params = _parts_of_parameters(parsed)
    every = function_nodes(parsed.node)
    called = {id(n.func) for n in every if isinstance(n, ast.Call)}  # `xs.append(...)` is a method, not a field
    candidates = [
        n
        for n in every
        if (isinstance(n, ast.Subscript) and isinstance(n.slice, ast.Constant) and isinstance(n.slice.value, str))
        or (isinstance(n, ast.Attribute) and n.attr not in ARRAY_ATTRIBUTES and id(n) not in called)
        or (isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id not in seen)
    ]
    candidates.sort(key=lambda n: (n.lineno, n.col_offset))  # type: ignore[attr-defined]
    checked: set[str] = set()  # helpers already read (a helper called on many lines is read once)
    for node in candidates:
        if isinstance(node, ast.Subscript | ast.Attribute):
            if _root_name(node.value) in params:
                return parsed, node
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id not in checked:
            checked.add(node.func.id)
            found = parsed.resolve(node.func.id)
            if isinstance(found, Helper):
                try:
                    inner = found.load()
                except S2SError:
                    continue
                read = structure_read(inner, seen | {node.func.id, parsed.name})
                if read is not None:
                    return read
    return None


def _parts_of_parameters(parsed: ParsedFunction) -> set[str]:
    """The parameters (not the data ones), and the local names that may hold a part of one: a loop variable over one
    (`for layer in layers`, also through enumerate, zip and reversed), a name assigned an entry (`first = p[0]`)."""
    names = {a.arg for a in (*parsed.node.args.posonlyargs, *parsed.node.args.args, *parsed.node.args.kwonlyargs)}
    names -= set(parsed.data_params)
    bindings: list[tuple[ast.expr, ast.expr]] = []
    for node in function_nodes(parsed.node):
        if isinstance(node, (ast.For, ast.comprehension)):
            bindings.append((node.target, node.iter))
        elif isinstance(node, ast.Assign):
            bindings += [(target, node.value) for target in node.targets]
    while True:
        grown = set(names)
        for target, value in bindings:
            roots = [value]
            if (
                isinstance(value, ast.Call)
                and isinstance(value.func, ast.Name)
                and value.func.id in ("enumerate", "zip", "reversed")
            ):
                roots = list(value.args)
            if any(_root_name(r) in grown for r in roots if isinstance(r, (ast.Name, ast.Subscript, ast.Attribute))):
                grown |= {n.id for n in ast.walk(target) if isinstance(n, ast.Name)}
        if grown == names:
            return names
        names = grown


def may_be_structured(parsed: ParsedFunction) -> bool:
    """Whether a parameter is read the way a tuple is, and only so: unpacked (`w, b = params`) or read at constant
    positions (`params[0]`, `params[-1]`), never written, iterated or indexed otherwise. Such a parameter may be a
    NamedTuple, a dict with int keys or a tuple of a list and a number, which only the argument tells from a list of
    numbers: its gradient waits for the first call (a list of numbers then gets the code it always got)."""
    params = {a.arg for a in (*parsed.node.args.posonlyargs, *parsed.node.args.args, *parsed.node.args.kwonlyargs)}
    params -= set(parsed.data_params)
    as_tuple: dict[str, bool] = {}
    named = [n for n in function_nodes(parsed.node) if isinstance(n, ast.Name) and n.id in params]
    parents = tree.parents(parsed.node) if named else {}
    for node in named:
        parent = parents.get(id(node))
        unpacked = (
            isinstance(parent, ast.Assign) and parent.value is node and isinstance(parent.targets[0], (ast.Tuple, ast.List))
        ) or _unpacked_by_a_loop(node, parent, parents)
        index = parent.slice if isinstance(parent, ast.Subscript) else None
        if isinstance(index, ast.UnaryOp) and isinstance(index.op, ast.USub):  # `params[-1]`
            index = index.operand
        constant = isinstance(parent, ast.Subscript) and parent.value is node and isinstance(index, ast.Constant)
        constant = constant and type(getattr(index, "value", None)) is int
        top: ast.AST = node  # what the chain of reads `params[0][1].x` ends in: read, not written or called
        while isinstance(above := parents.get(id(top)), (ast.Subscript, ast.Attribute)) and above.value is top:
            top = above
        read = isinstance(getattr(top, "ctx", None), ast.Load) and not isinstance(top, ast.Attribute)
        as_tuple[node.id] = as_tuple.get(node.id, True) and (unpacked or (constant and read))
    return any(as_tuple.values())


def _unpacked_by_a_loop(node: ast.Name, parent: ast.AST | None, parents: dict[int, ast.AST]) -> bool:
    """`for w, b in layers`, `for i, (w, b) in enumerate(layers)`: each item of the parameter is unpacked (a list
    of `(W, b)` pairs, or of pairs of numbers: the argument tells)."""
    if isinstance(parent, (ast.For, ast.comprehension)) and parent.iter is node:
        return isinstance(parent.target, (ast.Tuple, ast.List))
    call = parent
    if isinstance(call, ast.Call) and isinstance(call.func, ast.Name) and call.func.id == "enumerate" and call.args[:1] == [node]:
        loop = parents.get(id(call))
        if isinstance(loop, (ast.For, ast.comprehension)) and loop.iter is call and isinstance(loop.target, ast.Tuple):
            return len(loop.target.elts) == 2 and isinstance(loop.target.elts[1], (ast.Tuple, ast.List))
    return False


def _root_name(expr: ast.expr) -> str | None:
    """The name under a chain of subscripts and attributes: `p["a"][0].w` -> "p"."""
    while isinstance(expr, (ast.Subscript, ast.Attribute)):
        expr = expr.value
    return expr.id if isinstance(expr, ast.Name) else None


# -- kinds of values --------------------------------------------------------------


def _is_ndarray(value: object) -> bool:
    """A NumPy array (told without importing NumPy: only a program that made one has it loaded)."""
    return type(value).__name__ == "ndarray" and type(value).__module__ == "numpy"


def _is_namedtuple(value: object) -> bool:
    return isinstance(value, tuple) and hasattr(type(value), "_fields") and hasattr(value, "_replace")


def _is_dataclass(value: object) -> bool:
    return dataclasses.is_dataclass(value) and not isinstance(value, type)


def _list_depth(value: object) -> int | None:
    """How deeply a list (or tuple) of numbers nests: 1 for numbers, 2 for lists of lists of numbers; None
    for anything else (a mix, or something that is not a number), which is a structure."""
    if isinstance(value, (bool, int, float)) or (isinstance(value, numbers.Real) and not _is_ndarray(value)):
        return 0
    if type(value) not in (list, tuple):
        return None
    assert isinstance(value, (list, tuple))
    depths = {_list_depth(v) for v in value}
    if not depths:
        return 1
    if len(depths) != 1 or None in depths:
        return None
    (depth,) = depths
    assert depth is not None
    return depth + 1
