"""The IR's types: scalars, lists and arrays (an element kind and a shape of known or symbolic sizes)."""

from __future__ import annotations

import dataclasses

import pytest

from s2s_ad import ir


def test_an_array_type_carries_its_element_kind_and_shape() -> None:
    matrix = ir.ArrayOf(ir.FLOAT, (3, "n"))
    assert matrix.ndim == 2 and matrix.elem == ir.FLOAT and matrix.shape == (3, "n")
    assert str(matrix) == "array[float, (3, n)]"
    assert str(ir.ArrayOf(ir.INT, (4,))) == "array[int, (4,)]"
    assert str(ir.ArrayOf(ir.FLOAT, ())) == "array[float, ()]"
    assert ir.ArrayOf(ir.FLOAT, (3, "n")) == matrix != ir.ArrayOf(ir.FLOAT, ("n", 3))
    assert hash(matrix) == hash(ir.ArrayOf(ir.FLOAT, (3, "n")))  # types key dictionaries
    with pytest.raises(dataclasses.FrozenInstanceError):
        matrix.shape = (1,)  # type: ignore[misc]  # frozen: rebuilt with dataclasses.replace only


def test_lists_nest_and_arrays_are_not_lists() -> None:
    rows = ir.ListOf(ir.ListOf(ir.FLOAT))
    assert ir.list_depth(rows) == 2 and str(rows) == "list[list[float]]"
    assert ir.list_depth(ir.ArrayOf(ir.FLOAT, (2, 2))) == 0
    assert str(ir.ListOf(ir.ArrayOf(ir.FLOAT, ("h", "d")))) == "list[array[float, (h, d)]]"  # weights, one per layer
