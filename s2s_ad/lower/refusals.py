"""The constructs refused with a message and a hint, by AST class name."""

from __future__ import annotations

# Constructs refused with a hint; the key is the ast class name.
REFUSED_STATEMENTS = {
    "Try": ("'try' statements cannot be differentiated", "move the error handling outside the function you differentiate"),
    "TryStar": ("'try' statements cannot be differentiated", "move the error handling outside the function you differentiate"),
    "With": ("'with' statements cannot be differentiated", "move the 'with' block outside the function you differentiate"),
    "AsyncWith": ("'async with' statements cannot be differentiated", None),
    "Global": ("'global' statements cannot be differentiated", "pass the value in as a parameter and return the result"),
    "Nonlocal": ("'nonlocal' statements cannot be differentiated", "pass the value in as a parameter and return the result"),
    "FunctionDef": ("nested function definitions cannot be differentiated", "define helper functions at module level"),
    "AsyncFunctionDef": ("nested function definitions cannot be differentiated", "define helper functions at module level"),
    "ClassDef": ("class definitions cannot be differentiated", None),
    "Import": ("imports inside a differentiated function are not supported", "import at module level"),
    "ImportFrom": ("imports inside a differentiated function are not supported", "import at module level"),
    "Delete": ("'del' statements cannot be differentiated", None),
    "Match": ("'match' statements cannot be differentiated", "use if/elif/else"),
    "AsyncFor": ("'async for' loops cannot be differentiated", None),
}


REFUSED_EXPRESSIONS = {
    "Lambda": ("lambda expressions cannot be differentiated", "define a helper function with `def` at module level"),
    "Yield": ("generators ('yield') cannot be differentiated", "return a value instead"),
    "YieldFrom": ("generators ('yield from') cannot be differentiated", "return a value instead"),
    "Await": ("'await' cannot be differentiated", None),
    "JoinedStr": ("string operations cannot be differentiated", "keep formatting and printing outside the function"),
    "Dict": ("dictionaries cannot be differentiated", "use separate parameters or lists"),
    "Set": ("sets cannot be differentiated", None),
    "DictComp": ("dictionaries cannot be differentiated", None),
    "SetComp": ("sets cannot be differentiated", None),
    "NamedExpr": ("assignment expressions (':=') are not supported", "assign in a separate statement"),
    "Starred": ("starred expressions are not supported", None),
    "Slice": ("slices are not supported", "index elements one at a time"),
}
