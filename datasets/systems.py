"""System-identification sources: a known excitation through an unknown (but stored) system.

Every source returns a :class:`~sigbench.Signal` with

* ``aux["input"]``: the excitation ``u`` (white Gaussian by default, optionally pink or brown),
  shape ``(n,)``;
* ``clean``: the noiseless system output ``y``, shape ``(n,)``;
* ``data``: ``y`` plus white Gaussian observation noise at ``snr_db`` (see :mod:`sigbench.datasets.synthetic`
  for the two noise conventions);
* ``metadata["system"]``: the true system, e.g. ``{"type": "fir", "b": [...]}``,
  ``{"type": "iir", "b": [...], "a": [...]}``, ``{"type": "hammerstein", "nonlinearity": "tanh", "b": [...]}``
  or ``{"type": "wiener", "b": [...], "nonlinearity": "tanh"}``; :func:`apply_system` reproduces ``clean``
  from ``aux["input"]`` and it.

Maths
-----
FIR:          ``y[k] = Σ_{i=0}^{numtaps−1} b_i u[k−i]``
IIR:          ``Σ_j a_j y[k−j] = Σ_i b_i u[k−i]`` (``a_0 = 1``), stable iff every root of ``a``
              has modulus < 1
Hammerstein:  ``y = b * f(u)`` (static nonlinearity, then FIR)
Wiener:       ``y = f(b * u)`` (FIR, then static nonlinearity)

Nonlinearities ``f``: ``tanh``, ``clip`` (to [−1, 1]), ``poly`` (``Σ_k c_k v^k`` with
``poly_coefficients = (c_0, c_1, …)``). Filters start from rest (zero initial state), exactly as
``scipy.signal.lfilter(b, a, u)``.

Random systems are drawn from the same ``np.random.default_rng(seed)`` *before* the input and the noise,
so a change of ``snr_db`` keeps the system and the input. A random FIR has Gaussian taps under an
exponentially decaying envelope, normalised to unit energy (Σ b_i² = 1); a random IIR has conjugate pole
pairs of modulus 0.5-0.95 and zeros of modulus up to 1.2, scaled to unit impulse-response energy.

Cost: O(n · (numtaps + len(a))) per source.

Example
-------
>>> import sigbench as sb
>>> sig = sb.generate("fir-system", n=2000, numtaps=8, snr_db=30, seed=0)
>>> sig.aux["input"].shape, sig.metadata["system"]["type"]
((2000,), 'fir')
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from sigbench import hookimpl
from sigbench._validate import one_of, positive_float, positive_int
from sigbench.datasets._common import (
    add_noise,
    check_convention,
    check_n,
    check_seed,
    check_snr_db,
    colored_noise,
    float_tuple,
    jsonable,
    make_metadata,
)
from sigbench.errors import ValidationError
from sigbench.signal import Signal


def _sps() -> Any:
    """``scipy.signal``, imported on first use (it costs seconds at start-up)."""
    import scipy.signal

    return scipy.signal

__all__ = [
    "NONLINEARITIES",
    "apply_nonlinearity",
    "apply_system",
    "fir_system",
    "hammerstein",
    "iir_system",
    "wiener_system",
]

#: static nonlinearities of the Hammerstein and Wiener sources
NONLINEARITIES = ("tanh", "clip", "poly")
#: colours of the excitation
INPUT_COLORS = ("white", "pink", "brown")
_MAX_TAPS = 100_000


# -- helpers ---------------------------------------------------------------------------------------
def apply_nonlinearity(v: np.ndarray, nonlinearity: str, poly_coefficients: tuple[float, ...] = ()) -> np.ndarray:
    """Apply a static nonlinearity sample by sample.

    Parameters
    ----------
    v : ndarray, shape ``(samples,)``
        Input samples.
    nonlinearity : {"tanh", "clip", "poly"}
        ``tanh(v)``, ``clip(v, −1, 1)`` or ``Σ_k c_k v^k``.
    poly_coefficients : tuple of float, optional
        ``(c_0, c_1, …)`` for ``"poly"``.

    Returns
    -------
    ndarray, shape ``(samples,)``

    Raises
    ------
    ValidationError
        An unknown nonlinearity, or ``"poly"`` without coefficients.

    Examples
    --------
    >>> import numpy as np
    >>> from sigbench.datasets.systems import apply_nonlinearity
    >>> apply_nonlinearity(np.array([0.0, 2.0]), "poly", (1.0, 0.0, 1.0)).tolist()
    [1.0, 5.0]
    """
    kind = one_of("nonlinearity", nonlinearity, NONLINEARITIES)
    if kind == "tanh":
        return np.tanh(v)
    if kind == "clip":
        return np.clip(v, -1.0, 1.0)
    if not poly_coefficients:
        raise ValidationError("expected poly_coefficients for nonlinearity='poly'; received: poly_coefficients=()")
    return np.polynomial.polynomial.polyval(v, np.asarray(poly_coefficients, dtype=float))


def apply_system(system: dict[str, Any], u: np.ndarray) -> np.ndarray:
    """Run input ``u`` through a system described as in ``metadata["system"]`` (from rest).

    Parameters
    ----------
    system : dict
        ``{"type": "fir"|"iir"|"hammerstein"|"wiener", "b": [...], "a": [...], "nonlinearity": ...,
        "poly_coefficients": [...]}``.
    u : ndarray, shape ``(samples,)``
        Input samples.

    Returns
    -------
    ndarray, shape ``(samples,)``
        The noiseless output.

    Raises
    ------
    ValidationError
        An unknown system type.

    Examples
    --------
    >>> import numpy as np
    >>> from sigbench.datasets.systems import apply_system
    >>> apply_system({"type": "fir", "b": [1.0, 1.0]}, np.array([1.0, 0.0, 0.0])).tolist()
    [1.0, 1.0, 0.0]
    """
    kind = system.get("type")
    b = np.asarray(system["b"], dtype=float)
    coeffs = tuple(system.get("poly_coefficients", ()))
    if kind == "fir":
        return np.asarray(_sps().lfilter(b, [1.0], u))
    if kind == "iir":
        return np.asarray(_sps().lfilter(b, np.asarray(system["a"], dtype=float), u))
    if kind == "hammerstein":
        return np.asarray(_sps().lfilter(b, [1.0], apply_nonlinearity(u, system["nonlinearity"], coeffs)))
    if kind == "wiener":
        return apply_nonlinearity(np.asarray(_sps().lfilter(b, [1.0], u)), system["nonlinearity"], coeffs)
    raise ValidationError(f"expected system type fir, iir, hammerstein or wiener; received: type={kind!r}")


def _fir_taps(b: Any, numtaps: Any, rng: np.random.Generator) -> tuple[tuple[float, ...], bool]:
    """Given taps, or ``numtaps`` random taps under a decaying envelope with unit energy; (taps, random?)."""
    given = float_tuple("b", b, min_len=0)
    if given:
        if len(given) > _MAX_TAPS:
            raise ValidationError(f"expected at most {_MAX_TAPS} taps; received: len(b)={len(given)}")
        if not any(given):
            raise ValidationError(f"expected at least one non-zero tap; received: b={given!r}")
        return given, False
    count = positive_int("numtaps", numtaps)
    if count > _MAX_TAPS:
        raise ValidationError(f"expected numtaps <= {_MAX_TAPS}; received: numtaps={numtaps!r}")
    envelope = np.exp(-np.arange(count) / max(count / 3.0, 1.0))
    taps = rng.standard_normal(count) * envelope
    taps /= np.linalg.norm(taps)
    return tuple(float(t) for t in taps), True


def _input(n: int, color: str, std: float, rng: np.random.Generator) -> np.ndarray:
    if color == "white":
        return std * rng.standard_normal(n)
    return std * colored_noise(n, color, rng)


def _check_common(
    n: Any,
    seed: Any,
    input_color: Any,
    input_std: Any,
    sample_rate_hz: Any,
    snr_db: Any,
    noise_convention: Any,
) -> tuple[int, int, str, float, float, float, str]:
    return (
        check_n(n, minimum=2),
        check_seed(seed),
        one_of("input_color", input_color, INPUT_COLORS),
        positive_float("input_std", input_std),
        positive_float("sample_rate_hz", sample_rate_hz),
        check_snr_db(snr_db),
        check_convention(noise_convention),
    )


def _build(
    source: str,
    system: dict[str, Any],
    u: np.ndarray,
    rate: float,
    seed: int,
    snr: float,
    convention: str,
    rng: np.random.Generator,
    params: dict[str, Any],
) -> Signal:
    clean = apply_system(system, u)
    if not np.isfinite(clean).all():
        raise ValidationError(f"expected a finite system output; received: system={jsonable(system)!r}")
    data, sigma = add_noise(clean, snr, convention, rng)
    meta = make_metadata(source, params, seed=seed, noise_convention=convention, noise_std_=sigma, system=system)
    return Signal(
        data=data,
        sample_rate_hz=rate,
        clean=clean,
        aux={"input": u},
        metadata=meta,
        name=source.replace("-", "_"),
    )


def _check_nonlinearity(nonlinearity: Any, poly_coefficients: Any) -> tuple[str, tuple[float, ...]]:
    kind = one_of("nonlinearity", nonlinearity, NONLINEARITIES)
    coeffs = float_tuple("poly_coefficients", poly_coefficients, min_len=0)
    if kind == "poly" and not any(coeffs[1:]):
        raise ValidationError(
            "expected poly_coefficients (c0, c1, …) with a non-constant term for nonlinearity='poly'; "
            f"received: poly_coefficients={coeffs!r}"
        )
    return kind, coeffs


# -- sources ---------------------------------------------------------------------------------------
def fir_system(
    n: int = 5000,
    seed: int = 0,
    *,
    numtaps: int = 16,
    b: tuple[float, ...] = (),
    input_color: str = "white",
    input_std: float = 1.0,
    sample_rate_hz: float = 1.0,
    snr_db: float = 20.0,
    noise_convention: str = "true",
) -> Signal:
    """A known input through an unknown FIR filter: ``y[k] = Σ b_i u[k−i]``.

    Parameters
    ----------
    n : int, default 5000
        Number of samples (≥ 2).
    seed : int, default 0
        Seed of the system (when random), the input and the noise (≥ 0).
    numtaps : int, default 16
        Number of taps of the random FIR (≥ 1); ignored when ``b`` is given.
    b : tuple of float, default () (random)
        The FIR taps; empty draws ``numtaps`` random taps with unit energy.
    input_color : {"white", "pink", "brown"}, default "white"
        Spectrum of the Gaussian excitation.
    input_std : float, default 1.0
        Standard deviation of the excitation (> 0).
    sample_rate_hz : float, default 1.0
        Sampling rate in Hz (> 0).
    snr_db : float, default 20.0
        Output SNR in dB; ``inf`` for a noiseless output.
    noise_convention : {"true", "sigma"}, default "true"
        How ``snr_db`` sets the noise level.

    Returns
    -------
    Signal
        ``data`` (noisy output) and ``clean`` of shape ``(n,)``, ``aux["input"]`` of shape ``(n,)``,
        ``metadata["system"] = {"type": "fir", "b": [...]}``.

    Raises
    ------
    ValidationError
        Invalid ``n``/``seed``/``numtaps``, non-finite or all-zero ``b``, an unknown input colour,
        ``input_std <= 0``, invalid ``sample_rate_hz``/``snr_db``/convention.

    Examples
    --------
    >>> import numpy as np
    >>> from sigbench.datasets.systems import fir_system
    >>> sig = fir_system(n=1000, b=(1.0, 0.5), snr_db=float("inf"))
    >>> bool(np.allclose(sig.clean[1:], sig.aux["input"][1:] + 0.5 * sig.aux["input"][:-1]))
    True
    """
    n, seed, color, std, rate, snr, convention = _check_common(
        n, seed, input_color, input_std, sample_rate_hz, snr_db, noise_convention
    )
    rng = np.random.default_rng(seed)
    taps, random = _fir_taps(b, numtaps, rng)
    u = _input(n, color, std, rng)
    system = {"type": "fir", "b": list(taps)}
    params = {
        "n": n,
        "seed": seed,
        "numtaps": len(taps),
        "b": taps if not random else (),
        "input_color": color,
        "input_std": std,
        "sample_rate_hz": rate,
        "snr_db": snr,
        "noise_convention": convention,
    }
    return _build("fir-system", system, u, rate, seed, snr, convention, rng, params)


def _random_iir(n_poles: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    pairs, single = divmod(n_poles, 2)
    poles: list[complex] = []
    zeros: list[complex] = []
    for _ in range(pairs):
        r, theta = rng.uniform(0.5, 0.95), rng.uniform(0.05 * math.pi, 0.95 * math.pi)
        poles += [r * np.exp(1j * theta), r * np.exp(-1j * theta)]
        rz, thz = rng.uniform(0.0, 1.2), rng.uniform(0.0, math.pi)
        zeros += [rz * np.exp(1j * thz), rz * np.exp(-1j * thz)]
    if single:
        poles.append(rng.uniform(-0.9, 0.9))
        zeros.append(rng.uniform(-1.0, 1.0))
    b = np.real(np.poly(zeros))
    a = np.real(np.poly(poles))
    impulse = np.zeros(4096)
    impulse[0] = 1.0
    h = _sps().lfilter(b, a, impulse)
    return b / np.linalg.norm(h), a


def iir_system(
    n: int = 5000,
    seed: int = 0,
    *,
    n_poles: int = 4,
    b: tuple[float, ...] = (),
    a: tuple[float, ...] = (),
    input_color: str = "white",
    input_std: float = 1.0,
    sample_rate_hz: float = 1.0,
    snr_db: float = 20.0,
    noise_convention: str = "true",
) -> Signal:
    """A known input through an unknown stable IIR filter ``B(z)/A(z)``.

    Parameters
    ----------
    n : int, default 5000
        Number of samples (≥ 2).
    seed : int, default 0
        Seed of the system (when random), the input and the noise (≥ 0).
    n_poles : int, default 4
        Number of poles of the random system (≥ 1; conjugate pairs plus one real pole when odd, with as many
        zeros); ignored when ``b`` and ``a`` are given.
    b, a : tuple of float, default () (random)
        Numerator and denominator coefficients; give both or neither. ``a`` is normalised so ``a_0 = 1``
        and must have every root strictly inside the unit circle.
    input_color : {"white", "pink", "brown"}, default "white"
        Spectrum of the Gaussian excitation.
    input_std : float, default 1.0
        Standard deviation of the excitation (> 0).
    sample_rate_hz : float, default 1.0
        Sampling rate in Hz (> 0).
    snr_db : float, default 20.0
        Output SNR in dB; ``inf`` for a noiseless output.
    noise_convention : {"true", "sigma"}, default "true"
        How ``snr_db`` sets the noise level.

    Returns
    -------
    Signal
        ``data`` and ``clean`` of shape ``(n,)``, ``aux["input"]`` of shape ``(n,)``,
        ``metadata["system"] = {"type": "iir", "b": [...], "a": [...]}``.

    Raises
    ------
    ValidationError
        Only one of ``b``/``a`` given, ``a_0 = 0``, an unstable ``a`` (the message gives the largest pole
        modulus),
        all-zero ``b``, ``n_poles < 1`` or > 64, and the common checks of :func:`fir_system`.

    Examples
    --------
    >>> from sigbench.datasets.systems import iir_system
    >>> sig = iir_system(n=1000, b=(1.0,), a=(1.0, -0.9))
    >>> sig.metadata["system"]["a"]
    [1.0, -0.9]
    """
    n, seed, color, std, rate, snr, convention = _check_common(
        n, seed, input_color, input_std, sample_rate_hz, snr_db, noise_convention
    )
    b_given = float_tuple("b", b, min_len=0)
    a_given = float_tuple("a", a, min_len=0)
    rng = np.random.default_rng(seed)
    if bool(b_given) != bool(a_given):
        raise ValidationError(
            f"expected both b and a, or neither (random system); received: b={b_given!r}, a={a_given!r}"
        )
    if b_given:
        if a_given[0] == 0.0:
            raise ValidationError(f"expected a[0] != 0; received: a={a_given!r}")
        if not any(b_given):
            raise ValidationError(f"expected at least one non-zero coefficient in b; received: b={b_given!r}")
        if max(len(a_given), len(b_given)) > _MAX_TAPS:
            raise ValidationError(
                f"expected at most {_MAX_TAPS} coefficients; received: len(a)={len(a_given)}, len(b)={len(b_given)}"
            )
        a_arr = np.asarray(a_given) / a_given[0]
        b_arr = np.asarray(b_given) / a_given[0]
        poles = np.roots(a_arr) if len(a_arr) > 1 else np.zeros(0)
        radius = float(np.max(np.abs(poles))) if poles.size else 0.0
        if not radius < 1.0:
            raise ValidationError(
                "expected a stable IIR (every root of a inside the unit circle); "
                f"received: a={a_given!r} (largest pole modulus {radius:.6g})"
            )
        random = False
    else:
        count = positive_int("n_poles", n_poles)
        if count > 64:
            raise ValidationError(f"expected n_poles <= 64; received: n_poles={n_poles!r}")
        b_arr, a_arr = _random_iir(count, rng)
        random = True
    u = _input(n, color, std, rng)
    system = {"type": "iir", "b": [float(v) for v in b_arr], "a": [float(v) for v in a_arr]}
    params = {
        "n": n,
        "seed": seed,
        "n_poles": len(a_arr) - 1,
        "b": () if random else b_given,
        "a": () if random else a_given,
        "input_color": color,
        "input_std": std,
        "sample_rate_hz": rate,
        "snr_db": snr,
        "noise_convention": convention,
    }
    return _build("iir-system", system, u, rate, seed, snr, convention, rng, params)


def _block_oriented(
    source: str,
    kind: str,
    n: Any,
    seed: Any,
    numtaps: Any,
    b: Any,
    nonlinearity: Any,
    poly_coefficients: Any,
    input_color: Any,
    input_std: Any,
    sample_rate_hz: Any,
    snr_db: Any,
    noise_convention: Any,
) -> Signal:
    n_, seed_, color, std, rate, snr, convention = _check_common(
        n, seed, input_color, input_std, sample_rate_hz, snr_db, noise_convention
    )
    nl, coeffs = _check_nonlinearity(nonlinearity, poly_coefficients)
    rng = np.random.default_rng(seed_)
    taps, random = _fir_taps(b, numtaps, rng)
    u = _input(n_, color, std, rng)
    system: dict[str, Any] = {"type": kind, "nonlinearity": nl, "b": list(taps)}
    if nl == "poly":
        system["poly_coefficients"] = list(coeffs)
    params = {
        "n": n_,
        "seed": seed_,
        "numtaps": len(taps),
        "b": () if random else taps,
        "nonlinearity": nl,
        "poly_coefficients": coeffs,
        "input_color": color,
        "input_std": std,
        "sample_rate_hz": rate,
        "snr_db": snr,
        "noise_convention": convention,
    }
    return _build(source, system, u, rate, seed_, snr, convention, rng, params)


def hammerstein(
    n: int = 5000,
    seed: int = 0,
    *,
    numtaps: int = 16,
    b: tuple[float, ...] = (),
    nonlinearity: str = "tanh",
    poly_coefficients: tuple[float, ...] = (0.0, 1.0, 0.0, -0.3),
    input_color: str = "white",
    input_std: float = 1.0,
    sample_rate_hz: float = 1.0,
    snr_db: float = 20.0,
    noise_convention: str = "true",
) -> Signal:
    """A Hammerstein system: static nonlinearity, then FIR — ``y = b * f(u)``.

    Parameters
    ----------
    n : int, default 5000
        Number of samples (≥ 2).
    seed : int, default 0
        Seed of the system (when random), the input and the noise (≥ 0).
    numtaps : int, default 16
        Taps of the random FIR (≥ 1); ignored when ``b`` is given.
    b : tuple of float, default () (random)
        FIR taps after the nonlinearity.
    nonlinearity : {"tanh", "clip", "poly"}, default "tanh"
        The static nonlinearity ``f``; ``input_std`` sets how hard it is driven.
    poly_coefficients : tuple of float, default (0, 1, 0, −0.3)
        ``(c_0, c_1, …)`` of ``f(v) = Σ c_k v^k``, used with ``"poly"`` only.
    input_color : {"white", "pink", "brown"}, default "white"
        Spectrum of the Gaussian excitation.
    input_std : float, default 1.0
        Standard deviation of the excitation (> 0).
    sample_rate_hz : float, default 1.0
        Sampling rate in Hz (> 0).
    snr_db : float, default 20.0
        Output SNR in dB; ``inf`` for a noiseless output.
    noise_convention : {"true", "sigma"}, default "true"
        How ``snr_db`` sets the noise level.

    Returns
    -------
    Signal
        ``data`` and ``clean`` of shape ``(n,)``, ``aux["input"]`` of shape ``(n,)``,
        ``metadata["system"] = {"type": "hammerstein", "nonlinearity": ..., "b": [...]}``.

    Raises
    ------
    ValidationError
        An unknown nonlinearity, ``"poly"`` with only a constant term, non-finite coefficients, and the checks
        of :func:`fir_system`.

    Examples
    --------
    >>> from sigbench.datasets.systems import hammerstein
    >>> sig = hammerstein(n=1000, nonlinearity="clip", input_std=2.0)
    >>> sig.metadata["system"]["nonlinearity"]
    'clip'
    """
    return _block_oriented(
        "hammerstein",
        "hammerstein",
        n,
        seed,
        numtaps,
        b,
        nonlinearity,
        poly_coefficients,
        input_color,
        input_std,
        sample_rate_hz,
        snr_db,
        noise_convention,
    )


def wiener_system(
    n: int = 5000,
    seed: int = 0,
    *,
    numtaps: int = 16,
    b: tuple[float, ...] = (),
    nonlinearity: str = "tanh",
    poly_coefficients: tuple[float, ...] = (0.0, 1.0, 0.0, -0.3),
    input_color: str = "white",
    input_std: float = 1.0,
    sample_rate_hz: float = 1.0,
    snr_db: float = 20.0,
    noise_convention: str = "true",
) -> Signal:
    """A Wiener (block-oriented) system: FIR, then static nonlinearity — ``y = f(b * u)``.

    Not to be confused with the ``wiener`` processor (the optimal linear Wiener-Hopf filter).

    Parameters
    ----------
    n : int, default 5000
        Number of samples (≥ 2).
    seed : int, default 0
        Seed of the system (when random), the input and the noise (≥ 0).
    numtaps : int, default 16
        Taps of the random FIR (≥ 1); ignored when ``b`` is given.
    b : tuple of float, default () (random)
        FIR taps before the nonlinearity.
    nonlinearity : {"tanh", "clip", "poly"}, default "tanh"
        The static nonlinearity ``f``.
    poly_coefficients : tuple of float, default (0, 1, 0, −0.3)
        ``(c_0, c_1, …)`` of ``f(v) = Σ c_k v^k``, used with ``"poly"`` only.
    input_color : {"white", "pink", "brown"}, default "white"
        Spectrum of the Gaussian excitation.
    input_std : float, default 1.0
        Standard deviation of the excitation (> 0).
    sample_rate_hz : float, default 1.0
        Sampling rate in Hz (> 0).
    snr_db : float, default 20.0
        Output SNR in dB; ``inf`` for a noiseless output.
    noise_convention : {"true", "sigma"}, default "true"
        How ``snr_db`` sets the noise level.

    Returns
    -------
    Signal
        ``data`` and ``clean`` of shape ``(n,)``, ``aux["input"]`` of shape ``(n,)``,
        ``metadata["system"] = {"type": "wiener", "nonlinearity": ..., "b": [...]}``.

    Raises
    ------
    ValidationError
        As :func:`hammerstein`.

    Examples
    --------
    >>> import numpy as np
    >>> from sigbench.datasets.systems import wiener_system
    >>> sig = wiener_system(n=1000, snr_db=float("inf"))
    >>> bool(np.abs(sig.clean).max() < 1.0)  # tanh output
    True
    """
    return _block_oriented(
        "wiener-system",
        "wiener",
        n,
        seed,
        numtaps,
        b,
        nonlinearity,
        poly_coefficients,
        input_color,
        input_std,
        sample_rate_hz,
        snr_db,
        noise_convention,
    )


@hookimpl
def register_sources(register: Callable[..., None]) -> None:
    """Register the system-identification sources."""
    register(
        "fir-system",
        fir_system,
        kind="generator",
        description="Known input through an unknown FIR; stores input (aux), output, true taps",
    )
    register(
        "iir-system",
        iir_system,
        kind="generator",
        description="Known input through an unknown stable IIR; stores input, output, true b and a",
    )
    register(
        "hammerstein",
        hammerstein,
        kind="generator",
        description="Hammerstein system: static nonlinearity (tanh/clip/poly) then FIR",
    )
    register(
        "wiener-system",
        wiener_system,
        kind="generator",
        description="Wiener system: FIR then static nonlinearity (tanh/clip/poly)",
    )
