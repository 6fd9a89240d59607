"""The run loop: cells → executor → rows → observers → checkpoints, for every run kind, executor and row source.

:class:`Run` takes grid points (each with a row source or a recipe a worker rebuilds it from) and resolved
methods; it makes one cell per (point × method × seed) not kept from a resumed run, hands them to an executor
(:mod:`sigbench.run.executors`), stages predictions as they arrive, assembles each method's row once all its
seeds — and its point's reference — are back (:func:`sigbench.run.score.build_row`), calls the observer hooks
and checkpoints the result file (:class:`sigbench.run.sinks.ResultWriter`).
"""

from __future__ import annotations

import datetime as _dt
import os
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from sigbench.console import CellProgress, engine_fit_lines, escape, get_console, is_quiet
from sigbench.host import get_host
from sigbench.protocol import Protocol
from sigbench.results import MethodRow, Results, config_hash, environment, load_results
from sigbench.run.cell import CellPlan, PredictionSink, sigint_marks
from sigbench.run.executors import Cell, DataRecipe, InlineExecutor, make_executor
from sigbench.run.plan import Method, RunInfo, cell_options, new_run_id
from sigbench.run.score import build_row
from sigbench.run.sinks import ResultWriter, published

__all__ = ["Point", "Run", "find_resumable"]


@dataclass
class Point:
    """One grid point: its overrides, its row source (built by the client, or ``None`` when only workers build
    it), the recipe workers rebuild it from, the cell plan, the methods (with the point's options) and the
    signal summary."""

    grid: dict[str, Any]
    source: Any
    recipe: DataRecipe
    methods: list[Method]
    signal: dict[str, Any]

    @property
    def plan(self) -> CellPlan:
        """The point's cell plan."""
        return self.recipe.plan


@dataclass
class _Pending:
    outs: dict[int, dict[str, Any]] = field(default_factory=dict)
    expected: int = 0


def find_resumable(path: str | os.PathLike[str], config: dict[str, Any], *, predictions: bool = True,
                   test: bool = True) -> Results | None:
    """The latest run of the result file ``path`` with the same configuration (what ``--resume`` continues),
    telling the user which one; ``predictions``/``test`` as in :func:`sigbench.load_results`."""
    from sigbench.results import list_runs

    want = config_hash(config)
    console = get_console()
    for run_id in reversed(list_runs(path)):
        res = load_results(path, run_id, predictions=predictions, test=test)
        if config_hash(res.config) == want:
            if not is_quiet():
                console.print(f"Resuming run {escape(run_id)}: {len(res.rows)} finished rows kept.")
            return res
    if not is_quiet():
        console.print("No run with the same configuration to resume; starting afresh.")
    return None


def _registered(m: Method) -> bool:
    """Whether a worker rebuilds the method's class from its label itself (a chain, ``NAME@SCHEME``); every other
    class travels by reference, so a processor registered in this process only (or given as an object) runs in
    workers too."""
    return m.is_chain or "@" in m.spec.name


def _grid_key(grid: dict[str, Any]) -> tuple[tuple[str, str], ...]:
    return tuple(sorted((k, repr(v)) for k, v in grid.items()))


