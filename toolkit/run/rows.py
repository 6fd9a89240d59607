r"""Row sources: where a cell's rows come from — arrays in memory, or blocks read from a signal file.

A task defines its rows once (:class:`~sigbench.TaskData`): row ``r`` touches samples
``r·hop … r·hop + span − 1`` and its target lies at sample ``r·hop + offset``. That *geometry* is all the
engine needs to place the chronological split (:meth:`Geometry.rows_within`) and to cut rows into blocks.
Both row sources serve the same rows through one interface:

:class:`MemoryRows`
    Wraps a :class:`~sigbench.TaskData` built from the whole signal; a block is a view.
:class:`FileRows`
    Reads the samples behind rows ``r0 … r1−1`` (data, clean, aux: whatever the task uses) from an HDF5
    file and runs the task's own ``prepare`` on that excerpt, so every task — built in or a plugin's —
    streams without code of its own. This requires the task to be *local*: a row may only depend on the
    samples of its span (the contract of ``span``), and rows must be regular (constant ``hop``/``span``);
    :class:`FileRows` checks the latter and refuses a task that is not.
:class:`FileWindows`
    File rows as array-likes (``inputs[rows]``, ``targets[rows]``) for processors that read mini-batches
    themselves (the neural networks): two blocks cached, everything else read on demand.
"""

from __future__ import annotations

import math
import os
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from sigbench._validate import positive_int
from sigbench.errors import ValidationError

__all__ = ["DEFAULT_BLOCK_ROWS", "Block", "FileRows", "FileWindows", "Geometry", "MemoryRows", "channel_index"]

#: rows per read block of :class:`FileWindows` by default
DEFAULT_BLOCK_ROWS = 2**16
#: samples of the first excerpt a :class:`FileRows` prepares to learn the task's geometry
_PROBE_SAMPLES = 4096
#: the largest excerpt tried before a task's refusal is taken as final
_PROBE_LIMIT = 2**22


