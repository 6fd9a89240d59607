"""``workers="auto"`` (issue 19 item 2): the rule that sizes the pool, the option's parsing, and results identical to
the serial run (networks included: pool workers keep TensorFlow's intra-op pool size)."""

from __future__ import annotations

import os

import pytest

import sigbench as sb
from sigbench.errors import ConfigError
from sigbench.run import executors
from sigbench.run.executors import (
    DSP_WORKER_BYTES,
    NEURAL_WORKER_BYTES,
    Cell,
    auto_workers,
    available_cpus,
    networks_first,
    resolve_workers,
    worker_thread_limits,
)

GiB = 1 << 30


# -- the rule ---------------------------------------------------------------------------------------
BIG = {"cpus": 16, "memory_bytes": 64 * GiB}


def test_one_cell_or_a_run_a_pool_cannot_shorten_stays_inline():
    assert auto_workers([60.0], neural=True, **BIG) == 1  # one network: nothing to run beside it
    assert auto_workers([0.01] * 7, **BIG) == 1  # seven short DSP cells: milliseconds, less than starting a pool
    # demo --fast: one network beside DSP cells; the pool cannot finish before the network does
    assert auto_workers([4.05] + [0.01] * 6, neural=True, **BIG) == 1
    assert auto_workers([1.5, 1.5, 1.5], neural=True, cpus=2, memory_bytes=64 * GiB) == 1  # saves 1.5 s only


def test_one_worker_per_core_capped_by_the_cells():
    demo = [12.0] * 12 + [0.01] * 7
    assert auto_workers(demo, neural=True, cpus=2, memory_bytes=64 * GiB) == 2  # the demo on 2 cores
    assert auto_workers(demo, neural=True, cpus=64, memory_bytes=64 * GiB) == 19  # never more than the cells
    assert auto_workers([2.3] * 16, cpus=8, memory_bytes=64 * GiB) == 8  # long DSP cells


