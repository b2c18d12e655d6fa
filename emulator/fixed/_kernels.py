"""numba kernels of the fixed-point core: one rounding/overflow code for all.

Every kernel that rounds, wraps or saturates a fixed-point value -- these array
kernels and those of ``emulator.nn`` -- calls the scalar functions below, which
numba inlines (``inline="always"``) so hot loops keep their speed.

Building block for other kernels
--------------------------------
:func:`cast_raw` is an ``@njit`` scalar function that converts one raw integer
from a source fraction to a destination type with the exact semantics of the
ap_types assignment ``ap_fixed<...> dst = src;``::

    cast_raw(raw, src_frac, dst_width, dst_frac, dst_signed, rounding, overflow) -> int64

All arguments are plain integers; get the destination ones from
``FixedType.kernel_params()`` (``(width, frac, signed, rounding_code,
overflow_code)``) *outside* your kernel and pass them in (numba freezes
globals). ``raw`` is read as a signed ``int64`` value, i.e. the source can be any
type whose raw fits in int64 (all types except the upper half of
``ap_ufixed<64, .>``). Example inside another kernel::

    from emulator.fixed._kernels import cast_raw

    @numba.njit(cache=True)
    def dense(x, w, acc_frac, out_w, out_f, out_s, out_r, out_o):
        ...
        y[i] = cast_raw(acc, acc_frac, out_w, out_f, out_s, out_r, out_o)

Two cases are the caller's business, as in C++: assigning a value to its
*identical* type is a plain copy (no conversion, so even ``AP_SAT_SYM`` keeps a
most negative raw; do not call ``cast_raw`` then), and the type pairs for which
the headers ``assert`` are undefined (check once with
``emulator.fixed.cast_is_defined(src, dst)`` outside the kernel).

:func:`quantize_raw` does the same for one float64 (the ap_fixed-from-double
constructor, including its treatment of subnormal inputs). NaN and infinity
follow a policy argument: ``REJECT`` raises ``ValueError`` (the headers call them
undefined), ``HEADERS`` reads their bits exactly as the headers' constructor does
(a huge value of the double's sign: 0 when wrapping, the saturation value
otherwise), which hls4ml's C simulation relies on (the softmax inverse table
holds ``1/0``).

Smaller pieces for loops that accumulate: :func:`fit_raw` applies an overflow
mode to an exact value held in int64, :func:`round_raw` drops fraction bits with
a rounding mode, :func:`wrap_raw` keeps the low bits. Block routines
(:func:`cast_block`, :func:`quantize_block`) convert whole 1-D arrays, taking
branch-free loops where those are provably exact.

Codes (match ``Rounding.code`` / ``Overflow.code`` / ``NonFinite``): rounding
TRN=0, TRN_ZERO=1, RND=2, RND_ZERO=3, RND_INF=4, RND_MIN_INF=5, RND_CONV=6;
overflow WRAP=0, SAT=1, SAT_ZERO=2, SAT_SYM=3; NaN/infinity REJECT=0, HEADERS=1.

Array kernels (``quantize_array``, ``cast_array``, ...) run single-threaded;
they return the index of the first invalid input (or -1) instead of raising, so
the typed Python wrappers in ``_convert`` can name the offending element.
"""

from __future__ import annotations

import math
from typing import Any, TypeAlias

import numba
import numpy as np

#: Integers in kernels. numba types them (int64 inside, Python int at the
#: boundary); mixing numpy scalars and ints defeats static typing, so kernels
#: declare their integer arguments with this alias.
Int: TypeAlias = Any  # a plain alias keeps numba and mypy happy

# Rounding codes.
TRN = 0
TRN_ZERO = 1
RND = 2
RND_ZERO = 3
RND_INF = 4
RND_MIN_INF = 5
RND_CONV = 6
# Overflow codes.
WRAP = 0
SAT = 1
SAT_ZERO = 2
SAT_SYM = 3
# NaN / infinity policies.
REJECT = 0
HEADERS = 1

