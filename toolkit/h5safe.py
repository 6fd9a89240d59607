r"""Opening HDF5 files safely: the checks that run before sigbench reads any data.

Every object reachable from the root is checked — only hard links (no soft or external links), no
external raw storage, no virtual datasets, no shape bombs (a huge declared size with almost no stored
bytes), no missing compression filter, no oversized attribute — and the usual failures of opening a
file (not HDF5, truncated, locked, left flagged by a crashed writer) become one-line
:class:`~sigbench.errors.FileFormatError`\ s. :mod:`sigbench.h5` builds the format on top of these.
"""

from __future__ import annotations

import contextlib
import math
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from sigbench._version import __version__
from sigbench.errors import FileFormatError, SigbenchError, UnsafeFileError, ValidationError

__all__ = [
    "BOMB_FLOOR_BYTES",
    "BOMB_RATIO",
    "CHUNK_SAMPLES",
    "FORMAT_VERSION",
    "MAX_ATTR_BYTES",
    "MAX_DECLARED_BYTES",
    "check_dataset",
    "check_tree",
    "memory_budget_bytes",
    "open_file",
    "open_sigbench",
    "parse_bytes",
    "safe_open",
]

FORMAT_VERSION = 1
#: a declared dataset larger than this with a tiny stored size is a shape bomb
BOMB_FLOOR_BYTES = 64 * 2**20
#: declared size / stored size above which a large dataset is refused
BOMB_RATIO = 1000.0
#: largest attribute sigbench reads
MAX_ATTR_BYTES = 1 * 2**20
#: datasets larger than this are refused outright (1 TiB)
MAX_DECLARED_BYTES = 2**40
CHUNK_SAMPLES = 65536


def memory_budget_bytes() -> int:
    """Bytes a whole-signal read may use: ``SIGBENCH_MEMORY_BUDGET`` (bytes, or with K/M/G suffix), else half
    of the available memory (``psutil.virtual_memory().available`` when psutil is installed, on every
    platform; else ``MemAvailable`` of ``/proc/meminfo`` on Linux; else 4 GiB)."""
    raw = os.environ.get("SIGBENCH_MEMORY_BUDGET", "").strip()
    if raw:
        return parse_bytes(raw)
    try:
        import psutil
    except ImportError:
        pass
    else:
        try:
            return int(psutil.virtual_memory().available) // 2
        except (OSError, RuntimeError, AttributeError):  # a platform psutil cannot read: fall through
            pass
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024 // 2
    except OSError:
        pass
    return 4 * 2**30


def parse_bytes(text: str) -> int:
    """Parse ``"500M"``, ``"2G"``, ``"123456"`` into bytes."""
    units = {"K": 2**10, "M": 2**20, "G": 2**30, "T": 2**40}
    t = text.strip().upper().removesuffix("B").removesuffix("I")
    mult = 1
    if t and t[-1] in units:
        mult = units[t[-1]]
        t = t[:-1]
    try:
        value = float(t)
    except ValueError:
        raise ValidationError(f"expected a size like 500M or 2G; received: {text!r}") from None
    if not math.isfinite(value) or value <= 0:
        raise ValidationError(f"expected a positive size; received: {text!r}")
    return int(value * mult)


# -- opening -----------------------------------------------------------------------------------
def _map_open_error(path: Path, exc: OSError) -> FileFormatError:
    msg = str(exc)
    low = msg.lower()
    if "truncated" in low:  # checked first: HDF5's truncation message names "sblock" (the superblock)
        return FileFormatError(f"truncated or corrupted HDF5 file: {path}; get a fresh copy of it")
    if "lock file" in low or "file locking" in low or "unable to lock" in low or "resource temporarily" in low:
        return FileFormatError(
            f"{path} is locked by another process (or this file system has no locks); "
            "close the other program, or set HDF5_USE_FILE_LOCKING=FALSE on file systems without locking"
        )
    if "already open for write" in low or "consistency flag" in low or "h5clear" in low:
        return FileFormatError(
            f"{path} is marked as still open by a writer that did not close it (a crash?); if nothing is writing "
            f"it, clear the mark with `h5clear -s {path}` — that only clears the flag and does not repair data"
        )
    if "truncated" in low or "eof" in low or "signature" in low or "bad object header" in low or "corrupt" in low:
        return FileFormatError(f"truncated or corrupted HDF5 file: {path}; get a fresh copy of it")
    return FileFormatError(f"cannot open {path} as HDF5: {msg.splitlines()[0] if msg else type(exc).__name__}")


