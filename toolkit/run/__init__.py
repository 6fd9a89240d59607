"""The run engine: one loop for every run kind, executor and row source.

Vocabulary
----------
method
    A resolved processor specification: name, options, label, chain (:class:`~sigbench.run.plan.Method`).
grid point
    One set of source, task or method overrides of a sweep (a comparison has one, ``{}``).
cell
    One (grid point × method × seed): fit on the fit rows, predict and score the test rows
    (:func:`~sigbench.run.cell.run_cell`).
row source
    Where a cell's rows come from: :class:`~sigbench.run.rows.MemoryRows` (the task's arrays) or
    :class:`~sigbench.run.rows.FileRows` (blocks read from an HDF5 file). In memory or from the file is a
    property of the row source, nothing else: every task, protocol option, metric and executor works with both.
row
    One window and its target; a task defines their geometry (:class:`~sigbench.run.rows.Geometry`).
segment
    train / validation / test: the chronological split in rows (:class:`~sigbench.protocol.Protocol`).

Modules
-------
:mod:`~sigbench.run.plan` (methods, grid points, configuration), :mod:`~sigbench.run.rows` (row sources),
:mod:`~sigbench.run.cell` (one cell), :mod:`~sigbench.run.score` (metrics and row assembly),
:mod:`~sigbench.run.loop` (the loop), :mod:`~sigbench.run.sinks` (the result file),
:mod:`~sigbench.run.executors` and :mod:`~sigbench.run.dask_executor` (where cells run).

Public entry points: :func:`compare`, :func:`sweep`, :func:`run_method` (``stream=None`` streams a file over the
memory budget, ``True`` always, ``False`` never); :func:`stream_run` and :func:`stream_compare` are aliases
with ``stream=True``.
"""

from __future__ import annotations

import contextlib
import inspect
import os
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from sigbench.console import verbosity
from sigbench.errors import ConfigError
from sigbench.host import get_host
from sigbench.protocol import Protocol
from sigbench.results import Results
from sigbench.run.cell import CellPlan
from sigbench.run.executors import DataRecipe, resolve_workers
from sigbench.run.loop import Point, Run, find_resumable
from sigbench.run.plan import (
    DEFAULT_METHODS,
    Method,
    RunInfo,
    build_config,
    cell_options,
    grid_points,
    resolve_methods,
    with_grid_options,
)
from sigbench.run.plan import model_limit as model_limit_method
from sigbench.run.rows import FileRows, FileWindows, MemoryRows
from sigbench.signal import Signal

__all__ = ["DEFAULT_CHUNK_SAMPLES", "DEFAULT_METHODS", "FileWindows", "Method", "RunInfo", "compare",
           "find_resumable", "resolve_methods", "run_method", "signal_bytes", "stream_compare", "stream_run", "sweep"]

#: samples read per block from a file by default (8 MiB of float64)
DEFAULT_CHUNK_SAMPLES = 2**20
#: task options a grid may vary
TASK_KEYS = ("window", "horizon", "hop", "centered", "delay")


def signal_bytes(path: str | os.PathLike[str], name: str | None = None) -> int:
    """Bytes a whole-signal run of ``path`` would hold in memory (data, clean and aux as float64, plus the
    task's targets), read from the header without reading the samples."""
    from sigbench.h5 import open_signal

    with open_signal(path, name) as lazy:
        per_sample = int(np.prod(lazy.shape[1:], dtype=np.int64)) * 8
        series = (2 if lazy.has_clean else 1) + len(getattr(lazy.header, "aux", ()))
        return lazy.n_samples * per_sample * series * 2


def _summary(sig: Signal, path: str | None, target_kind: str) -> dict[str, Any]:
    return {"name": sig.name, "path": path, "samples": sig.n_samples, "channels": sig.n_channels,
            "sample_rate_hz": sig.sample_rate_hz, "snr_db": sig.snr_db(), "source": sig.metadata.get("source"),
            "seed": sig.metadata.get("seed"), "params": sig.metadata.get("params"), "target_kind": target_kind,
            "noise_std": sig.metadata.get("noise_std"), "_metadata": dict(sig.metadata)}


