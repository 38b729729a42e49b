"""JAX's spellings: `argnums=`, `jvp(f, primals, tangents)`, `vjp(f, *primals)`, `jacfwd`, `jacrev`; bare results
for one parameter; and clear errors for wrong calls, raised before any generated code runs.

Every derivative is compared with central finite differences or a closed
form. The errors are read as a user reads them: the type, and a message
that says what was expected.
"""

from __future__ import annotations

import inspect
import math
import types

import pytest
from conftest import numeric_gradient

from s2s_ad import S2SError, grad, hessian, jacfwd, jacobian, jacrev, jvp, value_and_grad, vjp


def f(x: float, y: float, z: float) -> float:
    return x * y + math.sin(z) * x * x


def pair(x: float, y: float) -> tuple[float, float]:
    return x * y, math.exp(x) + y * y


def one(x: float) -> float:
    return x**3


def of_a_list(xs: list[float], k: float) -> float:
    total = 0.0
    for x in xs:
        total += k * x * x
    return total


POINT = (1.5, -2.0, 0.4)
TRUTH = numeric_gradient(f, POINT)


def close(got: object, expected: object) -> bool:
    """Equal to within finite-difference error, nested tuples of the same shape included."""
    if isinstance(expected, tuple):
        return isinstance(got, tuple) and len(got) == len(expected) and all(map(close, got, expected))
    return not isinstance(got, tuple) and got == pytest.approx(expected, rel=1e-6, abs=1e-7)


def numeric_jacobian(g: object, point: tuple[float, ...]) -> list[list[float]]:
    """Rows: one per output of `g`, one column per parameter (central differences)."""
    columns = []
    for j in range(len(point)):
        h = 1e-6
        up = list(point)
        down = list(point)
        up[j] += h
        down[j] -= h
        columns.append([(a - b) / (2 * h) for a, b in zip(g(*up), g(*down))])  # type: ignore[operator]
    return [[columns[j][i] for j in range(len(point))] for i in range(len(columns[0]))]


# -- argnums ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "argnums, expected",
    [
        (0, TRUTH[0]),
        (2, TRUTH[2]),
        (-1, TRUTH[2]),
        ((0, 2), (TRUTH[0], TRUTH[2])),
        ((1,), (TRUTH[1],)),
        ([2, 0], (TRUTH[2], TRUTH[0])),
    ],
    ids=repr,
)
def test_argnums_is_wrt_by_index(argnums: object, expected: object) -> None:
    got = grad(f, argnums=argnums)(*POINT)  # type: ignore[arg-type]
    assert type(got) is type(expected)
    assert close(got, expected)
    value, gradient = value_and_grad(f, argnums=argnums)(*POINT)  # type: ignore[arg-type]
    assert value == f(*POINT)
    assert close(gradient, expected)


def test_argnums_as_a_decorator() -> None:
    @grad(argnums=1)
    def g(x: float, y: float) -> float:
        return x * y * y

    assert g(3.0, 2.0) == pytest.approx(12.0)


def test_argnums_and_wrt_together_are_refused() -> None:
    with pytest.raises(TypeError, match="either wrt= or argnums="):
        grad(f, wrt="x", argnums=0)
    with pytest.raises(TypeError, match="either wrt= or argnums="):
        value_and_grad(f, wrt=("x",), argnums=(0,))


@pytest.mark.parametrize("argnums", ["x", ("x", 1), 1.5, True], ids=repr)
def test_argnums_takes_indices_only(argnums: object) -> None:
    with pytest.raises(TypeError, match="argnums takes an int or a tuple of ints"):
        grad(f, argnums=argnums)  # type: ignore[arg-type]


def test_argnums_out_of_range_is_a_clear_error() -> None:
    with pytest.raises(S2SError, match="has 3 parameter"):
        grad(f, argnums=3)


