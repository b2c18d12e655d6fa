# The kernels are numba code: arguments are arrays and numpy scalars whose types
# numba infers per call; mypy cannot follow numpy/Python int mixing through
# @njit dispatchers, so these checks are off for this module only.
# mypy: disable-error-code="no-untyped-def,arg-type,assignment,return-value"
"""numba integer kernels for the network emulator (private).

Every kernel works on raw two's-complement integers in int64 arrays shaped
(events, features). A fixed-point type enters a kernel as an int64 vector
``p = [width, frac, signed, rounding, overflow]`` (``params(t)``, from
``FixedType.kernel_params``). All rounding, wrapping and saturation is the one
scalar core of ``emulator.fixed._kernels`` (inlined); NaN and infinity convert as
the ap_types headers do (``HEADERS``), as in hls4ml's C simulation.

Each event loop is written once with ``prange`` and compiled twice: ``serial`` (one
thread, prange acts as range) and ``parallel`` (numba threads). The public API in
``layers.py`` picks one.
"""

from __future__ import annotations

import types
from collections.abc import Callable
from typing import Any

import numpy as np
from numba import njit, prange

from emulator.fixed import FixedType
from emulator.fixed._kernels import (
    HEADERS,
    TRN,
    WRAP,
    cast_block,
    cast_raw,
    fit_raw,
    quantize_block,
    round_raw,
)

_W, _F, _S, _Q, _O = range(5)


def params(t: FixedType) -> np.ndarray:
    """``t.kernel_params()`` as the int64 vector ``p`` the kernels index."""
    return np.array(t.kernel_params(), dtype=np.int64)


@njit(cache=True, inline="always")
def cast_p(v: int, src_frac: int, p: np.ndarray) -> int:  # pragma: no cover - jitted
    """ap_fixed assignment of raw ``v`` (``src_frac`` fraction bits) into type ``p``."""
    return cast_raw(v, src_frac, p[_W], p[_F], p[_S], p[_Q], p[_O])  # type: ignore[no-any-return]


@njit(cache=True, inline="always")
def fit_p(v: int, p: np.ndarray) -> int:  # pragma: no cover - jitted
    """Overflow handling of type ``p`` applied to the exact value ``v`` (its LSBs)."""
    return fit_raw(v, p[_W], p[_S], p[_O])  # type: ignore[no-any-return]


@njit(cache=True, inline="always")
def cast_into(
    src: np.ndarray, dst: np.ndarray, src_frac: int, p: np.ndarray
) -> None:  # pragma: no cover
    """dst[:] = cast of every raw of the flat ``src`` into type ``p``."""
    cast_block(src, dst, src_frac, p[_W], p[_F], p[_S], p[_Q], p[_O])


def _twice(
    fn: Callable[..., Any], fastmath: bool = False
) -> tuple[Callable[..., Any], Callable[..., Any]]:
    """Compile one prange kernel as (serial, parallel).

    numba's on-disk cache is keyed by the function's qualified name and signature,
    not by the ``parallel`` flag: the parallel twin is a copy of the function under
    its own name so that neither compiled version loads in place of the other.
    The serial one releases the GIL, so fused chains running event ranges in
    Python threads overlap in it (the softmax after a chain).
    """
    twin = types.FunctionType(
        fn.__code__, fn.__globals__, f"{fn.__name__}_parallel", fn.__defaults__, fn.__closure__
    )
    twin.__qualname__ = f"{fn.__qualname__}_parallel"
    return (
        njit(cache=True, error_model="numpy", fastmath=fastmath, nogil=True)(fn),
        njit(cache=True, error_model="numpy", parallel=True, fastmath=fastmath)(twin),
    )


# ----------------------------------------------------------------------------- element-wise


