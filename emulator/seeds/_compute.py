"""Compute every seed's raw score for a chunk of BX, in the menu's hardware types.

Inputs are quantized once per chunk and collection: pT with the pT type's own
float → fixed conversion (``ap_ufixed<14,12,AP_TRN,AP_SAT>`` by default), η and
φ by rounding to the nearest count (half away from zero, as CMSSW's
``l1ct::Scales::makeGlbEta``) and saturating to the angle type. The cut values
of each seed are converted to integers once, when the evaluator is built.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from emulator.fixed import FixedType
from emulator.menu import HardwareTypes, Menu, MenuError, PairCuts, Seed, SeedKind
from emulator.menu._model import raw_at_least, raw_at_most
from emulator.seeds import _kernels
from emulator.seeds._luts import SeedLuts, build_luts, round_half_away
from emulator.seeds._nn import NNScorer
from streams import EventBatch, Objects, to_slots

__all__ = ["QuantizedObjects", "SeedEvaluator", "quantize_angle", "quantize_objects"]

_NO_CUT = -1
_MAX_INT = np.iinfo(np.int64).max


def quantize_angle(
    values: NDArray[np.floating], lsb: float, angle_type: FixedType
) -> NDArray[np.int64]:
    """Angle [rad] → integer counts of ``lsb``: round half away from zero, then saturate."""
    counts = round_half_away(np.asarray(values, np.float64) / lsb)
    return np.clip(counts, angle_type.min_raw, angle_type.max_raw)


@dataclass(frozen=True)
class QuantizedObjects:
    """One collection in hardware integers (same jagged layout as :class:`Objects`)."""

    offsets: NDArray[np.int64]
    pt: NDArray[np.int64]
    eta: NDArray[np.int64]
    phi: NDArray[np.int64]
    quality: NDArray[np.int32]


def quantize_objects(objects: Objects, hardware: HardwareTypes) -> QuantizedObjects:
    """Quantize a collection to the menu's pT, η and φ types."""
    return QuantizedObjects(
        offsets=np.ascontiguousarray(objects.offsets, np.int64),
        pt=np.ascontiguousarray(hardware.pt.quantize(np.asarray(objects.pt, np.float64)), np.int64),
        eta=quantize_angle(objects.eta, hardware.eta_lsb, hardware.eta),
        phi=quantize_angle(objects.phi, hardware.phi_lsb, hardware.phi),
        quality=np.ascontiguousarray(objects.quality, np.int32),
    )


def _eta_limit(seed: Seed, hardware: HardwareTypes) -> int:
    if seed.eta_max is None:
        return int(_MAX_INT)
    return raw_at_most(seed.eta_max, hardware.eta_lsb)


def _pair_limits(seed: Seed, pair: PairCuts, hardware: HardwareTypes) -> NDArray[np.int64]:
    """Integer limits [Δη lo, hi, Δφ lo, hi, ΔR² lo, hi, m² lo, hi] (-1 = no cut)."""
    eta_lsb, phi_lsb = hardware.eta_lsb, hardware.phi_lsb
    if (pair.dr_min is not None or pair.dr_max is not None) and not np.isclose(eta_lsb, phi_lsb):
        raise MenuError(f"seed {seed.name!r}: field 'pair': ΔR cuts need equal η and φ units")
    mass_unit = hardware.pt.lsb**2 * 2.0**-hardware.lut_fraction_bits

    def low(value: float | None, unit: float, power: int = 1) -> int:
        return _NO_CUT if value is None else raw_at_least(value**power, unit)

    def high(value: float | None, unit: float, power: int = 1) -> int:
        return _NO_CUT if value is None else raw_at_most(value**power, unit)

    return np.array(
        [
            low(pair.deta_min, eta_lsb),
            high(pair.deta_max, eta_lsb),
            low(pair.dphi_min, phi_lsb),
            high(pair.dphi_max, phi_lsb),
            low(pair.dr_min, eta_lsb**2, 2),
            high(pair.dr_max, eta_lsb**2, 2),
            low(pair.mass_min, mass_unit, 2),
            high(pair.mass_max, mass_unit, 2),
        ],
        np.int64,
    )


