"""Where sigbench talks to people: one rich console on **stderr**, and the quiet switch.

Tables, progress and warnings go to stderr so that ``--json`` output is alone on stdout. ``NO_COLOR``
and a non-TTY stderr turn colours off (rich honours both). ``set_quiet(True)`` (``--quiet``/``--json``)
silences progress displays.
"""

from __future__ import annotations

import os
import re
from functools import lru_cache
from typing import Any

from rich.console import Console
from rich.markup import escape as _escape_markup

__all__ = ["escape", "get_console", "is_quiet", "set_quiet"]

_QUIET = False
#: C0 controls but tab and newline, DEL and C1 controls: ESC/CSI/OSC sequences, BEL, carriage return …
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def escape(text: Any) -> str:
    """Make text that came from a file, a plugin or an error message safe to hand to rich: console markup
    is escaped (``[bold]`` prints as typed) and control characters are shown as ``\\xNN``, so a file cannot
    colour, hide, retitle or rewrite the user's terminal."""
    return _escape_markup(_CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", str(text)))


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
