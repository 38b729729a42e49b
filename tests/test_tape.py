"""What the generated code records on its tape, measured two ways.

1. By reading the generated source: the `_tape.append(...)` statements and
   what they push.
2. By running it: the generated module's text is compiled again with
   `_tape = []` replaced by a `Recorder` (a list that counts its appends and
   remembers its largest length), in the namespace the generated function
   itself runs in. The gradient it computes must not change, and the counts
   must match the trip counts of the loops.

The contract: one record per iteration of a loop whose reverse sweep needs
values that change from one iteration to the next; nothing for values that
are loop-invariant or cheap to recompute (the loop index, an element of a
list that is not mutated), nothing at all outside loops, and an empty tape
when the gradient returns. A loop that only accumulates (its reverse reads
nothing that depends on what it carries: a sum over samples) and whose
results nothing else needs records nothing: its reverse computes each
iteration again, and the forward copy of the loop disappears. With
`value_and_grad` its results are returned, so it runs forward and tapes.
A `for` over `range` records into arrays of one item per iteration
(`y_tape[i] = y`, read back as `y = y_tape[i]`); other loops (`while`,
`break`, loops nested in a loop that tapes) push tuples on `_tape`.
"""

from __future__ import annotations

import ast
import linecache
import math
import re
from collections.abc import Callable
from typing import Any

import pytest
from conftest import numeric_gradient

from s2s_ad import grad, value_and_grad


class Recorder(list):  # type: ignore[type-arg]
    """A tape that counts what is pushed on it."""

    def __init__(self) -> None:
        super().__init__()
        self.pushes = 0
        self.pops = 0
        self.longest = 0
        self.pushed: list[Any] = []

    def append(self, value: Any) -> None:
        self.pushes += 1
        self.pushed.append(value)
        super().append(value)
        self.longest = max(self.longest, len(self))

    def pop(self, index: int = -1) -> Any:  # type: ignore[override]
        self.pops += 1
        return super().pop(index)


class ArrayRecorder(list):  # type: ignore[type-arg]
    """One of the arrays a counted loop records into (`x_tape[i] = x`), counting its stores and loads."""

    def __init__(self, items: list[Any]) -> None:
        super().__init__(items)
        self.stores = 0
        self.loads = 0

    def __setitem__(self, index: Any, value: Any) -> None:
        self.stores += 1
        super().__setitem__(index, value)

    def __getitem__(self, index: Any) -> Any:
        self.loads += 1
        return super().__getitem__(index)

    def __reversed__(self) -> Any:  # `for x in reversed(x_tape)`: each item read once
        for item in super().__reversed__():
            self.loads += 1
            yield item


ARRAY = re.compile(r"^(\s*)(\w+_tape) = (\[0\.0\] \* .+)$", re.M)


def generated_text(derivative: Callable[..., Any]) -> str:
    text = "".join(linecache.getlines(derivative.__code__.co_filename))
    assert text, "the generated module is registered in linecache"
    return text


def instrumented(
    f: Callable[..., float], derive: Callable[..., Any] = grad, arrays: list[ArrayRecorder] | None = None, **options: Any
) -> tuple[Callable[..., Any], list[Recorder]]:
    """derive(f), recompiled with its tape replaced by a Recorder; the recorders made, one per call. The
    arrays counted loops record into are replaced by ArrayRecorders, collected in `arrays` if given."""
    derivative = derive(f, **options)
    text = generated_text(derivative)
    tapes: list[Recorder] = []
    made = arrays if arrays is not None else []
    replaced = ARRAY.sub(r"\1\2 = __array__(\3)", text.replace("_tape = []", "_tape = __record__()"))
    namespace = dict(derivative.__globals__)
    namespace["__record__"] = lambda: tapes.append(Recorder()) or tapes[-1]
    namespace["__array__"] = lambda items: made.append(ArrayRecorder(items)) or made[-1]
    exec(compile(replaced, "<instrumented>", "exec"), namespace)  # noqa: S102
    return namespace[derivative.__name__], tapes  # type: ignore[return-value]


