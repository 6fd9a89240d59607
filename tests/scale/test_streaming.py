"""Out-of-core runs and generation: streamed results equal the in-memory engine's, memory stays bounded."""

from __future__ import annotations

import dataclasses
import json
import math
import os
import tracemalloc

import h5py
import numpy as np
import pytest

import sigbench as sb
from sigbench import stream_generate, stream_run
from sigbench.errors import SigbenchError, ValidationError
from sigbench.results import load_results
from sigbench.run.cell import PredictionSink

N = 6007  # not a multiple of any chunk size used below


@pytest.fixture(scope="module")
def sines_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("scale") / "sines.h5"
    sb.save_signal(sb.generate("sines", n=N, seed=3, snr_db=10.0), path)
    return path


def _compare(meth, path, tmp_path, *, chunk, task="predict", rtol=1e-10, exact=True, **opts):
    ref_file, out_file = tmp_path / "ref.h5", tmp_path / "out.h5"
    ref = sb.run_method(meth, path, task, output=ref_file, **opts)
    out = stream_run(meth, path, task=task, output=out_file, chunk_samples=chunk, **opts)
    r_ref, r_out = ref.rows[0], out.rows[0]
    assert r_out.status == r_ref.status == "ok", (r_ref.error, r_out.error)
    assert set(r_out.metrics) == set(r_ref.metrics)
    for key, value in r_ref.metrics.items():
        if value is None:
            assert r_out.metrics[key] is None
        else:
            assert r_out.metrics[key] == pytest.approx(value, rel=rtol, abs=1e-300), key
    back_ref, back_out = load_results(ref_file), load_results(out_file)
    pred_ref, pred_out = back_ref.predictions[(meth, 0)], back_out.predictions[(meth, 0)]
    assert pred_out.shape == pred_ref.shape
    # same weights; the frozen matrix product may round the last bit differently per block of rows
    tol = 1e-12 if exact else 1e-9
    np.testing.assert_allclose(pred_out, pred_ref, rtol=tol, atol=tol)
    assert set(back_out.test) == set(back_ref.test)
    for key in back_ref.test:
        np.testing.assert_array_equal(back_out.test[key], back_ref.test[key])
    assert back_out.config == back_ref.config
    assert back_out.kind == "run" and back_out.status == "complete"
    assert back_out.signal["snr_db"] == pytest.approx(back_ref.signal["snr_db"], rel=1e-12)
    return ref, out


@pytest.mark.parametrize("task", ["predict", "denoise"])
@pytest.mark.parametrize("meth", ["lms", "nlms", "rls", "wiener", "naive"])
def test_streamed_equals_in_memory(meth, task, sines_file, tmp_path, host):
    ref, out = _compare(meth, sines_file, tmp_path, chunk=997, task=task, window=16)
    d_ref, d_out = ref.rows[0].describe, out.rows[0].describe
    if meth in ("lms", "nlms", "rls"):
        assert d_out["samples_seen"] == d_ref["samples_seen"]
        assert d_out["convergence"]["sample"] == d_ref["convergence"]["sample"]
        assert d_out["convergence"]["weights"] == d_ref["convergence"]["weights"]
        np.testing.assert_allclose(d_out["convergence"]["error_db"], d_ref["convergence"]["error_db"], atol=1e-9)
    if meth == "wiener":
        assert d_out["taps"] == d_ref["taps"]  # the same block QR: bit for bit


@pytest.mark.parametrize("chunk", [17, 18, 1000, 4096, 10 * N])
def test_chunk_sizes_that_do_not_divide(chunk, sines_file, tmp_path, host):
    # 17 = window + horizon: one row per chunk; the largest holds the whole signal
    _compare("lms", sines_file, tmp_path, chunk=chunk, window=16)


def test_horizon_centered_and_train_samples(sines_file, tmp_path, host):
    _compare("lms", sines_file, tmp_path, chunk=500, window=12, horizon=5, train_samples=4000)
    _compare("wiener", sines_file, tmp_path, chunk=500, task="denoise", window=9, centered=True)
    _compare("linear-extrapolation", sines_file, tmp_path, chunk=333, window=8, horizon=3)


def test_other_wiener_methods_and_loaded_fit(sines_file, tmp_path, host):
    _compare("wiener:loading=0.05", sines_file, tmp_path, chunk=700, window=16)
    _compare("wiener:method=toeplitz", sines_file, tmp_path, chunk=700, window=16, rtol=1e-9, exact=False)
    _compare("fir:numtaps=15", sines_file, tmp_path, chunk=700, window=16)  # loaded within the budget


def test_loaded_fit_over_budget_is_refused(sines_file, tmp_path, host):
    with pytest.raises(SigbenchError, match="cannot stream its training"):
        stream_run("fir:numtaps=15", sines_file, window=16, chunk_samples=700, budget_bytes=10_000,
                   output=tmp_path / "out.h5")
    assert not (tmp_path / "out.h5").exists()


