"""Opt-in loading of a *foreign* Keras model file (``--trust-model``), fenced as far as sigbench can.

sigbench's own models never go through here: they are rebuilt in code from sigbench's JSON record and
only their weights are read (see :mod:`sigbench.plugins.neural._base`). A ``.keras`` file made
elsewhere holds a Keras configuration, and deserialising a configuration has been a code-execution
route again and again (CVE-2024-3660 Lambda bytecode, CVE-2025-1550 arbitrary module functions,
CVE-2025-8747/-9906 re-enabling unsafe mode, CVE-2025-12058/CVE-2026-1462 file-reading layers). So:

1. nothing is loaded without ``trust=True``;
2. legacy full-model HDF5 files (``.h5``/``.hdf5``) are refused outright — Keras has no safe mode for
   them (CVE-2025-9905);
3. only ``.keras`` archives are accepted, and only if they are real ZIP files without absolute or
   ``..`` member names, without oversized or over-compressed members (ZIP bombs), with a
   ``config.json`` that names no ``Lambda``/``TFSMLayer``/``StringLookup``-with-a-path layer and
   no module outside ``keras``;
4. then ``keras.saving.load_model(path, safe_mode=True, compile=False)`` does the rest, with
   Keras's own checks (sigbench requires Keras ≥ 3.13, which carries the known safe-mode fixes).
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

from sigbench.errors import FileFormatError, UnsafeFileError
from sigbench.plugins.neural._backend import import_keras

__all__ = ["MAX_MEMBER_BYTES", "MAX_RATIO", "load_foreign_keras_model"]

#: largest uncompressed size accepted for one archive member, and in total
MAX_MEMBER_BYTES = 2 << 30
#: largest compression ratio accepted for a member bigger than 1 MiB
MAX_RATIO = 200
_REFUSED_CLASSES = ("Lambda", "TFSMLayer")
#: Keras functions that are not model building blocks: a config naming one is refused by sigbench itself,
#: not left to Keras's safe mode (CVE-2025-9906, CVE-2025-8747)
_NON_MODELLING_APIS = ("enable_unsafe_" + "deserialization", "get_file", "load_model", "load_weights", "save_model",
                       "register_keras_serializable", "deserialize_keras_object")


def _walk(node: Any) -> Any:
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from _walk(value)


def _check_config(config: Any, path: Path) -> None:
    for node in _walk(config):
        cls = node.get("class_name")
        if cls in _REFUSED_CLASSES:
            raise UnsafeFileError(f"refusing {path}: its config holds a {cls} layer (it can run code or read files)")
        if cls == "StringLookup" and isinstance(node.get("config"), dict) \
                and isinstance(node["config"].get("vocabulary"), str):
            raise UnsafeFileError(f"refusing {path}: a StringLookup layer reads its vocabulary from a file path")
        named = [v for v in (cls, node.get("registered_name"), node.get("config")) if isinstance(v, str)]
        calls = [v for v in named if v in _NON_MODELLING_APIS]
        if calls:
            raise UnsafeFileError(f"refusing {path}: its config calls a non-modelling Keras API ({calls[0]})")
        module = node.get("module")
        if isinstance(module, str) and module.split(".")[0] != "keras":
            raise UnsafeFileError(f"refusing {path}: its config names module {module!r} (only keras.* is allowed)")


def _check_archive(path: Path) -> None:
    if not zipfile.is_zipfile(path):
        raise FileFormatError(f"not a .keras archive (not a zip file): {path}")
    total = 0
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        for info in archive.infolist():
            name = info.filename
            if name.startswith(("/", "\\")) or ".." in Path(name).parts:
                raise UnsafeFileError(f"refusing {path}: archive member {name!r} escapes the archive")
            total += info.file_size
            ratio = info.file_size / max(info.compress_size, 1)
            if info.file_size > MAX_MEMBER_BYTES or total > MAX_MEMBER_BYTES or (
                    info.file_size > (1 << 20) and ratio > MAX_RATIO):
                raise UnsafeFileError(
                    f"refusing {path}: member {name!r} expands to {info.file_size} bytes "
                    f"(ratio {ratio:.0f}): a ZIP bomb"
                )
        if "config.json" not in names:
            raise FileFormatError(f"not a .keras archive (no config.json): {path}")
        with archive.open("config.json") as handle:
            raw = handle.read(64 << 20)
    try:
        config = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise FileFormatError(f"corrupt config.json in {path}: {exc}") from None
    _check_config(config, path)


def load_foreign_keras_model(path: str | Path, *, trust: bool) -> Any:
    """Load a Keras model from a ``.keras`` file made outside sigbench — only when trusted.

    Parameters
    ----------
    path : str or Path
        A ``.keras`` archive.
    trust : bool
        The user's explicit opt-in (``--trust-model``). Without it nothing is read.

    Returns
    -------
    keras.Model
        Loaded with ``safe_mode=True`` and ``compile=False``.

    Raises
    ------
    UnsafeFileError
        Not trusted; a legacy ``.h5``/``.hdf5`` full model; a ZIP bomb or escaping member name; a
        config naming a Lambda, TFSMLayer, path-reading StringLookup or a non-Keras module.
    FileFormatError
        Missing file, unknown extension, a ``.keras`` file that is not a ZIP archive or has no
        ``config.json``, or Keras refusing the file.
    """
    path = Path(path)
    if not trust:
        raise UnsafeFileError(
            f"refusing to load a foreign Keras model without explicit trust (--trust-model): {path}"
        )
    suffix = path.suffix.lower()
    if suffix in (".h5", ".hdf5"):
        raise UnsafeFileError(
            f"refusing legacy HDF5 full-model file {path}: it can run code when loaded; "
            f"re-save it as .keras, or load only weights into a sigbench model"
        )
    if suffix != ".keras":
        raise FileFormatError(f"unsupported model file extension {suffix or '(none)'!r}: {path} (expected .keras)")
    if not path.is_file():
        raise FileFormatError(f"no such model file: {path}")
    _check_archive(path)
    keras = import_keras()
    try:
        return keras.saving.load_model(path, safe_mode=True, compile=False)
    except (ValueError, TypeError, KeyError, OSError) as exc:
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise FileFormatError(f"Keras refused {path}: {message}") from None
