"""The in-memory unit every reader, the timeline and the replay exchange: a chunk of BX.

An :class:`EventBatch` is a struct of arrays for ``n`` consecutive records. Each record
is one bunch crossing (after the timeline has placed events on the clock) or one event
(straight out of a reader, before any placement: ``orbit == bx == -1``). Physics
objects are jagged: one flat array per field plus ``offsets`` of length ``n + 1``.
Values are physics units (GeV, rad); algorithms quantize them on entry.

Besides the two dataclasses this module holds the few structural helpers everyone
needs: building an unplaced batch from per-event arrays, slicing, concatenating and
validating (NaN / inf / negative pT are rejected with the file and row named).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._errors import StreamError
from ._kernels import segment_order_desc

__all__ = [
    "CHARGE_UNKNOWN",
    "COLLECTIONS",
    "ID_DTYPES",
    "ISOLATION_UNKNOWN",
    "EventBatch",
    "Objects",
    "as_id_dtype",
    "concat_batches",
    "event_ids",
    "unify_ids",
]

#: Object collections every batch carries, in this order (possibly empty).
COLLECTIONS: tuple[str, ...] = ("egamma", "muon", "tau", "jet")


#: ``Objects.charge`` of an object whose source gives no charge (real charges are ±1):
#: a charge cut or charge correlation never passes such an object.
CHARGE_UNKNOWN = 0
#: ``Objects.isolation`` of an object whose source gives no hardware isolation word
#: (real words are >= 0): an isolation cut never passes such an object.
ISOLATION_UNKNOWN = -1


def _unset() -> NDArray[Any]:
    """Placeholder of a per-object field not given: filled in by ``__post_init__``."""
    return np.zeros(0, np.int8)


def _unset_flags() -> NDArray[np.bool_]:
    """Placeholder of ``EventBatch.has_event`` not given: derived by ``__post_init__``."""
    return np.zeros(0, np.bool_)


#: dtypes an event id may have: int64 (signed sources) or uint64 (unsigned sources,
#: e.g. NanoAOD's ``event``), so that every source id is held exactly
ID_DTYPES: tuple[np.dtype[Any], ...] = (np.dtype(np.int64), np.dtype(np.uint64))


def event_ids(values: ArrayLike, origin: str = "event ids") -> NDArray[Any]:
    """``values`` as exact event ids: uint64 when unsigned 64-bit, int64 otherwise.

    Unsigned sources keep ids up to 2**64 - 1 (NanoAOD's ``event`` is unsigned); every
    other integer type fits int64. Non-integer values are refused, naming ``origin``.
    """
    ids = np.asarray(values)
    if ids.dtype == np.uint64:
        return np.ascontiguousarray(ids)
    if ids.size == 0 and ids.dtype.kind not in "iub":
        return np.zeros(ids.shape, np.int64)
    if ids.dtype.kind not in "iub":
        raise StreamError(f"{origin}: event ids of type {ids.dtype} are not integers")
    return np.ascontiguousarray(ids, np.int64)


def unify_ids(parts: Sequence[NDArray[Any]], origin: str = "event ids") -> NDArray[Any]:
    """Concatenate id arrays of possibly different dtypes without losing a value.

    int64 and uint64 parts are joined as int64 when every unsigned id is below 2**63,
    as uint64 when no signed id is negative, and refused otherwise (no 64-bit type
    holds both a negative id and one of 2**63 or more).
    """
    dtypes = {p.dtype for p in parts}
    if len(dtypes) <= 1:
        return np.concatenate(parts) if parts else np.zeros(0, np.int64)
    return np.concatenate([as_id_dtype(p, _common_id_dtype(parts, origin), origin) for p in parts])


def _common_id_dtype(parts: Sequence[NDArray[Any]], origin: str) -> np.dtype[Any]:
    big = any(p.dtype == np.uint64 and p.size and int(p.max()) >= 2**63 for p in parts)
    negative = any(p.dtype == np.int64 and p.size and int(p.min()) < 0 for p in parts)
    if big and negative:
        raise StreamError(
            f"{origin}: cannot hold negative event ids and unsigned ids >= 2**63 in one "
            "stream (no 64-bit integer type holds both); replay these inputs separately"
        )
    return np.dtype(np.uint64) if big else np.dtype(np.int64)


def as_id_dtype(ids: NDArray[Any], dtype: Any, origin: str = "event ids") -> NDArray[Any]:
    """``ids`` converted to ``dtype`` (int64 or uint64), refusing a value that changes."""
    target = np.dtype(dtype)
    if ids.dtype == target:
        return ids
    if ids.size:
        if target == np.int64 and int(ids.max()) >= 2**63:
            raise StreamError(
                f"{origin}: event id {int(ids.max())} does not fit the stream's signed ids; "
                "replay inputs with unsigned ids >= 2**63 apart from inputs with signed ids"
            )
        if target == np.uint64 and int(ids.min()) < 0:
            raise StreamError(
                f"{origin}: negative event id {int(ids.min())} in a stream of unsigned ids; "
                "replay inputs with negative ids apart from inputs with unsigned ids"
            )
    return ids.astype(target)


def _unknown(n: int, dtype: Any, value: int) -> NDArray[Any]:
    """``n`` copies of ``value`` as a read-only broadcast view: no memory per object."""
    return np.broadcast_to(np.array(value, dtype), (n,))


def _is_constant_view(values: NDArray[Any]) -> bool:
    """Whether ``values`` is a broadcast view of one value (the "unknown" default)."""
    return values.ndim == 1 and values.shape[0] > 0 and values.strides[0] == 0


def _take(values: NDArray[Any], index: NDArray[np.int64]) -> NDArray[Any]:
    if _is_constant_view(values):
        return np.broadcast_to(values[:1], (index.shape[0],))
    return values[index]


def _concat(parts: Sequence[NDArray[Any]]) -> NDArray[Any]:
    """Concatenate, keeping an all-unknown result a broadcast view."""
    non_empty = [p for p in parts if p.shape[0] > 0]
    if non_empty and all(_is_constant_view(p) for p in non_empty):
        first = non_empty[0][:1]
        if all(p[0] == first[0] for p in non_empty):
            return np.broadcast_to(first, (sum(p.shape[0] for p in parts),))
    return np.concatenate(parts)


@dataclass(frozen=True)
class Objects:
    """One jagged collection: record ``i`` owns ``pt[offsets[i]:offsets[i + 1]]``.

    Objects of a record are sorted by decreasing ``pt``. ``offsets[0]`` is always 0.
    ``charge`` (±1) and ``isolation`` (the hardware isolation word, >= 0) default to
    :data:`CHARGE_UNKNOWN` and :data:`ISOLATION_UNKNOWN` for sources that lack them,
    so that a cut on them fails loudly instead of passing silently.
    """

    offsets: NDArray[np.int64]
    pt: NDArray[np.float32]
    eta: NDArray[np.float32]
    phi: NDArray[np.float32]
    #: hardware quality / identification word; 0 where the source has none
    quality: NDArray[np.int32]
    #: electric charge ±1; :data:`CHARGE_UNKNOWN` (0) where the source has none
    charge: NDArray[np.int8] = field(default_factory=_unset)
    #: hardware isolation word; :data:`ISOLATION_UNKNOWN` (-1) where the source has none
    isolation: NDArray[np.int32] = field(default_factory=_unset)

    def __post_init__(self) -> None:
        n = self.pt.shape[0]
        for name, dtype, unknown in (
            ("charge", np.int8, CHARGE_UNKNOWN),
            ("isolation", np.int32, ISOLATION_UNKNOWN),
        ):
            values = getattr(self, name)
            if values.shape[0] != n:
                if values.shape[0] != 0:
                    raise ValueError(f"Objects: {name} has {values.shape[0]} values, pt has {n}")
                object.__setattr__(self, name, _unknown(n, dtype, unknown))

    @property
    def has_charge(self) -> bool:
        """Whether every object has a known charge (vacuously true when there are none)."""
        return bool((self.charge != CHARGE_UNKNOWN).all())

    @property
    def has_isolation(self) -> bool:
        """Whether every object has a known isolation word (vacuously true when none)."""
        return bool((self.isolation != ISOLATION_UNKNOWN).all())

    @classmethod
    def empty(cls, n: int) -> Objects:
        """A collection with no objects in any of ``n`` records."""
        zero_f = np.zeros(0, np.float32)
        return cls(np.zeros(n + 1, np.int64), zero_f, zero_f, zero_f, np.zeros(0, np.int32))

    @classmethod
    def from_counts(
        cls,
        counts: ArrayLike,
        pt: ArrayLike,
        eta: ArrayLike,
        phi: ArrayLike,
        quality: ArrayLike | None = None,
        *,
        charge: ArrayLike | None = None,
        isolation: ArrayLike | None = None,
        sort: bool = True,
    ) -> Objects:
        """Build from per-record counts and flat values, sorting each record by decreasing pT.

        ``sort=False`` trusts the caller that records are already sorted. ``charge`` and
        ``isolation`` default to unknown (:data:`CHARGE_UNKNOWN`, :data:`ISOLATION_UNKNOWN`).
        """
        counts_arr = np.asarray(counts, np.int64)
        if (counts_arr < 0).any():
            raise ValueError("Objects.from_counts: negative object count")
        offsets = np.zeros(counts_arr.shape[0] + 1, np.int64)
        np.cumsum(counts_arr, out=offsets[1:])
        pt_arr = np.ascontiguousarray(pt, np.float32)
        eta_arr = np.ascontiguousarray(eta, np.float32)
        phi_arr = np.ascontiguousarray(phi, np.float32)
        q_arr = (
            np.zeros(pt_arr.shape[0], np.int32)
            if quality is None
            else np.ascontiguousarray(quality, np.int32)
        )
        n_objects = pt_arr.shape[0]
        c_arr: NDArray[np.int8] = (
            _unknown(n_objects, np.int8, CHARGE_UNKNOWN)
            if charge is None
            else np.ascontiguousarray(charge, np.int8)
        )
        i_arr: NDArray[np.int32] = (
            _unknown(n_objects, np.int32, ISOLATION_UNKNOWN)
            if isolation is None
            else np.ascontiguousarray(isolation, np.int32)
        )
        shapes = {a.shape for a in (pt_arr, eta_arr, phi_arr, q_arr, c_arr, i_arr)}
        if shapes != {(offsets[-1],)}:
            raise ValueError("Objects.from_counts: counts and value arrays disagree in length")
        if sort and n_objects > 0:
            order = segment_order_desc(offsets, pt_arr)
            pt_arr, eta_arr, phi_arr = pt_arr[order], eta_arr[order], phi_arr[order]
            q_arr = q_arr[order]
            if charge is not None:
                c_arr = c_arr[order]
            if isolation is not None:
                i_arr = i_arr[order]
        return cls(offsets, pt_arr, eta_arr, phi_arr, q_arr, c_arr, i_arr)

    def counts(self) -> NDArray[np.int64]:
        """Number of objects in each record."""
        return np.diff(self.offsets)

    def __len__(self) -> int:
        return int(self.offsets.shape[0] - 1)

    def slice(self, start: int, stop: int) -> Objects:
        """Records ``start:stop`` (views of the flat arrays, offsets rebased to 0)."""
        lo, hi = int(self.offsets[start]), int(self.offsets[stop])
        return Objects(
            self.offsets[start : stop + 1] - lo,
            self.pt[lo:hi],
            self.eta[lo:hi],
            self.phi[lo:hi],
            self.quality[lo:hi],
            self.charge[lo:hi],
            self.isolation[lo:hi],
        )

    def take(self, records: NDArray[np.int64]) -> Objects:
        """The given records, in the given order (a copy)."""
        counts = self.counts()[records]
        offsets = np.zeros(records.shape[0] + 1, np.int64)
        np.cumsum(counts, out=offsets[1:])
        starts = self.offsets[:-1][records]
        flat = np.repeat(starts - offsets[:-1], counts) + np.arange(offsets[-1], dtype=np.int64)
        return Objects(
            offsets,
            self.pt[flat],
            self.eta[flat],
            self.phi[flat],
            self.quality[flat],
            _take(self.charge, flat),
            _take(self.isolation, flat),
        )

    @staticmethod
    def concat(parts: Sequence[Objects]) -> Objects:
        """Records of all ``parts`` one after the other."""
        if len(parts) == 1:
            return parts[0]
        counts = np.concatenate([p.counts() for p in parts])
        offsets = np.zeros(counts.shape[0] + 1, np.int64)
        np.cumsum(counts, out=offsets[1:])
        return Objects(
            offsets,
            np.concatenate([p.pt for p in parts]),
            np.concatenate([p.eta for p in parts]),
            np.concatenate([p.phi for p in parts]),
            np.concatenate([p.quality for p in parts]),
            _concat([p.charge for p in parts]),
            _concat([p.isolation for p in parts]),
        )


@dataclass(frozen=True)
class EventBatch:
    """``n`` records with their metadata and objects (all arrays have length ``n``)."""

    #: orbit number, -1 before the timeline has placed the record
    orbit: NDArray[np.int64]
    #: bunch slot in the orbit (0..3563), -1 before placement
    bx: NDArray[np.int32]
    #: whether the slot has colliding bunches (empty slots carry no hard scatter)
    colliding: NDArray[np.bool_]
    #: event identifier from the source, exactly: int64, or uint64 for unsigned sources
    #: (NanoAOD's ``event``); -1 (2**64 - 1 if uint64) for a BX without one. Any value,
    #: negative included, is a real id: whether a record holds an event is ``has_event``
    event_id: NDArray[Any]
    #: true number of pp interactions (incl. the hard scatter), NaN where unknown
    true_interactions: NDArray[np.float32]
    #: number of reconstructed primary vertices, -1 where unknown
    n_vertices: NDArray[np.int32]
    #: missing transverse momentum magnitude [GeV] and azimuth [rad]
    met_pt: NDArray[np.float32]
    met_phi: NDArray[np.float32]
    objects: dict[str, Objects] = field(default_factory=dict)
    #: whether the record holds an input event (False for a BX left empty by the
    #: timeline); independent of the id's sign. Derived when not given: every unplaced
    #: record holds one; a placed record does when its int64 id is >= 0 (the former
    #: convention)
    has_event: NDArray[np.bool_] = field(default_factory=_unset_flags)

    def __post_init__(self) -> None:
        if self.event_id.dtype not in ID_DTYPES:
            raise ValueError(
                f"EventBatch: event_id must be int64 or uint64, not {self.event_id.dtype}"
            )
        n = self.orbit.shape[0]
        if self.has_event.shape[0] != n:
            if self.has_event.shape[0] != 0:
                raise ValueError(
                    f"EventBatch: has_event has {self.has_event.shape[0]} values, expected {n}"
                )
            derived = np.asarray(self.orbit) < 0
            if self.event_id.dtype == np.int64:
                derived |= np.asarray(self.event_id) >= 0
            else:
                derived[:] = True
            object.__setattr__(self, "has_event", derived)

    def __len__(self) -> int:
        return int(self.orbit.shape[0])

    @classmethod
    def from_events(
        cls,
        event_id: ArrayLike,
        met_pt: ArrayLike,
        met_phi: ArrayLike,
        objects: Mapping[str, Objects],
        *,
        true_interactions: ArrayLike | None = None,
        n_vertices: ArrayLike | None = None,
    ) -> EventBatch:
        """An unplaced batch (orbit = bx = -1, colliding = True) as readers produce.

        Every record holds an event (``has_event`` True), whatever its id. Ids keep an
        unsigned 64-bit dtype (see :func:`event_ids`). Collections missing from
        ``objects`` are filled in empty, so every batch carries all of :data:`COLLECTIONS`.
        """
        ids = event_ids(event_id)
        n = ids.shape[0]
        objs = {name: objects.get(name) or Objects.empty(n) for name in COLLECTIONS}
        objs.update({k: v for k, v in objects.items() if k not in objs})
        for name, coll in objs.items():
            if len(coll) != n:
                raise ValueError(f"collection {name!r} has {len(coll)} records, expected {n}")
        return cls(
            orbit=np.full(n, -1, np.int64),
            bx=np.full(n, -1, np.int32),
            colliding=np.ones(n, np.bool_),
            event_id=ids,
            true_interactions=(
                np.full(n, np.nan, np.float32)
                if true_interactions is None
                else np.ascontiguousarray(true_interactions, np.float32)
            ),
            n_vertices=(
                np.full(n, -1, np.int32)
                if n_vertices is None
                else np.ascontiguousarray(n_vertices, np.int32)
            ),
            met_pt=np.ascontiguousarray(met_pt, np.float32),
            met_phi=np.ascontiguousarray(met_phi, np.float32),
            objects=objs,
            has_event=np.ones(n, np.bool_),
        )

    def slice(self, start: int, stop: int) -> EventBatch:
        """Records ``start:stop`` as a new batch sharing memory where it can."""
        stop = min(stop, len(self))
        return EventBatch(
            orbit=self.orbit[start:stop],
            bx=self.bx[start:stop],
            colliding=self.colliding[start:stop],
            event_id=self.event_id[start:stop],
            true_interactions=self.true_interactions[start:stop],
            n_vertices=self.n_vertices[start:stop],
            met_pt=self.met_pt[start:stop],
            met_phi=self.met_phi[start:stop],
            objects={k: v.slice(start, stop) for k, v in self.objects.items()},
            has_event=self.has_event[start:stop],
        )

    def validate(self, origin: str, first_row: int = 0) -> None:
        """Raise :class:`StreamError` naming ``origin`` and the row on values no detector gives.

        pT must be finite and >= 0; η finite with ``|η| <=`` :data:`ETA_LIMIT`; φ finite
        in [-π, π] (float32 rounding allowed). A φ in [0, 2π) or an η of 1e17 would
        otherwise saturate silently in the hardware types. ``first_row`` is the index of
        this batch's first record in the source, so the message points at the file's row.
        """
        for label, values, offsets in self._checked_arrays():
            bad = ~np.isfinite(values)
            if label.endswith("pt"):
                bad |= values < 0
            elif label.endswith("eta"):
                bad |= np.abs(values) > ETA_LIMIT
            else:
                bad |= np.abs(values) > PHI_LIMIT
            if bad.any():
                flat = int(np.argmax(bad))
                row = flat if offsets is None else int(np.searchsorted(offsets, flat, "right") - 1)
                raise StreamError(
                    f"{origin}: row {first_row + row}: {label} = {float(values[flat])!r} "
                    f"(pT must be finite and >= 0, |eta| <= {ETA_LIMIT:g}, phi in [-pi, pi])"
                )

    def _checked_arrays(
        self,
    ) -> list[tuple[str, NDArray[np.float32], NDArray[np.int64] | None]]:
        checks: list[tuple[str, NDArray[np.float32], NDArray[np.int64] | None]] = [
            ("met_pt", self.met_pt, None),
            ("met_phi", self.met_phi, None),
        ]
        for name, coll in self.objects.items():
            checks += [
                (f"{name} pt", coll.pt, coll.offsets),
                (f"{name} eta", coll.eta, coll.offsets),
                (f"{name} phi", coll.phi, coll.offsets),
            ]
        return checks


#: largest |η| accepted from an input (L1 objects reach |η| ≈ 5; 10 leaves room)
ETA_LIMIT = 10.0
#: largest |φ| accepted: π, with the rounding of a float32 π allowed
PHI_LIMIT = float(np.pi) * (1.0 + 1e-6)


def concat_batches(parts: Sequence[EventBatch]) -> EventBatch:
    """Records of all ``parts`` one after the other (collections of the first part)."""
    if not parts:
        raise ValueError("concat_batches needs at least one batch")
    if len(parts) == 1:
        return parts[0]
    return EventBatch(
        orbit=np.concatenate([p.orbit for p in parts]),
        bx=np.concatenate([p.bx for p in parts]),
        colliding=np.concatenate([p.colliding for p in parts]),
        event_id=unify_ids([p.event_id for p in parts]),
        true_interactions=np.concatenate([p.true_interactions for p in parts]),
        n_vertices=np.concatenate([p.n_vertices for p in parts]),
        met_pt=np.concatenate([p.met_pt for p in parts]),
        met_phi=np.concatenate([p.met_phi for p in parts]),
        objects={k: Objects.concat([p.objects[k] for p in parts]) for k in parts[0].objects},
        has_event=np.concatenate([p.has_event for p in parts]),
    )
