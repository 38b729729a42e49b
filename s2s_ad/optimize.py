"""IR -> IR clean-ups, each a small pure function, run as one short list.

Every pass keeps IEEE semantics: constants are folded only where Python
would compute the same value, identities are only the exact ones (see
`ir.fold`), and nothing with an effect on a list or the tape is dropped.
Names are SSA, so a replacement found anywhere holds everywhere after it.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from collections.abc import Callable, Mapping

from . import ir
from .ir import Assign, Function, Operand, Stmt, Var
from .rules import RULES, Rule

Pass = Callable[[Function, Mapping[str, Rule]], Function]


def optimize(function: Function, rules: Mapping[str, Rule] = RULES) -> Function:
    for step in PASSES:
        function = step(function, rules)
    return function


def propagate(function: Function, rules: Mapping[str, Rule] = RULES) -> Function:
    """Copy propagation and constant folding: `a = b` disappears and `a` reads `b`; so do merges
    of one value and loop values that the loop never changes."""
    mapping: dict[str, Operand] = {}
    types = ir.types_of(function)

    def sub(operand: Operand) -> Operand:
        return ir.substitute(operand, mapping)

    maybe_int = functools.cache(lambda: ir.maybe_int(function, rules))
    exact = set(function.exact)

    def type_of(operand: Operand) -> ir.Type:
        if isinstance(operand, ir.Const):
            return ir.const_type(operand.value)
        return operand.type if isinstance(operand, ir.Global) else types.get(operand.name, ir.FLOAT)

    def type_at_runtime(operand: Operand) -> ir.Type:
        """For a returned value: an int may stand for a float (`1.0 * n` is not `n` when `n` may be an int)."""
        found = type_of(operand)
        if isinstance(operand, ir.Global) or (isinstance(operand, Var) and found == ir.FLOAT and operand.name in maybe_int()):
            return ir.INT
        return found

    def block(statements: ir.Block) -> ir.Block:
        out: list[Stmt] = []
        for stmt in statements:
            if isinstance(stmt, Assign):
                args = tuple([mapping.get(a.name, a) if type(a) is Var else a for a in stmt.args])
                if stmt.op == "copy":
                    mapping[stmt.target] = args[0]
                    continue
                typing = type_at_runtime if stmt.target in exact else type_of
                folded = ir.fold(rules, stmt.op, args, typing) if rules[stmt.op].pure else None
                if folded is not None:
                    mapping[stmt.target] = folded
                    continue
                out.append(stmt if args == stmt.args else Assign(stmt.target, stmt.op, args, stmt.type, stmt.loc))
            elif isinstance(stmt, ir.If):
                then, orelse = block(stmt.then), block(stmt.orelse)
                merges = []
                for m in stmt.merges:
                    a, b = sub(m.then), sub(m.orelse)
                    if ir.identity(a) == ir.identity(b):
                        mapping[m.target] = a
                    else:
                        merges.append(ir.Merge(m.target, m.type, a, b))
                out.append(ir.If(sub(stmt.cond), then, orelse, tuple(merges), stmt.loc))
            elif isinstance(stmt, (ir.For, ir.While)):
                out.append(loop(stmt))
            else:
                out.append(ir.rename_statement(stmt, mapping))
        return tuple(out)

    def loop(stmt: ir.For | ir.While) -> ir.For | ir.While:
        carried = []
        for c in stmt.carried:
            if c.update == Var(c.header):  # never changed by the loop
                mapping[c.header] = mapping[c.result] = sub(c.init)
            else:
                carried.append(c)
        body = block(stmt.body)
        test = block(stmt.test) if isinstance(stmt, ir.While) else ()
        carries = tuple(ir.Carry(c.header, c.type, sub(c.init), sub(c.update), c.result) for c in carried)
        until = sub(stmt.until) if stmt.until else None
        if isinstance(stmt, ir.For):
            return ir.For(
                stmt.index,
                sub(stmt.start),
                sub(stmt.stop),
                sub(stmt.step),
                carries,
                body,
                until,
                stmt.loc,
                stmt.reverse,
                sub(stmt.limit) if stmt.limit else None,
            )
        return ir.While(carries, test, sub(stmt.cond), body, until, stmt.loc)

    body = block(function.body)
    return _replace(function, body, _map_returns(function.returns, mapping))


def peephole(function: Function, rules: Mapping[str, Rule] = RULES) -> Function:
    """Exact local rewrites that make the code cheaper.

    `--x` is `x`, exactly. `c1 * (c2 * x)` is `(c1 * c2) * x` when `c2` is a
    power of two and neither is smaller than 1 in size (scaling up by a power
    of two is exact, and neither side can overflow where the other does not).
    An int constant beside a float becomes a float constant (`2 * x` is
    `2.0 * x`; Python runs the second faster). The gradients max, min and abs
    pass back, `g * step(x, y)` and the like, become the choice they are.
    `x ** 2` becomes `x * x` and `x ** -1` becomes `1 / x`, which are correctly
    rounded where the C library's `pow` may not be: so these two are not made
    in what computes a returned value of the user's function (`exact`), which
    stays bit for bit what Python computes. `x + 0.0` is left alone: it turns
    -0.0 into 0.0.
    """
    definition = {s.target: s for s in ir.walk(function.body) if isinstance(s, Assign)}
    types = ir.types_of(function)
    # What computes the returned values: found when a power first asks.
    cone = functools.cache(lambda: ir.reach(set(function.exact), ir.sources(function)))

    def protected(name: str) -> bool:
        return name in cone()

    def is_float(operand: Operand) -> bool:
        if isinstance(operand, ir.Const):
            return isinstance(operand.value, float)
        return (operand.type if isinstance(operand, ir.Global) else types.get(operand.name)) == ir.FLOAT

    def rewrite(stmt: Assign) -> Assign:
        op, args = stmt.op, stmt.args
        if (
            op in _FLOAT_SPECIALIZED
            and any(type(a) is ir.Const and type(a.value) is int for a in args)
            and any(map(is_float, args))
        ):
            floats = tuple(_as_float(a) for a in args)
            if any(f is not a for f, a in zip(floats, args)):  # Const(2) == Const(2.0): compare identity
                stmt = Assign(stmt.target, op, floats, stmt.type, stmt.loc)
                args = floats
        if op == "pow" and isinstance(args[1], ir.Const) and not isinstance(args[1].value, bool) and not protected(stmt.target):
            if args[1].value == 2 and (type(args[1].value) is int or is_float(args[0])):  # n ** 2.0 is a float
                return Assign(stmt.target, "mul", (args[0], args[0]), stmt.type, stmt.loc)
            if args[1].value == -1 and stmt.type == ir.FLOAT:
                return Assign(stmt.target, "div", (ir.Const(1.0), args[0]), stmt.type, stmt.loc)
        if op == "mul" and stmt.type == ir.FLOAT and all(map(is_float, args)):
            for g, factor in ((args[0], args[1]), (args[1], args[0])):
                gated = _gated(factor, g, definition)
                if gated is not None:
                    return Assign(stmt.target, gated[0], gated[1], stmt.type, stmt.loc)
        if op == "neg" and isinstance(args[0], Var):
            inner = definition.get(args[0].name)
            if (
                inner is not None
                and inner.op == "neg"
                and (is_float(inner.args[0]) or stmt.type == ir.INT and types.get(getattr(inner.args[0], "name", "")) == ir.INT)
            ):
                return Assign(stmt.target, "copy", inner.args, stmt.type, stmt.loc)
        if op == "mul" and stmt.type == ir.FLOAT:
            constant, other = (args[0], args[1]) if isinstance(args[0], ir.Const) else (args[1], args[0])
            inner = definition.get(other.name) if isinstance(other, Var) else None
            if isinstance(constant, ir.Const) and inner is not None and inner.op == "mul" and inner.type == ir.FLOAT:
                k, rest = (inner.args[0], inner.args[1]) if isinstance(inner.args[0], ir.Const) else inner.args
                # Exact only when neither scaling shrinks: `0.25 * (4.0 * x)` overflows where `x` does not.
                if isinstance(k, ir.Const) and _power_of_two(k.value) and abs(k.value) >= 1 and abs(constant.value) >= 1:
                    product = float(constant.value) * float(k.value)
                    if math.isfinite(product):
                        return Assign(stmt.target, "mul", (ir.Const(product), rest), stmt.type, stmt.loc)
        return stmt

    def block(statements: ir.Block) -> ir.Block:
        out: list[Stmt] = []
        for stmt in statements:
            if isinstance(stmt, Assign):
                stmt = rewrite(stmt)
                definition[stmt.target] = stmt
                out.append(stmt)
            else:
                out.append(ir.with_blocks(stmt, block))
        return tuple(out)

    return _replace(function, block(function.body), function.returns)


def _gated(factor: Operand, g: Operand, definition: Mapping[str, Assign]) -> tuple[str, tuple[Operand, ...]] | None:
    """`g * step(x, y)`, `g * (1 - step(x, y))` and `g * sign(x)` as the choices they are (see the rules)."""
    chosen = definition.get(factor.name) if isinstance(factor, Var) else None
    if chosen is None:
        return None
    if chosen.op == "step":
        return "gate", (*chosen.args, g)
    if chosen.op == "sign":
        return "gate_sign", (*chosen.args, g)
    if (
        chosen.op == "sub"
        and isinstance(chosen.args[0], ir.Const)
        and chosen.args[0].value == 1
        and type(chosen.args[0].value) is not bool
        and isinstance(chosen.args[1], Var)
    ):
        step = definition.get(chosen.args[1].name)
        if step is not None and step.op == "step":
            return "gate_else", (*step.args, g)
    return None


# Python specializes these for two floats only: `2 * x` takes a slower path than `2.0 * x`, which is the
# same value (Python converts the int first), as is `x > 0` and `x > 0.0`.
_FLOAT_SPECIALIZED = frozenset({"add", "sub", "mul", "div", "lt", "le", "gt", "ge", "eq", "ne"})


def _as_float(operand: Operand) -> Operand:
    """An int constant as the float Python would convert it to, where that is exact."""
    if isinstance(operand, ir.Const) and type(operand.value) is int and abs(operand.value) <= 2**53:
        return ir.Const(float(operand.value))
    return operand


def signs(function: Function, rules: Mapping[str, Rule] = RULES) -> Function:
    """Negations go where they cost nothing: `p + -q` is `p - q`, `p - -q` is `p + q`, `-a * -b` is
    `a * b`, `-a * (2.0 * x)` is `a * (-2.0 * x)`, and a product with a negated factor that only a sum
    reads hands its sign to the sum.

    All exact, for floats: IEEE negation flips the sign bit and nothing else, products and quotients
    round the same whatever their signs, and `p - q` is defined as `p + -q`. Ints are left alone (`-0`
    is `0`, so moving an int's sign can change the sign of a float zero). A statement is changed in place
    only when a single statement reads it, and then only together with that reader.
    """
    uses = ir.use_counts(function, returned=2)  # a returned value is read by the caller too
    current: dict[str, Assign] = {}
    bearing: set[str] = set()  # names that may carry a negation to remove (a superset: a quick first test)
    namer = _namer_for(function)

    def flipped(operand: Operand, strict: bool) -> tuple[Operand, tuple[tuple[str, Assign], ...]] | None:
        """`-operand` without computing anything, and the statements to rewrite for it. Strict: only
        when the operand carries a negation to remove (so `p + q` is never churned into `p - -q`)."""
        if isinstance(operand, ir.Const):
            value = operand.value
            if type(value) is float and (value < 0 or not strict):
                return ir.Const(-value), ()
            return None
        if strict and isinstance(operand, Var) and operand.name not in bearing:
            return None
        definition = current.get(operand.name) if isinstance(operand, Var) else None
        if definition is None or definition.type != ir.FLOAT:  # -0 is 0: negating an int flips no sign bit
            return None
        if definition.op == "neg":
            return definition.args[0], ()
        if definition.op in ("mul", "div") and uses.get(definition.target) == 1:
            for i, factor in enumerate(definition.args):
                found = flipped(factor, strict)
                if found is not None:
                    args = definition.args[:i] + (found[0],) + definition.args[i + 1 :]
                    # `x_bar` negated is no longer x's adjoint: it becomes a temporary.
                    target = definition.target if ir.is_temp(definition.target) else namer().temp()
                    change = Assign(target, definition.op, args, definition.type, definition.loc)
                    return Var(target), (*found[1], (definition.target, change))
        return None

    def rewrite(stmt: Assign) -> Assign:
        op, args = stmt.op, stmt.args
        if op == "neg" and (found := flipped(args[0], strict=False)) is not None:
            return _rewritten(stmt, "copy", (found[0],), found[1], current)
        if op in ("mul", "div"):
            for i in (0, 1):
                sign = flipped(args[i], strict=True)
                other = flipped(args[1 - i], strict=False) if sign is not None else None
                if sign is not None and other is not None:
                    operands = (sign[0], other[0]) if i == 0 else (other[0], sign[0])
                    return _rewritten(stmt, op, operands, sign[1] + other[1], current)
        if op in ("add", "sub"):
            if (found := flipped(args[1], strict=True)) is not None:
                return _rewritten(stmt, "sub" if op == "add" else "add", (args[0], found[0]), found[1], current)
            if op == "add" and (found := flipped(args[0], strict=True)) is not None:
                return _rewritten(stmt, "sub", (args[1], found[0]), found[1], current)
        return stmt

    for stmt in ir.walk(function.body):
        if isinstance(stmt, Assign):
            current[stmt.target] = new = rewrite(stmt) if stmt.type == ir.FLOAT else stmt
            if (
                new.op == "neg"
                or new.op in ("mul", "div")
                and any(
                    isinstance(a, Var) and a.name in bearing or isinstance(a, ir.Const) and type(a.value) is float and a.value < 0
                    for a in new.args
                )
            ):
                bearing.add(stmt.target)

    def block(statements: ir.Block) -> ir.Block:
        return tuple(current[s.target] if isinstance(s, Assign) else ir.with_blocks(s, block) for s in statements)

    return _replace(function, block(function.body), function.returns)


def _namer_for(function: Function) -> Callable[[], ir.Namer]:
    """A Namer over the function's names, made when first asked for (most runs of a pass need none)."""
    return functools.cache(lambda: ir.Namer(ir.all_names(function)))


def _rewritten(
    stmt: Assign, op: str, args: tuple[Operand, ...], changes: tuple[tuple[str, Assign], ...], current: dict[str, Assign]
) -> Assign:
    for original, change in changes:
        current[original] = change
    return Assign(stmt.target, op, args, stmt.type, stmt.loc)


def _power_of_two(value: object) -> bool:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value == 0 or not math.isfinite(value):
        return False
    mantissa, _ = math.frexp(abs(value))
    return mantissa == 0.5


def tape_slots(function: Function, rules: Mapping[str, Rule] = RULES) -> Function:
    """Record on the tape only what some reverse statement still reads (after the other passes)."""
    pops = [s for s in ir.walk(function.body) if isinstance(s, ir.Pop)]
    if not pops:
        return function
    used: set[str] = {o.name for o in ir.return_operands(function.returns) if isinstance(o, Var)}
    for stmt in ir.walk(function.body):
        used.update(ir.used_names(stmt))
    keep = {pop.slot: tuple(t in used for t in pop.targets) for pop in pops}
    if all(all(k) for k in keep.values()):
        return function
    # Values only a dropped slot recorded are dead now: sweep again after the slots are cut.

    def block(statements: ir.Block) -> ir.Block:
        out: list[Stmt] = []
        for stmt in statements:
            if isinstance(stmt, ir.Pop):
                mask = keep[stmt.slot]
                if any(mask):
                    out.append(ir.Pop(_select(stmt.targets, mask), _select(stmt.types, mask), stmt.loc, stmt.slot))
            elif isinstance(stmt, ir.Push):
                mask = keep.get(stmt.slot, (True,) * len(stmt.values))
                if any(mask):
                    out.append(ir.Push(_select(stmt.values, mask), stmt.loc, stmt.slot))
            else:
                out.append(ir.with_blocks(stmt, block))
        return tuple(out)

    return dead_code(_replace(function, block(function.body), function.returns), rules)


def tape_arrays(function: Function, rules: Mapping[str, Rule] = RULES) -> Function:
    """What a `for i in range(n)` loop records each iteration goes into arrays of n items, `x_tape[i] = x`,
    which its reverse loop reads back, `x = x_tape[i]`, instead of a tuple pushed on the tape and popped.

    Only where that is the same: the loop counts from 0 by 1 and never leaves early (so iteration `i`
    is item `i`), records once per iteration, and its reverse loop is in the same block (so the arrays
    it reads are the ones this run of the loop filled). Storing into a list is cheaper than building and
    pushing a tuple, and the arrays hold the values themselves.
    """
    namer = _namer_for(function)

    def counted(stmt: Stmt) -> bool:
        return (
            isinstance(stmt, ir.For)
            and stmt.start == ir.Const(0)
            and stmt.step == ir.Const(1)
            and stmt.until is None
            and stmt.limit is None
        )

    def block(statements: ir.Block) -> ir.Block:
        statements = tuple(ir.with_blocks(s, block) for s in statements)
        pops = {p.slot: (k, p) for k, s in enumerate(statements) if counted(s) for p in s.body if isinstance(p, ir.Pop)}  # type: ignore[union-attr]
        out = list(statements)
        before: dict[int, list[Stmt]] = {}
        for k in range(len(out)):
            loop = out[k]  # a reverse loop may have had its pops replaced already
            if not counted(loop):
                continue
            assert isinstance(loop, ir.For)
            for push in [s for s in loop.body if isinstance(s, ir.Push) and s.slot in pops]:
                r, pop = pops[push.slot]
                reverse = out[r]
                assert isinstance(reverse, ir.For)
                if r <= k or reverse.stop != loop.stop:
                    continue
                arrays = [
                    namer().new_family(f"{ir.family(v.name)}_tape" if isinstance(v, Var) else "_saved") for v in push.values
                ]
                before.setdefault(k, []).extend(
                    Assign(a, "repeat", (ir.Const(0.0), loop.stop), ir.ListOf(t), push.loc) for a, t in zip(arrays, pop.types)
                )
                stores = tuple(ir.Effect("setitem", (Var(a), Var(loop.index), v), push.loc) for a, v in zip(arrays, push.values))
                reads = tuple(
                    Assign(t, "index", (Var(a), Var(reverse.index)), ty, pop.loc)
                    for a, t, ty in zip(arrays, pop.targets, pop.types)
                )
                loop = ir.with_blocks(loop, lambda b, old=push, new=stores: _spliced(b, old, new))  # type: ignore[misc]
                out[r] = ir.with_blocks(reverse, lambda b, old=pop, new=reads: _spliced(b, old, new))  # type: ignore[misc]
            out[k] = loop
        return tuple(x for k, s in enumerate(out) for x in (*before.get(k, ()), s))

    return _replace(function, block(function.body), function.returns)


def _spliced(block: ir.Block, old: Stmt, new: tuple[Stmt, ...]) -> ir.Block:
    """The block with the statement `old` (that very object) replaced by the statements `new`."""
    return tuple(x for stmt in block for x in (new if stmt is old else (stmt,)))


def _select(items: tuple, mask: tuple[bool, ...]) -> tuple:  # type: ignore[type-arg]
    return tuple(item for item, kept in zip(items, mask) if kept)


def common_subexpressions(function: Function, rules: Mapping[str, Rule] = RULES) -> Function:
    """The same pure primitive of the same operands is computed once, within a block and the blocks
    it contains (so the reverse sweep reuses what the forward sweep computed)."""
    mapping: dict[str, Operand] = {}
    mutated = _mutated_lists(function)

    def shareable(stmt: Assign) -> bool:
        """Pure primitives, and reads of lists that nothing mutates (nor could through an alias)."""
        rule = rules[stmt.op]
        if stmt.op in ("index", "len"):
            return isinstance(stmt.args[0], (Var, ir.Global)) and stmt.args[0].name not in mutated
        return rule.pure and not rule.structural

    def block(statements: ir.Block, seen: dict[tuple[str, tuple[object, ...]], str]) -> ir.Block:
        out: list[Stmt] = []
        for stmt in statements:
            if isinstance(stmt, Assign):
                stmt = ir.rename_statement(stmt, mapping)
                assert isinstance(stmt, Assign)
                if shareable(stmt):
                    key = (stmt.op, tuple([a if type(a) is Var else ir.identity(a) for a in stmt.args]))
                    if key in seen:
                        mapping[stmt.target] = Var(seen[key])
                        continue
                    seen[key] = stmt.target
                out.append(stmt)
            elif isinstance(stmt, ir.If):
                then, orelse = block(stmt.then, dict(seen)), block(stmt.orelse, dict(seen))
                renamed = ir.rename_statement(ir.If(stmt.cond, (), (), stmt.merges, stmt.loc), mapping)
                assert isinstance(renamed, ir.If)
                out.append(ir.If(renamed.cond, then, orelse, renamed.merges, stmt.loc))
            elif isinstance(stmt, (ir.For, ir.While)):
                header = ir.rename_statement(_without_blocks(stmt), mapping)
                body = block(stmt.body, dict(seen))
                if isinstance(stmt, ir.For):
                    assert isinstance(header, ir.For)
                    out.append(
                        ir.For(
                            header.index,
                            header.start,
                            header.stop,
                            header.step,
                            header.carried,
                            body,
                            header.until,
                            stmt.loc,
                            stmt.reverse,
                            header.limit,
                        )
                    )
                else:
                    assert isinstance(header, ir.While)
                    test = block(stmt.test, dict(seen))
                    out.append(ir.While(header.carried, test, header.cond, body, header.until, stmt.loc))
            else:
                out.append(ir.rename_statement(stmt, mapping))
        return tuple(out)

    body = block(function.body, {})
    # Carried updates and merges may name values replaced inside the blocks: rename them once more.
    body = _rename_headers(body, mapping)
    return _replace(function, body, _map_returns(function.returns, mapping))


def _rename_headers(block: ir.Block, mapping: Mapping[str, Operand]) -> ir.Block:
    """The block with uses renamed in the headers of its compound statements (merges, carried values,
    bounds, conditions), at every depth; other statements are kept as they are."""
    if not mapping:
        return block
    out: list[Stmt] = []
    for stmt in block:
        if isinstance(stmt, (ir.If, ir.For, ir.While)):
            header = ir.rename_statement(ir.with_blocks(stmt, lambda _: ()), mapping)  # the header alone
            inner = iter([_rename_headers(b, mapping) for b in ir.blocks_of(stmt)])
            stmt = ir.with_blocks(header, lambda _, blocks=inner: next(blocks))  # type: ignore[misc]
        out.append(stmt)
    return tuple(out)


def _mutated_lists(function: Function) -> set[str]:
    """Lists something mutates, and every list that may be the same object or hold it as a row."""
    mutated: set[str] = set()
    links: dict[str, list[str]] = {}

    def link(a: Operand, b: str) -> None:
        if isinstance(a, Var):
            links.setdefault(a.name, []).append(b)
            links.setdefault(b, []).append(a.name)

    for stmt in ir.walk(function.body):
        if isinstance(stmt, ir.Effect) and isinstance(stmt.args[0], Var):
            mutated.add(stmt.args[0].name)
        elif isinstance(stmt, Assign) and stmt.op == "pop" and isinstance(stmt.args[0], Var):
            mutated.add(stmt.args[0].name)
        elif isinstance(stmt, Assign) and isinstance(stmt.type, ir.ListOf) and stmt.op in ("copy", "index", "list"):
            for arg in stmt.args:
                link(arg, stmt.target)
        elif isinstance(stmt, ir.If):
            for m in stmt.merges:
                link(m.then, m.target)
                link(m.orelse, m.target)
        elif isinstance(stmt, (ir.For, ir.While)):
            for c in stmt.carried:
                link(c.init, c.header)
                link(c.update, c.header)
                link(Var(c.header), c.result)
        elif isinstance(stmt, ir.Pop):
            mutated.update(t for t, ty in zip(stmt.targets, stmt.types) if isinstance(ty, ir.ListOf))
    return ir.reach(mutated, links)


def hoist(function: Function, rules: Mapping[str, Rule] = RULES) -> Function:
    """A read of a list that a loop does not change, at a position the loop does not change, moves out of
    the loop (`row = X[i]` before `for k in ...: row[k]`), when the read cannot fail where the loop
    would not have run: its position is the index of an enclosing loop over `range(len(that list))`.
    Lengths move out too (of lists nothing resizes)."""
    if not any(isinstance(stmt, ir.For) for stmt in ir.walk(function.body)):
        return function
    mutated = _mutated_lists(function)
    direct = _directly_mutated(function)
    length_of: dict[str, str] = {}  # n -> the list whose len(...) n is
    same: dict[str, str] = {}  # a list -> a list of the same length (zeros_like)
    for stmt in ir.walk(function.body):
        if isinstance(stmt, Assign) and stmt.op == "len" and isinstance(stmt.args[0], Var):
            length_of[stmt.target] = stmt.args[0].name
        elif isinstance(stmt, Assign) and stmt.op == "zeros_like" and isinstance(stmt.args[0], Var):
            same[stmt.target] = stmt.args[0].name

    def root(name: str) -> str:
        while name in same:
            name = same[name]
        return name

    def movable(stmt: Stmt, inside: set[str], bounded: set[tuple[str, str]]) -> bool:
        if not isinstance(stmt, Assign) or stmt.op not in ("index", "len") or not isinstance(stmt.args[0], Var):
            return False
        items = stmt.args[0].name
        if any(isinstance(a, Var) and a.name in inside for a in stmt.args):
            return False
        if stmt.op == "len":
            return items not in mutated
        position = stmt.args[1]
        if items in direct or (not isinstance(stmt.type, ir.ListOf) and items in mutated):
            return False
        return isinstance(position, Var) and (position.name, root(items)) in bounded

    def block(statements: ir.Block, bounded: set[tuple[str, str]]) -> ir.Block:
        out: list[Stmt] = []
        for stmt in statements:
            if isinstance(stmt, ir.For):
                inner = set(bounded)
                if (
                    isinstance(stmt.start, ir.Const)
                    and stmt.start.value >= 0
                    and stmt.step == ir.Const(1)
                    and isinstance(stmt.stop, Var)
                    and stmt.stop.name in length_of
                ):
                    inner.add((stmt.index, root(length_of[stmt.stop.name])))
                body = block(stmt.body, inner)
                inside = {n for s in ir.walk(body) for n in ir.defs(s)} | set(ir.defs(stmt))
                kept: list[Stmt] = []
                for s in body:  # in order: what a moved read defines is outside the loop for the next ones
                    if movable(s, inside, bounded):
                        out.append(s)
                        inside.difference_update(ir.defs(s))
                    else:
                        kept.append(s)
                out.append(ir.with_blocks(stmt, lambda _b, kept=tuple(kept): kept))  # type: ignore[misc]
            else:
                out.append(ir.with_blocks(stmt, lambda b: block(b, bounded)))
        return tuple(out)

    return _replace(function, block(function.body, set()), function.returns)


def _directly_mutated(function: Function) -> set[str]:
    """Lists whose own slots something changes (not through a row they hold), with their copies."""
    changed = {
        s.args[0].name
        for s in ir.walk(function.body)
        if isinstance(s, (ir.Effect, Assign))
        and (isinstance(s, ir.Effect) or s.op == "pop")
        and s.args
        and isinstance(s.args[0], Var)
    }
    changed |= {t for s in ir.walk(function.body) if isinstance(s, ir.Pop) for t in s.targets}
    return ir.aliases(function, changed)


def _without_blocks(stmt: ir.For | ir.While) -> ir.For | ir.While:
    if isinstance(stmt, ir.For):
        return ir.For(
            stmt.index, stmt.start, stmt.stop, stmt.step, stmt.carried, (), stmt.until, stmt.loc, stmt.reverse, stmt.limit
        )
    return ir.While(stmt.carried, (), stmt.cond, (), stmt.until, stmt.loc)


def dead_code(function: Function, rules: Mapping[str, Rule] = RULES) -> Function:
    """Drop what nobody reads: pure assignments, merges, carried values, empty branches and loops.

    An operation that may raise stays, read or not, where what it reads is computed anyway (outside
    loops): where the function raises (`math.log(x)` at x < 0, whose gradient reads only `1 / x`),
    its gradient raises the same error, for the cost of one operation.
    """
    live = {o.name for o in ir.return_operands(function.returns) if isinstance(o, Var)}
    statements = list(ir.walk(function.body))
    # One backward sweep finds everything live in straight-line code; branches and loops need more.
    changed = True
    while changed:
        size = len(live)
        for stmt in reversed(statements):
            live.update(_needs(stmt, live, rules))
        changed = len(live) != size and any(isinstance(s, (ir.If, ir.For, ir.While)) for s in function.body)
    _keep_raising(function, live, rules)

    def block(statements: ir.Block) -> ir.Block:
        out: list[Stmt] = []
        for stmt in statements:
            if isinstance(stmt, Assign):
                if rules[stmt.op].pure and stmt.target not in live:
                    continue
                out.append(stmt)
            elif isinstance(stmt, ir.If):
                then, orelse = block(stmt.then), block(stmt.orelse)
                merges = tuple(m for m in stmt.merges if m.target in live)
                if _does_something(then) or _does_something(orelse) or merges:
                    out.append(ir.If(stmt.cond, then, orelse, merges, stmt.loc))
            elif isinstance(stmt, (ir.For, ir.While)):
                body = block(stmt.body)
                carried = tuple(c for c in stmt.carried if c.header in live or c.result in live)
                if not _does_something(body) and not carried:
                    continue
                if isinstance(stmt, ir.For):
                    out.append(
                        ir.For(
                            stmt.index,
                            stmt.start,
                            stmt.stop,
                            stmt.step,
                            carried,
                            body,
                            stmt.until,
                            stmt.loc,
                            stmt.reverse,
                            stmt.limit,
                        )
                    )
                else:
                    out.append(ir.While(carried, block(stmt.test), stmt.cond, body, stmt.until, stmt.loc))
            else:
                out.append(stmt)
        return tuple(out)

    return _replace(function, _drop_trailing_notes(list(block(function.body))), function.returns)


def _keep_raising(function: Function, live: set[str], rules: Mapping[str, Rule]) -> None:
    """Make live every operation outside loops that may raise and reads only what is live already
    (or parameters and constants): keeping it costs that one operation."""
    known = live | {p.name for p in function.params}
    candidates = _may_raise(function.body, rules)
    grown = True
    while grown:
        grown = False
        for stmt in candidates:
            if stmt.target not in known and all(a.name in known for a in stmt.args if isinstance(a, Var)):
                known.add(stmt.target)
                live.add(stmt.target)
                grown = True


def _may_raise(block: ir.Block, rules: Mapping[str, Rule]) -> list[Assign]:
    """The operations outside loops that may raise."""
    found: list[Assign] = []
    for stmt in block:
        if isinstance(stmt, Assign) and not rules[stmt.op].cannot_raise(stmt.args):
            found.append(stmt)
        elif isinstance(stmt, ir.If):
            found += _may_raise(stmt.then, rules) + _may_raise(stmt.orelse, rules)
    return found


def _does_something(block: ir.Block) -> bool:
    return any(not isinstance(stmt, ir.Note) for stmt in block)


def _needs(stmt: Stmt, live: set[str], rules: Mapping[str, Rule]) -> list[str]:
    """Names a statement makes live, given what is live already."""
    if isinstance(stmt, Assign):
        if stmt.target in live or not rules[stmt.op].pure:
            return ir.used_names(stmt)
        return []
    if isinstance(stmt, (ir.Effect, ir.Push)):
        return ir.used_names(stmt)
    if isinstance(stmt, ir.If):
        needed = [o for m in stmt.merges if m.target in live for o in (m.then, m.orelse)]
        if needed or _has_effect(stmt.then, rules) or _has_effect(stmt.orelse, rules):
            needed.append(stmt.cond)
        return [o.name for o in needed if isinstance(o, Var)]
    if isinstance(stmt, (ir.For, ir.While)):
        needed = [o for c in stmt.carried if c.header in live or c.result in live for o in (c.init, c.update)]
        if needed or _has_effect(stmt.body, rules):  # the loop runs: what decides how often is live
            if isinstance(stmt, ir.For):
                needed += [stmt.start, stmt.stop, stmt.step, *([stmt.limit] if stmt.limit else [])]
            else:
                needed.append(stmt.cond)
            needed += [stmt.until] if stmt.until else []
        return [o.name for o in needed if isinstance(o, Var)]
    return []


def _has_effect(block: ir.Block, rules: Mapping[str, Rule]) -> bool:
    return any(
        isinstance(s, (ir.Effect, ir.Push, ir.Pop)) or (isinstance(s, Assign) and not rules[s.op].pure) for s in ir.walk(block)
    )


def _drop_trailing_notes(block: list[Stmt]) -> ir.Block:
    """A `# reverse sweep` note with nothing after it says nothing."""
    while block and isinstance(block[-1], ir.Note):
        block.pop()
    return tuple(block)


def _map_returns(returns: ir.Returns, mapping: Mapping[str, Operand]) -> ir.Returns:
    if isinstance(returns, tuple):
        return tuple(_map_returns(r, mapping) for r in returns)
    return ir.substitute(returns, mapping)


def _replace(function: Function, body: ir.Block, returns: ir.Returns) -> Function:
    return dataclasses.replace(function, body=body, returns=returns)


def float_gradients(function: Function, rules: Mapping[str, Rule] = RULES) -> Function:
    """Gradients are floats, always: a returned adjoint that may be an int when the function runs
    (`x_bar = n // 2` for `x * (n // 2)` called with an int `n`, or `y` itself for `x * y` called with
    ints) is converted with `float(...)`, an int constant becomes a float constant. Exact: the
    conversion changes no value, only its type."""
    if function.gradient is None:
        return function
    maybe = ir.maybe_int(function, rules)
    types = ir.types_of(function)
    extra: list[Stmt] = []
    namer = _namer_for(function)

    def convert(returns: ir.Returns) -> ir.Returns:
        if isinstance(returns, tuple):
            return tuple(convert(r) for r in returns)
        if isinstance(returns, ir.Const) and not isinstance(returns.value, float):
            return ir.Const(float(returns.value))
        if isinstance(returns, ir.Var) and returns.name in maybe and not isinstance(types.get(returns.name), ir.ListOf):
            target = namer().fresh(ir.family(returns.name))
            extra.append(Assign(target, "float", (returns,), ir.FLOAT, function.loc))
            return ir.Var(target)
        return returns

    def at(returns: ir.Returns, path: tuple[int, ...]) -> ir.Returns:
        if not path:
            return convert(returns)
        assert isinstance(returns, tuple)
        head, rest = path[0], path[1:]
        return tuple(at(r, rest) if k == head else r for k, r in enumerate(returns))

    returns = at(function.returns, function.gradient)
    if not extra:
        return _replace(function, function.body, returns)
    return _replace(function, (*function.body, *extra), returns)


PASSES: tuple[Pass, ...] = (
    propagate,
    peephole,
    signs,
    propagate,
    hoist,
    common_subexpressions,
    dead_code,
    float_gradients,
    tape_slots,
    tape_arrays,
)
