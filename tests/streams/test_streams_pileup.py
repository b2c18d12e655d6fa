"""Pile-up overlay: Poisson counts, object-level merging, MET sum, μ shapes."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

import streams
from streams import EventBatch, Objects, StreamError, synthetic
from streams.pileup import DEFAULT_MAX_OBJECTS, LevellingProfile, overlay
from streams.timeline import BX_PER_ORBIT, FillingScheme, place


def _placed(n_events: int, process: str = "background", seed: int = 2) -> list[EventBatch]:
    return list(place(synthetic.generate(process, n_events, seed=seed), chunk_bx=5000))


def _one_event_pool() -> list[EventBatch]:
    """A minimum-bias 'pool' of one known event: jets 30 and 10 GeV, one 5 GeV e/gamma, MET 4 GeV."""
    jets = Objects.from_counts([2], [30.0, 10.0], [0.5, -0.5], [1.0, 2.0], [7, 8])
    eg = Objects.from_counts([1], [5.0], [0.1], [0.2])
    return [EventBatch.from_events([99], [4.0], [0.0], {"jet": jets, "egamma": eg})]


def test_merge_is_union_sorted_by_pt_truncated_with_met_vector_sum() -> None:
    hard = streams.concat_batches(_placed(3000))
    out = streams.concat_batches(list(overlay([hard], _one_event_pool(), mu=3.0, seed=5)))
    target = hard.colliding
    n_pu = out.true_interactions[target] - (hard.event_id[target] >= 0)
    assert (n_pu >= 0).all()
    assert n_pu.max() >= 6  # Poisson(3) over thousands of BX
    pool = _one_event_pool()[0]
    for name in ("jet", "egamma"):
        k = DEFAULT_MAX_OBJECTS[name]
        h, o, p = hard.objects[name], out.objects[name], pool.objects[name]
        for r in np.flatnonzero(target)[:400]:
            n = int(out.true_interactions[r] - (hard.event_id[r] >= 0))
            pt = np.concatenate([h.pt[h.offsets[r] : h.offsets[r + 1]], np.tile(p.pt, n)])
            eta = np.concatenate([h.eta[h.offsets[r] : h.offsets[r + 1]], np.tile(p.eta, n)])
            order = np.argsort(-pt, kind="stable")[:k]
            np.testing.assert_array_equal(o.pt[o.offsets[r] : o.offsets[r + 1]], pt[order])
            np.testing.assert_array_equal(o.eta[o.offsets[r] : o.offsets[r + 1]], eta[order])
    px = hard.met_pt * np.cos(hard.met_phi) + 4.0 * np.where(
        target, out.true_interactions - hard.has_event, 0
    )
    py = hard.met_pt * np.sin(hard.met_phi)
    np.testing.assert_allclose(out.met_pt[target], np.hypot(px, py)[target], rtol=1e-5, atol=1e-4)


def test_poisson_mean_and_variance_at_mu_200() -> None:
    minbias = synthetic.generate("minbias", 20_000, seed=1)
    out = streams.concat_batches(list(overlay(_placed(10_000), minbias, mu=200.0, seed=3)))
    hs = out.has_event & out.colliding
    n_pu = out.true_interactions[hs] - 1
    assert abs(n_pu.mean() - 200) < 1.0
    assert abs(n_pu.var() / 200 - 1) < 0.1
    # pile-up adds objects and MET, capped at the slot counts
    assert out.objects["jet"].counts().max() == DEFAULT_MAX_OBJECTS["jet"]
    assert np.median(out.met_pt[hs]) > 20.0


def test_non_colliding_bx_are_untouched() -> None:
    hard = streams.concat_batches(_placed(3000))
    out = streams.concat_batches(
        list(overlay([hard], synthetic.generate("minbias", 1000), mu=50.0))
    )
    empty = ~hard.colliding
    assert (out.true_interactions[empty] == 0).all()
    assert (out.met_pt[empty] == 0).all()
    assert (out.objects["jet"].counts()[empty] == 0).all()


def test_mu_per_bx_array() -> None:
    mu = np.zeros(BX_PER_ORBIT)
    mu[:100] = 40.0
    out = streams.concat_batches(
        list(overlay(_placed(3000), synthetic.generate("minbias", 1000), mu=mu))
    )
    hs = out.has_event & out.colliding
    n_pu = out.true_interactions - 1
    assert (n_pu[hs & (out.bx >= 100)] == 0).all()
    assert n_pu[hs & (out.bx < 100)].mean() > 30


def test_levelling_profile_and_callable() -> None:
    profile = LevellingProfile.over_orbits(10, fill_hours=20.0, peak_mu=100.0, levelled_hours=5.0)
    mu = profile.mu(np.arange(10, dtype=np.int64))
    assert mu[0] == 100.0
    assert (np.diff(mu) <= 0).all()
    assert mu[-1] < 40.0
    out = streams.concat_batches(
        list(overlay(_placed(27_600), synthetic.generate("minbias", 1000), mu=profile, seed=1))
    )
    hs = out.has_event & out.colliding
    first = (out.true_interactions - 1)[hs & (out.orbit == 0)].mean()
    last = (out.true_interactions - 1)[hs & (out.orbit == 9)].mean()
    assert first == pytest.approx(100, rel=0.05)
    assert last < 0.5 * first
    by_function = streams.concat_batches(
        list(
            overlay(
                _placed(2760), synthetic.generate("minbias", 100), mu=lambda _orbit, bx: 0.0 * bx
            )
        )
    )
    assert np.nanmax(by_function.true_interactions) == 1


def test_existing_pileup_is_exposed_unchanged(reference_file: Callable[..., Path]) -> None:
    nano = streams.open(reference_file("events", "nanoAOD_2015_CMS_Open_Data_ttbar.root"))
    placed = streams.concat_batches(list(place(nano)))
    out = streams.concat_batches(
        list(overlay([placed], synthetic.generate("minbias", 100), mu=200.0))
    )
    filled = out.has_event
    raw = streams.concat_batches(list(nano))
    np.testing.assert_array_equal(out.true_interactions[filled], raw.true_interactions)
    np.testing.assert_array_equal(out.n_vertices[filled], raw.n_vertices)
    np.testing.assert_array_equal(out.met_pt[filled], raw.met_pt)
    for name in raw.objects:
        np.testing.assert_array_equal(
            out.objects[name].counts()[filled], raw.objects[name].counts()
        )
        np.testing.assert_array_equal(
            out.objects[name].pt[: raw.objects[name].pt.shape[0]], raw.objects[name].pt
        )
    # colliding BX left without a hard scatter after the data ran out get pile-up only
    padding = out.colliding & ~filled
    assert padding.any()
    assert out.true_interactions[padding].mean() > 150


def test_same_seed_same_overlay() -> None:
    runs = [
        streams.concat_batches(
            list(overlay(_placed(3000), synthetic.generate("minbias", 500), mu=20.0, seed=9))
        )
        for _ in range(2)
    ]
    np.testing.assert_array_equal(runs[0].true_interactions, runs[1].true_interactions)
    np.testing.assert_array_equal(runs[0].objects["jet"].pt, runs[1].objects["jet"].pt)


@pytest.mark.parametrize(
    ("mu", "message"),
    [(np.ones(10), "3564 values"), (-1.0, "finite and >= 0"), (np.nan, "finite")],
)
def test_bad_mu_is_rejected(mu: object, message: str) -> None:
    with pytest.raises(StreamError, match=message):
        list(overlay(_placed(100), synthetic.generate("minbias", 10), mu=mu))  # type: ignore[arg-type]


def test_empty_minbias_source_is_rejected() -> None:
    with pytest.raises(StreamError, match="no events"):
        list(overlay(_placed(100), synthetic.generate("minbias", 0)))


def test_default_scheme_is_used() -> None:
    out = streams.concat_batches(_placed(10))
    np.testing.assert_array_equal(out.colliding, FillingScheme.default().colliding)


def test_custom_slot_counts_including_zero() -> None:
    limits = {"jet": 2, "egamma": 0, "muon": 1, "tau": 3}
    out = streams.concat_batches(
        list(
            overlay(
                _placed(3000), synthetic.generate("minbias", 2000), mu=100.0, max_objects=limits
            )
        )
    )
    hs = out.colliding
    for name, k in limits.items():
        assert out.objects[name].counts()[hs].max() <= k
    assert out.objects["jet"].counts()[hs].max() == 2
    assert (out.objects["egamma"].counts()[hs] == 0).all()
    with pytest.raises(ValueError, match="1 to 32 collections"):
        list(overlay(_placed(10), synthetic.generate("minbias", 10), max_objects={}))


def test_overlay_keeps_charge_isolation_and_quality_of_every_object() -> None:
    """Hand-made events: each merged object keeps the fields of the object it came from.

    pT values are distinct, so every output object names its origin: hard muons
    (25, 12 GeV) with charges +1/-1 and isolation words 3/0; the pool event's muons
    (20, 4 GeV) with charges -1/+1 and isolation 1/2; its e/gamma without charge or
    isolation (the unknown defaults must survive, so cuts on them still fail loudly).
    """
    hard_mu = Objects.from_counts(
        [2, 0], [25.0, 12.0], [0.1, 0.2], [0.3, 0.4], [15, 12], charge=[1, -1], isolation=[3, 0]
    )
    hard = EventBatch.from_events([1, 2], [0.0, 0.0], [0.0, 0.0], {"muon": hard_mu})
    pool_mu = Objects.from_counts(
        [2], [20.0, 4.0], [1.0, 1.1], [1.2, 1.3], [8, 4], charge=[-1, 1], isolation=[1, 2]
    )
    pool_eg = Objects.from_counts([1], [7.0], [0.5], [0.6], [1])
    pool = [EventBatch.from_events([99], [0.0], [0.0], {"muon": pool_mu, "egamma": pool_eg})]
    placed = streams.concat_batches(list(place([hard])))
    limits = {"muon": 8, "egamma": 4}
    out = streams.concat_batches(list(overlay([placed], pool, mu=1.0, seed=4, max_objects=limits)))
    expected = {  # pT -> (quality, charge, isolation)
        25.0: (15, 1, 3),
        12.0: (12, -1, 0),
        20.0: (8, -1, 1),
        4.0: (4, 1, 2),
        7.0: (1, streams.CHARGE_UNKNOWN, streams.ISOLATION_UNKNOWN),
    }
    seen = set()
    for name in ("muon", "egamma"):
        objects = out.objects[name]
        assert objects.pt.shape[0] > 2  # pile-up was merged in
        for pt, quality, charge, isolation in zip(
            objects.pt, objects.quality, objects.charge, objects.isolation, strict=True
        ):
            assert (int(quality), int(charge), int(isolation)) == expected[float(pt)]
            seen.add(float(pt))
    assert seen == set(expected)
    # the hard scatter's own record (first colliding BX with an event) keeps its muons first
    first = int(np.flatnonzero(out.has_event)[0])
    muons = out.objects["muon"]
    lo = int(muons.offsets[first])
    assert muons.pt[lo] == 25.0
    assert (muons.charge[lo], muons.isolation[lo]) == (1, 3)
