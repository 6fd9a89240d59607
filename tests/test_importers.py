"""File importers: WAV, CSV/TSV, NPY and foreign HDF5 round-trips, scaling, and bad files."""

from __future__ import annotations

import importlib.util
import json
import pickle

import h5py
import numpy as np
import pytest
from scipy.io import wavfile

import sigbench as sb
from sigbench.datasets.importers import SAMPLES_DIR, sample_path
from sigbench.errors import FileFormatError, UnsafeFileError, ValidationError


def load(name, path, **params):
    return sb.load_source(name, str(path), **params)


def test_loaders_are_registered(host):
    listed = {s["name"]: s for s in sb.list_sources()}
    for name in ("wav", "csv", "npy", "hdf5"):
        assert listed[name]["kind"] == "loader"
    with pytest.raises(ValidationError, match="load_source"):
        sb.generate("wav")


# -- WAV -------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("dtype", "full_scale", "offset"),
    [(np.int16, 2**15, 0), (np.int32, 2**31, 0), (np.uint8, 2**7, 2**7)],
)
def test_wav_integer_pcm_is_scaled_to_unit_range(host, tmp_path, dtype, full_scale, offset):
    info = np.iinfo(dtype)
    pcm = np.array([info.min, offset, info.max, offset + 1, offset - 1], dtype=dtype)
    path = tmp_path / "x.wav"
    wavfile.write(path, 16000, pcm)
    sig = load("wav", path)
    assert sig.sample_rate_hz == 16000.0 and sig.data.shape == (5,)
    np.testing.assert_array_equal(sig.data, (pcm.astype(np.float64) - offset) / full_scale)
    assert sig.data[0] == -1.0 and sig.data[2] < 1.0 and sig.data[1] == 0.0
    assert sig.metadata["source"] == "wav" and sig.metadata["wav_dtype"] == np.dtype(dtype).name


def test_wav_float_and_multichannel_round_trip(host, tmp_path, rng):
    stereo = rng.uniform(-1, 1, size=(300, 3)).astype(np.float32)
    path = tmp_path / "f.wav"
    wavfile.write(path, 44100, stereo)
    sig = load("wav", path)
    assert sig.data.shape == (300, 3) and sig.n_channels == 3
    np.testing.assert_array_equal(sig.data, stereo.astype(np.float64))
    one = load("wav", path, channel=2)
    np.testing.assert_array_equal(one.data, stereo[:, 2].astype(np.float64))
    assert one.channel_names == ("ch2",)
    json.dumps(sig.metadata, allow_nan=False)


def test_wav_bad_files(host, tmp_path):
    # a missing file
    with pytest.raises(FileFormatError, match="no such file"):
        load("wav", tmp_path / "missing.wav")
    # a text file named .wav
    text = tmp_path / "text.wav"
    text.write_text("not audio at all")
    with pytest.raises(FileFormatError, match="not a readable WAV file") as info:
        load("wav", text)
    assert str(text) in str(info.value) and "\n" not in str(info.value)
    # a WAV cut in the middle of its header
    good = tmp_path / "good.wav"
    wavfile.write(good, 8000, np.zeros(100, dtype=np.int16))
    cut = tmp_path / "cut.wav"
    cut.write_bytes(good.read_bytes()[:30])
    with pytest.raises(FileFormatError):
        load("wav", cut)
    # a directory
    with pytest.raises(FileFormatError, match="directory"):
        load("wav", tmp_path)
    # a channel the file does not have
    with pytest.raises(ValidationError, match="channel"):
        load("wav", good, channel=1)
    # a channel index below -1
    with pytest.raises(ValidationError, match="channel"):
        load("wav", good, channel=-2)


def test_wav_with_nan_samples_follows_the_nonfinite_policy(host, tmp_path):
    path = tmp_path / "nan.wav"
    wavfile.write(path, 1000, np.array([0.0, np.nan, 1.0], dtype=np.float32))
    with pytest.raises(ValidationError, match="NaN"):
        load("wav", path)
    np.testing.assert_allclose(load("wav", path, nonfinite="interpolate").data, [0.0, 0.5, 1.0])


# -- CSV / TSV -------------------------------------------------------------------------------------
def write(path, text):
    path.write_text(text, encoding="utf-8")
    return path


