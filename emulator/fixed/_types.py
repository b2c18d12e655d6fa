"""The fixed-point type model: ``FixedType`` and the HLS result-type rules.

A :class:`FixedType` describes an ``ap_fixed`` / ``ap_ufixed`` (and ``ap_int`` /
``ap_uint``, which are fixed-point types with ``integer == width``) from the
Xilinx arbitrary-precision headers. Values of a type are carried as raw
two's-complement integers in ``int64`` numpy arrays::

    value = raw * 2**-(width - integer)

One exception: an unsigned 64-bit type (``ap_ufixed<64, I>``) cannot hold its
upper half in ``int64``; its raws are stored as the 64-bit pattern, i.e. read
them with ``raw.view(np.uint64)``. Everything in this package honours that.

The rounding and overflow modes are :class:`Rounding` / :class:`Overflow`
string enums. Their ``code`` is the small integer the numba kernels take.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from enum import IntEnum, StrEnum
from typing import Final

import numpy as np
import numpy.typing as npt

__all__ = [
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

#: Widest raw integer the emulator carries (``int64`` arrays).
MAX_WIDTH: Final = 64
#: Integer-bit counts beyond this are rejected: they only arise from typos and
#: would push scale factors outside the float64 exponent range.
MAX_ABS_INTEGER: Final = 1 << 16


class FixedTypeError(ValueError):
    """A fixed-point type is invalid, unparsable or too wide for 64-bit raws."""


class Rounding(StrEnum):
    """Quantization (rounding) modes of ``ap_fixed``, same meaning as the headers.

    ``TRN`` floors (towards -inf), ``TRN_ZERO`` truncates towards zero, ``RND``
    rounds half up, ``RND_ZERO`` / ``RND_MIN_INF`` / ``RND_INF`` round half
    towards zero / -inf / away from zero, ``RND_CONV`` rounds half to even.
    """

    TRN = "TRN"
    TRN_ZERO = "TRN_ZERO"
    RND = "RND"
    RND_ZERO = "RND_ZERO"
    RND_INF = "RND_INF"
    RND_MIN_INF = "RND_MIN_INF"
    RND_CONV = "RND_CONV"

    @property
    def code(self) -> int:
        """Small integer used by the numba kernels (see ``_kernels``)."""
        return _ROUNDING_CODES[self]

    @classmethod
    def coerce(cls, value: str | Rounding) -> Rounding:
        """Accept ``"RND"``, ``"AP_RND"`` or ``Rounding.RND`` (case-insensitive)."""
        return cls(_strip_ap(value, "rounding", [m.value for m in cls]))


class Overflow(StrEnum):
    """Overflow modes of ``ap_fixed``, same meaning as the headers.

    ``WRAP`` keeps the low bits, ``SAT`` clamps to the range, ``SAT_ZERO``
    replaces any out-of-range value with zero, ``SAT_SYM`` clamps to the
    symmetric range (on signed types the most negative value never appears).
    """

    WRAP = "WRAP"
    SAT = "SAT"
    SAT_ZERO = "SAT_ZERO"
    SAT_SYM = "SAT_SYM"

    @property
    def code(self) -> int:
        """Small integer used by the numba kernels (see ``_kernels``)."""
        return _OVERFLOW_CODES[self]

    @classmethod
    def coerce(cls, value: str | Overflow) -> Overflow:
        """Accept ``"SAT"``, ``"AP_SAT"`` or ``Overflow.SAT`` (case-insensitive)."""
        return cls(_strip_ap(value, "overflow", [m.value for m in cls]))


class NonFinite(IntEnum):
    """What converting NaN or infinity to a fixed-point type does (kernel argument).

    ``REJECT``: an error naming the element (the headers call it undefined).
    ``HEADERS``: what the ap_types constructor computes from the double's bits, a
    huge value of the double's sign (0 when wrapping, the saturation value
    otherwise); hls4ml's C simulation relies on it (softmax's ``1/0`` table entry,
    NaN inputs to ``predict``).
    """

    REJECT = 0
    HEADERS = 1


# The codes must match the constants in _kernels.py (checked by a test).
_ROUNDING_CODES: Final = {r: i for i, r in enumerate(Rounding)}
_OVERFLOW_CODES: Final = {o: i for i, o in enumerate(Overflow)}


def _strip_ap(value: object, what: str, allowed: list[str]) -> str:
    if not isinstance(value, str):
        msg = f"{what} mode must be a string such as {allowed[0]!r}, got {value!r}"
        raise FixedTypeError(msg)
    name = value.strip().upper()
    name = name.removeprefix("AP_")
    if name not in allowed:
        msg = f"unknown {what} mode {value!r}; expected one of {', '.join(allowed)}"
        raise FixedTypeError(msg)
    return name


_TYPE_RE: Final = re.compile(
    r"^\s*(?P<ap>ap_)?(?P<u>u)?(?P<kind>fixed|int)\s*<(?P<args>[^<>]*)>\s*$",
    re.IGNORECASE,
)


def _check_bool(value: object, name: str) -> bool:
    if not isinstance(value, bool):
        msg = f"{name} must be a bool, got {value!r}"
        raise FixedTypeError(msg)
    return value


def _check_str(value: object) -> str:
    if not isinstance(value, str):
        msg = f"type spelling must be a string, got {value!r}"
        raise FixedTypeError(msg)
    return value


def require_type(value: object, name: str) -> FixedType:
    """Return ``value`` if it is a FixedType, else raise a TypeError naming ``name``."""
    if not isinstance(value, FixedType):
        msg = f"{name} must be a FixedType, got {value!r}"
        raise TypeError(msg)
    return value


def _check_int(value: object, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        msg = f"{name} must be an int, got {value!r}"
        raise FixedTypeError(msg)
    return value


@dataclass(frozen=True, slots=True)
class FixedType:
    """An ``ap_fixed<width, integer, rounding, overflow>`` (or ``ap_ufixed``) type.

    ``width`` is 1..64 (raws live in ``int64``); ``integer`` may be negative or
    larger than ``width`` as the headers allow. Equal types compare and hash
    equal; modes given as ``"AP_RND"`` or ``"RND"`` are stored normalised.
    """

    width: int
    integer: int
    signed: bool = True
    rounding: Rounding = Rounding.TRN
    overflow: Overflow = Overflow.WRAP

    def __init__(
        self,
        width: int,
        integer: int,
        signed: bool = True,
        rounding: str | Rounding = Rounding.TRN,
        overflow: str | Overflow = Overflow.WRAP,
    ) -> None:
        width = _check_int(width, "width")
        integer = _check_int(integer, "integer")
        signed = _check_bool(signed, "signed")
        if not 1 <= width <= MAX_WIDTH:
            msg = (
                f"fixed-point width {width} is outside 1..{MAX_WIDTH}: the emulator "
                "carries raws in int64 and never wraps silently"
            )
            raise FixedTypeError(msg)
        if abs(integer) > MAX_ABS_INTEGER:
            msg = f"integer bits {integer} are outside +-{MAX_ABS_INTEGER}"
            raise FixedTypeError(msg)
        object.__setattr__(self, "width", width)
        object.__setattr__(self, "integer", integer)
        object.__setattr__(self, "signed", signed)
        object.__setattr__(self, "rounding", Rounding.coerce(rounding))
        object.__setattr__(self, "overflow", Overflow.coerce(overflow))

    # ------------------------------------------------------------------ text
    @classmethod
    def parse(cls, text: str) -> FixedType:
        """Parse the ap_ or hls4ml spelling of a type.

        Accepts ``ap_fixed<16,6,AP_RND_CONV,AP_SAT>``, ``ap_ufixed<8,3>``,
        ``ap_int<10>``, ``ap_uint<4>``, and hls4ml's ``fixed<16,6,RND_CONV,SAT>``,
        ``ufixed<...>``, ``int<8>``, ``uint<8>``. A fifth ``ap_fixed`` argument
        (saturation bits) is accepted only when it is 0, the only value the
        emulator models.
        """
        match = _TYPE_RE.match(_check_str(text))
        if match is None:
            msg = (
                f"cannot parse fixed-point type {text!r}; expected e.g. "
                "'ap_fixed<16,6,AP_RND_CONV,AP_SAT>', 'ap_uint<4>' or 'fixed<16,6>'"
            )
            raise FixedTypeError(msg)
        signed = match["u"] is None
        args = [a.strip() for a in match["args"].split(",")]
        if match["kind"].lower() == "int":
            if len(args) != 1:
                msg = f"{text!r}: an int type takes exactly one argument (the width)"
                raise FixedTypeError(msg)
            width = _parse_int(args[0], "width", text)
            return cls(width, width, signed)
        if not 2 <= len(args) <= 5:
            msg = f"{text!r}: a fixed type takes 2 to 5 arguments, got {len(args)}"
            raise FixedTypeError(msg)
        width = _parse_int(args[0], "width", text)
        integer = _parse_int(args[1], "integer bits", text)
        rounding = args[2] if len(args) > 2 else "TRN"
        overflow = args[3] if len(args) > 3 else "WRAP"
        if len(args) == 5 and _parse_int(args[4], "saturation bits", text) != 0:
            msg = (
                f"{text!r}: saturation bits (5th argument) other than 0 are not "
                "supported by the emulator"
            )
            raise FixedTypeError(msg)
        try:
            return cls(width, integer, signed, rounding, overflow)
        except FixedTypeError as error:
            msg = f"invalid fixed-point type {text!r}: {error}"
            raise FixedTypeError(msg) from error

    def __str__(self) -> str:
        """The ``ap_fixed`` spelling; default modes are omitted as Vivado does."""
        name = "ap_fixed" if self.signed else "ap_ufixed"
        args = [str(self.width), str(self.integer)]
        if self.overflow is not Overflow.WRAP:
            args += [f"AP_{self.rounding.value}", f"AP_{self.overflow.value}"]
        elif self.rounding is not Rounding.TRN:
            args.append(f"AP_{self.rounding.value}")
        return f"{name}<{','.join(args)}>"

    def __repr__(self) -> str:
        return f"FixedType.parse({str(self)!r})"

    # ------------------------------------------------------------ properties
    @property
    def frac(self) -> int:
        """Fractional bits, ``width - integer`` (may be negative)."""
        return self.width - self.integer

    @property
    def lsb(self) -> float:
        """Value of one raw count, ``2**-frac``."""
        return math.ldexp(1.0, -self.frac)

    @property
    def min_raw(self) -> int:
        """Smallest raw integer (``-2**(width-1)`` signed, ``0`` unsigned)."""
        return -(1 << (self.width - 1)) if self.signed else 0

    @property
    def max_raw(self) -> int:
        """Largest raw integer as a Python int (``2**64-1`` for ``ap_ufixed<64,.>``)."""
        return (1 << (self.width - 1)) - 1 if self.signed else (1 << self.width) - 1

    @property
    def min_value(self) -> float:
        """Smallest representable value."""
        return math.ldexp(float(self.min_raw), -self.frac)

    @property
    def max_value(self) -> float:
        """Largest representable value (rounded to float64 for widths above 53)."""
        return math.ldexp(float(self.max_raw), -self.frac)

    def with_modes(
        self, rounding: str | Rounding | None = None, overflow: str | Overflow | None = None
    ) -> FixedType:
        """The same width/integer/sign with other modes."""
        return FixedType(
            self.width,
            self.integer,
            self.signed,
            self.rounding if rounding is None else rounding,
            self.overflow if overflow is None else overflow,
        )

    def kernel_params(self) -> tuple[int, int, int, int, int]:
        """``(width, frac, signed, rounding_code, overflow_code)`` as plain ints.

        Pass these to :func:`emulator.fixed._kernels.cast_raw` from inside other
        numba kernels so every kernel shares the one rounding/overflow code.
        """
        return (
            self.width,
            self.frac,
            int(self.signed),
            self.rounding.code,
            self.overflow.code,
        )

    # --------------------------------------------------- conversions (lazy)
    def quantize(
        self, values: npt.ArrayLike, out: npt.NDArray[np.int64] | None = None
    ) -> npt.NDArray[np.int64]:
        """Float array (any shape) → raw ``int64``: the ap_fixed-from-double conversion.

        Inputs are read as float64 (float32 widens exactly; integers beyond 2**53
        round as they would on their way to a ``double``). NaN or infinity raises
        ``ValueError`` naming the element. ``out``, if given, receives the result.
        """
        from emulator.fixed._convert import quantize  # noqa: PLC0415  # _convert imports this module

        return quantize(self, values, out)

    def to_float(self, raw: npt.ArrayLike) -> npt.NDArray[np.float64]:
        """Raw array → ``float64`` values (round-half-even, as ``to_double()``)."""
        from emulator.fixed._convert import to_float  # noqa: PLC0415  # _convert imports this module

        return to_float(self, raw)

    def cast(
        self,
        raw: npt.ArrayLike,
        src_type: FixedType,
        out: npt.NDArray[np.int64] | None = None,
    ) -> npt.NDArray[np.int64]:
        """Raw of ``src_type`` → raw of this type (ap_fixed assignment, all modes).

        Raises ``FixedTypeError`` for the pairs the headers assert on (see
        :func:`cast_is_defined`) and ``ValueError`` for raws outside ``src_type``.
        ``out``, if given, receives the result.
        """
        from emulator.fixed._convert import cast  # noqa: PLC0415  # _convert imports this module

        return cast(self, raw, src_type, out)


def cast_is_defined(src: FixedType, dst: FixedType) -> bool:
    """False where the headers ``assert`` on ``dst = src`` (undefined behaviour).

    The assignment reads the bit just below the destination LSB with
    ``get_bit(F_src - F_dst - 1)`` before checking that it lies inside the
    source; when the destination LSB is more than ``W_src`` bits above the
    source LSB and the mode rounds, ap_private asserts ("Attempting to read bit
    beyond MSB"). The emulator refuses those pairs instead of guessing.
    """
    rounds = dst.rounding is not Rounding.TRN and not (
        dst.rounding is Rounding.TRN_ZERO and not src.signed
    )
    return not (rounds and src.frac - dst.frac > src.width)


def _parse_int(token: str, name: str, text: str) -> int:
    try:
        return int(token, 10)
    except ValueError:
        msg = f"{text!r}: {name} {token!r} is not an integer"
        raise FixedTypeError(msg) from None


def _checked(
    width: int, integer: int, signed: bool, op: str, a: FixedType, b: FixedType
) -> FixedType:
    if width > MAX_WIDTH:
        msg = (
            f"{op} of {a} and {b} needs a {width}-bit result, wider than the "
            f"{MAX_WIDTH}-bit raws the emulator carries; cast an operand first"
        )
        raise FixedTypeError(msg)
    return FixedType(width, integer, signed)


def _plus_integer(a: FixedType, b: FixedType) -> int:
    # The headers give an unsigned operand one extra integer bit when the
    # other operand is signed (RType::plus_i in ap_fixed_base.h).
    return max(a.integer + (b.signed and not a.signed), b.integer + (a.signed and not b.signed)) + 1


def add_type(a: FixedType, b: FixedType) -> FixedType:
    """Full-precision type of ``a + b`` (``RType::plus`` of the headers)."""
    integer = _plus_integer(a, b)
    return _checked(integer + max(a.frac, b.frac), integer, a.signed or b.signed, "sum", a, b)


def sub_type(a: FixedType, b: FixedType) -> FixedType:
    """Full-precision type of ``a - b`` (``RType::minus``: always signed)."""
    integer = _plus_integer(a, b)
    return _checked(integer + max(a.frac, b.frac), integer, True, "difference", a, b)


def mul_type(a: FixedType, b: FixedType) -> FixedType:
    """Full-precision type of ``a * b``: ``W = Wa + Wb``, ``I = Ia + Ib``."""
    return _checked(a.width + b.width, a.integer + b.integer, a.signed or b.signed, "product", a, b)


def neg_type(a: FixedType) -> FixedType:
    """Type of ``-a``: ``ap_fixed<W+1, I+1>`` (signed), as ``operator-()`` returns."""
    return _checked(a.width + 1, a.integer + 1, True, "negation", a, a)
