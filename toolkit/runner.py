"""The runner: executes the cells of a comparison or sweep and keeps the result file current.

:func:`sigbench.compare` and :func:`sigbench.sweep` (in :mod:`sigbench.engine`) resolve methods and build
grid points; the :class:`_Runner` here turns them into cells (method × seed × grid point), hands them to an
executor (:mod:`sigbench.executors`), scores what comes back against the grid point's reference, calls the
observer hooks and checkpoints the result file atomically after every finished method.
"""

from __future__ import annotations

import datetime as _dt
import math
import os
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from sigbench.console import CellProgress, escape, get_console, is_quiet
from sigbench.errors import ConfigError
from sigbench.executors import Cell, DataRecipe, InlineExecutor, make_executor
from sigbench.host import get_host
from sigbench.params import MethodSpec
from sigbench.processor import Processor
from sigbench.protocol import Protocol, Segments
from sigbench.results import MethodRow, Results, config_hash, environment, load_results, mean_ci
from sigbench.signal import Signal
from sigbench.tasks import Task, TaskData

__all__ = ["RunInfo", "find_resumable"]


@dataclass
class RunInfo:
    """What observers (``on_run_start``/``on_method_done``/``on_run_end``) receive."""

    run_id: str
    task: str
    methods: list[str]
    protocol: dict[str, Any]
    signal: dict[str, Any]
    results: Results | None = None


@dataclass
class _Method:
    spec: MethodSpec
    cls: type[Processor]
    options: dict[str, Any]
    is_reference: bool = False

    @property
    def stochastic(self) -> bool:
        return not getattr(self.cls, "deterministic", True)


@dataclass
class _Job:
    """One grid point: its task data, split and the signal summary."""

    grid: dict[str, Any]
    data: TaskData
    seg: Segments
    signal: dict[str, Any]
    rows: dict[str, MethodRow] = field(default_factory=dict)
    recipe: DataRecipe | None = None
    context: dict[str, Any] = field(default_factory=dict)
    methods: list[_Method] = field(default_factory=list)


def _final_options(m: _Method, job: _Job | None, seed: int) -> dict[str, Any]:
    """Constructor options of one cell: the user's, plus the seed, the task's horizon and the validation split."""
    opts = dict(m.options)
    names = m.cls.param_names()
    if "seed" in names and "seed" not in m.spec.options:
        opts["seed"] = seed
    if job is not None:
        if "horizon" in names and "horizon" not in opts and "horizon" in job.data.options:
            opts["horizon"] = job.data.options["horizon"]
        val_rows = job.seg.val.stop - job.seg.val.start
        fit_rows = job.seg.fit.stop - job.seg.fit.start
        if "validation_fraction" in names and "validation_fraction" not in opts and val_rows > 0:
            opts["validation_fraction"] = round(val_rows / fit_rows, 6)
    return {k: v for k, v in opts.items() if not k.startswith("_")}


def _instantiate(m: _Method, job: _Job | None, seed: int) -> Processor:
    return m.cls(**_final_options(m, job, seed))


def _metrics(task: Task, y: np.ndarray, pred: np.ndarray, context: dict[str, Any]) -> dict[str, float]:
    registry = get_host().registry
    out: dict[str, float] = {}
    for name in task.metrics:
        if name == "excess_db" and context.get("bound_mse") is None:
            continue
        if name == "snr_gain_db" and context.get("observed_at_target") is None:
            continue
        out[name] = float(registry.get("metrics", name).obj(y, pred, context))
    return out


