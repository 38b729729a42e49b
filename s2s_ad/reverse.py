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

from collections import defaultdict
from collections.abc import Callable, Mapping

from . import ir
from .errors import UnsupportedError
from .ir import FLOAT, INT, Assign, Const, Effect, Emitter, Function, Loc, Namer, Note, Operand, Stmt, Type, Var
from .rules import RULES, Rule

# Operations whose result the reverse sweep recomputes instead of recording it.
_CHEAP_INT_OPS = frozenset({"add", "sub", "mul", "neg", "floordiv", "mod", "copy", "min", "max"})


def _dependencies(function: Function, rules: Mapping[str, Rule], types: Mapping[str, Type]) -> list[tuple[str, str]]:
    """Edges (a, b): b's value depends differentiably on a. Lists are objects: both directions."""
    edges: list[tuple[str, str]] = []

    def flow(source: Operand, target: str, both: bool = False) -> None:
        if isinstance(source, Var):
            edges.append((source.name, target))
            if both:
                edges.append((target, source.name))

    for stmt in ir.walk(function.body):
        if isinstance(stmt, Assign):
            rule = rules[stmt.op]
            is_list = isinstance(stmt.type, ir.ListOf)
            if rule.structural:
                if stmt.op in ("index", "sum", "list_max", "list_min"):
                    flow(stmt.args[0], stmt.target, both=is_list)
                elif stmt.op in ("list", "repeat"):
                    for arg in stmt.args[:1] if stmt.op == "repeat" else stmt.args:
                        flow(arg, stmt.target, both=isinstance(types.get(getattr(arg, "name", "")), ir.ListOf))
            elif rule.partials is not None and (stmt.type == FLOAT or is_list):
                for arg in stmt.args:
                    flow(arg, stmt.target, both=is_list)
        elif isinstance(stmt, Effect) and stmt.op in ("append", "setitem"):
            list_name = stmt.args[0]
            if isinstance(list_name, Var):
                flow(stmt.args[-1], list_name.name)
        elif isinstance(stmt, ir.If):
            for m in stmt.merges:
                if m.type == FLOAT or isinstance(m.type, ir.ListOf):
                    flow(m.then, m.target, isinstance(m.type, ir.ListOf))
                    flow(m.orelse, m.target, isinstance(m.type, ir.ListOf))
        elif isinstance(stmt, (ir.For, ir.While)):
            for c in stmt.carried:
                if c.type == FLOAT or isinstance(c.type, ir.ListOf):
                    both = isinstance(c.type, ir.ListOf)
                    flow(c.init, c.header, both)
                    flow(c.update, c.header, both)
                    flow(Var(c.header), c.result, both)
                    flow(c.update, c.result, both)
    return edges


def activity(function: Function, wrt: tuple[str, ...], rules: Mapping[str, Rule] = RULES) -> set[str]:
    """Names that depend on a `wrt` parameter and that the result depends on."""
    types = ir.types_of(function)
    forward: dict[str, list[str]] = defaultdict(list)
    backward: dict[str, list[str]] = defaultdict(list)
    for a, b in _dependencies(function, rules, types):
        forward[a].append(b)
        backward[b].append(a)
    varied = _reach(set(wrt), forward)
    useful = _reach({o.name for o in ir.return_operands(function.returns) if isinstance(o, Var)}, backward)
    return {n for n in varied & useful if types.get(n) == FLOAT or isinstance(types.get(n), ir.ListOf)}


def _reach(start: set[str], edges: Mapping[str, list[str]]) -> set[str]:
    seen = set(start)
    stack = list(start)
    while stack:
        for nxt in edges.get(stack.pop(), ()):
            if nxt not in seen:
                seen.add(nxt)
                stack.append(nxt)
    return seen


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
    list_params = [p for p in function.params if p.name in wrt and isinstance(p.type, ir.ListOf)]

    def allocate_params() -> None:
        for param in list_params:
            sweep.adjoint[param.name] = sweep.zeros_like(param.name, param.type, function.loc)

    forward, backward = sweep.block(function.body, in_loop=False, before=allocate_params)
    grads = tuple(sweep.adjoint.get(name, Const(0.0)) for name in wrt)
    returns: ir.Returns = grads[0] if bare else grads
    if with_value:
        returns = (result, returns)
    body = (*forward, Note("reverse sweep"), *backward)
    name = f"{function.name}_value_and_grad" if with_value else f"{function.name}_grad"
    return Function(name, function.params, body, returns, function.loc, function.sources)


