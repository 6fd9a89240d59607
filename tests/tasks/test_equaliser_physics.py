"""Equalisation physics: the AWGN bound without ISI, and MLSE > DFE > linear equaliser on Proakis' channel B.

Windows are built here with numpy (the ``equalise`` task comes with the engine rewrite): row ``r`` is
the received window ending at sample ``k = r + W - 1``, its target the symbol ``a[k - D]``. Error rates
are compared through 99 % Wilson intervals.
"""

from __future__ import annotations

import numpy as np
import pytest

import sigbench as sb
from sigbench.datasets.comms import CHANNELS, CUBIC
from sigbench.metrics_comms import error_rate, pam_alphabet, pam_ser_awgn
from sigbench.plugins.dsp.equalise import estimate_channel, trellis
from sigbench.plugins.dsp.wiener import stream_of

CONFIDENCE = 0.99
PROAKIS_B = (0.407, 0.815, 0.407)


def equaliser_rows(sig: sb.Signal, window: int, delay: int) -> tuple[np.ndarray, np.ndarray]:
    """Received windows and their symbol targets at decision delay ``delay``."""
    return sb.sliding_windows(sig.data, window), sig.clean[window - 1 - delay: sig.clean.size - delay]


def rate_of(name: str, params: dict, x: np.ndarray, a: np.ndarray, n_train: int, levels: int = 2):
    proc = sb.get_processor(name)(**params).fit(x[:n_train], a[:n_train])
    return error_rate(a[n_train:], proc.predict(x[n_train:]), pam_alphabet(levels), confidence=CONFIDENCE)


@pytest.mark.parametrize("ebn0_db", [0.0, 3.0, 6.0])
@pytest.mark.parametrize(("name", "params"), [("wiener", {}), ("lms", {"mu": 0.0005})])
def test_linear_equaliser_without_isi_reaches_the_awgn_bound(name, params, ebn0_db):
    sig = sb.generate("channel", n=140_000, channel="identity", ebn0_db=ebn0_db, seed=1)
    x, a = equaliser_rows(sig, window=5, delay=0)
    rate = rate_of(name, params, x, a, n_train=20_000)
    theory = pam_ser_awgn(ebn0_db)  # BPSK: Q(√(2 Eb/N0))
    assert rate.low <= theory <= rate.high, f"{name} at {ebn0_db} dB: {rate}; theory {theory:.3e}"
    assert rate.errors > 250  # the interval is a real test, not a floor


def test_slicer_on_4pam_without_isi_matches_the_pam_formula():
    sig = sb.generate("channel", n=200_000, levels=4, channel="identity", ebn0_db=8.0, seed=2)
    rate = error_rate(sig.clean, sig.data, pam_alphabet(4), confidence=CONFIDENCE)
    assert rate.low <= pam_ser_awgn(8.0, 4) <= rate.high


@pytest.fixture(scope="module")
def proakis_rates() -> dict[float, dict[str, object]]:
    out: dict[float, dict[str, object]] = {}
    for ebn0_db in (8.0, 12.0):
        sig = sb.generate("channel", n=60_000, channel="proakis-b", ebn0_db=ebn0_db, seed=2)
        x, a = equaliser_rows(sig, window=15, delay=8)
        out[ebn0_db] = {
            "linear": rate_of("wiener", {}, x, a, 10_000),
            "dfe": rate_of("dfe", {"numtaps": 10, "feedback_taps": 2}, x, a, 10_000),
            "mlse": rate_of("mlse", {"taps": PROAKIS_B, "delay": 8}, x, a, 10_000),
            "mlse-estimated": rate_of("mlse", {}, x, a, 10_000),
        }
    return out


@pytest.mark.parametrize("ebn0_db", [8.0, 12.0])
def test_mlse_beats_the_linear_equaliser_on_proakis_b(proakis_rates, ebn0_db):
    r = proakis_rates[ebn0_db]
    assert r["mlse"].high < r["linear"].low, r  # disjoint intervals
    assert r["mlse"].high < r["dfe"].low or r["mlse"].errors == 0, r
    assert r["mlse"].rate < r["linear"].rate / 10


