"""Every built-in processor, source and metric passes the conformance harness plugin authors use.

Parametrized over the registry of a fresh host, so a new built-in is checked as soon as it is
registered (and a meta-test fails when a processor has no small configuration in
``BUILTIN_CONFORMANCE``). Known breaches are strict xfails naming the failing check: when the
processor is fixed the xfail turns into a failure and must be removed.
"""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
import pytest

from sigbench.host import Host
from sigbench.testing import BUILTIN_CONFORMANCE, check_metric, check_processor, check_source

_REGISTRY = Host(load_entrypoints=False).registry
PROCESSORS = _REGISTRY.names("processors")
GENERATORS = [n for n in _REGISTRY.names("sources") if _REGISTRY.entries["sources"][n].info["kind"] == "generator"]
LOADERS = [n for n in _REGISTRY.names("sources") if _REGISTRY.entries["sources"][n].info["kind"] == "loader"]
METRICS = _REGISTRY.names("metrics")

#: neural processors checked in the default run (one); the others train for several seconds each
FAST_NEURAL = {"dnn"}

#: known conformance breaches of built-ins: name → the reason (reported to the processors' owners)
KNOWN_FAILURES: dict[str, str] = {}


def _processor_params() -> list[object]:
    params: list[object] = []
    for name in PROCESSORS:
        marks = []
        family = _REGISTRY.entries["processors"][name].info["family"]
        if family == "neural" and name not in FAST_NEURAL:
            marks.append(pytest.mark.slow)
        if name in KNOWN_FAILURES:
            marks.append(pytest.mark.xfail(reason=KNOWN_FAILURES[name], strict=True, raises=AssertionError))
        params.append(pytest.param(name, marks=marks, id=name))
    return params


def test_every_builtin_processor_has_a_conformance_configuration():
    missing = [n for n in PROCESSORS if n not in BUILTIN_CONFORMANCE]
    assert not missing, f"add a small configuration to sigbench.testing.BUILTIN_CONFORMANCE for {missing}"
    stale = [n for n in BUILTIN_CONFORMANCE if n not in PROCESSORS]
    assert not stale, f"BUILTIN_CONFORMANCE names processors that are not registered: {stale}"


@pytest.mark.parametrize("name", _processor_params())
def test_builtin_processor_conforms(name, tmp_path):
    cls = _REGISTRY.entries["processors"][name].obj
    report = check_processor(cls, directory=tmp_path, **BUILTIN_CONFORMANCE[name])
    statuses = {c.name: c.status for c in report.checks}
    assert statuses["save/load round trip"] == "passed"
    if cls.online:
        assert statuses["online: chunked equals one pass"] == "passed"
    if cls.family == "dsp":
        assert statuses["no TensorFlow import"] == "passed"


@pytest.mark.parametrize("name", GENERATORS)
def test_builtin_generator_conforms(name):
    report = check_source(name, n=256)
    assert [c.status for c in report.checks] == ["passed"] * 5


@pytest.fixture(scope="module")
def loader_files(tmp_path_factory) -> dict[str, tuple[str, dict[str, object]]]:
    from sigbench.datasets.importers import sample_path

    folder: Path = tmp_path_factory.mktemp("loaders")
    np.save(folder / "x.npy", np.sin(0.1 * np.arange(300)))
    with h5py.File(folder / "foreign.h5", "w") as f:
        f.create_dataset("group/data", data=np.cos(0.1 * np.arange(300)))
    with h5py.File(folder / "rec.mat", "w", userblock_size=512) as f:  # MATLAB v7.3: x(:) stored (1, N)
        f.create_dataset("x", data=np.sin(0.2 * np.arange(300)).reshape(1, -1)).attrs["MATLAB_class"] = b"double"
        f.create_dataset("fs", data=np.array([[10.0]])).attrs["MATLAB_class"] = b"double"
    iq = (np.cos(0.1 * np.arange(300)) + 1j * np.sin(0.1 * np.arange(300))).astype("<c8")
    iq.tofile(folder / "iq.sigmf-data")
    (folder / "iq.sigmf-meta").write_text('{"global": {"core:datatype": "cf32_le", "core:sample_rate": 10.0}, '
                                          '"captures": [{"core:sample_start": 0}]}')
    return {
        "mat": (str(folder / "rec.mat"), {}),
        "sigmf": (str(folder / "iq.sigmf-meta"), {}),
        "wav": (sample_path("tones.wav"), {}),
        "csv": (sample_path("sensors.csv"), {"sample_rate_hz": 100.0}),
        "npy": (str(folder / "x.npy"), {"sample_rate_hz": 10.0}),
        "hdf5": (str(folder / "foreign.h5"), {"dataset": "/group/data", "sample_rate_hz": 10.0}),
    }


@pytest.mark.parametrize("name", LOADERS)
def test_builtin_loader_conforms(name, loader_files):
    assert name in loader_files, f"add a sample file for the new loader {name!r} to this test"
    path, params = loader_files[name]
    report = check_source(name, params, path=path)
    assert [c.status for c in report.checks] == ["passed"] * 5


@pytest.mark.parametrize("name", METRICS)
def test_builtin_metric_conforms(name):
    report = check_metric(name)
    statuses = {c.name: c.status for c in report.checks}
    assert statuses["direction"] == "passed"
    assert statuses["returns a float"] == "passed"
