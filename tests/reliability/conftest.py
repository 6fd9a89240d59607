"""Fixtures for the reliability tests (helpers live in ``tests/core/helpers.py``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from core.helpers import install_fixture_plugins, make_signal
from sigbench import Signal


@pytest.fixture
def plugin_path(tmp_path: Path) -> Path:
    """A folder holding the good and the broken fixture plugin, to put on ``PYTHONPATH``."""
    return install_fixture_plugins(tmp_path / "site")


@pytest.fixture
def signal(rng: np.random.Generator) -> Signal:
    return make_signal(rng)
