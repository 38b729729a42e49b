"""`Graph`: what `graph(f, ...)` returns, and its outputs: DOT text, pictures rendered by Graphviz, the trace.

Rendering SVG, PNG or PDF runs Graphviz's `dot` program in a child process;
`subprocess` and `shutil` are imported only then, since `import s2s_ad`
stays light. In Jupyter the graph shows itself (as SVG when Graphviz is
installed, else as text).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..rules import RULES, Rule
from .dot import Dot
from .labels import fmt, gradient_text, point_text
from .nodes import GraphError, GraphvizNotFound, Loop, Node
from .trace import trace_text

MAX_NODES = 120  # past this many nodes, a picture shows each loop's first iteration only
GRAPHVIZ_HINT = (
    "install Graphviz (Debian/Ubuntu: apt-get install graphviz; macOS: brew install graphviz; "
    "conda: conda install graphviz), or save as .dot and render it elsewhere"
)
_FORMATS = ("svg", "png", "pdf")


@dataclass(eq=False)
class Graph:
    """The computation graph of a function evaluated at a point, with adjoints.

    `to_dot()` is Graphviz text (no dependency); `save(path)` writes `.dot`,
    `.svg`, `.png` or `.pdf` (the last three need Graphviz's `dot`); `trace()`
    is the forward and reverse sweeps as text. In Jupyter the graph shows itself.
    """

    function: str
    params: tuple[str, ...]
    point: dict[str, Any]
    nodes: tuple[Node, ...]
    output: Node | None
    value: Any
    gradient: dict[str, Any]  # param -> d output / d param (a list for a list parameter, an array for an array)
    loops: tuple[Loop, ...] = ()
    notes: list[str] = field(default_factory=list)
    rules: Mapping[str, Rule] = field(default_factory=lambda: RULES)  # the table the function was lowered with

    def __repr__(self) -> str:
        return (
            f"<Graph of {self.function} at {point_text(self.point)}: {len(self.nodes)} nodes, "
            f"value {fmt(self.value)}, gradient {gradient_text(self.gradient)}>"
        )

    # -- DOT ---------------------------------------------------------------------

    def to_dot(self, max_nodes: int = MAX_NODES) -> str:
        """The picture as Graphviz DOT text, laid out left to right."""
        return Dot(self, max_nodes).text()

    # -- rendering ---------------------------------------------------------------

    def render(self, format: str = "svg", max_nodes: int = MAX_NODES) -> bytes:
        """The picture rendered by Graphviz's `dot` (`svg`, `png` or `pdf`); `GraphvizNotFound` without it."""
        if format not in _FORMATS:
            raise GraphError(f"cannot render the format {format!r}: choose one of {', '.join(_FORMATS)}, or dot")
        import subprocess  # only when a picture is rendered

        dot = _dot_program()
        if dot is None:
            raise GraphvizNotFound(
                f"rendering {format.upper()} needs Graphviz's 'dot' program, which is not installed (or not on PATH)",
                hint=GRAPHVIZ_HINT,
            )
        try:
            done = subprocess.run(
                [dot, f"-T{format}"], input=self.to_dot(max_nodes).encode(), capture_output=True, check=False, timeout=120
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise GraphError(f"Graphviz's 'dot' failed to run: {exc}", hint=GRAPHVIZ_HINT) from exc
        if done.returncode != 0:
            raise GraphError(f"Graphviz's 'dot' failed: {done.stderr.decode(errors='replace').strip()}")
        return done.stdout

    def save(self, path: str | Path, format: str | None = None, max_nodes: int = MAX_NODES) -> Path:
        """Write the picture; the format comes from the suffix (`.dot`/`.gv`, `.svg`, `.png`, `.pdf`)."""
        path = Path(path)
        chosen = (format or path.suffix.lstrip(".")).lower()
        if chosen in ("dot", "gv"):
            path.write_text(self.to_dot(max_nodes), encoding="utf-8")
        elif chosen in _FORMATS:
            path.write_bytes(self.render(chosen, max_nodes))
        else:
            raise GraphError(
                f"cannot tell which picture format to write to {str(path)!r}",
                hint="end the file name with .svg, .png, .pdf or .dot, or pass format=",
            )
        return path

    def _repr_svg_(self) -> str | None:
        """Jupyter: the SVG picture, when Graphviz is installed."""
        if _dot_program() is None:
            return None
        return self.render("svg").decode()

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        """Jupyter: the SVG picture, or (without Graphviz) the DOT text and the trace."""
        if _dot_program() is not None:
            return {"image/svg+xml": self.render("svg").decode(), "text/plain": repr(self)}
        return {"text/plain": f"{self!r}\n(install Graphviz to see the picture: {GRAPHVIZ_HINT})\n\n{self.trace()}"}

    # -- the trace ---------------------------------------------------------------

    def trace(self) -> str:
        """The forward sweep and the reverse sweep step by step, with values: the table done by hand."""
        return trace_text(self)


def _dot_program() -> str | None:
    """Where Graphviz's `dot` is, if it is installed."""
    import shutil  # `import s2s_ad` imports this module: keep it light

    return shutil.which("dot")
