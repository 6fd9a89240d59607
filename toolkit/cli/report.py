"""Report commands: ``report``, ``plot``."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from sigbench.cli._common import escape, get_console
from sigbench.cli._io import input_argument, stdin_file
from sigbench.cli._options import RunIdOpt, deprecated_alias, output_opt
from sigbench.console import is_quiet

__all__ = ["plot", "register", "report"]

_FILE = input_argument("sigbench result file (HDF5).")


def report(
    file: Path = _FILE,
    output: Path = output_opt("the report (.html: one self-contained file; .md: Markdown plus a NAME_files "
                              "folder of figures)", required=True),
    fmt_: Optional[str] = typer.Option(None, "--output-format", metavar="html|md",
                                       help="Format of the report (default: from the output's extension)."),
    run: Optional[str] = RunIdOpt,
    fmt_old: Optional[str] = deprecated_alias("--format", "-f"),
) -> None:
    """Write a report of a stored run: header, verdicts, leaderboard and every figure; nothing is re-run.

    \b
    Example: sigbench report res.h5 -o report.html
    """
    from sigbench.errors import ValidationError
    from sigbench.outputs import check_outputs
    from sigbench.report import FORMATS, write_report
    from sigbench.results import load_results

    fmt_ = fmt_ if fmt_ is not None else fmt_old
    if fmt_ is None:
        fmt_ = "md" if output.suffix.lower() == ".md" else "html"
    if fmt_ not in FORMATS:
        raise ValidationError(f"expected --output-format among {', '.join(FORMATS)}; received: format={fmt_!r}")
    check_outputs([file], reports=[output])
    with stdin_file(file) as src:
        res = load_results(src, run)
    write_report(res, output, fmt=fmt_)
    if not is_quiet():
        extra = f" and {output.with_name(output.stem + '_files')}/" if fmt_ == "md" else ""
        get_console().print(f"Wrote {escape(str(output))}{escape(extra)} (run {escape(res.run_id)}).")


def plot(
    file: Path = _FILE,
    what: Optional[str] = typer.Option(None, "--what", metavar="FIGURE",
                                       help="overlay, errors, residual, leaderboard, cost, learning, response, "
                                            "sweep, spectrum, waterfall (equalise sweeps), roc (detect) or "
                                            "canceller (cancel)."),
    output: Path = output_opt("the figure (.png, .svg or .pdf)", required=True),
    run: Optional[str] = RunIdOpt,
    dpi: int = typer.Option(150, "--dpi", min=10, max=600, metavar="INT", help="Resolution of a PNG."),
    what_old: Optional[str] = deprecated_alias("-w"),
) -> None:
    """Draw one figure of a stored run into a PNG, SVG or PDF file.

    \b
    Example: sigbench plot res.h5 --what overlay -o overlay.svg
    """
    from sigbench.outputs import check_outputs
    from sigbench.plots import make_figure, save_figure
    from sigbench.results import load_results

    what = what if what is not None else what_old
    if what is None:
        raise typer.BadParameter("expected --what FIGURE", param_hint="'--what'")
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
