"""Where sigbench talks to people: one rich console on **stderr**, and the quiet switch.

Tables, progress and warnings go to stderr so that ``--json`` output is alone on stdout. ``NO_COLOR``
and a non-TTY stderr turn colours off (rich honours both). ``set_quiet(True)`` (``--quiet``/``--json``)
silences progress displays.
"""

from __future__ import annotations

import os
from functools import lru_cache

from rich.console import Console
from rich.markup import escape

__all__ = ["escape", "get_console", "is_quiet", "set_quiet"]

_QUIET = False


@lru_cache(maxsize=1)
def get_console() -> Console:
    """The stderr console (created once)."""
    import sys

    width = None
    if not os.environ.get("COLUMNS") and not sys.stderr.isatty():
        width = 160  # logs and CI: wide enough for the leaderboard without wrapping every cell
    return Console(stderr=True, no_color=bool(os.environ.get("NO_COLOR")) or None, highlight=False, width=width)


def set_quiet(quiet: bool) -> None:
    """Silence (or re-enable) progress output."""
    global _QUIET
    _QUIET = bool(quiet)


def is_quiet() -> bool:
    """True under ``--quiet``/``--json`` or ``SIGBENCH_QUIET=1``."""
    return _QUIET or os.environ.get("SIGBENCH_QUIET", "") not in ("", "0")
