"""The optimizer passes, one at a time: each makes the rewrite it promises, and changes no number.

Every pass in `optimize.PASSES` claims to be exact: the generated code with
the pass and without it must return the same bits (-0.0 is not 0.0, every
nan is every other nan, an exception is its type) on IEEE edge cases. The
rewrites themselves are checked on the IR: on hand-written functions, on
lowered ones, and on gradients. Where a pass is not exact, the test is a
strict xfail that names the bug (none at the moment).
"""

from __future__ import annotations

import copy
import itertools
import math
import random
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from conftest import bits, central_difference, import_source

from s2s_ad import ad, codegen, frontend, ir, lower, optimize
from s2s_ad.rules import RULES

inf, nan = math.inf, math.nan
EDGES: tuple[float, ...] = (0.0, -0.0, 1.0, -1.0, 2.5, -0.75, 3.0, 1e-300, 1e308, -1e308, 5e-324, -5e-324, inf, -inf, nan)
INTS: tuple[int, ...] = (0, 1, 3)
LISTS: tuple[list[float], ...] = ([], [0.5], [-0.0, 3.0, -2.5], [inf, 1e308, -5e-324])
Pass = Callable[[ir.Function], ir.Function]

# -- building, running and comparing ---------------------------------------------------------------------------


def primal_ir(f: Callable[..., Any]) -> ir.Function:
    return lower.lower(frontend.from_function(f), RULES)


def gradient_ir(f: Callable[..., Any], with_value: bool = True) -> ir.Function:
    """The unoptimized gradient with respect to every float parameter (and the value, which is `exact`)."""
    primal = primal_ir(f)
    wrt = tuple(p.name for p in primal.params if p.type == ir.FLOAT)
    return ad.gradient(primal, wrt, with_value=with_value, rules=RULES)


def apply(function: ir.Function, *passes: Pass) -> ir.Function:
    for step in passes:
        function = step(function)
    return function


def run(function: ir.Function) -> Callable[..., Any]:
    generated = codegen.generate(function, RULES)
    return codegen.compile_generated(generated, {}, label=f"test_optimize {function.name}")  # type: ignore[return-value]


def outcome(f: Callable[..., Any], point: Sequence[object]) -> tuple[str, object]:
    try:
        return bits(f(*copy.deepcopy(list(point))))
    except (ArithmeticError, ValueError) as error:
        return ("raises", type(error).__name__)


def raises(f: Callable[..., Any], point: Sequence[object]) -> bool:
    return outcome(f, point)[0] == "raises"


def points_for(function: ir.Function, floats: Sequence[float] = EDGES) -> list[tuple[object, ...]]:
    choices: dict[ir.Type, Sequence[object]] = {ir.FLOAT: floats, ir.INT: INTS, ir.ListOf(ir.FLOAT): LISTS}
    return list(itertools.product(*(choices[p.type] for p in function.params)))


def assert_same_numbers(
    before: ir.Function, after: ir.Function, domain: Callable[..., Any] | None = None, floats: Sequence[float] = EDGES
) -> None:
    """`after` computes what `before` does, bit for bit, at every combination of edge cases.

    Where the user's function `domain` raises, and so does `before`, the point is outside the domain and
    `after` may return instead: dead-code elimination drops unread pure values, `1 / 0` and `math.log(-1)`
    among them."""
    reference, candidate = run(before), run(after)
    for point in points_for(before, floats):
        expected, got = outcome(reference, point), outcome(candidate, point)
        outside = domain is not None and expected[0] == "raises" and raises(domain, point)
        if got != expected and not outside:
            raise AssertionError(f"{before.name}{point}: optimized {got}, unoptimized {expected}")


def assert_matches_finite_differences(f: Callable[..., Any], gradient: Callable[..., Any], point: Sequence[object]) -> None:
    """A `value_and_grad` function's gradient (with respect to the float parameters) against central differences."""
    _, got = gradient(*point)
    floats = [i for i, p in enumerate(point) if isinstance(p, float)]
    steps = [1e-6 * max(1.0, abs(point[i])) for i in floats]  # type: ignore[arg-type]
    expected = [central_difference(f, point, i, h) for i, h in zip(floats, steps)]  # type: ignore[arg-type]
    assert list(got) == pytest.approx(expected, rel=1e-6, abs=1e-6)


def assigns(function: ir.Function) -> list[ir.Assign]:
    return [s for s in ir.walk(function.body) if isinstance(s, ir.Assign)]


def ops(function: ir.Function) -> list[str]:
    return [s.op for s in assigns(function)]


def expression(function: ir.Function, operand: ir.Returns) -> str:
    """The expression tree behind an operand, with constants as their repr (so `2` is not `2.0`)."""
    definitions = {s.target: s for s in assigns(function)}

    def show(o: ir.Operand) -> str:
        if isinstance(o, ir.Var) and o.name in definitions:
            stmt = definitions[o.name]
            return f"{stmt.op}({', '.join(show(a) for a in stmt.args)})"
        return str(o)

    assert not isinstance(operand, tuple)
    return show(operand)


