"""File importers: WAV, CSV/TSV, NumPy ``.npy`` and datasets inside HDF5 files written by other tools.

Every loader is ``name(path, *, …) -> Signal`` and stores ``metadata`` with ``source``, ``params`` (the file
path and every option), ``file`` (the file name) and ``sigbench_version``. Errors are one line naming the
file: :class:`~sigbench.errors.FileFormatError` when the file is missing, unreadable or not what it claims
to be (:class:`~sigbench.errors.UnsafeFileError` for HDF5 structures sigbench refuses to follow), and
:class:`~sigbench.errors.ValidationError` when an option does not fit the file (an unknown column, a missing
sample rate).

Scaling of integer PCM (WAV): ``int16`` / 2^15, ``int32`` (also 24-bit files, which scipy left-justifies
in 32 bits) / 2^31, ``uint8`` (x − 128) / 2^7, so full scale maps to [−1, 1); float WAV data is kept as is.

Pickle is never used: ``.npy`` files are read with ``np.load(path, allow_pickle=False)``.

Tiny sample files ship in ``sigbench/datasets/samples/`` (:func:`sample_path`):

>>> import sigbench as sb
>>> from sigbench.datasets.importers import sample_path
>>> sig = sb.load_source("wav", sample_path("tones.wav"))
>>> sig.n_channels, sig.sample_rate_hz
(2, 8000.0)
"""

from __future__ import annotations

import csv
import io
import math
import os
import struct
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from sigbench import hookimpl
from sigbench._validate import one_of, positive_float, positive_int
from sigbench.datasets._common import make_metadata
from sigbench.errors import FileFormatError, UnsafeFileError, ValidationError
from sigbench.signal import NONFINITE_POLICIES, Signal

__all__ = ["SAMPLES_DIR", "load_csv", "load_hdf5", "load_npy", "load_wav", "orient_samples_first", "sample_path"]

#: the folder of the bundled sample files
SAMPLES_DIR = Path(__file__).resolve().parent / "samples"
#: relative tolerance on the spacing of a CSV time column
TIME_RTOL = 1e-3
#: HDF5 attributes (on the dataset) read as a sample rate in Hz when ``sample_rate_hz`` is not given
RATE_ATTRS = ("sample_rate_hz", "sample_rate", "sampling_rate", "sampling_rate_hz", "rate")
_DELIMITERS = ",\t;|"


def sample_path(name: str) -> str:
    """Path of a bundled sample file.

    Parameters
    ----------
    name : str
        File name inside ``sigbench/datasets/samples/`` (``tones.wav``, ``sensors.csv``).

    Returns
    -------
    str
        Absolute path.

    Raises
    ------
    ValidationError
        No such sample file (the message lists them).

    Examples
    --------
    >>> from sigbench.datasets.importers import sample_path
    >>> sample_path("sensors.csv").endswith("sensors.csv")
    True
    """
    path = SAMPLES_DIR / name
    if not path.is_file() or path.suffix == ".py":
        known = ", ".join(sorted(p.name for p in SAMPLES_DIR.iterdir() if p.suffix != ".py")) or "none"
        raise ValidationError(f"expected a sample file among {known}; received: name={name!r}")
    return str(path)


# -- shared ----------------------------------------------------------------------------------------
def _existing_file(path: Any) -> Path:
    if not isinstance(path, (str, os.PathLike)) or not str(path):
        raise ValidationError(f"expected a file path; received: path={path!r}")
    p = Path(path)
    if not p.exists():
        raise FileFormatError(f"no such file: {p}")
    if p.is_dir():
        raise FileFormatError(f"is a directory, not a file: {p}")
    if not os.access(p, os.R_OK):
        raise FileFormatError(f"cannot read {p}: permission denied")
    return p


def _rate_or_required(sample_rate_hz: Any, p: Path, what: str) -> float:
    if isinstance(sample_rate_hz, (int, float)) and not isinstance(sample_rate_hz, bool) and sample_rate_hz == 0:
        raise ValidationError(
            f"expected sample_rate_hz > 0 ({what} does not record its sample rate; pass sample_rate_hz=…, "
            f"on the command line --sample-rate …) for {p}; "
            f"received: sample_rate_hz={sample_rate_hz!r}"
        )
    return positive_float("sample_rate_hz", sample_rate_hz)


