r"""LMS adaptive FIR filter (``lms``): stochastic-gradient descent on the squared error.

.. math::

    y(k) = \mathbf{w}^T(k)\,\mathbf{x}(k), \qquad e(k) = d(k) - y(k), \qquad
    \mathbf{w}(k+1) = \mathbf{w}(k) + \mu\, e(k)\, \mathbf{x}(k), \qquad \mathbf{w}(0) = \mathbf{0}

Step size. ``mu="auto"`` (the default) sets

.. math::

    \mu = \alpha \cdot \frac{2}{3\,N\,\hat P}, \qquad \alpha = 0.1 \ (\text{``AUTO_FRACTION``}),

with :math:`N` = ``numtaps`` and :math:`\hat P` the mean square of the newest input samples of the first
:math:`\min(\text{rows}, 1000)` training rows, so the step fits the signal's scale (a signal scaled by
:math:`c` gets :math:`\mu / c^2`, the same trajectory of the weights). ``describe()["mu_used"]`` reports it.

Stability. In the mean, :math:`0 < \mu < 2/\lambda_{max}`; the classical range
:math:`0 < \mu < 2/(N\,E[x^2]) = 2/\mathrm{tr}\,\mathbf{R}` is too loose in the mean square: for
independent Gaussian input vectors the mean-square error converges iff
:math:`\sum_i \mu\lambda_i / (2 - 2\mu\lambda_i) < 1` and :math:`\mu < 1/\lambda_{max}`, which
:math:`0 < \mu < 2/(3\,\mathrm{tr}\,\mathbf{R}) = 2/(3\,N\,E[x^2])` guarantees (Horowitz and Senne 1981;
Feuer and Weinstein 1985). With 4 taps on white Gaussian input, 0.6 × the loose bound grows the error by
20–60 dB (flagged by the growth rule of :mod:`._adaptive`); ``mu="auto"`` runs at 0.1 × the tight bound
(misadjustment :math:`M \approx \mu\,\mathrm{tr}\,\mathbf{R}/2 \approx 3\,\%`, a time constant of about
:math:`1/(\mu\lambda)` = 15·N samples for white input). The convergence time falls as
:math:`1/(\mu\lambda_{min})`; with a small :math:`\mu` the weights converge to the Wiener solution
:math:`\mathbf{R}^{-1}\mathbf{p}`.

References: L. L. Horowitz and K. D. Senne, "Performance advantage of complex LMS for controlling
narrow-band adaptive arrays", IEEE Trans. ASSP 29(3):722–736, 1981; A. Feuer and E. Weinstein,
"Convergence analysis of LMS filters with uncorrelated Gaussian data", IEEE Trans. ASSP 33(1):222–230,
1985; S. Haykin, *Adaptive Filter Theory*, 5th ed., ch. 6.

Cost per output sample: :math:`2N` multiply-accumulates (:math:`N` for the output, :math:`N` for the
update) while adapting, :math:`N` frozen. Memory: :math:`N` weights.

Example
-------
>>> import numpy as np, sigbench as sb
>>> rng = np.random.default_rng(0)
>>> x = rng.normal(size=20_000)
>>> d = np.convolve(x, [0.5, -0.25, 0.1])[:x.size]          # unknown system
>>> X = sb.sliding_windows(x, 3)                              # rows end at sample k
>>> lms = sb.get_processor("lms")(numtaps=3).fit(X, d[2:])  # mu="auto"
>>> np.round(lms.weights[0][::-1], 2)                         # newest tap first
array([ 0.5 , -0.25,  0.1 ])
>>> round(lms.describe()["mu_used"] * 3 * 3 * 1.0 / 2, 2)     # 0.1 · 2/(3·N·P̂), P̂ ≈ 1
0.1
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, ClassVar

import numpy as np

from sigbench import hookimpl
from sigbench._validate import positive_float
from sigbench.errors import ValidationError
from sigbench.plugins.dsp._adaptive import SETUP_ROWS, AdaptiveFilter

__all__ = ["AUTO_FRACTION", "LMS", "auto_mu"]

#: ``mu="auto"`` is this fraction of the mean-square stability bound 2/(3·numtaps·P̂)
AUTO_FRACTION = 0.1


class LMS(AdaptiveFilter):
    """Least-mean-squares adaptive FIR filter (numba-compiled loop).

    Parameters
    ----------
    numtaps : int or None, default None
        Number of taps (the newest ``numtaps`` samples of each window); ``None``: the whole window.
    mu : float or "auto", default "auto"
        Step size, > 0, in 1/(input units)². ``"auto"``: :data:`AUTO_FRACTION` × ``2/(3·numtaps·P̂)``, with
        ``P̂`` the mean square of the newest input samples of the first ``min(rows, 1000)`` training rows
        (module notes). Mean-square stable for ``mu < 2/(3·numtaps·E[x²])`` (Gaussian input).

    Raises
    ------
    ValidationError
        ``numtaps < 1`` or not an integer; ``mu`` neither ``"auto"`` nor a finite number > 0; at ``fit``:
        ``numtaps > window``; ``mu="auto"`` on set-up rows whose newest input samples are all zero.
    DivergedError
        While adapting, the error becomes non-finite or explodes, or grows (see :mod:`._adaptive`).

    See Also
    --------
    padasip.filters.FilterLMS : same update; agrees to rounding (``w="zeros"``, ``mu=describe()["mu_used"]``).

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
    >>> sb.get_processor("lms")(numtaps=64)
    LMS(numtaps=64, mu='auto')
    """

    name: ClassVar[str] = "lms"
    kernel_name: ClassVar[str] = "lms"

    def __init__(self, numtaps: int | None = None, mu: float | str = "auto") -> None:
        self.mu: float | str = mu if isinstance(mu, str) and mu == "auto" else positive_float("mu", mu)
        #: the step size in use: ``mu``, or the value ``mu="auto"`` chose at ``fit`` (``nan`` before)
        self.step_size = math.nan if self.mu == "auto" else float(self.mu)
        #: mean square of the newest input samples of the set-up rows (``nan`` before ``fit``)
        self.setup_power = math.nan
        super().__init__(numtaps=numtaps, mu=self.mu)

    def _setup(self, input_power: float, numtaps: int) -> None:
        self.setup_power = input_power
        if self.mu != "auto":
            self.step_size = float(self.mu)
            return
        if not input_power > 0.0:
            raise ValidationError(
                f"expected non-zero input in the first {SETUP_ROWS} training rows to set mu='auto' from their "
                f"power; received: mean square {input_power!r} (give mu=… explicitly)"
            )
        self.step_size = auto_mu(numtaps, input_power)

    def _kernel_args(self) -> tuple[float, ...]:
        return (self.step_size,)

    def _stable_range(self, power: float) -> str:
        bound = 2.0 / (3.0 * self.numtaps * power) if power > 0 else float("inf")
        return (f"0 < mu < 2/(3·numtaps·E[x²]) = {bound:.4g} (mean square, Gaussian input); received: "
                f"mu={self.mu!r}, step {self.step_size:.4g}")

    def get_state(self) -> dict[str, np.ndarray]:
        """The adaptive state plus the step size in use and the set-up input power."""
        state = super().get_state()
        state["step_size"] = np.asarray(self.step_size, dtype=np.float64)
        state["setup_power"] = np.asarray(self.setup_power, dtype=np.float64)
        return state

    def set_state(self, state: dict[str, np.ndarray]) -> None:
        """Restore :meth:`get_state`."""
        state = dict(state)
        self.step_size = float(state.pop("step_size"))
        self.setup_power = float(state.pop("setup_power"))
        super().set_state(state)

    def trainable_params(self) -> int:
        """Number of adapted weights."""
        return int(self.weights.size)

    def macs_per_sample(self) -> float:
        """``2·numtaps`` per output while adapting (``numtaps`` frozen)."""
        return float(2 * self.weights.size)

    def extra_description(self) -> dict[str, Any]:
        """The adaptive filter's description plus ``mu_used`` and the set-up input power ``input_power``."""
        info = super().extra_description()
        info.update({"mu_used": self.step_size, "input_power": self.setup_power,
                     "mu_rule": (f"{AUTO_FRACTION:g} × 2/(3·numtaps·P̂)" if self.mu == "auto" else "given")})
        return info


def auto_mu(numtaps: int, input_power: float) -> float:
    """The ``mu="auto"`` step size: :data:`AUTO_FRACTION` × ``2 / (3 · numtaps · input_power)``.

    Parameters
    ----------
    numtaps : int
        Taps of the filter, ≥ 1.
    input_power : float
        Mean square of the input samples, > 0, in (input units)².

    Returns
    -------
    float
        Step size in 1/(input units)².

    Examples
    --------
    >>> from sigbench.plugins.dsp.lms import auto_mu
    >>> round(auto_mu(64, 1.6), 6)   # the founding signal: three unit sines plus σ² = 0.1
    0.000651
    """
    return AUTO_FRACTION * 2.0 / (3.0 * numtaps * input_power)


@hookimpl
def register_processors(register: Callable[..., None]) -> None:
    """Register ``lms``."""
    register(LMS)
