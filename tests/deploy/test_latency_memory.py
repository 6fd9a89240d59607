"""Streaming latency, real-time factor and memory footprint for every built-in processor."""

from __future__ import annotations

import math

import numpy as np
import pytest

import sigbench as sb
from sigbench.console import set_quiet
from sigbench.deploy import (
    DEPLOY_COLUMNS,
    LATENCY_COLUMNS,
    MEMORY_COLUMNS,
    deployment_costs,
    memory_footprint,
    streaming_latency,
)
from sigbench.errors import ProcessorError, ValidationError

WINDOW = 32
RATE = 10.0  # Hz: the founding task's 0.1 s step
#: small configurations of every built-in (neural ones: a couple of epochs)
CONFIG = {
    "dnn": {"units": (8,), "epochs": 2},
    "cnn": {"kernel_sizes": (3, 5), "filters": 2, "dense_units": (4,), "epochs": 2},
    "lstm": {"units": (4,), "timesteps": 4, "epochs": 2},
    "cnn-lstm": {"filters": 2, "kernel_size": 3, "units": (4,), "epochs": 2},
    "fir": {"numtaps": 31, "cutoff": 0.1},
    "fir-bank": {"bands": 4, "numtaps": 15, "mode": "features"},
    "goertzel": {"freqs": [1.0, 2.0]},
}
SPECTRUM = ("fft", "goertzel")


def founding(n: int) -> tuple[np.ndarray, np.ndarray]:
    t = np.arange(n) * 0.1
    clean = np.sin(t) + np.sin(np.pi * t / 2) + np.sin(-3 * np.pi * t / 2)
    return clean, clean + np.random.default_rng(0).normal(0, 10 ** (-10 / 20), n)


@pytest.fixture(scope="module")
def rows():
    set_quiet(True)
    clean, noisy = founding(1600)
    return sb.sliding_windows(noisy[:-1], WINDOW), clean[WINDOW:]


def _fitted(name, rows):
    X, y = rows
    cls = sb.get_processor(name)
    proc = cls(**CONFIG.get(name, {}))
    if name in SPECTRUM:  # the spectrum baselines take (rows, bins) targets: their own exact output
        targets = np.fft.rfft(np.asarray(X[:600]), norm="ortho")
        proc.fit(X[:600], np.concatenate([targets.real, targets.imag], axis=1)[:, :proc._width(WINDOW)],
                 sample_rate=RATE)
    else:
        proc.fit(X[:1000], y[:1000], sample_rate=RATE)
    return proc


BUILTINS = sorted(p["name"] for p in sb.list_processors())


@pytest.mark.parametrize("name", BUILTINS)
def test_every_builtin_has_finite_positive_deployment_columns(name, rows):
    proc = _fitted(name, rows)
    X, y = rows
    cols = deployment_costs(proc, X[1000:], sample_rate_hz=RATE, samples=200 if proc.family == "neural" else 300,
                            targets=y[1000:])
    for key in LATENCY_COLUMNS:
        assert math.isfinite(cols[key]) and cols[key] > 0, key
    assert cols["latency_us_p99"] >= cols["latency_us_p50"]
    assert cols["rtf"] == pytest.approx(1e6 / (cols["latency_us_p50"] * RATE))
    for key in MEMORY_COLUMNS:
        assert isinstance(cols[key], int) and cols[key] >= 0, key
    assert cols["weights_bytes_f32"] == 4 * cols["coefficients"] == 2 * cols["weights_bytes_q15"]
    assert cols["state_bytes_f32"] > 0 and cols["activation_bytes_f32"] > 0
    expected_path = "compiled" if proc.family == "neural" else ("predict_online" if proc.online else "predict")
    assert cols["latency_path"] == expected_path
    assert set(DEPLOY_COLUMNS) <= set(cols)


def test_latency_is_reproducible_within_the_documented_spread(rows):
    """docs/deployment.md: repeated p50s agree within a factor of 2 (shared machine: pre-emption)."""
    X, y = rows
    w = sb.get_processor("wiener")(numtaps=16).fit(X[:1000], y[:1000])
    p50 = [streaming_latency(w, X[1000:], sample_rate_hz=RATE, samples=1000)["latency_us_p50"] for _ in range(3)]
    assert max(p50) / min(p50) < 2.0


def test_cost_grows_with_the_work_per_sample(rows):
    """An RLS update (O(N²)) costs more per sample than a frozen FIR of the same taps."""
    X, y = rows
    w = sb.get_processor("wiener")(numtaps=32).fit(X[:1000], y[:1000])
    r = sb.get_processor("rls")(numtaps=32).fit(X[:1000], y[:1000])
    frozen = streaming_latency(w, X[1000:], sample_rate_hz=RATE, samples=500, runtime="predict")
    adapting = streaming_latency(r, X[1000:], sample_rate_hz=RATE, samples=500, targets=y[1000:],
                                 runtime="online")
    assert adapting["latency_us_p50"] > frozen["latency_us_p50"]


def test_online_timing_does_not_change_the_processor(rows):
    X, y = rows
    lms = sb.get_processor("lms")(numtaps=16).fit(X[:1000], y[:1000])
    before = lms.weights.copy()
    streaming_latency(lms, X[1000:], sample_rate_hz=RATE, samples=200, targets=y[1000:], runtime="online")
    np.testing.assert_array_equal(lms.weights, before)


def test_memory_counts_what_a_streaming_target_keeps(rows):
    X, y = rows
    w = memory_footprint(sb.get_processor("wiener")(numtaps=16).fit(X[:1000], y[:1000]))
    assert (w["coefficients"], w["weights_bytes_int8"], w["state_bytes_f32"]) == (17, 17, 64)  # 16 taps + intercept
    rls = memory_footprint(sb.get_processor("rls")(numtaps=8).fit(X[:1000], y[:1000]))
    assert rls["coefficients"] == 8 + 8 * 8  # weights and the inverse correlation matrix it adapts with
    dnn = _fitted("dnn", rows)
    m = memory_footprint(dnn)
    # Dense 32→8→1 plus the standardisation statistics (x shift/scale, y shift/scale)
    assert m["coefficients"] == (32 * 8 + 8) + (8 + 1) + 4
    assert m["activation_bytes_f32"] == 4 * (8 + 1)


@pytest.mark.parametrize("bad", [
    {"samples": 10},  # too few for a 99th percentile
    {"sample_rate_hz": 0.0},  # no rate to keep up with
    {"runtime": "gpu"},  # not a path
])
def test_invalid_arguments_are_refused(bad, rows):
    X, y = rows
    w = sb.get_processor("naive")().fit(X[:100], y[:100])
    kwargs = {"sample_rate_hz": RATE, **bad}
    with pytest.raises(ValidationError):
        streaming_latency(w, X, **kwargs)


def test_paths_that_do_not_apply_are_refused(rows):
    X, y = rows
    w = sb.get_processor("wiener")().fit(X[:200], y[:200])
    with pytest.raises(ProcessorError):
        streaming_latency(w, X, sample_rate_hz=RATE, runtime="compiled")  # no compiled call
    with pytest.raises(ProcessorError):
        streaming_latency(w, X, sample_rate_hz=RATE, runtime="online")  # not online
    with pytest.raises(ProcessorError):
        streaming_latency(w, X, sample_rate_hz=RATE, runtime="litert")  # a DSP processor does not export
    with pytest.raises(ProcessorError):
        streaming_latency(sb.get_processor("wiener")(), X, sample_rate_hz=RATE)  # not fitted
    with pytest.raises(ProcessorError):
        memory_footprint(sb.get_processor("wiener")())
