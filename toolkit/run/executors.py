"""Where the cells of a run execute: in this process, in a local process pool, or on Dask.

A *cell* is one (grid point, method, seed): :func:`sigbench.run.cell.run_cell` on the point's row source.
Cells are independent, so they can run anywhere; every executor runs the same function, and the client
(:class:`sigbench.run.loop.Run`) assembles rows and writes the result file as cells arrive, so
``--resume`` works with every executor and both row sources.

* :class:`InlineExecutor` — in this process, in order (the default; no timeout).
* :class:`PoolExecutor` — ``workers`` spawned processes. Each worker rebuilds a grid point's row source
  once from its :class:`DataRecipe` (the file path — loaded or streamed —, or the source name and
  parameters) and caches it — the signal is never sent per cell. A cell running past ``timeout`` seconds
  is stopped (its worker is killed and the pool restarted) and becomes a failed row; a cell whose worker
  died is retried up to ``retries`` times, then fails. Worker threads are limited (one BLAS/TensorFlow
  thread each) so that workers don't oversubscribe the cores.
* :class:`~sigbench.run.dask_executor.DaskExecutor` (:mod:`sigbench.run.dask_executor`) — the same cells on a
  ``dask.distributed`` cluster (``local-dask`` or ``tcp://host:port``), with per-cell timeouts. Workers read
  the signal from the path (shared storage) or regenerate it from the source recipe.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import multiprocessing
import os
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sigbench.run.cell import CellPlan

__all__ = ["Cell", "DataRecipe", "InlineExecutor", "PoolExecutor", "build_source", "make_executor", "resolve_class",
           "run_cell", "worker_thread_limits"]

_THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS",
                "TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS")


@dataclass(frozen=True)
class DataRecipe:
    """How a worker rebuilds one grid point's row source without receiving the signal, and how to run its cells.

    ``kind``: ``"file"`` (load the signal file into memory), ``"source"`` (generate it from a registered
    source) or ``"stream"`` (read rows block by block from the file). ``plan`` is the point's
    :class:`~sigbench.run.cell.CellPlan`; with ``parts`` (a directory beside the result file) a streamed cell
    writes its predictions into a file of its own there, which the client copies in; ``keep`` asks a cell on
    rows in memory to return its predictions.
    """

    kind: str
    task: str
    task_options: dict[str, Any]
    plan: CellPlan
    path: str | None = None
    signal_name: str | None = None
    source: str | None = None
    n: int | None = None
    source_params: dict[str, Any] = field(default_factory=dict)
    parts: str | None = None
    keep: bool = False

    def key(self) -> str:
        """What identifies the rows (the cache key of a worker's row sources)."""
        import json

        return json.dumps({k: v for k, v in self.__dict__.items() if k in (
            "kind", "task", "task_options", "path", "signal_name", "source", "n", "source_params")},
            sort_keys=True, default=str)


@dataclass(frozen=True)
class Cell:
    """One unit of work: method ``label`` with final constructor ``options`` and ``seed`` on grid point ``job``."""

    job: int
    label: str
    name: str
    options: dict[str, Any]
    seed: int
    index: int = 0  # the method's position in the run (names its staged predictions)
    fit_on_test: bool = False  # the linear oracle: fitted on the test rows
    #: the processor class when the registry cannot find it by name (a class given as an object), sent by value
    #: reference: importable by its module in every worker
    cls: Any = None

    def plan(self, recipe: DataRecipe) -> CellPlan:
        """The cell plan of this cell on its recipe's grid point."""
        return recipe.plan.on_test_rows() if self.fit_on_test else recipe.plan


def resolve_class(label: str, name: str, cls: Any = None) -> Any:
    """The processor class of a method label (a chain spec or a registry name), or ``cls`` when given."""
    from sigbench.chains import is_chain_spec, resolve_chain
    from sigbench.run.plan import processor_class

    if cls is not None:
        return cls
    if is_chain_spec(label):
        return resolve_chain(label)[0]
    return processor_class(name)


# -- worker side -------------------------------------------------------------------------------
_CACHE: dict[str, Any] = {}
#: grid points a worker keeps built (bounded memory; cells of a few grid points interleave)
_CACHE_SIZE = 4


@contextlib.contextmanager
def worker_thread_limits() -> Iterator[None]:
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


def build_source(recipe: DataRecipe) -> Any:
    """The row source of a recipe (cached per process: each grid point is built once, a few kept)."""
    key = recipe.key()
    if key not in _CACHE:
        from sigbench.host import get_host
        from sigbench.run.rows import FileRows, MemoryRows

        task = get_host().registry.get("tasks", recipe.task).obj
        if recipe.kind == "stream":
            from sigbench.h5 import open_signal

            assert recipe.path is not None
            lazy = open_signal(recipe.path, recipe.signal_name)
            source: Any = FileRows(lazy, task, recipe.task_options)
        else:
            if recipe.kind == "file":
                from sigbench.h5 import load_signal

                assert recipe.path is not None
                sig = load_signal(recipe.path, recipe.signal_name)
            else:
                from sigbench.registry import generate

                assert recipe.source is not None
                sig = generate(recipe.source, n=recipe.n, **recipe.source_params)
            source = MemoryRows(task.prepare(sig, **recipe.task_options))
        while len(_CACHE) >= _CACHE_SIZE:  # least recently built first
            old = _CACHE.pop(next(iter(_CACHE)))
            if isinstance(old, FileRows):
                old.lazy.close()
        _CACHE[key] = source
    return _CACHE[key]


def run_cell(recipe: DataRecipe, cell: Cell) -> dict[str, Any]:
    """Worker entry point: one cell of a recipe's grid point; never raises for a failing method (returns
    ``{"error": …}``)."""
    import h5py

    from sigbench.run.cell import PredictionSink, error_text
    from sigbench.run.cell import run_cell as run_one

    _limit_threads()
    part = tmp = None
    try:
        source = build_source(recipe)
        cls = resolve_class(cell.label, cell.name, cell.cls)
        if recipe.parts is not None:
            part = Path(recipe.parts) / f"{cell.job}-{cell.index}-{cell.seed}.h5"
            tmp = part.with_suffix(".tmp")
            with h5py.File(tmp, "w") as out_file:
                out = run_one(source, cls, cell.options, cell.seed, cell.plan(recipe), label=cell.label,
                              sink=PredictionSink(out_file))
            if "error" not in out:
                os.replace(tmp, part)
                out["part"] = str(part)
            return out
        sink = PredictionSink() if recipe.keep else None
        return run_one(source, cls, cell.options, cell.seed, cell.plan(recipe), label=cell.label, sink=sink)
    except Exception as exc:  # a failing method is a failed row
        return {"error": error_text(exc), "seed": cell.seed}
    finally:
        if tmp is not None and tmp.exists():
            tmp.unlink()


# -- executors ---------------------------------------------------------------------------------
class InlineExecutor:
    """Run cells in this process, in order, on the client's own row sources.

    ``sink(cell)`` gives each cell its :class:`~sigbench.run.cell.PredictionSink` (or ``None``): a streamed
    run's cells write their predictions straight into the result file's staging group.
    """

    #: cells that run at once
    slots = 1

    def __init__(self, sources: dict[int, Any], sink: Any = None) -> None:
        self.sources, self.sink = sources, sink

    def run(self, cells: Sequence[Cell], recipes: dict[int, DataRecipe]) -> Iterator[tuple[Cell, dict[str, Any]]]:
        """Yield ``(cell, output)`` as each finishes."""
        from sigbench.run.cell import run_cell as run_one

        for cell in cells:  # a method's failure is a failed row (run_cell); anything else stops the run
            recipe = recipes[cell.job]
            cls = resolve_class(cell.label, cell.name, cell.cls)
            out = run_one(self.sources[cell.job], cls, cell.options, cell.seed, cell.plan(recipe), label=cell.label,
                          sink=self.sink(cell) if self.sink else None)
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
        with worker_thread_limits():
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


def make_executor(sources: dict[int, Any], *, workers: int = 1, timeout: float | None = None,
                  scheduler: str | None = None, retries: int = 1, sink: Any = None) -> Any:
    """Pick an executor: inline (default), a process pool (``workers > 1`` or a ``timeout``), or Dask."""
    if scheduler:
        if scheduler == "local-dask":
            from sigbench.run.dask_executor import DaskExecutor

            return DaskExecutor(None, max(1, workers), timeout, retries)
        if scheduler.startswith("tcp://"):
            from sigbench.run.dask_executor import DaskExecutor

            return DaskExecutor(scheduler, workers, timeout, retries)
        from sigbench.errors import ConfigError

        raise ConfigError(f"expected --scheduler local-dask or tcp://HOST:PORT; received: {scheduler!r}")
    if workers > 1 or timeout is not None:
        return PoolExecutor(workers, timeout, retries)
    return InlineExecutor(sources, sink)