_INT64_MAX = np.int64(0x7FFFFFFFFFFFFFFF)
_U64_ONE = np.uint64(1)
_MANTISSA_FIELD = np.int64((1 << 52) - 1)
_IMPLICIT_BIT = np.int64(1 << 52)


@numba.njit(cache=True, inline="always")
def wrap_raw(value: Int, width: Int, signed: Int) -> Int:
    """Keep the low ``width`` bits of ``value`` (sign-extended if signed)."""
    if width >= 64:
        return value
    if signed:
        shift = 64 - width
        return (value << shift) >> shift
    return value & ((np.int64(1) << width) - 1)


@numba.njit(cache=True, inline="always")
def fit_raw(value: Int, width: Int, signed: Int, overflow: Int) -> Int:
    """Apply the overflow mode to an exact in-LSB-units value held in int64.

    A signed 1-bit ``AP_SAT_SYM`` type keeps its -1: its symmetric range would be
    empty, and the headers saturate to -1 there."""
    if overflow == WRAP:
        return wrap_raw(value, width, signed)
    if signed:
        hi = _INT64_MAX >> (64 - width)
        lo = -hi - 1
        if overflow == SAT_SYM and width > 1:
            lo = -hi
        if value > hi:
            return 0 if overflow == SAT_ZERO else hi
        if value < lo:
            return 0 if overflow == SAT_ZERO else lo
        return value
    if value < 0:
        return 0
    if width < 64:
        hi = (np.int64(1) << width) - 1
        if value > hi:
            return 0 if overflow == SAT_ZERO else hi
    return value


@numba.njit(cache=True, inline="always")
def _saturated_high(width: Int, signed: Int, overflow: Int) -> Int:
    """Result of a positive overflow in a saturating mode."""
    if overflow == SAT_ZERO:
        return 0
    if signed:
        return _INT64_MAX >> (64 - width)
    if width == 64:
        return -1  # bit pattern of 2**64 - 1
    return (np.int64(1) << width) - 1


@numba.njit(cache=True, inline="always")
def _saturated_low(width: Int, signed: Int, overflow: Int) -> Int:
    """Result of a negative overflow in a saturating mode."""
    if overflow == SAT_ZERO or not signed:
        return 0
    hi = _INT64_MAX >> (64 - width)
    if overflow == SAT_SYM and width > 1:
        return -hi
    return -hi - 1


@numba.njit(cache=True, inline="always")
def _increment(q: Int, qb: bool, rest: bool, negative: bool, rounding: Int) -> Int:
    """Rounding increment from the first dropped bit ``qb`` and the sticky ``rest``."""
    if rounding == TRN:
        return 0
    if rounding == TRN_ZERO:
        return 1 if negative and (qb or rest) else 0
    if not qb:
        return 0
    if rounding == RND:
        return 1
    if rounding == RND_ZERO:
        return 1 if negative or rest else 0
    if rounding == RND_INF:
        return 1 if (not negative) or rest else 0
    if rounding == RND_MIN_INF:
        return 1 if rest else 0
    # RND_CONV
    return 1 if (q & 1) != 0 or rest else 0


@numba.njit(cache=True, inline="always")
def round_raw(raw: Int, shift: Int, rounding: Int) -> Int:
    """``raw * 2**-shift`` rounded to an integer with a rounding mode (1 <= shift <= 63)."""
    q = raw >> shift
    qb = ((raw >> (shift - 1)) & 1) != 0
    rest = (raw & ((np.int64(1) << (shift - 1)) - 1)) != 0
    return q + _increment(q, qb, rest, raw < 0, rounding)


