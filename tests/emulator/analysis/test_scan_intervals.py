"""Binomial intervals on efficiency-versus-rate curves (one interval function).

Each point's interval is :func:`emulator.analysis.efficiency_intervals` of the signal
events passing that threshold, checked against SciPy's beta quantiles (the reference
Clopper-Pearson) and against the scalar :func:`efficiency_interval`.
"""

from __future__ import annotations

import numpy as np
import pytest

from emulator.analysis import (
    CL_68,
    CL_95,
    ValueCounts,
    clopper_pearson_intervals,
    efficiency_interval,
    efficiency_intervals,
    efficiency_vs_rate,
    efficiency_vs_rate_counts,
)

SIGNAL = np.array([1, 3, 3, 5, 8, 8, 8, 12, 20, 40], np.int64)
BACKGROUND = np.array([0, 0, 1, 1, 2, 3, 5, 9, 13, 30], np.int64)
THRESHOLDS = [0, 2, 3, 6, 8, 9, 21, 41]


def _passing(thresholds: list[int]) -> np.ndarray:
    return np.array([(t <= SIGNAL).sum() for t in thresholds])


def test_each_point_has_the_clopper_pearson_interval_of_its_counts() -> None:
    stats = pytest.importorskip("scipy.stats")
    curve = efficiency_vs_rate(SIGNAL, BACKGROUND, np.ones(10, bool), THRESHOLDS, n_colliding=1)
    k, n = _passing(THRESHOLDS), SIGNAL.shape[0]
    np.testing.assert_array_equal(curve["efficiency"], k / n)
    alpha = 1 - CL_68
    low = np.where(k > 0, stats.beta.ppf(alpha / 2, np.maximum(k, 1), n - k + 1), 0.0)
    high = np.where(k < n, stats.beta.ppf(1 - alpha / 2, k + 1, np.maximum(n - k, 1)), 1.0)
    np.testing.assert_allclose(curve["efficiency_low"], low, rtol=0, atol=1e-10)
    np.testing.assert_allclose(curve["efficiency_high"], high, rtol=0, atol=1e-10)
    assert curve["efficiency_low"][-1] == 0.0  # nothing passes 41: [0, upper]
    assert curve["efficiency_high"][0] == 1.0  # everything passes 0: [lower, 1]
    assert (curve["efficiency_cl"], curve["efficiency_method"]) == (CL_68, "clopper-pearson")
    # the background rate of the same thresholds is unchanged
    assert curve["rate_hz"][1] == pytest.approx(6 / 10 * 11245.6)  # 6 scores >= 2


def test_wilson_and_95_percent_on_request() -> None:
    curve = efficiency_vs_rate(
        SIGNAL, BACKGROUND, np.ones(10, bool), THRESHOLDS, cl=CL_95, method="wilson"
    )
    for k, low, high in zip(
        _passing(THRESHOLDS), curve["efficiency_low"], curve["efficiency_high"], strict=True
    ):
        one = efficiency_interval(int(k), 10, cl=CL_95, method="wilson")
        assert (low, high) == (one["low"], one["high"])


def test_arrays_equal_the_scalar_function() -> None:
    k = np.array([0, 1, 7, 499, 500, 20000, 19999])
    n = np.array([10, 10, 700, 500, 500, 20000, 20000])
    efficiency, low, high = efficiency_intervals(k, n)
    for i in range(k.shape[0]):
        one = efficiency_interval(int(k[i]), int(n[i]))
        assert (efficiency[i], low[i], high[i]) == (one["efficiency"], one["low"], one["high"])
    lows, highs = clopper_pearson_intervals([0, 3], [0, 5])
    assert np.isnan(lows[0])
    assert np.isnan(highs[0])
    with pytest.raises(ValueError, match="need 0 <= k"):
        efficiency_intervals([6], [5])


def test_large_samples_against_scipy() -> None:
    stats = pytest.importorskip("scipy.stats")
    n = 1_000_000
    k = np.array([1, 17, 2_500, 500_000, 999_990])
    low, high = clopper_pearson_intervals(k, n, CL_95)
    np.testing.assert_allclose(low, stats.beta.ppf(0.025, k, n - k + 1), rtol=1e-9)
    np.testing.assert_allclose(high, stats.beta.ppf(0.975, k + 1, n - k), rtol=1e-9)


def test_counts_without_intervals() -> None:
    signal, background = ValueCounts.of(SIGNAL), ValueCounts.of(BACKGROUND)
    curve = efficiency_vs_rate_counts(signal, background, THRESHOLDS, intervals=False)
    assert curve["n_passing"] == _passing(THRESHOLDS).tolist()
    assert curve["n_signal"] == 10
    assert "efficiency_low" not in curve
    assert "efficiency_cl" not in curve
