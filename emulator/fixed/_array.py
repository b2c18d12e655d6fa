"""``FixedArray``: raw int64 values tagged with their ``FixedType``.

Arithmetic is full precision, typed as the ap_types operators type it
(``operator+`` → ``RType::plus`` and so on), so results never round or wrap.
A result wider than 64 bits raises :class:`FixedTypeError` naming both types.
Use :meth:`FixedArray.cast` to move to a narrower type with its modes.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from emulator.fixed._convert import RawArray, as_raw, check_raw, quantize, to_float
from emulator.fixed._types import (
    FixedType,
    FixedTypeError,
    add_type,
    mul_type,
    neg_type,
    require_type,
    sub_type,
)

__all__ = ["FixedArray"]

BoolArray = npt.NDArray[np.bool_]


def _align(raw: RawArray, src: FixedType, dst: FixedType) -> RawArray:
    """Exact re-expression of ``raw`` in ``dst``'s fraction (``dst`` is wider)."""
    shift = dst.frac - src.frac
    return raw << np.int64(shift) if shift else raw


class FixedArray:
    """An array of fixed-point values: ``raw`` (int64, any shape) and ``type``.

    ``FixedArray(raw, type)`` checks that every raw lies in the type's range.
    ``FixedArray.from_float(values, type)`` quantizes floats.
    """

    __slots__ = ("raw", "type")
    __hash__ = None  # type: ignore[assignment]  # == is elementwise, as for numpy arrays

    raw: RawArray
    type: FixedType

    def __init__(self, raw: Any, type: FixedType) -> None:  # mirrors the contract
        dtype = require_type(type, "type")
        array = as_raw(raw)
        check_raw(array, dtype)
        self.raw = array
        self.type = dtype

    @classmethod
    def _trusted(cls, raw: RawArray, dtype: FixedType) -> FixedArray:
        """Build without the range check (for results that are in range by construction)."""
        result = cls.__new__(cls)
        result.raw = raw
        result.type = dtype
        return result

    @classmethod
    def from_float(cls, values: Any, dtype: FixedType) -> FixedArray:
        """Quantize floats to ``dtype`` (its rounding and overflow modes)."""
        return cls._trusted(quantize(dtype, values), dtype)

    # ----------------------------------------------------------------- basics
    @property
    def shape(self) -> tuple[int, ...]:
        """Shape of the raw array."""
        return tuple(self.raw.shape)

    def __len__(self) -> int:
        return len(self.raw)

    def __getitem__(self, index: Any) -> FixedArray:
        """Index or slice the raws (numpy rules); the type is kept."""
        return FixedArray._trusted(np.asarray(self.raw[index]), self.type)

    def __repr__(self) -> str:
        return f"FixedArray({self.raw!r}, {self.type!r})"

    def to_float(self) -> npt.NDArray[np.float64]:
        """Values as float64 (exact up to 53-bit widths, else round-half-even)."""
        return to_float(self.type, self.raw)

    def cast(self, dtype: FixedType) -> FixedArray:
        """Assign to another type, applying that type's rounding and overflow."""
        return FixedArray._trusted(dtype.cast(self.raw, self.type), dtype)

    # ------------------------------------------------------------- arithmetic
    def _other(self, other: object, op: str) -> FixedArray:
        if not isinstance(other, FixedArray):
            msg = (
                f"{op} needs two FixedArray operands, got {type(other).__name__}; "
                "quantize plain numbers with FixedArray.from_float first"
            )
            raise TypeError(msg)
        return other

    def __add__(self, other: object) -> FixedArray:
        rhs = self._other(other, "+")
        dtype = add_type(self.type, rhs.type)
        raw = _align(self.raw, self.type, dtype) + _align(rhs.raw, rhs.type, dtype)
        return FixedArray._trusted(raw, dtype)

    def __sub__(self, other: object) -> FixedArray:
        rhs = self._other(other, "-")
        dtype = sub_type(self.type, rhs.type)
        raw = _align(self.raw, self.type, dtype) - _align(rhs.raw, rhs.type, dtype)
        return FixedArray._trusted(raw, dtype)

    def __mul__(self, other: object) -> FixedArray:
        rhs = self._other(other, "*")
        dtype = mul_type(self.type, rhs.type)
        # int64 products wrap only for a 64-bit unsigned result, whose raw is
        # the 64-bit pattern by convention, so the bits are right either way.
        with np.errstate(over="ignore"):
            raw = self.raw * rhs.raw
        return FixedArray._trusted(np.asarray(raw, dtype=np.int64), dtype)

    def __neg__(self) -> FixedArray:
        dtype = neg_type(self.type)
        return FixedArray._trusted(-self.raw, dtype)

    def __pos__(self) -> FixedArray:
        return self

    def __lshift__(self, amount: int) -> FixedArray:
        """Shift the raw left by ``amount`` bits within the same type (wraps, like the headers)."""
        return self._shift(amount)

    def __rshift__(self, amount: int) -> FixedArray:
        """Shift the raw right by ``amount`` bits within the same type (floors)."""
        return self._shift(-amount)

    def _shift(self, left: int) -> FixedArray:
        if isinstance(left, bool) or not isinstance(left, int | np.integer):
            msg = f"shift amount must be an int, got {left!r}"
            raise TypeError(msg)
        left = int(left)
        dtype = self.type
        if left >= 0:
            if left >= dtype.width:
                return FixedArray._trusted(np.zeros_like(self.raw), dtype)
            shifted = self.raw << np.int64(left)
            return FixedArray._trusted(_wrap(shifted, dtype), dtype)
        right = -left
        if not dtype.signed and dtype.width == 64:
            bits = self.raw.view(np.uint64)
            if right >= 64:
                return FixedArray._trusted(np.zeros_like(self.raw), dtype)
            return FixedArray._trusted((bits >> np.uint64(right)).view(np.int64), dtype)
        return FixedArray._trusted(self.raw >> np.int64(min(right, 63)), dtype)

    # ------------------------------------------------------------ comparisons
    def _less_equal(self, other: object, op: str) -> tuple[BoolArray, BoolArray]:
        """Exact ``(self < other, self == other)`` without forming wide integers."""
        rhs = self._other(other, op)
        for operand in (self, rhs):
            if not operand.type.signed and operand.type.width == 64:
                msg = f"comparison with a 64-bit unsigned type ({operand.type}) is not supported"
                raise FixedTypeError(msg)
        swap = self.type.frac < rhs.type.frac
        fine, coarse = (rhs, self) if swap else (self, rhs)
        k = fine.type.frac - coarse.type.frac
        # fine.raw * 2**-k compared with coarse.raw: floor and remainder.
        floor = fine.raw >> np.int64(min(k, 63))
        if k == 0:
            exact = np.ones(fine.raw.shape, dtype=bool)
        elif k >= 64:
            exact = fine.raw == 0
        else:
            exact = (fine.raw & np.int64((1 << k) - 1)) == 0
        fine_less = floor < coarse.raw
        equal = (floor == coarse.raw) & exact
        less = ~fine_less & ~equal if swap else fine_less
        return np.asarray(less), np.asarray(equal)

    def __lt__(self, other: object) -> BoolArray:
        less, _ = self._less_equal(other, "<")
        return less

    def __le__(self, other: object) -> BoolArray:
        less, equal = self._less_equal(other, "<=")
        return less | equal

    def __gt__(self, other: object) -> BoolArray:
        less, equal = self._less_equal(other, ">")
        return ~(less | equal)

    def __ge__(self, other: object) -> BoolArray:
        less, _ = self._less_equal(other, ">=")
        return ~less

    def __eq__(self, other: object) -> BoolArray:  # type: ignore[override]  # elementwise
        _, equal = self._less_equal(other, "==")
        return equal

    def __ne__(self, other: object) -> BoolArray:  # type: ignore[override]  # elementwise
        _, equal = self._less_equal(other, "!=")
        return ~equal


def _wrap(raw: RawArray, dtype: FixedType) -> RawArray:
    """Keep the low ``width`` bits (sign-extended for signed types)."""
    width = dtype.width
    if width == 64:
        return raw
    if dtype.signed:
        shift = np.int64(64 - width)
        return (raw << shift) >> shift
    return raw & np.int64((1 << width) - 1)
