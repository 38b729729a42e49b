"""IR -> adjoint IR: the forward sweep, then the reverse sweep (backpropagation as code).

The reverse sweep visits the forward statements last to first. For each
active assignment `y = op(a, b)` it asks the rule table for the partial
derivatives and accumulates `a_bar += y_bar * d op/d a`; the first
contribution to an adjoint is an assignment, never `0.0 + ...`. Only active
values get adjoints: those that depend on a `wrt` parameter (varied) and that
the result depends on (useful).

Control flow is reversed structurally. An `if` is replayed with the same
condition. A loop runs backwards (`reversed(range(...))`, or as many times as
the forward loop ran); what its reverse body reads of values that change from
one iteration to the next is recorded on the tape (`_tape`, a list used as a
stack) at the end of each forward iteration and popped at the start of the
matching reverse one, unless it is cheap to recompute (an index into a list
that never changes, integer arithmetic). List adjoints are lists: `w_bar[i] +=
...`, allocated with the list's final shape when its reverse sweep begins.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping

from .. import ir
from ..errors import UnsupportedError
from ..ir import FLOAT, INT, Assign, Const, Effect, Function, Loc, Namer, Note, Operand, Stmt, Type, Var
from ..rules import RULES, Rule, shapes, zeros_op
from ..rules.emit import Emitter, operand_of
from . import loops, rebinding, tape
from .activity import activity
from .invariance import silent_edges


def gradient(
    function: Function,
    wrt: tuple[str, ...],
    *,
    with_value: bool = False,
    bare: bool = False,
    aux: bool = False,
    seeded: bool = False,
    rules: Mapping[str, Rule] = RULES,
    name: str | None = None,
    checkpoints: int | None = None,
    schedule: str = "uniform",
) -> Function:
    """The function computing the gradient of `function` with respect to the `wrt` parameters.

    It returns the gradient as a tuple in `wrt` order (the single entry itself
    when `bare`), or `(value, gradient)` when `with_value` is set. With `aux`,
    `function` returns `(output, *aux)` and the aux values are passed through:
    `(gradient, aux)` or `((output, aux), gradient)`. With `seeded`, the
    adjoint of each output is a new parameter (`out_bar`, or `out0_bar`,
    `out1_bar`, ... for a function returning a tuple) instead of 1: the
    result is then a vector-Jacobian product. With `checkpoints=K`, the loops that allow it keep at most K
    snapshots of their carried values and run their segments again in the reverse sweep: in uniform
    segments (`checkpoints`), or, with `schedule="revolve"`, Griewank's binomial schedule (`revolve`); a
    `while` loop that allows it keeps its snapshots by an online schedule (`revolve`) either way.
    """
    result = function.returns
    extra: ir.Returns = ()
    if aux:
        assert isinstance(result, tuple) and len(result) >= 2
        parts = result
        result, extra = parts[0], parts[1:] if len(parts) > 2 else parts[1]
    outputs = result if isinstance(result, tuple) else (result,)
    if isinstance(result, tuple) and not seeded:
        raise ValueError("gradient is only defined for scalar-output functions")
    sweep = Reverse(function, wrt, rules, tuple(o for o in outputs if isinstance(o, Var)))
    sweep.checkpoints, sweep.schedule = checkpoints, schedule
    values = [o.name for o in ir.return_operands(function.returns) if isinstance(o, Var)] if with_value or aux else []
    sweep.returned = set(values)
    seeds: list[ir.Param] = []
    for k, output in enumerate(outputs):
        if seeded:
            seed = sweep.namer.new_family("out_bar" if len(outputs) == 1 else f"out{k}_bar")
            seed_type = sweep.types.get(output.name, FLOAT) if isinstance(output, Var) else FLOAT  # an array's: an array
            seeds.append(ir.Param(seed, seed_type))
            sweep.types[seed] = seed_type
        if isinstance(output, Var) and output.name in sweep.active_names:
            sweep.accumulate(output.name, Var(seeds[-1].name) if seeded else Const(1.0), Const(1), function.loc)
    seed_statements, sweep.out = sweep.out, []
    list_params = [p for p in function.params if p.name in wrt and isinstance(p.type, ir.ListOf)]
    read = ir.free_names(function.body) | {o.name for o in ir.return_operands(function.returns) if isinstance(o, Var)}
    # A number parameter nothing reads, or whose value reaches no output (`if xs:`, `zs = xs + xs` unused): its zero
    # gradient is shaped like the argument, which may be a list all the same.
    unread = [
        p
        for p in function.params
        if p.name in wrt and p.type == FLOAT and (p.name not in read or p.name not in sweep.active_names)
    ]

    def allocate_params() -> None:
        sweep.out.extend(seed_statements)
        for param in list_params:
            sweep.adjoint[param.name] = sweep.zeros_like(param.name, param.type, function.loc)
        for param in unread:  # nothing says what it is: its zero gradient is shaped like the argument
            target = sweep.fresh(sweep.bar_family(param.name), FLOAT)
            sweep.out.append(Assign(target, "zeros_shaped", (Var(param.name),), FLOAT, function.loc))
            sweep.adjoint[param.name] = Var(target)

    forward, backward = sweep.block(function.body, in_loop=False, before=allocate_params)
    backward = _unwritten_shaped_like_arguments(backward, {p.name for p in list_params}, sweep.adjoint)
    backward = _arrays_shaped_like_arguments(sweep, backward, wrt, function.loc)
    grads = tuple(sweep.adjoint.get(p, Const(0.0)) for p in wrt)
    returns: ir.Returns = grads[0] if bare else grads
    where: tuple[int, ...] = ()
    if aux:
        returns = ((result, extra), returns) if with_value else (returns, extra)
        where = (1,) if with_value else (0,)
    elif with_value:
        returns, where = (result, returns), (1,)
    body = (*forward, Note("reverse sweep"), *backward)
    name = name or (f"{function.name}_value_and_grad" if with_value else f"{function.name}_grad")
    exact = (*function.exact, *values)
    params = (*function.params, *seeds)
    return Function(name, params, body, returns, function.loc, function.sources, exact, where, wrt, tuple(sweep.checks))


class Reverse:
    """The state of one reverse transform: adjoints so far, names, the reverse code being written."""

    def __init__(self, function: Function, wrt: tuple[str, ...], rules: Mapping[str, Rule], outputs: tuple[Var, ...]) -> None:
        self.function = function
        self.rules = rules
        self.types = ir.types_of(function)
        self.silent = silent_edges(function, rules, self.types, outputs)
        self.active_names = activity(function, wrt, rules, outputs, self.silent)
        self.namer = Namer(ir.all_names(function))
        self.adjoint: dict[str, Operand] = {}
        self.families: dict[str, str] = {}
        self.out: list[Stmt] = []
        self.definition: dict[str, Assign] = {}
        self.mutated: set[str] = set()
        self.checkpoints: int | None = None  # at most this many snapshots per checkpointed loop (`checkpoints`)
        self.schedule = "uniform"  # how a counted loop is checkpointed: "uniform" (`checkpoints`) or "revolve" (`revolve`)
        self.slots = 0  # tape slots handed out: each Push and its Pop share a number
        self.returned: set[str] = set()  # forward values the derived function returns
        self.later: list[list[Stmt]] = []  # reverse code of the enclosing blocks, written so far
        # What may raise where the function raises: the forward sweep's own, or a replayed copy (see `tape.replay`).
        self.checks = ir.may_raise(function.body, rules, self.types)
        self.sources = ir.sources(function)
        for stmt in ir.walk(function.body):
            if isinstance(stmt, Assign):
                self.definition[stmt.target] = stmt
            elif isinstance(stmt, Effect) and stmt.args and isinstance(stmt.args[0], Var):
                self.mutated.add(stmt.args[0].name)
        # What may be the same list as what (`ir.alias_links`): asked of every block the tape records.
        self.alias_links = functools.cache(lambda: ir.alias_links(self.function, rules, types=self.types))
        self.mutated = ir.aliases(self.function, self.mutated, rules, types=self.types)
        rewritten = ir.aliases(
            self.function,
            {
                s.args[0].name
                for s in ir.walk(function.body)
                if isinstance(s, Effect) and rules[s.op].overwrites and s.args and isinstance(s.args[0], Var)
            },
            rules,
        )
        self.appended_only = self.mutated - rewritten  # existing elements never change
        self.appended_at = ir.appended_at_index(function, rules, self.alias_links())  # append -> where its item lands
        self.growing: set[str] = set()  # see `grown_after`: lists the rest of the block being allocated grows
        self.rewritten_lists = rewritten
        self.also_forward: list[Stmt] = []  # what the forward sweep must compute for the statement at hand
        self.preset: dict[str, Operand] = {}  # adjoints a rebinding hands to lists about to be allocated
        changed = rebinding.refusal(function, rules, self.active_names)
        if changed is not None:
            where, source = changed
            raise self.refuse(
                where,
                f"the list '{source}' is changed in place after it was rebound in a branch or a loop (or "
                "another list was rebound to it); that cannot be differentiated yet",
                f"build a new list instead of changing '{source}' in place",
            )

    # -- names ---------------------------------------------------------------

    def bar_family(self, name: str) -> str:
        """Adjoints of every version of `x` are versions of one family, `x_bar`."""
        base = ir.family(name)
        if base not in self.families:
            self.families[base] = self.namer.new_family(f"{base}_bar")
        return self.families[base]

    def emitter(self, loc: Loc, out: list[Stmt] | None = None) -> Emitter:
        return Emitter(self.rules, self.namer, self.out if out is None else out, loc, self.types)

    # -- blocks --------------------------------------------------------------

    def block(
        self,
        block: ir.Block,
        in_loop: bool,
        before: Callable[[], None] | None = None,
        starts: tuple[str, ...] = (),
        keep: Mapping[str, Operand] | None = None,
        loc: Loc | None = None,
        replay: bool = False,
    ) -> tuple[ir.Block, ir.Block]:
        """The forward block and its reverse.

        Inside a loop, what the reverse reads of the values this block defines
        (and of `starts`, the loop headers) is recorded at the end of the forward
        block and taken back at the start of the reverse one; `keep` maps names
        the reverse has under another name (the loop index). With `replay`, the
        reverse computes the iteration again instead, if it can (see `replay`).
        """
        saved, self.out = self.out, []
        self.later.append(saved)
        if before is not None:
            before()
        allocated = self.allocate_lists(block)
        forward = list(block)
        for i in reversed(range(len(block))):
            stmt = block[i]
            if isinstance(stmt, Assign):
                self.assign(stmt)
                if self.also_forward or i in allocated:
                    forward[i : i + 1] = [stmt, *allocated.get(i, []), *self.also_forward]
                    self.also_forward = []
            elif isinstance(stmt, Effect):
                self.effect(stmt)
            elif isinstance(stmt, ir.If):
                forward[i] = self.branch(stmt, in_loop)
            elif isinstance(stmt, (ir.For, ir.While)):
                made = loops.reverse_loop(self, stmt)
                forward[i : i + 1] = made if isinstance(made, tuple) else [made]
        self.later.pop()
        backward, self.out = tuple(self.out), saved
        if in_loop:
            return tape.record(self, tuple(forward), backward, starts, keep or {}, loc or _first_loc(block), replay)
        return tuple(forward), ir.rename(backward, keep or {})

    # -- lists ---------------------------------------------------------------

    def zeros_like(self, name: str, type_: Type, loc: Loc) -> Operand:
        target = self.namer.fresh(self.bar_family(name))
        self.types[target] = type_
        self.out.append(Assign(target, zeros_op(type_), (Var(name),), type_, loc))
        return Var(target)

    def allocate_lists(self, block: ir.Block) -> dict[int, list[Stmt]]:
        """Adjoints of the active lists a block defines (and merges, and carries out of its loops), at the
        start of its reverse sweep; a list that a rebinding handed an adjoint takes that one. Returns what
        the forward sweep must compute after the statement at each position for them (see `position_from_start`)."""
        rows = _rows_appended_last(block, self.rules)
        forward: dict[int, list[Stmt]] = {}
        for k, stmt in enumerate(block):
            if isinstance(stmt, Assign) and isinstance(stmt.type, ir.ListOf) and stmt.target in self.active_names:
                if stmt.target in rows:
                    continue  # its adjoint is the row that undoing the append takes off its list's adjoint
                self.growing = self.grown_after(block[k + 1 :])
                self.adjoint[stmt.target] = rebinding.allocated(self, self.list_adjoint(stmt), stmt.target, stmt.loc)
                if self.also_forward:
                    forward[k], self.also_forward = self.also_forward, []
            for name, loc in rebinding.rebound_lists(stmt):
                if name in self.active_names:
                    made = self.zeros_like(name, self.types[name], loc or self.function.loc)
                    self.adjoint[name] = rebinding.allocated(self, made, name, loc or self.function.loc)
        return forward

    def list_adjoint(self, stmt: Assign) -> Operand:
        make = self.rules[stmt.op].reverse_list
        if make is None:
            raise self.refuse(stmt.loc, f"a list made by '{stmt.op}' cannot be differentiated", None)
        return make(self, stmt)  # type: ignore[return-value]  # templates return IR operands

    def adjoint_of_list(self, items: Operand, loc: Loc) -> Operand:
        if isinstance(items, Var) and items.name in self.adjoint:
            return self.adjoint[items.name]
        if isinstance(items, Var):  # an inactive list: its adjoint is never read back
            return self.zeros_like(items.name, self.types[items.name], loc)
        raise self.refuse(loc, "this list cannot be differentiated", None)

    def refuse(self, loc: Loc, message: str, hint: str | None) -> UnsupportedError:
        return UnsupportedError(
            message, filename=loc.file, lineno=loc.line, col_offset=loc.col, source_line=self.function.source_line(loc), hint=hint
        )

    # -- statements ----------------------------------------------------------

    def assign(self, stmt: Assign) -> None:
        if stmt.target not in self.active_names:
            return
        rule = self.rules[stmt.op]
        if isinstance(stmt.type, ir.ListOf):  # the list's adjoint, complete by now, flows to its operands
            bar = self.adjoint.get(stmt.target)  # none: a row appended to a list nothing differentiated reads
            if rule.reverse is not None and bar is not None:
                rule.reverse(self, stmt, bar)
            return
        out_bar = self.adjoint.pop(stmt.target, None)
        if out_bar is None:
            return
        if rule.structural:
            if rule.reverse is not None:
                rule.reverse(self, stmt, out_bar)
            return
        if rule.partials is None:
            return
        wanted = [
            i
            for i, a in enumerate(stmt.args)
            if isinstance(a, Var) and a.name in self.active_names and (a.name, stmt.target) not in self.silent
        ]
        if not wanted:
            return
        scratch: list[Stmt] = []
        emitter = self.emitter(stmt.loc, scratch)
        partials = rule.partials(emitter.m, emitter.expr(Var(stmt.target)), *(emitter.expr(a) for a in stmt.args))
        wanted = [i for i in wanted if not ir.independent(operand_of(partials[i]))]
        needed = [operand_of(partials[i]) for i in wanted]
        kept = ir.needed_only(scratch, needed)
        self.out.extend(kept)
        shared = {a.name for s in kept for a in ir.operands(s) if isinstance(a, Var)}
        shared.update(p.name for p in needed if isinstance(p, Var) and needed.count(p) > 1)
        for i, partial in zip(wanted, needed):
            renamable = isinstance(partial, Var) and partial.name not in shared
            self.accumulate(stmt.args[i].name, out_bar, partial, stmt.loc, renamable)  # type: ignore[union-attr]

    def effect(self, stmt: Effect) -> None:
        items = stmt.args[0] if stmt.args else None
        reverse = self.rules[stmt.op].reverse
        if reverse is not None and isinstance(items, Var) and items.name in self.active_names:
            bar = self.adjoint.get(items.name)  # none: nothing differentiated reads the list after this (its adjoint is 0)
            if bar is not None:
                reverse(self, stmt, bar)

    # -- what the structural templates of rules/lists.py ask -----------------------

    def active(self, operand: Operand) -> bool:
        return isinstance(operand, Var) and operand.name in self.active_names

    def emit(self, op: str, *args: Operand, type_: Type, loc: Loc) -> Operand:
        return self.emitter(loc).op(op, *args, type_=type_)

    def new_adjoint(self, stmt: Assign, op: str, args: tuple[Operand, ...]) -> Operand:
        """`<target>_bar = op(*args)`: a list's adjoint made of other adjoints."""
        target = self.namer.fresh(self.bar_family(stmt.target))
        self.types[target] = stmt.type
        self.out.append(Assign(target, op, args, stmt.type, stmt.loc))
        return Var(target)

    def fresh(self, name: str, type_: Type | None = None) -> str:
        target = self.namer.fresh(name)
        if type_ is not None:
            self.types[target] = type_
        return target

    def temp(self, type_: Type) -> str:
        """A new temporary (`_t7`) of that type."""
        target = self.namer.temp()
        self.types[target] = type_
        return target

    def take_row(self, name: str, row_bar: Operand, loc: Loc) -> None:
        """The adjoint of the row `name`, appended to a list: the row taken back off that list's adjoint.
        A row of another list (`M.append(A[i])`: both hold it) adds what it took into that row's adjoint."""
        definition = self.definition.get(name)
        if name in self.adjoint and definition is not None and _row_of_another(definition, self.rules):
            rebinding.add_into(self, self.adjoint[name], row_bar, self.types[name], loc)
            return
        if name in self.adjoint:
            raise self.refuse(
                loc,
                f"the list '{ir.family(name)}' is used again after it was appended to another list; "
                "that cannot be differentiated yet",
                f"append '{ir.family(name)}' once it is complete, or append a copy: list({ir.family(name)})",
            )
        self.adjoint[name] = row_bar

    def grown_after(self, rest: ir.Block) -> set[str]:
        """The lists (under any of their names) that these statements append to or pop from."""
        changed = {
            s.args[0].name
            for s in ir.walk(rest)
            if isinstance(s, (Assign, Effect))
            and s.args
            and isinstance(s.args[0], Var)
            and self.rules[s.op].overwrites == isinstance(s, Assign)  # an append (an effect), or a pop
        }
        return ir.aliases(self.function, changed, self.rules, rows=False) if changed else set()

    def position_from_start(self, items: Var, position: Const, loc: Loc) -> Operand:
        """`len(items) - k` for `items[-k]`, computed in the forward sweep where it is read (the statement at hand)."""
        count, at = self.fresh("_n", INT), self.fresh("_at", INT)
        back = Const(-position.value)
        self.also_forward += [Assign(count, "len", (items,), INT, loc), Assign(at, "sub", (Var(count), back), INT, loc)]
        return Var(at)

    def grown(self, name: str) -> bool:
        """Whether something appends to this list, or pops from it, under any of its names."""
        return name in self.grown_after(self.function.body)

    def rewritten(self, items: Operand) -> bool:
        """Whether something changes the elements of this list after they are written."""
        return isinstance(items, Var) and items.name in self.rewritten_lists

    def accumulate(self, name: str, out_bar: Operand, partial: Operand, loc: Loc, renamable: bool = True) -> None:
        """`name_bar += out_bar * partial`, where a first contribution is a plain assignment; summed back
        to the shape of `name` where the product is broadcast over more axes (an array operand)."""
        emitter = self.emitter(loc)
        bar = self.bar_family(name)
        old = self.adjoint.get(name)
        negate = isinstance(partial, Const) and partial.value == -1
        target_type = self.types.get(name, FLOAT)
        product_type = shapes.elementwise((emitter.type_of(out_bar), emitter.type_of(partial)))
        if product_type is not None and shapes.dims(product_type) != shapes.dims(target_type):
            product = emitter.op("neg", out_bar) if negate else emitter.op("mul", out_bar, partial)
            contribution = self.summed_to(product, name, loc)
            if old is None:
                self.adjoint[name] = self.rename_last(contribution, bar)
            else:
                self.adjoint[name] = emitter.op("add", old, contribution, name=bar)
            return
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

    def summed_to(self, product: Operand, name: str, loc: Loc) -> Operand:
        """An adjoint broadcast over more axes than `name` has, summed back to its shape: over the leading
        axes it lacks, then (keeping them) over the axes where it has size 1. Where a size is known only when
        the code runs, the generated module's `_unbroadcast` decides."""
        emitter = self.emitter(loc)
        target = self.types.get(name, FLOAT)
        axes = shapes.summed_axes(emitter.type_of(product), target)
        if axes is None:
            return emitter.op("unbroadcast", product, Var(name), type_=target)
        if not shapes.is_array(target):
            return emitter.op("sum_all", product, type_=target)
        leading, kept = axes
        steps = [("sum_axis", 0) for _ in leading] + [("sum_axis_keep", axis) for axis in kept]
        for k, (op, axis) in enumerate(steps):  # the last has the target's type (a 0-d array is no float)
            product = emitter.op(op, product, Const(axis), type_=target if k == len(steps) - 1 else None)
        return product

    def zero_of(self, name: str, loc: Loc) -> Operand:
        """A zero adjoint for `name`: 0.0, or zeros shaped like an array."""
        if not shapes.is_array(self.types.get(name)):
            return Const(0.0)
        return self.emitter(loc).op("numpy.zeros_like", Var(name))

    def rename_last(self, operand: Operand, name: str) -> Operand:
        """Give the temporary that was just computed the adjoint's name, for readable code."""
        last = self.out[-1] if self.out else None
        if isinstance(operand, Var) and isinstance(last, Assign) and last.target == operand.name and ir.is_temp(operand.name):
            target = self.namer.fresh(name)
            self.out[-1] = Assign(target, last.op, last.args, last.type, last.loc)
            self.types[target] = last.type
            return Var(target)
        return operand

    # -- control flow --------------------------------------------------------

    def branch(self, stmt: ir.If, in_loop: bool) -> ir.If:
        """Replay the branch the forward sweep took; merge the adjoints the two branches changed."""
        before = self.adjoint
        incoming = {m.target: before.pop(m.target) for m in stmt.merges if m.target in before}
        inside = {n for block in (stmt.then, stmt.orelse) for s in ir.walk(block) for n in ir.defs(s)}
        sides = []
        for block, pick in ((stmt.then, lambda m: m.then), (stmt.orelse, lambda m: m.orelse)):
            self.adjoint = dict(before)

            def merged_adjoints(pick: Callable[[ir.Merge], Operand] = pick, block: ir.Block = block) -> None:
                for m in stmt.merges:
                    source = pick(m)
                    if m.target not in incoming or not self.active(source):
                        continue
                    if isinstance(m.type, ir.ListOf):
                        rebinding.pass_on(self, source, incoming[m.target], block, stmt.loc)
                    else:
                        self.accumulate(source.name, incoming[m.target], Const(1), stmt.loc)  # type: ignore[union-attr]

            forward, backward = self.block(block, in_loop, before=merged_adjoints)
            sides.append((forward, backward, {k: v for k, v in self.adjoint.items() if k not in inside}))
        (then_fwd, then_rev, then_adj), (else_fwd, else_rev, else_adj) = sides
        merges = []
        merged: dict[str, Operand] = {}
        for name in list(then_adj) + [k for k in else_adj if k not in then_adj]:
            a, b = then_adj.get(name), else_adj.get(name)
            if a == b:
                merged[name] = a  # type: ignore[assignment]
                continue
            target = self.namer.fresh(self.bar_family(name))
            type_ = self.types.get(name, FLOAT)
            self.types[target] = type_
            merges.append(ir.Merge(target, type_, a or self.zero_of(name, stmt.loc), b or self.zero_of(name, stmt.loc)))
            merged[name] = Var(target)
        self.adjoint = merged
        self.out.append(ir.If(stmt.cond, then_rev, else_rev, tuple(merges), stmt.loc))
        return ir.If(stmt.cond, then_fwd, else_fwd, stmt.merges, stmt.loc)


