"""The command line: the parser of each command, and what is read off it (`Request`, the point of `--at`).

Everything a user can get wrong on the command line is found here, before
any file is read, and raised as `UsageError` (exit status 2, with the
command's usage line).
"""

from __future__ import annotations

import argparse
import ast
import os
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .. import __version__
from .output import PROG

if TYPE_CHECKING:
    from ..pipeline import Wrt

EXAMPLES = """\
examples:
  s2s-ad grad model.py:loss --wrt w,b -o grad_model.py
      gradient of loss with respect to w and b, written to grad_model.py
  s2s-ad grad model.py -o build/
      every top-level function of model.py, one module each:
      build/model_<function>_grad.py
  s2s-ad grad model.py:loss,energy --value
      value and gradient of two functions, one module on standard output
  s2s-ad grad model.py:loss --forward -o loss_jvp.py
      forward mode: loss_jvp((w, b), (w_dot, b_dot)) -> (loss, directional derivative)
  s2s-ad grad model.py:loss --hessian -o loss_hvp.py
      Hessian-vector products: loss_hvp((w, b), (w_dot, b_dot)) -> (gradient, H @ (w_dot, b_dot));
      column j of the Hessian is the second result for the j-th basis vector as tangents
  s2s-ad grad model.py:loss --backend numba -o grad_model.py
      the gradient decorated with @numba.njit, in code numba compiles
  s2s-ad grad ode.py:simulate --checkpoints 100 -o grad_ode.py
      a long loop's reverse sweep keeps at most 100 snapshots and runs the steps between them again
  s2s-ad grad ode.py:simulate --checkpoints 100 --schedule revolve -o grad_ode.py
      binomial checkpointing: at most 100 snapshots and 100 steps of tape at once, whatever the loop's length
  s2s-ad grad ops.py:Ops.softplus,Model.plain -o grad_ops.py
      methods of top-level classes: Ops_softplus_grad(x); Model_plain_grad(self, x) keeps
      self first, as data (a method that reads self.w needs an object: use s2s_ad.grad(obj.plain))
  s2s-ad grad model.py:loss --check -o grad_model.py
      also cross-check the derivative against SymPy (report on standard error)
  s2s-ad check model.py:loss
      only the SymPy cross-check; exit status 1 on a mismatch
  s2s-ad graph model.py:f --at x=1,y=2,z=0 -o f.svg
      the computation graph of f at that point: forward values and adjoints
      (.svg/.png/.pdf need Graphviz's dot; .dot or standard output do not)
  s2s-ad trace model.py:f --at 1,2,0
      the forward and reverse sweeps at that point, step by step

FILE is read and parsed, never imported or run. FILE:NAME[,NAME...] selects
functions, and methods as Class.method; FILE alone selects every top-level
function and method of a top-level class that could have a derivative
(helpers returning tuples or lists, functions without parameters, and
methods that read their object's attributes are left out: -v says which and
why). --wrt takes parameter
names or indices; one item gives a bare gradient, several give a tuple, none
means every parameter (bare if there is only one), as with s2s_ad.grad.

exit status: 0 success; 1 refused input, cross-check mismatch, unreadable or
unwritable file; 2 usage error.
"""

_NAME = r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)?"  # a function, or Class.method
_SELECTOR = re.compile(rf"{_NAME}(,{_NAME})*")
_INDEX = re.compile(r"[+-]?\d+")


class UsageError(Exception):
    """A command line that does not make sense (exit status 2)."""


