r"""The shared base of the neural processors: training loop, streamed windows, persistence, cost.

:class:`NeuralProcessor` owns everything the four architectures have in common; a subclass only
validates its architecture parameters and builds its layers (:meth:`NeuralProcessor._body`).

Training
    Adam on the mean squared error of standardised targets, ``epochs`` passes over the training
    rows in a fresh seeded order each epoch, mini-batches of ``batch_size`` rows. The last
    ``validation_fraction`` of the rows (chronologically: the end of the training segment, never
    shuffled into training) is the validation set; with ``patience`` set, training stops after
    ``patience`` epochs without a better validation loss and the best epoch's weights are restored.

Windows without copies
    Inputs are usually a read-only strided view ``(rows, window)`` of the signal. Keras is fed
    through a ``keras.utils.PyDataset`` that copies **one batch** at a time (``batch_size × window``
    float32), for training, validation and prediction alike (:mod:`sigbench.plugins.neural._batches`);
    the ``rows × window`` array is never built. Peak memory grows with the number of rows only through
    the shuffled row order (8 bytes per row) and the predictions (4 bytes per output).

Rows read from a file
    ``fit`` and ``predict`` also take :class:`~sigbench.FileWindows` (rows read on demand from an HDF5
    signal): batches are read block by block, never the whole training segment. Rows are then shuffled
    by blocks (``shuffle_block``, default the rows' ``block_rows``): each epoch visits the blocks in a
    seeded random order and the rows of each block in a seeded random order. The same ``shuffle_block``
    on an in-memory array gives the same batches, hence the same model.

Reproducibility
    ``seed`` goes to ``keras.utils.set_random_seed`` before the model is built, the batch order comes
    from ``numpy.random.default_rng(seed)``, and TensorFlow's deterministic ops are enabled when the
    backend is TensorFlow. Same seed, same data → identical predictions. The caller's global
    ``random``/NumPy RNG states are restored after the fit.

Persistence
    ``save(dir)`` writes ``processor.json`` and ``state.npz`` (the base class: parameters and the
    standardisation statistics) plus ``model.weights.h5`` (Keras weights only) and
    ``architecture.json`` (sigbench's own record of the layers and of the training history).
    ``load`` rebuilds the model **in code** from the parameters, checks that it matches the record,
    checks the weights file for links, external storage, virtual datasets and oversized datasets,
    and loads the weights. No Keras configuration is ever deserialised.

Cost
    ``macs_per_sample()`` counts the multiply-accumulates of one prediction (one input row) from the
    layer shapes: Dense ``in × units``; Conv1D ``out_length × kernel_size × in_channels × filters``;
    LSTM, per time step, ``4 · units · (features + units)`` for the gates plus ``3 · units``
    element-wise products; SimpleRNN, per time step, ``units · (features + units)``; the
    standardisation adds ``window + outputs``. Activations, pooling
    comparisons and additions are not counted.
"""

from __future__ import annotations

import functools
import inspect
import json
import math
import os
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from sigbench._json import dumps
from sigbench._validate import in_range, one_of, positive_float, positive_int
from sigbench.console import engine_reports_fits, get_console, is_quiet, is_verbose, training_summary
from sigbench.errors import FileFormatError, UnsafeFileError, ValidationError
from sigbench.plugins.neural._backend import backend_name, device_name, import_keras, seeded
from sigbench.plugins.neural._batches import _column_moments, _sample_moments, window_batches
from sigbench.processor import Processor

__all__ = [
    "ACTIVATIONS",
    "ARCHITECTURE_FILE",
    "MAX_SEED",
    "TRAINING_BYTES_PER_PARAMETER",
    "WEIGHTS_FILE",
    "NeuralProcessor",
    "check_weights_file",
    "dense_parameters",
    "lstm_parameters",
    "max_network_bytes",
    "positive_int_tuple",
]

#: activations accepted by the ``activation`` parameters (Keras names)
ACTIVATIONS = ("sigmoid", "tanh", "relu", "linear", "elu", "gelu", "swish", "softplus")
#: file names written next to ``processor.json``
WEIGHTS_FILE = "model.weights.h5"
ARCHITECTURE_FILE = "architecture.json"
_RECORD_FORMAT = "sigbench-neural-architecture"
#: rows used to estimate the input standardisation (evenly spaced, so the estimate is deterministic)
_STATS_VALUES = 1 << 20
#: rows per prediction batch (prediction holds no gradients, so larger batches are cheap)
_PREDICT_BATCH = 4096