def test_chunk_shorter_than_a_row_is_refused(sines_file, host):
    with pytest.raises(ValidationError, match=r"chunk_samples >= 17 \(one row's span\)"):
        stream_run("lms", sines_file, window=16, chunk_samples=16)
    with pytest.raises(ValidationError, match=r"chunk_samples >= 16 \(one row's span\)"):
        stream_run("lms", sines_file, task="denoise", window=16, chunk_samples=15)


def test_a_task_with_irregular_rows_is_refused(sines_file, host):
    from sigbench.tasks import PredictTask

    class EveryOtherRow(PredictTask):  # rows that are not one hop apart cannot be cut into blocks
        name = "every-other-row"

        def _prepare(self, sig, **options):
            data = super()._prepare(sig, **options)
            keep = np.arange(0, len(data), 2)
            return dataclasses.replace(data, inputs=data.inputs[keep], targets=data.targets[keep],
                                       target_index=data.target_index[keep])

    class Plugin:
        @sb.hookimpl
        def register_tasks(self, register):
            register(EveryOtherRow())

    host.register(Plugin(), name="irregular")
    try:
        with pytest.raises(ValidationError, match="regular rows"):
            stream_run("wiener", sines_file, task="every-other-row", window=16)
    finally:
        host.unregister("irregular")


def test_multichannel_signal(tmp_path, host):
    rng = np.random.default_rng(0)
    clean = np.stack([np.sin(np.arange(3001) * 0.1), np.cos(np.arange(3001) * 0.07)], axis=1)
    sig = sb.Signal(clean + 0.1 * rng.standard_normal(clean.shape), 10.0, clean=clean, channel_names=("a", "b"))
    path = tmp_path / "two.h5"
    sb.save_signal(sig, path)
    _compare("rls", path, tmp_path, chunk=256, window=8, channel="b")


def test_no_output_returns_metrics_only(sines_file, host):
    ref = sb.run_method("nlms", sines_file, "predict", window=16)
    out = stream_run("nlms", sines_file, window=16, chunk_samples=512)
    assert out.predictions == {} and out.test == {}
    assert out.rows[0].metrics["snr_db"] == pytest.approx(ref.rows[0].metrics["snr_db"], rel=1e-10)


def test_diverging_method_is_a_failed_row(sines_file, tmp_path, host):
    out = stream_run("lms:mu=50", sines_file, window=16, chunk_samples=512, output=tmp_path / "o.h5")
    row = out.rows[0]
    assert row.status == "failed" and row.error.startswith("DivergedError: lms diverged")
    back = load_results(tmp_path / "o.h5")
    assert back.rows[0].status == "failed" and back.predictions == {}


def test_nonfinite_samples_are_refused(tmp_path, host):
    path = tmp_path / "nan.h5"
    sb.save_signal(sb.generate("sines", n=3000, seed=0), path)
    with h5py.File(path, "r+") as f:
        f["signals/sines/data"][2500] = np.nan  # in the test segment, past every fit chunk
    with pytest.raises(ValidationError, match="first at sample 2500"):
        stream_run("lms", path, window=16, chunk_samples=300)


def test_interrupted_write_leaves_nothing(sines_file, tmp_path, host, monkeypatch):
    target = tmp_path / "out.h5"
    target.write_bytes(b"previous contents")
    calls = {"n": 0}
    original = PredictionSink.append

    def flaky(self, values):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt
        original(self, values)

    monkeypatch.setattr(PredictionSink, "append", flaky)
    with pytest.raises(KeyboardInterrupt):
        stream_run("lms", sines_file, window=16, chunk_samples=400, output=target)
    assert calls["n"] == 3
    assert target.read_bytes() == b"previous contents"
    assert sorted(os.listdir(tmp_path)) == ["out.h5"]  # no temp file left


def _peak_bytes(fn):
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_memory_does_not_grow_with_the_signal(tmp_path, host):
    # both sizes hold several 65 536-row blocks of the Wiener block QR, so both reach its fixed working set
    small, large = tmp_path / "small.h5", tmp_path / "large.h5"
    chunk = 8192
    gen_small = _peak_bytes(lambda: stream_generate("sines", small, 150_000, chunk_samples=chunk))
    gen_large = _peak_bytes(lambda: stream_generate("sines", large, 1_500_000, chunk_samples=chunk))
    assert gen_large < 1.5 * gen_small, (gen_small, gen_large)
    assert gen_large < 2_000_000  # the signal is 1.5e6 samples × 2 streams × 8 bytes = 24 MB
    for meth in ("lms", "wiener"):
        run_small = _peak_bytes(lambda m=meth: stream_run(m, small, window=32, chunk_samples=chunk,
                                                          output=tmp_path / "rs.h5"))
        run_large = _peak_bytes(lambda m=meth: stream_run(m, large, window=32, chunk_samples=chunk,
                                                          output=tmp_path / "rl.h5"))
        assert run_large < 1.5 * run_small, (meth, run_small, run_large)
        if meth == "lms":
            assert run_large < 3_000_000, run_large  # an eighth of the signal
    assert load_results(tmp_path / "rl.h5").predictions[("wiener", 0)].shape == (300_000 - 33 + 1,)


