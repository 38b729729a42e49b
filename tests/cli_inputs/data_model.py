"""A model that reads a module-level list: the written gradient imports it from here."""

WEIGHTS = [2.5, -0.25]


def square(a):
    return a * a


def loss(w, b):
    z = w * WEIGHTS[0] + b + WEIGHTS[1]
    return math.sin(z) + square(w) + math.exp(b) / (1 + w * w)


def energy(x):
    return WEIGHTS[0] * math.tanh(x) ** 2


import math  # noqa: E402 - imported late on purpose: names resolve from the whole module
