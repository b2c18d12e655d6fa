"""The per-seed sections of ``summary.json`` that the plots draw, for every seed.

``rate_vs_threshold`` (each seed's rate with its cut moved, 68 % band), and with
signal samples ``efficiency_vs_rate`` (each signal's efficiency per threshold with
its binomial interval, :func:`emulator.analysis.efficiency_intervals`) and
``score_distributions``. Every seed of the menu gets an entry, so the report can
reach all of them (the plots paginate, see :mod:`l1sim._plots`); NN seeds come
first, then the menu order.
"""

# ruff: noqa: RUF001  (Greek letters are meant in the physics labels)

from __future__ import annotations

from typing import Any

import numpy as np

from emulator import analysis
from emulator.analysis import DecisionCounts
from emulator.menu import Menu, SeedKind

#: bins of the score histograms
SCORE_BINS = 40

_ORDINALS = ("leading", "2nd", "3rd", "4th")
_OBJECT_NAMES = {"egamma": "e/γ", "muon": "μ", "tau": "τ", "jet": "jet"}


def unit_of(kind: str) -> str:
    """Physical unit of a seed kind's score (NN scores have none)."""
    return "" if kind == str(SeedKind.NN) else "GeV"


def variable_of(meta: dict[str, Any], menu: Menu | None = None) -> str:
    """What a seed's score is, in words, for axis labels."""
    kind = meta.get("kind")
    if kind == str(SeedKind.NN):
        spec = getattr(menu.seed(meta["name"]), "nn", None) if menu is not None else None
        score = getattr(spec, "score", None)
        return {
            "ae_mse": "autoencoder reconstruction MSE",
            "latent_mu2": "latent Σμ²",
            "cnf_norm": "CNF score ‖v(x, t)‖²",
            "tagger": "tagger output",
        }.get(str(score), "NN score")
    if kind == str(SeedKind.HT):
        return "HT"
    if kind == str(SeedKind.MET):
        return "missing pT"
    if menu is None:
        return "pT of the last leg"
    seed = menu.seed(meta["name"])
    leg = max(1, seed.multiplicity)
    name = _OBJECT_NAMES.get(seed.collections[0] if seed.collections else "", "object")
    ordinal = _ORDINALS[leg - 1] if leg <= len(_ORDINALS) else f"{leg}th"
    return f"pT of {ordinal} {name}" + (" (other legs fixed)" if leg > 1 else "")


def panel_seeds(decisions: DecisionCounts) -> list[str]:
    """Every seed, in the order of the per-seed plots: NN seeds first, then the menu order."""
    metas = decisions.metadata.get("seeds", [])
    nn = [m["name"] for m in metas if m.get("kind") == str(SeedKind.NN)]
    rest = [m["name"] for m in metas if m.get("kind") != str(SeedKind.NN)]
    return nn + rest


def per_seed_sections(
    menu: Menu,
    decisions: DecisionCounts,
    signals: dict[str, DecisionCounts],
    n_colliding: int,
) -> dict[str, dict[str, Any]]:
    """``rate_vs_threshold``, ``efficiency_vs_rate`` and ``score_distributions`` of every
    seed (the last two only with signals), keyed by seed name.
    """
    metas = {meta["name"]: meta for meta in decisions.metadata.get("seeds", [])}
    sections: dict[str, dict[str, Any]] = {
        "rate_vs_threshold": {},
        "efficiency_vs_rate": {},
        "score_distributions": {},
    }
    for name in panel_seeds(decisions):
        meta = metas[name]
        lsb = decisions.score_type(name).lsb
        unit = unit_of(meta.get("kind", ""))
        thresholds = analysis.scan_points(decisions, name, signals)
        scan = analysis.seed_rate_vs_threshold(decisions, name, thresholds, n_colliding=n_colliding)
        sections["rate_vs_threshold"][name] = {
            "variable": variable_of(meta, menu),
            "unit": unit,
            "thresholds": scan["threshold"],
            "rate_hz": scan["rate_hz"],
            "error_hz": scan["rate_err_hz"],
            "low_hz": scan["rate_low_hz"],
            "high_hz": scan["rate_high_hz"],
            "n_bx": scan["n_bx"],
            "threshold": meta["threshold_raw"] * lsb,
        }
        if not signals:
            continue
        background_scores = analysis.seed_scores(decisions, name)
        curves = {  # intervals below, all curves' in one call
            label: analysis.efficiency_vs_rate_counts(
                analysis.seed_scores(batch, name),
                background_scores,
                thresholds,
                lsb=lsb,
                n_colliding=n_colliding,
                intervals=False,
            )
            for label, batch in signals.items()
        }
        at_menu = {
            label: analysis.efficiency_vs_rate_counts(
                analysis.seed_scores(batch, name),
                background_scores,
                [meta["threshold_raw"]],
                lsb=lsb,
                n_colliding=n_colliding,
                intervals=False,
            )
            for label, batch in signals.items()
        }
        sections["efficiency_vs_rate"][name] = {
            "rate_hz": scan["rate_hz"],
            "rate_low_hz": scan["rate_low_hz"],
            "rate_high_hz": scan["rate_high_hz"],
            "signals": {label: curve["efficiency"] for label, curve in curves.items()},
            "n_passing": {label: curve["n_passing"] for label, curve in curves.items()},
            "n_signal": {label: curve["n_signal"] for label, curve in curves.items()},
            "menu_threshold": {
                "rate_hz": next(iter(at_menu.values()))["rate_hz"][0],
                "efficiency": {label: p["efficiency"][0] for label, p in at_menu.items()},
            },
        }
        sections["score_distributions"][name] = {
            "variable": variable_of(meta, menu),
            "unit": unit,
            **analysis.score_histograms(decisions, name, signals, bins=SCORE_BINS),
        }
    _add_intervals(sections["efficiency_vs_rate"])
    return sections


def _add_intervals(section: dict[str, Any], cl: float = analysis.CL_68) -> None:
    """Each efficiency point's Clopper-Pearson interval (``low``/``high`` per signal, and
    ``cl``, ``method``), every curve's in one vectorised call: one call per curve costs
    its fixed overhead hundreds of times on a long menu.
    """
    pairs = [
        (seed, label, np.asarray(k, np.int64), int(curves["n_signal"][label]))
        for seed, curves in section.items()
        for label, k in curves["n_passing"].items()
    ]
    if not pairs:
        return
    k_all = np.concatenate([k for _, _, k, _ in pairs])
    n_all = np.concatenate([np.full(k.shape[0], n, np.int64) for _, _, k, n in pairs])
    distinct, where = np.unique(np.stack([k_all, n_all], axis=1), axis=0, return_inverse=True)
    _, low, high = analysis.efficiency_intervals(distinct[:, 0], distinct[:, 1], cl=cl)
    low_all, high_all = low[where.ravel()], high[where.ravel()]
    start = 0
    for seed, label, k, _ in pairs:
        stop = start + k.shape[0]
        curves = section[seed]
        curves.setdefault("low", {})[label] = low_all[start:stop].tolist()
        curves.setdefault("high", {})[label] = high_all[start:stop].tolist()
        curves["cl"], curves["method"] = cl, "clopper-pearson"
        start = stop
