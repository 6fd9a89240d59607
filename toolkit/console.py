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

__all__ = ["CellProgress", "escape", "get_console", "is_quiet", "set_quiet"]

_QUIET = False
#: C0 controls but tab (newline included: a name must not start a line of its own), DEL and C1 controls:
#: ESC/CSI/OSC sequences, BEL, carriage return …
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f-\x9f]")
#: bidirectional controls (U+202E "right-to-left override" makes ``exe.txt`` read ``txt.exe``), zero-width
#: marks and the line/paragraph separators
_INVISIBLE = re.compile("[\u061c\u200b-\u200f\u2028-\u202e\u2066-\u2069\ufeff]")


def escape(text: Any) -> str:
    """Make text that came from a file, a plugin or an error message safe to hand to rich: console markup
    is escaped (``[bold]`` prints as typed), control characters (newlines included) are shown as ``\\xNN``
    and bidirectional or invisible format characters as ``\\uNNNN``, so a file cannot colour, hide, reorder,
    retitle or rewrite the user's terminal, nor print a line that looks like sigbench's own."""
    text = _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", str(text))
    return _escape_markup(_INVISIBLE.sub(lambda m: f"\\u{ord(m.group()):04x}", text))


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


class CellProgress:
    """Cells done / running / failed of a comparison or sweep run on an executor.

    On a terminal (and not quiet) a transient rich bar shows ``done/total``, how many cells are running
    (at most ``slots``, the executor's parallel workers) and how many failed; elsewhere it shows nothing
    (the runner prints one line per finished cell). The counters are kept either way.
    """

    def __init__(self, total: int, slots: int = 1) -> None:
        self.total, self.slots = int(total), max(1, int(slots))
        self.done = 0
        self.failed = 0
        self._progress: Any = None
        self._task: Any = None

    @property
    def running(self) -> int:
        """Cells in flight: every slot busy while enough cells remain."""
        return min(self.slots, self.total - self.done)

    def __enter__(self) -> CellProgress:
        console = get_console()
        if self.total and not is_quiet() and console.is_terminal:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

            self._progress = Progress(TextColumn("cells"), BarColumn(), MofNCompleteColumn(),
                                      TextColumn("running {task.fields[running]} · failed {task.fields[failed]}"),
                                      TimeElapsedColumn(), console=console, transient=True)
            self._progress.start()
            self._task = self._progress.add_task("cells", total=self.total, running=self.running, failed=0)
        return self

    def advance(self, failed: bool = False) -> None:
        """One more cell finished (``failed``: as a failed cell)."""
        self.done += 1
        self.failed += int(bool(failed))
        if self._progress is not None:
            self._progress.update(self._task, completed=self.done, running=self.running, failed=self.failed)

    def __exit__(self, *exc: object) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None
