"""The harness catches each breach it promises to catch (each bad class breaks one rule), and its
pytest fixtures and ``sigbench plugins validate``/``new`` behave."""

from __future__ import annotations

import json
from pathlib import Path
from typing import ClassVar

import numpy as np
import pytest
from typer.testing import CliRunner

import sigbench.testing._processor as processor_module
from sigbench import Processor, ValidationError, hookimpl
from sigbench.cli import app
from sigbench.testing import (
    ConformanceReport,
    check_metric,
    check_processor,
    check_source,
    make_data,
    new_plugin,
)
from sigbench.testing._skeleton import plugin_names


# -- processors, each breaking one rule (module level, so a fresh interpreter can import them) ----------
class LastSample(Processor):
    """Conforms: predicts the newest sample scaled by a fitted gain."""

    name = "harness-last"

    def _fit(self, inputs, targets):
        if targets.ndim == 2:
            raise ValidationError("expected one target per row")
        last = np.asarray(inputs[:, -1], dtype=float)
        self.gain = np.asarray(float(last @ targets / (last @ last)))

    def _predict(self, inputs):
        return np.asarray(inputs[:, -1], dtype=float) * self.gain

    def get_state(self):
        return {"gain": self.gain}

    def set_state(self, state):
        self.gain = state["gain"]


class GlobalRng(LastSample):
    name = "harness-global-rng"

    def _fit(self, inputs, targets):
        super()._fit(inputs, targets)
        self.gain = self.gain + np.random.normal(scale=0.1)  # the global generator


class ForgetsState(LastSample):
    name = "harness-forgets"

    def get_state(self):
        return {}

    def set_state(self, state):
        self.gain = np.asarray(1.0)


class AcceptsNaN(LastSample):
    name = "harness-nan"

    def _check_inputs(self, inputs, *, fitting=False):  # no validation at all
        pass


class WrongShape(LastSample):
    name = "harness-shape"

    def _predict(self, inputs):
        return np.zeros((inputs.shape[0], 2))


class DropsKey(LastSample):
    name = "harness-describe"

    def describe(self):
        info = super().describe()
        del info["macs_per_sample"]
        return info


class IgnoresSeed(LastSample):
    name = "harness-seed"
    deterministic: ClassVar[bool] = False

    def __init__(self, seed: int = 0) -> None:
        super().__init__(seed=seed)


class ForgetfulOnline(LastSample):
    """Online, but every call restarts from the fitted gain (the state does not carry over)."""

    name = "harness-online"
    online: ClassVar[bool] = True

    def _predict_online(self, inputs, targets):
        gain = float(self.fitted_gain)
        out = np.empty(inputs.shape[0])
        for i, row in enumerate(np.asarray(inputs, dtype=float)):
            out[i] = gain * row[-1]
            gain += 0.01 * (targets[i] - out[i]) * row[-1]
        self.gain = np.asarray(gain)
        return out

    def _fit(self, inputs, targets):
        super()._fit(inputs, targets)
        self.fitted_gain = self.gain


class ImportsHeavy(LastSample):
    """Imports a (stand-in) heavy module when it fits."""

    name = "harness-heavy"

    def _fit(self, inputs, targets):
        import xml.dom.minidom  # noqa: F401  (stands in for tensorflow: the test adds "xml" to HEAVY_MODULES)

        super()._fit(inputs, targets)


def _status(report: ConformanceReport) -> dict[str, str]:
    return {c.name: c.status for c in report.checks}


def test_a_conforming_processor_passes_every_check():
    report = check_processor(LastSample, check_imports=True)
    assert report.passed, report.format()
    status = _status(report)
    assert status["fit/predict, 2-D targets"] == "not supported"
    assert status["online: chunked equals one pass"] == "skipped"
    assert status["no TensorFlow import"] == "passed"


