"""Small stored runs for the report tests: DSP methods only (plus one failed method), read back from HDF5.

No neural network is trained here. One *neural row* is added to the stored compare run by hand (its
metrics, loss history and predictions are synthetic and chosen so that the verdict is known), then the
run is written back and re-read through :func:`sigbench.load_results` like any other stored run.
"""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pytest

import sigbench as sb
from sigbench.results import MethodRow, Results, load_results

#: the synthetic neural row: 1.5 dB better than the bound, at 100× its MACs per sample
NEURAL = "dnn:epochs=2"
NEURAL_GAIN_DB = 1.5
NEURAL_MACS_RATIO = 100.0
FAILED = "lms:mu=5"


def _add_neural_row(res: Results) -> None:
    ref = next(r for r in res.rows if r.is_reference)
    lms = res.row("lms")
    targets = res.test["targets"]
    rng = np.random.default_rng(7)
    snr = float(ref.metrics["snr_db"]) + NEURAL_GAIN_DB
    row = MethodRow(
        method=NEURAL, name="dnn", family="neural", seeds=[0, 1],
        metrics={"snr_db": snr, "snr_db_ci": 0.2, "excess_db": -NEURAL_GAIN_DB, "excess_db_ci": 0.2,
                 "mse": float(ref.metrics["mse"]) * 10 ** (-NEURAL_GAIN_DB / 10), "mse_ci": None,
                 "snr_gain_db": float(lms.metrics["snr_gain_db"]) + 1.0, "snr_gain_db_ci": 0.2},
        cost={"params": 6500, "macs_per_sample": NEURAL_MACS_RATIO * float(ref.cost["macs_per_sample"]),
              "fit_s": 10.0 * float(ref.cost["fit_s"]), "samples_per_s": 5000.0, "latency_s": 1e-3},
        describe={"name": "dnn", "family": "neural", "loss_history": [0.5, 0.2], "val_loss_history": [0.4, 0.3],
                  "best_epoch": 2, "loss_units": "MSE of standardised targets"},
    )
    res.rows.append(row)
    scale = float(np.sqrt(ref.metrics["mse"]))
    for seed in row.seeds:
        res.predictions[(NEURAL, seed)] = targets + scale * rng.standard_normal(targets.shape)
    res.sort()


@pytest.fixture(scope="session")
def stored_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A compare result file: wiener (bound), lms, naive, fir-bank, a diverging LMS and a neural row."""
    folder = tmp_path_factory.mktemp("report-run")
    signal = folder / "signal.h5"
    sb.save_signal(sb.generate("sines", n=3000, seed=0, snr_db=10.0).with_(name="sines"), signal)
    out = folder / "compare.h5"
    sb.compare(signal, "predict", ["wiener", "lms", "naive", "fir-bank", FAILED], seeds=1, window=64,
               train_samples=2400, output=out, mode="offline")  # lms frozen: the neural row beats it
    res = load_results(out)
    _add_neural_row(res)
    res.save(out, base=out)
    return out


@pytest.fixture()
def results(stored_run: Path) -> Results:
    """The stored compare run, freshly read (tests may modify their copy)."""
    return load_results(stored_run)


@pytest.fixture(scope="session")
def sweep_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A sweep result file over the input SNR (wiener, lms, naive)."""
    out = tmp_path_factory.mktemp("report-sweep") / "sweep.h5"
    sb.sweep("sines", {"snr_db": [0, 10, 20]}, "predict", ["wiener", "lms"], n=1500, output=out, seeds=1,
             window=16)
    return out


@pytest.fixture(scope="session")
def spectrum_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A spectrum-task result file: the FFT against a least-squares linear map (wiener)."""
    folder = tmp_path_factory.mktemp("report-spectrum")
    signal = folder / "signal.h5"
    sb.save_signal(sb.generate("sines", n=3000, seed=0, snr_db=10.0).with_(name="sines"), signal)
    out = folder / "spectrum.h5"
    sb.compare(signal, "spectrum", ["fft", "wiener"], seeds=1, window=16, output=out)
    return out


def with_label(res: Results, old: str, new: str) -> Results:
    """A copy of ``res`` with method ``old`` renamed ``new`` (rows and predictions)."""
    out = copy.deepcopy(res)
    for r in out.rows:
        if r.method == old:
            r.method = new
    out.predictions = {((new if m == old else m), s): p for (m, s), p in out.predictions.items()}
    return out