def _check_nonfinite(nonfinite: Any) -> str:
    return one_of("nonfinite", nonfinite, NONFINITE_POLICIES)


def _make_signal(
    p: Path,
    data: np.ndarray,
    rate: float,
    source: str,
    params: dict[str, Any],
    nonfinite: str,
    *,
    t0_s: float = 0.0,
    channel_names: tuple[str, ...] = (),
    units: str = "",
    **extra: Any,
) -> Signal:
    meta = make_metadata(source, params, file=p.name, **extra)
    try:
        return Signal(
            data=data,
            sample_rate_hz=rate,
            t0_s=t0_s,
            units=units,
            channel_names=channel_names,
            metadata=meta,
            nonfinite=nonfinite,
        )
    except ValidationError as exc:
        raise type(exc)(f"{p}: {exc}") from None


def _samples_first_shape(p: Path, shape: tuple[int, ...], channels_first: bool) -> tuple[int, ...]:
    """The shape of the imported signal, ``(samples,)`` or ``(samples, channels)``; refuse other shapes."""
    shape = tuple(int(s) for s in shape)
    if len(shape) not in (1, 2):
        raise FileFormatError(
            f"{p}: expected a 1-D (samples,) or 2-D (samples, channels) array; received: shape={shape}"
        )
    if len(shape) == 2 and channels_first:
        shape = (shape[1], shape[0])
    if shape[0] == 0 or (len(shape) == 2 and shape[1] == 0):
        raise FileFormatError(f"{p}: holds no samples; received: shape={shape}")
    return shape


def _select_channels(p: Path, arr: np.ndarray, channels_first: bool) -> np.ndarray:
    _samples_first_shape(p, arr.shape, channels_first)
    return arr.T if arr.ndim == 2 and channels_first else arr


def _check_real_dtype(p: Path, dtype: np.dtype[Any], what: str) -> None:
    if dtype.kind not in "fiub":
        raise FileFormatError(
            f"{p}: expected {what} of real numbers; received: dtype={dtype} "
            "(complex, string and structured data are not signals)"
        )


def _numeric(p: Path, arr: np.ndarray, what: str) -> np.ndarray:
    _check_real_dtype(p, arr.dtype, what)
    return np.asarray(arr, dtype=np.float64)


# -- WAV -------------------------------------------------------------------------------------------
def _pcm_to_float(arr: np.ndarray) -> np.ndarray:
    kind, bits = arr.dtype.kind, arr.dtype.itemsize * 8
    if kind == "f":
        return arr.astype(np.float64)
    if kind == "i":
        return arr.astype(np.float64) / float(2 ** (bits - 1))
    if kind == "u":
        half = float(2 ** (bits - 1))
        return (arr.astype(np.float64) - half) / half
    raise ValueError(f"unsupported WAV sample type {arr.dtype}")


#: what :func:`scipy.io.wavfile.read` raises on a damaged or unsupported file
_WAV_READ_ERRORS = (ValueError, EOFError, OSError, IndexError, TypeError, struct.error)


def _wav_read_error(p: Path, exc: BaseException) -> FileFormatError:
    """The one-line error for a WAV file scipy could not read."""
    reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return FileFormatError(f"not a readable WAV file: {p} ({reason})")