def test_csv_columns_by_name_and_index_with_sample_rate(host, tmp_path):
    path = write(tmp_path / "a.csv", "x,y,z\n1,10,100\n2,20,200\n3,30,300\n")
    sig = load("csv", path, sample_rate_hz=50.0)
    assert sig.data.shape == (3, 3) and sig.channel_names == ("x", "y", "z")
    assert sig.sample_rate_hz == 50.0
    np.testing.assert_array_equal(load("csv", path, sample_rate_hz=50.0, column="y").data, [10, 20, 30])
    np.testing.assert_array_equal(load("csv", path, sample_rate_hz=50.0, column="2").data, [100, 200, 300])
    both = load("csv", path, sample_rate_hz=50.0, column="z,x")
    np.testing.assert_array_equal(both.data, [[100, 1], [200, 2], [300, 3]])
    assert both.channel_names == ("z", "x")
    np.testing.assert_array_equal(load("csv", path, sample_rate_hz=50.0, column=1).data, [10, 20, 30])


@pytest.mark.parametrize("delimiter", ["\t", ";", "|"])
def test_csv_delimiter_is_sniffed(host, tmp_path, delimiter):
    rows = ["a{d}b", "0.5{d}-1", "1.5{d}-2", "2.5{d}-3"]
    path = write(tmp_path / "t.tsv", "\n".join(r.format(d=delimiter) for r in rows) + "\n")
    sig = load("csv", path, sample_rate_hz=1.0, column="b")
    np.testing.assert_array_equal(sig.data, [-1, -2, -3])
    assert sig.metadata["params"]["delimiter"] == delimiter


def test_csv_without_header_skip_rows_and_explicit_delimiter(host, tmp_path):
    path = write(tmp_path / "n.txt", "# exported by a logger\n# units: V\n1;2\n3;4\n")
    sig = load("csv", path, sample_rate_hz=2.0, skip_rows=2, delimiter=";", column="1")
    np.testing.assert_array_equal(sig.data, [2, 4])
    assert sig.channel_names == ("col1",)


def test_csv_time_column_sets_rate_and_start(host, tmp_path):
    t = 0.5 + np.arange(400) / 250.0
    lines = ["time,v"] + [f"{ti:.6f},{np.sin(ti):.6f}" for ti in t]
    path = write(tmp_path / "time.csv", "\n".join(lines))
    sig = load("csv", path, time_column="time")
    assert sig.sample_rate_hz == pytest.approx(250.0, rel=1e-9)
    assert sig.t0_s == pytest.approx(0.5)
    assert sig.data.shape == (400,) and sig.channel_names == ("v",)
    np.testing.assert_allclose(sig.data, np.sin(t), atol=1e-6)


def test_csv_bad_inputs(host, tmp_path):
    good = write(tmp_path / "g.csv", "a,b\n1,2\n3,4\n")
    # no sample rate and no time column
    with pytest.raises(ValidationError, match="sample_rate_hz"):
        load("csv", good)
    # a negative sample rate
    with pytest.raises(ValidationError, match="sample_rate_hz > 0"):
        load("csv", good, sample_rate_hz=-1.0)
    # both a sample rate and a time column
    with pytest.raises(ValidationError, match="not both"):
        load("csv", good, sample_rate_hz=1.0, time_column="a")
    # an unknown column name: the message lists the real ones
    with pytest.raises(ValidationError, match="names: a, b"):
        load("csv", good, sample_rate_hz=1.0, column="c")
    # a column index out of range
    with pytest.raises(ValidationError, match="column index"):
        load("csv", good, sample_rate_hz=1.0, column="5")
    # negative skip_rows
    with pytest.raises(ValidationError, match="skip_rows"):
        load("csv", good, sample_rate_hz=1.0, skip_rows=-1)
    # a two-character delimiter
    with pytest.raises(ValidationError, match="delimiter"):
        load("csv", good, sample_rate_hz=1.0, delimiter="::")
    # a field that is not a number: the message gives line and column
    bad = write(tmp_path / "bad.csv", "a,b\n1,2\n3,oops\n")
    with pytest.raises(FileFormatError, match=r"line 3, column 'b': not a number"):
        load("csv", bad, sample_rate_hz=1.0)
    # rows of different lengths
    ragged = write(tmp_path / "ragged.csv", "1,2\n3\n")
    with pytest.raises(FileFormatError, match="line 2 has 1 fields"):
        load("csv", ragged, sample_rate_hz=1.0)
    # only a header
    header = write(tmp_path / "header.csv", "a,b\n")
    with pytest.raises(FileFormatError, match="no data rows"):
        load("csv", header, sample_rate_hz=1.0)
    # an empty file
    empty = write(tmp_path / "empty.csv", "")
    with pytest.raises(FileFormatError, match="no data rows"):
        load("csv", empty, sample_rate_hz=1.0)
    # a binary file
    binary = tmp_path / "bin.csv"
    binary.write_bytes(b"\x00\x01\xff\xfe" * 10)
    with pytest.raises(FileFormatError, match="not a text"):
        load("csv", binary, sample_rate_hz=1.0)
    # a missing file
    with pytest.raises(FileFormatError, match="no such file"):
        load("csv", tmp_path / "nope.csv", sample_rate_hz=1.0)


