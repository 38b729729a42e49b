"""The generated NumPy code: what a person reads (the lecture's `W_bar = X.T @ logits_bar`), what it imports,
its types, and the optimizer pass that only arrays meet (`optimize.spreads`)."""

from __future__ import annotations

import inspect
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest
from conftest import import_source

from s2s_ad import check, frontend, grad, optimize, pipeline

SOURCE = """
import numpy as np


def softmax_loss(W, b, X, Y):
    logits = X @ W + b
    logits = logits - logits.max(axis=1, keepdims=True)
    logp = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
    return -np.mean(np.sum(Y * logp, axis=1))


def squares(x):
    return np.sum(np.tanh(x) * x)


def alias_param(W):
    A = W
    A += 1.0  # changes the caller's W too: sum((W + 1) ** 2)
    return np.sum(A * W)


def view_row(X):
    r = X[0]
    r += 1.0  # changes X's first row
    return np.sum(X * X)


def loop_alias(W):
    acc = W
    for k in range(2):
        acc += 1.0
    return np.sum(acc * W)


def fresh_accumulator(X, w):
    acc = np.zeros_like(w)
    for x in X:
        acc += np.tanh(x * w)  # a new array no other name holds: the same as acc = acc + ...
    return np.sum(acc**2)
"""


@pytest.fixture(scope="module")
def module(tmp_path_factory: pytest.TempPathFactory) -> ModuleType:
    return import_source(SOURCE, Path(tmp_path_factory.mktemp("numpy_codegen")))


def batch(dtype: type = np.float64) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(3)
    W, b, X = rng.normal(size=(5, 3)), rng.normal(size=3), rng.normal(size=(8, 5))
    Y = np.eye(3)[rng.integers(0, 3, size=8)]
    return tuple(a.astype(dtype) for a in (W, b, X, Y))


def central(f: object, A: np.ndarray, h: float = 1e-6) -> np.ndarray:
    """d f / d A, element by element, by central differences (the truth for a function of one array)."""
    truth = np.zeros_like(A)
    for index in np.ndindex(A.shape):
        step = np.zeros_like(A)
        step[index] = h
        truth[index] = (f(A + step) - f(A - step)) / (2 * h)  # type: ignore[operator]
    return truth


def softmax(Z: np.ndarray) -> np.ndarray:
    E = np.exp(Z - Z.max(axis=1, keepdims=True))
    return E / E.sum(axis=1, keepdims=True)