def load_wav(path: str, *, channel: int = -1, nonfinite: str = "error") -> Signal:
    """Import a WAV file (:func:`scipy.io.wavfile.read`): PCM integers or float, mono or multi-channel.

    Parameters
    ----------
    path : str
        The ``.wav`` file.
    channel : int, default -1
        Keep one channel (0-based index); −1 keeps all.
    nonfinite : {"error", "interpolate"}, default "error"
        What to do with NaN/inf samples in a float WAV (see :class:`~sigbench.Signal`).

    Returns
    -------
    Signal
        ``data`` of shape ``(samples,)`` (mono or one channel) or ``(samples, channels)``, scaled to
        [−1, 1) for integer PCM; ``sample_rate_hz`` from the file header.

    Raises
    ------
    FileFormatError
        Missing, unreadable, not a WAV file, an unsupported encoding, a zero sample rate, or no samples.
    ValidationError
        ``channel`` out of range, or NaN/inf samples under ``nonfinite="error"``.

    Examples
    --------
    >>> import sigbench as sb
    >>> from sigbench.datasets.importers import sample_path
    >>> sb.load_source("wav", sample_path("tones.wav"), channel=1).data.shape
    (1000,)
    """
    from scipy.io import wavfile

    p = _existing_file(path)
    ch = positive_int("channel", channel, minimum=-1)
    policy = _check_nonfinite(nonfinite)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", wavfile.WavFileWarning)  # unknown chunks are skipped, fine
            rate, raw = wavfile.read(p, mmap=False)
        data = _pcm_to_float(np.asarray(raw))
    except _WAV_READ_ERRORS as exc:
        raise _wav_read_error(p, exc) from None
    if rate <= 0:
        raise FileFormatError(f"{p}: the WAV header gives a sample rate of {rate} Hz")
    data = _select_channels(p, data, channels_first=False)
    n_ch = 1 if data.ndim == 1 else data.shape[1]
    if ch >= n_ch:
        raise ValidationError(
            f"expected channel in [-1, {n_ch - 1}] for {p} ({n_ch} channel(s)); received: channel={channel!r}"
        )
    names: tuple[str, ...] = ()
    if ch >= 0 and data.ndim == 2:
        data = data[:, ch]
        names = (f"ch{ch}",)
    params = {"path": str(path), "channel": ch, "nonfinite": policy}
    return _make_signal(
        p, data, float(rate), "wav", params, policy, channel_names=names, wav_dtype=str(np.asarray(raw).dtype)
    )


# -- CSV / TSV -------------------------------------------------------------------------------------
def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _parse_columns(column: Any) -> list[str]:
    if isinstance(column, bool):
        raise ValidationError(f"expected column as an index or a header name; received: column={column!r}")
    if isinstance(column, int):
        return [str(column)]
    if isinstance(column, (list, tuple)):
        return [str(c).strip() for c in column if str(c).strip()]
    if isinstance(column, str):
        return [c.strip() for c in column.split(",") if c.strip()]
    raise ValidationError(f"expected column as an index or a header name; received: column={column!r}")


def _resolve_column(p: Path, spec: str, header: list[str] | None, width: int) -> int:
    if header is not None and spec in header:
        return header.index(spec)
    try:
        index = int(spec)
    except ValueError:
        names = ", ".join(header) if header else "none (the file has no header row)"
        raise ValidationError(
            f"expected a column of {p} (names: {names}; or an index 0…{width - 1}); received: column={spec!r}"
        ) from None
    if not -width <= index < width:
        raise ValidationError(
            f"expected a column index in [0, {width - 1}] for {p} ({width} columns); received: column={spec!r}"
        )
    return index % width


