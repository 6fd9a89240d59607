"""Issue 17 item 4: files other tools read and write — MATLAB v7.3, SigMF, orientation of foreign HDF5
datasets, and the dimension scales that let xarray see a signal's time axis."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import h5py
import numpy as np
import pytest
from typer.testing import CliRunner

import sigbench as sb
from sigbench.cli import app
from sigbench.errors import FileFormatError, ValidationError


def _mat73(path: Path, variables: dict[str, np.ndarray]) -> Path:
    """A file in MATLAB's v7.3 layout: a 512-byte header block, one dataset per variable holding
    MATLAB's column-major array (so the HDF5 shape is MATLAB's size reversed), ``MATLAB_class``."""
    with h5py.File(path, "w", userblock_size=512) as f:
        for name, value in variables.items():
            arr = np.asarray(value)
            if np.iscomplexobj(arr):
                comp = np.empty(arr.shape, dtype=[("real", "<f8"), ("imag", "<f8")])
                comp["real"], comp["imag"] = arr.real, arr.imag
                ds = f.create_dataset(name, data=comp.T)
                cls = b"double"
            else:
                ds = f.create_dataset(name, data=arr.T)
                cls = {"f": b"double", "i": b"int16"}[arr.dtype.kind]
            ds.attrs["MATLAB_class"] = np.bytes_(cls)
    with open(path, "r+b") as fh:  # MATLAB's text header in the user block
        fh.write(b"MATLAB 7.3 MAT-file, Platform: GLNXA64, Created on: Tue Dec  1 00:00:00 2026 HDF5 schema 1.00 .")
    return path


def test_mat73_column_vector_is_samples_and_fs_is_the_rate(tmp_path: Path, rng: np.random.Generator) -> None:
    x = rng.standard_normal(300)
    path = _mat73(tmp_path / "rec.mat", {"x": x.reshape(-1, 1), "fs": np.array([[250.0]])})  # MATLAB x(:)
    with h5py.File(path, "r") as f:
        assert f["x"].shape == (1, 300)  # how MATLAB stores a column vector
    sig = sb.load_source("mat", str(path))
    assert sig.data.shape == (300,) and sig.sample_rate_hz == 250.0
    np.testing.assert_array_equal(sig.data, x)
    assert sig.metadata["mat_version"] == "7.3" and sig.metadata["sample_rate_from"] == "fs"


def test_mat73_row_vector_matrix_complex_and_given_rate(tmp_path: Path, rng: np.random.Generator) -> None:
    m = rng.standard_normal((400, 3))  # MATLAB convention: samples x channels
    row = rng.standard_normal((1, 50))
    z = rng.standard_normal(60) + 1j * rng.standard_normal(60)
    path = _mat73(tmp_path / "many.mat", {"m": m, "row": row, "z": z.reshape(-1, 1), "Fs": np.array([[8000.0]])})
    sig = sb.load_source("mat", str(path), variable="m")
    assert sig.data.shape == (400, 3) and sig.sample_rate_hz == 8000.0
    np.testing.assert_array_equal(sig.data, m)
    assert sb.load_source("mat", str(path), variable="row").data.shape == (50,)
    cz = sb.load_source("mat", str(path), variable="z", sample_rate_hz=10.0)
    assert cz.sample_rate_hz == 10.0 and cz.channel_names == ("I", "Q")
    np.testing.assert_array_equal(cz.data[:, 0] + 1j * cz.data[:, 1], z)
    with pytest.raises(ValidationError, match=r"\(m, row, z\)"):
        sb.load_source("mat", str(path))  # three candidates: the user must name one


def test_mat73_matrix_with_channels_in_rows_is_turned_with_a_warning(tmp_path: Path,
                                                                    rng: np.random.Generator) -> None:
    m = rng.standard_normal((2, 500))  # MATLAB 2 x 500: channels in rows
    path = _mat73(tmp_path / "wide.mat", {"sig": m})
    with pytest.warns(UserWarning, match="500 samples x 2 channel"):
        sig = sb.load_source("mat", str(path), sample_rate_hz=100.0)
    assert sig.data.shape == (500, 2)
    np.testing.assert_array_equal(sig.data, m.T)


def test_mat_without_rate_and_v5_files(tmp_path: Path, rng: np.random.Generator) -> None:
    path = _mat73(tmp_path / "norate.mat", {"x": rng.standard_normal((100, 1))})
    with pytest.raises(ValidationError, match="fs, Fs"):
        sb.load_source("mat", str(path))
    from scipy import io as sio

    x = rng.standard_normal(120)
    v5 = tmp_path / "old.mat"
    sio.savemat(v5, {"x": x.reshape(-1, 1), "fs": 1000.0})
    sig = sb.load_source("mat", str(v5))
    assert sig.data.shape == (120,) and sig.sample_rate_hz == 1000.0 and sig.metadata["mat_version"] == "5"
    np.testing.assert_array_equal(sig.data, x)
    bad = tmp_path / "bad.mat"
    bad.write_bytes(b"not a mat file at all" * 10)
    with pytest.raises((FileFormatError, ValidationError)):
        sb.load_source("mat", str(bad))


def _sigmf(folder: Path, name: str, samples: np.ndarray, datatype: str, **glob: object) -> Path:
    samples.tofile(folder / f"{name}.sigmf-data")
    meta = {"global": {"core:datatype": datatype, "core:version": "1.0.0", **glob},
            "captures": [{"core:sample_start": int(glob.pop("_start", 0)) if "_start" in glob else 0,
                          "core:datetime": "2026-12-01T00:00:00Z", "core:frequency": 915e6}],
            "annotations": []}
    (folder / f"{name}.sigmf-meta").write_text(json.dumps(meta))
    return folder / f"{name}.sigmf-meta"


def test_sigmf_complex_pair_orientation_rate_and_capture(tmp_path: Path, rng: np.random.Generator) -> None:
    iq = (rng.standard_normal(256) + 1j * rng.standard_normal(256)).astype("<c8")
    meta = _sigmf(tmp_path, "rec", iq, "cf32_le", **{"core:sample_rate": 2.0e6})
    for given in (meta, tmp_path / "rec.sigmf-data"):
        sig = sb.load_source("sigmf", str(given))
        assert sig.data.shape == (256, 2) and sig.channel_names == ("I", "Q") and sig.sample_rate_hz == 2.0e6
        np.testing.assert_allclose(sig.data[:, 0] + 1j * sig.data[:, 1], iq.astype(complex), rtol=0, atol=0)
    assert sig.metadata["sigmf_capture"]["core:frequency"] == 915e6


def test_sigmf_big_endian_int16_channels_and_first_capture_start(tmp_path: Path) -> None:
    values = np.arange(40, dtype=">i2").reshape(20, 2)  # 20 samples x 2 interleaved channels
    values.tofile(tmp_path / "two.sigmf-data")
    meta = {"global": {"core:datatype": "ri16_be", "core:sample_rate": 100, "core:num_channels": 2},
            "captures": [{"core:sample_start": 5}]}
    (tmp_path / "two.sigmf-meta").write_text(json.dumps(meta))
    sig = sb.load_source("sigmf", str(tmp_path / "two.sigmf-meta"))
    assert sig.data.shape == (15, 2) and sig.t0_s == pytest.approx(0.05)
    np.testing.assert_array_equal(sig.data, values[5:].astype(float))
    meta["global"]["core:datatype"] = "ci12_le"
    (tmp_path / "two.sigmf-meta").write_text(json.dumps(meta))
    with pytest.raises(FileFormatError, match="unsupported core:datatype"):
        sb.load_source("sigmf", str(tmp_path / "two.sigmf-meta"))
    (tmp_path / "two.sigmf-data").write_bytes(b"\x00" * 7)
    meta["global"]["core:datatype"] = "ri16_be"
    (tmp_path / "two.sigmf-meta").write_text(json.dumps(meta))
    with pytest.raises(FileFormatError, match="whole number"):
        sb.load_source("sigmf", str(tmp_path / "two.sigmf-meta"))


def test_import_command_takes_mat_and_sigmf(tmp_path: Path, rng: np.random.Generator) -> None:
    mat = _mat73(tmp_path / "rec.mat", {"x": rng.standard_normal((200, 1)), "fs": np.array([[50.0]])})
    iq = (rng.standard_normal(64) + 1j * rng.standard_normal(64)).astype("<c8")
    meta = _sigmf(tmp_path, "iq", iq, "cf32_le", **{"core:sample_rate": 1000.0})
    runner = CliRunner()
    for src, shape in ((mat, (200,)), (meta, (64, 2))):
        out = tmp_path / f"{src.stem}.h5"
        res = runner.invoke(app, ["import", str(src), "-o", str(out)])
        assert res.exit_code == 0, res.output
        assert sb.load_signal(out).data.shape == shape


@pytest.mark.parametrize(("stored", "expected"), [((1, 300), (300, 1)), ((3, 300), (300, 3))])
def test_foreign_hdf5_wide_dataset_is_oriented_as_samples_with_a_warning(tmp_path: Path, rng: np.random.Generator,
                                                                       stored: tuple[int, int],
                                                                       expected: tuple[int, ...]) -> None:
    arr = rng.standard_normal(stored)
    path = tmp_path / "other.h5"
    with h5py.File(path, "w") as f:
        f["rec/x"] = arr
        f["rec/x"].attrs["sample_rate"] = 10.0
    with pytest.warns(UserWarning, match="channels_first=false"):
        sig = sb.load_source("hdf5", str(path), dataset="/rec/x")
    assert sig.data.shape == expected
    np.testing.assert_array_equal(sig.data.reshape(300, -1), arr.T)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        kept = sb.load_source("hdf5", str(path), dataset="/rec/x", channels_first=False)
    assert kept.data.shape[0] == stored[0]  # asked for: kept as stored, no warning
    from sigbench.datasets.stream_import import stream_import

    with pytest.warns(UserWarning):
        out = stream_import("hdf5", str(path), tmp_path / "s.h5", dataset="/rec/x", chunk_samples=64)
    np.testing.assert_array_equal(sb.load_signal(out).data, sig.data)


def test_xarray_sees_time_and_channel_coordinates(tmp_path: Path, rng: np.random.Generator) -> None:
    xr = pytest.importorskip("xarray")
    pytest.importorskip("h5netcdf")
    data = rng.standard_normal((1000, 2))
    sig = sb.Signal(data, sample_rate_hz=250.0, t0_s=2.0, channel_names=("left", "right"), clean=data * 0.5,
                    name="rec")
    path = sb.save_signal(sig, tmp_path / "s.h5")
    with xr.open_dataset(path, engine="h5netcdf", group="signals/rec") as ds:
        assert ds["data"].dims == ("time", "channel") and ds["clean"].dims == ("time", "channel")
        np.testing.assert_allclose(ds["time"].values, 2.0 + np.arange(1000) / 250.0)
        assert ds["time"].attrs["units"] == "s"
        assert list(ds["channel"].values) == ["left", "right"]
        np.testing.assert_array_equal(ds["data"].values, data)
        assert float(ds.attrs["sample_rate_hz"]) == 250.0
    back = sb.load_signal(path)  # sigbench's own reader is unaffected
    np.testing.assert_array_equal(back.data, data) and back.channel_names == ("left", "right")
    gen = sb.stream_generate("sines", tmp_path / "g.h5", n=5000, seed=0)
    with xr.open_dataset(gen, engine="h5netcdf", group="signals/sines") as ds:
        assert ds["data"].dims == ("time",) and ds["time"].size == 5000
        assert float(ds["time"][1] - ds["time"][0]) == pytest.approx(1.0 / sb.load_signal(gen).sample_rate_hz)
