"""Everything callable that has source: methods, functions read off a class, static and class methods,
`functools.partial`, callable objects, `custom_derivative` functions (the README's own example); and
tracebacks through generated code on every supported Python.

A method's `self` is data: `self.w` is a number compiled into the code, or
a list the generated code reads, as module-level data are. Every gradient is
compared with central finite differences or a closed form.
"""

from __future__ import annotations

import functools
import inspect
import math
import os
import re
import subprocess
import sys
import types
from pathlib import Path

import pytest
from conftest import import_file, numeric_gradient

import s2s_ad
from s2s_ad import S2SError, SourceError, UnsupportedError, grad, hessian, jvp, value_and_grad

ROOT = Path(__file__).resolve().parent.parent


class Model:
    """A model whose methods read their weights through `self`."""

    rate = 3.0  # a class attribute, read as self.rate

    def __init__(self, w: float, ws: list[float]) -> None:
        self.w = w
        self.ws = ws

    def loss(self, x: float) -> float:
        return self.w * x * x + self.rate * x

    def plain(self, x: float, y: float) -> float:
        return x * math.sin(y)

    def act(self, t: float) -> float:
        return math.tanh(self.w * t)

    def through_a_method(self, x: float) -> float:
        return self.act(x) * 2.0 + self.act(x * x)

    def over_the_list(self, x: float) -> float:
        total = 0.0
        for v in self.ws:
            total += v * x * x
        return total

    @staticmethod
    def static(x: float, y: float) -> float:
        return x * y * y

    @classmethod
    def per_class(cls, x: float) -> float:
        return cls.rate * x**3

    def __call__(self, x: float) -> float:
        return self.w * math.exp(x)

    def assigns(self, x: float) -> float:
        self.w = x
        return x

    def passes_itself_on(self, x: float) -> float:
        return helper_of(self, x)

    @property
    def doubled(self) -> float:
        return 2.0 * self.w

    def reads_a_property(self, x: float) -> float:
        return self.doubled * x


def helper_of(model: object, x: float) -> float:
    return x


def f(x: float, y: float, z: float) -> float:
    return x * y + z**2 * x


def close(got: object, expected: object) -> bool:
    return got == pytest.approx(expected, rel=1e-6, abs=1e-7)


MODEL = Model(2.0, [1.0, 2.0, -0.5])


# -- methods -------------------------------------------------------------------------------------------


def test_bound_method_reads_its_attributes() -> None:
    for x in (-1.0, 0.5, 2.0):
        assert close(grad(MODEL.loss)(x), 2 * MODEL.w * x + Model.rate)
        assert close(grad(MODEL.loss)(x), numeric_gradient(MODEL.loss, (x,))[0])
    value, gradient = value_and_grad(MODEL.loss)(1.5)
    assert value == MODEL.loss(1.5)
    assert close(gradient, 2 * 2.0 * 1.5 + 3.0)


def test_bound_method_without_attributes() -> None:
    point = (1.5, 0.3)
    assert close(grad(MODEL.plain)(*point), numeric_gradient(MODEL.plain, point))
    assert close(grad(MODEL.plain, argnums=1)(*point), 1.5 * math.cos(0.3))  # indices count from after self


def test_a_list_attribute_is_data_the_generated_code_reads() -> None:
    model = Model(1.0, [1.0, 2.0, -0.5])
    derivative = grad(model.over_the_list)
    assert close(derivative(0.7), 2 * 0.7 * sum(model.ws))
    assert "self.ws" in inspect.getsource(derivative)  # read by name when it runs, as module data are
    model.ws[1] = 10.0  # the same list, changed in place
    assert close(grad(model.over_the_list)(0.7), 2 * 0.7 * sum(model.ws))
    model.ws = [4.0]  # another list
    assert close(grad(model.over_the_list)(0.7), 2 * 0.7 * 4.0)