@numba.njit(cache=True, inline="always")
def _cast_core(
    raw: Int,
    big: bool,
    src_frac: Int,
    width: Int,
    frac: Int,
    signed: Int,
    rounding: Int,
    overflow: Int,
) -> Int:
    """Cast ``raw * 2**-src_frac`` (plus ``2**64`` when ``big``) to a type.

    ``big`` marks an ``ap_ufixed<64, .>`` raw whose top bit is set, so its value
    is the unsigned reading of the 64-bit pattern.
    """
    shift = src_frac - frac
    if shift > 0:
        # Drop ``shift`` fraction bits, then round.
        if big:
            u = np.uint64(raw)
            negative = False
            if shift >= 64:
                q = np.int64(0)
                qb = shift == 64
                rest = (u << _U64_ONE) != 0 if shift == 64 else True
            else:
                q = np.int64(u >> np.uint64(shift))
                qb = ((u >> np.uint64(shift - 1)) & _U64_ONE) != 0
                rest = (u & ((_U64_ONE << np.uint64(shift - 1)) - _U64_ONE)) != 0
        else:
            if shift < 64:
                return fit_raw(round_raw(raw, shift, rounding), width, signed, overflow)
            negative = raw < 0
            q = np.int64(-1) if negative else np.int64(0)
            qb = negative
            rest = (raw & _INT64_MAX) != 0 if shift == 64 else raw != 0
        value = q + _increment(q, qb, rest, negative, rounding)
        return fit_raw(value, width, signed, overflow)
    # Exact: scale up by 2**-shift.
    up = -shift
    if overflow == WRAP:
        if up >= 64:
            return 0
        return wrap_raw(raw << up, width, signed)
    if up >= 64:
        if raw == 0:
            return 0
        if raw < 0 and not big:
            return _saturated_low(width, signed, overflow)
        return _saturated_high(width, signed, overflow)
    scaled = raw << up
    if not big and (scaled >> up) == raw:
        return fit_raw(scaled, width, signed, overflow)
    if raw < 0 and not big:
        return _saturated_low(width, signed, overflow)
    # A positive value of 2**63 or more: only ap_ufixed<64> holds some of them.
    u = np.uint64(raw)
    if not signed and width == 64 and ((u << np.uint64(up)) >> np.uint64(up)) == u:
        return scaled
    return _saturated_high(width, signed, overflow)


@numba.njit(cache=True, inline="always")
def cast_raw(
    raw: Int,
    src_frac: Int,
    dst_width: Int,
    dst_frac: Int,
    dst_signed: Int,
    rounding: Int,
    overflow: Int,
) -> Int:
    """Cast one signed raw from ``src_frac`` fraction bits to a destination type.

    Exactly the ap_types assignment between fixed-point types. ``raw`` is read
    as a signed int64 value (see the module docstring).
    """
    return _cast_core(raw, False, src_frac, dst_width, dst_frac, dst_signed, rounding, overflow)


@numba.njit(cache=True, inline="always")
def _double_parts(x: float) -> tuple[Int, Int]:
    """``(mantissa, frac)`` with ``x == mantissa * 2**-frac`` as the headers read it.

    The headers read the bit fields and always set the implicit mantissa bit: a
    subnormal with field ``m`` reads as ``(2**52 + m) * 2**-1075`` and NaN or
    infinity (exponent field 2047) as ``(2**52 + m) * 2**972`` of its sign bit;
    those quirks are kept. Zero of either sign is ``(0, 0)``.
    """
    bits = np.float64(x).view(np.int64)
    if (bits & _INT64_MAX) == 0:
        return np.int64(0), np.int64(0)
    mantissa = _IMPLICIT_BIT | (bits & _MANTISSA_FIELD)
    frac = 1075 - ((bits >> 52) & 0x7FF)
    if bits < 0:
        mantissa = -mantissa
    return mantissa, frac


@numba.njit(cache=True, inline="always")
def quantize_value(
    x: float, width: Int, frac: Int, signed: Int, rounding: Int, overflow: Int
) -> Int:
    """``ap_fixed<...>(double)`` of any double, NaN and infinity read as the headers do."""
    mantissa, src_frac = _double_parts(x)
    if mantissa == 0:
        return np.int64(0)
    return _cast_core(mantissa, False, src_frac, width, frac, signed, rounding, overflow)


