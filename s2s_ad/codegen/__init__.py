"""IR -> Python source text, then compile: what a gradient looks like to the person who reads it.

`generate` runs the pieces in order, one module each:

- `inline`: which temporaries read once are printed inside the expression
  that reads them (`fold=True`), instead of on lines of their own;
- `names`: SSA names -> Python names; versions of one family (`x_bar`,
  `x_bar.1`, ...) share one Python name where their lifetimes do not overlap,
  which turns a chain of SSA accumulations back into `x_bar += ...`;
- `printer`: statements, indentation and `# line N:` comments, with
  expressions built from the rule table's spellings (`spelling`: parentheses
  exactly where `ast.unparse` puts them);
- `source`: the `Generated` function, the module text around generated
  functions, and compiling them into callables registered in `linecache`;
- `dialect`: the few spellings a backend chooses (plain Python by default;
  `numba`: code `numba.njit` compiles, its refusals and its call wrapper).
"""

from __future__ import annotations

from collections.abc import Mapping

from .. import ir
from ..errors import SignatureError
from ..ir import Assign, Function
from ..rules import RULES, Rule
from .dialect import PYTHON, Dialect
from .frame import Frame, forward_frame, structured_frame
from .inline import inlined
from .names import RESERVED, python_names
from .numba import NUMBA
from .printer import Printer
from .source import Generated, compile_generated, module

BACKENDS: dict[str, Dialect] = {"python": PYTHON, "numba": NUMBA}  # `backend=` -> the dialect printed


def backend(name: str) -> Dialect:
    """The dialect of `backend=name`; a `SignatureError` naming the backends there are for any other name."""
    found = BACKENDS.get(name)
    if found is None:
        raise SignatureError(f"backend must be one of {', '.join(map(repr, BACKENDS))}, not {name!r}")
    return found


__all__ = [
    "BACKENDS",
    "PYTHON",
    "RESERVED",
    "Dialect",
    "Frame",
    "Generated",
    "backend",
    "compile_generated",
    "forward_frame",
    "generate",
    "inlined",
    "module",
    "python_names",
    "structured_frame",
]


def generate(
    function: Function,
    rules: Mapping[str, Rule] = RULES,
    packed: tuple[tuple[str, tuple[str, ...]], ...] | None = None,
    fold: bool = True,
    frame: Frame | None = None,
    dialect: Dialect = PYTHON,
) -> Generated:
    """Print `function`; with `packed`, its parameters arrive in tuples (`f_jvp(primals, tangents)`).

    With `fold`, a temporary read once is printed inside the expression that
    reads it (see `inline.inlined`); without, every primitive has its own line.
    """
    expressions = inlined(function, rules) if fold else {}
    names = python_names(function, expressions, frame.avoid if frame is not None else ())
    printer = Printer(function, names, rules, expressions, dialect)
    printer.function(packed, frame)
    math_import = "import math" if printer.math == "math" else f"import math as {printer.math}"
    imports = ((math_import,) if printer.uses_math else ()) + (
        (f"import numpy as {printer.numpy}",) if printer.uses_numpy else ()
    )
    if frame is not None:
        imports = frame.imports + imports
    imports = dialect.imports + imports
    helpers = sorted(
        {h for s in ir.walk(function.body) if isinstance(s, (Assign, ir.Effect)) and (h := rules[s.op].helper) is not None}
    )
    if dialect.decorator is not None:
        helpers = [f"{dialect.decorator}\n{helper}" for helper in helpers]
    return Generated(
        function.name,
        "\n".join(printer.lines),
        imports,
        tuple(sorted(printer.globals)),
        tuple(helpers),
    )