@dataclass(frozen=True)
class Geometry:
    """Where a task's rows lie in the signal (the task defines it; both row sources use it).

    Attributes
    ----------
    rows : int
        Number of rows.
    hop : int
        Samples between the first samples of consecutive rows.
    span : int
        Samples a row touches, from its first input sample to its target sample inclusive.
    offset : int
        Sample index of row 0's target (``target_index[r] = r·hop + offset``).
    window : int
        Samples per input row.
    n_samples : int
        Length of the signal.
    target_shape : tuple of int
        Shape of one target: ``()`` for a scalar, ``(outputs,)`` for a vector.
    """

    rows: int
    hop: int
    span: int
    offset: int
    window: int
    n_samples: int
    target_shape: tuple[int, ...] = ()

    def rows_within(self, start: int, stop: int) -> slice:
        """Rows whose whole span lies in samples ``[start, stop)`` (as :meth:`sigbench.TaskData.rows_within`)."""
        first = -(-start // self.hop)  # ceil
        last = min((stop - self.span) // self.hop, self.rows - 1)  # inclusive
        return slice(first, first) if last < first else slice(first, last + 1)

    def samples(self, r0: int, r1: int) -> tuple[int, int]:
        """The samples ``[s0, s1)`` behind rows ``r0 … r1−1``."""
        return r0 * self.hop, (r1 - 1) * self.hop + self.span

    def rows_per_block(self, chunk_samples: int) -> int:
        """Rows whose samples fit in ``chunk_samples`` (at least one row).

        Raises
        ------
        ValidationError
            ``chunk_samples`` is shorter than one row.
        """
        if chunk_samples < self.span:
            raise ValidationError(f"expected chunk_samples >= {self.span} (one row's span); "
                                  f"received: chunk_samples={chunk_samples}")
        return (chunk_samples - self.span) // self.hop + 1


@dataclass
class Block:
    """Rows ``r0 … r1−1``: input windows, targets, the observed sample at each target (or ``None``), the
    sample index of each target, and the task's per-row metric context (:attr:`sigbench.TaskData.row_context`)."""

    r0: int
    r1: int
    inputs: np.ndarray
    targets: np.ndarray
    observed: np.ndarray | None
    target_index: np.ndarray
    extras: dict[str, np.ndarray] = field(default_factory=dict)


def _geometry_of(data: Any) -> Geometry:
    offset = int(data.target_index[0]) if len(data) else 0
    return Geometry(rows=len(data), hop=int(data.hop), span=int(data.span), offset=offset, window=data.window,
                    n_samples=int(data.n_samples), target_shape=tuple(data.targets.shape[1:]))


class MemoryRows:
    """Rows of a :class:`~sigbench.TaskData` held in memory; blocks are views."""

    in_memory = True

    def __init__(self, data: Any) -> None:
        self.data = data
        self.geometry = _geometry_of(data)
        self.sample_rate_hz = float(data.sample_rate_hz)
        self.target_kind = str(data.target_kind)
        self.has_observed = data.observed_at_target is not None
        #: the task's constant metric context (:attr:`sigbench.TaskData.context`)
        self.metric_context = dict(data.context)

    def block(self, r0: int, r1: int) -> Block:
        """Rows ``r0 … r1−1`` (views of the task data)."""
        d = self.data
        return Block(r0, r1, d.inputs[r0:r1], d.targets[r0:r1],
                     None if d.observed_at_target is None else d.observed_at_target[r0:r1], d.target_index[r0:r1],
                     {k: v[r0:r1] for k, v in d.row_context.items()})

    def blocks(self, r0: int, r1: int, rows_per_block: int | None = None) -> Iterator[Block]:
        """Rows ``r0 … r1−1`` in one block (they are in memory already)."""
        if r1 > r0:
            yield self.block(r0, r1)

    def fit_bytes(self, r1: int) -> int:
        """Memory needed to hold rows ``0 … r1−1``: nothing more, they are held."""
        return 0


class FileRows:
    """Rows of ``task`` over a signal file, read block by block (see the module docstring).

    Parameters
    ----------
    lazy : LazySignal
        An open :func:`~sigbench.h5.open_signal` handle (left open).
    task : Task
        The task object (its ``prepare`` builds each block's rows).
    options : dict
        Task options as :meth:`sigbench.tasks.Task.prepare` takes them.

    Raises
    ------
    ValidationError
        Options the task rejects, or a task whose rows are not regular (it cannot stream).
    """

    in_memory = False

    def __init__(self, lazy: Any, task: Any, options: dict[str, Any]) -> None:
        self.lazy, self.task, self.options = lazy, task, dict(options)
        self.channels = 1 if len(lazy.shape) == 1 else int(lazy.shape[1])
        self.names = tuple(lazy.header.channel_names) or tuple(f"ch{i}" for i in range(self.channels))
        self.aux_names = tuple(getattr(lazy.header, "aux", ()))
        self.sample_rate_hz = float(lazy.sample_rate_hz)
        self.reads = 0
        n = int(lazy.n_samples)
        hint = int(self.options.get("window") or 0) + int(self.options.get("horizon") or 0)
        probe = min(n, max(_PROBE_SAMPLES, 4 * hint + int(self.options.get("hop") or 0)))
        while True:
            try:
                first = self._prepare(0, probe)
                break
            except ValidationError:
                if probe >= n or probe >= _PROBE_LIMIT:  # a real refusal, not an excerpt too short
                    raise
                probe = min(n, probe * 8)
        self.target_kind = str(first.target_kind)
        self.has_observed = first.observed_at_target is not None
        self.metric_context = dict(first.context)
        hop, span = int(first.hop), int(first.span)
        expected = (probe - span) // hop + 1
        regular = np.array_equal(np.asarray(first.target_index),
                                 np.arange(len(first)) * hop + int(first.target_index[0]))
        if len(first) != expected or not regular:
            raise ValidationError(f"expected task {task.name!r} to build regular rows (hop {hop}, span {span}) to "
                                  f"read them from a file; received: {len(first)} rows from {probe} samples")
        self.geometry = Geometry(rows=(n - span) // hop + 1, hop=hop, span=span, offset=int(first.target_index[0]),
                                 window=first.window, n_samples=n, target_shape=tuple(first.targets.shape[1:]))

    def _prepare(self, s0: int, s1: int) -> Any:
        """The task's rows over samples ``[s0, s1)`` of the file."""
        from sigbench.signal import Signal

        lazy = self.lazy
        data = lazy.read(s0, s1)
        clean = lazy.read(s0, s1, which="clean") if lazy.has_clean else None
        aux = {k: lazy.read(s0, s1, which=f"aux/{k}") for k in self.aux_names}
        self.reads += 1
        sig = Signal(data, sample_rate_hz=lazy.sample_rate_hz, channel_names=self.names, clean=clean, aux=aux,
                     metadata=lazy.metadata, name=lazy.name)
        return self.task.prepare(sig, **self.options)

    def block(self, r0: int, r1: int) -> Block:
        """Rows ``r0 … r1−1`` (reads the samples behind them).

        Raises
        ------
        ValidationError
            Non-finite samples behind these rows (named by the signal's checks).
        """
        s0, s1 = self.geometry.samples(r0, r1)
        try:
            data = self._prepare(s0, s1)
        except ValidationError as exc:
            raise ValidationError(f"{exc} (samples {s0}–{s1 - 1} of {os.fspath(self.lazy.path)})") from None
        if len(data) != r1 - r0:
            raise ValidationError(f"expected task {self.task.name!r} to build {r1 - r0} rows from samples {s0}–{s1 - 1}"
                                  f"; received: {len(data)} (its rows are not local to their span)")
        observed = data.observed_at_target
        return Block(r0, r1, data.inputs, data.targets, observed, np.asarray(data.target_index) + s0,
                     dict(data.row_context))

    def blocks(self, r0: int, r1: int, rows_per_block: int | None = None) -> Iterator[Block]:
        """Consecutive blocks of rows ``r0 … r1−1`` (``rows_per_block`` rows each; all at once if None)."""
        step = (r1 - r0) if rows_per_block is None else max(1, int(rows_per_block))
        for start in range(r0, r1, max(step, 1)):
            yield self.block(start, min(start + step, r1))

    def fit_bytes(self, r1: int) -> int:
        """Memory needed to load rows ``0 … r1−1`` at once (every stored series, as float64)."""
        s0, s1 = self.geometry.samples(0, r1)
        series = self.channels * (2 if self.lazy.has_clean else 1) + len(self.aux_names)
        return (s1 - s0) * series * 8 * 2

    def signal_stats(self, chunk_samples: int) -> float | None:
        """One pass over the file: refuse non-finite samples, and the SNR of the whole signal (as
        :meth:`sigbench.Signal.snr_db`; ``None`` without a clean reference)."""
        lazy = self.lazy
        power = noise = 0.0
        for s0 in range(0, lazy.n_samples, chunk_samples):
            s1 = min(s0 + chunk_samples, lazy.n_samples)
            x = np.asarray(lazy.read(s0, s1), dtype=np.float64)
            bad = ~np.isfinite(x)
            if bad.any():
                first = s0 + int(np.argwhere(bad)[0][0])
                raise ValidationError(f"expected finite samples in data; received: NaN/inf values, first at sample "
                                      f"{first} of {os.fspath(lazy.path)}")
            if lazy.has_clean:
                c = np.asarray(lazy.read(s0, s1, which="clean"), dtype=np.float64)
                if not np.isfinite(c).all():
                    raise ValidationError(f"expected finite samples in clean; received: NaN/inf in "
                                          f"{os.fspath(lazy.path)}")
                power += float(np.sum(np.square(c)))
                noise += float(np.sum(np.square(x - c)))
        if not lazy.has_clean:
            return None
        if noise == 0.0:
            return math.inf
        if power == 0.0:
            return -math.inf
        return 10.0 * math.log10(power / noise)


def channel_index(lazy: Any, channel: int | str) -> int:
    """The index of ``channel`` (a name or a number) in a lazy signal.

    Raises
    ------
    ValidationError
        No such channel.
    """
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


# -- file rows as array-likes (mini-batch readers) ---------------------------------------------------
class _Column:
    """One side of :class:`FileWindows` (``inputs``, ``targets`` or ``observed``): an array-like read by blocks."""

    def __init__(self, owner: FileWindows, which: str) -> None:
        self._owner, self._which = owner, which

    @property
    def shape(self) -> tuple[int, ...]:
        n = self._owner.n_rows
        geo = self._owner.rows.geometry
        if self._which == "inputs":
            return (n, geo.window)
        return (n, *geo.target_shape) if self._which == "targets" else (n,)

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
    """Rows ``start … stop−1`` of a task over a signal file, read on demand (training data larger than memory).

    Its ``inputs`` and ``targets`` behave like the task's ``(rows, window)`` window view and its targets,
    but nothing is read until rows are indexed. Rows are read in blocks of ``block_rows`` rows; the two
    most recently used blocks are kept, so peak memory is about ``2 × block_rows`` rows whatever the file's
    length. Used by the engine for processors with ``accepts_file_rows`` (the neural processors, which
    shuffle such rows by blocks: see ``shuffle_block``), and usable directly::

        with sb.FileWindows("long.h5", window=64, stop=8_000_000) as rows:
            model = sb.get_processor("dnn")(epochs=3).fit(rows)

    Parameters
    ----------
    source : path-like, LazySignal or FileRows
        A sigbench HDF5 file (opened here, closed by :meth:`close`), an open
        :func:`~sigbench.h5.open_signal` handle, or the engine's :class:`FileRows` (both left open).
    task : str, default "predict"
        Any registered task whose rows are local to their span (all built-in tasks).
    window, horizon, centered, channel, target, hop
        Task options, as in :meth:`sigbench.tasks.Task.prepare`.
    start, stop : int, optional
        The row range served (default: every row of the signal).
    block_rows : int, default :data:`DEFAULT_BLOCK_ROWS`
        Rows per read (and the default shuffle block of the neural processors).
    signal_name : str, optional
        Signal of a file that holds several.

    Attributes
    ----------
    inputs, targets, observed
        Array-likes: ``shape``, ``ndim``, ``dtype``, ``len()``, indexing by an int, a slice or an integer
        array (returns a copy of those rows), and ``np.asarray`` (reads everything — mind the memory).

    Raises
    ------
    ValidationError
        A bad option, a row range outside the signal, or no rows.
    """

    def __init__(self, source: Any, *, task: str = "predict", window: int = 64, horizon: int = 1,
                 centered: bool = False, channel: int | str = 0, target: str = "auto", hop: int | None = None,
                 start: int = 0, stop: int | None = None, block_rows: int = DEFAULT_BLOCK_ROWS,
                 signal_name: str | None = None) -> None:
        from sigbench.h5 import LazySignal, open_signal

        self.block_rows = positive_int("block_rows", block_rows)
        self._owns = not isinstance(source, (LazySignal, FileRows))
        self._lazy: Any = None
        try:
            if isinstance(source, FileRows):
                self.rows = source
            else:
                from sigbench.host import get_host

                self._lazy = open_signal(source, signal_name) if self._owns else source
                task_obj = get_host().registry.get("tasks", task).obj
                self.rows = FileRows(self._lazy, task_obj, {"window": window, "horizon": horizon,
                                                            "centered": centered, "channel": channel,
                                                            "target": target, "hop": hop})
            total = self.rows.geometry.rows
            stop = total if stop is None else int(stop)
            if not 0 <= int(start) < stop <= total:
                raise ValidationError(f"expected 0 <= start < stop <= {total} rows; received: start={start}, "
                                      f"stop={stop}")
        except BaseException:
            self.close()
            raise
        self.start, self.stop = int(start), stop
        self.task = str(self.rows.task.name)
        self.dtype: np.dtype[Any] = np.dtype(self.rows.lazy.header.dtype)
        self._cache: OrderedDict[int, Block] = OrderedDict()
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
        return self.rows.geometry.window

    @property
    def path(self) -> os.PathLike[str]:
        """The signal file."""
        return self.rows.lazy.path

    def slice(self, start: int, stop: int) -> FileWindows:
        """Rows ``start:stop`` of these rows, on the same open file (close the parent, not the slice)."""
        if not 0 <= start < stop <= self.n_rows:
            raise ValidationError(f"expected 0 <= start < stop <= {self.n_rows}; received: {start}, {stop}")
        return FileWindows(self.rows, start=self.start + start, stop=self.start + stop, block_rows=self.block_rows)

    # -- reading -------------------------------------------------------------------------------
    def _read_block(self, b: int) -> Block:
        r0 = self.start + b * self.block_rows
        self.reads += 1
        return self.rows.block(r0, min(r0 + self.block_rows, self.stop))

    def _block(self, b: int) -> Block:
        hit = self._cache.get(b)
        if hit is not None:
            self._cache.move_to_end(b)
            return hit
        data = self._read_block(b)
        self._cache[b] = data
        while len(self._cache) > 2:
            self._cache.popitem(last=False)
        return data

    @staticmethod
    def _column(blk: Block, which: str) -> np.ndarray:
        if which == "inputs":
            return blk.inputs
        if which == "targets":
            return blk.targets
        return blk.observed if blk.observed is not None else blk.targets

    def _gather(self, rows: np.ndarray, which: str) -> np.ndarray:
        """Rows (sorted, relative to ``start``) of one column."""
        shape = _Column(self, which).shape
        out = np.empty((rows.size, *shape[1:]), dtype=self.dtype)
        blocks = rows // self.block_rows
        edges = np.flatnonzero(np.diff(blocks)) + 1
        for lo, hi in zip(np.r_[0, edges], np.r_[edges, rows.size], strict=True):
            b = int(blocks[lo])
            out[lo:hi] = self._column(self._block(b), which)[rows[lo:hi] - b * self.block_rows]
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
            return np.empty((0, *_Column(self, which).shape[1:]), dtype=self.dtype)
        if rows.size > 1 and np.any(np.diff(rows) < 0):
            order = np.argsort(rows, kind="stable")
            gathered = self._gather(rows[order], which)
            out = np.empty_like(gathered)
            out[order] = gathered
            return out
        return self._gather(rows, which)

    def _all_finite(self, which: str) -> bool:
        """Whether the values of a column are finite. One pass (blocks not cached) checks every column and
        remembers the answers: a fit asks for the inputs and then for the targets."""
        if self._finite is None:
            finite = {"inputs": True, "targets": True, "observed": True}
            try:
                for b in range(-(-self.n_rows // self.block_rows)):
                    blk = self._read_block(b)
                    for name in finite:
                        finite[name] = finite[name] and bool(np.isfinite(self._column(blk, name)).all())
            except ValidationError:  # the signal's own check refused non-finite samples
                finite = {"inputs": False, "targets": False, "observed": False}
            self._finite = finite
        return self._finite[which]

    # -- lifetime ------------------------------------------------------------------------------
    def close(self) -> None:
        """Close the file if this object opened it."""
        self._cache = OrderedDict()
        if self._owns and self._lazy is not None:
            self._lazy.close()
            self._lazy = None

    def __enter__(self) -> FileWindows:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return (f"FileWindows({os.fspath(self.path)!r}, task={self.task!r}, window={self.window}, "
                f"rows {self.start}:{self.stop}, block_rows={self.block_rows})")
