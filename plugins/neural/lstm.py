r"""``lstm``: the window read as a sequence of ``timesteps`` steps by stacked LSTM layers.

.. code-block:: text

    window (W) ─ std ─ Reshape(timesteps, W/timesteps) ─ LSTM(32) ─ … ─ LSTM(units[-1]) ─ [Dense …] ─ Dense(outputs)

The window (oldest sample first) is cut into ``timesteps`` consecutive chunks of
``features = W / timesteps`` samples (default: ``timesteps = W``, one sample per step). Each LSTM
layer runs, per step, with input :math:`x_t`, state :math:`h_{t-1}, c_{t-1}`:

.. math::

    i, f, o = \sigma(W_{i,f,o} x_t + U_{i,f,o} h_{t-1} + b_{i,f,o}),\quad
    g = \tanh(W_g x_t + U_g h_{t-1} + b_g),\\
    c_t = f \odot c_{t-1} + i \odot g,\quad h_t = o \odot \tanh(c_t).

All but the last LSTM layer return the whole sequence; the last returns :math:`h_T`.

Cost per output row: :math:`T\,(4u(F+u) + 3u)` multiply-accumulates per LSTM layer (window 64,
defaults: 64 · (4·32·33 + 96) = 276 480), plus the head and the standardisation. The steps are
sequential, so an LSTM trains and predicts far slower than a dense net of the same MAC count.

Example
-------
>>> import numpy as np, sigbench as sb
>>> x = np.sin(0.1 * np.arange(600))
>>> lstm = sb.get_processor("lstm")(units=(8,), timesteps=8, epochs=2)
>>> lstm.fit(sb.sliding_windows(x[:-1], 32), x[32:]).predict(sb.sliding_windows(x[:-1], 32)).shape
(568,)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, ClassVar

from sigbench import hookimpl
from sigbench._validate import positive_int
from sigbench.errors import ValidationError
from sigbench.plugins.neural._base import (
    NeuralProcessor,
    _activation,
    _common_params,
    as_given,
    dense_parameters,
    lstm_parameters,
    positive_int_tuple,
)

__all__ = ["LSTM", "Recurrent", "simple_rnn_parameters", "steps_and_features"]


def steps_and_features(window: int, timesteps: int | None) -> tuple[int, int]:
    """Split a window into ``(timesteps, features)``; ``timesteps=None`` means one sample per step.

    Raises
    ------
    ValidationError
        ``window`` is not a multiple of ``timesteps``:
        ``"expected window divisible by timesteps; received: window=64, timesteps=5"``.
    """
    steps = window if timesteps is None else timesteps
    if window % steps:
        raise ValidationError(f"expected window divisible by timesteps; received: window={window}, timesteps={steps}")
    return steps, window // steps


def simple_rnn_parameters(features: int, units: Any) -> tuple[int, int]:
    """Parameters of stacked SimpleRNN layers of ``units`` on ``features`` inputs per step (Keras's count:
    ``u (f + u) + u`` each), and the features of the last."""
    params = 0
    for width in units:
        params += width * (features + width) + width
        features = width
    return params, features


class Recurrent(NeuralProcessor):
    """Base of ``lstm`` and ``rnn``: stacked recurrent layers (``cell``) over the window cut into ``timesteps``
    steps, then hidden dense layers. Subclasses declare their constructor (its defaults) and call
    :meth:`_setup` with every argument."""

    #: the Keras recurrent layer, and the name prefix of its layers
    cell: ClassVar[str] = "LSTM"
    prefix: ClassVar[str] = "lstm"

    def _setup(self, units: Sequence[int], timesteps: int | None, dense_units: Sequence[int], activation: str,
               preset: str | None, **training: Any) -> None:
        """Validate and record the architecture and the training parameters (``_common_params``)."""
        self.units = positive_int_tuple("units", units)
        self.timesteps = None if timesteps is None else positive_int("timesteps", timesteps)
        self.dense_units = positive_int_tuple("dense_units", dense_units, allow_empty=True)
        self.activation = _activation("activation", activation)
        common = _common_params(**training)
        self.preset = preset
        NeuralProcessor.__init__(self, units=as_given(units, self.units), timesteps=self.timesteps,
                                 dense_units=as_given(dense_units, self.dense_units), activation=self.activation,
                                 **common, preset=preset)

    def _check_window(self, window: int) -> None:
        steps_and_features(window, self.timesteps)

    def _body_parameters(self, window: int) -> tuple[int, int]:
        _steps, features = steps_and_features(window, self.timesteps)
        count = lstm_parameters if self.cell == "LSTM" else simple_rnn_parameters
        return dense_parameters(*count(features, self.units), self.dense_units)

    def _body(self, keras: Any, x: Any, window: int) -> Any:
        steps, features = steps_and_features(window, self.timesteps)
        x = keras.layers.Reshape((steps, features), name="to_steps")(x)
        layer = getattr(keras.layers, self.cell)
        for i, width in enumerate(self.units):
            last = i == len(self.units) - 1
            x = layer(width, return_sequences=not last, name=f"{self.prefix}_{i}")(x)
        for i, width in enumerate(self.dense_units):
            x = keras.layers.Dense(width, activation=self.activation, name=f"dense_{i}")(x)
        return x


class LSTM(Recurrent):
    """Stacked LSTM over the window cut into ``timesteps`` steps, then a dense head.

    Parameters
    ----------
    units : sequence of int, default ``(32,)``
        Units of each stacked LSTM layer, input side first.
    timesteps : int or None, default None
        Steps per window; ``window`` must be a multiple. None: ``window`` steps of 1 sample.
    dense_units : sequence of int, default ``()``
        Hidden dense layers after the last LSTM.
    activation : str, default ``"relu"``
        Activation of the hidden dense layers (the LSTM cells use tanh/sigmoid).
    seed, epochs, batch_size, learning_rate, validation_fraction, patience, standardize, steps_per_execution,
    shuffle_block
        Training parameters, as for :class:`~sigbench.plugins.neural.dnn.DNN`; defaults 0, 30, 128,
        5e-3, 0.2, 6, True, 16, None (an LSTM step is slow on CPU, so fewer epochs, larger batches and a
        larger Adam step).
    preset : {"article"}, optional
        A named configuration for the arguments not given: ``"article"`` = one LSTM of 32 units over 8 steps
        of 8 samples, 100 epochs, batch 32, Adam 2e-3, patience 20 — the configuration that reaches the public
        re-runs' ≥ 22 dB on the founding task (``docs/processors.md``). Arguments given explicitly win.

    Input shape
    -----------
    ``(rows, window)``, oldest sample first; seen by the LSTM as ``(rows, timesteps, window/timesteps)``.

    Output shape
    ------------
    ``(rows,)`` or ``(rows, outputs)``, as the training targets.

    Raises
    ------
    ValidationError
        In the constructor: an entry of ``units``/``dense_units`` or ``timesteps`` below 1, an unknown
        activation. At ``fit``: ``window`` not a multiple of ``timesteps``.

    Examples
    --------
    >>> import sigbench as sb
    >>> sb.get_processor("lstm")(units=(16, 16), timesteps=16).get_params()["timesteps"]
    16
    """

    name: ClassVar[str] = "lstm"
    presets: ClassVar[dict[str, dict[str, Any]]] = {
        # reaches the public re-runs' >= 22 dB on the founding task (docs/processors.md, "Presets")
        "article": {"units": (32,), "timesteps": 8, "epochs": 100, "batch_size": 32, "learning_rate": 2e-3,
                    "patience": 20},
    }

    def __init__(self, units: Sequence[int] = (32,), timesteps: int | None = None,
                 dense_units: Sequence[int] = (), activation: str = "relu", *,
                 window: int | None = None, seed: int = 0, epochs: int = 30,
                 batch_size: int = 128, learning_rate: float = 5e-3, validation_fraction: float | None = None,
                 patience: int | None = 6, standardize: bool = True, steps_per_execution: int = 16,
                 shuffle_block: int | None = None, preset: str | None = None) -> None:
        self._setup(units, timesteps, dense_units, activation, preset, window=window, seed=seed, epochs=epochs,
                    batch_size=batch_size, learning_rate=learning_rate, validation_fraction=validation_fraction,
                    patience=patience, standardize=standardize, steps_per_execution=steps_per_execution,
                    shuffle_block=shuffle_block)


@hookimpl
def register_processors(register: Callable[..., None]) -> None:
    """Register ``lstm``."""
    register(LSTM)
