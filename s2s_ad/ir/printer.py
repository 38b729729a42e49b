"""The IR as text, one statement a line; tests read it."""

from __future__ import annotations

from .nodes import Assign, Block, Effect, For, Function, If, Note, Pop, Push, Returns, While


def format_function(function: Function) -> str:
    """The IR as text, one statement a line; tests read it."""
    params = ", ".join(f"{p.name}: {p.type}" for p in function.params)
    lines = [f"def {function.name}({params}):"]
    _format_block(function.body, 1, lines)
    lines.append(f"  return {_format_returns(function.returns)}")
    return "\n".join(lines) + "\n"


def _format_returns(returns: Returns) -> str:
    if isinstance(returns, tuple):
        return "(" + ", ".join(_format_returns(r) for r in returns) + ")"
    return str(returns)


def _format_block(block: Block, depth: int, lines: list[str]) -> None:
    pad = "  " * depth
    if not block:
        lines.append(pad + "pass")
    for stmt in block:
        if isinstance(stmt, Assign):
            lines.append(f"{pad}{stmt.target} = {stmt.op}({', '.join(map(str, stmt.args))})")
        elif isinstance(stmt, Effect) and stmt.text is not None:
            lines.append(f"{pad}{stmt.op} {stmt.text}")
        elif isinstance(stmt, Effect):
            lines.append(f"{pad}{stmt.op}({', '.join(map(str, stmt.args))})")
        elif isinstance(stmt, Push):
            lines.append(f"{pad}push({', '.join(map(str, stmt.values))})")
        elif isinstance(stmt, Pop):
            lines.append(f"{pad}{', '.join(stmt.targets)} = pop()")
        elif isinstance(stmt, Note):
            lines.append(f"{pad}# {stmt.text}")
        elif isinstance(stmt, If):
            lines.append(f"{pad}if {stmt.cond}:")
            _format_block(stmt.then, depth + 1, lines)
            lines.append(f"{pad}else:")
            _format_block(stmt.orelse, depth + 1, lines)
            for m in stmt.merges:
                lines.append(f"{pad}{m.target} = merge({m.then}, {m.orelse})")
        elif isinstance(stmt, (For, While)):
            carried = "; ".join(f"{c.header} = {c.init} | {c.update} -> {c.result}" for c in stmt.carried)
            if isinstance(stmt, For):
                head = f"for {stmt.index} in range({stmt.start}, {stmt.stop}, {stmt.step})"
                if stmt.reverse:
                    head += " reversed" + (f" first {stmt.limit}" if stmt.limit else "")
            else:
                head = "while"
            lines.append(f"{pad}{head} [{carried}]" + (f" until {stmt.until}" if stmt.until else "") + ":")
            if isinstance(stmt, While):
                _format_block(stmt.test, depth + 1, lines)
                lines.append(f"{pad}  test {stmt.cond}")
            _format_block(stmt.body, depth + 1, lines)
