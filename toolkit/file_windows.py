r"""Task rows read from a signal file on demand: training data larger than memory.

:class:`FileWindows` is the file-backed twin of :class:`~sigbench.Windows`: its ``inputs`` behave like the
``(rows, window)`` sliding-window view of a predict/denoise task and its ``targets`` like the ``(rows,)``
target column, but nothing is read until rows are indexed. A processor that trains from mini-batches (the
neural processors) can therefore be fitted on a signal far larger than memory::

    with sb.FileWindows("long.h5", window=64, stop=8_000_000) as rows:
        model = sb.get_processor("dnn")(epochs=3).fit(rows)

How rows are read
    Rows are grouped in consecutive *blocks* of ``block_rows`` rows. Block ``b`` is one read of the
    samples its rows touch, ``block_rows − 1 + span`` samples (``span`` = window + horizon for predict,
    window for denoise), so a row whose window crosses an HDF5 chunk edge or a block edge is built
    exactly. The two most recently used blocks are kept; indexing returns copies of the requested rows
    only. Peak memory is about ``2 × (block_rows + span)`` samples whatever the file's length.

Shuffling
    Reading rows in a global random order would read a block per row. The neural processors therefore
    shuffle file-backed rows by blocks (``shuffle_block``, default: this object's ``block_rows``): each
    epoch visits the blocks in a random order and the rows of a block in a random order. Given the same
    ``shuffle_block`` and seed, an in-memory array is shuffled identically, so a model trained from the
    file equals the model trained from the same rows in memory (``tests/neural/test_file_training.py``).

Only what a task's rows need is read: the chosen channel of ``data`` and, for ``target="auto"`` on a
file that stores the clean signal, ``clean``.
"""

from __future__ import annotations

import os
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import numpy as np

from sigbench._validate import positive_int
from sigbench.errors import ValidationError

__all__ = ["DEFAULT_BLOCK_ROWS", "FileWindows"]

#: rows per read block by default (2**16 rows: 0.5 MiB of float64 samples per block)
DEFAULT_BLOCK_ROWS = 2**16


# -- geometry of the rows ----------------------------------------------------------------------
@dataclass(frozen=True)
class _Layout:
    """Rows of a predict/denoise task with hop 1: row ``r`` reads samples ``r … r+window−1`` and targets
    sample ``r + offset``; it touches ``span`` samples."""

    window: int
    span: int
    offset: int
    n: int

    @property
    def rows(self) -> int:
        return self.n - self.span + 1

    def rows_within(self, start: int, stop: int) -> tuple[int, int]:
        """Rows whose whole span lies in samples ``[start, stop)`` (as ``TaskData.rows_within``)."""
        first = start
        last = min(stop - self.span, self.rows - 1)
        return (first, first) if last < first else (first, last + 1)