def pushed_expressions(f: Callable[..., float], derive: Callable[..., Any] = grad, **options: Any) -> list[str]:
    """The source of every expression recorded: pushed on the tape (a tuple counts as its items), or stored
    into a loop's array (`x_tape[i] = x`)."""
    tree = ast.parse(generated_text(derive(f, **options)))
    found = []
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "append"
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id == "_tape"
        ):
            arg = node.args[0]
            found += [ast.unparse(e) for e in arg.elts] if isinstance(arg, ast.Tuple) else [ast.unparse(arg)]
        elif (
            isinstance(node, ast.Assign)
            and isinstance(node.targets[0], ast.Subscript)
            and isinstance(node.targets[0].value, ast.Name)
            and node.targets[0].value.id.endswith("_tape")
        ):
            found.append(ast.unparse(node.value))
    return found


def assignments_to(f: Callable[..., float], names: list[str]) -> dict[str, str]:
    """What the generated forward sweep assigns to each of these names (first assignment)."""
    tree = ast.parse(generated_text(grad(f)))
    found: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            found.setdefault(node.targets[0].id, ast.unparse(node.value))
    return {n: found.get(n, "") for n in names}


# -- the functions ------------------------------------------------------------------


def dot(w: list[float], x: list[float]) -> float:
    s = 0.0
    for i in range(len(w)):
        s += w[i] * x[i]
    return s


def horner(x: float, n: int) -> float:
    y = 1.0
    for _ in range(n):
        y = y * x + 1.0
    return y


def product(xs: list[float], c: float) -> float:
    cc = c * c  # loop-invariant
    p = 1.0
    for i in range(len(xs)):
        p = p * xs[i] * cc
    return p


def signed_sum(xs: list[float]) -> float:
    t = 0.0
    for x in xs:
        if x > 0:
            t += x * x
        else:
            t -= math.sin(x)
    return t


def branch_outside_loops(x: float, y: float) -> float:
    if x > y:
        z = x * math.exp(y)
    elif x > 0 and not y > 1:
        z = x * x - y
    else:
        z = math.sin(x * y)
    return z if z > -5 else -z


def repeated_sweep(xs: list[float], n: int) -> float:
    t = 0.0
    for _ in range(n):
        for x in xs:
            t = t * 0.5 + math.sin(x) * t + x
    return t


def halving(a: float) -> float:
    x = a
    while x > 1.0:
        x = x / 2.0 + 0.1 * math.sin(x)
    return x


def read_local_list(xs: list[float]) -> float:
    ys = [x * x for x in xs]
    t = 0.0
    for i in range(len(ys)):
        t += ys[i] * xs[i]
    return t


# -- by reading the source ------------------------------------------------------------


def test_a_dot_product_loop_records_nothing() -> None:
    assert "_tape" not in generated_text(grad(dot))
    derivative, tapes = instrumented(dot)
    assert derivative([1.0, 2.0, 3.0], [4.0, 5.0, 6.0]) == ([4.0, 5.0, 6.0], [1.0, 2.0, 3.0])
    assert tapes == []


def test_branches_outside_loops_reuse_their_conditions_and_need_no_tape() -> None:
    text = generated_text(grad(branch_outside_loops))
    assert "_tape" not in text
    for point in ((1.5, 0.3), (0.4, 0.7), (-0.8, 0.5), (-3.0, 2.5)):
        assert grad(branch_outside_loops)(*point) == pytest.approx(
            numeric_gradient(branch_outside_loops, point), rel=1e-6, abs=1e-8
        )


def test_the_loop_index_and_elements_of_an_unmutated_list_are_not_pushed() -> None:
    pushed = pushed_expressions(product)
    assert "i" not in pushed
    forward = assignments_to(product, pushed)
    for expression in pushed:
        value = ast.parse(forward[expression] or expression, mode="eval").body
        assert not isinstance(value, ast.Subscript), f"{expression} = {forward[expression]} is recomputable"
    assert "cc" not in pushed, "the loop-invariant c * c is not pushed"


