"""Seed scores against a straightforward per-event Python computation on small inputs.

The reference quantizes with plain integer arithmetic (floor and clip for the
pT type ap_ufixed<14,12,AP_TRN,AP_SAT>, C-style rounding for angles) and
evaluates cosh/cos/sin with ``math`` per object pair, rounding to the LUT
precision exactly as documented; it shares no code with the kernels.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from emulator.menu import Menu, PairCuts, Seed, SeedKind
from emulator.seeds import SeedEvaluator
from streams import EventBatch, Objects

LSB_ANGLE = math.pi / 720
F = 10  # lut_fraction_bits of the default hardware types


def _random_batch(n: int, seed: int) -> EventBatch:
    rng = np.random.default_rng(seed)
    objects = {}
    for name in ("egamma", "muon", "tau", "jet"):
        counts = rng.integers(0, 6, n)
        total = int(counts.sum())
        pt = rng.exponential(25.0, total).astype(np.float32)
        offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        for i in range(n):  # sorted by decreasing pT within a record, as streams guarantee
            pt[offsets[i] : offsets[i + 1]] = np.sort(pt[offsets[i] : offsets[i + 1]])[::-1]
        pt[rng.random(total) < 0.02] = 5000.0  # beyond the pT type: saturates
        objects[name] = Objects(
            offsets=offsets,
            pt=pt,
            eta=rng.uniform(-3.0, 3.0, total).astype(np.float32),
            phi=rng.uniform(-math.pi, math.pi, total).astype(np.float32),
            quality=rng.integers(0, 16, total).astype(np.int32),
        )
    met = rng.exponential(40.0, n).astype(np.float32)
    return EventBatch.from_events(np.arange(n), met, rng.uniform(-3, 3, n), objects)


def _pt_raw(x: float) -> int:
    return min(math.floor(float(x) * 4), (1 << 14) - 1)


def _angle_raw(x: float, bits: int) -> int:
    count = int(math.copysign(math.floor(abs(float(x)) / LSB_ANGLE + 0.5), float(x)))
    return max(-(1 << (bits - 1)), min(count, (1 << (bits - 1)) - 1))


def _lut(value: float) -> int:
    return int(math.copysign(math.floor(abs(value) * (1 << F) + 0.5), value))


def _objects(batch: EventBatch, name: str, i: int) -> list[tuple[int, int, int, int]]:
    c = batch.objects[name]
    sl = slice(c.offsets[i], c.offsets[i + 1])
    return [
        (_pt_raw(p), _angle_raw(e, 12), _angle_raw(f, 11), int(q))
        for p, e, f, q in zip(c.pt[sl], c.eta[sl], c.phi[sl], c.quality[sl], strict=True)
    ]


def _dphi(a: int, b: int) -> int:
    d = abs(a - b) % 1440
    return 1440 - d if d > 720 else d


def _reference_objects(seed: Seed, objs: list[tuple[int, int, int, int]]) -> int:
    eta_max = math.floor(round(seed.eta_max / LSB_ANGLE, 9)) if seed.eta_max is not None else 10**9
    legs = [math.ceil(round(t * 4, 9)) for t in seed.pt_thresholds]
    passing = [o for o in objs if abs(o[1]) <= eta_max and o[3] >= seed.min_quality]
    if seed.multiplicity != 2:
        pts = sorted((o[0] for o in passing), reverse=True)
        n = seed.multiplicity
        if len(pts) < n or any(pts[k] < legs[k] for k in range(n - 1)):
            return -1
        return pts[n - 1]
    pair = seed.pair or PairCuts()
    best = -1
    for a, b in itertools.combinations(passing, 2):
        high, low = max(a[0], b[0]), min(a[0], b[0])
        if high < legs[0]:
            continue
        deta, dphi = abs(a[1] - b[1]), _dphi(a[2], b[2])
        dr2 = (deta * LSB_ANGLE) ** 2 + (dphi * LSB_ANGLE) ** 2
        if pair.deta_max is not None and deta * LSB_ANGLE > pair.deta_max + 1e-12:
            continue
        if pair.dphi_min is not None and dphi * LSB_ANGLE < pair.dphi_min - 1e-12:
            continue
        if pair.dr_min is not None and dr2 < pair.dr_min**2 - 1e-12:
            continue
        if pair.dr_max is not None and dr2 > pair.dr_max**2 + 1e-12:
            continue
        m2 = 2 * high * low * (_lut(math.cosh(deta * LSB_ANGLE)) - _lut(math.cos(dphi * LSB_ANGLE)))
        m2_gev = m2 * 0.25**2 / (1 << F)
        if pair.mass_min is not None and m2_gev < pair.mass_min**2:
            continue
        if pair.mass_max is not None and m2_gev > pair.mass_max**2:
            continue
        best = max(best, low)
    return best


def _reference_ht(seed: Seed, objs: list[tuple[int, int, int, int]]) -> int:
    eta_max = math.floor(round(seed.eta_max / LSB_ANGLE, 9))
    pt_min = math.ceil(seed.object_pt_min * 4)
    total = sum(o[0] for o in objs if o[0] >= pt_min and abs(o[1]) <= eta_max)
    return min(total, (1 << 16) - 1)  # ap_ufixed<16,14,AP_TRN,AP_SAT>: same LSB, saturate


def _reference_mht(seed: Seed, objs: list[tuple[int, int, int, int]]) -> int:
    eta_max = math.floor(round(seed.eta_max / LSB_ANGLE, 9))
    pt_min = math.ceil(seed.object_pt_min * 4)
    px = py = 0
    for pt, eta, phi, _ in objs:
        if pt >= pt_min and abs(eta) <= eta_max:
            px += pt * _lut(math.cos(phi * LSB_ANGLE))
            py += pt * _lut(math.sin(phi * LSB_ANGLE))
    return min(math.isqrt((px >> F) ** 2 + (py >> F) ** 2), (1 << 16) - 1)


def _menu() -> Menu:
    def objects(name: str, collection: str, pts: tuple[float, ...], **kw: object) -> Seed:
        return Seed(
            name=name, kind=SeedKind.OBJECTS, collections=(collection,), pt_thresholds=pts, **kw
        )  # type: ignore[arg-type]

    return Menu(
        name="seed-test",
        seeds=(
            objects("Mu", "muon", (20.0,), eta_max=2.4, min_quality=8),
            objects("EG", "egamma", (10.0,)),
            objects("DiMu", "muon", (15.0, 7.0), eta_max=2.1),
            objects("DiEGdR", "egamma", (12.0, 5.0), pair=PairCuts(dr_min=0.3, dr_max=2.5)),
            objects("DiMuMass", "muon", (4.0, 4.0), pair=PairCuts(mass_min=10.0, mass_max=60.0)),
            objects("DiJetdEta", "jet", (30.0, 30.0), eta_max=2.4, pair=PairCuts(deta_max=1.6, dphi_min=0.5)),
            objects("TriJet", "jet", (40.0, 30.0, 20.0)),
            objects("QuadTau", "tau", (30.0, 20.0, 20.0, 10.0), eta_max=2.1),
            Seed(name="HT", kind=SeedKind.HT, collections=("jet",), object_pt_min=20.0, eta_max=2.4, threshold=200.0),
            Seed(name="MHT", kind=SeedKind.MET, collections=("jet", "muon"), object_pt_min=5.0, eta_max=2.5, threshold=50.0),
            Seed(name="MET", kind=SeedKind.MET, met_source="event", threshold=50.0),
        ),
    )  # fmt: skip


def test_seed_scores_match_reference() -> None:
    menu = _menu()
    batch = _random_batch(400, seed=7)
    scores = SeedEvaluator(menu).scores(batch)
    expected = np.empty_like(scores)
    for i in range(len(batch)):
        for column, seed in enumerate(menu.seeds):
            if seed.kind is SeedKind.OBJECTS:
                expected[i, column] = _reference_objects(
                    seed, _objects(batch, seed.collections[0], i)
                )
            elif seed.kind is SeedKind.HT:
                expected[i, column] = _reference_ht(seed, _objects(batch, "jet", i))
            elif seed.met_source == "objects":
                objs = _objects(batch, "jet", i) + _objects(batch, "muon", i)
                expected[i, column] = _reference_mht(seed, objs)
            else:
                expected[i, column] = min(math.floor(float(batch.met_pt[i]) * 4), (1 << 16) - 1)
    np.testing.assert_array_equal(scores, expected)
    # every seed both fires and does not fire somewhere, so the comparison means something
    thresholds = np.array([s.threshold_raw for s in menu.seeds])
    fired = scores >= thresholds
    assert fired.any(axis=0).all()
    assert (~fired).any(axis=0).all()


def test_invariant_mass_of_a_known_pair() -> None:
    """Two 40 GeV muons back to back at η = ±0.5: m = 2 · 40 · cosh(0.5) ≈ 90.2 GeV."""
    muons = Objects(
        offsets=np.array([0, 2], np.int64),
        pt=np.array([40.0, 40.0], np.float32),
        eta=np.array([0.5, -0.5], np.float32),
        phi=np.array([0.0, math.pi], np.float32),
        quality=np.zeros(2, np.int32),
    )
    batch = EventBatch.from_events([0], [0.0], [0.0], {"muon": muons})

    def mass_seed(low: float, high: float) -> Seed:
        return Seed(
            name=f"M{int(low)}", kind=SeedKind.OBJECTS, collections=("muon",),
            pt_thresholds=(4.0, 4.0), pair=PairCuts(mass_min=low, mass_max=high),
        )  # fmt: skip

    menu = Menu(
        name="mass", seeds=(mass_seed(89.0, 91.0), mass_seed(91.0, 200.0), mass_seed(0.0, 89.0))
    )
    scores = SeedEvaluator(menu).scores(batch)[0]
    assert scores.tolist() == [160, -1, -1]  # only the window containing 90.2 GeV passes


@pytest.mark.parametrize("n", [0, 1])
def test_empty_and_objectless_batches(n: int) -> None:
    batch = EventBatch.from_events(np.arange(n), np.zeros(n), np.zeros(n), {})
    scores = SeedEvaluator(_menu()).scores(batch)
    assert scores.shape == (n, len(_menu().seeds))
    if n:
        assert scores[0, :8].tolist() == [-1] * 8  # object seeds: no candidate
        assert scores[0, 8:].tolist() == [0, 0, 0]  # sums of nothing
