"""Shared fixtures. Entry points are never autoloaded under tests."""

from __future__ import annotations

import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
sys._called_from_test = True  # type: ignore[attr-defined]

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from sigbench.host import Host, reset_host  # noqa: E402


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(12345)


@pytest.fixture
def host():
    """A fresh plugin host with the built-ins only, installed as the process-wide host."""
    h = reset_host(Host(load_entrypoints=False))
    yield h
    reset_host(Host(load_entrypoints=False))


@pytest.fixture
def pm(host):
    """The fresh host's pluggy PluginManager."""
    return host.pm


def pytest_collection_modifyitems(config, items):
    """Tests under ``tests/neural/`` need a Keras backend: mark them ``neural`` (the core job skips them)."""
    for item in items:
        if "neural" in item.path.parts[-3:-1]:
            item.add_marker(pytest.mark.neural)
