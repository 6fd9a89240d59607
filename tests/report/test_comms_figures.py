"""What a user sees of the equalise, detect and cancel tasks: the waterfall, the ROC, the canceller's learning
curve, and error rates printed readably in the leaderboard and the report.

Small real runs (DSP methods only) are stored and read back, so every figure is drawn from a result file
as ``sigbench report`` draws it.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

import sigbench as sb
from sigbench import plots
from sigbench.leaderboard import build_leaderboard, leaderboard_text, main_metric_note
from sigbench.metrics_comms import auc_value, np_pd_known_signal, np_pd_unknown_phase, pam_ser_awgn, roc_curve
from sigbench.numfmt import eng, metric_cell, metric_value, rate
from sigbench.report import render_html, render_markdown, verdicts
from sigbench.results import MethodRow, Results, load_results


def _texts(fig) -> str:
    return "\n".join(t.get_text() for t in fig.findobj(lambda a: hasattr(a, "get_text")))


# -- stored runs ---------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def equalise_sweep(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Eb/N0 sweep on the Proakis-B channel: at 14 dB the MLSE rows make no error in the test bits."""
    out = tmp_path_factory.mktemp("eq") / "sweep.h5"
    sb.sweep("channel", {"ebn0_db": [2, 6, 14]}, "equalise", ["lms", "mlse"], n=4000, window=12, output=out,
             train_samples=1500)
    return out


@pytest.fixture(scope="module")
def detect_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("det")
    signal = folder / "tone.h5"
    sb.save_signal(sb.generate("tone-detect", n=64 * 600, seed=3, snr_db=-10.0), signal)
    out = folder / "detect.h5"
    sb.compare(signal, "detect", ["energy-detector", "matched-filter"], window=64, train_samples=64 * 100,
               output=out)
    return out


@pytest.fixture(scope="module")
def cancel_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("anc")
    signal = folder / "anc.h5"
    sb.save_signal(sb.generate("anc", n=6000, seed=1, snr_db=-10.0), signal)
    out = folder / "cancel.h5"
    sb.compare(signal, "cancel", ["lms", "nlms"], window=16, output=out)
    return out


# -- number formats ------------------------------------------------------------------------------
def test_rates_print_in_scientific_form_and_zero_with_its_bound():
    assert metric_value("ber", 0.1729957) == "1.73e-01"          # not "173 m"
    assert metric_value("ser_ci_high", 4.4e-4) == "4.40e-04"
    assert rate(0.0) == "0"
    # no error in N bits: the upper bound is said with the zero
    assert metric_cell("ber", {"ber": 0.0, "ber_ci_high": 3.84e-4}) == "0 (< 3.8e-04)"
    assert metric_cell("ber", {"ber": 0.02, "ber_ci": 0.001}) == "2.00e-02 ± 1.00e-03"
    # probabilities as plain decimals
    assert metric_value("roc_auc", 0.97712) == "0.977"
    assert metric_value("pd_at_pfa", 0.5) == "0.500"
    # the prediction metrics keep their formats
    assert metric_value("snr_db", 19.756) == "19.76"
    assert metric_value("mse", 0.5327) == eng(0.5327) == "533 m"
    assert metric_cell("snr_db", {"snr_db": 20.0, "snr_db_ci": 0.44}) == "20.00 ± 0.44"


def test_the_main_metric_note_comes_from_the_metric_registry(host):
    note = main_metric_note("ber")
    assert note.startswith("BER (ber): bit error rate")
    assert "Wilson" in note
    assert main_metric_note("snr_db").startswith("SNR dB: snr_db, mean ± 95 %")  # unchanged (README demo)


