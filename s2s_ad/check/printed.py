"""The printed gradient, run in high precision: the code users run is what the check compares.

The generated source (`codegen.Generated.source`, plain Python calling
`math`) is parsed back and compiled once, with these changes, none of which
changes what a line computes, only the numbers it computes with:

- `import math` is dropped, and `math` (or the alias it was printed under)
  is `HighPrecisionMath`: each function of the math module as its mpmath
  counterpart at the working precision, raising where Python's raises
  (`math.log(0)`, `math.sqrt(-1)`), returning ints where Python's does
  (`math.floor`); so are the special functions the module defines for
  itself (`_digamma`: mpmath's digamma, not its float series);
- each float literal is a name bound to the exact number it stands for
  (`Constants`: `57.29577951308232` is 180/pi), as the other side reads it;
- `a / b`, `a ** b`, `a // b` and `a % b` are calls that compute as Python
  does, exactly where Python would round two ints to a float (`1 / 3`) and
  for mpmath numbers, which have no `//`;
- each loop body starts with a tick that stops the run at the deadline.

The builtins `float` and `round` keep mpmath numbers mpmath numbers; the
parameters arrive as mpmath numbers (ints for int parameters, lists of
them for list parameters) and the module-level data the code reads as
exact numbers. So the precedence the printer gave each expression, the
spelling it chose for each primitive, what it folded into what and every
statement it wrote are exercised; only floating point rounding is gone.

The same compiled code also runs with Python floats and the real math
module (`run(..., floats=True)`): where the high-precision run raises, that
tells the generated code's own exception from a limit of the emulation.
Functions of custom derivatives the code calls are compiled the same way
from their source where it can be found, and otherwise called as they are
(`in_floats` lists them: their results carry floating point rounding).
"""

from __future__ import annotations

import ast
import builtins
import copy
import functools
import math
import operator
import time
import types
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from .. import codegen, frontend
from ..errors import S2SError, UnsupportedError
from ..interpret import NeverEnds, OutOfTime
from ..rules import RULES, Rule
from .constants import Constants
from .evaluate import TRIG, in_range

LOOP_LIMIT = 1_000_000  # loop iterations of one run of the printed code at one point


class HighPrecisionMath:
    """`math` for mpmath numbers: the functions generated code calls, with Python's domain errors."""

    def __init__(self) -> None:
        import mpmath

        mp = mpmath
        self.mp = mp
        by_arity: dict[str, dict[int, Callable[..., Any]]] = {}
        for rule in RULES.values():  # each math function the rules call, as the rule computes it with mpmath
            for spelling in rule.names:
                if not spelling.startswith("math.") or rule.result in ("int", "bool"):
                    continue
                name = spelling.removeprefix("math.")
                made = rule.mpmath
                function = functools.partial(made, mp) if made is not None else getattr(mp, name, None)
                if function is not None:
                    by_arity.setdefault(name, {})[rule.arity] = function
        by_arity["sin"] = {1: TRIG.sin}  # computed once per argument, with the other sides'
        by_arity["cos"] = {1: TRIG.cos}
        self.functions = {name: self._real(name, _by_count(forms)) for name, forms in by_arity.items()}
        for name, rounding in (("floor", mp.floor), ("ceil", mp.ceil), ("trunc", lambda x: mp.mpf(int(x)))):
            self.functions[name] = self._whole(name, rounding)
        for name in ("isfinite", "isnan", "isinf"):
            self.functions[name] = getattr(mp, name)
        # Functions a generated module defines for itself that compute a special function in floats (`_digamma`,
        # a series good to about 1e-15): to the check, the function they approximate, as `math.gamma` is mpmath's
        # gamma here and not C's. (Their own accuracy is tested against mpmath in tests/test_builtins_math.py.)
        self.helpers = {
            spelling: self._real(spelling, functools.partial(rule.mpmath, mp))
            for rule in RULES.values()
            if rule.helper is not None and rule.mpmath is not None
            for spelling in rule.names
        }

    def _real(self, name: str, function: Callable[..., Any]) -> Callable[..., Any]:
        mp = self.mp

        def call(*args: Any) -> Any:
            numbers = [in_range(mp.mpf(a) if isinstance(a, bool | int) else a) for a in args]
            if any(isinstance(a, mp.mpc) for a in numbers):
                raise TypeError(f"math.{name}() takes real numbers")
            result = function(*numbers)
            finite = all(mp.isfinite(a) for a in numbers if not isinstance(a, list))  # (math.fsum takes a list)
            if isinstance(result, mp.mpc) or (not mp.isfinite(result) and finite):
                raise ValueError("math domain error")
            return in_range(result)

        call.__name__ = name
        return call

    def _whole(self, name: str, rounding: Callable[[Any], Any]) -> Callable[..., Any]:
        mp = self.mp

        def call(x: Any) -> int:
            if isinstance(x, bool | int):
                return int(x)
            if not mp.isfinite(x):
                raise ValueError(f"cannot convert {x} to integer") if mp.isnan(x) else OverflowError(f"math.{name}")
            return int(rounding(x))

        call.__name__ = name
        return call

    @property
    def pi(self) -> Any:
        return +self.mp.pi

    @property
    def e(self) -> Any:
        return +self.mp.e

    @property
    def tau(self) -> Any:
        return 2 * self.mp.pi

    @property
    def inf(self) -> Any:
        return self.mp.inf

    @property
    def nan(self) -> Any:
        return self.mp.nan

    def __getattr__(self, name: str) -> Any:
        try:
            return self.__dict__["functions"][name]
        except KeyError:
            raise AttributeError(f"the check has no high-precision math.{name}") from None


