"""A module-level number the command line cannot compute without running the file."""

import math

LIMIT = int(input())
HUGE = 2**10**9


def limited(x):
    return LIMIT * x


def huge(x):
    return HUGE * x


def fine(x):
    return math.exp(x)
