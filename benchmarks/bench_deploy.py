"""Deployment costs on the founding task: latency, real-time factor, memory, export parity, int8 and Q15.

Run: ``python benchmarks/bench_deploy.py`` (``--quick``: 2 epochs and 300 timed samples, a smoke run;
``--json FILE`` also writes every number). Needs the ``export`` extra for the LiteRT/ONNX lines.

The founding task: predict the next clean sample of ``sin(t) + sin(πt/2) + sin(−3πt/2)`` (step 0.1 s, so
10 Hz; 5000 samples; white noise at 10 dB SNR) from the last 64 noisy samples; train on the first 4000
samples, test on the last 1000. Every built-in processor of the ``predict`` task is fitted once (seed 0),
then:

1. **Accuracy**: prediction SNR on the test rows (clean power over error power, dB).
2. **Latency and RTF** (:func:`sigbench.deploy.streaming_latency`, 1000 timed samples after 50 warm-up):
   DSP processors through ``predict`` on one row (and ``predict_online`` for the adaptive ones: predict,
   then adapt), neural ones through the compiled single-row call and through the LiteRT interpreter and
   onnxruntime (one thread each). The spectrum baselines (``fft``, ``goertzel``) are timed on the
   ``spectrum`` task's 64-sample frames.
3. **Memory** (:func:`sigbench.deploy.memory_footprint`).
4. **Export parity**: LiteRT and ONNX files against Keras on the 936 test rows (relative error).
5. **Quantised accuracy**: each network in full-integer int8 LiteRT (calibrated on the training rows) and
   each FIR-type baseline in Q15 fixed point (40-bit accumulator), scored on the same test rows.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np

import sigbench as sb
from sigbench.console import set_quiet
from sigbench.deploy import check_export, deployment_costs, quantize_fitted, streaming_latency
from sigbench.protocol import Protocol

WINDOW = 64
RATE = 10.0
#: the founding comparison's methods, plus every other built-in that takes the predict task
METHODS = {
    "dnn": {}, "cnn": {}, "lstm": {}, "cnn-lstm": {},
    "lms": {"numtaps": 64, "mu": 0.005}, "nlms": {"numtaps": 64}, "rls": {"numtaps": 64},
    "wiener": {}, "fir-bank": {"mode": "features", "numtaps": 31, "bands": 16},
    "fir": {"numtaps": 31, "cutoff": 1.0}, "naive": {}, "linear-extrapolation": {},
}
Q15 = ("wiener", "fir-bank", "lms", "nlms", "rls", "fir", "naive", "linear-extrapolation")


def snr_db(y, pred):
    return float(10 * np.log10(np.sum(np.square(y - y.mean())) / np.sum(np.square(y - pred))))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2 epochs, 300 timed samples")
    parser.add_argument("--json", type=Path, help="also write every number to this file")
    args = parser.parse_args()
    set_quiet(True)
    samples = 300 if args.quick else 1000
    sig = sb.generate("sines", n=5000, snr_db=10, seed=0)
    data = sb.get_task("predict").prepare(sig, window=WINDOW)
    seg = Protocol(train_samples=4000).split(data)
    X_fit, y_fit = data.inputs[seg.fit], data.targets[seg.fit]
    X_test, y_test = data.inputs[seg.test], data.targets[seg.test]
    out: dict = {"environment": {"python": platform.python_version(), "machine": platform.machine(),
                                 "processor": platform.processor(), "cpu_count": os.cpu_count(),
                                 "load_average": os.getloadavg()}, "rows": {}}
    tmp = Path(tempfile.mkdtemp(prefix="bench-deploy-"))
    for name, params in METHODS.items():
        cls = sb.get_processor(name)
        if cls.family == "neural":
            params = {**params, "seed": 0, **({"epochs": 2} if args.quick else {})}
        start = time.perf_counter()
        proc = cls(**params).fit(X_fit, y_fit, sample_rate=RATE)
        row: dict = {"fit_s": time.perf_counter() - start, "snr_db": snr_db(y_test, proc.predict(X_test))}
        cols = deployment_costs(proc, X_test, sample_rate_hz=RATE, samples=samples, targets=y_test)
        row.update({k: v for k, v in cols.items() if k != "cpu_count"})
        if proc.online:
            frozen = streaming_latency(proc, X_test, sample_rate_hz=RATE, samples=samples, runtime="predict")
            row["frozen"] = {k: frozen[k] for k in ("latency_us_p50", "latency_us_p99", "rtf")}
        if cls.family == "neural":
            for fmt, suffix in (("litert", ".tflite"), ("onnx", ".onnx")):
                path = proc.export(tmp / f"{name}{suffix}", format=fmt)
                check = check_export(proc, path, X_test)
                lat = streaming_latency(proc, X_test, sample_rate_hz=RATE, samples=samples, runtime=fmt)
                row[fmt] = {"rel_error": check["rel_error"], "max_abs_error": check["max_abs_error"],
                            "file_bytes": check["file_bytes"], "passed": check["passed"],
                            "latency_us_p50": lat["latency_us_p50"], "latency_us_p99": lat["latency_us_p99"],
                            "rtf": lat["rtf"]}
            q = quantize_fitted(proc, "int8", X_fit, y_fit)
            lat = streaming_latency(q, X_test, sample_rate_hz=RATE, samples=samples)
            row["int8"] = {"snr_db": snr_db(y_test, q.predict(X_test)), "model_bytes": q.memory_bytes(),
                           "latency_us_p50": lat["latency_us_p50"], "latency_us_p99": lat["latency_us_p99"],
                           "rtf": lat["rtf"]}
        if name in Q15:
            q = quantize_fitted(proc, "q15", X_fit, y_fit)
            pred = q.predict(X_test)
            row["q15"] = {"snr_db": snr_db(y_test, pred), "numtaps": q.numtaps,
                          "saturations": q.describe()["saturations"],
                          "rms_vs_float": float(np.sqrt(np.mean(np.square(pred - proc.predict(X_test)))))}
        out["rows"][name] = row
        print(f"{name:22s} snr {row['snr_db']:6.2f} dB  p50 {row['latency_us_p50']:9.1f} µs  "
              f"p99 {row['latency_us_p99']:9.1f} µs  rtf {row['rtf']:10.0f}  ({row['latency_path']})",
              file=sys.stderr, flush=True)
    spec = sb.get_task("spectrum").prepare(sig, window=WINDOW)
    for name in ("fft", "goertzel"):
        proc = sb.get_processor(name)(**({"freqs": [1 / (2 * np.pi), 0.25, 0.75]} if name == "goertzel" else {}))
        targets = spec.targets if name == "fft" else np.zeros((len(spec), 6))
        proc.fit(spec.inputs, targets, sample_rate=RATE)
        cols = deployment_costs(proc, spec.inputs, sample_rate_hz=RATE, samples=min(samples, 1000))
        out["rows"][name] = {k: v for k, v in cols.items() if k != "cpu_count"}
    print(json.dumps(out, indent=1, default=float)) if not args.json else args.json.write_text(
        json.dumps(out, indent=1, default=float))
    table(out)


def table(out: dict) -> None:
    """Print the README tables (Markdown) from the numbers."""
    rows = out["rows"]
    print("\n| method | SNR dB | path | p50 µs | p99 µs | RTF @ 10 Hz | weights f32 | int8 | Q15 | activations |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for name, r in rows.items():
        snr = f"{r['snr_db']:.2f}" if "snr_db" in r else "(spectrum)"
        print(f"| {name} | {snr} | {r['latency_path']} | {r['latency_us_p50']:.1f} | {r['latency_us_p99']:.1f} | "
              f"{r['rtf']:,.0f} | {r['weights_bytes_f32']} | {r['weights_bytes_int8']} | {r['weights_bytes_q15']} | "
              f"{r['activation_bytes_f32']} |")
        if "frozen" in r:
            f = r["frozen"]
            print(f"| {name} (frozen) | | predict | {f['latency_us_p50']:.1f} | {f['latency_us_p99']:.1f} | "
                  f"{f['rtf']:,.0f} | | | | |")
        for fmt in ("litert", "onnx"):
            if fmt in r:
                e = r[fmt]
                print(f"| {name} | | {fmt} | {e['latency_us_p50']:.1f} | {e['latency_us_p99']:.1f} | "
                      f"{e['rtf']:,.0f} | | | | |")
    print("\n| network | LiteRT rel. error | ONNX rel. error | LiteRT bytes | ONNX bytes |")
    print("|---|---|---|---|---|")
    for name, r in rows.items():
        if "litert" in r:
            print(f"| {name} | {r['litert']['rel_error']:.2e} | {r['onnx']['rel_error']:.2e} | "
                  f"{r['litert']['file_bytes']} | {r['onnx']['file_bytes']} |")
    print("\n| method | float SNR dB | quantised | quantised SNR dB | change dB | p50 µs |")
    print("|---|---|---|---|---|---|")
    for name, r in rows.items():
        for scheme in ("int8", "q15"):
            if scheme in r:
                q = r[scheme]
                p50 = f"{q['latency_us_p50']:.1f}" if "latency_us_p50" in q else ""
                print(f"| {name} | {r['snr_db']:.2f} | {scheme} | {q['snr_db']:.2f} | "
                      f"{q['snr_db'] - r['snr_db']:+.3f} | {p50} |")


if __name__ == "__main__":
    main()
