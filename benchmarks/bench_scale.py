"""Scale: an out-of-core ``run lms`` over a 2 GB float32 file, and a 16-cell sweep with 1 vs 2 workers.

Run: ``python benchmarks/bench_scale.py`` (``--size-gb 0.2`` on a short disk, ``--quick`` for a smoke
run, ``--skip-big`` / ``--skip-sweep`` to run one half). Every measured case runs in a fresh child
process, which prints its own peak RSS (``ru_maxrss``) and timings as one JSON line:

* ``stream-big``: ``stream_run("lms")`` over a ``sines`` signal written by ``stream_generate`` as float32
  (``data`` + ``clean`` = ``--size-gb`` on disk), output file with the signal copy and the predictions;
* ``stream-fit`` / ``memory-fit``: the same method streamed vs the in-memory ``run_method`` on a float64
  signal that fits (same per-sample work), for the throughput comparison;
* ``sweep``: ``sb.sweep("sines", {"snr_db": 4 values}, methods=[rls, lms, nlms, wiener])`` — 16 cells —
  inline (``workers=1``, the default), on a pool of one worker and on a pool of two (spawned processes);
* ``neural-file`` / ``neural-memory``: one epoch of a small ``dnn`` on the first 60 % of the rows of a
  float32 file (``--neural-n`` samples), trained from ``sb.FileWindows`` (batches read from the file) vs
  from the loaded signal's sliding-window view — peak RSS and rows/s (the same batches: ``shuffle_block``).

The big file lives in a temporary directory (``--dir``), removed at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def child(args) -> None:
    """One measured case, in this (fresh) process; prints one JSON line."""
    import sigbench as sb
    from sigbench import stream_generate, stream_run

    out: dict = {"case": args.case}
    if args.case == "generate":
        t0 = time.perf_counter()
        stream_generate("sines", args.path, args.n, seed=0, dtype=args.dtype, chunk_samples=args.chunk)
        out.update(wall_s=time.perf_counter() - t0, n=args.n, bytes=os.path.getsize(args.path))
    elif args.case == "sweep":
        sb.get_processor("lms")(numtaps=4).fit(sb.sliding_windows(sb.generate("sines", n=200).data, 4)[:-1],
                                               sb.generate("sines", n=200).data[4:])  # warm the kernel cache
        t0 = time.perf_counter()
        res = sb.sweep("sines", {"snr_db": [0.0, 5.0, 10.0, 20.0]}, "predict", ["rls", "lms", "nlms", "wiener"],
                       n=args.n, window=args.window, seeds=1, include_naive=False, workers=args.workers,
                       timeout=1e6 if args.pool else None)
        out.update(wall_s=time.perf_counter() - t0, cells=len(res.rows),
                   failed=[r.method for r in res.rows if r.status != "ok"], workers=args.workers)
    elif args.case.startswith("neural"):
        from sigbench.plugins.neural._backend import import_keras

        import_keras()
        out["rss_before_mb"] = _rss_mb()
        opts = {"units": (16,), "epochs": 1, "batch_size": 1024, "patience": None, "validation_fraction": 0.0,
                "shuffle_block": 2**16, "seed": 0}
        t0 = time.perf_counter()
        if args.case == "neural-file":
            with sb.FileWindows(args.path, window=args.window, stop=int(args.n * 0.6), block_rows=2**16) as rows:
                model = sb.get_processor("dnn")(**opts).fit(rows)
        else:
            sig = sb.load_signal(args.path)
            x = sb.sliding_windows(sig.data, args.window)
            rows_n = int(args.n * 0.6)
            model = sb.get_processor("dnn")(**opts).fit(x[:rows_n], sig.clean[args.window: args.window + rows_n])
        wall = time.perf_counter() - t0
        out.update(wall_s=wall, rows=int(args.n * 0.6), rows_per_s=int(args.n * 0.6) / wall,
                   final_loss=model.describe()["final_loss"])
    else:
        sb.get_processor("lms")(numtaps=4).fit(sb.sliding_windows(sb.generate("sines", n=200).data, 4)[:-1],
                                               sb.generate("sines", n=200).data[4:])  # warm the kernel cache
        out["rss_before_mb"] = _rss_mb()
        t0 = time.perf_counter()
        if args.case == "memory":
            res = sb.run_method("lms", args.path, "predict", window=args.window, output=args.output)
        else:
            res = stream_run("lms", args.path, window=args.window, output=args.output, chunk_samples=args.chunk)
        wall = time.perf_counter() - t0
        row = res.rows[0]
        n = res.signal["samples"]
        out.update(wall_s=wall, n=n, samples_per_s=n / wall, fit_s=row.cost.get("fit_s"),
                   predict_samples_per_s=row.cost.get("samples_per_s"), snr_db=row.metrics.get("snr_db"),
                   status=row.status, output_bytes=os.path.getsize(args.output))
    out["peak_rss_mb"] = _rss_mb()
    print(json.dumps(out))


def run_child(**kw) -> dict:
    cmd = [sys.executable, __file__, "--child"]
    for key, value in kw.items():
        cmd += [f"--{key.replace('_', '-')}", str(value)]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"{kw}: {proc.stderr[-2000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--case", default="stream")
    ap.add_argument("--path", default="")
    ap.add_argument("--output", default="")
    ap.add_argument("--n", type=int, default=0)
    ap.add_argument("--dtype", default="float32")
    ap.add_argument("--window", type=int, default=64)
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--chunk", type=int, default=2**20)
    ap.add_argument("--pool", type=int, default=0, help=argparse.SUPPRESS)
    ap.add_argument("--size-gb", type=float, default=2.0, help="size of the big file (data + clean, float32)")
    ap.add_argument("--fit-samples", type=int, default=2**23, help="samples of the in-memory comparison")
    ap.add_argument("--sweep-n", type=int, default=200_000, help="samples per sweep grid point")
    ap.add_argument("--dir", default=None, help="directory for the temporary files (default: system temp)")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--skip-big", action="store_true")
    ap.add_argument("--skip-sweep", action="store_true")
    ap.add_argument("--skip-neural", action="store_true")
    ap.add_argument("--neural-n", type=int, default=2**24, help="samples of the neural training file")
    args = ap.parse_args()
    if args.child:
        child(args)
        return
    if args.quick:
        args.size_gb, args.fit_samples, args.sweep_n, args.neural_n = 0.02, 2**18, 20_000, 2**17
    tmp = Path(tempfile.mkdtemp(prefix="sigbench-scale-", dir=args.dir))
    try:
        if not args.skip_big:
            free = shutil.disk_usage(tmp).free
            need = args.size_gb * 2**30 * 2.8  # input + output (signal copy + predictions and test arrays)
            if free < need:
                sys.exit(f"need about {need / 2**30:.1f} GiB free in {tmp}, have {free / 2**30:.1f}; "
                         "use --size-gb or --dir")
            n_big = int(args.size_gb * 2**30 / 8)  # float32 data + clean
            big = tmp / "big.h5"
            gen = run_child(case="generate", path=big, n=n_big, dtype="float32")
            print(f"generate sines  n={n_big:,}  {gen['bytes'] / 2**30:.2f} GiB  {gen['wall_s']:.1f} s  "
                  f"{n_big / gen['wall_s'] / 1e6:.1f} M samples/s  peak RSS {gen['peak_rss_mb']:.0f} MB")
            r = run_child(case="stream", path=big, output=tmp / "big-out.h5")
            print(f"stream lms      n={r['n']:,}  {r['wall_s']:.1f} s  {r['samples_per_s'] / 1e6:.2f} M samples/s "
                  f"(fit {r['fit_s']:.1f} s, predict {r['predict_samples_per_s'] / 1e6:.1f} M rows/s)  "
                  f"peak RSS {r['peak_rss_mb']:.0f} MB (after imports {r['rss_before_mb']:.0f} MB)  "
                  f"output {r['output_bytes'] / 2**30:.2f} GiB  status {r['status']}")
            (tmp / "big-out.h5").unlink()
            big.unlink()
            fit_file = tmp / "fit.h5"
            run_child(case="generate", path=fit_file, n=args.fit_samples, dtype="float64")
            for case in ("memory", "stream"):
                r = run_child(case=case, path=fit_file, output=tmp / f"fit-{case}.h5")
                label = "in-memory lms" if case == "memory" else "stream lms   "
                print(f"{label}   n={r['n']:,} float64  {r['wall_s']:.1f} s  "
                      f"{r['samples_per_s'] / 1e6:.2f} M samples/s "
                      f"(fit {r['fit_s']:.1f} s)  peak RSS {r['peak_rss_mb']:.0f} MB  snr_db {r['snr_db']:.6f}")
        if not args.skip_sweep:
            walls = {}
            # inline (the default for one worker: in this process, BLAS free to use every core), a pool of one
            # worker (one BLAS thread, as each pool worker), a pool of two
            for label, workers, pool in (("inline", 1, 0), ("pool-1", 1, 1), ("pool-2", 2, 0)):
                r = run_child(case="sweep", n=args.sweep_n, workers=workers, pool=pool)
                walls[label] = r["wall_s"]
                print(f"sweep 16 cells  {label:7s} {r['wall_s']:.1f} s  ({r['wall_s'] / 16:.2f} s/cell)  "
                      f"failed {r['failed'] or 'none'}")
            print(f"sweep speed-up 2 workers vs 1 (inline): {walls['inline'] / walls['pool-2']:.2f}x; "
                  f"vs a 1-worker pool: {walls['pool-1'] / walls['pool-2']:.2f}x")
        if not args.skip_neural:
            nfile = tmp / "neural.h5"
            run_child(case="generate", path=nfile, n=args.neural_n, dtype="float32")
            got = {}
            for case in ("neural-memory", "neural-file"):
                r = got[case] = run_child(case=case, path=nfile, n=args.neural_n, window=32)
                print(f"{case:13s}  {r['rows']:,} rows × 32  1 epoch  {r['wall_s']:.1f} s  "
                      f"{r['rows_per_s'] / 1e3:.0f} k rows/s  peak RSS {r['peak_rss_mb']:.0f} MB "
                      f"(after imports {r['rss_before_mb']:.0f} MB)  loss {r['final_loss']:.6f}")
            mem, disk = got["neural-memory"], got["neural-file"]
            print(f"neural from file vs in memory: speed {disk['rows_per_s'] / mem['rows_per_s']:.2f}x, "
                  f"RSS above imports {disk['peak_rss_mb'] - disk['rss_before_mb']:.0f} MB vs "
                  f"{mem['peak_rss_mb'] - mem['rss_before_mb']:.0f} MB")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
