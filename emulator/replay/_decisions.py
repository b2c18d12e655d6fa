"""The replay's output: per-BX decisions, and their Parquet form.

Columns (one row per BX): ``orbit``, ``bx``, ``colliding``, ``event_id``,
``true_interactions``, ``n_vertices``, then per seed ``score.<seed>`` (raw int64),
``fired.<seed>`` (score >= threshold), ``prescaled.<seed>`` (after the prescale
counter), then ``final_or`` (OR of the prescaled unmasked seeds), ``dead`` (the
trigger rules would veto an accept in this BX), ``vetoed`` (final_or and dead)
and ``l1a`` (the L1 accept), then per collection ``dropped.<collection>`` (objects
of the BX beyond the hardware's slots, left out by the truncation; absent in
files written before slots existed). The schema metadata key ``l1sim.decisions`` holds
JSON with the menu name, each seed's score type, raw threshold, prescale, mask
and latency, and the trigger rules.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from numpy.typing import NDArray

from emulator.fixed import FixedType
from streams import atomic_output

__all__ = [
    "DecisionBatch",
    "concat_decisions",
    "decisions_from_arrow",
    "decisions_metadata_of",
    "read_decisions",
    "write_decisions",
]

METADATA_KEY = b"l1sim.decisions"
FORMAT_VERSION = 1

_META_COLUMNS = (
    "orbit", "bx", "colliding", "event_id", "has_event", "true_interactions", "n_vertices"
)  # fmt: skip
_FLAG_COLUMNS = ("final_or", "dead", "vetoed", "l1a")
_DROPPED = "dropped"


@dataclass(frozen=True)
class DecisionBatch:
    """Decisions for ``n`` consecutive BX; seed arrays are (n, n_seeds) in ``seed_names`` order.

    ``metadata`` is JSON-able: ``menu``, ``seeds`` (list of dicts with ``name``,
    ``kind``, ``score_type``, ``threshold_raw``, ``prescale``, ``masked``,
    ``latency_bx``), ``rules``, ``slots`` and ``format_version``. ``dropped`` is
    (n, len(dropped_collections)): objects per BX and collection beyond the
    hardware's slots (empty when unknown).
    """

    orbit: NDArray[np.int64]
    bx: NDArray[np.int32]
    colliding: NDArray[np.bool_]
    event_id: NDArray[np.int64]
    true_interactions: NDArray[np.float32]
    n_vertices: NDArray[np.int32]
    seed_names: tuple[str, ...]
    scores: NDArray[np.int64]
    fired: NDArray[np.bool_]
    prescaled: NDArray[np.bool_]
    final_or: NDArray[np.bool_]
    dead: NDArray[np.bool_]
    vetoed: NDArray[np.bool_]
    l1a: NDArray[np.bool_]
    metadata: dict[str, Any] = field(default_factory=dict)
    dropped: NDArray[np.int64] = field(default_factory=lambda: np.zeros((0, 0), np.int64))
    dropped_collections: tuple[str, ...] = ()
    #: the BX holds an input event (streams' ``EventBatch.has_event``; any id sign)
    has_event: NDArray[np.bool_] = field(default_factory=lambda: np.zeros(0, np.bool_))

    def dropped_totals(self, rows: NDArray[np.bool_] | None = None) -> dict[str, int]:
        """Objects dropped by the slot truncation per collection (over ``rows``, default all)."""
        values = self.dropped if rows is None else self.dropped[rows]
        return {c: int(values[:, k].sum()) for k, c in enumerate(self.dropped_collections)}

    def __len__(self) -> int:
        return int(self.orbit.shape[0])

    def column(self, name: str) -> int:
        """Index of seed ``name`` in the (n, n_seeds) arrays."""
        try:
            return self.seed_names.index(name)
        except ValueError:
            raise KeyError(
                f"no seed {name!r} in the decisions; seeds: {list(self.seed_names)}"
            ) from None

    def score_type(self, name: str) -> FixedType:
        """FixedType of seed ``name``'s raw score (from the metadata)."""
        for seed in self.metadata.get("seeds", []):
            if seed["name"] == name:
                return FixedType.parse(seed["score_type"])
        raise KeyError(f"no score type for seed {name!r} in the decisions metadata")

    def global_bx(self) -> NDArray[np.int64]:
        """Absolute BX number of each row, orbit x 3564 + bx (-1 where not placed)."""
        placed = self.orbit >= 0
        result: NDArray[np.int64] = np.where(placed, self.orbit * 3564 + self.bx, -1)
        return result

    def decision_bx(self, name: str | None = None) -> NDArray[np.int64]:
        """BX at which a decision is available: BX n + the seed's latency (``name``), or
        + the menu's total latency for the L1 accept (``name=None``)."""
        if name is None:
            latency = int(self.metadata.get("total_latency_bx", 0))
        else:
            latency = int(self.seed_metadata(name)["latency_bx"])
        bx = self.global_bx()
        result: NDArray[np.int64] = np.where(bx >= 0, bx + latency, -1)
        return result

    def seed_metadata(self, name: str) -> dict[str, Any]:
        """The metadata entry of seed ``name``."""
        for seed in self.metadata.get("seeds", []):
            if seed["name"] == name:
                return dict(seed)
        raise KeyError(f"no seed {name!r} in the decisions metadata")

    def to_arrow(self) -> pa.Table:
        """The batch as an Arrow table with the documented columns and metadata."""
        columns: dict[str, Any] = {name: getattr(self, name) for name in _META_COLUMNS}
        for prefix, values in (
            ("score", self.scores),
            ("fired", self.fired),
            ("prescaled", self.prescaled),
        ):
            for i, name in enumerate(self.seed_names):
                columns[f"{prefix}.{name}"] = values[:, i]
        for name in _FLAG_COLUMNS:
            columns[name] = getattr(self, name)
        for k, collection in enumerate(self.dropped_collections):
            columns[f"{_DROPPED}.{collection}"] = self.dropped[:, k]
        table = pa.table(columns)
        meta = {**self.metadata, "format_version": FORMAT_VERSION}
        return table.replace_schema_metadata({METADATA_KEY: json.dumps(meta).encode()})


