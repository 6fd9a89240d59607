"""Pipeline commands: ``pipeline run``, ``pipeline check`` (studies described in TOML files)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Optional

import typer

from sigbench.cli._common import emit_json, escape, get_console
from sigbench.cli._io import OVERWRITE, check_stdout, display, guard_outputs, is_dash, stdout_file
from sigbench.cli._options import (
    JsonOpt,
    ReportOpt,
    ResumeOpt,
    RunIdOpt,
    SchedulerOpt,
    SetOpt,
    TimeoutOpt,
    WideOpt,
    WorkersOpt,
    output_opt,
)
from sigbench.console import is_quiet, set_quiet

__all__ = ["pipeline_app"]

pipeline_app = typer.Typer(
    no_args_is_help=True,
    help="Run a study described in a TOML pipeline file (signal, task, methods and chains, protocol, sweep).\n\n"
         "\b\nExample: sigbench pipeline run examples/pipelines/founding.toml",
)

_FILE = typer.Argument(..., exists=True, dir_okay=False, readable=True, metavar="FILE",
                       help="Pipeline file (TOML), or a result file whose run stored one.")


def run(
    file: Path = _FILE,
    output: Optional[Path] = output_opt("the result file (HDF5; '-': stdout), instead of [output] results"),
    report: Optional[Path] = ReportOpt,
    output_dir: Optional[Path] = typer.Option(None, "--output-dir", file_okay=False, metavar="DIR",
                                              help="Folder for the relative [output] paths (default: the "
                                                   "current folder)."),
    set_: list[str] = SetOpt,
    run_id: Optional[str] = RunIdOpt,
    resume: bool = ResumeOpt, json_out: bool = JsonOpt, wide: bool = WideOpt, workers: Any = WorkersOpt,
    timeout: Optional[float] = TimeoutOpt, scheduler: Optional[str] = SchedulerOpt, overwrite: bool = OVERWRITE,
) -> None:
    """Validate a pipeline file, run its comparison or sweep, store the file's text in the run, write the
    report. Rerunning the stored pipeline (`sigbench pipeline run RESULT.h5`) reproduces the numbers.
    Outputs are written relative to the current folder (or --output-dir); --report replaces [output] report.

    \b
    Example: sigbench pipeline run examples/pipelines/founding.toml -s protocol.seeds=1
    """
    from sigbench.cli import ExitCode
    from sigbench.cli.bench import _sigterm_as_interrupt, render_leaderboard
    from sigbench.pipeline import load_pipeline, run_pipeline

    check_stdout(output, json_out=json_out)
    if json_out:
        set_quiet(True)
    if output_dir is not None:
        output_dir.mkdir(parents=True, exist_ok=True)
    pipe = load_pipeline(file, set_, run=run_id, output_dir=output_dir)
    console = get_console()
    if not is_quiet():
        console.print(f"Pipeline {escape(str(file))}: {escape(pipe.summary())}")
    _sigterm_as_interrupt(output if output is not None else pipe.results)
    with guard_outputs([file, pipe.signal.file], [output if output is not None else pipe.results],
                       [report if report is not None else pipe.report], overwrite=overwrite, resume=resume), \
            stdout_file(output) as out_path:
        target = out_path if out_path is not None else pipe.results
        if resume and (target is None or is_dash(output)):
            raise typer.BadParameter("--resume needs --output FILE (or [output] results)", param_hint="'--resume'")
        res = run_pipeline(pipe, output=out_path, report=report, resume=resume, workers=workers, timeout=timeout,
                           scheduler=scheduler)
    out = output if output is not None else pipe.results
    rep = report if report is not None else pipe.report
    if json_out:
        emit_json(res.to_json())
    else:
        render_leaderboard(res, wide)
        for path in (out, rep):
            if path is not None:
                console.print(f"Wrote {escape(display(path))} (run {escape(res.run_id)}).")
    if res.failed:
        raise typer.Exit(ExitCode.METHOD_FAILED)


def check(
    file: Path = _FILE,
    set_: list[str] = SetOpt,
    run_id: Optional[str] = RunIdOpt,
    json_out: bool = JsonOpt,
) -> None:
    """Validate a pipeline file without running it: keys, types, sources, tasks, methods and their options.
    Errors name the file and line (exit 2).

    \b
    Example: sigbench pipeline check study.toml -s protocol.seeds=1
    """
    from sigbench.pipeline import load_pipeline

    pipe = load_pipeline(file, set_, run=run_id)
    if json_out:
        emit_json({"file": str(file), "ok": True, "summary": pipe.summary(), "methods": pipe.methods,
                   "grid": pipe.grid, "document": pipe.document})
    else:
        get_console().print(f"{escape(str(file))}: ok — {escape(pipe.summary())}")


pipeline_app.command("run")(run)
pipeline_app.command("check")(check)
