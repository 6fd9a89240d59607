"""The comparison engine: every method, the same rows, the same protocol, one table.

``compare`` runs methods on one signal; ``sweep`` repeats it over a grid (source parameters such as
``snr_db``, task options such as ``window``, or method options written ``method.option``);
``run_method`` runs one method and keeps its predictions. A method that raises, diverges or returns
non-finite values becomes a ``failed`` row with its error; the others finish. With an output file,
results are written (atomically) after every finished method, so an interrupted run keeps what was
done and ``resume=True`` continues without recomputing it.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from sigbench.errors import ConfigError
from sigbench.executors import DataRecipe
from sigbench.host import get_host
from sigbench.params import coerce_params, parse_method_spec
from sigbench.protocol import Protocol
from sigbench.results import Results
from sigbench.runner import RunInfo, _execute, _instantiate, _Job, _Method, _Runner
from sigbench.signal import Signal
from sigbench.tasks import Task

__all__ = ["DEFAULT_METHODS", "RunInfo", "compare", "resolve_methods", "run_method", "sweep"]

#: methods compared when none are named, per task
DEFAULT_METHODS: dict[str, tuple[str, ...]] = {
    "predict": ("dnn", "cnn", "lstm", "cnn-lstm", "lms", "wiener", "fir-bank:mode=features,numtaps=31,bands=16",
                "naive"),
    "denoise": ("dnn", "cnn", "lstm", "lms", "wiener", "fir-bank", "naive"),
    "identify": ("dnn", "lstm", "lms", "nlms", "rls", "wiener"),
    "spectrum": ("dnn", "fft", "wiener"),
}


def resolve_methods(methods: Sequence[str] | None, task: Task, reference: str,
                    include_naive: bool = True) -> list[_Method]:
    """Parse method specifications, look them up, coerce and validate their options (before any work).

    Raises
    ------
    ConfigError, ValidationError
        An unknown option or an invalid value (a usage error: nothing has run yet).
    UnknownNameError, PluginError
        An unknown method, or one whose plugin failed to load.
    """
    from sigbench.chains import is_chain_spec, resolve_chain

    specs = [parse_method_spec(m) for m in (methods or DEFAULT_METHODS.get(task.name, ("wiener",)))]
    plain = [None if is_chain_spec(s.label) else s.name for s in specs]  # a chain is never "its first stage"
    ref_index = next((i for i, s in enumerate(specs) if s.label == reference), None)
    if ref_index is None:
        ref_index = next((i for i, name in enumerate(plain) if name == reference), None)
    if reference and ref_index is None:
        specs.insert(0, parse_method_spec(reference))
        ref_index = 0
    if include_naive and task.has_naive and "naive" not in plain:
        specs.append(parse_method_spec("naive"))
    if len({s.label for s in specs}) != len(specs):
        raise ConfigError(f"expected each method once; received: {', '.join(s.label for s in specs)}")
    resolved: list[_Method] = []
    registry = get_host().registry
    for index, spec in enumerate(specs):
        if is_chain_spec(spec.label):
            cls, options = resolve_chain(spec.label)
        else:
            cls = registry.get("processors", spec.name).obj
            options = coerce_params(cls.__init__, spec.options, what=f"option of method {spec.name!r}")
        m = _Method(spec, cls, options, is_reference=bool(reference) and index == ref_index)
        _instantiate(m, None, seed=0)  # validates the options now
        resolved.append(m)
    resolved.sort(key=lambda m: not m.is_reference)  # the reference runs first: it defines the bound
    return resolved


def _signal_summary(sig: Signal, path: str | None) -> dict[str, Any]:
    return {"name": sig.name, "path": path, "samples": sig.n_samples, "channels": sig.n_channels,
            "sample_rate_hz": sig.sample_rate_hz, "snr_db": sig.snr_db(), "source": sig.metadata.get("source"),
            "seed": sig.metadata.get("seed"), "params": sig.metadata.get("params")}


def _load(signal: Signal | str | os.PathLike[str], name: str | None) -> tuple[Signal, str | None]:
    if isinstance(signal, Signal):
        return signal, None
    from sigbench.h5 import load_signal

    return load_signal(signal, name), str(signal)


def _config(kind: str, task: Task, methods: list[_Method], protocol: Protocol, task_opts: dict[str, Any],
            signal: dict[str, Any], grid: dict[str, list[Any]] | None = None) -> dict[str, Any]:
    return {"kind": kind, "task": task.name, "task_options": task_opts, "protocol": protocol.as_dict(),
            "methods": [{"label": m.spec.label, "name": m.spec.name, "options": m.options} for m in methods],
            "signal": {k: signal.get(k) for k in ("name", "path", "samples", "source", "seed", "params")},
            "grid": grid or {}}


def compare(signal: Signal | str | os.PathLike[str], task: str = "predict", methods: Sequence[str] | None = None,
            *, seeds: int = 3, seed: int = 0, window: int = 64, horizon: int = 1, centered: bool = False,
            channel: int | str = 0, target: str = "auto", hop: int | None = None,
            split: tuple[float, float, float] = (0.6, 0.2, 0.2), train_samples: int | None = None,
            mode: str = "offline", transient: float = 0.1, reference: str = "wiener", include_naive: bool = True,
            output: str | os.PathLike[str] | None = None, resume: bool = False, signal_name: str | None = None,
            kind: str = "compare", workers: int = 1, timeout: float | None = None,
            scheduler: str | None = None) -> Results:
    """Compare methods on one signal under one protocol.

    Parameters
    ----------
    signal : Signal or path
        The signal, or a sigbench HDF5 file (``signal_name`` picks one of several).
    task : str, default "predict"
        ``predict``, ``denoise``, ``identify``, ``spectrum`` or a plugin's task.
    methods : list of str, optional
        Method specifications ``name[:key=value,…]`` or chains ``"fir-bank | dnn"``; default per task
        (:data:`DEFAULT_METHODS`). The reference and (where defined) ``naive`` are always added.
    seeds : int, default 3
        Runs of each stochastic method (seeds ``seed … seed+seeds−1``).
    window, horizon, centered, channel, target, hop
        Task options (see :meth:`sigbench.tasks.Task.prepare`).
    split : (train, val, test), default (0.6, 0.2, 0.2)
        Chronological fractions; ignored when ``train_samples`` is given.
    mode : {"offline", "prequential"}
    reference : str, default "wiener"
        The bound every row's ``excess_db`` is measured against.
    output : path, optional
        Result file, written atomically after every method.
    resume : bool
        Reuse finished rows of a run with the same configuration in ``output``.
    workers : int, default 1
        Processes running cells (method × seed) in parallel; see :mod:`sigbench.executors`.
    timeout : float, optional
        Seconds a cell may run before it is stopped and its row fails (runs cells in worker processes).
    scheduler : str, optional
        ``local-dask`` or ``tcp://HOST:PORT`` to run the cells on Dask.

    Returns
    -------
    Results
        ``rows`` sorted by the task's main metric (best first), failed rows last.

    Examples
    --------
    >>> import sigbench as sb
    >>> sig = sb.generate("sines", n=2000, seed=0)
    >>> res = sb.compare(sig, methods=["wiener", "naive"], window=16)
    >>> [r.method for r in res.rows]
    ['wiener', 'naive']
    """
    protocol = Protocol(*split, train_samples=train_samples, mode=mode, seeds=seeds, seed=seed,
                        reference=reference, transient=transient)
    task_obj: Task = get_host().registry.get("tasks", task).obj
    methods_r = resolve_methods(methods, task_obj, reference, include_naive)
    sig, path = _load(signal, signal_name)
    task_opts: dict[str, Any] = {"window": window, "horizon": horizon, "centered": centered, "channel": channel,
                                 "target": target, "hop": hop}
    data = task_obj.prepare(sig, **task_opts)
    seg = protocol.split(data)
    summary = _signal_summary(sig, path)
    summary["target_kind"] = data.target_kind
    config = _config(kind, task_obj, methods_r, protocol, task_opts, summary)
    runner = _Runner(task_obj, methods_r, protocol, kind=kind, output=output, base=path, signal=sig,
                     resume=resume, config=config, workers=workers, timeout=timeout, scheduler=scheduler)
    job = _Job({}, data, seg, summary)
    parallel = workers > 1 or timeout is not None or scheduler is not None
    with _signal_file(sig, path, parallel) as file:
        if file is not None:
            job.recipe = DataRecipe("file", task, task_opts, protocol.as_dict(), path=file,
                                    signal_name=signal_name if path else None)
        return _execute(runner, [job])


@contextlib.contextmanager
def _signal_file(sig: Signal, path: str | None, needed: bool) -> Iterator[str | None]:
    """The signal's file for worker processes: its own path, or a temporary copy of an in-memory signal."""
    if not needed or path is not None:
        yield path
        return
    from sigbench.h5 import save_signal

    tmp = tempfile.mkdtemp(prefix="sigbench-")
    try:
        target = Path(tmp) / "signal.h5"
        save_signal(sig, target)
        yield str(target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def run_method(method: str, signal: Signal | str | os.PathLike[str], task: str = "predict",
               **options: Any) -> Results:
    """Run one method (plus nothing else) and keep its predictions; options as in :func:`compare`."""
    options.setdefault("seeds", 1)
    return compare(signal, task, [method], reference="", include_naive=False, kind="run", **options)


def _grid_points(grid: dict[str, list[Any]]) -> list[dict[str, Any]]:
    points: list[dict[str, Any]] = [{}]
    for key, values in grid.items():
        if not values:
            raise ConfigError(f"expected at least one value for grid {key!r}")
        points = [{**p, key: v} for p in points for v in values]
    return points


def sweep(source: Signal | str | os.PathLike[str], grid: dict[str, list[Any]], task: str = "predict",
          methods: Sequence[str] | None = None, *, source_params: dict[str, Any] | None = None,
          n: int | None = None, output: str | os.PathLike[str] | None = None, resume: bool = False,
          workers: int = 1, timeout: float | None = None, scheduler: str | None = None,
          **options: Any) -> Results:
    """Run :func:`compare` over every point of ``grid`` and gather one table (one row per point × method).

    Grid keys are source parameters (``snr_db`` — ``source`` must then be a source name), task options
    (``window``, ``horizon``) or method options written ``method.option`` (``lms.mu``).

    Raises
    ------
    ConfigError
        A grid key that is none of the above, or a source parameter grid over a file.
    """
    registry = get_host().registry
    task_obj: Task = registry.get("tasks", task).obj
    task_keys = {"window", "horizon", "hop", "centered"}
    protocol = Protocol(*options.pop("split", (0.6, 0.2, 0.2)), train_samples=options.pop("train_samples", None),
                        mode=options.pop("mode", "offline"), seeds=options.pop("seeds", 3),
                        seed=options.pop("seed", 0), reference=options.get("reference", "wiener"),
                        transient=options.pop("transient", 0.1))
    reference = options.pop("reference", "wiener")
    include_naive = options.pop("include_naive", True)
    base_methods = resolve_methods(methods, task_obj, reference, include_naive)
    is_source = isinstance(source, str) and not Path(source).exists() and (
        "sources" in registry.entries and source in registry.entries["sources"])
    source_keys: set[str] = set()
    if is_source:
        import inspect

        source_keys = set(inspect.signature(registry.get("sources", str(source)).obj).parameters)
    for key in grid:
        method_name = key.split(".", 1)[0]
        if key in task_keys or key in source_keys:
            continue
        if "." in key and any(m.spec.name == method_name and not _is_chain(m) for m in base_methods):
            continue
        raise ConfigError(f"expected grid keys among task options ({', '.join(sorted(task_keys))}), parameters of "
                          f"the source, or METHOD.OPTION; received: {key!r}")
    sig0, path = (None, None) if is_source else _load(source, options.pop("signal_name", None))
    task_opts: dict[str, Any] = {k: options.pop(k) for k in ("window", "horizon", "centered", "channel", "target",
                                                              "hop") if k in options}
    if options:
        raise ConfigError(f"unknown sweep option {sorted(options)[0]!r}")
    jobs: list[tuple[dict[str, Any], Signal, dict[str, Any]]] = []
    for point in _grid_points(grid):
        sp = dict(source_params or {})
        if is_source:
            from sigbench.registry import generate

            sp.update({k: v for k, v in point.items() if k in source_keys})
            sig = generate(str(source), n=n, **sp)
        else:
            assert sig0 is not None
            sig = sig0
        jobs.append((point, sig, sp))
    summary = _signal_summary(jobs[0][1], path) if jobs else {}
    config = _config("sweep", task_obj, base_methods, protocol, task_opts, summary, grid)
    config["source_params"] = source_params or {}
    # sweeps keep metrics per grid point but no per-point predictions (files stay small)
    runner = _Runner(task_obj, base_methods, protocol, kind="sweep", output=output, base=path,
                     signal=None if is_source else sig0, resume=resume, config=config, keep_predictions=False,
                     workers=workers, timeout=timeout, scheduler=scheduler)
    parallel = workers > 1 or timeout is not None or scheduler is not None
    with _signal_file(sig0, path, parallel and not is_source) if sig0 is not None else \
            contextlib.nullcontext(None) as file:
        built: list[_Job] = []
        for point, sig, sp in jobs:
            opts: dict[str, Any] = {**task_opts, **{k: v for k, v in point.items() if k in task_keys}}
            data = task_obj.prepare(sig, **opts)
            job = _Job(point, data, protocol.split(data), _signal_summary(sig, path),
                       methods=[_with_grid_options(m, point) for m in base_methods])
            if is_source:
                job.recipe = DataRecipe("source", task, opts, protocol.as_dict(), source=str(source), n=n,
                                        source_params=sp)
            elif file is not None:
                job.recipe = DataRecipe("file", task, opts, protocol.as_dict(), path=file)
            built.append(job)
        return _execute(runner, built)


def _is_chain(m: _Method) -> bool:
    return bool(getattr(m.cls, "is_chain", False))


def _with_grid_options(m: _Method, point: dict[str, Any]) -> _Method:
    if _is_chain(m):  # METHOD.OPTION grids address plain methods, not chain stages
        return m
    extra = {k.split(".", 1)[1]: v for k, v in point.items() if "." in k and k.split(".", 1)[0] == m.spec.name}
    if not extra:
        return m
    options = {**m.options, **coerce_params(m.cls.__init__, {k: str(v) for k, v in extra.items()})}
    return _Method(m.spec, m.cls, options, m.is_reference)
