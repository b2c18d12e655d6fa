"""Accept-rate budget, deadtime, orbit occupancy and the ``summary.json`` content."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import NDArray

from emulator.analysis._pileup import extrapolate_rate, fit_rate_vs_pileup, rate_vs_pileup
from emulator.analysis._rates import overlap_matrix, rate, seed_rates
from emulator.analysis._scan import efficiency_vs_rate, rate_vs_threshold, threshold_for_rate
from emulator.replay import DecisionBatch
from streams.timeline import BX_PER_ORBIT, DEFAULT_N_COLLIDING

__all__ = ["L1A_LIMIT_HZ", "accept_summary", "collision_mask", "orbit_occupancy", "summarize"]

#: Phase-2 Level-1 maximum accept rate.
L1A_LIMIT_HZ = 750_000.0


def collision_mask(decisions: DecisionBatch) -> NDArray[np.bool_]:
    """The BX that count as collisions in rate denominators.

    Colliding bunch slots that carry data: an event (``event_id >= 0``) or at least
    a known number of interactions (pile-up only). Colliding slots left empty
    after the events ran out (``streams.timeline.place`` completes the orbit) are
    not collisions anyone recorded, so they are left out.
    """
    has_data = (np.asarray(decisions.event_id) >= 0) | np.isfinite(decisions.true_interactions)
    mask: NDArray[np.bool_] = np.asarray(decisions.colliding, np.bool_) & has_data
    return mask


def orbit_occupancy(decisions: DecisionBatch) -> dict[str, list[int]]:
    """Per bunch slot (0..3563): BX seen, colliding BX seen, L1 accepts, final-OR fires."""
    bx = np.asarray(decisions.bx, np.int64)
    placed = (bx >= 0) & (bx < BX_PER_ORBIT)
    slots = bx[placed]

    def per_slot(weights: Any = None) -> list[int]:
        w = None if weights is None else np.asarray(weights)[placed]
        counts: list[int] = (
            np.bincount(slots, weights=w, minlength=BX_PER_ORBIT).astype(np.int64).tolist()
        )
        return counts

    return {
        "bx_seen": per_slot(),
        "colliding": per_slot(decisions.colliding),
        "l1a": per_slot(decisions.l1a),
        "final_or": per_slot(decisions.final_or),
    }


def accept_summary(
    decisions: DecisionBatch, n_colliding: int = DEFAULT_N_COLLIDING
) -> dict[str, Any]:
    """L1 accept rate against the 750 kHz limit, and the deadtime of the trigger rules.

    ``deadtime_fraction`` = BX in which the rules would veto an accept / all BX;
    ``vetoed_fraction`` = final-OR fires vetoed by the rules / final-OR fires.
    """
    colliding = collision_mask(decisions)
    n_bx = int(colliding.sum())
    l1a = rate(int(decisions.l1a[colliding].sum()), n_bx, n_colliding)
    n_final = int(decisions.final_or.sum())
    return {
        "l1a": l1a,
        "final_or": rate(int(decisions.final_or[colliding].sum()), n_bx, n_colliding),
        "limit_hz": L1A_LIMIT_HZ,
        "within_limit": bool(l1a["rate_hz"] <= L1A_LIMIT_HZ) if n_bx else True,
        "n_bx": len(decisions),
        "n_colliding_bx": n_bx,
        "dead_bx": int(decisions.dead.sum()),
        "deadtime_fraction": float(decisions.dead.mean()) if len(decisions) else 0.0,
        "vetoed": int(decisions.vetoed.sum()),
        "vetoed_fraction": float(decisions.vetoed.sum() / n_final) if n_final else 0.0,
    }


def summarize(
    decisions: DecisionBatch,
    *,
    n_colliding: int = DEFAULT_N_COLLIDING,
    timing: dict[str, Any] | None = None,
    target_rates_hz: dict[str, float] | None = None,
    signals: dict[str, DecisionBatch] | None = None,
    pileup_bins: int = 8,
    pileup_target: float = 200.0,
    occupancy: bool = True,
) -> dict[str, Any]:
    """Everything that goes into ``summary.json`` (strict JSON: NaN becomes null).

    Sections: ``rates`` (per seed before/after prescale and pure, the total OR),
    ``overlap_hz`` (seed x seed rates of passing together), ``accepts`` (L1A rate
    vs 750 kHz, deadtime), ``rate_vs_threshold`` (per seed, from one sorted
    pass), ``thresholds`` (for ``target_rates_hz``: seed → rate), ``signals``
    (per signal sample: efficiency of each seed and of the OR, and efficiency
    versus background rate per seed), ``pileup`` (rates in bins of true
    interactions, else vertices, the a·μ + b·μ² fit and its extrapolation to
    ``pileup_target``), ``occupancy`` (per bunch slot), ``timing`` (as given).
    Rates count the colliding BX of :func:`collision_mask`.
    """
    names = decisions.seed_names
    collisions = collision_mask(decisions)
    masked = np.array([s["masked"] for s in decisions.metadata.get("seeds", [])], np.bool_)
    if masked.shape[0] != len(names):
        masked = np.zeros(len(names), np.bool_)
    active = decisions.prescaled & ~masked[np.newaxis, :]
    summary: dict[str, Any] = {
        "menu": decisions.metadata.get("menu"),
        "n_colliding_bunches": n_colliding,
        "rate_uncertainty": "binomial standard error; interval = Wilson score 68.27 %",
        "rates": seed_rates(
            names, decisions.fired, decisions.prescaled, masked, collisions, n_colliding
        ),
        "overlap_hz": {
            "seeds": list(names),
            "matrix": overlap_matrix(active, collisions, n_colliding).tolist(),
        },
        "accepts": accept_summary(decisions, n_colliding),
        "seeds": decisions.metadata.get("seeds", []),
        "rate_vs_threshold": {
            name: rate_vs_threshold(
                decisions.scores[:, i],
                collisions,
                lsb=_lsb(decisions, name),
                n_colliding=n_colliding,
                minimum=_min_raw(decisions, name),
            )
            for i, name in enumerate(names)
        },
    }
    if target_rates_hz:
        summary["thresholds"] = {
            name: threshold_for_rate(
                decisions.scores[:, decisions.column(name)],
                collisions,
                target,
                lsb=_lsb(decisions, name),
                n_colliding=n_colliding,
            )
            for name, target in target_rates_hz.items()
        }
    if signals:
        summary["signals"] = {
            label: _signal_section(signal, decisions, collisions, n_colliding)
            for label, signal in signals.items()
        }
    pileup_section = _pileup_section(decisions, collisions, n_colliding, pileup_bins, pileup_target)
    if pileup_section is not None:
        summary["pileup"] = pileup_section
    if occupancy:
        summary["occupancy"] = orbit_occupancy(decisions)
    if timing is not None:
        summary["timing"] = timing
    cleaned: dict[str, Any] = _strict_json(summary)
    return cleaned


def _lsb(decisions: DecisionBatch, name: str) -> float:
    try:
        return decisions.score_type(name).lsb
    except KeyError:
        return 1.0


def _min_raw(decisions: DecisionBatch, name: str) -> int | None:
    try:
        return decisions.score_type(name).min_raw
    except KeyError:
        return None


def _signal_section(
    signal: DecisionBatch,
    background: DecisionBatch,
    collisions: NDArray[np.bool_],
    n_colliding: int,
) -> dict[str, Any]:
    """Efficiencies on the signal's events (records with an event) and ROC curves per seed."""
    events = np.asarray(signal.event_id) >= 0
    n_events = int(events.sum())
    per_seed: dict[str, Any] = {}
    for name in background.seed_names:
        if name not in signal.seed_names:
            continue
        column = signal.column(name)
        fired = signal.fired[events, column]
        per_seed[name] = {
            "efficiency": float(fired.mean()) if n_events else float("nan"),
            "efficiency_vs_rate": efficiency_vs_rate(
                signal.scores[events, column],
                background.scores[:, background.column(name)],
                collisions,
                lsb=_lsb(background, name),
                n_colliding=n_colliding,
            ),
        }
    total = signal.final_or[events]
    return {
        "n_events": n_events,
        "total_efficiency": float(total.mean()) if n_events else float("nan"),
        "seeds": per_seed,
    }


