"""Names that cannot be resolved without importing other modules."""

import math

import numpy as np
from mylib import scale


def scaled(x):
    return scale * x


def numpy_sort(x):
    return np.sort(x)


def fine(x):
    return math.sqrt(x)
