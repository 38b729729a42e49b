"""The frame of a gradient whose parameters arrive as structures: the signature, the prologue, the return.

The IR of such a function takes one parameter per leaf read (see
`lower.structures`); the generated function takes the structures
themselves. Its prologue reads each leaf it uses (`p_w = p["w"]`), and its
return builds each gradient as the argument was built:

    return {"w": p_w_bar, "b": 1.0}, x_bar                  # a dict
    return (params_0_bar, params_1_bar)                     # a tuple (a list: [...])
    return p._replace(w=p_w_bar, b=p_b_bar)                 # a NamedTuple, of the argument's own class
    return dataclasses.replace(p, w=p_w_bar, b=p_b_bar)     # a dataclass, likewise

A leaf the function never reads gets zeros shaped like it (`0.0`, `[0.0] *
len(p["c"])`, `np.zeros_like(p["W"])`). Nothing of s2s_ad is imported: a
NamedTuple or dataclass gradient is made from the argument's own class.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from .. import ir
from ..frontend.structures import Leaf, Spec, access, literal
from ..lower.structures import Flattened, reading

Text = Callable[[ir.Returns], str]  # prints a returned value (a tuple in parentheses)


@dataclass(frozen=True)
class Frame:
    """What the printer puts around the body when the signature is not the IR's."""

    params: tuple[ir.Param, ...]  # the signature the caller sees
    unpack: tuple[tuple[str, str], ...]  # (IR parameter, Python reading it from the arguments), printed where used
    result: Callable[[ir.Returns, Text, str], str] | None  # the return, from the IR's returns and NumPy's name (None: as is)
    avoid: frozenset[str]  # names no variable may take: the arguments, read until the return
    numpy: bool = False  # the return needs NumPy (zeros of an array never read)
    imports: tuple[str, ...] = ()  # `import dataclasses`
    head: tuple[str, ...] = ()  # statements before the unpacking: `p, x = primals`


def structured_frame(
    flat: Flattened,
    primal: ir.Function,
    wrt: Sequence[str],
    bare: bool,
    *,
    with_value: bool,
    aux: bool,
    seeds: Sequence[ir.Param] = (),
) -> Frame:
    """The frame of the gradient of `flat` with respect to the original parameters `wrt` (a structure's
    gradient is built whole), returned bare or as a tuple; the IR's returns are laid out as `ad.gradient`
    lays them out (the value first with `with_value`, the auxiliary data after with `aux`). A pullback
    takes its output adjoints, `seeds`, after the parameters."""
    original = flat.original.node.args
    names = [a.arg for a in (*original.posonlyargs, *original.args, *original.kwonlyargs)]
    plain = {p.name: p for p in primal.params}
    params = tuple(plain.get(name) or ir.Param(name, ir.FLOAT) for name in names) + tuple(seeds)
    flattened = [n for name in wrt for n in flat.names_of(name)]
    position = {name: k for k, name in enumerate(flattened)}
    uses: dict[str, bool] = {"numpy": False, "dataclasses": False}

    def gradient(grads: ir.Returns, text: Text, numpy: str, top: bool) -> str:
        assert isinstance(grads, tuple) and len(grads) == len(flattened)
        items = []
        for name in wrt:
            structure = flat.structures.get(name)
            if structure is None:
                items.append(text(grads[position[name]]))
            else:
                items.append(_built(name, structure, flat, grads, position, text, numpy, uses))
        if bare:
            return items[0]
        inner = ", ".join(items) + ("," if len(items) == 1 else "")
        return inner if top else f"({inner})"

    def result(returns: ir.Returns, text: Text, numpy: str) -> str:
        if with_value:
            assert isinstance(returns, tuple) and len(returns) == 2
            return f"{text(returns[0])}, {gradient(returns[1], text, numpy, False)}"
        if aux:
            assert isinstance(returns, tuple) and len(returns) == 2
            return f"{gradient(returns[0], text, numpy, False)}, {text(returns[1])}"
        return gradient(returns, text, numpy, True)

    # Which modules the return needs is known once it is printed; find out now, with a dry run.
    dry = [ir.Var(f"_{k}") for k in range(len(flattened))]
    layout: ir.Returns = tuple(dry)
    result((ir.Var("v"), layout) if with_value else (layout, ir.Var("a")) if aux else layout, lambda r: "_", "np")
    unpack = tuple((leaf.name, leaf.reading) for leaf in flat.leaves)
    return Frame(
        params,
        unpack,
        result,
        frozenset(flat.structures) | {"dataclasses"},
        uses["numpy"],
        ("import dataclasses",) if uses["dataclasses"] else (),
    )


