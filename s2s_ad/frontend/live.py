"""The free names of a live function: closure, globals, builtins, a bound object's attributes.

`classify` says what a live object is to the lowering (a number, a list of
numbers, the `math` module, a module of the user's, a primitive, a helper
to differentiate too, a custom derivative). `RuntimeResolver` finds the object a name is bound to,
noting each lookup in `Reads` so that a cache can later tell whether the
names still hold what they held.
"""

from __future__ import annotations

import builtins
import functools
import math
import sys
import types
from typing import TYPE_CHECKING

from ..errors import UnsupportedError
from ..rules import CALLS
from .parsed import BUILTIN_CALLEES, Callee, Constant, Custom, Data, Helper, MathModule, NumpyModule, Resolved, UserModule
from .reads import MISSING, Reads

if TYPE_CHECKING:
    from .static import StaticModule


def custom_class() -> type:
    """`CustomDerivative`, the class of `@custom_derivative` functions: the one object of ours a user function may call.

    It is imported here, when a name is first classified, and never when the
    frontend is imported.
    """
    from ..rules.custom import CustomDerivative

    return CustomDerivative


class RuntimeResolver:
    """Names of a live function: closure, then globals, then builtins; then the module's source.

    Every lookup is noted in `reads` (when given), with what it found or
    `MISSING`, so that a later lookup that would find something else (a
    rebound helper, a changed constant, a new global shadowing a builtin)
    can be noticed. A method's `self.attr` (see `callables._read_through`) reads the
    attribute of `owner`.
    """

    def __init__(self, func: types.FunctionType, static: StaticModule | None, reads: Reads | None = None) -> None:
        self.func = func
        self.static = static
        self.reads = reads
        self.owner: object = MISSING
        self.owner_name = ""

    def __call__(self, name: str) -> Resolved | None:
        func = self.func
        code = func.__code__
        reads = self.reads
        if self.owner is not MISSING and name.startswith(self.owner_name + "."):
            return self.attribute(name, name[len(self.owner_name) + 1 :])
        base, dot, attr = name.partition(".")
        if dot:  # `helpers.sq` of `import helpers`: the module's own attribute
            return self.module_attribute(name, base, attr)
        if name in code.co_freevars and func.__closure__:
            cell = func.__closure__[code.co_freevars.index(name)]
            try:
                value = cell.cell_contents
            except ValueError:  # an empty cell: the name is not assigned yet
                if reads is not None:
                    reads.note(cell, "", MISSING)
                return None
            if reads is not None:
                reads.note(cell, "", value)
            return classify(name, value, reads)
        namespace = func.__globals__
        if name in namespace:
            value = namespace[name]
            if reads is not None:
                reads.note(namespace, name, value)
            return classify(name, value, reads)
        if reads is not None:
            reads.note(namespace, name, MISSING)
        if self.static is not None:
            found = self.static(name)
            if isinstance(found, Helper):  # defined later in the same file than the decorated function
                return found
        value = builtins.__dict__.get(name, MISSING)
        if reads is not None:
            reads.note(builtins.__dict__, name, value)
        return None if value is MISSING else classify(name, value, reads)

    def module_attribute(self, name: str, base: str, attr: str) -> Resolved | None:
        """`module.attr` where `module` is a module of the user's: what the attribute holds (a helper, a number)."""
        if not isinstance(self(base), UserModule):
            return None
        module = self.value_of(base)
        namespace = vars(module)
        value = namespace.get(attr, MISSING)
        if self.reads is not None:
            self.reads.note(namespace, attr, value)
        return None if value is MISSING else classify(name, value, self.reads)

    def value_of(self, name: str) -> object:
        """What a free name of the function holds (its closure's, else its globals'), as `__call__` finds it."""
        func = self.func
        code = func.__code__
        if name in code.co_freevars and func.__closure__:
            return func.__closure__[code.co_freevars.index(name)].cell_contents
        return func.__globals__[name]

    def attribute(self, name: str, attr: str) -> Resolved | None:
        """`self.attr` of a bound method: the object's own attribute, else its class's (no properties)."""
        owner, reads = self.owner, self.reads
        classes = owner.__mro__ if isinstance(owner, type) else type(owner).__mro__
        if not isinstance(owner, type):
            own = getattr(owner, "__dict__", None)
            if isinstance(own, dict):
                value = own.get(attr, MISSING)
                if reads is not None:
                    reads.note(own, attr, value)
                if value is not MISSING:
                    return self.attribute_value(name, value)
        for klass in classes:
            namespace = klass.__dict__
            value = namespace.get(attr, MISSING)
            if reads is not None:
                reads.note(namespace, attr, value)
            if value is MISSING:
                continue
            if isinstance(value, staticmethod):
                return self.attribute_value(name, value.__func__)
            if isinstance(value, classmethod):
                bound_to = owner if isinstance(owner, type) else type(owner)
                return self.attribute_value(name, types.MethodType(value.__func__, bound_to))
            if isinstance(value, types.FunctionType) and not isinstance(owner, type):
                return self.attribute_value(name, types.MethodType(value, owner))
            if hasattr(type(value), "__get__") and not isinstance(value, types.FunctionType):
                raise UnsupportedError(
                    f"'{name}' is a {type(value).__name__}, which runs code when it is read",
                    hint="read a plain attribute holding a number or a list of numbers, or call a method",
                )
            return self.attribute_value(name, value)
        return None

    def attribute_value(self, name: str, value: object) -> Resolved | None:
        found = classify(name, value, self.reads)
        if isinstance(found, Custom):
            raise UnsupportedError(
                f"'{name}' is a custom-derivative function read through the object",
                hint=f"call it by its own name, {getattr(value, '__name__', name)}(...), from the module that defines it",
            )
        return found


