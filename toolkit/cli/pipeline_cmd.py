"""Pipeline commands: ``pipeline run``, ``pipeline check`` (studies described in TOML files)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from sigbench.cli._common import emit_json, escape, get_console
from sigbench.cli._io import OVERWRITE, check_stdout, display, guard_outputs, stdout_file
from sigbench.console import is_quiet, set_quiet

__all__ = ["pipeline_app"]

pipeline_app = typer.Typer(
    no_args_is_help=True,
    help="Run a study described in a TOML pipeline file (signal, task, methods and chains, protocol, sweep).",
)

_FILE = typer.Argument(..., exists=True, dir_okay=False, readable=True,
                       help="Pipeline file (TOML), or a result file whose run stored one.")
_SET = typer.Option([], "--set", "-s", help="Override KEY=VALUE (repeatable), e.g. signal.n=1500, "
                    "protocol.seeds=1, 'methods=[\"wiener\",\"lms\"]'; VALUE is TOML.")
_RUN = typer.Option(None, "--run", help="Run id, when FILE is a result file (default: the latest).")


def run(
    file: Path = _FILE,
    output: Optional[Path] = typer.Option(None, "--output", "-o", dir_okay=False,
                                          help="Result file (HDF5; '-': stdout); replaces [output] results."),
    report: Optional[Path] = typer.Option(None, "--report", dir_okay=False,
                                          help="Report file (.html or .md); replaces [output] report."),
    set_: list[str] = _SET,
    run_id: Optional[str] = _RUN,
    json_out: bool = typer.Option(False, "--json", help="Print the results as JSON on stdout."),
    overwrite: bool = OVERWRITE,
) -> None:
    """Validate a pipeline file, run its comparison or sweep, store the file's text in the run, write the
    report. Rerunning the stored pipeline (`sigbench pipeline run RESULT.h5`) reproduces the numbers."""
    from sigbench.cli import ExitCode
    from sigbench.cli.bench import _sigterm_as_interrupt, render_leaderboard
    from sigbench.pipeline import load_pipeline, run_pipeline

    check_stdout(output, json_out=json_out)
    if json_out:
        set_quiet(True)
    pipe = load_pipeline(file, set_, run=run_id)
    console = get_console()
    if not is_quiet():
        console.print(f"Pipeline {escape(str(file))}: {escape(pipe.summary())}")
    _sigterm_as_interrupt()
    inputs = [file, pipe.signal.file]
    with guard_outputs(inputs, [output if output is not None else pipe.results],
                       [report if report is not None else pipe.report], overwrite=overwrite), \
            stdout_file(output) as out_path:
        res = run_pipeline(pipe, output=out_path, report=report)
    out = output if output is not None else pipe.results
    rep = report if report is not None else pipe.report
    if json_out:
        emit_json(res.to_json())
    else:
        render_leaderboard(res)
        for path in (out, rep):
            if path is not None:
                console.print(f"Wrote {escape(display(path))} (run {escape(res.run_id)}).")
    if res.failed:
        raise typer.Exit(ExitCode.METHOD_FAILED)


def check(
    file: Path = _FILE,
    set_: list[str] = _SET,
    run_id: Optional[str] = _RUN,
    json_out: bool = typer.Option(False, "--json", help="Print the validated document as JSON on stdout."),
) -> None:
    """Validate a pipeline file without running it: keys, types, sources, tasks, methods and their options.
    Errors name the file and line (exit 2)."""
    from sigbench.pipeline import load_pipeline

    pipe = load_pipeline(file, set_, run=run_id)
    if json_out:
        emit_json({"file": str(file), "ok": True, "summary": pipe.summary(), "methods": pipe.methods,
                   "grid": pipe.grid, "document": pipe.document})
    else:
        get_console().print(f"{escape(str(file))}: ok — {escape(pipe.summary())}")


pipeline_app.command("run")(run)
pipeline_app.command("check")(check)
