"""The command line on methods: `s2s-ad grad FILE:Class.method` for static, class and plain methods of top-level classes.

Each written module is imported (without the input file on the path: it is
standalone) and its gradient compared with central finite differences of the
original method, called on the class or on an instance.
"""

from __future__ import annotations

import sys
import types
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from conftest import central_difference, import_file

from s2s_ad.cli import main

METHODS = """\
import math

SCALE = 2.0 * 3


class Ops:
    RATE = 1.5
    HALF = RATE / 2
    STEPS = 3
    OFF: float = -0.25

    @staticmethod
    def softplus(x):
        return math.log(1.0 + math.exp(x)) * SCALE

    @staticmethod
    def twice(x, y):
        return Ops.softplus(x) * y + Ops.OFF

    @classmethod
    def scaled(cls, x):
        return cls.RATE * x**3 + cls.HALF * cls.STEPS * x

    @classmethod
    def through(cls, x, eps=HALF):
        return cls.scaled(x) + cls.softplus(x) + eps * x

    def plain(self, x, y):
        return x * math.sin(y) + self.RATE * y

    def calls(self, x):
        return self.plain(x, 2.0 * x) + self.scaled(x) + self.softplus(x)


class Other:
    RATE = -2.0

    @staticmethod
    def softplus(x):
        return math.log(1.0 + math.exp(Other.RATE * x))


class Base:
    S = 2.0

    @staticmethod
    def sq(x):
        return x * x

    @classmethod
    def k(cls, x):
        return cls.S * cls.sq(x) + math.tanh(x)


class Derived(Base):
    S = 5.0


class Model:
    def __init__(self, w):
        self.w = w

    def loss(self, x):
        return self.w * x * x

    def __repr__(self):
        return "Model()"
"""


