"""The integer state of an analysis: :class:`DecisionCounts`, built chunk by chunk.

Every number of :mod:`emulator.analysis` is a function of these counts over the BX
of :func:`collision_mask`: per-seed fire / prescaled / pure counts, the pair counts
of the overlap matrix, accepts, deadtime and vetoes, per-slot occupancy, one
:class:`~emulator.analysis._counts.ValueCounts` of raw scores per seed (the
rate-versus-threshold scans, thresholds for a target rate, quantiles, histograms,
efficiencies) and of each pile-up variable (counted BX and final-OR accepts per
value). Counts add exactly, so :meth:`DecisionCounts.merge` of the counts of a
replay's chunks — in one process or from Dask workers — equals the counts of the
whole replay, and memory stays flat in the number of BX (but for one entry per
distinct score of a network seed).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

import numpy as np
from numpy.typing import ArrayLike, NDArray

from emulator.analysis._counts import ValueCounts
from emulator.fixed import FixedType
from emulator.replay import DecisionBatch
from streams.timeline import BX_PER_ORBIT

__all__ = [
    "PILEUP_KEYS",
    "CountsAccumulator",
    "DecisionCounts",
    "collision_mask",
    "count_decisions",
    "masked_seeds",
]

#: pile-up variables counted, in the order they are chosen (see ``pileup_values``)
PILEUP_KEYS = ("mu", "true_interactions", "n_vertices")
#: rows of :attr:`DecisionCounts.occupancy`
OCCUPANCY_ROWS = ("bx_seen", "colliding", "l1a", "final_or")


def collision_mask(decisions: DecisionBatch) -> NDArray[np.bool_]:
    """The BX that count in every rate: colliding BX holding an input event.

    ``has_event`` marks a BX that took an event from the input, whatever its id's
    sign; colliding slots left empty after the events ran out
    (``streams.timeline.place`` completes the orbit, and a pile-up overlay may fill
    them with pile-up only) are left out.
    """
    has_event = np.asarray(decisions.has_event, np.bool_)
    if has_event.shape[0] != len(decisions):  # a DecisionBatch built without has_event
        has_event = np.asarray(decisions.event_id) >= 0
    mask: NDArray[np.bool_] = np.asarray(decisions.colliding, np.bool_) & has_event
    return mask


def masked_seeds(decisions: DecisionBatch | DecisionCounts) -> NDArray[np.bool_]:
    """Per seed (in ``seed_names`` order): masked in the menu (never in the OR)."""
    metas = {meta["name"]: meta for meta in decisions.metadata.get("seeds", [])}
    return np.array(
        [bool(metas.get(name, {}).get("masked", False)) for name in decisions.seed_names],
        np.bool_,
    )


def _pileup_columns(
    decisions: DecisionBatch, mu: ArrayLike | None
) -> dict[str, NDArray[np.float64]]:
    """Each pile-up variable per BX (NaN where unknown); ``mu`` only when given."""
    columns: dict[str, NDArray[np.float64]] = {}
    if mu is not None:
        values = np.asarray(mu, np.float64)
        if values.shape != (len(decisions),):
            raise ValueError(f"mu needs one value per BX ({len(decisions)}), got {values.shape}")
        columns["mu"] = values
    columns["true_interactions"] = np.asarray(decisions.true_interactions, np.float64)
    vertices = np.asarray(decisions.n_vertices, np.float64)
    columns["n_vertices"] = np.where(vertices >= 0, vertices, np.nan)
    return columns


@dataclass(frozen=True)
class DecisionCounts:
    """Integer counts of one replay (or of a chunk of it); add them with :meth:`merge`.

    Seed arrays are in ``seed_names`` order and count the counted BX (``n_counted``,
    :func:`collision_mask`); ``n_rows`` counts every replayed BX.
    """

    seed_names: tuple[str, ...]
    metadata: dict[str, Any]
    n_rows: int
    n_counted: int
    n_colliding_slots: int
    fired: NDArray[np.int64]
    prescaled: NDArray[np.int64]
    pure: NDArray[np.int64]
    n_total: int
    overlap: NDArray[np.int64]
    n_final_or: int
    n_l1a: int
    n_dead: int
    n_vetoed: int
    #: (4, 3564): BX seen, colliding, L1 accepts, final-OR fires per bunch slot
    occupancy: NDArray[np.int64]
    #: the distinct orbit numbers replayed (-1 for records not placed on a timeline)
    orbits: ValueCounts
    #: per seed: raw scores of the counted BX
    scores: tuple[ValueCounts, ...]
    #: per pile-up variable: finite values >= 0 of counted BX (columns: BX, final-OR accepts)
    pileup: dict[str, ValueCounts]
    #: pile-up variables with any finite value on a counted BX
    pileup_known: frozenset[str]
    dropped_collections: tuple[str, ...] = ()
    #: objects dropped by the slot truncation per collection: all BX, counted BX
    dropped: NDArray[np.int64] = field(default_factory=lambda: np.zeros((2, 0), np.int64))

    def __len__(self) -> int:
        return self.n_rows

    @classmethod
    def of(cls, decisions: DecisionBatch, *, mu: ArrayLike | None = None) -> DecisionCounts:
        """The counts of one batch of decisions (``mu``: the pile-up μ of each BX, if known)."""
        counted = collision_mask(decisions)
        masked = masked_seeds(decisions)
        fired = np.asarray(decisions.fired, np.bool_)[counted]
        prescaled = np.asarray(decisions.prescaled, np.bool_)[counted]
        active = prescaled & ~masked[np.newaxis, :]
        n_passing = active.sum(axis=1)
        # only BX where a seed passes add to the overlaps (well under 1 % of BX in a rate
        # study): the integer product (numpy has no BLAS for it) over those rows alone
        as_int = active[n_passing > 0].astype(np.int64)
        final_or = np.asarray(decisions.final_or, np.bool_)
        l1a = np.asarray(decisions.l1a, np.bool_)
        bx = np.asarray(decisions.bx, np.int64)
        placed = (bx >= 0) & (bx < BX_PER_ORBIT)
        slots = bx[placed]
        occupancy = np.stack(
            [
                np.bincount(slots[flags[placed]], minlength=BX_PER_ORBIT)
                for flags in (
                    np.ones(len(decisions), np.bool_),
                    np.asarray(decisions.colliding, np.bool_),
                    l1a,
                    final_or,
                )
            ]
        ).astype(np.int64)
        scores = np.asarray(decisions.scores, np.int64)
        pileup: dict[str, ValueCounts] = {}
        known: set[str] = set()
        for key, values in _pileup_columns(decisions, mu).items():
            counted_values = values[counted]
            finite = np.isfinite(counted_values)
            if finite.any():
                known.add(key)
            keep = finite & (counted_values >= 0)
            pileup[key] = ValueCounts.of(
                counted_values[keep], final_or[counted][keep], dtype=np.float64
            )
        dropped = np.asarray(decisions.dropped, np.int64)
        has_dropped = dropped.shape[0] == len(decisions) and dropped.ndim == 2
        collections = decisions.dropped_collections if has_dropped else ()
        return cls(
            seed_names=decisions.seed_names,
            metadata=decisions.metadata,
            n_rows=len(decisions),
            n_counted=int(counted.sum()),
            n_colliding_slots=int(np.count_nonzero(decisions.colliding)),
            fired=fired.sum(axis=0).astype(np.int64),
            prescaled=prescaled.sum(axis=0).astype(np.int64),
            pure=(active & (n_passing == 1)[:, np.newaxis]).sum(axis=0).astype(np.int64),
            n_total=int((n_passing > 0).sum()),
            overlap=as_int.T @ as_int,
            n_final_or=int(final_or[counted].sum()),
            n_l1a=int(l1a[counted].sum()),
            n_dead=int(np.asarray(decisions.dead, np.bool_)[counted].sum()),
            n_vetoed=int(np.asarray(decisions.vetoed, np.bool_)[counted].sum()),
            occupancy=occupancy,
            orbits=ValueCounts.of(np.asarray(decisions.orbit, np.int64)),
            scores=tuple(ValueCounts.of(scores[counted, i]) for i in range(scores.shape[1])),
            pileup=pileup,
            pileup_known=frozenset(known),
            dropped_collections=collections,
            dropped=(
                np.stack([dropped.sum(axis=0), dropped[counted].sum(axis=0)]).astype(np.int64)
                if has_dropped
                else np.zeros((2, 0), np.int64)
            ),
        )

    @classmethod
    def merge(cls, parts: Sequence[DecisionCounts]) -> DecisionCounts:
        """The counts of all ``parts`` together (exact; any order; metadata of the first)."""
        if not parts:
            raise ValueError("no decisions to merge")
        first = parts[0]
        for part in parts[1:]:
            if part.seed_names != first.seed_names:
                raise ValueError(
                    f"cannot merge counts of seeds {list(part.seed_names)} with "
                    f"{list(first.seed_names)}"
                )
        if len(parts) == 1:
            return first

        def total(name: str) -> Any:
            return sum(getattr(p, name) for p in parts[1:]) + getattr(first, name)

        collections = first.dropped_collections
        same = all(p.dropped_collections == collections for p in parts)
        keys = sorted({key for p in parts for key in p.pileup}, key=PILEUP_KEYS.index)
        return cls(
            seed_names=first.seed_names,
            metadata=first.metadata,
            n_rows=total("n_rows"),
            n_counted=total("n_counted"),
            n_colliding_slots=total("n_colliding_slots"),
            fired=total("fired"),
            prescaled=total("prescaled"),
            pure=total("pure"),
            n_total=total("n_total"),
            overlap=total("overlap"),
            n_final_or=total("n_final_or"),
            n_l1a=total("n_l1a"),
            n_dead=total("n_dead"),
            n_vetoed=total("n_vetoed"),
            occupancy=total("occupancy"),
            orbits=ValueCounts.merge([p.orbits for p in parts]),
            scores=tuple(
                ValueCounts.merge([p.scores[i] for p in parts]) for i in range(len(first.scores))
            ),
            pileup={
                key: ValueCounts.merge([p.pileup[key] for p in parts if key in p.pileup])
                for key in keys
            },
            pileup_known=frozenset().union(*(p.pileup_known for p in parts)),
            dropped_collections=collections if same else (),
            dropped=total("dropped") if same else np.zeros((2, 0), np.int64),
        )

    def size(self) -> int:
        """Entries held in the histograms (what merging costs)."""
        return sum(len(s) for s in self.scores) + sum(len(p) for p in self.pileup.values())

    # ------------------------------------------------------------------ lookups

    def column(self, name: str) -> int:
        """Index of seed ``name`` in the per-seed arrays."""
        try:
            return self.seed_names.index(name)
        except ValueError:
            raise KeyError(
                f"no seed {name!r} in the decisions; seeds: {list(self.seed_names)}"
            ) from None

    def seed_metadata(self, name: str) -> dict[str, Any]:
        """The metadata entry of seed ``name``."""
        for seed in self.metadata.get("seeds", []):
            if seed["name"] == name:
                return dict(seed)
        raise KeyError(f"no seed {name!r} in the decisions metadata")

    def score_type(self, name: str) -> FixedType:
        """FixedType of seed ``name``'s raw score (from the metadata)."""
        return FixedType.parse(self.seed_metadata(name)["score_type"])

    def seed_scores(self, name: str) -> ValueCounts:
        """Histogram of seed ``name``'s raw scores on the counted BX."""
        return self.scores[self.column(name)]

    def dropped_totals(self, *, counted: bool = False) -> dict[str, int]:
        """Objects dropped by the slot truncation per collection (all BX, or counted BX)."""
        row = 1 if counted else 0
        return {c: int(self.dropped[row, k]) for k, c in enumerate(self.dropped_collections)}

    def n_orbits(self, *, placed_only: bool = False) -> int:
        """Distinct orbits replayed (``placed_only``: leave out unplaced records' -1)."""
        if placed_only:
            return int(np.count_nonzero(self.orbits.values >= 0))
        return len(self.orbits)


