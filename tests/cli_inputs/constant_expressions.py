"""Module constants written as constant expressions of literals, of each other and of math's constants."""

import math

SCALE = 2.0 * 3
SHIFT = -1.5
STEPS = 2**10
RATE = 1e-3 * 4
HALF_PI = math.pi / 2
MIXED = (SCALE + SHIFT) * HALF_PI - STEPS // 3 % 7
ROOT = math.sqrt(2.0)
WEIGHTS = [SCALE, -0.5, 2**3]


def scaled(x):
    return SCALE * x * x + SHIFT * x + STEPS * RATE * x


def angles(x, y):
    return math.sin(HALF_PI * x) * MIXED + ROOT * y


def weighted(x):
    return WEIGHTS[0] * x + WEIGHTS[2] * x * x
