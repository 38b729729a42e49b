"""s2s_ad: source-to-source automatic differentiation for Python.

`grad(f)` reads the source of `f`, lowers it to SSA primitive assignments and
writes a new, readable Python function: the forward sweep followed by the
reverse (adjoint) sweep.
"""

from .api import custom_derivative, grad, hessian, jacobian, jvp, value_and_grad, vjp
from .check import check  # the module imports SymPy only when a check runs
from .errors import CheckError, ResolutionError, S2SError, SignatureError, SourceError, UnsupportedError
from .graph import graph  # light: Graphviz is run, and subprocess imported, only when a picture is rendered

__version__ = "0.1.0"

__all__ = [
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
    "jacobian",
    "jvp",
    "graph",
    "value_and_grad",
    "vjp",
]
