r"""Shared machinery of the adaptive FIR filters (LMS, NLMS, RLS): the loop, the state, divergence.

For each input row :math:`\mathbf{x}(k)` (the newest ``numtaps`` samples of the window, oldest
first) and each output :math:`o`, an adaptive filter computes

.. math::

    y_o(k) = \mathbf{w}_o^T(k)\,\mathbf{x}(k), \qquad e_o(k) = d_o(k) - y_o(k), \qquad
    \mathbf{w}_o(k+1) = \mathbf{w}_o(k) + \Delta\mathbf{w}_o(k),

starting from :math:`\mathbf{w}(0) = \mathbf{0}`. The subclasses only supply :math:`\Delta\mathbf{w}`
(a numba-compiled kernel, one per algorithm, compiled on first call and cached on disk — nothing
is compiled at import time). The weight vector is stored in the column order of the window, so
weights compare one to one with ``padasip`` fed the same rows.

* ``fit`` adapts over the training rows (from zero weights);
* ``predict`` uses the frozen weights (offline protocol);
* ``predict_online`` predicts row *k*, then adapts on ``targets[k]`` (prequential protocol). The
  whole state (weights, RLS inverse correlation, sample counter) lives on the object, so calls on
  consecutive chunks equal one pass bit for bit.

Divergence: a non-finite error, or :math:`|e| >` ``DIVERGENCE_FACTOR`` × RMS of the training
targets, stops the loop and raises :class:`~sigbench.errors.DivergedError` with the sample index and
the stable step-size range for the measured input power; the state is left as it was before the
call (the kernels run on copies that are committed only on success).

Cost per output sample: LMS :math:`2N`, NLMS :math:`3N`, RLS :math:`2N^2 + O(N)` multiply-accumulates
for :math:`N` = ``numtaps`` (per output).

Example
-------
>>> import numpy as np, sigbench as sb
>>> x = np.random.default_rng(0).normal(size=2000)
>>> X = sb.sliding_windows(x[:-1], 8)
>>> lms = sb.get_processor("lms")(numtaps=8, mu=0.01).fit(X, x[8:])
>>> lms.predict(X).shape
(1992,)
"""

from __future__ import annotations

import itertools
import json
import math
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from sigbench._validate import positive_int
from sigbench.errors import DivergedError, ValidationError
from sigbench.processor import Processor

__all__ = ["DIVERGENCE_FACTOR", "AdaptiveFilter", "DSPProcessor", "predict_linear"]

#: an error larger than this many times the training-target RMS counts as divergence
DIVERGENCE_FACTOR = 1e6
#: blocks of the training-time learning curve recorded by ``fit`` (``describe()['convergence']``)
CONVERGENCE_BLOCKS = 50
#: rows converted to float64 at a time when the input is float32
CONVERT_ROWS = 65536

#: rows per block when a contiguous copy of windows is needed (bounded memory)
CHUNK_ROWS = 65536


_KERNELS: dict[str, Any] = {}


def kernel(name: str) -> Any:
    """Return the compiled kernel ``name`` (``"lms"``, ``"nlms"``, ``"rls"``), building it on first use."""
    if name not in _KERNELS:
        _KERNELS.update(_build_kernels())
    return _KERNELS[name]


def _build_kernels() -> dict[str, Any]:
    from sigbench.plugins.dsp import _kernels

    return {"lms": _kernels.lms, "nlms": _kernels.nlms, "rls": _kernels.rls}


