r"""``sines-ml``: the model limit of the ``sines`` and ``tones`` sources — maximum-likelihood phases, extrapolated.

The oracle knows the generative model of the window but not its realisation: the angular frequencies
:math:`\Omega_i` (rad/sample), the amplitudes :math:`a_i` and the white Gaussian noise level :math:`\sigma`;
it does **not** know the phases at the window, nor that consecutive windows lie on one trajectory. For a
window :math:`x_j`, :math:`j = 0 … W-1` (oldest first),

.. math::

    x_j = s_j(\boldsymbol\phi) + w_j, \qquad s_j(\boldsymbol\phi) = \sum_{i=1}^{K} a_i \sin(\Omega_i j + \phi_i),
    \qquad w_j \sim \mathcal N(0, \sigma^2),

the log-likelihood is :math:`-\lVert \mathbf x - \mathbf s(\boldsymbol\phi)\rVert^2 / (2\sigma^2)` + const, so
the maximum-likelihood phases are the nonlinear least-squares fit (whatever :math:`\sigma`):

.. math::

    \hat{\boldsymbol\phi} = \arg\min_{\boldsymbol\phi} \lVert \mathbf x - \mathbf s(\boldsymbol\phi)\rVert^2,
    \qquad \hat y = s_\tau(\hat{\boldsymbol\phi}),

with :math:`\tau = W - 1 + h` for ``predict`` (:math:`h` = the run's horizon, ``context.horizon``), and
:math:`\tau = W - 1` or :math:`\lfloor W/2 \rfloor` (``centered``) for ``denoise``. The amplitudes are known,
not estimated: the estimator is nonlinear (phases on circles of known radius), unlike a least-squares fit
of amplitude and phase, which is a linear FIR.

Solver: the unconstrained linear least-squares fit of :math:`a_i\cos\phi_i, a_i\sin\phi_i` gives the
starting phases; then Levenberg–Marquardt on :math:`\boldsymbol\phi` (Jacobian
:math:`J_{ji} = a_i\cos(\Omega_i j + \phi_i)`), a step kept only where it lowers the squared error, at most
``iterations`` steps, for all rows at once.

Cramér–Rao limit (derived in ``docs/limits.md``): the Fisher information of the phases is
:math:`\mathbf I(\boldsymbol\phi) = \mathbf J^T\mathbf J / \sigma^2`; any unbiased estimator of the target
:math:`g(\boldsymbol\phi) = s_\tau(\boldsymbol\phi)` has error variance at least
:math:`\nabla g^T \mathbf I^{-1} \nabla g` with :math:`\partial g / \partial\phi_i = a_i\cos(\Omega_i\tau + \phi_i)`
(:func:`phase_crb`). For frequencies resolved by the window (:math:`\mathbf J^T\mathbf J \approx
\mathrm{diag}(a_i^2 W/2)`) and phases uniform, it averages to :math:`K\sigma^2/W`, independent of the
amplitudes — half the :math:`2K\sigma^2/W` of the linear fit that must also estimate the amplitudes.

Cost per output sample: about ``iterations`` × :math:`(3WK + WK^2)` multiply-accumulates plus the
starting fit :math:`2WK` (window 64, 3 sines, 20 iterations: ≈ 16 000).

Example
-------
>>> import numpy as np, sigbench as sb
>>> sig = sb.generate("sines", n=600, seed=0, snr_db=20)
>>> X, y = sb.sliding_windows(sig.data[:-1], 64), sig.clean[64:]
>>> oracle = sb.get_processor("sines-ml").from_metadata(sig.metadata).fit(X, y)
>>> bool(np.mean((oracle.predict(X) - y) ** 2) < 1e-3)
True
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any, ClassVar

import numpy as np

from sigbench import hookimpl
from sigbench._validate import finite_float, one_of, positive_float, positive_int
from sigbench.errors import ValidationError
from sigbench.plugins.dsp._adaptive import CHUNK_ROWS, DSPProcessor
from sigbench.plugins.dsp._oracle import target_offset

__all__ = ["SinesML", "ml_phases", "phase_crb"]

_FOUNDING_FREQUENCIES = (1.0, math.pi / 2.0, -3.0 * math.pi / 2.0)


def _design(omegas: np.ndarray, window: int) -> np.ndarray:
    """``Ω_i · j`` for ``j = 0 … window−1``: shape ``(window, K)``."""
    return np.arange(window, dtype=np.float64)[:, None] * omegas[None, :]


def ml_phases(x: np.ndarray, omegas: np.ndarray, amplitudes: np.ndarray, *, iterations: int = 20) -> np.ndarray:
    """Maximum-likelihood phases of ``Σ a_i sin(Ω_i j + φ_i)`` in white Gaussian noise, one set per row.

    Parameters
    ----------
    x : ndarray, shape ``(rows, window)``
        Windows, oldest sample first.
    omegas : ndarray, shape ``(K,)``
        Angular frequencies in rad/sample.
    amplitudes : ndarray, shape ``(K,)``
        Known amplitudes, in the units of ``x``.
    iterations : int, default 20
        Levenberg–Marquardt steps at most.

    Returns
    -------
    ndarray, shape ``(rows, K)``
        Phases φ_i in radians, in ``(−π, π]``, at the window's first sample (``j = 0``).
    """
    x = np.asarray(x, dtype=np.float64)
    window = x.shape[1]
    theta = _design(omegas, window)                                   # (W, K)
    basis = np.concatenate([np.sin(theta), np.cos(theta)], axis=1)   # (W, 2K): a cos φ, a sin φ
    coef = x @ np.linalg.pinv(basis).T                                # (rows, 2K)
    k = omegas.size
    phi = np.arctan2(coef[:, k:], coef[:, :k])                        # start: the unconstrained fit's phases
    amp = amplitudes[None, None, :]

    def residual(p: np.ndarray) -> np.ndarray:
        return x - np.sum(amp * np.sin(theta[None] + p[:, None, :]), axis=2)

    r = residual(phi)
    cost = np.einsum("rw,rw->r", r, r)
    damping = np.full(x.shape[0], 1e-3)
    eye = np.eye(k)
    done = np.zeros(x.shape[0], dtype=bool)  # per row: its result never depends on the other rows of the call
    for _ in range(iterations):
        jac = amp * np.cos(theta[None] + phi[:, None, :])             # (rows, W, K)
        jtj = np.einsum("rwi,rwk->rik", jac, jac)
        grad = np.einsum("rwi,rw->ri", jac, r)
        scale = np.einsum("rii->ri", jtj)
        step = np.linalg.solve(jtj + damping[:, None, None] * (eye * scale[:, None, :] + 1e-12 * eye),
                               grad[..., None])[..., 0]
        trial = phi + step
        r_trial = residual(trial)
        cost_trial = np.einsum("rw,rw->r", r_trial, r_trial)
        better = (cost_trial < cost) & ~done
        phi = np.where(better[:, None], trial, phi)
        r = np.where(better[:, None], r_trial, r)
        moved = np.abs(cost - cost_trial)
        cost = np.where(better, cost_trial, cost)
        damping = np.where(better, damping / 3.0, np.where(done, damping, damping * 4.0))
        done |= better & (moved <= 1e-14 * (1.0 + cost))  # converged: frozen from now on
        if done.all():
            break
    return np.angle(np.exp(1j * phi))


def phase_crb(phases: np.ndarray, omegas: np.ndarray, amplitudes: np.ndarray, noise_std: float, window: int,
              target: int) -> np.ndarray:
    """Cramér–Rao bound on the error variance of ``s_target`` estimated from one window, at the true phases.

    Parameters
    ----------
    phases : ndarray, shape ``(rows, K)``
        True phases at the window's first sample, radians.
    omegas, amplitudes : ndarray, shape ``(K,)``
        Angular frequencies (rad/sample) and amplitudes, known.
    noise_std : float
        Standard deviation σ of the white Gaussian noise, in signal units.
    window : int
        Samples per window ``W``.
    target : int
        Index ``τ`` of the estimated sample, counted from the window's first sample (``W − 1 + h`` to
        predict ``h`` ahead).

    Returns
    -------
    ndarray, shape ``(rows,)``
        ``∇gᵀ (JᵀJ/σ²)⁻¹ ∇g`` in (signal units)²: the least error power of any unbiased estimator.
    """
    phases = np.atleast_2d(np.asarray(phases, dtype=np.float64))
    theta = _design(omegas, window)
    jac = amplitudes[None, None, :] * np.cos(theta[None] + phases[:, None, :])
    fisher = np.einsum("rwi,rwk->rik", jac, jac)
    grad = amplitudes[None, :] * np.cos(omegas[None, :] * target + phases)
    x = np.linalg.pinv(fisher) @ grad[..., None]
    return float(noise_std) ** 2 * np.einsum("ri,ri->r", grad, x[..., 0])


class SinesML(DSPProcessor):
    """Model limit of ``sines``/``tones``: maximum-likelihood phases from the window, frequencies and amplitudes
    known, extrapolated to the target.

    The constructor takes the source's own parameters by their names: ``frequencies_rad_s`` and ``step_s``
    (``sines``) or ``frequencies_hz`` and ``sample_rate_hz`` (``tones``), ``amplitudes``, ``snr_db``,
    ``noise_convention``; :meth:`from_metadata` builds it from a signal's metadata.

    Parameters
    ----------
    frequencies_rad_s : sequence of float, optional
        Angular frequencies in rad/s (``sines``); default the founding ones (1, π/2, −3π/2) unless
        ``frequencies_hz`` is given.
    step_s : float, default 0.1
        Sampling step in seconds, with ``frequencies_rad_s``.
    frequencies_hz : sequence of float, optional
        Frequencies in Hz (``tones``), with ``sample_rate_hz``.
    sample_rate_hz : float, optional
        Sampling rate in Hz, with ``frequencies_hz``.
    amplitudes : sequence of float, default (1,)
        Amplitudes (one value, broadcast, or one per frequency), in signal units.
    snr_db : float, default 10.0
        The source's SNR (dB), for the noise level σ (used only by the Cramér–Rao limit in ``describe()``;
        the maximum-likelihood phases do not depend on σ).
    noise_convention : {"sigma", "true"}, default "sigma"
        ``"sigma"``: σ = 10^(−snr_db/20); ``"true"``: σ² = (Σ a_i²/2) / 10^(snr_db/10).
    observation_noise_std : float, optional
        σ itself (``metadata["noise_std"]`` of a generated signal); overrides ``snr_db``.
    iterations : int, default 20
        Levenberg–Marquardt steps at most.

    Raises
    ------
    ValidationError
        Both or neither frequency form fully given, a frequency at or above Nyquist, amplitudes of the wrong
        length, invalid numbers; at ``fit``: a task other than ``predict``/``denoise``, 2-D targets.

    Notes
    -----
    Nothing is learnt from the training rows (``stateless``). ``describe()`` adds ``crb_error_power``: the
    Cramér–Rao limit of the error power averaged over 256 seeded uniform phase draws, for this window and
    target, and ``crb_snr_db`` = 10·log10(Σ a_i²/2 / that).

    Examples
    --------
    >>> import sigbench as sb
    >>> sb.get_processor("sines-ml")(amplitudes=(1.0,), snr_db=10).get_params()["snr_db"]
    10
    """

    name: ClassVar[str] = "sines-ml"
    stateless: ClassVar[bool] = True
    deterministic: ClassVar[bool] = True
    #: the tasks it serves (the engine adds the model-limit row only to these)
    tasks: ClassVar[tuple[str, ...]] = ("predict", "denoise")

    def __init__(self, frequencies_rad_s: Sequence[float] | None = None, step_s: float | None = None, *,
                 frequencies_hz: Sequence[float] | None = None, sample_rate_hz: float | None = None,
                 amplitudes: Sequence[float] = (1.0,), snr_db: float = 10.0, noise_convention: str = "sigma",
                 observation_noise_std: float | None = None, iterations: int = 20) -> None:
        if frequencies_hz is not None:
            if frequencies_rad_s is not None or sample_rate_hz is None:
                raise ValidationError(
                    "expected frequencies_hz with sample_rate_hz, or frequencies_rad_s with step_s; received: "
                    f"frequencies_hz={frequencies_hz!r}, sample_rate_hz={sample_rate_hz!r}, "
                    f"frequencies_rad_s={frequencies_rad_s!r}")
            rate = positive_float("sample_rate_hz", sample_rate_hz)
            omegas = [2.0 * math.pi * finite_float("frequencies_hz", f) / rate for f in frequencies_hz]
        else:
            step = positive_float("step_s", 0.1 if step_s is None else step_s)
            freqs = _FOUNDING_FREQUENCIES if frequencies_rad_s is None else frequencies_rad_s
            omegas = [finite_float("frequencies_rad_s", w) * step for w in freqs]
        if not omegas:
            raise ValidationError("expected at least one frequency; received: none")
        for w in omegas:
            if abs(w) >= math.pi:
                raise ValidationError(f"expected every frequency below Nyquist; received: {w:g} rad/sample")
        amps = [finite_float("amplitudes", a) for a in amplitudes]
        if len(amps) == 1:
            amps = amps * len(omegas)
        if len(amps) != len(omegas):
            raise ValidationError(f"expected one amplitude or one per frequency ({len(omegas)}); "
                                  f"received: amplitudes={tuple(amplitudes)!r}")
        snr = float(snr_db)
        if math.isnan(snr) or snr == -math.inf:
            raise ValidationError(f"expected snr_db to be a number or inf; received: snr_db={snr_db!r}")
        convention = one_of("noise_convention", noise_convention, ("sigma", "true"))
        self.omegas = np.asarray(omegas, dtype=np.float64)
        self.amplitudes = np.asarray(amps, dtype=np.float64)
        if observation_noise_std is not None:
            self.noise_std = positive_float("observation_noise_std", observation_noise_std, allow_zero=True)
        elif math.isinf(snr):
            self.noise_std = 0.0
        elif convention == "sigma":
            self.noise_std = 10.0 ** (-snr / 20.0)
        else:
            self.noise_std = math.sqrt(float(np.sum(self.amplitudes**2)) / 2.0 / 10.0 ** (snr / 10.0))
        self.iterations = positive_int("iterations", iterations)
        self.target_offset = 1
        super().__init__(frequencies_rad_s=_floats(frequencies_rad_s), step_s=step_s,
                         frequencies_hz=_floats(frequencies_hz),
                         sample_rate_hz=sample_rate_hz, amplitudes=[float(a) for a in amplitudes], snr_db=snr_db,
                         noise_convention=convention, observation_noise_std=observation_noise_std,
                         iterations=self.iterations)

    @classmethod
    def from_metadata(cls, metadata: Mapping[str, Any]) -> SinesML:
        """Build the oracle of a ``sines`` or ``tones`` signal from its ``metadata`` (``params`` and ``noise_std``).

        Only the model's parameters are taken (frequencies, sampling, amplitudes, SNR); the seed, the length and
        the tones' phases — the realisation — are not. ``metadata["noise_std"]``, the σ the source used, is
        passed as ``observation_noise_std``.
        """
        params = dict(metadata.get("params") or {})
        names = ("frequencies_rad_s", "step_s", "frequencies_hz", "sample_rate_hz", "amplitudes", "snr_db",
                 "noise_convention")
        if "frequencies_hz" not in params:
            params.pop("sample_rate_hz", None)
        kwargs = {k: params[k] for k in names if k in params}
        sigma = metadata.get("noise_std")
        return cls(**kwargs, observation_noise_std=None if sigma is None else float(sigma))

    def _fit(self, inputs: np.ndarray, targets: np.ndarray) -> None:
        self.target_offset = target_offset(self.name, inputs, targets, self.context)

    def _predict(self, inputs: np.ndarray) -> np.ndarray:
        out = np.empty(inputs.shape[0])
        for start in range(0, inputs.shape[0], CHUNK_ROWS // 8):
            stop = min(start + CHUNK_ROWS // 8, inputs.shape[0])
            phi = ml_phases(np.asarray(inputs[start:stop], dtype=np.float64), self.omegas, self.amplitudes,
                            iterations=self.iterations)
            out[start:stop] = np.sin(self.omegas[None, :] * self.target_offset + phi) @ self.amplitudes
        return out

    def get_state(self) -> dict[str, np.ndarray]:
        """The target's offset from the window's first sample (set at ``fit`` from the task)."""
        return {"target_offset": np.asarray(self.target_offset, dtype=np.int64)}

    def set_state(self, state: dict[str, np.ndarray]) -> None:
        """Restore :meth:`get_state`."""
        self.target_offset = int(state["target_offset"])

    def trainable_params(self) -> int:
        """Nothing is learnt from the data."""
        return 0

    def macs_per_sample(self) -> float:
        """About ``iterations · (3WK + WK²) + 2WK`` (module notes)."""
        window, k = int(self.input_window or 0), int(self.omegas.size)
        return float(self.iterations * (3 * window * k + window * k * k) + 2 * window * k)

    def crb_error_power(self, draws: int = 256) -> float:
        """Cramér–Rao limit of the error power for this window and target, averaged over uniform phases."""
        window = int(self.input_window or 0)
        phases = np.random.default_rng(0).uniform(-math.pi, math.pi, size=(draws, self.omegas.size))
        return float(np.mean(phase_crb(phases, self.omegas, self.amplitudes, self.noise_std, window,
                                       self.target_offset)))

    def extra_description(self) -> dict[str, Any]:
        """The known model (rad/sample, amplitudes, σ), the target offset and the Cramér–Rao limit."""
        crb = self.crb_error_power()
        power = float(np.sum(self.amplitudes**2) / 2.0)
        return {"omegas_rad_per_sample": self.omegas.tolist(), "amplitudes_used": self.amplitudes.tolist(),
                "noise_std": self.noise_std, "target_offset": self.target_offset,
                "estimates": "phases (frequencies, amplitudes and noise level known)",
                "crb_error_power": crb,
                "crb_snr_db": 10.0 * math.log10(power / crb) if crb > 0 else math.inf}


def _floats(values: Sequence[float] | None) -> list[float] | None:
    return None if values is None else [float(v) for v in values]


@hookimpl
def register_processors(register: Callable[..., None]) -> None:
    """Register ``sines-ml``."""
    register(SinesML)
