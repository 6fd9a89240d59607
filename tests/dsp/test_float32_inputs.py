"""Adaptive filters on float32 window views: converted block by block, same result as float64."""

from __future__ import annotations

import numpy as np
import pytest

import sigbench as sb
from sigbench.plugins.dsp import _adaptive


@pytest.mark.parametrize("name", ["lms", "nlms", "rls"])
def test_float32_view_equals_float64_and_is_converted_in_blocks(name, monkeypatch):
    monkeypatch.setattr(_adaptive, "CONVERT_ROWS", 100)  # force many blocks
    rng = np.random.default_rng(7)
    x32 = rng.standard_normal(2000).astype(np.float32)
    d = np.roll(x32.astype(np.float64), -1)[:1985]
    a = sb.get_processor(name)(numtaps=16).fit(sb.sliding_windows(x32, 16), d)
    b = sb.get_processor(name)(numtaps=16).fit(sb.sliding_windows(x32.astype(np.float64), 16), d)
    np.testing.assert_array_equal(a.weights, b.weights)