def test_leaderboard_prints_rates_readably(equalise_sweep):
    res = load_results(equalise_sweep)
    text = leaderboard_text(res, 160)
    zero = [r for r in res.rows if r.status == "ok" and r.metrics.get("ber") == 0.0]
    assert zero, "expected an error-free row at 14 dB (MLSE)"
    assert f"0 (< {zero[0].metrics['ber_ci_high']:.1e})" in text
    nonzero = next(r for r in res.rows if r.status == "ok" and float(r.metrics["ber"]) > 0)
    assert f"{float(nonzero.metrics['ber']):.2e}" in text
    assert " m " not in text.split("\n─")[0] and "BER (ber): bit error rate" in text
    wide = build_leaderboard(res, 80, wide=True)
    assert any("Wilson" in str(c.header) for c in wide.table.columns)


def test_report_tables_print_rates_and_detection_probabilities(equalise_sweep, detect_run):
    html = render_html(load_results(equalise_sweep))
    assert "BER (95 % CI)" in html and "BER 95 % (Wilson)" in html and "0 (&lt; " in html
    assert 'id="fig-waterfall"' in html and 'id="fig-sweep"' not in html
    text, images = render_markdown(load_results(detect_run), "img")
    assert "| Pd@Pfa |" in text and r"AUC \(roc\_auc\): area under the ROC curve" in text
    assert r"Pd@Pfa \(pd\_at\_pfa\): detection probability" in text
    assert "roc.png" in images and "overlay.png" not in images  # labels and scores: no waveform overlay


# -- waterfall -----------------------------------------------------------------------------------
def test_waterfall_is_a_log_axis_with_wilson_bars_and_the_awgn_bound(equalise_sweep):
    res = load_results(equalise_sweep)
    fig = plots.plot_waterfall(res)
    ax = fig.axes[0]
    assert ax.get_yscale() == "log"
    assert ax.get_xlabel() == "Eb/N0 (dB)" and "bit error rate" in ax.get_ylabel()
    theory = next(ln for ln in ax.get_lines() if ln.get_label().startswith("AWGN bound"))
    x, y = theory.get_data()
    np.testing.assert_allclose(y, pam_ser_awgn(x, 2), rtol=1e-12)   # BPSK: Q(√(2Eb/N0))
    # every method at every grid point is drawn: a point with errors at its rate, with its Wilson interval
    lms = [r for r in res.rows if r.method == "lms"]
    bars = next(c for c in ax.containers if c.get_label() == "lms")
    xs, _ = bars.lines[0].get_data()
    assert sorted(xs) == sorted(float(r.grid["ebn0_db"]) for r in lms if float(r.metrics["ber"]) > 0)
    seg = bars.lines[2][0].get_segments()
    by_x = {float(r.grid["ebn0_db"]): r for r in lms}
    for s in seg:
        r = by_x[float(s[0][0])]
        assert s[:, 1].min() == pytest.approx(float(r.metrics["ber_ci_low"]))
        assert s[:, 1].max() == pytest.approx(float(r.metrics["ber_ci_high"]))


def test_waterfall_draws_a_zero_error_point_as_an_upper_bound_marker(equalise_sweep):
    res = load_results(equalise_sweep)
    fig = plots.plot_waterfall(res)
    ax = fig.axes[0]
    zero = [r for r in res.rows if r.status == "ok" and r.metrics.get("ber") == 0.0]
    assert zero
    markers = [ln for ln in ax.get_lines() if ln.get_gid() == "no-error-bound"]
    drawn = sorted((float(x), float(y)) for ln in markers for x, y in zip(*ln.get_data(), strict=True))
    expected = sorted((float(r.grid["ebn0_db"]), float(r.metrics["ber_ci_high"])) for r in zero)
    np.testing.assert_allclose(np.array(drawn), np.array(expected), rtol=1e-12)
    assert all(ln.get_marker() == "v" for ln in markers)
    # the bound is inside the axes (log 0 would be −∞: the point would vanish)
    low, high = ax.get_ylim()
    assert all(low < y < high for _, y in drawn)
    assert "no error: 95 % upper bound (Wilson)" in _texts(fig)


