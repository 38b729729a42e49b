"""The order of reverse loops: a reverse loop runs forwards only when its iterations are independent.

`_Reverse.loop` lets the reverse (adjoint) loop of a `for` run `for i in range(n)` instead of
`for i in reversed(range(n))` when every carried adjoint passes through an iteration unchanged (the
loop only accumulates) and the reverse body takes back from the tape only what it recorded itself,
changes adjoint lists only by adding into them and assigns only pure values. A wrong decision gives a
wrong gradient, so every program here, many of them just across that boundary (carried values updated
other than by adding, reads of earlier iterations, lists written then read, append/pop, break,
continue, while, nested loops, branches, helpers), is checked against truths independent of s2s_ad:
central finite differences with a relative step, and SymPy for short branch-free loops unrolled
symbolically. `grad` and `value_and_grad` (which tapes what `grad` computes again) must agree up to
rounding, and `value_and_grad`'s value must be the function's own value bit for bit. For a few clear
cases the generated source is inspected for the direction of its reverse loop.
"""

from __future__ import annotations

import copy
import inspect
import math
import struct
import types
from collections.abc import Callable, Sequence
from typing import Any

import pytest
import sympy

from s2s_ad import check, grad, hessian, jvp, value_and_grad

# -- helpers ---------------------------------------------------------------------------------------------------


def bits(value: object) -> object:
    """A value as something `==` compares bit for bit (-0.0 differs from 0.0; nan equals nan)."""
    if isinstance(value, float):
        return ("float", "nan" if math.isnan(value) else struct.pack("<d", value).hex())
    if isinstance(value, (tuple, list)):
        return (type(value).__name__, tuple(bits(v) for v in value))
    return (type(value).__name__, repr(value))


def _at(args: Sequence[Any], path: tuple[int, ...]) -> Any:
    holder: Any = args
    for p in path:
        holder = holder[p]
    return holder


def _moved(args: Sequence[Any], path: tuple[int, ...], delta: float) -> list[Any]:
    new = copy.deepcopy(list(args))
    holder: Any = new
    for p in path[:-1]:
        holder = holder[p]
    holder[path[-1]] += delta
    return new


def numeric(f: Callable[..., float], args: Sequence[Any], path: tuple[int, ...]) -> Any:
    """d f / d (the argument at `path`) by central differences with a relative step; a list for a list.

    The step is h = eps ** (1/3) * max(1, |v|), rounded so that v + h - v is exactly h, and the
    difference quotient is Richardson-extrapolated from steps h and h/2 (error O(h^4))."""
    value = _at(args, path)
    if isinstance(value, list):
        return [numeric(f, args, (*path, k)) for k in range(len(value))]
    h = 6e-6 * max(1.0, abs(value))
    h = (value + h) - value

    def quotient(step: float) -> float:
        return (f(*_moved(args, path, step)) - f(*_moved(args, path, -step))) / (2 * step)

    return (4 * quotient(h / 2) - quotient(h)) / 3


def assert_close(got: Any, want: Any, rel: float, abs_: float) -> None:
    if isinstance(want, (list, tuple)):
        assert isinstance(got, (list, tuple)) and len(got) == len(want), (got, want)
        for g, w in zip(got, want):
            assert_close(g, w, rel, abs_)
        return
    assert isinstance(got, (int, float)) and not isinstance(got, bool), (got, want)
    assert got == pytest.approx(want, rel=rel, abs=abs_), (got, want)


def magnitude(value: Any) -> float:
    if isinstance(value, (list, tuple)):
        return max((magnitude(v) for v in value), default=0.0)
    return abs(value)


def names_of(f: Callable[..., Any], wrt: Sequence[int]) -> tuple[str, ...]:
    params = tuple(inspect.signature(f).parameters)
    return tuple(params[i] for i in wrt)


def check_loop(
    f: Callable[..., float], args: Sequence[Any], wrt: Sequence[int] = (0,), rel: float = 2e-7, symbolic: bool = False
) -> tuple[Any, ...]:
    """grad(f) against value_and_grad(f), central differences and (with `symbolic`) SymPy."""
    wrt_names = names_of(f, wrt)
    original = copy.deepcopy(list(args))
    g = grad(f, wrt=wrt_names)(*copy.deepcopy(original))  # a tuple, as `wrt` is one
    value, g2 = value_and_grad(f, wrt=wrt_names)(*copy.deepcopy(original))
    assert bits(value) == bits(f(*copy.deepcopy(original))), "value_and_grad's value is the function's own value"
    assert isinstance(g, tuple) and len(g) == len(wrt)
    assert_close(g, g2, 1e-12, 1e-300)
    want = tuple(numeric(f, original, (i,)) for i in wrt)
    scale = max(1.0, magnitude(want))
    assert_close(g, want, rel, rel * scale)
    if symbolic:
        assert_close(g, sympy_gradient(f, original, wrt), 1e-12, 1e-12 * scale)
    assert list(args) == original, "the gradient does not change its arguments"
    return g


SYMPY_MATH = types.SimpleNamespace(
    sin=sympy.sin,
    cos=sympy.cos,
    tan=sympy.tan,
    exp=sympy.exp,
    log=sympy.log,
    sqrt=sympy.sqrt,
    tanh=sympy.tanh,
    atan=sympy.atan,
    sinh=sympy.sinh,
    cosh=sympy.cosh,
    pi=sympy.pi,
    log1p=lambda a: sympy.log(1 + a),
    expm1=lambda a: sympy.exp(a) - 1,
)


def symbolic(f: Callable[..., Any]) -> Callable[..., Any]:
    """`f` reading `math` as SymPy, and so do the functions of this module it calls."""
    namespace = {**f.__globals__, "math": SYMPY_MATH}
    for name, value in f.__globals__.items():
        if isinstance(value, types.FunctionType) and value.__module__ == f.__module__:
            namespace[name] = types.FunctionType(value.__code__, namespace, value.__name__, value.__defaults__)
    return namespace[f.__name__]


