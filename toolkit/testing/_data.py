"""Small synthetic data for the conformance checks (``numpy.random.default_rng`` only)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sigbench.windows import sliding_windows

__all__ = ["ConformanceData", "make_data"]


@dataclass(frozen=True)
class ConformanceData:
    """A stream cut into training and test windows, with 1-D and 2-D targets.

    Attributes
    ----------
    stream : ndarray, shape ``(samples,)``
        The whole stream (a resonant AR(2) process plus a sine, unit-ish power).
    train_inputs, test_inputs : ndarray, shape ``(rows, window)``
        Read-only sliding-window views of ``stream`` (as the engine passes them).
    train_scalar, test_scalar : ndarray, shape ``(rows,)``
        The next sample after each window.
    train_vector, test_vector : ndarray, shape ``(rows, n_outputs)``
        The next ``n_outputs`` samples after each window.
    """

    stream: np.ndarray
    window: int
    n_outputs: int
    train_inputs: np.ndarray
    test_inputs: np.ndarray
    train_scalar: np.ndarray
    test_scalar: np.ndarray
    train_vector: np.ndarray
    test_vector: np.ndarray

    def targets(self, kind: str, split: str) -> np.ndarray:
        """``kind`` is ``"scalar"`` or ``"vector"``, ``split`` is ``"train"`` or ``"test"``."""
        return getattr(self, f"{split}_{kind}")  # type: ignore[no-any-return]


def make_data(window: int = 16, n_rows: int = 240, n_outputs: int = 3, seed: int = 0,
              test_fraction: float = 0.25) -> ConformanceData:
    """Build :class:`ConformanceData` with ``n_rows`` windows in all.

    Parameters
    ----------
    window : int, default 16
        Samples per input row.
    n_rows : int, default 240
        Training plus test rows (the last ``test_fraction`` are test rows, at least 8).
    n_outputs : int, default 3
        Width of the 2-D targets.
    seed : int, default 0
        Seed of the ``default_rng`` drawing the stream.
    test_fraction : float, default 0.25

    Returns
    -------
    ConformanceData
    """
    rng = np.random.default_rng(seed)
    total = n_rows + window + n_outputs
    e = rng.normal(scale=0.3, size=total + 100)
    ar = np.zeros_like(e)
    for k in range(2, e.size):  # poles at 0.95·e^{±i0.3}: a resonance, well inside the unit circle
        ar[k] = 1.9 * np.cos(0.3) * 0.95 * ar[k - 1] - 0.95**2 * ar[k - 2] + e[k]
    t = np.arange(total)
    stream = ar[100:] / (ar[100:].std() or 1.0) + np.sin(0.05 * 2 * np.pi * t)
    stream = np.ascontiguousarray(stream, dtype=np.float64)
    inputs = sliding_windows(stream[: n_rows + window - 1], window)
    scalar = stream[window: window + n_rows]
    vector = np.stack([stream[window + j: window + j + n_rows] for j in range(n_outputs)], axis=1)
    n_test = max(8, round(n_rows * test_fraction))
    n_train = n_rows - n_test
    return ConformanceData(
        stream=stream, window=window, n_outputs=n_outputs,
        train_inputs=inputs[:n_train], test_inputs=inputs[n_train:],
        train_scalar=scalar[:n_train], test_scalar=scalar[n_train:],
        train_vector=vector[:n_train], test_vector=vector[n_train:],
    )
