"""Streamed import of long recordings: the file written equals the in-memory import's, memory stays bounded."""

from __future__ import annotations

import json
import struct
import tracemalloc
import warnings
from pathlib import Path

import h5py
import numpy as np
import pytest
from scipy.io import wavfile
from typer.testing import CliRunner

import sigbench as sb
from sigbench.cli import ExitCode, app
from sigbench.datasets import stream_import as stream_import_module
from sigbench.datasets.stream_import import estimate_import_bytes, stream_import
from sigbench.errors import FileFormatError, UnsafeFileError, ValidationError

N = 1009  # prime: no chunk size below divides it
CHUNKS = (1, 7, 1000, 10 * N)


def _read(path: Path) -> dict[str, tuple[dict, np.ndarray]]:
    """Every signal of a sigbench file: its attributes (metadata parsed) and its data (dtype kept)."""
    out = {}
    with h5py.File(path, "r") as f:
        for name, sg in f["signals"].items():
            attrs = {key: sg.attrs[key] for key in sg.attrs}
            attrs["metadata"] = json.loads(attrs["metadata"])
            attrs["channel_names"] = json.loads(attrs["channel_names"])
            assert [k for k in sg if k not in ("time", "channel")] == ["data"]  # + the dimension scales
            out[name] = (attrs, sg["data"][()])
    return out


def _assert_same_file(ref: Path, out: Path) -> None:
    a, b = _read(ref), _read(out)
    assert a.keys() == b.keys()
    for name in a:
        (attrs_a, data_a), (attrs_b, data_b) = a[name], b[name]
        assert data_a.dtype == data_b.dtype == np.float64
        assert data_a.shape == data_b.shape
        np.testing.assert_array_equal(data_a, data_b)
        assert attrs_a.keys() == attrs_b.keys()
        for key in attrs_a:
            assert type(attrs_a[key]) is type(attrs_b[key]), key
            assert attrs_a[key] == attrs_b[key], key


def _in_memory(fmt: str, src: Path, out: Path, **params) -> Path:
    sig = sb.load_source(fmt, str(src), **params)
    return sb.save_signal(sig.with_(name=src.stem), out)


def _check(fmt: str, src: Path, tmp_path: Path, chunk: int, **params) -> None:
    ref = _in_memory(fmt, src, tmp_path / "ref.h5", **params)
    out = stream_import(fmt, str(src), tmp_path / "out.h5", chunk_samples=chunk, **params)
    assert out == tmp_path / "out.h5"
    _assert_same_file(ref, out)


def _errors(fmt: str, src: Path, out: Path, **params) -> tuple[BaseException, BaseException]:
    with pytest.raises(Exception) as in_memory:  # any error: the streamed one must match it
        sb.load_source(fmt, str(src), **params)
    with pytest.raises(type(in_memory.value)) as streamed:
        stream_import(fmt, str(src), out, chunk_samples=7, **params)
    return in_memory.value, streamed.value


# -- equal to the in-memory import -------------------------------------------------------------------
@pytest.mark.parametrize("chunk", CHUNKS)
def test_wav_int16_stereo(host, tmp_path, rng, chunk):
    src = tmp_path / "stereo.wav"
    wavfile.write(src, 8000, (rng.standard_normal((N, 2)) * 8000).astype(np.int16))
    _check("wav", src, tmp_path, chunk)
    _check("wav", src, tmp_path, chunk, channel=1)  # one channel kept, named ch1
    assert _read(tmp_path / "out.h5")["stereo"][0]["channel_names"] == ["ch1"]
    assert _read(tmp_path / "out.h5")["stereo"][0]["metadata"]["wav_dtype"] == "int16"


@pytest.mark.parametrize("chunk", CHUNKS)
def test_wav_float32_mono(host, tmp_path, rng, chunk):
    src = tmp_path / "mono.wav"
    wavfile.write(src, 44100, rng.uniform(-1, 1, N).astype(np.float32))
    _check("wav", src, tmp_path, chunk)
    _check("wav", src, tmp_path, chunk, channel=0)


@pytest.mark.parametrize("dtype", [np.uint8, np.int32, np.float64])
def test_wav_other_encodings(host, tmp_path, rng, dtype):
    src = tmp_path / "enc.wav"
    data = rng.integers(0, 255, (N, 3)) if dtype == np.uint8 else rng.standard_normal((N, 3)) * 2**20
    wavfile.write(src, 16000, data.astype(dtype))
    _check("wav", src, tmp_path, 7, channel=2)


