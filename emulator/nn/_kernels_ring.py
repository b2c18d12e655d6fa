# Same numba/mypy situation as _kernels.py: kernel arguments are inferred per call.
# mypy: disable-error-code="no-untyped-def,arg-type,assignment,return-value,call-arg"
"""numba kernel of the int32 ring path of Dense chains (private).

A Dense layer whose accumulator has at most 32 bits and wraps (or provably never
overflows), and whose products are truncated (or exact), is ring arithmetic
modulo 2**32 once every product is exact modulo 2**(W_acc + s) in 32 bits (``s``
the fraction bits the product drops): each product ``x * w`` is taken modulo
2**32 and shifted (``ring_product``), summed modulo 2**32, and the accumulator's
W low bits are the hardware's. ``Dense.ring_weights`` proves that per layer.

``ring_chain`` runs a whole chain Input -> (Dense [-> BatchNorm] [-> linear/ReLU])*
over blocks of events, events innermost: every layer's input is an int32
(features, events) block, each output's sum runs over the block with one
broadcast weight per input (8 or 16 int32 lanes), and one pass per output row does
the wrap, the result cast, the BatchNorm and the activation with the shared
helpers (``_kernels_gemm.wrap_into`` / ``act_into``, ``_kernels.scale_shift_raw``,
the core's casts). The last layer writes int64 raws (events, outputs).
"""

from __future__ import annotations

import numpy as np
from llvmlite import ir  # type: ignore[import-untyped]
from numba import njit, types
from numba.extending import intrinsic

from ._kernels import _F, cast_into, scale_shift_raw
from ._kernels_gemm import _nogil, act_into, finish_into

# Columns of the per-layer table ``meta`` (int64, one row per Dense step).
(
    M_IN,
    M_OUT,
    M_W,
    M_B,
    M_S,
    M_ACT,
    M_BN,
    M_BN_N,
    M_BN_PROD,
    M_BN_BIAS,
    M_BN_SUM,
    M_KEEP_RES,
    M_KEEP_ACT,
) = range(13)
META_COLUMNS = 13
# Rows of the per-layer parameter table ``ptab`` (n_layers, 4, 5): kernel params.
P_ACC, P_RES, P_BN, P_ACT = range(4)


@intrinsic
def _ashr32(typingctx, v, s):  # noqa: ARG001 - numba intrinsic signature
    """(v mod 2**32, read as int32) >> s, arithmetic; v and s int64."""
    sig = types.int32(types.int64, types.int64)

    def codegen(context, builder, signature, args):  # noqa: ARG001
        i32 = ir.IntType(32)
        return builder.ashr(builder.trunc(args[0], i32), builder.trunc(args[1], i32))

    return sig, codegen


@intrinsic
def _shl32(typingctx, v, s):  # noqa: ARG001 - numba intrinsic signature
    """(v << s) mod 2**32 as int32; v and s int64."""
    sig = types.int32(types.int64, types.int64)

    def codegen(context, builder, signature, args):  # noqa: ARG001
        i32 = ir.IntType(32)
        return builder.shl(builder.trunc(args[0], i32), builder.trunc(args[1], i32))

    return sig, codegen


@njit(cache=True, inline="always")
def ring_product(x, w, s):  # pragma: no cover - jitted
    """The accumulator-typed product of raws x and w modulo 2**32: (x*w) >> s
    truncated (0 < s <= 31) or (x*w) << -s (-31 <= s <= 0)."""
    p = np.int64(x) * np.int64(w)
    return _ashr32(p, s) if s > 0 else _shl32(p, -s)


