"""``summary.json``: everything the report shows, in one JSON document.

``l1sim run`` and ``l1sim demo`` write it next to ``decisions.parquet``; ``l1sim
report DIR`` re-renders plots and HTML from it alone. Keys (all optional unless
marked; rates in Hz, times in µs, thresholds in the seed's physical unit):

- ``schema`` (required, int), ``l1sim_version``, ``created`` (ISO time),
  ``command`` (how the run was invoked).
- ``inputs``: ``background`` (list of str), ``signals`` (list of str), ``menu``,
  ``pileup`` (only what was applied: an overlay, the input's own, or none),
  ``minimum_bias`` (bool) and ``minimum_bias_reason`` (declared with
  ``--minimum-bias``, synthetic minimum-bias background, or not declared),
  ``scheme``, ``max_bx``, ``events_replayed`` (input events placed on the clock
  and replayed) and ``events_not_replayed`` (input events ``--max-bx`` left out;
  null when the input's size is unknown).
- ``normalisation``: ``revolution_hz``, ``colliding_bunches``, ``n_bx``,
  ``n_colliding_bx`` (the BX every rate counts: colliding BX holding an input
  event, :func:`emulator.analysis.collision_mask`), ``n_colliding_slots``
  (colliding slots replayed, including the empty ones that complete the last
  orbit), ``n_orbits``.
- ``rates`` (required): ``seeds`` — list of ``{name, kind, threshold, unit,
  prescale, masked, count, rate_hz, error_hz, pure_rate_hz, pure_error_hz}``;
  ``total`` and ``l1_accept`` — ``{count, rate_hz, error_hz}``; ``limit_hz``;
  ``deadtime_fraction`` (over the counted BX); ``minimum_bias``; ``within_limit``
  (null when not minimum bias) and ``note`` (why the accept budget means nothing
  on a sample that is not minimum bias).
- ``overlap``: ``{seeds: [...], rate_hz: [[...]]}`` (diagonal = seed rate).
- ``thresholds_for_target``: list of ``{seed, target_rate_hz, found, threshold,
  unit, rate_hz, note}``; when the sample cannot resolve the target (``found``
  false) the threshold and rate are ``null`` and ``note`` says why.
- ``rate_vs_threshold``: ``{seed: {variable, unit, thresholds, rate_hz, error_hz,
  threshold}}`` (the rate with the cut placed at each threshold).
- ``rate_vs_pileup``: ``{variable (axis label), key (mu, true_interactions or
  n_vertices), is_mu, notes, series: {name: {mu, rate_hz, error_hz, n_bx, fit:
  {model, a, b, c, a_err, b_err, c_err, covariance, chi2, ndf, chi2_probability,
  bad, mu_range, alternatives, curve: {mu, rate_hz, low_hz, high_hz}, target_mu,
  rate_at_target_hz, error_at_target_hz, far_beyond}}}}``: the model a·μ + b·μ²
  or c + a·μ + b·μ² with the larger χ² probability; no extrapolation
  (``rate_at_target_hz`` null) for vertices or where the fit is negative.
- ``score_distributions``: ``{seed: {variable, unit, bin_edges, background,
  signals: {name: counts}, threshold}}``.
- ``efficiency_vs_rate``: ``{seed: {rate_hz, signals: {name: efficiency}}}``
  (the same threshold scan for background rate and signal efficiency).
- ``signals``: list of ``{name, n_events, efficiency: {seed: eff}, l1_efficiency}``.
- ``timing``: ``{budget_us, algorithms: [{name, latency_cycles, clock_mhz,
  latency_us, initiation_interval, accepts_every_bx}], total_latency_us,
  within_budget}``.
- ``occupancy``: ``{n_orbits, colliding, events, accepts}``, each a list of 3564
  per-BX values summed over orbits.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np

from l1sim._errors import UserError
from l1sim._outdir import write_bytes_atomic

#: bump when a key changes meaning; ``l1sim report`` refuses other versions
SCHEMA_VERSION = 2

#: Phase-2 Level-1 maximum accept rate [Hz]
MAX_L1_RATE_HZ = 750e3
#: Phase-2 Level-1 latency budget [µs] (500 BX)
LATENCY_BUDGET_US = 12.5
#: bunch slots per LHC orbit
BX_PER_ORBIT = 3564

Summary = dict[str, Any]


def _to_jsonable(value: Any) -> Any:
    """Convert numpy scalars/arrays and non-finite floats to plain JSON values (NaN -> null)."""
    if isinstance(value, dict):
        return {str(key): _to_jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_to_jsonable(item) for item in value]
    if isinstance(value, np.ndarray):
        return _to_jsonable(value.tolist())
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating | float):
        number = float(value)
        return number if math.isfinite(number) else None
    if isinstance(value, Path):
        return str(value)
    return value


def write_summary(path: Path, summary: Summary) -> None:
    """Write ``summary`` as indented JSON (NaN and infinities become ``null``)."""
    text = json.dumps(_to_jsonable(summary), indent=2, allow_nan=False) + "\n"
    write_bytes_atomic(Path(path), text.encode())


def read_summary(path: Path) -> Summary:
    """Read and check a ``summary.json``; a bad file is a :class:`UserError` naming it."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"{path}: no such file (is this an l1sim output directory?)")
    try:
        summary = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise UserError(f"{path}: not valid JSON ({exc})") from exc
    if not isinstance(summary, dict):
        raise UserError(f"{path}: expected a JSON object at the top level")
    if summary.get("schema") != SCHEMA_VERSION:
        raise UserError(
            f"{path}: field 'schema' is {summary.get('schema')!r}, this l1sim reads "
            f"schema {SCHEMA_VERSION}"
        )
    rates = summary.get("rates")
    if not isinstance(rates, dict) or not isinstance(rates.get("seeds"), list):
        raise UserError(f"{path}: field 'rates.seeds' is missing or not a list")
    for index, seed in enumerate(rates["seeds"]):
        if not isinstance(seed, dict) or "name" not in seed or "rate_hz" not in seed:
            raise UserError(f"{path}: rates.seeds[{index}] needs 'name' and 'rate_hz'")
    return summary