@pytest.mark.parametrize("chunk", CHUNKS)
def test_npy_2d_and_channels_first(host, tmp_path, rng, chunk):
    arr = (rng.standard_normal((N, 3)) * 100).astype(np.float32)
    src = tmp_path / "rec.npy"
    np.save(src, arr)
    _check("npy", src, tmp_path, chunk, sample_rate_hz=250.0)
    np.save(src, arr.T)  # stored (channels, samples)
    _check("npy", src, tmp_path, chunk, sample_rate_hz=250.0, channels_first=True)
    np.testing.assert_array_equal(_read(tmp_path / "out.h5")["rec"][1], arr.astype(np.float64))
    np.save(src, np.asfortranarray(arr.T.astype(">i2")))  # big-endian integers, Fortran order
    _check("npy", src, tmp_path, chunk, sample_rate_hz=250.0, channels_first=True)


@pytest.mark.parametrize("chunk", CHUNKS)
def test_foreign_hdf5_dataset(host, tmp_path, rng, chunk):
    arr = rng.standard_normal((N, 2))
    src = tmp_path / "lab.h5"
    with h5py.File(src, "w") as f:
        f.create_dataset("rec/emg", data=arr.astype(">f4"), chunks=(64, 2), compression="gzip")
        f["rec/emg"].attrs["sampling_rate"] = 2000.0
        f["rec/counts"] = (arr[:, 0] * 100).astype(np.int16)
        f["rec/by_channel"] = arr.T
    _check("hdf5", src, tmp_path, chunk, dataset="/rec/emg")
    _check("hdf5", src, tmp_path, chunk, dataset="rec/counts", sample_rate_hz=10.0)
    _check("hdf5", src, tmp_path, chunk, dataset="rec/by_channel", sample_rate_hz=10.0, channels_first=True)


def test_default_name_append_and_replace(host, tmp_path, rng):
    src = tmp_path / "x.npy"
    np.save(src, rng.standard_normal(N))
    out = tmp_path / "out.h5"
    sb.save_signal(sb.generate("sines", n=100), out)
    stream_import("npy", src, out, append=True, sample_rate_hz=5.0)
    assert sorted(sb.list_signals(out)) == ["sines", "x"]  # the stem, next to the signal already there
    stream_import("npy", src, out, name="x", append=True, sample_rate_hz=6.0)  # same name: replaced
    assert sorted(sb.list_signals(out)) == ["sines", "x"] and sb.load_signal(out, "x").sample_rate_hz == 6.0
    stream_import("npy", src, out, name="only", sample_rate_hz=5.0)  # without append: a new file
    assert sb.list_signals(out) == ["only"]


# -- non-finite samples --------------------------------------------------------------------------------
def _nan_sources(tmp_path: Path, rng: np.random.Generator) -> list[tuple[str, Path, dict]]:
    wav = rng.uniform(-1, 1, N).astype(np.float32)
    wav[[500, 501, 900]] = [np.nan, np.inf, np.nan]
    npy = rng.standard_normal((N, 2))
    npy[[10, 700], [1, 0]] = np.nan
    wavfile.write(tmp_path / "nan.wav", 8000, wav)
    np.save(tmp_path / "nan.npy", npy)
    return [("wav", tmp_path / "nan.wav", {}), ("npy", tmp_path / "nan.npy", {"sample_rate_hz": 1.0})]


def test_nonfinite_samples_are_refused_and_nothing_is_written(host, tmp_path, rng):
    out = tmp_path / "out" / "x.h5"
    out.parent.mkdir()
    for fmt, src, params in _nan_sources(tmp_path, rng):
        in_memory, streamed = _errors(fmt, src, out, **params)
        assert isinstance(streamed, ValidationError) and str(streamed) == str(in_memory)
        assert "first at sample" in str(streamed)
        assert list(out.parent.iterdir()) == []  # no output, no temp file
    sb.save_signal(sb.generate("sines", n=50), out)
    before = out.read_bytes()
    for fmt, src, params in _nan_sources(tmp_path, rng):
        with pytest.raises(ValidationError, match=r"first at sample (500|10)\b"):
            stream_import(fmt, src, out, append=True, chunk_samples=64, **params)
        assert out.read_bytes() == before  # the previous output is untouched
    assert list(out.parent.iterdir()) == [out]


