"""Every DSP processor driven on the founding signal (until the comparison engine exists)."""

from __future__ import annotations

import numpy as np
import pytest

import sigbench as sb
from sigbench.processor import DESCRIBE_KEYS
from sigbench.windows import sliding_windows

WINDOW, SPLIT = 64, 4000

# name -> constructor arguments for the predict-next-clean-sample task (sample_rate 10 Hz)
METHODS = {
    "naive": {},
    "linear-extrapolation": {"horizon": 1},
    "wiener": {"numtaps": 64},
    "lms": {"numtaps": 64, "mu": 0.005},
    "nlms": {"numtaps": 64, "mu": 0.1},
    "rls": {"numtaps": 64, "lam": 0.999, "delta": 0.1},
    "fir": {"numtaps": 31, "cutoff": 1.0},
    "fir-bank": {"numtaps": 31, "bands": 16, "mode": "features"},
}


@pytest.fixture(scope="module")
def founding():
    rng = np.random.default_rng(2024)
    t = np.arange(5000) * 0.1
    clean = np.sin(t) + np.sin(np.pi * t / 2) + np.sin(-3 * np.pi * t / 2)
    noisy = clean + rng.normal(0, 10 ** (-10 / 20), t.size)
    X = sliding_windows(noisy[:-1], WINDOW)  # row i ends at sample i + 63 …
    y = clean[WINDOW:]  # … and predicts the next clean sample
    cut = SPLIT - WINDOW  # windows and targets of the first 4000 samples train
    return X[:cut], y[:cut], X[cut:], y[cut:]


def prediction_snr_db(y, pred):
    return 10 * np.log10(np.mean(y**2) / np.mean((y - pred) ** 2))


@pytest.fixture(scope="module")
def scores(founding):
    Xtr, ytr, Xte, yte = founding
    out = {}
    for name, kwargs in METHODS.items():
        p = sb.get_processor(name)(**kwargs).fit(Xtr, ytr, sample_rate=10.0)
        pred = p.predict(Xte)
        assert pred.shape == yte.shape and np.isfinite(pred).all()
        out[name] = prediction_snr_db(yte, pred)
    return out


def test_registered_through_the_hook(host):
    names = set(host.registry.names("processors"))
    assert {"naive", "linear-extrapolation", "wiener", "lms", "nlms", "rls", "fir", "fir-bank", "fft",
            "goertzel"} <= names
    for name in names & set(METHODS):
        assert host.registry.get("processors", name).obj.family == "dsp"
    assert repr(sb.get_processor("lms")(numtaps=64, mu=0.005)) == "LMS(numtaps=64, mu=0.005)"


def test_wiener_reaches_the_least_squares_level(scores):
    assert scores["wiener"] > 15.0  # public 64-tap least-squares re-runs reach about 20 dB


def test_adaptive_filters_beat_naive_and_stay_below_the_bound(scores):
    for name in ("lms", "nlms", "rls"):
        assert scores[name] > scores["naive"] + 3.0, name
        assert scores[name] < scores["wiener"] + 0.5, name  # the bound (up to test-set luck)
    assert scores["fir-bank"] > scores["naive"]


def test_online_protocol_on_the_test_segment(founding, scores):
    Xtr, ytr, Xte, yte = founding
    lms = sb.get_processor("lms")(numtaps=64, mu=0.005).fit(Xtr, ytr)
    online = lms.predict_online(Xte, yte)
    assert prediction_snr_db(yte, online) > scores["naive"]


@pytest.mark.parametrize("name", sorted(METHODS))
def test_describe_and_round_trip(name, founding, tmp_path):
    Xtr, ytr, Xte, _ = founding
    p = sb.get_processor(name)(**METHODS[name]).fit(Xtr, ytr, sample_rate=10.0)
    info = p.describe()
    assert set(DESCRIBE_KEYS) <= set(info) and info["family"] == "dsp"
    assert info["macs_per_sample"] >= 0 and info["memory_bytes"] >= 0
    p.save(tmp_path)
    q = type(p).load(tmp_path)
    np.testing.assert_array_equal(q.predict(Xte), p.predict(Xte))
