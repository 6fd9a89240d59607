"""Helpers shared by the CLI command modules: JSON output, debug switch, table styling."""

from __future__ import annotations

import math
import os
import sys
from typing import Any

from sigbench._json import dumps
from sigbench.console import escape, get_console

__all__ = ["debug_enabled", "emit_json", "escape", "fmt", "get_console", "set_debug"]

_DEBUG = False


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
