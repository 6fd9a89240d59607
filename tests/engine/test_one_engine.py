"""One engine: rows read from a file give the in-memory run's rows for every built-in task, processor, protocol
mode and hop, on every executor; a third-party processor streams through the public block capability alone."""

from __future__ import annotations

import math
import tracemalloc

import numpy as np
import pytest

import sigbench as sb
from sigbench.processor import Processor

N = 3001
CHUNK = 700  # several blocks per segment, edges nowhere special

# task -> (source, task options, methods); every built-in processor appears with a task it can serve
CASES = {
    "predict": ("sines", {"window": 16, "horizon": 2},
                ["wiener", "wiener:method=toeplitz", "lms", "nlms:mu=0.2", "rls", "linear-extrapolation",
                 "fir:numtaps=15", "fir-bank:mode=features,numtaps=15,bands=4"]),
    "denoise": ("sines", {"window": 9, "centered": True}, ["wiener", "lms", "fir:numtaps=9", "fir-bank:numtaps=9"]),
    "identify": ("fir-system", {"window": 8}, ["wiener", "lms", "nlms", "rls"]),
    "spectrum": ("sines", {"window": 16, "hop": 4}, ["wiener", "fft", "goertzel"]),
}


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    root = tmp_path_factory.mktemp("one-engine")
    out = {}
    for source in ("sines", "fir-system"):
        path = root / f"{source}.h5"
        sb.save_signal(sb.generate(source, n=N, seed=4), path)
        out[source] = path
    return out


def _rows(res):
    return {(r.method, tuple(sorted(r.grid.items()))): r for r in res.rows}


def _same(a, b, rel):
    ra, rb = _rows(a), _rows(b)
    assert ra.keys() == rb.keys()
    for key, row in ra.items():
        other = rb[key]
        assert row.status == other.status, (key, row.error, other.error)
        if row.status != "ok":
            continue
        for name, value in row.metrics.items():
            if name.endswith("_ci") or value is None:
                continue
            assert other.metrics[name] == pytest.approx(value, rel=rel, abs=1e-12), (key, name)


@pytest.mark.parametrize("mode", ["offline", "prequential"])
@pytest.mark.parametrize("task", sorted(CASES))
def test_streamed_rows_equal_in_memory_rows(files, host, task, mode):
    source, opts, methods = CASES[task]
    opts = {**opts, "hop": opts.get("hop", 3 if mode == "prequential" else None)}  # hop > 1 too
    if opts["hop"]:  # the autocorrelation method needs the rows of one stream (hop 1)
        methods = [m for m in methods if "toeplitz" not in m]
    kw = {"methods": methods, "mode": mode, "chunk_samples": CHUNK, **opts}
    memory = sb.compare(files[source], task, stream=False, **kw)
    streamed = sb.compare(files[source], task, stream=True, **kw)
    assert all(r.status == "ok" for r in memory.rows), [(r.method, r.error) for r in memory.rows]
    _same(memory, streamed, rel=1e-10)
    if mode == "prequential" and "lms" in methods:
        assert any(f"{memory.main_metric}_steady" in r.metrics for r in streamed.rows if r.name == "lms")


def test_streamed_network_is_bit_for_bit_the_in_memory_one(files, host):
    methods = ["dnn:units=4,epochs=2,patience=None,shuffle_block=128"]
    kw = {"methods": methods, "seeds": 2, "window": 16, "chunk_samples": CHUNK, "reference": "", "include_naive": False}
    memory = sb.compare(files["sines"], "predict", stream=False, **kw)
    streamed = sb.compare(files["sines"], "predict", stream=True, **kw)
    _same(memory, streamed, rel=0)


@pytest.mark.parametrize("executor", [{"workers": 2}, {"scheduler": "local-dask", "workers": 2}])
def test_streamed_prequential_sweep_on_executors_equals_the_serial_in_memory_one(files, host, executor):
    if "scheduler" in executor:
        pytest.importorskip("dask.distributed")
    kw = {"mode": "prequential", "hop": 2, "chunk_samples": CHUNK, "methods": ["lms", "rls"]}
    serial = sb.sweep(files["sines"], {"window": [8, 16]}, stream=False, **kw)
    parallel = sb.sweep(files["sines"], {"window": [8, 16]}, stream=True, **kw, **executor)
    _same(serial, parallel, rel=1e-10)


