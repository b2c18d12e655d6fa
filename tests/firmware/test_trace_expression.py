"""Expression seeds traced with da4ml equal the emulator, raw integer for raw integer.

The traced logic runs in da4ml's C++ interpreter (``CombLogic.predict``) on slot
contents built in hardware integers: random objects plus pT at every leg minimum
and threshold and one LSB either side, η and φ at every window edge and one count
either side (wrapping φ windows included), every quality and isolation word (and
unknown isolation, and words above the field), charges -1 / 0 / +1, empty slots,
full collections and saturated values. The emulator's SeedEvaluator (its
``condition_kernel`` searching every assignment of distinct objects) reads the
same slots; score and decision bit are compared for every BX.

Two menus: a hand-made one that exercises what the 2016 CMS menu does not (charge
cuts and correlations on 1-4 legs, φ windows through ±π, mass and ΔR pair limits
across collections, NOT / OR, word sets traced as tables, sums inside
expressions; tests/firmware/_expression_menu.py), and every imported algorithm of
the 2016 menu (slow; skipped when the reference XML is absent).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from emulator.menu import menu_from_dict
from emulator.plan import BxSlots, CollectionSlots, MenuPlan, PlanKind, SeedPlan, build_plan
from emulator.seeds import SeedEvaluator

pytest.importorskip("da4ml", reason="da4ml traces the seeds")

from firmware._trace import TraceError, input_values, trace_seed
from firmware._trace_expr import charge_patterns
from firmware._trace_expr_fields import extra_fields, isolation_type

sys.path.insert(0, str(Path(__file__).parent))
from _expression_menu import SEEDS, expression_menu
from _menu2016 import menu_2016

N_BX = 10_000


def _marks(plan: MenuPlan) -> tuple[list[int], list[int], list[int], list[int]]:
    """pT, η, φ, quality values at and beside every limit of the plan's conditions."""
    pts, etas, phis = [0], [0], [0]
    qualities: set[int] = set(range(16))
    for seed in plan.seeds:
        assert seed.expression is not None
        for condition in seed.expression.conditions:
            inner = condition.inner
            if inner is not None:
                pts += [inner.cut.pt_min, inner.threshold_raw]
                etas += [inner.cut.eta_max or 0, -(inner.cut.eta_max or 0)]
            pts.append(condition.threshold_raw)
            for leg in condition.legs:
                pts.append(leg.pt_min)
                etas += [v for w in leg.eta_windows for v in w]
                phis += [v for w in leg.phi_windows for v in w]
                qualities |= set(leg.quality or ()) | {leg.min_quality}
    near = sorted({v + d for v in pts for d in (-1, 0, 1)})
    return (
        [v for v in near if v >= 0],
        sorted({v + d for v in etas for d in (-1, 0, 1)}),
        sorted({v + d for v in phis for d in (-1, 0, 1)}),
        sorted(qualities),
    )


