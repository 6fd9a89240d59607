"""The terminal leaderboard: a table that fits the terminal, from 80 columns up.

At 80 columns the table is compact: rank, method, the main metric ± its 95 % interval, one *excess* column
per reference, MACs per sample and fit time. Secondary columns (family, seeds, SNR gain, MSE, parameters,
throughput, latency, memory) are added while they fit, or all of them with ``wide=True`` (``--wide``).
Method specifications too long for the width are abbreviated (``fir-bank [a]``) and spelled out in a legend
under the table; no cell is ever cut to an ellipsis. Each column has one number format
(:mod:`sigbench.numfmt`).

Reference columns are data-driven: every metric ``excess_db`` (the linear reference) or
``excess_<name>_db`` (e.g. ``excess_oracle_db``, ``excess_limit_db``) found in the rows becomes a column
``Δ <short> dB``, labelled and explained through :data:`REFERENCES` (an unknown ``<name>`` is shown as is).
The sign convention is the same everywhere: excess = 10·log10(MSE / MSE of the reference), so a positive
excess means more error than the reference and a negative one less.

Examples
--------
>>> import io, sigbench as sb
>>> from rich.console import Console
>>> res = sb.compare(sb.generate("sines", n=1500, seed=0), methods=["wiener"], window=8)
>>> console = Console(file=io.StringIO(), width=80)
>>> print_leaderboard(res, console)
>>> "SNR dB" in console.file.getvalue()
True
"""

from __future__ import annotations

import re
import string
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sigbench.console import escape
from sigbench.numfmt import (
    MISSING,
    PROBABILITY_METRICS,
    RATE_METRICS,
    eng,
    fixed,
    is_rate,
    metric_cell,
    metric_label,
    metric_value,
    rate,
)
from sigbench.results import MethodRow, Results, grid_sort_key

__all__ = ["REFERENCES", "Leaderboard", "ReferenceColumn", "build_leaderboard", "describe_metric", "leaderboard_text",
           "main_metric_note",
           "print_leaderboard", "reference_columns", "wilson_cell"]

#: ``excess_<name>_db`` → (short label, description); ``""`` is ``excess_db``, the linear reference
REFERENCES: dict[str, tuple[str, str]] = {
    "": ("ref", "the linear reference (Wiener FIR fitted on the training rows)"),
    "oracle": ("oracle", "the linear oracle (the same FIR fitted on the test rows: the best linear filter there)"),
    "limit": ("limit", "the model limit (an estimator that knows the source's generative model, not its "
                       "realisation; below it a method uses structure beyond that model)"),
    "float32": ("float32", "the exact target stored in float32: the least error any float32 output can have"),
}
_EXCESS = re.compile(r"^excess(?:_(?P<name>[a-z0-9_]+?))?_db$")
#: what the naive row is, said once under every table that has one
NAIVE_NOTE = "naive repeats the last sample: the floor every method should beat (always in the table)."


@dataclass(frozen=True)
class ReferenceColumn:
    """One *excess over a reference* column: its metric key, short label and description."""

    key: str
    short: str
    description: str

    @property
    def header(self) -> str:
        """Column header on two lines, e.g. ``Δ ref`` over ``dB``."""
        return f"Δ {self.short}\ndB"


def reference_columns(results: Results) -> list[ReferenceColumn]:
    """The excess columns of ``results``, in :data:`REFERENCES` order, then any other reference by name.

    Returns
    -------
    list of ReferenceColumn
        One per metric key ``excess_db``/``excess_<name>_db`` present in at least one row.
    """
    found: dict[str, str] = {}
    for row in results.rows:
        for key in row.metrics:
            match = _EXCESS.match(key)
            if match:
                found[key] = match.group("name") or ""
    order = list(REFERENCES)
    cols = []
    for key, name in sorted(found.items(), key=lambda kv: (order.index(kv[1]) if kv[1] in order else len(order),
                                                            kv[1])):
        short, description = REFERENCES.get(name, (name, f"the {name.replace('_', ' ')} reference"))
        if name == "" and results.bound.get("method"):
            description = description.replace("Wiener FIR", f"{results.bound['method']}")
        cols.append(ReferenceColumn(key, short, description))
    return cols


#: metrics shown beside the main one whenever the rows have them (detection probability, symbol error rate)
SECONDARY_METRICS = ("pd_at_pfa", "roc_auc", "ser")
#: the prediction metrics whose column label already says what they are: their note stays ``label: name``
#: (the README's recorded demo table shows it)
_SHORT_NOTE = frozenset({"snr_db", "snr_gain_db", "mse", "rmse", "mae", "nmse_db", "max_abs_error"})


