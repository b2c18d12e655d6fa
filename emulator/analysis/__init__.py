"""Analysis of replay decisions: pure functions, numpy in, JSON-able dicts out.

* the BX that count (:func:`collision_mask`): colliding BX holding an input event —
  one definition for every number; the decision-level functions
  (:func:`replay_rates`, :func:`replay_overlap`, :func:`seed_rate_vs_threshold`,
  :func:`seed_threshold_for_rate`, :func:`seed_efficiency_vs_rate`,
  :func:`score_histograms`, :func:`signal_efficiencies`) apply it themselves;
* rates with binomial uncertainties (:func:`rate`, :func:`seed_rates`,
  :func:`overlap_matrix`): rate = accepted counted BX / counted BX x
  11245.6 Hz x n_colliding; per seed before/after prescale, pure, total OR;
* threshold scans from one sorted pass (:func:`rate_vs_threshold`,
  :func:`threshold_for_rate`, :func:`efficiency_vs_rate`);
* pile-up (:func:`rate_vs_pileup`, :func:`fit_pileup_models`,
  :func:`extrapolate_rate`): rates in bins of μ, the models a·μ + b·μ² and
  c + a·μ + b·μ² chosen by χ² probability, extrapolations that say when not to
  trust them;
* the accept budget (:func:`accept_summary`: 750 kHz, deadtime — meaningless on a
  sample that is not minimum bias), :func:`orbit_occupancy`, and
  :func:`summarize` for ``summary.json``.
"""

from emulator.analysis._pileup import (
    BAD_FIT_PROBABILITY,
    FAR_BEYOND_FACTOR,
    PileupModel,
    chi2_probability,
    extrapolate_rate,
    fit_curve,
    fit_pileup_models,
    fit_rate_vs_pileup,
    rate_vs_pileup,
)
from emulator.analysis._rates import (
    overlap_matrix,
    rate,
    rate_scale_hz,
    seed_rates,
    wilson_interval,
)
from emulator.analysis._replay import (
    collision_mask,
    masked_seeds,
    replay_overlap,
    replay_rates,
    scan_points,
    score_histograms,
    seed_efficiency_vs_rate,
    seed_rate_vs_threshold,
    seed_scores,
    seed_threshold_for_rate,
    signal_efficiencies,
)
from emulator.analysis._scan import (
    count_at_least,
    efficiency_vs_rate,
    rate_vs_threshold,
    threshold_for_rate,
)
from emulator.analysis._summary import (
    L1A_LIMIT_HZ,
    NOT_MINIMUM_BIAS,
    PILEUP_VARIABLES,
    accept_summary,
    orbit_occupancy,
    pileup_section,
    summarize,
)

__all__ = [
    "BAD_FIT_PROBABILITY",
    "FAR_BEYOND_FACTOR",
    "L1A_LIMIT_HZ",
    "NOT_MINIMUM_BIAS",
    "PILEUP_VARIABLES",
    "PileupModel",
    "accept_summary",
    "chi2_probability",
    "collision_mask",
    "count_at_least",
    "efficiency_vs_rate",
    "extrapolate_rate",
    "fit_curve",
    "fit_pileup_models",
    "fit_rate_vs_pileup",
    "masked_seeds",
    "orbit_occupancy",
    "overlap_matrix",
    "pileup_section",
    "rate",
    "rate_scale_hz",
    "rate_vs_pileup",
    "rate_vs_threshold",
    "replay_overlap",
    "replay_rates",
    "scan_points",
    "score_histograms",
    "seed_efficiency_vs_rate",
    "seed_rate_vs_threshold",
    "seed_rates",
    "seed_scores",
    "seed_threshold_for_rate",
    "signal_efficiencies",
    "summarize",
    "threshold_for_rate",
    "wilson_interval",
]
