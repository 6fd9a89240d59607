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
``fit_blocks(blocks, rows=…)`` (a capability: :meth:`Processor.fits_blocks`)
    Fit on the training rows given as consecutive ``(inputs, targets)`` blocks, equal to ``fit`` on
    all of them (to rounding); what lets the engine train a processor on a file larger than memory.
    A processor declares it by overriding ``_fit_blocks``, or by being ``stateless`` (nothing learnt from
    the data: fitted on the first block only).

What the base class owns
------------------------
The attributes ``fitted``, ``fit_s``, ``input_window`` (samples per row seen at ``fit``), ``n_outputs``,
``sample_rate`` and ``context`` (the :class:`TaskContext` of the run, or ``None``), and the constructor
parameters recorded in ``get_params()``. It never assigns any other attribute, so a subclass's own
parameters (a ``window`` of a smoothing filter, say) are never overwritten.
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
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, ClassVar, TypeVar

import numpy as np

from sigbench._json import dumps, loads
from sigbench.errors import FileFormatError, ProcessorError, SigbenchError, ValidationError

__all__ = ["DESCRIBE_KEYS", "Processor", "TaskContext"]

P = TypeVar("P", bound="Processor")

#: keys every ``describe()`` result has
DESCRIBE_KEYS = ("name", "family", "params", "trainable_params", "macs_per_sample", "memory_bytes", "fit_s")


