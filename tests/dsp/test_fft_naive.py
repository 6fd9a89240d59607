"""fft, goertzel, naive and linear-extrapolation."""

from __future__ import annotations

import numpy as np
import pytest

from sigbench.errors import ValidationError
from sigbench.plugins.dsp.fft import FFT, Goertzel, goertzel
from sigbench.plugins.dsp.naive import LinearExtrapolation, Naive
from sigbench.windows import sliding_windows


def spectrum_task(seed: int, window: int = 64, n: int = 500):
    X = sliding_windows(np.random.default_rng(seed).normal(size=n), window)
    spec = np.fft.rfft(np.asarray(X), norm="ortho")
    return X, np.concatenate([spec.real, spec.imag], axis=1)


def test_fft_is_the_spectrum_task_exactly():
    X, targets = spectrum_task(0)
    f = FFT().fit(X, targets)
    np.testing.assert_allclose(f.predict(X), targets, rtol=0, atol=1e-12)


@pytest.mark.parametrize("window", [63, 64])
def test_fft_magnitude_power_and_taper(window):
    X, _ = spectrum_task(1, window=window)
    spec = np.fft.rfft(np.asarray(X), norm="backward")
    mag = FFT(output="magnitude", norm="backward").fit(X, np.abs(spec))
    np.testing.assert_allclose(mag.predict(X), np.abs(spec), atol=1e-10)
    tapered = np.fft.rfft(np.asarray(X) * np.hanning(window + 1)[:-1], norm="forward")
    power = FFT(taper="hann", output="power", norm="forward").fit(X, np.abs(tapered) ** 2)
    np.testing.assert_allclose(power.predict(X), np.abs(tapered) ** 2, atol=1e-12)


def test_float32_fft_is_float32_rounding_of_the_exact_spectrum():
    X, targets = spectrum_task(7, n=3000)
    f = FFT(dtype="float32").fit(X, targets)
    pred = f.predict(X)
    assert pred.dtype == np.float64 and f.get_params()["dtype"] == "float32"
    err = np.sum((pred - targets) ** 2)
    stored = np.sum((targets - targets.astype(np.float32)) ** 2)  # the exact spectrum stored in float32
    power = np.sum(targets**2)
    # single precision: far from float64's ~1e-30, within a few bits of float32's storage rounding
    assert 120 < 10 * np.log10(power / err) < 160
    assert 0 < 10 * np.log10(err / stored) < 20
    # a float32 frame's exact transform: the float32 FFT computes it to its own rounding
    frames32 = np.asarray(X, dtype=np.float32).astype(np.float64)
    spec = np.fft.rfft(frames32, norm="ortho")
    np.testing.assert_allclose(pred, np.concatenate([spec.real, spec.imag], axis=1), rtol=0, atol=1e-5)


def test_goertzel_function_matches_fft():
    x = np.random.default_rng(2).normal(size=(7, 128))
    full = np.fft.fft(x, axis=1)
    np.testing.assert_allclose(goertzel(x, [0, 1, 17, 64]), full[:, [0, 1, 17, 64]], rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(goertzel(x[0], 5), full[0, 5], rtol=1e-10)
    # a pure tone: all its energy in its bin, none in the others
    tone = np.cos(2 * np.pi * 10 * np.arange(128) / 128)
    assert abs(goertzel(tone, 10)) == pytest.approx(64.0)
    assert abs(goertzel(tone, 20)) < 1e-9


def test_goertzel_processor_equals_fft_processor():
    X, targets = spectrum_task(3, window=32)
    g = Goertzel().fit(X, targets)
    np.testing.assert_allclose(g.predict(X), targets, atol=1e-10)
    # single-tone detection in Hz
    sample_rate, window = 8000.0, 205
    k = np.arange(1000)
    x = np.sin(2 * np.pi * 697.0 * k / sample_rate)
    Xt = sliding_windows(x, window)
    det = Goertzel(freqs=[697.0, 1209.0], output="power").fit(Xt, np.zeros((Xt.shape[0], 2)), sample_rate=sample_rate)
    power = det.predict(Xt)
    assert np.all(power[:, 0] > 100 * power[:, 1])


def test_fft_goertzel_save_load(tmp_path):
    X, targets = spectrum_task(4, window=16)
    for i, f in enumerate([FFT().fit(X, targets), Goertzel().fit(X, targets)]):
        f.save(tmp_path / str(i))
        np.testing.assert_array_equal(type(f).load(tmp_path / str(i)).predict(X), f.predict(X))


@pytest.mark.parametrize(
    ("cls", "kwargs", "message"),
    [
        (FFT, {"taper": "nonsense"}, r"taper to be a scipy.signal.get_window name"),  # unknown taper
        (FFT, {"output": "phase"}, r"output to be one of complex, magnitude, power"),  # unknown layout
        (FFT, {"norm": "unitary"}, r"norm to be one of ortho, backward, forward"),  # unknown scaling
        (FFT, {"dtype": "float16"}, r"dtype to be one of float64, float32"),  # no half-precision transform
        (Goertzel, {"freqs": []}, r"freqs to be a non-empty sequence"),  # no bins
        (Goertzel, {"freqs": 100.0}, r"freqs to be a non-empty sequence"),  # a scalar, not a list
        (Goertzel, {"freqs": [-1.0]}, r"freqs >= 0 Hz"),  # negative frequency
        (Goertzel, {"freqs": [float("nan")]}, r"freqs to be a finite number"),  # NaN frequency
        (LinearExtrapolation, {"horizon": 0}, r"horizon >= 1; received: horizon=0"),  # no extrapolation
        (LinearExtrapolation, {"horizon": 1.5}, r"horizon to be an integer"),  # fractional horizon
    ],
)
def test_invalid_parameters(cls, kwargs, message):
    with pytest.raises(ValidationError, match=message):
        cls(**kwargs)


def test_spectrum_width_and_nyquist_checked_at_fit():
    X, targets = spectrum_task(5, window=16)
    with pytest.raises(ValidationError, match=r"targets of 18 values per row"):
        FFT().fit(X, targets[:, :9])  # half the layout
    with pytest.raises(ValidationError, match=r"freqs in \[0, 50\] Hz"):
        Goertzel(freqs=[60.0]).fit(X, targets[:, :2], sample_rate=100.0)  # above Nyquist
    with pytest.raises(ValidationError, match=r"frames with at least one sample; received: x.shape=\(3, 0\)"):
        goertzel(np.zeros((3, 0)), 1)  # empty frames


def test_naive_and_linear_extrapolation():
    t = np.arange(100) * 0.5
    x = 3 * t + 1  # a line: extrapolation is exact at any horizon, naive lags by 3·h·0.5
    X = sliding_windows(x[:-3], 8)
    y = x[10:]  # horizon 3 after each window's newest sample
    assert np.allclose(LinearExtrapolation(horizon=3).fit(X, y).predict(X), y)
    np.testing.assert_array_equal(Naive().fit(X, y).predict(X), np.asarray(X[:, -1]))
    assert Naive().fit(X, y).describe()["macs_per_sample"] == 0


def test_naive_refuses_vector_targets_and_short_windows():
    X, targets = spectrum_task(6, window=8)
    with pytest.raises(ValidationError, match=r"one target per row for naive.*targets.shape=\(\d+, 10\)"):
        Naive().fit(X, targets)  # spectrum targets are vectors
    with pytest.raises(ValidationError, match=r"window >= 2 samples for linear-extrapolation"):
        LinearExtrapolation().fit(np.zeros((5, 1)), np.zeros(5))  # one sample gives no slope
