"""``sigbench plugins``: list what is registered and what failed to load."""

from __future__ import annotations

import typer

from sigbench.cli._common import emit_json, escape, get_console

plugins_app = typer.Typer(no_args_is_help=False, add_completion=False, rich_markup_mode=None)


@plugins_app.callback(invoke_without_command=True)
def plugins(
    ctx: typer.Context,
    json_out: bool = typer.Option(False, "--json", help="Print JSON on stdout instead of tables."),
) -> None:
    """List every registered source, processor, task and metric with its origin package, version and
    tags, and every plugin that failed to load with its error."""
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
