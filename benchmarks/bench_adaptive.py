"""Throughput of sigbench's adaptive filters against padasip, the FIR bank against bare scipy, and
peak memory of chunked LMS.

Run: ``python benchmarks/bench_adaptive.py`` (``--quick`` for a smoke run, ``--cpu-time`` to time CPU
time rather than wall time on a shared machine, ``--only-adaptive`` for the LMS/NLMS/RLS lines). One
line per case, ending in the ratio. padasip is timed on fewer samples (it runs a Python loop, RLS with two n×n matrix
products per sample) and reported as a per-sample rate; both run in the same process on the same
data. The numba kernels are compiled (or loaded from the cache) before timing.
"""

from __future__ import annotations

import argparse
import time
import tracemalloc

import numpy as np
import padasip as pa
from scipy.signal import oaconvolve

import sigbench as sb
from sigbench.windows import sliding_windows

#: the clock of every timing: wall time, or with --cpu-time this process's CPU time (all its threads), which
#: other jobs on a shared machine disturb far less than the wall clock
CLOCK = time.perf_counter


def best_of(repeats, fn):
    best = float("inf")
    for _ in range(repeats):
        start = CLOCK()
        fn()
        best = min(best, CLOCK() - start)
    return best


def adaptive(name, ours_kw, theirs_cls, theirs_kw, numtaps, n, n_padasip, rng):
    x = rng.normal(size=n + numtaps)
    X = sliding_windows(x[:-1], numtaps)
    d = np.convolve(x, rng.normal(size=8) / 4)[numtaps: numtaps + n] + 0.01 * rng.normal(size=n)
    cls = sb.get_processor(name)
    cls(numtaps=numtaps, **ours_kw).fit(X[:100], d[:100])  # compile or load the cached kernel

    def ours():
        cls(numtaps=numtaps, **ours_kw).fit(X, d)

    t_ours = best_of(2, ours)
    Xp = np.array(X[:n_padasip])
    dp = d[:n_padasip]

    def theirs():
        theirs_cls(numtaps, w="zeros", **theirs_kw).run(dp, Xp)

    t_theirs = best_of(1, theirs)
    rate_ours = n / t_ours / 1e6
    rate_theirs = n_padasip / t_theirs / 1e6
    print(
        f"{name:<5} numtaps={numtaps}  n={n}  sigbench {rate_ours:.3g} M/s  "
        f"padasip {rate_theirs:.3g} M/s (n={n_padasip})  speed-up {rate_ours / rate_theirs:.0f}×",
        flush=True,
    )


def fir_bank(n, rng):
    x = rng.normal(size=n)
    bank = sb.get_processor("fir-bank")(bands=8, numtaps=63)
    taps = bank.taps
    t_ours = t_bare = float("inf")
    for _ in range(6):  # interleaved, so both see the same machine state; the first round warms up
        t_ours = min(t_ours, best_of(1, lambda: bank.filter(x)))
        t_bare = min(t_bare, best_of(1, lambda: oaconvolve(x[:, None], taps.T, mode="full", axes=0)[:n]))
    print(
        f"fir-bank bands=8  numtaps=63  n={n}  sigbench {n / t_ours / 1e6:.3g} M/s  "
        f"scipy.signal.oaconvolve {n / t_bare / 1e6:.3g} M/s  ratio {t_ours / t_bare:.2f}× (limit 1.2×)",
        flush=True,
    )


def chunked_memory(numtaps, chunk, chunks, seed):
    """Peak traced memory of LMS over ``chunks`` chunks of a stream generated chunk by chunk."""
    lms = sb.get_processor("lms")(numtaps=numtaps, mu=0.001)
    rng = np.random.default_rng(seed)
    head = rng.normal(size=numtaps + 100)
    lms.fit(sliding_windows(head[:-1], numtaps)[:100], head[numtaps:][:100])
    tail = head[-(numtaps - 1):]
    tracemalloc.start()
    for _ in range(chunks):
        stream = np.concatenate([tail, rng.normal(size=chunk)])  # the next chunk of a long stream
        lms.predict_online(sliding_windows(stream[:-1], numtaps), stream[numtaps:])
        tail = stream[-(numtaps - 1):].copy()
        del stream  # only the last numtaps - 1 samples carry over
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak


def memory(numtaps, chunk):
    one = chunked_memory(numtaps, chunk, 1, 0)
    ten = chunked_memory(numtaps, chunk, 10, 0)
    print(
        f"lms-chunked numtaps={numtaps}  chunk={chunk}  n={10 * chunk}  peak 1 chunk {one / 2**20:.1f} MiB  "
        f"peak 10 chunks {ten / 2**20:.1f} MiB  ratio {ten / one:.2f}×",
        flush=True,
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes, for a smoke run")
    parser.add_argument("--cpu-time", action="store_true",
                        help="time with this process's CPU time instead of the wall clock (a shared machine)")
    parser.add_argument("--only-adaptive", action="store_true", help="the lms, nlms and rls lines only")
    args = parser.parse_args()
    global CLOCK
    if args.cpu_time:
        CLOCK = time.process_time
    rng = np.random.default_rng(0)
    n = 100_000 if args.quick else 1_000_000
    small = 5_000 if args.quick else 20_000
    adaptive("lms", {"mu": 0.002}, pa.filters.FilterLMS, {"mu": 0.002}, 64, n, small, rng)
    adaptive("nlms", {"mu": 0.5, "eps": 1e-3}, pa.filters.FilterNLMS, {"mu": 0.5, "eps": 1e-3}, 64, n, small, rng)
    adaptive("rls", {"lam": 0.999, "delta": 0.1}, pa.filters.FilterRLS, {"mu": 0.999, "eps": 0.1}, 64, n,
             small // 10, rng)
    if args.only_adaptive:
        return
    fir_bank(1_000_000 if args.quick else 10_000_000, rng)
    memory(64, 100_000 if args.quick else 1_000_000)


if __name__ == "__main__":
    main()