#: what each seed's metadata entry must hold, and its JSON type
_SEED_KEYS: dict[str, tuple[type, ...]] = {
    "name": (str,),
    "kind": (str,),
    "score_type": (str,),
    "threshold_raw": (int,),
    "prescale": (int, float),
    "masked": (bool,),
    "latency_bx": (int,),
}


def _check_metadata(metadata: Any, path: object) -> None:
    """A ValueError naming the field when the decisions metadata lacks what readers use."""
    seeds = metadata.get("seeds") if isinstance(metadata, dict) else None
    seeds = seeds if isinstance(seeds, list) else None
    if seeds is None:
        raise ValueError(f"{path}: decisions metadata field 'seeds' is missing or not a list")
    for index, seed in enumerate(seeds):
        for key, types in _SEED_KEYS.items():
            value = seed.get(key) if isinstance(seed, dict) else None
            if not isinstance(value, types) or (bool not in types and isinstance(value, bool)):
                raise ValueError(
                    f"{path}: decisions metadata field 'seeds[{index}].{key}' is missing or "
                    f"not a {types[0].__name__}"
                )


def concat_decisions(parts: Iterable[DecisionBatch]) -> DecisionBatch:
    """All parts one after the other (metadata of the first)."""
    parts = list(parts)
    if not parts:
        raise ValueError("no decisions to concatenate")
    first = parts[0]
    fields = {
        name: np.concatenate([getattr(p, name) for p in parts])
        for name in (*_META_COLUMNS, "scores", "fired", "prescaled", *_FLAG_COLUMNS)
    }
    collections = first.dropped_collections
    if all(p.dropped_collections == collections for p in parts):
        dropped = np.concatenate([p.dropped for p in parts])
    else:
        collections, dropped = (), np.zeros((0, 0), np.int64)
    return DecisionBatch(
        seed_names=first.seed_names,
        metadata=first.metadata,
        dropped=dropped,
        dropped_collections=collections,
        **fields,
    )


