"""RELIABILITY 40, 41 (at the level of the result file), 45, 51 and escaping of text that comes from files.

Subprocess tests load the ``reltest`` plugin of ``conftest.py`` (a raising processor, an optional raising
observer); in-process tests register small processors on the fresh ``host``.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import h5py
import numpy as np
import pytest

import sigbench as sb
from core.helpers import make_signal, run_cli
from sigbench import hookimpl
from sigbench.cli import ExitCode
from sigbench.processor import Processor


def _invoke(args: list[str]) -> subprocess.CompletedProcess[str]:
    from typer.testing import CliRunner

    from sigbench.cli import app

    result = CliRunner().invoke(app, args, prog_name="sigbench")
    return subprocess.CompletedProcess(args, result.exit_code, result.stdout, result.stderr)


@pytest.fixture
def signal_file(tmp_path: Path) -> Path:
    return sb.save_signal(sb.generate("sines", n=1000, seed=0, snr_db=10.0), tmp_path / "sig.h5")


def _run_cli(args: list[str], site: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return run_cli(args, PYTHONPATH=str(site), SIGBENCH_LOAD_PLUGINS="reltest", **env)


def _assert_complete_valid_file(path: Path, methods: set[str]) -> sb.Results:
    res = sb.load_results(path)
    assert res.status == "complete"
    assert {r.method for r in res.rows if r.role in ("", "reference")} == methods  # besides oracle and limit
    for row in res.rows:
        if row.status == "ok":
            assert row.metrics and all(np.isfinite(v) for k, v in row.metrics.items() if not k.endswith("_ci")
                                       and v is not None)
            assert res.predictions[(row.method, row.seeds[0])].shape == res.test["targets"].shape
        else:
            assert row.metrics == {} and row.error
    assert sb.load_signal(path).n_samples == 1000  # the signal stored beside the run is intact
    return res


# -- 40: a raising processor --------------------------------------------------------------------------------
def test_case_40_raising_processor_in_compare_saves_the_others_and_exits_3(tmp_path: Path, signal_file: Path,
                                                                           slow_plugin: Path) -> None:
    out = tmp_path / "r.h5"
    res = _run_cli(["compare", str(signal_file), "-m", "wiener", "-m", "rel-raise", "-m", "lms", "-w", "16",
                    "-o", str(out)], slow_plugin)
    assert res.returncode == ExitCode.METHOD_FAILED, res.stderr
    assert "Traceback" not in res.stderr
    assert "rel-raise exploded in fit" in res.stderr  # the failure note under the table
    saved = _assert_complete_valid_file(out, {"wiener", "rel-raise", "lms", "naive"})
    failed = saved.row("rel-raise")
    assert failed.status == "failed" and "rel-raise exploded in fit" in failed.error
    assert [r.status for r in saved.rows][-1] == "failed"  # failed rows sort last


class _PredictRaises(Processor):
    """Fits, then raises in predict."""

    name = "rel-predict-raises"

    def _fit(self, inputs: np.ndarray, targets: np.ndarray) -> None:
        pass

    def _predict(self, inputs: np.ndarray) -> np.ndarray:
        raise ValueError("predict blew up")


class _Register:
    @hookimpl
    def register_processors(self, register: Any) -> None:
        register(_PredictRaises)


def test_case_40_raising_in_predict_keeps_a_complete_run_file(host: Any, tmp_path: Path, signal_file: Path) -> None:
    host.register(_Register(), name="rel-register")
    try:
        out = tmp_path / "r.h5"
        res = sb.compare(signal_file, methods=["wiener", "rel-predict-raises"], window=16, output=out)
    finally:
        host.unregister("rel-register")
    assert res.row("rel-predict-raises").status == "failed"
    assert "predict blew up" in res.row("rel-predict-raises").error
    _assert_complete_valid_file(out, {"wiener", "rel-predict-raises", "naive"})


# -- 41: a raising observer -----------------------------------------------------------------------------------
def test_case_41_raising_observer_leaves_the_run_file_complete_and_valid(tmp_path: Path, signal_file: Path,
                                                                         slow_plugin: Path) -> None:
    out = tmp_path / "r.h5"
    res = _run_cli(["compare", str(signal_file), "-m", "wiener", "-m", "lms", "-w", "16", "-o", str(out)],
                   slow_plugin, REL_OBSERVER_RAISES="1")
    assert res.returncode == ExitCode.OK, res.stderr
    assert "Traceback" not in res.stderr
    assert "observer bug after" in res.stderr  # reported as a warning, attributed
    saved = _assert_complete_valid_file(out, {"wiener", "lms", "naive"})
    assert any("observer bug after" in w for w in saved.warnings)


def test_case_41_every_observer_hook_raising_in_process(host: Any, tmp_path: Path, signal_file: Path) -> None:
    class Broken:
        @hookimpl
        def on_run_start(self, run: Any) -> None:
            raise RuntimeError("start bug")

        @hookimpl
        def on_method_done(self, run: Any, method: str, result: Any) -> None:
            raise KeyError("done bug")

        @hookimpl
        def on_run_end(self, run: Any) -> None:
            raise ZeroDivisionError("end bug")

    host.register(Broken(), name="rel-broken-observer")
    try:
        out = tmp_path / "r.h5"
        res = sb.compare(signal_file, methods=["wiener", "lms"], window=16, output=out)
    finally:
        host.unregister("rel-broken-observer")
    assert all(r.status == "ok" for r in res.rows)
    saved = _assert_complete_valid_file(out, {"wiener", "lms", "naive"})
    assert any("start bug" in w for w in saved.warnings) and any("done bug" in w for w in saved.warnings)


# -- 45: bad option values --------------------------------------------------------------------------------------
@pytest.mark.parametrize("args", [
    ["compare", "{file}", "--seeds", "0"],
    ["sweep", "sines", "--grid", "snr_db=abc"],
    ["sweep", "sines", "--grid", "snr_db"],
    ["sweep", "sines", "--grid", "snr_db=0", "--seeds", "-1"],
    ["compare", "{file}", "--split", "0.5,0.5"],
    ["compare", "{file}", "--window", "0"],
    ["compare", "{file}", "--resume"],  # --resume needs --output
])
def test_case_45_bad_option_value_exits_2_with_invalid_value_and_empty_stdout(tmp_path: Path, signal_file: Path,
                                                                              args: list[str]) -> None:
    out = tmp_path / "out.h5"
    res = _invoke([str(signal_file) if a == "{file}" else a for a in args])
    assert res.returncode == ExitCode.USAGE, res.stderr
    assert res.stdout == ""
    assert "Invalid value" in res.stderr, res.stderr
    assert "Traceback" not in res.stderr
    assert not out.exists()


def test_case_45_in_a_real_subprocess(signal_file: Path) -> None:
    for args in (["compare", str(signal_file), "--seeds", "0"], ["sweep", "sines", "--grid", "snr_db=abc"]):
        res = run_cli(args)
        assert res.returncode == ExitCode.USAGE
        assert res.stdout == ""
        assert re.search(r"Invalid value for '(--seeds|--grid)'", res.stderr), res.stderr


# -- 51: every exit code --------------------------------------------------------------------------------------
def _code_ok(tmp_path: Path, signal_file: Path, site: Path) -> subprocess.CompletedProcess[str]:
    return _run_cli(["compare", str(signal_file), "-m", "wiener", "-w", "16"], site)


def _code_error(tmp_path: Path, signal_file: Path, site: Path) -> subprocess.CompletedProcess[str]:
    bad = tmp_path / "bad.h5"
    bad.write_text("not hdf5")
    return _run_cli(["compare", str(bad), "-m", "wiener"], site)


def _code_usage(tmp_path: Path, signal_file: Path, site: Path) -> subprocess.CompletedProcess[str]:
    return _run_cli(["compare", str(signal_file), "--seeds", "0"], site)


def _code_method_failed(tmp_path: Path, signal_file: Path, site: Path) -> subprocess.CompletedProcess[str]:
    return _run_cli(["compare", str(signal_file), "-m", "rel-raise", "-w", "16"], site)


def _code_interrupted(tmp_path: Path, signal_file: Path, site: Path) -> subprocess.CompletedProcess[str]:
    import signal
    import time

    from core.helpers import SIGBENCH, cli_env

    marker = tmp_path / "started"
    env = cli_env(PYTHONPATH=str(site), SIGBENCH_LOAD_PLUGINS="reltest", REL_MARKER=str(marker))
    proc = subprocess.Popen([str(SIGBENCH), "compare", str(signal_file), "-m", "rel-slow:delay=60", "-w", "16"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        end = time.monotonic() + 60
        while not marker.exists() and proc.poll() is None and time.monotonic() < end:
            time.sleep(0.02)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


_PROVOKE = {ExitCode.OK: _code_ok, ExitCode.ERROR: _code_error, ExitCode.USAGE: _code_usage,
            ExitCode.METHOD_FAILED: _code_method_failed, ExitCode.INTERRUPTED: _code_interrupted}


def test_case_51_every_exit_code_has_a_test() -> None:
    assert set(_PROVOKE) == set(ExitCode)


@pytest.mark.parametrize("code", list(ExitCode), ids=lambda c: c.name)
def test_case_51_exit_code(code: ExitCode, tmp_path: Path, signal_file: Path, slow_plugin: Path) -> None:
    res = _PROVOKE[code](tmp_path, signal_file, slow_plugin)
    assert res.returncode == code, res.stderr
    assert "Traceback" not in res.stderr
    if code in (ExitCode.ERROR,):
        lines = [ln for ln in res.stderr.splitlines() if ln.strip()]
        assert len(lines) == 1 and lines[0].startswith("Error: "), res.stderr


# -- text from files is escaped before rich prints it ---------------------------------------------------------
_HOSTILE_NAME = "[bold red]evil[blink]"
_HOSTILE_SOURCE = "\x1b]0;pwned\x07\x1b[31m[link=file:///etc/passwd]click[/link]\r"


@pytest.fixture
def hostile_file(tmp_path: Path) -> Path:
    sig = make_signal(np.random.default_rng(0), name=_HOSTILE_NAME)
    sig = sig.with_(metadata={"source": _HOSTILE_SOURCE})
    path = sb.save_signal(sig, tmp_path / "hostile.h5")
    with h5py.File(path, "r+") as f:  # and a run id that is markup too
        f.create_group("runs/[red]run").attrs["task"] = "\x1b[2J"
    return path


def test_markup_and_control_characters_from_files_are_printed_literally(hostile_file: Path) -> None:
    res = run_cli(["info", str(hostile_file)], FORCE_COLOR="1", COLUMNS="400")
    assert res.returncode == 0, res.stderr
    out = res.stderr
    assert _HOSTILE_NAME in out  # the markup is shown as typed, not applied
    assert "[link=file:///etc/passwd]click[/link]" in out
    assert "\\x1b]0;pwned\\x07" in out and "\\x1b[31m" in out and "\\x0d" in out  # shown, not sent
    assert "\x07" not in out and "\r" not in out and "]0;pwned" not in out.replace("\\x1b]0;pwned", "")
    assert "\x1b]" not in out and "\x1b[31m" not in out and "\x1b[5m" not in out and "\x1b[2J" not in out
    assert "[red]run" in out and "\\x1b[2J" in out


def test_error_messages_quoting_file_content_are_escaped(tmp_path: Path) -> None:
    path = tmp_path / "x.h5"
    with h5py.File(path, "w") as f:
        f.attrs["sigbench_format"] = "[bold]\x1b[31mnine"
    res = run_cli(["info", str(path)], FORCE_COLOR="1")
    assert res.returncode == ExitCode.ERROR
    assert "[bold]\\x1b[31mnine" in res.stderr and "\x1b[31mnine" not in res.stderr


def test_info_lists_runs_by_method_label(signal_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "r.h5"
    sb.compare(signal_file, methods=["wiener", "lms:mu=0.01"], window=16, output=out)
    assert sorted(sb.file_info(out)["runs"][0]["methods"]) == ["linear oracle", "lms:mu=0.01", "model limit", "naive",
                                                              "wiener"]
