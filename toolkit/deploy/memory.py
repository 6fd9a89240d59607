r"""Memory footprint of a fitted processor on a streaming target, at float32, int8 and Q15 widths.

:func:`memory_footprint` counts what a sample-by-sample implementation keeps:

``coefficients``
    Stored values: a network's weights (``Model.count_params``) plus its standardisation statistics; a
    DSP processor's floating-point state arrays from ``get_state()`` (taps, weights, and adaptive
    state such as RLS's inverse correlation matrix, needed to keep adapting). 0-d bookkeeping values
    (sample counters, divergence limits) and boolean masks are not coefficients.
``weights_bytes_f32`` / ``weights_bytes_int8`` / ``weights_bytes_q15``
    ``coefficients`` × 4, × 1 and × 2 bytes: float32, int8 (the scales and zero points, 8 bytes per
    tensor or channel, are not counted) and the fixed-point width of a DSP baseline (Q15: 16 bits).
``state_bytes_f32``
    The delay line: the newest ``numtaps`` samples for an FIR (the whole window when the processor
    has no ``numtaps``), × 4 bytes. A network re-reads its whole window at each sample.
``activation_bytes_f32``
    Values live during one inference × 4 bytes. A network (``activation_values()``): the sum of every
    layer's output size at batch 1, an upper bound on the peak (a runtime reuses buffers). A DSP
    processor: its output accumulators (one per output).

What it does not capture: code size, the runtime's own memory (interpreter, arena alignment), and
the int8 scales; the figures compare processors, they do not size a target's RAM to the byte.

Example
-------
>>> import numpy as np, sigbench as sb
>>> from sigbench.deploy import memory_footprint
>>> x = np.random.default_rng(0).normal(size=500)
>>> w = sb.get_processor("wiener")(numtaps=16).fit(sb.sliding_windows(x[:-1], 16), x[16:])
>>> m = memory_footprint(w)
>>> m["coefficients"], m["weights_bytes_f32"], m["weights_bytes_q15"], m["state_bytes_f32"]
(16, 64, 32, 64)
"""

from __future__ import annotations

from typing import Any

import numpy as np

from sigbench.errors import ProcessorError
from sigbench.processor import Processor

__all__ = ["MEMORY_COLUMNS", "coefficient_count", "memory_footprint"]

#: the cost columns :func:`memory_footprint` adds to a result row
MEMORY_COLUMNS = ("weights_bytes_f32", "weights_bytes_int8", "weights_bytes_q15", "state_bytes_f32",
                  "activation_bytes_f32")


def _state_values(processor: Processor) -> int:
    total = 0
    for value in processor.get_state().values():
        arr = np.asarray(value)
        if arr.ndim >= 1 and (np.issubdtype(arr.dtype, np.floating) or np.issubdtype(arr.dtype, np.integer)):
            total += int(arr.size)  # float coefficients, or the fixed-point ones of a quantised processor
    return total


def coefficient_count(processor: Processor) -> int:
    """Stored coefficient values of a fitted processor (see the module notes)."""
    model = getattr(processor, "model", None)
    if model is not None and hasattr(model, "count_params"):
        stats = sum(int(np.asarray(v).size) for v in processor.get_state().values())
        return int(model.count_params()) + stats
    return _state_values(processor)


def memory_footprint(processor: Processor) -> dict[str, Any]:
    """Weights/state bytes at float32, int8 and Q15, and activation bytes per sample of streaming inference.

    Parameters
    ----------
    processor : Processor
        A fitted processor.

    Returns
    -------
    dict
        ``coefficients`` and the :data:`MEMORY_COLUMNS` (bytes, ints).

    Raises
    ------
    ProcessorError
        The processor is not fitted.
    """
    if not processor.fitted:
        raise ProcessorError(f"{processor.name or type(processor).__name__} must be fitted before sizing it")
    coefficients = coefficient_count(processor)
    numtaps = getattr(processor, "numtaps", None)
    if isinstance(numtaps, (int, np.integer)) and int(numtaps) > 0:
        delay = int(numtaps)
    else:
        delay = int(processor.input_window or 0)
    activation_values = getattr(processor, "activation_values", None)
    activations = int(activation_values()) if callable(activation_values) else int(processor.n_outputs or 1)
    return {
        "coefficients": coefficients,
        "weights_bytes_f32": 4 * coefficients,
        "weights_bytes_int8": coefficients,
        "weights_bytes_q15": 2 * coefficients,
        "state_bytes_f32": 4 * delay,
        "activation_bytes_f32": 4 * activations,
    }
