"""``l1sim rates``: a plain-text rate table of a run's decisions, and thresholds for targets.

Every number comes from :mod:`emulator.analysis` on the decisions Parquet file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from emulator import analysis
from emulator.replay import read_decisions
from l1sim._errors import UserError
from l1sim._pipeline import unit_of


def rates_text(
    path: Path, *, seeds: list[str], target_rates: list[float], n_colliding: int | None = None
) -> str:
    """A plain-text rate table of a decisions file, plus thresholds for target rates.

    ``n_colliding`` (colliding bunches of the filling scheme the run used) normalises
    the rates; without it, the default scheme's 2760.
    """
    try:
        decisions = read_decisions(path)
    except ValueError as exc:
        raise UserError(str(exc)) from exc
    metas = {meta["name"]: meta for meta in decisions.metadata.get("seeds", [])}
    for name in seeds:
        if name not in metas:
            raise UserError(
                f"{path}: unknown seed {name!r}; seeds: {', '.join(decisions.seed_names)}"
            )
    kwargs = {} if n_colliding is None else {"n_colliding": n_colliding}
    masked = np.array([metas[n]["masked"] for n in decisions.seed_names], np.bool_)
    result = analysis.seed_rates(
        decisions.seed_names,
        decisions.fired,
        decisions.prescaled,
        masked,
        decisions.colliding,
        **kwargs,
    )
    accepts = analysis.accept_summary(decisions, **kwargs)
    width = max([len(name) for name in decisions.seed_names] + [24])
    lines = [
        (
            f"{decisions.metadata.get('menu', '')}: {accepts['n_colliding_bx']} colliding BX of "
            f"{accepts['n_bx']} replayed"
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
    for name, target in zip(seeds, target_rates, strict=False):
        column = decisions.column(name)
        lsb = decisions.score_type(name).lsb
        unit = unit_of(metas[name].get("kind", ""))
        unit_suffix = f" {unit}" if unit else ""
        found = analysis.threshold_for_rate(
            decisions.scores[:, column], decisions.colliding, target, lsb=lsb, **kwargs
        )
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
