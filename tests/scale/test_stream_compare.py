"""Streamed comparisons and sweeps equal the in-memory engine's; neural methods train from the file."""

from __future__ import annotations

import numpy as np
import pytest
from typer.testing import CliRunner

import sigbench as sb
from sigbench import stream_compare, stream_run
from sigbench.cli import ExitCode, app
from sigbench.results import list_runs, load_results
from sigbench.run.cell import PredictionSink

N = 5003
CHUNK = 997


@pytest.fixture(scope="module")
def sines_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("scmp") / "sines.h5"
    sb.save_signal(sb.generate("sines", n=N, seed=2, snr_db=10.0), path)
    return path


def _by_method(res):
    return {(tuple(sorted(r.grid.items())), r.method): r for r in res.rows}


def _same_rows(ref, out, rel=1e-10):
    a, b = _by_method(ref), _by_method(out)
    assert set(a) == set(b)
    for key, ra in a.items():
        rb = b[key]
        assert ra.status == rb.status == "ok", (ra.error, rb.error)
        assert ra.is_reference == rb.is_reference and ra.seeds == rb.seeds
        assert set(ra.metrics) == set(rb.metrics), key
        for name, value in ra.metrics.items():
            if value is None:
                assert rb.metrics[name] is None, (key, name)
            else:
                assert rb.metrics[name] == pytest.approx(value, rel=rel, abs=1e-12), (key, name)


def test_streamed_compare_equals_in_memory(sines_file, tmp_path, host):
    methods = ["lms", "nlms:mu=0.2", "wiener:method=toeplitz", "fir:numtaps=15"]
    ref = sb.compare(sines_file, "predict", methods, window=16, output=tmp_path / "ref.h5")
    out = stream_compare(sines_file, "predict", methods, window=16, chunk_samples=CHUNK, output=tmp_path / "out.h5")
    _same_rows(ref, out, rel=1e-8)
    assert [r.method for r in out.rows] == [r.method for r in ref.rows]  # the same ranking
    assert out.bound["method"] == ref.bound["method"] and out.bound["mse"] == pytest.approx(ref.bound["mse"], rel=1e-12)
    back_ref, back_out = load_results(tmp_path / "ref.h5"), load_results(tmp_path / "out.h5")
    assert back_out.kind == "compare" and back_out.status == "complete"
    assert back_out.config == back_ref.config
    assert back_out.environment["execution"] == {"streamed": True, "chunk_samples": CHUNK}
    assert set(back_out.predictions) == set(back_ref.predictions)
    for key, pred in back_ref.predictions.items():
        np.testing.assert_allclose(back_out.predictions[key], pred, rtol=1e-9, atol=1e-9)
    for key in back_ref.test:
        np.testing.assert_array_equal(back_out.test[key], back_ref.test[key])


def test_streamed_neural_rows_equal_in_memory_with_the_same_shuffle_blocks(sines_file, tmp_path, host):
    rows_per_block = CHUNK - 17 + 1  # chunk − (window + horizon) + 1: the streamed shuffle block
    spec = f"dnn:units=4,epochs=2,patience=None,shuffle_block={rows_per_block}"
    ref = sb.compare(sines_file, "predict", [spec], window=16, seeds=2, output=tmp_path / "ref.h5")
    out = stream_compare(sines_file, "predict", [spec], window=16, seeds=2, chunk_samples=CHUNK,
                         output=tmp_path / "out.h5")
    _same_rows(ref, out, rel=1e-9)
    back_ref, back_out = load_results(tmp_path / "ref.h5"), load_results(tmp_path / "out.h5")
    for seed in (0, 1):
        np.testing.assert_allclose(back_out.predictions[(spec, seed)], back_ref.predictions[(spec, seed)],
                                   rtol=1e-12, atol=1e-12)
    # without shuffle_block the streamed run shuffles by its blocks (and says so)
    single = stream_run("dnn:units=4,epochs=1", sines_file, window=16, chunk_samples=CHUNK)
    assert single.rows[0].describe["shuffle"] == f"blocks of {rows_per_block} rows"


