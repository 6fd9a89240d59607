"""Model limits: ``sines-ml`` (maximum-likelihood phases) and ``ar-kalman`` (Kalman with the true model)."""

from __future__ import annotations

import math

import numpy as np
import pytest

import sigbench as sb
from sigbench.errors import ValidationError
from sigbench.plugins.dsp.ar_kalman import ARKalman, conditional_weights, kalman_weights
from sigbench.plugins.dsp.sines_ml import SinesML, phase_crb
from sigbench.windows import sliding_windows

WINDOW = 64


def sine_windows(oracle: SinesML, rows: int, seed: int, horizon: int = 1):
    """Windows of the oracle's own model at uniformly random phases, the clean target ``horizon`` ahead."""
    rng = np.random.default_rng(seed)
    phases = rng.uniform(-math.pi, math.pi, size=(rows, oracle.omegas.size))
    j = np.arange(WINDOW + horizon)
    clean = np.sin(j[None, :, None] * oracle.omegas[None, None, :] + phases[:, None, :]) @ oracle.amplitudes
    noisy = clean[:, :WINDOW] + oracle.noise_std * rng.normal(size=(rows, WINDOW))
    return noisy, clean[:, -1], phases


@pytest.mark.parametrize("snr_db", [0.0, 10.0, 20.0])
def test_sines_oracle_reaches_its_cramer_rao_limit(snr_db):
    # the founding model (three unit sines, step 0.1 s); 3000 windows: the MSE is known to about ±0.15 dB
    oracle = SinesML(snr_db=snr_db)
    X, y, phases = sine_windows(oracle, 3000, seed=int(snr_db) + 1)
    oracle.fit(X, y, context=sb.TaskContext(task="predict", window=WINDOW, horizon=1))
    mse = np.mean((oracle.predict(X) - y) ** 2)
    crb = np.mean(phase_crb(phases, oracle.omegas, oracle.amplitudes, oracle.noise_std, WINDOW, WINDOW))
    assert abs(10 * np.log10(mse / crb)) < 1.0
    # the limit is far below what any linear filter of the window can do: the least-squares FIR fitted on
    # these very rows (a linear oracle) stays more than 3 dB above it
    lin = np.linalg.lstsq(X, y, rcond=None)[0]
    assert 10 * np.log10(np.mean((X @ lin - y) ** 2) / crb) > 3.0


def test_sines_crb_is_k_sigma2_over_w_for_resolved_frequencies():
    # well separated frequencies (JᵀJ ≈ diag(a²W/2)): the average limit is K·σ²/W whatever the amplitudes
    oracle = SinesML(frequencies_hz=(50.0, 120.0, 310.0), sample_rate_hz=1000.0, amplitudes=(1.0, 0.5, 2.0),
                     snr_db=10.0)
    X, y, _ = sine_windows(oracle, 10, seed=0)
    oracle.fit(X, y)
    sigma2 = oracle.noise_std**2
    assert oracle.crb_error_power() == pytest.approx(3 * sigma2 / WINDOW, rel=0.08)


