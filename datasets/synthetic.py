"""Synthetic signal generators: the founding ``sines`` signal, tones, chirps, AR processes, square and
sawtooth waves, the Mackey-Glass chaotic series and coloured noise.

Every generator is ``name(n, seed, *, …) -> Signal``: ``n`` samples, one ``np.random.default_rng(seed)``
for all random draws, and keyword parameters with type annotations (the CLI converts ``--param k=v``
strings with them) and defaults. Each stores the noiseless ``clean`` reference (except ``noise``) and
``metadata`` with ``source``, ``params``, ``seed``, ``sigbench_version``, ``noise_convention`` and the
``noise_std`` actually used.

Maths
-----
Observation noise (every source with ``snr_db``): ``x[k] = s[k] + σ·w[k]``, ``w ~ N(0, 1)`` white, with

* ``noise_convention="sigma"``: σ = 10^(−SNR/20) (the founding write-up; the true SNR then depends on
  the power of ``s``: for the three unit sines it is about SNR + 1.76 dB);
* ``noise_convention="true"``: σ² = mean(s²) / 10^(SNR/10), so E[mean(s²)/mean((x−s)²)] matches SNR.

``snr_db=inf`` means no noise (σ = 0).

Founding signal: ``s(t) = Σ_i a_i sin(ω_i t)``, ``t = k·step_s``, ω = (1, π/2, −3π/2) rad/s, a = 1.

AR(p): ``x[k] = Σ_{i=1}^{p} c_i x[k−i] + e[k]``, ``e ~ N(0, noise_std²)``; stationary iff every root of
``z^p − c_1 z^{p−1} − … − c_p`` lies strictly inside the unit circle.

Mackey-Glass: ``dx/dt = β x(t−τ) / (1 + x(t−τ)^p) − γ x(t)``, classic β = 0.2, γ = 0.1, p = 10, τ = 17
(chaotic for τ ≳ 16.8), constant history x0 = 1.2; integrated by fourth-order Runge-Kutta with a fixed
step ``dt`` (the delayed value at half steps by cubic Hermite interpolation), then subsampled every
``sample_step`` time units.

Coloured noise: white Gaussian noise shaped in the frequency domain by f^(−α/2), PSD ∝ f^(−α): white
α = 0, pink α = 1 (−10 dB/decade), brown α = 2 (−20 dB/decade), blue α = −1, violet α = −2.

Cost: every generator is O(n) (``noise`` O(n log n)); Mackey-Glass runs a Python loop of
``n·sample_step/dt`` RK4 steps (about 0.3 s for the defaults).

Example
-------
>>> import sigbench as sb
>>> sig = sb.generate("sines", n=5000, snr_db=10, seed=0)
>>> sig.sample_rate_hz, sig.data.shape
(10.0, (5000,))
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from sigbench import hookimpl
from sigbench._validate import finite_float, in_range, one_of, positive_float, positive_int
from sigbench.datasets._common import (
    COLORS,
    add_noise,
    broadcast,
    check_convention,
    check_n,
    check_seed,
    check_snr_db,
    colored_noise,
    float_tuple,
    make_metadata,
)
from sigbench.errors import ValidationError
from sigbench.signal import Signal


def _sps() -> Any:
    """``scipy.signal``, imported on first use (it costs seconds at start-up)."""
    import scipy.signal

    return scipy.signal

__all__ = [
    "CHIRP_METHODS",
    "ar",
    "ar_roots",
    "chirp",
    "mackey_glass",
    "noise",
    "sawtooth",
    "sines",
    "square",
    "tones",
]

#: frequency laws of :func:`chirp` (those of :func:`scipy.signal.chirp`)
CHIRP_METHODS = ("linear", "quadratic", "logarithmic", "hyperbolic")
#: upper bound of the automatic AR burn-in (samples)
_MAX_AUTO_BURN_IN = 1_000_000

_FOUNDING_FREQUENCIES = (1.0, math.pi / 2.0, -3.0 * math.pi / 2.0)
_FOUNDING_AMPLITUDES = (1.0, 1.0, 1.0)


def _below_nyquist(name: str, freqs_hz: tuple[float, ...], sample_rate_hz: float) -> None:
    nyquist = sample_rate_hz / 2.0
    for f in freqs_hz:
        if abs(f) >= nyquist:
            raise ValidationError(
                f"expected |{name}| below the Nyquist frequency {nyquist:g} Hz (sample_rate_hz/2); "
                f"received: {name}={f!r}"
            )


def _finish(
    source: str,
    clean: np.ndarray,
    sample_rate_hz: float,
    seed: int,
    snr_db: float,
    convention: str,
    rng: np.random.Generator,
    params: dict[str, Any],
    **extra: Any,
) -> Signal:
    data, sigma = add_noise(clean, snr_db, convention, rng)
    meta = make_metadata(source, params, seed=seed, noise_convention=convention, noise_std_=sigma, **extra)
    return Signal(data=data, sample_rate_hz=sample_rate_hz, clean=clean, metadata=meta, name=source.replace("-", "_"))


# -- the founding signal ---------------------------------------------------------------------------
def sines(
    n: int = 5000,
    seed: int = 0,
    *,
    step_s: float = 0.1,
    frequencies_rad_s: tuple[float, ...] = _FOUNDING_FREQUENCIES,
    amplitudes: tuple[float, ...] = _FOUNDING_AMPLITUDES,
    snr_db: float = 10.0,
    noise_convention: str = "sigma",
) -> Signal:
    """The founding signal: ``sin(t) + sin(πt/2) + sin(−3πt/2)`` sampled every 0.1 s, plus white noise.

    Parameters
    ----------
    n : int, default 5000
        Number of samples (≥ 1).
    seed : int, default 0
        Seed of the noise generator (≥ 0).
    step_s : float, default 0.1
        Sampling step in seconds (> 0); ``sample_rate_hz = 1 / step_s`` (10 Hz by default).
    frequencies_rad_s : tuple of float, default (1, π/2, −3π/2)
        Angular frequencies ω_i in rad/s; each |ω_i| must stay below the Nyquist rate π / step_s.
    amplitudes : tuple of float, default (1, 1, 1)
        Amplitude of each sine (one value, broadcast, or one per frequency); left at its default, every
        sine has amplitude 1 whatever the number of frequencies.
    snr_db : float, default 10.0
        Signal-to-noise ratio in dB; ``inf`` for no noise.
    noise_convention : {"sigma", "true"}, default "sigma"
        ``"sigma"``: noise standard deviation σ = 10^(−snr_db/20) (the founding write-up);
        ``"true"``: σ² = clean power / 10^(snr_db/10).

    Returns
    -------
    Signal
        ``data`` and ``clean`` of shape ``(n,)``, ``sample_rate_hz = 1/step_s``, ``t0_s = 0``.

    Raises
    ------
    ValidationError
        ``n < 1``, ``seed < 0``, ``step_s <= 0``/NaN/inf, a non-finite frequency or amplitude, a frequency at
        or above Nyquist, ``amplitudes`` of the wrong length, NaN or −inf ``snr_db``, an unknown convention,
        or the ``"true"`` convention on an all-zero clean signal.

    Examples
    --------
    >>> from sigbench.datasets.synthetic import sines
    >>> sig = sines(n=5000, seed=0, snr_db=10)
    >>> round(sig.metadata["noise_std"], 4)  # σ = 10^(−10/20)
    0.3162
    """
    n = check_n(n)
    seed = check_seed(seed)
    step = positive_float("step_s", step_s)
    omegas = float_tuple("frequencies_rad_s", frequencies_rad_s)
    if amplitudes is _FOUNDING_AMPLITUDES:  # left at its default: unit amplitude for any number of sines
        amplitudes = (1.0,)
    amps = broadcast("amplitudes", float_tuple("amplitudes", amplitudes), len(omegas), "frequency")
    snr = check_snr_db(snr_db)
    convention = check_convention(noise_convention)
    for w in omegas:
        if abs(w) * step >= math.pi:
            raise ValidationError(
                f"expected |frequencies_rad_s| below the Nyquist rate π/step_s = {math.pi / step:g} rad/s; "
                f"received: frequencies_rad_s={w!r}"
            )
    rng = np.random.default_rng(seed)
    t = np.arange(n) * step
    clean = np.zeros(n)
    for a, w in zip(amps, omegas, strict=True):
        clean += a * np.sin(w * t)
    params = {
        "n": n,
        "seed": seed,
        "step_s": step,
        "frequencies_rad_s": omegas,
        "amplitudes": amps,
        "snr_db": snr,
        "noise_convention": convention,
    }
    return _finish("sines", clean, 1.0 / step, seed, snr, convention, rng, params)


def tones(
    n: int = 5000,
    seed: int = 0,
    *,
    sample_rate_hz: float = 1000.0,
    frequencies_hz: tuple[float, ...] = (50.0, 120.0),
    amplitudes: tuple[float, ...] = (1.0,),
    phases_rad: tuple[float, ...] = (0.0,),
    snr_db: float = 20.0,
    noise_convention: str = "true",
) -> Signal:
    """A sum of cosines ``Σ a_i cos(2π f_i t + φ_i)`` plus white Gaussian noise.

    Parameters
    ----------
    n : int, default 5000
        Number of samples (≥ 1).
    seed : int, default 0
        Seed of the noise generator (≥ 0).
    sample_rate_hz : float, default 1000.0
        Sampling rate in Hz (> 0).
    frequencies_hz : tuple of float, default (50, 120)
        Tone frequencies in Hz, each |f_i| < sample_rate_hz / 2.
    amplitudes : tuple of float, default (1,)
        Amplitudes (one value, broadcast, or one per tone).
    phases_rad : tuple of float, default (0,)
        Phases in radians (one value, broadcast, or one per tone).
    snr_db : float, default 20.0
        Signal-to-noise ratio in dB; ``inf`` for no noise.
    noise_convention : {"true", "sigma"}, default "true"
        How ``snr_db`` sets the noise level (see :func:`sines`).

    Returns
    -------
    Signal
        ``data`` and ``clean`` of shape ``(n,)``.

    Raises
    ------
    ValidationError
        Invalid ``n``/``seed``/``sample_rate_hz``, a tone at or above Nyquist,
        ``amplitudes``/``phases_rad`` of the wrong length or non-finite, invalid ``snr_db`` or convention.

    Examples
    --------
    >>> from sigbench.datasets.synthetic import tones
    >>> sig = tones(n=1000, sample_rate_hz=8000, frequencies_hz=(440, 880), snr_db=30)
    >>> sig.data.shape
    (1000,)
    """
    n = check_n(n)
    seed = check_seed(seed)
    rate = positive_float("sample_rate_hz", sample_rate_hz)
    freqs = float_tuple("frequencies_hz", frequencies_hz)
    amps = broadcast("amplitudes", float_tuple("amplitudes", amplitudes), len(freqs), "tone")
    phases = broadcast("phases_rad", float_tuple("phases_rad", phases_rad), len(freqs), "tone")
    snr = check_snr_db(snr_db)
    convention = check_convention(noise_convention)
    _below_nyquist("frequencies_hz", freqs, rate)
    rng = np.random.default_rng(seed)
    t = np.arange(n) / rate
    clean = np.zeros(n)
    for a, f, p in zip(amps, freqs, phases, strict=True):
        clean += a * np.cos(2.0 * math.pi * f * t + p)
    params = {
        "n": n,
        "seed": seed,
        "sample_rate_hz": rate,
        "frequencies_hz": freqs,
        "amplitudes": amps,
        "phases_rad": phases,
        "snr_db": snr,
        "noise_convention": convention,
    }
    return _finish("tones", clean, rate, seed, snr, convention, rng, params)


def chirp(
    n: int = 5000,
    seed: int = 0,
    *,
    sample_rate_hz: float = 1000.0,
    f0_hz: float = 10.0,
    f1_hz: float = 200.0,
    method: str = "linear",
    amplitude: float = 1.0,
    phase_deg: float = 0.0,
    snr_db: float = 20.0,
    noise_convention: str = "true",
) -> Signal:
    """A frequency sweep from ``f0_hz`` at the first sample to ``f1_hz`` at the last sample.

    Built with :func:`scipy.signal.chirp`.

    Parameters
    ----------
    n : int, default 5000
        Number of samples (≥ 2).
    seed : int, default 0
        Seed of the noise generator (≥ 0).
    sample_rate_hz : float, default 1000.0
        Sampling rate in Hz (> 0).
    f0_hz, f1_hz : float, default 10.0 and 200.0
        Start and end frequency in Hz, in ``[0, sample_rate_hz/2)``; both > 0 for ``logarithmic`` and
        ``hyperbolic``.
    method : {"linear", "quadratic", "logarithmic", "hyperbolic"}, default "linear"
        Frequency law f(t) (as in scipy).
    amplitude : float, default 1.0
        Peak amplitude.
    phase_deg : float, default 0.0
        Phase at t = 0, in degrees (scipy's ``phi``).
    snr_db : float, default 20.0
        Signal-to-noise ratio in dB; ``inf`` for no noise.
    noise_convention : {"true", "sigma"}, default "true"
        How ``snr_db`` sets the noise level (see :func:`sines`).

    Returns
    -------
    Signal
        ``data`` and ``clean`` of shape ``(n,)``; the sweep lasts ``(n − 1) / sample_rate_hz`` seconds.

    Raises
    ------
    ValidationError
        Invalid ``n``/``seed``/``sample_rate_hz``, a frequency out of ``[0, Nyquist)``, an unknown method, a
        zero frequency with ``logarithmic``/``hyperbolic``, non-finite amplitude or phase, invalid ``snr_db``.

    Examples
    --------
    >>> from sigbench.datasets.synthetic import chirp
    >>> sig = chirp(n=2000, sample_rate_hz=1000, f0_hz=5, f1_hz=100)
    >>> sig.duration_s
    2.0
    """
    n = check_n(n, minimum=2)
    seed = check_seed(seed)
    rate = positive_float("sample_rate_hz", sample_rate_hz)
    nyquist = rate / 2.0
    f0 = in_range("f0_hz", f0_hz, 0.0, nyquist, high_open=True)
    f1 = in_range("f1_hz", f1_hz, 0.0, nyquist, high_open=True)
    law = one_of("method", method, CHIRP_METHODS)
    if law in ("logarithmic", "hyperbolic") and (f0 == 0.0 or f1 == 0.0):
        raise ValidationError(
            f"expected f0_hz > 0 and f1_hz > 0 for a {law} chirp; received: f0_hz={f0_hz!r}, f1_hz={f1_hz!r}"
        )
    amp = finite_float("amplitude", amplitude)
    phase = finite_float("phase_deg", phase_deg)
    snr = check_snr_db(snr_db)
    convention = check_convention(noise_convention)
    rng = np.random.default_rng(seed)
    t = np.arange(n) / rate
    t1 = (n - 1) / rate
    if law == "hyperbolic" and f0 == f1:
        clean = amp * np.cos(2.0 * math.pi * f0 * t + math.radians(phase))  # scipy divides by f0 - f1
    else:
        clean = amp * _sps().chirp(t, f0=f0, t1=t1, f1=f1, method=law, phi=phase)
    params = {
        "n": n,
        "seed": seed,
        "sample_rate_hz": rate,
        "f0_hz": f0,
        "f1_hz": f1,
        "method": law,
        "amplitude": amp,
        "phase_deg": phase,
        "snr_db": snr,
        "noise_convention": convention,
    }
    return _finish("chirp", clean, rate, seed, snr, convention, rng, params)


# -- autoregressive process ------------------------------------------------------------------------
def ar_roots(coefficients: tuple[float, ...]) -> np.ndarray:
    """Roots of ``z^p − c_1 z^{p−1} − … − c_p``, the poles of the AR(p) filter ``1 / (1 − Σ c_i z^{−i})``.

    Parameters
    ----------
    coefficients : tuple of float
        AR coefficients ``c_1 … c_p`` in the convention ``x[k] = Σ c_i x[k−i] + e[k]``.

    Returns
    -------
    ndarray, shape ``(p,)``
        Complex poles; the process is stationary iff all have modulus < 1.

    Examples
    --------
    >>> import numpy as np
    >>> from sigbench.datasets.synthetic import ar_roots
    >>> float(np.abs(ar_roots((0.5,)))[0])
    0.5
    """
    return np.roots(np.concatenate([[1.0], -np.asarray(coefficients, dtype=float)]))


def ar(
    n: int = 5000,
    seed: int = 0,
    *,
    coefficients: tuple[float, ...] = (0.75, -0.5),
    noise_std: float = 1.0,
    burn_in: int = 1000,
    sample_rate_hz: float = 1.0,
    snr_db: float = math.inf,
    noise_convention: str = "true",
) -> Signal:
    """A stationary autoregressive AR(p) process ``x[k] = Σ c_i x[k−i] + e[k]``, ``e ~ N(0, noise_std²)``.

    Generated with :func:`scipy.signal.lfilter` from zero initial state; the first samples (the burn-in)
    are discarded so the output is stationary.

    Parameters
    ----------
    n : int, default 5000
        Number of samples (≥ 1).
    seed : int, default 0
        Seed of the driving and observation noise (≥ 0).
    coefficients : tuple of float, default (0.75, −0.5)
        AR coefficients ``c_1 … c_p``; every root of ``z^p − c_1 z^{p−1} − … − c_p`` must lie strictly inside
        the unit circle.
    noise_std : float, default 1.0
        Standard deviation of the driving (innovation) noise ``e`` (> 0).
    burn_in : int, default 1000
        Samples discarded at the start (≥ 0). Raised automatically, up to 10^6, until the slowest pole's
        transient has decayed by 10^−6 (the value used is ``metadata["burn_in_used"]``).
    sample_rate_hz : float, default 1.0
        Sampling rate in Hz (> 0).
    snr_db : float, default inf
        Observation noise added on top of the process, in dB; ``inf`` (default) adds none and ``data``
        equals ``clean``, the AR process.
    noise_convention : {"true", "sigma"}, default "true"
        How ``snr_db`` sets the observation noise level (see :func:`sines`).

    Returns
    -------
    Signal
        ``data`` and ``clean`` (the AR process) of shape ``(n,)``.

    Raises
    ------
    ValidationError
        Invalid ``n``/``seed``/``sample_rate_hz``/``burn_in``, empty or non-finite coefficients, an unstable
        (or marginally stable) process — the message gives the largest pole modulus —, ``noise_std <= 0``,
        invalid ``snr_db`` or convention.

    Examples
    --------
    >>> from sigbench.datasets.synthetic import ar
    >>> sig = ar(n=20000, coefficients=(0.9,), seed=1)
    >>> bool(abs(sig.data.var() - 1 / (1 - 0.9**2)) < 0.5)  # theory: 1 / (1 − 0.9²) ≈ 5.26
    True
    """
    n = check_n(n)
    seed = check_seed(seed)
    coefs = float_tuple("coefficients", coefficients)
    std = positive_float("noise_std", noise_std)
    burn = positive_int("burn_in", burn_in, minimum=0)
    rate = positive_float("sample_rate_hz", sample_rate_hz)
    snr = check_snr_db(snr_db)
    convention = check_convention(noise_convention)
    radius = float(np.max(np.abs(ar_roots(coefs))))
    if not radius < 1.0:
        raise ValidationError(
            "expected a stable AR process (every root of z^p − c_1 z^(p−1) − … − c_p inside the unit "
            "circle); "
            f"received: coefficients={coefs!r} (largest root modulus {radius:.6g})"
        )
    auto = 0 if radius == 0.0 else math.ceil(math.log(1e-6) / math.log(radius))
    burn_used = max(burn, min(auto, _MAX_AUTO_BURN_IN))
    rng = np.random.default_rng(seed)
    e = std * rng.standard_normal(n + burn_used)
    x = _sps().lfilter([1.0], np.concatenate([[1.0], -np.asarray(coefs)]), e)[burn_used:]
    clean = np.ascontiguousarray(x)
    params = {
        "n": n,
        "seed": seed,
        "coefficients": coefs,
        "noise_std": std,
        "burn_in": burn,
        "sample_rate_hz": rate,
        "snr_db": snr,
        "noise_convention": convention,
    }
    return _finish(
        "ar",
        clean,
        rate,
        seed,
        snr,
        convention,
        rng,
        params,
        burn_in_used=burn_used,
        process={"type": "ar", "coefficients": coefs, "noise_std": std},
    )


# -- periodic waveforms ----------------------------------------------------------------------------
def _periodic(
    source: str,
    wave: Callable[[np.ndarray], np.ndarray],
    n: int,
    seed: int,
    rate: float,
    params: dict[str, Any],
    snr: float,
    convention: str,
    amp: float,
    freq: float,
    phase: float,
) -> Signal:
    rng = np.random.default_rng(seed)
    t = np.arange(n) / rate
    clean = amp * wave(2.0 * math.pi * freq * t + phase)
    return _finish(source, clean, rate, seed, snr, convention, rng, params)


def square(
    n: int = 5000,
    seed: int = 0,
    *,
    sample_rate_hz: float = 1000.0,
    frequency_hz: float = 5.0,
    duty: float = 0.5,
    amplitude: float = 1.0,
    phase_rad: float = 0.0,
    snr_db: float = 20.0,
    noise_convention: str = "true",
) -> Signal:
    """A square wave ±``amplitude`` (:func:`scipy.signal.square`) plus white Gaussian noise.

    Parameters
    ----------
    n : int, default 5000
        Number of samples (≥ 1).
    seed : int, default 0
        Seed of the noise generator (≥ 0).
    sample_rate_hz : float, default 1000.0
        Sampling rate in Hz (> 0).
    frequency_hz : float, default 5.0
        Fundamental frequency in Hz, in ``(0, sample_rate_hz/2)``.
    duty : float, default 0.5
        Fraction of each period at +amplitude, in [0, 1].
    amplitude : float, default 1.0
        Peak amplitude.
    phase_rad : float, default 0.0
        Phase offset in radians.
    snr_db : float, default 20.0
        Signal-to-noise ratio in dB; ``inf`` for no noise.
    noise_convention : {"true", "sigma"}, default "true"
        How ``snr_db`` sets the noise level (see :func:`sines`).

    Returns
    -------
    Signal
        ``data`` and ``clean`` of shape ``(n,)``.

    Raises
    ------
    ValidationError
        Invalid ``n``/``seed``/``sample_rate_hz``, ``frequency_hz`` not in ``(0, Nyquist)``, ``duty`` outside
        [0, 1], non-finite amplitude or phase, invalid ``snr_db`` or convention.

    Examples
    --------
    >>> from sigbench.datasets.synthetic import square
    >>> sig = square(n=1000, frequency_hz=10, snr_db=float("inf"))
    >>> sorted(set(sig.clean.tolist()))
    [-1.0, 1.0]
    """
    n = check_n(n)
    seed = check_seed(seed)
    rate = positive_float("sample_rate_hz", sample_rate_hz)
    freq = in_range("frequency_hz", frequency_hz, 0.0, rate / 2.0, low_open=True, high_open=True)
    d = in_range("duty", duty, 0.0, 1.0)
    amp = finite_float("amplitude", amplitude)
    phase = finite_float("phase_rad", phase_rad)
    snr = check_snr_db(snr_db)
    convention = check_convention(noise_convention)
    params = {
        "n": n,
        "seed": seed,
        "sample_rate_hz": rate,
        "frequency_hz": freq,
        "duty": d,
        "amplitude": amp,
        "phase_rad": phase,
        "snr_db": snr,
        "noise_convention": convention,
    }
    return _periodic(
        "square", lambda x: _sps().square(x, duty=d), n, seed, rate, params, snr, convention, amp, freq, phase
    )


def sawtooth(
    n: int = 5000,
    seed: int = 0,
    *,
    sample_rate_hz: float = 1000.0,
    frequency_hz: float = 5.0,
    width: float = 1.0,
    amplitude: float = 1.0,
    phase_rad: float = 0.0,
    snr_db: float = 20.0,
    noise_convention: str = "true",
) -> Signal:
    """A sawtooth (or, with ``width=0.5``, triangle) wave (:func:`scipy.signal.sawtooth`) plus white noise.

    Parameters
    ----------
    n : int, default 5000
        Number of samples (≥ 1).
    seed : int, default 0
        Seed of the noise generator (≥ 0).
    sample_rate_hz : float, default 1000.0
        Sampling rate in Hz (> 0).
    frequency_hz : float, default 5.0
        Fundamental frequency in Hz, in ``(0, sample_rate_hz/2)``.
    width : float, default 1.0
        Fraction of the period spent rising from −1 to +1, in [0, 1] (1: rising ramp, 0.5: triangle).
    amplitude : float, default 1.0
        Peak amplitude.
    phase_rad : float, default 0.0
        Phase offset in radians.
    snr_db : float, default 20.0
        Signal-to-noise ratio in dB; ``inf`` for no noise.
    noise_convention : {"true", "sigma"}, default "true"
        How ``snr_db`` sets the noise level (see :func:`sines`).

    Returns
    -------
    Signal
        ``data`` and ``clean`` of shape ``(n,)``.

    Raises
    ------
    ValidationError
        Invalid ``n``/``seed``/``sample_rate_hz``, ``frequency_hz`` not in ``(0, Nyquist)``, ``width`` outside
        [0, 1], non-finite amplitude or phase, invalid ``snr_db`` or convention.

    Examples
    --------
    >>> from sigbench.datasets.synthetic import sawtooth
    >>> sig = sawtooth(n=1000, width=0.5, snr_db=float("inf"))
    >>> bool(abs(sig.clean).max() <= 1.0)
    True
    """
    n = check_n(n)
    seed = check_seed(seed)
    rate = positive_float("sample_rate_hz", sample_rate_hz)
    freq = in_range("frequency_hz", frequency_hz, 0.0, rate / 2.0, low_open=True, high_open=True)
    w = in_range("width", width, 0.0, 1.0)
    amp = finite_float("amplitude", amplitude)
    phase = finite_float("phase_rad", phase_rad)
    snr = check_snr_db(snr_db)
    convention = check_convention(noise_convention)
    params = {
        "n": n,
        "seed": seed,
        "sample_rate_hz": rate,
        "frequency_hz": freq,
        "width": w,
        "amplitude": amp,
        "phase_rad": phase,
        "snr_db": snr,
        "noise_convention": convention,
    }
    return _periodic(
        "sawtooth",
        lambda x: _sps().sawtooth(x, width=w),
        n,
        seed,
        rate,
        params,
        snr,
        convention,
        amp,
        freq,
        phase,
    )


# -- Mackey-Glass ----------------------------------------------------------------------------------
def _whole_steps(name: str, value: float, dt: float) -> int:
    steps = value / dt
    whole = round(steps)
    if whole < 1 or abs(steps - whole) > 1e-9 * max(1.0, steps):
        raise ValidationError(f"expected {name} to be a whole multiple (≥ 1) of dt={dt:g}; received: {name}={value!r}")
    return int(whole)


def _integrate_mackey_glass(
    total: int, delay: int, dt: float, beta: float, gamma: float, power: float, x0: float
) -> np.ndarray:
    """RK4 over ``total`` steps with constant history ``x0``; returns ``x`` at steps 0…total.

    The delayed value at a half step is interpolated by a cubic Hermite polynomial from the stored values
    and derivatives, which keeps the scheme fourth order (linear interpolation would make it second order).
    """
    hist = [x0] * (delay + 1)  # x at steps −delay … 0

    def f(xt: float, xd: float) -> float:
        return beta * xd / (1.0 + xd**power) - gamma * xt

    deriv = [0.0] * delay + [f(x0, x0)]  # dx/dt at steps −delay … 0 (right derivative at 0)
    x = x0
    for i in range(total):
        xd0 = hist[i]  # x(t − τ)
        xd1 = hist[i + 1]  # x(t + dt − τ)
        d0 = deriv[i]
        d1 = 0.0 if i + 1 == delay else deriv[i + 1]  # left derivative at step 0 is that of the history
        xdh = 0.5 * (xd0 + xd1) + dt / 8.0 * (d0 - d1)  # x(t + dt/2 − τ), cubic Hermite
        k1 = f(x, xd0)
        k2 = f(x + 0.5 * dt * k1, xdh)
        k3 = f(x + 0.5 * dt * k2, xdh)
        k4 = f(x + dt * k3, xd1)
        x = x + dt / 6.0 * (k1 + 2.0 * k2 + 2.0 * k3 + k4)
        hist.append(x)
        deriv.append(f(x, xd1))
    return np.asarray(hist[delay:])


def mackey_glass(
    n: int = 5000,
    seed: int = 0,
    *,
    tau: float = 17.0,
    beta: float = 0.2,
    gamma: float = 0.1,
    power: float = 10.0,
    x0: float = 1.2,
    dt: float = 0.1,
    sample_step: float = 1.0,
    burn_in_s: float = 500.0,
    snr_db: float = math.inf,
    noise_convention: str = "true",
) -> Signal:
    """The Mackey-Glass chaotic time series, a classic nonlinear prediction benchmark.

    ``dx/dt = β x(t−τ) / (1 + x(t−τ)^p) − γ x(t)`` with constant history ``x0`` for t ≤ 0, integrated by RK4
    with step ``dt``, the first ``burn_in_s`` time units dropped, then one sample kept every ``sample_step``.

    Parameters
    ----------
    n : int, default 5000
        Number of samples (≥ 1).
    seed : int, default 0
        Seed of the observation noise (≥ 0); the series itself is deterministic.
    tau : float, default 17.0
        Delay τ in time units, a whole multiple of ``dt`` (chaotic for τ ≳ 16.8, periodic below).
    beta, gamma : float, default 0.2 and 0.1
        Production and decay rates (> 0).
    power : float, default 10.0
        Hill exponent p (> 0).
    x0 : float, default 1.2
        Constant initial history (> 0, keeping the series positive).
    dt : float, default 0.1
        Integration step in time units (> 0).
    sample_step : float, default 1.0
        Time units between output samples, a whole multiple of ``dt``; ``sample_rate_hz = 1/sample_step``
        (one time unit read as one second).
    burn_in_s : float, default 500.0
        Initial transient discarded, in time units (≥ 0; rounded to whole steps of ``dt``).
    snr_db : float, default inf
        Observation noise in dB; ``inf`` (default) for the noiseless benchmark series.
    noise_convention : {"true", "sigma"}, default "true"
        How ``snr_db`` sets the noise level (see :func:`sines`).

    Returns
    -------
    Signal
        ``data`` and ``clean`` of shape ``(n,)``.

    Raises
    ------
    ValidationError
        Invalid ``n``/``seed``, a non-positive or non-finite rate, ``tau``/``sample_step`` not whole multiples
        of ``dt``, ``x0 <= 0``, ``burn_in_s < 0``, invalid ``snr_db`` or convention, or a diverging
        integration.

    References
    ----------
    M. C. Mackey and L. Glass, "Oscillation and chaos in physiological control systems", Science 197
    (1977) 287-289.

    Examples
    --------
    >>> from sigbench.datasets.synthetic import mackey_glass
    >>> sig = mackey_glass(n=500)
    >>> bool(0.2 < sig.data.min() and sig.data.max() < 1.5)
    True
    """
    n = check_n(n)
    seed = check_seed(seed)
    tau_ = positive_float("tau", tau)
    beta_ = positive_float("beta", beta)
    gamma_ = positive_float("gamma", gamma)
    power_ = positive_float("power", power)
    x0_ = positive_float("x0", x0)
    dt_ = positive_float("dt", dt)
    step = positive_float("sample_step", sample_step)
    burn = positive_float("burn_in_s", burn_in_s, allow_zero=True)
    snr = check_snr_db(snr_db)
    convention = check_convention(noise_convention)
    delay = _whole_steps("tau", tau_, dt_)
    sub = _whole_steps("sample_step", step, dt_)
    burn_steps = round(burn / dt_)
    total = burn_steps + (n - 1) * sub
    if total > 200_000_000:
        raise ValidationError(
            f"expected at most 2e8 integration steps; received: n={n}, sample_step={step}, dt={dt_} ({total} steps)"
        )
    series = _integrate_mackey_glass(total, delay, dt_, beta_, gamma_, power_, x0_)
    clean = np.ascontiguousarray(series[burn_steps::sub][:n])
    if not np.isfinite(clean).all():
        raise ValidationError(f"expected a bounded Mackey-Glass series; received: dt={dt_} (integration diverged)")
    rng = np.random.default_rng(seed)
    params = {
        "n": n,
        "seed": seed,
        "tau": tau_,
        "beta": beta_,
        "gamma": gamma_,
        "power": power_,
        "x0": x0_,
        "dt": dt_,
        "sample_step": step,
        "burn_in_s": burn,
        "snr_db": snr,
        "noise_convention": convention,
    }
    return _finish("mackey-glass", clean, 1.0 / step, seed, snr, convention, rng, params)


# -- noise -------------------------------------------------------------------------------------------
def noise(
    n: int = 5000, seed: int = 0, *, color: str = "white", std: float = 1.0, sample_rate_hz: float = 1.0
) -> Signal:
    """Gaussian noise of a given spectral colour (no ``clean`` reference: the noise *is* the signal).

    Parameters
    ----------
    n : int, default 5000
        Number of samples (≥ 2).
    seed : int, default 0
        Seed of the generator (≥ 0).
    color : {"white", "pink", "brown", "blue", "violet"}, default "white"
        PSD ∝ f^(−α) with α = 0, 1, 2, −1, −2: pink falls 10 dB per decade, brown 20 dB per decade.
    std : float, default 1.0
        Sample standard deviation of the output (> 0); the mean is zero.
    sample_rate_hz : float, default 1.0
        Sampling rate in Hz (> 0).

    Returns
    -------
    Signal
        ``data`` of shape ``(n,)``, ``clean`` is ``None``.

    Raises
    ------
    ValidationError
        Invalid ``n``/``seed``/``sample_rate_hz``, an unknown colour, ``std <= 0``.

    Notes
    -----
    Coloured noise is shaped with one FFT over the whole record, so it is circular: its end joins its
    start smoothly.

    Examples
    --------
    >>> from sigbench.datasets.synthetic import noise
    >>> sig = noise(n=4096, color="pink", std=2.0, seed=3)
    >>> round(float(sig.data.std()), 6)
    2.0
    """
    n = check_n(n, minimum=2)
    seed = check_seed(seed)
    colour = one_of("color", color, tuple(COLORS))
    s = positive_float("std", std)
    rate = positive_float("sample_rate_hz", sample_rate_hz)
    rng = np.random.default_rng(seed)
    data = s * colored_noise(n, colour, rng)
    params = {"n": n, "seed": seed, "color": colour, "std": s, "sample_rate_hz": rate}
    meta = make_metadata("noise", params, seed=seed, psd_exponent=COLORS[colour])
    return Signal(data=data, sample_rate_hz=rate, metadata=meta, name="noise")


@hookimpl
def register_sources(register: Callable[..., None]) -> None:
    """Register the synthetic generators (``oracle=``: the processor that knows the source's model, built with
    ``get_processor(oracle).from_metadata(signal.metadata)``)."""
    register(
        "sines",
        sines,
        kind="generator",
        description="The founding signal: sin(t) + sin(πt/2) + sin(−3πt/2), step 0.1 s, white noise σ = 10^(−SNR/20)",
        oracle="sines-ml",
    )
    register("tones", tones, kind="generator", description="Sum of cosines (Hz, amplitudes, phases) plus noise",
             oracle="sines-ml")
    register(
        "chirp",
        chirp,
        kind="generator",
        description="Frequency sweep f0 → f1 (linear, quadratic, logarithmic, hyperbolic) plus noise",
    )
    register(
        "ar",
        ar,
        kind="generator",
        description="Stationary AR(p) process with given, checked-stable coefficients",
        oracle="ar-kalman",
    )
    register("square", square, kind="generator", description="Square wave with duty cycle plus noise")
    register("sawtooth", sawtooth, kind="generator", description="Sawtooth / triangle wave plus noise")
    register(
        "mackey-glass",
        mackey_glass,
        kind="generator",
        description="Mackey-Glass chaotic series (τ = 17), a classic nonlinear prediction benchmark",
    )
    register("noise", noise, kind="generator", description="White, pink, brown, blue or violet Gaussian noise")
