"""Equalise, cancel and detect on the one engine: the physics of each task's verdict through ``sb.compare`` and
``sb.sweep`` (the rows a user reads), and the same rows streamed from a file, on a process pool and on Dask."""

from __future__ import annotations

import math

import numpy as np
import pytest

import sigbench as sb
from sigbench.metrics_comms import np_pd_known_signal, pam_ser_awgn, q_function

CHUNK = 1500


def _by(res):
    return {r.method: r for r in res.rows}


def _ok(res):
    bad = [(r.method, r.error) for r in res.rows if r.status != "ok"]
    assert not bad, bad


# -- equalise ---------------------------------------------------------------------------------------------------
def test_equalise_rows_carry_symbols_decisions_and_the_mlse_limit(host):
    sig = sb.generate("channel", n=6000, channel="proakis-b", ebn0_db=10, seed=0)
    data = sb.get_task("equalise").prepare(sig, window=8)
    assert data.options["delay"] == 4  # centred: (8 + 3) // 2 - 1
    np.testing.assert_array_equal(data.targets, sig.clean[7 - 4: 7 - 4 + len(data)])
    assert data.context["alphabet"] == (-1.0, 1.0)
    np.testing.assert_array_equal(sb.get_task("equalise").decide([-0.2, 0.1, 3.0], data.context), [-1.0, 1.0, 1.0])
    res = sb.compare(sig, "equalise", ["lms", "dfe:feedback_taps=1"], window=8, seeds=1)
    _ok(res)
    rows = _by(res)
    assert res.main_metric == "ber" and not res.higher_is_better
    limit = rows["model limit (MLSE, true channel)"]
    assert limit.role == "limit" and limit.describe["taps"] == pytest.approx([0.407, 0.815, 0.407])
    assert "excess_limit_db" not in rows["wiener"].metrics  # hard decisions: no MSE bound of soft outputs
    assert rows["lms"].mode == "frozen"  # the symbols are not observed after the preamble
    assert "naive" not in rows


def test_equalisers_take_the_alphabet_of_the_run(host):
    sig = sb.generate("channel", n=8000, channel="proakis-b", levels=4, ebn0_db=16, seed=0)
    res = sb.compare(sig, "equalise", ["dfe:feedback_taps=1", "dfe:feedback_taps=1,levels=2"], window=8, seeds=1)
    rows = _by(res)
    assert rows["dfe:feedback_taps=1"].describe["levels"] == 4  # from context.alphabet
    assert rows["model limit (MLSE, true channel)"].describe["levels"] == 4
    # deciding on the wrong alphabet feeds wrong symbols back: far worse than the DFE on the run's
    assert rows["dfe:feedback_taps=1"].metrics["ser_ci_high"] < rows["dfe:feedback_taps=1,levels=2"].metrics["ser"] / 4


@pytest.mark.parametrize("ebn0_db", [2.0, 4.0, 6.0])
def test_mmse_equaliser_without_isi_reaches_the_awgn_bound(host, ebn0_db):
    sig = sb.generate("channel", n=60_000, channel="identity", ebn0_db=ebn0_db, seed=int(ebn0_db))
    res = sb.compare(sig, "equalise", ["wiener"], window=4, seeds=1, model_limit=False, split=(0.3, 0.1, 0.6))
    row = _by(res)["wiener"]
    theory = float(q_function(math.sqrt(2 * 10 ** (ebn0_db / 10))))
    assert float(pam_ser_awgn(ebn0_db, 2)) == pytest.approx(theory)
    assert row.metrics["ber_ci_low"] <= theory <= row.metrics["ber_ci_high"], (row.metrics["ber"], theory)


def test_mlse_beats_the_linear_equaliser_on_the_proakis_channel(host):
    res = sb.compare(sb.generate("channel", n=30_000, channel="proakis-b", ebn0_db=8, seed=3), "equalise",
                     ["wiener"], window=12, seeds=1)
    rows = _by(res)
    assert rows["model limit (MLSE, true channel)"].metrics["ber_ci_high"] < rows["wiener"].metrics["ber_ci_low"]
    assert rows["linear oracle"].metrics["ber_ci_low"] > rows["model limit (MLSE, true channel)"].metrics["ber"]


@pytest.mark.neural
def test_a_network_beats_the_linear_equaliser_on_the_nonlinear_channel(host):
    """Chen, Gibson and Cowan's channel with y = v + 0.2v² − 0.1v³: the published result, with Wilson CIs."""
    sig = sb.generate("channel", n=40_000, channel="cgc", nonlinearity="cubic", ebn0_db=12, seed=1)
    res = sb.compare(sig, "equalise", ["dnn:units=16,8,epochs=30"], window=8, seeds=1, split=(0.5, 0.1, 0.4))
    _ok(res)
    rows = _by(res)
    net, linear = rows["dnn:units=16,8,epochs=30"], rows["wiener"]
    assert net.metrics["ber_ci_high"] < linear.metrics["ber_ci_low"], (net.metrics["ber"], linear.metrics["ber"])
    assert net.describe["loss_units"].startswith("MSE")  # symbols: a regression, decided by the task