@numba.njit(cache=True)
def quantize_raw(
    x: float, width: Int, frac: Int, signed: Int, rounding: Int, overflow: Int, nonfinite: Int
) -> Int:
    """Quantize one float64 exactly as ``ap_fixed<...>(double)`` does.

    NaN or infinity raises ``ValueError`` under ``REJECT`` and converts as the
    headers do under ``HEADERS``. (Loops call :func:`quantize_value` or
    :func:`quantize_block`, which never raise.)
    """
    if nonfinite == REJECT and not math.isfinite(x):
        raise ValueError("NaN or infinity cannot be quantized to a fixed-point type")
    return quantize_value(x, width, frac, signed, rounding, overflow)


# ---------------------------------------------------------------- array kernels
@numba.njit(cache=True)
def quantize_array_generic(
    x: np.ndarray,
    out: np.ndarray,
    width: Int,
    frac: Int,
    signed: Int,
    rounding: Int,
    overflow: Int,
    nonfinite: Int,
) -> Int:
    """Quantize a flat float array into ``out`` element by element with the scalar
    core; return the first NaN/infinity index under ``REJECT``, else -1."""
    for i in range(x.size):
        value = x[i]
        if nonfinite == REJECT and not math.isfinite(value):
            return i
        out[i] = quantize_value(value, width, frac, signed, rounding, overflow)
    return -1


@numba.njit(cache=True)
def cast_array_generic(
    raw: np.ndarray,
    out: np.ndarray,
    src_width: Int,
    src_frac: Int,
    src_signed: Int,
    width: Int,
    frac: Int,
    signed: Int,
    rounding: Int,
    overflow: Int,
) -> Int:
    """Cast a flat raw array into ``out``; return first out-of-range index or -1."""
    unsigned64 = (not src_signed) and src_width == 64
    if src_width < 64:
        lo = -(np.int64(1) << (src_width - 1)) if src_signed else np.int64(0)
        hi = (np.int64(1) << (src_width - 1)) - 1 if src_signed else (np.int64(1) << src_width) - 1
    else:
        lo = -_INT64_MAX - 1
        hi = _INT64_MAX
    for i in range(raw.size):
        value = raw[i]
        if value < lo or value > hi:
            return i
        out[i] = _cast_core(
            value, unsigned64 and value < 0, src_frac, width, frac, signed, rounding, overflow
        )
    return -1


@numba.njit(cache=True)
def check_raw_range(raw: np.ndarray, width: Int, signed: Int) -> Int:
    """Index of the first raw outside the type's range, or -1."""
    if width >= 64:
        return -1
    lo = -(np.int64(1) << (width - 1)) if signed else np.int64(0)
    hi = (np.int64(1) << (width - 1)) - 1 if signed else (np.int64(1) << width) - 1
    for i in range(raw.size):
        value = raw[i]
        if value < lo or value > hi:
            return i
    return -1


# ------------------------------------------------------------ fast array paths
# Branch-free loops for the common case; elements they cannot prove exact are
# counted and redone by the generic kernels. Mode flags are loop invariants.
_FAST_LIMIT = 2.0**62
_INTEGRAL_FROM = 2.0**52


@numba.njit(cache=True)
def _mode_flags(rounding: Int) -> tuple[Any, ...]:
    """(rounds_to_nearest, trn_zero, tie_up, tie_neg, tie_pos, tie_odd, unused)."""
    nearest = rounding >= RND
    return (
        nearest,
        rounding == TRN_ZERO,
        rounding == RND,
        rounding == RND_ZERO,
        rounding == RND_INF,
        rounding == RND_CONV,
        False,
    )


@numba.njit(cache=True)
def _limits(width: Int, signed: Int, overflow: Int) -> tuple[Int, Int, Int, Int]:
    """(lo, hi, lo_result, hi_result) for the saturating modes."""
    if signed:
        hi = _INT64_MAX >> (64 - width)
        lo = -hi - 1
        if overflow == SAT_SYM and width > 1:
            lo = -hi
    else:
        hi = _INT64_MAX if width == 64 else (np.int64(1) << width) - 1
        lo = np.int64(0)
    if overflow == SAT_ZERO:
        return lo, hi, np.int64(0), np.int64(0)
    return lo, hi, lo, hi


