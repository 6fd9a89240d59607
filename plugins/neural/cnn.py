r"""``cnn``: a learned filter bank — parallel Conv1D branches of different widths, pooled, concatenated.

.. code-block:: text

                       ┌ Conv1D(8 filters, 3 taps)  ─ MaxPool(2) ─ Flatten ┐
    window (W) ─ std ──┼ Conv1D(8 filters, 5 taps)  ─ MaxPool(2) ─ Flatten ┼─ Concatenate ─ Dense(32) ─ Dense(outputs)
                       ├ Conv1D(8 filters, 9 taps)  ─ MaxPool(2) ─ Flatten ┤
                       └ Conv1D(8 filters, 17 taps) ─ MaxPool(2) ─ Flatten ┘

Branch :math:`b` with kernel :math:`w_{b,f}` of :math:`K_b` taps computes, for every valid position
:math:`t` (``padding="valid"``: :math:`W - K_b + 1` positions)

.. math:: y_{b,f}(t) = \phi\Big(c_{b,f} + \sum_{k=0}^{K_b-1} w_{b,f}[k]\, x(t + k)\Big),

a bank of FIR filters (cross-correlation order: ``w[k]`` multiplies the ``k``-th oldest sample of
the span; the equivalent FIR impulse response is ``w[::-1]``). Pooling keeps the strongest (``max``)
or mean (``avg``) response of each ``pool_size`` neighbours; the dense head mixes the bands.
:meth:`CNN.kernels` returns the learned taps for frequency-response plots.

Cost per output row: :math:`\sum_b (W - K_b + 1)\,K_b\,F` multiply-accumulates for the bank plus the
dense head (window 64, defaults: 1 806·8 = 14 448 for the bank, 904·32 + 32 = 28 960 for the head, plus 65
for the standardisation: 43 473).

Example
-------
>>> import numpy as np, sigbench as sb
>>> x = np.sin(0.1 * np.arange(600))
>>> cnn = sb.get_processor("cnn")(kernel_sizes=(3, 9), filters=4, epochs=2)
>>> [k.shape for k in cnn.fit(sb.sliding_windows(x[:-1], 32), x[32:]).kernels()]
[(4, 3), (4, 9)]
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, ClassVar

import numpy as np

from sigbench import hookimpl
from sigbench._validate import one_of, positive_int
from sigbench.errors import ValidationError
from sigbench.plugins.neural._backend import import_keras
from sigbench.plugins.neural._base import (
    NeuralProcessor,
    _activation,
    _common_params,
    as_given,
    dense_parameters,
    positive_int_tuple,
)

__all__ = ["CNN", "POOLINGS"]

#: accepted ``pooling`` values
POOLINGS = ("max", "avg")


def _pool_layer(keras: Any, pooling: str, pool_size: int, name: str) -> Any:
    if pooling == "max":
        return keras.layers.MaxPooling1D(pool_size=pool_size, name=name)
    return keras.layers.AveragePooling1D(pool_size=pool_size, name=name)


class CNN(NeuralProcessor):
    """Parallel Conv1D branches (a learned filter bank), each pooled, concatenated, then dense layers.

    Parameters
    ----------
    kernel_sizes : sequence of int, default ``(3, 5, 9, 17)``
        Taps of each branch's kernels (one branch per entry); each must be ≤ ``window``.
    filters : int, default 8
        Kernels per branch.
    pooling : {"max", "avg"}, default ``"max"``
        Pooling after each branch.
    pool_size : int, default 2
        Pooling width in samples; each branch needs ``window - kernel_size + 1 >= pool_size``.
    conv_activation : str, default ``"relu"``
        Activation of the convolutions (``"linear"`` makes the branches plain FIR filters).
    dense_units : sequence of int, default ``(32,)``
        Hidden dense layers after the concatenation.
    activation : str, default ``"relu"``
        Activation of the hidden dense layers.
    seed, epochs, batch_size, learning_rate, validation_fraction, patience, standardize, steps_per_execution,
    shuffle_block
        Training parameters, as for :class:`~sigbench.plugins.neural.dnn.DNN`; defaults 0, 50, 32,
        1e-3, 0.2, 10, True, 16, None.

    Input shape
    -----------
    ``(rows, window)``, oldest sample first.

    Output shape
    ------------
    ``(rows,)`` or ``(rows, outputs)``, as the training targets.

    Raises
    ------
    ValidationError
        In the constructor: an entry of ``kernel_sizes``/``dense_units`` or ``filters``/``pool_size``
        below 1, an unknown ``pooling`` or activation. At ``fit``: a kernel wider than the window,
        or a branch too short for its pooling.

    Examples
    --------
    >>> import sigbench as sb
    >>> sb.get_processor("cnn")(kernel_sizes=(5, 17), pooling="avg").get_params()["kernel_sizes"]
    [5, 17]
    """

    name: ClassVar[str] = "cnn"

    def __init__(self, kernel_sizes: Sequence[int] = (3, 5, 9, 17), filters: int = 8, pooling: str = "max",
                 pool_size: int = 2, conv_activation: str = "relu", dense_units: Sequence[int] = (32,),
                 activation: str = "relu", *,
                 window: int | None = None, seed: int = 0, epochs: int = 50, batch_size: int = 32,
                 learning_rate: float = 1e-3, validation_fraction: float | None = None, patience: int | None = 10,
                 standardize: bool = True, steps_per_execution: int = 16,
                 shuffle_block: int | None = None) -> None:
        self.kernel_sizes = positive_int_tuple("kernel_sizes", kernel_sizes)
        self.filters = positive_int("filters", filters)
        self.pooling = one_of("pooling", pooling, POOLINGS)
        self.pool_size = positive_int("pool_size", pool_size)
        self.conv_activation = _activation("conv_activation", conv_activation)
        self.dense_units = positive_int_tuple("dense_units", dense_units, allow_empty=True)
        self.activation = _activation("activation", activation)
        common = _common_params(
            window=window, seed=seed, epochs=epochs, batch_size=batch_size, learning_rate=learning_rate,
            validation_fraction=validation_fraction, patience=patience, standardize=standardize,
            steps_per_execution=steps_per_execution, shuffle_block=shuffle_block,
        )
        super().__init__(kernel_sizes=as_given(kernel_sizes, self.kernel_sizes), filters=self.filters,
                         pooling=self.pooling,
                         pool_size=self.pool_size, conv_activation=self.conv_activation,
                         dense_units=as_given(dense_units, self.dense_units), activation=self.activation, **common)

    def _check_window(self, window: int) -> None:
        widest = max(self.kernel_sizes)
        if widest > window:
            raise ValidationError(
                f"expected every kernel size <= window ({window}); received: kernel_sizes={self.kernel_sizes!r}"
            )
        shortest = window - widest + 1
        if shortest < self.pool_size:
            raise ValidationError(
                f"expected window - kernel_size + 1 >= pool_size for every branch ({shortest} < {self.pool_size} "
                f"for kernel_size={widest}); received: pool_size={self.pool_size}"
            )

    def _body_parameters(self, window: int) -> tuple[int, int]:
        params, features = 0, 0
        for size in self.kernel_sizes:
            params += size * self.filters + self.filters
            length = window - size + 1
            features += ((length - self.pool_size) // self.pool_size + 1) * self.filters
        return dense_parameters(params, features, self.dense_units)

    def _body(self, keras: Any, x: Any, window: int) -> Any:
        x = keras.layers.Reshape((window, 1), name="to_sequence")(x)
        branches = []
        for i, size in enumerate(self.kernel_sizes):
            y = keras.layers.Conv1D(self.filters, size, activation=self.conv_activation, name=f"conv_{i}")(x)
            y = _pool_layer(keras, self.pooling, self.pool_size, f"pool_{i}")(y)
            branches.append(keras.layers.Flatten(name=f"flatten_{i}")(y))
        x = branches[0] if len(branches) == 1 else keras.layers.Concatenate(name="bank")(branches)
        for i, width in enumerate(self.dense_units):
            x = keras.layers.Dense(width, activation=self.activation, name=f"dense_{i}")(x)
        return x

    def kernels(self) -> list[np.ndarray]:
        """The learned filter-bank taps, one array per branch, in ``kernel_sizes`` order.

        Returns
        -------
        list of ndarray, each of shape ``(filters, kernel_size)``
            ``kernels()[b][f, k]`` multiplies the ``k``-th oldest sample under branch ``b``'s kernel
            ``f`` (Keras cross-correlation order). The FIR impulse response of that filter is
            ``kernels()[b][f, ::-1]``; with ``standardize`` the taps act on standardised inputs.
            For ``|H(f)|`` use e.g. ``scipy.signal.freqz(kernels()[b][f, ::-1])``.

        Raises
        ------
        ProcessorError
            Not fitted yet.
        """
        self._require_fitted("kernels")
        keras = import_keras()
        out = []
        for i in range(len(self.kernel_sizes)):
            layer = self.model.get_layer(f"conv_{i}")
            kernel = np.asarray(keras.ops.convert_to_numpy(layer.kernel), dtype=np.float64)  # (K, 1, F)
            out.append(np.ascontiguousarray(kernel[:, 0, :].T))
        return out

    def extra_description(self) -> dict[str, Any]:
        """The training record plus ``kernels``: per branch, ``(filters, kernel_size)`` taps as lists
        (for the report's "learned filters vs FIR bank" frequency-response plot)."""
        info = super().extra_description()
        info["kernels"] = [k.tolist() for k in self.kernels()]
        return info


@hookimpl
def register_processors(register: Callable[..., None]) -> None:
    """Register ``cnn``."""
    register(CNN)
