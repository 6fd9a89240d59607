"""What the model-based estimators (``sines-ml``, ``ar-kalman``) share: where their target lies in the window."""

from __future__ import annotations

from typing import Any

import numpy as np

from sigbench.errors import ValidationError

__all__ = ["target_offset"]


def target_offset(name: str, inputs: np.ndarray, targets: np.ndarray, context: Any) -> int:
    """The target's sample index relative to each window's first sample, from the run's task: ``predict``
    (``window − 1 + horizon``) or ``denoise`` (the window's end, or its centre when ``centered``).

    Raises
    ------
    ValidationError
        Vector targets, or a task other than predict/denoise.
    """
    if targets.ndim == 2 and targets.shape[1] != 1:
        raise ValidationError(f"expected one target per row for {name} (it estimates a sample, not a "
                              f"vector); received: targets.shape={targets.shape}")
    task = context.task if context is not None and context.task else "predict"
    if task not in ("predict", "denoise"):
        raise ValidationError(f"expected the predict or denoise task for {name}; received: task={task!r}")
    window = int(inputs.shape[1])
    if task == "predict":
        return window - 1 + (context.horizon if context is not None else 1)
    return window // 2 if context is not None and context.centered else window - 1
