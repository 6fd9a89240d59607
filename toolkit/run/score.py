r"""Scoring: metrics through the metric registry, over whole arrays or accumulated block by block, and the one
place where a result row is assembled from its cells.

How a metric is computed
    A cell feeds its test blocks (targets, predictions, observations) to a :class:`Scorer`. While the test
    rows fit in :data:`KEEP_BYTES`, the scorer keeps them and calls each registered metric function on the
    whole arrays — the same numbers whether the rows came from memory or from a file. Beyond that it
    switches to the metrics' *accumulators*: a metric registered with ``accumulator=Factory`` (a class
    with ``add(y_true, y_pred, context)`` and ``value(context) -> float``, fed every block in order)
    works out of core; the built-in error metrics accumulate sufficient statistics (sums, and means and
    squared deviations combined by :class:`~sigbench.metrics.RunningMoments`). A metric without an
    accumulator is then refused: its value is missing from the row and the row says why (a warning), never
    a wrong number.
Context a metric receives
    ``sample_rate_hz``, ``task``, ``target_mean``, ``observed_at_target`` (the noisy observation at each
    target, or ``None`` when the task has none), the task's constant context (:attr:`sigbench.TaskData.context`,
    e.g. ``alphabet``) and its per-row arrays (:attr:`sigbench.TaskData.row_context`, e.g.
    ``clean_at_target``) for the rows scored; accumulators receive the same keys per block.
Derived columns
    ``excess_db`` (a row's MSE over the reference's, in dB) is derived when the row is assembled, from the
    cell's ``mse`` and the reference row's, so cells never wait for the reference.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from sigbench.metrics import db_ratio, finite_excess, variance_from_metrics
from sigbench.results import MethodRow, mean_ci

__all__ = ["KEEP_BYTES", "Scorer", "build_row"]

#: test rows (targets, predictions and observations) a scorer keeps to call metric functions on whole arrays
KEEP_BYTES = 256 * 2**20
#: metrics a scorer never computes (derived from other rows when the row is assembled)
DERIVED = ("excess_db",)


class Scorer:
    """The metrics of one cell's test rows, fed block by block (see the module docstring).

    Parameters
    ----------
    names : sequence of str
        Registered metric names.
    context : dict
        The metric context (``observed_at_target`` is filled in from the blocks).
    keep_bytes : int, default :data:`KEEP_BYTES`
        Above this the scorer stops keeping rows and uses accumulators.
    residual : str, optional
        A per-row context key subtracted from the targets in :attr:`mse` (the MSE of the excess columns,
        :attr:`sigbench.tasks.Task.excess_residual`).
    accumulate : bool, default False
        Use the accumulators from the first block when every metric has one (rows read from a file: memory stays
        flat whatever their number); rows are then kept only for metrics without an accumulator.
    """

    def __init__(self, names: Sequence[str], context: dict[str, Any], keep_bytes: int = KEEP_BYTES,
                 accumulate: bool = False, residual: str | None = None) -> None:
        from sigbench.host import get_host

        registry = get_host().registry
        self.names = [n for n in names if n not in DERIVED]
        self.entries = {n: registry.get("metrics", n) for n in self.names}
        self.context = dict(context)
        self.keep_bytes = keep_bytes
        self.residual = residual
        self.kept: list[tuple[np.ndarray, np.ndarray, np.ndarray | None, dict[str, np.ndarray]]] = []
        self.kept_bytes = 0
        self.accumulators: dict[str, Any] | None = None
        self.sse = 0.0
        self.n = 0
        if accumulate and all(e.info.get("accumulator") is not None for e in self.entries.values()):
            self._start_accumulating()

    def add(self, y_true: np.ndarray, y_pred: np.ndarray, observed: np.ndarray | None,
            extras: dict[str, np.ndarray] | None = None) -> None:
        """Feed the next block of test rows (``extras``: the task's per-row context of these rows)."""
        extras = dict(extras or {})
        e = np.asarray(y_true, dtype=np.float64) - np.asarray(y_pred, dtype=np.float64)
        if self.residual is not None and self.residual in extras:
            e = e - np.asarray(extras[self.residual], dtype=np.float64).reshape(e.shape)
        self.sse += float(np.sum(np.square(e)))
        self.n += int(e.size)
        if self.accumulators is None:
            self.kept.append((y_true, y_pred, observed, extras))
            self.kept_bytes += (y_true.nbytes + y_pred.nbytes + (0 if observed is None else observed.nbytes)
                                + sum(np.asarray(v).nbytes for v in extras.values()))
            if self.kept_bytes > self.keep_bytes:
                self._start_accumulating()
        else:
            self._accumulate(y_true, y_pred, observed, extras)

    def _start_accumulating(self) -> None:
        self.accumulators = {}
        for name, entry in self.entries.items():
            factory = entry.info.get("accumulator")
            if factory is not None:
                self.accumulators[name] = factory()
        kept, self.kept = self.kept, []
        for y, p, o, x in kept:
            self._accumulate(y, p, o, x)

    def _accumulate(self, y: np.ndarray, p: np.ndarray, o: np.ndarray | None, extras: dict[str, np.ndarray]) -> None:
        assert self.accumulators is not None
        ctx = {**self.context, **extras, "observed_at_target": o}
        for acc in self.accumulators.values():
            acc.add(y, p, ctx)

    @property
    def mse(self) -> float:
        """Mean squared error over every value fed so far."""
        return self.sse / self.n if self.n else math.nan

    def result(self) -> tuple[dict[str, float], list[str]]:
        """The metrics, and the names of those that could not be computed out of core (with why)."""
        out: dict[str, float] = {}
        problems: list[str] = []
        if self.accumulators is None:
            if not self.kept:
                return out, problems
            y = np.concatenate([k[0] for k in self.kept])
            p = np.concatenate([k[1] for k in self.kept])
            obs = None if any(k[2] is None for k in self.kept) else np.concatenate([k[2] for k in self.kept])  # type: ignore[misc]
            extras = {key: np.concatenate([k[3][key] for k in self.kept]) for key in self.kept[0][3]}
            ctx = {**self.context, **extras, "observed_at_target": obs}
            for name, entry in self.entries.items():
                if name == "snr_gain_db" and obs is None:
                    continue
                out[name] = float(entry.obj(y, p, ctx))
            return out, problems
        for name in self.names:
            acc = self.accumulators.get(name)
            if acc is None:
                problems.append(f"metric {name} was not computed: its test rows exceed {self.keep_bytes // 2**20} MiB "
                                "and it has no accumulator (see docs/plugin-hooks.md, register_metrics)")
                continue
            try:
                out[name] = float(acc.value({**self.context}))
            except ValueError:  # a metric undefined on these rows (no observation for snr_gain_db)
                continue
        return out, problems


def build_row(method: Any, grid: dict[str, Any], outs: list[dict[str, Any]], *, bounds: dict[str, float],
              with_excess: bool, main_metric: str) -> MethodRow:
    """The result row of one method from its cells (one per seed, in seed order).

    The first failed cell makes the row ``failed`` with its error (and traceback); otherwise every metric is
    the mean over seeds with its 95 % half-width (``<metric>_ci``), the excess over each reference
    (``excess_db`` over the linear reference, ``excess_oracle_db`` over the linear oracle, ``excess_limit_db``
    over the model limit: 10·log10 of the MSE ratio) is derived from the cells' MSE and ``bounds`` (role → MSE),
    except over an exact bound (:func:`sigbench.metrics.finite_excess`: an MSE at rounding level, at most −200 dB
    below the test targets' variance), and the cost columns are filled from ``describe()`` and the timings.
    """
    from sigbench.run.plan import ROLES

    row = MethodRow(method=method.spec.label, name=method.spec.name, family=str(getattr(method.cls, "family", "?")),
                    options=dict(method.options), grid=dict(grid), is_reference=bool(method.is_reference),
                    is_chain=bool(getattr(method.cls, "is_chain", False)), role=method.role)
    per_seed: list[dict[str, Any]] = []
    # the test targets' variance (the same rows for every cell): what an exact bound is measured against
    variance = next((v for o in outs if "metrics" in o for v in [variance_from_metrics(o["metrics"])]
                     if v is not None), None)
    for out in outs:
        row.seeds.append(int(out.get("seed", 0)))
        if "error" in out:
            row.status, row.error = "failed", out["error"]
            if out.get("traceback"):
                row.traceback = out["traceback"]
            break
        metrics = dict(out["metrics"])
        if with_excess:
            for role, (_, column) in ROLES.items():
                if finite_excess(bounds.get(role), variance):  # an exact bound (MSE at rounding level): none
                    metrics[column] = db_ratio(out["mse"], bounds[role])
        if out.get("online"):
            row.mode = "adapting"
        per_seed.append({"seed": out["seed"], "metrics": metrics, "fit_s": out["fit_s"],
                         "predict_s": out["predict_s"], "samples_per_s": out["samples_per_s"],
                         "latency_s": out["latency_s"]})
        for warning in out.get("warnings", ()):
            if warning not in row.warnings:
                row.warnings.append(warning)
    if per_seed:
        row.describe = next(o for o in outs if "error" not in o)["describe"]
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
    deploys = [o.get("deploy") or {} for o in outs if "error" not in o]
    for key in sorted({k for d in deploys for k, v in d.items() if isinstance(v, (int, float))}):
        values = [float(d[key]) for d in deploys if isinstance(d.get(key), (int, float))]
        row.cost[key] = float(np.mean(values))
    if desc.get("convergence_samples") is not None:
        row.metrics["convergence_samples"] = float(desc["convergence_samples"])
    return row
