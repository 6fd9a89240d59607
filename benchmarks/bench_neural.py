"""Neural processors: fit overhead against hand-written Keras, throughput, and peak memory.

Run: ``python benchmarks/bench_neural.py`` (``--quick`` for a smoke run, ``--memory`` to add the
10^7-sample peak-RSS check, which trains one epoch over 10^7 windows of 256 samples and takes minutes).

1. **Overhead.** sigbench ``dnn``, ``cnn`` and ``lstm`` are fitted on the founding task (5000
   samples, 10 dB SNR, window 64, next clean sample) for a fixed number of epochs (no early
   stopping), and the *same* network is trained by a hand-written Keras script: same layers, same
   standardised data, same epochs, batch size, Adam step and chronological 20 % validation split
   (``validation_split=0.2``, validated in batches of ``max(batch_size, 256)`` rows as sigbench
   does), shuffled each epoch. Timed: the hand-written build + compile + fit,
   and sigbench's whole ``fit`` (statistics, build, compile, streamed batches, fit). Runs alternate
   and the best of ``--repeats`` is kept. Two sigbench lines per model: the default
   (``steps_per_execution=16``) and ``steps_per_execution=1``, which isolates the streamed-batch
   pipeline's cost against Keras's in-memory arrays.
2. **Throughput.** Training samples/s (rows × epochs / Keras fit time) and inference samples/s on
   ``--infer-rows`` windows, against the least-squares (Wiener) FIR applied with a NumPy matmul.
3. **Memory** (``--memory``): peak RSS of a fresh process training ``dnn`` for one epoch on a
   10^7-sample signal with a 256-sample window (a float32 copy of the windows would be 10 GB).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import textwrap
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np

import sigbench as sb
from sigbench.console import set_quiet
from sigbench.plugins.neural._backend import import_keras


def founding(n, seed=0):
    t = np.arange(n) * 0.1
    clean = np.sin(t) + np.sin(np.pi * t / 2) + np.sin(-3 * np.pi * t / 2)
    return clean, clean + np.random.default_rng(seed).normal(0, 10 ** (-10 / 20), n)


# -- the hand-written Keras equivalents (what a user would type) --------------------------------------
def keras_dnn(keras, window):
    return keras.Sequential([
        keras.Input((window,)),
        keras.layers.Dense(64, activation="sigmoid"),
        keras.layers.Dense(32, activation="sigmoid"),
        keras.layers.Dense(8, activation="sigmoid"),
        keras.layers.Dense(1),
    ])


def keras_cnn(keras, window):
    inp = keras.Input((window,))
    x = keras.layers.Reshape((window, 1))(inp)
    branches = []
    for k in (3, 5, 9, 17):
        y = keras.layers.Conv1D(8, k, activation="relu")(x)
        y = keras.layers.MaxPooling1D(2)(y)
        branches.append(keras.layers.Flatten()(y))
    x = keras.layers.Concatenate()(branches)
    x = keras.layers.Dense(32, activation="relu")(x)
    return keras.Model(inp, keras.layers.Dense(1)(x))


def keras_lstm(keras, window):
    return keras.Sequential([
        keras.Input((window,)),
        keras.layers.Reshape((window, 1)),
        keras.layers.LSTM(32),
        keras.layers.Dense(1),
    ])


CASES = {
    # name: (hand-written builder, epochs, batch size, learning rate)
    "dnn": (keras_dnn, 30, 32, 1e-3),
    "cnn": (keras_cnn, 20, 32, 1e-3),
    "lstm": (keras_lstm, 10, 64, 3e-3),
}


def hand_written_fit(keras, build, X, y, epochs, batch_size, lr, seed):
    keras.utils.set_random_seed(seed)
    model = build(keras, X.shape[1])
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=lr), loss="mse")
    model.fit(X, y, batch_size=batch_size, epochs=epochs, validation_split=0.2, shuffle=True, verbose=0,
              validation_batch_size=max(batch_size, 256))  # sigbench evaluates in batches of >= 256 rows
    return model


def overhead(name, X, y, repeats, epochs_scale):
    keras = import_keras()
    build, epochs, batch_size, lr = CASES[name]
    epochs = max(1, round(epochs * epochs_scale))
    # the hand-written script gets the same standardised data sigbench trains on, as one array
    Xs = np.ascontiguousarray((X - X.mean()) / X.std(), dtype=np.float32)
    ys = ((y - y.mean()) / y.std()).astype(np.float32)
    cls = sb.get_processor(name)
    kw = {"epochs": epochs, "batch_size": batch_size, "learning_rate": lr, "patience": None,
          "validation_fraction": 0.2}
    t_keras, t_ours, t_ours1, proc = [], [], [], None
    for _ in range(repeats):
        start = time.perf_counter()
        hand_written_fit(keras, build, Xs, ys, epochs, batch_size, lr, 0)
        t_keras.append(time.perf_counter() - start)
        proc = cls(**kw).fit(X, y)
        t_ours.append(proc.fit_s)
        t_ours1.append(cls(**kw, steps_per_execution=1).fit(X, y).fit_s)
    tk, to, to1 = min(t_keras), min(t_ours), min(t_ours1)
    print(f"{name:<4} fit {epochs} epochs  sigbench {to:.2f} s  keras {tk:.2f} s  overhead {to / tk:.2f}×", flush=True)
    print(f"{name:<4} fit {epochs} epochs  sigbench(steps_per_execution=1) {to1:.2f} s  keras {tk:.2f} s  "
          f"overhead {to1 / tk:.2f}×", flush=True)
    return proc


def throughput(name, proc, X_inf, fir_rate):
    info = proc.describe()
    train_rate = info["train_rows"] * info["epochs_run"] / info["train_s"]
    proc.predict(X_inf[:1000])  # compile the predict function
    start = time.perf_counter()
    proc.predict(X_inf)
    infer_rate = X_inf.shape[0] / (time.perf_counter() - start)
    print(f"{name:<4} train {train_rate / 1e3:.1f} k samples/s  infer {infer_rate / 1e3:.1f} k samples/s  "
          f"wiener-fir infer {fir_rate / 1e6:.1f} M samples/s  fir/{name} {fir_rate / infer_rate:.0f}×  "
          f"MACs/sample {info['macs_per_sample']:.0f} (fir {X_inf.shape[1]})", flush=True)


def wiener_fir_rate(X_train, y_train, X_inf, repeats):
    w, *_ = np.linalg.lstsq(np.asarray(X_train), y_train, rcond=None)
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        out = np.empty(X_inf.shape[0])
        for lo in range(0, X_inf.shape[0], 65536):  # chunked: the matmul needs contiguous rows
            out[lo:lo + 65536] = np.ascontiguousarray(X_inf[lo:lo + 65536]) @ w
        best = min(best, time.perf_counter() - start)
    return X_inf.shape[0] / best


MEMORY_SCRIPT = textwrap.dedent("""
    import os, resource, sys, time
    import numpy as np
    import sigbench as sb
    from sigbench.console import set_quiet
    from sigbench.plugins.neural._backend import import_keras

    def status(key):  # VmRSS (now) or VmHWM (peak since the last reset), GiB
        for line in open("/proc/self/status"):
            if line.startswith(key + ":"):
                return int(line.split()[1]) / 2**20
        return float("nan")

    set_quiet(True)
    n, window = int(sys.argv[1]), 256
    x = np.sin(0.05 * np.arange(n)) + np.random.default_rng(0).normal(0, 0.3, n)
    X, y = sb.sliding_windows(x[:-1], window), x[window:]
    import_keras()
    try:  # reset the peak-RSS mark so the fit's own peak is measured (Linux)
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        reset = True
    except OSError:
        reset = False
    before = status("VmRSS")
    start = time.perf_counter()
    proc = sb.get_processor("dnn")(epochs=1, batch_size=2048, validation_fraction=0.01).fit(X, y)
    fit_s = time.perf_counter() - start
    peak = status("VmHWM") if reset else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    copy_gb = X.shape[0] * window * 4 / 1e9
    print(f"memory  dnn 1 epoch  n={n}  window={window}  rows={X.shape[0]}  batch 2048  "
          f"peak RSS during fit {peak:.2f} GiB (RSS before fit {before:.2f} GiB: Python, TensorFlow, signal)  "
          f"fit {fit_s:.0f} s  a float32 copy of the windows would be {copy_gb:.1f} GB")
