"""The ``spectrum`` task (the founding article's DFT experiment): frames, the exact FFT reference, the float32
floor, and no excess column over an exact reference."""

from __future__ import annotations

import math

import numpy as np
import pytest

import sigbench as sb
from sigbench.metrics import (
    EXACT_NMSE_DB,
    METRICS,
    ErrorSums,
    excess_float32_db,
    finite_excess,
    variance_from_metrics,
)
from sigbench.registry import get_task
from sigbench.run.plan import DEFAULT_METHODS, default_methods


def white(n: int, seed: int = 0) -> sb.Signal:
    return sb.generate("noise", n=n, seed=seed)


def test_defaults_reproduce_the_article_setup():
    task = get_task("spectrum")
    assert task.reference == "fft"
    expected = ("dnn:preset=dft", "fft", "fft:dtype=float32", "wiener")
    assert default_methods(task) == expected == DEFAULT_METHODS["spectrum"]  # the CLI announces the latter
    assert task.main_metric == "snr_db" and "excess_float32_db" in task.metrics


def test_frames_every_sample_by_default_and_targets_are_the_exact_dft():
    sig = white(1000)
    data = get_task("spectrum").prepare(sig, window=64)
    assert data.hop == 1 and len(data) == 1000 - 64 + 1  # n − window + 1 frames
    frames = np.asarray(data.inputs)
    assert np.array_equal(frames[5], sig.data[5:69])
    spec = np.fft.rfft(frames, axis=1, norm="ortho")
    assert np.array_equal(data.targets, np.concatenate([spec.real, spec.imag], axis=1))
    # an explicit hop still frames by it (non-overlapping frames: the window)
    assert len(get_task("spectrum").prepare(sig, window=64, hop=64)) == (1000 - 64) // 64 + 1


def test_default_frames_are_enough_for_the_reference_where_non_overlapping_ones_are_not():
    # 5000 samples, window 64: hop 64 gives 46 training frames for the 65 unknowns of each bin's affine map
    # (the reference failed there); hop 1 gives ~2900
    sig = white(5000)
    res = sb.compare(sig, "spectrum", ["fft", "wiener"], window=64, seeds=1)
    assert [r.status for r in res.rows] == ["ok", "ok"], [r.error for r in res.rows]
    assert res.row("fft").role == "reference"
    assert res.row("fft").metrics["snr_db"] == math.inf  # exact: the same transform, no rounding difference
    assert res.row("wiener").metrics["snr_db"] > 250  # the DFT is linear: least squares finds it to rounding
    short = sb.compare(sig, "spectrum", ["fft", "wiener"], window=64, hop=64, seeds=1)
    assert short.row("wiener").status == "failed"


def test_no_excess_column_over_an_exact_reference():
    sig = white(3000)
    for reference in ("fft", "wiener"):  # MSE 0, and MSE at float64 rounding (~1e-30): both exact
        res = sb.compare(sig, "spectrum", ["fft", "wiener"], window=32, seeds=1, reference=reference)
        for row in res.rows:
            assert not [k for k in row.metrics if k.startswith("excess_") and k != "excess_float32_db"
                        and not k.endswith("_ci")], (reference, row.method, row.metrics)
    # a reference that is not exact keeps its column (the predict task's Wiener filter on noisy sines)
    res = sb.compare(sb.generate("sines", n=2000, seed=0), methods=["wiener", "naive"], window=16)
    assert math.isfinite(res.row("naive").metrics["excess_db"]) and res.row("naive").metrics["excess_db"] > 0


@pytest.mark.parametrize(("bound", "variance", "expected"), [
    (1e-3, 1.0, True),          # an ordinary reference
    (1e-21, 1.0, False),        # −210 dB: rounding
    (1e-19, 1.0, True),         # −190 dB: above the threshold
    (2e-28, 1e8, False),        # relative to the targets' scale: −236 dB
    (0.0, 1.0, False),          # bit-exact
    (0.0, None, False),
    (1e-30, None, True),        # unknown variance: only an MSE of 0 is exact
    (math.inf, 1.0, False),     # no usable bound
    (math.nan, 1.0, False),
    (None, 1.0, False),
])
def test_finite_excess_threshold(bound, variance, expected):
    assert finite_excess(bound, variance) is expected


def test_variance_from_metrics_recovers_the_test_variance(rng):
    y = rng.normal(3.0, 2.0, 400)
    p = y + rng.normal(0, 0.1, 400)
    metrics = {name: METRICS[name][0](y, p, {}) for name in ("mse", "nmse_db")}
    assert variance_from_metrics(metrics) == pytest.approx(np.var(y), rel=1e-12)
    assert variance_from_metrics({"mse": 0.0, "nmse_db": -math.inf}) is None  # an exact row says nothing
    assert variance_from_metrics({"mse": 1.0}) is None
    assert EXACT_NMSE_DB == -200.0


def test_excess_float32_is_zero_db_for_the_exact_answer_stored_in_float32(rng):
    y = rng.normal(size=(300, 10))
    stored = y.astype(np.float32).astype(np.float64)
    assert excess_float32_db(y, stored, {}) == pytest.approx(0.0, abs=1e-12)
    assert excess_float32_db(y, y, {}) == -math.inf  # exact in float64
    # no float32 output can do better: every float32 prediction near the target has ≥ 0 dB
    for scale in (1e-9, 1e-7, 1e-4):
        pred = (y + rng.normal(0, scale, y.shape)).astype(np.float32).astype(np.float64)
        assert excess_float32_db(y, pred, {}) >= 0.0
    # the formula: error energy over the rounding energy
    pred = y + 1e-3
    want = 10 * np.log10(np.sum((y - pred) ** 2) / np.sum((y - stored) ** 2))
    assert excess_float32_db(y, pred, {}) == pytest.approx(want, rel=1e-12)
    # float32-representable targets: no rounding to compare with
    assert excess_float32_db(stored, stored + 1e-3, {}) == math.inf


def test_excess_float32_accumulates_block_by_block(rng):
    y = rng.normal(size=(500, 6))
    p = (y + rng.normal(0, 1e-6, y.shape)).astype(np.float32).astype(np.float64)
    acc = ErrorSums("excess_float32_db")
    for start in range(0, 500, 77):
        acc.add(y[start:start + 77], p[start:start + 77], {})
    assert acc.value({}) == pytest.approx(excess_float32_db(y, p, {}), rel=1e-10)


def test_streamed_spectrum_run_equals_the_in_memory_one(tmp_path):
    path = tmp_path / "noise.h5"
    sb.save_signal(white(3000), path)
    kwargs = {"window": 32, "seeds": 1, "reference": "fft"}
    memory = sb.compare(path, "spectrum", ["fft", "wiener"], stream=False, **kwargs)
    streamed = sb.compare(path, "spectrum", ["fft", "wiener"], stream=True, chunk_samples=700, **kwargs)
    for a, b in zip(memory.rows, streamed.rows, strict=True):
        assert a.method == b.method
        for key in ("snr_db", "excess_float32_db"):
            assert a.metrics[key] == pytest.approx(b.metrics[key], rel=1e-9), (a.method, key)