def test_csv_time_column_must_be_uniform_and_increasing(host, tmp_path):
    # a gap: one step twice as long
    gap = write(tmp_path / "gap.csv", "t,v\n0,1\n1,2\n3,3\n4,4\n")
    with pytest.raises(ValidationError, match="uniformly spaced"):
        load("csv", gap, time_column="t")
    # time going backwards
    back = write(tmp_path / "back.csv", "t,v\n0,1\n1,2\n0.5,3\n")
    with pytest.raises(ValidationError, match="strictly increasing"):
        load("csv", back, time_column="t")
    # a single row cannot give a rate
    single = write(tmp_path / "one.csv", "t,v\n0,1\n")
    with pytest.raises(ValidationError, match="at least 2 rows"):
        load("csv", single, time_column="t")
    # jitter within 0.1 % of the step is accepted
    jitter = write(tmp_path / "jit.csv", "t,v\n0,1\n0.10005,2\n0.2,3\n0.3,4\n")
    assert load("csv", jitter, time_column="t").sample_rate_hz == pytest.approx(10.0)


def test_csv_missing_values_follow_the_nonfinite_policy(host, tmp_path):
    path = write(tmp_path / "gaps.csv", "v\n1\n\n3\n")  # blank lines are skipped, not missing values
    np.testing.assert_array_equal(load("csv", path, sample_rate_hz=1.0).data, [1, 3])
    holes = write(tmp_path / "holes.csv", "a,b\n1,1\n,2\n3,3\n")
    with pytest.raises(ValidationError, match="NaN"):
        load("csv", holes, sample_rate_hz=1.0)
    np.testing.assert_array_equal(load("csv", holes, sample_rate_hz=1.0, nonfinite="interpolate").data[:, 0], [1, 2, 3])


# -- NPY -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int16])
def test_npy_round_trip(host, tmp_path, rng, dtype):
    arr = (rng.standard_normal((200, 2)) * 100).astype(dtype)
    path = tmp_path / "x.npy"
    np.save(path, arr)
    sig = load("npy", path, sample_rate_hz=125.0)
    assert sig.sample_rate_hz == 125.0 and sig.data.shape == (200, 2)
    np.testing.assert_array_equal(sig.data, arr.astype(np.float64))
    np.save(path, arr.T)
    np.testing.assert_array_equal(load("npy", path, sample_rate_hz=125.0, channels_first=True).data, sig.data)
    np.save(path, arr[:, 0])
    assert load("npy", path, sample_rate_hz=1.0).data.shape == (200,)


