"""IR -> tangent IR: forward mode, one sweep, no tape.

Next to each active statement `y = op(a, b)` the tangent sweep computes
`y_dot = d op/d a * a_dot + d op/d b * b_dot` with the same rule table the
reverse sweep reads. Branches merge tangents like values; loops carry them.
Lists have lists of tangents. The transform also reads what the reverse
transform writes (tape pushes and pops, list adjoints), so applying it to a
gradient gives Hessian-vector products: forward over reverse.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Mapping

from .. import ir
from ..errors import UnsupportedError
from ..ir import FLOAT, Assign, Const, Effect, Function, Loc, Namer, Operand, Stmt, Type, Var
from ..rules import RULES, Rule, shapes, zeros_op
from ..rules.emit import Emitter, operand_of


def tangent(function: Function, wrt: tuple[str, ...], rules: Mapping[str, Rule] = RULES, name: str | None = None) -> Function:
    """`f_jvp(*params, *wrt_dots)` returning `(value, tangent)`: f's value and its derivative along the
    direction given by the tangents of the `wrt` parameters. For a function returning a tuple, both
    parts are tuples."""
    sweep = _Forward(function, wrt, rules)
    dots = []
    types = {p.name: p.type for p in function.params}
    for param in wrt:  # the tangents come in the order of `wrt`, as gradients do
        dot = sweep.namer.fresh(sweep.dot_family(param))
        sweep.tangent[param] = Var(dot)
        sweep.types[dot] = types[param]
        dots.append(ir.Param(dot, types[param]))
    body = sweep.block(function.body)
    tangents = _map_returns(function.returns, sweep)
    params = (*function.params, *dots)
    values = tuple(o.name for o in ir.return_operands(function.returns) if isinstance(o, Var))
    return Function(
        name or f"{function.name}_jvp",
        params,
        body,
        (function.returns, tangents),
        function.loc,
        function.sources,
        (*function.exact, *values),
        # a gradient's own checks (its reverse sweep's divisions raise where the function does not)
        checks=function.checks if function.wrt else tuple(ir.may_raise(function.body, rules, ir.types_of(function))),
    )


def _map_returns(returns: ir.Returns, sweep: _Forward) -> ir.Returns:
    if isinstance(returns, tuple):
        return tuple(_map_returns(r, sweep) for r in returns)
    return sweep.tangent_of(returns)


class _Forward:
    def __init__(self, function: Function, wrt: tuple[str, ...], rules: Mapping[str, Rule]) -> None:
        self.function = function
        self.rules = rules
        self.types = ir.types_of(function)
        edges: dict[str, list[str]] = defaultdict(list)
        for a, b in ir.dependencies(function, rules, self.types):
            edges[a].append(b)
        self.varied = {n for n in ir.reach(set(wrt), edges) if ir.carries_derivative(self.types.get(n))}
        self.namer = Namer(ir.all_names(function))
        self.tangent: dict[str, Operand] = {}
        self.families: dict[str, str] = {}
        self.pushed: dict[int, tuple[bool, ...]] = {}  # tape slot -> which pushed values carry a tangent
        self.out: list[Stmt] = []

    def dot_family(self, name: str) -> str:
        """Tangents of every version of `x` are versions of one family, `x_dot`."""
        base = ir.family(name)
        if base not in self.families:
            self.families[base] = self.namer.new_family(f"{base}_dot")
        return self.families[base]

    def tangent_of(self, operand: Operand) -> Operand:
        if isinstance(operand, Var) and operand.name in self.tangent:
            return self.tangent[operand.name]
        if isinstance(self.type_of(operand), (ir.ListOf, ir.ArrayOf)):
            return self.zeros_like(operand, self.function.loc)
        return Const(0.0)

    def type_of(self, operand: Operand) -> Type:
        if isinstance(operand, Var):
            return self.types.get(operand.name, FLOAT)
        if isinstance(operand, ir.Global):
            return operand.type
        return ir.const_type(operand.value)

    def has_tangent(self, operand: Operand) -> bool:
        return isinstance(operand, Var) and operand.name in self.tangent

    def fresh(self, name: str, type_: Type) -> str:
        target = self.namer.fresh(self.dot_family(name))
        self.types[target] = type_
        return target

    def emit(self, target_of: str, op: str, args: tuple[Operand, ...], type_: Type, loc: Loc) -> Var:
        target = self.fresh(target_of, type_)
        self.out.append(Assign(target, op, args, type_, loc))
        return Var(target)

    def zeros_like(self, operand: Operand, loc: Loc) -> Operand:
        name = operand.name if isinstance(operand, (Var, ir.Global)) else "_zeros"
        op = "zeros_float_like" if isinstance(self.type_of(operand), ir.ArrayOf) else zeros_op(self.type_of(operand))
        return self.emit(name, op, (operand,), self.type_of(operand), loc)

    # -- blocks --------------------------------------------------------------

    def block(self, block: ir.Block) -> ir.Block:
        saved, self.out = self.out, []
        for stmt in block:
            if isinstance(stmt, Assign):
                self.out.append(stmt)
                self.assign(stmt)
            elif isinstance(stmt, Effect):
                self.out.append(stmt)
                self.effect(stmt)
            elif isinstance(stmt, ir.Push):
                carries = tuple(self.has_tangent(v) for v in stmt.values)
                self.pushed[stmt.slot] = carries
                dots = tuple(self.tangent_of(v) for v, c in zip(stmt.values, carries) if c)
                self.out.append(ir.Push((*stmt.values, *dots), stmt.loc, stmt.slot))
            elif isinstance(stmt, ir.Pop):
                carries = self.pushed.get(stmt.slot, (False,) * len(stmt.targets))
                popped: list[tuple[str, Type]] = []
                for target, type_, carried in zip(stmt.targets, stmt.types, carries):
                    if carried:
                        dot = self.fresh(target, type_)
                        self.tangent[target] = Var(dot)
                        popped.append((dot, type_))
                self.out.append(
                    ir.Pop((*stmt.targets, *(d for d, _ in popped)), (*stmt.types, *(t for _, t in popped)), stmt.loc, stmt.slot)
                )
            elif isinstance(stmt, ir.If):
                self.branch(stmt)
            elif isinstance(stmt, (ir.For, ir.While)):
                self.loop(stmt)
            else:
                self.out.append(stmt)
        block_out, self.out = tuple(self.out), saved
        return block_out

    # -- statements ----------------------------------------------------------

    def assign(self, stmt: Assign) -> None:
        if stmt.target not in self.varied:
            return
        rule = self.rules[stmt.op]
        if rule.structural:
            self.structural(stmt)
            return
        if not any(self.has_tangent(a) for a in stmt.args):
            return
        if rule.copy:
            self.tangent[stmt.target] = self.tangent_of(stmt.args[0])
            return
        if rule.partials is None:
            return
        wanted = [i for i, a in enumerate(stmt.args) if self.has_tangent(a)]
        scratch: list[Stmt] = []
        emitter = Emitter(self.rules, self.namer, scratch, stmt.loc, self.types)
        partials = rule.partials(emitter.m, emitter.expr(Var(stmt.target)), *(emitter.expr(a) for a in stmt.args))
        wanted = [i for i in wanted if not ir.independent(operand_of(partials[i]))]
        if not wanted:
            return
        needed = [operand_of(partials[i]) for i in wanted]
        self.out.extend(ir.needed_only(scratch, needed))
        emitter = Emitter(self.rules, self.namer, self.out, stmt.loc, self.types)
        total: Operand | None = None
        for i, partial in zip(wanted, needed):
            dot = self.tangent_of(stmt.args[i])
            if partial == Const(-1):  # a difference: subtract, never multiply by -1
                total = emitter.op("neg", dot) if total is None else emitter.op("sub", total, dot)
                continue
            term = emitter.op("mul", partial, dot)
            total = term if total is None else emitter.op("add", total, term)
        assert total is not None
        if shapes.dims(emitter.type_of(total)) != shapes.dims(stmt.type):  # `x + c` with c an array, x not
            total = emitter.op("mul", total, emitter.op("numpy.ones_like", Var(stmt.target)))
        self.tangent[stmt.target] = self.named(total, stmt.target, stmt.loc)

    def named(self, operand: Operand, name: str, loc: Loc) -> Operand:
        """Call the tangent `<name>_dot`: rename the temporary that was just computed."""
        last = self.out[-1] if self.out else None
        if isinstance(operand, Var) and isinstance(last, Assign) and last.target == operand.name and ir.is_temp(operand.name):
            target = self.fresh(name, last.type)
            self.out[-1] = Assign(target, last.op, last.args, last.type, last.loc)
            return Var(target)
        return operand

    def structural(self, stmt: Assign) -> None:
        """Tangents of list operations are the same operations on the lists of tangents (rules/lists.py)."""
        template = self.rules[stmt.op].tangent
        if template is not None:
            template(self, stmt)
        elif self.rules[stmt.op].flows != () and any(self.has_tangent(a) for a in stmt.args):  # else a wrong number
            raise UnsupportedError(
                f"forward mode (jvp, hessian) of the operation '{stmt.op}' is not supported yet",
                filename=stmt.loc.file,
                lineno=stmt.loc.line,
                source_line=self.function.source_line(stmt.loc),
                hint="use grad or vjp (reverse mode)",
            )

    def emit_temp(self, op: str, *args: Operand, type_: Type, loc: Loc) -> Operand:
        return Emitter(self.rules, self.namer, self.out, loc, self.types).op(op, *args, type_=type_)

    def effect(self, stmt: Effect) -> None:
        items = stmt.args[0] if stmt.args else None
        if not (isinstance(items, Var) and items.name in self.varied):
            return
        if items.name not in self.tangent:  # a list that becomes varied only through this mutation
            self.tangent[items.name] = self.zeros_like(items, stmt.loc)
            # its earlier elements are constants: zeros are their tangents
        template = self.rules[stmt.op].tangent
        if template is not None:
            template(self, stmt, self.tangent[items.name])

    # -- control flow --------------------------------------------------------

    def branch(self, stmt: ir.If) -> None:
        before = self.tangent
        sides = []
        for block, pick in ((stmt.then, lambda m: m.then), (stmt.orelse, lambda m: m.orelse)):
            self.tangent = dict(before)
            body = self.block(block)
            saved, self.out = self.out, list(body)
            dots = {m.target: self.tangent_of(pick(m)) for m in stmt.merges if m.target in self.varied}
            body, self.out = tuple(self.out), saved
            sides.append((body, dots, self.tangent))
        (then, then_dots, then_map), (orelse, else_dots, else_map) = sides
        self.tangent = dict(before)
        for name in then_map.keys() & else_map.keys():
            if then_map[name] == else_map[name]:
                self.tangent[name] = then_map[name]
        # A value defined inside a branch is only read where that branch was taken (a gradient's
        # reverse sweep reads it under the same condition): its tangent, defined beside it, goes too.
        for side in (then_map, else_map):
            for name, dot in side.items():
                if name not in before:
                    self.tangent.setdefault(name, dot)
        merges = list(stmt.merges)
        for m in stmt.merges:
            if m.target in then_dots:
                a, b = then_dots[m.target], else_dots[m.target]
                if a == b:
                    self.tangent[m.target] = a
                    continue
                target = self.fresh(m.target, m.type)
                merges.append(ir.Merge(target, m.type, a, b))
                self.tangent[m.target] = Var(target)
        self.out.append(ir.If(stmt.cond, then, orelse, tuple(merges), stmt.loc))

    def loop(self, stmt: ir.For | ir.While) -> None:
        carries = list(stmt.carried)
        heads = {}
        inits = {}
        for c in stmt.carried:
            if c.header in self.varied:
                inits[c.header] = self.tangent_of(c.init)
                heads[c.header] = self.fresh(c.header, c.type)
                self.tangent[c.header] = Var(heads[c.header])
        test = self.block(stmt.test) if isinstance(stmt, ir.While) else ()
        body = self.block(stmt.body)
        saved, self.out = self.out, list(body)
        updates = {h: self.tangent_of(c.update) for c in stmt.carried for h in [c.header] if h in heads}
        body, self.out = tuple(self.out), saved
        for c in stmt.carried:
            if c.header in heads:
                result = self.fresh(c.result, c.type)
                carries.append(ir.Carry(heads[c.header], c.type, inits[c.header], updates[c.header], result))
                self.tangent[c.result] = Var(result)
        if isinstance(stmt, ir.For):
            self.out.append(dataclasses.replace(stmt, carried=tuple(carries), body=body))
        else:
            self.out.append(dataclasses.replace(stmt, carried=tuple(carries), test=test, body=body))
