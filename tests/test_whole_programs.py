"""Random whole programs, as users write them: every gradient against finite differences and value_and_grad.

Hypothesis writes a module (module-level helper functions, sometimes module-level
numbers and a list, and a main function `f`), saves it as a file in a temporary
directory (so `inspect.getsource` finds it), imports it and draws a point. The
grammar (`Writer`) covers, nested in one another:

- helpers called with expression arguments (`_h(a * 3.0)`, `_h(a + b, 2.0)`),
  helpers that copy a parameter (`x = u`) and read both again, that re-assign
  their parameters, that return tuples the caller unpacks (`p, q = _h(x)`),
  that take integer, list or matrix-row parameters, and that call other
  helpers; helper and caller share names (`x`, `y`, `t`, ...);
- plain, chained (`a = b = e`), tuple (`a, b = b, a * x`) and augmented
  assignment (`+= -= *= /=`), of parameters as well as of locals;
- `if`/`elif`/`else` that re-assign names, conditional expressions,
  comparisons joined with `and`/`or`/`not` and chained, early returns;
- `for` over `range` (constant bounds, integer parameters, `len(xs)`, two
  and three arguments, `reversed`), over lists, `enumerate(xs)`,
  `enumerate(xs, start=K)`, `enumerate(xs, K)`, `zip(xs, ys)`,
  `reversed(xs)` and the rows of a matrix; `while` with a bounded counter
  and a data-dependent condition; `break` and `continue` under conditions;
  loops nested in loops and branches;
- local lists (literals, `[0.0] * n`, `append`, item assignment `ys[i] = e`
  and `ys[i] += e`, comprehensions), `sum` of lists, of comprehensions and of
  generator expressions (whose variable may share a local's name), `max` and
  `min` of lists, list parameters read by index (constant, computed,
  negative) and by iteration, a matrix parameter read as `W[i][j]`;
- integer parameters as loop bounds, indices and exponents (`x ** n`),
  `x ** k` with `k` from a loop (0 and 1 included), `n // 2`, `n % 3`, ints
  mixed into float arithmetic;
- math functions behind guards that keep their arguments in the domain (as
  in tests/test_properties.py).

The writer knows the integer parameters' values and the lists' lengths, so
every index it writes is in range, and it assigns only names every path has
given a value (names first assigned inside a branch or loop are not read
after it). Points are drawn near the origin, exactly at 0.0, at tiny and at
large magnitudes. A program is kept only if the plain function returns a
finite float there. Then:

1. `grad(f)(*args)` returns a gradient or raises `S2SError` (a refusal: it
   is counted, by message, and refusals must stay a minority,
   `test_refusals_are_a_minority`); any other exception is a failure, and so
   is a gradient still running after 20 s;
2. every component has the parameter's type: a float for a float or an
   integer parameter (an integer parameter's is 0.0), a list of the same
   shape for a list parameter; and each float derivative agrees with a
   central finite difference (`difference`: steps that follow the
   coordinate's magnitude, a tolerance from the differences' convergence and
   f's rounding; coordinates where f is not smooth enough to tell are
   skipped, the rest of the program is still checked);
3. `value_and_grad(f)(*args)` returns f's value (and type) and the same
   gradient (to rounding: a loop may add up in another order);
4. the arguments are unchanged afterwards.

Profiles (environment variable `S2S_AD_HYPOTHESIS_PROFILE`):

- `default`: 200 programs, derandomized (the same programs on every run), a
  failing one reported as it was drawn (about ten seconds either way);
- `thorough`: 5,000 programs, randomized, a failing one shrunk:
  `S2S_AD_HYPOTHESIS_PROFILE=thorough pytest tests/test_whole_programs.py`.
"""

from __future__ import annotations

import ast
import contextlib
import copy
import math
import os
import re
import signal
import sys
import threading
import types
import warnings
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from conftest import bits, import_source

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, Phase, assume, event, given, note, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from s2s_ad import S2SError, grad, value_and_grad  # noqa: E402

# Hypothesis's pytest plugin imports this module to print a failure report, after the test, where the
# project's "warnings are errors" turns a DeprecationWarning raised by one of its imports into an
# INTERNALERROR that hides the report. Imported here, inside the test module, it is imported once, quietly.
with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    with contextlib.suppress(ImportError):
        import hypothesis.extra._patching  # noqa: E402, F401

# The default run does not shrink a failing program: shrinking whole programs takes hypothesis minutes
# (each try builds two gradients), and the run should stay well under a minute even when it fails. The
# thorough run shrinks.
PROFILES: dict[str, dict[str, Any]] = {
    "default": {"max_examples": 200, "derandomize": True, "phases": [Phase.explicit, Phase.generate]},
    "thorough": {"max_examples": 5000, "derandomize": False},
}
PROFILE = os.environ.get("S2S_AD_HYPOTHESIS_PROFILE", "default")
SETTINGS = settings(
    deadline=None,
    database=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
    **PROFILES[PROFILE],
)

# -- the grammar ------------------------------------------------------------------------
# Templates over sub-expressions {a}, {b}; they are written fully parenthesized and printed
# back with ast.unparse, which keeps only the parentheses Python needs.

UNARY = [
    "math.sin({a})",
    "math.cos({a})",
    "math.tanh({a})",
    "math.atan({a})",
    "math.exp(math.sin({a}))",
    "math.exp(-({a}) ** 2)",
    "math.exp({a})",
    "math.expm1(math.cos({a}))",
    "math.log(1.0 + ({a}) ** 2)",
    "math.log(abs({a}) + 0.5)",
    "math.log1p(({a}) ** 2)",
    "math.sqrt(1.0 + ({a}) ** 2)",
    "math.sqrt(({a}) ** 2 + 0.25)",
    "math.asin(0.9 * math.tanh({a}))",
    "math.acos(0.5 * math.sin({a}))",
    "math.atanh(0.8 * math.tanh({a}))",
    "math.erf({a})",
    "math.cosh(math.sin({a}))",
    "math.asinh({a})",
    "abs({a})",
    "-({a})",
    "+({a})",
    "float({a})",
    "(1.0 + ({a}) ** 2) ** -1",
    "(0.5 + abs({a})) ** -2",
]
BINARY = [
    "({a}) + ({b})",
    "({a}) - ({b})",
    "({a}) * ({b})",
    "({a}) / (1.0 + ({b}) ** 2)",
    "({a}) / 2.0",
    "({a}) / (0.5 + abs({b}))",
    "max({a}, {b})",
    "min({a}, {b})",
    "math.hypot({a}, {b})",
    "math.atan2({a}, 1.0 + ({b}) ** 2)",
    "(1.5 + ({a}) ** 2) ** math.sin({b})",
    "pow({a}, 2)",
    "math.pow({a}, 2)",
    "abs({a}) ** 1.5",
]
CONSTANTS = ["0.5", "2.0", "3.0", "1.5", "0.25", "1.0", "0.1", "2", "3"]
FLOAT_PARAMS = ("x", "y", "z", "a", "b")
LIST_PARAMS = ("xs", "ys")
INT_PARAMS = ("n", "m")
LOCAL_FLOATS = ("t", "s", "p", "q", "r", "acc", "x", "y", "u", "w")
LOCAL_LISTS = ("zs", "ws", "vals", "out")
INDEX_NAMES = ("i", "j", "k", "idx")
ITEM_NAMES = ("v", "e", "c", "xi", "yi")