def test_methods_called_through_self_are_inlined() -> None:
    for x in (-0.8, 0.3):
        assert close(grad(MODEL.through_a_method)(x), numeric_gradient(MODEL.through_a_method, (x,))[0])
    assert "act" not in "".join(line for line in inspect.getsource(grad(MODEL.through_a_method)).splitlines() if "#" not in line)


def test_function_read_off_the_class_keeps_self_as_data() -> None:
    derivative = grad(Model.plain)
    assert list(inspect.signature(derivative).parameters) == ["self", "x", "y"]
    assert close(derivative(MODEL, 1.5, 0.3), numeric_gradient(MODEL.plain, (1.5, 0.3)))
    assert close(grad(Model.plain, wrt="y")(None, 1.5, 0.3), 1.5 * math.cos(0.3))
    with pytest.raises(S2SError, match="'self' is the object the method is called on: it is data"):
        grad(Model.plain, argnums=0)


def test_function_read_off_the_class_that_reads_self_is_refused_with_a_way_out() -> None:
    with pytest.raises(UnsupportedError) as info:
        grad(Model.loss)
    assert "'self.w' reads the object the method is called on" in info.value.message
    assert info.value.hint == "differentiate the method of one object instead: grad(obj.loss)"
    assert info.value.lineno == inspect.getsourcelines(Model.loss)[1] + 1


def test_static_and_class_methods() -> None:
    for static in (Model.static, MODEL.static, Model.__dict__["static"]):
        assert close(grad(static)(1.5, 2.0), (4.0, 2 * 1.5 * 2.0))
    for per_class in (Model.per_class, MODEL.per_class):
        assert close(grad(per_class)(2.0), 3 * Model.rate * 4.0)
    with pytest.raises(SourceError, match="a class method needs its class"):
        grad(Model.__dict__["per_class"])


def test_a_callable_object_is_its_call_method() -> None:
    model = Model(2.5, [])
    derivative = grad(model)
    assert derivative.__name__ == "Model_grad"
    assert close(derivative(0.4), 2.5 * math.exp(0.4))
    assert close(jvp(model, (0.4,), (2.0,))[1], 2 * 2.5 * math.exp(0.4))


def test_what_a_method_cannot_do_is_refused_clearly() -> None:
    with pytest.raises(UnsupportedError, match="assigning to 'self.w' changes the object"):
        grad(MODEL.assigns)
    with pytest.raises(UnsupportedError, match=r"'self' can only be read as self.<attribute>"):
        grad(MODEL.passes_itself_on)
    with pytest.raises(UnsupportedError, match="'self.doubled' is a property, which runs code when it is read"):
        grad(MODEL.reads_a_property)


def test_attributes_of_the_class_are_read_too_and_noticed() -> None:
    class Local:
        scale = 2.0

        def loss(self, x: float) -> float:
            return self.scale * x * x

    local = Local()
    assert close(grad(local.loss)(1.5), 2 * 2.0 * 1.5)
    Local.scale = 5.0
    assert close(grad(local.loss)(1.5), 2 * 5.0 * 1.5)
    local.scale = 7.0  # an attribute of the object now hides the class's
    assert close(grad(local.loss)(1.5), 2 * 7.0 * 1.5)


def test_hessian_and_jvp_of_methods() -> None:
    assert hessian(MODEL.loss)(1.0)[0][0] == pytest.approx(2 * MODEL.w)
    assert hessian(MODEL.loss, wrt="x")(1.0) == pytest.approx(2 * MODEL.w)
    value, derivative = jvp(MODEL.plain, (1.5, 0.3), (1.0, 1.0))
    assert value == MODEL.plain(1.5, 0.3)
    assert close(derivative, sum(numeric_gradient(MODEL.plain, (1.5, 0.3))))


# -- functools.partial ---------------------------------------------------------------------------


