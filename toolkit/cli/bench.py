"""Comparison commands: ``run``, ``compare``, ``sweep``, ``demo``."""

from __future__ import annotations

import signal as _signal
from pathlib import Path
from typing import Any, Optional

import typer

from sigbench.cli._common import emit_json, escape, fmt, get_console
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
from sigbench.console import is_quiet, set_quiet
from sigbench.errors import ConfigError

__all__ = ["register", "render_leaderboard"]

_FILE = input_argument("sigbench HDF5 signal file.")


def _task_options(window: int, horizon: int, centered: bool, channel: str, target: str,
                  hop: Optional[int]) -> dict[str, Any]:
    return {"window": window, "horizon": horizon, "centered": centered,
            "channel": int(channel) if channel.isdigit() else channel, "target": target, "hop": hop}


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


def _sigterm_as_interrupt() -> None:
    def handler(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    try:
        _signal.signal(_signal.SIGTERM, handler)
    except ValueError:  # not the main thread (a test runner): keep the default
        pass


def render_leaderboard(results: Any) -> None:
    """Print the leaderboard of a :class:`~sigbench.Results` on stderr."""
    from rich.table import Table

    main = results.main_metric
    sig = results.signal
    title = (f"{results.task} on {escape(str(sig.get('name')))} ({sig.get('samples')} samples, "
             f"target: {escape(str(sig.get('target_kind', '?')))}) — sorted by {main}")
    table = Table(title=title, title_justify="left")
    grid_keys = sorted({k for r in results.rows for k in r.grid})
    for col in (*grid_keys, "#", "method", "family", "status", f"{main}", "excess dB", "SNR gain dB", "MSE",
                "params", "MACs/sample", "fit s", "samples/s"):
        table.add_column(col, justify="right" if col not in ("method", "family", "status") else "left")
    rank = 0
    notes: list[str] = []
    last_grid: dict[str, Any] | None = None
    for r in results.rows:
        m = r.metrics
        if r.grid != last_grid:  # ranks restart at each grid point of a sweep
            rank, last_grid = 0, r.grid
        if r.status == "ok":
            rank += 1
            ci = m.get(f"{main}_ci")
            main_txt = fmt(m.get(main)) + (f" ± {fmt(ci)}" if ci is not None else "")
            status = "ok" + (" (bound)" if r.is_reference else "")
        else:
            main_txt = "—"
            notes.append(f"[{len(notes) + 1}] {r.method}: {r.error}")
            status = f"[red]failed [{len(notes)}][/]"
        c = r.cost
        table.add_row(*(escape(str(r.grid.get(k, ""))) for k in grid_keys),
                      str(rank) if r.status == "ok" else "", escape(r.method), escape(r.family), status, main_txt,
                      fmt(m.get("excess_db")), fmt(m.get("snr_gain_db")), fmt(m.get("mse"), 4),
                      fmt(c.get("params")), fmt(c.get("macs_per_sample"), 0), fmt(c.get("fit_s")),
                      fmt(c.get("samples_per_s"), 0))
    console = get_console()
    console.print(table)
    for note in notes:
        console.print(f"[red]{escape(note)}[/]")
    bound = results.bound
    if bound.get("mse") is not None:
        ref = next((r for r in results.rows if r.is_reference and r.status == "ok"), None)
        value = ref.metrics.get(main) if ref is not None else (bound.get(main) if main in bound else None)
        unit = _metric_unit(main) if value is not None else ""
        shown = f", {main} {fmt(value)}{' ' + unit if unit else ''}" if value is not None else ""
        console.print(f"Bound: {escape(str(bound['method']))} (optimal linear FIR on the training data) "
                      f"MSE {fmt(bound['mse'], 4)}{shown}. excess dB < 0 means better than the bound.")
    for w in results.warnings:
        console.print(f"[yellow]Warning:[/] {escape(w)}")


def _metric_unit(name: str) -> str:
    """The unit of a registered metric ("" when unknown: a plugin's metric read back without the plugin)."""
    from sigbench.errors import SigbenchError
    from sigbench.host import get_host

    try:
        return str(get_host().registry.get("metrics", name).info.get("unit", ""))
    except SigbenchError:
        return ""


def _finish(results: Any, json_out: bool, output: Optional[Path]) -> None:
    from sigbench.cli import ExitCode

    if json_out:
        emit_json(results.to_json())
    else:
        render_leaderboard(results)
        if output is not None:
            get_console().print(f"Wrote {escape(display(output))} (run {escape(results.run_id)}).")
    if results.failed:
        raise typer.Exit(ExitCode.METHOD_FAILED)


# Options shared by run/compare/sweep ---------------------------------------------------------
TaskOpt = typer.Option("predict", "--task", "-t", help="A registered task: predict, denoise, identify, spectrum, "
                       "or a plugin's (`sigbench plugins` lists every task with its metrics).")
WindowOpt = typer.Option(64, "--window", "-w", min=1, help="Samples per input window.")
HorizonOpt = typer.Option(1, "--horizon", min=1, help="predict: samples ahead of the window's end.")
CenteredOpt = typer.Option(False, "--centered", help="denoise: target the window's centre.")
ChannelOpt = typer.Option("0", "--channel", help="Channel index or name of a multi-channel signal.")
TargetOpt = typer.Option("auto", "--target", help="auto (clean when known) or observed.")
HopOpt = typer.Option(None, "--hop", min=1, help="Samples between windows (default 1; spectrum: window).")
SplitOpt = typer.Option("0.6,0.2,0.2", "--split", help="Chronological train,val,test fractions.")
TrainOpt = typer.Option(None, "--train-samples", min=1,
                        help="Train on the first N samples, test on the rest (founding: 4000).")
ModeOpt = typer.Option("offline", "--mode", help="offline or prequential.")
SeedOpt = typer.Option(0, "--seed", min=0, help="First seed.")
SignalOpt = typer.Option(None, "--signal", help="Signal name in a file that holds several.")
JsonOpt = typer.Option(False, "--json", help="Print the results as JSON on stdout.")
WorkersOpt = typer.Option(1, "--workers", min=1, help="Processes running (method × seed × grid point) cells.")
TimeoutOpt = typer.Option(None, "--timeout", min=0.001, help="Seconds one cell may run before its row fails.")
SchedulerOpt = typer.Option(None, "--scheduler", help="local-dask, or tcp://HOST:PORT of a Dask scheduler.")
BudgetOpt = typer.Option(None, "--memory-budget", help="Signals larger than this (e.g. 500M, 2G) are streamed in "
                         "chunks; default: SIGBENCH_MEMORY_BUDGET or half the available memory.")
StreamOpt = typer.Option(False, "--stream", help="Stream the signal in chunks whatever its size.")


def _budget(memory_budget: Optional[str]) -> Optional[int]:
    """The memory budget in bytes (``None``: the default, see :func:`sigbench.h5.memory_budget_bytes`)."""
    from sigbench.h5 import parse_bytes

    return parse_bytes(memory_budget) if memory_budget else None


MetricOpt = typer.Option([], "--metric", help="A registered metric to compute besides the task's (repeatable).")


def run(
    method: str = typer.Argument(..., help="Method spec, e.g. lms:mu=0.005,numtaps=64 or 'fir-bank | dnn'."),
    file: Path = _FILE,
    output: Path = typer.Option(..., "--output", "-o", dir_okay=False, help="Result file (HDF5; '-': stdout)."),
    task: str = TaskOpt, window: int = WindowOpt, horizon: int = HorizonOpt, centered: bool = CenteredOpt,
    channel: str = ChannelOpt, target: str = TargetOpt, hop: Optional[int] = HopOpt, split: str = SplitOpt,
    train_samples: Optional[int] = TrainOpt, mode: str = ModeOpt, seed: int = SeedOpt,
    signal_name: Optional[str] = SignalOpt, json_out: bool = JsonOpt,
    memory_budget: Optional[str] = BudgetOpt, stream: bool = StreamOpt, overwrite: bool = OVERWRITE,
) -> None:
    """Run one method on a signal file and store its predictions and metrics in OUTPUT.

    A signal larger than the memory budget is streamed: read, fitted and predicted chunk by chunk with
    bounded memory (see docs/scaling.md)."""
    import sigbench as sb

    check_stdout(output, json_out=json_out)
    if json_out:
        set_quiet(True)
    _sigterm_as_interrupt()
    with guard_outputs([file], [output], overwrite=overwrite), stdin_file(file) as src, \
            stdout_file(output) as out:
        res = sb.run_method(method, src, task, seeds=1, seed=seed, split=_split(split),
                            train_samples=train_samples, mode=mode, output=out, signal_name=signal_name,
                            stream=True if stream else None, budget_bytes=_budget(memory_budget),
                            **_task_options(window, horizon, centered, channel, target, hop))
    _finish(res, json_out, output)


def compare(
    file: Path = _FILE,
    method: list[str] = typer.Option([], "--method", "-m", help="Method spec (repeatable); default: per task."),
    output: Optional[Path] = typer.Option(None, "--output", "-o", dir_okay=False,
                                          help="Result file (HDF5; '-': stdout)."),
    seeds: int = typer.Option(3, "--seeds", min=1, help="Runs of each stochastic method."),
    reference: str = typer.Option("wiener", "--reference", help="Method whose MSE is the bound."),
    resume: bool = typer.Option(False, "--resume", help="Keep finished rows of the same run in OUTPUT."),
    report: Optional[Path] = typer.Option(None, "--report", dir_okay=False, help="Also write an HTML report."),
    task: str = TaskOpt, window: int = WindowOpt, horizon: int = HorizonOpt, centered: bool = CenteredOpt,
    channel: str = ChannelOpt, target: str = TargetOpt, hop: Optional[int] = HopOpt, split: str = SplitOpt,
    train_samples: Optional[int] = TrainOpt, mode: str = ModeOpt, seed: int = SeedOpt,
    signal_name: Optional[str] = SignalOpt, json_out: bool = JsonOpt, workers: int = WorkersOpt,
    timeout: Optional[float] = TimeoutOpt, scheduler: Optional[str] = SchedulerOpt,
    memory_budget: Optional[str] = BudgetOpt, stream: bool = StreamOpt, metric: list[str] = MetricOpt,
    overwrite: bool = OVERWRITE,
) -> None:
    """Compare methods on one signal under one protocol; print the leaderboard (with the Wiener bound).

    A signal larger than the memory budget is streamed (see docs/scaling.md)."""
    import sigbench as sb

    check_stdout(output, json_out=json_out)
    if json_out:
        set_quiet(True)
    if resume and (output is None or is_dash(output)):
        raise typer.BadParameter("--resume needs --output FILE", param_hint="'--resume'")
    _sigterm_as_interrupt()
    with guard_outputs([file], [output], [report], overwrite=overwrite, resume=resume), stdin_file(file) as src, \
            stdout_file(output) as out:
        res = sb.compare(src, task, method or None, seeds=seeds, seed=seed, split=_split(split),
                         train_samples=train_samples, mode=mode, reference=reference, output=out, resume=resume,
                         signal_name=signal_name, workers=workers, timeout=timeout, scheduler=scheduler,
                         stream=True if stream else None, budget_bytes=_budget(memory_budget), metrics=metric,
                         **_task_options(window, horizon, centered, channel, target, hop))
    if report is not None:
        _write_report(res, output, report)
    _finish(res, json_out, output)


def _write_report(res: Any, output: Optional[Path], report: Path) -> None:
    from sigbench.report import write_report

    write_report(res, report)
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
    source: str = typer.Argument(..., help="A source name (e.g. sines) or a sigbench HDF5 file ('-': stdin)."),
    grid: list[str] = typer.Option(..., "--grid", "-g", help="KEY=V1,V2,… (repeatable): source parameter, "
                                   "window/horizon, or METHOD.OPTION."),
    method: list[str] = typer.Option([], "--method", "-m", help="Method spec (repeatable); default: per task."),
    output: Optional[Path] = typer.Option(None, "--output", "-o", dir_okay=False,
                                          help="Result file (HDF5; '-': stdout)."),
    seeds: int = typer.Option(3, "--seeds", min=1, help="Runs of each stochastic method."),
    n: Optional[int] = typer.Option(None, "--n", min=1, help="Samples per generated signal."),
    param: list[str] = typer.Option([], "--param", "-p", help="Fixed source parameter KEY=VALUE."),
    reference: str = typer.Option("wiener", "--reference", help="Method whose MSE is the bound."),
    resume: bool = typer.Option(False, "--resume", help="Keep finished cells of the same sweep in OUTPUT."),
    task: str = TaskOpt, window: int = WindowOpt, horizon: int = HorizonOpt, split: str = SplitOpt,
    train_samples: Optional[int] = TrainOpt, seed: int = SeedOpt, json_out: bool = JsonOpt,
    workers: int = WorkersOpt, timeout: Optional[float] = TimeoutOpt, scheduler: Optional[str] = SchedulerOpt,
    memory_budget: Optional[str] = BudgetOpt, stream: bool = StreamOpt, overwrite: bool = OVERWRITE,
) -> None:
    """Repeat a comparison over a grid (e.g. --grid snr_db=0,5,10,20): one row per grid point × method.

    A signal file larger than the memory budget is streamed (grid keys window, horizon, METHOD.OPTION)."""
    import sigbench as sb
    from sigbench.params import coerce_params, parse_kv

    check_stdout(output, json_out=json_out)
    if json_out:
        set_quiet(True)
    if resume and (output is None or is_dash(output)):
        raise typer.BadParameter("--resume needs --output FILE", param_hint="'--resume'")
    parsed = _parse_grid(grid)
    source_params: dict[str, Any] = {}
    if param:
        source_params = coerce_params(sb.get_source(source), parse_kv(param))
    _sigterm_as_interrupt()
    inputs = [Path(source)] if not is_dash(source) and Path(source).is_file() else []
    with guard_outputs(inputs, [output], overwrite=overwrite, resume=resume), stdin_source(source) as src, \
            stdout_file(output) as out:
        is_file = src != source or Path(str(src)).is_file()
        if stream and not is_file:
            raise ConfigError("expected a signal file for --stream (a source's signal is generated in memory)")
        res = sb.sweep(src, parsed, task, method or None, source_params=source_params, n=n, output=out,
                       resume=resume, seeds=seeds, seed=seed, split=_split(split), train_samples=train_samples,
                       reference=reference, window=window, horizon=horizon, workers=workers, timeout=timeout,
                       scheduler=scheduler, stream=True if stream else None, budget_bytes=_budget(memory_budget))
    _finish(res, json_out, output)


