"""The deployment columns and the quantised rows through the engine (compare --deployment / --quantize)."""

from __future__ import annotations

import math

import sigbench as sb


def test_compare_adds_quantised_rows_and_deployment_columns(host):
    sig = sb.generate("sines", n=2500, seed=1)
    res = sb.compare(sig, methods=["lms", "wiener"], window=16, quantize=["q15"], deployment=True, seeds=1,
                     model_limit=False)
    rows = {r.method: r for r in res.rows}
    assert {"lms@q15", "wiener@q15"} <= set(rows)
    for row in res.rows:
        assert row.status == "ok", (row.method, row.error)
        for key in ("latency_us_p50", "latency_us_p99", "rtf"):
            assert math.isfinite(row.cost[key]) and row.cost[key] > 0, (row.method, key)
        if row.cost["params"]:  # what has coefficients stores them (naive has none)
            assert row.cost["weights_bytes_f32"] + row.cost["weights_bytes_q15"] > 0, row.method
    # Q15 keeps a FIR's accuracy to a fraction of a dB (the physics bound is in test_q15.py)
    assert abs(rows["wiener@q15"].metrics["snr_db"] - rows["wiener"].metrics["snr_db"]) < 0.5


def test_a_quantised_method_by_name(host):
    sig = sb.generate("sines", n=2000, seed=2)
    res = sb.compare(sig, methods=["wiener@q15"], window=16, reference="", include_naive=False)
    assert res.rows[0].method == "wiener@q15" and res.rows[0].status == "ok"
