"""Run the conformance checks over what a host has registered (``sigbench plugins validate``)."""

from __future__ import annotations

from typing import Any

from sigbench.errors import UnknownNameError
from sigbench.host import Entry, Host, get_host
from sigbench.testing._metric import check_metric
from sigbench.testing._processor import check_processor
from sigbench.testing._report import FAILED, ConformanceReport
from sigbench.testing._source import check_source

__all__ = ["BUILTIN_CONFORMANCE", "conformance_options", "validate_registered"]

_TINY_TRAINING: dict[str, Any] = {"epochs": 1, "batch_size": 64, "patience": None, "steps_per_execution": 1}

#: ``check_processor`` keyword arguments for the built-in processors: small configurations for a
#: 16-sample window (neural ones train one epoch of a few units)
BUILTIN_CONFORMANCE: dict[str, dict[str, Any]] = {
    "naive": {},
    "linear-extrapolation": {},
    "wiener": {"init_kwargs": {"numtaps": 8}},
    "lms": {"init_kwargs": {"numtaps": 8}},
    "nlms": {"init_kwargs": {"numtaps": 8, "mu": 0.5}},
    "rls": {"init_kwargs": {"numtaps": 8, "lam": 0.99}},
    "fir": {"init_kwargs": {"numtaps": 9, "cutoff": 0.1}},
    "fir-bank": {"init_kwargs": {"bands": 4, "numtaps": 9, "mode": "features"}},
    "fft": {"targets": "vector", "n_outputs": 18},
    "goertzel": {"targets": "vector", "n_outputs": 18},
    "dfe": {"init_kwargs": {"numtaps": 8, "feedback_taps": 2}},
    "mlse": {"init_kwargs": {"taps": [0.407, 0.815, 0.407], "delay": 1}},
    "matched-filter": {"init_kwargs": {"frequency_hz": 0.05}},
    "energy-detector": {"init_kwargs": {"frequency_hz": 0.05}},
    "known-fir": {"init_kwargs": {"taps": [0.5, -0.25]}},
    "sines-ml": {"init_kwargs": {"frequencies_hz": [0.05, 0.12], "sample_rate_hz": 1.0, "iterations": 5}},
    "ar-kalman": {"init_kwargs": {"coefficients": [0.5, -0.2]}},
    "dnn": {"init_kwargs": {"units": [8], **_TINY_TRAINING}},
    "cnn": {"init_kwargs": {"kernel_sizes": [3, 5], "filters": 2, "dense_units": [4], **_TINY_TRAINING}},
    "lstm": {"init_kwargs": {"units": [4], "timesteps": 4, **_TINY_TRAINING}},
    "cnn-lstm": {"init_kwargs": {"filters": 2, "kernel_size": 3, "units": [4], **_TINY_TRAINING}},
    "rnn": {"init_kwargs": {"units": [4], "timesteps": 4, **_TINY_TRAINING}},
}


def conformance_options(cls: type, name: str | None = None) -> dict[str, Any]:
    """The ``check_processor`` keyword arguments to validate ``cls`` with.

    A plugin's class may carry ``conformance = {"init_kwargs": {...}, "targets": ..., ...}`` (a
    ``ClassVar`` dict of :func:`~sigbench.testing.check_processor` keywords: a small, fast
    configuration); the built-ins use :data:`BUILTIN_CONFORMANCE`; otherwise the defaults.
    """
    declared = getattr(cls, "conformance", None)
    if isinstance(declared, dict):
        return dict(declared)
    key = name or getattr(cls, "name", "")
    if getattr(cls, "__module__", "").startswith("sigbench.") and key in BUILTIN_CONFORMANCE:
        return dict(BUILTIN_CONFORMANCE[key])
    return {}


def _crashed(kind: str, name: str, package: str, exc: BaseException) -> ConformanceReport:
    report = ConformanceReport(kind, name, package=package)
    report.add("run the checks", FAILED, f"raised {type(exc).__name__}: {exc}")
    return report


def _check_entry(entry: Entry, check_imports: bool) -> ConformanceReport:
    try:
        if entry.kind == "processors":
            options = conformance_options(entry.obj, entry.name)
            options.setdefault("check_imports", check_imports)
            report = check_processor(entry.obj, strict=False, **options)
        elif entry.kind == "sources":
            report = check_source(entry.obj, kind=str(entry.info.get("kind", "generator")), strict=False)
        else:
            report = check_metric(entry.obj, higher_is_better=bool(entry.info.get("higher_is_better")), strict=False)
    except Exception as exc:  # a subject the harness cannot even start on (not a Processor subclass, …)
        return _crashed(entry.kind[:-1], entry.name, entry.package, exc)
    report.subject = entry.name
    report.package = entry.package
    return report


def validate_registered(name: str | None = None, *, include_builtins: bool = False, check_imports: bool = True,
                        host: Host | None = None) -> list[ConformanceReport]:
    """Check the registered processors, generator and loader sources and metrics; one report each.

    Parameters
    ----------
    name : str, optional
        Only this processor, source or metric, or everything one plugin registered (its entry-point
        name or its distribution name).
    include_builtins : bool, default False
        Also check what sigbench itself registers (always done for ``name`` naming a built-in).
    check_imports : bool, default True
        Run the subprocess import check on DSP processors.
    host : Host, optional
        Default: the process-wide host (entry points loaded).

    Returns
    -------
    list of ConformanceReport
        Plugins that failed to load come first, each as a report with one failed ``loads`` check.

    Raises
    ------
    UnknownNameError
        ``name`` matches nothing registered and no broken plugin.
    """
    host = host or get_host()
    registry = host.registry
    entries: list[Entry] = []
    for kind in ("processors", "sources", "metrics"):
        entries.extend(registry.entries[kind][n] for n in registry.names(kind))
    broken = [b for b in registry.broken if b.package != "sigbench"]
    if name is not None:
        entries = [e for e in entries if name in (e.name, e.origin, e.package)]
        broken = [b for b in broken if name in (b.name, b.package)]
        if not entries and not broken:
            known = ", ".join(sorted({e.package for k in registry.entries.values() for e in k.values()}))
            raise UnknownNameError(f"no processor, source, metric or plugin named {name!r}; packages: {known}")
    elif not include_builtins:
        entries = [e for e in entries if e.package != "sigbench"]
    reports = []
    for b in broken:
        report = ConformanceReport("plugin", b.name, package=b.package)
        report.add("loads", FAILED, f"{b.stage}: {b.error}")
        reports.append(report)
    reports.extend(_check_entry(e, check_imports) for e in entries)
    return reports
