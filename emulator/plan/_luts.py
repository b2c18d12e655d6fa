"""Lookup tables of the seeds, built once per menu in declared integer formats.

The firmware evaluates cosh(Δη), cos(Δφ), cos φ and sin φ from ROM tables indexed
by the integer angle, not with floating point; the emulator does the same so the
mass and MET comparisons are integer operations with one defined result.

* ``cosh_lut[d]`` = round(cosh(d · lsb_η) · 2^F), unsigned, saturated at 2^30
  (reached for Δη > 13 rad: far outside any detector; it keeps m² inside int64).
* ``cos_lut[d]`` = round(cos(d · lsb_φ) · 2^F) for d = 0 .. half turn (signed).
* ``cos_phi[k]``, ``sin_phi[k]`` = round(cos/sin(φ) · 2^F) for every φ count of
  the φ type, indexed by ``φ - min_raw``.

Rounding is half away from zero (``np.round`` would round half to even).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from emulator.menu import HardwareTypes

__all__ = ["COSH_LIMIT", "SeedLuts", "build_luts", "round_half_away"]

#: cosh table values saturate here (Δη > 13 rad), keeping m² inside int64
COSH_LIMIT = 1 << 30


def round_half_away(values: NDArray[np.float64]) -> NDArray[np.int64]:
    """Round to the nearest integer, halves away from zero (C ``round``)."""
    return (np.sign(values) * np.floor(np.abs(values) + 0.5)).astype(np.int64)


@dataclass(frozen=True)
class SeedLuts:
    """The tables and the integer geometry they belong to (arrays are read-only).

    ``cosh`` is indexed by |Δη| in counts (0 .. span of the η type), ``cos`` by the
    folded |Δφ| (0 .. ``half_turn``), ``cos_phi`` / ``sin_phi`` by φ + ``phi_offset``.
    Values are integers with ``fraction_bits`` fraction bits.
    """

    fraction_bits: int
    half_turn: int
    cosh: NDArray[np.int64]
    cos: NDArray[np.int64]
    cos_phi: NDArray[np.int64]
    sin_phi: NDArray[np.int64]
    phi_offset: int

    def __post_init__(self) -> None:
        for table in (self.cosh, self.cos, self.cos_phi, self.sin_phi):
            table.setflags(write=False)


def build_luts(hardware: HardwareTypes) -> SeedLuts:
    """Tables for the hardware types of a menu."""
    scale = float(1 << hardware.lut_fraction_bits)
    half_turn = round(np.pi / hardware.phi_lsb)
    eta_counts = np.arange(hardware.eta.max_raw - hardware.eta.min_raw + 1, dtype=np.float64)
    with np.errstate(over="ignore"):
        cosh = np.minimum(np.cosh(eta_counts * hardware.eta_lsb) * scale, float(COSH_LIMIT))
    cos = np.cos(np.arange(half_turn + 1, dtype=np.float64) * hardware.phi_lsb) * scale
    phi = np.arange(hardware.phi.min_raw, hardware.phi.max_raw + 1, dtype=np.float64)
    return SeedLuts(
        fraction_bits=hardware.lut_fraction_bits,
        half_turn=int(half_turn),
        cosh=round_half_away(cosh),
        cos=round_half_away(cos),
        cos_phi=round_half_away(np.cos(phi * hardware.phi_lsb) * scale),
        sin_phi=round_half_away(np.sin(phi * hardware.phi_lsb) * scale),
        phi_offset=-int(hardware.phi.min_raw),
    )
