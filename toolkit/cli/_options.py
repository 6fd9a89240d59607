"""Every option shared by two or more commands, defined once: one name, one short flag, one help text.

The table in ``docs/cli.md`` lists them; ``tests/core/test_cli_options.py`` walks the click tree and fails
when a short flag means two things or a shared option has two help texts. Short flags: ``-o`` output,
``-m`` method, ``-t`` task, ``-w`` window, ``-g`` grid, ``-p`` param, ``-n`` samples, ``-f`` (import's
input) format, ``-s`` set (pipeline), and the global ``-q`` quiet, ``-v`` verbose.

Global options (``--quiet``, ``--verbose``, ``--debug``) are accepted before or after the command:
:func:`add_global_options` adds them to every command.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Optional

import typer

__all__ = ["GLOBAL_OPTIONS", "METHOD_HELP", "add_global_options", "parse_workers"]

#: the method-spec syntax, said once
METHOD_HELP = ("Method spec NAME[:KEY=VALUE,...] (e.g. lms:mu=0.005,numtaps=64) or a chain 'fir-bank | dnn'; "
               "repeatable; names: `sigbench plugins`. Default: the task's default set (printed before it runs).")


def _opt(default: Any, *decls: str, help: str, metavar: Optional[str] = None, **kw: Any) -> Any:
    return typer.Option(default, *decls, help=help, metavar=metavar, **kw)


# -- data ----------------------------------------------------------------------------------------
JsonOpt = _opt(False, "--json", help="Print JSON on stdout instead of tables.")
ParamOpt = _opt([], "--param", "-p", metavar="KEY=VALUE",
                help="Parameter of the source or importer (repeatable).")
SamplesOpt = _opt(None, "--samples", "-n", min=1, metavar="INT",
                  help="Samples to generate (default: the source's).")
NameOpt = _opt(None, "--name", metavar="NAME",
               help="Signal name inside the output file (default: the source's name, or the imported file's stem).")
AppendOpt = _opt(False, "--append", help="Keep the signals and runs already in OUTPUT.")
StreamOpt = _opt(False, "--stream", help="Work in chunks with bounded memory whatever the size (automatic above "
                 "the memory budget; see docs/scaling.md).")
BudgetOpt = _opt(None, "--memory-budget", metavar="SIZE", help="Signals larger than SIZE (e.g. 500M, 2G) are "
                 "handled in chunks; default: SIGBENCH_MEMORY_BUDGET or half the available memory.")
RunIdOpt = _opt(None, "--run", metavar="RUN_ID",
                help="Run id inside a result FILE (default: the latest; see `sigbench info`).")

# -- comparisons ---------------------------------------------------------------------------------
MethodOpt = _opt([], "--method", "-m", metavar="SPEC", help=METHOD_HELP)
TaskOpt = _opt("predict", "--task", "-t", metavar="TASK", help="A registered task: predict, denoise, identify, "
               "spectrum, equalise, cancel, detect, or a plugin's (`sigbench plugins` lists every task with its "
               "metrics).")
QuantizeOpt = _opt([], "--quantize", metavar="SCHEME", help="Also run quantised versions (repeatable): int8 for "
                  "the neural methods (LiteRT), q15 for the FIR-type DSP baselines (fixed point).")
DeploymentOpt = _opt(False, "--deployment", help="Measure streaming latency p50/p99, real-time factor and memory "
                     "of every row (docs/deployment.md).")
MetricOpt = _opt([], "--metric", metavar="NAME", help="A registered metric to compute besides the task's "
                 "(repeatable).")
WindowOpt = _opt(64, "--window", "-w", min=1, metavar="INT", help="Samples per input window.")
HorizonOpt = _opt(1, "--horizon", min=1, metavar="INT", help="predict: samples ahead of the window's end.")
CenteredOpt = _opt(False, "--centered", help="denoise: target the window's centre.")
ChannelOpt = _opt("0", "--channel", metavar="INDEX|NAME", help="Channel of a multi-channel signal.")
TargetOpt = _opt("auto", "--target", metavar="auto|observed",
                 help="auto (the clean signal when known) or observed.")
HopOpt = _opt(None, "--hop", min=1, metavar="INT", help="Samples between windows (default 1; detect: the segment).")
DelayOpt = _opt(None, "--delay", min=0, metavar="INT", help="equalise: decision delay in samples (default: the "
                "centre of the window and the channel).")
SplitOpt = _opt("0.6,0.2,0.2", "--split", metavar="TRAIN,VAL,TEST", help="Chronological split fractions.")
TrainOpt = _opt(None, "--train-samples", min=1, metavar="INT",
                help="Train on the first INT samples, test on the rest (the founding experiment: 4000).")
ModeOpt = _opt("prequential", "--mode", metavar="offline|prequential", help="prequential: online methods (lms, "
               "nlms, rls) keep adapting on the test rows, as deployed; offline: every method frozen after fit.")
SeedOpt = _opt(0, "--seed", min=0, metavar="INT",
               help="First seed of the stochastic methods (their runs use INT, INT+1, ...).")
SeedsOpt = _opt(3, "--seeds", min=1, metavar="INT", help="Runs of each stochastic method.")
SignalOpt = _opt(None, "--signal", metavar="NAME", help="Signal name in a file that holds several.")
ReferenceOpt = _opt(None, "--reference", metavar="SPEC",
                    help="Method whose MSE is the reference of every excess column (default: the task's: wiener; "
                         "spectrum: fft).")
ResumeOpt = _opt(False, "--resume", help="Keep what an interrupted run of the same command finished in OUTPUT; "
                 "run the rest.")
ReportOpt = _opt(None, "--report", dir_okay=False, metavar="FILE",
                 help="Also write a report to FILE (.html, or .md with a folder of figures).")
WideOpt = _opt(False, "--wide", help="Every leaderboard column, however wide the terminal.")


def parse_workers(value: Any) -> Any:
    """``--workers``: ``"auto"`` or an integer ≥ 1 (a bad value is a one-line usage error naming it)."""
    text = str(value).strip().lower()
    if text == "auto":
        return "auto"
    number = int(text) if text.isdigit() else 0
    if number < 1:
        raise typer.BadParameter(f"expected auto or an integer >= 1; received: {value!r}", param_hint="'--workers'")
    return number


WorkersOpt = _opt("auto", "--workers", metavar="auto|INT", parser=parse_workers,
                  help="Processes running (method × seed × grid point) cells in parallel; auto: one per core, "
                       "capped by memory; inline for a short run (docs/scaling.md).")
TimeoutOpt = _opt(None, "--timeout", min=0.001, metavar="SECONDS",
                  help="Seconds one cell may run before its row fails.")
SchedulerOpt = _opt(None, "--scheduler", metavar="ADDRESS",
                    help="local-dask, or tcp://HOST:PORT of a Dask scheduler.")
SetOpt = _opt([], "--set", "-s", metavar="KEY=VALUE", help="Override KEY=VALUE of the pipeline file (repeatable), "
              "e.g. signal.n=1500, protocol.seeds=1, 'methods=[\"wiener\",\"lms\"]'; VALUE is TOML.")


def deprecated_alias(*decls: str, **kw: Any) -> Any:
    """A hidden option spelled the way an earlier version did (``generate --n``): it keeps scripts working,
    is absent from ``--help`` and from the options table, and the visible option wins when both are given."""
    return typer.Option(None, *decls, hidden=True, **kw)


def output_opt(what: str, *, required: bool = False, default: Optional[Path] = None, file_okay: bool = True) -> Any:
    """``-o/--output``: the one option whose help names what the command writes (``what``)."""
    return typer.Option(... if required else default, "--output", "-o", dir_okay=not file_okay, file_okay=file_okay,
                        metavar="FILE" if file_okay else "DIR", help=f"Write {what}.")


# -- global options, accepted after the command too -------------------------------------------------
def _set_quiet(value: bool) -> bool:
    if value:
        from sigbench.console import set_quiet

        set_quiet(True)
    return value


def _set_verbose(value: bool) -> bool:
    if value:
        from sigbench.console import set_verbose

        set_verbose(True)
    return value


def _set_debug(value: bool) -> bool:
    if value:
        from sigbench.cli._common import set_debug

        set_debug(True)
    return value


#: (long name, short flag or "", help) of each global option
GLOBAL_OPTIONS: tuple[tuple[str, str, str], ...] = (
    ("--quiet", "-q", "No progress output."),
    ("--verbose", "-v", "One line per training epoch (default: one line per fit)."),
    ("--debug", "", "Show full tracebacks on errors."),
)
_CALLBACKS = {"--quiet": _set_quiet, "--verbose": _set_verbose, "--debug": _set_debug}


def global_params() -> list[Any]:
    """Fresh click parameters for the global options (not passed to the command's function)."""
    holder = typer.Typer(add_completion=False)

    def _globals(**_: Any) -> None:
        pass

    import inspect

    _globals.__signature__ = inspect.Signature([  # type: ignore[attr-defined]
        inspect.Parameter(name.lstrip("-"), inspect.Parameter.KEYWORD_ONLY, annotation=bool,
                          default=typer.Option(False, *(d for d in (name, short) if d), help=text,
                                               callback=_CALLBACKS[name]))
        for name, short, text in GLOBAL_OPTIONS])
    holder.command()(_globals)
    params = [p for p in typer.main.get_command(holder).params if p.name != "help"]
    for param in params:
        param.expose_value = False
    return params


def add_global_options(command: Any) -> None:
    """Add the global options to ``command`` and, for a group, to every sub-command (once each)."""
    have = {opt for p in getattr(command, "params", []) for opt in getattr(p, "opts", [])}
    if "--quiet" not in have:
        help_index = len(command.params)
        command.params[help_index:help_index] = global_params()
    for sub in getattr(command, "commands", {}).values():
        add_global_options(sub)
