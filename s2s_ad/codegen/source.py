"""Generated functions as text and as callables: `Generated`, the module text around them, and compiling them.

`module` is the file the command line writes (and what `Generated.source`
is, for one function): a docstring, each import once, the helpers the rules'
spellings call, the functions. `compile_generated` makes a function whose
lines `inspect.getsource`, debuggers and tracebacks show: the source is
written to a file in a directory of this process's own (removed when it
exits) and registered in `linecache`.
"""

from __future__ import annotations

import linecache
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Generated:
    """One generated function: its text, the imports it needs, and the module-level names it reads."""

    name: str
    function: str  # the `def`, as source text
    imports: tuple[str, ...]  # `import math`, when the function uses it
    globals: tuple[str, ...]  # module-level data the function reads by name
    helpers: tuple[str, ...] = ()  # functions its spellings call that the module defines (rules' `helper`)

    @property
    def source(self) -> str:
        """A module holding just this function."""
        return module((self,))


def module(functions: Sequence[Generated], header: str | None = None, imports: Sequence[str] = ()) -> str:
    """A module of generated functions: an optional docstring `header`, each import once, the functions.

    `imports` are extra import lines (the command line imports the data the
    functions read from the user's module).
    """
    import_lines: list[str] = []
    for line in [*(line for f in functions for line in f.imports), *imports]:
        if line not in import_lines:
            import_lines.append(line)
    lines = [f'"""{header}"""', ""] if header else []
    if import_lines:
        lines += [*import_lines, "", ""]
    for helper in dict.fromkeys(h for f in functions for h in f.helpers):
        lines += [helper, "", ""]
    return "\n".join(lines) + ("\n" if lines else "") + "\n\n\n".join(f.function for f in functions) + "\n"


def compile_generated(generated: Generated, namespace: dict[str, object], label: str) -> object:
    """Compile generated source into a function whose lines `inspect.getsource`, debuggers and tracebacks show.

    The source is written to a file of this process's own directory (see
    `_source_directory`) and compiled under that file's name. It has to be a
    file: Python 3.10-3.12 print the source lines of an uncaught exception's
    traceback by opening the file a code object names (only 3.13 asks
    `linecache`), and debuggers open it too. The lines are also registered in
    `linecache`, with no modification time so that `linecache.checkcache`
    keeps them. Where no file can be written, the name is `<s2s_ad label
    digest>`, known to `linecache` only.
    """
    import hashlib  # here, not at import time: `import s2s_ad` stays cheap

    digest = hashlib.sha1(generated.source.encode()).hexdigest()[:10]
    filename = _source_file(f"{label}_{digest}", generated.source) or f"<s2s_ad {label} {digest}>"
    linecache.cache[filename] = (len(generated.source), None, generated.source.splitlines(True), filename)
    code = compile(generated.source, filename, "exec")
    namespace = {"math": math, "__name__": f"s2s_ad.generated.{generated.name}", **namespace}
    exec(code, namespace)  # noqa: S102 - our own generated code
    return namespace[generated.name]


_SOURCE_DIRECTORY: list[str | None] = []  # made once per process: [path], or [None] where none could be made


def _source_file(stem: str, source: str) -> str | None:
    """Write `source` as `<stem>.py` into this process's directory of generated code; its path, or None."""
    directory = _source_directory()
    if directory is None:
        return None
    safe = "".join(c if c.isalnum() or c in "._-" else "_" for c in stem)
    path = os.path.join(directory, (safe if len(safe) <= 120 else safe[:60] + "_" + safe[-59:]) + ".py")
    if not os.path.exists(path):  # the digest in the name says what it holds
        try:
            temporary = f"{path}.{os.getpid()}.tmp"
            with open(temporary, "w", encoding="utf-8") as handle:
                handle.write(source)
            os.replace(temporary, path)
        except OSError:
            return None
    return path


def _source_directory() -> str | None:
    """A directory of this process's own for generated source, removed when the process exits.

    Made with `os.mkdir` (mode 0o700, so it cannot be one somebody else made)
    under the first of `$TMPDIR`, `$TEMP`, `$TMP`, the system's temporary
    directories, that takes it; None if none does. A forked child leaves it
    to the process that made it.
    """
    if _SOURCE_DIRECTORY:
        return _SOURCE_DIRECTORY[0]
    import atexit

    bases = [os.environ.get(name) for name in ("TMPDIR", "TEMP", "TMP")]
    bases += [r"C:\TEMP", r"C:\TMP"] if os.name == "nt" else ["/tmp", "/var/tmp", "/usr/tmp"]
    made = None
    for base in filter(None, bases):
        try:
            made = os.path.join(base, f"s2s_ad-{os.getpid()}-{os.urandom(4).hex()}")
            os.mkdir(made, 0o700)
            break
        except OSError:
            made = None
    _SOURCE_DIRECTORY.append(made)
    if made is not None:
        atexit.register(_remove_directory, made, os.getpid())
    return made


def _remove_directory(directory: str, owner: int) -> None:
    if os.getpid() != owner:
        return
    try:
        for name in os.listdir(directory):
            os.remove(os.path.join(directory, name))
        os.rmdir(directory)
    except OSError:
        pass