@pytest.mark.parametrize("chunk", [1, 2, 7, 64, 10 * N])
def test_interpolated_samples_equal_the_in_memory_repair(host, tmp_path, rng, chunk):
    arr = rng.standard_normal((N, 3))
    arr[:40, 0] = np.nan  # leading run, across chunk edges
    arr[100:400, 1] = np.inf  # a long run inside
    arr[N - 30 :, 2] = np.nan  # trailing run
    arr[rng.random(N) < 0.2, 0] = np.nan  # scattered
    src = tmp_path / "gaps.npy"
    np.save(src, arr)
    _check("npy", src, tmp_path, chunk, sample_rate_hz=1.0, nonfinite="interpolate")
    attrs, data = _read(tmp_path / "out.h5")["gaps"]
    assert np.isfinite(data).all()
    assert attrs["metadata"]["repaired_nonfinite"] == int((~np.isfinite(arr)).sum())
    for fmt, nan_src, params in _nan_sources(tmp_path, rng):
        _check(fmt, nan_src, tmp_path, chunk, nonfinite="interpolate", **params)


def test_interpolation_of_a_channel_without_finite_samples_is_refused(host, tmp_path):
    arr = np.ones((N, 2))
    arr[:, 1] = np.nan
    src = tmp_path / "dead.npy"
    np.save(src, arr)
    in_memory, streamed = _errors("npy", src, tmp_path / "o.h5", sample_rate_hz=1.0, nonfinite="interpolate")
    assert str(streamed) == str(in_memory) and "channel 1" in str(streamed)
    assert not (tmp_path / "o.h5").exists()


# -- the importer's checks -----------------------------------------------------------------------------
def test_the_importers_errors_are_the_same(host, tmp_path):
    npy = tmp_path / "x.npy"
    np.save(npy, np.zeros((N, 2)))
    cube = tmp_path / "cube.npy"
    np.save(cube, np.zeros((2, 3, 4)))
    cplx = tmp_path / "c.npy"
    np.save(cplx, np.zeros(4, dtype=complex))
    objects = tmp_path / "o.npy"
    np.save(objects, np.empty(2, dtype=object), allow_pickle=True)
    npz = tmp_path / "a.npz"
    np.savez(npz, x=np.zeros(3))
    wav = tmp_path / "x.wav"
    wavfile.write(wav, 8000, np.zeros((N, 2), dtype=np.int16))
    text = tmp_path / "text.wav"
    text.write_text("not audio at all")
    h5 = tmp_path / "o.h5"
    with h5py.File(h5, "w") as f:
        f["real/x"] = np.zeros(10)
        f["soft"] = h5py.SoftLink("/real/x")
        f["text"] = np.array([b"a", b"b"])
        f.create_dataset("bomb", shape=(2**30,), dtype="f8", chunks=(2**16,), compression="gzip")
    cases = [
        ("npy", npy, {}),  # no sample rate
        ("npy", npy, {"sample_rate_hz": 1.0, "channels_first": "yes"}),
        ("npy", npy, {"sample_rate_hz": 1.0, "bogus": 1}),
        ("npy", cube, {"sample_rate_hz": 1.0}),
        ("npy", cplx, {"sample_rate_hz": 1.0}),
        ("npy", objects, {"sample_rate_hz": 1.0}),
        ("npy", npz, {"sample_rate_hz": 1.0}),
        ("npy", tmp_path / "missing.npy", {"sample_rate_hz": 1.0}),
        ("wav", wav, {"channel": 2}),
        ("wav", wav, {"nonfinite": "drop"}),
        ("wav", text, {}),
        ("hdf5", h5, {"sample_rate_hz": 1.0}),
        ("hdf5", h5, {"dataset": "real/y", "sample_rate_hz": 1.0}),
        ("hdf5", h5, {"dataset": "real/x"}),
        ("hdf5", h5, {"dataset": "soft", "sample_rate_hz": 1.0}),
        ("hdf5", h5, {"dataset": "text", "sample_rate_hz": 1.0}),
        ("hdf5", h5, {"dataset": "bomb", "sample_rate_hz": 1.0}),
    ]
    for fmt, src, params in cases:
        in_memory, streamed = _errors(fmt, src, tmp_path / "out.h5", **params)
        assert type(streamed) is type(in_memory) and str(streamed) == str(in_memory), (fmt, src, params)
    assert not (tmp_path / "out.h5").exists()
    with pytest.raises(UnsafeFileError, match="bomb"):
        stream_import("hdf5", h5, tmp_path / "out.h5", dataset="bomb", sample_rate_hz=1.0)
    with pytest.raises(ValidationError, match="chunk_samples"):
        stream_import("npy", npy, tmp_path / "out.h5", sample_rate_hz=1.0, chunk_samples=0)
    with pytest.raises(ValidationError, match="signal name"):
        stream_import("npy", npy, tmp_path / "out.h5", sample_rate_hz=1.0, name="a/b")
    with pytest.raises(ValidationError, match="format that streams"):
        stream_import("csv", npy, tmp_path / "out.h5")


