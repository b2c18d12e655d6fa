"""Every cut seed traced with da4ml equals the emulator's kernels, raw integer for raw integer.

The traced logic runs in da4ml's C++ interpreter (``CombLogic.predict``) on slot
contents built directly in hardware integers: random objects, pT exactly at every
leg threshold and one LSB either side, saturated pT / η / φ / quality, empty slots
and full collections. The emulator's SeedEvaluator reads the same slots.
"""

from __future__ import annotations

import numpy as np
import pytest

from emulator.menu import Menu, PairCuts, Seed, SeedKind, default_menu
from emulator.plan import BxSlots, CollectionSlots, MenuPlan, PlanKind, build_plan
from emulator.seeds import SeedEvaluator

pytest.importorskip("da4ml", reason="da4ml traces the seeds")

from firmware._trace import input_values, trace_seed

N_BX = 10_000


def _objects(name: str, collection: str, pts: tuple[float, ...], **kw: object) -> Seed:
    return Seed(
        name=name, kind=SeedKind.OBJECTS, collections=(collection,), pt_thresholds=pts, **kw
    )  # type: ignore[arg-type]


def _menu() -> Menu:
    cut_seeds = tuple(s for s in default_menu(with_nn=False).seeds)
    extra = (
        _objects("MuQual", "muon", (20.0,), eta_max=2.4, min_quality=8),
        _objects("DiEGdR", "egamma", (12.0, 5.0), pair=PairCuts(dr_min=0.3, dr_max=2.5)),
        _objects("DiMuMass", "muon", (4.0, 4.0), pair=PairCuts(mass_min=10.0, mass_max=60.0)),
        _objects("DiJetdPhi", "jet", (30.0, 30.0), pair=PairCuts(dphi_min=0.5, deta_min=0.2)),
        _objects("TriJet", "jet", (40.0, 30.0, 20.0)),
        Seed(name="MHTmulti", kind=SeedKind.MET, collections=("jet", "muon"), object_pt_min=5.0,
             eta_max=2.5, threshold=50.0),
        Seed(name="HTall", kind=SeedKind.HT, collections=("jet",), threshold=2000.0),
    )  # fmt: skip
    return Menu(name="trace-test", seeds=cut_seeds + extra)


