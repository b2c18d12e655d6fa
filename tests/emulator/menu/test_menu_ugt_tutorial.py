"""The 2016 uGT menu on the CMS tutorial ROOT files: imported single-object, multi-object
and cross seeds fire on the events that an independent computation from the raw uproot
columns selects, with the same cuts on the 2016 grid (0.5 GeV, η step 0.010875).

The independent side starts from the file's branches (Px, Py, Pz of the HZZ tutorial
tree; pt1, eta1, … of the di-muon tree), takes the objects' pT and η as the event
streams carry them (float32), keeps the hardware slots (12 e/γ and jets, 8 muons, the
highest raw pT first) and applies each seed's cuts with plain numpy, legs matched by
sorting (legs of one condition share their η cut here, so the k-th leg takes the k-th
highest passing object)."""

# ruff: noqa: RUF002

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import streams
from emulator.menu import Menu, from_uGT_xml
from emulator.seeds import SeedEvaluator

REFERENCE = Path(__file__).parents[3].parent / "shared" / "reference"
XML = REFERENCE / "menus" / "L1Menu_Collisions2016_v2c.xml"
HZZ = REFERENCE / "events" / "uproot-HZZ.root"
ZMUMU = REFERENCE / "events" / "uproot-Zmumu.root"
ETA_LSB = 0.010875
SLOTS = {"egamma": 12, "jet": 12, "muon": 8}
SUM_MAX = 8191  # ap_ufixed<13,12>: the largest raw HT / MET

pytestmark = pytest.mark.skipif(
    not (XML.is_file() and HZZ.is_file() and ZMUMU.is_file()), reason="reference files absent"
)


def _fired(menu: Menu, path: Path) -> dict[str, np.ndarray]:
    batch = streams.concat_batches(list(streams.open(path)))
    scores = SeedEvaluator(menu).scores(batch)
    return {s.name: scores[:, k] >= s.threshold_raw for k, s in enumerate(menu.seeds)}


def _pt_raw(pt: np.ndarray) -> np.ndarray:
    return np.minimum(np.floor(np.asarray(pt, np.float32).astype(np.float64) * 2), 4095)


def _eta_raw(eta: np.ndarray) -> np.ndarray:
    x = np.asarray(eta, np.float32).astype(np.float64) / ETA_LSB
    return np.clip(np.sign(x) * np.floor(np.abs(x) + 0.5), -512, 511)


def _window(lo: float, hi: float) -> tuple[int, int]:
    return math.ceil(round(lo / ETA_LSB, 9)), math.floor(round(hi / ETA_LSB, 9))


CENTRAL = [_window(-3.0015, 3.0015)]
FORWARD = [_window(-5.0, -3.0015), _window(3.0015, 5.0)]
EG_2P13 = [_window(-2.1315, 2.1315)]
HT_ETA = math.floor(round(2.4 / ETA_LSB, 9))