def _metadata(summary: dict[str, Any]) -> dict[str, Any]:
    """What a model-limit estimator reads of the signal's metadata: the whole metadata (``_metadata``, kept out of
    the result file), else its parameters and noise level."""
    if summary.get("_metadata"):
        return dict(summary["_metadata"])
    return {k: summary[k] for k in ("source", "params", "noise_std") if summary.get(k) is not None}


def _reference(task: str, reference: str | None) -> str:
    """The reference method: as given, or the task's default (:attr:`sigbench.tasks.Task.reference`)."""
    if reference is not None:
        return reference
    return str(get_host().registry.get("tasks", task).obj.reference)


def _file_summary(rows: FileRows, path: str, chunk: int) -> dict[str, Any]:
    lazy = rows.lazy
    meta = lazy.header.metadata
    return {"name": lazy.name, "path": path, "samples": lazy.n_samples, "channels": rows.channels,
            "sample_rate_hz": lazy.sample_rate_hz, "snr_db": rows.signal_stats(chunk), "source": meta.get("source"),
            "seed": meta.get("seed"), "params": meta.get("params"), "target_kind": rows.target_kind,
            "noise_std": meta.get("noise_std"), "_metadata": dict(meta)}


def _use_stream(signal: Any, stream: bool | None, name: str | None, budget: int) -> bool:
    """Whether to read rows from the file: asked for, or automatic over the memory budget."""
    if isinstance(signal, Signal):
        if stream:
            raise ConfigError("expected a signal file to stream (an in-memory Signal is already in memory); "
                              "save it with sb.save_signal first")
        return False
    if stream is not None:
        return bool(stream)
    return signal_bytes(signal, name) > budget


