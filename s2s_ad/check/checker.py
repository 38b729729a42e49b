"""One check, start to end: the entry points `check` and `check_built`, and `Checker`, which runs them.

The budget is the whole check's, and every part that can take long is under
it: SymPy's side runs in a forked child (`prove.Child`) that is killed when
the budget is spent; the numbers (the chain rule at each point, the printed
code at each point) run in this process through interpreters and read-back
code that stop at the deadline. Timeline, with `start` taken after SymPy is
imported:

- at `start` the child begins SymPy's side (`symbolic.symbolic_job`), and
  this process draws sample points and evaluates both sides there
  (`compare.Numbers.sample`), reading the child's messages between points;
- after a confirmed mismatch the check waits only for SymPy's derivatives
  (to show them), until `start + SYMBOLIC_SHARE * budget` at the latest;
- otherwise the check waits for the child until it has sent what the
  verdicts need (SymPy's derivative at the points used, a proof or why not
  for each coordinate), or `start + budget`; `simplify` gets until `start +
  SYMBOLIC_SHARE * budget`;
- then each coordinate gets its verdict from what is known
  (`compare.Numbers.entries`).
"""

from __future__ import annotations

import dataclasses
import random
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from .. import codegen, frontend, ir, pipeline
from ..errors import UnsupportedError
from ..frontend.structures import Node
from ..interpret import Interpreter, data_of
from ..rules import RULES, Rule
from ..rules.custom import Body
from .compare import Numbers
from .constants import Constants
from .domains import Symbolic
from .printed import PrintedCode
from .prove import Child
from .report import Report
from .symbolic import STATEMENT_LIMIT, Findings, symbolic_job

SYMBOLIC_SHARE = 0.5  # `simplify` must be done by this part of the budget
DEFAULT_LENGTH = 3  # elements of each list parameter (at each level), unless `lengths=` says otherwise
CANDIDATES_PER_POINT = 60  # candidate points drawn per sample point wanted (narrow domains reject most)
SAMPLES_PER_POINT = 3  # at most this many samples per point wanted are evaluated (a coordinate may skip some)


def check(
    f: Callable[..., Any],
    wrt: Any = None,
    *,
    budget: float = 3.0,
    points: int = 6,
    seed: int = 0,
    rules: Mapping[str, Rule] = RULES,
    symbolic: bool = True,
    lengths: Mapping[str, int] | None = None,
    args: Sequence[object] | None = None,
) -> Report:
    """Cross-check the gradient s2s_ad generates for `f` against SymPy's derivative.

    `wrt` is as for `grad` (None means every parameter). `budget` is the time
    allowed for the whole check, in seconds (building the gradient and
    importing SymPy not counted; a check returns within about that);
    `points` the number of sample points at which the printed gradient must
    agree; `seed` makes the points reproducible. `rules` is the rule table to
    build the gradient with (tests inject wrong rules to see the check fail);
    SymPy's side reads the same table's SymPy spellings. `symbolic=False`
    skips the symbolic proof and compares at points only (for property tests
    that check thousands of functions). A list parameter gets one symbol per
    element; `lengths` gives its length (default 3, at every level of a list
    of lists). A function on NumPy arrays is checked at the shapes of
    example arguments `args` (see `check.arrays`: element by element, against
    the printed primal's derivative in high precision).
    """
    parsed = frontend.from_function(f)
    structures = frontend.structures_of(parsed, args, {}) if args is not None else {}
    if structures or (args is None and frontend.reads_structures(parsed)):
        return _check_structured(parsed, wrt, args, structures, rules, budget=budget, points=points, seed=seed, symbolic=symbolic)
    if frontend.uses_arrays(parsed):
        return _check_on_arrays(parsed, wrt, args, rules, budget=budget, seed=seed, user=f)
    built = pipeline.build(parsed, wrt, with_value=False, rules=rules)
    return check_built(
        built.primal,
        built.derived,
        built.wrt,
        data_of(parsed, built.primal, built.derived),
        built.rules,  # with the entries of custom derivatives
        budget=budget,
        points=points,
        seed=seed,
        symbolic=symbolic,
        lengths=lengths,
        generated=built.generated,
    )


