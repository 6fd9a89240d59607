"""The processor base class shared by neural and DSP methods.

A processor maps input windows ``(rows, window)`` to one output per row, ``(rows,)`` or
``(rows, outputs)``. The base class owns validation, timing and persistence bookkeeping; a concrete
processor overrides ``_fit`` and ``_predict`` (and, when ``online``, ``_predict_online``), declares its
state with ``get_state``/``set_state`` and its cost with ``_cost``.

Contract
--------
``fit(train)`` or ``fit(inputs, targets)``
    Fit on the training rows; returns ``self``.
``predict(inputs)``
    Frozen (offline) prediction of every row.
``predict_online(inputs, targets)``
    Online processors only: predict row *i*, then adapt on ``targets[i]`` (prequential protocol).
    Calling it on consecutive chunks gives exactly the one-pass result (the state carries over).
``save(directory)`` / ``Processor.load(directory)``
    ``processor.json`` (name, params, sigbench version) plus ``state.npz`` (arrays only, loaded with
    ``allow_pickle=False``); subclasses may add files (the neural base adds ``.weights.h5``).
``describe()``
    A dict with at least ``name``, ``family``, ``params``, ``trainable_params``, ``macs_per_sample``,
    ``memory_bytes`` and ``fit_s``.
"""

from __future__ import annotations

import inspect
import json
import math
import os
import time
from pathlib import Path
from typing import Any, ClassVar, TypeVar

import numpy as np

from sigbench._json import dumps, loads
from sigbench.errors import FileFormatError, ProcessorError, SigbenchError, ValidationError

__all__ = ["DESCRIBE_KEYS", "Processor"]

P = TypeVar("P", bound="Processor")

#: keys every ``describe()`` result has
DESCRIBE_KEYS = ("name", "family", "params", "trainable_params", "macs_per_sample", "memory_bytes", "fit_s")


def _as_rows(x: Any, lazy_ok: bool) -> Any:
    """``x`` as an array; rows read on demand (:class:`~sigbench.FileWindows`) stay lazy when ``lazy_ok``."""
    if lazy_ok and hasattr(x, "all_finite") and hasattr(x, "shape"):
        return x
    return np.asarray(x)


def _split_data(data: Any, targets: Any, lazy_ok: bool = False) -> tuple[np.ndarray, np.ndarray | None]:
    if targets is None and hasattr(data, "inputs") and hasattr(data, "targets"):
        return _as_rows(data.inputs, lazy_ok), _as_rows(data.targets, lazy_ok)
    if hasattr(data, "inputs"):
        data = data.inputs
    return _as_rows(data, lazy_ok), None if targets is None else _as_rows(targets, lazy_ok)


def _finite(values: Any) -> bool:
    """Whether every value is finite (rows read on demand check themselves in one streamed pass)."""
    if hasattr(values, "all_finite"):
        return bool(values.all_finite())
    return bool(np.isfinite(values).all())


