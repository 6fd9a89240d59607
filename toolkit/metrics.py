"""Built-in metrics: ``fn(y_true, y_pred, context) -> float``.

Definitions (``e = y_true − y_pred`` over the test rows, all outputs pooled):

================  ==========================================================================
mse               mean(e²)
rmse              √mse
mae               mean(|e|)
max_abs_error     max(|e|)
nmse_db           10·log10(Σe² / Σ(y_true − mean y_true)²)
snr_db            10·log10(Σ(y_true − ȳ)² / Σe²): the *prediction SNR* of the founding write-up with the
                  mean taken out (a constant is not signal: adding one to the signal and the prediction
                  changes nothing). ȳ is the mean of the **training** targets
                  (``context["target_mean"]``, one value per output; the test targets' mean when absent)
snr_gain_db       snr_db − the baseline's snr_db, where the baseline compares the noisy observation at each
                  target sample with the target (``context["observed_at_target"]``)
excess_db         10·log10(mse / mse of the Wiener bound) (``context["bound_mse"]``): ≥ 0 for any
                  linear method of no more taps on the training data, < 0 means "beats the bound"
log_spectral_distance_db
                  RMS over bins of 20·log10(|Ŷ|/|Y|) for the ``spectrum`` task (complex bins
                  rebuilt from the real/imaginary layout), floors at 1e-12
excess_float32_db 10·log10(Σe² / Σ(y_true − fl32(y_true))²), fl32 rounding to the nearest float32: the
                  error over that of the *exact* target stored in float32 — the least error any method
                  whose outputs are float32 numbers can have (a float32 network), so ≥ 0 dB for such a
                  method up to the float64 scaling of its outputs; 0 dB is "as exact as float32 allows",
                  negative values need more precision than float32 (a float64 FFT or least-squares map;
                  −inf for a bit-exact one), +inf when every target is a float32 number. For tasks whose
                  target is computed exactly (``spectrum``), where an exact reference leaves no finite
                  ``excess_db``
================  ==========================================================================

Exact references. A reference whose MSE is at most :data:`EXACT_NMSE_DB` (−200 dB) below the test targets'
variance — ``mse ≤ 10^(−20)·var(y_true)`` — is *exact*: its error is arithmetic rounding (float64 rounding of
a 64-point FFT or least-squares fit lies near −290 dB; float32 rounding between −150 dB, storing the exact
value, and −140 dB, a float32 FFT: far above the threshold). An excess over an exact reference would only
measure that rounding (about +250 dB for a float32 network), so
the engine derives no ``excess_*`` column over it (:func:`finite_excess`); ``excess_float32_db`` says
instead how far a method is from what its arithmetic allows.

A metric whose value cannot be defined (``snr_db`` of a perfect prediction is +inf) returns ``inf``;
the engine stores it as such and never turns a failure into NaN.

Out of core, each of these (but ``log_spectral_distance_db`` and ``excess_db``, which the engine derives)
is computed from sums accumulated block by block (:class:`ErrorSums`): they are registered with an
``accumulator`` (see :mod:`sigbench.run.score`).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from sigbench.hookspecs import hookimpl

__all__ = ["EXACT_NMSE_DB", "METRICS", "ErrorSums", "RunningMoments", "db_ratio", "finite_excess",
           "variance_from_metrics"]


def db_ratio(num: float, den: float) -> float:
    """10·log10(num/den) with the limits ±inf spelled out (never NaN)."""
    if den <= 0:
        return math.inf if num > 0 else 0.0
    if num <= 0:
        return -math.inf
    return 10.0 * math.log10(num / den)


#: a reference at most this far (dB) below the test targets' variance is exact: its error is rounding
EXACT_NMSE_DB = -200.0


def variance_from_metrics(metrics: dict[str, Any]) -> float | None:
    """The test targets' variance (pooled over outputs) recovered from a row's ``mse`` and ``nmse_db``
    (``nmse = Σe² / Σ(y − ȳ_test)²``, so ``var = mse / 10^(nmse_db/10)``), or ``None`` when they cannot give
    it (a metric missing, an exact row: ``mse = 0``)."""
    mse_value, nmse = metrics.get("mse"), metrics.get("nmse_db")
    if not isinstance(mse_value, (int, float)) or not isinstance(nmse, (int, float)):
        return None
    if not (math.isfinite(mse_value) and math.isfinite(nmse)) or mse_value <= 0:
        return None
    return float(mse_value) / 10.0 ** (float(nmse) / 10.0)


def finite_excess(bound_mse: float | None, variance: float | None = None) -> bool:
    """Whether an excess over a reference of MSE ``bound_mse`` is a finite, meaningful number.

    Parameters
    ----------
    bound_mse : float or None
        The reference's MSE (``None``: no reference).
    variance : float, optional
        The test targets' variance (:func:`variance_from_metrics`); without it only an MSE of exactly 0 is exact.

    Returns
    -------
    bool
        False for no reference, a non-finite MSE, or an *exact* one: ``bound_mse ≤ 10^(EXACT_NMSE_DB/10)·variance``
        (0 when the variance is unknown).

    Examples
    --------
    >>> finite_excess(1e-3, 1.0), finite_excess(2e-30, 1.0), finite_excess(0.0), finite_excess(2e-30)
    (True, False, False, True)
    """
    if bound_mse is None or not math.isfinite(bound_mse) or bound_mse <= 0:
        return False
    if variance is None or not math.isfinite(variance) or variance <= 0:
        return True
    return bound_mse > 10.0 ** (EXACT_NMSE_DB / 10.0) * variance



class RunningMoments:
    """Count, mean and Σ(x − mean)² of values seen block by block (Chan et al.'s pairwise update).

    Numerically stable whatever the number of blocks, and memory is one block: what streamed metrics,
    streamed generation and the neural standardisation statistics use to summarise data they never hold.
    """

    def __init__(self) -> None:
        self.count = 0
        self.mean = 0.0
        self.m2 = 0.0

    def add(self, values: Any) -> None:
        """Fold one block of values in."""
        x = np.asarray(values, dtype=np.float64)
        k = x.size
        if k == 0:
            return
        mean_b = float(np.mean(x))
        m2_b = float(np.sum(np.square(x - mean_b)))
        total = self.count + k
        delta = mean_b - self.mean
        self.m2 += m2_b + delta * delta * self.count * k / total
        self.mean += delta * k / total
        self.count = total

def _err(y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
    return np.asarray(y_true, dtype=np.float64) - np.asarray(y_pred, dtype=np.float64)


def mse(y_true: np.ndarray, y_pred: np.ndarray, context: dict[str, Any]) -> float:
    """Mean squared error."""
    return float(np.mean(np.square(_err(y_true, y_pred))))


def rmse(y_true: np.ndarray, y_pred: np.ndarray, context: dict[str, Any]) -> float:
    """Root mean squared error."""
    return math.sqrt(mse(y_true, y_pred, context))


def mae(y_true: np.ndarray, y_pred: np.ndarray, context: dict[str, Any]) -> float:
    """Mean absolute error."""
    return float(np.mean(np.abs(_err(y_true, y_pred))))


def max_abs_error(y_true: np.ndarray, y_pred: np.ndarray, context: dict[str, Any]) -> float:
    """Largest absolute error."""
    return float(np.max(np.abs(_err(y_true, y_pred))))


def nmse_db(y_true: np.ndarray, y_pred: np.ndarray, context: dict[str, Any]) -> float:
    """Error energy over the target's variance, in dB."""
    yt = np.asarray(y_true, dtype=np.float64)
    return db_ratio(float(np.sum(np.square(_err(yt, y_pred)))), float(np.sum(np.square(yt - yt.mean()))))


def target_mean(y_true: np.ndarray, context: dict[str, Any]) -> Any:
    """ȳ of ``snr_db``: ``context["target_mean"]`` (the training targets' mean, per output), else the mean of
    ``y_true`` (per output)."""
    mean = context.get("target_mean")
    if mean is None:
        yt = np.asarray(y_true, dtype=np.float64)
        return yt.mean(axis=0) if yt.size else 0.0
    return np.asarray(mean, dtype=np.float64).reshape(np.shape(y_true)[1:] or ())


def snr_db(y_true: np.ndarray, y_pred: np.ndarray, context: dict[str, Any]) -> float:
    """Prediction SNR: power of the target about its (training) mean over error power, in dB."""
    yt = np.asarray(y_true, dtype=np.float64)
    signal = float(np.sum(np.square(yt - target_mean(yt, context))))
    return db_ratio(signal, float(np.sum(np.square(_err(yt, y_pred)))))


def snr_gain_db(y_true: np.ndarray, y_pred: np.ndarray, context: dict[str, Any]) -> float:
    """Prediction SNR minus the SNR of the baseline at the target samples, in dB: the noisy observation
    (``context["observed_at_target"]``) when the target is a clean reference, the naive predictor's output
    when the target is the observation itself (the engine passes it under the same key)."""
    observed = context.get("observed_at_target")
    if observed is None:
        raise ValueError("snr_gain_db needs context['observed_at_target']")
    return snr_db(y_true, y_pred, context) - snr_db(y_true, observed, context)


def excess_db(y_true: np.ndarray, y_pred: np.ndarray, context: dict[str, Any]) -> float:
    """MSE over the Wiener bound's MSE, in dB."""
    bound = context.get("bound_mse")
    if bound is None:
        raise ValueError("excess_db needs context['bound_mse']")
    return db_ratio(mse(y_true, y_pred, context), float(bound))


def log_spectral_distance_db(y_true: np.ndarray, y_pred: np.ndarray, context: dict[str, Any]) -> float:
    """RMS log-spectral distance in dB between complex spectra stored as [real…, imag…] rows."""
    yt = np.atleast_2d(np.asarray(y_true, dtype=np.float64))
    yp = np.atleast_2d(np.asarray(y_pred, dtype=np.float64))
    half = yt.shape[1] // 2
    mag_t = np.hypot(yt[:, :half], yt[:, half:])
    mag_p = np.hypot(yp[:, :half], yp[:, half:])
    d = 20.0 * np.log10(np.maximum(mag_p, 1e-12) / np.maximum(mag_t, 1e-12))
    return float(np.sqrt(np.mean(np.square(d))))


def float32_rounding_sse(y_true: Any) -> float:
    """Σ(y − fl32(y))²: the squared error of the exact targets stored in float32 (round to nearest)."""
    yt = np.asarray(y_true, dtype=np.float64)
    return float(np.sum(np.square(yt - yt.astype(np.float32).astype(np.float64))))


def excess_float32_db(y_true: np.ndarray, y_pred: np.ndarray, context: dict[str, Any]) -> float:
    """Error energy over that of the exact targets rounded to float32, in dB (the float32 floor)."""
    return db_ratio(float(np.sum(np.square(_err(y_true, y_pred)))), float32_rounding_sse(y_true))


class ErrorSums:
    """Sufficient statistics of the error metrics, accumulated block by block (the metric accumulator protocol:
    ``add(y_true, y_pred, context)``, ``value(context)``); :meth:`for_metric` makes one per metric."""

    def __init__(self, metric: str = "mse") -> None:
        self.metric = metric
        self.sse = 0.0
        self.sae = 0.0
        self.max_abs = 0.0
        self.sse_observed = 0.0
        self.sse_float32 = 0.0
        self.observed = True
        self.y = RunningMoments()
        self.columns: list[RunningMoments] = []

    @classmethod
    def for_metric(cls, metric: str) -> Any:
        """A factory of accumulators of ``metric`` (what ``register(..., accumulator=…)`` takes)."""
        return lambda: cls(metric)

    def add(self, y_true: Any, y_pred: Any, context: dict[str, Any]) -> None:
        """Fold one block of rows in."""
        yt = np.asarray(y_true, dtype=np.float64)
        e = yt - np.asarray(y_pred, dtype=np.float64)
        self.sse += float(np.sum(np.square(e)))
        self.sae += float(np.sum(np.abs(e)))
        self.max_abs = max(self.max_abs, float(np.max(np.abs(e))) if e.size else 0.0)
        if self.metric == "excess_float32_db":
            self.sse_float32 += float32_rounding_sse(yt)
        observed = context.get("observed_at_target")
        if observed is None:
            self.observed = False
        else:
            self.sse_observed += float(np.sum(np.square(yt - np.asarray(observed, dtype=np.float64))))
        self.y.add(yt)
        cols = yt.reshape(yt.shape[0], -1)
        if not self.columns:
            self.columns = [RunningMoments() for _ in range(cols.shape[1])]
        for moments, col in zip(self.columns, cols.T, strict=True):
            moments.add(col)

    def power_about(self, mean: np.ndarray) -> float:
        """Σ(y − mean)² over every value, ``mean`` one value per output (or one for all)."""
        means = np.broadcast_to(mean, (len(self.columns),))
        return float(sum(c.m2 + c.count * (c.mean - float(m)) ** 2 for c, m in zip(self.columns, means, strict=True)))

    def value(self, context: dict[str, Any]) -> float:
        """The metric over every block folded in."""
        n = self.y.count
        if context.get("target_mean") is None:
            power = float(sum(c.m2 for c in self.columns))  # about the test targets' own mean, per output
        else:  # about the training mean: Σ(y − m)² = Σ(y − ȳ)² + n·(ȳ − m)², pooled over outputs
            m = np.asarray(context["target_mean"], dtype=np.float64)
            power = self.power_about(m)
        snr = db_ratio(power, self.sse)
        if self.metric == "mse":
            return self.sse / n
        if self.metric == "rmse":
            return math.sqrt(self.sse / n)
        if self.metric == "mae":
            return self.sae / n
        if self.metric == "max_abs_error":
            return self.max_abs
        if self.metric == "nmse_db":
            return db_ratio(self.sse, self.y.m2)
        if self.metric == "snr_db":
            return snr
        if self.metric == "excess_float32_db":
            return db_ratio(self.sse, self.sse_float32)
        if self.metric == "snr_gain_db":
            if not self.observed:
                raise ValueError("snr_gain_db needs context['observed_at_target']")
            return snr - db_ratio(power, self.sse_observed)
        raise ValueError(f"no accumulated form of metric {self.metric!r}")


#: metrics with an accumulated (out-of-core) form
BLOCKWISE = ("mse", "rmse", "mae", "max_abs_error", "nmse_db", "snr_db", "snr_gain_db", "excess_float32_db")


#: name → (function, higher_is_better, unit, description)
METRICS: dict[str, tuple[Any, bool, str, str]] = {
    "mse": (mse, False, "", "mean squared error"),
    "rmse": (rmse, False, "", "root mean squared error"),
    "mae": (mae, False, "", "mean absolute error"),
    "max_abs_error": (max_abs_error, False, "", "largest absolute error"),
    "nmse_db": (nmse_db, False, "dB", "normalised MSE"),
    "snr_db": (snr_db, True, "dB", "prediction SNR: target power about the training mean / error power"),
    "snr_gain_db": (snr_gain_db, True, "dB", "prediction SNR minus the baseline's (noisy input, or naive)"),
    "excess_db": (excess_db, False, "dB", "MSE over the Wiener bound's MSE"),
    "log_spectral_distance_db": (log_spectral_distance_db, False, "dB", "RMS log-spectral distance"),
    "excess_float32_db": (excess_float32_db, False, "dB",
                          "error energy over that of the exact target rounded to float32 (the float32 floor)"),
}


@hookimpl
def register_metrics(register: Any) -> None:
    """Register the built-in metrics."""
    for name, (fn, higher, unit, description) in METRICS.items():
        register(name, fn, higher_is_better=higher, unit=unit, description=description,
                 accumulator=ErrorSums.for_metric(name) if name in BLOCKWISE else None)
