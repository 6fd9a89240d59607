"""Figures drawn from stored runs: each function returns a Figure with the expected artists."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from scipy.signal import freqz, lfilter

from sigbench import plots
from sigbench.errors import ValidationError
from sigbench.results import Results, load_results

from .conftest import FAILED, NEURAL


def _texts(fig) -> str:
    """Every text of the figure: titles, labels, tick labels, legend entries, notes."""
    found = [t.get_text() for t in fig.findobj(lambda a: hasattr(a, "get_text"))]
    return "\n".join(found)


def _line_labels(ax) -> list[str]:
    return [ln.get_label() for ln in ax.get_lines()]


def _ok_methods(res: Results) -> list[str]:
    return [r.method for r in res.rows if r.status == "ok"]


def test_overlay_draws_target_observation_and_every_prediction(results):
    fig = plots.plot_overlay(results, length=80)
    ax = fig.axes[0]
    labels = _line_labels(ax)
    assert "noisy observation" in labels
    assert any(lbl.startswith("target") for lbl in labels)
    for method in _ok_methods(results):
        assert any(lbl.split(" (")[0] == method for lbl in labels), method
    # the zoom: 80 test rows, the target line equals the stored targets there
    target_line = next(ln for ln in ax.get_lines() if ln.get_label().startswith("target"))
    y = np.asarray(target_line.get_ydata())
    assert y.size == 80
    rows = results.test["targets"].shape[0]
    start = (rows - 80) // 2
    np.testing.assert_allclose(y, results.test["targets"][start:start + 80])
    # x is time in seconds: target index / sample rate
    np.testing.assert_allclose(target_line.get_xdata(),
                               results.test["target_index"][start:start + 80] / results.signal["sample_rate_hz"])


def test_overlay_marks_the_failed_method(results):
    fig = plots.plot_overlay(results)
    legend = fig.axes[0].get_legend()
    legend_texts = [t.get_text() for t in legend.get_texts()]
    assert any(t.startswith(f"{FAILED} — failed (DivergedError)") for t in legend_texts)
    assert f"{FAILED} — failed: DivergedError" in _texts(fig)  # the reason, in the note under the axes


def test_overlay_needs_test_targets(sweep_run):
    with pytest.raises(ValidationError, match="test targets"):
        plots.plot_overlay(load_results(sweep_run))


def test_errors_histogram_per_method_and_failed_tick(results):
    fig = plots.plot_errors(results)
    hist_ax, box_ax = fig.axes[0], fig.axes[1]
    ok = _ok_methods(results)
    # one step histogram (a Polygon patch) per method with predictions
    assert len(hist_ax.patches) == len(ok)
    ticks = [t.get_text() for t in box_ax.get_yticklabels()]
    assert ticks == [*ok, f"{FAILED} (failed)"]
    failed_tick = box_ax.get_yticklabels()[-1]
    assert failed_tick.get_color() == plots._FAILED_COLOR


def test_leaderboard_bars_intervals_and_bound(results):
    fig = plots.plot_leaderboard(results)
    ax = fig.axes[0]
    bars = [p for p in ax.patches if p.get_width() != 0]
    ok = [r for r in results.rows if r.status == "ok"]
    assert len(bars) == len(ok)
    # bar lengths are the stored metric values, in row order (top to bottom)
    widths = sorted((b.get_y(), b.get_width()) for b in bars)[::-1]
    np.testing.assert_allclose([w for _, w in widths], [r.metrics["snr_db"] for r in ok])
    # the bound is a vertical line at the stored bound value
    vlines = [ln for ln in ax.get_lines() if "(reference)" in ln.get_label()]
    assert len(vlines) == 1
    assert vlines[0].get_xdata()[0] == pytest.approx(results.bound["snr_db"])
    # the neural row has 2 seeds: an error bar of its 95 % interval
    assert ax.containers and any(getattr(c, "has_xerr", False) for c in ax.containers)
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels[-1] == FAILED
    assert ax.get_yticklabels()[-1].get_color() == plots._FAILED_COLOR
    assert "failed: DivergedError" in _texts(fig)


def test_leaderboard_draws_an_infinite_value_to_the_edge(spectrum_run):
    res = load_results(spectrum_run)
    fig = plots.plot_leaderboard(res)
    assert "∞ (exact)" in _texts(fig)


@pytest.mark.parametrize(("costs", "values", "higher", "front"), [
    ([1, 2, 3], [5, 4, 6], True, [0, 2]),        # 2 is dominated by 0 (cheaper and better)
    ([0, 10, 100], [1, 2, 3], True, [0, 1, 2]),  # each step up in cost buys accuracy
    ([1, 2, 3], [3, 2, 1], False, [0, 1, 2]),    # lower is better: still a trade-off
    ([1, 1, 5], [2, 3, 1], True, [1]),           # equal cost: the better one only
])
def test_pareto_front(costs, values, higher, front):
    assert plots.pareto_front(costs, values, higher_is_better=higher) == front


def test_cost_marks_the_pareto_front(results):
    fig = plots.plot_cost(results)
    ax = fig.axes[0]
    front_line = next(ln for ln in ax.get_lines() if ln.get_label() == "Pareto front")
    ok = [r for r in results.rows if r.status == "ok"]
    xs = [float(r.cost["macs_per_sample"]) for r in ok]
    ys = [float(r.metrics["snr_db"]) for r in ok]
    expected = plots.pareto_front(xs, ys)
    np.testing.assert_allclose(front_line.get_xdata(), [xs[i] for i in expected])
    np.testing.assert_allclose(front_line.get_ydata(), [ys[i] for i in expected])
    # the naive predictor (0 MACs) is always on the front; a symlog axis shows it
    assert "naive" in [ok[i].method for i in expected]
    assert ax.get_xscale() == "symlog"
    assert any(t.get_text().startswith(f"{FAILED} — failed") for t in fig.axes[1].get_legend().get_texts())


def _without(results, key):
    """A copy of the run whose rows lack ``describe[key]`` (to exercise the fallback path)."""
    import copy

    res = copy.deepcopy(results)
    for r in res.rows:
        r.describe.pop(key, None)
    return res


def test_learning_draws_stored_losses_and_adaptive_error(results):
    results = _without(results, "convergence")
    fig = plots.plot_learning(results)
    loss_ax, conv_ax = fig.axes[0], fig.axes[1]
    train = next(ln for ln in loss_ax.get_lines() if ln.get_label() == f"{NEURAL} train")
    val = next(ln for ln in loss_ax.get_lines() if ln.get_label() == f"{NEURAL} validation")
    np.testing.assert_allclose(train.get_ydata(), [0.5, 0.2])
    np.testing.assert_allclose(val.get_ydata(), [0.4, 0.3])
    assert loss_ax.get_yscale() == "log"
    assert conv_ax.get_xlabel() == "test row"  # one x axis per panel
    lms = next(ln for ln in conv_ax.get_lines() if ln.get_label() == "lms")
    # running error of the stored predictions, in dB relative to the target power
    err = results.predictions[("lms", 0)] - results.test["targets"]
    expected = 10 * np.log10(np.convolve(err**2, np.ones(50) / 50, "valid") / np.mean(results.test["targets"] ** 2))
    np.testing.assert_allclose(lms.get_ydata(), expected)
    assert any(t.get_text().startswith(f"{FAILED} — failed") for t in conv_ax.get_legend().get_texts())


def test_learning_uses_a_stored_convergence_record(results):
    row = results.row("lms")
    row.describe["convergence"] = {"sample": [0, 100, 200], "error_db": [0.0, -10.0, -15.0],
                                   "weights": [[0.0, 0.0], [0.3, -0.1], [0.5, -0.2]]}
    fig = plots.plot_learning(results)
    assert len(fig.axes) == 3  # epochs, training samples, weights: never a test-row curve on a training axis
    assert [ax.get_xlabel() for ax in fig.axes] == ["epoch", "training sample", "training sample"]
    line = next(ln for ln in fig.axes[1].get_lines() if ln.get_label() == "lms")
    np.testing.assert_allclose(line.get_ydata(), [0.0, -10.0, -15.0])
    assert len(fig.axes[2].get_lines()) == 2 + 1  # two weights plus the legend handle


def test_estimated_response_recovers_a_known_fir():
    # physics: |S_xy/S_xx| of a linear FIR's input and output is the FIR's magnitude response
    rng = np.random.default_rng(3)
    taps = np.array([0.25, 0.5, 0.25])  # a lowpass: 0 dB at DC, a zero at Nyquist
    x = rng.standard_normal(8192)
    y = lfilter(taps, 1.0, x)
    freqs = np.linspace(0.0, 0.4, 50)  # away from the zero at 0.5 (−∞ dB)
    est = plots._estimated_response_db(x, y, 1.0, freqs)
    _, h = freqz(taps, worN=freqs, fs=1.0)
    np.testing.assert_allclose(est, 20 * np.log10(np.abs(h)), atol=0.5)


def test_response_draws_bands_bound_and_input_spectrum(results):
    results = _without(results, "taps")
    fig = plots.plot_response(results)
    top, psd = fig.axes[0], fig.axes[1]
    bank = results.row("fir-bank").describe
    bands = len(bank["band_edges_hz"]) + 1
    bank_lines = [ln for ln in top.get_lines() if ln.get_alpha() in (1.0, 0.35) and ln.get_color() != "black"
                  and "wiener" not in str(ln.get_label())]
    assert len(bank_lines) == bands
    wiener = next(ln for ln in top.get_lines() if str(ln.get_label()).startswith("wiener"))
    assert "estimated" in wiener.get_label()
    # the Wiener predictor passes the sines (in band near 0.16, 0.25 and 0.75 Hz): about 0 dB there
    f = np.asarray(wiener.get_xdata())
    mag = np.asarray(wiener.get_ydata())
    near = np.abs(f - 0.25) < 0.03
    assert np.all(np.abs(mag[near]) < 3.0)
    assert {"noisy input (test)", "target (clean)"} <= set(_line_labels(psd))
    np.testing.assert_allclose(top.get_xlim()[1], results.signal["sample_rate_hz"] / 2, rtol=0.06)


def test_response_uses_stored_taps_and_says_what_is_missing(results):
    results.row("wiener").describe["taps"] = [0.5, 0.5]
    cnn = next(r for r in results.rows if r.method == NEURAL)
    cnn.name = "cnn"
    cnn.describe["name"] = "cnn"
    fig = plots.plot_response(results)
    wiener = next(ln for ln in fig.axes[0].get_lines() if str(ln.get_label()).startswith("wiener"))
    assert wiener.get_label() == "wiener |H(f)| of its taps"
    assert wiener.get_ydata()[0] == pytest.approx(0.0, abs=1e-9)  # (0.5 + 0.5) at DC: 0 dB
    assert "describe['kernels']" in _texts(fig)
    cnn.describe["kernels"] = [[[1.0, 0.0, -1.0], [1.0, 1.0, 1.0]], [[1.0] * 5]]
    fig = plots.plot_response(results)
    color = plots._colors(results)[NEURAL]
    lines = [ln for ln in fig.axes[0].get_lines() if ln.get_color() == color]
    kernels = [ln for ln in lines if "envelope" not in str(ln.get_label())]
    envelope = next(ln for ln in lines if "envelope" in str(ln.get_label()))
    assert len(kernels) == 3 and kernels[0].get_label() == f"{NEURAL}: 3 of 3 learned kernels"
    # one dB scale for all kernels: relative to the loudest peak (the 5-tap all-ones kernel at DC, 5×),
    # so the 3-tap all-ones kernel peaks 20·log10(3/5) dB below it; the envelope is their maximum
    peaks = sorted(float(np.max(ln.get_ydata())) for ln in kernels)
    assert peaks[-1] == pytest.approx(0.0) and peaks[-2] == pytest.approx(20 * np.log10(3 / 5), abs=1e-6)
    np.testing.assert_allclose(envelope.get_ydata(), np.max([ln.get_ydata() for ln in kernels], axis=0))
    assert "describe['kernels']" not in _texts(fig)


def test_sweep_one_line_per_method_over_the_grid(sweep_run):
    res = load_results(sweep_run)
    fig = plots.plot_sweep(res)
    ax = fig.axes[0]
    for method in ("wiener", "lms", "naive"):
        label = method + (" (repeats the last sample)" if method == "naive" else "")
        line = next(c for c in ax.containers if c.get_label() == label).lines[0]  # errorbar: data line
        np.testing.assert_allclose(np.asarray(line.get_xdata(), float), [0, 10, 20])
        expected = [r.metrics["snr_db"] for r in sorted((r for r in res.rows if r.method == method),
                                                         key=lambda r: r.grid["snr_db"])]
        np.testing.assert_allclose(np.asarray(line.get_ydata(), float), expected)
    assert ax.get_xlabel() == "grid parameter snr_db (input, dB)"
    assert ax.get_ylabel() == "SNR dB (snr_db) of the predictions"  # the two axes never say the same
    with pytest.raises(ValidationError, match="grid key"):
        plots.plot_sweep(res, parameter="window")


def test_sweep_marks_a_failed_cell(sweep_run):
    res = load_results(sweep_run)
    cell = res.rows[-1]
    cell.status, cell.error = "failed", "ProcessorError: boom"
    fig = plots.plot_sweep(res)
    label = f"{cell.method} @ snr_db={cell.grid['snr_db']} — failed (ProcessorError)"
    assert label in [t.get_text() for t in fig.axes[0].get_legend().get_texts()]


def test_spectrum_exact_dft_and_per_bin_error(spectrum_run):
    res = load_results(spectrum_run)
    fig = plots.plot_spectrum(res, frame=2)
    ax, err_ax = fig.axes[0], fig.axes[1]
    exact = next(ln for ln in ax.get_lines() if ln.get_label() == "exact DFT (target)")
    targets = res.test["targets"]
    bins = targets.shape[1] // 2
    np.testing.assert_allclose(exact.get_ydata(), np.hypot(targets[2, :bins], targets[2, bins:]))
    np.testing.assert_allclose(exact.get_xdata(), np.arange(bins) * res.signal["sample_rate_hz"] / 16)
    fft = next(ln for ln in err_ax.get_lines() if ln.get_label().startswith("fft"))
    assert "exact" in fft.get_label()
    with pytest.raises(ValidationError, match="frame"):
        plots.plot_spectrum(res, frame=10_000)


def test_spectrum_refuses_other_tasks(results):
    with pytest.raises(ValidationError, match="spectrum-task"):
        plots.plot_spectrum(results)


def test_available_figures_by_kind(results, sweep_run, spectrum_run):
    assert plots.available_figures(results) == ["overlay", "leaderboard", "cost", "errors", "residual", "learning",
                                                "response"]
    assert plots.available_figures(load_results(sweep_run)) == ["leaderboard", "cost", "learning", "sweep"]
    assert plots.available_figures(load_results(spectrum_run)) == ["leaderboard", "cost", "spectrum"]


def test_make_figure_rejects_unknown_names(results):
    with pytest.raises(ValidationError, match="received: what='nope'"):
        plots.make_figure(results, "nope")


def test_save_figure_atomic_and_typed(results, tmp_path: Path):
    fig = plots.plot_leaderboard(results)
    out = plots.save_figure(fig, tmp_path / "lb.png")
    assert out.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    umask = os.umask(0)
    os.umask(umask)
    assert out.stat().st_mode & 0o777 == 0o666 & ~umask
    assert plots.save_figure(fig, tmp_path / "lb.svg").read_text().lstrip().startswith("<?xml")
    with pytest.raises(ValidationError, match=r"received: lb\.jpg"):
        plots.save_figure(fig, tmp_path / "lb.jpg")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["lb.png", "lb.svg"]  # no temp file left


def test_importing_sigbench_plots_does_not_import_matplotlib():
    import subprocess
    import sys

    code = "import sys, sigbench.plots, sigbench.report; print('matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_real_runs_store_the_lms_learning_curve_and_wiener_taps(results):
    conv = results.row("lms").describe["convergence"]
    assert len(conv["sample"]) == len(conv["error_db"]) == len(conv["weights"]) > 10
    # physics: LMS started from zero weights, so the late training error is below the early one
    assert conv["error_db"][-1] < conv["error_db"][0]
    assert 0 < conv["convergence_samples"] <= conv["sample"][-1]
    assert results.row("lms").metrics["convergence_samples"] == conv["convergence_samples"]
    taps = results.row("wiener").describe["taps"]
    fig = plots.plot_response(results)
    wiener = next(ln for ln in fig.axes[0].get_lines() if str(ln.get_label()).startswith("wiener"))
    assert "of its taps" in wiener.get_label() and len(taps) == results.row("wiener").describe["numtaps"]
