"""Comparison results: the table-like :class:`Results`, its JSON document and its HDF5 record.

Layout of one run in a result file (format 1)::

    /runs/<run_id>/                 attrs: kind (compare|run|sweep), task, created, status
                                    (complete|partial|interrupted), config_hash, sigbench_version,
                                    written_ns (when this run was last written: orders runs of one second)
    /runs/<run_id>/results.json     the JSON document of :meth:`Results.to_json` (UTF-8 string, strict JSON:
                                    non-finite numbers as null, listed under "non_finite")
    /runs/<run_id>/table/           the tidy table of :meth:`Results.to_pandas` as one dataset per column
                                    (numbers float64, NaN where missing; text UTF-8); attrs: columns, metrics,
                                    costs, grid (the column names of each kind, in order)
    /runs/<run_id>/config.json      the configuration that produced it (protocol, methods, options)
    /runs/<run_id>/environment.json Python, numpy, scipy, h5py, Keras/TensorFlow versions, CPU
    /runs/<run_id>/test/targets     (rows,) or (rows, outputs): the test targets
    /runs/<run_id>/test/target_index (rows,): sample index of each target
    /runs/<run_id>/test/observed    (rows,): noisy observation at each target (when defined)
    /runs/<run_id>/test/<key>       (rows,): the task's per-row metric context (``cancel``: clean_at_target)
    /runs/<run_id>/methods/mNN/     attrs: label, status; datasets seed_<k> = test predictions
"""

from __future__ import annotations

import hashlib
import html
import json
import math
import os
import platform
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from sigbench._json import dumps, loads, loads_untrusted
from sigbench._version import __version__
from sigbench.errors import FileFormatError, ValidationError

__all__ = ["MethodRow", "Results", "config_hash", "environment", "grid_sort_key", "load_results", "mean_ci",
           "read_table"]

#: per-seed cost entries of ``MethodRow.per_seed`` (the rest of a row's cost is per method)
_SEED_COSTS = ("fit_s", "predict_s", "samples_per_s", "latency_s")
#: columns of :meth:`Results.to_pandas` that describe the row, before the grid, metric and cost columns
_ID_COLUMNS = ("method", "name", "family", "reference", "chain")


def mean_ci(values: list[float]) -> tuple[float, float | None]:
    r"""Mean and 95 % half-width (Student t) of ``values``; the half-width is ``None`` for one value.

    The half-width is :math:`t_{0.975,\,n-1}\, s / \sqrt{n}` with :math:`s` the sample standard deviation
    (``ddof=1``) and the exact quantile :math:`t_{0.975,\,n-1}` of Student's t with :math:`n - 1` degrees of
    freedom (:func:`scipy.special.stdtrit`), for any :math:`n \ge 2`: the same interval as
    ``scipy.stats.t.interval(0.95, n - 1, loc=mean, scale=sem)``.
    """
    arr = np.asarray(values, dtype=np.float64)
    mean = float(np.mean(arr))
    if arr.size < 2 or not np.isfinite(arr).all():
        return mean, None
    from scipy.special import stdtrit  # imported on first use (scipy costs start-up time)

    t = float(stdtrit(arr.size - 1, 0.975))
    return mean, float(t * np.std(arr, ddof=1) / math.sqrt(arr.size))


def grid_sort_key(grid: dict[str, Any]) -> tuple[tuple[str, int, float, str], ...]:
    """Sort key of a sweep's grid point: keys by name, values in numeric order (0, 5, 10, 20, never the
    text order 0, 10, 20, 5); non-numeric values after the numbers, in text order.

    Examples
    --------
    >>> sorted([{"snr_db": 10}, {"snr_db": 5}, {"snr_db": 0}], key=grid_sort_key)
    [{'snr_db': 0}, {'snr_db': 5}, {'snr_db': 10}]
    """
    key = []
    for name in sorted(grid):
        value = grid[name]
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            key.append((name, 0, float(value), ""))
        else:
            key.append((name, 1, 0.0, str(value)))
    return tuple(key)


def config_hash(config: dict[str, Any]) -> str:
    """SHA-256 (first 16 hex digits) of the canonical JSON of ``config``."""
    return hashlib.sha256(json.dumps(config, sort_keys=True, default=str).encode()).hexdigest()[:16]


