"""The input file: read statically, its functions chosen, each one built by the pipeline.

The file is parsed, never imported or run (`frontend.static_module`). Named
with `FILE:NAME`, every function is differentiated or refused. Given a whole
file, the functions that are helpers or drivers rather than functions to
differentiate (their output is not one float, or they take no parameters)
are left out with a note under `-v`, read from the source alone where it
says so (`_left_out`) and otherwise from the pipeline (`NotScalarError`).
"""

from __future__ import annotations

import ast
import dataclasses
import traceback
from typing import TYPE_CHECKING

from .. import cli, frontend, ir
from ..errors import ResolutionError, S2SError, SignatureError, SourceError, UnsupportedError
from ..frontend import Data, ParsedFunction, StaticModule, uses_arrays
from ..frontend.parsing import copy_def
from .output import Output, Progress

if TYPE_CHECKING:
    from ..pipeline import Built, Wrt
    from .arguments import Request


def built_functions(request: Request, out: Output) -> list[tuple[str, Built, dict[str, object]]]:
    """Parse the file statically and run the pipeline on each selected function.

    For a whole file, functions that are not meant to be differentiated
    (`_left_out`) are skipped with a note instead of refused.
    """
    try:
        module = frontend.static_module(request.file)
    except S2SError as exc:
        out.error(exc)
        return []
    except (ValueError, RecursionError, MemoryError) as exc:  # what ast.parse raises besides SyntaxError
        out.error(SourceError(f"cannot parse {request.file}: {exc}", filename=request.file))
        return []
    whole_file = request.names is None
    defined = top_level_functions(module)
    methods = class_methods(module)
    names = [*defined, *methods] if whole_file else list(request.names)  # type: ignore[arg-type]
    if not names:
        out.error(
            SourceError(
                f"{request.file} defines no top-level functions, nor classes with methods",
                filename=request.file,
                hint="write the function to differentiate with `def` at module level, or as a method of a top-level class",
            )
        )
    nodes = {stmt.name: stmt for stmt in module.tree.body if isinstance(stmt, ast.FunctionDef)}
    done = []
    left_out = 0
    for name in names:
        try:
            if "." in name:
                built, data = _built_method(module, name, methods, request, whole_file, out)
            else:
                if name not in defined:
                    raise unknown_function(request.file, name, list(defined), list(methods))
                refused = defined[name]
                if refused is not None:
                    raise refused
                built, data = _built(module, name, module.function(name), nodes[name], request, whole_file, out)
        except _LeftOut as reason:
            out.note(f"left out '{name}': {reason}")
            left_out += 1
            continue
        except cli.pipeline.NotScalarError as exc:
            if not whole_file:
                out.error(exc)
                continue
            out.note(f"left out '{name}': its output is not one number (a helper, not a function to differentiate)")
            left_out += 1
            continue
        except S2SError as exc:
            out.error(exc)
            continue
        except Exception as exc:  # a bug of the pipeline, not of the input: say so, without a traceback
            out.error(
                f"internal error while differentiating '{name}': {type(exc).__name__}: {exc}\n"
                f"hint: this is a bug in s2s_ad; run with -v to see the traceback, and please report it"
            )
            if request.verbose:
                traceback.print_exc(file=out.stderr)
            continue
        done.append((name, built, data))
    if whole_file and names and left_out == len(names):
        out.error(
            SourceError(
                f"{request.file} defines no function to differentiate: each function and method returns something "
                "other than one number, takes no parameters, or reads the attributes of its object",
                filename=request.file,
                hint="name a function with FILE:NAME to see why it is refused, or run with -v",
            )
        )
    return done


# What a return annotation names when a function's output is not one float: containers, strings,
# truth values, nothing, functions, and ints (counts and exit statuses, whose derivative is zero).
_NOT_A_NUMBER = frozenset(
    {
        "int",
        "Callable",
        "tuple",
        "Tuple",
        "list",
        "List",
        "dict",
        "Dict",
        "set",
        "Set",
        "frozenset",
        "FrozenSet",
        "str",
        "bytes",
        "bool",
        "None",
        "NoReturn",
        "Sequence",
        "Iterable",
        "Iterator",
        "Generator",
        "Mapping",
    }
)


