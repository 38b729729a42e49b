"""The SymPy cross-check: it passes true gradients, fails wrong ones, and never hangs."""

from __future__ import annotations

import dataclasses
import importlib
import math
import subprocess
import sys
import time

import pytest

from s2s_ad import UnsupportedError, api, frontend, ir
from s2s_ad.check import check_built
from s2s_ad.ir import FLOAT, INT, Assign, Carry, Const, For, Function, If, Loc, Merge, Param, Pop, Push, Var
from s2s_ad.rules import RULES, Rule

check = importlib.import_module("s2s_ad.check")  # the module; `s2s_ad.check` is the function

# -- the lecture examples ----------------------------------------------------------


def lecture(x, y, z):
    return (x + y) * max(y, z)


def product(a, b):
    return (a + b) * (b + 1)


def nested(x, y, z):
    return z + math.sin(x**2 + y * math.exp(z))


def rosenbrock(x, y):
    return (1 - x) ** 2 + 100 * (y - x**2) ** 2


def quartic(x):
    return (x**2 + 3) ** 4


def exp_sin(x):
    return math.exp(math.sin(x**2))


def three(x1, x2, x3):
    return x1**2 * x2 + math.cos(x3)


def trigonometry(x, y):
    a = math.sin(x) + math.cos(y) + math.tan(x * y) + math.asin(x / 10) + math.acos(y / 10) + math.atan(x)
    return a + math.atan2(y, x) + math.sinh(x) + math.cosh(y) + math.tanh(x) + math.asinh(y)


def logarithms(x, y):
    a = math.acosh(x * x + 2) + math.atanh(y / 10) + math.exp(x) + math.expm1(y) + math.log(x * x + 1)
    return a + math.log(y * y + 2, 3) + math.log1p(x * x) + math.log2(y * y + 1) + math.log10(x * x + 1)


def powers(x, y):
    a = math.sqrt(x * x + y * y + 1) + math.hypot(x, y) + math.pow(x * x + 1, y) + pow(x * x + 1, 0.5)
    return a + (x * y) ** 3 + x / (y * y + 1) - y + math.ldexp(x * y, 3)


def kinks(x, y):
    a = math.fabs(x) + math.erf(y) + math.erfc(x) + math.degrees(x) + math.radians(y) + abs(y)
    return a + min(x, y) + max(x, 2 * y) + x % 3 + x // 2 + float(y) + math.floor(x) + math.ceil(y)


def domain(x, y):
    return math.log(x) * math.sqrt(y) + math.acosh(x + 1)


def newer_math(x, y):
    return math.cbrt(x * y - 1) + math.exp2(y) * math.copysign(x, y) + math.isfinite(x)


def list_operations(x, y):
    xs = [x] * 3
    ys = [0.0, y, x]
    ys.append(x * y)
    ys[0] = x * x
    return sum(xs) + max(ys) + min(ys) * len(ys)


def gammas(x, y):
    return math.lgamma(x * x + 0.5) * y + math.gamma(y / 4 + 1.5) + math.lgamma(-0.5 - y * y / 10) + round(x, 1) * y


def list_builtins(x, y):
    xs = [x, y * y, x * y]
    top = sorted(xs, reverse=True)
    return math.fsum(xs) + math.prod(xs) + math.dist(xs, [y, x, 1.0]) + sorted(xs)[0] * top[1] + sum(map(math.sin, xs))


EXAMPLES = [lecture, product, nested, rosenbrock, quartic, exp_sin, three, trigonometry, logarithms, powers, kinks, domain]
EXAMPLES += [list_operations, gammas, list_builtins]
EXAMPLES += [newer_math] if hasattr(math, "cbrt") else []  # Python 3.11


@pytest.mark.parametrize("f", EXAMPLES, ids=lambda f: f.__name__)
def test_true_gradients_pass(f) -> None:
    report = check.check(f)
    assert report.ok, str(report)
    assert report.verdict == "pass"
    names = list(frontend.from_function(f).node.args.args)
    assert [e.parameter for e in report.entries] == [a.arg for a in names]
    for entry in report.entries:
        assert entry.verdict == "pass"
        assert entry.method.startswith(("symbolic", "numeric"))


def test_every_math_primitive_is_exercised() -> None:
    used = set()
    for f in EXAMPLES:
        built = api.build(frontend.from_function(f), None)
        used.update(s.op for s in ir.walk(built.primal.body) if isinstance(s, Assign))
    calls = {  # math.*, abs, max, ... (NumPy's elementwise functions are the same rules on arrays; `_digamma` is
        # what generated modules define for themselves, called by derivatives only)
        op
        for op, rule in RULES.items()
        if rule.partials is not None and rule.names and not rule.names[0].startswith(("numpy.", "_"))
    }
    assert calls <= used, calls - used


