"""The Dask executor: the cells of a comparison on a ``dask.distributed`` cluster, with per-cell timeouts.

``local-dask`` starts a ``LocalCluster``; ``tcp://host:port`` submits to an existing scheduler. See
:mod:`sigbench.run.executors` for cells, recipes and the other executors.
"""

from __future__ import annotations

import contextlib
import queue
import threading
import time
import warnings
from collections.abc import Iterator, Sequence
from typing import Any

from sigbench.run.cell import error_text
from sigbench.run.executors import Cell, DataRecipe, networks_first, run_cell, worker_thread_limits

__all__ = ["DaskExecutor", "run_cell_dask"]


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
            with worker_thread_limits():  # read by the workers when they import numpy
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

        for cell in networks_first(cells):  # the long cells first: the last one does not run alone
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
                        out = {"error": error_text(exc)}
                    else:
                        del pending[payload]
                        started.pop(payload, None)
                    yield cell, out
                if deferred and not self._restarting:  # every restart has reported the cells it hit
                    for key, cell, error in deferred:
                        if key in hit:
                            submit(cell)  # its workers died of our restarts: a fresh start
                        else:
                            yield cell, {"error": error_text(error)}
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