class _Tripwire:
    """Unpickling this creates a file: proof that a loader unpickled something."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_npy_never_unpickles(host, tmp_path):
    marker = tmp_path / "unpickled"
    path = tmp_path / "evil.npy"
    arr = np.empty(1, dtype=object)
    arr[0] = _Tripwire(str(marker))
    np.save(path, arr, allow_pickle=True)
    with pytest.raises(FileFormatError, match="pickle"):
        load("npy", path, sample_rate_hz=1.0)
    assert not marker.exists()
    # the tripwire works: plain pickle would have fired it
    pickle.loads(pickle.dumps(_Tripwire(str(marker))))
    assert marker.exists()


def test_npy_bad_files(host, tmp_path):
    good = tmp_path / "good.npy"
    np.save(good, np.zeros(1000))
    # no sample rate: the message says a .npy file does not record one
    with pytest.raises(ValidationError, match="does not record its sample rate"):
        load("npy", good)
    # NaN sample rate
    with pytest.raises(ValidationError, match="sample_rate_hz"):
        load("npy", good, sample_rate_hz=float("nan"))
    # a truncated file
    cut = tmp_path / "cut.npy"
    cut.write_bytes(good.read_bytes()[:200])
    with pytest.raises(FileFormatError, match=r"not a readable \.npy file"):
        load("npy", cut, sample_rate_hz=1.0)
    # not NumPy at all
    text = write(tmp_path / "text.npy", "hello")
    with pytest.raises(FileFormatError, match=r"not a readable \.npy file"):
        load("npy", text, sample_rate_hz=1.0)
    # an .npz archive
    npz = tmp_path / "a.npz"
    np.savez(npz, x=np.zeros(3))
    with pytest.raises(FileFormatError, match="npz"):
        load("npy", npz, sample_rate_hz=1.0)
    # a 3-D array
    cube = tmp_path / "cube.npy"
    np.save(cube, np.zeros((2, 3, 4)))
    with pytest.raises(FileFormatError, match="1-D"):
        load("npy", cube, sample_rate_hz=1.0)
    # complex samples
    cplx = tmp_path / "c.npy"
    np.save(cplx, np.zeros(4, dtype=complex))
    with pytest.raises(FileFormatError, match="real numbers"):
        load("npy", cplx, sample_rate_hz=1.0)
    # an empty array
    empty = tmp_path / "e.npy"
    np.save(empty, np.zeros(0))
    with pytest.raises(FileFormatError, match="no samples"):
        load("npy", empty, sample_rate_hz=1.0)
    # channels_first given as a string
    with pytest.raises(ValidationError, match="channels_first"):
        load("npy", good, sample_rate_hz=1.0, channels_first="yes")


# -- HDF5 from other tools -------------------------------------------------------------------------
def test_hdf5_round_trip_with_given_and_stored_rate(host, tmp_path, rng):
    arr = rng.standard_normal((500, 2)).astype(np.float32)
    path = tmp_path / "other.h5"
    with h5py.File(path, "w") as f:
        f.create_dataset("/rec/session1/emg", data=arr, chunks=(100, 2), compression="gzip")
        f["/rec/session1/emg"].attrs["sampling_rate"] = 2000.0
        f["/plain"] = arr[:, 0]
    sig = load("hdf5", path, dataset="/rec/session1/emg")
    assert sig.sample_rate_hz == 2000.0 and sig.data.shape == (500, 2)
    np.testing.assert_array_equal(sig.data, arr.astype(np.float64))
    assert sig.metadata["params"]["dataset"] == "/rec/session1/emg"
    plain = load("hdf5", path, dataset="plain", sample_rate_hz=10.0)
    np.testing.assert_array_equal(plain.data, arr[:, 0].astype(np.float64))
    transposed = load("hdf5", path, dataset="/rec/session1/emg", sample_rate_hz=5.0, channels_first=True)
    assert transposed.data.shape == (2, 500)


def test_hdf5_bad_requests(host, tmp_path):
    path = tmp_path / "o.h5"
    with h5py.File(path, "w") as f:
        f["grp/x"] = np.zeros(10)
        f["text"] = np.array([b"a", b"b"])
    # no dataset given
    with pytest.raises(ValidationError, match="expected dataset"):
        load("hdf5", path, sample_rate_hz=1.0)
    # a path that does not exist: the message lists the datasets there are
    with pytest.raises(ValidationError, match="/grp/x"):
        load("hdf5", path, dataset="/grp/y", sample_rate_hz=1.0)
    # a group, not a dataset
    with pytest.raises(ValidationError, match="not a group"):
        load("hdf5", path, dataset="grp", sample_rate_hz=1.0)
    # no sample rate given or stored
    with pytest.raises(ValidationError, match="no sample-rate attribute"):
        load("hdf5", path, dataset="grp/x")
    # a dataset of strings
    with pytest.raises(FileFormatError, match="not real numbers"):
        load("hdf5", path, dataset="text", sample_rate_hz=1.0)
    # not an HDF5 file
    with pytest.raises(FileFormatError, match="not an HDF5 file"):
        load("hdf5", write(tmp_path / "x.h5", "plain text"), dataset="x", sample_rate_hz=1.0)
    # a truncated HDF5 file
    cut = tmp_path / "cut.h5"
    cut.write_bytes(path.read_bytes()[:600])
    with pytest.raises(FileFormatError):
        load("hdf5", cut, dataset="grp/x", sample_rate_hz=1.0)


def test_hdf5_unsafe_structures_are_refused(host, tmp_path):
    target = tmp_path / "target.h5"
    with h5py.File(target, "w") as f:
        f["secret"] = np.ones(10)
    raw = tmp_path / "raw.bin"
    raw.write_bytes(np.ones(10).tobytes())
    path = tmp_path / "links.h5"
    with h5py.File(path, "w") as f:
        f["real/x"] = np.zeros(10)
        f["soft"] = h5py.SoftLink("/real/x")
        f["ext"] = h5py.ExternalLink(str(target), "/secret")
        f["alias"] = h5py.SoftLink("/real")
        f.create_dataset("external", shape=(10,), dtype="<f8", external=[(str(raw), 0, 80)])
        layout = h5py.VirtualLayout(shape=(10,), dtype="f8")
        layout[:] = h5py.VirtualSource(str(target), "secret", shape=(10,))
        f.create_virtual_dataset("virtual", layout)
    # a soft link to a dataset
    with pytest.raises(UnsafeFileError, match="soft link"):
        load("hdf5", path, dataset="soft", sample_rate_hz=1.0)
    # an external link into another file
    with pytest.raises(UnsafeFileError, match="external link"):
        load("hdf5", path, dataset="ext", sample_rate_hz=1.0)
    # a soft link in the middle of the path
    with pytest.raises(UnsafeFileError, match="soft link"):
        load("hdf5", path, dataset="alias/x", sample_rate_hz=1.0)
    # raw data kept in an external file
    with pytest.raises(UnsafeFileError, match="external raw file"):
        load("hdf5", path, dataset="external", sample_rate_hz=1.0)
    # a virtual dataset mapping another file
    with pytest.raises(UnsafeFileError, match="virtual"):
        load("hdf5", path, dataset="virtual", sample_rate_hz=1.0)
    # the hard-linked dataset next to them still loads
    assert load("hdf5", path, dataset="real/x", sample_rate_hz=1.0).n_samples == 10


def test_hdf5_shape_bomb_is_refused_before_reading(host, tmp_path):
    path = tmp_path / "bomb.h5"
    with h5py.File(path, "w") as f:  # declares 8 GB, stores nothing
        f.create_dataset("bomb", shape=(2**30,), dtype="f8", chunks=(2**16,), compression="gzip")
    with pytest.raises(UnsafeFileError, match="bomb"):
        load("hdf5", path, dataset="bomb", sample_rate_hz=1.0)


# -- bundled samples -------------------------------------------------------------------------------
def test_sample_files_load(host):
    wav = load("wav", sample_path("tones.wav"))
    assert wav.sample_rate_hz == 8000.0 and wav.data.shape == (1000, 2)
    # left channel: 440 Hz at half scale
    spectrum = np.abs(np.fft.rfft(wav.data[:, 0]))
    assert np.fft.rfftfreq(1000, 1 / 8000)[np.argmax(spectrum)] == pytest.approx(440.0, abs=8.0)
    assert np.max(np.abs(wav.data[:, 0])) == pytest.approx(0.5, abs=0.05)
    csv_sig = load("csv", sample_path("sensors.csv"), time_column="time_s")
    assert csv_sig.sample_rate_hz == pytest.approx(100.0) and csv_sig.channel_names == ("accel", "gyro")
    with pytest.raises(ValidationError, match=r"tones\.wav"):
        sample_path("nope.wav")


def test_make_samples_reproduces_the_shipped_files(tmp_path):
    spec = importlib.util.spec_from_file_location("make_samples", SAMPLES_DIR / "make_samples.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.make_wav(tmp_path / "tones.wav")
    module.make_csv(tmp_path / "sensors.csv")
    for name in ("tones.wav", "sensors.csv"):
        assert (tmp_path / name).read_bytes() == (SAMPLES_DIR / name).read_bytes(), name
        assert (SAMPLES_DIR / name).stat().st_size < 8192


def test_csv_fast_path_equals_the_per_line_parser(tmp_path, monkeypatch):
    """Issue 17 item 5: numeric CSV goes through numpy.loadtxt; the per-line parser stays as the fallback
    (empty fields, bad numbers) and both give the same signal."""
    from sigbench.datasets import importers as imp

    rng = np.random.default_rng(7)
    x = rng.standard_normal((500, 2))
    lines = ["time_s, a ,b"] + [f"{i / 50!r},{float(u)!r},\"{float(v)!r}\"" for i, (u, v) in enumerate(x)]
    lines.insert(100, "")  # a blank line is skipped by both
    path = tmp_path / "data.csv"
    path.write_text("\r\n".join(lines) + "\r\n")
    calls = []
    real = imp._fast_table
    monkeypatch.setattr(imp, "_fast_table", lambda *a: calls.append(1) or real(*a))
    fast = sb.load_source("csv", str(path), time_column="time_s")
    assert calls and real(path.read_text().splitlines(), 0, ",") is not None  # the fast path took it
    monkeypatch.setattr(imp, "_fast_table", lambda *a: None)
    slow = sb.load_source("csv", str(path), time_column="time_s")
    np.testing.assert_array_equal(fast.data, x)
    np.testing.assert_array_equal(fast.data, slow.data)
    assert fast.channel_names == slow.channel_names == ("a", "b")
    assert fast.sample_rate_hz == slow.sample_rate_hz == pytest.approx(50.0)
    monkeypatch.setattr(imp, "_fast_table", real)
    path.write_text("a,b\n1,2\n3,x\n")  # the fallback still names the line and the column
    with pytest.raises(FileFormatError, match=r"line 3, column 'b': not a number"):
        sb.load_source("csv", str(path), sample_rate_hz=1.0)