def values(function: ir.Function) -> set[str]:
    """Every value a function assigns, as its expression tree."""
    return {expression(function, ir.Var(s.target)) for s in assigns(function)}


def value_of(function: ir.Function) -> ir.Returns:
    """The returned value of a `value_and_grad` function, or the return of a primal."""
    return function.returns[0] if isinstance(function.returns, tuple) else function.returns


# -- hand-written IR -----------------------------------------------------------------------------------------------

LOC = ir.Loc("<hand-written>", 1)
Arg = str | int | float


def operand(arg: Arg) -> ir.Operand:
    return ir.Var(arg) if isinstance(arg, str) else ir.Const(arg)


def let(target: str, op: str, *args: Arg, type_: ir.Type = ir.FLOAT) -> ir.Assign:
    return ir.Assign(target, op, tuple(operand(a) for a in args), type_, LOC)


def hand(body: Iterable[ir.Stmt], returns: Arg | tuple[Arg, ...], **params: ir.Type) -> ir.Function:
    result = tuple(operand(r) for r in returns) if isinstance(returns, tuple) else operand(returns)
    return ir.Function("f", tuple(ir.Param(n, t) for n, t in params.items()), tuple(body), result, LOC)


def text(function: ir.Function) -> str:
    return ir.format_function(function)


# -- functions to optimize --------------------------------------------------------------------------------------


def branchy(x, y):
    if x > y:
        z = -x * y
    else:
        z = x - -y
    return z * z + math.sin(-z)


def alternating_series(x, n):
    s = 0.0
    p = 1.0
    for i in range(n):
        p = p * -x
        s = s + p / (i + 1)
    return s


def signed_sum(x, xs):
    s = 0.0
    for v in xs:
        t = -v
        if t > x:
            s = s + t * x
        else:
            s = s - math.sin(x) * t
    return s


def newton_sqrt(a):
    x = a
    i = 0
    while i < 6:
        x = 0.5 * (x + a / x)
        i = i + 1
    return x


def log_sum_exp(x, y):
    m = max(x, y)
    return m + math.log(math.exp(x - m) + math.exp(y - m))


def plumbing(x, n):
    k = 2.5
    if x > 0:
        y = x
    else:
        y = x
    s = 0.0
    for _ in range(n):
        s = s + k * y
        k = k
    return s


def sines(x):
    return math.sin(x) * math.sin(x) + math.cos(x)


def cosine_product(x, y):
    return x * y + math.cos(x)


def scaled(x, y):
    return 2 * x * y - 3 * (4.0 * y) + x / 2 - (-(-x)) * 0.5  # noqa: B002


def negated_carry(x, n):
    s = x
    for _ in range(n):
        s = -s * x + 1.5
        s = -(0.5 * s)  # the carried value is a negation
    return s


def negated_merge(x, y):
    if x > 0:
        z = -(3.0 * y)
    else:
        z = -x
    return z * x + -z


def pairwise(x, xs):
    s = 0.0
    for i in range(len(xs)):
        for j in range(len(xs)):
            s = s + xs[i] * xs[j] * x
    return s


@dataclass(frozen=True)
class Case:
    function: Callable[..., Any]
    smooth: tuple[object, ...]  # a point where the function is smooth, for finite differences


CASES = (
    Case(branchy, (0.7, -1.3)),
    Case(alternating_series, (0.4, 4)),
    Case(signed_sum, (0.3, [0.5, -0.2, 1.5])),
    Case(newton_sqrt, (2.0,)),
    Case(log_sum_exp, (0.4, -1.1)),
    Case(plumbing, (0.8, 3)),
    Case(sines, (0.6,)),
    Case(cosine_product, (0.6, -2.0)),
    Case(scaled, (0.9, 1.7)),
    Case(negated_carry, (0.6, 3)),
    Case(negated_merge, (-0.4, 1.25)),
    Case(pairwise, (0.7, [0.5, -0.2, 1.5])),
)
CASE_IDS = [c.function.__name__ for c in CASES]
SINGLE_PASSES = [
    optimize.propagate,
    optimize.peephole,
    optimize.spreads,
    optimize.signs,
    optimize.hoist,
    optimize.common_subexpressions,
    optimize.dead_code,
    optimize.float_gradients,
    optimize.tape_slots,
    optimize.tape_arrays,
    optimize.gradient_names,
]


def test_every_pass_has_its_tests() -> None:
    assert set(optimize.PASSES) == set(SINGLE_PASSES)


# -- the whole optimizer ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_optimizer_changes_no_number(case: Case) -> None:
    unoptimized = gradient_ir(case.function)
    optimized = optimize.optimize(unoptimized)
    assert optimized != unoptimized
    assert_same_numbers(unoptimized, optimized, domain=case.function)


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_optimized_gradient_matches_finite_differences(case: Case) -> None:
    gradient = run(optimize.optimize(gradient_ir(case.function)))
    assert_matches_finite_differences(case.function, gradient, case.smooth)


