"""build_plan: the menu in hardware integers, as the kernels and the firmware read it."""

from __future__ import annotations

import math

import numpy as np
import pytest

from emulator.menu import Menu, PairCuts, Seed, SeedKind, default_menu
from emulator.plan import NO_LIMIT, MenuPlan, PlanKind, RawRange, build_plan


def _seed(name: str, **kw: object) -> Seed:
    return Seed(name=name, **kw)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def plan() -> MenuPlan:
    return build_plan(
        Menu(
            name="plan-test",
            seeds=(
                _seed("Mu", kind=SeedKind.OBJECTS, collections=("muon",), pt_thresholds=(22.0,),
                      eta_max=2.4, min_quality=8),
                _seed("DiMu", kind=SeedKind.OBJECTS, collections=("muon",), pt_thresholds=(11.0, 4.1),
                      pair=PairCuts(mass_min=7.0, mass_max=18.0, dr_max=1.4)),
                _seed("DiJet", kind=SeedKind.OBJECTS, collections=("jet",), pt_thresholds=(70.0, 70.0),
                      pair=PairCuts(deta_max=1.6)),
                _seed("Quad", kind=SeedKind.OBJECTS, collections=("jet",),
                      pt_thresholds=(70.0, 55.0, 40.0, 40.0)),
                _seed("HT", kind=SeedKind.HT, collections=("jet",), object_pt_min=30.0, eta_max=2.4,
                      threshold=290.0),
                _seed("MHT", kind=SeedKind.MET, collections=("jet", "muon"), object_pt_min=30.0,
                      threshold=190.0),
                _seed("ETM", kind=SeedKind.MET, met_source="event", threshold=175.0),
            ),
        )
    )  # fmt: skip


def test_kinds_and_raw_cuts(plan: MenuPlan) -> None:
    kinds = [s.kind for s in plan.seeds]
    assert kinds == [
        PlanKind.LEADING, PlanKind.PAIR, PlanKind.PAIR, PlanKind.LEADING, PlanKind.HT,
        PlanKind.MET_OBJECTS, PlanKind.MET_EVENT,
    ]  # fmt: skip
    mu = plan.seed("Mu")
    assert mu.legs == (88,)  # 22 GeV / 0.25 GeV
    assert mu.cut.eta_max == math.floor(2.4 / (math.pi / 720))  # 550 counts
    assert mu.cut.min_quality == 8
    assert mu.threshold_raw == 88
    assert plan.seed("DiMu").legs == (44, 17)  # 4.1 GeV rounds up to 4.25
    assert plan.seed("Quad").cut.eta_max is None
    assert plan.seed("HT").cut.pt_min == 120
    assert [s.index for s in plan.seeds] == list(range(7))


def test_pair_limits_are_optional_integers(plan: MenuPlan) -> None:
    dimu = plan.seed("DiMu").pair
    assert dimu is not None
    assert dimu.deta == RawRange()
    assert dimu.dphi == RawRange()
    assert dimu.dr2 == RawRange(None, math.floor(round(1.4**2 / (math.pi / 720) ** 2, 9)))
    unit = 0.25**2 * 2.0**-10  # m² in LSB_pT² · 2^-F
    assert dimu.mass2 == RawRange(math.ceil(round(49 / unit, 9)), math.floor(round(324 / unit, 9)))
    assert dimu.as_array().tolist()[:4] == [NO_LIMIT] * 4
    assert plan.seed("DiMu").luts is plan.luts  # mass cut: the shared tables
    dijet = plan.seed("DiJet")
    assert dijet.pair is not None
    assert dijet.pair.deta == RawRange(None, 366)
    assert dijet.luts is None  # no mass condition, no tables


def test_luts_and_sum_types(plan: MenuPlan) -> None:
    luts = plan.luts
    assert luts.half_turn == 720
    assert luts.cos[0] == 1024
    assert luts.cos[720] == -1024
    assert luts.cosh[0] == 1024
    assert luts.cos_phi[luts.phi_offset] == 1024
    assert luts.sin_phi[luts.phi_offset] == 0
    with pytest.raises(ValueError, match="read-only"):
        luts.cosh[0] = 0
    # 12 jets of at most 16383 raw: 18 bits; 24 objects for MHT, plus one bit for √2
    assert str(plan.seed("HT").sum_type) == "ap_ufixed<18,16>"
    assert str(plan.seed("MHT").sum_type) == "ap_ufixed<20,18>"
    assert str(plan.seed("HT").score_type) == "ap_ufixed<16,14,AP_TRN,AP_SAT>"
    assert plan.seed("ETM").collections == ()


def test_default_menu_plan_networks_share_the_menu_model() -> None:
    menu = default_menu()
    plan = build_plan(menu)
    nn = [s for s in plan.seeds if s.kind is PlanKind.NN]
    assert nn, "the default menu has network seeds"
    for seed in nn:
        assert seed.nn is not None
        spec = menu.seed(seed.name).nn
        assert spec is not None
        assert seed.nn.model is spec.model
        assert len(seed.nn.inputs) == 57
        first = seed.nn.inputs[3]
        assert (first.collection, first.slot, first.field.name) == ("egamma", 0, "PT")
        assert first.constant_raw == 2**14  # 0.25 GeV with 16 fraction bits
        assert seed.nn.inputs[4].constant_raw == round(math.pi / 720 * 2**16)
    cnf = plan.seed("L1_ADT_CNF").nn
    assert cnf is not None
    assert cnf.time_raw == 32
    assert np.all([s.count == 12 for s in plan.slots])
