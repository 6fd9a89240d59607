"""Where the cells of a comparison run: in this process, in a local process pool, or on Dask.

A *cell* is one (grid point, method, seed): fit on the fit rows, predict the test rows. Cells are
independent, so they can run anywhere; the client (the engine) computes metrics from the returned
predictions and writes the result file as cells arrive, so ``--resume`` works with every executor.

* :class:`InlineExecutor` — in this process, in order (the default; no timeout).
* :class:`PoolExecutor` — ``workers`` spawned processes. Each worker rebuilds a grid point's task data
  once from its :class:`DataRecipe` (the file path, or the source name and parameters) and caches it —
  the signal is never sent per cell. A cell running past ``timeout`` seconds is stopped (its worker is
  killed and the pool restarted) and becomes a failed row; a cell whose worker died is retried up to
  ``retries`` times, then fails. Worker threads are limited (one BLAS/TensorFlow thread each) so that
  workers don't oversubscribe the cores.
* :class:`~sigbench.dask_executor.DaskExecutor` (:mod:`sigbench.dask_executor`) — the same cells on a
  ``dask.distributed`` cluster (``local-dask`` or ``tcp://host:port``), with per-cell timeouts. Workers read
  the signal from the path (shared storage) or regenerate it from the source recipe.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import math
import multiprocessing
import os
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["Cell", "DataRecipe", "InlineExecutor", "PoolExecutor", "fit_predict", "make_executor"]

_THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS",
                "TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS")


@dataclass(frozen=True)
class DataRecipe:
    """How a worker rebuilds one grid point's task data without receiving the signal."""

    kind: str  # "file", "source" or "stream" (a grid point of a streamed run: the worker streams the file)
    task: str
    task_options: dict[str, Any]
    protocol: dict[str, Any]
    path: str | None = None
    signal_name: str | None = None
    source: str | None = None
    n: int | None = None
    source_params: dict[str, Any] = field(default_factory=dict)
    #: a streamed grid point's geometry and settings (see :func:`sigbench.stream_cells.run_stream_cell`)
    stream: dict[str, Any] = field(default_factory=dict)

    def key(self) -> str:
        import json

        return json.dumps(self.__dict__, sort_keys=True, default=str)


@dataclass(frozen=True)
class Cell:
    """One unit of work: method ``label`` with final constructor ``options`` and ``seed`` on grid point ``job``."""

    job: int
    label: str
    name: str
    options: dict[str, Any]
    seed: int
    prequential: bool


def _time_latency(proc: Any, row: np.ndarray) -> float:
    best = math.inf
    for _ in range(3):
        t0 = time.perf_counter()
        proc.predict(row)
        best = min(best, time.perf_counter() - t0)
    return best


def resolve_class(label: str, name: str) -> Any:
    """The processor class of a method label (a chain spec or a registry name)."""
    from sigbench.chains import is_chain_spec, resolve_chain
    from sigbench.host import get_host

    if is_chain_spec(label):
        return resolve_chain(label)[0]
    return get_host().registry.get("processors", name).obj


def fit_predict(cls: Any, options: dict[str, Any], data: Any, seg: Any, *, prequential: bool) -> dict[str, Any]:
    """Fit one processor on the fit rows and predict the test rows; raise on failure.

    Returns
    -------
    dict
        ``prediction`` (test rows), ``fit_s``, ``predict_s``, ``latency_s``, ``describe``.
    """
    proc = cls(**options)
    t0 = time.perf_counter()
    proc.fit(data.inputs[seg.fit], data.targets[seg.fit], sample_rate=data.sample_rate_hz)
    fit_s = time.perf_counter() - t0
    test_in = data.inputs[seg.test]
    y_test = data.targets[seg.test]
    online = prequential and proc.online
    t1 = time.perf_counter()
    pred = proc.predict_online(test_in, y_test) if online else proc.predict(test_in)
    predict_s = time.perf_counter() - t1
    pred = np.asarray(pred, dtype=np.float64)
    if pred.shape != y_test.shape:
        raise ValueError(f"expected predictions of shape {y_test.shape}; received: {pred.shape}")
    bad = ~np.isfinite(pred)
    if bad.any():
        raise ValueError(f"non-finite predictions: {int(bad.sum())} of {pred.size} "
                         f"(first at test row {int(np.argwhere(bad)[0][0])})")
    return {"prediction": pred, "fit_s": fit_s, "predict_s": predict_s, "online": online,
            "latency_s": _time_latency(proc, test_in[:1]), "describe": proc.describe()}


