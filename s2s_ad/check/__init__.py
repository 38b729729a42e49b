"""The SymPy cross-check: does the generated gradient compute the derivative SymPy computes?

The truth is SymPy's derivative of the primal IR (what the lowering made of
the user's function, read with the rule table's SymPy spellings). What is
compared with it is the gradient users run: the printed source itself,
parsed back and run with its arithmetic in 50-digit mpmath numbers
(`printed`), so a wrong Python spelling of a primitive, a printing slip
(parentheses, folding) or a wrong statement shows. For each coordinate:

- symbolically, in a forked child (`prove`, `symbolic`): SymPy's expression
  of the function, its derivative, and a proof that the gradient IR (read
  with the same SymPy spellings) computes it (the structural test,
  `expand`, `cancel`, the pieces of a `Piecewise` one by one, then
  `simplify` and `equals`); the child also evaluates SymPy's derivative at
  the sample points;
- numerically, here (`compare`, `chain`): at random points inside the
  function's domain the printed code's derivative against every truth
  known there, SymPy's derivative from the child and always the chain rule
  of SymPy's derivatives of each primitive, which needs no whole expression
  (a long chain of `sin(x) * x + cos(x)` has a derivative SymPy cannot
  build in minutes).

"pass" needs the printed code to agree at every one of the `points` sample
points; the method says whether the gradient IR was also proved
("symbolic (...)") or only compared ("numeric", "numeric (along the path)",
"numeric (chain rule)"). A mismatch at any point is a failure; a check that
runs out of time or finds too few points inside the domain says
"undecided", never "pass". The budget is the whole check's: SymPy's side
is killed when it is spent, and the numbers stop at the same deadline.

Branches become `Piecewise`; loops with a known trip count are unrolled, up
to a limit on the statements evaluated. Past that limit, or when a loop's
trip count or a condition depends on the parameters, each sample point
follows its own path: SymPy's derivative along it, or the chain rule.

Float constants are named exactly where they can be (`57.29577951308232` is
`180/pi`), so that a formula the rule table writes with `math.pi` compares
exactly (`constants`). Conventions at non-differentiable points follow the
rule table: SymPy's derivative is taken almost everywhere (`DiracDelta` and
the derivatives of `floor`/`ceiling` are zero), and sample points are random,
so they avoid kinks and ties; a sample that lands on one is rejected and
counted.

SymPy and mpmath are imported inside the functions that use them, so
`import s2s_ad.check` does not import SymPy.
"""

from ..interpret import data_of
from .checker import DEFAULT_LENGTH, SYMBOLIC_SHARE, Checker, check, check_built, sympy_value
from .compare import ROUNDED_RTOL, RTOL, SMALLEST
from .constants import Constants
from .evaluate import DIGITS, MpMathEvaluator, derivative
from .prove import prove_zero, prove_zero_within
from .report import Entry, Report, Verdict
from .symbolic import CONFIRM_DIGITS, EXTRA_DIGITS, STATEMENT_LIMIT

__all__ = [
    "CONFIRM_DIGITS",
    "DEFAULT_LENGTH",
    "DIGITS",
    "EXTRA_DIGITS",
    "ROUNDED_RTOL",
    "RTOL",
    "SMALLEST",
    "STATEMENT_LIMIT",
    "SYMBOLIC_SHARE",
    "Checker",
    "Constants",
    "Entry",
    "MpMathEvaluator",
    "Report",
    "Verdict",
    "check",
    "check_built",
    "data_of",
    "derivative",
    "prove_zero",
    "prove_zero_within",
    "sympy_value",
]
