"""RELIABILITY 23-32: model files are untrusted input.

sigbench's own saves (a JSON record rebuilt in code, arrays through ``np.load(allow_pickle=False)``, Keras
*weights* only) never deserialise code; a foreign ``.keras`` file goes through
``sigbench.plugins.neural._safe_load.load_foreign_keras_model``, which refuses dangerous configurations
before Keras sees them. The neural plugin's own tests (``tests/neural/test_safe_load.py``) check each refusal;
the cases here build the *real* attack payloads (marshalled Lambda bytecode, pickles) and prove that nothing
runs, plus the repository-wide and dependency checks.
"""

from __future__ import annotations

import base64
import importlib.metadata
import json
import marshal
import re
import types
import zipfile
from pathlib import Path
from typing import Any

import h5py
import numpy as np
import pytest

import sigbench as sb
from sigbench.errors import FileFormatError, UnsafeFileError

ROOT = Path(__file__).resolve().parents[2]

safe_load = pytest.importorskip("sigbench.plugins.neural._safe_load")
load_foreign = safe_load.load_foreign_keras_model


def _archive(path: Path, config: dict[str, Any], extra: dict[str, bytes] | None = None) -> Path:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("config.json", json.dumps(config))
        zf.writestr("metadata.json", json.dumps({"keras_version": "3.13.0"}))
        for name, data in (extra or {}).items():
            zf.writestr(name, data)
    return path


def _canary_code(canary: Path) -> Any:
    """The code object of ``lambda x: (open(canary, 'w').close(), x)[1]`` — what an attacker marshals."""
    module = compile(f"lambda x: (open({str(canary)!r}, 'w').close(), x)[1]", "<payload>", "eval")
    return next(c for c in module.co_consts if hasattr(c, "co_code"))


def _lambda_config(canary: Path) -> dict[str, Any]:
    """A Keras 3 ``Lambda`` layer config whose function is marshalled bytecode (the CVE-2024-3660 shape)."""
    code = base64.b64encode(marshal.dumps(_canary_code(canary))).decode("ascii")
    return {"module": "keras.layers", "class_name": "Lambda", "registered_name": None, "config": {
        "name": "lambda", "trainable": True, "dtype": "float32",
        "function": {"class_name": "__lambda__", "config": {"code": code, "defaults": None, "closure": None}},
        "arguments": {}}}


def _sequential(*layers: dict[str, Any]) -> dict[str, Any]:
    return {"module": "keras", "class_name": "Sequential", "registered_name": None, "config": {
        "name": "sequential", "trainable": True, "layers": [
            {"module": "keras.layers", "class_name": "InputLayer", "registered_name": None,
             "config": {"batch_shape": [None, 4], "dtype": "float32", "name": "input"}}, *layers]}}


# -- 23: marshalled Lambda bytecode ----------------------------------------------------------------------------
def test_case_23_lambda_with_marshalled_bytecode_is_refused_and_no_canary(tmp_path: Path) -> None:
    canary = tmp_path / "canary"
    # the payload is live: un-marshalled and called, it creates the canary
    code = marshal.loads(base64.b64decode(_lambda_config(canary)["config"]["function"]["config"]["code"]))
    types.FunctionType(code, {})(1)
    assert canary.exists()
    canary.unlink()
    path = _archive(tmp_path / "m.keras", _sequential(_lambda_config(canary)))
    with pytest.raises(UnsafeFileError, match="Lambda"):
        load_foreign(path, trust=True)
    assert not canary.exists()


# -- 24, 25, 27: configs naming code, unsafe switches or file-reading layers -------------------------------------
@pytest.mark.parametrize("node", [
    {"class_name": "function", "module": "os", "config": "system", "registered_name": "system"},
    {"class_name": "function", "module": "builtins", "config": "exec", "registered_name": "exec"},
    {"class_name": "function", "module": "subprocess", "config": "run", "registered_name": "run"},
])
def test_case_24_config_naming_os_system_or_builtins_exec_is_refused(tmp_path: Path, node: dict[str, Any]) -> None:
    dense = {"module": "keras.layers", "class_name": "Dense", "config": {"units": 1, "activation": node}}
    with pytest.raises(UnsafeFileError, match="only keras"):
        load_foreign(_archive(tmp_path / "m.keras", _sequential(dense)), trust=True)