def _strict_json(value: Any) -> Any:
    """A copy with NaN and infinities replaced by None (strict JSON has neither)."""
    if isinstance(value, dict):
        return {key: _strict_json(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_strict_json(item) for item in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _pileup_section(
    decisions: DecisionBatch,
    collisions: NDArray[np.bool_],
    n_colliding: int,
    bins: int,
    target: float,
) -> dict[str, Any] | None:
    true_mu = np.asarray(decisions.true_interactions, np.float64)
    vertices = np.asarray(decisions.n_vertices, np.float64)
    if np.isfinite(true_mu[collisions]).any():
        variable, values = "true_interactions", true_mu
    elif (vertices[collisions] >= 0).any():
        variable, values = "n_vertices", np.where(vertices >= 0, vertices, np.nan)
    else:
        return None
    binned = rate_vs_pileup(decisions.final_or, collisions, values, bins, n_colliding=n_colliding)
    section: dict[str, Any] = {"variable": variable, "bins": binned, "target_mu": target}
    try:
        fit = fit_rate_vs_pileup(binned["mu_mean"], binned["rate_hz"], binned["rate_err_hz"])
    except (ValueError, np.linalg.LinAlgError) as exc:
        section["fit_error"] = str(exc)
        return section
    section["fit"] = fit
    section["extrapolation"] = extrapolate_rate(fit, target)
    return section
