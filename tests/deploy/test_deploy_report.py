"""The report's Deployment section: tables, Pareto figure, quantised rows, verdict sentences."""

from __future__ import annotations

import copy

import numpy as np
import pytest

import sigbench as sb
from sigbench.deploy import (
    deployment_clause,
    deployment_costs,
    deployment_section,
    deployment_verdicts,
    has_deployment_columns,
)
from sigbench.deploy.report import quantized_pairs
from sigbench.report import render_html, render_markdown
from sigbench.results import MethodRow, load_results


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """A stored DSP compare whose rows get real deployment columns, plus a synthetic dnn row and its int8 row."""
    folder = tmp_path_factory.mktemp("deploy-report")
    sig = sb.generate("sines", n=2000, seed=0, snr_db=10.0).with_(name="sines")
    sb.save_signal(sig, folder / "sig.h5")
    sb.compare(folder / "sig.h5", "predict", ["wiener", "lms", "naive"], seeds=1, window=16,
               output=folder / "run.h5")
    res = load_results(folder / "run.h5")
    data = sb.get_task("predict").prepare(sig, window=16)
    X, y = data.inputs, data.targets
    for row in res.rows:
        proc = sb.get_processor(row.name)().fit(X[:1200], y[:1200])
        cols = deployment_costs(proc, X[1200:], sample_rate_hz=10.0, samples=200)
        row.cost.update({k: v for k, v in cols.items() if isinstance(v, (int, float))})
    ref = next(r for r in res.rows if r.is_reference)
    dnn = MethodRow(method="dnn", name="dnn", family="neural", seeds=[0],
                    metrics={"snr_db": float(ref.metrics["snr_db"]) + 3.7, "excess_db": -3.7},
                    cost={"latency_us_p50": 250.0, "latency_us_p99": 900.0, "rtf": 400.0,
                          "weights_bytes_f32": 12_000, "weights_bytes_int8": 3000, "weights_bytes_q15": 6000,
                          "activation_bytes_f32": 420, "state_bytes_f32": 64, "latency_us_p50_litert": 3.0})
    int8 = copy.deepcopy(dnn)
    int8.method, int8.name = "dnn@int8", "dnn@int8"
    int8.metrics = {"snr_db": float(ref.metrics["snr_db"]) + 3.1, "excess_db": -3.1}
    int8.cost.update({"latency_us_p50": 8.0, "latency_us_p99": 12.0, "rtf": 12_500.0})
    res.rows += [dnn, int8]
    res.sort()
    return res


def test_verdict_sentence_gives_rtf_latency_memory_and_what_int8_keeps(run):
    (sentence,) = deployment_verdicts(run)
    assert sentence.startswith("dnn: runs at RTF 400 at 10 Hz (p50 250 µs, p99 900 µs)")
    assert "12 kB of float32 weights" in sentence
    assert "keeps 3.10 dB over the wiener bound in int8 (dnn@int8)" in sentence
    assert [(f.method, q.method) for f, q in quantized_pairs(run)] == [("dnn", "dnn@int8")]
    # the clause a neural row's report verdict can append
    assert deployment_clause(run, run.row("dnn")) == sentence[len("dnn: "):-1]
    assert deployment_clause(run, run.row("naive")) is not None  # a DSP row has its RTF too
    assert deployment_clause(run, run.row("dnn@int8")).startswith("runs at RTF 12,500")


def test_html_and_markdown_reports_carry_the_section(run):
    page = render_html(run)
    assert "<h2>Deployment</h2>" in page and 'id="fig-deployment"' in page
    assert page.index("<h2>Deployment</h2>") < page.index("<h2>Environment</h2>")
    text, images = render_markdown(run, "img")
    assert "## Deployment" in text and "![deployment](img/deployment.png)" in text
    assert images["deployment.png"].startswith(b"\x89PNG")
    assert "LiteRT p50 µs" in text  # an exported runtime's column, shown when a row has it
    # every row with columns is in the table, with its RTF
    for row in run.rows:
        assert f"| {row.method} |" in text


def test_no_section_without_deployment_columns(run):
    bare = copy.deepcopy(run)
    for row in bare.rows:
        for key in list(row.cost):
            if key.startswith(("latency_us", "rtf", "weights_bytes", "state_bytes", "activation_bytes")):
                del row.cost[key]
    assert not has_deployment_columns(bare)
    assert deployment_section(bare, "html") == ("", {})
    assert "Deployment" not in render_html(bare)


def test_pareto_front_of_the_figure_is_the_non_dominated_rows(run):
    from sigbench.deploy import report as deploy_report
    from sigbench.plots import pareto_front

    fig = deploy_report.deployment_figure(run)
    ax = fig.axes[0]
    ok = [r for r in run.rows if r.status == "ok" and np.isfinite(r.cost.get("latency_us_p50", np.nan))]
    xs = [float(r.cost["latency_us_p50"]) for r in ok]
    ys = [float(r.metrics["snr_db"]) for r in ok]
    front = pareto_front(xs, ys)
    line = next(ln for ln in ax.get_lines() if ln.get_label() == "Pareto front")
    assert sorted(line.get_xdata()) == sorted(xs[i] for i in front)
    assert any(ok[i].method == "dnn@int8" for i in front)  # fast and accurate: on the front
