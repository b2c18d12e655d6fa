"""Compute every seed's raw score for a chunk of BX from the seed plan.

Inputs are quantized once per chunk and collection: pT with the pT type's own
float → fixed conversion (``ap_ufixed<14,12,AP_TRN,AP_SAT>`` by default), η and
φ by rounding to the nearest count (half away from zero, as CMSSW's
``l1ct::Scales::makeGlbEta``) and saturating to the angle type, quality with the
quality type (saturating by default). Each collection is then cut to the
hardware's object slots (:func:`hardware_slots`); every kernel reads only these
slots and the :class:`emulator.plan.MenuPlan`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from emulator.fixed import FixedType
from emulator.menu import Menu
from emulator.plan import (
    BxSlots,
    CollectionSlots,
    MenuPlan,
    PlanKind,
    SeedPlan,
    build_plan,
    round_half_away,
)
from emulator.seeds import _kernels
from emulator.seeds._conditions import ExpressionEvaluator
from emulator.seeds._nn import NNScorer
from streams import EventBatch, Objects

__all__ = [
    "QuantizedObjects",
    "SeedEvaluator",
    "hardware_slots",
    "quantize_angle",
    "quantize_objects",
]

#: what the kernels take for "no η cut" (every count passes)
_NO_ETA_CUT = int(np.iinfo(np.int64).max)


def quantize_angle(
    values: NDArray[np.floating], lsb: float, angle_type: FixedType
) -> NDArray[np.int64]:
    """Angle [rad] → integer counts of ``lsb``: round half away from zero, then saturate.

    The count is clipped in float first (one count beyond each end of the type), so
    an absurd angle such as η = 1e17 saturates instead of overflowing the int64 cast.
    """
    angles = np.asarray(values, np.float64)
    angles = np.clip(
        np.where(np.isnan(angles), 0.0, angles),
        (angle_type.min_raw - 1.0) * lsb,
        (angle_type.max_raw + 1.0) * lsb,
    )
    return np.clip(round_half_away(angles / lsb), angle_type.min_raw, angle_type.max_raw)


@dataclass(frozen=True)
class QuantizedObjects:
    """One collection in hardware integers (same jagged layout as :class:`Objects`)."""

    offsets: NDArray[np.int64]
    pt: NDArray[np.int64]
    eta: NDArray[np.int64]
    phi: NDArray[np.int64]
    quality: NDArray[np.int64]
    #: ±1, 0 unknown (streams.CHARGE_UNKNOWN)
    charge: NDArray[np.int64] | None = None
    #: hardware word, -1 unknown (streams.ISOLATION_UNKNOWN)
    isolation: NDArray[np.int64] | None = None


def quantize_objects(objects: Objects, plan: MenuPlan) -> QuantizedObjects:
    """Quantize a collection to the plan's pT, η, φ and quality types."""
    hardware = plan.menu.hardware
    return QuantizedObjects(
        offsets=np.ascontiguousarray(objects.offsets, np.int64),
        pt=np.ascontiguousarray(
            plan.pt_type.quantize(np.asarray(objects.pt, np.float64)), np.int64
        ),
        eta=quantize_angle(objects.eta, hardware.eta_lsb, plan.eta_type),
        phi=quantize_angle(objects.phi, hardware.phi_lsb, plan.phi_type),
        quality=np.ascontiguousarray(
            plan.quality_type.quantize(np.asarray(objects.quality, np.float64)), np.int64
        ),
        charge=np.ascontiguousarray(objects.charge, np.int64),
        isolation=np.ascontiguousarray(objects.isolation, np.int64),
    )


def _slots(objects: QuantizedObjects, count: int) -> CollectionSlots:
    n = objects.offsets.shape[0] - 1
    pt, eta, phi, quality, charge, isolation = (np.zeros((n, count), np.int64) for _ in range(6))
    valid = np.zeros((n, count), np.bool_)
    dropped = np.zeros(n, np.int64)
    size = objects.pt.shape[0]
    charge_in = objects.charge if objects.charge is not None else np.zeros(size, np.int64)
    iso_in = objects.isolation if objects.isolation is not None else np.full(size, -1, np.int64)
    _kernels.fill_slots_kernel(
        objects.offsets, objects.pt, objects.eta, objects.phi, objects.quality, charge_in,
        iso_in, pt, eta, phi, quality, charge, isolation, valid, dropped,
    )  # fmt: skip
    return CollectionSlots(pt, eta, phi, quality, valid, dropped, charge, isolation)


def hardware_slots(batch: EventBatch, plan: MenuPlan) -> BxSlots:
    """The BX as the hardware receives it: every collection in its slots, and the MET word.

    A collection keeps its ``count`` highest raw-pT objects (ties: input order);
    ``CollectionSlots.dropped`` counts the rest. The MET word is the event's MET
    in the ``sum`` type and its φ in counts.
    """
    n = len(batch)
    collections = {}
    for slot in plan.slots:
        objects = batch.objects.get(slot.collection) or Objects.empty(n)
        collections[slot.collection] = _slots(quantize_objects(objects, plan), slot.count)
    met = np.nan_to_num(np.asarray(batch.met_pt, np.float64), nan=0.0)
    return BxSlots(
        collections=collections,
        met_pt=np.ascontiguousarray(plan.met_type.quantize(met), np.int64),
        met_phi=quantize_angle(batch.met_phi, plan.menu.hardware.phi_lsb, plan.phi_type),
    )


