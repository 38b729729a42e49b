"""Folding temporaries into the expression that reads them changes no number, no exception and no name.

`codegen.generate(f, fold=True)` prints a compiler temporary (`_tN`, `_tN_bar`,
`_tN_dot`) read once, by the next statement of its block, inside that
statement; `fold=False` prints every primitive on its own line and is the
reference here. Every test compares the folded code with the unfolded code of
the same IR (or with a tree built independently from the rule table), never
with the folded output itself:

- values, bit for bit (-0.0 is not 0.0, nan and inf are told apart), and the
  type of the exception raised (and what the code wrote into the lists it was
  given), for gradients, jvps and hvps of small programs and for randomly
  generated IR over most rules (mostly straight-line, with ifs, loops, list
  effects and a tape);
- parentheses: the folded text parses to the tree the rule spellings mean, for
  every rule spelling, every operand position and every kind of operand;
- order of evaluation, written as IR by hand so that a wrong fold raises a
  different exception, and what is (not) folded: read twice, lazy positions,
  loop headers;
- Python names shared by SSA versions (`x_bar += ...`, loop-carried and merged
  names, `while <test>:`) are still right where a folded expression reads them;
- the output is the same text on every run and in every process.
"""

from __future__ import annotations

import ast
import copy
import itertools
import math
import os
import random
import re
import subprocess
import sys
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import pytest
from conftest import bits, central_difference

from s2s_ad import ad, codegen, frontend, ir, lower, optimize
from s2s_ad.api import packing
from s2s_ad.rules import ARRAY_OPS, RULES

inf, nan = math.inf, math.nan
EDGES: tuple[float, ...] = (0.0, -0.0, 1.0, -1.0, 2.5, -0.75, 3.0, 1e-300, 1e308, -1e308, 5e-324, -5e-324, inf, -inf, nan)
INTS: tuple[int, ...] = (0, 1, 3)
LISTS: tuple[list[float], ...] = ([], [0.5], [-0.0, 3.0, -2.5], [inf, 1e308, -5e-324])
ROOT = Path(__file__).resolve().parent.parent

# -- building, running, comparing -------------------------------------------------------------------------------


def compiled(function: ir.Function, fold: bool, label: str = "test_folding") -> Callable[..., Any]:
    generated = codegen.generate(function, RULES, fold=fold)
    return codegen.compile_generated(generated, {}, label=f"{label} {function.name} fold={fold}")  # type: ignore[return-value]


def source(function: ir.Function, fold: bool = True) -> str:
    return codegen.generate(function, RULES, fold=fold).function


def outcome(f: Callable[..., Any], point: Sequence[object]) -> tuple[str, object, object]:
    """What a call gives, bit for bit, or the type of what it raises; and the arguments after it (generated code
    may write into a list it was given: on a copy, so every call starts from the same point)."""
    args = copy.deepcopy(list(point))
    try:
        return (*bits(f(*args)), bits(args))
    except Exception as error:  # noqa: BLE001 - any exception type is an outcome to compare
        return ("raises", type(error).__name__, bits(args))


def points_for(function: ir.Function) -> list[tuple[object, ...]]:
    """Every combination of edge cases."""
    choices: dict[ir.Type, Sequence[object]] = {ir.FLOAT: EDGES, ir.INT: INTS, ir.ListOf(ir.FLOAT): LISTS}
    return list(itertools.product(*(choices[p.type] for p in function.params)))


def assert_fold_changes_nothing(function: ir.Function, points: Iterable[Sequence[object]] | None = None) -> int:
    """The folded and the unfolded code of `function` give the same outcome at every point; how many raised."""
    folded, unfolded = compiled(function, True), compiled(function, False)
    raised = 0
    for point in program_points(function, limit=2000) if points is None else points:
        expected, got = outcome(unfolded, point), outcome(folded, point)
        assert got == expected, (
            f"{function.name}{tuple(point)}: folded {got}, unfolded {expected}\n"
            f"{source(function)}\n{source(function, fold=False)}"
        )
        raised += expected[0] == "raises"
    return raised


def statement_count(text: str) -> int:
    return sum(1 for node in ast.walk(ast.parse(text)) if isinstance(node, ast.stmt))


# -- hand-written IR ------------------------------------------------------------------------------------------------

LOC = ir.Loc("<hand-written>", 1)
Arg = str | int | float


def operand(arg: Arg | ir.Operand) -> ir.Operand:
    if isinstance(arg, (ir.Var, ir.Const, ir.Global)):
        return arg
    return ir.Var(arg) if isinstance(arg, str) else ir.Const(arg)


def let(target: str, op: str, *args: Arg | ir.Operand, type_: ir.Type = ir.FLOAT) -> ir.Assign:
    return ir.Assign(target, op, tuple(operand(a) for a in args), type_, LOC)


def effect(op: str, *args: Arg | ir.Operand) -> ir.Effect:
    return ir.Effect(op, tuple(operand(a) for a in args), LOC)


def hand(body: Iterable[ir.Stmt], returns: Arg | tuple[Arg, ...], **params: ir.Type) -> ir.Function:
    result = tuple(operand(r) for r in returns) if isinstance(returns, tuple) else operand(returns)
    return ir.Function("f", tuple(ir.Param(n, t) for n, t in params.items()), tuple(body), result, LOC)


# -- programs to differentiate ------------------------------------------------------------------------------------


def sigmoid(z):
    return 1.0 / (1.0 + math.exp(-z))


def straight_line(x, y):
    return 3.0 * x**3 - 2.0 * x * y + y**2 / (1.0 + x * x) - (x - (y - 2.0)) / (x - -y)


def transcendental(x, y):
    a = math.exp(math.sin(x) * y) + math.log(1.0 + x * x) * math.sqrt(abs(y) + 1.0)
    return a - math.atan2(y, x) + math.tanh(x * y) ** 2 + math.hypot(x, y) * math.cos(-x)


def domain_errors(x, y):
    return math.log(x) / y + math.sqrt(y - x) * math.asin(x) - math.acosh(y) / (x - 1.0) + math.log(x, y)


def powers(x, y):
    return x**y + (-2.0) ** x + y**-0.5 + math.pow(x, 3.0) - (x * y) ** (x - y) + 2.0**-x


def branches(x, y):
    if x > y:
        z = x * y - math.sin(x)
    elif x < -y:
        z = math.exp(-x) / (1.0 + y * y)
    else:
        z = (x - y) ** 2
    return z * x + y / z


def conditions(x, y):
    if (x > 0.0 and y < 1.0) or not x < y:
        return x * y * y
    w = x if y > x * 2.0 else y * 3.0
    return w * w - x


def choices(x, y, z):
    return max(x * y, z) - min(x, y * z) + abs(x - z) * max(x, y) - min(-x, 2.0 * z) + abs(y * y - 1.0)


def accumulations(x, y):
    a = x * y
    b = x * a
    c = math.sin(x) * b
    d = x / (a + 1.0) - y * c
    return a + b + c * d + x * x + x


def loop_series(x, n):
    s = 0.0
    p = 1.0
    for i in range(n):
        p = p * -x
        s += p / (i + 1)
    return s * x


def nested_loops(x, y, n):
    s = 0.0
    for i in range(n):
        t = x * i
        for j in range(i):
            t = t * y + math.sin(t) / (j + 1)
        s = s + t * t
    return s


def while_newton(a):
    x = a
    i = 0
    while i < 6 and x * x > 1e-12:
        x = 0.5 * (x + a / x)
        i = i + 1
    return x


def while_halving(x, y):
    t = x
    k = 0
    while t * t > y + 1.0 and k < 8:
        t = t * 0.5 - y * 0.125
        k += 1
    return t * y


def dot_loss(w, xs, b):
    s = b
    for i in range(len(w)):
        s += w[i] * xs[i] * b
    return s * s - sum(w) * b


def list_reductions(xs, c):
    ys = [v * c - 1.0 for v in xs]
    total = 0.0
    for v in ys:
        if v > c:
            total = total + v * v
        else:
            total = total - math.exp(v) * c
    return total + max([c, c * c]) + sum(ys) * c


def appending(xs, c):
    out = []
    for v in xs:
        out.append(v * c + math.sin(c))
    s = 0.0
    for v in out:
        s = s + v * v / (1.0 + c * c)
    return s


def helpers(x, y):
    return sigmoid(x * y) * sigmoid(x - y) + sigmoid(sigmoid(x)) * y


def matrix(W, x):
    s = 0.0
    for i in range(len(W)):
        h = 0.0
        for j in range(len(x)):
            h += W[i][j] * x[j]
        s = s + sigmoid(h) * h
    return s


