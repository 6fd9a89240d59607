"""Issue 16, items 1-4: no command destroys a file it was not asked to replace.

1. a report never replaces an input, an output or any HDF5 file; an output never replaces a foreign input;
2. a Markdown report's figures folder is replaced only when sigbench made it;
3. an existing ``-o`` output keeps every run it had; concurrent writers are serialised; ``--overwrite``;
4. devices, FIFOs and links: never ``os.replace`` over a non-regular file.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import time
from pathlib import Path

import h5py
import pytest

import sigbench as sb
from core.helpers import SIGBENCH, cli_env
from sigbench.cli import ExitCode
from sigbench.errors import WriteError
from sigbench.report import write_report

_FAST = ["-m", "wiener", "-m", "naive", "--seeds", "1", "--window", "8"]


def invoke(args: list[str]) -> subprocess.CompletedProcess[str]:
    """The CLI in-process (fast)."""
    from typer.testing import CliRunner

    from sigbench.cli import app

    result = CliRunner().invoke(app, args, prog_name="sigbench")
    return subprocess.CompletedProcess(args, result.exit_code, result.stdout, result.stderr)


@pytest.fixture
def sig_file(tmp_path: Path) -> Path:
    return sb.save_signal(sb.generate("sines", n=600, seed=0, snr_db=10.0), tmp_path / "s.h5")


@pytest.fixture
def result_file(tmp_path: Path, sig_file: Path) -> Path:
    out = tmp_path / "r.h5"
    sb.compare(sig_file, methods=["wiener", "naive"], seeds=1, window=8, output=out)
    return out


def _runs(path: Path) -> list[str]:
    from sigbench.results import list_runs

    return list_runs(path)


def _one_error_line(stderr: str) -> str:
    lines = [ln for ln in stderr.splitlines() if ln.startswith("Error:")]
    assert len(lines) == 1 and stderr.rstrip().endswith(lines[0]), stderr
    return lines[0]


def _env() -> dict[str, str]:
    """A CLI subprocess environment that imports this checkout's sigbench (the worktree's shim)."""
    return cli_env(PYTHONPATH=os.environ.get("PYTHONPATH"))


# -- 1. reports and outputs never replace inputs or HDF5 files ------------------------------------------------
def test_issue16_01_report_over_its_own_result_file_is_refused(result_file: Path) -> None:
    before = result_file.read_bytes()
    r = invoke(["report", str(result_file), "-o", str(result_file)])
    assert r.returncode == ExitCode.USAGE, r.stderr
    assert "HDF5" in _one_error_line(r.stderr) or "reads or writes" in r.stderr
    assert result_file.read_bytes() == before
    assert "Wrote" not in r.stderr


def test_issue16_01_report_over_any_existing_hdf5_file_is_refused(result_file: Path, sig_file: Path) -> None:
    before = sig_file.read_bytes()
    r = invoke(["report", str(result_file), "-o", str(sig_file)])
    assert r.returncode == ExitCode.USAGE and "HDF5" in _one_error_line(r.stderr)
    assert sig_file.read_bytes() == before
    with pytest.raises(sb.ValidationError, match="HDF5"):  # the library refuses too
        write_report(sb.load_results(result_file), sig_file)
    assert sig_file.read_bytes() == before


def test_issue16_01_compare_report_over_its_input_or_output_is_refused(sig_file: Path, tmp_path: Path) -> None:
    before = sig_file.read_bytes()
    r = invoke(["compare", str(sig_file), *_FAST, "--report", str(sig_file)])
    assert r.returncode == ExitCode.USAGE, r.stderr
    _one_error_line(r.stderr)
    assert sig_file.read_bytes() == before
    out = tmp_path / "new.h5"
    r = invoke(["compare", str(sig_file), *_FAST, "-o", str(out), "--report", str(out)])
    assert r.returncode == ExitCode.USAGE, r.stderr
    assert not out.exists()  # refused before any work


def test_issue16_01_import_never_replaces_its_foreign_input(tmp_path: Path) -> None:
    csv = tmp_path / "x.csv"
    csv.write_text("1.0\n2.0\n3.0\n4.0\n")
    before = csv.read_bytes()
    r = invoke(["import", str(csv), "--sample-rate", "10", "-o", str(csv)])
    assert r.returncode == ExitCode.USAGE, r.stderr
    assert "input" in _one_error_line(r.stderr)
    assert csv.read_bytes() == before


def test_issue16_01_a_sigbench_input_may_receive_its_own_run(sig_file: Path) -> None:
    r = invoke(["compare", str(sig_file), *_FAST, "-o", str(sig_file)])
    assert r.returncode == ExitCode.OK, r.stderr
    assert sb.list_signals(sig_file) == ["sines"] and len(_runs(sig_file)) == 1


# -- 2. a Markdown report's folder ------------------------------------------------------------------------------
def test_issue16_02_md_report_never_deletes_a_folder_it_did_not_make(result_file: Path, tmp_path: Path) -> None:
    folder = tmp_path / "thesis_files"
    folder.mkdir()
    (folder / "chapter1.tex").write_text("months of work")
    r = invoke(["report", str(result_file), "-f", "md", "-o", str(tmp_path / "thesis.md")])
    assert r.returncode == ExitCode.ERROR, r.stderr
    assert "did not make it" in _one_error_line(r.stderr)
    assert (folder / "chapter1.tex").read_text() == "months of work"
    assert not (tmp_path / "thesis.md").exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".thesis")] == []  # no staging left


def test_issue16_02_md_report_replaces_its_own_folder(result_file: Path, tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    md = tmp_path / "rep.md"
    for _ in range(2):  # the second run replaces the folder the first one made
        r = invoke(["report", str(result_file), "-f", "md", "-o", str(md)])
        assert r.returncode == ExitCode.OK, r.stderr
    folder = tmp_path / "rep_files"
    assert (folder / ".sigbench-report").is_file()
    assert any(p.suffix == ".png" for p in folder.iterdir())


# -- 3. an existing output keeps its runs ----------------------------------------------------------------------
def test_issue16_03_rerunning_compare_keeps_the_earlier_run(sig_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "r.h5"
    for _ in range(2):
        r = invoke(["compare", str(sig_file), *_FAST, "-o", str(out)])
        assert r.returncode == ExitCode.OK, r.stderr
    assert len(_runs(out)) == 2


def test_issue16_03_overwrite_starts_afresh(sig_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "r.h5"
    for _ in range(2):
        assert invoke(["compare", str(sig_file), *_FAST, "-o", str(out)]).returncode == 0
    r = invoke(["compare", str(sig_file), *_FAST, "-o", str(out), "--overwrite"])
    assert r.returncode == ExitCode.OK, r.stderr
    assert len(_runs(out)) == 1
    r = invoke(["compare", str(sig_file), *_FAST, "-o", str(out), "--overwrite", "--resume"])
    assert r.returncode == ExitCode.USAGE and "--overwrite" in r.stderr
    before = sig_file.read_bytes()
    r = invoke(["compare", str(sig_file), *_FAST, "-o", str(sig_file), "--overwrite"])  # would drop the input
    assert r.returncode == ExitCode.USAGE and "--overwrite" in r.stderr
    assert sig_file.read_bytes() == before


def test_issue16_03_resume_with_another_configuration_keeps_unrelated_runs(sig_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "r.h5"
    assert invoke(["compare", str(sig_file), *_FAST, "-o", str(out)]).returncode == 0
    first = _runs(out)
    r = invoke(["compare", str(sig_file), "-m", "lms", "--seeds", "1", "--window", "8", "-o", str(out), "--resume"])
    assert r.returncode == ExitCode.OK, r.stderr
    runs = _runs(out)
    assert len(runs) == 2 and first[0] in runs


def test_issue16_03_in_memory_signal_replaces_a_stale_signal_of_its_name(tmp_path: Path) -> None:
    out = tmp_path / "r.h5"
    a = sb.generate("sines", n=600, seed=0)
    b = sb.generate("sines", n=700, seed=1)
    sb.compare(a, methods=["naive"], seeds=1, window=8, output=out)
    sb.compare(b, methods=["naive"], seeds=1, window=8, output=out)
    assert len(_runs(out)) == 2
    assert sb.load_signal(out, "sines").n_samples == 700  # the latest run's signal


def test_issue16_03_concurrent_writers_of_one_output_keep_both_runs(sig_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "r.h5"
    args = [str(SIGBENCH), "compare", str(sig_file), "-m", "wiener", "-m", "lms", "--seeds", "1", "--window", "8",
            "-o", str(out)]
    procs = [subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env())
             for _ in range(3)]
    for p in procs:
        _o, err = p.communicate(timeout=180)
        assert p.returncode == ExitCode.OK, err
    assert len(_runs(out)) == 3
    assert not [p.name for p in tmp_path.iterdir() if p.name.endswith((".tmp", ".lock"))]


def test_issue16_03_lock_serialises_writers_in_the_library(tmp_path: Path) -> None:
    """A second process asking for the lock of a held output waits for it (the lock is not just advisory
    in name: the waiter finishes only after the holder released it)."""
    from sigbench.outputs import write_lock

    out = tmp_path / "r.h5"
    code = ("import sys, time; from sigbench.outputs import write_lock\n"
            "with write_lock(sys.argv[1]):\n    print(time.monotonic(), flush=True)\n")
    with write_lock(out):
        proc = subprocess.Popen([sys.executable, "-c", code, str(out)], stdout=subprocess.PIPE, text=True,
                                env={**os.environ, "SIGBENCH_QUIET": "1"})
        time.sleep(1.0)
        assert proc.poll() is None  # still waiting
        released = time.monotonic()
    got, _ = proc.communicate(timeout=60)
    assert float(got) >= released
    with write_lock(out), write_lock(out):  # re-entrant within a process
        pass


# -- 4. devices, FIFOs, links ----------------------------------------------------------------------------------
def test_issue16_04_fifo_output_is_refused_and_kept(sig_file: Path, tmp_path: Path) -> None:
    fifo = tmp_path / "out.h5"
    os.mkfifo(fifo)
    r = invoke(["compare", str(sig_file), *_FAST, "-o", str(fifo)])
    assert r.returncode == ExitCode.ERROR and "FIFO" in _one_error_line(r.stderr)
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    with pytest.raises(WriteError, match="not a regular file"):
        sb.save_signal(sb.generate("sines", n=100), fifo)
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)


def test_issue16_04_link_to_a_character_device_is_refused(sig_file: Path, result_file: Path, tmp_path: Path) -> None:
    link = tmp_path / "null.h5"
    link.symlink_to("/dev/null")
    for args in (["generate", "sines", "--n", "100", "-o", str(link)],
                 ["compare", str(sig_file), *_FAST, "-o", str(link)]):
        r = invoke(args)
        assert r.returncode == ExitCode.ERROR and "character device" in _one_error_line(r.stderr), r.stderr
        assert link.is_symlink() and os.readlink(link) == "/dev/null"
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)
    with pytest.raises(WriteError, match="character device"):
        write_report(sb.load_results(result_file), link)


def test_issue16_04_symlink_output_writes_the_target_and_keeps_the_link(sig_file: Path, tmp_path: Path) -> None:
    real_dir = tmp_path / "real"
    real_dir.mkdir()
    link = tmp_path / "out.h5"
    link.symlink_to(real_dir / "results.h5")  # dangling until the first write
    for _ in range(2):
        r = invoke(["compare", str(sig_file), *_FAST, "-o", str(link)])
        assert r.returncode == ExitCode.OK, r.stderr
    assert link.is_symlink()
    assert len(_runs(real_dir / "results.h5")) == 2
    assert not [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_issue16_04_damaged_sigbench_output_is_kept_not_replaced(sig_file: Path, result_file: Path) -> None:
    with h5py.File(result_file, "a") as f:  # a soft link: an unsafe file, which must not be dropped silently
        f["runs"]["evil"] = h5py.SoftLink("/signals")
    before = result_file.read_bytes()
    r = invoke(["compare", str(sig_file), *_FAST, "-o", str(result_file)])
    assert r.returncode == ExitCode.ERROR and "--overwrite" in _one_error_line(r.stderr)
    assert result_file.read_bytes() == before
    r = invoke(["compare", str(sig_file), *_FAST, "-o", str(result_file), "--overwrite"])
    assert r.returncode == ExitCode.OK, r.stderr
    assert len(_runs(result_file)) == 1
