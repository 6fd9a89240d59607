"""The report's "Deployment" section: accuracy against latency and memory, and what quantisation keeps.

:func:`deployment_section` renders, from a stored :class:`~sigbench.results.Results` alone, when its rows
carry the deployment cost columns (:data:`sigbench.deploy.DEPLOY_COLUMNS`):

* a table per method: main metric, latency p50/p99 (µs), real-time factor, weights at float32 / int8 /
  Q15 and activation bytes per sample;
* a figure: the main metric against latency p50 (left) and against float32 weight bytes (right), each
  with its Pareto front (:func:`sigbench.plots.pareto_front`: the methods no other beats on both);
* quantised rows (``<name>@int8``, ``<name>@q15``) beside their float row: what each family keeps;
* one sentence per neural method (:func:`deployment_verdicts`): "dnn: runs at RTF 40 at 10 Hz (p50 25 µs,
  p99 80 µs) with 12 kB of float32 weights; keeps 3.1 dB over the wiener bound in int8 (dnn@int8)".

A run without those columns gets an empty section (``""``): the report is unchanged.
"""

from __future__ import annotations

import base64
import html
import io
import math
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from sigbench.results import MethodRow, Results

__all__ = ["deployment_clause", "deployment_figure", "deployment_section", "deployment_verdicts",
           "has_deployment_columns", "quantized_pairs"]

_CAPTION = ("Accuracy against streaming latency (p50 per output sample, batch 1, this CPU) and against "
            "float32 weight memory; ringed points form the Pareto front.")


