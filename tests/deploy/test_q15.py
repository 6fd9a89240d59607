"""Q15 fixed-point FIR: the arithmetic of a 16-bit DSP, its noise physics, and the processor wrapper."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

import sigbench as sb
from sigbench.deploy import fir_q15, linear_taps, q15_exponent, q15_noise_power, quantized, to_q15
from sigbench.errors import ProcessorError, ValidationError

Q = 2.0 ** -15


def founding(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    t = np.arange(n) * 0.1
    clean = np.sin(t) + np.sin(np.pi * t / 2) + np.sin(-3 * np.pi * t / 2)
    return clean, clean + np.random.default_rng(seed).normal(0, 10 ** (-10 / 20), n)


# -- arithmetic --------------------------------------------------------------------------------------
def test_to_q15_rounds_and_saturates():
    q, sat = to_q15(np.array([0.5, -1.0, 1.0, 0.99999, -1.5, 3 * Q / 2]), 0)
    # 1.0, 0.99999 (32767.67 rounds to 32768) and -1.5 clip; 1.5 LSB rounds to 2 (ties to even)
    assert q.tolist() == [16384, -32768, 32767, 32767, -32768, 2]
    assert sat == 3


def test_q15_exponent_is_the_smallest_power_of_two_above():
    assert [q15_exponent(v) for v in (0.0, 0.3, 0.5, 1.0, 1.7, 4.0)] == [0, -1, 0, 1, 1, 3]
    with pytest.raises(ValidationError):
        q15_exponent(float("nan"))  # a NaN magnitude has no format


def test_rounding_is_to_nearest_ties_up_like_a_dsp_rnd():
    # products 1·16384 = 0.5 LSB (tie → up), 1·16383 (< 0.5 → down), −1·16384 (tie → up, towards zero)
    x = np.array([[1], [1], [-1]])
    h = np.array([[16384]])
    y, _ = fir_q15(x, h, 15)
    assert y[:, 0].tolist() == [1, 1, 0]
    y, _ = fir_q15(np.array([[1]]), np.array([[16383]]), 15)
    assert y[0, 0] == 0


def test_accumulator_saturates_at_its_width_and_the_output_at_16_bits():
    n = 8
    x = np.full((1, n), 32767)
    h = np.full((n, 1), 32767)
    # 8 products of ~2^30 overflow a 32-bit accumulator but not a 40-bit one
    y40, sat40 = fir_q15(x, h, 15, acc_bits=40)
    y32, sat32 = fir_q15(x, h, 15, acc_bits=32)
    assert sat32 > 0
    assert y40[0, 0] == 32767 and sat40 == 1  # only the output clips
    assert y32[0, 0] == 32767


def test_rounding_mode_is_validated():
    with pytest.raises(ValidationError):
        fir_q15(np.zeros((1, 2)), np.zeros((2, 1)), 15, rounding="truncate")  # not a documented mode
    with pytest.raises(ValidationError):
        fir_q15(np.zeros((1, 2)), np.zeros((2, 1)), 15, acc_bits=16)  # narrower than a product


# -- physics -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("n", [16, 64])
def test_product_rounding_noise_power_is_n_q2_over_12(n):
    """Each of the N products rounded to Q15 adds an independent uniform error of power q²/12."""
    rng = np.random.default_rng(7)
    rows = 20_000
    xq = rng.integers(-20000, 20000, size=(rows, n))
    hq = rng.integers(-3000, 3000, size=(n, 1))
    yq, sat = fir_q15(xq, hq, 15, rounding="product")
    assert sat == 0
    exact = (xq.astype(np.float64) @ hq.astype(np.float64))[:, 0] * 2.0 ** -30  # the unrounded sum, output units
    err = yq[:, 0] * Q - exact
    power = float(np.mean(np.square(err)))
    expected = n * Q**2 / 12
    # the mean of `rows` squared sums of n uniform errors: relative spread sqrt(Var(e²))/E[e²]/sqrt(rows);
    # for a sum of n uniforms Var(e²)/E[e²]² = 2 - 1.2/n, so 5 sigma is about 5·sqrt(2/rows) ≈ 5 %
    spread = 5 * np.sqrt((2 - 1.2 / n) / rows)
    assert abs(power / expected - 1) < spread
    # one rounding of the whole sum instead: q²/12, N times less
    ya, _ = fir_q15(xq, hq, 15, rounding="accumulator")
    power_acc = float(np.mean(np.square(ya[:, 0] * Q - exact)))
    assert abs(power_acc / (Q**2 / 12) - 1) < 5 * np.sqrt(0.8 / rows)


@pytest.mark.parametrize("rounding", ["accumulator", "product"])
def test_q15_wiener_error_matches_the_documented_noise_bound(rounding):
    _, noisy = founding(8000)
    window = 32
    X = sb.sliding_windows(noisy[:-1], window)
    y = noisy[window:]
    fit, test = slice(0, 5000), slice(5000, None)
    flt = sb.get_processor("wiener")().fit(X[fit], y[fit])
    q15 = quantized(sb.get_processor("wiener"), "q15")(rounding=rounding).fit(X[fit], y[fit])
    err = q15.predict(X[test]) - flt.predict(X[test])
    e_x, e_h, e_y = (int(v) for v in q15.exponents)
    taps = flt.weights[:, 0]
    predicted = q15_noise_power(taps, float(np.mean(np.square(noisy))), e_x, e_h, e_y, rounding=rounding)
    measured = float(np.mean(np.square(err)))
    # independent-uniform model: the three terms are sums of many errors; the measured power sits within
    # a factor 2 of the model on 3000 test rows (the coefficient term is one fixed draw, not an average)
    assert predicted / 2 < measured < predicted * 2
    assert q15.saturations == 0
    # and the fixed-point filter keeps the float filter's accuracy to well under 0.01 dB on this task
    clean, _ = founding(8000)
    c = clean[window:][test]
    snr = lambda p: 10 * np.log10(np.sum(np.square(c - c.mean())) / np.sum(np.square(c - p)))  # noqa: E731
    assert abs(snr(q15.predict(X[test])) - snr(flt.predict(X[test]))) < 0.01


@pytest.mark.parametrize("spec", [
    ("wiener", {"numtaps": 24}),
    ("fir", {"numtaps": 31, "cutoff": 0.1}),
    ("fir-bank", {"bands": 4, "numtaps": 31}),
    ("fir-bank", {"bands": 4, "numtaps": 15, "mode": "features"}),
    ("lms", {"numtaps": 32, "mu": 0.005}),
    ("nlms", {"numtaps": 32}),
    ("naive", {}),
])
def test_every_fir_type_baseline_runs_in_q15_close_to_float(spec):
    name, params = spec
    _, noisy = founding(4000)
    X = sb.sliding_windows(noisy[:-1], 32)
    y = noisy[32:]
    flt = sb.get_processor(name)(**params).fit(X[:3000], y[:3000])
    q = quantized(sb.get_processor(name), "q15")(**params).fit(X[:3000], y[:3000])
    assert q.name == f"{name}@q15"
    diff = q.predict(X[3000:]) - flt.predict(X[3000:])
    rms = np.sqrt(np.mean(np.square(flt.predict(X[3000:]))))
    assert np.sqrt(np.mean(np.square(diff))) < 1e-3 * rms  # 16 bits: ~-60 dB or better
    info = q.describe()
    assert info["accumulator_bits"] == 40 and info["coefficient_bits"] == 16
    assert info["float"]["name"] == name


def test_probed_taps_equal_the_wiener_weights():
    rng = np.random.default_rng(1)
    x = rng.normal(size=3000)
    X = sb.sliding_windows(x[:-1], 8)
    w = sb.get_processor("wiener")().fit(X, x[8:])
    taps, bias = linear_taps(w, 8, np.asarray(X[:50]))
    np.testing.assert_allclose(taps, w.weights, rtol=0, atol=1e-12)
    np.testing.assert_allclose(bias, w.bias, atol=1e-12)  # wiener is affine: its intercept is the bias


def test_a_nonlinear_processor_is_refused():
    class Square(sb.Processor):
        name = "square"

        def _fit(self, inputs, targets):
            pass

        def _predict(self, inputs):
            return np.square(inputs[:, -1])

    x = np.random.default_rng(2).normal(size=500)
    X = sb.sliding_windows(x[:-1], 4)
    with pytest.raises(ProcessorError, match="not a linear"):
        quantized(Square, "q15")().fit(X, x[4:])


def test_quantized_class_takes_the_float_parameters_and_round_trips(tmp_path):
    cls = quantized(sb.get_processor("wiener"), "q15")
    assert cls is quantized(sb.get_processor("wiener"), "q15")  # one class per (processor, scheme)
    assert cls.param_names() == ["numtaps", "loading", "method", "intercept", "rounding", "acc_bits"]
    from sigbench.params import coerce_params

    # option strings from `-m wiener@q15:numtaps=8,acc_bits=32` coerce as for the float class
    assert coerce_params(cls.__init__, {"numtaps": "8", "acc_bits": "32", "rounding": "product"}) == \
        {"numtaps": 8, "acc_bits": 32, "rounding": "product"}
    with pytest.raises(ValidationError):
        cls(numtaps=0)  # the float processor's validation
    with pytest.raises(ValidationError):
        cls(rounding="floor")  # the wrapper's
    with pytest.raises(ValidationError):
        quantized(sb.get_processor("wiener"), "int8")  # int8 needs an exportable (neural) processor
    _, noisy = founding(2000)
    X = sb.sliding_windows(noisy[:-1], 16)
    q = cls(numtaps=16).fit(X, noisy[16:])
    q.save(tmp_path / "q")
    back = cls.load(tmp_path / "q")
    np.testing.assert_array_equal(back.predict(X), q.predict(X))
    clone = pickle.loads(pickle.dumps(q))  # worker processes receive processors by pickle
    np.testing.assert_array_equal(clone.predict(X), q.predict(X))
