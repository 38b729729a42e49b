"""A rule's Python spelling (`"{0} * {1}"`) as an expression: parsed once, and where its operands need parentheses.

The printer fills a spelling's holes with operand texts, and with whole
expressions where a temporary is inlined. Parentheses go exactly where
`ast.unparse` would put them, which `shape` works out once per spelling by
asking `ast.unparse` itself: so the printed text parses back to the tree the
spellings mean, and no more parentheses than a person would write.
"""

from __future__ import annotations

import ast
import math
import re
from dataclasses import dataclass
from functools import cache


@cache
def template(spelling: str) -> ast.expr:
    """The spelling parsed, with names `_0`, `_1`, ... in its holes."""
    arity = spelling.count("{")
    return ast.parse(spelling.format(*(f"_{i}" for i in range(arity))), mode="eval").body


def plain(value: object) -> bool:
    """A constant that prints as its `repr` and never needs parentheses."""
    if isinstance(value, bool) or isinstance(value, int):
        return value >= 0
    return (
        isinstance(value, float)
        and math.isfinite(value)
        and math.copysign(1.0, value) > 0
        and value not in (math.pi, math.e, math.tau)
    )


# How tightly an expression binds, weakest first: one representative of each level of Python's grammar.
_REPRESENTATIVES = (
    "_x if _y else _z",
    "_x or _y",
    "_x and _y",
    "not _x",
    "_x < _y",
    "_x | _y",
    "_x ^ _y",
    "_x & _y",
    "_x << _y",
    "_x + _y",
    "_x * _y",
    "-_x",
    "_x ** _y",
)
ATOM = len(_REPRESENTATIVES)  # names, constants, calls, subscripts: never parenthesized
_BINARY_LEVELS = {
    ast.BitOr: 5,
    ast.BitXor: 6,
    ast.BitAnd: 7,
    ast.LShift: 8,
    ast.RShift: 8,
    ast.Add: 9,
    ast.Sub: 9,
    ast.Mult: 10,
    ast.Div: 10,
    ast.FloorDiv: 10,
    ast.Mod: 10,
    ast.MatMult: 10,
    ast.Pow: 12,
}


def level_of(node: ast.expr) -> int:
    """How tightly an expression binds: an index into `_REPRESENTATIVES`, or `ATOM`."""
    if isinstance(node, ast.IfExp):
        return 0
    if isinstance(node, ast.BoolOp):
        return 1 if isinstance(node.op, ast.Or) else 2
    if isinstance(node, ast.UnaryOp):
        return 3 if isinstance(node.op, ast.Not) else 11
    if isinstance(node, ast.Compare):
        return 4
    if isinstance(node, ast.BinOp):
        return _BINARY_LEVELS[type(node.op)]
    return ATOM


@dataclass(frozen=True)
class Shape:
    """A spelling ready to fill: its text with `{i}` holes, how tightly it binds, where operands need parentheses."""

    text: str
    level: int
    parenthesize: tuple[frozenset[int], ...]  # per operand: the levels that must be parenthesized there
    uses_math: bool
    uses_numpy: bool = False


@cache
def shape(spelling: str, math_name: str = "math", numpy_name: str = "np") -> Shape:
    """Found by asking `ast.unparse` itself: an operand of level L needs parentheses in hole i exactly when
    unparsing the spelling with a representative of L in that hole prints the parentheses."""
    text = _format(spelling)
    arity = 1 + max(int(i) for i in re.findall(r"\{(\d+)\}", text))
    holes = [f"_p{i}" for i in range(arity)]
    parenthesize = []
    for i in range(arity):
        levels = set()
        for level, representative in enumerate(_REPRESENTATIVES):
            filled = [f"({representative})" if j == i else hole for j, hole in enumerate(holes)]
            bare = [representative if j == i else hole for j, hole in enumerate(holes)]
            if ast.unparse(ast.parse(text.format(*filled), mode="eval")) != text.format(*bare):
                levels.add(level)
        parenthesize.append(frozenset(levels))
    uses_math = re.search(r"\bmath\.", text) is not None
    if math_name != "math":
        text = re.sub(r"\bmath\.", f"{math_name}.", text)
    uses_numpy = re.search(r"\bnumpy\.", text) is not None
    text = numpy_named(text, numpy_name)
    return Shape(text, level_of(template(spelling)), tuple(parenthesize), uses_math, uses_numpy)


def numpy_named(text: str, numpy_name: str) -> str:
    """A spelling's `numpy.` written under the name the generated module imports NumPy as (`np.`)."""
    return re.sub(r"\bnumpy\.", f"{numpy_name}.", text)


@cache
def _format(spelling: str) -> str:
    """The rule's spelling unparsed once, with `{0}`, `{1}` where its operands go."""
    text = ast.unparse(template(spelling)).replace("{", "{{").replace("}", "}}")
    return re.sub(r"\b_(\d+)\b", r"{\1}", text)
