"""The cross-check of a function on NumPy arrays: the printed gradient, element by element, in high precision.

The arrays get the shapes of example arguments. Every element of every array
differentiated is a coordinate. Both sides run in mpmath at `DIGITS` digits, on
NumPy arrays of mpmath numbers:

- ours: the printed gradient, the code users run;
- the truth: the user's own function (its source, compiled again with NumPy
  replaced as below; the printed primal where that cannot be done: a closure,
  helpers of other modules), differentiated in each coordinate by
  `mpmath.diff` (differences extrapolated to the limit at the working
  precision), which is independent of every derivative rule and of every
  spelling s2s_ad prints.

NumPy itself stands behind both as `HighPrecisionNumpy`. It computes each
elementwise function element by element with mpmath, as the scalar rule's
high-precision form does, and linear algebra with mpmath's matrices. What only
moves or adds numbers (`@`, `sum`, `reshape`, indexing, `np.add.at`) is
NumPy's own, on arrays of objects. A wrong adjoint (a transposed product, a
broadcast not summed back) is a difference of the size of the derivative. So
the tolerance, `RTOL` relative to the derivatives' size, leaves room only for
the differences' own error.
"""

from __future__ import annotations

import ast
import random
import textwrap
import time
import types
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from .. import codegen, ir
from ..errors import S2SError
from ..rules import RULES, Rule
from .report import Entry, Report

DIGITS = 50
RTOL = 1e-20  # mpmath.diff at 50 digits is good to about 40
MOST_ELEMENTS = 24  # coordinates compared per parameter and point (a random choice of them beyond that)


class HighPrecisionNumpy:
    """`np` for arrays of mpmath numbers: elementwise functions computed with mpmath, the rest NumPy's own."""

    def __init__(self, rules: Mapping[str, Rule]) -> None:
        import mpmath
        import numpy

        self.numpy, self.mp = numpy, mpmath
        elementwise: dict[str, Callable[..., Any]] = {}
        for op, rule in rules.items():  # each scalar rule's NumPy counterpart, with the scalar rule's mpmath form
            if rule.on_arrays is None or not rules[rule.on_arrays].python.startswith("numpy."):
                continue
            name = rules[rule.on_arrays].python.split("(", 1)[0].removeprefix("numpy.")
            scalar = op if rule.names else None
            made = rule.mpmath
            if made is not None:
                elementwise[name] = _curried(made, mpmath)
            elif scalar is not None and rule.names[0].startswith("math."):
                function = getattr(mpmath, rule.names[0].removeprefix("math."), None)
                if function is not None:
                    elementwise[name] = function
        elementwise.update(
            sign=mpmath.sign,
            heaviside=lambda x, h: mpmath.mpf(1) if x > 0 else (h if x == 0 else mpmath.mpf(0)),
            logaddexp=lambda x, y: mpmath.log(mpmath.exp(x) + mpmath.exp(y)),
            arctan2=mpmath.atan2,
            hypot=mpmath.hypot,
            power=mpmath.power,
            abs=abs,
            fabs=abs,
        )
        self.elementwise = {name: numpy.vectorize(f, otypes=[object]) for name, f in elementwise.items()}
        self.linalg = _Linalg(numpy, mpmath)

    def __getattr__(self, name: str) -> Any:
        if name in self.elementwise:
            return self.elementwise[name]
        if name in _MADE:  # arrays of objects: a number written into one keeps its digits
            made = getattr(self.numpy, name)
            return lambda *args, **kwargs: made(*args, **{**kwargs, "dtype": object})
        return getattr(self.numpy, name)


_MADE = frozenset({"zeros", "ones", "zeros_like", "ones_like", "full", "full_like", "eye", "empty", "empty_like"})


