"""LMS, NLMS, RLS: padasip parity, chunking, convergence, divergence, validation, persistence."""

from __future__ import annotations

import itertools

import numpy as np
import padasip as pa
import pytest

from sigbench.errors import DivergedError, ProcessorError, ValidationError
from sigbench.plugins.dsp.lms import LMS
from sigbench.plugins.dsp.nlms import NLMS
from sigbench.plugins.dsp.rls import RLS
from sigbench.plugins.dsp.wiener import Wiener
from sigbench.windows import sliding_windows

SYSTEM = np.array([0.1, -0.3, 0.5, 0.2, -0.05, 0.4])  # oldest tap first (window order)

# (our class, our params, padasip class, padasip params) — the same algorithm and constants
CASES = {
    "lms": (LMS, {"mu": 0.01}, pa.filters.FilterLMS, {"mu": 0.01}),
    "nlms": (NLMS, {"mu": 0.5, "eps": 1e-3}, pa.filters.FilterNLMS, {"mu": 0.5, "eps": 1e-3}),
    "rls": (RLS, {"lam": 0.98, "delta": 0.1}, pa.filters.FilterRLS, {"mu": 0.98, "eps": 0.1}),
}


def system_data(seed: int, n: int = 3000, numtaps: int = 8, noise: float = 0.05):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n + numtaps - 1)
    X = sliding_windows(x, numtaps)
    d = X[:, -SYSTEM.size:] @ SYSTEM + noise * rng.normal(size=X.shape[0])
    return X, d


def rel(a, b):
    return float(np.max(np.abs(a - b)) / np.max(np.abs(b)))


@pytest.mark.parametrize("name", CASES)
def test_parity_with_padasip(name):
    ours_cls, ours_kw, theirs_cls, theirs_kw = CASES[name]
    X, d = system_data(1, n=2000)
    theirs = theirs_cls(8, w="zeros", **theirs_kw)
    y_ref, _, _ = theirs.run(d, np.array(X))
    ours = ours_cls(numtaps=8, **ours_kw).fit(X[:1200], d[:1200])
    y_online = ours.predict_online(X[1200:], d[1200:])
    assert rel(ours.weights[0], theirs.w) < 1e-9
    assert rel(y_online, y_ref[1200:]) < 1e-9
    # the training-segment outputs too (fit adapts exactly like padasip's run over the same rows)
    again = ours_cls(numtaps=8, **ours_kw).fit(X[:1], d[:1])
    y_fit = again.predict_online(X[1:1200], d[1:1200])
    assert rel(y_fit, y_ref[1:1200]) < 1e-9


@pytest.mark.parametrize("name", CASES)
def test_chunked_equals_one_pass_exactly(name):
    cls, kw, *_ = CASES[name]
    X, d = system_data(2, n=3000)
    one = cls(numtaps=8, **kw).fit(X[:500], d[:500])
    chunked = cls(numtaps=8, **kw).fit(X[:500], d[:500])
    y_one = one.predict_online(X[500:], d[500:])
    bounds = [500, 501, 777, 1500, 2999, 3000]
    y_chunks = np.concatenate([chunked.predict_online(X[a:b], d[a:b]) for a, b in itertools.pairwise(bounds)])
    np.testing.assert_array_equal(y_chunks, y_one)
    for key, value in one.get_state().items():
        np.testing.assert_array_equal(chunked.get_state()[key], value)


@pytest.mark.parametrize("name", CASES)
def test_step_equals_predict_online(name):
    cls, kw, *_ = CASES[name]
    X, d = system_data(3, n=300)
    a = cls(numtaps=8, **kw).fit(X[:100], d[:100])
    b = cls(numtaps=8, **kw).fit(X[:100], d[:100])
    expected = a.predict_online(X[100:], d[100:])
    stepped = np.array([b.step(X[k], d[k]) for k in range(100, 300)])
    np.testing.assert_array_equal(stepped, expected)