@pytest.mark.parametrize(("cls", "check"), [
    (GlobalRng, "no global RNG"),
    (ForgetsState, "save/load round trip"),
    (AcceptsNaN, "input validation"),
    (WrongShape, "fit/predict, 1-D targets"),
    (DropsKey, "describe() keys"),
    (IgnoresSeed, "seeded determinism"),
    (ForgetfulOnline, "online: chunked equals one pass"),
])
def test_each_breach_fails_its_check(cls, check):
    report = check_processor(cls, strict=False, check_imports=False)
    assert _status(report)[check] == "failed", report.format()
    with pytest.raises(AssertionError, match=check.replace("(", r"\(").replace(")", r"\)")):
        check_processor(cls, check_imports=False)


def test_dsp_processor_importing_a_heavy_module_fails(monkeypatch):
    monkeypatch.setattr(processor_module, "HEAVY_MODULES", (*processor_module.HEAVY_MODULES, "xml"))
    report = check_processor(ImportsHeavy, strict=False)
    result = report["no TensorFlow import"]
    assert result.status == "failed" and "imported xml" in result.message
    assert _status(check_processor(LastSample, strict=False))["no TensorFlow import"] == "passed"


def test_harness_leaves_the_global_rng_alone():
    np.random.seed(7)
    expected = np.random.random()
    np.random.seed(7)
    check_processor(LastSample, check_imports=False)
    assert np.random.random() == expected


def test_report_formats_and_serialises():
    report = check_processor(WrongShape, strict=False, check_imports=False)
    text = report.format()
    assert text.startswith("processor harness-shape: FAILED") and "[FAIL] fit/predict, 1-D targets" in text
    data = json.loads(json.dumps(report.as_dict()))
    assert data["passed"] is False and {c["status"] for c in data["checks"]} >= {"passed", "failed"}


def test_make_data_rows_are_windows_of_one_stream():
    d = make_data(window=8, n_rows=100, n_outputs=2)
    assert d.train_inputs.shape == (75, 8) and d.test_inputs.shape == (25, 8)
    np.testing.assert_array_equal(d.test_inputs[0], d.stream[75:83])
    assert d.test_scalar[0] == d.stream[83] and d.test_vector.shape == (25, 2)


# -- sources and metrics --------------------------------------------------------------------------------------
def good_source(n: int = 100, seed: int = 0, *, level: float = 1.0):
    from sigbench import Signal

    if n < 1 or seed < 0:
        raise ValidationError(f"bad n or seed; received: n={n}, seed={seed}")
    clean = np.full(n, level)
    return Signal(clean + np.random.default_rng(seed).normal(size=n), sample_rate_hz=1.0, clean=clean)


def global_rng_source(n: int = 100, seed: int = 0):
    from sigbench import Signal

    if n < 1 or seed < 0:
        raise ValidationError("bad")
    return Signal(np.random.normal(size=n), sample_rate_hz=1.0)


def ignores_n(n: int = 100, seed: int = 0, level=1.0):  # no annotation on level, and n ignored
    from sigbench import Signal

    return Signal(np.full(50, level), sample_rate_hz=1.0)


def test_source_checks():
    assert check_source(good_source).passed
    assert _status(check_source(global_rng_source, strict=False))["no global RNG"] == "failed"
    status = _status(check_source(ignores_n, strict=False))
    assert status["returns a Signal"] == "failed" and status["signature"] == "failed"
    assert status["input validation"] == "failed"


def test_loader_without_a_file_checks_only_errors():
    def loader(path: str, *, scale: float = 1.0):
        return np.load(path) * scale  # raw OSError for a missing file, and not a Signal

    status = _status(check_source(loader, strict=False))
    assert status["input validation"] == "failed" and status["returns a Signal"] == "skipped"


def test_metric_checks():
    def backwards(y_true, y_pred, context):
        return -float(np.mean((y_true - y_pred) ** 2))

    def mutates(y_true, y_pred, context):
        y_pred -= y_true
        return float(np.mean(y_pred**2))

    assert check_metric("mse").passed
    assert _status(check_metric(backwards, higher_is_better=False, strict=False))["direction"] == "failed"
    assert _status(check_metric(backwards, strict=False))["direction"] == "not supported"
    assert _status(check_metric(mutates, higher_is_better=False, strict=False))["returns a float"] == "failed"


# -- pytest fixtures (the pytest11 plugin is active in this suite too) ------------------------------------------
class _ExtraPlugin:
    @hookimpl
    def register_processors(self, register):
        register(LastSample)


