"""The bunch-crossing clock: constants, filling schemes, placing events."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import streams
from streams import StreamError, synthetic
from streams.timeline import (
    ABORT_GAP,
    BX_CLOCK_HZ,
    BX_PER_ORBIT,
    BX_SPACING_NS,
    REVOLUTION_HZ,
    FillingScheme,
    place,
)


def test_constants() -> None:
    assert BX_PER_ORBIT == 3564
    assert REVOLUTION_HZ == 11245.6
    assert BX_CLOCK_HZ == 40.079e6
    assert BX_SPACING_NS == 25.0
    # the quoted bunch clock is the orbit times the revolution frequency, to 0.01 %
    assert abs(BX_PER_ORBIT * REVOLUTION_HZ / BX_CLOCK_HZ - 1) < 1e-4


def test_default_scheme_is_2760_bunches_in_25ns_trains_with_abort_gap() -> None:
    scheme = FillingScheme.default()
    assert scheme.n_colliding == 2760
    assert scheme.colliding.shape == (BX_PER_ORBIT,)
    assert not scheme.colliding[ABORT_GAP.start :].any()
    assert len(ABORT_GAP) >= 119  # >= 3 µs
    assert scheme.collision_rate_hz == pytest.approx(11245.6 * 2760)
    # trains: runs of consecutive colliding slots, 72 bunches long except a last short one
    edges = np.diff(np.concatenate(([0], scheme.colliding.astype(np.int8), [0])))
    lengths = np.flatnonzero(edges == -1) - np.flatnonzero(edges == 1)
    assert set(lengths.tolist()) == {72, 24}


def test_from_bx_list_and_trains() -> None:
    scheme = FillingScheme.from_bx_list([0, 5, 100])
    assert scheme.colliding_bx.tolist() == [0, 5, 100]
    trains = FillingScheme.from_trains([(3, 2), (2, 0)], first_bx=10)
    assert trains.colliding_bx.tolist() == [10, 11, 12, 15, 16]


@pytest.mark.parametrize(
    ("bxs", "message"),
    [
        ([1, 3500], "abort gap"),
        ([1, 3564], "outside 0..3563"),
        ([-1], "outside"),
        ([7, 8, 7], "BX 7 listed twice"),
    ],
)
def test_invalid_schemes_are_rejected(bxs: list[int], message: str) -> None:
    with pytest.raises(StreamError, match=message):
        FillingScheme.from_bx_list(bxs)


def test_load_text_and_json(tmp_path: Path) -> None:
    text = tmp_path / "scheme.txt"
    text.write_text("# my fill\n0, 1 2\n\n100  # last\n")
    assert FillingScheme.load(text).colliding_bx.tolist() == [0, 1, 2, 100]
    js = tmp_path / "s.json"
    js.write_text(json.dumps({"name": "t", "trains": [[2, 1], [1, 0]]}))
    loaded = FillingScheme.load(js)
    assert loaded.name == "t"
    assert loaded.colliding_bx.tolist() == [0, 1, 3]
    saved = tmp_path / "saved.json"
    FillingScheme.default().save(saved)
    np.testing.assert_array_equal(
        FillingScheme.load(saved).colliding, FillingScheme.default().colliding
    )


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("0 1\nx2\n", r"line 2: 'x2' is not a BX number"),
        ("0\n4000\n", r"line 2: BX 4000 >= 3564"),
        ("5\n3460\n", "abort gap"),
        ("1 1\n", "listed twice"),
        ('{"colliding_bx": [1, 2', "line 1: invalid JSON"),
        ('{"other": 1}', "needs a 'colliding_bx' or 'trains'"),
    ],
)
def test_load_errors_name_the_file(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "bad.txt"
    path.write_text(content)
    with pytest.raises(StreamError, match=rf"bad\.txt.*{message}"):
        FillingScheme.load(path)


def _placed(n_events: int, **kw: object) -> streams.EventBatch:
    source = synthetic.generate("background", n_events, seed=4, chunk_size=777)
    return streams.concat_batches(list(place(source, **kw)))  # type: ignore[arg-type]


def test_every_event_lands_once_in_order_on_colliding_bx() -> None:
    scheme = FillingScheme.default()
    events = streams.concat_batches(list(synthetic.generate("background", 6000, seed=4)))
    out = _placed(6000, scheme=scheme, chunk_bx=1000)
    assert len(out) % BX_PER_ORBIT == 0  # end="orbit": whole orbits
    filled = out.has_event
    np.testing.assert_array_equal(out.event_id[filled], np.arange(6000))
    assert out.colliding[filled].all()
    np.testing.assert_array_equal(out.bx, np.arange(len(out)) % BX_PER_ORBIT)
    np.testing.assert_array_equal(out.orbit, np.arange(len(out)) // BX_PER_ORBIT)
    np.testing.assert_array_equal(
        out.colliding, np.tile(scheme.colliding, len(out) // BX_PER_ORBIT)
    )
    # colliding BX are filled in order until the events run out
    colliding_slots = np.flatnonzero(out.colliding)
    np.testing.assert_array_equal(np.flatnonzero(filled), colliding_slots[:6000])
    # objects and MET travel with their event
    for name, coll in out.objects.items():
        np.testing.assert_array_equal(coll.counts()[filled], events.objects[name].counts())
        np.testing.assert_array_equal(coll.pt, events.objects[name].pt)
    np.testing.assert_array_equal(out.met_pt[filled], events.met_pt)


def test_empty_bx_carry_nothing() -> None:
    out = _placed(3000)
    empty = ~out.colliding
    assert (out.event_id[empty] == -1).all()
    assert not out.has_event[empty].any()
    assert (out.met_pt[empty] == 0).all()
    assert (out.true_interactions[empty] == 0).all()
    for coll in out.objects.values():
        assert (coll.counts()[empty] == 0).all()


def test_chunking_does_not_change_the_stream() -> None:
    a = _placed(9000, chunk_bx=997)
    b = _placed(9000, chunk_bx=100_000)
    np.testing.assert_array_equal(a.event_id, b.event_id)
    np.testing.assert_array_equal(a.objects["jet"].offsets, b.objects["jet"].offsets)


def test_end_event_stops_at_the_last_event_and_max_bx_stops_early() -> None:
    out = _placed(2761, end="event")
    assert out.event_id[-1] == 2760
    assert len(out) == BX_PER_ORBIT + int(FillingScheme.default().colliding_bx[0]) + 1
    short = _placed(5000, max_bx=100, first_orbit=7)
    assert len(short) == 100
    assert (short.orbit == 7).all()


def test_no_events_gives_no_records() -> None:
    assert list(place(synthetic.generate("background", 0))) == []


def test_placing_a_placed_stream_is_an_error() -> None:
    placed = list(place(synthetic.generate("background", 100)))
    with pytest.raises(StreamError, match="already placed on the bunch clock"):
        list(place(placed))