def reassigned(x, y):
    t = x * y
    t = t + math.sin(t) * x
    t = t * t - x / y
    u = t
    t = u / (1.0 + y * y)
    return t * u + x * t


def loop_carried_reads(x, y, n):
    a = x
    b = y
    for i in range(n):
        c = a * b + math.sin(a) * i
        a = b - c * 0.5
        b = c / (1.0 + a * a)
    return a * b + x


PROGRAMS: tuple[Callable[..., Any], ...] = (
    straight_line,
    transcendental,
    domain_errors,
    powers,
    branches,
    conditions,
    choices,
    accumulations,
    loop_series,
    nested_loops,
    while_newton,
    while_halving,
    dot_loss,
    list_reductions,
    appending,
    helpers,
    matrix,
    reassigned,
    loop_carried_reads,
)
PROGRAM_IDS = [p.__name__ for p in PROGRAMS]
MATRICES: tuple[list[list[float]], ...] = ([], [[0.5, -1.0]], [[1.0, -0.0], [inf, 2.0]])


def primal_ir(f: Callable[..., Any]) -> ir.Function:
    return lower.lower(frontend.from_function(f), RULES)


def float_params(function: ir.Function) -> tuple[str, ...]:
    return tuple(p.name for p in function.params if p.type == ir.FLOAT or isinstance(p.type, ir.ListOf))


def gradient_ir(f: Callable[..., Any], optimized: bool = True) -> ir.Function:
    primal = primal_ir(f)
    gradient = ad.gradient(primal, float_params(primal), with_value=True, rules=RULES)
    return optimize.optimize(gradient, RULES) if optimized else gradient


def jvp_ir(f: Callable[..., Any], optimized: bool = True) -> ir.Function:
    primal = primal_ir(f)
    tangent = ad.tangent(primal, float_params(primal), RULES)
    return optimize.optimize(tangent, RULES) if optimized else tangent


def hvp_ir(f: Callable[..., Any]) -> ir.Function:
    primal = primal_ir(f)
    wrt = float_params(primal)
    gradient = optimize.optimize(ad.gradient(primal, wrt, rules=RULES), RULES)
    return optimize.optimize(ad.tangent(gradient, wrt, RULES, name=f"{primal.name}_hvp"), RULES)


def program_points(function: ir.Function, limit: int = 600, floats: Sequence[float] = EDGES) -> list[tuple[object, ...]]:
    """Every combination of edge cases, or `limit` of them drawn at random (the same ones on every run).

    Lists are made of `floats` too when they are not the edge cases."""
    lists = LISTS if floats is EDGES else ([], list(floats[:1]), list(floats[1:4]))
    matrices = MATRICES if floats is EDGES else ([], [list(floats[:2])], [list(floats[2:4]), list(floats[4:6])])
    choices: list[Sequence[object]] = []
    for p in function.params:
        if p.type == ir.FLOAT:
            choices.append(floats)
        elif p.type == ir.INT:
            choices.append(INTS)
        elif p.type == ir.ListOf(ir.ListOf(ir.FLOAT)):
            choices.append(matrices)
        else:
            choices.append(lists)
    total = math.prod(len(c) for c in choices)
    if total <= limit:
        return list(itertools.product(*choices))
    points = []
    for index in random.Random(function.name).sample(range(total), limit):
        point = []
        for c in choices:
            index, i = divmod(index, len(c))
            point.append(c[i])
        points.append(tuple(point))
    return points


KINDS: dict[str, Callable[[Callable[..., Any]], ir.Function]] = {
    "grad": gradient_ir,
    "grad-unoptimized": lambda f: gradient_ir(f, optimized=False),
    "jvp": jvp_ir,
    "jvp-unoptimized": lambda f: jvp_ir(f, optimized=False),
}


# -- random IR programs -------------------------------------------------------------------------------------------

FLOAT_UNARY = (
    "neg",
    "copy",
    "abs",
    "sin",
    "cos",
    "tan",
    "asin",
    "acos",
    "atan",
    "sinh",
    "cosh",
    "tanh",
    "asinh",
    "acosh",
    "atanh",
    "exp",
    "expm1",
    "log",
    "log1p",
    "log2",
    "log10",
    "sqrt",
    "fabs",
    "erf",
    "erfc",
    "degrees",
    "radians",
    "sign",
    "float",
)
FLOAT_BINARY = (
    "add",
    "sub",
    "mul",
    "div",
    "pow",
    "floordiv",
    "mod",
    "atan2",
    "logb",
    "hypot",
    "fpow",
    "fpow_builtin",
    "max",
    "min",
    "step",
    "xlogy",
    "add",
    "sub",
    "mul",
    "div",
    "pow",
)
FLOAT_TERNARY = ("gate", "gate_else")
TO_INT = ("floor", "ceil", "trunc", "int", "round")
COMPARISONS = ("lt", "le", "gt", "ge", "eq", "ne")
FLOAT_CONSTANTS = (
    0.0,
    -0.0,
    1.0,
    -1.0,
    2.0,
    -2.0,
    0.5,
    -0.5,
    3,
    -1,
    inf,
    -inf,
    nan,
    math.pi,
    math.e,
    math.tau,
    1e308,
    -5e-324,
    True,
)
LIST = ir.ListOf(ir.FLOAT)
OPS_IN_RANDOM_PROGRAMS = frozenset(
    (
        *FLOAT_UNARY,
        *FLOAT_BINARY,
        *FLOAT_TERNARY,
        "gate_sign",
        *TO_INT,
        *COMPARISONS,
        "not",
        "and",
        "or",
        "index",
        "len",
        "sum",
        "list_max",
        "list_min",
        "repeat",
        "index_of",
    )
)


