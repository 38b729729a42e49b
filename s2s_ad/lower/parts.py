"""Names for parts of structured parameters: unpacking, a name assigned a part, loops over structures unrolled.

Part of the pre-pass of `lower.structures`. A part of a structure that is a
structure itself is not a value the lowering can hold, so a name given one
(`layer = params["layer1"]`, `w, b = params`, `for W, b in layers:`) is
remembered as another name for that part, and its reads are read through it.
A loop over a tuple or list of structures is unrolled, one copy of its body
per element, so each copy reads the parts of its own element; `enumerate`
gives each copy its position as a constant, `zip` several structures side by
side, `reversed` the elements in reverse. So is `for i in range(len(layers))`
whose body reads `layers[i]`: in each copy `i` is a constant, and so is a
key computed from it (`layers[-1 - i]`).
"""

from __future__ import annotations

import ast
import copy
from collections import Counter
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from ..errors import S2SError
from ..frontend.structures import Key, Leaf, Node, Spec, leaves

Path = tuple[Key, ...]
Part = tuple[str, Path, Spec]  # a parameter, a path in it, what is there
Element = Part | ast.expr | list["Element"]  # what a loop over structures binds: a part, a position, several side by side
POSITIONS = 256  # the longest `for i in range(...)` unrolled to read a structure at `i`


def quoted(text: str) -> str:
    """Source text quoted for a message: in double quotes where it holds a single one (`"p['w']"`)."""
    return f'"{text}"' if "'" in text else f"'{text}'"


