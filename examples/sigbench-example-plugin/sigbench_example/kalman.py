r"""``kalman-level``: the Kalman filter of the local-level (random walk plus noise) model.

Model, for the samples :math:`x(t)` of each window:

.. math::

    s(t) = s(t-1) + w(t), \quad w \sim N(0, q); \qquad x(t) = s(t) + v(t), \quad v \sim N(0, r).

Filter (diffuse start: :math:`\hat s(1) = x(1)`, :math:`P(1) = r`), for :math:`t = 2 \dots N`:

.. math::

    M(t) = P(t-1) + q, \quad K(t) = \frac{M(t)}{M(t) + r}, \quad
    \hat s(t) = \hat s(t-1) + K(t)\,[x(t) - \hat s(t-1)], \quad P(t) = (1 - K(t))\,M(t).

The output of a window is the filtered level :math:`\hat s(N)`, which is also the model's prediction
of every later sample. Because the covariance recursion does not depend on the data, the gains are
the same for every window and :math:`\hat s(N) = \sum_j c_j x(j)` with fixed weights
:math:`c_j = K(j) \prod_{i > j} (1 - K(i))` (:math:`K(1) = 1`): they sum to one (unit DC gain), and
prediction is one dot product per window.

Stability: always (:math:`0 < K \le 1`). The gain converges to the steady state
:math:`K_\infty = M_\infty / (M_\infty + r)` with :math:`M_\infty = (q + \sqrt{q^2 + 4qr}) / 2`, and the
filtered-error variance to :math:`P_\infty = (1 - K_\infty) M_\infty`. With :math:`q = 0` the filter is the
running mean (:math:`K(t) = 1/t`).

Fitting: ``q`` and ``r`` not given are estimated by the method of moments from first differences
:math:`d(t) = x(t) - x(t-1) = w(t) + v(t) - v(t-1)`: :math:`\mathrm{var}\,d = q + 2r` and
:math:`\mathrm{cov}(d(t), d(t-1)) = -r`, pooled over the training windows (at most 4096 evenly spaced ones).
The targets are not used.

Cost per output sample: ``window`` multiply-accumulates. Memory: ``window`` weights.

Example
-------
>>> import numpy as np, sigbench as sb
>>> from sigbench_example.kalman import KalmanLevel
>>> x = np.full(200, 2.0)
>>> k = KalmanLevel(q=0.01, r=1.0).fit(sb.sliding_windows(x[:-1], 16), x[16:])
>>> bool(np.allclose(k.predict(sb.sliding_windows(x[:-1], 16)), 2.0))
True
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, ClassVar

import numpy as np

from sigbench import Processor, ValidationError, hookimpl

__all__ = ["KalmanLevel", "estimate_noise", "kalman_gains", "kalman_weights", "steady_state"]

#: windows used to estimate q and r (evenly spaced, so the estimate is deterministic)
_ESTIMATE_ROWS = 4096
#: rows per block in predict (bounded memory on long sliding-window views)
_CHUNK_ROWS = 65536


def _variance(name: str, value: Any, *, allow_zero: bool) -> float | None:
    if value is None:
        return None
    ok = isinstance(value, (int, float, np.floating, np.integer)) and not isinstance(value, bool)
    if not ok or not math.isfinite(float(value)) or float(value) < 0 or (float(value) == 0 and not allow_zero):
        bound = ">= 0" if allow_zero else "> 0"
        raise ValidationError(f"expected {name} to be a finite variance {bound} or None; received: {name}={value!r}")
    return float(value)


def kalman_gains(window: int, q: float, r: float) -> np.ndarray:
    """Gains :math:`K(1) \\dots K(N)` of the diffuse local-level filter, shape ``(window,)``; ``K(1) = 1``."""
    gains = np.empty(window)
    gains[0] = 1.0
    p = r
    for t in range(1, window):
        m = p + q
        gains[t] = m / (m + r)
        p = (1.0 - gains[t]) * m
    return gains


def kalman_weights(window: int, q: float, r: float) -> np.ndarray:
    """Weights ``c`` (oldest sample first) with ``filtered level = window @ c``; they sum to one."""
    gains = kalman_gains(window, q, r)
    keep = np.append(np.cumprod((1.0 - gains[1:])[::-1])[::-1], 1.0)  # prod_{i>j} (1 - K(i))
    return gains * keep


def steady_state(q: float, r: float) -> tuple[float, float]:
    """Steady-state gain :math:`K_\\infty` and filtered-error variance :math:`P_\\infty`."""
    m = (q + math.sqrt(q * q + 4.0 * q * r)) / 2.0
    k = m / (m + r) if m + r > 0 else 1.0
    return k, (1.0 - k) * m


def estimate_noise(inputs: np.ndarray) -> tuple[float, float]:
    """Method-of-moments ``(q, r)`` from first differences inside the windows (see the module notes).

    Both are floored at ``1e-12`` times the difference variance (a smooth signal gives ``r`` ≈ 0: trust
    the samples).
    """
    rows = inputs.shape[0]
    idx = np.unique(np.linspace(0, rows - 1, min(rows, _ESTIMATE_ROWS)).astype(np.int64))
    d = np.diff(np.asarray(inputs[idx], dtype=np.float64), axis=1)
    if d.shape[1] < 2:
        raise ValidationError(f"expected windows of at least 3 samples to estimate q and r; received: "
                              f"window={inputs.shape[1]}")
    d = d - d.mean()
    gamma0 = float(np.mean(d * d))
    gamma1 = float(np.mean(d[:, 1:] * d[:, :-1]))
    floor = 1e-12 * (gamma0 or 1.0)
    r = max(-gamma1, floor)
    q = max(gamma0 - 2.0 * r, floor)
    return q, r


class KalmanLevel(Processor):
    """Kalman filter of the local-level model; outputs the filtered level at the window's end.

    Parameters
    ----------
    q : float or None, default None
        Level (process) noise variance per sample, >= 0, in squared signal units; None: estimated at fit.
    r : float or None, default None
        Observation noise variance, > 0, in squared signal units; None: estimated at fit.

    Raises
    ------
    ValidationError
        ``q < 0``, ``r <= 0``, NaN or inf; at ``fit``: 2-D targets (one output per row), or windows
        shorter than 3 samples when ``q`` or ``r`` must be estimated.

    Notes
    -----
    ``describe()`` adds ``q``, ``r`` (as used), ``steady_state_gain`` and ``steady_state_variance``.

    Examples
    --------
    >>> from sigbench_example.kalman import KalmanLevel
    >>> KalmanLevel(q=0.01, r=1.0)
    KalmanLevel(q=0.01, r=1.0)
    """

    name: ClassVar[str] = "kalman-level"
    family: ClassVar[str] = "dsp"
    online: ClassVar[bool] = False
    deterministic: ClassVar[bool] = True
    #: ``check_processor`` keywords used by ``sigbench plugins validate``
    conformance: ClassVar[dict[str, Any]] = {"init_kwargs": {}}

    def __init__(self, q: float | None = None, r: float | None = None) -> None:
        self.q_param = _variance("q", q, allow_zero=True)
        self.r_param = _variance("r", r, allow_zero=False)
        super().__init__(q=q, r=r)
        self.q_used = math.nan
        self.r_used = math.nan
        self.weights = np.zeros(0)

    def _fit(self, inputs: np.ndarray, targets: np.ndarray) -> None:
        if targets.ndim == 2 and targets.shape[1] != 1:
            raise ValidationError(
                f"expected one target per row (the filter outputs one level); received: targets.shape={targets.shape}"
            )
        q, r = self.q_param, self.r_param
        if q is None or r is None:
            q_hat, r_hat = estimate_noise(inputs)
            q = q_hat if q is None else q
            r = r_hat if r is None else r
        self.q_used, self.r_used = float(q), float(r)
        self.weights = kalman_weights(inputs.shape[1], self.q_used, self.r_used)

    def _predict(self, inputs: np.ndarray) -> np.ndarray:
        out = np.empty(inputs.shape[0])
        for start in range(0, inputs.shape[0], _CHUNK_ROWS):
            stop = min(start + _CHUNK_ROWS, inputs.shape[0])
            out[start:stop] = np.asarray(inputs[start:stop], dtype=np.float64) @ self.weights
        return out

    def get_state(self) -> dict[str, np.ndarray]:
        """``q`` and ``r`` as used, and the window weights."""
        return {"q": np.asarray(self.q_used), "r": np.asarray(self.r_used), "weights": self.weights}

    def set_state(self, state: dict[str, np.ndarray]) -> None:
        """Restore what :meth:`get_state` returned."""
        self.q_used, self.r_used = float(state["q"]), float(state["r"])
        self.weights = np.asarray(state["weights"], dtype=np.float64)

    def trainable_params(self) -> int:
        """``q`` and ``r`` (the weights follow from them)."""
        return 2

    def macs_per_sample(self) -> float:
        """One multiply-accumulate per window sample."""
        return float(self.weights.size)

    def extra_description(self) -> dict[str, Any]:
        """The noise variances used and the steady-state gain and error variance."""
        gain, variance = steady_state(self.q_used, self.r_used)
        return {"q": self.q_used, "r": self.r_used, "steady_state_gain": gain, "steady_state_variance": variance}


@hookimpl
def register_processors(register: Callable[..., None]) -> None:
    """Register ``kalman-level``."""
    register(KalmanLevel)
