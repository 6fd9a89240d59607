r"""Streaming latency and real-time factor of a fitted processor.

A deployed processor runs sample by sample: a new sample arrives, the window slides by one, one output
is produced (batch 1, state carried, warm). :func:`streaming_latency` times exactly that call on
consecutive rows, after ``warmup`` untimed calls, with the garbage collector paused, and reports

.. math::

    \text{latency\_us\_p50},\ \text{latency\_us\_p99} = \text{median and 99th percentile of } t_i,
    \qquad \text{rtf} = \frac{1/t_{50}}{f_s}

(:math:`t_i` the time of call *i*, :math:`t_{50}` their median, :math:`f_s` the sample rate): the output
rate one core sustains over the sample rate. ``rtf > 1`` keeps up. The median, not the mean, because on
a shared machine a few calls are pre-empted by other processes for milliseconds, which would make the
mean (``latency_us_mean``, also returned) a measure of the machine's load; ``rtf_p99`` uses the 99th
percentile, a conservative figure for a system without an input buffer.

Paths (``runtime``)
    ``"predict"``    ``processor.predict(row[None, :])``: any processor, through the public API
                     (input checks included); the default for DSP processors.
    ``"online"``     ``processor.predict_online(row, target)``: predict then adapt (online
                     processors, prequential deployment); needs ``targets``; a copy is timed, the
                     processor itself is not changed.
    ``"compiled"``   the processor's ``single_row_function()`` (neural processors: ``tf.function`` with XLA /
                     ``jax.jit`` of the network with its standardisation, batch 1); the default for
                     processors that have it. Not ``Model.predict``, whose per-call machinery costs
                     milliseconds.
    ``"litert"``, ``"onnx"``  the processor exported (:meth:`~sigbench.Processor.export`) and run in the
                     LiteRT interpreter or onnxruntime, one thread, one invocation per sample.

What it does not capture: the target's hardware (figures are relative: this CPU, Python call overhead
included), input/output transfer, and contention with other work on a shared machine (the p99 shows it).

Example
-------
>>> import numpy as np, sigbench as sb
>>> from sigbench.deploy import streaming_latency
>>> x = np.random.default_rng(0).normal(size=2000)
>>> w = sb.get_processor("wiener")(numtaps=8).fit(sb.sliding_windows(x[:-1], 8), x[8:])
>>> cols = streaming_latency(w, sb.sliding_windows(x[:-1], 8), samples=200, sample_rate_hz=10.0)
>>> cols["latency_us_p50"] > 0 and cols["rtf"] > 1
True
"""

from __future__ import annotations

import copy
import gc
import math
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from sigbench._validate import positive_int
from sigbench._validate import sample_rate as check_rate
from sigbench.errors import ProcessorError, ValidationError
from sigbench.processor import Processor

__all__ = ["LATENCY_COLUMNS", "RUNTIMES", "streaming_latency"]

#: the cost columns :func:`streaming_latency` adds to a result row
LATENCY_COLUMNS = ("latency_us_p50", "latency_us_p99", "rtf")
#: measurement paths accepted by ``runtime`` (plus ``"auto"``)
RUNTIMES = ("predict", "online", "compiled", "litert", "onnx")


def _rows(inputs: Any) -> np.ndarray:
    rows = np.asarray(inputs.inputs if hasattr(inputs, "inputs") else inputs)
    if rows.ndim != 2 or rows.shape[0] < 1:
        raise ValidationError(f"expected input rows of shape (rows, window); received: shape={rows.shape}")
    return rows


def _choose(processor: Processor, runtime: str, targets: Any) -> str:
    if runtime != "auto":
        if runtime not in RUNTIMES:
            raise ValidationError(f"expected runtime among auto, {', '.join(RUNTIMES)}; received: runtime={runtime!r}")
        return runtime
    if hasattr(processor, "single_row_function"):
        return "compiled"
    if processor.online and targets is not None:
        return "online"
    return "predict"


