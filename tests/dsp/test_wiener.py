"""Wiener-Hopf FIR: closed form, exact identification, Toeplitz method, multi-output, validation."""

from __future__ import annotations

import numpy as np
import pytest

from sigbench.errors import ValidationError
from sigbench.plugins.dsp.wiener import Wiener, is_stream
from sigbench.windows import sliding_windows


def noisy_system(seed: int, n: int = 3000, window: int = 10):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n + window - 1)
    X = sliding_windows(x, window)
    h = rng.normal(size=window)
    return X, X @ h + 0.3 * rng.normal(size=X.shape[0]), h


def test_equals_numpy_lstsq():
    X, d, _ = noisy_system(0)
    w = Wiener(intercept=False).fit(X, d)
    expected, *_ = np.linalg.lstsq(np.asarray(X), d, rcond=None)
    np.testing.assert_allclose(w.weights[:, 0], expected, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(w.predict(X), np.asarray(X) @ expected, rtol=1e-9, atol=1e-12)


def test_the_default_is_the_affine_least_squares_fir():
    X, d, _ = noisy_system(0)
    d = d + 7.5  # a mean the FIR alone cannot produce
    w = Wiener().fit(X, d)
    A = np.hstack([np.asarray(X), np.ones((X.shape[0], 1))])
    expected, *_ = np.linalg.lstsq(A, d, rcond=None)
    np.testing.assert_allclose(w.weights[:, 0], expected[:-1], rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(w.bias, [expected[-1]], rtol=1e-10)
    np.testing.assert_allclose(w.predict(X), A @ expected, rtol=1e-9, atol=1e-12)
    # the intercept is what a purely linear filter misses: its error is larger by about the mean's square
    linear = Wiener(intercept=False).fit(X, d)
    assert np.mean((linear.predict(X) - d) ** 2) > np.mean((w.predict(X) - d) ** 2)


def test_toeplitz_with_intercept_is_close_to_the_affine_lstsq():
    X, d, _ = noisy_system(8, n=20_000)
    X = X + 3.0
    ls = Wiener(method="lstsq").fit(X, d)
    tp = Wiener(method="toeplitz").fit(X, d)
    np.testing.assert_allclose(tp.weights, ls.weights, atol=5e-3)
    np.testing.assert_allclose(tp.bias, ls.bias, atol=5e-2)


def test_equals_lstsq_across_several_blocks(monkeypatch):
    # force the block QR through many blocks (with a ragged last one)
    monkeypatch.setattr("sigbench.plugins.dsp.wiener.CHUNK_ROWS", 97)
    X, d, _ = noisy_system(1, n=1000)
    A = np.hstack([np.asarray(X[:, -4:]), np.ones((X.shape[0], 1))])
    expected, *_ = np.linalg.lstsq(A, d, rcond=None)
    w = Wiener(numtaps=4).fit(X, d)
    np.testing.assert_allclose(np.r_[w.weights[:, 0], w.bias], expected, rtol=1e-10, atol=1e-12)


def test_identifies_known_fir_exactly_without_noise():
    rng = np.random.default_rng(2)
    h = np.array([0.7, -0.2, 0.05, 0.3])  # oldest tap first
    x = rng.normal(size=500)
    X = sliding_windows(x, 4)
    w = Wiener(numtaps=4).fit(X, X @ h)
    np.testing.assert_allclose(w.weights[:, 0], h, rtol=1e-12, atol=1e-13)


def test_numtaps_uses_newest_columns():
    X, d, _ = noisy_system(3)
    a = Wiener(numtaps=3).fit(X, d)
    b = Wiener().fit(np.ascontiguousarray(X[:, -3:]), d)
    np.testing.assert_allclose(a.weights, b.weights, rtol=1e-12)


def test_toeplitz_close_to_lstsq_and_exact_formula():
    X, d, _ = noisy_system(4, n=20_000)
    ls = Wiener(method="lstsq", intercept=False).fit(X, d)
    tp = Wiener(method="toeplitz", intercept=False).fit(X, d)
    np.testing.assert_allclose(tp.weights, ls.weights, atol=2e-3)
    # the Toeplitz solution solves the autocorrelation-method normal equations exactly
    x = np.concatenate([np.asarray(X[0]), np.asarray(X[1:, -1])])
    r = np.array([x[: x.size - k] @ x[k:] for k in range(X.shape[1])]) / x.size
    R = r[np.abs(np.subtract.outer(np.arange(10), np.arange(10)))]
    p = np.asarray(X).T @ d / X.shape[0]
    np.testing.assert_allclose(R @ tp.weights[:, 0], p, rtol=1e-9, atol=1e-12)


def test_loading_is_ridge_regression():
    X, d, _ = noisy_system(5, n=800)
    A = np.asarray(X)
    beta = 0.5
    expected = np.linalg.solve(A.T @ A / A.shape[0] + beta * np.eye(A.shape[1]), A.T @ d / A.shape[0])
    np.testing.assert_allclose(Wiener(loading=beta, intercept=False).fit(X, d).weights[:, 0], expected, rtol=1e-9)
    # loading shrinks the weights
    assert np.linalg.norm(expected) < np.linalg.norm(Wiener(intercept=False).fit(X, d).weights)


def test_solves_spectrum_task_exactly():
    rng = np.random.default_rng(6)
    window = 16
    X = sliding_windows(rng.normal(size=400), window)
    spec = np.fft.rfft(np.asarray(X), norm="ortho")
    targets = np.concatenate([spec.real, spec.imag], axis=1)
    w = Wiener().fit(X, targets)
    assert w.predict(X).shape == targets.shape
    np.testing.assert_allclose(w.predict(X), targets, atol=1e-10)


def test_is_stream_detection():
    X, _, _ = noisy_system(7, n=50)
    assert is_stream(X) and is_stream(np.array(X))
    shuffled = np.array(X)[np.random.default_rng(0).permutation(X.shape[0])]
    assert not is_stream(shuffled)


def test_save_load_round_trip(tmp_path):
    X, d, _ = noisy_system(8, n=300)
    w = Wiener(numtaps=5, loading=0.01).fit(X, d)
    w.save(tmp_path)
    loaded = Wiener.load(tmp_path)
    assert loaded.get_params() == w.get_params()
    np.testing.assert_array_equal(loaded.predict(X), w.predict(X))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"numtaps": 0}, r"numtaps >= 1; received: numtaps=0"),  # no taps
        ({"numtaps": 1.5}, r"numtaps to be an integer"),  # fractional taps
        ({"loading": -1.0}, r"loading >= 0; received: loading=-1.0"),  # negative loading
        ({"loading": float("nan")}, r"loading to be a finite number"),  # NaN loading
        ({"method": "cholesky"}, r"method to be one of auto, lstsq, toeplitz"),  # unknown solver
    ],
)
def test_invalid_parameters(kwargs, message):
    with pytest.raises(ValidationError, match=message):
        Wiener(**kwargs)


def test_invalid_data():
    X, d, _ = noisy_system(9, n=30)
    with pytest.raises(ValidationError, match=r"numtaps <= window \(10 samples\)"):
        Wiener(numtaps=11).fit(X, d)  # more taps than the window
    with pytest.raises(ValidationError, match=r"at least numtaps=10 training rows"):
        Wiener().fit(X[:5], d[:5])  # underdetermined without loading
    Wiener(loading=0.1).fit(X[:5], d[:5])  # … but fine with loading
    with pytest.raises(ValidationError, match="sliding-window rows of one stream"):
        Wiener(method="toeplitz").fit(np.array(X)[::-1], d)  # rows not shifted copies