# -- validation helpers ----------------------------------------------------------------------------
def as_given(raw: Any, normalized: list[int]) -> list[int]:
    """The caller's list itself when it already equals ``normalized``, else ``normalized``.

    ``get_params`` must return the objects the constructor received (``sklearn.base.clone`` checks
    identity); a list passed in stays that list, anything else (a tuple, an int) is stored normalized.
    """
    return raw if isinstance(raw, list) and raw == normalized else list(normalized)


def positive_int_tuple(name: str, value: Any, *, allow_empty: bool = False) -> list[int]:
    """Return ``value`` (an int or a sequence of ints ≥ 1) as a list of ints.

    Raises
    ------
    ValidationError
        An entry is not an integer ≥ 1 (``"expected every entry of units to be an integer >= 1;
        received: units=(64, 0)"``), or the sequence is empty and ``allow_empty`` is false.
    """
    items: Sequence[Any]
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        items = [value]
    elif isinstance(value, (list, tuple)):
        items = value
    else:
        raise ValidationError(f"expected {name} to be a sequence of integers >= 1; received: {name}={value!r}")
    if not items and not allow_empty:
        raise ValidationError(f"expected at least one entry in {name}; received: {name}={value!r}")
    out: list[int] = []
    for item in items:
        ok = isinstance(item, (int, np.integer)) and not isinstance(item, bool) and int(item) >= 1
        if not ok:
            raise ValidationError(f"expected every entry of {name} to be an integer >= 1; received: {name}={value!r}")
        out.append(int(item))
    return out


#: largest seed Keras accepts (``keras.utils.set_random_seed`` takes a 32-bit unsigned integer)
MAX_SEED = 2**32 - 1
#: bytes one parameter costs while training: float32 weights, gradients and Adam's two moments
TRAINING_BYTES_PER_PARAMETER = 16


def _seed(seed: Any) -> int:
    value = positive_int("seed", seed, minimum=0)
    if value > MAX_SEED:
        raise ValidationError(f"expected a seed <= {MAX_SEED} (2**32 - 1, Keras's limit); received: seed={seed!r}")
    return value


def dense_parameters(params: int, features: int, units: Any) -> tuple[int, int]:
    """Add Dense layers of ``units`` to a body of ``params`` parameters outputting ``features``."""
    for width in units:
        params += features * width + width
        features = width
    return params, features


def lstm_parameters(features: int, units: Any) -> tuple[int, int]:
    """Parameters of stacked LSTM layers of ``units`` on ``features`` inputs per step (Keras's count:
    ``4 (u (f + u) + u)`` each), and the features of the last."""
    params = 0
    for width in units:
        params += 4 * (width * (features + width) + width)
        features = width
    return params, features


def max_network_bytes() -> int:
    """Training memory a network may claim: the memory budget (``SIGBENCH_MEMORY_BUDGET``, else half the
    available memory; see :func:`sigbench.memory_budget_bytes`)."""
    from sigbench.h5safe import memory_budget_bytes

    return memory_budget_bytes()


def _common_params(*, seed: Any, epochs: Any, batch_size: Any, learning_rate: Any, validation_fraction: Any,
                   patience: Any, standardize: Any, steps_per_execution: Any, window: Any = None,
                   shuffle_block: Any = None) -> dict[str, Any]:
    """Validate the training parameters every neural processor takes; returns them normalised."""
    if patience is not None:
        patience = positive_int("patience", patience, minimum=0)
    if not isinstance(standardize, (bool, np.bool_)):
        raise ValidationError(f"expected standardize to be True or False; received: standardize={standardize!r}")
    return {
        "window": None if window is None else positive_int("window", window),
        "seed": _seed(seed),
        "epochs": positive_int("epochs", epochs),
        "batch_size": positive_int("batch_size", batch_size),
        "learning_rate": positive_float("learning_rate", learning_rate),
        "validation_fraction": None if validation_fraction is None else in_range(
            "validation_fraction", validation_fraction, 0.0, 1.0, high_open=True),
        "patience": patience,
        "standardize": bool(standardize),
        "steps_per_execution": positive_int("steps_per_execution", steps_per_execution),
        "shuffle_block": None if shuffle_block is None else positive_int("shuffle_block", shuffle_block),
    }


