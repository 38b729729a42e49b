"""IR -> adjoint IR: the forward sweep, then the reverse sweep (backpropagation as code).

The reverse sweep visits the forward statements last to first. For each
active assignment `y = op(a, b)` it asks the rule table for the partial
derivatives and accumulates `a_bar += y_bar * d op/d a`. The first
contribution to an adjoint is an assignment, never `0.0 + ...`. Only active
values get adjoints: those that depend on a `wrt` parameter (varied) and that
the result depends on (useful).
"""

from __future__ import annotations

from collections.abc import Mapping

from . import ir
from .ir import FLOAT, Assign, Const, Emitter, Function, Loc, Namer, Note, Operand, Stmt, Type, Var
from .rules import RULES, Rule


def types_of(function: Function) -> dict[str, Type]:
    types = {p.name: p.type for p in function.params}
    for stmt in ir.walk(function.body):
        if isinstance(stmt, Assign):
            types[stmt.target] = stmt.type
        elif isinstance(stmt, ir.Pop):
            types.update(zip(stmt.targets, stmt.types))
        elif isinstance(stmt, ir.If):
            types.update((m.target, m.type) for m in stmt.merges)
        elif isinstance(stmt, (ir.For, ir.While)):
            for c in stmt.carried:
                types[c.header] = types[c.result] = c.type
            if isinstance(stmt, ir.For):
                types[stmt.index] = ir.INT
    return types


def activity(function: Function, wrt: tuple[str, ...], rules: Mapping[str, Rule] = RULES) -> set[str]:
    """Names that depend on a `wrt` parameter and that the result depends on."""
    varied = set(wrt)
    for stmt in ir.walk(function.body):
        if isinstance(stmt, Assign) and _differentiable(stmt, rules) and any(
            isinstance(a, Var) and a.name in varied for a in stmt.args
        ):
            varied.add(stmt.target)
    useful = {o.name for o in ir.return_operands(function.returns) if isinstance(o, Var)}
    for stmt in reversed(list(ir.walk(function.body))):
        if isinstance(stmt, Assign) and stmt.target in useful and _differentiable(stmt, rules):
            useful.update(a.name for a in stmt.args if isinstance(a, Var))
    return varied & useful


def _differentiable(stmt: Assign, rules: Mapping[str, Rule]) -> bool:
    rule = rules.get(stmt.op)
    return rule is not None and rule.partials is not None and stmt.type == FLOAT


def gradient(function: Function, wrt: tuple[str, ...], *, with_value: bool = False, bare: bool = False,
             rules: Mapping[str, Rule] = RULES) -> Function:
    """The function computing the gradient of `function` with respect to the `wrt` parameters.

    It returns the gradient as a tuple in `wrt` order (the single entry itself
    when `bare`), or `(value, gradient)` when `with_value` is set.
    """
    result = function.returns
    if isinstance(result, tuple):
        raise ValueError("gradient is only defined for scalar-output functions")
    sweep = _Reverse(function, wrt, rules)
    if isinstance(result, Var) and result.name in sweep.active:
        sweep.adjoint[result.name] = Const(1.0)
    sweep.block(function.body)
    grads = tuple(sweep.adjoint.get(name, Const(0.0)) for name in wrt)
    returns: ir.Returns = grads[0] if bare else grads
    if with_value:
        returns = (result, returns)
    body = (*function.body, Note("reverse sweep"), *sweep.out)
    name = f"{function.name}_value_and_grad" if with_value else f"{function.name}_grad"
    return Function(name, function.params, body, returns, function.loc, function.sources)


class _Reverse:
    def __init__(self, function: Function, wrt: tuple[str, ...], rules: Mapping[str, Rule]) -> None:
        self.rules = rules
        self.types = types_of(function)
        self.active = activity(function, wrt, rules)
        self.namer = Namer(ir.all_names(function))
        self.adjoint: dict[str, Operand] = {}
        self.families: dict[str, str] = {}
        self.out: list[Stmt] = []

    def block(self, block: ir.Block) -> None:
        for stmt in reversed(block):
            if isinstance(stmt, Assign):
                self.assign(stmt)
            elif not isinstance(stmt, Note):
                raise NotImplementedError(type(stmt).__name__)

    def assign(self, stmt: Assign) -> None:
        out_bar = self.adjoint.pop(stmt.target, None)
        rule = self.rules[stmt.op]
        if out_bar is None or rule.partials is None or stmt.target not in self.active:
            return
        wanted = [i for i, a in enumerate(stmt.args) if isinstance(a, Var) and a.name in self.active]
        if not wanted:
            return
        scratch: list[Stmt] = []
        emitter = Emitter(self.rules, self.namer, scratch, stmt.loc, self.types)
        partials = rule.partials(emitter.m, emitter.expr(Var(stmt.target)), *(emitter.expr(a) for a in stmt.args))
        needed = [ir._operand(partials[i]) for i in wanted]
        kept = _needed_only(scratch, needed)
        self.out.extend(kept)
        shared = {a.name for s in kept for a in ir.operands(s) if isinstance(a, Var)}
        shared.update(p.name for p in needed if isinstance(p, Var) and needed.count(p) > 1)
        for i, partial in zip(wanted, needed):
            renamable = isinstance(partial, Var) and partial.name not in shared
            self.accumulate(stmt.args[i].name, out_bar, partial, stmt.loc, renamable)  # type: ignore[union-attr]

    def accumulate(self, name: str, out_bar: Operand, partial: Operand, loc: Loc, renamable: bool = True) -> None:
        """`name_bar += out_bar * partial`, where a first contribution is a plain assignment."""
        emitter = Emitter(self.rules, self.namer, self.out, loc, self.types)
        if name not in self.families:
            self.families[name] = self.namer.new_family(f"{name}_bar")
        bar = self.families[name]
        old = self.adjoint.get(name)
        negate = isinstance(partial, Const) and partial.value == -1
        if old is None:
            if negate:
                contribution = emitter.op("neg", out_bar, name=bar)
            else:
                product = emitter.op("mul", out_bar, partial)
                contribution = self.rename_last(product, bar) if renamable or product != partial else product
            self.adjoint[name] = contribution
            return
        if negate:
            self.adjoint[name] = emitter.op("sub", old, out_bar, name=bar)
        else:
            self.adjoint[name] = emitter.op("add", old, emitter.op("mul", out_bar, partial), name=bar)

    def rename_last(self, operand: Operand, name: str) -> Operand:
        """Give the temporary that was just computed the adjoint's name, for readable code."""
        last = self.out[-1] if self.out else None
        if isinstance(operand, Var) and isinstance(last, Assign) and last.target == operand.name \
                and ir.is_temp(operand.name):
            target = self.namer.fresh(name)
            self.out[-1] = Assign(target, last.op, last.args, last.type, last.loc)
            self.types[target] = last.type
            return Var(target)
        return operand


def _needed_only(statements: list[Stmt], needed: list[Operand]) -> list[Stmt]:
    """The statements that compute `needed`: a rule computes every partial, we keep the wanted ones."""
    live = {o.name for o in needed if isinstance(o, Var)}
    kept: list[Stmt] = []
    for stmt in reversed(statements):
        if isinstance(stmt, Assign) and stmt.target in live:
            kept.append(stmt)
            live.update(a.name for a in stmt.args if isinstance(a, Var))
    kept.reverse()
    return kept