@dataclass
class IntInfo:
    """What the writer knows of an integer: a range of values, and lists it indexes safely."""

    lo: int
    hi: int | None  # None: not known (a count of a list whose length is not known)
    below: frozenset[str] = frozenset()  # lists longer than this integer, whatever their lengths


@dataclass
class ListInfo:
    length: int | None  # exact, when known
    least: int  # a lower bound of the length
    local: bool  # a local list may be assigned into; a parameter is read only
    block: int  # the block it was made in: an append in a deeper block makes the length unknown
    inner: int | None = None  # a list of lists (a matrix parameter): the length of every row


@dataclass
class Scope:
    floats: list[str]
    ints: dict[str, IntInfo]
    lists: dict[str, ListInfo]
    fixed: set[str]  # loop targets and counters: not assigned to
    frozen: set[str]  # lists a loop runs over: not appended to
    block: int = 0

    def child(self, block: int) -> Scope:
        # ListInfo objects are shared: item assignments and appends in a block change the outer list.
        return Scope(list(self.floats), dict(self.ints), dict(self.lists), set(self.fixed), set(self.frozen), block)


@dataclass(frozen=True)
class Helper:
    name: str
    kinds: tuple[str, ...]  # "float", "int" (0 <= value <= 4) or "list" (at least one item)
    returns: int  # 1: a number; 2 or 3: a tuple of that many
    params: tuple[str, ...] = ()
    default: bool = False  # the last parameter has a default value
    whole: frozenset[str] = frozenset()  # int parameters the body uses as whole numbers (bounds, indices)


@dataclass
class Program:
    source: str
    params: tuple[str, ...]
    kinds: tuple[str, ...]  # "float", "int" or "list", per parameter
    args: tuple[Any, ...]
    features: frozenset[str]
    names: frozenset[str]  # every identifier the program chose (to mask them in refusal messages)
    whole: frozenset[str] = frozenset()  # int parameters used as whole numbers: range bounds, indices, counts