def test_memory_caps_the_workers():
    nets = [12.0] * 12
    # a neural worker counts 1 GiB: 3.5 GiB of budget hold 3 of them, whatever the cores
    assert auto_workers(nets, neural=True, cpus=16, memory_bytes=int(3.5 * GiB)) == 3
    assert auto_workers(nets, neural=True, cpus=16, memory_bytes=GiB // 2) == 1  # not even one: inline
    # DSP workers are lighter, but each holds its grid point's signal (four times its bytes)
    assert auto_workers([2.3] * 16, cpus=16, memory_bytes=10 * DSP_WORKER_BYTES) == 10
    data = 32 * 2_000_000
    per_worker = DSP_WORKER_BYTES + 4 * data
    assert auto_workers([2.3] * 16, data_bytes=data, cpus=16, memory_bytes=3 * per_worker + 1) == 3
    assert NEURAL_WORKER_BYTES > DSP_WORKER_BYTES


def test_cell_estimates(host):
    from sigbench.run.plan import resolve_methods

    dsp, dnn, fast, article = resolve_methods(["lms", "dnn", "dnn:epochs=15", "dnn:preset=article"],
                                              sb.get_task("predict"), reference="", include_naive=False)
    assert executors.cell_seconds(dsp, 200_000) == pytest.approx(0.3)  # 1.5 µs per sample
    # a network: 0.5 s + 3 ms per batch; the dnn's defaults are 50 epochs of batches of 64 rows
    assert executors.cell_seconds(dnn, 6400) == pytest.approx(0.5 + 50 * 100 * 3e-3)
    assert executors.cell_seconds(fast, 6400) == pytest.approx(0.5 + 15 * 100 * 3e-3)
    assert executors.cell_seconds(article, 6400) == pytest.approx(0.5 + 100 * 200 * 3e-3)  # the preset's 100 × 32


def test_available_cpus_is_the_affinity_mask():
    expected = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    assert available_cpus() == expected >= 1


class _Method:
    """The two attributes the rule reads from a resolved method."""

    def __init__(self, family: str, stochastic: bool) -> None:
        self.cls = type("P", (), {"family": family})
        self.stochastic = stochastic


def test_resolve_counts_cells_per_seed_and_grid_point(monkeypatch):
    seen = {}

    def spy(cells, **kw):
        seen.update(cells=list(cells), **kw)
        return 1

    monkeypatch.setattr(executors, "auto_workers", spy)
    monkeypatch.setattr(executors, "cell_seconds", lambda m, samples: 10.0 if m.cls.family == "neural" else 0.1)
    methods = [_Method("neural", True), _Method("neural", True), _Method("dsp", False), _Method("dsp", True)]
    assert resolve_workers("auto", methods, seeds=3, points=4, samples=5000, data_bytes=80_000) == 1
    assert sorted(seen.pop("cells")) == [0.1] * (4 * (1 + 3)) + [10.0] * (4 * 2 * 3)
    assert seen == {"neural": True, "data_bytes": 80_000}


@pytest.mark.parametrize("value, expected", [("auto", None), (" AUTO ", None), (3, 3), ("4", 4), (1, 1)])
def test_resolve_accepts_auto_and_positive_integers(value, expected, monkeypatch):
    monkeypatch.setattr(executors, "auto_workers", lambda *a, **k: 7)
    assert resolve_workers(value) == (7 if expected is None else expected)


@pytest.mark.parametrize("value", [
    0,  # no worker at all
    -2,  # negative
    "x",  # not a number
    "2.5",  # not an integer
    2.5,  # a float
    True,  # a bool is not a count
    None,  # nothing
])
def test_resolve_refuses_anything_else_in_one_line(value):
    with pytest.raises(ConfigError, match=r"expected workers to be 'auto' or an integer >= 1; received: workers="):
        resolve_workers(value)


def test_compare_refuses_a_bad_workers_value_before_any_work():
    with pytest.raises(ConfigError, match="received: workers='many'"):
        sb.compare(sb.generate("sines", n=400, seed=0), methods=["naive"], window=8, workers="many")


# -- the workers' environment -------------------------------------------------------------------------
def test_workers_get_one_blas_thread_and_the_serial_tensorflow_pool(monkeypatch):
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS"):
        monkeypatch.delenv(var, raising=False)
    with worker_thread_limits():
        assert os.environ["OPENBLAS_NUM_THREADS"] == os.environ["OMP_NUM_THREADS"] == "1"
        assert os.environ["TF_NUM_INTEROP_THREADS"] == "1"
        # TensorFlow's own default in this process: the size of the intra-op pool decides a convolution's bits
        assert os.environ["TF_NUM_INTRAOP_THREADS"] == str(available_cpus())
    assert "TF_NUM_INTRAOP_THREADS" not in os.environ and "OMP_NUM_THREADS" not in os.environ  # restored
    monkeypatch.setenv("TF_NUM_INTRAOP_THREADS", "3")  # the user's choice is kept (inline it applies too)
    with worker_thread_limits():
        assert os.environ["TF_NUM_INTRAOP_THREADS"] == "3"
    assert os.environ["TF_NUM_INTRAOP_THREADS"] == "3"


def test_networks_start_first_and_keep_their_order(host):
    cells = [Cell(0, label, label.split(":")[0], {}, seed) for label, seed in
             [("lms", 0), ("dnn", 0), ("wiener", 0), ("dnn", 1), ("cnn", 0), ("naive", 0)]]
    order = [(c.label, c.seed) for c in networks_first(cells)]
    assert order == [("dnn", 0), ("dnn", 1), ("cnn", 0), ("lms", 0), ("wiener", 0), ("naive", 0)]


# -- results identical to the serial run -------------------------------------------------------------
def _numbers(res):
    return {r.method: (r.status, r.error, [(s["seed"], s["metrics"]) for s in r.per_seed]) for r in res.rows}


def test_auto_on_a_small_dsp_run_is_the_inline_run(host, monkeypatch):
    made = []
    real = executors.PoolExecutor.__init__

    def spy(self, *args, **kwargs):
        made.append(args)
        real(self, *args, **kwargs)

    monkeypatch.setattr(executors.PoolExecutor, "__init__", spy)
    sig = sb.generate("sines", n=1500, seed=0)
    auto = sb.compare(sig, methods=["wiener", "lms"], window=16, workers="auto")
    serial = sb.compare(sig, methods=["wiener", "lms"], window=16)
    assert made == []  # milliseconds of work: no pool
    assert _numbers(auto) == _numbers(serial)


@pytest.mark.neural
@pytest.mark.slow
def test_auto_pool_with_networks_gives_the_serial_bits(host, tmp_path, monkeypatch):
    """Two workers (forced even on one core, and for networks too small to need them) train a cnn and a dnn on
    two seeds each: every metric of every seed equals the serial run's, bit for bit (a cnn's gradients depend on
    TensorFlow's intra-op pool size)."""
    pytest.importorskip("keras")
    made = []
    real_init = executors.PoolExecutor.__init__

    def spy(self, workers, *args, **kwargs):
        made.append(workers)
        real_init(self, workers, *args, **kwargs)

    real_auto = executors.auto_workers
    monkeypatch.setattr(executors, "auto_workers", lambda *a, **k: real_auto(*a, **{**k, "cpus": 2}))
    monkeypatch.setattr(executors, "_AUTO_MIN_SAVED_S", 0.0)  # these tiny networks would otherwise run inline
    monkeypatch.setattr(executors.PoolExecutor, "__init__", spy)
    path = sb.save_signal(sb.generate("sines", n=900, seed=0, snr_db=10.0), tmp_path / "s.h5")
    methods = ["cnn:kernel_sizes=3,filters=2,dense_units=4,epochs=2", "dnn:units=8,epochs=2"]
    kw = {"methods": methods, "window": 16, "seeds": 2, "reference": "wiener", "model_limit": False}
    auto = sb.compare(path, workers="auto", **kw)
    assert made == [2]
    serial = sb.compare(path, **kw)
    assert all(r.status == "ok" for r in serial.rows), [(r.method, r.error) for r in serial.rows]
    assert _numbers(auto) == _numbers(serial)
    for key, pred in serial.predictions.items():
        assert (auto.predictions[key] == pred).all(), key