class RandomProgram:
    """A random program over most rules: straight-line code mostly, with ifs, loops, list effects and a tape.

    Operands are mostly the values computed last (so that temporaries fold), sometimes constants (negative,
    infinite, nan, pi), sometimes older values (so that some temporaries are read out of order or twice).
    Ints that may be huge never meet `*` or `**` with each other; list lengths come from small ints only.
    """

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.count = 0
        first = "math" if self.rng.random() < 0.2 else "x"  # a parameter called math: the module is `_math`
        self.params = ((first, ir.FLOAT), ("y", ir.FLOAT), ("n", ir.INT), ("xs", LIST))
        self.pool: dict[ir.Type, list[str]] = {ir.FLOAT: [first, "y"], ir.INT: ["n"], ir.BOOL: [], LIST: ["xs"]}
        self.small: list[str] = ["n"]  # ints that may size a list
        self.pushed: list[str] = []
        body = self.block(self.rng.randint(4, 14), depth=0)
        pops = []
        for _ in self.pushed:
            target = self.fresh(False, "p")
            pops.append(ir.Pop((target,), (ir.FLOAT,), LOC))
            self.pool[ir.FLOAT].append(target)
        floats = self.pool[ir.FLOAT]
        returned = list(dict.fromkeys([*floats[-3:], self.rng.choice(floats), *self.pool[ir.INT][-1:], *self.pool[ir.BOOL][-1:]]))
        result = tuple(ir.Var(name) for name in returned)
        self.function = ir.Function(f"random_{seed}", tuple(ir.Param(n, t) for n, t in self.params), (*body, *pops), result, LOC)

    def fresh(self, temporary: bool, prefix: str = "v") -> str:
        self.count += 1
        return f"_t{self.count}" if temporary else f"{prefix}{self.count}"

    def pick(self, type_: ir.Type, constants: bool = True) -> ir.Operand:
        rng = self.rng
        if constants and rng.random() < 0.15:
            if type_ == ir.FLOAT:
                return ir.Const(rng.choice(FLOAT_CONSTANTS))
            if type_ == ir.INT:
                return ir.Const(rng.choice((0, 1, 2, -1)))
            if type_ == ir.BOOL:
                return ir.Const(rng.choice((True, False)))
        names = self.pool[type_]
        if not names:
            raise LookupError(type_)
        if rng.random() < 0.75:
            return ir.Var(rng.choice(names[-3:]))
        return ir.Var(rng.choice(names))

    def assign(self, out: list[ir.Stmt], op: str, args: Sequence[ir.Operand], type_: ir.Type) -> str:
        target = self.fresh(self.rng.random() < 0.8)
        out.append(ir.Assign(target, op, tuple(args), type_, LOC))
        self.pool[type_].append(target)
        return target

    def statement(self, out: list[ir.Stmt], depth: int) -> None:
        rng = self.rng
        kind = rng.choices(
            ("unary", "binary", "ternary", "int", "compare", "logic", "list", "effect", "push", "if", "loop", "tree"),
            weights=(20, 24, 3, 4, 6, 4, 6, 3, 2, 4 if depth < 2 else 0, 3 if depth < 1 else 0, 16),
        )[0]
        floats = lambda k: [self.pick(ir.FLOAT) for _ in range(k)]  # noqa: E731
        if kind == "unary":
            self.assign(out, rng.choice(FLOAT_UNARY), floats(1), ir.FLOAT)
        elif kind == "binary":
            self.assign(out, rng.choice(FLOAT_BINARY), floats(2), ir.FLOAT)
        elif kind == "ternary":
            if rng.random() < 0.3:
                self.assign(out, "gate_sign", floats(2), ir.FLOAT)
            else:
                self.assign(out, rng.choice(FLOAT_TERNARY), floats(3), ir.FLOAT)
        elif kind == "int":
            if rng.random() < 0.5 or not self.pool[ir.INT]:
                self.assign(out, rng.choice(TO_INT), floats(1), ir.INT)
            else:
                op = rng.choice(("add", "sub", "floordiv", "mod"))
                self.assign(out, op, [self.pick(ir.INT), self.pick(ir.INT)], ir.INT)
        elif kind == "compare":
            self.assign(out, rng.choice(COMPARISONS), floats(2), ir.BOOL)
        elif kind == "logic":
            if not self.pool[ir.BOOL]:
                self.assign(out, rng.choice(COMPARISONS), floats(2), ir.BOOL)
            elif rng.random() < 0.4:
                self.assign(out, "not", [self.pick(ir.BOOL)], ir.BOOL)
            else:
                self.assign(out, rng.choice(("and", "or")), [self.pick(ir.BOOL), self.pick(ir.BOOL)], ir.BOOL)
        elif kind == "list":
            self.list_statement(out)
        elif kind == "effect":
            items = self.pick(LIST, constants=False)
            value = self.pick(ir.FLOAT)
            if rng.random() < 0.5:
                out.append(ir.Effect("append", (items, value), LOC))
            else:
                out.append(ir.Effect("setitem", (items, self.pick(ir.INT), value), LOC))
        elif kind == "push":
            value = self.pick(ir.FLOAT, constants=False)
            assert isinstance(value, ir.Var)
            out.append(ir.Push((value,), LOC))
            self.pushed.append(value.name)
        elif kind == "if":
            self.branch(out, depth)
        elif kind == "loop":
            self.loop(out, depth)
        else:
            root = self.tree(out, rng.randint(1, 3))
            if isinstance(root, ir.Var):
                self.pool[ir.FLOAT].append(root.name)

    def tree(self, out: list[ir.Stmt], depth: int) -> ir.Operand:
        """A nested expression, computed operand by operand in Python's order: every temporary folds."""
        rng = self.rng
        if depth == 0:
            return self.pick(ir.FLOAT)
        op = rng.choice(
            (
                "copy",
                "neg",
                "not",
                "lt",
                "sub",
                "div",
                "pow",
                "mul",
                "add",
                "mod",
                *FLOAT_UNARY[3:9],
                *FLOAT_BINARY,
                "gate",
                "gate_sign",
                "max",
                "index",
            )
        )
        if op == "index":
            items = self.pick(LIST, constants=False)
            position = self.fresh(True)
            out.append(ir.Assign(position, "floor", (self.tree(out, depth - 1),), ir.INT, LOC))
            args = [items, ir.Var(position)]
        else:
            args = [self.tree(out, rng.randint(0, depth - 1)) for _ in range(RULES[op].arity)]
        target = self.fresh(True)
        out.append(ir.Assign(target, op, tuple(args), ir.BOOL if op in ("not", "lt") else ir.FLOAT, LOC))
        return ir.Var(target)

    def list_statement(self, out: list[ir.Stmt]) -> None:
        rng = self.rng
        choice = rng.choice(("index", "index", "len", "sum", "list_max", "list_min", "repeat", "index_of"))
        items = self.pick(LIST, constants=False)
        if choice == "index":
            self.assign(out, "index", [items, self.pick(ir.INT)], ir.FLOAT)
        elif choice == "len":
            target = self.assign(out, "len", [items], ir.INT)
            self.small.append(target)
        elif choice in ("sum", "list_max", "list_min"):
            self.assign(out, choice, [items], ir.FLOAT)
        elif choice == "repeat":
            size = ir.Const(rng.choice((0, 1, 2))) if rng.random() < 0.3 else ir.Var(rng.choice(self.small))
            self.assign(out, "repeat", [self.pick(ir.FLOAT), size], LIST)
        else:
            self.assign(out, "index_of", [items, self.pick(ir.FLOAT)], ir.INT)

    def scoped(self, count: int, depth: int, extra: dict[ir.Type, list[str]] | None = None) -> tuple[ir.Block, dict]:
        """A nested block: what it defines is visible only inside it."""
        saved = {t: list(names) for t, names in self.pool.items()}
        saved_small = list(self.small)
        for t, names in (extra or {}).items():
            self.pool[t].extend(names)
        block = self.block(count, depth)
        inside = self.pool
        self.pool, self.small = saved, saved_small
        return block, inside

    def block(self, count: int, depth: int) -> ir.Block:
        out: list[ir.Stmt] = []
        for _ in range(count):
            self.statement(out, depth)
        return tuple(out)

    def branch(self, out: list[ir.Stmt], depth: int) -> None:
        rng = self.rng
        if rng.random() < 0.6 or not self.pool[ir.BOOL]:
            cond = ir.Var(self.assign(out, rng.choice(COMPARISONS), [self.pick(ir.FLOAT), self.pick(ir.FLOAT)], ir.BOOL))
        else:
            cond = self.pick(ir.BOOL)
        empty = rng.random() < 0.3  # `z = a if c else b`
        then, then_pool = self.scoped(0 if empty else rng.randint(1, 3), depth + 1)
        orelse, else_pool = self.scoped(0 if empty else rng.randint(0, 3), depth + 1)
        merges = []
        for _ in range(1 if empty else rng.randint(1, 2)):
            target = self.fresh(False, "m")
            a = ir.Var(rng.choice(then_pool[ir.FLOAT][-3:]))
            b = ir.Var(rng.choice(else_pool[ir.FLOAT][-3:]))
            merges.append(ir.Merge(target, ir.FLOAT, a, b))
        out.append(ir.If(cond, then, orelse, tuple(merges), LOC))
        self.pool[ir.FLOAT].extend(m.target for m in merges)

    def loop(self, out: list[ir.Stmt], depth: int) -> None:
        rng = self.rng
        header, result = self.fresh(False, "h"), self.fresh(False, "r")
        init = self.pick(ir.FLOAT)
        if rng.random() < 0.5:
            index = self.fresh(False, "i")
            body, inside = self.scoped(rng.randint(1, 4), depth + 1, {ir.FLOAT: [header], ir.INT: [index]})
            update = ir.Var(inside[ir.FLOAT][-1])
            carry = ir.Carry(header, ir.FLOAT, init, update, result)
            bound = ir.Var(rng.choice(self.small))
            out.append(ir.For(index, ir.Const(0), bound, ir.Const(1), (carry,), body, None, LOC, reverse=rng.random() < 0.3))
        else:
            k, k_next, k_result = self.fresh(False, "k"), self.fresh(False, "k"), self.fresh(False, "k")
            test_out: list[ir.Stmt] = []
            saved = {t: list(names) for t, names in self.pool.items()}
            self.pool[ir.FLOAT].append(header)
            limit = ir.Var(self.assign(test_out, "lt", [ir.Var(k), ir.Const(3)], ir.BOOL))
            if rng.random() < 0.5:
                compare = self.assign(test_out, rng.choice(COMPARISONS), [ir.Var(header), self.pick(ir.FLOAT)], ir.BOOL)
                cond = ir.Var(self.assign(test_out, "and", [limit, ir.Var(compare)], ir.BOOL))
            else:
                cond = limit
            self.pool = saved
            body, inside = self.scoped(rng.randint(1, 4), depth + 1, {ir.FLOAT: [header], ir.INT: [k]})
            body = (*body, ir.Assign(k_next, "add", (ir.Var(k), ir.Const(1)), ir.INT, LOC))
            update = ir.Var(inside[ir.FLOAT][-1])
            carried = (
                ir.Carry(header, ir.FLOAT, init, update, result),
                ir.Carry(k, ir.INT, ir.Const(0), ir.Var(k_next), k_result),
            )
            out.append(ir.While(carried, tuple(test_out), cond, body, None, LOC))
        self.pool[ir.FLOAT].append(result)


