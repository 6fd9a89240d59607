"""Neural processors: shapes, learning, determinism, persistence, lazy import, validation, streaming."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import textwrap
import tracemalloc

import numpy as np
import pytest

import sigbench as sb
from sigbench.console import set_quiet
from sigbench.errors import FileFormatError, ProcessorError, UnsafeFileError, ValidationError
from sigbench.processor import DESCRIBE_KEYS

NAMES = ("dnn", "cnn", "lstm", "cnn-lstm", "rnn")
#: tiny configurations: a couple of epochs on a short signal, each fit takes about a second
TINY = {
    "dnn": {"units": (8,), "epochs": 2, "batch_size": 64},
    "cnn": {"kernel_sizes": (3, 5), "filters": 2, "dense_units": (4,), "epochs": 2, "batch_size": 64},
    "lstm": {"units": (4,), "timesteps": 4, "epochs": 2, "batch_size": 64},
    "cnn-lstm": {"filters": 2, "kernel_size": 3, "units": (4,), "epochs": 2, "batch_size": 64},
    "rnn": {"units": (4,), "timesteps": 4, "epochs": 2, "batch_size": 64},
}
WINDOW = 16


def founding(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """The founding signal: three sines sampled every 0.1 s, white noise at 10 dB SNR."""
    t = np.arange(n) * 0.1
    clean = np.sin(t) + np.sin(np.pi * t / 2) + np.sin(-3 * np.pi * t / 2)
    noisy = clean + np.random.default_rng(seed).normal(0, 10 ** (-10 / 20), n)
    return clean, noisy


def windows(n: int = 600, window: int = WINDOW) -> tuple[np.ndarray, np.ndarray]:
    clean, noisy = founding(n)
    return sb.sliding_windows(noisy[:-1], window), clean[window:]


NEURAL_MODULES = tuple(f"sigbench.plugins.neural.{m}" for m in ("dnn", "cnn", "lstm", "cnn_lstm", "rnn"))


@pytest.fixture(scope="module", autouse=True)
def neural_host():
    """A host with only the neural built-ins (isolated from the other plugins' state)."""
    from sigbench.host import Host, reset_host

    yield reset_host(Host(load_entrypoints=False, builtins=NEURAL_MODULES))
    reset_host(Host(load_entrypoints=False))


@pytest.fixture(scope="module")
def quiet():
    set_quiet(True)
    yield
    set_quiet(False)


@pytest.fixture(scope="module")
def fitted(quiet):
    """One tiny fitted model per architecture, shared by the tests of this module."""
    X, y = windows()
    return {name: sb.get_processor(name)(**TINY[name]).fit(X, y) for name in NAMES}


# -- registration, shapes, describe ----------------------------------------------------------------
@pytest.mark.parametrize("name", NAMES)
def test_registered_with_tags(name):
    entry = {p["name"]: p for p in sb.list_processors()}[name]
    assert entry["family"] == "neural"
    assert entry["deterministic"] is False
    assert entry["requires"] == ["keras"]


@pytest.mark.parametrize("name", NAMES)
def test_predict_shape_1d_targets(fitted, name):
    X, _ = windows()
    out = fitted[name].predict(X[:50])
    assert out.shape == (50,)
    assert out.dtype == np.float64
    assert np.isfinite(out).all()


@pytest.mark.parametrize("name", ["dnn", "cnn-lstm"])
def test_predict_shape_2d_targets(quiet, name):
    # spectrum-like task: several outputs per row; the output layer is as wide as the targets
    X, _ = windows(300)
    Y = np.stack([X[:, -1], X[:, 0], X.mean(axis=1)], axis=1)
    proc = sb.get_processor(name)(**{**TINY[name], "epochs": 1}).fit(X, Y)
    assert proc.predict(X[:7]).shape == (7, 3)
    assert proc.model.output_shape == (None, 3)


@pytest.mark.parametrize("name", NAMES)
def test_describe(fitted, name):
    info = fitted[name].describe()
    assert set(DESCRIBE_KEYS) <= set(info)
    assert info["family"] == "neural"
    assert info["trainable_params"] == fitted[name].model.count_params()
    assert info["macs_per_sample"] > 0
    assert info["epochs_run"] == 2
    assert len(info["loss_history"]) == len(info["val_loss_history"]) == 2
    assert info["backend"] == os.environ.get("KERAS_BACKEND", "tensorflow")
    assert info["device"]
    assert info["fit_s"] >= info["train_s"] > 0
    json.dumps(info)  # JSON-serialisable (saved into run files)


def test_dnn_counts_from_layer_shapes(fitted):
    # units (8,), window 16, one output: 16*8 + 8*1 MACs (+ 16 + 1 for the standardisation)
    dnn = fitted["dnn"]
    assert dnn.macs_per_sample() == 16 * 8 + 8 * 1 + 16 + 1
    assert dnn.trainable_params() == (16 * 8 + 8) + (8 + 1)


def test_lstm_macs_from_layer_shapes(fitted):
    # 4 steps of 4 features, 4 units: per step 4*4*(4+4) + 3*4; head 4*1; standardisation 16 + 1
    assert fitted["lstm"].macs_per_sample() == 4 * (4 * 4 * 8 + 12) + 4 + 17


def test_cnn_kernels_shape(fitted):
    kernels = fitted["cnn"].kernels()
    assert [k.shape for k in kernels] == [(2, 3), (2, 5)]
    layer = fitted["cnn"].model.get_layer("conv_1")
    np.testing.assert_array_equal(kernels[1], np.asarray(layer.kernel)[:, 0, :].T)


def test_cnn_kernels_before_fit():
    with pytest.raises(ProcessorError, match="must be fitted before kernels"):
        sb.get_processor("cnn")().kernels()


# -- learning -----------------------------------------------------------------------------------------
def test_dnn_beats_naive_on_founding_task(quiet):
    clean, noisy = founding(3000)
    X, y = sb.sliding_windows(noisy[:-1], 64), clean[64:]
    split = 2400
    dnn = sb.get_processor("dnn")(epochs=15, batch_size=32, seed=1).fit(X[:split], y[:split])
    err = np.mean((dnn.predict(X[split:]) - y[split:]) ** 2)
    naive = np.mean((X[split:, -1] - y[split:]) ** 2)
    # the naive predictor sits near the noise floor (~8 dB); a trained DNN is far better
    assert 10 * np.log10(naive / err) > 6.0
    hist = dnn.describe()["loss_history"]
    assert hist[-1] < hist[0] / 3


@pytest.mark.slow
@pytest.mark.parametrize("name", NAMES)
def test_defaults_beat_naive_on_founding_task(quiet, name):
    clean, noisy = founding(5000)
    X, y = sb.sliding_windows(noisy[:-1], 64), clean[64:]
    split = 3500
    proc = sb.get_processor(name)().fit(X[:split], y[:split])
    err = np.mean((proc.predict(X[split:]) - y[split:]) ** 2)
    naive = np.mean((X[split:, -1] - y[split:]) ** 2)
    assert 10 * np.log10(naive / err) > 8.0


# -- reproducibility ----------------------------------------------------------------------------------
def test_same_seed_same_predictions_different_seed_differs(quiet):
    X, y = windows(400)
    kw = {**TINY["cnn"], "seed": 3}
    a = sb.get_processor("cnn")(**kw).fit(X, y).predict(X)
    b = sb.get_processor("cnn")(**kw).fit(X, y).predict(X)
    c = sb.get_processor("cnn")(**{**kw, "seed": 4}).fit(X, y).predict(X)
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)


