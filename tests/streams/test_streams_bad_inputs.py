"""Malformed inputs get one StreamError naming the file and the field, never another exception."""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import streams
from streams import StreamError


def _read(path: Path, **kwargs: str) -> None:
    for _ in streams.open(path, **kwargs):
        pass


@pytest.mark.parametrize(
    ("event_id", "message"),
    [
        (
            "99999999999999999999",
            r"line 1: field 1 \(event ID\): 99999999999999999999 does not fit",
        ),
        ("²", r"line 1: field 1 \(event ID\): '²' is not an integer"),
        ("12a", r"line 1: field 1 \(event ID\): '12a' is not an integer"),
    ],
)
def test_darkmachines_event_ids(tmp_path: Path, event_id: str, message: str) -> None:
    path = tmp_path / "events.csv"
    path.write_text(f"{event_id};1;0;100;0;j,10,1,0,0;\n", encoding="utf-8")
    with pytest.raises(StreamError, match=rf"events\.csv: {message}"):
        _read(path, format="darkmachines")


def test_darkmachines_signed_ids_read_exactly(tmp_path: Path) -> None:
    path = tmp_path / "events.csv"
    path.write_text("-9223372036854775808;1;0;100;0;\n9223372036854775807;1;0;100;0;\n")
    (batch,) = list(streams.open(path, format="darkmachines"))
    assert batch.event_id.tolist() == [-(2**63), 2**63 - 1]


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda f: f.create_group("Particles"), r"'Particles' is a group, not a dataset"),
        (
            lambda f: f.create_dataset("Particles", data=np.full((3, 19, 4), b"a")),
            r"'Particles' has dtype kind 'S'",
        ),
        (
            lambda f: f.create_dataset("Particles", data=np.ones((3, 19, 4), np.complex64)),
            r"'Particles' has dtype kind 'c'",
        ),
    ],
)
def test_hdf5_wrong_kinds(tmp_path: Path, make: object, message: str) -> None:
    path = tmp_path / "bad.h5"
    with h5py.File(path, "w") as handle:
        make(handle)  # type: ignore[operator]
    with pytest.raises(StreamError, match=rf"bad\.h5: wrong schema: {message}"):
        _read(path)


def test_parquet_duplicate_column(tmp_path: Path) -> None:
    path = tmp_path / "dup.parquet"
    columns = [pa.array([1, 2]), pa.array([1.0, 2.0]), pa.array([0.0, 0.0]), pa.array([0.0, 0.0])]
    pq.write_table(pa.table(columns, names=["event_id", "met_pt", "met_phi", "met_pt"]), path)
    with pytest.raises(
        StreamError, match=r"dup\.parquet: wrong schema: duplicate column\(s\) \['met_pt'\]"
    ):
        _read(path)


@pytest.mark.parametrize(
    ("column", "values", "message"),
    [
        (
            "jet_pt",
            pa.array([["a"], ["b"]]),
            r"column 'jet_pt' has type list<.*string>, expected a list of numbers",
        ),
        ("met_pt", pa.array(["1", "2"]), r"column 'met_pt' of type string is not float32"),
    ],
)
def test_parquet_non_numeric_columns(
    tmp_path: Path, column: str, values: pa.Array, message: str
) -> None:
    data = {
        "event_id": pa.array([1, 2]),
        "met_pt": pa.array([1.0, 2.0]),
        "met_phi": pa.array([0.0, 0.0]),
        "jet_pt": pa.array([[10.0], [20.0]]),
        "jet_eta": pa.array([[0.0], [0.0]]),
        "jet_phi": pa.array([[0.0], [0.0]]),
    }
    data[column] = values
    path = tmp_path / "bad.parquet"
    pq.write_table(pa.table(data), path)
    with pytest.raises(StreamError, match=rf"bad\.parquet: {message}"):
        _read(path)
