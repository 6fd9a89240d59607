"""One cell: fit one method (one seed) on the fit rows of a row source, predict its test rows block by block,
and score them — the same code whatever the row source (memory or file) and wherever the cell runs.

How a processor is fitted is chosen by what it declares, never by its class or name:

1. rows in memory: ``fit`` on the fit rows (views of the task data);
2. rows in a file, processor with ``fits_blocks()`` (``_fit_blocks`` or ``stateless``): ``fit_blocks`` over
   consecutive blocks — nothing more than a block in memory (LMS/NLMS/RLS, Wiener, naive, or a plugin's);
3. rows in a file, processor with ``accepts_file_rows``: ``fit`` on :class:`~sigbench.FileWindows` (the
   neural processors read their mini-batches themselves);
4. otherwise the fit rows are loaded when they fit the memory budget; if not, the row fails with a message
   that says how to proceed.

Prediction is ``predict`` block by block (frozen), or in the prequential mode ``predict_online`` for online
processors: predict, then adapt on what is causally observable at the target time — the noisy observation,
never the clean target the row is scored against (the state carries from block to block).
"""

from __future__ import annotations

import contextlib
import math
import signal
import threading
import time
import traceback as _traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from sigbench.processor import TaskContext
from sigbench.run.score import Scorer

__all__ = ["CellPlan", "PredictionSink", "fit_processor", "run_cell", "time_latency"]


class PredictionSink:
    """Where a cell's predictions go: kept as one array (in memory), or appended to an HDF5 dataset."""

    def __init__(self, group: Any = None, key: str = "prediction") -> None:
        self.group, self.key = group, key
        self.parts: list[np.ndarray] = []
        self.dataset: Any = None

    def append(self, values: np.ndarray) -> None:
        """Add the next block of predictions."""
        if self.group is None:
            self.parts.append(values)
            return
        from sigbench.run.sinks import append_rows

        self.dataset = append_rows(self.group, self.key, values, self.dataset)

    def array(self) -> np.ndarray | None:
        """The predictions kept in memory (``None`` when they went to a file)."""
        if self.group is not None or not self.parts:
            return None
        return self.parts[0] if len(self.parts) == 1 else np.concatenate(self.parts)

    def drop(self) -> None:
        """Forget what was written (a method that failed halfway)."""
        self.parts = []
        if self.dataset is not None and self.group is not None and self.key in self.group:
            del self.group[self.key]
        self.dataset = None


@dataclass(frozen=True)
class CellPlan:
    """What a cell needs besides its row source and method: the split in rows and how to score.

    Attributes
    ----------
    fit_rows : int
        Rows ``fit_start … fit_rows−1`` are fitted on (train + validation).
    val_rows : (int, int)
        The validation rows (the end of the fit rows).
    test_rows : (int, int)
        The test rows.
    metrics : tuple of str
        Registered metrics of the task (and those asked for with ``--metric``).
    main_metric : str
    prequential : bool
        Online processors adapt on the test rows while predicting.
    transient : float
        Fraction of the test rows scored apart (prequential, online processors).
    rows_per_block : int or None
        Rows read per block from a file (None: all at once).
    budget : int
        Bytes a method that cannot stream may load.
    task : str
    options : dict
        Task options of the point (window, horizon, …).
    """

    fit_rows: int
    val_rows: tuple[int, int]
    test_rows: tuple[int, int]
    metrics: tuple[str, ...]
    main_metric: str
    prequential: bool = False
    transient: float = 0.1
    rows_per_block: int | None = None
    budget: int = 2**62
    #: a method that can neither stream nor load its fit rows raises (a single-method run) instead of failing
    raise_budget: bool = False
    task: str = ""
    options: dict[str, Any] = field(default_factory=dict)
    #: the first fit row (0; the test rows' first for the linear oracle)
    fit_start: int = 0
    #: mean of the training targets, per output (the ȳ of ``snr_db``)
    target_mean: tuple[float, ...] | None = None
    #: score ``snr_gain_db`` against the naive predictor (the target is the observation itself)
    naive_baseline: bool = False
    #: measure the deployment cost columns (streaming latency, real-time factor, memory: ``sigbench.deploy``)
    deployment: bool = False
    #: the task's target type ("real", "symbol", "class"; :attr:`sigbench.tasks.Task.target_type`)
    target_type: str = "real"
    #: per-row context key subtracted from the targets in the excess columns' MSE (``Task.excess_residual``)
    excess_residual: str | None = None

    def on_test_rows(self) -> CellPlan:
        """The plan of the linear oracle: fitted on the test rows themselves (no validation rows)."""
        t0, t1 = self.test_rows
        return replace(self, fit_start=t0, fit_rows=t1, val_rows=(t1, t1))

    def context(self, source: Any, seed: int) -> TaskContext:
        """The :class:`~sigbench.processor.TaskContext` of a cell with ``seed`` on ``source``."""
        geo = source.geometry
        val = self.val_rows[1] - self.val_rows[0]
        rows = self.fit_rows - self.fit_start
        return TaskContext(task=self.task, window=geo.window, horizon=int(self.options.get("horizon") or 1),
                           centered=bool(self.options.get("centered", False)), hop=geo.hop,
                           sample_rate_hz=source.sample_rate_hz, seed=seed,
                           mode="prequential" if self.prequential else "offline",
                           validation_fraction=round(val / rows, 6) if rows else 0.0, fit_rows=rows,
                           target_type=self.target_type,
                           alphabet=tuple(float(v) for v in getattr(source, "metric_context", {}).get("alphabet", ())))


