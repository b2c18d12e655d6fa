"""Rate versus pile-up: binned in μ, two fit models chosen by χ², honest extrapolation."""

from __future__ import annotations

import math

import numpy as np
import pytest

from emulator import analysis, run
from emulator.analysis import (
    chi2_probability,
    extrapolate_rate,
    fit_curve,
    fit_pileup_models,
    pileup_section,
)
from emulator.menu import Menu, Seed, SeedKind
from emulator.replay import DecisionBatch, concat_decisions
from streams import pileup, synthetic, timeline


@pytest.mark.parametrize("ndf", range(1, 11))
def test_chi2_probability_matches_scipy(ndf: int) -> None:
    stats = pytest.importorskip("scipy.stats")
    for chi2 in (0.0, 0.3, 1.0, ndf, 2.5 * ndf, 69.1, 300.0):
        assert chi2_probability(chi2, ndf) == pytest.approx(
            float(stats.chi2.sf(chi2, ndf)), rel=1e-9, abs=1e-300
        )
    assert math.isnan(chi2_probability(1.0, 0))


def test_hand_values_of_the_chi2_probability() -> None:
    assert chi2_probability(3.841458820694124, 1) == pytest.approx(0.05)
    assert chi2_probability(4.0, 2) == pytest.approx(math.exp(-2.0))


MU = np.array([20.0, 45.0, 70.0, 95.0, 120.0, 145.0, 170.0, 200.0])


def test_the_model_with_a_constant_is_chosen_when_the_data_need_it() -> None:
    truth = 130e3 + 50.0 * MU + 5.0 * MU**2  # a hard scatter in every BX fires at 130 kHz
    sigma = 0.03 * truth
    noise = np.array([1, -1, 0.5, -0.5, 1, -1, 0.5, -0.5]) * sigma
    fit = fit_pileup_models(MU, truth + noise, sigma)
    assert fit["model"] == "c + a·μ + b·μ²"
    assert fit["c"] == pytest.approx(130e3, rel=0.1)
    assert not fit["bad"]
    (other,) = fit["alternatives"]
    assert other["model"] == "a·μ + b·μ²"
    assert other["chi2_probability"] < fit["chi2_probability"]


def test_the_simpler_model_wins_a_tie() -> None:
    truth = 800.0 * MU + 3.0 * MU**2
    fit = fit_pileup_models(MU, truth, 0.05 * truth)
    assert fit["model"] == "a·μ + b·μ²"
    assert fit["c"] == 0.0


def test_a_bad_fit_is_flagged() -> None:
    zigzag = np.array([1e5, 5e5, 1e5, 5e5, 1e5, 5e5, 1e5, 5e5])
    fit = fit_pileup_models(MU, zigzag, np.full(8, 1e4))
    assert fit["bad"]
    assert any("bad fit" in note for note in fit["notes"])
    assert extrapolate_rate(fit, 200.0)["bad_fit"]


def test_a_negative_extrapolation_is_never_a_rate() -> None:
    mu = np.array([8.0, 10.0, 12.0, 15.0, 17.0, 25.0])
    rate = 1.37e6 * mu - 5.5e4 * mu**2
    fit = fit_pileup_models(mu, rate, np.full(6, 2e6), constant=False)
    at_200 = extrapolate_rate(fit, 200.0)
    assert at_200["negative"]
    assert at_200["rate_hz"] is None
    assert at_200["rate_err_hz"] is None
    assert at_200["far_beyond"]  # 200 is 8x the highest fitted μ
    assert any("negative" in note for note in at_200["notes"])
    assert any("far beyond" in note for note in at_200["notes"])


def test_targets_near_and_inside_the_range_are_not_flagged() -> None:
    truth = 800.0 * MU + 3.0 * MU**2
    fit = fit_pileup_models(MU, truth, 0.05 * truth)
    for target in (100.0, 205.0):
        result = extrapolate_rate(fit, target)
        assert not result["far_beyond"]
        assert result["notes"] == []
        assert result["rate_hz"] == pytest.approx(800 * target + 3 * target**2)
    assert extrapolate_rate(fit, 300.0)["far_beyond"]


