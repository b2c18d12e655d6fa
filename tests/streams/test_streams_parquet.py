"""Parquet / Arrow: our schema round-trips exactly; bad files give clear errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import streams
from streams import StreamError, synthetic
from streams.timeline import place

FIELDS = (
    "orbit",
    "bx",
    "colliding",
    "event_id",
    "true_interactions",
    "n_vertices",
    "met_pt",
    "met_phi",
)


def _assert_same(a: streams.EventBatch, b: streams.EventBatch) -> None:
    for name in FIELDS:
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)
    assert set(a.objects) == set(b.objects)
    for name, coll in a.objects.items():
        other = b.objects[name]
        for attr in ("offsets", "pt", "eta", "phi", "quality"):
            np.testing.assert_array_equal(
                getattr(coll, attr), getattr(other, attr), err_msg=f"{name}.{attr}"
            )


@pytest.mark.parametrize(
    ("writer", "suffix"), [(streams.write_parquet, ".parquet"), (streams.write_arrow, ".arrow")]
)
def test_round_trip_is_exact(tmp_path: Path, writer: object, suffix: str) -> None:
    source = synthetic.generate("A_4l", 25_000, seed=8, chunk_size=10_000)
    path = tmp_path / f"events{suffix}"
    assert writer(source, path) == 25_000  # type: ignore[operator]
    back = streams.open(path, chunk_size=7_000)
    assert back.n_events == 25_000
    assert back.format == suffix[1:]
    batches = list(back)
    assert [len(b) for b in batches] == [7000, 7000, 7000, 4000]
    _assert_same(streams.concat_batches(list(source)), streams.concat_batches(batches))


def test_placed_stream_round_trips_with_its_clock(tmp_path: Path) -> None:
    placed = list(place(synthetic.generate("background", 5000, seed=1), chunk_bx=4000))
    path = tmp_path / "bx.parquet"
    streams.write_parquet(placed, path)
    _assert_same(streams.concat_batches(placed), streams.concat_batches(list(streams.open(path))))


def test_schema_is_documented_in_the_file(tmp_path: Path) -> None:
    path = tmp_path / "e.parquet"
    streams.write_parquet(synthetic.generate("background", 10), path)
    schema = pq.read_schema(path)
    assert schema.metadata[b"l1sim.schema"] == b"l1sim-events/1"
    assert {"event_id", "met_pt", "jet_pt", "muon_eta", "egamma_phi", "tau_quality"} <= set(
        schema.names
    )
    assert schema.field("jet_pt").type == pa.list_(pa.float32())


def test_foreign_parquet_with_unsorted_objects_is_sorted_on_read(tmp_path: Path) -> None:
    table = pa.table(
        {
            "event_id": pa.array([5, 6], pa.int64()),
            "met_pt": pa.array([1.0, 2.0], pa.float32()),
            "met_phi": pa.array([0.0, 0.0], pa.float32()),
            "jet_pt": pa.array([[10.0, 30.0, 20.0], []], pa.list_(pa.float32())),
            "jet_eta": pa.array([[1.0, 3.0, 2.0], []], pa.list_(pa.float32())),
        }
    )
    path = tmp_path / "foreign.parquet"
    pq.write_table(table, path)
    batch = next(iter(streams.open(path)))
    np.testing.assert_array_equal(batch.objects["jet"].pt, np.float32([30, 20, 10]))
    np.testing.assert_array_equal(batch.objects["jet"].eta, np.float32([3, 2, 1]))
    assert np.isnan(batch.true_interactions).all()
    assert (batch.objects["muon"].counts() == 0).all()


def _table(**overrides: pa.Array) -> pa.Table:
    columns = {
        "event_id": pa.array([0, 1, 2], pa.int64()),
        "met_pt": pa.array([1.0, 2.0, 3.0], pa.float32()),
        "met_phi": pa.array([0.0, 0.0, 0.0], pa.float32()),
        "muon_pt": pa.array([[5.0], [], [7.0, 6.0]], pa.list_(pa.float32())),
    }
    columns.update(overrides)
    return pa.table(columns)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (
            {"muon_pt": pa.array([[5.0], [], [7.0, float("nan")]], pa.list_(pa.float32()))},
            "row 2: muon pt",
        ),
        (
            {"muon_pt": pa.array([[5.0], [-1.0], []], pa.list_(pa.float32()))},
            "row 1: muon pt = -1.0",
        ),
        (
            {"muon_pt": pa.array([[5.0], [], [float("inf")]], pa.list_(pa.float32()))},
            "row 2: muon pt = inf",
        ),
        ({"met_pt": pa.array([1.0, float("nan"), 3.0], pa.float32())}, "row 1: met_pt"),
        (
            {"muon_pt": pa.array([[5.0], None, []], pa.list_(pa.float32()))},
            "row 1: column 'muon_pt' is null",
        ),
        (
            {"muon_eta": pa.array([[5.0], [1.0], [1.0, 2.0]], pa.list_(pa.float32()))},
            "row 1: muon_eta and muon_pt",
        ),
        ({"muon_pt": pa.array([1.0, 2.0, 3.0], pa.float32())}, "expected a list"),
    ],
)
def test_bad_values_name_file_and_row(
    tmp_path: Path, overrides: dict[str, pa.Array], message: str
) -> None:
    path = tmp_path / "bad.parquet"
    pq.write_table(_table(**overrides), path)
    with pytest.raises(StreamError, match=rf"bad\.parquet.*{message}"):
        list(streams.open(path))


def test_wrong_schema_is_rejected_on_open(tmp_path: Path) -> None:
    path = tmp_path / "other.parquet"
    pq.write_table(pa.table({"x": [1, 2]}), path)
    with pytest.raises(
        StreamError, match=r"other\.parquet: wrong schema: missing column\(s\) \['event_id'"
    ):
        streams.open(path)


def test_truncated_parquet_is_rejected(tmp_path: Path) -> None:
    good = tmp_path / "good.parquet"
    streams.write_parquet(synthetic.generate("background", 2000), good)
    data = good.read_bytes()
    cut = tmp_path / "cut.parquet"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(StreamError, match=r"cut\.parquet: not a readable Parquet file"):
        streams.open(cut)
    corrupt = tmp_path / "corrupt.parquet"
    corrupt.write_bytes(data[:4] + bytes(len(data) - 12) + data[-8:])
    with pytest.raises(StreamError, match=r"corrupt\.parquet"):
        list(streams.open(corrupt))


def test_truncated_arrow_is_rejected(tmp_path: Path) -> None:
    good = tmp_path / "good.arrow"
    streams.write_arrow(synthetic.generate("background", 2000), good)
    cut = tmp_path / "cut.arrow"
    cut.write_bytes(good.read_bytes()[:300])
    with pytest.raises(StreamError, match=r"cut\.arrow: not a readable Arrow IPC file"):
        streams.open(cut)


def test_writer_leaves_nothing_behind_on_error(tmp_path: Path) -> None:
    def failing() -> object:
        yield from synthetic.generate("background", 1000, chunk_size=500)
        raise RuntimeError("source broke")

    path = tmp_path / "out.parquet"
    with pytest.raises(RuntimeError, match="source broke"):
        streams.write_parquet(failing(), path)  # type: ignore[arg-type]
    assert list(tmp_path.iterdir()) == []


def test_writer_replaces_an_existing_file_atomically(tmp_path: Path) -> None:
    path = tmp_path / "out.parquet"
    streams.write_parquet(synthetic.generate("background", 10), path)
    streams.write_parquet(synthetic.generate("background", 20), path)
    assert streams.open(path).n_events == 20
    assert [p.name for p in tmp_path.iterdir()] == ["out.parquet"]
