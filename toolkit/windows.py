"""Windows over a signal as views, never copies.

A task turns a 1-D input stream ``x`` into rows ``inputs[i] = x[start + i : start + i + window]`` and
targets ``targets[i]``. :func:`sliding_windows` returns a read-only strided view of shape
``(rows, window)`` that shares memory with ``x`` — an ``N × window`` copy of a long signal is never
made. Consumers that need contiguous data (a Keras batch) copy one batch at a time with
:meth:`Windows.batches`.

Vocabulary: ``window`` is the number of past samples a method sees; ``horizon`` is how far ahead of
the window's last sample the target lies (``horizon=1``: the next sample).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from sigbench._validate import positive_int
from sigbench.errors import ValidationError

__all__ = ["Windows", "sliding_windows"]


def sliding_windows(x: np.ndarray, window: int) -> np.ndarray:
    """Return the read-only view ``(len(x) - window + 1, window)`` of all windows of ``x``.

    Parameters
    ----------
    x : ndarray, shape ``(samples,)``
        The stream.
    window : int
        Window length in samples, 1 ≤ window ≤ samples.

    Returns
    -------
    ndarray, shape ``(samples - window + 1, window)``
        A view sharing memory with ``x`` (``np.shares_memory`` is true).

    Raises
    ------
    ValidationError
        ``x`` is not 1-D or ``window`` is out of range.
    """
    window = positive_int("window", window)
    x = np.asarray(x)
    if x.ndim != 1:
        raise ValidationError(f"expected a 1-D stream; received: x.shape={x.shape}")
    if window > x.shape[0]:
        raise ValidationError(f"expected window <= {x.shape[0]} samples; received: window={window}")
    return np.lib.stride_tricks.sliding_window_view(x, window)


@dataclass(frozen=True)
class Windows:
    """Aligned model inputs and targets.

    Attributes
    ----------
    inputs : ndarray, shape ``(rows, window)``
        Usually a read-only view from :func:`sliding_windows`.
    targets : ndarray, shape ``(rows,)`` or ``(rows, outputs)``
        One target per row.
    """

    inputs: np.ndarray
    targets: np.ndarray

    def __post_init__(self) -> None:
        if self.inputs.ndim != 2:
            raise ValidationError(
                f"expected inputs of shape (rows, window); received: inputs.shape={self.inputs.shape}"
            )
        if self.targets.ndim not in (1, 2) or self.targets.shape[0] != self.inputs.shape[0]:
            raise ValidationError(
                f"expected targets with {self.inputs.shape[0]} rows; received: targets.shape={self.targets.shape}"
            )

    def __len__(self) -> int:
        return int(self.inputs.shape[0])

    @property
    def window(self) -> int:
        """Number of samples per input row."""
        return int(self.inputs.shape[1])

    def slice(self, start: int, stop: int) -> Windows:
        """Rows ``start:stop`` (views)."""
        return Windows(self.inputs[start:stop], self.targets[start:stop])

    def batches(self, batch_size: int, *, dtype: type = np.float32) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Yield contiguous ``(inputs, targets)`` copies of at most ``batch_size`` rows, in order."""
        batch_size = positive_int("batch_size", batch_size)
        for start in range(0, len(self), batch_size):
            stop = min(start + batch_size, len(self))
            yield (
                np.ascontiguousarray(self.inputs[start:stop], dtype=dtype),
                np.ascontiguousarray(self.targets[start:stop], dtype=dtype),
            )