@pytest.fixture
def work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A temporary directory holding `methods.py`, the working directory of the command."""
    (tmp_path / "methods.py").write_text(METHODS)
    (tmp_path / "build").mkdir()
    monkeypatch.chdir(tmp_path)
    yield tmp_path


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """Run the command in-process: (exit status, standard output, standard error)."""
    status = main(list(argv))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def written(path: Path) -> types.ModuleType:
    """Import a written module from a directory that does not hold the input file (it must be standalone)."""
    elsewhere = path.parent / "elsewhere"
    elsewhere.mkdir(exist_ok=True)
    copy = elsewhere / path.name
    copy.write_text(path.read_text())
    return import_file(copy, f"written_{path.stem}_{abs(hash(str(path)))}")


def original(work: Path) -> types.ModuleType:
    return import_file(work / "methods.py", f"methods_{abs(hash(str(work)))}")


def close(got: float, expected: float) -> bool:
    return got == pytest.approx(expected, rel=1e-6, abs=1e-6)


def check_gradient(
    gradient: Callable[..., object], method: Callable[..., float], point: tuple[float, ...], lead: tuple = ()
) -> None:
    """The generated gradient at `point` (after `lead`, the data arguments) against central differences of `method`."""
    got = gradient(*lead, *point)
    found = got if isinstance(got, tuple) else (got,)
    assert len(found) == len(point)
    for i, value in enumerate(found):
        assert close(value, central_difference(method, point, i)), (i, value)  # type: ignore[arg-type]


# -- each kind of method --------------------------------------------------------------------------------


def test_a_static_method(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, _, err = run(capsys, "grad", "methods.py:Ops.softplus,Ops.twice", "-o", "g.py")
    assert status == 0, err
    module = written(work / "g.py")
    source = (work / "g.py").read_text()
    assert "SCALE = 6.0" in source and "Ops_OFF" not in source  # OFF does not depend on x: no adjoint work
    ops = original(work).Ops
    for x in (-1.3, 0.4, 2.0):
        check_gradient(module.Ops_softplus_grad, ops.softplus, (x,))
        check_gradient(module.Ops_twice_grad, ops.twice, (x, 0.7))


def test_a_class_method_reads_the_class_constants_by_name(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, _, err = run(capsys, "grad", "methods.py:Ops.scaled,Ops.through", "-o", "g.py")
    assert status == 0, err
    source = (work / "g.py").read_text()
    assert "Ops_RATE = 1.5" in source and "Ops_HALF = 0.75" in source  # written out, as module constants are
    assert "def Ops_scaled_grad(x):" in source  # cls is not a parameter
    assert "def Ops_through_grad(x, eps=0.75):" in source  # the default, computed in the class body
    module = written(work / "g.py")
    ops = original(work).Ops
    for x in (-0.8, 0.5, 1.7):
        check_gradient(module.Ops_scaled_grad, ops.scaled, (x,))
        check_gradient(module.Ops_through_grad, ops.through, (x, 0.3))


def test_a_plain_method_keeps_self_first_as_data(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, _, err = run(capsys, "grad", "methods.py:Ops.plain,Ops.calls", "-o", "g.py")
    assert status == 0, err
    source = (work / "g.py").read_text()
    assert "def Ops_plain_grad(self, x, y):" in source
    assert "Ops_plain_grad(self, x, y) -> (dOps.plain/dx, dOps.plain/dy)" in source
    module = written(work / "g.py")
    instance = original(work).Ops()
    for x in (-0.6, 0.9):
        check_gradient(module.Ops_plain_grad, instance.plain, (x, 1.1), lead=(instance,))
        check_gradient(module.Ops_plain_grad, instance.plain, (x, 1.1), lead=(None,))  # self is never read
        check_gradient(module.Ops_calls_grad, instance.calls, (x,), lead=(instance,))


def test_wrt_names_and_indices_count_without_self(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    instance = None
    for wrt in ("y", "1", "-1"):
        status, _, err = run(capsys, "grad", "methods.py:Ops.plain", "--wrt", wrt, "-o", "g.py")
        assert status == 0, err
        module = written(work / "g.py")
        instance = instance or original(work).Ops()
        gradient = module.Ops_plain_grad(instance, 0.6, 1.1)
        assert close(gradient, central_difference(instance.plain, (0.6, 1.1), 1))
    status, _, err = run(capsys, "grad", "methods.py:Ops.plain", "--wrt", "2")
    assert status == 1
    assert "error: --wrt 2: 'Ops.plain' has 2 parameter(s) after self (x, y)" in err
    status, _, err = run(capsys, "grad", "methods.py:Ops.plain", "--wrt", "self")
    assert status == 1
    assert "'self' is the object the method is called on: it is data, not differentiated" in err


def test_methods_of_the_same_name_in_two_classes_do_not_collide(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, _, err = run(capsys, "grad", "methods.py:Ops.softplus,Other.softplus", "-o", "g.py")
    assert status == 0, err
    module = written(work / "g.py")
    methods = original(work)
    check_gradient(module.Ops_softplus_grad, methods.Ops.softplus, (0.3,))
    check_gradient(module.Other_softplus_grad, methods.Other.softplus, (0.3,))


def test_a_method_named_on_a_subclass_reads_the_subclass(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, _, err = run(capsys, "grad", "methods.py:Derived.k,Base.k", "-o", "g.py")
    assert status == 0, err
    source = (work / "g.py").read_text()
    assert "Derived_S = 5.0" in source and "Base_S = 2.0" in source
    module = written(work / "g.py")
    methods = original(work)
    for x in (-0.4, 1.2):
        check_gradient(module.Derived_k_grad, methods.Derived.k, (x,))
        check_gradient(module.Base_k_grad, methods.Base.k, (x,))


def test_forward_mode_and_value_of_a_method(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, _, err = run(capsys, "grad", "methods.py:Ops.scaled", "--forward", "-o", "j.py")
    assert status == 0, err
    module = written(work / "j.py")
    ops = original(work).Ops
    value, derivative = module.Ops_scaled_jvp((0.7,), (1.0,))
    assert close(value, ops.scaled(0.7))
    assert close(derivative, central_difference(ops.scaled, (0.7,), 0))
    status, _, err = run(capsys, "grad", "methods.py:Ops.plain", "--value", "-o", "v.py")
    assert status == 0, err
    value, gradient = written(work / "v.py").Ops_plain_value_and_grad(None, 0.7, 0.2)
    assert close(value, ops().plain(0.7, 0.2))


# -- whole files ----------------------------------------------------------------------------------------


def test_a_whole_file_writes_the_methods_too(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, _, err = run(capsys, "grad", "methods.py", "-o", "build/", "-v")
    assert status == 0, err
    files = sorted(p.name for p in (work / "build").iterdir())
    assert "methods_Ops_softplus_grad.py" in files and "methods_Other_softplus_grad.py" in files
    assert "methods_Base_k_grad.py" in files and "methods_Derived_k_grad.py" not in files  # a class's own methods
    assert "s2s-ad: note: left out 'Model.__init__': it returns no value" in err
    assert "s2s-ad: note: left out 'Model.loss': it reads an attribute of its object (line 64)" in err
    assert "left out 'Model.__repr__'" in err
    module = written(work / "build" / "methods_Ops_softplus_grad.py")
    check_gradient(module.Ops_softplus_grad, original(work).Ops.softplus, (0.2,))
    header = (work / "build" / "methods_Ops_softplus_grad.py").read_text()
    assert "s2s-ad grad methods.py:Ops.softplus -o build/" in header  # how to regenerate that one


def test_a_file_of_classes_only(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (work / "only.py").write_text("class K:\n    @staticmethod\n    def f(x):\n        return x * x\n")
    status, out, err = run(capsys, "grad", "only.py")
    assert status == 0, err
    assert "def K_f_grad(x):" in out
    (work / "objects.py").write_text("class K:\n    def f(self, x):\n        return self.w * x\n")
    status, out, err = run(capsys, "grad", "objects.py")
    assert status == 1
    assert "defines no top-level functions" not in err
    assert "objects.py: error: objects.py defines no function to differentiate" in err


# -- refusals -------------------------------------------------------------------------------------------


def test_a_method_reading_its_object_is_refused_with_a_way_out(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run(capsys, "grad", "methods.py:Model.loss")
    assert status == 1
    assert out == ""
    assert "methods.py:64:16: error: 'self.w' reads an attribute of the object 'Model.loss' is called on" in err
    assert "(Model.__init__ assigns it)" in err
    assert "hint: pass it as a parameter of the method, or use the Python API on an object: s2s_ad.grad(obj.loss)" in err
    assert "Traceback" not in err


def test_unknown_classes_and_methods_say_what_the_file_defines(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, _, err = run(capsys, "grad", "methods.py:Nope.f")
    assert status == 1
    assert "error: no top-level class 'Nope' (for 'Nope.f')" in err
    assert "hint: top-level classes: Ops, Other, Base, Derived, Model" in err
    status, _, err = run(capsys, "grad", "methods.py:Ops.nope")
    assert status == 1
    assert "methods.py:6:1: error: class 'Ops' has no method 'nope'" in err
    assert "hint: methods of Ops: softplus, twice, scaled, through, plain, calls" in err
    status, _, err = run(capsys, "grad", "methods.py:nope")
    assert status == 1
    assert "error: no top-level function 'nope'" in err
    assert "methods: Ops.softplus, Ops.twice" in err


def test_selectors_that_are_not_names_are_usage_errors(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, _, err = run(capsys, "grad", "methods.py:Ops.a.b")
    assert status == 2
    assert "a NAME being a function or Class.method" in err


REFUSED = """\
import math
from dataclasses import dataclass
from enum import Enum