class _Reverse:
    def __init__(self, function: Function, wrt: tuple[str, ...], rules: Mapping[str, Rule]) -> None:
        self.function = function
        self.rules = rules
        self.types = ir.types_of(function)
        self.active = activity(function, wrt, rules)
        self.namer = Namer(ir.all_names(function))
        self.adjoint: dict[str, Operand] = {}
        self.families: dict[str, str] = {}
        self.out: list[Stmt] = []
        self.definition: dict[str, Assign] = {}
        self.mutated: set[str] = set()
        self.slots = 0  # tape slots handed out: each Push and its Pop share a number
        for stmt in ir.walk(function.body):
            if isinstance(stmt, Assign):
                self.definition[stmt.target] = stmt
            elif isinstance(stmt, Effect) and isinstance(stmt.args[0], Var):
                self.mutated.add(stmt.args[0].name)
        self.mutated = self._aliases(self.mutated)

    def _aliases(self, names: set[str]) -> set[str]:
        """Lists that may be the same object as one of `names` (copies, merges, carries)."""
        links: dict[str, list[str]] = defaultdict(list)
        for stmt in ir.walk(self.function.body):
            pairs: list[tuple[Operand, str]] = []
            if isinstance(stmt, Assign) and stmt.op == "copy":
                pairs = [(stmt.args[0], stmt.target)]
            elif isinstance(stmt, ir.If):
                pairs = [(m.then, m.target) for m in stmt.merges] + [(m.orelse, m.target) for m in stmt.merges]
            elif isinstance(stmt, (ir.For, ir.While)):
                for c in stmt.carried:
                    pairs += [(c.init, c.header), (c.update, c.header), (Var(c.header), c.result)]
            for a, b in pairs:
                if isinstance(a, Var):
                    links[a.name].append(b)
                    links[b].append(a.name)
        return _reach(names, links)

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

    def block(self, block: ir.Block, in_loop: bool, before: Callable[[], None] | None = None,
              starts: tuple[str, ...] = (), keep: Mapping[str, Operand] | None = None) -> tuple[ir.Block, ir.Block]:
        """The forward block and its reverse.

        Inside a loop, what the reverse reads of the values this block defines
        (and of `starts`, the loop headers) is recorded at the end of the forward
        block and taken back at the start of the reverse one; `keep` maps names
        the reverse has under another name (the loop index).
        """
        saved, self.out = self.out, []
        if before is not None:
            before()
        self.allocate_lists(block)
        forward = list(block)
        for i in reversed(range(len(block))):
            stmt = block[i]
            if isinstance(stmt, Assign):
                self.assign(stmt)
            elif isinstance(stmt, Effect):
                self.effect(stmt)
            elif isinstance(stmt, ir.If):
                forward[i] = self.branch(stmt, in_loop)
            elif isinstance(stmt, (ir.For, ir.While)):
                forward[i] = self.loop(stmt)
        backward, self.out = tuple(self.out), saved
        if in_loop:
            return self.tape(tuple(forward), backward, starts, keep or {})
        return tuple(forward), ir.rename(backward, keep or {})

    def tape(self, forward: ir.Block, backward: ir.Block, starts: tuple[str, ...],
             keep: Mapping[str, Operand]) -> tuple[ir.Block, ir.Block]:
        """Record at the end of `forward` what `backward` reads of its values; recompute the cheap ones."""
        defined = list(starts)
        for stmt in forward:
            defined.extend(ir.defs(stmt))
        here = set(defined)
        wanted = (ir.free_names(backward) & here) - set(keep)
        recompute: dict[str, Assign] = {}
        pending = list(wanted)
        while pending:
            name = pending.pop()
            stmt = self.definition.get(name)
            if stmt is not None and name not in recompute and self.cheap(stmt):
                recompute[name] = stmt
                for arg in stmt.args:
                    if isinstance(arg, Var) and arg.name in here and arg.name not in wanted and arg.name not in keep:
                        wanted.add(arg.name)
                        pending.append(arg.name)
        recorded = [n for n in defined if n in wanted and n not in recompute and n not in keep]
        mapping: dict[str, Operand] = dict(keep)
        if not recorded and not recompute:
            return forward, ir.rename(backward, mapping)
        prologue: list[Stmt] = []
        loc = _first_loc(forward) or self.function.loc
        if recorded:
            targets = tuple(self.namer.fresh(n) for n in recorded)
            mapping.update({n: Var(t) for n, t in zip(recorded, targets)})
            self.slots += 1
            prologue.append(ir.Pop(targets, tuple(self.types[n] for n in recorded), loc, self.slots))
            for name, target in zip(recorded, targets):
                self.types[target] = self.types[name]
            forward = (*forward, ir.Push(tuple(Var(n) for n in recorded), loc, self.slots))
        for name in defined:
            if name in recompute:
                stmt = recompute[name]
                target = self.namer.fresh(name)
                self.types[target] = stmt.type
                prologue.append(Assign(target, stmt.op, tuple(ir.substitute(a, mapping) for a in stmt.args),
                                       stmt.type, stmt.loc))
                mapping[name] = Var(target)
        return forward, (*prologue, *ir.rename(backward, mapping))

    def cheap(self, stmt: Assign) -> bool:
        """Whether the reverse sweep should recompute this value rather than record it."""
        if stmt.op in ("index", "len"):
            items = stmt.args[0]
            return not (isinstance(items, Var) and items.name in self.mutated)
        return stmt.op in _CHEAP_INT_OPS and stmt.type == INT

    # -- lists ---------------------------------------------------------------

    def zeros_like(self, name: str, type_: Type, loc: Loc) -> Operand:
        target = self.namer.fresh(self.bar_family(name))
        self.types[target] = type_
        self.out.append(Assign(target, "zeros_like", (Var(name),), type_, loc))
        return Var(target)

    def allocate_lists(self, block: ir.Block) -> None:
        """Adjoints of the active lists a block defines, at the start of its reverse sweep."""
        for stmt in block:
            if isinstance(stmt, Assign) and isinstance(stmt.type, ir.ListOf) and stmt.target in self.active:
                self.adjoint[stmt.target] = self.list_adjoint(stmt)
            elif isinstance(stmt, (ir.If, ir.For, ir.While)):
                lists = [m.target for m in getattr(stmt, "merges", ())] + [
                    c.result for c in getattr(stmt, "carried", ())]
                for name in lists:
                    if isinstance(self.types.get(name), ir.ListOf) and name in self.active:
                        raise self.refuse(stmt.loc, "a list variable that is assigned a different list in a branch "
                                                    "or a loop cannot be differentiated yet",
                                          "give each list its own name, or update its elements instead")

    def list_adjoint(self, stmt: Assign) -> Operand:
        if stmt.op == "copy":
            return self.adjoint_of_list(stmt.args[0], stmt.loc)
        if stmt.op == "index":
            items = self.adjoint_of_list(stmt.args[0], stmt.loc)
            target = self.namer.fresh(self.bar_family(stmt.target))
            self.types[target] = stmt.type
            self.out.append(Assign(target, "index", (items, stmt.args[1]), stmt.type, stmt.loc))
            return Var(target)
        if stmt.op == "list" and isinstance(stmt.type, ir.ListOf) and isinstance(stmt.type.elem, ir.ListOf):
            rows = tuple(self.adjoint_of_list(a, stmt.loc) for a in stmt.args)
            target = self.namer.fresh(self.bar_family(stmt.target))
            self.types[target] = stmt.type
            self.out.append(Assign(target, "list", rows, stmt.type, stmt.loc))
            return Var(target)
        if stmt.op in ("list", "repeat"):
            return self.zeros_like(stmt.target, stmt.type, stmt.loc)
        raise self.refuse(stmt.loc, f"a list made by '{stmt.op}' cannot be differentiated", None)

    def adjoint_of_list(self, items: Operand, loc: Loc) -> Operand:
        if isinstance(items, Var) and items.name in self.adjoint:
            return self.adjoint[items.name]
        if isinstance(items, Var):  # an inactive list: its adjoint is never read back
            return self.zeros_like(items.name, self.types[items.name], loc)
        raise self.refuse(loc, "this list cannot be differentiated", None)

    def refuse(self, loc: Loc, message: str, hint: str | None) -> UnsupportedError:
        return UnsupportedError(message, filename=loc.file, lineno=loc.line, source_line=self.function.source_line(loc),
                                hint=hint)

    # -- statements ----------------------------------------------------------

    def assign(self, stmt: Assign) -> None:
        if stmt.target not in self.active or isinstance(stmt.type, ir.ListOf):
            return
        out_bar = self.adjoint.pop(stmt.target, None)
        if out_bar is None:
            return
        rule = self.rules[stmt.op]
        if rule.structural:
            self.structural(stmt, out_bar)
            return
        if rule.partials is None:
            return
        wanted = [i for i, a in enumerate(stmt.args) if isinstance(a, Var) and a.name in self.active]
        if not wanted:
            return
        scratch: list[Stmt] = []
        emitter = self.emitter(stmt.loc, scratch)
        partials = rule.partials(emitter.m, emitter.expr(Var(stmt.target)), *(emitter.expr(a) for a in stmt.args))
        needed = [ir._operand(partials[i]) for i in wanted]
        kept = _needed_only(scratch, needed)
        self.out.extend(kept)
        shared = {a.name for s in kept for a in ir.operands(s) if isinstance(a, Var)}
        shared.update(p.name for p in needed if isinstance(p, Var) and needed.count(p) > 1)
        for i, partial in zip(wanted, needed):
            renamable = isinstance(partial, Var) and partial.name not in shared
            self.accumulate(stmt.args[i].name, out_bar, partial, stmt.loc, renamable)  # type: ignore[union-attr]

    def structural(self, stmt: Assign, out_bar: Operand) -> None:
        """Adjoints of list reads: `y = xs[i]` gives `xs_bar[i] += y_bar`, and so on."""
        emit = self.emitter(stmt.loc)
        items = stmt.args[0]
        if stmt.op == "index":
            if isinstance(items, Var) and items.name in self.active:
                self.out.append(Effect("accum_item", (self.adjoint[items.name], stmt.args[1], out_bar), stmt.loc))
        elif stmt.op == "list":
            for k, arg in enumerate(stmt.args):
                if isinstance(arg, Var) and arg.name in self.active:
                    element = emit.op("index", self.adjoint[stmt.target], Const(k), type_=FLOAT)
                    self.accumulate(arg.name, element, Const(1), stmt.loc)
        elif stmt.op == "sum" and isinstance(items, Var) and items.name in self.active:
            bar = self.adjoint[items.name]
            count = emit.op("len", bar, type_=INT)
            index = self.namer.fresh("_j")
            body = (Effect("accum_item", (bar, Var(index), out_bar), stmt.loc),)
            self.out.append(ir.For(index, Const(0), count, Const(1), (), body, None, stmt.loc))
        elif stmt.op in ("list_max", "list_min") and isinstance(items, Var) and items.name in self.active:
            where = emit.op("index_of", items, Var(stmt.target), type_=INT)
            self.out.append(Effect("accum_item", (self.adjoint[items.name], where, out_bar), stmt.loc))
        elif stmt.op == "repeat":
            raise self.refuse(stmt.loc, "a list repeating a differentiated value ([x] * n) is not supported",
                              "build the list with a comprehension")

    def effect(self, stmt: Effect) -> None:
        items = stmt.args[0]
        if not (isinstance(items, Var) and items.name in self.active):
            return
        bar = self.adjoint[items.name]
        value = stmt.args[-1]
        emit = self.emitter(stmt.loc)
        if stmt.op == "append":
            if isinstance(value, Var) and value.name in self.active:
                popped = emit.op("pop", bar, type_=FLOAT)
                self.accumulate(value.name, popped, Const(1), stmt.loc)
            else:
                self.out.append(Effect("discard_pop", (bar,), stmt.loc))
        elif stmt.op == "setitem":
            index = stmt.args[1]
            if isinstance(value, Var) and value.name in self.active:
                element = emit.op("index", bar, index, type_=FLOAT)
                self.accumulate(value.name, element, Const(1), stmt.loc)
            self.out.append(Effect("setitem", (bar, index, Const(0.0)), stmt.loc))

    def accumulate(self, name: str, out_bar: Operand, partial: Operand, loc: Loc, renamable: bool = True) -> None:
        """`name_bar += out_bar * partial`, where a first contribution is a plain assignment."""
        emitter = self.emitter(loc)
        bar = self.bar_family(name)
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

    # -- control flow --------------------------------------------------------

    def branch(self, stmt: ir.If, in_loop: bool) -> ir.If:
        """Replay the branch the forward sweep took; merge the adjoints the two branches changed."""
        before = self.adjoint
        incoming = {m.target: before.pop(m.target) for m in stmt.merges if m.target in before}
        inside = {n for block in (stmt.then, stmt.orelse) for s in ir.walk(block) for n in ir.defs(s)}
        sides = []
        for block, pick in ((stmt.then, lambda m: m.then), (stmt.orelse, lambda m: m.orelse)):
            self.adjoint = dict(before)

            def merged_adjoints(pick: Callable[[ir.Merge], Operand] = pick) -> None:
                for m in stmt.merges:
                    source = pick(m)
                    if m.target in incoming and isinstance(source, Var) and source.name in self.active:
                        self.accumulate(source.name, incoming[m.target], Const(1), stmt.loc)

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
            self.types[target] = FLOAT
            merges.append(ir.Merge(target, FLOAT, a or Const(0.0), b or Const(0.0)))
            merged[name] = Var(target)
        self.adjoint = merged
        self.out.append(ir.If(stmt.cond, then_rev, else_rev, tuple(merges), stmt.loc))
        return ir.If(stmt.cond, then_fwd, else_fwd, stmt.merges, stmt.loc)

    def loop(self, stmt: ir.For | ir.While) -> ir.For | ir.While:
        """Run the loop backwards, carrying the adjoints of its carried values and of the outer scalars it reads."""
        inside = {n for s in ir.walk((stmt,)) for n in ir.defs(s)}
        reads = ir.free_names(stmt.body) | {o.name for c in stmt.carried for o in (c.update,) if isinstance(o, Var)}
        outer = sorted(n for n in reads if n not in inside and n in self.active and self.types.get(n) == FLOAT)
        carries = [c for c in stmt.carried if c.header in self.active]
        before = self.adjoint
        incoming = {c.result: before.pop(c.result, None) for c in carries}
        heads = {c.header: self.namer.fresh(self.bar_family(c.header)) for c in carries}
        outer_heads = {n: self.namer.fresh(self.bar_family(n)) for n in outer}
        self.adjoint = dict(before)
        for name, head in outer_heads.items():
            self.adjoint[name] = Var(head)
            self.types[head] = FLOAT

        def flow_into_updates() -> None:
            for c in carries:
                self.types[heads[c.header]] = FLOAT
                if isinstance(c.update, Var) and c.update.name in self.active:
                    self.accumulate(c.update.name, Var(heads[c.header]), Const(1), stmt.loc)

        index = stmt.index if isinstance(stmt, ir.For) else None
        reverse_index = self.namer.fresh(index or "_")
        keep = {index: Var(reverse_index)} if index else {}
        forward_body, reverse_body = self.block(stmt.body, True, before=flow_into_updates,
                                                starts=tuple(c.header for c in stmt.carried), keep=keep)
        after = self.adjoint
        reverse_carries = []
        results: dict[str, str] = {}
        for c in carries:
            result = self.namer.fresh(self.bar_family(c.header))
            results[c.header] = result
            reverse_carries.append(ir.Carry(heads[c.header], FLOAT, incoming[c.result] or Const(0.0),
                                            after.get(c.header, Const(0.0)), result))
        self.adjoint = {k: v for k, v in after.items() if k not in inside and k not in outer_heads}
        for name, head in outer_heads.items():
            update = after.get(name, Var(head))
            if update == Var(head):
                if name in before:
                    self.adjoint[name] = before[name]
                continue
            result = self.namer.fresh(self.bar_family(name))
            reverse_carries.append(ir.Carry(head, FLOAT, before.get(name, Const(0.0)), update, result))
            self.adjoint[name] = Var(result)
        for result in results.values():
            self.types[result] = FLOAT

        count: Operand | None = None
        counter: list[ir.Carry] = []
        if isinstance(stmt, ir.While) or stmt.until is not None:
            head, update, total = (self.namer.fresh("_n") for _ in range(3))
            self.types.update({head: INT, update: INT, total: INT})
            forward_body = (*forward_body, Assign(update, "add", (Var(head), Const(1)), INT, stmt.loc))
            counter = [ir.Carry(head, INT, Const(0), Var(update), total)]
            count = Var(total)
        if isinstance(stmt, ir.For):
            self.out.append(ir.For(reverse_index, stmt.start, stmt.stop, stmt.step, tuple(reverse_carries),
                                   reverse_body, None, stmt.loc, reverse=True, limit=count))
            forward: ir.For | ir.While = ir.For(stmt.index, stmt.start, stmt.stop, stmt.step,
                                                (*stmt.carried, *counter), forward_body, stmt.until, stmt.loc)
        else:
            assert count is not None
            self.out.append(ir.For(reverse_index, Const(0), count, Const(1), tuple(reverse_carries), reverse_body,
                                   None, stmt.loc))
            forward = ir.While((*stmt.carried, *counter), stmt.test, stmt.cond, forward_body, stmt.until, stmt.loc)
        for c in carries:
            if isinstance(c.init, Var) and c.init.name in self.active:
                self.accumulate(c.init.name, Var(results[c.header]), Const(1), stmt.loc)
        return forward


def _first_loc(block: ir.Block) -> Loc | None:
    for stmt in block:
        loc = getattr(stmt, "loc", None)
        if loc is not None:
            return loc
    return None


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