class MethodFailed(Exception):
    """The method itself raised (a failed row, not an aborted run); the text is the row's error."""

    def __init__(self, text: str, tb: str | None = None) -> None:
        super().__init__(text)
        self.tb = tb


def error_text(exc: BaseException) -> str:
    """The one-line form of an exception that a failed row shows."""
    return f"{type(exc).__name__}: {exc}".splitlines()[0]


def _guard(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Call ``fn``; any exception of the method — also ``SystemExit`` or ``KeyboardInterrupt`` raised by its own
    code rather than by a signal — becomes :class:`MethodFailed`."""
    try:
        return fn(*args, **kwargs)
    except (Exception, SystemExit) as exc:
        raise MethodFailed(error_text(exc), _traceback.format_exc()) from exc
    except KeyboardInterrupt as exc:
        if interrupted():  # a real Ctrl-C / SIGINT: the run stops
            raise
        raise MethodFailed(error_text(exc), _traceback.format_exc()) from exc


_SIGINT = {"seen": False}


def interrupted() -> bool:
    """Whether a real interrupt (SIGINT) arrived while :func:`sigint_marks` was active."""
    return _SIGINT["seen"]


@contextlib.contextmanager
def sigint_marks() -> Iterator[None]:
    """While active (main thread only), SIGINT (and SIGTERM where a handler turns it into an interrupt) is
    marked before it raises ``KeyboardInterrupt``, so that a ``KeyboardInterrupt`` raised by a plugin's own
    code is told apart from the user's Ctrl-C."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    saved: dict[signal.Signals, Any] = {}
    for signum in (signal.SIGINT, signal.SIGTERM):
        previous = signal.getsignal(signum)
        if signum == signal.SIGTERM and not callable(previous):
            continue
        saved[signum] = previous

        def handler(number: int, frame: Any, previous: Any = previous) -> None:
            _SIGINT["seen"] = True
            if callable(previous):
                previous(number, frame)
            raise KeyboardInterrupt

        signal.signal(signum, handler)
    _SIGINT["seen"] = False
    try:
        yield
    finally:
        for signum, previous in saved.items():
            signal.signal(signum, previous)


def time_latency(proc: Any, row: np.ndarray) -> float:
    """Best of three calls of ``predict`` on one row, in seconds."""
    best = math.inf
    for _ in range(3):
        t0 = time.perf_counter()
        proc.predict(row)
        best = min(best, time.perf_counter() - t0)
    return best


def fit_processor(proc: Any, source: Any, plan: CellPlan, context: TaskContext, label: str) -> None:
    """Fit ``proc`` on the fit rows of ``source``, the way it declares it can (see the module docstring)."""
    from sigbench.errors import SigbenchError

    rate = source.sample_rate_hz
    start, fit = plan.fit_start, plan.fit_rows
    if source.in_memory:
        blk = source.block(start, fit)
        _guard(proc.fit, blk.inputs, blk.targets, sample_rate=rate, context=context)
    elif proc.fits_blocks():
        blocks = ((b.inputs, b.targets) for b in source.blocks(start, fit, plan.rows_per_block))
        _guard(proc.fit_blocks, blocks, rows=fit - start, sample_rate=rate, context=context)
    elif getattr(proc, "accepts_file_rows", False):
        from sigbench.run.rows import FileWindows

        rows = FileWindows(source, start=start, stop=fit, block_rows=plan.rows_per_block or fit - start)
        try:
            _guard(proc.fit, rows, sample_rate=rate, context=context)
        finally:
            rows.close()
    else:
        need = source.fit_bytes(fit - start)
        if need > plan.budget:
            raise SigbenchError(
                f"{label} cannot stream its training (it declares neither fit_blocks nor accepts_file_rows): its "
                f"fit rows ({need / 2**20:.0f} MiB) are over the memory budget ({plan.budget / 2**20:.0f} MiB); "
                "raise --memory-budget / SIGBENCH_MEMORY_BUDGET, train on fewer samples (--train-samples), or "
                "use a method that streams (lms, nlms, rls, wiener, naive, the neural networks)")
        blk = source.block(start, fit)
        _guard(proc.fit, blk.inputs, blk.targets, sample_rate=rate, context=context)


def check_prediction(pred: Any, expected: tuple[int, ...], first_row: int) -> np.ndarray:
    """The prediction block as float64; a wrong shape or non-finite values fail the method."""
    out = np.asarray(pred, dtype=np.float64)
    if out.shape != expected:
        raise MethodFailed(f"ValueError: expected predictions of shape {expected}; received: {out.shape}")
    bad = ~np.isfinite(out)
    if bad.any():
        raise MethodFailed(f"ValueError: non-finite predictions: {int(bad.sum())} in a block of {out.shape[0]} rows "
                           f"(first at test row {first_row + int(np.argwhere(bad)[0][0])})")
    return out


def run_cell(source: Any, cls: Any, options: dict[str, Any], seed: int, plan: CellPlan, *, label: str,
             sink: PredictionSink | None = None, metric_context: dict[str, Any] | None = None) -> dict[str, Any]:
    """Fit one method on ``source``'s fit rows, predict and score its test rows.

    Returns
    -------
    dict
        ``metrics``, ``mse``, ``fit_s``, ``predict_s``, ``samples_per_s``, ``latency_s``, ``describe``,
        ``online``, ``seed``, ``warnings``, and ``prediction`` (an array) when ``sink`` keeps them in memory;
        or ``{"error": …, "traceback": …, "seed": …}`` for a failed method.
    """
    from sigbench.errors import SigbenchError

    t0, t1 = plan.test_rows
    context = plan.context(source, seed)
    metric_ctx = {"sample_rate_hz": source.sample_rate_hz, "task": plan.task, "target_mean": plan.target_mean,
                  **getattr(source, "metric_context", {}), **(metric_context or {})}
    flat = not source.in_memory  # rows from a file: accumulate, so that memory stays flat
    scorer = Scorer(plan.metrics, metric_ctx, accumulate=flat, residual=plan.excess_residual)
    n_test = t1 - t0
    k = max(1, round(plan.transient * n_test))
    parts = {part: Scorer((plan.main_metric,), metric_ctx, accumulate=flat) for part in ("transient", "steady")}
    try:
        try:
            proc = cls(**options)
        except Exception as exc:
            raise MethodFailed(error_text(exc), _traceback.format_exc()) from exc
        started = time.perf_counter()
        try:
            fit_processor(proc, source, plan, context, label)
        except SigbenchError as exc:
            if plan.raise_budget or isinstance(exc, MethodFailed):
                raise
            raise MethodFailed(str(exc)) from exc
        fit_s = time.perf_counter() - started
        online = plan.prequential and bool(getattr(proc, "online", False))
        predict_s = 0.0
        latency = math.nan
        for blk in source.blocks(t0, t1, plan.rows_per_block):
            tp = time.perf_counter()
            # an online method adapts on what is causally observable at the target time: the noisy
            # observation (never the clean target it is scored against)
            raw = (_guard(proc.predict_online, blk.inputs, blk.targets if blk.observed is None else blk.observed)
                   if online else _guard(proc.predict, blk.inputs))
            predict_s += time.perf_counter() - tp
            pred = check_prediction(raw, tuple(blk.targets.shape), blk.r0 - t0)
            if blk.r0 == t0:
                latency = _guard(time_latency, proc, blk.inputs[:1])
            baseline = np.asarray(blk.inputs[:, -1], dtype=np.float64) if plan.naive_baseline else blk.observed
            scorer.add(blk.targets, pred, baseline, blk.extras)
            if online:
                cut = min(max(t0 + k - blk.r0, 0), blk.r1 - blk.r0)
                if cut:
                    parts["transient"].add(blk.targets[:cut], pred[:cut], None if baseline is None else baseline[:cut],
                                           {key: v[:cut] for key, v in blk.extras.items()})
                if cut < blk.r1 - blk.r0:
                    parts["steady"].add(blk.targets[cut:], pred[cut:], None if baseline is None else baseline[cut:],
                                        {key: v[cut:] for key, v in blk.extras.items()})
            if sink is not None:
                sink.append(pred)
    except MethodFailed as exc:
        if sink is not None:
            sink.drop()
        return {"error": str(exc), "traceback": exc.tb, "seed": seed}
    deploy: dict[str, Any] = {}
    if plan.deployment:  # latency sample by sample on the first test rows (after the scored pass: no effect on it)
        from sigbench.deploy import deployment_costs

        first = next(source.blocks(t0, min(t1, t0 + 1100), plan.rows_per_block))
        try:
            deploy = deployment_costs(proc, first.inputs, sample_rate_hz=source.sample_rate_hz, samples=1000,
                                      targets=(first.observed if first.observed is not None else first.targets)
                                      if online else None)
        except Exception as exc:  # a cost that cannot be measured is a note, never a failed row
            warnings_deploy = f"deployment costs not measured: {error_text(exc)}"
            deploy = {"_warning": warnings_deploy}
    metrics, warnings = scorer.result()
    if "_warning" in deploy:
        warnings.append(str(deploy.pop("_warning")))
    if online:
        for part, sub in parts.items():
            values, _ = sub.result()
            if plan.main_metric in values:
                metrics[f"{plan.main_metric}_{part}"] = values[plan.main_metric]
    out: dict[str, Any] = {
        "metrics": metrics, "mse": scorer.mse, "fit_s": fit_s, "predict_s": predict_s,
        "samples_per_s": n_test / predict_s if predict_s > 0 else math.inf, "latency_s": latency,
        "describe": proc.describe(), "online": online, "seed": seed, "warnings": warnings, "deploy": deploy}
    if sink is not None:
        pred_all = sink.array()
        if pred_all is not None:
            out["prediction"] = pred_all
    return out
