"""Widrow's noise canceller: the adaptive filters converge to the true noise path of the ``anc`` source.

Rows are built here (the ``cancel`` task comes with the engine rewrite): inputs are windows of the
reference ending at sample ``k``, the target the primary at ``k``; the canceller's output is
``primary − prediction``.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import sigbench as sb
from sigbench.metrics_comms import snr_improvement

NUMTAPS = 8
N_TRAIN = 30_000


@pytest.fixture(scope="module")
def anc_rows():
    sig = sb.generate("anc", n=40_000, numtaps=NUMTAPS, snr_db=0.0, sensor_snr_db=30.0, seed=3)
    x = sb.sliding_windows(sig.data[:, 1], NUMTAPS)
    d = sig.data[NUMTAPS - 1:, 0]
    s = sig.clean[NUMTAPS - 1:, 0]
    return sig, x, d, s


def test_lms_converges_to_the_true_noise_path(anc_rows):
    sig, x, d, _ = anc_rows
    true = np.asarray(sig.metadata["noise_path"]["b"])
    mu = 5e-4
    lms = sb.get_processor("lms")(numtaps=NUMTAPS, mu=mu).fit(x[:N_TRAIN], d[:N_TRAIN])
    taps = lms.weights[0][::-1]  # newest tap first, as metadata["noise_path"]["b"]
    # steady-state weight-error deviation for white input of unit power: √(μ J_min / 2), J_min = what the
    # reference cannot explain (the wanted signal plus the sensor noise)
    j_min = float(np.mean((d - sig.aux["interference"][NUMTAPS - 1:]) ** 2))
    tolerance = 4.0 * math.sqrt(mu * j_min / 2.0)
    assert np.max(np.abs(taps - true)) < tolerance, (taps, true, tolerance)
    assert lms.describe()["convergence_samples"] < N_TRAIN / 2


@pytest.mark.parametrize(("name", "params", "atol"), [
    ("wiener", {}, 0.02),  # least squares: the Wiener solution up to estimation noise
    ("rls", {"lam": 0.9999}, 0.03),
    ("nlms", {"mu": 0.005}, 0.05),
])
def test_other_cancellers_reach_the_true_path(anc_rows, name, params, atol):
    sig, x, d, _ = anc_rows
    proc = sb.get_processor(name)(numtaps=NUMTAPS, **params).fit(x[:N_TRAIN], d[:N_TRAIN])
    weights = proc.weights[:, 0] if name == "wiener" else proc.weights[0]
    assert np.allclose(weights[::-1], sig.metadata["noise_path"]["b"], atol=atol)


def test_snr_improvement_reaches_the_sensor_noise_floor_and_the_true_path_bounds_it(anc_rows):
    sig, x, d, s = anc_rows
    true = tuple(sig.metadata["noise_path"]["b"])
    oracle = sb.get_processor("known-fir")(taps=true).fit(x[:10], d[:10])
    lms = sb.get_processor("lms")(numtaps=NUMTAPS, mu=5e-4).fit(x[:N_TRAIN], d[:N_TRAIN])
    test = slice(N_TRAIN, None)
    best = snr_improvement(d[test], oracle.predict(x[test]), s[test])
    got = snr_improvement(d[test], lms.predict(x[test]), s[test])
    # input SIR 0 dB, sensor noise 30 dB below the signal: cancelling all the interference gains 30 dB
    assert best == pytest.approx(30.0, abs=0.3)
    assert 20.0 < got < best + 0.1
    assert snr_improvement(d[test], lms.predict(x[test])) < got  # without the clean signal: a lower bound


def test_coloured_reference_still_converges_with_rls():
    sig = sb.generate("anc", n=20_000, path=(0.8, -0.4, 0.2), snr_db=-6.0, reference_color="pink", seed=4)
    x = sb.sliding_windows(sig.data[:, 1], 3)
    d = sig.data[2:, 0]
    rls = sb.get_processor("rls")(numtaps=3, lam=0.9999).fit(x, d)
    assert np.allclose(rls.weights[0][::-1], sig.metadata["noise_path"]["b"], atol=0.05)
