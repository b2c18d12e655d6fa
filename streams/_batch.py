"""The in-memory unit every reader, the timeline and the replay exchange: a chunk of BX.

An :class:`EventBatch` is a struct of arrays for ``n`` consecutive records. Each record
is one bunch crossing (after the timeline has placed events on the clock) or one event
(straight out of a reader, before any placement: ``orbit == bx == -1``). Physics
objects are jagged: one flat array per field plus ``offsets`` of length ``n + 1``.
Values are physics units (GeV, rad); algorithms quantize them on entry.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

#: Object collections every batch carries, in this order (possibly empty).
COLLECTIONS: tuple[str, ...] = ("egamma", "muon", "tau", "jet")


@dataclass(frozen=True)
class Objects:
    """One jagged collection: record ``i`` owns ``pt[offsets[i]:offsets[i + 1]]``.

    Objects of a record are sorted by decreasing ``pt``.
    """

    offsets: NDArray[np.int64]
    pt: NDArray[np.float32]
    eta: NDArray[np.float32]
    phi: NDArray[np.float32]
    #: hardware quality / identification word; 0 where the source has none
    quality: NDArray[np.int32]

    @classmethod
    def empty(cls, n: int) -> Objects:
        """A collection with no objects in any of ``n`` records."""
        zero_f = np.zeros(0, np.float32)
        return cls(np.zeros(n + 1, np.int64), zero_f, zero_f, zero_f, np.zeros(0, np.int32))

    def counts(self) -> NDArray[np.int64]:
        """Number of objects in each record."""
        return np.diff(self.offsets)


@dataclass(frozen=True)
class EventBatch:
    """``n`` records with their metadata and objects (all arrays have length ``n``)."""

    #: orbit number, -1 before the timeline has placed the record
    orbit: NDArray[np.int64]
    #: bunch slot in the orbit (0..3563), -1 before placement
    bx: NDArray[np.int32]
    #: whether the slot has colliding bunches (empty slots carry no hard scatter)
    colliding: NDArray[np.bool_]
    #: event identifier from the source, -1 for a BX without an event
    event_id: NDArray[np.int64]
    #: true number of pp interactions (incl. the hard scatter), NaN where unknown
    true_interactions: NDArray[np.float32]
    #: number of reconstructed primary vertices, -1 where unknown
    n_vertices: NDArray[np.int32]
    #: missing transverse momentum magnitude [GeV] and azimuth [rad]
    met_pt: NDArray[np.float32]
    met_phi: NDArray[np.float32]
    objects: dict[str, Objects] = field(default_factory=dict)

    def __len__(self) -> int:
        return int(self.orbit.shape[0])
