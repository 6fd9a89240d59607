"""``python -m sigbench``: the same command line as the ``sigbench`` script."""

from __future__ import annotations

from sigbench.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
