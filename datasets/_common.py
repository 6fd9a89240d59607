"""Helpers shared by the built-in sources: parameter checks, noise, metadata (private).

Vocabulary (the same in every source; see also :mod:`sigbench.signal`):

``n``
    number of samples to generate.
``seed``
    seed of the one ``np.random.default_rng(seed)`` a generator draws from (never the global RNG).
``sample_rate_hz``
    samples per second (one name everywhere, never ``fs``); ``step_s`` is its inverse where the
    founding write-up speaks of a sampling step.
``snr_db``
    signal-to-noise ratio of the additive white Gaussian observation noise, in dB; ``inf`` means no noise.
``noise_convention``
    ``"sigma"``: the noise standard deviation is σ = 10^(−snr_db/20), whatever the signal power (the founding
    write-up's convention); ``"true"``: σ² = P_clean / 10^(snr_db/10), with P_clean the mean power of the
    generated clean signal, so that the expected clean-to-noise power ratio is exactly ``snr_db``.
``numtaps``
    number of FIR coefficients (never "order"; an FIR of ``numtaps`` taps has order ``numtaps − 1``).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np

from sigbench._validate import finite_float, one_of, positive_int
from sigbench._version import __version__
from sigbench.errors import ValidationError

#: the two ways of turning ``snr_db`` into a noise level (see the module docstring)
NOISE_CONVENTIONS = ("sigma", "true")
#: spectral colours of generated noise and their PSD exponent α (PSD ∝ f^(−α))
COLORS: dict[str, float] = {"white": 0.0, "pink": 1.0, "brown": 2.0, "blue": -1.0, "violet": -2.0}
#: largest signal a generator builds in memory (samples × channels), a guard against typos like n=1e12
MAX_SAMPLES = 200_000_000


def check_n(n: Any, *, minimum: int = 1) -> int:
    """Validate a sample count: an integer in ``[minimum, MAX_SAMPLES]``."""
    value = positive_int("n", n, minimum=minimum)
    if value > MAX_SAMPLES:
        raise ValidationError(f"expected n <= {MAX_SAMPLES} samples; received: n={n!r}")
    return value


def check_seed(seed: Any) -> int:
    """Validate a seed: an integer >= 0 (what ``np.random.default_rng`` accepts)."""
    return positive_int("seed", seed, minimum=0)


def check_snr_db(snr_db: Any) -> float:
    """Validate an SNR in dB: finite, or ``+inf`` for no noise; NaN and −inf are refused."""
    if isinstance(snr_db, (int, float)) and not isinstance(snr_db, bool) and snr_db == math.inf:
        return math.inf
    if isinstance(snr_db, str) and snr_db.strip().lower() in ("inf", "+inf", "infinity"):
        return math.inf
    try:
        return finite_float("snr_db", snr_db)
    except ValidationError:
        raise ValidationError(
            f"expected snr_db to be a finite number of dB, or inf for no noise; received: snr_db={snr_db!r}"
        ) from None


def check_convention(value: Any) -> str:
    """Validate a noise convention name."""
    return one_of("noise_convention", value, NOISE_CONVENTIONS)


def float_tuple(name: str, value: Any, *, min_len: int = 1) -> tuple[float, ...]:
    """Return ``value`` (a number, a sequence of numbers, or a comma list ``"1,2"``) as finite floats."""
    if isinstance(value, str):
        parts = [p.strip() for p in value.replace(";", ",").split(",") if p.strip()]
        items: list[Any] = list(parts)
    elif isinstance(value, (int, float, np.number)) and not isinstance(value, bool):
        items = [value]
    elif isinstance(value, np.ndarray):
        items = list(value.ravel()) if value.ndim <= 1 else [value]
    elif isinstance(value, Iterable):
        items = list(value)
    else:
        raise ValidationError(f"expected {name} to be a list of numbers; received: {name}={value!r}")
    out: list[float] = []
    for item in items:
        try:
            number = float(item)
        except (TypeError, ValueError):
            raise ValidationError(f"expected {name} to be a list of numbers; received: {name}={value!r}") from None
        if isinstance(item, bool) or not math.isfinite(number):
            raise ValidationError(f"expected {name} to hold finite numbers; received: {name}={value!r}")
        out.append(number)
    if len(out) < min_len:
        raise ValidationError(f"expected {name} to hold at least {min_len} value(s); received: {name}={value!r}")
    return tuple(out)


def broadcast(name: str, values: tuple[float, ...], size: int, other: str) -> tuple[float, ...]:
    """Repeat a one-element tuple ``size`` times; else require ``size`` values (one per ``other``)."""
    if len(values) == 1:
        return values * size
    if len(values) != size:
        count = "1 value" if size == 1 else f"1 or {size} values"
        raise ValidationError(f"expected {name} to hold {count} (one per {other}); received: {name}={values!r}")
    return values


def noise_std(clean: np.ndarray, snr_db: float, convention: str) -> float:
    """The noise standard deviation that ``snr_db`` means under ``convention`` for this clean signal.

    Raises
    ------
    ValidationError
        ``convention="true"`` with a finite SNR on a clean signal of zero power (no SNR can be set).
    """
    if snr_db == math.inf:
        return 0.0
    if convention == "sigma":
        return float(10.0 ** (-snr_db / 20.0))
    power = float(np.mean(np.square(clean)))
    if power == 0.0:
        raise ValidationError(
            "expected a clean signal with non-zero power to set a true SNR; "
            "received: clean signal of all zeros (use noise_convention='sigma')"
        )
    return math.sqrt(power / 10.0 ** (snr_db / 10.0))


def add_noise(clean: np.ndarray, snr_db: float, convention: str, rng: np.random.Generator) -> tuple[np.ndarray, float]:
    """Return ``(clean + σ·w, σ)`` with ``w`` white standard Gaussian drawn from ``rng``.

    The noise is drawn even when σ = 0 (``snr_db=inf``), so every other draw of a seeded source stays the
    same whatever the SNR.
    """
    sigma = noise_std(clean, snr_db, convention)
    noise = rng.standard_normal(clean.shape)
    return clean + sigma * noise, sigma


def colored_noise(n: int, color: str, rng: np.random.Generator) -> np.ndarray:
    """Zero-mean Gaussian noise of ``n`` samples with PSD ∝ f^(−α), scaled to unit sample standard deviation.

    White noise is shaped in the frequency domain: ``rfft`` of white Gaussian noise times ``f^(−α/2)``, the DC
    bin set to zero, ``irfft`` back. For white noise the draw is used as is (only mean-removed and scaled).
    """
    alpha = COLORS[color]
    white = rng.standard_normal(n)
    if alpha == 0.0:
        out = white - white.mean()
    else:
        spectrum = np.fft.rfft(white)
        freqs = np.fft.rfftfreq(n)
        scale = np.zeros_like(freqs)
        scale[1:] = freqs[1:] ** (-alpha / 2.0)
        out = np.fft.irfft(spectrum * scale, n=n)
    std = float(np.std(out))
    if std == 0.0:  # n too small to hold any non-DC bin
        raise ValidationError(f"expected n >= 2 samples to shape {color} noise; received: n={n}")
    return out / std


def jsonable(value: Any) -> Any:
    """Convert parameters to plain JSON: tuples → lists, NumPy scalars → Python, ±inf/NaN → strings."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return [jsonable(v) for v in value.tolist()]
    if isinstance(value, np.generic):
        return jsonable(value.item())
    if isinstance(value, float) and not math.isfinite(value):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    return value


def make_metadata(
    source: str,
    params: dict[str, Any],
    *,
    seed: int | None = None,
    noise_convention: str | None = None,
    noise_std_: float | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """The metadata every source stores: source, params, seed, sigbench version, noise convention."""
    meta: dict[str, Any] = {"source": source, "params": jsonable(params), "sigbench_version": __version__}
    if seed is not None:
        meta["seed"] = int(seed)
    if noise_convention is not None:
        meta["noise_convention"] = noise_convention
    if noise_std_ is not None:
        meta["noise_std"] = float(noise_std_)
    for key, value in extra.items():
        meta[key] = jsonable(value)
    return meta