def test_streamed_sweep_equals_in_memory(sines_file, host):
    grid = {"window": [8, 16], "lms.mu": [0.005, 0.02]}
    ref = sb.sweep(sines_file, grid, "predict", ["lms"])
    out = stream_compare(sines_file, "predict", ["lms"], grid=grid, chunk_samples=CHUNK)
    assert out.kind == "sweep" and out.predictions == {}
    _same_rows(ref, out, rel=1e-8)
    assert len(out.bound["per_grid"]) == 4


def test_a_failing_method_and_one_over_budget_are_failed_rows(sines_file, tmp_path, host):
    out = stream_compare(sines_file, "predict", ["lms:mu=50", "fir:numtaps=15", "lms"], window=16,
                         chunk_samples=CHUNK, budget_bytes=10_000, output=tmp_path / "o.h5")
    rows = {r.method: r for r in out.rows}
    assert rows["lms:mu=50"].status == "failed" and rows["lms:mu=50"].error.startswith("DivergedError")
    assert rows["fir:numtaps=15"].status == "failed" and "cannot stream its training" in rows["fir:numtaps=15"].error
    assert rows["lms"].status == "ok" and rows["wiener"].status == "ok"
    back = load_results(tmp_path / "o.h5")
    assert {k[0] for k in back.predictions} == {"lms", "wiener", "linear oracle", "model limit", "naive"}


def test_interrupt_keeps_the_finished_rows(sines_file, tmp_path, host, monkeypatch):
    calls = {"n": 0}
    original = PredictionSink.append

    def flaky(self, values):
        calls["n"] += 1
        if self.key == "pred_3_0" and calls["n"] > 3:  # during lms: wiener, the oracle and the limit are finished
            raise KeyboardInterrupt
        original(self, values)

    monkeypatch.setattr(PredictionSink, "append", flaky)
    target = tmp_path / "o.h5"
    with pytest.raises(KeyboardInterrupt):
        stream_compare(sines_file, "predict", ["lms"], window=16, chunk_samples=300, output=target)
    back = load_results(target)
    assert back.status == "interrupted"
    assert {r.method for r in back.rows} == {"wiener", "linear oracle", "model limit"}
    assert set(back.predictions) == {("wiener", 0), ("linear oracle", 0), ("model limit", 0)}


def test_cli_compare_and_sweep_stream(sines_file, tmp_path, host):
    runner = CliRunner()
    out = tmp_path / "c.h5"
    res = runner.invoke(app, ["compare", str(sines_file), "--stream", "-m", "lms", "-w", "16", "-o", str(out),
                              "--json"])
    assert res.exit_code == 0, res.output
    ref = sb.compare(sines_file, "predict", ["lms"], window=16)
    _same_rows(ref, load_results(out), rel=1e-8)
    res = runner.invoke(app, ["compare", str(sines_file), "--memory-budget", "10K", "-m", "lms", "-w", "16",
                              "--json"])
    assert res.exit_code == 0, res.output
    res = runner.invoke(app, ["sweep", str(sines_file), "--stream", "-g", "window=8,16", "-m", "lms", "--json"])
    assert res.exit_code == 0, res.output
    for args, message in ((["sweep", "sines", "--stream", "-g", "snr_db=0,10"], "a signal file"),):
        res = runner.invoke(app, args)
        assert res.exit_code == ExitCode.USAGE, (args, res.output)
        assert message in res.output, res.output