def _by_count(forms: dict[int, Callable[..., Any]]) -> Callable[..., Any]:
    """One function of several arities (`math.log(x)` and `math.log(x, base)` are two rules)."""
    if len(forms) == 1:
        return next(iter(forms.values()))
    return lambda *args: forms[len(args)](*args)


def _high_float(x: Any = 0.0) -> Any:
    """`float(x)`, keeping an mpmath number's digits."""
    import mpmath

    if isinstance(x, mpmath.mpf):
        return x
    if isinstance(x, mpmath.mpc):
        raise TypeError("float() argument must be a real number, not complex")
    return mpmath.mpf(x) if isinstance(x, bool | int | float | str) else mpmath.mpf(builtins.float(x))


def _high_round(x: Any, ndigits: Any = None) -> Any:
    """`round(x)`: to the nearest int, ties to even, as Python rounds; `round(x, n)` to n decimal places,
    keeping an mpmath number's digits (the nearest multiple of 10**-n, ties to even)."""
    import mpmath

    if isinstance(x, mpmath.mpf) and ndigits is not None:
        if isinstance(ndigits, mpmath.mpf) and ndigits == mpmath.floor(ndigits):  # an int read as a real number
            ndigits = int(ndigits)
        if not isinstance(ndigits, int):
            raise TypeError(f"'{type(ndigits).__name__}' object cannot be interpreted as an integer")
        if not mpmath.isfinite(x):
            return x  # round(inf, 2) is inf, as in Python
        scale = mpmath.mpf(10) ** ndigits
        return mpmath.nint(x * scale) / scale
    if ndigits is None and isinstance(x, mpmath.mpf):
        if not mpmath.isfinite(x):
            raise ValueError(f"cannot round {x}") if mpmath.isnan(x) else OverflowError("cannot round an infinity")
        return int(mpmath.nint(x))
    return builtins.round(x) if ndigits is None else builtins.round(x, ndigits)


def _truediv(x: Any, y: Any) -> Any:
    """`x / y`, exact for two ints too (Python rounds `1 / 3` to a float)."""
    import mpmath

    if isinstance(x, int) and isinstance(y, int):
        if y == 0:
            raise ZeroDivisionError("division by zero")
        return mpmath.mpf(x) / y
    return x / y


def _power(x: Any, y: Any) -> Any:
    """`x ** y`, exact for ints with a negative exponent too (Python rounds `3 ** -1` to a float)."""
    import mpmath

    if isinstance(x, int) and isinstance(y, int) and y < 0:
        if x == 0:
            raise ZeroDivisionError("0.0 cannot be raised to a negative power")
        return mpmath.mpf(x) ** y
    return x**y


def _floordiv(x: Any, y: Any) -> Any:
    """`x // y` as Python computes it, for mpmath numbers too."""
    import mpmath

    if isinstance(x, int) and isinstance(y, int):
        return x // y
    if y == 0:
        raise ZeroDivisionError("float floor division by zero")
    return mpmath.floor(x / y)


def _mod(x: Any, y: Any) -> Any:
    """`x % y` as Python computes it (the sign of the divisor), for mpmath numbers too."""
    import mpmath

    if isinstance(x, int) and isinstance(y, int):
        return x % y
    if y == 0:
        raise ZeroDivisionError("float modulo")
    return x - y * mpmath.floor(x / y)


class Ticker:
    """Called at the top of every loop body: stops a run at the deadline, or past `LOOP_LIMIT`."""

    def __init__(self, deadline: float) -> None:
        self.deadline = deadline
        self.count = 0

    def __call__(self) -> None:
        self.count += 1
        if self.count & 255 == 0 and time.monotonic() > self.deadline:
            raise OutOfTime()
        if self.count > LOOP_LIMIT:
            raise NeverEnds(f"the generated code ran more than {LOOP_LIMIT} loop iterations here")


