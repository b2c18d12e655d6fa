"""The streaming analysis: integer counts of decision chunks merge into the numbers of one pass.

Every number of ``summary.json`` must be the same whether the decisions are held in
memory at once, or counted chunk by chunk (in any order, as Dask workers return
them) and merged. The order statistics read from the histograms are checked
against numpy's own ``np.quantile``.
"""

from __future__ import annotations

import json
import random
from fractions import Fraction

import numpy as np
import pytest

from emulator import analysis, run
from emulator.analysis import CountsAccumulator, DecisionCounts, ValueCounts
from emulator.menu import Menu, Seed, SeedKind
from emulator.replay import DecisionBatch, concat_decisions
from streams import pileup, synthetic, timeline


def _menu() -> Menu:
    return Menu(
        name="stream-test",
        seeds=(
            Seed(name="Jet60", kind=SeedKind.OBJECTS, collections=("jet",), pt_thresholds=(60.0,)),
            Seed(name="HT150", kind=SeedKind.HT, collections=("jet",), object_pt_min=20.0, threshold=150.0),
            Seed(name="Mu5", kind=SeedKind.OBJECTS, collections=("muon",), pt_thresholds=(5.0,), prescale=2.5),
            Seed(name="MaskedEG", kind=SeedKind.OBJECTS, collections=("egamma",), pt_thresholds=(5.0,), masked=True),
        ),
    )  # fmt: skip


def _mu(orbit: np.ndarray, _bx: np.ndarray) -> np.ndarray:
    return 20.0 + 37.3 * orbit / 3.0  # not a whole number: the bin means need exact sums


@pytest.fixture(scope="module")
def chunks() -> list[DecisionBatch]:
    placed = timeline.place(synthetic.generate("background", 9000, seed=41), chunk_bx=1000)
    stream = pileup.overlay(placed, synthetic.generate("minbias", 4000, seed=42), _mu, seed=7)
    return list(run(stream, _menu()))


@pytest.fixture(scope="module")
def signal() -> DecisionBatch:
    return concat_decisions(run(timeline.place(synthetic.generate("A_4l", 800, seed=43)), _menu()))


def _summary(decisions: DecisionBatch | DecisionCounts, signal: DecisionBatch, **kw: object) -> str:
    summary = analysis.summarize(
        decisions,
        target_rates_hz={"HT150": 2e6, "Jet60": 1e5},
        signals={"A_4l": signal},
        pileup_bins=5,
        **kw,  # type: ignore[arg-type]
    )
    return json.dumps(summary, sort_keys=True)


def test_chunked_counts_give_the_summary_of_one_pass(
    chunks: list[DecisionBatch], signal: DecisionBatch
) -> None:
    assert len(chunks) > 5
    whole = concat_decisions(chunks)
    mu = pileup.mean_interactions(_mu, whole.orbit, whole.bx)
    expected = _summary(whole, signal, mu=mu)
    accumulator = CountsAccumulator()
    shuffled = list(chunks)
    random.Random(3).shuffle(shuffled)  # workers return chunks in any order
    for batch in shuffled:
        accumulator.add(batch, mu=pileup.mean_interactions(_mu, batch.orbit, batch.bx))
    merged = accumulator.result()
    assert merged is not None
    assert merged.n_rows == len(whole)
    assert _summary(merged, signal) == expected
    # the decision-level functions read the same counts
    names = whole.seed_names
    for name in names:
        points = analysis.scan_points(whole, name, {"A_4l": signal})
        np.testing.assert_array_equal(points, analysis.scan_points(merged, name, {"A_4l": signal}))
        assert analysis.score_histograms(whole, name, {"s": signal}) == analysis.score_histograms(
            merged, name, {"s": signal}
        )


def test_counts_merge_in_any_grouping(chunks: list[DecisionBatch]) -> None:
    parts = [DecisionCounts.of(batch) for batch in chunks]
    left = DecisionCounts.merge([DecisionCounts.merge(parts[:3]), DecisionCounts.merge(parts[3:])])
    right = DecisionCounts.merge(parts[::-1])
    for field in ("n_rows", "n_counted", "n_total", "n_l1a", "n_dead", "n_vetoed"):
        assert getattr(left, field) == getattr(right, field)
    np.testing.assert_array_equal(left.overlap, right.overlap)
    np.testing.assert_array_equal(left.occupancy, right.occupancy)
    for a, b in zip(left.scores, right.scores, strict=True):
        np.testing.assert_array_equal(a.values, b.values)
        np.testing.assert_array_equal(a.counts, b.counts)


