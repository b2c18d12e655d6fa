# Same numba/mypy situation as _kernels.py: kernel arguments are inferred per call.
# mypy: disable-error-code="no-untyped-def,arg-type,assignment,return-value"
"""numba epilogue of the exact float64 GEMM path of Dense layers (private).

A Dense layer whose products are exact in its accumulator type (no product
rounding) and whose partial sums are provably integers below 2**52 in magnitude
is an integer matrix product that float64 BLAS computes exactly, in any order.
The GEMM (numpy ``matmul``) leaves ``acc`` (events, n_out) as float64 integers;
this kernel finishes the layer in one pass: add the accumulator-typed bias, wrap
to the accumulator width (a ring homomorphism, so wrapping once at the end equals
wrapping after every addition), cast to the result type and, fused, apply the
following linear/ReLU activation's cast. It writes into ``out`` of either dtype:
float64 when the next GEMM reads it, int64 raws at the end of a chain.

Kept apart from ``_kernels.py`` (which is near the module size limit); it reuses
that module's scalar cast helpers. The kernels here are serial and release the
GIL (``nogil``): the fused chain runs event ranges in Python threads, each doing
single-threaded BLAS then these kernels, which scales without numba's and
BLAS's thread pools competing for the cores.
"""

from __future__ import annotations

import types
from collections.abc import Callable
from typing import Any

import numpy as np
from numba import njit

from emulator.fixed._kernels import wrap_raw

from ._kernels import _F, _S, _W, _quantize, cast_into

ACT_NONE, ACT_LINEAR, ACT_RELU = range(3)


@njit(cache=True, inline="always")
def wrap_into(src, dst, size, p_acc):  # pragma: no cover - jitted
    """dst[:size] = src[:size] reduced to the accumulator width: the ring sum's value."""
    width = p_acc[_W]
    signed = p_acc[_S]
    for k in range(size):
        dst[k] = wrap_raw(src[k], width, signed)


@njit(cache=True, inline="always")
def act_into(r, t, size, src_frac, act, p_act, keep, dst):  # pragma: no cover - jitted
    """dst[:size] = act(r[:size]) for raws ``r`` with ``src_frac`` fraction bits:
    ACT_NONE copies, ACT_LINEAR casts to ``p_act``, ACT_RELU casts where r > 0 and
    gives 0 elsewhere (``_kernels._relu``'s arithmetic); ``t`` is scratch.
    ``keep``: the cast leaves every raw the activation casts unchanged
    (``layers.cast_keeps``), so it is skipped."""
    if act == ACT_NONE or (act == ACT_LINEAR and keep):
        for k in range(size):
            dst[k] = r[k]
    elif act == ACT_RELU and keep:
        for k in range(size):
            dst[k] = max(r[k], 0)
    else:
        cast_into(r[:size], t[:size], src_frac, p_act)
        if act == ACT_RELU:
            for k in range(size):
                dst[k] = t[k] if r[k] > 0 else 0
        else:
            for k in range(size):
                dst[k] = t[k]


@njit(cache=True, inline="always")
def finish_into(src, a, r, size, p_acc, p_res, keep_res):  # pragma: no cover - jitted
    """The Dense result raws of accumulator sums ``src`` (exact modulo 2**W) into
    ``r[:size]``: wrap to the accumulator width, cast to the result type (skipped
    when ``keep_res``: the cast keeps every accumulator raw); ``a`` is scratch."""
    if keep_res:
        wrap_into(src, r, size, p_acc)
    else:
        wrap_into(src, a, size, p_acc)
        cast_into(a[:size], r[:size], p_acc[_F], p_res)


def _dense_epilogue(acc, bias, p_acc, p_res, keep_res, act, p_act, keep_act, out):
    """out = act(cast_res(wrap_acc(acc + bias))), in blocks of about 4096 values.

    ``act``: ACT_NONE (out is the Dense result), ACT_LINEAR (cast to ``p_act``) or
    ACT_RELU, as ``act_into`` computes them.
    """
    n, n_out = acc.shape
    flat_out = out.reshape(-1)
    rows = max(1, 4096 // max(n_out, 1))
    n_blocks = (n + rows - 1) // rows
    res_frac = p_res[_F]
    for blk in range(n_blocks):
        e0 = blk * rows
        nb = min(rows, n - e0)
        size = nb * n_out
        a = np.empty(rows * n_out, np.int64)
        r = np.empty(rows * n_out, np.int64)
        k = 0
        for e in range(e0, e0 + nb):
            for j in range(n_out):
                a[k] = np.int64(acc[e, j]) + bias[j]
                k += 1
        finish_into(a, a, r, size, p_acc, p_res, keep_res)
        dst = flat_out[e0 * n_out : e0 * n_out + size]
        act_into(r, a, size, res_frac, act, p_act, keep_act, dst)


def _nogil(fn: Callable[..., Any], name: str) -> Callable[..., Any]:
    """Compile ``fn`` serially with the GIL released, under its own name so that
    numba's on-disk cache never confuses it with another compilation of the same
    code (see ``_kernels._twice``)."""
    twin = types.FunctionType(fn.__code__, fn.__globals__, name, fn.__defaults__, fn.__closure__)
    twin.__qualname__ = name
    return njit(cache=True, error_model="numpy", nogil=True)(twin)


dense_epilogue = _nogil(_dense_epilogue, "_dense_epilogue_nogil")
quantize = _nogil(_quantize, "_quantize_nogil")
"""``_kernels.quantize`` (ap_fixed from double), serial and GIL-free."""
