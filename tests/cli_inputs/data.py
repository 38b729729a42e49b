"""A function reading module-level data."""

COEFFS = [2.0, -1.0, 0.5]


def poly(x):
    return COEFFS[0] + COEFFS[1] * x + COEFFS[2] * x * x
