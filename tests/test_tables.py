"""Local lists of lists: tables filled in place (`D[i][j] = ...`), rows appended (`table.append(row)`),
nested comprehensions; the dynamic programs and factorizations that need them.

Every gradient is compared with central finite differences (`assert_gradient`),
and the Cholesky log-determinant also with its closed form, d log det A / dA = inv(A).
"""

from __future__ import annotations

import math
from typing import Any

import pytest
from test_lists import assert_gradient

from s2s_ad import check, grad, jvp, value_and_grad
from s2s_ad.errors import S2SError


def filled_table(x: float, y: float) -> float:
    D = [[0.0] * 3 for _ in range(3)]
    for i in range(3):
        for j in range(3):
            D[i][j] = x * i + y * j + (D[i - 1][j] * x if i > 0 else 0.0)
    return D[2][1] + D[1][2] * y


def rows_appended(xs: list[float], w: float) -> float:
    M = []
    for i in range(len(xs)):
        row = []
        for j in range(len(xs)):
            row.append(xs[i] * xs[j] * w)
        M.append(row)
    return sum(M[i][i] for i in range(len(xs))) + M[0][1] * M[1][0]


def rbf_kernel_sum(xs: list[float]) -> float:
    K = [[math.exp(-((a - b) ** 2)) for b in xs] for a in xs]
    return sum(sum(r) for r in K) + K[0][1]


def cholesky_logdet(a: float, b: float, c: float) -> float:
    """log det of [[a, b, 0.1], [b, c, 0.2], [0.1, 0.2, a + c]] from its Cholesky factor."""
    A = [[a, b, 0.1], [b, c, 0.2], [0.1, 0.2, a + c]]
    n = 3
    L = [[0.0] * n for _ in range(n)]
    for i in range(n):
        for j in range(i + 1):
            s = 0.0
            for k in range(j):
                s += L[i][k] * L[j][k]
            if i == j:
                L[i][j] = math.sqrt(A[i][i] - s)
            else:
                L[i][j] = (A[i][j] - s) / L[j][j]
    return sum(2 * math.log(L[i][i]) for i in range(n))


def gaussian_elimination(a: float, b: float, r: float) -> float:
    """Solve [[a, b], [b, 3]] x = [r, 1] by elimination in place; return x0 + 2 x1."""
    M = [[a, b, r], [b, 3.0, 1.0]]
    n = 2
    for k in range(n):
        for i in range(k + 1, n):
            f = M[i][k] / M[k][k]
            for j in range(k, n + 1):
                M[i][j] = M[i][j] - f * M[k][j]
    x1 = M[1][2] / M[1][1]
    x0 = (M[0][2] - M[0][1] * x1) / M[0][0]
    return x0 + 2 * x1


def viterbi_score(scores: list[list[float]], trans: list[list[float]]) -> float:
    n = len(scores)
    best = [[0.0] * 2 for _ in range(n)]
    best[0][0] = scores[0][0]
    best[0][1] = scores[0][1]
    for t in range(1, n):
        for s in range(2):
            best[t][s] = max(best[t - 1][0] + trans[0][s], best[t - 1][1] + trans[1][s]) + scores[t][s]
    return max(best[n - 1][0], best[n - 1][1])


def soft_edit_table(a: list[float], b: list[float], gamma: float) -> float:
    """Edit distance with a soft minimum over the whole table."""
    D = [[0.0] * (len(b) + 1) for _ in range(len(a) + 1)]
    for i in range(len(a) + 1):
        D[i][0] = float(i)
    for j in range(len(b) + 1):
        D[0][j] = float(j)
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            options = [D[i - 1][j] + 1.0, D[i][j - 1] + 1.0, D[i - 1][j - 1] + (a[i - 1] - b[j - 1]) ** 2]
            m = min(options)
            D[i][j] = m - gamma * math.log(sum(math.exp(-(o - m) / gamma) for o in options))
    return D[len(a)][len(b)]


def append_empty_then_fill(xs: list[float]) -> float:
    M = []
    for x in xs:
        M.append([])
        M[-1].append(x * x)
        M[-1].append(x + 1.0)
    return M[0][0] * M[1][1] + M[1][0]


def literal_rows_grow(x: float) -> float:
    D = [[], [1.0]]
    D[0].append(x * x)
    D[1].append(x)
    return D[0][0] * D[1][1] + D[1][0]


CASES: list[tuple[Any, tuple[Any, ...], tuple[int, ...]]] = [
    (filled_table, (0.5, 1.5), (0, 1)),
    (rows_appended, ([1.0, 2.0, 0.5], 0.7), (0, 1)),
    (rbf_kernel_sum, ([0.1, 0.5, 0.9],), (0,)),
    (cholesky_logdet, (4.0, 1.0, 3.0), (0, 1, 2)),
    (gaussian_elimination, (2.0, 0.5, 1.0), (0, 1, 2)),
    (viterbi_score, ([[1.0, 0.5], [0.2, 0.9], [0.3, 0.4]], [[0.1, -0.2], [0.3, 0.05]]), (0, 1)),
    (soft_edit_table, ([1.0, 2.0, 0.5], [1.5, 0.2], 0.7), (0, 1, 2)),
    (append_empty_then_fill, ([1.0, 2.0],), (0,)),
    (literal_rows_grow, (1.5,), (0,)),
]


