"""Executors: a process pool and Dask give the serial results; timeouts and dead workers become failed rows."""

from __future__ import annotations

import textwrap

import pytest

import sigbench as sb

PLUGIN = textwrap.dedent('''
    """Processors for executor tests (importable by spawned workers through an entry point)."""
    import os
    import time

    import numpy as np

    from sigbench import Processor, hookimpl


    class Hang(Processor):
        """Sleeps far longer than any test timeout."""

        name = "exec-hang"

        def __init__(self) -> None:
            super().__init__()

        def _fit(self, inputs, targets):
            time.sleep(120)


    class Die(Processor):
        """Kills its own process while fitting (a crashed worker)."""

        name = "exec-die"

        def __init__(self) -> None:
            super().__init__()

        def _fit(self, inputs, targets):
            os._exit(3)


    class Noisy(Processor):
        """Stochastic: the last sample plus seeded noise."""

        name = "exec-noisy"
        deterministic = False

        def __init__(self, seed: int = 0) -> None:
            super().__init__(seed=seed)
            self.seed = seed

        def _fit(self, inputs, targets):
            pass

        def _predict(self, inputs):
            return inputs[:, -1] + np.random.default_rng(self.seed).normal(0, 0.1, inputs.shape[0])


    class DieOnce(Processor):
        """Kills its worker the first time it runs (a marker file remembers), then predicts the last sample."""

        name = "exec-die-once"

        def __init__(self, marker: str = "") -> None:
            super().__init__(marker=marker)
            self.marker = marker

        def _fit(self, inputs, targets):
            if not os.path.exists(self.marker):
                open(self.marker, "w").close()
                os._exit(3)

        def _predict(self, inputs):
            return inputs[:, -1]


    @hookimpl
    def register_processors(register):
        for cls in (Hang, Die, Noisy, DieOnce):
            register(cls)
''')


@pytest.fixture
def exec_plugin(host, tmp_path, monkeypatch):
    """The plugin as an installed distribution on PYTHONPATH (for workers) and registered here."""
    import importlib
    import sys

    site = tmp_path / "site"
    site.mkdir()
    (site / "sigbench_exec_plugin.py").write_text(PLUGIN)
    info = site / "sigbench_exec_plugin-0.1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: sigbench-exec-plugin\nVersion: 0.1.0\n")
    (info / "entry_points.txt").write_text("[sigbench]\nexec-plugin = sigbench_exec_plugin\n")
    monkeypatch.setenv("PYTHONPATH", str(site))
    monkeypatch.setenv("SIGBENCH_LOAD_PLUGINS", "exec-plugin")
    monkeypatch.syspath_prepend(str(site))
    module = importlib.import_module("sigbench_exec_plugin")
    host.register(module, name="exec-plugin")
    try:
        yield host
    finally:
        host.unregister("exec-plugin")
        sys.modules.pop("sigbench_exec_plugin", None)


@pytest.fixture
def signal_file(tmp_path):
    path = tmp_path / "s.h5"
    sb.save_signal(sb.generate("sines", n=1200, seed=0), path)
    return path


def _metrics(res):
    return {r.method: (r.status, r.metrics.get("mse")) for r in res.rows}


def test_process_pool_equals_serial(exec_plugin, signal_file):
    methods = ["wiener", "lms", "exec-noisy"]
    serial = sb.compare(signal_file, methods=methods, window=16, seeds=2)
    pooled = sb.compare(signal_file, methods=methods, window=16, seeds=2, workers=2)
    assert _metrics(pooled) == _metrics(serial)
    assert [r.method for r in pooled.rows] == [r.method for r in serial.rows]


def test_in_memory_signal_runs_in_workers_through_a_temporary_file(exec_plugin):
    sig = sb.generate("sines", n=1000, seed=0)
    pooled = sb.compare(sig, methods=["wiener", "lms"], window=16, workers=2)
    serial = sb.compare(sig, methods=["wiener", "lms"], window=16)
    assert _metrics(pooled) == _metrics(serial)


def test_timeout_fails_the_hanging_method_only(exec_plugin, signal_file):
    res = sb.compare(signal_file, methods=["wiener", "exec-hang", "lms"], window=16, timeout=5)
    row = res.row("exec-hang")
    assert row.status == "failed" and "timed out after 5 s" in row.error
    assert res.row("wiener").status == "ok" and res.row("lms").status == "ok"


def test_a_dying_worker_is_retried_then_failed(exec_plugin, signal_file):
    res = sb.compare(signal_file, methods=["wiener", "exec-die"], window=16, workers=2)
    row = res.row("exec-die")
    assert row.status == "failed" and "worker died 2 times" in row.error
    assert res.row("wiener").status == "ok" and res.row("naive").status == "ok"