class Writer:
    """Writes one function body at a time; `draw` makes every choice, so hypothesis can shrink programs."""

    def __init__(self, draw: st.DrawFn, helpers: list[Helper], features: set[str]) -> None:
        self.draw = draw
        self.helpers = helpers
        self.features = features
        self.lines: list[str] = []
        self.kinds: dict[str, str] = {}  # name -> kind, for the whole function: a name keeps its kind
        self.blocks = 0
        self.loops = 0  # loop nesting depth
        self.reversed_loops = 0  # of them, loops over reversed(...): leaving one early is refused
        self.statements = 0
        self.returns = 1  # how many values a return statement returns
        self.whole: set[str] = set()  # integers used as whole numbers (bounds, indices, counts)

    # -- choices ------------------------------------------------------------------------

    def pick(self, options: list[Any]) -> Any:
        return self.draw(st.sampled_from(options))

    def chance(self, percent: int) -> bool:
        """True with the given probability; shrinks to False."""
        return self.draw(st.integers(0, 99)) >= 100 - percent

    def number(self, lo: int, hi: int) -> int:
        return self.draw(st.integers(lo, hi))

    def weighted(self, options: list[tuple[int, str]]) -> str:
        return self.pick([name for weight, name in options for _ in range(weight)])

    def emit(self, indent: int, text: str) -> None:
        self.lines.append("    " * indent + text)

    def fresh(self, pool: tuple[str, ...], kind: str, avoid: set[str]) -> str:
        """A name of `kind` not in `avoid`: from the pool when one is free, else numbered."""
        free = [n for n in pool if n not in avoid and self.kinds.get(n, kind) == kind]
        name = self.pick(free) if free else f"{pool[0]}{len(self.kinds)}"
        self.kinds[name] = kind
        return name

    def new_block(self) -> int:
        self.blocks += 1
        return self.blocks

    # -- integers -----------------------------------------------------------------------

    def int_term(self, s: Scope, small: bool = True) -> tuple[str, IntInfo]:
        """An integer expression with what is known of its value; `small`: known, 0 <= value <= 5."""
        options: list[tuple[str, IntInfo]] = [(str(c), IntInfo(c, c)) for c in range(5)]
        for name, info in s.ints.items():
            options.append((name, info))
            options.append((f"{name} // 2", IntInfo(info.lo // 2, None if info.hi is None else info.hi // 2)))
            options.append((f"{name} + 1", IntInfo(info.lo + 1, None if info.hi is None else info.hi + 1)))
            options.append((f"{name} % 3", IntInfo(0, 2)))
        for name, lst in s.lists.items():
            options.append((f"len({name})", IntInfo(lst.least, lst.length)))
        if small:
            options = [(t, i) for t, i in options if i.lo >= 0 and i.hi is not None and i.hi <= 5]
        return self.pick(options)

    def counts(self, s: Scope, text: str) -> str:
        """`text` is used as a whole number (a range bound, an index, a count): so are the integers it reads."""
        self.whole |= {n for n in s.ints if re.search(rf"\b{n}\b", text)}
        return text

    def index(self, s: Scope, name: str, least: int | None = None, length: str | None = None) -> str | None:
        """An index of list `name` that is in range, or None when the writer knows of none. With `least`
        and `length` (the spelling of its length), an index of a list of at least `least` items instead
        (a row of the matrix `name`)."""
        row = least is not None
        least = s.lists[name].least if least is None else least
        length = f"len({name})" if length is None else length
        if least < 1:
            return None
        options = ["0", "-1"] + [str(k) for k in range(1, least)] + [str(-k) for k in range(2, least + 1)]
        for i, info in s.ints.items():
            options.append(f"{i} % {length}")
            safe = info.lo >= 0 and ((info.hi is not None and info.hi < least) or (name in info.below and not row))
            if safe:
                options += [i, i, f"{length} - 1 - {i}", f"-1 - {i}", f"{i} // 2"]
                if info.lo >= 1:
                    options.append(f"{i} - 1")
        chosen = self.pick([*options, "computed"])
        if chosen == "computed":  # an index computed from the data, by a piecewise-constant primitive
            self.features.add("index-from-float")
            spelled = self.pick(["int(abs({e}))", "math.floor(abs({e}))", "round(abs({e}))", "math.trunc(abs({e}))"])
            return f"{spelled.format(e=self.expr(s, 1))} % {length}"
        return self.counts(s, chosen)

    # -- floats -------------------------------------------------------------------------

    def readable_lists(self, s: Scope, least: int = 0) -> list[str]:
        """Lists of numbers with at least `least` items."""
        return [n for n, info in s.lists.items() if info.least >= least and info.inner is None]

    def matrices(self, s: Scope) -> list[str]:
        """Lists of rows, with at least one row of at least one number."""
        return [n for n, info in s.lists.items() if info.inner is not None and info.least >= 1 and info.inner >= 1]

    def row(self, s: Scope, name: str) -> str:
        return f"{name}[{self.index(s, name)}]"

    def leaf(self, s: Scope) -> str:
        kinds = [(2, "constant")]
        if s.floats:
            kinds.append((8, "name"))
        if self.readable_lists(s, 1):
            kinds.append((3, "item"))
        if s.ints:
            kinds.append((1, "int"))
        if self.matrices(s):
            kinds.append((3, "matrix"))
        kind = self.weighted(kinds)
        if kind == "name":
            return self.pick(s.floats)
        if kind == "matrix":
            name = self.pick(self.matrices(s))
            inner = s.lists[name].inner
            assert inner is not None
            self.features.add("matrix-index")
            return f"{self.row(s, name)}[{self.index(s, name, inner, f'len({name}[0])')}]"
        if kind == "item":
            name = self.pick(self.readable_lists(s, 1))
            self.features.add("list-index")
            return f"{name}[{self.index(s, name)}]"
        if kind == "int":
            self.features.add("int-in-arithmetic")
            return self.pick(sorted(s.ints))
        return self.pick(CONSTANTS)

    def expr(self, s: Scope, depth: int) -> str:
        """A float expression over what `s` holds."""
        if depth <= 0 or self.number(0, 3) == 0:
            return self.leaf(s)
        kinds = [(6, "binary"), (4, "unary"), (2, "power"), (1, "ifexp"), (1, "intmix")]
        if self.callable_helpers(s, 1):
            kinds.append((3, "helper"))
        if self.readable_lists(s):
            kinds.append((3, "reduce"))
        kind = self.weighted(kinds)
        if kind == "binary":
            form = self.pick(BINARY)
            a = self.expr(s, depth - 1)
            return form.format(a=a, b=self.expr(s, depth - 1) if "{b}" in form else "")
        if kind == "unary":
            return self.pick(UNARY).format(a=self.expr(s, depth - 1))
        if kind == "power":
            return self.power(s, depth)
        if kind == "ifexp":
            self.features.add("conditional-expression")
            return f"(({self.expr(s, depth - 1)}) if {self.condition(s, 1)} else ({self.expr(s, depth - 1)}))"
        if kind == "intmix":
            term, _ = self.int_term(s, small=False)
            self.features.add("int-mix")
            forms = ["({a}) * ({n})", "({a}) + ({n})", "({a}) / (1 + abs({n}))", "({n}) * ({a})", "({n}) / 2 * ({a})"]
            form = self.pick([*forms, "float({n}) * ({a})", "({a}) * abs(({n}) - 2)"])
            return form.format(a=self.expr(s, depth - 1), n=term)
        if kind == "helper":
            if self.callable_helpers(s, 2) and self.chance(3):  # refused: "unpack it"; counted
                self.features.add("helper-tuple-indexed")
                helper = self.pick(self.callable_helpers(s, 2))
                return f"{self.call(s, depth, helper)}[{self.number(0, helper.returns - 1)}]"
            return self.call(s, depth, self.pick(self.callable_helpers(s, 1)))
        return self.reduction(s, depth)

    def power(self, s: Scope, depth: int) -> str:
        base = self.expr(s, depth - 1)
        exponents = [(3, "constant"), (1, "float")]
        small = [n for n, i in s.ints.items() if i.lo >= 0 and i.hi is not None and i.hi <= 6]
        if small:
            exponents.append((4, "int"))
        kind = self.weighted(exponents)
        if kind == "int":
            name = self.pick(small)
            self.features.add("power-int-name")
            return self.pick([f"({base}) ** {name}", f"pow({base}, {name})", f"math.pow({base}, {name})"])
        if kind == "float":
            return f"({base}) ** {self.pick(['2.0', '3.0', '0.0', '1.0'])}"
        return f"({base}) ** {self.pick(['2', '3', '0', '1', '4'])}"

    def call(self, s: Scope, depth: int, helper: Helper) -> str:
        args = []
        kinds = helper.kinds
        if helper.default and self.chance(40):
            kinds = kinds[:-1]
            self.features.add("helper-default-argument")
        for param, kind in zip(helper.params, kinds):
            if kind == "float":
                args.append(self.expr(s, depth - 1))
            elif kind == "int":  # a whole number for the helper only where its body uses it as one
                term = self.int_term(s)[0]
                args.append(self.counts(s, term) if param in helper.whole else term)
            elif self.matrices(s) and self.chance(30):
                self.features.add("helper-gets-a-row")
                args.append(self.row(s, self.pick(self.matrices(s))))
            else:
                args.append(self.pick(self.readable_lists(s, 1)))
        self.features.add("helper-call")
        if any(not re.fullmatch(r"[A-Za-z_]\w*|[\d.]+", a) for a in args):
            self.features.add("helper-expression-argument")
        if self.chance(10):
            self.features.add("helper-keyword-arguments")
            order = self.draw(st.permutations(range(len(args))))
            return f"{helper.name}({', '.join(f'{helper.params[k]}={args[k]}' for k in order)})"
        return f"{helper.name}({', '.join(args)})"

    def callable_helpers(self, s: Scope, returns: int) -> list[Helper]:
        has_list = bool(self.readable_lists(s, 1))
        return [h for h in self.helpers if (h.returns == 1) == (returns == 1) and (has_list or "list" not in h.kinds)]

    def reduction(self, s: Scope, depth: int) -> str:
        lists = sorted(self.readable_lists(s))
        name = self.pick(lists)
        nonempty = s.lists[name].least >= 1
        forms = ["sum", "sum-generator", "sum-comprehension", "sum-range-generator"]
        if nonempty:
            forms += ["max", "min", "max-comprehension"]
        others = [n for n in lists if n != name]
        if others:
            forms.append("sum-zip")
        form = self.pick(forms)
        self.features.add(f"reduce-{form}")
        item = self.pick([n for n in ITEM_NAMES if n not in s.ints and n not in s.lists])
        inner = s.child(s.block)
        inner.floats.append(item)
        if form in ("sum", "max", "min"):
            return f"{form}({name})"
        if form == "sum-generator":
            return f"sum(({self.expr(inner, depth - 1)}) for {item} in {name})"
        if form == "sum-comprehension":
            return f"sum([({self.expr(inner, depth - 1)}) for {item} in {name}])"
        if form == "max-comprehension":
            return f"{self.pick(['max', 'min'])}([({self.expr(inner, depth - 1)}) for {item} in {name}])"
        if form == "sum-zip":
            other = self.pick(others)
            second = self.pick([n for n in ITEM_NAMES if n not in s.ints and n not in s.lists and n != item])
            inner.floats.append(second)
            return f"sum(({self.expr(inner, depth - 1)}) for {item}, {second} in zip({name}, {other}))"
        free = [n for n in INDEX_NAMES if n not in s.floats and n not in s.lists]
        unused = [n for n in free if n not in s.ints]
        if unused and not self.chance(20):
            free = unused
        index = self.pick(free)
        if index in s.ints:
            self.features.add("comprehension-shadows-a-local")
        inner = s.child(s.block)
        inner.ints[index] = IntInfo(0, None if s.lists[name].length is None else s.lists[name].length - 1, frozenset({name}))
        return f"sum({name}[{index}] * ({self.expr(inner, depth - 1)}) for {index} in range(len({name})))"

    def named(self, s: Scope, depth: int) -> str:
        """An expression that reads a variable (a condition on constants alone is dead code)."""
        text = self.expr(s, depth)
        names = s.floats + sorted(s.lists)
        if names and not any(re.search(rf"\b{n}\b", text) for n in names):
            text = self.pick(s.floats) if s.floats else self.leaf(s)
        return text

    def condition(self, s: Scope, depth: int) -> str:
        kinds = [(4, "compare")]
        if s.ints:
            kinds.append((2, "int"))
        if depth > 0:
            kinds += [(1, "and"), (1, "or"), (1, "not")]
        kind = self.weighted(kinds)
        if kind == "compare":
            op = self.pick([">", "<", ">=", "<="])
            if self.chance(15):
                self.features.add("chained-comparison")
                return f"(-1.0 < ({self.named(s, 1)}) < 1.0)"
            right = self.expr(s, 1) if self.chance(50) else self.pick(["0.0", "1.0", "0.5", "-0.5", "2.0"])
            return f"(({self.named(s, 1)}) {op} ({right}))"
        if kind == "int":
            term = self.pick(sorted(s.ints)) if self.chance(70) else self.int_term(s, small=False)[0]
            return self.pick([f"({term} % 2 == 0)", f"({term} > 1)", f"({term} == 2)", f"({term} < 3)", f"({term} != 0)"])
        self.features.add(f"condition-{kind}")
        if kind == "not":
            return f"(not {self.condition(s, depth - 1)})"
        return f"({self.condition(s, depth - 1)} {kind} {self.condition(s, depth - 1)})"

    # -- statements -------------------------------------------------------------------

    def assignable(self, s: Scope) -> list[str]:
        return [n for n in s.floats if n not in s.fixed]

    def target(self, s: Scope, new_percent: int = 40) -> str:
        """A float name to assign: an existing one (re-assignment) or a new one."""
        existing = self.assignable(s)
        if existing and not self.chance(new_percent):
            return self.pick(existing)
        return self.fresh(LOCAL_FLOATS, "float", set(s.floats) | set(s.ints) | set(s.lists) | set(self.helper_names()))

    def helper_names(self) -> list[str]:
        return [h.name for h in self.helpers]

    def define(self, s: Scope, name: str) -> None:
        if name not in s.floats:
            s.floats.append(name)

    def block(self, s: Scope, indent: int, depth: int, count: int) -> None:
        for _ in range(count):
            self.statement(s, indent, depth)

    def statement(self, s: Scope, indent: int, depth: int) -> None:
        self.statements += 1
        kinds = [(6, "assign"), (2, "chained"), (2, "tuple"), (3, "augmented")]
        if depth > 0 and self.statements < 10:
            kinds += [(3, "if"), (4, "for"), (1, "while"), (3, "list")]
        # leaving a loop over reversed(...) early is refused (documented): rarely, to count the refusal
        leave = not self.reversed_loops or self.chance(5)
        if self.loops:
            kinds += [(2, "break"), (1, "continue")] if leave else [(1, "continue")]
        if self.callable_helpers(s, 2):
            kinds.append((2, "unpack"))
        if [n for n, i in s.lists.items() if i.local and n not in s.frozen and i.least >= 1]:
            kinds.append((3, "item"))
        if [n for n, i in s.lists.items() if i.local and n not in s.frozen]:
            kinds.append((1, "append"))
        if (indent > 1 or self.loops) and leave:
            kinds.append((1, "return"))
        getattr(self, "statement_" + self.weighted(kinds))(s, indent, depth)

    def statement_assign(self, s: Scope, indent: int, depth: int) -> None:
        value = self.expr(s, 3)
        name = self.target(s)
        self.emit(indent, f"{name} = {value}")
        self.define(s, name)

    def statement_chained(self, s: Scope, indent: int, depth: int) -> None:
        value = self.expr(s, 3)
        first = self.target(s)
        self.define(s, first)
        second = self.target(s, 60)
        while second == first:
            second = self.fresh(LOCAL_FLOATS, "float", set(s.floats) | set(s.ints) | set(s.lists) | set(self.helper_names()))
        self.define(s, second)
        self.features.add("chained-assignment")
        self.emit(indent, f"{first} = {second} = {value}")

    def statement_tuple(self, s: Scope, indent: int, depth: int) -> None:
        if len(self.assignable(s)) >= 2 and self.chance(50):
            a, b = self.draw(st.permutations(self.assignable(s)))[:2]
            self.features.add("swap")
            self.emit(indent, f"{a}, {b} = {b}, ({a}) * ({self.expr(s, 1)})")
            return
        values = [self.expr(s, 2) for _ in range(self.number(2, 3))]
        names: list[str] = []
        for _ in values:
            name = self.target(s)
            while name in names:
                name = self.fresh(LOCAL_FLOATS, "float", set(s.floats) | set(names) | set(s.ints) | set(s.lists))
            names.append(name)
        for name in names:
            self.define(s, name)
        self.features.add("tuple-assignment")
        self.emit(indent, f"{', '.join(names)} = {', '.join(values)}")

    def statement_augmented(self, s: Scope, indent: int, depth: int) -> None:
        existing = self.assignable(s)
        if not existing:
            self.statement_assign(s, indent, depth)
            return
        name = self.pick(existing)
        op = self.pick(["+=", "-=", "*=", "/="])
        value = self.expr(s, 2)
        if op == "/=":
            value = f"(1.0 + ({value}) ** 2)"
        if op == "*=":
            value = f"math.tanh({value})" if self.chance(50) else value
        self.features.add(f"augmented{op}")
        self.emit(indent, f"{name} {op} {value}")

    def statement_if(self, s: Scope, indent: int, depth: int) -> None:
        self.emit(indent, f"if {self.condition(s, 1)}:")
        self.branch(s, indent + 1, depth)
        for _ in range(self.number(0, 2)):
            self.features.add("elif")
            self.emit(indent, f"elif {self.condition(s, 1)}:")
            self.branch(s, indent + 1, depth)
        if self.chance(50):
            self.emit(indent, "else:")
            self.branch(s, indent + 1, depth)

    def branch(self, s: Scope, indent: int, depth: int) -> None:
        inner = s.child(self.new_block())
        self.block(inner, indent, depth - 1, self.number(1, 2))

    def statement_for(self, s: Scope, indent: int, depth: int) -> None:
        inner = s.child(self.new_block())
        avoid = set(s.floats) | set(s.ints) | set(s.lists) | set(self.helper_names())
        lists = self.readable_lists(s)
        forms = ["range", "range", "range-start", "reversed-range", "range-step"]
        if lists:
            forms += ["list", "list", "range-len", "range-len", "enumerate", "enumerate-start", "zip", "reversed-list"]
        if self.matrices(s):
            forms += ["rows", "enumerate-rows", "range-len"]
        form = self.pick(forms)
        self.features.add(f"for-{form}")
        if form.startswith("range") or form == "reversed-range":
            index = self.fresh(INDEX_NAMES, "int", avoid)
            if form == "range-len":
                name = self.pick(lists + self.matrices(s))
                length = s.lists[name]
                info = IntInfo(0, None if length.length is None else length.length - 1, frozenset({name}))
                header = f"for {index} in range(len({name})):"
            else:
                bound, known = self.int_term(s)
                self.counts(s, bound)
                assert known.hi is not None
                if form == "range":
                    info = IntInfo(0, known.hi - 1)
                    header = f"for {index} in range({bound}):"
                elif form == "range-start":
                    start = self.number(0, 2)
                    info = IntInfo(start, known.hi - 1)
                    header = f"for {index} in range({start}, {bound}):"
                elif form == "range-step":
                    info = IntInfo(0, known.hi - 1)
                    header = f"for {index} in range(({bound}) - 1, -1, -1):"
                else:
                    info = IntInfo(0, known.hi - 1)
                    header = f"for {index} in reversed(range({bound})):"
            inner.ints[index] = info
            inner.fixed.add(index)
        elif form in ("list", "reversed-list"):
            name = self.pick(lists)
            item = self.fresh(ITEM_NAMES, "float", avoid)
            inner.floats.append(item)
            inner.fixed.add(item)
            inner.frozen.add(name)
            header = f"for {item} in {name}:" if form == "list" else f"for {item} in reversed({name}):"
        elif form in ("enumerate", "enumerate-start"):
            name = self.pick(lists)
            index = self.fresh(INDEX_NAMES, "int", avoid)
            item = self.fresh(ITEM_NAMES, "float", avoid | {index})
            length = s.lists[name].length
            start = 0 if form == "enumerate" else self.number(1, 3)
            below = frozenset({name}) if start == 0 else frozenset()
            inner.ints[index] = IntInfo(start, None if length is None else start + length - 1, below)
            inner.floats.append(item)
            inner.fixed |= {index, item}
            inner.frozen.add(name)
            spelled = "" if start == 0 else self.pick([f", start={start}", f", {start}"])
            header = f"for {index}, {item} in enumerate({name}{spelled}):"
        elif form in ("rows", "enumerate-rows"):
            name = self.pick(self.matrices(s))
            row = self.fresh(("row", "line"), "list", avoid)
            inner.lists[row] = ListInfo(s.lists[name].inner, s.lists[name].inner or 0, False, inner.block)
            inner.fixed.add(row)
            header = f"for {row} in {name}:"
            if form == "enumerate-rows":
                index = self.fresh(INDEX_NAMES, "int", avoid | {row})
                length = s.lists[name].length
                inner.ints[index] = IntInfo(0, None if length is None else length - 1, frozenset({name}))
                inner.fixed.add(index)
                header = f"for {index}, {row} in enumerate({name}):"
        else:
            first, second = self.pick(lists), self.pick(lists)
            a = self.fresh(ITEM_NAMES, "float", avoid)
            b = self.fresh(ITEM_NAMES, "float", avoid | {a})
            inner.floats += [a, b]
            inner.fixed |= {a, b}
            inner.frozen |= {first, second}
            header = f"for {a}, {b} in zip({first}, {second}):"
        if form == "reversed-list" or form in ("reversed-range", "range-step"):
            self.features.add("reversed-loop")
        self.emit(indent, header)
        backwards = form in ("reversed-list", "reversed-range")
        self.loops += 1
        self.reversed_loops += backwards
        self.block(inner, indent + 1, depth - 1, self.number(1, 3))
        self.loops -= 1
        self.reversed_loops -= backwards

    def statement_while(self, s: Scope, indent: int, depth: int) -> None:
        counter = self.fresh(INDEX_NAMES, "int", set(s.floats) | set(s.ints) | set(s.lists) | set(self.helper_names()))
        bound = self.number(1, 5)
        self.emit(indent, f"{counter} = 0")
        condition = f"{counter} < {bound}"
        if self.chance(70):
            data = self.condition(s, 0)
            condition = self.pick([f"{condition} and {data}", f"{data} and {condition}"])
        self.emit(indent, f"while {condition}:")
        self.emit(indent + 1, f"{counter} += 1")
        self.features.add("while")
        inner = s.child(self.new_block())
        inner.ints[counter] = IntInfo(1, bound)
        inner.fixed.add(counter)
        self.loops += 1
        self.block(inner, indent + 1, depth - 1, self.number(1, 3))
        self.loops -= 1
        s.ints[counter] = IntInfo(0, bound)
        s.fixed.add(counter)

    def statement_break(self, s: Scope, indent: int, depth: int) -> None:
        word = self.pick(["break", "continue"])
        self.features.add(word)
        if self.reversed_loops and word == "break":
            self.features.add("break-reversed")
        self.emit(indent, f"if {self.condition(s, 1)}:")
        self.emit(indent + 1, word)

    statement_continue = statement_break

    def statement_return(self, s: Scope, indent: int, depth: int) -> None:
        self.features.add("early-return")
        if self.loops:
            self.features.add("return-in-loop")
        self.emit(indent, f"if {self.condition(s, 1)}:")
        self.emit(indent + 1, f"return {', '.join(self.expr(s, 2) for _ in range(self.returns))}")

    def statement_unpack(self, s: Scope, indent: int, depth: int) -> None:
        helper = self.pick(self.callable_helpers(s, 2))
        value = self.call(s, 2, helper)
        names: list[str] = []
        for _ in range(helper.returns):
            name = self.target(s)
            while name in names:
                name = self.fresh(LOCAL_FLOATS, "float", set(s.floats) | set(names) | set(s.ints) | set(s.lists))
            names.append(name)
        for name in names:
            self.define(s, name)
        self.features.add("helper-tuple-unpack")
        self.emit(indent, f"{', '.join(names)} = {value}")

    def statement_item(self, s: Scope, indent: int, depth: int) -> None:
        name = self.pick([n for n, i in s.lists.items() if i.local and n not in s.frozen and i.least >= 1])
        where = self.index(s, name)
        op = self.pick(["=", "+=", "*=", "-="])
        self.features.add(f"item{op}")
        self.emit(indent, f"{name}[{where}] {op} {self.expr(s, 2)}")

    def statement_append(self, s: Scope, indent: int, depth: int) -> None:
        name = self.pick([n for n, i in s.lists.items() if i.local and n not in s.frozen])
        info = s.lists[name]
        self.features.add("append")
        self.emit(indent, f"{name}.append({self.expr(s, 2)})")
        if info.block == s.block:  # straight-line from where it was made
            info.least += 1
            if info.length is not None:
                info.length += 1
        else:
            info.length = None

    def statement_list(self, s: Scope, indent: int, depth: int) -> None:
        avoid = set(s.floats) | set(s.ints) | set(s.lists) | set(self.helper_names())
        forms = ["literal", "zeros", "build-range"]
        lists = self.readable_lists(s)
        if lists:
            forms += ["comprehension", "build-list"]
        form = self.pick(forms)
        self.features.add(f"list-{form}")
        value_scope = s.child(s.block)
        name = self.fresh(LOCAL_LISTS, "list", avoid)
        if form == "literal":
            count = self.number(1, 4)
            self.emit(indent, f"{name} = [{', '.join(self.expr(s, 2) for _ in range(count))}]")
            length: int | None = count
        elif form == "zeros":
            bound, known = self.int_term(s)
            self.counts(s, bound)
            fill = self.pick(["0.0", "1.0", "expression"])
            fill = self.expr(s, 1) if fill == "expression" else fill
            self.emit(indent, f"{name} = [{fill}] * ({bound})")
            length = known.hi if known.hi == known.lo else None
            s.lists[name] = ListInfo(length, known.lo, True, s.block)
            return
        elif form == "comprehension":
            source = self.pick(lists)
            item = self.fresh(ITEM_NAMES, "float", avoid | {name})
            value_scope.floats.append(item)
            self.emit(indent, f"{name} = [({self.expr(value_scope, 2)}) for {item} in {source}]")
            length = s.lists[source].length
            s.lists[name] = ListInfo(length, s.lists[source].least, True, s.block)
            return
        elif form == "build-range":
            bound, known = self.int_term(s)
            self.counts(s, bound)
            index = self.fresh(INDEX_NAMES, "int", avoid | {name})
            value_scope.ints[index] = IntInfo(0, known.hi - 1 if known.hi is not None else None)
            self.emit(indent, f"{name} = []")
            self.emit(indent, f"for {index} in range({bound}):")
            self.emit(indent + 1, f"{name}.append({self.expr(value_scope, 2)})")
            length = known.hi if known.hi == known.lo else None
            s.lists[name] = ListInfo(length, known.lo, True, s.block)
            return
        else:
            source = self.pick(lists)
            item = self.fresh(ITEM_NAMES, "float", avoid | {name})
            value_scope.floats.append(item)
            self.emit(indent, f"{name} = []")
            self.emit(indent, f"for {item} in {source}:")
            self.emit(indent + 1, f"{name}.append({self.expr(value_scope, 2)})")
            s.lists[name] = ListInfo(s.lists[source].length, s.lists[source].least, True, s.block)
            return
        s.lists[name] = ListInfo(length, length, True, s.block)

    def final_return(self, s: Scope, indent: int, unused: list[str]) -> None:
        """`return` an expression, some of the names assigned last, and `unused` (reads of list parameters
        the body does not read: an unread parameter is typed a number)."""
        terms = [self.expr(s, 3)]
        recent = [n for n in s.floats[-4:]]
        for name in recent:
            if self.chance(60):
                terms.append(f"{self.pick(['0.5', '1.0', '2.0'])} * {name}")
        terms += unused
        self.emit(indent, "return " + " + ".join(f"({t})" for t in terms))


# -- helpers and the main function ----------------------------------------------------


def module_scope(data: dict[str, Any]) -> Scope:
    """A scope that reads the module's numbers and lists (read only: assigning one would make it local)."""
    s = Scope([n for n, v in data.items() if isinstance(v, float)], {}, {}, set(data), set())
    for name, v in data.items():
        if isinstance(v, list):
            s.lists[name] = ListInfo(len(v), len(v), False, 0)
    return s


def write_helper(
    draw: st.DrawFn, number: int, helpers: list[Helper], features: set[str], data: dict[str, Any]
) -> tuple[list[str], Helper]:
    writer = Writer(draw, list(helpers), features)
    name = f"_h{number}"
    count = writer.number(1, 3)
    pools = writer.pick([("u", "v", "w"), ("x", "y", "z"), ("a", "b", "t")])
    params = list(pools[:count])
    kinds = ["float"] * count
    if writer.chance(20):
        kinds[-1] = "int"
        params[-1] = writer.pick(["k", "n"])
        features.add("helper-int-parameter")
    elif writer.chance(15):
        kinds[-1] = "list"
        params[-1] = writer.pick(["ws", "xs"])
        features.add("helper-list-parameter")
    s = module_scope(data)
    s.floats += [p for p, k in zip(params, kinds) if k == "float"]
    for p, k in zip(params, kinds):
        writer.kinds[p] = k
        if k == "int":
            s.ints[p] = IntInfo(0, 4)
        elif k == "list":
            s.lists[p] = ListInfo(None, 1, False, 0)
    default = kinds[-1] == "float" and writer.chance(15)
    spelled = [*params[:-1], f"{params[-1]}=2.0"] if default else params
    writer.emit(0, f"def {name}({', '.join(spelled)}):")
    floats = [p for p, k in zip(params, kinds) if k == "float"]
    copied: tuple[str, str] | None = None
    if floats and writer.chance(40):
        original = writer.pick(floats)
        copy_name = writer.fresh(("x", "t", "c", "y"), "float", set(params))
        writer.emit(1, f"{copy_name} = {original}")
        writer.define(s, copy_name)
        copied = (copy_name, original)
        features.add("helper-copies-parameter")
        if writer.chance(30):
            writer.emit(1, f"{copy_name} = ({copy_name}) * ({writer.expr(s, 1)})")
    if floats and writer.chance(40):
        target = writer.pick(floats)
        writer.emit(1, f"{target} = {writer.expr(s, 2)}")
        features.add("helper-reassigns-parameter")
    returns = writer.returns = writer.pick([1, 1, 1, 2, 3])
    writer.block(s, 1, writer.number(0, 2), writer.number(0, 3))
    values = [writer.expr(s, 2) for _ in range(returns)]
    if copied is not None:
        values[0] = f"({copied[0]}) + ({copied[1]}) * ({values[0]})" if writer.chance(50) else f"({copied[0]}) * ({copied[1]})"
    if returns > 1:
        features.add("helper-returns-tuple")
    writer.emit(1, f"return {', '.join(values)}")
    whole = frozenset(writer.whole & {p for p, k in zip(params, kinds) if k == "int"})
    return writer.lines, Helper(name, tuple(kinds), returns, tuple(params), default, whole)


POINT_FLOATS = st.one_of(
    st.floats(-2.0, 2.0).map(lambda v: round(v, 3) + 1e-3 * math.sqrt(2.0)),
    st.floats(-2.0, 2.0).map(lambda v: round(v, 2) + 1e-3 * math.sqrt(3.0)),
    st.just(0.0),
    st.sampled_from([1.0, -1.0, 0.5, -0.5, 2.0]),
    st.tuples(st.sampled_from([1.0, -1.0]), st.integers(-10, -3)).map(lambda p: p[0] * 10.0 ** p[1] * 1.2345),
    st.tuples(st.sampled_from([1.0, -1.0]), st.integers(1, 4)).map(lambda p: p[0] * 10.0 ** p[1] * 1.2345),
)
POINT = st.one_of(*[POINT_FLOATS] * 4, st.floats(-2.0, 2.0).map(lambda v: round(v, 3) + 1e-3 * math.sqrt(5.0)))


@st.composite
def programs(draw: st.DrawFn) -> Program:
    features: set[str] = set()
    helpers: list[Helper] = []
    chunks: list[list[str]] = []
    data: dict[str, Any] = {}
    if draw(st.integers(0, 9)) >= 8:
        data["SCALE"] = draw(st.sampled_from([1.5, 0.5, -2.0]))
        features.add("module-number")
    if draw(st.integers(0, 9)) >= 9:
        data["WEIGHTS"] = [0.5, -1.0, 2.0]
        features.add("module-list")
    for number in range(draw(st.integers(0, 3))):
        lines, helper = write_helper(draw, number, helpers, features, data)
        chunks.append(lines)
        helpers.append(helper)
    floats = list(FLOAT_PARAMS[: draw(st.integers(0, 3))])
    lists = list(LIST_PARAMS[: draw(st.sampled_from([0, 1, 1, 2]))])
    ints = list(INT_PARAMS[: draw(st.integers(0, 2))])
    matrix = ["W"] if draw(st.integers(0, 9)) >= 8 else []
    if not floats and not lists:
        floats = ["x"]
    params = draw(st.permutations(floats + lists + ints + matrix))
    kinds = tuple("float" if p in floats else "int" if p in ints else "list" for p in params)
    args: list[Any] = []
    writer = Writer(draw, helpers, features)
    s = module_scope(data)
    s.floats += floats
    s.fixed |= set(lists) | set(matrix)
    for p, kind in zip(params, kinds):
        writer.kinds[p] = kind
        if p in matrix:
            rows, columns = draw(st.integers(1, 3)), draw(st.integers(1, 3))
            args.append([[draw(POINT) for _ in range(columns)] for _ in range(rows)])
            s.lists[p] = ListInfo(rows, rows, False, 0, columns)
            features.add("matrix-parameter")
        elif kind == "float":
            args.append(draw(POINT))
        elif kind == "int":
            value = draw(st.integers(0, 4))
            args.append(value)
            s.ints[p] = IntInfo(value, value)
        else:
            length = draw(st.sampled_from([3, 2, 1, 4, 0]))
            args.append([draw(POINT) for _ in range(length)])
            s.lists[p] = ListInfo(length, length, False, 0)
    writer.emit(0, f"def f({', '.join(params)}):")
    writer.block(s, 1, 3, draw(st.integers(1, 5)))
    body = "\n".join(writer.lines[1:])
    unused = [f"sum({p})" for p in lists if not re.search(rf"\b{p}\b", body)]
    unused += [f"{p}[0][0]" for p in matrix if not re.search(rf"\b{p}\b", body)]
    writer.final_return(s, 1, unused)
    chunks.append(writer.lines)
    functions = [ast.unparse(ast.parse("\n".join(lines))) for lines in chunks]
    header = "import math\n" + "".join(f"\n{name} = {value!r}" for name, value in data.items())
    source = header + "\n\n\n" + "\n\n\n".join(functions) + "\n"
    names = set(writer.kinds) | {h.name for h in helpers} | set(data)
    whole = frozenset(writer.whole & set(ints))
    features |= {"int-parameter-read-as-a-real"} if set(ints) - whole else set()
    return Program(source, tuple(params), kinds, tuple(args), frozenset(features), frozenset(names), whole)


# -- the checks -------------------------------------------------------------------------


def moved(args: tuple[Any, ...], where: tuple[int, ...], step: float) -> list[Any]:
    """The arguments with the coordinate `where` (parameter, then list indices) moved by `step`."""
    result = copy.deepcopy(list(args))
    holder: Any = result
    for k in where[:-1]:
        holder = holder[k]
    holder[where[-1]] += step
    return result


def coordinate(args: tuple[Any, ...], where: tuple[int, ...]) -> float:
    value: Any = args
    for k in where:
        value = value[k]
    return value


def finite(*values: object) -> bool:
    return all(isinstance(v, float) and math.isfinite(v) for v in values)


@dataclass(frozen=True)
class Difference:
    """A central difference, and how far from the derivative it may be."""

    value: float
    tolerance: float


def difference(f: Callable[..., Any], args: tuple[Any, ...], where: tuple[int, ...], value: float) -> Difference | None:
    """d f / d (the coordinate `where`) by central differences; None where f is not smooth enough to tell.

    Steps a factor 10 apart, proportional to the coordinate's magnitude (taken as at least 1e-3, so that
    0.0 and tiny coordinates are not stepped over). A smooth f's differences converge like the step
    squared: the third is then within a hundredth of its distance from the second, which bounds its
    truncation error. The tolerance adds f's rounding seen through the step: some tens of ulps of f,
    or what a fourth, finer step shows, whichever is more (the rounding of an intermediate can be far
    above f's last bits: sin(y) of a y near 3e7 carries y's rounding, 4e-9). None (nothing to compare)
    where that rounding is a sizeable part of the difference, where the differences do not converge so
    (a kink, jump or singularity within a step, a wave shorter than the steps), where the
    forward and backward differences differ as much at two steps (a kink at the point itself, where the
    derivative follows a convention), or where f fails or overflows nearby.
    """
    scale = max(1e-3, abs(coordinate(args, where)))
    steps = (1e-3 * scale, 1e-4 * scale, 1e-5 * scale, 1e-6 * scale)
    try:
        values = [(f(*moved(args, where, h)), f(*moved(args, where, -h))) for h in steps]
    except (ArithmeticError, ValueError, TypeError):  # TypeError: an int read as a real, moved, made a complex power
        return None
    if not finite(*(v for pair in values for v in pair)):
        return None
    coarse, middle, fine, finest = [(up - down) / (2 * h) for h, (up, down) in zip(steps, values)]
    kinks = [abs((up - value) / h - (value - down) / h) for h, (up, down) in zip(steps[1:3], values[1:3])]
    rounding = 1e-14 * max(abs(value), *(abs(v) for pair in values for v in pair))  # some tens of ulps of f
    # what rounding (or a wave shorter than the steps) may add to the third difference: the fourth, whose
    # share of it is ten times as large, differs from it by about that much or more
    noise = max(rounding / steps[2], abs(finest - fine))
    if fine == 0.0 and coarse != 0.0:
        return None  # the third step changes f by less than its rounding: f's slope is not resolved there
    if coarse == middle == fine == finest == 0.0 and not _flat_further(f, args, where, value, scale):
        return None  # no step moved f at all, yet f moves further out: a slope below its intermediates' rounding
    if 10 * noise > 1e-2 * max(abs(fine), 1e-3):
        return None  # rounding, or a wave shorter than the steps, swamps the differences
    settled = abs(middle - fine) <= 1e-7 * max(abs(fine), 1e-3) + 10 * noise
    if not (settled or abs(coarse - middle) >= 20 * abs(middle - fine)):
        return None
    if kinks[1] > 1e-8 * max(abs(fine), 1e-4) + 100 * noise and kinks[1] > 0.5 * kinks[0]:
        return None
    return Difference(fine, 1e-6 * abs(fine) + 3 * abs(middle - fine) + 10 * noise + 1e-12)


def _flat_further(f: Callable[..., Any], args: tuple[Any, ...], where: tuple[int, ...], value: float, scale: float) -> bool:
    """Whether f stays exactly `value` at steps far larger than the differences' (a hundredth of the scale and
    at least 0.01): flat indeed, rather than a slope too small for the steps to show (1 - s / sqrt(s**2 + c) at
    s = -1234.5 is 8e-8, under the rounding of s itself)."""
    step = 1e-2 * max(1.0, scale)
    try:
        return all(f(*moved(args, where, sign * step)) == value for sign in (1, -1))
    except (ArithmeticError, ValueError, TypeError):
        return False


def expect(condition: bool, message: str) -> None:
    """One check. (A function rather than a bare assert, so that a survey of many programs can replace
    it to collect every failure of a program rather than stop at the first.)"""
    assert condition, message


def at_a_convention(f: Callable[..., Any], args: tuple[Any, ...], where: tuple[int, ...], truth: Difference) -> bool:
    """Whether the point is one where the derivative follows a convention (a tie of max or min, abs at 0):
    the gradient just beside it, on both sides, is what the differences say, and only the point's own is
    not. There the function may be flat on both sides (`max(-(n % 3), 0)` at n = 0, where `%` jumps) while
    the rule at the tie shares the gradient, so the differences cannot judge it. Only where the program has
    an operation with such a convention: a wrong number at one point alone (a power at 0) is not excused."""
    if not re.search(r"\b(max|min|abs|fabs|copysign|hypot)\(", Path(f.__code__.co_filename).read_text()):
        return False
    step = 1e-9 * max(1.0, abs(coordinate(args, where)))
    for sign in (1, -1):
        try:
            near = components(grad(f)(*moved(args, where, sign * step)), len(args))[where[0]]
        except (ArithmeticError, ValueError, TypeError, S2SError):  # TypeError: an int moved, made a complex power
            return False
        for k in where[1:]:
            near = near[k]
        if not (isinstance(near, float) and abs(near - truth.value) <= truth.tolerance):
            return False
    return True


def in_high_precision(f: Callable[..., Any], args: tuple[Any, ...], where: tuple[int, ...], derivative: float) -> bool:
    """Whether `derivative` agrees (to 1e-3, the conditioning of what floats computed) with the derivative of the
    program run in 60-digit arithmetic (`math` as mpmath, the arguments as mpmath numbers; `mpmath.diff`): the
    truth where float differences cannot resolve f, as for sin of 2e12, a wave far shorter than any step."""
    import mpmath

    module = sys.modules[f.__module__]
    shim = types.SimpleNamespace(**{n: getattr(mpmath, n) for n in dir(math) if hasattr(mpmath, n)}, pow=mpmath.power)

    def high(value: Any) -> Any:
        if isinstance(value, list):
            return [high(v) for v in value]
        return mpmath.mpf(value) if isinstance(value, float) else value

    def along(t: Any) -> Any:
        moved_args: Any = high(list(args))
        holder = moved_args
        for k in where[:-1]:
            holder = holder[k]
        holder[where[-1]] = t
        return f(*moved_args)

    saved = module.__dict__.get("math")
    module.__dict__["math"] = shim
    try:
        with mpmath.workdps(60):
            truth = mpmath.diff(along, mpmath.mpf(coordinate(args, where)))
        return abs(derivative - float(truth)) <= 1e-3 * max(1.0, abs(float(truth)))
    except (ArithmeticError, ValueError, TypeError, AttributeError):
        return False
    finally:
        module.__dict__["math"] = saved


def excused(f: Callable[..., Any], args: tuple[Any, ...], where: tuple[int, ...], truth: Difference, derivative: object) -> bool:
    """A disagreement with the differences that is theirs: a convention point, or a function floats cannot resolve."""
    if at_a_convention(f, args, where, truth):
        return True
    return isinstance(derivative, float) and in_high_precision(f, args, where, derivative)


def check_derivative(
    derivative: object, truth: Difference | None, what: str, convention: Callable[[Difference], bool] | None = None
) -> None:
    if not isinstance(derivative, float):
        expect(False, f"{what}: the gradient is {derivative!r} of type {type(derivative).__name__}")
        return
    if truth is None:
        return
    if not abs(derivative - truth.value) <= truth.tolerance and convention is not None and convention(truth):
        event("a convention at a kink, or beyond what float differences resolve")
        return
    message = f"{what}: the gradient is {derivative!r}, the finite difference {truth.value!r} (tolerance {truth.tolerance:.2g})"
    expect(math.isfinite(derivative) and abs(derivative - truth.value) <= truth.tolerance, message)


def check_list(
    f: Callable[..., Any], args: tuple[Any, ...], where: tuple[int, ...], part: object, value: float, what: str
) -> None:
    """The gradient `part` of the list at `where` is a list of the same shape, each number its derivative."""
    items = coordinate(args, where)
    assert isinstance(items, list)
    if not (isinstance(part, list) and len(part) == len(items)):
        expect(False, f"{what}: the gradient is {part!r}, not a list of {len(items)}")
        return
    for k, (item, derivative) in enumerate(zip(items, part)):
        if isinstance(item, list):
            check_list(f, args, (*where, k), derivative, value, f"{what}[{k}]")
        else:
            spot = (*where, k)
            check_derivative(
                derivative,
                difference(f, args, spot, value),
                f"{what}[{k}]",
                lambda t, s=spot, g=derivative: excused(f, args, s, t, g),
            )


def components(gradient: object, count: int) -> tuple[Any, ...]:
    if count == 1:
        return (gradient,)
    if isinstance(gradient, tuple) and len(gradient) == count:
        return gradient
    expect(False, f"the gradient {gradient!r} for {count} parameters is not a tuple of {count}")
    return ()


def close(a: object, b: object) -> bool:
    """The same number up to rounding (a loop may add up in another order), or lists of them."""
    if isinstance(a, (list, tuple)) and type(a) is type(b):
        return len(a) == len(b) and all(close(x, y) for x, y in zip(a, b))  # type: ignore[arg-type]
    if isinstance(a, float) and isinstance(b, float):
        return a == b or abs(a - b) <= 1e-12 * max(abs(a), abs(b)) or (math.isnan(a) and math.isnan(b))
    return type(a) is type(b) and a == b


@dataclass
class Tally:
    """The programs of this session given to grad, and its refusals among them, by message."""

    tried: int = 0
    refusals: Counter[str] = field(default_factory=Counter)


TALLY = Tally()


def refusal_reason(error: S2SError, program: Program) -> str:
    message = error.message.splitlines()[0]
    for name in sorted(program.names, key=len, reverse=True):
        message = re.sub(rf"\b{re.escape(name)}\b", "NAME", message)
    return message


class TookTooLong(Exception):
    pass


@contextlib.contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Raise TookTooLong after `seconds` (a gradient that loops forever fails instead of hanging the run).
    Only where SIGALRM exists, and in the main thread; elsewhere no limit."""
    if not hasattr(signal, "setitimer") or threading.current_thread() is not threading.main_thread():
        yield
        return

    def expire(signum: int, frame: object) -> None:
        raise TookTooLong(f"still running after {seconds} s (the program runs in milliseconds)")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def run_program(program: Program, directory: Path) -> None:
    """Every check on one program (failed checks raise; `assume` skips a program or point)."""
    note(program.source)
    note(f"f{program.args!r}")
    note(f"features: {', '.join(sorted(program.features))}")
    with time_limit(20.0):
        checks(program, directory)


def checks(program: Program, directory: Path) -> None:
    module = import_source(program.source, directory, "s2s_whole_")
    f = module.f
    args = program.args
    try:
        value = f(*copy.deepcopy(args))
    except (ArithmeticError, ValueError):
        assume(False)
        return
    assume(isinstance(value, float) and math.isfinite(value))
    snapshot = copy.deepcopy(args)
    TALLY.tried += 1
    try:
        gradient = grad(f)(*args)
    except S2SError as error:
        reason = refusal_reason(error, program)
        TALLY.refusals[reason] += 1
        event(f"refused: {reason}")
        note(f"refused: {error}")
        return
    note(f"gradient {gradient!r}")
    expect(bits(args) == bits(snapshot), f"grad changed its arguments: {args!r}, were {snapshot!r}")
    parts = components(gradient, len(program.params))
    for number, (param, kind, part) in enumerate(zip(program.params, program.kinds, parts)):
        if kind == "int" and param in program.whole:  # a range bound, an index, a count: no gradient
            expect(isinstance(part, float) and part == 0.0, f"{param} (a whole number): the gradient is {part!r}, not 0.0")
        elif kind in ("int", "float"):  # an int read only as a real number: the gradient a float would get (README)
            what = f"{param} (an int read as a real number)" if kind == "int" else param
            convention = lambda t, s=(number,), g=part: excused(f, args, s, t, g)  # noqa: E731
            check_derivative(part, difference(f, args, (number,), value), what, convention)
        else:
            check_list(f, args, (number,), part, value, param)
    both, gradient_too = value_and_grad(f)(*args)
    expect(bits(args) == bits(snapshot), f"value_and_grad changed its arguments: {args!r}, were {snapshot!r}")
    expect(close(both, value), f"value_and_grad gives the value {both!r}, f gives {value!r}")
    expect(close(gradient_too, gradient), f"value_and_grad gives the gradient {gradient_too!r}, grad gives {gradient!r}")


@pytest.fixture(scope="module")
def directory(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("whole_programs")


@SETTINGS
@given(program=programs())
def test_whole_programs(directory: Path, program: Program) -> None:
    run_program(program, directory)


def test_refusals_are_a_minority() -> None:
    """The grammar stays inside the language s2s_ad differentiates: most programs get a gradient."""
    if TALLY.tried < 20:
        pytest.skip("test_whole_programs did not run in this session")
    refused = sum(TALLY.refusals.values())
    summary = f"{refused} of {TALLY.tried} programs refused:\n" + "".join(
        f"{count:6d}  {reason}\n" for reason, count in TALLY.refusals.most_common()
    )
    print(summary)
    assert refused <= 0.2 * TALLY.tried, summary