def test_wrt_subset_and_single_name() -> None:
    report = check.check(nested, wrt="y")
    assert [e.parameter for e in report.entries] == ["y"]
    assert report.ok
    report = check.check(nested, wrt=("z", "x"))
    assert [e.parameter for e in report.entries] == ["z", "x"]
    assert report.ok


def test_numeric_points_are_inside_the_domain() -> None:
    report = check.check(domain, budget=0.5)
    for entry in report.entries:
        for x, y in entry.points:
            assert x > 0 and y > 0


# -- the report -----------------------------------------------------------------------


def test_report_text_names_every_parameter() -> None:
    report = check.check(three)
    text = str(report)
    for name in ("x1", "x2", "x3"):
        assert f"d/d{name}" in text
    assert "SymPy:" in text and "ours:" in text
    assert "2*x1*x2" in text  # SymPy's derivative of x1**2*x2, printed readably
    assert "PASS" in text


def test_report_latex() -> None:
    latex = check.check(rosenbrock).latex()
    assert isinstance(latex, str)
    assert "\\frac" in latex and "\\partial" in latex
    assert "\\begin{aligned}" in latex


def test_report_entries_carry_expressions() -> None:
    import sympy

    report = check.check(quartic)
    entry = report.entry("x")
    x = sympy.Symbol("x", real=True)
    assert sympy.expand(entry.sympy - 8 * x * (x**2 + 3) ** 3) == 0  # d/dx (x^2+3)^4 by hand
    assert entry.seconds >= 0
    assert report.expression == (x**2 + 3) ** 4


# -- the check can fail --------------------------------------------------------------


def _wrong_sin_rules() -> dict[str, Rule]:
    rules = dict(RULES)
    rules["sin"] = dataclasses.replace(RULES["sin"], partials=lambda m, out, x: (-m.cos(x),))
    return rules


def test_wrong_rule_fails_naming_the_parameter() -> None:
    report = check.check(nested, rules=_wrong_sin_rules())
    assert not report.ok
    assert report.verdict == "fail"
    failed = {e.parameter for e in report.entries if e.verdict == "fail"}
    assert failed == {"x", "y", "z"}
    text = str(report)
    assert "FAIL" in text and "d/dx" in text


def test_wrong_rule_leaves_unaffected_parameters_passing() -> None:
    report = check.check(three, rules=_wrong_sin_rules())  # uses cos, not sin
    assert report.ok


def test_wrong_rule_for_cos_fails() -> None:
    rules = dict(RULES)
    rules["cos"] = dataclasses.replace(RULES["cos"], partials=lambda m, out, x: (m.sin(x),))
    report = check.check(three, rules=rules)
    assert report.entry("x3").verdict == "fail"
    assert report.entry("x1").verdict == "pass"


def _built(f):
    parsed = frontend.from_function(f)
    built = api.build(parsed, tuple(p.arg for p in parsed.node.args.args))
    return built


def test_wrong_adjoint_statement_fails() -> None:
    built = _built(nested)
    body = list(built.derived.body)
    where = next(i for i, s in enumerate(body) if isinstance(s, Assign) and s.op == "mul")
    body[where] = dataclasses.replace(body[where], op="add")
    derived = dataclasses.replace(built.derived, body=tuple(body))
    report = check_built(built.primal, derived, built.wrt, {})
    assert report.verdict == "fail"
    assert any(e.verdict == "fail" for e in report.entries)
    failing = next(e for e in report.entries if e.verdict == "fail")
    assert failing.method.startswith("numeric")
    assert failing.max_difference is not None and failing.max_difference > 1e-6


def test_every_changed_adjoint_operation_fails() -> None:
    built = _built(nested)
    body = built.derived.body
    for i, stmt in enumerate(body):
        if isinstance(stmt, Assign) and stmt.op in ("mul", "add"):
            swapped = dataclasses.replace(stmt, op="add" if stmt.op == "mul" else "mul")
            derived = dataclasses.replace(built.derived, body=body[:i] + (swapped,) + body[i + 1 :])
            report = check_built(built.primal, derived, built.wrt, {}, budget=1.0)
            assert report.verdict == "fail", (i, str(report))


def test_wrong_return_order_fails() -> None:
    built = _built(product)
    derived = dataclasses.replace(built.derived, returns=tuple(reversed(built.derived.returns)))
    assert check_built(built.primal, derived, built.wrt, {}).verdict == "fail"


# -- never hang, never pass by timeout ----------------------------------------------------------


