"""The result file of a run, written the same way whatever the row source: a series of atomic checkpoints.

Each segment is one :func:`~sigbench.h5.atomic_h5` write: the previous checkpoint (or the input file) is
copied into a temporary file beside the target, predictions and test arrays are appended into a staging
group as they come (:func:`append_rows`: chunked, compressed datasets of :data:`PREDICTION_CHUNK` rows), and
:meth:`ResultWriter.checkpoint` publishes the run (rows so far; predictions moved into
``/runs/<id>/methods``) and swaps the file in. Moves inside an HDF5 file are renames, so publishing costs
nothing per sample. A checkpoint is taken when the work since the last one is at least
:data:`CHECKPOINT_FACTOR` times what the last copy of the file cost (after every method on short files).
"""

from __future__ import annotations

import dataclasses
import os
import time
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from sigbench.results import Results

__all__ = ["CHECKPOINT_FACTOR", "PREDICTION_CHUNK", "ResultWriter", "append_rows"]

#: rows per chunk of the prediction and test datasets (compressed with gzip + shuffle)
PREDICTION_CHUNK = 65536
#: checkpoint when the work since the last checkpoint is at least this many times what copying the file cost
CHECKPOINT_FACTOR = 4.0


def append_rows(group: h5py.Group, key: str, values: np.ndarray, dataset: h5py.Dataset | None = None) -> h5py.Dataset:
    """Append rows to the resizable dataset ``group[key]`` (created on first use); returns the dataset."""
    ds = dataset if dataset is not None else group.get(key)
    if ds is None:
        chunk = (min(PREDICTION_CHUNK, max(1, values.shape[0])), *values.shape[1:])
        ds = group.create_dataset(key, shape=(0, *values.shape[1:]), maxshape=(None, *values.shape[1:]),
                                  dtype=values.dtype, chunks=chunk, compression="gzip", shuffle=True)
    n = ds.shape[0]
    ds.resize(n + values.shape[0], axis=0)
    ds[n:] = values
    return ds


class ResultWriter:
    """The result file of one run (see the module docstring).

    Parameters
    ----------
    output : path or None
        The result file (``None``: nothing is written).
    base : path or None
        The file whose contents the result file starts from (the input signal file, or the output itself
        when it already holds runs).
    run_id : str
    signal : Signal, optional
        Written into the result file when there is no ``base`` (an in-memory signal).
    """

    def __init__(self, output: str | os.PathLike[str] | None, base: str | os.PathLike[str] | None, run_id: str,
                 signal: Any = None) -> None:
        self.output, self.base, self.run_id, self.signal = output, base, run_id, signal
        self.stored: dict[tuple[str, int], str] = {}  # (label, seed) -> staging key of published predictions
        self.test_written = False
        self._cm: Any = None
        self.f: h5py.File | None = None
        self.stage: h5py.Group | None = None
        self.copy_s = 0.0
        self._since = time.monotonic()

    def open(self) -> None:
        """Start a segment (a copy of the last checkpoint, or of the base)."""
        if self.output is None:
            return
        from sigbench.h5 import atomic_h5, write_signal_group

        t0 = time.monotonic()
        self._cm = atomic_h5(self.output, base=self.base)
        self.f = self._cm.__enter__()
        if self.signal is not None:  # the run's own signal, never an older one of that name in a kept output
            signals = self.f.get("signals")
            if isinstance(signals, h5py.Group) and self.signal.name in signals:
                del signals[self.signal.name]
            write_signal_group(self.f, self.signal)
        self.copy_s = time.monotonic() - t0
        self._since = time.monotonic()
        self.stage = self.f.create_group(f"_stage_{self.run_id}")

    def append(self, key: str, values: np.ndarray) -> None:
        """Append rows to a staged dataset (predictions ``pred_*``, test arrays ``test_*``)."""
        if self.stage is not None:
            append_rows(self.stage, key, values)

    def drop(self, key: str) -> None:
        """Delete a staged dataset (a failed method's partial predictions)."""
        if self.stage is not None and key in self.stage:
            del self.stage[key]

    def copy_part(self, part: str | os.PathLike[str], key: str) -> None:
        """Copy a worker's prediction file into the staging group."""
        if self.f is not None and self.stage is not None:
            with h5py.File(part, "r") as src:
                self.f.copy(src["prediction"], self.stage, name=key)

    def due(self) -> bool:
        """Whether enough work was done since the last checkpoint to pay for a copy of the file."""
        return self.f is not None and time.monotonic() - self._since >= CHECKPOINT_FACTOR * self.copy_s

    def _publish(self, res: Results) -> None:
        f, stage = self.f, self.stage
        assert f is not None and stage is not None
        runs = f.get("runs")
        if isinstance(runs, h5py.Group) and self.run_id in runs:  # published earlier: aside while the run is rebuilt
            run = runs[self.run_id]
            for g in list(run.get("methods", {}).values()):
                label = str(g.attrs["label"])
                for name in list(g):
                    key = self.stored.get((label, int(name.removeprefix("seed_"))))
                    if key is not None and key not in stage:
                        f.move(f"{g.name}/{name}", f"{stage.name}/{key}")
            for name in list(run.get("test", {})):
                if f"test_{name}" not in stage:
                    f.move(f"{run.name}/test/{name}", f"{stage.name}/test_{name}")
        dataclasses.replace(res, predictions={}, test={}).write_into(
            f, extra_labels={label for label, _ in self.stored})
        run = f["runs"][self.run_id]
        for key in [k for k in stage if k.startswith("test_")]:
            f.move(f"{stage.name}/{key}", f"{run.name}/test/{key.removeprefix('test_')}")
        groups = {str(g.attrs["label"]): g for g in run["methods"].values()}
        for (label, s), key in self.stored.items():
            if key in stage and label in groups:
                f.move(f"{stage.name}/{key}", f"{groups[label].name}/seed_{s}")
        del f[stage.name]  # with a method's partial predictions, if it was interrupted

    def checkpoint(self, res: Results, *, reopen: bool = True) -> None:
        """Publish the run as it stands and swap the file in; then start the next segment."""
        if self.f is None:
            return
        self._publish(res)
        cm, self._cm, self.f, self.stage = self._cm, None, None, None
        cm.__exit__(None, None, None)
        self.base, self.signal = self.output, None
        if reopen:
            self.open()

    def abort(self, exc: BaseException) -> None:
        """Drop the current segment (the target keeps its last checkpoint, or stays as it was)."""
        cm, self._cm, self.f, self.stage = self._cm, None, None, None
        if cm is not None:
            cm.__exit__(type(exc), exc, exc.__traceback__)


def published(output: str | os.PathLike[str], run_id: str) -> tuple[set[tuple[str, int]], bool]:
    """(label, seed) of the predictions a checkpoint of run ``run_id`` holds, and whether it holds the test arrays."""
    from sigbench.h5 import open_file

    if not Path(output).exists():
        return set(), False
    with open_file(output) as f:
        runs = f.get("runs")
        if not isinstance(runs, h5py.Group) or run_id not in runs:
            return set(), False
        run = runs[run_id]
        preds = {(str(g.attrs["label"]), int(name.removeprefix("seed_")))
                 for g in run.get("methods", {}).values() for name in g}
        return preds, "targets" in run.get("test", {})
