r"""LMS adaptive FIR filter (``lms``): stochastic-gradient descent on the squared error.

.. math::

    y(k) = \mathbf{w}^T(k)\,\mathbf{x}(k), \qquad e(k) = d(k) - y(k), \qquad
    \mathbf{w}(k+1) = \mathbf{w}(k) + \mu\, e(k)\, \mathbf{x}(k), \qquad \mathbf{w}(0) = \mathbf{0}

Stability (in the mean square, for a stationary input of power :math:`E[x^2]`):
:math:`0 < \mu < 2 / (N\,E[x^2])` with :math:`N` = ``numtaps`` (:math:`2/\mathrm{tr}\,\mathbf{R}`);
the misadjustment grows with :math:`\mu`, the convergence time falls as :math:`1/(\mu\lambda_{min})`.
With a small :math:`\mu` the weights converge to the Wiener solution :math:`\mathbf{R}^{-1}\mathbf{p}`.

Cost per output sample: :math:`2N` multiply-accumulates (:math:`N` for the output, :math:`N` for the
update) while adapting, :math:`N` frozen. Memory: :math:`N` weights.

Example
-------
>>> import numpy as np, sigbench as sb
>>> rng = np.random.default_rng(0)
>>> x = rng.normal(size=20_000)
>>> d = np.convolve(x, [0.5, -0.25, 0.1])[:x.size]          # unknown system
>>> X = sb.sliding_windows(x, 3)                              # rows end at sample k
>>> lms = sb.get_processor("lms")(numtaps=3, mu=0.01).fit(X, d[2:])
>>> np.round(lms.weights[0][::-1], 2)                         # newest tap first
array([ 0.5 , -0.25,  0.1 ])
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from sigbench import hookimpl
from sigbench._validate import positive_float
from sigbench.plugins.dsp._adaptive import AdaptiveFilter

__all__ = ["LMS"]


class LMS(AdaptiveFilter):
    """Least-mean-squares adaptive FIR filter (numba-compiled loop).

    Parameters
    ----------
    numtaps : int or None, default None
        Number of taps (the newest ``numtaps`` samples of each window); ``None``: the whole window.
    mu : float, default 0.005
        Step size, > 0, in 1/(input units)². Stable for ``mu < 2 / (numtaps · E[x²])``.

    Raises
    ------
    ValidationError
        ``numtaps < 1`` or not an integer; ``mu <= 0`` or not finite; at ``fit``: ``numtaps > window``.
    DivergedError
        While adapting, the error becomes non-finite or explodes (see :mod:`._adaptive`).

    See Also
    --------
    padasip.filters.FilterLMS : same update; agrees to rounding (``w="zeros"``).

    Notes
    -----
    ``fit`` adapts once over the training rows from zero weights; ``predict`` freezes the weights;
    ``predict_online`` keeps adapting (consecutive chunks equal one pass). Cost: ``2·numtaps``
    multiply-accumulates per output sample while adapting.

    Examples
    --------
    >>> import sigbench as sb
    >>> sb.get_processor("lms")(numtaps=64, mu=0.005)
    LMS(numtaps=64, mu=0.005)
    """

    name: ClassVar[str] = "lms"
    kernel_name: ClassVar[str] = "lms"

    def __init__(self, numtaps: int | None = None, mu: float = 0.005) -> None:
        self.mu = positive_float("mu", mu)
        super().__init__(numtaps=numtaps, mu=mu)

    def _kernel_args(self) -> tuple[float, ...]:
        return (self.mu,)

    def _stable_range(self, power: float) -> str:
        bound = 2.0 / (self.numtaps * power) if power > 0 else float("inf")
        return f"0 < mu < 2/(numtaps·E[x²]) = {bound:.4g} (received: mu={self.mu!r})"

    def macs_per_sample(self) -> float:
        """``2·numtaps`` per output while adapting (``numtaps`` frozen)."""
        return float(2 * self.weights.size)


@hookimpl
def register_processors(register: Callable[..., None]) -> None:
    """Register ``lms``."""
    register(LMS)
