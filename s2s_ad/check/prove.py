"""Work that may run for minutes, in a forked child that is killed when its time is up.

SymPy cannot be interrupted: building the derivative of a long chain, `expand`
or `simplify` of a large difference may run for minutes in C-speed loops of
pure Python that no deadline check reaches. So everything the check asks of
SymPy beyond small per-primitive formulas runs in a child process
(`Child`): forked, so it needs no pickling of its input and no main thread;
it sends what it finds to the parent as it goes (a pipe of pickled
messages), and it ends when its job is done, when the parent kills it, or
when its own interval timer goes off (SIGALRM, whose default action ends
the process: no cooperation is needed from the code it interrupts, and a
child whose parent died does not run on).

`prove_zero` is the symbolic proof: the strongest cheap test first;
`prove_zero_within` runs it in a child of its own with a time limit.
"""

from __future__ import annotations

import gc
import os
import signal
import sys
import time
import warnings
from collections.abc import Callable, Iterator
from multiprocessing.connection import Connection
from typing import Any

Send = Callable[[Any], None]


class Child:
    """A forked process running `job(send)`; the parent reads what it sends with `messages`.

    `seconds` bounds its life (it ends itself then, whatever it is doing).
    `Child.start` returns None where the platform cannot fork.
    """

    def __init__(self, pid: int, receiver: Connection) -> None:
        self.pid = pid
        self.receiver = receiver
        self.ended = False

    @staticmethod
    def start(job: Callable[[Send], None], seconds: float) -> Child | None:
        if not hasattr(os, "fork") or seconds <= 0.01:
            return None
        read, write = os.pipe()
        for stream in (sys.stdout, sys.stderr):  # or the child would write the parent's buffered output again
            if stream is not None:
                stream.flush()
        with warnings.catch_warnings():  # Python 3.12+ warns about fork() when threads exist
            warnings.simplefilter("ignore", DeprecationWarning)
            pid = os.fork()
        if pid == 0:  # the child: never returns into the caller's code
            os.close(read)
            _run_child(job, Connection(write, readable=False), seconds)
        os.close(write)
        return Child(pid, Connection(read, writable=False))

    def messages(self, until: float) -> Iterator[Any]:
        """What the child sends, until it ends or the clock passes `until`."""
        while not self.ended:
            left = until - time.monotonic()
            try:
                if not self.receiver.poll(max(0.0, left)):
                    return
                yield self.receiver.recv()
            except (EOFError, OSError):
                self.ended = True

    def stop(self) -> None:
        """Kill the child (if it still runs) and collect it."""
        self.ended = True
        try:
            os.kill(self.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        try:
            os.waitpid(self.pid, 0)
        except ChildProcessError:
            pass
        self.receiver.close()


def _run_child(job: Callable[[Send], None], sender: Connection, seconds: float) -> None:
    """In the child: arm the timer, run the job, send "end", exit without running the parent's cleanup."""
    status = 0
    try:
        try:
            signal.signal(signal.SIGALRM, signal.SIG_DFL)
        except ValueError:  # not the main thread: cannot happen after fork, but never fail on it
            pass
        signal.setitimer(signal.ITIMER_REAL, max(seconds, 0.01))
        os.nice(5)  # where the two compete for a processor, the parent's numbers come first
        gc.disable()  # a collection touches every object the fork shares with the parent: copying its memory

        def send(message: Any) -> None:
            try:
                sender.send(message)
            except (RecursionError, TypeError, AttributeError, ValueError) as exc:  # unpicklable or too deep
                sender.send(("unsent", message[0] if isinstance(message, tuple) else "", f"{type(exc).__name__}"))

        try:
            job(send)
        except Exception as exc:  # noqa: BLE001 - any failure of SymPy is reported, never raised
            send(("error", f"SymPy raised {type(exc).__name__}: {getattr(exc, 'message', exc)}"))
        send(("end",))
        sender.close()
    except BaseException:  # noqa: BLE001 - nothing may escape into the parent's code
        status = 1
    finally:
        os._exit(status)


# -- the symbolic proof ---------------------------------------------------------


def prove_zero(difference: Any, cheap: bool = False) -> tuple[str, str]:
    """(stage that proved `difference` zero, "") or ("", why not); the strongest cheap test first.

    With `cheap`, `simplify` and `equals` (which may run for minutes) are not tried.
    """
    import sympy

    if difference == 0:
        return "identical", ""
    if sympy.expand(difference) == 0:
        return "expand", ""
    if sympy.cancel(difference) == 0:
        return "cancel", ""
    if difference.has(sympy.Heaviside, sympy.Max, sympy.Min, sympy.Abs):  # kinks, all written with sign()
        if sympy.expand(sign_form(difference)) == 0:
            return "sign form", ""
    if difference.has(sympy.Piecewise):  # branches: compare the pieces one by one
        folded = sympy.piecewise_fold(difference)
        pieces = folded.args if isinstance(folded, sympy.Piecewise) else ((folded, True),)
        if all(piece == 0 or sympy.expand(piece) == 0 or sympy.cancel(piece) == 0 for piece, _ in pieces):
            return "piecewise cancel", ""
    if cheap:
        return "", "the cheap tests did not reduce the difference to zero"
    if sympy.simplify(difference) == 0:
        return "simplify", ""
    if difference.equals(0) is True:
        return "equals", ""
    return "", "SymPy did not reduce the difference to zero"


def sign_form(expression: Any) -> Any:
    """Heaviside, Max, Min and Abs rewritten with `sign`, exactly, at the tie too (Heaviside(0) = 1/2):
    `Heaviside(z - y)` and `1 - Heaviside(y - z)` both become `1/2 - sign(y - z)/2`."""
    import sympy

    def maximum(*args: Any) -> Any:
        first, *rest = args
        return first if not rest else (first + maximum(*rest) + sympy.Abs(first - maximum(*rest))) / 2

    def minimum(*args: Any) -> Any:
        first, *rest = args
        return first if not rest else (first + minimum(*rest) - sympy.Abs(first - minimum(*rest))) / 2

    expression = expression.replace(sympy.Max, maximum).replace(sympy.Min, minimum)
    half = sympy.Rational(1, 2)
    expression = expression.replace(
        sympy.Heaviside, lambda x, *h: (1 + sympy.sign(x)) / 2 if not h or h[0] == half else sympy.Heaviside(x, *h)
    )
    expression = expression.replace(sympy.Abs, lambda x: x * sympy.sign(x))

    def canonical(x: Any) -> Any:  # sign(z - y) is -sign(y - z): one spelling for both
        negated = sympy.expand(-x)
        return -sympy.sign(negated) if sympy.default_sort_key(negated) < sympy.default_sort_key(x) else sympy.sign(x)

    return expression.replace(sympy.sign, canonical)


def prove_zero_within(difference: Any, seconds: float) -> tuple[str, str]:
    """`prove_zero` in a forked child that is killed after `seconds`; never hangs."""
    if seconds <= 0.01:
        return "", "no time left for a symbolic proof"
    child = Child.start(lambda send: send(("proof", *prove_zero(difference))), seconds + 0.5)
    if child is None:
        return "", "no symbolic proof: this platform cannot fork"
    try:
        for message in child.messages(time.monotonic() + seconds):
            if message[0] == "proof":
                return message[1], message[2]
            if message[0] == "error":
                return "", message[1]
        if child.ended:
            return "", "the symbolic proof stopped without an answer"
        return "", f"the symbolic proof ran out of time ({seconds:.2f} s)"
    finally:
        child.stop()