def test_a_dataset_over_the_memory_budget_streams(host, tmp_path, monkeypatch, rng):
    src = tmp_path / "big.h5"
    with h5py.File(src, "w") as f:
        f["x"] = rng.standard_normal(20_000)
    ref = _in_memory("hdf5", src, tmp_path / "ref.h5", dataset="x", sample_rate_hz=1.0)
    monkeypatch.setenv("SIGBENCH_MEMORY_BUDGET", "10K")
    with pytest.raises(FileFormatError, match="memory budget"):
        sb.load_source("hdf5", str(src), dataset="x", sample_rate_hz=1.0)
    _assert_same_file(ref, stream_import("hdf5", src, tmp_path / "out.h5", dataset="x", sample_rate_hz=1.0))


def _wav24(path: Path, samples: np.ndarray, rate: int = 8000) -> None:
    """A 24-bit PCM WAV (scipy cannot write one)."""
    channels = samples.shape[1]
    raw = b"".join(int(v).to_bytes(3, "little", signed=True) for v in samples.ravel())
    fmt = struct.pack("<HHIIHH", 1, channels, rate, rate * 3 * channels, 3 * channels, 24)
    body = b"WAVE" + b"fmt " + struct.pack("<I", 16) + fmt + b"data" + struct.pack("<I", len(raw)) + raw
    path.write_bytes(b"RIFF" + struct.pack("<I", len(body)) + body)


def test_24_bit_wav_cannot_stream(host, tmp_path, rng):
    src = tmp_path / "deep.wav"
    _wav24(src, rng.integers(-(2**23), 2**23, (100, 2)))
    assert sb.load_source("wav", str(src)).data.shape == (100, 2)  # fine in memory
    with pytest.raises(FileFormatError, match=r"cannot stream this WAV file \(3-byte .*24-bit.*without streaming"):
        stream_import("wav", src, tmp_path / "out.h5")
    assert estimate_import_bytes("wav", src) >= 100 * 2 * 8


def test_a_wav_cut_short_imports_what_is_there(host, tmp_path, rng):
    good = tmp_path / "good.wav"
    wavfile.write(good, 8000, (rng.standard_normal((N, 2)) * 1000).astype(np.int16))
    cut = tmp_path / "cut.wav"
    cut.write_bytes(good.read_bytes()[:-400])  # whole frames missing: the data chunk declares more
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _check("wav", cut, tmp_path, 7)
        assert sb.load_signal(tmp_path / "out.h5").n_samples == N - 100
        cut.write_bytes(good.read_bytes()[:-401])  # half a frame: the in-memory import refuses it too
        in_memory, streamed = _errors("wav", cut, tmp_path / "x.h5")
    assert str(streamed) == str(in_memory)


# -- memory ---------------------------------------------------------------------------------------------
def _peak_bytes(fn) -> int:
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("fmt", ["wav", "npy", "hdf5"])
def test_memory_does_not_grow_with_the_file(host, tmp_path, rng, fmt):
    chunk = 4096
    peaks = []
    for n in (100_000, 400_000):
        data = rng.standard_normal((n, 2)).astype(np.float32)
        params: dict = {}
        if fmt == "wav":
            src = tmp_path / f"r{n}.wav"
            wavfile.write(src, 8000, data)
        elif fmt == "npy":
            src = tmp_path / f"r{n}.npy"
            np.save(src, data.T)
            params = {"sample_rate_hz": 1.0, "channels_first": True}
        else:
            src = tmp_path / f"r{n}.h5"
            with h5py.File(src, "w") as f:
                f.create_dataset("x", data=data, chunks=(4096, 2))
            params = {"dataset": "x", "sample_rate_hz": 1.0}
        del data
        peaks.append(_peak_bytes(lambda s=src, p=params: stream_import(fmt, s, tmp_path / "o.h5", chunk_samples=chunk,
                                                                          **p)))
        assert sb.load_signal(tmp_path / "o.h5").n_samples == n
    small, large = peaks
    assert large < 1.5 * small, peaks
    assert large < 400_000 * 2 * 8 / 10, peaks  # a tenth of the file's float64 samples (6.4 MB)


