"""Automatic differentiation of the IR: activity analysis, reverse mode and forward mode.

`gradient` writes the forward sweep followed by the reverse sweep
(backpropagation as code); `tangent` writes forward mode (Jacobian-vector
products, and forward over reverse for Hessians). Both ask the rule table
for every fact about a primitive and never name an op themselves.
"""

from .activity import activity
from .forward import tangent
from .reverse import gradient

__all__ = ["activity", "gradient", "tangent"]