def nasty(x, y):
    a = math.sin(x + y) ** 7 * math.cos(x * y) ** 5 + math.exp(math.sin(x * math.cos(y)))
    b = math.tanh(a * x) ** 3 + math.sqrt(a * a + y**4 + 1) * math.atan(a + x * y)
    return (a + b) ** 5 * math.log(b * b + 2) + math.erf(a - b)


@pytest.mark.parametrize("budget", [0.0, 0.01, 0.2])
def test_tiny_budget_never_passes_by_timeout(budget: float) -> None:
    started = time.monotonic()
    report = check.check(nasty, budget=budget)
    assert time.monotonic() - started < 10
    for entry in report.entries:
        assert entry.verdict in ("pass", "undecided", "fail")
        if entry.verdict == "pass":
            assert entry.method.startswith(("symbolic", "numeric"))
            if entry.method.startswith("numeric"):
                assert len(entry.points) == 6
        if entry.verdict == "undecided":
            assert entry.note
    if budget == 0.0:
        assert report.verdict == "undecided"
        assert not report.ok
        assert "undecided" in str(report).lower() or "UNDECIDED" in str(report)


def test_symbolic_proof_is_stopped() -> None:
    import sympy

    x = sympy.Symbol("x", real=True)
    hard = sympy.sin(x) ** 40 + sympy.cos(x) ** 40 - sympy.expand_trig(sympy.sin(40 * x) ** 2) / 7
    started = time.monotonic()
    stage, why = check.prove_zero_within(hard, 0.3)
    assert time.monotonic() - started < 3
    assert stage == ""
    assert why


def test_sympy_exception_is_undecided() -> None:
    rules = dict(RULES)

    def broken(sp, x):
        raise TypeError("no spelling")

    rules["sin"] = dataclasses.replace(RULES["sin"], sympy=broken)
    built = _built(nested)
    report = check_built(built.primal, built.derived, built.wrt, {}, rules)
    assert report.verdict == "undecided"
    assert not report.ok
    assert all("no spelling" in e.note for e in report.entries)


# -- the interpreter on control flow and lists (IR written by hand) -------------------------------

LOC = Loc("<test>", 1)


def _function(name: str, params: tuple[str, ...], body: tuple, returns) -> Function:
    return Function(name, tuple(Param(p, FLOAT) for p in params), body, returns, LOC)


def _assign(target: str, op: str, *args, type_=FLOAT) -> Assign:
    return Assign(target, op, tuple(args), type_, LOC)


def _relu_square():
    """f(x) = x*x if x > 0 else -x, and its gradient 2x or -1, with If statements."""
    x = Var("x")
    primal = _function(
        "f",
        ("x",),
        (
            _assign("c", "gt", x, Const(0.0), type_=ir.BOOL),
            If(Var("c"), (_assign("a", "mul", x, x),), (_assign("b", "neg", x),), (Merge("r", FLOAT, Var("a"), Var("b")),), LOC),
        ),
        Var("r"),
    )
    return primal, x


def test_if_becomes_piecewise() -> None:
    primal, x = _relu_square()
    derived = _function(
        "f_grad",
        ("x",),
        (
            _assign("c", "gt", x, Const(0.0), type_=ir.BOOL),
            If(Var("c"), (_assign("g1", "mul", Const(2.0), x),), (), (Merge("g", FLOAT, Var("g1"), Const(-1.0)),), LOC),
        ),
        (Var("g"),),
    )
    report = check_built(primal, derived, ("x",), {})
    assert report.ok, str(report)
    assert "Piecewise" in str(report)


def test_wrong_branch_gradient_fails() -> None:
    primal, x = _relu_square()
    derived = _function(
        "f_grad",
        ("x",),
        (
            _assign("c", "gt", x, Const(0.0), type_=ir.BOOL),
            If(
                Var("c"), (_assign("g1", "mul", Const(2.0), x),), (), (Merge("g", FLOAT, Var("g1"), Const(1.0)),), LOC
            ),  # should be -1
        ),
        (Var("g"),),
    )
    assert check_built(primal, derived, ("x",), {}).verdict == "fail"


