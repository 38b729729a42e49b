"""What a build read: the live lookups a gradient depends on, and the test that they still hold.

A cache keeps a gradient built earlier as long as every name it looked up
still finds the same object (or an equal number). `Reads` records the
lookups while the frontend resolves names; `holds` checks them again on
every cache hit, with a few dictionary lookups and no parsing.
"""

from __future__ import annotations

import math
import types
from typing import Any

MISSING = object()  # what `Reads` records for a name that was not bound


Lookups = tuple[tuple[tuple[Any, str, object], ...], tuple[tuple[Any, object], ...], tuple[tuple[Any, str, object], ...]]


class Reads:
    """The live lookups one build made, each once: where, which name, and the object found.

    `where` is a namespace (a module's globals, the builtins, an object's or
    a class's `__dict__`), a closure cell (the name is ""), or an object whose
    attribute was read (a function's `__code__`). `holds(reads.frozen())`
    tells whether every lookup still finds the same object, which is how a
    cache knows that a gradient built earlier is still right without reading
    the source again. `data` is the lists of numbers found, by the name
    generated code reads them under.
    """

    def __init__(self) -> None:
        self._found: dict[tuple[int, str], tuple[object, str, object]] = {}
        self.data: dict[str, object] = {}

    def note(self, where: object, name: str, value: object) -> None:
        self._found.setdefault((id(where), name), (where, name, value))

    def places(self) -> list[object]:
        """Every namespace, cell and object looked into."""
        return [where for where, _, _ in self._found.values()]

    def frozen(self, skip: object = None) -> Lookups:
        """The lookups for `holds`, sorted by kind (namespaces, cells, attributes); `skip`: an object whose
        attribute reads the caller checks itself (the function a cache entry is kept under)."""
        namespaces, cells, attributes = [], [], []
        for where, name, value in self._found.values():
            kind = type(where)
            if kind is dict or kind is types.MappingProxyType:
                namespaces.append((where, name, value))
            elif kind is types.CellType:
                cells.append((where, value))
            elif where is not skip:
                attributes.append((where, name, value))
        return tuple(namespaces), tuple(cells), tuple(attributes)


def holds(reads: Lookups) -> bool:
    """Whether every lookup of `reads` (see `Reads.frozen`) still finds what it found.

    The same object passes; so does a number of the same type and value (a
    module constant assigned again). This runs on every cache hit: a few
    dictionary lookups, no parsing.
    """
    namespaces, cells, attributes = reads
    for where, name, expected in namespaces:
        found = where.get(name, MISSING)
        if found is not expected and not same_number(found, expected):
            return False
    for cell, expected in cells:
        try:
            found = cell.cell_contents
        except ValueError:
            found = MISSING
        if found is not expected and not same_number(found, expected):
            return False
    for where, name, expected in attributes:
        if getattr(where, name, MISSING) is not expected:
            return False
    return True


def same_number(a: object, b: object) -> bool:
    """Equal numbers of one type that generated code cannot tell apart (0.0 and -0.0 differ, nan never matches)."""
    kind = type(a)
    if kind is not type(b) or kind not in (int, float, bool):
        return False
    return a == b and (kind is not float or a != 0.0 or math.copysign(1.0, a) == math.copysign(1.0, b))  # type: ignore[arg-type]