@pytest.mark.parametrize("name", CASES)
def test_predict_freezes_weights(name):
    cls, kw, *_ = CASES[name]
    X, d = system_data(4, n=1000)
    f = cls(numtaps=8, **kw).fit(X[:800], d[:800])
    before = f.weights.copy()
    y = f.predict(X[800:])
    np.testing.assert_array_equal(f.weights, before)
    np.testing.assert_allclose(y, np.asarray(X[800:]) @ before[0], rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name", CASES)
def test_identifies_known_system(name):
    cls, kw, *_ = CASES[name]
    X, d = system_data(5, n=6000, noise=0.0)
    f = cls(numtaps=8, **kw).fit(X, d)
    np.testing.assert_allclose(f.weights[0, -SYSTEM.size:], SYSTEM, atol=1e-3)
    np.testing.assert_allclose(f.weights[0, :-SYSTEM.size], 0.0, atol=1e-3)


@pytest.mark.parametrize("name", CASES)
@pytest.mark.parametrize("numtaps", [7, 21, 64])
def test_vectorised_kernels_tails_layouts_and_chunks(name, numtaps):
    """The SIMD kernels (issue 19) for tap counts with a tail past the SIMD lanes (7, 21) and without
    (64): padasip parity to 1e-12; the same bits whether the rows are a sliding-window view, a C array or
    a Fortran array (the copying path); the same bits in chunks as in one pass; multi-output rows equal
    separate filters bit for bit."""
    ours_cls, ours_kw, theirs_cls, theirs_kw = CASES[name]
    X, d = system_data(9, n=1500, numtaps=numtaps)
    y_ref, _, _ = theirs_cls(numtaps, w="zeros", **theirs_kw).run(d, np.array(X))
    fits = {}
    for layout, rows in (("view", X), ("C", np.ascontiguousarray(X)), ("F", np.asfortranarray(X))):
        f = ours_cls(numtaps=numtaps, **ours_kw).fit(rows[:1], d[:1])
        fits[layout] = (f.predict_online(rows[1:], d[1:]), f.weights.copy())
    y, w = fits["view"]
    assert rel(y, y_ref[1:]) < 1e-12
    for layout in ("C", "F"):
        np.testing.assert_array_equal(fits[layout][0], y)
        np.testing.assert_array_equal(fits[layout][1], w)
    chunked = ours_cls(numtaps=numtaps, **ours_kw).fit(X[:1], d[:1])
    parts = [chunked.predict_online(X[a:b], d[a:b]) for a, b in itertools.pairwise([1, 2, 333, 1000, 1500])]
    np.testing.assert_array_equal(np.concatenate(parts), y)
    np.testing.assert_array_equal(chunked.weights, w)
    d2 = np.stack([d, 0.5 - d], axis=1)
    both = ours_cls(numtaps=numtaps, **ours_kw).fit(X, d2)
    for o in range(2):
        alone = ours_cls(numtaps=numtaps, **ours_kw).fit(X, d2[:, o])
        np.testing.assert_array_equal(both.weights[o], alone.weights[0])


@pytest.mark.parametrize("name", CASES)
def test_kernel_stops_at_the_first_diverging_row_of_any_output(name):
    """The kernels run the outputs one after the other: the row returned is still the first one at which
    any output's error exceeds the limit, and every output has its prediction up to that row."""
    from sigbench.plugins.dsp._adaptive import kernel

    X, d = system_data(10, n=200)
    targets = np.stack([d, d], axis=1)
    targets[120, 0] = 1e6  # output 0 breaks later than output 1
    targets[70, 1] = 1e6
    w = np.zeros((2, 8))
    extra = (np.eye(8) / 0.1,) if name == "rls" else ()
    consts = {"lms": (0.01,), "nlms": (0.5, 1e-3), "rls": (0.98,)}[name]
    y = np.full(targets.shape, np.nan)
    assert kernel(name)(X, targets, w, *extra, *consts, 100.0, y) == 70
    assert np.isfinite(y[:71]).all()


def test_lms_converges_to_wiener_solution():
    # coloured stationary input, noisy target: LMS with a small mu hovers around the Wiener weights
    rng = np.random.default_rng(6)
    white = rng.normal(size=60_000)
    x = np.convolve(white, [1.0, 0.6, 0.3])[: white.size]
    X = sliding_windows(x, 6)
    d = X @ SYSTEM + 0.1 * rng.normal(size=X.shape[0])
    wiener = Wiener(numtaps=6).fit(X, d)
    lms = LMS(numtaps=6, mu=0.002).fit(X, d)
    assert np.linalg.norm(lms.weights[0] - wiener.weights[:, 0]) < 0.02 * np.linalg.norm(SYSTEM)


def test_multi_output_equals_separate_filters():
    X, d = system_data(7, n=800)
    d2 = np.stack([d, -0.5 * d + 0.1], axis=1)
    both = RLS(numtaps=8, lam=0.99).fit(X, d2)
    first = RLS(numtaps=8, lam=0.99).fit(X, d2[:, 0])
    second = RLS(numtaps=8, lam=0.99).fit(X, d2[:, 1])
    np.testing.assert_allclose(both.weights, np.stack([first.weights[0], second.weights[0]]), rtol=1e-12)
    assert both.predict(X[:5]).shape == (5, 2)


def test_numtaps_none_uses_whole_window_and_newest_columns():
    X, d = system_data(8, n=400, numtaps=12)
    whole = LMS(mu=0.01).fit(X, d)
    assert whole.weights.shape == (1, 12)
    newest = LMS(numtaps=6, mu=0.01).fit(X, d)
    alone = LMS(numtaps=6, mu=0.01).fit(np.ascontiguousarray(X[:, -6:]), d)
    np.testing.assert_array_equal(newest.weights, alone.weights)


def test_lms_divergence_raises_with_sample_and_stable_range():
    X, d = system_data(9, n=2000)
    lms = LMS(numtaps=8, mu=1.0)  # 2/(3·8·E[x²]) ≈ 0.083: mu=1 is far outside the stable range
    with pytest.raises(DivergedError, match=r"diverged at sample \d+.*0 < mu < 2/\(3·numtaps·E\[x²\]\) = ") as info:
        lms.fit(X, d)
    bound = float(str(info.value).split("E[x²]) = ")[-1].split(" ")[0])
    assert bound == pytest.approx(2 / (3 * 8 * np.mean(np.asarray(X)[:, -1] ** 2)), rel=1e-3)
    assert info.value.sample is not None and 0 < info.value.sample < 2000
    assert not lms.fitted


def test_divergence_in_predict_online_leaves_state_untouched():
    X, d = system_data(10, n=1000)
    lms = LMS(numtaps=8, mu=0.01).fit(X[:500], d[:500])
    before = {k: v.copy() for k, v in lms.get_state().items()}
    spike = d[500:].copy()
    spike[6] = 1e12  # an exploding error at the 7th row of this call (sample 506 since the start)
    with pytest.raises(DivergedError, match=r"diverged at sample 506 \(row 6 of this call\)") as info:
        lms.predict_online(X[500:], spike)
    assert info.value.sample == 506
    for key, value in before.items():
        np.testing.assert_array_equal(lms.get_state()[key], value)


def test_nlms_and_rls_divergence_messages():
    X, d = system_data(11, n=500)
    with pytest.raises(DivergedError, match="0 < mu < 2"):
        NLMS(numtaps=8, mu=3.9, eps=0.0).fit(X, d * 1e7 * (np.arange(500) > 400) + d)
    rls = RLS(numtaps=8).fit(X[:100], d[:100])
    with pytest.raises(DivergedError, match="lam"):
        rls.predict_online(X[100:200], np.full(100, 1e300))


@pytest.mark.parametrize("name", CASES)
def test_save_load_round_trip_continues_exactly(name, tmp_path):
    cls, kw, *_ = CASES[name]
    X, d = system_data(12, n=1000)
    f = cls(numtaps=8, **kw).fit(X[:600], d[:600])
    f.save(tmp_path)
    g = type(f).load(tmp_path)
    assert g.get_params() == f.get_params()
    np.testing.assert_array_equal(g.predict(X[600:]), f.predict(X[600:]))
    np.testing.assert_array_equal(g.predict_online(X[600:], d[600:]), f.predict_online(X[600:], d[600:]))


def test_describe_reports_cost():
    X, d = system_data(13, n=200, numtaps=16)
    assert LMS(numtaps=16).fit(X, d).describe()["macs_per_sample"] == 32
    assert NLMS(numtaps=16).fit(X, d).describe()["macs_per_sample"] == 48
    info = RLS(numtaps=16).fit(X, d).describe()
    assert info["macs_per_sample"] == 2 * 16 * 16 + 5 * 16
    assert info["trainable_params"] == 16 and info["numtaps"] == 16


def test_predict_online_needs_fit_and_matching_outputs():
    X, d = system_data(14, n=100)
    with pytest.raises(ProcessorError, match="must be fitted"):
        LMS(numtaps=8).predict_online(X, d)
    f = LMS(numtaps=8).fit(X, d)
    with pytest.raises(ValidationError, match="1 outputs"):
        f.predict_online(X, np.stack([d, d], axis=1))


@pytest.mark.parametrize(
    ("cls", "kwargs", "message"),
    [
        (LMS, {"numtaps": 0}, r"numtaps >= 1; received: numtaps=0"),  # no taps
        (LMS, {"numtaps": -3}, r"numtaps >= 1"),  # negative taps
        (LMS, {"numtaps": 2.5}, r"numtaps to be an integer"),  # fractional taps
        (LMS, {"numtaps": True}, r"numtaps to be an integer"),  # bool is not a tap count
        (LMS, {"mu": 0.0}, r"mu > 0; received: mu=0.0"),  # zero step never adapts
        (LMS, {"mu": -0.1}, r"mu > 0"),  # negative step climbs the error surface
        (LMS, {"mu": float("nan")}, r"mu to be a finite number"),  # NaN step
        (LMS, {"mu": "fast"}, r"mu to be a finite number"),  # not a number
        (NLMS, {"mu": 0}, r"mu > 0"),  # zero normalised step
        (NLMS, {"eps": -1e-3}, r"eps >= 0; received: eps=-0.001"),  # negative regulariser
        (NLMS, {"eps": float("inf")}, r"eps to be a finite number"),  # infinite regulariser
        (RLS, {"lam": 0.0}, r"lam in \(0.0, 1.0\]; received: lam=0.0"),  # no memory at all
        (RLS, {"lam": 1.01}, r"lam in \(0.0, 1.0\]"),  # growing weight on the past
        (RLS, {"lam": -0.5}, r"lam in \(0.0, 1.0\]"),  # negative forgetting factor
        (RLS, {"delta": 0.0}, r"delta > 0"),  # P(0) = I/0 is infinite
        (RLS, {"numtaps": 0}, r"numtaps >= 1"),  # no taps
    ],
)
def test_invalid_parameters(cls, kwargs, message):
    with pytest.raises(ValidationError, match=message):
        cls(**kwargs)


def test_invalid_data():
    X, d = system_data(15, n=100)
    with pytest.raises(ValidationError, match=r"numtaps <= window \(8 samples\); received: numtaps=9"):
        LMS(numtaps=9).fit(X, d)  # more taps than the window has samples
    bad = np.array(X)
    bad[3, 2] = np.nan
    with pytest.raises(ValidationError, match="NaN/inf in inputs"):
        LMS(numtaps=8).fit(bad, d)  # NaN in inputs
    x = np.random.default_rng(16).normal(size=200)
    x[150] = np.inf
    with pytest.raises(ValidationError, match="NaN/inf in inputs"):
        LMS(numtaps=8).fit(sliding_windows(x, 8), np.zeros(193))  # inf inside a sliding-window view
    fitted = LMS(numtaps=8).fit(X, d)
    with pytest.raises(ValidationError, match=r"windows of 8 samples \(as in fit\)"):
        fitted.predict(sliding_windows(np.zeros(50), 9))  # a view with another window length
    with pytest.raises(ValidationError, match="targets with 100 rows"):
        RLS(numtaps=8).fit(X, d[:50])  # targets shorter than inputs