def _power_loop(n: int):
    """p = x**n by a loop, gradient by a reversed loop that pops the tape."""
    primal = _function(
        "f",
        ("x",),
        (
            For(
                "i",
                Const(0),
                Const(n),
                Const(1),
                (Carry("p", FLOAT, Const(1.0), Var("p2"), "p_out"),),
                (_assign("p2", "mul", Var("p"), Var("x")),),
                None,
                LOC,
            ),
        ),
        Var("p_out"),
    )
    derived = _function(
        "f_grad",
        ("x",),
        (
            For(
                "i",
                Const(0),
                Const(n),
                Const(1),
                (Carry("p", FLOAT, Const(1.0), Var("p2"), "p_out"),),
                (Push((Var("p"),), LOC), _assign("p2", "mul", Var("p"), Var("x"))),
                None,
                LOC,
            ),
            For(
                "j",
                Const(0),
                Const(n),
                Const(1),
                (Carry("pb", FLOAT, Const(1.0), Var("pb2"), "pb_out"), Carry("xb", FLOAT, Const(0.0), Var("xb2"), "xb_out")),
                (
                    Pop(("pv",), (FLOAT,), LOC),
                    _assign("t", "mul", Var("pb"), Var("pv")),
                    _assign("xb2", "add", Var("xb"), Var("t")),
                    _assign("pb2", "mul", Var("pb"), Var("x")),
                ),
                None,
                LOC,
                reverse=True,
            ),
        ),
        (Var("xb_out"),),
    )
    return primal, derived


def test_loops_with_a_known_trip_count_are_unrolled() -> None:
    import sympy

    primal, derived = _power_loop(5)
    report = check_built(primal, derived, ("x",), {})
    assert report.ok, str(report)
    x = sympy.Symbol("x", real=True)
    assert report.expression == x**5
    assert report.entries[0].method.startswith("symbolic")


def test_a_gradient_past_the_unrolling_limit_is_compared_at_points() -> None:
    import sympy

    primal, derived = _power_loop(500)  # the gradient has more statements than the unrolling limit
    report = check_built(primal, derived, ("x",), {}, budget=20.0)
    x = sympy.Symbol("x", real=True)
    assert report.expression == x**500  # the primal is not: SymPy's derivative is the truth at each point
    entry = report.entries[0]
    assert entry.verdict == "pass", str(report)
    assert entry.method == "numeric"
    assert entry.sympy == 500 * x**499 and entry.ours is None


def _sine_sum(n: int):
    """s = n * sin(x) by a loop of n additions, and its gradient n * cos(x) by another loop."""
    primal = _function(
        "f",
        ("x",),
        (
            For(
                "i",
                Const(0),
                Const(n),
                Const(1),
                (Carry("s", FLOAT, Const(0.0), Var("s2"), "s_out"),),
                (_assign("t", "sin", Var("x")), _assign("s2", "add", Var("s"), Var("t"))),
                None,
                LOC,
            ),
        ),
        Var("s_out"),
    )
    derived = _function(
        "f_grad",
        ("x",),
        (
            For(
                "j",
                Const(0),
                Const(n),
                Const(1),
                (Carry("xb", FLOAT, Const(0.0), Var("xb2"), "xb_out"),),
                (_assign("c", "cos", Var("x")), _assign("xb2", "add", Var("xb"), Var("c"))),
                None,
                LOC,
            ),
        ),
        (Var("xb_out"),),
    )
    return primal, derived


def test_long_primal_loops_are_differentiated_by_the_chain_rule() -> None:
    primal, derived = _sine_sum(1100)  # 2200 statements: the primal itself is past the unrolling limit
    report = check_built(primal, derived, ("x",), {}, budget=20.0, points=3)
    entry = report.entries[0]
    assert entry.verdict == "pass", str(report)
    assert entry.method == "numeric (chain rule)"
    wrong = dataclasses.replace(
        derived, body=(*derived.body, _assign("g", "mul", Var("xb_out"), Const(1.0000001))), returns=(Var("g"),)
    )
    assert check_built(primal, wrong, ("x",), {}, budget=20.0, points=3).verdict == "fail"


def test_symbolic_trip_count_follows_the_path() -> None:
    """f(x) = x**int(x*x) (loop count read from x), gradient along each path."""
    x = Var("x")
    body_primal = (
        _assign("s", "mul", x, x),
        _assign("n", "int", Var("s"), type_=INT),
        For(
            "i",
            Const(0),
            Var("n"),
            Const(1),
            (Carry("p", FLOAT, x, Var("p2"), "p_out"),),
            (_assign("p2", "mul", Var("p"), x),),
            None,
            LOC,
        ),
    )
    primal = _function("f", ("x",), body_primal, Var("p_out"))
    # d/dx x**(n+1) = (n+1) x**n, computed as (n+1) * p_out / x
    derived = _function(
        "f_grad",
        ("x",),
        (
            *body_primal,
            _assign("n1", "add", Var("n"), Const(1), type_=INT),
            _assign("q", "div", Var("p_out"), x),
            _assign("g", "mul", Var("n1"), Var("q")),
        ),
        (Var("g"),),
    )
    report = check_built(primal, derived, ("x",), {})
    assert report.expression is None
    assert report.ok, str(report)
    assert "path" in report.entries[0].method
    wrong = dataclasses.replace(derived, body=derived.body[:-1] + (_assign("g", "mul", Var("n"), Var("q")),))
    assert check_built(primal, wrong, ("x",), {}).verdict == "fail"