@pytest.mark.parametrize("size", [1, 2, 3, 7, 120, 1001, 20_000])
def test_quantiles_from_the_histogram_are_numpys(size: int) -> None:
    rng = np.random.default_rng(size)
    for values in (
        rng.integers(-1, 6, size),  # many ties
        rng.integers(0, 2**40, size),  # (almost) all distinct, wide network scores
    ):
        counts = ValueCounts.of(values)
        grid = np.linspace(0.0, 1.0, 120)
        np.testing.assert_array_equal(
            counts.quantile_inverted_cdf(grid), np.quantile(values, grid, method="inverted_cdf")
        )
        for q in (0.0, 0.5, 0.9999, 1.0, 0.123):
            assert counts.quantile_linear(q) == float(np.quantile(values, q))
        ranks = rng.integers(0, size, 50)
        np.testing.assert_array_equal(counts.ranked(ranks), np.sort(values)[ranks])
        thresholds = rng.choice(values, 20)
        np.testing.assert_array_equal(
            counts.at_least(thresholds), (values[:, None] >= thresholds[None, :]).sum(axis=0)
        )


@pytest.mark.parametrize("n_parts", [2, 3, 8])
def test_histograms_merge_into_the_histogram_of_everything(n_parts: int) -> None:
    """Merging the histograms of pieces (empty ones, ties across pieces, weights, floats
    with -0.0 and 0.0) gives the histogram of the whole sample."""
    rng = np.random.default_rng(n_parts)
    for draw in (
        lambda n: rng.integers(-3, 4, n),  # every value in every piece
        lambda n: rng.integers(-(2**40), 2**40, n),  # all distinct
        lambda n: rng.choice([-0.0, 0.0, 0.5, 1.5, 1e300], n),
    ):
        sizes = rng.integers(0, 400, n_parts)
        sizes[1] = 0
        pieces = [draw(int(n)) for n in sizes]
        weights = [rng.random(len(p)) < 0.3 for p in pieces]
        merged = ValueCounts.merge(
            ValueCounts.of(p, w, dtype=p.dtype) for p, w in zip(pieces, weights, strict=True)
        )
        whole = ValueCounts.of(
            np.concatenate(pieces), np.concatenate(weights), dtype=pieces[0].dtype
        )
        np.testing.assert_array_equal(merged.values, whole.values)
        assert merged.values.dtype == whole.values.dtype
        np.testing.assert_array_equal(merged.counts, whole.counts)


def test_pileup_bin_means_are_exact_whatever_the_order() -> None:
    rng = np.random.default_rng(5)
    values = rng.uniform(0.0, 200.0, 5000) * (1 + 1e-9)
    accepted = rng.random(5000) < 0.3
    forward = analysis.rate_vs_pileup(accepted, np.ones(5000, bool), values, 4)
    backward = analysis.rate_vs_pileup(accepted[::-1], np.ones(5000, bool), values[::-1], 4)
    assert forward == backward
    edges = np.histogram_bin_edges(values, 4)
    first = values <= edges[1]
    exact = sum((Fraction(v) for v in values[first]), Fraction(0)) / int(first.sum())
    assert forward["mu_mean"][0] == float(exact)


def test_chunks_replayed_apart_equal_one_replay_after_the_sequential_pass() -> None:
    """The distributed replay's mechanism: fresh replays per chunk, state applied in order."""
    from emulator.replay import SequentialState, with_sequential_decisions

    menu = _menu()
    placed = list(timeline.place(synthetic.generate("background", 12000, seed=44), chunk_bx=3564))
    whole = concat_decisions(run(placed, menu))
    state = SequentialState(menu)
    parts = []
    for block in placed:  # each chunk replayed by itself, its counters and rules from zero
        alone = concat_decisions(run([block], menu))
        parts.append(with_sequential_decisions(alone, state.apply(alone.global_bx(), alone.fired)))
    joined = concat_decisions(parts)
    for name in ("scores", "fired", "prescaled", "final_or", "dead", "vetoed", "l1a"):
        np.testing.assert_array_equal(getattr(joined, name), getattr(whole, name), err_msg=name)
    assert whole.dead.any()
    assert 0 < whole.prescaled[:, 2].sum() < whole.fired[:, 2].sum()
    # without the sequential pass the chunks would disagree: the test can fail
    naive = concat_decisions([concat_decisions(run([block], menu)) for block in placed])
    assert not np.array_equal(naive.prescaled, whole.prescaled)


def test_overlap_counts_each_pair_of_passing_seeds(chunks: list[DecisionBatch]) -> None:
    """overlap[i, j]: counted BX where unmasked seeds i and j both pass after prescale."""
    whole = concat_decisions(chunks)
    counts = DecisionCounts.of(whole)
    masked = [bool(seed["masked"]) for seed in whole.metadata["seeds"]]
    counted = analysis.collision_mask(whole)
    expected = np.zeros_like(counts.overlap)
    for row in np.flatnonzero(counted):
        passing = [i for i, on in enumerate(whole.prescaled[row]) if on and not masked[i]]
        for i in passing:
            for j in passing:
                expected[i, j] += 1
    assert expected[0, 1] > 0  # pairs, not only the diagonal
    np.testing.assert_array_equal(counts.overlap, expected)
