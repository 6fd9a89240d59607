"""Plugin loading and registration failures (RELIABILITY 34-39, 43; STYLE 2, 13)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from importlib import metadata
from typing import Any

import numpy as np
import pluggy
import pytest

from sigbench import PluginError, Processor, hookimpl
from sigbench.host import DEFAULT_PLUGINS, Host


def _processor(proc_name: str) -> type[Processor]:
    class P(Processor):
        name = proc_name

        def _fit(self, inputs: np.ndarray, targets: np.ndarray) -> None:
            pass

        def _predict(self, inputs: np.ndarray) -> np.ndarray:
            return inputs[:, -1:]

    return P


def _proc_plugin(*names: str) -> Any:
    classes = [_processor(n) for n in names]

    class Plugin:
        @hookimpl
        def register_processors(self, register):
            for cls in classes:
                register(cls)

    return Plugin()


@dataclass
class FakeEntryPoint:
    """What ``importlib.metadata.entry_points(group="sigbench")`` yields, with a controllable ``load``."""

    name: str
    value: str
    loader: Callable[[], Any]
    dist: Any = None
    group: str = "sigbench"

    def load(self) -> Any:
        return self.loader()


@dataclass
class FakeDist:
    name: str
    version: str = "1.0"


def _raise_import() -> Any:
    raise ImportError("No module named 'missing_dependency'")


@pytest.fixture
def fake_entry_points(monkeypatch: pytest.MonkeyPatch) -> Callable[..., Host]:
    """Install fake entry points, return a Host that autoloads them (no built-ins, for speed)."""

    def make(*eps: FakeEntryPoint) -> Host:
        def entry_points(**kw: Any) -> list[FakeEntryPoint]:
            assert kw == {"group": "sigbench"}
            return list(eps)

        monkeypatch.setattr("sigbench.host.metadata.entry_points", entry_points)
        return Host(load_entrypoints=True, builtins=())

    return make


def test_builtins_register_through_the_same_hooks(host) -> None:
    host.load_plugins()
    for modname in DEFAULT_PLUGINS:
        assert host.pm.has_plugin(modname) or any(b.name == modname for b in host.broken), modname
    assert host.registry.broken == []  # the built-ins load cleanly


def test_entrypoints_not_autoloaded_under_tests(monkeypatch: pytest.MonkeyPatch) -> None:
    called = []
    monkeypatch.setattr("sigbench.host.metadata.entry_points", lambda **kw: called.append(kw) or [])
    Host(builtins=()).load_plugins()
    assert called == []


def test_broken_entry_point_is_listed_and_others_work(fake_entry_points) -> None:
    """RELIABILITY 34: an ImportError is recorded with package and error; the good plugin loads."""
    good = FakeEntryPoint("good", "good_mod", lambda: _proc_plugin("ep-good"), FakeDist("good-dist", "2.0"))
    bad = FakeEntryPoint("bad", "bad_mod", _raise_import, FakeDist("bad-dist", "0.3"))
    host = fake_entry_points(bad, good)
    reg = host.registry
    assert reg.names("processors") == ["ep-good"]
    assert reg.entries["processors"]["ep-good"].package == "good-dist"
    assert reg.entries["processors"]["ep-good"].version == "2.0"
    (broken,) = reg.broken
    assert broken.name == "bad" and broken.package == "bad-dist" and broken.stage == "import"
    assert "ImportError" in broken.error and "missing_dependency" in broken.error
    json.dumps(broken.as_dict())


def test_asking_for_a_broken_plugins_name_names_the_package(fake_entry_points) -> None:
    host = fake_entry_points(FakeEntryPoint("bad", "bad_mod", _raise_import, FakeDist("bad-dist")))
    with pytest.raises(PluginError, match=r"bad \(bad-dist\) failed to load"):
        host.registry.get("processors", "bad")
    # any name it might have provided: the broken plugin is named as the likely cause (issue 14)
    with pytest.raises(PluginError, match=r"'nope' is not available; plugins that failed to load might provide it: "
                                          r"bad \(bad-dist\): ImportError"):
        host.registry.get("processors", "nope")


def test_package_falls_back_to_module_without_dist(fake_entry_points) -> None:
    host = fake_entry_points(FakeEntryPoint("bad", "top_mod.sub:obj", _raise_import))
    assert host.registry.broken[0].package == "top_mod"


def test_strict_plugins_reraise(fake_entry_points, monkeypatch: pytest.MonkeyPatch) -> None:
    """RELIABILITY 35: SIGBENCH_STRICT_PLUGINS=1 re-raises for plugin developers."""
    monkeypatch.setenv("SIGBENCH_STRICT_PLUGINS", "1")
    host = fake_entry_points(FakeEntryPoint("bad", "bad_mod", _raise_import))
    with pytest.raises(ImportError, match="missing_dependency"):
        host.load_plugins()


@pytest.mark.parametrize(("allow", "expected"), [
    ("", []),  # empty: load none
    ("one", ["p-one"]),  # by entry-point name
    ("dist-two", ["p-two"]),  # by distribution name
    ("one, dist-two", ["p-one", "p-two"]),
    (None, ["p-one", "p-two"]),  # unset: load all
])
def test_load_plugins_allowlist(fake_entry_points, monkeypatch: pytest.MonkeyPatch, allow: str | None,
                                expected: list[str]) -> None:
    """RELIABILITY 43: SIGBENCH_LOAD_PLUGINS='' loads none, =name loads only name."""
    if allow is None:
        monkeypatch.delenv("SIGBENCH_LOAD_PLUGINS", raising=False)
    else:
        monkeypatch.setenv("SIGBENCH_LOAD_PLUGINS", allow)
    loaded: list[str] = []

    def loader(name: str) -> Callable[[], Any]:
        def load() -> Any:
            loaded.append(name)
            return _proc_plugin(f"p-{name}")
        return load

    host = fake_entry_points(FakeEntryPoint("one", "one_mod", loader("one"), FakeDist("dist-one")),
                             FakeEntryPoint("two", "two_mod", loader("two"), FakeDist("dist-two")))
    assert host.registry.names("processors") == expected
    assert sorted(loaded) == [e.removeprefix("p-") for e in expected]  # the others were never imported


def test_load_plugins_is_idempotent(fake_entry_points) -> None:
    count = []
    host = fake_entry_points(FakeEntryPoint("one", "m", lambda: count.append(1) or _proc_plugin("x")))
    host.load_plugins()
    host.load_plugins()
    assert count == [1]


def test_entry_points_loaded_first_still_clash_after_the_builtins(monkeypatch: pytest.MonkeyPatch) -> None:
    """The CLI loads entry points alone (for ``register_commands``) before any built-in: a third party that
    takes a built-in's name is still reported after the built-in, each plugin is imported once, and the
    built-in modules are not imported until the registry is asked for."""
    count: list[int] = []
    ep = FakeEntryPoint("ep-naive", "m", lambda: count.append(1) or _proc_plugin("naive"), FakeDist("ep-dist"))
    monkeypatch.setattr("sigbench.host.metadata.entry_points", lambda **kw: [ep])
    host = Host(load_entrypoints=True, builtins=("sigbench.plugins.dsp.naive", "sigbench.plugins.dsp.lms"))
    host.load_entry_points()
    assert host.pm.has_plugin("ep-naive") and not host.pm.has_plugin("sigbench.plugins.dsp.naive")
    with pytest.raises(PluginError, match=r"'naive' is registered by both sigbench\.plugins\.dsp\.naive "
                                          r"\(sigbench\) and ep-naive \(ep-dist\)"):
        host.registry.get("processors", "naive")
    assert host.registry.get("processors", "lms").origin == "sigbench.plugins.dsp.lms"
    host.load_plugins()
    host.load_entry_points()
    assert count == [1]


def test_hookimpl_with_extra_argument_is_reported_by_name_and_rolled_back(host) -> None:
    """RELIABILITY 36: a PluginValidationError names the plugin; nothing of it stays registered."""

    class Bad:
        @hookimpl
        def register_metrics(self, register):  # valid, and registered by pluggy before the bad one
            register("bad-metric", lambda y, p, c: 0.0)

        @hookimpl
        def register_processors(self, register, extra):  # 'extra' is not in the hookspec
            pass

    assert host.register(Bad(), name="bad-signature", package="bad-pkg") is False
    (broken,) = [b for b in host.broken if b.name == "bad-signature"]
    assert broken.package == "bad-pkg" and "PluginValidationError" in broken.error
    assert "bad-signature" in broken.error and "extra" in broken.error
    assert not host.pm.has_plugin("bad-signature")
    assert all(impl.plugin_name != "bad-signature" for impl in host.pm.hook.register_metrics.get_hookimpls())
    assert "bad-metric" not in host.registry.names("metrics")


def test_misspelled_hook_is_caught_by_check_pending(host) -> None:
    """RELIABILITY 37."""

    class Typo:
        @hookimpl
        def register_processor(self, register):  # singular: no such hook
            pass

    assert host.register(Typo(), name="typo-plugin") is False
    (broken,) = [b for b in host.broken if b.name == "typo-plugin"]
    assert "register_processor" in broken.error and broken.stage == "register"
    assert not host.pm.has_plugin("typo-plugin")
    assert not hasattr(host.pm.hook, "register_processor") or not host.pm.hook.register_processor.get_hookimpls()


def test_strict_mode_reraises_validation_errors(host, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SIGBENCH_STRICT_PLUGINS", "1")

    class Typo:
        @hookimpl
        def register_processor(self, register):
            pass

    with pytest.raises(pluggy.PluginValidationError):
        host.register(Typo(), name="typo-plugin")
    assert not host.pm.has_plugin("typo-plugin")


def test_same_processor_name_from_two_plugins_names_both_origins(host) -> None:
    """RELIABILITY 38: no silent rename; asking for the name raises naming both."""
    host.register(_proc_plugin("dup"), name="first-plugin", package="pkg-a")
    host.register(_proc_plugin("dup"), name="second-plugin", package="pkg-b")
    try:
        reg = host.registry
        assert "dup" not in reg.names("processors")
        assert not any(n.startswith("dup_") or n == "dup1" for n in reg.names("processors"))
        clash = [b for b in reg.broken if b.stage == "name clash"]
        assert len(clash) == 1
        assert "first-plugin (pkg-a)" in clash[0].error and "second-plugin (pkg-b)" in clash[0].error
        with pytest.raises(PluginError, match=r"first-plugin \(pkg-a\) and second-plugin \(pkg-b\)"):
            reg.get("processors", "dup")
    finally:
        host.unregister("first-plugin")
        host.unregister("second-plugin")


def test_same_name_three_times_lists_all(host) -> None:
    for i in range(3):
        host.register(_proc_plugin("trip"), name=f"p{i}")
    try:
        with pytest.raises(PluginError, match=r"p0 .* and p1 .* and p2"):
            host.registry.get("processors", "trip")
    finally:
        for i in range(3):
            host.unregister(f"p{i}")


def test_same_metric_name_clashes_with_builtin_origin(host) -> None:
    class M:
        @hookimpl
        def register_metrics(self, register):
            register("test-m", lambda y, p, c: 0.0)

    host.register(M(), name="m1")
    host.register(M(), name="m2")
    try:
        with pytest.raises(PluginError, match="metric 'test-m' is registered by both m1"):
            host.registry.get("metrics", "test-m")
    finally:
        host.unregister("m1")
        host.unregister("m2")


def test_raising_register_hook_is_attributed_and_others_still_register(host) -> None:
    """RELIABILITY 39: pluggy would stop at the first raising impl; the host calls each one apart."""

    class Raises:
        @hookimpl
        def register_processors(self, register):
            register(_processor("half-registered"))
            raise RuntimeError("cannot register today")

    host.register(_proc_plugin("before"), name="before-plugin")
    host.register(Raises(), name="raising-plugin", package="raising-pkg")
    host.register(_proc_plugin("after"), name="after-plugin")
    try:
        reg = host.registry
        assert {"before", "after"} <= set(reg.names("processors"))
        assert "half-registered" not in reg.names("processors")  # rolled back
        (broken,) = [b for b in reg.broken if b.name == "raising-plugin"]
        assert broken.package == "raising-pkg" and broken.stage == "register_processors"
        assert "RuntimeError: cannot register today" in broken.error
        assert "lms" in reg.names("processors")  # built-ins unaffected
    finally:
        for name in ("before-plugin", "raising-plugin", "after-plugin"):
            host.unregister(name)


def test_registering_same_name_twice_in_one_plugin(host) -> None:
    host.register(_proc_plugin("twice", "twice"), name="twice-plugin")
    try:
        (broken,) = [b for b in host.registry.broken if b.name == "twice-plugin"]
        assert "twice" in broken.error
    finally:
        host.unregister("twice-plugin")


def test_empty_name_is_refused(host) -> None:
    host.register(_proc_plugin(""), name="nameless")
    try:
        (broken,) = [b for b in host.registry.broken if b.name == "nameless"]
        assert "received: name=''" in broken.error
    finally:
        host.unregister("nameless")


def test_registering_the_same_plugin_name_twice_keeps_the_first(host) -> None:
    host.register(_proc_plugin("kept"), name="same")
    try:
        assert host.register(_proc_plugin("other"), name="same") is False
        assert "kept" in host.registry.names("processors")
        assert host.pm.has_plugin("same")
    finally:
        host.unregister("same")


def test_real_entry_point_objects_pointing_at_the_fixture_modules(
        plugin_path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The fixture packages through real ``importlib.metadata`` distributions found on sys.path."""
    monkeypatch.syspath_prepend(str(plugin_path))
    dists = {d.metadata["Name"]: d for d in metadata.distributions(path=[str(plugin_path)])}
    eps = [ep for d in dists.values() for ep in d.entry_points if ep.group == "sigbench"]
    assert {ep.name for ep in eps} == {"fixture-good", "fixture-broken"}
    monkeypatch.setattr("sigbench.host.metadata.entry_points", lambda **kw: eps)
    host = Host(load_entrypoints=True, builtins=())
    try:
        reg = host.registry
        assert reg.entries["processors"]["fixture-echo"].package == "sigbench-fixture-good"
        assert "fixture-zero" in reg.names("metrics")
        (broken,) = reg.broken
        assert broken.package == "sigbench-fixture-broken" and "notinstalled_dependency" in broken.error
    finally:
        import sys

        for mod in ("sigbench_fixture_good", "sigbench_fixture_broken"):
            sys.modules.pop(mod, None)
