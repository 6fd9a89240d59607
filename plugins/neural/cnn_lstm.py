r"""``cnn-lstm``: a Conv1D front end (+ pooling) whose feature sequence feeds an LSTM.

.. code-block:: text

    window (W) ─ std ─ Reshape(W, 1) ─ Conv1D(16 filters, 5 taps) ─ MaxPool(2) ─ LSTM(32) ─ [Dense …] ─ Dense(outputs)

The convolution is a bank of ``filters`` learned FIR filters (``padding="valid"``:
:math:`L = W - K + 1` positions); pooling shortens the sequence to :math:`T = \lfloor L/p \rfloor`
steps of ``filters`` features, which the LSTM reads in time order (equations in
:mod:`sigbench.plugins.neural.lstm`). Compared with ``lstm`` on raw samples the recurrence is
``pool_size`` times shorter and sees band-filtered features, so it trains faster.

Cost per output row: :math:`L K F` for the convolution plus :math:`T\,(4u(F+u) + 3u)` per LSTM
layer (window 64, defaults: 60·5·16 = 4 800 and 30 · (4·32·48 + 96) = 187 200), plus the head and
the standardisation.

Example
-------
>>> import numpy as np, sigbench as sb
>>> x = np.sin(0.1 * np.arange(600))
>>> m = sb.get_processor("cnn-lstm")(filters=4, units=(8,), epochs=2)
>>> m.fit(sb.sliding_windows(x[:-1], 32), x[32:]).predict(sb.sliding_windows(x[:-1], 32)).shape
(568,)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, ClassVar

from sigbench import hookimpl
from sigbench._validate import one_of, positive_int
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
from sigbench.plugins.neural.cnn import POOLINGS, _pool_layer

__all__ = ["CNNLSTM"]


class CNNLSTM(NeuralProcessor):
    """Conv1D front end and pooling feeding stacked LSTM layers, then a dense head.

    Parameters
    ----------
    filters : int, default 16
        Convolution kernels (features per LSTM step).
    kernel_size : int, default 5
        Taps of each kernel; must be ≤ ``window``.
    pooling : {"max", "avg"}, default ``"max"``
        Pooling after the convolution.
    pool_size : int, default 2
        Pooling width; ``window - kernel_size + 1 >= pool_size``.
    conv_activation : str, default ``"relu"``
        Activation of the convolution.
    units : sequence of int, default ``(32,)``
        Units of each stacked LSTM layer.
    dense_units : sequence of int, default ``()``
        Hidden dense layers after the last LSTM.
    activation : str, default ``"relu"``
        Activation of the hidden dense layers.
    seed, epochs, batch_size, learning_rate, validation_fraction, patience, standardize, steps_per_execution,
    shuffle_block
        Training parameters, as for :class:`~sigbench.plugins.neural.dnn.DNN`; defaults 0, 30, 128,
        5e-3, 0.2, 6, True, 16, None.

    Input shape
    -----------
    ``(rows, window)``, oldest sample first.

    Output shape
    ------------
    ``(rows,)`` or ``(rows, outputs)``, as the training targets.

    Raises
    ------
    ValidationError
        In the constructor: a size below 1, an unknown pooling or activation. At ``fit``: a kernel
        wider than the window, or a convolution output shorter than ``pool_size``.

    Examples
    --------
    >>> import sigbench as sb
    >>> sb.get_processor("cnn-lstm")(filters=8, kernel_size=9).get_params()["kernel_size"]
    9
    """

    name: ClassVar[str] = "cnn-lstm"

    def __init__(self, filters: int = 16, kernel_size: int = 5, pooling: str = "max", pool_size: int = 2,
                 conv_activation: str = "relu", units: Sequence[int] = (32,), dense_units: Sequence[int] = (),
                 activation: str = "relu", *,
                 window: int | None = None, seed: int = 0, epochs: int = 30, batch_size: int = 128,
                 learning_rate: float = 5e-3, validation_fraction: float | None = None, patience: int | None = 6,
                 standardize: bool = True, steps_per_execution: int = 16,
                 shuffle_block: int | None = None) -> None:
        self.filters = positive_int("filters", filters)
        self.kernel_size = positive_int("kernel_size", kernel_size)
        self.pooling = one_of("pooling", pooling, POOLINGS)
        self.pool_size = positive_int("pool_size", pool_size)
        self.conv_activation = _activation("conv_activation", conv_activation)
        self.units = positive_int_tuple("units", units)
        self.dense_units = positive_int_tuple("dense_units", dense_units, allow_empty=True)
        self.activation = _activation("activation", activation)
        common = _common_params(
            window=window, seed=seed, epochs=epochs, batch_size=batch_size, learning_rate=learning_rate,
            validation_fraction=validation_fraction, patience=patience, standardize=standardize,
            steps_per_execution=steps_per_execution, shuffle_block=shuffle_block,
        )
        super().__init__(filters=self.filters, kernel_size=self.kernel_size, pooling=self.pooling,
                         pool_size=self.pool_size, conv_activation=self.conv_activation,
                         units=as_given(units, self.units),
                         dense_units=as_given(dense_units, self.dense_units), activation=self.activation, **common)

    def _check_window(self, window: int) -> None:
        if self.kernel_size > window:
            raise ValidationError(
                f"expected kernel_size <= window ({window}); received: kernel_size={self.kernel_size}"
            )
        length = window - self.kernel_size + 1
        if length < self.pool_size:
            raise ValidationError(
                f"expected window - kernel_size + 1 >= pool_size ({length} < {self.pool_size}); "
                f"received: pool_size={self.pool_size}"
            )

    def _body_parameters(self, window: int) -> tuple[int, int]:
        conv = self.kernel_size * self.filters + self.filters
        params, features = lstm_parameters(self.filters, self.units)
        return dense_parameters(conv + params, features, self.dense_units)

    def _body(self, keras: Any, x: Any, window: int) -> Any:
        x = keras.layers.Reshape((window, 1), name="to_sequence")(x)
        x = keras.layers.Conv1D(self.filters, self.kernel_size, activation=self.conv_activation, name="conv")(x)
        x = _pool_layer(keras, self.pooling, self.pool_size, "pool")(x)
        for i, width in enumerate(self.units):
            last = i == len(self.units) - 1
            x = keras.layers.LSTM(width, return_sequences=not last, name=f"lstm_{i}")(x)
        for i, width in enumerate(self.dense_units):
            x = keras.layers.Dense(width, activation=self.activation, name=f"dense_{i}")(x)
        return x


@hookimpl
def register_processors(register: Callable[..., None]) -> None:
    """Register ``cnn-lstm``."""
    register(CNNLSTM)