def _finite(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(float(value))


def _num(value: Any, digits: int = 3) -> str:
    if not _finite(value):
        return "—"
    v = float(value)
    if v != 0 and (abs(v) >= 1e5 or abs(v) < 10 ** (-digits)):
        return f"{v:.{digits - 1}e}"
    return f"{v:.{digits}g}" if abs(v) < 1000 else f"{v:,.0f}"


def _bytes(value: Any) -> str:
    if not _finite(value):
        return "—"
    v = float(value)
    for unit, size in (("MB", 1e6), ("kB", 1e3)):
        if v >= size:
            return f"{v / size:.3g} {unit}"
    return f"{v:.0f} B"


def has_deployment_columns(results: Results) -> bool:
    """Whether any row carries a latency or memory column."""
    from sigbench.deploy import DEPLOY_COLUMNS

    return any(_finite(r.cost.get(c)) for r in results.rows for c in DEPLOY_COLUMNS)


def quantized_pairs(results: Results) -> list[tuple[MethodRow, MethodRow]]:
    """``(float row, quantised row)`` for every ``<name>@<scheme>`` row whose float row is in the run."""
    pairs: list[tuple[MethodRow, MethodRow]] = []
    for q in results.rows:
        if "@" not in q.name:
            continue
        base = q.name.split("@", 1)[0]
        same = [r for r in results.rows if r.name == base and r.grid == q.grid]
        exact = [r for r in same if r.options == q.options]
        if exact or same:
            pairs.append(((exact or same)[0], q))
    return pairs


def _gain(row: MethodRow) -> float | None:
    excess = row.metrics.get("excess_db")
    return -float(excess) if _finite(excess) else None  # type: ignore[arg-type]


def deployment_clause(results: Results, row: MethodRow) -> str | None:
    """The deployment part of ``row``'s verdict, or ``None`` without deployment columns or quantised rows.

    E.g. ``"runs at RTF 400 at 10 Hz (p50 250 µs, p99 900 µs) with 12 kB of float32 weights; keeps 3.10 dB
    over the wiener bound in int8 (dnn@int8)"``: what :func:`sigbench.report.verdicts` can append to a
    neural row's sentence.
    """
    rate = results.signal.get("sample_rate_hz")
    ref = results.protocol.get("reference") or "reference"
    c = row.cost
    parts: list[str] = []
    if _finite(c.get("rtf")):
        at = f" at {_num(rate)} Hz" if _finite(rate) else ""
        parts.append(f"runs at RTF {_num(c['rtf'])}{at} (p50 {_num(c.get('latency_us_p50'))} µs, "
                     f"p99 {_num(c.get('latency_us_p99'))} µs)")
    if _finite(c.get("weights_bytes_f32")):
        parts.append(f"with {_bytes(c['weights_bytes_f32'])} of float32 weights")
    for f, q in quantized_pairs(results):
        if f is not row:
            continue
        scheme = q.name.split("@", 1)[1]
        gain = _gain(q)
        if q.status != "ok":
            parts.append(f"its {scheme} version failed ({q.error})")
        elif gain is not None:
            verb = "keeps" if gain >= 0 else "falls"
            parts.append(f"{verb} {abs(gain):.2f} dB {'over' if gain >= 0 else 'under'} the {ref} bound in "
                         f"{scheme} ({q.method})")
    if not parts:
        return None
    return "; ".join(parts).replace("; with", " with")


def deployment_verdicts(results: Results) -> list[str]:
    """One sentence per neural row with deployment columns: RTF at the sample rate, latency, weights, int8.

    Returns
    -------
    list of str
        Empty when no neural row carries the columns.
    """
    out: list[str] = []
    for row in results.rows:
        if row.family != "neural" or row.status != "ok" or "@" in row.name:
            continue
        clause = deployment_clause(results, row)
        if clause:
            out.append(f"{row.method}: {clause}.")
    return out


def deployment_figure(results: Results) -> Figure:
    """Main metric against latency p50 (left) and against float32 weight bytes (right), Pareto fronts marked."""
    from matplotlib.figure import Figure

    from sigbench.plots import pareto_front

    fig = Figure(figsize=(10.0, 4.6), layout="constrained")
    axes = fig.subplots(1, 2, squeeze=False)
    key = results.main_metric
    for ax, cost_key, label in ((axes[0, 0], "latency_us_p50", "latency per sample, p50 (µs)"),
                                (axes[0, 1], "weights_bytes_f32", "weights, float32 (bytes)")):
        xs: list[float] = []
        ys: list[float] = []
        for row in results.rows:
            value, cost = row.metrics.get(key), row.cost.get(cost_key)
            if row.status != "ok" or not (_finite(value) and _finite(cost)) or float(cost) <= 0:  # type: ignore[arg-type]
                continue
            xs.append(float(cost))  # type: ignore[arg-type]
            ys.append(float(value))  # type: ignore[arg-type]
            ax.plot([xs[-1]], [ys[-1]], "o", ms=7, label=row.method)
        if xs:
            front = pareto_front(xs, ys, higher_is_better=results.higher_is_better)
            fx, fy = [xs[i] for i in front], [ys[i] for i in front]
            ax.plot(fx, fy, ls="--", color="black", lw=1.0, drawstyle="steps-post", label="Pareto front")
            ax.scatter(fx, fy, s=180, facecolors="none", edgecolors="black", lw=1.2, zorder=3)
            ax.set_xscale("log")
        ax.set_xlabel(label)
        ax.set_ylabel(key)
        ax.grid(True, alpha=0.3)
    axes[0, 0].set_title("accuracy vs latency", fontsize="medium")
    axes[0, 1].set_title("accuracy vs memory", fontsize="medium")
    handles, labels = axes[0, 0].get_legend_handles_labels()
    if handles:
        axes[0, 1].legend(handles, labels, fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1.0))
    return fig


