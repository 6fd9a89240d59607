"""``json.dumps(default=…)`` helpers shared by the file writers: NumPy values become plain JSON."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

__all__ = ["json_default", "json_default_strict"]


def json_default_strict(value: Any) -> Any:
    """NumPy scalars and arrays, tuples and sets as JSON values (NaN scalars as ``null``); else ``TypeError``."""
    if isinstance(value, np.generic):
        item = value.item()
        return None if isinstance(item, float) and math.isnan(item) else item
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, (tuple, set, frozenset)):
        return list(value)
    raise TypeError(f"not JSON-serialisable: {type(value).__name__}")


def json_default(value: Any) -> Any:
    """As :func:`json_default_strict`, but anything else is written as its ``str`` (metadata, records)."""
    try:
        return json_default_strict(value)
    except TypeError:
        return str(value)
