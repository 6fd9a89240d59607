"""pytest plugin (``pytest11`` entry point ``sigbench``): fixtures for testing sigbench plugins.

pytest loads this module in every project where sigbench is installed, sigbench's own test suite
included, so it stays inert until a test asks for one of its fixtures: it imports only pytest at
load time, defines no hooks and changes no global state.

Fixtures
--------
``sigbench_host``
    A fresh :class:`~sigbench.host.Host` with the built-ins only (installed entry points are never
    loaded), installed as the process-wide host for the test; the previous host comes back afterwards.
``sigbench_register``
    ``register(plugin, name=None)`` registers a plugin object (a module or an instance with hookimpls)
    in ``sigbench_host``; it is unregistered after the test.
``sigbench_check_processor``, ``sigbench_check_source``, ``sigbench_check_metric``
    :func:`~sigbench.testing.check_processor` and friends, in strict mode, saving into the test's
    ``tmp_path``.

A plugin's conformance test::

    from sigbench_kalman import Kalman
    def test_conformance(sigbench_check_processor):
        sigbench_check_processor(Kalman, {"q": 0.01})
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

__all__ = [
    "sigbench_check_metric",
    "sigbench_check_processor",
    "sigbench_check_source",
    "sigbench_host",
    "sigbench_register",
]


@pytest.fixture
def sigbench_host() -> Iterator[Any]:
    """A fresh plugin host with the built-ins only, installed as the process-wide host for one test."""
    from sigbench import host as host_module

    previous = host_module._HOST
    fresh = host_module.reset_host(host_module.Host(load_entrypoints=False))
    try:
        yield fresh
    finally:
        host_module._HOST = previous


@pytest.fixture
def sigbench_register(sigbench_host: Any) -> Iterator[Callable[..., str]]:
    """``register(plugin, name=None) -> name``: add a plugin to ``sigbench_host``; removed after the test.

    Raises ``AssertionError`` when the plugin does not load cleanly (the host's error is in the message).
    """
    names: list[str] = []

    def register(plugin: Any, name: str | None = None) -> str:
        plugin_name = name or getattr(plugin, "__name__", None) or type(plugin).__name__
        ok = sigbench_host.register(plugin, plugin_name, package="test")
        if not ok:
            errors = "; ".join(b.error for b in sigbench_host.broken if b.name == plugin_name)
            raise AssertionError(f"plugin {plugin_name!r} did not register: {errors}")
        names.append(plugin_name)
        return str(plugin_name)

    try:
        yield register
    finally:
        for plugin_name in reversed(names):
            sigbench_host.unregister(plugin_name)


@pytest.fixture
def sigbench_check_processor(tmp_path: Path) -> Callable[..., Any]:
    """:func:`sigbench.testing.check_processor`, strict, saving into ``tmp_path``."""
    from sigbench.testing import check_processor

    def check(cls: type, init_kwargs: dict[str, Any] | None = None, **options: Any) -> Any:
        options.setdefault("directory", tmp_path / "conformance")
        return check_processor(cls, init_kwargs, **options)

    return check


@pytest.fixture
def sigbench_check_source() -> Callable[..., Any]:
    """:func:`sigbench.testing.check_source`, strict."""
    from sigbench.testing import check_source

    return check_source


@pytest.fixture
def sigbench_check_metric() -> Callable[..., Any]:
    """:func:`sigbench.testing.check_metric`, strict."""
    from sigbench.testing import check_metric

    return check_metric