def load_csv(
    path: str,
    *,
    sample_rate_hz: float = 0.0,
    column: str = "",
    time_column: str = "",
    delimiter: str = "",
    skip_rows: int = 0,
    nonfinite: str = "error",
) -> Signal:
    """Import columns of a CSV or TSV file as a signal (one column per channel).

    The delimiter is sniffed among ``,`` tab ``;`` ``|`` unless given. A first row that is not all numbers is
    a header, and columns can then be chosen by name. Empty fields and ``nan`` read as NaN (see
    ``nonfinite``).

    Parameters
    ----------
    path : str
        The ``.csv``/``.tsv``/``.txt`` file.
    sample_rate_hz : float, default 0 (required unless ``time_column`` is given)
        Sampling rate in Hz (> 0).
    column : str, default "" (all columns except the time column)
        The column(s) to import: header names or 0-based indices, comma-separated (``"1"``, ``"x,y"``,
        ``"0,2"``). From Python an ``int`` or a list also works.
    time_column : str, default ""
        A column of sample times in seconds (name or index): the sample rate is derived from it (its
        spacing must be uniform within 0.1 % and strictly increasing) and ``t0_s`` is its first value.
    delimiter : str, default "" (sniffed)
        The field separator; ``"\\t"`` or ``"tab"`` for tab.
    skip_rows : int, default 0
        Lines to skip before the header or the data (≥ 0).
    nonfinite : {"error", "interpolate"}, default "error"
        What to do with missing or NaN/inf values.

    Returns
    -------
    Signal
        ``data`` of shape ``(samples,)`` for one column, else ``(samples, channels)``; channel names from the
        header (or ``col<i>``).

    Raises
    ------
    FileFormatError
        Missing or unreadable file, not text, no data rows, rows of different lengths, a field that is not a
        number (the message gives line and column).
    ValidationError
        No or invalid ``sample_rate_hz`` without ``time_column``, both given, an unknown column, a time
        column that is not strictly increasing and uniform, ``skip_rows < 0``, missing values under
        ``nonfinite="error"``.

    Examples
    --------
    >>> import sigbench as sb
    >>> from sigbench.datasets.importers import sample_path
    >>> sig = sb.load_source("csv", sample_path("sensors.csv"), time_column="time_s")
    >>> sig.sample_rate_hz, sig.channel_names
    (100.0, ('accel', 'gyro'))
    """
    p = _existing_file(path)
    skip = positive_int("skip_rows", skip_rows, minimum=0)
    policy = _check_nonfinite(nonfinite)
    if not isinstance(delimiter, str) or len(delimiter.replace("\\t", "\t").replace("tab", "\t")) > 1:
        raise ValidationError(f"expected delimiter to be one character (or 'tab'); received: delimiter={delimiter!r}")
    delim = delimiter.replace("\\t", "\t").replace("tab", "\t")
    wanted = _parse_columns(column)
    time_spec = _parse_columns(time_column)
    if len(time_spec) > 1:
        raise ValidationError(f"expected one time_column; received: time_column={time_column!r}")
    has_rate = not (
        isinstance(sample_rate_hz, (int, float)) and not isinstance(sample_rate_hz, bool) and sample_rate_hz == 0
    )
    if time_spec and has_rate:
        raise ValidationError(
            f"expected either sample_rate_hz or time_column, not both; received: "
            f"sample_rate_hz={sample_rate_hz!r}, time_column={time_column!r}"
        )
    rate = _rate_or_required(sample_rate_hz, p, "a CSV file without time_column") if not time_spec else 0.0

    try:
        text = p.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise FileFormatError(f"not a text (UTF-8) CSV file: {p}") from None
    except OSError as exc:
        raise FileFormatError(f"cannot read {p}: {exc.strerror or exc}") from None
    if "\x00" in text:
        raise FileFormatError(f"not a text CSV file (it holds NUL bytes): {p}")
    lines = text.splitlines()[skip:]
    first = next((i for i, line in enumerate(lines) if line.strip()), None)
    if first is None:
        raise FileFormatError(f"{p}: no data rows (after skipping {skip} line(s))")
    if not delim:
        sample = "\n".join(lines[first : first + 50])
        try:
            delim = csv.Sniffer().sniff(sample, delimiters=_DELIMITERS).delimiter
        except csv.Error:
            delim = next((d for d in _DELIMITERS if d in lines[first]), ",")
    fast = _fast_table(lines, first, delim)
    rows: list[list[str]] = []
    header: list[str] | None = None
    if fast is not None:
        header, table = fast
        width = table.shape[1]
    else:  # empty fields, quoting, ragged or bad rows: the per-line parser and its messages
        table = None
        rows = [
            row for row in csv.reader(io.StringIO("\n".join(lines[first:])), delimiter=delim)
            if any(f.strip() for f in row)
        ]
        if rows and not all(_is_number(f) or not f.strip() for f in rows[0]):
            header = [f.strip() for f in rows[0]]
            rows = rows[1:]
        if not rows:
            raise FileFormatError(f"{p}: no data rows (only a header)")
        width = len(header) if header is not None else len(rows[0])
        for i, row in enumerate(rows):
            if len(row) != width:
                line_no = skip + first + i + (2 if header is not None else 1)
                raise FileFormatError(
                    f"{p}: line {line_no} has {len(row)} fields, expected {width} (delimiter {delim!r})"
                )
    time_index = _resolve_column(p, time_spec[0], header, width) if time_spec else None
    if wanted:
        indices = [_resolve_column(p, spec, header, width) for spec in wanted]
    else:
        indices = [i for i in range(width) if i != time_index]
    if not indices:
        raise ValidationError(
            f"expected at least one data column besides the time column in {p}; received: column={column!r}"
        )

    def read_column(index: int) -> np.ndarray:
        if table is not None:
            return np.ascontiguousarray(table[:, index])
        out = np.empty(len(rows))
        for r, row in enumerate(rows):
            field = row[index].strip()
            if not field:
                out[r] = math.nan
                continue
            try:
                out[r] = float(field)
            except ValueError:
                line_no = skip + first + r + (2 if header is not None else 1)
                name = header[index] if header else str(index)
                raise FileFormatError(f"{p}: line {line_no}, column {name!r}: not a number: {field[:40]!r}") from None
        return out

    t0 = 0.0
    if time_index is not None:
        times = read_column(time_index)
        rate, t0 = _rate_from_times(p, times)
    data = np.column_stack([read_column(i) for i in indices])
    if data.shape[1] == 1:
        data = data[:, 0]
    names = tuple(header[i] if header and header[i] else f"col{i}" for i in indices)
    params = {
        "path": str(path),
        "sample_rate_hz": rate if time_index is None else 0.0,
        "column": ",".join(wanted),
        "time_column": time_spec[0] if time_spec else "",
        "delimiter": delim,
        "skip_rows": skip,
        "nonfinite": policy,
    }
    return _make_signal(p, data, rate, "csv", params, policy, t0_s=t0, channel_names=names)