@numba.njit(cache=True)
def _range_ops(width: Int, signed: Int, overflow: Int) -> tuple[Int, Int, Int, Int, Int, Int]:
    """Branch-free overflow handling: ``(lo, hi, lo_out, hi_out, shift, mask)``.

    Loops compute ``v = ((v << shift) >> shift) & mask`` then clamp ``v`` to
    ``[lo, hi]`` (replacing it by ``lo_out`` / ``hi_out``). For WRAP the shift
    and mask keep the low ``width`` bits and the clamp range is all of int64
    (``lo_out``/``hi_out`` unused); for the saturating modes shift is 0 and mask
    all ones.
    """
    if overflow == WRAP:
        mask = np.int64(-1) if signed or width == 64 else (np.int64(1) << width) - 1
        return -_INT64_MAX - 1, _INT64_MAX, -_INT64_MAX - 1, _INT64_MAX, 64 - width, mask
    lo, hi, lo_out, hi_out = _limits(width, signed, overflow)
    return lo, hi, lo_out, hi_out, np.int64(0), np.int64(-1)


@numba.njit(cache=True)
def quantize_array_fast(
    x: np.ndarray,
    out: np.ndarray,
    width: Int,
    frac: Int,
    signed: Int,
    rounding: Int,
    overflow: Int,
) -> Int:
    """Quantize in float arithmetic where it is exact; return how many need the slow path.

    ``x * 2**frac`` is exact for |frac| <= 1000 unless it underflows to zero, so
    floor and comparisons with ``floor + 0.5`` decide every rounding mode
    exactly; the result is then saturated or wrapped in int64.
    """
    scale = math.ldexp(1.0, frac)
    nearest, trn_zero, tie_up, tie_neg, tie_pos, tie_odd, _ = _mode_flags(rounding)
    lo, hi, lo_out, hi_out, shift, mask = _range_ops(width, signed, overflow)
    slow = 0
    for i in range(x.size):
        value = x[i]
        y = value * scale
        ok = (abs(y) < _FAST_LIMIT) & ((y != 0.0) | (value == 0.0))
        y = y if ok else 0.0
        slow += not ok
        f = math.floor(y)
        half = f + 0.5
        negative = y < 0.0
        q = np.int64(f)
        tie_inc = (
            tie_up | (tie_neg & negative) | (tie_pos & (not negative)) | (tie_odd & ((q & 1) != 0))
        )
        inc = (nearest & ((y > half) | ((y == half) & tie_inc))) | (trn_zero & negative & (y > f))
        # From 2**52 on every double is an integer (and f + 0.5 is inexact).
        v = q + np.int64(inc & (abs(y) < _INTEGRAL_FROM))
        v = ((v << shift) >> shift) & mask  # WRAP (a no-op for the saturating modes)
        out[i] = hi_out if v > hi else (lo_out if v < lo else v)  # no-op for WRAP
    return slow


@numba.njit(cache=True)
def quantize_block(
    x: np.ndarray,
    out: np.ndarray,
    width: Int,
    frac: Int,
    signed: Int,
    rounding: Int,
    overflow: Int,
    nonfinite: Int,
) -> Int:
    """Quantize a flat float64 array into ``out``.

    Returns -1, or under ``REJECT`` the index of the first NaN/infinity (then
    ``out`` is partly written); under ``HEADERS`` they convert as the headers do.
    """
    if abs(frac) > 1000:
        return quantize_array_generic(x, out, width, frac, signed, rounding, overflow, nonfinite)
    if quantize_array_fast(x, out, width, frac, signed, rounding, overflow) == 0:
        return -1
    # Redo the elements the fast loop could not prove exact (same test as there).
    scale = math.ldexp(1.0, frac)
    for i in range(x.size):
        value = x[i]
        y = value * scale
        if (abs(y) < _FAST_LIMIT) & ((y != 0.0) | (value == 0.0)):
            continue
        if nonfinite == REJECT and not math.isfinite(value):
            return i
        out[i] = quantize_value(value, width, frac, signed, rounding, overflow)
    return -1