def safe_open(path: str | os.PathLike[str]) -> h5py.File:
    """Open an HDF5 file read-only, with one-line errors for the usual failures.

    Raises
    ------
    FileFormatError
        Missing, a directory, not HDF5, truncated or corrupted, locked, or left flagged by a crashed writer.
    """
    p = Path(path)
    if not p.exists():
        raise FileFormatError(f"no such file: {p}")
    if p.is_dir():
        raise FileFormatError(f"is a directory, not a file: {p}")
    if not p.is_file():  # a FIFO or a device: opening it could block forever, reading it never end
        raise FileFormatError(f"not a regular file: {p} (a pipe, device or socket); pipe data in with '-'")
    try:
        with open(p, "rb") as fh:
            head = fh.read(8)
    except OSError as exc:
        raise FileFormatError(f"cannot read {p}: {exc.strerror or exc}") from None
    if head != b"\x89HDF\r\n\x1a\n":
        try:
            is_hdf5 = h5py.is_hdf5(str(p))  # the signature may sit at 512, 1024, … (user block)
        except OSError:
            is_hdf5 = False
        if not is_hdf5:
            if p.stat().st_size < 8 and p.stat().st_size > 0 and b"\x89HDF".startswith(head[:4]):
                raise FileFormatError(f"truncated or corrupted HDF5 file: {p}; get a fresh copy of it")
            raise FileFormatError(f"not an HDF5 file: {p}")
    try:
        return h5py.File(p, "r")
    except OSError as exc:
        raise _map_open_error(p, exc) from None


def _payload_bytes(value: Any) -> int:
    """Bytes held by a read variable-length attribute value (strings encoded as UTF-8)."""
    if isinstance(value, (bytes, str)):
        return len(value.encode("utf-8", errors="surrogateescape") if isinstance(value, str) else value)
    if isinstance(value, np.ndarray):
        if value.dtype == object:
            return sum(_payload_bytes(v) for v in value.flat)
        return int(value.nbytes)
    return 16


def _is_variable(tid: Any) -> bool:
    return (isinstance(tid, h5py.h5t.TypeStringID) and bool(tid.is_variable_str())) or \
        tid.get_class() == h5py.h5t.VLEN


def _check_attrs(obj: h5py.HLObject, where: str) -> None:
    for name in obj.attrs:
        try:
            aid = h5py.h5a.open(obj.id, name.encode() if isinstance(name, str) else name)
            size = aid.get_storage_size()
            if size <= MAX_ATTR_BYTES and _is_variable(aid.get_type()):
                # the storage size of a variable-length value is its heap references (16 bytes each), not its
                # bytes: read it (its size is bounded by the file's) and measure what it holds
                size = max(size, _payload_bytes(obj.attrs[name]))
        except Exception as exc:  # h5py raises KeyError/OSError for damaged attributes
            raise FileFormatError(f"unreadable attribute {name!r} on {where}: {exc}") from None
        if size > MAX_ATTR_BYTES:
            raise UnsafeFileError(f"attribute {name!r} on {where} is {size} bytes (limit {MAX_ATTR_BYTES}); refused")


def check_dataset(ds: h5py.Dataset, *, budget_bytes: int | None = None, check_filters: bool = True) -> None:
    """Refuse a dataset sigbench must not read: external storage, virtual, shape bomb, missing filter.

    Parameters
    ----------
    ds : h5py.Dataset
    budget_bytes : int, optional
        If given, a dataset larger than this is refused for whole reads (stream it instead).
    check_filters : bool, default True
        Refuse a compression filter that is not installed. :func:`check_tree` passes False so that a file
        with one such dataset still opens (``info`` reports it per signal); reading the dataset refuses it.

    Raises
    ------
    UnsafeFileError
        External raw storage, a virtual dataset, or a declared size out of proportion to the stored bytes.
    FileFormatError
        A compression filter that is not installed (the message names the dataset and the filter).
    """
    name = ds.name
    if ds.is_virtual:
        raise UnsafeFileError(f"dataset {name} is a virtual dataset (it maps other files); refused")
    plist = ds.id.get_create_plist()
    if plist.get_external_count() > 0:
        raise UnsafeFileError(f"dataset {name} keeps its data in an external raw file; refused")
    for i in range(plist.get_nfilters() if check_filters else 0):
        code, _flags, _vals, fname = plist.get_filter(i)
        if not h5py.h5z.filter_avail(code):
            label = fname.decode(errors="replace") if isinstance(fname, bytes) else str(fname)
            raise FileFormatError(
                f"dataset {name} is compressed with HDF5 filter {label!r} (id {code}), which is not installed; "
                "install the filter plugin (e.g. hdf5plugin) and retry"
            )
    shape = ds.shape or ()
    declared = int(np.prod(shape, dtype=np.float64) * ds.dtype.itemsize) if shape else ds.dtype.itemsize
    if declared > MAX_DECLARED_BYTES:
        raise UnsafeFileError(f"dataset {name} declares {declared} bytes (shape {shape}); refused")
    if declared > BOMB_FLOOR_BYTES:  # every layout: chunked, contiguous (allocated late or never), compact
        stored = int(ds.id.get_storage_size())
        if declared > BOMB_RATIO * max(stored, 1):
            raise UnsafeFileError(
                f"dataset {name} declares {declared} bytes but stores only {stored} (shape {shape}); "
                "refused as a decompression/shape bomb"
            )
        if ds.chunks is None and stored > _file_bytes(ds):
            raise UnsafeFileError(
                f"dataset {name} declares {stored} contiguous bytes, more than its file holds; refused"
            )
    if budget_bytes is not None and declared > budget_bytes:
        raise FileFormatError(
            f"dataset {name} is {declared / 2**20:.0f} MiB, over the memory budget of {budget_bytes / 2**20:.0f} MiB; "
            "stream it with open_signal() or raise SIGBENCH_MEMORY_BUDGET"
        )


