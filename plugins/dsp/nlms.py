r"""NLMS adaptive FIR filter (``nlms``): LMS with the step normalised by the input energy.

.. math::

    y(k) = \mathbf{w}^T(k)\,\mathbf{x}(k), \qquad e(k) = d(k) - y(k), \qquad
    \mathbf{w}(k+1) = \mathbf{w}(k) + \frac{\mu}{\epsilon + \mathbf{x}^T(k)\mathbf{x}(k)}\,
    e(k)\, \mathbf{x}(k), \qquad \mathbf{w}(0) = \mathbf{0}

(padasip's placement of :math:`\epsilon`: added to the energy, not to the step.)

Stability: :math:`0 < \mu < 2` (with :math:`\epsilon > 0`, :math:`\mu < 2 + 2\epsilon/\|\mathbf{x}\|^2`),
independent of the input power; :math:`\mu = 1` is the fastest in theory. :math:`\epsilon` guards
against near-zero input vectors.

Cost per output sample: :math:`3N` multiply-accumulates (energy, output, update) for :math:`N` = ``numtaps``
(the energy could be updated recursively in :math:`O(1)`, but that drifts; it is recomputed).

Example
-------
>>> import numpy as np, sigbench as sb
>>> x = np.random.default_rng(0).normal(size=5000)
>>> d = np.convolve(x, [1.0, 0.5])[:x.size]
>>> f = sb.get_processor("nlms")(numtaps=2, mu=0.5).fit(sb.sliding_windows(x, 2), d[1:])
>>> np.round(f.weights[0][::-1], 3)
array([1. , 0.5])
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from sigbench import hookimpl
from sigbench._validate import positive_float
from sigbench.plugins.dsp._adaptive import AdaptiveFilter

__all__ = ["NLMS"]


class NLMS(AdaptiveFilter):
    """Normalised least-mean-squares adaptive FIR filter (numba-compiled loop).

    Parameters
    ----------
    numtaps : int or None, default None
        Number of taps (the newest ``numtaps`` samples of each window); ``None``: the whole window.
    mu : float, default 0.5
        Normalised step size, > 0; stable for ``mu < 2``.
    eps : float, default 0.001
        Regularisation added to the input energy ``xᵀx``, >= 0, in (input units)².

    Raises
    ------
    ValidationError
        ``numtaps < 1``; ``mu <= 0``; ``eps < 0``; at ``fit``: ``numtaps > window``.
    DivergedError
        While adapting, the error becomes non-finite or explodes.

    See Also
    --------
    padasip.filters.FilterNLMS : same update; agrees to rounding (``w="zeros"``).

    Notes
    -----
    Cost: ``3·numtaps`` multiply-accumulates per output sample while adapting.

    Examples
    --------
    >>> import sigbench as sb
    >>> sb.get_processor("nlms")(numtaps=64, mu=0.5, eps=1e-3)
    NLMS(numtaps=64, mu=0.5, eps=0.001)
    """

    name: ClassVar[str] = "nlms"
    kernel_name: ClassVar[str] = "nlms"

    def __init__(self, numtaps: int | None = None, mu: float = 0.5, eps: float = 0.001) -> None:
        self.mu = positive_float("mu", mu)
        self.eps = positive_float("eps", eps, allow_zero=True)
        super().__init__(numtaps=numtaps, mu=mu, eps=eps)

    def _kernel_args(self) -> tuple[float, ...]:
        return (self.mu, self.eps)

    def _stable_range(self, power: float) -> str:
        return f"0 < mu < 2 (independent of the input power; received: mu={self.mu!r})"

    def macs_per_sample(self) -> float:
        """``numtaps`` for the energy plus ``2·numtaps`` per output while adapting."""
        return float(self.numtaps + 2 * self.weights.size)


@hookimpl
def register_processors(register: Callable[..., None]) -> None:
    """Register ``nlms``."""
    register(NLMS)
