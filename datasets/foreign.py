"""Importers for formats other tools write: MATLAB ``.mat`` and SigMF recordings.

MATLAB
------
A v7.3 ``.mat`` file is HDF5 (after a 512-byte header). Each variable is a dataset at the root whose
``MATLAB_class`` attribute names its class (``double``, ``single``, ``int16``, …); MATLAB writes arrays
column-major, so a variable of MATLAB size ``(rows, cols)`` is stored with HDF5 shape ``(cols, rows)``:
a column vector ``x(:)`` of N samples is stored ``(1, N)``. sigbench undoes the transpose, reads a
row or column vector as ``(samples,)`` and a matrix as ``(samples, channels)`` — MATLAB's own
convention of one channel per column; a matrix with fewer rows than columns is taken as channels in
rows, with a warning. Older files (v5/v7, not HDF5) are read with :func:`scipy.io.loadmat`. The sample
rate comes from ``sample_rate_hz=…`` or, if not given, from a scalar variable named ``fs``, ``Fs``,
``FS``, ``srate``, ``sample_rate`` or ``sampling_rate``. Complex variables become two channels per
channel (real, imaginary). The file is opened with :func:`sigbench.h5.safe_open` and the variable
passes :func:`sigbench.h5.check_dataset` before any byte is read; links are never followed.

SigMF
-----
A recording is a pair ``name.sigmf-meta`` (JSON) + ``name.sigmf-data`` (raw samples); either may be
given. ``global.core:datatype`` gives the sample type — ``[c|r][f32|f64|i32|i16|i8|u32|u16|u8][_le|_be]``
— ``global.core:sample_rate`` the rate and ``global.core:num_channels`` the interleaved channels.
Complex samples become two channels (``I``, ``Q``) per channel. Integer samples are kept as their
integer values (SigMF defines no scaling). The data start at the first capture's
``core:sample_start`` (``t0_s`` = that sample / rate); its ``core:datetime`` and ``core:frequency`` are
kept in the metadata.

>>> import json, os, tempfile, numpy as np, sigbench as sb
>>> d = tempfile.mkdtemp()
>>> iq = (np.arange(8) + 1j * np.arange(8)).astype(np.complex64)
>>> iq.tofile(os.path.join(d, "rec.sigmf-data"))
>>> meta = {"global": {"core:datatype": "cf32_le", "core:sample_rate": 1e6, "core:version": "1.0.0"},
...         "captures": [{"core:sample_start": 0}], "annotations": []}
>>> _ = open(os.path.join(d, "rec.sigmf-meta"), "w").write(json.dumps(meta))
>>> sig = sb.load_source("sigmf", os.path.join(d, "rec.sigmf-meta"))
>>> sig.data.shape, sig.channel_names, sig.sample_rate_hz
((8, 2), ('I', 'Q'), 1000000.0)
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

import numpy as np

from sigbench._validate import positive_float
from sigbench.datasets import importers as _imp
from sigbench.errors import FileFormatError, UnsafeFileError, ValidationError
from sigbench.signal import Signal

__all__ = ["MAT_RATE_NAMES", "SIGMF_DATATYPE", "load_mat", "load_sigmf"]

#: scalar variables read as the sample rate of a ``.mat`` file (first found), when none is given
MAT_RATE_NAMES = ("fs", "Fs", "FS", "srate", "sample_rate", "sampling_rate", "sample_rate_hz")
#: MATLAB classes imported as numbers
_MAT_NUMERIC = {"double", "single", "int8", "uint8", "int16", "uint16", "int32", "uint32", "int64", "uint64",
                "logical"}
#: the SigMF ``core:datatype`` grammar
SIGMF_DATATYPE = re.compile(r"^(?P<kind>[cr])(?P<type>f64|f32|i32|i16|i8|u32|u16|u8)(?P<endian>_le|_be)?$")
_MAX_META_BYTES = 16 * 2**20


# -- MATLAB ----------------------------------------------------------------------------------------------
def _decode(value: Any) -> str:
    if isinstance(value, bytes):
        return value.decode("ascii", errors="replace")
    if isinstance(value, np.ndarray):
        return _decode(value.ravel()[0]) if value.size else ""
    return str(value)


def _mat73_variables(f: Any) -> dict[str, Any]:
    """Top-level datasets of a v7.3 file with a numeric ``MATLAB_class`` (hard links only, nothing empty)."""
    import h5py

    out: dict[str, Any] = {}
    for key in f:
        link = f.get(key, getlink=True)
        if not isinstance(link, h5py.HardLink) or key.startswith("#"):
            continue  # #refs#, #subsystem#: MATLAB's internal storage of cells and objects
        obj = f[key]
        if not isinstance(obj, h5py.Dataset):
            continue
        cls = _decode(obj.attrs.get("MATLAB_class", b""))
        if cls in _MAT_NUMERIC and not int(np.asarray(obj.attrs.get("MATLAB_empty", 0)).ravel()[0] or 0):
            out[key] = obj
    return out


def _complex_parts(arr: np.ndarray) -> np.ndarray | None:
    """A MATLAB complex array (compound ``real``/``imag``) as a complex array, else None."""
    names = arr.dtype.names or ()
    if set(names) == {"real", "imag"}:
        return np.asarray(arr["real"], dtype=np.float64) + 1j * np.asarray(arr["imag"], dtype=np.float64)
    return None


def _split_complex(data: np.ndarray, names: tuple[str, ...]) -> tuple[np.ndarray, tuple[str, ...]]:
    """Complex samples as real channels: each channel becomes (real, imaginary)."""
    if not np.iscomplexobj(data):
        return data, names
    cols = data.reshape(data.shape[0], -1)
    base = names or tuple(f"ch{i}" for i in range(cols.shape[1]))
    if cols.shape[1] == 1 and not names:
        out_names: tuple[str, ...] = ("I", "Q")
    else:
        out_names = tuple(n for b in base for n in (f"{b}_I", f"{b}_Q"))
    out = np.empty((cols.shape[0], 2 * cols.shape[1]))
    out[:, 0::2], out[:, 1::2] = cols.real, cols.imag
    return out, out_names


def _matlab_orientation(p: Path, arr: np.ndarray, variable: str, channels_first: bool | None) -> np.ndarray:
    """``arr`` in MATLAB's orientation (rows, cols) → ``(samples,)`` or ``(samples, channels)``."""
    if arr.ndim == 1:
        return arr
    if arr.ndim != 2:
        raise FileFormatError(f"{p}: variable {variable!r} has {arr.ndim} dimensions; expected a vector or a "
                              f"matrix (samples x channels); received: shape={arr.shape}")
    if 1 in arr.shape:  # a row or a column vector: one channel either way
        return arr.reshape(-1)
    return arr.T if _imp.orient_samples_first(p, arr.shape, channels_first, f"variable {variable!r}") else arr