def _fast_table(lines: list[str], first: int, delim: str) -> tuple[list[str] | None, np.ndarray] | None:
    """The header (if the first row is not all numbers) and every data row parsed by ``numpy.loadtxt``.

    ``None`` when the fast parser cannot take the file as it is — an empty field, a bad number, rows of
    different lengths, no data rows — so that :func:`load_csv` falls back to its per-line parser, whose
    messages name the line and column.
    """
    head = next(csv.reader([lines[first]], delimiter=delim), [])
    header = None if all(_is_number(f) or not f.strip() for f in head) else [f.strip() for f in head]
    body = lines[first + (1 if header is not None else 0):]
    if not any(line.strip() for line in body):
        return None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # "input contained no data" and the like: take the slow path
            table = np.loadtxt(body, delimiter=delim, dtype=np.float64, ndmin=2, comments=None, quotechar='"')
    except (ValueError, UserWarning, RuntimeWarning):
        return None
    if table.shape[0] == 0 or (header is not None and table.shape[1] != len(header)):
        return None
    return header, table


def _rate_from_times(p: Path, times: np.ndarray) -> tuple[float, float]:
    if times.size < 2:
        raise ValidationError(
            f"expected at least 2 rows to derive a sample rate from the time column of {p}; "
            f"received: {times.size} row(s)"
        )
    if not np.isfinite(times).all():
        bad = int(np.argwhere(~np.isfinite(times))[0][0])
        raise ValidationError(f"expected finite times in the time column of {p}; received: row {bad} is {times[bad]!r}")
    steps = np.diff(times)
    if not (steps > 0).all():
        bad = int(np.argwhere(steps <= 0)[0][0])
        raise ValidationError(
            f"expected strictly increasing times in {p}; received: row {bad + 1} time "
            f"{times[bad + 1]!r} after {times[bad]!r}"
        )
    dt = float((times[-1] - times[0]) / (times.size - 1))
    worst = int(np.argmax(np.abs(steps - dt)))
    if abs(steps[worst] - dt) > TIME_RTOL * dt:
        raise ValidationError(
            f"expected uniformly spaced times in {p} (within {TIME_RTOL:.1%}); "
            f"received: step {steps[worst]!r} s at row {worst + 1}, mean step {dt!r} s "
            "(resample the data first)"
        )
    return float(f"{1.0 / dt:.12g}"), float(times[0])  # times are printed decimals: drop float dust


# -- NumPy -----------------------------------------------------------------------------------------
def orient_samples_first(p: Path, shape: tuple[int, ...], channels_first: bool | None, what: str) -> bool:
    """Whether a 2-D array of ``shape`` must be transposed to ``(samples, channels)``.

    ``channels_first`` True/False decides; ``None`` (automatic) transposes a ``(rows, cols)`` array with
    ``rows < cols`` — ``(1, N)`` or ``(channels, N)`` — and warns, because a signal with more channels
    than samples is almost always a transposed one; ``channels_first=False`` keeps it as stored.
    """
    if len(shape) != 2:
        return False
    if channels_first is not None:
        return bool(channels_first)
    rows, cols = int(shape[0]), int(shape[1])
    if rows < cols:
        warnings.warn(f"{p}: {what} has shape ({rows}, {cols}); read as {cols} samples x {rows} channel(s) "
                      "(pass channels_first=false to keep it as stored)", UserWarning, stacklevel=2)
        return True
    return False


