"""Numbers of one replay's decisions, each counted over the same bunch crossings.

:func:`collision_mask` is the one definition of the BX that enter a rate: colliding
BX holding an input event. The colliding slots that :func:`streams.timeline.place`
leaves empty to complete the last orbit are not collisions anybody recorded: they
never enter a number. Every function here takes a :class:`DecisionBatch` and applies
that mask itself, so the rates table, ``l1sim rates``, the overlap matrix, the
rate-versus-threshold curves, the thresholds for a target rate, the efficiency-versus-
rate curves and the score histograms all count the same BX, and agree.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from emulator.analysis._rates import overlap_matrix, seed_rates
from emulator.analysis._scan import efficiency_vs_rate, rate_vs_threshold, threshold_for_rate
from emulator.replay import DecisionBatch
from streams.timeline import DEFAULT_N_COLLIDING

__all__ = [
    "collision_mask",
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

#: the highest background scores that are each a scan point (the rate steps there)
_TAIL_POINTS = 40
#: quantiles of each sample that are scan points
_QUANTILE_POINTS = 120


def collision_mask(decisions: DecisionBatch) -> NDArray[np.bool_]:
    """The BX that count in every rate: colliding BX holding an input event.

    ``has_event`` marks a BX that took an event from the input, whatever its id's
    sign; colliding slots left empty after the events ran out
    (``streams.timeline.place`` completes the orbit, and a pile-up overlay may fill
    them with pile-up only) are left out.
    """
    has_event = np.asarray(decisions.has_event, np.bool_)
    if has_event.shape[0] != len(decisions):  # a DecisionBatch built without has_event
        has_event = np.asarray(decisions.event_id) >= 0
    mask: NDArray[np.bool_] = np.asarray(decisions.colliding, np.bool_) & has_event
    return mask


def masked_seeds(decisions: DecisionBatch) -> NDArray[np.bool_]:
    """Per seed (in ``seed_names`` order): masked in the menu (never in the OR)."""
    metas = {meta["name"]: meta for meta in decisions.metadata.get("seeds", [])}
    return np.array(
        [bool(metas.get(name, {}).get("masked", False)) for name in decisions.seed_names],
        np.bool_,
    )


def _lsb(decisions: DecisionBatch, name: str) -> float:
    """Physical value of one raw score count of seed ``name`` (1 without a score type)."""
    try:
        return decisions.score_type(name).lsb
    except KeyError:
        return 1.0


def _min_raw(decisions: DecisionBatch, name: str) -> int | None:
    """Smallest raw score of seed ``name`` (the "no candidate" value of object seeds)."""
    try:
        return decisions.score_type(name).min_raw
    except KeyError:
        return None


def replay_rates(
    decisions: DecisionBatch, n_colliding: int = DEFAULT_N_COLLIDING
) -> dict[str, Any]:
    """Per-seed rates before/after prescale, pure, and the OR (see :func:`seed_rates`)."""
    return seed_rates(
        decisions.seed_names,
        decisions.fired,
        decisions.prescaled,
        masked_seeds(decisions),
        collision_mask(decisions),
        n_colliding,
    )


def replay_overlap(
    decisions: DecisionBatch, n_colliding: int = DEFAULT_N_COLLIDING
) -> NDArray[np.float64]:
    """Rate [Hz] of each pair of unmasked seeds passing (after prescale) together.

    The diagonal is each seed's prescaled rate, as in :func:`replay_rates` (0 when masked).
    """
    active = np.asarray(decisions.prescaled, np.bool_) & ~masked_seeds(decisions)[np.newaxis, :]
    return overlap_matrix(active, collision_mask(decisions), n_colliding)


def seed_scores(decisions: DecisionBatch, name: str) -> NDArray[np.int64]:
    """Raw scores of seed ``name`` on the counted BX."""
    scores: NDArray[np.int64] = np.asarray(decisions.scores[:, decisions.column(name)], np.int64)[
        collision_mask(decisions)
    ]
    return scores


def seed_rate_vs_threshold(
    decisions: DecisionBatch,
    name: str,
    thresholds: ArrayLike | None = None,
    *,
    n_colliding: int = DEFAULT_N_COLLIDING,
) -> dict[str, Any]:
    """Rate of seed ``name`` with its cut moved to each raw threshold (before prescale).

    Without ``thresholds`` every distinct score from the score type's smallest value
    up is a point (see :func:`rate_vs_threshold`); ``threshold`` is in physical units.
    """
    return rate_vs_threshold(
        decisions.scores[:, decisions.column(name)],
        collision_mask(decisions),
        thresholds,
        lsb=_lsb(decisions, name),
        n_colliding=n_colliding,
        minimum=_min_raw(decisions, name),
    )


def seed_threshold_for_rate(
    decisions: DecisionBatch,
    name: str,
    target_hz: float,
    *,
    n_colliding: int = DEFAULT_N_COLLIDING,
) -> dict[str, Any]:
    """Lowest threshold of seed ``name`` whose rate is at most ``target_hz``.

    See :func:`threshold_for_rate`: ``found`` is False (and the threshold and rate
    ``None``, with a ``note``) when the sample cannot resolve the target.
    """
    return threshold_for_rate(
        decisions.scores[:, decisions.column(name)],
        collision_mask(decisions),
        target_hz,
        lsb=_lsb(decisions, name),
        n_colliding=n_colliding,
    )


def scan_points(
    background: DecisionBatch,
    name: str,
    signals: dict[str, DecisionBatch] | None = None,
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
    for values in samples:
        valid = values[values >= 0]
        if valid.size:
            grid = np.quantile(
                valid, np.linspace(0.0, 1.0, _QUANTILE_POINTS), method="inverted_cdf"
            )
            points.append(grid.astype(np.int64))
    valid = counted[counted >= 0]
    if valid.size:
        tail = np.unique(valid)[-_TAIL_POINTS:]
        points += [tail, tail + 1]
    return np.unique(np.concatenate(points))


def seed_efficiency_vs_rate(
    signal: DecisionBatch,
    background: DecisionBatch,
    name: str,
    thresholds: ArrayLike | None = None,
    *,
    n_colliding: int = DEFAULT_N_COLLIDING,
) -> dict[str, Any]:
    """Efficiency on ``signal``'s events and background rate of seed ``name`` per threshold."""
    return efficiency_vs_rate(
        seed_scores(signal, name),
        background.scores[:, background.column(name)],
        collision_mask(background),
        thresholds,
        lsb=_lsb(background, name),
        n_colliding=n_colliding,
    )