def _table(results: Results) -> tuple[list[str], list[list[str]]]:
    key = results.main_metric
    runtimes = [rt for rt in ("litert", "onnx") if any(_finite(r.cost.get(f"latency_us_p50_{rt}"))
                                                       for r in results.rows)]
    header = ["method", "family", key, "latency p50 µs", "latency p99 µs", "RTF",
              *(f"{'LiteRT' if rt == 'litert' else 'ONNX'} p50 µs" for rt in runtimes),
              "weights f32", "weights int8", "weights Q15", "activations f32"]
    body = []
    for r in results.rows:
        if r.status != "ok":
            continue
        c = r.cost
        body.append([r.method, r.family, _num(r.metrics.get(key)), _num(c.get("latency_us_p50")),
                     _num(c.get("latency_us_p99")), _num(c.get("rtf")),
                     *(_num(c.get(f"latency_us_p50_{rt}")) for rt in runtimes),
                     _bytes(c.get("weights_bytes_f32")), _bytes(c.get("weights_bytes_int8")),
                     _bytes(c.get("weights_bytes_q15")), _bytes(c.get("activation_bytes_f32"))])
    return header, body


def _quant_table(results: Results) -> tuple[list[str], list[list[str]]]:
    key = results.main_metric
    header = ["float method", "quantised", f"{key} float", f"{key} quantised", "change dB"]
    body = []
    for f, q in quantized_pairs(results):
        fv, qv = f.metrics.get(key), q.metrics.get(key)
        change = float(qv) - float(fv) if key.endswith("_db") and _finite(fv) and _finite(qv) else None  # type: ignore[arg-type]
        body.append([f.method, q.method if q.status == "ok" else f"{q.method} (failed: {q.error})", _num(fv),
                     _num(qv), _num(change)])
    return header, body


def deployment_section(results: Results, fmt: str = "html", *, image_dir: str = ".",
                       dpi: int = 100) -> tuple[str, dict[str, bytes]]:
    """The "Deployment" section of a report, or ``("", {})`` when no row carries deployment columns.

    Parameters
    ----------
    results : Results
        The run.
    fmt : {"html", "md"}
        HTML fragment (figure embedded as a ``data:`` PNG) or Markdown (figure linked under ``image_dir``).
    image_dir : str, default "."
        Markdown only: the folder the figure is linked under.
    dpi : int, default 100

    Returns
    -------
    text : str
        The section, starting with its heading.
    images : dict of str to bytes
        Markdown only: ``{"deployment.png": PNG bytes}`` to write into ``image_dir``.
    """
    if not has_deployment_columns(results):
        return "", {}
    buf = io.BytesIO()
    deployment_figure(results).savefig(buf, format="png", dpi=dpi, metadata={"Software": "sigbench"})
    png = buf.getvalue()
    tables = [_table(results)]
    quant = _quant_table(results)
    if quant[1]:
        tables.append(quant)
    sentences = deployment_verdicts(results)
    if fmt == "md":
        def md(text: str) -> str:
            return html.escape(" ".join(str(text).split()), quote=False).replace("|", "\\|")

        lines = ["## Deployment", ""]
        lines += [f"- {md(s)}" for s in sentences] + ([""] if sentences else [])
        for header, body in tables:
            lines += ["| " + " | ".join(md(h) for h in header) + " |", "|" + "|".join("---" for _ in header) + "|"]
            lines += ["| " + " | ".join(md(c) for c in cells) + " |" for cells in body] + [""]
        lines += [f"![deployment]({image_dir}/deployment.png)", "", f"*{md(_CAPTION)}*", ""]
        return "\n".join(lines), {"deployment.png": png}
    e = html.escape
    parts = ["<h2>Deployment</h2>"]
    if sentences:
        parts.append('<ul class="verdicts">' + "".join(f"<li>{e(s)}</li>" for s in sentences) + "</ul>")
    for header, body in tables:
        parts.append("<table><thead><tr>" + "".join(f"<th>{e(h)}</th>" for h in header) + "</tr></thead><tbody>"
                     + "".join("<tr>" + "".join(f"<td>{e(c)}</td>" for c in cells) + "</tr>" for cells in body)
                     + "</tbody></table>")
    data = base64.b64encode(png).decode("ascii")
    parts.append(f'<figure id="fig-deployment"><img alt="deployment figure" src="data:image/png;base64,{data}">'
                 f"<figcaption><strong>deployment</strong>: {e(_CAPTION)}</figcaption></figure>")
    return "\n".join(parts), {}
