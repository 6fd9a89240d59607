r"""``dnn``: a fully connected network on the raw window (the article's own DNN: ``preset="article"``).

.. code-block:: text

    window (W) ─ standardise ─ Dense(64, sigmoid) ─ Dense(32, sigmoid) ─ Dense(8, sigmoid) ─ Dense(outputs) ─ unscale

Each hidden layer computes :math:`h_{l} = \sigma(W_l h_{l-1} + b_l)`; the output layer is linear.
Trained with Adam on the mean squared error (see :mod:`sigbench.plugins.neural._base`).

Cost per output row: :math:`\sum_l n_{l-1} n_l` multiply-accumulates (window 64, default units:
64·64 + 64·32 + 32·8 + 8·1 = 6 408, plus 65 for the standardisation); parameters: the same plus the
biases (6 513 for window 64).

``preset="dft"`` (the ``spectrum`` task's default network) is
``window ─ standardise ─ Dense(128, linear) ─ Dense(2·(W//2 + 1)) ─ unscale``: a product of affine maps, itself
affine, which can equal the DFT exactly (its rank is ``W`` ≤ 128); 64·128 + 128·66 = 16 640 MACs per frame for
W = 64. The default sigmoid stack cannot: 66 outputs pass through 8 saturating units.

Example
-------
>>> import numpy as np, sigbench as sb
>>> x = np.sin(0.1 * np.arange(600))
>>> X, y = sb.sliding_windows(x[:-1], 32), x[32:]
>>> model = sb.get_processor("dnn")(units=(16,), epochs=2).fit(X, y)
>>> model.predict(X).shape
(568,)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, ClassVar

from sigbench import hookimpl
from sigbench.plugins.neural._base import (
    NeuralProcessor,
    _activation,
    _common_params,
    as_given,
    positive_int_tuple,
)

__all__ = ["DNN"]


class DNN(NeuralProcessor):
    """Dense network: ``units`` hidden layers of ``activation``, then a linear output layer.

    Parameters
    ----------
    units : sequence of int, default ``(64, 32, 8)``
        Width of each hidden layer, input side first. ``()`` gives a linear model.
    activation : str, default ``"sigmoid"``
        Hidden-layer activation, one of :data:`~sigbench.plugins.neural._base.ACTIVATIONS`.
    seed : int, default 0
        Seeds the weights and the batch order.
    epochs : int, default 50
        Maximum passes over the training rows.
    batch_size : int, default 64
        Rows per gradient step.
    learning_rate : float, default 2e-3
        Adam step size.
    validation_fraction : float, optional
        Default: the run's validation segment (its share of the fit rows), else 0.2.
        Chronologically last fraction of the training rows held out for validation/early stopping.
    patience : int or None, default 10
        Epochs without a better validation loss before stopping (best weights restored); None: never.
    standardize : bool, default True
        Scale inputs and targets with training statistics (sigmoid units saturate otherwise).
    steps_per_execution : int, default 16
        Batches per compiled call (speed only).
    shuffle_block : int or None, default None
        Shuffle the training rows by blocks of this many rows each epoch (block order and rows inside a
        block); None: one global permutation for arrays, the rows' ``block_rows`` for
        :class:`~sigbench.FileWindows`.
    preset : {"article", "dft"}, optional
        A named configuration (:attr:`presets`) for the arguments not given: ``"article"`` the founding
        article's prediction DNN (``units=(32, 8)``, relu, 100 epochs, batch 32, Adam 1e-3, no early
        stopping); ``"dft"`` its DFT network for the ``spectrum`` task (one linear hidden layer of 128,
        ``activation="linear"``, 30 epochs with early stopping after 3 epochs without a better validation
        loss, the best weights kept; otherwise as ``"article"``). Arguments given explicitly win.

    Input shape
    -----------
    ``(rows, window)``, oldest sample first.

    Output shape
    ------------
    ``(rows,)`` or ``(rows, outputs)``, as the training targets.

    Raises
    ------
    ValidationError
        An entry of ``units`` below 1, an unknown activation, or an invalid training parameter.

    Examples
    --------
    >>> import sigbench as sb
    >>> sb.get_processor("dnn")(units=(32, 8), activation="tanh").get_params()["units"]
    [32, 8]
    """

    name: ClassVar[str] = "dnn"
    presets: ClassVar[dict[str, dict[str, Any]]] = {
        # the founding article's prediction network: Dense 32-8-1 relu, Adam, 100 epochs, Keras's batch 32
        "article": {"units": (32, 8), "activation": "relu", "epochs": 100, "batch_size": 32,
                    "learning_rate": 1e-3, "patience": None},
        # the article's DFT network: linear layers only (the DFT is linear), wide enough for every output; early
        # stopping keeps the best weights: Adam at a constant step reaches float32 rounding within about ten
        # epochs and later leaves it (validation MSE 1e-13, then 1e-4 from epoch 22 of 100 on white noise)
        "dft": {"units": (128,), "activation": "linear", "epochs": 30, "batch_size": 32,
                "learning_rate": 1e-3, "patience": 3},
    }

    def __init__(self, units: Sequence[int] = (64, 32, 8), activation: str = "sigmoid", *,
                 window: int | None = None, seed: int = 0,
                 epochs: int = 50, batch_size: int = 64, learning_rate: float = 2e-3,
                 validation_fraction: float | None = None, patience: int | None = 10, standardize: bool = True,
                 steps_per_execution: int = 16,
                 shuffle_block: int | None = None, preset: str | None = None) -> None:
        self.units = positive_int_tuple("units", units, allow_empty=True)
        self.activation = _activation("activation", activation)
        common = _common_params(
            window=window, seed=seed, epochs=epochs, batch_size=batch_size, learning_rate=learning_rate,
            validation_fraction=validation_fraction, patience=patience, standardize=standardize,
            steps_per_execution=steps_per_execution, shuffle_block=shuffle_block,
        )
        self.preset = preset
        super().__init__(units=as_given(units, self.units), activation=self.activation, **common, preset=preset)

    def _body_parameters(self, window: int) -> tuple[int, int]:
        params, width_in = 0, window
        for width in self.units:
            params += width_in * width + width
            width_in = width
        return params, width_in

    def _body(self, keras: Any, x: Any, window: int) -> Any:
        for i, width in enumerate(self.units):
            x = keras.layers.Dense(width, activation=self.activation, name=f"dense_{i}")(x)
        return x


@hookimpl
def register_processors(register: Callable[..., None]) -> None:
    """Register ``dnn``."""
    register(DNN)
