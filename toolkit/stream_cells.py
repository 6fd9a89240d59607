"""One cell of a streamed run: fit a method from a signal file chunk by chunk, predict the test rows chunk by
chunk, and sum the error metrics on the way (see :mod:`sigbench.streaming` for how each method trains from a
stream). :func:`run_stream_cell` is the worker side of a parallel streamed run.
"""

from __future__ import annotations

import itertools
import math
import os
import time
from collections.abc import Callable, Iterator
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import h5py
import numpy as np

from sigbench.errors import SigbenchError, ValidationError
from sigbench.file_windows import _Layout, _layout
from sigbench.h5 import CHUNK_SAMPLES, LazySignal, open_signal
from sigbench.metrics import RunningMoments, db_ratio
from sigbench.results import MethodRow, mean_ci
from sigbench.windows import sliding_windows

__all__ = ["DEFAULT_CHUNK_SAMPLES", "run_stream_cell"]

#: samples read per chunk by default (8 MiB of float64)
DEFAULT_CHUNK_SAMPLES = 2**20
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
                 key: str | None, write_test: bool, reader: _Reader | None = None,
                 check_all: bool = True) -> dict[str, Any]:
    """Fit one method (one seed) from the stream and predict the test rows chunk by chunk.

    Returns the runner's cell output (``metrics``, ``fit_s``, …) or ``{"error": …}`` for a failed method.
    Predictions go to ``ctx.sink`` under ``key`` (none when ``key`` is None), the test arrays too when
    ``write_test``. With ``check_all`` the reader also accounts the fit samples a method did not read
    through it (a network reads its batches itself): the run's first cell checks and measures the whole
    signal; the others skip that pass.
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
        if check_all:
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
            out = _stream_cell(ctx, pt, cls, label, options, seed, "prediction" if part is not None else None, False,
                               check_all=False)  # the client checked the whole file first
        if part is not None and tmp is not None and "error" not in out:
            os.replace(tmp, part)
            out["part"] = str(part)
        return out
    finally:
        if tmp is not None and tmp.exists():
            tmp.unlink()