@pytest.mark.parametrize("step", SINGLE_PASSES, ids=lambda s: s.__name__)
def test_pass_changes_no_number(step: Pass) -> None:
    # alone on the unoptimized gradient, and where it runs in the pipeline (after the passes before it)
    changed = 0
    for case in CASES:
        unoptimized = gradient_ir(case.function)
        before_it = apply(unoptimized, *optimize.PASSES[: optimize.PASSES.index(step)])
        for before in (unoptimized, before_it):
            after = step(before)
            changed += after != before
            assert_same_numbers(before, after, domain=case.function)
    # No example leaves a slot unread, and none has arrays (spreads: tests/test_numpy_codegen.py)
    if step not in (optimize.tape_slots, optimize.spreads):
        assert changed, f"{step.__name__} changed none of the examples"


# -- propagate ---------------------------------------------------------------------------------------------------


def test_propagate_removes_copies_single_valued_merges_and_loop_invariants() -> None:
    before = gradient_ir(plumbing)
    assert "copy" in ops(before)
    after = apply(before, optimize.propagate, optimize.propagate)  # as in PASSES: a copy first, then its carry
    assert "copy" not in ops(after)
    assert all(not s.merges for s in ir.walk(after.body) if isinstance(s, ir.If))
    carried = [c.header for s in ir.walk(after.body) if isinstance(s, (ir.For, ir.While)) for c in s.carried]
    assert not [h for h in carried if ir.family(h) == "k"], carried
    assert "mul(2.5, x)" in values(after)
    assert_same_numbers(before, after)


def test_propagate_folds_constants_as_python_does() -> None:
    before = hand(
        [
            let("a", "copy", "x"),
            let("b", "mul", "a", 1.0),
            let("c", "add", 2, 3, type_=ir.INT),
            let("d", "mul", 2, 0.5),
            let("g", "sub", "b", 0.0),
        ],
        ("g", "c", "d"),
        x=ir.FLOAT,
    )
    after = optimize.propagate(before)
    assert after.body == ()
    g, c, d = after.returns  # type: ignore[misc]
    assert g == ir.Var("x")
    assert type(c.value) is int and c.value == 5
    assert type(d.value) is float and d.value == 1.0
    assert_same_numbers(before, after)
    raising = hand([let("e", "div", 1, 0)], "e")
    assert optimize.propagate(raising) == raising  # 1 / 0 raises: left for run time


def test_propagate_does_not_fold_zero_times_x_nor_x_plus_zero() -> None:
    before = hand(
        [let("a", "mul", 0, "x"), let("b", "mul", "x", 0.0), let("c", "add", "x", 0.0), let("d", "add", 0.0, "x")],
        ("a", "b", "c", "d"),
        x=ir.FLOAT,
    )
    for after in (optimize.propagate(before), optimize.optimize(before)):
        assert sorted(ops(after)) == ["add", "add", "mul", "mul"]
        compiled = run(after)
        for x in EDGES:
            assert bits(compiled(x)) == bits((0 * x, x * 0.0, x + 0.0, 0.0 + x)), x


def signed_zero_branches(x, c):
    if c > 0:
        y = 0.0
    else:
        y = -0.0
    return x * y


def test_propagate_keeps_a_merge_of_zero_and_minus_zero() -> None:
    before = gradient_ir(signed_zero_branches)
    assert_same_numbers(before, optimize.propagate(before))


def int_or_float_branches(x):
    if x > 0:
        y = 1
    else:
        y = 1.0
    return y


def test_propagate_keeps_a_merge_of_int_one_and_float_one() -> None:
    before = gradient_ir(int_or_float_branches)
    assert_same_numbers(before, optimize.propagate(before))


def test_propagate_does_not_fold_x_minus_minus_zero() -> None:
    before = hand([let("a", "sub", "x", -0.0)], "a", x=ir.FLOAT)
    assert bits(run(before)(-0.0)) == bits(0.0)  # the reference itself is right
    assert_same_numbers(before, optimize.propagate(before))


def test_propagate_keeps_an_int_to_the_power_one_point_zero_a_float() -> None:
    before = hand([let("a", "pow", "n", 1.0)], "a", n=ir.INT)
    assert bits(run(before)(3)) == bits(3.0)  # the reference itself is right
    assert_same_numbers(before, optimize.propagate(before))


# -- peephole ----------------------------------------------------------------------------------------------------


def test_peephole_makes_int_constants_beside_floats_float() -> None:
    before = hand(
        [
            let("a", "mul", 2, "x"),
            let("b", "gt", "x", 0, type_=ir.BOOL),
            let("c", "add", "n", 1, type_=ir.INT),
            let("d", "mul", 2**60, "x"),
            let("e", "div", "n", 2),
        ],
        ("a", "b", "c", "d", "e"),
        x=ir.FLOAT,
        n=ir.INT,
    )
    after = {s.target: s.args for s in assigns(optimize.peephole(before))}
    assert after["a"] == (ir.Const(2.0), ir.Var("x")) and type(after["a"][0].value) is float  # type: ignore[union-attr]
    assert type(after["b"][1].value) is float  # type: ignore[union-attr]
    assert type(after["c"][1].value) is int  # int + int stays int
    assert type(after["d"][0].value) is int  # beyond 2**53 an int may not convert exactly: left alone
    assert type(after["e"][1].value) is int  # int / int: no float operand
    assert_same_numbers(before, optimize.peephole(before))