class SeedEvaluator:
    """Computes the raw scores of all seeds of a plan, chunk by chunk.

    Built once per replay from a :class:`MenuPlan` (or a menu, whose plan it
    builds). :meth:`scores` returns an (n_records, n_seeds) int64 array in menu
    order; :meth:`scores_of` does the same from slots already built.
    """

    def __init__(self, plan: MenuPlan | Menu) -> None:
        self.plan = plan if isinstance(plan, MenuPlan) else build_plan(plan)
        networks = [seed.nn for seed in self.plan.seeds if seed.nn is not None]
        for seed in self.plan.seeds:
            if seed.expression is not None:
                networks += [
                    c.inner.nn
                    for c in seed.expression.conditions
                    if c.inner is not None and c.inner.nn is not None
                ]
        self._nn = {id(network): NNScorer(network) for network in networks}
        self._expressions = ExpressionEvaluator(self.plan, self.seed_scores)

    def scores(self, batch: EventBatch) -> NDArray[np.int64]:
        """Raw scores, shape (len(batch), n_seeds), in the order of the plan's seeds."""
        return self.scores_of(hardware_slots(batch, self.plan))

    def scores_of(self, slots: BxSlots) -> NDArray[np.int64]:
        """Raw scores from the BX's hardware slots."""
        out = np.empty((len(slots), len(self.plan.seeds)), np.int64)
        for seed in self.plan.seeds:
            out[:, seed.index] = self.seed_scores(seed, slots)
        return out

    def seed_scores(self, seed: SeedPlan, slots: BxSlots) -> NDArray[np.int64]:
        """Raw scores of one seed (or of a sum / network condition's plan)."""
        target = np.empty(len(slots), np.int64)
        if seed.kind is PlanKind.LEADING:
            self._leading(seed, slots.collections[seed.collections[0]], target)
        elif seed.kind is PlanKind.PAIR:
            self._pair(seed, slots.collections[seed.collections[0]], target)
        elif seed.kind is PlanKind.HT:
            self._ht(seed, slots.collections[seed.collections[0]], target)
        elif seed.kind is PlanKind.MET_OBJECTS:
            self._met(seed, [slots.collections[c] for c in seed.collections], target)
        elif seed.kind is PlanKind.MET_EVENT:
            target[:] = slots.met_pt
        elif seed.kind is PlanKind.EXPRESSION:
            target[:] = self._expressions.scores(seed, slots)
        else:
            target[:] = self._nn[id(seed.nn)].scores(slots)
        return target

    # ------------------------------------------------------------------ kinds
    @staticmethod
    def _eta_max(seed: SeedPlan) -> int:
        return _NO_ETA_CUT if seed.cut.eta_max is None else seed.cut.eta_max

    def _leading(self, seed: SeedPlan, c: CollectionSlots, target: NDArray[np.int64]) -> None:
        _kernels.leading_objects_kernel(
            c.pt, c.eta, c.quality, c.valid, np.array(seed.legs, np.int64),
            self._eta_max(seed), seed.cut.min_quality, target,
        )  # fmt: skip

    def _pair(self, seed: SeedPlan, c: CollectionSlots, target: NDArray[np.int64]) -> None:
        assert seed.pair is not None
        luts = self.plan.luts
        _kernels.pair_kernel(
            c.pt, c.eta, c.phi, c.quality, c.valid, seed.legs[0], self._eta_max(seed),
            seed.cut.min_quality, seed.pair.as_array(), luts.half_turn, luts.cosh, luts.cos,
            target,
        )  # fmt: skip

    def _ht(self, seed: SeedPlan, c: CollectionSlots, target: NDArray[np.int64]) -> None:
        assert seed.sum_type is not None
        _kernels.ht_kernel(
            c.pt, c.eta, c.quality, c.valid, seed.cut.pt_min, self._eta_max(seed),
            seed.cut.min_quality, target,
        )  # fmt: skip
        target[:] = seed.score_type.cast(target, seed.sum_type)

    def _met(
        self, seed: SeedPlan, collections: list[CollectionSlots], target: NDArray[np.int64]
    ) -> None:
        assert seed.luts is not None
        assert seed.sum_type is not None
        n = target.shape[0]
        px = np.zeros(n, np.int64)
        py = np.zeros(n, np.int64)
        luts = seed.luts
        for c in collections:
            _kernels.vector_sum_kernel(
                c.pt, c.eta, c.phi, c.quality, c.valid, seed.cut.pt_min, self._eta_max(seed),
                seed.cut.min_quality, luts.phi_offset, luts.cos_phi, luts.sin_phi, px, py,
            )  # fmt: skip
        _kernels.magnitude_kernel(px, py, luts.fraction_bits, target)
        target[:] = seed.score_type.cast(target, seed.sum_type)
