"""How numbers and primitives are written in pictures and traces: `2` rather than `2.0`, `x + y`, `max(y, z)`.

Shared by the DOT text, the trace and `Graph`'s repr, so that a value reads
the same everywhere; the golden files of pictures and traces depend on it.
"""

from __future__ import annotations

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


SYMBOLS = {
    "add": "+",
    "sub": "-",
    "mul": "×",
    "div": "/",
    "pow": "**",
    "floordiv": "//",
    "mod": "%",
    "lt": "<",
    "le": "<=",
    "gt": ">",
    "ge": ">=",
    "eq": "==",
    "ne": "!=",
    "and": "and",
    "or": "or",
}
TEXT_SYMBOLS = {**SYMBOLS, "mul": "*"}


def expression(node: Node, operand: Callable[[Any], str], symbols: Mapping[str, str] = TEXT_SYMBOLS) -> str:
    """`x + y`, `max(y, z)`, `-x`: the primitive applied to its operands, spelled like Python."""
    shown = [operand(a) for a in node.args]
    op = node.op or ""
    if op in symbols and len(shown) == 2:
        return f"{shown[0]} {symbols[op]} {shown[1]}"
    if op == "neg":
        return f"-{shown[0]}"
    if op == "not":
        return f"not {shown[0]}"
    if op == "copy":
        return shown[0]
    name = RULES[op].names[0] if op in RULES and RULES[op].names else op
    return f"{name}({', '.join(shown)})"


def operand_text(arg: Any) -> str:
    return arg.label if isinstance(arg, Node) else fmt(arg)


def html(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
