"""Tone detection physics: the matched filter's ROC is the Neyman-Pearson curve, the energy detector's the
Marcum-Q curve, each within 99 % Wilson intervals at fixed thresholds.

Rows are the source's segments (the ``detect`` task comes with the engine rewrite): one window per
segment, target its 0/1 label.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import sigbench as sb
from sigbench.metrics_comms import (
    auc_value,
    np_pd_known_signal,
    np_pd_unknown_phase,
    pd_at_pfa_value,
    q_function,
    q_inverse,
    wilson_interval,
)

SEGMENT = 64
RATE = 8000.0
CONFIDENCE = 0.99
N_TRAIN = 4000


def segments(phase: str, seed: int):
    sig = sb.generate("tone-detect", n=SEGMENT * 24_000, segment=SEGMENT, snr_db=-12.0, phase=phase, seed=seed,
                      sample_rate_hz=RATE, frequency_hz=1000.0)
    x = sig.data.reshape(-1, SEGMENT)
    labels = np.asarray(sig.metadata["segment_labels"], dtype=np.float64)
    return sig, x, labels


def within(count: int, trials: int, p: float) -> bool:
    low, high = wilson_interval(count, trials, CONFIDENCE)
    return low <= p <= high


@pytest.fixture(scope="module")
def known_phase():
    sig, x, labels = segments("known", seed=4)
    mf = sb.get_processor("matched-filter")(frequency_hz=1000.0).fit(x[:N_TRAIN], labels[:N_TRAIN], sample_rate=RATE)
    ed = sb.get_processor("energy-detector")(frequency_hz=1000.0).fit(x[:N_TRAIN], labels[:N_TRAIN],
                                                                      sample_rate=RATE)
    y = labels[N_TRAIN:] >= 0.5
    return sig, x[N_TRAIN:], y, mf.predict(x[N_TRAIN:]), ed.predict(x[N_TRAIN:])


@pytest.mark.parametrize("pfa", [0.1, 0.01, 0.001])
def test_matched_filter_roc_is_the_neyman_pearson_curve(known_phase, pfa):
    sig, _, y, scores, _ = known_phase
    d = sig.metadata["deflection"]
    tau = q_inverse(pfa)  # scores are N(0, 1) on noise alone
    false_alarms, detections = int(np.sum(scores[~y] > tau)), int(np.sum(scores[y] > tau))
    assert within(false_alarms, int((~y).sum()), pfa)
    assert within(detections, int(y.sum()), np_pd_known_signal(pfa, d))


def test_matched_filter_auc_and_pd_at_pfa_match_theory(known_phase):
    sig, _, y, scores, _ = known_phase
    d = sig.metadata["deflection"]
    auc = auc_value(y, scores)
    theory = 1.0 - q_function(d / math.sqrt(2.0))  # Φ(d/√2)
    n1, n0 = int(y.sum()), int((~y).sum())
    q1, q2 = theory / (2 - theory), 2 * theory**2 / (1 + theory)  # Hanley & McNeil (1982)
    se = math.sqrt((theory * (1 - theory) + (n1 - 1) * (q1 - theory**2) + (n0 - 1) * (q2 - theory**2)) / (n1 * n0))
    assert abs(auc - theory) < 2.6 * se
    pd, achieved, _ = pd_at_pfa_value(y, scores, 1e-2)
    assert within(round(pd * n1), n1, np_pd_known_signal(achieved, d))


def test_energy_detector_follows_marcum_q_and_loses_to_the_matched_filter(known_phase):
    sig, _, y, mf_scores, ed_scores = known_phase
    d = sig.metadata["deflection"]
    for pfa in (0.1, 0.01):
        tau = -2.0 * math.log(pfa)  # scores are χ²₂ on noise alone
        assert within(int(np.sum(ed_scores[~y] > tau)), int((~y).sum()), pfa)
        assert within(int(np.sum(ed_scores[y] > tau)), int(y.sum()), np_pd_unknown_phase(pfa, d))
    assert auc_value(y, ed_scores) < auc_value(y, mf_scores) - 0.05


def test_with_random_phase_the_energy_detector_keeps_its_curve():
    sig, x, labels = segments("random", seed=5)
    ed = sb.get_processor("energy-detector")(frequency_hz=1000.0).fit(x[:N_TRAIN], labels[:N_TRAIN],
                                                                      sample_rate=RATE)
    scores, y = ed.predict(x[N_TRAIN:]), labels[N_TRAIN:] >= 0.5
    tau = -2.0 * math.log(0.01)
    assert within(int(np.sum(scores[y] > tau)), int(y.sum()), np_pd_unknown_phase(0.01, sig.metadata["deflection"]))


def test_learned_template_and_learned_frequency_come_close_to_the_known_ones(known_phase):
    _, _, y, mf_scores, _ = known_phase
    _, x, labels = segments("known", seed=4)
    learned = sb.get_processor("matched-filter")().fit(x[:N_TRAIN], labels[:N_TRAIN], sample_rate=RATE)
    assert auc_value(y, learned.predict(x[N_TRAIN:])) > auc_value(y, mf_scores) - 0.01
    ed = sb.get_processor("energy-detector")().fit(x[:N_TRAIN], labels[:N_TRAIN], sample_rate=RATE)
    assert ed.describe()["frequency_hz_used"] == pytest.approx(1000.0)


def test_detectors_refuse_a_frequency_above_nyquist_and_one_class_templates():
    x = np.random.default_rng(0).normal(size=(50, 16))
    with pytest.raises(sb.ValidationError):
        sb.get_processor("matched-filter")(frequency_hz=600.0).fit(x, np.zeros(50), sample_rate=1000.0)
    with pytest.raises(sb.ValidationError):
        sb.get_processor("energy-detector")().fit(x, np.zeros(50), sample_rate=1000.0)