@pytest.mark.parametrize("executor", [{"workers": 2}, {"scheduler": "local-dask", "workers": 2}])
def test_parallel_streamed_cells_give_the_serial_rows(sines_file, tmp_path, host, executor):
    if "scheduler" in executor:
        pytest.importorskip("dask.distributed")
    methods = ["lms", "nlms:mu=0.2", "dnn:units=4,epochs=1,patience=None"]
    # the reference runs in one worker process: a network's float32 sums depend on the thread count (this
    # process may run TensorFlow on several threads, a worker runs one), not on where the cell runs
    serial = stream_compare(sines_file, "predict", methods, window=16, seeds=2, chunk_samples=CHUNK, timeout=600,
                            output=tmp_path / "s.h5")
    out = stream_compare(sines_file, "predict", methods, window=16, seeds=2, chunk_samples=CHUNK,
                         output=tmp_path / "p.h5", **executor)
    _same_rows(serial, out, rel=1e-12)
    assert out.bound == serial.bound
    back, ref = load_results(tmp_path / "p.h5"), load_results(tmp_path / "s.h5")
    assert back.status == "complete"
    # the workers wrote their predictions beside the result file; the client copied them in
    assert set(back.predictions) == set(ref.predictions) and len(back.predictions) == 6 + 2  # dnn: two seeds
    for key, pred in ref.predictions.items():
        np.testing.assert_array_equal(back.predictions[key], pred)
    for key in ref.test:
        np.testing.assert_array_equal(back.test[key], ref.test[key])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p.h5", "s.h5"]  # no parts directory left
    assert [r.method for r in back.rows] == [r.method for r in serial.rows]


# -- checkpoints and resume ----------------------------------------------------------------------------
def _count_cells(monkeypatch):
    import sigbench.run.cell as cell

    calls = []
    original = cell.run_cell

    def counting(*args, **kwargs):
        calls.append(kwargs["label"])
        return original(*args, **kwargs)

    monkeypatch.setattr(cell, "run_cell", counting)
    return calls


def test_crash_leaves_the_last_checkpoint_and_resume_completes(sines_file, tmp_path, host, monkeypatch):
    methods = ["lms", "nlms:mu=0.2", "rls"]
    kw = {"window": 16, "chunk_samples": 600}
    full = stream_compare(sines_file, "predict", methods, output=tmp_path / "full.h5", **kw)
    monkeypatch.setattr("sigbench.run.sinks.CHECKPOINT_FACTOR", 0.0)  # a checkpoint after every method
    target = tmp_path / "o.h5"
    original = PredictionSink.append

    def crash(self, values):
        if self.key.startswith("pred_5_"):  # rls (after the 3 references, lms and nlms): a crash, not a Ctrl-C
            raise MemoryError("killed")
        original(self, values)

    monkeypatch.setattr(PredictionSink, "append", crash)
    with pytest.raises(MemoryError):
        stream_compare(sines_file, "predict", methods, output=target, **kw)
    partial = load_results(target)
    assert partial.status == "partial"  # a checkpoint, never a half-written file
    assert [r.method for r in partial.rows] == ["wiener", "linear oracle", "model limit", "lms", "nlms:mu=0.2"]
    assert {k[0] for k in partial.predictions} == {"wiener", "linear oracle", "model limit", "lms", "nlms:mu=0.2"}
    monkeypatch.setattr(PredictionSink, "append", original)
    calls = _count_cells(monkeypatch)
    resumed = stream_compare(sines_file, "predict", methods, output=target, resume=True, **kw)
    assert calls == ["rls", "naive"]  # only what was missing
    assert resumed.run_id == partial.run_id and resumed.status == "complete"
    _same_rows(full, resumed, rel=1e-12)
    back, ref = load_results(target), load_results(tmp_path / "full.h5")
    assert set(back.predictions) == set(ref.predictions)
    for key, pred in ref.predictions.items():
        np.testing.assert_array_equal(back.predictions[key], pred)
    for key in ref.test:
        np.testing.assert_array_equal(back.test[key], ref.test[key])
    assert len(list_runs(target)) == 1


