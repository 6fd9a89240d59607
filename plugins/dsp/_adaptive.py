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

Set-up rows: before adapting, ``fit`` measures the first :math:`m = \min(\text{rows}, 1000)`
training rows (:data:`SETUP_ROWS`): the mean square :math:`\hat P` of their newest input samples
(LMS's ``mu="auto"`` is set from it) and the RMS of their targets (the divergence limit). ``fit_blocks``
buffers blocks until it holds those :math:`m` rows, so the result does not depend on where the blocks
are cut: ``fit`` and ``fit_blocks`` agree bit for bit on any split of the rows.

Divergence, two rules, both raising :class:`~sigbench.errors.DivergedError` with the sample index and
the stable parameter range for the measured input power:

* *overflow*: a non-finite error, or :math:`|e| >` ``DIVERGENCE_FACTOR`` × the RMS of the set-up rows'
  targets, stops the loop at that sample (while fitting and in ``predict_online``); the state is left as it
  was before the call (the kernels run on copies that are committed only on success);
* *sustained growth* (while fitting): a part of the learning curve (one of :data:`CONVERGENCE_BLOCKS`
  equal parts of the training rows, of at least :data:`GROWTH_MIN_ROWS` rows) whose a-priori error power
  exceeds the power of its own targets by more than :data:`GROWTH_DB` = 20 dB: the filter then does 100×
  worse than predicting zero, which a converging filter never does (its error starts at the target power,
  with :math:`\mathbf{w}(0) = \mathbf{0}`, and falls). Averaged over a part, the rule flags mean-square
  instability that bursts without overflowing — LMS with 4 taps at 0.6 × the old bound
  :math:`2/(N\,E[x^2])` on white Gaussian input grows by 23–65 dB — and ignores changes of loudness (each
  part is compared with its own targets; a part quieter than the set-up rows by more than 20 dB is
  compared with the set-up rows' power / 100).

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

import json
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from sigbench._validate import positive_int
from sigbench.errors import DivergedError, ValidationError
from sigbench.processor import Processor

__all__ = ["DIVERGENCE_FACTOR", "GROWTH_DB", "SETUP_ROWS", "AdaptiveFilter", "DSPProcessor", "predict_linear"]

#: an error larger than this many times the training-target RMS counts as divergence
DIVERGENCE_FACTOR = 1e6
#: a learning-curve part whose a-priori error power exceeds its targets' power by this many dB has diverged
GROWTH_DB = 20.0
#: parts of fewer rows are not judged by the growth rule (too few rows to average)
GROWTH_MIN_ROWS = 10
#: training rows measured before adapting (input power for ``mu="auto"``, target RMS for the overflow limit)
SETUP_ROWS = 1000
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


class _LearningCurve:
    """The learning curve of an adaptive filter's training pass: a-priori error power and weights after each
    of (at most) :data:`CONVERGENCE_BLOCKS` equal parts of the ``rows`` training rows."""

    def __init__(self, rows: int, outputs: int, floor_power: float = 0.0) -> None:
        self.edges = [int(e) for e in np.unique(np.linspace(0, rows, min(CONVERGENCE_BLOCKS, rows) + 1).astype(int))]
        self.outputs = outputs
        self.part = 0
        self.sse = 0.0
        self.ssd = 0.0
        #: the smallest target power a part is compared with (set-up rows' target power / 10^(GROWTH_DB/10))
        self.floor_power = floor_power
        #: ``(first row, end row, excess dB)`` of the first part that broke the growth rule, else None
        self.grown: tuple[int, int, float] | None = None
        self.samples: list[int] = []
        self.error_db: list[float] = []
        self.weights: list[list[float]] = []
        self.power_sum = 0.0
        self.power_rows = 0

    def input_power(self, inputs: np.ndarray) -> float:
        """Mean square of the newest input samples seen so far (for divergence messages)."""
        newest = np.asarray(inputs[:, -1], dtype=np.float64)
        self.power_sum += float(np.sum(np.square(newest)))
        self.power_rows += newest.size
        return self.power_sum / max(self.power_rows, 1)

    def next_edge(self, seen: int) -> int:
        """The row where the current part ends."""
        if seen >= self.edges[-1]:
            raise ValidationError(f"expected {self.edges[-1]} training rows in the blocks (rows=…); received more")
        return self.edges[self.part + 1]

    def add(self, seen: int, d: np.ndarray, y: np.ndarray, weights: np.ndarray) -> None:
        """Account rows adapted on, ``seen`` the rows adapted so far; close the part at its edge."""
        self.sse += float(np.sum(np.square(d - y)))
        self.ssd += float(np.sum(np.square(d)))
        if self.part + 1 < len(self.edges) and seen == self.edges[self.part + 1]:
            a, b = self.edges[self.part], self.edges[self.part + 1]
            power = self.sse / ((b - a) * self.outputs)
            target_power = max(self.ssd / ((b - a) * self.outputs), self.floor_power)
            if self.grown is None and b - a >= GROWTH_MIN_ROWS and power > target_power * 10.0 ** (GROWTH_DB / 10):
                self.grown = (a, b, 10.0 * math.log10(power / target_power) if target_power > 0 else math.inf)
            self.samples.append(b)
            self.error_db.append(10.0 * math.log10(power) if power > 0 else -300.0)
            self.weights.append(weights[0].tolist())
            self.part += 1
            self.sse = 0.0
            self.ssd = 0.0

    def result(self) -> dict[str, Any]:
        """``sample``, ``error_db``, ``weights``, ``steady_error_db`` and ``convergence_samples``."""
        final = float(np.mean(self.error_db[-max(1, len(self.error_db) // 5):]))
        converged = next((s for s, e in zip(self.samples, self.error_db, strict=True) if e <= final + 1.0),
                         self.samples[-1])
        return {"sample": self.samples, "error_db": self.error_db, "weights": self.weights,
                "steady_error_db": final, "convergence_samples": int(converged)}


class DSPProcessor(Processor):
    """:class:`~sigbench.Processor` of the DSP family (the base of the built-in DSP processors).

    The base class's input check already costs ``O(rows + window)`` on a sliding-window view (every sample of
    such a view is in its first row or its last column), so a DSP processor over 10⁶ rows pays for the stream,
    not for ``rows × window`` values.
    """

    family: ClassVar[str] = "dsp"


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

    def _setup(self, input_power: float, numtaps: int) -> None:
        r"""Called once before adapting, with :math:`\hat P` (mean square of the newest input samples of the
        first :data:`SETUP_ROWS` training rows) and the number of taps (LMS sets ``mu="auto"`` here)."""

    # -- Processor hooks -------------------------------------------------------------------------
    @property
    def numtaps(self) -> int:
        """Number of taps in use (known after ``fit``)."""
        return int(self.weights.shape[1])

    def _fit(self, inputs: np.ndarray, targets: np.ndarray) -> None:
        self._fit_blocks(iter([(inputs, targets)]), int(inputs.shape[0]))

    def _fit_blocks(self, blocks: Iterator[tuple[np.ndarray, np.ndarray]], rows: int | None) -> None:
        """Adapt over the training rows, block after block: the same updates, in the same order, as one pass
        (the state carries over), so the weights equal those of ``fit`` on all the rows bit for bit.

        The learning curve (``describe()['convergence']``) records the a-priori error power and the weights
        after each of :data:`CONVERGENCE_BLOCKS` equal parts of the ``rows`` training rows, wherever the
        blocks' edges fall. The first ``min(rows, SETUP_ROWS)`` rows are measured before adapting (blocks are
        buffered until they are all in): the divergence limit is :data:`DIVERGENCE_FACTOR` × the RMS of their
        targets, and :meth:`_setup` receives the mean square of their newest input samples.

        Raises
        ------
        DivergedError
            Overflow, or a learning-curve part :data:`GROWTH_DB` above its targets' power (module notes).
        """
        if rows is None:
            raise ValidationError(f"expected the number of training rows for {self.name}.fit_blocks "
                                  "(rows=…); received: rows=None")
        blocks = iter(blocks)
        head: list[tuple[np.ndarray, np.ndarray]] = []  # the blocks holding the set-up rows
        held = 0
        for inputs, targets in blocks:
            head.append((inputs, targets.reshape(targets.shape[0], -1)))
            held += int(inputs.shape[0])
            if held >= min(rows, SETUP_ROWS):
                break
        if not head:
            raise ValidationError("expected at least one block of training rows; received: none")
        curve = self._start(head, rows)
        for inputs, d in head:
            self._adapt_block(inputs, d, curve)
        for inputs, targets in blocks:
            self._adapt_block(inputs, targets.reshape(targets.shape[0], -1), curve)
        self.convergence = curve.result()

    def _start(self, head: list[tuple[np.ndarray, np.ndarray]], rows: int) -> _LearningCurve:
        """Measure the set-up rows (the first ``min(rows, SETUP_ROWS)``) and set the filter up."""
        m = min(rows, SETUP_ROWS)
        newest = np.concatenate([np.asarray(x[:, -1], dtype=np.float64) for x, _ in head])[:m]
        d = np.concatenate([np.asarray(t, dtype=np.float64) for _, t in head])[:m]
        numtaps = resolve_numtaps(self.numtaps_param, head[0][0].shape[1])
        target_power = float(np.mean(np.square(d)))
        self.error_limit = DIVERGENCE_FACTOR * max(math.sqrt(target_power), float(np.finfo(np.float64).tiny))
        self.weights = np.zeros((d.shape[1], numtaps))
        self.extra_state = self._init_extra_state(numtaps)
        self.samples_seen = 0
        self._setup(float(np.mean(np.square(newest))), numtaps)
        return _LearningCurve(rows, d.shape[1], floor_power=target_power * 10.0 ** (-GROWTH_DB / 10))

    def _adapt_block(self, inputs: np.ndarray, d: np.ndarray, curve: _LearningCurve) -> None:
        """Adapt over one block of training rows, closing the learning curve's parts at their edges."""
        power = curve.input_power(inputs)
        start = 0
        while start < inputs.shape[0]:
            stop = min(start + curve.next_edge(self.samples_seen) - self.samples_seen, inputs.shape[0])
            y = self._adapt(inputs[start:stop], d[start:stop], power=power)
            curve.add(self.samples_seen, d[start:stop], y, self.weights)
            if curve.grown is not None:
                self._raise_grown(curve.grown, power)
            start = stop

    def _raise_grown(self, grown: tuple[int, int, float], power: float) -> None:
        a, b, excess = grown
        raise DivergedError(
            f"{self.name} diverged over training rows {a}–{b - 1}: the a-priori error power is {excess:.1f} dB "
            f"above the targets' power (limit {GROWTH_DB:g} dB); for the measured input power E[x²]={power:.4g} "
            f"the stable range is {self._stable_range(power)}",
            sample=b - 1,
        )

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
