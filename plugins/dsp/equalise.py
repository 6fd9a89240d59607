r"""Channel equalisers beyond the linear FIR: decision feedback (``dfe``) and maximum-likelihood sequence
estimation by the Viterbi algorithm (``mlse``, the optimum for a known channel).

Row convention (the ``equalise`` task): row :math:`r` is the window of received samples ending at
:math:`y[k]`, :math:`k = r + W - 1`; its target is the transmitted symbol :math:`a[k-D]` at decision
delay :math:`D`; rows are consecutive (hop 1), so the previous row's target is :math:`a[k-D-1]`.

DFE — feed-forward filter on the received window, feedback filter on past decisions:

.. math::

    z[k] = \sum_{j=0}^{N_f-1} f_j\, y[k-j] \;+\; \sum_{i=1}^{N_b} g_i\, \hat a[k-D-i], \qquad
    \hat a[k-D] = \mathrm{dec}(z[k]),

adapted by LMS (:math:`\mathbf w \mathrel{+}= \mu e \mathbf u`, stable for
:math:`0 < \mu < 2/\mathrm{tr}\,\mathbf R`) or exponentially weighted RLS (forgetting factor
:math:`\lambda`, :math:`P(0) = I/\delta`) on :math:`e = a - z`. ``fit`` trains on the preamble — the
training rows, whose targets are the known symbols, which also fill the feedback — for ``passes``
passes (the last one recorded as a learning curve, ``describe()["convergence"]``); ``predict`` runs
decision-directed: the feedback holds the slicer's decisions and, with
``decision_directed=True``, the weights keep adapting on :math:`e = \hat a - z`. A ``predict`` call
starts from the fitted weights and an empty (zero) feedback — so predicting the same rows twice gives the
same output — unless its first window continues the previous call's last window by one sample (the next rows
of the same stream, as a run reading a file predicts them block by block): then the feedback and the
decision-directed weights carry on, and the blocks give the one-pass result. The output is the
soft value :math:`z[k]` (the task applies the decision). Cost per output sample: :math:`N` (frozen),
:math:`2N` (LMS) or :math:`2N^2 + O(N)` (RLS) multiply-accumulates, :math:`N = N_f + N_b`.

MLSE — the channel :math:`y[k] = f\big(\sum_{i=0}^{L-1} h_i a[k-i]\big) + w[k]` is a finite-state
machine with :math:`M^{L-1}` states (the last :math:`L-1` symbols); in white Gaussian noise the most
likely symbol sequence minimises :math:`\sum_k (y[k] - \hat y_k)^2` over trellis paths, found exactly by
the Viterbi algorithm (Forney, 1972). The channel is ``taps`` when given (the source's
``metadata["channel"]["taps"]``: the optimum), else estimated by least squares from the training
rows; the decision delay :math:`D` is ``delay`` or the one whose aligned symbols explain the training
stream best. ``predict`` decodes the whole received stream behind the rows (unknown start state, full
traceback) and returns :math:`\hat a[k-D]` per row — hard decisions. It uses samples after a row's
window (the traceback), so it is tagged ``causal = False``. Cost per output sample: :math:`M^L`
squared-error branch metrics; memory :math:`M^{L-1}` survivors per sample.

Example
-------
>>> import numpy as np, sigbench as sb
>>> sig = sb.generate("channel", n=6000, channel="proakis-b", ebn0_db=12, seed=0)
>>> X, a = sb.sliding_windows(sig.data, 8), sig.clean[7 - 4:-4]        # decision delay D = 4
>>> mlse = sb.get_processor("mlse")(taps=(0.407, 0.815, 0.407), delay=4).fit(X[:3000], a[:3000])
>>> float(np.mean(mlse.predict(X[3000:]) != a[3000:])) < 0.01
True
"""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from sigbench import hookimpl
from sigbench._validate import in_range, one_of, positive_float, positive_int
from sigbench.errors import DivergedError, ValidationError
from sigbench.metrics_comms import pam_alphabet
from sigbench.plugins.dsp._adaptive import (
    CONVERGENCE_BLOCKS,
    CONVERT_ROWS,
    DIVERGENCE_FACTOR,
    DSPProcessor,
    optional_numtaps,
    resolve_numtaps,
)
from sigbench.plugins.dsp.wiener import is_stream, stream_of