def test_fit_leaves_global_rng_alone(quiet):
    import random

    X, y = windows(200)
    np_state, py_state = np.random.get_state()[1].copy(), random.getstate()
    sb.get_processor("dnn")(units=(2,), epochs=1).fit(X, y)
    np.testing.assert_array_equal(np.random.get_state()[1], np_state)
    assert random.getstate() == py_state


# -- persistence ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", NAMES)
def test_save_load_round_trip(fitted, name, tmp_path):
    proc = fitted[name]
    proc.save(tmp_path / name)
    assert sorted(p.name for p in (tmp_path / name).iterdir()) == [
        "architecture.json", "model.weights.h5", "processor.json", "state.npz"]
    back = type(proc).load(tmp_path / name)
    X, _ = windows()
    if name == "rnn":  # TensorFlow's SimpleRNN rounds (float32) differently once a prediction was traced with
        np.testing.assert_allclose(back.predict(X), proc.predict(X), rtol=1e-6, atol=1e-6)  # another batch
    else:
        np.testing.assert_array_equal(back.predict(X), proc.predict(X))
    assert back.describe() == proc.describe()


def test_load_refuses_edited_architecture(fitted, tmp_path):
    fitted["dnn"].save(tmp_path)
    record = json.loads((tmp_path / "architecture.json").read_text())
    record["layers"][1]["units"] = 9
    (tmp_path / "architecture.json").write_text(json.dumps(record))
    with pytest.raises(FileFormatError, match="does not match the model built from its parameters"):
        sb.get_processor("dnn").load(tmp_path)