def build_parser(prog: str) -> tuple[argparse.ArgumentParser, dict[str, argparse.ArgumentParser]]:
    """The top-level parser, and the parser of each command."""
    parser = argparse.ArgumentParser(
        prog=prog,
        description="Source-to-source automatic differentiation: write readable Python gradient modules.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")

    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "target",
        metavar="FILE[:NAME[,NAME...]]",
        help="source file, optionally with the functions (NAME, or Class.method) to differentiate (default: every one)",
    )
    common.add_argument(
        "--wrt",
        metavar="NAMES",
        help="comma-separated parameter names or indices to differentiate with respect to (default: all parameters)",
    )
    loudness = common.add_mutually_exclusive_group()
    loudness.add_argument("-q", "--quiet", action="store_true", help="print only errors")
    loudness.add_argument(
        "-v", "--verbose", action="store_true", help="print the IR after each stage of the pipeline (on standard error)"
    )

    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    grad = commands.add_parser(
        "grad",
        parents=[common],
        help="write gradient modules",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Write a standalone Python module with the gradient of each selected function.",
    )
    grad.add_argument(
        "-o",
        "--output",
        metavar="PATH",
        help="output file, or directory (existing, or ending in '/') for one file per function "
        "named <stem>_<function>_grad.py (default, or '-': standard output)",
    )
    grad.add_argument("--value", action="store_true", help="generate value_and_grad: the function returns (value, gradient)")
    grad.add_argument(
        "--check",
        action="store_true",
        help="cross-check each derivative against SymPy; print the report on standard error, "
        "and write nothing for a function that fails it",
    )
    mode = grad.add_mutually_exclusive_group()
    mode.add_argument(
        "--forward",
        action="store_true",
        help="write forward mode instead: <function>_jvp(primals, tangents) returns (value, "
        "directional derivative along the tangents of the --wrt parameters), as s2s_ad.jvp; "
        "written to <stem>_<function>_jvp.py with -o DIR",
    )
    mode.add_argument(
        "--hessian",
        action="store_true",
        help="write Hessian-vector products instead (forward mode over the gradient): "
        "<function>_hvp(primals, tangents) returns (gradient, H @ tangents). The Hessian is one "
        "call per basis vector: its column j is the second result for tangents with 1.0 in "
        "place j and 0.0 elsewhere (as s2s_ad.hessian); written to <stem>_<function>_hvp.py "
        "with -o DIR",
    )
    grad.add_argument(
        "--shapes",
        metavar="NAME=AxB,...",
        help="the parameters that are NumPy arrays, with example shapes: W=3x4,b=4 (a size 1 is taken as 1, "
        "any other as a size the code works for whatever it is; x=0d for a 0-d array; ids=5:int for an "
        "array of ints)",
    )
    grad.add_argument(
        "--backend",
        choices=("python", "numba"),
        default="python",
        help="numba: write code numba compiles, the gradient decorated with @numba.njit (the module then imports "
        "numba; pass lists to it as NumPy arrays); what numba cannot compile is refused, saying why (default: python)",
    )
    grad.add_argument(
        "--checkpoints",
        metavar="K",
        type=_positive,
        default=None,
        help="bound the memory of a long loop's reverse sweep: keep at most K snapshots of the values a for loop "
        "carries and run the iterations between them again in the reverse sweep (the gradient is the same, bit for bit)",
    )
    grad.add_argument(
        "--schedule",
        choices=("uniform", "revolve"),
        default=None,
        help="where --checkpoints places a for loop's snapshots: uniform segments (K snapshots and n/K iterations of "
        "tape), or revolve, Griewank's binomial schedule (at most K snapshots and K iterations of tape at once, each "
        "iteration run again a few times more); default uniform",
    )
    grad.add_argument("--force", action="store_true", help="overwrite an existing output file even if s2s-ad did not generate it")
    check = commands.add_parser(
        "check",
        parents=[common],
        help="only cross-check derivatives against SymPy",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Cross-check the gradient of each selected function against SymPy; write no files. "
        "Exit status 1 on a mismatch.",
    )
    point = argparse.ArgumentParser(add_help=False)
    point.add_argument(
        "target",
        metavar="FILE[:NAME]",
        help="source file and the function to evaluate (NAME may be left out if FILE defines one)",
    )
    point.add_argument(
        "--at",
        metavar="POINT",
        required=True,
        help="the point: name=value,... or value,... in parameter order; a list is written [1,2,3] "
        "(a NumPy array for a function that uses NumPy: W=[[1,2],[3,4]])",
    )
    point.add_argument("-v", "--verbose", action="store_true", help="show the traceback of an internal error")
    graph = commands.add_parser(
        "graph",
        parents=[point],
        help="draw the computation graph at a point (forward values, adjoints)",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Draw the computation graph of a function evaluated at a point: one node per SSA value "
        "with its forward value and its adjoint (the output's adjoint seeded with 1), edges "
        "labelled with the gradient flowing back. Loops are unrolled up to --max-nodes nodes.",
    )
    graph.add_argument(
        "-o",
        "--output",
        metavar="PATH",
        help="picture file: .svg, .png, .pdf (need Graphviz's dot) or .dot (default, or '-': DOT text on standard output)",
    )
    graph.add_argument(
        "--format", choices=("dot", "svg", "png", "pdf"), help="picture format (default: from the output's suffix, else dot)"
    )
    graph.add_argument(
        "--max-nodes",
        type=int,
        metavar="N",
        default=None,
        help="past N nodes, draw each loop's first iteration only (default: 120)",
    )
    commands.add_parser(
        "trace",
        parents=[point],
        help="print the forward and reverse sweeps at a point, step by step",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Print the forward sweep and the reverse sweep of a function evaluated at a point, "
        "step by step with values: the table a student writes by hand.",
    )
    return parser, {"grad": grad, "check": check, "graph": graph, "trace": commands.choices["trace"]}


