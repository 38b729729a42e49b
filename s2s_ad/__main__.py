"""`python -m s2s_ad`: the `s2s-ad` command (see `s2s_ad.cli`)."""

from __future__ import annotations

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main(prog="python -m s2s_ad"))
