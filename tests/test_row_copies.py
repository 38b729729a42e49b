"""Tables made of another table's rows: copies (`[list(r) for r in A]`, `M.append(list(r))`, `r[:]`) and the
rows themselves (`[r for r in A]`, `M.append(A[i])`, `[A[0], A[0]]`), read and written.

A table of copies may be changed freely; a table holding the caller's own rows may be read (the rows'
adjoints add into the caller's), and a write into such a row, which Python makes in the caller's list
too, is refused by name. Gradients are compared with central finite differences.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import pytest
from test_lists import assert_gradient

from s2s_ad import S2SError, grad, value_and_grad

A = [[1.0, 2.0], [3.0, 4.0]]


def copied_by_list(A):
    M = [list(r) for r in A]
    M[0][1] = M[0][0] * M[1][1]
    return M[0][1] * M[1][0] + math.sin(M[1][1])


def copied_by_append(A):
    M = []
    for r in A:
        M.append(list(r))
    M[1][0] = M[1][0] * M[0][1]
    return M[0][0] * M[1][1] + M[1][0]


def copied_by_index(A):
    M = [list(A[i]) for i in range(len(A))]
    M[1][1] = M[0][0] - M[1][1] * M[0][1]
    return M[0][0] * M[1][1] + M[1][0]


def rows_themselves(A):
    M = [r for r in A]
    return M[0][0] * M[1][1] + M[0][1] ** 2


def rows_appended(A):
    M = []
    for i in range(len(A)):
        M.append(A[i])
        M.append(A[i])
    return sum(M[k][0] * M[k][1] for k in range(len(M)))


def rows_in_a_literal_twice(A):
    M = [A[0], A[0], A[1]]
    return M[0][0] * M[1][0] + M[2][1] * M[0][1]


def local_rows_shared(x, y):
    T = [[x, y], [y * x, x]]
    M = []
    for r in T:
        M.append(r)
    M.append(T[0])
    return M[0][0] * M[2][1] + M[1][0] ** 2


def reordered_twice(A):
    M = [r for r in A]
    N = [M[1], M[0]]
    return N[0][0] * N[1][1] + math.sin(M[0][1])


READING: list[Callable[..., float]] = [
    copied_by_list,
    copied_by_append,
    copied_by_index,
    rows_themselves,
    rows_appended,
    rows_in_a_literal_twice,
    reordered_twice,
]


@pytest.mark.parametrize("function", READING, ids=lambda f: f.__name__)
def test_tables_of_rows_agree_with_differences(function: Callable[..., float]) -> None:
    assert_gradient(function, [list(r) for r in A])
    value, _ = value_and_grad(function)([list(r) for r in A])
    assert value == function([list(r) for r in A])


def test_a_local_tables_rows_held_twice() -> None:
    assert_gradient(local_rows_shared, 1.5, 0.7)


def written_through_the_comprehension(A):
    M = [r for r in A]
    M[0][0] = M[0][0] * 2.0  # A[0][0] changes too
    return M[0][0] + A[0][0] * A[1][1]


def written_through_an_appended_row(A):
    M = []
    M.append(A[0])
    M[0][0] = 3.0 * M[0][0]
    return A[0][0] + A[1][1]


def written_through_a_name(A):
    r = A[0]
    r[0] = r[0] * 2.0
    return A[0][0] + A[1][1]


WRITING = [written_through_the_comprehension, written_through_an_appended_row, written_through_a_name]


@pytest.mark.parametrize("function", WRITING, ids=lambda f: f.__name__)
def test_a_write_into_the_callers_row_is_refused_with_what_to_write(function: Callable[..., float]) -> None:
    with pytest.raises(S2SError) as info:
        grad(function)([list(r) for r in A])
    assert "the caller's list" in info.value.message
    assert info.value.hint is not None and ("copy" in info.value.hint)


def unread_table_of_copies(x):
    V = [[x * x], [x]]
    T = [list(V[i]) for i in range(len(V))]  # noqa: F841 - never read
    return V[0][0] * x


def test_a_table_of_copies_nothing_reads() -> None:
    # d/dx of x ** 3
    assert grad(unread_table_of_copies)(1.5) == pytest.approx(3 * 1.5**2)
