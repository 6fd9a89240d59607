"""Helpers shared by the CLI command modules: JSON output, debug switch, table styling."""

from __future__ import annotations

import json
import math
import os
import sys
from typing import Any

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


def _clean(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    if hasattr(value, "item") and callable(value.item) and getattr(value, "shape", None) == ():
        return _clean(value.item())
    return value


def emit_json(obj: Any) -> None:
    """Print ``obj`` as JSON on stdout, alone (non-finite floats become ``null``)."""
    sys.stdout.write(json.dumps(_clean(obj), indent=2, default=str) + "\n")
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
