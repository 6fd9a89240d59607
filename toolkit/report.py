"""Reports of a stored run: one self-contained HTML file, or Markdown with a folder of PNGs.

Everything is rendered from a :class:`~sigbench.results.Results` alone (what
:func:`~sigbench.results.load_results` reads back from a result file): nothing is re-run. The HTML
page embeds its figures as ``data:`` PNG URIs and its CSS inline; it has no script, no external
URL, and a Content-Security-Policy that forbids fetching anything, so it opens from ``file://``
without network access. Every string taken from a file is HTML-escaped.

The header gives the signal, protocol (the split said once, as it was applied), seeds, environment and
configuration hash; the leaderboard (the terminal's compact columns, then a details table: no horizontal
scroll at 1280 px or on A4) marks failed methods with their error; the verdict of each neural method
("beats the wiener reference: excess −X dB at Y× the cost", "does not beat LMS") is computed from the
stored metrics. One sign convention everywhere: excess = 10·log10(MSE / MSE of the reference), negative
when a method has less error than the reference. Figures are 150 dpi PNGs drawn with literal text
(``$`` is a dollar sign).

Example
-------
>>> import sigbench as sb                                             # doctest: +SKIP
>>> from sigbench.report import write_report                         # doctest: +SKIP
>>> write_report(sb.load_results("compare.h5"), "report.html")       # doctest: +SKIP
PosixPath('report.html')
"""

from __future__ import annotations

import base64
import html
import io
import json
import math
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sigbench.deploy.report import deployment_section
from sigbench.errors import SigbenchError, ValidationError, WriteError
from sigbench.numfmt import PROBABILITY_METRICS, eng, fixed, is_rate, metric_cell, metric_label
from sigbench.outputs import is_hdf5_file, writable_target

if TYPE_CHECKING:
    from sigbench.results import MethodRow, Results

__all__ = ["FORMATS", "render_html", "render_markdown", "verdicts", "write_report"]

#: report formats accepted by :func:`write_report`
FORMATS = ("html", "md")

_CAPTIONS = {
    "overlay": "Zoomed test segment: the clean target, the noisy observation and each method's prediction.",
    "leaderboard": "Main metric per method (mean and 95 % interval over seeds); the dashed line is the "
                   "linear reference.",
    "cost": "Accuracy against cost: MACs per output sample and fit time; ringed points form the Pareto front.",
    "errors": "Distribution of the prediction error per method on the test segment.",
    "learning": "Neural training and validation loss per epoch; adaptive filters' error in dB.",
    "response": "Frequency responses on one dB scale: a few learned CNN kernels and their envelope, the "
                "designed FIR-bank bands, the Wiener filter; the input spectrum underneath.",
    "residual": "Spectrum of each method's residual (prediction − target) on the test rows, the target's in grey "
                "and the reference's dotted: where in frequency each method leaves its error.",
    "sweep": "Main metric of each method against the grid parameter (numeric order), with 95 % intervals; naive "
             "repeats the last sample.",
    "spectrum": "spectrum task: each method's DFT magnitude against the exact DFT on the same frames.",
    "waterfall": "Bit (or symbol) error rate against the grid parameter on a log axis, one line per method; error "
                 "bars: 95 % Wilson interval over the test symbols; a hollow down-triangle: no error in the test "
                 "symbols, drawn at the 95 % upper bound; dashed: the AWGN bound without ISI (M-PAM, Gray coding) "
                 "when the grid parameter is Eb/N0.",
    "roc": "ROC of each detector on the test segments (detection against false-alarm probability), from the stored "
           "scores and labels; dashed: the theoretical Neyman-Pearson curve for the signal's deflection d = √E/σ "
           "(matched filter for a known phase, energy detector for a random one); right: the low false-alarm end "
           "on a log axis.",
    "canceller": "Canceller learning curve: moving-average power of each output e = d − d̂ (primary minus the "
                 "prediction from the reference) in dB against time on the test segment, the primary's power in "
                 "grey; right: the interference each method leaves, relative to the interference at the primary "
                 "(the true noise path's prediction is the interference).",
}

