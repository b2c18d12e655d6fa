"""Charge and isolation beside pT, η, φ and quality: read where a format has them,
unknown (charge 0, isolation -1) where it has not, kept through sorting, slicing,
placement and the Parquet round trip."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import streams
from streams import CHARGE_UNKNOWN, ISOLATION_UNKNOWN, EventBatch, Objects, StreamError
from streams.timeline import FillingScheme, place

REFERENCE = Path(__file__).parents[2].parent / "shared" / "reference" / "events"


def _objects() -> Objects:
    return Objects.from_counts(
        [2, 1],
        pt=[5.0, 9.0, 3.0],
        eta=[0.1, 0.2, 0.3],
        phi=[0.0, 1.0, 2.0],
        charge=[1, -1, -1],
        isolation=[3, 0, 2],
    )


def test_defaults_are_unknown() -> None:
    objects = Objects.from_counts([1, 2], [1.0, 2.0, 3.0], [0.0] * 3, [0.0] * 3)
    assert objects.charge.tolist() == [CHARGE_UNKNOWN] * 3
    assert objects.isolation.tolist() == [ISOLATION_UNKNOWN] * 3
    assert not objects.has_charge
    assert not objects.has_isolation
    positional = Objects(objects.offsets, objects.pt, objects.eta, objects.phi, objects.quality)
    assert positional.isolation.tolist() == [-1, -1, -1]


def test_sorting_slicing_and_concat_keep_charge_and_isolation() -> None:
    objects = _objects()
    # record 0 sorted by pT: the 9 GeV object (charge -1, iso 0) first
    assert objects.pt.tolist() == [9.0, 5.0, 3.0]
    assert objects.charge.tolist() == [-1, 1, -1]
    assert objects.isolation.tolist() == [0, 3, 2]
    assert objects.slice(1, 2).charge.tolist() == [-1]
    assert objects.take(np.array([1, 0])).isolation.tolist() == [2, 0, 3]
    both = Objects.concat([objects, objects])
    assert both.charge.tolist() == [-1, 1, -1] * 2
    with pytest.raises(ValueError, match="charge has 1 values"):
        Objects(objects.offsets, objects.pt, objects.eta, objects.phi, objects.quality,
                np.zeros(1, np.int8))  # fmt: skip


def test_timeline_placement_keeps_charge_and_isolation() -> None:
    batch = EventBatch.from_events([1, 2], [0, 0], [0, 0], {"muon": _objects()})
    scheme = FillingScheme.from_bx_list([0, 1, 2])
    placed = streams.concat_batches(list(place([batch], scheme)))
    muon = placed.objects["muon"]
    assert muon.charge.tolist() == [-1, 1, -1]
    assert muon.isolation.tolist() == [0, 3, 2]


def test_parquet_round_trip_and_missing_columns(tmp_path: Path) -> None:
    batch = EventBatch.from_events([1, 2], [0, 0], [0, 0], {"egamma": _objects()})
    path = tmp_path / "events.parquet"
    streams.write_parquet([batch], path)
    back = next(iter(streams.open(path)))
    assert back.objects["egamma"].charge.tolist() == [-1, 1, -1]
    assert back.objects["egamma"].isolation.tolist() == [0, 3, 2]
    # a file without the new columns reads as unknown
    table = pq.read_table(path).drop(["egamma_charge", "egamma_isolation"])
    old = tmp_path / "old.parquet"
    pq.write_table(table, old)
    back = next(iter(streams.open(old)))
    assert back.objects["egamma"].charge.tolist() == [0, 0, 0]
    assert back.objects["egamma"].isolation.tolist() == [-1, -1, -1]


def test_parquet_rejects_impossible_charge(tmp_path: Path) -> None:
    batch = EventBatch.from_events([1, 2], [0, 0], [0, 0], {"muon": _objects()})
    path = tmp_path / "events.parquet"
    streams.write_parquet([batch], path)
    table = pq.read_table(path)
    index = table.schema.get_field_index("muon_charge")
    bad = pa.array([[2, 1], [-1]], pa.list_(pa.int8()))
    pq.write_table(table.set_column(index, "muon_charge", bad), path)
    with pytest.raises(StreamError, match=r"row 0: muon_charge = 2"):
        next(iter(streams.open(path)))


def test_darkmachines_charges_from_codes(tmp_path: Path) -> None:
    path = tmp_path / "dm.csv"
    path.write_text(
        "1;p;1;1000;0.1;m-,50000,40000,0.1,0.2;m+,30000,20000,0.3,0.4;"
        "j,90000,80000,0.5,0.6;e+,10000,9000,0.0,0.0;\n",
        encoding="utf-8",
    )
    batch = next(iter(streams.open(path)))
    assert batch.objects["muon"].charge.tolist() == [-1, 1]
    assert batch.objects["egamma"].charge.tolist() == [1]
    assert batch.objects["jet"].charge.tolist() == [0]
    assert batch.objects["muon"].isolation.tolist() == [-1, -1]


@pytest.mark.skipif(not REFERENCE.is_dir(), reason="reference events not available")
@pytest.mark.parametrize(
    ("name", "collection", "branch"),
    [
        ("nanoAOD_2015_CMS_Open_Data_ttbar.root", "muon", "Muon_charge"),
        ("nanoAOD_2015_CMS_Open_Data_ttbar.root", "egamma", "Electron_charge"),
        ("uproot-HZZ.root", "muon", "Muon_Charge"),
        ("uproot-HZZ.root", "egamma", "Electron_Charge"),
    ],
)
def test_root_charges_equal_the_branch(name: str, collection: str, branch: str) -> None:
    uproot = pytest.importorskip("uproot")
    awkward = pytest.importorskip("awkward")
    path = REFERENCE / name
    batch = streams.concat_batches(list(streams.open(path)))
    with uproot.open(path) as fh:
        tree = fh["Events"] if "Events" in fh else fh["events"]
        raw = tree.arrays([branch], library="ak")[branch]
    objects = batch.objects[collection]
    assert objects.has_charge
    assert not objects.has_isolation
    # per event, the multiset of charges is the branch's (objects are re-sorted by pT)
    counts = np.asarray(awkward.num(raw, axis=1))
    np.testing.assert_array_equal(objects.counts(), counts)
    expected = np.asarray(awkward.sum(raw, axis=1))
    event = np.repeat(np.arange(counts.shape[0]), counts)
    got = np.bincount(event, weights=objects.charge, minlength=counts.shape[0])
    np.testing.assert_array_equal(got, expected)


@pytest.mark.skipif(not REFERENCE.is_dir(), reason="reference events not available")
def test_dimuon_charges() -> None:
    pytest.importorskip("uproot")
    batch = next(iter(streams.open(REFERENCE / "uproot-Zmumu.root")))
    assert set(np.unique(batch.objects["muon"].charge).tolist()) <= {-1, 1}