def test_waterfall_is_the_sweep_figure_of_error_rate_runs(equalise_sweep, host):
    res = load_results(equalise_sweep)
    names = plots.available_figures(res)
    assert "waterfall" in names and "sweep" not in names


def test_waterfall_refuses_runs_without_error_rates(sweep_run):
    with pytest.raises(sb.ValidationError, match="error rate"):
        plots.plot_waterfall(load_results(sweep_run))


# -- ROC -----------------------------------------------------------------------------------------
def test_roc_curves_from_stored_scores_and_the_neyman_pearson_curve(detect_run):
    res = load_results(detect_run)
    fig = plots.plot_roc(res)
    lin = fig.axes[0]
    labels = res.test["targets"]
    for row in res.rows:
        scores = res.predictions[(row.method, row.seeds[0])]
        line = next(ln for ln in lin.get_lines() if ln.get_label().startswith(f"{row.method}"))
        pfa, pd, _ = roc_curve(labels, scores)
        np.testing.assert_allclose(line.get_data()[0], pfa)
        np.testing.assert_allclose(line.get_data()[1], pd)
        assert f"AUC {auc_value(labels, scores):.3f}" in line.get_label()
    # the theory curve is the matched filter's, for d = √E/σ from the source's recorded parameters
    sig = sb.generate("tone-detect", n=64 * 600, seed=3, snr_db=-10.0)
    d_meta = float(sig.metadata["deflection"])
    d, phase = plots.detection_deflection(res)
    assert phase == "known" and d == pytest.approx(d_meta, rel=1e-12)
    theory = next(ln for ln in lin.get_lines() if ln.get_gid() == "np-theory")
    x, y = theory.get_data()
    np.testing.assert_allclose(y[1:], np_pd_known_signal(x[1:], d_meta), rtol=1e-12)
    assert lin.get_xlabel() == "false-alarm probability Pfa" and lin.get_ylabel() == "detection probability Pd"
    assert fig.axes[1].get_xscale() == "log"


def test_roc_of_a_random_phase_tone_uses_marcum_q(detect_run):
    res = load_results(detect_run)
    res.signal = {**res.signal, "params": {**res.signal["params"], "phase": "random"}}
    fig = plots.plot_roc(res)
    theory = next(ln for ln in fig.axes[0].get_lines() if ln.get_gid() == "np-theory")
    x, y = theory.get_data()
    d, _ = plots.detection_deflection(res)
    np.testing.assert_allclose(y[1:], np_pd_unknown_phase(x[1:], d), rtol=1e-12)
    assert "random phase" in theory.get_label()


def test_roc_without_recorded_parameters_says_why_no_theory(detect_run):
    res = load_results(detect_run)
    res.signal = {**res.signal, "params": {}}
    fig = plots.plot_roc(res)
    assert not [ln for ln in fig.axes[0].get_lines() if ln.get_gid() == "np-theory"]
    assert "theoretical curve not drawn" in _texts(fig)


def test_detection_runs_get_the_roc_and_no_waveform_figures(detect_run):
    names = plots.available_figures(load_results(detect_run))
    assert "roc" in names
    assert not {"overlay", "errors", "residual", "response"} & set(names)


