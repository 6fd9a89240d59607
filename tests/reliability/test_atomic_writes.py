"""RELIABILITY 14-16, 19, 20, 22: an existing file is never modified in place."""

from __future__ import annotations

import errno
import os
import signal
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import h5py
import numpy as np
import pytest

import sigbench as sb
import sigbench.h5 as h5mod
from core.helpers import cli_env, make_signal
from sigbench import Signal, WriteError


@pytest.fixture
def old(tmp_path: Path, rng: np.random.Generator) -> tuple[Path, Signal]:
    sig = make_signal(rng, n=2048, name="old")
    return sb.save_signal(sig, tmp_path / "out.h5"), sig


def _temps(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name.endswith(".tmp"))


def _still_old(path: Path, sig: Signal) -> None:
    loaded = sb.load_signal(path)
    assert loaded.name == "old" and loaded.data.tobytes() == sig.data.tobytes()


_HALFWAY = textwrap.dedent(r"""
    import sys, time
    import numpy as np
    import sigbench as sb
    import sigbench.h5 as h5mod

    real = h5mod.write_signal_group

    def slow(f, signal):  # write half of the data, flush it to the temp file, then stall
        group = real(f, signal)
        f.flush()
        print("HALFWAY", flush=True)
        time.sleep(120)
        return group

    h5mod.write_signal_group = slow
    new = sb.Signal(np.ones(200_000), sample_rate_hz=1.0, name="new")
    sb.save_signal(new, sys.argv[1])
""")


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL")
def test_case_14_sigkill_halfway_leaves_old_file_intact(old: tuple[Path, Signal]) -> None:
    path, sig = old
    proc = subprocess.Popen([sys.executable, "-c", _HALFWAY, str(path)], stdout=subprocess.PIPE, text=True,
                            env=cli_env())
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "HALFWAY"
        (temp,) = _temps(path.parent)  # the new file is being built beside the target …
        assert temp.startswith(f".{path.name}.{proc.pid}.")
        proc.send_signal(signal.SIGKILL)  # … and the writer dies without any chance to clean up
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    _still_old(path, sig)  # the old file is intact and opens
    assert sb.file_info(path)["signals"][0]["name"] == "old"
    # the dead writer's temp is swept by the next write to the same target
    sb.save_signal(make_signal(np.random.default_rng(1), name="next"), path)
    assert _temps(path.parent) == []
    assert sb.list_signals(path) == ["next"]


def test_stale_temp_of_a_live_process_is_kept(tmp_path: Path, rng: np.random.Generator) -> None:
    target = tmp_path / "t.h5"
    live = tmp_path / f".t.h5.{os.getppid()}.abc.tmp"  # the parent (pytest's launcher) is alive
    live.write_bytes(b"in progress")
    sb.save_signal(make_signal(rng), target)
    assert live.exists()


def test_case_15_exception_mid_write_leaves_target_unchanged(old: tuple[Path, Signal],
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    path, sig = old
    before = path.read_bytes()
    real = h5mod.write_signal_group

    def boom(f: h5py.File, signal: Signal) -> h5py.Group:
        real(f, signal)
        raise RuntimeError("injected after partial write")

    monkeypatch.setattr(h5mod, "write_signal_group", boom)
    with pytest.raises(RuntimeError, match="injected"):
        sb.save_signal(make_signal(np.random.default_rng(2), name="new"), path)
    assert path.read_bytes() == before
    assert _temps(path.parent) == []
    _still_old(path, sig)


def test_case_15_exception_mid_write_with_no_previous_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                           signal: Signal) -> None:
    monkeypatch.setattr(h5mod, "write_signal_group", lambda f, s: (_ for _ in ()).throw(ValueError("x")))
    with pytest.raises(ValueError):
        sb.save_signal(signal, tmp_path / "new.h5")
    assert list(tmp_path.iterdir()) == []  # target absent, no temp


def test_keyboard_interrupt_mid_write_cleans_up(old: tuple[Path, Signal], monkeypatch: pytest.MonkeyPatch) -> None:
    path, sig = old

    def interrupt(f: h5py.File, signal: Signal) -> h5py.Group:
        raise KeyboardInterrupt

    monkeypatch.setattr(h5mod, "write_signal_group", interrupt)
    with pytest.raises(KeyboardInterrupt):
        sb.save_signal(sig, path)
    assert _temps(path.parent) == []
    _still_old(path, sig)


@pytest.mark.parametrize(("where", "err"), [("fsync", errno.ENOSPC), ("replace", errno.ENOSPC),
                                            ("fsync", errno.EDQUOT), ("fsync", errno.EIO)])
def test_case_16_disk_full_or_io_error(old: tuple[Path, Signal], monkeypatch: pytest.MonkeyPatch,
                                       where: str, err: int) -> None:
    path, _sig = old
    before = path.read_bytes()

    def fail(*args: object, **kwargs: object) -> None:
        raise OSError(err, os.strerror(err))

    monkeypatch.setattr(h5mod.os, where, fail)
    with pytest.raises(WriteError) as info:
        sb.save_signal(make_signal(np.random.default_rng(3), name="new"), path)
    expected = "I/O error" if err == errno.EIO else "disk full"
    assert expected in str(info.value) and "previous file is untouched" in str(info.value)
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert _temps(path.parent) == []


