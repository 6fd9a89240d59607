"""Regenerate the figures and numbers of the task tutorials (docs/tasks/*.md).

Each run is the Python twin of the page's CLI command (same source, parameters, methods and protocol),
stored to a temporary result file and read back, so the figures are drawn exactly as ``sigbench report``
draws them. DSP methods only: the three runs take well under a minute on 2 cores.

Usage (from the repository root)::

    python docs/img/make_task_figures.py          # writes docs/img/task-*.png, prints the leaderboards

The PNGs are 100 dpi and quantised to 128 colours (Pillow, when installed) to keep the docs small.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import sigbench as sb
from sigbench import plots
from sigbench.leaderboard import leaderboard_text
from sigbench.results import load_results

IMG = Path(__file__).resolve().parent
DPI = 100


def _save(fig: object, name: str) -> None:
    path = IMG / name
    plots.save_figure(fig, path, dpi=DPI)  # type: ignore[arg-type]
    try:
        from PIL import Image
    except ImportError:  # keep the full-colour PNG
        return
    with Image.open(path) as im:
        im.convert("RGB").quantize(colors=128).save(path, optimize=True)


def equalise(folder: Path) -> None:
    """sigbench sweep channel --grid ebn0_db=0,2,4,6,8,10,12 -m lms -m dfe -m mlse --task equalise
    -n 30000 --train-samples 5000 --window 16 -o eq.h5"""
    out = folder / "eq.h5"
    sb.sweep("channel", {"ebn0_db": [0, 2, 4, 6, 8, 10, 12]}, "equalise", ["lms", "dfe", "mlse"], n=30_000,
             train_samples=5000, window=16, output=out)
    res = load_results(out)
    print(leaderboard_text(res, 120))
    _save(plots.plot_waterfall(res), "task-equalise-waterfall.png")


def cancel(folder: Path) -> None:
    """sigbench generate anc -o anc.h5 -n 20000 -p snr_db=-10 -p sensor_snr_db=30 --source-seed 3
    sigbench compare anc.h5 --task cancel -m lms -m nlms -m rls --window 16 -o anc-runs.h5"""
    signal = folder / "anc.h5"
    sb.save_signal(sb.generate("anc", n=20_000, seed=3, snr_db=-10.0, sensor_snr_db=30.0), signal)
    out = folder / "anc-runs.h5"
    sb.compare(signal, "cancel", ["lms", "nlms", "rls"], window=16, output=out)
    res = load_results(out)
    print(leaderboard_text(res, 120))
    _save(plots.plot_canceller(res), "task-cancel-learning.png")


def detect(folder: Path) -> None:
    """sigbench generate tone-detect -o tones.h5 -n 131072 --snr-db -12 --source-seed 4
    sigbench compare tones.h5 --task detect -m matched-filter -m energy-detector --train-samples 16384
    -o det.h5"""
    signal = folder / "tones.h5"
    sb.save_signal(sb.generate("tone-detect", n=131_072, seed=4, snr_db=-12.0), signal)
    out = folder / "det.h5"
    sb.compare(signal, "detect", ["matched-filter", "energy-detector"], window=64, train_samples=16_384,
               output=out)
    res = load_results(out)
    print(leaderboard_text(res, 120))
    _save(plots.plot_roc(res), "task-detect-roc.png")


def main(argv: list[str]) -> int:
    chosen = argv or ["equalise", "cancel", "detect"]
    runs = {"equalise": equalise, "cancel": cancel, "detect": detect}
    with tempfile.TemporaryDirectory() as tmp:
        for name in chosen:
            runs[name](Path(tmp))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
