r"""Wiener-Hopf FIR (``wiener``): the optimal linear estimator fitted on the training segment.

With input rows :math:`\mathbf{x}(k)` (the newest :math:`N` = ``numtaps`` samples of each window) and
targets :math:`\mathbf{d}(k)` (one or several outputs), the weights solve the normal equations

.. math::

    (\hat{\mathbf{R}} + \beta\mathbf{I})\,\mathbf{W} = \hat{\mathbf{P}}, \qquad
    \hat{\mathbf{R}} = \frac{1}{K}\sum_k \mathbf{x}(k)\mathbf{x}^T(k), \qquad
    \hat{\mathbf{P}} = \frac{1}{K}\sum_k \mathbf{x}(k)\mathbf{d}^T(k),

i.e. :math:`\min_\mathbf{W} \frac{1}{K}\sum_k\|\mathbf{d}(k) - \mathbf{W}^T\mathbf{x}(k)\|^2
+ \beta\|\mathbf{W}\|^2` with :math:`\beta` = ``loading`` (diagonal loading, in units of input
power). With ``intercept=True`` (the default) the filter is affine, :math:`\mathbf{y} = \mathbf{W}^T\mathbf{x}
+ \mathbf{b}`: :math:`\hat{\mathbf{R}}, \hat{\mathbf{P}}` become covariances and
:math:`\mathbf{b} = \bar{\mathbf{d}} - \mathbf{W}^T\bar{\mathbf{x}}` (the intercept is not loaded).
Fitted on the training rows it is the engine's *linear reference*; fitted on the test rows, the *linear
oracle*. Methods:

``lstsq`` (and ``auto``)
    The exact least-squares ("covariance method") solution, computed by a block QR of the rows
    (TSQR: 65 536 rows at a time, never squaring the condition number, never copying the whole
    window matrix) and a minimum-norm solve of the triangular factor. Equals ``np.linalg.lstsq``
    on the stacked rows. This is the *bound* the comparison engine uses.
``toeplitz``
    The classical Wiener-Hopf solution ("autocorrelation method"): :math:`\hat{\mathbf{R}}` is the
    Toeplitz matrix of the biased autocorrelation :math:`r(\ell) = \frac{1}{L}\sum_t x(t)x(t+\ell)`
    of the input stream, solved by Levinson-Durbin (``scipy.linalg.solve_toeplitz``, :math:`O(N^2)`).
    Requires the rows to be sliding windows of one stream (checked). It differs from ``lstsq`` by
    edge terms of order :math:`N/K`.

Stability: the solution exists when :math:`\hat{\mathbf{R}} + \beta\mathbf{I}` is non-singular
(``lstsq`` returns the minimum-norm solution otherwise); fewer training rows than taps with
``loading=0`` is refused.

Cost per output sample: :math:`N` multiply-accumulates per output (prediction); fitting costs
:math:`O(KN^2)` (``lstsq``) or :math:`O(L\log L + N^2)` (``toeplitz``). Memory: :math:`N` weights per output.
It solves the ``spectrum`` task exactly (the DFT is linear in the window).

Not :func:`scipy.signal.wiener`, which is a local-statistics denoiser.

Example
-------
>>> import numpy as np, sigbench as sb
>>> x = np.random.default_rng(0).normal(size=1000)
>>> d = np.convolve(x, [1.0, -0.5, 0.25])[:x.size]
>>> w = sb.get_processor("wiener")(numtaps=3).fit(sb.sliding_windows(x, 3), d[2:])
>>> np.round(w.weights[:, 0][::-1], 6)      # newest tap first
array([ 1.  , -0.5 ,  0.25])
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from sigbench import hookimpl
from sigbench._validate import one_of, positive_float
from sigbench.errors import ValidationError
from sigbench.plugins.dsp._adaptive import CHUNK_ROWS, DSPProcessor, optional_numtaps, resolve_numtaps

__all__ = ["Wiener", "block_lstsq", "is_stream", "stream_of", "tsqr_solve", "tsqr_start", "tsqr_update"]

METHODS = ("auto", "lstsq", "toeplitz")


def is_stream(inputs: np.ndarray) -> bool:
    """True when row ``k+1`` is row ``k`` shifted by one sample (sliding windows of one stream).

    Checked block by block (``O(rows·window)`` time, bounded memory); a view made by
    :func:`sigbench.sliding_windows` passes at once from its strides.
    """
    rows, window = inputs.shape
    if rows < 2 or window < 2:
        return True
    s0, s1 = inputs.strides
    if s0 == s1 == inputs.itemsize:
        return True
    for start in range(0, rows - 1, CHUNK_ROWS):
        stop = min(start + CHUNK_ROWS, rows - 1)
        if not np.array_equal(inputs[start + 1: stop + 1, :-1], inputs[start:stop, 1:]):
            return False
    return True


def stream_of(inputs: np.ndarray) -> np.ndarray:
    """The stream ``(rows + window - 1,)`` behind sliding-window rows (first row, then each newest sample)."""
    first = np.asarray(inputs[0], dtype=np.float64)
    return np.concatenate([first, np.asarray(inputs[1:, -1], dtype=np.float64)])


def block_lstsq(block: Callable[[int, int], np.ndarray], rows: int, ncols: int, d: np.ndarray,
                loading: float = 0.0) -> np.ndarray:
    """Minimum-norm solution of ``min ‖A W − d‖² + loading·rows·‖W‖²`` by block QR (TSQR).

    Parameters
    ----------
    block : callable
        ``block(start, stop)`` returns rows ``start:stop`` of ``A``, shape ``(stop - start, ncols)``.
    rows, ncols : int
        Shape of ``A``.
    d : ndarray, shape ``(rows, outputs)``
    loading : float
        Diagonal loading per row (``(AᵀA/rows + loading·I) W = Aᵀd/rows``).

    Returns
    -------
    ndarray, shape ``(ncols, outputs)``
    """
    r = tsqr_start(ncols, d.shape[1], rows, loading)
    for start in range(0, rows, CHUNK_ROWS):
        stop = min(start + CHUNK_ROWS, rows)
        r = tsqr_update(r, np.asarray(block(start, stop), dtype=np.float64), d[start:stop])
    return tsqr_solve(r, ncols)


def tsqr_start(ncols: int, outputs: int, rows: int, loading: float) -> np.ndarray:
    """The initial triangular factor of :func:`tsqr_update`: empty, or ``√(loading·rows)·I`` (diagonal loading)."""
    if loading > 0:
        return np.hstack([np.sqrt(loading * rows) * np.eye(ncols), np.zeros((ncols, outputs))])
    return np.zeros((0, ncols + outputs))


def tsqr_update(r: np.ndarray, a: np.ndarray, d: np.ndarray) -> np.ndarray:
    """One step of the block QR of the augmented matrix ``[A | d]``: R of ``[r; [a | d]]`` (R only, no Q).

    Carrying the triangular factor of ``[A | d]`` instead of ``Q`` and ``Qᵀd`` halves the work (LAPACK
    ``geqrf`` without forming ``Q``) and is the same Householder least squares: the top ``ncols`` rows of
    its last columns are ``Qᵀd`` (Golub & Van Loan, §5.3).
    """
    from scipy.linalg import qr

    stacked = np.vstack([r, np.hstack([a, np.asarray(d, dtype=np.float64).reshape(a.shape[0], -1)])])
    (factor,) = qr(stacked, mode="r", overwrite_a=True, check_finite=False)
    return np.ascontiguousarray(factor[: min(stacked.shape)])  # the economic R (the rest is zeros)


def tsqr_solve(r: np.ndarray, ncols: int) -> np.ndarray:
    """Minimum-norm weights ``(ncols, outputs)`` from the triangular factor of ``[A | d]``."""
    weights, *_ = np.linalg.lstsq(r[:, :ncols], r[:, ncols:], rcond=None)
    return np.asarray(weights, dtype=np.float64)


class _BlockQR:
    """:func:`block_lstsq` fed block by block: rows are regrouped into the same ``CHUNK_ROWS``-row pieces. With
    ``intercept`` a column of ones is appended to the rows (never loaded: the loading regularises the taps)."""

    def __init__(self, ncols: int, outputs: int, rows: int, loading: float, intercept: bool = False) -> None:
        self.ncols, self.intercept = ncols, intercept
        self.r = tsqr_start(ncols, outputs, rows, loading)
        if intercept:  # one more column, unloaded
            self.r = np.hstack([self.r[:, :ncols], np.zeros((self.r.shape[0], 1)), self.r[:, ncols:]])
        self.pending_x: list[np.ndarray] = []
        self.pending_d: list[np.ndarray] = []
        self.pending = 0

    def add(self, x: np.ndarray, d: np.ndarray) -> None:
        start = 0
        while start < x.shape[0]:
            take = min(CHUNK_ROWS - self.pending, x.shape[0] - start)
            part = np.asarray(x[start:start + take], dtype=np.float64)
            if self.intercept:
                part = np.hstack([part, np.ones((take, 1))])
            self.pending_x.append(part)
            self.pending_d.append(d[start:start + take])
            self.pending += take
            start += take
            if self.pending == CHUNK_ROWS:
                self._flush()

    def _flush(self) -> None:
        if not self.pending:
            return
        a = self.pending_x[0] if len(self.pending_x) == 1 else np.vstack(self.pending_x)
        b = self.pending_d[0] if len(self.pending_d) == 1 else np.vstack(self.pending_d)
        self.r = tsqr_update(self.r, a, b)
        self.pending_x, self.pending_d, self.pending = [], [], 0

    def solve(self) -> tuple[np.ndarray, np.ndarray]:
        """Taps ``(ncols, outputs)`` and intercept ``(outputs,)`` (zeros without ``intercept``)."""
        self._flush()
        if not self.intercept:
            w = tsqr_solve(self.r, self.ncols)
            return w, np.zeros(w.shape[1])
        w = tsqr_solve(self.r, self.ncols + 1)
        return np.ascontiguousarray(w[:-1]), np.asarray(w[-1], dtype=np.float64)


class _StreamCorrelation:
    """The autocorrelation method from consecutive blocks of sliding-window rows: ``r(ℓ)`` summed over
    sample pairs as they arrive (the previous block's last ``numtaps − 1`` samples kept), ``P`` by rows."""

    def __init__(self, numtaps: int, outputs: int, rows: int, loading: float, intercept: bool = False) -> None:
        self.numtaps, self.rows, self.loading, self.intercept = numtaps, rows, loading, intercept
        self.acf = np.zeros(numtaps)
        self.p = np.zeros((numtaps, outputs))
        self.tail = np.zeros(0)
        self.last = np.zeros(0)
        self.length = 0
        self.stream_sum = 0.0
        self.head = np.zeros(0)  # the stream's first numtaps samples (the affine solution's edge sums)
        self.x_sum = np.zeros(numtaps)
        self.d_sum = np.zeros(outputs)

    def add(self, x: np.ndarray, d: np.ndarray) -> None:
        if not is_stream(x) or (self.tail.size and not np.array_equal(
                np.asarray(x[0, :-1], dtype=np.float64), self.tail)):
            raise ValidationError(
                "expected sliding-window rows of one stream for method='toeplitz'; received: rows that are "
                "not shifted copies of each other (use method='lstsq')"
            )
        for start in range(0, x.shape[0], CHUNK_ROWS):
            stop = min(start + CHUNK_ROWS, x.shape[0])
            rows = np.asarray(x[start:stop], dtype=np.float64)
            self.p += rows.T @ d[start:stop]
            self.x_sum += rows.sum(axis=0)
        self.d_sum += d.sum(axis=0)
        new = stream_of(x) if self.length == 0 else np.asarray(x[:, -1], dtype=np.float64)
        self.stream_sum += float(new.sum())
        if self.head.size < self.numtaps:
            self.head = np.concatenate([self.head, new[: self.numtaps - self.head.size]])
        ext = np.concatenate([self.tail, new])
        t = self.tail.size
        for lag in range(self.numtaps):
            lo = max(t, lag)  # pairs (u − lag, u) with u a new sample
            if lo < ext.size:
                self.acf[lag] += float(np.dot(ext[lo - lag: ext.size - lag], ext[lo:]))
        self.length += new.size
        self.last = ext[-self.numtaps:]
        self.tail = ext[-(self.numtaps - 1):] if self.numtaps > 1 else np.zeros(0)

    def solve(self) -> tuple[np.ndarray, np.ndarray]:
        """Taps ``(numtaps, outputs)`` and intercept ``(outputs,)``."""
        moments = StreamMoments(self.head, self.last, self.stream_sum, self.length, self.x_sum / self.rows,
                                self.d_sum / self.rows) if self.intercept else None
        return toeplitz_solve(self.acf / self.length, self.p / self.rows, self.loading, moments)


@dataclass(frozen=True)
class StreamMoments:
    """What the affine autocorrelation method needs beyond the raw correlations: the stream's first and last
    ``numtaps`` samples, its sum and length, the per-column input means and the target means."""

    first: np.ndarray
    last: np.ndarray
    total: float
    n: int
    x_mean: np.ndarray
    d_mean: np.ndarray


def toeplitz_solve(acf: np.ndarray, p: np.ndarray, loading: float,
                   moments: StreamMoments | None = None) -> tuple[np.ndarray, np.ndarray]:
    r"""Wiener-Hopf by Levinson-Durbin from the biased autocorrelation ``acf`` and the cross-correlation ``p``
    (both divided by their counts); returns taps ``(numtaps, outputs)`` and intercept ``(outputs,)``.

    With ``moments`` the affine solution: the autocorrelation becomes the biased autocovariance
    :math:`\frac1n\sum_t (x_t-\mu)(x_{t+\ell}-\mu)` (exactly, edge sums included), the cross-correlation
    the cross-covariance, and the intercept is ``m_d − wᵀ m_x``."""
    from scipy.linalg import solve_toeplitz

    r = np.array(acf, dtype=np.float64)
    c = np.array(p, dtype=np.float64)
    if moments is not None:
        m = moments
        mu = m.total / m.n
        for lag in range(r.size):  # Σ_{t<n−ℓ} x_t = total − (last ℓ samples); Σ_{t≥ℓ} x_t = total − (first ℓ)
            s_head = m.total - float(m.last[m.last.size - lag:].sum()) if lag else m.total
            s_tail = m.total - float(m.first[:lag].sum())
            r[lag] -= (mu * (s_head + s_tail) - mu * mu * (m.n - lag)) / m.n
        c -= np.outer(m.x_mean, m.d_mean)
    r[0] += loading
    w = np.asarray(solve_toeplitz(r, c), dtype=np.float64).reshape(r.size, -1)
    bias = m.d_mean - m.x_mean @ w if moments is not None else np.zeros(w.shape[1])
    return w, np.asarray(bias, dtype=np.float64)


class Wiener(DSPProcessor):
    """Least-squares Wiener-Hopf FIR of ``numtaps`` taps, one column of weights per output.

    Parameters
    ----------
    numtaps : int or None, default None
        Number of taps, applied to the newest ``numtaps`` samples of each window; ``None``: the whole
        window.
    loading : float, default 0.0
        Diagonal loading :math:`\\beta \\ge 0` added to the sample correlation matrix, in units of input
        power (``0.01 · E[x²]`` is a mild regulariser).
    method : {"auto", "lstsq", "toeplitz"}, default "auto"
        ``lstsq``: exact least squares (block QR); ``toeplitz``: autocorrelation method solved by
        Levinson-Durbin (sliding-window rows only); ``auto``: ``lstsq``.
    intercept : bool, default True
        Fit an affine FIR ``y = wᵀx + b``: the optimal linear estimator of a signal with a non-zero mean
        (without it a linear network, whose layers have biases, beats the "bound" by what the intercept gains).

    Raises
    ------
    ValidationError
        ``numtaps < 1``; ``loading < 0`` or not finite; unknown ``method``; at ``fit``:
        ``numtaps > window``, fewer training rows than ``numtaps`` with ``loading=0``, or
        ``method="toeplitz"`` on rows that are not sliding windows of one stream.

    See Also
    --------
    numpy.linalg.lstsq : the closed form it equals (``method="lstsq"``).
    scipy.linalg.solve_toeplitz : the Levinson-Durbin solver (``method="toeplitz"``).

    Notes
    -----
    Targets may be ``(rows,)`` or ``(rows, outputs)``; ``weights`` has shape ``(numtaps, outputs)``
    with row ``j`` multiplying window column ``window - numtaps + j`` (oldest first).
    Cost: ``numtaps · outputs`` multiply-accumulates per row.

    Examples
    --------
    >>> import sigbench as sb
    >>> sb.get_processor("wiener")(numtaps=64, loading=0.0, method="lstsq")
    Wiener(numtaps=64, loading=0.0, method='lstsq')
    """

    name: ClassVar[str] = "wiener"
    family: ClassVar[str] = "dsp"
    online: ClassVar[bool] = False
    deterministic: ClassVar[bool] = True
    #: the least-squares (affine) FIR on the rows it is fitted on: as the reference, the engine also fits it on
    #: the test rows — the *linear oracle*, which no FIR of its length beats there
    linear_least_squares: ClassVar[bool] = True

    def __init__(self, numtaps: int | None = None, loading: float = 0.0, method: str = "auto",
                 intercept: bool = True) -> None:
        self.numtaps_param = optional_numtaps(numtaps)
        self.loading = positive_float("loading", loading, allow_zero=True)
        self.method = one_of("method", method, METHODS)
        if not isinstance(intercept, (bool, np.bool_)):
            raise ValidationError(f"expected intercept to be True or False; received: intercept={intercept!r}")
        self.intercept = bool(intercept)
        super().__init__(numtaps=numtaps, loading=loading, method=method, intercept=self.intercept)
        self.weights = np.zeros((0, 0))
        self.bias = np.zeros(0)

    @property
    def numtaps(self) -> int:
        """Number of taps in use (known after ``fit``)."""
        return int(self.weights.shape[0])

    def _fit(self, inputs: np.ndarray, targets: np.ndarray) -> None:
        if self.method == "toeplitz":  # the whole stream at hand: its autocorrelation by FFT
            numtaps = self._check_rows(inputs.shape[0], inputs.shape[1])
            d = targets.reshape(inputs.shape[0], -1).astype(np.float64, copy=False)
            self.weights, self.bias = self._solve_toeplitz(inputs[:, inputs.shape[1] - numtaps:], d)
            return
        self._fit_blocks(iter([(inputs, targets)]), int(inputs.shape[0]))

    def _check_rows(self, rows: int, window: int) -> int:
        numtaps = resolve_numtaps(self.numtaps_param, window)
        if rows < numtaps and self.loading == 0:
            raise ValidationError(
                f"expected at least numtaps={numtaps} training rows for a determined least-squares fit "
                f"(or loading > 0); received: rows={rows}"
            )
        return numtaps

    def _fit_blocks(self, blocks: Iterator[tuple[np.ndarray, np.ndarray]], rows: int | None) -> None:
        """Least squares from consecutive blocks of rows: the block QR of ``lstsq`` on the same
        :data:`~sigbench.plugins.dsp._adaptive.CHUNK_ROWS`-row pieces (bit for bit the weights of ``fit``), or
        for ``toeplitz`` the autocorrelation and cross-correlation accumulated block by block (equal to the
        FFT-based ``fit`` to rounding)."""
        if rows is None:
            raise ValidationError("expected the number of training rows for wiener.fit_blocks (rows=…); "
                                  "received: rows=None")
        solver: _BlockQR | _StreamCorrelation | None = None
        numtaps = 0
        for inputs, targets in blocks:
            d = np.asarray(targets, dtype=np.float64).reshape(inputs.shape[0], -1)
            if solver is None:
                numtaps = self._check_rows(rows, inputs.shape[1])
                kind = _StreamCorrelation if self.method == "toeplitz" else _BlockQR
                solver = kind(numtaps, d.shape[1], rows, self.loading, self.intercept)
            solver.add(inputs[:, inputs.shape[1] - numtaps:], d)
        assert solver is not None
        self.weights, self.bias = solver.solve()

    def _solve_toeplitz(self, x: np.ndarray, d: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if not is_stream(x):
            raise ValidationError(
                "expected sliding-window rows of one stream for method='toeplitz'; received: rows that are "
                "not shifted copies of each other (use method='lstsq')"
            )
        rows, numtaps = x.shape
        s = stream_of(x)
        n = s.size
        nfft = 1 << int(np.ceil(np.log2(2 * n - 1)))
        spec = np.fft.rfft(s, nfft)
        acf = np.fft.irfft(spec * np.conj(spec), nfft)[:numtaps] / n
        p = np.zeros((numtaps, d.shape[1]))
        x_sum = np.zeros(numtaps)
        for start in range(0, rows, CHUNK_ROWS):
            stop = min(start + CHUNK_ROWS, rows)
            block = np.asarray(x[start:stop], dtype=np.float64)
            p += block.T @ d[start:stop]
            x_sum += block.sum(axis=0)
        moments = StreamMoments(s[:numtaps], s[-numtaps:], float(s.sum()), n, x_sum / rows,
                                d.mean(axis=0)) if self.intercept else None
        return toeplitz_solve(acf, p / rows, self.loading, moments)

    def _predict(self, inputs: np.ndarray) -> np.ndarray:
        from sigbench.plugins.dsp._adaptive import predict_linear

        out = predict_linear(inputs, self.weights.T)
        return out + self.bias if self.intercept else out

    def get_state(self) -> dict[str, np.ndarray]:
        """``weights``, shape ``(numtaps, outputs)``, and ``bias``, shape ``(outputs,)``."""
        return {"weights": self.weights, "bias": self.bias}

    def set_state(self, state: dict[str, np.ndarray]) -> None:
        """Restore :meth:`get_state`."""
        self.weights = np.array(state["weights"], dtype=np.float64)
        self.bias = np.array(state.get("bias", np.zeros(self.weights.shape[1])), dtype=np.float64)

    def macs_per_sample(self) -> float:
        """``numtaps · outputs`` (plus one addition per output for the intercept)."""
        return float(self.weights.size)

    def extra_description(self) -> dict[str, Any]:
        """Taps in use, outputs, and the method that ran."""
        method = "lstsq" if self.method == "auto" else self.method
        return {"numtaps": self.numtaps, "outputs": int(self.weights.shape[1]), "method_used": method,
                "taps": self.weights[:, 0].tolist(), "intercept": self.bias.tolist()}


@hookimpl
def register_processors(register: Callable[..., None]) -> None:
    """Register ``wiener``."""
    register(Wiener)