def _check_channels_first(channels_first: Any, *, auto: bool = False) -> None:
    if auto and channels_first is None:
        return
    if not isinstance(channels_first, (bool, np.bool_)):
        raise ValidationError(
            f"expected channels_first to be true or false; received: channels_first={channels_first!r}"
        )


def _check_npy_header(p: Path) -> None:
    """Refuse a file that does not start with the NumPy magic (an ``.npz`` archive, anything else)."""
    try:
        with open(p, "rb") as fh:
            magic = fh.read(6)
    except OSError as exc:
        raise FileFormatError(f"cannot read {p}: {exc.strerror or exc}") from None
    if magic[:4] == b"PK\x03\x04":
        raise FileFormatError(f"{p} is an .npz archive; extract one array to .npy (np.save) and import that")
    if magic != b"\x93NUMPY":  # without this check np.load would call anything else "pickled data"
        raise FileFormatError(f"not a readable .npy file: {p} (no NumPy header)")


def _npy_read_error(p: Path, exc: BaseException) -> FileFormatError:
    """The one-line error for an ``.npy`` file ``np.load`` refused (pickled objects named as such)."""
    msg = str(exc)
    if isinstance(exc, ValueError):
        if "pickle" in msg.lower() or "python objects" in msg.lower():  # the second: np.load(mmap_mode=…)
            return FileFormatError(f"{p}: holds Python objects (pickle), which sigbench never loads")
        return FileFormatError(f"not a readable .npy file: {p} ({msg.splitlines()[0] if msg else 'bad data'})")
    return FileFormatError(f"not a readable .npy file: {p} ({msg.splitlines()[0] if msg else type(exc).__name__})")


def load_npy(
    path: str, *, sample_rate_hz: float = 0.0, channels_first: bool = False, nonfinite: str = "error"
) -> Signal:
    """Import a NumPy ``.npy`` array, never unpickling anything (``allow_pickle=False``).

    Parameters
    ----------
    path : str
        The ``.npy`` file (``.npz`` archives are refused).
    sample_rate_hz : float, default 0 (required)
        Sampling rate in Hz (> 0): a ``.npy`` file does not record it.
    channels_first : bool, default False
        The array is stored ``(channels, samples)``; transpose it.
    nonfinite : {"error", "interpolate"}, default "error"
        What to do with NaN/inf samples.

    Returns
    -------
    Signal
        ``data`` of shape ``(samples,)`` or ``(samples, channels)``.

    Raises
    ------
    FileFormatError
        Missing, unreadable, truncated or not a ``.npy`` file, an ``.npz`` archive, an object (pickled)
        array, a non-numeric dtype, not 1-D/2-D, or empty.
    ValidationError
        No or invalid ``sample_rate_hz``; NaN/inf samples under ``nonfinite="error"``.

    Examples
    --------
    >>> import numpy as np, sigbench as sb, tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "x.npy")
    >>> np.save(path, np.zeros((100, 2), dtype=np.float32))
    >>> sb.load_source("npy", path, sample_rate_hz=50.0).data.shape
    (100, 2)
    """
    p = _existing_file(path)
    rate = _rate_or_required(sample_rate_hz, p, "a .npy file")
    policy = _check_nonfinite(nonfinite)
    _check_channels_first(channels_first)
    _check_npy_header(p)
    try:
        loaded = np.load(p, allow_pickle=False, mmap_mode=None)
    except (ValueError, OSError, EOFError) as exc:
        raise _npy_read_error(p, exc) from None
    arr = _select_channels(p, _numeric(p, loaded, "an array"), bool(channels_first))
    params = {
        "path": str(path),
        "sample_rate_hz": rate,
        "channels_first": bool(channels_first),
        "nonfinite": policy,
    }
    return _make_signal(p, arr, rate, "npy", params, policy, npy_dtype=str(loaded.dtype))