def _metric_description(name: str) -> str | None:
    """The description a plugin registered with metric ``name`` (``None`` when unknown or not loaded)."""
    from sigbench.host import get_host

    entry = get_host().registry.entries.get("metrics", {}).get(name)
    text = entry.info.get("description") if entry is not None else None
    return str(text) if text else None


def describe_metric(name: str) -> str:
    """``label (name): description`` from the metric registry, or ``label: name`` for the prediction metrics
    whose label says it all (``snr_db``, ``mse``, …).

    Examples
    --------
    >>> describe_metric("snr_db")
    'SNR dB: snr_db'
    """
    label = metric_label(name)
    description = None if name in _SHORT_NOTE else _metric_description(name)
    return f"{label} ({name}): {description}" if description else f"{label}: {name}"


def main_metric_note(name: str) -> str:
    """What the main metric column holds, said once under the table.

    The built-in prediction metrics keep their short note (``SNR dB: snr_db, mean ± …``); any other metric
    is described by the text it was registered with (the metric registry), e.g. ``BER: bit error rate,
    Gray-coded PAM (…) (ber), mean ± 95 % interval over seeds (Student t); 0 (< x): no error, below x at
    95 % (Wilson)``.
    """
    label = metric_label(name)
    text = f"{describe_metric(name)}, mean ± 95 % interval over seeds (Student t)"
    if is_rate(name):
        text += f"; 0 (< x): no error in the test rows, the {label} is below x (95 % Wilson upper bound)"
    return text


def wilson_cell(name: str, metrics: dict[str, Any]) -> str:
    """``[low, high]`` of an error rate's Wilson interval (``<name>_ci_low``/``_ci_high``), or ``""``."""
    low, high = metrics.get(f"{name}_ci_low"), metrics.get(f"{name}_ci_high")
    if low is None or high is None:
        return ""
    return f"[{rate(low, 2)}, {rate(high, 2)}]"


@dataclass
class _Column:
    header: str
    cells: list[str]
    justify: str = "right"
    compact: bool = True
    note: str = ""


@dataclass
class Leaderboard:
    """A leaderboard laid out for one width: the rich table and the lines to print under it."""

    table: Any
    legend: list[str] = field(default_factory=list)
    hidden: list[str] = field(default_factory=list)
    width: int = 80


def _ordered(results: Results) -> list[MethodRow]:
    return sorted(results.rows, key=lambda r: grid_sort_key(r.grid))  # stable: keeps the rank order per point


def _cost(row: MethodRow, key: str, fmt: Callable[[Any], str]) -> str:
    return fmt(row.cost.get(key)) if row.status == "ok" else ""


