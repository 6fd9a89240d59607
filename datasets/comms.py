r"""Sources with ground truth for equalisation, noise cancellation and detection: ``channel``, ``anc``,
``tone-detect``.

``channel`` — PAM symbols through a dispersive (optionally nonlinear) channel, plus white Gaussian noise
    .. math::

        a[k] \in \{\pm1, \pm3, \dots, \pm(M-1)\}, \qquad v[k] = \sum_{i=0}^{L-1} h_i\, a[k-i], \qquad
        y[k] = f(v[k]) + w[k], \qquad w \sim N(0, N_0/2)

    (from rest: :math:`a[k<0] = 0`). Named channels: ``identity`` [1] (no ISI), ``proakis-a`` (11 taps),
    ``proakis-b`` [0.407, 0.815, 0.407] (a spectral null near Nyquist: hard for a linear equaliser),
    ``proakis-c`` [0.227, 0.460, 0.688, 0.460, 0.227] and ``cgc`` [0.3482, 0.8704, 0.3482] (Chen, Gibson
    and Cowan's example, used with the memoryless nonlinearity :math:`f(v) = v + 0.2v^2 - 0.1v^3`,
    ``nonlinearity="cubic"``). Eb/N0 is set at the receiver: :math:`E_b = E[a^2]\,\lVert h\rVert^2 /
    \log_2 M` (before the nonlinearity), :math:`E[a^2] = (M^2-1)/3`, so the noise standard deviation is
    :math:`\sigma = \sqrt{E_b / (2\cdot 10^{E_b/N_0/10})}`. ``clean`` holds the transmitted symbols
    :math:`a[k]` (aligned with the sample they are sent at; a decision delay is the task's business),
    ``aux["channel_output"]`` the noiseless :math:`f(v[k])`, ``metadata["channel"]`` the taps.

``anc`` — Widrow's two-input noise canceller
    .. math::

        d[k] = s[k] + \sum_{i} b_i\, r[k-i] + w[k] \;(\text{primary}), \qquad r[k] \;(\text{reference})

    with :math:`s` a sum of tones (the wanted signal), :math:`r` Gaussian noise of unit variance (white,
    pink or brown), :math:`b` the unknown noise path (given, or random with a decaying envelope) scaled so
    that the primary's signal-to-interference ratio is ``snr_db``, and :math:`w` optional sensor noise
    (``sensor_snr_db``). ``data`` is ``(n, 2)`` with channels ``("primary", "reference")``; ``clean`` is
    ``[s, r]`` (what each channel holds without the interference); ``aux["interference"]`` is
    :math:`b * r`; ``metadata["noise_path"] = {"type": "fir", "b": [...]}`` is the true path, which is
    also the Wiener solution of the canceller (the optimum).

``tone-detect`` — labelled segments for detection
    The stream is cut into ``n // segment`` consecutive segments of ``segment`` samples; each holds,
    with probability ``prior`` and independently, the tone :math:`A\cos(2\pi f m / f_s + \phi)`,
    :math:`m = 0, \dots, \text{segment}-1` counted from the segment's start, plus white Gaussian noise of
    standard deviation :math:`\sigma` in every segment. ``snr_db`` is the per-sample SNR
    :math:`A^2 / (2\sigma^2)`. ``phase="known"`` uses :math:`\phi = 0` (the matched filter is then the
    Neyman-Pearson optimum), ``"random"`` draws :math:`\phi` uniformly per segment (the energy /
    Goertzel detector's case). ``aux["label"]`` is 1 on the samples of tone-present segments;
    ``metadata["deflection"]`` is :math:`d = \sqrt{E}/\sigma` with :math:`E = \sum_m A^2\cos^2(\cdot)`
    for :math:`\phi = 0`, so :math:`P_D = Q(Q^{-1}(P_{FA}) - d)` for the matched filter. Samples after
    the last whole segment carry no tone and label 0.

Every source draws from one ``np.random.default_rng(seed)``, its structure (path, labels, phases,
symbols) before the noise, so a change of SNR keeps everything but the noise level.

Cost: O(n·L) per source.

Example
-------
>>> import sigbench as sb
>>> sig = sb.generate("channel", n=1000, channel="proakis-b", ebn0_db=10, seed=0)
>>> sig.metadata["channel"]["taps"], sorted(set(sig.clean.tolist()))
([0.407, 0.815, 0.407], [-1.0, 1.0])
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from sigbench import hookimpl
from sigbench._validate import in_range, one_of, positive_float, positive_int
from sigbench.datasets._common import (
    add_noise,
    check_n,
    check_seed,
    check_snr_db,
    colored_noise,
    float_tuple,
    make_metadata,
)
from sigbench.errors import ValidationError
from sigbench.metrics_comms import pam_alphabet
from sigbench.signal import Signal

__all__ = [
    "CHANNELS",
    "CUBIC",
    "anc",
    "apply_channel",
    "channel",
    "channel_taps",
    "noise_std_for_ebn0",
    "tone_detect",
]

#: named FIR channels (taps, first = no delay)
CHANNELS: dict[str, tuple[float, ...]] = {
    "identity": (1.0,),
    "proakis-a": (0.04, -0.05, 0.07, -0.21, -0.5, 0.72, 0.36, 0.0, 0.21, 0.03, 0.07),
    "proakis-b": (0.407, 0.815, 0.407),
    "proakis-c": (0.227, 0.460, 0.688, 0.460, 0.227),
    "cgc": (0.3482, 0.8704, 0.3482),
}
#: the Chen-Gibson-Cowan memoryless nonlinearity f(v) = v + 0.2 v² − 0.1 v³, as (c0, c1, c2, c3)
CUBIC = (0.0, 1.0, 0.2, -0.1)
NONLINEARITIES = ("none", "cubic", "poly")
PHASES = ("known", "random")
REFERENCE_COLORS = ("white", "pink", "brown")
_MAX_TAPS = 4096


def _sps() -> Any:
    """``scipy.signal``, imported on first use (it costs seconds at start-up)."""
    import scipy.signal

    return scipy.signal


def _ratio_db(name: str, value: Any) -> float:
    try:
        return check_snr_db(value)
    except ValidationError:
        raise ValidationError(f"expected {name} to be a finite number of dB, or inf; "
                              f"received: {name}={value!r}") from None


def channel_taps(channel: str = "proakis-b", taps: Any = ()) -> tuple[float, ...]:
    """The channel's FIR taps: ``taps`` when given, else the named channel's.

    Raises
    ------
    ValidationError
        An unknown name, more than 4096 taps, non-finite or all-zero taps.

    Examples
    --------
    >>> channel_taps("cgc")
    (0.3482, 0.8704, 0.3482)
    """
    given = float_tuple("taps", taps, min_len=0)
    if not given:
        given = CHANNELS[one_of("channel", channel, tuple(CHANNELS))]
    if len(given) > _MAX_TAPS:
        raise ValidationError(f"expected at most {_MAX_TAPS} taps; received: len(taps)={len(given)}")
    if not any(given):
        raise ValidationError(f"expected at least one non-zero tap; received: taps={given!r}")
    return given


def apply_channel(symbols: np.ndarray, taps: Any, poly_coefficients: Any = ()) -> np.ndarray:
    """The noiseless channel output :math:`f(h * a)` from rest, ``f(v) = Σ c_k v^k`` (identity if empty).

    Parameters
    ----------
    symbols : ndarray, shape ``(samples,)``
    taps : sequence of float
    poly_coefficients : sequence of float, optional
        ``(c_0, c_1, …)``; empty for a linear channel.

    Returns
    -------
    ndarray, shape ``(samples,)``

    Examples
    --------
    >>> import numpy as np
    >>> apply_channel(np.array([1.0, -1.0, 1.0]), [1.0, 0.5]).tolist()
    [1.0, -0.5, 0.5]
    """
    v = np.asarray(_sps().lfilter(np.asarray(taps, dtype=np.float64), [1.0], np.asarray(symbols, dtype=np.float64)))
    coeffs = tuple(poly_coefficients)
    if coeffs:
        v = np.polynomial.polynomial.polyval(v, np.asarray(coeffs, dtype=np.float64))
    return v


def noise_std_for_ebn0(ebn0_db: float, taps: Any, levels: int = 2) -> float:
    """Noise standard deviation :math:`\\sqrt{N_0/2}` that gives ``ebn0_db`` at the receiver for M-PAM.

    :math:`E_b = \\frac{M^2-1}{3}\\lVert h\\rVert^2/\\log_2 M`; ``inf`` dB gives 0.

    Examples
    --------
    >>> round(noise_std_for_ebn0(0.0, [1.0]), 6)   # BPSK, Eb = 1: σ² = N0/2 = 1/2
    0.707107
    """
    if ebn0_db == math.inf:
        return 0.0
    m = int(levels)
    eb = (m * m - 1) / 3.0 * float(np.sum(np.square(taps))) / math.log2(m)
    return math.sqrt(eb / (2.0 * 10.0 ** (ebn0_db / 10.0)))


# -- channel -----------------------------------------------------------------------------------------
def channel(
    n: int = 10000,
    seed: int = 0,
    *,
    levels: int = 2,
    channel: str = "proakis-b",
    taps: tuple[float, ...] = (),
    nonlinearity: str = "none",
    poly_coefficients: tuple[float, ...] = CUBIC,
    ebn0_db: float = 10.0,
    sample_rate_hz: float = 1.0,
) -> Signal:
    """M-PAM symbols through an FIR channel (optionally followed by a memoryless nonlinearity) plus AWGN.

    Parameters
    ----------
    n : int, default 10000
        Number of symbols (one sample per symbol), ≥ 1.
    seed : int, default 0
        Seed of the symbols and the noise (≥ 0).
    levels : int, default 2
        M, an even integer ≥ 2 (2 is BPSK); levels ±1, ±3, …, ±(M−1).
    channel : {"identity", "proakis-a", "proakis-b", "proakis-c", "cgc"}, default "proakis-b"
        Named channel; ignored when ``taps`` is given.
    taps : tuple of float, default ()
        The channel's FIR taps (first tap: no delay); empty uses ``channel``.
    nonlinearity : {"none", "cubic", "poly"}, default "none"
        ``cubic``: :math:`f(v) = v + 0.2v^2 - 0.1v^3` (Chen-Gibson-Cowan); ``poly``:
        :math:`f(v) = \\sum_k c_k v^k` with ``poly_coefficients``.
    poly_coefficients : tuple of float, default (0, 1, 0.2, −0.1)
        ``(c_0, c_1, …)`` for ``nonlinearity="poly"``.
    ebn0_db : float, default 10.0
        :math:`E_b/N_0` at the receiver in dB (see the module notes); ``inf`` for no noise.
    sample_rate_hz : float, default 1.0
        Symbol (and sample) rate in Hz.

    Returns
    -------
    Signal
        ``data`` (received) and ``clean`` (transmitted symbols) of shape ``(n,)``;
        ``aux["channel_output"]`` (noiseless received) of shape ``(n,)``; ``metadata["channel"]`` =
        ``{"name", "taps", "nonlinearity", "poly_coefficients"}``, ``metadata["alphabet"]``, ``levels``,
        ``bits_per_symbol``, ``ebn0_db``, ``noise_std``, ``main_tap`` (index of the largest tap).

    Raises
    ------
    ValidationError
        Invalid ``n``/``seed``, odd or < 2 ``levels``, an unknown channel or nonlinearity, invalid taps,
        ``poly`` without a non-constant term, NaN or −inf ``ebn0_db``, or a non-finite channel output.

    Examples
    --------
    >>> from sigbench.datasets.comms import channel
    >>> sig = channel(n=2000, channel="identity", ebn0_db=float("inf"))
    >>> bool((sig.data == sig.clean).all())
    True
    """
    n = check_n(n)
    seed = check_seed(seed)
    m = positive_int("levels", levels, minimum=2)
    alphabet = pam_alphabet(m)
    h = channel_taps(channel, taps)
    name = "custom" if float_tuple("taps", taps, min_len=0) else str(channel)
    kind = one_of("nonlinearity", nonlinearity, NONLINEARITIES)
    coeffs: tuple[float, ...] = ()
    if kind == "cubic":
        coeffs = CUBIC
    elif kind == "poly":
        coeffs = float_tuple("poly_coefficients", poly_coefficients)
        if not any(coeffs[1:]):
            raise ValidationError(f"expected poly_coefficients with a non-constant term; received: "
                                  f"poly_coefficients={coeffs!r}")
    ebn0 = _ratio_db("ebn0_db", ebn0_db)
    rate = positive_float("sample_rate_hz", sample_rate_hz)
    rng = np.random.default_rng(seed)
    symbols = alphabet[rng.integers(0, m, size=n)]
    received = apply_channel(symbols, h, coeffs)
    if not np.isfinite(received).all():
        raise ValidationError(f"expected a finite channel output; received: taps={h!r}, nonlinearity={kind!r}")
    sigma = noise_std_for_ebn0(ebn0, h, m)
    data = received + sigma * rng.standard_normal(n)
    params = {"n": n, "seed": seed, "levels": m, "channel": name, "taps": h if name == "custom" else (),
              "nonlinearity": kind, "poly_coefficients": coeffs, "ebn0_db": ebn0, "sample_rate_hz": rate}
    meta = make_metadata(
        "channel", params, seed=seed, noise_std_=sigma,
        channel={"name": name, "taps": list(h), "nonlinearity": kind, "poly_coefficients": list(coeffs)},
        alphabet=alphabet.tolist(), levels=m, bits_per_symbol=math.log2(m), ebn0_db=ebn0,
        main_tap=int(np.argmax(np.abs(h))),
    )
    return Signal(data=data, sample_rate_hz=rate, clean=symbols, aux={"channel_output": received}, metadata=meta,
                  name="channel")


# -- adaptive noise cancellation ---------------------------------------------------------------------
def _path_taps(path: Any, numtaps: Any, rng: np.random.Generator) -> tuple[tuple[float, ...], bool]:
    """Given taps, or ``numtaps`` random Gaussian taps under a decaying envelope, unit energy."""
    given = float_tuple("path", path, min_len=0)
    if given:
        if len(given) > _MAX_TAPS or not any(given):
            raise ValidationError(f"expected 1 to {_MAX_TAPS} taps, not all zero; received: path={given!r}")
        return given, False
    count = positive_int("numtaps", numtaps)
    if count > _MAX_TAPS:
        raise ValidationError(f"expected numtaps <= {_MAX_TAPS}; received: numtaps={numtaps!r}")
    taps = rng.standard_normal(count) * np.exp(-np.arange(count) / max(count / 3.0, 1.0))
    taps /= np.linalg.norm(taps)
    return tuple(float(t) for t in taps), True


def anc(
    n: int = 10000,
    seed: int = 0,
    *,
    sample_rate_hz: float = 1000.0,
    signal_frequencies_hz: tuple[float, ...] = (50.0, 120.0),
    path: tuple[float, ...] = (),
    numtaps: int = 8,
    snr_db: float = 0.0,
    reference_color: str = "white",
    sensor_snr_db: float = math.inf,
) -> Signal:
    """Two sensors for Widrow's noise canceller: primary (signal + filtered noise) and reference (the noise).

    Parameters
    ----------
    n : int, default 10000
        Number of samples (≥ 2).
    seed : int, default 0
        Seed of the path (when random), the reference noise and the sensor noise (≥ 0).
    sample_rate_hz : float, default 1000.0
        Sampling rate in Hz.
    signal_frequencies_hz : tuple of float, default (50, 120)
        The wanted signal: unit-amplitude cosines at these frequencies (each below Nyquist).
    path : tuple of float, default () (random)
        Taps of the noise path from the reference to the primary sensor, before scaling; empty draws
        ``numtaps`` random taps (unit energy).
    numtaps : int, default 8
        Taps of the random path.
    snr_db : float, default 0.0
        Signal-to-interference ratio at the primary sensor, in dB (the input SNR of the canceller).
    reference_color : {"white", "pink", "brown"}, default "white"
        Spectrum of the reference noise (unit variance).
    sensor_snr_db : float, default inf
        Signal to uncorrelated sensor-noise ratio at the primary, in dB (a floor no canceller removes).

    Returns
    -------
    Signal
        ``data`` and ``clean`` of shape ``(n, 2)``, channels ``("primary", "reference")``;
        ``aux["interference"]`` of shape ``(n,)``; ``metadata["noise_path"] = {"type": "fir", "b": [...]}``
        (scaled: exactly what reaches the primary), ``metadata["interference_gain"]``.

    Raises
    ------
    ValidationError
        Invalid ``n``/``seed``/rate, a frequency at or above Nyquist, invalid path or ``numtaps``, an
        unknown colour, NaN/−inf ``snr_db``, ``snr_db=inf`` (no interference to cancel), NaN
        ``sensor_snr_db``.

    Examples
    --------
    >>> import numpy as np
    >>> from sigbench.datasets.comms import anc
    >>> sig = anc(n=4000, path=(0.5, -0.3), seed=1)
    >>> ratio_db = 10 * np.log10(np.mean(sig.clean[:, 0]**2) / np.mean(sig.aux["interference"]**2))
    >>> sig.channel_names, bool(abs(ratio_db) < 1e-9)           # snr_db = 0 at the primary
    (('primary', 'reference'), True)
    """
    n = check_n(n, minimum=2)
    seed = check_seed(seed)
    rate = positive_float("sample_rate_hz", sample_rate_hz)
    freqs = float_tuple("signal_frequencies_hz", signal_frequencies_hz)
    for f in freqs:
        in_range("signal_frequencies_hz", f, 0.0, rate / 2.0, high_open=True)
    snr = _ratio_db("snr_db", snr_db)
    if snr == math.inf:
        raise ValidationError("expected a finite snr_db (the interference level); received: snr_db=inf")
    sensor = _ratio_db("sensor_snr_db", sensor_snr_db)
    color = one_of("reference_color", reference_color, REFERENCE_COLORS)
    rng = np.random.default_rng(seed)
    taps, random = _path_taps(path, numtaps, rng)
    t = np.arange(n) / rate
    s = np.zeros(n)
    for f in freqs:
        s += np.cos(2.0 * math.pi * f * t)
    r = rng.standard_normal(n) if color == "white" else colored_noise(n, color, rng)
    raw = np.asarray(_sps().lfilter(np.asarray(taps), [1.0], r))
    p_s, p_raw = float(np.mean(s * s)), float(np.mean(raw * raw))
    if p_s == 0.0 or p_raw == 0.0:
        raise ValidationError(f"expected a signal and an interference of non-zero power; received: "
                              f"signal_frequencies_hz={freqs!r}, path={taps!r}")
    gain = math.sqrt(p_s / (p_raw * 10.0 ** (snr / 10.0)))
    interference = gain * raw
    observed, sensor_std = add_noise(s, sensor, "true", rng)
    primary = observed + interference
    true_path = [gain * b for b in taps]
    params = {"n": n, "seed": seed, "sample_rate_hz": rate, "signal_frequencies_hz": freqs,
              "path": taps if not random else (), "numtaps": len(taps), "snr_db": snr,
              "reference_color": color, "sensor_snr_db": sensor}
    meta = make_metadata("anc", params, seed=seed, noise_std_=sensor_std,
                         noise_path={"type": "fir", "b": true_path}, interference_gain=gain,
                         channels={"primary": "signal + noise through the path + sensor noise",
                                   "reference": "the noise source"})
    return Signal(data=np.stack([primary, r], axis=1), sample_rate_hz=rate, clean=np.stack([s, r], axis=1),
                  channel_names=("primary", "reference"), aux={"interference": interference}, metadata=meta,
                  name="anc")


# -- tone detection ----------------------------------------------------------------------------------
def tone_detect(
    n: int = 16384,
    seed: int = 0,
    *,
    sample_rate_hz: float = 8000.0,
    frequency_hz: float = 1000.0,
    segment: int = 64,
    snr_db: float = -10.0,
    prior: float = 0.5,
    phase: str = "known",
    noise_std: float = 1.0,
) -> Signal:
    """Consecutive segments of white noise, each holding a tone with probability ``prior``, labelled.

    Parameters
    ----------
    n : int, default 16384
        Number of samples, ≥ ``segment``.
    seed : int, default 0
        Seed of the labels, phases and noise (≥ 0).
    sample_rate_hz : float, default 8000.0
        Sampling rate in Hz.
    frequency_hz : float, default 1000.0
        Tone frequency in Hz, in (0, Nyquist).
    segment : int, default 64
        Samples per labelled segment (the detection window).
    snr_db : float, default −10.0
        Per-sample SNR :math:`A^2/(2\\sigma^2)` in dB while the tone is on.
    prior : float, default 0.5
        Probability that a segment holds the tone, in [0, 1].
    phase : {"known", "random"}, default "known"
        Tone phase 0 at each segment's start, or uniform per segment.
    noise_std : float, default 1.0
        :math:`\\sigma`, > 0.

    Returns
    -------
    Signal
        ``data`` and ``clean`` (the tone where present, else 0) of shape ``(n,)``; ``aux["label"]`` of
        shape ``(n,)`` (1 on tone-present segments); ``metadata``: ``segment``, ``n_segments``,
        ``segment_labels`` (one 0/1 per segment), ``amplitude``, ``energy`` and ``deflection`` (see the
        module notes).

    Raises
    ------
    ValidationError
        Invalid ``n``/``seed``/rate, ``n < segment``, a frequency outside (0, Nyquist), ``prior``
        outside [0, 1], an unknown phase, ``noise_std <= 0``, a non-finite ``snr_db``.

    Examples
    --------
    >>> from sigbench.datasets.comms import tone_detect
    >>> sig = tone_detect(n=6400, segment=64, prior=0.25, seed=2)
    >>> sig.metadata["n_segments"], sum(sig.metadata["segment_labels"])
    (100, 27)
    """
    n = check_n(n)
    seed = check_seed(seed)
    rate = positive_float("sample_rate_hz", sample_rate_hz)
    freq = in_range("frequency_hz", frequency_hz, 0.0, rate / 2.0, low_open=True, high_open=True)
    seg = positive_int("segment", segment)
    if n < seg:
        raise ValidationError(f"expected n >= segment ({seg} samples); received: n={n}")
    snr = _ratio_db("snr_db", snr_db)
    if not math.isfinite(snr):
        raise ValidationError(f"expected a finite snr_db; received: snr_db={snr_db!r}")
    p = in_range("prior", prior, 0.0, 1.0)
    mode = one_of("phase", phase, PHASES)
    sigma = positive_float("noise_std", noise_std)
    rng = np.random.default_rng(seed)
    count = n // seg
    labels = rng.random(count) < p
    phases = rng.uniform(0.0, 2.0 * math.pi, size=count)
    if mode == "known":
        phases = np.zeros(count)
    amplitude = sigma * math.sqrt(2.0 * 10.0 ** (snr / 10.0))
    m = np.arange(seg)
    tones = amplitude * np.cos(2.0 * math.pi * freq * m[None, :] / rate + phases[:, None])
    clean = np.zeros(n)
    clean[: count * seg] = (tones * labels[:, None]).ravel()
    label = np.zeros(n)
    label[: count * seg] = np.repeat(labels.astype(np.float64), seg)
    data = clean + sigma * rng.standard_normal(n)
    energy = float(np.sum(np.square(amplitude * np.cos(2.0 * math.pi * freq * m / rate))))
    params = {"n": n, "seed": seed, "sample_rate_hz": rate, "frequency_hz": freq, "segment": seg, "snr_db": snr,
              "prior": p, "phase": mode, "noise_std": sigma}
    meta = make_metadata("tone-detect", params, seed=seed, noise_std_=sigma, segment=seg, n_segments=count,
                         segment_labels=labels.astype(int).tolist(), amplitude=amplitude, energy=energy,
                         deflection=math.sqrt(energy) / sigma, frequency_hz=freq, phase=mode)
    return Signal(data=data, sample_rate_hz=rate, clean=clean, aux={"label": label}, metadata=meta,
                  name="tone_detect")


@hookimpl
def register_sources(register: Callable[..., None]) -> None:
    """Register ``channel``, ``anc`` and ``tone-detect``."""
    register("channel", channel, kind="generator", oracle="mlse",
             description="M-PAM symbols through an FIR channel (proakis-b, cgc, …), optional cubic nonlinearity, "
                         "AWGN at Eb/N0; symbols as clean, taps in metadata")
    register("anc", anc, kind="generator", oracle="known-fir",
             description="Noise-cancellation pair: primary = tones + noise through an unknown FIR path, "
                         "reference = the noise; true path in metadata")
    register("tone-detect", tone_detect, kind="generator", oracle="matched-filter",
             description="Labelled segments of noise, a tone present with a given prior and SNR (aux 'label')")
