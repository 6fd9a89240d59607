r"""Tone detectors producing scores: the matched filter (``matched-filter``, the Neyman-Pearson optimum for
a known signal in white Gaussian noise) and the Goertzel energy detector (``energy-detector``, for a
tone of known frequency and unknown phase).

Each row is one detection window :math:`x[0..W-1]` (the ``detect`` task's segment); the output is a
score per row, larger meaning "tone present"; a threshold :math:`\tau` decides, and the ROC is traced by
sweeping it (``sigbench.metrics_comms.roc_curve``, ``roc_auc``, ``pd_at_pfa``).

Matched filter — with the unit-norm template :math:`\hat t = t/\lVert t\rVert`,
:math:`t[m] = \cos(2\pi f m / f_s + \phi)` (or, without ``frequency_hz``, the difference of the mean
tone-present and tone-absent training windows):

.. math::

    T_{MF} = \frac{\hat t^T \mathbf x}{\hat\sigma} \sim N(0, 1) \;(H_0), \quad N(d, 1) \;(H_1),
    \qquad d = \frac{\sqrt{E}}{\sigma}, \qquad P_D = Q\big(Q^{-1}(P_{FA}) - d\big),

where :math:`\hat\sigma^2` is the training windows' power orthogonal to the template (pure noise under
both hypotheses). Cost: :math:`W` multiply-accumulates per window.

Energy (Goertzel) detector — the power of the DFT at the tone's frequency, bin
:math:`m = fW/f_s` (Goertzel's recursion, :math:`W + 2` multiply-accumulates):

.. math::

    T_{E} = \frac{2\,|X(m)|^2}{W\hat\sigma^2} \sim \chi^2_2 \;(H_0), \quad \chi^2_2(d^2) \;(H_1),
    \qquad P_{FA} = e^{-\tau/2}, \qquad P_D = Q_1\big(d, \sqrt{-2\ln P_{FA}}\big),

with :math:`\hat\sigma^2` the mean power of the tone-absent training windows (of all of them when none
is labelled absent). It needs no phase: it is the generalised-likelihood detector of a sinusoid of
unknown phase, and loses about 1 dB to the matched filter when the phase is known. Without
``frequency_hz`` it takes the DFT bin with the largest mean power difference between the two classes
of training windows.

Targets at ``fit`` are class labels (``>= 0.5`` means tone present); they are needed only to learn a
template, a frequency or the noise level from tone-absent windows.

Example
-------
>>> import numpy as np, sigbench as sb
>>> sig = sb.generate("tone-detect", n=64 * 2000, segment=64, snr_db=-10, seed=0)
>>> X, labels = sig.data.reshape(-1, 64), np.asarray(sig.metadata["segment_labels"], dtype=float)
>>> mf = sb.get_processor("matched-filter")(frequency_hz=1000.0).fit(X[:1000], labels[:1000], sample_rate=8000.0)
>>> from sigbench.metrics_comms import auc_value
>>> auc_value(labels[1000:], mf.predict(X[1000:])) > 0.9
True
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any, ClassVar

import numpy as np

from sigbench import hookimpl
from sigbench._validate import finite_float, positive_float
from sigbench.errors import ValidationError
from sigbench.plugins.dsp._adaptive import DSPProcessor
from sigbench.plugins.dsp.fft import goertzel

__all__ = ["EnergyDetector", "MatchedFilter"]


def _labels(name: str, targets: np.ndarray) -> np.ndarray:
    if targets.ndim == 2 and targets.shape[1] != 1:
        raise ValidationError(f"expected one class label per row for {name}; received: targets.shape={targets.shape}")
    return np.asarray(targets, dtype=np.float64).reshape(-1) >= 0.5


def _both_classes(name: str, labels: np.ndarray, what: str) -> None:
    if labels.all() or not labels.any():
        raise ValidationError(f"expected training windows of both classes (label >= 0.5 and < 0.5) for {name} to "
                              f"learn {what}; received: {int(labels.sum())} positive of {labels.size}")


def _rows(inputs: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(inputs, dtype=np.float64)


class _Detector(DSPProcessor):
    """Shared frequency check of the two detectors."""

    family: ClassVar[str] = "dsp"
    online: ClassVar[bool] = False
    causal: ClassVar[bool] = True
    deterministic: ClassVar[bool] = True

    def __init__(self, frequency_hz: float | None, **params: Any) -> None:
        self.frequency_param = None if frequency_hz is None else positive_float("frequency_hz", frequency_hz)
        super().__init__(frequency_hz=frequency_hz, **params)
        self.noise_std = math.nan

    def _check_frequency(self) -> None:
        if self.frequency_param is not None and self.frequency_param >= self.sample_rate / 2.0:
            raise ValidationError(f"expected frequency_hz below the Nyquist frequency {self.sample_rate / 2.0:g} Hz "
                                  f"(sample_rate/2); received: frequency_hz={self.frequency_param!r}")


class MatchedFilter(_Detector):
    """Matched-filter detector: correlation with a unit-norm template, in units of the noise deviation.

    Parameters
    ----------
    frequency_hz : float or None, default None
        Tone frequency in Hz (below ``sample_rate/2`` of ``fit``); ``None``: learn the template from the
        training windows (mean tone-present minus mean tone-absent window).
    phase_rad : float, default 0.0
        Tone phase at each window's first sample, in radians.

    Raises
    ------
    ValidationError
        ``frequency_hz <= 0`` or non-finite phase; at ``fit``: a frequency at or above Nyquist, 2-D
        targets, or a learned template without windows of both classes.

    Notes
    -----
    Scores of shape ``(rows,)``: :math:`N(0, 1)` on noise alone, :math:`N(d, 1)` with the tone.
    Cost: ``window`` multiply-accumulates per window.

    Examples
    --------
    >>> import sigbench as sb
    >>> sb.get_processor("matched-filter")(frequency_hz=1000.0)
    MatchedFilter(frequency_hz=1000.0, phase_rad=0.0)
    """

    name: ClassVar[str] = "matched-filter"
    #: the model limit it serves (the ``tone-detect`` source's oracle)
    tasks: ClassVar[tuple[str, ...]] = ("detect",)
    limit_label: ClassVar[str] = "matched filter, known tone"

    @classmethod
    def from_metadata(cls, metadata: Mapping[str, Any]) -> _Detector:
        """The Neyman-Pearson optimum of a ``tone-detect`` signal: the matched filter at its ``frequency_hz``
        when the tone's phase is known (0 at each segment's start), the energy detector at that frequency when
        the phase is random (the generalised-likelihood detector of a sinusoid of unknown phase)."""
        params = dict(metadata.get("params") or {})
        freq = metadata.get("frequency_hz", params.get("frequency_hz"))
        if freq is None:
            raise ValidationError("expected the tone's frequency_hz in the signal's metadata; received: none")
        if (metadata.get("phase") or params.get("phase") or "known") == "random":
            return EnergyDetector(frequency_hz=float(freq))
        return cls(frequency_hz=float(freq))

    def __init__(self, frequency_hz: float | None = None, phase_rad: float = 0.0) -> None:
        self.phase_rad = finite_float("phase_rad", phase_rad)
        super().__init__(frequency_hz, phase_rad=phase_rad)
        self.template = np.zeros(0)

    def _fit(self, inputs: np.ndarray, targets: np.ndarray) -> None:
        labels = _labels(self.name, targets)
        self._check_frequency()
        x = _rows(inputs)
        window = x.shape[1]
        if self.frequency_param is None:
            _both_classes(self.name, labels, "a template")
            t = x[labels].mean(axis=0) - x[~labels].mean(axis=0)
        else:
            m = np.arange(window)
            t = np.cos(2.0 * math.pi * self.frequency_param * m / self.sample_rate + self.phase_rad)
        norm = float(np.linalg.norm(t))
        if norm == 0.0:
            raise ValidationError("expected a template with non-zero energy; received: an all-zero template")
        self.template = t / norm
        residual = x - np.outer(x @ self.template, self.template)
        power = float(np.sum(residual * residual)) / (x.shape[0] * max(window - 1, 1))
        self.noise_std = math.sqrt(power) if power > 0 else 1.0

    def _predict(self, inputs: np.ndarray) -> np.ndarray:
        return (_rows(inputs) @ self.template) / self.noise_std

    def get_state(self) -> dict[str, np.ndarray]:
        """Unit-norm ``template`` ``(window,)`` and the estimated ``noise_std``."""
        return {"template": self.template, "noise_std": np.asarray(self.noise_std)}

    def set_state(self, state: dict[str, np.ndarray]) -> None:
        """Restore :meth:`get_state`."""
        self.template = np.array(state["template"], dtype=np.float64)
        self.noise_std = float(state["noise_std"])

    def trainable_params(self) -> int:
        """Template samples when learnt, else 1 (the noise level)."""
        return int(self.template.size) + 1 if self.frequency_param is None else 1

    def macs_per_sample(self) -> float:
        """One multiply-accumulate per window sample (per output: ``window``)."""
        return float(self.template.size)

    def extra_description(self) -> dict[str, Any]:
        """Template origin and the estimated noise deviation."""
        return {"template": "learned" if self.frequency_param is None else "tone", "noise_std": self.noise_std}


class EnergyDetector(_Detector):
    """Goertzel energy detector: normalised power of one DFT bin, :math:`\\chi^2_2` under noise alone.

    Parameters
    ----------
    frequency_hz : float or None, default None
        Tone frequency in Hz (below ``sample_rate/2``); ``None``: the DFT bin whose mean power differs
        most between tone-present and tone-absent training windows.

    Raises
    ------
    ValidationError
        ``frequency_hz <= 0``; at ``fit``: a frequency at or above Nyquist, 2-D targets, or no given
        frequency and no windows of both classes.

    Notes
    -----
    Scores of shape ``(rows,)``, :math:`2|X|^2/(W\\hat\\sigma^2)`. Cost: ``window + 2``
    multiply-accumulates per window (the Goertzel recursion).

    Examples
    --------
    >>> import sigbench as sb
    >>> sb.get_processor("energy-detector")(frequency_hz=1000.0)
    EnergyDetector(frequency_hz=1000.0)
    """

    name: ClassVar[str] = "energy-detector"
    tasks: ClassVar[tuple[str, ...]] = ("detect",)
    limit_label: ClassVar[str] = "energy detector, known frequency"

    def __init__(self, frequency_hz: float | None = None) -> None:
        super().__init__(frequency_hz)
        self.bin = math.nan
        self.window_len = 0

    def _fit(self, inputs: np.ndarray, targets: np.ndarray) -> None:
        labels = _labels(self.name, targets)
        self._check_frequency()
        x = _rows(inputs)
        window = x.shape[1]
        if self.frequency_param is None:
            _both_classes(self.name, labels, "the tone's frequency")
            power = np.abs(np.fft.rfft(x, axis=1)) ** 2
            diff = power[labels].mean(axis=0) - power[~labels].mean(axis=0)
            self.bin = float(np.argmax(diff[1:]) + 1) if diff.size > 1 else 0.0
        else:
            self.bin = self.frequency_param * window / self.sample_rate
        quiet = x[~labels] if (~labels).any() else x
        power_noise = float(np.mean(quiet * quiet))
        self.noise_std = math.sqrt(power_noise) if power_noise > 0 else 1.0
        self.window_len = window

    def _predict(self, inputs: np.ndarray) -> np.ndarray:
        spectrum = goertzel(_rows(inputs), self.bin)
        return 2.0 * np.abs(spectrum) ** 2 / (self.window_len * self.noise_std**2)

    def get_state(self) -> dict[str, np.ndarray]:
        """DFT ``bin`` (cycles per window), ``noise_std`` and ``window``."""
        return {"bin": np.asarray(self.bin), "noise_std": np.asarray(self.noise_std),
                "window": np.asarray(self.window_len, dtype=np.int64)}

    def set_state(self, state: dict[str, np.ndarray]) -> None:
        """Restore :meth:`get_state`."""
        self.bin = float(state["bin"])
        self.noise_std = float(state["noise_std"])
        self.window_len = int(state["window"])

    def trainable_params(self) -> int:
        """The noise level, plus the bin when learnt."""
        return 1 if self.frequency_param is not None else 2

    def macs_per_sample(self) -> float:
        """``window + 2`` (Goertzel recursion and the final power)."""
        return float(self.window_len + 2)

    def extra_description(self) -> dict[str, Any]:
        """Bin, its frequency in Hz, and the estimated noise deviation."""
        return {"bin": self.bin, "frequency_hz_used": self.bin * self.sample_rate / max(self.window_len, 1),
                "noise_std": self.noise_std}


@hookimpl
def register_processors(register: Callable[..., None]) -> None:
    """Register ``matched-filter`` and ``energy-detector``."""
    register(MatchedFilter)
    register(EnergyDetector)