@dataclass(frozen=True)
class Request:
    """The command line, checked and taken apart."""

    command: str
    file: str  # as given
    names: tuple[str, ...] | None  # None: every top-level function
    selector: str | None  # the NAME[,NAME...] part as given
    wrt: Wrt
    wrt_text: str | None
    output: str | None = None
    value: bool = False
    check: bool = False
    force: bool = False
    verbose: bool = False
    kind: str = "grad"  # what `pipeline.build` derives: "grad", "jvp" (--forward) or "hvp" (--hessian)
    shapes: tuple[tuple[str, tuple[int, ...], str], ...] = ()  # --shapes: (name, sizes, "float" or "int")
    backend: str = "python"  # --backend: what the code is written for, "python" or "numba"
    checkpoints: int | None = None  # --checkpoints: at most this many snapshots per checkpointed loop
    schedule: str = "uniform"  # --schedule: where a for loop's snapshots go, "uniform" or "revolve"


def parse_request(args: argparse.Namespace) -> Request:
    """The options of `grad` and `check`, checked against each other."""
    file, selector = split_target(args.target)
    names = None if selector is None else tuple(dict.fromkeys(selector.split(",")))
    wrt, wrt_text = _parse_wrt(args.wrt)
    if args.command == "check":
        return Request("check", file, names, selector, wrt, wrt_text, verbose=args.verbose)
    kind = "jvp" if args.forward else "hvp" if args.hessian else "grad"
    option = "--forward" if args.forward else "--hessian"
    if kind != "grad" and args.value:
        raise UsageError(f"{option} already returns the value with the derivative: leave out --value")
    if kind != "grad" and args.check:
        raise UsageError(
            f"--check cross-checks gradients; it cannot be combined with {option} (run s2s-ad check on the function instead)"
        )
    if args.output == "":
        raise UsageError("-o needs a file or directory name")
    if kind != "grad" and args.checkpoints is not None:
        raise UsageError(f"--checkpoints bounds a gradient's reverse sweep; it cannot be combined with {option}")
    if args.schedule is not None and args.checkpoints is None:
        raise UsageError("--schedule places the snapshots of --checkpoints K: give --checkpoints too")
    return Request(
        "grad",
        file,
        names,
        selector,
        wrt,
        wrt_text,
        output=args.output,
        value=args.value,
        check=args.check,
        force=args.force,
        verbose=args.verbose,
        kind=kind,
        shapes=parse_shapes(args.shapes),
        backend=args.backend,
        checkpoints=args.checkpoints,
        schedule=args.schedule or "uniform",
    )


