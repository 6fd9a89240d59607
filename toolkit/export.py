"""Export a signal, or a run's predictions, from a sigbench file to WAV, CSV or NumPy ``.npy``.

``export_signal`` writes the samples of ``/signals/<name>/data`` (or ``clean``); ``export_predictions``
writes one method's test predictions of a stored run, with the sample index and time of each row
and the target beside it in CSV. Files are written atomically (:mod:`sigbench.atomic`).

Formats (from the suffix of the output, or ``fmt``):

``wav``
    32-bit float WAV at the signal's sample rate rounded to whole Hz (WAV stores an integer rate;
    a rate below 1 Hz is refused), one WAV channel per signal channel (or per output), values as
    stored (no scaling).
``csv``
    A header line, then one row per sample: ``time_s`` and one column per channel (signals), or
    ``sample_index``, ``time_s``, ``prediction`` (``prediction_<k>`` for several outputs) and
    ``target`` (``target_<k>``) for predictions; full float precision (``%.17g``).
``npy``
    The array alone: ``(samples,)``/``(samples, channels)`` or ``(rows,)``/``(rows, outputs)``.
"""

from __future__ import annotations

import io
import math
import os
from pathlib import Path
from typing import Any

import numpy as np

from sigbench.atomic import atomic_write_bytes
from sigbench.errors import ValidationError

__all__ = ["EXPORT_FORMATS", "export_array", "export_predictions", "export_signal"]

EXPORT_FORMATS = ("wav", "csv", "npy")


def _format_of(output: Path, fmt: str | None) -> str:
    chosen = (fmt or output.suffix.lstrip(".")).lower()
    if chosen not in EXPORT_FORMATS:
        raise ValidationError(f"expected --file-format among {', '.join(EXPORT_FORMATS)} (or an output ending in "
                              f".wav, .csv, .npy); received: {fmt or output.name!r}")
    return chosen


def export_array(data: np.ndarray, output: str | os.PathLike[str], *, sample_rate_hz: float, fmt: str | None = None,
                 columns: dict[str, np.ndarray] | None = None, names: tuple[str, ...] = ()) -> Path:
    """Write ``data`` (samples first) as WAV, CSV or ``.npy``.

    Parameters
    ----------
    data : ndarray, shape ``(samples,)`` or ``(samples, channels)``
    output : path-like
    sample_rate_hz : float
        Sample rate in Hz (WAV header; > 0).
    fmt : {"wav", "csv", "npy"}, optional
        Default: from the suffix of ``output``.
    columns : dict, optional
        CSV only: columns written before the data (e.g. ``time_s``), each of shape ``(samples,)``.
    names : tuple of str
        CSV only: data column names (default ``ch<k>``).

    Returns
    -------
    Path

    Raises
    ------
    ValidationError
        Unknown format; a WAV rate below 1 Hz.
    WriteError
        The file cannot be written (the previous one is untouched).
    """
    target = Path(output)
    kind = _format_of(target, fmt)
    arr = np.asarray(data, dtype=np.float64)
    buf = io.BytesIO()
    if kind == "npy":
        np.save(buf, arr, allow_pickle=False)
    elif kind == "wav":
        from scipy.io import wavfile

        rate = round(float(sample_rate_hz))
        if not math.isfinite(sample_rate_hz) or rate < 1:
            raise ValidationError(f"expected a sample rate of at least 1 Hz for WAV; received: {sample_rate_hz!r}")
        wavfile.write(buf, rate, arr.astype(np.float32))
    else:
        table = arr.reshape(arr.shape[0], -1)
        labels = list(names) if len(names) == table.shape[1] else [f"ch{i}" for i in range(table.shape[1])]
        extra = columns or {}
        header = ",".join([*extra, *labels])
        full = np.column_stack([*(np.asarray(v, dtype=np.float64) for v in extra.values()), table])
        text = io.StringIO()
        np.savetxt(text, full, delimiter=",", header=header, comments="", fmt="%.17g")
        buf.write(text.getvalue().encode("utf-8"))
    return atomic_write_bytes(target, buf.getvalue())