@dataclass(frozen=True)
class TaskContext:
    """What the engine tells a processor about the run it is fitted in (``fit(..., context=…)``).

    Processors read it instead of having values injected into their constructor by parameter name;
    outside a run (a processor fitted by hand) it is ``None`` and processors use their own defaults.

    Attributes
    ----------
    task : str
        Task name (``predict``, ``denoise``, …).
    window : int
        Samples per input row.
    horizon : int
        ``predict``: samples between the window's last sample and the target (1: the next sample).
    centered : bool
        ``denoise``: the target is the window's centre.
    hop : int
        Samples between consecutive rows.
    sample_rate_hz : float
        Sample rate of the signal.
    seed : int
        The run's seed of this cell (stochastic processors also receive it as their ``seed`` option).
    mode : {"offline", "prequential"}
        How the test rows are scored (prequential: online processors adapt while predicting).
    validation_fraction : float
        Fraction of the fit rows that the protocol's validation segment holds (its last rows); a
        processor that holds rows out for early stopping uses it unless told otherwise.
    fit_rows : int
        Number of fit rows (train + validation).
    target_type : {"real", "symbol", "class"}
        What the targets are (:attr:`sigbench.tasks.Task.target_type`): real values, symbols of an alphabet
        (the task decides soft outputs) or 0/1 class labels (the output is a score for class 1).
    alphabet : tuple of float
        ``symbol`` tasks: the symbol levels (ascending) the task decides on; empty otherwise.
    """

    task: str = ""
    window: int = 0
    horizon: int = 1
    centered: bool = False
    hop: int = 1
    sample_rate_hz: float = 1.0
    seed: int = 0
    mode: str = "offline"
    validation_fraction: float = 0.0
    fit_rows: int = 0
    target_type: str = "real"
    alphabet: tuple[float, ...] = ()


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
    stateless : bool
        ``fit`` learns nothing from the values (only shapes): fitting on the first block of rows equals
        fitting on all of them (``naive``), so it streams at no cost.
    """

    name: ClassVar[str] = ""
    family: ClassVar[str] = "dsp"
    online: ClassVar[bool] = False
    causal: ClassVar[bool] = True
    deterministic: ClassVar[bool] = True
    requires: ClassVar[tuple[str, ...]] = ()
    accepts_file_rows: ClassVar[bool] = False
    stateless: ClassVar[bool] = False

    def __init__(self, **params: Any) -> None:
        self._params: dict[str, Any] = dict(params)
        self.fitted: bool = False
        self.fit_s: float = 0.0
        self.input_window: int | None = None
        self.n_outputs: int | None = None
        self.sample_rate: float = 1.0
        self.context: TaskContext | None = None

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

    def __sklearn_clone__(self: P) -> P:
        """A new, unfitted processor with deep copies of this one's parameters (``sklearn.base.clone``).

        scikit-learn ≥ 1.3 calls this instead of its generic clone, whose check that the constructor
        stores each argument unchanged (``is``) would refuse processors that normalise a list
        parameter (``taps=(…)`` kept as a tuple, ``units`` as a list).
        """
        import copy

        return type(self)(**copy.deepcopy(self.get_params(deep=False)))

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

    # -- the task ----------------------------------------------------------------------------
    def check_task(self, *, window: int, horizon: int = 1, n_outputs: int = 1, seed: int | None = None,
                   seeds: int = 1) -> None:
        """Refuse, before any fit, a task this processor cannot run with its parameters.

        The engine calls it for every method before the first cell runs, so a usage error (``numtaps``
        longer than the window, a network too large for memory, a seed its backend cannot take) is one
        line and exit 2 instead of a failed row after minutes of work. The default accepts everything;
        subclasses check what their parameters imply.

        Parameters
        ----------
        window : int
            Samples per input row.
        horizon : int, default 1
            Samples between the window's end and the target (``predict``).
        n_outputs : int, default 1
            Targets per row (``spectrum``: the DFT bins).
        seed : int, optional
            First seed of the run (default: the processor's own).
        seeds : int, default 1
            Seeds run (``seed`` … ``seed + seeds - 1``).

        Raises
        ------
        ValidationError
            The reason, with the values received.
        """

    # -- fit / predict -----------------------------------------------------------------------
    def fit(self: P, data: Any, targets: Any = None, *, sample_rate: float | None = None,
            context: TaskContext | None = None) -> P:
        """Fit on training rows.

        Parameters
        ----------
        data : Windows or ndarray, shape ``(rows, window)``
            Training inputs, or a :class:`~sigbench.Windows` holding inputs and targets.
        targets : ndarray, shape ``(rows,)`` or ``(rows, outputs)``, optional
            Required when ``data`` is an array.
        sample_rate : float, optional
            Sample rate of the underlying signal in Hz (for processors designed in Hz).
        context : TaskContext, optional
            The run's context (the engine passes it; ``None`` when fitted by hand).

        Returns
        -------
        self

        Raises
        ------
        ValidationError
            Shapes disagree, no rows, or non-finite values.
        """
        inputs, raw = _split_data(data, targets, self.accepts_file_rows)
        y = self._begin_fit(inputs, raw, sample_rate, context)
        start = time.perf_counter()
        self._fit(inputs, y)
        self.fit_s = time.perf_counter() - start
        self.fitted = True
        return self

    def _begin_fit(self, inputs: Any, y: Any, sample_rate: float | None, context: TaskContext | None) -> Any:
        """Check the first (or only) training rows and set the bookkeeping the base class owns; returns the
        targets."""
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
        self.context = context
        self.input_window = int(inputs.shape[1])
        self.n_outputs = 1 if y.ndim == 1 else int(y.shape[1])
        self._target_ndim = y.ndim
        return y

    @classmethod
    def fits_blocks(cls) -> bool:
        """Whether :meth:`fit_blocks` is available: the class overrides ``_fit_blocks`` or is ``stateless``."""
        return cls.stateless or cls._fit_blocks is not Processor._fit_blocks

    def fit_blocks(self: P, blocks: Iterable[tuple[Any, Any]], *, rows: int | None = None,
                   sample_rate: float | None = None, context: TaskContext | None = None) -> P:
        """Fit on consecutive blocks of training rows: equal to :meth:`fit` on all of them (to rounding).

        Parameters
        ----------
        blocks : iterable of (inputs, targets)
            Consecutive blocks of rows, oldest first: inputs ``(block_rows, window)``, targets
            ``(block_rows,)`` or ``(block_rows, outputs)``. Consumed once.
        rows : int, optional
            Total rows over all blocks, when known in advance (adaptive filters use it to place their
            learning-curve blocks as ``fit`` does).
        sample_rate, context
            As in :meth:`fit`.

        Returns
        -------
        self

        Raises
        ------
        ProcessorError
            The processor does not declare the capability (:meth:`fits_blocks` is false).
        ValidationError
            As :meth:`fit`, for any block.
        """
        if not self.fits_blocks():
            raise ProcessorError(f"{self.name or type(self).__name__} cannot fit block by block (no _fit_blocks)")
        it = iter(blocks)
        try:
            first = next(it)
        except StopIteration:
            raise ValidationError("expected at least one block of training rows; received: none") from None
        inputs, raw = _split_data(first[0], first[1])
        y = self._begin_fit(inputs, raw, sample_rate, context)
        start = time.perf_counter()
        if self.stateless and type(self)._fit_blocks is Processor._fit_blocks:
            self._fit(inputs, y)
        else:
            self._fit_blocks(self._checked_blocks((inputs, y), it), rows)
        self.fit_s = time.perf_counter() - start
        self.fitted = True
        return self

    def _checked_blocks(self, first: tuple[np.ndarray, np.ndarray],
                        rest: Iterator[tuple[Any, Any]]) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """The blocks, each checked as :meth:`fit` checks its rows (the first was checked already)."""
        yield first
        for block in rest:
            inputs, y = _split_data(block[0], block[1])
            if y is None:
                raise ValidationError("expected targets for fit; received: targets=None")
            self._check_inputs(inputs)
            if y.shape[0] != inputs.shape[0] or y.ndim != self._target_ndim:
                raise ValidationError(f"expected targets with {inputs.shape[0]} rows and {self._target_ndim} "
                                      f"dimension(s), as the first block; received: targets.shape={y.shape}")
            if not _finite(y):
                raise ValidationError("expected finite targets; received: NaN/inf in targets")
            yield inputs, y

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
        if not fitting and self.input_window is not None and inputs.shape[1] != self.input_window:
            raise ValidationError(
                f"expected windows of {self.input_window} samples (as in fit); received: inputs.shape={inputs.shape}"
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

    def _fit_blocks(self, blocks: Iterator[tuple[np.ndarray, np.ndarray]], rows: int | None) -> None:
        """Fit from consecutive checked blocks (override to declare the capability)."""
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

    # -- deployment ---------------------------------------------------------------------------
    def export(self, path: str | os.PathLike[str], format: str = "litert", *, quantize: str | None = None,
               representative: Any = None) -> Path:
        """Write the fitted processor as a deployable model file; returns the path.

        Parameters
        ----------
        path : str or os.PathLike
            Output file (``.tflite`` for LiteRT, ``.onnx`` for ONNX by convention), written atomically.
        format : {"litert", "onnx"}, default "litert"
            LiteRT flatbuffer (batch of one row: the streaming shape) or ONNX (free batch).
        quantize : {"int8"} or None
            LiteRT only: full-integer post-training quantisation calibrated on ``representative``.
        representative : ndarray, shape ``(rows, window)``, optional
            Raw training rows for the int8 calibration (never test rows).

        Raises
        ------
        ProcessorError
            This processor has no exportable model (the base class: every processor but the neural
            ones, which deploy as their coefficients, see :mod:`sigbench.deploy`), or an exporter is
            missing (``pip install 'sigbench[export]'``).

        See Also
        --------
        sigbench.deploy.check_export : runs an exported file against the processor on rows.
        """
        raise ProcessorError(
            f"{self.name or type(self).__name__} has no exportable model: export covers the neural processors "
            f"(LiteRT/ONNX); a DSP processor deploys as its coefficients (see sigbench.deploy)"
        )

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
            "window": self.input_window,
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
            "window": self.input_window,
            "n_outputs": self.n_outputs,
            "target_ndim": getattr(self, "_target_ndim", 1),
            "sample_rate": self.sample_rate,
            "fit_s": self.fit_s,
            "context": None if self.context is None else asdict(self.context),
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
            obj.input_window = record["window"]
            obj.n_outputs = record["n_outputs"]
            obj._target_ndim = int(record.get("target_ndim", 1))
            obj.sample_rate = float(record.get("sample_rate", 1.0))
            obj.fit_s = float(record.get("fit_s", 0.0))
            context = record.get("context")
            obj.context = None if context is None else TaskContext(**context)
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

