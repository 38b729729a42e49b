"""Each gradient is returned under its parameter's name: `return x_bar, y_bar, z_bar`.

After the other passes a returned gradient may be any value: the adjoint of
a temporary equal to it (`_t2_bar`, where `y - x * x` passes its adjoint to
`y` unchanged), the adjoint of a named value (`y_bar`, where `y = x`), a
forward value (`max(y, z)` is the gradient of `x` in `(x + y) * max(y, z)`),
a parameter, a constant. The adjoint of a temporary that nothing else
returns is renamed, every version of it (the accumulation `_t2_bar += ...`
reads `y_bar += ...`); anything else is copied into a new `x_bar` just
before the return. Exact: only names change,
and a copy is the value itself.
"""

from __future__ import annotations

from collections.abc import Mapping

from .. import ir
from ..ir import Assign, Function, Stmt, Var
from ..rules import RULES, Rule
from .common import namer_for, replaced


def gradient_names(function: Function, rules: Mapping[str, Rule] = RULES) -> Function:
    if function.gradient is None or not function.wrt:
        return function
    slot = _at(function.returns, function.gradient)
    gradients = slot if isinstance(slot, tuple) else (slot,)
    if len(gradients) != len(function.wrt):
        return function
    names = ir.all_names(function)
    params = {p.name for p in function.params}
    reverse_only = _defined_after_the_note(function.body)
    counts: dict[object, int] = {}
    for g in gradients:
        key = g if isinstance(g, tuple) else ir.identity(g)
        counts[key] = counts.get(key, 0) + 1
    renamed: dict[str, str] = {}  # family -> the parameter's adjoint family
    copies: list[Stmt] = []
    namer = namer_for(function)
    chosen: list[ir.Returns] = []
    for param, gradient in zip(function.wrt, gradients):
        wanted = f"{param}_bar"
        if isinstance(gradient, tuple) or (isinstance(gradient, Var) and ir.family(gradient.name) == wanted):
            chosen.append(gradient)
            continue
        if any(ir.family(n) == wanted for n in names) or wanted in renamed.values():
            chosen.append(gradient)  # the name is taken (the source uses it): leave it
            continue
        family = ir.family(gradient.name) if isinstance(gradient, Var) else None
        if (
            family is not None
            and counts[ir.identity(gradient)] == 1
            and gradient.name not in params  # type: ignore[union-attr]
            and family in reverse_only
            and family.endswith("_bar")
            and ir.is_temp(family[: -len("_bar")])  # `_t2_bar`; `y_bar`, a named value's, keeps its name
            and family not in renamed
        ):
            renamed[family] = wanted
            chosen.append(gradient)
            continue
        target = namer().fresh(wanted)
        type_ = ir.types_of(function).get(gradient.name, ir.FLOAT) if isinstance(gradient, Var) else ir.FLOAT
        copies.append(Assign(target, "copy", (gradient,), type_, function.loc))
        chosen.append(Var(target))
    if not renamed and not copies:
        return function

    def new_name(name: str) -> str:
        family = ir.family(name)
        return renamed[family] + name[len(family) :] if family in renamed else name

    body, mapping = ir.renamed_copy((*function.body, *copies), new_name)
    new_slot: ir.Returns = tuple(chosen) if isinstance(slot, tuple) else chosen[0]
    returns = _replace_at(function.returns, function.gradient, new_slot)
    return replaced(function, body, _renamed_returns(returns, mapping))


def _defined_after_the_note(body: ir.Block) -> set[str]:
    """The families of names the reverse sweep defines (after the `# reverse sweep` note), and of none before."""
    before: set[str] = set()
    after: set[str] = set()
    seen_note = False
    for stmt in body:
        if isinstance(stmt, ir.Note):
            seen_note = True
            continue
        inner = {ir.family(n) for s in ir.walk((stmt,)) for n in ir.defs(s)}
        (after if seen_note else before).update(inner)
    return after - before


def _at(returns: ir.Returns, path: tuple[int, ...]) -> ir.Returns:
    for k in path:
        assert isinstance(returns, tuple)
        returns = returns[k]
    return returns


def _replace_at(returns: ir.Returns, path: tuple[int, ...], new: ir.Returns) -> ir.Returns:
    if not path:
        return new
    assert isinstance(returns, tuple)
    return tuple(_replace_at(r, path[1:], new) if k == path[0] else r for k, r in enumerate(returns))


def _renamed_returns(returns: ir.Returns, mapping: Mapping[str, ir.Operand]) -> ir.Returns:
    if isinstance(returns, tuple):
        return tuple(_renamed_returns(r, mapping) for r in returns)
    return ir.substitute(returns, mapping)
