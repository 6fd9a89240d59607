"""Fixtures for the reliability tests (helpers live in ``tests/core/helpers.py``)."""

from __future__ import annotations

import textwrap
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


_RELTEST_PLUGIN = textwrap.dedent('''
    """Test plugin of the reliability suite (entry point ``reltest``), for CLI subprocesses."""
    import os
    import time
    from pathlib import Path

    from sigbench import Processor, hookimpl


    class Slow(Processor):
        """Predicts the last sample times ``gain`` after sleeping ``delay`` seconds in fit."""

        name = "rel-slow"

        def __init__(self, delay: float = 0.2, gain: float = 0.9) -> None:
            super().__init__(delay=delay, gain=gain)
            self.delay, self.gain = delay, gain

        def _fit(self, inputs, targets):
            marker = os.environ.get("REL_MARKER")
            if marker:
                Path(marker).touch()
            time.sleep(self.delay)

        def _predict(self, inputs):
            return self.gain * inputs[:, -1]


    class Raising(Processor):
        """Raises inside fit."""

        name = "rel-raise"

        def _fit(self, inputs, targets):
            raise RuntimeError("rel-raise exploded in fit")


    @hookimpl
    def register_processors(register):
        register(Slow)
        register(Raising)


    @hookimpl
    def on_method_done(run, method, result):
        if os.environ.get("REL_OBSERVER_RAISES"):
            raise RuntimeError(f"observer bug after {method}")
''')


@pytest.fixture
def slow_plugin(tmp_path: Path) -> Path:
    """A site folder holding the ``reltest`` plugin with its ``.dist-info`` (as ``pip install`` leaves it),
    to put on ``PYTHONPATH`` of a CLI subprocess (with ``SIGBENCH_LOAD_PLUGINS=reltest``)."""
    site = tmp_path / "site"
    (site / "sigbench_reltest").mkdir(parents=True)
    (site / "sigbench_reltest" / "__init__.py").write_text(_RELTEST_PLUGIN)
    info = site / "sigbench_reltest-0.1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: sigbench-reltest\nVersion: 0.1.0\n")
    (info / "entry_points.txt").write_text("[sigbench]\nreltest = sigbench_reltest\n")
    return site