@dataclass
class P:
    w: float = 1.0

    def f(self, x):
        return self.w * x


class E(Enum):
    A = 1.0

    @classmethod
    def f(cls, x):
        return cls.A * x


class L:
    WS = [1.0, 2.0]
    U = len(WS)

    @classmethod
    def lists(cls, x):
        return cls.WS[0] * x

    @classmethod
    def plain_through_cls(cls, x):
        return cls.plain(x)

    def plain(self, x):
        return x

    def passes_self(self, x):
        return helper(self, x)

    def recursive(self, x):
        return self.recursive(x) * x

    @classmethod
    def computed(cls, x):
        return cls.U * x

    @classmethod
    def missing(cls, x):
        return cls.NOPE * x

    @property
    def prop(self):
        return 2.0

    def reads_a_property(self, x):
        return self.prop * x

    def assigns(self, x):
        self.y = x
        return x


def helper(a, x):
    return x
"""


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("P.f", "refused.py:11:16: error: 'self.w' is declared with an annotation in a decorated class (dataclass)"),
        ("E.f", "'cls.A': class 'E' derives from Enum, which the command line does not read"),
        ("L.lists", "'cls.WS' is a list the class holds"),
        ("L.plain_through_cls", "'cls.plain' calls the plain method 'L.plain' without an object to call it on"),
        ("L.passes_self", "'self' can only be read as self.<attribute> in a differentiated method"),
        ("L.recursive", "recursive call to 'L.recursive' cannot be differentiated"),
        ("L.computed", "'cls.U' is bound to `len(WS)` in class 'L', which is not a constant expression of numbers"),
        ("L.missing", "'cls.NOPE': class 'L' defines no 'NOPE' in its body"),
        ("L.prop", "'L.prop' is a property"),
        ("L.reads_a_property", "'self.prop' is a property, which runs code when it is read"),
        ("L.assigns", "assigning to 'self.y' changes the object"),
    ],
)
def test_what_cannot_be_written_without_an_object_is_refused(
    work: Path, capsys: pytest.CaptureFixture[str], target: str, message: str
) -> None:
    (work / "refused.py").write_text(REFUSED)
    status, out, err = run(capsys, "grad", f"refused.py:{target}")
    assert status == 1
    assert out == ""
    assert message in err
    assert "Traceback" not in err and "internal error" not in err


def test_a_written_module_does_not_import_its_input(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, _, err = run(capsys, "grad", "methods.py:Ops.through,Ops.calls", "-o", "g.py")
    assert status == 0, err
    source = (work / "g.py").read_text()
    assert "import methods" not in source and "\nfrom methods" not in source
    before = set(sys.modules)
    written(work / "g.py")
    assert not any(name.startswith("methods") for name in set(sys.modules) - before)


def test_trace_and_graph_of_static_and_class_methods(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run(capsys, "trace", "methods.py:Ops.scaled", "--at", "1.0")
    assert status == 0, err
    ops = original(work).Ops
    assert f"gradient: x_bar = {3 * 1.5 + 0.75 * 3:g}" in out
    assert f"value: Ops_scaled = {ops.scaled(1.0):g}" in out
    status, out, err = run(capsys, "graph", "methods.py:Ops.softplus", "--at", "0.5")
    assert status == 0, err
    assert out.startswith("digraph")
    status, out, err = run(capsys, "trace", "methods.py:Ops.plain", "--at", "1,2")
    assert status == 1
    assert "'Ops.plain' is a plain method: its first parameter is the object it is called on, which --at cannot give" in err
