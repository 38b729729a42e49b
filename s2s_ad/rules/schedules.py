"""The checkpointing schedules a checkpointed loop's code asks (`ad/revolve.py`): plain functions the generated
module defines itself (`helper`), on whole numbers only, never differentiated.

- `_revolve(lo, hi, snapshots, steps)`: Griewank's binomial checkpointing (revolve), one decision at a time.
- `_thin(_tape, n, every, snapshots)`: the online schedule of a loop whose trip count is not known when it
  starts (a `while` loop): keep the state every `every` iterations; when more than `snapshots` would be kept,
  drop every other snapshot and keep them twice as far apart.
"""

from __future__ import annotations

from .core import Rule

REVOLVE = '''def _revolve(lo, hi, snapshots, steps):
    """Binomial checkpointing (Griewank's revolve), one decision at a time.

    The loop's state at iteration lo is kept in a snapshot; iterations lo to hi - 1 are still to be reversed,
    with `snapshots` snapshots (the one at lo among them), taping at most `steps` iterations at once. Returns
    the iteration to run on to from lo, untaped: where the next snapshot is kept if more than `steps`
    iterations remain after it, else where the taped segment (up to hi) starts. In blocks of `steps`
    iterations, the split is Griewank's: each iteration runs untaped at most r times, r the fewest with
    binom(snapshots + r, r) >= the number of blocks, and the total is the fewest possible."""
    blocks = -(-(hi - lo) // steps)
    if blocks <= 1:  # tape the rest from lo
        return lo
    if snapshots <= 1:  # no snapshot to spare: run on to the last block, tape it
        return lo + (blocks - 1) * steps
    repeats, reach = 0, 1  # reach: binom(snapshots + repeats, repeats), the most blocks reversible so
    while reach < blocks:
        repeats += 1
        reach = reach * (snapshots + repeats) // repeats
    fewer = reach * repeats // (snapshots + repeats)  # binom(snapshots + repeats - 1, repeats - 1)
    least = fewer * (repeats - 1) // (snapshots + repeats - 1)  # binom(snapshots + repeats - 2, repeats - 2)
    after = reach * snapshots // (snapshots + repeats)  # binom(snapshots + repeats - 1, repeats): blocks one fewer reverses
    return lo + max(least, blocks - after, 1) * steps'''

THIN = '''def _thin(tape, n, every, snapshots):
    """A loop of unknown trip count keeps its state (on the tape, as (iteration, values)) at iterations 0,
    every, 2 * every, ..., n: the last n // every + 1 records. When that is more than `snapshots`, drop every
    other one (those at odd multiples of every) and return the doubled spacing; else return every."""
    kept = n // every + 1
    if kept <= snapshots:
        return every
    first, left = len(tape) - kept, (kept + 1) // 2  # the loop's first record, and how many of them stay
    for k in range(1, left):  # the records at even places move up, in order (numba deletes no slice with a step)
        tape[first + k] = tape[first + 2 * k]
    del tape[first + left :]
    return 2 * every'''

SCHEDULES: dict[str, Rule] = {
    "revolve": Rule("_revolve({0}, {1}, {2}, {3})", None, None, "int", structural=True, foldable=False, helper=REVOLVE),
    "thin": Rule(  # the fourth operand is the snapshots' tape slot: numba keeps a tape per slot (`_tape2`)
        "_thin(_tape, {0}, {1}, {2})",
        None,
        None,
        "int",
        pure=False,
        structural=True,
        foldable=False,
        inline=False,
        helper=THIN,
        numba=lambda texts, stmt, numpy: f"_thin(_tape{texts[3]}, {texts[0]}, {texts[1]}, {texts[2]})",
    ),
}
