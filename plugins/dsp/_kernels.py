r"""Numba kernels of the adaptive filters (imported on first use, so ``import sigbench`` stays fast).

Every kernel has the signature ``kernel(x, d, w, *state, *constants, limit, y) -> int``:

* ``x`` ``(rows, numtaps)`` float64, any layout (a strided window view is fine, it is not copied);
* ``d`` ``(rows, outputs)`` targets; ``w`` ``(outputs, numtaps)`` C-contiguous weights, updated in place;
* ``y`` ``(rows, outputs)`` receives the a-priori outputs :math:`y(k) = \mathbf{w}^T(k)\mathbf{x}(k)`;
* returns ``-1``, or the first row whose error is not finite or exceeds ``limit`` (then it stops).

The update equations follow padasip 1.2 term by term (see each kernel), so outputs and weights agree
with ``padasip.filters.FilterLMS``/``FilterNLMS``/``FilterRLS`` to rounding.
Compiled with ``cache=True``: the first call in a fresh environment compiles (about a second per
kernel and argument layout), later processes load the cached machine code.

Vectorisation without ``fastmath``
----------------------------------
Results must not depend on the compiler's whim, so no kernel lets LLVM reassociate floating-point sums
(``fastmath``), and numba leaves its SLP vectoriser off (it miscompiled, numba PR 8852). Loops without a
sum (the weight and ``P`` updates) are vectorised by LLVM's loop vectoriser as written. Dot products are
written as explicit SIMD (:func:`_lane_sums`, :func:`_step_lane_sums`: LLVM IR on ``<4 x double>``):
lane ``l`` of :data:`LANES` sums the products ``j ≡ l (mod LANES)`` in order of ``j``, a tail shorter
than :data:`LANES` goes to lane 0, and the lanes are added pairwise at the end (:func:`_reduce`). That
order is fixed, so every result is the same on every run and every x86-64 CPU (no FMA contraction
either: a multiply and an add round separately, as numpy's do), and a call split into chunks gives the
one-pass result bit for bit. RLS needs no dot product in its :math:`O(N^2)` part: with
:math:`\mathbf{P}` symmetric, :math:`\mathbf{P}\mathbf{x} = \sum_b x_b \mathbf{P}_{b,:}` is a sum of
rows, accumulated in the same pass that updates them (:func:`rls`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.core.errors import TypingError
from numba.extending import intrinsic

__all__ = ["LANES", "lms", "nlms", "rls"]

#: ``<4 x double>`` accumulators per dot product (two hide the 3-4 cycle latency of a vector add)
_VECS = 2
#: partial sums of a dot product (fixed: it decides the rounding, see the module docstring)
LANES = 4 * _VECS


def _check_float64_vectors(*arrays: Any) -> None:
    for arr in arrays:
        if not (isinstance(arr, types.Array) and arr.ndim == 1 and arr.dtype == types.float64):
            raise TypingError(f"expected 1-D float64 arrays; received: {arr}")


def _vector_ptr(builder: Any, base: Any, offset: Any) -> Any:
    return builder.bitcast(builder.gep(base, [offset]), ir.VectorType(ir.DoubleType(), 4).as_pointer())


def _splat(builder: Any, value: Any, width: int = 4) -> Any:
    vec = ir.Constant(ir.VectorType(ir.DoubleType(), width), ir.Undefined)
    for lane in range(width):
        vec = builder.insert_element(vec, value, ir.Constant(ir.IntType(32), lane))
    return vec


def _store_lanes(context: Any, builder: Any, accs: list[Any], out: Any) -> None:
    intp = context.get_value_type(types.intp)
    for v, acc in enumerate(accs):
        vec = builder.load(acc)
        for lane in range(4):
            builder.store(builder.extract_element(vec, ir.Constant(ir.IntType(32), lane)),
                          builder.gep(out, [ir.Constant(intp, 4 * v + lane)]))


@intrinsic
def _lane_sums(typingctx: Any, a: Any, b: Any, stop: Any, out: Any) -> Any:
    """``out[l] = Σ a[j]·b[j]`` over ``j < stop`` with ``j ≡ l (mod LANES)``, in order of ``j``.

    ``a`` and ``b`` must have unit stride (C-contiguous, or a row whose stride the caller checked);
    ``stop`` is a multiple of :data:`LANES`; ``out`` has :data:`LANES` elements.
    """
    _check_float64_vectors(a, b, out)
    sig = types.void(a, b, stop, out)

    def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
        av, bv, nv, ov = args
        pa = context.make_array(signature.args[0])(context, builder, av).data
        pb = context.make_array(signature.args[1])(context, builder, bv).data
        po = context.make_array(signature.args[3])(context, builder, ov).data
        zero = ir.Constant(ir.VectorType(ir.DoubleType(), 4), [0.0] * 4)
        accs = [cgutils.alloca_once_value(builder, zero) for _ in range(_VECS)]
        intp = context.get_value_type(types.intp)
        with cgutils.for_range_slice(builder, ir.Constant(intp, 0), nv, ir.Constant(intp, LANES),
                                     intp=intp) as (i, _):
            for v, acc in enumerate(accs):
                off = builder.add(i, ir.Constant(intp, 4 * v))
                va = builder.load(_vector_ptr(builder, pa, off), align=8)
                vb = builder.load(_vector_ptr(builder, pb, off), align=8)
                builder.store(builder.fadd(builder.load(acc), builder.fmul(va, vb)), acc)
        _store_lanes(context, builder, accs, po)
        return context.get_dummy_value()

    return sig, codegen


@intrinsic
def _step_lane_sums(typingctx: Any, w: Any, u: Any, e: Any, x: Any, s: Any, stop: Any, out: Any) -> Any:
    """One pass over ``j < stop``: ``w[j] += u[j]·e`` (the previous row's update), then
    ``out[l] += w[j]·x[j]`` as in :func:`_lane_sums` (this row's prediction), then ``u[j] = s·x[j]``
    (this row's update direction, applied on the next call).

    The new ``w[j]`` is multiplied while still in a register, so the prediction does not wait for the
    update's stores; ``u[j]·e`` and ``s·x[j]`` round exactly as ``(s·x[j])·e`` of the textbook update.
    ``w``, ``u`` and ``x`` must have unit stride, ``stop`` is a multiple of :data:`LANES`.
    """
    _check_float64_vectors(w, u, x, out)
    sig = types.void(w, u, e, x, s, stop, out)

    def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
        wv, uv, ev, xv, sv, nv, ov = args
        pw = context.make_array(signature.args[0])(context, builder, wv).data
        pu = context.make_array(signature.args[1])(context, builder, uv).data
        px = context.make_array(signature.args[3])(context, builder, xv).data
        po = context.make_array(signature.args[6])(context, builder, ov).data
        zero = ir.Constant(ir.VectorType(ir.DoubleType(), 4), [0.0] * 4)
        esplat = _splat(builder, ev)
        ssplat = _splat(builder, sv)
        accs = [cgutils.alloca_once_value(builder, zero) for _ in range(_VECS)]
        intp = context.get_value_type(types.intp)
        with cgutils.for_range_slice(builder, ir.Constant(intp, 0), nv, ir.Constant(intp, LANES),
                                     intp=intp) as (i, _):
            for v, acc in enumerate(accs):
                off = builder.add(i, ir.Constant(intp, 4 * v))
                wp = _vector_ptr(builder, pw, off)
                up = _vector_ptr(builder, pu, off)
                vx = builder.load(_vector_ptr(builder, px, off), align=8)
                wn = builder.fadd(builder.load(wp, align=8), builder.fmul(builder.load(up, align=8), esplat))
                builder.store(wn, wp, align=8)
                builder.store(builder.fmul(ssplat, vx), up, align=8)
                builder.store(builder.fadd(builder.load(acc), builder.fmul(wn, vx)), acc)
        _store_lanes(context, builder, accs, po)
        return context.get_dummy_value()

    return sig, codegen


#: doubles per vector of the RLS ``P`` update (no sum across lanes there: any width gives the same bits)
_PW = 8


@intrinsic
def _rank1_rows4(typingctx: Any, p: Any, b: Any, q: Any, inv: Any, xn: Any, pn: Any, stop: Any) -> Any:
    """Rows ``b … b+3`` of the C-contiguous square ``p``, columns ``c < stop`` (a multiple of 8):
    ``v = (p[r, c] − q[r]·q[c])·inv`` stored in ``p[r, c]``, and
    ``pn[c] = (((pn[c] + xn[b]·v_b) + xn[b+1]·v_b+1) + xn[b+2]·v_b+2) + xn[b+3]·v_b+3``.

    The scalar loop's operations in the scalar loop's order, on ``<8 x double>``: written out because the
    loop vectoriser, not knowing that the rows, ``q`` and ``pn`` do not overlap, checks that at run time
    for every block of rows (``q``, ``xn`` and ``pn`` are C-contiguous vectors of ``p``'s size).
    """
    if not (isinstance(p, types.Array) and p.ndim == 2 and p.layout == "C" and p.dtype == types.float64):
        raise TypingError(f"expected a C-contiguous 2-D float64 array; received: {p}")
    _check_float64_vectors(q, xn, pn)
    sig = types.void(p, b, q, inv, xn, pn, stop)

    def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
        pv, bv, qv, iv, xv, nv, sv = args
        parr = context.make_array(signature.args[0])(context, builder, pv)
        n = builder.extract_value(parr.shape, 1)
        pq = context.make_array(signature.args[2])(context, builder, qv).data
        px = context.make_array(signature.args[4])(context, builder, xv).data
        ppn = context.make_array(signature.args[5])(context, builder, nv).data
        intp = context.get_value_type(types.intp)
        vp = ir.VectorType(ir.DoubleType(), _PW).as_pointer()
        inv_splat = _splat(builder, iv, _PW)
        rows = [builder.add(bv, ir.Constant(intp, r)) for r in range(4)]
        q_splats = [_splat(builder, builder.load(builder.gep(pq, [r])), _PW) for r in rows]
        x_splats = [_splat(builder, builder.load(builder.gep(px, [r])), _PW) for r in rows]
        bases = [builder.gep(parr.data, [builder.mul(r, n)]) for r in rows]
        with cgutils.for_range_slice(builder, ir.Constant(intp, 0), sv, ir.Constant(intp, _PW),
                                     intp=intp) as (c, _):
            qc = builder.load(builder.bitcast(builder.gep(pq, [c]), vp), align=8)
            acc_ptr = builder.bitcast(builder.gep(ppn, [c]), vp)
            acc = builder.load(acc_ptr, align=8)
            for base, qr, xr in zip(bases, q_splats, x_splats, strict=True):
                ptr = builder.bitcast(builder.gep(base, [c]), vp)
                v = builder.fmul(builder.fsub(builder.load(ptr, align=8), builder.fmul(qr, qc)), inv_splat)
                builder.store(v, ptr, align=8)
                acc = builder.fadd(acc, builder.fmul(xr, v))
            builder.store(acc, acc_ptr, align=8)
        return context.get_dummy_value()

    return sig, codegen


@njit(cache=True, nogil=True, inline="always")
def _reduce(lanes: np.ndarray, s0: float) -> float:
    """The lanes added pairwise, lane 0 replaced by ``s0`` (lane 0 plus the tail)."""
    return ((s0 + lanes[1]) + (lanes[2] + lanes[3])) + ((lanes[4] + lanes[5]) + (lanes[6] + lanes[7]))


@njit(cache=True, nogil=True, inline="always")
def _dot(a: np.ndarray, b: np.ndarray, lanes: np.ndarray) -> float:
    """``a · b`` in the fixed lane order (``a``, ``b`` with unit stride; ``lanes`` is scratch)."""
    n = a.shape[0]
    stop = n - n % LANES
    _lane_sums(a, b, stop, lanes)  # type: ignore[call-arg]  # numba supplies typingctx
    s0 = lanes[0]
    for j in range(stop, n):
        s0 += a[j] * b[j]
    return _reduce(lanes, s0)


@njit(cache=True, nogil=True, inline="always")
def _step(w: np.ndarray, u: np.ndarray, e: float, xr: np.ndarray, s: float, lanes: np.ndarray) -> float:
    """:func:`_step_lane_sums` over all taps (tail included): the prediction ``w_new · xr``."""
    n = w.shape[0]
    stop = n - n % LANES
    _step_lane_sums(w, u, e, xr, s, stop, lanes)  # type: ignore[call-arg]  # numba supplies typingctx
    s0 = lanes[0]
    for j in range(stop, n):
        wj = w[j] + u[j] * e
        w[j] = wj
        s0 += wj * xr[j]
        u[j] = s * xr[j]
    return _reduce(lanes, s0)


@njit(cache=True, nogil=True, inline="always")
def _run_lms(x: np.ndarray, d: np.ndarray, w: np.ndarray, mu: float, eps: float, normalised: bool,
             limit: float, y: np.ndarray) -> int:
    """LMS (``normalised=False``: step ``mu``) or NLMS (step ``mu/(eps + ‖x‖²)``) over the rows of ``x``.

    The update of row ``k`` is applied in the same pass as the prediction of row ``k + 1``
    (:func:`_step_lane_sums`); after the last row it is applied on its own, so ``w`` leaves every call
    fully updated (a call split into chunks gives the one-pass result bit for bit). The outputs' filters
    are independent, so they run one after the other over all rows; the inner loop creates no array
    view per row but ``x[k]`` (a view costs atomic reference counting, which stalls the recursion).
    The first diverging row of any output is returned; every output has its ``y`` up to that row.
    """
    rows, n = x.shape
    m = w.shape[0]
    xb = np.empty(n)
    u = np.empty(n)  # the pending update direction (none before the first row)
    lanes = np.empty(LANES)
    unit = x.strides[1] == x.itemsize  # rows of a sliding-window view or a C array: no copy needed
    first_bad = -1
    for o in range(m):  # the outputs' filters are independent: one after the other, no per-row views
        wo = w[o]
        u[:] = 0.0
        e = 0.0
        bad = -1
        if unit:
            for k in range(rows):
                xr = x[k]
                s = mu / (eps + _dot(xr, xr, lanes)) if normalised else mu
                acc = _step(wo, u, e, xr, s, lanes)
                y[k, o] = acc
                e = d[k, o] - acc
                if not abs(e) <= limit:
                    bad = k
                    break
        else:
            for k in range(rows):
                for j in range(n):
                    xb[j] = x[k, j]
                s = mu / (eps + _dot(xb, xb, lanes)) if normalised else mu
                acc = _step(wo, u, e, xb, s, lanes)
                y[k, o] = acc
                e = d[k, o] - acc
                if not abs(e) <= limit:
                    bad = k
                    break
        if bad >= 0:
            if first_bad < 0 or bad < first_bad:
                first_bad = bad
            continue
        for j in range(n):
            wo[j] += u[j] * e
    return first_bad


@njit(cache=True, nogil=True)
def lms(x: np.ndarray, d: np.ndarray, w: np.ndarray, mu: float, limit: float, y: np.ndarray) -> int:
    r"""LMS: :math:`\mathbf{w} \leftarrow \mathbf{w} + \mu\, e\, \mathbf{x}` (computed as ``(mu·x)·e``)."""
    return _run_lms(x, d, w, mu, 0.0, False, limit, y)


@njit(cache=True, nogil=True)
def nlms(x: np.ndarray, d: np.ndarray, w: np.ndarray, mu: float, eps: float, limit: float,
         y: np.ndarray) -> int:
    r"""NLMS: :math:`\mathbf{w} \leftarrow \mathbf{w} + \eta\, e\, \mathbf{x}`.

    :math:`\eta = \mu/(\epsilon + \|\mathbf{x}\|^2)` (``eta`` is computed once per row, then applied as
    ``(eta·x)·e``).
    """
    return _run_lms(x, d, w, mu, eps, True, limit, y)


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

    One pass over :math:`\mathbf{P}` per sample, four rows at a time (:func:`_rank1_rows4`): each row is
    updated and, while in registers, added into the *next* sample's
    :math:`\mathbf{P}\mathbf{x} = \sum_b x_b \mathbf{P}_{b,:}` (rows, not dot products: every operation
    is element-wise, so it vectorises without reassociating anything). The sum runs over ``b`` in order
    whatever the blocking, and the first row of a call computes :math:`\mathbf{P}\mathbf{x}` in the same
    order, so chunked calls equal one pass bit for bit.
    """
    rows, n = x.shape
    m = w.shape[0]
    xb = np.empty(n)
    xn = np.empty(n)
    px = np.empty(n)
    pn = np.empty(n)
    gain = np.empty(n)
    q = np.empty(n)
    lanes = np.empty(LANES)
    inv = 1.0 / lam
    stop = n - n % _PW
    if rows == 0:
        return -1
    for j in range(n):
        xb[j] = x[0, j]
        px[j] = 0.0
    for b in range(n):
        xbb = xb[b]
        for c in range(n):
            px[c] += xbb * p[b, c]
    w0 = w[0]  # single output (the usual case): no view per row
    for k in range(rows):
        denom = lam + _dot(px, xb, lanes)
        if not (denom > 0.0 and denom < np.inf):
            return k
        for a in range(n):
            gain[a] = px[a] / denom
        if m == 1:
            acc = _dot(w0, xb, lanes)
            y[k, 0] = acc
            e = d[k, 0] - acc
            if not abs(e) <= limit:
                return k
            for j in range(n):
                w0[j] += gain[j] * e
        else:
            for o in range(m):
                wo = w[o]
                acc = _dot(wo, xb, lanes)
                y[k, o] = acc
                e = d[k, o] - acc
                if not abs(e) <= limit:
                    return k
                for j in range(n):
                    wo[j] += gain[j] * e
        scale = 1.0 / np.sqrt(denom)
        for a in range(n):
            q[a] = px[a] * scale
        last = k + 1 == rows
        for j in range(n):
            xn[j] = 0.0 if last else x[k + 1, j]  # after the last row the sum is not needed
            pn[j] = 0.0
        b = 0
        while b + 4 <= n:  # q[a]·q[b] == q[b]·q[a]: P stays symmetric
            q0, q1, q2, q3 = q[b], q[b + 1], q[b + 2], q[b + 3]
            x0, x1, x2, x3 = xn[b], xn[b + 1], xn[b + 2], xn[b + 3]
            _rank1_rows4(p, b, q, inv, xn, pn, stop)  # type: ignore[call-arg]  # numba supplies typingctx
            for c in range(stop, n):  # 2-D indexing, no row views (their reference counting is atomic)
                qc = q[c]
                v0 = (p[b, c] - q0 * qc) * inv
                v1 = (p[b + 1, c] - q1 * qc) * inv
                v2 = (p[b + 2, c] - q2 * qc) * inv
                v3 = (p[b + 3, c] - q3 * qc) * inv
                p[b, c] = v0
                p[b + 1, c] = v1
                p[b + 2, c] = v2
                p[b + 3, c] = v3
                pn[c] = (((pn[c] + x0 * v0) + x1 * v1) + x2 * v2) + x3 * v3
            b += 4
        while b < n:
            qb = q[b]
            xnb = xn[b]
            for c in range(n):
                v = (p[b, c] - qb * q[c]) * inv
                p[b, c] = v
                pn[c] += xnb * v
            b += 1
        xb, xn = xn, xb
        px, pn = pn, px
    return -1