def _left_out(node: ast.FunctionDef, kind: str) -> str | None:
    """Why a function of a whole file is not differentiated (a helper or a driver), or None to differentiate it.

    Read from the source alone: no parameters; a parameter that defaults to
    None, or that the body calls (a function); no `return` with a value; a
    return annotation other than a float (a container, a string, a truth
    value, None, a function, an int: a count or an exit status); a `return`
    whose value is a tuple or list display, a comprehension, a string or a
    truth value (for forward mode, `--forward`, a tuple of numbers is an
    output it can differentiate). The pipeline finds the rest
    (`pipeline.NotScalarError`).
    """
    params = node.args
    if not (params.args or params.posonlyargs or params.vararg or params.kwonlyargs or params.kwarg):
        return "it takes no parameters"
    names = [p.arg for p in (*params.posonlyargs, *params.args, *params.kwonlyargs)]
    defaults = [*params.defaults, *params.kw_defaults]
    if any(isinstance(d, ast.Constant) and d.value is None for d in defaults):
        return "a parameter of it defaults to None (a helper, not a function to differentiate)"
    called = [n.func.id for n in _own_nodes(node) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)]
    for name in names:
        if name in called:
            return f"it calls its parameter '{name}', a function (a helper, not a function to differentiate)"
    returns = [n for n in _own_nodes(node) if isinstance(n, ast.Return)]
    if not any(r.value is not None for r in returns):
        return "it returns no value"
    annotation = node.returns
    head = annotation.value if isinstance(annotation, ast.Subscript) else annotation
    if isinstance(head, ast.Attribute):
        head_name: str | None = head.attr
    elif isinstance(head, ast.Name):
        head_name = head.id
    elif isinstance(head, ast.Constant) and head.value is None:
        head_name = "None"
    else:
        head_name = None
    tuples_allowed = kind == "jvp"
    if head_name in _NOT_A_NUMBER and not (tuples_allowed and head_name in ("tuple", "Tuple")):
        return f"its return annotation, {ast.unparse(annotation)}, is not a float"  # type: ignore[arg-type]
    for statement in returns:
        what = _not_a_number(statement.value, tuples_allowed)
        if what is not None:
            return f"it returns {what}, not one number (line {statement.lineno})"
    return None