# Operators computed by a function: mpmath numbers have no `//`; ints divide exactly.
_OPERATORS = {ast.Div: "_truediv", ast.Pow: "_power", ast.FloorDiv: "_floordiv", ast.Mod: "_mod"}
_FLOAT_OPERATORS = {"_truediv": operator.truediv, "_power": operator.pow, "_floordiv": operator.floordiv, "_mod": operator.mod}


class _ReadBack(ast.NodeTransformer):
    """The printed code with float literals named, `/`, `**`, `//` and `%` as calls, and a tick in each loop."""

    def __init__(self) -> None:
        self.literals: list[float] = []  # `_k{i}` stands for literals[i]
        self.index: dict[tuple[float, float], int] = {}
        self.math_names: set[str] = set()

    def visit_Import(self, node: ast.Import) -> None:  # noqa: N802 - ast's name
        if any(alias.name != "math" for alias in node.names):
            raise UnsupportedError(f"the check cannot run generated code that imports {ast.unparse(node)!r}")
        self.math_names.update(alias.asname or "math" for alias in node.names)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:  # noqa: N802
        raise UnsupportedError(f"the check cannot run generated code that imports {ast.unparse(node)!r}")

    def visit_Constant(self, node: ast.Constant) -> ast.AST:  # noqa: N802
        if not isinstance(node.value, float) or not math.isfinite(node.value):
            return node
        key = (node.value, math.copysign(1.0, node.value))
        if key not in self.index:
            self.index[key] = len(self.literals)
            self.literals.append(node.value)
        return ast.copy_location(ast.Name(f"_k{self.index[key]}", ast.Load()), node)

    def visit_BinOp(self, node: ast.BinOp) -> ast.AST:  # noqa: N802
        self.generic_visit(node)
        function = _OPERATORS.get(type(node.op))
        if function is None:
            return node
        return _located(ast.Call(ast.Name(function, ast.Load()), [node.left, node.right], []), node)

    def visit_AugAssign(self, node: ast.AugAssign) -> ast.AST:  # noqa: N802
        self.generic_visit(node)
        function = _OPERATORS.get(type(node.op))
        if function is None:
            return node
        read = copy.deepcopy(node.target)
        for part in ast.walk(read):
            if hasattr(part, "ctx"):
                part.ctx = ast.Load()
        call = ast.Call(ast.Name(function, ast.Load()), [read, node.value], [])
        return _located(ast.Assign([node.target], call), node)

    def visit_For(self, node: ast.For) -> ast.AST:  # noqa: N802
        return self._ticking(node)

    def visit_While(self, node: ast.While) -> ast.AST:  # noqa: N802
        return self._ticking(node)

    def _ticking(self, node: ast.For | ast.While) -> ast.AST:
        self.generic_visit(node)
        tick = ast.Expr(ast.Call(ast.Name("_tick", ast.Load()), [], []))
        node.body.insert(0, _located(tick, node))
        return node


def _located(node: ast.AST, like: ast.AST) -> Any:
    """A node made for `like`, with its location, and its parts too."""
    return ast.fix_missing_locations(ast.copy_location(node, like))


def _read_back(tree: ast.Module, filename: str) -> tuple[types.CodeType, _ReadBack]:
    reader = _ReadBack()
    tree = reader.visit(tree)  # every node it made has its location (fixing the whole tree costs as much)
    return compile(tree, filename, "exec"), reader


