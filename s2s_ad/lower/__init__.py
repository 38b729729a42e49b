"""Python AST -> IR: three-address code, one primitive per assignment, SSA names.

The lowering walks the `def` once, keeping a scope that maps each source
variable to its current SSA value. Nested expressions become temporaries,
re-assignments become new versions (`x`, `x.1`, ...), calls to the user's own
functions are lowered in place with their parameters bound to the caller's
values. Everything outside the supported language is refused here, with the
file, line and construct, before any code is generated. A call of a
`@custom_derivative` function becomes one primitive whose rules the lowering
makes: `lowered` returns them with the IR (`Lowered`), and the table it was
given stays as it was.

The lowering is one class made of parts, a module each: `statements`, `loops`,
`expressions`, `calls`, `builtins` (`sorted`, `list`, `map`, the `math`
functions of lists), `functions` (functions passed to helpers, `lambda`, a
nested `def`, and `None` arguments), on the state and checks of `base`; `scope` holds the
values it keeps per name, `types` the parameter types, `rewrites` the statements
lowered as others (`assert`, a loop's `else`, a loop variable read after its
loop), `refusals` the messages. Before all that, `structures` (with `parts`)
reads a parameter that arrives as a structure as one parameter per leaf it
reads (`flatten`).
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Mapping
from typing import NamedTuple

from .. import frontend, ir
from ..errors import UnsupportedError
from ..frontend import ParsedFunction
from ..ir import Loc, Namer, Var
from ..rules import RULES, Rule
from ..rules.custom import LoweredBody
from .base import Place, Retype
from .builtins import Builtins
from .calls import Calls
from .expressions import Expressions
from .functions import Functions
from .loops import Loops
from .scope import Scope, TupleValue, Value
from .sequences import Sequences
from .statements import Statements
from .structures import Flattened, flatten
from .types import param_types


class Lowered(NamedTuple):
    """What the lowering returns: the IR, and the rules it made for the calls of custom derivatives
    (empty for most functions). The table it was given is left as it was: the caller merges."""

    function: ir.Function
    rules: dict[str, Rule]


class Lowering(Functions, Statements, Builtins, Loops, Sequences, Expressions, Calls):
    """The lowering of one function (and, sharing its output and names, of the helpers it calls)."""

    def custom_body(self, function: Callable[..., object]) -> LoweredBody:
        """How to lower the body of a custom derivative's function when the check asks for its SymPy
        spelling (`rules.custom.Body`): lowered once, on first use, with the shared table."""

        @functools.cache
        def body() -> tuple[ir.Function, Mapping[str, Rule]]:
            inside = lowered(frontend.from_function(function), RULES)
            return inside.function, {**RULES, **inside.rules}

        return body


def lowered(parsed: ParsedFunction, rules: Mapping[str, Rule] = RULES, arg_types: Mapping[str, ir.Type] | None = None) -> Lowered:
    """Lower a parsed function to IR; the rules of the custom derivatives it calls (and of the ways it
    indexes arrays) come with it. `arg_types` types parameters the body alone cannot (arrays)."""
    elements: dict[Place, ir.Type] = {}
    while True:
        try:
            return _lowered(parsed, rules, arg_types, elements)
        except Retype as retyped:  # an empty list's appends said what it holds: again, knowing it
            elements[retyped.key] = retyped.elem


def _lowered(
    parsed: ParsedFunction, rules: Mapping[str, Rule], arg_types: Mapping[str, ir.Type] | None, elements: dict[Place, ir.Type]
) -> Lowered:
    lowering = Lowering(parsed, rules, Namer(), stack=(parsed.name,))
    lowering.elements = elements
    node = parsed.node
    if lowering.tape is not None:  # a gradient s2s_ad generated, read back: its stack of tuples is no list of numbers
        raise lowering.error(
            UnsupportedError,
            "this generated gradient records on a tape (`_tape`); differentiating it again is not supported",
            lowering.tape,
            "use hessian(f) for second derivatives",
        )
    params = lowering.params(node, arg_types)
    scope: Scope = {p.name: Value(Var(lowering.namer.fresh(p.name)), p.type) for p in params}
    lowering.types.update((v.operand.name, v.type) for v in scope.values() if isinstance(v, Value) and isinstance(v.operand, Var))
    lowering.callers.update(p.name for p in params if isinstance(p.type, ir.ListOf))
    lowering.shared.update(p.name for p in params if isinstance(p.type, ir.ArrayOf))  # the caller holds them too
    returned = lowering.body(node, scope)
    returns = _returns(returned)
    sources = tuple((src.filename, src.lines) for src in lowering.sources.values())
    body = _without_dead_list_carries(tuple(lowering.out), returns)
    function = ir.Function(parsed.name, params, body, returns, Loc(parsed.source.filename, node.lineno), sources)
    return Lowered(function, lowering.created)


def _without_dead_list_carries(body: ir.Block, returns: ir.Returns) -> ir.Block:
    """A loop carries a name it assigns that existed before it (after the loop, Python's name is the last value).
    Where a list's is read by neither the loop before it is assigned again nor anything after the loop (`row =
    [...]`, then `V.append(row)`, each iteration of a Viterbi table), nothing carries it: the lists stay apart.
    So for a branch's merge of a list that nothing reads."""
    while True:
        used = {o.name for o in ir.return_operands(returns) if isinstance(o, Var)}
        for stmt in ir.walk(body):
            used.update(ir.used_names(stmt))
        lean = _dropped_carries(body, used)
        if lean == body:
            return body
        body = lean


def _dropped_carries(statements: ir.Block, used: set[str]) -> ir.Block:
    """`statements` without the carried lists whose results nothing reads (`used`) and whose loops never read them,
    and without the lists merged after a branch that nothing reads (a list the rest of the function makes anew
    after `if ...: return ...` is not the list the branch held)."""
    out: list[ir.Stmt] = []
    for stmt in statements:
        stmt = ir.with_blocks(stmt, lambda block: _dropped_carries(block, used))
        if isinstance(stmt, (ir.For, ir.While)):
            inside = {n for b in ir.blocks_of(stmt) for s in ir.walk(b) for n in ir.used_names(s)}
            inside.update(o.name for c in stmt.carried for o in (c.init, c.update) if isinstance(o, Var))
            inside.update(o.name for o in (stmt.until, getattr(stmt, "cond", None)) if isinstance(o, Var))
            kept = tuple(c for c in stmt.carried if not isinstance(c.type, ir.ListOf) or c.result in used or c.header in inside)
            if len(kept) != len(stmt.carried):
                stmt = dataclasses.replace(stmt, carried=kept)
        elif isinstance(stmt, ir.If):  # a list merged after a branch that nothing reads (`return` in one branch)
            merges = tuple(m for m in stmt.merges if not isinstance(m.type, ir.ListOf) or m.target in used)
            if len(merges) != len(stmt.merges):
                stmt = dataclasses.replace(stmt, merges=merges)
        out.append(stmt)
    return tuple(out)


def _returns(returned: Value | TupleValue) -> ir.Returns:
    return tuple(_returns(v) for v in returned.items) if isinstance(returned, TupleValue) else returned.operand


def lower(parsed: ParsedFunction, rules: Mapping[str, Rule] = RULES) -> ir.Function:
    """The IR of a parsed function alone (`lowered(...).function`), for callers that read no
    custom derivative: the rules of those it calls are left out."""
    return lowered(parsed, rules).function


__all__ = ["Flattened", "Lowered", "Lowering", "flatten", "lower", "lowered", "param_types"]
