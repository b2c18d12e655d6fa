"""EventBatch / Objects structure: sorting, slicing, concatenation, validation."""

from __future__ import annotations

import numpy as np
import pytest

from streams import COLLECTIONS, EventBatch, Objects, StreamError, concat_batches


def _batch() -> EventBatch:
    """Three events with 2, 0 and 3 jets."""
    jets = Objects.from_counts([2, 0, 3], [5, 9, 1, 7, 3], [0.1] * 5, [0.2] * 5)
    return EventBatch.from_events(np.arange(3), np.ones(3), np.zeros(3), {"jet": jets})


def test_from_counts_sorts_each_record_by_decreasing_pt() -> None:
    objs = Objects.from_counts(
        [3, 0, 2], [1, 3, 2, 5, 7], [10, 30, 20, 50, 70], [0] * 5, [1, 3, 2, 5, 7]
    )
    np.testing.assert_array_equal(objs.offsets, [0, 3, 3, 5])
    np.testing.assert_array_equal(objs.pt, np.float32([3, 2, 1, 7, 5]))
    # the other fields travel with their pT
    np.testing.assert_array_equal(objs.eta, np.float32([30, 20, 10, 70, 50]))
    np.testing.assert_array_equal(objs.quality, [3, 2, 1, 7, 5])


def test_from_events_fills_every_collection_unplaced() -> None:
    batch = _batch()
    assert set(COLLECTIONS) <= set(batch.objects)
    assert len(batch) == 3
    np.testing.assert_array_equal(batch.orbit, [-1, -1, -1])
    np.testing.assert_array_equal(batch.bx, [-1, -1, -1])
    assert batch.colliding.all()
    assert np.isnan(batch.true_interactions).all()
    np.testing.assert_array_equal(batch.n_vertices, [-1, -1, -1])
    np.testing.assert_array_equal(batch.objects["muon"].offsets, [0, 0, 0, 0])


def test_slice_and_concat_round_trip() -> None:
    batch = _batch()
    parts = [batch.slice(0, 1), batch.slice(1, 2), batch.slice(2, 3)]
    np.testing.assert_array_equal(parts[2].objects["jet"].offsets, [0, 3])
    back = concat_batches(parts)
    np.testing.assert_array_equal(back.objects["jet"].offsets, batch.objects["jet"].offsets)
    np.testing.assert_array_equal(back.objects["jet"].pt, batch.objects["jet"].pt)
    np.testing.assert_array_equal(back.event_id, batch.event_id)


def test_take_reorders_records() -> None:
    jets = _batch().objects["jet"]
    taken = jets.take(np.array([2, 0], np.int64))
    np.testing.assert_array_equal(taken.counts(), [3, 2])
    np.testing.assert_array_equal(taken.pt, np.concatenate([jets.pt[2:5], jets.pt[0:2]]))


@pytest.mark.parametrize(
    ("value", "field"),
    [
        (np.nan, "pt"),
        (np.inf, "pt"),
        (-1.0, "pt"),
        (np.nan, "eta"),
        (1e17, "eta"),  # would pass a Δη cut after an int64 overflow
        (-10.5, "eta"),
        (4.0, "phi"),  # a [0, 2π) convention would saturate silently
        (-np.inf, "phi"),
    ],
)
def test_validate_names_origin_and_row(value: float, field: str) -> None:
    values = {
        name: np.array([5.0, 4.0, 3.0] if name == "pt" else [0.0, 3.14159, -3.14159], np.float32)
        for name in ("pt", "eta", "phi")
    }
    values[field][2] = value
    jets = Objects.from_counts([1, 0, 2], values["pt"], values["eta"], values["phi"], sort=False)
    batch = EventBatch.from_events(np.arange(3), np.ones(3), np.zeros(3), {"jet": jets})
    with pytest.raises(StreamError, match=rf"file\.x: row 12: jet {field}"):
        batch.validate("file.x", first_row=10)


def test_validate_checks_met() -> None:
    batch = EventBatch.from_events([0, 1], [1.0, -2.0], [0.0, 0.0], {})
    with pytest.raises(StreamError, match="row 1: met_pt"):
        batch.validate("f")