# -- canceller -----------------------------------------------------------------------------------
def test_canceller_learning_curve_is_the_smoothed_output_power(cancel_run):
    res: Results = load_results(cancel_run)
    width = 50
    fig = plots.plot_canceller(res, width=width)
    ax = fig.axes[0]
    d = res.test["targets"]
    for method in ("lms", "nlms"):
        e = d - res.predictions[(method, 0)]
        line = next(ln for ln in ax.get_lines() if ln.get_label() == method)
        expected = 10 * np.log10(np.convolve(e**2, np.ones(width) / width, mode="valid"))
        np.testing.assert_allclose(line.get_data()[1], expected, rtol=1e-9)
        np.testing.assert_array_equal(line.get_data()[0], res.test["target_index"][width - 1:])
    assert "(dB)" in ax.get_ylabel() and "sample" in ax.get_xlabel()
    # the true noise path leaves the wanted signal alone (cosines at 50 and 120 Hz, sampled at 1 kHz): its
    # curve is the signal's own moving power
    limit = next(ln for ln in ax.get_lines() if ln.get_label().startswith("model limit"))
    k = res.test["target_index"]
    s = np.cos(2 * np.pi * 50 * k / 1000) + np.cos(2 * np.pi * 120 * k / 1000)
    signal_db = 10 * np.log10(np.convolve(s**2, np.ones(width) / width, mode="valid"))
    np.testing.assert_allclose(limit.get_data()[1], signal_db, atol=1e-6)
    # the input is 10 dB of interference over the signal: the primary's power is about 10·log10(11)
    primary = next(ln for ln in ax.get_lines() if ln.get_label().startswith("primary"))
    assert np.mean(primary.get_data()[1]) == pytest.approx(10 * math.log10(11), abs=1.0)


def test_canceller_residual_panel_averages_to_minus_the_snr_improvement(cancel_run):
    res = load_results(cancel_run)
    fig = plots.plot_canceller(res, width=1)
    rax = fig.axes[1]
    d = res.test["targets"]
    limit = next(r for r in res.rows if r.role == "limit")
    interference = res.predictions[(limit.method, 0)]
    for method in ("lms", "nlms"):
        row = res.row(method)
        residual = interference - res.predictions[(method, 0)]
        improvement = 10 * np.log10(np.sum(interference**2) / np.sum(residual**2))
        assert improvement == pytest.approx(float(row.metrics["snr_improvement_db"]), abs=1e-6)
        line = next(ln for ln in rax.get_lines() if ln.get_label() == method)
        assert line.get_data()[1].shape == d.shape
    assert "interference left" in rax.get_ylabel()


def test_canceller_residual_panel_uses_the_stored_wanted_signal(cancel_run):
    res = load_results(cancel_run)
    s = res.test["clean_at_target"]  # the task's per-row context, stored with the test rows
    d = res.test["targets"]
    assert s.shape == d.shape
    fig = plots.plot_canceller(res, width=50)
    rax = fig.axes[1]
    assert "e − s" in rax.get_title()
    for method in ("lms", "nlms"):
        e = d - res.predictions[(method, 0)]
        expected = plots._moving_power_db(e - s, 50) - plots._moving_power_db(d - s, 50)
        line = next(ln for ln in rax.get_lines() if ln.get_label() == method)
        np.testing.assert_allclose(line.get_data()[1], expected)
        # its power ratio over the whole test segment is the row's SNR improvement, sign flipped
        improvement = 10 * np.log10(np.sum((d - s) ** 2) / np.sum((e - s) ** 2))
        assert improvement == pytest.approx(float(res.row(method).metrics["snr_improvement_db"]), abs=1e-9)


def test_canceller_draws_the_training_time_curve_when_stored(cancel_run):
    res = load_results(cancel_run)
    lms = res.row("lms")
    conv = lms.describe["convergence"]
    fig = plots.plot_canceller(res)
    window = int(res.config["task_options"]["window"])
    curves = [ln for ln in fig.axes[0].get_lines() if ln.get_marker() == "."]
    assert any(np.allclose(ln.get_data()[1], conv["error_db"])
               and np.allclose(ln.get_data()[0], np.asarray(conv["sample"]) + window - 1) for ln in curves)
    # it starts well above where it ends: the filter learns
    assert conv["error_db"][0] > conv["error_db"][-1] + 3.0


def test_cancel_runs_get_the_canceller_figure(cancel_run):
    assert "canceller" in plots.available_figures(load_results(cancel_run))