def random_points(function: ir.Function, count: int, seed: int) -> list[tuple[object, ...]]:
    rng = random.Random(seed)
    choices: dict[ir.Type, Sequence[object]] = {ir.FLOAT: EDGES, ir.INT: INTS, LIST: LISTS}
    return [tuple(rng.choice(choices[p.type]) for p in function.params) for _ in range(count)]


# -- values: folded and unfolded code give the same bits --------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("program", PROGRAMS, ids=PROGRAM_IDS)
def test_derivatives_fold_bit_for_bit(program: Callable[..., Any], kind: str) -> None:
    function = KINDS[kind](program)
    assert_fold_changes_nothing(function, program_points(function))
    assert statement_count(source(function)) < statement_count(source(function, fold=False)), "nothing folded"


@pytest.mark.parametrize("program", [transcendental, branches, loop_series, dot_loss], ids=lambda p: p.__name__)
def test_packed_jvps_fold_bit_for_bit(program: Callable[..., Any]) -> None:
    """As `jvp` prints them: `f_jvp(primals, tangents)`, the parameters unpacked from two tuples."""
    function = jvp_ir(program)
    wrt = float_params(primal_ir(program))
    packed = packing(function, wrt)
    folded, unfolded = (
        codegen.compile_generated(codegen.generate(function, RULES, packed=packed, fold=fold), {}, label=f"packed fold={fold}")
        for fold in (True, False)
    )
    count = len(function.params) - len(wrt)
    for point in program_points(function, limit=300):
        packed_point = (tuple(point[:count]), tuple(point[count:]))
        assert outcome(folded, packed_point) == outcome(unfolded, packed_point), point  # type: ignore[arg-type]


@pytest.mark.parametrize("program", PROGRAMS, ids=PROGRAM_IDS)
def test_hessian_vector_products_fold_bit_for_bit(program: Callable[..., Any]) -> None:
    function = hvp_ir(program)
    assert_fold_changes_nothing(function, program_points(function, limit=300))


def test_the_edge_points_reach_the_raising_paths() -> None:
    """The comparisons above see exceptions, not only numbers (else an order bug could not show)."""
    assert assert_fold_changes_nothing(gradient_ir(domain_errors)) > 0
    assert assert_fold_changes_nothing(jvp_ir(powers), program_points(jvp_ir(powers), limit=200)) > 0


SMOOTH: dict[Callable[..., Any], tuple[object, ...]] = {
    straight_line: (0.7, -1.3),
    transcendental: (0.4, 1.1),
    branches: (0.9, 0.2),
    choices: (0.3, -0.8, 1.7),
    accumulations: (0.6, -0.9),
    loop_series: (0.4, 4),
    nested_loops: (0.3, 0.8, 3),
    while_halving: (3.0, 0.5),
    dot_loss: ([0.5, -0.2, 1.5], [1.0, 2.0, -0.5], 0.3),
    helpers: (0.4, -0.6),
}


@pytest.mark.parametrize("program", SMOOTH, ids=lambda p: p.__name__)
def test_folded_gradients_match_finite_differences(program: Callable[..., Any]) -> None:
    """An independent truth: the folded gradient is the derivative (where the program is smooth)."""
    point = SMOOTH[program]
    value, gradient = compiled(gradient_ir(program), True)(*copy.deepcopy(point))
    assert value == program(*copy.deepcopy(point))
    for i, (arg, got) in enumerate(zip(point, gradient)):
        if isinstance(arg, float):
            assert got == pytest.approx(central_difference(program, point, i), rel=1e-5, abs=1e-6)


def copy_folds_a_wider_expression(function: ir.Function) -> bool:
    """Whether a folded `copy` copies a folded expression or a constant that is not a plain number (-2.0, math.inf)."""
    folded = codegen.inlined(function, RULES)
    return any(
        s.op == "copy"
        and (
            (isinstance(s.args[0], ir.Var) and s.args[0].name in folded)
            or (isinstance(s.args[0], ir.Const) and not codegen.spelling.plain(s.args[0].value))
        )
        for s in folded.values()
    )


def random_programs(seeds: Iterable[int], copying: bool | None = None) -> Iterable[ir.Function]:
    """Random programs; with `copying`, only those that do (or do not) fold a `copy` of a wider expression."""
    for seed in seeds:
        function = RandomProgram(seed).function
        if copying is None or copy_folds_a_wider_expression(function) == copying:
            yield function


@pytest.mark.parametrize("chunk", range(8))
def test_random_programs_fold_bit_for_bit(chunk: int) -> None:
    folded = 0
    for function in random_programs(range(chunk * 60, chunk * 60 + 60)):
        assert_fold_changes_nothing(function, random_points(function, 60, seed=chunk))
        folded += statement_count(source(function)) < statement_count(source(function, fold=False))
    assert folded >= 30


def test_random_programs_cover_the_rules_and_the_math_parameter() -> None:
    used: set[str] = set()
    renamed = 0
    for seed in range(480):
        function = RandomProgram(seed).function
        used.update(s.op for s in ir.walk(function.body) if isinstance(s, ir.Assign))
        renamed += "_math." in source(function)
    assert used >= OPS_IN_RANDOM_PROGRAMS
    assert renamed >= 20


def test_random_programs_that_fold_a_copy_fold_bit_for_bit() -> None:
    """At 87979f9 a folded copy lost its operand's parentheses: random_24 printed `min(-2.0, y) * (y / -inf)` as
    `y if y < -2.0 else -2.0 * (y / -math.inf)`."""
    functions = list(random_programs(range(500), copying=True))
    assert len(functions) >= 5
    for function in functions:
        assert_fold_changes_nothing(function, points_for(function))


# -- parentheses: the folded text parses to the tree the rule spellings mean ---------------------------------------

# Spelled by `python` (NumPy's rules are left out: their holes hold arrays, not the numbers these tests print).
PRINTED_RULES = tuple(sorted(op for op, rule in RULES.items() if rule.spell is None and not rule.effect and op not in ARRAY_OPS))
# Holes evaluated conditionally or more than once: a folded expression there would run a different number of times.
LAZY = frozenset(
    {"and", "or", "sign", "step", "gate", "gate_else", "gate_sign", "xlogy", "div_pos", "pow_base", "fpow_base", "max", "min"}
    | {  # NumPy's elementwise choices read an operand twice (`np.where(x > y, g, np.where(x == y, 0.5 * g, ...))`)
        op for op, rule in RULES.items() if [int(i) for i in re.findall(r"\{(\d+)\}", rule.python)] != list(range(rule.arity))
    }
)
NOT_FOLDED = frozenset(op for op, rule in RULES.items() if not rule.inline or not rule.pure)  # printed on their own lines
# Constants that print as more than a number, as generated code spells them.
CONSTANTS: tuple[tuple[float | int | bool, str], ...] = (
    (-0.0, "-0.0"),
    (-2.0, "-2.0"),
    (-1, "-1"),
    (0.5, "0.5"),
    (True, "True"),
    (1e308, "1e+308"),
    (-5e-324, "-5e-324"),
    (inf, "math.inf"),
    (-inf, "-math.inf"),
    (nan, "math.nan"),
    (math.pi, "math.pi"),
    (-math.pi, "-3.141592653589793"),
    (math.e, "math.e"),
    (math.tau, "math.tau"),
)
PARAMS = ("a", "b", "c", "d", "e", "f", "g")  # the inner expression reads a, b, c (d); the other holes of the outer d, e, f, g


# Trees are compared as `ast.dump` strings: a parsed text has no parentheses left, only its structure.


def name(identifier: str) -> str:
    return f"Name(id={identifier!r}, ctx=Load())"


def dumped(text: str, math_name: str = "math") -> str:
    """The tree of an expression, with the math module called `math_name` (and NumPy `np`, as generated code imports it)."""
    return ast.dump(ast.parse(text, mode="eval").body).replace(name("math"), name(math_name)).replace(name("numpy"), name("np"))


def substituted(tree: str, mapping: dict[str, str]) -> str:
    """The tree with the names in `mapping` replaced by trees (in one pass: what is put in is not looked at again)."""
    return re.sub(r"Name\(id='([^']*)', ctx=Load\(\)\)", lambda m: mapping.get(m.group(1), m.group(0)), tree)


def intended(op: str, args: Sequence[str], math_name: str = "math") -> str:
    """The tree a rule's spelling means with `args` in its holes: built from the rule table, not by codegen."""
    holes = [f"_hole{i}_" for i in range(RULES[op].arity)]
    return substituted(dumped(RULES[op].python.format(*holes), math_name), dict(zip(holes, args)))


