"""RELIABILITY 14/17 for comparisons: SIGINT, SIGTERM and SIGKILL during a real ``sigbench`` subprocess.

The subprocesses load the ``reltest`` plugin (``conftest.slow_plugin``) whose ``rel-slow`` processor sleeps in
``fit`` and touches a marker file when it starts, so a test knows the run is past its first checkpoint before
it sends a signal.
"""

from __future__ import annotations

import math
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import sigbench as sb
from core.helpers import SIGBENCH, cli_env
from sigbench.cli import ExitCode
from sigbench.results import list_runs

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")

def _start(args: list[str], site: Path, marker: Path | None = None) -> subprocess.Popen[str]:
    env = cli_env(PYTHONPATH=str(site), SIGBENCH_LOAD_PLUGINS="reltest")
    if marker is not None:
        env["REL_MARKER"] = str(marker)
    return subprocess.Popen([str(SIGBENCH), *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=env)


def _wait_for(path: Path, proc: subprocess.Popen[str], timeout: float = 60) -> None:
    end = time.monotonic() + timeout
    while not path.exists():
        if proc.poll() is not None:
            _out, err = proc.communicate()
            pytest.fail(f"the run ended (rc {proc.returncode}) before reaching the slow method:\n{err}")
        if time.monotonic() > end:
            pytest.fail("the run never reached the slow method")
        time.sleep(0.02)


def _temps(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name.endswith(".tmp"))


@pytest.fixture
def signal_file(tmp_path: Path) -> Path:
    return sb.save_signal(sb.generate("sines", n=1200, seed=0, snr_db=10.0), tmp_path / "sig.h5")


def _interrupt_compare(tmp_path: Path, site: Path, signal_file: Path, signum: int) -> None:
    out = tmp_path / "out.h5"
    marker = tmp_path / "fit-started"
    proc = _start(["compare", str(signal_file), "-m", "wiener", "-m", "rel-slow:delay=60", "-m", "naive",
                   "-w", "16", "-o", str(out)], site, marker)
    try:
        _wait_for(marker, proc)
        t0 = time.monotonic()
        proc.send_signal(signum)
        _stdout, err = proc.communicate(timeout=30)
        stopped_in = time.monotonic() - t0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == ExitCode.INTERRUPTED, err
    assert stopped_in < 10, f"took {stopped_in:.1f} s to stop"
    assert "Traceback" not in err and "Interrupted" in err
    # nothing partial is published as complete, the finished row is valid, no temp file is left
    res = sb.load_results(out)
    assert res.status == "interrupted"
    assert sorted(r.method for r in res.rows) == ["linear oracle", "model limit", "wiener"]  # references first
    wiener = res.row("wiener")
    assert wiener.status == "ok" and np.isfinite(wiener.metrics["mse"]) and wiener.metrics["mse"] > 0
    assert res.predictions[("wiener", 0)].shape == res.test["targets"].shape
    assert _temps(tmp_path) == []
    # the signal stored beside the run is intact
    assert sb.load_signal(out).n_samples == 1200


def test_case_17_sigint_during_compare_exits_130_and_keeps_finished_rows(tmp_path: Path, slow_plugin: Path,
                                                                         signal_file: Path) -> None:
    _interrupt_compare(tmp_path, slow_plugin, signal_file, signal.SIGINT)


def test_case_17_sigterm_during_compare_exits_130_and_keeps_finished_rows(tmp_path: Path, slow_plugin: Path,
                                                                          signal_file: Path) -> None:
    _interrupt_compare(tmp_path, slow_plugin, signal_file, signal.SIGTERM)


def test_case_17_sigint_then_resume_recomputes_only_the_unfinished(tmp_path: Path, slow_plugin: Path,
                                                                   signal_file: Path) -> None:
    """After an interrupted compare, ``--resume`` keeps the finished row (same numbers) and completes."""
    out = tmp_path / "out.h5"
    marker = tmp_path / "fit-started"
    args = ["compare", str(signal_file), "-m", "wiener", "-m", "rel-slow:delay=0.5", "-m", "naive", "-w", "16",
            "-o", str(out)]
    proc = _start(args, slow_plugin, marker)
    try:
        _wait_for(marker, proc)
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == ExitCode.INTERRUPTED
    before = sb.load_results(out)
    marker.unlink()
    done = _start([*args, "--resume"], slow_plugin, marker)
    _stdout, err = done.communicate(timeout=60)
    assert done.returncode == ExitCode.OK, err
    assert "Resuming run" in err and "3 finished rows kept" in err  # wiener, the linear oracle, the model limit
    after = sb.load_results(out)
    assert after.status == "complete" and after.run_id == before.run_id
    assert {r.method for r in after.rows} == {"wiener", "linear oracle", "model limit", "rel-slow:delay=0.5", "naive"}
    assert after.row("wiener").metrics == before.row("wiener").metrics
    assert after.row("wiener").cost["fit_s"] == before.row("wiener").cost["fit_s"]  # reused, not recomputed


# -- SIGKILL at random moments -------------------------------------------------------------------------------
_SWEEP = ["sweep", "sines", "--grid", "snr_db=0,5,10,15", "-m", "rel-slow:delay=0.3", "--n", "800", "--seeds", "1",
          "-w", "16", "--json"]


def _same(a: dict[str, float], b: dict[str, float]) -> bool:
    """Equal metrics: same keys, numbers equal to 1e-9 relative (a BLAS may round differently between
    processes), everything else (``None`` intervals) identical."""
    if a.keys() != b.keys():
        return False
    return all(math.isclose(a[k], b[k], rel_tol=1e-9, abs_tol=1e-12) if isinstance(a[k], float)
               and isinstance(b[k], float) else a[k] == b[k] for k in a)


def _metrics_by_cell(res: sb.Results) -> dict[tuple[object, str], dict[str, float]]:
    return {(r.grid["snr_db"], r.method): r.metrics for r in res.rows}


def test_kill_at_random_times_leaves_a_valid_file_and_resumes_to_the_same_results(tmp_path: Path,
                                                                                   slow_plugin: Path) -> None:
    """A tiny sweep killed with SIGKILL at random moments (seeded) a few times: after every kill the output
    is absent or a valid earlier checkpoint (never corrupt, finished rows only growing), and ``--resume``
    then completes to exactly the metrics of an uninterrupted run."""
    reference_out = tmp_path / "reference.h5"
    ref = _start([*_SWEEP, "-o", str(reference_out)], slow_plugin)
    _stdout, err = ref.communicate(timeout=120)
    assert ref.returncode == ExitCode.OK, err
    expected = _metrics_by_cell(sb.load_results(reference_out))
    assert len(expected) == 20  # wiener, linear oracle, model limit, rel-slow, naive × four grid points

    out = tmp_path / "out.h5"
    rng = np.random.default_rng(20240607)
    kept = 0
    outcomes = []
    for delay in rng.uniform(0.4, 1.2, size=6):
        proc = _start([*_SWEEP, "-o", str(out), "--resume"], slow_plugin)
        try:
            time.sleep(float(delay))
            proc.send_signal(signal.SIGKILL)
            proc.communicate(timeout=30)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        outcomes.append(proc.returncode)
        if not out.exists():
            assert kept == 0, "a file that existed disappeared"
            continue
        partial = sb.load_results(out)  # opens and validates: never corrupt
        assert partial.status in ("partial", "complete"), (outcomes, partial.status)
        cells = _metrics_by_cell(partial)
        assert len(cells) >= kept, f"finished rows were lost: {kept} -> {len(cells)} ({outcomes})"
        kept = len(cells)
        for key, metrics in cells.items():  # every row in the file is a finished, correct one
            assert _same(metrics, expected[key]), (key, metrics, expected[key], outcomes)
    assert sum(rc == -signal.SIGKILL for rc in outcomes) >= 2, outcomes  # kills landed mid-run

    final = _start([*_SWEEP, "-o", str(out), "--resume"], slow_plugin)
    _stdout, err = final.communicate(timeout=120)
    assert final.returncode == ExitCode.OK, err
    done = sb.load_results(out)
    assert done.status == "complete"
    final_cells = _metrics_by_cell(done)
    assert final_cells.keys() == expected.keys()
    for key, metrics in final_cells.items():
        assert _same(metrics, expected[key]), (key, metrics, expected[key])
    assert _temps(tmp_path) == []  # the killed writers' temps were swept by the later writes


def test_resume_never_shrinks_the_file_while_reusing_rows(host: object, tmp_path: Path) -> None:
    """Found by the kill loop: resuming re-saved the file after *each* reused row, so a kill early in a
    resumed run left fewer finished rows than before it started. Every checkpoint must hold them all."""
    from sigbench import hookimpl

    out = tmp_path / "sweep.h5"
    grid = {"snr_db": [0.0, 10.0]}
    kwargs = {"methods": ["wiener", "lms"], "n": 600, "window": 16, "output": out}
    sb.sweep("sines", grid, **kwargs)
    before = len(sb.load_results(out).rows)
    assert before == 10  # (wiener, linear oracle, model limit, lms, naive) × 2
    seen: list[int] = []

    class Watcher:
        @hookimpl
        def on_method_done(self, run: object, method: str, result: object) -> None:
            seen.append(len(sb.load_results(out, predictions=False).rows))

    host.register(Watcher(), name="rel-watcher")  # type: ignore[attr-defined]
    try:
        resumed = sb.sweep("sines", grid, resume=True, **kwargs)
    finally:
        host.unregister("rel-watcher")  # type: ignore[attr-defined]
    assert len(seen) == 10 and min(seen) == before, seen
    assert resumed.status == "complete" and len(sb.load_results(out).rows) == before


# -- SIGKILL at random moments: report and pipeline run (issue 16) -------------------------------------------
def _start_here(args: list[str], site: Path) -> subprocess.Popen[str]:
    """Like :func:`_start`, importing this checkout's sigbench (its shim first on PYTHONPATH)."""
    import os

    path = os.pathsep.join(p for p in (os.environ.get("PYTHONPATH"), str(site)) if p)
    env = cli_env(PYTHONPATH=path, SIGBENCH_LOAD_PLUGINS="reltest")
    return subprocess.Popen([str(SIGBENCH), *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=env)


def _kill_at(proc: subprocess.Popen[str], delay: float) -> int:
    try:
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return proc.returncode


def test_kill_at_random_times_during_report_leaves_a_complete_report(tmp_path: Path, slow_plugin: Path) -> None:
    """``report -f md`` killed at random moments over a good report: the Markdown file and its figures folder
    are always a complete earlier report (or absent), no unrelated file is touched, and the next report
    completes and sweeps the dead writers' temps."""
    pytest.importorskip("matplotlib")
    results = tmp_path / "r.h5"
    sb.compare(sb.generate("sines", n=1200, seed=0), methods=["wiener", "naive"], seeds=1, window=16,
               output=results)
    md = tmp_path / "rep.md"
    first = _start_here(["report", str(results), "-f", "md", "-o", str(md)], slow_plugin)
    _out, err = first.communicate(timeout=120)
    assert first.returncode == ExitCode.OK, err
    good_text = md.read_text()
    good_figures = sorted(p.name for p in (tmp_path / "rep_files").iterdir())
    rng = np.random.default_rng(20261201)
    outcomes = []
    for delay in rng.uniform(0.3, 3.0, size=5):
        outcomes.append(_kill_at(_start_here(["report", str(results), "-f", "md", "-o", str(md)], slow_plugin),
                                 float(delay)))
        assert md.read_text() == good_text  # the same run: a complete report, never a partial one
        assert sorted(p.name for p in (tmp_path / "rep_files").iterdir()) == good_figures, outcomes
    assert sum(rc == -signal.SIGKILL for rc in outcomes) >= 2, outcomes
    last = _start_here(["report", str(results), "-f", "md", "-o", str(md)], slow_plugin)
    _out, err = last.communicate(timeout=120)
    assert last.returncode == ExitCode.OK, err
    assert md.read_text() == good_text


_PIPELINE = """\
methods = ["wiener", "rel-slow:delay=2.0"]  # a run outlasts every kill delay below (0.5–2.5 s)

[signal]
source = "sines"
n = 800
seed = 0

[task]
name = "predict"
window = 16

[protocol]
seeds = 1
"""


def test_kill_at_random_times_during_pipeline_run_keeps_every_finished_run(tmp_path: Path,
                                                                          slow_plugin: Path) -> None:
    """``pipeline run`` killed at random moments, writing into a result file that already holds a run: the
    file is always valid, its earlier run is never lost, every complete run equals the uninterrupted one's
    metrics, and a final run completes."""
    study = tmp_path / "study.toml"
    study.write_text(_PIPELINE)
    out = tmp_path / "out.h5"
    ref = _start_here(["pipeline", "run", str(study), "-o", str(out), "--json"], slow_plugin)
    _out, err = ref.communicate(timeout=120)
    assert ref.returncode == ExitCode.OK, err
    [first_id] = list_runs(out)
    expected = {r.method: r.metrics for r in sb.load_results(out, first_id).rows}
    rng = np.random.default_rng(20261202)
    outcomes = []
    for delay in rng.uniform(0.5, 2.5, size=5):
        outcomes.append(_kill_at(_start_here(["pipeline", "run", str(study), "-o", str(out), "--json"],
                                             slow_plugin), float(delay)))
        runs = list_runs(out)  # opens and validates: never corrupt
        assert first_id in runs, outcomes
        for run_id in runs:
            res = sb.load_results(out, run_id)
            for row in res.rows:  # every stored row is a finished, correct one
                assert _same(row.metrics, expected[row.method]), (run_id, row.method, outcomes)
    assert sum(rc == -signal.SIGKILL for rc in outcomes) >= 2, outcomes
    final = _start_here(["pipeline", "run", str(study), "-o", str(out), "--json"], slow_plugin)
    _out, err = final.communicate(timeout=120)
    assert final.returncode == ExitCode.OK, err
    runs = list_runs(out)
    assert first_id in runs and sb.load_results(out, runs[-1]).status == "complete"
    assert _temps(tmp_path) == []
