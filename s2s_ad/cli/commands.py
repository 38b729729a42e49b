"""The commands: `grad` writes gradient modules, `check` only cross-checks, `graph` and `trace` evaluate at a point.

Each command takes what `arguments` read off the command line and an
`Output` for its messages, and returns the exit status. What the commands
share lives beside them: reading the input (`inputs`), the text of a written
module (`module_text`), writing files (`writing`). SymPy (`s2s_ad.check`)
and the graph package are imported only by the commands that use them.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import traceback
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from .. import frontend
from ..errors import S2SError, SourceError, UnsupportedError
from ..frontend import StaticModule
from .arguments import Request, UsageError, parse_point, split_target
from .inputs import built_functions, no_structures_at, top_level_functions, unknown_function
from .module_text import Result, module_source, target_text
from .output import PROG, Output, print_module
from .writing import Directory, File, may_write, output_name, same_file, sink_of, write_module

if TYPE_CHECKING:
    from ..pipeline import Built


def check_command(request: Request, out: Output) -> int:
    """`s2s-ad check`: the SymPy cross-check of each selected function; no files written."""
    check_built = load_check()
    if check_built is None:
        return 2
    for name, built, data in built_functions(request, out):
        if run_check(check_built, name, built, data, out, out.stdout, show_ok=not out.quiet) is False:
            out.failed = True  # a mismatch; an error was reported already
    return out.status


def grad_command(request: Request, out: Output) -> int:
    """`s2s-ad grad`: one module of every selected function (file or standard output), or one module each (`-o DIR`)."""
    check_built = load_check() if request.check else None
    if request.check and check_built is None:
        return 2
    sink = sink_of(request)
    if isinstance(sink, File) and not may_write(sink.path, request, out):
        return 1
    results: list[Result] = []
    for name, built, data in built_functions(request, out):
        if check_built is not None:
            agrees = run_check(check_built, name, built, data, out, out.stderr, show_ok=not out.quiet)
            if not agrees:
                why = "it disagrees with SymPy" if agrees is False else "the cross-check failed"
                out.error(f"not writing the gradient of '{name}': {why}")
                continue
        results.append(Result(name, built, data))
    if isinstance(sink, Directory):
        _write_each(results, sink, request, out)
    elif results:
        source = module_source(results, request, target_text(request.file, request.selector), out)
        if source is not None:
            if isinstance(sink, File):
                write_module(sink.path, source, [r.built.generated.name for r in results], out)
            else:
                print_module(source, out)
    return out.status


def _write_each(results: list[Result], sink: Directory, request: Request, out: Output) -> None:
    """`-o DIR`: one module per function, named after the input and the function."""
    if results:
        try:
            sink.path.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            out.error(f"cannot create directory {sink.path}: {exc.strerror or exc}")
            return
    stem = Path(request.file).stem
    for result in results:
        path = sink.path / output_name(stem, result.name, request.value, request.kind)
        if not may_write(path, request, out):
            continue
        source = module_source([result], request, target_text(request.file, result.name), out)
        if source is not None:
            write_module(path, source, [result.built.generated.name], out)


def point_command(args: argparse.Namespace, out: Output) -> int:
    """`s2s-ad graph` and `s2s-ad trace`: one function, evaluated at the point of --at."""
    from ..graph import MAX_NODES, graph_of  # `s2s_ad.graph` is also the function: import from the module

    file, selector = split_target(args.target)
    if selector is not None and "," in selector:
        raise UsageError(f"'{args.target}': {args.command} takes one function (FILE:NAME)")
    positional, named = parse_point(args.at)
    output = getattr(args, "output", None)
    chosen = None
    if args.command == "graph":
        chosen = _picture_format(args, file, output, out)
        if chosen is None:
            return 1
    try:
        module = frontend.static_module(file)
        if selector is not None and "." in selector:
            parsed = _evaluated_method(module, selector)
        else:
            selector = _evaluated_function(module, file, selector)
            parsed = module.function(selector)
        no_structures_at(parsed)
        positional, named = _arrays_at(parsed, positional, named)
        drawn = graph_of(parsed, positional, named)
        if args.command == "trace":
            print_module(drawn.trace(), out)
            return out.status
        max_nodes = args.max_nodes or MAX_NODES
        if chosen == "dot":
            return _show_dot(drawn.to_dot(max_nodes), output, out)
        picture = drawn.render(chosen or "svg", max_nodes)
    except S2SError as exc:
        out.error(exc)
        return 1
    except UsageError:
        raise
    except OSError as exc:
        out.error(f"cannot write {output}: {exc.strerror or exc}")
        return 1
    except Exception as exc:  # a bug of s2s_ad, not of the input: say so, without a traceback
        out.error(
            f"internal error while evaluating '{selector}': {type(exc).__name__}: {exc}\n"
            f"hint: this is a bug in s2s_ad; run with -v to see the traceback, and please report it"
        )
        if args.verbose:
            traceback.print_exc(file=out.stderr)
        return 1
    return _show_picture(picture, output, out)


def _arrays_at(parsed: frontend.ParsedFunction, positional: list[Any], named: dict[str, Any]) -> tuple[list[Any], dict[str, Any]]:
    """The point for a function that uses NumPy: each list of --at is an array of floats (`W=[[1,2],[3,4]]`)."""
    if not frontend.uses_arrays(parsed):
        return positional, named
    try:
        import numpy
    except ImportError:
        raise UsageError(f"'{parsed.name}' uses NumPy, which is not installed here") from None

    def array(value: Any, name: str) -> Any:
        if not isinstance(value, list):
            return value
        try:
            return numpy.array(value, dtype=float)
        except ValueError:
            raise UsageError(f"--at: the array {name}={value!r} is not rectangular (its rows differ in length)") from None

    names = [a.arg for a in (*parsed.node.args.posonlyargs, *parsed.node.args.args)]
    shown = [*names, *(f"argument {k + 1}" for k in range(len(names), len(positional)))]
    return [array(v, shown[k]) for k, v in enumerate(positional)], {k: array(v, k) for k, v in named.items()}


def _picture_format(args: argparse.Namespace, file: str, output: str | None, out: Output) -> str | None:
    """The format `s2s-ad graph` writes (`dot`, `svg`, `png`, `pdf`); None (and an error) for the input file as output."""
    if output == "":
        raise UsageError("-o needs a file name")
    if args.max_nodes is not None and args.max_nodes < 1:
        raise UsageError("--max-nodes takes a positive number")
    path = None if output is None or output == "-" else Path(output)
    if path is not None and same_file(path, Path(file)):
        out.error(f"refusing to write over the input file {file} (-o {output})")
        return None
    chosen: str = args.format or (path.suffix.lstrip(".").lower() if path is not None else "dot")
    if chosen == "gv":
        chosen = "dot"
    if chosen not in ("dot", "svg", "png", "pdf"):
        raise UsageError(
            f"-o {output}: cannot tell the picture format from the suffix; end it with .svg, .png, .pdf or .dot, or pass --format"
        )
    return chosen


def _evaluated_function(module: StaticModule, file: str, selector: str | None) -> str:
    """The function `graph` and `trace` evaluate: the one named, or the only one the file defines."""
    defined = top_level_functions(module)
    if selector is None:
        if len(defined) != 1:
            raise SourceError(
                f"{file} defines {len(defined)} top-level functions: name one as FILE:NAME",
                filename=file,
                hint="top-level functions: " + (", ".join(defined) or "none"),
            )
        selector = next(iter(defined))
    if selector not in defined:
        raise unknown_function(file, selector, list(defined))
    refused = defined[selector]
    if refused is not None:
        raise refused
    return selector


def _evaluated_method(module: StaticModule, selector: str) -> frontend.ParsedFunction:
    """The static or class method `Class.method` that `graph` and `trace` evaluate; a plain method is refused:
    its `self` is a parameter that --at has no value for."""
    class_name, _, method = selector.partition(".")
    node = frontend.find_method(module, class_name, method)
    if node is not None and frontend.method_kind(node) == frontend.PLAIN:
        raise module.source.error(
            UnsupportedError,
            f"'{selector}' is a plain method: its first parameter is the object it is called on, which --at cannot give",
            node,
            f"evaluate a @staticmethod or @classmethod, or draw it from Python: s2s_ad.graph(obj.{method}, <arguments>)",
        )
    return frontend.method_function(module, class_name, method)


def _show_dot(text: str, output: str | None, out: Output) -> int:
    """DOT text on standard output, or in the file `output`."""
    if output is None or output == "-":
        print_module(text, out)
    else:
        Path(output).write_text(text, encoding="utf-8")
        out.info(f"wrote {output}")
    return out.status


def _show_picture(picture: bytes, output: str | None, out: Output) -> int:
    """A rendered picture on standard output (as bytes), or in the file `output`."""
    if output is None or output == "-":
        out.stdout.flush()
        if hasattr(out.stdout, "buffer"):
            out.stdout.buffer.write(picture)
            out.stdout.buffer.flush()
        else:
            out.stdout.write(picture.decode())
        return out.status
    try:
        Path(output).write_bytes(picture)
    except OSError as exc:
        out.error(f"cannot write {output}: {exc.strerror or exc}")
        return 1
    out.info(f"wrote {output}")
    return out.status


def load_check() -> Any:
    """`s2s_ad.check.check_built`, imported only when asked for; None (and a message) if it is missing."""
    try:
        module = importlib.import_module("s2s_ad.check")
        return module.check_built
    except (ImportError, AttributeError) as exc:
        print(
            f"{PROG}: error: the SymPy cross-check is not available in this installation (s2s_ad.check.check_built: {exc})",
            file=sys.stderr,
        )
        return None


def run_check(
    check_built: Any, name: str, built: Built, data: dict[str, object], out: Output, stream: TextIO, *, show_ok: bool
) -> bool | None:
    """Cross-check one function; print its report (always if it fails).

    True if it agrees with SymPy, False on a mismatch, None if the check
    itself could not be done (reported as an error).
    """

    try:
        report = check_built(
            built.primal,
            built.derived,
            built.wrt,
            data,
            built.rules,
            generated=built.generated if built.backend == "python" else None,  # numba's: the same IR, printed otherwise
            with_value=built.with_value,
        )
    except S2SError as exc:
        out.error(exc)
        return None
    except Exception as exc:  # a bug of the check, not of the input: say so, without a traceback
        out.error(
            f"internal error while cross-checking '{name}': {type(exc).__name__}: {exc}\n"
            f"hint: this is a bug in s2s_ad; please report it"
        )
        return None
    ok = bool(report.ok)
    if show_ok or not ok:
        print(str(report), file=stream)
    return ok
