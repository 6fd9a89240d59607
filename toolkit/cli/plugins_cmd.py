"""``sigbench plugins``: list what is registered and what failed to load; ``validate`` and ``new`` for authors."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from sigbench.cli._common import emit_json, escape, get_console
from sigbench.cli._options import JsonOpt

plugins_app = typer.Typer(no_args_is_help=False, add_completion=False, rich_markup_mode=None)


@plugins_app.callback(invoke_without_command=True)
def plugins(
    ctx: typer.Context,
    json_out: bool = JsonOpt,
) -> None:
    """List every registered source, processor, task (with its description and metrics) and metric with its
    origin package, version and tags, and every plugin that failed to load with its error.

    \b
    Example: sigbench plugins --json
    """
    if ctx.invoked_subcommand is not None:
        return
    from rich.table import Table

    from sigbench.host import KINDS, get_host

    reg = get_host().registry
    listing = {kind: [reg.entries[kind][n].as_dict() for n in reg.names(kind)] for kind in KINDS}
    listing["broken"] = [b.as_dict() for b in reg.broken]  # type: ignore[misc]
    if json_out:
        emit_json(listing)
        return
    console = get_console()
    for kind in KINDS:
        table = Table(title=kind, title_justify="left")
        for col in ("name", "origin", "package", "version", "tags"):
            table.add_column(col)
        for item in listing[kind]:
            tags = []
            if kind == "processors":
                tags = [item["family"]] + [t for t in ("online", "deterministic") if item.get(t)]
            elif kind == "sources":
                tags = [item["kind"]]
            elif kind == "metrics":
                tags = ["higher is better" if item["higher_is_better"] else "lower is better"]
                if item.get("blockwise"):
                    tags.append("out of core")
            elif kind == "tasks":
                tags = [item.get("description", ""), "metrics: " + ", ".join(item.get("metrics", []))]
            table.add_row(*(escape(str(item[k])) for k in ("name", "origin", "package", "version")),
                          escape(", ".join(tags)))
        console.print(table)
    if listing["broken"]:
        table = Table(title="broken plugins", title_justify="left", style="red")
        for col in ("plugin", "package", "stage", "error"):
            table.add_column(col)
        for b in listing["broken"]:
            table.add_row(escape(b["name"]), escape(b["package"]), escape(b["stage"]), escape(b["error"]))
        console.print(table)


@plugins_app.command("validate")
def validate(
    name: Optional[str] = typer.Argument(
        None, metavar="NAME",
        help="A processor, source or metric name, or a plugin's entry-point or distribution name. "
             "Default: everything installed plugins register."),
    all_: bool = typer.Option(False, "--all", help="Also check sigbench's built-ins."),
    json_out: bool = JsonOpt,
) -> None:
    """Run the conformance checks (sigbench.testing) on installed plugins: fit/predict shapes, save/load round
    trip, describe() keys, seeded determinism, no global RNG, input validation, no TensorFlow import from DSP
    processors. Exit 1 when a check fails or a plugin failed to load.

    \b
    Example: sigbench plugins validate --all
    """
    from rich.table import Table

    from sigbench.console import is_quiet, set_quiet
    from sigbench.errors import PluginError
    from sigbench.testing import FAILED, NOT_SUPPORTED, PASSED, validate_registered

    quiet = is_quiet()
    set_quiet(True)  # no training progress bars between the report lines
    try:
        reports = validate_registered(name, include_builtins=all_)
    finally:
        set_quiet(quiet)
    failed = [r for r in reports if not r.passed]
    console = get_console()
    if json_out:
        emit_json({"passed": not failed, "reports": [r.as_dict() for r in reports]})
    elif not reports:
        console.print("No plugins installed: nothing to validate (use --all for the built-ins).")
    else:
        style = {PASSED: "green", FAILED: "bold red", NOT_SUPPORTED: "yellow"}
        for report in reports:
            verdict = "[green]passed[/]" if report.passed else "[bold red]FAILED[/]"
            table = Table(title=f"{report.kind} {escape(report.subject)} ({escape(report.package)}): {verdict}",
                          title_justify="left")
            for col in ("check", "result", "seconds", "note"):
                table.add_column(col)
            for c in report.checks:
                table.add_row(escape(c.name), f"[{style.get(c.status, 'dim')}]{c.status}[/]", f"{c.duration_s:.2f}",
                              escape(c.message))
            console.print(table)
        console.print(f"{len(reports) - len(failed)} of {len(reports)} passed.")
    if failed:
        names = ", ".join(f"{r.kind} {r.subject}" for r in failed)
        raise PluginError(f"{len(failed)} of {len(reports)} failed the conformance checks: {names}")


@plugins_app.command("new")
def new(
    name: str = typer.Argument(..., metavar="NAME",
                               help="Plugin name, e.g. kalman or my-filter (the distribution is sigbench-NAME)."),
    output: Path = typer.Option(Path("."), "--output", "-o", file_okay=False, metavar="DIR",
                                help="Write the plugin's folder sigbench-NAME into DIR."),
    json_out: bool = JsonOpt,
) -> None:
    """Create a ready-to-install plugin package sigbench-NAME: pyproject.toml with the sigbench entry point, one
    DSP processor with its register_processors hook, tests using the conformance harness, and a README.
    Refuses to overwrite an existing folder.

    \b
    Example: sigbench plugins new kalman -o ~/src
    """
    from sigbench.testing import new_plugin

    path = new_plugin(name, output)
    files = sorted(str(p.relative_to(path)) for p in path.rglob("*") if p.is_file())
    if json_out:
        emit_json({"path": str(path), "files": files})
        return
    console = get_console()
    console.print(f"Created {escape(str(path))}:")
    for f in files:
        console.print(f"  {escape(f)}")
    console.print(f"Next: pip install -e {escape(str(path))} && sigbench plugins validate "
                  f"{escape(path.name.removeprefix('sigbench-'))}")