def test_grad_is_still_the_generated_function_itself() -> None:
    """Where the gradient reads every number parameter; d f / d y = x reads nothing of y, so a check
    that it is a number stands in front of it (f raises on a list there): the generated code is its
    `__wrapped__`, which `inspect.getsource` shows."""
    for derivative in (grad(f), value_and_grad(f, argnums=(0, 1))):
        assert type(derivative) is types.FunctionType
        assert not hasattr(derivative, "__wrapped__")
        assert inspect.getsource(derivative).startswith(f"def {derivative.__name__}(")
    checked = grad(f, argnums=1)
    assert inspect.getsource(checked).startswith(f"def {checked.__wrapped__.__name__}(")
    assert checked(*POINT) == pytest.approx(TRUTH[1])
    with pytest.raises(TypeError, match="'y' must be a number"):
        checked(1.0, [2.0], 3.0)


# -- jvp and vjp -------------------------------------------------------------------------------


def test_jvp_as_jax_spells_it() -> None:
    tangents = (0.3, -1.0, 2.0)
    value, derivative = jvp(f, POINT, tangents)
    assert value == pytest.approx(f(*POINT))
    assert derivative == pytest.approx(sum(t * d for t, d in zip(tangents, TRUTH)), rel=1e-6)
    assert jvp(f)(POINT, tangents) == (value, derivative)  # the curried form
    assert jvp(f)(primals=POINT, tangents=tangents) == (value, derivative)


def test_jvp_with_argnums_and_a_list_primal() -> None:
    xs = [0.5, -1.0, 2.0]
    value, derivative = jvp(of_a_list, (xs, 0.7), (1.0,), argnums=1)
    assert value == pytest.approx(of_a_list(xs, 0.7))
    assert derivative == pytest.approx(sum(x * x for x in xs))  # d/dk


def test_vjp_as_jax_spells_it() -> None:
    value, pullback = vjp(pair, 0.7, 1.3)
    assert value == pair(0.7, 1.3)
    rows = numeric_jacobian(pair, (0.7, 1.3))
    adjoints = pullback((2.0, -1.0))
    assert close(adjoints, tuple(2.0 * rows[0][j] - rows[1][j] for j in range(2)))
    assert close(vjp(pair)(0.7, 1.3)[1]((2.0, -1.0)), adjoints)


def test_jvp_with_the_wrong_number_of_tangents() -> None:
    with pytest.raises(TypeError, match=r"tangents takes 3 value\(s\), \(x, y, z\); 2 given"):
        jvp(f, POINT, (1.0, 0.0))
    with pytest.raises(TypeError, match=r"primals takes 3 value\(s\), \(x, y, z\); 2 given"):
        jvp(f)((1.0, 2.0), (1.0, 0.0, 0.0))


def test_jvp_with_a_number_where_a_tuple_belongs() -> None:
    with pytest.raises(TypeError, match=r"tangents must be a tuple of 1 value\(s\), \(x\), not float 1.0"):
        jvp(one, (2.0,), 1.0)
    with pytest.raises(TypeError, match="primals must be a tuple"):
        jvp(one, 2.0, (1.0,))
    with pytest.raises(TypeError, match="needs both the primals and the tangents"):
        jvp(one, (2.0,))


def test_a_string_where_a_number_belongs() -> None:
    with pytest.raises(TypeError, match=r"jvp\(f\): primals: 'y' must be a number, not str 'a'"):
        jvp(f, (1.0, "a", 0.0), (1.0, 0.0, 0.0))
    with pytest.raises(TypeError, match=r"tangents: 'x' must be a number, not NoneType None"):
        jvp(one, (2.0,), (None,))
    with pytest.raises(TypeError, match=r"vjp\(pair\): 'x' must be a number, not str"):
        vjp(pair, "0.7", 1.3)
    with pytest.raises(TypeError, match=r"hessian\(f\): 'z' must be a number"):
        hessian(f)(1.0, 2.0, "3")
    with pytest.raises(TypeError, match=r"jacobian\(pair\): 'y' must be a number"):
        jacobian(pair)(1.0, [2.0])
    with pytest.raises(TypeError, match="'xs' is a list, so its value must be a list of numbers, not float"):
        jvp(of_a_list, (1.0, 0.7), (1.0, 0.0))