def environment() -> dict[str, Any]:
    """Versions and hardware that produced a result (Keras/TensorFlow only if already imported)."""
    import sys

    import scipy

    env: dict[str, Any] = {
        "sigbench": __version__, "python": platform.python_version(), "numpy": np.__version__,
        "scipy": scipy.__version__, "h5py": h5py.__version__, "platform": platform.platform(),
        "machine": platform.machine(), "processor": platform.processor() or None, "cpu_count": os.cpu_count(),
    }
    for mod in ("keras", "tensorflow", "jax", "torch", "numba"):
        if mod in sys.modules:
            env[mod] = getattr(sys.modules[mod], "__version__", "unknown")
    if "keras" in sys.modules:
        try:
            env["keras_backend"] = sys.modules["keras"].backend.backend()
        except Exception:  # a half-imported keras: the version is enough
            pass
    return env


@dataclass(repr=False)
class MethodRow:
    """One method's result over its seeds (``status`` ``ok`` or ``failed``)."""

    method: str
    name: str
    family: str
    status: str = "ok"
    error: str | None = None
    seeds: list[int] = field(default_factory=list)
    per_seed: list[dict[str, Any]] = field(default_factory=list)
    metrics: dict[str, float | None] = field(default_factory=dict)
    cost: dict[str, float | None] = field(default_factory=dict)
    options: dict[str, Any] = field(default_factory=dict)
    describe: dict[str, Any] = field(default_factory=dict)
    grid: dict[str, Any] = field(default_factory=dict)
    is_reference: bool = False
    is_chain: bool = False
    #: "" for a compared method; "reference", "oracle" or "limit" for the rows every other is measured against
    role: str = ""
    #: "adapting" (online, kept adapting on the test rows: the prequential mode) or "frozen"
    mode: str = "frozen"
    #: the traceback of a failed row's error (shown with ``--debug`` and in the report)
    traceback: str | None = None
    #: what the row could not compute (a metric out of core without an accumulator, …)
    warnings: list[str] = field(default_factory=list)

    def __repr__(self) -> str:
        shown = {k: v for k, v in self.metrics.items() if not k.endswith("_ci")}
        head = ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v!r}" for k, v in list(shown.items())[:3])
        tail = f", error={self.error!r}" if self.error else (f", {head}" if head else "")
        return f"MethodRow({self.method!r}, {self.status}, seeds={self.seeds}{tail})"

    def seed_records(self) -> list[dict[str, Any]]:
        """One dict per seed: ``seed``, ``status``, ``error``, its metrics and costs (see :meth:`Results.to_pandas`).

        A seed that was scored has status ``ok`` and its own metrics and timings; the seed a failed
        method stopped on has the row's status and error and no numbers. Per-method values (``params``,
        ``macs_per_sample``, ``memory_bytes``, metrics computed once per method such as
        ``convergence_samples``) are repeated on each seed. A method that failed before any seed gives
        one record with ``seed`` None.
        """
        scored = {int(c["seed"]): c for c in self.per_seed if isinstance(c, dict) and "seed" in c}
        row_metrics = {k: v for k, v in self.metrics.items() if not k.endswith("_ci")}
        row_costs = {k: v for k, v in self.cost.items() if not k.endswith("_ci")}
        out: list[dict[str, Any]] = []
        seeds: list[int | None] = list(self.seeds) or [None]
        for seed in seeds:
            c = scored.get(seed) if seed is not None else None
            rec: dict[str, Any] = {"seed": seed}
            if c is not None:
                rec.update(status="ok", error=None, metrics={**row_metrics, **dict(c.get("metrics", {}))},
                           cost={**row_costs, **{k: c[k] for k in _SEED_COSTS if k in c}})
            elif self.status == "ok":  # an older file without per-seed entries: the method's means
                rec.update(status="ok", error=None, metrics=dict(row_metrics), cost=dict(row_costs))
            else:
                rec.update(status=self.status, error=self.error, metrics={}, cost={})
            out.append(rec)
        return out

    def as_dict(self) -> dict[str, Any]:
        """JSON-friendly form (the ``rows`` items of ``compare --json``)."""
        return {
            "method": self.method, "name": self.name, "family": self.family, "status": self.status,
            "error": self.error, "seeds": self.seeds, "metrics": self.metrics, "cost": self.cost,
            "options": self.options, "grid": self.grid, "reference": self.is_reference, "chain": self.is_chain,
            "per_seed": self.per_seed, "describe": self.describe, "traceback": self.traceback,
            "warnings": self.warnings, "role": self.role, "mode": self.mode,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> MethodRow:
        """Inverse of :meth:`as_dict`."""
        return cls(method=d["method"], name=d["name"], family=d["family"], status=d["status"], error=d.get("error"),
                   seeds=list(d.get("seeds", [])), per_seed=list(d.get("per_seed", [])),
                   metrics=dict(d.get("metrics", {})), cost=dict(d.get("cost", {})), options=dict(d.get("options", {})),
                   describe=dict(d.get("describe", {})), grid=dict(d.get("grid", {})),
                   is_reference=bool(d.get("reference", False)), is_chain=bool(d.get("chain", False)),
                   traceback=d.get("traceback"), warnings=list(d.get("warnings", [])),
                   role=str(d.get("role") or ("reference" if d.get("reference") else "")),
                   mode=str(d.get("mode", "frozen")))


@dataclass(repr=False)
class Results:
    """The outcome of a comparison: rows sorted by the task's main metric, plus everything to re-render it.

    Attributes
    ----------
    rows : list of MethodRow
    predictions : dict
        ``{(method, seed): ndarray}`` test predictions.
    test : dict
        ``targets``, ``target_index`` and ``observed`` arrays of the test rows, and the task's per-row metric
        context (:attr:`sigbench.TaskData.row_context`, e.g. ``clean_at_target``).
    """

    run_id: str
    kind: str
    task: str
    main_metric: str
    higher_is_better: bool
    signal: dict[str, Any]
    protocol: dict[str, Any]
    bound: dict[str, Any]
    config: dict[str, Any]
    rows: list[MethodRow] = field(default_factory=list)
    #: role -> {"method", "mse", main metric} of the reference rows (sweeps: ``{"per_grid": [...]}``)
    references: dict[str, Any] = field(default_factory=dict)
    predictions: dict[tuple[str, int], np.ndarray] = field(default_factory=dict)
    test: dict[str, np.ndarray] = field(default_factory=dict)
    environment: dict[str, Any] = field(default_factory=dict)
    status: str = "complete"
    created: str = ""
    warnings: list[str] = field(default_factory=list)

    @property
    def failed(self) -> list[MethodRow]:
        """Rows whose status is ``failed``."""
        return [r for r in self.rows if r.status != "ok"]

    def row(self, method: str) -> MethodRow:
        """The row of ``method`` (its label as given)."""
        for r in self.rows:
            if r.method == method:
                return r
        raise KeyError(method)

    def sort(self) -> None:
        """Sort rows by grid point (numeric order, see :func:`grid_sort_key`), then ok rows by the main metric
        (best first) and failed rows last."""
        sign = -1.0 if self.higher_is_better else 1.0

        def key(r: MethodRow) -> tuple[Any, int, float]:
            v = r.metrics.get(self.main_metric)
            grid = grid_sort_key(r.grid)
            if r.status != "ok" or v is None:
                return (grid, 1, 0.0)
            return (grid, 0, sign * float(v))

        self.rows.sort(key=key)

    def to_json(self) -> dict[str, Any]:
        """The JSON document (schema in ``docs/cli.md``)."""
        return {
            "schema": "sigbench.results/1", "run_id": self.run_id, "kind": self.kind, "task": self.task,
            "main_metric": self.main_metric, "status": self.status, "created": self.created,
            "signal": self.signal, "protocol": self.protocol, "bound": self.bound, "references": self.references,
            "config": self.config,
            "config_hash": config_hash(self.config), "environment": self.environment,
            "warnings": self.warnings, "rows": [r.as_dict() for r in self.rows],
        }

    # -- as data -----------------------------------------------------------------------------
    def columns(self) -> dict[str, list[str]]:
        """Column names of :meth:`to_pandas` by kind: ``grid`` (``grid.<param>``), ``metrics``, ``costs``."""
        grid: list[str] = []
        metrics: list[str] = []
        costs: list[str] = []
        for row in self.rows:
            for key in row.grid:
                if f"grid.{key}" not in grid:
                    grid.append(f"grid.{key}")
            for rec in row.seed_records():
                metrics += [k for k in rec["metrics"] if k not in metrics]
                costs += [k for k in rec["cost"] if k not in costs]
        return {"grid": grid, "metrics": metrics, "costs": costs}

    def records(self) -> list[dict[str, Any]]:
        """The tidy table as plain dicts: one per method × seed × grid point (see :meth:`to_pandas`)."""
        cols = self.columns()
        out: list[dict[str, Any]] = []
        for row in self.rows:
            base: dict[str, Any] = {"method": row.method, "name": row.name, "family": row.family,
                                    "reference": row.is_reference, "chain": row.is_chain}
            base.update({c: row.grid.get(c.removeprefix("grid."), None) for c in cols["grid"]})
            for rec in row.seed_records():
                item = dict(base, seed=rec["seed"], status=rec["status"], error=rec["error"])
                item.update({m: _number(rec["metrics"].get(m)) for m in cols["metrics"]})
                item.update({c: _number(rec["cost"].get(c)) for c in cols["costs"]})
                out.append(item)
        return out

    def to_pandas(self) -> Any:
        """The results as a tidy ``pandas.DataFrame``: one row per method × seed × grid point.

        Columns, in order: ``method`` (the label as given), ``name`` (registry name), ``family``,
        ``reference``, ``chain`` (bool), one ``grid.<param>`` column per swept parameter, ``seed``
        (nullable integer; missing for a method that failed before its first seed), ``status``
        (``ok`` or ``failed``), ``error``, then one float column per metric (``snr_db``, ``mse``, …, in
        the task's units) and per cost (``params``, ``macs_per_sample``, ``memory_bytes``, ``fit_s``,
        ``predict_s`` and ``latency_s`` in seconds, ``samples_per_s``). Numbers that do not exist for a
        row are NaN. ``DataFrame.attrs`` holds ``run_id``, ``task``, ``main_metric`` and the column
        names by kind (:meth:`columns`). The mean over a method's seeds of a metric column equals the
        row's metric in the table.

        pandas is imported only here (``pip install pandas``; it is in sigbench's ``test`` extra).

        Returns
        -------
        pandas.DataFrame, shape ``(methods × seeds × grid points, columns)``

        Examples
        --------
        >>> import sigbench as sb
        >>> res = sb.compare(sb.generate("sines", n=600, seed=0), methods=["lms", "naive"], seeds=1)
        >>> df = res.to_pandas()
        >>> df.groupby("method")["snr_db"].mean().round(1).to_dict()  # doctest: +SKIP
        {'lms': 14.9, 'naive': 8.4, 'wiener': 19.1}
        """
        import pandas as pd

        cols = self.columns()
        order = [*_ID_COLUMNS, *cols["grid"], "seed", "status", "error", *cols["metrics"], *cols["costs"]]
        df = pd.DataFrame.from_records(self.records(), columns=order)
        df["seed"] = df["seed"].astype("Int64")
        for c in (*cols["metrics"], *cols["costs"]):
            df[c] = df[c].astype("float64")
        df.attrs.update(run_id=self.run_id, task=self.task, main_metric=self.main_metric, **cols)
        return df

    def to_xarray(self) -> Any:
        """The results as an ``xarray.Dataset`` with dimensions ``method``, ``seed`` and one per grid parameter.

        Every metric and cost is a float variable over those dimensions (NaN where a cell does not
        exist); ``status`` and ``error`` are text variables. A method that failed before its first seed
        sits at ``seed = -1``. xarray is imported only here.

        Returns
        -------
        xarray.Dataset
        """
        df = self.to_pandas()
        index = ["method", "seed", *df.attrs["grid"]]
        df["seed"] = df["seed"].fillna(-1).astype("int64")
        ds = df.drop(columns=["name", "family", "reference", "chain"]).set_index(index).to_xarray()
        ds.attrs.update(run_id=self.run_id, task=self.task, main_metric=self.main_metric)
        return ds

    def __repr__(self) -> str:
        seeds = sorted({s for r in self.rows for s in r.seeds})
        best = next((r for r in self.rows if r.status == "ok" and r.metrics.get(self.main_metric) is not None), None)
        best_txt = f", best {best.method} {self.main_metric}={best.metrics[self.main_metric]:.4g}" if best else ""
        failed = f", {len(self.failed)} failed" if self.failed else ""
        return (f"<Results {self.kind} {self.task!r} run {self.run_id}: {len(self.rows)} rows, "
                f"{len(seeds)} seed{'s' if len(seeds) != 1 else ''}{failed}{best_txt}; "
                f"status {self.status}; .to_pandas() for the table>")

    def _repr_html_(self) -> str:
        """A leaderboard for notebooks: rank, method, family, status, main metric ± 95 % interval, cost."""
        main = self.main_metric
        head = ["#", "method", "family", "status", f"{main}", "± 95 %", "params", "MACs/sample", "fit s"]
        grids = sorted({k for r in self.rows for k in r.grid})
        head[2:2] = [html.escape(g) for g in grids]
        lines = ["<table class='sigbench-results'>",
                 f"<caption>{html.escape(self.kind)} · task {html.escape(self.task)} · run "
                 f"{html.escape(self.run_id)} · sorted by {html.escape(main)}</caption>",
                 "<thead><tr>" + "".join(f"<th>{h}</th>" for h in head) + "</tr></thead><tbody>"]
        rank = 0
        for r in self.rows:
            ok = r.status == "ok"
            rank += ok
            cells = [str(rank) if ok else "", r.method, *[r.grid.get(g, "") for g in grids], r.family,
                     "ok (reference)" if ok and r.is_reference else (r.status if ok else f"failed: {r.error or ''}"),
                     _fmt(r.metrics.get(main)), _fmt(r.metrics.get(f"{main}_ci")), _fmt(r.cost.get("params")),
                     _fmt(r.cost.get("macs_per_sample")), _fmt(r.cost.get("fit_s"))]
            lines.append("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in cells) + "</tr>")
        lines.append("</tbody></table>")
        return "\n".join(lines)

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> Results:
        """Inverse of :meth:`to_json` (metrics and rows; predictions and test arrays are not in the document).
        Values a strict JSON encoding listed under ``"non_finite"`` (``inf``, ``nan``) are put back, also when the
        document was decoded by the standard ``json.loads``."""
        from sigbench._json import NON_FINITE_KEY, restore_non_finite
        from sigbench.host import get_host

        if NON_FINITE_KEY in doc:
            import copy

            doc = restore_non_finite(copy.deepcopy(doc))  # the caller's document stays as it was

        res = cls(run_id=doc["run_id"], kind=doc["kind"], task=doc["task"], main_metric=doc["main_metric"],
                  higher_is_better=True, signal=dict(doc["signal"]), protocol=dict(doc["protocol"]),
                  bound=dict(doc["bound"]), config=dict(doc["config"]),
                  rows=[MethodRow.from_dict(r) for r in doc["rows"]], environment=dict(doc.get("environment", {})),
                  status=doc.get("status", "complete"), created=doc.get("created", ""),
                  warnings=list(doc.get("warnings", [])), references=dict(doc.get("references", {})))
        try:
            res.higher_is_better = bool(get_host().registry.get("metrics", res.main_metric).info.get(
                "higher_is_better", True))
        except Exception:  # a plugin's metric that is not installed: keep the stored order
            pass
        return res

    # -- persistence -----------------------------------------------------------------------
    def write_table(self, g: h5py.Group) -> None:
        """Write the tidy table of :meth:`to_pandas` as group ``table`` of ``g``, one dataset per column.

        Text columns are UTF-8 strings (empty where missing), ``seed`` is int64 (-1 where missing),
        ``reference``/``chain`` are bool, every other column float64 with NaN where missing. The
        group's attributes ``columns``, ``grid``, ``metrics`` and ``costs`` list the column names (JSON
        lists of strings).
        Plain h5py reads it: ``{k: t[k][()] for k in t}`` (``t[k].asstr()[()]`` for text).
        """
        cols = self.columns()
        records = self.records()
        order = [*_ID_COLUMNS, *cols["grid"], "seed", "status", "error", *cols["metrics"], *cols["costs"]]
        tg = g.create_group("table")
        text = h5py.string_dtype("utf-8")
        for name in order:
            values = [rec[name] for rec in records]
            if name in ("reference", "chain"):
                data: np.ndarray = np.asarray(values, dtype=bool)
            elif name == "seed":
                data = np.asarray([-1 if v is None else int(v) for v in values], dtype=np.int64)
            elif name in cols["metrics"] or name in cols["costs"] or (
                    name in cols["grid"] and all(v is None or _is_number(v) for v in values)):
                data = np.asarray([math.nan if v is None else float(v) for v in values], dtype=np.float64)
            else:
                data = np.asarray(["" if v is None else str(v) for v in values], dtype=object)
                tg.create_dataset(name.replace("/", "_"), data=data, dtype=text)
                continue
            tg.create_dataset(name.replace("/", "_"), data=data)
        for key, names in (("columns", order), ("grid", cols["grid"]), ("metrics", cols["metrics"]),
                           ("costs", cols["costs"])):
            tg.attrs[key] = dumps(names)  # a JSON list: HDF5 cannot store an empty string array as attribute

    def write_into(self, f: h5py.File, *, extra_labels: Iterable[str] = ()) -> None:
        """Write this run under ``/runs/<run_id>`` of an open file (replacing a run of that id).

        ``extra_labels``: methods that get a (still empty) group under ``methods`` although they have
        neither a row nor predictions here (a streamed run moves their predictions in afterwards)."""
        runs = f.require_group("runs")
        if self.run_id in runs:
            del runs[self.run_id]
        g = runs.create_group(self.run_id)
        doc = self.to_json()
        for key in ("kind", "task", "created", "status"):
            g.attrs[key] = str(doc[key])
        g.attrs["config_hash"] = doc["config_hash"]
        g.attrs["written_ns"] = time.time_ns()
        g.attrs["sigbench_version"] = __version__
        g.create_dataset("results.json", data=dumps(doc))
        g.create_dataset("config.json", data=dumps(self.config))
        g.create_dataset("environment.json", data=dumps(self.environment))
        self.write_table(g)
        tg = g.create_group("test")
        for key, arr in self.test.items():
            if arr is not None:
                tg.create_dataset(key, data=arr)
        mg = g.create_group("methods")
        labels = sorted({m for m, _ in self.predictions} | {r.method for r in self.rows} | set(extra_labels))
        for i, label in enumerate(labels):
            sub = mg.create_group(f"m{i:02d}")
            sub.attrs["label"] = label
            row = next((r for r in self.rows if r.method == label), None)
            sub.attrs["status"] = row.status if row else "unknown"
            for (m, seed), pred in sorted(self.predictions.items(), key=lambda kv: kv[0][1]):
                if m == label:
                    sub.create_dataset(f"seed_{seed}", data=pred, compression="gzip", shuffle=True)

    def save(self, path: str | os.PathLike[str], *, base: str | os.PathLike[str] | None = None,
             signal: Any = None) -> Path:
        """Write the result file atomically: ``base``'s contents (if any) or ``signal``, plus this run.

        An existing sigbench file at ``path`` keeps every run and signal it holds (this run is added, or
        replaces its own earlier checkpoint); :func:`sigbench.outputs.start_fresh` (``--overwrite``) drops them.
        """
        from sigbench.h5 import atomic_h5, write_signal_group

        target = Path(path)
        with atomic_h5(target, base=base, keep=True) as f:
            if signal is not None and (base is None or "signals" not in f or signal.name not in f["signals"]):
                write_signal_group(f, signal)
            self.write_into(f)
        return target



def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, (bool, np.bool_))


def _number(value: Any) -> float | None:
    """A metric or cost value as float (None stays None; non-numbers become None)."""
    if value is None or not _is_number(value):
        return None
    return float(value)


def _fmt(value: Any) -> str:
    if value is None or not _is_number(value) or not math.isfinite(float(value)):
        return "—"
    v = float(value)
    return f"{v:.3g}" if v != 0 and (abs(v) >= 1e5 or abs(v) < 1e-2) else f"{v:.2f}"


def _read_json(g: h5py.Group, key: str) -> Any:
    """A JSON dataset of a run, parsed as untrusted text (see :func:`sigbench._json.loads_untrusted`)."""
    ds = g.get(key)
    if not isinstance(ds, h5py.Dataset) or ds.shape != () or ds.dtype.kind not in "OSU":
        raise ValueError(f"{key} is missing or not a JSON string")
    return loads_untrusted(ds[()])


_DOC_FIELDS: dict[str, type | tuple[type, ...]] = {
    "run_id": str, "kind": str, "task": str, "main_metric": str, "signal": dict, "protocol": dict, "bound": dict,
    "config": dict, "rows": list}
_ROW_FIELDS: dict[str, type | tuple[type, ...]] = {
    "method": str, "name": str, "family": str, "status": str, "seeds": list, "per_seed": list, "metrics": dict,
    "cost": dict, "options": dict, "describe": dict, "grid": dict}


def _check_doc(doc: Any) -> None:
    """Raise ``ValueError`` naming the first field of a results document with the wrong type."""
    if not isinstance(doc, dict):
        raise ValueError("results.json is not a JSON object")
    for key, kind in _DOC_FIELDS.items():
        if not isinstance(doc.get(key), kind):
            raise ValueError(f"results.json: expected {key} to be a JSON {_kind_name(kind)}")
    for i, row in enumerate(doc["rows"]):
        if not isinstance(row, dict):
            raise ValueError(f"results.json: rows[{i}] is not a JSON object")
        for key, kind in _ROW_FIELDS.items():
            if key in row or key in ("method", "name", "family", "status"):
                if not isinstance(row.get(key), kind):
                    raise ValueError(f"results.json: expected rows[{i}].{key} to be a JSON {_kind_name(kind)}")
        if row.get("error") is not None and not isinstance(row["error"], str):
            raise ValueError(f"results.json: expected rows[{i}].error to be a string or null")
        if not all(isinstance(s, int) and not isinstance(s, bool) for s in row.get("seeds", [])) or \
                not all(isinstance(p, dict) for p in row.get("per_seed", [])):
            raise ValueError(f"results.json: expected rows[{i}].seeds to be integers and per_seed objects")
        for table in ("metrics", "cost"):
            for k, v in row.get(table, {}).items():
                if v is not None and (isinstance(v, bool) or not isinstance(v, (int, float))):
                    raise ValueError(f"results.json: expected rows[{i}].{table}.{k} to be a number or null")
    for key in ("status", "created"):
        if not isinstance(doc.get(key, ""), str):
            raise ValueError(f"results.json: expected {key} to be a JSON string")
    if not isinstance(doc.get("warnings", []), list) or not isinstance(doc.get("environment", {}), dict):
        raise ValueError("results.json: expected warnings to be a list and environment an object")


def _kind_name(kind: type | tuple[type, ...]) -> str:
    names: dict[Any, str] = {str: "string", dict: "object", list: "array"}
    return names.get(kind, "value")


def _read_predictions(g: h5py.Group) -> dict[tuple[str, int], np.ndarray]:
    preds: dict[tuple[str, int], np.ndarray] = {}
    methods = g["methods"]
    if not isinstance(methods, h5py.Group):
        raise ValueError("methods is not a group")
    for key, sub in methods.items():
        if not isinstance(sub, h5py.Group):
            raise ValueError(f"methods/{key} is not a group")
        label = sub.attrs.get("label")
        if isinstance(label, bytes):
            label = label.decode("utf-8", errors="replace")
        if not isinstance(label, str):
            raise ValueError(f"methods/{key} has no label")
        for name, ds in sub.items():
            seed = name.removeprefix("seed_")
            if not name.startswith("seed_") or not seed.isdigit() or not isinstance(ds, h5py.Dataset):
                raise ValueError(f"methods/{key}/{name} is not a seed_<n> dataset")
            if ds.dtype.kind not in "fiu":
                raise ValueError(f"methods/{key}/{name} is not numeric (dtype {ds.dtype})")
            preds[(label, int(seed))] = np.asarray(ds[()])
    return preds


def read_table(path: str | os.PathLike[str], run_id: str | None = None) -> dict[str, np.ndarray]:
    """The numeric table of a run (``/runs/<run_id>/table``) as ``{column: array}``, without parsing JSON.

    ``pandas.DataFrame(read_table(path))`` is the stored form of :meth:`Results.to_pandas`. Text
    columns are returned as ``str`` object arrays.

    Raises
    ------
    FileFormatError
        No runs, or the run has no table (a file written before sigbench stored one).
    """
    from sigbench.h5 import open_file

    run_id = _run_id(path, run_id)
    with open_file(path) as f:
        g = f["runs"][run_id]
        t = g.get("table")
        if not isinstance(t, h5py.Group):
            raise FileFormatError(f"{path}: run {run_id} has no table (an older file: use load_results)")
        out: dict[str, np.ndarray] = {}
        raw = t.attrs.get("columns")
        try:
            names = loads(raw) if isinstance(raw, (str, bytes)) else sorted(t)
        except (ValueError, UnicodeDecodeError):
            raise FileFormatError(f"{path}: run {run_id} has a damaged table") from None
        for name in names:
            name = str(name)
            ds = t[name.replace("/", "_")]
            out[name] = ds.asstr()[()] if h5py.check_string_dtype(ds.dtype) else ds[()]
        return out


def _run_id(path: str | os.PathLike[str], run_id: str | None) -> str:
    """``run_id``, or the latest run of ``path``; errors when the file has none or not that one."""
    ids = list_runs(path)
    if not ids:
        raise FileFormatError(f"{path} holds no runs; produce one with `sigbench compare`")
    chosen = run_id or ids[-1]
    if chosen not in ids:
        raise ValidationError(f"expected a run among {', '.join(ids)}; received: run={chosen!r}")
    return chosen


def list_runs(path: str | os.PathLike[str]) -> list[str]:
    """Run ids in a result file, oldest first."""
    from sigbench.h5 import open_file

    with open_file(path) as f:
        runs = f.get("runs")
        if not isinstance(runs, h5py.Group):
            return []
        return sorted(runs, key=lambda r: (str(runs[r].attrs.get("created", "")), _int_attr(runs[r], "written_ns")))


def _int_attr(obj: Any, key: str) -> int:
    value = obj.attrs.get(key, 0) if isinstance(obj, h5py.Group) else 0
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def load_results(path: str | os.PathLike[str], run_id: str | None = None, *, predictions: bool = True,
                 test: bool = True) -> Results:
    """Read a run back from a result file (the latest one if ``run_id`` is omitted), without recomputing.

    ``predictions=False`` / ``test=False`` skip the per-row arrays (large for a streamed run of a long
    signal) and read the metrics only.

    Raises
    ------
    FileFormatError
        The file has no runs, or the run is damaged.
    ValidationError
        No run of that id.
    """
    from sigbench.h5 import open_file

    run_id = _run_id(path, run_id)
    with open_file(path) as f:
        g = f["runs"][run_id]
        try:
            if not isinstance(g, h5py.Group):
                raise ValueError("it is not a group")
            doc = _read_json(g, "results.json")
            _check_doc(doc)
            test_arrays: dict[str, np.ndarray] = {}
            if test and "test" in g:
                if not isinstance(g["test"], h5py.Group):
                    raise ValueError("test is not a group")
                test_arrays = {k: np.asarray(v[()]) for k, v in g["test"].items() if isinstance(v, h5py.Dataset)}
            preds = _read_predictions(g) if predictions and "methods" in g else {}
        except (KeyError, ValueError, TypeError, AttributeError, OSError, RecursionError) as exc:
            msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise FileFormatError(f"{path}: run {run_id} is damaged: {msg}") from None
    try:
        rows = [MethodRow.from_dict(r) for r in doc["rows"]]
    except (KeyError, ValueError, TypeError, AttributeError) as exc:
        raise FileFormatError(f"{path}: run {run_id} is damaged: a row of results.json: {exc}") from None
    res = Results(run_id=doc["run_id"], kind=doc["kind"], task=doc["task"], main_metric=doc["main_metric"],
                  higher_is_better=True, signal=doc["signal"], protocol=doc["protocol"], bound=doc["bound"],
                  config=doc["config"], rows=rows, predictions=preds,
                  test=test_arrays, environment=doc.get("environment", {}), status=doc.get("status", "complete"),
                  created=doc.get("created", ""), warnings=list(doc.get("warnings", [])),
                  references=dict(doc.get("references", {})))
    from sigbench.host import get_host

    try:
        entry = get_host().registry.get("metrics", res.main_metric)
        res.higher_is_better = bool(entry.info.get("higher_is_better", True))
    except Exception:  # an unknown metric from a plugin that is not installed: keep the stored order
        pass
    return res