def _scalar_rate(values: dict[str, Any]) -> tuple[float, str] | None:
    for name in MAT_RATE_NAMES:
        if name in values:
            try:
                arr = np.asarray(values[name], dtype=np.float64)
            except (TypeError, ValueError):
                continue
            if arr.size == 1 and math.isfinite(float(arr.ravel()[0])) and float(arr.ravel()[0]) > 0:
                return float(arr.ravel()[0]), name
    return None


def _pick_variable(p: Path, variable: str, candidates: dict[str, Any], sizes: dict[str, int]) -> str:
    if variable:
        if variable not in candidates:
            listed = ", ".join(sorted(candidates)) or "none"
            raise ValidationError(f"expected variable to name a numeric variable of {p} ({listed}); "
                                  f"received: variable={variable!r}")
        return variable
    signals = [k for k in candidates if sizes[k] > 1 and k not in MAT_RATE_NAMES]
    if len(signals) != 1:
        listed = ", ".join(sorted(signals)) or "none"
        raise ValidationError(f"expected variable=… naming the signal among the numeric variables of {p} "
                              f"({listed}); received: variable={variable!r}")
    return signals[0]


def load_mat(
    path: str,
    *,
    variable: str = "",
    sample_rate_hz: float = 0.0,
    channels_first: bool | None = None,
    nonfinite: str = "error",
) -> Signal:
    """Import one variable of a MATLAB ``.mat`` file (v7.3 HDF5, or v5/v7 through scipy).

    Parameters
    ----------
    path : str
        The ``.mat`` file.
    variable : str, default "" (the only non-scalar numeric variable)
        Name of the variable holding the signal.
    sample_rate_hz : float, default 0 (from a variable named in :data:`MAT_RATE_NAMES`)
        Sampling rate in Hz (> 0).
    channels_first : bool or None, default None (automatic)
        For a matrix: ``True`` reads MATLAB rows as channels, ``False`` MATLAB columns as channels
        (MATLAB's convention); ``None`` takes columns as channels unless there are fewer rows than
        columns (then rows, with a warning). Vectors are always one channel.
    nonfinite : {"error", "interpolate"}, default "error"
        What to do with NaN/inf samples.

    Returns
    -------
    Signal
        ``data`` of shape ``(samples,)`` or ``(samples, channels)`` (complex: real and imaginary channels).

    Raises
    ------
    FileFormatError
        Not a MAT file, a damaged one, a variable of more than 2 dimensions or of a non-numeric class.
    UnsafeFileError
        (v7.3) external storage, a virtual dataset or a shape bomb in the variable.
    ValidationError
        No or an unknown ``variable`` where several could be the signal; no sample rate given or stored.
    """
    import h5py

    from sigbench import h5 as _h5

    p = _imp._existing_file(path)
    policy = _imp._check_nonfinite(nonfinite)
    if channels_first is not None:
        _imp._check_channels_first(channels_first)
    given = None if (isinstance(sample_rate_hz, (int, float)) and not isinstance(sample_rate_hz, bool)
                     and sample_rate_hz == 0) else positive_float("sample_rate_hz", sample_rate_hz)
    if not isinstance(variable, str):
        raise ValidationError(f"expected variable to be a name; received: variable={variable!r}")
    if h5py.is_hdf5(str(p)):
        version = "7.3"
        f = _h5.safe_open(p)
        try:
            candidates = _mat73_variables(f)
            sizes = {k: int(np.prod(d.shape or (1,))) for k, d in candidates.items()}
            name = _pick_variable(p, variable, candidates, sizes)
            ds = candidates[name]
            try:
                _h5.check_dataset(ds, budget_bytes=_h5.memory_budget_bytes())
            except (FileFormatError, UnsafeFileError) as exc:
                raise type(exc)(f"{p}: {exc}") from None
            rate_vars = {k: candidates[k][()] for k in MAT_RATE_NAMES if k in candidates and sizes[k] == 1}
            raw = np.asarray(ds[()])
            mat_class = _decode(ds.attrs.get("MATLAB_class", b""))
        except OSError as exc:
            raise FileFormatError(f"{p}: cannot read the MAT file: {str(exc).splitlines()[0]}") from None
        finally:
            f.close()
        complex_arr = _complex_parts(raw)
        arr = complex_arr if complex_arr is not None else raw
        arr = arr.T  # HDF5 holds MATLAB's column-major array transposed
    else:
        version, name, arr, rate_vars, mat_class = _load_mat5(p, variable)
    if given is None:
        found = _scalar_rate(rate_vars)
        if found is None:
            raise ValidationError(f"expected sample_rate_hz > 0 ({p} has no scalar variable among "
                                  f"{', '.join(MAT_RATE_NAMES)}; on the command line --sample-rate …); "
                                  f"received: sample_rate_hz={sample_rate_hz!r}")
        rate, rate_from = found
    else:
        rate, rate_from = given, "sample_rate_hz"
    if not np.iscomplexobj(arr):
        arr = _imp._numeric(p, np.asarray(arr), f"variable {name!r}")
    arr = _matlab_orientation(p, arr, name, channels_first)
    if arr.shape[0] == 0:
        raise FileFormatError(f"{p}: variable {name!r} holds no samples")
    data, names = _split_complex(arr, ())
    params = {"path": str(path), "variable": name, "sample_rate_hz": rate, "channels_first": channels_first,
              "nonfinite": policy}
    return _imp._make_signal(p, data, rate, "mat", params, policy, channel_names=names, mat_version=version,
                             matlab_class=mat_class, sample_rate_from=rate_from)


