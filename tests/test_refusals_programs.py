"""Programs s2s_ad refuses: each gets an S2SError naming the construct, with file, line and column.

Each refused function marks its offending line with a `# refused` comment;
the test checks the error points at that line, at the construct's column,
and that nothing ran: the functions would fail if called (they are never
called), and the refusal comes from `grad` itself, before any generated
code exists.
"""

from __future__ import annotations

import inspect
import math
import random
from collections.abc import Callable

import pytest

from s2s_ad import S2SError, grad


def append_to_parameter(xs: list[float]) -> float:
    xs.append(1.0)  # refused
    return sum(xs)


def assign_item_of_parameter(xs: list[float]) -> float:
    xs[0] = 2.0  # refused
    return xs[0] * xs[1]


def augment_item_of_parameter(xs: list[float]) -> float:
    xs[1] += 2.0  # refused
    return xs[0] * xs[1]


COUNTER = 0.0


def uses_global(x: float) -> float:
    global COUNTER  # refused
    return x * 2.0


def generator(x: float) -> float:
    yield x * 2.0  # refused
    return x


def with_try(x: float) -> float:
    try:  # refused
        return math.log(x)
    except ValueError:
        return 0.0


def with_with(x: float) -> float:
    with open("/dev/null") as handle:  # refused
        return x * len(handle.name)


def calls_print(x: float) -> float:
    y = x * x
    print(y)  # refused
    return y


def calls_random(x: float) -> float:
    return x * random.random()  # refused


def calls_unknown(x: float) -> float:
    return x * undefined_function(x)  # type: ignore[name-defined] # noqa: F821 # refused


def sorts(xs: list[float]) -> float:
    ys = [x * 2.0 for x in xs]
    ys.sort()  # refused
    return ys[0]


def pops(xs: list[float]) -> float:
    ys = [x * 2.0 for x in xs]
    last = ys.pop()  # refused
    return last


def recursive(x: float, n: int) -> float:
    if n <= 0:
        return x
    return recursive(x * 0.5, n - 1) + x  # refused


def ping(x: float, n: int) -> float:
    if n <= 0:
        return x
    return pong(x, n - 1)


def pong(x: float, n: int) -> float:
    return ping(x * 2.0, n)  # refused


def calls_ping(x: float) -> float:
    return ping(x, 3)


def one_branch_only(x: float) -> float:
    if x > 0:
        y = x * 2.0
    return y * x  # refused


def changed_after_rebinding(xs: list[float]) -> float:
    ys = [x * 1.0 for x in xs]
    for _ in range(3):
        ys = [y * 2.0 for y in ys]
    ys[0] = 0.0  # refused
    return sum(ys)


def assigned_only_in_loop(xs: list[float]) -> float:
    for x in xs:
        last = x * 2.0
    return last  # refused


def replaces_a_row(x: float) -> float:
    D = [[0.0, 0.0] for _ in range(3)]
    for i in range(3):
        D[i] = [x * i, x + i]  # refused
    return D[2][0] * D[1][1]


def sums_a_pair_returned_from_a_loop(x: float) -> float:
    s, w = _pair_from_a_loop(x)
    return s + w


def _pair_from_a_loop(a: float) -> tuple[float, float]:
    for _ in range(2):
        if a > 0.3:
            return a, a  # refused
    return a, 2.0 * a


# (function, words the message must contain, the text at the reported column)
CASES: list[tuple[Callable[..., float], tuple[str, ...], str]] = [
    (append_to_parameter, ("xs",), "xs"),
    (assign_item_of_parameter, ("xs",), "xs"),
    (augment_item_of_parameter, ("xs",), "xs"),
    (uses_global, ("global",), "global"),
    (generator, ("yield",), "yield"),
    (with_try, ("try",), "try"),
    (with_with, ("with",), "with"),
    (calls_print, ("print",), "print"),
    (calls_random, ("random",), "random"),
    (calls_unknown, ("undefined_function",), "undefined_function"),
    (sorts, ("sort",), "ys.sort"),
    (pops, ("pop",), "ys.pop"),
    (recursive, ("recursive", "recursi"), "recursive("),
    (calls_ping, ("ping", "recursi"), "ping("),
    (one_branch_only, ("y", "branch"), "y"),
    (assigned_only_in_loop, ("last", "loop"), "last"),
    (replaces_a_row, ("row", "D[i] = [...]"), "D[i]"),
    (sums_a_pair_returned_from_a_loop, ("tuple", "loop"), "return a, a"),
]


def refused_line(function: Callable[..., float]) -> tuple[int, str]:
    """The line number and text of the line marked `# refused` in this file (a helper's line for calls)."""
    module = inspect.getmodule(function)
    lines, _ = inspect.getsourcelines(module)  # type: ignore[arg-type]
    start, end = function.__code__.co_firstlineno, function.__code__.co_firstlineno + 20
    if function is calls_ping:
        start = pong.__code__.co_firstlineno
    for number in range(start, end):
        if lines[number - 1].rstrip().endswith("# refused"):
            return number, lines[number - 1]
    raise AssertionError(f"no refused line in {function.__name__}")


@pytest.mark.parametrize("function, words, at_column", CASES, ids=[c[0].__name__ for c in CASES])
def test_refused_with_file_line_column_and_construct(
    function: Callable[..., float], words: tuple[str, ...], at_column: str
) -> None:
    with pytest.raises(S2SError) as info:
        grad(function)
    error = info.value
    for word in words:
        assert word in error.message, f"{word!r} not named in {error.message!r}"
    assert error.filename == __file__
    number, text = refused_line(function)
    assert error.lineno == number, str(error)
    assert error.col_offset is not None
    assert text[error.col_offset :].startswith(at_column), str(error)
    assert str(error).startswith(f"{__file__}:{number}:{error.col_offset + 1}: error: ")


def test_a_list_changed_in_place_after_it_was_rebound_in_a_loop_is_refused() -> None:
    with pytest.raises(S2SError) as info:
        grad(changed_after_rebinding, wrt="xs")
    error = info.value
    assert "'ys'" in error.message and "changed in place" in error.message and "loop" in error.message
    assert error.filename == __file__
    assert error.lineno == refused_line(changed_after_rebinding)[0]
    assert error.col_offset is not None
    assert error.hint and "new list" in error.hint


def test_an_int_parameter_never_breaks_the_transform() -> None:
    def scaled(x: float, n: int) -> float:
        total = 0.0
        for i in range(n):
            total += x * i
        return total

    assert grad(scaled, wrt="x")(0.5, 4) == 6.0