def test_lists_and_data() -> None:
    x = Var("x")
    weights = ir.Global("W", ir.ListOf(FLOAT))
    primal = _function(
        "f",
        ("x",),
        (
            _assign("xs", "list", x, Const(2.0), type_=ir.ListOf(FLOAT)),
            ir.Effect("append", (Var("xs"), x), LOC),
            ir.Effect("setitem", (Var("xs"), Const(1), weights), LOC),
            _assign("w1", "index", weights, Const(1)),
            ir.Effect("accum_item", (Var("xs"), Const(0), Var("w1")), LOC),
            _assign("n", "len", Var("xs"), type_=INT),
            _assign("first", "index", Var("xs"), Const(0)),
            _assign("last", "index", Var("xs"), Const(-1)),
            _assign("r", "mul", Var("first"), Var("last")),
            _assign("r2", "mul", Var("r"), Var("n")),
        ),
        Var("r2"),
    )
    # ((x + 3) * x) * 3 -> d/dx = 3 (2x + 3)
    derived = _function(
        "f_grad",
        ("x",),
        (
            _assign("a", "mul", Const(2.0), x),
            _assign("b", "add", Var("a"), Const(3.0)),
            _assign("g", "mul", Var("b"), Const(3)),
        ),
        Var("g"),
    )
    report = check_built(primal, derived, ("x",), {"W": [1.0, 3.0]})
    assert report.ok, str(report)
    wrong = dataclasses.replace(derived, body=derived.body[:-1] + (_assign("g", "mul", Var("b"), Const(2)),))
    assert check_built(primal, wrong, ("x",), {"W": [1.0, 3.0]}).verdict == "fail"
    # a list where a number belongs is refused, not an internal error
    body = primal.body[:-2] + (_assign("r", "mul", Var("first"), weights), primal.body[-1])
    with pytest.raises(UnsupportedError, match="list"):
        check_built(dataclasses.replace(primal, body=body), derived, ("x",), {"W": [1.0, 3.0]})
    with pytest.raises(UnsupportedError, match="W"):
        check_built(primal, derived, ("x",), {})


def test_unknown_operations_are_refused() -> None:
    x = Var("x")
    primal = _function("f", ("x",), (_assign("y", "frobnicate", x),), Var("y"))
    derived = _function("f_grad", ("x",), (), (Const(1.0),))
    with pytest.raises(UnsupportedError, match="frobnicate"):
        check_built(primal, derived, ("x",), {})
    primal = _function("f", ("x",), (ir.Effect("shuffle", (x,), LOC),), x)
    with pytest.raises(UnsupportedError, match="shuffle"):
        check_built(primal, derived, ("x",), {})


def test_a_gradient_of_the_wrong_shape_is_refused() -> None:
    primal = Function("f", (Param("xs", ir.ListOf(FLOAT)),), (_assign("y", "index", Var("xs"), Const(0)),), Var("y"), LOC)
    short = Function(
        "g", primal.params, (_assign("g", "list", Const(1.0), Const(0.0), type_=ir.ListOf(FLOAT)),), (Var("g"),), LOC
    )
    with pytest.raises(UnsupportedError, match="2 elements where 3 belong"):
        check_built(primal, short, ("xs",), {})
    assert check_built(primal, short, ("xs",), {}, lengths={"xs": 2}).ok
    number = Function("g", primal.params, (), (Const(1.0),), LOC)
    with pytest.raises(UnsupportedError, match="xs"):
        check_built(primal, number, ("xs",), {})
    with pytest.raises(UnsupportedError, match="length"):
        check_built(primal, short, ("xs",), {}, lengths={"xs": -1})


def test_a_pop_from_an_empty_tape_fails() -> None:
    """The printed code pops from a tape it never made: it raises where the derivative exists."""
    x = Var("x")
    primal = _function("f", ("x",), (), x)
    derived = _function("f_grad", ("x",), (Pop(("v",), (FLOAT,), LOC),), (Var("v"),))
    report = check_built(primal, derived, ("x",), {})
    assert report.verdict == "fail", str(report)
    assert "raises NameError" in report.entries[0].note
    assert any("empty tape" in note for note in report.notes)  # SymPy's reading of the gradient IR says why


# -- SymPy stays out of `import s2s_ad` ----------------------------------------------------


def test_import_does_not_import_sympy() -> None:
    code = "import sys, s2s_ad, s2s_ad.check; assert 'sympy' not in sys.modules and 'mpmath' not in sys.modules"
    subprocess.run([sys.executable, "-W", "error", "-c", code], check=True)


