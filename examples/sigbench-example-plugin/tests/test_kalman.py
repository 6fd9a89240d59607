"""Physics of the local-level Kalman filter: unit DC gain, the running mean at q = 0, the closed-form
steady state, the error variance it promises, and the noise variances it estimates."""

import math

import numpy as np
import pytest
from sigbench_example.kalman import KalmanLevel, estimate_noise, kalman_gains, kalman_weights, steady_state

from sigbench import ValidationError, sliding_windows


def local_level(n, q, r, seed):
    rng = np.random.default_rng(seed)
    level = np.cumsum(rng.normal(scale=math.sqrt(q), size=n))
    return level, level + rng.normal(scale=math.sqrt(r), size=n)


@pytest.mark.parametrize(("q", "r"), [(0.01, 1.0), (1.0, 0.1), (0.0, 2.0)])
def test_weights_sum_to_one(q, r):
    assert kalman_weights(32, q, r).sum() == pytest.approx(1.0, abs=1e-12)


def test_q_zero_is_the_running_mean():
    np.testing.assert_allclose(kalman_gains(10, 0.0, 1.0), 1.0 / np.arange(1, 11), rtol=1e-12)
    np.testing.assert_allclose(kalman_weights(10, 0.0, 1.0), np.full(10, 0.1), rtol=1e-12)


@pytest.mark.parametrize(("q", "r"), [(0.01, 1.0), (0.5, 0.5), (2.0, 0.1)])
def test_gain_converges_to_the_riccati_solution(q, r):
    k_inf, p_inf = steady_state(q, r)
    m = p_inf / (1 - k_inf)  # predicted variance M = P + q solves M² = qM + qr
    assert m * m == pytest.approx(q * m + q * r, rel=1e-12)
    assert kalman_gains(400, q, r)[-1] == pytest.approx(k_inf, rel=1e-9)


def test_matches_the_sequential_filter():
    x = np.random.default_rng(3).normal(size=24)
    q, r = 0.2, 0.7
    s, p = x[0], r
    for t in range(1, x.size):
        m = p + q
        k = m / (m + r)
        s, p = s + k * (x[t] - s), (1 - k) * m
    assert x @ kalman_weights(x.size, q, r) == pytest.approx(s, rel=1e-12)


def test_error_variance_matches_the_steady_state_and_beats_the_raw_samples():
    q, r, window = 0.01, 1.0, 64
    level, x = local_level(60_000, q, r, seed=1)
    k = KalmanLevel(q=q, r=r).fit(sliding_windows(x[:20_000], window), level[window - 1:20_000])
    est = k.predict(sliding_windows(x[20_000:], window))
    mse = float(np.mean((est - level[20_000 + window - 1:]) ** 2))
    _, p_inf = steady_state(q, r)
    assert mse == pytest.approx(p_inf, rel=0.1)  # 0.095 for q=0.01, r=1 (window 64 ≫ 1/K∞ ≈ 10 samples)
    assert mse < 0.15 * r  # ≥ 8 dB better than the raw observations


def test_estimates_q_and_r_from_the_training_windows():
    q, r = 0.05, 0.5
    _, x = local_level(100_000, q, r, seed=2)
    q_hat, r_hat = estimate_noise(sliding_windows(x, 32))
    assert q_hat == pytest.approx(q, rel=0.2)
    assert r_hat == pytest.approx(r, rel=0.1)
    fitted = KalmanLevel().fit(sliding_windows(x[:-1], 32), x[32:])
    assert fitted.describe()["r"] == pytest.approx(r, rel=0.1)


def test_constant_signal_passes_unchanged():
    x = np.full(300, -1.25)
    k = KalmanLevel().fit(sliding_windows(x[:-1], 16), x[16:])
    np.testing.assert_allclose(k.predict(sliding_windows(x[:-1], 16)), -1.25, rtol=1e-12)


@pytest.mark.parametrize("kwargs", [
    {"q": -0.1},  # negative variance
    {"r": 0.0},  # no observation noise: the gain is undefined at q = 0
    {"r": float("nan")},  # not a number
    {"q": float("inf")},  # infinite
    {"q": "0.1"},  # a string, not a number
])
def test_invalid_parameters(kwargs):
    with pytest.raises(ValidationError):
        KalmanLevel(**kwargs)


def test_two_dimensional_targets_are_refused():
    x = np.random.default_rng(0).normal(size=100)
    with pytest.raises(ValidationError, match="one target per row"):
        KalmanLevel().fit(sliding_windows(x[:-2], 8), np.stack([x[8:], x[8:]], axis=1)[:-1])
