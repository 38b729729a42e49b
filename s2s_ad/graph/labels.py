"""How numbers and primitives are written in pictures and traces: `2` rather than `2.0`, `x + y`, `max(y, z)`.

Shared by the DOT text, the trace and `Graph`'s repr, so that a value reads
the same everywhere; the golden files of pictures and traces depend on it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from ..rules import RULES
from .nodes import Node


def fmt(value: Any) -> str:
    """A number as a lecture slide writes it: 6 significant digits, `2` rather than `2.0`."""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, list):
        return "[" + ", ".join(fmt(v) for v in value) + "]"
    if isinstance(value, int | float):
        text = format(value, ".6g")
        return "0" if text == "-0" else text
    return str(value)


def point_text(point: Mapping[str, Any]) -> str:
    return ", ".join(f"{name} = {fmt(value)}" for name, value in point.items())


def gradient_text(gradient: Mapping[str, Any]) -> str:
    values = [fmt(v) for v in gradient.values()]
    return values[0] if len(values) == 1 else "(" + ", ".join(values) + ")"


def infix(op: str | None, drawn: bool = False) -> str | None:
    """The operator a binary primitive is written with (`+`, `<=`, `and`); drawn in a picture, the rule's
    own `symbol` where it has one (`×`, the gate of the lecture slides). None for other primitives."""
    rule = RULES.get(op or "")
    if rule is None:
        return None
    if drawn and rule.symbol is not None:
        return rule.symbol
    found = re.fullmatch(r"\{0\} (\S+) \{1\}", rule.python)
    return found.group(1) if found else None


def expression(node: Node, operand: Callable[[Any], str], drawn: bool = False) -> str:
    """`x + y`, `max(y, z)`, `-x`: the primitive applied to its operands, spelled like Python."""
    shown = [operand(a) for a in node.args]
    op = node.op or ""
    symbol = infix(op, drawn)
    if symbol is not None and len(shown) == 2:
        return f"{shown[0]} {symbol} {shown[1]}"
    rule = RULES.get(op)
    prefix = re.fullmatch(r"([^{}]*)\{0\}", rule.python) if rule is not None and not rule.names else None
    if prefix is not None and len(shown) == 1:  # `-x`, `not x`, a copy
        return prefix.group(1) + shown[0]
    name = rule.names[0] if rule is not None and rule.names else op
    return f"{name}({', '.join(shown)})"


def operand_text(arg: Any) -> str:
    return arg.label if isinstance(arg, Node) else fmt(arg)


def html(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