def test_partial_differentiates_the_remaining_parameters() -> None:
    by_keyword = grad(functools.partial(f, y=3.0))
    assert list(inspect.signature(by_keyword).parameters) == ["x", "z"]
    assert close(by_keyword(1.5, 0.4), (numeric_gradient(f, (1.5, 3.0, 0.4))[0], numeric_gradient(f, (1.5, 3.0, 0.4))[2]))
    by_position = grad(functools.partial(f, 1.5))
    assert close(by_position(3.0, 0.4), tuple(numeric_gradient(f, (1.5, 3.0, 0.4))[1:]))
    one_left = grad(functools.partial(f, 1.5, z=0.4))
    assert close(one_left(3.0), 1.5)  # one parameter left: bare, as grad of a one-parameter function
    assert close(grad(functools.partial(f, y=3.0), wrt="z")(1.5, 0.4), 2 * 0.4 * 1.5)


def test_partial_binding_data_and_methods() -> None:
    def weighted(ws: list[float], x: float) -> float:
        return sum(w * x * x for w in ws)

    assert close(grad(functools.partial(weighted, [1.0, 2.0]))(0.5), 2 * 0.5 * 3.0)
    assert close(grad(functools.partial(MODEL.plain, y=0.3))(1.5), math.sin(0.3))
    assert close(grad(functools.partial(Model.loss, MODEL))(1.5), 2 * MODEL.w * 1.5 + Model.rate)  # bound: self


def test_partial_refusals() -> None:
    with pytest.raises(S2SError, match="binds 'q', which is not a parameter of 'f'"):
        grad(functools.partial(f, q=1.0))
    with pytest.raises(S2SError, match="binds 'y' to str: only a number, a list of numbers or a function can be bound"):
        grad(functools.partial(f, y="3"))
    with pytest.raises(S2SError, match="binds every parameter"):
        grad(functools.partial(f, 1.0, 2.0, 3.0))
    with pytest.raises(SourceError, match="hypot"):
        grad(functools.partial(math.hypot, 1.0))


# -- custom derivatives: the README's example ---------------------------------------------------


def readme_custom_derivative_example() -> str:
    """The `@custom_derivative` example of the README, as it is written there."""
    text = (ROOT / "README.md").read_text()
    block = next(b for b in re.findall(r"```python\n(.*?)```", text, re.S) if "@custom_derivative" in b)
    lines = block.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("@custom_derivative"))
    return "\n".join(lines[start:]) + "\n"


def test_the_readme_custom_derivative_example(tmp_path: Path) -> None:
    example = readme_custom_derivative_example()
    assert "def softplus(x):" in example and "@softplus.defderiv" in example
    path = tmp_path / "readme_softplus.py"
    path.write_text("import math\n\nfrom s2s_ad import custom_derivative\n\n" + example)
    softplus = import_file(path, "readme_softplus").softplus
    for x in (-2.0, 0.3, 4.0):
        assert close(grad(softplus)(x), 1.0 / (1.0 + math.exp(-x)))  # the logistic sigmoid, in closed form
        assert close(grad(softplus)(x), numeric_gradient(softplus, (x,))[0])
    value, gradient = value_and_grad(softplus)(0.3)
    assert value == softplus(0.3)
    assert "softplus_derivative(x)" in inspect.getsource(grad(softplus))  # the derivative given, not the body's


def test_a_custom_derivative_without_its_derivative_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "no_derivative.py"
    path.write_text("import math\n\nfrom s2s_ad import custom_derivative\n\n\n@custom_derivative\ndef g(x):\n    return x * x\n")
    with pytest.raises(UnsupportedError, match="'g' has no derivative yet"):
        grad(import_file(path, "no_derivative").g)


# -- tracebacks ----------------------------------------------------------------------------------

FAILING = """
import math
import sys

sys.path.insert(0, {directory!r})
from s2s_ad import grad
import failing_module

gradient = grad(failing_module.log_of)
print(gradient.__code__.co_filename, flush=True)
gradient(-1.0)
"""


