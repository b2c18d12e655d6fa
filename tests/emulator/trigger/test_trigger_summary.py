"""summarize(): the summary.json content on a replay with pile-up, signals and empty slots."""

from __future__ import annotations

import json

import numpy as np
import pytest

from emulator import run
from emulator.analysis import collision_mask, rate, summarize
from emulator.menu import Menu, Seed, SeedKind
from emulator.replay import DecisionBatch, concat_decisions
from emulator.timing import timing_report
from streams import pileup, synthetic, timeline


def _menu() -> Menu:
    return Menu(
        name="summary-test",
        seeds=(
            Seed(name="Jet60", kind=SeedKind.OBJECTS, collections=("jet",), pt_thresholds=(60.0,)),
            Seed(name="HT150", kind=SeedKind.HT, collections=("jet",), object_pt_min=20.0, threshold=150.0),
            Seed(name="Mu10", kind=SeedKind.OBJECTS, collections=("muon",), pt_thresholds=(10.0,), prescale=2),
            Seed(name="MaskedEG", kind=SeedKind.OBJECTS, collections=("egamma",), pt_thresholds=(5.0,), masked=True),
        ),
    )  # fmt: skip


@pytest.fixture(scope="module")
def background() -> DecisionBatch:
    events = synthetic.generate("background", 6000, seed=21)
    placed = timeline.place(events)  # completes the last orbit: trailing colliding slots are empty
    # μ rising with the orbit number gives several pile-up bins
    stream = pileup.overlay(
        placed,
        synthetic.generate("minbias", 5000, seed=22),
        lambda orbit, _bx: 20.0 + 40.0 * orbit,
        seed=3,
    )
    return concat_decisions(run(stream, _menu()))


def test_collision_mask_leaves_out_trailing_empty_slots() -> None:
    placed = list(timeline.place(synthetic.generate("background", 100, seed=1)))
    d = concat_decisions(run(placed, _menu()))
    mask = collision_mask(d)
    assert mask.sum() == 100  # the 100 events; the orbit's other colliding slots carry nothing
    assert d.colliding.sum() > 100


def test_summary_is_strict_json_with_all_sections(background: DecisionBatch) -> None:
    signal = concat_decisions(run(synthetic.generate("A_4l", 500, seed=4), _menu()))
    summary = summarize(
        background,
        timing=timing_report(_menu()),
        target_rates_hz={"Jet60": 1.0e6},
        signals={"A_4l": signal},
        pileup_bins=4,
    )
    text = json.dumps(summary, allow_nan=False)
    assert len(text) > 1000
    for key in ("rates", "overlap_hz", "accepts", "rate_vs_threshold", "thresholds", "signals", "pileup",
                "occupancy", "timing"):  # fmt: skip
        assert key in summary, key
    collisions = collision_mask(background)
    expected_total = rate(int((background.final_or & collisions).sum()), int(collisions.sum()))
    assert summary["rates"]["total"] == expected_total
    assert summary["thresholds"]["Jet60"]["rate_hz"] <= 1.0e6
    assert summary["accepts"]["limit_hz"] == 750_000.0
    assert 0 < summary["accepts"]["deadtime_fraction"] < 1
    # overlap diagonal = prescaled rate of each unmasked seed; the masked seed contributes nothing
    matrix = np.array(summary["overlap_hz"]["matrix"])
    for i, name in enumerate(summary["overlap_hz"]["seeds"]):
        expected = (
            0.0 if name == "MaskedEG" else summary["rates"]["seeds"][name]["prescaled"]["rate_hz"]
        )
        assert matrix[i, i] == pytest.approx(expected)
    scan = summary["rate_vs_threshold"]["Jet60"]
    assert scan["rate_hz"] == sorted(scan["rate_hz"], reverse=True)
    eff = summary["signals"]["A_4l"]
    assert 0 < eff["total_efficiency"] <= 1
    assert eff["seeds"]["Jet60"]["efficiency"] == pytest.approx(
        signal.fired[:, signal.column("Jet60")].mean()
    )
    pile = summary["pileup"]
    assert pile["variable"] == "true_interactions"
    assert len(pile["bins"]["mu_mean"]) >= 2
    assert pile["extrapolation"]["mu"] == 200.0
    assert pile["extrapolation"]["rate_err_hz"] > 0
    occupancy = summary["occupancy"]
    assert len(occupancy["l1a"]) == 3564
    assert sum(occupancy["l1a"]) == int(background.l1a.sum())