def _columns(results: Results, rows: list[MethodRow], labels: list[str],
             notes: dict[int, int]) -> tuple[list[_Column], int]:
    """All columns in display order; returns them and the index of the method column."""
    main = results.main_metric
    grid_keys = sorted({k for r in rows for k in r.grid})
    cols: list[_Column] = []
    for key in grid_keys:
        values, last = [], None
        for r in rows:
            text = escape(str(r.grid.get(key, "")))
            values.append(text if (r.grid, key) != last else "")
            last = (r.grid, key)
        cols.append(_Column(f"grid {key}", values))
    ranks, rank, last_grid = [], 0, None
    for r in rows:
        if r.grid != last_grid:
            rank, last_grid = 0, r.grid
        rank += r.status == "ok"
        ranks.append(str(rank) if r.status == "ok" else "")
    cols.append(_Column("#", ranks))
    method_index = len(cols)
    cols.append(_Column("method", labels, "left"))
    main_cells = []
    for i, r in enumerate(rows):
        if r.status != "ok":
            main_cells.append(f"[red]failed ({notes[i]})[/]")
            continue
        main_cells.append(metric_cell(main, r.metrics))
    cols.append(_Column(metric_label(main), main_cells, note=main_metric_note(main)))
    for key in SECONDARY_METRICS:  # the task's other headline metrics (Pd beside AUC, SER beside BER)
        if key != main and any(key in r.metrics for r in rows):
            cols.append(_Column(metric_label(key), [metric_cell(key, r.metrics) if r.status == "ok" else ""
                                                    for r in rows], note=describe_metric(key), compact=key != "ser"))
    for ref in reference_columns(results):
        cols.append(_Column(ref.header, [fixed(r.metrics.get(ref.key)) if r.status == "ok" else "" for r in rows]))
    cols.append(_Column("MACs", [_cost(r, "macs_per_sample", eng) for r in rows],
                        note="MACs: multiply-accumulates per output sample"))
    cols.append(_Column("fit", [_cost(r, "fit_s", lambda v: eng(v, "s")) for r in rows],
                        note="fit: training time, mean over seeds"))
    # secondary columns, in the order they are added when there is room
    extra = [
        *([(f"{metric_label(main)} 95 % (Wilson)", [wilson_cell(main, r.metrics) if r.status == "ok" else ""
                                                     for r in rows], "right",
            f"{metric_label(main)} 95 % (Wilson): the interval of the error rate over the test rows")]
          if is_rate(main) else []),
        ("family", [escape(r.family) for r in rows], "left", ""),
        ("seeds", [str(len(r.seeds)) if r.seeds else "" for r in rows], "right", ""),
        (metric_label("snr_gain_db"), [fixed(r.metrics.get("snr_gain_db")) if r.status == "ok" else ""
                                       for r in rows], "right", "SNR gain: output SNR minus input SNR"),
        (metric_label("mse"), [eng(r.metrics.get("mse")) if r.status == "ok" else "" for r in rows], "right", ""),
        ("params", [_cost(r, "params", eng) for r in rows], "right", ""),
        ("samples/s", [_cost(r, "samples_per_s", eng) for r in rows], "right", "samples/s: prediction throughput"),
        ("latency", [_cost(r, "latency_s", lambda v: eng(v, "s")) for r in rows], "right",
         "latency: one prediction"),
        ("memory", [_cost(r, "memory_bytes", lambda v: eng(v, "B")) for r in rows], "right", ""),
    ]
    for header, cells, justify, note in extra:
        if header == metric_label(main) or not any(c not in ("", MISSING) for c in cells):
            continue
        cols.append(_Column(header, cells, justify, compact=False, note=note))
    return cols, method_index


def _table(title: str, cols: list[_Column], rows: list[MethodRow]) -> Any:
    from rich import box
    from rich.table import Table

    table = Table(title=title, title_justify="left", box=box.SIMPLE_HEAD, padding=(0, 1), pad_edge=False,
                  show_edge=False)
    for col in cols:
        table.add_column(col.header, justify=col.justify, no_wrap=True, overflow="fold")  # type: ignore[arg-type]
    for i, r in enumerate(rows):
        last_of_point = i + 1 < len(rows) and rows[i + 1].grid != r.grid
        table.add_row(*(c.cells[i] for c in cols), end_section=last_of_point)
    return table


def _title(results: Results) -> str:
    sig = results.signal
    what = [f"{sig['samples']} samples"] if sig.get("samples") else []
    if sig.get("target_kind"):
        what.append(f"target: {sig['target_kind']}")
    name = f" on {sig['name']}" if sig.get("name") else ""
    head = f"{results.task}{name}" + (f" ({', '.join(what)})" if what else "")
    grid_keys = sorted({k for r in results.rows for k in r.grid})
    order = "best first" + (" at each grid point" if grid_keys else "")
    sweep = f"sweep over {', '.join(grid_keys)}: " if grid_keys else ""
    return escape(f"{sweep}{head}, sorted by {metric_label(results.main_metric)}, {order}")


def _fits(table: Any, width: int) -> bool:
    from rich.console import Console

    probe = Console(width=10_000, file=None, no_color=True)
    return int(probe.measure(table).maximum) <= width


