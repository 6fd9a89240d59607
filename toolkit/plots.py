"""Figures of a stored comparison: every function takes a :class:`~sigbench.results.Results` and returns a
:class:`matplotlib.figure.Figure`, drawn from the result file alone (nothing is re-run).

The figures are built on :class:`matplotlib.figure.Figure` directly (no ``pyplot``, no global state, the
Agg renderer when saved), and matplotlib is imported inside the functions, so ``import sigbench`` stays
light. A method whose row failed is never silently missing: each figure names it, with its error, in a
legend entry or a note under the axes.

=============  ==========================================================================================
``what``       figure
=============  ==========================================================================================
overlay        zoomed test segment: clean target, noisy observation, each method's prediction
errors         distribution of the prediction error per method (histogram and box plot)
leaderboard    main metric per method with 95 % intervals, the reference (Wiener) bound as a line
cost           main metric against MACs per sample and against fit time, the Pareto front marked
learning       neural loss per epoch (train and validation); adaptive-filter error in dB against sample
response       CNN learned kernels, FIR-bank designed bands, Wiener response; input spectrum underneath
sweep          main metric against the grid parameter per method, with 95 % intervals
waterfall      error rate (BER/SER) against the grid parameter (Eb/N0) on a log axis, Wilson intervals, a
               no-error point as an upper-bound marker, the AWGN bound without ISI
roc            detection: ROC per method from the stored scores and labels, with the Neyman-Pearson curve
canceller      noise cancellation: output power of each canceller against sample (its learning curve) and
               the interference it leaves
spectrum       ``spectrum`` task: a network's DFT magnitude against the FFT's on the same test frames
=============  ==========================================================================================

Example
-------
>>> import sigbench as sb                                              # doctest: +SKIP
>>> from sigbench.plots import plot_leaderboard                       # doctest: +SKIP
>>> fig = plot_leaderboard(sb.load_results("compare.h5"))             # doctest: +SKIP
>>> fig.savefig("leaderboard.png")                                    # doctest: +SKIP
"""

from __future__ import annotations

import functools
import json
import math
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from sigbench.errors import MissingDependencyError, ValidationError
from sigbench.numfmt import PROBABILITY_METRICS, RATE_METRICS, metric_cell, metric_label

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from sigbench.results import MethodRow, Results

__all__ = [
    "FIGURES",
    "available_figures",
    "awgn_bound",
    "detection_deflection",
    "make_figure",
    "plot_canceller",
    "plot_cost",
    "plot_errors",
    "plot_leaderboard",
    "plot_learning",
    "plot_overlay",
    "plot_residual",
    "plot_response",
    "plot_roc",
    "plot_spectrum",
    "plot_sweep",
    "plot_waterfall",
    "require_matplotlib",
    "save_figure",
]

#: the methods whose describe() or predictions show an adaptive filter's convergence
ADAPTIVE = ("lms", "nlms", "rls")
_FAILED_COLOR = "#c0392b"
_FIGSIZE = (8.0, 4.5)
_MAX_ERROR_CHARS = 90


# -- helpers -------------------------------------------------------------------------------------
def require_matplotlib() -> None:
    """Raise :class:`~sigbench.errors.MissingDependencyError` (one line) when matplotlib is not installed."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise MissingDependencyError("figures and reports need matplotlib; install it with "
                                     "pip install 'sigbench[plots]'") from None


def _figure_function(fn: Callable[..., Figure]) -> Callable[..., Figure]:
    """Every figure function: a clear error without matplotlib, and text drawn literally (a ``$`` in a
    signal or method name is a dollar sign, not the start of mathtext)."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Figure:
        require_matplotlib()
        import matplotlib

        with matplotlib.rc_context({"text.parse_math": False}):
            return fn(*args, **kwargs)

    return wrapper


def _new_figure(nrows: int = 1, ncols: int = 1, *, figsize: tuple[float, float] = _FIGSIZE,
                sharex: bool = False, height_ratios: Sequence[float] | None = None) -> tuple[Figure, Any]:
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize, layout="constrained")
    kw: dict[str, Any] = {"sharex": sharex, "squeeze": False}
    if height_ratios is not None:
        kw["gridspec_kw"] = {"height_ratios": list(height_ratios)}
    axes = fig.subplots(nrows, ncols, **kw)
    return fig, axes


def _label(row: MethodRow) -> str:
    """Method label with its grid point (sweeps), as shown in legends."""
    if not row.grid:
        return row.method
    return f"{row.method} @ " + ", ".join(f"{k}={v}" for k, v in sorted(row.grid.items()))


def _short_error(row: MethodRow) -> str:
    text = " ".join(str(row.error or "unknown error").split())
    return text if len(text) <= _MAX_ERROR_CHARS else text[: _MAX_ERROR_CHARS - 1] + "…"


def _failed_text(row: MethodRow) -> str:
    return f"{_label(row)} — failed: {_short_error(row)}"


def _failed_short(row: MethodRow) -> str:
    """``label — failed (ErrorType)`` for legends; the full reason goes into the figure's note."""
    head = str(row.error or "").split(":", 1)[0].strip()
    kind = head if head.isidentifier() else "error"
    return f"{_label(row)} — failed ({kind})"


def _colors(results: Results) -> dict[str, Any]:
    """One stable colour per method label (rows order), shared by all figures."""
    from matplotlib import colormaps

    cmap = colormaps["tab10"]
    labels: list[str] = []
    for r in results.rows:
        if r.method not in labels:
            labels.append(r.method)
    return {label: cmap(i % 10) for i, label in enumerate(labels)}


def _ok_rows(results: Results) -> list[MethodRow]:
    return [r for r in results.rows if r.status == "ok"]


def _finite(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(float(value))


#: a legend under its panel, outside the plotting area (constrained layout makes room for it)
_BELOW = {"loc": "upper center", "bbox_to_anchor": (0.5, -0.16), "ncols": 2}


def _add_failed_legend(ax: Axes, failed: Sequence[MethodRow], **legend_kw: Any) -> None:
    """Legend of ``ax`` plus one red ``×`` entry per failed method (``label — failed (ErrorType)``)."""
    from matplotlib.lines import Line2D

    handles, labels = ax.get_legend_handles_labels()
    for row in failed:
        handles.append(Line2D([], [], linestyle="none", marker="x", color=_FAILED_COLOR))
        labels.append(_failed_short(row))
    if handles:
        legend_kw.setdefault("fontsize", "small")
        ax.legend(handles, labels, **legend_kw)


def _note(fig: Figure, lines: Sequence[str], failed: Sequence[MethodRow] = ()) -> None:
    """Notes under the axes: each failed method with its reason, then data that is not stored."""
    import textwrap

    text = [_failed_text(r) for r in failed] + list(lines)
    wrapped = [textwrap.fill(t, width=int(fig.get_figwidth() * 15), subsequent_indent="    ") for t in text]
    if wrapped:
        fig.supxlabel("\n".join(wrapped), fontsize="small", color="#444444", ha="left", x=0.01)


def _test_arrays(results: Results) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """``(target_index, targets, observed)`` of the test rows, or a ValidationError when not stored."""
    test = results.test
    if "targets" not in test or "target_index" not in test:
        raise ValidationError(
            f"expected test targets in the run (a compare or run result); received: kind={results.kind!r} "
            f"with test arrays {sorted(test) or 'none'}"
        )
    observed = test.get("observed")
    return np.asarray(test["target_index"]), np.asarray(test["targets"]), \
        None if observed is None else np.asarray(observed)


def _prediction(results: Results, row: MethodRow, seed: int | None = None) -> np.ndarray | None:
    """Test prediction of ``row`` for ``seed`` (default: its first seed), or ``None`` if not stored."""
    seeds = [seed] if seed is not None else (row.seeds or [0])
    for s in seeds:
        pred = results.predictions.get((row.method, s))
        if pred is not None:
            return np.asarray(pred, dtype=np.float64)
    found = sorted(s for (m, s) in results.predictions if m == row.method)
    if seed is None and found:
        return np.asarray(results.predictions[(row.method, found[0])], dtype=np.float64)
    return None


def _first_column(a: np.ndarray) -> np.ndarray:
    return a if a.ndim == 1 else a.reshape(a.shape[0], -1)[:, 0]


def _sample_rate(results: Results) -> float:
    rate = results.signal.get("sample_rate_hz")
    return float(rate) if _finite(rate) and float(rate) > 0 else 1.0


def _metric_name(results: Results) -> str:
    """The main metric as an axis label, e.g. ``SNR dB (snr_db)``."""
    label = metric_label(results.main_metric)
    return label if label == results.main_metric else f"{label} ({results.main_metric})"


def _no_data(ax: Axes, text: str) -> None:
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes, fontsize="small", wrap=True)
    ax.set_xticks([])
    ax.set_yticks([])


