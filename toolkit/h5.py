"""HDF5 file format version 1: reading safely, writing atomically.

Layout (full specification in ``docs/file-format.md``)::

    /                       attrs: sigbench_format=1, created (ISO 8601 UTC), sigbench_version
    /signals/<name>/        attrs: sample_rate_hz, t0_s, units, channel_names (JSON), metadata (JSON)
    /signals/<name>/data    (samples,) or (samples, channels), float, chunked
    /signals/<name>/clean   optional, same shape as data
    /signals/<name>/aux/<k> optional aligned series
    /signals/<name>/time    dimension scale of axis 0: sample index (int64) with CF scale_factor = 1/rate and
                            add_offset = t0_s, units "s" (netCDF/xarray decode it to seconds)
    /signals/<name>/channel dimension scale of axis 1 (2-D signals): the channel names
    /runs/<run_id>/         results of a comparison (see sigbench.results)

Safety: before any data is read, every object reachable from the root is checked by
:mod:`sigbench.h5safe` — only hard links, no external raw storage, no virtual datasets, no shape bombs,
no missing compression filter, no oversized attribute.

Writes never touch an existing file: :func:`atomic_h5` builds the complete new file beside the target
(unique ``O_EXCL`` temp name ``.<target>.<pid>.<random>.tmp``), validates it read-only, fsyncs it and
``os.replace``-s it over the target, keeping the target's mode bits. On any error (including
``KeyboardInterrupt``) the temp file is removed and the target is untouched; a temp left by a writer
killed with SIGKILL is removed by the next write to the same target.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import errno
import math
import os
import re
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from sigbench._json import dumps, loads, loads_untrusted
from sigbench._version import __version__
from sigbench.atomic import _fsync_dir, _mode_for
from sigbench.errors import FileFormatError, ValidationError, WriteError
from sigbench.h5safe import (
    BOMB_FLOOR_BYTES,
    BOMB_RATIO,
    CHUNK_SAMPLES,
    FORMAT_VERSION,
    MAX_ATTR_BYTES,
    MAX_DECLARED_BYTES,
    check_dataset,
    check_tree,
    memory_budget_bytes,
    open_file,
    open_sigbench,
    parse_bytes,
    safe_open,
)
from sigbench.outputs import check_keepable, same_file, take_fresh, writable_target, write_lock
from sigbench.signal import Signal

__all__ = [
    "BOMB_FLOOR_BYTES",
    "BOMB_RATIO",
    "CHUNK_SAMPLES",
    "FORMAT_VERSION",
    "MAX_ATTR_BYTES",
    "MAX_DECLARED_BYTES",
    "SCALE_NAMES",
    "LazySignal",
    "atomic_h5",
    "attach_dimension_scales",
    "check_dataset",
    "check_tree",
    "file_info",
    "hdf5_state_damaged",
    "list_signals",
    "load_signal",
    "memory_budget_bytes",
    "merge_contents",
    "open_file",
    "open_signal",
    "parse_bytes",
    "safe_open",
    "save_signal",
    "write_signal_group",
]


# -- reading signals ---------------------------------------------------------------------------
def _signals_group(f: h5py.File, path: Any) -> h5py.Group:
    g = f.get("signals")
    if not isinstance(g, h5py.Group) or len(g) == 0:
        raise FileFormatError(f"{path} holds no signals")
    return g


def _pick(f: h5py.File, path: Any, name: str | None) -> h5py.Group:
    g = _signals_group(f, path)
    if name is None:
        names = list(g)
        if len(names) > 1:
            raise ValidationError(f"expected --signal NAME, {path} holds several signals: {', '.join(names)}")
        name = names[0]
    if name not in g:
        raise ValidationError(f"expected a signal among {', '.join(g)}; received: signal={name!r}")
    sg = g[name]
    if not isinstance(sg, h5py.Group) or "data" not in sg:
        raise FileFormatError(f"{path}: /signals/{name} has no data dataset")
    return sg


def _attr(sg: h5py.Group, key: str, path: Any, *, required: bool = True, default: Any = None) -> Any:
    if key not in sg.attrs:
        if required:
            raise FileFormatError(f"{path}: signal {sg.name}: missing attribute {key}")
        return default
    try:
        value = sg.attrs[key]
    except OSError as exc:  # a damaged attribute (bit rot in its heap): one line, not an h5py traceback
        raise FileFormatError(f"{path}: signal {sg.name}: cannot read attribute {key}: "
                              f"{str(exc).splitlines()[0]}") from None
    if isinstance(value, bytes):
        value = value.decode("utf-8", errors="replace")
    if isinstance(value, np.ndarray) and value.shape == ():
        value = value.item()
    return value


def _check_numeric(ds: h5py.Dataset, path: Any) -> None:
    kind = ds.dtype.kind
    if kind not in "fiu" or ds.dtype.names is not None:
        raise FileFormatError(f"{path}: {ds.name}: expected a real numeric dtype; received: dtype={ds.dtype}")
    if ds.ndim not in (1, 2):
        raise FileFormatError(f"{path}: {ds.name}: expected shape (samples,) or (samples, channels); "
                              f"received: shape={ds.shape}")
    if ds.shape[0] == 0 or (ds.ndim == 2 and ds.shape[1] == 0):
        raise FileFormatError(f"{path}: {ds.name}: expected at least one sample; received: shape={ds.shape}")


@dataclass
class _Header:
    name: str
    sample_rate_hz: float
    t0_s: float
    units: str
    channel_names: tuple[str, ...]
    metadata: dict[str, Any]
    shape: tuple[int, ...]
    dtype: np.dtype[Any]
    has_clean: bool
    aux: tuple[str, ...]


def _header(sg: h5py.Group, path: Any) -> _Header:
    name = sg.name.rsplit("/", 1)[-1]
    if not isinstance(sg, h5py.Group):
        raise FileFormatError(f"{path}: {sg.name} is not a signal group")
    if "data" not in sg:
        raise FileFormatError(f"{path}: {sg.name} has no data dataset")
    data = sg["data"]
    if not isinstance(data, h5py.Dataset):
        raise FileFormatError(f"{path}: {sg.name}/data is not a dataset")
    _check_numeric(data, path)
    rate = _attr(sg, "sample_rate_hz", path)
    try:
        rate_f = float(rate)
    except (TypeError, ValueError):
        raise FileFormatError(f"{path}: signal {name}: expected sample_rate_hz > 0; received: {rate!r}") from None
    if not math.isfinite(rate_f) or rate_f <= 0:
        raise FileFormatError(f"{path}: signal {name}: expected finite sample_rate_hz > 0; received: {rate_f!r}")
    try:
        names = loads_untrusted(_attr(sg, "channel_names", path, required=False, default="[]"))
        metadata = loads_untrusted(_attr(sg, "metadata", path, required=False, default="{}"))
    except ValueError as exc:
        raise FileFormatError(f"{path}: signal {name}: bad JSON attribute ({exc})") from None
    if not isinstance(names, list):
        raise FileFormatError(f"{path}: signal {name}: expected channel_names to be a JSON list")
    channel_names = tuple(names)
    if not isinstance(metadata, dict):
        raise FileFormatError(f"{path}: signal {name}: expected metadata to be a JSON object")
    has_clean = "clean" in sg
    if has_clean:
        clean = sg["clean"]
        if not isinstance(clean, h5py.Dataset):
            raise FileFormatError(f"{path}: {sg.name}/clean is not a dataset")
        _check_numeric(clean, path)
        if clean.shape != data.shape:
            raise FileFormatError(f"{path}: signal {name}: expected clean of shape {data.shape}; "
                                  f"received: clean.shape={clean.shape}")
    aux: tuple[str, ...] = ()
    if "aux" in sg:
        ag = sg["aux"]
        if not isinstance(ag, h5py.Group):
            raise FileFormatError(f"{path}: {sg.name}/aux is not a group")
        for key in ag:
            ds = ag[key]
            if not isinstance(ds, h5py.Dataset):
                raise FileFormatError(f"{path}: {ag.name}/{key} is not a dataset")
            _check_numeric(ds, path)
            if ds.shape[0] != data.shape[0]:
                raise FileFormatError(f"{path}: signal {name}: expected aux {key} with {data.shape[0]} samples; "
                                      f"received: shape={ds.shape}")
        aux = tuple(ag)
    return _Header(
        name=name,
        sample_rate_hz=rate_f,
        t0_s=float(_attr(sg, "t0_s", path, required=False, default=0.0)),
        units=str(_attr(sg, "units", path, required=False, default="")),
        channel_names=tuple(str(c) for c in channel_names),
        metadata=metadata,
        shape=tuple(int(s) for s in data.shape),
        dtype=data.dtype,
        has_clean=has_clean,
        aux=aux,
    )


def _read(ds: h5py.Dataset, path: Any, budget: int) -> np.ndarray:
    check_dataset(ds, budget_bytes=budget)
    try:
        return np.asarray(ds[()])
    except OSError as exc:
        raise FileFormatError(f"{path}: cannot read {ds.name}: {str(exc).splitlines()[0]}") from None


def load_signal(path: str | os.PathLike[str], name: str | None = None, *,
                budget_bytes: int | None = None) -> Signal:
    """Read one signal completely into memory.

    Parameters
    ----------
    path : path-like
        A sigbench HDF5 file (format 1).
    name : str, optional
        Signal name; may be omitted when the file holds exactly one.
    budget_bytes : int, optional
        Refuse signals larger than this (default :func:`memory_budget_bytes`); use :func:`open_signal`
        to stream larger ones.

    Returns
    -------
    Signal

    Raises
    ------
    FileFormatError
        Not a sigbench file, wrong version, bad content (the field and value are named), over budget.
    UnsafeFileError
        Links, external storage, virtual datasets, shape bombs.
    """
    budget = memory_budget_bytes() if budget_bytes is None else budget_bytes
    with open_file(path) as f:
        sg = _pick(f, path, name)
        h = _header(sg, path)
        data = _read(sg["data"], path, budget)
        clean = _read(sg["clean"], path, budget) if h.has_clean else None
        aux = {k: _read(sg["aux"][k], path, budget) for k in h.aux}
    try:
        return Signal(data, h.sample_rate_hz, t0_s=h.t0_s, units=h.units, channel_names=h.channel_names,
                      clean=clean, aux=aux, metadata=h.metadata, name=h.name)
    except ValidationError as exc:
        raise FileFormatError(f"{path}: signal {h.name}: {exc}") from None


class LazySignal:
    """A signal in a file, read lazily in chunks (for signals larger than memory).

    Use as a context manager; ``read(start, stop)`` returns samples, ``chunks(size)`` iterates.
    """

    def __init__(self, path: str | os.PathLike[str], name: str | None = None) -> None:
        self.path = Path(path)
        self._file = open_sigbench(path)
        try:
            self._group = _pick(self._file, path, name)
            self.header = _header(self._group, path)
        except BaseException:
            self._file.close()
            raise
        self.name = self.header.name
        self.sample_rate_hz = self.header.sample_rate_hz
        self.metadata = self.header.metadata
        self.n_samples = self.header.shape[0]
        self.shape = self.header.shape
        self.has_clean = self.header.has_clean

    def read(self, start: int = 0, stop: int | None = None, *, which: str = "data") -> np.ndarray:
        """Samples ``start:stop`` of ``data``, ``clean`` or ``aux/<key>``.

        Raises
        ------
        FileFormatError
            The bytes cannot be read (a damaged file: HDF5's error, one line, names the dataset).
        """
        ds = self._group[which]
        try:
            return np.asarray(ds[start:stop])
        except OSError as exc:
            raise FileFormatError(f"{self.path}: cannot read {ds.name}: {str(exc).splitlines()[0]}") from None

    def chunks(self, size: int = CHUNK_SAMPLES, *, which: str = "data") -> Iterator[np.ndarray]:
        """Consecutive blocks of ``size`` samples."""
        for start in range(0, self.n_samples, size):
            yield self.read(start, min(start + size, self.n_samples), which=which)

    def to_signal(self, budget_bytes: int | None = None) -> Signal:
        """Read everything (subject to the memory budget)."""
        return load_signal(self.path, self.name, budget_bytes=budget_bytes)

    def close(self) -> None:
        """Close the file."""
        self._file.close()

    def __enter__(self) -> LazySignal:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_signal(path: str | os.PathLike[str], name: str | None = None) -> LazySignal:
    """Open a signal lazily; see :class:`LazySignal`."""
    return LazySignal(path, name)


def list_signals(path: str | os.PathLike[str]) -> list[str]:
    """Names of the signals in a sigbench file."""
    with open_file(path) as f:
        g = f.get("signals")
        return list(g) if isinstance(g, h5py.Group) else []


def file_info(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Summary of a file for ``sigbench info``: signals (shape, rate, duration, RMS, SNR) and runs.

    Per-signal problems (an uninstalled filter, bad content) are reported in the signal's ``error`` field
    instead of failing the whole summary.
    """
    out: dict[str, Any] = {"path": str(path), "signals": [], "runs": []}
    with open_file(path) as f:
        out["sigbench_format"] = int(f.attrs["sigbench_format"])
        for key in ("created", "sigbench_version"):
            v = f.attrs.get(key)
            out[key] = v.decode() if isinstance(v, bytes) else (str(v) if v is not None else None)
        g = f.get("signals")
        for name in list(g) if isinstance(g, h5py.Group) else []:
            entry: dict[str, Any] = {"name": name}
            try:
                h = _header(g[name], path)
                entry.update(samples=h.shape[0], channels=1 if len(h.shape) == 1 else h.shape[1],
                             channel_names=list(h.channel_names), dtype=str(h.dtype),
                             sample_rate_hz=h.sample_rate_hz, duration_s=h.shape[0] / h.sample_rate_hz,
                             t0_s=h.t0_s, units=h.units, has_clean=h.has_clean, aux=list(h.aux),
                             source=h.metadata.get("source"), seed=h.metadata.get("seed"))
                entry.update(_streamed_stats(g[name], h))
            except (FileFormatError, ValidationError) as exc:
                entry["error"] = str(exc)
            out["signals"].append(entry)
        runs = f.get("runs")
        for run_id in list(runs) if isinstance(runs, h5py.Group) else []:
            rg = runs[run_id]
            info = {"run_id": run_id}
            for key in ("task", "created", "status", "kind"):
                v = rg.attrs.get(key)
                if v is not None:
                    info[key] = v.decode() if isinstance(v, bytes) else str(v)
            methods = rg.get("methods")
            info["methods"] = ([_label(methods[key], key) for key in methods]
                               if isinstance(methods, h5py.Group) else [])
            out["runs"].append(info)
    return out


def _label(group: Any, key: str) -> str:
    """A stored method's label (``/runs/<id>/methods/mNN`` keeps it in its ``label`` attribute)."""
    label = group.attrs.get("label", key) if isinstance(group, h5py.Group) else key
    return label.decode("utf-8", errors="replace") if isinstance(label, bytes) else str(label)


def _streamed_stats(sg: h5py.Group, h: _Header) -> dict[str, Any]:
    """RMS and (with clean) SNR computed chunk by chunk: bounded memory on any file size."""
    data = sg["data"]
    check_dataset(data)
    sq = 0.0
    noise = 0.0
    power = 0.0
    n = 0
    clean = sg["clean"] if h.has_clean else None
    if clean is not None:
        check_dataset(clean)
    nonfinite = 0
    try:
        for start in range(0, h.shape[0], CHUNK_SAMPLES):
            block = np.asarray(data[start:start + CHUNK_SAMPLES], dtype=np.float64)
            finite = np.isfinite(block)
            nonfinite += int((~finite).sum())
            block = np.where(finite, block, 0.0)
            sq += float(np.sum(block * block))
            n += block.size
            if clean is not None:
                c = np.asarray(clean[start:start + CHUNK_SAMPLES], dtype=np.float64)
                power += float(np.sum(c * c))
                noise += float(np.sum((block - c) ** 2))
    except OSError as exc:
        raise FileFormatError(f"cannot read {data.name}: {str(exc).splitlines()[0]}") from None
    stats: dict[str, Any] = {"rms": math.sqrt(sq / n) if n else None, "nonfinite_samples": nonfinite}
    if clean is not None:
        ratio = power / noise if noise > 0 else math.nan
        # a damaged file can hold huge samples: the ratio may underflow to 0 or overflow; no SNR then
        stats["snr_db"] = 10 * math.log10(ratio) if math.isfinite(ratio) and ratio > 0 else None
    return stats


# -- writing -----------------------------------------------------------------------------------
_HDF5_ERRNO = re.compile(r"errno = (\d+)")
_DAMAGED = False


def _errno_of(exc: BaseException) -> int | None:
    """The OS error number of ``exc``, also when HDF5 only names it in its message (``errno = 28``)."""
    if isinstance(exc, OSError) and exc.errno is not None:
        return int(exc.errno)
    match = _HDF5_ERRNO.search(str(exc))
    return int(match.group(1)) if match else None


def _is_disk_full(exc: BaseException) -> bool:
    if _errno_of(exc) in (errno.ENOSPC, errno.EDQUOT):
        return True
    text = str(exc).lower()
    return "no space left" in text or "disk quota" in text


def hdf5_state_damaged() -> bool:
    """True after HDF5 failed to write or close a file in this process (disk full, file too large, I/O error).

    HDF5 then holds identifiers it can no longer release: touching or freeing any h5py object of that file can
    crash the interpreter (a segmentation fault, typically at exit). The CLI checks this after its one-line
    error and leaves with ``os._exit`` without running finalisers; a long-running program should restart.
    """
    return _DAMAGED


def _write_failure(exc: BaseException, target: Path) -> WriteError | None:
    """The one-line :class:`WriteError` for an OS-level write failure inside HDF5, or None for anything else."""
    code = _errno_of(exc)
    if _is_disk_full(exc):
        return WriteError(f"disk full while writing {target}; the previous file is untouched")
    if code == errno.EFBIG:
        return WriteError(f"file too large: writing {target} went past the file size limit (ulimit -f) or the file "
                          "system's largest file; the previous file is untouched")
    if code == errno.EIO:
        return WriteError(f"I/O error while writing {target}; the previous file is untouched")
    if isinstance(exc, RuntimeError) and "file write failed" in str(exc):
        return WriteError(f"cannot write {target}: {str(exc).splitlines()[0]}; the previous file is untouched")
    return None


def pid_alive(pid: int) -> bool:
    """Whether a process with this id exists on this machine."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # EPERM: it exists but belongs to someone else
        return True
    return True


def _remove_stale_temps(directory: Path, target_name: str) -> None:
    """Remove temp files left beside ``target_name`` by writers that were killed (SIGKILL, power loss).

    A temp name is ``.<target>.<pid>.<random>.tmp``; it is removed only when no process with that PID
    exists on this machine. (On a file system shared between machines a temp of a live writer elsewhere
    could be taken; that writer then fails with a ``WriteError`` and its target stays untouched.)
    """
    prefix = f".{target_name}."
    try:
        names = os.listdir(directory)
    except OSError:
        return
    for name in names:
        if not (name.startswith(prefix) and name.endswith(".tmp")):
            continue
        pid_text = name[len(prefix):].split(".", 1)[0]
        if not pid_text.isdigit() or int(pid_text) == os.getpid() or pid_alive(int(pid_text)):
            continue
        with contextlib.suppress(OSError):
            os.unlink(directory / name)


def _stamp_root(f: h5py.File) -> None:
    f.attrs["sigbench_format"] = FORMAT_VERSION
    f.attrs["created"] = _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")
    f.attrs["sigbench_version"] = __version__


def copy_contents(src: h5py.File, dst: h5py.File, *, skip: tuple[str, ...] = ()) -> None:
    """Copy every top-level object of ``src`` into ``dst`` (hard links only; ``src`` was checked)."""
    for key in src:
        if key in skip:
            continue
        src.copy(src[key], dst, name=key)


def merge_contents(src: h5py.File, dst: h5py.File, *, skip: tuple[str, ...] = ()) -> None:
    """Copy ``src`` into ``dst`` member by member: ``/signals/<name>`` and ``/runs/<id>`` of ``src`` replace
    those of the same name in ``dst``, every other member of ``dst`` is kept (``src`` was checked)."""
    for key in src:
        if key in skip:
            continue
        obj = src[key]
        into = dst.get(key)
        if isinstance(obj, h5py.Group) and isinstance(into, h5py.Group):
            for sub in obj:
                if sub in into:
                    del into[sub]
                src.copy(obj[sub], into, name=sub)
            continue
        if key in dst:
            del dst[key]
        src.copy(obj, dst, name=key)


def _kept_output(target: Path, base: Path | None) -> Path | None:
    """The existing output whose contents a keeping write builds on, or None (absent, the base itself, or not
    sigbench data); a damaged sigbench file raises :class:`WriteError` (see :func:`check_keepable`)."""
    if not target.exists() or (base is not None and same_file(base, target)):
        return None
    return target if check_keepable(target) else None


@contextlib.contextmanager
def atomic_h5(target: str | os.PathLike[str], *, base: str | os.PathLike[str] | None = None,
              skip: tuple[str, ...] = (), keep: bool = True) -> Iterator[h5py.File]:
    """Write a complete new sigbench file and publish it with ``os.replace``.

    Parameters
    ----------
    target : path-like
        The file to create or replace: a regular file, or a symbolic link (the file it points to is replaced
        and the link kept). Devices, FIFOs, sockets and folders are refused
        (:func:`sigbench.outputs.writable_target`).
    base : path-like, optional
        An existing sigbench file whose contents are copied first (minus ``skip``); may equal ``target``.
    keep : bool, default True
        Build on the existing ``target`` too, when it is a sigbench file: every signal and run it holds is
        kept, ``base``'s members replace those of the same name. ``False`` replaces the file as a whole (what
        ``generate``/``import`` without ``--append`` ask for). :func:`sigbench.outputs.start_fresh`
        (``--overwrite``) turns it off for the next write of ``target``.

    Yields
    ------
    h5py.File
        Open for writing into a temp file beside ``target``; root attributes are already set.

    Raises
    ------
    WriteError
        The directory is missing or not writable, the disk is full, ``target`` is not a regular file, an
        existing sigbench ``target`` to keep cannot be read, or validation of the new file failed; the target
        is untouched and no temp file is left.

    Notes
    -----
    The whole write holds :func:`sigbench.outputs.write_lock` of ``target``: concurrent writers of one
    output are serialised, and each builds on the file the previous one published.
    """
    path = writable_target(target)
    directory = path.parent if str(path.parent) else Path(".")
    if not directory.is_dir():
        raise WriteError(f"cannot write {path}: directory {directory} does not exist")
    with write_lock(path):
        fresh = take_fresh(path)
        if fresh and base is not None and same_file(base, path):
            base = None  # --overwrite of a file that is also the base: start from nothing
        kept = _kept_output(path, Path(base) if base is not None else None) if keep and not fresh else None
        with _atomic_h5(path, directory, base, kept, skip) as f:
            yield f


@contextlib.contextmanager
def _atomic_h5(target: Path, directory: Path, base: str | os.PathLike[str] | None, kept: Path | None,
               skip: tuple[str, ...]) -> Iterator[h5py.File]:
    _remove_stale_temps(directory, target.name)
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.{os.getpid()}.", suffix=".tmp", dir=directory)
    except OSError as exc:
        if _is_disk_full(exc):
            raise WriteError(f"disk full: cannot write {target}") from None
        raise WriteError(f"cannot write {target}: {exc.strerror or exc}") from None
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        try:
            with h5py.File(tmp, "w") as f:
                if kept is not None:
                    with open_file(kept) as old:
                        copy_contents(old, f)
                if base is not None:
                    with open_file(base) as src:
                        if kept is None:
                            copy_contents(src, f, skip=skip)
                        else:
                            merge_contents(src, f, skip=skip)
                _stamp_root(f)
                yield f
            with open_file(tmp):  # validate read-only: format, links, datasets
                pass
            fd2 = os.open(tmp, os.O_RDONLY)
            try:
                os.fsync(fd2)
            finally:
                os.close(fd2)
            os.chmod(tmp, _mode_for(target))  # the target's mode bits, or the umask's for a new file
            os.replace(tmp, target)
            _fsync_dir(directory)
        except (OSError, RuntimeError) as exc:
            failure = _write_failure(exc, target)
            if failure is not None:
                global _DAMAGED
                _DAMAGED = True  # HDF5 now holds identifiers of this file it cannot release
                raise failure from None
            raise
    finally:
        if tmp.exists():
            tmp.unlink()


def new_signal_group(f: h5py.File, name: str, *, sample_rate_hz: float, t0_s: float = 0.0, units: str = "",
                     channel_names: Sequence[str] = (), metadata: dict[str, Any] | None = None) -> h5py.Group:
    """An empty ``/signals/<name>`` group (replacing one of that name) with the format's attributes; the
    caller adds ``data`` (and ``clean``, ``aux``) — all at once, or chunk by chunk for a long signal."""
    root = f.require_group("signals")
    if name in root:
        del root[name]
    sg = root.create_group(name)
    sg.attrs["sample_rate_hz"] = sample_rate_hz
    sg.attrs["t0_s"] = t0_s
    sg.attrs["units"] = units
    sg.attrs["channel_names"] = dumps(list(channel_names))
    sg.attrs["metadata"] = dumps(metadata or {})
    return sg


#: names of the dimension scales a signal group carries (never signal content)
SCALE_NAMES = ("time", "channel")


def attach_dimension_scales(sg: h5py.Group, *, block: int = CHUNK_SAMPLES) -> None:
    """Give a finished signal group netCDF-4 style dimension scales, so other tools see its axes.

    Adds ``time`` (the sample index as int64, chunked and compressed — a few KB per million samples —
    with the CF attributes ``scale_factor = 1/sample_rate_hz``, ``add_offset = t0_s``, ``units = "s"``:
    xarray, netCDF and h5netcdf decode it to seconds) and, for a 2-D signal, ``channel`` (the channel
    names), and attaches them to axis 0 (and 1) of ``data``, ``clean`` and every ``aux`` series of the
    signal's length. ``xarray.open_dataset(path, engine="h5netcdf", group="signals/<name>")`` then shows
    ``data`` over ``(time, channel)``. Written in blocks of ``block`` samples (bounded memory).

    Parameters
    ----------
    sg : h5py.Group
        ``/signals/<name>`` with its ``data`` written, in a file open for writing.
    block : int
        Samples per write of the time index.
    """
    data = sg["data"]
    n = int(data.shape[0])
    rate = float(sg.attrs["sample_rate_hz"])
    t0 = float(sg.attrs.get("t0_s", 0.0))
    for name in SCALE_NAMES:
        if name in sg:
            del sg[name]
    time = sg.create_dataset("time", shape=(n,), dtype=np.int64, chunks=(max(1, min(n, 4 * CHUNK_SAMPLES)),),
                             compression="gzip", shuffle=True)
    for s0 in range(0, n, block):
        s1 = min(s0 + block, n)
        time[s0:s1] = np.arange(s0, s1, dtype=np.int64)
    time.attrs["scale_factor"] = 1.0 / rate
    time.attrs["add_offset"] = t0
    time.attrs["units"] = "s"
    time.attrs["long_name"] = "time since the start of the recording"
    time.make_scale("time")
    channel = None
    if data.ndim == 2:
        try:
            names = list(loads(sg.attrs.get("channel_names", "[]")))
        except ValueError:
            names = []
        if len(names) != data.shape[1]:
            names = [f"ch{i}" for i in range(data.shape[1])]
        channel = sg.create_dataset("channel", data=np.asarray([str(c) for c in names], dtype=object),
                                    dtype=h5py.string_dtype("utf-8"))
        channel.make_scale("channel")
    series = [sg[k] for k in ("data", "clean") if k in sg]
    if isinstance(sg.get("aux"), h5py.Group):
        series += [d for d in sg["aux"].values() if isinstance(d, h5py.Dataset)]
    for ds in series:
        if ds.ndim >= 1 and ds.shape[0] == n:
            ds.dims[0].attach_scale(time)
            if channel is not None and ds.ndim == 2 and ds.shape[1] == data.shape[1]:
                ds.dims[1].attach_scale(channel)


def write_signal_group(f: h5py.File, signal: Signal) -> h5py.Group:
    """Write ``signal`` under ``/signals/<name>`` of an open file (replacing a signal of that name)."""
    sg = new_signal_group(f, signal.name, sample_rate_hz=signal.sample_rate_hz, t0_s=signal.t0_s,
                          units=signal.units, channel_names=signal.channel_names, metadata=signal.metadata)

    def put(group: h5py.Group, key: str, arr: np.ndarray) -> None:
        chunk = (min(arr.shape[0], CHUNK_SAMPLES), *arr.shape[1:])
        group.create_dataset(key, data=arr, chunks=chunk)

    put(sg, "data", signal.data)
    if signal.clean is not None:
        put(sg, "clean", signal.clean)
    if signal.aux:
        ag = sg.create_group("aux")
        for key, arr in signal.aux.items():
            put(ag, key, arr)
    attach_dimension_scales(sg)
    return sg



def save_signal(signal: Signal | list[Signal], path: str | os.PathLike[str], *, append: bool = False) -> Path:
    """Write one or several signals to a sigbench HDF5 file, atomically.

    Parameters
    ----------
    signal : Signal or list of Signal
    path : path-like
    append : bool, default False
        Keep the signals and runs already in ``path`` (a new file is still built and swapped in).

    Returns
    -------
    Path
        ``path``.
    """
    signals = signal if isinstance(signal, list) else [signal]
    target = Path(path)
    base = target if append and target.exists() else None
    with atomic_h5(target, base=base, keep=append) as f:
        for s in signals:
            write_signal_group(f, s)
    return target