def demo(
    output: Path = typer.Option(Path("demo.h5"), "--output", "-o", dir_okay=False, help="Result file."),
    report: Path = typer.Option(Path("demo-report.html"), "--report", dir_okay=False, help="HTML report."),
    seeds: int = typer.Option(3, "--seeds", min=1, help="Runs of each neural method."),
    fast: bool = typer.Option(False, "--fast", help="DSP methods and one small DNN only (seconds)."),
    json_out: bool = JsonOpt, overwrite: bool = OVERWRITE,
) -> None:
    """The founding experiment: predict the next clean sample of sin(t)+sin(πt/2)+sin(−3πt/2) (step 0.1 s,
    5000 samples, SNR 10 dB) from the last 64 noisy samples; DNN, CNN, LSTM, CNN-LSTM against LMS, the
    Wiener-Hopf bound, an FIR bank and the naive predictor; train on 4000 samples, test on 1000."""
    import sigbench as sb

    if json_out:
        set_quiet(True)
    console = get_console()
    sig = sb.generate("sines", n=5000, seed=0, snr_db=10.0)
    if not is_quiet():
        console.print(f"Founding signal: {sig.n_samples} samples at {sig.sample_rate_hz:g} Hz, measured SNR "
                      f"{sig.snr_db():.2f} dB. Training on 4000 samples, testing on 1000.")
    methods = ["dnn", "lms", "wiener", "fir-bank:mode=features,numtaps=31,bands=16", "naive"] if fast else None
    _sigterm_as_interrupt()
    with guard_outputs([], [output], [report], overwrite=overwrite):
        sb.save_signal(sig.with_(name="founding"), output, append=True)
        res = sb.compare(output, "predict", methods, seeds=seeds, window=64, train_samples=4000, output=output)
    try:
        _write_report(res, output, report)
    except ImportError as exc:  # matplotlib missing: the table is still the answer
        console.print(f"[yellow]No report ({escape(str(exc))}); install the 'plots' extra.[/]")
    _finish(res, json_out, output)


def register(app: typer.Typer) -> None:
    """Add the comparison commands to ``app``."""
    app.command("run")(run)
    app.command("compare")(compare)
    app.command("sweep")(sweep)
    app.command("demo")(demo)
