"""The cache of `grad` and friends: a gradient is built once, and built again when anything it read changes.

What the build read is everything the generated code depends on: the
function's code object, the globals, closure cells and builtins it looked
up, the helpers it inlined, and, transitively, their own code, globals and
constants. Each test changes one of them in a module written to a temporary
directory, and compares the new gradient with central finite differences of
the function as it now is (an independent truth), and checks that a cache
hit is the same object, found without reading the source again.
"""

from __future__ import annotations

import functools
import math
import textwrap
import types
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from conftest import import_file, numeric_gradient

from s2s_ad import cache, frontend, grad, hessian, jvp, value_and_grad

MODULE = """
    import math

    K = 2.0
    OFFSET = 0.5


    def _inner(t):
        return t * t


    def _act(t):
        return _inner(t) + OFFSET * t


    def cube(t):
        return t * t * t * K


    def loss(x):
        return _act(x) * 3


    def uses_abs(x):
        return abs(x) * x


    def scaled(x, y):
        return K * x * y + math.sin(y)


    WEIGHTS = [1.0, 2.0]


    def weighted(x):
        return sum(w * x * x for w in WEIGHTS)
"""


@pytest.fixture
def module(tmp_path: Path) -> Iterator[types.ModuleType]:
    """A fresh module of helpers and constants for each test (its own functions, so its own cache entries)."""
    path = tmp_path / "cache_subject.py"
    path.write_text(textwrap.dedent(MODULE))
    yield import_file(path, f"cache_subject_{abs(hash(path))}")


def truth(f: Callable[..., float], *point: float) -> float | tuple[float, ...]:
    gradient = numeric_gradient(f, point)
    return gradient[0] if len(point) == 1 else tuple(gradient)


def assert_gradient(got: object, f: Callable[..., float], *point: float) -> None:
    assert got == pytest.approx(truth(f, *point), rel=1e-6, abs=1e-8)


def test_a_hit_is_the_same_function(module: types.ModuleType) -> None:
    first = grad(module.loss)
    assert grad(module.loss) is first
    assert value_and_grad(module.loss) is value_and_grad(module.loss)
    assert grad(module.scaled, wrt="y") is grad(module.scaled, wrt="y")
    assert grad(module.scaled, wrt=["x", "y"]) is grad(module.scaled, wrt=("x", "y"))  # the same request


def test_a_hit_does_not_read_the_source(module: types.ModuleType, monkeypatch: pytest.MonkeyPatch) -> None:
    first = grad(module.loss)

    def no_parsing(*args: object, **kwargs: object) -> None:
        raise AssertionError("a cache hit parsed the function again")

    monkeypatch.setattr(frontend, "from_callable", no_parsing)
    monkeypatch.setattr(frontend.inspect, "getsourcelines", no_parsing)
    assert grad(module.loss) is first
    assert grad(module.loss)(1.5) == first(1.5)


def test_a_rebound_helper_is_noticed(module: types.ModuleType) -> None:
    """The bug this cache was rebuilt for: `_act` rebound to another function gave the old gradient."""
    before = grad(module.loss)
    assert_gradient(before(1.5), module.loss, 1.5)
    module._act = module.cube
    after = grad(module.loss)
    assert after is not before
    assert module.loss(1.5) == pytest.approx(module.cube(1.5) * 3)
    assert_gradient(after(1.5), module.loss, 1.5)
    assert after(1.5) == pytest.approx(3 * 3 * 1.5**2 * module.K)  # closed form: d(3 K t^3)/dt
    assert before(1.5) == pytest.approx(3 * (2 * 1.5 + module.OFFSET))  # the one in hand keeps what it was built from


def test_a_helpers_helper_and_constants_are_noticed(module: types.ModuleType) -> None:
    grad(module.loss)
    module._inner = math.sin  # the helper of the helper: a math function now
    assert_gradient(grad(module.loss)(0.7), module.loss, 0.7)
    assert grad(module.loss)(0.7) == pytest.approx(3 * (math.cos(0.7) + module.OFFSET))
    module.OFFSET = -4.0  # a constant only the helper reads
    assert grad(module.loss)(0.7) == pytest.approx(3 * (math.cos(0.7) - 4.0))
    module._act = module.cube
    grad(module.loss)
    module.K = 10.0  # a constant of the new helper
    assert grad(module.loss)(0.7) == pytest.approx(3 * 3 * 0.7**2 * 10.0)
    assert_gradient(grad(module.loss)(0.7), module.loss, 0.7)


def test_the_same_value_assigned_again_is_a_hit(module: types.ModuleType) -> None:
    first = grad(module.scaled)
    module.K = float("2.0")  # another float object, the same number
    assert grad(module.scaled) is first
    module.K = 2  # the same value but an int: the generated code could differ
    assert grad(module.scaled) is not first
    assert_gradient(grad(module.scaled)(0.3, 0.4), module.scaled, 0.3, 0.4)


