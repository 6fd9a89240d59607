r"""Spectrum baselines: ``fft`` (the whole one-sided spectrum) and ``goertzel`` (chosen bins).

For a frame :math:`x(0..N-1)` (one window, :math:`N` = ``window``) with taper :math:`v(n)`, the
one-sided DFT is

.. math::

    X(m) = c \sum_{n=0}^{N-1} v(n)\,x(n)\, e^{-2\pi i m n / N}, \qquad m = 0, \dots, \lfloor N/2 \rfloor,

with :math:`c = 1/\sqrt{N}` for ``norm="ortho"`` (the ``spectrum`` task's convention), 1 for
``"backward"``, :math:`1/N` for ``"forward"``. The ``complex`` output is
``concatenate([X.real, X.imag])``, shape ``(2·(N//2 + 1),)`` — the ``spectrum`` task's target layout
(rectangular taper ``"boxcar"``); ``magnitude`` is :math:`|X(m)|`, ``power`` :math:`|X(m)|^2`.
The ``fft`` processor is exact by definition (nothing fitted); it is the reference the neural "DFT"
networks are measured against. ``dtype="float32"`` computes it in single precision (frames rounded to
float32, a complex64 transform): the FFT in a float32 network's own arithmetic, whose rounding error
(about 142 dB below the spectrum's power for N = 64 on white noise, 10 dB above the exact spectrum
stored in float32 — ``excess_float32_db``) is the fair yardstick of such a network.

Goertzel computes one bin :math:`m` (not necessarily an integer) with the second-order recursion

.. math::

    s(n) = x(n) + 2\cos(\omega)\, s(n-1) - s(n-2), \qquad \omega = 2\pi m / N,

    X(m) = e^{-i\omega(N-1)}\big(s(N-1) - e^{-i\omega} s(N-2)\big), \qquad s(-1) = s(-2) = 0,

one real multiply-add per sample and bin — cheaper than an FFT when fewer than about
:math:`\log_2 N` bins are needed (single-tone detection, DTMF). Its error grows linearly with
:math:`N` for bins near DC/Nyquist (the recursion is marginally stable on the unit circle); for
frames up to a few thousand samples it matches the FFT to about :math:`10^{-12}` relative.

Cost per output row: ``fft`` about :math:`2N\log_2 N` real multiply-accumulates; ``goertzel``
:math:`N + 2` per bin.

Example
-------
>>> import numpy as np
>>> from sigbench.plugins.dsp.fft import goertzel
>>> x = np.cos(2 * np.pi * 4 * np.arange(64) / 64)
>>> np.round(goertzel(x, 4), 6)          # = np.fft.fft(x)[4]
np.complex128(32+0j)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import ClassVar

import numpy as np

from sigbench import hookimpl
from sigbench._validate import finite_float, one_of
from sigbench.errors import ValidationError
from sigbench.plugins.dsp._adaptive import DSPProcessor
from sigbench.plugins.dsp.fir import check_taper

__all__ = ["FFT", "Goertzel", "goertzel"]

OUTPUTS = ("complex", "magnitude", "power")
NORMS = ("ortho", "backward", "forward")
DTYPES = ("float64", "float32")


def goertzel(x: np.ndarray, bin: float | Sequence[float] | np.ndarray) -> np.ndarray:
    """DFT bin(s) of the frame(s) ``x`` by the Goertzel recursion.

    Parameters
    ----------
    x : ndarray, shape ``(N,)`` or ``(rows, N)``
        Frames along the last axis (samples).
    bin : float or sequence of float
        Bin index :math:`m` (cycles per frame; need not be an integer), for several bins a sequence.

    Returns
    -------
    complex ndarray
        :math:`X(m) = \\sum_n x(n) e^{-2\\pi i m n/N}` (unnormalised, ``np.fft.fft`` convention),
        shape ``x.shape[:-1]`` for one bin or ``x.shape[:-1] + (len(bin),)`` for a sequence.

    Raises
    ------
    ValidationError
        ``x`` is empty or not finite; ``bin`` not finite.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.random.default_rng(0).normal(size=32)
    >>> bool(np.isclose(goertzel(x, 3), np.fft.fft(x)[3]))
    True
    """
    arr = np.asarray(x, dtype=np.float64)
    if arr.ndim == 0 or arr.shape[-1] == 0:
        raise ValidationError(f"expected frames with at least one sample; received: x.shape={arr.shape}")
    if not np.isfinite(arr).all():
        raise ValidationError("expected finite samples; received: NaN/inf in x")
    single = not isinstance(bin, (list, tuple, np.ndarray))
    bins = np.array([finite_float("bin", b) for b in ([bin] if single else bin)], dtype=np.float64)  # type: ignore[union-attr]
    n = arr.shape[-1]
    omega = 2 * np.pi * bins / n
    coeff = 2 * np.cos(omega)
    shape = (*arr.shape[:-1], bins.size)
    s1 = np.zeros(shape)
    s2 = np.zeros(shape)
    for k in range(n):
        s0 = arr[..., k, None] + coeff * s1 - s2
        s2 = s1
        s1 = s0
    # y(N-1) = s(N-1) - e^{-iω} s(N-2) equals e^{iω(N-1)} X(m); shift the phase back to n = 0
    value = (s1 - np.exp(-1j * omega) * s2) * np.exp(-1j * omega * (n - 1))
    return value[..., 0] if single else value


def _layout(spec: np.ndarray, output: str) -> np.ndarray:
    if output == "complex":
        return np.concatenate([spec.real, spec.imag], axis=-1)
    if output == "magnitude":
        return np.abs(spec)
    return np.square(spec.real) + np.square(spec.imag)


def _scale(norm: str, n: int) -> float:
    return {"ortho": 1 / np.sqrt(n), "backward": 1.0, "forward": 1 / n}[norm]


class FFT(DSPProcessor):
    """One-sided spectrum of each window by :func:`scipy.fft.rfft` (the ``spectrum`` task's baseline).

    Parameters
    ----------
    taper : str, default "boxcar"
        Window function applied to the frame (:func:`scipy.signal.get_window` name, periodic form);
        ``"boxcar"`` is rectangular (the ``spectrum`` task's target).
    output : {"complex", "magnitude", "power"}, default "complex"
        ``complex``: ``[Re X, Im X]``, ``(2·(window//2 + 1),)`` per row; ``magnitude``: ``|X|``;
        ``power``: ``|X|²`` (``(window//2 + 1,)`` per row).
    norm : {"ortho", "backward", "forward"}, default "ortho"
        Scaling of :func:`scipy.fft.rfft`.
    dtype : {"float64", "float32"}, default "float64"
        Arithmetic of the transform: ``float32`` rounds each frame to float32 and transforms in single
        precision (the outputs are returned as float64 all the same).

    Raises
    ------
    ValidationError
        Unknown ``taper``, ``output``, ``norm`` or ``dtype``; at ``fit``: targets whose width is not the
        spectrum's.

    Notes
    -----
    Exact by definition (in float64): nothing is fitted. About ``2·window·log2(window)`` real multiply-adds
    per row.

    Examples
    --------
    >>> import numpy as np, sigbench as sb
    >>> X = np.random.default_rng(0).normal(size=(10, 64))
    >>> Y = np.fft.rfft(X, norm="ortho")
    >>> f = sb.get_processor("fft")().fit(X, np.concatenate([Y.real, Y.imag], axis=1))
    >>> bool(np.allclose(f.predict(X)[:, :33], Y.real))
    True
    """

    name: ClassVar[str] = "fft"
    family: ClassVar[str] = "dsp"
    online: ClassVar[bool] = False
    deterministic: ClassVar[bool] = True

    def __init__(self, taper: str = "boxcar", output: str = "complex", norm: str = "ortho",
                 dtype: str = "float64") -> None:
        self.taper = check_taper(taper, 8)
        self.output = one_of("output", output, OUTPUTS)
        self.norm = one_of("norm", norm, NORMS)
        self.dtype = one_of("dtype", dtype, DTYPES)
        super().__init__(taper=taper, output=output, norm=norm, dtype=dtype)

    def _width(self, window: int) -> int:
        bins = window // 2 + 1
        return 2 * bins if self.output == "complex" else bins

    def _taper(self, window: int) -> np.ndarray:
        from scipy.signal import get_window

        return np.asarray(get_window(self.taper, window, fftbins=True), dtype=np.float64)

    def _fit(self, inputs: np.ndarray, targets: np.ndarray) -> None:
        want = self._width(inputs.shape[1])
        width = 1 if targets.ndim == 1 else targets.shape[1]
        if width != want:
            raise ValidationError(
                f"expected targets of {want} values per row (output={self.output!r} of a "
                f"{inputs.shape[1]}-sample window); received: targets.shape={targets.shape}"
            )

    def _predict(self, inputs: np.ndarray) -> np.ndarray:
        from scipy.fft import rfft

        from sigbench.plugins.dsp._adaptive import CHUNK_ROWS

        window = inputs.shape[1]
        dtype = np.dtype(self.dtype)
        taper = self._taper(window).astype(dtype)
        out = np.empty((inputs.shape[0], self._width(window)))
        for start in range(0, inputs.shape[0], CHUNK_ROWS):
            stop = min(start + CHUNK_ROWS, inputs.shape[0])
            frames = np.asarray(inputs[start:stop], dtype=dtype)
            if self.taper != "boxcar":
                frames = frames * taper
            out[start:stop] = _layout(rfft(frames, axis=1, norm=self.norm), self.output)
        return out

    def macs_per_sample(self) -> float:
        """About ``2·window·log2(window)`` (a real FFT), plus ``window`` for a non-rectangular taper."""
        n = int(self.input_window or 1)
        return float(2 * n * np.log2(max(n, 2)) + (n if self.taper != "boxcar" else 0))


class Goertzel(FFT):
    """Selected DFT bins of each window by the Goertzel recursion (single-bin detection).

    Parameters
    ----------
    freqs : sequence of float or None, default None
        Frequencies in Hz (cycles/sample when ``sample_rate`` is 1), in [0, sample_rate/2]; each is
        evaluated at bin ``freq · window / sample_rate`` (need not be an integer). ``None``: every
        bin ``0..window//2`` — then the ``complex`` output equals ``fft``'s.
    output : {"complex", "magnitude", "power"}, default "complex"
        ``complex``: ``[Re X, Im X]`` of the bins; ``magnitude``/``power``: ``|X|``/``|X|²`` per bin.
    norm : {"ortho", "backward", "forward"}, default "ortho"

    Raises
    ------
    ValidationError
        A frequency < 0 or not finite; unknown ``output``/``norm``; at ``fit``: a frequency above
        Nyquist, targets of the wrong width.

    Notes
    -----
    ``window + 2`` real multiply-adds per bin and row (rectangular frame).

    Examples
    --------
    >>> import sigbench as sb
    >>> sb.get_processor("goertzel")(freqs=[697.0, 1209.0], output="power")
    Goertzel(freqs=[697.0, 1209.0], output='power', norm='ortho')
    """

    name: ClassVar[str] = "goertzel"

    def __init__(self, freqs: Sequence[float] | None = None, output: str = "complex",
                 norm: str = "ortho") -> None:
        self.freqs: tuple[float, ...] | None = None
        if freqs is not None:
            if not isinstance(freqs, (list, tuple, np.ndarray)) or len(freqs) == 0:
                raise ValidationError(
                    f"expected freqs to be a non-empty sequence of Hz; received: freqs={freqs!r}"
                )
            self.freqs = tuple(finite_float("freqs", f) for f in freqs)
            if any(f < 0 for f in self.freqs):
                raise ValidationError(f"expected freqs >= 0 Hz; received: freqs={freqs!r}")
        self.taper = "boxcar"
        self.dtype = "float64"
        self.output = one_of("output", output, OUTPUTS)
        self.norm = one_of("norm", norm, NORMS)
        recorded = None if freqs is None else list(self.freqs or ())
        DSPProcessor.__init__(self, freqs=recorded, output=output, norm=norm)

    def _bins(self, window: int) -> np.ndarray:
        if self.freqs is None:
            return np.arange(window // 2 + 1, dtype=np.float64)
        return np.asarray(self.freqs) * window / self.sample_rate

    def _width(self, window: int) -> int:
        bins = self._bins(window).size
        return 2 * bins if self.output == "complex" else bins

    def _fit(self, inputs: np.ndarray, targets: np.ndarray) -> None:
        if self.freqs is not None and any(f > self.sample_rate / 2 for f in self.freqs):
            raise ValidationError(
                f"expected freqs in [0, {self.sample_rate / 2:g}] Hz (Nyquist for "
                f"sample_rate={self.sample_rate:g}); received: freqs={list(self.freqs)!r}"
            )
        super()._fit(inputs, targets)

    def _predict(self, inputs: np.ndarray) -> np.ndarray:
        from sigbench.plugins.dsp._adaptive import CHUNK_ROWS

        window = inputs.shape[1]
        bins = self._bins(window)
        scale = _scale(self.norm, window)
        out = np.empty((inputs.shape[0], self._width(window)))
        for start in range(0, inputs.shape[0], CHUNK_ROWS):
            stop = min(start + CHUNK_ROWS, inputs.shape[0])
            spec = goertzel(np.asarray(inputs[start:stop]), bins) * scale
            out[start:stop] = _layout(spec, self.output)
        return out

    def macs_per_sample(self) -> float:
        """``(window + 2)`` per bin."""
        n = int(self.input_window or 1)
        return float((n + 2) * self._bins(n).size)


@hookimpl
def register_processors(register: Callable[..., None]) -> None:
    """Register ``fft`` and ``goertzel``."""
    register(FFT)
    register(Goertzel)
