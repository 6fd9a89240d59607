"""``check_source``: the conformance checks of a signal source (generator or loader)."""

from __future__ import annotations

import inspect
import json
import os
import random
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from sigbench._json import json_default_strict
from sigbench.errors import SigbenchError, ValidationError
from sigbench.signal import Signal
from sigbench.testing._processor import _kept_global_rng, _rng_states_equal
from sigbench.testing._report import ConformanceReport, expect, skip

__all__ = ["check_source"]


def _resolve(factory_or_name: str | Callable[..., Signal], kind: str | None) -> tuple[str, Callable[..., Signal], str]:
    if isinstance(factory_or_name, str):
        from sigbench.host import get_host

        entry = get_host().registry.get("sources", factory_or_name)
        return factory_or_name, entry.obj, kind or str(entry.info.get("kind", "generator"))
    if not callable(factory_or_name):
        raise ValueError(f"expected a source name or a callable; received: {factory_or_name!r}")
    params = list(inspect.signature(factory_or_name).parameters)
    inferred = "loader" if params[:1] == ["path"] else "generator"
    label = f"{getattr(factory_or_name, '__module__', '?')}.{getattr(factory_or_name, '__qualname__', '?')}"
    return label, factory_or_name, kind or inferred


def _same_signal(a: Signal, b: Signal) -> bool:
    if not np.array_equal(a.data, b.data):
        return False
    if (a.clean is None) != (b.clean is None):
        return False
    return a.clean is None or b.clean is None or bool(np.array_equal(a.clean, b.clean))


def check_source(
    factory_or_name: str | Callable[..., Signal],
    params: Mapping[str, Any] | None = None,
    *,
    n: int = 256,
    seed: int = 0,
    path: str | os.PathLike[str] | None = None,
    kind: str | None = None,
    strict: bool = True,
) -> ConformanceReport:
    """Run the source contract checks and return the report.

    Generators (``generate(n, seed, **params) -> Signal``)
        ``signature``: ``n`` and ``seed`` parameters, and a default and a type annotation on every other
        parameter (the CLI converts ``--param k=v`` strings with them); ``returns a Signal``: a
        :class:`~sigbench.Signal` of exactly ``n`` samples with a ``clean`` of the same shape when present and
        JSON-serialisable metadata; ``seeded determinism``: the same seed gives identical data and clean;
        ``no global RNG``; ``input validation``: ``n=0`` and ``seed=-1`` raise ``ValidationError``.
    Loaders (``load(path, **params) -> Signal``)
        ``signature``; with ``path``: ``returns a Signal``, ``seeded determinism`` (two loads are
        identical) and ``no global RNG``; always: ``input validation`` — a missing file and a directory
        raise a :class:`~sigbench.SigbenchError` (not a raw ``OSError``).

    Parameters
    ----------
    factory_or_name : str or callable
        A registered source name (looked up in the current host) or the factory itself.
    params : mapping, optional
        Extra keyword arguments for every call.
    n : int, default 256
        Samples to generate.
    seed : int, default 0
    path : path, optional
        A file the loader can read (loaders only).
    kind : {"generator", "loader"}, optional
        Default: the registry's kind for a name; for a callable, ``"loader"`` when its first parameter is
        ``path``.
    strict : bool, default True
        Raise ``AssertionError`` when a check fails.

    Returns
    -------
    ConformanceReport

    Examples
    --------
    >>> from sigbench.testing import check_source
    >>> check_source("sines", n=128).passed
    True
    """
    label, factory, kind = _resolve(factory_or_name, kind)
    if kind not in ("generator", "loader"):
        raise ValueError(f"expected kind='generator' or 'loader'; received: kind={kind!r}")
    extra = dict(params or {})
    report = ConformanceReport("source", label)
    with _kept_global_rng():
        if kind == "generator":
            _check_generator(report, factory, extra, n, seed)
        else:
            _check_loader(report, factory, extra, path)
    if strict:
        report.raise_for_failures()
    return report


def _check_signature(factory: Callable[..., Signal], required: tuple[str, ...]) -> None:
    sig = inspect.signature(factory)
    problems = [f"missing parameter {name!r}" for name in required if name not in sig.parameters]
    for name, p in sig.parameters.items():
        if name in required or p.kind in (p.VAR_KEYWORD, p.VAR_POSITIONAL):
            continue
        if p.default is p.empty:
            problems.append(f"parameter {name!r} has no default")
        if p.annotation is p.empty:
            problems.append(f"parameter {name!r} has no type annotation (the CLI converts strings with it)")
    expect(not problems, lambda: "; ".join(problems))