def _activation(name: str, value: Any) -> str:
    return one_of(name, value, ACTIVATIONS)


# -- progress display -------------------------------------------------------------------------------
def _progress_callback(keras: Any, label: str, epochs: int) -> Any:
    """A Keras callback showing training progress (nothing when quiet; see :mod:`sigbench.console`).

    On a terminal: a transient rich bar with the losses. Elsewhere (logs, CI): one line per fit with the
    epochs run, the final losses and the time; one line per epoch only when verbose (``--verbose``).
    """
    console = get_console()

    class Progress(keras.callbacks.Callback):  # type: ignore[misc,name-defined]
        def __init__(self) -> None:
            super().__init__()
            self._progress: Any = None
            self._task: Any = None
            self._logs: dict[str, Any] = {}
            self._epochs_run = 0
            self._start = time.perf_counter()

        def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
            self._start = time.perf_counter()
            if console.is_terminal:
                from rich.progress import (
                    BarColumn,
                    MofNCompleteColumn,
                    Progress,
                    TextColumn,
                    TimeElapsedColumn,
                    TimeRemainingColumn,
                )

                self._progress = Progress(
                    TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TextColumn("{task.fields[losses]}"), TimeElapsedColumn(), TextColumn("ETA"),
                    TimeRemainingColumn(), console=console, transient=True,
                )
                self._progress.start()
                self._task = self._progress.add_task(f"{label} epochs", total=epochs, losses="")

        def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
            self._logs = dict(logs or {})
            self._epochs_run = epoch + 1
            losses = f"loss {self._logs.get('loss', math.nan):.4g}"
            if "val_loss" in self._logs:
                losses += f"  val loss {self._logs['val_loss']:.4g}"
            if self._progress is not None:
                self._progress.update(self._task, completed=epoch + 1, losses=losses)
            elif is_verbose():
                console.print(f"{label}: epoch {epoch + 1}/{epochs}  {losses}", markup=False, highlight=False)

        def on_train_end(self, logs: dict[str, Any] | None = None) -> None:
            if self._progress is not None:
                self._progress.stop()
                self._progress = None
                return
            if engine_reports_fits():  # the engine's own line for this fit carries the summary
                return
            summary = training_summary({
                "epochs_run": self._epochs_run, "epochs": epochs, "stopped_early": self._epochs_run < epochs,
                "final_loss": self._logs.get("loss"), "final_val_loss": self._logs.get("val_loss"),
                "train_s": time.perf_counter() - self._start})
            console.print(f"{label}: {summary}", markup=False, highlight=False)

    return Progress()


# -- the weights file check -----------------------------------------------------------------------
def check_weights_file(path: Path, *, max_bytes: int) -> int:
    """Refuse an HDF5 weights file holding anything but plain, modest, internal datasets.

    Returns
    -------
    int
        Values (elements) its datasets declare in total.

    Raises
    ------
    FileFormatError
        Not an HDF5 file.
    UnsafeFileError
        A soft or external link, a dataset with external raw storage, a virtual dataset, or datasets
        declaring more than ``max_bytes`` in total (a shape bomb).
    """
    import h5py

    try:
        handle = h5py.File(path, "r")
    except OSError as exc:
        raise FileFormatError(f"not a readable weights file: {path} ({exc})") from None
    declared = 0
    elements = 0
    with handle as f:
        stack: list[Any] = [f]
        while stack:
            group = stack.pop()
            for key in group:
                link = group.get(key, getlink=True)
                if isinstance(link, (h5py.SoftLink, h5py.ExternalLink)):
                    kind = type(link).__name__
                    raise UnsafeFileError(f"refusing weights file {path}: {group.name}/{key} is a {kind}")
                obj = group[key]
                if isinstance(obj, h5py.Group):
                    stack.append(obj)
                    continue
                if not isinstance(obj, h5py.Dataset):
                    raise UnsafeFileError(f"refusing weights file {path}: unexpected object at {obj.name}")
                if obj.is_virtual:
                    raise UnsafeFileError(f"refusing weights file {path}: {obj.name} is a virtual dataset")
                if obj.external:
                    raise UnsafeFileError(f"refusing weights file {path}: {obj.name} uses external storage")
                elements += int(np.prod(obj.shape, dtype=np.float64))
                declared += int(np.prod(obj.shape, dtype=np.float64)) * obj.dtype.itemsize
                if declared > max_bytes:
                    raise UnsafeFileError(
                        f"refusing weights file {path}: datasets declare more than {max_bytes} bytes "
                        f"(the model holds far less)"
                    )
    return elements