def inlined(text: str) -> tuple[dict[str, str], str]:
    """Straight-line generated code as trees: each assigned name's value with the assignments before it substituted
    (the last assignment of a reused name wins, as in Python), and the returned expression."""
    definition = ast.parse(text).body[0]
    assert isinstance(definition, ast.FunctionDef)
    known: dict[str, str] = {}
    for stmt in definition.body:
        if isinstance(stmt, ast.Assign):
            (target,) = stmt.targets
            assert isinstance(target, ast.Name)
            known[target.id] = substituted(ast.dump(stmt.value), known)
        elif isinstance(stmt, ast.Return):
            assert stmt.value is not None
            return known, substituted(ast.dump(stmt.value), known)
        else:
            assert isinstance(stmt, ast.Pass), ast.dump(stmt)
    raise AssertionError("no return")


def assignment_count(text: str) -> int:
    return sum(isinstance(node, ast.Assign) for node in ast.walk(ast.parse(text)))


Shape = tuple[str, list[ir.Assign], ir.Operand, Callable[[str], str]]


def inner_shapes(copies: bool = False) -> list[Shape]:
    """Operands an outer rule may get: every rule applied to parameters, constants, nested expressions.

    Each is (label, statements computing it, the operand, its intended tree for a math module name)."""
    shapes: list[Shape] = []
    for op in PRINTED_RULES:
        params = PARAMS[: RULES[op].arity]

        def tree(m: str, op: str = op, params: Sequence[str] = params) -> str:
            return intended(op, [name(p) for p in params], m)

        statement = ir.Assign("_t1", op, tuple(map(ir.Var, params)), ir.FLOAT, LOC)
        if copies:
            shapes.append((f"copy({op})", [statement, let("_t2", "copy", "_t1")], ir.Var("_t2"), tree))
            continue
        shapes.append((op, [statement], ir.Var("_t1"), tree))
        if op in ("add", "pow", "lt", "not", "and", "max", "neg", "index", "sin", "repeat"):
            for outer in ("neg", "not"):
                shapes.append(
                    (
                        f"{outer}({op})",
                        [statement, let("_t2", outer, "_t1")],
                        ir.Var("_t2"),
                        lambda m, outer=outer, tree=tree: intended(outer, [tree(m)], m),
                    )
                )
    for value, spelling in CONSTANTS:

        def constant(m: str, spelling: str = spelling) -> str:
            return dumped(spelling, m)

        if copies:
            shapes.append((f"copy({spelling})", [let("_t1", "copy", ir.Const(value))], ir.Var("_t1"), constant))
        else:
            shapes.append((spelling, [], ir.Const(value), constant))
    return shapes


def check_parentheses(outer: str, shapes: Sequence[Shape], math_name: str = "math") -> int:
    """Every shape in every hole of `outer`: the folded and the unfolded text mean the intended tree; what folds.

    One function per hole holds every shape: shape k computes its operand from temporaries and stores
    `outer(...)` in the named value `r<k>`, which nothing folds into, so the shapes do not interfere."""
    params = ("math", *PARAMS[1:]) if math_name == "_math" else PARAMS
    rename = {"a": ir.Var("math")} if math_name == "_math" else {}
    arity = RULES[outer].arity
    checked = 0
    for position in range(arity):
        body: list[ir.Stmt] = []
        expected: dict[str, str] = {}
        printed = 0  # assignments the folded code prints
        for k, (_, statements, inner, tree) in enumerate(shapes):
            names = {s.target: ir.Var(f"_t{100 * k + i}") for i, s in enumerate(statements)}
            chain = [
                ir.Assign(names[s.target].name, s.op, tuple(ir.substitute(a, {**names, **rename}) for a in s.args), s.type, LOC)
                for s in statements
            ]
            args = [ir.substitute(inner, names) if j == position else ir.Var(PARAMS[3 + j]) for j in range(arity)]
            body += [*chain, ir.Assign(f"r{k}", outer, tuple(args), ir.FLOAT, LOC)]
            leaf = substituted(tree(math_name), {"a": name("math")} if rename else {})
            others = [name(PARAMS[3 + j]) for j in range(arity)]
            expected[f"r{k}"] = intended(outer, [leaf if j == position else o for j, o in enumerate(others)], math_name)
            # a statement folds into the next unless it is never folded or the next reads it lazily
            readers = [s.op for s in statements[1:]] + [outer]
            printed += 1 + sum(s.op in NOT_FOLDED or reader in LAZY for s, reader in zip(statements, readers))
        function = hand(body, tuple(expected), **{p: ir.FLOAT for p in params})
        for fold in (True, False):
            text = source(function, fold)
            known, _ = inlined(text)
            for (label, *_), (target, tree) in zip(shapes, expected.items()):
                assert known[target] == tree, f"{outer} hole {position} <- {label}, fold={fold}: {known[target]}\n{text}"
            assert assignment_count(text) == (printed if fold else len(body)), text
        checked += len(shapes)
    return checked


@pytest.mark.parametrize("outer", PRINTED_RULES)
def test_parentheses_of_every_spelling_in_every_hole(outer: str) -> None:
    assert check_parentheses(outer, SHAPES) == RULES[outer].arity * len(SHAPES)


@pytest.mark.parametrize("outer", PRINTED_RULES)
def test_parentheses_with_the_math_module_renamed(outer: str) -> None:
    """A parameter called `math` hides the module: generated code imports it as `_math`, in folded spellings too."""
    shapes = [
        s
        for s in SHAPES
        if s[0] in ("sin", "logb", "add", "pow", "not", "math.inf", "-math.inf", "math.nan", "math.pi", "-0.0", "neg(sin)")
    ]
    assert len(shapes) == 11
    check_parentheses(outer, shapes, math_name="_math")


@pytest.mark.parametrize("outer", PRINTED_RULES)
def test_every_spelling_folds_into_a_return_tuple(outer: str) -> None:
    """The outer expressions themselves fold into `return ..., ...` (with a low-binding operand inside)."""
    arity = RULES[outer].arity
    body = [
        let("_t1", "or", "a", "b"),
        ir.Assign("_t2", outer, (ir.Var("_t1"), *map(ir.Var, PARAMS[3 : 2 + arity])), ir.FLOAT, LOC),
        let("_t3", "neg", -0.0),
        let("_t4", "sub", "c", "_t3"),
    ]
    function = hand(body, ("_t2", "_t4"), **{p: ir.FLOAT for p in PARAMS})
    first = intended(outer, [intended("or", [name("a"), name("b")]), *(name(p) for p in PARAMS[3 : 2 + arity])])
    second = intended("sub", [name("c"), intended("neg", [dumped("-0.0")])])
    for fold in (True, False):
        text = source(function, fold)
        _, returned = inlined(text)
        assert returned == f"Tuple(elts=[{first}, {second}], ctx=Load())", text
    printed = (outer in LAZY) + (outer in NOT_FOLDED)
    assert assignment_count(source(function)) == printed, source(function)
    assert "c - --0.0" in source(function)


COPIED = ("add", "mul", "pow", "neg", "not", "lt", "and", "or", "max", "sin", "index", "repeat")


@pytest.mark.parametrize("outer", PRINTED_RULES)
def test_parentheses_of_a_folded_copy(outer: str) -> None:
    """`copy` is spelled `{0}`: folded, it binds as tightly as what it copies (at 87979f9 it bound like a name, so
    `(a + b) * d` printed as `a + b * d`, `copy(-2.0) ** d` as `-2.0 ** d` and `-copy(not a)` as `-not a`)."""
    copies = [s for s in inner_shapes(copies=True) if s[0][5:-1] in COPIED or s[0][5:-1] not in RULES]
    assert len(copies) == len(COPIED) + len(CONSTANTS)
    check_parentheses(outer, copies)


def test_a_folded_copy_keeps_its_value() -> None:
    function = hand(
        [
            let("_t1", "add", "a", "b"),
            let("_t2", "copy", "_t1"),
            let("_t3", "mul", "_t2", "c"),
            let("_t4", "copy", -2.0),
            let("_t5", "pow", "_t4", "c"),
            let("_t6", "lt", "a", "b"),
            let("_t7", "not", "_t6"),
            let("_t8", "copy", "_t7"),
            let("_t9", "neg", "_t8"),
        ],
        ("_t3", "_t5", "_t9"),
        a=ir.FLOAT,
        b=ir.FLOAT,
        c=ir.FLOAT,
    )
    assert compiled(function, False)(1.0, 2.0, 3.0) == (9.0, -8.0, 0)
    assert compiled(function, True)(1.0, 2.0, 3.0) == (9.0, -8.0, 0)
    assert assignment_count(source(function)) == 0  # everything folded into the return


