"""Built-in generator sources: physics and statistics, determinism, parameter validation.

Assertions are about what a source must be (noise variance, autocorrelation, instantaneous frequency,
spectral slope, the stored system reproducing the output), with explicit tolerances, never golden sums.
"""

from __future__ import annotations

import json
import math
import typing

import numpy as np
import pytest
from scipy import signal as sps

import sigbench as sb
from sigbench.datasets import synthetic, systems
from sigbench.errors import ValidationError
from sigbench.params import coerce_params

GENERATORS = [
    "sines",
    "tones",
    "chirp",
    "ar",
    "square",
    "sawtooth",
    "mackey-glass",
    "noise",
    "fir-system",
    "iir-system",
    "hammerstein",
    "wiener-system",
]
#: extra parameters that make every source random in its seed (mackey-glass is deterministic without noise)
SEEDED = {"mackey-glass": {"snr_db": 20.0, "n": 300}, "ar": {"n": 500}}
ALLOWED_ANNOTATIONS = (int, float, bool, str, tuple[float, ...])


def make(name: str, **params):
    return sb.generate(name, **params)


# -- registration and contract ---------------------------------------------------------------------
def test_every_generator_is_registered_as_a_generator(host):
    listed = {s["name"]: s for s in sb.list_sources()}
    for name in GENERATORS:
        assert listed[name]["kind"] == "generator", name
        assert listed[name]["description"], name
        assert listed[name]["origin"].startswith("sigbench.datasets."), name


@pytest.mark.parametrize("name", GENERATORS)
def test_parameters_are_typed_with_cli_types_and_defaults(host, name):
    fn = sb.get_source(name)
    hints = typing.get_type_hints(fn)
    import inspect

    for pname, param in inspect.signature(fn).parameters.items():
        assert param.default is not inspect.Parameter.empty, f"{name}.{pname} has no default"
        assert hints[pname] in ALLOWED_ANNOTATIONS, f"{name}.{pname}: {hints[pname]}"
    assert hints["return"] is sb.Signal


@pytest.mark.parametrize("name", GENERATORS)
def test_metadata_is_complete_json_and_regenerates_the_signal(host, name):
    sig = make(name, n=256, seed=3)
    meta = sig.metadata
    assert meta["source"] == name
    assert meta["seed"] == 3
    assert meta["sigbench_version"] == sb.__version__
    text = json.dumps(meta, allow_nan=False)  # strict JSON: no NaN/Infinity tokens
    params = json.loads(text)["params"]
    assert params["n"] == 256 and params["seed"] == 3
    if name != "noise":
        assert meta["noise_convention"] in ("sigma", "true")
        assert sig.clean is not None and sig.clean.shape == sig.data.shape
    again = make(name, **params)  # the stored parameters are enough to rebuild the signal
    np.testing.assert_array_equal(again.data, sig.data)


def test_cli_strings_coerce_through_the_annotations(host):
    raw = {"snr_db": "5", "frequencies_rad_s": "1,2", "amplitudes": "0.5", "noise_convention": "true"}
    params = coerce_params(synthetic.sines, raw)
    sig = make("sines", n=100, **params)
    assert sig.metadata["params"]["frequencies_rad_s"] == [1.0, 2.0]
    assert sig.metadata["params"]["amplitudes"] == [0.5, 0.5]
    assert make("sines", n=10, snr_db=coerce_params(synthetic.sines, {"snr_db": "inf"})["snr_db"]).snr_db() == math.inf


# -- determinism -----------------------------------------------------------------------------------
@pytest.mark.parametrize("name", GENERATORS)
def test_same_seed_identical_different_seed_different(host, name):
    params = {"n": 400, **SEEDED.get(name, {})}
    a, b, c = make(name, seed=7, **params), make(name, seed=7, **params), make(name, seed=8, **params)
    np.testing.assert_array_equal(a.data, b.data)
    if a.clean is not None:
        np.testing.assert_array_equal(a.clean, b.clean)
    for key in a.aux:
        np.testing.assert_array_equal(a.aux[key], b.aux[key])
    assert not np.allclose(a.data, c.data)