class PartNames(ast.NodeTransformer):
    """Assignments and loops of the pre-pass (`structures._Flattener` is made of this and the reads)."""

    if TYPE_CHECKING:  # the reads, defined in `structures._Flattener`
        structures: Mapping[str, Node]
        names: dict[tuple[str, Path], str]
        aliases: dict[str, Part]
        constants: dict[str, ast.expr]
        read: set[tuple[str, Path]]
        stores: Counter[str]
        straight: set[int]
        parents: dict[int, ast.AST]

        def part(self, expr: ast.expr) -> Part | None: ...
        def whole(self, expr: ast.expr, node: Node) -> S2SError: ...
        def builtin(self, name: str, spelling: str) -> bool: ...
        def statements(self, body: list[ast.stmt]) -> list[ast.stmt]: ...
        def error(self, message: str, node: ast.AST | None, hint: str | None = None) -> S2SError: ...

    def visit_Assign(self, node: ast.Assign) -> ast.AST | list[ast.stmt] | None:
        part = self.part(node.value)
        if part is None or isinstance(part[2], Leaf):
            return self.generic_visit(node)
        if len(node.targets) != 1:
            raise self.error("a structure cannot be assigned to several names at once", node)
        return self.bind(node.targets[0], part, node) or None

    def visit_AnnAssign(self, node: ast.AnnAssign) -> ast.AST | list[ast.stmt] | None:
        part = self.part(node.value) if node.value is not None else None
        if part is None or isinstance(part[2], Leaf):
            return self.generic_visit(node)
        return self.bind(node.target, part, node) or None

    def visit_ListComp(self, node: ast.ListComp) -> ast.AST:
        return self.comprehension_over(node) or self.generic_visit(node)

    def visit_GeneratorExp(self, node: ast.GeneratorExp) -> ast.AST:
        return self.comprehension_over(node) or self.generic_visit(node)

    def comprehension_over(self, node: ast.ListComp | ast.GeneratorExp) -> ast.expr | None:
        """`[f(layer) for layer in layers]`, `sum(... for ... in layers)` over a structure: the list of what it
        computes for each element, `[f(layers[0]), f(layers[1])]` (None for a comprehension over anything else)."""
        if len(node.generators) != 1:
            return None
        generator = node.generators[0]
        elements = self.elements(generator.iter)
        if elements is None:
            return None
        if generator.ifs:
            raise self.error(
                "a comprehension over a structure with a condition is not supported", generator.ifs[0], "write a loop"
            )
        items: list[ast.expr] = []
        for element in elements:
            saved = dict(self.aliases), dict(self.constants)
            self.substitute(generator.target, element)
            expr = copy.deepcopy(node.elt)
            for inner in ast.walk(expr):
                for child in ast.iter_child_nodes(inner):
                    self.parents[id(child)] = inner
            items.append(self.visit(expr))
            self.aliases, self.constants = saved
        return ast.copy_location(ast.List(items, ast.Load()), node)

    def substitute(self, target: ast.expr, element: Element) -> None:
        """The comprehension variable `target` standing for one element: a part, a position, several side by side."""
        if isinstance(target, ast.Name):
            if isinstance(element, list):
                raise self.error(f"{quoted(target.id)} would hold a tuple here; unpack it", target)
            if isinstance(element, ast.expr):
                self.constants[target.id] = element
            else:
                self.aliases[target.id] = element
            return
        if isinstance(target, (ast.Tuple, ast.List)) and not any(isinstance(t, ast.Starred) for t in target.elts):
            parts: list[Element] = []
            if isinstance(element, list):
                parts = element
            elif isinstance(element, tuple):
                param, path, node = element
                if isinstance(node, Node) and node.kind in ("tuple", "list", "namedtuple"):
                    parts = [(param, (*path, key), child) for key, child in zip(node.keys, node.children)]
            if len(parts) == len(target.elts):
                for t, e in zip(target.elts, parts):
                    self.substitute(t, e)
                return
        raise self.error(f"{quoted(ast.unparse(target))} does not unpack the elements of the structure", target)

    def visit_For(self, node: ast.For) -> ast.AST | list[ast.stmt]:
        elements = self.elements(node.iter)
        if elements is None:
            elements = self.positions(node)
        if elements is None:
            return self.generic_visit(node)
        for child in _own_statements(node.body):
            if isinstance(child, (ast.Break, ast.Continue)):
                raise self.error(
                    f"'{type(child).__name__.lower()}' in a loop over a structure: such a loop is unrolled, one copy of "
                    "its body per element",
                    child,
                    "use an `if` around the rest of the body instead",
                )
        straight = id(node) in self.straight
        assigned = _assigned(node.body)  # a position is a constant in its copy of the body unless the body assigns it
        out: list[ast.stmt] = []
        for element in elements:
            bound = self.bind(node.target, element, node, loop=True)
            body = copy.deepcopy(node.body)
            for parent in [*bound, *body]:
                for inner in ast.walk(parent):
                    for child in ast.iter_child_nodes(inner):
                        self.parents[id(child)] = inner
            if straight:
                self.straight |= {id(stmt) for stmt in body}
            saved = dict(self.constants)
            self.constants.update((n, c) for n, c in _constants(node.target, element) if n not in assigned)
            out += bound + self.statements(body)
            self.constants = saved
        if not straight:
            for name in _names(node.target):
                self.aliases.pop(name, None)
        out += self.statements(node.orelse)
        return out or [ast.copy_location(ast.Pass(), node)]

    def positions(self, node: ast.For) -> list[Element] | None:
        """`for i in range(len(layers))` whose body reads a structure at `i` (`layers[i]`): the positions, each a
        constant in its copy of the body, where the bounds are constants; None for any other loop."""
        call, target = node.iter, node.target
        if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Name) and call.func.id == "range"):
            return None
        if call.keywords or not 1 <= len(call.args) <= 3 or not self.builtin("range", "range"):
            return None
        if not isinstance(target, ast.Name) or target.id in _assigned(node.body):
            return None
        indexed = [
            n.value
            for stmt in node.body
            for n in ast.walk(stmt)
            if isinstance(n, ast.Subscript) and isinstance(n.slice, ast.Name) and n.slice.id == target.id
        ]
        if not any((part := self.part(v)) is not None and isinstance(part[2], Node) for v in indexed):
            return None
        bounds = [self.whole_number(a) for a in call.args]
        if any(b is None for b in bounds):
            return None
        found = range(*(b for b in bounds if b is not None))
        return [ast.Constant(k) for k in found] if len(found) <= POSITIONS else None

    def whole_number(self, expr: ast.expr) -> int | None:
        """A range bound known from the source: a constant, or `len` of a structure."""
        if isinstance(expr, ast.Constant) and type(expr.value) is int:
            return expr.value
        if isinstance(expr, ast.UnaryOp) and isinstance(expr.op, ast.USub):
            inner = self.whole_number(expr.operand)
            return None if inner is None else -inner
        if isinstance(expr, ast.Call) and isinstance(expr.func, ast.Name) and len(expr.args) == 1 and not expr.keywords:
            part = self.part(expr.args[0]) if self.builtin(expr.func.id, "len") else None
            if part is not None and isinstance(part[2], Node) and part[2].kind != "dataclass":
                return len(part[2].keys)
        return None

    def elements(self, expr: ast.expr) -> list[Element] | None:
        """What a loop over a structure binds in turn: its parts (`for layer in layers`), with their positions
        (`enumerate`), several structures' parts side by side (`zip`), or in reverse (`reversed`); None where the loop
        is over something else."""
        if isinstance(expr, ast.Call) and isinstance(expr.func, ast.Name) and not expr.keywords:
            name = expr.func.id
            if name in ("enumerate", "zip", "reversed") and self.builtin(name, name):
                counted = expr.args[:1] if name == "enumerate" else expr.args
                inner = [self.elements(a) for a in counted]
                if not inner or all(i is None for i in inner):
                    return None
                if any(i is None for i in inner):
                    raise self.error(f"{quoted(ast.unparse(expr))} mixes a structure with other values", expr)
                found = [i for i in inner if i is not None]
                if name == "reversed" and len(found) == 1:
                    return found[0][::-1]
                if name == "enumerate" and len(expr.args) in (1, 2):
                    start = expr.args[1] if len(expr.args) == 2 else ast.Constant(0)
                    if not isinstance(start, ast.Constant) or type(start.value) is not int:
                        raise self.error("enumerate over a structure needs a constant start", start)
                    return [[ast.Constant(start.value + k), e] for k, e in enumerate(found[0])]
                if name == "zip":
                    if len({len(i) for i in found}) != 1:
                        raise self.error(f"{quoted(ast.unparse(expr))} zips structures of different lengths", expr)
                    return [list(row) for row in zip(*found)]
                raise self.error(f"{quoted(ast.unparse(expr))} over a structure is not supported", expr)
        part = self.part(expr)
        if part is None or isinstance(part[2], Leaf):
            return None
        param, path, node = part
        assert isinstance(node, Node)
        if node.kind not in ("tuple", "list", "namedtuple"):
            raise self.whole(expr, node)
        return [(param, (*path, key), child) for key, child in zip(node.keys, node.children)]

    def bind(self, target: ast.expr, value: Element, at: ast.stmt, loop: bool = False) -> list[ast.stmt]:
        """`target = value` where `value` is a part of a structure (or, in an unrolled loop, a list of what
        `enumerate` and `zip` give side by side): assignments of the leaves, and names for the structures (which
        assign nothing)."""
        if isinstance(value, ast.expr):
            return [ast.fix_missing_locations(ast.copy_location(ast.Assign([target], value), at))]
        if isinstance(value, list):
            if not isinstance(target, (ast.Tuple, ast.List)) or len(target.elts) != len(value):
                raise self.error(
                    f"{quoted(ast.unparse(target))} does not unpack what the loop gives ({len(value)} values)", target
                )
            return [s for t, v in zip(target.elts, value) for s in self.bind(t, v, at, loop)]
        param, path, spec = value
        if isinstance(spec, Leaf):
            leaf = ast.Name(id=self.names[(param, path)], ctx=ast.Load())
            self.read.add((param, path))
            return [ast.fix_missing_locations(ast.copy_location(ast.Assign([target], ast.copy_location(leaf, target)), at))]
        if isinstance(target, ast.Name):
            if self.stores[target.id] != 1 or target.id in self.structures:
                raise self.error(
                    f"'{target.id}' names a part of a structure here and is assigned elsewhere too",
                    target,
                    "give the part a name of its own, assigned once",
                )
            if not loop and id(at) not in self.straight:
                raise self.error(
                    f"'{target.id}' names a part of a structure inside a branch or a loop",
                    target,
                    "name it once, at the top of the function (or read the entries directly)",
                )
            self.aliases[target.id] = value
            return []
        if isinstance(target, ast.Starred) or (
            isinstance(target, (ast.Tuple, ast.List)) and any(isinstance(t, ast.Starred) for t in target.elts)
        ):
            raise self.error("starred unpacking of a structure is not supported", target, "unpack each entry by name")
        if not isinstance(target, (ast.Tuple, ast.List)):
            raise self.error(f"{quoted(ast.unparse(target))} cannot be assigned a structure", target)
        if spec.kind in ("dict", "dataclass"):
            raise self.error(
                f"unpacking {spec.what} into {quoted(ast.unparse(target))} is not supported",
                target,
                "read its entries by key or field instead",
            )
        if len(target.elts) != len(spec.keys):
            raise self.error(
                f"{quoted(ast.unparse(target))} unpacks {len(target.elts)} values, but the structure holds {len(spec.keys)}",
                target,
            )
        out: list[ast.stmt] = []
        for element, key, child in zip(target.elts, spec.keys, spec.children):
            out += self.bind(element, (param, (*path, key), child), at, loop)
        return out