def _built(
    base: str,
    spec: Spec,
    flat: Flattened,
    grads: tuple[ir.Returns, ...],
    position: dict[str, int],
    text: Text,
    numpy: str,
    uses: dict[str, bool],
) -> str:
    """The gradient of the part `base` reads (`p["layer1"]`), built as the part is."""
    if isinstance(spec, Leaf):
        found = next((leaf for leaf in flat.leaves if leaf.reading == base), None)
        if found is not None and found.name in position:
            return text(grads[position[found.name]])
        return _zeros(base, spec, numpy, uses)
    parts = [
        _built(access(base, spec, key), child, flat, grads, position, text, numpy, uses)
        for key, child in zip(spec.keys, spec.children)
    ]
    if spec.kind == "none":
        return "None"
    if spec.kind == "dict":
        return "{" + ", ".join(f"{literal(key)}: {part}" for key, part in zip(spec.keys, parts)) + "}"
    if spec.kind == "tuple":
        return "(" + ", ".join(parts) + ("," if len(parts) == 1 else "") + ")"
    if spec.kind == "list":
        return "[" + ", ".join(parts) + "]"
    fields = ", ".join(f"{key}={part}" for key, part in zip(spec.keys, parts))
    if spec.kind == "namedtuple":
        return f"{base}._replace({fields})"
    uses["dataclasses"] = True
    return f"dataclasses.replace({base}{', ' if fields else ''}{fields})"


def _zeros(base: str, leaf: Leaf, numpy: str, uses: dict[str, bool]) -> str:
    """Zeros shaped like a leaf the function never reads."""
    if leaf.kind == "number":
        return "0.0"
    if leaf.kind == "array":
        uses["numpy"] = True
        return f"{numpy}.zeros_like({base})" if leaf.dtype == "f" else f"{numpy}.zeros_like({base}, dtype=float)"
    rows = ["row", "rows", "plane"] + [f"rows_{k}" for k in range(1, leaf.depth)]
    text = f"[0.0] * len({rows[0] if leaf.depth > 1 else base})"
    for level in range(1, leaf.depth):
        source = base if level == leaf.depth - 1 else rows[level]
        text = f"[{text} for {rows[level - 1]} in {source}]"
    return text


def forward_frame(flat: Flattened, primal: ir.Function, derived: ir.Function, wrt: Sequence[str]) -> Frame:
    """The frame of forward mode, `f_jvp(primals, tangents)`, for `flat` with respect to the original parameters
    `wrt`: the primals are the arguments, the tangents one per `wrt` parameter, a structure for a structure
    (`tangents[0]["w"]` is the tangent of `p["w"]`)."""
    original = flat.original.node.args
    names = [a.arg for a in (*original.posonlyargs, *original.args, *original.kwonlyargs)]
    flattened = [n for name in wrt for n in flat.names_of(name)]
    dots = dict(zip(flattened, (p.name for p in derived.params[len(primal.params) :])))
    unpack = [(leaf.name, leaf.reading) for leaf in flat.leaves]
    for k, name in enumerate(wrt):
        structure = flat.structures.get(name)
        if structure is None:
            unpack.append((dots[name], f"tangents[{k}]"))
            continue
        unpack += [
            (dots[leaf.name], reading(f"tangents[{k}]", structure, leaf.path)) for leaf in flat.leaves if leaf.param == name
        ]
    head = f"{', '.join(names)}{',' if len(names) == 1 else ''} = primals"
    params = (ir.Param("primals", ir.FLOAT), ir.Param("tangents", ir.FLOAT))
    return Frame(params, tuple(unpack), None, frozenset(names) | {"primals", "tangents"}, head=(head,))
