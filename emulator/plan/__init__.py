"""The seed plan: a trigger menu resolved to the integers the hardware computes with.

``build_plan(menu) -> MenuPlan`` runs once per menu. A :class:`MenuPlan` holds the
object slots the hardware receives per collection (sorted by pT, default 12), the
slot field types, the lookup tables, and one frozen :class:`SeedPlan` per seed:
its :class:`PlanKind`, collections, object cut (raw pT minimum, η limit in counts,
minimum quality), raw leg thresholds, :class:`PairLimits` (Δη, Δφ, ΔR², m² in
hardware units, ``None`` = no limit), LUTs, the sum type of HT/MET, the score type,
raw threshold, prescale and mask, and for networks a :class:`NetworkPlan`
(the model, loaded once by the menu, its score, and the integer conversion of
each input from the slots: :class:`NetworkInput`, :func:`network_input`).

The numba kernels of :mod:`emulator.seeds` read only the plan; the firmware
generators read the same plan, so the two cannot drift apart. Layering inside
the emulator: fixed < nn < menu < plan < seeds < replay.
"""

from emulator.plan._build import build_plan
from emulator.plan._conditions import ChargeRule, ConditionPlan, ExpressionPlan, ExprOp, LegPlan
from emulator.plan._luts import COSH_LIMIT, SeedLuts, build_luts, round_half_away
from emulator.plan._records import (
    MET_SLOT,
    NO_CANDIDATE,
    NO_LIMIT,
    Field,
    MenuPlan,
    NetworkInput,
    NetworkPlan,
    NNScore,
    ObjectCut,
    PairLimits,
    PlanKind,
    RawRange,
    SeedPlan,
    SlotPlan,
)
from emulator.plan._slots import BxSlots, CollectionSlots, network_input

__all__ = [
    "COSH_LIMIT",
    "MET_SLOT",
    "NO_CANDIDATE",
    "NO_LIMIT",
    "BxSlots",
    "ChargeRule",
    "CollectionSlots",
    "ConditionPlan",
    "ExprOp",
    "ExpressionPlan",
    "Field",
    "LegPlan",
    "MenuPlan",
    "NNScore",
    "NetworkInput",
    "NetworkPlan",
    "ObjectCut",
    "PairLimits",
    "PlanKind",
    "RawRange",
    "SeedLuts",
    "SeedPlan",
    "SlotPlan",
    "build_luts",
    "build_plan",
    "network_input",
    "round_half_away",
]