class Run:
    """One run (see the module docstring).

    Parameters
    ----------
    kind : {"run", "compare", "sweep"}
    task : Task
    protocol : Protocol
    config : dict
        The configuration (its hash identifies the run for ``--resume``).
    points : list of Point
    output : path, optional
        Result file; written atomically at checkpoints (see :mod:`sigbench.run.sinks`).
    base : path, optional
        The file the result file starts from (the input signal file).
    signal : Signal, optional
        An in-memory signal written into the result file when there is no ``base``.
    resume : bool
        Keep the finished rows (and predictions) of a run of ``output`` with the same configuration.
    keep_predictions : bool
        Store predictions and test arrays (not for sweeps).
    workers, timeout, scheduler
        The executor (see :func:`sigbench.run.executors.make_executor`).
    execution : dict
        Recorded in the environment (row source, chunking).
    """

    def __init__(self, *, kind: str, task: Any, protocol: Protocol, config: dict[str, Any], points: list[Point],
                 output: str | os.PathLike[str] | None, base: str | None, signal: Any, resume: bool,
                 keep_predictions: bool, workers: int = 1, timeout: float | None = None, scheduler: str | None = None,
                 execution: dict[str, Any] | None = None) -> None:
        self.kind, self.task, self.protocol, self.config, self.points = kind, task, protocol, config, points
        self.output = Path(output) if output is not None else None
        self.base, self.signal = base, signal
        self.keep = keep_predictions
        self.workers, self.timeout, self.scheduler = workers, timeout, scheduler
        self.in_memory = all(p.source is None or p.source.in_memory for p in points) and all(
            p.recipe.kind != "stream" for p in points)
        self.console = get_console()
        self.previous: Results | None = None
        if resume and self.output is not None and self.output.exists():
            self.previous = find_resumable(self.output, config, predictions=self.in_memory, test=self.in_memory)
        metric = get_host().registry.get("metrics", task.main_metric)
        self.results = Results(
            run_id=self.previous.run_id if self.previous else new_run_id(), kind=kind, task=task.name,
            main_metric=task.main_metric, higher_is_better=bool(metric.info.get("higher_is_better", True)),
            signal={k: v for k, v in points[0].signal.items() if not k.startswith("_")} if points else {},
            protocol=protocol.as_dict(), bound={}, config=config,
            environment=environment(), status="partial",
            created=_dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"))
        self.results.environment["execution"] = dict(execution or {})
        self.labels = [m.spec.label for m in (points[0].methods if points else [])]
        self.metrics = points[0].plan.metrics if points else tuple(task.metrics)
        self.writer = ResultWriter(self.output, self._base(), self.results.run_id,
                                   signal=None if self._base() else signal)
        self.kept: dict[tuple[Any, str], MethodRow] = {}
        if self.previous is not None:
            self.kept = {(_grid_key(r.grid), r.method): r for r in self.previous.rows}
            if self.output is not None:
                preds, self.writer.test_written = published(self.output, self.results.run_id)
                self.writer.stored = {(label, s): self._key(label, s) for label, s in preds if label in self.labels}

    def _base(self) -> str | None:
        if self.previous is not None and self.output is not None:
            return str(self.output)
        if self.base and Path(self.base).exists():
            return self.base
        return None

    def _key(self, label: str, seed: int) -> str:
        return f"pred_{self.labels.index(label)}_{seed}"

    @property
    def info(self) -> RunInfo:
        """What the observers receive."""
        return RunInfo(self.results.run_id, self.task.name, self.labels, self.protocol.as_dict(),
                       self.results.signal, self.results)

    # -- the loop ------------------------------------------------------------------------------
    def execute(self) -> Results:
        """Run every cell; returns the results (status ``complete``), or raises ``KeyboardInterrupt`` after
        checkpointing the finished rows (status ``interrupted``)."""
        host = get_host()
        res = self.results
        res.warnings.extend(host.call_observers("on_run_start", run=self.info))
        writer = self.writer
        writer.open()
        parts: Path | None = None
        try:
            with sigint_marks():
                self._write_test_arrays()
                cells = self._cells()
                executor = make_executor({j: p.source for j, p in enumerate(self.points)}, workers=self.workers,
                                         timeout=self.timeout, scheduler=self.scheduler, sink=self._inline_sink)
                recipes = {j: p.recipe for j, p in enumerate(self.points)}
                if not isinstance(executor, InlineExecutor):
                    parts = self._remote_recipes(recipes)
                self._flush()
                try:
                    with engine_fit_lines(), CellProgress(len(cells), getattr(executor, "slots", 1)) as progress:
                        for cell, out in executor.run(cells, recipes):
                            progress.advance(failed="error" in out)
                            self._arrived(cell, out)
                finally:
                    executor.close()
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
        finally:
            if parts is not None:
                shutil.rmtree(parts, ignore_errors=True)
        res.status = "complete"
        res.sort()
        res.warnings.extend(host.call_observers("on_run_end", run=self.info))
        writer.checkpoint(res, reopen=False)
        return res

    def _write_test_arrays(self) -> None:
        """The test targets, their sample indices and observations: kept in the results (rows in memory) and
        staged in the result file, once per run (not for sweeps)."""
        if not self.keep or not self.points:
            return
        pt = self.points[0]
        if pt.source is None:
            return
        res = self.results
        t0, t1 = pt.plan.test_rows
        if self.in_memory and self.previous is not None and self.previous.test:
            res.test = dict(self.previous.test)
        if self.writer.test_written and (res.test or not self.in_memory):
            return
        kept: dict[str, list[np.ndarray]] = {"targets": [], "target_index": [], "observed": []}
        for blk in pt.source.blocks(t0, t1, pt.plan.rows_per_block):
            arrays = {"targets": np.asarray(blk.targets), "target_index": np.asarray(blk.target_index, dtype=np.int64),
                      "observed": None if blk.observed is None else np.asarray(blk.observed),
                      **{k: np.asarray(v) for k, v in blk.extras.items()}}  # the task's per-row context
            for name, values in arrays.items():
                if values is None:
                    continue
                kept.setdefault(name, [])
                if not self.writer.test_written:
                    self.writer.append(f"test_{name}", values)
                if self.in_memory:
                    kept[name].append(values)
        self.writer.test_written = self.writer.test_written or self.writer.f is not None
        if self.in_memory:
            res.test = {k: np.concatenate(v) for k, v in kept.items() if v}

    def _cells(self) -> list[Cell]:
        self._pending: dict[tuple[int, str], _Pending] = {}
        self._ready: dict[tuple[int, str], MethodRow] = {}
        self._finished: set[tuple[int, str]] = set()
        self._bounds: dict[int, dict[str, float]] = {}
        self._checked: set[int] = set()
        cells: list[Cell] = []
        for j, pt in enumerate(self.points):
            for m in pt.methods:
                key = (j, m.spec.label)
                previous = self.kept.get((_grid_key(pt.grid), m.spec.label))
                if previous is not None:
                    self._reuse(key, m, previous)
                    continue
                seeds = self.protocol.seed_list(m.stochastic)
                self._pending[key] = _Pending(expected=len(seeds))
                for seed in seeds:
                    cells.append(Cell(j, m.spec.label, m.spec.name, cell_options(m, seed), seed,
                                      self.labels.index(m.spec.label), fit_on_test=m.fit_on_test,
                                      cls=None if _registered(m) else m.cls))
        return cells

    def _reuse(self, key: tuple[int, str], m: Method, row: MethodRow) -> None:
        if self.previous is not None and self.keep:
            for (label, seed), pred in self.previous.predictions.items():
                if label == m.spec.label:
                    self.results.predictions[(label, seed)] = pred
        self._ready[key] = row

    def _inline_sink(self, cell: Cell) -> PredictionSink | None:
        """A cell running here: rows in memory come back as an array; rows from a file are staged as they come."""
        if not self.keep:
            return None
        if self.in_memory:
            return PredictionSink()
        if self.writer.stage is None:  # rows from a file and no result file: predictions are not kept
            return None
        return PredictionSink(self.writer.stage, self._key(cell.label, cell.seed))

    def _remote_recipes(self, recipes: dict[int, DataRecipe]) -> Path | None:
        """Recipes for workers: streamed cells write their predictions into part files beside the output."""
        from dataclasses import replace

        parts: Path | None = None
        for j, recipe in recipes.items():
            if recipe.kind == "stream":
                if self.keep and self.output is not None and parts is None:
                    parts = Path(tempfile.mkdtemp(prefix=f".{self.output.name}.parts-", dir=self.output.parent))
                recipes[j] = replace(recipe, parts=str(parts) if parts is not None and self.keep else None)
            else:
                recipes[j] = replace(recipe, keep=self.keep)
        return parts

    def _arrived(self, cell: Cell, out: dict[str, Any]) -> None:
        """A cell is back: stage its predictions, report it, and assemble the rows that are complete."""
        self._report(cell, out)
        out.setdefault("seed", cell.seed)
        key = self._key(cell.label, cell.seed)
        pred = out.pop("prediction", None)
        part = out.pop("part", None)
        if "error" not in out and self.keep:
            if pred is not None:
                if self.in_memory:
                    self.results.predictions[(cell.label, cell.seed)] = pred
                self.writer.append(key, pred)
                self.writer.stored[(cell.label, cell.seed)] = key
            elif part is not None:
                self.writer.copy_part(part, key)
                self.writer.stored[(cell.label, cell.seed)] = key
            elif self.writer.stage is not None and key in self.writer.stage:  # staged by the cell itself
                self.writer.stored[(cell.label, cell.seed)] = key
        if part is not None:
            Path(part).unlink(missing_ok=True)
        self._pending[(cell.job, cell.label)].outs[cell.seed] = out
        self._flush()

    def _report(self, cell: Cell, out: dict[str, Any]) -> None:
        if is_quiet():
            return
        pt = self.points[cell.job]
        grid = " ".join(f"{k}={v}" for k, v in pt.grid.items())
        m = next(m for m in pt.methods if m.spec.label == cell.label)
        seed_txt = f" seed {cell.seed}" if m.stochastic else ""
        head = f"  {escape(grid + ' ' if grid else '')}{escape(cell.label)}{seed_txt}"
        if "error" in out:
            self.console.print(f"{head} [red]failed[/]: {escape(out['error'])}")
        else:
            from sigbench.console import training_summary

            describe = out.get("describe")
            summary = training_summary(describe) if isinstance(describe, dict) else ""  # a network's training
            self.console.print(f"{head}: fit {out['fit_s']:.2f} s" + (f" — {escape(summary)}" if summary else ""))

    def _point_bounds(self, j: int, pt: Point) -> dict[str, float] | None:
        """Role → MSE of the point's references once every reference cell is back (None before); a failed
        reference gives no bound."""
        if j in self._bounds:
            return self._bounds[j]
        bounds: dict[str, float] = {}
        roles = tuple(getattr(self.task, "excess_roles", ("reference", "oracle", "limit")))
        for m in pt.methods:
            if not m.role or m.role not in roles:
                continue
            key = (j, m.spec.label)
            if key in self._ready:
                row = self._ready[key]
                if row.status == "ok" and row.metrics.get("mse") is not None:
                    bounds[m.role] = float(row.metrics["mse"])  # type: ignore[arg-type]
                continue
            pending = self._pending.get(key)
            if pending is None or len(pending.outs) < pending.expected:
                return None
            ok = [o for o in pending.outs.values() if "error" not in o]
            if len(ok) == pending.expected:
                bounds[m.role] = float(np.mean([o["mse"] for o in ok]))
        self._bounds[j] = bounds
        return bounds

    def _flush(self) -> None:
        """Assemble, in method order, every row whose seeds are all back and whose point's references are known.

        A newly assembled row is checkpointed when due; rows reused from a resumed run are checkpointed together,
        so the file never holds fewer finished rows than it did before the resume."""
        res = self.results
        unsaved = False
        for j, pt in enumerate(self.points):
            bounds = self._point_bounds(j, pt)
            for m in pt.methods:
                key = (j, m.spec.label)
                if key in self._finished:
                    continue
                pending = self._pending.get(key)
                if key in self._ready:  # kept from the resumed run: published at once, whatever is pending
                    row = self._ready[key]
                elif bounds is not None and pending is not None and len(pending.outs) == pending.expected:
                    outs = [pending.outs[s] for s in sorted(pending.outs)]
                    row = build_row(m, pt.grid, outs, bounds=bounds, with_excess="excess_db" in self.metrics,
                                    main_metric=self.task.main_metric)
                    del self._pending[key]
                else:
                    continue
                self._finished.add(key)
                if m.role in ("oracle", "limit") and row.status != "ok":  # a bound that could not be had: a note
                    res.warnings.append(f"{row.method} not available{self._at(pt)}: {row.error}")
                    continue
                if m.role and row.status == "ok":
                    self._record_reference(pt, m, row)
                res.rows.append(row)
                res.warnings.extend(get_host().call_observers("on_method_done", run=self.info,
                                                              method=m.spec.label, result=row))
                if key in self._ready:
                    unsaved = True
                elif self.writer.due():
                    self.writer.checkpoint(res)
                    unsaved = False
            if all((j, m.spec.label) in self._finished for m in pt.methods) and j not in self._checked:
                self._checked.add(j)
                res.warnings.extend(self._stationarity(pt))
        if unsaved:
            self.writer.checkpoint(res)

    @staticmethod
    def _at(pt: Point) -> str:
        return f" at {', '.join(f'{k}={v}' for k, v in pt.grid.items())}" if pt.grid else ""

    def _record_reference(self, pt: Point, m: Method, row: MethodRow) -> None:
        res = self.results
        main = self.task.main_metric
        entry = {"method": m.spec.label, "role": m.role, "mse": row.metrics.get("mse"), main: row.metrics.get(main)}
        if m.is_reference:
            bound = {"method": m.spec.label, "mse": row.metrics.get("mse"), "snr_db": row.metrics.get("snr_db")}
            if main != "snr_db":
                bound[main] = row.metrics.get(main)
            if self.kind == "sweep":
                res.bound.setdefault("per_grid", []).append({"grid": pt.grid, **bound})
            else:
                res.bound = bound
        if self.kind == "sweep":
            res.references.setdefault("per_grid", []).append({"grid": pt.grid, **entry})
        else:
            res.references[m.role] = entry

    def _stationarity(self, pt: Point) -> list[str]:
        """Notes when the linear reference is no bound on the test rows (a non-stationary signal)."""
        rows = {r.role or r.name: r for r in self.results.rows if r.grid == pt.grid and r.status == "ok"}
        ref, naive = rows.get("reference"), rows.get("naive")
        notes = []
        where = self._at(pt)
        if ref is not None and naive is not None and (ref.metrics.get("mse") or 0) > (naive.metrics.get("mse") or 0):
            notes.append(f"the linear reference {ref.method} does worse than naive on the test rows{where}: the signal "
                         "is likely non-stationary, and the reference is no bound there")
        gap = ref.metrics.get("excess_oracle_db") if ref is not None else None
        if gap is not None and gap > 3.0:
            notes.append(f"the linear reference {ref.method} (fitted on the training rows) is {gap:.1f} dB above the "  # type: ignore[union-attr]
                         f"linear oracle (fitted on the test rows){where}: training and test rows differ markedly "
                         "(non-stationary); read excess_oracle_db for what no linear filter can do")
        return notes


def run_points(points: Sequence[Point], **kwargs: Any) -> Results:
    """Execute a :class:`Run` over ``points`` (keyword arguments as :class:`Run`)."""
    return Run(points=list(points), **kwargs).execute()