class _Linalg:
    """`np.linalg` for arrays of mpmath numbers, with mpmath's matrices."""

    def __init__(self, numpy: Any, mpmath: Any) -> None:
        self.np, self.mp = numpy, mpmath

    def _matrix(self, a: Any) -> Any:
        return self.mp.matrix(a.tolist())

    def _array(self, m: Any, shape: tuple[int, ...]) -> Any:
        return self.np.array(m.tolist(), dtype=object).reshape(shape)

    def det(self, a: Any) -> Any:
        return self.mp.det(self._matrix(a))

    def inv(self, a: Any) -> Any:
        return self._array(self.mp.inverse(self._matrix(a)), a.shape)

    def solve(self, a: Any, b: Any) -> Any:
        columns = b.reshape(b.shape[0], -1)
        solved = self.mp.lu_solve(self._matrix(a), self.mp.matrix(columns.tolist()))
        return self._array(solved, b.shape)

    def norm(self, x: Any, axis: int | None = None, keepdims: bool = False) -> Any:
        if axis is None and not keepdims:
            return self.mp.sqrt(sum(v * v for v in x.ravel()))
        squares = (x * x).sum(axis=axis, keepdims=keepdims)
        return self.np.frompyfunc(self.mp.sqrt, 1, 1)(squares)


def _curried(made: Callable[..., Any], mp: Any) -> Callable[..., Any]:
    return lambda *args: made(mp, *args)


def check_arrays(
    name: str,
    primal: ir.Function,
    derived: ir.Function,
    wrt: tuple[str, ...],
    args: Sequence[object],
    rules: Mapping[str, Rule] = RULES,
    *,
    budget: float = 3.0,
    points: int = 3,
    seed: int | None = None,
    user: Callable[..., Any] | None = None,
    bare: bool = True,
) -> Report:
    """Compare the printed gradient with the high-precision derivative of the user's function `user` (of the
    printed primal without it) at `points` points: the example arguments `args`, and others drawn at their shapes.
    `bare`: the gradient is returned as it is (`wrt="W"`), not in a tuple (`wrt=("W",)`)."""
    import mpmath
    import numpy

    deadline = time.monotonic() + budget
    shim = HighPrecisionNumpy(rules)
    gradient = _compiled(derived, rules, shim)
    recompiled = _recompiled(user, shim) if user is not None else None
    function = recompiled or _compiled(primal, rules, shim)
    params = [p.name for p in primal.params]
    rng = random.Random(seed)
    worst: dict[str, float] = dict.fromkeys(wrt, 0.0)
    compared: dict[str, int] = dict.fromkeys(wrt, 0)
    complete: dict[str, int] = dict.fromkeys(wrt, 0)  # points at which every element chosen was compared
    lost: set[str] = set()  # parameters whose truth did not agree with the function's own differences
    failure: dict[str, str] = {}
    notes: list[str] = []
    with mpmath.workdps(DIGITS):
        for k in range(points):
            if time.monotonic() > deadline:
                notes.append(f"out of time after {k} point(s)")
                break
            floats = list(args if k == 0 else _drawn(args, rng, numpy))
            point: list[Any] = [_high(a, numpy, mpmath) for a in floats]
            try:
                ours = gradient(*point)
                function(*point)
            except (ArithmeticError, ValueError, S2SError) as exc:
                notes.append(f"a point rejected: {type(exc).__name__}: {exc}")
                continue
            parts = (ours,) if bare else ours
            for param, part in zip(wrt, parts):
                index = params.index(param)
                cells = list(numpy.ndindex(numpy.shape(point[index])))
                for cell in rng.sample(cells, min(MOST_ELEMENTS, len(cells))):
                    if time.monotonic() > deadline:
                        notes.append("out of time: fewer elements compared")
                        break
                    truth = _truth(function, point, index, cell, numpy, mpmath)
                    if recompiled is not None and user is not None and not _plausible(user, floats, index, cell, truth, numpy):
                        lost.add(param)  # the function lost its digits in high precision (`.astype(float)`)
                        continue
                    value = numpy.asarray(part, dtype=object)[cell] if cells != [()] else part
                    scale = max(1, abs(truth), abs(value))
                    difference = float(abs(truth - value) / scale)
                    worst[param] = max(worst[param], difference)
                    compared[param] += 1
                    if difference > RTOL and param not in failure:
                        shown = (mpmath.nstr(truth, 17), mpmath.nstr(value, 17))
                        failure[param] = f"at {param}{list(cell)}: the derivative is {shown[0]}, the gradient {shown[1]}"
                else:
                    complete[param] += 1
    entries = []
    for param in wrt:
        verdict = "fail" if param in failure else "undecided" if param in lost or not complete[param] else "pass"
        entries.append(
            Entry(
                param,
                None,
                None,
                f"numeric (high-precision differences, {compared[param]} element(s))",
                verdict,
                max_difference=worst[param] if compared[param] else None,
                note=failure.get(param, "")
                or (
                    "the function, run in high precision, does not agree with its own differences in floats"
                    if param in lost
                    else ""
                ),
                missing="an array, element by element",
            )
        )
    truth = "the high-precision derivative of " + ("the function" if recompiled else "the printed primal")
    return Report(name, tuple(params), None, tuple(entries), tuple(dict.fromkeys(notes)), truth=truth)