def classify(name: str, value: object, reads: Reads | None = None) -> Resolved | None:
    """What a live object is to the lowering, or None if it is nothing differentiable.

    `reads`, when given, goes on recording the lookups of helpers, so that a
    cache notices a changed helper of a helper; lists of numbers are noted
    in it under `name`, the name generated code reads them by.
    """
    if value is math:
        return MathModule()
    numpy = _numpy_name(value)
    if numpy is not None:
        return NumpyModule(numpy) if isinstance(value, types.ModuleType) else Callee(f"numpy.{numpy}")
    if isinstance(value, bool | int | float):
        return _number(name, value, reads)
    if isinstance(value, custom_class()):
        return Custom(name, value)
    for spelling in BUILTIN_CALLEES:
        if value is getattr(builtins, spelling):
            return Callee(spelling)
    if isinstance(value, types.BuiltinFunctionType) and getattr(value, "__module__", None) == "math":
        return Callee(f"math.{value.__name__}")
    if isinstance(value, types.ModuleType) and value.__name__ not in sys.builtin_module_names and value is not builtins:
        return UserModule(value.__name__)
    if isinstance(value, types.FunctionType) and _generated_helper(value):
        return Callee(value.__name__)
    if isinstance(value, types.FunctionType):
        from .callables import from_function  # `callables` imports this module: imported when needed

        target = getattr(value, "__wrapped_primal__", value)  # a function decorated with @grad
        return Helper(name, lambda: from_function(target, reads))
    if isinstance(value, (types.MethodType, functools.partial)):
        from .callables import from_callable

        return Helper(name, lambda: from_callable(value, reads))
    if is_number_data(value):
        if reads is not None:
            known = reads.data.setdefault(name, value)
            if known is not value and known != value:  # generated code reads both by one name: refuse, not mix them
                raise UnsupportedError(
                    f"two different lists of numbers are both called '{name}' here (in different modules or objects)",
                    hint="give one of them another name, or pass it as a parameter",
                )
        return Data(name, value)
    return None


def _numpy_name(value: object) -> str | None:
    """Where NumPy keeps `value`, if it is NumPy itself ("" for the module), a submodule ("linalg") or one of
    NumPy's functions ("exp"): found without importing NumPy, which only a program that uses it has loaded."""
    import sys

    numpy = sys.modules.get("numpy")
    if numpy is None:
        return None
    if value is numpy:
        return ""
    if isinstance(value, types.ModuleType):
        name = getattr(value, "__name__", "")
        return name[len("numpy.") :] if name.startswith("numpy.") and sys.modules.get(name) is value else None
    name = getattr(value, "__name__", None)  # NumPy's own namespace, read without its deprecation hooks (`np.str`)
    if isinstance(name, str) and not isinstance(value, (int, float, bool)) and vars(numpy).get(name) is value:
        return name
    return None


def _generated_helper(value: types.FunctionType) -> bool:
    """A function a generated module defines for a rule's spelling (`_zeros_like`): that rule's primitive,
    so that generated code can be differentiated again."""
    return value.__module__.startswith("s2s_ad.generated.") and any(spelling == value.__name__ for spelling, _ in CALLS)


def _number(name: str, value: bool | int | float, reads: Reads | None) -> Resolved:
    """A float is data generated code reads by name (`4 * EPSILON`, not `479.2`), unless another float of
    that name was read already; a whole number is a constant (it may decide loop counts and indices)."""
    if isinstance(value, float) and reads is not None and reads.data.setdefault(name, value) == value:
        return Data(name, value)
    return Constant(value)


def is_number_data(value: object) -> bool:
    if isinstance(value, (list, tuple)):
        return all(is_number_data(v) for v in value)
    return isinstance(value, (int, float)) and not isinstance(value, bool)
