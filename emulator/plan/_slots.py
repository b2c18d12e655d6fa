"""The BX as the hardware receives it: fixed object slots in raw integers.

:class:`BxSlots` holds, per collection, ``(n_bx, slots)`` arrays of raw pT, η, φ and
quality plus a ``valid`` flag; empty slots are all zero and not valid. It is what
the seeds' kernels read, what the firmware's input ports carry, and what
:func:`network_input` turns into a network's input vector.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from emulator.plan._records import MET_SLOT, Field, NetworkPlan

__all__ = ["BxSlots", "CollectionSlots", "network_input"]


@dataclass(frozen=True)
class CollectionSlots:
    """One collection in its slots: (n_bx, count) int64 arrays, decreasing pT per row."""

    pt: NDArray[np.int64]
    eta: NDArray[np.int64]
    phi: NDArray[np.int64]
    quality: NDArray[np.int64]
    valid: NDArray[np.bool_]
    #: objects per BX beyond the slots (dropped by the truncation)
    dropped: NDArray[np.int64]
    #: charge ±1 per slot (0: unknown or empty); None when not built
    charge: NDArray[np.int64] | None = None
    #: hardware isolation word per slot (-1: unknown; 0 in empty slots); None when not built
    isolation: NDArray[np.int64] | None = None

    @property
    def count(self) -> int:
        """Slots per BX."""
        return int(self.pt.shape[1])

    def field(self, field: Field) -> NDArray[np.int64]:
        """The (n_bx, count) array of ``field``."""
        return (self.pt, self.eta, self.phi, self.quality)[field]


@dataclass(frozen=True)
class BxSlots:
    """Every collection's slots plus the MET word (pT in the ``sum`` type, φ counts)."""

    collections: Mapping[str, CollectionSlots]
    met_pt: NDArray[np.int64]
    met_phi: NDArray[np.int64]

    def __len__(self) -> int:
        return int(self.met_pt.shape[0])

    def dropped(self) -> dict[str, int]:
        """Objects dropped by the slot truncation, per collection, over all BX."""
        return {name: int(c.dropped.sum()) for name, c in self.collections.items()}

    def raw(self, collection: str, slot: int, field: Field) -> NDArray[np.int64]:
        """Raw values of one (collection, slot, field) over the BX (MET: slot 0, η = 0)."""
        if collection == MET_SLOT:
            if field is Field.PT:
                return self.met_pt
            if field is Field.PHI:
                return self.met_phi
            return np.zeros(len(self), np.int64)
        return self.collections[collection].field(field)[:, slot]


def network_input(network: NetworkPlan, slots: BxSlots) -> NDArray[np.int64]:
    """The network's input vector per BX, raw in its input type: (n_bx, n_inputs).

    Each value is raw · constant_raw with F fraction bits (exact in int64, bounded
    when the plan is built), cast to the input type with its rounding and
    overflow (:meth:`FixedType.cast`); a (x, t) flow network gets t appended.
    """
    n = len(slots)
    n_in = len(network.inputs) + (network.time_raw is not None)
    products = np.empty((n, len(network.inputs)), np.int64)
    for k, entry in enumerate(network.inputs):
        products[:, k] = slots.raw(entry.collection, entry.slot, entry.field) * entry.constant_raw
    out = np.empty((n, n_in), np.int64)
    out[:, : len(network.inputs)] = network.input_type.cast(products, network.product_type)
    if network.time_raw is not None:
        out[:, -1] = network.time_raw
    return out