def sympy_gradient(f: Callable[..., Any], args: Sequence[Any], wrt: Sequence[int]) -> tuple[Any, ...]:
    """The gradient from SymPy: `f` run on symbols (its loops unrolled by running them, `math` read as SymPy),
    then differentiated exactly and evaluated at `args` with 30 digits."""
    symbolic_args: list[Any] = copy.deepcopy(list(args))
    point: dict[sympy.Symbol, float] = {}
    symbols: list[Any] = []

    def symbolize(value: Any, name: str) -> Any:
        if isinstance(value, list):
            return [symbolize(v, f"{name}_{k}") for k, v in enumerate(value)]
        s = sympy.Symbol(name, real=True)
        point[s] = value
        return s

    for i in wrt:
        symbolic_args[i] = symbolize(args[i], f"a{i}")
        symbols.append(symbolic_args[i])
    expression = sympy.sympify(symbolic(f)(*symbolic_args))

    exact = {k: sympy.Float(v, 30) for k, v in point.items()}  # the binary floats, exactly

    def derivative(s: Any) -> Any:
        if isinstance(s, list):
            return [derivative(t) for t in s]
        return float(sympy.diff(expression, s).xreplace(exact).evalf(30))

    return tuple(derivative(s) for s in symbols)


def reverse_sweep(f: Callable[..., Any], wrt: Sequence[int] = (0,)) -> str:
    """The generated gradient's reverse sweep (the code after `# reverse sweep`)."""
    source = inspect.getsource(grad(f, wrt=names_of(f, wrt)))
    assert "# reverse sweep" in source, source
    return source.split("# reverse sweep", 1)[1]


def loop_headers(code: str) -> list[tuple[int, str]]:
    """The `for` lines of some code: (indentation, iterable as written)."""
    found = []
    for line in code.splitlines():
        stripped = line.lstrip()
        if stripped.startswith("for ") and stripped.endswith(":"):
            found.append((len(line) - len(stripped), stripped.split(" in ", 1)[1][:-1]))
    return found


def direction(f: Callable[..., Any], wrt: Sequence[int] = (0,)) -> list[str]:
    """Each `for` loop of the reverse sweep, in the order it is written, as "forwards" or "backwards"."""
    return [
        "backwards" if iterable.startswith("reversed(") else "forwards" for _, iterable in loop_headers(reverse_sweep(f, wrt))
    ]


# -- programs: loops that only accumulate (the reverse may run in any order) -------------------------------------


def sum_of_sines(x, w):
    total = 0.0
    for i in range(len(x)):
        total += math.sin(w * x[i])
    return total


def dot(w, x):
    total = 0.0
    for i in range(len(x)):
        total += w[i] * x[i]
    return total


def mean_and_variance(x):
    s = 0.0
    q = 0.0
    for i in range(len(x)):
        s += x[i]
        q += x[i] * x[i]
    n = len(x)
    return q / n - (s / n) ** 2 + s * 0.25


def squared_error(w, b, xs, ys):
    total = 0.0
    for i in range(len(xs)):
        r = w * xs[i] + b - ys[i]
        total += r * r
    return total / len(xs)


def index_unused(w, n):
    total = 0.0
    for _ in range(n):
        total += w * w + math.sin(w)
    return total


def zero_iterations(x, w):
    total = w * 2.0
    for i in range(0):
        total += x[i] * w
    for i in range(len(x), len(x)):
        total -= x[i]
    return total + x[0]


def stepped(x, w):
    total = 0.0
    for i in range(1, len(x), 2):
        total += math.exp(w * x[i]) - x[i - 1] * w
    for i in range(len(x) - 1, -1, -3):
        total += x[i] * x[i] * w
    return total


def over_reversed_range(x, w):
    total = 0.0
    for i in reversed(range(len(x))):
        total += (i + 1.0) * math.cos(x[i] * w)
    return total


def branches_inside(x, w):
    total = 0.0
    for i in range(len(x)):
        if x[i] > 0.0:
            total += w * x[i] * x[i]
        elif x[i] > -1.0:
            total -= math.sin(w + x[i])
        else:
            total += 3.0 * w
    return total


def _softplus(z):
    return math.log1p(math.exp(z))


def helper_inside(x, w, b):
    total = 0.0
    for i in range(len(x)):
        total += _softplus(w * x[i] + b) * x[i]
    return total


def iterate_values(xs, w):
    total = 0.0
    for v in xs:
        total += math.tanh(w * v)
    for k, v in enumerate(xs):
        total += k * v * w
    return total


def zipped(xs, ys, w):
    total = 0.0
    for a, b in zip(xs, ys):
        total += (a * w - b) ** 2
    return total


def logistic_loss(w, b, X, y):
    total = 0.0
    for i in range(len(X)):
        z = b
        for j in range(len(w)):
            z += w[j] * X[i][j]
        p = 1.0 / (1.0 + math.exp(-z))
        total -= y[i] * math.log(p) + (1.0 - y[i]) * math.log(1.0 - p)
    return total / len(X)


def matrix_form(W, x):
    total = 0.0
    for i in range(len(W)):
        for j in range(len(W[i])):
            total += W[i][j] * x[j] * x[i]
    return total


def rows_of(M, w):
    total = 0.0
    for row in M:
        total += sum(row) * w + max(row) - min(row) * row[0]
    return total


