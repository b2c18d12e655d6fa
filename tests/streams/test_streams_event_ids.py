"""Event identity does not depend on the id's sign, and unsigned ids are read exactly.

A record holds an event when ``has_event`` says so; ids are kept as the source gives
them: int64, or uint64 for unsigned sources (NanoAOD's ``event``), so ids of 2**63
and more are neither wrapped nor mistaken for "no event".
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import streams
from streams import EventBatch, StreamError, concat_batches, synthetic
from streams.timeline import FillingScheme, place

BIG_IDS = np.array([2**63 + 7, 2**64 - 1, 1, 2**63, 12345678901234567890], np.uint64)


def _with_ids(batch: EventBatch, ids: np.ndarray) -> EventBatch:
    return EventBatch.from_events(
        ids, batch.met_pt, batch.met_phi, batch.objects, n_vertices=batch.n_vertices
    )


def _nanoaod(path: Path, ids: np.ndarray) -> Path:
    """A minimal NanoAOD-like tree whose unsigned ``event`` branch holds ``ids``."""
    uproot = pytest.importorskip("uproot")
    ak = pytest.importorskip("awkward")
    n = ids.shape[0]
    jagged = {
        f"Muon_{field}": ak.Array([[value, value / 2]] * n)
        for field, value in (("pt", 30.0), ("eta", 0.5), ("phi", 0.25))
    }
    with uproot.recreate(path) as fh:
        fh["Events"] = {
            "event": ids,
            "MET_pt": np.full(n, 12.0, np.float32),
            "MET_phi": np.zeros(n, np.float32),
            **jagged,
        }
    return path


def test_nanoaod_ids_of_2_to_the_63_and_more_read_exactly(tmp_path: Path) -> None:
    source = streams.open(_nanoaod(tmp_path / "nano.root", BIG_IDS))
    batch = concat_batches(list(source))
    assert batch.event_id.dtype == np.uint64
    assert [int(i) for i in batch.event_id] == [int(i) for i in BIG_IDS]
    assert batch.has_event.all()


def test_unsigned_ids_survive_placement_and_parquet(tmp_path: Path) -> None:
    events = concat_batches(list(streams.open(_nanoaod(tmp_path / "nano.root", BIG_IDS))))
    placed = concat_batches(list(place([events])))
    assert placed.event_id.dtype == np.uint64
    assert int(placed.has_event.sum()) == BIG_IDS.shape[0]
    np.testing.assert_array_equal(placed.event_id[placed.has_event], BIG_IDS)
    path = tmp_path / "ids.parquet"
    streams.write_parquet([events], path)
    back = concat_batches(list(streams.open(path)))
    assert back.event_id.dtype == np.uint64
    np.testing.assert_array_equal(back.event_id, BIG_IDS)


def test_negative_ids_are_events() -> None:
    raw = concat_batches(list(synthetic.generate("background", 3000, seed=3)))
    negative = _with_ids(raw, -1 - np.arange(3000, dtype=np.int64))
    placed = concat_batches(list(place([negative])))
    assert int(placed.has_event.sum()) == 3000
    np.testing.assert_array_equal(placed.event_id[placed.has_event], negative.event_id)
    assert int((placed.has_event & placed.colliding).sum()) == 3000


def test_negative_ids_round_trip_through_parquet(tmp_path: Path) -> None:
    raw = concat_batches(list(synthetic.generate("background", 500, seed=4)))
    negative = _with_ids(raw, np.full(500, -5, np.int64))
    path = tmp_path / "neg.parquet"
    streams.write_parquet(place([negative]), path)
    back = concat_batches(list(streams.open(path)))
    assert int(back.has_event.sum()) == 500
    assert (back.event_id[back.has_event] == -5).all()


def test_pileup_overlay_counts_the_hard_scatter_of_a_negative_id() -> None:
    raw = concat_batches(list(synthetic.generate("background", 300, seed=5)))
    negative = _with_ids(raw, np.full(300, -1, np.int64))
    scheme = FillingScheme.from_bx_list(range(300))
    out = concat_batches(
        list(
            streams.pileup.overlay(
                place([negative], scheme), synthetic.generate("minbias", 50), mu=0.0
            )
        )
    )
    assert (out.true_interactions[out.has_event] == 1).all()


def test_a_stream_mixing_negative_and_huge_unsigned_ids_is_refused(tmp_path: Path) -> None:
    raw = concat_batches(list(synthetic.generate("background", 10, seed=6)))
    negative = _with_ids(raw, np.full(10, -1, np.int64))
    unsigned = concat_batches(list(streams.open(_nanoaod(tmp_path / "nano.root", BIG_IDS))))
    with pytest.raises(StreamError, match="negative event id"):
        list(place([unsigned, negative]))
    with pytest.raises(StreamError, match="cannot hold negative event ids"):
        concat_batches([negative, unsigned])
    small = _with_ids(raw, np.arange(10, dtype=np.uint64))
    mixed = concat_batches([negative, small])  # unsigned ids below 2**63 join signed ones
    assert mixed.event_id.dtype == np.int64


def test_a_pre_placed_parquet_file_is_refused_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "placed.parquet"
    streams.write_parquet(place(synthetic.generate("background", 100)), path)
    with pytest.raises(StreamError, match=r"placed\.parquet: the records are already placed"):
        list(place(streams.open(path), origin=str(path)))
