"""Issue 17 item 2: results as data — tidy ``to_pandas()``, ``to_xarray()``, a short repr, an HTML
leaderboard, numeric datasets in the file and strict JSON everywhere."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path
from typing import Any

import h5py
import numpy as np
import pytest

import sigbench as sb
from sigbench import hookimpl
from sigbench._json import dumps, loads
from sigbench.processor import Processor
from sigbench.results import read_table

pd = pytest.importorskip("pandas")


class _Jitter(Processor):
    """Last sample plus seeded noise of size ``scale`` (stochastic: one row per seed)."""

    name = "test-jitter"
    deterministic = False

    def __init__(self, scale: float = 0.1, seed: int = 0, fail_seed: int = -1) -> None:
        super().__init__(scale=scale, seed=seed, fail_seed=fail_seed)
        self.scale, self.seed, self.fail_seed = scale, seed, fail_seed

    def _fit(self, inputs: np.ndarray, targets: np.ndarray) -> None:
        if self.seed == self.fail_seed:
            raise RuntimeError(f"seed {self.seed} <refused>")

    def _predict(self, inputs: np.ndarray) -> np.ndarray:
        rng = np.random.default_rng(self.seed)
        return inputs[:, -1] + self.scale * rng.standard_normal(inputs.shape[0])


class _Register:
    @hookimpl
    def register_processors(self, register: Any) -> None:
        register(_Jitter)


@pytest.fixture
def jitter(host: Any) -> Any:
    host.register(_Register(), name="test-jitter-plugin")
    yield host
    host.unregister("test-jitter-plugin")


@pytest.fixture
def results(jitter: Any) -> sb.Results:
    sig = sb.generate("sines", n=900, seed=0, snr_db=10.0)
    return sb.compare(sig, methods=["test-jitter", "test-jitter:fail_seed=2", "lms"], seeds=3, window=16)


def test_to_pandas_is_tidy_and_round_trips_every_stored_metric(results: sb.Results) -> None:
    df = results.to_pandas()
    jit = df[df["method"] == "test-jitter"]
    assert sorted(jit["seed"].tolist()) == [0, 1, 2] and set(jit["status"]) == {"ok"}
    assert len(df[df["method"] == "lms"]) == 1  # deterministic: one seed
    for row in results.rows:
        mine = df[(df["method"] == row.method) & (df["status"] == "ok")]
        for name, value in row.metrics.items():
            if name.endswith("_ci") or value is None:
                continue
            assert mine[name].mean() == pytest.approx(value, rel=1e-12, abs=1e-12), (row.method, name)
        for name in ("params", "macs_per_sample", "fit_s", "samples_per_s"):
            if row.status == "ok" and row.cost.get(name) is not None:
                assert mine[name].mean() == pytest.approx(row.cost[name], rel=1e-9, nan_ok=True), name
    # seeds differ: the per-seed values are the seeds', not the mean repeated
    assert jit["snr_db"].nunique() == 3
    assert df.attrs["main_metric"] == "snr_db" and "snr_db" in df.attrs["metrics"] and "fit_s" in df.attrs["costs"]


def test_to_pandas_keeps_the_failed_seed_with_status_and_error(results: sb.Results) -> None:
    df = results.to_pandas()
    bad = df[df["method"] == "test-jitter:fail_seed=2"].set_index("seed")
    assert bad.loc[2, "status"] == "failed" and "<refused>" in bad.loc[2, "error"]
    assert math.isnan(bad.loc[2, "snr_db"])
    assert bad.loc[0, "status"] == "ok" and np.isfinite(bad.loc[0, "snr_db"])


def test_sweep_grid_points_are_columns(jitter: Any) -> None:
    res = sb.sweep("sines", {"lms.mu": [0.002, 0.01]}, methods=["lms"], n=700, window=16, seeds=1)
    df = res.to_pandas()
    lms = df[df["name"] == "lms"]
    assert sorted(lms["grid.lms.mu"].tolist()) == [0.002, 0.01]
    assert lms["snr_db"].nunique() == 2
    ds = res.to_xarray()
    assert "grid.lms.mu" in ds.dims and ds["snr_db"].dims == ("method", "seed", "grid.lms.mu")


def test_file_holds_a_numeric_table_plain_h5py_reads(results: sb.Results, tmp_path: Path) -> None:
    path = results.save(tmp_path / "r.h5", signal=None)
    df = results.to_pandas()
    with h5py.File(path, "r") as f:
        t = f[f"runs/{results.run_id}/table"]
        assert t["snr_db"].dtype == np.float64 and t["seed"].dtype == np.int64
        np.testing.assert_allclose(t["snr_db"][()], df["snr_db"].to_numpy(), equal_nan=True)
        assert [s.decode() for s in t["method"][()]] == df["method"].tolist()
    stored = pd.DataFrame(read_table(path))
    assert stored["method"].tolist() == df["method"].tolist()
    for col in df.attrs["metrics"] + df.attrs["costs"]:
        np.testing.assert_allclose(stored[col].to_numpy(), df[col].to_numpy(), equal_nan=True, err_msg=col)


def _strict(text: str) -> Any:
    def refuse(token: str) -> None:
        raise AssertionError(f"non-standard JSON token {token}")

    return json.loads(text, parse_constant=refuse)


def test_every_json_string_in_the_file_is_strict_and_non_finite_values_come_back(results: sb.Results,
                                                                                 tmp_path: Path) -> None:
    row = results.row("lms")
    row.metrics["snr_db"] = math.inf
    row.metrics["mse_ci"] = math.nan
    results.environment["odd"] = -math.inf
    path = results.save(tmp_path / "r.h5", signal=sb.generate("sines", n=300, seed=1))
    texts: list[str] = []

    def collect(name: str, obj: Any) -> None:
        if isinstance(obj, h5py.Dataset) and h5py.check_string_dtype(obj.dtype) and obj.shape == ():
            texts.append(obj.asstr()[()])
        for value in obj.attrs.values():
            if isinstance(value, (str, bytes)) and str(value)[:1] in ("[", "{"):
                texts.append(value.decode() if isinstance(value, bytes) else value)

    with h5py.File(path, "r") as f:
        f.visititems(collect)
        doc = _strict(f[f"runs/{results.run_id}/results.json"][()].decode())
    assert len(texts) >= 4
    for text in texts:
        _strict(text)
    assert any(p.endswith("/metrics/snr_db") for p in doc["non_finite"])
    back = sb.load_results(path)
    assert back.row("lms").metrics["snr_db"] == math.inf and math.isnan(back.row("lms").metrics["mse_ci"])
    assert back.environment["odd"] == -math.inf


def test_load_results_reads_an_older_file_with_infinity_tokens_and_no_table(results: sb.Results,
                                                                          tmp_path: Path) -> None:
    path = results.save(tmp_path / "r.h5")
    old = tmp_path / "old.h5"
    with h5py.File(path, "r") as src, h5py.File(old, "w") as dst:
        for key, value in src.attrs.items():
            dst.attrs[key] = value
        src.copy(src["runs"], dst, "runs")
        g = dst[f"runs/{results.run_id}"]
        del g["table"]
        doc = results.to_json()
        doc["rows"][0]["metrics"]["snr_db"] = math.inf
        del g["results.json"]
        g.create_dataset("results.json", data=json.dumps(doc, default=str))  # Python's "Infinity"
    back = sb.load_results(old)
    assert back.rows[0].metrics["snr_db"] == math.inf
    assert len(back.to_pandas()) == len(results.to_pandas())
    with pytest.raises(sb.FileFormatError, match="no table"):
        read_table(old)


def test_repr_is_short_and_html_is_an_escaped_leaderboard(results: sb.Results) -> None:
    text = repr(results)
    assert len(text) < 300 and results.run_id in text and "failed" in text
    page = results._repr_html_()
    assert page.startswith("<table") and page.count("<tr>") == len(results.rows) + 1
    assert "&lt;refused&gt;" in page and "<refused>" not in page
    assert len(repr(results.rows[0])) < 300


def test_pandas_and_xarray_are_imported_only_when_asked() -> None:
    code = ("import sys, sigbench as sb\n"
            "r = sb.compare(sb.generate('sines', n=400, seed=0), methods=['lms'], window=8, seeds=1)\n"
            "repr(r); r._repr_html_()\n"
            "print(sorted(m for m in ('pandas', 'xarray') if m in sys.modules))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.strip().splitlines()[-1] == "[]"


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_json_encoder_writes_null_with_a_flag_and_reads_it_back(value: float) -> None:
    doc = {"a": [1.0, value, {"b/c": np.float32(value)}], "d": np.int64(3), "e": (1, 2)}
    text = dumps(doc)
    parsed = _strict(text)
    assert parsed["a"][1] is None and parsed["a"][2]["b/c"] is None and parsed["d"] == 3
    assert set(parsed["non_finite"]) == {"/a/1", "/a/2/b~1c"}
    back = loads(text)
    assert "non_finite" not in back
    assert back["a"][1] == value or (math.isnan(value) and math.isnan(back["a"][1]))
    with pytest.raises(TypeError):
        dumps({"x": object()}, lenient=False)


def test_results_from_a_standard_json_decoding_get_their_infinities_back() -> None:
    sig = sb.generate("sines", n=600, snr_db=math.inf, seed=0)  # noiseless: an exact method scores +inf
    res = sb.compare(sig, "spectrum", ["fft"], window=16, seeds=1, reference="fft")
    assert res.rows[0].metrics["snr_db"] == math.inf
    doc = json.loads(dumps(res.to_json()))  # the standard library leaves the nulls and the map
    assert doc["rows"][0]["metrics"]["snr_db"] is None and "non_finite" in doc
    back = sb.Results.from_json(doc)
    assert back.rows[0].metrics["snr_db"] == math.inf
    assert "non_finite" in doc  # the caller's document is left as it was
