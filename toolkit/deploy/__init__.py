"""What a processor costs on a target: streaming latency, real-time factor, memory, quantisation, export.

Measuring
    :func:`streaming_latency`   p50/p99 time per output sample (batch 1, warm) and real-time factor
    :func:`memory_footprint`    weights at float32/int8/Q15, delay line, activations per sample
    :func:`deployment_costs`    both, as the cost columns of a result row (:data:`DEPLOY_COLUMNS`)

Quantising
    :func:`quantized`           ``quantized(cls, "q15")`` (FIR-type DSP) or ``"int8"`` (neural): a processor class
    :func:`quantize_fitted`     the quantised version of an already fitted processor (no second fit)
    :func:`fir_q15`, :func:`to_q15`, :func:`q15_noise_power`, :func:`linear_taps`

Exporting
    :meth:`sigbench.Processor.export`  LiteRT or ONNX file of a neural processor
    :func:`check_export`        the file in its runtime against the processor, on rows
    :func:`export_and_check`    every format into a folder, checked, numbers stored (``sigbench export-model``)
    :func:`load_processor`      a processor saved by ``Processor.save``
    :func:`processor_from_run`  refit one method of a stored run (result files keep no models)
    :func:`load_runner`         LiteRT interpreter / onnxruntime for an exported file

Reporting
    :func:`deployment_section`  the report's "Deployment" section (tables, Pareto fronts, verdict clauses)

Nothing here imports TensorFlow, Keras or a runtime at import time. See ``docs/deployment.md``.
"""

from __future__ import annotations

from typing import Any

from sigbench.deploy.check import (
    FLOAT_TOLERANCE,
    RunProcessor,
    check_export,
    export_and_check,
    load_processor,
    processor_from_run,
    synthetic_rows,
)
from sigbench.deploy.latency import LATENCY_COLUMNS, RUNTIMES, streaming_latency
from sigbench.deploy.memory import MEMORY_COLUMNS, coefficient_count, memory_footprint
from sigbench.deploy.quantize import (
    SCHEMES,
    Int8Processor,
    Q15Processor,
    fir_q15,
    linear_taps,
    q15_exponent,
    q15_noise_power,
    quantize_fitted,
    quantized,
    to_q15,
)
from sigbench.deploy.report import (
    deployment_clause,
    deployment_section,
    deployment_verdicts,
    has_deployment_columns,
)
from sigbench.deploy.runtimes import LiteRTRunner, OnnxRunner, load_runner
from sigbench.processor import Processor

__all__ = [
    "DEPLOY_COLUMNS",
    "FLOAT_TOLERANCE",
    "LATENCY_COLUMNS",
    "MEMORY_COLUMNS",
    "RUNTIMES",
    "SCHEMES",
    "Int8Processor",
    "LiteRTRunner",
    "OnnxRunner",
    "Q15Processor",
    "RunProcessor",
    "check_export",
    "coefficient_count",
    "deployment_clause",
    "deployment_costs",
    "deployment_section",
    "deployment_verdicts",
    "export_and_check",
    "fir_q15",
    "has_deployment_columns",
    "linear_taps",
    "load_processor",
    "load_runner",
    "memory_footprint",
    "processor_from_run",
    "q15_exponent",
    "q15_noise_power",
    "quantize_fitted",
    "quantized",
    "streaming_latency",
    "synthetic_rows",
    "to_q15",
]

#: every cost column :func:`deployment_costs` returns
DEPLOY_COLUMNS = (*LATENCY_COLUMNS, *MEMORY_COLUMNS)


def deployment_costs(processor: Processor, inputs: Any, *, sample_rate_hz: float, samples: int = 1000,
                     targets: Any = None, runtime: str = "auto",
                     exported_runtimes: tuple[str, ...] = ()) -> dict[str, Any]:
    """The deployment cost columns of a fitted processor: :func:`streaming_latency` and :func:`memory_footprint`.

    Parameters
    ----------
    processor : Processor
        Fitted.
    inputs : ndarray, shape ``(rows, window)``
        Consecutive rows to time on (a run's test rows).
    sample_rate_hz : float
        The signal's sample rate in Hz.
    samples, targets, runtime
        As :func:`streaming_latency`.
    exported_runtimes : tuple of {"litert", "onnx"}, default ()
        Also time the processor exported and run in these runtimes (neural processors, ``[export]``
        extra): columns ``latency_us_p50_<runtime>``, ``latency_us_p99_<runtime>``, ``rtf_<runtime>``.

    Returns
    -------
    dict
        The :data:`DEPLOY_COLUMNS` plus ``latency_us_mean``, ``rtf_p99``, ``latency_path`` and
        ``coefficients`` (and the exported runtimes' columns).

    Raises
    ------
    ProcessorError
        An exported runtime asked for a processor that cannot be exported, or not installed.
    """
    out = streaming_latency(processor, inputs, sample_rate_hz=sample_rate_hz, samples=samples, targets=targets,
                            runtime=runtime)
    for name in exported_runtimes:
        lat = streaming_latency(processor, inputs, sample_rate_hz=sample_rate_hz, samples=samples, runtime=name)
        out.update({f"latency_us_p50_{name}": lat["latency_us_p50"], f"latency_us_p99_{name}": lat["latency_us_p99"],
                    f"rtf_{name}": lat["rtf"]})
    out.update(memory_footprint(processor))
    return out
