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
* :class:`DaskExecutor` — the same cells on a ``dask.distributed`` cluster: ``local-dask`` starts a
  ``LocalCluster`` of ``workers`` processes; ``tcp://host:port`` submits to an existing scheduler.
  Workers read the signal from the path (shared storage) or regenerate it from the source recipe.
  With a ``timeout``, each cell announces its start from the worker (a ``sigbench-cell`` event) and its
  clock starts then, not while it waits in the queue; a cell running past ``timeout`` seconds becomes a
  failed row, its future is cancelled and its worker restarted through its nanny (the only way to stop a
  running task), and Dask reruns the cells that were assigned to that worker. A worker without a nanny
  cannot be restarted: the cell still fails, but its computation runs on until it returns.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import math
import multiprocessing
import os
import queue
import threading
import time
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["Cell", "DaskExecutor", "DataRecipe", "InlineExecutor", "PoolExecutor", "fit_predict", "make_executor"]

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


#: the event topic on which a Dask cell announces that it started running
_DASK_TOPIC = "sigbench-cell"
#: seconds the Dask client waits for a finished cell's result before it waits for the future again
_GATHER_TIMEOUT = 5.0


def run_cell_dask(recipe: DataRecipe, cell: Cell) -> dict[str, Any]:
    """Dask worker entry point: announce the start (for the client's timeout clock), then :func:`run_cell`.

    The announcement is a ``sigbench-cell`` event with the task ``key``, the worker's ``address`` and
    ``nanny`` (``None`` without one) and the worker's wall-clock time ``t``; it never fails the cell.
    """
    try:
        from distributed import get_worker

        worker = get_worker()
        worker.log_event(_DASK_TOPIC, {"key": str(worker.get_current_task()), "worker": worker.address,
                                       "nanny": worker.nanny, "t": time.time()})
    except Exception:  # without an announcement the cell just runs untimed
        pass
    return run_cell(recipe, cell)


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


