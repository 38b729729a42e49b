"""Every rule of the table against `sympy.diff`: the partials are the derivatives of the primal.

The partials are evaluated with a SymPy namespace (`m.<op>(...)` is the op's
own SymPy spelling, `out` the primal's SymPy expression) and compared with
`sympy.diff` of the primal at random points inside the primitive's domain,
at 30 digits. The tolerance is 1e-12 relative because a few partials hold
float constants (`math.log(2)`, `2 / math.sqrt(math.pi)`); a wrong partial
is off by far more.
"""

from __future__ import annotations

import dataclasses
import random

import pytest

from s2s_ad.rules import RULES

sympy = pytest.importorskip("sympy")

# `where` (a condition operand) and `clip` (bounds in order) are not functions of free real operands: their
# partials are compared with finite differences on arrays in tests/test_numpy_programs.py.
DIFFERENTIABLE = sorted(op for op, rule in RULES.items() if rule.partials is not None and op not in ("where", "clip"))
PIECEWISE_CONSTANT = sorted(
    op for op, rule in RULES.items() if rule.partials is None and not getattr(rule, "structural", False) and rule.result != "bool"
)
LOGICAL = sorted(op for op, rule in RULES.items() if rule.result == "bool")

DIGITS = 30


class SympyNamespace:
    """`m.sin(x)` in a partial is the rule table's SymPy spelling of `sin`."""

    def __getattr__(self, op: str):
        rule = RULES[op]
        return lambda *args: rule.sympy(sympy, *args)


def _symbols(arity: int):
    return sympy.symbols(" ".join(f"a{i}" for i in range(arity)), real=True, seq=True)


def _diff(expression, symbol):
    """`sympy.diff` almost everywhere (Mod written with floor; floor's derivative is zero)."""
    expression = expression.replace(sympy.Mod, lambda x, y: x - y * sympy.floor(x / y))
    derivative = sympy.diff(expression, symbol).doit()
    return derivative.replace(
        lambda n: isinstance(n, sympy.Derivative) and isinstance(n.expr, sympy.floor), lambda n: sympy.S.Zero
    ).doit()


def _number(expression, point):
    value = expression.evalf(DIGITS, subs=point)
    if not (value.is_Number and value.is_real and value.is_finite):
        return None
    return value


def _points(arity: int, seed: int, whole: tuple[int, ...] = ()):
    """Random points on several scales, so that every domain (|x| < 1, x > 1, ...) is reached; the operands a
    primitive takes as whole numbers only (`rule.whole`: an exponent of 2, the order of polygamma) are ints."""
    rng = random.Random(seed)
    for _ in range(400):
        scale = rng.choice((0.9, 2.0, 4.0))
        yield tuple(rng.randint(1, 3) if i in whole else round(rng.uniform(-scale, scale), 6) for i in range(arity))


def _away_from_kinks(op: str, values) -> bool:
    if op in ("abs", "fabs") and abs(values[0]) < 1e-3:
        return False
    if op in ("max", "min") and abs(values[0] - values[1]) < 1e-3:
        return False
    if op == "mod" and abs(values[1]) < 1e-3:
        return False
    return True


def test_tables_agree() -> None:
    for op in DIFFERENTIABLE:
        rule = RULES[op]
        assert rule.sympy is not None, op
        args = _symbols(rule.arity)
        partials = rule.partials(SympyNamespace(), rule.sympy(sympy, *args), *args)
        assert len(partials) == rule.arity, op


@pytest.mark.parametrize("op", DIFFERENTIABLE)
def test_partials_are_sympys_derivatives(op: str) -> None:
    _compare_with_sympy(op, RULES[op])


def _compare_with_sympy(op: str, rule) -> None:
    args = _symbols(rule.arity)
    out = rule.sympy(sympy, *args)
    partials = [sympy.sympify(p) for p in rule.partials(SympyNamespace(), out, *args)]
    truths = [_diff(out, a) for a in args]
    compared = 0
    for values in _points(rule.arity, seed=len(op), whole=rule.whole):
        if not _away_from_kinks(op, values):
            continue
        point = {a: sympy.Integer(v) if k in rule.whole else sympy.Float(v, DIGITS) for k, (a, v) in enumerate(zip(args, values))}
        if _number(out, point) is None:
            continue  # outside the primitive's domain
        pairs = [(_number(t, point), _number(p, point)) for t, p in zip(truths, partials)]
        for k in rule.whole:  # a whole-number operand SymPy cannot differentiate in (an order) gets no derivative
            if pairs[k][0] is None and truths[k].atoms(sympy.Derivative):
                assert partials[k] == 0, (op, k, partials[k])
                pairs[k] = (sympy.S.Zero, sympy.S.Zero)
        if any(t is None or p is None for t, p in pairs):
            continue
        for k, (truth, partial) in enumerate(pairs):
            assert abs(truth - partial) <= 1e-12 * max(1, abs(truth)), (op, k, values, truth, partial)
        compared += 1
        if compared == 6:
            break
    assert compared == 6, f"only {compared} points inside the domain of {op}"