def predict_linear(inputs: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Return ``inputs[:, -numtaps:] @ weights.T`` block by block (no full copy of a strided view).

    Parameters
    ----------
    inputs : ndarray, shape ``(rows, window)``
    weights : ndarray, shape ``(outputs, numtaps)``

    Returns
    -------
    ndarray, shape ``(rows, outputs)``
    """
    numtaps = weights.shape[1]
    cols = inputs[:, inputs.shape[1] - numtaps:]
    out = np.empty((inputs.shape[0], weights.shape[0]), dtype=np.float64)
    wt = np.ascontiguousarray(weights.T)
    for start in range(0, inputs.shape[0], CHUNK_ROWS):
        stop = min(start + CHUNK_ROWS, inputs.shape[0])
        out[start:stop] = np.ascontiguousarray(cols[start:stop], dtype=np.float64) @ wt
    return out


def resolve_numtaps(numtaps: int | None, window: int) -> int:
    """``numtaps`` or the whole window; reject ``numtaps > window``."""
    if numtaps is None:
        return window
    if numtaps > window:
        raise ValidationError(f"expected numtaps <= window ({window} samples); received: numtaps={numtaps}")
    return numtaps


def optional_numtaps(numtaps: Any) -> int | None:
    """Validate an optional ``numtaps`` constructor argument (``None``: the whole window)."""
    return None if numtaps is None else positive_int("numtaps", numtaps)


def is_window_view(inputs: np.ndarray) -> bool:
    """True when ``inputs[i, j]`` lives at ``base + (i + j)·itemsize``: sliding windows of one stream.

    Then the distinct values are the first row and the last column — ``rows + window - 1`` samples.
    """
    return inputs.ndim == 2 and inputs.shape[0] > 1 and inputs.strides == (inputs.itemsize, inputs.itemsize)


class DSPProcessor(Processor):
    """:class:`~sigbench.Processor` whose input check costs ``O(rows + window)`` on a sliding-window view.

    The base check runs ``np.isfinite`` over the ``rows × window`` view — ``window`` times more work
    than the stream holds, and a temporary of that size; for an LMS over 10⁶ rows that costs more
    than the filter itself. On a view from :func:`sigbench.sliding_windows` every sample appears in
    the first row or the last column, so checking those is the same check.
    """

    def check_task(self, *, window: int, horizon: int = 1, n_outputs: int = 1, seed: int | None = None,
                   seeds: int = 1) -> None:
        """Refuse ``numtaps`` longer than the window (see :meth:`sigbench.Processor.check_task`)."""
        super().check_task(window=window, horizon=horizon, n_outputs=n_outputs, seed=seed, seeds=seeds)
        self._check_taps(int(window))

    def _check_taps(self, window: int) -> None:
        """Raise :class:`ValidationError` when the filter needs more samples than ``window``."""
        taps = getattr(self, "numtaps_param", None)
        if taps is not None:
            resolve_numtaps(taps, window)

    def _check_inputs(self, inputs: np.ndarray, *, fitting: bool = False) -> None:
        if not is_window_view(inputs):
            super()._check_inputs(inputs, fitting=fitting)
            return
        if not (np.isfinite(inputs[0]).all() and np.isfinite(inputs[:, -1]).all()):
            raise ValidationError("expected finite inputs; received: NaN/inf in inputs")
        super()._check_inputs(inputs[:1], fitting=fitting)  # shape checks (messages of the base class)


class AdaptiveFilter(DSPProcessor):
    """Base class of the adaptive FIR filters: the loop, the state, divergence and bookkeeping.

    Subclasses set ``name`` and ``kernel_name`` and override :meth:`_kernel_args` (the algorithm's
    constants passed to the compiled update) and, when the algorithm has more state than the
    weights, :meth:`_init_extra_state` (RLS: the inverse correlation matrix).

    Parameters
    ----------
    numtaps : int or None, default None
        Number of taps; the filter sees the newest ``numtaps`` samples of each window. ``None``: the
        whole window.
    **params
        The subclass's other constructor arguments (recorded for ``save``/``describe``).
    """

    family: ClassVar[str] = "dsp"
    online: ClassVar[bool] = True
    deterministic: ClassVar[bool] = True
    kernel_name: ClassVar[str] = ""

    def __init__(self, numtaps: int | None = None, **params: Any) -> None:
        super().__init__(numtaps=numtaps, **params)
        self.numtaps_param = optional_numtaps(numtaps)
        self.weights = np.zeros((0, 0))
        self.extra_state: dict[str, np.ndarray] = {}
        self.error_limit = math.inf
        self.samples_seen = 0
        self.convergence: dict[str, Any] | None = None

    # -- to override ----------------------------------------------------------------------------
    def _kernel_args(self) -> tuple[float, ...]:
        """The algorithm's scalar constants, passed to the kernel after the state arrays."""
        raise NotImplementedError

    def _init_extra_state(self, numtaps: int) -> dict[str, np.ndarray]:
        """State beyond the weights, at the start of adaptation (RLS: ``P(0) = I / delta``)."""
        return {}

    def _stable_range(self, power: float) -> str:
        """Text of the stable parameter range for input power ``power`` (for divergence messages)."""
        raise NotImplementedError

    # -- Processor hooks -------------------------------------------------------------------------
    @property
    def numtaps(self) -> int:
        """Number of taps in use (known after ``fit``)."""
        return int(self.weights.shape[1])

    def _fit(self, inputs: np.ndarray, targets: np.ndarray) -> None:
        numtaps = resolve_numtaps(self.numtaps_param, inputs.shape[1])
        d = targets.reshape(targets.shape[0], -1)
        rms = math.sqrt(float(np.mean(np.square(d))))
        self.error_limit = DIVERGENCE_FACTOR * max(rms, float(np.finfo(np.float64).tiny))
        self.weights = np.zeros((d.shape[1], numtaps))
        self.extra_state = self._init_extra_state(numtaps)
        self.samples_seen = 0
        self.convergence = self._adapt_recording(inputs, d)

    def _adapt_recording(self, inputs: np.ndarray, d: np.ndarray, blocks: int = CONVERGENCE_BLOCKS) -> dict[str, Any]:
        """Adapt over the training rows in consecutive blocks (exactly one pass: the state carries over),
        recording the a-priori error power and the weights after each block — the learning curve."""
        rows = inputs.shape[0]
        edges = np.unique(np.linspace(0, rows, min(blocks, rows) + 1).astype(int))
        samples: list[int] = []
        error_db: list[float] = []
        weights: list[list[float]] = []
        power = float(np.mean(np.square(inputs[:, -1])))
        for start, stop in itertools.pairwise(edges):
            y = self._adapt(inputs[start:stop], d[start:stop], power=power)
            err_power = float(np.mean(np.square(d[start:stop] - y)))
            samples.append(int(stop))
            error_db.append(10.0 * math.log10(err_power) if err_power > 0 else -300.0)
            weights.append(self.weights[0].tolist())
        final = float(np.mean(error_db[-max(1, len(error_db) // 5):]))
        converged = next((s for s, e in zip(samples, error_db, strict=True) if e <= final + 1.0), samples[-1])
        return {"sample": samples, "error_db": error_db, "weights": weights, "steady_error_db": final,
                "convergence_samples": int(converged)}

    def _predict(self, inputs: np.ndarray) -> np.ndarray:
        return predict_linear(inputs, self.weights)

    def _predict_online(self, inputs: np.ndarray, targets: np.ndarray) -> np.ndarray:
        d = targets.reshape(targets.shape[0], -1)
        if d.shape[1] != self.weights.shape[0]:
            raise ValidationError(
                f"expected targets with {self.weights.shape[0]} outputs (as in fit); "
                f"received: targets.shape={targets.shape}"
            )
        return self._adapt(inputs, d)

    def step(self, row: np.ndarray, target: Any) -> np.ndarray | float:
        """Predict one window ``row`` ``(window,)``, then adapt on ``target``; return the prediction."""
        out = self.predict_online(np.asarray(row, dtype=np.float64)[None, :], np.asarray(target)[None, ...])
        return float(out[0]) if out.ndim == 1 else out[0]

    def _adapt(self, inputs: np.ndarray, d: np.ndarray, power: float | None = None) -> np.ndarray:
        """Run the compiled loop over ``inputs`` against ``d`` ``(rows, outputs)``; commit on success."""
        numtaps = self.weights.shape[1]
        x = inputs[:, inputs.shape[1] - numtaps:]
        d = np.ascontiguousarray(d, dtype=np.float64)
        w = self.weights.copy()
        extra = [v.copy() for v in self.extra_state.values()]
        y = np.empty(d.shape, dtype=np.float64)
        run = kernel(self.kernel_name)
        # a float32 view is converted one block of rows at a time (never a rows × numtaps float64 copy);
        # the state carries across blocks, so the result equals one pass
        step = x.shape[0] if x.dtype == np.float64 else CONVERT_ROWS
        for start in range(0, x.shape[0], step):
            stop = min(start + step, x.shape[0])
            block = x[start:stop] if x.dtype == np.float64 else x[start:stop].astype(np.float64)
            bad = int(run(block, d[start:stop], w, *extra, *self._kernel_args(), self.error_limit, y[start:stop]))
            if bad >= 0:
                self._raise_diverged(inputs, start + bad, d, y, power)
        self.weights = w
        self.extra_state = dict(zip(self.extra_state, extra, strict=True))
        self.samples_seen += int(inputs.shape[0])
        return y

    def _raise_diverged(self, inputs: np.ndarray, row: int, d: np.ndarray, y: np.ndarray,
                        power: float | None = None) -> None:
        if power is None:
            power = float(np.mean(np.square(inputs[:, -1])))  # the whole call: a steadier estimate
        err = d[row] - y[row]
        raise DivergedError(
            f"{self.name} diverged at sample {self.samples_seen + row} (row {row} of this call): error "
            f"{float(np.max(np.abs(err))):.3g} is not finite or exceeds {DIVERGENCE_FACTOR:g}× the "
            f"training-target RMS; for the measured input power E[x²]={power:.4g} the stable range is "
            f"{self._stable_range(power)}",
            sample=self.samples_seen + row,
        )

    # -- state and cost ------------------------------------------------------------------------
    def get_state(self) -> dict[str, np.ndarray]:
        """Weights ``(outputs, numtaps)``, extra state, divergence limit and sample counter."""
        state = {
            "weights": self.weights,
            "error_limit": np.asarray(self.error_limit, dtype=np.float64),
            "samples_seen": np.asarray(self.samples_seen, dtype=np.int64),
        }
        state.update(self.extra_state)
        return state

    def set_state(self, state: dict[str, np.ndarray]) -> None:
        """Restore :meth:`get_state`."""
        self.weights = np.array(state["weights"], dtype=np.float64)
        self.error_limit = float(state["error_limit"])
        self.samples_seen = int(state["samples_seen"])
        template = self._init_extra_state(self.weights.shape[1])
        self.extra_state = {k: np.array(state[k], dtype=np.float64) for k in template}

    def _save_extra(self, path: Path) -> None:
        (path / "convergence.json").write_text(json.dumps(self.convergence))

    def _load_extra(self, path: Path) -> None:
        record = path / "convergence.json"
        self.convergence = json.loads(record.read_text()) if record.exists() else None

    def trainable_params(self) -> int:
        """Number of adapted weights."""
        return int(self.weights.size)

    def extra_description(self) -> dict[str, Any]:
        """``numtaps``, ``outputs`` and the samples adapted on so far."""
        return {
            "numtaps": self.numtaps,
            "outputs": int(self.weights.shape[0]),
            "samples_seen": self.samples_seen,
            "convergence_samples": (self.convergence or {}).get("convergence_samples"),
            "convergence": self.convergence,
        }