def _positive(text: str) -> int:
    """`--checkpoints K`: a whole number, at least 1."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"takes a whole number of snapshots, at least 1, not {text!r}")
    return value


def parse_shapes(text: str | None) -> tuple[tuple[str, tuple[int, ...], str], ...]:
    """`W=3x4,b=4,ids=5:int,s=0d` -> (("W", (3, 4), "float"), ("b", (4,), "float"), ...)."""
    if not text:
        return ()
    found = []
    for item in text.split(","):
        name, equals, shape = item.strip().partition("=")
        shape, _, kind = shape.partition(":")
        kind = kind or "float"
        try:
            sizes = () if shape == "0d" else tuple(int(s) for s in shape.split("x"))
        except ValueError:
            sizes = (-1,)
        if not equals or not name.isidentifier() or kind not in ("float", "int") or any(s < 1 for s in sizes):
            raise UsageError(f"--shapes takes NAME=AxB[:int] items separated by commas (W=3x4,b=4), not {item.strip()!r}")
        found.append((name, sizes, kind))
    return tuple(found)


def split_target(target: str) -> tuple[str, str | None]:
    """`FILE:NAME,NAME` -> (FILE, "NAME,NAME"); `FILE` -> (FILE, None)."""
    if os.path.exists(target) or ":" not in target:
        return target, None
    file, _, selector = target.rpartition(":")
    if not selector:
        raise UsageError(f"'{target}': name at least one function after ':' (FILE:NAME[,NAME...])")
    if not _SELECTOR.fullmatch(selector):
        if os.sep == "\\" and len(file) == 1:  # C:\path\model.py
            return target, None
        raise UsageError(
            f"'{selector}' is not a list of function names (FILE:NAME[,NAME...], a NAME being a function or Class.method)"
        )
    return file, selector


def _parse_wrt(text: str | None) -> tuple[Wrt, str | None]:
    """`--wrt w,b` -> ("w", "b"); one item stays bare, as with `grad(f, wrt="w")`."""
    if text is None:
        return None, None
    items: list[str | int] = []
    for item in (part.strip() for part in text.split(",")):
        if _INDEX.fullmatch(item):
            items.append(int(item))
        elif item.isidentifier():
            items.append(item)
        else:
            raise UsageError(f"--wrt {text!r}: {item!r} is neither a parameter name nor an index")
    if len(set(items)) != len(items):
        raise UsageError(f"--wrt {text!r} names a parameter twice")
    return (items[0] if len(items) == 1 else tuple(items)), ",".join(str(item) for item in items)


def parse_point(text: str) -> tuple[list[Any], dict[str, Any]]:
    """`x=1,y=2` or `1,2` (or `xs=[1,2],3`) -> positional values and named values."""
    items, depth, start = [], 0, 0
    for position, char in enumerate(text):
        if char in "[(":
            depth += 1
        elif char in "])":
            depth -= 1
        elif char == "," and depth == 0:
            items.append(text[start:position])
            start = position + 1
    items.append(text[start:])
    positional: list[Any] = []
    named: dict[str, Any] = {}
    for item in (part.strip() for part in items):
        name, equals, value = item.partition("=")
        if equals:
            name = name.strip()
            if not name.isidentifier():
                raise UsageError(f"--at {text!r}: {name!r} is not a parameter name")
            if name in named:
                raise UsageError(f"--at {text!r} gives {name} twice")
            named[name] = _point_value(value.strip(), text)
        elif named:
            raise UsageError(f"--at {text!r}: a value without a name after name=value")
        else:
            positional.append(_point_value(item, text))
    return positional, named


def _point_value(text: str, whole: str) -> Any:
    """A number (`1`, `-2.5`, `1e-3`, `inf`, `nan`) or a list of them."""
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        try:
            value = float(text)
        except ValueError:
            raise UsageError(f"--at {whole!r}: {text!r} is not a number") from None

    def numeric(v: Any) -> bool:
        if isinstance(v, (list, tuple)):
            return all(numeric(item) for item in v)
        return isinstance(v, (int, float)) and not isinstance(v, bool)

    if not numeric(value):
        raise UsageError(f"--at {whole!r}: {text!r} is not a number or a list of numbers")
    return list(value) if isinstance(value, tuple) else value