def test_dfe_predict_continues_the_rows_of_one_stream(host):
    sig = sb.generate("channel", n=6000, channel="proakis-b", ebn0_db=10, seed=2)
    X, a = sb.sliding_windows(sig.data, 8), sig.clean[7 - 4:-4]
    dfe = sb.get_processor("dfe")(feedback_taps=1).fit(X[:3000], a[:3000])
    whole = dfe.predict(X[3000:])
    np.testing.assert_array_equal(dfe.predict(X[3000:]), whole)  # a call that does not continue: afresh
    parts = np.concatenate([dfe.predict(X[3000:4000]), dfe.predict(X[4000:4001]), dfe.predict(X[4001:])])
    np.testing.assert_array_equal(parts, whole)  # consecutive blocks of the stream: the one-pass result
    first = dfe.predict(X[3000:4000])
    for _ in range(3):  # a latency probe on the block's first row between two blocks: the stream goes on
        dfe.predict(X[3000:3001])
    np.testing.assert_array_equal(np.concatenate([first, dfe.predict(X[4000:])]), whole)
    np.testing.assert_array_equal(dfe.predict(X[3000:]), whole)  # the stream from its start: afresh


# -- cancel -----------------------------------------------------------------------------------------------------
def test_cancel_reads_the_reference_channel_and_scores_the_interference_left(host):
    sig = sb.generate("anc", n=8000, seed=0, numtaps=6, sensor_snr_db=30)
    data = sb.get_task("cancel").prepare(sig, window=8)
    np.testing.assert_array_equal(data.inputs[0], sig.data[:8, 1])  # the reference
    np.testing.assert_array_equal(data.targets, sig.data[7:, 0])  # the primary at each window's end
    np.testing.assert_array_equal(data.row_context["clean_at_target"], sig.clean[7:, 0])
    res = sb.compare(sig, "cancel", ["lms", "rls"], window=8, seeds=1)
    _ok(res)
    rows = _by(res)
    limit = rows["model limit (true noise path)"]
    # the true path leaves only the sensor noise: the improvement is the interference-to-sensor-noise ratio
    assert limit.metrics["snr_improvement_db"] == pytest.approx(30.0, abs=0.6)
    assert rows["rls"].mode == "adapting" and rows["lms"].mode == "adapting"  # the primary is observed
    # the excess columns compare the interference left: the limit's excess is the SNR-improvement gap
    excess = rows["wiener"].metrics["excess_limit_db"]
    assert excess == pytest.approx(limit.metrics["snr_improvement_db"] - rows["wiener"].metrics["snr_improvement_db"],
                                   abs=1e-9)
    # least squares converges to the true path: what is left is its misadjustment, the wanted signal (power 1)
    # leaking through L taps estimated from N rows, L/N against the sensor noise 10^-3 (about 3 dB here)
    fit_rows = 0.8 * (8000 - 7)
    assert 0.0 < excess < 10 * math.log10(1 + 3 * 8 / (fit_rows * 1e-3))
    assert "linear oracle" not in rows  # fitted on the test primary it also cancels the wanted signal: no bound


def test_cancel_refuses_a_single_channel_signal(host):
    with pytest.raises(sb.ValidationError, match="two channels"):
        sb.compare(sb.generate("sines", n=2000), "cancel", ["lms"])


# -- detect -----------------------------------------------------------------------------------------------------
def test_matched_filter_limit_reaches_the_neyman_pearson_auc(host):
    sig = sb.generate("tone-detect", n=64 * 6000, snr_db=-13, seed=2)
    res = sb.compare(sig, "detect", ["energy-detector"], seeds=1)
    _ok(res)
    rows = _by(res)
    assert "linear oracle" not in rows and res.main_metric == "roc_auc"
    d = sig.metadata["deflection"]
    auc = rows["model limit (matched filter, known tone)"].metrics["roc_auc"]
    theory = 0.5 * math.erfc(-d / 2)  # Φ(d/√2)
    n1 = n0 = 0.5 * 6000 * 0.2  # test segments of each class, about
    q1, q2 = theory / (2 - theory), 2 * theory**2 / (1 + theory)
    se = math.sqrt((theory * (1 - theory) + (n1 - 1) * (q1 - theory**2) + (n0 - 1) * (q2 - theory**2)) / (n1 * n0))
    assert abs(auc - theory) < 3 * se  # Hanley and McNeil's standard error of the AUC
    pd_theory = float(np_pd_known_signal(1e-2, d))
    assert abs(rows["model limit (matched filter, known tone)"].metrics["pd_at_pfa"] - pd_theory) < 0.12
    # the energy detector ignores the phase it could know: below the matched filter
    assert rows["energy-detector"].metrics["roc_auc"] < auc


