"""How numbers and primitives are written in pictures and traces: `2` rather than `2.0`, `x + y`, `max(y, z)`.

Shared by the DOT text, the trace and `Graph`'s repr, so that a value reads
the same everywhere; the golden files of pictures and traces depend on it.
A small NumPy array (at most `SMALL` elements) is written with its values,
`[[1, 2, 3], [4, 5, 6]]`; a larger one by its shape and the range of its
values, `array of shape (30, 40) in [-0.96, 0.96]`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from ..rules import RULES, Rule
from .nodes import Node

SMALL = 6  # arrays of at most this many elements are shown with their values


def _numpy_value(value: Any) -> bool:
    return type(value).__module__ == "numpy" and hasattr(value, "dtype")


def fmt(value: Any) -> str:
    """A number as a lecture slide writes it: 6 significant digits, `2` rather than `2.0`; a small array
    with its values, a larger one by its shape and range."""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, list):
        return "[" + ", ".join(fmt(v) for v in value) + "]"
    if _numpy_value(value):
        if not hasattr(value, "shape") or value.ndim == 0:
            return fmt(value.item())  # a NumPy number, a 0-d array
        if value.size <= SMALL:
            return "[" + ", ".join(fmt(v) for v in value) + "]"
        if value.dtype.kind not in "fiub":
            return f"array of shape {shape_text(value)}"
        return f"array of shape {shape_text(value)} in [{fmt(value.min())}, {fmt(value.max())}]"
    if isinstance(value, int | float):
        text = format(value, ".6g")
        return "0" if text == "-0" else text
    return str(value)


def shape_text(value: Any) -> str:
    """An array's shape as NumPy prints it, `(2,)`, `(2, 3)`; empty for a number."""
    if type(value).__name__ != "ndarray" or not _numpy_value(value):
        return ""
    return str(tuple(int(size) for size in value.shape))


def shaped(value: Any) -> str:
    """A value with its shape first where it is an array: `(2,) [0.761594, 0.761594]`."""
    shape = shape_text(value)
    text = fmt(value)
    return f"{shape} {text}" if shape and not text.startswith("array of shape") else text


def cell(value: Any) -> str:
    """A value in a picture, where an array's shape is written beside its name: a large array by the
    range of its values, `in [-0.96, 0.96]`."""
    text = fmt(value)
    prefix = f"array of shape {shape_text(value)} "
    return text.removeprefix(prefix) if shape_text(value) and text.startswith(prefix) else text


def point_text(point: Mapping[str, Any]) -> str:
    return ", ".join(f"{name} = {fmt(value)}" for name, value in point.items())


def gradient_text(gradient: Mapping[str, Any]) -> str:
    if gradient and all(v is None for v in gradient.values()):
        return "not computed"
    values = [fmt(v) for v in gradient.values()]
    return values[0] if len(values) == 1 else "(" + ", ".join(values) + ")"


def infix(op: str | None, drawn: bool = False, rules: Mapping[str, Rule] = RULES) -> str | None:
    """The operator a binary primitive is written with (`+`, `<=`, `and`); drawn in a picture, the rule's
    own `symbol` where it has one (`×`, the gate of the lecture slides). None for other primitives."""
    rule = rules.get(op or "")
    if rule is None:
        return None
    if drawn and rule.symbol is not None:
        return rule.symbol
    found = re.fullmatch(r"\{0\} (\S+) \{1\}", rule.python)
    return found.group(1) if found else None


def expression(node: Node, operand: Callable[[Any], str], drawn: bool = False, rules: Mapping[str, Rule] = RULES) -> str:
    """`x + y`, `max(y, z)`, `-x`, `W.T`: the primitive applied to its operands, spelled like Python."""
    shown = [operand(a) for a in node.args]
    op = node.op or ""
    symbol = infix(op, drawn, rules)
    if symbol is not None and len(shown) == 2:
        return f"{shown[0]} {symbol} {shown[1]}"
    rule = rules.get(op)
    prefix = re.fullmatch(r"([^{}]*)\{0\}", rule.python) if rule is not None and not rule.names else None
    if prefix is not None and len(shown) == 1:  # `-x`, `not x`, a copy
        return prefix.group(1) + shown[0]
    if rule is not None and not rule.names and rule.structural and len(shown) == rule.arity:
        return _spelled(op, rule.python, shown)  # `W.T`, `h.sum(axis=0)`, `X[i]`: as NumPy code says it
    name = rule.names[0] if rule is not None and rule.names else op
    return f"{name}({', '.join(shown)})"


def _spelled(op: str, python: str, shown: list[str]) -> str:
    """A structural operation written with its Python spelling; writing into an array (`_put(h, key, v)`,
    rules/arrays.py) as the assignment `h[key] = v` the source has."""
    try:
        if op.startswith("put ") and "] " in op:  # `put {0}[{1}, :] <type of the place>`
            pattern = op[len("put ") : op.index("] ") + 1]
            return f"{pattern.format(*shown[:-1])} = {shown[-1]}"
        return python.format(*shown)
    except (IndexError, KeyError, ValueError):
        return f"{op}({', '.join(shown)})"


def operand_text(arg: Any) -> str:
    return arg.label if isinstance(arg, Node) else fmt(arg)


def html(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