def _unwritten_shaped_like_arguments(backward: ir.Block, params: set[str], adjoint: Mapping[str, Operand]) -> ir.Block:
    """A list parameter's gradient that nothing adds into is zeros shaped like the argument itself.

    Its elements were never read as numbers, so how deeply the argument nests
    is not known from the source (`len(W)` of a matrix): `zeros_shaped` follows
    the argument at run time instead of the type the source suggests.
    """
    unwritten: set[str] = set()
    for name in params:
        bar = adjoint.get(name)
        if isinstance(bar, Var) and all(bar not in ir.operands(s) for s in ir.walk(backward) if not _allocates(s, bar.name)):
            unwritten.add(bar.name)
    if not unwritten:
        return backward
    return tuple(
        Assign(s.target, "zeros_shaped", s.args, s.type, s.loc) if isinstance(s, Assign) and s.target in unwritten else s
        for s in backward
    )


def _arrays_shaped_like_arguments(sweep: Reverse, backward: ir.Block, wrt: tuple[str, ...], loc: Loc) -> ir.Block:
    """An array parameter's gradient is an array shaped like it: zeros where nothing flowed into it (and
    floats for an array of ints)."""
    added: list[Stmt] = []
    for name in wrt:
        type_ = sweep.types.get(name)
        if not isinstance(type_, ir.ArrayOf) or (isinstance(sweep.adjoint.get(name), Var) and type_.elem == FLOAT):
            continue
        target = sweep.fresh(sweep.bar_family(name), ir.ArrayOf(FLOAT, type_.shape))
        added.append(Assign(target, "zeros_float_like", (Var(name),), sweep.types[target], loc))
        sweep.adjoint[name] = Var(target)
    return (*backward, *added)