class PrintedCode:
    """The generated function, compiled once, run at a point in high precision (or in floats)."""

    def __init__(
        self, generated: codegen.Generated, data: Mapping[str, object], rules: Mapping[str, Rule], constants: Constants
    ) -> None:
        self.name = generated.name
        self.source = generated.source
        self.constants = constants
        self.code, reader = _read_back(ast.parse(self.source), f"<s2s_ad check of {generated.name}>")
        self.literals = tuple(reader.literals)
        self.math_names = reader.math_names or {"math"}
        self.data = dict(data)
        for name in generated.globals:
            if name not in self.data:
                raise UnsupportedError(f"the check has no value for the module-level data '{name}'")
        self.callables = {name: function for rule in rules.values() for name, function in rule.callables}
        self.helpers = {name: _Helper.of(function) for name, function in self.callables.items() if name in self.code_names()}
        self.in_floats = tuple(sorted(name for name, helper in self.helpers.items() if helper is None))

    def code_names(self) -> set[str]:
        names: set[str] = set()
        stack = [self.code]
        while stack:
            code = stack.pop()
            names.update(code.co_names)
            stack.extend(c for c in code.co_consts if isinstance(c, types.CodeType))
        return names

    def run(self, args: Sequence[Any], deadline: float, perturbed: frozenset[float] = frozenset(), floats: bool = False) -> Any:
        """The generated function's result for `args`; with `floats`, as Python computes it.

        `perturbed` float literals are read 2**-50 off (how much the result moves measures their
        rounding). The mpmath precision is the caller's.
        """
        namespace = self.namespace(deadline, perturbed, floats)
        exec(self.code, namespace)  # noqa: S102 - generated code, read back
        if not floats:  # the special functions the module defines (`_digamma`), as mpmath computes them
            namespace.update(high_precision_math().helpers)
        return namespace[self.name](*args)

    def namespace(self, deadline: float, perturbed: frozenset[float], floats: bool) -> dict[str, Any]:
        ticker = Ticker(deadline)
        if floats:
            space: dict[str, Any] = {"__builtins__": builtins, **_FLOAT_OPERATORS}
            space.update({f"_k{i}": v for i, v in enumerate(self.literals)})
            space.update({name: math for name in self.math_names})
            space.update(self.data)
            space.update(self.callables)
        else:
            space = high_precision_namespace(self.constants, self.literals, perturbed)
            space.update({name: space["math"] for name in self.math_names})
            space.update({name: self.high_data(value) for name, value in self.data.items()})
            for name, function in self.callables.items():
                helper = self.helpers.get(name)
                space[name] = helper.bind(self.constants, ticker) if helper is not None else function
        space["_tick"] = ticker
        return space

    def high_data(self, value: object) -> Any:
        """Module-level data as the exact numbers the other side reads (ints and truth values stay)."""
        if isinstance(value, list | tuple):
            return [self.high_data(v) for v in value]
        return self.constants.mpmath(value) if isinstance(value, float) else value


def high_precision_namespace(constants: Constants, literals: Sequence[float], perturbed: frozenset[float]) -> dict[str, Any]:
    """Globals for read-back code: the high-precision `math`, builtins and floor operations, and the literals
    at the working precision (`perturbed` ones 2**-50 off)."""
    import mpmath

    space: dict[str, Any] = {
        "__builtins__": builtins,
        "math": high_precision_math(),
        "float": _high_float,
        "round": _high_round,
        "_truediv": _truediv,
        "_power": _power,
        "_floordiv": _floordiv,
        "_mod": _mod,
    }
    nudge = 1 + mpmath.mpf(2) ** -50
    for i, value in enumerate(literals):
        number = constants.mpmath(value)
        space[f"_k{i}"] = number * nudge if value in perturbed else number
    return space


@functools.cache
def high_precision_math() -> HighPrecisionMath:
    return HighPrecisionMath()


class _Helper:
    """A function a custom derivative calls, read back like the generated code (from its own source)."""

    def __init__(self, function: types.FunctionType, code: types.CodeType, literals: Sequence[float]) -> None:
        self.function = function
        self.code = code
        self.literals = tuple(literals)

    @staticmethod
    def of(function: Callable[..., Any]) -> _Helper | None:
        """Read back, or None (run in floats) when its source cannot be found or it closes over names."""
        if not isinstance(function, types.FunctionType) or function.__closure__:
            return None
        try:
            node = copy.deepcopy(frontend.from_function(function).node)
        except (S2SError, OSError, TypeError):
            return None
        if not isinstance(node, ast.FunctionDef):
            return None
        node.decorator_list = []
        code, reader = _read_back(ast.Module([node], []), f"<s2s_ad check of {function.__name__}>")
        return _Helper(function, code, reader.literals)

    def bind(self, constants: Constants, ticker: Ticker) -> Callable[..., Any]:
        """The function, defined again in its module's globals with the high-precision names."""
        space = dict(self.function.__globals__)
        high = high_precision_namespace(constants, self.literals, frozenset())
        for name, value in list(space.items()):
            called = getattr(value, "__name__", "") if isinstance(value, types.BuiltinFunctionType) else ""
            if value is math:
                space[name] = high["math"]
            elif called and getattr(math, called, None) is value:
                space[name] = getattr(high["math"], called)  # from math import sin
            elif isinstance(value, float) and math.isfinite(value):
                space[name] = constants.mpmath(value)
            elif isinstance(value, list) and value and all(isinstance(v, float) for v in value):
                space[name] = [constants.mpmath(v) for v in value]
        space.update(high)
        space["_tick"] = ticker
        exec(self.code, space)  # noqa: S102 - the user's own function, read back
        bound = space[self.function.__name__]
        bound.__defaults__ = self.function.__defaults__
        return bound
