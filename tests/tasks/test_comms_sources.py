"""The channel, anc and tone-detect sources: ground truth stored, noise at the promised level."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.signal

import sigbench as sb
from sigbench.datasets.comms import CHANNELS, CUBIC, apply_channel, noise_std_for_ebn0
from sigbench.errors import ValidationError


def _variance_ok(x: np.ndarray, variance: float, sigmas: float = 5.0) -> bool:
    """Sample variance within `sigmas` standard errors (Gaussian: sd of s² is σ²·√(2/n))."""
    return abs(float(np.var(x)) - variance) <= sigmas * variance * math.sqrt(2.0 / x.size)


@pytest.mark.parametrize(("name", "taps"), [("proakis-b", [0.407, 0.815, 0.407]), ("cgc", [0.3482, 0.8704, 0.3482])])
def test_channel_stores_symbols_taps_and_the_noiseless_output(name, taps):
    sig = sb.generate("channel", n=20000, channel=name, ebn0_db=6.0, seed=0)
    assert sig.metadata["channel"]["taps"] == taps
    assert set(np.unique(sig.clean)) == {-1.0, 1.0}
    assert np.allclose(sig.aux["channel_output"], scipy.signal.lfilter(taps, [1.0], sig.clean))
    sigma = noise_std_for_ebn0(6.0, taps)
    assert sigma == pytest.approx(math.sqrt(sum(t * t for t in taps) / (2 * 10 ** 0.6)))
    assert _variance_ok(sig.data - sig.aux["channel_output"], sigma**2)


def test_channel_4pam_levels_energy_and_cubic_nonlinearity():
    sig = sb.generate("channel", n=40000, levels=4, channel="cgc", nonlinearity="cubic", ebn0_db=10.0, seed=1)
    assert set(np.unique(sig.clean)) == {-3.0, -1.0, 1.0, 3.0}
    assert np.mean(sig.clean**2) == pytest.approx(5.0, rel=0.03)  # (M² − 1)/3
    v = scipy.signal.lfilter(CHANNELS["cgc"], [1.0], sig.clean)
    assert np.allclose(sig.aux["channel_output"], v + 0.2 * v**2 - 0.1 * v**3)
    assert sig.metadata["channel"]["poly_coefficients"] == list(CUBIC)
    assert np.allclose(apply_channel(sig.clean, CHANNELS["cgc"], CUBIC), sig.aux["channel_output"])
    eb = 5.0 * sum(t * t for t in CHANNELS["cgc"]) / 2.0
    assert _variance_ok(sig.data - sig.aux["channel_output"], eb / (2 * 10.0))


def test_channel_keeps_symbols_when_only_the_noise_level_changes():
    a = sb.generate("channel", n=500, ebn0_db=0.0, seed=3)
    b = sb.generate("channel", n=500, ebn0_db=20.0, seed=3)
    c = sb.generate("channel", n=500, ebn0_db=20.0, seed=4)
    assert np.array_equal(a.clean, b.clean) and not np.array_equal(b.clean, c.clean)
    noise_a, noise_b = a.data - a.aux["channel_output"], b.data - b.aux["channel_output"]
    assert np.allclose(noise_a * 10.0, noise_b * 10.0 ** 2)  # the same draw, scaled by 10^(Δ/20)


def test_channel_custom_taps_and_no_noise():
    sig = sb.generate("channel", n=300, taps=(1.0, -0.5), ebn0_db=float("inf"), seed=0)
    assert sig.metadata["channel"]["name"] == "custom"
    assert np.array_equal(sig.data, sig.aux["channel_output"])


@pytest.mark.parametrize("params", [
    {"levels": 3},  # odd number of levels
    {"channel": "proakis-z"},  # unknown channel
    {"taps": (0.0, 0.0)},  # all-zero taps
    {"nonlinearity": "poly", "poly_coefficients": (1.0,)},  # constant "nonlinearity"
    {"ebn0_db": float("nan")},  # NaN Eb/N0
    {"nonlinearity": "square"},  # unknown nonlinearity
])
def test_channel_refuses(params):
    with pytest.raises(ValidationError):
        sb.generate("channel", n=100, **params)


def test_anc_primary_is_signal_plus_the_reference_through_the_true_path():
    sig = sb.generate("anc", n=20000, numtaps=6, snr_db=-3.0, sensor_snr_db=40.0, seed=2)
    primary, reference = sig.data[:, 0], sig.data[:, 1]
    b = np.asarray(sig.metadata["noise_path"]["b"])
    assert b.size == 6 and sig.channel_names == ("primary", "reference")
    assert np.array_equal(reference, sig.clean[:, 1])
    interference = scipy.signal.lfilter(b, [1.0], reference)
    assert np.allclose(sig.aux["interference"], interference)
    s = sig.clean[:, 0]
    assert 10 * np.log10(np.mean(s**2) / np.mean(interference**2)) == pytest.approx(-3.0, abs=1e-9)
    sensor = primary - s - interference
    assert _variance_ok(sensor, np.mean(s**2) / 1e4)


def test_anc_given_path_is_scaled_not_reshaped():
    sig = sb.generate("anc", n=5000, path=(1.0, 0.5, 0.25), snr_db=0.0, seed=0)
    b = np.asarray(sig.metadata["noise_path"]["b"])
    assert np.allclose(b / b[0], [1.0, 0.5, 0.25])
    assert sig.metadata["interference_gain"] == pytest.approx(b[0])


@pytest.mark.parametrize("params", [
    {"snr_db": float("inf")},  # nothing to cancel
    {"signal_frequencies_hz": (600.0,)},  # above Nyquist of 1 kHz
    {"path": (0.0,)},  # all-zero path
    {"reference_color": "red"},  # unknown colour
])
def test_anc_refuses(params):
    with pytest.raises(ValidationError):
        sb.generate("anc", n=100, **params)


def test_tone_detect_labels_segments_prior_and_deflection():
    sig = sb.generate("tone-detect", n=64 * 4000 + 10, segment=64, prior=0.3, snr_db=-6.0, seed=5)
    labels = np.asarray(sig.metadata["segment_labels"])
    assert labels.size == 4000 == sig.metadata["n_segments"]
    p_hat = labels.mean()
    assert abs(p_hat - 0.3) < 4 * math.sqrt(0.3 * 0.7 / 4000)
    assert np.array_equal(sig.aux["label"][: 64 * 4000], np.repeat(labels, 64))
    assert not sig.aux["label"][-10:].any() and not sig.clean[-10:].any()
    tones = sig.clean[: 64 * 4000].reshape(-1, 64)
    assert not tones[labels == 0].any()
    amplitude = sig.metadata["amplitude"]
    assert amplitude**2 / 2 == pytest.approx(10 ** -0.6)  # per-sample SNR with σ = 1
    expected = amplitude * np.cos(2 * np.pi * 1000.0 * np.arange(64) / 8000.0)
    assert np.allclose(tones[labels == 1], expected)  # known phase: 0 at each segment start
    assert sig.metadata["deflection"] == pytest.approx(np.linalg.norm(expected))
    assert _variance_ok(sig.data - sig.clean, 1.0)


def test_tone_detect_random_phase_varies_by_segment():
    sig = sb.generate("tone-detect", n=64 * 200, segment=64, prior=1.0, phase="random", snr_db=0.0, seed=0)
    tones = sig.clean.reshape(-1, 64)
    assert np.std(tones[:, 0]) > 0.3 * sig.metadata["amplitude"]
    assert np.allclose(np.sum(tones**2, axis=1), sig.metadata["energy"], rtol=0.1)


@pytest.mark.parametrize("params", [
    {"n": 10, "segment": 64},  # shorter than one segment
    {"frequency_hz": 4000.0},  # at Nyquist
    {"prior": 1.5},  # not a probability
    {"phase": "unknown"},  # unknown phase mode
    {"snr_db": float("inf")},  # infinite SNR
])
def test_tone_detect_refuses(params):
    with pytest.raises(ValidationError):
        sb.generate("tone-detect", **{"n": 1024, **params})
