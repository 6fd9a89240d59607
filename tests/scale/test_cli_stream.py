"""The CLI streams a signal over the memory budget, with the in-memory run's numbers."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

SIGBENCH = str(Path(sys.executable).with_name("sigbench"))


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([SIGBENCH, *args], capture_output=True, text=True, timeout=120)


def test_run_over_budget_streams_and_matches_the_in_memory_run(tmp_path):
    sig = tmp_path / "s.h5"
    assert _run("generate", "sines", "-o", str(sig), "--n", "20000", "--stream").returncode == 0
    streamed = _run("run", "lms", str(sig), "-o", str(tmp_path / "a.h5"), "--window", "16",
                    "--memory-budget", "64K", "--json")
    in_memory = _run("run", "lms", str(sig), "-o", str(tmp_path / "b.h5"), "--window", "16", "--json")
    assert streamed.returncode == 0 and in_memory.returncode == 0, streamed.stderr + in_memory.stderr
    a = json.loads(streamed.stdout)["rows"][0]["metrics"]
    b = json.loads(in_memory.stdout)["rows"][0]["metrics"]
    assert a["snr_db"] == pytest.approx(b["snr_db"], abs=1e-9)
    assert a["mse"] == pytest.approx(b["mse"], rel=1e-9)


def test_streamed_spectrum_and_prequential_runs_match_the_in_memory_runs(tmp_path):
    sig = tmp_path / "s.h5"
    assert _run("generate", "sines", "-o", str(sig), "--n", "3000").returncode == 0
    for args in (["wiener", "--task", "spectrum", "--window", "16", "--hop", "4"],
                 ["lms", "--mode", "prequential", "--window", "16", "--hop", "3"]):
        streamed = _run("run", args[0], str(sig), "-o", str(tmp_path / "a.h5"), *args[1:], "--stream", "--json")
        in_memory = _run("run", args[0], str(sig), "-o", str(tmp_path / "b.h5"), *args[1:], "--json")
        assert streamed.returncode == 0 and in_memory.returncode == 0, streamed.stderr + in_memory.stderr
        a = json.loads(streamed.stdout)["rows"][0]["metrics"]
        b = json.loads(in_memory.stdout)["rows"][0]["metrics"]
        assert a["mse"] == pytest.approx(b["mse"], rel=1e-10), args
