r"""Out-of-core runs and generation: signals larger than memory, processed chunk by chunk.

:func:`stream_run` runs one method on a signal file without ever holding the signal: it reads the
file in chunks of ``chunk_samples`` samples (consecutive chunks overlap by ``window − 1 + horizon``
samples, so every row — a window plus its target — is built exactly, also where it crosses a chunk
edge), fits the method on the fit segment and predicts the test segment chunk by chunk, writing the
predictions into the output file as they come. Peak memory is ``O(chunk_samples)`` whatever the
file's length.

How each method trains from a stream
------------------------------------
``lms``, ``nlms``, ``rls`` (adaptive filters)
    ``fit`` on the first row, then ``predict_online`` over the remaining fit rows chunk by chunk: the
    same updates, in the same order, as ``fit`` on all the rows at once (the weights are bit for bit
    the same). The learning curve (``describe()['convergence']``) is rebuilt over the same 50 blocks.
    One difference: the divergence limit (10⁶ × the training-target RMS) uses the RMS of the first
    chunk's targets instead of the whole fit segment's.
``wiener``
    ``lstsq``/``auto``: the block QR (TSQR) of :func:`~sigbench.plugins.dsp.wiener.block_lstsq` fed
    block by block from the file, on the same 65 536-row blocks — bit for bit the in-memory weights.
    ``toeplitz``: the autocorrelation and cross-correlation accumulated chunk by chunk (equal to the
    FFT-based in-memory values to rounding).
``naive``, ``linear-extrapolation``
    Nothing to fit (fitted on the first chunk's rows for the shape checks).
any other method (neural networks, FIR designs, chains)
    Its fit segment is loaded when it fits the memory budget; otherwise :class:`SigbenchError`.

Prediction is always frozen (offline protocol) and chunked. Metrics come from sums accumulated over
the test chunks (``nmse_db`` uses a chunk-wise combination of means and squared deviations), equal to
the in-memory engine's to rounding.

:func:`stream_generate` writes a source's signal chunk by chunk (10⁹ samples and more) with the same
numbers as :func:`sigbench.generate` for the same ``n`` and ``seed``: NumPy's ``Generator`` draws the
same stream whether ``standard_normal`` is called once or chunk by chunk.
"""

from __future__ import annotations

import datetime as _dt
import functools
import itertools
import json
import math
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import h5py
import numpy as np

from sigbench._validate import positive_int
from sigbench.errors import SigbenchError, ValidationError
from sigbench.file_windows import _channel_index, _Layout, _layout
from sigbench.h5 import CHUNK_SAMPLES, LazySignal, atomic_h5, memory_budget_bytes, open_signal
from sigbench.metrics import RunningMoments, db_ratio
from sigbench.results import MethodRow, Results, environment, mean_ci
from sigbench.windows import sliding_windows

__all__ = ["DEFAULT_CHUNK_SAMPLES", "STREAM_SOURCES", "stream_compare", "stream_generate", "stream_run"]

#: samples read per chunk by default (8 MiB of float64)
DEFAULT_CHUNK_SAMPLES = 2**20
#: sources :func:`stream_generate` can write chunk by chunk
STREAM_SOURCES = ("sines", "noise")
#: methods with nothing to fit: fitted on the first chunk's rows (shape checks only)
_STATELESS = ("naive", "linear-extrapolation")
#: rows per block of the Wiener block QR (that of ``block_lstsq``, so the weights are bit for bit equal)
_WIENER_BLOCK_ROWS = 65536
_CONVERGENCE_BLOCKS = 50


@dataclass
class _Block:
    """Rows ``r0 … r1−1``: their input windows, targets and the noisy observation at each target."""

    r0: int
    r1: int
    stream: np.ndarray  # samples r0 … r1−2+window, the stream behind ``inputs``
    inputs: np.ndarray
    targets: np.ndarray
    observed: np.ndarray


class _Reader:
    """Reads row blocks from a lazy signal; checks every sample once and accumulates the signal's SNR."""

    def __init__(self, lazy: LazySignal, layout: _Layout, channel: int, use_clean: bool, as_float64: bool) -> None:
        self.lazy, self.layout, self.channel = lazy, layout, channel
        self.use_clean, self.as_float64 = use_clean, as_float64
        self.covered = 0
        self.power = 0.0
        self.noise = 0.0

    def _col(self, raw: np.ndarray) -> np.ndarray:
        return raw if raw.ndim == 1 else np.ascontiguousarray(raw[:, self.channel])

    def _account(self, s0: int, data: np.ndarray, clean: np.ndarray | None) -> None:
        """Check and accumulate samples of ``data`` (starting at sample ``s0``) not seen before."""
        skip = self.covered - s0
        if skip >= data.shape[0]:
            return
        new = data[max(skip, 0):]
        bad = ~np.isfinite(new)
        if bad.any():
            first = s0 + max(skip, 0) + int(np.argwhere(bad)[0][0])
            raise ValidationError(f"expected finite samples in data; received: NaN/inf values, first at sample "
                                  f"{first} of {self.lazy.path}")
        if clean is not None:
            c = np.asarray(clean[max(skip, 0):], dtype=np.float64)
            if not np.isfinite(c).all():
                raise ValidationError(f"expected finite samples in clean; received: NaN/inf in {self.lazy.path}")
            self.power += float(np.sum(np.square(c)))
            self.noise += float(np.sum(np.square(np.asarray(new, dtype=np.float64) - c)))
        self.covered = s0 + data.shape[0]

    def block(self, r0: int, r1: int) -> _Block:
        """Rows ``r0 … r1−1`` (reads samples ``r0 … r1−2+span``)."""
        lay = self.layout
        s0, s1 = r0, r1 - 1 + lay.span
        raw = self.lazy.read(s0, s1)
        raw_clean = self.lazy.read(s0, s1, which="clean") if self.lazy.has_clean else None
        self._account(s0, raw, raw_clean)
        x = self._col(raw)
        rows = r1 - r0
        observed = x[lay.offset: lay.offset + rows]
        targets = self._col(raw_clean)[lay.offset: lay.offset + rows] if (
            self.use_clean and raw_clean is not None) else observed
        stream = np.ascontiguousarray(x, dtype=np.float64) if self.as_float64 else np.ascontiguousarray(x)
        inputs = sliding_windows(stream, lay.window)[:rows]
        return _Block(r0, r1, stream, inputs, targets, observed)

    def blocks(self, start: int, stop: int, rows_per_block: int) -> Iterator[_Block]:
        """Consecutive blocks of rows ``start … stop−1``."""
        for r0 in range(start, stop, rows_per_block):
            yield self.block(r0, min(r0 + rows_per_block, stop))

    def cover_until(self, stop: int, chunk: int) -> None:
        """Check and account samples ``covered … stop−1`` not read by the run itself."""
        for s0 in range(self.covered, stop, chunk):
            s1 = min(s0 + chunk, stop)
            self._account(s0, self.lazy.read(s0, s1),
                          self.lazy.read(s0, s1, which="clean") if self.lazy.has_clean else None)

    def snr_db(self) -> float | None:
        """The whole signal's SNR (clean power over noise power), as ``Signal.snr_db``."""
        if not self.lazy.has_clean:
            return None
        if self.noise == 0.0:
            return math.inf
        if self.power == 0.0:
            return -math.inf
        return 10.0 * math.log10(self.power / self.noise)