# -- HDF5 from other tools -------------------------------------------------------------------------
def _walk_hard_links(f: Any, dataset: str, p: Path) -> Any:
    import h5py

    parts = [part for part in dataset.strip("/").split("/") if part]
    if not parts:
        raise ValidationError(
            f"expected dataset to name a dataset inside {p} (e.g. '/group/data'); received: dataset={dataset!r}"
        )
    node = f
    where = ""
    for part in parts:
        where += "/" + part
        if not isinstance(node, h5py.Group) or part not in node:
            raise ValidationError(
                f"expected dataset to name a dataset in {p} ({_list_datasets(f)}); "
                f"received: dataset={dataset!r} ({where} does not exist)"
            )
        link = node.get(part, getlink=True)
        if isinstance(link, h5py.ExternalLink):
            raise UnsafeFileError(f"{p}: {where} is an external link to {link.filename}:{link.path}; refused")
        if isinstance(link, h5py.SoftLink):
            raise UnsafeFileError(f"{p}: {where} is a soft link to {link.path}; refused")
        if not isinstance(link, h5py.HardLink):
            raise UnsafeFileError(f"{p}: {where} is a user-defined link; refused")
        node = node[part]
    if not isinstance(node, h5py.Dataset):
        raise ValidationError(
            f"expected dataset to name a dataset in {p}, not a group ({_list_datasets(f)}); "
            f"received: dataset={dataset!r}"
        )
    return node


def _list_datasets(f: Any, limit: int = 10) -> str:
    import h5py

    found: list[str] = []
    stack = [f]
    while stack and len(found) < limit:
        group = stack.pop()
        for key in group:
            link = group.get(key, getlink=True)
            if not isinstance(link, h5py.HardLink):
                continue
            obj = group[key]
            if isinstance(obj, h5py.Dataset):
                found.append(obj.name)
            elif isinstance(obj, h5py.Group):
                stack.append(obj)
    if not found:
        return "it holds no datasets"
    more = ", …" if len(found) >= limit else ""
    return "datasets: " + ", ".join(sorted(found)) + more


def _rate_attr(ds: Any) -> float | None:
    for key in RATE_ATTRS:
        if key in ds.attrs:
            try:
                value = float(np.asarray(ds.attrs[key]).ravel()[0])
            except (TypeError, ValueError, IndexError):
                continue
            if math.isfinite(value) and value > 0:
                return value
    return None


def _open_hdf5_dataset(
    path: Any,
    dataset: Any,
    sample_rate_hz: Any,
    channels_first: Any,
    nonfinite: Any,
    *,
    budget_bytes: int | None,
) -> tuple[Path, Any, Any, float, str]:
    """Validate the options and open the dataset with every check of :func:`load_hdf5`, reading no data.

    ``budget_bytes=None`` skips only the memory-budget check (for a streamed read). Returns ``(path, file,
    dataset, sample_rate_hz, nonfinite)``; the caller closes the file.
    """
    from sigbench import h5 as _h5

    p = _existing_file(path)
    if not isinstance(dataset, str) or not dataset.strip("/ "):
        raise ValidationError(
            f"expected dataset, the path of a dataset inside {p} (e.g. '/group/data'); received: dataset={dataset!r}"
        )
    given_rate = (
        None
        if (isinstance(sample_rate_hz, (int, float)) and not isinstance(sample_rate_hz, bool) and sample_rate_hz == 0)
        else positive_float("sample_rate_hz", sample_rate_hz)
    )
    policy = _check_nonfinite(nonfinite)
    _check_channels_first(channels_first, auto=True)
    f = _h5.safe_open(p)
    try:
        ds = _walk_hard_links(f, dataset.strip(), p)
        try:
            _h5.check_dataset(ds, budget_bytes=budget_bytes)
        except (FileFormatError, UnsafeFileError) as exc:
            raise type(exc)(f"{p}: {exc}") from None
        rate = given_rate if given_rate is not None else _rate_attr(ds)
        if rate is None:
            raise ValidationError(
                f"expected sample_rate_hz > 0 (dataset {ds.name} of {p} has no sample-rate attribute among "
                f"{', '.join(RATE_ATTRS)}); received: sample_rate_hz={sample_rate_hz!r}"
            )
        if ds.dtype.kind not in "fiub":
            raise FileFormatError(f"{p}: dataset {ds.name} holds {ds.dtype}, not real numbers")
    except BaseException:
        f.close()
        raise
    return p, f, ds, rate, policy


