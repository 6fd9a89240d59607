"""Start-up and time to verdict of the ``sigbench`` command line.

Run: ``python benchmarks/bench_cli.py`` (``--quick`` for a smoke run: fewer start-up repeats and no full
demo; ``--skip-demo`` for the start-up lines only). One line per case, ending in the ratio to its target
(below 1.00× meets it):

* ``sigbench --help`` and ``python -c "import sigbench"``: median wall time of ``--repeats`` fresh
  processes and their median CPU time (user + system, less sensitive to other jobs on the machine)
  (after one warm-up run that fills the OS file cache and ``__pycache__``: the children run
  without ``PYTHONDONTWRITEBYTECODE``, as an installed copy has its bytecode), next to the bare
  interpreter (``python -c pass``); targets 0.3 s and 0.2 s. The heavy modules a start-up must not
  import (scipy.signal, numba, matplotlib, tensorflow, keras) are checked in the same process and
  named on the line if any was imported.
* ``sigbench demo --fast`` and ``sigbench demo``: wall time of one run each, in a temporary directory
  (targets 20 s and 60 s), with the CPU time of the demo and its worker processes, the largest peak RSS of
  one process, and the peak of the whole process tree's RSS (sampled every 0.2 s; the demo's pool workers
  included). ``sigbench demo`` runs with ``--json``, and its numbers (every metric of every row and seed) are
  compared with the recorded run, ``docs/results/demo.json``: the line says ``numbers identical`` or how
  many values differ. ``--workers N`` passes ``--workers N`` to both demos (default: the command's own,
  ``auto``).

Every case runs a fresh child process, so the machine's load moves the numbers: the start-up cases
report the median and the spread (min–max) of their runs.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

HEAVY = ("scipy.signal", "numba", "matplotlib", "tensorflow", "keras")

#: run in a child: ``sigbench --help`` exactly as the console script does it, then name the heavy modules
_HELP_PROBE = (
    "import sys\n"
    "sys.argv = ['sigbench', '--help']\n"
    "from sigbench.cli import main\n"
    "try:\n"
    "    main()\n"
    "except SystemExit:\n"
    "    pass\n"
    f"print(','.join(m for m in {HEAVY!r} if m in sys.modules), file=sys.stderr)\n"
)
_IMPORT_PROBE = f"import sys, sigbench\nprint(','.join(m for m in {HEAVY!r} if m in sys.modules), file=sys.stderr)\n"


def _cli() -> list[str]:
    """The installed console script, or the same entry point through this interpreter."""
    script = shutil.which("sigbench")
    if script is not None:
        return [script]
    return [sys.executable, "-c", "import sys; from sigbench.cli import main; sys.exit(main())"]


#: the children's environment: bytecode is written and read, as in an installed copy (pip compiles it)
_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def _wall(cmd: list[str], cwd: str | None = None) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, cwd=cwd, env=_ENV, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def _cpu() -> float:
    use = resource.getrusage(resource.RUSAGE_CHILDREN)
    return use.ru_utime + use.ru_stime


def _median(cmd: list[str], repeats: int) -> tuple[float, float, float, float]:
    """Median, min and max wall time of ``repeats`` runs, and the median CPU time (user + system)."""
    _wall(cmd)  # warm-up: file cache, __pycache__
    times, cpus = [], []
    for _ in range(repeats):
        cpu = _cpu()
        times.append(_wall(cmd))
        cpus.append(_cpu() - cpu)
    return statistics.median(times), min(times), max(times), statistics.median(cpus)


def _heavy(code: str) -> str:
    out = subprocess.run([sys.executable, "-c", code], env=_ENV, check=True, capture_output=True, text=True)
    return out.stderr.strip().splitlines()[-1] if out.stderr.strip() else ""


def startup(repeats: int) -> None:
    bare, _, _, _ = _median([sys.executable, "-c", "pass"], repeats)
    cases = [
        ("sigbench --help", [*_cli(), "--help"], 0.3, _HELP_PROBE),
        ("import sigbench", [sys.executable, "-c", "import sigbench"], 0.2, _IMPORT_PROBE),
    ]
    for label, cmd, target, probe in cases:
        med, lo, hi, cpu = _median(cmd, repeats)
        heavy = _heavy(probe)
        print(
            f"{label:<16} median {med:.3f} s of {repeats} (min {lo:.3f}, max {hi:.3f}; CPU {cpu:.3f} s; "
            f"python -c pass {bare:.3f} s)  "
            f"heavy imports: {heavy or 'none'}  target {target} s  ratio {med / target:.2f}×",
            flush=True,
        )


#: the recorded demo whose numbers a full demo must reproduce
RECORDED = Path(__file__).resolve().parent.parent / "docs" / "results" / "demo.json"


def _tree_rss(root: int) -> int:
    """Bytes of resident memory of process ``root`` and all its descendants (Linux ``/proc``; 0 elsewhere)."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in os.listdir("/proc") if os.path.isdir("/proc") else []:
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
        except OSError:  # the process ended meanwhile
            continue
        pid = int(entry)
        children.setdefault(int(fields[1]), []).append(pid)
        rss[pid] = int(fields[21]) * os.sysconf("SC_PAGE_SIZE")
    total, stack = 0, [root]
    while stack:
        pid = stack.pop()
        total += rss.get(pid, 0)
        stack.extend(children.get(pid, []))
    return total