@pytest.mark.parametrize("op", DIFFERENTIABLE)
def test_partials_are_exact_where_they_hold_no_float(op: str) -> None:
    """Partials written without float constants are SymPy's derivative exactly, almost everywhere."""
    rule = RULES[op]
    args = _symbols(rule.arity)
    out = rule.sympy(sympy, *args)
    partials = [sympy.sympify(p) for p in rule.partials(SympyNamespace(), out, *args)]
    for k, (arg, partial) in enumerate(zip(args, partials)):
        if partial.atoms(sympy.Float):
            continue
        if k in rule.whole and _diff(out, arg).atoms(sympy.Derivative):  # no derivative in an order: see above
            assert partial == 0, (op, arg, partial)
            continue
        difference = (_diff(out, arg) - partial).rewrite(sympy.Heaviside)
        difference = difference.replace(sympy.DiracDelta, lambda *a: sympy.S.Zero)
        assert sympy.simplify(difference) == 0 or _numerically_zero(difference, args, out, rule.whole), (op, arg, difference)


def _numerically_zero(expression, args, out, whole: tuple[int, ...] = ()) -> bool:
    """Zero at six points of the primal's (real) domain."""
    seen = 0
    for values in _points(len(args), seed=7, whole=whole):
        point = {a: sympy.Integer(v) if k in whole else sympy.Float(v, DIGITS) for k, (a, v) in enumerate(zip(args, values))}
        value = _number(expression, point)
        if value is None or _number(out, point) is None:
            continue
        if abs(value) > 1e-25:
            return False
        seen += 1
        if seen == 6:
            return True
    return False


@pytest.mark.parametrize("op", PIECEWISE_CONSTANT)
def test_rules_without_partials_are_locally_constant(op: str) -> None:
    """`partials=None` claims the derivative is zero where it exists: check by finite differences."""
    rule = RULES[op]
    assert rule.sympy is not None
    args = _symbols(rule.arity)
    out = rule.sympy(sympy, *args)
    h = sympy.Rational(1, 10**9)
    compared = 0
    for values in _points(rule.arity, seed=3, whole=rule.whole):
        point = {a: sympy.Integer(v) if k in rule.whole else sympy.Float(v, DIGITS) for k, (a, v) in enumerate(zip(args, values))}
        centre = _number(out, point)
        if centre is None:
            continue
        for a in (a for k, a in enumerate(args) if k not in rule.whole):  # an operand taken whole does not move
            up = _number(out, {**point, a: point[a] + h})
            down = _number(out, {**point, a: point[a] - h})
            assert up is not None and down is not None, (op, values)
            assert up == centre == down, (op, values, a)  # random points are away from the jumps
        compared += 1
        if compared == 6:
            break
    assert compared == 6
    derivative = sympy.diff(out.replace(sympy.Mod, lambda x, y: x - y * sympy.floor(x / y)), args[0])
    pieces = derivative.atoms(sympy.Derivative, sympy.DiracDelta, sympy.Subs)
    assert derivative == 0 or pieces, (op, derivative)  # SymPy agrees: no smooth part


@pytest.mark.parametrize("op", LOGICAL)
def test_logical_rules_give_truth_values(op: str) -> None:
    """Comparisons and logic are piecewise constant (truth values), so they have no partials."""
    rule = RULES[op]
    assert rule.partials is None
    values = [sympy.true, sympy.false] if op in ("and", "or", "not") else [sympy.Float(1.5), sympy.Float(-0.5)]
    result = rule.sympy(sympy, *values[: rule.arity])
    assert result in (sympy.true, sympy.false)


@pytest.mark.parametrize(
    "op, wrong",
    [
        ("cos", lambda m, out, x: (m.sin(x),)),
        ("div", lambda m, out, x, y: (1 / y, out / y)),
        ("log2", lambda m, out, x: (1 / (x * 0.69314718),)),  # log(2) to 8 digits only
        ("max", lambda m, out, x, y: (m.step(y, x), m.step(x, y))),
    ],
)
def test_a_wrong_partial_is_caught(op: str, wrong) -> None:
    """The comparison above is able to fail."""
    with pytest.raises(AssertionError):
        _compare_with_sympy(op, dataclasses.replace(RULES[op], partials=wrong))


def test_conventions_at_kinks() -> None:
    """d|x|/dx at 0 is sign(0) = 0; max/min ties split the gradient 1/2 : 1/2 (Heaviside(0) = 1/2)."""
    x, y = _symbols(2)
    m = SympyNamespace()
    (abs_partial,) = RULES["abs"].partials(m, sympy.Abs(x), x)
    assert abs_partial.subs(x, 0) == 0
    for op in ("max", "min"):
        rule = RULES[op]
        partials = rule.partials(m, rule.sympy(sympy, x, y), x, y)
        assert [p.subs({x: 1, y: 1}) for p in partials] == [sympy.Rational(1, 2)] * 2
        assert sum(p.subs({x: 2, y: 1}) for p in partials) == 1
