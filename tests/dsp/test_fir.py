"""fir and fir-bank: equality with scipy.signal, physics (gains, linear phase), modes, validation."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import signal

from sigbench.errors import ValidationError
from sigbench.plugins.dsp.fir import FIR
from sigbench.plugins.dsp.fir_bank import FIRBank
from sigbench.windows import sliding_windows


def gain_at(taps, freq, sample_rate):
    _, h = signal.freqz(taps, worN=[freq], fs=sample_rate)
    return abs(h[0])


@pytest.mark.parametrize(
    ("kind", "cutoff"), [("lowpass", 0.1), ("highpass", 0.3), ("bandpass", [0.1, 0.2]), ("bandstop", [0.1, 0.2])]
)
def test_fir_equals_scipy(kind, cutoff):
    f = FIR(numtaps=51, cutoff=cutoff, kind=kind, taper="hann")
    expected = signal.firwin(51, cutoff, window="hann", pass_zero=kind, fs=1.0)  # cycles/sample
    np.testing.assert_array_equal(f.taps, expected)
    x = np.random.default_rng(0).normal(size=2000)
    np.testing.assert_array_equal(f.filter(x), signal.lfilter(expected, 1.0, x))
    # as a processor: the filter output at each window's newest sample
    X = sliding_windows(x, 64)
    f.fit(X, np.zeros(X.shape[0]))
    np.testing.assert_allclose(f.predict(X), signal.lfilter(expected, 1.0, x)[63:], atol=1e-12)


def test_fir_in_hz_gains_and_symmetry():
    sample_rate = 1000.0
    f = FIR(numtaps=101, cutoff=100.0)
    X = sliding_windows(np.zeros(200), 128)
    f.fit(X, np.zeros(X.shape[0]), sample_rate=sample_rate)
    np.testing.assert_allclose(f.taps, f.taps[::-1], atol=0)  # linear phase: symmetric taps
    assert gain_at(f.taps, 0.0, sample_rate) == pytest.approx(1.0, abs=1e-9)  # unit gain at DC
    assert gain_at(f.taps, 30.0, sample_rate) == pytest.approx(1.0, abs=0.01)  # passband
    assert gain_at(f.taps, 100.0, sample_rate) == pytest.approx(0.5, abs=0.02)  # -6 dB at the cutoff
    assert 20 * np.log10(gain_at(f.taps, 200.0, sample_rate)) < -50  # hamming stopband
    freqs, resp = f.frequency_response(256)
    assert freqs[-1] < sample_rate / 2 and resp.shape == (256,)


def test_fir_bank_filter_equals_lfilter_per_band():
    bank = FIRBank(bands=5, numtaps=41)
    x = np.random.default_rng(1).normal(size=5000)
    expected = np.stack([signal.lfilter(h, 1.0, x) for h in bank.taps], axis=1)
    np.testing.assert_allclose(bank.filter(x), expected, atol=1e-12)
    edges = [0.1, 0.2, 0.3, 0.4]
    assert tuple(bank.band_edges()) == pytest.approx(edges)
    np.testing.assert_array_equal(bank.taps[0], signal.firwin(41, 0.1, window="hamming", fs=1.0))
    np.testing.assert_array_equal(bank.taps[2], signal.firwin(41, [0.2, 0.3], pass_zero=False, fs=1.0))
    np.testing.assert_array_equal(bank.taps[4], signal.firwin(41, 0.4, pass_zero=False, fs=1.0))


def test_fir_bank_band_gains_and_symmetry():
    bank = FIRBank(edges=[50.0, 150.0, 300.0], numtaps=201)
    X = sliding_windows(np.zeros(300), 256)
    bank.fit(X, np.zeros(X.shape[0]), sample_rate=1000.0)
    assert bank.taps.shape == (4, 201)
    np.testing.assert_allclose(bank.taps, bank.taps[:, ::-1], atol=0)  # every band is linear phase
    centres = [10.0, 100.0, 225.0, 400.0]
    for b in range(len(centres)):
        for other, f in enumerate(centres):
            g = gain_at(bank.taps[b], f, 1000.0)
            if other == b:
                assert g == pytest.approx(1.0, abs=0.01)  # passband of its own band
            else:
                assert g < 0.01  # stopband of the others
    _, resp = bank.frequency_response(128)
    assert resp.shape == (128, 4)


def two_tone(seed: int, n: int = 6000):
    rng = np.random.default_rng(seed)
    k = np.arange(n)
    clean = np.sin(2 * np.pi * 0.03 * k) + 0.5 * np.sin(2 * np.pi * 0.12 * k)
    return clean, clean + 0.5 * rng.normal(size=n)


def test_fir_bank_denoise_keeps_signal_bands_and_gains_snr():
    clean, noisy = two_tone(2)
    window, numtaps = 64, 63
    X = sliding_windows(noisy, window)
    delay = (numtaps - 1) // 2
    target = clean[window - 1 - delay: clean.size - delay]  # linear-phase delay of the bank
    bank = FIRBank(bands=10, numtaps=numtaps).fit(X[:4000], target[:4000])
    assert set(np.flatnonzero(bank.kept)) == {0, 2}  # the 0.03 and 0.12 cycles/sample bands
    err_in = np.mean((noisy[window - 1 - delay: noisy.size - delay][4000:] - target[4000:]) ** 2)
    err_out = np.mean((bank.predict(X[4000:]) - target[4000:]) ** 2)
    assert 10 * np.log10(err_in / err_out) > 5  # SNR gain floor
    forced = FIRBank(bands=10, numtaps=numtaps, keep=1).fit(X[:4000], target[:4000])
    assert np.flatnonzero(forced.kept).tolist() == [0]


def test_fir_bank_features_predicts_next_clean_sample():
    clean, noisy = two_tone(3)
    X = sliding_windows(noisy[:-1], 64)
    y = clean[64:]
    bank = FIRBank(bands=10, numtaps=63, mode="features", lags=2).fit(X[:4000], y[:4000])
    assert bank.weights.shape == (20, 1)
    err = np.mean((bank.predict(X[4000:]) - y[4000:]) ** 2)
    naive = np.mean((np.asarray(X[4000:, -1]) - y[4000:]) ** 2)
    assert err < naive / 4
    multi = FIRBank(bands=4, numtaps=31, mode="features").fit(X[:500], np.stack([y[:500], -y[:500]], axis=1))
    assert multi.predict(X[:3]).shape == (3, 2)


@pytest.mark.parametrize("cls_kwargs", [(FIR, {"numtaps": 31, "cutoff": [0.1, 0.3], "kind": "bandpass"}),
                                        (FIRBank, {"numtaps": 31, "bands": 4}),
                                        (FIRBank, {"numtaps": 31, "bands": 4, "mode": "features"})])
def test_save_load_round_trip(cls_kwargs, tmp_path):
    cls, kwargs = cls_kwargs
    clean, noisy = two_tone(4, n=600)
    X = sliding_windows(noisy, 40)
    f = cls(**kwargs).fit(X, clean[39:], sample_rate=2.0)
    f.save(tmp_path)
    g = cls.load(tmp_path)
    assert g.sample_rate == 2.0 and g.get_params() == f.get_params()
    np.testing.assert_array_equal(g.predict(X), f.predict(X))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"numtaps": 0}, r"numtaps >= 1"),  # no taps
        ({"cutoff": 0.0}, r"cutoff > 0 Hz; received: cutoff=0.0"),  # cutoff at DC
        ({"cutoff": -0.1}, r"cutoff > 0 Hz"),  # negative cutoff
        ({"cutoff": float("nan")}, r"cutoff to be a finite number"),  # NaN cutoff
        ({"cutoff": [0.2, 0.1], "kind": "bandpass"}, r"cutoff strictly increasing"),  # decreasing band
        ({"cutoff": [0.1, 0.1], "kind": "bandpass"}, r"cutoff strictly increasing"),  # empty band
        ({"cutoff": [0.1, 0.2]}, r"expected 1 cutoff value\(s\) for kind='lowpass'"),  # two cutoffs for a lowpass
        ({"cutoff": 0.1, "kind": "bandpass"}, r"expected 2 cutoff value\(s\)"),  # one cutoff for a band
        ({"numtaps": 30, "cutoff": 0.2, "kind": "highpass"}, r"odd numtaps for kind='highpass'"),  # zero at Nyquist
        ({"numtaps": 30, "cutoff": [0.1, 0.2], "kind": "bandstop"}, r"odd numtaps"),  # passband at Nyquist
        ({"kind": "allpass"}, r"kind to be one of"),  # unknown kind
        ({"taper": "nonsense"}, r"taper to be a scipy.signal.get_window name"),  # unknown window
    ],
)
def test_fir_invalid_parameters(kwargs, message):
    with pytest.raises(ValidationError, match=message):
        FIR(**kwargs)


def test_fir_cutoff_at_or_above_nyquist_refused_at_fit():
    X = sliding_windows(np.zeros(200), 64)
    with pytest.raises(ValidationError, match=r"cutoff in \(0, 50\) Hz.*received: cutoff=\[50.0\]"):
        FIR(cutoff=50.0).fit(X, np.zeros(X.shape[0]), sample_rate=100.0)  # cutoff at Nyquist
    with pytest.raises(ValidationError, match=r"cutoff in \(0, 0.5\) Hz"):
        FIR(cutoff=0.7).fit(X, np.zeros(X.shape[0]))  # above Nyquist in cycles/sample
    with pytest.raises(ValidationError, match=r"numtaps <= window \(64 samples\)"):
        FIR(numtaps=65).fit(X, np.zeros(X.shape[0]))  # longer than the window


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"bands": 1}, r"bands >= 2"),  # one band is no bank
        ({"edges": [0.3, 0.1]}, r"edges strictly increasing"),  # decreasing edges
        ({"edges": [0.0, 0.1]}, r"edges > 0 Hz"),  # edge at DC
        ({"edges": 0.1}, r"edges to be a sequence"),  # a scalar is not a list of edges
        ({"edges": [0.1, 0.2], "bands": 4}, r"bands == len\(edges\) \+ 1 = 3"),  # bands disagree with edges
        ({"numtaps": 64}, r"odd numtaps \(the top band has its passband at Nyquist\)"),  # even length
        ({"mode": "both"}, r"mode to be one of denoise, features"),  # unknown mode
        ({"keep": 0}, r"keep >= 1"),  # keep nothing
        ({"keep": 9}, r"keep <= bands \(8\)"),  # keep more bands than exist
        ({"lags": 0}, r"lags >= 1"),  # no feature samples
        ({"loading": -1}, r"loading >= 0"),  # negative loading
        ({"taper": 3}, r"taper to be a window-function name"),  # not a name
    ],
)
def test_fir_bank_invalid_parameters(kwargs, message):
    with pytest.raises(ValidationError, match=message):
        FIRBank(**kwargs)


def test_fir_bank_invalid_at_fit():
    X = sliding_windows(np.zeros(300), 64)
    y = np.zeros(X.shape[0])
    with pytest.raises(ValidationError, match=r"edges in \(0, 5\) Hz"):
        FIRBank(edges=[1.0, 5.0], numtaps=31).fit(X, y, sample_rate=10.0)  # edge at Nyquist
    with pytest.raises(ValidationError, match=r"window >= 64 samples \(numtaps=63 \+ lags=2 - 1\)"):
        FIRBank(numtaps=63, mode="features").fit(X[:, 1:], y)  # window too short for the lags
    with pytest.raises(ValidationError, match=r"one target per row in mode='denoise'"):
        FIRBank(numtaps=31).fit(X, np.zeros((X.shape[0], 2)))  # vector targets cannot be denoised
