"""Fixed-slot views: jagged objects → sorted, zero-padded feature arrays for algorithms.

A :class:`SlotLayout` lists blocks of slots: MET first (pT, η = 0, φ) and then, per
collection, the ``n`` highest-pT objects as (pT, η, φ), zero where a record has fewer.
:data:`ADC2021` is the layout of the ADC2021 anomaly-detection challenge: MET, 4 e/gamma,
4 μ, 10 jets → 19 x 3 = 57 features, in the order of its (N, 19, 4) HDF5 files.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from ._batch import EventBatch

__all__ = ["ADC2021", "SlotLayout", "to_slots"]

_FIELDS: tuple[str, str, str] = ("pt", "eta", "phi")


@dataclass(frozen=True)
class SlotLayout:
    """MET (when ``met``) followed by ``slots[i] = (collection, count)`` blocks."""

    name: str
    slots: tuple[tuple[str, int], ...]
    met: bool = True

    @property
    def n_features(self) -> int:
        """Number of float features per record (3 per slot)."""
        return 3 * (int(self.met) + sum(n for _, n in self.slots))

    @property
    def feature_names(self) -> tuple[str, ...]:
        """``met_pt, met_eta, met_phi, egamma0_pt, …`` in column order."""
        names: list[str] = [f"met_{f}" for f in _FIELDS] if self.met else []
        for collection, count in self.slots:
            names += [f"{collection}{i}_{f}" for i in range(count) for f in _FIELDS]
        return tuple(names)

    def count(self, collection: str) -> int:
        """Slots given to ``collection`` (0 when absent)."""
        return sum(n for c, n in self.slots if c == collection)


#: The ADC2021 challenge layout: MET, 4 e/gamma, 4 μ, 10 jets x (pT, η, φ) = 57 features.
ADC2021 = SlotLayout("ADC2021", (("egamma", 4), ("muon", 4), ("jet", 10)))


def to_slots(batch: EventBatch, layout: SlotLayout = ADC2021) -> NDArray[np.float32]:
    """Float32 array (n, layout.n_features): per record MET then the leading objects.

    Objects are already sorted by decreasing pT within a record, so the first ``count``
    of each collection fill its slots; missing objects and empty BX are zeros. A
    collection the batch lacks gives zeros.
    """
    n = len(batch)
    out = np.zeros((n, layout.n_features), np.float32)
    col = 0
    if layout.met:
        out[:, 0] = batch.met_pt
        out[:, 2] = batch.met_phi
        col = 3
    for collection, count in layout.slots:
        coll = batch.objects.get(collection)
        if coll is not None and coll.pt.shape[0] > 0:
            idx = coll.offsets[:-1, None] + np.arange(count)
            present = np.arange(count) < coll.counts()[:, None]
            idx = np.where(present, idx, 0)
            block = out[:, col : col + 3 * count].reshape(n, count, 3)
            for k, values in enumerate((coll.pt, coll.eta, coll.phi)):
                block[:, :, k] = np.where(present, values[idx], np.float32(0))
        col += 3 * count
    return out
