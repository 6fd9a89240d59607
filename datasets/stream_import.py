"""Streamed import of long recordings: WAV, ``.npy`` and foreign HDF5 datasets larger than memory.

:func:`stream_import` writes the same sigbench HDF5 file as
``sb.save_signal(sb.load_source(fmt, path, **params).with_(name=name), output)`` — the same ``data`` values
(float64) and the same attributes (``sample_rate_hz``, ``t0_s``, ``units``, ``channel_names``, ``metadata``
with the importer's ``params`` and ``wav_dtype``/``npy_dtype``/``hdf5_dtype``), after the same checks with the
same messages — but reads the source ``chunk_samples`` samples at a time, so memory stays bounded whatever
the size of the file:

- WAV: ``scipy.io.wavfile.read(path, mmap=True)``: 8/16/32/64-bit PCM and 32/64-bit float. Encodings scipy
  cannot memory-map (24-bit PCM: 3-byte samples) are refused with a message saying so. A data chunk cut
  short (a recorder that stopped) is read as far as it goes, as the in-memory import does.
- NPY: ``np.load(path, mmap_mode="r", allow_pickle=False)`` after the importer's header checks;
  ``channels_first`` is a transposed view of the memory map.
- HDF5: the dataset passes every check of :func:`~sigbench.datasets.importers.load_hdf5` (hard links only,
  no external storage, no virtual dataset, no shape bomb, installed filters) except the memory budget, and is
  read in slabs.

Non-finite samples: under ``nonfinite="error"`` nothing is published and the error is the importer's
(count and first sample index; the rest of the file is still scanned to count them). Under
``"interpolate"`` every NaN/inf is replaced by the value ``np.interp`` gives between its finite neighbours —
the very numbers of the in-memory repair: a run of non-finite samples whose right neighbour lies in a later
chunk is written as NaN first and filled in once that neighbour is read.

Memory: about three float64 blocks of ``chunk_samples × channels`` (the raw block, its float64 copy, the
finite mask), plus HDF5's chunk cache; independent of the file's length.

>>> import numpy as np, os, tempfile
>>> from sigbench.datasets.stream_import import stream_import
>>> folder = tempfile.mkdtemp()
>>> np.save(os.path.join(folder, "x.npy"), np.zeros((1000, 2), dtype=np.float32))
>>> out = stream_import("npy", os.path.join(folder, "x.npy"), os.path.join(folder, "x.h5"),
...                     sample_rate_hz=100.0, chunk_samples=256)
>>> out.name
'x.h5'
"""

from __future__ import annotations

import contextlib
import inspect
import io
import math
import os
import struct
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from sigbench._json import dumps
from sigbench._validate import positive_float, positive_int
from sigbench.datasets import importers as _imp
from sigbench.datasets._common import make_metadata
from sigbench.errors import FileFormatError, ValidationError

__all__ = ["DEFAULT_CHUNK_SAMPLES", "STREAM_FORMATS", "estimate_import_bytes", "stream_import"]

#: the importers whose files can be streamed (CSV is parsed as text, whole)
STREAM_FORMATS = ("wav", "npy", "hdf5")
#: samples read and written per step by default
DEFAULT_CHUNK_SAMPLES = 2**20

_LOADERS: dict[str, Callable[..., Any]] = {"wav": _imp.load_wav, "npy": _imp.load_npy, "hdf5": _imp.load_hdf5}
_MMAP_TOO_LONG = "mmap length is greater than file size"  # Python's mmap, when a file is shorter than declared


@dataclass
class _Source:
    """An opened file: what the signal will be, and how to read rows ``[s0, s1)`` as float64."""

    path: Path
    shape: tuple[int, ...]
    sample_rate_hz: float
    metadata: dict[str, Any]
    nonfinite: str
    read: Callable[[int, int], np.ndarray]
    channel_names: tuple[str, ...] = ()
    may_be_nonfinite: bool = True
    close: Callable[[], None] = field(default=lambda: None)

    @property
    def n_channels(self) -> int:
        return 1 if len(self.shape) == 1 else self.shape[1]


