"""Physics of the Van der Pol source: the harmonic limit, the limit cycle's amplitude and period, the ODE
itself, and the noise level."""

import math

import numpy as np
import pytest
from sigbench_example.vanderpol import van_der_pol

from sigbench import ValidationError


def test_mu_zero_is_the_harmonic_oscillator():
    sig = van_der_pol(n=2000, mu=0.0, x0=1.5, v0=0.5, snr_db=math.inf, step_s=0.01)
    t = np.arange(2000) * 0.01
    np.testing.assert_allclose(sig.clean, 1.5 * np.cos(t) + 0.5 * np.sin(t), atol=1e-7)


def test_limit_cycle_amplitude_and_period_for_mu_one():
    sig = van_der_pol(n=8000, mu=1.0, step_s=0.01, x0=0.5, snr_db=math.inf)
    x = sig.clean[3000:]  # after the transient from inside the cycle
    assert np.max(np.abs(x)) == pytest.approx(2.0086, abs=0.005)
    rising = np.flatnonzero((x[:-1] < 0) & (x[1:] >= 0))
    frac = -x[rising] / (x[rising + 1] - x[rising])  # linear interpolation of the crossing
    crossings = (rising + frac) * 0.01
    assert np.mean(np.diff(crossings)) == pytest.approx(6.6633, rel=1e-3)


def test_clean_signal_satisfies_the_equation():
    sig = van_der_pol(n=4000, mu=2.0, step_s=0.001, snr_db=math.inf)
    x, v, h = sig.clean, sig.aux["velocity"], 0.001
    np.testing.assert_allclose(np.gradient(x, h)[2:-2], v[2:-2], atol=1e-4)
    acc = np.gradient(v, h)[2:-2]
    residual = acc - (2.0 * (1 - x[2:-2] ** 2) * v[2:-2] - x[2:-2])
    assert np.max(np.abs(residual)) < 1e-3 * np.max(np.abs(acc))


def test_stiff_regime_uses_an_implicit_method():
    sig = van_der_pol(n=3000, mu=20.0, step_s=0.1, snr_db=math.inf)
    assert sig.metadata["integrator"] == "Radau"
    assert np.max(np.abs(sig.clean[1000:])) == pytest.approx(2.0, abs=0.05)


@pytest.mark.parametrize(("convention", "snr_db"), [("sigma", 20.0), ("true", 10.0)])
def test_noise_level(convention, snr_db):
    sig = van_der_pol(n=20_000, seed=4, snr_db=snr_db, noise_convention=convention)
    noise = sig.data - sig.clean
    if convention == "sigma":
        assert np.std(noise) == pytest.approx(0.1, rel=0.03)
    else:
        measured = 10 * np.log10(np.mean(sig.clean**2) / np.mean(noise**2))
        assert measured == pytest.approx(snr_db, abs=0.1)


@pytest.mark.parametrize("kwargs", [
    {"n": 0},  # no samples
    {"seed": -1},  # negative seed
    {"mu": -1.0},  # negative damping
    {"step_s": 0.0},  # no time step
    {"x0": float("nan")},  # NaN initial state
    {"snr_db": float("nan")},  # NaN SNR
    {"noise_convention": "db"},  # unknown convention
])
def test_invalid_parameters(kwargs):
    with pytest.raises(ValidationError):
        van_der_pol(**kwargs)
