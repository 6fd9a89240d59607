"""Regenerate the tiny sample files shipped in ``sigbench/datasets/samples/`` (deterministic).

Run from anywhere: ``python datasets/samples/make_samples.py``. It writes, next to itself:

``tones.wav``
    0.125 s of 16-bit PCM stereo at 8000 Hz (1000 samples): left 440 Hz at half scale, right 1 kHz at a
    quarter of full scale, plus a little white noise. About 4 KB.
``sensors.csv``
    A header ``time_s,accel,gyro`` and 200 rows sampled at 100 Hz: a 2 Hz sine plus noise and a slow
    1-pole low-pass random walk. About 5 KB.

Load them with ``sb.load_source("wav", sample_path("tones.wav"))`` and
``sb.load_source("csv", sample_path("sensors.csv"), time_column="time_s")``
(``from sigbench.datasets.importers import sample_path``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from scipy.io import wavfile

HERE = Path(__file__).resolve().parent


def make_wav(path: Path) -> None:
    """Write ``tones.wav``: int16 stereo, 8000 Hz, 1000 samples."""
    rng = np.random.default_rng(0)
    rate = 8000
    t = np.arange(1000) / rate
    left = 0.5 * np.sin(2 * np.pi * 440.0 * t) + 0.01 * rng.standard_normal(t.size)
    right = 0.25 * np.sin(2 * np.pi * 1000.0 * t) + 0.01 * rng.standard_normal(t.size)
    pcm = np.round(np.column_stack([left, right]) * 32767).astype(np.int16)
    wavfile.write(path, rate, pcm)


def make_csv(path: Path) -> None:
    """Write ``sensors.csv``: ``time_s,accel,gyro`` at 100 Hz, 200 rows."""
    rng = np.random.default_rng(1)
    rate = 100.0
    t = np.arange(200) / rate
    accel = np.sin(2 * np.pi * 2.0 * t) + 0.1 * rng.standard_normal(t.size)
    gyro = np.zeros(t.size)
    for k in range(1, t.size):
        gyro[k] = 0.95 * gyro[k - 1] + 0.1 * rng.standard_normal()
    lines = ["time_s,accel,gyro"] + [f"{ti:.2f},{a:.4f},{g:.4f}" for ti, a, g in zip(t, accel, gyro, strict=True)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def main() -> None:
    """Write every sample file next to this script."""
    make_wav(HERE / "tones.wav")
    make_csv(HERE / "sensors.csv")


if __name__ == "__main__":
    main()
