"""The rules of `@custom_derivative` functions: made by the lowering, returned with the IR, never
added to the table it was given; spelled in SymPy by the check, from the function's own body.

Each gradient is compared with a closed form; each SymPy spelling with the expression it must be.
"""

from __future__ import annotations

import math

import pytest
import sympy

import s2s_ad
from s2s_ad import frontend, ir, lower, pipeline
from s2s_ad.check.checker import spelled, sympy_value
from s2s_ad.rules import RULES
from s2s_ad.rules.custom import Body, CustomDerivative


@s2s_ad.custom_derivative
def exp3(x):
    return math.exp(x) * 3


@exp3.defderiv
def _exp3_derivative(x):
    return math.exp(x) * 3


@s2s_ad.custom_derivative
def twice_exp3(x):
    return exp3(x) * 2  # a custom derivative inside another one's body


@twice_exp3.defderiv
def _twice_exp3_derivative(x):
    return exp3(x) * 2


@s2s_ad.custom_derivative(sympy=lambda sp, x, y: sp.sin(x) * y)
def sin_times(x, y):
    return math.sin(x) * y


@sin_times.defderiv(sympy=lambda sp, x, y: (sp.cos(x) * y, sp.sin(x)))
def _sin_times_derivative(x, y):
    return (math.cos(x) * y, math.sin(x))


def calls_both(x, y):
    return twice_exp3(x) + sin_times(x, y) * x


def test_the_class_lives_with_the_rules_and_is_read_from_api_too() -> None:
    assert s2s_ad.api.CustomDerivative is CustomDerivative
    assert isinstance(exp3, CustomDerivative)
    assert exp3(0.5) == math.exp(0.5) * 3  # calling it calls the function


def test_lowering_returns_the_rules_it_makes_and_leaves_the_table_alone() -> None:
    before = dict(RULES)
    function, made = lower.lowered(frontend.from_function(calls_both), RULES)
    assert sorted(made) == [
        "custom:sin_times",
        "custom:sin_times:d0",
        "custom:sin_times:d1",
        "custom:twice_exp3",
        "custom:twice_exp3:d0",
    ]
    assert RULES == before and not any(op.startswith("custom:") for op in RULES)
    assert {s.op for s in function.body if isinstance(s, ir.Assign)} >= {"custom:twice_exp3", "custom:sin_times"}
    assert lower.lower(frontend.from_function(calls_both), RULES) == function  # the IR alone
    assert RULES == before


def test_the_pipeline_passes_the_merged_table_on() -> None:
    built = pipeline.build(frontend.from_function(calls_both), None)
    assert "custom:twice_exp3:d0" in built.rules and "custom:twice_exp3:d0" not in RULES
    x, y = 0.4, -1.3
    expected = (6 * math.exp(x) + math.cos(x) * y * x + math.sin(x) * y, math.sin(x) * x)
    assert s2s_ad.grad(calls_both)(x, y) == pytest.approx(expected, rel=1e-12)


def test_a_body_is_spelled_by_the_check_not_by_the_rules() -> None:
    built = pipeline.build(frontend.from_function(calls_both), None)
    body = built.rules["custom:twice_exp3"].sympy
    assert isinstance(body, Body)
    with pytest.raises(s2s_ad.UnsupportedError, match="only the check reads"):
        body(sympy, sympy.Symbol("x"))
    x, y = sympy.symbols("x y", real=True)
    table = spelled(built.rules)
    assert sympy.simplify(table["custom:twice_exp3"].sympy(sympy, x) - 6 * sympy.exp(x)) == 0  # the inner one spelled too
    assert sympy.simplify(table["custom:twice_exp3:d0"].sympy(sympy, x) - 6 * sympy.exp(x)) == 0
    assert table["custom:sin_times:d1"].sympy(sympy, x, y) == sympy.sin(x)  # the sympy= spelling given
    assert sympy.simplify(sympy_value(built.primal, (x, y), built.rules) - (6 * sympy.exp(x) + sympy.sin(x) * y * x)) == 0


def uses_exp3(x):
    return exp3(x) * x


def test_the_check_reads_custom_derivatives_spelled_by_their_bodies() -> None:
    report = s2s_ad.check(uses_exp3)
    assert report.ok, report
    assert sympy.simplify(report.expression - 3 * sympy.exp(sympy.Symbol("x", real=True)) * sympy.Symbol("x", real=True)) == 0
