"""Running pipelines: both shipped examples on reduced sizes, the stored pipeline reproduces the numbers, and a
hybrid chain is compared with its network alone, with intervals."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

import sigbench as sb
from sigbench.cli import app
from sigbench.pipeline import load_pipeline, run_pipeline
from sigbench.results import load_results

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "pipelines"

#: the founding study, reduced for CI: 1500 samples, one seed, DSP rows plus one-epoch networks and two hybrids
FOUNDING_CI = ["signal.n=1500", "protocol.train_samples=1200", "protocol.seeds=1",
               'methods=["wiener", "lms", "fir-bank:mode=features,numtaps=31,bands=16", "naive", "dnn:epochs=1", '
               '"fir-bank:mode=features,numtaps=31,bands=16 | dnn:epochs=1", "wiener | lms"]']


def _cli(args: list[str]) -> tuple[int, str, str]:
    res = CliRunner().invoke(app, args, prog_name="sigbench")
    return res.exit_code, res.stdout, res.stderr


def _scores(results: sb.Results) -> dict[str, float]:
    return {r.method: r.metrics["mse"] for r in results.rows}


def test_founding_example_runs_reduced_and_round_trips(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # [output] paths are relative to the current folder
    first = tmp_path / "first.h5"
    args = ["pipeline", "run", str(EXAMPLES / "founding.toml"), "-o", str(first), "--report", str(tmp_path / "r.md")]
    for item in FOUNDING_CI:
        args += ["--set", item]
    code, _, err = _cli(args)
    assert code == 0, err
    res = load_results(first)
    assert {r.method for r in res.rows} == {"wiener", "linear oracle", "model limit", "lms", "naive", "dnn:epochs=1",
                                            "fir-bank:mode=features,numtaps=31,bands=16",
                                            "fir-bank:mode=features,numtaps=31,bands=16 | dnn:epochs=1", "wiener | lms"}
    assert all(r.status == "ok" for r in res.rows), [(r.method, r.error) for r in res.rows]
    assert res.row("wiener | lms").is_chain and res.row("wiener").is_reference
    assert (tmp_path / "r.md").exists()
    # the file that ran is stored in the run, byte for byte, with its hash and the overrides
    stored = res.config["pipeline"]
    text = (EXAMPLES / "founding.toml").read_text()
    assert stored["text"] == text and stored["file"] == "founding.toml" and stored["overrides"] == FOUNDING_CI
    assert stored["sha256"] == load_pipeline(EXAMPLES / "founding.toml").sha256
    assert stored["effective"]["signal"]["n"] == 1500
    # the stored text, written out and rerun with the stored overrides, reproduces the numbers
    study = tmp_path / "study.toml"
    study.write_text(stored["text"])
    again = run_pipeline(study, stored["overrides"], output=tmp_path / "second.h5")
    assert _scores(again) == pytest.approx(_scores(res), rel=1e-9, abs=1e-12)
    # and so does `sigbench pipeline run RESULT.h5` (the pipeline read back from the result file)
    code, out, err = _cli(["pipeline", "run", str(first), "-o", str(tmp_path / "third.h5"), "--json"])
    assert code == 0, err
    doc = json.loads(out)
    assert {r["method"]: r["metrics"]["mse"] for r in doc["rows"]} == pytest.approx(_scores(res), rel=1e-9,
                                                                                    abs=1e-12)
    assert doc["config"]["pipeline"]["text"] == text


def test_noise_robustness_example_sweeps_snr(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    p = load_pipeline(EXAMPLES / "noise-robustness.toml",
                      ["signal.n=1500", "protocol.train_samples=1200", "protocol.seeds=1", "sweep.snr_db=[0.0, 20.0]",
                       'methods=["wiener", "lms", "wiener | lms"]'])
    assert p.results == tmp_path / "noise-robustness.h5"  # relative to the current folder, not the TOML's
    res = run_pipeline(p, output=tmp_path / "sweep.h5", report=tmp_path / "sweep.html")
    assert res.kind == "sweep"
    rows = {(r.method, r.grid["snr_db"]): r for r in res.rows}
    assert set(rows) == {(m, s) for m in ("wiener", "linear oracle", "model limit", "lms", "wiener | lms", "naive")
                         for s in (0.0, 20.0)}
    # physics, not golden numbers: every method predicts the clean signal better from the cleaner input
    for m in ("wiener", "lms", "wiener | lms"):
        assert rows[(m, 20.0)].metrics["mse"] < rows[(m, 0.0)].metrics["mse"], m
    assert load_results(tmp_path / "sweep.h5").config["pipeline"]["effective"]["sweep"] == {"snr_db": [0.0, 20.0]}
    assert (tmp_path / "sweep.html").stat().st_size > 0


def test_hybrid_chain_against_its_network_alone_with_intervals(tmp_path: Path) -> None:
    """Whichever wins, the hybrid row and the network row are both reported as mean ± 95 % interval."""
    sig = sb.generate("sines", n=1500, seed=0)
    res = sb.compare(sig, "predict", ["dnn:epochs=1", "wiener | dnn:epochs=1"], window=16, train_samples=1200,
                     seeds=2)
    alone, hybrid = res.row("dnn:epochs=1"), res.row("wiener | dnn:epochs=1")
    assert hybrid.is_chain and not alone.is_chain and hybrid.family == "neural"
    for row in (alone, hybrid):
        assert row.status == "ok" and len(row.seeds) == 2
        assert row.metrics["mse_ci"] is not None and np.isfinite(row.metrics["mse_ci"])
        assert row.metrics[f"{res.main_metric}_ci"] is not None
    # the chain costs the sum of its stages
    wiener = res.row("wiener")
    assert hybrid.cost["params"] == alone.cost["params"] + wiener.cost["params"]
    # the leaderboard shows both intervals
    from sigbench.cli.bench import render_leaderboard
    from sigbench.console import get_console

    with get_console().capture() as cap:
        render_leaderboard(res)
    table = cap.get()
    for label in ("dnn:epochs=1", "wiener | dnn:epochs=1"):
        line = next(ln for ln in table.splitlines() if f" {label} " in ln)
        assert "±" in line, line
