r"""Sanity baselines: ``naive`` (repeat the last sample) and ``linear-extrapolation`` (two points).

With the window's newest samples :math:`x(k)` (last column) and :math:`x(k-1)`:

.. math::

    \text{naive:}\quad \hat{d}(k) = x(k), \qquad
    \text{linear-extrapolation:}\quad \hat{d}(k) = x(k) + h\,\big(x(k) - x(k-1)\big)

with :math:`h` = ``horizon`` (the target lies :math:`h` samples after :math:`x(k)`; the engine passes the
task's horizon). Nothing is fitted. Both are always stable; the extrapolation amplifies white noise
by :math:`\sqrt{(1+h)^2 + h^2}` in amplitude. Cost per output sample: 0 (naive) and 2
(extrapolation) multiply-accumulates; no memory.

They are always in the comparison table: a method that does not beat ``naive`` has learnt nothing.
They have one output per row, so ``spectrum`` (2-D targets) is refused.

Example
-------
>>> import numpy as np, sigbench as sb
>>> X = np.array([[0.0, 1.0, 2.0], [1.0, 2.0, 3.0]])
>>> sb.get_processor("linear-extrapolation")(horizon=1).fit(X, [3.0, 4.0]).predict(X)
array([3., 4.])
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

import numpy as np

from sigbench import hookimpl
from sigbench._validate import positive_int
from sigbench.errors import ValidationError
from sigbench.plugins.dsp._adaptive import DSPProcessor

__all__ = ["LinearExtrapolation", "Naive"]


class Naive(DSPProcessor):
    """Repeat the newest sample of the window: ``prediction = inputs[:, -1]``.

    Raises
    ------
    ValidationError
        At ``fit``: 2-D targets (several outputs per row).

    Notes
    -----
    Nothing is fitted; 0 multiply-accumulates per output sample.

    Examples
    --------
    >>> import numpy as np, sigbench as sb
    >>> X = np.array([[0.0, 1.0], [1.0, 2.0]])
    >>> sb.get_processor("naive")().fit(X, [2.0, 3.0]).predict(X)
    array([1., 2.])
    """

    name: ClassVar[str] = "naive"
    family: ClassVar[str] = "dsp"
    online: ClassVar[bool] = False
    deterministic: ClassVar[bool] = True
    #: nothing is learnt: fitting on the first block of rows is fitting on all (it streams at no cost)
    stateless: ClassVar[bool] = True
    min_window: ClassVar[int] = 1

    def __init__(self) -> None:
        super().__init__()

    def _fit(self, inputs: np.ndarray, targets: np.ndarray) -> None:
        if targets.ndim == 2 and targets.shape[1] != 1:
            raise ValidationError(
                f"expected one target per row for {self.name} (it predicts a sample, not a vector); "
                f"received: targets.shape={targets.shape}"
            )
        if inputs.shape[1] < self.min_window:
            raise ValidationError(
                f"expected window >= {self.min_window} samples for {self.name}; "
                f"received: window={inputs.shape[1]}"
            )

    def _predict(self, inputs: np.ndarray) -> np.ndarray:
        return np.array(inputs[:, -1], dtype=np.float64)

    def macs_per_sample(self) -> float:
        """No arithmetic."""
        return 0.0

    def memory_bytes(self) -> int:
        """No state."""
        return 0


class LinearExtrapolation(Naive):
    """Extrapolate the line through the two newest samples ``horizon`` samples ahead.

    Parameters
    ----------
    horizon : int, optional
        Samples between the window's newest sample and the target, >= 1. Default: the run's horizon
        (``context.horizon`` at ``fit``), 1 outside a run.

    Raises
    ------
    ValidationError
        ``horizon < 1``; at ``fit``: window shorter than 2 samples or 2-D targets.

    Notes
    -----
    2 multiply-accumulates per output sample.

    Examples
    --------
    >>> import numpy as np, sigbench as sb
    >>> X = np.array([[0.0, 1.0], [1.0, 3.0]])
    >>> sb.get_processor("linear-extrapolation")(horizon=2).fit(X, [3.0, 7.0]).predict(X)
    array([3., 7.])
    """

    name: ClassVar[str] = "linear-extrapolation"
    min_window: ClassVar[int] = 2

    def __init__(self, horizon: int | None = None) -> None:
        self.horizon_param = None if horizon is None else positive_int("horizon", horizon)
        DSPProcessor.__init__(self, horizon=horizon)

    @property
    def horizon(self) -> int:
        """The extrapolation distance in use: the parameter, else the run's horizon, else 1."""
        if self.horizon_param is not None:
            return self.horizon_param
        return self.context.horizon if self.context is not None else 1

    def _predict(self, inputs: np.ndarray) -> np.ndarray:
        last = np.asarray(inputs[:, -1], dtype=np.float64)
        return last + self.horizon * (last - inputs[:, -2])

    def macs_per_sample(self) -> float:
        """One subtraction and one multiply-add."""
        return 2.0

    def extra_description(self) -> dict[str, Any]:
        """The extrapolation distance."""
        return {"horizon": self.horizon}


@hookimpl
def register_processors(register: Callable[..., None]) -> None:
    """Register ``naive`` and ``linear-extrapolation``."""
    register(Naive)
    register(LinearExtrapolation)