def test_dfe_beats_the_linear_equaliser_on_proakis_b(proakis_rates):
    for ebn0_db in (8.0, 12.0):
        r = proakis_rates[ebn0_db]
        assert r["dfe"].high < r["linear"].low, r


def test_mlse_with_an_estimated_channel_matches_the_known_one(proakis_rates):
    for ebn0_db in (8.0, 12.0):
        known, estimated = proakis_rates[ebn0_db]["mlse"], proakis_rates[ebn0_db]["mlse-estimated"]
        assert abs(known.errors - estimated.errors) <= 3 * np.sqrt(max(known.errors, 1)) + 3


def test_least_squares_channel_estimate_finds_taps_and_delay():
    sig = sb.generate("channel", n=8000, channel="proakis-c", ebn0_db=20.0, seed=3)
    x, a = equaliser_rows(sig, window=12, delay=5)
    taps, delay, residual = estimate_channel(stream_of(x), a, 12, numtaps=5)
    assert delay == 5
    assert np.allclose(taps, CHANNELS["proakis-c"], atol=0.01)
    assert residual == pytest.approx(sig.metadata["noise_std"] ** 2, rel=0.1)


def test_viterbi_decodes_a_noiseless_4pam_channel_exactly():
    sig = sb.generate("channel", n=3000, levels=4, channel="proakis-c", ebn0_db=float("inf"), seed=4)
    x, a = equaliser_rows(sig, window=6, delay=3)
    mlse = sb.get_processor("mlse")(taps=CHANNELS["proakis-c"], delay=3, levels=4)
    pred = mlse.fit(x[:500], a[:500]).predict(x[500:])
    assert np.array_equal(pred, a[500:])
    assert mlse.describe()["states"] == 4**4