def test_constants_are_named_exactly() -> None:
    import sympy

    constants = check.Constants()
    assert constants.sympy(180 / math.pi) == 180 / sympy.pi
    assert constants.sympy(2 / math.sqrt(math.pi)) == 2 / sympy.sqrt(sympy.pi)
    assert constants.sympy(1 / math.log(10)) == 1 / sympy.log(10)
    assert constants.sympy(0.1) == sympy.Rational(1, 10)
    assert constants.sympy(3) == 3
    assert not constants.unnamed
    constants.sympy(0.123456789012345)
    assert constants.unnamed == {0.123456789012345}


# -- control flow and lists from real source -------------------------------------------------

WEIGHTS = [0.5, -1.25, 2.0]


def branches(x, y):
    if x > y:
        z = x * y
    else:
        z = math.sin(x) + y
    return z * z


def fixed_loop(x, n):
    s = 0.0
    for i in range(3):
        s = s + math.sin(x * i) * n
    return s


def data_loop(x):
    t = 0.0
    for w in WEIGHTS:
        t = t + w * math.exp(x * w)
    return t


def early_exit(x):
    s = 0.0
    for i in range(10):
        s = s + x * i
        if s > 5:
            break
    return s


def flagged(x, y):
    if x > y:
        big = True
    else:
        big = False
    if big:
        r = x * y
    else:
        r = math.sin(x)
    return r


def nested_branches(x, y):
    if x > 0:
        if y > 0:
            r = x * y
        else:
            r = x - y
    else:
        r = y * y
    return r * x


def list_reductions(x, y):
    xs = [x, y, x * y]
    t = 0.0
    for v in xs:
        t = t + v * v
    return t + sum(xs) + max(xs)


def doubling(x):
    s = x
    while s < 10:
        s = s * 2 + x
    return s


@pytest.mark.parametrize(
    "f",
    [branches, flagged, nested_branches, fixed_loop, data_loop, early_exit, list_reductions, doubling],
    ids=lambda f: f.__name__,
)
def test_control_flow_passes(f) -> None:
    report = check.check(f, budget=10.0)  # `doubling` never ends for x < 0: those samples cost time
    assert report.ok, str(report)


def test_branches_are_proved_piecewise() -> None:
    report = check.check(branches)
    assert "Piecewise" in str(report)
    assert all(e.method.startswith("symbolic") or e.method == "numeric" for e in report.entries)


def test_flags_and_nested_branches_are_one_expression() -> None:
    import sympy

    for f in (flagged, nested_branches):
        report = check.check(f)
        assert report.expression is not None and report.expression.has(sympy.Piecewise)
        assert all(e.method.startswith("symbolic") for e in report.entries), str(report)


def test_data_loop_is_one_expression() -> None:
    import sympy

    report = check.check(data_loop)
    x = sympy.Symbol("x", real=True)
    expected = sum(sympy.nsimplify(w) * sympy.exp(x * sympy.nsimplify(w)) for w in WEIGHTS)
    assert sympy.simplify(report.expression - expected) == 0


def test_path_dependent_loops_say_so() -> None:
    report = check.check(doubling)
    assert report.expression is None
    assert "path" in str(report)
    assert report.entries[0].note  # samples where the loop never ends are rejected, and counted


# -- list parameters: one coordinate per element ---------------------------------------------------


def norm(xs):
    t = 0.0
    for v in xs:
        t = t + v * v
    return math.sqrt(t)


def neuron(w, xs, b):
    s = b
    for i in range(len(xs)):
        s = s + w[i] * xs[i]
    return math.tanh(s)


def grid(m, x):
    t = 0.0
    for row in m:
        for v in row:
            t = t + v * x
    return t * t


def test_list_parameters_get_a_symbol_per_element() -> None:
    import sympy

    report = check.check(norm)
    assert report.ok, str(report)
    assert [e.parameter for e in report.entries] == ["xs[0]", "xs[1]", "xs[2]"]
    assert report.coordinates == ("xs[0]", "xs[1]", "xs[2]")
    xs = sympy.symbols("xs[0] xs[1] xs[2]", real=True)
    assert report.expression == sympy.sqrt(sum(x**2 for x in xs))
    assert "xs[1]" in str(report)


@pytest.mark.parametrize(
    "f, lengths, coordinates",
    [(neuron, {"w": 2, "xs": 2}, 2 + 2 + 1), (neuron, None, 3 + 3 + 1), (grid, {"m": 2}, 2 * 2 + 1)],
    ids=["neuron-2", "neuron-3", "grid"],
)
def test_list_parameters_pass(f, lengths, coordinates: int) -> None:
    report = check.check(f, lengths=lengths)
    assert report.ok, str(report)
    assert len(report.entries) == coordinates


