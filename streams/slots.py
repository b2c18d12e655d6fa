"""Fixed-slot views: jagged objects → sorted, zero-padded feature arrays for algorithms.

A :class:`SlotLayout` lists blocks of slots: MET first (pT, η = 0, φ) and then, per
collection, the ``n`` highest-pT objects, each slot contributing its ``fields`` (by
default pT, η, φ) in that order, zero where a record has fewer objects.
:data:`ADC2021` is the layout of the ADC2021 anomaly-detection challenge: MET, 4
e/gamma, 4 μ, 10 jets → 19 x 3 = 57 features, in the order of its (N, 19, 4) HDF5 files.
The same layout describes a network seed's input in hardware integers
(``emulator.plan``): the order of the values is the order of :attr:`SlotLayout.entries`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from ._batch import EventBatch

__all__ = ["ADC2021", "FIELDS", "MET", "SlotLayout", "to_slots"]

#: Fields a slot can contribute, in any order: pT, η, φ and the quality word.
FIELDS: tuple[str, ...] = ("pt", "eta", "phi", "quality")

#: Name of the MET pseudo-collection (one slot: pT, η = 0, φ, quality = 0).
MET = "met"

_DEFAULT_FIELDS: tuple[str, ...] = ("pt", "eta", "phi")


@dataclass(frozen=True)
class SlotLayout:
    """MET (when ``met``) followed by ``slots[i] = (collection, count)`` blocks.

    Each slot contributes ``fields`` (a subset of :data:`FIELDS`, in this order).
    """

    name: str
    slots: tuple[tuple[str, int], ...]
    met: bool = True
    fields: tuple[str, ...] = _DEFAULT_FIELDS

    def __post_init__(self) -> None:
        unknown = [f for f in self.fields if f not in FIELDS]
        if unknown or not self.fields or len(set(self.fields)) != len(self.fields):
            raise ValueError(f"slot layout {self.name!r}: fields must be distinct, from {FIELDS}")
        if any(count < 0 for _, count in self.slots):
            raise ValueError(f"slot layout {self.name!r}: slot counts must be >= 0")

    @property
    def n_features(self) -> int:
        """Number of values per record (``len(fields)`` per slot)."""
        return len(self.entries)

    @property
    def entries(self) -> tuple[tuple[str, int, str], ...]:
        """``(collection, slot, field)`` of every value in order (MET is ``"met"``, slot 0)."""
        blocks = ([(MET, 1)] if self.met else []) + list(self.slots)
        return tuple(
            (collection, i, f)
            for collection, count in blocks
            for i in range(count)
            for f in self.fields
        )

    @property
    def feature_names(self) -> tuple[str, ...]:
        """``met_pt, met_eta, met_phi, egamma0_pt, …`` in column order."""
        return tuple(f"{c}_{f}" if c == MET else f"{c}{i}_{f}" for c, i, f in self.entries)

    def count(self, collection: str) -> int:
        """Slots given to ``collection`` (0 when absent)."""
        return sum(n for c, n in self.slots if c == collection)


#: The ADC2021 challenge layout: MET, 4 e/gamma, 4 μ, 10 jets x (pT, η, φ) = 57 features.
ADC2021 = SlotLayout("ADC2021", (("egamma", 4), ("muon", 4), ("jet", 10)))


def to_slots(batch: EventBatch, layout: SlotLayout = ADC2021) -> NDArray[np.float32]:
    """Float32 array (n, layout.n_features): per record MET then the leading objects.

    Objects are already sorted by decreasing pT within a record, so the first ``count``
    of each collection fill its slots; missing objects and empty BX are zeros. A
    collection the batch lacks gives zeros. The MET slot has η = 0 and quality 0.
    """
    n = len(batch)
    width = len(layout.fields)
    out = np.zeros((n, layout.n_features), np.float32)
    col = 0
    if layout.met:
        met = {"pt": batch.met_pt, "phi": batch.met_phi}
        for k, f in enumerate(layout.fields):
            if f in met:
                out[:, k] = met[f]
        col = width
    for collection, count in layout.slots:
        coll = batch.objects.get(collection)
        if coll is not None and coll.pt.shape[0] > 0 and count > 0:
            idx = coll.offsets[:-1, None] + np.arange(count)
            present = np.arange(count) < coll.counts()[:, None]
            idx = np.where(present, idx, 0)
            block = out[:, col : col + width * count].reshape(n, count, width)
            for k, f in enumerate(layout.fields):
                values = getattr(coll, f)
                block[:, :, k] = np.where(present, values[idx], 0).astype(np.float32)
        col += width * count
    return out
