"""Rebuilding a method of a stored run (result files keep predictions, not models)."""

from __future__ import annotations

import pytest

import sigbench as sb
from sigbench.deploy import deployment_costs, processor_from_run
from sigbench.errors import ProcessorError, ValidationError


@pytest.fixture(scope="module")
def stored(tmp_path_factory):
    folder = tmp_path_factory.mktemp("refit")
    sb.save_signal(sb.generate("sines", n=2000, seed=0, snr_db=10.0).with_(name="sines"), folder / "sig.h5")
    sb.compare(folder / "sig.h5", "predict", ["wiener", "lms:mu=0.005", "lms:mu=5"], seeds=1, window=16,
               output=folder / "run.h5")
    return folder / "run.h5"


def test_refit_reproduces_the_stored_test_predictions(stored):
    rp = processor_from_run(stored, "lms:mu=0.005")
    assert rp.processor.name == "lms" and rp.processor.mu == 0.005
    assert rp.stored_max_abs_diff == 0.0  # deterministic: the same filter as in the run
    assert rp.sample_rate_hz == 10.0 and rp.test_inputs.shape[1] == 16
    cols = deployment_costs(rp.processor, rp.test_inputs, sample_rate_hz=rp.sample_rate_hz, samples=200,
                            targets=rp.test_targets)
    assert cols["latency_path"] == "predict_online" and cols["rtf"] > 1


def test_refit_refuses_what_the_run_does_not_hold(stored):
    with pytest.raises(ValidationError, match="expected a method"):
        processor_from_run(stored, "dnn")  # not in the run
    with pytest.raises(ValidationError, match="seed"):
        processor_from_run(stored, "wiener", seed=7)  # the row ran with seed 0 only
    with pytest.raises(ProcessorError, match="failed"):
        processor_from_run(stored, "lms:mu=5")  # a diverged (failed) row has no model to rebuild


def test_run_from_an_in_memory_signal_cannot_be_refitted(tmp_path):
    sig = sb.generate("sines", n=1000, seed=0)
    sb.compare(sig, "predict", ["wiener"], seeds=1, window=8, output=tmp_path / "mem.h5")
    with pytest.raises(ValidationError, match="in-memory"):
        processor_from_run(tmp_path / "mem.h5", "wiener")