def export_signal(path: str | os.PathLike[str], output: str | os.PathLike[str], *, signal: str | None = None,
                  which: str = "data", fmt: str | None = None) -> Path:
    """Export one signal of a sigbench file (``which="clean"`` for its clean reference).

    Raises
    ------
    ValidationError
        ``which`` is not ``data``/``clean``, or the signal has no clean reference; unknown format.
    FileFormatError
        Not a readable sigbench file.
    """
    from sigbench.h5 import load_signal

    if which not in ("data", "clean"):
        raise ValidationError(f"expected --which data or clean; received: {which!r}")
    sig = load_signal(path, signal)
    arr = sig.data if which == "data" else sig.clean
    if arr is None:
        raise ValidationError(f"expected a signal with a clean reference; received: {sig.name!r} has none")
    time = sig.t0_s + np.arange(arr.shape[0]) / sig.sample_rate_hz
    return export_array(arr, output, sample_rate_hz=sig.sample_rate_hz, fmt=fmt, columns={"time_s": time},
                        names=tuple(sig.channel_names))


def export_predictions(path: str | os.PathLike[str], output: str | os.PathLike[str], *, run: str | None = None,
                       method: str | None = None, seed: int | None = None, fmt: str | None = None) -> Path:
    """Export one method's test predictions of a stored run.

    Parameters
    ----------
    path : path-like
        A sigbench result file.
    output : path-like
    run : str, optional
        Run id (default: the latest).
    method : str, optional
        The method's label as in the table; required when the run holds predictions of several.
    seed : int, optional
        Default: the method's first seed.
    fmt : {"wav", "csv", "npy"}, optional

    Raises
    ------
    ValidationError
        No predictions, an unknown method or seed, several methods and none named.
    """
    from sigbench.results import load_results

    res = load_results(path, run)
    labels = sorted({m for m, _ in res.predictions})
    if not labels:
        raise ValidationError(f"expected a run with stored predictions; received: run {res.run_id} has none")
    if method is None:
        if len(labels) != 1:
            raise ValidationError(f"expected --label among {', '.join(labels)}; received: none")
        method = labels[0]
    if method not in labels:
        raise ValidationError(f"expected --label among {', '.join(labels)}; received: {method!r}")
    seeds = sorted(s for m, s in res.predictions if m == method)
    chosen = seeds[0] if seed is None else seed
    if chosen not in seeds:
        raise ValidationError(f"expected --row-seed among {', '.join(map(str, seeds))}; received: {seed}")
    pred = np.asarray(res.predictions[(method, chosen)])
    rate = float(res.signal.get("sample_rate_hz") or 1.0)
    t0 = float(res.signal.get("t0_s") or 0.0)
    columns: dict[str, np.ndarray] = {}
    names: tuple[str, ...] = ("prediction",) if pred.ndim == 1 else tuple(
        f"prediction_{k}" for k in range(pred.shape[1]))
    index = res.test.get("target_index")
    if index is not None and len(index) == pred.shape[0]:
        columns["sample_index"] = np.asarray(index, dtype=np.float64)
        columns["time_s"] = t0 + np.asarray(index, dtype=np.float64) / rate
    data: Any = pred
    targets = res.test.get("targets")
    fmt_kind = _format_of(Path(output), fmt)
    if fmt_kind == "csv" and targets is not None and len(targets) == pred.shape[0]:
        t = np.asarray(targets, dtype=np.float64).reshape(pred.shape[0], -1)
        data = np.column_stack([pred.reshape(pred.shape[0], -1), t])
        names = (*names, *(("target",) if t.shape[1] == 1 else tuple(f"target_{k}" for k in range(t.shape[1]))))
    return export_array(data, output, sample_rate_hz=rate, fmt=fmt_kind, columns=columns, names=names)
