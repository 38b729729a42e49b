"""Helpers called through a module attribute (`import module_helpers_lib`), and imported by name."""

import module_helpers_lib
import module_helpers_lib as lib
from module_helpers_lib import OFFSET, softsign


def through_module(x, y):
    return module_helpers_lib.square(x) * y + lib.cube(y) + lib.GAIN * x


def by_name(x):
    return softsign(x) + OFFSET * x


def module_list(x):
    return lib.TABLE[0] * x


def reads_its_own_list(x):
    return lib.first_of_table(x)


def unknown_member(x):
    return lib.missing(x)