def _own_statements(body: list[ast.stmt]) -> list[ast.AST]:
    """The nodes of a loop body outside the loops nested in it (whose `break` is their own)."""
    found: list[ast.AST] = []
    stack: list[ast.AST] = list(body)
    while stack:
        node = stack.pop()
        found.append(node)
        if isinstance(node, (ast.For, ast.While)):
            stack.extend(node.orelse)
            continue
        if isinstance(node, (ast.FunctionDef, ast.Lambda)):
            continue
        stack.extend(ast.iter_child_nodes(node))
    return found


def _constants(target: ast.expr, element: Element) -> list[tuple[str, ast.expr]]:
    """The names a loop binds to positions (`i` of `enumerate`, of `range`), with them."""
    if isinstance(target, ast.Name):
        return [(target.id, element)] if isinstance(element, ast.Constant) else []
    if isinstance(target, (ast.Tuple, ast.List)) and isinstance(element, list):
        return [found for t, e in zip(target.elts, element) for found in _constants(t, e)]
    return []


def _assigned(body: list[ast.stmt]) -> set[str]:
    return {n.id for stmt in body for n in ast.walk(stmt) if isinstance(n, ast.Name) and not isinstance(n.ctx, ast.Load)}


def _names(target: ast.expr) -> list[str]:
    return [n.id for n in ast.walk(target) if isinstance(n, ast.Name)]


def leaf_names(structures: Mapping[str, Node], taken: set[str]) -> dict[tuple[str, Path], str]:
    """A parameter name for every leaf: the parameter and the path, `params_layer1_W`; new in the function."""
    used = set(taken) | set(structures)
    names: dict[tuple[str, Path], str] = {}
    for param, structure in structures.items():
        for path, _ in leaves(structure):
            base = "_".join([param, *(_identifier(k) for k in path)])
            name = unused(base, lambda n: n in used)
            used.add(name)
            names[(param, path)] = name
    return names


def _identifier(key: Key) -> str:
    text = "".join(c if (c.isascii() and c.isalnum()) or c == "_" else "_" for c in str(key))
    return text or "_"


def unused(base: str, taken: Callable[[str], bool]) -> str:
    name, n = base, 1
    while taken(name):
        name, n = f"{base}_{n}", n + 1
    return name