def load_hdf5(
    path: str,
    *,
    dataset: str = "",
    sample_rate_hz: float = 0.0,
    channels_first: bool | None = None,
    nonfinite: str = "error",
) -> Signal:
    """Import one dataset of an HDF5 file written by another tool.

    The file is opened with :func:`sigbench.h5.safe_open`; every link on the way to the dataset must be a
    hard link (soft and external links are refused), and the dataset passes :func:`sigbench.h5.check_dataset`
    (no external storage, no virtual dataset, no shape bomb, installed filters, within the memory budget)
    before any byte of it is read. For sigbench's own files use :func:`sigbench.load_signal`.

    Parameters
    ----------
    path : str
        The HDF5 file.
    dataset : str
        Path of the dataset inside the file, e.g. ``"/recordings/ecg"`` (required).
    sample_rate_hz : float, default 0 (from the dataset's attributes)
        Sampling rate in Hz (> 0). If 0, the first positive attribute among ``sample_rate_hz``,
        ``sample_rate``, ``sampling_rate``, ``sampling_rate_hz`` and ``rate`` on the dataset is used.
    channels_first : bool or None, default None (automatic)
        ``True``: the dataset is stored ``(channels, samples)``, transpose it; ``False``: it is stored
        ``(samples, channels)``. ``None``: a 2-D dataset with fewer rows than columns — ``(1, N)`` or
        ``(channels, N)`` — is transposed with a warning (see :func:`orient_samples_first`), never read
        silently as N channels.
    nonfinite : {"error", "interpolate"}, default "error"
        What to do with NaN/inf samples.

    Returns
    -------
    Signal
        ``data`` of shape ``(samples,)`` or ``(samples, channels)``.

    Raises
    ------
    FileFormatError
        Missing, not HDF5, truncated, locked; a non-numeric, empty or not 1-D/2-D dataset; a missing filter.
    UnsafeFileError
        A soft or external link on the dataset path, external storage, a virtual dataset, a shape bomb.
    ValidationError
        No ``dataset``, a path that does not exist or names a group, no sample rate given or stored.

    Examples
    --------
    >>> import h5py, numpy as np, sigbench as sb, tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "other.h5")
    >>> with h5py.File(path, "w") as f:
    ...     f["rec/ecg"] = np.zeros(500)
    ...     f["rec/ecg"].attrs["sampling_rate"] = 250.0
    >>> sb.load_source("hdf5", path, dataset="/rec/ecg").sample_rate_hz
    250.0
    """
    from sigbench import h5 as _h5

    p, f, ds, rate, policy = _open_hdf5_dataset(
        path, dataset, sample_rate_hz, channels_first, nonfinite, budget_bytes=_h5.memory_budget_bytes()
    )
    try:
        try:
            raw = np.asarray(ds[()])
        except OSError as exc:
            raise FileFormatError(f"{p}: cannot read {ds.name}: {str(exc).splitlines()[0]}") from None
        name = ds.name
    finally:
        f.close()
    transpose = orient_samples_first(p, raw.shape, channels_first, f"dataset {name}")
    arr = _select_channels(p, _numeric(p, raw, f"dataset {name}"), transpose)
    params = {
        "path": str(path),
        "dataset": name,
        "sample_rate_hz": rate,
        "channels_first": transpose,
        "nonfinite": policy,
    }
    return _make_signal(p, arr, rate, "hdf5", params, policy, hdf5_dtype=str(raw.dtype))


@hookimpl
def register_sources(register: Callable[..., None]) -> None:
    """Register the file importers."""
    register(
        "wav",
        load_wav,
        kind="loader",
        description="WAV file (int16/int32/uint8 PCM scaled to [-1, 1), float), mono or multi-channel",
    )
    register(
        "csv",
        load_csv,
        kind="loader",
        description="CSV/TSV columns (by name or index); sample rate given or derived from a time column",
    )
    register("npy", load_npy, kind="loader", description="NumPy .npy array (never unpickled); sample rate given")
    register(
        "hdf5",
        load_hdf5,
        kind="loader",
        description="One dataset of a foreign HDF5 file (links, external storage, bombs refused)",
    )
    from sigbench.datasets.foreign import load_mat, load_sigmf  # imports this module: registered from here

    register("mat", load_mat, kind="loader",
             description="One variable of a MATLAB .mat file (v7.3 HDF5 or v5); sample rate from fs/Fs or given")
    register("sigmf", load_sigmf, kind="loader",
             description="SigMF recording (.sigmf-meta + .sigmf-data): real or complex (I/Q channels)")