def _error_text(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}".splitlines()[0]


# -- worker side -------------------------------------------------------------------------------
_CACHE: dict[str, tuple[Any, Any]] = {}
#: grid points a worker keeps built (bounded memory; cells of a few grid points interleave)
_CACHE_SIZE = 4


@contextlib.contextmanager
def _worker_thread_limits() -> Iterator[None]:
    """One thread per library (unless the user set one) in the environment that new workers inherit;
    the previous environment is restored afterwards."""
    saved = {var: os.environ.get(var) for var in _THREAD_VARS}
    for var in _THREAD_VARS:
        os.environ.setdefault(var, "1")
    try:
        yield
    finally:
        for var, value in saved.items():
            if value is None:
                os.environ.pop(var, None)
            else:
                os.environ[var] = value


def _limit_threads() -> None:
    for var in _THREAD_VARS:
        os.environ.setdefault(var, "1")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ["SIGBENCH_QUIET"] = "1"


def build_data(recipe: DataRecipe) -> tuple[Any, Any]:
    """Task data and split of a recipe (cached per process: each grid point is built once, a few kept)."""
    key = recipe.key()
    if key not in _CACHE:
        from sigbench.host import get_host
        from sigbench.protocol import Protocol

        if recipe.kind == "file":
            from sigbench.h5 import load_signal

            assert recipe.path is not None
            sig = load_signal(recipe.path, recipe.signal_name)
        else:
            from sigbench.registry import generate

            assert recipe.source is not None
            sig = generate(recipe.source, n=recipe.n, **recipe.source_params)
        task = get_host().registry.get("tasks", recipe.task).obj
        data = task.prepare(sig, **recipe.task_options)
        while len(_CACHE) >= _CACHE_SIZE:  # least recently built first
            _CACHE.pop(next(iter(_CACHE)))
        _CACHE[key] = (data, Protocol(**recipe.protocol).split(data))
    return _CACHE[key]


def run_cell(recipe: DataRecipe, cell: Cell) -> dict[str, Any]:
    """Worker entry point: never raises for a failing method (returns ``{"error": …}``)."""
    _limit_threads()
    try:
        if recipe.kind == "stream":  # out of core: the worker streams the file, returns metrics only
            from sigbench.stream_cells import run_stream_cell

            return run_stream_cell(recipe.stream, cell.label, cell.name, cell.options, cell.seed)
        data, seg = build_data(recipe)
        cls = resolve_class(cell.label, cell.name)
        return fit_predict(cls, cell.options, data, seg, prequential=cell.prequential)
    except Exception as exc:  # a failing method is a failed row
        return {"error": _error_text(exc)}


# -- executors ---------------------------------------------------------------------------------
class InlineExecutor:
    """Run cells in this process, in order."""

    #: cells that run at once
    slots = 1

    def __init__(self, jobs: dict[int, tuple[Any, Any]]) -> None:
        self.jobs = jobs

    def run(self, cells: Sequence[Cell], recipes: dict[int, DataRecipe]) -> Iterator[tuple[Cell, dict[str, Any]]]:
        """Yield ``(cell, output)`` as each finishes."""
        for cell in cells:
            data, seg = self.jobs[cell.job]
            try:
                out = fit_predict(resolve_class(cell.label, cell.name), cell.options, data, seg,
                                  prequential=cell.prequential)
            except Exception as exc:  # a failing method is a failed row
                out = {"error": _error_text(exc)}
            yield cell, out

    def close(self) -> None:
        """Nothing to release."""


