"""ap_fixed arithmetic on da4ml's symbolic variables: the one cast of the RTL tracers.

da4ml (``da4ml.trace``) traces numpy-style code on ``FixedVariable`` objects that
carry an exact value interval on a power-of-two grid; its ``quantize`` floors (or
rounds half up) and wraps or saturates. :func:`cast` extends that to the ap_fixed
assignment ``dst_t r = v`` with all seven rounding and four overflow modes of
``emulator.fixed``, by exact symbolic arithmetic: every rounding mode is a floor
after adding the right offset (a constant, the sign bit, or the kept LSB for
RND_CONV), SAT_ZERO a mux on the overflow condition. :func:`accumulate` sums in
an accumulator type the way a C++ loop ``acc += term`` does, as an adder tree
whenever that is provably the same. Callers: ``firmware._trace_nn`` (networks)
and the cut-based seed tracers.
"""

from __future__ import annotations

import importlib
import math
from collections.abc import Sequence
from decimal import Decimal
from fractions import Fraction
from typing import Any

from emulator.fixed import FixedType, Overflow, Rounding
from firmware._errors import FirmwareError

__all__ = [
    "Var",
    "Vars",
    "accumulate",
    "cast",
    "cast_all",
    "const_like",
    "da4ml_module",
    "fit",
    "fixed_type",
    "floor_to",
    "is_const",
    "kif",
    "never_overflows",
    "round_to",
    "tree_sum",
    "value_of",
    "wrap",
]

Var = Any
"""A ``da4ml.trace.FixedVariable`` (da4ml ships no type information)."""
Vars = list[Any]
"""A flat list of FixedVariables: one layer's output, channels-last."""

_HINT = "install the firmware extra: pip install 'l1sim[firmware]'"


def da4ml_module(module: str) -> Any:
    """A da4ml module, or a FirmwareError that says how to install it."""
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as exc:
        raise FirmwareError(f"da4ml is needed to trace networks into RTL; {_HINT}") from exc


# ----------------------------------------------------------------------------- types


def fixed_type(t: Any) -> FixedType:
    """The emulator.fixed type of whatever type object emulator.nn hands out."""
    if isinstance(t, FixedType):
        return t
    return FixedType(int(t.width), int(t.integer), bool(t.signed), str(t.rounding), str(t.overflow))


def kif(t: FixedType) -> tuple[int, int, int]:
    """da4ml's (sign bit, integer bits without sign, fractional bits) of a type."""
    return int(t.signed), t.integer - int(t.signed), t.frac


def value_of(raw: int, frac: int) -> Decimal:
    """Exact value of a raw integer, raw * 2**-frac (through float64: the raw must
    have at most 53 significant bits, which every emulator type of <= 53 bits has)."""
    value = math.ldexp(float(int(raw)), -frac)
    if int(raw) != 0 and math.ldexp(value, frac) != int(raw):
        raise FirmwareError(f"raw constant {raw} is wider than the 53 bits traced exactly")
    return Decimal(value)


def pow2(exponent: int) -> float:
    return math.ldexp(1.0, exponent)


def const_like(like: Var, value: Decimal | float) -> Var:
    """A constant variable sharing ``like``'s hardware configuration."""
    return like.from_const(value, hwconf=like.hwconf)


def is_const(v: Var) -> bool:
    return bool(v.low == v.high)


# ----------------------------------------------------------------------------- cast


_CONST_FRAC = 30
"""|fraction bits| of a constant da4ml represents exactly (its ``_const_f`` searches
-32..32, with margin): saturating casts to types beyond are refused."""


_WIDEST = 52
"""Widest rounded value ``cast`` accepts (float64-exact intervals, 64-bit interpreter)."""


def wrap(v: Var, k: int, i: int, f: int) -> Var:
    """floor(v) onto 2**-f, wrapped into k sign bit, i integer bits (two's complement).

    da4ml's quantize narrows an unsigned result to one bit above a signed source's
    range, which is wrong for negative values (-0.25 into ap_ufixed<7,2> must give
    3.75, not 0.75). Adding 2**m, m >= i, changes nothing modulo 2**i and makes the
    source non-negative first."""
    if k == 0 and v.low < 0:
        m = max(i, math.ceil(math.log2(-float(v.low))))
        v = v + math.ldexp(1.0, m)
    return v.quantize(k, i, f, "WRAP", "TRN")


def floor_to(v: Var, frac: int) -> Var:
    """floor(v) onto the grid 2**-frac, never wrapping: one integer bit more than v
    needs (not a huge count: da4ml folds constants in 28-digit Decimal arithmetic).
    When every |v| is below one step da4ml's quantize returns the constant 0; the
    floor is then -step for negative v."""
    k, i, _ = v.kif
    if k + i + 1 + frac <= 0 and not is_const(v):
        return v.is_negative() * -math.ldexp(1.0, -frac)
    return v.quantize(1, int(i) + 1, frac, "WRAP", "TRN")


