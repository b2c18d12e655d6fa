"""``l1sim rates``: a plain-text rate table of a run's decisions, and thresholds for targets.

Every number comes from :mod:`emulator.analysis` on the decisions Parquet file (or
partitioned dataset), counted chunk by chunk.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from emulator import analysis
from emulator.replay import iter_decisions
from l1sim._errors import UserError
from l1sim._pipeline import unit_of
from streams.timeline import DEFAULT_N_COLLIDING


def rates_text(
    path: Path,
    *,
    seeds: list[str],
    target_rates: list[float],
    n_colliding: int | None = None,
    minimum_bias: bool | None = None,
) -> str:
    """A plain-text rate table of a decisions file, plus thresholds for target rates.

    ``n_colliding`` (colliding bunches of the filling scheme the run used) normalises
    the rates; without it, the default scheme's 2760. ``minimum_bias`` False (from
    the run's summary) adds why the L1 accept rate and deadtime mean nothing here.
    """
    try:  # counted chunk by chunk: the rows are never all in memory
        decisions = analysis.count_decisions(iter_decisions(path))
    except ValueError as exc:
        raise UserError(str(exc)) from exc
    if decisions is None:
        raise UserError(f"{path}: the decisions file holds no BX")
    metas = {meta["name"]: meta for meta in decisions.metadata.get("seeds", [])}
    for name in seeds:
        if name not in metas:
            raise UserError(
                f"{path}: unknown seed {name!r}; seeds: {', '.join(decisions.seed_names)}"
            )
    bunches = DEFAULT_N_COLLIDING if n_colliding is None else n_colliding
    result = analysis.replay_rates(decisions, bunches)
    accepts = analysis.accept_summary(decisions, bunches)
    width = max([len(name) for name in decisions.seed_names] + [24])
    lines = [
        (
            f"{decisions.metadata.get('menu', '')}: rates over {accepts['n_colliding_bx']} "
            f"counted BX of {accepts['n_bx']} replayed (colliding BX holding an input event)"
        ),
        f"{'seed':<{width}}  {'threshold':>12}  {'rate [kHz]':>18}  {'pure [kHz]':>18}",
    ]
    for name in decisions.seed_names:
        entry = result["seeds"][name]
        threshold = metas[name]["threshold_raw"] * decisions.score_type(name).lsb
        unit = unit_of(metas[name].get("kind", ""))
        lines.append(
            f"{name:<{width}}  {threshold:>8g} {unit:<3}  "
            f"{_khz(entry['prescaled']):>18}  {_khz(entry['pure']):>18}"
            + ("  (masked)" if entry["masked"] else "")
        )
    lines.append(f"{'total (OR)':<{width}}  {'':>12}  {_khz(result['total']):>18}")
    lines.append(f"{'L1 accept':<{width}}  {'':>12}  {_khz(accepts['l1a']):>18}")
    lines.append(f"deadtime from trigger rules: {100 * accepts['deadtime_fraction']:.3g} %")
    if minimum_bias is False:
        lines.append(f"note: {analysis.NOT_MINIMUM_BIAS}")
    for name, target in zip(seeds, target_rates, strict=False):
        unit = unit_of(metas[name].get("kind", ""))
        unit_suffix = f" {unit}" if unit else ""
        found = analysis.seed_threshold_for_rate(decisions, name, target, n_colliding=bunches)
        if not found["found"]:
            lines.append(f"{name}: no threshold: {found['note']}")
            continue
        lines.append(
            f"{name}: threshold {found['threshold']:g}{unit_suffix} "
            f"(raw {found['threshold_raw']}) gives {found['rate_hz'] / 1e3:.4g} kHz "
            f"for a target of {target / 1e3:.4g} kHz"
        )
    if seeds and not target_rates:
        for name in seeds:
            entry = result["seeds"][name]["prescaled"]
            lines.append(f"{name}: {_khz(entry)}")
    return "\n".join(lines)


def _khz(rate: dict[str, Any]) -> str:
    """``12.3 ± 0.4`` in kHz from an analysis rate dict."""
    value, error = rate["rate_hz"], rate["rate_err_hz"]
    if value is None or not np.isfinite(value):
        return "n/a"
    return f"{value / 1e3:.4g} ± {error / 1e3:.2g}"
