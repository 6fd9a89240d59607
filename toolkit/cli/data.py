"""Signal commands: ``generate``, ``import``, ``info``."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, Optional

import typer

from sigbench.cli._common import emit_json, escape, fmt, get_console
from sigbench.cli._io import check_stdout, display, guard_outputs, input_argument, is_dash, stdin_file, stdout_file
from sigbench.cli._options import (
    AppendOpt,
    BudgetOpt,
    JsonOpt,
    NameOpt,
    ParamOpt,
    SamplesOpt,
    StreamOpt,
    deprecated_alias,
    output_opt,
)

__all__ = ["register"]

_IMPORTERS = {".wav": "wav", ".csv": "csv", ".tsv": "csv", ".txt": "csv", ".npy": "npy",
              ".h5": "hdf5", ".hdf5": "hdf5", ".he5": "hdf5", ".mat": "mat", ".sigmf-meta": "sigmf",
              ".sigmf-data": "sigmf"}


def _summary(info: dict[str, Any]) -> None:
    from rich.table import Table

    console = get_console()
    table = Table(title=f"{escape(info['path'])}  (format {info.get('sigbench_format')}, "
                        f"sigbench {escape(str(info.get('sigbench_version')))})", title_justify="left")
    for col in ("signal", "samples", "channels", "rate Hz", "duration s", "RMS", "SNR dB", "clean", "source"):
        table.add_column(col)
    for s in info["signals"]:
        if "error" in s:
            table.add_row(escape(s["name"]), "[red]unreadable[/]", "", "", "", "", "", "", escape(s["error"]))
            continue
        table.add_row(escape(s["name"]), str(s["samples"]), str(s["channels"]), fmt(s["sample_rate_hz"], 3),
                      fmt(s["duration_s"], 2), fmt(s.get("rms"), 4), fmt(s.get("snr_db"), 2),
                      "yes" if s["has_clean"] else "no", escape(str(s.get("source") or "")))
    console.print(table)
    if info["runs"]:
        runs = Table(title="runs", title_justify="left")
        for col in ("run", "task", "kind", "created", "methods"):
            runs.add_column(col)
        for r in info["runs"]:
            runs.add_row(escape(r["run_id"]), escape(r.get("task", "")), escape(r.get("kind", "")),
                         escape(r.get("created", "")), escape(", ".join(r.get("methods", []))))
        console.print(runs)


def generate(
    source: str = typer.Argument(..., metavar="SOURCE", help="Source name (see `sigbench plugins`), e.g. sines."),
    output: Path = output_opt("the signal file (HDF5; '-': stdout)", required=True),
    n: Optional[int] = SamplesOpt,
    seed: Optional[int] = typer.Option(None, "--source-seed", min=0, metavar="INT",
                                       help="Seed of the source's random numbers (its noise); default 0."),
    snr_db: Optional[float] = typer.Option(None, "--snr-db", metavar="FLOAT",
                                           help="Input SNR in dB, for sources that add noise."),
    param: list[str] = ParamOpt, name: Optional[str] = NameOpt, append: bool = AppendOpt, json_out: bool = JsonOpt,
    stream: bool = StreamOpt, memory_budget: Optional[str] = BudgetOpt,
    n_old: Optional[int] = deprecated_alias("--n", min=1), seed_old: Optional[int] = deprecated_alias("--seed", min=0),
) -> None:
    """Generate a signal from a source and write it to an HDF5 file (atomically).

    \b
    Example: sigbench generate sines -o s.h5 -n 5000 --snr-db 10 --source-seed 0
    """
    import sigbench as sb
    from sigbench.params import coerce_params, parse_kv

    _check_output(output, json_out, append)
    _set_budget(memory_budget)
    n = n if n is not None else n_old
    if n is not None and n > _MAX_SAMPLES:  # the generators' and sweep's cap: a typo must not fill the disk
        raise typer.BadParameter(f"expected at most {_MAX_SAMPLES} samples (2e8); received: {n}",
                                 param_hint="'--samples'")
    seed = seed if seed is not None else seed_old
    factory = sb.get_source(source)
    raw: dict[str, Any] = parse_kv(param)
    if snr_db is not None:
        raw["snr_db"] = snr_db
    params = coerce_params(factory, raw, what=f"parameter of source {source!r}")
    from sigbench.h5 import memory_budget_bytes

    if (stream or (n is not None and n * 16 > memory_budget_bytes())) and not append and name is None:
        _write_and_report(output, json_out, lambda out: sb.stream_generate(
            source, out, n if n is not None else 5000, seed=seed or 0, **params), (), append)
        return
    sig = sb.generate(source, n=n, seed=seed, **params)
    sig = sig.with_(name=name or sig.name or source)
    _write_and_report(output, json_out, lambda out: sb.save_signal(sig, out, append=append), (), append)


#: largest signal ``generate`` writes (as :data:`sigbench.datasets._common.MAX_SAMPLES`), in memory or streamed
_MAX_SAMPLES = 200_000_000


def _write_and_report(output: Path, json_out: bool, write: Callable[[Path], Any], inputs: Any = (),
                      append: bool = False) -> None:
    """``write`` the output file (or stdout's temporary file), then print its summary (or its JSON)."""
    import sigbench as sb

    with guard_outputs(inputs, [output], keep=append), stdout_file(output) as out:
        assert out is not None
        write(out)
        info = sb.file_info(out)
    info["path"] = display(output)
    if json_out:
        emit_json(info)
    else:
        _summary(info)


def import_(
    file: Path = input_argument("File to import (with '-', give --format)."),
    output: Path = output_opt("the signal file (HDF5; '-': stdout)", required=True),
    fmt_: Optional[str] = typer.Option(None, "--format", "-f", metavar="wav|csv|npy|hdf5|mat|sigmf",
                                       help="Format of the imported FILE (default: from its extension)."),
    sample_rate: Optional[float] = typer.Option(None, "--sample-rate-hz", metavar="FLOAT",
                                                help="Sample rate in Hz (csv, npy, hdf5, mat)."),
    param: list[str] = ParamOpt, name: Optional[str] = NameOpt, append: bool = AppendOpt, json_out: bool = JsonOpt,
    stream: bool = StreamOpt, memory_budget: Optional[str] = BudgetOpt,
    rate_old: Optional[float] = deprecated_alias("--sample-rate"),
) -> None:
    """Import a WAV, CSV/TSV, .npy, MATLAB .mat, SigMF or foreign HDF5 dataset into a sigbench HDF5 file.

    \b
    Example: sigbench import recording.csv -o rec.h5 --sample-rate-hz 1000
    """
    import sigbench as sb
    from sigbench.datasets.stream_import import STREAM_FORMATS
    from sigbench.errors import ValidationError
    from sigbench.params import coerce_params, parse_kv

    _check_output(output, json_out, append)
    _set_budget(memory_budget)
    sample_rate = sample_rate if sample_rate is not None else rate_old
    loader_name = fmt_ or (None if is_dash(file) else _IMPORTERS.get(file.suffix.lower()))
    if loader_name is None:
        raise ValidationError(
            f"expected --format wav, csv, npy, hdf5, mat or sigmf for {display(file, 'stdin')}; "
            f"received: suffix {file.suffix!r}"
        )
    loader = sb.get_source(loader_name)
    if stream and loader_name not in STREAM_FORMATS:
        raise ValidationError(
            f"expected a wav, npy or hdf5 file with --stream (a {loader_name} file is read whole: import it without "
            f"--stream); received: --stream with format {loader_name}"
        )
    raw: dict[str, Any] = parse_kv(param)
    if sample_rate is not None:
        raw["sample_rate_hz"] = sample_rate
    params = coerce_params(loader, raw, what=f"parameter of importer {loader_name!r}")
    suffix = {v: k for k, v in reversed(_IMPORTERS.items())}.get(loader_name, "")
    signal_name = name or (_safe_name(file.stem) if not is_dash(file) else "stdin")
    with stdin_file(file, suffix=suffix) as src:
        if loader_name in STREAM_FORMATS and (stream or _over_budget(loader_name, src, params)):
            from sigbench.datasets.stream_import import stream_import

            _write_and_report(output, json_out, lambda out: stream_import(
                loader_name, str(src), out, name=signal_name, append=append, **params), [file], append)
            return
        sig = sb.load_source(loader_name, str(src), **params)
    sig = sig.with_(name=signal_name)
    _write_and_report(output, json_out, lambda out: sb.save_signal(sig, out, append=append), [file], append)


def _over_budget(loader_name: str, path: Path, params: dict[str, Any]) -> bool:
    """True when the float64 samples of ``path`` (read from its header only) exceed the memory budget."""
    from sigbench.datasets.stream_import import estimate_import_bytes
    from sigbench.h5 import memory_budget_bytes

    size = estimate_import_bytes(loader_name, path, **params)
    return size is not None and size > memory_budget_bytes()


def _set_budget(memory_budget: Optional[str]) -> None:
    """``--memory-budget``: the budget of this command (as ``SIGBENCH_MEMORY_BUDGET`` would set it)."""
    if memory_budget is None:
        return
    import os

    from sigbench.h5 import parse_bytes

    parse_bytes(memory_budget)  # a bad value is a usage error before any work
    os.environ["SIGBENCH_MEMORY_BUDGET"] = memory_budget


def _check_output(output: Path, json_out: bool, append: bool) -> None:
    from sigbench.errors import ValidationError

    check_stdout(output, json_out=json_out)
    if append and is_dash(output):
        raise ValidationError("expected a file to append to; received: --append with -o -")


def _safe_name(stem: str) -> str:
    cleaned = "".join(c if c.isalnum() or c in "-_." else "_" for c in stem).strip(".")
    return cleaned or "signal"


def info(
    file: Path = input_argument("sigbench HDF5 file."),
    json_out: bool = JsonOpt,
) -> None:
    """Summarise a sigbench file: signals (samples, rate, duration, RMS, SNR when clean is known) and runs.

    \b
    Example: sigbench info s.h5
    """
    import sigbench as sb

    with stdin_file(file) as src:
        summary = sb.file_info(src)
    summary["path"] = display(file, "stdin")
    if json_out:
        emit_json(summary)
    else:
        _summary(summary)


def register(app: typer.Typer) -> None:
    """Add the signal commands to ``app``."""
    app.command("generate")(generate)
    app.command("import")(import_)
    app.command("info")(info)