def _slots(pt: np.ndarray, eta: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    raw = _pt_raw(pt)
    keep = np.argsort(-raw, kind="stable")[:n]
    return raw[keep], _eta_raw(eta)[keep]


def _legs(pt: np.ndarray, eta: np.ndarray, thresholds: list[float], windows: Any) -> bool:
    """k-th highest pT among objects inside ``windows`` (None: anywhere) >= k-th threshold."""
    inside = np.ones(pt.shape, bool) if windows is None else np.zeros(pt.shape, bool)
    for lo, hi in windows or []:
        inside |= (eta >= lo) & (eta <= hi)
    passing = np.sort(pt[inside])[::-1]
    if passing.size < len(thresholds):
        return False
    return all(passing[k] >= 2 * t for k, t in enumerate(thresholds))


def _hzz_objects(raw: dict[str, Any], prefix: str, i: int) -> tuple[np.ndarray, np.ndarray]:
    px, py, pz = (np.asarray(raw[f"{prefix}_{c}"][i], np.float64) for c in ("Px", "Py", "Pz"))
    pt = np.hypot(px, py)
    eta = np.arcsinh(pz / np.where(pt > 0, pt, 1.0))
    return pt, eta


def _hzz_expected() -> dict[str, np.ndarray]:
    uproot = pytest.importorskip("uproot")
    branches = [f"{p}_{c}" for p in ("Electron", "Jet", "Muon") for c in ("Px", "Py", "Pz")]
    with uproot.open(HZZ) as fh:
        raw = fh["events"].arrays([*branches, "MET_px", "MET_py"], library="np")
    n = len(raw["MET_px"])
    names = ("EG24", "DEG15_10", "VBF84", "QJC40", "EG25er_HTT125", "DJC60_ETM60", "Cosmics")
    out = {k: np.zeros(n, bool) for k in names}
    for i in range(n):
        ept, eeta = _slots(*_hzz_objects(raw, "Electron", i), SLOTS["egamma"])
        jpt, jeta = _slots(*_hzz_objects(raw, "Jet", i), SLOTS["jet"])
        mpt, _ = _slots(*_hzz_objects(raw, "Muon", i), SLOTS["muon"])
        ht = min(jpt[(jpt >= 60) & (np.abs(jeta) <= HT_ETA)].sum(), SUM_MAX)
        met = math.hypot(float(raw["MET_px"][i]), float(raw["MET_py"][i]))
        met_raw = min(_pt_raw(np.array([met]))[0], SUM_MAX)
        out["EG24"][i] = _legs(ept, eeta, [24], None)
        out["DEG15_10"][i] = _legs(ept, eeta, [15, 10], None)
        central = [
            (_legs(jpt, jeta, t, CENTRAL)) for t in ([84, 68, 48], [84, 68], [84, 48], [68, 48])
        ]
        forward = [_legs(jpt, jeta, [t], FORWARD) for t in (48, 68, 84)]
        out["VBF84"][i] = central[0] or any(
            c and f for c, f in zip(central[1:], forward, strict=True)
        )
        out["QJC40"][i] = _legs(jpt, jeta, [40] * 4, CENTRAL)
        out["EG25er_HTT125"][i] = _legs(ept, eeta, [25], EG_2P13) and ht >= 250
        out["DJC60_ETM60"][i] = _legs(jpt, jeta, [60, 60], CENTRAL) and met_raw >= 120
        out["Cosmics"][i] = mpt.size > 0
    return out


def test_2016_seeds_on_the_hzz_tutorial_file() -> None:
    fired = _fired(from_uGT_xml(XML).menu, HZZ)
    expected = _hzz_expected()
    pairs = {
        "L1_SingleEG24": "EG24",  # single object
        "L1_DoubleEG_15_10": "DEG15_10",  # two objects
        "L1_TripleJet_84_68_48_VBF": "VBF84",  # OR of ANDs, central and forward η windows
        "L1_QuadJetC40": "QJC40",  # four objects
        "L1_EG25er_HTT125": "EG25er_HTT125",  # cross: object AND energy sum
        "L1_DoubleJetC60_ETM60": "DJC60_ETM60",  # cross: two objects AND missing ET
        "L1_SingleMuCosmics": "Cosmics",
    }
    for seed, key in pairs.items():
        np.testing.assert_array_equal(fired[seed], expected[key], err_msg=seed)
        assert expected[key].any(), key  # every comparison has events that fire
        assert not expected[key].all() or key == "Cosmics", key


def test_2016_muon_seeds_on_the_dimuon_file() -> None:
    """Tutorial muons carry no quality word (0): the menu's quality sets fail on them, so
    the imported muon seeds fire only where they ask for no quality; a copy of the Δη seed
    without its quality sets checks the η window and Δη on the real muons."""
    uproot = pytest.importorskip("uproot")
    imported = from_uGT_xml(XML).menu
    seed = imported.seed("L1_DoubleMu0er1p6_dEta_Max1p8")
    (condition,) = seed.conditions
    legs = tuple(replace(leg, quality=None) for leg in condition.legs)
    no_quality = replace(seed, name="DoubleMu0er1p6_dEta_Max1p8_AnyQuality", conditions=(
        replace(condition, legs=legs),
    ))  # fmt: skip
    menu = replace(imported, seeds=(*imported.seeds, no_quality))
    fired = _fired(menu, ZMUMU)
    with uproot.open(ZMUMU) as fh:
        raw = fh["events"].arrays(["eta1", "eta2"], library="np")
    eta1, eta2 = _eta_raw(raw["eta1"]), _eta_raw(raw["eta2"])
    lo, hi = _window(-1.6, 1.6)
    inside = (eta1 >= lo) & (eta1 <= hi) & (eta2 >= lo) & (eta2 <= hi)
    expected = inside & (np.abs(eta1 - eta2) <= math.floor(round(1.8 / ETA_LSB, 9)))
    assert 0 < int(expected.sum()) < len(expected)
    np.testing.assert_array_equal(fired["DoubleMu0er1p6_dEta_Max1p8_AnyQuality"], expected)
    assert fired["L1_SingleMuCosmics"].all()  # MU0: every event has two muons
    for name in ("L1_SingleMu22", "L1_DoubleMu0", "L1_DoubleMu0er1p6_dEta_Max1p8"):
        assert not fired[name].any(), name  # quality sets on muons without quality
