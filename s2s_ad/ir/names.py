"""Names: families, temporaries and the Namer that hands out new ones.

A source variable keeps its name (`x`); re-assignments get versions (`x.1`,
`x.2`), temporaries are `_t1`, `_t2`, adjoints `x_bar`, tangents `x_dot`. The
part before the last `.` is the name's *family*: code generation prints each
family under one Python name where lifetimes allow.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

_VERSION = re.compile(r"^(.*)\.(\d+)$")


def family(name: str) -> str:
    """`x.2` -> `x`; a name without a version is its own family."""
    if "." not in name:
        return name
    match = _VERSION.match(name)
    return match.group(1) if match else name


def is_temp(name: str) -> bool:
    """A temporary of the lowering or a transform (`_t12`), as opposed to a named value."""
    return name[:2] == "_t" and name[2:].isdecimal() and name.isascii()


class Namer:
    """Hands out names that are new in one function.

    `reserved` names (the user's source names) may only be taken as the first
    version of their own family: a temporary or an adjoint never takes them.
    """

    def __init__(self, issued: Iterable[str] = (), reserved: Iterable[str] = ()) -> None:
        self.issued = set(issued)
        self.reserved = set(reserved) | self.issued
        self.next_version: dict[str, int] = {}
        self.next_temp = 1

    def fresh(self, base: str) -> str:
        """A new version of the family `base` (`x`, then `x.1`, `x.2`, ...)."""
        base = family(base)
        if base not in self.issued:
            return self._issue(base)
        n = self.next_version.get(base, 1)
        while f"{base}.{n}" in self.issued:
            n += 1
        self.next_version[base] = n + 1
        return self._issue(f"{base}.{n}")

    def new_family(self, base: str) -> str:
        """A family name that no source name or other family uses: `x_bar`, else `x_bar_1`, ..."""
        candidate, n = base.replace(".", "_"), 1
        while candidate in self.reserved or candidate in self.issued:
            candidate, n = f"{base.replace('.', '_')}_{n}", n + 1
        self.reserved.add(candidate)
        return candidate

    def temp(self) -> str:
        while f"_t{self.next_temp}" in self.reserved:
            self.next_temp += 1
        return self._issue(f"_t{self.next_temp}")

    def snapshot(self) -> tuple[set[str], set[str], dict[str, int], int]:
        return set(self.issued), set(self.reserved), dict(self.next_version), self.next_temp

    def restore(self, state: tuple[set[str], set[str], dict[str, int], int]) -> None:
        issued, reserved, versions, temp = state
        self.issued, self.reserved, self.next_version, self.next_temp = set(issued), set(reserved), dict(versions), temp

    def _issue(self, name: str) -> str:
        self.issued.add(name)
        self.reserved.add(name)
        return name
