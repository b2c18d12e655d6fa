"""The seed plan's records: a menu resolved to the integers the hardware computes with.

Everything here is immutable and holds raw integers and :class:`FixedType` objects
only (no physics units): the numba kernels of :mod:`emulator.seeds` and the
firmware generators read these records and nothing else, so both compute the same
thing by construction.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum, StrEnum
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from emulator.fixed import FixedType
from emulator.menu import Menu
from emulator.plan._luts import SeedLuts
from streams.slots import SlotLayout

if TYPE_CHECKING:
    from emulator.nn import Model
    from emulator.plan._conditions import ExpressionPlan

__all__ = [
    "MET_SLOT",
    "NO_CANDIDATE",
    "NO_LIMIT",
    "Field",
    "MenuPlan",
    "NNScore",
    "NetworkInput",
    "NetworkPlan",
    "ObjectCut",
    "PairLimits",
    "PlanKind",
    "RawRange",
    "SeedPlan",
    "SlotPlan",
]

#: Raw score of a LEADING / PAIR seed when no object (pair) passes; pT scores are
#: unsigned, so it is below every legal score (same value as emulator.menu.NO_CANDIDATE).
NO_CANDIDATE = -1

#: How :meth:`PairLimits.as_array` encodes "no limit" for the kernels (limits are >= 0).
NO_LIMIT = -1

#: Name of the MET pseudo-collection in network inputs (one slot).
MET_SLOT = "met"


class PlanKind(IntEnum):
    """What a seed computes: one kernel (and one firmware datapath) per kind."""

    #: n = 1, 3 or 4 legs: score = pT of the n-th leading passing object
    LEADING = 1
    #: two legs plus pair conditions: score = best pair's sub-leading pT
    PAIR = 2
    #: scalar pT sum of the passing objects
    HT = 3
    #: |vector pT sum| of the passing objects of one or more collections
    MET_OBJECTS = 4
    #: the event's MET word, as it arrives
    MET_EVENT = 5
    #: a neural network and its score
    NN = 6
    #: a boolean expression over conditions (:class:`ExpressionPlan` in ``expression``)
    EXPRESSION = 7


class Field(IntEnum):
    """A field of an object slot, in the order of the firmware's slot words."""

    PT = 0
    ETA = 1
    PHI = 2
    QUALITY = 3


class NNScore(StrEnum):
    """How a network's output becomes one raw score (see emulator.menu.NNSpec)."""

    AE_MSE = "ae_mse"
    LATENT_MU2 = "latent_mu2"
    CNF_NORM = "cnf_norm"
    TAGGER = "tagger"


@dataclass(frozen=True)
class RawRange:
    """Inclusive integer limits; ``None`` means no limit on that side."""

    lo: int | None = None
    hi: int | None = None

    @property
    def is_set(self) -> bool:
        """Whether either limit is set."""
        return self.lo is not None or self.hi is not None

    def contains(self, value: int) -> bool:
        """Whether ``value`` is inside the limits."""
        return (self.lo is None or value >= self.lo) and (self.hi is None or value <= self.hi)


@dataclass(frozen=True)
class PairLimits:
    """Pair conditions in hardware units.

    ``deta``, ``dphi``: counts of the angle LSB (Δφ folded into [0, half turn]);
    ``dr2``: Δη² + Δφ² in counts²; ``mass2``: m² = 2·pT_a·pT_b·(cosh_lut[Δη] -
    cos_lut[Δφ]) in units of LSB_pT² · 2^-F (F = the LUTs' fraction bits).
    """

    deta: RawRange = RawRange()
    dphi: RawRange = RawRange()
    dr2: RawRange = RawRange()
    mass2: RawRange = RawRange()

    @property
    def needs_mass(self) -> bool:
        """Whether a mass condition is set (the LUTs are then needed)."""
        return self.mass2.is_set

    def as_array(self) -> NDArray[np.int64]:
        """[Δη lo, hi, Δφ lo, hi, ΔR² lo, hi, m² lo, hi] with :data:`NO_LIMIT` for None."""
        values = []
        for limits in (self.deta, self.dphi, self.dr2, self.mass2):
            values += [NO_LIMIT if v is None else v for v in (limits.lo, limits.hi)]
        return np.array(values, np.int64)


