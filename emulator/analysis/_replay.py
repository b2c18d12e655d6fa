"""Numbers of one replay's decisions, each counted over the same bunch crossings.

:func:`collision_mask` is the one definition of the BX that enter a rate: colliding
BX holding an input event. The colliding slots that :func:`streams.timeline.place`
leaves empty to complete the last orbit are not collisions anybody recorded: they
never enter a number. Every function here takes decisions — a :class:`DecisionBatch`
held in memory, or the :class:`DecisionCounts` of a streamed (or distributed)
replay — and reads the same integer counts over that mask, so the rates table,
``l1sim rates``, the overlap matrix, the rate-versus-threshold curves, the
thresholds for a target rate, the efficiency-versus-rate curves and the score
histograms all count the same BX, and agree.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from emulator.analysis._counts import ValueCounts
from emulator.analysis._rates import overlap_from_counts, seed_rates_from_counts
from emulator.analysis._scan import (
    efficiency_vs_rate_counts,
    rate_vs_threshold_counts,
    threshold_for_rate_counts,
)
from emulator.analysis._stream import DecisionCounts, collision_mask, masked_seeds
from emulator.fixed import FixedType
from emulator.replay import DecisionBatch
from streams.timeline import DEFAULT_N_COLLIDING

__all__ = [
    "Decisions",
    "collision_mask",
    "counts_of",
    "masked_seeds",
    "replay_overlap",
    "replay_rates",
    "scan_points",
    "score_histograms",
    "seed_efficiency_vs_rate",
    "seed_rate_vs_threshold",
    "seed_scores",
    "seed_threshold_for_rate",
    "signal_efficiencies",
]

#: decisions in memory, or the counts of a streamed replay
Decisions = DecisionBatch | DecisionCounts

#: the highest background scores that are each a scan point (the rate steps there)
_TAIL_POINTS = 40
#: quantiles of each sample that are scan points
_QUANTILE_POINTS = 120


def counts_of(decisions: Decisions) -> DecisionCounts:
    """The integer counts of ``decisions`` (a batch is counted; counts are returned as they are)."""
    if isinstance(decisions, DecisionCounts):
        return decisions
    return DecisionCounts.of(decisions)


def _score_type(decisions: Decisions, name: str) -> FixedType | None:
    for seed in decisions.metadata.get("seeds", []):
        if seed["name"] == name:
            return FixedType.parse(seed["score_type"])
    return None


def _lsb(decisions: Decisions, name: str) -> float:
    """Physical value of one raw score count of seed ``name`` (1 without a score type)."""
    score_type = _score_type(decisions, name)
    return 1.0 if score_type is None else score_type.lsb


def _min_raw(decisions: Decisions, name: str) -> int | None:
    """Smallest raw score of seed ``name`` (the "no candidate" value of object seeds)."""
    score_type = _score_type(decisions, name)
    return None if score_type is None else score_type.min_raw


def replay_rates(decisions: Decisions, n_colliding: int = DEFAULT_N_COLLIDING) -> dict[str, Any]:
    """Per-seed rates before/after prescale, pure, and the OR (see :func:`seed_rates`)."""
    counts = counts_of(decisions)
    return seed_rates_from_counts(
        counts.seed_names,
        counts.fired,
        counts.prescaled,
        counts.pure,
        counts.n_total,
        masked_seeds(counts),
        counts.n_counted,
        n_colliding,
    )


def replay_overlap(
    decisions: Decisions, n_colliding: int = DEFAULT_N_COLLIDING
) -> NDArray[np.float64]:
    """Rate [Hz] of each pair of unmasked seeds passing (after prescale) together.

    The diagonal is each seed's prescaled rate, as in :func:`replay_rates` (0 when masked).
    """
    counts = counts_of(decisions)
    return overlap_from_counts(counts.overlap, counts.n_counted, n_colliding)


def seed_scores(decisions: Decisions, name: str) -> ValueCounts:
    """Histogram of the raw scores of seed ``name`` on the counted BX."""
    return counts_of(decisions).seed_scores(name)


def seed_rate_vs_threshold(
    decisions: Decisions,
    name: str,
    thresholds: ArrayLike | None = None,
    *,
    n_colliding: int = DEFAULT_N_COLLIDING,
) -> dict[str, Any]:
    """Rate of seed ``name`` with its cut moved to each raw threshold (before prescale).

    Without ``thresholds`` every distinct score from the score type's smallest value
    up is a point (see :func:`rate_vs_threshold`); ``threshold`` is in physical units.
    """
    return rate_vs_threshold_counts(
        seed_scores(decisions, name),
        thresholds,
        lsb=_lsb(decisions, name),
        n_colliding=n_colliding,
        minimum=_min_raw(decisions, name),
    )


def seed_threshold_for_rate(
    decisions: Decisions,
    name: str,
    target_hz: float,
    *,
    n_colliding: int = DEFAULT_N_COLLIDING,
) -> dict[str, Any]:
    """Lowest threshold of seed ``name`` whose rate is at most ``target_hz``.

    See :func:`threshold_for_rate`: ``found`` is False (and the threshold and rate
    ``None``, with a ``note``) when the sample cannot resolve the target.
    """
    return threshold_for_rate_counts(
        seed_scores(decisions, name),
        target_hz,
        lsb=_lsb(decisions, name),
        n_colliding=n_colliding,
    )


def _valid(counts: ValueCounts) -> ValueCounts:
    """The non-negative scores (a negative score means "no candidate")."""
    return counts.where(counts.values >= 0)


def scan_points(
    background: Decisions,
    name: str,
    signals: Mapping[str, Decisions] | None = None,
) -> NDArray[np.int64]:
    """Raw thresholds for the report's scans of seed ``name``.

    0, the menu threshold, 120 quantiles of each sample's valid (non-negative)
    scores, and every one of the 40 highest background scores and the value just
    above it (the rate steps there), so the rate curve is exact where it is
    steepest on a log scale and passes through the menu's own rate.
    """
    counted = seed_scores(background, name)
    samples = [counted] + [seed_scores(s, name) for s in (signals or {}).values()]
    menu_threshold = int(background.seed_metadata(name).get("threshold_raw", 0))
    points = [np.array([0, menu_threshold], np.int64)]
    grid = np.linspace(0.0, 1.0, _QUANTILE_POINTS)
    for values in samples:
        valid = _valid(values)
        if len(valid):
            points.append(valid.quantile_inverted_cdf(grid).astype(np.int64))
    valid = _valid(counted)
    if len(valid):
        tail = valid.values[-_TAIL_POINTS:]
        points += [tail, tail + 1]
    return np.unique(np.concatenate(points))


def seed_efficiency_vs_rate(
    signal: Decisions,
    background: Decisions,
    name: str,
    thresholds: ArrayLike | None = None,
    *,
    n_colliding: int = DEFAULT_N_COLLIDING,
) -> dict[str, Any]:
    """Efficiency on ``signal``'s events and background rate of seed ``name`` per threshold."""
    return efficiency_vs_rate_counts(
        seed_scores(signal, name),
        seed_scores(background, name),
        thresholds,
        lsb=_lsb(background, name),
        n_colliding=n_colliding,
    )


