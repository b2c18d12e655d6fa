"""Lookup tables of hls4ml's activations, computed as its C++ computes them (private).

The C simulation fills its tables at run time with single-precision libm calls
(``std::exp(float)`` is ``expf``); we call the same libm through ctypes so each
entry is the same float, then convert it to the table type as ``ap_fixed(double)``
does. Emulator models store the tables, so replay never recomputes them.
"""

from __future__ import annotations

import ctypes
import ctypes.util
from collections.abc import Callable

import numpy as np

from emulator.fixed import FixedType

from . import _kernels

FloatFn = Callable[[np.ndarray], np.ndarray]


def _libm_float(name: str, fallback: FloatFn) -> FloatFn:
    """Vectorised single-precision libm function (``expf``...), numpy if libm is absent."""
    path = ctypes.util.find_library("m")
    if path is None:  # pragma: no cover - every Linux has libm
        return fallback
    fn = getattr(ctypes.CDLL(path), name)
    fn.restype = ctypes.c_float
    fn.argtypes = [ctypes.c_float]

    def apply(x: np.ndarray) -> np.ndarray:
        flat = np.asarray(x, dtype=np.float32).ravel()
        out = np.fromiter((fn(float(v)) for v in flat), dtype=np.float32, count=flat.size)
        return out.reshape(np.shape(x))

    return apply


def _libm_double(name: str, fallback: FloatFn) -> FloatFn:
    path = ctypes.util.find_library("m")
    if path is None:  # pragma: no cover
        return fallback
    fn = getattr(ctypes.CDLL(path), name)
    fn.restype = ctypes.c_double
    fn.argtypes = [ctypes.c_double]

    def apply(x: np.ndarray) -> np.ndarray:
        flat = np.asarray(x, dtype=np.float64).ravel()
        return np.fromiter((fn(float(v)) for v in flat), dtype=np.float64, count=flat.size)

    return apply


expf = _libm_float("expf", lambda x: np.exp(x.astype(np.float64)).astype(np.float32))
tanh_double = _libm_double("tanh", np.tanh)


def quantize_doubles(values: np.ndarray, t: FixedType) -> np.ndarray:
    """ap_fixed-from-double of each value into type t, as raw int64 (NaN and
    infinity as the headers convert them: the inverse table holds 1/0)."""
    x = np.ascontiguousarray(np.asarray(values, dtype=np.float64).reshape(1, -1))
    out = np.empty(x.shape, dtype=np.int64)
    _kernels.quantize[0](x, _kernels.params(t), out)
    return out.ravel()


def _grid(size: int, half_range: float) -> np.ndarray:
    """in_val = 2 * R * (ii - N / 2.0) / N in double, stored in a float."""
    ii = np.arange(size, dtype=np.float64)
    return (2 * half_range * (ii - size / 2.0) / size).astype(np.float32)


def sigmoid_table(size: int, table_type: FixedType) -> np.ndarray:
    """init_sigmoid_table: 1.0 / (1 + std::exp(-x)) with float x."""
    x = _grid(size, 8.0)
    denom = (np.float32(1) + expf(-x)).astype(np.float32)
    return quantize_doubles(1.0 / denom.astype(np.float64), table_type)


def tanh_table(size: int, table_type: FixedType) -> np.ndarray:
    """init_tanh_table: tanh(float x), resolved to the double ::tanh in the template."""
    x = _grid(size, 4.0)
    return quantize_doubles(tanh_double(x.astype(np.float64)), table_type)


def _values_from_index(size: int, t: FixedType) -> np.ndarray:
    """softmax_real_val_from_idx: the type's value whose top log2(size) bits are i,
    as ``(float)x``: ap_fixed's ``to_float`` rounds the exact value once, half to
    even (int64 -> float32 is that rounding; scaling by a power of two is exact)."""
    n_bits = int(np.ceil(np.log2(size)))
    if t.width < n_bits:
        raise ValueError(f"softmax table of {size} entries needs {n_bits} bits, type {t} has fewer")
    raw = np.arange(size, dtype=np.int64) << np.int64(t.width - n_bits)  # 64-bit wraps
    if t.signed and t.width < 64:
        raw = np.where(raw >= (1 << (t.width - 1)), raw - (1 << t.width), raw)
    counts = raw.view(np.uint64) if not t.signed else raw
    values: np.ndarray = np.ldexp(counts.astype(np.float32), -t.frac).astype(np.float32)
    return values


def exp_table(
    size: int, index_type: FixedType, table_type: FixedType, negative: bool, scale: float
) -> np.ndarray:
    """init_exp_table: exp(float(x) * exp_scale), x negated for the stable softmax."""
    x = (_values_from_index(size, index_type) * np.float32(scale)).astype(np.float32)
    if negative:
        x = -x
    return quantize_doubles(expf(x).astype(np.float64), table_type)


def invert_table(size: int, index_type: FixedType, table_type: FixedType) -> np.ndarray:
    """init_invert_table: 1 / float(x) in single precision (1/0 is +inf)."""
    x = _values_from_index(size, index_type)
    with np.errstate(divide="ignore"):
        inv = np.float32(1) / x
    return quantize_doubles(inv.astype(np.float64), table_type)