def _file_bytes(ds: h5py.Dataset) -> int:
    """Size of the file holding ``ds`` (its driver's end of file)."""
    try:
        return int(ds.file.id.get_filesize())
    except Exception:  # a driver without a size: do not refuse on this ground
        return 2**62


def _utf8_name(key: Any) -> bool:
    if not isinstance(key, str):
        return False
    try:
        key.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def check_tree(group: h5py.Group, *, check_datasets: bool = True) -> None:
    """Walk every link under ``group`` without following any but hard links; check each object.

    Raises
    ------
    UnsafeFileError
        A soft link, an external link, or an unsafe dataset.
    """
    _check_attrs(group, group.name or "/")
    stack = [group]
    seen: set[Any] = set()
    while stack:
        g = stack.pop()
        for key in g:
            if not _utf8_name(key):  # h5py lists such a name as bytes, then cannot look it up
                raise FileFormatError(f"{g.name}: holds an object whose name is not valid UTF-8 ({key!r}); refused")
            link = g.get(key, getlink=True)
            where = f"{g.name.rstrip('/')}/{key}"
            if isinstance(link, h5py.ExternalLink):
                raise UnsafeFileError(f"{where} is an external link to {link.filename}:{link.path}; refused")
            if isinstance(link, h5py.SoftLink):
                raise UnsafeFileError(f"{where} is a soft link to {link.path}; refused")
            if not isinstance(link, h5py.HardLink):
                raise UnsafeFileError(f"{where} is a user-defined link; refused")
            obj = g.get(key)
            if obj is None:
                raise FileFormatError(f"{where} cannot be opened (damaged file?)")
            addr = obj.id.__hash__()
            if addr in seen:
                continue
            seen.add(addr)
            _check_attrs(obj, where)
            if isinstance(obj, h5py.Group):
                stack.append(obj)
            elif isinstance(obj, h5py.Dataset) and check_datasets:
                check_dataset(obj, check_filters=False)  # a missing filter fails the read, not the open


def open_sigbench(path: str | os.PathLike[str]) -> h5py.File:
    """Open a sigbench file read-only and check its version and whole tree; the caller closes it."""
    f = safe_open(path)
    try:
        version = f.attrs.get("sigbench_format")
        if version is None:
            raise FileFormatError(f"{path} is an HDF5 file but not a sigbench file (no sigbench_format attribute); "
                                  "bring foreign data in with `sigbench import`")
        raw = np.asarray(version)
        if raw.shape != () or raw.dtype.kind not in "iu":  # 1.5, True, "1", [1] are not format 1
            shown = raw.item() if raw.shape == () and raw.dtype.kind != "O" else version
            raise FileFormatError(f"{path}: expected sigbench_format to be an integer ({FORMAT_VERSION}); "
                                  f"received: {shown!r} ({raw.dtype})")
        v = int(raw.item())
        if v != FORMAT_VERSION:
            raise FileFormatError(
                f"{path} uses sigbench file format {v}; this sigbench ({__version__}) reads format {FORMAT_VERSION}"
            )
        check_tree(f)
    except SigbenchError:
        f.close()
        raise
    except (OSError, KeyError, RuntimeError, ValueError) as exc:  # h5py errors inside a damaged file
        f.close()
        raise FileFormatError(f"truncated or corrupted HDF5 file: {path}; get a fresh copy of it ({exc})") from None
    except BaseException:
        f.close()
        raise
    return f


@contextlib.contextmanager
def open_file(path: str | os.PathLike[str]) -> Iterator[h5py.File]:
    """Open and fully check a sigbench file read-only (context manager)."""
    f = open_sigbench(path)
    try:
        yield f
    except OSError as exc:
        raise FileFormatError(f"truncated or corrupted HDF5 file: {path}; get a fresh copy of it ({exc})") from None
    finally:
        f.close()
