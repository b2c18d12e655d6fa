"""The 2016 CMS uGT menu: every algorithm imported or refused with a reason, and imported
seeds counted on the reference NanoAOD equal to counts computed here from the raw uproot
columns with the same cuts and 0.5 GeV / 0.010875 steps."""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

import streams
from emulator.menu import MenuError, from_uGT_xml, load_menu, read_prescales
from emulator.seeds import SeedEvaluator

REFERENCE = Path(__file__).parents[3].parent / "shared" / "reference"
MENU = REFERENCE / "menus" / "L1Menu_Collisions2016_v2c.xml"
PRESCALES = REFERENCE / "menus" / "prescale_L1TGlobal.csv"
NANO = REFERENCE / "events" / "nanoAOD_2015_CMS_Open_Data_ttbar.root"

pytestmark = pytest.mark.skipif(not MENU.is_file(), reason="reference menu not available")


@pytest.fixture(scope="module")
def imported():  # type: ignore[no-untyped-def]
    return from_uGT_xml(MENU, prescale_column=1)


def test_imported_and_refused_partition_the_file(imported) -> None:  # type: ignore[no-untyped-def]
    names = [a.findtext("name") for a in ET.parse(MENU).getroot().iter("algorithm")]
    assert len(names) == 227
    got = [a.name for a in imported.imported] + [a.name for a in imported.refused]
    assert sorted(got) == sorted(names)
    assert not {a.name for a in imported.imported} & {a.name for a in imported.refused}
    assert len(imported.imported) == len(imported.menu.seeds) == 175
    assert all(a.reason for a in imported.refused)
    reasons = {a.name: a.reason for a in imported.refused}
    assert "external condition" in reasons["L1_ZeroBias"]
    assert "ETT" in reasons["L1_ETT40"]
    assert "imported" in imported.table().splitlines()[-1]


def test_prescale_column(imported) -> None:  # type: ignore[no-untyped-def]
    table = read_prescales(PRESCALES, 1)
    index = {a.name: a.index for a in imported.algorithms}
    for seed in imported.menu.seeds[:40]:
        assert seed.prescale == table.get(index[seed.name], 1.0)
    with pytest.raises(MenuError, match="no prescale column 99"):
        read_prescales(PRESCALES, 99)


def test_load_menu_dispatches_on_xml() -> None:
    menu = load_menu(MENU)
    assert len(menu.seeds) == 175
    assert menu.seed("L1_SingleMu22").threshold_raw == 44  # .ge. 22 GeV in 0.5 GeV steps
    assert menu.seed("L1_DoubleMu_10_3p5").conditions[0].legs[1].pt == 3.5


def _raw() -> dict[str, object]:
    uproot = pytest.importorskip("uproot")
    with uproot.open(NANO) as fh:
        return fh["Events"].arrays(
            ["Electron_pt", "Electron_eta", "Jet_pt", "Jet_eta", "MET_pt"], library="np"
        )


def _eta_counts(eta: np.ndarray) -> np.ndarray:
    x = np.asarray(eta, np.float64) / 0.010875
    return np.clip(np.sign(x) * np.floor(np.abs(x) + 0.5), -512, 511).astype(np.int64)


def _top(pt: np.ndarray, n: int) -> np.ndarray:
    """Indices of the n highest pT (stable), as the hardware slots keep."""
    raw = np.floor(np.asarray(pt, np.float64) * 2)
    return np.argsort(-raw, kind="stable")[:n]


def _independent(raw: dict[str, object]) -> dict[str, np.ndarray]:
    """Counts per seed computed from the raw columns (pT floor to 0.5 GeV, η counts)."""
    n = len(raw["MET_pt"])  # type: ignore[arg-type]
    out = {k: np.zeros(n, bool) for k in ("EG24", "DJC60", "HTT200", "ETM60", "DJC60_ETM60")}
    central = math.floor(round(3.0014999999999996 / 0.010875, 9))
    ht_eta = math.floor(round(2.4 / 0.010875, 9))
    for i in range(n):
        ept = np.asarray(raw["Electron_pt"][i])  # type: ignore[index]
        keep = _top(ept, 12)
        out["EG24"][i] = bool((np.floor(ept[keep] * 2) >= 48).any())
        jpt = np.asarray(raw["Jet_pt"][i])  # type: ignore[index]
        jeta = _eta_counts(raw["Jet_eta"][i])  # type: ignore[index]
        keep = _top(jpt, 12)
        jraw, jeta = np.floor(jpt[keep] * 2), jeta[keep]
        out["DJC60"][i] = int(((jraw >= 120) & (np.abs(jeta) <= central)).sum()) >= 2
        ht = jraw[(jraw >= 60) & (np.abs(jeta) <= ht_eta)].sum()
        out["HTT200"][i] = min(ht, 8191) >= 400
        out["ETM60"][i] = math.floor(float(raw["MET_pt"][i]) * 2) >= 120  # type: ignore[index]
        out["DJC60_ETM60"][i] = out["DJC60"][i] and out["ETM60"][i]
    return out


@pytest.mark.skipif(not NANO.is_file(), reason="reference NanoAOD not available")
def test_counts_on_nanoaod_equal_independent_counts(imported) -> None:  # type: ignore[no-untyped-def]
    raw = _raw()
    expected = _independent(raw)
    menu = imported.menu
    batch = streams.concat_batches(list(streams.open(NANO)))
    scores = SeedEvaluator(menu).scores(batch)
    fired = {seed.name: scores[:, k] >= seed.threshold_raw for k, seed in enumerate(menu.seeds)}
    pairs = {
        "L1_SingleEG24": "EG24",  # single object
        "L1_DoubleJetC60": "DJC60",  # two legs, η window
        "L1_HTT200": "HTT200",  # energy sum
        "L1_ETM60": "ETM60",
        "L1_DoubleJetC60_ETM60": "DJC60_ETM60",  # cross: objects AND sum
    }
    for seed, key in pairs.items():
        np.testing.assert_array_equal(fired[seed], expected[key], err_msg=seed)
    assert 0 < int(expected["DJC60"].sum()) < len(expected["DJC60"])
