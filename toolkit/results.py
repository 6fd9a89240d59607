"""Comparison results: the table-like :class:`Results`, its JSON document and its HDF5 record.

Layout of one run in a result file (format 1)::

    /runs/<run_id>/                 attrs: kind (compare|run|sweep), task, created, status
                                    (complete|partial|interrupted), config_hash, sigbench_version,
                                    written_ns (when this run was last written: orders runs of one second)
    /runs/<run_id>/results.json     the JSON document of :meth:`Results.to_json` (UTF-8 string)
    /runs/<run_id>/config.json      the configuration that produced it (protocol, methods, options)
    /runs/<run_id>/environment.json Python, numpy, scipy, h5py, Keras/TensorFlow versions, CPU
    /runs/<run_id>/test/targets     (rows,) or (rows, outputs): the test targets
    /runs/<run_id>/test/target_index (rows,): sample index of each target
    /runs/<run_id>/test/observed    (rows,): noisy observation at each target (when defined)
    /runs/<run_id>/methods/mNN/     attrs: label, status; datasets seed_<k> = test predictions
"""

from __future__ import annotations

import hashlib
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

from sigbench._json import json_default, loads_untrusted
from sigbench._version import __version__
from sigbench.errors import FileFormatError, ValidationError

__all__ = ["MethodRow", "Results", "config_hash", "environment", "grid_sort_key", "load_results", "mean_ci"]

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


@dataclass
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


@dataclass
class Results:
    """The outcome of a comparison: rows sorted by the task's main metric, plus everything to re-render it.

    Attributes
    ----------
    rows : list of MethodRow
    predictions : dict
        ``{(method, seed): ndarray}`` test predictions.
    test : dict
        ``targets``, ``target_index`` and ``observed`` arrays of the test rows.
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

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> Results:
        """Inverse of :meth:`to_json` (metrics and rows; predictions and test arrays are not in the document)."""
        from sigbench.host import get_host

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
        g.create_dataset("results.json", data=json.dumps(doc, default=json_default))
        g.create_dataset("config.json", data=json.dumps(self.config, default=json_default))
        g.create_dataset("environment.json", data=json.dumps(self.environment, default=json_default))
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

    ids = list_runs(path)
    if not ids:
        raise FileFormatError(f"{path} holds no runs; produce one with `sigbench compare`")
    run_id = run_id or ids[-1]
    if run_id not in ids:
        raise ValidationError(f"expected a run among {', '.join(ids)}; received: run={run_id!r}")
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
