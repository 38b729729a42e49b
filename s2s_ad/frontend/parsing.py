"""Source text to a `def` node: the lines of a file, the `def` of a live function, copies of a `def`.

Kept apart from the name lookups so that what can go wrong with the text
itself (no source, a lambda, an async function, a syntax error) is refused
in one place, with positions that point into the whole file even when the
function was defined indented (a method, a nested function).
"""

from __future__ import annotations

import ast
import textwrap
import types

from ..errors import S2SError, SourceError, UnsupportedError
from .parsed import Source


def lambda_error(func: types.FunctionType) -> S2SError:
    """The refusal of a lambda, pointing at the word `lambda` on its line when the line can be read."""
    filename, lineno = func.__code__.co_filename, func.__code__.co_firstlineno
    lines = linecache_lines(filename)
    line = lines[lineno - 1] if lines and 1 <= lineno <= len(lines) else None
    col = line.find("lambda") if line else -1
    return UnsupportedError(
        "lambda functions cannot be differentiated",
        filename=filename,
        lineno=lineno,
        source_line=line,
        col_offset=col if col >= 0 else None,
        end_col_offset=col + len("lambda") if col >= 0 else None,
        hint="define the function with `def`",
    )


def linecache_lines(filename: str) -> tuple[str, ...] | None:
    """The lines of a file as `linecache` holds them (also for sources that are not files on disk), or None."""
    import linecache

    lines = linecache.getlines(filename)
    return tuple(line.rstrip("\n") for line in lines) if lines else None


def parse_def(lines: list[str], start: int, filename: str, file_lines: tuple[str, ...], name: str) -> ast.FunctionDef:
    """The `def` of `lines` (starting at line `start` of the file), with positions in the file and no decorators.

    The text is parsed where it stands: after `start - 1` empty lines, and, when the `def` is indented (a
    method, a nested function), as the body of an `if 1:` on the line before, so that every node's line and
    column are the file's as parsed, with no pass over the tree to move them.
    """
    indent = len(lines[0]) - len(lines[0].lstrip()) if lines else 0
    if indent and start >= 2:
        text = "\n" * (start - 2) + "if 1:\n" + "".join(lines)
    else:
        text = "\n" * (start - 1) + (textwrap.dedent("".join(lines)) if indent else "".join(lines))
    try:
        module = ast.parse(text, filename=filename)
    except SyntaxError as exc:
        raise SourceError(f"cannot parse the source of '{name}': {exc.msg}", filename=filename, lineno=start) from exc
    body = module.body[0].body if indent and start >= 2 and module.body and isinstance(module.body[0], ast.If) else module.body
    if not body or not isinstance(body[0], (ast.FunctionDef, ast.AsyncFunctionDef)):
        raise SourceError(
            f"the source of '{name}' is not a `def` statement",
            filename=filename,
            lineno=start,
            hint="define the function with `def`",
        )
    node = body[0]
    if isinstance(node, ast.AsyncFunctionDef):
        raise Source(filename, file_lines).error(UnsupportedError, "async functions cannot be differentiated", node)
    if indent and start < 2:
        for child in ast.walk(node):
            if hasattr(child, "col_offset"):
                child.col_offset += indent  # type: ignore[attr-defined]
                if getattr(child, "end_col_offset", None) is not None:
                    child.end_col_offset += indent  # type: ignore[attr-defined]
    node.decorator_list = []
    return node


def copy_def(node: ast.FunctionDef, deep: bool = True) -> ast.FunctionDef:
    """A copy of a `def` without its decorators; shallow copies only the node and its parameter list."""
    import copy

    if deep:
        node = copy.deepcopy(node)
    else:
        node = copy.copy(node)
        node.args = copy.copy(node.args)
    node.decorator_list = []
    return node
