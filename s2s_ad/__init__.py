"""s2s_ad: source-to-source automatic differentiation for Python.

`grad(f)` reads the source of `f`, lowers it to SSA primitive assignments and
writes a new, readable Python function: the forward sweep followed by the
reverse (adjoint) sweep.

Importing the package is cheap: the stages of the pipeline are imported when
a first gradient is built, and `check` (SymPy) and `graph` only when they are
first used. `s2s_ad.check` and `s2s_ad.graph` are the functions, as they have
always been, also after their modules of the same name have been imported.
"""

from __future__ import annotations

import sys
import types
from typing import TYPE_CHECKING, Any

from .api import custom_derivative, grad, hessian, jacfwd, jacobian, jacrev, jvp, value_and_grad, vjp
from .errors import BackendError, CheckError, ResolutionError, S2SError, SignatureError, SourceError, UnsupportedError

if TYPE_CHECKING:
    from .check import check
    from .graph import graph

__version__ = "0.1.0"

__all__ = [
    "BackendError",
    "CheckError",
    "ResolutionError",
    "S2SError",
    "SignatureError",
    "SourceError",
    "UnsupportedError",
    "__version__",
    "check",
    "custom_derivative",
    "grad",
    "hessian",
    "jacfwd",
    "jacobian",
    "jacrev",
    "jvp",
    "graph",
    "value_and_grad",
    "vjp",
]


def _lazy_function(module: str) -> property:
    """The package attribute `module`: the function of that name in the submodule of that name, imported when
    first read. Importing the submodule sets the package attribute to the module; the setter keeps the function."""
    chosen: dict[str, Any] = {}

    def get(package: types.ModuleType) -> Any:
        if "value" not in chosen:
            imported = __import__(f"{__name__}.{module}", fromlist=[module])
            chosen["value"] = getattr(imported, module)
        return chosen["value"]

    def set_(package: types.ModuleType, value: Any) -> None:
        if not (isinstance(value, types.ModuleType) and value.__name__ == f"{__name__}.{module}"):
            chosen["value"] = value  # a user's (or a test's) own replacement

    def delete(package: types.ModuleType) -> None:
        chosen.pop("value", None)

    return property(get, set_, delete, f"s2s_ad.{module}.{module}, imported when first used")


class _Package(types.ModuleType):
    """The package module, with `check` and `graph` imported lazily (see `_lazy_function`)."""

    check = _lazy_function("check")
    graph = _lazy_function("graph")


sys.modules[__name__].__class__ = _Package
