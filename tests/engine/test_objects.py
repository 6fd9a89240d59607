"""Processor classes and instances in the API (issue 17): compare takes them as it takes spec strings."""

from __future__ import annotations

import pytest

import sigbench as sb
from sigbench.plugins.dsp.lms import LMS
from sigbench.plugins.dsp.wiener import Wiener


@pytest.fixture(scope="module")
def signal_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("objects") / "s.h5"
    sb.save_signal(sb.generate("sines", n=2000, seed=5), path)
    return path


def _metrics(res):
    return {r.method: r.metrics.get("mse") for r in res.rows}


def test_instances_and_classes_run_as_their_spec_strings(signal_file, host):
    objects = sb.compare(signal_file, methods=[LMS(mu=0.01, numtaps=16), Wiener], window=16, model_limit=False)
    strings = sb.compare(signal_file, methods=["lms:numtaps=16,mu=0.01", "wiener"], window=16, model_limit=False)
    assert "lms:numtaps=16,mu=0.01" in _metrics(objects)  # labelled by its parameters
    assert _metrics(objects) == _metrics(strings)


def test_instances_on_a_process_pool_equal_the_serial_run(signal_file, host):
    serial = sb.compare(signal_file, methods=[LMS(mu=0.01, numtaps=16)], window=16, model_limit=False)
    pooled = sb.compare(signal_file, methods=[LMS(mu=0.01, numtaps=16)], window=16, model_limit=False, workers=2)
    assert _metrics(pooled) == pytest.approx(_metrics(serial), rel=1e-12)


def test_an_object_that_is_no_processor_is_refused(host):
    with pytest.raises(sb.ConfigError, match="processor class or instance"):
        sb.compare(sb.generate("sines", n=500), methods=[object()], window=8)
