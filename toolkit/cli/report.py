"""Report commands: ``report``, ``plot``."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from sigbench.cli._common import escape, get_console
from sigbench.cli._io import input_argument, stdin_file
from sigbench.console import is_quiet

__all__ = ["plot", "register", "report"]

_FILE = input_argument("sigbench result file (HDF5).")
_RUN = typer.Option(None, "--run", help="Run id inside FILE (default: the latest; see `sigbench info`).")


def report(
    file: Path = _FILE,
    output: Path = typer.Option(..., "--output", "-o", dir_okay=False, help="Report file to write."),
    fmt_: str = typer.Option("html", "--format", "-f", help="html (one self-contained file) or md (Markdown "
                             "plus a <name>_files folder of PNGs)."),
    run: Optional[str] = _RUN,
) -> None:
    """Write a report of a stored run: header, verdicts, leaderboard and every figure; nothing is re-run."""
    from sigbench.errors import ValidationError
    from sigbench.outputs import check_outputs
    from sigbench.report import FORMATS, write_report
    from sigbench.results import load_results

    if fmt_ not in FORMATS:
        raise ValidationError(f"expected --format among {', '.join(FORMATS)}; received: format={fmt_!r}")
    check_outputs([file], reports=[output])
    with stdin_file(file) as src:
        res = load_results(src, run)
    write_report(res, output, fmt=fmt_)
    if not is_quiet():
        extra = f" and {output.with_name(output.stem + '_files')}/" if fmt_ == "md" else ""
        get_console().print(f"Wrote {escape(str(output))}{escape(extra)} (run {escape(res.run_id)}).")


def plot(
    file: Path = _FILE,
    what: str = typer.Option(..., "--what", "-w", help="overlay, errors, leaderboard, cost, learning, response, "
                             "sweep or spectrum."),
    output: Path = typer.Option(..., "--output", "-o", dir_okay=False, help="Figure file: .png, .svg or .pdf."),
    run: Optional[str] = _RUN,
    dpi: int = typer.Option(100, "--dpi", min=10, max=600, help="Resolution of a PNG."),
) -> None:
    """Draw one figure of a stored run into a PNG, SVG or PDF file."""
    from sigbench.outputs import check_outputs
    from sigbench.plots import make_figure, save_figure
    from sigbench.results import load_results

    check_outputs([file], reports=[output])
    with stdin_file(file) as src:
        res = load_results(src, run)
    save_figure(make_figure(res, what), output, dpi=dpi)
    if not is_quiet():
        get_console().print(f"Wrote {escape(str(output))} ({escape(what)}, run {escape(res.run_id)}).")


def register(app: typer.Typer) -> None:
    """Add the report commands to ``app``."""
    app.command("report")(report)
    app.command("plot")(plot)
