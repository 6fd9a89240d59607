r"""FIR filter bank (``fir-bank``): the classical counterpart of a CNN's learned filters.

:math:`B` bands split :math:`(0, f_s/2)` at edges :math:`0 < e_1 < \dots < e_{B-1} < f_s/2` (uniform
by default). Band :math:`b` is a windowed-sinc FIR :math:`h_b` of :math:`N` = ``numtaps`` taps by
:func:`scipy.signal.firwin`: lowpass at :math:`e_1`, bandpass :math:`[e_b, e_{b+1}]`, highpass at
:math:`e_{B-1}`; each is symmetric (linear phase, delay :math:`(N-1)/2`). The band outputs are

.. math::

    u_b(k) = \sum_{n=0}^{N-1} h_b(n)\,x(k-n).

Two uses (``mode``):

``denoise``
    :math:`\hat{d}(k) = \sum_{b \in S} u_b(k)`, keeping the set :math:`S` of bands that carry signal,
    chosen on the training segment: bands are ranked by training output power and the number kept
    is the one with the smallest training error against the targets (or ``keep``). The kept bands
    add up to one FIR :math:`\sum_{b\in S} h_b`, so prediction costs :math:`N` multiply-accumulates.
``features``
    The band outputs at the ``lags`` newest samples, :math:`u_b(k-j)` for :math:`j < ` ``lags``, are the
    features of a least-squares linear predictor (with diagonal ``loading``; several outputs allowed):
    :math:`\hat{\mathbf{d}}(k) = \mathbf{W}^T\mathbf{u}(k)`. Two lags per band fix the phase of a
    narrowband component, which one lag cannot. Cost :math:`(N + L - 1)BL + BL\cdot\text{outputs}`
    multiply-accumulates per output sample (:math:`L` = ``lags``).

Stability: FIR, always stable. An even ``numtaps`` cannot have a passband at Nyquist (the top band
is a highpass), so it is refused. :meth:`FIRBank.filter` filters a whole stream into ``(samples, bands)``
with one :func:`scipy.signal.oaconvolve` call (equal to ``lfilter`` per band up to rounding);
:meth:`FIRBank.frequency_response` gives the responses for plots.

Example
-------
>>> import numpy as np, sigbench as sb
>>> bank = sb.get_processor("fir-bank")(bands=4, numtaps=31)
>>> bank.filter(np.zeros(100)).shape
(100, 4)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, ClassVar

import numpy as np

from sigbench import hookimpl
from sigbench._validate import one_of, positive_float, positive_int
from sigbench.errors import ValidationError
from sigbench.plugins.dsp._adaptive import CHUNK_ROWS, DSPProcessor, predict_linear
from sigbench.plugins.dsp.fir import check_cutoffs, check_nyquist, check_taper

__all__ = ["FIRBank", "design_bank"]

MODES = ("denoise", "features")


def design_bank(numtaps: int, edges: Sequence[float], taper: str, sample_rate: float) -> np.ndarray:
    """Taps ``(len(edges) + 1, numtaps)`` for band ``edges`` in Hz (lowpass, bandpasses, highpass)."""
    from scipy.signal import firwin

    check_nyquist("edges", edges, sample_rate)
    taps = []
    bounds = [0.0, *edges, sample_rate / 2]
    for b in range(len(bounds) - 1):
        lo, hi = bounds[b], bounds[b + 1]
        if b == 0:
            h = firwin(numtaps, hi, window=taper, pass_zero="lowpass", fs=sample_rate)
        elif b == len(bounds) - 2:
            h = firwin(numtaps, lo, window=taper, pass_zero="highpass", fs=sample_rate)
        else:
            h = firwin(numtaps, [lo, hi], window=taper, pass_zero="bandpass", fs=sample_rate)
        taps.append(h)
    return np.asarray(taps, dtype=np.float64)


class FIRBank(DSPProcessor):
    """Bank of ``bands`` windowed-sinc FIR filters, used as a denoiser or as a predictor's front end.

    Parameters
    ----------
    bands : int or None, default None
        Number of bands, >= 2 (uniform edges). ``None``: 8, or ``len(edges) + 1`` when ``edges`` is given.
    edges : sequence of float or None, default None
        Band edges in Hz (cycles/sample when ``sample_rate`` is 1), strictly increasing, inside
        (0, sample_rate/2) (checked at ``fit``). ``None``: uniform.
    numtaps : int, default 63
        Taps per band filter; odd (the top band passes Nyquist).
    taper : str, default "hamming"
        Window function of the design (:func:`scipy.signal.get_window` name).
    mode : {"denoise", "features"}, default "denoise"
        ``denoise``: sum of the kept bands; ``features``: linear least squares on band outputs.
    keep : int or None, default None
        ``denoise``: number of bands kept (the most powerful on the training segment); ``None``:
        chosen by the smallest training error.
    lags : int, default 2
        ``features``: band-output samples per band (the newest ``lags``).
    loading : float, default 0.0
        ``features``: diagonal loading of the least-squares fit, in units of band-output power.

    Raises
    ------
    ValidationError
        ``bands < 2``; ``edges`` not increasing, <= 0, or disagreeing with ``bands``; ``numtaps < 1`` or
        even; unknown ``taper``/``mode``; ``keep`` outside [1, bands]; ``lags < 1``; ``loading < 0``;
        at ``fit``: an edge >= Nyquist, a window shorter than ``numtaps + lags - 1`` (features) or
        ``numtaps`` (denoise), 2-D targets in ``denoise`` mode.

    See Also
    --------
    scipy.signal.firwin, scipy.signal.oaconvolve, scipy.signal.lfilter

    Notes
    -----
    ``taps`` has shape ``(bands, numtaps)``; ``kept`` (denoise) is a boolean mask over bands;
    ``weights`` (features) has shape ``(bands·lags, outputs)``, feature ``b·lags + j`` being band ``b``
    ``j`` samples before the newest.

    Examples
    --------
    >>> import sigbench as sb
    >>> sb.get_processor("fir-bank")(bands=8, numtaps=63, mode="features")
    FIRBank(bands=8, edges=None, numtaps=63, taper='hamming', mode='features', keep=None, lags=2, loading=0.0)
    """

    name: ClassVar[str] = "fir-bank"
    family: ClassVar[str] = "dsp"
    online: ClassVar[bool] = False
    deterministic: ClassVar[bool] = True

    def __init__(self, bands: int | None = None, edges: Sequence[float] | None = None, numtaps: int = 63,
                 taper: str = "hamming", mode: str = "denoise", keep: int | None = None, lags: int = 2,
                 loading: float = 0.0) -> None:
        self.edges: tuple[float, ...] | None = None
        if edges is not None:
            if not isinstance(edges, (list, tuple, np.ndarray)):
                raise ValidationError(
                    f"expected edges to be a sequence of frequencies; received: edges={edges!r}"
                )
            self.edges = check_cutoffs("edges", edges)
        if bands is None:
            self.bands = 8 if self.edges is None else len(self.edges) + 1
        else:
            self.bands = positive_int("bands", bands, minimum=2)
            if self.edges is not None and self.bands != len(self.edges) + 1:
                raise ValidationError(
                    f"expected bands == len(edges) + 1 = {len(self.edges) + 1}; received: bands={bands!r}"
                )
        self.numtaps = positive_int("numtaps", numtaps)
        if self.numtaps % 2 == 0:
            raise ValidationError(
                f"expected an odd numtaps (the top band has its passband at Nyquist); "
                f"received: numtaps={numtaps}"
            )
        self.taper = check_taper(taper, self.numtaps)
        self.mode = one_of("mode", mode, MODES)
        self.keep = None if keep is None else positive_int("keep", keep)
        if self.keep is not None and self.keep > self.bands:
            raise ValidationError(f"expected keep <= bands ({self.bands}); received: keep={keep!r}")
        self.lags = positive_int("lags", lags)
        self.loading = positive_float("loading", loading, allow_zero=True)
        recorded_edges = None if edges is None else list(self.edges or ())
        super().__init__(bands=bands, edges=recorded_edges, numtaps=numtaps, taper=taper, mode=mode,
                         keep=keep, lags=lags, loading=loading)
        self._taps: np.ndarray | None = None
        self.kept = np.zeros(0, dtype=bool)
        self.weights = np.zeros((0, 0))

    # -- design ----------------------------------------------------------------------------------
    def band_edges(self) -> tuple[float, ...]:
        """Band edges in Hz for the current ``sample_rate``."""
        if self.edges is not None:
            return self.edges
        nyquist = self.sample_rate / 2
        return tuple(nyquist * b / self.bands for b in range(1, self.bands))

    @property
    def taps(self) -> np.ndarray:
        """Taps ``(bands, numtaps)`` for the current ``sample_rate`` (designed on first use)."""
        if self._taps is None:
            self._taps = design_bank(self.numtaps, self.band_edges(), self.taper, self.sample_rate)
        return self._taps

    def filter(self, x: np.ndarray) -> np.ndarray:
        """Band outputs of a stream, ``(samples, bands)``: one :func:`scipy.signal.oaconvolve` call.

        Equal (to rounding) to ``np.stack([lfilter(h, 1.0, x) for h in taps], axis=1)``.

        Parameters
        ----------
        x : ndarray, shape ``(samples,)``
        """
        from scipy.signal import oaconvolve

        x = np.asarray(x, dtype=np.float64)
        if x.ndim != 1:
            raise ValidationError(f"expected a 1-D stream; received: x.shape={x.shape}")
        return np.asarray(oaconvolve(x[:, None], self.taps.T, mode="full", axes=0)[: x.shape[0]])

    def frequency_response(self, worN: int = 512) -> tuple[np.ndarray, np.ndarray]:
        """Frequencies (Hz, ``(worN,)``) and complex responses ``(worN, bands)`` by ``freqz``."""
        from scipy.signal import freqz

        worN = positive_int("worN", worN)
        responses = []
        freqs = np.zeros(worN)
        for h in self.taps:
            freqs, resp = freqz(h, worN=worN, fs=self.sample_rate)
            responses.append(resp)
        return np.asarray(freqs), np.stack(responses, axis=1)

    # -- fit / predict ---------------------------------------------------------------------------
    def _span(self) -> int:
        return self.numtaps + (self.lags - 1 if self.mode == "features" else 0)

    def _feature_matrix(self) -> np.ndarray:
        """``G`` ``(numtaps + lags - 1, bands·lags)``: ``window[-span:] @ G`` are the features."""
        span = self.numtaps + self.lags - 1
        g = np.zeros((span, self.bands * self.lags))
        for b, h in enumerate(self.taps):
            for j in range(self.lags):
                g[span - j - self.numtaps: span - j, b * self.lags + j] = h[::-1]
        return g

    def _check_taps(self, window: int) -> None:
        span = self._span()
        if span > window:
            raise ValidationError(
                f"expected window >= {span} samples (numtaps={self.numtaps}"
                + (f" + lags={self.lags} - 1" if self.mode == "features" else "")
                + f"); received: window={window}"
            )

    def _fit(self, inputs: np.ndarray, targets: np.ndarray) -> None:
        self._taps = None
        self._check_taps(int(inputs.shape[1]))
        span = self._span()
        d = targets.reshape(targets.shape[0], -1).astype(np.float64, copy=False)
        if self.mode == "features":
            from sigbench.plugins.dsp.wiener import block_lstsq

            g = self._feature_matrix()
            cols = inputs[:, inputs.shape[1] - span:]
            def features(start: int, stop: int) -> np.ndarray:
                return np.asarray(cols[start:stop], dtype=np.float64) @ g

            self.weights = block_lstsq(features, inputs.shape[0], g.shape[1], d, self.loading)
            self.kept = np.ones(self.bands, dtype=bool)
            return
        if d.shape[1] != 1:
            raise ValidationError(
                f"expected one target per row in mode='denoise'; received: targets.shape={targets.shape}"
            )
        bands = predict_linear(inputs, self.taps[:, ::-1])
        order = np.argsort(-np.mean(np.square(bands), axis=0), kind="stable")
        if self.keep is not None:
            best = self.keep
        else:
            cumulative = np.cumsum(bands[:, order], axis=1)
            errors = [float(np.mean(np.square(cumulative[:, k] - d[:, 0]))) for k in range(self.bands)]
            best = int(np.argmin(errors)) + 1
        self.kept = np.zeros(self.bands, dtype=bool)
        self.kept[order[:best]] = True

    def _predict(self, inputs: np.ndarray) -> np.ndarray:
        if self.mode == "features":
            span = self._span()
            g = self._feature_matrix()
            cols = inputs[:, inputs.shape[1] - span:]
            out = np.empty((inputs.shape[0], self.weights.shape[1]))
            for start in range(0, inputs.shape[0], CHUNK_ROWS):
                stop = min(start + CHUNK_ROWS, inputs.shape[0])
                out[start:stop] = (np.asarray(cols[start:stop], dtype=np.float64) @ g) @ self.weights
            return out
        combined = self.taps[self.kept].sum(axis=0)
        return predict_linear(inputs, combined[::-1][None, :])

    # -- state and cost ------------------------------------------------------------------------
    def get_state(self) -> dict[str, np.ndarray]:
        """``taps`` ``(bands, numtaps)``, ``kept`` ``(bands,)`` and ``weights`` (features mode)."""
        return {"taps": self.taps, "kept": self.kept, "weights": self.weights}

    def set_state(self, state: dict[str, np.ndarray]) -> None:
        """Restore :meth:`get_state`."""
        self._taps = np.array(state["taps"], dtype=np.float64)
        self.kept = np.array(state["kept"], dtype=bool)
        self.weights = np.array(state["weights"], dtype=np.float64)

    def trainable_params(self) -> int:
        """Fitted weights (features) or the kept-band choices (denoise)."""
        return int(self.weights.size) if self.mode == "features" else int(self.bands)

    def macs_per_sample(self) -> float:
        """``numtaps`` (denoise) or ``span·bands·lags + bands·lags·outputs`` (features)."""
        if self.mode == "denoise":
            return float(self.numtaps)
        features = self.bands * self.lags
        return float(self._span() * features + self.weights.size)

    def extra_description(self) -> dict[str, Any]:
        """Band edges (Hz) and the bands kept."""
        return {"band_edges_hz": list(self.band_edges()), "kept_bands": np.flatnonzero(self.kept).tolist()}


@hookimpl
def register_processors(register: Callable[..., None]) -> None:
    """Register ``fir-bank``."""
    register(FIRBank)
