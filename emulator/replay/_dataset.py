"""Decisions read chunk by chunk, from one Parquet file or a partitioned dataset.

A partitioned dataset is a directory of part files, each written atomically by
:func:`~emulator.replay.write_decisions` (one per task of a distributed replay),
plus :data:`MANIFEST_NAME` listing them in BX order with their row counts and
first/last absolute BX. The manifest is written last, so a directory without it is
not a dataset (an interrupted run). :func:`iter_decisions` reads a file or a
dataset the same way, one record batch at a time, so an analysis never holds all
the rows; pyarrow also reads the directory as a dataset (the manifest starts with
``_``, which pyarrow skips).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from emulator.replay._decisions import (
    DecisionBatch,
    decisions_from_arrow,
    decisions_metadata_of,
)
from streams import atomic_output

__all__ = [
    "MANIFEST_FORMAT",
    "MANIFEST_NAME",
    "DatasetPart",
    "iter_decisions",
    "read_manifest",
    "write_manifest",
]

#: the file of a partitioned decisions dataset that lists its parts
MANIFEST_NAME = "_manifest.json"
MANIFEST_FORMAT = "l1sim-decisions-dataset/1"
#: rows per batch when reading
READ_ROWS = 1 << 17


@dataclass(frozen=True)
class DatasetPart:
    """One part file of a dataset: its name, rows and first / last absolute BX."""

    file: str
    rows: int
    first_bx: int
    last_bx: int


def write_manifest(directory: str | Path, parts: Sequence[DatasetPart]) -> Path:
    """Write the manifest of ``directory`` (atomically) after checking every part.

    Each part file must exist with exactly its rows, and the parts must follow each
    other in BX without overlap: a missing or duplicated chunk is an error here, not
    a silently partial dataset.
    """
    directory = Path(directory)
    previous_last: int | None = None
    for part in parts:
        path = directory / part.file
        try:
            rows = pq.read_metadata(path).num_rows
        except (OSError, pa.ArrowException) as exc:
            raise ValueError(f"{path}: part of the decisions dataset unreadable ({exc})") from None
        if rows != part.rows:
            raise ValueError(f"{path}: {rows} rows, but {part.rows} were replayed for it")
        if previous_last is not None and part.rows and part.first_bx <= previous_last:
            raise ValueError(
                f"{path}: starts at BX {part.first_bx}, not after the previous part's last BX "
                f"{previous_last}: a chunk is duplicated or out of order"
            )
        if part.rows:
            previous_last = part.last_bx
    document = {
        "format": MANIFEST_FORMAT,
        "rows": sum(part.rows for part in parts),
        "parts": [vars(part) for part in parts],
    }
    target = directory / MANIFEST_NAME
    with atomic_output(target) as temporary:
        temporary.write_text(json.dumps(document, indent=1))
    return target


def read_manifest(directory: str | Path) -> list[DatasetPart]:
    """The parts listed by a dataset's manifest (errors name the directory)."""
    directory = Path(directory)
    path = directory / MANIFEST_NAME
    try:
        document: Any = json.loads(path.read_text())
    except FileNotFoundError:
        raise ValueError(
            f"{directory}: a directory without {MANIFEST_NAME}: not a decisions dataset "
            "(or one whose run did not finish)"
        ) from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"{path}: unreadable manifest ({exc})") from None
    if not isinstance(document, dict) or document.get("format") != MANIFEST_FORMAT:
        raise ValueError(f"{path}: not an l1sim decisions manifest ({MANIFEST_FORMAT})")
    try:
        return [DatasetPart(**entry) for entry in document["parts"]]
    except (KeyError, TypeError) as exc:
        raise ValueError(f"{path}: malformed manifest ({exc})") from None


def _iter_file(path: Path, rows: int) -> Iterator[DecisionBatch]:
    try:
        source = pq.ParquetFile(path)
        metadata = decisions_metadata_of(source.schema_arrow, path)
        for record_batch in source.iter_batches(batch_size=rows):
            yield decisions_from_arrow(record_batch, metadata)
    except (OSError, pa.ArrowException) as exc:
        raise ValueError(f"{path}: cannot read decisions ({exc})") from None


def iter_decisions(path: str | Path, *, rows: int = READ_ROWS) -> Iterator[DecisionBatch]:
    """The decisions of a file or partitioned dataset, ``rows`` BX at a time, in BX order."""
    path = Path(path)
    if not path.is_dir():
        yield from _iter_file(path, rows)
        return
    parts = read_manifest(path)
    if not parts:
        raise ValueError(f"{path}: the decisions dataset lists no parts")
    seeds: tuple[str, ...] | None = None
    for part in parts:
        for batch in _iter_file(path / part.file, rows):
            if seeds is None:
                seeds = batch.seed_names
            elif batch.seed_names != seeds:
                raise ValueError(f"{path / part.file}: other seeds than the dataset's first part")
            yield batch
