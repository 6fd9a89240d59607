"""Export of the neural processors to LiteRT and ONNX, parity with Keras, int8 rows, ``sigbench export-model``."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys

import numpy as np
import pytest

import sigbench as sb
from sigbench.console import set_quiet
from sigbench.deploy import (
    check_export,
    deployment_costs,
    load_runner,
    memory_footprint,
    quantized,
    streaming_latency,
)
from sigbench.errors import ProcessorError, ValidationError

NAMES = ("dnn", "cnn", "lstm", "cnn-lstm")
TINY = {
    "dnn": {"units": (8,), "epochs": 2},
    "cnn": {"kernel_sizes": (3, 5), "filters": 2, "dense_units": (4,), "epochs": 2},
    "lstm": {"units": (4,), "timesteps": 4, "epochs": 2},
    "cnn-lstm": {"filters": 2, "kernel_size": 3, "units": (4,), "epochs": 2},
}
WINDOW = 16

HAS_LITERT = any(importlib.util.find_spec(m) is not None for m in ("ai_edge_litert", "tensorflow"))
HAS_ONNX = all(importlib.util.find_spec(m) is not None for m in ("onnxruntime", "tf2onnx", "onnx"))
needs_litert = pytest.mark.skipif(not HAS_LITERT, reason="LiteRT runtime not installed "
                                  "(pip install 'sigbench[export]')")
needs_onnx = pytest.mark.skipif(not HAS_ONNX, reason="onnx/tf2onnx/onnxruntime not installed "
                                "(pip install 'sigbench[export]')")


def founding(n: int) -> tuple[np.ndarray, np.ndarray]:
    t = np.arange(n) * 0.1
    clean = np.sin(t) + np.sin(np.pi * t / 2) + np.sin(-3 * np.pi * t / 2)
    return clean, clean + np.random.default_rng(0).normal(0, 10 ** (-10 / 20), n)


@pytest.fixture(scope="module")
def data():
    set_quiet(True)
    clean, noisy = founding(1000)
    return sb.sliding_windows(noisy[:-1], WINDOW), clean[WINDOW:]


@pytest.fixture(scope="module")
def fitted(data):
    X, y = data
    return {name: sb.get_processor(name)(seed=0, **TINY[name]).fit(X[:700], y[:700]) for name in NAMES}


def snr_db(y, pred):
    return 10 * np.log10(np.sum(np.square(y - y.mean())) / np.sum(np.square(y - pred)))


@needs_litert
@pytest.mark.parametrize("name", NAMES)
def test_litert_export_matches_keras_on_the_test_rows(name, fitted, data, tmp_path):
    X, _ = data
    proc = fitted[name]
    path = proc.export(tmp_path / f"{name}.tflite", format="litert")
    check = check_export(proc, path, X[700:])
    assert check["passed"], check
    assert check["rel_error"] <= 1e-5 and check["rows"] == X.shape[0] - 700
    runner = load_runner(path)
    assert runner.window == WINDOW
    # the exported graph takes raw windows: the standardisation is inside it
    np.testing.assert_allclose(runner.step(X[700]), proc.predict(X[700:701]), rtol=1e-5, atol=1e-6)
    lat = streaming_latency(proc, X[700:], sample_rate_hz=10.0, samples=200, runtime="litert")
    assert lat["latency_path"] == "litert" and lat["latency_us_p50"] > 0
    cols = deployment_costs(proc, X[700:], sample_rate_hz=10.0, samples=200, exported_runtimes=("litert",))
    assert cols["latency_path"] == "compiled" and cols["rtf_litert"] == pytest.approx(
        1e6 / (cols["latency_us_p50_litert"] * 10.0))


@needs_onnx
@pytest.mark.parametrize("name", NAMES)
def test_onnx_export_matches_keras_on_the_test_rows(name, fitted, data, tmp_path):
    X, _ = data
    proc = fitted[name]
    path = proc.export(tmp_path / f"{name}.onnx", format="onnx")
    check = check_export(proc, path, X[700:])
    assert check["passed"], check
    assert check["runtime"] == "onnx"
    lat = streaming_latency(proc, X[700:], sample_rate_hz=10.0, samples=200, runtime="onnx")
    assert lat["latency_path"] == "onnx" and lat["latency_us_p50"] > 0


def test_export_arguments_are_validated(fitted, tmp_path):
    proc = fitted["dnn"]
    with pytest.raises(ValidationError):
        proc.export(tmp_path / "m.bin", format="tensorrt")  # unknown format
    with pytest.raises(ValidationError):
        proc.export(tmp_path / "m.tflite", quantize="int4")  # unknown scheme
    with pytest.raises(ValidationError):
        proc.export(tmp_path / "m.tflite", quantize="int8")  # int8 without representative rows
    with pytest.raises(ValidationError):
        proc.export(tmp_path, format="litert")  # a folder, not a file
    with pytest.raises(ProcessorError):
        sb.get_processor("dnn")().export(tmp_path / "m.tflite")  # not fitted
    with pytest.raises(ProcessorError, match="no exportable model"):
        sb.get_processor("wiener")().export(tmp_path / "w.tflite")  # DSP deploys as coefficients
    assert not list(tmp_path.iterdir())  # nothing written by a refused export


@needs_litert
@pytest.mark.parametrize("name", ["dnn", "lstm"])
def test_int8_rows_fit_predict_and_keep_most_of_the_accuracy(name, fitted, data, tmp_path):
    X, y = data
    cls = quantized(sb.get_processor(name), "int8")
    q = cls(seed=0, **TINY[name]).fit(X[:700], y[:700])
    assert q.name == f"{name}@int8" and q.family == "neural"
    pred = q.predict(X[700:])
    assert pred.shape == y[700:].shape and np.isfinite(pred).all()
    float_snr = snr_db(y[700:], fitted[name].predict(X[700:]))
    int8_snr = snr_db(y[700:], pred)
    assert int8_snr > float_snr - 3.0  # 8 bits keep most of a tiny network's accuracy
    assert int8_snr < float_snr + 1.0  # and do not invent any
    assert memory_footprint(q)["weights_bytes_int8"] * 4 == memory_footprint(q)["weights_bytes_f32"]
    lat = streaming_latency(q, X[700:], sample_rate_hz=10.0, samples=200)
    assert lat["latency_us_p50"] > 0 and lat["latency_path"] == "litert-int8"
    q.save(tmp_path / "q")
    back = cls.load(tmp_path / "q")
    np.testing.assert_array_equal(back.predict(X[700:]), pred)
    assert q.describe()["float"]["name"] == name


# -- the command -----------------------------------------------------------------------------------------
def _cli(args, cwd):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", COLUMNS="200")
    code = "import sys; from sigbench.cli import main; sys.argv[0] = 'sigbench'; main(sys.argv[1:])"
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, cwd=cwd,
                          timeout=600, env=env)


@needs_litert
@needs_onnx
def test_export_model_from_a_saved_processor_prints_and_stores_the_check(fitted, tmp_path):
    fitted["dnn"].save(tmp_path / "saved")
    out = tmp_path / "out"
    res = _cli(["export-model", str(tmp_path / "saved"), "-o", str(out), "--json"], tmp_path)
    assert res.returncode == 0, res.stderr
    record = json.loads(res.stdout)  # stdout holds the JSON alone
    assert record["passed"] and {c["runtime"] for c in record["checks"]} == {"litert", "onnx"}
    assert all(c["rel_error"] <= 1e-5 for c in record["checks"])
    assert (out / "dnn.tflite").is_file() and (out / "dnn.onnx").is_file()
    assert json.loads((out / "dnn.export_check.json").read_text())["checks"] == record["checks"]


@needs_litert
def test_export_model_from_a_run_refits_checks_on_test_rows_and_quantises(tmp_path):
    clean, noisy = founding(900)
    sig = sb.Signal(noisy, sample_rate_hz=10.0, clean=clean, name="founding")
    sb.save_signal(sig, tmp_path / "sig.h5")
    sb.compare(str(tmp_path / "sig.h5"), methods=["dnn:units=8,epochs=2"], window=WINDOW, seeds=1,
               output=tmp_path / "run.h5")
    out = tmp_path / "out"
    res = _cli(["export-model", str(tmp_path / "run.h5"), "--label", "dnn:units=8,epochs=2", "-o", str(out),
                "--export-format",
                "litert", "--int8", "--json"], tmp_path)
    assert res.returncode == 0, res.stderr
    record = json.loads(res.stdout)
    assert "test rows of run" in record["rows_source"]
    assert "max |diff| 0" in record["rows_source"]  # the refit reproduces the run's stored predictions
    litert, int8 = record["checks"]
    assert litert["passed"] and int8["quantize"] == "int8" and int8["passed"] is None
    assert 0 < int8["rel_error"] < 0.2  # int8 differs, by a few per cent of the output range


def test_export_model_refuses_a_dsp_processor_in_one_line(tmp_path, rng):
    x = rng.normal(size=300)
    sb.get_processor("wiener")().fit(sb.sliding_windows(x[:-1], 8), x[8:]).save(tmp_path / "w")
    res = _cli(["export-model", str(tmp_path / "w"), "-o", str(tmp_path / "out")], tmp_path)
    assert res.returncode == 1
    assert res.stderr.strip().startswith("Error:") and "DSP processor" in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists()
