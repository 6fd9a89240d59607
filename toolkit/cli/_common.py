"""Helpers shared by the CLI command modules: JSON output, debug switch, table styling."""

from __future__ import annotations

import math
import os
import sys
from typing import Any

from sigbench.console import escape, get_console

__all__ = ["debug_enabled", "emit_json", "escape", "fmt", "get_console", "interrupt_message", "set_debug",
           "set_resumable"]

_DEBUG = False
#: None: the command runs no methods; True/False: it does, with/without an output file to resume from
_RESUMABLE: bool | None = None


def set_resumable(resumable: bool | None) -> None:
    """Whether the running command keeps finished methods in an output file that ``--resume`` continues
    (``None``: a command that runs no methods); chooses the Ctrl-C message."""
    global _RESUMABLE
    _RESUMABLE = resumable


def interrupt_message(resumable: bool | None = None) -> str:
    """What Ctrl-C prints (``resumable`` default: what the running command said, see :func:`set_resumable`):
    the ``--resume`` hint when finished work is kept in an output file."""
    resumable = _RESUMABLE if resumable is None else resumable
    if resumable is None:
        return "Interrupted."
    if resumable:
        return ("Interrupted. Every finished method is kept in the output file; rerun the same command with "
                "--resume to run only the rest.")
    return "Interrupted. Nothing was kept (no output file); give -o FILE to keep finished methods and --resume later."


def set_debug(on: bool) -> None:
    """``--debug``: show full tracebacks."""
    global _DEBUG
    _DEBUG = on


def debug_enabled() -> bool:
    """True with ``--debug``, ``SIGBENCH_DEBUG=1`` or under tests."""
    return _DEBUG or os.environ.get("SIGBENCH_DEBUG", "") not in ("", "0")


def emit_json(obj: Any) -> None:
    """Print ``obj`` as strict JSON on stdout, alone (non-finite floats become ``null``, flagged under
    ``non_finite``: see :mod:`sigbench._json`)."""
    from sigbench._json import dumps  # imports NumPy: not at `--help` time

    sys.stdout.write(dumps(obj, indent=2) + "\n")
    sys.stdout.flush()


def fmt(value: Any, digits: int = 2) -> str:
    """Format a number for a table (``—`` for missing/non-finite)."""
    if value is None:
        return "—"
    if isinstance(value, float):
        if not math.isfinite(value):
            return "—"
        if value != 0 and (abs(value) >= 1e6 or abs(value) < 10 ** (-digits)):
            return f"{value:.{digits}e}"
        return f"{value:.{digits}f}"
    return escape(str(value))