def test_fixtures_register_and_check(sigbench_host, sigbench_register, sigbench_check_processor):
    import sigbench as sb

    sigbench_register(_ExtraPlugin(), "harness-extra")
    assert sb.get_processor("harness-last") is LastSample
    assert sigbench_host.registry.get("processors", "harness-last").package == "test"
    report = sigbench_check_processor(LastSample, check_imports=False)
    assert report.passed


def test_fixture_host_is_gone_after_the_test():
    import sigbench as sb

    with pytest.raises(sb.UnknownNameError):
        sb.get_processor("harness-last")


def test_register_fixture_reports_a_bad_plugin(sigbench_register):
    class Bad:
        @hookimpl
        def register_processors(self, register, extra):  # a hookimpl with an argument the spec lacks
            pass

    with pytest.raises(AssertionError, match="did not register"):
        sigbench_register(Bad(), "harness-bad")


# -- the CLI ------------------------------------------------------------------------------------------------------
def test_cli_validate_one_builtin_and_a_failing_plugin(host):
    runner = CliRunner()
    res = runner.invoke(app, ["plugins", "validate", "naive", "--json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["reports"][0]["subject"] == "naive"

    res = runner.invoke(app, ["plugins", "validate"])
    assert res.exit_code == 0 and "No plugins installed" in res.output

    class Plugin:
        @hookimpl
        def register_processors(self, register):
            register(ForgetsState)

    host.register(Plugin(), "harness-plugin", package="sigbench-harness")
    try:
        res = runner.invoke(app, ["plugins", "validate", "--json"])
        assert res.exit_code == 1
        report = json.loads(res.stdout)["reports"][0]
        assert (report["subject"], report["package"]) == ("harness-forgets", "sigbench-harness")
        assert report["passed"] is False
        res = runner.invoke(app, ["plugins", "validate", "sigbench-harness"])
        assert res.exit_code == 1 and "save/load round trip" in res.output
    finally:
        host.unregister("harness-plugin")

    res = runner.invoke(app, ["plugins", "validate", "no-such-thing"])
    assert res.exit_code == 2 and "no processor, source, metric or plugin named 'no-such-thing'" in res.output


def test_cli_new_creates_and_refuses_to_overwrite(tmp_path: Path):
    runner = CliRunner()
    res = runner.invoke(app, ["plugins", "new", "sigbench-kalman_2", "-o", str(tmp_path), "--json"])
    assert res.exit_code == 0, res.output
    path = Path(json.loads(res.stdout)["path"])
    assert path == tmp_path / "sigbench-kalman-2"
    text = (path / "sigbench_kalman_2" / "processor.py").read_text()
    assert "class Kalman2(Processor)" in text and 'name: ClassVar[str] = "kalman-2"' in text
    assert 'kalman-2 = "sigbench_kalman_2.processor"' in (path / "pyproject.toml").read_text()
    assert "{{" not in "".join(p.read_text() for p in path.rglob("*") if p.is_file())
    compile(text, "processor.py", "exec")
    tests = (path / "tests" / "test_conformance.py").read_text().strip().splitlines()
    assert len(tests) == 3 and "sigbench_check_processor" in tests[-1]

    res = runner.invoke(app, ["plugins", "new", "kalman-2", "-o", str(tmp_path)])
    assert res.exit_code == 1 and "already exists" in res.output
    assert [p.name for p in tmp_path.iterdir()] == ["sigbench-kalman-2"]  # no staging folder left behind


@pytest.mark.parametrize("name", [
    "Kalman",  # upper case
    "2fast",  # starts with a digit
    "my filter",  # space
    "a--b",  # empty word
    "sigbench-",  # nothing after the prefix
    "x/../y",  # a path
])
def test_new_refuses_bad_names(name, tmp_path):
    with pytest.raises(ValidationError, match="received: name="):
        new_plugin(name, tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_plugin_names():
    assert plugin_names("my_filter") == {
        "name": "my_filter", "dist_name": "sigbench-my-filter", "package": "sigbench_my_filter",
        "processor_name": "my-filter", "plugin_name": "my-filter", "class_name": "MyFilter"}
