"""Registry look-ups for the Python API: ``sb.get_processor("lms")``, ``sb.generate("sines", …)``."""

from __future__ import annotations

import inspect
import os
from typing import Any

from sigbench.errors import ValidationError
from sigbench.host import Entry, get_host
from sigbench.processor import Processor
from sigbench.signal import Signal

__all__ = [
    "generate",
    "get_metric",
    "get_processor",
    "get_source",
    "get_task",
    "list_metrics",
    "list_processors",
    "list_sources",
    "list_tasks",
    "load_source",
]


def _entry(kind: str, name: str) -> Entry:
    return get_host().registry.get(kind, name)


def get_source(name: str) -> Any:
    """The factory registered as source ``name`` (``generate(n, seed, **params)`` or ``load(path, **params)``)."""
    return _entry("sources", name).obj


def get_processor(name: str) -> type[Processor]:
    """The processor class registered as ``name``, e.g. ``get_processor("lms")(numtaps=64, mu=0.005)``."""
    return _entry("processors", name).obj  # type: ignore[no-any-return]


def get_task(name: str) -> Any:
    """The task registered as ``name`` (``predict``, ``denoise``, ``identify``, ``spectrum``)."""
    return _entry("tasks", name).obj


def get_metric(name: str) -> Any:
    """The metric function registered as ``name``: ``fn(y_true, y_pred, context) -> float``."""
    return _entry("metrics", name).obj


def _listing(kind: str) -> list[dict[str, Any]]:
    reg = get_host().registry
    return [reg.entries[kind][n].as_dict() for n in reg.names(kind)]


def list_sources() -> list[dict[str, Any]]:
    """Every source with origin, package, version and kind."""
    return _listing("sources")


def list_processors() -> list[dict[str, Any]]:
    """Every processor with origin, package, version and tags (family, online, …)."""
    return _listing("processors")


def list_tasks() -> list[dict[str, Any]]:
    """Every task with origin and metrics."""
    return _listing("tasks")


def list_metrics() -> list[dict[str, Any]]:
    """Every metric with origin and direction."""
    return _listing("metrics")


def _call_with_params(name: str, factory: Any, args: dict[str, Any]) -> Signal:
    sig = inspect.signature(factory)
    accepts_any = any(p.kind is p.VAR_KEYWORD for p in sig.parameters.values())
    unknown = [k for k in args if k not in sig.parameters]
    if unknown and not accepts_any:
        allowed = ", ".join(p for p in sig.parameters if p not in ("path",))
        raise ValidationError(f"expected parameters of source {name!r} among {allowed}; received: {unknown[0]}")
    result = factory(**args)
    if not isinstance(result, Signal):
        raise ValidationError(f"source {name!r} returned {type(result).__name__}, expected a Signal")
    return result


def generate(name: str, n: int | None = None, seed: int | None = None, **params: Any) -> Signal:
    """Generate a signal from a registered generator source.

    Parameters
    ----------
    name : str
        Source name (``sines``, ``tones``, ``chirp``, ``ar``, …; ``sigbench plugins`` lists them).
    n : int, optional
        Number of samples (the source's default if omitted).
    seed : int, optional
        Seed of the noise generator (the source's default, 0, if omitted).
    **params
        Source parameters.

    Returns
    -------
    Signal
    """
    entry = _entry("sources", name)
    if entry.info.get("kind") != "generator":
        raise ValidationError(f"source {name!r} loads files; use load_source({name!r}, path)")
    args = dict(params)
    if n is not None:
        args["n"] = n
    if seed is not None:
        args["seed"] = seed
    return _call_with_params(name, entry.obj, args)


def load_source(name: str, path: str | os.PathLike[str], **params: Any) -> Signal:
    """Import a file with a registered loader source (``wav``, ``csv``, ``npy``, ``hdf5``)."""
    entry = _entry("sources", name)
    if entry.info.get("kind") != "loader":
        raise ValidationError(f"source {name!r} generates signals; use generate({name!r}, …)")
    return _call_with_params(name, entry.obj, {"path": path, **params})
