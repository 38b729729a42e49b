"""The numeric comparison: the printed gradient against the truth at sample points, in high precision.

At each sample point the printed code (`printed.PrintedCode`, run with
mpmath numbers) is compared, coordinate by coordinate, with every truth
known there:

- SymPy's derivative of the whole function, or along the point's path,
  evaluated by the child (`symbolic`), when it arrived in time;
- the chain rule of SymPy's derivatives of each primitive
  (`chain.ChainRule`), computed here, always.

Points are random, inside the function's domain (the primal finite and real
there, and its derivative too, as far as each truth can tell), so they avoid
kinks and ties; a sample that is rejected is counted, with the first reasons.
Each comparison is made at 50 and at 70 digits, with a relative tolerance
of 1e-30 plus ten times the rounding error (how much the two precisions
differ), so that a derivative of 1e-80 is compared as strictly as one of 1
and a zero computed with rounding passes (the only absolute floor is 1e-300,
below which floating point has no numbers); a mismatch is evaluated once
more at 200 digits before it counts (`expm1(x) + 1` loses everything to
cancellation at x = -170 even at 70 digits). Where the printed code holds a
float the check cannot name exactly (folded in floating point), the
tolerance is 1e-12 plus ten times how much the printed derivative moves
when those floats move by 2**-50 (cancellation can magnify their rounding).

Where the printed code raises, it is run again with Python floats: if that
raises too, the generated code raises at a point where the derivative
exists (a failure); if not, the point is beyond what the emulation can do
there (rejected).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..errors import S2SError
from ..interpret import Interpreter, OutOfTime, Rejected
from .chain import PARTIALS, ChainRule, Dual, plain
from .domains import Numeric
from .evaluate import DIGITS, finite
from .printed import PrintedCode
from .report import Entry, Verdict
from .symbolic import EXTRA_DIGITS, PRECISIONS, Findings

if TYPE_CHECKING:
    from .checker import Checker
    from .prove import Child

RTOL = 1e-30  # relative tolerance of the numeric comparison
SMALLEST = 1e-300  # below this, a number is zero to floating point (erfc(22026.0) == 0.0): the only absolute floor
ROUNDED_RTOL = 1e-12  # when the gradient holds float constants the check cannot name exactly
SCREEN_DIGITS = 15  # a candidate point is first tried at this precision
CHAIN = "chain rule"
METHODS = {"sympy": "numeric", "path": "numeric (along the path)", CHAIN: "numeric (chain rule)"}


class CodeRaises(Exception):
    """The generated code raises at this point, with Python floats too."""


class Pending(Exception):
    """SymPy's derivative at this point has not arrived at the precision a comparison needs."""


@dataclass(frozen=True)
class Outcome:
    """One coordinate at one point against one truth."""

    agrees: bool
    relative: float  # |truth - ours| / max(1, |truth|, |ours|)
    truth: Any
    ours: Any


@dataclass
class Sample:
    """One point and what has been computed there."""

    index: int  # its number among the candidates (the child's messages name it so)
    values: tuple[float, ...]
    chain: dict[int, tuple[Any, ...]] = field(default_factory=dict)  # digits -> derivative per coordinate
    printed: dict[tuple[int, frozenset[float]], tuple[Any, ...]] = field(default_factory=dict)
    raises: str = ""  # the generated code raises here (with floats too)
    outcomes: dict[tuple[int, str], Outcome | None] = field(default_factory=dict)


