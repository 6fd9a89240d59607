"""Communications and detection metrics: Wilson intervals, the error floor, decisions, ROC, AUC, Pd@Pfa."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sigbench.errors import ValidationError
from sigbench.host import Host
from sigbench.metrics_comms import (
    COMMS_METRICS,
    auc_value,
    decide,
    error_rate,
    gray_bits,
    pam_alphabet,
    pd_at_pfa_value,
    q_function,
    q_inverse,
    roc_curve,
    snr_improvement,
    wilson_interval,
)


def test_registered_through_the_hook():
    names = set(Host(load_entrypoints=False).registry.names("metrics"))
    assert set(COMMS_METRICS) <= names


def test_wilson_interval_textbook_values_and_symmetry():
    low, high = wilson_interval(5, 100)
    assert (round(low, 4), round(high, 4)) == (0.0215, 0.1118)  # Newcombe (1998), method 3
    for k in (0, 1, 7, 50):
        lo, hi = wilson_interval(k, 60, 0.99)
        lo2, hi2 = wilson_interval(60 - k, 60, 0.99)
        assert lo == pytest.approx(1 - hi2) and hi == pytest.approx(1 - lo2)
        assert 0.0 <= lo <= k / 60 <= hi <= 1.0


def test_wilson_upper_bound_with_no_error_is_z2_over_n_plus_z2():
    z = q_inverse(0.025)
    assert wilson_interval(0, 1000) == (0.0, pytest.approx(z * z / (1000 + z * z)))


def test_wilson_interval_covers_at_its_level():
    rng = np.random.default_rng(0)
    p, n = 0.01, 2000
    k = rng.binomial(n, p, size=4000)
    covered = np.mean([lo <= p <= hi for lo, hi in (wilson_interval(int(x), n) for x in k)])
    assert 0.93 <= covered <= 0.97


@pytest.mark.parametrize(("errors", "trials", "confidence"), [
    (-1, 10, 0.95),  # negative count
    (11, 10, 0.95),  # more errors than trials
    (0, 0, 0.95),  # no trial
    (1, 10, 1.0),  # confidence out of (0, 1)
])
def test_wilson_interval_refuses(errors, trials, confidence):
    with pytest.raises(ValidationError):
        wilson_interval(errors, trials, confidence)


def test_error_floor_is_reported_with_its_count_never_as_a_bare_zero():
    y = np.tile([-1.0, 1.0], 5000)
    rate = error_rate(y, y * 0.7)  # soft predictions, all on the right side
    assert rate.errors == 0 and rate.rate == 0.0 and rate.high > 0
    assert str(rate) == "no error in 10000 symbols (SER < 3.8e-04, 95 % Wilson)"
    ctx = {"alphabet": [-1.0, 1.0]}
    assert COMMS_METRICS["ser_ci_high"][0](y, y * 0.7, ctx) == pytest.approx(rate.high)
    wrong = y.copy()
    wrong[:3] *= -1
    text = str(error_rate(y, wrong))
    assert text.startswith("SER = 3.00e-04") and "3 errors in 10000 symbols" in text


def test_decisions_and_gray_bits():
    points = pam_alphabet(4)
    assert points.tolist() == [-3.0, -1.0, 1.0, 3.0]
    assert decide([-5.0, -2.1, -0.2, 0.0, 1.9, 2.1, 9.0], points).tolist() == [0, 0, 1, 1, 2, 3, 3]
    bits = gray_bits(np.arange(4), 2)
    assert (np.abs(np.diff(bits, axis=0)).sum(axis=1) == 1).all()  # neighbours differ by one bit
    # one symbol error to a neighbour = one bit error of two
    y = np.array([-3.0, -1.0, 1.0, 3.0])
    p = np.array([-1.0, -1.0, 1.0, 3.0])
    assert error_rate(y, p, points, unit="bit").errors == 1
    assert error_rate(y, p, points, unit="bit").trials == 8


@pytest.mark.parametrize("levels", [0, 3, 2.0, True])  # too small, odd, float, bool
def test_pam_alphabet_refuses(levels):
    with pytest.raises(ValidationError):
        pam_alphabet(levels)


def test_alphabet_from_context_from_targets_or_bpsk():
    ser = COMMS_METRICS["ser"][0]
    y = np.array([-3.0, -1.0, 1.0, 3.0] * 10)
    assert ser(y, y + 0.9, {}) == 0.0  # inferred 4-PAM: +0.9 stays inside each decision region
    assert ser(y, y + 1.1, {}) == 0.75  # crosses into the next level except at +3
    assert ser(y, y + 1.1, {"alphabet": [-1.0, 1.0]}) == 0.25  # BPSK decisions: only −1 → +0.1 flips
    t = np.linspace(-1, 1, 200)  # not symbols: sign decisions
    assert ser(t, -t, {}) == 1.0


def test_roc_curve_and_auc_agree_and_are_bounded():
    rng = np.random.default_rng(1)
    labels = rng.random(3000) < 0.3
    scores = rng.normal(size=3000) + 1.5 * labels
    pfa, pd, thr = roc_curve(labels, scores)
    assert (pfa[0], pd[0], pfa[-1], pd[-1]) == (0.0, 0.0, 1.0, 1.0)
    assert (np.diff(pfa) >= 0).all() and (np.diff(pd) >= 0).all() and thr[0] == np.inf
    j = len(thr) // 2  # a point: "score >= threshold"
    assert pd[j] == pytest.approx(np.mean(scores[labels] >= thr[j]))
    assert pfa[j] == pytest.approx(np.mean(scores[~labels] >= thr[j]))
    assert auc_value(labels, scores) == pytest.approx(np.trapezoid(pd, pfa), abs=1e-12)
    assert auc_value(labels, scores) == pytest.approx(1 - q_function(1.5 / math.sqrt(2)), abs=0.02)
    assert auc_value(labels, labels * 1.0) == 1.0 and auc_value(labels, -1.0 * labels) == 0.0
    assert auc_value(labels, np.zeros(3000)) == 0.5  # ties count one half


def test_pd_at_pfa_never_exceeds_the_false_alarm_rate():
    rng = np.random.default_rng(2)
    labels = rng.random(5000) < 0.5
    scores = rng.normal(size=5000) + 2.0 * labels
    for pfa in (0.2, 0.01, 1e-4):
        pd, achieved, threshold = pd_at_pfa_value(labels, scores, pfa)
        assert achieved <= pfa
        assert np.mean(scores[~labels] > threshold) == achieved
        assert pd == np.mean(scores[labels] > threshold)


@pytest.mark.parametrize("call", [
    lambda: roc_curve(np.ones(10), np.arange(10.0)),  # one class only
    lambda: auc_value(np.r_[np.ones(5), np.zeros(5)], np.r_[np.arange(9.0), np.nan]),  # NaN score
    lambda: pd_at_pfa_value(np.r_[np.ones(5), np.zeros(5)], np.arange(10.0), 0.0),  # pfa = 0
    lambda: roc_curve(np.ones(10), np.arange(9.0)),  # lengths differ
])
def test_detection_metrics_refuse(call):
    with pytest.raises(ValidationError):
        call()


def test_snr_improvement_exact_and_its_lower_bound_without_the_clean_signal():
    rng = np.random.default_rng(3)
    s = np.sin(0.05 * np.arange(4000))
    n = rng.normal(size=4000)
    d = s + n
    estimate = n + 0.1 * rng.normal(size=4000)  # residual interference 20 dB below
    exact = snr_improvement(d, estimate, s)
    assert exact == pytest.approx(20.0, abs=0.3)
    assert snr_improvement(d, estimate) < exact  # output power reduction: a lower bound
    assert snr_improvement(d, n, s) > 250.0  # perfect cancellation up to rounding


def test_slice_symbols_is_the_decision_function():
    from sigbench.metrics_comms import slice_symbols

    soft = np.array([-9.0, -2.0, -1.9, 0.0, 0.1, 2.1])
    assert slice_symbols(soft, pam_alphabet(4)).tolist() == [-3.0, -3.0, -1.0, -1.0, 1.0, 3.0]
    assert slice_symbols(soft.reshape(2, 3), [-1, 1]).shape == (2, 3)
