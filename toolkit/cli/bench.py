"""Comparison commands: ``run``, ``compare``, ``sweep``, ``demo``."""

from __future__ import annotations

import signal as _signal
from pathlib import Path
from typing import Any, Optional

import typer

from sigbench.cli._common import emit_json, escape, get_console
from sigbench.cli._io import (
    OVERWRITE,
    check_stdout,
    display,
    guard_outputs,
    input_argument,
    is_dash,
    stdin_file,
    stdin_source,
    stdout_file,
)
from sigbench.cli._options import (
    BudgetOpt,
    CenteredOpt,
    ChannelOpt,
    DelayOpt,
    DeploymentOpt,
    HopOpt,
    HorizonOpt,
    JsonOpt,
    MethodOpt,
    MetricOpt,
    ModeOpt,
    ParamOpt,
    QuantizeOpt,
    ReferenceOpt,
    ReportOpt,
    ResumeOpt,
    SamplesOpt,
    SchedulerOpt,
    SeedOpt,
    SeedsOpt,
    SignalOpt,
    SplitOpt,
    StreamOpt,
    TargetOpt,
    TaskOpt,
    TimeoutOpt,
    TrainOpt,
    WideOpt,
    WindowOpt,
    WorkersOpt,
    deprecated_alias,
    output_opt,
)
from sigbench.console import is_quiet, set_quiet
from sigbench.errors import ConfigError

__all__ = ["estimate_fit_seconds", "register", "render_leaderboard"]

_FILE = input_argument("sigbench HDF5 signal file.")


def _task_options(window: int, horizon: int, centered: bool, channel: str, target: str,
                  hop: Optional[int], delay: Optional[int] = None) -> dict[str, Any]:
    opts = {"window": window, "horizon": horizon, "centered": centered,
            "channel": int(channel) if channel.isdigit() else channel, "target": target, "hop": hop}
    return opts if delay is None else {**opts, "delay": delay}


def _split(text: str) -> tuple[float, float, float]:
    try:
        parts = tuple(float(p) for p in text.split(","))
    except ValueError:
        raise typer.BadParameter(f"expected three fractions like 0.6,0.2,0.2; received: {text!r}",
                                 param_hint="'--split'") from None
    if len(parts) != 3:
        raise typer.BadParameter(f"expected three fractions like 0.6,0.2,0.2; received: {text!r}",
                                 param_hint="'--split'")
    return parts  # type: ignore[return-value]


