"""The one JSON encoder of sigbench: every JSON string it writes is strict JSON (RFC 8259).

Python's ``json.dumps`` writes ``NaN``, ``Infinity`` and ``-Infinity`` for non-finite floats, which is
not JSON: JavaScript's ``JSON.parse`` rejects the document and jq 1.6 reads ``Infinity`` as 1.797e308.
:func:`dumps` writes each non-finite float as ``null`` and, when the document is an object, lists
where it did so under the key ``"non_finite"``: a JSON-pointer path (RFC 6901) per value, mapped to
``"nan"``, ``"inf"`` or ``"-inf"``. :func:`loads` puts the values back, so a round trip is exact,
and also reads older files that hold the non-standard tokens.

>>> from sigbench._json import dumps, loads
>>> dumps({"snr_db": float("inf"), "mse": 0.5})
'{"snr_db": null, "mse": 0.5, "non_finite": {"/snr_db": "inf"}}'
>>> loads(dumps({"snr_db": float("inf")}))
{'snr_db': inf}
"""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np

__all__ = ["MAX_JSON_DEPTH", "NON_FINITE_KEY", "dumps", "json_default", "json_default_strict", "loads",
           "loads_untrusted", "to_json_value"]

#: the key of a document's map of non-finite values written as ``null``
NON_FINITE_KEY = "non_finite"

_NAMES = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}


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
    return restore_non_finite(_clean_tree(value))


def _pointer(path: str, key: Any) -> str:
    return f"{path}/{str(key).replace('~', '~0').replace('/', '~1')}"


def to_json_value(value: Any, *, lenient: bool = True, found: dict[str, str] | None = None, path: str = "") -> Any:
    """``value`` as plain JSON data: non-finite floats become ``None`` (recorded in ``found`` by path).

    Parameters
    ----------
    value : Any
        Dicts, lists, tuples, sets, str, int, float, bool, None, NumPy scalars and arrays.
    lenient : bool, default True
        Anything else is written as its ``str``; with ``False`` it raises ``TypeError``.
    found : dict, optional
        Receives ``{json_pointer: "nan" | "inf" | "-inf"}`` for every non-finite float replaced.
    path : str
        JSON pointer of ``value`` inside the document (for ``found``).
    """
    if value is None or isinstance(value, (bool, str, int)):
        return value
    if isinstance(value, float) or isinstance(value, np.floating):
        f = float(value)
        if math.isfinite(f):
            return f
        if found is not None:
            found[path] = "nan" if math.isnan(f) else ("inf" if f > 0 else "-inf")
        return None
    if isinstance(value, np.generic):
        return to_json_value(value.item(), lenient=lenient, found=found, path=path)
    if isinstance(value, dict):
        return {str(k): to_json_value(v, lenient=lenient, found=found, path=_pointer(path, k))
                for k, v in value.items()}
    if isinstance(value, np.ndarray):
        value = value.tolist()
    if isinstance(value, (list, tuple)):
        return [to_json_value(v, lenient=lenient, found=found, path=_pointer(path, i)) for i, v in enumerate(value)]
    if isinstance(value, (set, frozenset)):
        return to_json_value(sorted(value, key=str), lenient=lenient, found=found, path=path)
    if lenient:
        return str(value)
    raise TypeError(f"not JSON-serialisable: {type(value).__name__}")


def dumps(obj: Any, *, indent: int | None = None, sort_keys: bool = False, lenient: bool = True,
          flag: bool = True) -> str:
    """Encode ``obj`` as strict JSON; non-finite floats as ``null``, flagged under ``"non_finite"``.

    Parameters
    ----------
    obj : Any
        The document (see :func:`to_json_value` for the types taken).
    indent : int, optional
        As in :func:`json.dumps`.
    sort_keys : bool, default False
        As in :func:`json.dumps`.
    lenient : bool, default True
        Unknown types are written as their ``str``; ``False`` raises ``TypeError`` instead.
    flag : bool, default True
        Add the ``"non_finite"`` map to a top-level object when a value was replaced (a document that
        is not an object only gets the ``null``\\ s).

    Returns
    -------
    str
        A document every JSON parser accepts (``allow_nan=False`` holds).
    """
    found: dict[str, str] = {}
    data = to_json_value(obj, lenient=lenient, found=found)
    if flag and found and isinstance(data, dict):
        data[NON_FINITE_KEY] = found
    return json.dumps(data, indent=indent, sort_keys=sort_keys, allow_nan=False)


def _unescape(token: str) -> str:
    return token.replace("~1", "/").replace("~0", "~")


def _restore(doc: Any, pointer: str, value: float) -> None:
    parts = [_unescape(p) for p in pointer.split("/")[1:]]
    node = doc
    for part in parts[:-1]:
        node = node[int(part)] if isinstance(node, list) else node[part]
    last = parts[-1]
    if isinstance(node, list):
        node[int(last)] = value
    elif isinstance(node, dict) and last in node and node[last] is None:
        node[last] = value


def loads(text: str | bytes) -> Any:
    """Decode a document written by :func:`dumps` (or an older one with ``NaN``/``Infinity`` tokens).

    Values listed under ``"non_finite"`` are put back as ``float('nan')``/``inf``/``-inf`` and the key
    is removed; an entry that does not point at a ``null`` is ignored.

    Raises
    ------
    json.JSONDecodeError, UnicodeDecodeError
        Not JSON.
    """
    return restore_non_finite(json.loads(text))


def restore_non_finite(doc: Any) -> Any:
    """Put back the values listed under ``"non_finite"`` of a decoded document (see :func:`loads`)."""
    if isinstance(doc, dict) and isinstance(doc.get(NON_FINITE_KEY), dict):
        for pointer, name in doc.pop(NON_FINITE_KEY).items():
            if isinstance(pointer, str) and pointer.startswith("/") and name in _NAMES:
                try:
                    _restore(doc, pointer, _NAMES[name])
                except (KeyError, IndexError, ValueError, TypeError):
                    continue  # a tampered map: leave the null
    return doc
