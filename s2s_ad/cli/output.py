"""Where the command's text goes: messages on standard error, modules and traces on standard output.

`Output` also remembers whether anything was refused, which decides the exit
status: a refused function is reported and the others are still written.
"""

from __future__ import annotations

import contextlib
import os
import time
from dataclasses import dataclass, field
from typing import TextIO

from ..errors import S2SError

PROG = "s2s-ad"  # the name messages start with


@dataclass
class Output:
    """Where messages go, and whether anything went wrong."""

    stdout: TextIO
    stderr: TextIO
    quiet: bool = False
    failed: bool = field(default=False)
    verbose: bool = False

    def error(self, error: S2SError | str) -> None:
        """A refusal: printed compiler-style on standard error; the exit status becomes 1."""
        self.failed = True
        if isinstance(error, S2SError) and error.filename:
            text = str(error)
        else:
            text = f"{PROG}: {error}" if isinstance(error, S2SError) else f"{PROG}: error: {error}"
        print(text, file=self.stderr)

    def info(self, text: str) -> None:
        if not self.quiet:
            print(f"{PROG}: {text}", file=self.stderr)

    def note(self, text: str) -> None:
        """A one-line note shown under -v only (a function of a whole file left out, and why)."""
        if self.verbose:
            print(f"{PROG}: note: {text}", file=self.stderr)

    @property
    def status(self) -> int:
        return 1 if self.failed else 0


def print_module(source: str, out: Output) -> None:
    """Standard output; a reader that stops early (`| head`) is not an error."""
    try:
        out.stdout.write(source)
        out.stdout.flush()
    except BrokenPipeError:
        with contextlib.suppress(OSError, ValueError):  # no traceback when Python flushes at exit either
            os.dup2(os.open(os.devnull, os.O_WRONLY), out.stdout.fileno())


class Progress:
    """Reports a long transform on standard error: each stage that ends more than `after` seconds into the
    transform of one function, with the time so far (`s2s-ad: loss: optimized, 3 of 4 stages (2.4 s)`)."""

    def __init__(self, out: Output, name: str, stages: int = 4, after: float = 1.0) -> None:
        self.out, self.name, self.stages, self.after = out, name, stages, after
        self.start = time.perf_counter()
        self.done = 0

    def __call__(self, stage: str) -> None:
        self.done += 1
        elapsed = time.perf_counter() - self.start
        if elapsed > self.after and not self.out.quiet:
            where = f"{min(self.done, self.stages)} of {self.stages} stages"
            print(f"{PROG}: {self.name}: {stage}, {where} ({elapsed:.1f} s)", file=self.out.stderr, flush=True)
