r"""Numba kernels of the decision-feedback equaliser and the Viterbi (MLSE) equaliser.

Imported on first use (``import sigbench`` stays fast) and compiled with ``cache=True``: the first call
in a fresh environment compiles (a second or two), later processes load the cached machine code.
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["dfe_run", "viterbi"]


@njit(cache=True, nogil=True)
def _slice(z: float, alphabet: np.ndarray) -> float:
    """The nearest alphabet point (sorted ascending; ties to the lower point)."""
    m = alphabet.shape[0]
    for i in range(m - 1):
        if z <= 0.5 * (alphabet[i] + alphabet[i + 1]):
            return float(alphabet[i])
    return float(alphabet[m - 1])


@njit(cache=True, nogil=True)
def dfe_run(x: np.ndarray, d: np.ndarray, w: np.ndarray, p: np.ndarray, fb: np.ndarray, alphabet: np.ndarray,
            mu: float, lam: float, use_rls: bool, train: bool, adapt: bool, limit: float, z_out: np.ndarray) -> int:
    """Run the DFE over the rows of ``x`` ``(rows, numtaps)``; update ``w``, ``p``, ``fb`` in place.

    Row ``r``: :math:`\\mathbf u = [\\mathbf x_r;\\ \\mathbf b]` (feed-forward samples oldest first, then
    the feedback buffer ``fb`` newest decision first), :math:`z = \\mathbf w^T\\mathbf u`; the reference
    is ``d[r]`` when ``train`` else the slicer's decision; with ``train or adapt`` the weights take one
    LMS (:math:`\\mathbf w \\mathrel{+}= \\mu e\\mathbf u`) or exponentially weighted RLS step
    (:math:`\\mathbf k = P\\mathbf u/(\\lambda + \\mathbf u^TP\\mathbf u)`, :math:`\\mathbf w \\mathrel{+}=
    e\\mathbf k`, :math:`P \\leftarrow (P - \\mathbf k\\mathbf u^TP)/\\lambda`); the reference enters ``fb``.
    Returns -1, or the first row whose output is not finite or whose error exceeds ``limit`` (then it stops).
    """
    rows, nf = x.shape
    nb = fb.shape[0]
    n = nf + nb
    u = np.empty(n)
    pu = np.empty(n)
    for r in range(rows):
        for j in range(nf):
            u[j] = x[r, j]
        for j in range(nb):
            u[nf + j] = fb[j]
        z = 0.0
        for j in range(n):
            z += w[j] * u[j]
        z_out[r] = z
        ref = d[r] if train else _slice(z, alphabet)
        e = ref - z
        if not np.isfinite(z) or abs(e) > limit:
            return r
        if train or adapt:
            if use_rls:
                denom = lam
                for i in range(n):
                    acc = 0.0
                    for j in range(n):
                        acc += p[i, j] * u[j]
                    pu[i] = acc
                    denom += u[i] * acc
                for i in range(n):
                    w[i] += e * pu[i] / denom
                for i in range(n):
                    for j in range(n):
                        p[i, j] = (p[i, j] - pu[i] * pu[j] / denom) / lam
            else:
                for j in range(n):
                    w[j] += mu * e * u[j]
        for j in range(nb - 1, 0, -1):
            fb[j] = fb[j - 1]
        if nb > 0:
            fb[0] = ref
    return -1


@njit(cache=True, nogil=True)
def viterbi(y: np.ndarray, expected: np.ndarray, pred: np.ndarray, levels: int) -> np.ndarray:
    """Maximum-likelihood symbol indices for the received stream ``y`` ``(samples,)`` (squared-error metric).

    ``expected[s, c]`` is the noiseless output entering state ``s`` from the predecessor that drops
    the oldest symbol index ``c``; ``pred[s, c]`` is that predecessor. State ``s`` encodes the newest
    symbol index as ``s % levels``. Every start state is equally likely (unknown history); the path
    ends in the best state and is traced back through the stored survivors. Returns the newest symbol
    index of the surviving path at every sample, shape ``(samples,)``.
    """
    n = y.shape[0]
    states = expected.shape[0]
    pm = np.zeros(states)
    new = np.empty(states)
    surv = np.empty((n, states), dtype=np.int16)
    for t in range(n):
        yt = y[t]
        for s in range(states):
            best = np.inf
            arg = 0
            for c in range(levels):
                diff = yt - expected[s, c]
                v = pm[pred[s, c]] + diff * diff
                if v < best:
                    best = v
                    arg = c
            new[s] = best
            surv[t, s] = arg
        low = new.min()
        for s in range(states):
            pm[s] = new[s] - low
    out = np.empty(n, dtype=np.int64)
    s = int(np.argmin(pm))
    for t in range(n - 1, -1, -1):
        out[t] = s % levels
        s = pred[s, surv[t, s]]
    return out
