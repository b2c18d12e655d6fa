"""Analysis of replay decisions: pure functions, numpy in, JSON-able dicts out.

* rates with binomial uncertainties (:func:`rate`, :func:`seed_rates`,
  :func:`overlap_matrix`): rate = accepted colliding BX / colliding BX x
  11245.6 Hz x n_colliding; per seed before/after prescale, pure, total OR;
* threshold scans from one sorted pass (:func:`rate_vs_threshold`,
  :func:`threshold_for_rate`, :func:`efficiency_vs_rate`);
* pile-up (:func:`rate_vs_pileup`, :func:`fit_rate_vs_pileup`,
  :func:`extrapolate_rate`): rate = a·μ + b·μ² by weighted least squares;
* the accept budget (:func:`accept_summary`: 750 kHz, deadtime),
  :func:`orbit_occupancy`, and :func:`summarize` for ``summary.json``.
"""

from emulator.analysis._pileup import extrapolate_rate, fit_rate_vs_pileup, rate_vs_pileup
from emulator.analysis._rates import (
    overlap_matrix,
    rate,
    rate_scale_hz,
    seed_rates,
    wilson_interval,
)
from emulator.analysis._scan import (
    count_at_least,
    efficiency_vs_rate,
    rate_vs_threshold,
    threshold_for_rate,
)
from emulator.analysis._summary import (
    L1A_LIMIT_HZ,
    accept_summary,
    collision_mask,
    orbit_occupancy,
    summarize,
)

__all__ = [
    "L1A_LIMIT_HZ",
    "accept_summary",
    "collision_mask",
    "count_at_least",
    "efficiency_vs_rate",
    "extrapolate_rate",
    "fit_rate_vs_pileup",
    "orbit_occupancy",
    "overlap_matrix",
    "rate",
    "rate_scale_hz",
    "rate_vs_pileup",
    "rate_vs_threshold",
    "seed_rates",
    "summarize",
    "threshold_for_rate",
    "wilson_interval",
]
