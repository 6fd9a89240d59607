"""LMS ``mu="auto"`` (a fraction of the mean-square stability bound) and the sustained-growth divergence rule."""

from __future__ import annotations

import itertools

import numpy as np
import padasip as pa
import pytest

from sigbench.errors import DivergedError, ValidationError
from sigbench.plugins.dsp._adaptive import GROWTH_DB, SETUP_ROWS
from sigbench.plugins.dsp.lms import AUTO_FRACTION, LMS
from sigbench.plugins.dsp.nlms import NLMS
from sigbench.windows import sliding_windows

WINDOW = 64


def founding(n: int = 5000, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """The founding signal (three sines, step 0.1 s) and its noisy observation at 10 dB."""
    t = np.arange(n) * 0.1
    clean = np.sin(t) + np.sin(np.pi * t / 2) + np.sin(-3 * np.pi * t / 2)
    return clean, clean + np.random.default_rng(seed).normal(0, 10 ** (-10 / 20), n)


@pytest.mark.parametrize("scale", [1e-3, 1.0, 1e3])
def test_default_mu_beats_naive_at_any_scale(scale):
    clean, noisy = founding()
    x, s = scale * noisy, scale * clean
    X, d = sliding_windows(x[:-1], WINDOW), s[WINDOW:]          # predict the next clean sample
    train = 4000 - WINDOW
    lms = LMS(numtaps=WINDOW).fit(X[:train], d[:train])
    err_lms = np.mean((lms.predict(X[train:]) - d[train:]) ** 2)
    err_naive = np.mean((np.asarray(X[train:])[:, -1] - d[train:]) ** 2)
    assert 10 * np.log10(err_naive / err_lms) > 3.0                   # clearly better than naive
    # the step follows the scale: P̂ ∝ scale², so mu_used · scale² is the same number
    power = np.mean(np.asarray(X[:SETUP_ROWS])[:, -1] ** 2)
    assert lms.describe()["mu_used"] == pytest.approx(AUTO_FRACTION * 2 / (3 * WINDOW * power), rel=1e-12)
    assert lms.describe()["mu_used"] * scale**2 == pytest.approx(0.1 * 2 / (3 * WINDOW * 1.6), rel=0.05)


def test_old_default_diverges_where_auto_converges_on_a_large_signal():
    # a yearly-series-like scale (E[x²] ≈ 3000): the old mu=0.005 is far beyond the stable range
    clean, noisy = founding()
    x = 43.0 * noisy
    X, d = sliding_windows(x[:-1], 8), 43.0 * clean[8:]
    with pytest.raises(DivergedError):
        LMS(numtaps=8, mu=0.005).fit(X[:3000], d[:3000])
    assert LMS(numtaps=8).fit(X[:3000], d[:3000]).convergence["steady_error_db"] < 10 * np.log10(np.mean(d**2))


@pytest.mark.parametrize("seed", range(6))
def test_growth_rule_flags_four_taps_at_six_tenths_of_the_loose_bound(seed):
    # the case: N=4 at 0.6 × 2/(N·E[x²]) grows by 20-65 dB in bursts, far below the overflow limit
    x = np.random.default_rng(seed).normal(size=4000)
    X, d = sliding_windows(x[:-1], 4), x[4:]
    power = np.mean(np.asarray(X[:SETUP_ROWS])[:, -1] ** 2)
    with pytest.raises(DivergedError, match=rf"dB above the targets' power \(limit {GROWTH_DB:g} dB\)") as info:
        LMS(numtaps=4, mu=0.6 * 2 / (4 * power)).fit(X, d)
    assert info.value.sample is not None and 0 < info.value.sample < 4000
    # the default step is stable on the same data: white input is unpredictable, so the error stays at the
    # target power (parts of 80 rows fluctuate by about ±1.5 dB)
    lms = LMS(numtaps=4).fit(X, d)
    target_db = 10 * np.log10(np.mean(d**2))
    assert max(lms.convergence["error_db"]) < target_db + 3.0
    assert lms.convergence["steady_error_db"] < target_db + 0.5


def test_growth_rule_ignores_loudness_changes():
    # quiet (-40 dB) first half, loud second half: NLMS tracks it; its error grows with the signal, not
    # against it, and no part's error exceeds its own targets' power by 20 dB
    rng = np.random.default_rng(7)
    x = rng.normal(size=6000)
    x[:3000] *= 0.01
    d = np.convolve(x, [0.6, -0.3, 0.2])[: x.size] + 0.05 * rng.normal(size=x.size) * (
        np.where(np.arange(x.size) < 3000, 0.01, 1.0))
    X = sliding_windows(x, 3)
    f = NLMS(numtaps=3, mu=0.5).fit(X, d[2:])
    errors = np.array(f.convergence["error_db"])
    assert errors[-1] > errors[0]                       # absolute error power rose (the signal got louder)
    np.testing.assert_allclose(f.weights[0][::-1], [0.6, -0.3, 0.2], atol=0.05)  # NLMS misadjustment at mu=0.5


@pytest.mark.parametrize("cuts", [(), (1,), (7, 300), (999, 1000, 1001), (500, 1500, 2500), (3982,)])
def test_fit_blocks_equals_fit_bit_for_bit_with_auto_mu(cuts):
    clean, noisy = founding(n=4000, seed=3)
    X, d = sliding_windows(noisy[:-1], 16), clean[16:]
    one = LMS(numtaps=16).fit(X, d)
    bounds = [0, *cuts, X.shape[0]]
    blocks = [(X[a:b], d[a:b]) for a, b in itertools.pairwise(bounds)]
    streamed = LMS(numtaps=16).fit_blocks(iter(blocks), rows=X.shape[0])
    assert streamed.step_size == one.step_size
    np.testing.assert_array_equal(streamed.weights, one.weights)
    for key in ("sample", "weights", "convergence_samples"):
        assert streamed.convergence[key] == one.convergence[key]
    np.testing.assert_allclose(streamed.convergence["error_db"], one.convergence["error_db"], rtol=1e-12)
    assert streamed.error_limit == one.error_limit


def test_prequential_lms_equals_padasip_sample_by_sample():
    # default mu: fit on the training rows, then predict-then-adapt on the test rows, equals padasip's one run
    clean, noisy = founding(n=3000, seed=5)
    X, d = sliding_windows(noisy[:-1], 8), clean[8:]
    lms = LMS(numtaps=8).fit(X[:2000], d[:2000])
    y_online = lms.predict_online(X[2000:], d[2000:])
    theirs = pa.filters.FilterLMS(8, mu=lms.step_size, w="zeros")
    y_ref, _, _ = theirs.run(d, np.array(X))
    np.testing.assert_allclose(y_online, y_ref[2000:], rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(lms.weights[0], theirs.w, rtol=1e-9)


def test_auto_mu_survives_save_and_load(tmp_path):
    clean, noisy = founding(n=1500, seed=6)
    X, d = sliding_windows(noisy[:-1], 8), clean[8:]
    f = LMS(numtaps=8).fit(X[:1000], d[:1000])
    g = LMS.load(f.save(tmp_path))
    assert g.mu == "auto" and g.step_size == f.step_size and g.describe()["mu_used"] == f.step_size
    np.testing.assert_array_equal(g.predict_online(X[1000:], d[1000:]), f.predict_online(X[1000:], d[1000:]))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"mu": "fast"}, r"mu to be a finite number"),  # a string other than "auto"
        ({"mu": 0.0}, r"mu > 0"),  # zero step never adapts
    ],
)
def test_invalid_mu(kwargs, message):
    with pytest.raises(ValidationError, match=message):
        LMS(**kwargs)


def test_auto_mu_refuses_all_zero_setup_rows():
    x = np.concatenate([np.zeros(1100), np.ones(100)])
    X = sliding_windows(x[:-1], 4)
    with pytest.raises(ValidationError, match=r"non-zero input in the first 1000 training rows"):
        LMS(numtaps=4).fit(X, x[4:])  # silence at the start: no scale to set the step from
