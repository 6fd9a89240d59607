r"""``gru``: the window read as ``timesteps`` steps by stacked GRU layers, then a linear output.

.. code-block:: text

    window (W) ─ std ─ Reshape(timesteps, W/timesteps) ─ GRU(u₁) ─ … ─ GRU(u_L) ─ Dense(outputs)

Each GRU layer, per step, with input :math:`x_t` and state :math:`h_{t-1}` (Keras 3, ``reset_after=True``):

.. math::

    z = \sigma(W_z x_t + U_z h_{t-1} + b_z),\quad r = \sigma(W_r x_t + U_r h_{t-1} + b_r),\\
    \tilde h = \tanh(W_h x_t + r \odot (U_h h_{t-1} + b'_h) + b_h),\quad h_t = z \odot h_{t-1} + (1 - z) \odot \tilde h.

All but the last layer return the whole sequence. Training, streaming of windows, seeding, persistence
(weights only, the model rebuilt in code) and cost bookkeeping come from sigbench's neural base class;
this module only builds the layers. Keras is imported when a model is built, never at import time.

Cost per output row: :math:`T\,(3u(F+u) + 3u)` multiply-accumulates per GRU layer for :math:`T` steps of
:math:`F` features and :math:`u` units, plus the output layer and the standardisation.

Example
-------
>>> from sigbench_example.gru import GRU
>>> GRU(units=(8,), timesteps=4).get_params()["units"]
[8]
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, ClassVar

from sigbench import ValidationError, hookimpl

# The neural base class of the built-in processors (training loop, batches, safe persistence, cost).
from sigbench.plugins.neural import NeuralProcessor

__all__ = ["GRU"]


def _int(name: str, value: Any, low: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < low:
        raise ValidationError(f"expected {name} to be an integer >= {low}; received: {name}={value!r}")
    return value


def _units(value: Any) -> list[int]:
    items = [value] if isinstance(value, int) and not isinstance(value, bool) else value
    if not isinstance(items, (list, tuple)) or not items \
            or not all(isinstance(u, int) and not isinstance(u, bool) and u >= 1 for u in items):
        raise ValidationError(f"expected units to be a non-empty sequence of integers >= 1; received: units={value!r}")
    return [int(u) for u in items]


class GRU(NeuralProcessor):
    """Stacked GRU layers over the window cut into ``timesteps`` steps.

    Parameters
    ----------
    units : tuple of int, default ``(16,)``
        Units of each GRU layer, input side first.
    timesteps : int or None, default None
        Steps per window; the window must be a multiple. None: one sample per step.
    seed : int, default 0
        Seeds the weights and the batch order.
    epochs : int, default 30
        Maximum passes over the training rows.
    batch_size : int, default 64
        Rows per gradient step.
    learning_rate : float, default 3e-3
        Adam step size.
    validation_fraction : float, default 0.2
        Chronologically last fraction of the training rows held out for early stopping.
    patience : int or None, default 6
        Epochs without a better validation loss before stopping; None: never.
    standardize : bool, default True
        Scale inputs and targets with training statistics.
    steps_per_execution : int, default 16
        Batches per compiled call (speed only).

    Input shape
    -----------
    ``(rows, window)``, oldest sample first; seen by the GRU as ``(rows, timesteps, window/timesteps)``.

    Output shape
    ------------
    ``(rows,)`` or ``(rows, outputs)``, as the training targets.

    Raises
    ------
    ValidationError
        Invalid ``units``/``timesteps`` or training parameter; at ``fit``: a window that is not a multiple
        of ``timesteps``.
    """

    name: ClassVar[str] = "gru"
    #: a tiny configuration for ``sigbench plugins validate``
    conformance: ClassVar[dict[str, Any]] = {
        "init_kwargs": {"units": [4], "timesteps": 4, "epochs": 1, "patience": None, "steps_per_execution": 1},
    }

    # tuple[int, ...] (not Sequence[int]) so that `-m gru:units=16,8` is parsed by sigbench's CLI
    def __init__(self, units: tuple[int, ...] = (16,), timesteps: int | None = None, *, seed: int = 0,
                 epochs: int = 30, batch_size: int = 64, learning_rate: float = 3e-3,
                 validation_fraction: float = 0.2, patience: int | None = 6, standardize: bool = True,
                 steps_per_execution: int = 16) -> None:
        self.units = _units(units)
        self.timesteps = None if timesteps is None else _int("timesteps", timesteps, 1)
        rate_ok = isinstance(learning_rate, (int, float)) and math.isfinite(learning_rate) and learning_rate > 0
        if not rate_ok:
            raise ValidationError(f"expected learning_rate > 0; received: learning_rate={learning_rate!r}")
        fraction_ok = isinstance(validation_fraction, (int, float)) and 0 <= validation_fraction < 1
        if not fraction_ok:
            raise ValidationError(f"expected 0 <= validation_fraction < 1; received: "
                                  f"validation_fraction={validation_fraction!r}")
        if not isinstance(standardize, bool):
            raise ValidationError(f"expected standardize to be True or False; received: standardize={standardize!r}")
        super().__init__(
            units=self.units, timesteps=self.timesteps, seed=_int("seed", seed, 0), epochs=_int("epochs", epochs, 1),
            batch_size=_int("batch_size", batch_size, 1), learning_rate=float(learning_rate),
            validation_fraction=float(validation_fraction),
            patience=None if patience is None else _int("patience", patience, 0), standardize=standardize,
            steps_per_execution=_int("steps_per_execution", steps_per_execution, 1),
        )

    def _steps(self, window: int) -> tuple[int, int]:
        steps = window if self.timesteps is None else self.timesteps
        return steps, window // steps

    def _check_window(self, window: int) -> None:
        steps = window if self.timesteps is None else self.timesteps
        if window % steps:
            raise ValidationError(f"expected window divisible by timesteps; received: window={window}, "
                                  f"timesteps={steps}")

    def _body(self, keras: Any, x: Any, window: int) -> Any:
        steps, features = self._steps(window)
        x = keras.layers.Reshape((steps, features), name="steps")(x)
        for i, width in enumerate(self.units):
            last = i == len(self.units) - 1
            x = keras.layers.GRU(width, return_sequences=not last, name=f"gru_{i}")(x)
        return x

    def macs_per_sample(self) -> float:
        """The base count (dense layers, standardisation) plus ``T·(3u(F+u) + 3u)`` per GRU layer."""
        macs = super().macs_per_sample()
        for layer in self.model.layers:
            if type(layer).__name__ == "GRU":
                steps, features = int(layer.input.shape[1]), int(layer.input.shape[2])
                u = int(layer.units)
                macs += steps * (3 * u * (features + u) + 3 * u)
        return float(macs)


@hookimpl
def register_processors(register: Callable[..., None]) -> None:
    """Register ``gru``."""
    register(GRU)