def test_fit_curve_is_the_model_and_its_band() -> None:
    truth = 130e3 + 50.0 * MU + 5.0 * MU**2
    fit = fit_pileup_models(MU, truth * (1 + 0.01 * np.sin(MU)), 0.03 * truth)
    curve = fit_curve(fit, [0.0, 100.0, 200.0])
    expected = [fit["c"] + fit["a"] * m + fit["b"] * m * m for m in (0.0, 100.0, 200.0)]
    assert curve["rate_hz"] == pytest.approx(expected)
    at_200 = extrapolate_rate(fit, 200.0)
    assert curve["high_hz"][2] - curve["rate_hz"][2] == pytest.approx(at_200["rate_err_hz"])


def _menu() -> Menu:
    return Menu(
        name="pileup-fit",
        seeds=(
            Seed(name="Jet40", kind=SeedKind.OBJECTS, collections=("jet",), pt_thresholds=(40.0,)),
            Seed(name="HT150", kind=SeedKind.HT, collections=("jet",), object_pt_min=20.0, threshold=150.0),
        ),
    )  # fmt: skip


def _mu(orbit: np.ndarray, _bx: np.ndarray) -> np.ndarray:
    return 20.0 + 40.0 * np.asarray(orbit, np.float64)


@pytest.fixture(scope="module")
def overlaid() -> DecisionBatch:
    placed = timeline.place(synthetic.generate("background", 3 * 2760 - 500, seed=51))
    stream = pileup.overlay(placed, synthetic.generate("minbias", 3000, seed=52), _mu, seed=53)
    return concat_decisions(run(stream, _menu()))


def test_rates_are_binned_in_the_poisson_mean_not_the_drawn_count(overlaid: DecisionBatch) -> None:
    mu = pileup.mean_interactions(_mu, overlaid.orbit, overlaid.bx)
    section = pileup_section(overlaid, mu=mu, bins=3)
    assert section is not None
    assert section["variable"] == "mu"
    # every BX of an orbit has the same μ: the bins sit exactly on 20, 60 and 100
    assert section["bins"]["mu_mean"] == pytest.approx([20.0, 60.0, 100.0], abs=1e-9)
    assert section["bins"]["n_bx"] == [2760, 2760, 2760 - 500]
    # the drawn counts (+1 for the hard scatter) spread around them instead
    drawn = pileup_section(overlaid, bins=3)
    assert drawn is not None
    assert drawn["variable"] == "true_interactions"
    assert drawn["bins"]["mu_mean"] != pytest.approx([20.0, 60.0, 100.0], abs=1e-9)


def test_summarize_passes_mu_and_says_what_it_fitted(overlaid: DecisionBatch) -> None:
    mu = pileup.mean_interactions(_mu, overlaid.orbit, overlaid.bx)
    summary = analysis.summarize(overlaid, mu=mu, pileup_bins=3, occupancy=False)
    section = summary["pileup"]
    assert section["label"].startswith("μ: mean number of interactions")
    assert section["fit"]["ndf"] >= 0
    assert section["extrapolation"]["far_beyond"]  # 200 is twice the highest μ (100)
    extrapolated = section["extrapolation"]["rate_hz"] is not None
    assert section["curve"]["mu"][-1] == pytest.approx((200.0 if extrapolated else 100.0) * 1.02)
    if extrapolated:
        assert section["extrapolation"]["rate_hz"] > 0


def test_vertices_are_not_extrapolated_as_mu(overlaid: DecisionBatch) -> None:
    vertices = np.where(overlaid.event_id >= 0, (overlaid.orbit + 1) * 7, -1).astype(np.int32)
    no_mu = np.full(len(overlaid), np.nan, np.float32)
    decisions = DecisionBatch(
        **{
            **{name: getattr(overlaid, name) for name in DecisionBatch.__dataclass_fields__},
            "true_interactions": no_mu,
            "n_vertices": vertices,
        }
    )
    section = pileup_section(decisions, bins=3)
    assert section is not None
    assert section["variable"] == "n_vertices"
    assert "not μ" in section["label"]
    assert "extrapolation" not in section
    assert any("no extrapolation" in note for note in section["notes"])


def test_not_minimum_bias_makes_the_accept_budget_meaningless(overlaid: DecisionBatch) -> None:
    accepts = analysis.accept_summary(overlaid, minimum_bias=False)
    assert accepts["within_limit"] is None
    assert "not a minimum-bias sample" in accepts["note"]
    assert analysis.accept_summary(overlaid)["within_limit"] in {True, False}