# -- WAV -------------------------------------------------------------------------------------------
def _wav_data_offset(p: Path) -> int | None:
    """Byte offset of the samples of a WAV file's ``data`` chunk, walking the chunks as scipy does."""
    with open(p, "rb") as fh:
        head = fh.read(12)
        if len(head) < 12 or head[:4] not in (b"RIFF", b"RIFX", b"RF64"):
            return None
        fmt = ">I" if head[:4] == b"RIFX" else "<I"
        pos = 12
        while True:
            fh.seek(pos)
            chunk = fh.read(8)
            if len(chunk) < 8:
                return None
            size = struct.unpack(fmt, chunk[4:])[0]
            if chunk[:4] == b"data":
                return pos + 8
            pos += 8 + size + (size % 2 if chunk[:4] != b"ds64" else 0)


def _wav_memmap(p: Path) -> tuple[int, np.ndarray]:
    """``scipy.io.wavfile.read(p, mmap=True)``; a data chunk cut short is mapped as far as the file goes."""
    from scipy.io import wavfile

    try:
        return wavfile.read(p, mmap=True)  # type: ignore[no-any-return]
    except ValueError as exc:
        if _MMAP_TOO_LONG not in str(exc):
            raise
        failure = exc
    # The in-memory read (np.fromfile) keeps what there is; scipy's mmap refuses. Parse the header alone
    # with scipy (a copy ending where the samples start), then map the samples that exist.
    offset = _wav_data_offset(p)
    if offset is None:
        raise failure
    with open(p, "rb") as fh:
        header = fh.read(offset)
    rate, empty = wavfile.read(io.BytesIO(header))
    channels = empty.shape[1] if empty.ndim == 2 else 1
    available = (p.stat().st_size - offset) // empty.dtype.itemsize
    if available % channels:  # scipy's reshape(-1, channels) fails on a partial frame: the same error
        np.lib.stride_tricks.as_strided(np.zeros(1, np.uint8), (available,), (0,)).reshape(-1, channels)
    data = np.memmap(p, dtype=empty.dtype, mode="r", offset=offset, shape=(available,))
    return rate, (data.reshape(-1, channels) if channels > 1 else data)


def _cannot_mmap(p: Path, exc: BaseException) -> FileFormatError:
    from sigbench.h5 import memory_budget_bytes

    detail = str(exc).splitlines()[0].removeprefix("mmap=True not compatible with ").rstrip(".")
    return FileFormatError(
        f"{p}: cannot stream this WAV file ({detail}: e.g. 24-bit PCM cannot be memory-mapped); it is imported "
        f"without streaming when its float64 samples fit the memory budget (now {memory_budget_bytes() / 2**20:.0f} "
        "MiB, SIGBENCH_MEMORY_BUDGET), or convert it to 16-bit, 32-bit or float WAV first"
    )


def _open_wav(path: Any, *, channel: int = -1, nonfinite: str = "error") -> _Source:
    from scipy.io import wavfile

    p = _imp._existing_file(path)
    ch = positive_int("channel", channel, minimum=-1)
    policy = _imp._check_nonfinite(nonfinite)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", wavfile.WavFileWarning)  # unknown chunks are skipped, fine
            rate, raw = _wav_memmap(p)
        _imp._pcm_to_float(np.asarray(raw[:0]))  # an unsupported sample type fails here, as in load_wav
    except _imp._WAV_READ_ERRORS as exc:
        if str(exc).startswith("mmap=True not compatible"):
            raise _cannot_mmap(p, exc) from None
        raise _imp._wav_read_error(p, exc) from None
    if rate <= 0:
        raise FileFormatError(f"{p}: the WAV header gives a sample rate of {rate} Hz")
    shape = _imp._samples_first_shape(p, raw.shape, channels_first=False)
    n_ch = 1 if len(shape) == 1 else shape[1]
    if ch >= n_ch:
        raise ValidationError(
            f"expected channel in [-1, {n_ch - 1}] for {p} ({n_ch} channel(s)); received: channel={channel!r}"
        )
    names: tuple[str, ...] = ()
    pick = ch >= 0 and raw.ndim == 2
    if pick:
        shape = shape[:1]
        names = (f"ch{ch}",)

    def read(s0: int, s1: int) -> np.ndarray:
        return _imp._pcm_to_float(np.asarray(raw[s0:s1, ch] if pick else raw[s0:s1]))

    params = {"path": str(path), "channel": ch, "nonfinite": policy}
    meta = make_metadata("wav", params, file=p.name, wav_dtype=str(np.asarray(raw[:0]).dtype))
    return _Source(p, shape, float(rate), meta, policy, read, names, may_be_nonfinite=raw.dtype.kind == "f")


