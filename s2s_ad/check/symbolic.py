"""SymPy's side of the check, as a job for the forked child (`prove.Child`): nothing here has a deadline.

The job reads the primal IR with the rule table's SymPy spellings
(`Symbolic`) into SymPy's expression of the function, differentiates it per
coordinate (`evaluate.derivative`), and sends, as soon as each is known:

- ("expression", function or None, why not): for the report;
- ("derivative", i, SymPy's derivative, the gradient IR's expression, why not):
  for the report (None when larger than `SHOW_LIMIT` nodes);
- ("value", k, i, {digits: value} or None): SymPy's derivative in coordinate
  i at candidate point k, at each precision the comparison uses;
- ("proof", i, stage, why not): the symbolic proof that the gradient IR
  computes SymPy's derivative (cheap tests for every coordinate first, then
  `simplify` for those left, each in a child of its own with a share of the
  time left).

When the function has no single expression (its path depends on the point,
or unrolling passes `STATEMENT_LIMIT` statements), the values are SymPy's
derivative along the path each candidate point takes, until one path
passes the limit too.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..errors import S2SError
from ..interpret import FollowPaths, Interpreter, Rejected
from .domains import Numeric, Symbolic
from .evaluate import DIGITS, CannotEvaluate, MpMathEvaluator, derivative, finite, to_mpmath
from .prove import Child, Send, prove_zero, prove_zero_within

if TYPE_CHECKING:
    from .checker import Checker

STATEMENT_LIMIT = 2_000  # statements one symbolic interpretation may evaluate before following paths
SHOW_LIMIT = 4_000  # nodes (counting repeated subexpressions each time) of an expression shown in the report
EXTRA_DIGITS = 20  # each point is evaluated again at DIGITS + EXTRA_DIGITS: the change measures rounding
CONFIRM_DIGITS = 200  # a mismatch is evaluated once more at this precision (cancellation below 70 digits)
PRECISIONS = (DIGITS, DIGITS + EXTRA_DIGITS, CONFIRM_DIGITS)
EXTRA_SAMPLES = 2  # SymPy's derivative is evaluated at this many points more than the comparison needs


@dataclass
class Findings:
    """What the parent has received from the child so far."""

    expression: Any = None  # the function as a SymPy expression (None: see `missing`)
    missing: str = ""  # why there is no expression, when the child said
    derivatives: dict[int, tuple[Any, Any, str]] = field(default_factory=dict)  # i -> (SymPy's, ours, why not shown)
    values: dict[tuple[int, int], tuple[dict[int, Any] | None, str]] = field(default_factory=dict)  # (k, i) -> values, kind
    proofs: dict[int, tuple[str, str]] = field(default_factory=dict)  # i -> (stage or "", why not)
    skipped: set[int] = field(default_factory=set)  # candidates where the child found the function undefined
    proving: bool = True  # the child will send a proof (or why not) for each coordinate
    notes: list[str] = field(default_factory=list)
    error: str = ""  # SymPy failed: what it raised
    done: bool = False  # the child finished its job

    def take(self, message: tuple[Any, ...]) -> None:
        kind = message[0]
        if kind == "expression":
            self.expression, self.missing = message[1], message[2]
            if message[3]:
                self.notes.append(f"following the path of each sample point: {message[3]}")
        elif kind == "derivative":
            self.derivatives[message[1]] = (message[2], message[3], message[4])
        elif kind == "value":
            self.values[(message[1], message[2])] = (message[3], message[4])
        elif kind == "proof":
            self.proofs[message[1]] = (message[2], message[3])
        elif kind == "skipped":
            self.skipped.add(message[1])
        elif kind == "no proofs":
            self.proving = False
        elif kind == "note":
            self.notes.append(message[1])
        elif kind == "error":
            self.error, self.proving = message[1], False
            self.notes.append(f"{message[1]}: where SymPy's derivative is missing, the truth is the chain rule at each point")
        elif kind == "end":
            self.done = True

    def drain(self, child: Child | None) -> None:
        """Whatever the child has sent by now, without waiting."""
        if child is not None:
            for message in child.messages(0.0):
                self.take(message)

    def read(self, child: Child, until: float, enough: Callable[[], bool]) -> None:
        """What the child sends until it is done, or `enough()` (asked at each message and every 50 ms),
        or the clock passes `until`."""
        while not (self.done or child.ended or enough()) and time.monotonic() < until:
            for message in child.messages(min(until, time.monotonic() + 0.05)):
                self.take(message)
                if self.done or enough():
                    return


def symbolic_job(checker: Checker, send: Send) -> None:
    """The child's work for one check (see the module docstring)."""
    arguments = checker.arguments(checker.symbols.__getitem__)
    try:
        primal = Interpreter(Symbolic(checker.constants), checker.rules, checker.data, limit=STATEMENT_LIMIT).run(
            checker.primal, arguments
        )
    except (FollowPaths, Rejected) as exc:
        send(("expression", None, "depends on the path through the code", str(exc)))
        send(("no proofs",))
        _path_values(checker, send)
        return
    shown = _shown(primal)
    send(("expression", shown, "" if shown is not None else "too large to print", ""))
    try:
        ours: Sequence[Any] | None = checker.flatten(
            Interpreter(Symbolic(checker.constants), checker.rules, checker.data, limit=STATEMENT_LIMIT).run(
                checker.gradient_function(), arguments
            )
        )
    except (FollowPaths, Rejected):
        ours = None  # the gradient IR is past the unrolling limit: compared at points only
    except S2SError as exc:  # the printed code is compared all the same
        ours = None
        send(("note", f"SymPy cannot read the gradient IR: {exc.message}"))
    derivatives = []
    proved: set[int] = set()
    for i, name in enumerate(checker.wrt_coords):
        truth = derivative(primal, checker.symbols[name])
        derivatives.append(truth)
        mine = ours[i] if ours is not None else None
        shown, ours_shown = _shown(truth), _shown(mine)
        send(("derivative", i, shown, ours_shown, "" if shown is not None else "too large to print"))
        if mine is not None and checker.symbolic and truth - mine == 0:  # SymPy's canonical forms agree
            send(("proof", i, "identical", ""))
            proved.add(i)
    if ours is None or not checker.symbolic:
        send(("no proofs",))
    _values(checker, send, lambda k, i: derivatives[i], primal)
    if ours is not None and checker.symbolic:
        _proofs(checker, send, derivatives, ours, proved)