def interpreters() -> list[str]:
    """This interpreter, and every CPython 3.10-3.13 pyenv has, to check tracebacks on each."""
    found = {sys.executable}
    versions = Path(os.path.expanduser("~/.pyenv/versions"))
    for minor in ("3.10", "3.11", "3.12", "3.13"):
        found |= {str(p / "bin" / "python") for p in sorted(versions.glob(f"{minor}.*")) if (p / "bin" / "python").exists()}
    return sorted(found)


@pytest.mark.parametrize("python", interpreters(), ids=lambda p: p.split("/versions/")[-1].split("/")[0])
def test_uncaught_tracebacks_show_the_generated_line(python: str, tmp_path: Path) -> None:
    """Python 3.10-3.12 print a traceback's lines from the file the code object names (not linecache)."""
    (tmp_path / "failing_module.py").write_text("import math\n\n\ndef log_of(x):\n    return math.log(x) * x\n")
    script = FAILING.format(directory=str(tmp_path))
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    result = subprocess.run([python, "-c", script], capture_output=True, text=True, timeout=120, env=env, check=False)
    assert result.returncode == 1
    assert "ValueError: math domain error" in result.stderr, result.stderr
    assert "in log_of_grad" in result.stderr
    assert "    x_bar = math.log(x)" in result.stderr  # the generated source line, under its frame
    filename = result.stdout.strip()
    assert os.path.basename(filename).startswith("log_of_")
    assert not os.path.exists(filename)  # the process's directory of generated code is gone with it


def test_generated_source_survives_a_linecache_clear() -> None:
    import linecache

    derivative = grad(Model.static)
    text = inspect.getsource(derivative)
    linecache.clearcache()
    assert inspect.getsource(derivative) == text


def test_everything_callable_is_still_refused_without_source() -> None:
    for target in (len, math.sin, 3, types.SimpleNamespace()):
        with pytest.raises(SourceError):
            grad(target)  # type: ignore[arg-type]
    assert s2s_ad.grad is grad


# -- the source as the module holds it ------------------------------------------------------------------


def test_a_function_is_read_from_its_module_as_parsed(tmp_path: Path) -> None:
    """Methods, nested and decorated functions of one file: each `def` is found by its first line, with the
    file's lines and columns (a refusal points into the file)."""
    path = tmp_path / "shapes_of_defs.py"
    path.write_text(
        "import functools\nimport math\n\n\n"
        "def outer(a):\n"
        "    def inner(x):\n"
        "        return math.sin(x) * a\n"
        "    return inner\n\n\n"
        "def keep(f):\n"
        "    @functools.wraps(f)\n"
        "    def wrapper(*args):\n"
        "        return f(*args)\n"
        "    return f\n\n\n"
        "@keep\n"
        "def decorated(x):\n"
        "    return x ** 3\n\n\n"
        "class Model:\n"
        "    scale = 2.0\n\n"
        "    def loss(self, x):\n"
        "        return self.scale * x * x\n\n"
        "    def broken(self, x):\n"
        "        return x @ x\n"
    )
    module = import_file(path, "shapes_of_defs")
    assert grad(module.outer(3.0))(0.5) == pytest.approx(3.0 * math.cos(0.5), rel=1e-12)
    assert grad(module.decorated)(2.0) == pytest.approx(12.0, rel=1e-12)
    assert grad(module.Model().loss)(1.5) == pytest.approx(6.0, rel=1e-12)


def test_a_file_changed_since_its_function_was_loaded_is_refused(tmp_path: Path) -> None:
    """The lines at the function's first line are another function's now: refused, not differentiated."""
    path = tmp_path / "edited_after_import.py"
    path.write_text("def f(x):\n    return x * x\n")
    module = import_file(path, "edited_after_import")
    path.write_text("def g(x):\n    return x * x * x\n\n\ndef f(x):\n    return x\n")
    stat = path.stat()
    os.utime(path, (stat.st_atime, stat.st_mtime + 5))  # a new modification time, whatever the clock's resolution
    with pytest.raises(SourceError, match="has changed since it was loaded") as caught:
        grad(module.f)
    assert caught.value.filename == str(path)
