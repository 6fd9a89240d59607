"""Checking an exported model against the processor it came from, and rebuilding a processor from a run.

:func:`check_export` runs an exported file in its runtime on rows (a run's test rows) and compares it
with the processor's own prediction (Keras, float64 after de-standardisation):

``max_abs_error``  :math:`\\max_i |y^{exp}_i - y^{keras}_i|` in the targets' units
``rel_error``      ``max_abs_error`` / :math:`\\max_i |y^{keras}_i|`: the parity figure; a float export
                   passes when it is at most ``tolerance`` (default :data:`FLOAT_TOLERANCE` = 1e-5)
``rms_error``      root mean square of the difference

An int8 export is not expected to match (``tolerance=None``): its numbers are reported, not judged.

:func:`processor_from_run` refits one method of a stored run on that run's training rows (same signal,
task options, split, options and seed), since result files keep predictions, not models; it also
reports how far the refitted processor's test predictions are from the stored ones.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from sigbench.errors import ProcessorError, ValidationError
from sigbench.processor import Processor, TaskContext

__all__ = ["FLOAT_TOLERANCE", "RunProcessor", "check_export", "export_and_check", "load_processor",
           "processor_from_run", "synthetic_rows"]

#: largest relative error a float export may have against Keras
FLOAT_TOLERANCE = 1e-5


def check_export(processor: Processor, path: str | os.PathLike[str], inputs: Any, *,
                 tolerance: float | None = FLOAT_TOLERANCE) -> dict[str, Any]:
    """Run the exported file on ``inputs`` and compare it with ``processor.predict(inputs)``.

    Parameters
    ----------
    processor : Processor
        The fitted processor that was exported.
    path : str or os.PathLike
        The exported file (``.tflite`` or ``.onnx``).
    inputs : ndarray, shape ``(rows, window)``
        Rows to check on (a run's test rows).
    tolerance : float or None, default 1e-5
        Largest ``rel_error`` that passes; ``None``: report only (int8).

    Returns
    -------
    dict
        ``format``, ``runtime``, ``file``, ``file_bytes``, ``rows``, ``max_abs_error``, ``rel_error``,
        ``rms_error``, ``tolerance`` and ``passed`` (None without a tolerance).

    Raises
    ------
    ValidationError
        ``inputs`` is not 2-D or has another window than the exported model.
    ProcessorError
        The runtime is not installed.
    """
    from sigbench.deploy.runtimes import load_runner

    rows = np.asarray(inputs)
    if rows.ndim != 2 or rows.shape[0] < 1:
        raise ValidationError(f"expected rows of shape (rows, window); received: shape={rows.shape}")
    runner = load_runner(path)
    if runner.window != rows.shape[1]:
        raise ValidationError(f"expected rows of {runner.window} samples (the exported model's window); "
                              f"received: shape={rows.shape}")
    reference = np.asarray(processor.predict(rows), dtype=np.float64).reshape(rows.shape[0], -1)
    exported = runner(rows)
    diff = exported - reference
    max_abs = float(np.max(np.abs(diff)))
    scale = float(np.max(np.abs(reference)))
    rel = max_abs / scale if scale > 0 else (0.0 if max_abs == 0 else float("inf"))
    return {
        "format": "litert" if runner.runtime == "litert" else "onnx",
        "runtime": runner.runtime,
        "file": str(path),
        "file_bytes": Path(path).stat().st_size,
        "rows": int(rows.shape[0]),
        "max_abs_error": max_abs,
        "rel_error": rel,
        "rms_error": float(np.sqrt(np.mean(np.square(diff)))),
        "tolerance": tolerance,
        "passed": None if tolerance is None else bool(rel <= tolerance),
    }


@dataclass
class RunProcessor:
    """A processor refitted from a stored run, with the rows it was fitted and scored on."""

    processor: Processor
    method: str
    seed: int
    fit_inputs: np.ndarray
    test_inputs: np.ndarray
    test_targets: np.ndarray
    sample_rate_hz: float
    #: largest |refit − stored| test prediction (None when the run kept no predictions for this seed)
    stored_max_abs_diff: float | None


def processor_from_run(path: str | os.PathLike[str], method: str, *, run_id: str | None = None,
                       seed: int | None = None) -> RunProcessor:
    """Refit ``method`` of a stored run on the run's training rows (result files keep no models).

    Parameters
    ----------
    path : str or os.PathLike
        A result file written by ``compare``/``run`` (its signal file must still exist).
    method : str
        The row's label (``"dnn"``, ``"fir-bank:mode=features"``).
    run_id : str, optional
        Run in the file (default: the latest).
    seed : int, optional
        One of the row's seeds (default: its first).

    Raises
    ------
    ValidationError
        No such method or seed in the run, or the run is a sweep or a chain.
    FileFormatError
        The run's signal file cannot be read.
    """
    from sigbench.h5 import load_signal
    from sigbench.protocol import Protocol
    from sigbench.registry import get_processor, get_task
    from sigbench.results import load_results

    res = load_results(path, run_id)
    try:
        row = res.row(method)
    except KeyError:
        labels = ", ".join(r.method for r in res.rows)
        raise ValidationError(f"expected a method of run {res.run_id} ({labels}); received: {method!r}") from None
    if row.grid or row.is_chain:
        raise ValidationError(f"expected a plain method of a compare/run (not a sweep point or a chain); "
                              f"received: {method!r}")
    if row.status != "ok":
        raise ProcessorError(f"{method} failed in run {res.run_id}: {row.error}")
    seeds = row.seeds or [int(res.protocol.get("seed", 0))]
    chosen = seeds[0] if seed is None else int(seed)
    if chosen not in seeds:
        raise ValidationError(f"expected a seed among {seeds}; received: seed={seed}")
    signal_path = res.signal.get("path") or res.config.get("signal", {}).get("path")
    if not signal_path:
        raise ValidationError(f"run {res.run_id} was made from an in-memory signal: nothing to refit on")
    sig = load_signal(signal_path, res.signal.get("name"))
    task = get_task(res.task)
    data = task.prepare(sig, **dict(res.config.get("task_options", {})))
    protocol = Protocol(**{k: v for k, v in res.protocol.items() if k in Protocol.__dataclass_fields__})
    seg = protocol.split(data)
    cls = get_processor(row.name)
    options = dict(row.options)
    # as the engine does (sigbench.run.plan.cell_options, CellPlan.context): the seed as an option unless
    # given, everything else about the run in the processor's TaskContext
    if "seed" in cls.param_names() and "seed" not in options:
        options["seed"] = chosen
    proc = cls(**{k: v for k, v in options.items() if not k.startswith("_")})
    val_rows, fit_rows = seg.val.stop - seg.val.start, seg.fit.stop - seg.fit.start
    task_options = dict(res.config.get("task_options", {}))
    context = TaskContext(task=res.task, window=data.window, horizon=int(task_options.get("horizon") or 1),
                          centered=bool(task_options.get("centered", False)), hop=data.hop,
                          sample_rate_hz=float(data.sample_rate_hz), seed=chosen, mode=protocol.mode,
                          validation_fraction=round(val_rows / fit_rows, 6) if fit_rows else 0.0, fit_rows=fit_rows)
    fit_in = data.inputs[seg.fit]
    proc.fit(fit_in, data.targets[seg.fit], sample_rate=data.sample_rate_hz, context=context)
    test_in = data.inputs[seg.test]
    stored = res.predictions.get((method, chosen))
    diff = None
    if stored is not None:
        if row.mode == "adapting" and proc.online:  # the run kept adapting on the observations: replay it
            import copy

            observed = data.observed_at_target if data.observed_at_target is not None else data.targets
            replayed = copy.deepcopy(proc).predict_online(test_in, observed[seg.test])
        else:
            replayed = proc.predict(test_in)
        diff = float(np.max(np.abs(np.asarray(replayed) - np.asarray(stored))))
    return RunProcessor(proc, method, chosen, fit_in, test_in, data.targets[seg.test], float(data.sample_rate_hz),
                        diff)


def load_processor(directory: str | os.PathLike[str]) -> Processor:
    """A processor saved by :meth:`Processor.save`, rebuilt by the class its ``processor.json`` names.

    Raises
    ------
    FileFormatError
        Not a saved processor, or damaged.
    UnknownNameError
        The processor it names is not installed.
    """
    import json

    from sigbench.errors import FileFormatError
    from sigbench.registry import get_processor

    path = Path(directory)
    try:
        record = json.loads((path / "processor.json").read_text())
    except FileNotFoundError:
        raise FileFormatError(f"not a saved sigbench processor (no processor.json): {path}") from None
    except (json.JSONDecodeError, OSError) as exc:
        raise FileFormatError(f"unreadable processor.json in {path}: {exc}") from None
    name = record.get("name") if isinstance(record, dict) else None
    if not isinstance(name, str):
        raise FileFormatError(f"unsupported processor record in {path}")
    return get_processor(name).load(path)


def synthetic_rows(processor: Processor, rows: int = 1000, seed: int = 0) -> np.ndarray:
    """Seeded normal rows ``(rows, window)`` at the processor's training input mean and standard deviation
    (``x_shift``/``x_scale`` of its state; 0 and 1 otherwise): check rows when no signal is given."""
    state = processor.get_state()
    shift = float(np.asarray(state.get("x_shift", 0.0)).reshape(-1)[0])
    scale = float(np.asarray(state.get("x_scale", 1.0)).reshape(-1)[0])
    rng = np.random.default_rng(seed)
    return shift + scale * rng.standard_normal((rows, int(processor.input_window or 1)))


def export_and_check(processor: Processor, directory: str | os.PathLike[str], check_rows: Any, *,
                     formats: tuple[str, ...] = ("litert", "onnx"), stem: str | None = None,
                     quantize: str | None = None, representative: Any = None,
                     tolerance: float = FLOAT_TOLERANCE, rows_source: str = "") -> dict[str, Any]:
    """Export ``processor`` in each format into ``directory``, check each file, store the numbers.

    Writes ``<stem>.tflite`` / ``<stem>.onnx`` (``<stem>.int8.tflite`` with ``quantize="int8"``) and
    ``<stem>.export_check.json`` (the returned record). Float exports are judged against ``tolerance``,
    the int8 one is reported only.

    Returns
    -------
    dict
        ``processor`` (name), ``window``, ``rows_source``, ``tolerance``, ``checks`` (one
        :func:`check_export` record per file) and ``passed`` (every float check passed).
    """
    import json

    from sigbench.errors import WriteError

    folder = Path(directory)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise WriteError(f"cannot create {folder}: {exc.strerror or exc}") from None
    name = stem or processor.name.replace("@", "_")
    checks: list[dict[str, Any]] = []
    for fmt in formats:
        target = folder / f"{name}{'.tflite' if fmt == 'litert' else '.onnx'}"
        processor.export(target, format=fmt)
        checks.append({**check_export(processor, target, check_rows, tolerance=tolerance), "quantize": None})
    if quantize is not None:
        target = folder / f"{name}.{quantize}.tflite"
        processor.export(target, format="litert", quantize=quantize, representative=representative)
        checks.append({**check_export(processor, target, check_rows, tolerance=None), "quantize": quantize})
    record = {"processor": processor.name, "window": processor.input_window, "rows_source": rows_source,
              "tolerance": tolerance, "checks": checks,
              "passed": all(c["passed"] for c in checks if c["passed"] is not None)}
    report = folder / f"{name}.export_check.json"
    tmp = report.with_name(f".{report.name}.tmp")
    try:
        tmp.write_text(json.dumps(record, indent=2))
        os.replace(tmp, report)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise WriteError(f"cannot write {report}: {exc.strerror or exc}") from None
    record["record_file"] = str(report)
    return record