def test_load_refuses_weights_with_external_link(fitted, tmp_path):
    import h5py

    fitted["dnn"].save(tmp_path)
    (tmp_path / "secret.h5").write_bytes(b"")
    with h5py.File(tmp_path / "model.weights.h5", "a") as f:
        f["sneaky"] = h5py.ExternalLink("/etc/passwd", "/data")
    with pytest.raises(UnsafeFileError, match="ExternalLink"):
        sb.get_processor("dnn").load(tmp_path)


def test_load_refuses_weights_shape_bomb(fitted, tmp_path):
    import h5py

    fitted["dnn"].save(tmp_path)
    with h5py.File(tmp_path / "model.weights.h5", "a") as f:
        f.create_dataset("bomb", shape=(10**9,), dtype="f8", chunks=(1024,), compression="gzip")
    with pytest.raises(UnsafeFileError, match="declare more than"):
        sb.get_processor("dnn").load(tmp_path)


def test_load_refuses_non_hdf5_weights(fitted, tmp_path):
    fitted["dnn"].save(tmp_path)
    (tmp_path / "model.weights.h5").write_text("not hdf5")
    with pytest.raises(FileFormatError, match="not a readable weights file"):
        sb.get_processor("dnn").load(tmp_path)


# -- lazy import ---------------------------------------------------------------------------------------
def test_keras_not_imported_until_fit():
    code = textwrap.dedent("""
        import sys
        import numpy as np
        import sigbench
        heavy = ("tensorflow", "keras", "jax", "torch")
        cls = sigbench.get_processor("dnn")
        proc = cls(units=(2,), epochs=1)
        for name in ("cnn", "lstm", "cnn-lstm"):
            sigbench.get_processor(name)()
        print("before", sorted(m for m in heavy if m in sys.modules))
        x = np.sin(0.1 * np.arange(200))
        proc.fit(sigbench.sliding_windows(x[:-1], 8), x[8:])
        print("after", "keras" in sys.modules)
    """)
    env = {"SIGBENCH_QUIET": "1", "KERAS_BACKEND": "tensorflow", "PATH": "/usr/bin:/bin"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "before []" in out.stdout
    assert "after True" in out.stdout


# -- invalid configurations (each with its exact message) ----------------------------------------------------
@pytest.mark.parametrize(
    ("name", "kwargs", "message"),
    [
        # a hidden layer of zero units
        ("dnn", {"units": (64, 0)}, "expected every entry of units to be an integer >= 1; received: units=(64, 0)"),
        # an LSTM layer of zero units
        ("lstm", {"units": (0,)}, "expected every entry of units to be an integer >= 1; received: units=(0,)"),
        # an empty LSTM stack
        ("lstm", {"units": ()}, "expected at least one entry in units; received: units=()"),
        # zero filters
        ("cnn", {"filters": 0}, "expected filters >= 1; received: filters=0"),
        # unknown pooling
        ("cnn", {"pooling": "median"}, "expected pooling to be one of max, avg; received: pooling='median'"),
        # unknown activation
        ("dnn", {"activation": "sigmund"},
         "expected activation to be one of sigmoid, tanh, relu, linear, elu, gelu, swish, softplus; "
         "received: activation='sigmund'"),
        # zero epochs
        ("dnn", {"epochs": 0}, "expected epochs >= 1; received: epochs=0"),
        # a validation fraction of the whole segment
        ("dnn", {"validation_fraction": 1.0},
         "expected validation_fraction in [0.0, 1.0); received: validation_fraction=1.0"),
        # a fractional seed
        ("dnn", {"seed": 1.5}, "expected seed to be an integer >= 0; received: seed=1.5"),
        # a negative learning rate
        ("dnn", {"learning_rate": -1e-3}, "expected learning_rate > 0; received: learning_rate=-0.001"),
        # a timesteps of zero
        ("lstm", {"timesteps": 0}, "expected timesteps >= 1; received: timesteps=0"),
        # standardize given as a string
        ("dnn", {"standardize": "yes"}, "expected standardize to be True or False; received: standardize='yes'"),
    ],
)
def test_invalid_constructor_arguments(name, kwargs, message):
    with pytest.raises(ValidationError) as info:
        sb.get_processor(name)(**kwargs)
    assert str(info.value) == message


@pytest.mark.parametrize(
    ("name", "kwargs", "message"),
    [
        # window 16 is not a multiple of 5 steps
        ("lstm", {"timesteps": 5}, "expected window divisible by timesteps; received: window=16, timesteps=5"),
        # a 17-tap kernel on a 16-sample window
        ("cnn", {"kernel_sizes": (3, 17)},
         "expected every kernel size <= window (16); received: kernel_sizes=[3, 17]"),
        ("cnn-lstm", {"kernel_size": 20}, "expected kernel_size <= window (16); received: kernel_size=20"),
        # a 16-tap kernel leaves one position, too short for pooling by 2
        ("cnn-lstm", {"kernel_size": 16},
         "expected window - kernel_size + 1 >= pool_size (1 < 2); received: pool_size=2"),
    ],
)
def test_invalid_for_the_window(name, kwargs, message):
    X, y = windows(100)
    proc = sb.get_processor(name)(**kwargs)
    with pytest.raises(ValidationError) as info:
        proc.fit(X, y)
    assert str(info.value) == message
    assert not proc.fitted


def test_validation_split_needs_a_training_row():
    X, y = windows(18)  # one row... plus one
    with pytest.raises(ValidationError, match="at least one training row"):
        sb.get_processor("dnn")(validation_fraction=0.9).fit(X[:1], y[:1])


def test_standardisation_statistics_from_training_rows_only(quiet):
    # the held-out rows (the last quarter) sit at +100: statistics that saw them would be far off
    X, y = windows(416)  # 400 rows: 300 training, 100 held out
    X, y = np.array(X), y.copy()
    X[300:] += 100.0
    y[300:] += 100.0
    model = sb.get_processor("dnn")(units=(4,), epochs=1, validation_fraction=0.25).fit(X, y)
    assert model.describe()["train_rows"] == 300
    stats = model.get_state()
    np.testing.assert_allclose(stats["x_shift"], X[:300].mean(), rtol=1e-12)
    np.testing.assert_allclose(stats["x_scale"], X[:300].std(), rtol=1e-12)
    np.testing.assert_allclose(stats["y_shift"], [y[:300].mean()], rtol=1e-12)
    np.testing.assert_allclose(stats["y_scale"], [y[:300].std()], rtol=1e-12)
    assert abs(float(stats["x_shift"])) < 1.0


def test_rnn_macs_from_layer_shapes(fitted):
    # 4 steps of 4 features, 4 units: per step 4*(4+4); head 4*1; standardisation 16 + 1
    assert fitted["rnn"].macs_per_sample() == 4 * 4 * (4 + 4) + 4 + 17


@pytest.mark.parametrize(("name", "preset"), [("dnn", "article"), ("dnn", "dft"), ("lstm", "article"),
                                              ("rnn", "article")])
def test_presets_fill_in_what_is_not_given(name, preset):
    cls = sb.get_processor(name)
    params = cls(preset=preset).get_params()
    for key, value in cls.presets[preset].items():
        assert params[key] == (list(value) if isinstance(value, tuple) else value)
    assert params["preset"] == preset
    # an explicit argument wins, even one equal to the constructor's default
    assert cls(preset=preset, epochs=3).get_params()["epochs"] == 3
    assert cls(preset=preset, learning_rate=2e-3).get_params()["learning_rate"] == 2e-3


def test_article_dnn_preset_is_the_articles_network(quiet, tmp_path):
    model = sb.get_processor("dnn")(preset="article", epochs=1).fit(*windows())
    dense = [layer for layer in model.describe()["architecture"] if layer["class"] == "Dense"] \
        if "architecture" in model.describe() else None
    arch = [(layer.units, layer.get_config()["activation"]) for layer in model.model.layers
            if type(layer).__name__ == "Dense"]
    assert arch == [(32, "relu"), (8, "relu"), (1, "linear")]
    assert dense is None or len(dense) == 3
    again = type(model).load(model.save(tmp_path))
    assert again.get_params() == model.get_params()


def test_unknown_preset_is_refused():
    with pytest.raises(ValidationError, match=r"expected preset one of article, dft for dnn; received: preset='x'"):
        sb.get_processor("dnn")(preset="x")


# -- the windows pipeline ---------------------------------------------------------------------------------
def test_batches_are_copies_of_batch_rows_only():
    from sigbench.plugins.neural._batches import window_batches

    x = np.arange(1_000_256, dtype=np.float64)
    X = sb.sliding_windows(x, 256)  # 10^6 rows x 256: 2 GB if it were materialised
    y = x[255:]
    data = window_batches(X, y, 128, stop=900_000, seed=0)
    assert data.inputs is X and np.shares_memory(data.inputs, x)
    assert len(data) == math.ceil(900_000 / 128)
    xb, yb = data[3]
    assert xb.shape == (128, 256) and xb.dtype == np.float32 and xb.flags.c_contiguous
    assert yb.shape == (128, 1)
    # each row is a true window and its target the window's last sample (identity statistics)
    np.testing.assert_array_equal(xb[:, -1], yb[:, 0])
    np.testing.assert_array_equal(np.diff(xb, axis=1), 1.0)
    last = data[len(data) - 1]
    assert last[0].shape == (900_000 - 128 * (len(data) - 1), 256)
    # the shuffled order covers every training row exactly once per epoch, never the held-out rows
    rows = np.concatenate([data[i][1][:, 0] for i in range(len(data))]) - 255
    np.testing.assert_array_equal(np.sort(rows), np.arange(900_000))
    val = window_batches(X, y, 512, start=900_000)
    assert val[0][0][0, 0] == 900_000


def _long_view(n: int = 200_256, window: int = 256) -> tuple[np.ndarray, np.ndarray]:
    x = np.sin(0.05 * np.arange(n))
    return sb.sliding_windows(x[:-1], window), x[window:]


def _traced_peak(fn) -> int:
    from sigbench.plugins.neural._backend import import_keras

    import_keras()
    sb.get_processor("dnn")(units=(2,), epochs=1).fit(*windows(100))  # warm up Keras/TF outside the trace
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_training_pipeline_never_copies_all_rows(quiet):
    # 200 000 rows x 256 samples: a float32 copy would be 205 MB; the neural training pipeline
    # (statistics, batches, validation, Keras fit) must stay far below that
    X, y = _long_view()
    proc = sb.get_processor("dnn")(units=(4,), epochs=1, batch_size=1024, validation_fraction=0.1)
    peak = _traced_peak(lambda: proc._fit(X, y))
    assert proc._training["max_batch_bytes"] == 1024 * 256 * 4  # one float32 batch, never all rows
    assert peak < 30e6, f"peak traced NumPy/Python memory {peak / 1e6:.0f} MB"


def test_public_fit_never_copies_all_rows(quiet):
    X, y = _long_view()
    proc = sb.get_processor("dnn")(units=(4,), epochs=1, batch_size=1024, validation_fraction=0.1)
    peak = _traced_peak(lambda: proc.fit(X, y))  # includes the base class's input checks
    assert proc.describe()["max_batch_bytes"] == 1024 * 256 * 4
    assert peak < 30e6, f"peak traced NumPy/Python memory {peak / 1e6:.0f} MB"


# -- progress ------------------------------------------------------------------------------------------
def test_progress_one_line_per_fit_off_a_tty_epochs_when_verbose_silent_when_quiet(capsys):
    """Issue 18 item 2: off a terminal one line per fit (epochs run, final loss, time); per-epoch lines only
    when verbose; nothing when quiet, nor from the Python API unless asked."""
    from sigbench.console import set_verbose, verbosity

    X, y = windows(200)
    set_quiet(False)
    try:
        sb.get_processor("dnn")(units=(2,), epochs=2).fit(X, y)
        lines = [ln for ln in capsys.readouterr().err.splitlines() if ln.strip()]
        assert len(lines) == 1, lines
        assert lines[0].startswith("dnn seed 0: 2/2 epochs, loss ") and "val loss" in lines[0]
        assert lines[0].endswith(" s")
        set_verbose(True)
        sb.get_processor("dnn")(units=(2,), epochs=2).fit(X, y)
        err = capsys.readouterr().err
        assert "dnn seed 0: epoch 1/2  loss " in err and "dnn seed 0: epoch 2/2  loss " in err
        set_verbose(None)
        set_quiet(True)
        sb.get_processor("dnn")(units=(2,), epochs=2).fit(X, y)
        assert capsys.readouterr().err == ""
        set_quiet(None)  # the Python API's default: silent
        sb.get_processor("dnn")(units=(2,), epochs=1).fit(X, y)
        assert capsys.readouterr().err == ""
        with verbosity(True):
            sb.get_processor("dnn")(units=(2,), epochs=1).fit(X, y)
        assert "1/1 epochs" in capsys.readouterr().err
    finally:
        set_verbose(None)
        set_quiet(False)


def test_declared_window_is_checked_at_construction_and_fit():
    import sigbench as sb

    t = np.arange(500) * 0.1
    x = np.sin(t) + np.sin(np.pi * t / 2) + np.random.default_rng(0).normal(0, 0.3, 500)
    w, y = sb.sliding_windows(x[:-1], 64), x[64:]
    p = sb.get_processor("lstm")(window=64, epochs=1).fit(w[:300], y[:300])  # the example
    assert p.predict(w[300:]).shape == (len(w) - 300,)
    with pytest.raises(sb.ValidationError, match="window divisible by timesteps"):
        sb.get_processor("lstm")(window=60, timesteps=7)  # rejected before any data
    with pytest.raises(sb.ValidationError, match="expected windows of 32 samples"):
        sb.get_processor("dnn")(window=32, epochs=1).fit(w[:300], y[:300])  # data disagree with the declaration


def test_initial_weights_ignore_other_threads_drawing_from_random():
    """A Dask worker's event loop uses ``random`` while a cell builds its model: the weights must not move."""
    import random
    import threading

    x = np.sin(0.1 * np.arange(700))
    rows, y = sb.sliding_windows(x[:-1], 16), x[16:]
    opts = {"units": (4,), "epochs": 1, "seed": 3, "patience": None}
    quiet = sb.get_processor("dnn")(**opts).fit(rows, y).predict(rows)
    stop = threading.Event()

    def draw() -> None:
        while not stop.is_set():
            random.random()

    thread = threading.Thread(target=draw)
    thread.start()
    try:
        busy = sb.get_processor("dnn")(**opts).fit(rows, y).predict(rows)
    finally:
        stop.set()
        thread.join()
    np.testing.assert_array_equal(busy, quiet)
