"""Anomaly scores computed in declared fixed-point types.

Each score takes raw integers with their types and returns ``(raw, type)``: the
bits a firmware implementation with the same declared types would produce.

- ``reconstruction_mse``: autoencoder score, sum_i (x_i - x̂_i)^2 times 1/n.
- ``latent_norm``: sum_i mu_i^2 over an encoder's latent means (CMS AXOL1TL).
- ``flow_matching_score``: ||v(x, t)||^2 of a flow-matching vector field network
  evaluated at a fixed time t ("It's not a FAD" CNF score).

Arithmetic, element by element in index order: d_i = diff_type(x_i - y_i) at full
precision, s_i = accum_type(d_i * d_i), acc = accum_type(acc + s_i) starting from 0
(so a SAT accumulator saturates where the hardware's running sum would).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import _kernels
from ._kernels import params
from ._tables import quantize_doubles
from .layers import layer_type
from .model import Model


def _raw2d(raw: Any, what: str) -> np.ndarray:
    arr = np.asarray(raw)
    if arr.dtype.kind not in "iu":
        raise TypeError(f"{what} must be raw integers, got dtype {arr.dtype}")
    arr = arr.astype(np.int64, copy=False)
    if arr.ndim == 1:
        arr = arr.reshape(1, -1)
    return np.ascontiguousarray(arr.reshape(arr.shape[0], -1))


def sum_of_squares(
    x_raw: Any,
    x_type: Any,
    accum_type: Any,
    *,
    y_raw: Any = None,
    y_type: Any = None,
    diff_type: Any = None,
    parallel: bool = False,
) -> tuple[np.ndarray, Any]:
    """sum_i diff_type(x_i - y_i)^2 accumulated in accum_type (y omitted: x_i^2)."""
    x_type = layer_type(x_type)
    accum_type = layer_type(accum_type)
    x = _raw2d(x_raw, "x_raw")
    has_y = y_raw is not None
    if has_y:
        if y_type is None:
            raise ValueError("y_type is required with y_raw")
        y_type = layer_type(y_type)
        y = _raw2d(y_raw, "y_raw")
        if y.shape != x.shape:
            raise ValueError(f"x_raw {x.shape} and y_raw {y.shape} differ in shape")
        y_frac = y_type.frac
    else:
        y, y_frac = x, x_type.frac
    diff_type = layer_type(diff_type) if diff_type is not None else x_type
    if 2 * diff_type.width > 63:
        raise ValueError(f"diff_type {diff_type} squared exceeds the 63-bit kernels")
    out = np.empty(x.shape[0], dtype=np.int64)
    kernel = _kernels.sum_squares[1 if parallel else 0]
    kernel(x, x_type.frac, y, y_frac, has_y, params(diff_type), params(accum_type), out)
    return out, accum_type


def _scale(acc: np.ndarray, acc_type: Any, n: int, scale_type: Any, out_type: Any) -> np.ndarray:
    """out_type(acc * scale_type(1/n)) at full precision."""
    scale = int(quantize_doubles(np.array([1.0 / n]), scale_type)[0])
    prod = acc * scale
    out = np.empty((prod.size, 1), dtype=np.int64)
    _kernels.cast[0](prod.reshape(-1, 1), acc_type.frac + scale_type.frac, params(out_type), out)
    return out.ravel()


def reconstruction_mse(
    x_raw: Any,
    x_type: Any,
    y_raw: Any,
    y_type: Any,
    *,
    diff_type: Any,
    accum_type: Any,
    scale_type: Any = "ap_ufixed<18,0,AP_RND,AP_SAT>",
    out_type: Any = None,
    parallel: bool = False,
) -> tuple[np.ndarray, Any]:
    """Autoencoder reconstruction error: out_type(sum (x - y)^2 * scale_type(1/n)).

    out_type defaults to accum_type. Returns (raw per event, out_type)."""
    acc, acc_type = sum_of_squares(
        x_raw,
        x_type,
        accum_type,
        y_raw=y_raw,
        y_type=y_type,
        diff_type=diff_type,
        parallel=parallel,
    )
    n = _raw2d(x_raw, "x_raw").shape[1]
    scale_t = layer_type(scale_type)
    out_t = layer_type(out_type) if out_type is not None else acc_type
    if acc_type.width + scale_t.width > 63:
        raise ValueError(f"accum_type {acc_type} times scale_type {scale_t} exceeds 63 bits")
    return _scale(acc, acc_type, n, scale_t, out_t), out_t


def latent_norm(
    mu_raw: Any, mu_type: Any, *, accum_type: Any, parallel: bool = False
) -> tuple[np.ndarray, Any]:
    """AXOL1TL score: sum_i mu_i^2 of the latent means, in accum_type."""
    mu_type = layer_type(mu_type)
    return sum_of_squares(mu_raw, mu_type, accum_type, diff_type=mu_type, parallel=parallel)


def flow_matching_score(
    vector_field: Model,
    x: Any,
    t: float,
    *,
    accum_type: Any,
    parallel: bool = False,
) -> tuple[np.ndarray, Any]:
    """||v(x, t)||^2 of a flow-matching vector field network at fixed time t.

    ``vector_field`` takes (x, t) as one input vector, t last; its output is the
    velocity v in its own result type; the squares sum in accum_type."""
    arr = np.asarray(x, dtype=np.float64)
    arr = arr.reshape(arr.shape[0], -1)
    inputs = np.concatenate([arr, np.full((arr.shape[0], 1), float(t))], axis=1)
    result = vector_field.predict_raw(inputs, parallel=parallel)
    if isinstance(result, list):
        raise TypeError("the vector field model must have a single output")
    v_raw, v_type = result
    return sum_of_squares(v_raw, v_type, accum_type, diff_type=v_type, parallel=parallel)
