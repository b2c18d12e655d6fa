"""``l1sim rates``: a plain-text rate table of a run's decisions, and thresholds for targets.

Every number comes from :mod:`emulator.analysis` on the decisions Parquet file (or
partitioned dataset), counted chunk by chunk. ``--table`` prints the menu tools'
table (:func:`menu_table`): per seed the rate before and after prescale, the pure
rate and the cumulative rate in a chosen order, as text, JSON or CSV. Its numbers
are those of the plain table and of ``summary.json`` (the same counts through the
same :func:`emulator.analysis.rate`); only the cumulative column needs a second
pass over the decisions, because it depends on each BX's decisions in that order.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from emulator import analysis
from emulator.analysis import DecisionCounts
from emulator.replay import iter_decisions
from l1sim._errors import UserError
from l1sim._plot_data import unit_of
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
    decisions = _counts(path)
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


def _counts(path: Path) -> DecisionCounts:
    """The counts of a decisions file, read chunk by chunk (never all rows in memory)."""
    try:
        decisions = analysis.count_decisions(iter_decisions(path))
    except ValueError as exc:
        raise UserError(str(exc)) from exc
    if decisions is None:
        raise UserError(f"{path}: the decisions file holds no BX")
    return decisions


#: table formats of ``l1sim rates --table``
TABLE_FORMATS = ("text", "json", "csv")
#: rate columns of the table, in print order
COLUMNS = ("unprescaled", "prescaled", "pure", "cumulative")


def menu_table(
    path: Path,
    *,
    order: str | Sequence[str] = "menu",
    cl: float = analysis.CL_68,
    n_colliding: int | None = None,
) -> dict[str, Any]:
    """The menu rate table of a decisions file (see :func:`emulator.analysis.rate_table`).

    Pass one counts (:func:`emulator.analysis.count_decisions`: the counts behind every
    other rate of l1sim); pass two sums each chunk's cumulative counts in ``order``
    (``menu``, ``rate`` or seed names, the others following in menu order).
    """
    decisions = _counts(path)
    names = decisions.seed_names
    metas = {meta["name"]: meta for meta in decisions.metadata.get("seeds", [])}
    try:
        indices = analysis.table_order(order, names, decisions.prescaled)
    except ValueError as exc:
        raise UserError(f"--order: {exc}") from exc
    masked = analysis.masked_seeds(decisions)
    cumulative = np.zeros(len(indices), np.int64)
    try:
        for batch in iter_decisions(path):
            if batch.seed_names != names:
                raise UserError(f"{path}: a chunk holds other seeds than the first")
            cumulative += analysis.cumulative_counts(
                batch.prescaled, masked, analysis.collision_mask(batch), indices
            )
    except ValueError as exc:
        raise UserError(str(exc)) from exc
    prescales = [_prescale(metas.get(name, {})) for name in names]
    table = analysis.rate_table_from_counts(
        names,
        fired=decisions.fired,
        prescaled=decisions.prescaled,
        pure=decisions.pure,
        cumulative=cumulative,
        total=decisions.n_total,
        masked=masked,
        prescales=prescales,
        n_bx=decisions.n_counted,
        order=indices,
        order_label=order if isinstance(order, str) else list(order),
        n_colliding=DEFAULT_N_COLLIDING if n_colliding is None else n_colliding,
        cl=cl,
    )
    table["menu"] = decisions.metadata.get("menu", "")
    table["n_colliding"] = DEFAULT_N_COLLIDING if n_colliding is None else n_colliding
    return table


def _prescale(meta: dict[str, Any]) -> float:
    """A seed's prescale from the decisions metadata (1 when the menu gives none)."""
    value = meta.get("prescale")
    return 1.0 if value is None else float(value)


def table_text(
    table: dict[str, Any], *, table_format: str = "text", minimum_bias: bool | None = None
) -> str:
    """The table of :func:`menu_table` as ``text`` (the menu tools' layout), ``json`` or ``csv``.

    ``minimum_bias`` False (from the run's summary) adds, to the text, why these rates
    are not trigger rates of collisions.
    """
    if table_format == "json":
        return json.dumps(table, indent=1, allow_nan=True)
    if table_format == "csv":
        return _table_csv(table)
    if table_format != "text":
        raise UserError(f"table format {table_format!r}: one of {', '.join(TABLE_FORMATS)}")
    head = (
        f"{table.get('menu', '')}: {len(table['rows'])} seeds, rates over {table['n_bx']} "
        f"counted BX ({table['n_colliding']} colliding bunches)"
    )
    lines = [head, analysis.format_rate_table(table)]
    if minimum_bias is False:
        lines.append(f"note: {analysis.NOT_MINIMUM_BIAS}")
    return "\n".join(lines)


def _table_csv(table: dict[str, Any]) -> str:
    """One CSV row per seed: rates, standard errors and upper limits in Hz, and counts."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    header = ["position", "index", "name", "prescale", "masked"]
    for column in COLUMNS:
        header += [
            f"{column}_rate_hz",
            f"{column}_error_hz",
            f"{column}_upper_limit_hz",
            f"{column}_count",
        ]
    writer.writerow([*header, "n_bx", "cl"])
    for row in table["rows"]:
        cells: list[Any] = [row["position"], row["index"], row["name"], row["prescale"]]
        cells.append(int(row["masked"]))
        for column in COLUMNS:
            entry = row[column]
            limit = entry.get("upper_limit_hz")
            cells += [
                repr(entry["rate_hz"]),
                repr(entry["rate_err_hz"]),
                "" if limit is None else repr(limit),
                entry["n_accepted"],
            ]
        writer.writerow([*cells, table["n_bx"], table["cl"]])
    return buffer.getvalue().rstrip("\n")
