"""IR -> IR clean-ups, each a small pure function in a file of its own, run as one short list.

Every pass keeps IEEE semantics: constants are folded only where Python
would compute the same value, identities are only the exact ones (see
`rules.emit.fold`), and nothing with an effect on a list or the tape is dropped.
Names are SSA, so a replacement found anywhere holds everywhere after it.
Each pass's docstring says why it changes no number.
"""

from __future__ import annotations

from collections.abc import Mapping

from ..ir import Function
from ..rules import RULES, Rule
from .common import Pass
from .cse import common_subexpressions
from .dead_code import dead_code
from .floats import float_gradients, narrow_gradients
from .hoist import hoist
from .names import gradient_names
from .peephole import peephole
from .propagate import propagate
from .signs import signs
from .spreads import spreads
from .tape import tape_arrays, tape_slots

PASSES: tuple[Pass, ...] = (
    propagate,
    peephole,
    spreads,
    signs,
    propagate,
    hoist,
    common_subexpressions,
    dead_code,
    float_gradients,
    tape_slots,
    tape_arrays,
    gradient_names,
)


def optimize(function: Function, rules: Mapping[str, Rule] = RULES) -> Function:
    """Every pass, in order."""
    for step in PASSES:
        function = step(function, rules)
    return function


__all__ = [
    "PASSES",
    "Pass",
    "common_subexpressions",
    "dead_code",
    "float_gradients",
    "gradient_names",
    "hoist",
    "narrow_gradients",
    "optimize",
    "peephole",
    "propagate",
    "signs",
    "spreads",
    "tape_arrays",
    "tape_slots",
]
