"""The `s2s-ad` command line (reserved; see `main`)."""

from __future__ import annotations

import sys
from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    print("s2s-ad: the command line is not available yet", file=sys.stderr)
    return 2
