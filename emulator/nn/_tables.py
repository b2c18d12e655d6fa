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
from typing import Any

import numpy as np

from . import _kernels
from ._types import kernel_params

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


def quantize_doubles(values: np.ndarray, t: Any) -> np.ndarray:
    """ap_fixed-from-double of each value into type t, as raw int64."""
    x = np.ascontiguousarray(np.asarray(values, dtype=np.float64).reshape(1, -1))
    out = np.empty(x.shape, dtype=np.int64)
    _kernels.quantize[0](x, kernel_params(t), out)
    return out.ravel()


def _grid(size: int, half_range: float) -> np.ndarray:
    """in_val = 2 * R * (ii - N / 2.0) / N in double, stored in a float."""
    ii = np.arange(size, dtype=np.float64)
    return (2 * half_range * (ii - size / 2.0) / size).astype(np.float32)


def sigmoid_table(size: int, table_type: Any) -> np.ndarray:
    """init_sigmoid_table: 1.0 / (1 + std::exp(-x)) with float x."""
    x = _grid(size, 8.0)
    denom = (np.float32(1) + expf(-x)).astype(np.float32)
    return quantize_doubles(1.0 / denom.astype(np.float64), table_type)


def tanh_table(size: int, table_type: Any) -> np.ndarray:
    """init_tanh_table: tanh(float x), resolved to the double ::tanh in the template."""
    x = _grid(size, 4.0)
    return quantize_doubles(tanh_double(x.astype(np.float64)), table_type)


def _values_from_index(size: int, t: Any) -> np.ndarray:
    """softmax_real_val_from_idx: the type's value whose top log2(size) bits are i."""
    n_bits = int(np.ceil(np.log2(size)))
    if t.width < n_bits:
        raise ValueError(f"softmax table of {size} entries needs {n_bits} bits, type {t} has fewer")
    raw = np.arange(size, dtype=np.int64) << (t.width - n_bits)
    if t.signed:
        raw = np.where(raw >= (1 << (t.width - 1)), raw - (1 << t.width), raw)
    values: np.ndarray = (raw.astype(np.float64) * 2.0 ** (-(t.width - t.integer))).astype(
        np.float32
    )
    return values


def exp_table(
    size: int, index_type: Any, table_type: Any, negative: bool, scale: float
) -> np.ndarray:
    """init_exp_table: exp(float(x) * exp_scale), x negated for the stable softmax."""
    x = (_values_from_index(size, index_type) * np.float32(scale)).astype(np.float32)
    if negative:
        x = -x
    return quantize_doubles(expf(x).astype(np.float64), table_type)


def invert_table(size: int, index_type: Any, table_type: Any) -> np.ndarray:
    """init_invert_table: 1 / float(x) in single precision (1/0 is +inf)."""
    x = _values_from_index(size, index_type)
    with np.errstate(divide="ignore"):
        inv = np.float32(1) / x
    return quantize_doubles(inv.astype(np.float64), table_type)
