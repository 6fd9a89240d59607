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
  died is retried up to ``retries`` times, then fails. Worker threads are limited (one BLAS, OpenMP, numba
  and TensorFlow inter-op thread each) so that workers don't oversubscribe the cores; TensorFlow's intra-op
  pool keeps its inline size, which a network's numbers depend on (:func:`worker_thread_limits`). Cells that
  train a network start first (:func:`networks_first`).
* ``workers="auto"`` (:func:`resolve_workers`, the command line's default) — as many workers as the machine
  has cores and memory for, or inline when a pool would not save at least a few seconds
  (:func:`auto_workers`).
* :class:`~sigbench.run.dask_executor.DaskExecutor` (:mod:`sigbench.run.dask_executor`) — the same cells on a
  ``dask.distributed`` cluster (``local-dask`` or ``tcp://host:port``), with per-cell timeouts. Workers read
  the signal from the path (shared storage) or regenerate it from the source recipe.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import multiprocessing
import operator
import os
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sigbench.run.cell import CellPlan

__all__ = ["DSP_WORKER_BYTES", "NEURAL_WORKER_BYTES", "Cell", "DataRecipe", "InlineExecutor", "PoolExecutor",
           "auto_workers", "available_cpus", "build_source", "cell_seconds", "make_executor", "networks_first",
           "resolve_class", "resolve_workers", "run_cell", "training_schedule", "worker_thread_limits"]

#: libraries limited to one thread in every worker (TensorFlow's intra-op pool is not: see worker_thread_limits)
_THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS",
                "TF_NUM_INTEROP_THREADS")
_TF_INTRA = "TF_NUM_INTRAOP_THREADS"

#: memory one pool worker may reach running neural cells: measured 0.9 GiB peak RSS for a process that imports
#: TensorFlow and Keras and trains the founding experiment's networks (``benchmarks/README.md``), rounded up
NEURAL_WORKER_BYTES = 1 << 30
#: memory one pool worker reaches running DSP cells, before its data: sigbench, NumPy, SciPy, numba and h5py
#: loaded (≈ 0.17 GB measured), with room for the methods' work arrays
DSP_WORKER_BYTES = 256 << 20
#: a DSP cell's seconds per sample of its grid point (measured 0.29 s per cell at 2·10⁵ samples, rounded up)
_DSP_CELL_S_PER_SAMPLE = 1.5e-6
#: a neural cell's seconds per training batch, and its fixed cost (build, statistics, prediction), measured on
#: the founding experiment: 1.4 ms per batch for ``dnn``, 3.2 ms for ``cnn``, 5.5 ms for ``lstm``
_NEURAL_S_PER_BATCH = 3e-3
_NEURAL_CELL_S = 0.5
#: a neural cell whose epochs and batch size are not known (a chain, a plugin without them)
_NEURAL_CELL_UNKNOWN_S = 3.0
#: estimated seconds a pool must save for ``auto`` to start one: a pool's start costs about a second per worker
#: (each imports sigbench and NumPy, a neural one TensorFlow too), so a run that gains less is faster inline
_AUTO_MIN_SAVED_S = 4.0


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


def available_cpus() -> int:
    """CPUs this process may run on: its affinity mask where the platform has one (a container or ``taskset``
    limit), else ``os.cpu_count()``; at least 1."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # no affinity on this platform (macOS, Windows)
        return max(1, os.cpu_count() or 1)


@contextlib.contextmanager
def worker_thread_limits() -> Iterator[None]:
    """The environment new workers inherit: one thread per BLAS, OpenMP and numba (unless the user set one), and
    TensorFlow's intra-op pool as large as in this process; the previous environment is restored afterwards.

    TensorFlow's intra-op pool keeps its in-process size (``TF_NUM_INTRAOP_THREADS``, else the CPUs this process
    may use, which is TensorFlow's own default) because its size changes the numbers: a ``cnn`` trained with one
    intra-op thread differs in the last bits from one trained with two (every size from 1 to 8 gives other bits;
    presumably the convolution kernels split their sums by it). With the same pool size, a cell gives the same
    bits in a worker as inline. The pool costs little when workers share the cores: a small network's ops keep about
    one core busy whatever the pool's size (two workers training a ``cnn`` each on two cores took the same
    time with pools of one and of two threads).
    """
    saved = {var: os.environ.get(var) for var in (*_THREAD_VARS, _TF_INTRA)}
    for var in _THREAD_VARS:
        os.environ.setdefault(var, "1")
    os.environ.setdefault(_TF_INTRA, str(available_cpus()))
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
    os.environ.setdefault(_TF_INTRA, str(available_cpus()))
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


def networks_first(cells: Sequence[Cell]) -> list[Cell]:
    """``cells`` with those that train a network first (each group in its order): the long cells start first and
    the short DSP cells fill the workers' last gaps, so that no worker is left with a long cell alone at the
    end. The order of the results does not depend on it (the client assembles each row from its cells)."""
    family: dict[tuple[str, str], bool] = {}

    def neural(cell: Cell) -> bool:
        key = (cell.label, cell.name)
        if key not in family:
            try:
                family[key] = getattr(resolve_class(cell.label, cell.name, cell.cls), "family", "") == "neural"
            except Exception:  # an unknown name fails in its cell, with its message; here it only sorts
                family[key] = False
        return family[key]

    return sorted(cells, key=lambda c: not neural(c))


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
            yield from self._run(networks_first(cells), recipes)

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


def _is_neural(method: Any) -> bool:
    """Whether a resolved method (:class:`~sigbench.run.plan.Method`) trains a network: its class is of the
    ``neural`` family (a chain's class is when one of its stages is)."""
    return getattr(method.cls, "family", "") == "neural"


def cell_seconds(method: Any, samples: int) -> float:
    """A rough estimate of one cell's seconds on a grid point of ``samples`` samples, for :func:`auto_workers`.

    A DSP cell: 1.5 µs per sample. A network: 0.5 s plus 3 ms per training batch, ``epochs × ⌈samples /
    batch_size⌉`` batches (its options, its preset's, else its constructor's defaults: an upper bound, as the fit
    rows are fewer than the samples and early stopping may end it sooner); 3 s when those are unknown (a chain).
    """
    if not _is_neural(method):
        return samples * _DSP_CELL_S_PER_SAMPLE
    schedule = training_schedule(method.cls, dict(getattr(method, "options", {}) or {}))
    if schedule is None or samples <= 0:
        return _NEURAL_CELL_UNKNOWN_S
    epochs, batch = schedule
    return _NEURAL_CELL_S + epochs * -(-samples // batch) * _NEURAL_S_PER_BATCH


def training_schedule(cls: Any, options: dict[str, Any]) -> tuple[int, int] | None:
    """``(epochs, batch_size)`` a network of class ``cls`` trains with: its ``options``, else its preset's (the
    ``preset`` option), else its constructor's defaults; ``None`` when they are not positive integers."""
    import inspect

    try:
        params = {k: p.default for k, p in inspect.signature(cls.__init__).parameters.items()
                  if p.default is not inspect.Parameter.empty}
    except (TypeError, ValueError):  # no introspectable constructor
        params = {}
    params.update(dict(getattr(cls, "presets", {}) or {}).get(options.get("preset"), {}))
    params.update(options)
    epochs, batch = params.get("epochs"), params.get("batch_size")
    try:
        epochs, batch = int(epochs), int(batch)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return (epochs, batch) if epochs > 0 and batch > 0 else None


def auto_workers(cells: Sequence[float], *, neural: bool = False, data_bytes: int = 0, cpus: int | None = None,
                 memory_bytes: int | None = None) -> int:
    """How many pool workers ``workers="auto"`` runs a set of cells on (1: inline, in this process).

    The rule:

    1. **Cores ÷ threads per fit**: a worker's fit runs on one thread (BLAS, OpenMP and numba are limited to one
       per worker; a small network keeps about one core busy), so one worker per CPU this process may use
       (:func:`available_cpus`: the affinity mask, as ``taskset`` or a container sets it),
    2. **capped by memory**: workers × the memory of one worker ≤ the memory budget
       (:func:`sigbench.memory_budget_bytes`: ``SIGBENCH_MEMORY_BUDGET``, else half of ``MemAvailable``), one
       worker being :data:`NEURAL_WORKER_BYTES` (1 GiB) when any cell trains a network, else
       :data:`DSP_WORKER_BYTES` (256 MiB), plus four times ``data_bytes`` (the grid point's signal, which a
       worker loads, with its task arrays),
    3. **and by the cells**: never more workers than cells;
    4. **inline unless the pool saves at least 4 s**: the estimated serial time (the sum of the cells' estimates,
       :func:`cell_seconds`) less the pool's (the longer of the longest cell and the sum shared by the workers)
       must pay for starting the workers (about a second each; a neural worker also imports TensorFlow, ≈ 4 s of
       CPU). One cell, a few short DSP cells, or one network beside DSP cells (``demo --fast``) run inline.

    Parameters
    ----------
    cells : sequence of float
        The estimated seconds of each cell to run (method × seed × grid point).
    neural : bool
        Whether any cell trains a network (a worker then imports TensorFlow).
    data_bytes : int
        Bytes of one grid point's signal held in memory by a worker (0 when streamed from a file).
    cpus, memory_bytes : int, optional
        The CPUs and the memory budget to plan for (default: this machine's, as above).

    Returns
    -------
    int
        Workers, at least 1 (1 means: run inline).
    """
    if len(cells) < 2:
        return 1
    if cpus is None:
        cpus = available_cpus()
    if memory_bytes is None:
        from sigbench.h5safe import memory_budget_bytes

        memory_bytes = memory_budget_bytes()
    per_worker = (NEURAL_WORKER_BYTES if neural else DSP_WORKER_BYTES) + 4 * max(0, data_bytes)
    workers = max(1, min(cpus, len(cells), memory_bytes // per_worker))
    serial = float(sum(cells))
    saved = serial - max(max(cells), serial / workers)
    return workers if saved >= _AUTO_MIN_SAVED_S else 1


def resolve_workers(workers: int | str, methods: Sequence[Any] = (), *, seeds: int = 1, points: int = 1,
                    samples: int = 0, data_bytes: int = 0) -> int:
    """The number of workers of a run: ``workers`` itself when it is a number, else :func:`auto_workers` for the
    cells of ``methods`` (resolved :class:`~sigbench.run.plan.Method` objects; a stochastic one runs ``seeds``
    times) on each of ``points`` grid points of ``samples`` samples.

    Parameters
    ----------
    workers : int or "auto"
        An integer ≥ 1 (also as a string, ``"4"``), or ``"auto"``.
    methods : sequence of Method
        The run's methods (with the reference, the oracle and the model limit).
    seeds : int
        Seeds of each stochastic method.
    points : int
        Grid points (1 for a comparison).
    samples : int
        Samples of one grid point's signal (for :func:`cell_seconds`).
    data_bytes : int
        See :func:`auto_workers`.

    Returns
    -------
    int
        At least 1.

    Raises
    ------
    ConfigError
        ``workers`` is neither ``"auto"`` nor an integer ≥ 1.
    """
    from sigbench.errors import ConfigError

    if isinstance(workers, str) and workers.strip().lower() == "auto":
        cells: list[float] = []
        for m in methods:
            cells += [cell_seconds(m, samples)] * (points * (seeds if getattr(m, "stochastic", False) else 1))
        return auto_workers(cells, neural=any(_is_neural(m) for m in methods), data_bytes=data_bytes)
    try:
        value = int(workers.strip()) if isinstance(workers, str) else (
            -1 if isinstance(workers, bool) else operator.index(workers))
    except (TypeError, ValueError):
        value = -1
    if value < 1:
        raise ConfigError(f"expected workers to be 'auto' or an integer >= 1; received: workers={workers!r}")
    return value


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