# -- the founding signal ---------------------------------------------------------------------------
def test_sines_is_the_founding_signal(host):
    sig = make("sines", seed=0)
    assert sig.n_samples == 5000 and sig.sample_rate_hz == pytest.approx(10.0)
    t = np.arange(5000) * 0.1
    expected = np.sin(t) + np.sin(np.pi * t / 2) + np.sin(-3 * np.pi * t / 2)
    np.testing.assert_allclose(sig.clean, expected, atol=1e-12)
    assert sig.metadata["noise_convention"] == "sigma"
    assert sig.metadata["params"]["snr_db"] == 10.0


@pytest.mark.parametrize("snr_db", [0.0, 10.0, 20.0])
def test_sines_sigma_convention_noise_variance_is_sigma_squared(host, snr_db):
    sig = make("sines", n=50_000, seed=1, snr_db=snr_db)
    noise = sig.data - sig.clean
    sigma2 = 10.0 ** (-snr_db / 10.0)
    # sample variance of n Gaussian samples has relative s.d. sqrt(2/n) ≈ 0.63 %: 4 % is over 6 s.d.
    assert np.var(noise) == pytest.approx(sigma2, rel=0.04)
    assert abs(np.mean(noise)) < 5 * math.sqrt(sigma2 / 50_000)
    # white: the lag-1 autocorrelation of the noise is within ±5/sqrt(n)
    r1 = np.corrcoef(noise[:-1], noise[1:])[0, 1]
    assert abs(r1) < 5 / math.sqrt(50_000)
    # σ does not depend on the signal power under "sigma": three unit sines have power 1.5, so the true
    # SNR is about snr_db + 10·log10(1.5) = snr_db + 1.76 dB
    assert sig.snr_db() == pytest.approx(snr_db + 10 * math.log10(1.5), abs=0.2)


@pytest.mark.parametrize("snr_db", [-5.0, 10.0, 30.0])
def test_true_convention_gives_the_requested_snr(host, snr_db):
    for name in ("sines", "tones", "square", "fir-system"):
        sig = make(name, n=50_000, seed=2, snr_db=snr_db, noise_convention="true")
        assert sig.snr_db() == pytest.approx(snr_db, abs=0.15), name


def test_infinite_snr_means_no_noise(host):
    sig = make("sines", n=100, snr_db=math.inf)
    np.testing.assert_array_equal(sig.data, sig.clean)
    assert sig.metadata["params"]["snr_db"] == "inf"


def test_sines_amplitudes_and_frequencies_are_honoured(host):
    sig = make("sines", n=2000, step_s=0.05, frequencies_rad_s=(2.0,), amplitudes=(3.0,), snr_db=math.inf)
    assert sig.sample_rate_hz == pytest.approx(20.0)
    np.testing.assert_allclose(sig.clean, 3.0 * np.sin(2.0 * np.arange(2000) * 0.05), atol=1e-12)


# -- tones, chirp, periodic waves ------------------------------------------------------------------
def test_tones_amplitude_and_phase_by_projection(host):
    rate, n = 1000.0, 4000
    freqs, amps, phases = (50.0, 125.0), (1.0, 0.25), (0.3, -1.0)
    sig = make(
        "tones", n=n, sample_rate_hz=rate, frequencies_hz=freqs, amplitudes=amps, phases_rad=phases, snr_db=math.inf
    )
    t = np.arange(n) / rate
    for f, a, p in zip(freqs, amps, phases, strict=True):
        z = 2.0 / n * np.sum(sig.clean * np.exp(-2j * np.pi * f * t))  # whole periods: no leakage
        assert abs(z) == pytest.approx(a, abs=1e-9)
        assert np.angle(z) == pytest.approx(p, abs=1e-9)


