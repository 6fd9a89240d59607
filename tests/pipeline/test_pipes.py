"""Shell pipes: ``-`` reads a signal file from stdin, ``-o -`` writes HDF5 to stdout, never to a terminal."""

from __future__ import annotations

import json
import os
import pty
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sigbench.cli import ExitCode, app

SIGBENCH = Path(sys.executable).with_name("sigbench")
SB = shlex.quote(str(SIGBENCH))


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SIGBENCH_") and k != "PYTHONPATH"}
    return {**env, "TF_CPP_MIN_LOG_LEVEL": "3", "COLUMNS": "200", **extra}


def _bash(cmd: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["bash", "-o", "pipefail", "-c", cmd], capture_output=True, text=True, cwd=cwd,
                          timeout=120, env=_env(**env))


def test_generate_run_info_pipe(tmp_path: Path) -> None:
    """The issue's example: generate → run → info, HDF5 bytes through two pipes."""
    res = _bash(f"{SB} generate sines -o - --n 2000 | {SB} run fir-bank - -o - | {SB} info - --json", tmp_path)
    assert res.returncode == 0, res.stderr
    info = json.loads(res.stdout)
    assert info["path"] == "stdin"
    [signal] = info["signals"]
    assert (signal["name"], signal["samples"], signal["has_clean"]) == ("sines", 2000, True)
    [run] = info["runs"]
    assert run["task"] == "predict" and run["kind"] == "run" and run["status"] == "complete"
    assert "Wrote stdout" in res.stderr  # human output on stderr
    assert list(tmp_path.iterdir()) == []  # nothing left behind in the working folder


def test_import_reads_stdin(tmp_path: Path) -> None:
    res = _bash(f"seq 1 50 | {SB} import - --format csv --sample-rate 10 -o - | {SB} info - --json", tmp_path)
    assert res.returncode == 0, res.stderr
    [signal] = json.loads(res.stdout)["signals"]
    assert (signal["name"], signal["samples"], signal["sample_rate_hz"]) == ("stdin", 50, 10.0)


def test_compare_and_report_read_stdin(tmp_path: Path) -> None:
    res = _bash(f"{SB} generate sines -o - --n 1200 | {SB} compare - -m wiener -m lms --window 16 --seeds 1 -o - "
                f"| {SB} report - -o r.md -f md", tmp_path)
    assert res.returncode == 0, res.stderr
    text = (tmp_path / "r.md").read_text()
    assert "wiener" in text and "lms" in text


def test_pipeline_run_to_stdout(tmp_path: Path) -> None:
    study = Path(__file__).resolve().parents[2] / "examples" / "pipelines" / "noise-robustness.toml"
    sets = " ".join(f"--set {shlex.quote(s)}" for s in (
        "signal.n=1200", "protocol.train_samples=1000", "protocol.seeds=1", "sweep.snr_db=[0.0, 10.0]",
        'methods=["wiener", "lms"]'))
    res = _bash(f"{SB} pipeline run {shlex.quote(str(study))} {sets} -o - --report r.md | {SB} info - --json",
                tmp_path)
    assert res.returncode == 0, res.stderr
    [run] = json.loads(res.stdout)["runs"]
    assert run["kind"] == "sweep" and run["status"] == "complete"
    assert not (study.parent / "noise-robustness.h5").exists()  # -o - replaced [output] results
    assert (tmp_path / "r.md").exists()


def test_stdout_to_a_terminal_is_refused(tmp_path: Path) -> None:
    """A TTY on stdout: one clear line on stderr, exit 2, nothing written."""
    main, secondary = pty.openpty()
    try:
        proc = subprocess.run([str(SIGBENCH), "generate", "sines", "-o", "-"], stdout=secondary,
                              stderr=subprocess.PIPE, text=True, cwd=tmp_path, timeout=60, env=_env())
    finally:
        os.close(secondary)
    os.set_blocking(main, False)
    try:
        written = os.read(main, 4096)
    except (BlockingIOError, OSError):
        written = b""
    os.close(main)
    assert proc.returncode == ExitCode.USAGE
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and "refusing to write binary HDF5 to a terminal" in lines[0], proc.stderr
    assert b"HDF" not in written


@pytest.mark.parametrize("args", [
    ["generate", "sines", "-o", "-", "--json"],  # generate: --json and -o - both want stdout
    ["run", "wiener", "IN", "-o", "-", "--json"],  # run
    ["compare", "IN", "-o", "-", "--json"],  # compare
    ["sweep", "sines", "--grid", "snr_db=0,10", "-o", "-", "--json"],  # sweep
])
def test_json_with_stdout_output_is_refused(tmp_path: Path, args: list[str]) -> None:
    import sigbench as sb

    src = sb.save_signal(sb.generate("sines", n=300), tmp_path / "in.h5")
    res = CliRunner().invoke(app, [str(src) if a == "IN" else a for a in args], prog_name="sigbench")
    assert res.exit_code == ExitCode.USAGE
    assert "expected either --json or -o - (both write to stdout)" in res.stderr
    assert res.stdout == ""


@pytest.mark.parametrize("command", [["run", "wiener"], ["compare"], ["report", "-o", "x.html"], ["info"]])
@pytest.mark.parametrize("kind", ["missing", "directory"])
def test_file_arguments_keep_typer_path_errors(tmp_path: Path, command: list[str], kind: str) -> None:
    """Accepting '-' must not weaken the path checks: a missing path or a folder is still a usage error."""
    target = tmp_path / "nope.h5"
    if kind == "directory":
        target.mkdir()
    res = CliRunner().invoke(app, [*command, str(target)], prog_name="sigbench")
    assert res.exit_code == ExitCode.USAGE, res.stderr
    assert "Invalid value" in res.stderr
    assert ("does not exist" if kind == "missing" else "is a directory") in res.stderr


def test_stdin_over_the_budget_is_refused(tmp_path: Path) -> None:
    res = _bash(f"{SB} generate sines -o - --n 2000 | {SB} info -", tmp_path, SIGBENCH_MEMORY_BUDGET="1K")
    assert res.returncode != 0
    assert "expected at most 1024 bytes on stdin" in res.stderr


def test_empty_stdin_is_a_clear_error(tmp_path: Path) -> None:
    res = _bash(f"{SB} info - < /dev/null", tmp_path)
    assert res.returncode == ExitCode.ERROR
    assert "stdin is empty" in res.stderr and "Traceback" not in res.stderr
