"""Charge and isolation in the object slot words: which collections carry them, and how.

The firmware's slot words hold pT, η, φ, quality and a valid bit
(:data:`BASE_FIELDS`). Expression seeds can also cut on an object's charge and its
hardware isolation word (:class:`emulator.plan.LegPlan`); only then does a
collection's slot word grow, field by field, after ``valid`` (so a menu without
such cuts keeps its input layout bit for bit):

* ``charge``: :data:`CHARGE_TYPE`, two bits signed: +1, -1, 0 = unknown (an empty
  slot holds 0). Carried when a leg of the collection cuts on the charge or its
  condition has a charge correlation.
* ``isolation``: :func:`isolation_type`, signed, -1 = unknown. Its width holds
  every allowed word of the menu plus one value above them all; a larger word of
  the input (no leg ever allows it) is saturated to that value when packed
  (:func:`isolation_word`), so the cut fails on it exactly as on the original.

No da4ml here: the top-module generator, the tracers and the co-simulation
stimulus all read the layout from :func:`extra_fields`.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from emulator.fixed import FixedType
from emulator.plan import ChargeRule, CollectionSlots, MenuPlan, PlanKind

__all__ = [
    "BASE_FIELDS",
    "CHARGE",
    "CHARGE_TYPE",
    "ISOLATION",
    "collection_fields",
    "extra_fields",
    "extra_values",
    "isolation_type",
    "isolation_word",
]

#: fields of every object slot word, LSB first
BASE_FIELDS: tuple[str, ...] = ("pt", "eta", "phi", "quality", "valid")
#: names of the optional fields
CHARGE = "charge"
ISOLATION = "isolation"
#: the charge field: -1, 0 (unknown), +1
CHARGE_TYPE = FixedType(2, 2, signed=True)
#: fewest magnitude bits of the isolation field (the uGT's isolation words have 2 bits)
_MIN_ISOLATION_BITS = 2


def _legs(plan: MenuPlan) -> list[tuple[str, bool, bool]]:
    """(collection, needs charge, needs isolation) of every leg of every condition."""
    out = []
    for seed in plan.seeds:
        if seed.kind is not PlanKind.EXPRESSION or seed.expression is None:
            continue
        for condition in seed.expression.conditions:
            correlated = condition.charge_rule is not ChargeRule.ANY
            for leg in condition.legs:
                out.append(
                    (leg.collection, correlated or leg.charge != 0, leg.isolation is not None)
                )
    return out


def isolation_type(plan: MenuPlan) -> FixedType:
    """The isolation field: signed, one value above the largest allowed word of the menu."""
    words = [
        word
        for seed in plan.seeds
        if seed.expression is not None
        for condition in seed.expression.conditions
        for leg in condition.legs
        for word in leg.isolation or ()
    ]
    bits = max(_MIN_ISOLATION_BITS, (max(words, default=0) + 1).bit_length())
    return FixedType(bits + 1, bits + 1, signed=True)


def extra_fields(plan: MenuPlan) -> dict[str, tuple[tuple[str, FixedType], ...]]:
    """Per collection, the optional fields its slot word carries (name, type), in order."""
    legs = _legs(plan)
    iso = isolation_type(plan)
    out: dict[str, tuple[tuple[str, FixedType], ...]] = {}
    for slot in plan.slots:
        mine = [(charge, isolation) for c, charge, isolation in legs if c == slot.collection]
        fields: list[tuple[str, FixedType]] = []
        if any(charge for charge, _ in mine):
            fields.append((CHARGE, CHARGE_TYPE))
        if any(isolation for _, isolation in mine):
            fields.append((ISOLATION, iso))
        out[slot.collection] = tuple(fields)
    return out


def collection_fields(plan: MenuPlan, collection: str) -> tuple[str, ...]:
    """Every field of one slot of ``collection``'s input word, LSB first."""
    return BASE_FIELDS + tuple(name for name, _ in extra_fields(plan).get(collection, ()))


def isolation_word(values: NDArray[np.int64], t: FixedType) -> NDArray[np.int64]:
    """Isolation words as the field holds them: -1 (unknown) and allowed words as they
    are, anything above the field's maximum saturated to it (never an allowed word)."""
    return np.minimum(np.asarray(values, np.int64), t.max_raw)


def extra_values(c: CollectionSlots, name: str, slot: int, t: FixedType) -> NDArray[np.int64]:
    """Raw values of an optional field of one slot over the BX (unknown where not built)."""
    if name == CHARGE:
        if c.charge is None:
            return np.zeros(c.pt.shape[0], np.int64)
        return np.asarray(c.charge[:, slot], np.int64)
    if name == ISOLATION:
        if c.isolation is None:
            return np.full(c.pt.shape[0], -1, np.int64)
        return isolation_word(c.isolation[:, slot], t)
    raise KeyError(f"no optional slot field {name!r}")
