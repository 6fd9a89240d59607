r"""Windowed-sinc FIR filter (``fir``): a fixed lowpass, highpass, bandpass or bandstop design.

Taps by the window method (:func:`scipy.signal.firwin`): the ideal response sampled around the centre
:math:`M = (N-1)/2`, times a taper :math:`v(n)`,

.. math::

    h(n) = v(n)\,\big[2 f_c \,\mathrm{sinc}(2 f_c (n - M))\big] \quad (\text{lowpass, } f_c
    \text{ in cycles/sample}), \qquad y(k) = \sum_{n=0}^{N-1} h(n)\, x(k - n),

with :math:`N` = ``numtaps``. Band filters combine such terms; the passband gain is scaled to 1 at DC
(lowpass, bandstop), Nyquist (highpass) or the band centre (bandpass). The taps are symmetric,
:math:`h(n) = h(N-1-n)`: linear phase, group delay :math:`M` samples.

As a processor, the output for a window is the filter output at its newest sample
(:math:`y(k)` with :math:`x(k)` = last column) — a denoiser that lags by :math:`M` samples. Nothing is
fitted: ``fit`` designs the taps for ``sample_rate`` (cutoffs in Hz; with the default
``sample_rate=1.0`` in cycles/sample, Nyquist 0.5) and checks ``numtaps <= window``.

Stability: always stable (no feedback). Cost per output sample: :math:`N` multiply-accumulates
(:math:`\lceil N/2\rceil` exploiting symmetry); memory :math:`N` taps.

Example
-------
>>> import numpy as np, sigbench as sb
>>> f = sb.get_processor("fir")(numtaps=31, cutoff=0.1)
>>> y = f.filter(np.ones(100))          # scipy.signal.lfilter(taps, 1.0, x)
>>> round(float(y[-1]), 6)               # unit gain at DC
1.0
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, ClassVar

import numpy as np

from sigbench import hookimpl
from sigbench._validate import finite_float, one_of, positive_int
from sigbench.errors import ValidationError
from sigbench.plugins.dsp._adaptive import DSPProcessor

__all__ = ["FIR", "check_cutoffs", "check_taper", "design"]

KINDS = ("lowpass", "highpass", "bandpass", "bandstop")


def check_cutoffs(name: str, value: Any) -> tuple[float, ...]:
    """Validate one cutoff or a sequence: finite, > 0, strictly increasing (Nyquist is checked at design)."""
    values = value if isinstance(value, (list, tuple, np.ndarray)) else [value]
    if len(values) == 0:
        raise ValidationError(f"expected at least one frequency in {name}; received: {name}={value!r}")
    floats = tuple(finite_float(name, v) for v in values)
    if any(v <= 0 for v in floats):
        raise ValidationError(f"expected {name} > 0 Hz; received: {name}={value!r}")
    if any(floats[i + 1] <= floats[i] for i in range(len(floats) - 1)):
        raise ValidationError(f"expected {name} strictly increasing; received: {name}={value!r}")
    return floats


def check_nyquist(name: str, cutoffs: Sequence[float], sample_rate: float) -> None:
    """Reject cutoffs at or above the Nyquist frequency ``sample_rate / 2``."""
    nyquist = sample_rate / 2
    if any(c >= nyquist for c in cutoffs):
        raise ValidationError(
            f"expected {name} in (0, {nyquist:g}) Hz (below Nyquist for sample_rate={sample_rate:g}); "
            f"received: {name}={list(cutoffs)!r}"
        )


def check_taper(taper: Any, numtaps: int) -> str:
    """Validate a :func:`scipy.signal.get_window` name."""
    from scipy.signal import get_window

    if not isinstance(taper, str):
        raise ValidationError(f"expected taper to be a window-function name; received: taper={taper!r}")
    try:
        get_window(taper, numtaps)
    except (ValueError, TypeError):
        raise ValidationError(
            f"expected taper to be a scipy.signal.get_window name like 'hamming'; received: taper={taper!r}"
        ) from None
    return taper


def design(numtaps: int, cutoff: Sequence[float], kind: str, taper: str, sample_rate: float) -> np.ndarray:
    """Taps of a ``kind`` filter by :func:`scipy.signal.firwin` (cutoffs in Hz for ``sample_rate``)."""
    from scipy.signal import firwin

    check_nyquist("cutoff", cutoff, sample_rate)
    pass_zero: bool | str = kind
    return np.asarray(firwin(numtaps, list(cutoff), window=taper, pass_zero=pass_zero, fs=sample_rate))


class FIR(DSPProcessor):
    """Fixed windowed-sinc FIR filter designed with :func:`scipy.signal.firwin`.

    Parameters
    ----------
    numtaps : int, default 63
        Number of taps, >= 1 (odd for ``highpass``/``bandstop``: an even-length linear-phase filter
        has a zero at Nyquist).
    cutoff : float or sequence of float, default 0.1
        Cutoff frequency in Hz (cycles/sample when ``sample_rate`` is 1): one value for
        ``lowpass``/``highpass``, two increasing values for ``bandpass``/``bandstop``. Must lie in
        (0, sample_rate/2), checked when the sample rate is known (``fit``).
    kind : {"lowpass", "highpass", "bandpass", "bandstop"}, default "lowpass"
    taper : str, default "hamming"
        Window function of the design (:func:`scipy.signal.get_window` name).

    Raises
    ------
    ValidationError
        ``numtaps < 1``; a cutoff <= 0, not finite or not increasing; wrong number of cutoffs for
        ``kind``; even ``numtaps`` with a passband at Nyquist; unknown ``taper`` or ``kind``; at
        ``fit``: a cutoff >= Nyquist, ``numtaps > window``.

    See Also
    --------
    scipy.signal.firwin, scipy.signal.lfilter, scipy.signal.freqz

    Notes
    -----
    ``numtaps`` multiply-accumulates per output sample. :meth:`filter` filters a whole stream;
    :meth:`frequency_response` gives the response for plots.

    Examples
    --------
    >>> import sigbench as sb
    >>> sb.get_processor("fir")(numtaps=63, cutoff=[0.05, 0.15], kind="bandpass")
    FIR(numtaps=63, cutoff=[0.05, 0.15], kind='bandpass', taper='hamming')
    """

    name: ClassVar[str] = "fir"
    family: ClassVar[str] = "dsp"
    online: ClassVar[bool] = False
    deterministic: ClassVar[bool] = True

    def __init__(self, numtaps: int = 63, cutoff: float | Sequence[float] = 0.1, kind: str = "lowpass",
                 taper: str = "hamming") -> None:
        self.numtaps = positive_int("numtaps", numtaps)
        self.cutoff = check_cutoffs("cutoff", cutoff)
        self.kind = one_of("kind", kind, KINDS)
        want = 1 if kind in ("lowpass", "highpass") else 2
        if len(self.cutoff) != want:
            raise ValidationError(
                f"expected {want} cutoff value(s) for kind={kind!r}; received: cutoff={cutoff!r}"
            )
        if kind in ("highpass", "bandstop") and self.numtaps % 2 == 0:
            raise ValidationError(
                f"expected an odd numtaps for kind={kind!r} (passband at Nyquist); "
                f"received: numtaps={numtaps}"
            )
        self.taper = check_taper(taper, self.numtaps)
        params_cutoff: Any = list(self.cutoff) if isinstance(cutoff, (list, tuple, np.ndarray)) else cutoff
        super().__init__(numtaps=numtaps, cutoff=params_cutoff, kind=kind, taper=taper)
        self._taps: np.ndarray | None = None

    @property
    def taps(self) -> np.ndarray:
        """Filter taps ``(numtaps,)`` for the current ``sample_rate`` (designed on first use)."""
        if self._taps is None:
            self._taps = design(self.numtaps, self.cutoff, self.kind, self.taper, self.sample_rate)
        return self._taps

    def _check_taps(self, window: int) -> None:
        if self.numtaps > window:
            raise ValidationError(f"expected numtaps <= window ({window} samples); received: numtaps={self.numtaps}")

    def _fit(self, inputs: np.ndarray, targets: np.ndarray) -> None:
        if targets.ndim != 1 and targets.shape[1] != 1:
            raise ValidationError(
                f"expected one target per row (a filter has one output); received: targets.shape={targets.shape}"
            )
        if self.numtaps > inputs.shape[1]:
            raise ValidationError(
                f"expected numtaps <= window ({inputs.shape[1]} samples); received: numtaps={self.numtaps}"
            )
        self._taps = None
        _ = self.taps

    def _predict(self, inputs: np.ndarray) -> np.ndarray:
        from sigbench.plugins.dsp._adaptive import predict_linear

        return predict_linear(inputs, self.taps[::-1][None, :])

    def filter(self, x: np.ndarray) -> np.ndarray:
        """Filter a stream: exactly ``scipy.signal.lfilter(self.taps, 1.0, x)``.

        Parameters
        ----------
        x : ndarray, shape ``(samples,)``

        Returns
        -------
        ndarray, shape ``(samples,)``
        """
        from scipy.signal import lfilter

        return np.asarray(lfilter(self.taps, 1.0, np.asarray(x, dtype=np.float64)))

    def frequency_response(self, worN: int = 512) -> tuple[np.ndarray, np.ndarray]:
        """Frequencies (Hz, ``(worN,)``) and complex response ``(worN,)`` from :func:`scipy.signal.freqz`."""
        from scipy.signal import freqz

        freqs, response = freqz(self.taps, worN=positive_int("worN", worN), fs=self.sample_rate)
        return np.asarray(freqs), np.asarray(response)

    def get_state(self) -> dict[str, np.ndarray]:
        """``taps``, shape ``(numtaps,)``."""
        return {"taps": self.taps}

    def set_state(self, state: dict[str, np.ndarray]) -> None:
        """Restore :meth:`get_state`."""
        self._taps = np.array(state["taps"], dtype=np.float64)

    def macs_per_sample(self) -> float:
        """``numtaps``."""
        return float(self.numtaps)

    def extra_description(self) -> dict[str, Any]:
        """Group delay in samples and the sample rate the cutoffs refer to."""
        return {"group_delay_samples": (self.numtaps - 1) / 2, "sample_rate": self.sample_rate}


@hookimpl
def register_processors(register: Callable[..., None]) -> None:
    """Register ``fir``."""
    register(FIR)