def _compiled(function: ir.Function, rules: Mapping[str, Rule], shim: HighPrecisionNumpy) -> Callable[..., Any]:
    """The printed function (and the helpers its spellings call), with `np` and `math` bound to high precision,
    and each `/` and `**` computed in high precision where Python would round two plain numbers (`-1.0 / n`)."""
    import mpmath

    generated = codegen.generate(function, rules)
    namespace: dict[str, object] = {"np": shim, "_np": shim, "math": mpmath, "_math": mpmath, "_exact": _exact(mpmath)}
    namespace["__builtins__"] = _high_precision_builtins(shim)
    for source in (*generated.helpers, generated.function):
        tree = ast.fix_missing_locations(_Exactly().visit(ast.parse(source)))
        exec(compile(tree, f"<s2s_ad check {generated.name}>", "exec"), namespace)  # noqa: S102 - our own generated code
    return namespace[generated.name]  # type: ignore[return-value]


def _high_precision_builtins(shim: HighPrecisionNumpy) -> dict[str, Any]:
    """Python's builtins for code run in high precision: `import numpy` (a helper's) gives the shim."""
    import builtins

    real_import = builtins.__import__

    def importing(name: str, *args: Any, **kwargs: Any) -> Any:
        return shim if name == "numpy" else real_import(name, *args, **kwargs)

    return {**vars(builtins), "__import__": importing}


def _recompiled(user: Callable[..., Any], shim: HighPrecisionNumpy) -> Callable[..., Any] | None:
    """The user's function compiled again from its source, reading `shim` wherever it read NumPy (and its own
    module's helpers compiled so too); None for what cannot be: a closure, a function without source."""
    import numpy

    code = getattr(user, "__code__", None)
    if code is None or code.co_freevars:
        return None
    import mpmath

    namespace: dict[str, Any] = dict(user.__globals__)
    namespace["_exact"] = _exact(mpmath)
    namespace["__builtins__"] = _high_precision_builtins(shim)
    for key, value in list(namespace.items()):
        if value is numpy:
            namespace[key] = shim
        elif value is numpy.linalg:
            namespace[key] = shim.linalg
        elif callable(value) and vars(numpy).get(name := str(getattr(value, "__name__", ""))) is value:
            namespace[key] = getattr(shim, name)
    try:
        import inspect

        for helper in [v for v in namespace.values() if _same_module_function(v, user)] + [user]:
            tree = ast.parse(textwrap.dedent(inspect.getsource(helper)))
            definition = tree.body[0]
            if isinstance(definition, ast.FunctionDef):
                definition.decorator_list = []
            exact = ast.fix_missing_locations(_Exactly().visit(tree))
            exec(compile(exact, f"<s2s_ad check {helper.__name__}>", "exec"), namespace)  # noqa: S102
    except (OSError, TypeError, SyntaxError):
        return None
    found = namespace.get(user.__name__)
    return found if callable(found) else None


def _same_module_function(value: object, user: Callable[..., Any]) -> bool:
    return isinstance(value, types.FunctionType) and value.__module__ == user.__module__ and not value.__code__.co_freevars


class _Exactly(ast.NodeTransformer):
    """`a / b` -> `_exact["/"](a, b)`, and so for `**`; `float(x)` -> `_exact["float"](x)`, which keeps a
    high-precision number (`float(a[0])` of an array element) as a float keeps a float."""

    def visit_Call(self, node: ast.Call) -> ast.AST:
        self.generic_visit(node)
        if isinstance(node.func, ast.Name) and node.func.id == "float" and len(node.args) == 1 and not node.keywords:
            function = ast.Subscript(ast.Name("_exact", ast.Load()), ast.Constant("float"), ast.Load())
            return ast.copy_location(ast.Call(function, node.args, []), node)
        return node

    def visit_BinOp(self, node: ast.BinOp) -> ast.AST:
        self.generic_visit(node)
        symbol = {ast.Div: "/", ast.Pow: "**"}.get(type(node.op))
        if symbol is None:
            return node
        function = ast.Subscript(ast.Name("_exact", ast.Load()), ast.Constant(symbol), ast.Load())
        return ast.copy_location(ast.Call(function, [node.left, node.right], []), node)


