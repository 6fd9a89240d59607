"""Streamed generation: a source's signal written chunk by chunk (10⁹ samples and more, bounded memory).

:func:`stream_generate` writes the same numbers as :func:`sigbench.generate` for the same ``n`` and ``seed``:
NumPy's ``Generator`` draws the same stream whether ``standard_normal`` is called once or chunk by chunk.
"""

from __future__ import annotations

import functools
import json
import math
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from sigbench._validate import positive_int
from sigbench.errors import ValidationError
from sigbench.h5 import CHUNK_SAMPLES, atomic_h5, attach_dimension_scales, new_signal_group
from sigbench.metrics import RunningMoments

__all__ = ["STREAM_SOURCES", "stream_generate"]

#: samples generated per chunk by default (8 MiB of float64)
DEFAULT_CHUNK_SAMPLES = 2**20

#: sources :func:`stream_generate` can write chunk by chunk
STREAM_SOURCES = ("sines", "noise")


def _chunked_moments(draw: Callable[[int], np.ndarray], n: int, chunk: int) -> tuple[float, float]:
    """Mean and Σ(x − mean)² of a stream drawn chunk by chunk (Chan et al. combination)."""
    moments = RunningMoments()
    for s0 in range(0, n, chunk):
        moments.add(draw(min(chunk, n - s0)))
    return moments.mean, moments.m2


def _sines_clean(pairs: list[tuple[float, float]], step: float, s0: int, s1: int) -> np.ndarray:
    """Samples ``s0 … s1−1`` of ``Σ a·sin(ω·k·step)``, computed as ``sigbench.datasets.synthetic.sines`` does."""
    t = np.arange(s0, s1) * step
    out = np.zeros(s1 - s0)
    for a, w in pairs:
        out += a * np.sin(w * t)
    return out


def stream_generate(source: str, path: str | os.PathLike[str], n: int, seed: int = 0, *,
                    chunk_samples: int = DEFAULT_CHUNK_SAMPLES, dtype: str = "float64",
                    **params: Any) -> Path:
    """Generate a source's signal chunk by chunk into a new sigbench file (no sample limit, bounded memory).

    The samples equal those of ``sigbench.generate(source, n=n, seed=seed, **params)`` — bit for bit for
    ``sines`` with ``noise_convention="sigma"`` (the default), to rounding where the source normalises by
    a whole-signal statistic (``sines`` with ``"true"``: the clean power; ``noise``: mean and standard
    deviation, computed in a first pass that draws the same stream).

    Parameters
    ----------
    source : {"sines", "noise"}
        ``noise`` with ``color="white"`` only (coloured noise is shaped by one FFT over the whole record).
    path : path-like
        The file to write (atomically; replaced if it exists).
    n : int
        Samples, any number ≥ 1 (≥ 2 for ``noise``): 10⁹ is fine.
    seed : int, default 0
    chunk_samples : int, default 2**20
        Samples generated and written per step.
    dtype : {"float64", "float32"}, default "float64"
        Storage type of ``data`` and ``clean`` (float32 halves the file; the numbers are rounded once).
    **params
        The source's parameters (``snr_db``, ``step_s``, …).

    Returns
    -------
    Path
        ``path``.

    Raises
    ------
    ValidationError
        An unknown or unsupported source, a bad parameter (the source's own checks), a bad dtype.
    """
    from sigbench.datasets._common import COLORS
    from sigbench.registry import generate

    if source not in STREAM_SOURCES:
        raise ValidationError(f"expected a source that streams ({', '.join(STREAM_SOURCES)}); received: {source!r}")
    n = positive_int("n", n, minimum=2 if source == "noise" else 1)
    chunk = positive_int("chunk_samples", chunk_samples)
    if dtype not in ("float64", "float32"):
        raise ValidationError(f"expected dtype float64 or float32; received: dtype={dtype!r}")
    probe = generate(source, n=min(n, 64) if source == "sines" else max(2, min(n, 64)), seed=seed, **params)
    meta = json.loads(json.dumps(probe.metadata))
    meta["params"]["n"] = n
    p = meta["params"]
    rng = np.random.default_rng(p["seed"])
    clean_fn: Callable[[int, int], np.ndarray] | None = None
    std = 1.0
    if source == "sines":
        pairs = [(float(a), float(w)) for a, w in zip(p["amplitudes"], p["frequencies_rad_s"], strict=True)]
        snr = float(p["snr_db"])
        clean_fn = functools.partial(_sines_clean, pairs, float(p["step_s"]))

        if snr == math.inf:
            sigma = 0.0
        elif p["noise_convention"] == "sigma":
            sigma = float(10.0 ** (-snr / 20.0))
        else:
            fn = clean_fn
            power = sum(float(np.sum(np.square(fn(s0, min(s0 + chunk, n))))) for s0 in range(0, n, chunk)) / n
            if power == 0.0:
                raise ValidationError("expected a clean signal with non-zero power to set a true SNR; "
                                      "received: clean signal of all zeros (use noise_convention='sigma')")
            sigma = math.sqrt(power / 10.0 ** (snr / 10.0))
        meta["noise_std"] = float(sigma)
        scale, shift = sigma, 0.0
    else:
        if COLORS[p["color"]] != 0.0:
            raise ValidationError(f"expected color='white' for a streamed noise source (coloured noise needs one FFT "
                                  f"over the whole record); received: color={p['color']!r}")
        mean, m2 = _chunked_moments(np.random.default_rng(p["seed"]).standard_normal, n, chunk)
        std = math.sqrt(m2 / n)
        if std == 0.0:
            raise ValidationError(f"expected n >= 2 samples to shape white noise; received: n={n}")
        scale, shift = float(p["std"]), mean
    target = Path(path)
    from sigbench.outputs import check_disk_space

    check_disk_space(target, n * np.dtype(dtype).itemsize * (2 if clean_fn is not None else 1))
    with atomic_h5(target, keep=False) as f:
        sg = new_signal_group(f, probe.name, sample_rate_hz=probe.sample_rate_hz, t0_s=probe.t0_s,
                              units=probe.units, channel_names=probe.channel_names, metadata=meta)
        chunks = (min(n, CHUNK_SAMPLES),)
        data = sg.create_dataset("data", shape=(n,), dtype=dtype, chunks=chunks)
        clean = sg.create_dataset("clean", shape=(n,), dtype=dtype, chunks=chunks) if clean_fn else None
        for s0 in range(0, n, chunk):
            s1 = min(s0 + chunk, n)
            w = rng.standard_normal(s1 - s0)
            if clean_fn is not None and clean is not None:
                c = clean_fn(s0, s1)
                data[s0:s1] = c + scale * w
                clean[s0:s1] = c
            else:
                data[s0:s1] = scale * ((w - shift) / std)
        attach_dimension_scales(sg)
    return target