# -- NPY -------------------------------------------------------------------------------------------
def _open_npy(
    path: Any, *, sample_rate_hz: float = 0.0, channels_first: bool = False, nonfinite: str = "error"
) -> _Source:
    p = _imp._existing_file(path)
    rate = _imp._rate_or_required(sample_rate_hz, p, "a .npy file")
    policy = _imp._check_nonfinite(nonfinite)
    _imp._check_channels_first(channels_first)
    _imp._check_npy_header(p)
    try:
        loaded = np.load(p, allow_pickle=False, mmap_mode="r")
    except ValueError as exc:
        if _MMAP_TOO_LONG in str(exc):
            raise FileFormatError(
                f"not a readable .npy file: {p} (it holds fewer bytes than its header declares; file seems not "
                "fully written?)"
            ) from None
        raise _imp._npy_read_error(p, exc) from None
    except (OSError, EOFError) as exc:
        raise _imp._npy_read_error(p, exc) from None
    _imp._check_real_dtype(p, loaded.dtype, "an array")
    shape = _imp._samples_first_shape(p, loaded.shape, bool(channels_first))
    view = loaded.T if loaded.ndim == 2 and channels_first else loaded

    def read(s0: int, s1: int) -> np.ndarray:
        return np.asarray(view[s0:s1], dtype=np.float64)

    params = {"path": str(path), "sample_rate_hz": rate, "channels_first": bool(channels_first), "nonfinite": policy}
    meta = make_metadata("npy", params, file=p.name, npy_dtype=str(loaded.dtype))
    return _Source(p, shape, rate, meta, policy, read, may_be_nonfinite=loaded.dtype.kind == "f")


# -- HDF5 ------------------------------------------------------------------------------------------
def _open_hdf5(
    path: Any,
    *,
    dataset: str = "",
    sample_rate_hz: float = 0.0,
    channels_first: bool | None = None,
    nonfinite: str = "error",
) -> _Source:
    p, f, ds, rate, policy = _imp._open_hdf5_dataset(
        path, dataset, sample_rate_hz, channels_first, nonfinite, budget_bytes=None
    )
    try:
        name = ds.name
        if ds.shape is None:  # an empty dataspace: the in-memory import reads it as an object scalar
            _imp._check_real_dtype(p, np.dtype(object), f"dataset {name}")
        transpose = _imp.orient_samples_first(p, ds.shape, channels_first, f"dataset {name}")
        shape = _imp._samples_first_shape(p, ds.shape, transpose)
    except BaseException:
        f.close()
        raise

    def read(s0: int, s1: int) -> np.ndarray:
        try:
            block = ds[:, s0:s1].T if transpose else ds[s0:s1]
        except OSError as exc:
            raise FileFormatError(f"{p}: cannot read {name}: {str(exc).splitlines()[0]}") from None
        return np.asarray(block, dtype=np.float64)

    params = {
        "path": str(path),
        "dataset": name,
        "sample_rate_hz": rate,
        "channels_first": transpose,
        "nonfinite": policy,
    }
    meta = make_metadata("hdf5", params, file=p.name, hdf5_dtype=str(ds.dtype))
    return _Source(p, shape, rate, meta, policy, read, may_be_nonfinite=ds.dtype.kind == "f", close=f.close)


_OPENERS: dict[str, Callable[..., _Source]] = {"wav": _open_wav, "npy": _open_npy, "hdf5": _open_hdf5}