@pytest.mark.neural
def test_networks_get_a_classification_head_on_detect(host):
    sig = sb.generate("tone-detect", n=64 * 2000, snr_db=-12, seed=0)
    res = sb.compare(sig, "detect", ["dnn:units=16,epochs=15"], seeds=1)
    _ok(res)
    row = _by(res)["dnn:units=16,epochs=15"]
    assert row.describe["loss_units"] == "binary cross-entropy of the logit"
    assert row.metrics["roc_auc"] > 0.85
    pred = res.predictions[("dnn:units=16,epochs=15", 0)]
    assert pred.min() < 0.0 or pred.max() > 1.0  # logits, not probabilities squeezed into ties at 0 and 1


def test_detect_needs_one_row_per_labelled_segment(host):
    sig = sb.generate("tone-detect", n=64 * 100, segment=64, seed=0)
    with pytest.raises(sb.ValidationError, match="segment"):
        sb.get_task("detect").prepare(sig, window=32)
    with pytest.raises(sb.ValidationError, match="labels"):
        sb.get_task("detect").prepare(sb.generate("sines", n=640), window=64)


# -- the same rows wherever they are computed -------------------------------------------------------------------
CASES = {
    "equalise": ("channel", {"channel": "proakis-b", "ebn0_db": 8.0}, {"window": 8},
                 ["wiener", "lms", "rls", "dfe"]),
    "cancel": ("anc", {"sensor_snr_db": 30.0}, {"window": 8}, ["wiener", "lms", "nlms", "rls"]),
    "detect": ("tone-detect", {}, {}, ["wiener", "matched-filter", "energy-detector"]),
}
#: decoded per block read from a file (the Viterbi decoder starts each block from an unknown state)
PER_BLOCK = ("model limit (MLSE, true channel)",)


@pytest.fixture(scope="module")
def comms_files(tmp_path_factory):
    root = tmp_path_factory.mktemp("comms")
    out = {}
    for task, (source, params, _, _) in CASES.items():
        path = root / f"{source}.h5"
        sb.save_signal(sb.generate(source, n=64 * 150, seed=5, **params), path)
        out[task] = path
    return out


@pytest.mark.parametrize("task", sorted(CASES))
def test_comms_tasks_stream_from_a_file_with_the_in_memory_rows(comms_files, host, task):
    _, _, opts, methods = CASES[task]
    kw = {"methods": methods, "chunk_samples": CHUNK, "seeds": 1, **opts}
    memory = sb.compare(comms_files[task], task, stream=False, **kw)
    streamed = sb.compare(comms_files[task], task, stream=True, **kw)
    _ok(memory)
    _ok(streamed)
    a, b = _by(memory), _by(streamed)
    assert a.keys() == b.keys()
    n_test = memory.rows[0].cost and len(memory.predictions[(memory.rows[0].method, 0)])
    for label, row in a.items():
        for name, value in row.metrics.items():
            if name.endswith("_ci") or value is None:
                continue
            if label in PER_BLOCK:  # a few decisions near each block edge may differ, nothing else
                if name in ("ber", "ser"):
                    edges = math.ceil(n_test / (CHUNK - opts.get("window", 64))) + 1
                    assert abs(b[label].metrics[name] - value) <= 8 * edges / n_test, (label, name)
                continue
            assert b[label].metrics[name] == pytest.approx(value, rel=1e-9, abs=1e-12), (label, name)


@pytest.mark.parametrize("executor", [{"workers": 2}, {"scheduler": "local-dask", "workers": 2}])
def test_a_comms_sweep_on_executors_equals_the_serial_one(host, executor):
    if "scheduler" in executor:
        pytest.importorskip("dask.distributed")
    kw = {"methods": ["lms", "dfe"], "n": 4000, "window": 8, "seeds": 1}
    serial = sb.sweep("channel", {"ebn0_db": [4, 8]}, "equalise", **kw)
    parallel = sb.sweep("channel", {"ebn0_db": [4, 8]}, "equalise", **kw, **executor)
    key = lambda r: (r.method, tuple(sorted(r.grid.items())))  # noqa: E731
    a, b = {key(r): r for r in serial.rows}, {key(r): r for r in parallel.rows}
    assert a.keys() == b.keys() and len(a) == 2 * 5  # wiener, linear oracle, the limit, lms, dfe per point
    for k, row in a.items():
        for name in ("ber", "ser", "mse", "ber_ci_high"):
            assert b[k].metrics[name] == row.metrics[name], (k, name)
