"""What a check found: one `Entry` per coordinate differentiated, gathered in a `Report`.

A report prints each derivative as SymPy computes it beside the one the
gradient IR computes (`str(report)`, `report.latex()`), with the verdict and
how it was reached. SymPy is imported only to print.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

Verdict = str  # "pass", "fail" or "undecided"


@dataclass(frozen=True)
class Entry:
    """The verdict for one parameter (or one element of a list parameter, `xs[1]`).

    `sympy` and `ours` are SymPy's derivative and the gradient IR's as SymPy
    expressions, or None when there are none to show (`missing` says why: the
    derivative depends on the path through the code, it was too large, or it
    could not be built in time). `method` says how the gradient IR was shown
    right: "symbolic (...)" when SymPy proved it equal, "numeric ..." when
    only sample points compared. Either way a "pass" means the printed code
    itself, run in high precision, agreed with the truth at every one of
    `points`, one value per coordinate of the function (`Report.coordinates`);
    `max_difference` is the largest difference seen at those points,
    relative to the derivatives' size where that is above 1
    (`|a - b| / max(1, |a|, |b|)`), None if no point was evaluated.
    """

    parameter: str
    sympy: Any
    ours: Any
    method: str
    verdict: Verdict
    points: tuple[tuple[float, ...], ...] = ()
    max_difference: float | None = None
    seconds: float = 0.0
    note: str = ""
    missing: str = ""  # why `sympy` and `ours` are None

    @property
    def ok(self) -> bool:
        return self.verdict == "pass"


@dataclass(frozen=True)
class Report:
    """The result of a check: one `Entry` per parameter differentiated.

    `ok` is True only if every parameter passed. `str(report)` prints each
    derivative as SymPy computes it beside the one the generated code computes;
    `report.latex()` gives the same as LaTeX.
    """

    function: str
    params: tuple[str, ...]
    expression: Any  # the function as a SymPy expression, or None (path dependent, too large, not built in time)
    entries: tuple[Entry, ...]
    notes: tuple[str, ...] = ()
    coordinates: tuple[str, ...] = ()  # what each value of a sample point is: `x`, or `xs[0]` of a list
    truth: str = "SymPy's"  # what the derivatives were compared with (arrays: the high-precision derivative)

    @property
    def ok(self) -> bool:
        return bool(self.entries) and all(entry.ok for entry in self.entries)

    @property
    def verdict(self) -> Verdict:
        verdicts = {entry.verdict for entry in self.entries}
        if "fail" in verdicts:
            return "fail"
        return "pass" if verdicts == {"pass"} else "undecided"

    def entry(self, parameter: str) -> Entry:
        for entry in self.entries:
            if entry.parameter == parameter:
                return entry
        raise KeyError(parameter)

    def __str__(self) -> str:
        head = f"check of {self.function}({', '.join(self.params)})"
        lines = [f"{head} = {_show(self.expression)}" if self.expression is not None else head]
        width = max((len(e.parameter) for e in self.entries), default=1) + 4
        for entry in self.entries:
            label = f"d/d{entry.parameter}".ljust(width)
            pad = " " * width
            if entry.sympy is not None or entry.ours is not None:
                lines.append(f"  {label}SymPy: {_show(entry.sympy)}")
                lines.append(f"  {pad}ours:  {_show(entry.ours)}")
            else:
                lines.append(f"  {label}({entry.missing or 'no expression'}: compared at sample points)")
            lines.append(f"  {pad}{entry.verdict.upper()}: {_describe(entry)}")
            if entry.note:
                lines.append(f"  {pad}note: {entry.note}")
        for note in self.notes:
            lines.append(f"  note: {note}")
        summary = {
            "pass": f"every derivative agrees with {self.truth}",
            "fail": f"a generated derivative DISAGREES with {self.truth}",
            "undecided": "the check could not decide every derivative",
        }[self.verdict]
        lines.append(f"  => {summary}")
        return "\n".join(lines)

    def latex(self) -> str:
        """The derivatives as a LaTeX `aligned` block: SymPy's on one line, ours on the next."""
        from sympy import Symbol, latex

        rows = []
        for entry in self.entries:
            symbol = latex(Symbol(entry.parameter, real=True))
            lhs = rf"\frac{{\partial {self.function_latex()}}}{{\partial {symbol}}}"
            verdict = rf"\text{{{entry.verdict} ({_latex_text(entry.method)})}}"
            if entry.sympy is not None or entry.ours is not None:
                rows.append(rf"{lhs} &= {_latex(entry.sympy)} && \text{{SymPy}} \\")
                rows.append(rf"&= {_latex(entry.ours)} && \text{{generated}}\ {verdict} \\")
            else:
                rows.append(rf"{lhs} &: \text{{{_latex_text(entry.missing or 'no expression')}}} && {verdict} \\")
        return "\\begin{aligned}\n" + "\n".join(rows) + "\n\\end{aligned}"

    def function_latex(self) -> str:
        return r"\operatorname{" + _latex_text(self.function) + "}"


def _show(expression: Any) -> str:
    from sympy import sstr

    return "(none)" if expression is None else _printed(sstr, expression, "(an expression too large to print)")


def _latex(expression: Any) -> str:
    from sympy import latex

    return r"\text{(none)}" if expression is None else _printed(latex, expression, r"\text{(too large to print)}")


def _printed(printer: Callable[[Any], str], expression: Any, instead: str) -> str:
    """Printed, or with its numbers to 15 digits if an exact one has too many (Python refuses to
    print integers of more than 4300 digits)."""
    try:
        return printer(expression)
    except ValueError:
        try:
            return printer(expression.evalf(15))
        except (ValueError, AttributeError):
            return instead


def _latex_text(text: str) -> str:
    return text.replace("\\", r"\textbackslash{}").replace("_", r"\_").replace("%", r"\%").replace("&", r"\&")


def _describe(entry: Entry) -> str:
    parts = [entry.method]
    if entry.points:
        parts.append(f"printed code agrees at {len(entry.points)} point(s)" if entry.ok else f"{len(entry.points)} point(s)")
    if entry.max_difference is not None:
        parts.append(f"max difference {entry.max_difference:.3g}")
    parts.append(f"{entry.seconds:.2f} s")
    return ", ".join(parts)