# -- the base class ---------------------------------------------------------------------------------
def _with_presets(init: Callable[..., None]) -> Callable[..., None]:
    """Wrap a constructor taking ``preset``: the preset's arguments fill in what the call does not give.

    Arguments given explicitly always win over the preset's, which win over the constructor's defaults; the
    resolved arguments (and ``preset``) are what the constructor records, so ``save``/``load`` rebuild the
    same network.
    """
    signature = inspect.signature(init)

    @functools.wraps(init)
    def wrapper(self: NeuralProcessor, *args: Any, **kwargs: Any) -> None:
        preset = kwargs.pop("preset", None)
        if preset is None:
            init(self, *args, **kwargs)
            return
        table = type(self).presets
        if preset not in table:
            raise ValidationError(f"expected preset one of {', '.join(sorted(table)) or '(none)'} for "
                                  f"{type(self).name}; received: preset={preset!r}")
        explicit = signature.bind_partial(self, *args, **kwargs).arguments
        explicit.pop("self", None)
        init(self, **{**table[preset], **explicit, "preset": preset})

    return wrapper


class NeuralProcessor(Processor):
    """Base of the Keras processors: training, streamed batches, persistence, cost.

    Subclasses validate their architecture parameters in ``__init__``, pass **all** constructor
    parameters to ``super().__init__`` and implement :meth:`_body` (and :meth:`_check_window` for
    constraints that depend on the window).

    Parameters
    ----------
    **params
        The subclass's validated constructor parameters, including the common training ones:
        ``seed`` (int ≥ 0), ``epochs`` (int ≥ 1), ``batch_size`` (rows, ≥ 1), ``learning_rate``
        (Adam step, > 0), ``validation_fraction`` (in ``[0, 1)``: the chronologically last fraction
        of the training rows), ``patience`` (epochs without improvement before stopping; None: never
        stop early), ``standardize`` (scale inputs and targets with training statistics) and
        ``steps_per_execution`` (batches per compiled call; a speed knob, results do not depend on it;
        1 under the torch backend, which allows no other value).

    Input shape
    -----------
    2-D array ``(rows, window)``: row *i* holds ``window`` consecutive samples, oldest first.

    Output shape
    ------------
    ``(rows,)`` when fitted on 1-D targets, ``(rows, outputs)`` when fitted on 2-D targets.
    """

    family: ClassVar[str] = "neural"
    deterministic: ClassVar[bool] = False
    accepts_file_rows: ClassVar[bool] = True
    requires: ClassVar[tuple[str, ...]] = ("keras",)
    #: named configurations, ``preset=NAME``: constructor arguments that explicit ones override
    presets: ClassVar[dict[str, dict[str, Any]]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        init = cls.__dict__.get("__init__")
        if init is not None and "preset" in inspect.signature(init).parameters:
            cls.__init__ = _with_presets(init)  # type: ignore[method-assign]

    def __init__(self, **params: Any) -> None:
        super().__init__(**params)
        self.seed: int = params["seed"]
        self.epochs: int = params["epochs"]
        self.batch_size: int = params["batch_size"]
        self.learning_rate: float = params["learning_rate"]
        #: None: the run's validation segment (``context.validation_fraction``), 0.2 outside a run
        self.validation_fraction: float | None = params["validation_fraction"]
        self.patience: int | None = params["patience"]
        self.standardize: bool = params["standardize"]
        self.steps_per_execution: int = params["steps_per_execution"]
        #: rows per shuffle block (None: one global permutation; rows read from a file: their block_rows)
        self.shuffle_block: int | None = params.get("shuffle_block")
        self.model: Any = None
        self._stats: dict[str, np.ndarray] = {}
        self._training: dict[str, Any] = {}
        #: the window declared at construction (optional): checked now and against the data at fit
        self.expected_window: int | None = params.get("window")
        if self.expected_window is not None:
            self._check_window(self.expected_window)

    @property
    def held_out_fraction(self) -> float:
        """The fraction of the fit rows held out for early stopping: the ``validation_fraction`` parameter, else
        the run's validation segment (``context.validation_fraction``), else 0.2 (fitted outside a run, or a
        split without a validation segment)."""
        if self.validation_fraction is not None:
            return self.validation_fraction
        if self.context is not None and self.context.validation_fraction > 0:
            return self.context.validation_fraction
        return 0.2  # no validation segment in the split (--train-samples): the last fifth of the fit rows
    # -- sizes and the task -----------------------------------------------------------------
    def parameter_count(self, window: int, n_outputs: int = 1) -> int:
        """Parameters of the model this processor builds for ``window`` samples and ``n_outputs`` outputs,
        computed from its parameters *without* building it (nothing is allocated).

        Returns
        -------
        int
            Equal to Keras's ``model.count_params()`` for the built-in architectures.
        """
        body, features = self._body_parameters(int(window))
        return int(body + features * n_outputs + n_outputs)

    def _body_parameters(self, window: int) -> tuple[int, int]:
        """(parameters of :meth:`_body`, features it outputs); subclasses override it."""
        raise NotImplementedError

    def check_size(self, window: int, n_outputs: int = 1) -> int:
        """Refuse a network whose training would not fit in memory, before anything is allocated.

        The estimate is ``parameter_count × TRAINING_BYTES_PER_PARAMETER`` (16 bytes: float32 weights,
        gradients and Adam's two moments; activations come on top), compared with :func:`max_network_bytes`.

        Returns
        -------
        int
            The parameter count.

        Raises
        ------
        ValidationError
            Over the limit; the message gives the parameters, the estimate and the limit.
        """
        try:
            params = self.parameter_count(window, n_outputs)
        except NotImplementedError:  # a third-party subclass without the count: no estimate
            return 0
        need = params * TRAINING_BYTES_PER_PARAMETER
        limit = max_network_bytes()
        if need > limit:
            raise ValidationError(
                f"expected a network that fits the memory budget ({limit / 2**30:.2f} GiB, SIGBENCH_MEMORY_BUDGET); "
                f"received: {self.name} with {params} parameters for window={window}, about {need / 2**30:.2f} GiB "
                f"to train ({TRAINING_BYTES_PER_PARAMETER} bytes per parameter)"
            )
        return params

    def check_task(self, *, window: int, horizon: int = 1, n_outputs: int = 1, seed: int | None = None,
                   seeds: int = 1) -> None:
        """Refuse, before any fit, a task this network cannot run: a window its architecture cannot take, a
        seed range past Keras's 32-bit limit, a network too large for memory (:meth:`check_size`).

        Raises
        ------
        ValidationError
            The reason, with the values received.
        """
        super().check_task(window=window, horizon=horizon, n_outputs=n_outputs, seed=seed, seeds=seeds)
        self._check_window(int(window))
        first = self.seed if seed is None else int(seed)
        if first + max(int(seeds), 1) - 1 > MAX_SEED:
            raise ValidationError(f"expected seeds <= {MAX_SEED} (2**32 - 1, Keras's limit) for {self.name}; "
                                  f"received: seed={first}, seeds={seeds}")
        self.check_size(int(window), int(n_outputs))

    # -- for subclasses ----------------------------------------------------------------------
    def _check_window(self, window: int) -> None:
        """Raise :class:`ValidationError` when the architecture cannot take ``window`` samples."""

    def _body(self, keras: Any, x: Any, window: int) -> Any:
        """Layers between the ``(batch, window)`` input tensor and the linear output layer."""
        raise NotImplementedError

    # -- model -------------------------------------------------------------------------------
    def _build_model(self, window: int, n_outputs: int) -> Any:
        keras = import_keras()
        inputs = keras.Input(shape=(window,), name="window")
        x = self._body(keras, inputs, window)
        outputs = keras.layers.Dense(n_outputs, name="output")(x)
        return keras.Model(inputs, outputs, name=self.name.replace("-", "_"))

    @property
    def classifies(self) -> bool:
        """The run's targets are 0/1 class labels (``context.target_type == "class"``): the output layer gives a
        logit (a score, larger meaning class 1) trained on binary cross-entropy, and targets are not
        standardised."""
        return self.context is not None and getattr(self.context, "target_type", "real") == "class"

    def _compile(self, model: Any) -> None:
        keras = import_keras()
        # Keras's torch trainer accepts only one step per call; the result does not depend on it
        steps = 1 if keras.backend.backend() == "torch" else self.steps_per_execution
        loss: Any = keras.losses.BinaryCrossentropy(from_logits=True) if self.classifies else "mse"
        model.compile(optimizer=keras.optimizers.Adam(learning_rate=self.learning_rate), loss=loss,
                      steps_per_execution=steps)

    def _architecture(self) -> list[dict[str, Any]]:
        """The model's layers as plain data: name, class, output shape, parameter count, key settings."""
        layers = []
        for layer in self.model.layers:
            entry: dict[str, Any] = {
                "name": layer.name,
                "class": type(layer).__name__,
                "output_shape": list(layer.output.shape[1:]),
                "params": int(layer.count_params()),
            }
            config = layer.get_config()
            for key in ("units", "filters", "kernel_size", "pool_size", "activation", "return_sequences",
                        "target_shape", "axis"):
                if key in config:
                    value = config[key]
                    entry[key] = list(value) if isinstance(value, tuple) else value
            layers.append(entry)
        return layers

    # -- statistics --------------------------------------------------------------------------
    def _compute_stats(self, inputs: Any, targets: Any, train_rows: int) -> dict[str, np.ndarray]:
        """Standardisation statistics of the first ``train_rows`` rows (the training rows: the held-out
        validation rows at the end never enter them). Class labels stay 0/1 (the cross-entropy needs them)."""
        outputs = 1 if targets.ndim == 1 else targets.shape[1]
        if not self.standardize:
            return {"x_shift": np.zeros(()), "x_scale": np.ones(()), "y_shift": np.zeros(outputs),
                    "y_scale": np.ones(outputs)}
        take = min(train_rows, max(1, _STATS_VALUES // inputs.shape[1]))
        idx = np.unique(np.linspace(0, train_rows - 1, take).astype(np.int64))
        x_mean, x_std = _sample_moments(inputs, idx)
        if self.classifies:
            y_shift, y_scale = np.zeros(outputs), np.ones(outputs)
        else:
            y_shift, y_scale = _column_moments(targets, outputs, rows=train_rows)
            y_scale[y_scale == 0] = 1.0
        return {"x_shift": np.asarray(x_mean), "x_scale": np.asarray(x_std or 1.0),
                "y_shift": y_shift, "y_scale": y_scale}

    # -- Processor overrides -----------------------------------------------------------------
    def _fit(self, inputs: Any, targets: Any) -> None:
        window = int(inputs.shape[1])
        if self.expected_window is not None and window != self.expected_window:
            raise ValidationError(f"expected windows of {self.expected_window} samples "
                                  f"(window={self.expected_window}); received: inputs.shape={inputs.shape}")
        self._check_window(window)
        rows = int(inputs.shape[0])
        fraction = self.held_out_fraction
        n_val = round(rows * fraction)
        if n_val and rows - n_val < 1:
            raise ValidationError(
                f"expected at least one training row after the validation split; received: rows={rows}, "
                f"validation_fraction={fraction}"
            )
        n_outputs = 1 if targets.ndim == 1 else int(targets.shape[1])
        self._stats = self._compute_stats(inputs, targets, rows - n_val)
        shuffle_block = self.shuffle_block
        if shuffle_block is None and hasattr(inputs, "block_rows"):  # rows read from a file: shuffle by blocks
            shuffle_block = int(inputs.block_rows)
        self.check_size(window, n_outputs)
        with seeded(self.seed) as keras:
            self.model = self._build_model(window, n_outputs)
            self._compile(self.model)
            train = window_batches(inputs, targets, self.batch_size, stop=rows - n_val, stats=self._stats,
                                   seed=self.seed, shuffle_block=shuffle_block)
            val = (window_batches(inputs, targets, max(self.batch_size, 256), start=rows - n_val, stats=self._stats)
                   if n_val else None)
            callbacks: list[Any] = []
            if self.patience is not None:
                callbacks.append(keras.callbacks.EarlyStopping(
                    monitor="val_loss" if n_val else "loss", patience=self.patience, restore_best_weights=True))
            if not is_quiet():
                callbacks.append(_progress_callback(keras, f"{self.name} seed {self.seed}", self.epochs))
            start = time.perf_counter()
            history = self.model.fit(train, validation_data=val, epochs=self.epochs, verbose=0,
                                     callbacks=callbacks, shuffle=False)
            train_s = time.perf_counter() - start
        losses = [float(v) for v in history.history.get("loss", [])]
        val_losses = [float(v) for v in history.history.get("val_loss", [])]
        monitored = val_losses or losses
        best = int(np.argmin(monitored)) if monitored else 0
        self._training = {
            "epochs_run": len(losses),
            "best_epoch": best + 1,
            "stopped_early": len(losses) < self.epochs,
            "final_loss": losses[-1] if losses else math.nan,
            "final_val_loss": val_losses[-1] if val_losses else None,
            "best_val_loss": val_losses[best] if val_losses else None,
            "loss_history": losses,
            "val_loss_history": val_losses,
            "loss_units": ("binary cross-entropy of the logit" if self.classifies
                           else "MSE of standardised targets" if self.standardize else "MSE"),
            "train_rows": rows - n_val,
            "validation_rows": n_val,
            "shuffle": "global" if shuffle_block is None else f"blocks of {shuffle_block} rows",
            "train_s": train_s,
            "max_batch_bytes": int(train.max_batch_bytes),
            "backend": backend_name(),
            "device": device_name(),
            "keras_version": str(keras.__version__),
        }

    def _predict(self, inputs: Any) -> np.ndarray:
        data = window_batches(inputs, None, max(self.batch_size, _PREDICT_BATCH), stats=self._stats)
        out = np.asarray(self.model.predict(data, verbose=0), dtype=np.float64)
        return out * self._stats["y_scale"] + self._stats["y_shift"]

    def get_state(self) -> dict[str, np.ndarray]:
        """The standardisation statistics (the weights live in ``model.weights.h5``)."""
        return {k: np.asarray(v, dtype=np.float64) for k, v in self._stats.items()}

    def set_state(self, state: dict[str, np.ndarray]) -> None:
        """Restore the standardisation statistics."""
        expected = {"x_shift", "x_scale", "y_shift", "y_scale"}
        if set(state) != expected:
            raise FileFormatError(f"expected state arrays {sorted(expected)}; received: {sorted(state)}")
        self._stats = {k: np.asarray(v, dtype=np.float64) for k, v in state.items()}

    def trainable_params(self) -> int:
        """Number of trainable weights of the Keras model."""
        return int(sum(int(np.prod(w.shape)) for w in self.model.trainable_weights))

    def memory_bytes(self) -> int:
        """Bytes of the model's weights plus the standardisation statistics."""
        weights = sum(int(np.prod(w.shape)) * np.dtype(str(w.dtype)).itemsize for w in self.model.weights)
        return int(weights + super().memory_bytes())

    def macs_per_sample(self) -> float:
        """Multiply-accumulates per prediction (one input row), from the layer shapes (see module notes)."""
        macs = 0
        for layer in self.model.layers:
            kind = type(layer).__name__
            if kind == "Dense":
                in_shape = layer.input.shape
                macs += int(np.prod(in_shape[1:-1], dtype=np.int64)) * int(in_shape[-1]) * int(layer.units)
            elif kind == "Conv1D":
                out_len = int(layer.output.shape[1])
                in_ch = int(layer.input.shape[-1])
                macs += out_len * int(layer.kernel_size[0]) * in_ch * int(layer.filters)
            elif kind == "LSTM":
                steps, features = int(layer.input.shape[1]), int(layer.input.shape[2])
                units = int(layer.units)
                macs += steps * (4 * units * (features + units) + 3 * units)
            elif kind == "SimpleRNN":
                steps, features = int(layer.input.shape[1]), int(layer.input.shape[2])
                macs += steps * int(layer.units) * (features + int(layer.units))
        if self.standardize:
            macs += int(self.input_window or 0) + int(self.n_outputs or 0)
        return float(macs)

    def extra_description(self) -> dict[str, Any]:
        """Training record: epochs run, best epoch, final and per-epoch losses, time, backend, device."""
        return dict(self._training)

    # -- deployment ---------------------------------------------------------------------------
    def export(self, path: str | os.PathLike[str], format: str = "litert", *, quantize: str | None = None,
               representative: Any = None) -> Path:
        """Write the fitted network as a LiteRT or ONNX file with its standardisation folded in.

        The exported graph takes raw windows ``(batch, window)`` and returns ``(batch, outputs)`` in the
        targets' units (float32), as :meth:`predict` does; LiteRT files have a batch of one row.
        See :mod:`sigbench.plugins.neural._export` for the conversion and :meth:`Processor.export` for the
        parameters.

        Raises
        ------
        ValidationError
            Unknown ``format`` or ``quantize``; int8 without ``representative`` rows.
        ProcessorError
            Not fitted, an exporter missing (``pip install 'sigbench[export]'``), or the conversion failed.
        WriteError
            The file cannot be written.
        """
        from sigbench.plugins.neural._export import export_model

        return export_model(self, path, format, quantize=quantize, representative=representative)

    def single_row_function(self, *, jit_compile: bool = True) -> Callable[[np.ndarray], np.ndarray]:
        """A compiled call on one raw window ``(window,)`` → ``(outputs,)`` (the streaming-latency path).

        See :func:`sigbench.plugins.neural._export.single_row_function`.
        """
        from sigbench.plugins.neural._export import single_row_function

        self._require_fitted("single_row_function")
        return single_row_function(self, jit_compile=jit_compile)

    def activation_values(self) -> int:
        """Values of every layer's output for one input row (batch 1): the activation memory of streaming
        inference at one value per element, an upper bound on what must be live at once."""
        self._require_fitted("activation_values")
        total = 0
        for layer in self.model.layers:
            if type(layer).__name__ == "InputLayer":
                continue
            total += int(np.prod([int(d) for d in layer.output.shape[1:]], dtype=np.int64))
        return total

    def _save_extra(self, path: Path) -> None:
        record = {
            "format": _RECORD_FORMAT,
            "format_version": 1,
            "name": self.name,
            "window": self.input_window,
            "n_outputs": self.n_outputs,
            "layers": self._architecture(),
            "training": self._training,
        }
        (path / ARCHITECTURE_FILE).write_text(dumps(record, indent=2, lenient=False))
        self.model.save_weights(str(path / WEIGHTS_FILE))

    def _load_extra(self, path: Path) -> None:
        try:
            record = json.loads((path / ARCHITECTURE_FILE).read_text())
        except FileNotFoundError:
            raise FileFormatError(f"not a saved neural processor (no {ARCHITECTURE_FILE}): {path}") from None
        except json.JSONDecodeError as exc:
            raise FileFormatError(f"corrupt {ARCHITECTURE_FILE} in {path}: {exc}") from None
        if not isinstance(record, dict) or record.get("format") != _RECORD_FORMAT or record.get("format_version") != 1:
            raise FileFormatError(f"unsupported architecture record in {path}")
        if record.get("name") != self.name or record.get("window") != self.input_window \
                or record.get("n_outputs") != self.n_outputs:
            raise FileFormatError(f"architecture record in {path} does not match processor.json")
        window, n_outputs = int(self.input_window or 0), int(self.n_outputs or 0)
        self._check_window(window)
        weights = path / WEIGHTS_FILE
        if not weights.is_file():
            raise FileFormatError(f"missing {WEIGHTS_FILE} in {path}")
        declared = self.check_size(window, n_outputs)  # before anything is built: a tampered record is refused
        held = check_weights_file(weights, max_bytes=max(declared, 1) * 16 + (1 << 20))
        if declared and held < declared:
            raise FileFormatError(
                f"{path}: processor.json declares a network of {declared} parameters but {WEIGHTS_FILE} holds only "
                f"{held} values (edited or mismatched files); refused before building it"
            )
        self.model = self._build_model(window, n_outputs)
        if record.get("layers") != self._architecture():
            raise FileFormatError(
                f"the architecture record in {path} does not match the model built from its parameters "
                f"(saved by another sigbench version, or edited)"
            )
        expected = sum(int(np.prod(w.shape)) * 8 for w in self.model.weights)  # float64 at most
        check_weights_file(weights, max_bytes=2 * expected + (1 << 20))  # against the built model, exactly
        try:
            self.model.load_weights(str(weights))
        except (ValueError, KeyError, OSError) as exc:
            raise FileFormatError(f"cannot load {weights}: {exc}".splitlines()[0]) from None
        training = record.get("training")
        self._training = dict(training) if isinstance(training, dict) else {}

