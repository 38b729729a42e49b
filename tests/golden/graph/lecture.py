"""Inputs of tests/test_graph.py: the functions whose pictures are golden-tested (keep the line numbers)."""

import math


def circuit(x, y, z):
    return (x + y) * max(y, z)


def sums_product(a, b):
    c = a + b
    d = b + 1
    e = c * d
    return e


def halving(x, n):
    s = 0.0
    for i in range(n):
        s = s + x * i
        if s > 3:
            s = s * 0.5
    return s


def norm(xs):
    t = 0.0
    for v in xs:
        t = t + v**2
    return math.sqrt(t)


def doubling(x):
    while x < 10:
        x = x * 2
    return x


def neuron(w0, x0, w1, x1, w2):
    return 1 / (1 + math.exp(-(w0 * x0 + w1 * x1 + w2)))
