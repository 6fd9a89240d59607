"""Hook specifications of sigbench (pluggy project name ``sigbench``).

Registration hooks receive a ``register`` callable; observers receive the run objects. No logic lives
here. The reference with examples is ``docs/plugin-hooks.md``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pluggy import HookimplMarker, HookspecMarker

hookspec = HookspecMarker("sigbench")
hookimpl = HookimplMarker("sigbench")


@hookspec
def register_sources(register: Callable[..., None]) -> None:
    """Register signal sources: ``register(name, factory, *, kind="generator"|"loader", description="")``.

    :param register: call once per source; ``factory`` is ``generate(n, seed, **params) -> Signal`` or
        ``load(path, **params) -> Signal``.
    """


@hookspec
def register_processors(register: Callable[..., None]) -> None:
    """Register processors: ``register(cls)`` where ``cls`` subclasses :class:`sigbench.Processor`.

    :param register: call once per processor class; name and tags are class attributes.
    """


@hookspec
def register_tasks(register: Callable[..., None]) -> None:
    """Register tasks: ``register(task)`` where ``task`` is a :class:`sigbench.Task` instance.

    :param register: call once per task.
    """


@hookspec
def register_metrics(register: Callable[..., None]) -> None:
    """Register metrics: ``register(name, fn, *, higher_is_better=…, description="")``.

    :param register: ``fn(y_true, y_pred, context) -> float``.
    """


@hookspec
def register_commands(app: Any) -> None:
    """Add typer sub-commands to the ``sigbench`` CLI.

    :param app: the root ``typer.Typer`` application.
    """


@hookspec
def on_run_start(run: Any) -> None:
    """Called when a comparison starts, with its :class:`sigbench.RunInfo`."""


@hookspec
def on_method_done(run: Any, method: str, result: Any) -> None:
    """Called when one method (all its seeds) has finished, with its result row (``ok`` or ``failed``)."""


@hookspec
def on_run_end(run: Any) -> None:
    """Called after a comparison finished and its results are complete."""