@njit(cache=True, inline="always")
def _mac(x, w, bias, n_in, n_out, s, nb, acc):  # pragma: no cover - jitted
    """acc[j, :nb] = bias[j] + sum_i ring_product(x[i, :nb], w[i, j]) modulo 2**32,
    four outputs at a time so that each input row is read once per four sums."""
    j0 = 0
    while j0 + 4 <= n_out:
        a0 = acc[j0]
        a1 = acc[j0 + 1]
        a2 = acc[j0 + 2]
        a3 = acc[j0 + 3]
        for b in range(nb):
            a0[b] = bias[j0]
            a1[b] = bias[j0 + 1]
            a2[b] = bias[j0 + 2]
            a3[b] = bias[j0 + 3]
        for i in range(n_in):
            row = x[i]
            k = i * n_out + j0
            w0 = w[k]
            w1 = w[k + 1]
            w2 = w[k + 2]
            w3 = w[k + 3]
            for b in range(nb):
                v = row[b]
                a0[b] += ring_product(v, w0, s)
                a1[b] += ring_product(v, w1, s)
                a2[b] += ring_product(v, w2, s)
                a3[b] += ring_product(v, w3, s)
        j0 += 4
    for j in range(j0, n_out):
        a = acc[j]
        for b in range(nb):
            a[b] = bias[j]
        for i in range(n_in):
            row = x[i]
            wij = w[i * n_out + j]
            for b in range(nb):
                a[b] += ring_product(row[b], wij, s)


def _ring_chain(raw, meta, ptab, wts, biases, bn_scale, bn_bias, block, out):
    """out (events, last n_out) int64 = the chain of ``meta`` rows on raw inputs
    ``raw`` (events, first n_in) int64, ``block`` events at a time."""
    n = raw.shape[0]
    n_layers = meta.shape[0]
    width = 1
    for k in range(n_layers):
        width = max(width, meta[k, M_IN], meta[k, M_OUT])
    xa = np.empty((width, block), np.int32)
    xb = np.empty((width, block), np.int32)
    acc = np.empty((width, block), np.int32)
    a = np.empty(block, np.int64)
    r = np.empty(block, np.int64)
    t = np.empty(block, np.int64)
    y = np.empty(block, np.int64)
    last = n_layers - 1
    n_first = meta[0, M_IN]
    for e0 in range(0, n, block):
        nb = min(block, n - e0)
        for b in range(nb):
            for i in range(n_first):
                xa[i, b] = raw[e0 + b, i]
        cur = xa
        nxt = xb
        for k in range(n_layers):
            n_in = meta[k, M_IN]
            n_out = meta[k, M_OUT]
            w = wts[meta[k, M_W] : meta[k, M_W] + n_in * n_out]
            bias = biases[meta[k, M_B] : meta[k, M_B] + n_out]
            _mac(cur, w, bias, n_in, n_out, meta[k, M_S], nb, acc)
            p_acc = ptab[k, P_ACC]
            p_res = ptab[k, P_RES]
            p_bn = ptab[k, P_BN]
            p_act = ptab[k, P_ACT]
            bn = meta[k, M_BN]
            for j in range(n_out):
                finish_into(acc[j], a, r, nb, p_acc, p_res, meta[k, M_KEEP_RES])
                src_frac = p_res[_F]
                if bn >= 0:
                    kk = bn + j % meta[k, M_BN_N]
                    scale = bn_scale[kk]
                    offset = bn_bias[kk]
                    for b in range(nb):
                        a[b] = scale_shift_raw(
                            r[b], scale, offset, meta[k, M_BN_PROD], meta[k, M_BN_BIAS]
                        )
                    cast_into(a[:nb], r[:nb], meta[k, M_BN_SUM], p_bn)
                    src_frac = p_bn[_F]
                if k < last:
                    act_into(r, t, nb, src_frac, meta[k, M_ACT], p_act, meta[k, M_KEEP_ACT], nxt[j])
                else:
                    act_into(r, t, nb, src_frac, meta[k, M_ACT], p_act, meta[k, M_KEEP_ACT], y)
                    for b in range(nb):
                        out[e0 + b, j] = y[b]
            cur, nxt = nxt, cur


ring_chain = _nogil(_ring_chain, "_ring_chain_nogil")
"""``_ring_chain``, serial and GIL-free (the chain runs event ranges in threads)."""