@numba.njit(cache=True)
def cast_array_fast(
    raw: np.ndarray,
    out: np.ndarray,
    shift: Int,
    width: Int,
    signed: Int,
    rounding: Int,
    overflow: Int,
) -> None:
    """Cast signed int64 raws with |shift| <= 62 in branch-free int64 loops.

    Not for an unsigned 64-bit destination (its raws are bit patterns)."""
    nearest, trn_zero, tie_up, tie_neg, tie_pos, tie_odd, _ = _mode_flags(rounding)
    lo, hi, lo_out, hi_out, wshift, mask = _range_ops(width, signed, overflow)
    if shift > 0:
        rmask = (np.int64(1) << shift) - 1
        half = np.int64(1) << (shift - 1)
        for i in range(raw.size):
            v = raw[i]
            q = v >> shift
            rest = v & rmask
            negative = v < 0
            tie_inc = (
                tie_up
                | (tie_neg & negative)
                | (tie_pos & (not negative))
                | (tie_odd & ((q & 1) != 0))
            )
            inc = (nearest & ((rest > half) | ((rest == half) & tie_inc))) | (
                trn_zero & negative & (rest != 0)
            )
            y = q + np.int64(inc)
            y = ((y << wshift) >> wshift) & mask  # WRAP (a no-op for the saturating modes)
            out[i] = hi_out if y > hi else (lo_out if y < lo else y)  # no-op for WRAP
    else:
        up = -shift
        is_wrap = overflow == WRAP
        for i in range(raw.size):
            v = raw[i]
            y = v << up
            exact = ((y >> up) == v) | is_wrap  # WRAP keeps whatever bits are left
            y = ((y << wshift) >> wshift) & mask  # WRAP (a no-op for the saturating modes)
            over = (v > 0) & ((not exact) | (y > hi))  # never for WRAP (see _range_ops)
            under = (v < 0) & ((not exact) | (y < lo))
            out[i] = hi_out if over else (lo_out if under else y)


@numba.njit(cache=True)
def cast_block(
    raw: np.ndarray,
    out: np.ndarray,
    src_frac: Int,
    width: Int,
    frac: Int,
    signed: Int,
    rounding: Int,
    overflow: Int,
) -> None:
    """``out[i] = cast_raw(raw[i], ...)`` for flat arrays of signed int64 raws.

    Takes the branch-free loops of :func:`cast_array_fast` where they are exact
    (|shift| <= 62, destination not ``ap_ufixed<64>``), else the scalar core.
    """
    shift = src_frac - frac
    if abs(shift) <= 62 and not (width == 64 and not signed):
        cast_array_fast(raw, out, shift, width, signed, rounding, overflow)
        return
    for i in range(raw.size):
        out[i] = cast_raw(raw[i], src_frac, width, frac, signed, rounding, overflow)


@numba.njit(cache=True)
def cast_array(
    raw: np.ndarray,
    out: np.ndarray,
    src_width: Int,
    src_frac: Int,
    src_signed: Int,
    width: Int,
    frac: Int,
    signed: Int,
    rounding: Int,
    overflow: Int,
) -> Int:
    """Cast a flat raw array into ``out``; return the first out-of-range index or -1."""
    if src_width == 64 and not src_signed:
        return cast_array_generic(
            raw, out, src_width, src_frac, src_signed, width, frac, signed, rounding, overflow
        )
    bad = check_raw_range(raw, src_width, src_signed)
    if bad >= 0:
        return bad
    cast_block(raw, out, src_frac, width, frac, signed, rounding, overflow)
    return -1