def _values(checker: Checker, send: Send, truth: Any, primal: Any) -> None:
    """SymPy's derivatives at the candidate points inside the domain (as many as the parent may use):
    at 50 digits first (all a comparison needs unless it finds cancellation), then at every precision."""
    accepted: list[tuple[int, dict[Any, Any]]] = []  # (candidate, symbol -> number)
    for k, values in enumerate(checker.candidates):
        if len(accepted) >= checker.points + EXTRA_SAMPLES:
            break
        point = checker.point(values)
        if primal is not None and not _finite_at(primal, point):
            send(("skipped", k))
            continue
        accepted.append((k, point))
        for i in range(len(checker.wrt_coords)):
            send(("value", k, i, _at(truth(k, i), point, PRECISIONS[:1]), "sympy"))
    for k, point in accepted:
        for i in range(len(checker.wrt_coords)):
            send(("value", k, i, _at(truth(k, i), point), "sympy"))


def _path_values(checker: Checker, send: Send) -> None:
    """SymPy's derivatives along the path of each candidate point, until a path is too long."""
    accepted = 0
    arguments = checker.arguments(checker.symbols.__getitem__)
    for k, values in enumerate(checker.candidates):
        if accepted >= checker.points + EXTRA_SAMPLES:
            return
        point = checker.point(values)
        numbers = checker.arguments(dict(zip(checker.coords, point.values())).__getitem__)
        try:  # numerically first: points outside the domain, or where a loop never ends, cost little
            finite(Interpreter(Numeric(checker.constants), checker.rules, checker.data).run(checker.primal, numbers), "")
            path = Interpreter(Symbolic(checker.constants, point), checker.rules, checker.data, limit=STATEMENT_LIMIT).run(
                checker.primal, arguments
            )
        except FollowPaths:
            return  # past the limit along one path: the others are likely too
        except Rejected:
            send(("skipped", k))
            continue
        if not _finite_at(path, point):
            send(("skipped", k))
            continue
        accepted += 1
        for i, name in enumerate(checker.wrt_coords):
            send(("value", k, i, _at(derivative(path, checker.symbols[name]), point), "path"))


def _finite_at(expression: Any, point: dict[Any, Any]) -> bool:
    import mpmath

    try:
        with mpmath.workdps(DIGITS):
            finite(MpMathEvaluator(point).value(expression), "the function")
    except (Rejected, CannotEvaluate, ArithmeticError, ValueError, TypeError):
        return False
    return True


def _at(expression: Any, point: dict[Any, Any], precisions: Sequence[int] = PRECISIONS) -> dict[int, Any] | None:
    """The expression at the point at each precision, or None where it is not a finite real number
    there, or is at a tie or kink."""
    import mpmath
    import sympy

    found = {}
    for digits in precisions:
        with mpmath.workdps(digits):
            evaluator = MpMathEvaluator(point)
            try:
                value = evaluator.value(expression)
                if evaluator.ties:
                    return None
            except CannotEvaluate:
                exact = {symbol: sympy.Float(v, digits) for symbol, v in point.items()}
                try:
                    value = to_mpmath(expression.xreplace(exact).evalf(digits))
                except (Rejected, ArithmeticError, ValueError, TypeError):
                    return None
            except (Rejected, ArithmeticError, ValueError, TypeError):
                return None
            if not isinstance(value, mpmath.mpf) or not mpmath.isfinite(value):
                return None
            found[digits] = value
    return found


def _proofs(checker: Checker, send: Send, derivatives: Sequence[Any], ours: Sequence[Any], proved: set[int]) -> None:
    """The cheap tests for every coordinate, then `simplify` (in a child of its own) for those left."""
    left = []
    for i, (truth, mine) in enumerate(zip(derivatives, ours)):
        if i in proved:
            continue
        if time.monotonic() > checker.proof_deadline:
            return  # the numbers decide the rest
        stage, why = prove_zero(truth - mine, cheap=True)
        if stage:
            send(("proof", i, stage, ""))
        else:
            left.append(i)
    for n, i in enumerate(left):
        share = (checker.proof_deadline - time.monotonic()) / (len(left) - n)
        stage, why = prove_zero_within(derivatives[i] - ours[i], share)
        send(("proof", i, stage, why))


def _shown(expression: Any) -> Any:
    """The expression, if it is small enough to send and print; else None."""
    if expression is None:
        return None
    sizes: dict[Any, int] = {}
    stack = [expression]
    while stack:  # the tree's size, each repeated subexpression counted where it appears
        node = stack[-1]
        waiting = [a for a in getattr(node, "args", ()) if a not in sizes]
        if waiting:
            stack.extend(waiting)
            continue
        stack.pop()
        sizes[node] = 1 + sum(sizes[a] for a in getattr(node, "args", ()))
        if sizes[node] > SHOW_LIMIT:
            return None
    return expression