def test_a_wrong_list_gradient_fails() -> None:
    built = _built(neuron)
    body = built.derived.body
    where = max(i for i, s in enumerate(ir.walk(body)) if isinstance(s, ir.Effect) and s.op == "accum_item")
    statements = list(ir.walk(body))
    target = statements[where]
    wrong = dataclasses.replace(target, args=(*target.args[:2], Const(1.0)))
    derived = dataclasses.replace(built.derived, body=_replace_statement(body, target, wrong))
    report = check_built(built.primal, derived, built.wrt, {})
    assert report.verdict == "fail", str(report)


def _replace_statement(block, old, new):
    out = []
    for stmt in block:
        if stmt is old:
            out.append(new)
        elif isinstance(stmt, For):
            out.append(dataclasses.replace(stmt, body=_replace_statement(stmt.body, old, new)))
        elif isinstance(stmt, If):
            out.append(
                dataclasses.replace(
                    stmt, then=_replace_statement(stmt.then, old, new), orelse=_replace_statement(stmt.orelse, old, new)
                )
            )
        else:
            out.append(stmt)
    return tuple(out)


# -- core bugs the check found (xfail marks stay until they are fixed) ----------------------------


def list_literal(x, y):
    xs = [x, y]
    return xs[0] * xs[1]


def test_list_literal_elements() -> None:  # once a core bug: elements of a list literal got no adjoint
    report = check.check(list_literal)
    assert report.ok, str(report)


def loop_count_from_parameter(x, y):
    s = x
    for _ in range(int(y)):
        s = s + x
    return s + y


def test_parameter_that_sets_a_loop_count() -> None:  # once a core bug: y was typed int, and d/dy was 0
    report = check.check(loop_count_from_parameter)
    assert report.ok, str(report)


