"""Issue 17 items 4 and 5: the ``export`` command (WAV, CSV, .npy) and the one atomic byte writer."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

import sigbench as sb
from sigbench import atomic
from sigbench.cli import app
from sigbench.errors import ValidationError, WriteError
from sigbench.export import export_predictions, export_signal


@pytest.fixture
def signal_file(tmp_path: Path, rng: np.random.Generator) -> Path:
    data = rng.standard_normal((400, 2))
    sig = sb.Signal(data, sample_rate_hz=8000.0, t0_s=0.5, channel_names=("l", "r"), clean=0.5 * data, name="st")
    return sb.save_signal(sig, tmp_path / "s.h5")


def test_export_signal_round_trips_in_every_format(signal_file: Path, tmp_path: Path) -> None:
    sig = sb.load_signal(signal_file)
    np.testing.assert_array_equal(np.load(export_signal(signal_file, tmp_path / "s.npy")), sig.data)
    table = np.loadtxt(export_signal(signal_file, tmp_path / "s.csv"), delimiter=",", skiprows=1)
    assert (tmp_path / "s.csv").read_text().splitlines()[0] == "time_s,l,r"
    np.testing.assert_array_equal(table[:, 1:], sig.data)  # %.17g: exact
    np.testing.assert_allclose(table[:, 0], 0.5 + np.arange(400) / 8000.0)
    from scipy.io import wavfile

    rate, wav = wavfile.read(export_signal(signal_file, tmp_path / "c.wav", which="clean"))
    assert rate == 8000 and wav.dtype == np.float32 and wav.shape == (400, 2)
    np.testing.assert_allclose(wav, sig.clean, rtol=1e-6)


def test_export_predictions_with_index_time_and_target(tmp_path: Path) -> None:
    sig = sb.generate("sines", n=600, seed=0)
    res = sb.compare(sig, methods=["lms"], window=8, seeds=1, output=tmp_path / "r.h5")
    with pytest.raises(ValidationError, match=r"expected --label among .*lms, .*naive, wiener; received: none"):
        export_predictions(tmp_path / "r.h5", tmp_path / "p.csv")
    out = export_predictions(tmp_path / "r.h5", tmp_path / "p.csv", method="lms")
    lines = out.read_text().splitlines()
    assert lines[0] == "sample_index,time_s,prediction,target"
    table = np.loadtxt(out, delimiter=",", skiprows=1)
    np.testing.assert_array_equal(table[:, 2], res.predictions[("lms", 0)])
    np.testing.assert_array_equal(table[:, 3], res.test["targets"])
    np.testing.assert_allclose(table[:, 1], table[:, 0] / sig.sample_rate_hz)
    with pytest.raises(ValidationError, match="--row-seed among 0"):
        export_predictions(tmp_path / "r.h5", tmp_path / "p.npy", method="lms", seed=4)


def test_export_command(signal_file: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    res = runner.invoke(app, ["export", str(signal_file), "-o", str(tmp_path / "x.npy")])
    assert res.exit_code == 0, res.output
    assert np.load(tmp_path / "x.npy").shape == (400, 2)
    res = runner.invoke(app, ["export", str(signal_file), "-o", str(tmp_path / "x.txt")])
    assert res.exit_code == 2 and "wav, csv, npy" in res.output


def test_atomic_writer_keeps_mode_and_leaves_nothing_on_failure(tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "out.csv"
    target.write_bytes(b"old")
    os.chmod(target, 0o640)
    atomic.atomic_write_bytes(target, b"new")
    assert target.read_bytes() == b"new" and (target.stat().st_mode & 0o777) == 0o640

    def full(*_args: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(atomic.os, "replace", full)
    with pytest.raises(WriteError, match="disk full"):
        atomic.atomic_write_bytes(target, b"newer")
    assert target.read_bytes() == b"new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.csv"]  # no temp file left
    monkeypatch.undo()
    with pytest.raises(KeyboardInterrupt), atomic.atomic_open(target) as fh:
        fh.write(b"half")
        raise KeyboardInterrupt
    assert target.read_bytes() == b"new" and sorted(p.name for p in tmp_path.iterdir()) == ["out.csv"]
    with pytest.raises(WriteError, match="does not exist"):
        atomic.atomic_write_bytes(tmp_path / "missing" / "x.csv", b"")
