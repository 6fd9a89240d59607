"""The batch pipeline of the neural processors: windows to Keras one batch at a time, and the statistics.

``window_batches`` builds a ``keras.utils.PyDataset`` (the class is made lazily, so that Keras is imported
only on use) over a ``(rows, window)`` array — often a strided view, or rows read from a file
(:class:`~sigbench.FileWindows`) — copying one batch at a time. :class:`BlockOrder` is the block shuffle of
file-backed rows; ``_sample_moments``/``_column_moments`` compute the standardisation statistics the same
way for arrays and files.
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import Any

import numpy as np

from sigbench.metrics import RunningMoments
from sigbench.plugins.neural._backend import import_keras

__all__ = ["BlockOrder", "window_batches"]

#: rows per block of the statistics passes
_MOMENT_BLOCK = 1 << 16


# -- the batch pipeline (a PyDataset class built lazily, so that Keras is imported only on use) ----
@lru_cache(maxsize=1)
def _window_dataset_class() -> type:
    keras = import_keras()

    class WindowBatches(keras.utils.PyDataset):  # type: ignore[name-defined,misc]
        """Rows ``start:stop`` of a (possibly strided) ``(rows, window)`` array, one batch copy at a time.

        ``batch i`` holds float32 copies of at most ``batch_size`` rows, standardised with
        ``(x - x_shift) / x_scale``; targets likewise with per-output statistics. With ``seed`` the
        rows are visited in a new random order every epoch (sorted inside a batch, for memory
        locality): one ``default_rng(seed)`` permutation of all rows, or with ``shuffle_block`` a
        permutation of the blocks of ``shuffle_block`` rows and of the rows inside each block (see
        :class:`BlockOrder`). Without ``seed``, in order. ``inputs``/``targets`` may be rows read
        on demand from a file (:class:`~sigbench.FileWindows`).
        """

        def __init__(self, inputs: Any, targets: Any, batch_size: int, *, start: int, stop: int,
                     stats: dict[str, np.ndarray], seed: int | None, shuffle_block: int | None = None) -> None:
            super().__init__()
            self.inputs, self.targets = inputs, targets
            self.batch_size, self.start, self.stop = batch_size, start, stop
            self.x_shift = np.float32(stats["x_shift"])
            self.x_inv = np.float32(1.0 / stats["x_scale"])
            self.y_shift = np.asarray(stats["y_shift"], dtype=np.float32)
            self.y_inv = np.asarray(1.0 / stats["y_scale"], dtype=np.float32)
            self._seed = seed
            self._rng = None if seed is None else np.random.default_rng(seed)
            self._order: np.ndarray | BlockOrder | None = None
            self.shuffle_block = shuffle_block
            self.epoch = -1
            self.max_batch_bytes = 0  # largest input batch handed out (tests check the pipeline copies batches only)
            self.on_epoch_end()

        def __len__(self) -> int:
            return max(0, math.ceil((self.stop - self.start) / self.batch_size))

        def _rows(self, index: int) -> slice | np.ndarray:
            lo = index * self.batch_size
            hi = min(lo + self.batch_size, self.stop - self.start)
            if self._order is None:
                return slice(self.start + lo, self.start + hi)
            if isinstance(self._order, BlockOrder):
                return self._order.rows(lo, hi) + self.start
            return np.sort(self._order[lo:hi]) + self.start

        def __getitem__(self, index: int) -> Any:
            if index < 0 or index >= len(self):
                raise IndexError(index)
            rows = self._rows(index)
            x = np.asarray(self.inputs[rows], dtype=np.float32)  # one batch copy
            x -= self.x_shift
            x *= self.x_inv
            self.max_batch_bytes = max(self.max_batch_bytes, x.nbytes)
            if self.targets is None:
                return x
            y = np.asarray(self.targets[rows], dtype=np.float32).reshape(x.shape[0], -1)
            return x, (y - self.y_shift) * self.y_inv

        def on_epoch_end(self) -> None:
            self.epoch += 1
            if self._seed is None:
                return
            n = self.stop - self.start
            if self.shuffle_block is not None:
                self._order = BlockOrder(n, self.shuffle_block, self._seed, self.epoch)
            elif self._rng is not None:
                self._order = self._rng.permutation(n)

    return WindowBatches


def window_batches(inputs: Any, targets: Any, batch_size: int, *, start: int = 0,
                   stop: int | None = None, stats: dict[str, np.ndarray] | None = None,
                   seed: int | None = None, shuffle_block: int | None = None) -> Any:
    """A ``keras.utils.PyDataset`` over rows ``start:stop`` of ``inputs`` (see ``WindowBatches``).

    Parameters
    ----------
    inputs : ndarray, shape ``(rows, window)``
        Often a read-only strided view; only batches are copied.
    targets : ndarray, shape ``(rows,)`` or ``(rows, outputs)``, or None
        None for prediction (the dataset then yields inputs only).
    batch_size : int
        Rows per batch.
    start, stop : int
        The row range served (``stop`` defaults to all rows).
    stats : dict, optional
        ``x_shift``, ``x_scale``, ``y_shift``, ``y_scale``; default: identity.
    seed : int, optional
        Shuffle rows every epoch with ``default_rng(seed)``; default: in order.
    shuffle_block : int, optional
        Shuffle by blocks of this many rows (see :class:`BlockOrder`); default: one global permutation.
    """
    if stats is None:
        outputs = 1 if targets is None or targets.ndim == 1 else targets.shape[1]
        stats = {"x_shift": np.zeros(()), "x_scale": np.ones(()), "y_shift": np.zeros(outputs),
                 "y_scale": np.ones(outputs)}
    cls = _window_dataset_class()
    return cls(inputs, targets, batch_size, start=start, stop=inputs.shape[0] if stop is None else stop,
               stats=stats, seed=seed, shuffle_block=shuffle_block)


class BlockOrder:
    """One epoch's visiting order of ``n`` rows shuffled by blocks, computed a batch at a time.

    The rows are cut into consecutive blocks of ``block`` rows (the last may be shorter). The epoch
    visits the blocks in the order ``default_rng([seed, epoch]).permutation(blocks)`` and the rows of
    block ``b`` in the order ``default_rng([seed, epoch, b + 1]).permutation(size of b)``. Memory is one
    entry per block plus the permutations of the two most recent blocks, never one entry per row, so
    a file of 10⁹ rows is shuffled in a few megabytes.
    """

    def __init__(self, n: int, block: int, seed: int, epoch: int) -> None:
        self.n, self.block, self.seed, self.epoch = n, block, seed, epoch
        count = max(1, math.ceil(n / block))
        self.blocks = np.random.default_rng([seed, epoch]).permutation(count)
        sizes = np.minimum(block, n - self.blocks * block)
        self.offsets = np.concatenate([[0], np.cumsum(sizes)])
        self._perms: dict[int, np.ndarray] = {}

    def _perm(self, b: int) -> np.ndarray:
        perm = self._perms.get(b)
        if perm is None:
            size = min(self.block, self.n - b * self.block)
            perm = np.random.default_rng([self.seed, self.epoch, b + 1]).permutation(size)
            if len(self._perms) >= 2:
                self._perms.pop(next(iter(self._perms)))
            self._perms[b] = perm
        return perm

    def rows(self, lo: int, hi: int) -> np.ndarray:
        """The rows at positions ``lo … hi−1`` of the epoch's order, sorted."""
        parts = [np.zeros(0, dtype=np.int64)]
        hi = min(hi, self.n)
        j = int(np.searchsorted(self.offsets, lo, side="right")) - 1
        pos = lo
        while pos < hi:
            b = int(self.blocks[j])
            a, z = pos - int(self.offsets[j]), min(hi, int(self.offsets[j + 1])) - int(self.offsets[j])
            parts.append(self._perm(b)[a:z] + b * self.block)
            pos = int(self.offsets[j + 1])
            j += 1
        return np.sort(np.concatenate(parts))

    def full(self) -> np.ndarray:
        """The whole epoch's order (unsorted; for tests and small data)."""
        return np.concatenate([self._perm(int(b)) + int(b) * self.block for b in self.blocks])


