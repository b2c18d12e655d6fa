"""Rate versus threshold, threshold for a target rate, efficiency versus rate.

One pass over the data: the colliding BX's raw scores are sorted once and every
threshold's accepted count is read from the sorted array (a cumulative
histogram), so scanning a threshold never re-runs the replay. "Accepted at
threshold t" means score >= t, as for the seeds' own decisions.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from emulator.analysis._counts import ValueCounts
from emulator.analysis._menu_table import CL_68, efficiency_intervals
from emulator.analysis._rates import rate_scale_hz, wilson_interval
from streams.timeline import DEFAULT_N_COLLIDING

__all__ = [
    "count_at_least",
    "efficiency_vs_rate",
    "efficiency_vs_rate_counts",
    "rate_vs_threshold",
    "rate_vs_threshold_counts",
    "threshold_for_rate",
    "threshold_for_rate_counts",
]

#: Number of thresholds chosen automatically when none are given.
_AUTO_POINTS = 200


def count_at_least(sorted_scores: NDArray[np.int64], thresholds: ArrayLike) -> NDArray[np.int64]:
    """How many of the (ascending) ``sorted_scores`` are >= each threshold."""
    points = np.asarray(thresholds, np.int64)
    counts: NDArray[np.int64] = sorted_scores.shape[0] - np.searchsorted(
        sorted_scores, points, side="left"
    )
    return counts


def _auto_thresholds(values: NDArray[np.int64]) -> NDArray[np.int64]:
    """Every distinct score value (``values``: ascending, distinct), thinned to ~200 points."""
    if values.shape[0] > _AUTO_POINTS:
        values = np.unique(
            values[np.linspace(0, values.shape[0] - 1, _AUTO_POINTS).astype(np.int64)]
        )
    return values


def rate_vs_threshold(
    scores: ArrayLike,
    colliding: ArrayLike,
    thresholds: ArrayLike | None = None,
    *,
    lsb: float = 1.0,
    n_colliding: int = DEFAULT_N_COLLIDING,
    minimum: int | None = None,
) -> dict[str, Any]:
    """Rate [Hz] for each raw threshold (score >= threshold), from one sorted pass.

    For an object seed the score is the pT of the n-th leading object passing
    its cuts, so this is the rate versus that object's pT threshold. Without
    ``thresholds`` every distinct score (at most ~200, from ``minimum`` up, e.g.
    0 to leave out the "no candidate" score -1) is a point. ``lsb`` converts raw
    thresholds to physics units for ``threshold`` (e.g. the score type's LSB).
    Returns lists: ``threshold_raw``, ``threshold``, ``rate_hz``,
    ``rate_err_hz`` (binomial standard error), ``rate_low_hz``/``rate_high_hz``
    (Wilson 68.27 %), and ``n_bx``.
    """
    selected = np.asarray(scores, np.int64)[np.asarray(colliding, np.bool_)]
    return rate_vs_threshold_counts(
        ValueCounts.of(selected), thresholds, lsb=lsb, n_colliding=n_colliding, minimum=minimum
    )


def rate_vs_threshold_counts(
    counts: ValueCounts,
    thresholds: ArrayLike | None = None,
    *,
    lsb: float = 1.0,
    n_colliding: int = DEFAULT_N_COLLIDING,
    minimum: int | None = None,
) -> dict[str, Any]:
    """:func:`rate_vs_threshold` from the histogram of the counted BX's scores."""
    if thresholds is None:
        candidates = counts.values if minimum is None else counts.values[counts.values >= minimum]
        points = _auto_thresholds(candidates)
    else:
        points = np.asarray(thresholds, np.int64)
    n_bx = counts.total()
    passing = counts.at_least(points)
    scale = rate_scale_hz(n_colliding)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = passing / n_bx
        err = np.sqrt(p * (1 - p) / n_bx) * scale
    low, high = wilson_interval(passing, n_bx)
    return {
        "threshold_raw": points.tolist(),
        "threshold": (points * lsb).tolist(),
        "rate_hz": (p * scale).tolist(),
        "rate_err_hz": err.tolist(),
        "rate_low_hz": (low * scale).tolist(),
        "rate_high_hz": (high * scale).tolist(),
        "n_bx": int(n_bx),
    }


def threshold_for_rate(
    scores: ArrayLike,
    colliding: ArrayLike,
    target_hz: float,
    *,
    lsb: float = 1.0,
    n_colliding: int = DEFAULT_N_COLLIDING,
) -> dict[str, Any]:
    """Lowest raw threshold whose rate does not exceed ``target_hz``.

    With the colliding scores sorted in decreasing order s_0 >= s_1 >= ..., at
    most k = floor(target / rate-per-BX) BX may pass, so the threshold is
    s_k + 1 (everything strictly above the (k+1)-th score). Returns
    ``found``, ``threshold_raw``, ``threshold``, ``rate_hz``, ``target_hz``,
    ``n_bx`` and ``rate_per_bx_hz`` (the rate of one accepted BX).

    When no threshold gives a rate between 0 and the target — the target is below
    the rate of a single accepted BX (the sample is too small), or the highest
    scores tie so that the next step is above the target — ``found`` is False,
    ``threshold_raw``, ``threshold`` and ``rate_hz`` are ``None`` and ``note`` says
    why: a cut above every event would only measure "0 Hz" for lack of events.
    """
    selected = np.asarray(scores, np.int64)[np.asarray(colliding, np.bool_)]
    return threshold_for_rate_counts(
        ValueCounts.of(selected), target_hz, lsb=lsb, n_colliding=n_colliding
    )


def threshold_for_rate_counts(
    counts: ValueCounts,
    target_hz: float,
    *,
    lsb: float = 1.0,
    n_colliding: int = DEFAULT_N_COLLIDING,
) -> dict[str, Any]:
    """:func:`threshold_for_rate` from the histogram of the counted BX's scores."""
    if not target_hz > 0:
        raise ValueError(f"the target rate must be > 0 Hz, got {target_hz}")
    n_bx = counts.total()
    if n_bx == 0:
        raise ValueError("no colliding BX: cannot find a threshold for a rate")
    scale = rate_scale_hz(n_colliding)
    per_bx = scale / n_bx
    allowed = int(np.floor(target_hz / per_bx + 1e-9))
    # the scores in decreasing order: the k-th of them is the (n - 1 - k)-th ascending
    if allowed >= n_bx:
        threshold = int(counts.values[0])
    else:
        threshold = int(counts.ranked([n_bx - 1 - allowed])[0]) + 1
    passing = int(counts.at_least([threshold])[0])
    result: dict[str, Any] = {
        "found": passing > 0,
        "threshold_raw": threshold,
        "threshold": threshold * lsb,
        "rate_hz": passing * per_bx,
        "target_hz": float(target_hz),
        "n_bx": int(n_bx),
        "rate_per_bx_hz": per_bx,
    }
    if passing == 0:
        if allowed == 0:
            needed = int(np.ceil(scale / target_hz))
            note = (
                f"the sample is too small for a target of {target_hz / 1e3:.4g} kHz: one "
                f"accepted BX among the {n_bx} counted is already {per_bx / 1e3:.4g} kHz "
                f"(at least {needed} counted BX are needed)"
            )
        else:
            ties = int(counts.counts[-1, 0])
            note = (
                f"no threshold gives a rate between 0 and {target_hz / 1e3:.4g} kHz: the "
                f"{ties} highest scores are equal, {ties * per_bx / 1e3:.4g} kHz together"
            )
        result.update(found=False, threshold_raw=None, threshold=None, rate_hz=None, note=note)
    return result


def efficiency_vs_rate(
    signal_scores: ArrayLike,
    background_scores: ArrayLike,
    background_colliding: ArrayLike,
    thresholds: ArrayLike | None = None,
    *,
    lsb: float = 1.0,
    n_colliding: int = DEFAULT_N_COLLIDING,
    cl: float = CL_68,
    method: str = "clopper-pearson",
) -> dict[str, Any]:
    """Signal efficiency and background rate for the same thresholds (a ROC in rate units).

    ``signal_scores`` are the scores of signal events (one per event);
    efficiency = fraction with score >= threshold, with its binomial interval at ``cl``
    per point (``efficiency_low``/``efficiency_high``, from
    :func:`emulator.analysis.efficiency_intervals`: Clopper-Pearson by default, or
    ``method="wilson"``); the rate with its 68 % band as in :func:`rate_vs_threshold`.
    """
    background = np.asarray(background_scores, np.int64)[np.asarray(background_colliding, np.bool_)]
    return efficiency_vs_rate_counts(
        ValueCounts.of(signal_scores),
        ValueCounts.of(background),
        thresholds,
        lsb=lsb,
        n_colliding=n_colliding,
        cl=cl,
        method=method,
    )


def efficiency_vs_rate_counts(
    signal: ValueCounts,
    background: ValueCounts,
    thresholds: ArrayLike | None = None,
    *,
    lsb: float = 1.0,
    n_colliding: int = DEFAULT_N_COLLIDING,
    cl: float = CL_68,
    method: str = "clopper-pearson",
    intervals: bool = True,
) -> dict[str, Any]:
    """:func:`efficiency_vs_rate` from the histograms of signal and background scores.

    ``intervals=False`` leaves out ``efficiency_low``/``efficiency_high`` (a caller
    scanning many curves computes them in one call of
    :func:`emulator.analysis.efficiency_intervals` from ``n_passing`` and ``n_signal``).
    """
    if thresholds is None:
        thresholds = _auto_thresholds(np.union1d(signal.values, background.values))
    points = np.asarray(thresholds, np.int64)
    scan = rate_vs_threshold_counts(background, points, lsb=lsb, n_colliding=n_colliding)
    passing = signal.at_least(points)
    n_signal = signal.total()
    with np.errstate(invalid="ignore", divide="ignore"):
        efficiency = passing / n_signal
    result = {
        **scan,
        "efficiency": efficiency.tolist(),
        "n_passing": passing.tolist(),
        "n_signal": int(n_signal),
    }
    if intervals:
        # each distinct count once: neighbouring thresholds often pass the same events
        distinct, where = np.unique(passing, return_inverse=True)
        _, low, high = efficiency_intervals(distinct, n_signal, cl=cl, method=method)
        result.update(
            efficiency_low=low[where].tolist(),
            efficiency_high=high[where].tolist(),
            efficiency_cl=cl,
            efficiency_method=method,
        )
    return result
