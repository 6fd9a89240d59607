"""Every hook in sigbench.hookspecs: a test per hook, and meta-tests that keep tests and docs complete.

Plugins here are small classes registered on a fresh host (the ``host`` fixture) under a name and
unregistered in ``finally`` (STYLE 13).
"""

from __future__ import annotations

import inspect
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import typer
from typer.testing import CliRunner

import sigbench as sb
from sigbench import Processor, Signal, hookimpl, hookspecs

DOCS = Path(__file__).resolve().parents[2] / "docs" / "plugin-hooks.md"


def _hookspec_names() -> list[str]:
    return sorted(name for name, fn in inspect.getmembers(hookspecs, inspect.isfunction)
                  if hasattr(fn, "sigbench_spec"))


def hook_signature(name: str) -> str:
    """``name(arg: Type, …) -> Ret`` exactly as written in hookspecs.py."""
    sig = inspect.signature(getattr(hookspecs, name))
    params = ", ".join(f"{p.name}: {p.annotation}" for p in sig.parameters.values())
    return f"{name}({params}) -> {sig.return_annotation}"


HOOKS = _hookspec_names()


def test_there_are_hooks() -> None:
    assert {"register_sources", "register_processors", "register_tasks", "register_metrics",
            "register_commands", "on_run_start", "on_method_done", "on_run_end"} <= set(HOOKS)


@pytest.mark.parametrize("hook", HOOKS)
def test_plugin_hooks_have_tests(hook: str) -> None:
    """Meta-test (STYLE 12, RELIABILITY 44): every hookspec has a ``test_hook_<name>`` in this module."""
    assert f"test_hook_{hook}" in globals(), f"add a test_hook_{hook} to {__file__}"


@pytest.mark.parametrize("hook", HOOKS)
def test_plugin_hooks_are_documented(hook: str) -> None:
    """Meta-test: every hook with its exact signature appears in docs/plugin-hooks.md."""
    text = DOCS.read_text(encoding="utf-8")
    assert re.search(rf"^#+ .*\b{hook}\b", text, re.M), f"no heading for {hook} in {DOCS}"
    assert hook_signature(hook) in text, f"signature {hook_signature(hook)!r} not in {DOCS}"


# -- the hooks, one test each ------------------------------------------------------------------
def test_hook_register_sources(host) -> None:
    def make(n: int = 10, seed: int = 0, level: float = 1.0) -> Signal:
        return Signal(np.full(n, level), sample_rate_hz=1.0, metadata={"seed": seed})

    def load(path: str) -> Signal:
        return Signal(np.zeros(3), sample_rate_hz=1.0)

    class Plugin:
        @hookimpl
        def register_sources(self, register):
            register("test-constant", make, description="a constant")
            register("test-loader", load, kind="loader")

    host.register(Plugin(), name="test-sources")
    try:
        entry = host.registry.get("sources", "test-constant")
        assert entry.origin == "test-sources" and entry.info["kind"] == "generator"
        assert host.registry.get("sources", "test-loader").info["kind"] == "loader"
        sig = sb.generate("test-constant", n=5, level=2.0)
        assert sig.n_samples == 5 and np.all(sig.data == 2.0)
        assert sb.load_source("test-loader", "whatever").n_samples == 3
        assert any(s["name"] == "test-constant" for s in sb.list_sources())
    finally:
        host.unregister("test-sources")
    assert "test-constant" not in host.registry.names("sources")


def test_hook_register_processors(host) -> None:
    class Last(Processor):
        """Repeat the last sample."""

        name = "test-last"
        family = "dsp"
        online = True

        def _fit(self, inputs: np.ndarray, targets: np.ndarray) -> None:
            pass

        def _predict(self, inputs: np.ndarray) -> np.ndarray:
            return inputs[:, -1:]

    class Plugin:
        @hookimpl
        def register_processors(self, register):
            register(Last)

    host.register(Plugin(), name="test-processors", package="test-pkg", version="9.9")
    try:
        assert sb.get_processor("test-last") is Last
        listed = {p["name"]: p for p in sb.list_processors()}["test-last"]
        assert listed["family"] == "dsp" and listed["online"] is True
        assert listed["package"] == "test-pkg" and listed["version"] == "9.9"
        assert listed["description"] == "Repeat the last sample."
    finally:
        host.unregister("test-processors")


