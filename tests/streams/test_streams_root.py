"""ROOT through uproot on the real reference files, and damaged ROOT files."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

import streams
from streams import StreamError

uproot = pytest.importorskip("uproot")
ak = pytest.importorskip("awkward")

NANO = ("events", "nanoAOD_2015_CMS_Open_Data_ttbar.root")
TUTORIAL = ["uproot-HZZ.root", "qcd.root", "single_top.root", "ww.root", "wz.root"]


def _sorted_flat(pt: object, *others: object) -> list[np.ndarray]:
    """Flatten jagged branches after ordering every event by decreasing pT (stable)."""
    order = ak.argsort(pt, axis=1, ascending=False, stable=True)
    return [ak.to_numpy(ak.flatten(a[order])) for a in (pt, *others)]


def test_nanoaod_objects_met_and_pileup(reference_file: Callable[..., Path]) -> None:
    path = reference_file(*NANO)
    source = streams.open(path, chunk_size=64)
    assert source.describe()["flavour"] == "nanoaod"
    assert source.n_events == 200
    batch = streams.concat_batches(list(source))
    tree = uproot.open(path)["Events"]
    np.testing.assert_array_equal(
        batch.event_id, tree["event"].array(library="np").astype(np.int64)
    )
    np.testing.assert_array_equal(batch.met_pt, tree["MET_pt"].array(library="np"))
    np.testing.assert_array_equal(batch.met_phi, tree["MET_phi"].array(library="np"))
    np.testing.assert_array_equal(
        batch.true_interactions, tree["Pileup_nTrueInt"].array(library="np")
    )
    np.testing.assert_array_equal(batch.n_vertices, tree["PV_npvs"].array(library="np"))
    for collection, prefix in (
        ("muon", "Muon"),
        ("egamma", "Electron"),
        ("tau", "Tau"),
        ("jet", "Jet"),
    ):
        arrays = tree.arrays([f"{prefix}_pt", f"{prefix}_eta", f"{prefix}_phi"])
        pt, eta, phi = _sorted_flat(
            arrays[f"{prefix}_pt"], arrays[f"{prefix}_eta"], arrays[f"{prefix}_phi"]
        )
        coll = batch.objects[collection]
        np.testing.assert_array_equal(coll.counts(), ak.to_numpy(ak.num(arrays[f"{prefix}_pt"])))
        np.testing.assert_array_equal(coll.pt, pt)
        np.testing.assert_array_equal(coll.eta, eta)
        np.testing.assert_array_equal(coll.phi, phi)


@pytest.mark.parametrize("name", TUTORIAL)
def test_tutorial_trees_from_four_vectors(reference_file: Callable[..., Path], name: str) -> None:
    path = reference_file("events", name)
    source = streams.open(path, chunk_size=1000)
    assert source.describe()["flavour"] == "tutorial"
    batch = streams.concat_batches(list(source))
    tree = uproot.open(path)["events"]
    assert len(batch) == tree.num_entries
    np.testing.assert_array_equal(batch.n_vertices, tree["NPrimaryVertices"].array(library="np"))
    assert np.isnan(batch.true_interactions).all()
    mx = tree["MET_px"].array(library="np").astype(np.float64)
    my = tree["MET_py"].array(library="np").astype(np.float64)
    np.testing.assert_allclose(batch.met_pt, np.hypot(mx, my), rtol=1e-6)
    for collection, prefix in (("muon", "Muon"), ("jet", "Jet"), ("egamma", "Electron")):
        arrays = tree.arrays([f"{prefix}_Px", f"{prefix}_Py", f"{prefix}_Pz"])
        coll = batch.objects[collection]
        np.testing.assert_array_equal(coll.counts(), ak.to_numpy(ak.num(arrays[f"{prefix}_Px"])))
        # invert the conversion: pT·cos φ = px, pT·sin φ = py, pT·sinh η = pz (order-free sums per event)
        for component, value in (
            ("Px", coll.pt.astype(np.float64) * np.cos(coll.phi)),
            ("Py", coll.pt.astype(np.float64) * np.sin(coll.phi)),
            ("Pz", coll.pt.astype(np.float64) * np.sinh(coll.eta)),
        ):
            expected = ak.to_numpy(ak.sum(arrays[f"{prefix}_{component}"], axis=1))
            got = np.add.reduceat(np.append(value, 0), coll.offsets[:-1]) * (coll.counts() > 0)
            np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-2)
        seg = np.repeat(np.arange(len(batch)), coll.counts())
        same = seg[1:] == seg[:-1]
        assert (coll.pt[1:][same] <= coll.pt[:-1][same]).all()


def test_flat_dimuon_tree(reference_file: Callable[..., Path]) -> None:
    path = reference_file("events", "uproot-Zmumu.root")
    batch = streams.concat_batches(list(streams.open(path)))
    tree = uproot.open(path)["events"]
    pts = np.stack(
        [tree["pt1"].array(library="np"), tree["pt2"].array(library="np")], axis=1
    ).astype(np.float32)
    np.testing.assert_array_equal(batch.objects["muon"].pt.reshape(-1, 2), -np.sort(-pts, axis=1))
    np.testing.assert_array_equal(batch.event_id, tree["Event"].array(library="np"))


def test_photons_join_egamma_on_request(reference_file: Callable[..., Path]) -> None:
    path = reference_file("events", "uproot-HZZ.root")
    plain = streams.concat_batches(list(streams.open(path)))
    merged = streams.concat_batches(list(streams.open(path, photons=True)))
    n_photons = ak.to_numpy(ak.num(uproot.open(path)["events"]["Photon_Px"].array()))
    np.testing.assert_array_equal(
        merged.objects["egamma"].counts(), plain.objects["egamma"].counts() + n_photons
    )


def test_truncated_root_file(reference_file: Callable[..., Path], tmp_path: Path) -> None:
    data = reference_file("events", "uproot-HZZ.root").read_bytes()
    cut = tmp_path / "cut.root"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(
        StreamError, match=r"cut\.root: (not a readable ROOT file|corrupt or truncated)"
    ):
        list(streams.open(cut))


def test_corrupt_root_baskets(reference_file: Callable[..., Path], tmp_path: Path) -> None:
    data = bytearray(reference_file(*NANO).read_bytes())
    middle = len(data) // 2
    data[middle : middle + 20_000] = bytes(20_000)
    bad = tmp_path / "zeroed.root"
    bad.write_bytes(bytes(data))
    with pytest.raises(
        StreamError,
        match=r"zeroed\.root: (not a readable ROOT file|corrupt or truncated ROOT data in tree 'Events')",
    ):
        list(streams.open(bad))


def test_not_root_and_wrong_tree(reference_file: Callable[..., Path], tmp_path: Path) -> None:
    junk = tmp_path / "junk.root"
    junk.write_bytes(b"root" + bytes(100))
    with pytest.raises(StreamError, match=r"junk\.root: (not a readable ROOT file|no event tree)"):
        streams.open(junk)
    with pytest.raises(StreamError, match=r"no event tree 'nope'"):
        streams.open(reference_file(*NANO), tree="nope")
