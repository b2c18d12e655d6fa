"""Typed array API over the kernels: quantize, cast, to_float.

Inputs of any shape are flattened (C order) for the kernels and the result is
reshaped back, so callers never loop over elements.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from emulator.fixed import _kernels
from emulator.fixed._types import FixedType, FixedTypeError, cast_is_defined, require_type

__all__ = ["as_raw", "cast", "quantize", "to_float"]

RawArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


def _flat_float(values: Any) -> FloatArray:
    array = np.asarray(values)
    if array.dtype.kind not in "fiub":
        msg = f"quantize expects real numbers, got an array of dtype {array.dtype}"
        raise TypeError(msg)
    return np.asarray(array, dtype=np.float64, order="C")  # keeps 0-d shapes


def as_raw(raw: Any, what: str = "raw") -> RawArray:
    """Coerce to a contiguous int64 array, refusing floats (a raw is an integer)."""
    array = np.asarray(raw)
    if array.dtype.kind == "u" and array.dtype.itemsize == 8:
        return np.asarray(array, order="C").view(np.int64)
    if array.dtype.kind not in "iub":
        msg = f"{what} must be an integer array (int64 raws), got dtype {array.dtype}"
        raise TypeError(msg)
    return np.asarray(array, dtype=np.int64, order="C")


def _output(out: object, shape: tuple[int, ...]) -> RawArray:
    """A fresh int64 array, or ``out`` after checking it can take the result."""
    if out is None:
        return np.empty(shape, dtype=np.int64)
    if not isinstance(out, np.ndarray) or out.dtype != np.int64 or not out.flags.c_contiguous:
        msg = "out must be a C-contiguous int64 numpy array"
        raise TypeError(msg)
    if out.shape != shape:
        msg = f"out has shape {out.shape}, the result has shape {shape}"
        raise ValueError(msg)
    return out


def quantize(dtype: FixedType, values: Any, out: RawArray | None = None) -> RawArray:
    """Float array (any shape) → raw int64, exactly ``ap_fixed<...>(double)``.

    float32 inputs are widened to float64 first, as ``ap_fixed(float)`` does.
    NaN or infinity raises ``ValueError`` naming the first offending element.
    ``out`` (optional) receives the result, saving the allocation in hot loops.
    """
    array = _flat_float(values)
    out = _output(out, array.shape)
    width, frac, signed, rounding, overflow = dtype.kernel_params()
    bad = _kernels.quantize_block(
        array.reshape(-1), out.reshape(-1), width, frac, signed, rounding, overflow, _kernels.REJECT
    )
    if bad >= 0:
        index = np.unravel_index(bad, array.shape) if array.ndim else ()
        msg = (
            f"cannot quantize {array.reshape(-1)[bad]!r} at index {tuple(map(int, index))} "
            f"to {dtype}: NaN and infinity have no fixed-point value"
        )
        raise ValueError(msg)
    return out


def cast(dtype: FixedType, raw: Any, src_type: FixedType, out: RawArray | None = None) -> RawArray:
    """Raw of ``src_type`` → raw of ``dtype`` (ap_fixed assignment, all modes).

    Raws outside ``src_type``'s range raise ``ValueError`` (they cannot come
    from a value of that type).
    """
    src_type = require_type(src_type, "src_type")
    if not cast_is_defined(src_type, dtype):
        msg = (
            f"casting {src_type} to {dtype} is undefined: the ap_types headers assert "
            f"(the rounding bit lies {src_type.frac - dtype.frac - src_type.width} bits above "
            "the source MSB); cast to TRN first or widen the source"
        )
        raise FixedTypeError(msg)
    array = as_raw(raw)
    out = _output(out, array.shape)
    if src_type == dtype:
        # C++ assigns an identical type with the implicit copy, not the
        # converting operator=: even AP_SAT_SYM keeps a most negative raw.
        check_raw(array, dtype)
        out[...] = array
        return out
    width, frac, signed, rounding, overflow = dtype.kernel_params()
    bad = _kernels.cast_array(
        array.reshape(-1),
        out.reshape(-1),
        src_type.width,
        src_type.frac,
        int(src_type.signed),
        width,
        frac,
        signed,
        rounding,
        overflow,
    )
    if bad >= 0:
        _raise_out_of_range(array, bad, src_type)
    return out


def _raise_out_of_range(array: RawArray, bad: object, dtype: FixedType) -> None:
    flat = int(bad)  # type: ignore[call-overload]  # an int64 index from the kernel
    index = np.unravel_index(flat, array.shape) if array.ndim else ()
    msg = (
        f"raw {int(array.reshape(-1)[flat])} at index {tuple(map(int, index))} is outside "
        f"{dtype} (raw range {dtype.min_raw}..{dtype.max_raw})"
    )
    raise ValueError(msg)


def check_raw(array: RawArray, dtype: FixedType) -> None:
    """Raise ``ValueError`` if any raw is outside ``dtype``'s range."""
    bad = _kernels.check_raw_range(array.reshape(-1), dtype.width, int(dtype.signed))
    if bad >= 0:
        _raise_out_of_range(array, bad, dtype)


def to_float(dtype: FixedType, raw: Any) -> FloatArray:
    """Raw → float64 value, rounded half to even like ``to_double()``.

    Exact for widths up to 53 bits. Results beyond the float64 exponent range
    (only possible for absurd integer-bit counts) are outside the headers'
    defined behaviour too.
    """
    array = as_raw(raw)
    if not dtype.signed and dtype.width == 64:
        floats = array.view(np.uint64).astype(np.float64)
    else:
        floats = array.astype(np.float64)
    frac = dtype.frac
    # ldexp in two steps keeps 2**-frac finite for |frac| up to 2046.
    half = frac // 2
    return np.ldexp(np.ldexp(floats, -half), -(frac - half))


def check_dtype(value: object) -> FixedType:
    """Return ``value`` if it is a FixedType, parse it if it is a string."""
    if isinstance(value, FixedType):
        return value
    if isinstance(value, str):
        return FixedType.parse(value)
    msg = f"expected a FixedType or a type string, got {value!r}"
    raise FixedTypeError(msg)