def _check_on_arrays(
    parsed: frontend.ParsedFunction,
    wrt: pipeline.Wrt,
    args: Sequence[object] | None,
    rules: Mapping[str, Rule],
    *,
    budget: float,
    seed: int | None,
    user: Callable[..., Any],
) -> Report:
    """A function on NumPy arrays, at the shapes of example arguments (`check.arrays`)."""
    from .arrays import check_arrays

    if args is None:
        raise parsed.source.error(
            UnsupportedError,
            f"'{parsed.name}' works on NumPy arrays: the check needs example arguments for their shapes",
            parsed.node,
            f"check({parsed.name}, args=(...)) with arrays of the shapes to check at (small ones are quick)",
        )
    types = pipeline.argument_types(parsed, args, {})
    built = pipeline.build(parsed, wrt, with_value=False, rules=rules, arg_types=types)
    return check_arrays(
        parsed.name,
        built.primal,
        built.derived,
        built.wrt,
        args,
        built.rules,
        budget=budget,
        seed=seed,
        user=user,
        bare=built.bare,
    )


def _check_structured(
    parsed: frontend.ParsedFunction,
    wrt: pipeline.Wrt,
    args: Sequence[object] | None,
    structures: Mapping[str, Node],
    rules: Mapping[str, Rule],
    **options: Any,
) -> Report:
    """A function taking structured parameters, at the structures of example arguments: the gradient as lowered,
    with a parameter per leaf read (`p_w` for `p["w"]`), checked as any function of those is."""
    if args is None:
        raise parsed.source.error(
            UnsupportedError,
            f"'{parsed.name}' reads a parameter as a structure: the check needs example arguments for its keys",
            parsed.node,
            f"check({parsed.name}, args=(...)) with arguments of the structure to check at",
        )
    types = pipeline.argument_types(parsed, args, {})
    built = pipeline.build(parsed, wrt, with_value=False, rules=rules, arg_types=types, structures=structures)
    flat = built.flat
    assert flat is not None  # built for structures
    if frontend.uses_arrays(flat.parsed):
        from .arrays import check_arrays

        node = parsed.node.args
        names = [a.arg for a in (*node.posonlyargs, *node.args, *node.kwonlyargs)]
        values = flat.arguments(dict(zip(names, args)))
        flat_args = [values[p.name] for p in built.primal.params if p.name in values]
        return check_arrays(
            parsed.name,
            built.primal,
            built.derived,
            built.wrt,
            flat_args,
            built.rules,
            budget=options["budget"],
            seed=options["seed"],
            bare=False,  # the flattened gradient: a tuple, one per leaf
        )
    return check_built(
        built.primal, built.derived, built.wrt, data_of(flat.parsed, built.primal, built.derived), built.rules, **options
    )


def check_built(
    primal: ir.Function,
    derived: ir.Function,
    wrt: tuple[str, ...],
    data: Mapping[str, object],
    rules: Mapping[str, Rule] = RULES,
    *,
    budget: float = 3.0,
    points: int = 6,
    seed: int = 0,
    symbolic: bool = True,
    lengths: Mapping[str, int] | None = None,
    generated: codegen.Generated | None = None,
    with_value: bool = False,
) -> Report:
    """Cross-check a gradient against SymPy's derivative of `primal`.

    `derived` is the gradient IR: it returns one gradient operand per name of
    `wrt` (a tuple, or the operand itself for a single name), or with
    `with_value` the pair (value, gradient). `generated` is the code printed
    from it, the code whose numbers are compared (printed here from `derived`
    when not given). `data` gives the values of the `ir.Global` names.
    Raises `UnsupportedError` for IR the check cannot read.
    """
    checker = Checker(
        primal,
        derived,
        tuple(wrt),
        data,
        rules,
        generated,
        budget=budget,
        points=points,
        seed=seed,
        symbolic=symbolic,
        lengths=lengths,
        with_value=with_value,
    )
    return checker.run()


def sympy_value(
    function: ir.Function, args: Sequence[Any], rules: Mapping[str, Rule] = RULES, data: Mapping[str, object] | None = None
) -> Any:
    """The SymPy expression `function` computes from the SymPy values `args` (its IR, interpreted with
    the rule table's SymPy spellings). Custom derivatives are spelled with it (see `spelled`)."""
    values = {p.name: a for p, a in zip(function.params, args)}
    return Interpreter(Symbolic(Constants()), spelled(rules), data or {}, limit=STATEMENT_LIMIT).run(function, values)


def spelled(rules: Mapping[str, Rule]) -> Mapping[str, Rule]:
    """`rules` with a SymPy spelling for each custom derivative spelled by its body (`rules.custom.Body`):
    the body's IR, interpreted with SymPy values. The rules cannot interpret IR; the check can."""
    bodies = {op: rule.sympy for op, rule in rules.items() if isinstance(rule.sympy, Body)}
    if not bodies:
        return rules
    return {**rules, **{op: dataclasses.replace(rules[op], sympy=_interpreted(body)) for op, body in bodies.items()}}


def _interpreted(body: Body) -> Callable[..., Any]:
    def spelling(sp: Any, *xs: Any) -> Any:
        function, table = body.lowered()
        return body.pick(sympy_value(function, xs, table))

    return spelling


