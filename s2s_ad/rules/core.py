"""A primitive's rule: every fact about it in one frozen dataclass (the fields are explained in the
package's docstring, `s2s_ad.rules`), and `_math`, which makes the rule of a `math` function."""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property

from ..ir import BOOL, FLOAT, INT, Operand, Scalar, Type
from . import shapes

# An elementwise spelling that works on arrays as NumPy defines it: a NumPy function or operators only
# (`math.exp({0})` and `max({0}, {1})` raise on an array).
_ARRAY_SPELLING = re.compile(r"numpy\.\w+\(.*\)|[{}\d\s+\-*/%<>=!]+")


@dataclass(frozen=True)
class Rule:
    python: str
    sympy: Callable[..., object] | None
    partials: Callable[..., tuple[object, ...]] | None
    result: str = "float"  # "float", "promote" (int if every operand is), "int", "bool"; "list" ops type themselves
    pure: bool = True  # no effect: may be dropped when unused
    names: tuple[str, ...] = field(default=(), compare=False)  # e.g. ("math.sin",): how source code calls it
    structural: bool = False  # a list operation: the reverse transform writes its adjoint, it is never folded or shared
    foldable: bool = True  # constant operands may be computed at transform time
    callables: tuple[tuple[str, Callable[..., object]], ...] = field(default=(), compare=False)  # names it calls
    # With a constant operand, the primitive written as a formula of others (`pow_base(x, 3)` is
    # `3 * x ** 2`); the formula gets numbers for the constants and returns None where it has no form.
    expand: Callable[..., object] | None = field(default=None, compare=False)
    whole: tuple[int, ...] = ()  # operands that must be whole numbers (`math.ldexp(x, i)`: i)
    # (mp, *args): the primitive in high precision with mpmath, for the check, where mpmath's function of
    # the same name is not Python's (`math.log2` is `mp.log(x, 2)`); by default `mp.<name>`.
    mpmath: Callable[..., object] | None = field(default=None, compare=False)
    safe: bool = False  # cannot raise on numbers of the right type (so it may run eagerly, or be dropped unread)
    safe_if: Callable[[tuple[object, ...]], bool] | None = field(default=None, compare=False)  # safe with these operands
    # The operands whose values decide whether it raises (None: all): `a / b` raises where b is zero, whatever a is,
    # so another `c / b` that runs anyway raises where it does.
    raises_by: tuple[int, ...] | None = None
    # Operations that raise on exactly the same operands share a name here (sin, cos and tan raise only at
    # an infinity): one that runs anyway raises where the other would.
    raises_like: str = ""
    int_when_empty: bool = False  # of an empty list Python gives an int (`sum([])` is 0), whatever the list holds
    symbol: str | None = None  # how a picture of the computation graph draws it, where not as written (`×`)
    # Flags the passes read instead of op names.
    copy: bool = False  # the result is its operand itself (for a list: the same object)
    logical: bool = False  # on truth values: its operands are never numbers
    augmented: str | None = None  # `a = a + b` is printed `a += b` ("+=")
    cheap: str = ""  # when the reverse sweep recomputes it rather than tapes it: "int", "arith", "length", "element"
    # Algebra the optimizer uses (rules/algebra.py): exact rewrites of this primitive, and sign facts.
    simplify: Callable[..., object] | None = field(default=None, compare=False)  # (stmt, Context) -> Assign | None
    float_specialized: bool = False  # Python runs it faster on two floats: `2 * x` is better printed `2.0 * x`
    negation: bool = False  # -x
    odd: bool = False  # negating any one operand negates the result, exactly (`*`, `/`)
    negated_second: str | None = None  # `op(a, -b)` is this primitive of (a, b): `a + -b` is `a - b`
    commutative: bool = False
    chooses: tuple[int, ...] = ()  # operands the result may be, as they are (`gate` passes g on): an int stays an int
    # Structural operations (on lists): what no formula of partials says, as templates written once in
    # rules/lists.py and called by the transforms (`reverse`, `tangent`), the interpreter (`run`) and
    # the printer (`spell`); the flags tell the analyses how values flow through them.
    effect: bool = False  # a statement that changes its first operand, a list, in place (no result)
    flows: tuple[int, ...] | None = None  # the operands whose values the result (an effect: the list) holds; None: all
    shares: bool = False  # a list result that is, or holds as rows, its list operands themselves
    like: bool = False  # a new list shaped like its operand (`zeros_like`)
    overwrites: bool = False  # changes elements its list operand already holds (every effect but `append`; `pop`)
    grows: bool = False  # puts one item at the end of its list (`append`): a list's k-th grow puts its item k
    literal: bool = False  # the list of its operands in order (`[a, b]`; with none, a new empty list)
    recorded: bool = False  # a counted loop's record (`[0.0] * n`): item i is what iteration i stored, and only that
    commutes: bool = False  # an effect whose repetitions may run in any order (adding into an element)
    inline: bool = True  # may be printed inside the expression that reads it
    inline_operands: tuple[int, ...] | None = None  # where an expression printed inline may stand; None: all
    reverse: Callable[..., None] | None = field(default=None, compare=False)  # (sweep, stmt, adjoint): backpropagate
    reverse_list: Callable[..., object] | None = field(default=None, compare=False)  # (sweep, stmt): a made list's adjoint
    tangent: Callable[..., None] | None = field(default=None, compare=False)  # (sweep, stmt): forward mode
    run: Callable[..., object] | None = field(default=None, compare=False)  # (runner, stmt, values): interpret
    spell: Callable[..., str] | None = field(default=None, compare=False)  # (texts, stmt): print beyond `python`
    # A function the spelling calls that the generated module defines itself (its source: `def _name(...)`),
    # for what one expression cannot say; generated code still imports nothing of s2s_ad.
    helper: str | None = field(default=None, compare=False)
    # Arrays (rules/arrays.py): the NumPy primitive a derivative formula emits instead where an operand is an
    # array (`cos` -> `numpy.cos`), and a structural array operation's result type from its operands' types
    # and the operands themselves (constant axes and sizes).
    on_arrays: str | None = None
    # How the result changes when a number c, the same along one axis, is added to the operands
    # (ad/invariance.py): operands' changes -> the result's, each "same" (unchanged), "plus" (c added) or
    # "times" (multiplied by exp(c)); `along`: a reduction whose operand 1 is its axis, which must be that one.
    shifts: tuple[tuple[tuple[str, ...], str], ...] = ()
    along: bool = False
    view: bool = False  # an array that may share its first operand's memory (`x.T`, `x[i]`, `x.reshape(...)`)
    ones: bool = False  # an array of ones shaped like its operand (`np.ones_like`): what spreads an adjoint
    expands: bool = False  # its operand with an axis of size 1 inserted (`np.expand_dims`), the same values
    shape: Callable[[tuple[Type, ...], tuple[Operand, ...]], Type] | None = field(default=None, compare=False)
    # The numba backend (rules/numba.py): `(texts, stmt, np)` -> its spelling there where the Python one does not
    # compile under `numba.njit` (or is slower there); and why numba cannot compile it at all, where it cannot.
    numba: Callable[..., str] | None = field(default=None, compare=False)
    numba_refused: str = ""

    def cannot_raise(self, args: tuple[object, ...], types: tuple[Type, ...] | None = None) -> bool:
        """Whether the primitive cannot raise on these operands (IR operands: names or constants), of these
        types where they are known. On arrays, an elementwise operation spelled with NumPy or operators cannot
        raise where the float arrays' shapes broadcast for certain (it warns: `np.log(-1.0)` is nan), and may
        where they may not."""
        if types is not None and self.shape is None and not self.structural and any(shapes.is_array(t) for t in types):
            # on arrays, `x * y` raises where the shapes do not broadcast, however safe it is on numbers
            return _ARRAY_SPELLING.fullmatch(self.python) is not None and shapes.broadcast_for_certain(types)
        return self.safe or (self.safe_if is not None and self.safe_if(args))

    @property
    def reads_list(self) -> bool:
        """Whether it reads an element or the length of its first operand, a list (and nothing else)."""
        return self.cheap in ("element", "length")

    @property
    def arity(self) -> int:
        return 1 + max((int(i) for i in re.findall(r"\{(\d+)\}", self.python)), default=-1)

    @cached_property
    def evaluate(self) -> Callable[..., object]:
        """The primitive as a plain Python function (constant folding, interpreters)."""
        params = ", ".join(f"_{i}" for i in range(self.arity))
        body = self.python.format(*(f"_{i}" for i in range(self.arity)))
        namespace: dict[str, object] = {"math": math}
        if self.helper is not None:
            exec(self.helper, namespace)  # noqa: S102 - our own table
        return eval(f"lambda {params}: {body}", namespace)  # noqa: S307 - our own table

    def type_for(self, arg_types: tuple[Type, ...], args: tuple[Operand, ...]) -> Type:
        """The result's type: an array operation's from its shape rule, an elementwise one's broadcast
        over its array operands, a number's as `result_type` says."""
        if self.shape is not None:
            return self.shape(arg_types, args)
        if not self.structural:
            array = shapes.elementwise(arg_types, shapes.elem_of(self.result))
            if array is not None:
                return array
        return self.result_type(arg_types)

    def result_type(self, arg_types: tuple[Type, ...]) -> Type:
        if self.structural and self.result not in ("int", "float"):
            raise ValueError("a list operation's type comes from its operands")
        if self.result == "promote":
            if all(isinstance(t, Scalar) and t.kind in ("int", "bool") for t in arg_types):
                return INT
            return FLOAT
        return {"float": FLOAT, "int": INT, "bool": BOOL}[self.result]


def _math(
    name: str,
    sympy: Callable[..., object],
    partials: Callable[..., tuple[object, ...]] | None,
    result: str = "float",
    arity: int = 1,
    whole: tuple[int, ...] = (),
) -> Rule:
    operands = ", ".join(f"{{{i}}}" for i in range(arity))
    return Rule(f"math.{name}({operands})", sympy, partials, result, names=(f"math.{name}",), whole=whole)