def double_negation(x):
    return -(-x) * x  # noqa: B002


def test_peephole_cancels_double_negation() -> None:
    before = primal_ir(double_negation)
    after = optimize.peephole(before)
    assert expression(before, value_of(before)) == "mul(neg(neg(x)), x)"
    assert expression(after, value_of(after)) == "mul(copy(x), x)"
    assert_same_numbers(before, after)


def power_of_two_scalings(x):
    return 3.0 * (0.5 * x) + 3.0 * (3.0 * x) + 3.0 * (4.0 * x)


def test_peephole_folds_power_of_two_scalings_only() -> None:
    """Only scalings up by a power of two fold: 0.5 * x can underflow where 1.5 * x does not."""
    after = optimize.peephole(primal_ir(power_of_two_scalings))
    assert expression(after, value_of(after)) == "add(add(mul(3.0, mul(0.5, x)), mul(3.0, mul(3.0, x))), mul(12.0, x))"
    assert_same_numbers(
        gradient_ir(power_of_two_scalings),
        optimize.peephole(gradient_ir(power_of_two_scalings)),
        floats=(0.0, -0.0, 1.0, -2.5, 3e5, inf, -inf, nan),
    )  # no product over- or underflows


def underflowing_scaling(x, y):
    return y * (3.0 * (0.5 * x))


def overflowing_scaling(x):
    return 0.25 * (4.0 * x)


@pytest.mark.parametrize(
    "f",
    [
        underflowing_scaling,
        overflowing_scaling,
    ],
    ids=lambda f: f.__name__,
)
def test_peephole_power_of_two_reassociation_is_exact_at_the_ends_of_the_range(f: Callable[..., float]) -> None:
    before = gradient_ir(f)
    assert_same_numbers(before, optimize.peephole(before))


def squares(x):
    return math.sin(x**2) + (x**-1 + x**3)


def test_peephole_squares_only_outside_returned_values() -> None:
    plain = optimize.peephole(gradient_ir(squares, with_value=False))
    # the function's own powers may raise (`1e200 ** 2` is OverflowError, `1e200 * 1e200` inf): they stay
    users = [s for s in assigns(plain) if s.op == "pow" and s.args[1] in (ir.Const(2), ir.Const(-1))]
    assert len(users) == 2 and {s.target for s in users} <= set(plain.checks)
    # the reverse sweep's `3 * x ** 2` is the function's derivative, not its value: a product
    assert "mul(3.0, mul(x, x))" in values(plain)
    assert ops(plain).count("mul") > ops(gradient_ir(squares, with_value=False)).count("mul")

    before = gradient_ir(squares)
    after = optimize.peephole(before)
    value = expression(after, value_of(after))
    assert value == expression(before, value_of(before)) == "add(sin(pow(x, 2)), add(pow(x, -1), pow(x, 3)))"
    assert "mul(x, x)" in values(after)  # 3 * x ** 2 in the reverse sweep
    compiled = run(optimize.optimize(before))
    for x in EDGES:  # the value is Python's own, bit for bit, OverflowError at 1e308 included
        expected, got = outcome(squares, (x,)), outcome(compiled, (x,))
        if got[0] == "raises" and expected[0] != "raises":
            assert got == outcome(run(before), (x,)), x  # d/dx x**-1 = -x**-2 overflows at 1e-300: so it should
            continue
        assert (got[1][0] if got[0] == "tuple" else got) == expected, x  # type: ignore[index]
    assert_matches_finite_differences(squares, compiled, (0.7,))


def float_square_of_a_length(x, xs):
    return x * len(xs) ** 2.0


def test_peephole_keeps_the_float_square_of_an_int_a_float() -> None:
    before = gradient_ir(float_square_of_a_length, with_value=False)
    assert_same_numbers(before, optimize.peephole(before))


def double_negation_of_a_bool(x):
    return -(-(x > 0))  # noqa: B002


@pytest.mark.parametrize("step", [optimize.peephole, optimize.signs], ids=lambda s: s.__name__)
def test_double_negation_of_a_bool_is_an_int(step: Pass) -> None:
    before = gradient_ir(double_negation_of_a_bool)
    assert_same_numbers(before, step(before))


# -- signs -------------------------------------------------------------------------------------------------------


def plus_negated(x, y):
    return x + -y


def minus_negated(x, y):
    return x - -y


def negated_plus(x, y):
    return -x + y


def negated_times_negated(x, y):
    return -x * -y


def negated_over_negated(x, y):
    return -x / -y