class PoolExecutor:
    """Run cells in ``workers`` spawned processes, with a per-cell ``timeout`` and bounded retries."""

    def __init__(self, workers: int, timeout: float | None = None, retries: int = 1) -> None:
        self.workers, self.timeout, self.retries = workers, timeout, retries
        self._pool: cf.ProcessPoolExecutor | None = None

    @property
    def slots(self) -> int:
        """Cells that run at once (the workers)."""
        return self.workers

    def _new_pool(self, workers: int) -> cf.ProcessPoolExecutor:
        return cf.ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"),
                                      initializer=_limit_threads)

    def run(self, cells: Sequence[Cell], recipes: dict[int, DataRecipe]) -> Iterator[tuple[Cell, dict[str, Any]]]:
        """Yield ``(cell, output)`` as cells finish (in completion order).

        The thread limits are in the environment while workers start: BLAS reads them when the worker
        imports numpy, before any initializer could run (two workers with a BLAS pool each on two cores
        spin against each other and run several times slower than one process).
        """
        with _worker_thread_limits():
            yield from self._run(cells, recipes)

    def _kill_pool(self) -> None:
        pool, self._pool = self._pool, None
        if pool is None:
            return
        for proc in list(getattr(pool, "_processes", {}).values()):
            proc.kill()
        pool.shutdown(wait=False, cancel_futures=True)

    def _batch(self, cells: list[Cell], recipes: dict[int, DataRecipe], workers: int,
               broken: list[Cell]) -> Iterator[tuple[Cell, dict[str, Any]]]:
        """Run ``cells`` on a pool of ``workers``; cells caught in a pool crash are appended to ``broken``."""
        if self._pool is None:
            self._pool = self._new_pool(workers)
        futures = {self._pool.submit(run_cell, recipes[c.job], c): c for c in cells}
        started = {f: time.monotonic() for f in futures}
        try:
            while futures:
                done, _ = cf.wait(list(futures), timeout=0.2, return_when=cf.FIRST_COMPLETED)
                for fut in done:
                    cell = futures.pop(fut)
                    try:
                        out = fut.result()
                    except cf.process.BrokenProcessPool:
                        broken.append(cell)
                        continue
                    yield cell, out
                if broken:  # the pool is gone: everything still in flight is a suspect
                    broken.extend(futures.values())
                    return
                now = time.monotonic()
                for fut in list(futures):
                    if not fut.running():
                        started[fut] = now  # a cell's clock starts when it runs
                    elif self.timeout is not None and now - started[fut] > self.timeout:
                        yield futures.pop(fut), {"error": f"timed out after {self.timeout:g} s"}
                        self._kill_pool()  # the only way to stop a running cell
                        broken.extend(futures.values())  # innocent: rerun them
                        return
        finally:
            if broken:
                self._kill_pool()

    def _run(self, cells: Sequence[Cell], recipes: dict[int, DataRecipe]) -> Iterator[tuple[Cell, dict[str, Any]]]:
        """The pool loop of :meth:`run`.

        After a worker crash every cell that was in flight is rerun **alone** in a one-worker pool, so the
        crash is attributed to the cell that causes it; that cell is retried ``retries`` times, then fails.
        """
        queue = list(cells)
        attempts: dict[tuple[int, str, int], int] = {}
        while queue:
            broken: list[Cell] = []
            yield from self._batch(queue, recipes, self.workers, broken)
            queue = []
            for cell in broken:  # isolation: one at a time
                key = (cell.job, cell.label, cell.seed)
                while True:
                    crashed: list[Cell] = []
                    results = list(self._batch([cell], recipes, 1, crashed))
                    self._kill_pool()
                    if not crashed:
                        yield from results
                        break
                    attempts[key] = attempts.get(key, 0) + 1
                    if attempts[key] > self.retries:
                        yield cell, {"error": f"worker died {attempts[key]} times running this cell"}
                        break

    def close(self) -> None:
        """Stop the workers."""
        self._kill_pool()


def make_executor(jobs: dict[int, tuple[Any, Any]], *, workers: int = 1, timeout: float | None = None,
                  scheduler: str | None = None, retries: int = 1) -> Any:
    """Pick an executor: inline (default), a process pool (``workers > 1`` or a ``timeout``), or Dask."""
    if scheduler:
        if scheduler == "local-dask":
            from sigbench.dask_executor import DaskExecutor

            return DaskExecutor(None, max(1, workers), timeout, retries)
        if scheduler.startswith("tcp://"):
            from sigbench.dask_executor import DaskExecutor

            return DaskExecutor(scheduler, workers, timeout, retries)
        from sigbench.errors import ConfigError

        raise ConfigError(f"expected --scheduler local-dask or tcp://HOST:PORT; received: {scheduler!r}")
    if workers > 1 or timeout is not None:
        return PoolExecutor(workers, timeout, retries)
    return InlineExecutor(jobs)