def _sigterm_as_interrupt(output: Any = None) -> None:
    """SIGTERM ends the command like Ctrl-C (exit 130); ``output``: the file finished work is kept in (the
    interrupt message offers ``--resume`` only then)."""
    from sigbench.cli._common import set_resumable

    set_resumable(output is not None and not is_dash(output))

    def handler(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    try:
        _signal.signal(_signal.SIGTERM, handler)
    except ValueError:  # not the main thread (a test runner): keep the default
        pass


def render_leaderboard(results: Any, wide: bool = False) -> None:
    """Print the leaderboard of a :class:`~sigbench.Results` on stderr, laid out for the terminal's width
    (every column with ``wide``); see :mod:`sigbench.leaderboard`."""
    from sigbench.leaderboard import print_leaderboard

    print_leaderboard(results, get_console(), wide=True if wide else None)
    from sigbench.cli._common import debug_enabled

    if debug_enabled():  # the failed rows' tracebacks, kept in the result file
        for r in results.rows:
            if r.status != "ok" and r.traceback:
                get_console().print(f"[red]{escape(r.method)}[/]:\n{escape(r.traceback.rstrip())}")


def _finish(results: Any, json_out: bool, output: Optional[Path], wide: bool = False) -> None:
    from sigbench.cli import ExitCode

    if json_out:
        emit_json(results.to_json())
    else:
        render_leaderboard(results, wide)
        if output is not None:
            get_console().print(f"Wrote {escape(display(output))} (run {escape(results.run_id)}).")
    if results.failed:
        raise typer.Exit(ExitCode.METHOD_FAILED)


def _budget(memory_budget: Optional[str]) -> Optional[int]:
    """The memory budget in bytes (``None``: the default, see :func:`sigbench.h5.memory_budget_bytes`)."""
    from sigbench.h5 import parse_bytes

    return parse_bytes(memory_budget) if memory_budget else None


def run(
    method: str = typer.Argument(..., metavar="METHOD", help="Method spec NAME[:KEY=VALUE,...], e.g. "
                                 "lms:mu=0.005,numtaps=64, or a chain 'fir-bank | dnn'."),
    file: Path = _FILE,
    output: Path = output_opt("the result file (HDF5; '-': stdout)", required=True),
    task: str = TaskOpt, window: int = WindowOpt, horizon: int = HorizonOpt, centered: bool = CenteredOpt,
    channel: str = ChannelOpt, target: str = TargetOpt, hop: Optional[int] = HopOpt, delay: Optional[int] = DelayOpt,
    split: str = SplitOpt,
    train_samples: Optional[int] = TrainOpt, mode: str = ModeOpt, seed: int = SeedOpt,
    signal_name: Optional[str] = SignalOpt, resume: bool = ResumeOpt, report: Optional[Path] = ReportOpt,
    json_out: bool = JsonOpt, wide: bool = WideOpt, memory_budget: Optional[str] = BudgetOpt,
    stream: bool = StreamOpt, overwrite: bool = OVERWRITE,
) -> None:
    """Run one method on a signal file and store its predictions and metrics in OUTPUT.

    A signal larger than the memory budget is streamed: read, fitted and predicted chunk by chunk with
    bounded memory (see docs/scaling.md).

    \b
    Example: sigbench run lms:mu=0.005 s.h5 -o lms.h5
    """
    import sigbench as sb

    check_stdout(output, json_out=json_out)
    if json_out:
        set_quiet(True)
    _check_resume(resume, output)
    _sigterm_as_interrupt(output)
    with guard_outputs([file], [output], [report], overwrite=overwrite, resume=resume), stdin_file(file) as src, \
            stdout_file(output) as out:
        res = sb.run_method(method, src, task, seeds=1, seed=seed, split=_split(split),
                            train_samples=train_samples, mode=mode, output=out, signal_name=signal_name,
                            resume=resume, stream=True if stream else None, budget_bytes=_budget(memory_budget),
                            **_task_options(window, horizon, centered, channel, target, hop, delay))
    if report is not None:
        _write_report(res, report)
    _finish(res, json_out, output, wide)


def _check_resume(resume: bool, output: Optional[Path]) -> None:
    if resume and (output is None or is_dash(output)):
        raise typer.BadParameter("--resume needs --output FILE", param_hint="'--resume'")


#: rough seconds per training batch of the built-in networks on one CPU core (measured on the founding
#: experiment; a plugin's network counts as the slowest)
_SECONDS_PER_BATCH = {"dnn": 0.005, "cnn": 0.012, "lstm": 0.03, "cnn-lstm": 0.03}
#: rough seconds per fit of a DSP method (LMS on 4000 samples is the slowest built-in)
_DSP_FIT_S = 0.5


def estimate_fit_seconds(methods: list[str], *, train_rows: int, seeds: int) -> float:
    """A rough estimate of the seconds a comparison spends fitting ``methods`` (printed before it starts).

    Neural methods: ``epochs × ⌈rows / batch_size⌉ × seconds per batch`` per seed (their defaults, or the
    spec's ``epochs``/``batch_size``); DSP methods: half a second per fit. Early stopping makes it an upper
    bound for networks.

    Parameters
    ----------
    methods : list of str
        Method specifications.
    train_rows : int
        Training rows (windows).
    seeds : int
        Runs of each stochastic method.

    Returns
    -------
    float
        Seconds.
    """
    import math

    from sigbench.chains import is_chain_spec
    from sigbench.host import get_host
    from sigbench.params import parse_method_spec
    from sigbench.run.executors import training_schedule

    registry = get_host().registry
    total = 0.0
    for text in methods:
        if is_chain_spec(text):
            total += estimate_fit_seconds([part.strip() for part in text.split("|")], train_rows=train_rows,
                                          seeds=seeds)
            continue
        spec = parse_method_spec(text)
        cls = registry.get("processors", spec.name).obj
        if getattr(cls, "family", "dsp") != "neural":
            total += _DSP_FIT_S
            continue
        epochs, batch = training_schedule(cls, dict(spec.options)) or (50, 64)
        per_batch = _SECONDS_PER_BATCH.get(spec.name, max(_SECONDS_PER_BATCH.values()))
        total += seeds * epochs * math.ceil(max(train_rows, 1) / max(batch, 1)) * per_batch
    return total


def _announce_defaults(task: str, methods: list[str], src: Any, *, signal_name: Optional[str], seeds: int,
                       split: str, train_samples: Optional[int], window: int,
                       task_options: Optional[dict[str, Any]] = None,
                       lead: str = "No -m given: running the default methods for {task}",
                       hint: str = "Pick methods with -m NAME (repeatable).") -> None:
    """Without ``-m``: say which methods will run and roughly for how long, before starting."""
    if methods or is_quiet():
        return
    from sigbench.host import get_host
    from sigbench.run.plan import default_methods

    try:
        chosen = list(default_methods(get_host().registry.get("tasks", task).obj))
    except Exception:  # an unknown task: the run itself reports it
        return
    hop, span = 1, window
    try:
        from sigbench.h5 import open_signal
        from sigbench.run.rows import FileRows

        with open_signal(src, signal_name) as lazy:
            n = int(lazy.n_samples)
            opts = {"window": window, "horizon": 1, "centered": False, "channel": 0, "target": "auto", "hop": None,
                    **(task_options or {})}
            geo = FileRows(lazy, get_host().registry.get("tasks", task).obj, opts).geometry  # reads an excerpt
            hop, span = geo.hop, geo.span
    except Exception:  # a source name or an unreadable file: the run itself reports it
        n = 5000
    rows = ((train_samples if train_samples else int(n * _split(split)[0])) - span) // hop + 1
    seconds = estimate_fit_seconds(chosen, train_rows=max(rows, 1), seeds=seeds)
    plural = "s" if seeds != 1 else ""
    get_console().print(escape(f"{lead.format(task=task)}: {', '.join(chosen)} ({seeds} seed{plural} of each "
                               f"network); roughly {_duration(seconds)} on one core. {hint}"), soft_wrap=True)


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{max(seconds, 1):.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def compare(
    file: Path = _FILE,
    method: list[str] = MethodOpt,
    output: Optional[Path] = output_opt("the result file (HDF5; '-': stdout)"),
    seeds: int = SeedsOpt, reference: Optional[str] = ReferenceOpt, resume: bool = ResumeOpt,
    report: Optional[Path] = ReportOpt,
    task: str = TaskOpt, window: int = WindowOpt, horizon: int = HorizonOpt, centered: bool = CenteredOpt,
    channel: str = ChannelOpt, target: str = TargetOpt, hop: Optional[int] = HopOpt, delay: Optional[int] = DelayOpt,
    split: str = SplitOpt,
    train_samples: Optional[int] = TrainOpt, mode: str = ModeOpt, seed: int = SeedOpt,
    signal_name: Optional[str] = SignalOpt, json_out: bool = JsonOpt, wide: bool = WideOpt,
    workers: Any = WorkersOpt, timeout: Optional[float] = TimeoutOpt, scheduler: Optional[str] = SchedulerOpt,
    memory_budget: Optional[str] = BudgetOpt, stream: bool = StreamOpt, metric: list[str] = MetricOpt,
    quantize: list[str] = QuantizeOpt, deployment: bool = DeploymentOpt,
    overwrite: bool = OVERWRITE,
) -> None:
    """Compare methods on one signal under one protocol; print the leaderboard (with the reference).

    A signal larger than the memory budget is streamed (see docs/scaling.md). Without -m the task's default
    methods run (printed first, with a rough time).

    \b
    Example: sigbench compare s.h5 -m lms:mu=0.005 -m dnn:epochs=20 -o res.h5
    """
    import sigbench as sb

    check_stdout(output, json_out=json_out)
    if json_out:
        set_quiet(True)
    _check_resume(resume, output)
    _sigterm_as_interrupt(output)
    with guard_outputs([file], [output], [report], overwrite=overwrite, resume=resume), stdin_file(file) as src, \
            stdout_file(output) as out:
        _announce_defaults(task, method, src, signal_name=signal_name, seeds=seeds, split=split,
                           train_samples=train_samples, window=window,
                           task_options=_task_options(window, horizon, centered, channel, target, hop, delay))
        res = sb.compare(src, task, method or None, seeds=seeds, seed=seed, split=_split(split),
                         train_samples=train_samples, mode=mode, reference=reference, output=out, resume=resume,
                         signal_name=signal_name, workers=workers, timeout=timeout, scheduler=scheduler,
                         stream=True if stream else None, budget_bytes=_budget(memory_budget), metrics=metric,
                         quantize=quantize, deployment=deployment,
                         **_task_options(window, horizon, centered, channel, target, hop, delay))
    if report is not None:
        _write_report(res, report)
    _finish(res, json_out, output, wide)


def _write_report(res: Any, report: Path) -> None:
    from sigbench.report import write_report

    fmt = "md" if report.suffix.lower() == ".md" else "html"
    write_report(res, report, fmt=fmt)
    if not is_quiet():
        get_console().print(f"Wrote {escape(str(report))}.")


def _parse_grid(items: list[str]) -> dict[str, list[Any]]:
    grid: dict[str, list[Any]] = {}
    for item in items:
        key, sep, values = item.partition("=")
        if not sep or not key.strip() or not values.strip():
            raise typer.BadParameter(f"expected KEY=V1,V2,…; received: {item!r}", param_hint="'--grid'")
        parsed: list[Any] = []
        for v in values.split(","):
            v = v.strip()
            try:
                num = float(v)
            except ValueError:
                if key.strip() in ("snr_db", "window", "horizon", "hop") or "." in key:
                    raise typer.BadParameter(f"expected numbers for {key}; received: {v!r}",
                                             param_hint="'--grid'") from None
                parsed.append(v)
                continue
            parsed.append(int(num) if num.is_integer() and "." not in v and "e" not in v.lower() else num)
        grid[key.strip()] = parsed
    return grid


def sweep(
    source: str = typer.Argument(..., metavar="SOURCE|FILE",
                                 help="A source name (e.g. sines) or a sigbench HDF5 file ('-': stdin)."),
    grid: list[str] = typer.Option(..., "--grid", "-g", metavar="KEY=V1,V2,...", help="Grid values (repeatable): "
                                   "a source parameter, window/horizon/hop, or METHOD.OPTION."),
    method: list[str] = MethodOpt,
    output: Optional[Path] = output_opt("the result file (HDF5; '-': stdout)"),
    seeds: int = SeedsOpt, n: Optional[int] = SamplesOpt, param: list[str] = ParamOpt,
    reference: Optional[str] = ReferenceOpt, resume: bool = ResumeOpt, report: Optional[Path] = ReportOpt,
    task: str = TaskOpt, window: int = WindowOpt, horizon: int = HorizonOpt, centered: bool = CenteredOpt,
    channel: str = ChannelOpt, target: str = TargetOpt, hop: Optional[int] = HopOpt, delay: Optional[int] = DelayOpt,
    split: str = SplitOpt,
    train_samples: Optional[int] = TrainOpt, mode: str = ModeOpt, seed: int = SeedOpt,
    signal_name: Optional[str] = SignalOpt, json_out: bool = JsonOpt, wide: bool = WideOpt,
    workers: Any = WorkersOpt, timeout: Optional[float] = TimeoutOpt, scheduler: Optional[str] = SchedulerOpt,
    memory_budget: Optional[str] = BudgetOpt, stream: bool = StreamOpt,
    n_old: Optional[int] = deprecated_alias("--n", min=1), overwrite: bool = OVERWRITE,
) -> None:
    """Repeat a comparison over a grid: one row per grid point × method, grid points in numeric order.

    A signal file larger than the memory budget is streamed (grid keys window, horizon, METHOD.OPTION).

    \b
    Example: sigbench sweep sines -g snr_db=0,5,10,20 -m wiener -m lms -n 3000 -o sweep.h5
    """
    import sigbench as sb
    from sigbench.params import coerce_params, parse_kv

    check_stdout(output, json_out=json_out)
    if json_out:
        set_quiet(True)
    _check_resume(resume, output)
    n = n if n is not None else n_old
    parsed = _parse_grid(grid)
    source_params: dict[str, Any] = {}
    if param:
        source_params = coerce_params(sb.get_source(source), parse_kv(param))
    _sigterm_as_interrupt(output)
    inputs = [Path(source)] if not is_dash(source) and Path(source).is_file() else []
    with guard_outputs(inputs, [output], [report], overwrite=overwrite, resume=resume), \
            stdin_source(source) as src, stdout_file(output) as out:
        is_file = src != source or Path(str(src)).is_file()
        if signal_name is not None and not is_file:
            raise ConfigError(f"expected a signal file with --signal; received: source {source!r}")
        if stream and not is_file:
            raise ConfigError("expected a signal file for --stream (a source's signal is generated in memory)")
        extra: dict[str, Any] = {"signal_name": signal_name} if signal_name is not None else {}
        res = sb.sweep(src, parsed, task, method or None, source_params=source_params, n=n, output=out,
                       resume=resume, seeds=seeds, seed=seed, split=_split(split), train_samples=train_samples,
                       reference=reference, workers=workers, timeout=timeout, scheduler=scheduler, mode=mode,
                       stream=True if stream else None, budget_bytes=_budget(memory_budget),
                       **_task_options(window, horizon, centered, channel, target, hop, delay), **extra)
    if report is not None:
        _write_report(res, report)
    _finish(res, json_out, output, wide)


#: what ``demo --fast`` runs: the DSP methods and one small network, one seed, fewer epochs
FAST_METHODS = ["dnn:units=32,8,epochs=15", "lms", "wiener", "fir-bank:mode=features,numtaps=31,bands=16", "naive"]


def demo(
    output: Path = output_opt("the result file (HDF5)", default=Path("demo.h5")),
    report: Path = typer.Option(Path("demo-report.html"), "--report", dir_okay=False, metavar="FILE",
                                help="Also write a report to FILE (.html, or .md with a folder of figures)."),
    seeds: int = SeedsOpt,
    fast: bool = typer.Option(False, "--fast", help="The DSP methods and one small DNN, one seed (seconds)."),
    resume: bool = ResumeOpt, json_out: bool = JsonOpt, wide: bool = WideOpt, workers: Any = WorkersOpt,
    timeout: Optional[float] = TimeoutOpt, scheduler: Optional[str] = SchedulerOpt, overwrite: bool = OVERWRITE,
) -> None:
    """The founding experiment: predict the next clean sample of sin(t)+sin(πt/2)+sin(−3πt/2) (step 0.1 s,
    5000 samples, SNR 10 dB) from the last 64 noisy samples; DNN, CNN, LSTM, CNN-LSTM against LMS, the
    Wiener-Hopf reference, an FIR bank and the naive predictor; train on 4000 samples, test on 1000.

    \b
    Example: sigbench demo --fast
    """
    import sigbench as sb

    if json_out:
        set_quiet(True)
    console = get_console()
    sig = sb.generate("sines", n=5000, seed=0, snr_db=10.0)
    if not is_quiet():
        console.print(f"Founding signal: {sig.n_samples} samples at {sig.sample_rate_hz:g} Hz, measured SNR "
                      f"{sig.snr_db():.2f} dB. Training on 4000 samples, testing on 1000.")
    if fast:
        seeds = 1
    methods = FAST_METHODS if fast else None
    _sigterm_as_interrupt(output)
    with guard_outputs([], [output], [report], overwrite=overwrite, resume=resume):
        if not (resume and output.exists()):  # an existing demo.h5 keeps its runs (--overwrite: afresh)
            sb.save_signal(sig.with_(name="founding"), output, append=True)
        if not fast:
            _announce_defaults("predict", [], output, signal_name=None, seeds=seeds, split="0.6,0.2,0.2",
                               train_samples=4000, window=64, lead="Running",
                               hint="(`sigbench demo --fast`: the DSP methods and one small DNN, in seconds.)")
        res = sb.compare(output, "predict", methods, seeds=seeds, window=64, train_samples=4000, output=output,
                         resume=resume, workers=workers, timeout=timeout, scheduler=scheduler)
    try:
        _write_report(res, report)
    except ImportError as exc:  # matplotlib missing: the table is still the answer
        console.print(f"[yellow]No report: {escape(str(exc))}[/]")
    _finish(res, json_out, output, wide)


def register(app: typer.Typer) -> None:
    """Add the comparison commands to ``app``."""
    app.command("run")(run)
    app.command("compare")(compare)
    app.command("sweep")(sweep)
    app.command("demo")(demo)