def negated_times_scaled(x, y):
    return -x * (2.0 * y)


def sum_of_negated_product(p, a, b):
    return p + -a * b


def difference_of_negated_quotient(p, a, b):
    return p - a / -b


def negated_scaling(x):
    return -(3.0 * x)


SIGN_REWRITES = [
    (plus_negated, "sub(x, y)"),
    (minus_negated, "add(x, y)"),
    (negated_plus, "sub(y, x)"),
    (negated_times_negated, "mul(x, y)"),
    (negated_over_negated, "div(x, y)"),
    (negated_times_scaled, "mul(x, mul(-2.0, y))"),
    (sum_of_negated_product, "sub(p, mul(a, b))"),
    (difference_of_negated_quotient, "add(p, div(a, b))"),
    (negated_scaling, "copy(mul(-3.0, x))"),
]


@pytest.mark.parametrize("f, expected", SIGN_REWRITES, ids=[f.__name__ for f, _ in SIGN_REWRITES])
def test_signs_moves_negations_where_they_cost_nothing(f: Callable[..., float], expected: str) -> None:
    before = primal_ir(f)
    after = optimize.signs(before)
    assert "neg" in expression(before, value_of(before))
    assert expression(after, value_of(after)) == expected
    assert_same_numbers(before, after)
    gradient = gradient_ir(f)
    assert_same_numbers(gradient, optimize.signs(gradient))


def product_read_twice(p, a, b):
    t = -a * b
    return (p + t) * t


def negation_read_twice(x, y):
    n = -x
    return (y + n) * n


@pytest.mark.parametrize(
    "f, expected, point",
    [
        (product_read_twice, "mul(add(p, mul(neg(a), b)), mul(neg(a), b))", (0.3, -1.2, 0.8)),
        (negation_read_twice, "mul(sub(y, x), neg(x))", (0.3, -1.2)),
    ],
    ids=["a product read twice stays in place", "a negation read twice stays for its other reader"],
)
def test_signs_leaves_what_two_statements_read(f: Callable[..., float], expected: str, point: tuple[float, ...]) -> None:
    before = primal_ir(f)
    after = optimize.signs(before)
    assert expression(after, value_of(after)) == expected
    assert_same_numbers(before, after)
    gradient = gradient_ir(f)
    assert_same_numbers(gradient, optimize.signs(gradient))
    assert_matches_finite_differences(f, run(optimize.optimize(gradient)), point)


def length_arithmetic(xs, ys):
    n = len(xs)
    k = len(ys)
    a = (-n) * (-k)
    b = n - -k
    c = -(n * 3)
    return a + b * c - n * -k


def test_signs_keeps_int_arithmetic_int() -> None:
    """Int negations stay where they are: -0 is 0, so moving an int's sign could flip a float zero's."""
    before = primal_ir(length_arithmetic)
    after = optimize.signs(before)
    int_before = {s.target for s in assigns(before) if s.type == ir.INT}
    assert int_before == {s.target for s in assigns(after) if s.type == ir.INT}
    rewritten = {s.target: expression(after, ir.Var(s.target)) for s in assigns(after) if s.target in ("a", "b", "c")}
    assert rewritten == {"a": "mul(neg(len(xs)), neg(len(ys)))", "b": "sub(len(xs), neg(len(ys)))", "c": "neg(mul(len(xs), 3))"}
    assert_same_numbers(before, after)
    for xs, ys in itertools.product(LISTS, LISTS):
        assert bits(run(after)(xs, ys)) == bits(length_arithmetic(xs, ys))


@pytest.mark.parametrize("f", [signed_sum, negated_carry, negated_merge, branchy], ids=lambda f: f.__name__)
def test_signs_through_loops_and_branches(f: Callable[..., float]) -> None:
    case = next(c for c in CASES if c.function is f)
    before = gradient_ir(f)
    after = optimize.signs(before)
    assert after != before
    assert_same_numbers(before, after)
    assert_matches_finite_differences(f, run(after), case.smooth)
    assert_matches_finite_differences(f, run(optimize.optimize(before)), case.smooth)


def int_negation_plus_float(x, xs):
    return x * (x + -len(xs))


def int_negation_times_negated_float(x, xs):
    return (-x) * -len(xs)


def product_with_int_negation_in_a_sum(x, xs, ys):
    return x * len(ys) + x * (len(xs) * -len(ys))


def quotient_of_int_negations(xs, ys):
    return (-len(xs)) / (-len(ys))


@pytest.mark.parametrize(
    "f",
    [int_negation_plus_float, int_negation_times_negated_float, product_with_int_negation_in_a_sum, quotient_of_int_negations],
    ids=lambda f: f.__name__,
)
def test_signs_keeps_the_sign_of_zero_when_an_int_negation_meets_a_float(f: Callable[..., float]) -> None:
    before = primal_ir(f)
    assert_same_numbers(before, optimize.signs(before))


# -- common subexpressions ---------------------------------------------------------------------------------------


