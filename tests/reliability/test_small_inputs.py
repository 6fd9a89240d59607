"""Issue 16, items 5-9, 18 and 19: no small file or option exhausts the machine, and usage errors are usage
errors.

5. shape bombs in every layout (contiguous never allocated, chunked) are refused before any read;
6. variable-length string attributes count their real bytes against the attribute limit;
7. FIFOs and devices as inputs are refused (no hang); stdin that is not HDF5 is refused at once, spools are
   capped and removed on SIGTERM;
8. ``generate --n`` is capped like ``sweep``, and streamed generation checks the free disk space first;
9. a tampered saved network is refused before it is built;
18. processors check the task before any fit (``check_task``), networks are capped by a memory estimate;
19. ``sigbench_format`` must be the integer 1.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import h5py
import numpy as np
import pytest

import sigbench as sb
from core.helpers import SIGBENCH, cli_env, write_raw
from sigbench.cli import ExitCode
from sigbench.errors import FileFormatError, UnsafeFileError, ValidationError, WriteError


def invoke(args: list[str], stdin: Any = None) -> subprocess.CompletedProcess[str]:
    from typer.testing import CliRunner

    from sigbench.cli import app

    result = CliRunner().invoke(app, args, prog_name="sigbench", input=stdin)
    return subprocess.CompletedProcess(args, result.exit_code, result.stdout, result.stderr)


def _env(**extra: str) -> dict[str, str]:
    return cli_env(PYTHONPATH=os.environ.get("PYTHONPATH"), **extra)


# -- 5. shape bombs in every layout -------------------------------------------------------------------------
def _contiguous_bomb(tmp_path: Path, samples: int = 2**27) -> Path:
    def bomb(f: h5py.File, g: h5py.Group) -> None:  # contiguous, never written: nothing allocated
        g.create_dataset("data", shape=(samples,), dtype="f8")

    return write_raw(tmp_path / "bomb.h5", extra=bomb)


def test_issue16_05_contiguous_unallocated_bomb_is_refused_everywhere(tmp_path: Path) -> None:
    path = _contiguous_bomb(tmp_path)  # 1 GiB declared
    assert path.stat().st_size < 10_000
    with h5py.File(path) as f:
        assert f["signals/s/data"].chunks is None and f["signals/s/data"].id.get_storage_size() == 0
    for call in (sb.load_signal, sb.file_info, sb.open_signal):
        with pytest.raises(UnsafeFileError, match="shape bomb"):
            call(path)
    start = time.monotonic()
    for args in (["info", str(path)], ["compare", str(path), "-m", "naive", "--seeds", "1"],
                 ["import", str(path), "-f", "hdf5", "-p", "dataset=/signals/s/data", "--sample-rate", "1",
                  "-o", str(tmp_path / "imp.h5")]):
        r = invoke(args)
        assert r.returncode == ExitCode.ERROR, (args, r.stderr)
        assert "shape bomb" in r.stderr or "refused" in r.stderr, r.stderr
    assert time.monotonic() - start < 30
    assert not (tmp_path / "imp.h5").exists()


def test_issue16_05_small_unallocated_dataset_is_not_a_bomb(tmp_path: Path) -> None:
    """Below the floor (64 MiB declared) nothing is refused: a fill-value dataset is legal HDF5."""
    def small(f: h5py.File, g: h5py.Group) -> None:
        g.create_dataset("data", shape=(1000,), dtype="f8")

    sig = sb.load_signal(write_raw(tmp_path / "small.h5", extra=small))
    assert sig.n_samples == 1000 and not sig.data.any()


# -- 6. variable-length attributes ---------------------------------------------------------------------------
def test_issue16_06_variable_length_string_attribute_counts_its_bytes(tmp_path: Path) -> None:
    def big_meta(f: h5py.File, g: h5py.Group) -> None:
        g.attrs["metadata"] = '{"x": "' + "a" * (2 * 2**20) + '"}'  # 2 MiB, stored as a 16-byte reference

    path = write_raw(tmp_path / "meta.h5", data=np.zeros(8), extra=big_meta)
    with h5py.File(path) as f:
        aid = h5py.h5a.open(f["signals/s"].id, b"metadata")
        assert aid.get_storage_size() < 100  # what the old check measured
    for call in (sb.load_signal, sb.file_info):
        with pytest.raises(UnsafeFileError, match=r"attribute 'metadata' on /signals/s is \d+ bytes"):
            call(path)


def test_issue16_06_variable_length_array_attribute_counts_its_bytes(tmp_path: Path) -> None:
    def vlen(f: h5py.File, g: h5py.Group) -> None:
        dt = h5py.vlen_dtype(np.dtype("f8"))
        value = np.empty(2, dtype=object)
        value[0], value[1] = np.zeros(2**17), np.zeros(2**17)  # 2 MiB in all
        g.attrs.create("extra", value, dtype=dt)

    path = write_raw(tmp_path / "vlen.h5", data=np.zeros(8), extra=vlen)
    with pytest.raises(UnsafeFileError, match="attribute 'extra'"):
        sb.file_info(path)


def test_issue16_06_ordinary_string_attributes_still_load(tmp_path: Path) -> None:
    sig = sb.generate("sines", n=100)
    path = sb.save_signal(sig.with_(metadata={**sig.metadata, "note": "é" * 1000}), tmp_path / "ok.h5")
    assert sb.load_signal(path).metadata["note"] == "é" * 1000


# -- 7. non-regular inputs and stdin -------------------------------------------------------------------------
def test_issue16_07_fifo_input_is_refused_without_hanging(tmp_path: Path) -> None:
    fifo = tmp_path / "in.h5"
    os.mkfifo(fifo)
    for args in (["info", str(fifo)], ["compare", str(fifo), "-m", "naive"], ["report", str(fifo), "-o",
                                                                             str(tmp_path / "r.html")]):
        r = subprocess.run([str(SIGBENCH), *args], capture_output=True, text=True, timeout=60, env=_env())
        assert r.returncode == ExitCode.USAGE, r.stderr
        assert "not a regular file" in r.stderr
    with pytest.raises(FileFormatError, match="not a regular file"):  # the library: no open() that blocks
        sb.load_signal(fifo)


def test_issue16_07_stdin_that_is_not_hdf5_is_refused_at_once(tmp_path: Path) -> None:
    """``info - < /dev/zero`` used to spool up to half the memory into the temp folder."""
    with open("/dev/zero", "rb") as zero:
        start = time.monotonic()
        r = subprocess.run([str(SIGBENCH), "info", "-"], stdin=zero, capture_output=True, text=True, timeout=60,
                           env=_env(TMPDIR=str(tmp_path)))
    assert r.returncode == ExitCode.ERROR and "not an HDF5 file: stdin" in r.stderr, r.stderr
    assert time.monotonic() - start < 30
    assert list(tmp_path.iterdir()) == []


def test_issue16_07_stdin_spool_is_capped_and_removed_on_sigterm(tmp_path: Path) -> None:
    """A never-ending HDF5-looking stream: the spool stops at the budget; SIGTERM mid-spool removes it."""
    code = ("import sys\nsys.stdout.buffer.write(b'\\x89HDF\\r\\n\\x1a\\n' + bytes(1 << 20))\n"
            "while True:\n    sys.stdout.buffer.write(bytes(1 << 20))\n")
    feeder = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE)
    try:
        r = subprocess.run([str(SIGBENCH), "info", "-"], stdin=feeder.stdout, capture_output=True, text=True,
                           timeout=60, env=_env(TMPDIR=str(tmp_path), SIGBENCH_MEMORY_BUDGET="8M"))
    finally:
        feeder.kill()
        feeder.wait()
    assert r.returncode == ExitCode.USAGE and "at most" in r.stderr, r.stderr
    assert list(tmp_path.iterdir()) == []

    feeder = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE)
    proc = subprocess.Popen([str(SIGBENCH), "info", "-"], stdin=feeder.stdout, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=_env(TMPDIR=str(tmp_path)))
    try:
        end = time.monotonic() + 60
        while not any(tmp_path.iterdir()) and time.monotonic() < end:
            time.sleep(0.05)
        time.sleep(0.5)
        assert any(tmp_path.iterdir()), "no spool appeared"
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=60)
    finally:
        feeder.kill()
        feeder.wait()
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == ExitCode.INTERRUPTED
    assert list(tmp_path.iterdir()) == []


def test_issue16_07_spool_of_a_killed_process_is_removed_by_the_next(tmp_path: Path, monkeypatch: Any) -> None:
    from sigbench.cli import _io

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stale = tmp_path / f"sigbench-pipe-{dead.pid}-abc"
    stale.mkdir()
    (stale / "stdin.h5").write_bytes(b"x" * 100)
    alive = tmp_path / f"sigbench-pipe-{os.getpid() + 0}-def"  # ours: kept
    alive.mkdir()
    _io._remove_stale_spools()
    assert not stale.exists() and alive.exists()


# -- 8. generate --n -----------------------------------------------------------------------------------------
def test_issue16_08_generate_n_is_capped_like_sweep(tmp_path: Path) -> None:
    out = tmp_path / "big.h5"
    for flag in ("--samples", "--n"):  # and the deprecated spelling
        r = invoke(["generate", "sines", flag, "10000000000", "-o", str(out)])
        assert r.returncode == ExitCode.USAGE and "at most 200000000 samples" in r.stderr, r.stderr
    assert not out.exists()


def test_issue16_08_streamed_generation_checks_free_space_first(tmp_path: Path, monkeypatch: Any) -> None:
    real = os.statvfs

    class Small:
        def __init__(self, st: Any) -> None:
            self.f_frsize, self.f_bavail = 4096, 1000  # 4 MB free

    monkeypatch.setattr(os, "statvfs", lambda p: Small(real(p)))
    out = tmp_path / "g.h5"
    with pytest.raises(WriteError, match=r"disk full: .* needs about"):
        sb.stream_generate("sines", out, 10_000_000)
    assert list(tmp_path.iterdir()) == []


# -- 9 and 18. networks: sizes known before they are built ----------------------------------------------------
def _neural(name: str, **params: Any) -> Any:
    pytest.importorskip("keras")
    return sb.get_processor(name)(**params)


@pytest.mark.parametrize(("name", "params", "window"), [
    ("dnn", {"units": [16, 8]}, 32),
    ("cnn", {"kernel_sizes": [3, 5], "filters": 4, "pool_size": 2, "dense_units": [8]}, 32),
    ("lstm", {"units": [6, 5], "timesteps": 8, "dense_units": [4]}, 32),
    ("cnn-lstm", {"filters": 4, "kernel_size": 3, "pool_size": 2, "units": [5], "dense_units": [3]}, 32),
])
def test_issue16_18_parameter_count_matches_the_built_model(name: str, params: dict[str, Any],
                                                            window: int) -> None:
    proc = _neural(name, epochs=1, **params)
    for outputs in (1, 3):
        model = proc._build_model(window, outputs)
        assert proc.parameter_count(window, outputs) == model.count_params()


def test_issue16_18_huge_network_is_a_usage_error_before_any_allocation(monkeypatch: Any) -> None:
    monkeypatch.setenv("SIGBENCH_MEMORY_BUDGET", "1G")
    dnn = sb.get_processor("dnn")(units=[10**9])
    with pytest.raises(ValidationError, match=r"fits the memory budget .* parameters"):
        dnn.check_task(window=64)
    x = np.zeros((10, 64))
    with pytest.raises(ValidationError, match="fits the memory budget"):  # fit refuses before building too
        dnn.fit(x, np.zeros(10))
    assert "keras" not in sys.modules or dnn.model is None


def test_issue16_18_seed_beyond_keras_limit_is_a_usage_error() -> None:
    with pytest.raises(ValidationError, match=r"2\*\*32"):
        sb.get_processor("dnn")(seed=2**32)
    dnn = sb.get_processor("dnn")(seed=2**32 - 2)
    with pytest.raises(ValidationError, match=r"seeds"):
        dnn.check_task(window=16, seeds=3)
    dnn.check_task(window=16, seeds=2)


@pytest.mark.parametrize("name", ["lms", "nlms", "rls", "wiener", "fir", "fir-bank"])
def test_issue16_18_numtaps_longer_than_the_window_is_refused_by_check_task(name: str) -> None:
    proc = sb.get_processor(name)(numtaps=65)
    with pytest.raises(ValidationError, match="numtaps"):
        proc.check_task(window=64)
    proc.check_task(window=65)


def test_issue16_09_tampered_saved_network_is_refused_before_building(tmp_path: Path, monkeypatch: Any) -> None:
    import json

    proc = _neural("dnn", units=[4], epochs=1)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 8))
    proc.fit(x, x[:, -1])
    saved = proc.save(tmp_path / "saved")
    meta_path = saved / "processor.json"
    meta = json.loads(meta_path.read_text())
    meta["params"]["units"] = [200_000]  # 1.8 M parameters against a weights file of 41 values
    meta_path.write_text(json.dumps(meta))
    built: list[int] = []
    real = type(proc)._build_model
    monkeypatch.setattr(type(proc), "_build_model", lambda self, *a: built.append(1) or real(self, *a))
    with pytest.raises(FileFormatError, match=r"declares a network of \d+ parameters but model.weights.h5 holds "
                                              r"only \d+"):
        type(proc).load(saved)
    assert built == []


# -- 19. the format version ------------------------------------------------------------------------------------
@pytest.mark.parametrize("fmt", [1.5, 1.0, True, np.bool_(True), "1", b"1", np.array([1])])
def test_issue16_19_sigbench_format_must_be_the_integer_1(tmp_path: Path, fmt: Any) -> None:
    path = write_raw(tmp_path / "f.h5", data=np.zeros(8), fmt=fmt)
    with pytest.raises(FileFormatError, match=r"expected sigbench_format to be an integer \(1\)"):
        sb.load_signal(path)


@pytest.mark.parametrize("fmt", [1, np.uint8(1), np.int32(1)])
def test_issue16_19_integer_1_of_any_width_is_format_1(tmp_path: Path, fmt: Any) -> None:
    assert sb.load_signal(write_raw(tmp_path / "f.h5", data=np.zeros(8), fmt=fmt)).n_samples == 8


def test_issue16_18_the_engine_checks_every_method_before_any_fit(tmp_path: Path) -> None:
    """A usage error found by ``check_task`` stops compare before any cell runs: exit 2, nothing written."""
    import sigbench as sb
    from core.helpers import run_cli
    from sigbench.cli import ExitCode

    sig = sb.save_signal(sb.generate("sines", n=1500, seed=0), tmp_path / "s.h5")
    with pytest.raises(sb.ValidationError, match="numtaps"):
        sb.compare(sig, methods=["lms", "nlms:numtaps=100"], window=16)
    res = run_cli(["compare", str(sig), "-m", "lms:numtaps=100", "-w", "16", "-o", str(tmp_path / "r.h5")])
    assert res.returncode == ExitCode.USAGE, res.stderr
    assert "numtaps" in res.stderr and not (tmp_path / "r.h5").exists()