SHAPES = inner_shapes()


# -- order of evaluation: a fold never runs one computation before another that came first -----------------------

XY = {"x": ir.FLOAT, "y": ir.FLOAT}


def assignments_in(text: str) -> dict[str, str]:
    """The printed assignments, `target: value` as source text, in order (the last one of a name wins)."""
    found: dict[str, str] = {}
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
            found[node.targets[0].id] = ast.unparse(node.value)
    return found


def raised_by(function: ir.Function, fold: bool, *point: object) -> str:
    kind, what, _ = outcome(compiled(function, fold), point)
    assert kind == "raises", (fold, what)
    return str(what)


def test_an_older_temporary_read_after_a_newer_one_is_not_folded() -> None:
    """`_t1 = 1 / x; _t2 = log(y); r = _t2 * _t1`: folding _t1 would compute log(y) first."""
    function = hand([let("_t1", "div", 1.0, "x"), let("_t2", "log", "y"), let("_t3", "mul", "_t2", "_t1")], "_t3", **XY)
    assert raised_by(function, False, 0.0, -1.0) == raised_by(function, True, 0.0, -1.0) == "ZeroDivisionError"
    assert list(assignments_in(source(function)).values()) == ["1.0 / x"]  # _t2 folds, _t1 keeps its line
    assert assert_fold_changes_nothing(function) > 0


def test_temporaries_read_in_the_order_they_were_computed_all_fold() -> None:
    function = hand([let("_t1", "log", "y"), let("_t2", "div", 1.0, "x"), let("_t3", "mul", "_t1", "_t2")], "_t3", **XY)
    assert raised_by(function, False, 0.0, -1.0) == raised_by(function, True, 0.0, -1.0) == "ValueError"
    assert assignments_in(source(function)) == {}
    assert "math.log(y) * (1.0 / x)" in source(function)
    assert_fold_changes_nothing(function)


def test_a_temporary_folded_into_another_keeps_its_place() -> None:
    """A (1/x), B (log y), C = sqrt(A), R = B * C: only B and C fold; A, computed first, keeps its line."""
    function = hand(
        [let("_t1", "div", 1.0, "x"), let("_t2", "log", "y"), let("_t3", "sqrt", "_t1"), let("_t4", "mul", "_t2", "_t3")],
        "_t4",
        **XY,
    )
    assert raised_by(function, False, 0.0, -1.0) == raised_by(function, True, 0.0, -1.0) == "ZeroDivisionError"
    assert list(assignments_in(source(function)).values()) == ["1.0 / x"]
    # A, B, C(B), R(A, C): all three fold, A first
    chain = hand(
        [let("_t1", "div", 1.0, "x"), let("_t2", "log", "y"), let("_t3", "sqrt", "_t2"), let("_t4", "mul", "_t1", "_t3")],
        "_t4",
        **XY,
    )
    assert raised_by(chain, False, 0.0, -1.0) == raised_by(chain, True, 0.0, -1.0) == "ZeroDivisionError"
    assert assignments_in(source(chain)) == {}
    for f in (function, chain):
        assert_fold_changes_nothing(f)


def test_only_the_latest_temporaries_fold() -> None:
    """A temporary computed before one that the reader does not fold stays on its own line."""
    function = hand(
        [
            let("_t1", "div", 1.0, "x"),
            let("_t2", "log", "y"),
            let("_t3", "exp", "x"),
            let("_t4", "add", "_t1", "_t3"),
            let("_t5", "mul", "_t4", "_t2"),
        ],
        "_t5",
        **XY,
    )
    # _t4 reads _t1 but not _t2 (computed between): _t1 must not fold past it
    text = source(function)
    assert "1.0 / x" in assignments_in(text).values(), text
    assert raised_by(function, False, 0.0, -1.0) == raised_by(function, True, 0.0, -1.0) == "ZeroDivisionError"
    assert_fold_changes_nothing(function)


@pytest.mark.parametrize("reversed_order", [False, True])
def test_return_tuple_order(reversed_order: bool) -> None:
    returns = ("_t2", "_t1") if reversed_order else ("_t1", "_t2")
    function = hand([let("_t1", "div", 1.0, "x"), let("_t2", "log", "y")], returns, **XY)
    assert raised_by(function, False, 0.0, -1.0) == raised_by(function, True, 0.0, -1.0) == "ZeroDivisionError"
    assert len(assignments_in(source(function))) == (1 if reversed_order else 0)
    assert_fold_changes_nothing(function)


def test_a_temporary_read_twice_keeps_its_line() -> None:
    function = hand([let("_t1", "add", "x", "y"), let("_t2", "mul", "_t1", "_t1")], "_t2", **XY)
    assert list(assignments_in(source(function)).values()) == ["x + y"]
    named = hand([let("v", "add", "x", "y"), let("_t2", "mul", "v", 2.0)], "_t2", **XY)  # not a temporary
    assert list(assignments_in(source(named)).values()) == ["x + y"]
    assert_fold_changes_nothing(function)
    assert_fold_changes_nothing(named)


@pytest.mark.parametrize("op", sorted(LAZY))
def test_nothing_folds_into_a_lazy_position(op: str) -> None:
    """Branches of `a if c else b`, the right of `and`/`or`, holes read twice: a raising temporary keeps its line."""
    arity = RULES[op].arity
    for position in range(arity):
        args = ["_t1" if j == position else ("x", "y", "y")[j] for j in range(arity)]
        function = hand([let("_t1", "div", 1.0, "x"), let("_t2", op, *args)], "_t2", **XY)
        assert list(assignments_in(source(function)).values()) == ["1.0 / x"], source(function)
        assert raised_by(function, True, 0.0, 1.0) == "ZeroDivisionError"
        assert_fold_changes_nothing(function)


def test_nothing_folds_into_the_values_an_if_merges() -> None:
    """`z = a if c else b` (a merge of two values) evaluates one of them only; its condition folds."""
    function = hand(
        [
            let("_t1", "div", 1.0, "x"),
            let("_t2", "gt", "x", "y", type_=ir.BOOL),
            ir.If(ir.Var("_t2"), (), (), (ir.Merge("z", ir.FLOAT, ir.Var("_t1"), ir.Var("y")),), LOC),
        ],
        "z",
        **XY,
    )
    text = source(function)
    assert re.search(r"(\w+) = 1\.0 / x\n +z = \1 if x > y else y\n", text), text
    inside = hand(
        [
            let("_t1", "gt", "x", "y", type_=ir.BOOL),
            ir.If(
                ir.Var("_t1"),
                (let("_t2", "div", 1.0, "x"),),
                (let("_t3", "log", "y"),),
                (ir.Merge("z", ir.FLOAT, ir.Var("_t2"), ir.Var("_t3")),),
                LOC,
            ),
        ],
        "z",
        **XY,
    )
    (branch,) = [node for node in ast.walk(ast.parse(source(inside))) if isinstance(node, ast.If)]
    assert ast.unparse(branch.test) == "x > y"
    # each branch computes its value on its own line (under the merged name, or copied to it)
    assert [ast.unparse(s.value) for s in branch.body if isinstance(s, ast.Assign)][0] == "1.0 / x"
    assert [ast.unparse(s.value) for s in branch.orelse if isinstance(s, ast.Assign)][0] == "math.log(y)"
    for f in (function, inside):
        assert_fold_changes_nothing(f)


def test_nothing_folds_into_a_loop_header() -> None:
    """Loop bounds and carried initial values are read once, but a loop is printed over several lines."""
    for first, second in ((("_t2", "mul", "x", 2.0), ("_t1", "add", "n", 1)), (("_t1", "add", "n", 1), ("_t2", "mul", "x", 2.0))):
        function = hand(
            [
                let(*first, type_=ir.INT if first[0] == "_t1" else ir.FLOAT),
                let(*second, type_=ir.INT if second[0] == "_t1" else ir.FLOAT),
                ir.For(
                    "i",
                    ir.Const(0),
                    ir.Var("_t1"),
                    ir.Const(1),
                    (ir.Carry("h", ir.FLOAT, ir.Var("_t2"), ir.Var("_t3"), "r"),),
                    (let("_t4", "mul", "h", "y"), let("_t3", "add", "_t4", "i")),
                    None,
                    LOC,
                ),
            ],
            "r",
            x=ir.FLOAT,
            y=ir.FLOAT,
            n=ir.INT,
        )
        text = source(function)
        bound = re.search(r"(\w+) = n \+ 1\n", text)
        assert bound and f"for i in range({bound.group(1)}):" in text, text
        assert re.search(r"(\w+) = x \* 2\.0\n", text), text
        assert "h * y + i" in text  # inside the body, temporaries fold
        assert_fold_changes_nothing(function)