__all__ = ["DFE", "MLSE", "estimate_channel", "trellis"]

ALGORITHMS = ("lms", "rls")
#: most trellis states × samples the Viterbi keeps survivors for (2 bytes each)
MAX_SURVIVORS = 200_000_000
#: most trellis states (M^(L−1))
MAX_STATES = 4096


def _kernels() -> Any:
    from sigbench.plugins.dsp import _equalise_kernels

    return _equalise_kernels


def _scalar_targets(name: str, targets: np.ndarray) -> np.ndarray:
    if targets.ndim == 2 and targets.shape[1] != 1:
        raise ValidationError(f"expected one symbol target per row for {name}; received: targets.shape="
                              f"{targets.shape}")
    return np.ascontiguousarray(targets.reshape(-1), dtype=np.float64)


def _continues(last_row: np.ndarray, inputs: np.ndarray) -> bool:
    """Whether ``inputs``' first window is ``last_row`` shifted by one sample (the next row of the same stream)."""
    if inputs.ndim != 2 or inputs.shape[0] == 0 or inputs.shape[1] != last_row.size:
        return False
    return bool(np.array_equal(np.asarray(inputs[0, :-1], dtype=np.float64), last_row[1:]))


def _run_alphabet(levels: int | None, context: Any) -> np.ndarray:
    """The slicer's alphabet: M-PAM of ``levels`` when given, else the run's (``context.alphabet``), else BPSK."""
    if levels is not None:
        return pam_alphabet(levels)
    given = tuple(getattr(context, "alphabet", ()) or ())
    return np.sort(np.asarray(given, dtype=np.float64)) if len(given) >= 2 else pam_alphabet(2)


def _poly(values: Any) -> tuple[float, ...]:
    from sigbench.datasets._common import float_tuple

    return float_tuple("poly_coefficients", values, min_len=0)