def _own_nodes(node: ast.FunctionDef) -> list[ast.AST]:
    """The nodes of a function's body, without those of functions and classes defined inside it."""
    found: list[ast.AST] = []
    pending: list[ast.AST] = list(node.body)
    while pending:
        current = pending.pop()
        found.append(current)
        if not isinstance(current, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
            pending.extend(ast.iter_child_nodes(current))
    return found


def _not_a_number(value: ast.expr | None, tuples_allowed: bool) -> str | None:
    """What a returned expression is when it is plainly not one number ("a tuple", "a string", ...), else None."""
    if value is None:
        return None
    if isinstance(value, ast.IfExp):
        return _not_a_number(value.body, tuples_allowed) or _not_a_number(value.orelse, tuples_allowed)
    if isinstance(value, ast.Tuple):
        return None if tuples_allowed else "a tuple"
    kinds: tuple[tuple[type | tuple[type, ...], str], ...] = (
        ((ast.List, ast.ListComp), "a list"),
        ((ast.Dict, ast.DictComp, ast.Set, ast.SetComp), "a dict or a set"),
        (ast.GeneratorExp, "a generator"),
        (ast.JoinedStr, "a string"),
        ((ast.Compare, ast.BoolOp), "a truth value"),
    )
    for node_types, what in kinds:
        if isinstance(value, node_types):
            return what
    if isinstance(value, ast.UnaryOp) and isinstance(value.op, ast.Not):
        return "a truth value"
    if isinstance(value, ast.Constant):
        constant = value.value
        if isinstance(constant, bool):
            return "a truth value"
        if isinstance(constant, (str, bytes)):
            return "a string"
        if constant is None:
            return "None"
    return None


def top_level_functions(module: StaticModule) -> dict[str, S2SError | None]:
    """Every top-level `def` in file order; async ones map to the error that refuses them."""
    found: dict[str, S2SError | None] = {}
    for stmt in module.tree.body:
        if isinstance(stmt, ast.FunctionDef):
            found[stmt.name] = None
        elif isinstance(stmt, ast.AsyncFunctionDef):
            found[stmt.name] = module.source.error(
                UnsupportedError, "async functions cannot be differentiated", stmt, "define the function with a plain `def`"
            )
    return found


def class_methods(module: StaticModule) -> dict[str, tuple[str, ast.FunctionDef | ast.AsyncFunctionDef]]:
    """Every method of the top-level classes, as `Class.method`, in file order: its class, and its `def`."""
    return {
        f"{class_name}.{method.name}": (class_name, method)
        for class_name, node in frontend.top_level_classes(module).items()
        for method in frontend.methods_of(node)
    }


def unknown_function(file: str, name: str, defined: list[str], methods: list[str] | None = None) -> S2SError:
    """A name (`loss`) the file does not define at top level; the hint lists what it does define."""
    listed = ("top-level functions: " + ", ".join(defined)) if defined else "the file defines no top-level functions"
    if methods:
        listed += "; methods: " + ", ".join(methods)
    return ResolutionError(f"no top-level function '{name}'", filename=file, hint=listed)


def _unknown_method(module: StaticModule, name: str, methods: list[str]) -> S2SError:
    """`Class.method` the file does not define: the class is missing, or it has no such method."""
    class_name, _, method = name.partition(".")
    classes = frontend.top_level_classes(module)
    if class_name not in classes:
        hint = ("top-level classes: " + ", ".join(classes)) if classes else "the file defines no top-level classes"
        return ResolutionError(f"no top-level class '{class_name}' (for '{name}')", filename=module.filename, hint=hint)
    own = [m.split(".", 1)[1] for m in methods if m.startswith(class_name + ".")]
    hint = (f"methods of {class_name}: " + ", ".join(own)) if own else f"{class_name} defines no methods"
    node = classes[class_name]
    return module.source.error(ResolutionError, f"class '{class_name}' has no method '{method}'", node, hint)


def _built_method(
    module: StaticModule,
    name: str,
    methods: dict[str, tuple[str, ast.FunctionDef | ast.AsyncFunctionDef]],
    request: Request,
    whole_file: bool,
    out: Output,
) -> tuple[Built, dict[str, object]]:
    """One method `Class.method` through the pipeline (see `frontend.method_function`); in a whole file,
    `_LeftOut` for a property, or a method that reads its object's attributes."""
    class_name, _, method = name.partition(".")
    found = frontend.find_method(module, class_name, method)  # also a method a base defines, named on the class
    if found is None:
        raise _unknown_method(module, name, list(methods))
    node = found
    if isinstance(node, ast.AsyncFunctionDef):
        raise module.source.error(
            UnsupportedError, "async functions cannot be differentiated", node, "define the method with a plain `def`"
        )
    kind = frontend.method_kind(node)
    if whole_file and kind == frontend.PROPERTY:
        raise _LeftOut("it is a property, read rather than called")
    stripped = copy_def(node, deep=False)  # without `self` or `cls`: what `_left_out` reads
    positional = stripped.args.posonlyargs if stripped.args.posonlyargs else stripped.args.args
    if kind != frontend.STATIC and positional:
        positional = positional[1:]
        if stripped.args.posonlyargs:
            stripped.args.posonlyargs = positional
        else:
            stripped.args.args = positional
    if whole_file:
        reason = _left_out(stripped, request.kind)
        if reason is not None:
            raise _LeftOut(reason)
    try:
        parsed = frontend.method_function(module, class_name, node.name)
    except frontend.NeedsObject as exc:
        if not whole_file:
            raise
        raise _LeftOut(
            f"it reads an attribute of its object (line {exc.lineno}); name it, {request.file}:{name}, to see which"
        ) from None
    wrt = _method_wrt(parsed, request)
    return _built(module, name, parsed, stripped, dataclasses.replace(request, wrt=wrt), whole_file, out)


def _method_wrt(parsed: ParsedFunction, request: Request) -> Wrt:
    """`--wrt` of a plain method: indices count its parameters after `self` (names are names)."""
    if not parsed.data_params or request.wrt is None:
        return request.wrt
    params = [a.arg for a in (*parsed.node.args.posonlyargs, *parsed.node.args.args)][len(parsed.data_params) :]
    items = list(request.wrt) if isinstance(request.wrt, (tuple, list)) else [request.wrt]
    shifted: list[str | int] = []
    for item in items:
        if isinstance(item, int) and not isinstance(item, bool):
            if not -len(params) <= item < len(params):
                raise parsed.source.error(
                    SignatureError,
                    f"--wrt {item}: '{parsed.qualname}' has {len(params)} parameter(s) after {parsed.data_params[0]}"
                    + (f" ({', '.join(params)})" if params else ""),
                    parsed.node,
                    "indices count the parameters after self, from 0",
                )
            shifted.append(params[item])
        else:
            shifted.append(item)  # type: ignore[arg-type]
    return shifted[0] if not isinstance(request.wrt, (tuple, list)) else tuple(shifted)


def _data(parsed: frontend.ParsedFunction, built: Built) -> dict[str, object]:
    """Values of the module-level data the generated code reads, by name."""
    data: dict[str, object] = {}
    for name in built.generated.globals:
        found = parsed.resolve(name)
        if isinstance(found, Data):
            data[name] = found.value
    return data


class _LeftOut(Exception):
    """A function of a whole file that is not one to differentiate, and why."""


def _built(
    module: StaticModule,
    name: str,
    parsed: ParsedFunction,
    node: ast.FunctionDef,
    request: Request,
    whole_file: bool,
    out: Output,
) -> tuple[Built, dict[str, object]]:
    """One function (or method) through the pipeline; in a whole file, `_LeftOut` for what is not meant to be
    differentiated, read off `node` (a method's without `self`)."""
    if whole_file:
        reason = _left_out(node, request.kind)
        if reason is not None:
            raise _LeftOut(reason)
    read = frontend.structure_read(parsed)
    if read is not None:
        if whole_file:
            raise _LeftOut(f"it reads a parameter as a structure ({ast.unparse(read[1])}), whose keys only an argument gives")
        raise _needs_example(parsed, *read)
    arg_types = _array_types(parsed, request)
    if arg_types is None and whole_file:
        raise _LeftOut("it works on NumPy arrays; give their shapes with --shapes to write its gradient")
    if arg_types is None:
        raise _needs_shapes(parsed)
    built = cli.pipeline.build(
        parsed,
        request.wrt,
        with_value=request.value,
        verbose=request.verbose,
        kind=request.kind,
        arg_types=arg_types,
        backend=request.backend,
        progress=Progress(out, name, stages=5 if request.kind == "hvp" else 4),
        checkpoints=request.checkpoints,
        schedule=request.schedule,
    )
    return built, _data(parsed, built)


def _array_types(parsed: ParsedFunction, request: Request) -> dict[str, ir.Type] | None:
    """The array parameters' types from `--shapes`; None for a function on arrays without them."""
    params = [a.arg for a in (*parsed.node.args.posonlyargs, *parsed.node.args.args, *parsed.node.args.kwonlyargs)]
    found: dict[str, ir.Type] = {}
    for name, sizes, kind in request.shapes:
        if name in params:
            elem = ir.INT if kind == "int" else ir.FLOAT
            found[name] = cli.pipeline.array_type(name, sizes, elem)
    return None if not found and uses_arrays(parsed) else found


def _needs_example(parsed: ParsedFunction, where: ParsedFunction, read: ast.expr) -> S2SError:
    """The refusal of a function that reads a parameter as a structure: its keys and the kinds of its entries
    are only known from an argument, which the command line, running nothing, does not have."""
    return where.source.error(
        UnsupportedError,
        f"'{parsed.qualname or parsed.name}' reads a parameter as a structure ({ast.unparse(read)}): its keys and the kinds "
        "of its entries are needed to write its gradient, and the command line has no argument to read them from",
        read,
        f"write it from Python, where the first call gives the structure: g = s2s_ad.grad({parsed.qualname or parsed.name}); "
        f"g(<arguments>); then inspect.getsource(g) is the generated function (it imports nothing of s2s_ad)",
    )


def no_structures_at(parsed: ParsedFunction) -> None:
    """`graph` and `trace` of a function that reads a parameter as a structure: --at gives numbers and lists."""
    read = frontend.structure_read(parsed)
    if read is not None:
        where, node = read
        raise where.source.error(
            UnsupportedError,
            f"'{parsed.name}' reads a parameter as a structure ({ast.unparse(node)}), which --at cannot give",
            node,
            f"draw it from Python: s2s_ad.graph({parsed.name}, <arguments>) takes the structure itself",
        )


def _needs_shapes(parsed: ParsedFunction) -> S2SError:
    params = [a.arg for a in (*parsed.node.args.posonlyargs, *parsed.node.args.args, *parsed.node.args.kwonlyargs)]
    arrays = [p for p in params if p in _read_as_arrays(parsed)] or params
    return parsed.source.error(
        UnsupportedError,
        f"'{parsed.qualname or parsed.name}' works on NumPy arrays: their shapes are needed to write its gradient",
        parsed.node,
        f"give each array's sizes with --shapes, e.g. --shapes {arrays[0]}=3x4 (one size per axis, "
        f"for every array parameter; plainly arrays here: {', '.join(arrays)})",
    )


def _read_as_arrays(parsed: ParsedFunction) -> set[str]:
    """The names the function reads as arrays, as its syntax says: operands of `@`, names whose `.shape`,
    `.T` or an array method is read, arguments of NumPy functions."""
    found: set[str] = set()
    methods = {"shape", "T", "ndim", "size", "sum", "mean", "max", "min", "reshape", "dot", "ravel", "flatten", "std", "var"}

    def numpy(node: ast.expr) -> bool:
        while isinstance(node, ast.Attribute):
            node = node.value
        if not isinstance(node, ast.Name):
            return False
        try:
            return isinstance(parsed.resolve(node.id), frontend.NumpyModule)
        except S2SError:
            return False

    for node in ast.walk(parsed.node):
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.MatMult):
            found.update(n.id for n in (node.left, node.right) if isinstance(n, ast.Name))
        elif isinstance(node, ast.Attribute) and node.attr in methods and isinstance(node.value, ast.Name):
            found.add(node.value.id)
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and numpy(node.func):
            found.update(a.id for a in node.args if isinstance(a, ast.Name))
    return found
