"""``EventSource.events(start, stop)``: random access equals slicing the whole stream.

Distributed replays read each task's range of the input with it, so it must give
exactly the events a full read gives at those positions, in every format, across
chunk, row-group, block and file boundaries.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any

import h5py
import numpy as np
import pytest

import streams
from streams import EventBatch, concat_batches

#: (start, stop) ranges around the chunk size 700 and the synthetic block of 65 536
RANGES = ((0, 0), (0, 1), (0, 700), (1, 701), (699, 2101), (1234, 1235), (0, 5000), (4990, 5000))


def _columns(batch: EventBatch) -> dict[str, Any]:
    """Every array of a batch, objects flattened, by name."""
    columns: dict[str, Any] = {}
    for field in dataclasses.fields(batch):
        value = getattr(batch, field.name)
        if field.name == "objects":
            for name, objects in value.items():
                for sub in dataclasses.fields(objects):
                    columns[f"{name}.{sub.name}"] = getattr(objects, sub.name)
        else:
            columns[field.name] = value
    return columns


def _assert_same(got: EventBatch, want: EventBatch) -> None:
    left, right = _columns(got), _columns(want)
    assert left.keys() == right.keys()
    for name, values in left.items():
        assert values.dtype == right[name].dtype, name
        assert np.array_equal(values, right[name], equal_nan=values.dtype.kind == "f"), name


def _check(source: streams.EventSource, ranges: tuple[tuple[int, int], ...] = RANGES) -> None:
    whole = concat_batches(list(source))
    assert source.n_events == len(whole)
    for first, end in ranges:
        stop = min(end, len(whole))
        start = min(first, stop)
        pieces = list(source.events(start, stop))
        assert all(0 < len(p) <= source.chunk_size for p in pieces)
        assert sum(len(p) for p in pieces) == stop - start, (start, stop)
        if pieces:
            _assert_same(concat_batches(pieces), whole.slice(start, stop))


def _synthetic(n: int, seed: int = 3) -> streams.EventSource:
    return streams.synthetic.generate("background", n, seed=seed, chunk_size=700)


def test_synthetic_across_generator_blocks() -> None:
    source = _synthetic(140_000)
    _check(source, ((65_530, 65_545), (131_000, 131_100), (0, 10), (139_990, 140_000)))


@pytest.mark.parametrize("writer", [streams.write_parquet, streams.write_arrow])
def test_parquet_and_arrow_across_row_groups(tmp_path: Path, writer: Callable[..., int]) -> None:
    path = tmp_path / f"events.{'parquet' if writer is streams.write_parquet else 'arrow'}"
    writer(_synthetic(5000).events(0, 5000), path)  # batches of 700: groups of 700 rows
    _check(streams.open(path, chunk_size=700))


def test_hdf5(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    table = np.zeros((3000, 19, 4), np.float32)
    zeros, ones = np.zeros(3000), np.ones(3000)
    table[:, 0] = np.stack([rng.exponential(20, 3000), zeros, zeros, ones], axis=1)
    jet = np.stack([rng.exponential(25, 3000) + 3, zeros + 0.1, zeros + 0.2, 4 * ones], axis=1)
    table[:, 9] = jet
    with h5py.File(tmp_path / "adc.h5", "w") as fh:
        fh.create_dataset("Particles", data=table)
    _check(streams.open(tmp_path / "adc.h5", chunk_size=700))


def test_chain_of_files_and_unknown_skips(tmp_path: Path) -> None:
    streams.write_parquet(_synthetic(1000, seed=1), tmp_path / "a.parquet")
    streams.write_parquet(_synthetic(1500, seed=2), tmp_path / "b.parquet")
    chained = streams.chain(
        streams.open(tmp_path / "a.parquet", chunk_size=700),
        streams.open(tmp_path / "b.parquet", chunk_size=700),
    )
    _check(chained, ((990, 1010), (0, 2500), (1000, 1001), (1700, 2500), (999, 1000)))


def test_root_reference_files(reference_file: Callable[..., Path]) -> None:
    for name in ("uproot-HZZ.root", "nanoAOD_2015_CMS_Open_Data_ttbar.root"):
        source = streams.open(reference_file("events", name), chunk_size=70)
        _check(source, ((0, 1), (69, 141), (150, 200), (0, 10_000)))


def test_bad_range_is_refused() -> None:
    with pytest.raises(ValueError, match="start <= stop"):
        list(_synthetic(10).events(5, 4))
