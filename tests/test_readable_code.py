"""What a student reads in the generated code of the examples: each gradient under its parameter's name, no
adjoint of a temporary that is not there itself, and every `# line N:` comment quoting line N of the source.

These are properties of the golden examples' generated code (tests/test_golden.py compares it byte for
byte); each is checked on its own here, so that a change that breaks one says which.
"""

from __future__ import annotations

import ast
import contextlib
import inspect
import io
import re

import pytest
from test_golden import generated_module, golden_functions, load_example

from s2s_ad import grad, graph

FUNCTIONS = golden_functions()
_COMMENT = re.compile(r"^\s*# line (\d+): (.*)$")


def _function_source(stem: str, name: str) -> tuple[ast.FunctionDef, str]:
    text = generated_module(getattr(load_example(stem), name))
    tree = ast.parse(text)
    found = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == f"{name}_grad")
    return found, text


@pytest.mark.parametrize("stem, name", FUNCTIONS, ids=lambda v: v)
def test_each_gradient_is_returned_under_its_parameters_name(stem: str, name: str) -> None:
    function = getattr(load_example(stem), name)
    derived, _ = _function_source(stem, name)
    returned = derived.body[-1]
    assert isinstance(returned, ast.Return) and returned.value is not None
    values = returned.value.elts if isinstance(returned.value, ast.Tuple) else [returned.value]
    params = list(inspect.signature(function).parameters)
    assert [ast.unparse(v) for v in values] == [f"{p}_bar" for p in params]


@pytest.mark.parametrize("stem, name", FUNCTIONS, ids=lambda v: v)
def test_no_adjoint_of_a_temporary_without_the_temporary(stem: str, name: str) -> None:
    derived, _ = _function_source(stem, name)
    assigned = {n.id for n in ast.walk(derived) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
    orphans = {a for a in assigned if (m := re.fullmatch(r"(_t\d+)_bar(_\d+)?", a)) and m.group(1) not in assigned}
    assert not orphans


@pytest.mark.parametrize("stem, name", FUNCTIONS, ids=lambda v: v)
def test_no_adjoint_list_is_popped_and_one_tape_style_per_function(stem: str, name: str) -> None:
    """Items appended at a loop's index are read back there (`hidden_bar[j]`), and a function records either on a
    stack (`_tape`) or into arrays per iteration (`x_tape[i] = x`), never both."""
    _, text = _function_source(stem, name)
    assert not re.search(r"\w+_bar(_\d+)?\.pop\(\)", text)
    stack = "_tape = []" in text
    arrays = re.search(r"\w+_tape(_\d+)? = \[", text) is not None
    assert not (stack and arrays), text


@pytest.mark.parametrize("stem, name", FUNCTIONS, ids=lambda v: v)
def test_each_comment_quotes_its_line_of_the_source(stem: str, name: str) -> None:
    function = getattr(load_example(stem), name)
    lines = inspect.getsourcefile(function)
    assert lines is not None
    with open(lines, encoding="utf-8") as file:
        source = file.read().splitlines()
    _, text = _function_source(stem, name)
    quoted = [(int(m.group(1)), m.group(2)) for line in text.splitlines() if (m := _COMMENT.match(line))]
    assert quoted, "the generated code has line comments"
    for number, shown in quoted:
        written = source[number - 1].strip()
        assert shown == written or (shown.endswith("...") and written.startswith(shown[:-3].rstrip())), (number, shown)


def test_the_lecture_sentence_is_true() -> None:
    """The README: in `z + sin(x**2 + y*exp(z))`, `_t4` is the argument of `sin` and `_t4_bar` its adjoint, in
    the generated code, in the IR that `verbose=True` prints and in the trace table alike."""
    lecture = load_example("backprop_lecture")
    text = inspect.getsource(grad(lecture.chain))
    assert re.search(r"_t4 = .*\n", text) and "_t4_bar = math.cos(_t4)" in text
    printed = io.StringIO()
    with contextlib.redirect_stderr(printed):
        grad(lecture.chain, verbose=True)
    lowered = printed.getvalue().split("--- after lowered ---")[1].split("---")[0]
    assert re.search(r"_t\d+ = sin\(_t4\)", lowered)
    trace = graph(lecture.chain, 1.0, 2.0, 0.5).trace()
    assert "math.sin(_t4)" in trace and "_t4_bar" in trace


@pytest.mark.parametrize("stem, name", FUNCTIONS, ids=lambda v: v)
def test_a_plain_copy_of_a_name_sits_under_the_line_that_wrote_it(stem: str, name: str) -> None:
    """`z = b` before a loop that carries z is under `# line 39: z = b`, not under the loop's comment; a copy
    `a = b` printed right under a comment is a copy that comment's line writes (or a loop's header, `for`)."""
    _, text = _function_source(stem, name)
    comment = None
    for line in text.splitlines():
        found = _COMMENT.match(line)
        if found:
            comment = found.group(2)
            continue
        copy = re.fullmatch(r"\s*([A-Za-z]\w*) = ([A-Za-z]\w*)", line)
        if copy and comment is not None and not copy.group(1).startswith("_") and not copy.group(1).endswith("_bar"):
            assert not comment.startswith(("for ", "while ")) or copy.group(1) in comment.split(":")[0], (line, comment)
        comment = None if not found else comment


def test_the_carried_start_of_a_loop_is_under_its_own_line() -> None:
    _, text = _function_source("logistic_regression", "bce_loss")
    lines = [line.strip() for line in text.splitlines()]
    at = lines.index("z = b")
    assert lines[at - 1] == "# line 39: z = b" and lines[at + 1] == "# line 40: for k in range(len(w)):"