class Processor:
    """Base class of every sigbench processor (neural or DSP).

    Class attributes (the registry's tags)
    --------------------------------------
    name : str
        Registry name, unique, lowercase with hyphens (``"lms"``, ``"cnn-lstm"``).
    family : {"neural", "dsp"}
    online : bool
        Supports ``predict_online`` (adapts while predicting).
    causal : bool
        Uses only samples inside the window (all built-ins are causal with respect to the window).
    deterministic : bool
        Same data → same result without a seed. ``False`` means the constructor takes ``seed``.
    requires : tuple of str
        Extra Python packages it imports (``("keras",)`` for neural processors).
    accepts_file_rows : bool
        ``fit``/``predict`` take rows read on demand from a file (:class:`~sigbench.FileWindows`) without
        loading them (the neural processors, which read mini-batches); other processors get the rows
        loaded into an array.
    """

    name: ClassVar[str] = ""
    family: ClassVar[str] = "dsp"
    online: ClassVar[bool] = False
    causal: ClassVar[bool] = True
    deterministic: ClassVar[bool] = True
    requires: ClassVar[tuple[str, ...]] = ()
    accepts_file_rows: ClassVar[bool] = False

    def __init__(self, **params: Any) -> None:
        self._params: dict[str, Any] = dict(params)
        self.fitted: bool = False
        self.fit_s: float = 0.0
        self.window: int | None = None
        self.n_outputs: int | None = None
        self.sample_rate: float = 1.0

    # -- parameters (scikit-learn's estimator contract) ------------------------------------
    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """The constructor arguments, as given (used by ``save``, ``describe`` and ``sklearn.base.clone``).

        Parameters
        ----------
        deep : bool, default True
            Also list the parameters of parameters that are estimators themselves (anything with a
            ``get_params``), as ``name__key`` (scikit-learn's convention). The built-in processors
            take plain values only, so ``deep`` changes nothing for them.

        Returns
        -------
        dict
            ``{name: value}``; the values are the very objects passed to the constructor, so
            ``type(p)(**p.get_params(deep=False))`` rebuilds an equal, unfitted processor.
        """
        params = dict(self._params)
        if deep:
            for key, value in list(params.items()):
                if hasattr(value, "get_params") and not isinstance(value, type):
                    params.update({f"{key}__{k}": v for k, v in value.get_params(deep=True).items()})
        return params

    def set_params(self: P, **params: Any) -> P:
        """Change constructor arguments; the processor is rebuilt (validated, unfitted) with the new values.

        Parameters
        ----------
        **params
            ``name=value`` for constructor parameters; ``name__key=value`` for a parameter of a
            parameter that is an estimator (scikit-learn's convention).

        Returns
        -------
        self

        Raises
        ------
        ValidationError
            An unknown parameter name (``expected one of …``), or a value the constructor rejects.
        """
        if not params:
            return self
        own: dict[str, Any] = {}
        nested: dict[str, dict[str, Any]] = {}
        for key, value in params.items():
            name, sep, sub = key.partition("__")
            if sep:
                nested.setdefault(name, {})[sub] = value
            else:
                own[name] = value
        allowed = self.param_names()
        takes_any = any(v.kind is v.VAR_KEYWORD for v in inspect.signature(type(self).__init__).parameters.values())
        for name in (*own, *nested):
            if name not in allowed and not takes_any:
                raise ValidationError(f"expected a parameter of {type(self).__name__} among {', '.join(allowed)}; "
                                      f"received: {name}")
        merged = dict(self._params)
        for name, inner in nested.items():
            target: Any = own.get(name, merged.get(name))
            if not hasattr(target, "set_params"):
                raise ValidationError(f"expected {name} to be an estimator with parameters; "
                                      f"received: {name}={target!r}")
            own[name] = target.set_params(**inner)
        merged.update(own)
        type(self).__init__(self, **merged)  # the constructor validates the values and resets fitted state
        return self

    @classmethod
    def param_names(cls) -> list[str]:
        """Names of the constructor's keyword parameters."""
        sig = inspect.signature(cls.__init__)
        return [p for p, v in sig.parameters.items() if p != "self" and v.kind is not v.VAR_KEYWORD]

    # -- fit / predict -----------------------------------------------------------------------
    def fit(self: P, data: Any, targets: Any = None, *, sample_rate: float | None = None) -> P:
        """Fit on training rows.

        Parameters
        ----------
        data : Windows or ndarray, shape ``(rows, window)``
            Training inputs, or a :class:`~sigbench.Windows` holding inputs and targets.
        targets : ndarray, shape ``(rows,)`` or ``(rows, outputs)``, optional
            Required when ``data`` is an array.
        sample_rate : float, optional
            Sample rate of the underlying signal in Hz (for processors designed in Hz).

        Returns
        -------
        self

        Raises
        ------
        ValidationError
            Shapes disagree, no rows, or non-finite values.
        """
        inputs, y = _split_data(data, targets, self.accepts_file_rows)
        if y is None:
            raise ValidationError("expected targets for fit; received: targets=None")
        self._check_inputs(inputs, fitting=True)
        if y.ndim not in (1, 2) or y.shape[0] != inputs.shape[0]:
            raise ValidationError(f"expected targets with {inputs.shape[0]} rows; received: targets.shape={y.shape}")
        if not _finite(y):
            raise ValidationError("expected finite targets; received: NaN/inf in targets")
        if sample_rate is not None:
            from sigbench._validate import sample_rate as check_rate

            self.sample_rate = check_rate(sample_rate, "sample_rate")
        self.window = int(inputs.shape[1])
        self.n_outputs = 1 if y.ndim == 1 else int(y.shape[1])
        self._target_ndim = y.ndim
        start = time.perf_counter()
        self._fit(inputs, y)
        self.fit_s = time.perf_counter() - start
        self.fitted = True
        return self

    def predict(self, data: Any) -> np.ndarray:
        """Predict every row with the fitted (frozen) processor.

        Parameters
        ----------
        data : Windows or ndarray, shape ``(rows, window)``

        Returns
        -------
        ndarray, shape ``(rows,)`` or ``(rows, outputs)`` (the shape of the training targets)
        """
        inputs, _ = _split_data(data, None, self.accepts_file_rows)
        self._require_fitted("predict")
        self._check_inputs(inputs)
        return self._shape_output(self._predict(inputs), inputs.shape[0])

    def predict_online(self, data: Any, targets: Any = None) -> np.ndarray:
        """Predict each row, then adapt on its target (online processors only).

        Consecutive calls continue from the current state, so chunked calls equal one pass.
        """
        if not self.online:
            raise ProcessorError(f"{self.name} is not an online processor; use predict()")
        inputs, y = _split_data(data, targets)
        if y is None:
            raise ValidationError("expected targets for predict_online; received: targets=None")
        self._require_fitted("predict_online")
        self._check_inputs(inputs)
        if y.shape[0] != inputs.shape[0]:
            raise ValidationError(f"expected targets with {inputs.shape[0]} rows; received: targets.shape={y.shape}")
        if not np.isfinite(y).all():
            raise ValidationError("expected finite targets; received: NaN/inf in targets")
        return self._shape_output(self._predict_online(inputs, y), inputs.shape[0])

    def _check_inputs(self, inputs: np.ndarray, *, fitting: bool = False) -> None:
        if inputs.ndim != 2:
            raise ValidationError(f"expected inputs of shape (rows, window); received: inputs.shape={inputs.shape}")
        if inputs.shape[0] == 0:
            raise ValidationError(f"expected at least one input row; received: inputs.shape={inputs.shape}")
        if not fitting and self.window is not None and inputs.shape[1] != self.window:
            raise ValidationError(
                f"expected windows of {self.window} samples (as in fit); received: inputs.shape={inputs.shape}"
            )
        if not _all_finite(inputs):
            raise ValidationError("expected finite inputs; received: NaN/inf in inputs")

    def _require_fitted(self, what: str) -> None:
        if not self.fitted:
            raise ProcessorError(f"{self.name or type(self).__name__} must be fitted before {what}()")

    def _shape_output(self, out: np.ndarray, rows: int) -> np.ndarray:
        out = np.asarray(out, dtype=np.float64)
        if getattr(self, "_target_ndim", 1) == 1:
            out = out.reshape(rows)
        else:
            out = out.reshape(rows, -1)
        return out

    # -- to override -------------------------------------------------------------------------
    def _fit(self, inputs: np.ndarray, targets: np.ndarray) -> None:
        raise NotImplementedError

    def _predict(self, inputs: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _predict_online(self, inputs: np.ndarray, targets: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def get_state(self) -> dict[str, np.ndarray]:
        """Fitted state as named arrays (saved to ``state.npz``)."""
        return {}

    def set_state(self, state: dict[str, np.ndarray]) -> None:
        """Restore what :meth:`get_state` returned."""

    def trainable_params(self) -> int:
        """Number of fitted parameters (weights, taps)."""
        return int(sum(int(np.size(v)) for v in self.get_state().values()))

    def macs_per_sample(self) -> float:
        """Multiply-accumulates per output sample at prediction time."""
        return math.nan

    def memory_bytes(self) -> int:
        """Bytes of fitted state held in memory."""
        return int(sum(np.asarray(v).nbytes for v in self.get_state().values()))

    def extra_description(self) -> dict[str, Any]:
        """Processor-specific additions to :meth:`describe`."""
        return {}

    # -- description / persistence ----------------------------------------------------------
    def describe(self) -> dict[str, Any]:
        """Parameters and cost: see :data:`DESCRIBE_KEYS` for the keys always present."""
        info: dict[str, Any] = {
            "name": self.name,
            "family": self.family,
            "params": self.get_params(),
            "trainable_params": self.trainable_params() if self.fitted else 0,
            "macs_per_sample": self.macs_per_sample() if self.fitted else math.nan,
            "memory_bytes": self.memory_bytes() if self.fitted else 0,
            "fit_s": self.fit_s,
            "window": self.window,
            "online": self.online,
        }
        if self.fitted:
            info.update(self.extra_description())
        return info

    def save(self, directory: str | os.PathLike[str]) -> Path:
        """Write the fitted processor into ``directory`` (created if missing); returns the path."""
        from sigbench import __version__

        self._require_fitted("save")
        path = Path(directory)
        path.mkdir(parents=True, exist_ok=True)
        record = {
            "format": "sigbench-processor",
            "format_version": 1,
            "sigbench_version": __version__,
            "name": self.name,
            "params": self.get_params(),
            "window": self.window,
            "n_outputs": self.n_outputs,
            "target_ndim": getattr(self, "_target_ndim", 1),
            "sample_rate": self.sample_rate,
            "fit_s": self.fit_s,
        }
        (path / "processor.json").write_text(dumps(record, indent=2, lenient=False))
        np.savez(path / "state.npz", **self.get_state())  # type: ignore[arg-type]
        self._save_extra(path)
        return path

    def _save_extra(self, path: Path) -> None:
        """Hook for subclasses that store more than arrays."""

    def _load_extra(self, path: Path) -> None:
        """Hook for subclasses that store more than arrays."""

    @classmethod
    def load(cls: type[P], directory: str | os.PathLike[str]) -> P:
        """Rebuild a processor saved by :meth:`save` (code builds it; nothing is deserialised but arrays)."""
        path = Path(directory)
        try:
            record = loads((path / "processor.json").read_text())
        except FileNotFoundError:
            raise FileFormatError(f"not a saved sigbench processor (no processor.json): {path}") from None
        except json.JSONDecodeError as exc:
            raise FileFormatError(f"corrupt processor.json in {path}: {exc}") from None
        if record.get("format") != "sigbench-processor" or record.get("format_version") != 1:
            raise FileFormatError(f"unsupported processor record in {path}")
        if cls.name and record.get("name") != cls.name:
            raise FileFormatError(f"{path} holds processor {record.get('name')!r}, not {cls.name!r}")
        try:
            obj = cls(**record["params"])
            obj.window = record["window"]
            obj.n_outputs = record["n_outputs"]
            obj._target_ndim = int(record.get("target_ndim", 1))
            obj.sample_rate = float(record.get("sample_rate", 1.0))
            obj.fit_s = float(record.get("fit_s", 0.0))
            # arrays only: a pickled object in the archive is refused by np.load, never unpickled
            with np.load(path / "state.npz", allow_pickle=False) as npz:
                obj.set_state({k: npz[k] for k in npz.files})
        except SigbenchError as exc:
            raise FileFormatError(f"{path}: invalid saved processor: {exc}") from None
        except (TypeError, ValueError, KeyError, OSError) as exc:
            raise FileFormatError(f"{path}: damaged or tampered saved processor "
                                  f"({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''})") from None
        obj._load_extra(path)
        obj.fitted = True
        return obj

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({args})"


def _all_finite(inputs: np.ndarray, block: int = 65536) -> bool:
    """Finite check without a rows × window temporary.

    For a sliding-window view (strides ``(itemsize, itemsize)``) every sample sits in the first row or
    the last column, so only those are checked; other arrays are checked in blocks of rows.
    """
    if hasattr(inputs, "all_finite"):  # rows read on demand
        return bool(inputs.all_finite())
    item = inputs.itemsize
    if inputs.ndim == 2 and inputs.strides == (item, item):
        return bool(np.isfinite(inputs[0]).all() and np.isfinite(inputs[:, -1]).all())
    return all(bool(np.isfinite(inputs[i:i + block]).all()) for i in range(0, inputs.shape[0], block))

