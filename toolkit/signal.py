"""The :class:`Signal` model: a time-first float array with its sampling facts.

Vocabulary (used everywhere in sigbench):

``samples``
    the first axis of every array; a signal is ``(samples,)`` or ``(samples, channels)``.
``sample_rate_hz``
    samples per second (one name everywhere, never ``fs``).
``clean``
    the noiseless reference of the same shape, when a synthetic source knows it.
``aux``
    further aligned series of the same length (for example the known ``input`` of a system
    identification source).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from sigbench._validate import sample_rate as _check_rate
from sigbench.errors import ValidationError

__all__ = ["NONFINITE_POLICIES", "Signal"]

#: What to do with NaN/inf samples: refuse them (default), or replace them by linear interpolation.
NONFINITE_POLICIES = ("error", "interpolate")


def _as_float_array(name: str, value: Any, *, allow_2d: bool = True) -> np.ndarray:
    arr = np.asarray(value)
    if arr.dtype.kind not in "fiub":
        raise ValidationError(
            f"expected {name} to be a real numeric array; received: {name}.dtype={arr.dtype}"
        )
    if arr.dtype.kind != "f":
        arr = arr.astype(np.float64)
    if arr.ndim == 0 or arr.ndim > (2 if allow_2d else 1):
        raise ValidationError(
            f"expected {name} of shape (samples,) or (samples, channels); received: {name}.shape={arr.shape}"
        )
    if arr.shape[0] == 0:
        raise ValidationError(f"expected {name} to hold at least one sample; received: {name}.shape={arr.shape}")
    if arr.ndim == 2 and arr.shape[1] == 0:
        raise ValidationError(f"expected {name} to hold at least one channel; received: {name}.shape={arr.shape}")
    return arr


def _check_finite(name: str, arr: np.ndarray) -> None:
    bad = ~np.isfinite(arr)
    if bad.any():
        first = int(np.argwhere(bad)[0][0])
        raise ValidationError(
            f"expected finite samples in {name}; received: {int(bad.sum())} NaN/inf values, first at sample {first} "
            "(use nonfinite='interpolate' to repair them)"
        )


def _interpolate_nonfinite(arr: np.ndarray) -> np.ndarray:
    out = np.array(arr, dtype=np.float64, copy=True)
    cols = out.reshape(out.shape[0], -1)
    idx = np.arange(out.shape[0])
    for c in range(cols.shape[1]):
        col = cols[:, c]
        good = np.isfinite(col)
        if not good.any():
            raise ValidationError(f"expected at least one finite sample per channel; received: channel {c} all NaN/inf")
        if not good.all():
            col[~good] = np.interp(idx[~good], idx[good], col[good])
    return out


@dataclass(frozen=True, eq=False)
class Signal:
    """A sampled signal, time on the first axis.

    Parameters
    ----------
    data : ndarray, shape ``(samples,)`` or ``(samples, channels)``
        The observed samples (float; integers are converted to float64).
    sample_rate_hz : float
        Sampling rate in Hz; finite and > 0.
    t0_s : float, default 0.0
        Time of the first sample, in seconds.
    units : str, default ""
        Physical units of the samples (e.g. ``"V"``).
    channel_names : tuple of str, optional
        One name per channel; defaults to ``ch0``, ``ch1``, ….
    clean : ndarray, optional
        The noiseless reference, same shape as ``data``.
    aux : dict of str to ndarray, optional
        Further series aligned with ``data`` (same number of samples), e.g. ``{"input": x}``.
    metadata : dict, optional
        JSON-serialisable facts: source, parameters, seed, sigbench version.
    name : str, default "signal"
        The signal's name inside a file (``/signals/<name>``).
    nonfinite : {"error", "interpolate"}, default "error"
        Policy for NaN/inf samples: refuse them, or repair them by linear interpolation (recorded in
        ``metadata["repaired_nonfinite"]``).

    Raises
    ------
    ValidationError
        Non-numeric dtype, not 1-D/2-D, zero samples, ``clean``/``aux`` shape mismatch, invalid
        sample rate, NaN/inf samples under the ``"error"`` policy, or an empty/invalid name.

    Examples
    --------
    >>> import numpy as np
    >>> from sigbench import Signal
    >>> s = Signal(np.zeros(100), sample_rate_hz=10.0)
    >>> s.duration_s
    10.0
    """

    data: np.ndarray
    sample_rate_hz: float
    t0_s: float = 0.0
    units: str = ""
    channel_names: tuple[str, ...] = ()
    clean: np.ndarray | None = None
    aux: dict[str, np.ndarray] = field(default_factory=dict)
    metadata: dict[str, Any] = field(default_factory=dict)
    name: str = "signal"
    nonfinite: str = "error"

    def __post_init__(self) -> None:
        if self.nonfinite not in NONFINITE_POLICIES:
            raise ValidationError(
                f"expected nonfinite to be one of {', '.join(NONFINITE_POLICIES)}; "
                f"received: nonfinite={self.nonfinite!r}"
            )
        data = _as_float_array("data", self.data)
        metadata = dict(self.metadata)
        if not np.isfinite(data).all():
            if self.nonfinite == "interpolate":
                metadata["repaired_nonfinite"] = int((~np.isfinite(data)).sum())
                data = _interpolate_nonfinite(data)
            else:
                _check_finite("data", data)
        object.__setattr__(self, "data", data)
        object.__setattr__(self, "metadata", metadata)
        object.__setattr__(self, "sample_rate_hz", _check_rate(self.sample_rate_hz))
        t0 = float(self.t0_s)
        if not math.isfinite(t0):
            raise ValidationError(f"expected t0_s to be finite; received: t0_s={self.t0_s!r}")
        object.__setattr__(self, "t0_s", t0)
        if not isinstance(self.name, str) or not self.name or "/" in self.name or self.name in (".", ".."):
            raise ValidationError(f"expected a non-empty signal name without '/'; received: name={self.name!r}")
        if self.clean is not None:
            clean = _as_float_array("clean", self.clean)
            if clean.shape != data.shape:
                raise ValidationError(
                    f"expected clean to have the shape of data {data.shape}; received: clean.shape={clean.shape}"
                )
            _check_finite("clean", clean)
            object.__setattr__(self, "clean", clean)
        aux = {}
        for key, value in dict(self.aux).items():
            if not isinstance(key, str) or not key or "/" in key:
                raise ValidationError(f"expected aux names without '/'; received: aux key={key!r}")
            arr = _as_float_array(f"aux[{key}]", value)
            if arr.shape[0] != data.shape[0]:
                raise ValidationError(
                    f"expected aux[{key}] to have {data.shape[0]} samples; received: aux[{key}].shape={arr.shape}"
                )
            _check_finite(f"aux[{key}]", arr)
            aux[key] = arr
        object.__setattr__(self, "aux", aux)
        names = tuple(str(n) for n in self.channel_names) or tuple(f"ch{i}" for i in range(self.n_channels))
        if len(names) != self.n_channels:
            raise ValidationError(
                f"expected {self.n_channels} channel names; received: channel_names={self.channel_names!r}"
            )
        object.__setattr__(self, "channel_names", names)

    # -- facts -------------------------------------------------------------------------------
    @property
    def n_samples(self) -> int:
        """Number of samples (length of the first axis)."""
        return int(self.data.shape[0])

    @property
    def n_channels(self) -> int:
        """Number of channels (1 for a ``(samples,)`` signal)."""
        return 1 if self.data.ndim == 1 else int(self.data.shape[1])

    @property
    def duration_s(self) -> float:
        """Duration in seconds, ``samples / sample_rate_hz``."""
        return self.n_samples / self.sample_rate_hz

    @property
    def time_s(self) -> np.ndarray:
        """Sample times in seconds, shape ``(samples,)``."""
        return self.t0_s + np.arange(self.n_samples) / self.sample_rate_hz

    def rms(self) -> float:
        """Root-mean-square of ``data`` over all samples and channels."""
        return float(np.sqrt(np.mean(np.square(self.data, dtype=np.float64))))

    def snr_db(self) -> float | None:
        """Measured SNR in dB, clean power over noise (``data - clean``) power; ``None`` without ``clean``."""
        if self.clean is None:
            return None
        noise = float(np.mean(np.square(self.data - self.clean)))
        power = float(np.mean(np.square(self.clean)))
        if noise == 0.0:
            return math.inf
        if power == 0.0:
            return -math.inf
        return 10.0 * math.log10(power / noise)

    def channel(self, index: int | str = 0) -> Signal:
        """Return one channel as a 1-D signal (by index or name)."""
        if self.data.ndim == 1:
            if index in (0, self.channel_names[0]):
                return self
            raise ValidationError(f"expected channel 0 or {self.channel_names[0]!r}; received: channel={index!r}")
        if isinstance(index, str):
            if index not in self.channel_names:
                raise ValidationError(
                    f"expected a channel among {', '.join(self.channel_names)}; received: channel={index!r}"
                )
            index = self.channel_names.index(index)
        if not 0 <= int(index) < self.n_channels:
            raise ValidationError(f"expected channel in [0, {self.n_channels - 1}]; received: channel={index!r}")
        i = int(index)
        return replace(
            self,
            data=self.data[:, i],
            clean=None if self.clean is None else self.clean[:, i],
            channel_names=(self.channel_names[i],),
        )

    def with_(self, **changes: Any) -> Signal:
        """Return a copy with some fields changed (validated again)."""
        return replace(self, **changes)

    def __repr__(self) -> str:
        clean = ", clean" if self.clean is not None else ""
        aux = f", aux={sorted(self.aux)}" if self.aux else ""
        return (
            f"Signal(name={self.name!r}, shape={self.data.shape}, sample_rate_hz={self.sample_rate_hz:g}{clean}{aux})"
        )