def _layout(task: str, window: int, horizon: int, centered: bool, n: int) -> _Layout:
    if task == "predict":
        span = window + horizon
        if span > n:
            raise ValidationError(f"expected window + horizon <= {n} samples; received: window={window}, "
                                  f"horizon={horizon}")
        return _Layout(window, span, window - 1 + horizon, n)
    if task == "denoise":
        if window > n:
            raise ValidationError(f"expected window <= {n} samples; received: window={window}")
        return _Layout(window, window, window // 2 if centered else window - 1, n)
    raise ValidationError(f"expected task predict or denoise for rows read from a file; received: task={task!r}")


def _channel_index(lazy: Any, channel: int | str) -> int:
    count = 1 if len(lazy.shape) == 1 else int(lazy.shape[1])
    names = list(lazy.header.channel_names) or [f"ch{i}" for i in range(count)]
    if isinstance(channel, str) and not channel.strip().isdigit():
        if channel not in names:
            raise ValidationError(f"expected a channel among {', '.join(names)}; received: channel={channel!r}")
        return names.index(channel)
    index = int(channel)
    if not 0 <= index < count:
        raise ValidationError(f"expected channel in [0, {count - 1}]; received: channel={channel!r}")
    return index


# -- the rows ------------------------------------------------------------------------------------
class _Column:
    """One side of :class:`FileWindows` (``inputs`` or ``targets``): an array-like read block by block."""

    def __init__(self, owner: FileWindows, which: str) -> None:
        self._owner, self._which = owner, which

    @property
    def shape(self) -> tuple[int, ...]:
        n = self._owner.n_rows
        return (n, self._owner.layout.window) if self._which == "inputs" else (n,)

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def block_rows(self) -> int:
        """Rows per read block of the owner."""
        return self._owner.block_rows

    @property
    def dtype(self) -> np.dtype[Any]:
        return self._owner.dtype

    @property
    def size(self) -> int:
        return int(np.prod(self.shape))

    def __len__(self) -> int:
        return self._owner.n_rows

    def __getitem__(self, key: Any) -> np.ndarray:
        return self._owner._take(key, self._which)

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        out = self._owner._take(slice(None), self._which)
        return out if dtype is None else out.astype(dtype, copy=False)

    def all_finite(self) -> bool:
        """Whether every value is finite (one streamed pass over the blocks, nothing kept)."""
        return self._owner._all_finite(self._which)

    def __repr__(self) -> str:
        return f"<FileWindows.{self._which} shape={self.shape} dtype={self.dtype}>"


class FileWindows:
    """Rows ``start … stop−1`` of a predict/denoise task over a signal file, read on demand.

    Parameters
    ----------
    source : path-like or LazySignal
        A sigbench HDF5 file (opened here, closed by :meth:`close`) or an open
        :func:`~sigbench.h5.open_signal` handle (left open).
    task : {"predict", "denoise"}, default "predict"
    window, horizon, centered, channel, target
        As in :meth:`sigbench.tasks.Task.prepare` (hop 1). ``target="auto"`` uses the clean signal when
        the file stores it, else the observed one.
    start, stop : int, optional
        The row range served (default: every row of the signal).
    block_rows : int, default :data:`DEFAULT_BLOCK_ROWS`
        Rows per read (and the default shuffle block of the neural processors).
    signal_name : str, optional
        Signal of a file that holds several.

    Attributes
    ----------
    inputs, targets
        Array-likes of shape ``(rows, window)`` and ``(rows,)``: ``shape``, ``ndim``, ``dtype``,
        ``len()``, indexing by an int, a slice or an integer array (returns a copy of those rows), and
        ``np.asarray`` (reads everything — mind the memory).
    observed
        The observed sample at each row's target (equal to ``targets`` when the target is observed).

    Raises
    ------
    ValidationError
        A bad option, a row range outside the signal, or no rows.
    """

    #: marks an object that reads its rows on demand (processors that can stream check for it)
    lazy_rows = True

    def __init__(self, source: Any, *, task: str = "predict", window: int = 64, horizon: int = 1,
                 centered: bool = False, channel: int | str = 0, target: str = "auto", start: int = 0,
                 stop: int | None = None, block_rows: int = DEFAULT_BLOCK_ROWS, signal_name: str | None = None) -> None:
        from sigbench.h5 import LazySignal, open_signal

        window = positive_int("window", window)
        horizon = positive_int("horizon", horizon)
        self.block_rows = positive_int("block_rows", block_rows)
        if target not in ("auto", "observed"):
            raise ValidationError(f"expected target auto or observed; received: target={target!r}")
        self._owns = not isinstance(source, LazySignal)
        self.lazy: LazySignal = open_signal(source, signal_name) if self._owns else source
        try:
            self.layout = _layout(task, window, horizon, centered, self.lazy.n_samples)
            self.channel = _channel_index(self.lazy, channel)
            total = self.layout.rows
            stop = total if stop is None else int(stop)
            if not 0 <= int(start) < stop <= total:
                raise ValidationError(f"expected 0 <= start < stop <= {total} rows; received: start={start}, "
                                      f"stop={stop}")
        except BaseException:
            self.close()
            raise
        self.start, self.stop = int(start), stop
        self._options: dict[str, Any] = {"task": task, "window": window, "horizon": horizon, "centered": centered,
                                         "channel": channel, "target": target, "block_rows": self.block_rows}
        self.use_clean = target == "auto" and self.lazy.has_clean
        self.task = task
        self.dtype: np.dtype[Any] = np.dtype(self.lazy.header.dtype)
        self._cache: OrderedDict[int, tuple[np.ndarray, np.ndarray, np.ndarray]] = OrderedDict()
        self._finite: dict[str, bool] | None = None
        self.reads = 0  # block reads so far (tests check that batches come from cached blocks)
        self.inputs = _Column(self, "inputs")
        self.targets = _Column(self, "targets")
        self.observed = _Column(self, "observed")

    @property
    def n_rows(self) -> int:
        """Rows served."""
        return self.stop - self.start

    def __len__(self) -> int:
        return self.n_rows

    @property
    def window(self) -> int:
        """Samples per input row."""
        return self.layout.window

    @property
    def path(self) -> os.PathLike[str]:
        """The signal file."""
        return self.lazy.path

    def slice(self, start: int, stop: int) -> FileWindows:
        """Rows ``start:stop`` of these rows, on the same open file (close the parent, not the slice)."""
        if not 0 <= start < stop <= self.n_rows:
            raise ValidationError(f"expected 0 <= start < stop <= {self.n_rows}; received: {start}, {stop}")
        return FileWindows(self.lazy, **{**self._options, "start": self.start + start, "stop": self.start + stop})

    # -- reading -------------------------------------------------------------------------------
    def _read_block(self, b: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Block ``b``: the samples behind its rows, its targets and observed values."""
        lay = self.layout
        r0 = self.start + b * self.block_rows
        r1 = min(r0 + self.block_rows, self.stop)
        s0, s1 = r0, r1 - 1 + lay.span
        raw = self.lazy.read(s0, s1)
        x = raw if raw.ndim == 1 else np.ascontiguousarray(raw[:, self.channel])
        rows = r1 - r0
        observed = x[lay.offset: lay.offset + rows]
        if self.use_clean:
            clean = self.lazy.read(s0 + lay.offset, s0 + lay.offset + rows, which="clean")
            targets = clean if clean.ndim == 1 else np.ascontiguousarray(clean[:, self.channel])
        else:
            targets = observed
        self.reads += 1
        return x, targets, observed

    def _block(self, b: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        hit = self._cache.get(b)
        if hit is not None:
            self._cache.move_to_end(b)
            return hit
        data = self._read_block(b)
        self._cache[b] = data
        while len(self._cache) > 2:
            self._cache.popitem(last=False)
        return data

    def _gather(self, rows: np.ndarray, which: str) -> np.ndarray:
        """Rows (sorted, relative to ``start``) of one column."""
        from sigbench.windows import sliding_windows

        window = self.layout.window
        shape = (rows.size, window) if which == "inputs" else (rows.size,)
        out = np.empty(shape, dtype=self.dtype)
        blocks = rows // self.block_rows
        edges = np.flatnonzero(np.diff(blocks)) + 1
        for lo, hi in zip(np.r_[0, edges], np.r_[edges, rows.size], strict=True):
            b = int(blocks[lo])
            x, targets, observed = self._block(b)
            local = rows[lo:hi] - b * self.block_rows
            if which == "inputs":
                out[lo:hi] = sliding_windows(x, window)[local]
            else:
                out[lo:hi] = (targets if which == "targets" else observed)[local]
        return out

    def _take(self, key: Any, which: str) -> np.ndarray:
        n = self.n_rows
        if isinstance(key, (int, np.integer)) and not isinstance(key, bool):
            i = int(key) + (n if key < 0 else 0)
            if not 0 <= i < n:
                raise IndexError(f"row {key} out of range for {n} rows")
            return self._gather(np.array([i]), which)[0]
        if isinstance(key, slice):
            lo, hi, step = key.indices(n)
            rows = np.arange(lo, hi, step, dtype=np.int64)
        else:
            rows = np.asarray(key)
            if rows.dtype == bool or not np.issubdtype(rows.dtype, np.integer) or rows.ndim != 1:
                raise IndexError("expected an int, a slice or a 1-D integer array of rows")
            rows = np.where(rows < 0, rows + n, rows).astype(np.int64)
            if rows.size and (rows.min() < 0 or rows.max() >= n):
                raise IndexError(f"rows out of range for {n} rows")
        if rows.size == 0:
            return np.empty((0, self.layout.window) if which == "inputs" else (0,), dtype=self.dtype)
        if rows.size > 1 and np.any(np.diff(rows) < 0):
            order = np.argsort(rows, kind="stable")
            gathered = self._gather(rows[order], which)
            out = np.empty_like(gathered)
            out[order] = gathered
            return out
        return self._gather(rows, which)

    def _all_finite(self, which: str) -> bool:
        """Whether the samples behind a column are finite. One pass (blocks not cached) checks every column
        and remembers the answers: a fit asks for the inputs and then for the targets."""
        if self._finite is None:
            finite = {"inputs": True, "targets": True, "observed": True}
            for b in range(-(-self.n_rows // self.block_rows)):
                for name, arr in zip(("inputs", "targets", "observed"), self._read_block(b), strict=True):
                    finite[name] = finite[name] and bool(np.isfinite(arr).all())
            self._finite = finite
        return self._finite[which]

    # -- lifetime ------------------------------------------------------------------------------
    def close(self) -> None:
        """Close the file if this object opened it."""
        self._cache = OrderedDict()
        if self._owns and getattr(self, "lazy", None) is not None:
            self.lazy.close()

    def __enter__(self) -> FileWindows:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return (f"FileWindows({str(self.path)!r}, task={self.task!r}, window={self.window}, "
                f"rows {self.start}:{self.stop}, block_rows={self.block_rows})")