def literal_table_grown(x: float) -> float:
    D = [[x, 1.0], [2.0, x]]
    D.append([x * x, 0.0])
    return D[2][0] * D[0][0] + D[1][1]


def rows_replaced_in_place(x: float, n: int) -> float:
    D = [[0.0] * 2 for _ in range(n)]
    for i in range(n):
        D[i][:] = [x * i, x + i]  # what the refusal of D[i] = [...] says to write
    return sum(D[i][0] * D[i][1] for i in range(n))


CASES.append((literal_table_grown, (1.5,), (0,)))
CASES.append((rows_replaced_in_place, (1.5, 3), (0,)))


@pytest.mark.parametrize("function, args, wrt", CASES, ids=[c[0].__name__ for c in CASES])
def test_gradient_agrees_with_finite_differences(function: Any, args: tuple[Any, ...], wrt: tuple[int, ...]) -> None:
    assert_gradient(function, *args, wrt=wrt, rel=1e-5, abs_=1e-6)


@pytest.mark.parametrize("function, args, wrt", CASES, ids=[c[0].__name__ for c in CASES])
def test_value_and_grad_and_the_check(function: Any, args: tuple[Any, ...], wrt: tuple[int, ...]) -> None:
    value, _ = value_and_grad(function, wrt=wrt)(*args)
    assert value == function(*args)
    assert check(function, args=args).ok


def test_cholesky_log_determinant_has_the_inverse_as_its_gradient() -> None:
    a, b, c = 4.0, 1.0, 3.0
    A = [[a, b, 0.1], [b, c, 0.2], [0.1, 0.2, a + c]]
    det = (
        A[0][0] * (A[1][1] * A[2][2] - A[1][2] * A[2][1])
        - A[0][1] * (A[1][0] * A[2][2] - A[1][2] * A[2][0])
        + A[0][2] * (A[1][0] * A[2][1] - A[1][1] * A[2][0])
    )

    def inverse(i: int, j: int) -> float:  # the cofactor over the determinant (A is symmetric)
        rows = [r for r in range(3) if r != j]
        cols = [k for k in range(3) if k != i]
        minor = A[rows[0]][cols[0]] * A[rows[1]][cols[1]] - A[rows[0]][cols[1]] * A[rows[1]][cols[0]]
        return (-1) ** (i + j) * minor / det

    # a sits at A[0][0] and A[2][2], b at A[0][1] and A[1][0], c at A[1][1] and A[2][2]
    expected = (inverse(0, 0) + inverse(2, 2), 2 * inverse(0, 1), inverse(1, 1) + inverse(2, 2))
    assert grad(cholesky_logdet)(a, b, c) == pytest.approx(expected, rel=1e-12)


def test_viterbi_gradient_picks_the_best_path() -> None:
    """The best path's score is a sum of entries: its gradient is 1 on the path's entries and 0 elsewhere."""
    scores, trans = [[1.0, 0.5], [0.2, 0.9], [0.3, 0.4]], [[0.1, -0.2], [0.3, 0.05]]
    d_scores, d_trans = grad(viterbi_score)(scores, trans)
    assert d_scores == [[1.0, 0.0], [0.0, 1.0], [1.0, 0.0]]  # the path 0 -> 1 -> 0
    assert d_trans == [[0.0, 1.0], [1.0, 0.0]]


def test_forward_mode_on_a_table() -> None:
    _, derivative = jvp(cholesky_logdet)((4.0, 1.0, 3.0), (1.0, -0.5, 0.25))
    gradient = grad(cholesky_logdet)(4.0, 1.0, 3.0)
    assert derivative == pytest.approx(gradient[0] - 0.5 * gradient[1] + 0.25 * gradient[2], rel=1e-12)


def row_used_after_it_is_appended(x: float) -> float:
    M = []
    row = [x, 2.0 * x]
    M.append(row)
    return M[0][1] + row[0]


def row_of_a_parameter_changed(W: list[list[float]]) -> float:
    W[0][0] = 1.0
    return W[0][1]


@pytest.mark.parametrize(
    "function, words",
    [
        (row_used_after_it_is_appended, ("'row'", "used again")),
        (row_of_a_parameter_changed, ("caller's list",)),
    ],
)
def test_what_stays_refused_says_so(function: Any, words: tuple[str, ...]) -> None:
    with pytest.raises(S2SError) as info:
        grad(function, wrt=0)
    for word in words:
        assert word in info.value.message
    assert info.value.filename == __file__