def test_zero_and_negative_zero_are_different_constants(module: types.ModuleType) -> None:
    module.K = 0.0
    first = grad(module.scaled, wrt="x")
    module.K = -0.0
    second = grad(module.scaled, wrt="x")
    assert second is not first
    assert math.copysign(1.0, second(1.0, 1.0)) == -1.0  # d/dx (K x y) = K y = -0.0
    assert math.copysign(1.0, first(1.0, 1.0)) == 1.0


def test_a_global_that_shadows_a_builtin_is_noticed(module: types.ModuleType) -> None:
    assert grad(module.uses_abs)(-1.5) == pytest.approx(3.0)  # d(|x| x)/dx = 2 |x|
    module.abs = module._inner  # a module-level `abs` now shadows the builtin: x * x * x
    assert_gradient(grad(module.uses_abs)(-1.5), module.uses_abs, -1.5)
    assert grad(module.uses_abs)(-1.5) == pytest.approx(3 * 1.5**2)


def test_a_new_code_object_is_noticed(module: types.ModuleType) -> None:
    first = grad(module.cube)
    module.cube.__code__ = module._inner.__code__
    assert module.cube(3.0) == 9.0
    assert grad(module.cube) is not first
    assert grad(module.cube)(3.0) == pytest.approx(6.0)
    module._act.__code__ = module.cube.__code__  # a helper's code changes under the function
    assert_gradient(grad(module.loss)(1.2), module.loss, 1.2)


def closure(k: float) -> Callable[[float], float]:
    def scaled(x: float) -> float:
        return k * x * x

    def rebind(value: float) -> None:
        nonlocal k
        k = value

    scaled.rebind = rebind  # type: ignore[attr-defined]
    return scaled


def test_a_changed_closure_cell_is_noticed() -> None:
    scaled = closure(2.0)
    first = grad(scaled)
    assert first(1.5) == pytest.approx(2 * 2.0 * 1.5)
    assert grad(scaled) is first
    scaled.rebind(5.0)  # type: ignore[attr-defined]
    assert grad(scaled)(1.5) == pytest.approx(2 * 5.0 * 1.5)
    assert_gradient(grad(scaled)(1.5), scaled, 1.5)


def test_data_read_by_name_is_the_current_list(module: types.ModuleType) -> None:
    assert grad(module.weighted)(1.5) == pytest.approx(2 * 3.0 * 1.5)
    module.WEIGHTS = [1.0, 2.0, 3.0]  # another list
    assert grad(module.weighted)(1.5) == pytest.approx(2 * 6.0 * 1.5)
    module.WEIGHTS[0] = 4.0  # the same list, changed in place: generated code reads it when it runs
    assert grad(module.weighted)(1.5) == pytest.approx(2 * 9.0 * 1.5)
    assert_gradient(grad(module.weighted)(1.5), module.weighted, 1.5)


def test_every_kind_of_derivative_is_cached_and_noticed(module: types.ModuleType) -> None:
    forward = jvp(module.loss)
    assert jvp(module.loss) is forward
    second = hessian(module.scaled)
    assert hessian(module.scaled) is second
    module._act = module.cube
    module.K = 3.0
    assert jvp(module.loss) is not forward
    assert jvp(module.loss, (1.5,), (1.0,))[1] == pytest.approx(truth(module.loss, 1.5), rel=1e-6)
    assert hessian(module.scaled)(0.3, 0.4)[0][1] == pytest.approx(3.0)  # d2(K x y + sin y)/dx dy


def test_partials_are_cached_by_what_they_bind(module: types.ModuleType) -> None:
    first = grad(functools.partial(module.scaled, y=3.0))
    assert grad(functools.partial(module.scaled, y=3.0)) is first  # a new partial object, the same binding
    other = grad(functools.partial(module.scaled, y=4.0))
    assert other is not first
    assert first(0.5) == pytest.approx(2.0 * 3.0)
    assert other(0.5) == pytest.approx(2.0 * 4.0)


class Scaled:
    def __init__(self, w: float) -> None:
        self.w = w

    def loss(self, x: float) -> float:
        return self.w * x * x

    def free(self, x: float) -> float:
        return x * x * x


def test_methods_are_cached_per_object_when_they_read_it() -> None:
    one, two = Scaled(2.0), Scaled(3.0)
    assert grad(one.loss)(1.5) == pytest.approx(2 * 2.0 * 1.5)
    assert grad(two.loss)(1.5) == pytest.approx(2 * 3.0 * 1.5)
    assert grad(one.loss) is grad(one.loss)  # a new bound method each time, the same object
    one.w = 7.0
    assert grad(one.loss)(1.5) == pytest.approx(2 * 7.0 * 1.5)
    assert grad(one.free) is grad(two.free)  # reads nothing of the object: one gradient for all


def test_an_entry_goes_with_its_function() -> None:
    """The cache holds functions weakly: a closure that is gone takes its gradient with it."""
    import gc

    scaled = closure(2.0)
    grad(scaled)
    value_and_grad(scaled)
    assert scaled in cache.ENTRIES
    count = len(cache.ENTRIES)
    del scaled
    gc.collect()
    assert len(cache.ENTRIES) == count - 1