def _check_signal(sig: Any, n: int | None) -> None:
    expect(isinstance(sig, Signal), f"returned {type(sig).__name__}, expected sigbench.Signal")
    if n is not None:
        expect(sig.data.shape[0] == n, f"returned {sig.data.shape[0]} samples; asked for n={n}")
    expect(sig.sample_rate_hz > 0, f"sample_rate_hz must be > 0; received: {sig.sample_rate_hz!r}")
    if sig.clean is not None:
        expect(sig.clean.shape == sig.data.shape,
               f"clean has shape {sig.clean.shape}, data {sig.data.shape}; they must match")
    try:
        json.dumps(sig.metadata, default=json_default_strict)
    except (TypeError, ValueError) as exc:
        raise AssertionError(f"metadata is not JSON-serialisable ({exc}); it cannot be stored in the file") from None


def _check_rng(call: Callable[[], Signal]) -> None:
    np.random.seed(1)
    random.seed(1)
    first = call()
    np.random.seed(2)
    random.seed(2)
    np_before, py_before = np.random.get_state(), random.getstate()
    second = call()
    problems = []
    if not _rng_states_equal(np.random.get_state(), np_before):
        problems.append("consumed or reseeded NumPy's global RNG (use np.random.default_rng(seed))")
    if random.getstate() != py_before:
        problems.append("consumed or reseeded Python's global `random` state")
    if not _same_signal(first, second):
        problems.append("the signal depends on the global RNG state")
    expect(not problems, lambda: "; ".join(problems))


def _refused(label: str, call: Callable[[], Any], errors: tuple[type[BaseException], ...]) -> str | None:
    try:
        call()
    except errors:
        return None
    except Exception as exc:
        return f"{label}: raised {type(exc).__name__} ({exc}), expected {errors[0].__name__}"
    return f"{label}: accepted, expected {errors[0].__name__}"


def _check_generator(report: ConformanceReport, factory: Callable[..., Signal], extra: dict[str, Any], n: int,
                     seed: int) -> None:
    def call(**over: Any) -> Signal:
        return factory(**{"n": n, "seed": seed, **extra, **over})

    with report.check("signature"):
        _check_signature(factory, ("n", "seed"))
    with report.check("returns a Signal"):
        _check_signal(call(), n)
    with report.check("seeded determinism"):
        expect(_same_signal(call(), call()), "the same seed gave different signals")
    with report.check("no global RNG"):
        _check_rng(call)
    with report.check("input validation"):
        problems = [p for p in (_refused("n=0", lambda: call(n=0), (ValidationError,)),
                                _refused("seed=-1", lambda: call(seed=-1), (ValidationError,))) if p]
        expect(not problems, lambda: "; ".join(problems))


def _check_loader(report: ConformanceReport, factory: Callable[..., Signal], extra: dict[str, Any],
                  path: str | os.PathLike[str] | None) -> None:
    with report.check("signature"):
        _check_signature(factory, ("path",))
    checks: list[tuple[str, Callable[[], None]]] = []
    if path is not None:
        def load() -> Signal:
            return factory(str(path), **extra)

        checks = [
            ("returns a Signal", lambda: _check_signal(load(), None)),
            ("seeded determinism", lambda: expect(_same_signal(load(), load()), "two loads of one file differ")),
            ("no global RNG", lambda: _check_rng(load)),
        ]
    for name, fn in checks:
        with report.check(name):
            fn()
    if path is None:
        for name in ("returns a Signal", "seeded determinism", "no global RNG"):
            with report.check(name):
                skip("needs a readable file: pass path=")
    with report.check("input validation"), tempfile.TemporaryDirectory(prefix="sigbench-conformance-") as tmp:
        missing = Path(tmp) / "missing.file"
        problems = [p for p in (
            _refused("a missing file", lambda: factory(str(missing), **extra), (SigbenchError,)),
            _refused("a directory", lambda: factory(tmp, **extra), (SigbenchError,)),
        ) if p]
        expect(not problems, lambda: "; ".join(problems))