def signal_efficiencies(signal: DecisionBatch) -> dict[str, Any]:
    """Fraction of a signal sample's events on which each seed fires, and the final OR.

    Returns ``n_events``, ``seeds`` (name -> efficiency before prescale) and
    ``final_or`` (after prescales and masks); NaN without events.
    """
    counted = collision_mask(signal)
    n_events = int(counted.sum())
    nan = float("nan")
    fired = np.asarray(signal.fired, np.bool_)[counted]
    return {
        "n_events": n_events,
        "seeds": {
            name: float(fired[:, i].mean()) if n_events else nan
            for i, name in enumerate(signal.seed_names)
        },
        "final_or": float(np.asarray(signal.final_or)[counted].mean()) if n_events else nan,
    }


def score_histograms(
    background: DecisionBatch,
    name: str,
    signals: dict[str, DecisionBatch] | None = None,
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
    counted = seed_scores(background, name)
    valid = counted[counted >= 0]
    threshold = float(background.seed_metadata(name).get("threshold_raw", 0)) * lsb
    top = 2.0 * max(float(np.quantile(valid, 0.9999)) * lsb if valid.size else 0.0, threshold)
    edges = np.linspace(0.0, max(top, 4 * lsb), bins + 1)

    def counts(values: NDArray[np.int64]) -> list[int]:
        physical = values[values >= 0] * lsb
        histogram: list[int] = np.histogram(np.minimum(physical, edges[-1]), edges)[0].tolist()
        return histogram

    return {
        "bin_edges": edges.tolist(),
        "background": counts(counted),
        "signals": {
            label: counts(seed_scores(batch, name)) for label, batch in (signals or {}).items()
        },
        "threshold": threshold,
    }
