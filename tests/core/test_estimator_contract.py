"""Issue 17 item 3: processors follow scikit-learn's estimator contract, and an instance or class turns
into the (spec, class, options) the engine runs."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import sigbench as sb
from sigbench.errors import ConfigError, ValidationError
from sigbench.params import coerce_params, parse_method_spec, processor_method

#: one non-default setting per built-in, so that clone has something to carry
_SETTINGS: dict[str, dict[str, Any]] = {
    "lms": {"mu": 0.01, "numtaps": 16}, "nlms": {"mu": 0.2}, "rls": {"lam": 0.99}, "wiener": {"loading": 1e-3},
    "fir-bank": {"numtaps": 31}, "fir": {"numtaps": 31}, "fft": {"norm": "backward"}, "naive": {},
    "dnn": {"units": [16, 4], "epochs": 3}, "cnn": {"filters": 4, "kernel_sizes": (3, 5)},
    "lstm": {"units": [8]}, "cnn-lstm": {"filters": 4}, "goertzel": {}, "linear-extrapolation": {},
}


def _builtin_names() -> list[str]:
    return sorted(p["name"] for p in sb.list_processors() if p["package"] == "sigbench")


@pytest.mark.parametrize("name", _builtin_names())
def test_sklearn_clone_of_every_builtin(name: str) -> None:
    base = pytest.importorskip("sklearn.base")
    cls = sb.get_processor(name)
    proc = cls(**_SETTINGS.get(name, {}))
    copy = base.clone(proc)
    assert type(copy) is cls and copy is not proc
    assert copy.get_params(deep=True) == proc.get_params(deep=True)
    assert copy.get_params(deep=False) == proc.get_params()
    assert not copy.fitted


def test_every_builtin_is_covered_by_the_clone_test() -> None:
    assert {"lms", "nlms", "rls", "wiener", "fir-bank", "fft", "naive", "dnn", "cnn", "lstm", "cnn-lstm"} <= set(
        _builtin_names())


def test_clone_of_a_fitted_processor_is_unfitted_with_the_same_parameters(rng: np.random.Generator) -> None:
    base = pytest.importorskip("sklearn.base")
    x = rng.standard_normal(2000)
    inputs, targets = sb.sliding_windows(x[:-1], 8), x[8:]
    lms = sb.get_processor("lms")(numtaps=8, mu=0.01).fit(inputs, targets)
    copy = base.clone(lms)
    assert lms.fitted and not copy.fitted
    np.testing.assert_allclose(copy.fit(inputs, targets).predict(inputs), lms.predict(inputs))


def test_set_params_validates_rebuilds_and_returns_self(rng: np.random.Generator) -> None:
    lms = sb.get_processor("lms")(mu=0.01)
    x = rng.standard_normal(500)
    lms.fit(sb.sliding_windows(x[:-1], 4), x[4:])
    assert lms.set_params(mu=0.02, numtaps=4) is lms
    assert lms.mu == 0.02 and lms.get_params() == {"numtaps": 4, "mu": 0.02} and not lms.fitted
    with pytest.raises(ValidationError, match="mu"):  # the constructor's own check
        lms.set_params(mu=-1.0)
    with pytest.raises(ValueError, match="received: order"):  # scikit-learn expects ValueError
        lms.set_params(order=3)
    assert lms.set_params() is lms


def test_get_params_deep_lists_nested_estimators() -> None:
    class Outer(sb.Processor):
        name = "test-outer"

        def __init__(self, inner: Any = None, gain: float = 1.0) -> None:
            super().__init__(inner=inner, gain=gain)
            self.inner, self.gain = inner, gain

    lms = sb.get_processor("lms")(mu=0.03)
    outer = Outer(inner=lms, gain=2.0)
    deep = outer.get_params(deep=True)
    assert deep["inner"] is lms and deep["inner__mu"] == 0.03 and deep["gain"] == 2.0
    assert set(outer.get_params(deep=False)) == {"inner", "gain"}
    outer.set_params(inner__mu=0.07)
    assert outer.inner.mu == 0.07


@pytest.mark.parametrize("name", ["lms", "nlms", "rls", "wiener", "fir-bank", "dnn", "cnn", "lstm"])
def test_processor_method_labels_by_parameters_and_round_trips_through_the_spec(name: str) -> None:
    cls = sb.get_processor(name)
    proc = cls(**_SETTINGS[name])
    method = processor_method(proc)
    assert method.cls is cls and method.spec.name == name
    # only what differs from the defaults: the engine still sets seed, horizon, validation split
    assert set(method.options) == set(_SETTINGS[name])
    rebuilt = cls(**method.options)
    assert rebuilt.get_params() == proc.get_params()
    # the label is a valid specification that builds the same processor
    spec = parse_method_spec(method.spec.label)
    assert spec.name == name and spec.options == method.spec.options
    assert cls(**coerce_params(cls.__init__, spec.options)).get_params() == proc.get_params()


def test_processor_method_of_a_class_and_of_a_non_processor() -> None:
    lms = sb.get_processor("lms")
    assert processor_method(lms).spec.label == "lms" and processor_method(lms).options == {}
    assert processor_method(lms()).spec.label == "lms"  # all defaults: the plain name
    with pytest.raises(ConfigError, match="received: 42"):
        processor_method(42)