# -- non-finite samples ----------------------------------------------------------------------------
class _Repair:
    """Replace NaN/inf by ``np.interp`` between the finite neighbours, chunk by chunk, exactly as
    :class:`~sigbench.Signal` does on the whole array (``nonfinite="interpolate"``).

    Per channel it carries the last finite sample (index, value) and the start of a run of non-finite
    samples still open at the end of the previous chunk; that run is written as NaN and filled in the
    output dataset once its right neighbour is read (or, at the end, with the last finite value).
    """

    def __init__(self, ds: Any, n_channels: int, chunk: int) -> None:
        self.ds = ds
        self.chunk = chunk
        self.left_index = [-1] * n_channels
        self.left_value = [0.0] * n_channels
        self.pending = [-1] * n_channels
        self.repaired = 0

    def _put(self, c: int, start: int, values: np.ndarray) -> None:
        if self.ds.ndim == 1:
            self.ds[start : start + values.size] = values
        else:
            self.ds[start : start + values.size, c] = values

    def _fill(self, c: int, start: int, stop: int, right: tuple[int, float] | None) -> None:
        """Fill rows ``[start, stop)`` of channel ``c`` already written (in slabs of ``chunk``)."""
        left = (self.left_index[c], self.left_value[c]) if self.left_index[c] >= 0 else None
        for t0 in range(start, stop, self.chunk):
            t1 = min(t0 + self.chunk, stop)
            if left is not None and right is not None:
                values = np.interp(np.arange(t0, t1), [left[0], right[0]], [left[1], right[1]])
            else:  # before the first finite sample / after the last one: np.interp holds the end value
                end = right if right is not None else left
                assert end is not None
                values = np.full(t1 - t0, end[1])
            self._put(c, t0, values)

    def block(self, s0: int, block: np.ndarray) -> np.ndarray:
        """Return ``block`` (rows ``s0…``) with what can be repaired now repaired; update the carried state."""
        rows = block.shape[0]
        cols = block.reshape(rows, -1)
        good = np.isfinite(cols)
        if good.all() and max(self.pending) < 0:
            for c in range(cols.shape[1]):
                self.left_index[c], self.left_value[c] = s0 + rows - 1, float(cols[-1, c])
            return block
        block = np.array(block, dtype=np.float64)  # never write into a view of the source
        cols = block.reshape(rows, -1)
        self.repaired += int(good.size - np.count_nonzero(good))
        for c in range(cols.shape[1]):
            col = cols[:, c]
            finite = np.flatnonzero(good[:, c])
            if finite.size == 0:
                if self.pending[c] < 0:
                    self.pending[c] = s0
                continue
            first, last = int(finite[0]), int(finite[-1])
            if self.pending[c] >= 0 and self.pending[c] < s0:  # a run open since an earlier chunk
                self._fill(c, self.pending[c], s0, (s0 + first, float(col[first])))
            self.pending[c] = -1
            bad = np.flatnonzero(~good[:last, c])
            if bad.size:
                xp = s0 + finite
                fp = col[finite]
                if self.left_index[c] >= 0:
                    xp = np.concatenate(([self.left_index[c]], xp))
                    fp = np.concatenate(([self.left_value[c]], fp))
                col[bad] = np.interp(s0 + bad, xp, fp)
            if last < rows - 1:
                self.pending[c] = s0 + last + 1
            self.left_index[c], self.left_value[c] = s0 + last, float(col[last])
        return block

    def finish(self, n: int) -> None:
        """Fill the runs still open at the end; a channel without any finite sample is an error."""
        for c, left in enumerate(self.left_index):
            if left < 0:
                raise ValidationError(
                    f"expected at least one finite sample per channel; received: channel {c} all NaN/inf"
                )
        for c, start in enumerate(self.pending):
            if start >= 0:
                self._fill(c, start, n, None)


