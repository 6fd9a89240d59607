"""The founding article's DFT experiment out of the box: ``compare --task spectrum`` on white noise with the
default methods (``dnn:preset=dft``, the FFT reference, ``wiener``)."""

from __future__ import annotations

import functools
import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

import sigbench as sb
from sigbench.console import set_quiet


@pytest.fixture(scope="module")
def default_run() -> sb.Results:
    set_quiet(True)
    try:
        return sb.compare(sb.generate("noise", n=4000, seed=0), "spectrum", seeds=1)
    finally:
        set_quiet(False)


def test_default_spectrum_compare_has_an_exact_reference_and_no_excess_over_it(default_run):
    res = default_run
    # no naive row: a spectrum is no scalar sample to repeat
    assert sorted(r.method for r in res.rows) == ["dnn:preset=dft", "fft", "fft:dtype=float32", "wiener"]
    assert all(r.status == "ok" for r in res.rows), [r.error for r in res.rows]
    ref = res.row("fft")
    assert ref.role == "reference" and ref.metrics["snr_db"] == math.inf
    for row in res.rows:
        assert "excess_db" not in row.metrics  # an excess over an exact reference would only measure rounding


def test_the_dft_preset_reaches_float32_precision_in_a_few_epochs(default_run):
    row = default_run.row("dnn:preset=dft")
    snr, floor = row.metrics["snr_db"], row.metrics["excess_float32_db"]
    # a linear network can equal the DFT: within float32 arithmetic (≈ 140 dB) up to a few bits, in ≤ 30 epochs
    assert snr > 100.0, row.describe.get("val_loss_history")
    assert math.isfinite(floor) and 0.0 < floor < 40.0
    assert row.describe["epochs_run"] <= 30
    # the FFT in float32 sits a few dB above the float32 floor; float64 methods are more exact than any float32 output
    assert 0.0 < default_run.row("fft:dtype=float32").metrics["excess_float32_db"] < 20.0
    assert default_run.row("wiener").metrics["excess_float32_db"] < -100.0
    assert default_run.row("fft").metrics["excess_float32_db"] == -math.inf


def test_the_default_sigmoid_dnn_cannot_carry_the_spectrum_through_eight_units():
    sig = sb.generate("noise", n=2000, seed=1)
    res = sb.compare(sig, "spectrum", ["dnn:epochs=5"], window=32, seeds=1)
    assert res.row("dnn:epochs=5").metrics["snr_db"] < 20.0


def test_the_cli_reproduces_the_experiment_without_options(tmp_path):
    """``sigbench generate noise`` then ``sigbench compare FILE --task spectrum``: exit 0, the article's setup."""
    sigbench = str(Path(sys.executable).with_name("sigbench"))
    signal = tmp_path / "dft.h5"
    run = functools.partial(subprocess.run, capture_output=True, text=True, timeout=300)
    assert run([sigbench, "generate", "noise", "-o", str(signal), "-n", "3000", "-q"]).returncode == 0
    proc = run([sigbench, "compare", str(signal), "--task", "spectrum", "--seeds", "1", "--json"])
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["protocol"]["reference"] == "fft"
    rows = {r["method"]: r for r in doc["rows"]}
    assert set(rows) == {"dnn:preset=dft", "fft", "fft:dtype=float32", "wiener"}
    assert all(r["status"] == "ok" for r in rows.values())
    assert rows["dnn:preset=dft"]["metrics"]["snr_db"] > 100.0
    assert not any(k.startswith("excess_db") for r in rows.values() for k in r["metrics"])
