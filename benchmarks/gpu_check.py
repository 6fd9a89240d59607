"""Train and time the four neural processors on whatever Keras backend and device are active.

Run: ``KERAS_BACKEND=jax python benchmarks/gpu_check.py`` (or ``tensorflow``/``torch``). It needs
numpy, keras, the chosen backend and sigbench's own modules — **not** TensorFlow: it imports the
processor classes directly (no plugin discovery) and nothing here imports TensorFlow unless it is
the active backend. At the end it checks that, under another backend, TensorFlow was never imported.

For each model: fit time on the founding task (5000 samples, 10 dB SNR, window 64, next clean
sample; ``--epochs`` epochs, no early stopping), the prediction SNR on the held-out 30 % against the
naive "repeat the last sample" predictor, training and inference samples/s (inference on
``--infer-rows`` windows), and a save/load round-trip check. Exits 1 if any model fails to beat the
naive predictor or the round trip changes its predictions.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np

from sigbench.console import set_quiet
from sigbench.plugins.neural._backend import backend_name, device_name, import_keras
from sigbench.plugins.neural.cnn import CNN
from sigbench.plugins.neural.cnn_lstm import CNNLSTM
from sigbench.plugins.neural.dnn import DNN
from sigbench.plugins.neural.lstm import LSTM
from sigbench.windows import sliding_windows

MODELS = {"dnn": DNN, "cnn": CNN, "lstm": LSTM, "cnn-lstm": CNNLSTM}


def founding(n, seed=0):
    t = np.arange(n) * 0.1
    clean = np.sin(t) + np.sin(np.pi * t / 2) + np.sin(-3 * np.pi * t / 2)
    return clean, clean + np.random.default_rng(seed).normal(0, 10 ** (-10 / 20), n)


def snr_db(target, pred):
    return 10 * np.log10(np.mean(target**2) / np.mean((target - pred) ** 2))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--batch-size", type=int, default=None, help="default: each model's own default")
    parser.add_argument("--infer-rows", type=int, default=200_000)
    parser.add_argument("--only", nargs="*", choices=sorted(MODELS), default=list(MODELS))
    args = parser.parse_args()
    set_quiet(True)
    keras = import_keras()
    print(f"keras {keras.__version__}  backend {backend_name()}  device {device_name()}", flush=True)

    clean, noisy = founding(5000)
    X, y = sliding_windows(noisy[:-1], 64), clean[64:]
    split = int(0.7 * X.shape[0])
    _, noisy_long = founding(args.infer_rows + 64, seed=1)
    X_inf = sliding_windows(noisy_long[:-1], 64)
    naive = snr_db(y[split:], X[split:, -1])
    failures = []
    for name in args.only:
        kw = {"epochs": args.epochs, "patience": None}
        if args.batch_size:
            kw["batch_size"] = args.batch_size
        proc = MODELS[name](**kw).fit(X[:split], y[:split])
        info = proc.describe()
        pred = proc.predict(X[split:])
        proc.predict(X_inf[:1000])
        start = time.perf_counter()
        proc.predict(X_inf)
        infer_s = time.perf_counter() - start
        with tempfile.TemporaryDirectory() as tmp:
            proc.save(tmp)
            same = np.allclose(type(proc).load(tmp).predict(X[split:]), pred, rtol=1e-6, atol=1e-6)
        snr = snr_db(y[split:], pred)
        train_rate = info["train_rows"] * info["epochs_run"] / info["train_s"]
        print(f"{name:<8} fit {info['fit_s']:6.2f} s ({info['epochs_run']} epochs)  "
              f"SNR {snr:5.2f} dB (naive {naive:.2f})  train {train_rate / 1e3:7.1f} k samples/s  "
              f"infer {X_inf.shape[0] / infer_s / 1e3:8.1f} k samples/s  params {info['trainable_params']}  "
              f"round-trip {'ok' if same else 'MISMATCH'}", flush=True)
        if snr <= naive or not same:
            failures.append(name)
    if backend_name() != "tensorflow":
        print(f"tensorflow imported: {'tensorflow' in sys.modules}", flush=True)
    if failures:
        print(f"FAILED: {', '.join(failures)}", flush=True)
        sys.exit(1)


if __name__ == "__main__":
    main()
