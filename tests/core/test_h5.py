"""HDF5 format v1: bit-exact round trips, several signals per file, lazy reads, reader-side validation
(RELIABILITY 4, 5) and the per-signal errors of ``file_info``."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import h5py
import numpy as np
import pytest

import sigbench as sb
from sigbench import FileFormatError, Signal, ValidationError
from sigbench.h5 import FORMAT_VERSION, open_signal

from .helpers import make_signal, write_raw


def _assert_same(a: Signal, b: Signal) -> None:
    assert a.data.dtype == b.data.dtype and a.data.shape == b.data.shape
    assert a.data.tobytes() == b.data.tobytes()  # bit-exact
    assert (a.clean is None) == (b.clean is None)
    if a.clean is not None and b.clean is not None:
        assert a.clean.tobytes() == b.clean.tobytes() and a.clean.dtype == b.clean.dtype
    assert sorted(a.aux) == sorted(b.aux)
    for k in a.aux:
        assert a.aux[k].tobytes() == b.aux[k].tobytes()
    assert (a.sample_rate_hz, a.t0_s, a.units, a.channel_names, a.name) == (
        b.sample_rate_hz, b.t0_s, b.units, b.channel_names, b.name)
    assert a.metadata == b.metadata


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("channels", [None, 3])
@pytest.mark.parametrize("extras", ["plain", "clean+aux"])
def test_round_trip_bit_exact(tmp_path: Path, rng: np.random.Generator, dtype: Any, channels: int | None,
                              extras: str) -> None:
    sig = make_signal(rng, n=1000, channels=channels, dtype=dtype, clean=extras != "plain",
                      aux=extras != "plain")
    if channels:
        sig = sig.with_(channel_names=("x", "y", "z"))
    path = sb.save_signal(sig, tmp_path / "rt.h5")
    _assert_same(sig, sb.load_signal(path))


def test_round_trip_extreme_values(tmp_path: Path) -> None:
    x = np.array([0.0, -0.0, 5e-324, np.finfo(np.float64).max, -np.finfo(np.float64).tiny, 1 / 3])
    sig = Signal(x, sample_rate_hz=1e-3, t0_s=-12.5, units="µV", metadata={"note": "ünïcode ✓"})
    _assert_same(sig, sb.load_signal(sb.save_signal(sig, tmp_path / "x.h5")))


def test_root_attributes(tmp_path: Path, signal: Signal) -> None:
    path = sb.save_signal(signal, tmp_path / "a.h5")
    with h5py.File(path, "r") as f:
        assert int(f.attrs["sigbench_format"]) == FORMAT_VERSION == 1
        assert str(f.attrs["sigbench_version"]) == sb.__version__
        assert "T" in str(f.attrs["created"])
        g = f["signals/signal"]
        assert g["data"].chunks is not None
        assert json.loads(g.attrs["channel_names"]) == ["ch0"]
        assert json.loads(g.attrs["metadata"])["seed"] == 3


def test_several_signals_per_file(tmp_path: Path, rng: np.random.Generator) -> None:
    a, b = make_signal(rng, name="a"), make_signal(rng, n=50, channels=2, name="b")
    path = sb.save_signal([a, b], tmp_path / "ab.h5")
    assert sb.list_signals(path) == ["a", "b"]
    _assert_same(a, sb.load_signal(path, "a"))
    _assert_same(b, sb.load_signal(path, "b"))
    with pytest.raises(ValidationError, match="holds several signals: a, b"):
        sb.load_signal(path)
    with pytest.raises(ValidationError, match="received: signal='c'"):
        sb.load_signal(path, "c")
    c = make_signal(rng, n=10, name="c")
    sb.save_signal(c, path, append=True)
    assert sb.list_signals(path) == ["a", "b", "c"]
    _assert_same(a, sb.load_signal(path, "a"))
    sb.save_signal(c, path)  # without append the file is replaced
    assert sb.list_signals(path) == ["c"]


def test_open_signal_reads_lazily_in_chunks(tmp_path: Path, rng: np.random.Generator) -> None:
    sig = make_signal(rng, n=10_000)
    path = sb.save_signal(sig, tmp_path / "big.h5")
    with open_signal(path) as lazy:
        assert lazy.n_samples == 10_000 and lazy.has_clean
        assert np.array_equal(lazy.read(100, 200), sig.data[100:200])
        blocks = list(lazy.chunks(3000))
        assert [len(b) for b in blocks] == [3000, 3000, 3000, 1000]
        assert np.array_equal(np.concatenate(blocks), sig.data)
        assert np.array_equal(lazy.read(0, 5, which="clean"), sig.clean[:5])


def test_memory_budget_refuses_whole_reads(tmp_path: Path, rng: np.random.Generator) -> None:
    path = sb.save_signal(make_signal(rng, n=10_000), tmp_path / "b.h5")
    with pytest.raises(FileFormatError, match=r"over the memory budget.*open_signal"):
        sb.load_signal(path, budget_bytes=1000)


# -- reader-side validation (RELIABILITY 4, 5, 6) ----------------------------------------------------
def test_not_a_sigbench_file(tmp_path: Path) -> None:
    path = tmp_path / "foreign.h5"
    with h5py.File(path, "w") as f:
        f["x"] = np.arange(3.0)
    with pytest.raises(FileFormatError, match=r"not a sigbench file.*sigbench import"):
        sb.load_signal(path)


@pytest.mark.parametrize(("fmt", "match"), [(2, "uses sigbench file format 2.*reads format 1"),
                                            (0, "format 0"), ("one", "expected sigbench_format to be an integer")])
def test_wrong_format_version(tmp_path: Path, fmt: Any, match: str) -> None:
    path = write_raw(tmp_path / "v.h5", data=np.zeros(4), fmt=fmt)
    with pytest.raises(FileFormatError, match=match):
        sb.load_signal(path)


def test_no_signals(tmp_path: Path) -> None:
    path = tmp_path / "empty.h5"
    with h5py.File(path, "w") as f:
        f.attrs["sigbench_format"] = 1
    with pytest.raises(FileFormatError, match="holds no signals"):
        sb.load_signal(path)


@pytest.mark.parametrize(("data", "match"), [
    (np.array([b"ab", b"cd"]), r"expected a real numeric dtype; received: dtype=\|S2"),  # bytes strings
    (np.array(["a", "b"], dtype=h5py.string_dtype()), "expected a real numeric dtype; received: dtype=object"),
    (np.zeros(3, dtype=[("a", "f8"), ("b", "i4")]), "expected a real numeric dtype"),  # compound
    (np.zeros(3, dtype=complex), "expected a real numeric dtype"),  # complex (a compound in HDF5)
    (np.zeros((2, 2, 2)), r"received: shape=\(2, 2, 2\)"),  # 3-D
    (np.zeros(0), r"at least one sample; received: shape=\(0,\)"),  # zero samples
    (np.zeros((3, 0)), r"received: shape=\(3, 0\)"),  # zero channels
])
def test_bad_dataset_content(tmp_path: Path, data: np.ndarray, match: str) -> None:
    path = write_raw(tmp_path / "bad.h5", data=data)
    with pytest.raises(FileFormatError, match=match):
        sb.load_signal(path)


def test_clean_shape_mismatch_in_file(tmp_path: Path) -> None:
    path = write_raw(tmp_path / "c.h5", data=np.zeros(4), clean=np.zeros(5))
    with pytest.raises(FileFormatError, match=r"expected clean of shape \(4,\); received: clean.shape=\(5,\)"):
        sb.load_signal(path)


@pytest.mark.parametrize(("rate", "match"), [
    (None, "missing attribute sample_rate_hz"),
    (0.0, "received: 0.0"),
    (-8000.0, "received: -8000.0"),
    (math.nan, "received: nan"),
    (math.inf, "received: inf"),
    ("fast", "received: 'fast'"),
])
def test_bad_sample_rate_in_file(tmp_path: Path, rate: Any, match: str) -> None:
    path = write_raw(tmp_path / "r.h5", data=np.zeros(4), rate=rate)
    with pytest.raises(FileFormatError, match=match) as info:
        sb.load_signal(path)
    assert "sample_rate_hz" in str(info.value)


def test_nan_samples_in_file_are_rejected_with_position(tmp_path: Path) -> None:
    x = np.zeros(10)
    x[4] = np.nan
    path = write_raw(tmp_path / "n.h5", data=x)
    with pytest.raises(FileFormatError, match="1 NaN/inf values, first at sample 4"):
        sb.load_signal(path)
    (entry,) = sb.file_info(path)["signals"]
    assert entry["nonfinite_samples"] == 1  # info still summarises it and counts them


def test_bad_json_attributes(tmp_path: Path) -> None:
    path = write_raw(tmp_path / "j.h5", data=np.zeros(4),
                     extra=lambda f, g: g.attrs.__setitem__("metadata", "{not json"))
    with pytest.raises(FileFormatError, match="bad JSON attribute"):
        sb.load_signal(path)


def test_file_info_reports_errors_per_signal(tmp_path: Path, rng: np.random.Generator) -> None:
    def add_bad(f: h5py.File, g: h5py.Group) -> None:
        bad = f.create_group("signals/bad")
        bad.attrs["sample_rate_hz"] = -1.0
        bad.create_dataset("data", data=np.zeros(4))

    path = write_raw(tmp_path / "i.h5", data=rng.standard_normal(100), name="good", extra=add_bad)
    info = sb.file_info(path)
    sigs = {s["name"]: s for s in info["signals"]}
    assert sigs["good"]["samples"] == 100 and "error" not in sigs["good"]
    assert "sample_rate_hz" in sigs["bad"]["error"] and "-1.0" in sigs["bad"]["error"]
    assert info["runs"] == []
