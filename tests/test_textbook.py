"""Worked examples of backpropagation courses, against their textbook gradients."""

from __future__ import annotations

import math

import pytest

from s2s_ad import grad, value_and_grad


def lecture(x, y, z):
    return (x + y) * max(y, z)


def product(a, b):
    return (a + b) * (b + 1)


def nested(x, y, z):
    return z + math.sin(x**2 + y * math.exp(z))


def rosenbrock(x, y):
    return (1 - x) ** 2 + 100 * (y - x**2) ** 2


def cube_then_square(x):
    z = x**3
    return z**2


def test_lecture_graph() -> None:
    assert grad(lecture)(1.0, 2.0, 0.0) == (2.0, 5.0, 0.0)


@pytest.mark.parametrize("a, b", [(1.0, 2.0), (-3.0, 0.5), (2.5, -1.25)])
def test_product_of_sums(a: float, b: float) -> None:
    da, db = grad(product)(a, b)
    assert da == pytest.approx(b + 1)
    assert db == pytest.approx(a + 2 * b + 1)


def test_nested_chain_rule() -> None:
    x, y, z = 2.0, 1.5, 0.5
    inner = x**2 + y * math.exp(z)
    expected = (2 * x * math.cos(inner), math.exp(z) * math.cos(inner), 1 + y * math.exp(z) * math.cos(inner))
    assert grad(nested)(x, y, z) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("x, y", [(1.5, 2.0), (-1.2, 1.0), (1.0, 1.0)])
def test_rosenbrock(x: float, y: float) -> None:
    expected = (-400 * x * y + 400 * x**3 + 2 * x - 2, 200 * y - 200 * x**2)
    assert grad(rosenbrock)(x, y) == pytest.approx(expected, rel=1e-12, abs=1e-12)


def test_cube_then_square() -> None:
    assert grad(cube_then_square)(2.0) == pytest.approx(192.0)


def test_value_and_grad() -> None:
    value, gradient = value_and_grad(rosenbrock)(1.5, 2.0)
    assert value == pytest.approx(rosenbrock(1.5, 2.0))
    assert gradient == pytest.approx((151.0, -50.0))
