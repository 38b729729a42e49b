"""Running this module would leave a trace: the command line must only read it."""

import pathlib

pathlib.Path(__file__).with_name("EXECUTED").write_text("this module was run\n")
print("EXECUTED: this module was run")
raise RuntimeError("this module must never be imported or run by s2s-ad")


def f(x):
    return x * x + 3.0 * x
