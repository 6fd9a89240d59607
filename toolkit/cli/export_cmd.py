"""``sigbench export-model``: a trained neural processor as LiteRT and ONNX files, checked against Keras."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from sigbench.cli._common import emit_json, escape, get_console
from sigbench.cli._options import JsonOpt, RunIdOpt, output_opt
from sigbench.console import set_quiet
from sigbench.errors import ProcessorError, ValidationError

__all__ = ["export_model", "register"]

FORMATS = ("litert", "onnx")


def export_model(
    source: Path = typer.Argument(..., exists=True, readable=True, metavar="SOURCE",
                                  help="A saved processor folder (Processor.save) or a result file (HDF5)."),
    output: Path = output_opt("the exported files and their check record into DIR", required=True,
                              file_okay=False),
    method: Optional[str] = typer.Option(None, "--label", metavar="LABEL",
                                         help="Result file: the label of the row to export (e.g. dnn)."),
    run_id: Optional[str] = RunIdOpt,
    seed: Optional[int] = typer.Option(None, "--row-seed", min=0, metavar="INT",
                                       help="Result file: one of the row's seeds (default: its first)."),
    formats: list[str] = typer.Option(list(FORMATS), "--export-format", metavar="FORMAT",
                                      help="litert and/or onnx (repeatable; default: both)."),
    int8: bool = typer.Option(False, "--int8", help="Also a full-integer LiteRT file, calibrated on the run's "
                              "training rows (result files only)."),
    tolerance: float = typer.Option(1e-5, "--tolerance", min=0.0, metavar="FLOAT",
                                    help="Largest relative error a float export may have against Keras."),
    json_out: bool = JsonOpt,
) -> None:
    """Export a trained neural processor to LiteRT and ONNX and check each file against Keras.

    From a result file the method is refitted on the run's training rows (result files keep
    predictions, not models) and checked on the run's test rows; a saved processor is checked on
    seeded rows at its training input statistics. Float exports must equal Keras to --tolerance
    (relative to the largest output); the numbers go to OUTPUT/<method>.export_check.json. Needs the
    'export' extra (pip install 'sigbench[export]').

    Example: sigbench export-model demo.h5 --label dnn -o exported/
    """
    from sigbench.deploy import export_and_check, load_processor, processor_from_run, synthetic_rows

    if json_out:
        set_quiet(True)
    bad = [f for f in formats if f not in FORMATS]
    if bad:
        raise typer.BadParameter(f"expected litert or onnx; received: {', '.join(bad)}", param_hint="--export-format")
    quantize = "int8" if int8 else None
    console = get_console()
    representative = None
    if source.is_dir():
        if method is not None or run_id is not None or seed is not None:
            raise ValidationError("expected --label/--run/--row-seed only with a result file; received a saved "
                                  f"processor folder: {source}")
        if quantize is not None:
            raise ValidationError("expected a result file for --int8 (calibration needs the run's "
                                  "training rows); received a saved processor folder")
        processor = load_processor(source)
        rows, rows_source = synthetic_rows(processor), "seeded normal rows at the training input mean and std"
        stem = processor.name
    else:
        if method is None:
            raise ValidationError(f"expected --label with a result file ({source})")
        rp = processor_from_run(source, method, run_id=run_id, seed=seed)
        processor, rows = rp.processor, rp.test_inputs
        rows_source = f"test rows of run ({rows.shape[0]} rows), refitted with seed {rp.seed}"
        if rp.stored_max_abs_diff is not None:
            rows_source += f"; refit vs stored predictions max |diff| {rp.stored_max_abs_diff:.3g}"
        fit_rows = rp.fit_inputs
        val = float(getattr(processor, "held_out_fraction", 0.0) or 0.0)
        representative = fit_rows[: max(1, fit_rows.shape[0] - round(fit_rows.shape[0] * val))]
        stem = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in method)
    if processor.family != "neural":
        raise ProcessorError(f"{processor.name} is a DSP processor: export covers the neural processors "
                             f"(a DSP baseline deploys as its coefficients; see docs/deployment.md)")
    record = export_and_check(processor, output, rows, formats=tuple(dict.fromkeys(formats)), stem=stem,
                              quantize=quantize, representative=representative, tolerance=tolerance,
                              rows_source=rows_source)
    if json_out:
        emit_json(record)
    else:
        from rich.table import Table

        table = Table(title=f"export of {escape(processor.name)} ({escape(rows_source)})")
        for col in ("file", "runtime", "bytes", "rows", "max |error|", "relative", "check"):
            table.add_column(col, justify="left" if col in ("file", "runtime", "check") else "right")
        for c in record["checks"]:
            verdict = "—" if c["passed"] is None else ("pass" if c["passed"] else "FAIL")
            table.add_row(escape(Path(c["file"]).name), c["runtime"] + (f" {c['quantize']}" if c["quantize"] else ""),
                          str(c["file_bytes"]), str(c["rows"]), f"{c['max_abs_error']:.3g}", f"{c['rel_error']:.3g}",
                          verdict)
        console.print(table)
        console.print(f"Wrote {escape(record['record_file'])}.")
    if not record["passed"]:
        failed = [Path(c["file"]).name for c in record["checks"] if c["passed"] is False]
        raise ProcessorError(f"export check failed for {', '.join(failed)}: relative error above {tolerance:g} "
                             f"(numbers in {record['record_file']})")


def register(app: typer.Typer) -> None:
    """Add ``export-model`` to ``app``."""
    app.command("export-model")(export_model)
