# The kernels are numba code: arguments are arrays and numpy scalars whose types
# numba infers per call; mypy cannot follow numpy/Python int mixing through
# @njit dispatchers, so these checks are off for this module only.
# mypy: disable-error-code="no-untyped-def,arg-type,assignment,return-value"
"""numba integer kernels for the network emulator (private).

Every kernel works on raw two's-complement integers in int64 arrays shaped
(events, features). A fixed-point type enters a kernel as an int64 vector
``p = [width, frac, signed, rounding, overflow]`` (see ``_types.kernel_params``);
rounding and overflow codes follow the ap_types enums' order used by
``emulator.fixed``: TRN, TRN_ZERO, RND, RND_ZERO, RND_INF, RND_MIN_INF, RND_CONV and
WRAP, SAT, SAT_ZERO, SAT_SYM.

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

TRN, TRN_ZERO, RND, RND_ZERO, RND_INF, RND_MIN_INF, RND_CONV = range(7)
WRAP, SAT, SAT_ZERO, SAT_SYM = range(4)

_W, _F, _S, _Q, _O = range(5)


@njit(cache=True, inline="always")
def round_shift(v: int, s: int, rnd: int) -> int:  # pragma: no cover - jitted
    """v / 2**s rounded with ap_fixed quantisation mode ``rnd`` (1 <= s <= 62)."""
    q = v >> s
    if rnd == TRN:
        return q
    rem = v - (q << s)
    if rnd == TRN_ZERO:
        if v < 0 and rem != 0:
            return q + 1
        return q
    half = np.int64(1) << (s - 1)
    if rem > half:
        return q + 1
    if rem < half:
        return q
    # exactly half way
    if rnd == RND:
        return q + 1
    if rnd == RND_ZERO:
        return q + 1 if v < 0 else q
    if rnd == RND_INF:
        return q if v < 0 else q + 1
    if rnd == RND_MIN_INF:
        return q
    # RND_CONV: to even
    return q + (q & 1)


@njit(cache=True, inline="always")
def fit(q: int, width: int, signed: int, ovf: int, big: int) -> int:  # pragma: no cover
    """Apply ap_fixed overflow handling to the exact integer q (``big`` = +-1 when q is
    known to exceed int64, its low 64 bits still being valid for WRAP)."""
    if signed:
        lo = -(np.int64(1) << (width - 1))
        hi = (np.int64(1) << (width - 1)) - 1
    else:
        lo = np.int64(0)
        hi = (np.int64(1) << width) - 1
    if big == 0 and lo <= q <= hi:
        if ovf == SAT_SYM and signed and q == lo:
            return lo + 1
        return q
    if ovf == WRAP:
        m = q & ((np.int64(1) << width) - 1)
        if signed and m > hi:
            m -= np.int64(1) << width
        return m
    if ovf == SAT_ZERO:
        return np.int64(0)
    negative = big < 0 or (big == 0 and q < lo)
    if negative:
        if ovf == SAT_SYM and signed:
            return lo + 1
        return lo
    return hi


@njit(cache=True, inline="always")
def cast_raw(v: int, src_frac: int, p: np.ndarray) -> int:  # pragma: no cover
    """ap_fixed assignment: raw v with src_frac fractional bits into type p."""
    s = src_frac - p[_F]
    big = 0
    if s > 0:
        if s > 62:
            q = np.int64(-1) if (v < 0 and p[_Q] == TRN) else np.int64(0)
        else:
            q = round_shift(v, s, p[_Q])
    elif s == 0:
        q = v
    else:
        k = -s
        if k >= 63:
            q = np.int64(0)
            if v > 0:
                big = 1
            elif v < 0:
                big = -1
        else:
            q = v << k
            if (q >> k) != v:
                big = 1 if v > 0 else -1
    return fit(q, p[_W], p[_S], p[_O], big)


@njit(cache=True, inline="always")
def quantize_double(x: float, p: np.ndarray) -> int:  # pragma: no cover
    """ap_fixed construction from a double (exact rounding of the double's value);
    NaN and infinities behave as the header does: as huge values of their sign."""
    width = p[_W]
    rnd = p[_Q]
    if np.isnan(x) or np.isinf(x):
        big = -1 if np.signbit(x) else 1
        return fit(np.int64(0), width, p[_S], p[_O], big)
    y = np.ldexp(x, p[_F])
    if x != 0.0 and abs(y) < 1.0e-300:
        # |x * 2**frac| far below one half (possibly flushed to zero by ldexp):
        # only the sign matters: floor gives -1 for negatives, the rest 0.
        tiny = -1 if (x < 0.0 and rnd == TRN) else 0
        return fit(np.int64(tiny), width, p[_S], p[_O], 0)
    f = np.floor(y)
    frac = y - f
    if frac != 0.0 and rnd != TRN:
        if rnd == TRN_ZERO:
            up = y < 0
        elif frac > 0.5:
            up = True
        elif frac < 0.5:
            up = False
        elif rnd == RND:
            up = True
        elif rnd == RND_ZERO:
            up = y < 0
        elif rnd == RND_INF:
            up = y > 0
        elif rnd == RND_MIN_INF:
            up = False
        else:  # RND_CONV
            up = np.fmod(f, 2.0) != 0.0
        if up:
            f += 1.0
    if -4.0e18 < f < 4.0e18:
        return fit(np.int64(f), width, p[_S], p[_O], 0)
    big = -1 if f < 0 else 1
    if p[_O] != WRAP:
        return fit(np.int64(0), width, p[_S], p[_O], big)
    m = np.fmod(f, 2.0**width)  # exact for floats
    if m < 0:
        m += 2.0**width
    return (
        fit(np.int64(m), width, p[_S], WRAP, 0)
        if m < 2.0**62
        else fit(np.int64(m - 2.0**width), width, p[_S], WRAP, 0)
    )


@njit(cache=True)
def cast_vec(
    src: np.ndarray, n: int, src_frac: int, p: np.ndarray, dst: np.ndarray, fast: bool
) -> None:  # pragma: no cover
    """dst[:n] = cast(src[:n]); ``fast`` (decided by ``fast_cast_ok``) selects
    branch-free loops the compiler vectorises for TRN/RND with WRAP/SAT."""
    if not fast:
        for i in range(n):
            dst[i] = cast_raw(src[i], src_frac, p)
        return
    s = src_frac - p[_F]
    width = p[_W]
    signed = p[_S]
    if signed:
        lo = -(np.int64(1) << (width - 1))
        hi = (np.int64(1) << (width - 1)) - 1
    else:
        lo = np.int64(0)
        hi = (np.int64(1) << width) - 1
    up = 64 - width
    half = (np.int64(1) << (s - 1)) if (s > 0 and p[_Q] == RND) else np.int64(0)
    rs = max(0, s)
    ls = -s if s < 0 else 0
    if p[_O] == WRAP:
        if signed:
            for i in range(n):
                dst[i] = ((((src[i] + half) >> rs) << ls) << up) >> up
        else:
            for i in range(n):
                dst[i] = (((src[i] + half) >> rs) << ls) & hi
    else:
        for i in range(n):
            q = ((src[i] + half) >> rs) << ls
            dst[i] = min(max(q, lo), hi)


def _twice(
    fn: Callable[..., Any], fastmath: bool = False
) -> tuple[Callable[..., Any], Callable[..., Any]]:
    """Compile one prange kernel as (serial, parallel).

    numba's on-disk cache is keyed by the function's qualified name and signature,
    not by the ``parallel`` flag: the parallel twin is a copy of the function under
    its own name so that neither compiled version loads in place of the other.
    """
    twin = types.FunctionType(
        fn.__code__, fn.__globals__, f"{fn.__name__}_parallel", fn.__defaults__, fn.__closure__
    )
    twin.__qualname__ = f"{fn.__qualname__}_parallel"
    return (
        njit(cache=True, error_model="numpy", fastmath=fastmath)(fn),
        njit(cache=True, error_model="numpy", parallel=True, fastmath=fastmath)(twin),
    )


# ----------------------------------------------------------------------------- element-wise


def _cast(x, src_frac, p, out, fast=False):
    flat_in = x.reshape(-1)
    flat_out = out.reshape(-1)
    size = flat_in.shape[0]
    block = 4096
    for blk in prange((size + block - 1) // block):
        e0 = blk * block
        nb = min(block, size - e0)
        cast_vec(flat_in[e0 : e0 + nb], nb, src_frac, p, flat_out[e0 : e0 + nb], fast)


def _cast_each(x, src_frac, pe, p_out, out):
    """Per-element quantiser (HGQ): cast to pe[j] (width 0 gives 0), then to p_out."""
    for e in prange(x.shape[0]):
        for j in range(x.shape[1]):
            if pe[j, _W] == 0:
                out[e, j] = 0
            else:
                t = cast_raw(x[e, j], src_frac, pe[j])
                out[e, j] = cast_raw(t, pe[j, _F], p_out)


def _quantize(x, p, out):
    """ap_fixed(double) of every element; TRN, RND and RND_CONV with WRAP/SAT take a
    branch-light loop for |x * 2**frac| < 2**52 (there floor and y - floor(y) are
    exact, so the rounding decision is too; ``floor(y + 0.5)`` would not be: the
    sum itself rounds), everything else the exact general routine."""
    flat_in = x.reshape(-1)
    flat_out = out.reshape(-1)
    size = flat_in.shape[0]
    block = 4096
    width = p[_W]
    signed = p[_S]
    rnd = p[_Q]
    # plain scalar comparisons: what numba compiles most simply
    simple = (rnd == TRN or rnd == RND or rnd == RND_CONV) and (  # noqa: PLR1714, SIM109
        p[_O] == WRAP or p[_O] == SAT
    )
    scale = np.ldexp(1.0, p[_F])
    up = 64 - width
    if signed:
        lo = -(np.int64(1) << (width - 1))
        hi = (np.int64(1) << (width - 1)) - 1
    else:
        lo = np.int64(0)
        hi = (np.int64(1) << width) - 1
    wrap = p[_O] == WRAP
    for blk in prange((size + block - 1) // block):
        for k in range(blk * block, min(size, (blk + 1) * block)):
            v = flat_in[k]
            y = v * scale
            if simple and abs(y) < 4.0e15 and (abs(y) >= 1.0e-300 or v == 0.0):
                if rnd == RND_CONV:
                    q = np.int64(np.rint(y))  # half to even, exact below 2**52
                else:
                    f = np.floor(y)
                    q = np.int64(f)
                    if rnd == RND and y - f >= 0.5:
                        q += 1
                if wrap:
                    flat_out[k] = ((q << up) >> up) if signed else (q & hi)
                else:
                    flat_out[k] = min(max(q, lo), hi)
            else:
                flat_out[k] = quantize_double(v, p)


def _relu(x, src_frac, p, out, fast=False):
    flat_in = x.reshape(-1)
    flat_out = out.reshape(-1)
    size = flat_in.shape[0]
    block = 4096
    for blk in prange((size + block - 1) // block):
        e0 = blk * block
        nb = min(block, size - e0)
        src = flat_in[e0 : e0 + nb]
        dst = flat_out[e0 : e0 + nb]
        cast_vec(src, nb, src_frac, p, dst, fast)
        for i in range(nb):
            dst[i] = dst[i] if src[i] > 0 else 0


def _leaky_relu(x, src_frac, alpha, alpha_frac, p, out):
    for e in prange(x.shape[0]):
        for j in range(x.shape[1]):
            v = x[e, j]
            if v > 0:
                out[e, j] = cast_raw(v, src_frac, p)
            else:
                out[e, j] = cast_raw(v * alpha, src_frac + alpha_frac, p)


def _scale_shift(x, src_frac, scale, scale_frac, bias, bias_shift, sum_frac, p, out):
    """BatchNorm: cast(x*scale + bias) with bias pre-aligned to sum_frac."""
    prod_shift = sum_frac - (src_frac + scale_frac)
    n_scale = scale.shape[0]
    for e in prange(x.shape[0]):
        for j in range(x.shape[1]):
            k = j % n_scale
            acc = ((x[e, j] * scale[k]) << prod_shift) + (bias[k] << bias_shift)
            out[e, j] = cast_raw(acc, sum_frac, p)


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
            out[e, j] = cast_raw(table[index], table_frac, p)


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
                acc = fit(acc, p_acc[_W], p_acc[_S], WRAP, 0)
            elif fast == 2:  # other rounding of products, ring arithmetic
                for i in range(n_in):
                    acc += round_shift(xe[i] * wj[i], s, p_acc[_Q])
                acc = fit(acc, p_acc[_W], p_acc[_S], WRAP, 0)
            else:
                for i in range(n_in):
                    m = cast_raw(xe[i] * wj[i], prod_frac, p_acc)
                    acc = fit(acc + m, p_acc[_W], p_acc[_S], p_acc[_O], 0)
            out[e, j] = cast_raw(acc, acc_frac, p_res)


def _dense_ring(x, w, bias_acc, s, rnd, p_acc, p_res, fast_res, out):
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
                        acc[j] += round_shift(xi * wi[j], s, rnd)
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
            cast_vec(acc, n_out, acc_frac, p_res, res, fast_res)
            for j in range(n_out):
                out[e, j] = res[j]


def _dense_float(x, ws, bias_acc, floor_products, p_acc, p_res, fast_res, out):
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
            cast_vec(iacc, n_out, acc_frac, p_res, res, fast_res)
            for j in range(n_out):
                out[e, j] = res[j]


def _dense_narrow(x, w, bias_acc, s, rnd, p_acc, p_res, fast_res, out):
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
                        acc[b] += round_shift(row[b] * wij, s, rnd)
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
            cast_vec(acc, nb, acc_frac, p_res, res, fast_res)
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
                a = cast_raw(y, src_frac, p_acc)
            else:
                a = np.int64(0)
                for k in range(k_size):
                    i = index[o, k]
                    v = x[e, i] if i >= 0 else 0
                    # accum_t + data_T at full precision, assigned to accum_t
                    fmax = max(acc_frac, src_frac)
                    t = (a << (fmax - acc_frac)) + (v << (fmax - src_frac))
                    a = cast_raw(t, fmax, p_acc)
                d = patch[o]
                q = -((-a) // d) if a < 0 else a // d
                a = fit(q, p_acc[_W], p_acc[_S], p_acc[_O], 0)
            out[e, o] = cast_raw(a, acc_frac, p_res)


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
                out[e, j] = cast_raw(u * v, a_frac + b_frac, p)
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
            out[e, j] = cast_raw(r, f, p)


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
    """hls4ml softmax_stable / softmax_latency over slices (n_outer, n_slice, n_inner)."""
    n_exp = exp_table.shape[0]
    n_inv = inv_table.shape[0]
    exp_bits = 0
    while (1 << exp_bits) < n_exp:
        exp_bits += 1
    inv_bits = 0
    while (1 << inv_bits) < n_inv:
        inv_bits += 1
    n_outer = x.shape[1] // (n_slice * n_inner)
    for e in prange(x.shape[0]):
        buf = np.empty(n_slice, np.int64)
        slots = np.empty(2 * n_slice, np.int64)
        for o in range(n_outer):
            for k in range(n_inner):
                for j in range(n_slice):
                    buf[j] = x[e, o * n_slice * n_inner + j * n_inner + k]
                if stable:
                    x_max = buf[0]
                    for j in range(1, n_slice):
                        x_max = max(x_max, buf[j])
                    for j in range(n_slice):
                        d = cast_raw(x_max - buf[j], src_frac, p_norm)
                        idx = _top_bits(d, p_norm[_W], exp_bits)
                        slots[j] = cast_raw(exp_table[idx], exp_frac, p_acc)
                else:
                    for j in range(n_slice):
                        idx = _top_bits(buf[j], p_norm[_W], exp_bits)
                        slots[j] = cast_raw(exp_table[idx], exp_frac, p_acc)
                for t in range(schedule.shape[0]):
                    slots[schedule[t, 0]] = fit(
                        slots[schedule[t, 1]] + slots[schedule[t, 2]],
                        p_acc[_W],
                        p_acc[_S],
                        p_acc[_O],
                        0,
                    )
                total = slots[schedule[schedule.shape[0] - 1, 0]] if n_slice > 1 else slots[0]
                s = cast_raw(total, p_acc[_F], p_inv_inp)
                inv = inv_table[_top_bits(s, p_inv_inp[_W], inv_bits)]
                for j in range(n_slice):
                    out[e, o * n_slice * n_inner + j * n_inner + k] = cast_raw(
                        slots[j] * inv, p_acc[_F] + inv_frac, p_res
                    )


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
                d = cast_raw(t, fmax, p_diff)
            else:
                d = cast_raw(x[e, i], x_frac, p_diff)
            sq = cast_raw(d * d, 2 * d_frac, p_acc)
            acc = fit(acc + sq, p_acc[_W], p_acc[_S], p_acc[_O], 0)
        out[e] = acc


sum_squares = _twice(_sum_squares)