def _load_mat5(p: Path, variable: str) -> tuple[str, str, np.ndarray, dict[str, Any], str]:
    """A v5/v7 file through scipy.io (no code runs: cells and structs are skipped, never evaluated)."""
    from scipy import io as sio

    from sigbench import h5 as _h5

    if p.stat().st_size > _h5.memory_budget_bytes():
        raise FileFormatError(f"{p}: {p.stat().st_size} bytes is over the memory budget for a v5 MAT file")
    try:
        info = sio.whosmat(str(p))
        numeric = {n: (shape, cls) for n, shape, cls in info
                   if cls in _MAT_NUMERIC or cls in ("double", "single") or cls.startswith(("int", "uint"))}
        sizes = {n: int(np.prod(shape)) for n, (shape, _c) in numeric.items()}
        name = _pick_variable(p, variable, dict.fromkeys(numeric), sizes)
        wanted = [name, *[k for k in MAT_RATE_NAMES if k in numeric and sizes[k] == 1]]
        values = sio.loadmat(str(p), variable_names=wanted, squeeze_me=False, mat_dtype=False)
    except (ValueError, TypeError, OSError, NotImplementedError) as exc:
        raise FileFormatError(f"not a readable MAT file: {p} ({str(exc).splitlines()[0] if str(exc) else exc})") \
            from None
    arr = np.asarray(values[name])
    rate_vars = {k: values[k] for k in wanted[1:] if k in values}
    return "5", name, arr, rate_vars, numeric[name][1]


