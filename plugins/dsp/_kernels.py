r"""Numba kernels of the adaptive filters (imported on first use, so ``import sigbench`` stays fast).

Every kernel has the signature ``kernel(x, d, w, *state, *constants, limit, y) -> int``:

* ``x`` ``(rows, numtaps)`` float64, any layout (a strided window view is fine, it is not copied);
* ``d`` ``(rows, outputs)`` targets; ``w`` ``(outputs, numtaps)`` weights, updated in place;
* ``y`` ``(rows, outputs)`` receives the a-priori outputs :math:`y(k) = \mathbf{w}^T(k)\mathbf{x}(k)`;
* returns ``-1``, or the first row whose error is not finite or exceeds ``limit`` (then it stops).

The update equations follow padasip 1.2 term by term (see each kernel), so outputs and weights agree
with ``padasip.filters.FilterLMS``/``FilterNLMS``/``FilterRLS`` to rounding.
Compiled with ``cache=True``: the first call in a fresh environment compiles (about a second per
kernel and argument layout), later processes load the cached machine code.
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["lms", "nlms", "rls"]


@njit(cache=True, nogil=True, inline="always")
def _dot(a: np.ndarray, b: np.ndarray) -> float:
    """``a · b`` for contiguous 1-D arrays, with four partial sums (deterministic, SIMD-friendly)."""
    n = a.shape[0]
    a0 = 0.0
    a1 = 0.0
    a2 = 0.0
    a3 = 0.0
    j = 0
    while j + 4 <= n:
        a0 += a[j] * b[j]
        a1 += a[j + 1] * b[j + 1]
        a2 += a[j + 2] * b[j + 2]
        a3 += a[j + 3] * b[j + 3]
        j += 4
    while j < n:
        a0 += a[j] * b[j]
        j += 1
    return (a0 + a1) + (a2 + a3)


@njit(cache=True, nogil=True)
def lms(x: np.ndarray, d: np.ndarray, w: np.ndarray, mu: float, limit: float, y: np.ndarray) -> int:
    r"""LMS: :math:`\mathbf{w} \leftarrow \mathbf{w} + \mu\, e\, \mathbf{x}`."""
    rows, n = x.shape
    m = w.shape[0]
    xb = np.empty(n)
    for k in range(rows):
        for j in range(n):
            xb[j] = x[k, j]
        for o in range(m):
            wo = w[o]
            acc = _dot(wo, xb)
            y[k, o] = acc
            e = d[k, o] - acc
            if not abs(e) <= limit:
                return k
            for j in range(n):
                wo[j] += mu * xb[j] * e
    return -1


@njit(cache=True, nogil=True)
def nlms(x: np.ndarray, d: np.ndarray, w: np.ndarray, mu: float, eps: float, limit: float,
         y: np.ndarray) -> int:
    r"""NLMS: :math:`\mathbf{w} \leftarrow \mathbf{w} + \eta\, e\, \mathbf{x}`.

    :math:`\eta = \mu/(\epsilon + \|\mathbf{x}\|^2)` (``eta`` is computed once per row, then applied as
    ``eta * x * e``).
    """
    rows, n = x.shape
    m = w.shape[0]
    xb = np.empty(n)
    for k in range(rows):
        for j in range(n):
            xb[j] = x[k, j]
        eta = mu / (eps + _dot(xb, xb))
        for o in range(m):
            wo = w[o]
            acc = _dot(wo, xb)
            y[k, o] = acc
            e = d[k, o] - acc
            if not abs(e) <= limit:
                return k
            for j in range(n):
                wo[j] += eta * xb[j] * e
    return -1


@njit(cache=True, nogil=True)
def rls(x: np.ndarray, d: np.ndarray, w: np.ndarray, p: np.ndarray, lam: float, limit: float,
        y: np.ndarray) -> int:
    r"""RLS with forgetting factor ``lam`` and inverse correlation ``p`` (updated in place).

    :math:`\mathbf{P} \leftarrow \frac{1}{\lambda}\big(\mathbf{P} -
    \frac{\mathbf{P}\mathbf{x}\,\mathbf{x}^T\mathbf{P}}{\lambda + \mathbf{x}^T\mathbf{P}\mathbf{x}}\big)`,
    then :math:`\mathbf{w} \leftarrow \mathbf{w} + \mathbf{P}\mathbf{x}\, e` with the updated
    :math:`\mathbf{P}` (padasip's order), computed as
    :math:`\mathbf{P}_{new}\mathbf{x} = \mathbf{P}\mathbf{x} / (\lambda + \mathbf{x}^T\mathbf{P}\mathbf{x})`.
    ``P`` is kept exactly symmetric: :math:`\mathbf{x}^T\mathbf{P} = (\mathbf{P}\mathbf{x})^T` is used and
    the rank-one term is :math:`\mathbf{q}\mathbf{q}^T` with :math:`\mathbf{q} = \mathbf{P}\mathbf{x}/\sqrt{\lambda +
    \mathbf{x}^T\mathbf{P}\mathbf{x}}` — :math:`2N^2` instead of :math:`3N^2` multiply-adds, and no drift
    away from symmetry (padasip lets it drift; the results agree to rounding).
    """
    rows, n = x.shape
    m = w.shape[0]
    xb = np.empty(n)
    px = np.empty(n)
    gain = np.empty(n)
    q = np.empty(n)
    inv = 1.0 / lam
    for k in range(rows):
        for j in range(n):
            xb[j] = x[k, j]
        for a in range(n):
            px[a] = _dot(p[a], xb)
        denom = lam + _dot(px, xb)
        if not (denom > 0.0 and denom < np.inf):
            return k
        for a in range(n):
            gain[a] = px[a] / denom
        for o in range(m):
            wo = w[o]
            acc = _dot(wo, xb)
            y[k, o] = acc
            e = d[k, o] - acc
            if not abs(e) <= limit:
                return k
            for j in range(n):
                wo[j] += gain[j] * e
        scale = 1.0 / np.sqrt(denom)
        for a in range(n):
            q[a] = px[a] * scale
        for a in range(n):
            qa = q[a]
            pa = p[a]
            for b in range(n):
                pa[b] = (pa[b] - qa * q[b]) * inv  # q[a]·q[b] == q[b]·q[a]: P stays symmetric
    return -1
