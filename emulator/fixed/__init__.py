"""Bit-exact fixed-point arithmetic: the ap_fixed / ap_ufixed model.

Map of the package:

- ``FixedType`` (``_types``): the type, its text spellings (``parse`` / ``str``),
  range properties, and the HLS result-type rules ``add_type``, ``sub_type``,
  ``mul_type``, ``neg_type``; ``cast_is_defined`` names the type pairs on which
  the headers ``assert`` (the emulator refuses those casts).
- ``FixedType.quantize`` / ``to_float`` / ``cast`` (``_convert``): array
  conversions, exactly as the Xilinx ap_types headers convert.
- ``FixedArray`` (``_array``): raw values with their type; full-precision
  ``+ - *``, unary ``-``, shifts, comparisons.
- ``_kernels``: the numba code, the one rounding/overflow core of the project.
  ``cast_raw`` / ``quantize_value`` / ``fit_raw`` / ``round_raw`` are inlined
  ``@njit`` scalar building blocks and ``cast_block`` / ``quantize_block`` their
  array loops; other kernels (``emulator.nn``) call them with
  ``FixedType.kernel_params()``. ``NonFinite`` names the NaN/infinity policy.

Values are raw two's-complement integers in int64 arrays:
``value = raw * 2**-(width - integer)``.
"""

from emulator.fixed._array import FixedArray
from emulator.fixed._types import (
    FixedType,
    FixedTypeError,
    NonFinite,
    Overflow,
    Rounding,
    add_type,
    cast_is_defined,
    mul_type,
    neg_type,
    sub_type,
)

__all__ = [
    "FixedArray",
    "FixedType",
    "FixedTypeError",
    "NonFinite",
    "Overflow",
    "Rounding",
    "add_type",
    "cast_is_defined",
    "mul_type",
    "neg_type",
    "sub_type",
]