def test_a_while_test_folds_into_the_while_line() -> None:
    carried = (ir.Carry("h", ir.FLOAT, ir.Var("x"), ir.Var("h.1"), "r"), ir.Carry("k", ir.INT, ir.Const(0), ir.Var("k.1"), "k.2"))
    test = (
        let("_t1", "mul", "h", "h"),
        let("_t2", "gt", "_t1", "y", type_=ir.BOOL),
        let("_t3", "lt", "k", 5, type_=ir.BOOL),
        let("_t4", "and", "_t2", "_t3", type_=ir.BOOL),
    )
    body = (let("_t5", "mul", "h", 0.5), let("h.1", "sub", "_t5", 0.125), let("k.1", "add", "k", 1, type_=ir.INT))
    function = hand([ir.While(carried, test, ir.Var("_t4"), body, None, LOC)], ("r", "k.2"), **XY)
    text = source(function)
    assert "while True" in source(function, fold=False)
    # the `and` reads its operands lazily: they keep their lines, so the test stays inside the loop
    assert re.search(r"while True:\n +(\w+) = \w+ \* \w+ > y\n +(\w+) = k < 5\n +if not \(\1 and \2\):\n +break", text), text
    simple = (
        let("_t1", "mul", "h", "h"),
        let("_t2", "sub", "_t1", "y"),
        let("_t3", "lt", "k", 5, type_=ir.BOOL),
        let("_t6", "mul", "_t2", "_t3"),
        let("_t7", "gt", "_t6", 1.0, type_=ir.BOOL),
    )
    bounded = hand([ir.While(carried, simple, ir.Var("_t7"), body, None, LOC)], ("r", "k.2"), **XY)
    text = source(bounded)
    assert re.search(r"while \((\w+) \* \1 - y\) \* \(k < 5\) > 1\.0:", text) and "while True" not in text, text
    for f in (function, bounded):
        assert_fold_changes_nothing(f, [(x, y) for x in (0.0, 3.0, -2.5, inf, nan, 1e308) for y in (0.0, -1.0, inf)])


def test_a_raising_while_test_raises_the_same() -> None:
    """The test is evaluated before each iteration in both forms: a test that raises after some iterations."""
    carried = (ir.Carry("h", ir.FLOAT, ir.Var("x"), ir.Var("h.1"), "r"),)
    test = (let("_t1", "div", 1.0, "h"), let("_t2", "log", "_t1"), let("_t3", "lt", "_t2", "y", type_=ir.BOOL))
    body = (
        let("_t4", "sub", "h", 1.0),
        let("h.1", "mul", "_t4", 1.0),
    )
    function = hand([ir.While(carried, test, ir.Var("_t3"), body, None, LOC)], "r", **XY)
    assert re.search(r"while math\.log\(1\.0 / \w+\) < y:", source(function)), source(function)
    assert raised_by(function, True, 3.0, 10.0) == raised_by(function, False, 3.0, 10.0) == "ZeroDivisionError"
    assert raised_by(function, True, 2.5, 10.0) == raised_by(function, False, 2.5, 10.0) == "ValueError"
    assert_fold_changes_nothing(function, [(x, y) for x in (3.0, 2.5, 0.5, -0.0, nan) for y in (10.0, -1.0, nan)])


def test_list_effects_fold_their_value_only() -> None:
    """`L[i] = expr` evaluates expr first, like the statements; the index is never folded."""
    function = hand(
        [
            let("_t1", "div", 1.0, "y"),
            let("_t2", "floor", "x", type_=ir.INT),
            effect("setitem", "xs", "_t2", "_t1"),
            let("_t3", "index", "xs", 0),
        ],
        "_t3",
        x=ir.FLOAT,
        y=ir.FLOAT,
        xs=LIST,
    )
    # _t1 was computed before _t2 (the index): folding it would compute floor(x) first
    assert raised_by(function, False, nan, 0.0, [1.0]) == raised_by(function, True, nan, 0.0, [1.0]) == "ZeroDivisionError"
    assert len(assignments_in(source(function))) == 2
    later = hand(
        [
            let("_t2", "floor", "x", type_=ir.INT),
            let("_t1", "div", 1.0, "y"),
            effect("setitem", "xs", "_t2", "_t1"),
            let("_t4", "exp", "y"),
            effect("append", "xs", "_t4"),
            let("_t3", "sum", "xs"),
        ],
        "_t3",
        x=ir.FLOAT,
        y=ir.FLOAT,
        xs=LIST,
    )
    text = source(later)
    assert "] = 1.0 / y" in text and ".append(math.exp(y))" in text, text
    assert raised_by(later, False, nan, 0.0, [1.0]) == raised_by(later, True, nan, 0.0, [1.0]) == "ValueError"
    for f in (function, later):
        assert_fold_changes_nothing(f)


def test_an_accumulation_into_a_list_item() -> None:
    """`L[i] += expr` reads L[i] before expr: the one accepted change of order. Wherever the unfolded code
    returns, the folded code returns the same bits; where it raises, the folded code raises too."""
    function = hand(
        [let("_t1", "div", 1.0, "y"), effect("accum_item", "xs", "n", "_t1"), let("_t2", "sum", "xs")],
        "_t2",
        y=ir.FLOAT,
        n=ir.INT,
        xs=LIST,
    )
    assert "] += 1.0 / y" in source(function)
    folded, unfolded = compiled(function, True), compiled(function, False)
    for point in points_for(function):
        expected, got = outcome(unfolded, point), outcome(folded, point)
        assert (expected[0] == "raises") == (got[0] == "raises")
        if expected[0] != "raises":
            assert got == expected
    # both raise at y = 0 with n out of range: the unfolded code divides first, the folded code indexes first
    assert outcome(unfolded, (0.0, 5, []))[:2] == ("raises", "ZeroDivisionError")
    assert outcome(folded, (0.0, 5, []))[:2] in (("raises", "ZeroDivisionError"), ("raises", "IndexError"))


def test_tape_pushes_fold_in_order() -> None:
    function = hand(
        [
            let("_t1", "div", 1.0, "x"),
            let("_t2", "log", "y"),
            ir.Push((ir.Var("_t1"), ir.Var("_t2")), LOC),
            ir.Pop(("a", "b"), (ir.FLOAT, ir.FLOAT), LOC),
            let("_t3", "log", "y"),
            let("_t4", "div", 1.0, "x"),
            ir.Push((ir.Var("_t4"), ir.Var("_t3")), LOC),
            ir.Pop(("c", "d"), (ir.FLOAT, ir.FLOAT), LOC),
        ],
        ("a", "b", "c", "d"),
        **XY,
    )
    text = source(function)
    assert "_tape.append((1.0 / x, math.log(y)))" in text, text
    assert "_tape.append((1.0 / x, _t" in text, text  # log(y) came first: it keeps its line
    assert raised_by(function, False, 0.0, -1.0) == raised_by(function, True, 0.0, -1.0) == "ZeroDivisionError"
    assert_fold_changes_nothing(function)


def test_a_condition_folds_into_its_if() -> None:
    function = hand(
        [
            let("_t1", "div", 1.0, "x"),
            let("_t2", "log", "y"),
            let("_t3", "lt", "_t2", "_t1", type_=ir.BOOL),
            ir.If(
                ir.Var("_t3"),
                (let("a", "mul", "x", 2.0),),
                (let("b", "mul", "y", 3.0),),
                (ir.Merge("z", ir.FLOAT, ir.Var("a"), ir.Var("b")),),
                LOC,
            ),
        ],
        "z",
        **XY,
    )
    text = source(function)
    assert "if math.log(y) < _t" in text, text
    assert list(assignments_in(text).values())[0] == "1.0 / x"
    assert raised_by(function, False, 0.0, -1.0) == raised_by(function, True, 0.0, -1.0) == "ZeroDivisionError"
    assert_fold_changes_nothing(function)


# -- Python names: a folded expression reads its names where its reader stands -------------------------------------

ABCD = {"a": ir.FLOAT, "b": ir.FLOAT, "c": ir.FLOAT, "d": ir.FLOAT}