# -- SigMF -----------------------------------------------------------------------------------------------
def _sigmf_pair(p: Path) -> tuple[Path, Path]:
    name = p.name
    for suffix in (".sigmf-meta", ".sigmf-data"):
        if name.endswith(suffix):
            stem = p.with_name(name[: -len(suffix)])
            return stem.with_name(stem.name + ".sigmf-meta"), stem.with_name(stem.name + ".sigmf-data")
    raise ValidationError(f"expected a .sigmf-meta or .sigmf-data file; received: {p}")


def _sigmf_dtype(p: Path, datatype: Any) -> tuple[np.dtype[Any], bool]:
    m = SIGMF_DATATYPE.match(datatype) if isinstance(datatype, str) else None
    if m is None:
        raise FileFormatError(f"{p}: unsupported core:datatype {datatype!r} (expected e.g. cf32_le, ri16_le, cu8)")
    base = m["type"]
    if base[1:] != "8" and m["endian"] is None:
        raise FileFormatError(f"{p}: core:datatype {datatype!r} needs an endianness (_le or _be)")
    order = ">" if m["endian"] == "_be" else "<"
    dtype = np.dtype(f"{order}{base[0]}{int(base[1:]) // 8}")
    return dtype, m["kind"] == "c"


def load_sigmf(path: str, *, nonfinite: str = "error") -> Signal:
    """Import a SigMF recording (``.sigmf-meta`` + ``.sigmf-data``; give either file).

    Parameters
    ----------
    path : str
        ``name.sigmf-meta`` or ``name.sigmf-data``; the other file must lie beside it.
    nonfinite : {"error", "interpolate"}, default "error"
        What to do with NaN/inf samples.

    Returns
    -------
    Signal
        ``data`` of shape ``(samples,)`` (one real channel) or ``(samples, channels)``; a complex
        channel becomes ``I`` and ``Q`` (``ch<k>_I``, ``ch<k>_Q`` for several). ``t0_s`` is the first
        capture's ``core:sample_start`` / rate.

    Raises
    ------
    FileFormatError
        A missing partner file, metadata that is not SigMF JSON, an unsupported datatype, a data file
        whose size is not a whole number of samples, more data than the memory budget.
    ValidationError
        A path that is not a SigMF file, a missing or non-positive ``core:sample_rate``.
    """
    from sigbench import h5 as _h5

    given = Path(path)
    meta_path, data_path = _sigmf_pair(given)
    meta_path, data_path = _imp._existing_file(meta_path), _imp._existing_file(data_path)
    policy = _imp._check_nonfinite(nonfinite)
    if meta_path.stat().st_size > _MAX_META_BYTES:
        raise FileFormatError(f"{meta_path}: metadata of {meta_path.stat().st_size} bytes; refused (limit 16 MiB)")
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        glob = meta["global"]
        captures = meta.get("captures") or [{}]
        first = captures[0] if isinstance(captures, list) and isinstance(captures[0], dict) else {}
    except (ValueError, UnicodeDecodeError, KeyError, TypeError, IndexError) as exc:
        raise FileFormatError(f"not SigMF metadata (JSON with a 'global' object): {meta_path} "
                              f"({type(exc).__name__})") from None
    if not isinstance(glob, dict):
        raise FileFormatError(f"not SigMF metadata ('global' is not an object): {meta_path}")
    dtype, is_complex = _sigmf_dtype(meta_path, glob.get("core:datatype"))
    rate_raw = glob.get("core:sample_rate")
    if rate_raw is None:
        raise ValidationError(f"expected global core:sample_rate > 0 in {meta_path}; received: none")
    rate = positive_float("core:sample_rate", rate_raw)
    channels = glob.get("core:num_channels", 1)
    if not isinstance(channels, int) or isinstance(channels, bool) or channels < 1:
        raise FileFormatError(f"{meta_path}: core:num_channels must be a positive integer; received: {channels!r}")
    start = first.get("core:sample_start", 0)
    if not isinstance(start, int) or isinstance(start, bool) or start < 0:
        raise FileFormatError(f"{meta_path}: captures[0] core:sample_start must be an integer >= 0; "
                              f"received: {start!r}")
    per_sample = dtype.itemsize * channels * (2 if is_complex else 1)
    size = data_path.stat().st_size
    if size % per_sample:
        raise FileFormatError(f"{data_path}: {size} bytes is not a whole number of {per_sample}-byte samples "
                              f"({glob.get('core:datatype')}, {channels} channel(s))")
    total = size // per_sample
    if start >= total:
        raise FileFormatError(f"{meta_path}: the first capture starts at sample {start} but the data hold {total}")
    n = total - start
    if n * per_sample // dtype.itemsize * 8 > _h5.memory_budget_bytes():
        raise FileFormatError(f"{data_path}: {n} samples are over the memory budget; raise SIGBENCH_MEMORY_BUDGET")
    raw = np.fromfile(data_path, dtype=dtype, count=n * per_sample // dtype.itemsize, offset=start * per_sample)
    values = raw.astype(np.float64)
    if is_complex:
        samples = values.reshape(n, channels, 2)
        data = samples[..., 0] + 1j * samples[..., 1]
    else:
        data = values.reshape(n, channels)
    names: tuple[str, ...] = ()
    if is_complex:
        data, names = _split_complex(data, ())
    elif channels == 1:
        data = data[:, 0]
    else:
        names = tuple(f"ch{i}" for i in range(channels))
    extra = {k: first[k] for k in ("core:datetime", "core:frequency") if k in first}
    params = {"path": str(path), "nonfinite": policy}
    return _imp._make_signal(given, data, rate, "sigmf", params, policy, t0_s=start / rate, channel_names=names,
                             sigmf_datatype=glob["core:datatype"], sigmf_capture=extra,
                             sigmf_description=str(glob.get("core:description", "")))