def _run_sampled(cmd: list[str], cwd: str, stdout: object) -> tuple[float, int]:
    """Run ``cmd``; its wall time and the peak RSS of its process tree (sampled every 0.2 s)."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, env=_ENV, stdout=stdout, stderr=subprocess.DEVNULL)
    peak = [0]

    def sample() -> None:
        while proc.poll() is None:
            peak[0] = max(peak[0], _tree_rss(proc.pid))
            time.sleep(0.2)

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    code = proc.wait()
    wall = time.perf_counter() - start
    thread.join()
    if code != 0:
        raise subprocess.CalledProcessError(code, cmd)
    return wall, peak[0]


def _numbers(doc: dict) -> dict[tuple[str, str], float]:
    """Every metric of every row (and of each of its seeds) of a results JSON document."""
    out: dict[tuple[str, str], float] = {}
    for row in doc["rows"]:
        for name, value in (row.get("metrics") or {}).items():
            out[(row["method"], name)] = value
        for seed in row.get("per_seed") or []:
            for name, value in (seed.get("metrics") or {}).items():
                out[(row["method"], f"seed {seed['seed']} {name}")] = value
    return out


def compare_numbers(doc: dict, recorded: dict) -> str:
    """``numbers identical …`` or how many of the recorded demo's values differ, and by how much at most."""
    new, old = _numbers(doc), _numbers(recorded)
    differ = [k for k in old.keys() | new.keys() if not (old.get(k) == new.get(k) or (
        isinstance(old.get(k), float) and isinstance(new.get(k), float) and math.isnan(old[k]) and math.isnan(new[k])))]
    if not differ:
        return f"numbers identical to {RECORDED.name} ({len(old)} values)"
    rel = max((abs(new[k] - old[k]) / max(abs(old[k]), 1e-300) for k in differ
               if isinstance(new.get(k), (int, float)) and isinstance(old.get(k), (int, float))), default=math.inf)
    rows = sorted({k[0] for k in differ})
    return (f"NUMBERS DIFFER from {RECORDED.name}: {len(differ)} of {len(old)} values, largest relative "
            f"difference {rel:.1e}, rows {', '.join(rows)}")


def demo(fast: bool, workers: str | None = None) -> None:
    label = "sigbench demo --fast" if fast else "sigbench demo"
    target = 20.0 if fast else 60.0
    cmd = [*_cli(), "demo", *(["--fast"] if fast else ["--json"]), *(["--workers", workers] if workers else [])]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    with tempfile.TemporaryDirectory(prefix="sigbench-bench-cli-") as tmp:
        with open(Path(tmp) / "demo.json", "w") as out:
            wall, tree = _run_sampled(cmd, tmp, out)
        numbers = "" if fast else "  " + compare_numbers(json.loads((Path(tmp) / "demo.json").read_text()),
                                                         json.loads(RECORDED.read_text()))
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    rss = after.ru_maxrss / 2**20  # KiB -> GiB; the largest process so far (the demo dwarfs the others)
    print(
        f"{label:<20} wall {wall:.1f} s  CPU {cpu:.1f} s ({100 * cpu / wall:.0f} % of one core)  "
        f"peak RSS {rss:.2f} GiB (all processes {tree / 2**30:.2f} GiB)  target {target:g} s  "
        f"ratio {wall / target:.2f}×{numbers}",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="5 start-up repeats and only demo --fast")
    parser.add_argument("--skip-demo", action="store_true", help="start-up lines only")
    parser.add_argument("--repeats", type=int, default=None, help="start-up runs per case (default 21)")
    parser.add_argument("--workers", default=None, help="--workers of both demos (default: the command's, auto)")
    parser.add_argument("--skip-startup", action="store_true", help="the demo lines only")
    args = parser.parse_args()
    _ENV.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    if not args.skip_startup:
        startup(args.repeats or (5 if args.quick else 21))
    if args.skip_demo:
        return
    demo(fast=True, workers=args.workers)
    if not args.quick:
        demo(fast=False, workers=args.workers)


if __name__ == "__main__":
    main()