class DFE(DSPProcessor):
    """Decision-feedback equaliser: LMS- or RLS-adapted feed-forward and feedback filters.

    Parameters
    ----------
    numtaps : int or None, default None
        Feed-forward taps :math:`N_f` (the newest samples of each window); ``None``: the whole window.
    feedback_taps : int, default 2
        Feedback taps :math:`N_b` ≥ 0 (past decisions; ``L − 1 − D`` cancel a channel of ``L`` taps'
        post-cursor ISI when the decision delay is ``D``). 0 gives an adaptive linear equaliser.
    levels : int or None, default None
        M of the M-PAM alphabet {±1, ±3, …, ±(M−1)} the slicer decides on (2: BPSK); ``None``: the run's
        alphabet (``context.alphabet``, the ``equalise`` task's), BPSK when fitted by hand.
    algorithm : {"rls", "lms"}, default "rls"
        Adaptation rule.
    mu : float, default 0.01
        LMS step size (> 0), in 1/(input units)².
    lam : float, default 0.999
        RLS forgetting factor, in (0, 1].
    delta : float, default 0.01
        RLS initialisation :math:`P(0) = I/\\delta` (> 0).
    passes : int, default 1
        Passes over the training rows (the preamble), ≥ 1.
    decision_directed : bool, default True
        Keep adapting during ``predict`` on the slicer's decisions.

    Raises
    ------
    ValidationError
        An invalid parameter; at ``fit``: ``numtaps > window`` or 2-D targets.
    DivergedError
        The error became non-finite or larger than ``DIVERGENCE_FACTOR`` (10⁶) times the largest symbol
        level (LMS step too large).

    Notes
    -----
    ``predict`` returns the soft output :math:`z` (shape ``(rows,)``); the slicer's decisions are
    ``sigbench.metrics_comms.decide``. The rows must be consecutive (hop 1) for the feedback to hold the
    previous symbols.

    Examples
    --------
    >>> import sigbench as sb
    >>> sb.get_processor("dfe")(numtaps=8, feedback_taps=2).get_params()["algorithm"]
    'rls'
    """

    name: ClassVar[str] = "dfe"
    family: ClassVar[str] = "dsp"
    online: ClassVar[bool] = False
    causal: ClassVar[bool] = True
    deterministic: ClassVar[bool] = True

    def __init__(self, numtaps: int | None = None, feedback_taps: int = 2, levels: int | None = None,
                 algorithm: str = "rls",
                 mu: float = 0.01, lam: float = 0.999, delta: float = 0.01, passes: int = 1,
                 decision_directed: bool = True) -> None:
        self.numtaps_param = optional_numtaps(numtaps)
        self.feedback_taps = positive_int("feedback_taps", feedback_taps, minimum=0)
        self.levels_param = None if levels is None else positive_int("levels", levels, minimum=2)
        self.alphabet = pam_alphabet(self.levels_param or 2)
        self.algorithm = one_of("algorithm", algorithm, ALGORITHMS)
        self.mu = positive_float("mu", mu)
        self.lam = in_range("lam", lam, 0.0, 1.0, low_open=True)
        self.delta = positive_float("delta", delta)
        self.passes = positive_int("passes", passes)
        if not isinstance(decision_directed, (bool, np.bool_)):
            raise ValidationError(f"expected decision_directed to be true or false; received: "
                                  f"decision_directed={decision_directed!r}")
        self.decision_directed = bool(decision_directed)
        super().__init__(numtaps=numtaps, feedback_taps=feedback_taps, levels=levels, algorithm=algorithm, mu=mu,
                         lam=lam, delta=delta, passes=passes, decision_directed=decision_directed)
        self.weights = np.zeros(0)
        self.inverse_correlation = np.zeros((0, 0))
        self.feedforward_taps = 0
        self.convergence: dict[str, Any] | None = None
        #: (last window, weights, P, feedback) after the latest predict calls: what a continuing call resumes
        self._carries: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []

    def _run(self, inputs: np.ndarray, d: np.ndarray, w: np.ndarray, p: np.ndarray, fb: np.ndarray, train: bool,
             adapt: bool) -> np.ndarray:
        x = inputs[:, inputs.shape[1] - self.feedforward_taps:]
        z = np.empty(x.shape[0])
        run = _kernels().dfe_run
        limit = DIVERGENCE_FACTOR * float(np.max(np.abs(self.alphabet)))
        # a float32 view is converted one block of rows at a time (the state carries across blocks)
        step = x.shape[0] if x.dtype == np.float64 else CONVERT_ROWS
        for start in range(0, x.shape[0], step):
            stop = min(start + step, x.shape[0])
            block = x[start:stop] if x.dtype == np.float64 else x[start:stop].astype(np.float64)
            bad = run(block, d[start:stop], w, p, fb, self.alphabet, self.mu, self.lam, self.algorithm == "rls",
                      train, adapt, limit, z[start:stop])
            if bad >= 0:
                raise DivergedError(f"{self.name} diverged at row {start + bad}: the error is not finite or exceeds "
                                    f"{DIVERGENCE_FACTOR:g}× the largest symbol level; with algorithm='lms' lower mu "
                                    f"(received: mu={self.mu!r})", sample=int(start + bad))
        return z

    def _fit(self, inputs: np.ndarray, targets: np.ndarray) -> None:
        d = _scalar_targets(self.name, targets)
        self.alphabet = _run_alphabet(self.levels_param, self.context)
        self.feedforward_taps = resolve_numtaps(self.numtaps_param, inputs.shape[1])
        n = self.feedforward_taps + self.feedback_taps
        w = np.zeros(n)
        p = np.eye(n) / self.delta if self.algorithm == "rls" else np.zeros((0, 0))
        for _ in range(self.passes - 1):
            self._run(inputs, d, w, p, np.zeros(self.feedback_taps), train=True, adapt=True)
        self.convergence = self._last_pass(inputs, d, w, p)
        self.weights, self.inverse_correlation = w, p
        self._carries = []

    def _last_pass(self, inputs: np.ndarray, d: np.ndarray, w: np.ndarray, p: np.ndarray) -> dict[str, Any]:
        """The last training pass in consecutive blocks (one pass: the state carries over), recording the
        a-priori error power per block — the learning curve, as the adaptive filters' ``convergence``."""
        rows = inputs.shape[0]
        edges = np.unique(np.linspace(0, rows, min(CONVERGENCE_BLOCKS, rows) + 1).astype(int))
        fb = np.zeros(self.feedback_taps)
        samples: list[int] = []
        error_db: list[float] = []
        for start, stop in itertools.pairwise(edges):
            z = self._run(inputs[start:stop], d[start:stop], w, p, fb, train=True, adapt=True)
            power = float(np.mean(np.square(d[start:stop] - z)))
            samples.append(int(stop))
            error_db.append(10.0 * math.log10(power) if power > 0 else -300.0)
        final = float(np.mean(error_db[-max(1, len(error_db) // 5):]))
        converged = next((s for s, e in zip(samples, error_db, strict=True) if e <= final + 1.0), samples[-1])
        return {"sample": samples, "error_db": error_db, "steady_error_db": final,
                "convergence_samples": int(converged)}

    def _predict(self, inputs: np.ndarray) -> np.ndarray:
        carries = self._carries
        found = next((c for c in carries if _continues(c[0], inputs)), None)
        if found is not None:
            carries = [c for c in carries if c is not found]
            _, w, p, fb = found
        else:
            w, p, fb = self.weights.copy(), self.inverse_correlation.copy(), np.zeros(self.feedback_taps)
        z = self._run(inputs, np.zeros(inputs.shape[0]), w, p, fb, train=False, adapt=self.decision_directed)
        if inputs.shape[0]:
            last = np.array(inputs[-1], dtype=np.float64)
            # the two latest streams are kept, so that a probe of one row between two blocks (a latency
            # measurement) does not end the stream the blocks belong to
            kept = [c for c in carries if not np.array_equal(c[0], last)]
            self._carries = [(last, w, p, fb), *kept][:2]
        return z

    def get_state(self) -> dict[str, np.ndarray]:
        """``weights`` ``(numtaps + feedback_taps,)`` (feed-forward oldest first, then feedback newest first),
        the RLS ``inverse_correlation`` (empty for LMS) and the slicer's ``alphabet``."""
        return {"weights": self.weights, "inverse_correlation": self.inverse_correlation, "alphabet": self.alphabet}

    def set_state(self, state: dict[str, np.ndarray]) -> None:
        """Restore :meth:`get_state`."""
        self.weights = np.array(state["weights"], dtype=np.float64)
        self.inverse_correlation = np.array(state["inverse_correlation"], dtype=np.float64)
        self._carries = []
        if "alphabet" in state:
            self.alphabet = np.array(state["alphabet"], dtype=np.float64)
        self.feedforward_taps = int(self.weights.size - self.feedback_taps)

    def trainable_params(self) -> int:
        """Feed-forward plus feedback taps."""
        return int(self.weights.size)

    def macs_per_sample(self) -> float:
        """:math:`N` frozen; :math:`2N` (LMS) or :math:`2N^2 + 3N` (RLS) while deciding and adapting."""
        n = float(self.weights.size)
        if not self.decision_directed:
            return n
        return 2.0 * n if self.algorithm == "lms" else 2.0 * n * n + 3.0 * n

    def extra_description(self) -> dict[str, Any]:
        """Taps of each filter and their values."""
        nf = self.feedforward_taps
        return {"numtaps": nf, "feedback_taps": self.feedback_taps, "levels": int(self.alphabet.size),
                "feedforward": self.weights[:nf].tolist(), "feedback": self.weights[nf:].tolist(),
                "convergence_samples": (self.convergence or {}).get("convergence_samples"),
                "convergence": self.convergence}

    def _save_extra(self, path: Path) -> None:
        (path / "convergence.json").write_text(json.dumps(self.convergence))

    def _load_extra(self, path: Path) -> None:
        record = path / "convergence.json"
        self.convergence = json.loads(record.read_text()) if record.exists() else None


# -- MLSE ----------------------------------------------------------------------------------------------
def trellis(taps: Any, alphabet: np.ndarray, poly_coefficients: Any = ()) -> tuple[np.ndarray, np.ndarray]:
    """The trellis of an FIR channel (plus memoryless nonlinearity) for the Viterbi kernel.

    Parameters
    ----------
    taps : sequence of float, length ``L``
        Channel taps (a one-tap channel is padded with a zero tap).
    alphabet : ndarray, shape ``(M,)``
        Symbol levels, ascending.
    poly_coefficients : sequence of float, optional
        ``(c_0, c_1, …)`` of :math:`f(v) = \\sum c_k v^k`; empty: linear.

    Returns
    -------
    expected : ndarray, shape ``(M^(L-1), M)``
        Noiseless output entering each state from the predecessor that drops each oldest symbol.
    pred : ndarray of int64, shape ``(M^(L-1), M)``
        That predecessor's index.

    Raises
    ------
    ValidationError
        More than :data:`MAX_STATES` states.
    """
    h = np.asarray(taps, dtype=np.float64).ravel()
    if h.size == 1:
        h = np.r_[h, 0.0]
    m, mem = int(alphabet.size), h.size - 1
    states = m ** mem
    if states > MAX_STATES:
        raise ValidationError(f"expected at most {MAX_STATES} trellis states (levels^(numtaps-1)); received: "
                              f"levels={m}, {h.size} taps ({states} states)")
    s = np.arange(states)
    digits = (s[:, None] // (m ** np.arange(mem))[None, :]) % m  # digit i: index of a[k-i]
    partial = alphabet[digits] @ h[:mem]
    expected = partial[:, None] + h[mem] * alphabet[None, :]
    coeffs = tuple(poly_coefficients)
    if coeffs:
        expected = np.polynomial.polynomial.polyval(expected, np.asarray(coeffs, dtype=np.float64))
    pred = (s[:, None] // m) + (m ** (mem - 1)) * np.arange(m)[None, :]
    return np.ascontiguousarray(expected), np.ascontiguousarray(pred.astype(np.int64))


def _aligned(stream: np.ndarray, d: np.ndarray, window: int, delay: int, numtaps: int) -> tuple[np.ndarray,
                                                                                                  np.ndarray]:
    """Received samples and the symbol matrix ``[a[j], a[j-1], …]`` that explain them, for delay ``delay``."""
    # target of row r is a[j] with j = r + window - 1 - delay; a[j - i] is the target of row r - i
    rows = d.size
    r = np.arange(numtaps - 1, rows)
    symbols = np.stack([d[r - i] for i in range(numtaps)], axis=1)
    return stream[r + window - 1 - delay], symbols


def estimate_channel(stream: np.ndarray, targets: np.ndarray, window: int, numtaps: int,
                     delay: int | None = None, taps: Any = None,
                     poly_coefficients: Any = ()) -> tuple[np.ndarray, int, float]:
    """Least-squares channel taps and decision delay from a received stream and the rows' symbol targets.

    Parameters
    ----------
    stream : ndarray, shape ``(rows + window - 1,)``
        The received samples behind the training rows.
    targets : ndarray, shape ``(rows,)``
        Row ``r``'s symbol :math:`a[r + W - 1 - D]`.
    window : int
    numtaps : int
        Channel taps to estimate (ignored when ``taps`` is given).
    delay : int, optional
        The decision delay; ``None`` tries ``0 … window-1`` and keeps the best fit.
    taps : sequence of float, optional
        Known taps: only the delay is estimated.
    poly_coefficients : sequence of float, optional
        Known nonlinearity applied to the FIR output (used with known ``taps``).

    Returns
    -------
    (taps, delay, residual) : (ndarray ``(numtaps,)``, int, float)
        ``residual`` is the mean squared misfit (an estimate of the noise variance).

    Raises
    ------
    ValidationError
        Fewer training rows than ``numtaps + 1``.
    """
    rows = targets.size
    n_taps = numtaps if taps is None else len(taps)
    if rows < n_taps + 1:
        raise ValidationError(f"expected more than {n_taps} training rows to estimate the channel; received: "
                              f"rows={rows}")
    candidates = range(window) if delay is None else (delay,)
    best: tuple[np.ndarray, int, float] | None = None
    coeffs = np.asarray(tuple(poly_coefficients), dtype=np.float64)
    for dl in candidates:
        y, a = _aligned(stream, targets, window, dl, n_taps)
        if taps is None:
            h, *_ = np.linalg.lstsq(a, y, rcond=None)
            fit = a @ h
        else:
            h = np.asarray(taps, dtype=np.float64)
            fit = a @ h
            if coeffs.size:
                fit = np.polynomial.polynomial.polyval(fit, coeffs)
        residual = float(np.mean((y - fit) ** 2))
        if best is None or residual < best[2]:
            best = (np.asarray(h, dtype=np.float64), int(dl), residual)
    assert best is not None
    return best


class MLSE(DSPProcessor):
    """Maximum-likelihood sequence estimation (Viterbi) for a known or least-squares-estimated channel.

    Parameters
    ----------
    taps : tuple of float, default () (estimate)
        The channel's taps (first: no delay). Empty: estimated by least squares from the training rows.
    channel_numtaps : int, default 3
        Taps to estimate when ``taps`` is empty (≥ 1).
    delay : int or None, default None
        Decision delay :math:`D` of the targets (``0 <= delay < window``); ``None``: estimated at ``fit``.
    levels : int or None, default None
        M of the M-PAM alphabet {±1, ±3, …, ±(M−1)}; ``None``: the run's alphabet (``context.alphabet``), BPSK
        when fitted by hand.
    poly_coefficients : tuple of float, default ()
        Memoryless nonlinearity after the FIR, :math:`f(v) = \\sum c_k v^k` (the source's
        ``metadata["channel"]["poly_coefficients"]``); empty: linear. Requires ``taps``.

    Raises
    ------
    ValidationError
        An invalid parameter, ``poly_coefficients`` without ``taps``, more than 4096 trellis states; at
        ``fit``/``predict``: ``delay >= window``, 2-D targets, rows that are not consecutive windows of
        one stream, or too many samples × states to keep the survivors.

    Notes
    -----
    Hard decisions (alphabet levels), shape ``(rows,)``. Not causal (full traceback over the rows
    given to ``predict``).

    Examples
    --------
    >>> import sigbench as sb
    >>> sb.get_processor("mlse")(taps=(0.407, 0.815, 0.407), delay=2)
    MLSE(taps=(0.407, 0.815, 0.407), channel_numtaps=3, delay=2, levels=None, poly_coefficients=())
    """

    name: ClassVar[str] = "mlse"
    family: ClassVar[str] = "dsp"
    online: ClassVar[bool] = False
    causal: ClassVar[bool] = False
    deterministic: ClassVar[bool] = True
    #: the model limit it serves (the ``channel`` source's oracle)
    tasks: ClassVar[tuple[str, ...]] = ("equalise",)
    limit_label: ClassVar[str] = "MLSE, true channel"

    @classmethod
    def from_metadata(cls, metadata: Mapping[str, Any]) -> MLSE:
        """The optimum of a ``channel`` signal: its taps, nonlinearity and alphabet size from ``metadata``
        (``channel``: ``taps``, ``poly_coefficients``; ``levels``); the decision delay is found at ``fit``."""
        channel = dict(metadata.get("channel") or {})
        params = dict(metadata.get("params") or {})
        taps = tuple(float(v) for v in channel.get("taps") or ())
        if not taps:
            raise ValidationError("expected metadata['channel']['taps'] (the channel source's record); received: "
                                  "none")
        poly = tuple(float(v) for v in channel.get("poly_coefficients") or ())
        levels = metadata.get("levels") or params.get("levels")
        return cls(taps=taps, levels=None if levels is None else int(levels), poly_coefficients=poly)

    def __init__(self, taps: tuple[float, ...] = (), channel_numtaps: int = 3, delay: int | None = None,
                 levels: int | None = None, poly_coefficients: tuple[float, ...] = ()) -> None:
        from sigbench.datasets._common import float_tuple

        self.known_taps = float_tuple("taps", taps, min_len=0)
        self.channel_numtaps = positive_int("channel_numtaps", channel_numtaps)
        self.delay_param = None if delay is None else positive_int("delay", delay, minimum=0)
        self.levels_param = None if levels is None else positive_int("levels", levels, minimum=2)
        self.alphabet = pam_alphabet(self.levels_param or 2)
        self.poly = _poly(poly_coefficients)
        if self.poly and not self.known_taps:
            raise ValidationError("expected taps with poly_coefficients (a nonlinear channel is not estimated); "
                                  f"received: taps=(), poly_coefficients={self.poly!r}")
        if self.known_taps and not any(self.known_taps):
            raise ValidationError(f"expected at least one non-zero tap; received: taps={self.known_taps!r}")
        numtaps = len(self.known_taps) or self.channel_numtaps
        trellis(np.zeros(numtaps), self.alphabet)  # refuses too many states now
        super().__init__(taps=tuple(self.known_taps), channel_numtaps=channel_numtaps, delay=delay, levels=levels,
                         poly_coefficients=tuple(self.poly))
        self.channel_taps = np.zeros(0)
        self.decision_delay = 0
        self.residual = math.nan

    def _stream(self, inputs: np.ndarray) -> np.ndarray:
        if not is_stream(inputs):
            raise ValidationError("expected consecutive windows of one received stream (hop 1) for mlse; "
                                  "received: rows that are not shifted copies of each other")
        return stream_of(inputs)

    def _fit(self, inputs: np.ndarray, targets: np.ndarray) -> None:
        d = _scalar_targets(self.name, targets)
        self.alphabet = _run_alphabet(self.levels_param, self.context)
        trellis(np.zeros(len(self.known_taps) or self.channel_numtaps), self.alphabet)  # refuses too many states
        window = inputs.shape[1]
        if self.delay_param is not None and self.delay_param >= window:
            raise ValidationError(f"expected delay < window ({window} samples); received: delay={self.delay_param}")
        taps = self.known_taps or None
        h, delay, residual = estimate_channel(self._stream(inputs), d, window, self.channel_numtaps,
                                              self.delay_param, taps, self.poly)
        self.channel_taps, self.decision_delay, self.residual = h, delay, residual

    def _predict(self, inputs: np.ndarray) -> np.ndarray:
        y = self._stream(inputs)
        expected, pred = trellis(self.channel_taps, self.alphabet, self.poly)
        if y.size * expected.shape[0] > MAX_SURVIVORS:
            raise ValidationError(f"expected at most {MAX_SURVIVORS} samples × trellis states per predict call; "
                                  f"received: {y.size} samples × {expected.shape[0]} states (predict in chunks)")
        idx = _kernels().viterbi(np.ascontiguousarray(y), expected, pred, int(self.alphabet.size))
        window = inputs.shape[1]
        rows = np.arange(inputs.shape[0])
        return np.asarray(self.alphabet[idx[rows + window - 1 - self.decision_delay]], dtype=np.float64)

    def get_state(self) -> dict[str, np.ndarray]:
        """Channel ``taps`` in use, decision ``delay``, the training ``residual`` (noise variance estimate) and the
        ``alphabet``."""
        return {"taps": self.channel_taps, "delay": np.asarray(self.decision_delay, dtype=np.int64),
                "residual": np.asarray(self.residual, dtype=np.float64), "alphabet": self.alphabet}

    def set_state(self, state: dict[str, np.ndarray]) -> None:
        """Restore :meth:`get_state`."""
        self.channel_taps = np.array(state["taps"], dtype=np.float64)
        self.decision_delay = int(state["delay"])
        self.residual = float(state["residual"])
        if "alphabet" in state:
            self.alphabet = np.array(state["alphabet"], dtype=np.float64)

    def trainable_params(self) -> int:
        """Estimated taps (0 when the channel is given)."""
        return 0 if self.known_taps else int(self.channel_taps.size)

    def macs_per_sample(self) -> float:
        """One squared-error branch metric (two operations) per state and symbol: ``2·M^L``."""
        m = int(self.alphabet.size)
        return float(2 * m ** max(2, int(self.channel_taps.size)))

    def memory_bytes(self) -> int:
        """Taps and one path metric per state (the survivors grow with the rows decoded: 2 bytes × states)."""
        m = int(self.alphabet.size)
        return int(self.channel_taps.nbytes + 8 * m ** max(1, int(self.channel_taps.size) - 1))

    def extra_description(self) -> dict[str, Any]:
        """Channel taps, decision delay, states, and the training misfit."""
        m = int(self.alphabet.size)
        return {"taps": self.channel_taps.tolist(), "delay": self.decision_delay, "levels": m,
                "states": m ** max(1, int(self.channel_taps.size) - 1), "estimated": not self.known_taps,
                "residual": self.residual}


@hookimpl
def register_processors(register: Callable[..., None]) -> None:
    """Register ``dfe`` and ``mlse``."""
    register(DFE)
    register(MLSE)