def _slots(plan: MenuPlan, rng: np.random.Generator) -> BxSlots:
    """Random slot contents with the edge cases of every condition's cuts."""
    pt_marks, eta_marks, phi_marks, q_marks = _marks(plan)
    iso_max = isolation_type(plan).max_raw
    collections = {}
    for slot in plan.slots:
        shape = (N_BX, slot.count)
        count = rng.integers(0, slot.count + 1, N_BX)
        count[: N_BX // 10] = slot.count
        count[N_BX // 10 : N_BX // 6] = 0
        count[N_BX // 6 : N_BX // 3] = np.minimum(rng.integers(1, 5, N_BX // 3 - N_BX // 6),
                                                  slot.count)  # fmt: skip
        valid = np.arange(slot.count)[None, :] < count[:, None]
        pt_max = plan.pt_type.max_raw
        pt = np.where(
            rng.random(shape) < 0.6,
            rng.choice(pt_marks, shape),
            np.minimum(rng.exponential(80, shape).astype(np.int64), pt_max),
        )
        pt[rng.random(shape) < 0.02] = pt_max
        pt = np.minimum(pt, pt_max)
        pt = -np.sort(-pt, axis=1)
        lo, hi = plan.eta_type.min_raw, plan.eta_type.max_raw
        eta = np.where(rng.random(shape) < 0.5, rng.choice(eta_marks, shape),
                       rng.integers(-250, 251, shape))  # fmt: skip
        eta = np.where(rng.random(shape) < 0.1, rng.integers(lo, hi + 1, shape), eta)
        eta = np.clip(eta, lo, hi)
        plo, phi_hi = plan.phi_type.min_raw, plan.phi_type.max_raw
        phi = np.where(rng.random(shape) < 0.4, rng.choice(phi_marks, shape),
                       rng.integers(-288, 289, shape))  # fmt: skip
        phi = np.clip(phi, plo, phi_hi)
        quality = rng.choice(q_marks, shape)
        quality[rng.random(shape) < 0.03] = plan.quality_type.max_raw
        charge = rng.integers(-1, 2, shape)
        isolation = rng.integers(-1, iso_max + 3, shape)
        zero = ~valid
        for a in (pt, eta, phi, quality, charge, isolation):
            a[zero] = 0
        collections[slot.collection] = CollectionSlots(
            pt, eta, phi, quality, valid, np.zeros(N_BX, np.int64), charge, isolation
        )
    met = rng.integers(0, plan.met_type.max_raw + 1, N_BX)
    met = np.where(rng.random(N_BX) < 0.5, rng.integers(90, 110, N_BX), met)
    return BxSlots(collections, met, rng.integers(-288, 289, N_BX))


def _check(seed: SeedPlan, plan: MenuPlan, slots: BxSlots, scores: np.ndarray) -> None:
    traced = trace_seed(seed, plan)
    out = traced.comb.predict(input_values(traced.inputs, slots))
    expected = scores[:, seed.index]
    np.testing.assert_array_equal(out[:, 0].astype(np.int64), expected, err_msg=seed.name)
    fired = expected >= seed.threshold_raw
    np.testing.assert_array_equal(out[:, 1].astype(bool), fired, err_msg=seed.name)
    assert fired.any(), f"{seed.name}: never fires, weak test"
    assert not fired.all(), f"{seed.name}: always fires, weak test"


@pytest.fixture(scope="module")
def setup() -> tuple[MenuPlan, BxSlots, np.ndarray]:
    plan = build_plan(expression_menu())
    slots = _slots(plan, np.random.default_rng(2026))
    return plan, slots, SeedEvaluator(plan).scores_of(slots)


@pytest.mark.parametrize("name", [s["name"] for s in SEEDS])
def test_traced_expression_equals_emulator(
    name: str, setup: tuple[MenuPlan, BxSlots, np.ndarray]
) -> None:
    plan, slots, scores = setup
    _check(plan.seed(name), plan, slots, scores)


@pytest.fixture(scope="module")
def setup_2016() -> tuple[MenuPlan, BxSlots, np.ndarray]:
    plan = build_plan(menu_2016())
    slots = _slots(plan, np.random.default_rng(2016))
    return plan, slots, SeedEvaluator(plan).scores_of(slots)


def _check_2016(names: list[str], setup: tuple[MenuPlan, BxSlots, np.ndarray]) -> None:
    plan, slots, scores = setup
    for name in names:
        seed = plan.seed(name)
        traced = trace_seed(seed, plan)
        out = traced.comb.predict(input_values(traced.inputs, slots))
        expected = scores[:, seed.index]
        np.testing.assert_array_equal(out[:, 0].astype(np.int64), expected, err_msg=name)
        fired = expected >= seed.threshold_raw
        np.testing.assert_array_equal(out[:, 1].astype(bool), fired, err_msg=name)


@pytest.mark.slow
def test_2016_every_seed_equals_emulator(
    setup_2016: tuple[MenuPlan, BxSlots, np.ndarray],
) -> None:
    _check_2016(list(setup_2016[0].seed_names), setup_2016)


def test_charge_patterns_follow_the_kernel_rule() -> None:
    from emulator.plan import ChargeRule

    assert charge_patterns(ChargeRule.ANY, 3) == [None]
    assert charge_patterns(ChargeRule.LIKE, 2) == [(1, 1), (-1, -1)]
    assert sorted(charge_patterns(ChargeRule.OPPOSITE, 2)) == [(-1, 1), (1, -1)]  # type: ignore[type-var]
    assert len(charge_patterns(ChargeRule.OPPOSITE, 3)) == 6
    assert all(sum(p) == 0 for p in charge_patterns(ChargeRule.OPPOSITE, 4) if p)
    assert charge_patterns(ChargeRule.OPPOSITE, 1) == []


def test_slot_words_grow_only_for_charge_and_isolation_cuts() -> None:
    plan = build_plan(expression_menu())
    extras = extra_fields(plan)
    assert [n for n, _ in extras["muon"]] == ["charge"]
    assert [n for n, _ in extras["egamma"]] == ["isolation"]
    assert [n for n, _ in extras["tau"]] == ["isolation"]
    assert extras["jet"] == ()
    assert isolation_type(plan).max_raw > 9  # one word above the largest allowed (9)
    from emulator.menu import default_menu

    assert all(v == () for v in extra_fields(build_plan(default_menu(with_nn=False))).values())


def test_network_inside_an_expression_is_refused_by_name() -> None:
    models = Path(__file__).resolve().parents[2] / "emulator" / "menus" / "models"
    menu = menu_from_dict(
        {
            "name": "x",
            "seeds": [
                {
                    "name": "L1_NNExpr",
                    "kind": "expression",
                    "expression": "A AND B",
                    "conditions": {
                        "A": {"kind": "single", "collection": "muon", "pt": 10},
                        "B": {
                            "kind": "nn",
                            "model": str(models / "autoencoder.npz"),
                            "score": "ae_mse",
                            "diff_type": "ap_fixed<20,12,AP_TRN,AP_SAT>",
                            "accum_type": "ap_ufixed<44,28,AP_TRN,AP_SAT>",
                            "out_type": "ap_ufixed<32,24,AP_TRN,AP_SAT>",
                            "threshold": 10,
                        },
                    },
                }
            ],
        },
        source="test",
    )
    plan = build_plan(menu)
    assert plan.seeds[0].kind is PlanKind.EXPRESSION
    with pytest.raises(TraceError, match=r"'L1_NNExpr'.*network"):
        trace_seed(plan.seeds[0], plan)
