"""``json.dumps(default=…)`` helpers shared by the file writers: NumPy values become plain JSON."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

__all__ = ["MAX_JSON_DEPTH", "json_default", "json_default_strict", "loads_untrusted"]


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


#: deepest nesting of JSON read from a file (deeper documents are refused, not recursed into)
MAX_JSON_DEPTH = 64


def _clean_text(text: str) -> str:
    """``text`` with lone surrogates (invalid UTF-8 smuggled in as ``\\udcxx`` escapes) replaced by U+FFFD."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "".join("\ufffd" if 0xD800 <= ord(c) <= 0xDFFF else c for c in text)
    return text


def _clean_tree(value: Any, depth: int = 0) -> Any:
    if depth > MAX_JSON_DEPTH:
        raise ValueError(f"nested deeper than {MAX_JSON_DEPTH} levels")
    if isinstance(value, str):
        return _clean_text(value)
    if isinstance(value, list):
        return [_clean_tree(v, depth + 1) for v in value]
    if isinstance(value, dict):
        return {_clean_text(str(k)): _clean_tree(v, depth + 1) for k, v in value.items()}
    return value


def loads_untrusted(raw: Any) -> Any:
    """Parse JSON read from a file: bytes decoded as UTF-8 (invalid bytes become U+FFFD), lone surrogates
    replaced, nesting limited to :data:`MAX_JSON_DEPTH` levels.

    Raises
    ------
    ValueError
        Not JSON, or nested too deeply (also when the parser itself would recurse too deep); the message is
        one line.
    """
    if isinstance(raw, np.ndarray) and raw.shape == ():
        raw = raw.item()
    if isinstance(raw, (bytes, bytearray, np.bytes_)):
        raw = bytes(raw).decode("utf-8", errors="replace")
    if not isinstance(raw, str):
        raise ValueError(f"expected JSON text; received {type(raw).__name__}")
    import json

    try:
        value = json.loads(raw)
    except RecursionError:
        raise ValueError(f"nested deeper than {MAX_JSON_DEPTH} levels") from None
    except json.JSONDecodeError as exc:
        raise ValueError(f"not valid JSON ({exc})") from None
    return _clean_tree(value)
