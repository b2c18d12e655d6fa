"""Pile-up: overlay Poisson(μ) minimum-bias interactions on each colliding BX.

Merging happens at object level, as L1 sees it: per collection the union of the hard
scatter's objects and those of its pile-up events, sorted by pT and truncated to the
slot counts (``max_objects``), each object keeping all its fields (quality, charge,
isolation); MET is the vector sum. ``true_interactions`` records
the number of interactions (pile-up + 1 for the hard scatter when the BX has one).

Minimum-bias events are drawn with replacement from a pool of up to ``pool_size``
events read once from ``minbias_source`` (a file or ``synthetic.generate("minbias")``):
this is how experiments mix pile-up, and it keeps the overlay at μ = 200 fast.

Records that already carry pile-up (a known ``true_interactions`` or ``n_vertices``,
e.g. NanoAOD ``Pileup_nTrueInt`` or the tutorial's ``NPrimaryVertices``) are passed on
unchanged, as are non-colliding BX. Colliding BX without a hard scatter (after the
events ran out, see :func:`streams.timeline.place`) receive pile-up only.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import TypeVar

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._batch import EventBatch, Objects, concat_batches
from ._errors import StreamError
from ._kernels import overlay_records
from .slots import ADC2021
from .timeline import BX_PER_ORBIT, REVOLUTION_HZ

T = TypeVar("T", bound=np.generic)

__all__ = [
    "DEFAULT_MAX_OBJECTS",
    "LevellingProfile",
    "MuSpec",
    "carries_pileup",
    "mean_interactions",
    "overlay",
]

#: objects kept per collection after merging: the ADC2021 slot counts, 4 taus
DEFAULT_MAX_OBJECTS: dict[str, int] = {
    "egamma": ADC2021.count("egamma"),
    "muon": ADC2021.count("muon"),
    "tau": 4,
    "jet": ADC2021.count("jet"),
}


@dataclass(frozen=True)
class LevellingProfile:
    """μ over a fill with luminosity levelling: flat at ``peak_mu``, then decaying.

    μ(t) = peak_mu for t < levelled_hours, then peak_mu · exp(-(t - levelled)/lifetime).
    t is the time since ``start_orbit`` multiplied by ``time_compression``, so a short
    replay can sweep a whole fill (see :meth:`over_orbits`).
    """

    peak_mu: float = 200.0
    levelled_hours: float = 7.0
    lifetime_hours: float = 10.0
    start_orbit: int = 0
    time_compression: float = 1.0

    @classmethod
    def over_orbits(
        cls,
        n_orbits: int,
        *,
        fill_hours: float = 12.0,
        peak_mu: float = 200.0,
        levelled_hours: float = 7.0,
        lifetime_hours: float = 10.0,
        start_orbit: int = 0,
    ) -> LevellingProfile:
        """A profile that sweeps a ``fill_hours`` fill over ``n_orbits`` replayed orbits."""
        if n_orbits < 1:
            raise ValueError(f"n_orbits must be >= 1, got {n_orbits}")
        real_seconds = n_orbits / REVOLUTION_HZ
        return cls(
            peak_mu=peak_mu,
            levelled_hours=levelled_hours,
            lifetime_hours=lifetime_hours,
            start_orbit=start_orbit,
            time_compression=fill_hours * 3600.0 / real_seconds,
        )

    def mu(self, orbit: NDArray[np.int64]) -> NDArray[np.float64]:
        """μ at each orbit number."""
        hours = (orbit - self.start_orbit) / REVOLUTION_HZ * self.time_compression / 3600.0
        decay = np.exp(-np.maximum(hours - self.levelled_hours, 0.0) / self.lifetime_hours)
        return np.asarray(self.peak_mu * decay, np.float64)


#: what ``mu=`` accepts: a constant, μ per bunch slot (3564 values), a levelling
#: profile, or a function (orbit, bx) -> μ per record
MuSpec = (
    float
    | ArrayLike
    | LevellingProfile
    | Callable[[NDArray[np.int64], NDArray[np.int32]], ArrayLike]
)


def mean_interactions(mu: MuSpec, orbit: ArrayLike, bx: ArrayLike) -> NDArray[np.float64]:
    """The Poisson mean μ that :func:`overlay` draws from, at each (orbit, bx).

    ``true_interactions`` of an overlaid record is the number drawn (plus one for a
    hard scatter); this is the mean of that draw — the pile-up μ of the bunch,
    as NanoAOD's ``Pileup_nTrueInt`` is — so that rates can be binned in μ after
    the replay from the decisions' orbit and bx alone.
    """
    orbits = np.asarray(orbit, np.int64)
    bxs = np.asarray(bx, np.int32)
    n = orbits.shape[0]
    if isinstance(mu, LevellingProfile):
        values = mu.mu(orbits)
    elif callable(mu):
        values = np.broadcast_to(np.asarray(mu(orbits, bxs), np.float64), (n,))
    elif np.ndim(mu) == 0:
        values = np.full(n, float(mu), np.float64)  # type: ignore[arg-type]
    else:
        per_bx = np.asarray(mu, np.float64)
        if per_bx.shape != (BX_PER_ORBIT,):
            raise StreamError(
                f"mu per BX must have {BX_PER_ORBIT} values, got shape {per_bx.shape}"
            )
        if (bxs < 0).any():
            raise StreamError("mu per BX needs placed records (streams.timeline.place first)")
        values = per_bx[bxs]
    if not np.isfinite(values).all() or (values < 0).any():
        raise StreamError("mu must be finite and >= 0")
    return np.asarray(values, np.float64)


def _mu_per_record(mu: MuSpec, batch: EventBatch) -> NDArray[np.float64]:
    return mean_interactions(mu, batch.orbit, batch.bx)


def carries_pileup(batch: EventBatch) -> NDArray[np.bool_]:
    """Records holding an input event that already knows its pile-up.

    A known ``true_interactions`` (e.g. NanoAOD ``Pileup_nTrueInt``) or
    ``n_vertices`` (e.g. the tutorial's ``NPrimaryVertices``) means the event was
    simulated or recorded with pile-up: :func:`overlay` leaves such records unchanged.
    """
    known = np.isfinite(batch.true_interactions) | (batch.n_vertices >= 0)
    mask: NDArray[np.bool_] = np.asarray(batch.has_event, np.bool_) & known
    return mask


@dataclass(frozen=True)
class _Pool:
    """Minimum-bias events, the merged collections stacked into one set of flat arrays."""

    names: tuple[str, ...]
    offsets: NDArray[np.int64]  # (C, n_pool + 1) global positions
    pt: NDArray[np.float32]
    eta: NDArray[np.float32]
    phi: NDArray[np.float32]
    quality: NDArray[np.int32]
    charge: NDArray[np.int8]
    isolation: NDArray[np.int32]
    #: per object -(position + 1): the payload the merge kernel carries for pool objects
    payload: NDArray[np.int32]
    #: bit c set when the event has objects of collection c
    mask: NDArray[np.uint32]
    met_px: NDArray[np.float64]
    met_py: NDArray[np.float64]

    def __len__(self) -> int:
        return int(self.mask.shape[0])


@dataclass(frozen=True)
class _Stacked:
    """Several jagged collections of the same records: (C, n + 1) offsets, flat arrays."""

    offsets: NDArray[np.int64]
    pt: NDArray[np.float32]
    eta: NDArray[np.float32]
    phi: NDArray[np.float32]
    quality: NDArray[np.int32]
    charge: NDArray[np.int8]
    isolation: NDArray[np.int32]


def _stack(collections: list[Objects]) -> _Stacked:
    """Several jagged collections of the same records stacked into one set of flat arrays."""
    bases = np.cumsum([0] + [int(c.offsets[-1]) for c in collections[:-1]])
    offsets = np.stack([c.offsets + b for c, b in zip(collections, bases, strict=True)])
    return _Stacked(
        offsets,
        np.concatenate([c.pt for c in collections]),
        np.concatenate([c.eta for c in collections]),
        np.concatenate([c.phi for c in collections]),
        np.concatenate([c.quality for c in collections]),
        np.concatenate([c.charge for c in collections]).astype(np.int8),
        np.concatenate([c.isolation for c in collections]).astype(np.int32),
    )


def _load_pool(source: Iterable[EventBatch], pool_size: int, names: list[str]) -> _Pool:
    parts: list[EventBatch] = []
    held = 0
    for batch in source:
        parts.append(batch.slice(0, pool_size - held))
        held += len(parts[-1])
        if held >= pool_size:
            break
    if held == 0:
        raise StreamError("pile-up overlay: the minimum-bias source has no events")
    pool = concat_batches(parts)
    names = [n for n in names if n in pool.objects]
    colls = [pool.objects[n] for n in names] or [Objects.empty(len(pool))]
    stacked = _stack(colls)
    if stacked.pt.shape[0] >= np.iinfo(np.int32).max:
        raise StreamError("pile-up overlay: the minimum-bias pool holds too many objects")
    mask = np.zeros(len(pool), np.uint32)
    for c, coll in enumerate(colls):
        mask |= (coll.counts() > 0).astype(np.uint32) << np.uint32(c)
    met_pt = pool.met_pt.astype(np.float64)
    met_phi = pool.met_phi.astype(np.float64)
    return _Pool(
        tuple(names),
        stacked.offsets,
        stacked.pt,
        stacked.eta,
        stacked.phi,
        stacked.quality,
        stacked.charge,
        stacked.isolation,
        -(np.arange(stacked.pt.shape[0], dtype=np.int32) + 1),
        mask,
        met_pt * np.cos(met_phi),
        met_pt * np.sin(met_phi),
    )


def overlay(
    bx_stream: Iterable[EventBatch],
    minbias_source: Iterable[EventBatch],
    mu: MuSpec = 200.0,
    *,
    seed: int = 0,
    pool_size: int = 100_000,
    max_objects: Mapping[str, int] | None = None,
) -> Iterator[EventBatch]:
    """Yield ``bx_stream``'s batches with Poisson(μ) minimum-bias events merged in.

    ``mu`` is a constant, an array of 3564 values (μ per bunch slot, for bunch-by-bunch
    luminosity), a :class:`LevellingProfile`, or ``f(orbit, bx) -> μ``. Only colliding
    records without known pile-up are touched (see the module docstring). Collections
    named in ``max_objects`` (default :data:`DEFAULT_MAX_OBJECTS`) are merged and
    truncated; others pass through. The result is reproducible for the same ``seed``,
    inputs and chunking.
    """
    if pool_size < 1:
        raise ValueError(f"pool_size must be >= 1, got {pool_size}")
    limits = dict(DEFAULT_MAX_OBJECTS if max_objects is None else max_objects)
    if any(v < 0 for v in limits.values()):
        raise ValueError(f"max_objects must be >= 0, got {limits}")
    if not 1 <= len(limits) <= 32:
        raise ValueError(f"max_objects must name 1 to 32 collections, got {len(limits)}")
    pool = _load_pool(minbias_source, pool_size, list(limits))
    rng = np.random.default_rng(seed)
    for batch in bx_stream:
        yield _overlay_batch(batch, pool, mu, rng, limits)


def _gather(
    origin: NDArray[np.int32], hard_values: NDArray[T], pool_values: NDArray[T]
) -> NDArray[T]:
    """A field of each merged object, taken from the object it came from.

    ``origin``: the hard scatter's object position (>= 0) or -(pool position + 1).
    """
    from_hard = origin >= 0
    values = np.empty(origin.shape[0], hard_values.dtype)
    values[from_hard] = hard_values[origin[from_hard]]
    values[~from_hard] = pool_values[-origin[~from_hard] - 1]
    return values


def _overlay_batch(
    batch: EventBatch,
    pool: _Pool,
    mu: MuSpec,
    rng: np.random.Generator,
    limits: Mapping[str, int],
) -> EventBatch:
    n = len(batch)
    if n == 0:
        return batch
    target = batch.colliding & np.isnan(batch.true_interactions) & (batch.n_vertices < 0)
    n_pu = np.zeros(n, np.int64)
    if target.any():
        n_pu[target] = rng.poisson(_mu_per_record(mu, batch)[target])
    pu_offsets = np.zeros(n + 1, np.int64)
    np.cumsum(n_pu, out=pu_offsets[1:])
    pu_events = rng.integers(0, len(pool), int(pu_offsets[-1]), dtype=np.int32)
    names = [name for name in pool.names if name in batch.objects]
    hard = [batch.objects[name] for name in names]
    if names != list(pool.names):
        raise StreamError(
            f"pile-up overlay: batch lacks collection(s) {sorted(set(pool.names) - set(names))}"
        )
    # overlaid records keep `limit` objects per collection; untouched ones keep all of theirs
    caps = np.stack(
        [
            np.where(target, limits[name], coll.counts())
            for name, coll in zip(names, hard, strict=True)
        ]
    )
    cap_offsets = np.zeros((len(names), n + 1), np.int64)
    flat_caps = np.cumsum(caps.ravel())
    cap_offsets[:, 1:] = flat_caps.reshape(len(names), n)
    cap_offsets[1:, 0] = flat_caps.reshape(len(names), n)[:-1, -1]
    # the kernel carries one int32 per object: the object's origin (hard position >= 0,
    # pool -(position + 1)), from which every other field is gathered afterwards
    stacked = _stack(hard)
    if stacked.pt.shape[0] >= np.iinfo(np.int32).max:
        raise StreamError("pile-up overlay: a batch holds too many objects; use smaller chunks")
    hard_payload = np.arange(stacked.pt.shape[0], dtype=np.int32)
    pt, eta, phi, origin, counts, met_pt, met_phi = overlay_records(
        (stacked.offsets, stacked.pt, stacked.eta, stacked.phi, hard_payload),
        (batch.met_pt, batch.met_phi),
        (pool.offsets, pool.pt, pool.eta, pool.phi, pool.payload),
        (pool.mask, pool.met_px, pool.met_py),
        pu_offsets,
        pu_events,
        cap_offsets,
        target,
    )
    objects = dict(batch.objects)
    for c, name in enumerate(names):
        kept = counts[c]
        offsets = np.zeros(n + 1, np.int64)
        np.cumsum(kept, out=offsets[1:])
        starts = np.repeat(cap_offsets[c, :-1] - offsets[:-1], kept)
        where = starts + np.arange(int(offsets[-1]))
        origin_of = origin[where]
        objects[name] = Objects(
            offsets,
            pt[where],
            eta[where],
            phi[where],
            _gather(origin_of, stacked.quality, pool.quality),
            _gather(origin_of, stacked.charge, pool.charge),
            _gather(origin_of, stacked.isolation, pool.isolation),
        )
    true_int = batch.true_interactions.copy()
    true_int[target] = (n_pu[target] + batch.has_event[target]).astype(np.float32)
    return EventBatch(
        orbit=batch.orbit,
        bx=batch.bx,
        colliding=batch.colliding,
        event_id=batch.event_id,
        true_interactions=true_int,
        n_vertices=batch.n_vertices,
        met_pt=met_pt,
        met_phi=met_phi,
        objects=objects,
        has_event=batch.has_event,
    )