def test_a_branch_inside_a_loop_records_the_taken_branch() -> None:
    pushed = pushed_expressions(signed_sum, value_and_grad)
    assert len(pushed) == 1
    arrays: list[ArrayRecorder] = []
    derivative, tapes = instrumented(signed_sum, value_and_grad, arrays)
    xs = [0.5, -1.0, 2.0, -0.3, 0.9]
    assert derivative(xs)[1] == pytest.approx([2 * x if x > 0 else -math.cos(x) for x in xs])
    assert tapes == []
    (taken,) = arrays
    assert list(taken) == [x > 0 for x in xs] and taken.stores == taken.loads == len(xs)


def test_a_branch_inside_a_loop_that_only_accumulates_is_decided_again_in_reverse() -> None:
    assert pushed_expressions(signed_sum) == []
    derivative, tapes = instrumented(signed_sum)
    xs = [0.5, -1.0, 2.0, -0.3, 0.9]
    assert derivative(xs) == pytest.approx([2 * x if x > 0 else -math.cos(x) for x in xs])
    assert tapes == [] or tapes[0].pushes == 0


# -- by running it -------------------------------------------------------------------


@pytest.mark.parametrize("n", [0, 1, 5, 17])
def test_one_store_per_iteration_of_a_loop_with_a_known_trip_count(n: int) -> None:
    """A `for` over a range records into an array of one item per iteration, read back in reverse."""
    arrays: list[ArrayRecorder] = []
    derivative, tapes = instrumented(horner, arrays=arrays)
    got = derivative(0.7, n)
    assert got[0] == pytest.approx(numeric_gradient(lambda x: horner(x, n), (0.7,))[0], rel=1e-6, abs=1e-9)
    assert tapes == []
    (ys,) = arrays
    assert (len(ys), ys.stores, ys.loads) == (n, n, n)
    assert pushed_expressions(horner) == ["y"], "only the carried value the reverse sweep multiplies by"


def test_the_records_are_the_values_of_each_iteration() -> None:
    arrays: list[ArrayRecorder] = []
    derivative, tapes = instrumented(product, arrays=arrays)
    xs = [0.5, -2.0, 1.5, 3.0]
    derivative(xs, 0.9)
    assert tapes == [] and len(arrays) == 2, "per iteration: the running product p, and p * xs[i]"
    running = 1.0
    for x, item in zip(xs, arrays[0]):
        assert isinstance(item, float), "no indices or lists recorded"
        assert item == pytest.approx(running)  # the product before this iteration
        running *= x * 0.81


def test_nested_loops_push_once_per_inner_iteration() -> None:
    derivative, tapes = instrumented(repeated_sweep)
    xs = [0.3, -0.6, 1.2]
    got = derivative(xs, 4)
    expected = [numeric_gradient(lambda *v: repeated_sweep(list(v), 4), xs)]
    assert list(got[0]) == pytest.approx(list(expected[0]), rel=1e-6)
    (tape,) = tapes
    assert (tape.pushes, tape.pops, len(tape)) == (4 * len(xs), 4 * len(xs), 0)


@pytest.mark.parametrize("a", [0.5, 3.0, 40.0, 1000.0])
def test_a_while_loop_pushes_once_per_iteration_it_ran(a: float) -> None:
    trips, x = 0, a
    while x > 1.0:
        x, trips = x / 2.0 + 0.1 * math.sin(x), trips + 1
    derivative, tapes = instrumented(halving)
    assert derivative(a) == pytest.approx(numeric_gradient(halving, (a,), h=1e-7)[0], rel=1e-5)
    (tape,) = tapes
    assert (tape.pushes, tape.pops, len(tape)) == (trips, trips, 0)


