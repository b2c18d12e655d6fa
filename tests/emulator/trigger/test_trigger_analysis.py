"""Rate formulas, threshold scans and the pile-up fit against hand-computed values."""

from __future__ import annotations

import math

import numpy as np
import pytest

from emulator.analysis import (
    count_at_least,
    efficiency_vs_rate,
    extrapolate_rate,
    fit_rate_vs_pileup,
    overlap_matrix,
    rate,
    rate_vs_pileup,
    rate_vs_threshold,
    seed_rates,
    threshold_for_rate,
    wilson_interval,
)

SCALE = 11245.6 * 2760  # Hz per unit accept fraction with 2760 colliding bunches


def test_rate_formula_and_binomial_error() -> None:
    r = rate(25, 1000)
    assert r["rate_hz"] == pytest.approx(0.025 * SCALE)
    assert r["rate_err_hz"] == pytest.approx(math.sqrt(0.025 * 0.975 / 1000) * SCALE)
    low, high = r["rate_interval_hz"]
    assert low < r["rate_hz"] < high
    assert rate(3, 10, n_colliding=2544)["rate_hz"] == pytest.approx(0.3 * 11245.6 * 2544)


def test_wilson_interval_hand_values() -> None:
    # k = 0, n = 10, z = 1: [0, z²/(n + z²)] = [0, 1/11]
    low, high = wilson_interval(0, 10)
    assert float(low) == 0.0
    assert float(high) == pytest.approx(1 / 11)
    # k = n: [n/(n + z²), 1]
    low, high = wilson_interval(10, 10)
    assert float(low) == pytest.approx(10 / 11)
    assert float(high) == pytest.approx(1.0)
    # k = 5, n = 10: centre 0.5, half width sqrt(0.025 + 1/400) / 1.1
    low, high = wilson_interval(5, 10)
    half = math.sqrt(0.25 / 10 + 1 / 400) / 1.1
    assert (float(low), float(high)) == pytest.approx((0.5 - half, 0.5 + half))


def test_rate_rejects_impossible_counts() -> None:
    with pytest.raises(ValueError, match="accepted"):
        rate(11, 10)
    assert math.isnan(rate(0, 0)["rate_hz"])


def test_seed_rates_pure_total_and_overlap() -> None:
    # 8 BX, 6 colliding (the last two are empty slots)
    prescaled = np.array(
        [[1, 0, 0], [1, 1, 0], [0, 1, 0], [0, 0, 1], [0, 0, 0], [1, 1, 1], [1, 1, 1], [1, 0, 0]],
        bool,
    )
    fired = prescaled.copy()
    fired[4] = [1, 0, 0]  # fired but prescaled away
    colliding = np.array([1, 1, 1, 1, 1, 1, 0, 0], bool)
    masked = np.array([False, False, True])
    out = seed_rates(("A", "B", "C"), fired, prescaled, masked, colliding)
    per = out["seeds"]
    assert per["A"]["unprescaled"]["n_accepted"] == 4  # BX 0, 1, 4, 5
    assert per["A"]["prescaled"]["n_accepted"] == 3  # BX 0, 1, 5
    assert per["A"]["pure"]["n_accepted"] == 1  # BX 0 (C is masked: it does not count)
    assert per["B"]["pure"]["n_accepted"] == 1  # BX 2
    assert per["C"]["pure"]["n_accepted"] == 0  # masked seeds are never in the OR
    assert out["total"]["n_accepted"] == 4  # BX 0, 1, 2, 5
    assert out["total"]["rate_hz"] == pytest.approx(4 / 6 * SCALE)
    matrix = overlap_matrix(prescaled, colliding)
    expected = np.array([[3, 2, 1], [2, 3, 1], [1, 1, 2]]) / 6 * SCALE
    np.testing.assert_allclose(matrix, expected)


def test_rate_vs_threshold_counts_scores_at_least() -> None:
    scores = np.array([-1, 0, 5, 5, 7, 9, 12, 100, 3])
    colliding = np.array([1, 1, 1, 1, 1, 1, 1, 1, 0], bool)  # the 3 is not colliding
    scan = rate_vs_threshold(scores, colliding, thresholds=[0, 5, 6, 10, 101], lsb=0.25)
    assert scan["threshold"] == [0.0, 1.25, 1.5, 2.5, 25.25]
    assert [round(r / SCALE * 8) for r in scan["rate_hz"]] == [7, 6, 4, 2, 0]
    auto = rate_vs_threshold(scores, colliding)
    assert auto["threshold_raw"] == [-1, 0, 5, 7, 9, 12, 100]
    np.testing.assert_array_equal(count_at_least(np.sort(scores), [5]), [6])


@pytest.mark.parametrize(
    ("target_fraction", "expected_threshold"),
    [
        (1 / 10, 13),  # one BX may pass: just above the second highest (12)
        (2.5 / 10, 12),  # two BX may pass: just above the third highest (11)
        (1.0, 0),  # everything may pass: the lowest score
    ],
)
def test_threshold_for_rate(target_fraction: float, expected_threshold: int) -> None:
    scores = np.array([0, 1, 2, 3, 5, 7, 11, 11, 12, 100])  # descending: 100, 12, 11, 11, 7, ...
    found = threshold_for_rate(scores, np.ones(10, bool), target_fraction * SCALE)
    # 2.5 of 10 allowed → k = 2 → threshold = third highest (11) + 1 = 12: passes 100, 12
    assert found["threshold_raw"] == expected_threshold
    assert found["rate_hz"] <= target_fraction * SCALE + 1e-6


