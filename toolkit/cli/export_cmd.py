"""The ``export`` command: a signal or a run's predictions to WAV, CSV or ``.npy``."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from sigbench.cli._common import escape, get_console
from sigbench.cli._io import input_argument, stdin_file
from sigbench.console import is_quiet

__all__ = ["export", "register"]


def export(
    file: Path = input_argument("sigbench HDF5 file (a signal file, or a result file with --run/--method)."),
    output: Path = typer.Option(..., "--output", "-o", dir_okay=False,
                                help="File to write: .wav, .csv or .npy (or give --format)."),
    fmt_: Optional[str] = typer.Option(None, "--format", "-f", help="wav, csv or npy (default: by extension)."),
    signal: Optional[str] = typer.Option(None, "--signal", help="Signal name inside FILE (default: the only one)."),
    which: str = typer.Option("data", "--which", help="data (the observed samples) or clean (the reference)."),
    predictions: bool = typer.Option(False, "--predictions", help="Export a run's test predictions instead of a "
                                     "signal (implied by --run, --method or --seed)."),
    run: Optional[str] = typer.Option(None, "--run", help="Run id (default: the latest; see `sigbench info`)."),
    method: Optional[str] = typer.Option(None, "--method", "-m", help="Method label as in the table (required "
                                         "when the run holds several)."),
    seed: Optional[int] = typer.Option(None, "--seed", min=0, help="Seed of the predictions (default: the first)."),
) -> None:
    """Export a signal, or one method's test predictions, to WAV (float32), CSV (with time) or .npy."""
    from sigbench.export import export_predictions, export_signal

    with stdin_file(file) as src:
        if predictions or run is not None or method is not None or seed is not None:
            out = export_predictions(src, output, run=run, method=method, seed=seed, fmt=fmt_)
            what = f"predictions of {method or 'the method'}"
        else:
            out = export_signal(src, output, signal=signal, which=which, fmt=fmt_)
            what = f"signal {signal or ''}".strip()
    if not is_quiet():
        get_console().print(f"Wrote {escape(str(out))} ({escape(what)}).")


def register(app: typer.Typer) -> None:
    """Add the ``export`` command to ``app``."""
    app.command("export")(export)