def test_the_softmax_gradient_reads_as_the_lecture_writes_it(module: ModuleType) -> None:
    W, b, X, Y = batch()
    derivative = grad(module.softmax_loss, wrt=("W", "b"))
    dW, db = derivative(W, b, X, Y)
    P = softmax(X @ W + b)  # the closed form: the logits' gradient is (P - Y) / N
    np.testing.assert_allclose(dW, X.T @ (P - Y) / len(X), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(db, (P - Y).sum(axis=0) / len(X), rtol=1e-12, atol=1e-15)
    source = inspect.getsource(derivative)
    assert "W_bar = X.T @ logits_bar" in source
    assert "b_bar = logits_bar.sum(axis=0)" in source
    assert "X_bar" not in source and "Y_bar" not in source  # data: no adjoint work
    assert source.count("np.ones_like") <= 1  # the sums' adjoints spread by broadcasting (optimize.spreads)
    assert "s2s_ad" not in source


def test_the_module_imports_numpy_as_np(module: ModuleType) -> None:
    parsed = frontend.from_function(module.squares)
    built = pipeline.build(parsed, None, arg_types=pipeline.argument_types(parsed, (np.ones(3),), {}))
    assert built.generated.source.startswith("import numpy as np\n")
    assert "import math" not in built.generated.source


def test_float32_in_float32_out(module: ModuleType) -> None:
    W, b, X, Y = batch(np.float32)
    dW, db = grad(module.softmax_loss, wrt=("W", "b"))(W, b, X, Y)
    assert dW.dtype == np.float32 and db.dtype == np.float32
    P = softmax((X @ W + b).astype(np.float64))
    np.testing.assert_allclose(dW, X.T.astype(np.float64) @ (P - Y) / len(X), rtol=1e-4, atol=1e-6)


def test_a_new_shape_gets_code_of_its_own(module: ModuleType) -> None:
    derivative = grad(module.squares)
    for shape in ((3,), (2, 4), (1, 5)):
        x = np.linspace(-1.0, 1.0, int(np.prod(shape))).reshape(shape)
        expected = np.tanh(x) + x * (1 - np.tanh(x) ** 2)
        np.testing.assert_allclose(derivative(x), expected, rtol=1e-13)
        assert derivative(x).shape == shape


def test_spreads_changes_no_number_and_drops_the_ones(module: ModuleType) -> None:
    """`g * np.ones_like(x)` multiplied by an array of x's shape is `g` times that array: the same numbers."""
    args = batch()
    parsed = frontend.from_function(module.softmax_loss)
    built = pipeline.build(parsed, ("W", "b"), arg_types=pipeline.argument_types(parsed, args, {}))
    without = tuple(p for p in optimize.PASSES if p is not optimize.spreads)
    derived = built.derived
    results = {}
    for name, passes in (("with", optimize.PASSES), ("without", without)):
        function = pipeline.ad.gradient(built.primal, ("W", "b"), rules=built.rules)
        for step in passes:
            function = step(function, built.rules)
        generated = pipeline.codegen.generate(function, built.rules)
        results[name] = (
            generated.source,
            pipeline.compiled(parsed, pipeline.Built(built.primal, function, generated, ("W", "b")))(*args),
        )
    assert derived is not None
    assert results["with"][0].count("ones_like") < results["without"][0].count("ones_like")
    for a, b in zip(results["with"][1], results["without"][1]):
        np.testing.assert_array_equal(a, b)


def test_the_command_line_writes_numpy_gradients_given_the_shapes(tmp_path: Path) -> None:
    """`s2s-ad grad` never imports the file it reads: the shapes of the arrays come from --shapes, and
    the module it writes runs with NumPy alone."""
    import subprocess
    import sys

    (tmp_path / "model.py").write_text(SOURCE)
    run = [sys.executable, "-m", "s2s_ad", "grad", "model.py:softmax_loss", "--wrt", "W,b"]
    refused = subprocess.run(run, cwd=tmp_path, capture_output=True, text=True, check=False)
    assert refused.returncode == 1
    assert "works on NumPy arrays" in refused.stderr and "--shapes" in refused.stderr
    assert "Traceback" not in refused.stderr
    written = subprocess.run(
        [*run, "--shapes", "W=5x3,b=3,X=8x5,Y=8x3", "-o", "g.py"], cwd=tmp_path, capture_output=True, text=True, check=False
    )
    assert written.returncode == 0, written.stderr
    text = (tmp_path / "g.py").read_text()
    assert "import numpy as np" in text and "s2s_ad" not in text.split('"""', 2)[2]
    namespace: dict[str, object] = {}
    exec(compile(text, str(tmp_path / "g.py"), "exec"), namespace)  # noqa: S102 - the code under test
    W, b, X, Y = batch()
    dW, db = namespace["softmax_loss_grad"](W, b, X, Y)  # type: ignore[operator]
    P = softmax(X @ W + b)
    np.testing.assert_allclose(dW, X.T @ (P - Y) / len(X), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(db, (P - Y).sum(axis=0) / len(X), rtol=1e-12, atol=1e-15)
    # sizes other than the example's: the code is right for every size but 1
    W2, X2, Y2 = np.ones((2, 3)) * 0.1, np.arange(14.0).reshape(7, 2) / 10, np.eye(3)[[0, 1, 2, 0, 1, 2, 0]]
    dW2, _ = namespace["softmax_loss_grad"](W2, b, X2, Y2)  # type: ignore[operator]
    P2 = softmax(X2 @ W2 + b)
    np.testing.assert_allclose(dW2, X2.T @ (P2 - Y2) / 7, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("name", ["alias_param", "view_row", "loop_alias"])
def test_an_in_place_change_of_an_array_another_name_holds_is_refused(module: ModuleType, name: str) -> None:
    """`a += b` changes the array itself, and with it every name that holds it (the caller's argument, a
    view); the gradient's `a = a + b` would not: refused, never a wrong number."""
    from s2s_ad import S2SError

    with pytest.raises(S2SError, match="in place"):
        grad(getattr(module, name))(np.ones((2, 3)))


def test_an_in_place_sum_into_a_fresh_array_is_differentiated(module: ModuleType) -> None:
    X, w = np.linspace(-1, 1, 12).reshape(4, 3), np.array([0.3, -0.2, 0.5])
    derivative = grad(module.fresh_accumulator, wrt="w")(X, w)
    h = 1e-6
    truth = [(module.fresh_accumulator(X, w + h * e) - module.fresh_accumulator(X, w - h * e)) / (2 * h) for e in np.eye(3)]
    np.testing.assert_allclose(derivative, truth, rtol=1e-7, atol=1e-9)


def test_jvp_and_hessian_on_arrays(module: ModuleType) -> None:
    """Forward mode on arrays (the rules' tangent templates), and forward over reverse: the Hessian of the
    softmax loss in b against finite differences of the gradient, and its blocks' shapes."""
    from s2s_ad import hessian, jvp

    W, b, X, Y = batch()
    direction = (np.ones_like(W) * 0.1, np.linspace(-1, 1, 3))
    value, derivative = jvp(module.softmax_loss, (W, b, X, Y), direction, wrt=("W", "b"))
    dW, db = grad(module.softmax_loss, wrt=("W", "b"))(W, b, X, Y)
    assert value == pytest.approx(module.softmax_loss(W, b, X, Y), rel=1e-14)
    assert derivative == pytest.approx(np.sum(dW * direction[0]) + np.sum(db * direction[1]), rel=1e-12)
    H = hessian(module.softmax_loss, wrt="b")(W, b, X, Y)
    assert H.shape == (3, 3)
    h = 1e-5
    gradient_b = grad(module.softmax_loss, wrt="b")
    columns = [(gradient_b(W, b + h * e, X, Y) - gradient_b(W, b - h * e, X, Y)) / (2 * h) for e in np.eye(3)]
    np.testing.assert_allclose(H, np.array(columns).T, atol=1e-8)
    blocks = hessian(module.softmax_loss, wrt=("W", "b"))(W, b, X, Y)
    assert [[block.shape for block in row] for row in blocks] == [[(5, 3, 5, 3), (5, 3, 3)], [(3, 5, 3), (3, 3)]]
    np.testing.assert_allclose(blocks[0][1], blocks[1][0].transpose(1, 2, 0), atol=1e-12)  # symmetric


def test_grad_with_check_on_arrays_checks_at_the_first_call(module: ModuleType) -> None:
    W, b, X, Y = batch()
    dW, _ = grad(module.softmax_loss, wrt=("W", "b"), check=True)(W, b, X, Y)
    assert dW.shape == W.shape


LAYER = """
import numpy as np


def layer(W, x):
    return np.tanh(W @ x)
"""


def test_vjp_and_jacobian_of_an_array_valued_function(tmp_path: Path) -> None:
    """As JAX shapes them: a pullback takes an adjoint shaped like the output; the Jacobian of the output in a
    parameter is `output.shape + parameter.shape`."""
    from s2s_ad import jacfwd, jacobian, jacrev, vjp

    layer = import_source(LAYER, tmp_path).layer
    W, x = np.arange(6.0).reshape(2, 3) / 10, np.array([0.5, -0.3, 0.2])
    value, pullback = vjp(layer)(W, x)
    np.testing.assert_allclose(value, np.tanh(W @ x))
    seed = np.array([1.0, 2.0])
    dW, dx = pullback(seed)
    delta = seed * (1 - np.tanh(W @ x) ** 2)  # the lecture's delta: dW = outer(delta, x), dx = W.T @ delta
    np.testing.assert_allclose(dW, np.outer(delta, x), rtol=1e-13)
    np.testing.assert_allclose(dx, W.T @ delta, rtol=1e-13)
    J = jacobian(layer, wrt="x")(W, x)
    assert J.shape == (2, 3)
    np.testing.assert_allclose(J, np.diag(1 - np.tanh(W @ x) ** 2) @ W, rtol=1e-13)
    assert jacobian(layer, wrt="W")(W, x).shape == (2, 2, 3)
    assert jacrev(layer)(W, x).shape == (2, 2, 3) and jacfwd(layer, argnums=1)(W, x).shape == (2, 3)
    assert [j.shape for j in jacobian(layer)(W, x)] == [(2, 2, 3), (2, 3)]


WRITES = """
import numpy as np


def into_parameter(x):
    x[0] = 1.0  # the caller's array
    return np.sum(x**2)


def through_a_view(A):
    B = A * 1.0
    row = B[0]
    B[0] = 2.0 * row  # row sees the write in NumPy
    return np.sum(row * B)


def column(A):
    B = A * 1.0
    B[:, 0] = 2.0 * A[:, 1]
    return np.sum(B**3)


def tail(A):
    B = np.zeros_like(A)
    B[1:] = A[:-1] ** 2  # rows 1.. from rows ..-1
    B[:1, ::2] = 3.0 * A[-1:, ::2]
    return np.sum(B * A)
"""


def test_writes_into_arrays(tmp_path: Path) -> None:
    """`B[:, 0] = ...` into the function's own array is a new value (`_put`); into a parameter or an array a
    named view shares, it is refused (the write would show through the other name)."""
    from s2s_ad import S2SError

    programs = import_source(WRITES, tmp_path)
    with pytest.raises(S2SError, match="another name"):
        grad(programs.into_parameter)(np.ones(3))
    with pytest.raises(S2SError, match="another name"):
        grad(programs.through_a_view)(np.ones((2, 2)))
    A = np.array([[0.3, -0.5], [0.8, 0.1], [-0.4, 0.6]])
    for f in (programs.column, programs.tail):
        np.testing.assert_allclose(grad(f)(A), central(f, A), rtol=1e-7, atol=1e-9)
    assert "B = _put(B, (slice(None), 0), " in inspect.getsource(grad(programs.column))


PRODUCTS = """
import numpy as np


def products(x):
    return np.prod(x) + x.prod(axis=1).sum() + np.sum(np.prod(x, axis=0, keepdims=True) ** 2)
"""


def test_a_product_with_a_zero_element(tmp_path: Path) -> None:
    """A product's adjoint is the product of the other elements, computed without dividing by the element:
    exact where an element is 0 (out / x would be nan there)."""
    from s2s_ad import S2SError, hessian

    products = import_source(PRODUCTS, tmp_path).products
    x = np.array([[0.5, 0.0, 2.0], [1.5, -1.0, 0.7]])
    np.testing.assert_allclose(grad(products)(x), central(products, x), rtol=1e-7, atol=1e-9)
    assert check(products, args=(x,)).ok
    with pytest.raises(S2SError, match="not supported yet"):
        hessian(products, wrt="x")(x)


# The NumPy examples' gradients as the command line writes them (golden files, refreshed as tests/test_golden.py's
# are: S2S_AD_REFRESH_GOLDEN=1 python -m pytest tests/test_numpy_codegen.py).
NUMPY_GOLDEN = {
    "numpy_softmax_digits": ("softmax_loss", "W,b", "W=64x10,b=10,X=50x64,Y=50x10"),
    "numpy_two_layer": ("two_layer_loss", "W1,b1,W2,b2", "W1=2x32,b1=32,W2=32x3,b2=3,X=300x2,Y=300x3"),
    "numpy_window_ner": ("window_loss", "E,W,b,u", "E=40x4,W=6x12,b=6,u=6,ids=30x3:int,y=30"),
    "numpy_rnn": ("rnn_loss", "Wx,Wh,b,v", "Wx=8x1,Wh=8x8,b=8x1,v=1x8,xs=5x1x20,y=1x20"),
}


@pytest.mark.parametrize("stem", sorted(NUMPY_GOLDEN))
def test_numpy_example_gradients_match_their_golden_files(stem: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    from s2s_ad.cli import main

    root = Path(__file__).resolve().parent.parent
    function, wrt, shapes = NUMPY_GOLDEN[stem]
    monkeypatch.chdir(root)
    written = tmp_path / f"{stem}_{function}_grad.py"
    status = main(["grad", f"examples/{stem}.py:{function}", "--wrt", wrt, "--shapes", shapes, "-o", str(written), "-q"])
    assert status == 0
    text = written.read_text().replace(str(written), f"build/{written.name}")  # the header's -o, as the README writes it
    golden = root / "tests" / "golden" / "numpy" / written.name
    if os.environ.get("S2S_AD_REFRESH_GOLDEN") == "1":
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(text)
    assert golden.exists(), f"no golden file {golden}; create it with S2S_AD_REFRESH_GOLDEN=1"
    assert text == golden.read_text(), f"generated code of {stem}.{function} differs from {golden}"


MORE_INDEXING = """
import numpy as np


def ellipsis_column(A):
    return np.sum(A[..., 0] ** 2)


def through_an_int_element(x, ids):
    return np.sum(x[ids] ** 2) + np.sum(x[ids[0]])


def amax_of(x):
    return np.amax(x) + np.amin(x)
"""


def test_ellipsis_int_elements_and_amax(tmp_path: Path) -> None:
    programs = import_source(MORE_INDEXING, tmp_path)
    A = np.array([[0.3, -0.5, 0.2], [0.8, 0.1, -0.7]])
    np.testing.assert_allclose(grad(programs.ellipsis_column)(A), [[0.6, 0, 0], [1.6, 0, 0]], rtol=1e-14)
    x, ids = np.array([0.5, -1.0, 2.0, 0.25]), np.array([0, 2, 2, 3])
    expected = np.array([2 * 0.5 + 1.0, 0.0, 2 * 2 * 2.0, 2 * 0.25])  # x[0] also read once through ids[0]
    np.testing.assert_allclose(grad(programs.through_an_int_element, wrt="x")(x, ids), expected, rtol=1e-14)
    np.testing.assert_allclose(grad(programs.amax_of)(x), [0.0, 1.0, 1.0, 0.0], rtol=1e-14)
