"""Shared helpers for the tests: an independent numeric truth for gradients."""

from __future__ import annotations

from collections.abc import Callable, Sequence


def central_difference(f: Callable[..., float], args: Sequence[float], i: int, h: float = 1e-6) -> float:
    """d f / d args[i] by a central finite difference (an independent truth)."""
    up = list(args)
    down = list(args)
    up[i] += h
    down[i] -= h
    return (f(*up) - f(*down)) / (2 * h)


def numeric_gradient(f: Callable[..., float], args: Sequence[float], h: float = 1e-6) -> tuple[float, ...]:
    return tuple(central_difference(f, args, i, h) for i in range(len(args)))
