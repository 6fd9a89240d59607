"""The conformance harness: the checks every processor, source and metric must pass.

sigbench runs these checks on its own built-ins; plugin authors run the same checks on theirs, either
directly or through the pytest plugin (``sigbench.testing.pytest_plugin``, installed as a ``pytest11``
entry point, so its fixtures are available in any project that has sigbench installed).

A plugin's whole conformance test::

    from sigbench.testing import check_processor
    from sigbench_kalman import Kalman
    def test_conformance(): check_processor(Kalman, {"q": 0.01})

Each ``check_*`` function runs every check, returns a :class:`ConformanceReport` and, in strict mode
(the default), raises one ``AssertionError`` listing every failed check. Importing this package does
not import pytest, TensorFlow or Keras.
"""

from __future__ import annotations

from sigbench.testing._data import ConformanceData, make_data
from sigbench.testing._metric import check_metric
from sigbench.testing._processor import HEAVY_MODULES, TIMING_KEYS, check_processor
from sigbench.testing._registry import BUILTIN_CONFORMANCE, conformance_options, validate_registered
from sigbench.testing._report import (
    FAILED,
    NOT_SUPPORTED,
    PASSED,
    SKIPPED,
    CheckResult,
    ConformanceReport,
)
from sigbench.testing._skeleton import new_plugin
from sigbench.testing._source import check_source

__all__ = [
    "BUILTIN_CONFORMANCE",
    "FAILED",
    "HEAVY_MODULES",
    "NOT_SUPPORTED",
    "PASSED",
    "SKIPPED",
    "TIMING_KEYS",
    "CheckResult",
    "ConformanceData",
    "ConformanceReport",
    "check_metric",
    "check_processor",
    "check_source",
    "conformance_options",
    "make_data",
    "new_plugin",
    "validate_registered",
]