def test_hook_register_tasks(host) -> None:
    class FakeTask:
        name = "test-task"
        description = "a task for tests"
        metrics = ("mse",)

    task = FakeTask()

    class Plugin:
        @hookimpl
        def register_tasks(self, register):
            register(task)

    host.register(Plugin(), name="test-tasks")
    try:
        assert sb.get_task("test-task") is task
        assert {"name": "test-task", "metrics": ["mse"]}.items() <= {
            t["name"]: t for t in sb.list_tasks()}["test-task"].items()
    finally:
        host.unregister("test-tasks")


def test_hook_register_metrics(host) -> None:
    def bias(y_true: Any, y_pred: Any, context: Any) -> float:
        return float(np.mean(np.asarray(y_pred) - np.asarray(y_true)))

    class Plugin:
        @hookimpl
        def register_metrics(self, register):
            register("test-bias", bias, higher_is_better=False, description="mean error")

    host.register(Plugin(), name="test-metrics")
    try:
        fn = sb.get_metric("test-bias")
        assert fn([0, 0], [1, 3], {}) == 2.0
        info = {m["name"]: m for m in sb.list_metrics()}["test-bias"]
        assert info["higher_is_better"] is False and info["origin"] == "test-metrics"
    finally:
        host.unregister("test-metrics")


def test_hook_register_commands(host) -> None:
    app = typer.Typer()

    @app.callback()
    def root() -> None:
        """root"""

    class Plugin:
        @hookimpl
        def register_commands(self, app):
            @app.command("test-hello")
            def hello(name: str = "world") -> None:
                print(f"hello {name}")

    host.register(Plugin(), name="test-commands")
    try:
        host.pm.hook.register_commands(app=app)
        result = CliRunner().invoke(app, ["test-hello", "--name", "dsp"])
        assert result.exit_code == 0, result.output
        assert "hello dsp" in result.output
    finally:
        host.unregister("test-commands")


class _Recorder:
    def __init__(self) -> None:
        self.calls: list[tuple[Any, ...]] = []

    @hookimpl
    def on_run_start(self, run):
        self.calls.append(("start", run))

    @hookimpl
    def on_method_done(self, run, method, result):
        self.calls.append(("done", run, method, result))

    @hookimpl
    def on_run_end(self, run):
        self.calls.append(("end", run))


class _Raiser:
    @hookimpl
    def on_run_start(self, run):
        raise RuntimeError("observer start failed")

    @hookimpl
    def on_method_done(self, run, method, result):
        raise RuntimeError("observer done failed")

    @hookimpl
    def on_run_end(self, run):
        raise RuntimeError("observer end failed")


def _observe(host, hook: str, **kwargs: Any) -> tuple[list[tuple[Any, ...]], list[str]]:
    rec = _Recorder()
    host.register(_Raiser(), name="test-raiser")
    host.register(rec, name="test-recorder")
    try:
        problems = host.call_observers(hook, **kwargs)
    finally:
        host.unregister("test-recorder")
        host.unregister("test-raiser")
    return rec.calls, problems


def test_hook_on_run_start(host) -> None:
    calls, problems = _observe(host, "on_run_start", run="RUN")
    assert calls == [("start", "RUN")]  # the raising observer did not stop the recorder
    assert len(problems) == 1 and "test-raiser" in problems[0] and "observer start failed" in problems[0]


def test_hook_on_method_done(host) -> None:
    calls, problems = _observe(host, "on_method_done", run="RUN", method="lms", result={"status": "ok"})
    assert calls == [("done", "RUN", "lms", {"status": "ok"})]
    assert len(problems) == 1 and "test-raiser.on_method_done" in problems[0]


def test_hook_on_run_end(host) -> None:
    calls, problems = _observe(host, "on_run_end", run="RUN")
    assert calls == [("end", "RUN")]
    assert len(problems) == 1 and "observer end failed" in problems[0]


def test_observer_may_take_fewer_arguments(host) -> None:
    class Partial:
        @hookimpl
        def on_method_done(self, method):
            seen.append(method)

    seen: list[str] = []
    host.register(Partial(), name="test-partial")
    try:
        assert host.call_observers("on_method_done", run=None, method="wiener", result=None) == []
    finally:
        host.unregister("test-partial")
    assert seen == ["wiener"]


def test_strict_mode_reraises_observer_errors(host, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SIGBENCH_STRICT_PLUGINS", "1")
    host.register(_Raiser(), name="test-raiser")
    try:
        with pytest.raises(RuntimeError, match="observer end failed"):
            host.call_observers("on_run_end", run=None)
    finally:
        host.unregister("test-raiser")
