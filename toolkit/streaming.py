r"""Out-of-core runs: signals larger than memory, processed chunk by chunk.

:func:`stream_run` (one method) and :func:`stream_compare` (methods × seeds, or a sweep with ``grid``) run on
a signal file without ever holding the signal. Each (grid point, method, seed) is one *cell*
(:mod:`sigbench.stream_cells`): it reads the file in chunks of ``chunk_samples`` samples (consecutive
chunks overlap by ``window − 1 + horizon`` samples, so every row — a window plus its target — is built
exactly, also where it crosses a chunk edge), fits the method on the fit segment and predicts the test
segment chunk by chunk, writing the predictions as they come. Peak memory is ``O(chunk_samples)``
whatever the file's length. Cells run here, one after another, or on a process pool or Dask (each worker
streams the file itself and its predictions into a part file that the client copies in).

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
processors with ``accepts_file_rows`` (the neural networks)
    Mini-batches read from the file through :class:`~sigbench.FileWindows`, shuffled by blocks.
any other method (FIR designs, chains)
    Its fit segment is loaded when it fits the memory budget; otherwise a failed row (``stream_run``:
    :class:`SigbenchError`).

Prediction is always frozen (offline protocol) and chunked. Metrics come from sums accumulated over
the test chunks (``nmse_db`` uses a chunk-wise combination of means and squared deviations), equal to
the in-memory engine's to rounding. The result file is written as atomic checkpoints (:class:`_Writer`),
so a crash leaves the last one and ``resume=True`` continues it.

:func:`stream_generate` (:mod:`sigbench.streamgen`) is re-exported here.
"""

from __future__ import annotations

import datetime as _dt
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import h5py

from sigbench._validate import positive_int
from sigbench.errors import ValidationError
from sigbench.file_windows import _channel_index
from sigbench.h5 import atomic_h5, memory_budget_bytes, open_signal
from sigbench.results import MethodRow, Results, environment
from sigbench.stream_cells import (
    DEFAULT_CHUNK_SAMPLES,
    _append_test_arrays,
    _Context,
    _job_view,
    _Point,
    _point,
    _Reader,
    _row,
    _Sink,
    _stream_cell,
)
from sigbench.streamgen import STREAM_SOURCES, stream_generate

__all__ = ["DEFAULT_CHUNK_SAMPLES", "STREAM_SOURCES", "stream_compare", "stream_generate", "stream_run"]


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
                                           s, key, write_test=keep and not writer.test_written, reader=reader,
                                           check_all=first)
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