def _sample_moments(inputs: Any, idx: np.ndarray) -> tuple[float, float]:
    """Mean and standard deviation of the values of rows ``idx`` (sorted), read a few rows at a time.

    Blocks of rows are combined with Chan et al.'s pairwise update, so memory is one block of rows
    whatever the sample's size (and the result is the same for an array and for rows read from a file).
    """
    moments = RunningMoments()
    step = max(1, _MOMENT_BLOCK // int(inputs.shape[1]))
    for lo in range(0, idx.size, step):
        moments.add(inputs[idx[lo:lo + step]])
    return moments.mean, math.sqrt(moments.m2 / moments.count)


def _column_moments(targets: Any, outputs: int, rows: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Per-output mean and standard deviation of the first ``rows`` rows of ``targets`` (all by default), in
    two passes over blocks of rows.

    The same blocks whether ``targets`` is an array or rows read from a file, so both give the same
    numbers bit for bit; memory is one block.
    """
    rows = int(targets.shape[0]) if rows is None else rows
    step = _MOMENT_BLOCK
    total = np.zeros(outputs)
    for lo in range(0, rows, step):
        total += np.asarray(targets[lo:min(lo + step, rows)], dtype=np.float64).reshape(-1, outputs).sum(axis=0)
    mean = total / rows
    sq = np.zeros(outputs)
    for lo in range(0, rows, step):
        block = np.asarray(targets[lo:min(lo + step, rows)], dtype=np.float64).reshape(-1, outputs) - mean
        sq += np.square(block).sum(axis=0)
    return mean, np.sqrt(sq / rows)