# -- metrics from streamed sums ----------------------------------------------------------------
@dataclass
class _ErrorSums:
    """Sums over the test rows from which every error metric follows."""

    sse: float = 0.0
    sae: float = 0.0
    max_abs: float = 0.0
    sum_y2: float = 0.0
    sse_observed: float = 0.0
    y: RunningMoments = field(default_factory=RunningMoments)  # Σ (y − mean y)², combined chunk by chunk
    @property
    def n(self) -> int:
        """Test rows summed so far."""
        return self.y.count

    def add(self, y: np.ndarray, pred: np.ndarray, observed: np.ndarray) -> None:
        yt = np.asarray(y, dtype=np.float64)
        e = yt - pred
        self.sse += float(np.sum(np.square(e)))
        self.sae += float(np.sum(np.abs(e)))
        self.max_abs = max(self.max_abs, float(np.max(np.abs(e))))
        self.sum_y2 += float(np.sum(np.square(yt)))
        self.sse_observed += float(np.sum(np.square(yt - np.asarray(observed, dtype=np.float64))))
        self.y.add(yt)

    def metrics(self, names: tuple[str, ...]) -> dict[str, float]:
        mse = self.sse / self.n
        snr = db_ratio(self.sum_y2, self.sse)
        values = {
            "mse": mse, "rmse": math.sqrt(mse), "mae": self.sae / self.n, "max_abs_error": self.max_abs,
            "nmse_db": db_ratio(self.sse, self.y.m2), "snr_db": snr,
            "snr_gain_db": snr - db_ratio(self.sum_y2, self.sse_observed),
        }
        return {name: values[name] for name in names if name in values}


# -- fitting from a stream -----------------------------------------------------------------------
class _MethodFailed(Exception):
    """The method itself raised (a failed row, not an aborted run)."""


