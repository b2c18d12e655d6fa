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
* streaming (:class:`DecisionCounts`, :class:`CountsAccumulator`,
  :class:`ValueCounts`): every number above is a function of integer counts that
  merge exactly, so a replay is analysed chunk by chunk (or on Dask workers) in flat
  memory and gives the numbers of one pass over everything; the functions accept
  a :class:`DecisionBatch` or :class:`DecisionCounts` alike;
* the accept budget (:func:`accept_summary`: 750 kHz, deadtime — meaningless on a
  sample that is not minimum bias), :func:`orbit_occupancy`, and
  :func:`summarize` for ``summary.json``.
"""

from emulator.analysis._counts import ValueCounts
from emulator.analysis._menu_table import (
    CL_68,
    CL_95,
    anomaly_gain,
    clopper_pearson,
    clopper_pearson_intervals,
    cumulative_counts,
    efficiency_interval,
    efficiency_intervals,
    format_rate_table,
    menu_rate_table,
    rate_table,
    rate_table_from_counts,
    table_order,
    upper_limit_fraction,
)
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
    rate_vs_pileup_counts,
)
from emulator.analysis._rates import (
    overlap_from_counts,
    overlap_matrix,
    rate,
    rate_scale_hz,
    seed_rates,
    seed_rates_from_counts,
    wilson_interval,
)
from emulator.analysis._replay import (
    Decisions,
    collision_mask,
    counts_of,
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
    efficiency_vs_rate_counts,
    rate_vs_threshold,
    rate_vs_threshold_counts,
    threshold_for_rate,
    threshold_for_rate_counts,
)
from emulator.analysis._stream import CountsAccumulator, DecisionCounts, count_decisions
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
    "CL_68",
    "CL_95",
    "FAR_BEYOND_FACTOR",
    "L1A_LIMIT_HZ",
    "NOT_MINIMUM_BIAS",
    "PILEUP_VARIABLES",
    "CountsAccumulator",
    "DecisionCounts",
    "Decisions",
    "PileupModel",
    "ValueCounts",
    "accept_summary",
    "anomaly_gain",
    "chi2_probability",
    "clopper_pearson",
    "clopper_pearson_intervals",
    "collision_mask",
    "count_at_least",
    "count_decisions",
    "counts_of",
    "cumulative_counts",
    "efficiency_interval",
    "efficiency_intervals",
    "efficiency_vs_rate",
    "efficiency_vs_rate_counts",
    "extrapolate_rate",
    "fit_curve",
    "fit_pileup_models",
    "fit_rate_vs_pileup",
    "format_rate_table",
    "masked_seeds",
    "menu_rate_table",
    "orbit_occupancy",
    "overlap_from_counts",
    "overlap_matrix",
    "pileup_section",
    "rate",
    "rate_scale_hz",
    "rate_table",
    "rate_table_from_counts",
    "rate_vs_pileup",
    "rate_vs_pileup_counts",
    "rate_vs_threshold",
    "rate_vs_threshold_counts",
    "replay_overlap",
    "replay_rates",
    "scan_points",
    "score_histograms",
    "seed_efficiency_vs_rate",
    "seed_rate_vs_threshold",
    "seed_rates",
    "seed_rates_from_counts",
    "seed_scores",
    "seed_threshold_for_rate",
    "signal_efficiencies",
    "summarize",
    "table_order",
    "threshold_for_rate",
    "threshold_for_rate_counts",
    "upper_limit_fraction",
    "wilson_interval",
]