def _call(processor: Processor, runtime: str, rows: np.ndarray, targets: Any,
          workdir: Path) -> tuple[Callable[[int], Any], str]:
    """The timed callable ``f(i)`` (produce the output for row ``i``) and a label of the path."""
    if runtime == "predict":
        return (lambda i: processor.predict(rows[i:i + 1])), "predict"
    if runtime == "online":
        if not processor.online:
            raise ProcessorError(f"{processor.name} is not an online processor; use runtime='predict'")
        if targets is None:
            raise ValidationError("expected targets for runtime='online' (predict, then adapt); received: None")
        y = np.asarray(targets)
        clone = copy.deepcopy(processor)  # adapting must not change the caller's processor
        return (lambda i: clone.predict_online(rows[i:i + 1], y[i:i + 1])), "predict_online"
    if runtime == "compiled":
        make = getattr(processor, "single_row_function", None)
        if make is None:
            raise ProcessorError(f"{processor.name} has no compiled single-row call; use runtime='predict'")
        fn = make()
        return (lambda i: fn(rows[i])), str(getattr(processor, "compiled_runtime", "compiled"))
    from sigbench.deploy.runtimes import LiteRTRunner, OnnxRunner

    path = workdir / ("model.tflite" if runtime == "litert" else "model.onnx")
    processor.export(path, format=runtime)
    runner = LiteRTRunner(path) if runtime == "litert" else OnnxRunner(path)
    return (lambda i: runner.step(rows[i])), runner.runtime


def streaming_latency(processor: Processor, inputs: Any, *, sample_rate_hz: float, samples: int = 1000,
                      warmup: int = 50, targets: Any = None, runtime: str = "auto") -> dict[str, Any]:
    """Time one output per arriving sample (batch 1, warm) and give p50/p99 latency and real-time factor.

    Parameters
    ----------
    processor : Processor
        A fitted processor.
    inputs : ndarray, shape ``(rows, window)``, or Windows
        Consecutive rows (a sliding-window view: row *i* + 1 is row *i* plus one new sample); used
        cyclically when fewer than ``warmup + samples``.
    sample_rate_hz : float
        Sample rate of the signal in Hz (> 0), the rate the outputs must keep up with.
    samples : int, default 1000
        Timed calls (≥ 100 so that the 99th percentile is a measured call, not an extrapolation).
    warmup : int, default 50
        Untimed calls first (compilation, caches).
    targets : ndarray, shape ``(rows,)`` or ``(rows, outputs)``, optional
        For ``runtime="online"`` (and ``"auto"`` on an online processor): the targets adapted on.
    runtime : {"auto", "predict", "online", "compiled", "litert", "onnx"}, default "auto"
        Path timed (module notes); ``auto``: ``compiled`` where the processor has it, ``online`` for an
        online processor given targets, else ``predict``.

    Returns
    -------
    dict
        ``latency_us_p50``, ``latency_us_p99``, ``rtf`` (the cost columns), plus ``latency_us_mean``,
        ``latency_us_min``, ``rtf_p99``, ``latency_samples``, ``latency_path`` (the path timed) and
        ``sample_rate_hz``. Times in microseconds.

    Raises
    ------
    ValidationError
        ``samples < 100``, ``sample_rate_hz`` not > 0, rows not 2-D, unknown ``runtime``.
    ProcessorError
        Not fitted, or the path does not apply (no compiled call, not online, not exportable).
    """
    rate = check_rate(sample_rate_hz, "sample_rate_hz")
    samples = positive_int("samples", samples, minimum=100)
    warmup = positive_int("warmup", warmup, minimum=0)
    rows = _rows(inputs)
    if not processor.fitted:
        raise ProcessorError(f"{processor.name or type(processor).__name__} must be fitted before timing it")
    chosen = _choose(processor, runtime, targets)
    with tempfile.TemporaryDirectory(prefix="sigbench-latency-") as tmp:
        fn, label = _call(processor, chosen, rows, targets, Path(tmp))
        n = rows.shape[0]
        for k in range(warmup):
            fn(k % n)
        times = np.empty(samples, dtype=np.float64)
        clock = time.perf_counter_ns
        was_enabled = gc.isenabled()
        gc.disable()
        try:
            for k in range(samples):
                i = (warmup + k) % n
                start = clock()
                fn(i)
                times[k] = clock() - start
        finally:
            if was_enabled:
                gc.enable()
    times /= 1e3  # ns → µs
    mean = float(np.mean(times))
    p50, p99 = (float(v) for v in np.percentile(times, [50, 99]))
    return {
        "latency_us_p50": p50,
        "latency_us_p99": p99,
        "rtf": 1e6 / (p50 * rate) if p50 > 0 else math.inf,
        "latency_us_mean": mean,
        "latency_us_min": float(np.min(times)),
        "rtf_p99": 1e6 / (p99 * rate) if p99 > 0 else math.inf,
        "latency_samples": samples,
        "latency_path": label,
        "sample_rate_hz": rate,
        "cpu_count": os.cpu_count(),
    }
