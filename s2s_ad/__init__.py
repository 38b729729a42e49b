"""s2s_ad: source-to-source automatic differentiation for Python.

`grad(f)` reads the source of `f`, lowers it to SSA primitive assignments and
writes a new, readable Python function: the forward sweep followed by the
reverse (adjoint) sweep.
"""

from typing import Any

from .api import grad, value_and_grad
from .errors import CheckError, ResolutionError, S2SError, SignatureError, SourceError, UnsupportedError

__version__ = "0.1.0"


def check(f: Any, wrt: Any = None, **options: Any) -> Any:
    """Cross-check the generated gradient of `f` against SymPy (see `s2s_ad.check.check`)."""
    from .check import check as cross_check  # imports SymPy: only when asked for

    return cross_check(f, wrt, **options)


__all__ = [
    "CheckError",
    "ResolutionError",
    "S2SError",
    "SignatureError",
    "SourceError",
    "UnsupportedError",
    "__version__",
    "check",
    "grad",
    "value_and_grad",
]
