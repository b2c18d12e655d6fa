"""One definition of the BX that count, used by every number of emulator.analysis.

The input here fills one orbit and part of a second one: ``streams.timeline.place``
completes the second orbit with empty colliding slots, and the pile-up overlay puts
pile-up into them. Those slots are not collisions anybody recorded: every rate,
overlap, scan, threshold, efficiency curve and histogram must count the input's
events only, and agree with each other and with a count made here from the raw
arrays.
"""

from __future__ import annotations

import numpy as np
import pytest

from emulator import analysis, run
from emulator.menu import Menu, Seed, SeedKind
from emulator.replay import DecisionBatch, concat_decisions
from streams import pileup, synthetic, timeline

N_EVENTS = 4000  # 2760 + 1240: the second orbit's last 1520 colliding slots are padding
SCALE = 11245.6 * 2760


def _menu() -> Menu:
    return Menu(
        name="counted-bx",
        seeds=(
            Seed(name="Jet40", kind=SeedKind.OBJECTS, collections=("jet",), pt_thresholds=(40.0,)),
            Seed(name="HT100", kind=SeedKind.HT, collections=("jet",), object_pt_min=20.0, threshold=100.0),
            Seed(name="Mu5", kind=SeedKind.OBJECTS, collections=("muon",), pt_thresholds=(5.0,), prescale=2),
            Seed(name="MaskedEG", kind=SeedKind.OBJECTS, collections=("egamma",), pt_thresholds=(5.0,), masked=True),
        ),
    )  # fmt: skip


@pytest.fixture(scope="module")
def decisions() -> DecisionBatch:
    placed = timeline.place(synthetic.generate("background", N_EVENTS, seed=31))
    stream = pileup.overlay(placed, synthetic.generate("minbias", 3000, seed=32), 30.0, seed=5)
    return concat_decisions(run(stream, _menu()))


@pytest.fixture(scope="module")
def signal() -> DecisionBatch:
    placed = timeline.place(synthetic.generate("A_4l", 700, seed=33))
    return concat_decisions(run(placed, _menu()))


def test_the_input_really_has_padding(decisions: DecisionBatch) -> None:
    padding = decisions.colliding & (decisions.event_id < 0)
    assert padding.sum() == 2 * 2760 - N_EVENTS
    # the overlay gave the padding pile-up: a "has pile-up" rule would count it
    assert np.isfinite(decisions.true_interactions[padding]).all()


def test_collision_mask_is_the_input_events(decisions: DecisionBatch) -> None:
    mask = analysis.collision_mask(decisions)
    assert mask.sum() == N_EVENTS
    np.testing.assert_array_equal(mask, decisions.colliding & (decisions.event_id >= 0))


def test_every_number_counts_the_same_bx(decisions: DecisionBatch, signal: DecisionBatch) -> None:
    events = decisions.event_id >= 0
    rates = analysis.replay_rates(decisions)
    overlap = analysis.replay_overlap(decisions)
    accepts = analysis.accept_summary(decisions)
    assert accepts["n_colliding_bx"] == N_EVENTS
    assert rates["total"]["n_bx"] == N_EVENTS
    for index, name in enumerate(decisions.seed_names):
        meta = decisions.seed_metadata(name)
        fired = int(decisions.fired[events, index].sum())
        prescaled = int(decisions.prescaled[events, index].sum())
        entry = rates["seeds"][name]
        assert entry["unprescaled"]["n_accepted"] == fired
        assert entry["unprescaled"]["n_bx"] == N_EVENTS
        assert entry["prescaled"]["rate_hz"] == pytest.approx(prescaled / N_EVENTS * SCALE)
        expected_diagonal = 0.0 if meta["masked"] else entry["prescaled"]["rate_hz"]
        assert overlap[index, index] == pytest.approx(expected_diagonal, rel=1e-12)
        # the scan at the menu threshold is the rate before prescale
        threshold = meta["threshold_raw"]
        scan = analysis.seed_rate_vs_threshold(decisions, name, [threshold])
        assert scan["n_bx"] == N_EVENTS
        assert scan["rate_hz"][0] == pytest.approx(entry["unprescaled"]["rate_hz"], rel=1e-12)
        assert threshold in analysis.scan_points(decisions, name, {"A_4l": signal})
        curve = analysis.seed_efficiency_vs_rate(signal, decisions, name, [threshold])
        assert curve["rate_hz"][0] == pytest.approx(entry["unprescaled"]["rate_hz"], rel=1e-12)
        histogram = analysis.score_histograms(decisions, name, {"A_4l": signal})
        valid = int((decisions.scores[events, index] >= 0).sum())
        assert sum(histogram["background"]) == valid
    assert rates["total"]["n_accepted"] == int(decisions.final_or[events].sum())
    assert accepts["l1a"]["n_accepted"] == int(decisions.l1a[events].sum())
    assert accepts["l1a"]["rate_hz"] <= rates["total"]["rate_hz"]  # rules only remove accepts
    assert accepts["deadtime_fraction"] == pytest.approx(decisions.dead[events].mean())


def test_threshold_for_a_target_counts_the_input_events(decisions: DecisionBatch) -> None:
    found = analysis.seed_threshold_for_rate(decisions, "HT100", 300e3)
    assert found["found"]
    assert found["n_bx"] == N_EVENTS
    scores = decisions.scores[decisions.event_id >= 0, decisions.column("HT100")]
    passing = int((scores >= found["threshold_raw"]).sum())
    assert found["rate_hz"] == pytest.approx(passing / N_EVENTS * SCALE)
    assert found["rate_hz"] <= 300e3
    assert (scores >= found["threshold_raw"] - 1).sum() / N_EVENTS * SCALE > 300e3


def test_a_target_below_one_event_is_reported_not_guessed(decisions: DecisionBatch) -> None:
    one_event_hz = SCALE / N_EVENTS  # about 7.8 kHz
    found = analysis.seed_threshold_for_rate(decisions, "HT100", one_event_hz / 2)
    assert not found["found"]
    assert found["threshold"] is None
    assert found["rate_hz"] is None
    assert "too small" in found["note"]


def test_summarize_uses_the_same_bx(decisions: DecisionBatch, signal: DecisionBatch) -> None:
    summary = analysis.summarize(decisions, signals={"A_4l": signal}, occupancy=False)
    assert summary["accepts"]["n_colliding_bx"] == N_EVENTS
    assert summary["rate_vs_threshold"]["Jet40"]["n_bx"] == N_EVENTS
    assert sum(summary["pileup"]["bins"]["n_bx"]) == N_EVENTS
    assert summary["signals"]["A_4l"]["n_events"] == 700
    assert summary["rates"] == analysis.replay_rates(decisions)
