r"""RLS adaptive FIR filter (``rls``): exponentially weighted recursive least squares.

.. math::

    \mathbf{P}(0) = \delta^{-1}\mathbf{I}, \qquad \mathbf{w}(0) = \mathbf{0}, \qquad
    e(k) = d(k) - \mathbf{w}^T(k)\,\mathbf{x}(k),

    \mathbf{g}(k) = \frac{\mathbf{P}(k)\,\mathbf{x}(k)}{\lambda + \mathbf{x}^T(k)\mathbf{P}(k)\mathbf{x}(k)},

    \mathbf{P}(k+1) = \lambda^{-1}\big(\mathbf{P}(k) - \mathbf{g}(k)\,\mathbf{x}^T(k)\mathbf{P}(k)\big),
    \qquad \mathbf{w}(k+1) = \mathbf{w}(k) + \mathbf{g}(k)\, e(k)

(:math:`\mathbf{g}(k) = \mathbf{P}(k+1)\mathbf{x}(k)`: padasip's ``FilterRLS(n, mu=lam, eps=delta)``).
The weights minimise :math:`\sum_i \lambda^{k-i} e^2(i) + \lambda^k\delta\|\mathbf{w}\|^2`.

Stability: :math:`0 < \lambda \le 1` and :math:`\delta > 0`. Convergence takes about :math:`2N` samples,
independent of the eigenvalue spread; the memory is about :math:`1/(1-\lambda)` samples. With
:math:`\lambda < 1` in finite precision :math:`\mathbf{P}` can lose positive definiteness over very long
runs — reported as divergence.

Cost per output sample: :math:`2N^2 + O(N)` multiply-accumulates for :math:`N` = ``numtaps``;
memory :math:`N^2 + N` values.

Example
-------
>>> import numpy as np, sigbench as sb
>>> x = np.random.default_rng(0).normal(size=500)
>>> d = np.convolve(x, [0.3, 0.2, 0.1])[:x.size]
>>> f = sb.get_processor("rls")(numtaps=3, lam=0.99, delta=0.01).fit(sb.sliding_windows(x, 3), d[2:])
>>> np.round(f.weights[0][::-1], 3)
array([0.3, 0.2, 0.1])
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

import numpy as np

from sigbench import hookimpl
from sigbench._validate import in_range, positive_float
from sigbench.plugins.dsp._adaptive import AdaptiveFilter

__all__ = ["RLS"]


class RLS(AdaptiveFilter):
    """Recursive-least-squares adaptive FIR filter (numba-compiled loop).

    Parameters
    ----------
    numtaps : int or None, default None
        Number of taps (the newest ``numtaps`` samples of each window); ``None``: the whole window.
    lam : float, default 0.999
        Forgetting factor in (0, 1]; 1 is the growing-window least-squares solution.
    delta : float, default 0.01
        Initial regularisation, > 0: ``P(0) = I / delta`` (in (input units)²).

    Raises
    ------
    ValidationError
        ``numtaps < 1``; ``lam`` outside (0, 1]; ``delta <= 0``; at ``fit``: ``numtaps > window``.
    DivergedError
        The error becomes non-finite or explodes, or ``P`` loses positive definiteness.

    See Also
    --------
    padasip.filters.FilterRLS : same recursion with ``mu=lam, eps=delta``; agrees to rounding.

    Notes
    -----
    Cost: ``2·numtaps² + O(numtaps)`` multiply-accumulates per output sample while adapting; state
    ``P`` of ``numtaps²`` values (saved with the weights, so a loaded filter continues exactly).

    Examples
    --------
    >>> import sigbench as sb
    >>> sb.get_processor("rls")(numtaps=64, lam=0.999, delta=0.01)
    RLS(numtaps=64, lam=0.999, delta=0.01)
    """

    name: ClassVar[str] = "rls"
    kernel_name: ClassVar[str] = "rls"

    def __init__(self, numtaps: int | None = None, lam: float = 0.999, delta: float = 0.01) -> None:
        self.lam = in_range("lam", lam, 0.0, 1.0, low_open=True)
        self.delta = positive_float("delta", delta)
        super().__init__(numtaps=numtaps, lam=lam, delta=delta)

    def _init_extra_state(self, numtaps: int) -> dict[str, np.ndarray]:
        return {"inverse_correlation": np.eye(numtaps) / self.delta}

    def _kernel_args(self) -> tuple[float, ...]:
        return (self.lam,)

    def _stable_range(self, power: float) -> str:
        return (
            f"0 < lam <= 1 with lam close to 1 (received: lam={self.lam!r}); try a larger delta "
            f"(received: delta={self.delta!r}) or lam=1"
        )

    def macs_per_sample(self) -> float:
        """``2·numtaps²`` for ``Px`` and the ``P`` update, ``3·numtaps``, plus ``2·numtaps`` per output."""
        n = self.numtaps
        return float(2 * n * n + 3 * n + 2 * self.weights.size)


@hookimpl
def register_processors(register: Callable[..., None]) -> None:
    """Register ``rls``."""
    register(RLS)