def test_a_temporary_is_not_folded_past_a_new_version_of_a_name_it_reads() -> None:
    """`_t1 = x_bar * 2; x_bar = c * d; ... _t1 + x_bar`: the two versions of x_bar share a Python name, so
    folding _t1 into the last line would read the new one."""
    function = hand(
        [
            let("x_bar", "mul", "a", "b"),
            let("_t1", "mul", "x_bar", 2.0),
            let("x_bar.1", "mul", "c", "d"),
            let("_t2", "add", "_t1", "x_bar.1"),
        ],
        "_t2",
        **ABCD,
    )
    assert source(function, fold=False).count("x_bar = ") == 2  # one Python name for both versions
    assert "x_bar * 2.0" in assignments_in(source(function)).values()
    assert compiled(function, True)(1.0, 2.0, 3.0, 4.0) == 16.0
    assert_fold_changes_nothing(function)


def test_a_temporary_adjoint_family_reused_around_a_fold() -> None:
    """Adjoints of temporaries (`_t5_bar`, `_t5_bar.1`) fold too; their versions may share a Python name."""
    function = hand(
        [
            let("_t5_bar", "mul", "a", "b"),
            let("_t9", "add", "_t5_bar", 1.0),
            let("_t1", "mul", "_t5_bar", 2.0),
            let("_t5_bar.1", "mul", "c", "d"),
            let("_t5_bar.2", "add", "_t5_bar.1", "_t9"),
            let("_t3", "add", "_t1", "_t5_bar.2"),
            let("_t5_bar.3", "sub", "_t3", "a"),
            let("_t4", "mul", "_t5_bar.3", "_t5_bar.3"),
        ],
        ("_t4", "_t9"),
        **ABCD,
    )
    assert_fold_changes_nothing(function)
    assert compiled(function, True)(1.0, 2.0, 3.0, 4.0) == ((4.0 + 15.0 - 1.0) ** 2, 3.0)


def test_an_accumulation_does_not_overwrite_what_a_fold_reads() -> None:
    """`x_bar += expr` where expr reads the old x_bar, and a loop whose update folds a read of its header."""
    function = hand(
        [
            let("x_bar", "mul", "a", "b"),
            let("_t1", "mul", "x_bar", "c"),
            let("x_bar.1", "add", "x_bar", "_t1"),
            let("_t2", "div", "x_bar.1", "d"),
            let("x_bar.2", "add", "x_bar.1", "_t2"),
        ],
        "x_bar.2",
        **ABCD,
    )
    assert "x_bar += x_bar * c" in source(function)
    assert "x_bar += x_bar / d" in source(function)
    assert compiled(function, True)(1.0, 2.0, 3.0, 4.0) == 8.0 + 8.0 / 4.0
    assert_fold_changes_nothing(function)
    others = hand(
        [
            let("x_bar", "mul", "a", "b"),
            let("_t1", "sub", "c", "d"),
            let("x_bar.1", "sub", "x_bar", "_t1"),
            let("_t2", "add", "c", "d"),
            let("x_bar.2", "mul", "x_bar.1", "_t2"),
        ],
        "x_bar.2",
        **ABCD,
    )
    assert "x_bar -= c - d" in source(others) and "x_bar *= c + d" in source(others), source(others)
    assert compiled(others, True)(1.0, 2.0, 3.0, 4.0) == (2.0 - (3.0 - 4.0)) * (3.0 + 4.0)
    assert_fold_changes_nothing(others)
    loop = hand(
        [
            ir.For(
                "i",
                ir.Const(0),
                ir.Const(3),
                ir.Const(1),
                (ir.Carry("h", ir.FLOAT, ir.Var("a"), ir.Var("_t3"), "r"),),
                (
                    let("_t1", "mul", "h", 2.0),
                    let("h.1", "add", "h", "b"),
                    let("_t2", "sin", "h.1"),
                    let("_t3", "add", "_t1", "_t2"),
                ),
                None,
                LOC,
            )
        ],
        ("r", "a"),
        **ABCD,
    )
    assert_fold_changes_nothing(loop)
    h = 1.0
    for _ in range(3):
        h = h * 2.0 + math.sin(h + 2.0)
    assert compiled(loop, True)(1.0, 2.0, 3.0, 4.0) == (h, 1.0)


ACCUMULATING: dict[Callable[..., Any], str] = {
    accumulations: r"\bx_bar \+= \w+ \* ",  # an accumulation whose increment is a folded product
    dot_loss: r"\bxs_bar\[i\] \+= \w+ \* \w+",
    matrix: r"\bx_bar\[j\] \+= \w+ \* \w+",
    reassigned: r"\b\w+_bar \+= .+",
    loop_carried_reads: r"\bfor i in reversed\(range\(n\)\):",
}


@pytest.mark.parametrize("program", ACCUMULATING, ids=lambda p: p.__name__)
def test_gradients_with_shared_names_fold_bit_for_bit(program: Callable[..., Any]) -> None:
    """Accumulated adjoints, loop-carried and merged names: folded gradients agree with unfolded ones."""
    function = gradient_ir(program)
    text = source(function)
    assert re.search(ACCUMULATING[program], text), text
    assert_fold_changes_nothing(function, program_points(function))
    random_floats = [random.Random(7).uniform(-3.0, 3.0) for _ in range(8)]
    assert_fold_changes_nothing(function, program_points(function, floats=random_floats))


# -- determinism ---------------------------------------------------------------------------------------------------


def all_sources() -> str:
    """Every folded source this file generates from programs (gradients, jvps, hvps) and some random programs."""
    texts = [source(build(program)) for program in PROGRAMS for build in (gradient_ir, jvp_ir, hvp_ir)]
    texts += [source(RandomProgram(seed).function) for seed in range(40)]
    return "\n".join(texts)


def test_the_same_input_gives_the_same_text() -> None:
    for program in PROGRAMS:
        first, second = gradient_ir(program), gradient_ir(program)
        assert first == second
        assert codegen.generate(first, RULES) == codegen.generate(second, RULES) == codegen.generate(first, RULES)
    assert all_sources() == all_sources()


def test_the_text_is_the_same_in_every_process(tmp_path: Path) -> None:
    """Hash randomization (sets and dicts of strings) changes nothing: two other processes print the same bytes."""
    here = hashlib_digest(all_sources())
    path = [str(ROOT / "tests"), *sys.path]  # the same s2s_ad as this process, wherever it was imported from
    code = f"import sys; sys.path[:0] = {path!r}; import test_folding as t; print(t.hashlib_digest(t.all_sources()))"
    for seed in ("0", "4242"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        result = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120, check=True
        )
        assert result.stdout.strip() == here, result.stderr


def hashlib_digest(text: str) -> str:
    import hashlib

    return hashlib.sha256(text.encode()).hexdigest()


def test_statement_positions_take_any_expression() -> None:
    """Conditional expressions, `or` and `not` folded into a list literal, an item assignment, an append, a tape
    push and a return: no parentheses are needed there, and the values are the unfolded ones."""

    def low(k: int, *which: int) -> list[ir.Stmt]:  # `b if b > a else a`, `a or c`, `not a < b`: temporaries read once
        chains = {
            0: [let(f"_t{k}", "max", "a", "b")],
            1: [let(f"_t{k + 1}", "or", "a", "c")],
            2: [let(f"_t{k + 2}", "lt", "a", "b"), let(f"_t{k + 3}", "not", f"_t{k + 2}")],
        }
        return [s for w in which for s in chains[w]]

    function = hand(
        [
            *low(1, 0, 1, 2),
            let("v", "list", "_t1", "_t2", "_t4", type_=LIST),
            let("_t5", "repeat", "a", "n", type_=LIST),
            let("z", "zeros_like", "_t5", type_=LIST),
            *low(10, 0),
            effect("setitem", "v", 0, "_t10"),
            *low(10, 1),
            effect("append", "v", "_t11"),
            *low(10, 2),
            effect("accum_item", "v", 1, "_t13"),
            *low(20, 0, 1),
            ir.Push((ir.Var("_t20"), ir.Var("_t21")), LOC),
            ir.Pop(("p", "q"), (ir.FLOAT, ir.FLOAT), LOC),
            *low(30, 0, 1, 2),
        ],
        ("v", "z", "p", "q", "_t30", "_t31", "_t33"),
        a=ir.FLOAT,
        b=ir.FLOAT,
        c=ir.FLOAT,
        n=ir.INT,
    )
    text = source(function)
    assert assignments_in(text)["v"] == "[b if b > a else a, a or c, not a < b]", text
    assert "[0.0] * len(_t" in text  # zeros_like does not fold its operand (it is read by `len` only)
    for line in (
        "v[0] = b if b > a else a",
        "v.append(a or c)",
        "v[1] += not a < b",
        "_tape.append((b if b > a else a, a or c))",
        "return v, z, p, q, b if b > a else a, a or c, not a < b",
    ):
        assert line in text, (line, text)
    assert_fold_changes_nothing(function, program_points(function, limit=3000))