class Numbers:
    """Both sides at the sample points, and the verdicts they give."""

    def __init__(self, checker: Checker, code: PrintedCode, start: float) -> None:
        self.checker = checker
        self.code = code
        self.start = start
        self.partials = PARTIALS
        self.samples: list[Sample] = []
        self.position = {label: k for k, label in enumerate(checker.wrt_coords)}
        self.suspects = frozenset(v for v in code.literals if v and v not in checker.primal_constants())
        self.rejections = self.ties = 0
        self.reasons: dict[str, None] = {}  # why samples were rejected, first seen first
        self.out_of_time = False
        self.failed = False
        self.unrunnable = ""  # the printed code could not be run in high precision: why

    # the two sides at a point

    def chain_at(self, sample: Sample, digits: int) -> tuple[Any, ...]:
        """The chain rule's derivative per coordinate at `digits` (nan where it does not exist)."""
        import mpmath

        found = sample.chain.get(digits)
        if found is None:
            with mpmath.workdps(digits):
                found = sample.chain[digits] = self._chain(sample.values)
        return found

    def _chain(self, values: Sequence[float]) -> tuple[Any, ...]:
        import mpmath

        c = self.checker
        numbers = {label: mpmath.mpf(v) for label, v in zip(c.coords, values)}

        def leaf(label: str) -> Any:
            k = self.position.get(label)
            return numbers[label] if k is None else Dual(numbers[label], {k: mpmath.mpf(1)})

        domain = ChainRule(c.constants, self.partials)
        result = Interpreter(domain, c.rules, c.data, deadline=c.deadline).run(c.primal, c.arguments(leaf))
        finite(plain(result), "the function")
        tangent = result.tangent if isinstance(result, Dual) else {}
        return tuple(_real(tangent.get(k, 0)) for k in range(len(c.wrt_coords)))

    def screen(self, values: Sequence[float]) -> None:
        """The function at the point in mpmath at 15 digits, without derivatives: most points outside the
        domain (or where a loop never ends) are rejected here at a fraction of the cost."""
        import mpmath

        c = self.checker
        with mpmath.workdps(SCREEN_DIGITS):
            numbers = {label: mpmath.mpf(v) for label, v in zip(c.coords, values)}
            result = Interpreter(Numeric(c.constants), c.rules, c.data, deadline=c.deadline).run(
                c.primal, c.arguments(numbers.__getitem__)
            )
            finite(result, "the function")

    def printed_at(self, sample: Sample, digits: int, perturbed: frozenset[float] = frozenset()) -> tuple[Any, ...]:
        """The printed code's derivative per coordinate at `digits`, the `perturbed` literals read 2**-50 off."""
        import mpmath

        key = (digits, perturbed)
        found = sample.printed.get(key)
        if found is None:
            with mpmath.workdps(digits):
                found = sample.printed[key] = self._printed(sample, perturbed)
        return found

    def _printed(self, sample: Sample, perturbed: frozenset[float]) -> tuple[Any, ...]:
        c = self.checker
        try:
            result = self.code.run(self.arguments(sample.values, high=True), c.deadline, perturbed)
        except (Rejected, OutOfTime, S2SError):
            raise
        except Exception as exc:  # noqa: BLE001 - whatever the generated code raises is examined
            raise self.explain(sample, exc) from None
        return tuple(_real(v) for v in c.gradients_of(result))

    def arguments(self, values: Sequence[float], high: bool) -> list[Any]:
        """The printed function's arguments: mpmath numbers (or floats), ints and truth values as typed."""
        import mpmath

        c = self.checker
        number = mpmath.mpf if high else float
        kinds = {"int": int, "bool": bool}
        leaves = {label: kinds.get(c.kinds[label], number)(v) for label, v in zip(c.coords, values)}
        arguments = c.arguments(leaves.__getitem__)
        return [arguments[name] for name in c.params]

    def explain(self, sample: Sample, exc: Exception) -> Exception:
        """What the printed code raising in high precision means: run it with floats to tell."""
        what = f"{type(exc).__name__}: {exc}"
        try:
            self.code.run(self.arguments(sample.values, high=False), self.checker.deadline, floats=True)
        except OutOfTime:
            raise
        except Exception as other:  # noqa: BLE001
            if type(other) is type(exc):
                return CodeRaises(f"the generated code raises {what}")
        if isinstance(exc, ArithmeticError | ValueError):
            return Rejected(f"the generated code is undefined here in high precision ({what})")
        self.unrunnable = what
        return Rejected(f"the check could not run the generated code in high precision ({what})")

    # sampling

    def sample(self, child: Child | None, findings: Findings) -> None:
        """Draw sample points until each coordinate has enough where the chain rule gives its derivative,
        or a mismatch (or the candidates, the samples allowed or the time run out); compare there at once,
        so that after a mismatch (`failed`) the check need not wait for SymPy."""
        c = self.checker
        usable = [0] * len(c.wrt_coords)
        try:
            for k, values in enumerate(c.candidates):
                if min(usable, default=c.points) >= c.points or len(self.samples) >= c.most_samples:
                    return
                if time.monotonic() > c.deadline:
                    raise OutOfTime()
                findings.drain(child)
                sample = self.accept(k, values)
                if sample is None:
                    continue
                for i, derivative in enumerate(self.chain_at(sample, DIGITS)):
                    if _finite(derivative) and usable[i] < c.points:
                        outcome = self.outcome(sample, i, CHAIN, None)
                        usable[i] = c.points if outcome is not None and not outcome.agrees else usable[i] + 1
                        self.failed = self.failed or (outcome is not None and not outcome.agrees)
        except OutOfTime:
            self.out_of_time = True

    def accept(self, k: int, values: tuple[float, ...]) -> Sample | None:
        """The candidate as a sample if the function is defined there (both sides evaluated at 50 digits)."""
        sample = Sample(k, values)
        try:
            if self.rejections:  # once a point has been rejected, try each at low precision first
                self.screen(values)
            self.chain_at(sample, DIGITS)
            try:
                self.printed_at(sample, DIGITS)
            except CodeRaises as exc:
                sample.raises = str(exc)
        except Rejected as exc:
            self.rejections += 1
            self.ties += exc.tie
            self.reasons.setdefault(str(exc), None)
            return None
        self.samples.append(sample)
        return sample

    def settled(self, findings: Findings) -> bool:
        """Whether the child has sent all the verdicts can use: SymPy's derivative (or that it has none)
        at the samples each coordinate would be compared at, and until the proofs' time is up, a proof or
        why not for each."""
        wanted = min(self.checker.points, len(self.samples))
        proving = findings.proving and time.monotonic() < self.checker.proof_deadline
        for i in range(len(self.checker.wrt_coords)):
            if proving and i not in findings.proofs:
                return False
            for sample in self.samples[:wanted]:
                if sample.index in findings.skipped:
                    continue
                if (sample.index, i) not in findings.values:
                    return False
                try:
                    self.compared(sample, i, findings, final=False)
                except Pending:  # it needs SymPy's value at more digits
                    return False
        return True

    # comparing

    def truth(self, sample: Sample, i: int, source: str, values: dict[int, Any] | None) -> Callable[[int], Any]:
        if source == CHAIN or values is None:
            return lambda digits: self.chain_at(sample, digits)[i]
        known = values

        def sent(digits: int) -> Any:
            if digits not in known:
                raise Pending()
            return known[digits]

        return sent

    def outcome(self, sample: Sample, i: int, source: str, values: dict[int, Any] | None) -> Outcome | None:
        """Coordinate i at the sample against one truth (`source`); None where that truth has no
        finite value. Computed once; raises `Pending` (and is computed again) while SymPy's values
        at the precision it needs are still to come."""
        key = (i, source)
        if key not in sample.outcomes:
            try:
                sample.outcomes[key] = self._outcome(sample, i, self.truth(sample, i, source, values))
            except Rejected:
                sample.outcomes[key] = None
        return sample.outcomes[key]

    def _outcome(self, sample: Sample, i: int, truth_at: Callable[[int], Any]) -> Outcome | None:
        """Agreement within the tolerance at 50 digits settles it; otherwise the two precisions' difference
        measures the rounding, and a mismatch is confirmed at 200 digits before it counts."""
        import mpmath

        measured: dict[int, tuple[Any, Any]] = {}
        rtol = self.rtol()
        for digits in PRECISIONS:
            with mpmath.workdps(digits):
                truth = truth_at(digits)
                if not _finite(truth):
                    return None
                if sample.raises:
                    if not _finite(self.chain_at(sample, digits)[i]):
                        return None  # it raises where the chain rule meets an infinite partial: not comparable
                    return Outcome(False, math.inf, truth, None)
                ours = self.printed_at(sample, digits)[i]
                if not _finite(ours):
                    return Outcome(False, math.inf, truth, ours)
                measured[digits] = (truth, ours)
                difference, scale = abs(truth - ours), max(abs(truth), abs(ours))
                relative = float(difference / max(1, scale))
                bound = rtol * scale + SMALLEST
                if digits != DIGITS:
                    rough = measured[PRECISIONS[PRECISIONS.index(digits) - 1]]
                    bound += 10 * (abs(truth - rough[0]) + abs(ours - rough[1]))
                    if difference > bound and self.suspects:
                        bound += 10 * self.sensitivity(sample, i, ours)
            if difference <= bound:
                return Outcome(True, relative, truth, ours)
        return Outcome(False, relative, truth, ours)

    def sensitivity(self, sample: Sample, i: int, ours: Any) -> Any:
        """How much the printed derivative moves when the float literals only the gradient holds (folded
        in floating point: `(180 * 0.5 / pi) ** 2`, or `31.622776601683793 ** 2` printed as the round
        1000.0) move by 2**-50: their rounding, which cancellation can magnify far beyond 1e-16."""
        if not self.suspects:
            return 0
        return abs(self.printed_at(sample, DIGITS + EXTRA_DIGITS, self.suspects)[i] - ours)

    def rtol(self) -> float:
        unnamed = (self.checker.constants.unnamed & set(self.code.literals)) - self.checker.primal_constants()
        return ROUNDED_RTOL if unnamed or self.code.in_floats else RTOL

    def compared(self, sample: Sample, i: int, findings: Findings, final: bool = True) -> list[tuple[str, Outcome]]:
        """Coordinate i at the sample against each truth known there: (method, outcome). Unless `final`,
        raises `Pending` where SymPy's value is there but not yet at the precision the comparison needs."""
        found = []
        values, kind = findings.values.get((sample.index, i), (None, ""))
        if values is not None:
            try:
                outcome = self.outcome(sample, i, kind, values)
            except Pending:
                if not final:
                    raise
                outcome = None  # the child was stopped before it sent more digits: the chain rule decides here
            if outcome is not None:
                found.append((METHODS[kind], outcome))
        outcome = self.outcome(sample, i, CHAIN, None)
        if outcome is not None:
            found.append((METHODS[CHAIN], outcome))
        return found

    # verdicts

    def entries(self, findings: Findings) -> tuple[Entry, ...]:
        return tuple(self.entry(i, name, findings) for i, name in enumerate(self.checker.wrt_coords))

    def entry(self, i: int, name: str, findings: Findings) -> Entry:
        c = self.checker
        used: list[tuple[float, ...]] = []
        methods: set[str] = set()
        largest: float | None = None
        failure = ""
        skipped = 0
        out_of_time = self.out_of_time
        try:
            for sample in self.samples:
                if len(used) >= c.points or failure:
                    break
                compared = self.compared(sample, i, findings)
                if not compared:
                    skipped += 1
                    continue
                used.append(sample.values)
                methods.add(compared[0][0])
                largest = max(largest or 0.0, *(outcome.relative for _, outcome in compared))
                failure = next((self.mismatch(sample, m, o) for m, o in compared if not o.agrees), "")
        except OutOfTime:
            out_of_time = True
        sympy, ours, missing = findings.derivatives.get(i, (None, None, self.missing(findings)))
        stage, why = findings.proofs.get(i, ("", ""))
        verdict, method, note = self.verdict(used, methods, failure, stage, out_of_time, skipped)
        notes = "; ".join(n for n in (why if not stage else "", note) if n)
        seconds = time.monotonic() - self.start
        return Entry(name, sympy, ours, method, verdict, tuple(used), largest, seconds, notes, missing if sympy is None else "")

    def verdict(
        self, used: list[tuple[float, ...]], methods: set[str], failure: str, stage: str, out_of_time: bool, skipped: int
    ) -> tuple[Verdict, str, str]:
        """(verdict, method, note) for one coordinate."""
        c = self.checker
        method = " + ".join(sorted(methods)) or "numeric"
        rejected = self.rejected(skipped)
        if failure:
            proved = f"SymPy proves the gradient IR right (symbolic ({stage})): the printed code is not" if stage else ""
            return "fail", method, "; ".join(n for n in (failure, proved, rejected) if n)
        if len(used) < c.points:
            if out_of_time:
                return "undecided", method, f"ran out of time after {len(used)} of {c.points} sample points"
            why = f"only {len(used)} of {c.points} sample points inside the function's domain"
            return "undecided", method, "; ".join(n for n in (why, rejected) if n)
        return "pass", f"symbolic ({stage})" if stage else method, rejected

    def rejected(self, skipped: int) -> str:
        if not self.rejections and not skipped:
            return ""
        parts = [f"{self.rejections} sample(s) rejected"]
        if self.ties:
            parts[0] += f", {self.ties} of them at a tie or kink"
        if self.reasons:
            parts[0] += f" ({'; '.join(list(self.reasons)[:2])})"
        if skipped:
            parts.append(f"{skipped} where the derivative is not a finite real number")
        return ", ".join(parts)

    def mismatch(self, sample: Sample, method: str, outcome: Outcome) -> str:
        import mpmath

        where = ", ".join(f"{p}={v}" for p, v in zip(self.checker.coords, sample.values))
        truth = "SymPy's derivative by the chain rule" if method == METHODS[CHAIN] else "SymPy"
        if sample.raises:
            return f"at {where}: {truth} gives {mpmath.nstr(outcome.truth, 17)}, but {sample.raises}"
        return f"at {where}: {truth} gives {mpmath.nstr(outcome.truth, 17)}, the generated code {mpmath.nstr(outcome.ours, 17)}"

    def missing(self, findings: Findings) -> str:
        """Why a coordinate has no SymPy expression to show."""
        if findings.missing:
            return findings.missing
        if findings.error:
            return "SymPy failed"
        return "not built within the time budget"

    def notes(self) -> list[str]:
        notes = []
        unnamed = sorted((self.checker.constants.unnamed & set(self.code.literals)) - self.checker.primal_constants())
        if unnamed:
            notes.append(
                "the gradient holds float constants compared as printed: "
                + ", ".join(map(repr, unnamed[:4]))
                + f" (tolerance {ROUNDED_RTOL:g})"
            )
        if self.code.in_floats:
            notes.append(
                f"{', '.join(self.code.in_floats)} ran in floating point (their source could not be read back): "
                f"tolerance {ROUNDED_RTOL:g}"
            )
        if self.unrunnable:
            notes.append(f"the check could not run the generated code in high precision at some points ({self.unrunnable})")
        return notes


def _real(value: Any) -> Any:
    """A derivative as an mpmath real number (nan for a complex one)."""
    import mpmath

    if isinstance(value, bool | int | float):
        return mpmath.mpf(value)
    if isinstance(value, mpmath.mpf):
        return value
    return mpmath.nan


def _finite(value: Any) -> bool:
    import mpmath

    return isinstance(value, mpmath.mpf) and bool(mpmath.isfinite(value))