def _guard(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Call ``fn``; an exception of the method becomes :class:`_MethodFailed` with the engine's error text."""
    try:
        return fn(*args, **kwargs)
    except Exception as exc:
        raise _MethodFailed(f"{type(exc).__name__}: {exc}".splitlines()[0]) from exc


def _strategy(cls: type, proc: Any) -> str:
    from sigbench.plugins.dsp._adaptive import AdaptiveFilter
    from sigbench.plugins.dsp.wiener import Wiener

    if isinstance(proc, AdaptiveFilter):
        return "adaptive"
    if isinstance(proc, Wiener):
        return "wiener"
    if getattr(cls, "name", "") in _STATELESS:
        return "stateless"
    if getattr(cls, "accepts_file_rows", False):
        return "file-rows"
    return "load"


def _fit_adaptive(proc: Any, reader: _Reader, fit_rows: int, rows_per_block: int, rate: float) -> None:
    """Adapt over the fit rows chunk by chunk: the same updates as ``fit`` on all of them."""
    from sigbench.plugins.dsp._adaptive import DIVERGENCE_FACTOR

    edges = np.unique(np.linspace(0, fit_rows, min(_CONVERGENCE_BLOCKS, fit_rows) + 1).astype(int))
    block_sse = np.zeros(len(edges) - 1)
    block_weights: list[list[float]] = []
    outputs = 1
    for blk in reader.blocks(0, fit_rows, rows_per_block):
        start = blk.r0
        if blk.r0 == 0:
            _guard(proc.fit, blk.inputs[:1], blk.targets[:1], sample_rate=rate)
            d = np.asarray(blk.targets, dtype=np.float64)
            rms = math.sqrt(float(np.mean(np.square(d))))
            proc.error_limit = DIVERGENCE_FACTOR * max(rms, float(np.finfo(np.float64).tiny))
            block_sse[0] += float(np.sum(np.square(d[:1])))  # zero initial weights: the a-priori error is d
            outputs = int(proc.weights.shape[0])
            if edges[1] == 1:
                block_weights.append(proc.weights[0].tolist())
            start = 1
        while start < blk.r1:
            i = int(np.searchsorted(edges, start, side="right")) - 1
            stop = min(int(edges[i + 1]), blk.r1)
            lo, hi = start - blk.r0, stop - blk.r0
            y = _guard(proc.predict_online, blk.inputs[lo:hi], blk.targets[lo:hi])
            d = np.asarray(blk.targets[lo:hi], dtype=np.float64).reshape(hi - lo, -1)
            block_sse[i] += float(np.sum(np.square(d - np.asarray(y).reshape(hi - lo, -1))))
            if stop == edges[i + 1]:
                block_weights.append(proc.weights[0].tolist())
            start = stop
    samples = [int(s) for s in edges[1:]]
    error_db: list[float] = []
    for (a, b), sse in zip(itertools.pairwise(edges), block_sse, strict=True):
        power = float(sse) / ((int(b) - int(a)) * outputs)
        error_db.append(10.0 * math.log10(power) if power > 0 else -300.0)
    final = float(np.mean(error_db[-max(1, len(error_db) // 5):]))
    converged = next((s for s, e in zip(samples, error_db, strict=True) if e <= final + 1.0), samples[-1])
    proc.convergence = {"sample": samples, "error_db": error_db, "weights": block_weights,
                        "steady_error_db": final, "convergence_samples": int(converged)}


def _fit_wiener(proc: Any, reader: _Reader, fit_rows: int, rate: float) -> None:
    """Least squares (block QR) or Wiener-Hopf (streamed correlations) over the fit rows."""
    from sigbench.plugins.dsp._adaptive import resolve_numtaps
    from sigbench.plugins.dsp.wiener import tsqr_solve, tsqr_start, tsqr_update

    first = reader.block(0, min(_WIENER_BLOCK_ROWS, fit_rows))
    _guard(proc.fit, first.inputs, first.targets, sample_rate=rate)  # checks, bookkeeping
    window = reader.layout.window
    numtaps = resolve_numtaps(proc.numtaps_param, window)
    outputs = int(proc.weights.shape[1])
    toeplitz = proc.method == "toeplitz"
    loading = float(proc.loading)
    if toeplitz:
        n_s = fit_rows + numtaps - 1  # length of the stream behind the fit rows' newest numtaps samples
        w0 = window - numtaps
        acf = np.zeros(numtaps)
        p = np.zeros((numtaps, outputs))
    else:
        r = tsqr_start(numtaps, outputs, fit_rows, loading)
    for blk in itertools.chain([first], reader.blocks(first.r1, fit_rows, _WIENER_BLOCK_ROWS)):
        x = np.asarray(blk.inputs[:, window - numtaps:], dtype=np.float64)
        d = np.asarray(blk.targets, dtype=np.float64).reshape(blk.r1 - blk.r0, -1)
        if not np.isfinite(d).all():
            raise _MethodFailed("ValidationError: expected finite targets; received: NaN/inf in targets")
        if toeplitz:
            p += x.T @ d
            stream = np.asarray(blk.stream, dtype=np.float64)
            t_stop = blk.r1 if blk.r1 < fit_rows else n_s
            for lag in range(numtaps):
                hi = min(t_stop, n_s - lag) - blk.r0
                if hi > 0:
                    acf[lag] += float(np.dot(stream[w0: w0 + hi], stream[w0 + lag: w0 + lag + hi]))
        else:
            r = tsqr_update(r, x, d)
    if toeplitz:
        from scipy.linalg import solve_toeplitz

        acf /= n_s
        acf[0] += loading
        p /= fit_rows
        weights = np.asarray(solve_toeplitz(acf, p), dtype=np.float64).reshape(numtaps, -1)
    else:
        weights = tsqr_solve(r, numtaps)
    proc.weights = weights


def _check_budget(lazy: LazySignal, fit_stop: int, as_float64: bool, budget: int, method: str) -> None:
    """Refuse a method that must load its fit segment when that segment exceeds the memory budget."""
    itemsize = np.dtype(lazy.header.dtype).itemsize
    channels = 1 if len(lazy.shape) == 1 else int(lazy.shape[1])
    need = fit_stop * itemsize * channels * (2 if lazy.has_clean else 1) + (fit_stop * 8 if as_float64 else 0)
    if need > budget:
        raise SigbenchError(
            f"{method} cannot stream its training: its fit segment ({need / 2**20:.0f} MiB) is over the memory "
            f"budget ({budget / 2**20:.0f} MiB); raise --memory-budget / SIGBENCH_MEMORY_BUDGET, train on fewer "
            "samples (--train-samples), or use a method that streams (lms, nlms, rls, wiener, naive)"
        )


def _fit_loaded(proc: Any, reader: _Reader, fit_rows: int, rate: float) -> None:
    """Fit on the whole fit segment, loaded (the caller checked the memory budget)."""
    blk = reader.block(0, fit_rows)
    _guard(proc.fit, blk.inputs, blk.targets, sample_rate=rate)


# -- the run -------------------------------------------------------------------------------------
class _Sink:
    """Resizable datasets written block by block (predictions and the test arrays)."""

    def __init__(self, group: h5py.Group | None) -> None:
        self.group = group
        self.sets: dict[str, h5py.Dataset] = {}

    def append(self, key: str, values: np.ndarray) -> None:
        if self.group is None:
            return
        ds = self.sets.get(key)
        if ds is None:
            ds = self.group.create_dataset(key, shape=(0, *values.shape[1:]), maxshape=(None, *values.shape[1:]),
                                           dtype=values.dtype, chunks=(CHUNK_SAMPLES, *values.shape[1:]))
            self.sets[key] = ds
        n = ds.shape[0]
        ds.resize(n + values.shape[0], axis=0)
        ds[n:] = values

    def drop(self, key: str) -> None:
        """Delete a dataset written so far (a failed method's partial predictions)."""
        ds = self.sets.pop(key, None)
        if ds is not None and self.group is not None:
            del self.group[key]


@dataclass
class _Point:
    """One grid point of a streamed run: the rows' geometry and the split in rows."""

    grid: dict[str, Any]
    lay: _Layout
    fit_rows: int
    val: tuple[int, int]
    test: tuple[int, int]
    rows_per_block: int
    options: dict[str, Any]  # task options of the point (window, horizon, …)


def _point(grid: dict[str, Any], task: str, opts: dict[str, Any], n: int, protocol: Any, chunk: int) -> _Point:
    lay = _layout(task, int(opts["window"]), int(opts["horizon"]), bool(opts["centered"]), n)
    if chunk < lay.span:
        what = "window + horizon" if task == "predict" else "window"
        raise ValidationError(f"expected chunk_samples >= {lay.span} (one row: {what}); "
                              f"received: chunk_samples={chunk}")
    a, b, n_all = protocol.boundaries(lay.n)
    fit = lay.rows_within(0, b)
    test = lay.rows_within(b, n_all)
    for name, (r0, r1), length in (("training", fit, b), ("test", test, n_all - b)):
        if r1 - r0 < 2:
            raise ValidationError(f"expected the {name} segment ({length} samples) to hold rows of {lay.span} "
                                  f"samples; received: window={lay.window}, segment of {length} samples")
    return _Point(grid, lay, fit[1], lay.rows_within(a, b), test, chunk - lay.span + 1, opts)


@dataclass
class _Context:
    """What every cell of a streamed run shares."""

    lazy: LazySignal
    task: str
    channel: int
    use_clean: bool
    rate: float
    chunk: int
    budget: int
    metric_names: tuple[str, ...]
    sink: _Sink
    raise_budget: bool  # a run refuses a method over the budget; a comparison records a failed row


def _append_test_arrays(sink: _Sink, blk: _Block, offset: int) -> list[str]:
    """Append a block's test targets, their sample indices and the observations; returns the sink keys."""
    keys = []
    for name, values in (("targets", np.asarray(blk.targets)),
                         ("target_index", np.arange(blk.r0, blk.r1, dtype=np.int64) + offset),
                         ("observed", np.asarray(blk.observed))):
        sink.append(f"test_{name}", values)
        keys.append(f"test_{name}")
    return keys


def _job_view(pt: _Point) -> Any:
    """The parts of a runner job that :func:`sigbench.runner._final_options` reads."""
    return SimpleNamespace(data=SimpleNamespace(options=pt.options),
                           seg=SimpleNamespace(fit=slice(0, pt.fit_rows), val=slice(*pt.val)))


def _stream_cell(ctx: _Context, pt: _Point, cls: Any, label: str, options: dict[str, Any], seed: int,
                 key: str | None, write_test: bool, reader: _Reader | None = None) -> dict[str, Any]:
    """Fit one method (one seed) from the stream and predict the test rows chunk by chunk.

    Returns the runner's cell output (``metrics``, ``fit_s``, …) or ``{"error": …}`` for a failed method.
    Predictions go to ``ctx.sink`` under ``key`` (none when ``key`` is None), the test arrays too when
    ``write_test``.
    """
    from sigbench.executors import _time_latency

    lay = pt.lay
    as_float64 = cls.family == "dsp"
    if reader is None:
        reader = _Reader(ctx.lazy, lay, ctx.channel, ctx.use_clean, as_float64=as_float64)
    written: list[str] = []
    try:
        try:
            proc = cls(**options)
        except Exception as exc:
            raise _MethodFailed(f"{type(exc).__name__}: {exc}".splitlines()[0]) from exc
        strategy = _strategy(cls, proc)
        if strategy == "load":  # refuse before any work is done
            try:
                _check_budget(ctx.lazy, pt.fit_rows - 1 + lay.span, as_float64, ctx.budget, label)
            except SigbenchError as exc:
                if ctx.raise_budget:
                    raise
                raise _MethodFailed(str(exc)) from exc
        t0 = time.perf_counter()
        if strategy == "adaptive":
            _fit_adaptive(proc, reader, pt.fit_rows, pt.rows_per_block, ctx.rate)
        elif strategy == "wiener":
            _fit_wiener(proc, reader, pt.fit_rows, ctx.rate)
        elif strategy == "stateless":
            first = reader.block(0, min(pt.rows_per_block, pt.fit_rows))
            _guard(proc.fit, first.inputs, first.targets, sample_rate=ctx.rate)
        elif strategy == "file-rows":
            _fit_file_rows(proc, ctx, pt)
        else:
            _fit_loaded(proc, reader, pt.fit_rows, ctx.rate)
        fit_s = time.perf_counter() - t0
        proc.fit_s = fit_s
        reader.cover_until(pt.test[0], pt.rows_per_block + lay.span - 1)
        sums = _ErrorSums()
        predict_s = 0.0
        latency = math.nan
        for blk in reader.blocks(pt.test[0], pt.test[1], pt.rows_per_block):
            t1 = time.perf_counter()
            pred = np.asarray(_guard(proc.predict, blk.inputs), dtype=np.float64)
            predict_s += time.perf_counter() - t1
            if pred.shape != blk.targets.shape:
                raise _MethodFailed(f"ValueError: expected predictions of shape {blk.targets.shape}; "
                                    f"received: {pred.shape}")
            bad = ~np.isfinite(pred)
            if bad.any():
                raise _MethodFailed(f"ValueError: non-finite predictions (first at test row "
                                    f"{blk.r0 - pt.test[0] + int(np.argwhere(bad)[0][0])})")
            if blk.r0 == pt.test[0]:
                latency = _guard(_time_latency, proc, blk.inputs[:1])
            sums.add(blk.targets, pred, blk.observed)
            if key is not None:
                ctx.sink.append(key, pred)
                written.append(key)
            if write_test:
                written.extend(_append_test_arrays(ctx.sink, blk, lay.offset))
    except _MethodFailed as exc:
        for name in set(written):
            ctx.sink.drop(name)
        return {"error": str(exc)}
    n_test = pt.test[1] - pt.test[0]
    return {"metrics": sums.metrics(ctx.metric_names), "mse": sums.sse / sums.n, "fit_s": fit_s,
            "predict_s": predict_s, "samples_per_s": n_test / predict_s if predict_s > 0 else math.inf,
            "latency_s": latency, "describe": proc.describe(), "seed": seed}


def _fit_file_rows(proc: Any, ctx: _Context, pt: _Point) -> None:
    """Fit a processor that reads its training rows from the file in batches (the neural processors)."""
    from sigbench.file_windows import FileWindows

    lay = pt.lay
    opts = pt.options
    rows = FileWindows(ctx.lazy, task=ctx.task, window=lay.window, horizon=int(opts.get("horizon", 1)),
                       centered=bool(opts.get("centered", False)), channel=ctx.channel,
                       target="auto" if ctx.use_clean else "observed", stop=pt.fit_rows,
                       block_rows=pt.rows_per_block)
    try:
        _guard(proc.fit, rows, sample_rate=ctx.rate)
    finally:
        rows.close()


def _row(m: Any, grid: dict[str, Any], outs: list[dict[str, Any]], bound_mse: float | None,
         with_excess: bool) -> MethodRow:
    """A result row from the cells of one method (one per seed), as the in-memory runner builds it."""
    row = MethodRow(method=m.spec.label, name=m.spec.name, family=str(getattr(m.cls, "family", "?")),
                    options=dict(m.options), grid=dict(grid), is_reference=bool(getattr(m, "is_reference", False)),
                    is_chain=bool(getattr(m.cls, "is_chain", False)))
    per_seed = []
    for out in outs:
        row.seeds.append(out.get("seed", 0))
        if "error" in out:
            row.status, row.error = "failed", out["error"]
            break
        metrics = dict(out["metrics"])
        if with_excess and bound_mse is not None:
            metrics["excess_db"] = db_ratio(out["mse"], bound_mse)
        per_seed.append({"seed": out["seed"], "metrics": metrics, "fit_s": out["fit_s"],
                         "predict_s": out["predict_s"], "samples_per_s": out["samples_per_s"],
                         "latency_s": out["latency_s"]})
    if per_seed:
        row.describe = outs[0]["describe"]
    row.per_seed = per_seed
    if row.status != "ok":
        return row
    for name in per_seed[0]["metrics"]:
        mean, ci = mean_ci([c["metrics"][name] for c in per_seed])
        row.metrics[name] = mean
        row.metrics[f"{name}_ci"] = ci
    desc = row.describe
    fit_s = [c["fit_s"] for c in per_seed]
    row.cost = {"params": desc.get("trainable_params"), "macs_per_sample": desc.get("macs_per_sample"),
                "memory_bytes": desc.get("memory_bytes"), "fit_s": float(np.mean(fit_s)),
                "fit_s_ci": mean_ci(fit_s)[1],
                "samples_per_s": float(np.mean([c["samples_per_s"] for c in per_seed])),
                "latency_s": float(np.mean([c["latency_s"] for c in per_seed]))}
    if desc.get("convergence_samples") is not None:
        row.metrics["convergence_samples"] = float(desc["convergence_samples"])
    return row


def run_stream_cell(spec: dict[str, Any], label: str, name: str, options: dict[str, Any], seed: int) -> dict[str, Any]:
    """Worker side of a parallel streamed run: one (grid point, method, seed) cell.

    ``spec`` names the file and the point (``path``, ``signal_name``, ``task``, ``task_options``,
    ``protocol``, ``grid``, ``channel``, ``use_clean``, ``chunk``, ``budget``, ``metrics``); the worker
    opens the file itself (shared storage), so no signal data travels with the cell. With ``parts`` (a
    directory beside the result file) the cell also writes its predictions there, chunk by chunk, into a
    file of its own, and returns its path as ``part`` for the client to copy into the result file.
    """
    from sigbench.executors import resolve_class
    from sigbench.protocol import Protocol

    cls = resolve_class(label, name)
    part: Path | None = None
    if spec.get("parts"):
        part = Path(spec["parts"]) / f"{spec['cell_key']}-{spec['labels'].index(label)}-{seed}.h5"
    tmp = None if part is None else part.with_suffix(".tmp")
    try:
        with open_signal(spec["path"], spec["signal_name"]) as lazy, \
                (h5py.File(tmp, "w") if tmp is not None else nullcontext(None)) as out_file:
            pt = _point(spec["grid"], spec["task"], spec["task_options"], lazy.n_samples,
                        Protocol(**spec["protocol"]), spec["chunk"])
            ctx = _Context(lazy, spec["task"], spec["channel"], spec["use_clean"], lazy.sample_rate_hz,
                           spec["chunk"], spec["budget"], tuple(spec["metrics"]), _Sink(out_file), raise_budget=False)
            out = _stream_cell(ctx, pt, cls, label, options, seed, "prediction" if part is not None else None, False)
        if part is not None and tmp is not None and "error" not in out:
            os.replace(tmp, part)
            out["part"] = str(part)
        return out
    finally:
        if tmp is not None and tmp.exists():
            tmp.unlink()


def _run_cells_parallel(path: str, signal_name: str | None, task: str, task_obj: Any, protocol: Any,
                        methods_r: list[Any], order: list[int], geometry: list[_Point], channel: int, use_clean: bool,
                        chunk: int, budget: int, add_row: Callable[..., float | None],
                        kept: Callable[[_Point, Any], MethodRow | None], *, workers: int,
                        timeout: float | None, scheduler: str | None, writer: _Writer | None = None,
                        parts: Path | None = None) -> None:
    """Run every cell on an executor (process pool or Dask); rows are added as their point completes.

    Rows ``kept`` from a resumed run are not recomputed. With ``parts`` the workers write their predictions
    there and the client copies each into ``writer``'s staging group as it arrives."""
    from sigbench.console import CellProgress, escape, get_console, is_quiet
    from sigbench.engine import _with_grid_options
    from sigbench.executors import Cell, DataRecipe, make_executor
    from sigbench.runner import _final_options

    recipes: dict[int, DataRecipe] = {}
    cells: list[Cell] = []
    expected: dict[int, int] = {}
    methods: dict[int, list[Any]] = {}
    for j, pt in enumerate(geometry):
        spec = {"path": path, "signal_name": signal_name, "task": task, "task_options": pt.options,
                "protocol": protocol.as_dict(), "grid": pt.grid, "channel": channel, "use_clean": use_clean,
                "chunk": chunk, "budget": budget, "metrics": list(task_obj.metrics),
                "parts": str(parts) if parts is not None else None, "cell_key": j,
                "labels": [m.spec.label for m in methods_r]}
        recipes[j] = DataRecipe("stream", task, pt.options, protocol.as_dict(), path=path, signal_name=signal_name,
                                stream=spec)
        methods[j] = [_with_grid_options(methods_r[i], pt.grid) for i in order]
        todo = [m for m in methods[j] if kept(pt, m) is None]
        for m in todo:
            for s in protocol.seed_list(m.stochastic):
                cells.append(Cell(j, m.spec.label, m.spec.name, _final_options(m, _job_view(pt), s), s, False))
        expected[j] = sum(len(protocol.seed_list(m.stochastic)) for m in todo)
    outs: dict[int, dict[tuple[str, int], dict[str, Any]]] = {j: {} for j in recipes}
    console = get_console()

    def finish(j: int) -> None:  # the point is complete: its rows, reference first
        bound: float | None = None
        for m in methods[j]:
            previous = kept(geometry[j], m)
            bound = add_row(geometry[j], m, previous if previous is not None else [
                outs[j][(m.spec.label, s)] for s in protocol.seed_list(m.stochastic)], bound)

    for j in recipes:
        if expected[j] == 0:  # every row of this point was kept from the resumed run
            finish(j)
    executor = make_executor({}, workers=workers, timeout=timeout, scheduler=scheduler)
    try:
        with CellProgress(len(cells), getattr(executor, "slots", 1)) as progress:
            for cell, out in executor.run(cells, recipes):
                progress.advance(failed="error" in out)
                if not is_quiet():
                    grid = " ".join(f"{k}={v}" for k, v in geometry[cell.job].grid.items())
                    what = f"  {escape(grid + ' ' if grid else '')}{escape(cell.label)} seed {cell.seed}"
                    console.print(f"{what} [red]failed[/]: {escape(out['error'])}" if "error" in out
                                  else f"{what}: fit {out['fit_s']:.2f} s")
                out.setdefault("seed", cell.seed)
                part = out.pop("part", None)
                if part is not None:
                    if writer is not None and writer.f is not None and writer.sink.group is not None:
                        key = f"pred_{[m.spec.label for m in methods_r].index(cell.label)}_{cell.seed}"
                        with h5py.File(part, "r") as src:
                            writer.f.copy(src["prediction"], writer.sink.group, name=key)
                        writer.stored[(cell.label, cell.seed)] = key
                    Path(part).unlink(missing_ok=True)
                outs[cell.job][(cell.label, cell.seed)] = out
                if len(outs[cell.job]) == expected[cell.job]:
                    finish(cell.job)
    finally:
        executor.close()


#: a streamed run checkpoints when the work since its last checkpoint is at least this many times what copying
#: the result file cost (each checkpoint copies the file, signal included): at most ~1/4 overhead on long files,
#: a checkpoint after every method on short ones
_CHECKPOINT_FACTOR = 4.0


class _Writer:
    """The result file of a streamed run, written as a series of atomic checkpoints.

    Each segment is one :func:`~sigbench.h5.atomic_h5` write: the previous checkpoint (or the input file) is
    copied into a temporary file beside the target, the new predictions are streamed into a staging group,
    and :meth:`checkpoint` publishes the run (rows so far, predictions moved into ``/runs/<id>/methods``) and
    swaps the file in. Moves inside an HDF5 file are renames, so publishing costs nothing per sample.
    """

    def __init__(self, output: str | os.PathLike[str] | None, base: str | os.PathLike[str], run_id: str) -> None:
        self.output, self.base, self.run_id = output, base, run_id
        self.sink = _Sink(None)
        self.stored: dict[tuple[str, int], str] = {}  # (label, seed) -> staging key of published predictions
        self.test_written = False
        self._cm: Any = None
        self.f: h5py.File | None = None
        self.copy_s = 0.0
        self._since = time.monotonic()

    def open(self) -> None:
        if self.output is None:
            return
        t0 = time.monotonic()
        self._cm = atomic_h5(self.output, base=self.base)
        self.f = self._cm.__enter__()
        self.copy_s = time.monotonic() - t0
        self._since = time.monotonic()
        self.sink.group = self.f.create_group(f"_stream_{self.run_id}")
        self.sink.sets = {}

    def due(self) -> bool:
        """Whether enough work was done since the last checkpoint to pay for a copy of the file."""
        return self.f is not None and time.monotonic() - self._since >= _CHECKPOINT_FACTOR * self.copy_s

    def _publish(self, res: Results) -> None:
        f, stage = self.f, self.sink.group
        assert f is not None and stage is not None
        runs = f.get("runs")
        if isinstance(runs, h5py.Group) and self.run_id in runs:  # published earlier: aside while the run is rebuilt
            run = runs[self.run_id]
            keys = {(label, s): key for (label, s), key in self.stored.items()}
            for g in list(run.get("methods", {}).values()):
                label = str(g.attrs["label"])
                for name in list(g):
                    key = keys.get((label, int(name.removeprefix("seed_"))))
                    if key is not None:
                        f.move(f"{g.name}/{name}", f"{stage.name}/{key}")
            for name in list(run.get("test", {})):
                f.move(f"{run.name}/test/{name}", f"{stage.name}/test_{name}")
        res.write_into(f, extra_labels={label for label, _ in self.stored})
        run = f["runs"][self.run_id]
        for name in ("targets", "target_index", "observed"):
            if f"test_{name}" in stage:
                f.move(f"{stage.name}/test_{name}", f"{run.name}/test/{name}")
        groups = {str(g.attrs["label"]): g for g in run["methods"].values()}
        for (label, s), key in self.stored.items():
            if key in stage and label in groups:
                f.move(f"{stage.name}/{key}", f"{groups[label].name}/seed_{s}")
        del f[stage.name]  # with a method's partial predictions, if it was interrupted

    def checkpoint(self, res: Results, *, reopen: bool = True) -> None:
        """Publish the run as it stands and swap the file in; then start the next segment."""
        if self.f is None:
            return
        self._publish(res)
        cm, self._cm, self.f, self.sink.group = self._cm, None, None, None
        cm.__exit__(None, None, None)
        self.base = self.output  # type: ignore[assignment]
        if reopen:
            self.open()

    def abort(self, exc: BaseException) -> None:
        """Drop the current segment (the target keeps its last checkpoint, or stays as it was)."""
        cm, self._cm, self.f, self.sink.group = self._cm, None, None, None
        if cm is not None:
            cm.__exit__(type(exc), exc, exc.__traceback__)


def _published(output: str | os.PathLike[str], run_id: str) -> tuple[set[tuple[str, int]], bool]:
    """(label, seed) of the predictions a checkpoint holds, and whether it holds the test arrays."""
    from sigbench.h5 import open_file

    with open_file(output) as f:
        run = f["runs"][run_id]
        preds = {(str(g.attrs["label"]), int(name.removeprefix("seed_")))
                 for g in run.get("methods", {}).values() for name in g}
        return preds, "targets" in run.get("test", {})


def _streamed(kind: str, path: str | os.PathLike[str], task: str, methods: list[str] | None, *, seeds: int,
              seed: int, reference: str, include_naive: bool, grid: dict[str, list[Any]] | None,
              task_opts: dict[str, Any], split: tuple[float, float, float], train_samples: int | None,
              output: str | os.PathLike[str] | None, chunk_samples: int, signal_name: str | None,
              budget_bytes: int | None, workers: int = 1, timeout: float | None = None,
              scheduler: str | None = None, resume: bool = False) -> Results:
    """The streamed engine behind :func:`stream_run` and :func:`stream_compare`."""
    from sigbench.engine import _config, _grid_points, _with_grid_options, resolve_methods
    from sigbench.host import get_host
    from sigbench.protocol import Protocol
    from sigbench.runner import RunInfo, _final_options, _new_run_id, find_resumable

    window = positive_int("window", task_opts["window"])
    horizon = positive_int("horizon", task_opts["horizon"])
    task_opts = {**task_opts, "window": window, "horizon": horizon, "hop": None}
    chunk = positive_int("chunk_samples", chunk_samples)
    if task_opts["target"] not in ("auto", "observed"):
        raise ValidationError(f"expected target auto or observed; received: target={task_opts['target']!r}")
    budget = memory_budget_bytes() if budget_bytes is None else int(budget_bytes)
    registry = get_host().registry
    task_obj = registry.get("tasks", task).obj
    protocol = Protocol(*split, train_samples=train_samples, mode="offline", seeds=seeds, seed=seed,
                        reference=reference)
    methods_r = resolve_methods(methods, task_obj, reference, include_naive=include_naive)
    grid = dict(grid or {})
    for grid_key in grid:
        if grid_key not in ("window", "horizon") and not ("." in grid_key and any(
                m.spec.name == grid_key.split(".", 1)[0] for m in methods_r)):
            raise ValidationError(f"expected grid keys window, horizon or METHOD.OPTION for a signal file; "
                                  f"received: {grid_key!r}")
    points = _grid_points(grid) if grid else [{}]
    src = str(path)
    with open_signal(path, signal_name) as lazy:
        ch = _channel_index(lazy, task_opts["channel"])
        use_clean = task_opts["target"] == "auto" and lazy.has_clean
        geometry = [_point(p, task, {**task_opts, **{k: v for k, v in p.items() if k in ("window", "horizon")}},
                           lazy.n_samples, protocol, chunk) for p in points]
        rate = lazy.sample_rate_hz
        header = lazy.header
        metric = registry.get("metrics", task_obj.main_metric)
        summary: dict[str, Any] = {
            "name": lazy.name, "path": src, "samples": lazy.n_samples,
            "channels": 1 if len(lazy.shape) == 1 else lazy.shape[1], "sample_rate_hz": rate, "snr_db": None,
            "source": header.metadata.get("source"), "seed": header.metadata.get("seed"),
            "params": header.metadata.get("params"), "target_kind": "clean" if use_clean else "observed"}
        config = _config(kind, task_obj, methods_r, protocol, task_opts, summary, grid or None)
        previous = (find_resumable(output, config, predictions=False, test=False)
                    if resume and output is not None and Path(output).exists() else None)
        higher = bool(metric.info.get("higher_is_better", True))
        res = Results(run_id=previous.run_id if previous else _new_run_id(), kind=kind, task=task_obj.name,
                      main_metric=task_obj.main_metric, higher_is_better=higher, signal=summary,
                      protocol=protocol.as_dict(), bound={}, config=config,
                      environment=environment(), status="partial",
                      created=_dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"))
        res.environment["execution"] = {"streamed": True, "chunk_samples": chunk}
        parallel = workers > 1 or timeout is not None or scheduler is not None
        keep = kind != "sweep"
        writer = _Writer(output, output if previous is not None else path, res.run_id)  # type: ignore[arg-type]
        order = sorted(range(len(methods_r)), key=lambda i: not methods_r[i].is_reference)
        done: dict[tuple[tuple[tuple[str, Any], ...], str], MethodRow] = {}
        if previous is not None and output is not None:
            done = {(tuple(sorted(r.grid.items())), r.method): r for r in previous.rows}
            if previous.signal.get("snr_db") is not None:
                summary["snr_db"] = previous.signal["snr_db"]
            preds, writer.test_written = _published(output, res.run_id)
            index = {m.spec.label: i for i, m in enumerate(methods_r)}
            writer.stored = {(label, s): f"pred_{index[label]}_{s}" for label, s in preds if label in index}
        ctx = _Context(lazy, task, ch, use_clean, rate, chunk, budget, task_obj.metrics, writer.sink,
                       raise_budget=kind == "run")
        first = previous is None or summary["snr_db"] is None
        host = get_host()
        info = RunInfo(res.run_id, task_obj.name, [m.spec.label for m in methods_r], protocol.as_dict(), summary, res)
        res.warnings.extend(host.call_observers("on_run_start", run=info))
        with_excess = "excess_db" in task_obj.metrics

        def add_row(pt: _Point, m: Any, outs: list[dict[str, Any]] | MethodRow,
                    bound_mse: float | None) -> float | None:
            """Append the row of ``m``'s cells (or a row kept from the resumed run); returns the point's bound."""
            if isinstance(outs, MethodRow):
                row = outs
                if m.is_reference and row.status == "ok":
                    bound_mse = row.metrics.get("mse")
            else:
                if m.is_reference and outs and "error" not in outs[-1]:
                    bound_mse = outs[0]["mse"]
                row = _row(m, pt.grid, outs, bound_mse, with_excess)
            if m.is_reference and row.status == "ok":
                bound = {"method": m.spec.label, "mse": row.metrics.get("mse"), "snr_db": row.metrics.get("snr_db")}
                if kind == "sweep":
                    res.bound.setdefault("per_grid", []).append({"grid": pt.grid, **bound})
                else:
                    res.bound = bound
            res.rows.append(row)
            res.warnings.extend(host.call_observers("on_method_done", run=info, method=m.spec.label, result=row))
            if writer.due():
                writer.checkpoint(res)
            return bound_mse

        def kept(pt: _Point, m: Any) -> MethodRow | None:
            return done.get((tuple(sorted(pt.grid.items())), m.spec.label))

        writer.open()
        try:
            if parallel:
                if first:
                    reader = _Reader(lazy, geometry[0].lay, ch, use_clean, as_float64=False)
                    reader.cover_until(lazy.n_samples, chunk)  # bad samples are an error before any work
                    summary["snr_db"] = reader.snr_db()
                parts = None
                if keep and output is not None:
                    if not writer.test_written:  # the test arrays, written here once (the cells write predictions)
                        pt0 = geometry[0]
                        reader = _Reader(lazy, pt0.lay, ch, use_clean, as_float64=False)
                        for blk in reader.blocks(pt0.test[0], pt0.test[1], pt0.rows_per_block):
                            _append_test_arrays(writer.sink, blk, pt0.lay.offset)
                        writer.test_written = True
                    parts = Path(tempfile.mkdtemp(prefix=f".{Path(output).name}.parts-", dir=Path(output).parent))
                try:
                    _run_cells_parallel(src, signal_name, task, task_obj, protocol, methods_r, order, geometry,
                                        ch, use_clean, chunk, budget, add_row, kept, workers=workers,
                                        timeout=timeout, scheduler=scheduler, writer=writer, parts=parts)
                finally:
                    if parts is not None:
                        shutil.rmtree(parts, ignore_errors=True)
            for pt in ([] if parallel else geometry):
                bound_mse: float | None = None
                for i in order:
                    m = _with_grid_options(methods_r[i], pt.grid)
                    previous_row = kept(pt, m)
                    if previous_row is not None:
                        bound_mse = add_row(pt, m, previous_row, bound_mse)
                        continue
                    outs = []
                    for s in protocol.seed_list(m.stochastic):
                        key: str | None = f"pred_{i}_{s}" if keep and output is not None else None
                        reader = _Reader(lazy, pt.lay, ch, use_clean, as_float64=m.cls.family == "dsp")
                        out = _stream_cell(ctx, pt, m.cls, m.spec.label, _final_options(m, _job_view(pt), s),
                                           s, key, write_test=keep and not writer.test_written, reader=reader)
                        if first:  # one full pass checks every sample and measures the signal's SNR
                            reader.cover_until(lazy.n_samples, chunk)
                            summary["snr_db"] = reader.snr_db()
                            first = False
                        if "error" not in out:
                            writer.test_written = writer.test_written or keep
                            if key is not None:
                                writer.stored[(m.spec.label, s)] = key
                        outs.append(out)
                        if "error" in out:
                            break
                    bound_mse = add_row(pt, m, outs, bound_mse)
        except KeyboardInterrupt as exc:
            if not res.rows or writer.f is None:  # nothing finished (or no file): leave the target as it was
                writer.abort(exc)
                raise
            res.status = "interrupted"  # keep the finished rows, marked interrupted
            res.sort()
            writer.checkpoint(res, reopen=False)
            raise
        except BaseException as exc:
            writer.abort(exc)
            raise
        res.status = "complete"
        res.sort()
        res.warnings.extend(host.call_observers("on_run_end", run=info))
        writer.checkpoint(res, reopen=False)
    return res


def stream_run(method: str, path: str | os.PathLike[str], *, task: str = "predict", window: int = 64,
               horizon: int = 1, centered: bool = False, channel: int | str = 0, target: str = "auto",
               split: tuple[float, float, float] = (0.6, 0.2, 0.2), train_samples: int | None = None,
               seed: int = 0, output: str | os.PathLike[str] | None = None,
               chunk_samples: int = DEFAULT_CHUNK_SAMPLES, signal_name: str | None = None,
               budget_bytes: int | None = None) -> Results:
    """Run one method on a signal file chunk by chunk, with memory bounded by ``chunk_samples``.

    The result is that of :func:`sigbench.run_method` on the same file (same rows, same split, same
    metrics to rounding; see the module docstring for how each method trains from a stream).

    Parameters
    ----------
    method : str
        Method specification ``name[:key=value,…]``.
    path : path-like
        A sigbench HDF5 file.
    task : {"predict", "denoise"}, default "predict"
    window, horizon, centered, channel, target
        Task options as in :meth:`sigbench.tasks.Task.prepare` (hop is 1).
    split, train_samples
        The chronological split (see :class:`sigbench.protocol.Protocol`).
    seed : int, default 0
        Seed of a stochastic method (one seed).
    output : path-like, optional
        Result file: the input file's contents plus this run, written atomically; the predictions and
        the test arrays are written chunk by chunk. Without it only the metrics are returned.
    chunk_samples : int, default 2**20
        Samples read per chunk; at least ``window + horizon`` (``window`` for denoise).
    signal_name : str, optional
        Signal of a file that holds several.
    budget_bytes : int, optional
        Memory budget for methods that must load their fit segment (default
        :func:`sigbench.h5.memory_budget_bytes`).

    Returns
    -------
    Results
        One row (kind ``run``); ``predictions`` and ``test`` are left empty (they are in ``output``:
        read them with :func:`sigbench.load_results`).

    Raises
    ------
    ValidationError
        Bad options, ``chunk_samples`` shorter than a row, segments without rows, non-finite samples.
    SigbenchError
        The method cannot stream its training and its fit segment exceeds the budget.
    """
    return _streamed("run", path, task, [method], seeds=1, seed=seed, reference="", include_naive=False, grid=None,
                     task_opts={"window": window, "horizon": horizon, "centered": centered, "channel": channel,
                                "target": target},
                     split=split, train_samples=train_samples, output=output, chunk_samples=chunk_samples,
                     signal_name=signal_name, budget_bytes=budget_bytes)


def stream_compare(path: str | os.PathLike[str], task: str = "predict", methods: list[str] | None = None, *,
                   seeds: int = 3, seed: int = 0, reference: str = "wiener", include_naive: bool = True,
                   window: int = 64, horizon: int = 1, centered: bool = False, channel: int | str = 0,
                   target: str = "auto", split: tuple[float, float, float] = (0.6, 0.2, 0.2),
                   train_samples: int | None = None, output: str | os.PathLike[str] | None = None,
                   chunk_samples: int = DEFAULT_CHUNK_SAMPLES, signal_name: str | None = None,
                   budget_bytes: int | None = None, grid: dict[str, list[Any]] | None = None, workers: int = 1,
                   timeout: float | None = None, scheduler: str | None = None, resume: bool = False) -> Results:
    """Compare methods (or sweep a grid) on a signal file chunk by chunk, with bounded memory.

    Every (grid point, method, seed) is one streamed pass as in :func:`stream_run`; the reference runs
    first so that each row's ``excess_db`` is known. With ``grid`` (keys ``window``, ``horizon`` or
    ``METHOD.OPTION``) the result is a sweep (kind ``sweep``, no predictions kept), else a comparison.

    Parameters
    ----------
    path : path-like
        A sigbench HDF5 file.
    task : {"predict", "denoise"}, default "predict"
    methods : list of str, optional
        Method specifications; default per task, as :func:`sigbench.compare`. The reference and
        ``naive`` are added.
    seeds, seed, reference, include_naive, window, horizon, centered, channel, target, split, train_samples
        As :func:`sigbench.compare` (offline protocol, hop 1).
    output : path-like, optional
        Result file; predictions and test arrays are written chunk by chunk. It is checkpointed atomically
        after a finished method whenever the work since the last checkpoint is at least four times what the
        last copy of the file cost (after every method on short files), at the end, and on Ctrl-C (the
        finished rows, marked ``interrupted``).
    chunk_samples, signal_name, budget_bytes
        As :func:`stream_run`. A method that can neither stream its training nor load its fit segment
        within the budget is a failed row.
    grid : dict, optional
        Grid of a streamed sweep.
    resume : bool, default False
        Keep the finished rows (and their predictions) of a run of ``output`` with the same configuration
        and compute only the others.
    workers, timeout, scheduler
        Run the cells (grid point × method × seed) on a process pool or Dask, as :func:`sigbench.compare`;
        each worker streams the file from its path (shared storage) and its predictions into a file of its
        own beside ``output``, which the client copies into the result file. Rows, metrics, bound and
        predictions are those of the serial run.

    Returns
    -------
    Results
        Kind ``compare`` (``sweep`` with a grid), rows sorted by the main metric.
    """
    return _streamed("sweep" if grid else "compare", path, task, methods, seeds=seeds, seed=seed,
                     reference=reference, include_naive=include_naive, grid=grid,
                     task_opts={"window": window, "horizon": horizon, "centered": centered, "channel": channel,
                                "target": target},
                     split=split, train_samples=train_samples, output=output, chunk_samples=chunk_samples,
                     signal_name=signal_name, budget_bytes=budget_bytes, workers=workers, timeout=timeout,
                     scheduler=scheduler, resume=resume)


# -- streamed generation -------------------------------------------------------------------------
def _chunked_moments(draw: Callable[[int], np.ndarray], n: int, chunk: int) -> tuple[float, float]:
    """Mean and Σ(x − mean)² of a stream drawn chunk by chunk (Chan et al. combination)."""
    moments = RunningMoments()
    for s0 in range(0, n, chunk):
        moments.add(draw(min(chunk, n - s0)))
    return moments.mean, moments.m2


def _sines_clean(pairs: list[tuple[float, float]], step: float, s0: int, s1: int) -> np.ndarray:
    """Samples ``s0 … s1−1`` of ``Σ a·sin(ω·k·step)``, computed as ``sigbench.datasets.synthetic.sines`` does."""
    t = np.arange(s0, s1) * step
    out = np.zeros(s1 - s0)
    for a, w in pairs:
        out += a * np.sin(w * t)
    return out


def stream_generate(source: str, path: str | os.PathLike[str], n: int, seed: int = 0, *,
                    chunk_samples: int = DEFAULT_CHUNK_SAMPLES, dtype: str = "float64",
                    **params: Any) -> Path:
    """Generate a source's signal chunk by chunk into a new sigbench file (no sample limit, bounded memory).

    The samples equal those of ``sigbench.generate(source, n=n, seed=seed, **params)`` — bit for bit for
    ``sines`` with ``noise_convention="sigma"`` (the default), to rounding where the source normalises by
    a whole-signal statistic (``sines`` with ``"true"``: the clean power; ``noise``: mean and standard
    deviation, computed in a first pass that draws the same stream).

    Parameters
    ----------
    source : {"sines", "noise"}
        ``noise`` with ``color="white"`` only (coloured noise is shaped by one FFT over the whole record).
    path : path-like
        The file to write (atomically; replaced if it exists).
    n : int
        Samples, any number ≥ 1 (≥ 2 for ``noise``): 10⁹ is fine.
    seed : int, default 0
    chunk_samples : int, default 2**20
        Samples generated and written per step.
    dtype : {"float64", "float32"}, default "float64"
        Storage type of ``data`` and ``clean`` (float32 halves the file; the numbers are rounded once).
    **params
        The source's parameters (``snr_db``, ``step_s``, …).

    Returns
    -------
    Path
        ``path``.

    Raises
    ------
    ValidationError
        An unknown or unsupported source, a bad parameter (the source's own checks), a bad dtype.
    """
    from sigbench.datasets._common import COLORS
    from sigbench.registry import generate

    if source not in STREAM_SOURCES:
        raise ValidationError(f"expected a source that streams ({', '.join(STREAM_SOURCES)}); received: {source!r}")
    n = positive_int("n", n, minimum=2 if source == "noise" else 1)
    chunk = positive_int("chunk_samples", chunk_samples)
    if dtype not in ("float64", "float32"):
        raise ValidationError(f"expected dtype float64 or float32; received: dtype={dtype!r}")
    probe = generate(source, n=min(n, 64) if source == "sines" else max(2, min(n, 64)), seed=seed, **params)
    meta = json.loads(json.dumps(probe.metadata))
    meta["params"]["n"] = n
    p = meta["params"]
    rng = np.random.default_rng(p["seed"])
    clean_fn: Callable[[int, int], np.ndarray] | None = None
    std = 1.0
    if source == "sines":
        pairs = [(float(a), float(w)) for a, w in zip(p["amplitudes"], p["frequencies_rad_s"], strict=True)]
        snr = float(p["snr_db"])
        clean_fn = functools.partial(_sines_clean, pairs, float(p["step_s"]))

        if snr == math.inf:
            sigma = 0.0
        elif p["noise_convention"] == "sigma":
            sigma = float(10.0 ** (-snr / 20.0))
        else:
            fn = clean_fn
            power = sum(float(np.sum(np.square(fn(s0, min(s0 + chunk, n))))) for s0 in range(0, n, chunk)) / n
            if power == 0.0:
                raise ValidationError("expected a clean signal with non-zero power to set a true SNR; "
                                      "received: clean signal of all zeros (use noise_convention='sigma')")
            sigma = math.sqrt(power / 10.0 ** (snr / 10.0))
        meta["noise_std"] = float(sigma)
        scale, shift = sigma, 0.0
    else:
        if COLORS[p["color"]] != 0.0:
            raise ValidationError(f"expected color='white' for a streamed noise source (coloured noise needs one FFT "
                                  f"over the whole record); received: color={p['color']!r}")
        mean, m2 = _chunked_moments(np.random.default_rng(p["seed"]).standard_normal, n, chunk)
        std = math.sqrt(m2 / n)
        if std == 0.0:
            raise ValidationError(f"expected n >= 2 samples to shape white noise; received: n={n}")
        scale, shift = float(p["std"]), mean
    target = Path(path)
    with atomic_h5(target) as f:
        sg = f.require_group("signals").create_group(probe.name)
        sg.attrs["sample_rate_hz"] = probe.sample_rate_hz
        sg.attrs["t0_s"] = probe.t0_s
        sg.attrs["units"] = probe.units
        sg.attrs["channel_names"] = json.dumps(list(probe.channel_names))
        sg.attrs["metadata"] = json.dumps(meta)
        chunks = (min(n, CHUNK_SAMPLES),)
        data = sg.create_dataset("data", shape=(n,), dtype=dtype, chunks=chunks)
        clean = sg.create_dataset("clean", shape=(n,), dtype=dtype, chunks=chunks) if clean_fn else None
        for s0 in range(0, n, chunk):
            s1 = min(s0 + chunk, n)
            w = rng.standard_normal(s1 - s0)
            if clean_fn is not None and clean is not None:
                c = clean_fn(s0, s1)
                data[s0:s1] = c + scale * w
                clean[s0:s1] = c
            else:
                data[s0:s1] = scale * ((w - shift) / std)
    return target