def test_sweep_on_a_local_dask_cluster_equals_serial(exec_plugin):
    pytest.importorskip("dask.distributed")
    grid = {"snr_db": [0.0, 10.0]}
    kwargs = {"methods": ["wiener", "exec-noisy"], "n": 800, "window": 16, "seeds": 2}
    serial = sb.sweep("sines", grid, **kwargs)
    dasked = sb.sweep("sines", grid, scheduler="local-dask", workers=2, **kwargs)
    key = lambda r: (r.grid["snr_db"], r.method)  # noqa: E731
    assert [(key(r), r.metrics["mse"]) for r in sorted(dasked.rows, key=key)] == \
        [(key(r), r.metrics["mse"]) for r in sorted(serial.rows, key=key)]


def test_a_worker_killed_mid_sweep_is_retried_and_the_sweep_completes(exec_plugin, tmp_path):
    marker = tmp_path / "died"
    res = sb.sweep("sines", {"snr_db": [0.0, 10.0]}, methods=["wiener", f"exec-die-once:marker={marker}"], n=800,
                   window=16, workers=2)
    assert marker.exists()  # a worker really died
    assert all(r.status == "ok" for r in res.rows), [(r.method, r.error) for r in res.rows]
    assert len(res.rows) == 10  # 2 points × (wiener, linear oracle, model limit, the method, naive)


def test_a_dask_worker_killed_mid_sweep_is_retried(exec_plugin, tmp_path):
    pytest.importorskip("dask.distributed")
    marker = tmp_path / "died"
    res = sb.sweep("sines", {"snr_db": [0.0, 10.0]}, methods=["wiener", f"exec-die-once:marker={marker}"], n=800,
                   window=16, scheduler="local-dask", workers=2)
    assert marker.exists()
    assert all(r.status == "ok" for r in res.rows), [(r.method, r.error) for r in res.rows]


def test_dask_timeout_fails_the_hanging_method_only(exec_plugin, signal_file, monkeypatch):
    pytest.importorskip("dask.distributed")
    import sigbench.run.loop as runner

    serial = sb.compare(signal_file, methods=["wiener", "lms"], window=16)
    yielded = []
    make_executor = runner.make_executor

    def spying_executor(*args, **kwargs):  # records every (cell, output) the executor yields
        executor = make_executor(*args, **kwargs)
        run = executor.run

        def spied_run(cells, recipes):
            for cell, out in run(cells, recipes):
                yielded.append((cell.label, cell.seed, out.get("error")))
                yield cell, out

        executor.run = spied_run
        return executor

    monkeypatch.setattr(runner, "make_executor", spying_executor)
    dasked = sb.compare(signal_file, methods=["wiener", "exec-hang", "lms"], window=16, scheduler="local-dask",
                        workers=2, timeout=3)
    row = dasked.row("exec-hang")
    assert row.status == "failed" and "timed out after 3 s" in row.error
    assert {m: v for m, v in _metrics(dasked).items() if m != "exec-hang"} == _metrics(serial)
    # every cell is yielded exactly once; the hanging one as its timeout, not again after its worker's restart
    cells = [(label, seed) for label, seed, _ in yielded]
    assert len(cells) == len(set(cells)) == len(dasked.rows)
    assert [error for label, _, error in yielded if label == "exec-hang"] == ["timed out after 3 s"]


def test_cell_progress_counts_done_running_and_failed():
    from sigbench.console import CellProgress

    with CellProgress(5, slots=2) as progress:
        assert (progress.done, progress.running, progress.failed) == (0, 2, 0)
        for failed in (False, True, False, False):
            progress.advance(failed=failed)
        assert (progress.done, progress.running, progress.failed) == (4, 1, 1)
        progress.advance()
        assert progress.running == 0


def test_executors_report_their_slots(host):
    from sigbench.run.executors import InlineExecutor, PoolExecutor

    assert InlineExecutor({}).slots == 1
    assert PoolExecutor(3).slots == 3


def test_cell_progress_draws_a_bar_on_a_terminal(monkeypatch):
    import io

    from rich.console import Console

    import sigbench.console as sc

    buffer = io.StringIO()
    fake = Console(file=buffer, force_terminal=True, width=100)
    monkeypatch.setattr(sc, "get_console", lambda: fake)
    monkeypatch.setattr(sc, "_QUIET", False)
    monkeypatch.delenv("SIGBENCH_QUIET", raising=False)
    with sc.CellProgress(3, slots=2) as progress:
        progress.advance(failed=True)
        progress._progress.refresh()
        drawn = buffer.getvalue()
    assert "cells" in drawn and "1/3" in drawn and "failed 1" in drawn and "running 2" in drawn