@pytest.mark.parametrize("module,name", [
    ("keras.config", "enable_unsafe_deserialization"),
    ("keras.utils", "get_file"),
    ("keras.models", "load_model"),
    ("keras.saving", "load_model"),
])
def test_case_25_config_calling_non_modelling_apis_is_refused(tmp_path: Path, module: str, name: str,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """CVE-2025-9906/-8747: the config calls a Keras API that switches safe mode off or fetches/loads files.

    These name modules *inside* keras, so the module allow-list alone would let them through; sigbench refuses
    the non-modelling APIs by name before Keras sees the file (and Keras >= 3.13's safe mode would refuse them
    too, case 32): the load fails with a ``SigbenchError`` and none of the APIs is ever called."""
    calls: list[str] = []
    keras = pytest.importorskip("keras")
    monkeypatch.setattr(keras.config, "enable_unsafe_deserialization", lambda *a, **k: calls.append("unsafe"))
    monkeypatch.setattr(keras.utils, "get_file", lambda *a, **k: calls.append("get_file"))
    node = {"class_name": "function", "module": module, "config": name, "registered_name": name}
    dense = {"module": "keras.layers", "class_name": "Dense", "config": {"units": 1, "activation": node}}
    with pytest.raises(FileFormatError, match="non-modelling Keras API"):
        load_foreign(_archive(tmp_path / "m.keras", _sequential(dense)), trust=True)
    assert calls == []


def test_case_26_legacy_h5_full_model_is_refused_outright(tmp_path: Path) -> None:
    for name in ("m.h5", "m.hdf5", "M.H5"):
        path = tmp_path / name
        with h5py.File(path, "w") as f:  # what keras' legacy `model.save("m.h5")` leaves: a config attribute
            f.attrs["model_config"] = json.dumps(_sequential(_lambda_config(tmp_path / "canary")))
            f.attrs["keras_version"] = "2.15.0"
        with pytest.raises(UnsafeFileError, match="legacy HDF5"):
            load_foreign(path, trust=True)
    assert not (tmp_path / "canary").exists()


@pytest.mark.parametrize("layer,match", [
    ({"module": "keras.layers", "class_name": "StringLookup",
      "config": {"vocabulary": "/etc/passwd", "name": "lookup"}}, "StringLookup"),
    ({"module": "keras.layers", "class_name": "TFSMLayer",
      "config": {"filepath": "/tmp/some-savedmodel", "call_endpoint": "serve"}}, "TFSMLayer"),
])
def test_case_27_stringlookup_vocabulary_path_or_tfsmlayer_is_refused(tmp_path: Path, layer: dict[str, Any],
                                                                      match: str) -> None:
    with pytest.raises(UnsafeFileError, match=match):
        load_foreign(_archive(tmp_path / "m.keras", _sequential(layer)), trust=True)


def test_case_28_lambda_nested_anywhere_is_refused_before_keras_runs(tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """CVE-2026-12481: a Lambda reached outside ``SafeModeScope`` (clone, nested deserialisation). sigbench's
    refusal does not depend on Keras's scope: the whole config tree is checked and Keras is never called."""
    keras = pytest.importorskip("keras")
    called: list[Any] = []
    monkeypatch.setattr(keras.saving, "load_model", lambda *a, **k: called.append(a))
    canary = tmp_path / "canary"
    inner = _sequential(_lambda_config(canary))
    wrapper = {"module": "keras.layers", "class_name": "TimeDistributed", "config": {"layer": inner}}
    shared = {"module": "keras", "class_name": "Functional", "config": {
        "layers": [{"module": "keras.layers", "class_name": "Dense", "config": {"units": 1}}],
        "shared_objects": [{"anything": [wrapper]}]}}
    for config in (_sequential(wrapper), shared):
        with pytest.raises(UnsafeFileError, match="Lambda"):
            load_foreign(_archive(tmp_path / "m.keras", config), trust=True)
    assert called == [] and not canary.exists()


# -- 29: weights files ---------------------------------------------------------------------------------------
def _weights_with(path: Path, kind: str, tmp: Path) -> Path:
    with h5py.File(path, "w") as f:
        g = f.create_group("layers/dense/vars")
        g.create_dataset("0", data=np.ones((4, 1)))
        if kind == "external link":
            (tmp / "secret.h5").write_bytes(b"")
            with h5py.File(tmp / "secret.h5", "w") as s:
                s.create_dataset("key", data=np.arange(4.0))
            g["1"] = h5py.ExternalLink(str(tmp / "secret.h5"), "/key")
        elif kind == "soft link":
            g["1"] = h5py.SoftLink("/layers/dense/vars/0")
        elif kind == "external storage":
            raw = tmp / "host-file.bin"
            raw.write_bytes(b"\0" * 32)
            g.create_dataset("1", shape=(4,), dtype="<f8", external=[(str(raw), 0, 32)])
        elif kind == "virtual dataset":
            layout = h5py.VirtualLayout(shape=(4,), dtype="<f8")
            layout[:] = h5py.VirtualSource(str(tmp / "elsewhere.h5"), "x", shape=(4,))
            g.create_virtual_dataset("1", layout)
        elif kind == "shape bomb":
            g.create_dataset("1", shape=(1 << 20, 1 << 14), dtype="<f8", chunks=(1024, 64), compression="gzip")
    return path


@pytest.mark.parametrize("kind", ["external link", "soft link", "external storage", "virtual dataset",
                                  "shape bomb"])
def test_case_29_weights_file_with_links_storage_vds_or_bomb_is_refused(tmp_path: Path, kind: str) -> None:
    from sigbench.plugins.neural._base import check_weights_file

    path = _weights_with(tmp_path / "model.weights.h5", kind, tmp_path)
    with pytest.raises(UnsafeFileError, match="refusing weights file"):
        check_weights_file(path, max_bytes=1 << 20)


def test_case_29_plain_weights_file_passes_the_check(tmp_path: Path) -> None:
    from sigbench.plugins.neural._base import check_weights_file

    check_weights_file(_weights_with(tmp_path / "model.weights.h5", "plain", tmp_path), max_bytes=1 << 20)


# -- 30: archives and extensions -------------------------------------------------------------------------------
def test_case_30_zip_bomb_member_is_refused(tmp_path: Path) -> None:
    path = _archive(tmp_path / "m.keras", _sequential(), {"model.weights.h5": b"\0" * (48 << 20)})
    assert path.stat().st_size < 1 << 20  # 48 MiB of zeros compress to almost nothing
    with pytest.raises(UnsafeFileError, match="ZIP bomb"):
        load_foreign(path, trust=True)


@pytest.mark.parametrize("name,content,error,match", [
    ("m.keras", b"PK\x03\x04 not really a zip", FileFormatError, "not a zip"),
    ("m.keras", b"\x89HDF\r\n\x1a\n", FileFormatError, "not a zip"),
    ("m.pkl", b"\x80\x04K\x01.", FileFormatError, "unsupported model file extension"),
    ("m.pb", b"x", FileFormatError, "unsupported model file extension"),
    ("model", b"x", FileFormatError, "unsupported model file extension"),
])
def test_case_30_non_zip_keras_or_unknown_extension_gives_a_clear_error(tmp_path: Path, name: str, content: bytes,
                                                                        error: type[Exception], match: str) -> None:
    (tmp_path / name).write_bytes(content)
    with pytest.raises(error, match=match):
        load_foreign(tmp_path / name, trust=True)


def test_case_30_archive_without_config_or_with_corrupt_config(tmp_path: Path) -> None:
    with zipfile.ZipFile(tmp_path / "a.keras", "w") as zf:
        zf.writestr("metadata.json", "{}")
    with pytest.raises(FileFormatError, match=r"no config\.json"):
        load_foreign(tmp_path / "a.keras", trust=True)
    with zipfile.ZipFile(tmp_path / "b.keras", "w") as zf:
        zf.writestr("config.json", b"\xff{not json")
    with pytest.raises(FileFormatError, match=r"corrupt config\.json"):
        load_foreign(tmp_path / "b.keras", trust=True)


def test_foreign_model_without_trust_reads_nothing(tmp_path: Path) -> None:
    canary = tmp_path / "canary"
    path = _archive(tmp_path / "m.keras", _sequential(_lambda_config(canary)))
    with pytest.raises(UnsafeFileError, match="without explicit trust"):
        load_foreign(path, trust=False)
    assert not canary.exists()


# -- sigbench's own saves --------------------------------------------------------------------------------------
@pytest.fixture
def saved_wiener(tmp_path: Path) -> Path:
    from sigbench.plugins.dsp.wiener import Wiener

    sig = sb.generate("sines", n=400, seed=0)
    x = np.lib.stride_tricks.sliding_window_view(sig.data, 8)[:-1]
    return Wiener().fit(x, sig.data[8:]).save(tmp_path / "wiener")


class _Payload:
    def __init__(self, canary: Path) -> None:
        self.canary = canary

    def __reduce__(self) -> tuple[Any, ...]:
        return (open, (str(self.canary), "w"))


def _plant_pickle(directory: Path, canary: Path) -> None:
    state = dict(np.load(directory / "state.npz"))
    evil = np.empty(1, dtype=object)
    evil[0] = _Payload(canary)
    state[next(iter(state))] = evil
    np.savez(directory / "state.npz", **state)  # np.savez pickles object arrays


def test_own_save_with_pickled_state_never_unpickles(saved_wiener: Path, tmp_path: Path) -> None:
    from sigbench.plugins.dsp.wiener import Wiener

    canary = tmp_path / "canary"
    _plant_pickle(saved_wiener, canary)
    with pytest.raises(Exception, match=r"allow_pickle=False|pickle"):
        Wiener.load(saved_wiener)
    assert not canary.exists()


@pytest.mark.parametrize("tamper", ["pickle", "unknown param"])
def test_own_save_tampered_is_a_file_format_error(saved_wiener: Path, tmp_path: Path, tamper: str) -> None:
    from sigbench.plugins.dsp.wiener import Wiener

    if tamper == "pickle":
        _plant_pickle(saved_wiener, tmp_path / "canary")
    else:
        record = json.loads((saved_wiener / "processor.json").read_text())
        record["params"]["__import__"] = "os"
        (saved_wiener / "processor.json").write_text(json.dumps(record))
    with pytest.raises(FileFormatError):
        Wiener.load(saved_wiener)


# -- 31: repository-wide ---------------------------------------------------------------------------------------
_SOURCES = sorted(p for d in ("toolkit", "plugins", "datasets") for p in (ROOT / d).rglob("*.py"))


def test_case_31_no_unsafe_switch_or_bare_except_anywhere() -> None:
    assert len(_SOURCES) > 20
    problems = []
    for source in _SOURCES:
        for lineno, line in enumerate(source.read_text().splitlines(), 1):
            code = line.split("#", 1)[0]
            if re.search(r"safe_mode\s*=\s*False", code):
                problems.append(f"{source}:{lineno}: safe_mode=False")
            if re.search(r"enable_unsafe_deserialization\s*\(", code):
                problems.append(f"{source}:{lineno}: enable_unsafe_deserialization()")
            if re.search(r"\bexcept\s*:", code):
                problems.append(f"{source}:{lineno}: bare except")
            if re.search(r"allow_pickle\s*=\s*True|pickle\.loads?\(|\bmarshal\.loads\(|torch\.load\(", code):
                problems.append(f"{source}:{lineno}: deserialises code-bearing data")
    assert problems == []


def test_case_31_the_scan_catches_what_it_looks_for(tmp_path: Path) -> None:
    bad = "try:\n    m = load_model(p, safe_mode=False)\nexcept:\n    pass\n"
    assert re.search(r"safe_mode\s*=\s*False", bad) and re.search(r"\bexcept\s*:", bad)


# -- 32: dependency floor --------------------------------------------------------------------------------------
def _floor(requirement: str) -> tuple[int, ...]:
    text = (ROOT / "pyproject.toml").read_text()
    match = re.search(rf'"{requirement}\s*>=\s*([0-9.]+)"', text)
    assert match, f"no {requirement}>= floor in pyproject.toml"
    return tuple(int(p) for p in match.group(1).split("."))


def _version(dist: str) -> tuple[int, ...]:
    return tuple(int(p) for p in re.findall(r"\d+", importlib.metadata.version(dist))[:3])


def test_case_32_installed_keras_is_at_least_the_pinned_floor() -> None:
    floor = _floor("keras")
    assert floor >= (3, 13), "the floor must carry the known safe_mode fixes (CVE table B.3)"
    assert _version("keras") >= floor, (importlib.metadata.version("keras"), floor)
