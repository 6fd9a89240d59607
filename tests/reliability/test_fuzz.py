"""Property tests (issue 7, item 5): hostile or broken input only ever gives a result or a ``SigbenchError``.

* the HDF5 reader (``load_signal``, ``file_info``, ``open_signal``) over random structures, dtypes, shapes,
  attributes, truncations and random bytes;
* the generator sources over random parameters;
* the command line over random option values.

Every test is ``derandomize=True`` with no example database, so a CI run is reproducible; ``max_examples``
keeps the whole file well under a minute.
"""

from __future__ import annotations

import json
import math
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import h5py
import numpy as np
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

import sigbench as sb
from sigbench.errors import SigbenchError

FUZZ = settings(derandomize=True, database=None, deadline=None, print_blob=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@pytest.fixture(autouse=True)
def _small_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SIGBENCH_MEMORY_BUDGET", "64M")


def _expect_result_or_sigbench_error(call: Callable[[], Any]) -> Any:
    """Run ``call``; anything but a return value or a ``SigbenchError`` subclass fails the property."""
    try:
        return call()
    except SigbenchError as exc:
        assert str(exc).strip(), f"{type(exc).__name__} with an empty message"
        return exc


def _read_everything(path: Path) -> None:
    """The reader's three entry points, each judged on its own."""
    out = _expect_result_or_sigbench_error(lambda: sb.load_signal(path))
    event(f"load_signal -> {type(out).__name__}")  # --hypothesis-show-statistics shows the mix of outcomes
    if not isinstance(out, SigbenchError):
        assert isinstance(out, sb.Signal)
        assert out.n_samples > 0 and math.isfinite(out.sample_rate_hz) and out.sample_rate_hz > 0
    info = _expect_result_or_sigbench_error(lambda: sb.file_info(path))
    if not isinstance(info, SigbenchError):
        assert isinstance(info, dict) and isinstance(info["signals"], list)
        json.dumps(info, default=str)  # `info --json` can print it

    def lazy() -> np.ndarray:
        with sb.open_signal(path) as lazy_sig:
            first = lazy_sig.read(0, 16)
            for _block in lazy_sig.chunks(64):
                pass
            return first

    _expect_result_or_sigbench_error(lazy)
    # and `sigbench info` renders whatever the file holds (names and attributes with markup included)
    result = _cli(["info", str(path)])
    _judge(result)
    assert result.exit_code in (0, 1), result.output


# -- random HDF5 structures ----------------------------------------------------------------------------------
_DTYPES = ["<f4", ">f8", "<i2", "u1", "?", "<c8", "S6", "vlen-str", "compound", "f2"]
_SHAPES = [(0,), (5,), (40,), (40, 2), (40, 0), (3, 4, 2), (1,), ()]


def _array(dtype: str, shape: tuple[int, ...], fill: str) -> np.ndarray:
    size = int(np.prod(shape)) if shape else 1
    if dtype == "vlen-str":
        return np.array(["x" * (i % 3) for i in range(size)], dtype=h5py.string_dtype()).reshape(shape)
    if dtype == "compound":
        return np.zeros(shape, dtype=[("a", "<f4"), ("b", "<i4")])
    if dtype == "S6":
        return np.full(shape, b"abc", dtype="S6")
    base = np.linspace(-3, 3, size).reshape(shape) if size else np.zeros(shape)
    if fill == "nan" and np.dtype(dtype).kind in "fc" and size:
        base = base.copy()
        base.flat[size // 2] = np.nan
    if fill == "inf" and np.dtype(dtype).kind in "fc" and size:
        base = base.copy()
        base.flat[0] = np.inf
    return base.astype(dtype)


_ATTR_VALUES = st.one_of(
    st.sampled_from([0, -1, 1, 2, 100.0, -5.0, float("nan"), float("inf"), "", "abc", "100", b"\xff\xfe",
                     "[bold red]x[/]", "\x1b[31mred\x1b[0m", "{}", "[]", "{\"a\": 1}", "[1, 2]", "null", "not json",
                     True]),
    st.integers(-(2**63), 2**63 - 1),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
    st.just("x" * 200_000),  # a huge (but under the limit) string
    st.just(np.arange(3.0)),
    st.just(np.array([b"a", b"b"])),
)

_DATASET = st.fixed_dictionaries({
    "dtype": st.sampled_from(["<f8", "<f4"]) | st.sampled_from(_DTYPES),  # numeric half of the time
    "shape": st.sampled_from([(40,), (40, 2)]) | st.sampled_from(_SHAPES),
    "fill": st.sampled_from(["plain", "plain", "nan", "inf"]),
    "chunked": st.booleans(),
})
_RATE = st.sampled_from([100.0, 8000.0, 1]) | _ATTR_VALUES
_JSON_TEXT = st.sampled_from(["{}", "{\"source\": \"[bold red]x[/]\"}", "[]", "null", "not json", "[\"a\", \"b\"]"])

_SIGNAL = st.fixed_dictionaries({
    "name": st.sampled_from(["s", "sig nal", "[bold]x[/]", "é", "a" * 50]),
    "as_dataset": st.sampled_from([False, False, False, True]),
    "data": st.sampled_from([None]) | _DATASET | _DATASET,
    "clean": st.none() | _DATASET,
    "aux": st.none() | st.dictionaries(st.sampled_from(["input", "u", "x y"]), _DATASET, max_size=2) | st.just("ds"),
    "attrs": st.fixed_dictionaries({}, optional={
        "sample_rate_hz": _RATE, "sample_rate_hz ": _ATTR_VALUES, "t0_s": _ATTR_VALUES, "units": _ATTR_VALUES,
        "channel_names": _JSON_TEXT | _ATTR_VALUES, "metadata": _JSON_TEXT | _ATTR_VALUES, "other": _ATTR_VALUES}),
})

_FILE = st.fixed_dictionaries({
    "fmt": st.just(1) | st.sampled_from([None, 1, 2, 0, -1, "1", 1.5, b"1", np.array([1, 1])]),
    "signals": st.sampled_from(["group", "group", "group", "group", "dataset", "absent"]),
    "members": st.lists(_SIGNAL, min_size=1, max_size=3) | st.just([]),
    "extra_root": st.dictionaries(st.sampled_from(["runs", "other", "signals2"]), _DATASET, max_size=2),
    "root_attrs": st.dictionaries(st.sampled_from(["created", "sigbench_version", "x"]), _ATTR_VALUES, max_size=3),
})


def _put_attrs(obj: h5py.HLObject, attrs: dict[str, Any]) -> None:
    for key, value in attrs.items():
        obj.attrs[key] = value


def _put_dataset(group: h5py.Group, name: str, spec: dict[str, Any]) -> None:
    arr = _array(spec["dtype"], spec["shape"], spec["fill"])
    chunks = bool(spec["chunked"]) and arr.ndim > 0 and arr.size > 0 and spec["dtype"] != "vlen-str"
    group.create_dataset(name, data=arr, chunks=True if chunks else None)


def _build(path: Path, spec: dict[str, Any]) -> None:
    with h5py.File(path, "w") as f:
        if spec["fmt"] is not None:
            f.attrs["sigbench_format"] = spec["fmt"]
        _put_attrs(f, spec["root_attrs"])
        for key, ds in spec["extra_root"].items():
            _put_dataset(f, key, ds)
        if spec["signals"] == "dataset":
            f.create_dataset("signals", data=np.arange(4.0))
        elif spec["signals"] == "group":
            g = f.create_group("signals")
            for member in spec["members"]:
                if member["name"] in g:
                    continue
                if member["as_dataset"] and member["data"] is not None:
                    _put_dataset(g, member["name"], member["data"])
                    continue
                sg = g.create_group(member["name"])
                _put_attrs(sg, member["attrs"])
                for key in ("data", "clean"):
                    if member[key] is not None:
                        _put_dataset(sg, key, member[key])
                aux = member["aux"]
                if aux == "ds":
                    sg.create_dataset("aux", data=np.arange(3.0))
                elif aux:
                    ag = sg.create_group("aux")
                    for key, ds in aux.items():
                        _put_dataset(ag, key, ds)


@settings(FUZZ, max_examples=150)
@given(spec=_FILE)
def test_reader_on_random_structures_gives_a_signal_or_a_sigbench_error(spec: dict[str, Any]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "fuzz.h5"
        _build(path, spec)
        _read_everything(path)


_WHERE = st.sampled_from(["/", "/signals", "/signals/s", "/signals/s/data", "/signals/s/clean"])
_ATTR_KEYS = st.sampled_from(["sigbench_format", "sample_rate_hz", "t0_s", "units", "channel_names", "metadata",
                              "created", "extra"])
_MUTATION = st.one_of(
    st.tuples(st.just("set_attr"), _WHERE, _ATTR_KEYS, _ATTR_VALUES | _JSON_TEXT),
    st.tuples(st.just("del_attr"), _WHERE, _ATTR_KEYS),
    st.tuples(st.just("replace"), st.sampled_from(["/signals/s/data", "/signals/s/clean", "/signals/s/aux/input",
                                                   "/signals/s/aux"]), _DATASET),
    st.tuples(st.just("delete"), st.sampled_from(["/signals/s/data", "/signals/s/clean", "/signals/s/aux",
                                                  "/signals/s", "/signals"])),
    st.tuples(st.just("add"), st.sampled_from(["/signals/t", "/signals/s/extra", "/runs", "/signals/s/aux/more"]),
              _DATASET | st.just("group")),
)


def _mutate(path: Path, mutations: list[tuple[Any, ...]]) -> None:
    with h5py.File(path, "r+") as f:
        for op, where, *rest in mutations:
            if op in ("set_attr", "del_attr"):
                if where not in f:
                    continue
                obj = f[where]
                if op == "set_attr":
                    obj.attrs[rest[0]] = rest[1]
                elif rest[0] in obj.attrs:
                    del obj.attrs[rest[0]]
            elif op == "delete":
                if where in f:
                    del f[where]
            else:  # replace / add
                parent, _, name = where.rpartition("/")
                if parent and not isinstance(f.get(parent), h5py.Group):
                    continue
                if where in f:
                    del f[where]
                if rest[0] == "group":
                    f.create_group(where)
                else:
                    _put_dataset(f[parent or "/"], name, rest[0])


@pytest.fixture(scope="module")
def valid_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    rng = np.random.default_rng(7)
    n = 3000
    sig = sb.Signal(rng.standard_normal((n, 2)), 500.0, clean=rng.standard_normal((n, 2)),
                    aux={"input": rng.standard_normal(n)}, metadata={"source": "fuzz", "params": {"a": [1, 2]}},
                    channel_names=("left", "right"), units="V", name="s")
    return sb.save_signal(sig, tmp_path_factory.mktemp("valid") / "valid.h5")


@settings(FUZZ, max_examples=150)
@given(mutations=st.lists(_MUTATION, min_size=1, max_size=3))
def test_reader_on_mutated_valid_files(valid_file: Path, mutations: list[tuple[Any, ...]]) -> None:
    """A valid file with attributes changed or removed and datasets replaced, removed or added."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "mutated.h5"
        path.write_bytes(valid_file.read_bytes())
        _mutate(path, mutations)
        _read_everything(path)


# -- truncations and random bytes ----------------------------------------------------------------------------
@settings(FUZZ, max_examples=80)
@given(fraction=st.floats(0.0, 0.999))
def test_reader_on_truncated_files(valid_file: Path, fraction: float) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "cut.h5"
        raw = valid_file.read_bytes()
        path.write_bytes(raw[: int(len(raw) * fraction)])
        _read_everything(path)


@settings(FUZZ, max_examples=60)
@given(blob=st.binary(max_size=4096), signature=st.booleans())
def test_reader_on_random_bytes(blob: bytes, signature: bool) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "random.h5"
        path.write_bytes((b"\x89HDF\r\n\x1a\n" if signature else b"") + blob)
        _read_everything(path)


@settings(FUZZ, max_examples=60)
@given(data=st.data())
def test_reader_on_files_with_overwritten_bytes(valid_file: Path, data: st.DataObject) -> None:
    """A valid file with a few bytes overwritten past the superblock (bit rot, a bad copy)."""
    raw = bytearray(valid_file.read_bytes())
    for _ in range(data.draw(st.integers(1, 8))):
        at = data.draw(st.integers(48, len(raw) - 1))
        raw[at] = data.draw(st.integers(0, 255))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "rot.h5"
        path.write_bytes(bytes(raw))
        _read_everything(path)


# -- source parameters ---------------------------------------------------------------------------------------
_GENERATORS = ["sines", "tones", "chirp", "ar", "square", "sawtooth", "mackey-glass", "noise", "fir-system",
               "iir-system", "hammerstein", "wiener-system"]
_PARAM_VALUE = st.one_of(
    st.integers(-5, 3000),
    st.sampled_from([0, -1, 2**31, 2**63, 10**12]),
    st.floats(allow_nan=True, allow_infinity=True, width=64),
    st.sampled_from(["", "abc", "white", "pink", "linear", "tanh", "sigma", "true", "1,2", "[1, 2]"]),
    st.none(),
    st.lists(st.floats(-2, 2) | st.sampled_from([float("nan"), float("inf")]), max_size=4).map(tuple),
    st.booleans(),
)
_PARAM_NAMES = ["step_s", "frequencies_rad_s", "amplitudes", "snr_db", "noise_convention", "sample_rate_hz",
                "frequencies_hz", "phases_rad", "f0_hz", "f1_hz", "method", "amplitude", "phase_deg",
                "coefficients", "noise_std", "burn_in", "tau", "beta", "gamma", "power", "x0", "dt", "sample_step",
                "burn_in_s", "color", "std", "numtaps", "b", "a", "n_poles", "input_color", "input_std",
                "nonlinearity", "poly_coefficients", "frequency_hz", "duty", "phase_rad", "width", "bogus"]


@settings(FUZZ, max_examples=150)
@given(name=st.sampled_from(_GENERATORS), n=st.none() | st.integers(-3, 600) | st.sampled_from([2**40, 2**63]),
       seed=st.none() | st.integers(-2, 2**32) | st.sampled_from([2**70, -(2**63)]),
       params=st.dictionaries(st.sampled_from(_PARAM_NAMES), _PARAM_VALUE, max_size=3))
def test_sources_on_random_parameters_give_a_signal_or_a_sigbench_error(name: str, n: int | None,
                                                                        seed: int | None,
                                                                        params: dict[str, Any]) -> None:
    out = _expect_result_or_sigbench_error(lambda: sb.generate(name, n=n, seed=seed, **params))
    event(f"generate -> {type(out).__name__}")
    if isinstance(out, sb.Signal):
        assert out.n_samples > 0 and math.isfinite(out.sample_rate_hz) and out.sample_rate_hz > 0
        assert np.all(np.isfinite(out.data)), "a source returned non-finite samples"


# -- the command line ----------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def small_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return sb.save_signal(sb.generate("sines", n=600, seed=0), tmp_path_factory.mktemp("cli") / "small.h5")


def _cli(args: list[str]) -> Any:
    from typer.testing import CliRunner

    from sigbench.cli import app

    return CliRunner().invoke(app, args, prog_name="sigbench")


def _judge(result: Any) -> None:
    text = (result.stdout or "") + (result.stderr or "")
    # under tests an unexpected exception is re-raised (never turned into a one-line message): catch it here
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        f"crashed with {type(result.exception).__name__}: {result.exception}")
    assert result.exit_code in (0, 1, 2, 3), (result.exit_code, text)
    assert "Traceback" not in text, text


_WORD = st.sampled_from(["", "0", "-1", "1", "3", "abc", "1e9", "nan", "inf", "-", "0.5", "99999999999999999999",
                         "[red]x[/]", "\x1b[31m", "a=b", "=", ",,", "0.6,0.2,0.2", "1,0,0", "0.5,0.5,-0.1"])
_ANY = _WORD | st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
                       max_size=12)


@settings(FUZZ, max_examples=60)
@given(source=st.sampled_from(["sines", "tones", "noise", "nosuch", ""]), opts=st.lists(
    st.tuples(st.sampled_from(["--n", "--seed", "--param", "-p", "--snr-db", "--name", "--bogus"]), _ANY),
    max_size=3))
def test_cli_generate_random_options(tmp_path_factory: pytest.TempPathFactory, source: str,
                                     opts: list[tuple[str, str]]) -> None:
    out = tmp_path_factory.mktemp("gen") / "g.h5"
    args = ["generate", source, "-o", str(out)]
    for flag, value in opts:
        args += [flag, value]
    result = _cli(args)
    _judge(result)
    if result.exit_code != 0:
        assert not out.exists(), "a failed generate left an output file"


@settings(FUZZ, max_examples=40)
@given(opts=st.lists(st.sampled_from(["--json", "--signal", "-q", "--bogus", "x"]), max_size=3),
       which=st.sampled_from(["small", "missing", "dir"]))
def test_cli_info_random_options(small_file: Path, opts: list[str], which: str) -> None:
    target = {"small": str(small_file), "missing": str(small_file) + ".nope", "dir": str(small_file.parent)}[which]
    _judge(_cli(["info", target, *opts]))


_METHODS = st.sampled_from(["wiener", "naive", "lms", "lms:mu=abc", "lms:mu=1e9", "fir:numtaps=0", "fir-bank",
                            "rls:lam=2", "nosuch", "wiener:bogus=1", "", ":", "naive | wiener", "|"])


@settings(FUZZ, max_examples=60)
@given(methods=st.lists(_METHODS, min_size=1, max_size=3),
       opts=st.lists(st.tuples(st.sampled_from(["--window", "--seeds", "--split", "--task", "--horizon", "--hop",
                                                "--train-samples", "--mode", "--reference", "--channel",
                                                "--target", "--timeout"]), _WORD), max_size=3))
def test_cli_compare_random_options(small_file: Path, tmp_path_factory: pytest.TempPathFactory,
                                    methods: list[str], opts: list[tuple[str, str]]) -> None:
    out = tmp_path_factory.mktemp("cmp") / "r.h5"
    args = ["compare", str(small_file), "-o", str(out), "--json"]
    for m in methods:
        args += ["-m", m]
    for flag, value in opts:
        args += [flag, value]
    result = _cli(args)
    _judge(result)
    event(f"compare exit {result.exit_code}")
    if result.exit_code in (0, 3):
        assert json.loads(result.stdout)["rows"], result.stdout
        assert sb.load_results(out).status == "complete"
    else:
        assert not out.exists() or sb.load_results(out).status in ("partial", "interrupted")


def test_fuzz_settings_are_reproducible() -> None:
    """CI reproducibility: derandomized and database-less (a local run cannot change what CI draws)."""
    assert FUZZ.derandomize and FUZZ.database is None
