"""The cache of what `api` built: one function per callable and request, kept while what it read holds.

A gradient is built once per callable and request, and a later request
returns it as long as everything the build read still holds: the function's
code object, and each global, closure cell, builtin, attribute of `self` and
helper it looked up, transitively (helpers of helpers and their constants),
as `frontend.Reads` recorded them. Checking that is a few dictionary lookups
per name, no parsing, so `grad(f)(x)` written inline in a loop costs about a
microsecond more than calling the gradient.

Entries are kept under the function that was parsed (a method's function, a
partial's function, a callable object's `__call__`), weakly: a function that
is gone takes its entries with it. `api` imports this module when it builds
a first gradient, so `import s2s_ad` stays cheap; it sits below `api` and
imports none of the stages.
"""

from __future__ import annotations

import functools
import types
import weakref
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from .frontend import Lookups, Reads, holds, same_number
from .rules.custom import CustomDerivative

_MISSING = object()
_ENTRIES_PER_KEY = 8  # per callable and request: several objects of a class, several partial bindings


class _Entry:
    """One built function and what it was built from: the code object, the lookups, the binding."""

    __slots__ = ("function", "code", "reads", "owner", "args", "keywords")

    def __init__(
        self,
        function: Callable[..., Any],
        code: object,
        reads: Lookups,
        owner: Callable[[], object] | None,
        args: tuple[Any, ...],
        keywords: Mapping[str, Any] | None,
    ) -> None:
        self.function = function
        self.code = code
        self.reads = reads
        self.owner = owner  # the object a method read attributes of (a weak reference), if it read any
        self.args = args  # what a functools.partial bound
        self.keywords = keywords


# The cache itself (tests read it): callable (a function, a method's function, a partial's function, a
# custom derivative) -> request -> entries, held weakly: an entry goes with its function.
ENTRIES: weakref.WeakKeyDictionary[object, dict[tuple[Any, ...], list[_Entry]]] = weakref.WeakKeyDictionary()

# What a request is kept under: (root, bound object, partial args, partial keywords, key in the root's entries).
_Keyed = tuple[object, object, tuple[Any, ...], Mapping[str, Any] | None, tuple[Any, ...]]


def lookup(target: object, wrt: object, request: tuple[Any, ...]) -> Callable[..., Any] | None:
    """The function built earlier for `target` and this request, if everything it read still holds."""
    root, owner, args, keywords, key = _keyed(target, wrt, request)
    try:
        entries = ENTRIES[root].get(key)
    except (KeyError, TypeError):
        return None
    if entries:
        code = getattr(root, "__code__", None)
        for entry in entries:
            if (
                entry.code is code
                and (entry.owner is None or entry.owner() is owner)
                and (not (args or keywords or entry.args or entry.keywords) or _bound_alike(entry, args, keywords))
                and holds(entry.reads)
            ):
                return entry.function
    return None


def remember(target: object, wrt: object, request: tuple[Any, ...], function: Callable[..., Any], reads: Reads) -> None:
    """Keep `function`, built for `target` and this request from the lookups `reads`, for `lookup`
    (the newest first, a few per request; a callable that cannot be weakly referenced is not kept)."""
    root, owner, _, _, key = _keyed(target, wrt, request)
    reads_owner = owner is not _MISSING and any(where is getattr(owner, "__dict__", None) for where in reads.places())
    entry = _Entry(
        function,
        getattr(root, "__code__", None),
        reads.frozen(skip=root),
        _reference(owner) if reads_owner or isinstance(owner, type) else None,
        tuple(getattr(target, "args", ())) if isinstance(target, functools.partial) else (),
        dict(target.keywords) if isinstance(target, functools.partial) else None,
    )
    try:
        entries = ENTRIES.setdefault(root, {}).setdefault(key, [])
    except TypeError:
        return
    entries.insert(0, entry)
    del entries[_ENTRIES_PER_KEY:]


def _keyed(target: object, wrt: object, request: tuple[Any, ...]) -> _Keyed:
    frozen = wrt if wrt is None or type(wrt) is str or type(wrt) is int else _freeze(wrt)
    if type(target) is types.FunctionType:
        return target, _MISSING, (), None, (request, frozen)
    root, owner, args, keywords, binding = _root(target)
    return root, owner, args, keywords, (request, frozen, binding)  # a method's gradient has no `self`; its function's has


def _root(target: object) -> tuple[object, object, tuple[Any, ...], Mapping[str, Any] | None, str]:
    """What a cache entry is kept under, and what binds it: (function, bound object, partial args,
    partial keywords, how it was bound: "method", "object" (a callable object) or "function")."""
    args: tuple[Any, ...] = ()
    keywords: Mapping[str, Any] | None = None
    if isinstance(target, functools.partial):
        args, keywords, target = target.args, target.keywords, target.func
    if isinstance(target, types.MethodType):
        return target.__func__, target.__self__, args, keywords, "method"
    if isinstance(target, staticmethod):
        return target.__func__, _MISSING, args, keywords, "function"
    if isinstance(target, (types.FunctionType, CustomDerivative)) or not callable(target):
        return target, _MISSING, args, keywords, "function"
    call = type(target).__call__  # type: ignore[operator]  # callable(target) holds: its class has a __call__
    if isinstance(call, types.FunctionType):  # an object of a class with a `__call__` method
        return call, target, args, keywords, "object"
    return target, _MISSING, args, keywords, "function"


def _same(a: Sequence[Any], b: Sequence[Any]) -> bool:
    return len(a) == len(b) and all(x is y or same_number(x, y) for x, y in zip(a, b))


def _bound_alike(entry: _Entry, args: tuple[Any, ...], keywords: Mapping[str, Any] | None) -> bool:
    if entry.keywords is None and keywords is None:
        return not args and not entry.args
    if entry.keywords is None or keywords is None or entry.keywords.keys() != keywords.keys():
        return False
    return _same(entry.args, args) and _same(list(entry.keywords.values()), [keywords[k] for k in entry.keywords])


def _reference(owner: object) -> Callable[[], object]:
    """A weak reference to the bound object where it allows one (a strong one otherwise)."""
    try:
        return weakref.ref(owner)
    except TypeError:
        return lambda: owner


def _freeze(wrt: object) -> object:
    return tuple(wrt) if isinstance(wrt, (list, tuple)) else wrt if isinstance(wrt, (str, int, type(None))) else id(wrt)
