"""``summary.json``: everything the report shows, in one JSON document.

``l1sim run`` and ``l1sim demo`` write it next to ``decisions.parquet``; ``l1sim
report DIR`` re-renders plots and HTML from it alone. Keys (all optional unless
marked; rates in Hz, times in µs, thresholds in the seed's physical unit):

- ``schema`` (required, int), ``l1sim_version``, ``created`` (ISO time),
  ``command`` (how the run was invoked).
- ``inputs``: ``background`` (list of str), ``signals`` (list of str), ``menu``,
  ``menu_algorithms`` (what of the menu file is emulated: ``{format`` (yaml,
  ugt-xml or built-in), ``prescale_column`` (null unless a uGT XML menu's column was
  chosen), ``algorithms`` (in the file), ``emulated``, ``refused``,
  ``refused_algorithms``: ``[{index, name, reason}]}``, the uGT algorithms l1sim
  cannot express and why), ``pileup`` (only what was applied: an overlay, the
  input's own, or none),
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
  low_hz, high_hz, n_bx, threshold}}`` (the rate with the cut placed at each
  threshold, its 68 % Wilson interval and the counted BX), for every seed of the menu.
- ``rate_vs_pileup``: ``{variable (axis label), key (mu, true_interactions or
  n_vertices), is_mu, notes, series: {name: {mu, rate_hz, error_hz, n_bx, fit:
  {model, a, b, c, a_err, b_err, c_err, covariance, chi2, ndf, chi2_probability,
  bad, mu_range, alternatives, curve: {mu, rate_hz, low_hz, high_hz}, target_mu,
  rate_at_target_hz, error_at_target_hz, far_beyond}}}}``: the model a·μ + b·μ²
  or c + a·μ + b·μ² with the larger χ² probability; no extrapolation
  (``rate_at_target_hz`` null) for vertices or where the fit is negative.
- ``score_distributions``: ``{seed: {variable, unit, bin_edges, background,
  signals: {name: counts}, threshold}}``.
- ``efficiency_vs_rate``: ``{seed: {rate_hz, rate_low_hz, rate_high_hz, signals:
  {name: efficiency}, low: {name: [...]}, high: {name: [...]}, n_passing: {name:
  [...]}, n_signal: {name: n},
  cl, method, menu_threshold: {rate_hz, efficiency: {name: eff}}}}`` (the same
  threshold scan for background rate and signal efficiency; ``low``/``high``: each
  point's binomial interval at ``cl``, Clopper-Pearson by default).
- ``report`` (optional, written by hand): ``{label, com_tev}``, the plots' label
  after "CMS Simulation" and √s (``l1sim report --label/--com`` override them).
- ``signals``: list of ``{name, n_events, efficiency: {seed: eff}, l1_efficiency}``.
- ``timing``: ``{budget_us, algorithms: [{name, latency_cycles, clock_mhz,
  latency_us, initiation_interval, accepts_every_bx}], total_latency_us,
  within_budget}``.
- ``occupancy``: ``{n_orbits, colliding, events, accepts}``, each a list of 3564
  per-BX values summed over orbits.
- ``dropped_objects``: ``{collections: {collection: objects}, slots: {collection:
  slots}}``: objects beyond the hardware's fixed slots per collection (sorted by pT,
  the lowest are left out, as the firmware does), summed over the counted BX.
- ``firmware`` (``l1sim run --firmware DIR``): ``{directory, top_module, clock_mhz,
  ii, latency_cycles, latency_ns, content_hash, algorithms: [{name, kind,
  latency_cycles, latency_ns, ii, hls_project, note, yosys, da4ml}], total}`` from
  the firmware's manifest and resources.json; seed timing then comes from it.
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
    problem = _check(summary, _SPEC, "")
    if problem is not None:
        raise UserError(f"{path}: {problem}")
    return summary


# ------------------------------------------------------------------------------ checking
# What the report, the plots and ``l1sim rates`` read, with the type each needs. A
# spec is a type name, ``("list", spec)``, ``("map", spec)`` (any keys) or a dict of
# optional keys (keys not listed are not checked). A value of the wrong type is
# refused naming its field, instead of failing deep inside the rendering.

Spec = str | tuple[str, Any] | dict[str, Any]

_NUM = "number?"
_NUMS: Spec = ("list", _NUM)
_RATE: Spec = {"count": "int?", "rate_hz": _NUM, "error_hz": _NUM}
_SPEC: dict[str, Spec] = {
    "schema": "int",
    "command": "str?",
    "inputs": {
        "background": ("list", "str"),
        "signals": ("list", "str"),
        "menu": "str?",
        "pileup": "str?",
        "minimum_bias": "bool?",
        "minimum_bias_reason": "str?",
        "scheme": "str?",
        "max_bx": "int?",
        "events_replayed": "int?",
        "events_not_replayed": "int?",
    },
    "normalisation": {
        "revolution_hz": _NUM,
        "colliding_bunches": "int?",
        "n_bx": "int?",
        "n_colliding_bx": "int?",
        "n_colliding_slots": "int?",
        "n_orbits": "int?",
    },
    "rates": {
        "seeds": (
            "list",
            {
                "name": "str",
                "kind": "str?",
                "threshold": _NUM,
                "unit": "str?",
                "prescale": _NUM,
                "masked": "bool?",
                "count": "int?",
                "unprescaled_rate_hz": _NUM,
                "rate_hz": _NUM,
                "error_hz": _NUM,
                "pure_rate_hz": _NUM,
                "pure_error_hz": _NUM,
            },
        ),
        "total": _RATE,
        "l1_accept": _RATE,
        "limit_hz": _NUM,
        "deadtime_fraction": _NUM,
        "minimum_bias": "bool?",
        "within_limit": "bool?",
        "note": "str?",
    },
    "overlap": {"seeds": ("list", "str"), "rate_hz": ("list", _NUMS)},
    "thresholds_for_target": (
        "list",
        {"seed": "str", "target_rate_hz": _NUM, "threshold": _NUM, "rate_hz": _NUM, "unit": "str?"},
    ),
    "rate_vs_threshold": (
        "map",
        {
            "variable": "str?",
            "unit": "str?",
            "thresholds": _NUMS,
            "rate_hz": _NUMS,
            "error_hz": _NUMS,
            "low_hz": _NUMS,
            "high_hz": _NUMS,
            "threshold": _NUM,
        },
    ),
    "rate_vs_pileup": {
        "variable": "str?",
        "collision_rate_hz": _NUM,
        "series": (
            "map",
            {
                "mu": _NUMS,
                "rate_hz": _NUMS,
                "error_hz": _NUMS,
                "n_bx": _NUMS,
                "fit": {
                    "model": "str?",
                    "chi2": _NUM,
                    "ndf": _NUM,
                    "target_mu": _NUM,
                    "rate_at_target_hz": _NUM,
                    "error_at_target_hz": _NUM,
                    "curve": {"mu": _NUMS, "rate_hz": _NUMS, "low_hz": _NUMS, "high_hz": _NUMS},
                },
            },
        ),
    },
    "score_distributions": (
        "map",
        {
            "variable": "str?",
            "unit": "str?",
            "bin_edges": _NUMS,
            "background": _NUMS,
            "signals": ("map", _NUMS),
            "threshold": _NUM,
        },
    ),
    "efficiency_vs_rate": (
        "map",
        {
            "rate_hz": _NUMS,
            "signals": ("map", _NUMS),
            "menu_threshold": {"rate_hz": _NUM, "efficiency": ("map", _NUM)},
        },
    ),
    "signals": (
        "list",
        {"name": "str", "n_events": "int?", "efficiency": ("map", _NUM), "l1_efficiency": _NUM},
    ),
    "timing": {
        "budget_us": _NUM,
        "upstream_latency_bx": _NUM,
        "upstream_latency_us": _NUM,
        "algorithms": (
            "list",
            {
                "name": "str",
                "latency_cycles": _NUM,
                "clock_mhz": _NUM,
                "latency_us": _NUM,
                "latency_bx": _NUM,
                "initiation_interval": _NUM,
                "accepts_every_bx": "bool?",
            },
        ),
        "total_latency_us": _NUM,
        "total_latency_bx": _NUM,
        "within_budget": "bool?",
    },
    "occupancy": {"n_orbits": "int?", "colliding": _NUMS, "events": _NUMS, "accepts": _NUMS},
    "dropped_objects": {"collections": ("map", "int?"), "slots": ("map", "int?")},
    "firmware": {
        "clock_mhz": _NUM,
        "ii": _NUM,
        "latency_cycles": _NUM,
        "latency_ns": _NUM,
        "algorithms": (
            "list",
            {"name": "str", "latency_cycles": _NUM, "latency_ns": _NUM, "ii": _NUM},
        ),
    },
}

_SCALARS: dict[str, tuple[type, ...]] = {
    "int": (int,),
    "number": (int, float),
    "str": (str,),
    "bool": (bool,),
}


def _check(value: Any, spec: Spec, where: str) -> str | None:
    """The first field of ``value`` that does not match ``spec`` (None when all do)."""
    if isinstance(spec, str):
        kind = spec.rstrip("?")
        if value is None and spec.endswith("?"):
            return None
        wanted = _SCALARS[kind]
        if isinstance(value, wanted) and (kind == "bool" or not isinstance(value, bool)):
            return None
        return f"field {where!r} is {_shown(value)}, expected {'a number' if kind == 'number' else kind}"
    if isinstance(spec, tuple):
        container, item = spec
        if container == "list":
            if not isinstance(value, list):
                return f"field {where!r} is {_shown(value)}, expected a list"
            for index, element in enumerate(value):
                problem = _check(element, item, f"{where}[{index}]")
                if problem:
                    return problem
            return None
        if not isinstance(value, dict):
            return f"field {where!r} is {_shown(value)}, expected an object"
        for key, element in value.items():
            problem = _check(element, item, f"{where}.{key}" if where else str(key))
            if problem:
                return problem
        return None
    if value is None and where:
        return None
    if not isinstance(value, dict):
        return f"field {where!r} is {_shown(value)}, expected an object"
    for key, item in spec.items():
        if key in value:
            problem = _check(value[key], item, f"{where}.{key}" if where else key)
            if problem:
                return problem
    return None


def _shown(value: Any) -> str:
    """A short description of a JSON value for an error message."""
    text = json.dumps(value)
    return text if len(text) <= 40 else f"a {type(value).__name__} ({text[:30]}…)"
