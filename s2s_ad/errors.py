"""The error classes: every refusal is an `S2SError` that points at the user's source."""

from __future__ import annotations


class S2SError(Exception):
    """A refusal, printed like a compiler's message: location, source line, caret, hint."""

    def __init__(
        self,
        message: str,
        *,
        filename: str | None = None,
        lineno: int | None = None,
        col_offset: int | None = None,
        end_col_offset: int | None = None,
        source_line: str | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.filename = filename
        self.lineno = lineno
        self.col_offset = col_offset
        self.end_col_offset = end_col_offset
        self.source_line = source_line
        self.hint = hint

    def __str__(self) -> str:
        column = None if self.col_offset is None else self.col_offset + 1
        where = ":".join(str(part) for part in (self.filename, self.lineno, column) if part is not None)
        lines = [f"{where}: error: {self.message}" if where else f"error: {self.message}"]
        if self.source_line is not None:
            raw = self.source_line.rstrip()
            text = raw.expandtabs(4)
            lines.append("    " + text)
            if self.col_offset is not None:
                # Columns count characters of the raw line; the printed line has its tabs expanded.
                start = len(raw[: self.col_offset].expandtabs(4))
                end = len(raw[: self.end_col_offset].expandtabs(4)) if self.end_col_offset is not None else len(text)
                width = max(1, end - start)
                lines.append("    " + " " * start + "^" + "~" * (width - 1))
        if self.hint:
            lines.append(f"hint: {self.hint}")
        return "\n".join(lines)


class SourceError(S2SError):
    """The source of a function cannot be found or parsed."""


class UnsupportedError(S2SError):
    """A construct outside the language s2s_ad differentiates."""


class BackendError(UnsupportedError):
    """What a backend other than plain Python cannot compile, or a backend that is not installed."""


class ResolutionError(S2SError):
    """A name that cannot be resolved to something differentiable."""


class SignatureError(S2SError):
    """A request that does not fit the function: unknown `wrt`, non-scalar output, ..."""


class CheckError(S2SError):
    """The SymPy cross-check found a generated derivative that disagrees with SymPy's."""

    def __init__(self, message: str, *, report: object = None, **where: object) -> None:
        super().__init__(message, **where)  # type: ignore[arg-type]
        self.report = report
