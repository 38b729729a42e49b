"""List operations: their spelling and SymPy meaning. Their adjoints are structural
(`l_bar[i] += y_bar`, ...) and written by the reverse transform."""

from __future__ import annotations

from collections.abc import Callable

from .core import Rule


def _list_op(
    python: str, sympy: Callable[..., object], result: str = "list", pure: bool = True, helper: str | None = None
) -> Rule:
    return Rule(python, sympy, None, result, pure=pure, structural=True, helper=helper)


def _zeros_like(value: object) -> object:
    return [_zeros_like(v) for v in value] if isinstance(value, list) else 0.0


_ZEROS_LIKE = '''def _zeros_like(value):
    """Zeros shaped like `value`: a list of zeros, or of lists of zeros, as deep as `value` is."""
    return [_zeros_like(v) for v in value] if isinstance(value, (list, tuple)) else 0.0'''

LISTS: dict[str, Rule] = {
    "index": _list_op("{0}[{1}]", lambda sp, xs, i: xs[int(i)]),
    "len": _list_op("len({0})", lambda sp, xs: len(xs), "int"),
    "list": _list_op("[{...}]", lambda sp, *xs: list(xs)),
    "repeat": _list_op("[{0}] * {1}", lambda sp, x, n: [x] * int(n)),
    "zeros_like": _list_op("zeros_like({0})", lambda sp, xs: _zeros_like(xs)),
    # Zeros shaped like a list whose elements the function never reads as numbers (`len(W)` only), so
    # that its nesting is not known from the source: the gradient of such a parameter.
    "zeros_shaped": _list_op("_zeros_like({0})", lambda sp, xs: _zeros_like(xs), helper=_ZEROS_LIKE),
    "sum": _list_op("sum({0})", lambda sp, xs: sp.Add(*xs)),
    "list_max": _list_op("max({0})", lambda sp, xs: sp.Max(*xs)),
    "list_min": _list_op("min({0})", lambda sp, xs: sp.Min(*xs)),
    "index_of": _list_op("{0}.index({1})", lambda sp, xs, x: xs.index(x), "int"),
    "pop": _list_op("{0}.pop()", lambda sp, xs: xs.pop(), pure=False),
}