def round_to(v: Var, dst: FixedType) -> Var:
    """v rounded onto dst's grid with dst's rounding mode (no overflow handling).

    With g the grid v lives on and h half a destination step, every mode is a floor
    after an offset: RND h; RND_MIN_INF h - g (a tie stays down); TRN_ZERO
    (step - g) for negative v; RND_ZERO h - g + g·[v<0]; RND_INF h - g·[v<0];
    RND_CONV h - g + g·b, b the LSB kept (a tie goes up only from an odd value).
    """
    frac = dst.frac
    step = Decimal(2) ** -frac
    if v.step >= step:
        return v  # already on the destination grid: no rounding mode changes it
    g = v.step
    half = step / 2
    mode = dst.rounding
    if mode is Rounding.TRN:
        return floor_to(v, frac)
    if mode is Rounding.RND:
        return floor_to(v + half, frac)
    if mode is Rounding.RND_MIN_INF:
        return floor_to(v + (half - g), frac)
    if mode is Rounding.RND_CONV:
        kept_lsb = wrap(v, 0, 1 - frac, frac)  # 0 or step
        return floor_to(v + (half - g) + kept_lsb * float(g / step), frac)
    negative = v.is_negative()  # 0 or 1
    if mode is Rounding.TRN_ZERO:
        return floor_to(v + negative * float(step - g), frac)
    if mode is Rounding.RND_ZERO:
        return floor_to(v + (half - g) + negative * float(g), frac)
    if mode is Rounding.RND_INF:
        return floor_to(v + half - negative * float(g), frac)
    raise FirmwareError(f"rounding mode {mode} is not known to the tracer")  # pragma: no cover


def fit(q: Var, dst: FixedType) -> Var:
    """Overflow handling of dst applied to q, already on dst's grid."""
    k, i, f = kif(dst)
    lo = value_of(dst.min_raw, dst.frac)
    hi = value_of(dst.max_raw, dst.frac)
    mode = dst.overflow
    symmetric = mode is Overflow.SAT_SYM and dst.signed
    if q.low >= lo and q.high <= hi and not (symmetric and q.low == lo):
        return q
    if mode is Overflow.WRAP:
        return wrap(q, k, i, f)
    if mode in (Overflow.SAT, Overflow.SAT_SYM):
        if abs(f) > _CONST_FRAC:
            raise FirmwareError(
                f"saturating cast to {dst}: da4ml holds the clamp bounds as constants of "
                f"at most {_CONST_FRAC} fraction bits (either sign), this type has {f}"
            )
        return q.quantize(k, i, f, "SAT_SYM" if symmetric else "SAT", "TRN")
    # SAT_ZERO: 0 where q lies outside [lo, hi]
    flags = []
    if q.high > hi:
        flags.append(q > hi)
    if q.low < lo:
        flags.append(q < lo)
    outside = flags[0] if len(flags) == 1 else flags[0] | flags[1]
    inside = wrap(q, k, i, f)
    return outside.msb_mux(const_like(q, 0), inside)


def cast(v: Var, dst: Any) -> Var:
    """The ap_fixed assignment ``dst_t r = v``: round onto dst's grid, then overflow.

    Refused (FirmwareError): LSBs above 2**30 and rounded values wider than 52 bits,
    where da4ml's constants, float64 intervals and 64-bit interpreter stop being
    exact (measured: such casts disagree with the emulator)."""
    t = fixed_type(dst)
    if t.frac < -_CONST_FRAC:
        raise FirmwareError(
            f"cast to {t}: its LSB 2**{-t.frac} is beyond the {_CONST_FRAC} bits of scale "
            "da4ml's constants and shifts represent exactly"
        )
    k, i, _ = v.kif
    if k + i + max(t.frac, 0) > _WIDEST:
        raise FirmwareError(
            f"cast to {t}: the value rounded to its LSB needs {k + i + t.frac} bits, more "
            f"than the {_WIDEST} da4ml traces exactly"
        )
    return fit(round_to(v, t), t)


def cast_all(vs: Sequence[Var], dst: Any) -> Vars:
    t = fixed_type(dst)
    return [cast(v, t) for v in vs]


# ----------------------------------------------------------------------------- sums


def tree_sum(terms: Sequence[Var], like: Var) -> Var:
    """Exact sum of the terms as a balanced adder tree (constants folded by da4ml)."""
    items = list(terms)
    if not items:
        return const_like(like, 0)
    while len(items) > 1:
        paired = [items[k] + items[k + 1] for k in range(0, len(items) - 1, 2)]
        if len(items) % 2:
            paired.append(items[-1])
        items = paired
    return items[0]


def bounds(v: Var) -> tuple[Fraction, Fraction]:
    return Fraction(v.low), Fraction(v.high)


def never_overflows(
    start: Fraction, terms: Sequence[tuple[Fraction, Fraction]], t: FixedType
) -> bool:
    """True when start, every term and every running sum start + t_0 + ... + t_k
    provably lie inside t (strictly above the minimum for signed SAT_SYM), so
    summing in order with t's overflow after each add equals the exact sum."""
    lo = Fraction(t.min_raw, 1 << t.frac) if t.frac >= 0 else Fraction(t.min_raw * (1 << -t.frac))
    hi = Fraction(t.max_raw, 1 << t.frac) if t.frac >= 0 else Fraction(t.max_raw * (1 << -t.frac))
    strict = t.overflow is Overflow.SAT_SYM and t.signed

    def inside(a: Fraction, b: Fraction) -> bool:
        return (a > lo if strict else a >= lo) and b <= hi

    low = high = start
    if not inside(low, high):
        return False
    for a, b in terms:
        if not inside(a, b):
            return False
        low, high = low + a, high + b
        if not inside(low, high):
            return False
    return True


def accumulate(start: Var, terms: Sequence[Var], acc: FixedType) -> Var:
    """acc_t a = start; a += t_k for k ascending, each sum cast to acc (terms already
    in acc): a ring sum when acc wraps or provably never overflows, else in order."""
    if acc.overflow is Overflow.WRAP:
        return fit(tree_sum([start, *terms], start), acc)
    if never_overflows(Fraction(start.low), [bounds(t) for t in terms], acc) and is_const(start):
        return tree_sum([start, *terms], start)
    total = start
    for term in terms:
        total = fit(total + term, acc)
    return total