T = TypeVar("T")


class _LogMerge(Generic[T]):
    """Parts merged as a log-structured set of runs: O(N log N) work, ~2x final memory."""

    def __init__(self, merge: Callable[[list[T]], T], size: Callable[[T], int]) -> None:
        self._runs: list[T] = []
        self._merge = merge
        self._size = size

    def add(self, part: T) -> None:
        self._runs.append(part)
        while len(self._runs) >= 2 and 2 * self._size(self._runs[-1]) >= self._size(self._runs[-2]):
            last = self._runs.pop()
            self._runs[-1] = self._merge([self._runs[-1], last])

    def result(self) -> T | None:
        if not self._runs:
            return None
        merged = self._merge(self._runs) if len(self._runs) > 1 else self._runs[0]
        self._runs = [merged]
        return merged


class CountsAccumulator:
    """Adds decision chunks (or counts of chunks) into one :class:`DecisionCounts`.

    ``add(batch, mu=...)`` for a replay's own chunks; ``add_counts(counts)`` for
    counts made elsewhere (a Dask worker). ``result()`` is the merged counts.
    """

    def __init__(self) -> None:
        self._parts: _LogMerge[DecisionCounts] = _LogMerge(
            DecisionCounts.merge, lambda counts: counts.size()
        )

    def add(self, decisions: DecisionBatch, *, mu: ArrayLike | None = None) -> None:
        """Count one chunk of decisions."""
        if len(decisions):
            self._parts.add(DecisionCounts.of(decisions, mu=mu))

    def add_counts(self, counts: DecisionCounts) -> None:
        """Merge counts made elsewhere."""
        self._parts.add(counts)

    def result(self) -> DecisionCounts | None:
        """Everything added so far (None when nothing was)."""
        return self._parts.result()


def count_decisions(
    batches: Iterable[DecisionBatch], *, mu: Callable[[DecisionBatch], ArrayLike] | None = None
) -> DecisionCounts | None:
    """The counts of a stream of decision chunks (``mu(batch)``: μ per BX of a chunk)."""
    accumulator = CountsAccumulator()
    for batch in batches:
        accumulator.add(batch, mu=None if mu is None else mu(batch))
    return accumulator.result()
