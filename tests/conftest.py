"""Shared helpers for the tests: an independent numeric truth for gradients."""

from __future__ import annotations

import hashlib
import importlib.util
import math
import struct
import sys
import types
from collections.abc import Callable, Sequence
from pathlib import Path


def central_difference(f: Callable[..., float], args: Sequence[float], i: int, h: float = 1e-6) -> float:
    """d f / d args[i] by a central finite difference (an independent truth)."""
    up = list(args)
    down = list(args)
    up[i] += h
    down[i] -= h
    return (f(*up) - f(*down)) / (2 * h)


def numeric_gradient(f: Callable[..., float], args: Sequence[float], h: float = 1e-6) -> tuple[float, ...]:
    return tuple(central_difference(f, args, i, h) for i in range(len(args)))


def import_file(path: Path, name: str) -> types.ModuleType:
    """Import a file as a module called `name`, as a user's code would be imported."""
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def import_source(source: str, directory: Path, prefix: str = "s2s_test_") -> types.ModuleType:
    """Write `source` into `directory` as a module (so inspect can read its functions back) and import it."""
    name = prefix + hashlib.sha1(source.encode()).hexdigest()[:16]
    path = directory / f"{name}.py"
    path.write_text(source)
    return import_file(path, name)


def bits(value: object) -> tuple[str, object]:
    """A value as something `==` compares bit for bit: -0.0 differs from 0.0, 1 from 1.0; nan equals nan."""
    if isinstance(value, float):
        return ("float", "nan" if math.isnan(value) else struct.pack("<d", value).hex())
    if isinstance(value, (tuple, list)):
        return (type(value).__name__, tuple(bits(v) for v in value))
    return (type(value).__name__, repr(value))
