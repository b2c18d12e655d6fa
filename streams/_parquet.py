"""Parquet and Arrow IPC: our own event schema, a chunked reader and a safe writer.

Schema ``l1sim-events/1`` (one row per record; recorded in the file metadata under
``l1sim.schema``):

==========================  ==================  ==========================================
column                      type                meaning
==========================  ==================  ==========================================
``event_id``                int64 or uint64     source event id, exactly (uint64 for unsigned
                                                sources such as NanoAOD's ``event``)
``has_event``               bool                the record holds an input event (any id,
                                                negative included); absent: every
                                                unplaced record does, a placed one when
                                                its id is >= 0
``orbit``, ``bx``           int64, int32        placement on the clock, -1 when unplaced
``colliding``               bool                slot has colliding bunches
``true_interactions``       float32             true pp interactions, NaN unknown
``n_vertices``              int32               reconstructed vertices, -1 unknown
``met_pt``, ``met_phi``     float32             MET [GeV], azimuth [rad]
``{c}_pt/_eta/_phi``        list<float32>       objects of collection ``c`` (GeV, rad),
                                                sorted by decreasing pT
``{c}_quality``             list<int32>         quality word per object
``{c}_charge``              list<int8>          charge ±1 per object (0: unknown)
``{c}_isolation``           list<int32>         hardware isolation word (-1: unknown)
==========================  ==================  ==========================================

for ``c`` in ``egamma, muon, tau, jet``. Only ``event_id``, ``met_pt`` and ``met_phi``
are required when reading; other columns default to unknown / empty. A file without
``{c}_charge`` / ``{c}_isolation`` (written before they existed, or by a source without
them) reads as charge 0 and isolation -1, the "unknown" values on which every charge
or isolation cut of a menu fails (``streams.CHARGE_UNKNOWN``, ``ISOLATION_UNKNOWN``).
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.ipc
import pyarrow.parquet as pq
from numpy.typing import NDArray

from ._atomic import atomic_output
from ._batch import (
    CHARGE_UNKNOWN,
    COLLECTIONS,
    ISOLATION_UNKNOWN,
    EventBatch,
    Objects,
    as_id_dtype,
)
from ._errors import StreamError
from ._source import EventSource, rechunk

__all__ = ["SCHEMA_NAME", "ArrowSource", "ParquetSource", "write_arrow", "write_parquet"]

#: value of the ``l1sim.schema`` metadata key
SCHEMA_NAME = "l1sim-events/1"
_REQUIRED = ("event_id", "met_pt", "met_phi")
_FIELDS = ("pt", "eta", "phi", "quality")


def arrow_schema(id_type: pa.DataType | None = None) -> pa.Schema:
    """The Arrow schema the writers produce (``event_id`` int64 unless ``id_type`` says)."""
    fields = [
        pa.field("event_id", id_type or pa.int64()),
        pa.field("has_event", pa.bool_()),
        pa.field("orbit", pa.int64()),
        pa.field("bx", pa.int32()),
        pa.field("colliding", pa.bool_()),
        pa.field("true_interactions", pa.float32()),
        pa.field("n_vertices", pa.int32()),
        pa.field("met_pt", pa.float32()),
        pa.field("met_phi", pa.float32()),
    ]
    for c in COLLECTIONS:
        fields += [pa.field(f"{c}_{f}", pa.list_(pa.float32())) for f in _FIELDS[:3]]
        fields.append(pa.field(f"{c}_quality", pa.list_(pa.int32())))
        fields.append(pa.field(f"{c}_charge", pa.list_(pa.int8())))
        fields.append(pa.field(f"{c}_isolation", pa.list_(pa.int32())))
    return pa.schema(fields, metadata={"l1sim.schema": SCHEMA_NAME})


def _to_record_batch(batch: EventBatch, schema: pa.Schema) -> pa.RecordBatch:
    ids = as_id_dtype(batch.event_id, schema.field("event_id").type.to_pandas_dtype())
    columns: list[pa.Array] = [
        pa.array(ids),
        pa.array(batch.has_event),
        pa.array(batch.orbit),
        pa.array(batch.bx),
        pa.array(batch.colliding),
        pa.array(batch.true_interactions),
        pa.array(batch.n_vertices),
        pa.array(batch.met_pt),
        pa.array(batch.met_phi),
    ]
    for c in COLLECTIONS:
        coll = batch.objects.get(c) or Objects.empty(len(batch))
        offsets = pa.array(coll.offsets.astype(np.int32))
        for values in (coll.pt, coll.eta, coll.phi, coll.quality, coll.charge, coll.isolation):
            columns.append(pa.ListArray.from_arrays(offsets, pa.array(values)))
    return pa.RecordBatch.from_arrays(columns, schema=schema)


def _write(
    batches: Iterable[EventBatch], path: str | os.PathLike[str], kind: str, compression: str | None
) -> int:
    iterator = iter(batches)
    first = next(iterator, None)
    unsigned = first is not None and first.event_id.dtype == np.uint64
    schema = arrow_schema(pa.uint64() if unsigned else None)
    batches = itertools.chain([] if first is None else [first], iterator)
    written = 0
    with atomic_output(path) as tmp:
        if kind == "parquet":
            with pq.ParquetWriter(tmp, schema, compression=compression or "none") as writer:
                for batch in batches:
                    writer.write_batch(_to_record_batch(batch, schema))
                    written += len(batch)
        else:
            options = pa.ipc.IpcWriteOptions(compression=compression)
            with (
                pa.OSFile(str(tmp), "wb") as sink,
                pa.ipc.new_file(sink, schema, options=options) as writer,
            ):
                for batch in batches:
                    writer.write_batch(_to_record_batch(batch, schema))
                    written += len(batch)
    return written


def write_parquet(
    source_or_batches: Iterable[EventBatch],
    path: str | os.PathLike[str],
    *,
    compression: str = "zstd",
) -> int:
    """Write every batch to ``path`` in schema ``l1sim-events/1``; return the record count.

    Writes to a temporary file beside ``path`` and renames it at the end, so an error
    midway leaves no partial file behind.
    """
    return _write(source_or_batches, path, "parquet", compression)


def write_arrow(
    source_or_batches: Iterable[EventBatch],
    path: str | os.PathLike[str],
    *,
    compression: str | None = None,
) -> int:
    """As :func:`write_parquet`, as an Arrow IPC (Feather v2) file."""
    return _write(source_or_batches, path, "arrow", compression)


def _list_column(
    rb: pa.RecordBatch, name: str, origin: str, row0: int
) -> tuple[NDArray[np.int64], NDArray[Any]]:
    arr = rb.column(name)
    if not pa.types.is_list(arr.type) and not pa.types.is_large_list(arr.type):
        raise StreamError(f"{origin}: column {name!r} has type {arr.type}, expected a list")
    if arr.null_count:
        row = int(np.flatnonzero(arr.is_null().to_numpy(zero_copy_only=False))[0])
        raise StreamError(f"{origin}: row {row0 + row}: column {name!r} is null")
    offsets = arr.offsets.to_numpy().astype(np.int64)
    values = arr.flatten()
    if not (pa.types.is_integer(values.type) or pa.types.is_floating(values.type)):
        raise StreamError(
            f"{origin}: column {name!r} has type {arr.type}, expected a list of numbers"
        )
    if values.null_count:
        flat = int(np.flatnonzero(values.is_null().to_numpy(zero_copy_only=False))[0])
        row = int(np.searchsorted(offsets - offsets[0], flat, "right") - 1)
        raise StreamError(f"{origin}: row {row0 + row}: null value in {name!r}")
    return offsets - offsets[0], values.to_numpy(zero_copy_only=False)


def _column(
    rb: pa.RecordBatch, name: str, dtype: Any, default: Any, origin: str, row0: int
) -> NDArray[Any]:
    if name not in rb.schema.names:
        return np.full(rb.num_rows, default, dtype)
    arr = rb.column(name)
    if arr.null_count:
        row = int(np.flatnonzero(arr.is_null().to_numpy(zero_copy_only=False))[0])
        raise StreamError(f"{origin}: row {row0 + row}: column {name!r} is null")
    numeric = pa.types.is_integer(arr.type) or pa.types.is_floating(arr.type)
    if not (numeric or pa.types.is_boolean(arr.type)):
        raise StreamError(f"{origin}: column {name!r} of type {arr.type} is not {np.dtype(dtype)}")
    try:
        return np.asarray(arr.to_numpy(zero_copy_only=False), dtype)
    except (TypeError, ValueError, OverflowError) as exc:
        raise StreamError(
            f"{origin}: column {name!r} of type {arr.type} is not {np.dtype(dtype)}"
        ) from exc


#: value and dtype of an object column absent from the file
_MISSING: dict[str, tuple[Any, Any]] = {
    "eta": (np.float32, 0.0),
    "phi": (np.float32, 0.0),
    "quality": (np.int32, 0),
    "charge": (np.int8, CHARGE_UNKNOWN),
    "isolation": (np.int32, ISOLATION_UNKNOWN),
}


def _check_charge_isolation(
    collection: str,
    charge: NDArray[Any],
    isolation: NDArray[Any],
    offsets: NDArray[np.int64],
    origin: str,
    row0: int,
) -> None:
    """Charges must be -1, 0 (unknown) or +1; isolation words >= -1 (-1: unknown)."""
    for name, bad in (
        ("charge", ~np.isin(charge, (-1, 0, 1))),
        ("isolation", np.asarray(isolation) < ISOLATION_UNKNOWN),
    ):
        if bad.any():
            flat = int(np.argmax(bad))
            row = int(np.searchsorted(offsets, flat, "right") - 1)
            value = (charge if name == "charge" else isolation)[flat]
            raise StreamError(
                f"{origin}: row {row0 + row}: {collection}_{name} = {value} "
                "(charge must be -1, +1 or 0 = unknown; isolation >= 0 or -1 = unknown)"
            )


def from_record_batch(rb: pa.RecordBatch, origin: str, row0: int) -> EventBatch:
    """Convert one Arrow record batch in our schema to a validated :class:`EventBatch`."""
    names = rb.schema.names
    duplicated = sorted({n for n in names if names.count(n) > 1})
    if duplicated:
        raise StreamError(f"{origin}: wrong schema: duplicate column(s) {duplicated}")
    missing = [c for c in _REQUIRED if c not in rb.schema.names]
    if missing:
        raise StreamError(
            f"{origin}: wrong schema: missing column(s) {missing} (schema {SCHEMA_NAME}, "
            f"found {rb.schema.names[:12]})"
        )
    objects: dict[str, Objects] = {}
    for c in COLLECTIONS:
        if f"{c}_pt" not in rb.schema.names:
            continue
        offsets, pt = _list_column(rb, f"{c}_pt", origin, row0)
        values = [pt]
        for f in ("eta", "phi", "quality", "charge", "isolation"):
            if f"{c}_{f}" not in rb.schema.names:
                values.append(np.full(pt.shape[0], _MISSING[f][1], _MISSING[f][0]))
                continue
            other_offsets, other = _list_column(rb, f"{c}_{f}", origin, row0)
            if not np.array_equal(other_offsets, offsets):
                row = int(np.flatnonzero(other_offsets != offsets)[0]) - 1
                raise StreamError(
                    f"{origin}: row {row0 + max(row, 0)}: {c}_{f} and {c}_pt differ in length"
                )
            values.append(other)
        _check_charge_isolation(c, values[4], values[5], offsets, origin, row0)
        objects[c] = Objects.from_counts(
            np.diff(offsets), *values[:4], charge=values[4], isolation=values[5]
        )
    id_type = rb.schema.field("event_id").type
    if not pa.types.is_integer(id_type):
        raise StreamError(f"{origin}: column 'event_id' has type {id_type}, expected integers")
    batch = EventBatch.from_events(
        _column(
            rb, "event_id", np.uint64 if id_type == pa.uint64() else np.int64, -1, origin, row0
        ),
        _column(rb, "met_pt", np.float32, 0, origin, row0),
        _column(rb, "met_phi", np.float32, 0, origin, row0),
        objects,
        true_interactions=_column(rb, "true_interactions", np.float32, np.nan, origin, row0),
        n_vertices=_column(rb, "n_vertices", np.int32, -1, origin, row0),
    )
    if "orbit" in rb.schema.names:
        batch.orbit[:] = _column(rb, "orbit", np.int64, -1, origin, row0)
        batch.bx[:] = _column(rb, "bx", np.int32, -1, origin, row0)
        batch.colliding[:] = _column(rb, "colliding", np.bool_, True, origin, row0)
    if "has_event" in rb.schema.names:
        batch.has_event[:] = _column(rb, "has_event", np.bool_, True, origin, row0)
    elif batch.event_id.dtype == np.int64:  # files written before has_event: -1 on a placed BX
        batch.has_event[:] = (batch.orbit < 0) | (batch.event_id >= 0)
    batch.validate(origin, row0)
    return batch


class ParquetSource(EventSource):
    """Events from a Parquet file in schema ``l1sim-events/1``, ``chunk_size`` rows at a time."""

    def __init__(self, path: Path, *, chunk_size: int = 100_000, progress: bool = False) -> None:
        try:
            meta = pq.read_metadata(path)
            schema = pq.read_schema(path)
        except (OSError, pa.ArrowException) as exc:
            raise StreamError(f"{path}: not a readable Parquet file ({exc})") from exc
        missing = [c for c in _REQUIRED if c not in schema.names]
        if missing:
            raise StreamError(
                f"{path}: wrong schema: missing column(s) {missing} (expected {SCHEMA_NAME})"
            )
        super().__init__(str(path), meta.num_rows, chunk_size, progress=progress)
        self.path = path

    @property
    def format(self) -> str:
        """``parquet``."""
        return "parquet"

    def _batches(self) -> Iterator[EventBatch]:
        return rechunk((batch for _, batch in self._pieces_from(0)), self.chunk_size)

    def _pieces_from(self, start: int) -> Iterator[tuple[int, EventBatch]]:
        """Batches from the row group holding row ``start`` on."""
        row0 = 0
        try:
            pf = pq.ParquetFile(self.path)
            groups = range(pf.metadata.num_row_groups)
            first_group = 0
            for group in groups:
                rows = pf.metadata.row_group(group).num_rows
                if row0 + rows > start:
                    break
                row0 += rows
                first_group = group + 1
            if first_group == len(groups):
                return
            for rb in pf.iter_batches(batch_size=self.chunk_size, row_groups=groups[first_group:]):
                yield row0, from_record_batch(rb, str(self.path), row0)
                row0 += rb.num_rows
        except (OSError, pa.ArrowException) as exc:
            raise StreamError(f"{self.path}: corrupt Parquet data near row {row0} ({exc})") from exc


class ArrowSource(EventSource):
    """Events from an Arrow IPC / Feather v2 file in schema ``l1sim-events/1``."""

    def __init__(self, path: Path, *, chunk_size: int = 100_000, progress: bool = False) -> None:
        try:
            with pa.memory_map(str(path)) as mm:
                reader = pa.ipc.open_file(mm)
                n = sum(reader.get_batch(i).num_rows for i in range(reader.num_record_batches))
                names = reader.schema.names
        except (OSError, pa.ArrowException) as exc:
            raise StreamError(f"{path}: not a readable Arrow IPC file ({exc})") from exc
        missing = [c for c in _REQUIRED if c not in names]
        if missing:
            raise StreamError(
                f"{path}: wrong schema: missing column(s) {missing} (expected {SCHEMA_NAME})"
            )
        super().__init__(str(path), n, chunk_size, progress=progress)
        self.path = path

    @property
    def format(self) -> str:
        """``arrow``."""
        return "arrow"

    def _batches(self) -> Iterator[EventBatch]:
        return rechunk((batch for _, batch in self._pieces_from(0)), self.chunk_size)

    def _pieces_from(self, start: int) -> Iterator[tuple[int, EventBatch]]:
        """Pieces of ``chunk_size`` rows from the record batch holding row ``start`` on."""
        row0 = 0
        try:
            with pa.memory_map(str(self.path)) as mm:
                reader = pa.ipc.open_file(mm)
                for i in range(reader.num_record_batches):
                    rb = reader.get_batch(i)
                    if row0 + rb.num_rows <= start:
                        row0 += rb.num_rows
                        continue
                    for first in range(0, rb.num_rows, self.chunk_size):
                        piece = rb.slice(first, self.chunk_size)
                        yield row0, from_record_batch(piece, str(self.path), row0)
                        row0 += piece.num_rows
        except (OSError, pa.ArrowException) as exc:
            raise StreamError(f"{self.path}: corrupt Arrow data near row {row0} ({exc})") from exc