def signal_efficiencies(signal: Decisions) -> dict[str, Any]:
    """Fraction of a signal sample's events on which each seed fires, and the final OR.

    Returns ``n_events``, ``seeds`` (name -> efficiency before prescale) and
    ``final_or`` (after prescales and masks); NaN without events.
    """
    counts = counts_of(signal)
    n_events = counts.n_counted
    nan = float("nan")
    return {
        "n_events": n_events,
        "seeds": {
            name: int(counts.fired[i]) / n_events if n_events else nan
            for i, name in enumerate(counts.seed_names)
        },
        "final_or": counts.n_final_or / n_events if n_events else nan,
    }


def score_histograms(
    background: Decisions,
    name: str,
    signals: Mapping[str, Decisions] | None = None,
    *,
    bins: int = 40,
) -> dict[str, Any]:
    """Histograms of seed ``name``'s valid (non-negative) scores in physical units.

    One set of ``bin_edges`` for all samples: from 0 to twice the larger of the
    background's 99.99 % quantile and the menu threshold (so signals beyond it stay
    visible); the last bin holds the overflow. ``background`` counts the counted BX,
    each signal its events. ``threshold`` is the menu threshold.
    """
    lsb = _lsb(background, name)
    valid = _valid(seed_scores(background, name))
    threshold = float(background.seed_metadata(name).get("threshold_raw", 0)) * lsb
    top = 2.0 * max(valid.quantile_linear(0.9999) * lsb if len(valid) else 0.0, threshold)
    edges = np.linspace(0.0, max(top, 4 * lsb), bins + 1)

    def histogram(counts: ValueCounts) -> list[int]:
        kept = _valid(counts)
        physical = kept.values * lsb
        weights = kept.counts[:, 0].astype(np.float64)
        summed = np.histogram(np.minimum(physical, edges[-1]), edges, weights=weights)[0]
        result: list[int] = np.rint(summed).astype(np.int64).tolist()
        return result

    return {
        "bin_edges": edges.tolist(),
        "background": histogram(seed_scores(background, name)),
        "signals": {
            label: histogram(seed_scores(batch, name)) for label, batch in (signals or {}).items()
        },
        "threshold": threshold,
    }