def _copy(src: _Source, ds: Any, chunk: int) -> int:
    """Copy every row of ``src`` into ``ds``; return the number of repaired samples."""
    n = src.shape[0]
    repair = _Repair(ds, src.n_channels, chunk) if src.nonfinite == "interpolate" and src.may_be_nonfinite else None
    first_bad: int | None = None
    n_bad = 0
    for s0 in range(0, n, chunk):
        s1 = min(s0 + chunk, n)
        block = src.read(s0, s1)
        if src.may_be_nonfinite:
            if repair is not None:
                block = repair.block(s0, block)
            else:
                bad = ~np.isfinite(block)
                if bad.any():
                    rows = bad.reshape(bad.shape[0], -1).any(axis=1)
                    if first_bad is None:
                        first_bad = s0 + int(np.argmax(rows))
                    n_bad += int(np.count_nonzero(bad))
        if first_bad is None:  # after the first NaN/inf, only count them (for the message)
            ds[s0:s1] = block
    if first_bad is not None:
        raise ValidationError(
            f"expected finite samples in data; received: {n_bad} NaN/inf values, first at sample {first_bad} "
            "(use nonfinite='interpolate' to repair them)"
        )
    if repair is None:
        return 0
    repair.finish(n)
    return repair.repaired


# -- public ----------------------------------------------------------------------------------------
def _check_params(fmt: str, params: dict[str, Any]) -> None:
    sig = inspect.signature(_LOADERS[fmt])
    unknown = [k for k in params if k not in sig.parameters or k == "path"]
    if unknown:
        allowed = ", ".join(p for p in sig.parameters if p != "path")
        raise ValidationError(f"expected parameters of source {fmt!r} among {allowed}; received: {unknown[0]}")


def _check_name(name: Any) -> str:
    if not isinstance(name, str) or not name or "/" in name or name in (".", ".."):
        raise ValidationError(f"expected a non-empty signal name without '/'; received: name={name!r}")
    return name


@contextlib.contextmanager
def _opened(fmt: Any, path: Any, params: dict[str, Any]) -> Iterator[_Source]:
    if fmt not in _OPENERS:
        raise ValidationError(
            f"expected a format that streams ({', '.join(STREAM_FORMATS)}; CSV is read whole); received: fmt={fmt!r}"
        )
    _check_params(fmt, params)
    src = _OPENERS[fmt](path, **params)
    try:
        yield src
    finally:
        src.close()


def stream_import(
    fmt: str,
    path: str | os.PathLike[str],
    output: str | os.PathLike[str],
    *,
    name: str | None = None,
    chunk_samples: int = DEFAULT_CHUNK_SAMPLES,
    append: bool = False,
    **params: Any,
) -> Path:
    """Import a WAV, ``.npy`` or foreign HDF5 file into a sigbench HDF5 file, chunk by chunk.

    The file written equals ``sb.save_signal(sb.load_source(fmt, path, **params).with_(name=...), output,
    append=append)`` (data values and dtype, attributes, metadata; only the time stamp of the file and the
    HDF5 layout may differ), with memory bounded by ``chunk_samples`` whatever the size of the file.

    Parameters
    ----------
    fmt : {"wav", "npy", "hdf5"}
        The importer (CSV cannot be streamed).
    path : path-like
        The file to import.
    output : path-like
        The sigbench HDF5 file to write, atomically (a failed import leaves it untouched).
    name : str, optional
        Signal name inside ``output`` (default: the file's stem).
    chunk_samples : int, default 2**20
        Samples read, converted and written per step (≥ 1).
    append : bool, default False
        Keep the signals and runs already in ``output`` (a signal of the same name is replaced).
    **params
        The importer's parameters: ``channel``, ``nonfinite`` (wav); ``sample_rate_hz``, ``channels_first``,
        ``nonfinite`` (npy); ``dataset``, ``sample_rate_hz``, ``channels_first``, ``nonfinite`` (hdf5).

    Returns
    -------
    Path
        ``output``.

    Raises
    ------
    FileFormatError
        The importer's file errors; a WAV encoding that cannot be memory-mapped (24-bit PCM); an ``.npy`` file
        shorter than its header declares.
    UnsafeFileError
        The HDF5 importer's refusals (links, external storage, virtual datasets, shape bombs).
    ValidationError
        The importer's option errors; NaN/inf samples under ``nonfinite="error"``; a bad ``name`` or
        ``chunk_samples``; a format that does not stream.
    WriteError
        ``output`` cannot be written (its previous content is untouched).

    Examples
    --------
    >>> import numpy as np, os, tempfile, sigbench as sb
    >>> from scipy.io import wavfile
    >>> from sigbench.datasets.stream_import import stream_import
    >>> folder = tempfile.mkdtemp()
    >>> wavfile.write(os.path.join(folder, "rec.wav"), 8000, np.zeros((5000, 2), dtype=np.int16))
    >>> out = stream_import("wav", os.path.join(folder, "rec.wav"), os.path.join(folder, "rec.h5"),
    ...                     chunk_samples=1024)
    >>> sb.load_signal(out).data.shape
    (5000, 2)
    """
    from sigbench.h5 import CHUNK_SAMPLES, atomic_h5, attach_dimension_scales, new_signal_group

    chunk = positive_int("chunk_samples", chunk_samples)
    with _opened(fmt, path, params) as src:
        sig_name = _check_name(name or Path(path).stem)
        try:
            rate = positive_float("sample_rate_hz", src.sample_rate_hz)
        except ValidationError as exc:
            raise type(exc)(f"{src.path}: {exc}") from None
        names = src.channel_names or tuple(f"ch{i}" for i in range(src.n_channels))
        target = Path(output)
        base = target if append and target.exists() else None
        with atomic_h5(target, base=base, keep=append) as f:
            sg = new_signal_group(f, sig_name, sample_rate_hz=rate, channel_names=names)
            ds = sg.create_dataset(
                "data", shape=src.shape, dtype=np.float64, chunks=(min(src.shape[0], CHUNK_SAMPLES), *src.shape[1:])
            )
            try:
                repaired = _copy(src, ds, chunk)
            except ValidationError as exc:
                raise type(exc)(f"{src.path}: {exc}") from None
            meta = dict(src.metadata)
            if repaired:
                meta["repaired_nonfinite"] = repaired
            sg.attrs["metadata"] = dumps(meta)
            attach_dimension_scales(sg)
    return target