def _exact(mpmath: Any) -> dict[str, Callable[..., Any]]:
    def high(value: Any) -> Any:
        return (
            mpmath.mpf(value) if isinstance(value, float) or (isinstance(value, int) and not isinstance(value, bool)) else value
        )

    def power(a: Any, b: Any) -> Any:
        if isinstance(a, int) and isinstance(b, int) and b >= 0:
            return a**b  # an int, as Python computes it
        return high(a) ** b if isinstance(b, int) else high(a) ** high(b)

    def to_float(value: Any) -> Any:
        if getattr(value, "shape", None) == () and getattr(getattr(value, "dtype", None), "kind", "") == "O":
            value = value.item()  # a 0-d array of a high-precision number
        return value if isinstance(value, mpmath.mpf) else float(value)

    return {"/": lambda a, b: high(a) / high(b), "**": power, "float": to_float}


def _high(value: object, numpy: Any, mpmath: Any) -> object:
    """An argument in high precision: an array of floats as an array of mpmath numbers, a float as one."""
    if isinstance(value, numpy.ndarray):
        if value.dtype.kind == "f":
            return numpy.vectorize(mpmath.mpf, otypes=[object])(value) if value.size else value.astype(object)
        return value
    if isinstance(value, float):
        return mpmath.mpf(value)
    return value


def _plausible(user: Callable[..., Any], floats: list[Any], index: int, cell: tuple[int, ...], truth: Any, numpy: Any) -> bool:
    """Whether the high-precision derivative agrees, to float accuracy, with a central difference of the
    user's function run as it is, in floats: a function that drops to floats on the way (`x.astype(float)`)
    would make the truth of the high-precision run wrong, and must not make the check pass."""
    base = floats[index]
    start = float(base) if numpy.ndim(base) == 0 else float(numpy.asarray(base)[cell])
    step = 1e-6 * max(1.0, abs(start))
    values = []
    for sign in (1, -1):
        moved = list(floats)
        if numpy.ndim(base) == 0:
            moved[index] = start + sign * step
        else:
            changed = numpy.array(base, dtype=float)
            changed[cell] = start + sign * step
            moved[index] = changed
        try:
            values.append(float(user(*moved)))
        except (ArithmeticError, ValueError, TypeError):
            return True  # no float difference to compare with: nothing says the truth is wrong
    difference = (values[0] - values[1]) / (2 * step)
    return abs(difference - float(truth)) <= 1e-4 * max(1.0, abs(difference), abs(float(truth)))


def _drawn(args: Sequence[object], rng: random.Random, numpy: Any) -> list[object]:
    """Another point: each float array's elements moved by up to a tenth of their size (at least 0.1)."""
    moved: list[object] = []
    for value in args:
        if isinstance(value, numpy.ndarray) and value.dtype.kind == "f":
            noise = numpy.array([rng.uniform(-0.1, 0.1) for _ in range(value.size)]).reshape(value.shape)
            moved.append(value + noise * numpy.maximum(numpy.abs(value), 1.0))
        elif isinstance(value, float):
            moved.append(value + rng.uniform(-0.1, 0.1) * max(abs(value), 1.0))
        else:
            moved.append(value)
    return moved


def _truth(function: Callable[..., Any], point: list[object], index: int, cell: tuple[int, ...], numpy: Any, mpmath: Any) -> Any:
    """d function / d (element `cell` of argument `index`), by mpmath's extrapolated differences."""
    base = point[index]

    def along(t: Any) -> Any:
        if numpy.ndim(base) == 0:
            moved: object = t
        else:
            moved = numpy.array(base, dtype=object)
            moved[cell] = t  # type: ignore[index]
        values = list(point)
        values[index] = moved
        return function(*values)

    start = base if numpy.ndim(base) == 0 else numpy.asarray(base, dtype=object)[cell]
    return mpmath.diff(along, start)