@pytest.mark.parametrize("method", ["linear", "quadratic", "logarithmic"])
def test_chirp_instantaneous_frequency_follows_the_law(host, method):
    rate, n, f0, f1 = 2000.0, 8000, 20.0, 400.0
    sig = make("chirp", n=n, sample_rate_hz=rate, f0_hz=f0, f1_hz=f1, method=method, snr_db=math.inf)
    phase = np.unwrap(np.angle(sps.hilbert(sig.clean)))
    inst = np.diff(phase) * rate / (2 * np.pi)
    t = (np.arange(n - 1) + 0.5) / rate
    t1 = (n - 1) / rate
    law = {
        "linear": f0 + (f1 - f0) * t / t1,
        "quadratic": f0 + (f1 - f0) * (t / t1) ** 2,
        "logarithmic": f0 * (f1 / f0) ** (t / t1),
    }[method]
    core = slice(n // 10, n - n // 10)  # the Hilbert transform rings at the edges
    assert np.median(np.abs(inst[core] - law[core])) < 1.0
    assert np.max(np.abs(inst[core] - law[core])) < 0.05 * f1


def test_square_duty_cycle_and_fundamental(host):
    rate, n = 1000.0, 10_000
    sig = make("square", n=n, sample_rate_hz=rate, frequency_hz=10.0, duty=0.3, amplitude=2.0, snr_db=math.inf)
    assert set(np.unique(sig.clean)) == {-2.0, 2.0}
    assert np.mean(sig.clean > 0) == pytest.approx(0.3, abs=0.005)
    spectrum = np.abs(np.fft.rfft(sig.clean - sig.clean.mean()))
    assert np.fft.rfftfreq(n, 1 / rate)[np.argmax(spectrum)] == pytest.approx(10.0)


def test_sawtooth_triangle_is_symmetric_and_bounded(host):
    rate, n = 1000.0, 1000
    sig = make("sawtooth", n=n, sample_rate_hz=rate, frequency_hz=5.0, width=0.5, snr_db=math.inf)
    assert sig.clean.max() <= 1.0 and sig.clean.min() >= -1.0
    period = int(rate / 5.0)
    one = sig.clean[:period]
    # a triangle is symmetric about its peak at the half period: x(T/2 + k) = x(T/2 − k)
    np.testing.assert_allclose(one[period // 2 + 1 :], one[period // 2 - 1 : 0 : -1], atol=1e-9)
    ramp = make("sawtooth", n=n, sample_rate_hz=rate, frequency_hz=5.0, width=1.0, snr_db=math.inf).clean
    assert (np.diff(ramp[: period - 1]) > 0).all()  # a rising ramp within one period


# -- AR process ------------------------------------------------------------------------------------
def _theoretical_acf(coefs, noise_std, lags):
    impulse = np.zeros(5000)
    impulse[0] = 1.0
    h = sps.lfilter([1.0], np.r_[1.0, -np.asarray(coefs)], impulse)
    return np.array([noise_std**2 * np.dot(h[: h.size - k], h[k:]) for k in lags])


@pytest.mark.parametrize("coefs", [(0.9,), (0.75, -0.5), (1.2, -0.6, 0.1)])
def test_ar_sample_autocovariance_matches_theory(host, coefs):
    n, lags = 100_000, range(6)
    sig = make("ar", n=n, seed=4, coefficients=coefs, noise_std=0.5)
    x = sig.data - sig.data.mean()
    sample = np.array([np.dot(x[: n - k], x[k:]) / n for k in lags])
    theory = _theoretical_acf(coefs, 0.5, lags)
    np.testing.assert_allclose(sample, theory, atol=0.05 * theory[0])


@pytest.mark.parametrize("coefs", [(0.75, -0.5), (1.2, -0.6, 0.1)])
def test_ar_yule_walker_recovers_the_coefficients(host, coefs):
    n, p = 100_000, len(coefs)
    x = make("ar", n=n, seed=5, coefficients=coefs).data
    x = x - x.mean()
    r = np.array([np.dot(x[: n - k], x[k:]) / n for k in range(p + 1)])
    estimate = np.linalg.solve(np.array([[r[abs(i - j)] for j in range(p)] for i in range(p)]), r[1:])
    np.testing.assert_allclose(estimate, coefs, atol=0.02)
    # the innovation variance is r0 − Σ a_i r_i
    assert r[0] - estimate @ r[1:] == pytest.approx(1.0, rel=0.03)


@pytest.mark.parametrize(
    "coefs",
    [
        (1.0,),  # a random walk: root on the unit circle
        (1.01,),  # explosive AR(1)
        (0.5, 0.6),  # real root 1.06
        (0.0, -1.0),  # complex pair on the unit circle
    ],
)
def test_unstable_ar_is_rejected_with_the_pole_modulus(host, coefs):
    with pytest.raises(ValidationError, match="largest root modulus"):
        make("ar", coefficients=coefs)


def test_ar_burn_in_grows_with_a_slow_pole(host):
    sig = make("ar", n=100, coefficients=(0.999,))
    assert sig.metadata["burn_in_used"] >= math.log(1e-6) / math.log(0.999)


# -- Mackey-Glass ----------------------------------------------------------------------------------
def _closest_return(x, lo, hi):
    """min over lags L in [lo, hi) of RMS(x[k+L] − x[k]) / std(x): 0 for a series of period L."""
    return min(np.sqrt(np.mean((x[lag:] - x[:-lag]) ** 2)) for lag in range(lo, hi)) / np.std(x)


def test_mackey_glass_is_bounded_and_aperiodic(host):
    sig = make("mackey-glass", n=3000)
    x = sig.data
    assert np.isfinite(x).all() and 0.2 < x.min() and x.max() < 1.5
    assert sig.sample_rate_hz == pytest.approx(1.0)
    # chaotic (τ = 17): no shift up to 1000 samples brings the series back onto itself
    assert _closest_return(x, 30, 1000) > 0.1
    # control: τ = 10 lies below the onset of chaos; that series is periodic and the same check sees it
    periodic = make("mackey-glass", n=3000, tau=10.0).data
    assert _closest_return(periodic, 30, 1000) < 0.02


def test_mackey_glass_integration_has_converged(host):
    # fourth-order RK4 with Hermite-interpolated delay: halving dt shrinks the error about 16 times
    coarse, fine, finest = (make("mackey-glass", n=200, dt=dt).data for dt in (0.1, 0.05, 0.025))
    assert np.max(np.abs(coarse - finest)) < 1e-6
    assert np.max(np.abs(coarse - finest)) > 8 * np.max(np.abs(fine - finest))


# -- noise -----------------------------------------------------------------------------------------
@pytest.mark.parametrize(("color", "slope"), [("white", 0.0), ("pink", -10.0), ("brown", -20.0), ("blue", 10.0)])
def test_noise_colour_has_the_right_spectral_slope(host, color, slope):
    sig = make("noise", n=2**16, seed=6, color=color, std=2.0)
    assert sig.clean is None
    assert np.std(sig.data) == pytest.approx(2.0, rel=1e-9)
    assert abs(np.mean(sig.data)) < 1e-9
    freqs, psd = sps.welch(sig.data, nperseg=4096)
    band = (freqs > 0.002) & (freqs < 0.2)
    fitted = np.polyfit(np.log10(freqs[band]), 10 * np.log10(psd[band]), 1)[0]  # dB per decade
    assert fitted == pytest.approx(slope, abs=1.5)


# -- system-identification sources -----------------------------------------------------------------
def _reference_output(system, u):
    """The stored system applied to the stored input, written independently of the source."""
    b = np.asarray(system["b"])
    if system["type"] == "fir":
        return sps.lfilter(b, [1.0], u)
    if system["type"] == "iir":
        return sps.lfilter(b, system["a"], u)
    f = {"tanh": np.tanh, "clip": lambda v: np.clip(v, -1, 1)}.get(system["nonlinearity"])
    if f is None:
        c = system["poly_coefficients"]
        f = lambda v: sum(ck * v**k for k, ck in enumerate(c))  # noqa: E731
    if system["type"] == "hammerstein":
        return sps.lfilter(b, [1.0], f(u))
    return f(sps.lfilter(b, [1.0], u))


@pytest.mark.parametrize(
    ("name", "params"),
    [
        ("fir-system", {}),
        ("fir-system", {"b": (0.5, -0.25, 0.125), "input_color": "pink"}),
        ("iir-system", {}),
        ("iir-system", {"b": (1.0, 0.5), "a": (2.0, -1.0, 0.5)}),
        ("hammerstein", {}),
        ("hammerstein", {"nonlinearity": "poly", "input_std": 0.8}),
        ("wiener-system", {"nonlinearity": "clip", "input_std": 2.0}),
    ],
)
def test_identification_output_is_the_stored_system_applied_to_the_input(host, name, params):
    sig = make(name, n=3000, seed=9, snr_db=25.0, **params)
    u = sig.aux["input"]
    assert u.shape == sig.data.shape == (3000,)
    system = sig.metadata["system"]
    np.testing.assert_allclose(sig.clean, _reference_output(system, u), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(sig.clean, systems.apply_system(system, u), rtol=1e-12, atol=1e-12)
    assert sig.snr_db() == pytest.approx(25.0, abs=0.5)
    if system["type"] == "iir":
        assert system["a"][0] == 1.0
        assert np.max(np.abs(np.roots(system["a"]))) < 1.0


def test_identification_input_is_white_by_default_and_coloured_on_request(host):
    white = make("fir-system", n=2**15, seed=1, input_std=2.0).aux["input"]
    assert np.std(white) == pytest.approx(2.0, rel=0.03)
    assert abs(np.corrcoef(white[:-1], white[1:])[0, 1]) < 0.03
    brown = make("fir-system", n=2**15, seed=1, input_color="brown").aux["input"]
    assert np.corrcoef(brown[:-1], brown[1:])[0, 1] > 0.9


def test_random_fir_has_unit_energy_and_given_taps_are_kept(host):
    sig = make("fir-system", numtaps=32, seed=3)
    b = np.asarray(sig.metadata["system"]["b"])
    assert b.size == 32 and np.sum(b**2) == pytest.approx(1.0)
    given = make("fir-system", b=(1.0, -1.0)).metadata["system"]["b"]
    assert given == [1.0, -1.0]


def test_changing_snr_keeps_system_and_input(host):
    a, b = make("iir-system", seed=2, snr_db=5.0), make("iir-system", seed=2, snr_db=40.0)
    np.testing.assert_array_equal(a.aux["input"], b.aux["input"])
    assert a.metadata["system"] == b.metadata["system"]


# -- every invalid parameter -----------------------------------------------------------------------
INVALID = [
    ("sines", {"n": 0}, "n >= 1"),  # no samples
    ("sines", {"n": 2.5}, "integer"),  # fractional sample count
    ("sines", {"n": True}, "integer"),  # a bool is not a count
    ("sines", {"n": 10**12}, "n <="),  # would allocate terabytes
    ("sines", {"seed": -1}, "seed >= 0"),  # default_rng refuses negative seeds
    ("sines", {"step_s": 0.0}, "step_s > 0"),  # zero step
    ("sines", {"step_s": math.nan}, "step_s"),  # NaN step
    ("sines", {"step_s": math.inf}, "step_s"),  # infinite step
    ("sines", {"frequencies_rad_s": (40.0,)}, "Nyquist"),  # 40 rad/s aliases at step 0.1 s
    ("sines", {"frequencies_rad_s": (1.0,), "amplitudes": (1.0, 2.0)}, "1 value"),  # 2 amplitudes, 1 sine
    ("sines", {"frequencies_rad_s": ()}, "at least 1"),  # no sines at all
    ("sines", {"frequencies_rad_s": (1.0, math.nan)}, "finite"),  # NaN frequency
    ("sines", {"frequencies_rad_s": "a,b"}, "list of numbers"),  # not numbers
    ("sines", {"amplitudes": (1.0, 2.0)}, "1 or 3 values"),  # 2 amplitudes for 3 sines
    ("sines", {"snr_db": math.nan}, "snr_db"),  # NaN SNR
    ("sines", {"snr_db": -math.inf}, "snr_db"),  # −inf SNR (infinite noise)
    ("sines", {"snr_db": "loud"}, "snr_db"),  # not a number
    ("sines", {"noise_convention": "db"}, "noise_convention"),  # unknown convention
    ("sines", {"amplitudes": (0.0,), "noise_convention": "true"}, "non-zero power"),  # no true SNR of silence
    ("tones", {"sample_rate_hz": 0.0}, "sample_rate_hz > 0"),  # zero rate
    ("tones", {"sample_rate_hz": -8000.0}, "sample_rate_hz > 0"),  # negative rate
    ("tones", {"frequencies_hz": (600.0,)}, "Nyquist"),  # above fs/2 = 500 Hz
    ("tones", {"phases_rad": (0.0, 1.0, 2.0)}, "1 or 2 values"),  # 3 phases for 2 tones
    ("tones", {"amplitudes": (math.inf,)}, "finite"),  # infinite amplitude
    ("chirp", {"n": 1}, "n >= 2"),  # a sweep needs two samples
    ("chirp", {"f1_hz": 500.0}, "f1_hz in"),  # at Nyquist
    ("chirp", {"f0_hz": -1.0}, "f0_hz in"),  # negative frequency
    ("chirp", {"method": "cubic"}, "method"),  # unknown law
    ("chirp", {"method": "logarithmic", "f0_hz": 0.0}, "f0_hz > 0"),  # log sweep from DC
    ("chirp", {"amplitude": math.nan}, "amplitude"),  # NaN amplitude
    ("ar", {"coefficients": ()}, "at least 1"),  # AR(0) is white noise: use the noise source
    ("ar", {"coefficients": (1.5,)}, "stable"),  # explosive
    ("ar", {"noise_std": 0.0}, "noise_std > 0"),  # no innovation
    ("ar", {"burn_in": -1}, "burn_in >= 0"),  # negative burn-in
    ("square", {"frequency_hz": 0.0}, "frequency_hz in"),  # DC is not a square wave
    ("square", {"frequency_hz": 500.0}, "frequency_hz in"),  # at Nyquist
    ("square", {"duty": 1.5}, "duty in"),  # duty above 1
    ("sawtooth", {"width": -0.1}, "width in"),  # width below 0
    ("sawtooth", {"phase_rad": math.inf}, "phase_rad"),  # infinite phase
    ("mackey-glass", {"tau": 0.0}, "tau > 0"),  # no delay
    ("mackey-glass", {"tau": 17.05}, "whole multiple"),  # delay not on the integration grid
    ("mackey-glass", {"sample_step": 0.15}, "whole multiple"),  # sampling not on the grid
    ("mackey-glass", {"x0": -1.0}, "x0 > 0"),  # negative history leaves the physical domain
    ("mackey-glass", {"dt": 0.0}, "dt > 0"),  # zero step
    ("mackey-glass", {"burn_in_s": -5.0}, "burn_in_s >= 0"),  # negative burn-in
    ("mackey-glass", {"gamma": -0.1}, "gamma > 0"),  # negative decay
    ("noise", {"color": "green"}, "color"),  # unknown colour
    ("noise", {"std": -1.0}, "std > 0"),  # negative standard deviation
    ("noise", {"n": 1}, "n >= 2"),  # cannot shape one sample
    ("fir-system", {"numtaps": 0}, "numtaps >= 1"),  # an FIR needs a tap
    ("fir-system", {"b": (0.0, 0.0)}, "non-zero tap"),  # the zero system
    ("fir-system", {"b": (1.0, math.nan)}, "finite"),  # NaN tap
    ("fir-system", {"input_color": "violet"}, "input_color"),  # not an excitation colour
    ("fir-system", {"input_std": 0.0}, "input_std > 0"),  # no excitation
    ("iir-system", {"b": (1.0,)}, "both b and a"),  # numerator without denominator
    ("iir-system", {"b": (1.0,), "a": (0.0, 1.0)}, r"a\[0\] != 0"),  # leading zero denominator
    ("iir-system", {"b": (1.0,), "a": (1.0, -1.1)}, "largest pole modulus"),  # unstable pole 1.1
    ("iir-system", {"b": (1.0,), "a": (1.0, 0.0, 1.0)}, "largest pole modulus"),  # poles on the unit circle
    ("iir-system", {"n_poles": 0}, "n_poles >= 1"),  # no poles
    ("iir-system", {"n_poles": 65}, "n_poles <= 64"),  # numerically meaningless order
    ("hammerstein", {"nonlinearity": "relu"}, "nonlinearity"),  # unknown nonlinearity
    ("hammerstein", {"nonlinearity": "poly", "poly_coefficients": (1.0,)}, "non-constant"),  # constant map
    ("wiener-system", {"nonlinearity": "poly", "poly_coefficients": ()}, "non-constant"),  # no polynomial
    ("wiener-system", {"snr_db": math.nan}, "snr_db"),  # NaN SNR
]


@pytest.mark.parametrize(("name", "params", "match"), INVALID)
def test_invalid_parameter_is_rejected_with_the_value(host, name, params, match):
    with pytest.raises(ValidationError, match=match) as info:
        make(name, **params)
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith("expected ") and "received" in message


def test_unknown_parameter_names_the_allowed_ones(host):
    with pytest.raises(ValidationError, match="snr_db"):
        make("sines", snrdb=3)