def build_leaderboard(results: Results, width: int = 80, *, wide: bool | None = None) -> Leaderboard:
    """Lay out the leaderboard of ``results`` for a terminal ``width`` columns wide.

    Parameters
    ----------
    results : Results
    width : int, default 80
        Terminal columns.
    wide : bool or None
        ``True``: every column (the table may be wider than ``width``); ``False``: the compact columns
        only; ``None``: the compact columns plus every secondary column that still fits.

    Returns
    -------
    Leaderboard
        The table, the legend lines (abbreviations, references, notes) and the hidden columns' names.
    """
    rows = _ordered(results)
    notes: dict[int, int] = {}
    failures: list[str] = []
    for i, r in enumerate(rows):
        if r.status != "ok":
            failures.append(f"({len(failures) + 1}) {r.method}: {r.error}")
            notes[i] = len(failures)
    full = [r.method for r in rows]
    title = _title(results)

    def layout(limit: int | None) -> tuple[list[_Column], int, list[str]]:
        labels, legend, letters = [], [], iter(string.ascii_lowercase)
        seen: dict[str, str] = {}
        for label in full:
            short = label.split(":", 1)[0].split("|", 1)[0].strip()
            if limit is None or len(label) <= limit or short == label:  # nothing shorter to show
                labels.append(escape(label))
                continue
            if label not in seen:
                seen[label] = next(letters, "z")
                legend.append(f"[{seen[label]}] {label}")
            labels.append(escape(f"{short} [{seen[label]}]"))
        cols, mi = _columns(results, rows, labels, notes)
        return cols, mi, legend

    limit: int | None = None
    for limit in (None, 32, 24, 20, 16, 12):
        cols, _mi, abbreviations = layout(limit)
        compact = [c for c in cols if c.compact]
        if _fits(_table(title, compact, rows), width):
            break
    hidden: list[str] = []
    for droppable in ("MACs", "fit"):  # still too wide (many references): costs move to the hidden columns
        if wide or _fits(_table(title, compact, rows), width):
            break
        col = next(c for c in compact if c.header == droppable)
        col.compact = False
        compact.remove(col)
    extra = [c for c in cols if not c.compact]
    chosen = list(compact)
    for col in extra:
        trial = [*chosen, col]
        if wide or (wide is None and _fits(_table(title, trial, rows), width)):
            chosen = trial
        else:
            hidden.append(col.header.replace("\n", " "))
    chosen.sort(key=cols.index)
    legend = [escape(a) for a in abbreviations]
    refs = reference_columns(results)
    if refs:
        named = "; ".join(f"{ref.short}: {ref.description}" for ref in refs)
        legend.append(escape(f"Δ dB: excess over a reference, 10·log10(MSE / MSE of the reference); > 0: more "
                             f"error than the reference, < 0: less. {named}."))
    notes_text = [c.note for c in chosen if c.note]
    if notes_text:
        legend.append(escape("; ".join(notes_text) + "."))
    if any(r.name == "naive" for r in rows):
        legend.append(NAIVE_NOTE)
    if hidden:
        legend.append(escape(f"Not shown at this width: {', '.join(hidden)} (--wide, or a wider terminal)."))
    legend.extend(f"[red]{escape(f)}[/]" for f in failures)
    return Leaderboard(_table(title, chosen, rows), legend, hidden, width)


def print_leaderboard(results: Results, console: Any = None, *, wide: bool | None = None) -> None:
    """Print the leaderboard of ``results`` (on the sigbench stderr console by default), laid out for the
    console's width, with its legend, the reference's numbers and the run's warnings."""
    from sigbench.console import get_console
    from sigbench.numfmt import eng as _eng

    console = console if console is not None else get_console()
    board = build_leaderboard(results, int(console.width), wide=wide)
    needed = _width(board.table)
    if needed > console.width:  # --wide on a narrow terminal: long lines rather than cut cells
        saved = console.width
        console.width = needed
        try:
            console.print(board.table, crop=False)
        finally:
            console.width = saved
    else:
        console.print(board.table)
    for line in board.legend:
        console.print(line)
    bound = results.bound
    if bound.get("mse") is not None and not any(r.grid for r in results.rows):  # a sweep: one bound per point
        main = results.main_metric
        value = fixed(bound.get(main)) if main not in RATE_METRICS | PROBABILITY_METRICS else \
            metric_value(main, bound.get(main))
        console.print(f"Reference: {escape(str(bound['method']))}, MSE {_eng(bound['mse'])}, "
                      f"{metric_label(main)} {value}.")
    for w in results.warnings:
        console.print(f"[yellow]Warning:[/] {escape(w)}")


def leaderboard_text(results: Results, width: int = 100) -> str:
    """The leaderboard as plain text (no colour) at ``width`` columns: what ``print_leaderboard`` shows on a
    terminal that wide (the README renders the recorded demo with it)."""
    import io

    from rich.console import Console

    buffer = io.StringIO()
    console = Console(file=buffer, width=width, color_system=None, force_terminal=False, highlight=False)
    print_leaderboard(results, console)
    return "\n".join(line.rstrip() for line in buffer.getvalue().splitlines()) + "\n"


def _width(table: Any) -> int:
    from rich.console import Console

    return int(Console(width=10_000, file=None).measure(table).maximum)
