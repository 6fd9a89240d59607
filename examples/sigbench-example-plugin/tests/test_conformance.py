"""The example's processors and source pass sigbench's conformance harness (the fixtures come from sigbench's
pytest plugin, installed with sigbench)."""

import pytest
from sigbench_example.gru import GRU
from sigbench_example.kalman import KalmanLevel
from sigbench_example.vanderpol import van_der_pol


def test_kalman_conforms(sigbench_check_processor):
    sigbench_check_processor(KalmanLevel)


def test_kalman_with_fixed_variances_conforms(sigbench_check_processor):
    sigbench_check_processor(KalmanLevel, {"q": 0.05, "r": 0.5})


def test_van_der_pol_conforms(sigbench_check_source):
    sigbench_check_source(van_der_pol, n=400)


@pytest.mark.slow
def test_gru_conforms(sigbench_check_processor):
    sigbench_check_processor(GRU, GRU.conformance["init_kwargs"])


def test_plugins_register_through_the_hooks(sigbench_host, sigbench_register):
    from sigbench_example import gru, kalman, vanderpol

    for module in (vanderpol, kalman, gru):
        sigbench_register(module)
    registry = sigbench_host.registry
    assert registry.get("processors", "kalman-level").obj is KalmanLevel
    assert registry.get("processors", "gru").obj is GRU
    assert registry.get("sources", "van-der-pol").info["kind"] == "generator"