def write_decisions(batches: Iterable[DecisionBatch], path: str | Path) -> int:
    """Write decisions to Parquet (a temporary file renamed into place); return the row count.

    Consumes ``batches`` lazily, so a whole replay can be streamed to disk.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    writer: pq.ParquetWriter | None = None
    rows = 0
    with atomic_output(path) as temporary:
        try:
            for batch in batches:
                table = batch.to_arrow()
                if writer is None:
                    writer = pq.ParquetWriter(temporary, table.schema, compression="zstd")
                writer.write_table(table)
                rows += len(batch)
        finally:
            if writer is not None:
                writer.close()
        if writer is None:
            raise ValueError(f"{path}: no decisions to write (the input stream was empty)")
    return rows


def read_decisions(path: str | Path) -> DecisionBatch:
    """Read a decisions Parquet file written by :func:`write_decisions`, all rows at once.

    ``path`` may also be a partitioned dataset (see :mod:`emulator.replay._dataset`);
    :func:`~emulator.replay.iter_decisions` reads either chunk by chunk instead.
    """
    from emulator.replay._dataset import iter_decisions  # noqa: PLC0415  (a cycle otherwise)

    parts = list(iter_decisions(path))
    return parts[0] if len(parts) == 1 else concat_decisions(parts)


def decisions_metadata_of(schema: pa.Schema, path: str | Path) -> dict[str, Any]:
    """The ``l1sim.decisions`` metadata of a decisions file's schema; errors name ``path``."""
    raw_meta = (schema.metadata or {}).get(METADATA_KEY)
    if raw_meta is None:
        raise ValueError(
            f"{path}: not an l1sim decisions file (no '{METADATA_KEY.decode()}' metadata)"
        )
    metadata: dict[str, Any] = json.loads(raw_meta)
    _check_metadata(metadata, path)
    names = tuple(seed["name"] for seed in metadata["seeds"])
    missing = [c for c in (*_META_COLUMNS, *_FLAG_COLUMNS) if c not in schema.names]
    missing += [f"score.{n}" for n in names if f"score.{n}" not in schema.names]
    if missing:
        raise ValueError(f"{path}: decisions file lacks columns {missing}")
    return metadata


def decisions_from_arrow(
    table: pa.Table | pa.RecordBatch, metadata: dict[str, Any]
) -> DecisionBatch:
    """A :class:`DecisionBatch` from rows of a decisions file (checked by
    :func:`decisions_metadata_of`)."""
    names = tuple(seed["name"] for seed in metadata["seeds"])
    column_names = list(table.schema.names)

    def column(name: str, dtype: Any) -> NDArray[Any]:
        return np.asarray(table.column(name).to_numpy(zero_copy_only=False), dtype)

    def stacked(prefix: str, dtype: Any) -> NDArray[Any]:
        if not names:
            return np.zeros((table.num_rows, 0), dtype)
        return np.stack([column(f"{prefix}.{n}", dtype) for n in names], axis=1)

    collections = tuple(
        c[len(_DROPPED) + 1 :] for c in column_names if c.startswith(f"{_DROPPED}.")
    )
    dropped = (
        np.stack([column(f"{_DROPPED}.{c}", np.int64) for c in collections], axis=1)
        if collections
        else np.zeros((0, 0), np.int64)
    )
    return DecisionBatch(
        orbit=column("orbit", np.int64),
        bx=column("bx", np.int32),
        colliding=column("colliding", np.bool_),
        event_id=column("event_id", np.int64),
        has_event=column("has_event", np.bool_),
        true_interactions=column("true_interactions", np.float32),
        n_vertices=column("n_vertices", np.int32),
        seed_names=names,
        scores=stacked("score", np.int64),
        fired=stacked("fired", np.bool_),
        prescaled=stacked("prescaled", np.bool_),
        final_or=column("final_or", np.bool_),
        dead=column("dead", np.bool_),
        vetoed=column("vetoed", np.bool_),
        l1a=column("l1a", np.bool_),
        metadata=metadata,
        dropped=dropped,
        dropped_collections=collections,
    )