# -- overlay -------------------------------------------------------------------------------------
@_figure_function
def plot_overlay(results: Results, *, seed: int | None = None, start: int | None = None,
                 length: int = 120) -> Figure:
    """Zoomed test segment: clean target, noisy observation and each method's prediction.

    Parameters
    ----------
    results : Results
        A ``compare`` or ``run`` result (sweeps keep no test targets).
    seed : int, optional
        Seed whose prediction is drawn; default the first stored seed of each method.
    start : int, optional
        First test row shown (rows, not samples); default: the middle of the test segment.
    length : int, default 120
        Test rows shown (samples at hop 1).

    Returns
    -------
    matplotlib.figure.Figure
        One axes, time in seconds on x (``target_index / sample_rate_hz``); multi-output targets show
        their first output.

    Raises
    ------
    ValidationError
        The run stores no test targets, or ``length < 1``.
    """
    if length < 1:
        raise ValidationError(f"expected length >= 1; received: length={length}")
    index, targets, observed = _test_arrays(results)
    rows = targets.shape[0]
    first = max(0, (rows - length) // 2) if start is None else min(max(0, int(start)), max(0, rows - 1))
    sl = slice(first, min(rows, first + length))
    t = index[sl] / _sample_rate(results)
    colors = _colors(results)
    fig, axes = _new_figure()
    ax = axes[0, 0]
    if observed is not None:
        ax.plot(t, _first_column(observed)[sl], color="0.65", lw=0.8, marker=".", ms=2.5, label="noisy observation")
    kind = results.signal.get("target_kind", "target")
    ax.plot(t, _first_column(targets)[sl], color="black", lw=2.0, label=f"target ({kind})")
    missing: list[str] = []
    # the reference last and on top: eight traces never hide it
    for row in sorted(_ok_rows(results), key=lambda r: r.is_reference):
        pred = _prediction(results, row, seed)
        if pred is None:
            missing.append(f"{row.method}: no stored prediction")
            continue
        ax.plot(t, _first_column(pred)[sl], lw=1.8 if row.is_reference else 1.0, color=colors[row.method],
                ls="--" if row.is_reference else "-", zorder=5 if row.is_reference else 2,
                alpha=1.0 if row.is_reference else 0.85,
                label=row.method + (" (reference)" if row.is_reference else ""))
    ax.set_xlabel("time (s)")
    ax.set_ylabel(str(results.signal.get("units") or "amplitude"))
    ax.set_title(f"{results.task} on {results.signal.get('name')}: test rows {sl.start}–{sl.stop - 1} of {rows}",
                 fontsize="medium")
    _add_failed_legend(ax, results.failed, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    _note(fig, missing, results.failed)
    return fig


# -- error distribution --------------------------------------------------------------------------
@_figure_function
def plot_errors(results: Results, *, seed: int | None = None) -> Figure:
    """Distribution of the test error ``prediction − target`` per method.

    Parameters
    ----------
    results : Results
        A ``compare`` or ``run`` result.
    seed : int, optional
        Seed whose prediction is used; default the first stored seed.

    Returns
    -------
    matplotlib.figure.Figure
        Left: step histograms (density) over a common range (the central 99.5 % of all errors); right:
        one horizontal box per method (whiskers 5–95 %), failed methods as a red ``failed`` label.

    Raises
    ------
    ValidationError
        The run stores no test targets.
    """
    _, targets, _ = _test_arrays(results)
    colors = _colors(results)
    errors: dict[str, np.ndarray] = {}
    for row in _ok_rows(results):
        pred = _prediction(results, row, seed)
        if pred is not None and pred.shape == targets.shape:
            errors[row.method] = (pred - targets).ravel()
    fig, axes = _new_figure(1, 2, figsize=(9.0, 4.5))
    hist_ax, box_ax = axes[0, 0], axes[0, 1]
    if errors:
        pooled = np.concatenate(list(errors.values()))
        pooled = pooled[np.isfinite(pooled)]
        lo, hi = np.percentile(pooled, [0.25, 99.75]) if pooled.size else (-1.0, 1.0)
        if not hi > lo:
            lo, hi = lo - 1.0, hi + 1.0
        bins = np.linspace(lo, hi, 61)
        for method, e in errors.items():
            hist_ax.hist(np.clip(e, lo, hi), bins=bins, density=True, histtype="step", lw=1.3,
                         color=colors[method], label=method)
    else:
        _no_data(hist_ax, "no stored predictions")
    hist_ax.set_xlabel("prediction − target")
    hist_ax.set_ylabel("density")
    hist_ax.set_title("error distribution")
    handles, names = hist_ax.get_legend_handles_labels()
    if handles:  # outside the axes: never over the histogram
        fig.legend(handles, names, loc="outside upper center", ncols=min(4, len(handles)), fontsize="small")
    labels = list(errors)
    data = [errors[m] for m in labels]
    failed = results.failed
    positions = list(range(1, len(labels) + 1))
    if data:
        bp = box_ax.boxplot(data, positions=positions, whis=(5, 95), showfliers=False, patch_artist=True,
                            **_horizontal())
        for patch, method in zip(bp["boxes"], labels, strict=True):
            patch.set_facecolor(colors[method])
            patch.set_alpha(0.6)
    box_ax.set_yticks(list(range(1, len(labels) + len(failed) + 1)),
                      labels + [f"{r.method} (failed)" for r in failed])
    for tick in box_ax.get_yticklabels()[len(labels):]:
        tick.set_color(_FAILED_COLOR)
    box_ax.set_ylim(0.4, len(labels) + len(failed) + 0.6)
    box_ax.axvline(0.0, color="0.5", lw=0.8)
    box_ax.set_xlabel("prediction − target")
    box_ax.set_title("box: quartiles, whiskers: 5–95 %", fontsize="medium")
    _note(fig, [], failed)
    return fig


def _horizontal() -> dict[str, Any]:
    """Keyword for a horizontal boxplot: ``orientation`` from matplotlib 3.10, ``vert`` before."""
    import matplotlib

    major, minor = (int("".join(ch for ch in p if ch.isdigit()) or 0) for p in matplotlib.__version__.split(".")[:2])
    return {"orientation": "horizontal"} if (major, minor) >= (3, 10) else {"vert": False}


# -- leaderboard ---------------------------------------------------------------------------------
def _bound_value(results: Results, grid: dict[str, Any] | None = None) -> float | None:
    bound = results.bound
    key = results.main_metric
    if grid is not None and bound.get("per_grid"):
        for item in bound["per_grid"]:
            if item.get("grid") == grid and _finite(item.get(key)):
                return float(item[key])
        return None
    value = bound.get(key)
    return float(value) if _finite(value) else None


@_figure_function
def plot_leaderboard(results: Results) -> Figure:
    """Main metric per method with its 95 % interval, the reference bound as a vertical line.

    Parameters
    ----------
    results : Results
        Any result; sweeps show one bar per (grid point, method).

    Returns
    -------
    matplotlib.figure.Figure
        Horizontal bars, best first (the stored order); the reference row hatched; a non-finite value
        (e.g. an exact FFT: ``inf`` dB) drawn to the edge and labelled; failed methods as red labels
        ``failed: reason`` with no bar.
    """
    colors = _colors(results)
    rows = results.rows
    fig, axes = _new_figure(figsize=(8.0, max(2.5, 0.45 * len(rows) + 1.6)))
    ax = axes[0, 0]
    key = results.main_metric
    ok_values = [float(r.metrics[key]) for r in rows
                 if r.status == "ok" and _finite(r.metrics.get(key))]  # type: ignore[arg-type]
    bound = _bound_value(results) if not results.bound.get("per_grid") else None
    finite_all = ok_values + ([bound] if bound is not None else [])
    base = 0.0
    low = min([0.0, *finite_all])
    top = max([*finite_all, 1.0])
    span = top - low
    edge = top + 0.15 * span
    y = np.arange(len(rows))[::-1]
    for yi, row in zip(y, rows, strict=True):
        value = row.metrics.get(key)
        if row.status != "ok":
            ax.text(0.01, yi, f" failed: {_short_error(row)}", va="center", ha="left", color=_FAILED_COLOR,
                    fontsize="small", transform=ax.get_yaxis_transform(), clip_on=True)
            continue
        if not isinstance(value, (int, float)) or value is None or math.isnan(float(value)):
            ax.text(base, yi, "  not computed", va="center", ha="left", fontsize="small")
            continue
        v = float(value)
        if not math.isfinite(v):
            end = edge if v > 0 else low - 0.1 * span
            ax.barh(yi, end, color=colors[row.method], alpha=0.5, hatch="//")
            ax.text(end, yi, " ∞ (exact)" if v > 0 else " −∞ ", va="center", ha="left" if v > 0 else "right",
                    fontsize="small")
            continue
        ci = row.metrics.get(f"{key}_ci")
        ax.barh(yi, v, color=colors[row.method], hatch="//" if row.is_reference else None,
                edgecolor="black" if row.is_reference else None,
                xerr=float(ci) if _finite(ci) else None, capsize=4, error_kw={"lw": 1.2})
        text = f" {v:.2f}" + (f" ± {float(ci):.2f}" if _finite(ci) else "")
        if key in RATE_METRICS or key in PROBABILITY_METRICS:  # 4.2e-03, not 0.00; a zero rate with its bound
            text = " " + metric_cell(key, row.metrics)
        ax.text(max(v, base), yi, text, va="bottom", ha="left", fontsize="small")
    ax.set_yticks(y, [_label(r) + (" (reference)" if r.is_reference else "") for r in rows])
    for tick, row in zip(ax.get_yticklabels(), rows, strict=True):
        if row.status != "ok":
            tick.set_color(_FAILED_COLOR)
    if bound is not None:
        ax.axvline(bound, color="black", ls="--", lw=1.2, zorder=5,
                   label=f"{results.bound.get('method', 'reference')} (reference) {bound:.2f}")
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small")
    ax.axvline(0.0, color="0.3", lw=0.8)
    ax.set_xlim(low - (0.12 if low < 0 else 0.02) * span, edge + 0.25 * span)
    ax.set_ylim(-0.7, len(rows) - 0.3)
    better = "higher is better" if results.higher_is_better else "lower is better"
    ax.set_xlabel(f"{_metric_name(results)}, {better}")
    ax.set_title(f"{results.task} on {results.signal.get('name')}\nbars: mean over seeds, whiskers: 95 % interval",
                 fontsize="medium")
    return fig


# -- accuracy vs cost ----------------------------------------------------------------------------
def pareto_front(costs: Sequence[float], values: Sequence[float], *, higher_is_better: bool = True) -> list[int]:
    """Indices of the points no other point beats on both cost (lower) and value; sorted by cost.

    Parameters
    ----------
    costs, values : sequence of float
        Same length; ``values`` compared in the direction ``higher_is_better``.

    Returns
    -------
    list of int
        Non-dominated indices, in increasing cost.

    Examples
    --------
    >>> pareto_front([1, 2, 3], [5, 4, 6])
    [0, 2]
    """
    sign = 1.0 if higher_is_better else -1.0
    order = sorted(range(len(costs)), key=lambda i: (costs[i], -sign * values[i]))
    front: list[int] = []
    best = -math.inf
    for i in order:
        if sign * values[i] > best:
            front.append(i)
            best = sign * values[i]
    return front


@_figure_function
def plot_cost(results: Results) -> Figure:
    """Main metric against MACs per sample (left) and against fit time (right), Pareto front marked.

    Parameters
    ----------
    results : Results
        Any result.

    Returns
    -------
    matplotlib.figure.Figure
        Two axes with a logarithmic cost axis (``symlog`` for MACs, which can be 0); vertical bars are the
        95 % intervals; the front is a dashed step line through ringed points. Methods with no finite
        value or cost are listed in a note, failed ones in the legend.
    """
    colors = _colors(results)
    fig, axes = _new_figure(1, 2, figsize=(10.0, 4.8))
    key = results.main_metric
    notes: list[str] = []
    for ax, cost_key, xlabel in ((axes[0, 0], "macs_per_sample", "MACs per output sample"),
                                 (axes[0, 1], "fit_s", "fit time (s)")):
        xs: list[float] = []
        ys: list[float] = []
        for row in _ok_rows(results):
            value, cost = row.metrics.get(key), row.cost.get(cost_key)
            if not (_finite(value) and _finite(cost)):
                text = f"{_label(row)}: {key}={value}, {cost_key}={cost} not drawn"
                if text not in notes:
                    notes.append(text)
                continue
            x, yv = float(cost), float(value)  # type: ignore[arg-type]
            ci = row.metrics.get(f"{key}_ci")
            ax.errorbar([x], [yv], yerr=[float(ci)] if _finite(ci) else None, fmt="o", ms=7, capsize=3,
                        color=colors[row.method], label=_label(row))
            xs.append(x)
            ys.append(yv)
        if xs:
            front = pareto_front(xs, ys, higher_is_better=results.higher_is_better)
            fx, fy = [xs[i] for i in front], [ys[i] for i in front]
            ax.plot(fx, fy, ls="--", color="black", lw=1.0, drawstyle="steps-post", label="Pareto front")
            ax.scatter(fx, fy, s=180, facecolors="none", edgecolors="black", lw=1.2, zorder=3)
            if cost_key == "macs_per_sample":
                ax.set_xscale("symlog", linthresh=1.0)
            elif min(xs) > 0:
                ax.set_xscale("log")
        else:
            _no_data(ax, "no finite values")
        ax.set_xlabel(xlabel)
        ax.set_ylabel(_metric_name(results))
        ax.grid(True, alpha=0.3)
    axes[0, 0].set_title("accuracy vs compute", fontsize="medium")
    axes[0, 1].set_title("accuracy vs training time", fontsize="medium")
    if len(axes[0, 1].get_legend_handles_labels()[0]) > _MAX_LEGEND_ROWS:
        _method_legend(axes[0, 1], results, colors)  # a sweep's cells: one entry per method, not per cell
    else:
        _add_failed_legend(axes[0, 1], results.failed, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    _note(fig, notes, results.failed)
    return fig


#: legend entries beyond which a figure names methods rather than (method, grid point) cells
_MAX_LEGEND_ROWS = 16


def _method_legend(ax: Axes, results: Results, colors: dict[str, Any]) -> None:
    """One legend entry per method (its colour) plus the Pareto front and failed methods, to the right of
    ``ax``: a sweep of many grid points would otherwise list every cell and crush the axes."""
    from matplotlib.lines import Line2D

    methods = list(dict.fromkeys(r.method for r in _ok_rows(results)))
    handles: list[Any] = [Line2D([], [], ls="none", marker="o", color=colors[m]) for m in methods]
    labels = [f"{m} (every grid point)" for m in methods]
    handles.append(Line2D([], [], ls="--", color="black"))
    labels.append("Pareto front")
    failed = list(dict.fromkeys(r.method for r in results.failed))
    handles += [Line2D([], [], linestyle="none", marker="x", color=_FAILED_COLOR) for _ in failed]
    labels += [f"{m} — failed" for m in failed]
    ax.legend(handles, labels, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small")


# -- learning and convergence --------------------------------------------------------------------
def _running_error_db(error: np.ndarray, reference_power: float, width: int) -> np.ndarray:
    sq = np.square(error.reshape(error.shape[0], -1)).mean(axis=1)
    width = max(1, min(width, sq.size))
    kernel = np.ones(width) / width
    smooth = np.convolve(sq, kernel, mode="valid")
    return 10.0 * np.log10(np.maximum(smooth, 1e-300) / max(reference_power, 1e-300))


@_figure_function
def plot_learning(results: Results, *, width: int = 50) -> Figure:
    """Neural training curves and adaptive-filter convergence.

    Parameters
    ----------
    results : Results
        Any result with neural or adaptive (LMS/NLMS/RLS) rows.
    width : int, default 50
        Moving-average width (test rows) of the running error when no convergence record is stored.

    Returns
    -------
    matplotlib.figure.Figure
        Left: train (solid) and validation (dashed) loss per epoch from each neural row's
        ``describe["loss_history"]``/``["val_loss_history"]`` (seed 0), log scale. Right: adaptive
        filters' error in dB (relative to the target power) against sample, from
        ``describe["convergence"]`` (``sample``, ``error_db``) when the processor stores it, otherwise
        the running error of the stored test predictions (labelled as such), with the reference row's
        for comparison. A third panel shows the weight trajectory when ``convergence["weights"]`` is
        stored.
    """
    colors = _colors(results)
    ok = _ok_rows(results)
    neural = [r for r in ok if r.family == "neural"]
    adaptive = [r for r in ok if r.describe.get("name", r.name) in ADAPTIVE or r.name in ADAPTIVE]
    recorded = [r for r in adaptive if isinstance(r.describe.get("convergence"), dict)
                and r.describe["convergence"].get("error_db")]
    on_test = [r for r in adaptive if r not in recorded]
    with_weights = [r for r in adaptive if isinstance(r.describe.get("convergence"), dict)
                    and r.describe["convergence"].get("weights")]
    # one x axis per panel: epochs; training samples (stored records); test rows (running error)
    panels = ["neural", *(["recorded"] if recorded else []), *(["test"] if on_test or not recorded else []),
              *(["weights"] if with_weights else [])]
    fig, axes = _new_figure(1, len(panels), figsize=(4.6 * len(panels), 4.5))
    panel = {name: axes[0, i] for i, name in enumerate(panels)}
    ax = panel["neural"]
    drawn = False
    for row in neural:
        loss = [float(v) for v in row.describe.get("loss_history", []) or []]
        val = [float(v) for v in row.describe.get("val_loss_history", []) or []]
        if loss:
            ax.plot(np.arange(1, len(loss) + 1), loss, color=colors[row.method], marker="o", ms=3,
                    label=f"{_label(row)} train")
            drawn = True
        if val:
            ax.plot(np.arange(1, len(val) + 1), val, color=colors[row.method], ls="--", marker="s", ms=3,
                    label=f"{_label(row)} validation")
            drawn = True
        best = row.describe.get("best_epoch")
        if val and _finite(best) and 1 <= int(best) <= len(val):
            ax.plot([int(best)], [val[int(best) - 1]], marker="*", ms=12, color=colors[row.method], ls="none")
    if drawn:
        ax.set_yscale("log")
        units = next((str(r.describe["loss_units"]) for r in neural if r.describe.get("loss_units")), "loss")
        ax.set_ylabel(units)
        ax.set_xlabel("epoch")
    else:
        _no_data(ax, "no neural method with a stored loss history in this run")
    ax.set_title("neural training (seed 0, ★ best)", fontsize="medium")
    failed_neural = [r for r in results.failed if r.family == "neural"]
    failed_adaptive = [r for r in results.failed if r.name in ADAPTIVE]
    _add_failed_legend(ax, failed_neural, **_BELOW)

    notes: list[str] = []
    targets = results.test.get("targets")
    power = float(np.mean(np.square(targets))) if targets is not None and np.size(targets) else 1.0
    if recorded:
        ax = panel["recorded"]
        for row in recorded:
            conv = row.describe["convergence"]
            err_db = np.asarray(conv["error_db"], dtype=np.float64)
            samples = np.asarray(conv.get("sample", np.arange(err_db.size)), dtype=np.float64)
            ax.plot(samples, err_db, color=colors[row.method], label=_label(row))
        ax.set_xlabel("training sample")
        ax.set_ylabel("error power / target power (dB)")
        ax.set_title("adaptive filters while training", fontsize="medium")
        ax.legend(fontsize="small", **_BELOW)
    if "test" in panel:
        ax = panel["test"]
        drawn = False
        for row in on_test:
            pred = _prediction(results, row)
            if pred is None or targets is None or pred.shape != np.shape(targets):
                notes.append(f"{row.method}: no convergence record and no stored prediction")
                continue
            curve = _running_error_db(pred - targets, power, width)
            ax.plot(np.arange(curve.size) + width - 1, curve, color=colors[row.method], label=_label(row))
            drawn = True
        if drawn:
            ref = next((r for r in ok if r.is_reference), None)
            pred = _prediction(results, ref) if ref is not None else None
            if ref is not None and pred is not None and targets is not None and pred.shape == np.shape(targets):
                curve = _running_error_db(pred - targets, power, width)
                ax.plot(np.arange(curve.size) + width - 1, curve, color="black", ls=":", lw=1.4, zorder=5,
                        label=f"{ref.method} (reference)")
            ax.set_xlabel("test row")
            ax.set_ylabel("error power / target power (dB)")
            mode = results.protocol.get("mode", "offline")
            notes.append(f"adaptive filters on the test segment: {width}-row running error ({mode} protocol"
                         f"{'; weights frozen after training' if mode == 'offline' else ''}); the training-time "
                         "curve needs describe['convergence']")
        elif not recorded:
            _no_data(ax, "no adaptive filter (lms, nlms, rls) in this run")
        ax.set_title("adaptive filters on the test rows", fontsize="medium")
        _add_failed_legend(ax, failed_adaptive, **_BELOW)
    if with_weights:
        ax = panel["weights"]
        for row in with_weights:
            conv = row.describe["convergence"]
            w = np.asarray(conv["weights"], dtype=np.float64)
            w = w.reshape(w.shape[0], -1)
            stored = np.asarray(conv.get("weights_sample", conv.get("sample", [])), dtype=np.float64)
            samples = stored[: w.shape[0]] if stored.size >= w.shape[0] else np.arange(w.shape[0], dtype=np.float64)
            ax.plot(samples, w, color=colors[row.method], lw=0.6, alpha=0.7)
            ax.plot([], [], color=colors[row.method], label=f"{_label(row)} ({w.shape[1]} taps)")
        ax.set_xlabel("training sample")
        ax.set_ylabel("weight")
        ax.set_title("weights trajectory", fontsize="medium")
        ax.legend(fontsize="small", **_BELOW)
    _note(fig, notes, failed_neural + failed_adaptive)
    return fig


# -- frequency responses -------------------------------------------------------------------------
def _magnitude_db(taps: np.ndarray, freqs_hz: np.ndarray, rate: float) -> np.ndarray:
    from scipy.signal import freqz

    _, h = freqz(taps, worN=freqs_hz, fs=rate)
    return 20.0 * np.log10(np.maximum(np.abs(h), 1e-12))


def _fir_bank_taps(row: MethodRow, rate: float) -> tuple[np.ndarray, list[int]] | None:
    """Designed band taps ``(bands, numtaps)`` and the kept bands, rebuilt from describe()."""
    d = row.describe
    edges = d.get("band_edges_hz")
    params = d.get("params", {}) or {}
    numtaps = params.get("numtaps")
    if not edges or not _finite(numtaps):
        return None
    n = int(numtaps)  # type: ignore[arg-type]  # _finite checked it is a number
    from scipy.signal import firwin

    taper = params.get("taper") or "hamming"
    bounds = [0.0, *[float(e) for e in edges], rate / 2]
    taps = []
    for b in range(len(bounds) - 1):
        lo, hi = bounds[b], bounds[b + 1]
        if b == 0:
            h = firwin(n, hi, window=taper, pass_zero="lowpass", fs=rate)
        elif b == len(bounds) - 2:
            h = firwin(n, lo, window=taper, pass_zero="highpass", fs=rate)
        else:
            h = firwin(n, [lo, hi], window=taper, pass_zero="bandpass", fs=rate)
        taps.append(h)
    kept = [int(k) for k in d.get("kept_bands", range(len(taps)))]
    return np.asarray(taps), kept


def _estimated_response_db(x: np.ndarray, y: np.ndarray, rate: float, freqs_hz: np.ndarray) -> np.ndarray:
    """``|S_xy / S_xx|`` in dB: the magnitude response of the linear map x → y (Welch estimates)."""
    from scipy.signal import csd, welch

    nperseg = int(min(128, max(16, x.size // 4)))
    f, sxx = welch(x, fs=rate, nperseg=nperseg)
    _, sxy = csd(x, y, fs=rate, nperseg=nperseg)
    h = np.abs(sxy) / np.maximum(sxx, 1e-300)
    return np.interp(freqs_hz, f, 20.0 * np.log10(np.maximum(h, 1e-12)))


@_figure_function
def plot_response(results: Results, *, max_kernels: int = 4) -> Figure:
    """Frequency responses: CNN learned kernels, FIR-bank designed bands, Wiener filter; input spectrum below.

    The picture of "a CNN is a learned filter bank". What is drawn depends on what the run stores:

    * CNN: each branch's learned kernels, from ``describe["kernels"]`` (a list per branch of
      ``(filters, kernel_size)`` taps); when absent the panel says so.
    * FIR bank: the designed bands, rebuilt with :func:`scipy.signal.firwin` from ``describe["params"]``
      (``numtaps``, ``taper``) and ``describe["band_edges_hz"]``; kept bands solid, the others faint.
    * Wiener (and other linear DSP rows with ``describe["taps"]``): ``|H(f)|`` of the taps; without
      stored taps, ``|S_xy/S_xx|`` estimated from the test observation and the stored prediction (exact
      in expectation for a linear filter; a network's curve is its best linear approximation).

    Parameters
    ----------
    results : Results
        A ``compare`` or ``run`` result of a one-channel task with a stored test observation.
    max_kernels : int, default 4
        Kernels drawn per CNN branch.

    Returns
    -------
    matplotlib.figure.Figure
        Top: magnitude responses in dB against frequency in Hz (0 to ``sample_rate_hz/2``); bottom: Welch
        power spectral density of the noisy test observation and of the targets, in dB.
    """
    rate = _sample_rate(results)
    freqs = np.linspace(0.0, rate / 2, 512)
    colors = _colors(results)
    fig, axes = _new_figure(2, 1, figsize=(8.0, 7.0), sharex=True, height_ratios=(2.0, 1.0))
    ax, psd_ax = axes[0, 0], axes[1, 0]
    notes: list[str] = []
    test = results.test
    observed = test.get("observed")
    targets = test.get("targets")
    ok = _ok_rows(results)
    drawn = False
    for row in ok:
        d = row.describe
        name = d.get("name", row.name)
        if name == "cnn" or d.get("kernels") is not None:
            kernels = d.get("kernels")
            if not kernels:
                notes.append(f"{row.method}: learned kernels not stored (needs describe['kernels']: "
                             "per branch a (filters, kernel_size) list)")
                continue
            mags = np.asarray([_magnitude_db(k, freqs, rate) for branch in kernels
                               for k in np.atleast_2d(np.asarray(branch, dtype=np.float64))])
            top = float(mags.max())  # one scale for every kernel: dB relative to the loudest kernel's peak
            peaks = np.argmax(mags, axis=1)
            order = np.argsort(peaks)
            shown = order[np.linspace(0, len(order) - 1, min(max_kernels, len(order))).round().astype(int)]
            for i, k in enumerate(sorted(set(shown.tolist()))):  # a few, spread over their peak frequencies
                ax.plot(freqs, mags[k] - top, color=colors[row.method], lw=0.8, alpha=0.55,
                        label=f"{row.method}: {len(set(shown.tolist()))} of {len(mags)} learned kernels" if i == 0
                        else None)
            ax.plot(freqs, mags.max(axis=0) - top, color=colors[row.method], lw=2.2,
                    label=f"{row.method}: envelope (max over all kernels)")
            notes.append(f"{row.method}: kernel responses in dB relative to the loudest kernel's peak (one scale)")
            drawn = True
        elif d.get("band_edges_hz") is not None:
            bank = _fir_bank_taps(row, rate)
            if bank is None:
                notes.append(f"{row.method}: band design not stored (needs params.numtaps and band_edges_hz)")
                continue
            taps, kept = bank
            for b in range(taps.shape[0]):
                keep = b in kept
                ax.plot(freqs, _magnitude_db(taps[b], freqs, rate), color=colors[row.method],
                        lw=1.4 if keep else 0.7, alpha=1.0 if keep else 0.35,
                        label=(f"{row.name} designed bands (solid: the {len(kept)} kept of {taps.shape[0]})"
                               if b == 0 else None))
            drawn = True
        elif d.get("taps") is not None:
            taps_arr = np.asarray(d["taps"], dtype=np.float64)
            taps_arr = taps_arr.reshape(-1, taps_arr.shape[-1])[0]
            ax.plot(freqs, _magnitude_db(taps_arr, freqs, rate), color=colors[row.method], lw=2.0,
                    label=f"{row.method} |H(f)| of its taps")
            drawn = True
        elif row.is_reference or name == "wiener":
            pred = _prediction(results, row)
            if observed is None or pred is None or pred.ndim != 1 or np.ndim(observed) != 1:
                notes.append(f"{row.method}: neither taps (describe['taps']) nor a one-channel prediction stored")
                continue
            ax.plot(freqs, _estimated_response_db(np.asarray(observed, float), pred, rate, freqs),
                    color=colors[row.method], lw=2.0, label=f"{row.method} |S_xy/S_xx| (estimated from test)")
            notes.append(f"{row.method}: response estimated from the test input and its prediction; "
                         "exact curve needs describe['taps']")
            drawn = True
    if not drawn:
        _no_data(ax, "no CNN, FIR bank or Wiener row with a response to draw")
    ax.set_ylabel("magnitude (dB)")
    ax.set_ylim(-60, 15)
    ax.grid(True, alpha=0.3)
    ax.set_title("learned vs designed filters", fontsize="medium")
    cnn_failed = [r for r in results.failed if r.name in ("cnn", "fir-bank", "wiener", "cnn-lstm")]
    _note(fig, notes, cnn_failed)
    if observed is not None and np.ndim(observed) == 1 and np.size(observed) >= 16:
        from scipy.signal import welch

        x = np.asarray(observed, dtype=np.float64)
        nperseg = int(min(128, max(16, x.size // 4)))
        f, pxx = welch(x, fs=rate, nperseg=nperseg)
        psd_ax.plot(f, 10 * np.log10(np.maximum(pxx, 1e-300)), color="0.5", label="noisy input (test)")
        if targets is not None and np.ndim(targets) == 1:
            f, ptt = welch(np.asarray(targets, dtype=np.float64), fs=rate, nperseg=nperseg)
            psd_ax.plot(f, 10 * np.log10(np.maximum(ptt, 1e-300)), color="black", lw=1.4,
                        label=f"target ({results.signal.get('target_kind', 'target')})")
    else:
        _no_data(psd_ax, "no one-channel test observation stored")
    psd_ax.set_xlabel("frequency (Hz)")
    psd_ax.set_ylabel("PSD (dB/Hz)")
    psd_ax.grid(True, alpha=0.3)
    from matplotlib.lines import Line2D

    handles, labels = [], []
    for a in (ax, psd_ax):  # one legend for both panels, under them: never over a curve
        h, lab = a.get_legend_handles_labels()
        handles += h
        labels += lab
    for row in cnn_failed:
        handles.append(Line2D([], [], linestyle="none", marker="x", color=_FAILED_COLOR))
        labels.append(_failed_short(row))
    if handles:
        fig.legend(handles, labels, loc="outside upper center", ncols=2, fontsize="small")
    return fig


# -- residual spectrum ---------------------------------------------------------------------------
@_figure_function
def plot_residual(results: Results, *, seed: int | None = None) -> Figure:
    """Spectrum of each method's residual (prediction − target) on the test rows, against the target's.

    Where in frequency each method leaves its error: a linear filter's residual follows the noise floor
    in its stop band; a network may leave structured error (lines) a filter would not.

    Parameters
    ----------
    results : Results
        A ``compare`` or ``run`` result of a one-output task (test targets and predictions stored).
    seed : int, optional
        Seed whose prediction is used; default the first stored seed.

    Returns
    -------
    matplotlib.figure.Figure
        One panel per method (shared axes): Welch PSD of the residual in dB/Hz against frequency in Hz,
        with the target's PSD in grey for scale; the reference drawn in every panel, dotted.

    Raises
    ------
    ValidationError
        The run stores no test targets, or its targets have several outputs.
    """
    from scipy.signal import welch

    _, targets, _ = _test_arrays(results)
    if targets.ndim != 1:
        raise ValidationError(f"expected one output per row for the residual spectrum; received: targets of "
                              f"shape {targets.shape}")
    rate = _sample_rate(results)
    nperseg = int(min(256, max(16, targets.size // 4)))
    f, ptt = welch(targets, fs=rate, nperseg=nperseg)
    residuals: dict[str, np.ndarray] = {}
    rows = [r for r in _ok_rows(results)]
    for row in rows:
        pred = _prediction(results, row, seed)
        if pred is not None and pred.shape == targets.shape and np.all(np.isfinite(pred)):
            residuals[row.method] = welch(pred - targets, fs=rate, nperseg=nperseg)[1]
    if not residuals:
        raise ValidationError("expected stored test predictions for the residual spectrum; received: none")
    ref = next((r.method for r in rows if r.is_reference and r.method in residuals), None)
    ncols = min(3, len(residuals))
    nrows = math.ceil(len(residuals) / ncols)
    fig, axes = _new_figure(nrows, ncols, figsize=(4.0 * ncols, 2.8 * nrows + 0.6), sharex=True)
    colors = _colors(results)

    def db(p: np.ndarray) -> np.ndarray:
        return 10.0 * np.log10(np.maximum(p, 1e-300))

    for i, (method, pxx) in enumerate(residuals.items()):
        ax = axes[i // ncols, i % ncols]
        ax.plot(f, db(ptt), color="0.7", lw=1.0, label="target")
        if ref is not None and method != ref:
            ax.plot(f, db(residuals[ref]), color="black", ls=":", lw=1.0, zorder=5, label=f"{ref} residual")
        ax.plot(f, db(pxx), color=colors[method], lw=1.4, label=f"{method} residual")
        ax.set_title(method, fontsize="medium")
        ax.grid(True, alpha=0.3)
        if i % ncols == 0:
            ax.set_ylabel("PSD (dB/Hz)")
        if i // ncols == nrows - 1:
            ax.set_xlabel("frequency (Hz)")
    for j in range(len(residuals), nrows * ncols):
        axes[j // ncols, j % ncols].set_visible(False)
        above = axes[j // ncols - 1, j % ncols] if j >= ncols else None
        if above is not None and j - ncols < len(residuals):  # its x axis is now the bottom of that column
            above.xaxis.set_tick_params(labelbottom=True)
            above.set_xlabel("frequency (Hz)")
    from matplotlib.lines import Line2D

    handles = [Line2D([], [], color="0.7", label="target"), Line2D([], [], color="0.2", lw=1.4,
                                                                    label="the panel's method: residual")]
    if ref is not None:
        handles.append(Line2D([], [], color="black", ls=":", label=f"{ref} (reference) residual"))
    fig.legend(handles=handles, loc="outside lower center", ncols=len(handles), fontsize="small")
    fig.suptitle("residual (prediction − target) spectrum per method, test rows", fontsize="medium")
    return fig


# -- sweep ---------------------------------------------------------------------------------------
def _grid_parameter(results: Results, parameter: str | None) -> tuple[list[str], str]:
    """The grid keys of a sweep's rows and the one to put on the x axis (``parameter``, else the first configured).

    Raises
    ------
    ValidationError
        The rows carry no grid, or ``parameter`` is not one of its keys.
    """
    keys = sorted({k for r in results.rows for k in r.grid})
    if not keys:
        raise ValidationError(f"expected a sweep result (rows with a grid); received: kind={results.kind!r}")
    configured = list((results.config.get("grid") or {}).keys())
    param = parameter or next((k for k in configured if k in keys), keys[0])
    if param not in keys:
        raise ValidationError(f"expected a grid key among {', '.join(keys)}; received: parameter={param!r}")
    return keys, param


@_figure_function
def plot_sweep(results: Results, *, parameter: str | None = None) -> Figure:
    """Main metric against a grid parameter, one line per method (and per value of other grid keys).

    Parameters
    ----------
    results : Results
        A ``sweep`` result (rows carry ``grid``).
    parameter : str, optional
        Grid key on the x axis; default the first key of the sweep configuration.

    Returns
    -------
    matplotlib.figure.Figure
        Lines with 95 % error bars; numeric grid values on a numeric axis, others as categories;
        failed cells as red ``×`` at the bottom, named in the legend.

    Raises
    ------
    ValidationError
        The rows carry no grid, or ``parameter`` is not one of its keys.
    """
    keys, param = _grid_parameter(results, parameter)
    others = [k for k in keys if k != param]
    values = []
    for r in results.rows:
        v = r.grid.get(param)
        if v not in values:
            values.append(v)
    numeric = all(_finite(v) for v in values)
    values.sort(key=lambda v: (0, float(v), "") if _finite(v) else (1, 0.0, str(v)))  # 0, 5, 10, 20
    pos = {json.dumps(v): (float(v) if numeric else float(i)) for i, v in enumerate(values)}
    colors = _colors(results)
    styles = ["-", "--", ":", "-."]
    fig, axes = _new_figure()
    ax = axes[0, 0]
    key = results.main_metric
    groups: dict[tuple[str, str], list[MethodRow]] = {}
    for r in results.rows:
        rest = ", ".join(f"{k}={r.grid.get(k)}" for k in others)
        groups.setdefault((r.method, rest), []).append(r)
    rests = sorted({rest for _, rest in groups})
    failed_cells: list[tuple[float, MethodRow]] = []
    for (method, rest), rows in groups.items():
        pts = sorted((pos[json.dumps(r.grid.get(param))], r) for r in rows if r.status == "ok"
                     and _finite(r.metrics.get(key)))  # type: ignore[type-var]
        failed_cells += [(pos[json.dumps(r.grid.get(param))], r) for r in rows if r.status != "ok"]
        if not pts:
            continue
        xs = [p for p, _ in pts]
        ys = [float(r.metrics[key]) for _, r in pts]  # type: ignore[arg-type]
        cis = [float(r.metrics[f"{key}_ci"]) if _finite(r.metrics.get(f"{key}_ci")) else 0.0  # type: ignore[arg-type]
               for _, r in pts]
        naive = " (repeats the last sample)" if rows[0].name == "naive" else ""
        ax.errorbar(xs, ys, yerr=cis if any(cis) else None, marker="o", capsize=3, color=colors[method],
                    ls=styles[rests.index(rest) % len(styles)], zorder=5 if rows[0].is_reference else 2,
                    label=method + naive + (f" ({rest})" if rest else ""))
    bound = results.bound.get("per_grid") or []
    if failed_cells:
        bottom = ax.get_ylim()[0]
        ax.scatter([x for x, _ in failed_cells], [bottom] * len(failed_cells), marker="x", color=_FAILED_COLOR,
                   s=60, zorder=4, clip_on=False)
    _add_failed_legend(ax, [r for _, r in failed_cells], loc="upper left", bbox_to_anchor=(1.01, 1.0))
    _note(fig, [], [r for _, r in failed_cells])
    if not numeric:
        ax.set_xticks([pos[json.dumps(v)] for v in values], [str(v) for v in values])
    ax.set_xlabel(f"grid parameter {param}" + (" (input, dB)" if param.endswith("_db") else ""))
    ax.set_ylabel(f"{_metric_name(results)} of the predictions")
    ax.grid(True, alpha=0.3)
    ax.set_title(f"{results.task} sweep over {param}" + (f" (reference: {bound[0].get('method')})" if bound else ""))
    return fig


# -- spectrum task -------------------------------------------------------------------------------
@_figure_function
def plot_spectrum(results: Results, *, frame: int = 0, seed: int | None = None) -> Figure:
    """``spectrum`` task: each method's DFT magnitude against the FFT's on the same test frame.

    Parameters
    ----------
    results : Results
        A result of the ``spectrum`` task (targets ``(frames, 2·bins)``: real parts then imaginary parts
        of ``rfft(frame, norm="ortho")``).
    frame : int, default 0
        Test frame drawn on the left.
    seed : int, optional
        Seed whose prediction is drawn; default the first stored seed.

    Returns
    -------
    matplotlib.figure.Figure
        Left: ``|X_k|`` of the exact DFT (the targets), and of each method, for one frame; right: the
        magnitude error per bin in dB, averaged over all test frames.

    Raises
    ------
    ValidationError
        The run is not a spectrum task, stores no targets, or ``frame`` is out of range.
    """
    _, targets, _ = _test_arrays(results)
    if results.task != "spectrum" or targets.ndim != 2 or targets.shape[1] % 2:
        raise ValidationError(f"expected a spectrum-task result; received: task={results.task!r}, "
                              f"targets shape {targets.shape}")
    if not 0 <= frame < targets.shape[0]:
        raise ValidationError(f"expected 0 <= frame < {targets.shape[0]}; received: frame={frame}")
    bins = targets.shape[1] // 2
    window = int((results.config.get("task_options") or {}).get("window") or 2 * (bins - 1))
    rate = _sample_rate(results)
    freqs = np.arange(bins) * rate / window

    def magnitude(a: np.ndarray) -> np.ndarray:
        return np.hypot(a[..., :bins], a[..., bins:])

    colors = _colors(results)
    fig, axes = _new_figure(1, 2, figsize=(10.0, 4.5))
    ax, err_ax = axes[0, 0], axes[0, 1]
    exact = magnitude(targets)
    scale = float(np.sqrt(np.mean(np.square(exact)))) or 1.0
    floor_db = -150.0
    ax.plot(freqs, exact[frame], color="black", lw=2.5, label="exact DFT (target)")
    markers = "osd^v<>"
    for i, row in enumerate(_ok_rows(results)):
        pred = _prediction(results, row, seed)
        if pred is None or pred.shape != targets.shape:
            continue
        mag = magnitude(pred)
        ax.plot(freqs, mag[frame], color=colors[row.method], lw=1.0, marker=markers[i % len(markers)], ms=4,
                ls="--", label=row.method)
        err = np.sqrt(np.mean(np.square(mag - exact), axis=0)) / scale
        err_db = np.maximum(20 * np.log10(np.maximum(err, 1e-300)), floor_db)
        exact_txt = " (exact to the floor)" if np.all(err_db <= floor_db + 1e-9) else ""
        err_ax.plot(freqs, err_db, color=colors[row.method], marker=".", label=row.method + exact_txt)
    ax.set_xlabel("frequency (Hz)")
    ax.set_ylabel("|X_k| (rfft, ortho)")
    ax.set_title(f"test frame {frame} of {targets.shape[0]}")
    _add_failed_legend(ax, results.failed, **_BELOW)
    _note(fig, [], results.failed)
    err_ax.set_xlabel("frequency (Hz)")
    err_ax.set_ylabel("RMS |X| error / RMS |X| (dB)")
    err_ax.set_title(f"error per bin, all test frames (floor {floor_db:g} dB)")
    err_ax.grid(True, alpha=0.3)
    err_ax.legend(fontsize="small", **_BELOW)
    return fig


# -- communications and detection tasks ----------------------------------------------------------
#: error rates drawn by the waterfall (the main metric when it is one of them)
ERROR_RATES = ("ber", "ser")


def _rate_key(results: Results, metric: str | None) -> str:
    key = metric or (results.main_metric if results.main_metric in ERROR_RATES else "ber")
    if key not in ERROR_RATES:
        raise ValidationError(f"expected an error rate among {', '.join(ERROR_RATES)}; received: metric={key!r}")
    if not any(key in r.metrics for r in results.rows):
        raise ValidationError(f"expected rows with the error rate {key!r} (an equalise run); received: metrics "
                              f"{sorted({k for r in results.rows for k in r.metrics})[:8] or 'none'}")
    return key


def _levels(results: Results) -> int:
    """The PAM order M recorded with the signal (``params["levels"]``); 2 (BPSK) when not recorded."""
    levels: Any = (results.signal.get("params") or {}).get("levels")
    return int(levels) if _finite(levels) and int(levels) >= 2 else 2


def awgn_bound(ebn0_db: Any, levels: int = 2, metric: str = "ber") -> np.ndarray:
    """The waterfall's theory curve: M-PAM in white Gaussian noise without ISI (the matched-filter bound).

    Parameters
    ----------
    ebn0_db : array_like
        :math:`E_b/N_0` in dB.
    levels : int, default 2
        M (2: BPSK, where the bit and symbol error rates are both :math:`Q(\\sqrt{2E_b/N_0})`).
    metric : {"ber", "ser"}, default "ber"
        ``"ser"``: :func:`~sigbench.metrics_comms.pam_ser_awgn`; ``"ber"``: with Gray coding, at most one bit
        of the :math:`\\log_2 M` errs per symbol error at useful SNRs, so :math:`P_b \\approx P_s/\\log_2 M`.

    Returns
    -------
    ndarray, the shape of ``ebn0_db``
    """
    from sigbench.metrics_comms import pam_ser_awgn

    ser = np.asarray(pam_ser_awgn(np.asarray(ebn0_db, dtype=np.float64), int(levels)), dtype=np.float64)
    return ser if metric == "ser" else ser / max(1.0, math.log2(int(levels)))


@_figure_function
def plot_waterfall(results: Results, *, parameter: str | None = None, metric: str | None = None) -> Figure:
    """Error rate against the grid parameter on a log axis, one line per method: the waterfall.

    Parameters
    ----------
    results : Results
        A ``sweep`` of a task with error rates (``equalise``): rows carry ``grid`` and ``ber``/``ser`` with
        their Wilson bounds ``<metric>_ci_low``/``<metric>_ci_high``.
    parameter : str, optional
        Grid key on the x axis; default the first key of the sweep configuration.
    metric : {"ber", "ser"}, optional
        Default: the main metric when it is an error rate, else ``ber``.

    Returns
    -------
    matplotlib.figure.Figure
        One axes, log y. Each method: its error rates as points joined by a line, the Wilson interval as
        error bars; a point with no error (rate 0, whose log is −∞) is drawn as a downward triangle at its
        upper bound ``<metric>_ci_high`` ("below this, at 95 %"), never dropped. When the grid key is
        ``ebn0_db``, the AWGN bound without ISI (:func:`awgn_bound`, the M-PAM order from the signal's
        parameters) is drawn as a black dashed curve. Failed cells are named in the legend.

    Raises
    ------
    ValidationError
        The rows carry no grid or no error rate, or ``parameter`` is not a grid key.
    """
    key = _rate_key(results, metric)
    keys, param = _grid_parameter(results, parameter)
    if not all(_finite(r.grid.get(param)) for r in results.rows):
        raise ValidationError(f"expected numeric values of the grid key {param!r} for the waterfall")
    others = [k for k in keys if k != param]
    colors = _colors(results)
    styles = ["-", "--", ":", "-."]
    fig, axes = _new_figure()
    ax = axes[0, 0]
    groups: dict[tuple[str, str], list[MethodRow]] = {}
    for r in results.rows:
        rest = ", ".join(f"{k}={r.grid.get(k)}" for k in others)
        groups.setdefault((r.method, rest), []).append(r)
    rests = sorted({rest for _, rest in groups})
    failed = [r for r in results.rows if r.status != "ok"]
    bounded = False
    positive: list[float] = []
    for (method, rest), rows in groups.items():
        pts = sorted(((float(r.grid[param]), r) for r in rows if r.status == "ok" and _finite(r.metrics.get(key))),
                     key=lambda xr: xr[0])
        if not pts:
            continue
        label = method + (" (reference)" if rows[0].is_reference else "") + (f" ({rest})" if rest else "")
        color = colors[method]
        ls = styles[rests.index(rest) % len(styles)]
        xs = np.array([x for x, _ in pts])
        ys = np.array([float(r.metrics[key]) for _, r in pts])  # type: ignore[arg-type]
        low = np.array([float(r.metrics.get(f"{key}_ci_low", v)) if _finite(r.metrics.get(f"{key}_ci_low"))  # type: ignore[arg-type]
                        else v for (_, r), v in zip(pts, ys, strict=True)])
        high = np.array([float(r.metrics.get(f"{key}_ci_high", v)) if _finite(r.metrics.get(f"{key}_ci_high"))  # type: ignore[arg-type]
                         else v for (_, r), v in zip(pts, ys, strict=True)])
        zero = ys <= 0.0
        # the line runs through the measured rates, and through the upper bound where nothing erred
        line_y = np.where(zero, high, ys)
        ax.plot(xs, line_y, ls=ls, color=color, lw=1.6 if rows[0].role else 1.3,
                zorder=5 if rows[0].role == "limit" else 2)
        ok = ~zero
        if ok.any():
            ax.errorbar(xs[ok], ys[ok], yerr=[ys[ok] - low[ok], high[ok] - ys[ok]], fmt="o", ms=5, capsize=3,
                        color=color, ls="none", label=label)
            positive += list(low[ok][low[ok] > 0]) + list(ys[ok])
        else:  # only upper bounds: the legend entry carries the colour
            ax.plot([], [], marker="o", ls=ls, color=color, label=label)
        if zero.any():
            ax.plot(xs[zero], high[zero], ls="none", marker="v", ms=9, mfc="white", mec=color, mew=1.6,
                    zorder=6, gid="no-error-bound")
            positive += list(high[zero])
            bounded = True
    if not positive:
        raise ValidationError(f"expected at least one finite {key} in the rows; received: none")
    xs_all = np.array(sorted({float(r.grid[param]) for r in results.rows}))
    if param == "ebn0_db":
        grid = np.linspace(xs_all.min(), xs_all.max(), 200) if xs_all.size > 1 else xs_all
        levels = _levels(results)
        theory = awgn_bound(grid, levels, key)
        name = "BPSK" if levels == 2 else f"{levels}-PAM"
        ax.plot(grid, theory, color="black", ls="--", lw=1.2, zorder=4,
                label=f"AWGN bound, no ISI ({name}: {'Q(√(2Eb/N0))' if levels == 2 else 'pam_ser_awgn'})")
        positive += [float(v) for v in theory if v > 0 and v >= min(positive) / 10]
    if bounded:
        from matplotlib.lines import Line2D

        ax.add_line(Line2D([], [], ls="none", marker="v", mfc="white", mec="0.3", label="no error: 95 % upper "
                                                                                        "bound (Wilson)"))
    ax.set_yscale("log")
    lo = min(positive)
    ax.set_ylim(10 ** math.floor(math.log10(lo) - 0.2), min(1.0, 10 ** math.ceil(math.log10(max(positive)) + 0.1)))
    rate_name = "bit" if key == "ber" else "symbol"
    ax.set_ylabel(f"{rate_name} error rate ({key.upper()}, errors / {rate_name}s)")
    unit = " (dB)" if param.endswith("_db") else ""
    ax.set_xlabel(("Eb/N0" if param == "ebn0_db" else f"grid parameter {param}") + unit)
    ax.grid(True, which="both", alpha=0.3)
    ax.set_title(f"{results.task} on {results.signal.get('name')}: {key.upper()} waterfall, error bars: 95 % "
                 "Wilson", fontsize="medium")
    _add_failed_legend(ax, failed, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    _note(fig, [], failed)
    return fig


def _labels_of(results: Results) -> np.ndarray:
    _, targets, _ = _test_arrays(results)
    labels = _first_column(np.asarray(targets, dtype=np.float64))
    if not (np.any(labels >= 0.5) and np.any(labels < 0.5)):
        raise ValidationError(f"expected both classes among the test labels; received: {int(np.sum(labels >= 0.5))} "
                              f"positive of {labels.size}")
    return labels


def detection_deflection(results: Results) -> tuple[float, str] | None:
    """The deflection :math:`d = \\sqrt{E}/\\sigma` and phase (``"known"``/``"random"``) of a tone-detect signal.

    Read from the signal's recorded source parameters: :math:`A = \\sigma\\sqrt{2\\cdot10^{\\mathrm{SNR}/10}}`,
    :math:`E = \\sum_{m=0}^{S-1} (A\\cos(2\\pi f m/f_s))^2` over the segment of :math:`S` samples (the
    ``tone-detect`` source's definition, ``metadata["deflection"]``).

    Returns
    -------
    (d, phase) or None
        ``None`` when the parameters (``snr_db``, ``frequency_hz``, ``segment``, ``sample_rate_hz``) are not
        recorded.
    """
    params = results.signal.get("params") or {}
    snr, freq, seg = params.get("snr_db"), params.get("frequency_hz"), params.get("segment")
    rate = params.get("sample_rate_hz", results.signal.get("sample_rate_hz"))
    if not all(_finite(v) for v in (snr, freq, seg, rate)) or float(rate) <= 0 or int(seg) < 1:  # type: ignore[arg-type]
        return None
    sigma = float(params["noise_std"]) if _finite(params.get("noise_std")) else 1.0
    amplitude = sigma * math.sqrt(2.0 * 10.0 ** (float(snr) / 10.0))  # type: ignore[arg-type]
    m = np.arange(int(seg))  # type: ignore[arg-type]
    energy = float(np.sum(np.square(amplitude * np.cos(2.0 * math.pi * float(freq) * m / float(rate)))))  # type: ignore[arg-type]
    phase = str(params.get("phase") or "known")
    return math.sqrt(energy) / sigma, phase


@_figure_function
def plot_roc(results: Results, *, seed: int | None = None, pfa: float = 1e-2) -> Figure:
    """ROC curves of each detector from the stored test scores and labels, with the Neyman-Pearson curve.

    Parameters
    ----------
    results : Results
        A ``compare`` or ``run`` result of a detection task: test targets are labels (``>= 0.5``: present),
        predictions are scores (larger: more likely present).
    seed : int, optional
        Seed whose scores are used; default the first stored seed.
    pfa : float, default 1e-2
        The false-alarm rate of the ``pd_at_pfa`` metric, marked by a dotted vertical line.

    Returns
    -------
    matplotlib.figure.Figure
        Left: empirical ROC (:func:`~sigbench.metrics_comms.roc_curve`) per method, detection probability
        against false-alarm probability on linear axes, each labelled with its AUC; the theoretical curve
        for the signal's deflection :math:`d` (:func:`detection_deflection`) dashed black: the matched
        filter's :math:`P_D = Q(Q^{-1}(P_{FA}) - d)` (:func:`~sigbench.metrics_comms.np_pd_known_signal`)
        for a known phase, :math:`Q_1(d, \\sqrt{-2\\ln P_{FA}})`
        (:func:`~sigbench.metrics_comms.np_pd_unknown_phase`) for a random one; the chance diagonal grey.
        Right: the same curves with a log false-alarm axis, from one negative test row to 1 (where
        ``pd_at_pfa`` is read).

    Raises
    ------
    ValidationError
        No test labels stored, or only one class among them, or no stored scores.
    """
    from sigbench.metrics_comms import auc_value, np_pd_known_signal, np_pd_unknown_phase, roc_curve

    labels = _labels_of(results)
    colors = _colors(results)
    fig, axes = _new_figure(1, 2, figsize=(10.0, 4.8))
    lin, log = axes[0, 0], axes[0, 1]
    negatives = int(np.sum(labels < 0.5))
    notes: list[str] = []
    drawn = 0
    for row in _ok_rows(results):
        pred = _prediction(results, row, seed)
        if pred is None or pred.shape[0] != labels.shape[0] or not np.all(np.isfinite(pred)):
            notes.append(f"{row.method}: no stored finite scores")
            continue
        scores = _first_column(pred)
        fa, pd, _ = roc_curve(labels, scores)
        label = f"{row.method}{' (reference)' if row.is_reference else ''}: AUC {auc_value(labels, scores):.3f}"
        style = {"color": colors[row.method], "lw": 1.8 if row.role == "limit" else 1.3,
                 "ls": ":" if row.is_reference else "-", "drawstyle": "steps-post"}
        lin.plot(fa, pd, label=label, **style)
        log.plot(np.maximum(fa, 0.5 / max(negatives, 1)), pd, **style)
        drawn += 1
    if not drawn:
        raise ValidationError("expected stored test scores for the ROC; received: none")
    theory = detection_deflection(results)
    grid = np.logspace(math.log10(0.5 / max(negatives, 1)), 0.0, 400)
    if theory is not None:
        d, phase = theory
        pd_theory = np_pd_unknown_phase(grid, d) if phase == "random" else np_pd_known_signal(grid, d)
        name = ("energy detector, random phase: Q1(d, √(−2 ln Pfa))" if phase == "random"
                else "matched filter, known phase: Q(Q⁻¹(Pfa) − d)")
        for ax in (lin, log):
            ax.plot(np.r_[0.0, grid] if ax is lin else grid, np.r_[0.0, pd_theory] if ax is lin else pd_theory,
                    color="black", ls="--", lw=1.3, zorder=6, gid="np-theory",
                    label=f"theory, {name}, d = {d:.2f}" if ax is lin else None)
    else:
        notes.append("theoretical curve not drawn: the signal's snr_db, frequency_hz, segment and sample rate are "
                     "not recorded")
    lin.plot([0, 1], [0, 1], color="0.6", lw=0.8, label="chance")
    for ax in (lin, log):
        ax.axvline(pfa, color="0.4", ls=":", lw=1.0)
        ax.set_ylabel("detection probability Pd")
        ax.set_ylim(-0.02, 1.02)
        ax.grid(True, alpha=0.3)
    lin.set_xlabel("false-alarm probability Pfa")
    lin.set_xlim(-0.02, 1.02)
    log.set_xscale("log")
    log.set_xlabel("false-alarm probability Pfa (log)")
    lin.set_title(f"ROC on {labels.size} test segments ({negatives} without the tone)", fontsize="medium")
    log.set_title(f"low false-alarm end (dotted: Pfa = {pfa:g})", fontsize="medium")
    from matplotlib.lines import Line2D

    handles, names = lin.get_legend_handles_labels()
    for row in results.failed:
        handles.append(Line2D([], [], linestyle="none", marker="x", color=_FAILED_COLOR))
        names.append(_failed_short(row))
    fig.legend(handles, names, loc="outside lower center", ncols=2, fontsize="small")
    _note(fig, notes, results.failed)
    return fig


def _moving_power_db(x: np.ndarray, width: int) -> np.ndarray:
    """``10·log10`` of the ``width``-sample moving average of ``x²`` ('valid' part)."""
    sq = np.square(np.asarray(x, dtype=np.float64))
    width = max(1, min(width, sq.size))
    smooth = np.convolve(sq, np.ones(width) / width, mode="valid")
    return 10.0 * np.log10(np.maximum(smooth, 1e-300))


@_figure_function
def plot_canceller(results: Results, *, seed: int | None = None, width: int = 100) -> Figure:
    """The canceller's learning curve: output power against sample, per method, in dB.

    The canceller output is :math:`e[k] = d[k] - \\hat d[k]` (primary minus the method's prediction of it
    from the reference); it tends to the wanted signal as the interference is cancelled.

    Parameters
    ----------
    results : Results
        A ``compare`` or ``run`` result of the ``cancel`` task (test targets: the primary :math:`d`).
    seed : int, optional
        Seed whose prediction is used; default the first stored seed.
    width : int, default 100
        Moving-average width (samples) of the squared output on the test segment.

    Returns
    -------
    matplotlib.figure.Figure
        Left, against the sample index of the primary: while training, the adaptive filters' a-priori
        output power per block from ``describe["convergence"]`` (``sample``, ``error_db``; the curve from
        sample 0), then on the test segment :math:`10\\log_{10}` of the ``width``-sample moving mean of
        :math:`e^2` for every method, with the primary's own power (no cancellation) in grey; the
        model-limit row (the true noise path) leaves only the wanted signal: its curve is the floor.
        Right: the interference left in each output over the interference at the primary, both as moving
        means, in dB — minus the SNR improvement, over time. With the wanted signal stored
        (``results.test["clean_at_target"]``, :math:`s`): :math:`e - s` over :math:`d - s`; else, when the
        model-limit row is stored, :math:`\\hat d_{limit} - \\hat d` (the limit's prediction *is* the
        interference) over :math:`d - \\hat d_{limit}`.

    Raises
    ------
    ValidationError
        No test targets, or no stored prediction.
    """
    index, targets, _ = _test_arrays(results)
    d = _first_column(np.asarray(targets, dtype=np.float64))
    colors = _colors(results)
    outputs: dict[str, np.ndarray] = {}
    rows = _ok_rows(results)
    for row in rows:
        pred = _prediction(results, row, seed)
        if pred is not None and pred.shape[0] == d.shape[0] and np.all(np.isfinite(pred)):
            outputs[row.method] = d - _first_column(pred)
    if not outputs:
        raise ValidationError("expected stored test predictions for the canceller's learning curve; received: none")
    limit = next((r for r in rows if r.role == "limit" and r.method in outputs), None)
    clean = results.test.get("clean_at_target")
    clean = None if clean is None or np.shape(clean)[0] != d.shape[0] else _first_column(np.asarray(clean, float))
    second = clean is not None or limit is not None
    fig, axes = _new_figure(1, 2 if second else 1, figsize=(11.0 if second else 8.0, 4.8))
    ax = axes[0, 0]
    width = max(1, min(int(width), d.size))
    k = np.asarray(index, dtype=np.float64)[width - 1:]
    window = int((results.config.get("task_options") or {}).get("window") or 1)
    trained = False
    for row in rows:
        conv = row.describe.get("convergence")
        if isinstance(conv, dict) and conv.get("error_db"):
            err_db = np.asarray(conv["error_db"], dtype=np.float64)
            rows_seen = np.asarray(conv.get("sample", np.arange(1, err_db.size + 1)), dtype=np.float64)
            ax.plot(rows_seen[: err_db.size] + window - 1, err_db, color=colors[row.method], lw=1.0, marker=".",
                    ms=4, alpha=0.9)
            trained = True
    ax.plot(k, _moving_power_db(d, width), color="0.6", lw=1.0, label="primary input (no cancellation)")
    for method, e in outputs.items():
        row = next(r for r in rows if r.method == method)
        ax.plot(k, _moving_power_db(e, width), color=colors[method], lw=1.8 if row.role == "limit" else 1.1,
                ls=":" if row.is_reference else "-", zorder=5 if row.role == "limit" else 2,
                label=method + (" (reference)" if row.is_reference else ""))
    ax.axvline(float(index[0]), color="0.3", ls="--", lw=0.9)
    ax.text(float(index[0]), 1.0, " test", transform=ax.get_xaxis_transform(), va="top", ha="left",
            fontsize="small", color="0.3")
    ax.set_xlabel("sample of the primary" + (" (training: block means; test: " if trained else " (test: ")
                  + f"{width}-sample moving mean)")
    ax.set_ylabel("output power e² (dB)")
    ax.set_title("canceller output e = d − d̂: learning curve", fontsize="medium")
    ax.grid(True, alpha=0.3)
    _add_failed_legend(ax, results.failed, **_BELOW)
    if second:
        rax = axes[0, 1]
        if clean is not None:  # the wanted signal is known: e − s is everything the canceller left in
            p_int = _moving_power_db(d - clean, width)
            left = {m: e - clean for m, e in outputs.items()}
            title = "residual interference e − s over the interference at the primary d − s"
        else:
            assert limit is not None
            p_int = _moving_power_db(d - outputs[limit.method], width)  # the limit's prediction: the interference
            left = {m: outputs[limit.method] - e for m, e in outputs.items() if m != limit.method}
            title = f"residual interference (the {limit.method} row's prediction is the interference)"
        for method, residual in left.items():
            row = next(r for r in rows if r.method == method)
            rax.plot(k, _moving_power_db(residual, width) - p_int, color=colors[method],
                     lw=1.8 if row.role == "limit" else 1.1, ls=":" if row.is_reference else "-", label=method)
        rax.set_xlabel(f"sample of the primary (test: {width}-sample moving means)")
        rax.set_ylabel("interference left / interference in (dB)")
        rax.set_title(title, fontsize="medium", wrap=True)
        rax.grid(True, alpha=0.3)
    prequential = results.protocol.get("mode") == "prequential"
    _note(fig, ["prequential protocol: the online methods keep adapting on the test rows" if prequential
                else "offline protocol: weights frozen after training"], results.failed)
    return fig

# -- registry and saving -------------------------------------------------------------------------
#: ``--what`` name → figure function
FIGURES: dict[str, Callable[..., Figure]] = {
    "overlay": plot_overlay,
    "errors": plot_errors,
    "leaderboard": plot_leaderboard,
    "cost": plot_cost,
    "learning": plot_learning,
    "response": plot_response,
    "residual": plot_residual,
    "sweep": plot_sweep,
    "spectrum": plot_spectrum,
    "waterfall": plot_waterfall,
    "roc": plot_roc,
    "canceller": plot_canceller,
}


def available_figures(results: Results) -> list[str]:
    """The figure names that apply to ``results``, in report order.

    Examples
    --------
    A sweep keeps no test targets, so it gets ``leaderboard``, ``cost``, ``learning`` (when it has
    neural or adaptive rows) and ``sweep`` (``waterfall`` when the main metric is an error rate, ``ber`` or
    ``ser``). A detection run (main metric ``roc_auc``) gets ``leaderboard``, ``cost`` and ``roc``; a
    cancellation run (``snr_improvement_db``) adds ``canceller`` to the figures of a compare run.
    """
    has_test = "targets" in results.test and "target_index" in results.test
    names = ["leaderboard", "cost"]
    spectrum = results.task == "spectrum"
    main = results.main_metric
    if main == "roc_auc":  # detection: targets are labels and predictions scores, no waveform to overlay
        return [*names, "roc"] if has_test else names
    if has_test and not spectrum:
        names = ["overlay", *names, "errors"]
        if np.ndim(results.test["targets"]) == 1 and results.predictions:
            names.append("residual")
    ok = _ok_rows(results)
    if any(r.family == "neural" or r.name in ADAPTIVE for r in results.rows):
        names.append("learning")
    one_channel = has_test and np.ndim(results.test["targets"]) == 1 and "observed" in results.test
    if not spectrum and one_channel and any(
            r.is_reference or r.name in ("wiener", "cnn", "fir-bank") or "taps" in r.describe for r in ok):
        names.append("response")
    if any(r.grid for r in results.rows):
        names.append("waterfall" if main in ERROR_RATES else "sweep")
    if spectrum and has_test:
        names.append("spectrum")
    if main == "snr_improvement_db" and has_test and results.predictions:
        names.append("canceller")
    return names


def make_figure(results: Results, what: str, **options: Any) -> Figure:
    """The figure ``what`` (a key of :data:`FIGURES`) of ``results``.

    Raises
    ------
    ValidationError
        ``what`` is not a figure name, or the figure does not apply to this run.
    MissingDependencyError
        matplotlib is not installed.
    """
    require_matplotlib()
    if what not in FIGURES:
        raise ValidationError(f"expected a figure among {', '.join(FIGURES)}; received: what={what!r}")
    return FIGURES[what](results, **options)


def save_figure(fig: Figure, path: str | os.PathLike[str], *, dpi: int = 150) -> Path:
    """Save ``fig`` atomically (temp file beside ``path``, then ``os.replace``); format from the suffix.

    Raises
    ------
    ValidationError
        The suffix is not ``.png``, ``.svg`` or ``.pdf``.
    WriteError
        The file cannot be written (the previous file, if any, is untouched).
    """
    target = Path(path)
    fmt = target.suffix.lower().lstrip(".")
    if fmt not in ("png", "svg", "pdf"):
        raise ValidationError(f"expected an output ending in .png, .svg or .pdf; received: {target.name}")
    from sigbench.atomic import atomic_open
    from sigbench.outputs import is_hdf5_file, writable_target

    if is_hdf5_file(target):
        raise ValidationError(f"refusing to write a figure over {target}: it is an HDF5 file; choose another name")
    target = writable_target(target)
    with atomic_open(target) as fh:
        fig.savefig(fh, format=fmt, dpi=dpi, metadata=_metadata(fmt), bbox_inches="tight", pad_inches=0.05)
    return target


def _metadata(fmt: str) -> dict[str, Any]:
    """Reproducible files: no creation date, a fixed software tag."""
    if fmt == "png":
        return {"Software": "sigbench"}
    if fmt == "svg":
        return {"Date": None}
    return {"CreationDate": None}