# -- command line ---------------------------------------------------------------------------------------
def test_cli_import_stream(host, tmp_path, rng):
    src = tmp_path / "rec.npy"
    np.save(src, rng.standard_normal((N, 2)).astype(np.float32))
    runner = CliRunner()
    res = runner.invoke(app, ["import", str(src), "-o", str(tmp_path / "s.h5"), "--sample-rate", "100", "--stream",
                              "--json"])
    assert res.exit_code == ExitCode.OK, res.output
    assert json.loads(res.stdout)["signals"][0]["samples"] == N
    res = runner.invoke(app, ["import", str(src), "-o", str(tmp_path / "m.h5"), "--sample-rate", "100"])
    assert res.exit_code == ExitCode.OK, res.output
    _assert_same_file(tmp_path / "m.h5", tmp_path / "s.h5")
    # stdin and stdout still work (through temporary files: the metadata names the copy of stdin)
    for flags, piped in ((["--stream"], "ps.h5"), ([], "pm.h5")):
        res = runner.invoke(app, ["import", "-", "--format", "npy", "--sample-rate", "100", *flags, "-o", "-"],
                            input=src.read_bytes())
        assert res.exit_code == ExitCode.OK, res.output
        (tmp_path / piped).write_bytes(res.stdout_bytes)
    [(attrs_s, data_s)] = _read(tmp_path / "ps.h5").values()
    [(attrs_m, data_m)] = _read(tmp_path / "pm.h5").values()
    np.testing.assert_array_equal(data_s, data_m)
    assert sb.list_signals(tmp_path / "ps.h5") == ["stdin"] and attrs_s["metadata"]["file"] == "stdin.npy"
    for attrs in (attrs_s, attrs_m):
        del attrs["metadata"]["params"]["path"]  # a fresh temporary folder each time
    assert attrs_s == attrs_m


def test_cli_stream_refuses_csv(host, tmp_path):
    src = tmp_path / "log.csv"
    src.write_text("x\n1\n2\n3\n")
    res = CliRunner().invoke(app, ["import", str(src), "-o", str(tmp_path / "o.h5"), "--sample-rate", "1",
                                   "--stream"])
    assert res.exit_code == ExitCode.USAGE, res.output
    assert "--stream" in res.output and "csv" in res.output
    assert not (tmp_path / "o.h5").exists()
    res = CliRunner().invoke(app, ["import", str(src), "-o", str(tmp_path / "o.h5"), "--sample-rate", "1"])
    assert res.exit_code == ExitCode.OK, res.output


def test_cli_streams_automatically_over_the_memory_budget(host, tmp_path, rng, monkeypatch):
    src = tmp_path / "long.wav"
    wavfile.write(src, 8000, (rng.standard_normal((N, 2)) * 1000).astype(np.int16))  # 16 KB of float64
    calls = []
    real = stream_import_module.stream_import

    def spy(*args, **kwargs):
        calls.append(kwargs.get("name"))
        return real(*args, **kwargs)

    monkeypatch.setattr(stream_import_module, "stream_import", spy)
    runner = CliRunner()
    res = runner.invoke(app, ["import", str(src), "-o", str(tmp_path / "m.h5")])
    assert res.exit_code == ExitCode.OK and calls == [], res.output  # within the budget: in memory
    monkeypatch.setenv("SIGBENCH_MEMORY_BUDGET", "10K")
    res = runner.invoke(app, ["import", str(src), "-o", str(tmp_path / "s.h5"), "--param", "channel=1"])
    assert res.exit_code == ExitCode.OK, res.output
    assert calls == ["long"]
    monkeypatch.delenv("SIGBENCH_MEMORY_BUDGET")
    runner.invoke(app, ["import", str(src), "-o", str(tmp_path / "m.h5"), "--param", "channel=1"])
    _assert_same_file(tmp_path / "m.h5", tmp_path / "s.h5")
    assert estimate_import_bytes("wav", src) == N * 2 * 8
    assert estimate_import_bytes("csv", src) is None