def _cast(x, src_frac, p, out):
    flat_in = x.reshape(-1)
    flat_out = out.reshape(-1)
    size = flat_in.shape[0]
    block = 4096
    for blk in prange((size + block - 1) // block):
        e0 = blk * block
        e1 = min(size, e0 + block)
        cast_into(flat_in[e0:e1], flat_out[e0:e1], src_frac, p)


def _cast_each(x, src_frac, pe, p_out, out):
    """Per-element quantiser (HGQ): cast to pe[j] (width 0 gives 0), then to p_out."""
    for e in prange(x.shape[0]):
        for j in range(x.shape[1]):
            if pe[j, _W] == 0:
                out[e, j] = 0
            else:
                t = cast_p(x[e, j], src_frac, pe[j])
                out[e, j] = cast_p(t, pe[j, _F], p_out)


def _quantize(x, p, out):
    """ap_fixed(double) of every element (NaN and infinity as the headers read them)."""
    flat_in = x.reshape(-1)
    flat_out = out.reshape(-1)
    size = flat_in.shape[0]
    block = 4096
    for blk in prange((size + block - 1) // block):
        e0 = blk * block
        e1 = min(size, e0 + block)
        quantize_block(flat_in[e0:e1], flat_out[e0:e1], p[_W], p[_F], p[_S], p[_Q], p[_O], HEADERS)


def _relu(x, src_frac, p, out):
    flat_in = x.reshape(-1)
    flat_out = out.reshape(-1)
    size = flat_in.shape[0]
    block = 4096
    for blk in prange((size + block - 1) // block):
        e0 = blk * block
        nb = min(block, size - e0)
        src = flat_in[e0 : e0 + nb]
        dst = flat_out[e0 : e0 + nb]
        cast_into(src, dst, src_frac, p)
        for i in range(nb):
            dst[i] = dst[i] if src[i] > 0 else 0


def _leaky_relu(x, src_frac, alpha, alpha_frac, p, out):
    for e in prange(x.shape[0]):
        for j in range(x.shape[1]):
            v = x[e, j]
            if v > 0:
                out[e, j] = cast_p(v, src_frac, p)
            else:
                out[e, j] = cast_p(v * alpha, src_frac + alpha_frac, p)


@njit(cache=True, inline="always")
def scale_shift_raw(
    x: int, scale: int, bias: int, prod_shift: int, bias_shift: int
) -> int:  # pragma: no cover
    """nnet::normalize's exact x*scale + bias at the wider of the two fractions."""
    return ((x * scale) << prod_shift) + (bias << bias_shift)


def _scale_shift(x, src_frac, scale, scale_frac, bias, bias_shift, sum_frac, p, out):
    """BatchNorm: cast(x*scale + bias) with bias pre-aligned to sum_frac."""
    prod_shift = sum_frac - (src_frac + scale_frac)
    n_scale = scale.shape[0]
    for e in prange(x.shape[0]):
        for j in range(x.shape[1]):
            k = j % n_scale
            acc = scale_shift_raw(x[e, j], scale[k], bias[k], prod_shift, bias_shift)
            out[e, j] = cast_p(acc, sum_frac, p)


def _table_lookup(x, src_frac, size, divisor, table, table_frac, p, out):
    """hls4ml sigmoid/tanh: index = int(x * size / divisor) + size / 2, clipped."""
    offset = size // 2
    for e in prange(x.shape[0]):
        for j in range(x.shape[1]):
            q = x[e, j] * size
            # ap_fixed division by an int truncates toward zero at src_frac bits,
            # the conversion to int truncates toward zero again.
            q = -((-q) // divisor) if q < 0 else q // divisor
            if src_frac >= 0:
                d = np.int64(1) << src_frac
                r = -((-q) // d) if q < 0 else q // d
            else:
                r = q << (-src_frac)
            index = r + offset
            index = max(index, 0)
            index = min(index, size - 1)
            out[e, j] = cast_p(table[index], table_frac, p)


# ----------------------------------------------------------------------------- dense


def _dense(x, wt, bias_acc, prod_frac, p_acc, p_res, fast, out):
    """hls4ml dense_latency: acc = bias; acc += accum_t(x_i * w_ij) for i ascending.

    ``wt`` is the weight matrix transposed, (n_out, n_in). ``fast`` (proved at build
    time) means the accumulator wraps, or provably never overflows, and products
    are truncated: then acc = wrap(bias + sum(x*w >> s)), an exact identity because
    wrapping is a ring homomorphism.
    """
    n_out, n_in = wt.shape
    s = prod_frac - p_acc[_F]
    acc_frac = p_acc[_F]
    for e in prange(x.shape[0]):
        xe = x[e]
        for j in range(n_out):
            wj = wt[j]
            acc = bias_acc[j]
            if fast == 1:  # truncating or exact product, int64 ring arithmetic
                if s > 0:
                    for i in range(n_in):
                        acc += (xe[i] * wj[i]) >> s
                elif s == 0:
                    for i in range(n_in):
                        acc += xe[i] * wj[i]
                else:
                    for i in range(n_in):
                        acc += (xe[i] * wj[i]) << (-s)
                acc = fit_raw(acc, p_acc[_W], p_acc[_S], WRAP)
            elif fast == 2:  # other rounding of products, ring arithmetic
                for i in range(n_in):
                    acc += round_raw(xe[i] * wj[i], s, p_acc[_Q])
                acc = fit_raw(acc, p_acc[_W], p_acc[_S], WRAP)
            else:
                for i in range(n_in):
                    m = cast_p(xe[i] * wj[i], prod_frac, p_acc)
                    acc = fit_p(acc + m, p_acc)
            out[e, j] = cast_p(acc, acc_frac, p_res)


def _dense_ring(x, w, bias_acc, s, rnd, p_acc, p_res, out):
    """The exact fast path of ``_dense`` (fast modes 1 and 2).

    Per event, the accumulators of all outputs are updated row by row of the
    weights (the innermost loop runs over outputs: contiguous, SIMD-friendly), and
    zero inputs (frequent after ReLU) are skipped: their products are 0 whatever
    the rounding. Then acc wraps to the accumulator width and is cast.
    """
    n, n_in = x.shape
    n_out = w.shape[1]
    block = 512
    n_blocks = (n + block - 1) // block
    acc_frac = p_acc[_F]
    up = 64 - p_acc[_W]
    mask = (np.int64(1) << p_acc[_W]) - 1
    signed = p_acc[_S]
    for blk in prange(n_blocks):
        acc = np.empty(n_out, np.int64)
        res = np.empty(n_out, np.int64)
        for e in range(blk * block, min(n, (blk + 1) * block)):
            for j in range(n_out):
                acc[j] = bias_acc[j]
            for i in range(n_in):
                xi = x[e, i]
                if xi == 0:
                    continue
                wi = w[i]
                if s > 0 and rnd == TRN:
                    for j in range(n_out):
                        acc[j] += (xi * wi[j]) >> s
                elif s > 0:
                    for j in range(n_out):
                        acc[j] += round_raw(xi * wi[j], s, rnd)
                elif s == 0:
                    for j in range(n_out):
                        acc[j] += xi * wi[j]
                else:
                    for j in range(n_out):
                        acc[j] += (xi * wi[j]) << (-s)
            if signed:
                for j in range(n_out):
                    acc[j] = (acc[j] << up) >> up
            else:
                for j in range(n_out):
                    acc[j] = acc[j] & mask
            cast_into(acc, res, acc_frac, p_res)
            for j in range(n_out):
                out[e, j] = res[j]


def _dense_float(x, ws, bias_acc, floor_products, p_acc, p_res, out):
    """``_dense_ring`` in float64 arithmetic, used only when every product and every
    partial sum is an integer below 2**52 (checked at build time), so every
    operation is exact in any order (which is why this kernel may be compiled with
    fastmath): ``ws`` = w * 2**-s, products floored when s > 0 (TRN)."""
    n, n_in = x.shape
    n_out = ws.shape[1]
    block = 512
    n_blocks = (n + block - 1) // block
    acc_frac = p_acc[_F]
    up = 64 - p_acc[_W]
    mask = (np.int64(1) << p_acc[_W]) - 1
    signed = p_acc[_S]
    for blk in prange(n_blocks):
        acc = np.empty(n_out, np.float64)
        iacc = np.empty(n_out, np.int64)
        res = np.empty(n_out, np.int64)
        for e in range(blk * block, min(n, (blk + 1) * block)):
            for j in range(n_out):
                acc[j] = bias_acc[j]
            for i in range(n_in):
                xf = np.float64(x[e, i])
                wi = ws[i]
                if floor_products:
                    for j in range(n_out):
                        acc[j] += np.floor(xf * wi[j])
                else:
                    for j in range(n_out):
                        acc[j] += xf * wi[j]
            for j in range(n_out):
                a = np.int64(acc[j])
                iacc[j] = ((a << up) >> up) if signed else (a & mask)
            cast_into(iacc, res, acc_frac, p_res)
            for j in range(n_out):
                out[e, j] = res[j]


def _dense_narrow(x, w, bias_acc, s, rnd, p_acc, p_res, out):
    """``_dense_ring`` for few outputs: events of a block are transposed so the
    innermost loop runs over events with one weight broadcast."""
    n, n_in = x.shape
    n_out = w.shape[1]
    block = 256
    n_blocks = (n + block - 1) // block
    acc_frac = p_acc[_F]
    up = 64 - p_acc[_W]
    mask = (np.int64(1) << p_acc[_W]) - 1
    for blk in prange(n_blocks):
        e0 = blk * block
        nb = min(block, n - e0)
        xt = np.empty((n_in, block), np.int64)
        acc = np.empty(block, np.int64)
        res = np.empty(block, np.int64)
        for b in range(nb):
            for i in range(n_in):
                xt[i, b] = x[e0 + b, i]
        for j in range(n_out):
            bj = bias_acc[j]
            for b in range(nb):
                acc[b] = bj
            for i in range(n_in):
                wij = w[i, j]
                if wij == 0:
                    continue
                row = xt[i]
                if s > 0 and rnd == TRN:
                    for b in range(nb):
                        acc[b] += (row[b] * wij) >> s
                elif s > 0:
                    for b in range(nb):
                        acc[b] += round_raw(row[b] * wij, s, rnd)
                elif s == 0:
                    for b in range(nb):
                        acc[b] += row[b] * wij
                else:
                    for b in range(nb):
                        acc[b] += (row[b] * wij) << (-s)
            if p_acc[_S]:
                for b in range(nb):
                    acc[b] = (acc[b] << up) >> up
            else:
                for b in range(nb):
                    acc[b] = acc[b] & mask
            cast_into(acc[:nb], res[:nb], acc_frac, p_res)
            for b in range(nb):
                out[e0 + b, j] = res[b]


def _gather(x, index, out):
    """out[e, k] = x[e, index[k]] or 0 where index < 0 (im2col with zero padding)."""
    for e in prange(x.shape[0]):
        for k in range(index.shape[0]):
            i = index[k]
            out[e, k] = x[e, i] if i >= 0 else 0


# ----------------------------------------------------------------------------- pooling


def _pool(x, index, patch, is_max, pad_raw, src_frac, p_acc, p_res, out):
    """hls4ml pooling: index (n_out, K) with -1 for padding; max keeps data_T then
    casts to accum_t; average accumulates in accum_t and divides by patch (sdiv)."""
    n_out, k_size = index.shape
    acc_frac = p_acc[_F]
    for e in prange(x.shape[0]):
        for o in range(n_out):
            if is_max:
                i0 = index[o, 0]
                y = x[e, i0] if i0 >= 0 else pad_raw
                for k in range(1, k_size):
                    i = index[o, k]
                    v = x[e, i] if i >= 0 else pad_raw
                    y = max(y, v)
                a = cast_p(y, src_frac, p_acc)
            else:
                a = np.int64(0)
                for k in range(k_size):
                    i = index[o, k]
                    v = x[e, i] if i >= 0 else 0
                    # accum_t + data_T at full precision, assigned to accum_t
                    fmax = max(acc_frac, src_frac)
                    t = (a << (fmax - acc_frac)) + (v << (fmax - src_frac))
                    a = cast_p(t, fmax, p_acc)
                d = patch[o]
                q = -((-a) // d) if a < 0 else a // d
                a = fit_p(q, p_acc)
            out[e, o] = cast_p(a, acc_frac, p_res)


# ----------------------------------------------------------------------------- merge


def _add(a, a_frac, b, b_frac, op, p, out):
    """Element-wise merge at full precision, then cast: op 0 add, 1 subtract,
    2 multiply, 3 maximum, 4 minimum, 5 average (sum >> 1, exact in a wider type)."""
    fmax = max(a_frac, b_frac)
    for e in prange(a.shape[0]):
        for j in range(a.shape[1]):
            u = a[e, j]
            v = b[e, j]
            if op == 2:
                out[e, j] = cast_p(u * v, a_frac + b_frac, p)
                continue
            ua = u << (fmax - a_frac)
            vb = v << (fmax - b_frac)
            if op == 0:
                r = ua + vb
                f = fmax
            elif op == 1:
                r = ua - vb
                f = fmax
            elif op == 3:
                r = max(ua, vb)
                f = fmax
            elif op == 4:
                r = min(ua, vb)
                f = fmax
            else:
                r = ua + vb
                f = fmax + 1
            out[e, j] = cast_p(r, f, p)


# ----------------------------------------------------------------------------- softmax


def reduce_schedule(n: int) -> np.ndarray:
    """The balanced tree of nnet::reduce as (n-1, 3) slot operations (dst, a, b):
    slots 0..n-1 hold the inputs, the last operation writes the result."""
    ops: list[tuple[int, int, int]] = []
    next_slot = [n]

    def build(lo: int, count: int) -> int:
        if count == 1:
            return lo
        if count == 2:
            dst = next_slot[0]
            next_slot[0] += 1
            ops.append((dst, lo, lo + 1))
            return dst
        left = 1
        while left * 2 <= count - 1:
            left *= 2
        a = build(lo, left)
        b = build(lo + left, count - left)
        dst = next_slot[0]
        next_slot[0] += 1
        ops.append((dst, a, b))
        return dst

    build(0, n)
    return np.asarray(ops, dtype=np.int64).reshape(-1, 3)


@njit(cache=True, inline="always")
def _top_bits(v: int, width: int, n_bits: int) -> int:  # pragma: no cover
    return (v >> (width - n_bits)) & ((np.int64(1) << n_bits) - 1)


def _softmax(
    x,
    src_frac,
    n_slice,
    n_inner,
    stable,
    p_norm,
    exp_table,
    exp_frac,
    p_acc,
    p_inv_inp,
    inv_table,
    inv_frac,
    p_res,
    schedule,
    out,
):
    """hls4ml softmax_stable / softmax_latency over slices (n_outer, n_slice, n_inner).

    Blocks of events run events innermost (rows of ``block`` events per slice
    element) so the casts are branch-free block casts; the exp table is cast to
    the accumulator type once (each entry's ``accum_t(exp_table[i])``).
    """
    n_exp = exp_table.shape[0]
    n_inv = inv_table.shape[0]
    exp_bits = 0
    while (1 << exp_bits) < n_exp:
        exp_bits += 1
    inv_bits = 0
    while (1 << inv_bits) < n_inv:
        inv_bits += 1
    exp_acc = np.empty(n_exp, np.int64)
    cast_into(exp_table, exp_acc, exp_frac, p_acc)
    acc_frac = p_acc[_F]
    n_outer = x.shape[1] // (n_slice * n_inner)
    n = x.shape[0]
    block = 256
    top = schedule[schedule.shape[0] - 1, 0] if n_slice > 1 else 0
    for blk in prange((n + block - 1) // block):
        e0 = blk * block
        nb = min(block, n - e0)
        v = np.empty((n_slice, block), np.int64)
        slots = np.empty((2 * n_slice, block), np.int64)
        d = np.empty(block, np.int64)
        m = np.empty(block, np.int64)
        for o in range(n_outer):
            for k in range(n_inner):
                base = o * n_slice * n_inner + k
                for b in range(nb):
                    for j in range(n_slice):
                        v[j, b] = x[e0 + b, base + j * n_inner]
                if stable:
                    for b in range(nb):
                        m[b] = v[0, b]
                    for j in range(1, n_slice):
                        for b in range(nb):
                            m[b] = max(m[b], v[j, b])
                    for j in range(n_slice):
                        for b in range(nb):
                            d[b] = m[b] - v[j, b]
                        cast_into(d[:nb], d[:nb], src_frac, p_norm)
                        for b in range(nb):
                            slots[j, b] = exp_acc[_top_bits(d[b], p_norm[_W], exp_bits)]
                else:
                    for j in range(n_slice):
                        for b in range(nb):
                            slots[j, b] = exp_acc[_top_bits(v[j, b], p_norm[_W], exp_bits)]
                for t in range(schedule.shape[0]):
                    dst = schedule[t, 0]
                    a = schedule[t, 1]
                    c = schedule[t, 2]
                    for b in range(nb):
                        slots[dst, b] = fit_p(slots[a, b] + slots[c, b], p_acc)
                cast_into(slots[top, :nb], d[:nb], acc_frac, p_inv_inp)
                for b in range(nb):
                    m[b] = inv_table[_top_bits(d[b], p_inv_inp[_W], inv_bits)]
                for j in range(n_slice):
                    for b in range(nb):
                        d[b] = slots[j, b] * m[b]
                    cast_into(d[:nb], d[:nb], acc_frac + inv_frac, p_res)
                    for b in range(nb):
                        out[e0 + b, base + j * n_inner] = d[b]


def _argmax(x, n_slice, one_raw, out):
    n_outer = x.shape[1] // n_slice
    for e in prange(x.shape[0]):
        for o in range(n_outer):
            best = x[e, o * n_slice]
            idx = 0
            for j in range(n_slice):
                out[e, o * n_slice + j] = 0
            for j in range(1, n_slice):
                if x[e, o * n_slice + j] > best:
                    best = x[e, o * n_slice + j]
                    idx = j
            out[e, o * n_slice + idx] = one_raw


cast = _twice(_cast)
cast_each = _twice(_cast_each)
quantize = _twice(_quantize)
relu = _twice(_relu)
leaky_relu = _twice(_leaky_relu)
scale_shift = _twice(_scale_shift)
table_lookup = _twice(_table_lookup)
dense = _twice(_dense)
dense_ring = _twice(_dense_ring)
dense_narrow = _twice(_dense_narrow)
dense_float = _twice(_dense_float, fastmath=True)
gather = _twice(_gather)
pool = _twice(_pool)
merge = _twice(_add)
softmax = _twice(_softmax)
argmax = _twice(_argmax)


# ----------------------------------------------------------------------------- scores


def _sum_squares(x, x_frac, y, y_frac, has_y, p_diff, p_acc, out):
    """acc = sum_i accum_t(d_i * d_i), d_i = diff_t(x_i - y_i) (or x_i), i ascending."""
    fmax = max(x_frac, y_frac)
    d_frac = p_diff[_F]
    for e in prange(x.shape[0]):
        acc = np.int64(0)
        for i in range(x.shape[1]):
            if has_y:
                t = (x[e, i] << (fmax - x_frac)) - (y[e, i] << (fmax - y_frac))
                d = cast_p(t, fmax, p_diff)
            else:
                d = cast_p(x[e, i], x_frac, p_diff)
            sq = cast_p(d * d, 2 * d_frac, p_acc)
            acc = fit_p(acc + sq, p_acc)
        out[e] = acc


sum_squares = _twice(_sum_squares)
