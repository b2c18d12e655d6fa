"""Rates on the real CMS 2012 tutorial files, replayed through ``streams.open``.

The expected counts are computed in the test straight from the raw uproot
columns (Muon_Px/Py/Pz, Jet_Px/Py/Pz): pT = hypot(px, py) as float32 (the stream
contract), quantized to the pT type ap_ufixed<14,12,AP_TRN,AP_SAT> by floor(4·pT)
with saturation, η = asinh(pz / pT) rounded to π/720 counts.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from emulator import run
from emulator.analysis import rate, seed_rates
from emulator.menu import Menu, Seed, SeedKind
from emulator.replay import concat_decisions

REFERENCE = Path(__file__).resolve().parents[3] / ".." / "shared" / "reference" / "events"
FILES = ["uproot-HZZ.root", "ww.root", "single_top.root"]


def _raw_columns(path: Path, prefix: str) -> tuple[list[np.ndarray], list[np.ndarray]]:
    uproot = pytest.importorskip("uproot")
    with uproot.open(path) as file:
        tree = file["events"]
        arrays = tree.arrays([f"{prefix}_Px", f"{prefix}_Py", f"{prefix}_Pz"], library="np")
    pts, etas = [], []
    for px, py, pz in zip(
        arrays[f"{prefix}_Px"], arrays[f"{prefix}_Py"], arrays[f"{prefix}_Pz"], strict=True
    ):
        pt = np.hypot(px.astype(np.float64), py.astype(np.float64))
        pts.append(np.minimum(np.floor(pt.astype(np.float32).astype(np.float64) * 4), 16383))
        eta = np.arcsinh(pz / np.where(pt > 0, pt, 1.0)).astype(np.float32).astype(np.float64)
        etas.append(np.sign(eta) * np.floor(np.abs(eta) / (math.pi / 720) + 0.5))
    return pts, etas


def _nth_passing(
    pts: list[np.ndarray], etas: list[np.ndarray], n: int, eta_max: float
) -> np.ndarray:
    limit = math.floor(eta_max / (math.pi / 720))
    out = np.full(len(pts), -1, np.int64)
    for i, (pt, eta) in enumerate(zip(pts, etas, strict=True)):
        passing = np.sort(pt[np.abs(eta) <= limit])[::-1]
        if passing.size >= n:
            out[i] = int(passing[n - 1])
    return out


@pytest.mark.parametrize("name", FILES)
def test_muon_and_jet_rates_match_raw_columns(name: str) -> None:
    path = REFERENCE / name
    if not path.is_file():
        pytest.skip(f"reference file {path} is absent")
    streams = pytest.importorskip("streams")

    def seed(label: str, collection: str, pts: tuple[float, ...], eta_max: float) -> Seed:
        return Seed(
            name=label,
            kind=SeedKind.OBJECTS,
            collections=(collection,),
            pt_thresholds=pts,
            eta_max=eta_max,
        )

    seeds = (
        seed("Mu10", "muon", (10.0,), 5.0),
        seed("Mu24er2p1", "muon", (24.0,), 2.1),
        seed("Mu40", "muon", (40.0,), 5.0),
        seed("DoubleMu_20_10", "muon", (20.0, 10.0), 2.4),
        seed("Jet60", "jet", (60.0,), 2.4),
    )
    menu = Menu(name="reference", seeds=seeds, rules=())
    decisions = concat_decisions(run(streams.open(path, chunk_size=1000), menu))

    muon_pt, muon_eta = _raw_columns(path, "Muon")
    jet_pt, jet_eta = _raw_columns(path, "Jet")
    n_events = len(muon_pt)
    assert len(decisions) == n_events
    lead_mu = _nth_passing(muon_pt, muon_eta, 1, 5.0)
    lead_mu21 = _nth_passing(muon_pt, muon_eta, 1, 2.1)
    expected = {
        "Mu10": int((lead_mu >= 40).sum()),
        "Mu24er2p1": int((lead_mu21 >= 96).sum()),
        "Mu40": int((lead_mu >= 160).sum()),
        # double muon: leading >= 20 GeV and second >= 10 GeV, both |η| <= 2.4
        "DoubleMu_20_10": int(
            (
                (_nth_passing(muon_pt, muon_eta, 1, 2.4) >= 80)
                & (_nth_passing(muon_pt, muon_eta, 2, 2.4) >= 40)
            ).sum()
        ),
        "Jet60": int((_nth_passing(jet_pt, jet_eta, 1, 2.4) >= 240).sum()),
    }
    rates = seed_rates(
        decisions.seed_names, decisions.fired, decisions.prescaled,
        np.zeros(len(seeds), bool), decisions.colliding,
    )  # fmt: skip
    for label, count in expected.items():
        assert 0 < count < n_events, f"{label}: a reference cut that tests nothing"
        got = rates["seeds"][label]["unprescaled"]
        assert got["n_accepted"] == count, label
        assert got["rate_hz"] == pytest.approx(rate(count, n_events)["rate_hz"], rel=1e-12)
    # the raw leading-muon pT itself is bit-identical, not just the counts
    np.testing.assert_array_equal(decisions.scores[:, 0], lead_mu)


def test_rate_in_bins_of_vertices_matches_raw_columns() -> None:
    """Single-muon rate in bins of NPrimaryVertices (uproot-HZZ.root), counted by hand."""
    path = REFERENCE / "uproot-HZZ.root"
    if not path.is_file():
        pytest.skip(f"reference file {path} is absent")
    uproot = pytest.importorskip("uproot")
    streams = pytest.importorskip("streams")
    from emulator.analysis import rate_vs_pileup, summarize

    menu = Menu(
        name="pileup",
        seeds=(
            Seed(name="Mu30", kind=SeedKind.OBJECTS, collections=("muon",), pt_thresholds=(30.0,)),
        ),
        rules=(),
    )
    decisions = concat_decisions(run(streams.open(path, chunk_size=500), menu))
    with uproot.open(path) as file:
        vertices = file["events"]["NPrimaryVertices"].array(library="np").astype(np.float64)
    muon_pt, muon_eta = _raw_columns(path, "Muon")
    fired = _nth_passing(muon_pt, muon_eta, 1, 99.0) >= 120
    edges = [0, 5, 10, 15, 20, 60]
    binned = rate_vs_pileup(decisions.final_or, decisions.colliding, decisions.n_vertices, edges)
    index = np.digitize(vertices, edges) - 1
    expected_bx = [int((index == k).sum()) for k in range(5)]
    expected_acc = [int(((index == k) & fired).sum()) for k in range(5)]
    assert binned["n_bx"] == [n for n in expected_bx if n]
    assert binned["n_accepted"] == [a for a, n in zip(expected_acc, expected_bx, strict=True) if n]
    summary = summarize(decisions, pileup_bins=5, occupancy=False)
    assert summary["pileup"]["variable"] == "n_vertices"
    assert "fit" in summary["pileup"]


def test_nanoaod_rates_and_pileup_match_raw_columns() -> None:
    """CMS Open Data NanoAOD (ttbar): Muon_pt / Jet_pt branches and Pileup_nTrueInt."""
    path = REFERENCE / "nanoAOD_2015_CMS_Open_Data_ttbar.root"
    if not path.is_file():
        pytest.skip(f"reference file {path} is absent")
    uproot = pytest.importorskip("uproot")
    streams = pytest.importorskip("streams")

    menu = Menu(
        name="nano",
        seeds=(
            Seed(name="Mu5", kind=SeedKind.OBJECTS, collections=("muon",), pt_thresholds=(5.0,)),
            Seed(name="Jet50er2p4", kind=SeedKind.OBJECTS, collections=("jet",), pt_thresholds=(50.0,), eta_max=2.4),
        ),
        rules=(),
    )  # fmt: skip
    decisions = concat_decisions(run(streams.open(path, chunk_size=64), menu))
    with uproot.open(path) as file:
        raw = file["Events"].arrays(
            ["Muon_pt", "Jet_pt", "Jet_eta", "Pileup_nTrueInt"], library="np"
        )
    lsb = math.pi / 720
    expected_mu = [
        bool(pt.size and np.floor(pt.astype(np.float64) * 4).max() >= 20) for pt in raw["Muon_pt"]
    ]
    expected_jet = []
    for pt, eta in zip(raw["Jet_pt"], raw["Jet_eta"], strict=True):
        counts = np.sign(eta) * np.floor(np.abs(eta.astype(np.float64)) / lsb + 0.5)
        central = np.floor(pt.astype(np.float64) * 4)[np.abs(counts) <= math.floor(2.4 / lsb)]
        expected_jet.append(bool(central.size and central.max() >= 200))
    assert 0 < sum(expected_mu) < len(expected_mu)
    assert 0 < sum(expected_jet) < len(expected_jet)
    assert decisions.fired[:, 0].tolist() == expected_mu
    assert decisions.fired[:, 1].tolist() == expected_jet
    np.testing.assert_array_equal(
        decisions.true_interactions, raw["Pileup_nTrueInt"].astype(np.float32)
    )
