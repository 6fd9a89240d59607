r"""``ar-kalman``: the model limit of the ``ar`` source — the Kalman predictor with the true model.

The oracle knows the generative model of the window but not its realisation: the AR coefficients
:math:`c_1 … c_p`, the innovation variance :math:`q` and the observation-noise variance :math:`r`
(0 when the source adds none). State-space form, state :math:`\mathbf s_k = (x_k, x_{k-1}, …, x_{k-p+1})`:

.. math::

    \mathbf s_{k+1} = \mathbf F \mathbf s_k + \mathbf e_1 e_{k+1}, \quad
    \mathbf F = \begin{pmatrix} c_1 & \cdots & c_{p-1} & c_p \\ & \mathbf I_{p-1} & & \mathbf 0 \end{pmatrix},
    \qquad y_k = \mathbf e_1^T \mathbf s_k + v_k,

:math:`e_k \sim \mathcal N(0, q)`, :math:`v_k \sim \mathcal N(0, r)`. For each window the Kalman filter starts
from the stationary prior (mean 0, covariance :math:`\mathbf\Sigma = \mathbf F\mathbf\Sigma\mathbf F^T + q\,
\mathbf e_1\mathbf e_1^T`, solved once), runs over the :math:`W` samples and predicts :math:`h` steps on:
:math:`\hat x_{k+h} = \mathbf e_1^T\mathbf F^h \hat{\mathbf s}_{k|k}`. Because the gains do not depend on the
data, the whole predictor is a fixed FIR of the window, computed once at ``fit`` (:func:`kalman_weights`); it
equals the conditional mean :math:`E[x_{k+h} \mid \text{window}]` (:func:`conditional_weights`), the
minimum-mean-square-error estimate from the window for a Gaussian process — no estimator of the window
does better in the mean square. Without observation noise it is the AR recursion itself,
:math:`\hat x_{k+1} = \sum_i c_i x_{k+1-i}`, with error power :math:`q`.

For ``denoise`` the target is :math:`x_k` at the window's end (the filtered estimate) or, ``centered``, at its
centre (the conditional mean, i.e. the fixed-interval smoother).

Cost per output sample: :math:`W` multiply-accumulates (the FIR).

Example
-------
>>> import numpy as np, sigbench as sb
>>> sig = sb.generate("ar", n=3000, seed=0, coefficients=(0.75, -0.5))
>>> X, y = sb.sliding_windows(sig.data[:-1], 8), sig.clean[8:]
>>> oracle = sb.get_processor("ar-kalman").from_metadata(sig.metadata).fit(X, y)
>>> np.round(oracle.weights[-2:], 6)              # newest sample last: c_2, c_1
array([-0.5 ,  0.75])
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any, ClassVar

import numpy as np
from numpy.typing import ArrayLike

from sigbench import hookimpl
from sigbench._validate import one_of, positive_float
from sigbench.errors import ValidationError
from sigbench.plugins.dsp._adaptive import DSPProcessor, predict_linear
from sigbench.plugins.dsp._oracle import target_offset

__all__ = ["ARKalman", "autocovariance", "conditional_weights", "kalman_weights", "stationary_covariance"]


def _companion(coefficients: np.ndarray) -> np.ndarray:
    p = coefficients.size
    f = np.zeros((p, p))
    f[0] = coefficients
    f[1:, :-1] = np.eye(p - 1)
    return f


def stationary_covariance(coefficients: ArrayLike, q: float) -> np.ndarray:
    """Covariance ``Σ`` of the AR state ``(x_k, …, x_{k−p+1})``: ``Σ = F Σ Fᵀ + q e₁e₁ᵀ``, shape ``(p, p)``."""
    import scipy.linalg

    c = np.asarray(coefficients, dtype=np.float64)
    f = _companion(c)
    noise = np.zeros((c.size, c.size))
    noise[0, 0] = q
    return np.asarray(scipy.linalg.solve_discrete_lyapunov(f, noise))


def kalman_weights(coefficients: ArrayLike, q: float, r: float, window: int, target: int) -> np.ndarray:
    """FIR weights ``(window,)`` of the Kalman estimate of ``x`` at ``target`` (index from the window's first
    sample, ``≥ window − 1``) from the ``window`` observations, oldest first.

    The filter starts from the stationary prior; the state estimate is carried as a linear map of the window
    (``p × window``), so the weights are exact, not fitted.
    """
    c = np.asarray(coefficients, dtype=np.float64)
    p = c.size
    f = _companion(c)
    cov = stationary_covariance(c, q)
    gain_map = np.zeros((p, window))          # state estimate = gain_map @ window
    for j in range(window):
        if j > 0:
            gain_map = f @ gain_map
            cov = f @ cov @ f.T
            cov[0, 0] += q
        innovation_var = cov[0, 0] + r
        if innovation_var <= 0.0:
            raise ValidationError("expected a positive innovation variance in the Kalman filter; received: 0")
        gain = cov[:, 0] / innovation_var
        row = -gain_map[0].copy()
        row[j] += 1.0
        gain_map = gain_map + np.outer(gain, row)
        cov = cov - np.outer(gain, cov[0])
    ahead = target - (window - 1)
    if ahead < 0:
        raise ValidationError(f"expected a target at or after the window's last sample; received: target={target}")
    return np.asarray(np.linalg.matrix_power(f, ahead)[0] @ gain_map)


def autocovariance(coefficients: ArrayLike, q: float, lags: int) -> np.ndarray:
    """Autocovariance ``γ(0) … γ(lags−1)`` of the stationary AR process, ``γ(k) = (Fᵏ Σ)[0, 0]``."""
    c = np.asarray(coefficients, dtype=np.float64)
    f = _companion(c)
    state = stationary_covariance(c, q)
    gamma = np.empty(lags)
    for k in range(lags):
        gamma[k] = state[0, 0]
        state = f @ state
    return gamma


def conditional_weights(coefficients: ArrayLike, q: float, r: float, window: int, target: int) -> np.ndarray:
    """Weights ``(window,)`` of ``E[x_target | window]`` for the stationary AR process (Gaussian conditioning),
    for any ``target`` index (inside the window too): ``Σ_yy⁻¹ Σ_y,target``."""
    gamma = autocovariance(coefficients, q, max(window, target + 1))
    idx = np.arange(window)
    cyy = gamma[np.abs(idx[:, None] - idx[None, :])] + r * np.eye(window)
    cyx = gamma[np.abs(idx - target)]
    return np.asarray(np.linalg.solve(cyy, cyx))


class ARKalman(DSPProcessor):
    """Model limit of ``ar``: the Kalman (minimum-mean-square-error) estimate from the window, true model known.

    The constructor takes the ``ar`` source's parameters by their names; :meth:`from_metadata` builds it from
    a signal's metadata.

    Parameters
    ----------
    coefficients : sequence of float, default (0.75, −0.5)
        AR coefficients ``c_1 … c_p`` (``x[k] = Σ c_i x[k−i] + e[k]``), a stable process.
    noise_std : float, default 1.0
        Standard deviation of the innovation ``e`` (√q), in signal units.
    snr_db : float, default inf
        The source's observation SNR (dB); ``inf``: no observation noise.
    noise_convention : {"true", "sigma"}, default "true"
        ``"true"``: r = γ(0) / 10^(snr_db/10) with γ(0) the process variance; ``"sigma"``: r = 10^(−snr_db/10).
    observation_noise_std : float, optional
        √r itself (``metadata["noise_std"]`` of a generated signal); overrides ``snr_db``.

    Raises
    ------
    ValidationError
        Empty, non-finite or unstable coefficients, ``noise_std <= 0``; at ``fit``: a task other than
        ``predict``/``denoise``, 2-D targets.

    Notes
    -----
    Nothing is learnt from the training rows (``stateless``): the weights come from the model at ``fit``,
    where the window, the task and the horizon (``context``) are known.

    Examples
    --------
    >>> import sigbench as sb
    >>> sb.get_processor("ar-kalman")(coefficients=(0.9,), noise_std=0.5).get_params()["coefficients"]
    [0.9]
    """

    name: ClassVar[str] = "ar-kalman"
    stateless: ClassVar[bool] = True
    deterministic: ClassVar[bool] = True
    #: the tasks it serves (the engine adds the model-limit row only to these)
    tasks: ClassVar[tuple[str, ...]] = ("predict", "denoise")

    def __init__(self, coefficients: Sequence[float] = (0.75, -0.5), noise_std: float = 1.0, *,
                 snr_db: float = math.inf, noise_convention: str = "true",
                 observation_noise_std: float | None = None) -> None:
        try:
            coefs = np.asarray([float(c) for c in coefficients], dtype=np.float64)
        except (TypeError, ValueError):
            raise ValidationError(
                f"expected coefficients to be numbers; received: coefficients={coefficients!r}") from None
        if coefs.size == 0 or not np.isfinite(coefs).all():
            raise ValidationError(f"expected finite AR coefficients; received: coefficients={coefficients!r}")
        radius = float(np.max(np.abs(np.roots(np.concatenate([[1.0], -coefs])))))
        if not radius < 1.0:
            raise ValidationError(f"expected a stable AR process; received: coefficients={coefficients!r} "
                                  f"(largest root modulus {radius:.6g})")
        self.coefficients = coefs
        self.q = positive_float("noise_std", noise_std) ** 2
        snr = float(snr_db)
        if math.isnan(snr) or snr == -math.inf:
            raise ValidationError(f"expected snr_db to be a number or inf; received: snr_db={snr_db!r}")
        convention = one_of("noise_convention", noise_convention, ("true", "sigma"))
        if observation_noise_std is not None:
            self.r = positive_float("observation_noise_std", observation_noise_std, allow_zero=True) ** 2
        elif math.isinf(snr):
            self.r = 0.0
        elif convention == "sigma":
            self.r = 10.0 ** (-snr / 10.0)
        else:
            self.r = float(stationary_covariance(coefs, self.q)[0, 0]) / 10.0 ** (snr / 10.0)
        self.weights = np.zeros(0)
        self.target_offset = 1
        super().__init__(coefficients=coefs.tolist(), noise_std=noise_std, snr_db=snr_db,
                         noise_convention=convention, observation_noise_std=observation_noise_std)

    @classmethod
    def from_metadata(cls, metadata: Mapping[str, Any]) -> ARKalman:
        """Build the oracle of an ``ar`` signal from its ``metadata``: ``params`` (coefficients, innovation
        ``noise_std``, ``snr_db``, ``noise_convention``) and ``metadata["noise_std"]``, the observation noise σ
        the source used (0 without observation noise); never the seed or the length."""
        params = dict(metadata.get("params") or {})
        kwargs = {k: params[k] for k in ("coefficients", "noise_std", "snr_db", "noise_convention") if k in params}
        sigma = metadata.get("noise_std")
        return cls(**kwargs, observation_noise_std=None if sigma is None else float(sigma))

    def _fit(self, inputs: np.ndarray, targets: np.ndarray) -> None:
        self.target_offset = target_offset(self.name, inputs, targets, self.context)
        window = int(inputs.shape[1])
        if self.target_offset >= window - 1:
            self.weights = kalman_weights(self.coefficients, self.q, self.r, window, self.target_offset)
        else:
            self.weights = conditional_weights(self.coefficients, self.q, self.r, window, self.target_offset)

    def _predict(self, inputs: np.ndarray) -> np.ndarray:
        return predict_linear(inputs, self.weights[None, :])[:, 0]

    def expected_error_power(self) -> float:
        """The oracle's error power on the clean target, from the model: ``γ(0) − wᵀ Σ_y,target``."""
        window = self.weights.size
        gamma = autocovariance(self.coefficients, self.q, max(window, self.target_offset + 1))
        cyx = gamma[np.abs(np.arange(window) - self.target_offset)]
        return float(gamma[0] - self.weights @ cyx)

    def get_state(self) -> dict[str, np.ndarray]:
        """The FIR weights ``(window,)`` and the target's offset from the window's first sample."""
        return {"weights": self.weights, "target_offset": np.asarray(self.target_offset, dtype=np.int64)}

    def set_state(self, state: dict[str, np.ndarray]) -> None:
        """Restore :meth:`get_state`."""
        self.weights = np.asarray(state["weights"], dtype=np.float64)
        self.target_offset = int(state["target_offset"])

    def trainable_params(self) -> int:
        """Nothing is learnt from the data."""
        return 0

    def macs_per_sample(self) -> float:
        """``window`` (the FIR)."""
        return float(self.weights.size)

    def extra_description(self) -> dict[str, Any]:
        """The known model (q, r), the target offset and the model's error power."""
        return {"innovation_variance": self.q, "observation_noise_variance": self.r,
                "target_offset": self.target_offset, "expected_error_power": self.expected_error_power(),
                "estimates": "nothing (coefficients and noise variances known; Kalman from the stationary prior)"}


@hookimpl
def register_processors(register: Callable[..., None]) -> None:
    """Register ``ar-kalman``."""
    register(ARKalman)