def test_grad_with_check(tmp_path) -> None:  # once a bug: api imported the function s2s_ad.check, not the module
    from s2s_ad import grad

    assert grad(product, check=True)(1.0, 2.0) == pytest.approx((3.0, 6.0))
    module = tmp_path / "fresh_module.py"
    module.write_text("def f(x, y):\n    return x * y + x\n")
    code = (
        "import sys; sys.path.insert(0, sys.argv[1]); import fresh_module, s2s_ad; "
        "print(s2s_ad.grad(fresh_module.f, check=True)(2.0, 3.0))"
    )
    result = subprocess.run([sys.executable, "-c", code, str(tmp_path)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "(4.0, 2.0)"


def test_ties_are_found_in_sympys_derivative() -> None:
    import mpmath
    import sympy

    x, y = sympy.symbols("x y", real=True)
    at_tie = {x: mpmath.mpf(1), y: mpmath.mpf(1)}
    for expression in (
        sympy.Heaviside(x - y),
        sympy.Max(x, y) + 1,
        sympy.sign(x - y),
        sympy.Abs(x - y),
        sympy.Piecewise((x, x > y), (y, True)),
    ):
        evaluator = check.MpMathEvaluator(at_tie)
        evaluator.value(expression)
        assert evaluator.ties, expression
        away = check.MpMathEvaluator({x: mpmath.mpf(1), y: mpmath.mpf(2)})
        away.value(expression)
        assert not away.ties, expression


def same_argument_twice(x):
    return max(x, x) + abs(x - x) + x * x  # no kink: both sides are the same value


def test_a_tie_that_does_not_depend_on_the_point_is_no_kink() -> None:
    report = check.check(same_argument_twice, symbolic=False)
    assert report.ok, str(report)


def tiny_sine(x):
    return 1e-80 * math.sin(x)


def constant_in_disguise(x):
    return (x + 1) ** 2 - x**2 - 2 * x  # = 1: the derivative is 0, computed with rounding


def test_the_tolerance_has_no_absolute_floor() -> None:
    """Derivatives of size 1e-80 are still compared relatively: a wrong rule there fails."""
    assert check.check(tiny_sine, symbolic=False).ok
    report = check.check(tiny_sine, rules=_wrong_sin_rules(), symbolic=False)
    assert report.verdict == "fail", str(report)


def test_rounding_in_a_zero_derivative_passes() -> None:
    report = check.check(constant_in_disguise, symbolic=False)
    assert report.ok, str(report)


def horner(x, n):
    total = 0.0
    for _ in range(n):
        total = total * x + 1.0
    return total


def comparison(x, y):
    return x < y


def test_integer_parameters_get_whole_numbers() -> None:
    built = _built(horner)
    assert built.primal.params[1].type == INT  # the lowering typed n as a loop count
    report = check.check(horner)
    assert report.ok, str(report)
    assert all(float(n).is_integer() for entry in report.entries for _, n in entry.points)


def test_a_truth_value_result_has_zero_derivative() -> None:
    report = check.check(comparison)
    assert report.ok, str(report)
    assert all(entry.sympy == 0 for entry in report.entries)


def overflowing_constant(x, y):
    y = math.fabs(math.exp(math.hypot(0.5, 10)))
    x = math.log2(2 + (x * y) ** 2)
    return -math.expm1(math.pow(1 + y**2, y))  # math.pow overflows: the function is defined nowhere


def underflowing_constant(x):
    t = math.exp(10)
    return math.log2(2 + (x * math.erfc(t)) ** 2)  # erfc(22026) is 0.0 in floating point


def test_an_overflowing_constant_is_undecided_quickly() -> None:
    started = time.monotonic()
    report = check.check(overflowing_constant)
    assert time.monotonic() - started < 10
    assert report.verdict == "undecided"
    assert "overflows" in str(report)
    report.latex()


def test_values_below_floating_point_are_zero() -> None:
    report = check.check(underflowing_constant)
    assert report.ok, str(report)


def cancelling(x, y, z):
    return math.sinh(math.expm1(math.degrees(y)))  # d expm1 = expm1 + 1: all cancellation near y = -3


def test_cancellation_below_70_digits_is_rounding_not_a_failure() -> None:
    report = check.check(cancelling, symbolic=False)
    assert report.ok, str(report)


def folded_square_of_pi(x):
    return x / math.atan2(x, math.degrees(0.5))  # the gradient holds (90 / pi)**2, folded in floating point


def test_rounded_constants_magnified_by_cancellation_pass() -> None:
    report = check.check(folded_square_of_pi, symbolic=False)
    assert report.ok, str(report)
    assert any("float constants" in note for note in report.notes)


def deep_underflow(x, y):
    x = y * y
    x = math.asin(0.9 * math.tanh(0.5 / (1 + math.pow(1 + x**2, x) ** 2)))
    return math.acosh(1.5 + x**2)  # the two derivatives reach 1e-254 by different intermediate values


def test_different_routes_to_tiny_values_agree() -> None:
    assert check.check(deep_underflow, symbolic=False).ok


def folded_round_constant(x):
    return math.atan2(x, abs(10) ** 1.5)  # the gradient holds 31.622776601683793 ** 2, folded to a round 1000.0


def test_a_folded_constant_that_prints_round_is_rounding_too() -> None:
    report = check.check(folded_round_constant, symbolic=False)
    assert report.ok, str(report)
    wrong = check.check(folded_round_constant, symbolic=False, rules=_wrong_atan2_rules())
    assert wrong.verdict == "fail", str(wrong)


def _wrong_atan2_rules() -> dict[str, Rule]:
    rules = dict(RULES)
    rules["atan2"] = dataclasses.replace(
        RULES["atan2"], partials=lambda m, out, y, x: (x / (x**2 + 1.001 * y**2), -y / (x**2 + y**2))
    )
    return rules


def guarded(x, y):
    if x <= 0:
        raise ValueError("x must be positive")
    assert y > -10, "y too small"
    return math.log(x) * y


def test_a_function_that_raises_is_checked_where_it_does_not() -> None:
    """Its own `raise` and `assert`: the points where it raises are outside its domain, and rejected."""
    report = check.check(guarded)
    assert report.ok, str(report)
    assert all(x > 0 for entry in report.entries for x, _ in entry.points)
    assert "raises ValueError('x must be positive')" in report.entries[0].note
    assert all(e.method.startswith("symbolic") for e in report.entries)


def root_of_nothing(x):
    return math.sqrt(x - x)  # constant 0, but the chain rule passes through sqrt's infinite slope at 0


def angle_of_nothing(x):
    x = abs(abs(x - x))  # 0, standing still through two ties of abs
    return math.atan2(x, x)  # whose partials are 0 / 0 there


def root_of_a_square(x):
    return math.sqrt(x * x) * 0.0 + x


def test_an_infinite_partial_at_a_standing_operand_is_undecided_not_a_failure() -> None:
    """sqrt(x - x) is constant, and SymPy says its derivative is 0; the generated gradient raises
    ZeroDivisionError there (as any chain rule does: 0.5 / sqrt(0) times a zero adjoint). A raise is
    a refusal, not a wrong number, so the check cannot call it a disagreement; it cannot call it a
    pass either."""
    with pytest.raises(ZeroDivisionError):
        api.grad(root_of_nothing)(1.0)
    report = check.check(root_of_nothing)
    assert report.verdict == "undecided", str(report)
    assert check.check(angle_of_nothing).verdict == "undecided"  # found by the thorough property run
    assert check.check(root_of_a_square).ok  # an infinite slope only at x = 0, which no sample hits
