r"""``rnn``: the window read as a sequence of ``timesteps`` steps by stacked simple (Elman) recurrent layers.

.. code-block:: text

    window (W) ─ std ─ Reshape(T, W/T) ─ SimpleRNN(32) ─ … ─ SimpleRNN(units[-1]) ─ [Dense …] ─ Dense(outputs)

The founding article's recurrent network (Keras ``SimpleRNN``). The window (oldest sample first) is cut into
``timesteps`` chunks of ``features = W / timesteps`` samples; each layer runs, per step,

.. math::

    h_t = \tanh(W x_t + U h_{t-1} + b), \qquad h_0 = 0,

all but the last layer return the whole sequence, the last returns :math:`h_T`. A simple recurrence has no
gates, so it trains faster than an LSTM but forgets (and its gradients vanish) over long sequences: read the
window in few steps of several samples.

Cost per output row: :math:`T\,u\,(F + u)` multiply-accumulates per layer (window 64, ``timesteps=8``, 32
units: 8 · 32 · 40 = 10 240), plus the head and the standardisation.

Example
-------
>>> import numpy as np, sigbench as sb
>>> x = np.sin(0.1 * np.arange(600))
>>> rnn = sb.get_processor("rnn")(units=(8,), timesteps=8, epochs=2)
>>> rnn.fit(sb.sliding_windows(x[:-1], 32), x[32:]).predict(sb.sliding_windows(x[:-1], 32)).shape
(568,)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, ClassVar

from sigbench import hookimpl
from sigbench.plugins.neural.lstm import Recurrent

__all__ = ["RNN"]


class RNN(Recurrent):
    """Stacked SimpleRNN layers over the window cut into ``timesteps`` steps, then a dense head.

    Parameters
    ----------
    units : sequence of int, default ``(32,)``
        Units of each stacked SimpleRNN layer, input side first.
    timesteps : int or None, default 8
        Steps per window; ``window`` must be a multiple. None: ``window`` steps of 1 sample.
    dense_units : sequence of int, default ``()``
        Hidden dense layers after the last recurrent layer.
    activation : str, default ``"relu"``
        Activation of the hidden dense layers (the recurrent cells use tanh).
    seed, epochs, batch_size, learning_rate, validation_fraction, patience, standardize, steps_per_execution,
    shuffle_block
        Training parameters, as for :class:`~sigbench.plugins.neural.dnn.DNN`; defaults 0, 50, 64, 2e-3,
        None (the run's validation segment), 10, True, 16, None.
    preset : {"article"}, optional
        A named configuration for the arguments not given: ``"article"`` = one SimpleRNN of 32 units over 8
        steps of 8 samples, 100 epochs, batch 32, Adam 1e-3, no early stopping (the article's training).
        Arguments given explicitly win.

    Input shape
    -----------
    ``(rows, window)``, oldest sample first; seen by the recurrence as ``(rows, timesteps, window/timesteps)``.

    Output shape
    ------------
    ``(rows,)`` or ``(rows, outputs)``, as the training targets.

    Raises
    ------
    ValidationError
        In the constructor: an entry of ``units``/``dense_units`` or ``timesteps`` below 1, an unknown
        activation or preset. At ``fit``: ``window`` not a multiple of ``timesteps``.

    Examples
    --------
    >>> import sigbench as sb
    >>> sb.get_processor("rnn")(preset="article").get_params()["epochs"]
    100
    """

    name: ClassVar[str] = "rnn"
    cell: ClassVar[str] = "SimpleRNN"
    prefix: ClassVar[str] = "rnn"
    presets: ClassVar[dict[str, dict[str, Any]]] = {
        "article": {"units": (32,), "timesteps": 8, "epochs": 100, "batch_size": 32, "learning_rate": 1e-3,
                    "patience": None},
    }

    def __init__(self, units: Sequence[int] = (32,), timesteps: int | None = 8,
                 dense_units: Sequence[int] = (), activation: str = "relu", *,
                 window: int | None = None, seed: int = 0, epochs: int = 50,
                 batch_size: int = 64, learning_rate: float = 2e-3, validation_fraction: float | None = None,
                 patience: int | None = 10, standardize: bool = True, steps_per_execution: int = 16,
                 shuffle_block: int | None = None, preset: str | None = None) -> None:
        self._setup(units, timesteps, dense_units, activation, preset, window=window, seed=seed, epochs=epochs,
                    batch_size=batch_size, learning_rate=learning_rate, validation_fraction=validation_fraction,
                    patience=patience, standardize=standardize, steps_per_execution=steps_per_execution,
                    shuffle_block=shuffle_block)


@hookimpl
def register_processors(register: Callable[..., None]) -> None:
    """Register ``rnn``."""
    register(RNN)
