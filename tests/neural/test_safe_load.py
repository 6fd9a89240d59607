"""Foreign Keras model files: refused unless trusted, and fenced even then (RELIABILITY 23-30)."""

from __future__ import annotations

import json
import zipfile

import numpy as np
import pytest

from sigbench.errors import FileFormatError, UnsafeFileError
from sigbench.plugins.neural._safe_load import load_foreign_keras_model


def _small_keras_model():
    from sigbench.plugins.neural._backend import import_keras

    keras = import_keras()
    keras.utils.set_random_seed(0)
    return keras.Sequential([keras.Input((4,)), keras.layers.Dense(2), keras.layers.Dense(1)])


def _archive(path, config, extra=None):
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("config.json", json.dumps(config))
        zf.writestr("metadata.json", json.dumps({"keras_version": "3.15.0"}))
        for name, data in (extra or {}).items():
            zf.writestr(name, data)
    return path


def test_trusted_plain_model_loads(tmp_path):
    model = _small_keras_model()
    model.save(tmp_path / "m.keras")
    back = load_foreign_keras_model(tmp_path / "m.keras", trust=True)
    x = np.ones((3, 4), dtype=np.float32)
    np.testing.assert_allclose(back.predict(x, verbose=0), model.predict(x, verbose=0))


def test_untrusted_is_refused_before_reading(tmp_path):
    # the file does not even exist: nothing is opened without trust
    with pytest.raises(UnsafeFileError, match="without explicit trust"):
        load_foreign_keras_model(tmp_path / "m.keras", trust=False)


def test_legacy_h5_full_model_refused(tmp_path):
    (tmp_path / "m.h5").write_bytes(b"\x89HDF\r\n\x1a\n")
    with pytest.raises(UnsafeFileError, match="legacy HDF5 full-model"):
        load_foreign_keras_model(tmp_path / "m.h5", trust=True)


def test_non_zip_keras_file(tmp_path):
    (tmp_path / "m.keras").write_text("hello")
    with pytest.raises(FileFormatError, match="not a zip file"):
        load_foreign_keras_model(tmp_path / "m.keras", trust=True)


@pytest.mark.parametrize("name", ["m.pb", "m.pkl", "model"])
def test_unknown_extension(tmp_path, name):
    (tmp_path / name).write_bytes(b"x")
    with pytest.raises(FileFormatError, match="unsupported model file extension"):
        load_foreign_keras_model(tmp_path / name, trust=True)


def test_zip_bomb_member_refused(tmp_path):
    path = _archive(tmp_path / "m.keras", {"class_name": "Sequential"},
                    {"model.weights.h5": b"\0" * (64 << 20)})
    with pytest.raises(UnsafeFileError, match="ZIP bomb"):
        load_foreign_keras_model(path, trust=True)


def test_escaping_member_name_refused(tmp_path):
    path = _archive(tmp_path / "m.keras", {"class_name": "Sequential"}, {"../evil.txt": b"x"})
    with pytest.raises(UnsafeFileError, match="escapes the archive"):
        load_foreign_keras_model(path, trust=True)


def test_lambda_layer_refused_and_no_canary(tmp_path):
    canary = tmp_path / "canary"
    # a Lambda whose (marshalled) function would create the canary file
    config = {"class_name": "Sequential", "module": "keras", "config": {"layers": [
        {"class_name": "Lambda", "module": "keras.layers", "config": {
            "function": {"class_name": "__lambda__", "config": {"code": f"open({str(canary)!r}, 'w')"}}}}]}}
    path = _archive(tmp_path / "m.keras", config)
    with pytest.raises(UnsafeFileError, match="Lambda layer"):
        load_foreign_keras_model(path, trust=True)
    assert not canary.exists()


@pytest.mark.parametrize(
    ("node", "match"),
    [
        # CVE-2025-1550: a config naming a builtins function
        ({"class_name": "function", "module": "builtins", "config": "exec"}, "module 'builtins'"),
        ({"class_name": "function", "module": "os", "config": "system"}, "module 'os'"),
        # CVE-2026-1462: TFSMLayer loads a SavedModel from a path
        ({"class_name": "TFSMLayer", "module": "keras.layers", "config": {"filepath": "/tmp/x"}}, "TFSMLayer"),
        # CVE-2025-12058: StringLookup vocabulary read from a file path
        ({"class_name": "StringLookup", "module": "keras.layers", "config": {"vocabulary": "/etc/passwd"}},
         "StringLookup"),
    ],
)
def test_dangerous_config_refused(tmp_path, node, match):
    config = {"class_name": "Sequential", "module": "keras", "config": {"layers": [node]}}
    with pytest.raises(UnsafeFileError, match=match):
        load_foreign_keras_model(_archive(tmp_path / "m.keras", config), trust=True)


def test_no_unsafe_switches_in_the_neural_plugins():
    # RELIABILITY 31: the neural code never turns Keras's safe mode off
    from pathlib import Path

    import sigbench.plugins.neural as pkg

    for source in Path(pkg.__file__).parent.glob("*.py"):
        text = source.read_text()
        assert "safe_mode=False" not in text, source
        assert "enable_unsafe_deserialization" not in text, source
        assert "except:" not in text, source
