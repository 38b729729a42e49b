"""Find a function's source, parse it, and resolve every free name it uses.

Two ways in: from a live function object (the decorator), where names are
looked up in the function's closure, globals and builtins; or statically from
a source file (the command line), where names come from the module's own
imports, definitions and literal constants, and nothing is imported or run.
Either way the result is a `ParsedFunction`: the `def` node, its source, and
an environment that answers "what is this name?" for the later stages.

Besides plain functions, `from_callable` takes what else has source: bound
methods and class methods (the object they are bound to is data: its
attributes read as `self.w` are numbers compiled in, or lists the generated
code reads), functions read off a class, `functools.partial` objects (the
bound arguments are data; the remaining parameters are differentiated) and
`custom_derivative` functions. A live lookup can be recorded in `Reads`, so
that a cache can later tell, without parsing again, whether every name still
holds what it held.

The package, one module per question:

- `parsed`: what the frontend hands on (`ParsedFunction`, `Source`, the
  `Resolved` kinds of a name);
- `reads`: what a build read (`Reads`, `holds`), for the cache;
- `parsing`: source text to a `def` node;
- `callables`: from a live callable (`from_callable`, `from_function`);
- `live`: the names of a live function (`classify`, `RuntimeResolver`);
- `static`: the names of a source file read without running it
  (`static_module`, `from_file`);
- `classes`: the methods of a source file's top-level classes, read the
  same way (`method_function`), their reads through the class answered from
  the class body;
- `structures`: what a structured argument (a dict, tuple, NamedTuple,
  dataclass) holds (`structures_of`), and which functions read a parameter
  as one (`reads_structures`).
"""

from __future__ import annotations

import inspect as inspect  # what `from_function` finds sources with (tests replace `s2s_ad.frontend.inspect.getsourcelines`)

from .callables import from_callable, from_function
from .classes import (
    CLASS,
    PLAIN,
    PROPERTY,
    STATIC,
    NeedsObject,
    find_method,
    method_function,
    method_kind,
    methods_of,
    top_level_classes,
)
from .live import classify
from .parsed import (
    BUILTIN_CALLEES,
    Callee,
    Constant,
    Custom,
    Data,
    Helper,
    MathModule,
    NumpyModule,
    ParsedFunction,
    Resolved,
    Source,
    UserModule,
    uses_arrays,
)
from .reads import MISSING, Lookups, Reads, holds, same_number
from .static import StaticModule, from_file, static_module
from .structures import may_be_structured, reads_structures, structure_read, structures_of

__all__ = [
    "CLASS",
    "PLAIN",
    "PROPERTY",
    "STATIC",
    "BUILTIN_CALLEES",
    "MISSING",
    "Callee",
    "Constant",
    "Custom",
    "Data",
    "Helper",
    "Lookups",
    "MathModule",
    "NeedsObject",
    "NumpyModule",
    "uses_arrays",
    "may_be_structured",
    "reads_structures",
    "structure_read",
    "structures_of",
    "ParsedFunction",
    "Reads",
    "Resolved",
    "Source",
    "StaticModule",
    "UserModule",
    "classify",
    "from_callable",
    "from_file",
    "from_function",
    "find_method",
    "holds",
    "method_function",
    "method_kind",
    "methods_of",
    "same_number",
    "static_module",
    "top_level_classes",
]
