r"""Communications and detection metrics: symbol and bit error rates with Wilson intervals, ROC, AUC,
detection probability at a false-alarm rate, SNR improvement of a canceller; and the theoretical curves
they are read against.

Every metric is ``fn(y_true, y_pred, context) -> float`` (rows pooled), registered through
``register_metrics`` like the built-ins.

================  ===========================================================================================
ser               symbol error rate :math:`\hat p = k/N`: the fraction of rows whose *decided* prediction
                  differs from the decided target (decisions: nearest point of the alphabet, see below)
ser_ci_low/high   the two-sided Wilson score interval of ``ser`` at ``context["confidence"]`` (default 0.95)
ber               bit error rate: decided symbols mapped to Gray-coded bits (``log2 M`` per symbol), bit
                  errors over bits
ber_ci_low/high   Wilson interval of ``ber`` (the bits of one symbol are counted as independent trials: an
                  approximation, tight at low error rates where one symbol error is one bit error)
roc_auc           area under the ROC curve of scores ``y_pred`` for labels ``y_true ≥ 0.5`` (Mann-Whitney,
                  ties counted one half)
pd_at_pfa         detection probability at false-alarm rate ``context["pfa"]`` (default 10⁻²), threshold
                  from the negative rows' scores (see :func:`pd_at_pfa_value`)
snr_improvement_db
                  output SNR − input SNR of an interference canceller, in dB (see :func:`snr_improvement`)
================  ===========================================================================================

Wilson score interval (confidence :math:`1-\alpha`, :math:`z = \Phi^{-1}(1-\alpha/2)`) for
:math:`k` errors in :math:`N` trials:

.. math::

    \frac{\hat p + \frac{z^2}{2N} \pm z\sqrt{\frac{\hat p(1-\hat p)}{N} + \frac{z^2}{4N^2}}}{1 + \frac{z^2}{N}}

It never leaves [0, 1] and stays honest at :math:`k = 0`, where the upper bound is
:math:`z^2/(N + z^2)` (≈ 3.84/N at 95 %, the "rule of three" is 3/N).

The error floor — "no error in N symbols"
    A row with no error has ``ser = 0`` *together with* ``ser_ci_high`` = :math:`z^2/(N+z^2)` > 0: the
    value 0 is never reported alone. :class:`ErrorRate` (from :func:`error_rate`) prints such a row as
    ``no error in 10000 symbols (SER < 3.8e-04, 95 % Wilson)``; a waterfall plot on a log axis draws it
    as an upper-bound marker at ``ser_ci_high`` instead of dropping it (log 0 = −∞).

Decisions
    The alphabet is ``context["alphabet"]`` (the task's, e.g. :func:`pam_alphabet`); without it, the
    distinct target values when there are at most 64 of them (symbol targets), else BPSK {−1, +1}.
    Targets are decided too, so a symbol target stays itself. M-PAM uses the odd-integer levels
    :math:`\{\pm1, \pm3, \dots, \pm(M-1)\}`, level index :math:`i` carrying the Gray code
    :math:`i \oplus (i \gg 1)`.

Theory (real baseband, white Gaussian noise of two-sided PSD :math:`N_0/2`)
    BPSK / 2-PAM: :math:`P_b = Q(\sqrt{2E_b/N_0})`; M-PAM symbol error rate
    :math:`P_s = 2(1-1/M)\,Q\big(\sqrt{6\log_2 M \,E_b/((M^2-1)N_0)}\big)` (:func:`pam_ser_awgn`).
    Known signal of energy :math:`E` in noise of variance :math:`\sigma^2` (matched filter,
    Neyman-Pearson optimum): :math:`P_D = Q\big(Q^{-1}(P_{FA}) - d\big)`, :math:`d = \sqrt{E}/\sigma`,
    :math:`\mathrm{AUC} = \Phi(d/\sqrt2)` (:func:`np_pd_known_signal`). Unknown phase (energy at one
    frequency, Goertzel): :math:`P_D = Q_1(d, \sqrt{-2\ln P_{FA}})`, Marcum's Q (:func:`np_pd_unknown_phase`).

Example
-------
>>> import numpy as np
>>> from sigbench.metrics_comms import error_rate, wilson_interval
>>> str(error_rate(np.ones(10_000), np.ones(10_000)))
'no error in 10000 symbols (SER < 3.8e-04, 95 % Wilson)'
>>> [round(v, 4) for v in wilson_interval(5, 100)]
[0.0215, 0.1118]
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from sigbench.errors import ValidationError
from sigbench.hookspecs import hookimpl

__all__ = [
    "ACCUMULATORS",
    "COMMS_METRICS",
    "ErrorRate",
    "ImprovementSums",
    "RateCounts",
    "auc_value",
    "bit_error_rate",
    "decide",
    "error_rate",
    "gray_bits",
    "np_pd_known_signal",
    "np_pd_unknown_phase",
    "pam_alphabet",
    "pam_ser_awgn",
    "pd_at_pfa_value",
    "q_function",
    "q_inverse",
    "roc_curve",
    "slice_symbols",
    "snr_improvement",
    "wilson_interval",
]

#: most distinct target values read as a symbol alphabet when the context names none
MAX_INFERRED_ALPHABET = 64
#: default confidence of the Wilson intervals
DEFAULT_CONFIDENCE = 0.95
#: default false-alarm rate of ``pd_at_pfa``
DEFAULT_PFA = 1e-2


# -- theory ------------------------------------------------------------------------------------------
def q_function(x: Any) -> Any:
    """Gaussian tail :math:`Q(x) = P(Z > x)`, :math:`Z \\sim N(0, 1)` (float or array)."""
    from scipy.special import ndtr

    return ndtr(-np.asarray(x, dtype=np.float64)) if np.ndim(x) else float(ndtr(-float(x)))


def q_inverse(p: Any) -> Any:
    """Inverse of :func:`q_function`: the :math:`x` with :math:`Q(x) = p`, for ``0 < p < 1``."""
    from scipy.special import ndtri

    return -ndtri(np.asarray(p, dtype=np.float64)) if np.ndim(p) else float(-ndtri(float(p)))


def pam_ser_awgn(ebn0_db: Any, levels: int = 2) -> Any:
    """Symbol error rate of M-PAM with ideal decisions in white Gaussian noise (no ISI).

    Parameters
    ----------
    ebn0_db : float or ndarray
        :math:`E_b/N_0` in dB.
    levels : int, default 2
        M (2: BPSK, whose symbol and bit error rates are both :math:`Q(\\sqrt{2E_b/N_0})`).

    Returns
    -------
    float or ndarray
        :math:`2(1-1/M)\\,Q(\\sqrt{6\\log_2 M\\,(E_b/N_0)/(M^2-1)})`.

    Examples
    --------
    >>> f"{pam_ser_awgn(9.6):.2e}"   # near the textbook 1e-5 point of BPSK
    '9.74e-06'
    """
    m = int(levels)
    ebn0 = 10.0 ** (np.asarray(ebn0_db, dtype=np.float64) / 10.0)
    arg = np.sqrt(6.0 * math.log2(m) * ebn0 / (m * m - 1))
    out = 2.0 * (1.0 - 1.0 / m) * q_function(arg)
    return float(out) if np.ndim(out) == 0 else out


def np_pd_known_signal(pfa: Any, deflection: float) -> Any:
    """Neyman-Pearson detection probability of a known signal in white Gaussian noise (matched filter).

    :math:`P_D = Q(Q^{-1}(P_{FA}) - d)` with :math:`d = \\sqrt{E}/\\sigma` (signal energy over noise
    standard deviation, the deflection).
    """
    return q_function(q_inverse(pfa) - float(deflection))


def np_pd_unknown_phase(pfa: Any, deflection: float) -> Any:
    """Detection probability of a sinusoid of unknown phase by its energy at the known frequency.

    The quadrature statistic :math:`|X|^2` is :math:`\\chi^2_2` under noise alone and non-central
    :math:`\\chi^2_2(d^2)` with the tone (normalised units), so :math:`P_D = Q_1(d, \\sqrt{-2\\ln P_{FA}})`
    (Marcum's Q, via ``scipy.stats.ncx2``).
    """
    from scipy.stats import ncx2

    threshold = -2.0 * np.log(np.asarray(pfa, dtype=np.float64))
    out = ncx2.sf(threshold, 2, float(deflection) ** 2)
    return float(out) if np.ndim(out) == 0 else out


# -- intervals ---------------------------------------------------------------------------------------
def wilson_interval(errors: int, trials: int, confidence: float = DEFAULT_CONFIDENCE) -> tuple[float, float]:
    """Two-sided Wilson score interval of a binomial proportion ``errors / trials``.

    Parameters
    ----------
    errors : int
        Events counted, ``0 <= errors <= trials``.
    trials : int
        Trials, > 0.
    confidence : float, default 0.95
        Two-sided coverage, in (0, 1).

    Returns
    -------
    (low, high) : tuple of float
        In [0, 1]; ``low = 0`` when ``errors = 0`` and ``high = z²/(trials + z²)`` there.

    Raises
    ------
    ValidationError
        ``trials < 1``, ``errors`` outside ``[0, trials]`` or ``confidence`` outside (0, 1).
    """
    k, n = int(errors), int(trials)
    if n < 1 or not 0 <= k <= n:
        raise ValidationError(f"expected 0 <= errors <= trials and trials >= 1; received: errors={errors!r}, "
                              f"trials={trials!r}")
    if not 0.0 < float(confidence) < 1.0:
        raise ValidationError(f"expected 0 < confidence < 1; received: confidence={confidence!r}")
    z = q_inverse((1.0 - float(confidence)) / 2.0)
    p = k / n
    z2 = z * z
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / (1 + z2 / n)
    low = 0.0 if k == 0 else max(0.0, centre - half)
    high = 1.0 if k == n else min(1.0, centre + half)
    return low, high


@dataclass(frozen=True)
class ErrorRate:
    """Errors counted over trials, with the Wilson interval and the text a report shows.

    Attributes
    ----------
    errors, trials : int
    rate : float
        ``errors / trials`` (0 when no error: read it with ``high``).
    low, high : float
        Wilson interval at ``confidence``.
    unit : str
        ``"symbol"`` or ``"bit"``.
    """

    errors: int
    trials: int
    rate: float
    low: float
    high: float
    confidence: float = DEFAULT_CONFIDENCE
    unit: str = "symbol"

    def __str__(self) -> str:
        label = "SER" if self.unit == "symbol" else "BER"
        pct = f"{100 * self.confidence:g} % Wilson"
        if self.errors == 0:
            return f"no error in {self.trials} {self.unit}s ({label} < {self.high:.1e}, {pct})"
        return f"{label} = {self.rate:.2e} [{self.low:.1e}, {self.high:.1e}] ({self.errors} errors in " \
               f"{self.trials} {self.unit}s, {pct})"


# -- decisions ---------------------------------------------------------------------------------------
def pam_alphabet(levels: int = 2) -> np.ndarray:
    """The M-PAM levels :math:`\\{-(M-1), \\dots, -1, 1, \\dots, M-1\\}` (odd integers), ascending.

    Raises
    ------
    ValidationError
        ``levels`` not an even integer >= 2 (2 is BPSK).

    Examples
    --------
    >>> pam_alphabet(4).tolist()
    [-3.0, -1.0, 1.0, 3.0]
    """
    if isinstance(levels, bool) or not isinstance(levels, (int, np.integer)) or levels < 2 or levels % 2:
        raise ValidationError(f"expected levels to be an even integer >= 2 (2 is BPSK); received: levels={levels!r}")
    return np.arange(-(int(levels) - 1), int(levels), 2, dtype=np.float64)


def _alphabet_array(alphabet: Sequence[float] | np.ndarray) -> np.ndarray:
    points = np.unique(np.asarray(alphabet, dtype=np.float64).ravel())
    if points.size < 2 or not np.isfinite(points).all():
        raise ValidationError(f"expected an alphabet of at least two finite points; received: alphabet={alphabet!r}")
    return points


def decide(values: Any, alphabet: Sequence[float] | np.ndarray) -> np.ndarray:
    """Indices of the nearest alphabet point (sorted ascending) for each value: the slicer.

    Ties go to the lower point. Returns an int array of the shape of ``values``.
    """
    points = _alphabet_array(alphabet)
    x = np.asarray(values, dtype=np.float64)
    mids = (points[1:] + points[:-1]) / 2.0
    return np.searchsorted(mids, x, side="left").astype(np.int64)


def slice_symbols(values: Any, alphabet: Sequence[float] | np.ndarray) -> np.ndarray:
    """The decision function of symbol targets: each value replaced by its nearest alphabet point.

    Parameters
    ----------
    values : array_like
        Soft outputs (any shape).
    alphabet : sequence of float
        The constellation, e.g. :func:`pam_alphabet`.

    Returns
    -------
    ndarray of float, the shape of ``values``

    Examples
    --------
    >>> slice_symbols([-2.5, -0.1, 0.2, 7.0], pam_alphabet(4)).tolist()
    [-3.0, -1.0, 1.0, 3.0]
    """
    points = _alphabet_array(alphabet)
    return points[decide(values, points)]


def gray_bits(indices: np.ndarray, bits: int) -> np.ndarray:
    """Gray-coded bits ``(…, bits)`` of level indices (index :math:`i` → :math:`i \\oplus (i \\gg 1)`)."""
    idx = np.asarray(indices, dtype=np.int64)
    gray = idx ^ (idx >> 1)
    return ((gray[..., None] >> np.arange(bits - 1, -1, -1)) & 1).astype(np.int8)


def _context_alphabet(y_true: np.ndarray, context: Mapping[str, Any]) -> np.ndarray:
    given = context.get("alphabet")
    if given is not None:
        return _alphabet_array(given)
    distinct = np.unique(y_true)
    if 2 <= distinct.size <= MAX_INFERRED_ALPHABET:
        return distinct
    return np.array([-1.0, 1.0])


def error_rate(y_true: Any, y_pred: Any, alphabet: Sequence[float] | np.ndarray | None = None, *,
               unit: str = "symbol", confidence: float = DEFAULT_CONFIDENCE) -> ErrorRate:
    """Symbol (or bit) errors of decided predictions against decided targets, with the Wilson interval.

    Parameters
    ----------
    y_true, y_pred : array_like, shape ``(rows,)`` (or any shape; pooled)
        Target symbols and (soft or hard) predictions.
    alphabet : sequence of float, optional
        The constellation; default as in the module notes.
    unit : {"symbol", "bit"}, default "symbol"
        ``"bit"``: Gray-coded bits, ``ceil(log2 M)`` per symbol.
    confidence : float, default 0.95

    Returns
    -------
    ErrorRate

    Raises
    ------
    ValidationError
        Different shapes, no rows, an unknown unit or an invalid alphabet.
    """
    yt = np.asarray(y_true, dtype=np.float64).ravel()
    yp = np.asarray(y_pred, dtype=np.float64).ravel()
    if yt.shape != yp.shape or yt.size == 0:
        raise ValidationError(f"expected y_true and y_pred of one non-empty shape; received: {np.shape(y_true)} "
                              f"and {np.shape(y_pred)}")
    if unit not in ("symbol", "bit"):
        raise ValidationError(f"expected unit 'symbol' or 'bit'; received: unit={unit!r}")
    points = _context_alphabet(yt, {}) if alphabet is None else _alphabet_array(alphabet)
    it, ip = decide(yt, points), decide(yp, points)
    if unit == "symbol":
        errors, trials = int(np.count_nonzero(it != ip)), int(yt.size)
    else:
        bits = max(1, math.ceil(math.log2(points.size)))
        errors = int(np.count_nonzero(gray_bits(it, bits) != gray_bits(ip, bits)))
        trials = int(yt.size * bits)
    low, high = wilson_interval(errors, trials, confidence)
    return ErrorRate(errors, trials, errors / trials, low, high, float(confidence), unit)


def bit_error_rate(y_true: Any, y_pred: Any, alphabet: Sequence[float] | np.ndarray | None = None) -> ErrorRate:
    """:func:`error_rate` with ``unit="bit"``."""
    return error_rate(y_true, y_pred, alphabet, unit="bit")


def _rate(y_true: np.ndarray, y_pred: np.ndarray, context: Mapping[str, Any], unit: str) -> ErrorRate:
    yt = np.asarray(y_true, dtype=np.float64).ravel()
    points = _context_alphabet(yt, context)
    return error_rate(yt, y_pred, points, unit=unit,
                      confidence=float(context.get("confidence", DEFAULT_CONFIDENCE)))


def ser(y_true: np.ndarray, y_pred: np.ndarray, context: dict[str, Any]) -> float:
    """Symbol error rate (read 0 with ``ser_ci_high``: no error in N symbols)."""
    return _rate(y_true, y_pred, context, "symbol").rate


def ser_ci_low(y_true: np.ndarray, y_pred: np.ndarray, context: dict[str, Any]) -> float:
    """Lower Wilson bound of the symbol error rate."""
    return _rate(y_true, y_pred, context, "symbol").low


def ser_ci_high(y_true: np.ndarray, y_pred: np.ndarray, context: dict[str, Any]) -> float:
    """Upper Wilson bound of the symbol error rate (> 0 even with no error)."""
    return _rate(y_true, y_pred, context, "symbol").high


def ber(y_true: np.ndarray, y_pred: np.ndarray, context: dict[str, Any]) -> float:
    """Bit error rate of Gray-coded decisions."""
    return _rate(y_true, y_pred, context, "bit").rate


def ber_ci_low(y_true: np.ndarray, y_pred: np.ndarray, context: dict[str, Any]) -> float:
    """Lower Wilson bound of the bit error rate."""
    return _rate(y_true, y_pred, context, "bit").low


def ber_ci_high(y_true: np.ndarray, y_pred: np.ndarray, context: dict[str, Any]) -> float:
    """Upper Wilson bound of the bit error rate."""
    return _rate(y_true, y_pred, context, "bit").high


# -- detection ---------------------------------------------------------------------------------------
def _labels_scores(labels: Any, scores: Any) -> tuple[np.ndarray, np.ndarray]:
    y = np.asarray(labels, dtype=np.float64).ravel() >= 0.5
    s = np.asarray(scores, dtype=np.float64).ravel()
    if y.shape != s.shape:
        raise ValidationError(f"expected one score per label; received: {np.shape(labels)} and {np.shape(scores)}")
    if not np.isfinite(s).all():
        raise ValidationError("expected finite scores; received: NaN/inf")
    if y.all() or not y.any():
        raise ValidationError(f"expected both classes among the labels (label >= 0.5 is positive); received: "
                              f"{int(y.sum())} positive of {y.size}")
    return y, s


def roc_curve(labels: Any, scores: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Empirical ROC: decide "present" when ``score >= threshold``, for every distinct score as threshold.

    Parameters
    ----------
    labels : array_like, shape ``(rows,)``
        Class targets; ``>= 0.5`` is positive (signal present).
    scores : array_like, shape ``(rows,)``
        Detector scores, larger meaning more likely present.

    Returns
    -------
    pfa, pd, thresholds : ndarray, shape ``(points,)``
        From ``(0, 0)`` (threshold above every score, ``+inf``) to ``(1, 1)``, non-decreasing.

    Raises
    ------
    ValidationError
        Shapes differ, non-finite scores, or only one class present.
    """
    y, s = _labels_scores(labels, scores)
    order = np.argsort(-s, kind="mergesort")
    s_sorted, y_sorted = s[order], y[order]
    last_of_tie = np.r_[np.flatnonzero(np.diff(s_sorted) != 0), s_sorted.size - 1]
    tp = np.cumsum(y_sorted)[last_of_tie]
    fp = np.cumsum(~y_sorted)[last_of_tie]
    pd = np.r_[0.0, tp / y.sum()]
    pfa = np.r_[0.0, fp / (~y).sum()]
    thresholds = np.r_[np.inf, s_sorted[last_of_tie]]
    return pfa, pd, thresholds


def auc_value(labels: Any, scores: Any) -> float:
    """Area under the ROC curve: P(score of a positive > score of a negative), ties counting one half."""
    from scipy.stats import rankdata

    y, s = _labels_scores(labels, scores)
    ranks = rankdata(s)
    n1, n0 = int(y.sum()), int((~y).sum())
    return float((ranks[y].sum() - n1 * (n1 + 1) / 2.0) / (n1 * n0))


def pd_at_pfa_value(labels: Any, scores: Any, pfa: float = DEFAULT_PFA) -> tuple[float, float, float]:
    """Detection probability at a false-alarm rate, with the threshold set on the negatives' scores.

    The threshold is the :math:`(\\lfloor P_{FA} N_0 \\rfloor + 1)`-th largest of the :math:`N_0` negative
    scores, so the achieved false-alarm rate :math:`\\lfloor P_{FA} N_0\\rfloor / N_0` never exceeds
    ``pfa`` (no randomised threshold); with fewer than ``1/pfa`` negatives it is the largest negative
    score (achieved rate 0).

    Returns
    -------
    (pd, achieved_pfa, threshold) : tuple of float

    Raises
    ------
    ValidationError
        ``pfa`` outside (0, 1), or the label/score problems of :func:`roc_curve`.
    """
    if not 0.0 < float(pfa) < 1.0:
        raise ValidationError(f"expected 0 < pfa < 1; received: pfa={pfa!r}")
    y, s = _labels_scores(labels, scores)
    negatives = np.sort(s[~y])[::-1]
    k = math.floor(float(pfa) * negatives.size)
    threshold = float(negatives[k])
    return float(np.mean(s[y] > threshold)), float(np.mean(negatives > threshold)), threshold


def roc_auc(y_true: np.ndarray, y_pred: np.ndarray, context: dict[str, Any]) -> float:
    """Area under the ROC curve (labels ``y_true >= 0.5``, scores ``y_pred``)."""
    return auc_value(y_true, y_pred)


def pd_at_pfa(y_true: np.ndarray, y_pred: np.ndarray, context: dict[str, Any]) -> float:
    """Detection probability at ``context["pfa"]`` (default 1e-2)."""
    return pd_at_pfa_value(y_true, y_pred, float(context.get("pfa", DEFAULT_PFA)))[0]


# -- cancellation ------------------------------------------------------------------------------------
def snr_improvement(primary: Any, estimate: Any, clean: Any | None = None) -> float:
    """SNR improvement in dB of the canceller output ``primary − estimate`` over the primary input.

    Parameters
    ----------
    primary : array_like, shape ``(rows,)``
        :math:`d = s + n'`: the primary sensor at each target sample (the canceller's target).
    estimate : array_like, shape ``(rows,)``
        :math:`\\hat n'`: the canceller's estimate of the interference (its prediction of ``primary``
        from the reference).
    clean : array_like, shape ``(rows,)``, optional
        :math:`s`: the wanted signal, when the source knows it.

    Returns
    -------
    float
        With ``clean``: :math:`10\\log_{10}\\big(\\sum(d-s)^2 / \\sum(d-\\hat n'-s)^2\\big)`, i.e.
        :math:`\\mathrm{SNR}_{out} - \\mathrm{SNR}_{in}`. Without it: the output power reduction
        :math:`10\\log_{10}\\big(\\sum d^2/\\sum(d-\\hat n')^2\\big)`, which is a *lower* bound of the SNR
        improvement whenever the canceller helps (the wanted signal's power sits in both sums).
        ``+inf`` for a perfect cancellation.
    """
    from sigbench.metrics import db_ratio

    d = np.asarray(primary, dtype=np.float64)
    e = d - np.asarray(estimate, dtype=np.float64)
    if clean is None:
        return db_ratio(float(np.sum(d * d)), float(np.sum(e * e)))
    s = np.asarray(clean, dtype=np.float64).reshape(d.shape)
    return db_ratio(float(np.sum((d - s) ** 2)), float(np.sum((e - s) ** 2)))


def snr_improvement_db(y_true: np.ndarray, y_pred: np.ndarray, context: dict[str, Any]) -> float:
    """Canceller SNR improvement in dB (needs ``context["clean_at_target"]`` for the exact value)."""
    return snr_improvement(y_true, y_pred, context.get("clean_at_target"))


# -- accumulated forms (rows read from a file: memory stays flat) -------------------------------------
class RateCounts:
    """Errors and trials of ``ser``/``ber`` (and their Wilson bounds) counted block by block: the metric
    accumulator protocol (``add(y_true, y_pred, context)``, ``value(context)``). Equal to the whole-array metric
    when the context names the alphabet (the ``equalise`` task's does)."""

    def __init__(self, metric: str) -> None:
        self.metric = metric
        self.unit = "symbol" if metric.startswith("ser") else "bit"
        self.errors = 0
        self.trials = 0

    @classmethod
    def for_metric(cls, metric: str) -> Any:
        """A factory of accumulators of ``metric``."""
        return lambda: cls(metric)

    def add(self, y_true: Any, y_pred: Any, context: dict[str, Any]) -> None:
        """Count one block's errors."""
        rate = _rate(np.asarray(y_true), np.asarray(y_pred), context, self.unit)
        self.errors += rate.errors
        self.trials += rate.trials

    def value(self, context: dict[str, Any]) -> float:
        """The rate, or its lower/upper Wilson bound, over every block."""
        if self.trials == 0:
            raise ValueError(f"{self.metric}: no rows")
        low, high = wilson_interval(self.errors, self.trials, float(context.get("confidence", DEFAULT_CONFIDENCE)))
        if self.metric.endswith("_ci_low"):
            return low
        if self.metric.endswith("_ci_high"):
            return high
        return self.errors / self.trials


class ImprovementSums:
    """The two power sums of ``snr_improvement_db`` accumulated block by block (with ``clean_at_target`` per
    block when the task gives it, as :func:`snr_improvement`)."""

    def __init__(self) -> None:
        self.before = 0.0
        self.after = 0.0

    def add(self, y_true: Any, y_pred: Any, context: dict[str, Any]) -> None:
        """Fold one block in."""
        d = np.asarray(y_true, dtype=np.float64)
        e = d - np.asarray(y_pred, dtype=np.float64)
        clean = context.get("clean_at_target")
        s = np.zeros_like(d) if clean is None else np.asarray(clean, dtype=np.float64).reshape(d.shape)
        self.before += float(np.sum((d - s) ** 2))
        self.after += float(np.sum((e - s) ** 2))

    def value(self, context: dict[str, Any]) -> float:
        """10·log10(before/after)."""
        from sigbench.metrics import db_ratio

        return db_ratio(self.before, self.after)


#: name → accumulator factory of the metrics that have one
ACCUMULATORS: dict[str, Any] = {
    **{name: RateCounts.for_metric(name) for name in ("ser", "ser_ci_low", "ser_ci_high", "ber", "ber_ci_low",
                                                       "ber_ci_high")},
    "snr_improvement_db": ImprovementSums,
}


#: name → (function, higher_is_better, unit, description)
COMMS_METRICS: dict[str, tuple[Any, bool, str, str]] = {
    "ser": (ser, False, "", "symbol error rate (0 means: no error in N symbols, read with ser_ci_high)"),
    "ser_ci_low": (ser_ci_low, False, "", "lower Wilson bound of the symbol error rate"),
    "ser_ci_high": (ser_ci_high, False, "", "upper Wilson bound of the symbol error rate"),
    "ber": (ber, False, "", "bit error rate, Gray-coded PAM (0 means: no error, read with ber_ci_high)"),
    "ber_ci_low": (ber_ci_low, False, "", "lower Wilson bound of the bit error rate"),
    "ber_ci_high": (ber_ci_high, False, "", "upper Wilson bound of the bit error rate"),
    "roc_auc": (roc_auc, True, "", "area under the ROC curve (scores against labels >= 0.5)"),
    "pd_at_pfa": (pd_at_pfa, True, "", "detection probability at false-alarm rate 1e-2 (context['pfa'])"),
    "snr_improvement_db": (snr_improvement_db, True, "dB", "canceller output SNR minus primary input SNR"),
}


@hookimpl
def register_metrics(register: Any) -> None:
    """Register the communications and detection metrics."""
    for name, (fn, higher, unit, description) in COMMS_METRICS.items():
        register(name, fn, higher_is_better=higher, unit=unit, description=description,
                 accumulator=ACCUMULATORS.get(name))
