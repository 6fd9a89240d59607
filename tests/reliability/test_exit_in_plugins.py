"""Issue 16 item 10: ``SystemExit``/``KeyboardInterrupt`` raised by a plugin's own code inside a cell is a
failed row — the run goes on, keeps the other rows and exits 3; only a real interrupt (SIGINT) stops it."""

from __future__ import annotations

import sys

import numpy as np
import pytest

import sigbench as sb
from sigbench import hookimpl


class Exits(sb.Processor):
    """Calls sys.exit(0) in fit (a module-level argparse, say)."""

    name = "rel-exits"
    family = "dsp"

    def _fit(self, inputs, targets):
        sys.exit(0)

    def _predict(self, inputs):
        return np.zeros(inputs.shape[0])


class Interrupts(sb.Processor):
    """Raises KeyboardInterrupt in predict, without any signal."""

    name = "rel-interrupts"
    family = "dsp"

    def _fit(self, inputs, targets):
        pass

    def _predict(self, inputs):
        raise KeyboardInterrupt


@pytest.fixture
def exiting(host):
    class Plugin:
        @hookimpl
        def register_processors(self, register):
            register(Exits)
            register(Interrupts)

    host.register(Plugin(), name="rel-exiting")
    yield
    host.unregister("rel-exiting")


@pytest.mark.parametrize("workers", [1, 2])
def test_issue16_10_sys_exit_or_keyboardinterrupt_in_a_cell_is_a_failed_row(exiting, workers):
    sig = sb.generate("sines", n=1200, seed=0)
    res = sb.compare(sig, methods=["rel-exits", "rel-interrupts", "lms"], window=16, model_limit=False,
                     workers=workers, timeout=60 if workers > 1 else None)
    rows = {r.method: r for r in res.rows}
    assert rows["rel-exits"].status == "failed" and rows["rel-exits"].error.startswith("SystemExit")
    assert rows["rel-interrupts"].status == "failed" and rows["rel-interrupts"].error.startswith("KeyboardInterrupt")
    assert rows["lms"].status == "ok" and res.status == "complete"


def test_issue16_10_validate_reports_a_processor_that_exits(exiting):
    from sigbench.testing import check_processor

    report = check_processor(Exits, strict=False, check_imports=False)
    assert not report.passed
    assert any("SystemExit" in c.message for c in report.failures)