def computed_index(w, x):
    total = 0.0
    n = len(w)
    for i in range(len(x)):
        total += w[(i * 3) % n] * x[i] + w[i // 2] * w[i // 2]
    return total


def int_list_index(w, idx, x):
    total = 0.0
    for i in range(len(idx)):
        total += w[int(idx[i])] * x[i] * w[int(idx[i])]
    return total


def several_accumulators(x, w):
    a = 0.0
    b = 1.0
    c = 0.0
    for i in range(len(x)):
        a += x[i] * w
        b -= x[i] * x[i]
        c += math.sqrt(1.0 + x[i] * x[i]) * w
    return a * b + c * c


def continue_inside(x, w):
    total = 0.0
    for i in range(len(x)):
        if x[i] < 0.0:
            continue
        total += x[i] * w * x[i]
    return total


def loop_in_branch(x, w, flag):
    total = w
    if flag > 0:
        for i in range(len(x)):
            total += x[i] * w
    else:
        for i in range(len(x)):
            total += x[i] * x[i]
    return total


def mlp_forward(W, v, x):
    total = 0.0
    for i in range(len(W)):
        s = 0.0
        for j in range(len(x)):
            s += W[i][j] * x[j]
        total += v[i] * math.tanh(s)
    return total


def inner_recurrence_outer_sum(x, c):
    total = 0.0
    for i in range(len(x)):
        acc = 0.0
        for k in range(len(c)):
            acc = acc * x[i] + c[k]
        total += acc * acc
    return total


def list_sum_inside(x, w):
    total = 0.0
    for i in range(len(w)):
        total += sum(x) * w[i] + max(x) * w[i] * w[i]
    return total


def accumulation_of_products(x, w):
    total = 0.0
    for i in range(len(x)):
        p = 1.0
        for j in range(i + 1):
            p = p * x[j]
        total += p * w
    return total


def local_list_read(x, w):
    ys = [x[k] * w for k in range(len(x))]
    total = 0.0
    for i in range(len(ys)):
        total += ys[i] * ys[i] + ys[len(ys) - 1 - i] * x[i]
    return total


def literal_inside(x, w):
    total = 0.0
    for i in range(len(x)):
        pair = [x[i] * w, x[i] + w]
        total += pair[0] * pair[1] - pair[i % 2]
    return total


def carried_read_not_updated(x, w):
    scale = w * w
    total = 0.0
    for i in range(len(x)):
        total += scale * x[i]
    return total


def triple_nested(x, w):
    total = 0.0
    for i in range(len(x)):
        for j in range(len(x)):
            for k in range(2):
                total += x[i] * x[j] * (w + k)
    return total


# -- programs: loops whose iterations depend on each other (the reverse must run backwards) ----------------------


def horner(c, t):
    acc = 0.0
    for i in range(len(c)):
        acc = acc * t + c[i]
    return acc


def running_max(x, w):
    acc = x[0] * w
    for i in range(1, len(x)):
        acc = max(acc, x[i] * w) + 0.1 * x[i]
    return acc


def chain(x, w, n):
    for _ in range(n):
        x = math.sin(x) * x + w
    return x


def chain_with_index(x, w):
    for i in range(4):
        x = math.sin(x * (i + 1)) * w + x
    return x


def previous_value(x, w):
    prev = w
    total = 0.0
    for i in range(len(x)):
        total += prev * x[i]
        prev = x[i] * w
    return total


def write_then_read(x, w):
    ys = [0.0] * len(x)
    total = 0.0
    for i in range(len(x)):
        ys[i] = x[i] * w
        total += ys[i] * ys[i]
    return total


def recurrence_in_list(x, w):
    ys = [0.0] * (len(x) + 1)
    ys[0] = w
    for i in range(len(x)):
        ys[i + 1] = ys[i] * w + x[i]
    return ys[len(x)] * ys[1]


def read_earlier_iteration(x, w):
    ys = [0.0] * len(x)
    ys[0] = x[0]
    total = 0.0
    for i in range(1, len(x)):
        ys[i] = ys[i - 1] * w + math.sin(x[i])
        total += ys[i] * x[i - 1]
    return total


def append_then_sum(x, w):
    ys = []
    for i in range(len(x)):
        ys.append(math.exp(x[i] * w))
    total = 0.0
    for i in range(len(ys)):
        total += ys[i] * x[i]
    return total


def append_and_accumulate(x, w):
    ys = []
    total = 0.0
    for i in range(len(x)):
        total += x[i] * w
        ys.append(total * x[i])
    return sum(ys) + total


def stack_from_the_top(x, w):
    stack = []
    for i in range(len(x)):
        stack.append(x[i] * w)
    total = 0.0
    for k in range(len(stack)):
        total = total * 0.5 + stack[len(stack) - 1 - k]
    return total


def appended_read_from_the_top(x, w):
    stack = []
    for i in range(len(x)):
        stack.append(x[i] * w + i)
    total = 0.0
    for k in range(len(stack)):
        total += stack[len(stack) - 1 - k] * w
    return total


def cumulative(x, w):
    s = 0.0
    total = 0.0
    for i in range(len(x)):
        s += x[i] * w
        total += s * s
    return total


def moving_average(x, beta):
    m = 0.0
    for i in range(len(x)):
        m = beta * m + (1.0 - beta) * x[i]
    return m


def last_value(x, w):
    last = 0.0
    for i in range(len(x)):
        last = x[i] * w
    return last * last


def product(x):
    p = 1.0
    for i in range(len(x)):
        p *= x[i]
    return p


def growth(x, w):
    total = w
    for i in range(len(x)):
        total = total + total * x[i]
    return total


def accumulate_then_read(x, w):
    total = 0.0
    s = 0.0
    for i in range(len(x)):
        s += total * x[i]
        total += x[i] * w
    return s


def reversed_recurrence(c, t):
    acc = 0.0
    for i in reversed(range(len(c))):
        acc = acc * t + c[i] * (i + 1)
    return acc


def stepped_recurrence(x, w):
    acc = w
    for i in range(len(x) - 1, 0, -2):
        acc = acc * x[i] + x[i - 1]
    return acc


def rnn(W, U, xs, h0):
    h = h0
    for t in range(len(xs)):
        h = math.tanh(W * h + U * xs[t])
    return h


def outer_recurrence_inner_sum(x, w):
    acc = 1.0
    for i in range(len(w)):
        s = 0.0
        for j in range(len(x)):
            s += x[j] * w[i]
        acc = acc * 0.5 + math.sin(s) * acc
    return acc


def inner_accumulates_into_outer(x, w):
    acc = 0.0
    for i in range(len(w)):
        acc = acc * 0.5
        for j in range(len(x)):
            acc += x[j] * w[i]
    return acc


def recurrence_in_branch(x, w, flag):
    acc = w
    if flag > 0:
        for i in range(len(x)):
            acc = acc * x[i] + w
    return acc


def branch_overwrites_carried(x, w):
    total = 0.0
    for i in range(len(x)):
        if x[i] > 0.5:
            total = x[i] * w
        else:
            total += x[i] * w
    return total


def branch_on_carried(x, w):
    total = 0.0
    for i in range(len(x)):
        if total > 1.0:
            total += x[i] * w * 0.5
        else:
            total += x[i] * w
    return total


def breaks(x, w):
    total = 0.0
    for i in range(len(x)):
        total += x[i] * w
        if total > 2.0:
            break
    return total


def break_on_index(x, w, k):
    total = 0.0
    for i in range(len(x)):
        total += math.sin(x[i]) * w
        if i >= k:
            break
    return total


def return_inside(x, w):
    total = 0.0
    for i in range(len(x)):
        total += x[i] * w
        if x[i] < 0.0:
            return total * 2.0
    return total


def while_accumulate(x, w):
    total = 0.0
    i = 0
    while i < len(x):
        total += w * x[i] * x[i]
        i += 1
    return total


def newton_sqrt(a):
    r = a
    while abs(r * r - a) > 1e-12 * a:
        r = 0.5 * (r + a / r)
    return r


def while_data_dependent(x, w):
    total = 0.0
    i = 0
    while total < 3.0 and i < len(x):
        total += x[i] * w
        i += 1
    return total * total


def swap_in_loop(x, w):
    a = w
    b = 1.0
    for i in range(len(x)):
        a, b = b, a + b * x[i]
    return a * b


def two_loops_share_list(x, w):
    ys = [0.0] * len(x)
    for i in range(len(x)):
        ys[i] = math.sin(x[i]) * w
    total = 0.0
    for i in range(len(ys)):
        total += ys[i] * x[i]
    return total


def helper_with_loop(c, t):
    return horner(c, t) * horner(c, 2.0 * t)


def helper_with_loop_in_loop(c, ts):
    total = 0.0
    for i in range(len(ts)):
        total += horner(c, ts[i])
    return total


def update_list_item(x, w):
    ys = [0.0] * 3
    for i in range(len(x)):
        ys[i % 3] = ys[i % 3] * w + x[i]
    return ys[0] * ys[1] + ys[2]


def augmented_list_item(x, w):
    ys = [0.0] * 3
    for i in range(len(x)):
        ys[i % 3] += x[i] * w
    return ys[0] * ys[1] + ys[2] * ys[2]


def inner_break_outer_sum(x, w):
    total = 0.0
    for i in range(len(x)):
        s = 0.0
        for j in range(len(x)):
            s += x[j] * w
            if s > 1.0:
                break
        total += s * x[i]
    return total


def inner_while_outer_sum(x, w):
    total = 0.0
    for i in range(len(x)):
        r = x[i] * x[i] + 1.0
        k = 0
        while k < 3:
            r = 0.5 * (r + w / r)
            k += 1
        total += r * x[i]
    return total


def overwritten_after_the_loop(x, w):
    ys = [x[k] * w for k in range(len(x))]
    total = 0.0
    for i in range(len(ys)):
        total += ys[i] * ys[i]
    for i in range(len(ys)):
        ys[i] = 0.5
    return total + sum(ys) * w


def overwritten_through_an_alias(x, w):
    ys = [0.0] * len(x)
    for k in range(len(x)):
        ys[k] = x[k] * w
    zs = ys
    total = 0.0
    for i in range(len(ys)):
        total += math.sin(ys[i])
    for i in range(len(zs)):
        zs[i] = zs[i] * 2.0
    return total + sum(ys) * w


def generator_inside(x, w):
    total = 0.0
    for i in range(len(x)):
        total += sum(x[j] * w for j in range(i + 1)) * x[i]
    return total


def comprehension_inside(x, w):
    total = 0.0
    for i in range(len(x)):
        zs = [x[j] * w + i for j in range(len(x))]
        total += zs[i] * zs[len(x) - 1 - i]
    return total


def over_reversed_list(xs, w):
    total = 0.0
    for v in reversed(xs):
        total = total * w + v
    return total


def over_reversed_list_sum(xs, w):
    total = 0.0
    for v in reversed(xs):
        total += v * w * v
    return total


def carried_not_differentiated(x, w):
    c = 1.0
    total = 0.0
    for i in range(len(x)):
        total += c * x[i] * w
        c = c * 2.0
    return total


def carried_int(x, w):
    k = 0
    total = 0.0
    for _ in range(len(x)):
        total += x[k] * w
        k = (k + 2) % len(x)
    return total


def accumulated_twice(x, w):
    total = 0.0
    for i in range(len(x)):
        total += x[i] * w
        total += x[i] * x[i]
    return total * total


def floor_of_carried(x, w):
    total = 0.0
    for i in range(len(x)):
        total = total + math.floor(total) + x[i] * w
    return total


def accumulate_in_one_statement(x, w):
    total = 0.0
    for i in range(len(x)):
        total = total + x[i] * w - x[i] * 0.5
    return total


def accumulate_negated_twice(x, w):
    total = 0.0
    for i in range(len(x)):
        total = -(-total - x[i] * w)
    return total


def accumulate_subtracting_a_negation(x, w):
    total = 1.0
    for i in range(len(x)):
        total = x[i] * w - (-total)
    return total


def recurrence_on_data_sum_on_parameter(x, c):
    acc = 0.0
    total = 0.0
    for i in range(len(x)):
        acc = acc * 0.5 + x[i]
        total += c * acc * c
    return total


def sum_then_recurrence(x, w):
    s = 0.0
    for i in range(len(x)):
        s += x[i] * w
    acc = 1.0
    for i in range(len(x)):
        acc = acc * s + x[i]
    return acc


def recurrence_then_sum(x, w):
    acc = 1.0
    for i in range(len(x)):
        acc = acc * w + x[i]
    total = 0.0
    for i in range(len(x)):
        total += acc * x[i] * x[i]
    return total


def max_of_scalars_accumulated(x, w):
    total = 0.0
    for i in range(len(x)):
        total += max(x[i] * w, 0.2) + min(x[i], w) - abs(x[i] - w)
    return total


# -- the table ---------------------------------------------------------------------------------------------------

X5 = [0.7, -0.4, 1.3, 0.25, -1.1]
X4 = [0.3, 0.8, -0.6, 1.2]
M3 = [[0.5, -1.2, 0.3], [0.9, 0.4, -0.7], [-0.2, 0.6, 1.1]]

# (function, arguments, indices of the parameters to differentiate, check with SymPy too)
PROGRAMS: list[tuple[Callable[..., float], tuple[Any, ...], tuple[int, ...], bool]] = [
    (sum_of_sines, (X5, 0.8), (0, 1), True),
    (dot, ([0.5, -0.3, 0.9, 1.4, -0.8], X5), (0, 1), True),
    (mean_and_variance, (X5,), (0,), True),
    (squared_error, (0.7, -0.2, [0.1, 0.5, 1.5, -0.8], [0.3, 0.2, 0.9, -0.1]), (0, 1, 2, 3), True),
    (index_unused, (0.6, 5), (0,), True),
    (zero_iterations, (X4, 1.5), (0, 1), True),
    (stepped, ([0.2, 0.4, -0.3, 0.8, 0.6, -0.5, 0.1], 0.9), (0, 1), True),
    (over_reversed_range, (X5, 0.6), (0, 1), True),
    (branches_inside, ([0.5, -0.5, -1.5, 2.0, 0.1, -0.9], 1.3), (0, 1), False),
    (helper_inside, (X5, 0.7, -0.3), (0, 1, 2), True),
    (iterate_values, (X5, 0.9), (0, 1), True),
    (zipped, (X4, [0.5, 0.1, -0.2, 0.4], 1.1), (0, 1, 2), True),
    (logistic_loss, ([0.3, -0.5, 0.8], 0.1, M3, [1.0, 0.0, 1.0]), (0, 1, 2), True),
    (matrix_form, (M3, [0.4, -0.6, 1.2]), (0, 1), True),
    (rows_of, (M3, 0.8), (0, 1), False),
    (computed_index, ([0.5, -0.7, 1.1], [0.2, 0.9, -0.4, 0.6, 1.3, -0.8]), (0, 1), True),
    (int_list_index, ([0.5, -0.7, 1.1], [2, 0, 2, 1, 2], [0.2, 0.9, -0.4, 0.6, 1.3]), (0, 2), True),
    (several_accumulators, (X5, 0.6), (0, 1), True),
    (continue_inside, ([0.5, -0.5, 1.5, -2.0, 0.1], 1.3), (0, 1), False),
    (loop_in_branch, (X4, 0.9, 1), (0, 1), True),
    (loop_in_branch, (X4, 0.9, 0), (0, 1), True),
    (mlp_forward, ([[0.3, -0.2, 0.5], [0.8, 0.1, -0.4]], [1.2, -0.7], [0.5, 1.5, -0.9]), (0, 1, 2), True),
    (inner_recurrence_outer_sum, ([0.5, -0.8, 1.2], [0.3, -1.1, 0.7, 0.2]), (0, 1), True),
    (list_sum_inside, ([0.4, 1.3, -0.2], [0.5, -0.6, 0.9]), (0, 1), False),
    (accumulation_of_products, (X4, 1.7), (0, 1), True),
    (local_list_read, (X5, 0.6), (0, 1), True),
    (literal_inside, (X5, 0.6), (0, 1), True),
    (carried_read_not_updated, (X4, 1.4), (0, 1), True),
    (triple_nested, ([0.5, -0.8, 1.2], 0.3), (0, 1), True),
    (horner, ([0.5, -1.2, 0.8, 0.3, -0.6], 0.9), (0, 1), True),
    (running_max, ([0.2, 0.9, 0.4, 1.3, -0.5], 1.1), (0, 1), False),
    (chain, (0.7, 0.3, 6), (0, 1), True),
    (chain_with_index, (0.4, 0.8), (0, 1), True),
    (previous_value, (X5, 0.6), (0, 1), True),
    (write_then_read, (X5, 0.6), (0, 1), True),
    (recurrence_in_list, (X4, 0.9), (0, 1), True),
    (read_earlier_iteration, (X5, 0.8), (0, 1), True),
    (append_then_sum, (X5, 0.6), (0, 1), True),
    (append_and_accumulate, (X5, 0.6), (0, 1), True),
    (stack_from_the_top, (X5, 0.6), (0, 1), True),
    (appended_read_from_the_top, (X5, 0.6), (0, 1), True),
    (cumulative, (X5, 0.6), (0, 1), True),
    (moving_average, (X5, 0.7), (0, 1), True),
    (last_value, (X5, 0.6), (0, 1), True),
    (product, (X5,), (0,), True),
    (growth, (X4, 0.6), (0, 1), True),
    (accumulate_then_read, (X5, 0.6), (0, 1), True),
    (reversed_recurrence, ([0.5, -1.2, 0.8, 0.3], 0.9), (0, 1), True),
    (stepped_recurrence, ([0.3, 0.8, -0.6, 1.2, 0.5, -0.9], 0.7), (0, 1), True),
    (rnn, (0.8, -0.6, [0.5, -0.3, 0.9, 0.2], 0.1), (0, 1, 2, 3), True),
    (outer_recurrence_inner_sum, ([0.5, -0.3, 0.9], [0.4, 1.1, -0.7]), (0, 1), True),
    (inner_accumulates_into_outer, ([0.5, -0.3, 0.9], [0.4, 1.1, -0.7]), (0, 1), True),
    (recurrence_in_branch, (X4, 0.9, 1), (0, 1), True),
    (recurrence_in_branch, (X4, 0.9, 0), (0, 1), True),
    (branch_overwrites_carried, ([0.2, 0.9, 0.4, -0.3, 0.1], 1.1), (0, 1), False),
    (branch_on_carried, ([0.2, 0.9, 0.4, -0.3, 0.8], 1.1), (0, 1), False),
    (breaks, ([0.4, 0.9, 1.3, 0.7, 0.5], 0.9), (0, 1), False),
    (breaks, ([0.4, 0.3, 0.2], 0.9), (0, 1), False),
    (break_on_index, (X5, 0.9, 2), (0, 1), False),
    (return_inside, ([0.4, 0.9, -1.3, 0.7], 0.9), (0, 1), False),
    (return_inside, ([0.4, 0.9, 1.3, 0.7], 0.9), (0, 1), False),
    (while_accumulate, (X5, 0.6), (0, 1), True),
    (newton_sqrt, (2.5,), (0,), False),
    (while_data_dependent, ([0.9, 1.2, 0.8, 1.1, 0.4], 1.3), (0, 1), False),
    (swap_in_loop, (X4, 0.6), (0, 1), True),
    (two_loops_share_list, (X5, 0.6), (0, 1), True),
    (helper_with_loop, ([0.5, -1.2, 0.8, 0.3], 0.9), (0, 1), True),
    (helper_with_loop_in_loop, ([0.5, -1.2, 0.8], [0.3, -0.7, 1.1]), (0, 1), True),
    (update_list_item, ([0.3, 0.8, -0.6, 1.2, 0.5, -0.9, 0.4], 0.7), (0, 1), True),
    (augmented_list_item, ([0.3, 0.8, -0.6, 1.2, 0.5, -0.9, 0.4], 0.7), (0, 1), True),
    (inner_break_outer_sum, ([0.3, 0.5, 0.2, 0.4], 0.9), (0, 1), False),
    (inner_while_outer_sum, ([0.3, 0.5, 0.2, 0.4], 0.9), (0, 1), True),
    (overwritten_after_the_loop, (X4, 0.9), (0, 1), True),
    (overwritten_through_an_alias, (X4, 0.9), (0, 1), True),
    (generator_inside, (X4, 0.9), (0, 1), True),
    (comprehension_inside, (X4, 0.9), (0, 1), True),
    (over_reversed_list, (X4, 0.9), (0, 1), True),
    (over_reversed_list_sum, (X4, 0.9), (0, 1), True),
    (carried_not_differentiated, (X4, 0.9), (0, 1), True),
    (carried_int, (X5, 0.9), (0, 1), True),
    (accumulated_twice, (X4, 0.9), (0, 1), True),
    (floor_of_carried, ([0.3, 0.5, 0.2, 0.4], 0.9), (0, 1), False),
    (accumulate_in_one_statement, (X4, 0.9), (0, 1), True),
    (accumulate_negated_twice, (X4, 0.9), (0, 1), True),
    (accumulate_subtracting_a_negation, (X4, 0.9), (0, 1), True),
    (recurrence_on_data_sum_on_parameter, (X5, 0.8), (1,), True),
    (recurrence_on_data_sum_on_parameter, (X5, 0.8), (0, 1), True),
    (sum_then_recurrence, (X4, 0.7), (0, 1), True),
    (recurrence_then_sum, (X4, 0.7), (0, 1), True),
    (max_of_scalars_accumulated, ([0.3, 1.5, -0.2, 0.4, 2.0], 0.9), (0, 1), False),
    (sum_of_sines, ([], 0.8), (0, 1), True),
    (dot, ([], []), (0, 1), False),
    (index_unused, (0.6, 0), (0,), True),
    (chain, (0.7, 0.3, 0), (0, 1), True),
    (chain, (0.7, 0.3, 1), (0, 1), True),
]


def _id(entry: tuple[Callable[..., float], tuple[Any, ...], tuple[int, ...], bool]) -> str:
    return entry[0].__name__


@pytest.mark.parametrize("f, args, wrt, symbolic", PROGRAMS, ids=[_id(p) for p in PROGRAMS])
def test_gradient_against_finite_differences_and_sympy(f, args, wrt, symbolic):
    check_loop(f, args, wrt, symbolic=symbolic)


@pytest.mark.parametrize("f, args, wrt, symbolic", PROGRAMS, ids=[_id(p) for p in PROGRAMS])
def test_gradient_is_the_directional_derivative_of_forward_mode(f, args, wrt, symbolic):
    """jvp (forward mode, no reverse loop at all) along a fixed direction equals <grad, direction>."""
    wrt_names = names_of(f, wrt)
    g = grad(f, wrt=wrt_names)(*copy.deepcopy(list(args)))

    def direction_like(value: Any, k: list[int]) -> Any:
        if isinstance(value, list):
            return [direction_like(v, k) for v in value]
        k[0] += 1
        return math.sin(1.7 * k[0] + 0.3)

    counter = [0]
    tangents = tuple(direction_like(args[i], counter) for i in wrt)

    def inner(a: Any, b: Any) -> float:
        if isinstance(a, (list, tuple)):
            return sum(inner(u, v) for u, v in zip(a, b))
        return a * b

    value, derivative = jvp(f, wrt=wrt_names)(tuple(copy.deepcopy(list(args))), tangents)
    assert bits(value) == bits(f(*copy.deepcopy(list(args))))
    want = inner(g, tangents)
    assert derivative == pytest.approx(want, rel=1e-10, abs=1e-10 * max(1.0, magnitude(g)))


# -- the direction of the reverse loop, where the criterion decides it clearly ----------------------------------

FORWARDS = [
    # (function, wrt): every reverse loop of its gradient may, and does, run forwards
    (sum_of_sines, (0, 1)),  # total += f(x[i]): replayed, the carried adjoint passes through
    (dot, (0, 1)),  # nothing to record, only w_bar[i] += ..., x_bar[i] += ...
    (squared_error, (0, 1)),  # b_bar += ..., w_bar += ...: accumulations into outer adjoints
    (index_unused, (0,)),
    (helper_inside, (0, 1, 2)),
    (zipped, (0, 1, 2)),
    (computed_index, (0, 1)),  # several iterations add into the same w_bar[j]
    (over_reversed_range, (0, 1)),  # the reverse of a reversed loop runs forwards anyway
    (reversed_recurrence, (0, 1)),  # ... even when its iterations depend on each other
    (literal_inside, (0, 1)),  # a list literal per iteration: its adjoint is allocated per iteration
    (accumulated_twice, (0, 1)),  # two accumulations per iteration
    (accumulate_in_one_statement, (0, 1)),
    (over_reversed_list_sum, (0, 1)),
    (max_of_scalars_accumulated, (0, 1)),  # the gates of max/min/abs read this iteration's values only
    (floor_of_carried, (0, 1)),  # floor(total) passes nothing back: total_bar still passes through unchanged
]

BACKWARDS = [
    # (function, wrt): the reverse loop must run backwards (the only loop in the gradient)
    (horner, (0, 1)),  # acc = acc * t + c[i]: acc_bar is multiplied by t in every iteration
    (chain, (0, 1)),  # x = sin(x) * x + w
    (chain_with_index, (0, 1)),
    (previous_value, (0, 1)),  # reads the carried prev: taped, popped in the other order
    (write_then_read, (0, 1)),  # ys[i] = ...: its reverse reads and clears ys_bar[i]
    (recurrence_in_list, (0, 1)),
    (read_earlier_iteration, (0, 1)),
    (cumulative, (0, 1)),  # total += s * s, s += ...: s_bar grows in every iteration
    (moving_average, (0, 1)),
    (last_value, (0, 1)),  # the carried value is overwritten: its adjoint goes to the last iteration only
    (product, (0,)),
    (growth, (0, 1)),
    (accumulate_then_read, (0, 1)),
    (rnn, (0, 1, 2, 3)),
    (branch_overwrites_carried, (0, 1)),
    (swap_in_loop, (0, 1)),
    (update_list_item, (0, 1)),
    (augmented_list_item, (0, 1)),  # ys[i % 3] += ...: the reverse of an item assignment clears ys_bar[i % 3]
    (carried_not_differentiated, (0, 1)),  # c = c * 2.0 has no adjoint, but the reverse reads c: taped
    (carried_int, (0, 1)),  # the index k is carried: taped
    (recurrence_on_data_sum_on_parameter, (1,)),  # total_bar passes through, but acc is read: taped
]


@pytest.mark.parametrize("f, wrt", FORWARDS, ids=[f.__name__ for f, _ in FORWARDS])
def test_independent_iterations_run_forwards(f, wrt):
    assert direction(f, wrt) and set(direction(f, wrt)) == {"forwards"}, reverse_sweep(f, wrt)


@pytest.mark.parametrize("f, wrt", BACKWARDS, ids=[f.__name__ for f, _ in BACKWARDS])
def test_dependent_iterations_run_backwards(f, wrt):
    assert direction(f, wrt) == ["backwards"], reverse_sweep(f, wrt)


def test_append_loop_and_its_reading_loop_both_forwards():
    # The loop reading ys (ys_bar[i] += ...) comes first in the reverse sweep and may run forwards; so may
    # the reverse of the appending loop: item i of ys is what iteration i appended, its adjoint ys_bar[i].
    assert direction(append_then_sum, (0, 1)) == ["forwards", "forwards"]
    assert ".pop()" not in reverse_sweep(append_then_sum, (0, 1))
    # append inside a loop that carries total: that loop's reverse still runs backwards.
    assert direction(append_and_accumulate, (0, 1))[-1] == "backwards"


def test_consecutive_loops_each_decide_for_themselves():
    # reverse order: the recurrence's reverse (backwards) first, then the sum's (forwards), which gets s_bar
    assert direction(sum_then_recurrence, (0, 1)) == ["backwards", "forwards"]
    assert direction(recurrence_then_sum, (0, 1)) == ["forwards", "backwards"]


def test_nested_loops_each_decide_for_themselves():
    # outer: total += v[i] * tanh(s), inner: s += W[i][j] * x[j]: both only accumulate
    assert set(direction(mlp_forward, (0, 1, 2))) == {"forwards"}
    # outer: acc = acc * 0.5 + sin(s) * acc depends on the previous iteration; inner: s only accumulates
    assert direction(outer_recurrence_inner_sum, (0, 1)) == ["backwards", "forwards"]
    # inner: acc = acc * x[i] + c[k] (backwards), inside an outer loop that only accumulates (forwards);
    # the loop between them is the inner forward loop computed again in the reverse sweep.
    loops = loop_headers(reverse_sweep(inner_recurrence_outer_sum, (0, 1)))
    assert [indent for indent, _ in loops] == sorted(indent for indent, _ in loops)
    assert not loops[0][1].startswith("reversed(") and loops[-1][1].startswith("reversed("), loops


def test_value_and_grad_tapes_and_runs_backwards_but_grad_replays_forwards():
    # value_and_grad returns the loop's result, so the loop is taped: the reverse body pops what the forward
    # loop recorded, in the other order. grad computes each iteration again and may run forwards.
    source = inspect.getsource(value_and_grad(sum_of_sines))
    assert "_tape" in source
    reverse = source.split("# reverse sweep", 1)[1]
    assert [it.startswith("reversed(") for _, it in loop_headers(reverse)] == [True]
    assert direction(sum_of_sines, (0, 1)) == ["forwards"]


def test_forwards_and_backwards_agree_on_a_long_sum_up_to_rounding():
    # The forwards reverse loop adds 2,000 contributions into w_bar in the other order: the same value, up to
    # rounding, as the backwards loop of value_and_grad; exactly the value of the sum added in either order.
    x = [math.sin(0.37 * k) * (1.0 + k % 7) for k in range(2000)]
    w = 0.81
    gx, gw = grad(sum_of_sines)(x, w)
    _, (gx2, gw2) = value_and_grad(sum_of_sines)(x, w)
    assert gx == gx2  # one contribution per element: no order to differ in
    assert gw == pytest.approx(gw2, rel=1e-12)
    assert gw == pytest.approx(math.fsum(x[i] * math.cos(w * x[i]) for i in range(len(x))), rel=1e-12)


# -- second derivatives over reverse loops that run forwards ------------------------------------------------------


def one_parameter_sum(w):
    total = 0.0
    for i in range(5):
        total += math.sin(w * (i + 1)) / (i + 1) + w * w * i
    return total


def one_parameter_sum_over_list(w, xs):
    total = 0.0
    for i in range(len(xs)):
        total += math.exp(w * xs[i]) * xs[i]
    return total


def nested_scalar(a, b):
    total = 0.0
    for i in range(3):
        s = 0.0
        for j in range(3):
            s += a * (i + 1) + b * j * a
        total += math.tanh(s) * b
    return total


def first_only(a, w, stop):
    total = 0.0
    for i in range(3):
        total += a * w * (i + 1.0)
        if stop:
            break
    return total


def sympy_hessian(f: Callable[..., Any], args: Sequence[Any], wrt: Sequence[int]) -> list[list[float]]:
    symbols = {i: sympy.Symbol(f"h{i}", real=True) for i in wrt}
    call = [symbols.get(i, a) for i, a in enumerate(args)]
    expression = symbolic(f)(*call)
    point = {symbols[i]: sympy.Float(args[i], 30) for i in wrt}
    return [[float(sympy.diff(expression, symbols[i], symbols[j]).xreplace(point).evalf(30)) for j in wrt] for i in wrt]


@pytest.mark.parametrize(
    "f, args, wrt",
    [
        (one_parameter_sum, (0.7,), (0,)),
        (one_parameter_sum_over_list, (0.4, [0.5, -1.2, 0.8, 1.5]), (0,)),
        (index_unused, (0.6, 5), (0,)),
        (squared_error, (0.7, -0.2, [0.1, 0.5, 1.5, -0.8], [0.3, 0.2, 0.9, -0.1]), (0, 1)),
        (helper_inside, ([0.7, -0.4, 1.3, 0.25], 0.7, -0.3), (1, 2)),
        (chain, (0.7, 0.3, 4), (0, 1)),
        (rnn, (0.8, -0.6, [0.5, -0.3, 0.9, 0.2], 0.1), (0, 1, 3)),
        (nested_scalar, (0.3, 0.7), (0, 1)),
        (first_only, (0.6, 1.7, True), (0, 1)),
        (first_only, (0.6, 1.7, False), (0, 1)),
    ],
)
def test_hessian_against_sympy(f, args, wrt):
    names = names_of(f, wrt)
    got = hessian(f, wrt=names)(*copy.deepcopy(list(args)))
    want = sympy_hessian(f, args, wrt)
    assert_close([list(row) for row in got], want, 1e-10, 1e-10)


def test_grad_of_grad_of_a_sum_over_a_loop_against_sympy():
    # grad(one_parameter_sum) is a loop that needs no tape (it runs forwards); it is differentiated again.
    second = grad(grad(one_parameter_sum))
    w = sympy.Symbol("w", real=True)
    expression = sum(sympy.sin(w * (i + 1)) / (i + 1) + w * w * i for i in range(5))
    for point in (0.7, -1.3, 2.9):
        assert second(point) == pytest.approx(float(sympy.diff(expression, w, 2).subs(w, point)), rel=1e-12)
    assert grad(one_parameter_sum)(0.7) == pytest.approx(float(sympy.diff(expression, w).subs(w, 0.7)), rel=1e-12)


def test_grad_of_grad_of_nested_sums_against_sympy():
    # Both reverse loops of grad(nested_scalar, wrt="a") only accumulate and need no tape.
    second = grad(grad(nested_scalar, wrt="a"), wrt="a")
    want = sympy_hessian(nested_scalar, (0.3, 0.7), (0,))[0][0]
    assert second(0.3, 0.7) == pytest.approx(want, rel=1e-12)


# -- break with nothing recorded: the reverse loop runs forwards over the first _n iterations ----------------------


def flag_break(x, w, k):
    stop = k > 0
    total = 0.0
    for i in range(len(x)):
        total += x[i] * w
        if stop:
            break
    return total


def unconditional_break(x, w):
    total = 0.0
    for i in range(len(x)):
        total += x[i] * w
        break
    return total


@pytest.mark.parametrize(
    "f, args",
    [
        (flag_break, ([0.3, 0.5, 0.2], 0.9, 1)),
        (flag_break, ([0.3, 0.5, 0.2], 0.9, 0)),
        (unconditional_break, ([0.3, 0.5, 0.2], 0.9)),
    ],
)
def test_break_with_nothing_taped(f, args):
    check_loop(f, args, (0, 1), symbolic=True)
    # The reverse loop reads nothing from the tape and only accumulates: it runs forwards, over the
    # iterations the forward loop ran (the first _n of the range), as `range(...)[:_n]`.
    ((_, iterable),) = loop_headers(reverse_sweep(f, (0, 1)))
    assert iterable.startswith("range(") and iterable.endswith("[:_n]"), iterable


@pytest.mark.parametrize("f", [flag_break, unconditional_break])
def test_sympy_check_of_a_forwards_reverse_loop_with_break(f):
    # Regression: the check's interpreter ran a forwards loop over all of range(n), ignoring its trip-count
    # limit `[:_n]` (it honoured the limit only for reversed loops), and so refused these correct gradients.
    assert check(f, wrt=("x", "w")).ok


def test_grad_with_check_of_a_forwards_reverse_loop_with_break():
    gx, gw = grad(unconditional_break, check=True)([0.3, 0.5, 0.2], 0.9)
    assert gx == [0.9, 0.0, 0.0] and gw == 0.3


# -- found while hunting, not about the order: the reverse of max/min of a list searched the list as it was at the
# -- end of the forward sweep, which a later item assignment may have changed (wrong gradient, or ValueError) -----


def max_then_overwritten(x):
    ys = [x[0], x[1]]
    m = max(ys)
    ys[0] = ys[1]
    return m


def min_then_overwritten(x):
    ys = [x[0], x[1]]
    m = min(ys)
    ys[0] = ys[1]
    return m


def max_of_a_list_a_loop_changes(x, w):
    ys = [0.0] * len(x)
    for k in range(len(x)):
        ys[k] = x[k] * w
    total = 0.0
    for i in range(len(x)):
        total += max(ys) * x[i]
        ys[i] = ys[i] * 0.25
    return total


@pytest.mark.parametrize("f, x", [(max_then_overwritten, [1.0, 2.0]), (min_then_overwritten, [2.0, 1.0])])
def test_list_max_min_then_item_assignment(f, x):
    # m is x[1]; after ys[0] = ys[1] the final list finds m at position 0 too: d m goes to x[1] all the same
    assert grad(f)(list(x)) == [0.0, 1.0]
    check_loop(f, (list(x),), (0,))


def test_list_max_inside_a_loop_that_changes_the_list():
    check_loop(max_of_a_list_a_loop_changes, ([0.3, 0.9, 0.2], 1.5), (0, 1))