@dataclass(frozen=True)
class ObjectCut:
    """Which objects of a collection a seed looks at (all raw integers).

    An object passes when it is present (valid slot), ``pt >= pt_min``,
    ``|eta| <= eta_max`` (``None``: no η cut) and ``quality >= min_quality``.
    """

    pt_min: int = 0
    eta_max: int | None = None
    min_quality: int = 0


@dataclass(frozen=True)
class SlotPlan:
    """Objects of one collection the hardware receives per BX, sorted by decreasing pT."""

    collection: str
    count: int


@dataclass(frozen=True)
class NetworkInput:
    """One value of a network's input vector, computed from the hardware integers.

    value = cast_to_input_type(raw(collection, slot, field) · constant_raw · 2^-F),
    with F = :attr:`NetworkPlan.constant_fraction_bits`; an empty slot gives 0.
    ``collection`` may be :data:`MET_SLOT` (slot 0: pT in the sum type, η = 0,
    φ, quality = 0).
    """

    collection: str
    slot: int
    field: Field
    constant_raw: int


@dataclass(frozen=True)
class NetworkPlan:
    """A network seed: the model (loaded once), its input conversion and its score."""

    model: Model
    score: NNScore
    layout: SlotLayout
    inputs: tuple[NetworkInput, ...]
    #: model input type (the Input layer's result type, with its rounding and overflow)
    input_type: FixedType
    constant_fraction_bits: int
    #: cnf_norm with a (x, t) network: t as a raw value of ``input_type``, appended last
    time_raw: int | None
    #: which output element (tagger) or output of a multi-output model
    output: int
    accum_type: FixedType | None
    diff_type: FixedType | None
    scale_type: FixedType | None
    out_type: FixedType | None

    @property
    def product_type(self) -> FixedType:
        """Type of raw · constant before the cast to the input type (signed, F fraction bits)."""
        return FixedType(62, 62 - self.constant_fraction_bits, signed=True)


@dataclass(frozen=True)
class SeedPlan:
    """One seed in hardware integers. Fields not used by its kind are left empty.

    The decision is ``score >= threshold_raw``; ``score_type`` is the score's type.
    """

    name: str
    kind: PlanKind
    #: column of the seed in the decisions (menu order)
    index: int
    #: collections read: one for LEADING/PAIR/HT, one or more for MET_OBJECTS
    collections: tuple[str, ...]
    cut: ObjectCut
    #: LEADING/PAIR: raw pT thresholds of the legs, decreasing
    legs: tuple[int, ...]
    pair: PairLimits | None
    #: PAIR with a mass condition and MET_OBJECTS: the tables
    luts: SeedLuts | None
    #: HT / MET_OBJECTS: type of the value cast to ``score_type`` (wide enough never
    #: to overflow for the declared slots: HT the pT sum, MET the magnitude)
    sum_type: FixedType | None
    score_type: FixedType
    threshold_raw: int
    prescale: float
    masked: bool
    nn: NetworkPlan | None = None
    #: EXPRESSION: the conditions and the boolean program over their decisions
    expression: ExpressionPlan | None = None


@dataclass(frozen=True)
class MenuPlan:
    """The whole menu in hardware integers; build it with :func:`emulator.plan.build_plan`."""

    menu: Menu
    #: objects per collection the hardware receives (every collection of the menu's types)
    slots: tuple[SlotPlan, ...]
    #: pT, η, φ, quality types of an object slot; MET word: pT in ``met_type``, φ in ``phi``
    pt_type: FixedType
    eta_type: FixedType
    phi_type: FixedType
    quality_type: FixedType
    met_type: FixedType
    luts: SeedLuts
    seeds: tuple[SeedPlan, ...]

    @property
    def seed_names(self) -> tuple[str, ...]:
        """Seed names in menu (decision column) order."""
        return tuple(seed.name for seed in self.seeds)

    def seed(self, name: str) -> SeedPlan:
        """The plan of seed ``name``."""
        for seed in self.seeds:
            if seed.name == name:
                return seed
        raise KeyError(f"no seed {name!r} in the plan; seeds: {list(self.seed_names)}")

    def slot_count(self, collection: str) -> int:
        """Slots of ``collection`` (1 for :data:`MET_SLOT`)."""
        if collection == MET_SLOT:
            return 1
        for slot in self.slots:
            if slot.collection == collection:
                return slot.count
        raise KeyError(f"no collection {collection!r} in the plan")