""")


def memory(n):
    out = subprocess.run([sys.executable, "-c", MEMORY_SCRIPT, str(n)], capture_output=True, text=True)
    print(out.stdout.strip() or out.stderr.strip().splitlines()[-1], flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run: fewer epochs, one repeat")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--infer-rows", type=int, default=200_000)
    parser.add_argument("--memory", action="store_true", help="add the 10^7-sample peak-RSS check (minutes)")
    parser.add_argument("--memory-samples", type=int, default=10_000_000)
    parser.add_argument("--only", nargs="*", choices=sorted(CASES), default=sorted(CASES))
    args = parser.parse_args()
    set_quiet(True)
    keras = import_keras()
    print(f"keras {keras.__version__} backend {keras.backend.backend()}  cpus {os.cpu_count()}", flush=True)

    clean, noisy = founding(5000)
    X, y = sb.sliding_windows(noisy[:-1], 64), clean[64:]
    X_train, y_train = X[:4000], y[:4000]
    _, noisy_long = founding(args.infer_rows + 64, seed=1)
    X_inf = sb.sliding_windows(noisy_long[:-1], 64)
    repeats = 1 if args.quick else args.repeats
    scale = 0.2 if args.quick else 1.0
    fir_rate = wiener_fir_rate(X_train, y_train, X_inf, 3)
    for name in args.only:
        proc = overhead(name, X_train, y_train, repeats, scale)
        throughput(name, proc, X_inf, fir_rate)
    if args.memory:
        memory(args.memory_samples)


if __name__ == "__main__":
    main()