def _rows_appended_last(block: ir.Block, rules: Mapping[str, Rule]) -> set[str]:
    """Lists this block makes and appends to another list, and never uses after that (`row = []`, ...,
    `table.append(row)`): the adjoint of each is the row that undoing the append takes back."""
    made = {
        s.target
        for s in block
        if isinstance(s, Assign) and isinstance(s.type, ir.ListOf) and not _row_of_another(s, rules)  # `A[i]` stays A's row
    }
    rows: set[str] = set()
    for k, stmt in enumerate(block):
        if isinstance(stmt, Effect) and rules[stmt.op].effect and not rules[stmt.op].overwrites and len(stmt.args) == 2:
            value = stmt.args[1]
            if isinstance(value, Var) and value.name in made and value.name not in ir.free_names(block[k + 1 :]):
                rows.add(value.name)
    return rows


def _row_of_another(stmt: Assign, rules: Mapping[str, Rule]) -> bool:
    """Whether the list `stmt` makes is a row another list holds (`r = A[i]`, or another name for one)."""
    rule = rules[stmt.op]
    return rule.cheap == "element" or (rule.copy and bool(stmt.args) and isinstance(stmt.args[0], Var))


def _allocates(stmt: Stmt, name: str) -> bool:
    return isinstance(stmt, Assign) and stmt.target == name


def _first_loc(block: ir.Block) -> Loc | None:
    for stmt in block:
        loc = getattr(stmt, "loc", None)
        if loc is not None:
            return loc
    return None
