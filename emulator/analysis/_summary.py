"""Accept-rate budget, deadtime, orbit occupancy and the ``summary.json`` content."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from emulator.analysis._pileup import (
    extrapolate_rate,
    fit_curve,
    fit_pileup_models,
    rate_vs_pileup_counts,
)
from emulator.analysis._rates import rate
from emulator.analysis._replay import (
    Decisions,
    counts_of,
    replay_overlap,
    replay_rates,
    seed_efficiency_vs_rate,
    seed_rate_vs_threshold,
    seed_threshold_for_rate,
    signal_efficiencies,
)
from emulator.analysis._stream import OCCUPANCY_ROWS, PILEUP_KEYS, DecisionCounts
from emulator.replay import DecisionBatch
from streams.timeline import DEFAULT_N_COLLIDING

__all__ = [
    "L1A_LIMIT_HZ",
    "NOT_MINIMUM_BIAS",
    "PILEUP_VARIABLES",
    "accept_summary",
    "orbit_occupancy",
    "pileup_section",
    "summarize",
]

#: Phase-2 Level-1 maximum accept rate.
L1A_LIMIT_HZ = 750_000.0

#: why the accept budget means nothing on a sample that is not minimum bias
NOT_MINIMUM_BIAS = (
    "the input is not a minimum-bias sample (it was selected, e.g. by a trigger): its "
    "rates are fractions of that selection scaled to the bunch-crossing rate, useful to "
    "compare seeds and thresholds, but the L1 accept rate, the deadtime and the "
    "750 kHz check do not describe the collisions the trigger would see"
)

#: pile-up variables of :func:`pileup_section`: key -> (axis label, what μ means)
PILEUP_VARIABLES: dict[str, str] = {
    "mu": "μ: mean number of interactions per BX (the Poisson mean of the pile-up overlay)",
    "true_interactions": "μ: mean number of interactions per BX as the input gives it "
    "(e.g. NanoAOD Pileup_nTrueInt)",
    "n_vertices": "reconstructed primary vertices per BX (not μ)",
}


def orbit_occupancy(decisions: Decisions) -> dict[str, list[int]]:
    """Per bunch slot (0..3563): BX seen, colliding BX seen, L1 accepts, final-OR fires."""
    occupancy = counts_of(decisions).occupancy
    return {row: occupancy[k].tolist() for k, row in enumerate(OCCUPANCY_ROWS)}


def accept_summary(
    decisions: Decisions,
    n_colliding: int = DEFAULT_N_COLLIDING,
    *,
    minimum_bias: bool = True,
) -> dict[str, Any]:
    """L1 accept rate against the 750 kHz limit, and the deadtime of the trigger rules.

    Over the counted BX (:func:`collision_mask`): ``deadtime_fraction`` = counted BX
    in which the rules would veto an accept / counted BX; ``vetoed_fraction`` =
    final-OR fires vetoed by the rules / final-OR fires. ``minimum_bias`` says
    whether the input is an unbiased sample of collisions; when it is not, these
    numbers describe nothing the trigger would see: ``within_limit`` is ``None``
    and ``note`` says why (:data:`NOT_MINIMUM_BIAS`).
    """
    counts = counts_of(decisions)
    n_bx = counts.n_counted
    l1a = rate(counts.n_l1a, n_bx, n_colliding)
    n_final = counts.n_final_or
    vetoed = counts.n_vetoed
    within = bool(l1a["rate_hz"] <= L1A_LIMIT_HZ) if n_bx else True
    summary: dict[str, Any] = {
        "l1a": l1a,
        "final_or": rate(n_final, n_bx, n_colliding),
        "limit_hz": L1A_LIMIT_HZ,
        "minimum_bias": bool(minimum_bias),
        "within_limit": within if minimum_bias else None,
        "n_bx": counts.n_rows,
        "n_colliding_bx": n_bx,
        "dead_bx": counts.n_dead,
        "deadtime_fraction": counts.n_dead / n_bx if n_bx else 0.0,
        "vetoed": vetoed,
        "vetoed_fraction": float(vetoed / n_final) if n_final else 0.0,
    }
    if not minimum_bias:
        summary["note"] = NOT_MINIMUM_BIAS
    return summary


def summarize(
    decisions: Decisions,
    *,
    n_colliding: int = DEFAULT_N_COLLIDING,
    timing: dict[str, Any] | None = None,
    target_rates_hz: dict[str, float] | None = None,
    signals: Mapping[str, Decisions] | None = None,
    pileup_bins: int = 8,
    pileup_target: float = 200.0,
    mu: ArrayLike | None = None,
    minimum_bias: bool = True,
    occupancy: bool = True,
) -> dict[str, Any]:
    """Everything that goes into ``summary.json`` (strict JSON: NaN becomes null).

    Sections: ``rates`` (per seed before/after prescale and pure, the total OR),
    ``overlap_hz`` (seed x seed rates of passing together), ``accepts`` (L1A rate
    vs 750 kHz, deadtime; see ``minimum_bias`` in :func:`accept_summary`),
    ``rate_vs_threshold`` (per seed, from one sorted pass), ``thresholds`` (for
    ``target_rates_hz``: seed → rate), ``signals`` (per signal sample: efficiency
    of each seed and of the OR, and efficiency versus background rate per seed),
    ``pileup`` (:func:`pileup_section`; ``mu`` is the mean number of interactions
    of each BX when the caller knows it, e.g. the μ a pile-up overlay drew from),
    ``occupancy`` (per bunch slot), ``timing`` (as given). Every number counts
    the BX of :func:`collision_mask`. ``decisions`` (and each signal) is a batch in
    memory or the :class:`DecisionCounts` of a streamed replay; ``mu`` is given
    per BX with a batch only (counts carry their own μ, see
    :meth:`DecisionCounts.of`).
    """
    if isinstance(decisions, DecisionBatch):
        decisions = DecisionCounts.of(decisions, mu=mu)
    elif mu is not None:
        raise ValueError("mu per BX goes with decisions in memory; counts carry their own")
    signal_counts = {label: counts_of(signal) for label, signal in (signals or {}).items()}
    names = decisions.seed_names
    summary: dict[str, Any] = {
        "menu": decisions.metadata.get("menu"),
        "n_colliding_bunches": n_colliding,
        "rate_uncertainty": "binomial standard error; interval = Wilson score 68.27 %",
        "rates": replay_rates(decisions, n_colliding),
        "overlap_hz": {
            "seeds": list(names),
            "matrix": replay_overlap(decisions, n_colliding).tolist(),
        },
        "accepts": accept_summary(decisions, n_colliding, minimum_bias=minimum_bias),
        "seeds": decisions.metadata.get("seeds", []),
        "rate_vs_threshold": {
            name: seed_rate_vs_threshold(decisions, name, n_colliding=n_colliding) for name in names
        },
    }
    if target_rates_hz:
        summary["thresholds"] = {
            name: seed_threshold_for_rate(decisions, name, target, n_colliding=n_colliding)
            for name, target in target_rates_hz.items()
        }
    if signal_counts:
        summary["signals"] = {
            label: _signal_section(signal, decisions, n_colliding)
            for label, signal in signal_counts.items()
        }
    pileup = pileup_section(
        decisions,
        n_colliding=n_colliding,
        bins=pileup_bins,
        target=pileup_target,
        minimum_bias=minimum_bias,
    )
    if pileup is not None:
        summary["pileup"] = pileup
    if occupancy:
        summary["occupancy"] = orbit_occupancy(decisions)
    if timing is not None:
        summary["timing"] = timing
    cleaned: dict[str, Any] = _strict_json(summary)
    return cleaned


def _signal_section(
    signal: DecisionCounts, background: DecisionCounts, n_colliding: int
) -> dict[str, Any]:
    """Efficiencies on the signal's events and ROC curves per seed."""
    efficiencies = signal_efficiencies(signal)
    per_seed: dict[str, Any] = {
        name: {
            "efficiency": efficiencies["seeds"][name],
            "efficiency_vs_rate": seed_efficiency_vs_rate(
                signal, background, name, n_colliding=n_colliding
            ),
        }
        for name in background.seed_names
        if name in signal.seed_names
    }
    return {
        "n_events": efficiencies["n_events"],
        "total_efficiency": efficiencies["final_or"],
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


def _pileup_values(counts: DecisionCounts) -> str | None:
    """The pile-up variable to bin in: μ when known, else the input's, else vertices."""
    for key in PILEUP_KEYS:
        if key in counts.pileup_known:
            return key
    return None


def pileup_section(
    decisions: Decisions,
    *,
    mu: ArrayLike | None = None,
    n_colliding: int = DEFAULT_N_COLLIDING,
    bins: int = 8,
    target: float = 200.0,
    minimum_bias: bool = True,
    curve_points: int = 100,
) -> dict[str, Any] | None:
    """The final-OR rate in bins of pile-up, the chosen fit and its extrapolation.

    The variable (``variable``, described in ``label``; see :data:`PILEUP_VARIABLES`)
    is ``mu`` when given, else the decisions' ``true_interactions``, else
    ``n_vertices``; ``None`` when the input knows no pile-up. Both models of
    :func:`fit_pileup_models` are tried. ``extrapolation`` (to μ = ``target``) is
    given for a μ variable only — reconstructed vertices are not μ. ``curve`` holds
    the fit and its band from 0 to the target (to the highest bin when nothing is
    extrapolated) for plots;
    ``notes`` collects what a reader should distrust (bad fit, far extrapolation,
    negative fit, vertices, a sample that is not minimum bias).
    """
    counts = (
        DecisionCounts.of(decisions, mu=mu) if isinstance(decisions, DecisionBatch) else decisions
    )
    variable = _pileup_values(counts)
    if variable is None:
        return None
    binned = rate_vs_pileup_counts(counts.pileup[variable], bins, n_colliding=n_colliding)
    section: dict[str, Any] = {
        "variable": variable,
        "label": PILEUP_VARIABLES[variable],
        "bins": binned,
        "target_mu": target,
        "notes": [],
    }
    if not minimum_bias:
        section["notes"].append(
            "the input is not minimum bias: these are rates of a selected sample"
        )
    try:
        fit = fit_pileup_models(binned["mu_mean"], binned["rate_hz"], binned["rate_err_hz"])
    except (ValueError, np.linalg.LinAlgError) as exc:
        section["fit_error"] = str(exc)
        section["notes"].append(f"no fit: {exc}")
        return section
    section["fit"] = fit
    top = max(binned["mu_mean"])
    if variable == "n_vertices":
        section["notes"] += fit["notes"]
        section["notes"].append(
            "binned in reconstructed vertices, not in μ: no extrapolation to a pile-up μ"
        )
    else:
        section["extrapolation"] = extrapolate_rate(fit, target)
        section["notes"] += section["extrapolation"]["notes"]
        if section["extrapolation"]["rate_hz"] is not None:
            top = max(top, target)
    section["curve"] = fit_curve(fit, np.linspace(0.0, top * 1.02, curve_points))
    return section