class _Runner:
    """Runs the cells of one comparison or sweep and keeps the result file current."""

    def __init__(self, task: Task, methods: list[_Method], protocol: Protocol, *, kind: str,
                 output: str | os.PathLike[str] | None, base: str | None, signal: Signal | None,
                 resume: bool, config: dict[str, Any], keep_predictions: bool = True, workers: int = 1,
                 timeout: float | None = None, scheduler: str | None = None) -> None:
        self.workers, self.timeout, self.scheduler = workers, timeout, scheduler
        self.task, self.methods, self.protocol, self.kind = task, methods, protocol, kind
        self.output = Path(output) if output is not None else None
        self.base, self.signal, self.config = base, signal, config
        self.keep_predictions = keep_predictions
        self.console = get_console()
        self.previous: Results | None = None
        if resume and self.output is not None and self.output.exists():
            self.previous = find_resumable(self.output, self.config)
        run_id = self.previous.run_id if self.previous else _new_run_id()
        metric = get_host().registry.get("metrics", task.main_metric)
        self.results = Results(
            run_id=run_id, kind=kind, task=task.name, main_metric=task.main_metric,
            higher_is_better=bool(metric.info.get("higher_is_better", True)), signal={},
            protocol=protocol.as_dict(), bound={}, config=config, environment=environment(),
            status="partial", created=_dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"))

    def _done(self, grid: dict[str, Any], label: str) -> MethodRow | None:
        if self.previous is None:
            return None
        for r in self.previous.rows:
            if r.method == label and r.grid == grid:
                return r
        return None

    def run_jobs(self, jobs: Sequence[_Job]) -> None:
        """Run every method on every grid point through the executor; rows are finalised, observed and
        checkpointed as soon as all their seeds are back (and the grid point's reference, for the bound)."""
        res = self.results
        for job in jobs:
            if not job.methods:
                job.methods = list(self.methods)
            if not res.signal:
                res.signal = job.signal
            job.context = {"sample_rate_hz": job.data.sample_rate_hz,
                           "observed_at_target": None if job.data.observed_at_target is None
                           else job.data.observed_at_target[job.seg.test]}
            if not res.test and self.kind != "sweep":
                res.test = {"targets": np.asarray(job.data.targets[job.seg.test]),
                            "target_index": job.data.target_index[job.seg.test]}
                if job.context["observed_at_target"] is not None:
                    res.test["observed"] = np.asarray(job.context["observed_at_target"])
        cells: list[Cell] = []
        self._pending: dict[tuple[int, str], dict[int, dict[str, Any]]] = {}
        self._expected: dict[tuple[int, str], int] = {}
        self._order = [(j, m) for j, job in enumerate(jobs) for m in job.methods]
        self._jobs = list(jobs)
        self._finished: set[tuple[int, str]] = set()
        for j, job in enumerate(jobs):
            for m in job.methods:
                previous = self._done(job.grid, m.spec.label)
                if previous is not None:
                    self._reuse(j, m, previous)
                    continue
                seeds = self.protocol.seed_list(m.stochastic)
                self._expected[(j, m.spec.label)] = len(seeds)
                self._pending[(j, m.spec.label)] = {}
                prequential = self.protocol.mode == "prequential"
                for seed in seeds:
                    cells.append(Cell(j, m.spec.label, m.spec.name, _final_options(m, job, seed), seed, prequential))
        self._flush()
        executor = make_executor({j: (job.data, job.seg) for j, job in enumerate(jobs)}, workers=self.workers,
                                 timeout=self.timeout, scheduler=self.scheduler)
        recipes = {j: job.recipe for j, job in enumerate(jobs) if job.recipe is not None}
        if not isinstance(executor, InlineExecutor) and len(recipes) < len(jobs):
            raise ConfigError("expected a signal file or a source for parallel runs; save the signal first")
        try:
            with CellProgress(len(cells), getattr(executor, "slots", 1)) as progress:
                for cell, out in executor.run(cells, recipes):
                    progress.advance(failed="error" in out)
                    self._report(cell, out)
                    self._pending[(cell.job, cell.label)][cell.seed] = out
                    self._flush()
        finally:
            executor.close()

    def _reuse(self, j: int, m: _Method, row: MethodRow) -> None:
        res = self.results
        if self.previous is not None and self.kind != "sweep":
            for (pl, seed), pred in self.previous.predictions.items():
                if pl == m.spec.label:
                    res.predictions[(pl, seed)] = pred
        self._rows_ready = getattr(self, "_rows_ready", {})
        self._rows_ready[(j, m.spec.label)] = row

    def _report(self, cell: Cell, out: dict[str, Any]) -> None:
        if is_quiet():
            return
        job = self._jobs[cell.job]
        grid = " ".join(f"{k}={v}" for k, v in job.grid.items())
        m = next(m for m in job.methods if m.spec.label == cell.label)
        seed_txt = f" seed {cell.seed}" if m.stochastic else ""
        head = f"  {escape(grid + ' ' if grid else '')}{escape(cell.label)}{seed_txt}"
        if "error" in out:
            self.console.print(f"{head} [red]failed[/]: {escape(out['error'])}")
        else:
            self.console.print(f"{head}: fit {out['fit_s']:.2f} s")

    def _flush(self) -> None:
        """Finalise, in method order, every row whose seeds are all back and whose bound is known.

        A newly computed row is checkpointed at once; rows reused from a resumed run are checkpointed
        together, so the file never holds fewer finished rows than it did before the resume."""
        ready = getattr(self, "_rows_ready", {})
        unsaved = False
        for j, m in self._order:
            key = (j, m.spec.label)
            if key in self._finished:
                continue
            job = self._jobs[j]
            refs = [x.spec.label for x in job.methods if x.is_reference]
            ref_known = m.is_reference or not refs or (j, refs[0]) in self._finished
            if key in ready:
                row = ready[key]
            elif key in self._pending and len(self._pending[key]) == self._expected[key] and ref_known:
                row = self._finalise(m, job, self._pending.pop(key))
            else:
                continue
            self._finished.add(key)
            if m.is_reference and row.status == "ok":
                job.context["bound_mse"] = row.metrics.get("mse")
                bound = {"method": m.spec.label, "mse": row.metrics.get("mse"), "snr_db": row.metrics.get("snr_db")}
                if self.kind == "sweep":
                    self.results.bound.setdefault("per_grid", []).append({"grid": job.grid, **bound})
                else:
                    self.results.bound = bound
            self.results.rows.append(row)
            job.rows[m.spec.label] = row
            problems = get_host().call_observers("on_method_done", run=self.info, method=m.spec.label, result=row)
            self.results.warnings.extend(problems)
            if key in ready:
                unsaved = True
            else:
                self.checkpoint()
                unsaved = False
        if unsaved:
            self.checkpoint()

    def _finalise(self, m: _Method, job: _Job, outs: dict[int, dict[str, Any]]) -> MethodRow:
        label = m.spec.label
        row = MethodRow(method=label, name=m.spec.name, family=str(getattr(m.cls, "family", "?")),
                        options=dict(m.options), grid=dict(job.grid), is_reference=m.is_reference,
                        is_chain=bool(getattr(m.cls, "is_chain", False)))
        y_test = job.data.targets[job.seg.test]
        per_seed: list[dict[str, Any]] = []
        for seed in sorted(outs):
            out = outs[seed]
            row.seeds.append(seed)
            if "error" in out:
                row.status, row.error = "failed", out["error"]
                break
            per_seed.append(self._score(m, job, seed, out, y_test))
        if per_seed:
            row.describe = per_seed[0]["describe"]
        row.per_seed = [{k: v for k, v in c.items() if k not in ("prediction", "describe")} for c in per_seed]
        if row.status != "ok":
            return row
        for name in per_seed[0]["metrics"]:
            mean, ci = mean_ci([c["metrics"][name] for c in per_seed])
            row.metrics[name] = mean
            row.metrics[f"{name}_ci"] = ci
        desc = row.describe
        fit_s = [c["fit_s"] for c in per_seed]
        row.cost = {
            "params": desc.get("trainable_params"),
            "macs_per_sample": desc.get("macs_per_sample"),
            "memory_bytes": desc.get("memory_bytes"),
            "fit_s": float(np.mean(fit_s)),
            "fit_s_ci": mean_ci(fit_s)[1],
            "samples_per_s": float(np.mean([c["samples_per_s"] for c in per_seed])),
            "latency_s": float(np.mean([c["latency_s"] for c in per_seed])),
        }
        if desc.get("convergence_samples") is not None:
            row.metrics["convergence_samples"] = float(desc["convergence_samples"])
        if self.keep_predictions:
            for c in per_seed:
                self.results.predictions[(label, c["seed"])] = c["prediction"]
        return row

    def _score(self, m: _Method, job: _Job, seed: int, out: dict[str, Any], y_test: np.ndarray) -> dict[str, Any]:
        pred = out["prediction"]
        ctx = dict(job.context)
        if m.is_reference:
            ctx["bound_mse"] = float(np.mean(np.square(y_test - pred)))
        metrics = _metrics(self.task, y_test, pred, ctx)
        if out.get("online"):
            k = max(1, round(self.protocol.transient * len(y_test)))
            for part, sl in (("transient", slice(0, k)), ("steady", slice(k, None))):
                if len(y_test[sl]):
                    sub_ctx = dict(ctx)
                    if ctx.get("observed_at_target") is not None:
                        sub_ctx["observed_at_target"] = ctx["observed_at_target"][sl]
                    part_metrics = _metrics(self.task, y_test[sl], pred[sl], sub_ctx)
                    metrics[f"{self.task.main_metric}_{part}"] = part_metrics[self.task.main_metric]
        predict_s = out["predict_s"]
        return {"seed": seed, "metrics": metrics, "fit_s": out["fit_s"], "predict_s": predict_s,
                "samples_per_s": len(y_test) / predict_s if predict_s > 0 else math.inf,
                "latency_s": out["latency_s"], "prediction": pred, "describe": out["describe"]}

    @property
    def info(self) -> RunInfo:
        return RunInfo(self.results.run_id, self.task.name, [m.spec.label for m in self.methods],
                       self.protocol.as_dict(), self.results.signal, self.results)

    def checkpoint(self, status: str = "partial") -> None:
        """Write the current results to the output file (atomic replace)."""
        self.results.status = status
        if status != "partial":
            self.results.sort()
        if self.output is None:
            return
        base = self.base if self.base and Path(self.base).exists() else None
        if base is None and self.output.exists() and self.previous is not None:
            base = str(self.output)
        self.results.save(self.output, base=base, signal=self.signal if base is None else None)


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


def _new_run_id() -> str:
    stamp = _dt.datetime.now(_dt.timezone.utc).strftime("%Y%m%dT%H%M%S")
    return f"{stamp}-{uuid.uuid4().hex[:6]}"


def _execute(runner: _Runner, jobs: Sequence[_Job]) -> Results:
    host = get_host()
    runner.results.warnings.extend(host.call_observers("on_run_start", run=runner.info))
    try:
        runner.run_jobs(jobs)
    except KeyboardInterrupt:
        runner.checkpoint("interrupted")
        raise
    runner.checkpoint("complete")
    runner.results.warnings.extend(host.call_observers("on_run_end", run=runner.info))
    return runner.results