def test_common_subexpressions_computes_a_repeated_pure_op_once() -> None:
    before = gradient_ir(sines, with_value=False)
    after = optimize.common_subexpressions(before)
    assert (ops(before).count("sin"), ops(before).count("cos")) == (3, 3)
    assert (ops(after).count("sin"), ops(after).count("cos")) == (1, 1)
    assert_same_numbers(before, after)


def scoped_sines(x, n):
    a = math.sin(x)
    if x > 0:
        b = math.sin(x)
        c = math.cos(x * 3.0)
    else:
        b = x
        c = x
    s = b + c + math.cos(x * 3.0)
    for _ in range(n):
        s = s + math.sin(x) * a
    return s


def test_common_subexpressions_reuses_a_value_from_before_a_loop_but_not_from_inside_a_branch() -> None:
    after = optimize.common_subexpressions(primal_ir(scoped_sines))
    top = [s.op for s in after.body if isinstance(s, ir.Assign)]
    loop = next(s for s in after.body if isinstance(s, ir.For))
    branch = next(s for s in after.body if isinstance(s, ir.If))
    assert [s.op for s in branch.then if isinstance(s, ir.Assign)] == ["mul", "cos"]  # sin(x) is a, from before
    assert (top.count("sin"), top.count("cos")) == (1, 1)  # cos(x * 3.0) after the if: the branch's may not run
    assert "sin" not in [s.op for s in ir.walk(loop.body) if isinstance(s, ir.Assign)]
    assert_same_numbers(primal_ir(scoped_sines), after)
    gradient = gradient_ir(scoped_sines)
    assert_same_numbers(gradient, optimize.common_subexpressions(gradient))


def list_read_twice(x, y):
    ys = [x, y]
    a = ys[0]
    ys[0] = a * y
    return a + ys[0] * ys[1]


def test_common_subexpressions_reads_a_mutated_list_again() -> None:
    before = primal_ir(list_read_twice)
    after = optimize.common_subexpressions(before)
    assert ops(after).count("index") == ops(before).count("index") == 3
    assert_same_numbers(before, after)
    gradient = gradient_ir(list_read_twice)
    assert_same_numbers(gradient, optimize.common_subexpressions(gradient))


def zero_products(x):
    return x * -0.0 - x * 0.0


def test_common_subexpressions_keeps_products_by_zero_and_minus_zero_apart() -> None:
    before = gradient_ir(zero_products)
    assert_same_numbers(before, optimize.common_subexpressions(before))


def int_and_float_products(x, xs):
    n = len(xs)
    return n * 2 + x * (n * 2.0)


def test_common_subexpressions_keeps_int_and_float_products_apart() -> None:
    before = gradient_ir(int_and_float_products)
    assert_same_numbers(before, optimize.common_subexpressions(before))


# -- dead code ---------------------------------------------------------------------------------------------------


def test_dead_code_drops_unread_pure_values_and_keeps_effects() -> None:
    list_type = ir.ListOf(ir.FLOAT)
    before = hand(
        [
            let("a", "sin", "x"),  # nobody reads it
            let("b", "cos", "x"),  # only the append reads it
            let("ys", "list", "x", type_=list_type),
            ir.Effect("append", (ir.Var("ys"), ir.Var("b")), LOC),
            let("c", "exp", "x"),  # only the tape reads it
            ir.Push((ir.Var("c"),), LOC, 1),
            let("d", "pop", "ys"),  # unread, but it shortens ys
            let("t", "gt", "x", 0.0, type_=ir.BOOL),
            ir.If(ir.Var("t"), (let("e", "sin", "x"),), (), (ir.Merge("m", ir.FLOAT, ir.Var("e"), ir.Var("x")),), LOC),
            ir.For("i", ir.Const(0), ir.Const(3), ir.Const(1), (), (let("g", "cos", "x"),), None, LOC),
            ir.Note("reverse sweep"),
        ],
        ("x", "ys"),
        x=ir.FLOAT,
    )
    after = optimize.dead_code(before)
    assert text(after) == (
        "def f(x: float):\n"
        "  b = cos(x)\n"
        "  ys = list(x)\n"
        "  append(ys, b)\n"
        "  c = exp(x)\n"
        "  push(c)\n"
        "  d = pop(ys)\n"
        "  return (x, ys)\n"
    )
    assert_same_numbers(before, after)


def test_dead_code_drops_the_forward_sweep_a_gradient_does_not_read() -> None:
    before = gradient_ir(cosine_product, with_value=False)
    after = optimize.dead_code(before)
    assert "add(mul(x, y), cos(x))" in values(before)
    assert values(after) == {"sin(x)", "neg(sin(x))", "add(neg(sin(x)), y)"}
    assert_same_numbers(before, after)


def appended(x, n):
    ys = []
    for i in range(n):
        ys.append(x * i)
        unused = x * 3.0  # noqa: F841
    return sum(ys)