class SeedEvaluator:
    """Computes the raw scores of all seeds of a menu, chunk by chunk.

    Built once per replay: it converts the cuts to integers, builds the lookup
    tables and loads the NN models. :meth:`scores` then returns an
    (n_records, n_seeds) int64 array in menu order.
    """

    def __init__(self, menu: Menu) -> None:
        self.menu = menu
        self.hardware = menu.hardware
        self.luts: SeedLuts = build_luts(menu.hardware)
        self._nn = {seed.name: NNScorer(seed) for seed in menu.seeds if seed.kind is SeedKind.NN}
        self._pair_limits = {
            seed.name: _pair_limits(seed, seed.pair or PairCuts(), menu.hardware)
            for seed in menu.seeds
            if seed.kind is SeedKind.OBJECTS and seed.multiplicity == 2
        }

    def scores(self, batch: EventBatch) -> NDArray[np.int64]:
        """Raw scores, shape (len(batch), n_seeds), in the order of ``menu.seeds``."""
        n = len(batch)
        out = np.empty((n, len(self.menu.seeds)), np.int64)
        quantized: dict[str, QuantizedObjects] = {}
        slots = to_slots(batch) if self._nn else None

        def collection(name: str) -> QuantizedObjects:
            if name not in quantized:
                objects = batch.objects.get(name) or Objects.empty(n)
                quantized[name] = quantize_objects(objects, self.hardware)
            return quantized[name]

        for column, seed in enumerate(self.menu.seeds):
            target = np.empty(n, np.int64)
            if seed.kind is SeedKind.OBJECTS:
                self._objects(seed, collection(seed.collections[0]), target)
            elif seed.kind is SeedKind.HT:
                self._ht(seed, collection(seed.collections[0]), target)
            elif seed.kind is SeedKind.MET:
                if seed.met_source == "event":
                    met = np.asarray(batch.met_pt, np.float64)
                    target[:] = self.hardware.sum.quantize(np.nan_to_num(met, nan=0.0))
                else:
                    self._met(seed, [collection(c) for c in seed.collections], target)
            else:
                target[:] = self._nn[seed.name].scores(batch, slots)
            out[:, column] = target
        return out

    # ------------------------------------------------------------------ kinds
    def _objects(self, seed: Seed, objects: QuantizedObjects, target: NDArray[np.int64]) -> None:
        legs = np.array(
            [raw_at_least(t, self.hardware.pt.lsb) for t in seed.pt_thresholds], np.int64
        )
        eta_max = _eta_limit(seed, self.hardware)
        if seed.multiplicity == 2:
            _kernels.pair_kernel(
                objects.offsets, objects.pt, objects.eta, objects.phi, objects.quality,
                int(legs[0]), eta_max, seed.min_quality, self._pair_limits[seed.name],
                self.luts.half_turn, self.luts.cosh, self.luts.cos, target,
            )  # fmt: skip
        else:
            _kernels.leading_objects_kernel(
                objects.offsets, objects.pt, objects.eta, objects.quality,
                legs, eta_max, seed.min_quality, target,
            )  # fmt: skip

    def _wide_pt_type(self) -> FixedType:
        """Accumulator type for sums of pT: the pT LSB with integer bits to spare."""
        pt = self.hardware.pt
        return FixedType(62, 62 - pt.frac, signed=True)

    def _ht(self, seed: Seed, objects: QuantizedObjects, target: NDArray[np.int64]) -> None:
        pt_min = raw_at_least(seed.object_pt_min, self.hardware.pt.lsb)
        _kernels.ht_kernel(
            objects.offsets,
            objects.pt,
            objects.eta,
            pt_min,
            _eta_limit(seed, self.hardware),
            target,
        )
        target[:] = self.hardware.sum.cast(target, self._wide_pt_type())

    def _met(
        self, seed: Seed, collections: list[QuantizedObjects], target: NDArray[np.int64]
    ) -> None:
        n = target.shape[0]
        px = np.zeros(n, np.int64)
        py = np.zeros(n, np.int64)
        pt_min = raw_at_least(seed.object_pt_min, self.hardware.pt.lsb)
        eta_max = _eta_limit(seed, self.hardware)
        for objects in collections:
            _kernels.vector_sum_kernel(
                objects.offsets, objects.pt, objects.eta, objects.phi, pt_min, eta_max,
                self.luts.phi_offset, self.luts.cos_phi, self.luts.sin_phi, px, py,
            )  # fmt: skip
        _kernels.magnitude_kernel(px, py, self.luts.fraction_bits, target)
        target[:] = self.hardware.sum.cast(target, self._wide_pt_type())
