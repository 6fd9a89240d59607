"""RELIABILITY 53-57 at the level a user meets them: the command line and ``compare``.

The processors' own tests cover the parameter checks one by one (``tests/dsp``), the divergence detector
(``tests/dsp/test_adaptive.py``), seeds of the neural processors (``tests/neural``) and the conformance
harness (``tests/authoring``); here each guarantee is checked end to end.
"""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest

import sigbench as sb
from core.helpers import run_cli
from sigbench.cli import ExitCode
from sigbench.errors import ValidationError


def _invoke(args: list[str]) -> tuple[int, str, str]:
    from typer.testing import CliRunner

    from sigbench.cli import app

    result = CliRunner().invoke(app, args, prog_name="sigbench")
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def signal_file(tmp_path: Path) -> Path:
    return sb.save_signal(sb.generate("sines", n=1000, seed=0, snr_db=10.0), tmp_path / "sig.h5")


# -- 53 -------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("spec,message", [
    ("fir:cutoff=0", "cutoff > 0"),
    ("fir:cutoff=-0.2", "cutoff > 0"),
    ("fir:numtaps=30,cutoff=0.2,kind=highpass", "odd numtaps"),
    ("fir-bank:edges=0.3,0.1", "edges strictly increasing"),
    ("fir-bank:numtaps=64", "odd numtaps"),
    ("fir-bank:edges=0.0,0.1", "edges > 0"),
])
def test_case_53_bad_fir_parameters_exit_2_before_anything_runs(signal_file: Path, tmp_path: Path, spec: str,
                                                                message: str) -> None:
    out = tmp_path / "r.h5"
    code, stdout, stderr = _invoke(["compare", str(signal_file), "-m", spec, "-w", "64", "-o", str(out)])
    assert code == ExitCode.USAGE, stderr
    assert message in stderr and "Traceback" not in stderr and stdout == ""
    assert not out.exists()


def test_case_53_cutoff_at_nyquist_of_the_file_fails_the_method_with_the_reason(signal_file: Path) -> None:
    """A cutoff only known to be wrong once the sample rate is seen (10 Hz here: Nyquist 5 Hz)."""
    res = sb.compare(signal_file, methods=["fir:cutoff=5.0,numtaps=31"], window=32, seeds=1)
    row = res.row("fir:cutoff=5.0,numtaps=31")
    assert row.status == "failed" and "cutoff in (0, 5)" in row.error and row.metrics == {}


# -- 54 -------------------------------------------------------------------------------------------------------
def test_case_54_lms_beyond_the_stability_bound_is_a_diverged_row_not_nan(signal_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "r.h5"
    res = sb.compare(signal_file, methods=["lms:mu=5.0", "nlms:mu=50", "wiener"], window=16, output=out)
    for label in ("lms:mu=5.0", "nlms:mu=50"):
        row = res.row(label)
        assert row.status == "failed" and "diverged" in row.error, row.error
        assert row.metrics == {}
    saved = sb.load_results(out)
    for row in saved.rows:
        assert all(v is None or np.isfinite(v) for v in row.metrics.values()), row
    assert not any(np.isnan(p).any() for p in saved.predictions.values())


def test_case_54_in_the_cli_exit_3_and_the_table_says_diverged(signal_file: Path) -> None:
    code, _stdout, stderr = _invoke(["compare", str(signal_file), "-m", "lms:mu=5.0", "-w", "16"])
    assert code == ExitCode.METHOD_FAILED
    assert "diverged" in stderr and "nan" not in stderr.lower()


# -- 55 -------------------------------------------------------------------------------------------------------
def test_case_55_window_longer_than_a_segment_is_refused_before_training(signal_file: Path, tmp_path: Path,
                                                                         slow_plugin: Path) -> None:
    marker = tmp_path / "fit-started"
    out = tmp_path / "r.h5"
    res = run_cli(["compare", str(signal_file), "-m", "rel-slow", "-w", "500", "-o", str(out)],
                  PYTHONPATH=str(slow_plugin), SIGBENCH_LOAD_PLUGINS="reltest", REL_MARKER=str(marker))
    assert res.returncode in (ExitCode.ERROR, ExitCode.USAGE), res.stderr
    lines = [ln for ln in res.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("Error: ") and "window" in lines[0], res.stderr
    assert not marker.exists(), "a processor started training before the protocol was checked"
    assert not out.exists()


def test_case_55_horizon_past_the_segment_is_refused(signal_file: Path) -> None:
    with pytest.raises(ValidationError):
        sb.compare(signal_file, methods=["wiener"], window=16, horizon=5000)


@pytest.mark.parametrize("name", ["wiener", "lms", "fir-bank", "naive"])
def test_case_55_mismatched_input_and_target_lengths_are_refused(name: str) -> None:
    x = np.lib.stride_tricks.sliding_window_view(np.sin(np.arange(300) * 0.1), 64)
    opts = {"fir-bank": {"mode": "features", "numtaps": 31}}.get(name, {})
    with pytest.raises(ValidationError, match=r"\d"):
        sb.get_processor(name)(**opts).fit(x, np.zeros(x.shape[0] - 3))


# -- 56 -------------------------------------------------------------------------------------------------------
_DSP_PREDICT = ["naive", "linear-extrapolation", "wiener", "lms", "nlms", "rls", "fir:cutoff=0.2",
                "fir-bank:mode=features,numtaps=31,bands=8"]


def _metrics(res: sb.Results) -> dict[str, dict[str, float]]:
    return {r.method: r.metrics for r in res.rows}


def test_case_56_dsp_results_ignore_the_global_numpy_rng(signal_file: Path) -> None:
    """No DSP method, metric or the engine reads the global NumPy/Python RNG: reseeding it changes nothing,
    and a run leaves it where it was."""
    runs = []
    for global_seed in (1, 2):
        np.random.seed(global_seed)
        random.seed(global_seed)
        before = np.random.get_state()[1].copy()
        runs.append(_metrics(sb.compare(signal_file, methods=_DSP_PREDICT, window=64, seeds=2)))
        np.testing.assert_array_equal(np.random.get_state()[1], before)
    assert runs[0] == runs[1]
    np.random.seed(3)
    spectrum = [_metrics(sb.compare(signal_file, "spectrum", methods=["fft", "goertzel"], window=32))]
    np.random.seed(4)
    spectrum.append(_metrics(sb.compare(signal_file, "spectrum", methods=["fft", "goertzel"], window=32)))
    assert spectrum[0] == spectrum[1]


def test_case_56_sources_ignore_the_global_rng() -> None:
    for name in ("sines", "noise", "ar", "fir-system"):
        np.random.seed(1)
        a = sb.generate(name, n=300, seed=5)
        np.random.seed(2)
        b = sb.generate(name, n=300, seed=5)
        c = sb.generate(name, n=300, seed=6)
        np.testing.assert_array_equal(a.data, b.data)
        assert not np.array_equal(a.data, c.data), name


def test_case_56_neural_same_seed_identical_different_seed_differs_global_rng_irrelevant(signal_file: Path) -> None:
    pytest.importorskip("keras")
    spec = "dnn:units=4,epochs=2,batch_size=64"

    def run(global_seed: int, seed: int) -> dict[str, float]:
        np.random.seed(global_seed)
        res = sb.compare(signal_file, methods=[spec], window=16, seeds=1, seed=seed, reference="")
        row = res.row(spec)
        assert row.status == "ok", row.error
        return row.metrics

    first = run(1, 0)
    assert run(2, 0) == first  # same seed, global RNG reseeded: identical
    assert run(1, 1)["mse"] != first["mse"]  # another seed: different weights, different numbers