def test_dead_code_keeps_a_loop_that_fills_a_list() -> None:
    before = primal_ir(appended)
    after = optimize.dead_code(before)
    assert values(before) - values(after) == {"mul(x, 3.0)"}
    assert [type(s).__name__ for s in ir.walk(after.body)].count("Effect") == 1
    assert_same_numbers(before, after)


# -- tape slots --------------------------------------------------------------------------------------------------


def taped(pop_c: bool) -> ir.Function:
    """Two slots each iteration: (a, b) and (c). The reverse loop reads a.1, and c.1 when `pop_c`."""
    forward = ir.For(
        "i",
        ir.Const(0),
        ir.Var("n"),
        ir.Const(1),
        (),
        (
            let("a", "mul", "x", "i"),
            let("b", "mul", "x", 2.0),
            let("c", "add", "x", 1.0),
            ir.Push((ir.Var("a"), ir.Var("b")), LOC, 1),
            ir.Push((ir.Var("c"),), LOC, 2),
        ),
        None,
        LOC,
    )
    reads = (let("u", "add", "s", "a.1"),) + ((let("s.1", "mul", "u", "c.1"),) if pop_c else (let("s.1", "copy", "u"),))
    backward = ir.For(
        "i.1",
        ir.Const(0),
        ir.Var("n"),
        ir.Const(1),
        (ir.Carry("s", ir.FLOAT, ir.Const(0.5), ir.Var("s.1"), "s.2"),),
        (
            ir.Pop(("c.1",), (ir.FLOAT,), LOC, 2),
            ir.Pop(("a.1", "b.1"), (ir.FLOAT, ir.FLOAT), LOC, 1),
            *reads,
        ),
        None,
        LOC,
        reverse=True,
    )
    return hand([forward, ir.Note("reverse sweep"), backward], "s.2", x=ir.FLOAT, n=ir.INT)


def test_tape_slots_cuts_unread_values_from_push_and_pop() -> None:
    before = taped(pop_c=False)
    after = optimize.tape_slots(before)
    assert text(after) == (
        "def f(x: float, n: int):\n"
        "  for i in range(0, n, 1) []:\n"
        "    a = mul(x, i)\n"
        "    push(a)\n"
        "  # reverse sweep\n"
        "  for i.1 in range(0, n, 1) reversed [s = 0.5 | s.1 -> s.2]:\n"
        "    a.1 = pop()\n"
        "    u = add(s, a.1)\n"
        "    s.1 = copy(u)\n"
        "  return s.2\n"
    )
    assert_same_numbers(before, after)


def test_tape_slots_keeps_every_slot_that_is_read() -> None:
    before = taped(pop_c=True)
    after = optimize.tape_slots(before)
    pushes = [s.values for s in ir.walk(after.body) if isinstance(s, ir.Push)]
    pops = [s.targets for s in ir.walk(after.body) if isinstance(s, ir.Pop)]
    assert pushes == [(ir.Var("a"),), (ir.Var("c"),)]
    assert pops == [("c.1",), ("a.1",)]
    assert_same_numbers(before, after)


def test_gradient_names_return_each_gradient_under_its_parameters_name() -> None:
    """`_t2_bar`, the adjoint of `y - x * x`, is y's gradient: it is renamed `y_bar`, every version of it; a
    forward value returned as a gradient is copied into `x_bar`."""

    def rosenbrock(x: float, y: float) -> float:
        return (1 - x) ** 2 + 100 * (y - x * x) ** 2

    def circuit(x: float, y: float, z: float) -> float:
        return (x + y) * max(y, z)

    for function, params in ((rosenbrock, ("x", "y")), (circuit, ("x", "y", "z"))):
        optimized = optimize.optimize(gradient_ir(function, with_value=False))
        assert isinstance(optimized.returns, tuple)
        assert [ir.family(r.name) for r in optimized.returns if isinstance(r, ir.Var)] == [f"{p}_bar" for p in params]
        defined = {ir.family(n) for n in ir.all_names(optimized)}
        assert not any(f.endswith("_bar") and f[: -len("_bar")] not in defined | set(params) for f in defined)


def test_tape_slots_returns_the_function_itself_when_every_value_is_read() -> None:
    optimized = apply(gradient_ir(signed_sum), *optimize.PASSES[: optimize.PASSES.index(optimize.tape_arrays)])
    assert any(isinstance(s, ir.Push) for s in ir.walk(optimized.body))
    assert optimize.tape_slots(optimized) is optimized


# -- random straight-line programs -------------------------------------------------------------------------------

CONSTANTS = ("0", "1", "2", "-1", "-3", "0.0", "0.5", "-2.5", "3.0", "-0.5")
RANDOM_POINTS = (-0.0, 0.0, 1.5, -0.7, 1e308, 5e-324, inf, -inf, nan)