def test_threshold_for_rate_with_ties_never_exceeds_the_target() -> None:
    scores = np.array([10, 10, 10, 10, 1])
    found = threshold_for_rate(scores, np.ones(5, bool), 2 / 5 * SCALE)
    # any threshold <= 10 lets 4 BX through, any above lets none: no threshold measures it
    assert not found["found"]
    assert found["threshold_raw"] is None
    assert found["rate_hz"] is None
    assert "4 highest scores are equal" in found["note"]


def test_threshold_for_rate_says_when_the_sample_is_too_small() -> None:
    # 100 counted BX: one accepted BX is already SCALE / 100 (about 310 kHz)
    scores = np.arange(100)
    found = threshold_for_rate(scores, np.ones(100, bool), SCALE / 100 / 2)
    assert not found["found"]
    assert found["threshold"] is None
    assert found["rate_hz"] is None
    assert found["rate_per_bx_hz"] == pytest.approx(SCALE / 100)
    assert "too small" in found["note"]
    assert "at least 200 counted BX" in found["note"]
    ok = threshold_for_rate(scores, np.ones(100, bool), SCALE / 100 * 1.5)
    assert ok["found"]
    assert ok["threshold_raw"] == 99
    with pytest.raises(ValueError, match="> 0"):
        threshold_for_rate(scores, np.ones(100, bool), 0.0)


def test_efficiency_vs_rate() -> None:
    signal = np.array([10, 20, 30, 40])
    background = np.array([1, 2, 3, 25, 35])
    out = efficiency_vs_rate(signal, background, np.ones(5, bool), thresholds=[0, 15, 30, 50])
    assert out["efficiency"] == [1.0, 0.75, 0.5, 0.0]
    assert [round(r / SCALE * 5) for r in out["rate_hz"]] == [5, 2, 1, 0]
    assert out["n_signal"] == 4


def test_rate_vs_pileup_bins() -> None:
    mu = np.array([10, 12, 14, 30, 31, 35, np.nan, 50], float)
    accepted = np.array([1, 0, 0, 1, 1, 0, 1, 1], bool)
    colliding = np.array([1, 1, 1, 1, 1, 1, 1, 0], bool)
    out = rate_vs_pileup(accepted, colliding, mu, bins=[0, 20, 40])
    assert out["n_bx"] == [3, 3]
    assert out["n_accepted"] == [1, 2]
    assert out["mu_mean"] == pytest.approx([12.0, 32.0])
    assert out["rate_hz"] == pytest.approx([SCALE / 3, 2 * SCALE / 3])
    low, high = wilson_interval(1, 3)
    assert out["rate_err_hz"][0] == pytest.approx((float(high) - float(low)) / 2 * SCALE)


def test_pileup_fit_recovers_exact_quadratic_and_matches_lstsq() -> None:
    mu = np.array([20.0, 40.0, 60.0, 80.0, 100.0])
    truth = 1000.0 * mu + 3.0 * mu**2
    sigma = np.array([50.0, 80.0, 100.0, 150.0, 300.0])
    exact = fit_rate_vs_pileup(mu, truth, sigma)
    assert (exact["a"], exact["b"]) == pytest.approx((1000.0, 3.0))
    assert exact["chi2"] == pytest.approx(0.0, abs=1e-12)
    noisy = truth + np.array([30.0, -60.0, 90.0, -100.0, 200.0])
    fit = fit_rate_vs_pileup(mu, noisy, sigma)
    # independent: scaled ordinary least squares, covariance (AᵀWA)⁻¹
    design = np.stack([mu, mu**2], axis=1) / sigma[:, None]
    coef, *_ = np.linalg.lstsq(design, noisy / sigma, rcond=None)
    cov = np.linalg.inv(design.T @ design)
    assert (fit["a"], fit["b"]) == pytest.approx(tuple(coef))
    np.testing.assert_allclose(fit["covariance"], cov)
    at_200 = extrapolate_rate(fit, 200.0)
    j = np.array([200.0, 200.0**2])
    assert at_200["rate_hz"] == pytest.approx(coef @ j)
    assert at_200["rate_err_hz"] == pytest.approx(math.sqrt(j @ cov @ j))


def test_pileup_fit_needs_two_points() -> None:
    with pytest.raises(ValueError, match="at least 2 bins"):
        fit_rate_vs_pileup([10.0], [5.0], [1.0])


def test_rate_vs_threshold_minimum_drops_no_candidate_points() -> None:
    scores = np.array([-1, -1, 0, 4, 8])
    scan = rate_vs_threshold(scores, np.ones(5, bool), minimum=0)
    assert scan["threshold_raw"] == [0, 4, 8]
    assert [round(r / SCALE * 5) for r in scan["rate_hz"]] == [3, 2, 1]


def test_pileup_fit_with_a_constant_term() -> None:
    mu = np.array([0.0, 50.0, 100.0, 150.0, 200.0])
    truth = 20_000.0 + 800.0 * mu + 2.0 * mu**2
    fit = fit_rate_vs_pileup(mu, truth, np.full(5, 100.0), constant=True)
    assert (fit["a"], fit["b"], fit["c"]) == pytest.approx((800.0, 2.0, 20_000.0))
    assert fit["ndf"] == 2
    assert extrapolate_rate(fit, 250.0)["rate_hz"] == pytest.approx(20_000 + 800 * 250 + 2 * 250**2)
    without = fit_rate_vs_pileup(mu, truth, np.full(5, 100.0))
    assert without["c"] == 0.0
    assert without["chi2"] > 1.0  # the model without constant cannot describe it