def test_streamed_file_is_about_the_in_memory_size(files, host, tmp_path):
    kw = {"methods": ["lms", "fir-bank:mode=features,numtaps=15,bands=4"], "window": 16}
    sb.compare(files["sines"], output=tmp_path / "m.h5", stream=False, **kw)
    sb.compare(files["sines"], output=tmp_path / "s.h5", stream=True, chunk_samples=CHUNK, **kw)
    memory, streamed = (tmp_path / "m.h5").stat().st_size, (tmp_path / "s.h5").stat().st_size
    assert streamed < 1.5 * memory, (memory, streamed)


# -- a third-party processor that streams through the public capability only -----------------------------------
class RunningMean(Processor):
    """Predict the training targets' mean plus a least-squares gain on the newest sample (a plugin's processor).

    It declares the block capability by overriding ``_fit_blocks``; ``_fit`` is the one-block case."""

    name = "test-running-mean"
    family = "dsp"

    def __init__(self, window: int = 3) -> None:  # its own 'window' parameter: never overwritten by the base
        super().__init__(window=window)
        self.window = window
        self.gain = 0.0
        self.offset = 0.0

    def _fit(self, inputs, targets):
        self._fit_blocks(iter([(inputs, targets)]), len(inputs))

    def _fit_blocks(self, blocks, rows):
        sx = sy = sxx = sxy = 0.0
        n = 0
        for inputs, targets in blocks:
            if targets.ndim != 1:
                raise sb.ValidationError(f"expected one target per row; received: targets.shape={targets.shape}")
            x = np.asarray(inputs[:, -self.window:], dtype=np.float64).mean(axis=1)
            y = np.asarray(targets, dtype=np.float64)
            sx, sy = sx + x.sum(), sy + y.sum()
            sxx, sxy = sxx + (x * x).sum(), sxy + (x * y).sum()
            n += len(y)
        self.gain = (sxy - sx * sy / n) / (sxx - sx * sx / n)
        self.offset = (sy - self.gain * sx) / n

    def _predict(self, inputs):
        return self.offset + self.gain * np.asarray(inputs[:, -self.window:], dtype=np.float64).mean(axis=1)

    def get_state(self):
        return {"gain": np.asarray(self.gain), "offset": np.asarray(self.offset)}

    def set_state(self, state):
        self.gain, self.offset = float(state["gain"]), float(state["offset"])


@pytest.fixture
def running_mean(host):
    class Plugin:
        @sb.hookimpl
        def register_processors(self, register):
            register(RunningMean)

    host.register(Plugin(), name="test-block-plugin")
    yield RunningMean
    host.unregister("test-block-plugin")


def test_a_plugin_processor_passes_the_block_check(running_mean):
    from sigbench.testing import check_processor

    report = check_processor(running_mean, {"window": 5}, check_imports=False)
    assert report.passed
    fitted = running_mean(window=5).fit(np.ones((40, 16)) + np.arange(40)[:, None], np.arange(40.0))
    assert fitted.window == 5 and fitted.input_window == 16


def _streamed_peak(path, **kw):
    tracemalloc.start()
    try:
        res = sb.run_method("test-running-mean:window=4", path, stream=True, window=16, chunk_samples=2**16, **kw)
        return res, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_a_plugin_processor_streams_with_flat_memory(running_mean, tmp_path):
    small, large = tmp_path / "small.h5", tmp_path / "large.h5"
    sb.stream_generate("sines", small, 400_000, chunk_samples=2**16)  # both many blocks of 2**16 samples
    sb.stream_generate("sines", large, 2_000_000, chunk_samples=2**16)
    res_small, peak_small = _streamed_peak(small)
    res_large, peak_large = _streamed_peak(large)
    assert peak_large < 1.5 * peak_small, (peak_small, peak_large)
    one_pass = sb.run_method("test-running-mean:window=4", large, stream=False, window=16)
    assert res_large.rows[0].metrics["mse"] == pytest.approx(one_pass.rows[0].metrics["mse"], rel=1e-10)
    assert math.isfinite(res_small.rows[0].metrics["snr_db"])


@pytest.mark.slow
def test_a_plugin_processor_streams_ten_million_samples(running_mean, tmp_path):
    path = tmp_path / "long.h5"
    sb.stream_generate("sines", path, 10_000_000, chunk_samples=2**20)
    res, peak = _streamed_peak(path)
    assert res.rows[0].status == "ok"
    assert peak < 200 * 2**20  # the signal alone is 160 MB (data and clean as float64)
    one_pass = sb.run_method("test-running-mean:window=4", path, stream=False, window=16)
    assert res.rows[0].metrics["mse"] == pytest.approx(one_pass.rows[0].metrics["mse"], rel=1e-10)
