"""A small model for the command-line tests: straight-line functions only."""

import math as m
from math import exp

SCALE = 2.5
OFFSET = -0.25


def square(a):
    return a * a


def loss(w, b):
    z = w * SCALE + b + OFFSET
    return m.sin(z) + square(w) + exp(b) / (1 + w * w)


def energy(x):
    return math.tanh(x) ** 2 + math.log(1 + x * x)


import math  # noqa: E402 - imported late on purpose: names resolve from the whole module
