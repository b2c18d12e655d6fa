"""Fixed-point types as the network emulator uses them (private).

A tensor type is ``emulator.fixed.FixedType`` (width, integer, signed, rounding,
overflow). Kernels take it as ``kernel_params(t)``: an int64 vector
``[width, frac, signed, rounding code, overflow code]``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import numpy as np

ROUNDING = ("TRN", "TRN_ZERO", "RND", "RND_ZERO", "RND_INF", "RND_MIN_INF", "RND_CONV")
OVERFLOW = ("WRAP", "SAT", "SAT_ZERO", "SAT_SYM")

_FixedType: Any
try:  # the fixed-point core; the local stand-in keeps this package usable alone
    from emulator.fixed import FixedType as _FixedType
except ImportError:  # pragma: no cover - only while emulator.fixed is being written
    try:
        from emulator.fixed._types import FixedType as _FixedType
    except ImportError:
        _FixedType = None


@dataclass(frozen=True)
class _StandInType:
    """Same fields as ``emulator.fixed.FixedType``; used only if that is missing."""

    width: int
    integer: int
    signed: bool = True
    rounding: str = "TRN"
    overflow: str = "WRAP"

    def __str__(self) -> str:
        base = "ap_fixed" if self.signed else "ap_ufixed"
        return f"{base}<{self.width},{self.integer},AP_{self.rounding},AP_{self.overflow}>"


def _mode_name(mode: Any) -> str:
    """Rounding/overflow name from a str or an enum ('AP_RND' -> 'RND')."""
    text = getattr(mode, "name", None) or str(mode)
    text = text.split(".")[-1].upper()
    return text.removeprefix("AP_")


def make_type(
    width: int, integer: int, signed: bool = True, rounding: str = "TRN", overflow: str = "WRAP"
) -> Any:
    """A FixedType after checking what the int64 kernels can hold."""
    rounding = _mode_name(rounding)
    overflow = _mode_name(overflow)
    if rounding not in ROUNDING:
        raise ValueError(f"unknown rounding mode {rounding!r}; expected one of {ROUNDING}")
    if overflow not in OVERFLOW:
        raise ValueError(f"unknown overflow mode {overflow!r}; expected one of {OVERFLOW}")
    if not 1 <= width <= 63:
        raise ValueError(
            f"fixed-point width {width} is outside 1..63 bits, which the int64 network "
            "kernels hold exactly"
        )
    cls = _FixedType if _FixedType is not None else _StandInType
    return cls(int(width), int(integer), bool(signed), rounding, overflow)


def as_type(t: Any) -> Any:
    """Normalise anything with width/integer/signed/rounding/overflow to our type."""
    if isinstance(t, str):
        return parse_type(t)
    return make_type(t.width, t.integer, t.signed, t.rounding, t.overflow)


_PATTERN = re.compile(
    r"^\s*(ap_)?(u?fixed|u?int)\s*<\s*(-?\d+)\s*(?:,\s*(-?\d+))?\s*"
    r"(?:,\s*(?:AP_)?(\w+))?\s*(?:,\s*(?:AP_)?(\w+))?\s*(?:,\s*\d+)?\s*>\s*$"
)


def parse_type(text: str) -> Any:
    """Parse ap_/hls4ml spellings (``fixed<16,6,RND,SAT>``, ``ap_uint<4>``...)."""
    m = _PATTERN.match(text)
    if m is None:
        raise ValueError(f"cannot parse fixed-point type {text!r}")
    kind, width = m.group(2), int(m.group(3))
    signed = not kind.startswith("u")
    integer = width if "int" in kind else int(m.group(4))
    return make_type(width, integer, signed, m.group(5) or "TRN", m.group(6) or "WRAP")


def frac(t: Any) -> int:
    """Number of fractional bits (may be negative)."""
    return int(t.width) - int(t.integer)


def kernel_params(t: Any) -> np.ndarray:
    """int64 [width, frac, signed, rounding, overflow] for the numba kernels."""
    return np.array(
        [
            int(t.width),
            frac(t),
            int(bool(t.signed)),
            ROUNDING.index(_mode_name(t.rounding)),
            OVERFLOW.index(_mode_name(t.overflow)),
        ],
        dtype=np.int64,
    )


def type_to_json(t: Any) -> dict[str, Any]:
    return {
        "width": int(t.width),
        "integer": int(t.integer),
        "signed": bool(t.signed),
        "rounding": _mode_name(t.rounding),
        "overflow": _mode_name(t.overflow),
    }


def type_from_json(d: dict[str, Any]) -> Any:
    return make_type(d["width"], d["integer"], d["signed"], d["rounding"], d["overflow"])


def raw_range(t: Any) -> tuple[int, int]:
    """Smallest and largest raw integer of the type."""
    if t.signed:
        return -(1 << (t.width - 1)), (1 << (t.width - 1)) - 1
    return 0, (1 << t.width) - 1


def type_text(t: Any) -> str:
    """ap_ spelling, whichever class t is."""
    d = type_to_json(t)
    base = "ap_fixed" if d["signed"] else "ap_ufixed"
    return f"{base}<{d['width']},{d['integer']},AP_{d['rounding']},AP_{d['overflow']}>"


def fast_cast_ok(src: Any, dst: Any) -> bool:
    """True when ``_kernels.cast_vec``'s branch-free loops are exact for src -> dst:
    TRN or RND rounding, WRAP or SAT overflow, and no shift leaves 62 bits."""
    p = kernel_params(dst)
    if int(p[3]) not in (0, 2) or int(p[4]) not in (0, 1):
        return False
    s = frac(src) - frac(dst)
    if s > 62:
        return False
    return not (s < 0 and int(src.width) - s > 62)