@contextlib.contextmanager
def _signal_file(sig: Signal | None, path: str | None, needed: bool) -> Iterator[str | None]:
    """The signal's file for worker processes: its own path, or a temporary copy of an in-memory signal."""
    if not needed or path is not None or sig is None:
        yield path
        return
    from sigbench.h5 import save_signal

    tmp = tempfile.mkdtemp(prefix="sigbench-")
    try:
        target = Path(tmp) / "signal.h5"
        save_signal(sig, target)
        yield str(target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _metric_names(task: Any, metrics: Sequence[str] | None) -> tuple[str, ...]:
    """The task's metrics plus those asked for (each must be registered)."""
    registry = get_host().registry
    names = list(task.metrics)
    for name in metrics or ():
        registry.get("metrics", name)  # an unknown name is a usage error now
        if name not in names:
            names.append(name)
    return tuple(names)


class _Setup:
    """What a compare, run or sweep resolves before any work: task, protocol, methods, metrics, budget."""

    def __init__(self, task: str, methods: Sequence[str] | None, *, reference: str, include_naive: bool,
                 protocol: Protocol, metrics: Sequence[str] | None, budget_bytes: int | None, chunk_samples: int,
                 mode: str, quantize: Sequence[str] = (), deployment: bool = False) -> None:
        from sigbench._validate import positive_int
        from sigbench.h5 import memory_budget_bytes

        self.task: Any = get_host().registry.get("tasks", task).obj
        self.protocol = protocol
        self.methods = resolve_methods(methods, self.task, reference, include_naive, quantize=quantize)
        self.deployment = bool(deployment)
        self.metrics = _metric_names(self.task, metrics)
        self.extra_metrics = tuple(m for m in self.metrics if m not in self.task.metrics)
        self.budget = memory_budget_bytes() if budget_bytes is None else int(budget_bytes)
        self.chunk = positive_int("chunk_samples", chunk_samples)
        self.mode = mode

    def with_limit(self, summary: dict[str, Any], wanted: bool) -> list[Method]:
        """The methods, plus the model limit of the signal's source when it has one (and it is wanted)."""
        limit = model_limit_method(summary.get("source"), summary.get("params"), self.task.name,
                                   _metadata(summary)) if wanted else None
        if limit is None:
            return list(self.methods)
        roles = [m for m in self.methods if m.role]
        return [*roles, limit, *(m for m in self.methods if not m.role)]

    def check_tasks(self, methods: Sequence[Method], source: Any, options: dict[str, Any]) -> None:
        """Every method's ``check_task`` on the point's geometry, before any fit (a usage error, exit 2)."""
        geo = source.geometry
        outputs = int(np.prod(geo.target_shape)) if geo.target_shape else 1
        for m in methods:
            if m.is_chain:
                continue
            m.cls(**cell_options(m, self.protocol.seed)).check_task(
                window=geo.window, horizon=int(options.get("horizon") or 1), n_outputs=outputs,
                seed=self.protocol.seed, seeds=self.protocol.seeds if m.stochastic else 1)

    def plan(self, source: Any, options: dict[str, Any], *, raise_budget: bool = False) -> CellPlan:
        seg = self.protocol.split(source.geometry)
        streamed = not source.in_memory
        per_block = source.geometry.rows_per_block(self.chunk) if streamed else None
        mean, noiseless = _training_targets(source, seg.fit.stop, per_block)
        return CellPlan(fit_rows=seg.fit.stop, val_rows=(seg.val.start, seg.val.stop),
                        test_rows=(seg.test.start, seg.test.stop), metrics=self.metrics,
                        main_metric=self.task.main_metric,
                        prequential=self.mode == "prequential" and bool(getattr(self.task, "adapts_online", True)),
                        transient=self.protocol.transient, rows_per_block=per_block,
                        budget=self.budget, raise_budget=raise_budget and streamed, task=self.task.name,
                        options=options, target_mean=mean,
                        naive_baseline=bool(self.task.has_naive) and noiseless, deployment=self.deployment,
                        target_type=str(getattr(self.task, "target_type", "real")),
                        excess_residual=getattr(self.task, "excess_residual", None))


def _training_targets(source: Any, fit_rows: int, rows_per_block: int | None) -> tuple[tuple[float, ...], bool]:
    """Mean of the training targets, per output (one pass over the fit rows of a file), and whether the
    observation at each target equals the target (no noise to beat: ``snr_gain_db`` then compares with the
    naive predictor)."""
    total: np.ndarray | None = None
    noiseless = True
    for blk in source.blocks(0, fit_rows, rows_per_block):
        part = np.asarray(blk.targets, dtype=np.float64).reshape(blk.r1 - blk.r0, -1).sum(axis=0)
        total = part if total is None else total + part
        noiseless = noiseless and (blk.observed is None or np.array_equal(blk.observed, blk.targets))
    mean = tuple(float(v) for v in (total if total is not None else np.zeros(1)) / max(fit_rows, 1))
    return mean, noiseless


def compare(signal: Signal | str | os.PathLike[str], task: str = "predict", methods: Sequence[str] | None = None,
            *, seeds: int = 3, seed: int = 0, window: int = 64, horizon: int = 1, centered: bool = False,
            channel: int | str = 0, target: str = "auto", hop: int | None = None, delay: int | None = None,
            split: tuple[float, float, float] = (0.6, 0.2, 0.2), train_samples: int | None = None,
            mode: str = "prequential", transient: float = 0.1, reference: str | None = None,
            include_naive: bool = True,
            output: str | os.PathLike[str] | None = None, resume: bool = False, signal_name: str | None = None,
            kind: str = "compare", workers: int | str = 1, timeout: float | None = None,
            scheduler: str | None = None, stream: bool | None = None, chunk_samples: int = DEFAULT_CHUNK_SAMPLES,
            budget_bytes: int | None = None, metrics: Sequence[str] | None = None, model_limit: bool = True,
            quantize: Sequence[str] = (), deployment: bool = False, verbose: bool | int | None = None) -> Results:
    """Compare methods on one signal under one protocol.

    Parameters
    ----------
    signal : Signal or path
        The signal, or a sigbench HDF5 file (``signal_name`` picks one of several).
    task : str, default "predict"
        ``predict``, ``denoise``, ``identify``, ``spectrum`` or a plugin's task.
    methods : list of str, optional
        Method specifications ``name[:key=value,…]`` or chains ``"fir-bank | dnn"``; default per task
        (:data:`DEFAULT_METHODS`). The reference and (where defined) ``naive`` are always added.
    seeds : int, default 3
        Runs of each stochastic method (seeds ``seed … seed+seeds−1``).
    window, horizon, centered, channel, target, hop, delay
        Task options (see :meth:`sigbench.tasks.Task.prepare`).
    split : (train, val, test), default (0.6, 0.2, 0.2)
        Chronological fractions; ignored when ``train_samples`` is given.
    mode : {"prequential", "offline"}, default "prequential"
        Prequential: online methods keep adapting on the test rows (predict, score, adapt); offline: every
        method frozen after fitting.
    reference : str, optional
        The reference every row's ``excess_db`` is measured against (default: the task's,
        :attr:`sigbench.tasks.Task.reference` — ``wiener`` for the built-in tasks); when it is a least-squares FIR
        (``wiener``), the *linear oracle* (the same FIR fitted on the test rows) is added, and the *model limit*
        when the signal's source knows its model.
    output : path, optional
        Result file, written atomically at checkpoints (see :mod:`sigbench.run.sinks`).
    resume : bool
        Reuse finished rows of a run with the same configuration in ``output``.
    workers : int or "auto", default 1
        Processes running cells (method × seed) in parallel; ``"auto"``: as many as the machine has spare cores
        and memory for, or inline when the run is too small to gain from them (the command line's default;
        :func:`sigbench.run.executors.auto_workers` gives the rule). A pool spawns processes that import your
        main module: keep a script's top-level code under ``if __name__ == "__main__":``.
    timeout : float, optional
        Seconds a cell may run before it is stopped and its row fails (runs cells in worker processes).
    scheduler : str, optional
        ``local-dask`` or ``tcp://HOST:PORT`` to run the cells on Dask.
    stream : bool, optional
        Read rows block by block from the file (``True``), hold the signal in memory (``False``), or decide by
        size: stream when the signal would exceed ``budget_bytes`` (``None``, the default).
    chunk_samples : int, default 2**20
        Samples read per block when streaming.
    budget_bytes : int, optional
        Memory budget (default :func:`sigbench.h5.memory_budget_bytes`): what decides ``stream=None``, and what a
        method that cannot stream may load.
    metrics : list of str, optional
        Registered metrics to compute besides the task's own.
    model_limit : bool, default True
        Add the *model limit* row when the signal's source registered a model-based estimator (``sines``:
        the maximum-likelihood phase estimate with the model known; ``ar``: the Kalman predictor).
    quantize : list of {"int8", "q15"}, optional
        Also run each method's quantised version: ``NAME@int8`` for the neural methods (full-integer LiteRT,
        calibrated on training rows), ``NAME@q15`` for the FIR-type DSP baselines (fixed point); see
        ``docs/deployment.md``. Methods can also be named ``dnn@int8`` directly.
    deployment : bool, default False
        Measure the deployment cost columns of every row: streaming latency p50/p99 (µs), real-time factor at
        the signal's sample rate, weights/state/activation memory (``docs/deployment.md``).
    verbose : bool or int, optional
        Progress on stderr (one line per fit; ``2``: per epoch). Default: silent, unless the ``sigbench``
        logger is enabled for ``INFO`` (the CLI prints progress unless ``--quiet``).

    Returns
    -------
    Results
        ``rows`` sorted by the task's main metric (best first), failed rows last.

    Examples
    --------
    >>> import sigbench as sb
    >>> sig = sb.generate("sines", n=2000, seed=0)
    >>> res = sb.compare(sig, methods=["wiener", "naive"], window=16)
    >>> [r.method for r in res.rows]
    ['wiener', 'naive']
    """
    reference = _reference(task, reference)
    protocol = Protocol(*split, train_samples=train_samples, mode=mode, seeds=seeds, seed=seed,
                        reference=reference, transient=transient)
    setup = _Setup(task, methods, reference=reference, include_naive=include_naive, protocol=protocol,
                   metrics=metrics, budget_bytes=budget_bytes, chunk_samples=chunk_samples, mode=mode,
                   quantize=quantize, deployment=deployment)
    task_opts: dict[str, Any] = {"window": window, "horizon": horizon, "centered": centered, "channel": channel,
                                 "target": target, "hop": hop}
    if delay is not None:
        task_opts["delay"] = delay
    streamed = _use_stream(signal, stream, signal_name, setup.budget)
    auto = isinstance(workers, str) and workers.strip().lower() == "auto"
    n_workers = 1 if auto else resolve_workers(workers)
    with _open_rows(signal, setup, task_opts, signal_name, streamed) as (source, sig, path, summary):
        methods_all = setup.with_limit(summary, model_limit and bool(reference))
        setup.check_tasks(methods_all, source, task_opts)
        if auto:
            n_workers = resolve_workers(workers, methods_all, seeds=seeds, samples=int(summary.get("samples") or 0),
                                        data_bytes=0 if streamed else _signal_bytes(summary))
        parallel = n_workers > 1 or timeout is not None or scheduler is not None
        config = build_config(kind, setup.task, methods_all, protocol, task_opts, summary,
                              metrics=setup.extra_metrics)
        with _signal_file(sig, path, parallel and not streamed) as file:
            recipe = DataRecipe("stream" if streamed else "file", setup.task.name, task_opts,
                                setup.plan(source, task_opts, raise_budget=kind == "run"), path=file,
                                signal_name=signal_name if path else None)
            point = Point({}, source, recipe, methods_all, summary)
            with verbosity(verbose):
                return Run(kind=kind, task=setup.task, protocol=protocol, config=config, points=[point],
                           output=output, base=path, signal=sig, resume=resume, keep_predictions=True,
                           workers=n_workers, timeout=timeout, scheduler=scheduler,
                           execution=_execution(streamed, setup)).execute()


def _signal_bytes(summary: dict[str, Any]) -> int:
    """Bytes a worker holds for a signal in memory: float64 samples and their clean reference."""
    return 2 * 8 * int(summary.get("samples") or 0) * int(summary.get("channels") or 1)


def _execution(streamed: bool, setup: _Setup) -> dict[str, Any]:
    return {"streamed": True, "chunk_samples": setup.chunk} if streamed else {}


@contextlib.contextmanager
def _open_rows(signal: Signal | str | os.PathLike[str], setup: _Setup, task_opts: dict[str, Any],
               signal_name: str | None, streamed: bool) -> Iterator[tuple[Any, Signal | None, str | None,
                                                                          dict[str, Any]]]:
    """The row source of a signal (in memory, or a file read block by block), the signal, its path, summary."""
    if streamed:
        from sigbench.h5 import open_signal

        path = os.fspath(signal)  # type: ignore[arg-type]
        with open_signal(path, signal_name) as lazy:
            rows = FileRows(lazy, setup.task, task_opts)
            yield rows, None, path, _file_summary(rows, path, setup.chunk)
        return
    if isinstance(signal, Signal):
        sig, path = signal, None
    else:
        from sigbench.h5 import load_signal

        sig, path = load_signal(signal, signal_name), os.fspath(signal)
    data = setup.task.prepare(sig, **task_opts)
    yield MemoryRows(data), sig, path, _summary(sig, path, data.target_kind)


def run_method(method: str, signal: Signal | str | os.PathLike[str], task: str = "predict",
               **options: Any) -> Results:
    """Run one method (plus nothing else) and keep its predictions; options as in :func:`compare`."""
    options.setdefault("seeds", 1)
    return compare(signal, task, [method], reference="", include_naive=False, kind="run", **options)


def sweep(source: Signal | str | os.PathLike[str], grid: dict[str, list[Any]], task: str = "predict",
          methods: Sequence[str] | None = None, *, source_params: dict[str, Any] | None = None,
          n: int | None = None, output: str | os.PathLike[str] | None = None, resume: bool = False,
          workers: int | str = 1, timeout: float | None = None, scheduler: str | None = None,
          stream: bool | None = None, chunk_samples: int = DEFAULT_CHUNK_SAMPLES, budget_bytes: int | None = None,
          metrics: Sequence[str] | None = None, verbose: bool | int | None = None, **options: Any) -> Results:
    """Run :func:`compare` over every point of ``grid`` and gather one table (one row per point × method).

    Grid keys are source parameters (``snr_db`` — ``source`` must then be a source name), task options
    (``window``, ``horizon``, ``hop``, ``centered``) or method options written ``method.option``
    (``lms.mu``). A signal file is streamed as :func:`compare` decides (``stream``).

    Raises
    ------
    ConfigError
        A grid key that is none of the above, or a source parameter grid over a file.
    """
    registry = get_host().registry
    mode = options.pop("mode", "prequential")
    reference = _reference(task, options.pop("reference", None))
    protocol = Protocol(*options.pop("split", (0.6, 0.2, 0.2)), train_samples=options.pop("train_samples", None),
                        mode=mode, seeds=options.pop("seeds", 3), seed=options.pop("seed", 0),
                        reference=reference, transient=options.pop("transient", 0.1))
    include_limit = bool(options.pop("model_limit", True)) and bool(reference)
    setup = _Setup(task, methods, reference=reference, include_naive=options.pop("include_naive", True),
                   protocol=protocol, metrics=metrics, budget_bytes=budget_bytes, chunk_samples=chunk_samples,
                   mode=mode, quantize=options.pop("quantize", ()), deployment=options.pop("deployment", False))
    is_source = isinstance(source, str) and not Path(source).exists() and (
        "sources" in registry.entries and source in registry.entries["sources"])
    source_keys: set[str] = set()
    if is_source:
        source_keys = set(inspect.signature(registry.get("sources", str(source)).obj).parameters)
    for key in grid:
        method_name = key.split(".", 1)[0]
        if key in TASK_KEYS or key in source_keys:
            continue
        if "." in key and any(m.spec.name == method_name and not m.is_chain for m in setup.methods):
            continue
        raise ConfigError(f"expected grid keys among task options ({', '.join(sorted(TASK_KEYS))}), parameters of "
                          f"the source, or METHOD.OPTION; received: {key!r}")
    signal_name = options.pop("signal_name", None)
    task_opts: dict[str, Any] = {k: options.pop(k) for k in ("window", "horizon", "centered", "channel", "target",
                                                              "hop", "delay") if k in options}
    if task_opts.get("delay", 0) is None:
        del task_opts["delay"]
    if options:
        raise ConfigError(f"unknown sweep option {sorted(options)[0]!r}")
    if is_source and stream:
        raise ConfigError("expected a signal file for --stream (a source's signal is generated in memory)")
    streamed = not is_source and _use_stream(source, stream, signal_name, setup.budget)
    n_workers = resolve_workers(workers) if not (isinstance(workers, str) and workers.strip().lower() == "auto") else 0
    with contextlib.ExitStack() as stack:
        sig0 = path = None
        if not is_source and not streamed:
            sig0, path = (source, None) if isinstance(source, Signal) else (
                _load(source, signal_name), os.fspath(source))  # type: ignore[arg-type]
        elif streamed:
            path = os.fspath(source)  # type: ignore[arg-type]
        if not n_workers:  # "auto": sized on the grid's cells and one grid point's signal
            samples = _sweep_samples(source, is_source, n, sig0, path, signal_name)
            n_workers = resolve_workers(workers, setup.methods, seeds=protocol.seeds, points=len(grid_points(grid)),
                                        samples=samples, data_bytes=0 if streamed else 16 * samples)
        parallel = n_workers > 1 or timeout is not None or scheduler is not None
        file = stack.enter_context(_signal_file(sig0, path, parallel and not is_source and not streamed))
        points: list[Point] = []
        for point in grid_points(grid):
            opts: dict[str, Any] = {**task_opts, **{k: v for k, v in point.items() if k in TASK_KEYS}}
            full_opts = {"window": 64, "horizon": 1, "centered": False, "channel": 0, "target": "auto", "hop": None,
                         **opts}
            methods_g = [with_grid_options(m, point) for m in setup.methods]
            if is_source:
                from sigbench.registry import generate

                sp = {**(source_params or {}), **{k: v for k, v in point.items() if k in source_keys}}
                sig = generate(str(source), n=n, **sp)
                data = setup.task.prepare(sig, **opts)
                rows: Any = MemoryRows(data)
                recipe = DataRecipe("source", setup.task.name, opts, setup.plan(rows, full_opts), source=str(source),
                                    n=n, source_params=sp)
                summary = _summary(sig, None, data.target_kind)
            elif streamed:
                from sigbench.h5 import open_signal

                lazy = stack.enter_context(open_signal(path, signal_name))  # type: ignore[arg-type]
                rows = FileRows(lazy, setup.task, full_opts)
                recipe = DataRecipe("stream", setup.task.name, full_opts, setup.plan(rows, full_opts), path=path,
                                    signal_name=signal_name)
                summary = _file_summary(rows, path, setup.chunk) if not points else dict(points[0].signal)  # type: ignore[arg-type]
            else:
                assert sig0 is not None
                data = setup.task.prepare(sig0, **opts)
                rows = MemoryRows(data)
                recipe = DataRecipe("file", setup.task.name, opts, setup.plan(rows, full_opts), path=file,
                                    signal_name=signal_name if path else None)
                summary = _summary(sig0, path, data.target_kind)
            limit = model_limit_method(summary.get("source"), summary.get("params"), setup.task.name,
                                       _metadata(summary)) if include_limit else None
            methods_p = methods_g if limit is None else [*(m for m in methods_g if m.role), limit,
                                                          *(m for m in methods_g if not m.role)]
            setup.check_tasks(methods_p, rows, full_opts)
            points.append(Point(point, rows, recipe, methods_p, summary))
        config = build_config("sweep", setup.task, points[0].methods if points else setup.methods, protocol,
                              task_opts, points[0].signal if points else {}, grid, metrics=setup.extra_metrics)
        config["source_params"] = source_params or {}
        # sweeps keep metrics per grid point but no per-point predictions (files stay small)
        with verbosity(verbose):
            return Run(kind="sweep", task=setup.task, protocol=protocol, config=config, points=points,
                       output=output, base=path, signal=None if is_source else sig0, resume=resume,
                       keep_predictions=False, workers=n_workers, timeout=timeout, scheduler=scheduler,
                       execution=_execution(streamed, setup)).execute()


def _sweep_samples(source: Any, is_source: bool, n: int | None, sig: Signal | None, path: str | None,
                   signal_name: str | None) -> int:
    """Samples of one grid point's signal (for ``workers="auto"``): ``n`` or the source's default, the loaded
    signal's, or the file's."""
    if sig is not None:
        return int(sig.n_samples)
    if is_source:
        if n is not None:
            return int(n)
        default = inspect.signature(get_host().registry.get("sources", str(source)).obj).parameters.get("n")
        return int(default.default) if default is not None and isinstance(default.default, int) else 0
    from sigbench.h5 import open_signal

    with open_signal(path, signal_name) as lazy:  # type: ignore[arg-type]
        return int(lazy.n_samples)


def _load(signal: str | os.PathLike[str], name: str | None) -> Signal:
    from sigbench.h5 import load_signal

    return load_signal(signal, name)


def stream_run(method: str, path: str | os.PathLike[str], *, task: str = "predict",
               chunk_samples: int = DEFAULT_CHUNK_SAMPLES, budget_bytes: int | None = None, seed: int = 0,
               **options: Any) -> Results:
    """:func:`run_method` reading rows block by block from the file (``stream=True``), with memory bounded by
    ``chunk_samples``; a method that can neither stream nor load its fit rows within ``budget_bytes`` raises
    :class:`~sigbench.SigbenchError`."""
    return run_method(method, path, task, stream=True, chunk_samples=chunk_samples, budget_bytes=budget_bytes,
                      seed=seed, **options)


def stream_compare(path: str | os.PathLike[str], task: str = "predict", methods: Sequence[str] | None = None, *,
                   grid: dict[str, list[Any]] | None = None, **options: Any) -> Results:
    """:func:`compare` (or :func:`sweep` with ``grid``) reading rows block by block from the file
    (``stream=True``); a method that can neither stream nor load its fit rows within the budget is a failed
    row."""
    if grid:
        return sweep(path, grid, task, methods, stream=True, **options)
    return compare(path, task, methods, stream=True, **options)