def _slots(plan: MenuPlan, rng: np.random.Generator) -> BxSlots:
    """Random slot contents with the edge cases of every seed's thresholds."""
    legs = sorted({v for s in plan.seeds for v in (*s.legs, s.cut.pt_min)})
    near = np.array([v + d for v in legs for d in (-1, 0, 1) if v + d >= 0], np.int64)
    collections = {}
    for slot in plan.slots:
        shape = (N_BX, slot.count)
        count = rng.integers(0, slot.count + 1, N_BX)
        count[: N_BX // 10] = slot.count  # full collections
        count[N_BX // 10 : N_BX // 5] = 0  # empty BX
        valid = np.arange(slot.count)[None, :] < count[:, None]
        pt_max, q_max = plan.pt_type.max_raw, plan.quality_type.max_raw
        pt = np.where(
            rng.random(shape) < 0.5,
            rng.choice(near, shape),
            np.minimum(rng.exponential(120, shape).astype(np.int64), pt_max),
        )
        pt[rng.random(shape) < 0.03] = pt_max
        pt = -np.sort(-pt, axis=1)
        eta = rng.integers(plan.eta_type.min_raw, plan.eta_type.max_raw + 1, shape)
        eta = np.where(rng.random(shape) < 0.7, rng.integers(-700, 701, shape), eta)
        phi = rng.integers(plan.phi_type.min_raw, plan.phi_type.max_raw + 1, shape)
        quality = rng.integers(0, 16, shape)
        quality[rng.random(shape) < 0.05] = q_max
        edges = rng.random(shape) < 0.02
        eta[edges] = rng.choice(
            [plan.eta_type.min_raw, plan.eta_type.max_raw, 550, 551, -550, -551], edges.sum()
        )
        phi[edges] = rng.choice(
            [plan.phi_type.min_raw, plan.phi_type.max_raw, 720, -720, 0], edges.sum()
        )
        zero = ~valid
        pt[zero] = eta[zero] = phi[zero] = quality[zero] = 0
        collections[slot.collection] = CollectionSlots(
            pt, eta, phi, quality, valid, np.zeros(N_BX, np.int64)
        )
    met = rng.integers(0, plan.met_type.max_raw + 1, N_BX)
    met[:100] = plan.met_type.max_raw
    return BxSlots(collections, met, rng.integers(-720, 721, N_BX))


@pytest.fixture(scope="module")
def setup() -> tuple[MenuPlan, BxSlots, np.ndarray]:
    plan = build_plan(_menu())
    slots = _slots(plan, np.random.default_rng(2024))
    return plan, slots, SeedEvaluator(plan).scores_of(slots)


@pytest.mark.slow
@pytest.mark.parametrize("name", [s.name for s in _menu().seeds])
def test_traced_seed_equals_emulator(
    name: str, setup: tuple[MenuPlan, BxSlots, np.ndarray]
) -> None:
    plan, slots, scores = setup
    seed = plan.seed(name)
    traced = trace_seed(seed, plan)
    out = traced.comb.predict(input_values(traced.inputs, slots))
    expected = scores[:, seed.index]
    np.testing.assert_array_equal(out[:, 0].astype(np.int64), expected, err_msg=name)
    np.testing.assert_array_equal(out[:, 1].astype(bool), expected >= seed.threshold_raw)
    fired = expected >= seed.threshold_raw
    assert fired.any() or seed.kind is PlanKind.PAIR, f"{name}: never fires, weak test"
    assert not fired.all(), f"{name}: always fires, weak test"


def _edge_deltas(
    lo: int | None, hi: int | None, dr2_lo: int | None, dr2_hi: int | None
) -> list[int]:
    """Angle differences at and around every limit a pair datapath caps or compares with."""
    marks = list(range(0, 1100, 50))  # spread, for the mass (cosh - cos) of wide pairs
    for bound in (lo, hi):
        if bound is not None:
            marks.append(bound)
    for bound in (dr2_lo, dr2_hi):
        if bound is not None:
            root = int(np.sqrt(bound))
            marks += [root, root + 1]
    return sorted({m + d for m in marks for d in (-2, -1, 0, 1, 2) if m + d >= 0})


def _pair_edges(seed_name: str, plan: MenuPlan, rng: np.random.Generator) -> BxSlots:
    """Two objects per BX whose Δη, Δφ, ΔR² and m² sit at and around the seed's limits."""
    seed = plan.seed(seed_name)
    assert seed.pair is not None
    limits, luts = seed.pair, plan.luts
    (collection,) = seed.collections
    count = plan.slot_count(collection)
    n = N_BX
    deta_marks = _edge_deltas(limits.deta.lo, limits.deta.hi, limits.dr2.lo, limits.dr2.hi)
    dphi_marks = _edge_deltas(limits.dphi.lo, limits.dphi.hi, limits.dr2.lo, limits.dr2.hi)
    deta = rng.choice(deta_marks, n)
    dphi = rng.choice([d for d in dphi_marks if d <= luts.half_turn], n)
    eta_max = seed.cut.eta_max if seed.cut.eta_max is not None else plan.eta_type.max_raw
    eta_a = rng.integers(-eta_max, eta_max + 1, n)
    eta_b = np.clip(eta_a + np.where(rng.random(n) < 0.5, deta, -deta), -2048, 2047)
    phi_a = rng.integers(-720, 721, n)
    phi_b = phi_a + np.where(rng.random(n) < 0.5, dphi, -dphi)
    phi_b = np.where(phi_b > 720, phi_b - 2 * luts.half_turn, phi_b)  # across ±π
    phi_b = np.where(phi_b < -720, phi_b + 2 * luts.half_turn, phi_b)
    near = [v + d for v in (*seed.legs, seed.threshold_raw) for d in (-1, 0, 1)]
    pt_a = rng.choice(near, n) + rng.integers(0, 400, n) * (rng.random(n) < 0.5)
    pt_b = rng.choice(near, n)
    if limits.needs_mass:  # pT_b putting m² at its limits, ± one LSB
        cosh = luts.cosh[np.minimum(np.abs(eta_a - eta_b), len(luts.cosh) - 1)]
        cos = luts.cos[np.abs(((phi_a - phi_b + 720) % 1440) - 720)]
        diff = np.maximum(cosh - cos, 1)
        bounds = [b for b in (limits.mass2.lo, limits.mass2.hi) if b is not None]
        target = rng.choice(bounds, n) // (2 * np.maximum(pt_a, 1) * diff)
        pt_b = np.where(rng.random(n) < 0.7, target + rng.integers(-1, 2, n), pt_b)
    pts = np.clip(np.stack([pt_a, pt_b], 1), 0, plan.pt_type.max_raw)
    order = np.argsort(-pts, axis=1, kind="stable")

    def take(a: np.ndarray) -> np.ndarray:
        return np.take_along_axis(a, order, axis=1)

    shape = (n, count)
    pt, eta, phi = (np.zeros(shape, np.int64) for _ in range(3))
    pt[:, :2] = take(pts)
    eta[:, :2] = take(np.stack([eta_a, eta_b], 1))
    phi[:, :2] = take(np.stack([phi_a, phi_b], 1))
    valid = np.zeros(shape, bool)
    valid[:, :2] = True
    collections = {
        s.collection: CollectionSlots(
            *(np.zeros((n, s.count), np.int64) for _ in range(4)),
            np.zeros((n, s.count), bool),
            np.zeros(n, np.int64),
        )
        for s in plan.slots
    }
    collections[collection] = CollectionSlots(
        pt, eta, phi, np.zeros(shape, np.int64), valid, np.zeros(n, np.int64)
    )
    return BxSlots(collections, np.zeros(n, np.int64), np.zeros(n, np.int64))


@pytest.mark.slow
@pytest.mark.parametrize(
    "name", [s.name for s in build_plan(_menu()).seeds if s.kind is PlanKind.PAIR]
)
def test_pair_limits_at_their_edges(name: str) -> None:
    """The narrowed pair datapath (capped Δη/Δφ, small tables) at every limit it uses."""
    plan = build_plan(_menu())
    seed = plan.seed(name)
    slots = _pair_edges(name, plan, np.random.default_rng(5))
    expected = SeedEvaluator(plan).scores_of(slots)[:, seed.index]
    traced = trace_seed(seed, plan)
    out = traced.comb.predict(input_values(traced.inputs, slots))
    np.testing.assert_array_equal(out[:, 0].astype(np.int64), expected, err_msg=name)
    np.testing.assert_array_equal(out[:, 1].astype(bool), expected >= seed.threshold_raw)
    passed = expected >= 0
    assert 0.02 < passed.mean() < 0.98, f"{name}: pairs pass {passed.mean():.0%}, weak test"