def random_expression(rng: random.Random, names: Sequence[str], depth: int) -> str:
    if depth == 0 or rng.random() < 0.2:
        return rng.choice(names) if rng.random() < 0.6 else rng.choice(CONSTANTS)
    kind = rng.choice(("+", "-", "*", "/", "*", "neg", "neg", "sin", "exp"))
    a = random_expression(rng, names, depth - 1)
    if kind == "neg":
        return f"-({a})"
    if kind in ("sin", "exp"):
        return f"math.{kind}({a})"
    return f"({a} {kind} {random_expression(rng, names, depth - 1)})"


def random_module(seed: int, count: int) -> str:
    rng = random.Random(seed)
    lines = ["import math", ""]
    for k in range(count):
        lines += [
            "",
            f"def f{k}(x, y):",
            f"    t = {random_expression(rng, ('x', 'y'), 3)}",
            f"    return {random_expression(rng, ('x', 'y', 't', 't'), 3)}",
            "",
        ]
    return "\n".join(lines)


def test_random_expressions_optimized_and_unoptimized_agree(tmp_path: Path) -> None:
    count = 200
    module = import_source(random_module(seed=20240611, count=count), tmp_path, "s2s_optimize_random_")
    changed = 0
    for k in range(count):
        f = getattr(module, f"f{k}")
        unoptimized = gradient_ir(f)
        optimized = optimize.optimize(unoptimized)
        changed += optimized != unoptimized
        assert_same_numbers(unoptimized, optimized, domain=f, floats=RANDOM_POINTS)
    assert changed > count // 2


# -- hoist -----------------------------------------------------------------------------------------------------


def loops(block: ir.Block) -> list[ir.For]:
    return [stmt for stmt in ir.walk(block) if isinstance(stmt, ir.For)]


def reads_in(block: ir.Block) -> list[tuple[str, tuple[str, ...]]]:
    return [(s.op, tuple(map(str, s.args))) for s in block if isinstance(s, ir.Assign)]


def test_hoist_moves_reads_the_inner_loop_does_not_change_out_of_it() -> None:
    before = primal_ir(pairwise)
    after = optimize.hoist(before)
    outer, inner = loops(after.body)
    # xs[i] is read once per i, not once per (i, j); len(xs) once, not once per i
    assert ("index", ("xs", outer.index)) in reads_in(outer.body)
    assert not any(outer.index in args for _, args in reads_in(inner.body))
    assert ("len", ("xs",)) not in reads_in(outer.body)
    assert_same_numbers(before, after)


def unproven_position(x, xs):
    s = 0.0
    last = len(xs) - 1
    for _ in range(len(xs)):
        s = s + xs[last] * x  # xs[-1] of an empty list would fail, but the loop never runs then
    return s


def overwritten(x, n):
    ys = [x, x]
    s = 0.0
    for i in range(len(ys)):
        for _ in range(n):
            s = s + ys[i]
            ys[i] = ys[i] * 0.5
    return s


@pytest.mark.parametrize("f", [unproven_position, overwritten], ids=lambda f: f.__name__)
def test_hoist_keeps_reads_that_could_fail_or_change_in_the_loop(f: Callable[..., float]) -> None:
    before = primal_ir(f)
    after = optimize.hoist(before)
    assert after == before
    assert_same_numbers(before, after, domain=f)


# -- tape_arrays -----------------------------------------------------------------------------------------------


def tape_ops(block: ir.Block) -> list[str]:
    return [type(s).__name__ for s in ir.walk(block) if isinstance(s, (ir.Push, ir.Pop))]


def nested_recurrence(x, n):
    t = x
    for _ in range(n):
        for _ in range(n):
            t = t * math.sin(t) + x
    return t


def early_exit(x, n):
    t = x
    for _ in range(n):
        t = t * math.sin(t) + x
        if t > 2.0:
            break
    return t


def test_tape_arrays_turn_a_counted_loops_tape_into_arrays() -> None:
    before = apply(gradient_ir(negated_carry), *optimize.PASSES[: optimize.PASSES.index(optimize.tape_arrays)])
    assert tape_ops(before.body) == ["Push", "Pop"]
    after = optimize.tape_arrays(before)
    assert tape_ops(after.body) == []
    stores = [s for s in ir.walk(after.body) if isinstance(s, ir.Effect) and s.op == "setitem"]
    loads = [s for s in assigns(after) if s.op == "index"]
    assert stores and len(stores) == len(loads)
    assert_same_numbers(before, after, domain=negated_carry)


@pytest.mark.parametrize("f", [nested_recurrence, early_exit], ids=lambda f: f.__name__)
def test_tape_arrays_leave_loops_whose_iterations_are_not_items(f: Callable[..., float]) -> None:
    """An inner loop whose reverse runs in another block (the outer loop tapes), or a loop that may stop
    early, keeps its stack: item i would not be iteration i of this run."""
    before = apply(gradient_ir(f), *optimize.PASSES[: optimize.PASSES.index(optimize.tape_arrays)])
    after = optimize.tape_arrays(before)
    assert "Push" in tape_ops(after.body)
    assert_same_numbers(before, after, domain=f)
    assert_matches_finite_differences(f, run(optimize.optimize(gradient_ir(f))), (0.3, 3))
