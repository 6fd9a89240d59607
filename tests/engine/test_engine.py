"""Comparison engine: protocol, metrics, failed rows, seeds, JSON, resume, every task end to end."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

import sigbench as sb
from sigbench import hookimpl
from sigbench.errors import ConfigError, ValidationError
from sigbench.metrics import METRICS
from sigbench.processor import Processor
from sigbench.protocol import Protocol
from sigbench.tasks import PredictTask


def founding(n=3000, seed=0):
    return sb.generate("sines", n=n, seed=seed, snr_db=10.0)


class Raising(Processor):
    """Raises in fit."""

    name = "test-raising"

    def __init__(self) -> None:
        super().__init__()

    def _fit(self, inputs, targets):
        raise RuntimeError("boom in fit")


class NonFinite(Processor):
    """Returns NaN predictions."""

    name = "test-nonfinite"

    def __init__(self) -> None:
        super().__init__()

    def _fit(self, inputs, targets):
        pass

    def _predict(self, inputs):
        out = np.zeros(inputs.shape[0])
        out[3] = np.nan
        return out


class Noisy(Processor):
    """Stochastic: last sample plus seeded noise; counts fits."""

    name = "test-noisy"
    deterministic = False
    fits = 0

    def __init__(self, seed: int = 0, scale: float = 0.1) -> None:
        super().__init__(seed=seed, scale=scale)
        self.seed, self.scale = seed, scale

    def _fit(self, inputs, targets):
        type(self).fits += 1

    def _predict(self, inputs):
        rng = np.random.default_rng(self.seed)
        return inputs[:, -1] + rng.normal(0, self.scale, inputs.shape[0])


class _Plugin:
    @hookimpl
    def register_processors(self, register):
        for cls in (Raising, NonFinite, Noisy):
            register(cls)


@pytest.fixture
def plugin(host):
    host.register(_Plugin(), name="engine-test-plugin")
    Noisy.fits = 0
    try:
        yield host
    finally:
        host.unregister("engine-test-plugin")


# -- protocol ------------------------------------------------------------------------------------
def test_no_window_crosses_a_boundary():
    sig = founding(1000)
    data = PredictTask().prepare(sig, window=16, horizon=3)
    seg = Protocol(0.6, 0.2, 0.2).split(data)
    a, b, _ = seg.boundaries
    fit_last = (seg.fit.stop - 1) * data.hop + data.span - 1
    assert fit_last < b
    assert seg.test.start * data.hop >= b
    train_last = (seg.train.stop - 1) * data.hop + data.span - 1
    assert train_last < a and seg.val.start * data.hop >= a


def test_poisoned_test_segment_never_reaches_training():
    sig = founding(2000)
    b = 1600
    poisoned = sig.with_(data=np.concatenate([sig.data[:b], np.full(400, 1e6)]),
                         clean=np.concatenate([sig.clean[:b], np.full(400, -1e6)]))
    results = []
    for s in (sig, poisoned):
        data = PredictTask().prepare(s, window=32)
        seg = Protocol(train_samples=b).split(data)
        w = sb.get_processor("wiener")().fit(data.inputs[seg.fit], data.targets[seg.fit])
        results.append(w.predict(data.inputs[: seg.fit.stop]))
    np.testing.assert_array_equal(results[0], results[1])


def test_protocol_validation():
    with pytest.raises(ValidationError, match="train \\+ val \\+ test = 1"):
        Protocol(0.5, 0.2, 0.2)  # fractions do not sum to one
    with pytest.raises(ValidationError, match="seeds"):
        Protocol(seeds=0)  # no runs
    with pytest.raises(ValidationError, match="mode"):
        Protocol(mode="online")  # unknown mode
    data = PredictTask().prepare(founding(200), window=64)
    with pytest.raises(ValidationError, match="test segment"):
        Protocol(train_samples=150).split(data)  # window longer than the test segment


# -- metrics --------------------------------------------------------------------------------------
def test_metrics_match_hand_computation(rng):
    y = rng.normal(size=500)
    p = y + rng.normal(scale=0.1, size=500)
    e = y - p
    ctx = {"bound_mse": 0.005, "observed_at_target": y + 0.3}
    assert METRICS["mse"][0](y, p, ctx) == pytest.approx(np.mean(e**2))
    assert METRICS["rmse"][0](y, p, ctx) == pytest.approx(np.sqrt(np.mean(e**2)))
    assert METRICS["mae"][0](y, p, ctx) == pytest.approx(np.mean(np.abs(e)))
    # the mean is not signal: power about the training mean (given) or the targets' own mean
    assert METRICS["snr_db"][0](y, p, ctx) == pytest.approx(10 * np.log10(np.sum((y - y.mean()) ** 2) / np.sum(e**2)))
    ctx_mean = {**ctx, "target_mean": [0.25]}
    assert METRICS["snr_db"][0](y, p, ctx_mean) == pytest.approx(10 * np.log10(np.sum((y - 0.25) ** 2) / np.sum(e**2)))
    assert METRICS["nmse_db"][0](y, p, ctx) == pytest.approx(10 * np.log10(np.sum(e**2) / np.sum((y - y.mean()) ** 2)))
    assert METRICS["excess_db"][0](y, p, ctx) == pytest.approx(10 * np.log10(np.mean(e**2) / 0.005))
    power = np.sum((y - y.mean()) ** 2)
    gain = 10 * np.log10(power / np.sum(e**2)) - 10 * np.log10(power / (500 * 0.09))
    assert METRICS["snr_gain_db"][0](y, p, ctx) == pytest.approx(gain)
    assert METRICS["snr_db"][0](y, y, ctx) == math.inf  # exact: +inf, never NaN


def test_snr_db_is_invariant_to_a_constant_added_to_signal_and_prediction(rng):
    y = rng.normal(size=400)
    p = y + rng.normal(scale=0.2, size=400)
    for offset in (0.0, 10.0, -1e4):
        ctx = {"target_mean": [float(np.mean(y[:100])) + offset]}
        assert METRICS["snr_db"][0](y + offset, p + offset, ctx) == pytest.approx(
            METRICS["snr_db"][0](y, p, {"target_mean": [float(np.mean(y[:100]))]}), rel=1e-9)


def test_snr_db_of_an_ar_process_with_a_large_mean_reads_its_variance(host):
    # the example: AR(1) with mean 10 — the naive predictor's error power equals the signal's variance
    # up to the AR coefficient, so its snr_db is a few dB, never ~19 dB
    rng = np.random.default_rng(3)
    x = np.zeros(6000)
    for k in range(1, x.size):
        x[k] = 0.5 * x[k - 1] + rng.normal()
    sig = sb.Signal(x + 10.0, sample_rate_hz=1.0)
    res = sb.compare(sig, methods=["naive"], reference="", window=4)
    assert res.row("naive").metrics["snr_db"] == pytest.approx(0.0, abs=1.0)  # 10·log10(σ²/2σ²(1−a)) ≈ 0 dB
    shifted = sb.compare(sig.with_(data=x + 1000.0), methods=["naive"], reference="", window=4)
    assert shifted.row("naive").metrics["snr_db"] == pytest.approx(res.row("naive").metrics["snr_db"], abs=1e-6)


def test_log_spectral_distance_of_a_scaled_spectrum_is_its_gain(rng):
    spec = np.fft.rfft(rng.normal(size=(10, 32)), axis=1)
    y = np.concatenate([spec.real, spec.imag], axis=1)
    assert METRICS["log_spectral_distance_db"][0](y, 2 * y, {}) == pytest.approx(20 * np.log10(2))


# -- engine ----------------------------------------------------------------------------------------
def test_compare_founding_shape_and_bound():
    res = sb.compare(founding(), methods=["wiener", "lms", "naive"], window=32, train_samples=2400, mode="offline")
    names = [r.method for r in res.rows]
    assert names[0] == "model limit" and names[1:3] == ["linear oracle", "wiener"] and names[-1] == "naive"
    w, oracle = res.row("wiener"), res.row("linear oracle")
    assert w.is_reference and w.metrics["excess_db"] == 0.0 and w.role == "reference"
    assert oracle.role == "oracle" and oracle.metrics["excess_oracle_db"] == 0.0
    assert all(r.metrics["excess_oracle_db"] >= 0 for r in res.rows if r.role != "limit")  # no linear filter does
    assert res.bound["mse"] == pytest.approx(w.metrics["mse"])
    assert res.references["oracle"]["mse"] == pytest.approx(oracle.metrics["mse"])
    assert 14 < w.metrics["snr_db"] < 25
    assert res.row("naive").metrics["snr_db"] < res.row("lms").metrics["snr_db"] < w.metrics["snr_db"] + 0.5
    assert all(r.cost["macs_per_sample"] is not None for r in res.rows)
    assert {r.method: r.mode for r in res.rows}["lms"] == "frozen"
    adapting = sb.compare(founding(), methods=["wiener", "lms"], window=32, train_samples=2400)  # the default
    assert adapting.row("lms").mode == "adapting" and adapting.row("wiener").mode == "frozen"
    assert "snr_db_steady" in adapting.row("lms").metrics


def test_failed_rows_keep_the_others(plugin):
    res = sb.compare(founding(1500), methods=["wiener", "test-raising", "test-nonfinite"], window=16)
    assert res.row("test-raising").status == "failed"
    assert "boom in fit" in res.row("test-raising").error
    assert res.row("test-nonfinite").status == "failed"
    assert "non-finite" in res.row("test-nonfinite").error
    assert res.row("test-raising").metrics == {}  # no NaN numbers for a failed row
    assert res.row("wiener").status == "ok" and res.row("naive").status == "ok"
    assert [r.status for r in res.rows][-2:] == ["failed", "failed"]


def test_seeds_and_intervals(plugin):
    res = sb.compare(founding(1500), methods=["test-noisy"], window=16, seeds=3)
    row = res.row("test-noisy")
    assert row.seeds == [0, 1, 2] and Noisy.fits == 3
    assert row.metrics["snr_db_ci"] is not None and row.metrics["snr_db_ci"] > 0
    assert res.row("wiener").seeds == [0] and res.row("wiener").metrics["snr_db_ci"] is None
    again = sb.compare(founding(1500), methods=["test-noisy"], window=16, seeds=3)
    assert again.row("test-noisy").metrics["mse"] == row.metrics["mse"]  # same seeds, same numbers
    other = sb.compare(founding(1500), methods=["test-noisy"], window=16, seeds=3, seed=10)
    assert other.row("test-noisy").metrics["mse"] != row.metrics["mse"]


def test_bad_method_options_fail_before_running(plugin):
    with pytest.raises(ConfigError, match="unknown option"):
        sb.compare(founding(500), methods=["lms:bogus=1"], window=16)
    with pytest.raises(sb.UnknownNameError, match="unknown processor"):
        sb.compare(founding(500), methods=["no-such-method"], window=16)
    assert Noisy.fits == 0


def test_json_document_schema(tmp_path):
    res = sb.compare(founding(1500), methods=["wiener", "lms"], window=16, output=tmp_path / "r.h5")
    doc = json.loads(json.dumps(res.to_json()))
    for key in ("task", "signal", "protocol", "bound", "rows"):
        assert key in doc
    assert doc["bound"]["mse"] > 0
    for row in doc["rows"]:
        for key in ("method", "family", "status", "error", "seeds", "metrics", "cost"):
            assert key in row
        for m in ("mse", "snr_db", "snr_gain_db", "excess_db"):
            assert m in row["metrics"] and f"{m}_ci" in row["metrics"]
        for c in ("params", "macs_per_sample", "fit_s", "samples_per_s"):
            assert c in row["cost"]


def test_result_file_round_trip(tmp_path):
    out = tmp_path / "r.h5"
    res = sb.compare(founding(1500), methods=["wiener", "lms"], window=16, output=out)
    back = sb.load_results(out)
    assert [r.method for r in back.rows] == [r.method for r in res.rows]
    assert back.status == "complete"
    np.testing.assert_array_equal(back.predictions[("lms", 0)], res.predictions[("lms", 0)])
    np.testing.assert_array_equal(back.test["targets"], res.test["targets"])
    info = sb.file_info(out)
    assert info["signals"][0]["samples"] == 1500 and len(info["runs"]) == 1


def test_observers_fire_and_a_raising_observer_is_only_a_warning(host):
    calls = []

    class Obs:
        @hookimpl
        def on_run_start(self, run):
            calls.append(("start", run.task))

        @hookimpl
        def on_method_done(self, run, method, result):
            calls.append(("done", method, result.status))

        @hookimpl
        def on_run_end(self, run):
            raise RuntimeError("observer bug")

    host.register(Obs(), name="obs")
    try:
        res = sb.compare(founding(800), methods=["wiener"], window=16)
    finally:
        host.unregister("obs")
    assert calls[0] == ("start", "predict")
    assert ("done", "wiener", "ok") in calls and ("done", "naive", "ok") in calls
    assert any("observer bug" in w for w in res.warnings)


def test_interrupt_then_resume_recomputes_nothing_finished(plugin, tmp_path):
    out = tmp_path / "sweep.h5"

    class Interrupter:
        count = 0

        @hookimpl
        def on_method_done(self, run, method, result):
            Interrupter.count += 1
            if Interrupter.count == 4:  # after the first point's 3 references and test-noisy
                raise KeyboardInterrupt

    plugin.register(Interrupter(), name="interrupter")
    grid = {"snr_db": [0.0, 10.0]}
    try:
        with pytest.raises(KeyboardInterrupt):
            sb.sweep("sines", grid, methods=["test-noisy"], n=800, seeds=2, window=16, output=out)
    finally:
        plugin.unregister("interrupter")
    partial = sb.load_results(out)
    assert partial.status == "interrupted" and len(partial.rows) == 4
    fits_before = Noisy.fits
    resumed = sb.sweep("sines", grid, methods=["test-noisy"], n=800, seeds=2, window=16, output=out, resume=True)
    assert resumed.status == "complete" and len(resumed.rows) == 10  # wiener, oracle, limit, test-noisy, naive
    # test-noisy at snr 0 finished before the interrupt: only the snr 10 point's two seeds ran again
    assert Noisy.fits - fits_before == 2
    fresh = sb.sweep("sines", grid, methods=["test-noisy"], n=800, seeds=2, window=16)
    key = lambda r: (r.grid["snr_db"], r.method)  # noqa: E731
    for a, b in zip(sorted(resumed.rows, key=key), sorted(fresh.rows, key=key), strict=True):
        assert a.metrics["mse"] == pytest.approx(b.metrics["mse"], rel=0, abs=0)


@pytest.mark.parametrize("task,methods,kwargs", [
    ("predict", ["wiener", "lms"], {"horizon": 3}),
    ("denoise", ["wiener", "fir:numtaps=15"], {"centered": True}),
    ("spectrum", ["fft", "wiener"], {}),
])
def test_every_task_end_to_end(task, methods, kwargs):
    res = sb.compare(founding(1200), task=task, methods=methods, window=16, **kwargs)
    assert all(r.status == "ok" for r in res.rows), [r.error for r in res.rows]
    if task == "spectrum":
        assert res.row("fft").metrics["snr_db"] > 200  # exact
        assert res.row("wiener").metrics["snr_db"] > 60  # the DFT is linear: least squares finds it


def test_identify_task_end_to_end():
    sig = sb.generate("fir-system", n=3000, seed=1)
    res = sb.compare(sig, task="identify", methods=["wiener", "rls", "lms"], window=16)
    assert all(r.status == "ok" for r in res.rows), [r.error for r in res.rows]
    assert res.row("wiener").metrics["snr_db"] > 15


def test_identify_needs_a_known_input():
    with pytest.raises(ValidationError, match="known input"):
        sb.compare(founding(500), task="identify", methods=["wiener"], window=16)


def test_prequential_scores_transient_and_steady_state():
    res = sb.compare(founding(2000), methods=["lms"], window=16, mode="prequential")
    m = res.row("lms").metrics
    assert "snr_db_transient" in m and "snr_db_steady" in m


def test_chain_equals_its_stages_by_hand():
    sig = founding(1500)
    data = PredictTask().prepare(sig, window=16)
    seg = Protocol(train_samples=1200).split(data)
    chain = sb.chain("wiener", "lms:mu=0.01").fit(data.inputs[seg.fit], data.targets[seg.fit])
    w = sb.get_processor("wiener")().fit(data.inputs[seg.fit], data.targets[seg.fit])

    def rewindow(out):
        return np.lib.stride_tricks.sliding_window_view(np.concatenate([np.full(15, out[0]), out]), 16)

    lms = sb.get_processor("lms")(mu=0.01).fit(rewindow(w.predict(data.inputs[seg.fit])), data.targets[seg.fit])
    test_in = data.inputs[seg.test]
    np.testing.assert_allclose(chain.predict(test_in), lms.predict(rewindow(w.predict(test_in))))
    d = chain.describe()
    assert d["macs_per_sample"] == pytest.approx(w.describe()["macs_per_sample"] + lms.describe()["macs_per_sample"])


def test_chain_save_load_round_trip(tmp_path):
    sig = founding(1000)
    data = PredictTask().prepare(sig, window=16)
    ch = sb.chain("wiener", "lms").fit(data.inputs[:700], data.targets[:700])
    ch.save(tmp_path / "c")
    back = type(ch).load(tmp_path / "c")
    np.testing.assert_array_equal(back.predict(data.inputs[700:]), ch.predict(data.inputs[700:]))


def test_a_chain_is_never_the_reference():
    from sigbench.run import resolve_methods

    ms = resolve_methods(["wiener:numtaps=16 | lms", "lms"], PredictTask(), "wiener")
    plain = [(m.spec.label, m.is_reference) for m in ms if m.role != "oracle"]
    assert plain[:2] == [("wiener", True), ("wiener:numtaps=16 | lms", False)]
    ms = resolve_methods(["wiener", "wiener:numtaps=16"], PredictTask(), "wiener")
    assert sum(m.is_reference for m in ms) == 1


def test_chain_stages_get_the_task_horizon():
    res = sb.compare(founding(1500), methods=["wiener | linear-extrapolation"], window=16, horizon=5)
    stage = res.row("wiener | linear-extrapolation").describe["stages"][1]
    assert stage["horizon"] == 5 and stage["params"]["horizon"] is None  # from the run's context, not injected


def test_method_option_grid_skips_chains():
    res = sb.sweep("sines", {"lms.mu": [0.001, 0.01]}, methods=["lms:numtaps=16 | wiener", "lms"], n=1500,
                   window=16, seeds=1)
    assert all(r.status == "ok" for r in res.rows) and len(res.rows) == 12  # 2 × (wiener, oracle, limit, 2, naive)


@pytest.mark.parametrize("seed", range(5))
def test_the_linear_oracle_bounds_every_frozen_linear_method(seed):
    """Property over random stable AR(2) processes with a mean: no frozen linear (affine) FIR of the oracle's
    length — fitted on the training rows, adapted there, or of fewer taps — beats the oracle on the test rows."""
    rng = np.random.default_rng(seed)
    r, theta = rng.uniform(0.3, 0.95), rng.uniform(0.1, 3.0)
    a1, a2 = 2 * r * np.cos(theta), -r * r
    x = np.zeros(3000)
    for k in range(2, x.size):
        x[k] = a1 * x[k - 1] + a2 * x[k - 2] + rng.normal()
    sig = sb.Signal(x + rng.uniform(-5, 5), sample_rate_hz=1.0)
    res = sb.compare(sig, methods=["wiener:numtaps=4", "lms:numtaps=8", "nlms", "rls", "naive"], window=8,
                     mode="offline", model_limit=False)
    oracle = res.row("linear oracle").metrics["mse"]
    for row in res.rows:
        assert row.status == "ok", (row.method, row.error)
        assert row.metrics["mse"] >= oracle * (1 - 1e-9), (row.method, row.metrics["mse"], oracle)
        assert row.metrics["excess_oracle_db"] >= -1e-8, row.method
