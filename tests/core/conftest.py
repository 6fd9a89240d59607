"""Fixtures for the core tests (helpers live in ``helpers.py``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from sigbench import Signal

from .helpers import install_fixture_plugins, make_signal


@pytest.fixture
def plugin_path(tmp_path: Path) -> Path:
    """A folder holding the good and the broken fixture plugin, to put on ``PYTHONPATH``."""
    return install_fixture_plugins(tmp_path / "site")


@pytest.fixture
def signal(rng: np.random.Generator) -> Signal:
    return make_signal(rng)