def test_the_tape_is_a_fresh_list_on_every_call() -> None:
    derivative, tapes = instrumented(halving)
    derivative(3.0)
    derivative(3.0)
    assert len(tapes) == 2 and all(t.pushes == 2 and len(t) == 0 for t in tapes)
    arrays: list[ArrayRecorder] = []
    derivative, _ = instrumented(horner, arrays=arrays)
    derivative(0.5, 3)
    derivative(0.5, 3)
    assert len(arrays) == 2 and all(a.stores == 3 for a in arrays)


def test_logistic_regression_tape_counts() -> None:
    """Nested loops: one push per sample (the inner dot product records nothing)."""

    def bce(w: list[float], b: float, X: list[list[float]], y: list[float]) -> float:
        total = 0.0
        for i in range(len(X)):
            z = b
            for k in range(len(w)):
                z += w[k] * X[i][k]
            s = 1.0 / (1.0 + math.exp(-z))
            total -= y[i] * math.log(s) + (1.0 - y[i]) * math.log(1.0 - s)
        return total / len(X)

    X = [[0.5, 1.0], [-1.0, 0.3], [2.0, -0.4], [0.1, 0.1], [1.0, 1.0]]
    y = [1.0, 0.0, 1.0, 0.0, 1.0]
    arrays: list[ArrayRecorder] = []
    derivative, tapes = instrumented(bce, value_and_grad, arrays, wrt=("w", "b"))
    value, with_value = derivative([0.3, -0.2], 0.1, X, y)
    assert tapes == [] and len(arrays) == 2, "exp(-z) and s, per sample"
    assert all((len(a), a.stores, a.loads) == (len(X), len(X), len(X)) for a in arrays)
    assert value == bce([0.3, -0.2], 0.1, X, y)

    # The gradient alone needs no value of the loop: each sample is computed again in reverse, no tape, and
    # the forward loop is gone (one exp per sample, in the reverse loop).
    derivative, tapes = instrumented(bce, wrt=("w", "b"))
    alone = derivative([0.3, -0.2], 0.1, X, y)
    assert tapes == [] or tapes[0].pushes == 0
    code = [line for line in generated_text(grad(bce, wrt=("w", "b"))).splitlines() if not line.lstrip().startswith("#")]
    assert not any("_tape" in line for line in code)
    assert sum(line.count("math.exp(") for line in code) == 1
    numeric = numeric_gradient(lambda w0, w1, b: bce([w0, w1], b, X, y), (0.3, -0.2, 0.1))
    assert [*alone[0], alone[1]] == pytest.approx(numeric, rel=1e-6)
    assert [*with_value[0], with_value[1]] == pytest.approx(numeric, rel=1e-6)


def test_an_element_of_a_local_list_not_mutated_in_the_loop_is_not_pushed() -> None:
    derivative, tapes = instrumented(read_local_list)
    xs = [0.5, -1.0, 2.0]
    assert derivative(xs) == pytest.approx([3 * x * x for x in xs])
    assert tapes == [] or tapes[0].pushes == 0


def huber_sum(xs: list[float], c: float) -> float:
    t = 0.0
    for x in xs:
        r = x * c - 1.0
        if abs(r) <= 1.0:
            t += 0.5 * r * r
        else:
            t += abs(r) - 0.5
    return t


def test_a_branch_in_a_loop_records_once_per_iteration() -> None:
    arrays: list[ArrayRecorder] = []
    derivative, tapes = instrumented(huber_sum, value_and_grad, arrays)
    xs = [0.5, 3.0, 1.2, -2.0]
    got = derivative(xs, 1.1)[1]
    assert list(got[0]) + [got[1]] == pytest.approx(
        list(numeric_gradient(lambda *v: huber_sum(list(v[:-1]), v[-1]), (*xs, 1.1))), rel=1e-6
    )
    assert tapes == [] and arrays and all(a.stores == len(xs) for a in arrays)