# -- layout --------------------------------------------------------------------------------------
@pytest.mark.filterwarnings("error::UserWarning")  # e.g. "constrained_layout not applied": axes collapsed
@pytest.mark.parametrize("which", ["equalise_sweep", "detect_run", "cancel_run"])
def test_no_text_of_the_task_figures_is_clipped(request, which):
    from .test_layout import _overflow

    res = load_results(request.getfixturevalue(which))
    for name in plots.available_figures(res):
        fig = plots.make_figure(res, name)
        assert _overflow(fig) == [], name


# -- verdicts on error rates and detection probabilities -----------------------------------------
def _neural(metrics: dict, grid: dict | None = None) -> MethodRow:
    return MethodRow(method="dnn", name="dnn", family="neural", seeds=[0], metrics=metrics,
                     cost={"macs_per_sample": 640.0}, grid=grid or {})


def test_equalise_verdict_compares_error_rates_through_wilson_intervals(equalise_sweep):
    res = load_results(equalise_sweep)
    at = {"ebn0_db": 2}
    point = [r for r in res.rows if r.grid == at and r.status == "ok"]
    best = min((r for r in point if r.family != "neural" and r.role not in ("limit", "oracle")),
               key=lambda r: float(r.metrics["ber"]))
    ber = float(best.metrics["ber"]) / 10
    res.rows.append(_neural({"ber": ber, "ber_ci_low": ber * 0.8, "ber_ci_high": ber * 1.2}, at))
    text = next(v for v in verdicts(res) if "dnn" in v)
    assert f"beats {best.method}, the best DSP method" in text
    assert "10× fewer errors" in text and f"{ber:.2e}" in text
    limit = next(r for r in point if r.role == "limit")
    assert f"the {limit.method}" in text
    # a rate whose Wilson interval overlaps the best DSP row's is a tie, not a win
    res.rows[-1] = _neural({"ber": float(best.metrics["ber"]) * 0.99,
                            "ber_ci_low": float(best.metrics["ber_ci_low"]),
                            "ber_ci_high": float(best.metrics["ber_ci_high"])}, at)
    assert f"ties {best.method}" in next(v for v in verdicts(res) if "dnn" in v)


def test_detect_verdict_names_the_best_detector_and_the_limit(detect_run):
    res = load_results(detect_run)
    res.rows.append(_neural({"roc_auc": 0.5, "pd_at_pfa": 0.01}))
    text = next(v for v in verdicts(res) if v.startswith("dnn"))
    best = max((r for r in res.rows if r.family != "neural" and r.role != "limit"),
               key=lambda r: float(r.metrics["roc_auc"]))
    assert f"does not reach {best.method}, the best DSP method (AUC 0.500 vs " in text
    assert "does not reach the model limit (matched filter, known tone)" in text
    assert "no reference or DSP row" not in text


def test_leaderboard_figure_labels_rates_in_scientific_form(equalise_sweep, results):
    res = load_results(equalise_sweep)
    text = _texts(plots.plot_leaderboard(res))
    for r in res.rows:
        if r.status == "ok":
            assert metric_cell("ber", r.metrics) in text
    assert " 0.00\n" not in text + "\n"
    # the prediction tasks' bars keep their two decimals
    ref = next(r for r in results.rows if r.is_reference)
    assert f" {float(ref.metrics['snr_db']):.2f}" in _texts(plots.plot_leaderboard(results))


def test_cost_legend_of_a_many_cell_sweep_names_methods_not_cells(equalise_sweep):
    import copy

    res = load_results(equalise_sweep)
    for extra in (18, 22):  # two more grid points: 5 × 5 cells
        for row in [r for r in res.rows if r.grid == {"ebn0_db": 14}]:
            twin = copy.deepcopy(row)
            twin.grid = {"ebn0_db": extra}
            res.rows.append(twin)
    assert len([r for r in res.rows if r.status == "ok"]) > 16
    labels = [t.get_text() for t in plots.plot_cost(res).axes[1].get_legend().get_texts()]
    methods = list(dict.fromkeys(r.method for r in res.rows))
    assert labels == [f"{m} (every grid point)" for m in methods] + ["Pareto front"]
