"""The ``export`` command: a signal or a run's predictions to WAV, CSV or ``.npy`` (``export-model``: export_cmd)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from sigbench.cli._common import escape, get_console
from sigbench.cli._io import input_argument, stdin_file
from sigbench.cli._options import RunIdOpt, SignalOpt, output_opt
from sigbench.console import is_quiet

__all__ = ["export", "register"]


def export(
    file: Path = input_argument("sigbench HDF5 file (a signal file, or a result file with --label)."),
    output: Path = output_opt("the exported file: .wav, .csv or .npy (the format follows the suffix)",
                              required=True),
    fmt_: Optional[str] = typer.Option(None, "--file-format", metavar="FORMAT",
                                       help="wav, csv or npy, whatever the suffix of OUTPUT."),
    signal: Optional[str] = SignalOpt,
    which: str = typer.Option("data", "--which", metavar="DATA|CLEAN",
                              help="Signal: data (the observed samples) or clean (the reference)."),
    predictions: bool = typer.Option(False, "--predictions", help="Export a run's test predictions instead of a "
                                     "signal (implied by --run, --label or --row-seed)."),
    run: Optional[str] = RunIdOpt,
    method: Optional[str] = typer.Option(None, "--label", metavar="LABEL",
                                         help="Result file: the label of the row to export (e.g. dnn)."),
    seed: Optional[int] = typer.Option(None, "--row-seed", min=0, metavar="INT",
                                       help="Result file: one of the row's seeds (default: its first)."),
) -> None:
    """Export a signal, or one method's test predictions, to WAV (float32), CSV (with time) or .npy.

    \b
    Example: sigbench export results.h5 --label lms -o lms.csv
    """
    from sigbench.export import export_predictions, export_signal

    with stdin_file(file) as src:
        if predictions or run is not None or method is not None or seed is not None:
            out = export_predictions(src, output, run=run, method=method, seed=seed, fmt=fmt_)
            what = f"predictions of {method or 'the method'}"
        else:
            out = export_signal(src, output, signal=signal, which=which.lower(), fmt=fmt_)
            what = f"signal {signal or ''}".strip()
    if not is_quiet():
        get_console().print(f"Wrote {escape(str(out))} ({escape(what)}).")


def register(app: typer.Typer) -> None:
    """Add the ``export`` command to ``app``."""
    app.command("export")(export)