def test_sines_oracle_uses_the_runs_horizon_and_the_denoise_target():
    oracle = SinesML(snr_db=math.inf)
    X, y, phases = sine_windows(oracle, 50, seed=3, horizon=5)
    oracle.fit(X, y, context=sb.TaskContext(task="predict", window=WINDOW, horizon=5))
    np.testing.assert_allclose(oracle.predict(X), y, atol=1e-9)          # noiseless: exact extrapolation
    centre = np.sin(oracle.omegas * (WINDOW // 2) + phases) @ oracle.amplitudes
    oracle.fit(X, centre, context=sb.TaskContext(task="denoise", window=WINDOW, centered=True))
    np.testing.assert_allclose(oracle.predict(X), centre, atol=1e-9)
    with pytest.raises(ValidationError, match="predict or denoise task"):
        oracle.fit(X, y, context=sb.TaskContext(task="identify", window=WINDOW))


def test_sines_oracle_from_a_generated_signals_metadata():
    for sig in (sb.generate("sines", n=400, seed=0, snr_db=10), sb.generate("tones", n=400, seed=0, snr_db=20)):
        oracle = SinesML.from_metadata(sig.metadata)
        assert oracle.noise_std == sig.metadata["noise_std"]
        X, y = sliding_windows(sig.data[:-1], WINDOW), sig.clean[WINDOW:]
        oracle.fit(X, y)
        err = np.mean((oracle.predict(X) - y) ** 2)
        assert err < 3 * oracle.crb_error_power()             # the average limit, on one realisation
        assert err < np.mean((np.asarray(X)[:, -1] - y) ** 2) / 10


def test_ar_kalman_without_observation_noise_is_the_ar_recursion():
    sig = sb.generate("ar", n=20_000, seed=2, coefficients=(0.75, -0.5), noise_std=0.7)
    X, y = sliding_windows(sig.data[:-1], 8), sig.clean[8:]
    oracle = ARKalman.from_metadata(sig.metadata).fit(X, y)
    np.testing.assert_allclose(oracle.weights[-2:], [-0.5, 0.75], atol=1e-12)
    np.testing.assert_allclose(oracle.weights[:-2], 0.0, atol=1e-12)
    # error power = the innovation variance q = 0.49 (20 000 rows: ±2 %)
    assert np.mean((oracle.predict(X) - y) ** 2) == pytest.approx(0.49, rel=0.04)
    assert oracle.describe()["expected_error_power"] == pytest.approx(0.49, rel=1e-9)


@pytest.mark.parametrize("horizon", [1, 3])
def test_ar_kalman_with_observation_noise_is_the_conditional_mean(horizon):
    sig = sb.generate("ar", n=30_000, seed=4, coefficients=(1.2, -0.6), snr_db=5.0)
    X, y = sliding_windows(sig.data[: sig.n_samples - horizon], 16), sig.clean[15 + horizon:]
    oracle = ARKalman.from_metadata(sig.metadata)
    oracle.fit(X, y, context=sb.TaskContext(task="predict", window=16, horizon=horizon))
    r = sig.metadata["noise_std"] ** 2
    np.testing.assert_allclose(oracle.weights, conditional_weights((1.2, -0.6), 1.0, r, 16, 15 + horizon),
                               rtol=1e-8, atol=1e-10)
    mse = np.mean((oracle.predict(X) - y) ** 2)
    assert mse == pytest.approx(oracle.expected_error_power(), rel=0.05)        # theory = measurement
    # and a least-squares FIR of the window fitted on other rows does not do better on these (to rounding
    # of the cross term: ±0.5 %)
    lin = np.linalg.lstsq(np.asarray(X[:15_000]), y[:15_000], rcond=None)[0]
    test = slice(15_000, None)
    oracle_mse = np.mean((oracle.predict(X[test]) - y[test]) ** 2)
    assert oracle_mse <= np.mean((np.asarray(X[test]) @ lin - y[test]) ** 2) * 1.005


def test_kalman_and_conditioning_agree_at_the_window_end():
    np.testing.assert_allclose(kalman_weights((0.5, 0.2, -0.3), 2.0, 0.7, 12, 11),
                               conditional_weights((0.5, 0.2, -0.3), 2.0, 0.7, 12, 11), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize(
    ("cls", "kwargs", "message"),
    [
        (SinesML, {"frequencies_hz": (50.0,)}, "frequencies_hz with sample_rate_hz"),  # no sampling rate
        (SinesML, {"frequencies_rad_s": (40.0,)}, "below Nyquist"),  # 4 rad/sample at step 0.1 s
        (SinesML, {"amplitudes": (1.0, 2.0)}, "one amplitude or one per frequency"),  # 2 amplitudes, 3 sines
        (SinesML, {"snr_db": float("nan")}, "snr_db"),  # NaN SNR
        (ARKalman, {"coefficients": (1.0,)}, "stable AR process"),  # a random walk
        (ARKalman, {"coefficients": ()}, "finite AR coefficients"),  # no coefficients
        (ARKalman, {"noise_std": 0.0}, "noise_std > 0"),  # no innovation
    ],
)
def test_invalid_oracle_parameters(cls, kwargs, message):
    with pytest.raises(ValidationError, match=message):
        cls(**kwargs)


def test_sources_name_their_oracle_and_it_builds_from_the_metadata():
    from sigbench.host import get_host

    sources = get_host().registry.entries["sources"]
    named = {name: e.info["oracle"] for name, e in sources.items() if e.info.get("oracle")}
    assert named == {"sines": "sines-ml", "tones": "sines-ml", "ar": "ar-kalman", "channel": "mlse",
                     "anc": "known-fir", "tone-detect": "matched-filter"}
    for name in ("channel", "anc", "tone-detect"):  # their optima serve their own tasks
        oracle = sb.get_processor(named.pop(name)).from_metadata(sb.generate(name, n=640, seed=1).metadata)
        assert set(type(oracle).tasks) <= {"equalise", "cancel", "detect"}
    for source, oracle_name in named.items():
        sig = sb.generate(source, n=600, seed=1)
        oracle = sb.get_processor(oracle_name).from_metadata(sig.metadata)
        X, y = sliding_windows(sig.data[:-1], 32), sig.clean[32:]
        ctx = sb.TaskContext(task="predict", window=32, horizon=1, sample_rate_hz=sig.sample_rate_hz)
        err = np.mean((oracle.fit(X, y, context=ctx).predict(X) - y) ** 2)
        assert err < np.mean((np.asarray(X)[:, -1] - y) ** 2)          # better than naive