_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;max-width:1100px;margin:2em auto;
padding:0 1em;color:#1d1d1f;background:#fff;line-height:1.45}
h1{font-size:1.6em;margin-bottom:.2em}h2{margin-top:1.8em;border-bottom:1px solid #ddd;padding-bottom:.2em}
table{border-collapse:collapse;margin:.6em 0;font-size:.92em;width:100%;max-width:100%}
th,td{border:1px solid #d0d0d0;padding:.25em .45em;text-align:right;vertical-align:top;overflow-wrap:anywhere}
td{font-variant-numeric:tabular-nums}th{font-weight:600}
th{background:#f3f3f3}td.l,th.l{text-align:left}
tr.failed td{background:#fdecea;color:#8e1b10}tr.reference td{background:#eef5ff}
dl.kv{display:grid;grid-template-columns:max-content auto;gap:.15em 1em;margin:.4em 0}
dl.kv dt{font-weight:600}dl.kv dd{margin:0;word-break:break-word}
.verdicts li{margin:.25em 0}.warn{color:#8a5a00}.fail{color:#8e1b10}
figure{margin:1.2em 0}figure img{max-width:100%;height:auto;border:1px solid #eee}
figcaption{font-size:.9em;color:#555}code{font-size:.9em}p.legend{font-size:.88em;color:#444}
@media print{body{max-width:none;margin:0;padding:0;font-size:9.5pt}table{font-size:8.5pt}
figure{break-inside:avoid}h2{break-after:avoid}}
"""


# -- numbers and text ----------------------------------------------------------------------------
def _fmt(value: Any, digits: int = 2) -> str:
    """A number for a table; ``—`` for missing, ``∞`` for infinite."""
    if value is None or isinstance(value, bool):
        return "—" if value is None else str(value)
    if isinstance(value, (int, float)):
        v = float(value)
        if math.isnan(v):
            return "—"
        if math.isinf(v):
            return "∞" if v > 0 else "−∞"
        if isinstance(value, int):
            return str(value)
        if v != 0 and (abs(v) >= 1e6 or abs(v) < 10 ** (-digits)):
            return f"{v:.{digits}e}"
        return f"{v:.{digits}f}"
    return str(value)


def _finite(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(float(value))


def _grid_text(grid: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in sorted(grid.items()))


def _ratio(a: Any, b: Any) -> str | None:
    """``a/b`` as ``"12×"``, or ``None`` when not computable."""
    if not (_finite(a) and _finite(b)) or float(b) <= 0:
        return None
    r = float(a) / float(b)
    return f"{r:.2g}×" if r < 10 else f"{r:,.0f}×"


def _advantage_db(results: Results, a: float, b: float) -> float | None:
    """How much better ``a`` is than ``b`` on the main metric, in dB (positive: ``a`` is better)."""
    sign = 1.0 if results.higher_is_better else -1.0
    if results.main_metric.endswith("_db"):
        return sign * (a - b)
    if a > 0 and b > 0:
        return sign * 10.0 * math.log10(a / b)
    return None


# -- verdicts ------------------------------------------------------------------------------------
def _groups(results: Results) -> Iterator[tuple[dict[str, Any], list[MethodRow]]]:
    seen: dict[str, list[MethodRow]] = {}
    grids: dict[str, dict[str, Any]] = {}
    for r in results.rows:
        key = json.dumps(r.grid, sort_keys=True, default=str)
        seen.setdefault(key, []).append(r)
        grids[key] = r.grid
    for key, rows in seen.items():
        yield grids[key], rows


def _versus_best_dsp(results: Results, row: MethodRow, rows: list[MethodRow], value: float) -> str:
    """Verdict clause against the best DSP row (when the run has no reference bound)."""
    key = results.main_metric
    sign = 1.0 if results.higher_is_better else -1.0
    dsp = [(float(r.metrics[key]), r) for r in rows  # type: ignore[arg-type]
           if r.family != "neural" and r.status == "ok" and isinstance(r.metrics.get(key), (int, float))
           and not math.isnan(float(r.metrics[key]))]  # type: ignore[arg-type]
    if not dsp:
        return f"{key} {_fmt(value)}; no DSP row to compare with"
    bv, best = max(dsp, key=lambda vr: sign * vr[0])
    if math.isfinite(bv) and math.isfinite(value):
        adv = _advantage_db(results, value, bv)
        if adv is not None:
            clause = (f"beats {best.method}, the best DSP method, by {adv:.2f} dB" if adv > 0
                      else f"does not beat {best.method}, the best DSP method ({-adv:.2f} dB behind)")
        else:
            clause = f"{'beats' if sign * value > sign * bv else 'does not beat'} {best.method} ({key} " \
                     f"{_fmt(value)} vs {_fmt(bv)})"
    else:
        better = sign * value > sign * bv
        clause = f"{'beats' if better else 'does not beat'} {best.method}, the best DSP method ({key} " \
                 f"{_fmt(value)} vs {_fmt(bv)})"
    ratio = _ratio(row.cost.get("macs_per_sample"), best.cost.get("macs_per_sample"))
    return clause + (f" at {ratio} its MACs per sample" if ratio else "")


def _compare_clause(results: Results, row: MethodRow, other: MethodRow, what: str) -> str:
    """``row`` against ``other`` on an error rate or a probability main metric, in the metric's own terms.

    Error rates are compared through their Wilson intervals (overlapping: a tie) and as a ratio of error
    counts; probabilities (AUC, Pd) as plain differences, a tie when within the row's interval over seeds.
    """
    key = results.main_metric
    label = metric_label(key)
    a, b = float(row.metrics[key]), float(other.metrics[key])  # type: ignore[arg-type]
    pair = f"{label} {metric_cell(key, row.metrics, interval=False)} vs " \
           f"{metric_cell(key, other.metrics, interval=False)}"
    if is_rate(key):
        lo_a, hi_a = row.metrics.get(f"{key}_ci_low"), row.metrics.get(f"{key}_ci_high")
        lo_b, hi_b = other.metrics.get(f"{key}_ci_low"), other.metrics.get(f"{key}_ci_high")
        if all(_finite(v) for v in (lo_a, hi_a, lo_b, hi_b)) and float(lo_a) <= float(hi_b) \
                and float(lo_b) <= float(hi_a):  # type: ignore[arg-type]
            return f"ties {what} ({pair}: the 95 % Wilson intervals overlap)"
        if a < b:
            times = f", {b / a:.2g}× fewer errors" if a > 0 else ""
            return f"beats {what} ({pair}{times})"
        times = f", {a / b:.2g}× more errors" if b > 0 else ""
        return f"does not reach {what} ({pair}{times})"
    ci = row.metrics.get(f"{key}_ci")
    sign = 1.0 if results.higher_is_better else -1.0
    if _finite(ci) and abs(a - b) <= float(ci):  # type: ignore[arg-type]
        return f"ties {what} ({pair}, within its 95 % interval over seeds)"
    return f"{'beats' if sign * (a - b) > 0 else 'does not reach'} {what} ({pair})"


def _decision_verdict(results: Results, row: MethodRow, rows: list[MethodRow]) -> list[str]:
    """Verdict clauses for a main metric that is an error rate or a detection probability (``equalise``,
    ``detect``): against the best DSP row and the model limit on that metric, since the MSE excess does not
    measure it."""
    key = results.main_metric
    sign = 1.0 if results.higher_is_better else -1.0
    usable = [r for r in rows if r is not row and r.status == "ok" and _finite(r.metrics.get(key))]
    dsp = [r for r in usable if r.family != "neural" and r.role not in ("limit", "oracle")]
    parts: list[str] = []
    if dsp:
        best = max(dsp, key=lambda r: sign * float(r.metrics[key]))  # type: ignore[arg-type]
        name = f"{best.method}, the best DSP method" + (" (the linear reference)" if best.is_reference else "")
        clause = _compare_clause(results, row, best, name)
        ratio = _ratio(row.cost.get("macs_per_sample"), best.cost.get("macs_per_sample"))
        parts.append(clause + (f" at {ratio} its MACs per sample" if ratio else ""))
    limit = next((r for r in usable if r.role == "limit"), None)
    if limit is not None:
        what = f"the {limit.method}" if limit.method.startswith("model limit") else \
            f"the model limit, {limit.method}"
        parts.append(_compare_clause(results, row, limit, what))
    return parts


def _verdict(results: Results, row: MethodRow, rows: list[MethodRow]) -> str:
    key = results.main_metric
    if row.status != "ok":
        return f"{row.method}: failed — {row.error or 'unknown error'}"
    if (is_rate(key) or key in PROBABILITY_METRICS) and _finite(row.metrics.get(key)):
        clauses = _decision_verdict(results, row, rows)
        if clauses:
            seeds = len(row.seeds)
            return f"{row.method}: " + "; ".join(clauses) + f" ({seeds} seed{'s' if seeds != 1 else ''})."
    value = row.metrics.get(key)
    ci = row.metrics.get(f"{key}_ci")
    ci_f = float(ci) if _finite(ci) else None
    parts: list[str] = []
    ref = next((r for r in rows if r.is_reference and r.status == "ok"), None)
    excess = row.metrics.get("excess_db")
    if ref is not None and _finite(excess):
        ex = float(excess)  # the table's sign: > 0 is more error than the reference
        ex_ci = row.metrics.get("excess_db_ci")
        ex_ci_f = float(ex_ci) if _finite(ex_ci) else None
        interval = f" ± {ex_ci_f:.2f}" if ex_ci_f is not None else ""
        text = fixed(ex)
        if ex_ci_f is not None and abs(ex) <= ex_ci_f:
            claim = f"ties the {ref.method} reference (excess {text}{interval} dB, within its 95 % interval)"
        elif ex < 0:
            claim = f"beats the {ref.method} reference (excess {text}{interval} dB)"
        else:
            claim = f"does not reach the {ref.method} reference (excess +{text}{interval} dB)"
        costs = [c for c in (
            (lambda r: f"{r} the MACs per sample" if r else None)(_ratio(row.cost.get("macs_per_sample"),
                                                                         ref.cost.get("macs_per_sample"))),
            (lambda r: f"{r} the fit time" if r else None)(_ratio(row.cost.get("fit_s"), ref.cost.get("fit_s"))),
        ) if c]
        parts.append(claim + (f" at {' and '.join(costs)}" if costs else ""))
    elif (ref is None or not _finite(excess)) and isinstance(value, (int, float)) and not math.isnan(float(value)):
        parts.append(_versus_best_dsp(results, row, rows, float(value)))
    parts.extend(_beyond_linear(row, rows))
    adaptive = [r for r in rows if r.name in ("lms", "nlms", "rls") and r.status == "ok" and not r.role
                and _finite(r.metrics.get(key))]
    if adaptive and _finite(value):
        sign = 1.0 if results.higher_is_better else -1.0
        best = max(adaptive, key=lambda r: sign * float(r.metrics[key]))  # type: ignore[arg-type]
        adv = _advantage_db(results, float(value), float(best.metrics[key]))  # type: ignore[arg-type]
        name = best.method.upper() if best.method in ("lms", "nlms", "rls") else best.method
        if adv is not None and adv > 0 and (ci_f is None or adv > ci_f):
            parts.append(f"beats {name} by {adv:.2f} dB")
        elif adv is not None and adv > 0:
            parts.append(f"beats {name} by {adv:.2f} dB, inside its 95 % interval (± {ci_f:.2f}): not a clear win")
        elif adv is not None:
            parts.append(f"does not beat {name} ({-adv:.2f} dB behind)")
    if not parts:
        parts.append(f"{key} {_fmt(value)}; no reference or DSP row to compare with")
    seeds = len(row.seeds)
    return f"{row.method}: " + "; ".join(parts) + f" ({seeds} seed{'s' if seeds != 1 else ''})."


def _beyond_linear(row: MethodRow, rows: list[MethodRow]) -> list[str]:
    """The row against the linear oracle (no linear filter beats it on the test rows) and the model limit."""
    out: list[str] = []
    oracle = next((r for r in rows if r.role == "oracle" and r.status == "ok"), None)
    ex = row.metrics.get("excess_oracle_db")
    if oracle is not None and _finite(ex):
        ci = row.metrics.get("excess_oracle_db_ci")
        within = _finite(ci) and abs(float(ex)) <= float(ci)  # type: ignore[arg-type]
        if float(ex) < 0 and not within:  # type: ignore[arg-type]
            out.append(f"below the linear oracle (excess {fixed(float(ex))} dB): structure no linear filter of "  # type: ignore[arg-type]
                       "that length can use, even fitted on the test rows")
        else:
            out.append(f"no better than the best linear filter on these test rows (excess over the linear oracle "
                       f"{'+' if float(ex) >= 0 else ''}{fixed(float(ex))} dB)")  # type: ignore[arg-type]
    limit = next((r for r in rows if r.role == "limit" and r.status == "ok"), None)
    exl = row.metrics.get("excess_limit_db")
    if limit is not None and _finite(exl):
        if float(exl) < 0:  # type: ignore[arg-type]
            out.append(f"below the model limit (excess {fixed(float(exl))} dB): it uses structure beyond the "  # type: ignore[arg-type]
                       "source's stated model (e.g. the phases' coupling along one trajectory)")
        else:
            out.append(f"{fixed(float(exl))} dB above the model limit")  # type: ignore[arg-type]
    return out


def verdicts(results: Results) -> list[str]:
    """One plain-language sentence per neural method, computed from the stored metrics.

    Each neural row is compared, within its grid point, with the reference bound (``excess_db``: gain
    in dB, with its 95 % interval when there are several seeds), with the cost of the reference (MACs
    per sample and fit time ratios), and with the best adaptive filter (LMS, NLMS or RLS) in the run.
    Without a reference row the best DSP row stands in. Failed neural rows say so with their error.
    When the main metric is an error rate (``ber``, ``ser``) or a detection probability (``roc_auc``,
    ``pd_at_pfa``), which the MSE excess does not measure, the row is compared on that metric with the
    best DSP row and with the model limit: error rates through their Wilson intervals (overlap: a tie)
    and as a ratio of errors.

    Returns
    -------
    list of str
        Empty when the run has no neural method.
    """
    out: list[str] = []
    for grid, rows in _groups(results):
        for row in rows:
            if row.family == "neural":
                text = _verdict(results, row, rows)
                out.append(f"[{_grid_text(grid)}] {text}" if grid else text)
    return out


# -- figures -------------------------------------------------------------------------------------
def _figures(results: Results, dpi: int) -> list[tuple[str, bytes | None, str]]:
    """``(name, png bytes or None, caption or reason)`` for every figure that applies."""
    from sigbench import plots

    plots.require_matplotlib()
    out: list[tuple[str, bytes | None, str]] = []
    for name in plots.available_figures(results):
        try:
            fig = plots.make_figure(results, name)
        except SigbenchError as exc:  # the figure does not apply after all: say why, in its place
            out.append((name, None, str(exc)))
            continue
        buf = io.BytesIO()
        # constrained layout keeps every text inside the figure (tests/report/test_layout.py), so no second
        # draw for a tight bounding box
        fig.savefig(buf, format="png", dpi=dpi, metadata={"Software": "sigbench"})
        out.append((name, buf.getvalue(), _CAPTIONS.get(name, name)))
    return out


# -- tables --------------------------------------------------------------------------------------
def _ordered_rows(results: Results) -> list[MethodRow]:
    from sigbench.results import grid_sort_key

    return sorted(results.rows, key=lambda r: grid_sort_key(r.grid))  # grid points in numeric order


def _leaderboard_rows(results: Results) -> tuple[list[str], list[tuple[MethodRow, list[str]]]]:
    """The main table: the terminal's compact columns (grid, rank, method, metric ± CI, one excess column
    per reference, MACs per sample, fit time), with the same number formats."""
    from sigbench.leaderboard import SECONDARY_METRICS, reference_columns

    key = results.main_metric
    grid_keys = sorted({k for r in results.rows for k in r.grid})
    refs = reference_columns(results)
    others = [k for k in SECONDARY_METRICS if k != key and any(k in r.metrics for r in results.rows)]
    header = [*(f"grid {k}" for k in grid_keys), "#", "method", f"{metric_label(key)} (95 % CI)",
              *(metric_label(k) for k in others), *(ref.header.replace("\n", " ") for ref in refs), "MACs/sample",
              "fit"]
    body: list[tuple[MethodRow, list[str]]] = []
    rank, last = 0, None
    for r in _ordered_rows(results):
        if r.grid != last:
            rank, last = 0, r.grid
        m, c = r.metrics, r.cost
        if r.status == "ok":
            rank += 1
            cells = [metric_cell(key, m), *(metric_cell(k, m) for k in others),
                     *(fixed(m.get(ref.key)) for ref in refs), eng(c.get("macs_per_sample")), eng(c.get("fit_s"), "s")]
        else:
            cells = [f"failed: {r.error or 'unknown error'}", *("" for _ in others), *("" for _ in refs), "", ""]
        label = r.method + (" (reference)" if r.is_reference else "")
        body.append((r, [*(str(r.grid.get(k, "")) for k in grid_keys), str(rank) if r.status == "ok" else "",
                         label, *cells]))
    return header, body


def _detail_rows(results: Results) -> tuple[list[str], list[tuple[MethodRow, list[str]]]]:
    """The secondary columns, in a second table (the terminal's ``--wide`` columns)."""
    from sigbench.leaderboard import wilson_cell

    grid_keys = sorted({k for r in results.rows for k in r.grid})
    key = results.main_metric
    wilson = [f"{metric_label(key)} 95 % (Wilson)"] if is_rate(key) else []
    header = [*(f"grid {k}" for k in grid_keys), "method", "family", "seeds", *wilson, "SNR gain dB", "MSE", "params",
              "samples/s", "latency", "memory"]
    body = []
    for r in _ordered_rows(results):
        m, c = r.metrics, r.cost
        ok = r.status == "ok"
        body.append((r, [*(str(r.grid.get(k, "")) for k in grid_keys), r.method, r.family, str(len(r.seeds)),
                         *([wilson_cell(key, m) if ok else ""] if wilson else []),
                         fixed(m.get("snr_gain_db")) if ok else "", eng(m.get("mse")) if ok else "",
                         eng(c.get("params")) if ok else "", eng(c.get("samples_per_s")) if ok else "",
                         eng(c.get("latency_s"), "s") if ok else "", eng(c.get("memory_bytes"), "B") if ok else ""]))
    return header, body


def _legend(results: Results) -> list[str]:
    """What the columns mean, said once: the excess sign convention, the references, naive."""
    from sigbench.leaderboard import NAIVE_NOTE, SECONDARY_METRICS, describe_metric, main_metric_note, reference_columns

    refs = reference_columns(results)
    out = [main_metric_note(results.main_metric) + "."]
    out += [describe_metric(k) + "." for k in SECONDARY_METRICS
            if k != results.main_metric and any(k in r.metrics for r in results.rows)]
    if refs:
        named = "; ".join(f"{ref.header.replace(chr(10), ' ')}: over {ref.description}" for ref in refs)
        out.append("Sign convention, everywhere in this report: excess = 10·log10(MSE / MSE of the reference) "
                   f"in dB; negative means less error than the reference, positive more. {named}.")
    if any(r.name == "naive" for r in results.rows):
        out.append(NAIVE_NOTE)
    out.append("MACs/sample: multiply-accumulates per output sample; fit: training time, mean over seeds.")
    return out


def _signal_items(results: Results) -> list[tuple[str, str]]:
    s = results.signal
    items = [("name", s.get("name")), ("source", s.get("source")), ("samples", s.get("samples")),
             ("channels", s.get("channels")), ("sample rate (Hz)", s.get("sample_rate_hz")),
             ("measured input SNR (dB)", s.get("snr_db")), ("target", s.get("target_kind")),
             ("seed", s.get("seed")), ("file", s.get("path")),
             ("parameters", json.dumps(s.get("params"), default=str) if s.get("params") else None)]
    return [(k, _fmt(v, 3) if isinstance(v, float) else str(v)) for k, v in items if v is not None]


def _protocol_items(results: Results) -> list[tuple[str, str]]:
    p = results.protocol
    samples = results.signal.get("samples")
    if p.get("train_samples"):  # the fractions are not used then: say what was applied
        rest = f"; test: the remaining {int(samples) - int(p['train_samples'])}" if _finite(samples) else \
            "; test: the rest"
        split = f"train: the first {p['train_samples']} samples{rest} (chronological)"
    else:
        split = "chronological fractions train/val/test " + "/".join(_fmt(p.get(k), 2) for k in ("train", "val",
                                                                                                     "test"))
    items: list[tuple[str, Any]] = [
        ("task", results.task + (f" ({json.dumps(results.config.get('task_options'), default=str)})"
                                 if results.config.get("task_options") else "")),
        ("split", split), ("mode", p.get("mode")),
        ("linear reference", p.get("reference")), ("seeds", p.get("seeds")), ("first seed", p.get("seed")),
        ("main metric", f"{results.main_metric} ({'higher' if results.higher_is_better else 'lower'} is better)"),
    ]
    grid = results.config.get("grid")
    if grid:
        items.append(("grid", json.dumps(grid, default=str)))
    return [(k, str(v)) for k, v in items if v is not None]


def _run_items(results: Results) -> list[tuple[str, str]]:
    from sigbench.results import config_hash

    return [("run", results.run_id), ("kind", results.kind), ("status", results.status),
            ("created", results.created or "—"), ("config hash", config_hash(results.config))]


def _env_items(results: Results) -> list[tuple[str, str]]:
    return [(str(k), str(v)) for k, v in results.environment.items() if v is not None]


# -- HTML ----------------------------------------------------------------------------------------
def _kv_html(items: list[tuple[str, str]]) -> str:
    e = _html_text
    return '<dl class="kv">' + "".join(f"<dt>{e(k)}</dt><dd>{e(v)}</dd>" for k, v in items) + "</dl>"


def render_html(results: Results, *, dpi: int = 150) -> str:
    """The report as one self-contained HTML document (figures as ``data:`` PNG URIs, inline CSS).

    Parameters
    ----------
    results : Results
        The run to report.
    dpi : int, default 150
        Resolution of the embedded figures.

    Returns
    -------
    str
        UTF-8 HTML5 with no script and no reference to anything outside the document.
    """
    e = _html_text
    title = f"sigbench report — {results.task} on {results.signal.get('name', '?')} ({results.run_id})"
    parts = [
        "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; img-src data:; '
        'style-src \'unsafe-inline\'">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{e(title)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{e(title)}</h1>",
    ]
    if results.status != "complete":
        parts.append(f'<p class="warn"><strong>Run status: {e(results.status)}</strong> — some methods did not '
                     "finish; the table shows what was completed.</p>")
    parts += ["<h2>Run</h2>", _kv_html(_run_items(results)),
              "<h2>Signal</h2>", _kv_html(_signal_items(results)),
              "<h2>Protocol</h2>", _kv_html(_protocol_items(results))]
    v = verdicts(results)
    parts.append("<h2>Verdict</h2>")
    if v:
        fail = ' class="fail"'
        parts.append('<ul class="verdicts">' + "".join(
            f"<li{fail if ': failed — ' in t else ''}>{e(t)}</li>" for t in v) + "</ul>")
    else:
        parts.append("<p>No neural method in this run: nothing to judge against the DSP baselines.</p>")
    left = {"method", "family"}
    cl = ' class="l"'
    for title, (header, body) in (("Leaderboard", _leaderboard_rows(results)), ("Details", _detail_rows(results))):
        parts.append(f"<h2>{title}</h2><table><thead><tr>" + "".join(
            f"<th{cl if h in left else ''}>{e(h)}</th>" for h in header) + "</tr></thead><tbody>")
        for row, cells in body:
            cls = "failed" if row.status != "ok" else ("reference" if row.is_reference else "")
            parts.append(f'<tr class="{cls}">' + "".join(
                f"<td{cl if h in left else ''}>{e(c)}</td>" for h, c in zip(header, cells, strict=True))
                + "</tr>")
        parts.append("</tbody></table>")
        if title == "Leaderboard":
            parts += [f'<p class="legend">{e(line)}</p>' for line in _legend(results)]
    for w in results.warnings:
        parts.append(f'<p class="warn">Warning: {e(w)}</p>')
    for row in results.rows:  # a failed row keeps its traceback (the table shows its one-line error)
        if row.status != "ok" and row.traceback:
            parts.append(f"<details><summary>Traceback of {e(row.method)}</summary><pre>{e(row.traceback)}</pre>"
                         "</details>")
    parts.append("<h2>Figures</h2>")
    for name, png, caption in _figures(results, dpi):
        if png is None:
            parts.append(f"<p><strong>{e(name)}</strong>: not drawn — {e(caption)}</p>")
            continue
        data = base64.b64encode(png).decode("ascii")
        parts.append(f'<figure id="fig-{e(name)}"><img alt="{e(name)} figure" src="data:image/png;base64,{data}">'
                     f"<figcaption><strong>{e(name)}</strong>: {e(caption)}</figcaption></figure>")
    parts.append(deployment_section(results, "html", dpi=dpi)[0])  # empty without deployment columns
    parts.append("<h2>Environment</h2>" + _kv_html(_env_items(results)))
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


#: bidirectional controls, zero-width marks, line/paragraph separators: shown as ``\uNNNN``, never applied
_INVISIBLE = re.compile("[\u061c\u200b-\u200f\u2028-\u202e\u2066-\u2069\ufeff]")


def _html_text(text: str, quote: bool = True) -> str:
    """``html.escape`` plus bidirectional and invisible format characters shown as ``\\uNNNN``."""
    return html.escape(_INVISIBLE.sub(lambda m: f"\\u{ord(m.group()):04x}", str(text)), quote=quote)


# -- Markdown ------------------------------------------------------------------------------------
_MD_SPECIAL = re.compile(r"([\\`*_\[\]()!|~<>#])")


def _md(text: str) -> str:
    """Escape a table cell / inline text for Markdown: newlines folded; HTML's ``&``; every character that
    starts a link, an image, emphasis, code, raw HTML or a table cell is backslash-escaped, and so are the
    autolink triggers ``://`` and ``www.``; bidirectional controls are shown as ``\\uNNNN`` (they would
    reorder the text)."""
    folded = " ".join(_INVISIBLE.sub(lambda m: f"\\u{ord(m.group()):04x}", str(text)).split())
    escaped = _MD_SPECIAL.sub(r"\\\1", folded.replace("&", "&amp;")).replace("://", "\\://")
    return re.sub(r"(?i)\bwww\.", "www\\.", escaped)


def render_markdown(results: Results, image_dir: str, *, dpi: int = 150) -> tuple[str, dict[str, bytes]]:
    """The report as Markdown plus its figures.

    Parameters
    ----------
    results : Results
        The run to report.
    image_dir : str
        Folder name the Markdown links images under (relative to the Markdown file).
    dpi : int, default 150
        Resolution of the figures.

    Returns
    -------
    text : str
        The Markdown document.
    images : dict of str to bytes
        ``{file name: PNG bytes}`` to write into ``image_dir``.
    """
    title = f"sigbench report — {results.task} on {results.signal.get('name', '?')} ({results.run_id})"
    lines = [f"# {_md(title)}", ""]
    if results.status != "complete":
        lines += [f"**Run status: {_md(results.status)}** — some methods did not finish.", ""]
    for heading, items in (("Run", _run_items(results)), ("Signal", _signal_items(results)),
                           ("Protocol", _protocol_items(results))):
        lines += [f"## {heading}", ""] + [f"- **{_md(k)}**: {_md(v)}" for k, v in items] + [""]
    lines += ["## Verdict", ""]
    v = verdicts(results)
    lines += ([f"- {_md(t)}" for t in v] if v else ["No neural method in this run."]) + [""]
    for title, (header, body) in (("Leaderboard", _leaderboard_rows(results)), ("Details", _detail_rows(results))):
        lines += [f"## {title}", "", "| " + " | ".join(_md(h) for h in header) + " |",
                  "|" + "|".join("---" for _ in header) + "|"]
        lines += ["| " + " | ".join(_md(c) for c in cells) + " |" for _, cells in body]
        lines.append("")
        if title == "Leaderboard":
            lines += [_md(line) for line in _legend(results)] + [""]
    for w in results.warnings:
        lines += [f"> Warning: {_md(w)}", ""]
    fence = "`" * 3
    for row in results.rows:
        if row.status != "ok" and row.traceback:
            lines += [f"Traceback of {_md(row.method)}:", "", fence + "text", row.traceback.replace(fence, "'" * 3),
                      fence, ""]
    lines += ["## Figures", ""]
    images: dict[str, bytes] = {}
    for name, png, caption in _figures(results, dpi):
        if png is None:
            lines += [f"**{name}**: not drawn — {_md(caption)}", ""]
            continue
        images[f"{name}.png"] = png
        lines += [f"![{name}]({image_dir}/{name}.png)", "", f"*{_md(caption)}*", ""]
    section, section_images = deployment_section(results, "md", image_dir=image_dir, dpi=dpi)
    lines.append(section)
    images.update(section_images)
    lines += ["## Environment", ""] + [f"- **{_md(k)}**: {_md(v)}" for k, v in _env_items(results)] + [""]
    return "\n".join(lines), images


# -- writing -------------------------------------------------------------------------------------
def _atomic_write_bytes(target: Path, data: bytes) -> None:
    from sigbench.atomic import atomic_write_bytes

    atomic_write_bytes(target, data)


#: the file that marks a figures folder as sigbench's own: only such a folder (or an empty one) is replaced
FOLDER_MARKER = ".sigbench-report"


def _replace_dir(staging: Path, target: Path) -> None:
    """Move the finished folder ``staging`` to ``target``, replacing an older one that sigbench made."""
    old: Path | None = None
    if target.is_symlink() or (target.exists() and not target.is_dir()):
        raise WriteError(f"cannot write the figures folder {target}: a file or link of that name exists")
    if target.exists():
        if not (target / FOLDER_MARKER).is_file() and any(target.iterdir()):
            raise WriteError(f"refusing to replace the folder {target}: sigbench did not make it (no "
                             f"{FOLDER_MARKER} in it); move it away or choose another report name")
        old = Path(tempfile.mkdtemp(prefix=f".{target.name}.old.", dir=target.parent))
        os.rmdir(old)
        os.replace(target, old)
    os.replace(staging, target)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def write_report(results: Results, path: str | os.PathLike[str], *, fmt: str = "html") -> Path:
    """Write the report of ``results`` to ``path``; nothing is recomputed.

    Parameters
    ----------
    results : Results
        A run, e.g. from :func:`sigbench.load_results` or :func:`sigbench.compare`.
    path : str or os.PathLike
        Output file. ``html``: one self-contained file. ``md``: the Markdown file, plus its PNGs in a
        folder ``<stem>_files`` beside it (replaced as a whole).
    fmt : {"html", "md"}, default "html"
        Report format.

    Returns
    -------
    pathlib.Path
        ``path``.

    Raises
    ------
    ValidationError
        ``fmt`` is not ``html`` or ``md``, or ``path`` is a folder.
    WriteError
        The report cannot be written; an existing report is left untouched.
    ImportError
        matplotlib is missing (install the ``plots`` extra).

    Notes
    -----
    Files are written beside the target under a temporary name and moved into place with
    :func:`os.replace`, so a reader never sees half a report.
    """
    if fmt not in FORMATS:
        raise ValidationError(f"expected a report format among {', '.join(FORMATS)}; received: format={fmt!r}")
    target = Path(path)
    if target.is_dir():
        raise ValidationError(f"expected a file path for the report; received a folder: {target}")
    if is_hdf5_file(target):
        raise ValidationError(f"refusing to write a report over {target}: it is an HDF5 file (signals or results); "
                              "choose another name, e.g. report.html")
    target = writable_target(target)
    if not target.parent.is_dir():
        raise WriteError(f"cannot write {target}: folder {target.parent} does not exist")
    try:
        if fmt == "html":
            _atomic_write_bytes(target, render_html(results).encode("utf-8"))
            return target
        folder = target.with_name(f"{target.stem}_files")
        text, images = render_markdown(results, folder.name)
        staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=target.parent))
        try:
            for name, png in images.items():
                (staging / name).write_bytes(png)
            (staging / FOLDER_MARKER).write_text("figures of a sigbench report; replaced as a whole by the next "
                                                 "report of the same name\n")
            os.chmod(staging, 0o777 & ~_umask())
            _replace_dir(staging, folder)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        _atomic_write_bytes(target, text.encode("utf-8"))
        return target
    except OSError as exc:
        raise WriteError(f"cannot write {target}: {exc.strerror or exc}") from None


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
