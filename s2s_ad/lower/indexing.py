"""Indexing arrays: reading `x[i]`, `x[i, j]`, `x[:, 1]`, `x[1:n:2]`, `x[:, None]`, `E[ids]`, and writing
`h[t + 1] = ...` into an array the function made.

The index is written into the spelling of a rule made for it (`"{0}[{1}, :]"`,
rules/arrays.py `index_rules`), its names and numbers the rule's operands. A
write is a new value, `h_1 = _put(h, key, value)`: the array with that place
replaced, a copy, so that every earlier version stays what the reverse sweep
reads. The array must be the function's own and no other name's: a write
into a parameter or through a view would change what another name holds.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

from .. import ir
from ..errors import UnsupportedError
from ..ir import FLOAT, INT, ArrayOf, Assign, Const, Operand, Type, Var
from ..rules.arrays import index_rules, put_rules
from ..rules.shapes import UNKNOWN, dims
from .base import LoweringBase
from .scope import Scope, Value


@dataclass
class _Index:
    texts: list[str]  # each part as the spelling writes it: "{1}", ":", "{2}:{3}", "None"
    operands: list[Operand]  # the names and numbers in it
    shape: tuple[ir.Dim, ...]  # what the index selects
    advanced: bool  # an array of ints among the parts

    @property
    def pattern(self) -> str:
        return "{0}[" + ", ".join(self.texts) + "]"


class Indexing(LoweringBase):
    """Reading and writing arrays at an index (and making the values of array operations)."""

    def array_op(self, op: str, args: tuple[Operand, ...], type_: Type | None = None) -> Value:
        rule = self.rules[op]
        types = tuple(self.operand_type(a) for a in args)
        result = type_ if type_ is not None else rule.type_for(types, args)
        target = self.namer.temp()
        self.types[target] = result
        self.out.append(Assign(target, op, args, result, self.loc))
        if rule.view and args and isinstance(args[0], Var):  # a view of an array: its memory, if it gets a name
            self.views[target] = args[0].name
        return Value(Var(target), result)

    def operand_type(self, operand: Operand) -> Type:
        if isinstance(operand, Const):
            return ir.const_type(operand.value)
        if isinstance(operand, ir.Global):
            return operand.type
        return self.types.get(operand.name, FLOAT)

    def array_index(self, x: Value, index: ast.expr, scope: Scope, node: ast.AST) -> Value:
        """`x[i]`, `x[i, j]`, `x[:, 1]`, `x[1:n:2]`, `x[:, None]`, `E[ids]`: the index written into the rule's
        spelling, its names and numbers as operands."""
        found = self.index_of(x, index, scope, node)
        for op, rule in index_rules(found.pattern, found.advanced).items():
            self.created.setdefault(op, rule)
        elem = x.type.elem if isinstance(x.type, ArrayOf) else FLOAT  # an array of ints gives ints
        type_: Type = ArrayOf(elem, found.shape) if found.shape else elem
        return self.array_op(f"getitem {found.pattern}", (x.operand, *found.operands), type_)

    def array_store(self, name: str, index: ast.expr, value: Value, scope: Scope, node: ast.AST) -> None:
        """`h[t + 1] = v`: `h` is now `_put(h, key, v)`, a new array with that place replaced."""
        current = scope[name]
        assert isinstance(current, Value)
        if isinstance(current.operand, Var) and current.operand.name in self.shared:
            raise self.error(
                UnsupportedError,
                f"writing into the array '{name}', which another name (a parameter, a copy, a view) or a list may hold too, "
                "cannot be differentiated",
                node,
                f"make '{name}' the function's own first (np.zeros, np.array(...), or {name} = {name} + 0.0)",
            )
        if isinstance(value.type, ir.ListOf):
            raise self.error(UnsupportedError, "a list cannot be written into an array", node)
        found = self.index_of(current, index, scope, node)
        if found.advanced:
            raise self.error(
                UnsupportedError, "writing through an array of indices is not supported", node, "write one place at a time"
            )
        slot: Type = ArrayOf(FLOAT, found.shape) if found.shape else FLOAT
        op, rules = put_rules(found.texts, slot)
        for key, rule in rules.items():
            self.created.setdefault(key, rule)
        for key, rule in index_rules(found.pattern, False).items():
            self.created.setdefault(key, rule)
        if isinstance(current.operand, Var):
            self.augmented.add(current.operand.name)
        stored = self.array_op(op, (current.operand, *found.operands, value.operand), current.type)
        scope[name] = self.named(name, stored)

    def index_of(self, x: Value, index: ast.expr, scope: Scope, node: ast.AST) -> _Index:
        """The parts of an index, lowered."""
        parts = list(index.elts) if isinstance(index, ast.Tuple) else [index]
        shape = list(dims(x.type))
        texts: list[str] = []
        operands: list[Operand] = []
        result: list[ir.Dim] = []
        advanced = False
        axis = 0

        def hole(value: Value) -> str:
            operands.append(value.operand)
            return f"{{{len(operands)}}}"

        if any(isinstance(p, ast.Constant) and p.value is Ellipsis for p in parts):  # `x[..., 0]`: as many `:` as it takes
            at = next(k for k, p in enumerate(parts) if isinstance(p, ast.Constant) and p.value is Ellipsis)
            named = [p for p in parts if not (isinstance(p, ast.Constant) and p.value in (None, Ellipsis))]
            full = ast.Slice(None, None, None)
            parts = parts[:at] + [full] * max(0, len(shape) - len(named)) + parts[at + 1 :]
        for part in parts:
            if isinstance(part, ast.Constant) and part.value is None or self.is_newaxis(part, scope):
                texts.append("None")
                result.append(1)
                continue
            if axis >= len(shape):
                raise self.error(UnsupportedError, "too many indices for this array", node)
            if isinstance(part, ast.Slice):
                bounds = [
                    b and hole(self.integer(self.expr(b, scope), b, "a slice")) for b in (part.lower, part.upper, part.step)
                ]
                text = f"{bounds[0] or ''}:{bounds[1] or ''}" + (f":{bounds[2]}" if bounds[2] else "")
                texts.append(text)
                result.append(shape[axis] if text == ":" else UNKNOWN)
            else:
                value = self.expr(part, scope)
                if value.type == INT or value.type == ir.BOOL:
                    texts.append(hole(value))
                elif isinstance(value.type, ArrayOf) and value.type.elem == INT:
                    texts.append(hole(value))
                    if not advanced:  # arrays of ints index together: the result has their (broadcast) shape
                        result.extend(dims(value.type))
                    advanced = True
                elif isinstance(value.type, ArrayOf) and value.type.elem == ir.BOOL and len(parts) == 1:
                    masked = len(dims(value.type))  # `x[x > 0]`: the elements where the mask is true, in order
                    if not 1 <= masked <= len(shape):
                        raise self.error(UnsupportedError, "this mask has more axes than the array", part)
                    texts.append(hole(value))
                    result.append(UNKNOWN)
                    axis += masked - 1
                    advanced = True
                elif isinstance(value.type, ArrayOf) and value.type.elem == ir.BOOL:
                    raise self.error(
                        UnsupportedError, "a boolean mask beside other indices is not supported", part, "index in two steps"
                    )
                else:
                    raise self.error(UnsupportedError, "an array index must be a whole number, a slice or an array of ints", part)
            axis += 1
        result.extend(shape[axis:])
        if advanced and any(":" in t or t == "None" for t in texts):
            raise self.error(
                UnsupportedError, "an index that mixes arrays of ints with slices is not supported", node, "index in two steps"
            )
        return _Index(texts, operands, tuple(result), advanced)

    def is_newaxis(self, part: ast.expr, scope: Scope) -> bool:
        from ..frontend import NumpyModule  # here: the frontend's kinds of names, read by this one check

        return (
            isinstance(part, ast.Attribute)
            and part.attr == "newaxis"
            and isinstance(part.value, ast.Name)
            and part.value.id not in scope
            and isinstance(self.parsed.resolve(part.value.id), NumpyModule)
        )