def test_a_pullback_given_a_number_where_the_output_is_a_tuple() -> None:
    _, pullback = vjp(pair)(0.7, 1.3)
    with pytest.raises(TypeError, match=r"one adjoint per output: a tuple of 2 numbers, not float 1.0"):
        pullback(1.0)
    with pytest.raises(TypeError, match=r"a tuple of 2 numbers, not tuple \(1.0, 2.0, 3.0\)"):
        pullback((1.0, 2.0, 3.0))
    with pytest.raises(TypeError, match=r"the adjoint of output 1 must be a number, not str"):
        pullback((1.0, "2"))
    _, single = vjp(one)(2.0)
    with pytest.raises(TypeError, match=r"the output adjoint must be a number, not tuple \(1.0,\) \(f returns one number\)"):
        single((1.0,))
    assert single(1.0) == pytest.approx((12.0,))


def test_numbers_of_other_types_are_numbers() -> None:
    assert jvp(one, (2,), (True,))[1] == 12  # ints and bools are numbers
    numpy = pytest.importorskip("numpy")
    value, derivative = jvp(one, (numpy.float32(2.0),), (numpy.float64(1.0),))  # anything with __float__ passes
    assert value == pytest.approx(8.0) and derivative == pytest.approx(12.0)


# -- jacobian, jacfwd, jacrev, hessian --------------------------------------------------------


def test_jacobian_and_hessian_of_one_named_parameter_are_bare() -> None:
    assert jacobian(one, wrt="x")(2.0) == pytest.approx(12.0)
    assert hessian(one, wrt="x")(2.0) == pytest.approx(12.0)
    assert hessian(one, argnums=0)(2.0) == pytest.approx(12.0)
    assert hessian(f, wrt="z")(*POINT) == pytest.approx(-math.sin(0.4) * 1.5**2)
    assert close(jacobian(one)(2.0), ((12.0,),))  # wrt=None: the matrix, as before
    assert close(hessian(one, wrt=("x",))(2.0), ((12.0,),))
    rows = numeric_jacobian(pair, (0.7, 1.3))
    column = jacobian(pair, wrt="y")(0.7, 1.3)  # one derivative per output
    assert isinstance(column, tuple) and close(column, (rows[0][1], rows[1][1]))
    for mode in ("fwd", "rev"):
        assert close(jacobian(pair, argnums=1, mode=mode)(0.7, 1.3), column)


def test_jacfwd_and_jacrev_shape_as_jax() -> None:
    rows = numeric_jacobian(pair, (0.7, 1.3))
    for jac in (jacfwd, jacrev):
        first = jac(pair)(0.7, 1.3)  # argnums=0 by default, as in JAX: d(output)/dx per output
        assert isinstance(first, tuple) and close(first, (rows[0][0], rows[1][0]))
        both = jac(pair, argnums=(0, 1))(0.7, 1.3)
        assert close(both, tuple(tuple(row) for row in rows))
        assert close(jac(one)(2.0), 12.0)  # scalar in, scalar out: the number itself
        gradient = jac(f, argnums=(0, 2))(*POINT)  # one output: the row itself, no row of rows
        assert close(gradient, (TRUTH[0], TRUTH[2]))
        assert close(jac(f, wrt="y")(*POINT), TRUTH[1])


def test_matrix_functions_refuse_list_parameters() -> None:
    with pytest.raises(S2SError, match="take number parameters"):
        hessian(of_a_list, wrt=("xs", "k"))
    assert hessian(of_a_list, wrt="k")([1.0, 2.0], 0.3) == pytest.approx(0.0)
