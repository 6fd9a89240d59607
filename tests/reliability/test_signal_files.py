"""RELIABILITY 1-12: hostile or damaged signal files are refused before any data is read."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import h5py
import numpy as np
import pytest

import sigbench as sb
from core.helpers import cli_env, make_signal, run_cli, write_raw
from sigbench import FileFormatError, UnsafeFileError
from sigbench.h5 import safe_open


@pytest.fixture
def good(tmp_path: Path, rng: np.random.Generator) -> Path:
    return sb.save_signal(make_signal(rng, n=4096), tmp_path / "good.h5")


def test_case_01_text_file_named_h5(tmp_path: Path) -> None:
    path = tmp_path / "x.h5"
    path.write_text("time,value\n0,1\n")
    with pytest.raises(FileFormatError, match=r"^not an HDF5 file: .*x\.h5$"):
        sb.load_signal(path)
    empty = tmp_path / "empty.h5"
    empty.write_bytes(b"")
    with pytest.raises(FileFormatError, match="not an HDF5 file"):
        sb.load_signal(empty)


@pytest.mark.parametrize("cut", ["96 bytes", "50 %", "7 bytes"])
def test_case_02_truncated(tmp_path: Path, good: Path, cut: str) -> None:
    raw = good.read_bytes()
    size = {"96 bytes": 96, "50 %": len(raw) // 2, "7 bytes": 7}[cut]
    path = tmp_path / "cut.h5"
    path.write_bytes(raw[:size])
    with pytest.raises(FileFormatError, match=r"truncated or corrupted HDF5 file: .*cut\.h5; get a fresh copy"):
        sb.load_signal(path)


def test_case_03_missing_or_directory_in_the_library(tmp_path: Path) -> None:
    with pytest.raises(FileFormatError, match="no such file"):
        sb.load_signal(tmp_path / "missing.h5")
    with pytest.raises(FileFormatError, match="is a directory"):
        sb.load_signal(tmp_path)


def test_case_07_soft_link_refused(tmp_path: Path) -> None:
    def soft(f: h5py.File, g: h5py.Group) -> None:
        f["elsewhere"] = np.zeros(4)
        g["clean"] = h5py.SoftLink("/elsewhere")

    path = write_raw(tmp_path / "soft.h5", data=np.zeros(4), extra=soft)
    with pytest.raises(UnsafeFileError, match="/signals/s/clean is a soft link to /elsewhere; refused"):
        sb.load_signal(path)
    with pytest.raises(UnsafeFileError):
        sb.file_info(path)


def test_case_07_external_link_refused_without_being_followed(tmp_path: Path) -> None:
    target = tmp_path / "victim.h5"
    with h5py.File(target, "w") as f:
        f["data"] = np.arange(4.0)
    opened_before = target.stat().st_atime_ns

    def ext(f: h5py.File, g: h5py.Group) -> None:
        g["data"] = h5py.ExternalLink(str(target), "/data")

    path = write_raw(tmp_path / "ext.h5", extra=ext)
    with pytest.raises(UnsafeFileError, match=r"/signals/s/data is an external link to .*victim\.h5:/data"):
        sb.load_signal(path)
    assert target.stat().st_atime_ns == opened_before


def test_case_07_external_link_at_root(tmp_path: Path) -> None:
    path = tmp_path / "ext.h5"
    with h5py.File(path, "w") as f:
        f.attrs["sigbench_format"] = 1
        f["signals"] = h5py.ExternalLink("/etc/passwd", "/")
    with pytest.raises(UnsafeFileError, match="/signals is an external link"):
        sb.list_signals(path)


def test_case_08_external_raw_storage_refused(tmp_path: Path) -> None:
    host_file = tmp_path / "host-secret.bin"
    host_file.write_bytes(np.arange(4.0).tobytes())

    def ext(f: h5py.File, g: h5py.Group) -> None:
        g.create_dataset("data", shape=(4,), dtype="f8", external=[(str(host_file), 0, 32)])

    path = write_raw(tmp_path / "raw.h5", extra=ext)
    with pytest.raises(UnsafeFileError, match="/signals/s/data keeps its data in an external raw file"):
        sb.load_signal(path)


def test_case_08_virtual_dataset_refused(tmp_path: Path) -> None:
    src = tmp_path / "src.h5"
    with h5py.File(src, "w") as f:
        f["x"] = np.arange(4.0)

    def vds(f: h5py.File, g: h5py.Group) -> None:
        layout = h5py.VirtualLayout(shape=(4,), dtype="f8")
        layout[:] = h5py.VirtualSource(str(src), "x", shape=(4,))
        g.create_virtual_dataset("data", layout)

    path = write_raw(tmp_path / "vds.h5", extra=vds)
    with pytest.raises(UnsafeFileError, match="/signals/s/data is a virtual dataset"):
        sb.load_signal(path)


def test_case_09_shape_bomb_refused(tmp_path: Path) -> None:
    def bomb(f: h5py.File, g: h5py.Group) -> None:  # 16 GiB declared, a few bytes stored
        g.create_dataset("data", shape=(2**31,), dtype="f8", chunks=(2**16,), compression="gzip")

    path = write_raw(tmp_path / "bomb.h5", extra=bomb)
    assert path.stat().st_size < 100_000
    with pytest.raises(UnsafeFileError, match=r"declares 17179869184 bytes but stores only .*shape bomb"):
        sb.load_signal(path)
    with pytest.raises(UnsafeFileError):
        sb.file_info(path)


def test_case_09_absurd_declared_size_refused(tmp_path: Path) -> None:
    def huge(f: h5py.File, g: h5py.Group) -> None:
        g.create_dataset("data", shape=(2**38, 8), dtype="f8", chunks=(1024, 8))

    path = write_raw(tmp_path / "huge.h5", extra=huge)
    with pytest.raises(UnsafeFileError, match=r"declares .* bytes"):
        sb.load_signal(path)


def test_case_09_absurd_attribute_refused(tmp_path: Path) -> None:
    def big_attr(f: h5py.File, g: h5py.Group) -> None:
        g.attrs["metadata"] = np.zeros(2**18 + 1, dtype="f8")  # 2 MiB

    path = write_raw(tmp_path / "attr.h5", data=np.zeros(4), extra=big_attr, libver="latest")
    with pytest.raises(UnsafeFileError, match=r"attribute 'metadata' on /signals/s is .* bytes"):
        sb.load_signal(path)


def test_case_10_missing_filter_names_dataset_and_filter(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                         rng: np.random.Generator) -> None:
    """No uninstalled filter ships with h5py, so the lzf filter (id 32000) is made to look missing."""

    def lzf(f: h5py.File, g: h5py.Group) -> None:
        g["data"][...] = 1.0
        f.create_group("signals/other").attrs["sample_rate_hz"] = 10.0
        f["signals/other"].create_dataset("data", data=rng.standard_normal(100), compression="lzf")

    path = write_raw(tmp_path / "lzf.h5", data=np.zeros(100), extra=lzf)
    real = h5py.h5z.filter_avail
    monkeypatch.setattr(h5py.h5z, "filter_avail", lambda code: False if code == 32000 else real(code))
    with pytest.raises(FileFormatError, match=r"dataset /signals/other/data .*filter 'lzf' \(id 32000\)"):
        sb.load_signal(path, "other")
    assert sb.load_signal(path, "s").n_samples == 100  # the other signal still loads
    info = {s["name"]: s for s in sb.file_info(path)["signals"]}  # the file still opens for info
    assert "lzf" in info["other"]["error"] and info["s"]["samples"] == 100


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX locks")
def test_case_11_locked_file_mentions_hdf5_use_file_locking(tmp_path: Path, good: Path) -> None:
    env = cli_env()
    if env.get("HDF5_USE_FILE_LOCKING", "").upper() == "FALSE":
        pytest.skip("HDF5_USE_FILE_LOCKING=FALSE in this environment: nothing locks")
    code = "import h5py, sys, time; f = h5py.File(sys.argv[1], 'a'); print('locked', flush=True); time.sleep(60)"
    writer = subprocess.Popen([sys.executable, "-c", code, str(good)], stdout=subprocess.PIPE, text=True, env=env)
    try:
        assert writer.stdout is not None and writer.stdout.readline().strip() == "locked"
        try:
            with h5py.File(good, "r"):
                pytest.skip("this file system does not lock HDF5 files")
        except OSError:
            pass
        with pytest.raises(FileFormatError, match=r"locked by another process.*HDF5_USE_FILE_LOCKING"):
            sb.load_signal(good)
        res = run_cli(["info", str(good)], timeout=30)  # the CLI does not hang either
        assert res.returncode == 1 and "HDF5_USE_FILE_LOCKING" in res.stderr
    finally:
        writer.kill()
        writer.wait()


def test_case_12_crashed_swmr_writer_names_h5clear(tmp_path: Path) -> None:
    """A file left flagged by a crashed libver='latest' writer: the message names `h5clear -s`."""
    good = write_raw(tmp_path / "swmr.h5", data=np.zeros(8), libver="latest")
    code = ("import h5py, os, sys; f = h5py.File(sys.argv[1], 'a', libver='latest'); "
            "f.swmr_mode = True; f.flush(); os._exit(0)")  # exit without closing: the flag stays set
    subprocess.run([sys.executable, "-c", code, str(good)], check=True, env=cli_env())
    try:
        with h5py.File(good, "r"):
            pytest.skip("this HDF5 build does not flag files left open by a writer")
    except OSError:
        pass
    with pytest.raises(FileFormatError, match=r"h5clear -s .*does not repair"):
        sb.load_signal(good)


def test_safe_open_rejects_unreadable(tmp_path: Path, good: Path) -> None:
    if os.geteuid() == 0:
        pytest.skip("root reads files regardless of mode bits")
    good.chmod(0)
    with pytest.raises(FileFormatError, match="cannot read"):
        safe_open(good)