class Checker:
    """One check. Parameters that are lists become one coordinate per element (`xs[0]`, `xs[1]`, ...)."""

    def __init__(
        self,
        primal: ir.Function,
        derived: ir.Function,
        wrt: tuple[str, ...],
        data: Mapping[str, object],
        rules: Mapping[str, Rule],
        generated: codegen.Generated | None,
        *,
        budget: float,
        points: int,
        seed: int,
        symbolic: bool,
        lengths: Mapping[str, int] | None,
        with_value: bool,
    ) -> None:
        self.primal, self.derived, self.wrt, self.data, self.rules = primal, derived, wrt, data, spelled(rules)
        self.generated = generated
        self.with_value = with_value
        self.budget = max(0.0, float(budget))
        self.points = max(1, int(points))
        self.symbolic = symbolic
        self.rng = random.Random(seed)
        self.params = tuple(p.name for p in primal.params)
        self.lengths = dict(lengths or {})
        self.shapes = {p.name: self.shape(p) for p in primal.params}
        self.coordinates = {name: _labels(name, shape) for name, shape in self.shapes.items()}
        self.coords = tuple(label for name in self.params for label in self.coordinates[name])
        self.wrt_coords = tuple(label for name in self.wrt for label in self.coordinates.get(name, ()))
        self.kinds = {label: _element_kind(p.type) for p in primal.params for label in self.coordinates[p.name]}
        self.constants = Constants()
        self.notes: list[str] = []
        self.validate()
        self.candidates = [self.draw() for _ in range(CANDIDATES_PER_POINT * self.points)]
        self.most_samples = SAMPLES_PER_POINT * self.points
        self.symbols: dict[str, Any] = {}
        self.deadline = self.proof_deadline = 0.0

    # the function's coordinates

    def shape(self, param: ir.Param) -> tuple[int, ...]:
        """() for a number, (n,) for a list of n numbers, (n, n) for a list of lists, ..."""
        depth = ir.list_depth(param.type)
        length = self.lengths.get(param.name, DEFAULT_LENGTH)
        if depth and (not isinstance(length, int) or length < 0):
            raise UnsupportedError(f"the check needs a length for the list parameter '{param.name}', not {length!r}")
        return (length,) * depth

    def structure(self, name: str, leaf: Callable[[str], Any]) -> Any:
        """The argument for parameter `name`, with `leaf(label)` at each coordinate."""
        labels = iter(self.coordinates[name])

        def build(shape: tuple[int, ...]) -> Any:
            return [build(shape[1:]) for _ in range(shape[0])] if shape else leaf(next(labels))

        return build(self.shapes[name])

    def arguments(self, leaf: Callable[[str], Any]) -> dict[str, Any]:
        return {name: self.structure(name, leaf) for name in self.params}

    def point(self, values: Sequence[float]) -> dict[Any, Any]:
        """Symbol -> mpmath number at a sample point."""
        import mpmath

        return {self.symbols[label]: mpmath.mpf(v) for label, v in zip(self.coords, values)}

    def flatten(self, gradients: Sequence[Any]) -> tuple[Any, ...]:
        """Per-parameter gradients (lists for list parameters) -> one value per coordinate of `wrt`."""
        flat: list[Any] = []

        def walk(value: Any, shape: tuple[int, ...], name: str) -> None:
            if not shape:
                if isinstance(value, list | tuple):
                    raise UnsupportedError(f"the gradient of '{name}' has a list where a number belongs")
                flat.append(value)
                return
            if not isinstance(value, list) or len(value) != shape[0]:
                size = len(value) if isinstance(value, list) else "no"
                raise UnsupportedError(f"the gradient of '{name}' has {size} elements where {shape[0]} belong")
            for item in value:
                walk(item, shape[1:], name)

        for name, value in zip(self.wrt, gradients):
            walk(value, self.shapes[name], name)
        return tuple(flat)

    def validate(self) -> None:
        if isinstance(self.primal.returns, tuple):
            raise UnsupportedError("the check takes functions that return one number")
        for name in self.wrt:
            if name not in self.params:
                raise UnsupportedError(f"the check was asked for '{name}', which is not a parameter")
        returns = self.derived.returns
        if self.with_value:
            if not isinstance(returns, tuple) or len(returns) != 2:
                raise UnsupportedError("with_value: the gradient IR must return (value, gradient)")
            returns = returns[1]
        self.bare = not isinstance(returns, tuple)  # a single gradient, not a tuple of one
        gradients = returns if isinstance(returns, tuple) else (returns,)
        operands = tuple(r for r in gradients if not isinstance(r, tuple))
        if len(operands) != len(self.wrt) or len(operands) != len(gradients):
            raise UnsupportedError(f"the gradient IR does not return one value per parameter of {self.wrt}")
        self.gradients: tuple[ir.Operand, ...] = operands
        if [p.name for p in self.derived.params] != list(self.params):
            raise UnsupportedError("the check takes gradients with the function's own parameters")

    def gradient_function(self) -> ir.Function:
        """The derived function returning the per-parameter tuple, whatever its original shape."""
        d = self.derived
        return ir.Function(d.name, d.params, d.body, self.gradients, d.loc, d.sources)

    def gradients_of(self, result: Any) -> tuple[Any, ...]:
        """What the printed function returned -> one value per coordinate of `wrt`."""
        if self.with_value:
            result = result[1]
        if self.bare:
            result = (result,)
        if not isinstance(result, tuple | list) or len(result) != len(self.wrt):
            raise UnsupportedError(f"the generated code does not return one value per parameter of {self.wrt}")
        return self.flatten(result)

    def draw(self) -> tuple[float, ...]:
        """A random point; scales vary so that narrow domains (|x| < 1, x > 1) are reached too.

        A parameter the lowering typed `int` (a loop count, an index) gets a small whole number.
        """
        rng = self.rng
        positive = rng.random() < 0.3
        values: list[float] = []
        for label in self.coords:
            if self.kinds[label] != "float":
                values.append(float(rng.randint(0, 5) if self.kinds[label] == "int" else rng.randint(0, 1)))
                continue
            scale = rng.choice((0.95, 2.0, 3.0, 0.5, 5.0))
            value = round(rng.uniform(-scale, scale), 4)
            values.append(abs(value) if positive else value)
        return tuple(values)

    def primal_constants(self) -> set[float]:
        return {
            a.value
            for s in ir.walk(self.primal.body)
            for a in ir.operands(s)
            if isinstance(a, ir.Const) and isinstance(a.value, float)
        }

    # the whole check

    def run(self) -> Report:
        import mpmath  # noqa: F401 - imported before the clock starts
        import sympy

        self.symbols = {label: sympy.Symbol(label, real=True) for label in self.coords}
        start = time.monotonic()
        self.deadline = start + self.budget
        self.proof_deadline = start + SYMBOLIC_SHARE * self.budget
        findings = Findings()
        child = Child.start(lambda send: symbolic_job(self, send), self.budget + 0.2)
        if child is None and self.budget > 0.01:
            findings.notes.append("no SymPy expressions: this platform cannot fork (the truth is the chain rule at each point)")
        try:
            numbers = Numbers(self, self.printed(), start)
            numbers.sample(child, findings)
            if child is not None and numbers.failed:  # decided: only SymPy's expressions, for the report
                wanted = len(self.wrt_coords)
                findings.read(child, self.proof_deadline, lambda: bool(findings.missing) or len(findings.derivatives) >= wanted)
            elif child is not None:
                findings.read(child, self.deadline, lambda: numbers.settled(findings))
        finally:
            if child is not None:
                child.stop()
        entries = numbers.entries(findings)
        self.notes.extend(findings.notes)
        if any(self.shapes.values()):
            self.notes.append(
                "list parameters have "
                + ", ".join(f"{name}: {' x '.join(map(str, shape))}" for name, shape in self.shapes.items() if shape)
                + " elements (`lengths=` sets them)"
            )
        self.notes.extend(numbers.notes())
        return Report(self.primal.name, self.params, findings.expression, entries, tuple(self.notes), self.coords)

    def printed(self) -> PrintedCode:
        """The generated code, read back for high precision (printed from `derived` if not given)."""
        generated = self.generated
        if generated is None:
            try:
                generated = codegen.generate(self.derived, self.rules)
            except (KeyError, AttributeError, TypeError, ValueError, AssertionError) as exc:
                raise UnsupportedError(f"the check cannot print the gradient IR ({type(exc).__name__}: {exc})") from exc
        return PrintedCode(generated, self.data, self.rules, self.constants)


def _element_kind(type_: ir.Type) -> str:
    """ "float", "int" or "bool": what the numbers of a parameter (or of its list) are."""
    while isinstance(type_, (ir.ListOf, ir.ArrayOf)):
        type_ = type_.elem
    return type_.kind


def _labels(name: str, shape: tuple[int, ...]) -> tuple[str, ...]:
    """`x` -> ("x",); a list `xs` of 3 -> ("xs[0]", "xs[1]", "xs[2]"); a list of lists -> ("m[0][0]", ...)."""
    labels = [name]
    for size in shape:
        labels = [f"{label}[{i}]" for label in labels for i in range(size)]
    return tuple(labels)