class DaskExecutor:
    """Run cells on a Dask cluster (``address=None``: a LocalCluster of ``workers`` processes).

    Parameters
    ----------
    address : str or None
        ``tcp://host:port`` of an existing scheduler, or ``None`` to start a ``LocalCluster``.
    workers : int
        Worker processes of the local cluster (one thread each); unused with an ``address``.
    timeout : float, optional
        Seconds a cell may run, counted from the moment it starts on a worker (announced by
        :func:`run_cell_dask`), not from its submission. A cell past it is yielded once as a failed row
        (``timed out after … s``), its future is cancelled and its worker restarted through the worker's
        nanny so that the computation really stops; Dask reruns the other cells that were assigned to that
        worker. A worker without a nanny is not restarted (it would be lost): its cell still fails, but the
        computation keeps its thread until it returns.
    retries : int
        Dask's ``retries`` of each task. A worker that dies is Dask's business: the cells it was running are
        rescheduled, and a cell whose workers died too often becomes a failed row (``KilledWorker``). Deaths
        caused by this executor's timeout restarts are not held against the innocent cells: one that ends in
        ``KilledWorker`` after such a restart is resubmitted.
    """

    def __init__(self, address: str | None, workers: int, timeout: float | None = None, retries: int = 1) -> None:
        try:
            from dask.distributed import Client, LocalCluster
        except ImportError as exc:  # the optional extra is not installed
            from sigbench.errors import ConfigError

            raise ConfigError("expected dask[distributed] for --scheduler (pip install 'sigbench[dask]')") from exc
        self.timeout, self.retries = timeout, retries
        self._cluster = None
        if address is None:
            with _worker_thread_limits():  # read by the workers when they import numpy
                self._cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                             dashboard_address=None, host="127.0.0.1")
            self.client = Client(self._cluster)
        else:
            self.client = Client(address, timeout=30)
        # ("done", key, 0.0) from the futures' callbacks, ("start", announcement, client time) from the event
        # subscription (both on the client's threads), ("hit", keys, 0.0) and ("restarted", None, 0.0) from the
        # restart threads
        self._events: queue.Queue[tuple[str, Any, float]] = queue.Queue()
        self._subscribed = False
        self._restarts: list[threading.Thread] = []
        self._restarting = 0  # restarts whose ("restarted", …) event the run loop has not seen yet

    @property
    def slots(self) -> int:
        """Cells that run at once: the cluster's worker threads (1 if the scheduler cannot tell)."""
        try:
            return max(1, int(sum(self.client.nthreads().values())))
        except Exception:  # a scheduler that does not answer: the progress display only
            return 1

    def _on_start(self, event: tuple[float, Any]) -> None:
        """Subscription handler: a cell started on a worker (timed by this client's clock, on arrival)."""
        self._events.put(("start", event[1], time.monotonic()))

    def _on_done(self, fut: Any) -> None:
        self._events.put(("done", str(fut.key), 0.0))

    def run(self, cells: Sequence[Cell], recipes: dict[int, DataRecipe]) -> Iterator[tuple[Cell, dict[str, Any]]]:
        """Yield ``(cell, output)`` as cells finish (in completion order).

        A cell past ``timeout`` seconds of running is yielded as ``{"error": "timed out after … s"}``;
        a cell whose workers died too often as its ``KilledWorker`` error.
        """
        timeout = self.timeout
        if timeout is not None and not self._subscribed:
            self.client.subscribe_topic(_DASK_TOPIC, self._on_start)
            self._subscribed = True
        func = run_cell if timeout is None else run_cell_dask
        pending: dict[str, tuple[Any, Cell]] = {}  # key -> (future, cell)
        #: key -> (client time it started, worker address, nanny address or None) of the running attempt
        started: dict[str, tuple[float, str, str | None]] = {}
        #: keys that were assigned to a worker this executor restarted (their KilledWorker is not theirs)
        hit: set[str] = set()
        #: cells that ended in KilledWorker while a restart was in flight: judged once it has reported
        deferred: list[tuple[str, Cell, BaseException]] = []

        def submit(cell: Cell) -> None:
            fut = self.client.submit(func, recipes[cell.job], cell, pure=False, retries=self.retries)
            pending[str(fut.key)] = (fut, cell)
            fut.add_done_callback(self._on_done)

        for cell in cells:
            submit(cell)
        try:
            while pending or deferred:
                wait = 0.5
                if timeout is not None and started:
                    first = min(t0 for t0, _, _ in started.values())
                    wait = min(wait, max(0.01, first + timeout - time.monotonic() + 0.01))
                try:
                    events = [self._events.get(timeout=wait)]
                except queue.Empty:
                    events = []
                with contextlib.suppress(queue.Empty):
                    while True:
                        events.append(self._events.get_nowait())
                for kind, payload, t in events:
                    if kind == "start":
                        if isinstance(payload, dict) and payload.get("key") in pending:
                            started[payload["key"]] = (t, str(payload.get("worker")), payload.get("nanny"))
                        continue
                    if kind == "hit":
                        hit.update(payload)
                        continue
                    if kind == "restarted":
                        self._restarting -= 1
                        continue
                    entry = pending.get(payload)
                    if entry is None:  # cancelled after a timeout, or a future of an earlier run
                        continue
                    fut, cell = entry
                    try:
                        out = fut.result(timeout=_GATHER_TIMEOUT)
                    except Exception as exc:  # KilledWorker after the retries, or a lost scheduler
                        if type(exc).__name__ == "TimeoutError":
                            # its result was lost with its worker before it came back (Dask recomputes it),
                            # or a slow transfer: wait for it again rather than block the timeout clocks
                            fut.add_done_callback(self._on_done)
                            continue
                        del pending[payload]
                        started.pop(payload, None)
                        if type(exc).__name__ == "KilledWorker" and (payload in hit or self._restarting):
                            deferred.append((payload, cell, exc))
                            continue
                        out = {"error": _error_text(exc)}
                    else:
                        del pending[payload]
                        started.pop(payload, None)
                    yield cell, out
                if deferred and not self._restarting:  # every restart has reported the cells it hit
                    for key, cell, error in deferred:
                        if key in hit:
                            submit(cell)  # its workers died of our restarts: a fresh start
                        else:
                            yield cell, {"error": _error_text(error)}
                    deferred.clear()
                if timeout is not None:
                    yield from self._expire(timeout, pending, started, hit)
        finally:
            if pending:  # the consumer stopped early, or an error: release what is left
                with contextlib.suppress(Exception):
                    self.client.cancel([fut for fut, _ in pending.values()])

    def _expire(self, timeout: float, pending: dict[str, tuple[Any, Cell]],
                started: dict[str, tuple[float, str, str | None]],
                hit: set[str]) -> Iterator[tuple[Cell, dict[str, Any]]]:
        """Fail the cells running past ``timeout``: cancel them, restart their workers, yield their rows."""
        now = time.monotonic()
        expired = [key for key, (t0, _, _) in started.items() if now - t0 > timeout]
        if not expired:
            return
        # a cell is still running where it announced itself only if the scheduler has it processing there;
        # otherwise that attempt is over (finished, or rescheduled after its worker died): its clock restarts
        # when it starts again
        assigned = {(w, str(key)) for w, keys in self.client.processing().items() for key in keys}
        late = [key for key in expired if (started[key][1], key) in assigned]
        for key in set(expired) - set(late):
            del started[key]
        if not late:
            return
        workers = {started[key][1]: started[key][2] for key in late}
        failed = [pending.pop(key) for key in late]
        self.client.cancel([fut for fut, _ in failed])
        for key in late:
            del started[key]
        restart = [w for w, nanny in workers.items() if nanny]
        if len(restart) < len(workers):
            warnings.warn(f"a cell timed out on Dask worker(s) without a nanny: "
                          f"{sorted(set(workers) - set(restart))}; it is reported as failed but keeps running",
                          RuntimeWarning, stacklevel=2)
        if restart:
            for key, (_, w, _) in list(started.items()):
                if w in restart:  # killed with its worker: rerun elsewhere, its clock restarts then
                    del started[key]
            # the scheduler reschedules what a restarted worker was assigned, counting the death against those
            # cells (KilledWorker after ``distributed.scheduler.allowed-failures``): remember them as innocent
            with contextlib.suppress(Exception):
                hit.update(str(key) for keys in self.client.processing(restart).values() for key in keys)
            thread = threading.Thread(target=self._restart, args=(restart,), name="sigbench-dask-restart",
                                      daemon=True)
            self._restarting += 1
            thread.start()
            self._restarts.append(thread)
        for _, cell in failed:
            yield cell, {"error": f"timed out after {timeout:g} s"}

    def _restart(self, workers: list[str]) -> None:
        """Restart ``workers`` through their nannies (in a thread: a nanny waits a few seconds for a worker
        stuck in a cell to close before it kills it); then report the cells they had been assigned (from the
        scheduler's ``remove-worker`` events) and that the restart is over."""
        try:
            with contextlib.suppress(Exception):  # a worker already gone, or a restart that timed out
                self.client.restart_workers(workers, raise_for_error=False)
            for w in workers:
                with contextlib.suppress(Exception):
                    for _, msg in self.client.get_events(w):
                        if isinstance(msg, dict) and msg.get("action") == "remove-worker":
                            self._events.put(("hit", [str(key) for key in msg.get("processing-tasks", ())], 0.0))
        finally:
            self._events.put(("restarted", None, 0.0))

    def close(self) -> None:
        """Close the client (and the local cluster, if this executor started it).

        On an external cluster, restarts still in flight are waited for first (they bring its workers back);
        a local cluster is closed at once, its workers with it.
        """
        if self._cluster is None:
            for thread in self._restarts:
                thread.join(timeout=120)
        self._restarts.clear()
        self.client.close()
        if self._cluster is not None:
            self._cluster.close()


def make_executor(jobs: dict[int, tuple[Any, Any]], *, workers: int = 1, timeout: float | None = None,
                  scheduler: str | None = None, retries: int = 1) -> Any:
    """Pick an executor: inline (default), a process pool (``workers > 1`` or a ``timeout``), or Dask."""
    if scheduler:
        if scheduler == "local-dask":
            return DaskExecutor(None, max(1, workers), timeout, retries)
        if scheduler.startswith("tcp://"):
            return DaskExecutor(scheduler, workers, timeout, retries)
        from sigbench.errors import ConfigError

        raise ConfigError(f"expected --scheduler local-dask or tcp://HOST:PORT; received: {scheduler!r}")
    if workers > 1 or timeout is not None:
        return PoolExecutor(workers, timeout, retries)
    return InlineExecutor(jobs)