def test_interrupt_then_resume_a_streamed_sweep(sines_file, tmp_path, host, monkeypatch):
    grid = {"window": [8, 16]}
    full = stream_compare(sines_file, "predict", ["lms"], grid=grid, chunk_samples=700)
    import sigbench.run.cell as cell

    original = cell.run_cell
    seen = []

    def interrupt(*args, **kwargs):
        seen.append(kwargs["label"])
        if len(seen) == 9:  # the second grid point's lms (after its three references)
            raise KeyboardInterrupt
        return original(*args, **kwargs)

    monkeypatch.setattr(cell, "run_cell", interrupt)
    monkeypatch.setattr("sigbench.run.sinks.CHECKPOINT_FACTOR", 0.0)
    target = tmp_path / "s.h5"
    with pytest.raises(KeyboardInterrupt):
        stream_compare(sines_file, "predict", ["lms"], grid=grid, chunk_samples=700, output=target)
    assert load_results(target).status == "interrupted" and len(load_results(target).rows) == 8
    monkeypatch.setattr(cell, "run_cell", original)
    calls = _count_cells(monkeypatch)
    done = stream_compare(sines_file, "predict", ["lms"], grid=grid, chunk_samples=700, output=target, resume=True)
    assert calls == ["lms", "naive"]
    _same_rows(full, done, rel=1e-12)
    assert len(done.bound["per_grid"]) == 2


def test_checkpoints_are_skipped_while_copying_would_cost_more_than_the_work(sines_file, tmp_path, host,
                                                                           monkeypatch):
    import sigbench.run.sinks as sinks

    commits = []
    original = sinks.ResultWriter.checkpoint

    def counting(self, res, *, reopen=True):
        commits.append(self.f is not None)
        return original(self, res, reopen=reopen)

    monkeypatch.setattr(sinks.ResultWriter, "checkpoint", counting)
    monkeypatch.setattr(sinks, "CHECKPOINT_FACTOR", 1e9)
    stream_compare(sines_file, "predict", ["lms", "nlms"], window=16, chunk_samples=CHUNK, output=tmp_path / "a.h5")
    assert commits == [True]  # the final write only
    commits.clear()
    monkeypatch.setattr(sinks, "CHECKPOINT_FACTOR", 0.0)
    stream_compare(sines_file, "predict", ["lms", "nlms"], window=16, chunk_samples=CHUNK, output=tmp_path / "b.h5")
    assert len(commits) == 7  # after the 3 references, lms, nlms and naive, and the final write
    assert load_results(tmp_path / "b.h5").status == "complete"


def test_parallel_streamed_resume_keeps_rows(sines_file, tmp_path, host, monkeypatch):
    target = tmp_path / "p.h5"
    first = stream_compare(sines_file, "predict", ["lms"], window=16, chunk_samples=CHUNK, output=target)
    second = stream_compare(sines_file, "predict", ["lms", "nlms"], window=16, chunk_samples=CHUNK, output=target,
                            resume=True, workers=2)  # another configuration: a new run beside the first (kept)
    assert second.run_id != first.run_id and set(list_runs(target)) == {first.run_id, second.run_id}
    third = stream_compare(sines_file, "predict", ["lms", "nlms"], window=16, chunk_samples=CHUNK, output=target,
                           resume=True, workers=2)
    assert third.run_id == second.run_id
    _same_rows(second, third, rel=0)


def test_cli_streamed_resume(sines_file, tmp_path, host):
    runner = CliRunner()
    out = tmp_path / "r.h5"
    args = ["compare", str(sines_file), "--stream", "-m", "lms", "-w", "16", "-o", str(out), "--json"]
    assert runner.invoke(app, args).exit_code == 0
    first = load_results(out)
    res = runner.invoke(app, [*args, "--resume"])
    assert res.exit_code == 0, res.output
    again = load_results(out)
    assert again.run_id == first.run_id and again.status == "complete"
    _same_rows(first, again, rel=0)