def estimate_import_bytes(fmt: str, path: str | os.PathLike[str], **params: Any) -> int | None:
    """Bytes of float64 samples an in-memory import of ``path`` would hold, from the file's header alone.

    Samples × channels × 8 of the whole file (a WAV is converted whole before one channel is kept). For a WAV
    file scipy cannot memory-map (24-bit PCM) it is estimated from the file size. ``None`` when the format
    does not stream or the header cannot be read (the import then reports the problem).

    Parameters
    ----------
    fmt : str
        The importer name.
    path : path-like
        The file.
    **params
        The importer's parameters (``dataset`` for hdf5; the others are not needed).

    Returns
    -------
    int or None

    Examples
    --------
    >>> import numpy as np, os, tempfile
    >>> from sigbench.datasets.stream_import import estimate_import_bytes
    >>> path = os.path.join(tempfile.mkdtemp(), "x.npy")
    >>> np.save(path, np.zeros((1000, 2), dtype=np.int16))
    >>> estimate_import_bytes("npy", path)
    16000
    """
    p = Path(path)
    try:
        if fmt == "wav":
            from scipy.io import wavfile

            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", wavfile.WavFileWarning)
                    _rate, raw = _wav_memmap(p)
            except ValueError as exc:
                if not str(exc).startswith("mmap=True not compatible"):
                    return None
                return p.stat().st_size // 3 * 8  # 3-byte samples: ~ file size / 3 samples
            return int(raw.size) * 8
        if fmt == "npy":
            if not p.is_file():
                return None
            _imp._check_npy_header(p)
            arr = np.load(p, allow_pickle=False, mmap_mode="r")
            return int(arr.size) * 8 if arr.dtype.kind in "fiub" else None
        if fmt == "hdf5":
            from sigbench.h5 import safe_open

            dataset = params.get("dataset", "")
            if not isinstance(dataset, str) or not dataset.strip("/ "):
                return None
            with safe_open(p) as f:
                ds = _imp._walk_hard_links(f, dataset.strip(), p)
                return int(math.prod(ds.shape)) * 8 if ds.shape else None
    except Exception:  # only an estimate: the import itself reports what is wrong
        return None
    return None