# -- streamed generation ------------------------------------------------------------------------
def _read(path):
    with h5py.File(path, "r") as f:
        (name,) = list(f["signals"])
        g = f["signals"][name]
        return name, {k: g[k][()] for k in g}, {k: g.attrs[k] for k in g.attrs}


@pytest.mark.parametrize("params", [{}, {"snr_db": 3.0, "step_s": 0.05}, {"snr_db": math.inf},
                                    {"frequencies_rad_s": (0.3, 2.0), "amplitudes": (1.0, 0.5)}])
def test_stream_generate_sines_is_generate(params, tmp_path, host):
    n = 10_007
    path = tmp_path / "g.h5"
    stream_generate("sines", path, n, seed=7, chunk_samples=999, **params)
    sig = sb.generate("sines", n=n, seed=7, **params)
    loaded = sb.load_signal(path)
    np.testing.assert_array_equal(loaded.data, sig.data)
    np.testing.assert_array_equal(loaded.clean, sig.clean)
    assert loaded.metadata == json.loads(json.dumps(sig.metadata))
    assert (loaded.name, loaded.sample_rate_hz, loaded.channel_names) == (sig.name, sig.sample_rate_hz,
                                                                          sig.channel_names)
    ref = tmp_path / "ref.h5"
    sb.save_signal(sig, ref)
    assert _read(ref)[2].keys() == _read(path)[2].keys()


def test_stream_generate_true_convention_float32_and_noise(tmp_path, host):
    path = tmp_path / "g.h5"
    stream_generate("sines", path, 5003, seed=1, chunk_samples=1000, noise_convention="true", snr_db=5)
    sig = sb.generate("sines", n=5003, seed=1, noise_convention="true", snr_db=5)
    got = sb.load_signal(path)
    np.testing.assert_allclose(got.data, sig.data, rtol=0, atol=1e-13)
    assert got.metadata["noise_std"] == pytest.approx(sig.metadata["noise_std"], rel=1e-13)
    stream_generate("sines", path, 5003, seed=1, chunk_samples=1000, dtype="float32")
    got32 = sb.load_signal(path)
    assert got32.data.dtype == np.float32
    np.testing.assert_array_equal(got32.data, sb.generate("sines", n=5003, seed=1).data.astype(np.float32))
    stream_generate("noise", path, 5003, seed=2, chunk_samples=1000, std=2.0)
    ref = sb.generate("noise", n=5003, seed=2, std=2.0)
    got_noise = sb.load_signal(path)
    assert got_noise.clean is None
    np.testing.assert_allclose(got_noise.data, ref.data, rtol=0, atol=1e-12)
    assert got_noise.metadata == json.loads(json.dumps(ref.metadata))


def test_stream_generate_refuses_what_it_cannot_stream(tmp_path, host):
    with pytest.raises(ValidationError, match="color='white'"):
        stream_generate("noise", tmp_path / "x.h5", 1000, color="pink")
    with pytest.raises(ValidationError, match="a source that streams"):
        stream_generate("chirp", tmp_path / "x.h5", 1000)
    with pytest.raises(ValidationError, match="snr_db"):
        stream_generate("sines", tmp_path / "x.h5", 1000, snr_db=float("nan"))
    assert not (tmp_path / "x.h5").exists()


def test_numpy_generator_draws_the_same_stream_in_chunks():
    whole = np.random.default_rng(11).standard_normal(100_003)
    rng = np.random.default_rng(11)
    parts = [rng.standard_normal(k) for k in (1, 2, 999, 65_536, 33_465)]
    np.testing.assert_array_equal(np.concatenate(parts), whole)


def test_output_may_be_the_input_file(tmp_path, host):
    path = tmp_path / "same.h5"
    sb.save_signal(sb.generate("sines", n=3001, seed=2), path)
    first = stream_run("lms", path, window=16, chunk_samples=500, output=path)
    second = stream_run("wiener", path, window=16, chunk_samples=500, output=path)
    assert sb.list_signals(path) == ["sines"]
    from sigbench.results import list_runs

    assert sorted(list_runs(path)) == sorted([first.run_id, second.run_id])
    assert load_results(path, first.run_id).predictions[("lms", 0)].shape == (600 - 17 + 1,)