def test_trellis_outputs_are_the_channel_outputs_of_each_transition():
    alphabet = np.array([-1.0, 1.0])
    expected, pred = trellis([0.5, 0.3, 0.2], alphabet)
    # state s: bit i = index of a[k-i]; entering s from pred[s, c] drops the oldest symbol index c
    for s in range(4):
        newest, older = alphabet[s % 2], alphabet[(s // 2) % 2]
        for c in range(2):
            assert expected[s, c] == pytest.approx(0.5 * newest + 0.3 * older + 0.2 * alphabet[c])
            assert pred[s, c] % 2 == (s // 2) % 2  # the predecessor's newest symbol is our second newest


def test_mlse_knows_the_nonlinearity_of_the_chen_gibson_cowan_channel():
    sig = sb.generate("channel", n=30_000, channel="cgc", nonlinearity="cubic", ebn0_db=12.0, seed=5)
    x, a = equaliser_rows(sig, window=9, delay=4)
    cgc = CHANNELS["cgc"]
    aware = rate_of("mlse", {"taps": cgc, "delay": 4, "poly_coefficients": CUBIC}, x, a, 5000)
    linear = rate_of("wiener", {}, x, a, 5000)
    assert aware.high < linear.low


def test_dfe_decides_a_noiseless_channel_without_error_and_reports_its_filters():
    sig = sb.generate("channel", n=4000, channel="proakis-b", ebn0_db=float("inf"), seed=6)
    x, a = equaliser_rows(sig, window=10, delay=5)
    dfe = sb.get_processor("dfe")(numtaps=8, feedback_taps=2, algorithm="lms", mu=0.01, passes=3)
    z = dfe.fit(x[:2000], a[:2000]).predict(x[2000:])
    assert error_rate(a[2000:], z, [-1.0, 1.0]).errors == 0
    info = dfe.describe()
    assert len(info["feedforward"]) == 8 and len(info["feedback"]) == 2


def test_dfe_learning_curve_falls_and_rls_converges_before_lms():
    sig = sb.generate("channel", n=12_000, channel="proakis-b", ebn0_db=20.0, seed=7)
    x, a = equaliser_rows(sig, window=10, delay=5)
    curves = {}
    for algorithm, params in (("rls", {}), ("lms", {"mu": 0.005})):
        dfe = sb.get_processor("dfe")(numtaps=8, feedback_taps=2, algorithm=algorithm, **params).fit(x, a)
        curves[algorithm] = dfe.describe()["convergence"]
        assert curves[algorithm]["error_db"][0] > curves[algorithm]["steady_error_db"] + 5.0
        assert curves[algorithm]["steady_error_db"] < -15.0  # the MSE floor at 20 dB
    assert curves["rls"]["convergence_samples"] < curves["lms"]["convergence_samples"]


def test_dfe_on_float32_windows_converted_in_blocks_equals_float64(monkeypatch):
    from sigbench.plugins.dsp import equalise

    monkeypatch.setattr(equalise, "CONVERT_ROWS", 100)  # force many blocks
    sig = sb.generate("channel", n=3000, channel="proakis-b", ebn0_db=10.0, seed=8)
    y32 = sig.data.astype(np.float32)
    a = sig.clean[9 - 1 - 4: sig.clean.size - 4]
    f32 = sb.get_processor("dfe")(numtaps=6).fit(sb.sliding_windows(y32, 9), a)
    f64 = sb.get_processor("dfe")(numtaps=6).fit(sb.sliding_windows(y32.astype(np.float64), 9), a)
    np.testing.assert_array_equal(f32.weights, f64.weights)
    np.testing.assert_array_equal(f32.predict(sb.sliding_windows(y32, 9)),
                                  f64.predict(sb.sliding_windows(y32.astype(np.float64), 9)))


def test_mlse_reaches_its_minimum_distance_performance_on_proakis_b(proakis_rates):
    """Forney: P_s ≈ K·Q(d_min / 2σ), K of order one (≥ 1/2: half the sequences admit the closest event)."""
    import itertools

    from sigbench.metrics_comms import q_function

    h = np.asarray(PROAKIS_B)
    d2_min = min(float(np.sum(np.convolve(h, e) ** 2))
                 for length in range(1, 7) for e in itertools.product((-2.0, 0.0, 2.0), repeat=length)
                 if e[0] != 0 and e[-1] != 0)
    assert d2_min == pytest.approx(4 * 0.664, abs=1e-3)  # the event (+2, −2): 1.8 dB from the matched-filter bound
    sigma = np.sqrt(np.sum(h**2) / (2 * 10 ** 0.8))  # Eb = ‖h‖² (BPSK) at 8 dB
    estimate = q_function(np.sqrt(d2_min) / (2 * sigma))
    rate = proakis_rates[8.0]["mlse"]
    assert rate.high >= 0.5 * estimate and rate.low <= 4.0 * estimate, (rate, estimate)
    assert rate.low > q_function(np.sqrt(np.sum(h**2)) / sigma)  # no receiver beats the matched-filter bound


@pytest.mark.parametrize("case", [
    "rows-not-a-stream",  # hop 2: the received stream cannot be rebuilt
    "delay-beyond-window",  # the target symbol is not inside the window
    "nonlinearity-without-taps",  # a nonlinear channel is never estimated
    "too-many-states",  # 2^13 states
])
def test_mlse_refuses(case):
    sig = sb.generate("channel", n=400, channel="proakis-b", ebn0_db=10.0, seed=0)
    x, a = equaliser_rows(sig, window=6, delay=2)
    with pytest.raises(sb.ValidationError):
        if case == "rows-not-a-stream":
            sb.get_processor("mlse")(delay=2).fit(np.array(x[::2]), a[::2])
        elif case == "delay-beyond-window":
            sb.get_processor("mlse")(delay=6).fit(x, a)
        elif case == "nonlinearity-without-taps":
            sb.get_processor("mlse")(poly_coefficients=CUBIC)
        else:
            sb.get_processor("mlse")(taps=tuple(np.ones(14)))


def test_dfe_with_too_large_an_lms_step_reports_divergence():
    sig = sb.generate("channel", n=2000, channel="proakis-b", ebn0_db=10.0, seed=0)
    x, a = equaliser_rows(sig, window=8, delay=3)
    with pytest.raises(sb.DivergedError):
        sb.get_processor("dfe")(algorithm="lms", mu=5.0).fit(x, a)