def test_case_16_disk_full_creating_the_temp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                             signal: Signal) -> None:
    def full(*args: object, **kwargs: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(h5mod.tempfile, "mkstemp", full)
    with pytest.raises(WriteError, match="disk full"):
        sb.save_signal(signal, tmp_path / "x.h5")


def test_case_16_disk_full_inside_hdf5(old: tuple[Path, Signal], monkeypatch: pytest.MonkeyPatch) -> None:
    """HDF5 reports a failed write as an OSError/RuntimeError whose text says 'No space left on device'."""
    path, sig = old

    def full(f: h5py.File, signal: Signal) -> h5py.Group:
        raise OSError("Can't write data (file write failed: ..., error message = 'No space left on device')")

    monkeypatch.setattr(h5mod, "write_signal_group", full)
    with pytest.raises(WriteError, match="disk full"):
        sb.save_signal(sig, path)
    assert _temps(path.parent) == []
    _still_old(path, sig)


def test_write_into_missing_directory_or_over_a_directory(tmp_path: Path, signal: Signal) -> None:
    with pytest.raises(WriteError, match="does not exist"):
        sb.save_signal(signal, tmp_path / "nope" / "x.h5")
    (tmp_path / "d.h5").mkdir()
    with pytest.raises(WriteError, match="is a directory"):
        sb.save_signal(signal, tmp_path / "d.h5")


def test_write_into_read_only_directory(tmp_path: Path, signal: Signal) -> None:
    if os.geteuid() == 0:
        pytest.skip("root writes into read-only directories")
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    try:
        with pytest.raises(WriteError, match="cannot write"):
            sb.save_signal(signal, ro / "x.h5")
    finally:
        ro.chmod(0o700)


@pytest.mark.parametrize("mode", [0o600, 0o640, 0o664])
def test_case_19_mode_bits_kept(old: tuple[Path, Signal], mode: int) -> None:
    path, sig = old
    path.chmod(mode)
    sb.save_signal(sig, path)
    assert stat.S_IMODE(path.stat().st_mode) == mode


def test_case_19_new_file_follows_umask(tmp_path: Path, signal: Signal) -> None:
    previous = os.umask(0o027)
    try:
        path = sb.save_signal(signal, tmp_path / "n.h5")
    finally:
        os.umask(previous)
    assert stat.S_IMODE(path.stat().st_mode) == 0o640


def test_case_19_temp_is_beside_target_with_unique_exclusive_name(old: tuple[Path, Signal],
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    path, sig = old
    seen: list[Path] = []
    real = h5mod.write_signal_group

    def spy(f: h5py.File, signal: Signal) -> h5py.Group:
        seen.append(Path(f.filename))
        return real(f, signal)

    monkeypatch.setattr(h5mod, "write_signal_group", spy)
    sb.save_signal(sig, path)
    sb.save_signal(sig, path)
    assert seen[0].parent == path.parent and seen[0].name.startswith(f".{path.name}.")
    assert seen[0] != seen[1]  # mkstemp: O_EXCL, a fresh random name each time


def test_case_20_reader_opened_before_replace_reads_old_data(old: tuple[Path, Signal]) -> None:
    path, sig = old
    with sb.open_signal(path) as lazy:
        sb.save_signal(Signal(np.full(2048, 7.0), sample_rate_hz=1.0, name="old"), path)
        assert np.array_equal(lazy.read(), sig.data)  # the old inode, complete
    assert np.all(sb.load_signal(path).data == 7.0)


def test_case_22_output_is_validated_before_replace(old: tuple[Path, Signal],
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """The new file is reopened read-only and checked before os.replace: a writer that leaves something
    unsafe in it (here a soft link) never replaces the target."""
    path, _sig = old
    before = path.read_bytes()
    real = h5mod.write_signal_group

    def sneaky(f: h5py.File, signal: Signal) -> h5py.Group:
        group = real(f, signal)
        group["alias"] = h5py.SoftLink("/signals")
        return group

    monkeypatch.setattr(h5mod, "write_signal_group", sneaky)
    with pytest.raises(sb.UnsafeFileError, match="soft link"):
        sb.save_signal(make_signal(np.random.default_rng(4), name="new"), path)
    assert path.read_bytes() == before
    assert _temps(path.parent) == []


def test_append_keeps_existing_signals_and_never_writes_in_place(old: tuple[Path, Signal]) -> None:
    path, sig = old
    inode = path.stat().st_ino
    sb.save_signal(make_signal(np.random.default_rng(5), name="more"), path, append=True)
    assert path.stat().st_ino != inode  # a new file was swapped in
    assert sb.list_signals(path) == ["more", "old"]
    _still_old_named = sb.load_signal(path, "old")
    assert _still_old_named.data.tobytes() == sig.data.tobytes()
