"""The job behind ``l1sim run`` and ``l1sim demo``: streams → replay → analysis → summary.

This module glues the layers together and owns no physics: events come from
:mod:`streams` (readers, timeline, pile-up overlay), decisions from
:func:`emulator.run`, and every number from :mod:`emulator.analysis` and
:func:`emulator.timing.timing_report`. What it adds is the choice of inputs for
the demo, the translation of user mistakes into :class:`~l1sim._errors.UserError`,
and the shape of ``summary.json`` (see :mod:`l1sim._summary`).
"""

# ruff: noqa: RUF001  (Greek letters are meant in the physics labels)

from __future__ import annotations

import datetime as dt
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

import emulator
import streams
from emulator import analysis
from emulator.menu import Menu, MenuError, SeedKind, default_menu, load_menu
from emulator.replay import DecisionBatch, concat_decisions, read_decisions, write_decisions
from emulator.timing import BX_NS, timing_report
from l1sim import __version__
from l1sim._errors import UserError
from l1sim._summary import BX_PER_ORBIT, LATENCY_BUDGET_US, MAX_L1_RATE_HZ, SCHEMA_VERSION, Summary
from streams.pileup import LevellingProfile
from streams.timeline import REVOLUTION_HZ, FillingScheme

#: signal processes of the synthetic generator used by the demo (ADC2021-like)
DEMO_SIGNALS = ("A_4l", "LQ_btau", "h_tautau", "hpm_taunu")
#: bunch crossings the demo replays by default (about 60 orbits)
DEMO_MAX_BX = 60 * BX_PER_ORBIT
#: events per demo signal sample
DEMO_SIGNAL_EVENTS = 20_000
#: pile-up of the demo: a levelled fill at this μ, swept over the replayed orbits
DEMO_PEAK_MU = 200.0
#: at most this many seeds get a panel in the per-seed plots (NN seeds first)
MAX_PANELS = 9
#: bins of the score histograms
SCORE_BINS = 40
#: rates for which the report gives each NN seed's threshold
TARGET_RATES_HZ = (10e3, 50e3)

Say = Callable[[str], None]
PileupSpec = float | LevellingProfile | None


@dataclass
class Job:
    """Everything one run needs; paths are as the user gave them."""

    background: list[str]
    signals: list[str] = field(default_factory=list)
    menu_path: Path | None = None
    pileup: PileupSpec = None
    scheme_path: Path | None = None
    max_bx: int | None = None
    target_mu: float = 200.0
    random_seed: int = 2026
    command: str = "l1sim"
    #: how the pile-up is described in the report (defaults to the value)
    pileup_label: str | None = None


def demo_job(*, max_bx: int | None = None, random_seed: int = 2026) -> Job:
    """The main job on the built-in default.

    Synthetic background on the default 2760-bunch filling scheme, with a levelled
    fill's pile-up (μ = 200 for 4 h, then decaying with an 8 h lifetime over a 24 h fill)
    swept across the replayed
    orbits so the rate-versus-pile-up fit has a lever arm; the four ADC2021-like
    signals with the same pile-up; the default menu.
    """
    n_bx = max_bx or DEMO_MAX_BX
    n_orbits = max(1, -(-n_bx // BX_PER_ORBIT))
    background = f"synthetic:background?n={n_bx}&seed={random_seed}"
    n_signal = min(DEMO_SIGNAL_EVENTS, max(1_000, n_bx // 10))
    signals = [
        f"synthetic:{name}?n={n_signal}&seed={random_seed + 1 + index}"
        for index, name in enumerate(DEMO_SIGNALS)
    ]
    profile = LevellingProfile.over_orbits(
        n_orbits, fill_hours=24.0, peak_mu=DEMO_PEAK_MU, levelled_hours=4.0, lifetime_hours=8.0
    )
    return Job(
        background=[background],
        signals=signals,
        pileup=profile,
        max_bx=n_bx,
        random_seed=random_seed,
        command=f"l1sim demo (random seed {random_seed})",
        pileup_label=f"levelled fill: μ = {DEMO_PEAK_MU:g}, then decaying (24 h fill over "
        f"{n_orbits} orbits)",
    )


# ------------------------------------------------------------------------------ inputs


def _menu(job: Job) -> Menu:
    """The user's menu, or the built-in default; a bad menu is a UserError."""
    try:
        if job.menu_path is None:
            return default_menu()
        if not Path(job.menu_path).is_file():
            raise UserError(f"{job.menu_path}: no such menu file")
        return load_menu(job.menu_path)
    except MenuError as exc:
        raise UserError(str(exc)) from exc


def _scheme(job: Job) -> FillingScheme:
    """The filling scheme file, or the default 2760-bunch scheme."""
    if job.scheme_path is None:
        return FillingScheme.default()
    if not Path(job.scheme_path).is_file():
        raise UserError(f"{job.scheme_path}: no such filling scheme file")
    try:
        return FillingScheme.load(job.scheme_path)
    except streams.StreamError as exc:
        raise UserError(str(exc)) from exc


def _open(spec: str) -> streams.EventSource:
    """An event source for a path or synthetic spec; problems become UserErrors."""
    try:
        return streams.open(spec)
    except streams.StreamError as exc:
        raise UserError(str(exc)) from exc


def _label(spec: str) -> str:
    """Short name of an input for tables and legends (file stem or synthetic process)."""
    if spec.startswith("synthetic:"):
        return spec.removeprefix("synthetic:").split("?")[0]
    return Path(spec).stem


def _bx_stream(
    job: Job,
    source: Iterable[streams.EventBatch],
    scheme: FillingScheme,
    salt: int,
    max_bx: int | None,
) -> Iterator[streams.EventBatch]:
    """Events laid on the bunch clock, with pile-up overlaid when asked."""
    placed = streams.timeline.place(source, scheme, max_bx=max_bx)
    if job.pileup is None:
        return placed
    minimum_bias = streams.synthetic.generate(
        "minbias", 100_000, seed=job.random_seed + 999_983 + salt
    )
    return streams.pileup.overlay(placed, minimum_bias, job.pileup, seed=job.random_seed + salt)


# ------------------------------------------------------------------------------ running


def _with_progress(
    stream: Iterable[streams.EventBatch], description: str, total: int | None, show: bool
) -> Iterator[streams.EventBatch]:
    """``stream`` unchanged, counting its BX on a progress bar (on stderr, when shown)."""
    with tqdm(
        total=total,
        unit="BX",
        unit_scale=True,
        desc=description,
        disable=not show,
        file=sys.stderr,
        dynamic_ncols=True,
    ) as bar:
        for batch in stream:
            yield batch
            bar.update(len(batch))


def execute(job: Job, decisions_path: Path, *, progress: bool, say: Say) -> Summary:
    """Run ``job``: write its decisions to ``decisions_path`` and return its summary."""
    menu = _menu(job)
    scheme = _scheme(job)
    background = streams.chain(*[_open(spec) for spec in job.background])
    signal_sources = {_label(spec): _open(spec) for spec in job.signals}
    show = progress and sys.stderr.isatty()
    say(f"replaying {', '.join(job.background)} through menu {menu.name!r}")
    stream = _with_progress(
        _bx_stream(job, background, scheme, 0, job.max_bx), "replay", job.max_bx, show
    )
    started = time.perf_counter()
    try:
        n_rows = write_decisions(emulator.run(stream, menu), decisions_path)
    except streams.StreamError as exc:
        raise UserError(str(exc)) from exc
    except ValueError as exc:
        if "no decisions to write" in str(exc):
            raise UserError(
                f"{', '.join(job.background)}: no events to replay (the input is empty)"
            ) from None
        raise
    decisions = read_decisions(decisions_path)
    if not decisions.colliding.any():
        raise UserError(f"{', '.join(job.background)}: no colliding bunch crossing was replayed")
    replay_s = time.perf_counter() - started
    say(
        f"{n_rows} BX replayed in {replay_s:.1f} s ({n_rows / replay_s / 1e3:.0f} kBX/s, "
        f"reading, pile-up and emulation); {len(signal_sources)} signal sample(s) next"
    )
    started = time.perf_counter()
    signals: dict[str, DecisionBatch] = {}
    for index, (name, source) in enumerate(signal_sources.items(), start=1):
        signal_stream = _with_progress(
            _bx_stream(job, source, scheme, index, None), f"signal {name}", None, show
        )
        try:
            parts = list(emulator.run(signal_stream, menu))
        except streams.StreamError as exc:
            raise UserError(str(exc)) from exc
        if not parts:
            raise UserError(f"signal {name}: no events to replay (the input is empty)")
        batch = concat_decisions(parts)
        signals[name] = _events_only(batch)
        if len(signals[name]) == 0:
            raise UserError(f"signal {name}: no events to replay (the input is empty)")
    signals_s = time.perf_counter() - started
    say("analysing")
    started = time.perf_counter()
    summary = build_summary(job, menu, scheme, decisions, signals)
    summary["performance"] = {
        "replay_s": replay_s,
        "replay_bx_per_s": n_rows / replay_s if replay_s > 0 else None,
        "signals_s": signals_s,
        "signal_events": sum(len(batch) for batch in signals.values()),
        "analysis_s": time.perf_counter() - started,
    }
    return summary


def _events_only(decisions: DecisionBatch) -> DecisionBatch:
    """The rows of ``decisions`` that hold an event (signal efficiencies count events)."""
    keep = decisions.event_id >= 0
    fields = {
        name: getattr(decisions, name)[keep]
        for name in (
            "orbit",
            "bx",
            "colliding",
            "event_id",
            "true_interactions",
            "n_vertices",
            "scores",
            "fired",
            "prescaled",
            "final_or",
            "dead",
            "vetoed",
            "l1a",
        )
    }
    return DecisionBatch(seed_names=decisions.seed_names, metadata=decisions.metadata, **fields)


# ------------------------------------------------------------------------------ summary


def unit_of(kind: str) -> str:
    """Physical unit of a seed kind's score (NN scores have none)."""
    return "" if kind == str(SeedKind.NN) else "GeV"


_ORDINALS = ("leading", "2nd", "3rd", "4th")
_OBJECT_NAMES = {"egamma": "e/γ", "muon": "μ", "tau": "τ", "jet": "jet"}


def _variable(meta: dict[str, Any], menu: Menu | None = None) -> str:
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


def _panel_seeds(decisions: DecisionBatch) -> list[str]:
    """Seeds that get a panel in per-seed plots: NN seeds first, then the menu order."""
    metas = decisions.metadata.get("seeds", [])
    nn = [m["name"] for m in metas if m.get("kind") == str(SeedKind.NN)]
    rest = [m["name"] for m in metas if m.get("kind") != str(SeedKind.NN)]
    return (nn + rest)[:MAX_PANELS]


def _scan_thresholds(background: np.ndarray, signals: list[np.ndarray]) -> np.ndarray:
    """Raw thresholds for the scans: quantiles of each sample plus the background's tail.

    Every one of the 40 highest background scores is a threshold (the rate steps
    there), so the rate curve is exact where it is steepest on a log scale.
    """
    points = [np.zeros(1, np.int64)]
    for values in [background, *signals]:
        valid = values[values >= 0]
        if valid.size:
            grid = np.quantile(valid, np.linspace(0.0, 1.0, 120), method="inverted_cdf")
            points.append(grid.astype(np.int64))
    valid = background[background >= 0]
    if valid.size:
        tail = np.unique(valid)[-40:]
        points += [tail, tail + 1]
    return np.unique(np.concatenate(points))


def build_summary(
    job: Job,
    menu: Menu,
    scheme: FillingScheme,
    decisions: DecisionBatch,
    signals: dict[str, DecisionBatch],
) -> Summary:
    """The summary.json content of a replay (see :mod:`l1sim._summary` for the keys)."""
    n_colliding = scheme.n_colliding
    timing = timing_report(menu)
    core = analysis.summarize(
        decisions, n_colliding=n_colliding, timing=timing, pileup_target=job.target_mu
    )
    metas = {meta["name"]: meta for meta in decisions.metadata.get("seeds", [])}
    colliding = decisions.colliding
    lsb = {name: decisions.score_type(name).lsb for name in decisions.seed_names}
    seed_rows = []
    for name in decisions.seed_names:
        meta = metas[name]
        rates = core["rates"]["seeds"][name]
        legs = list(menu.seed(name).pt_thresholds) if meta.get("kind") == "objects" else []
        seed_rows.append(
            {
                "name": name,
                "kind": meta.get("kind"),
                "threshold": meta["threshold_raw"] * lsb[name],
                "thresholds": legs or None,
                "unit": unit_of(meta.get("kind", "")),
                "prescale": meta.get("prescale"),
                "masked": meta.get("masked", False),
                "count": rates["prescaled"]["n_accepted"],
                "unprescaled_rate_hz": rates["unprescaled"]["rate_hz"],
                "rate_hz": rates["prescaled"]["rate_hz"],
                "error_hz": rates["prescaled"]["rate_err_hz"],
                "pure_rate_hz": rates["pure"]["rate_hz"],
                "pure_error_hz": rates["pure"]["rate_err_hz"],
            }
        )
    accepts = core["accepts"]
    passed = decisions.prescaled & ~np.array([metas[n]["masked"] for n in decisions.seed_names])
    summary: Summary = {
        "schema": SCHEMA_VERSION,
        "l1sim_version": __version__,
        "created": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "command": job.command,
        "inputs": {
            "background": job.background,
            "signals": job.signals,
            "menu": str(job.menu_path) if job.menu_path else f"built-in default ({menu.name})",
            "pileup": job.pileup_label
            or (f"Poisson μ = {job.pileup:g}" if isinstance(job.pileup, float) else "as in input"),
            "scheme": f"{scheme.name} ({n_colliding} colliding bunches)",
            "max_bx": job.max_bx,
        },
        "normalisation": {
            "revolution_hz": REVOLUTION_HZ,
            "colliding_bunches": n_colliding,
            "n_bx": len(decisions),
            "n_colliding_bx": int(colliding.sum()),
            "n_orbits": int(np.unique(decisions.orbit).size),
        },
        "rates": {
            "seeds": seed_rows,
            "total": _rate_entry(core["rates"]["total"]),
            "l1_accept": _rate_entry(accepts["l1a"]),
            "limit_hz": MAX_L1_RATE_HZ,
            "deadtime_fraction": accepts["deadtime_fraction"],
        },
        "overlap": {
            "seeds": list(decisions.seed_names),
            "rate_hz": analysis.overlap_matrix(passed, colliding, n_colliding).tolist(),
        },
        "rate_vs_threshold": {},
        "score_distributions": {},
        "efficiency_vs_rate": {},
        "signals": [],
        "timing": _timing_section(timing),
        "occupancy": _occupancy_section(decisions),
        "analysis": core,
    }
    for name in _panel_seeds(decisions):
        column = decisions.column(name)
        meta = metas[name]
        background_scores = decisions.scores[:, column]
        signal_scores = {label: batch.scores[:, column] for label, batch in signals.items()}
        thresholds = _scan_thresholds(background_scores[colliding], list(signal_scores.values()))
        scan = analysis.rate_vs_threshold(
            background_scores, colliding, thresholds, lsb=lsb[name], n_colliding=n_colliding
        )
        summary["rate_vs_threshold"][name] = {
            "variable": _variable(meta, menu),
            "unit": unit_of(meta.get("kind", "")),
            "thresholds": scan["threshold"],
            "rate_hz": scan["rate_hz"],
            "error_hz": scan["rate_err_hz"],
            "low_hz": scan["rate_low_hz"],
            "high_hz": scan["rate_high_hz"],
            "threshold": meta["threshold_raw"] * lsb[name],
        }
        if signals:
            curves = {
                label: analysis.efficiency_vs_rate(
                    scores,
                    background_scores,
                    colliding,
                    thresholds,
                    lsb=lsb[name],
                    n_colliding=n_colliding,
                )["efficiency"]
                for label, scores in signal_scores.items()
            }
            at_menu = {
                label: analysis.efficiency_vs_rate(
                    scores,
                    background_scores,
                    colliding,
                    [meta["threshold_raw"]],
                    lsb=lsb[name],
                    n_colliding=n_colliding,
                )
                for label, scores in signal_scores.items()
            }
            summary["efficiency_vs_rate"][name] = {
                "rate_hz": scan["rate_hz"],
                "signals": curves,
                "menu_threshold": {
                    "rate_hz": next(iter(at_menu.values()))["rate_hz"][0],
                    "efficiency": {label: p["efficiency"][0] for label, p in at_menu.items()},
                },
            }
            summary["score_distributions"][name] = _histograms(
                background_scores[colliding], signal_scores, lsb[name], meta, menu
            )
    for label, batch in signals.items():
        summary["signals"].append(
            {
                "name": label,
                "n_events": len(batch),
                "efficiency": {
                    name: float(batch.fired[:, i].mean()) for i, name in enumerate(batch.seed_names)
                },
                "l1_efficiency": float(batch.final_or.mean()),
            }
        )
    targets = []
    for name in decisions.seed_names:
        if metas[name].get("kind") != str(SeedKind.NN):
            continue
        for target in TARGET_RATES_HZ:
            found = analysis.threshold_for_rate(
                decisions.scores[:, decisions.column(name)],
                colliding,
                target,
                lsb=lsb[name],
                n_colliding=n_colliding,
            )
            targets.append(
                {
                    "seed": name,
                    "target_rate_hz": target,
                    "threshold": found["threshold"],
                    "threshold_raw": found["threshold_raw"],
                    "unit": unit_of(metas[name]["kind"]),
                    "rate_hz": found["rate_hz"],
                }
            )
    summary["thresholds_for_target"] = targets
    pileup = core.get("pileup")
    if pileup and "bins" in pileup:
        summary["rate_vs_pileup"] = _pileup_section(pileup, REVOLUTION_HZ * n_colliding)
    return summary


def _rate_entry(rate: dict[str, Any]) -> dict[str, Any]:
    """An analysis rate dict in the summary's {count, rate_hz, error_hz} shape."""
    return {
        "count": rate["n_accepted"],
        "rate_hz": rate["rate_hz"],
        "error_hz": rate["rate_err_hz"],
    }


def _histograms(
    background: np.ndarray,
    signals: dict[str, np.ndarray],
    lsb: float,
    meta: dict[str, Any],
    menu: Menu,
) -> dict[str, Any]:
    """Histograms of the (non-negative) raw scores in physical units, shared bin edges."""
    valid = background[background >= 0]
    threshold = meta["threshold_raw"] * lsb
    # range: the background's far tail and the threshold, with room to see signals beyond
    top = 2.0 * max(float(np.quantile(valid, 0.9999)) * lsb if valid.size else 0.0, threshold)
    edges = np.linspace(0.0, max(top, 4 * lsb), SCORE_BINS + 1)

    def counts(values: np.ndarray) -> list[int]:
        physical = values[values >= 0] * lsb
        histogram: list[int] = np.histogram(np.minimum(physical, edges[-1]), edges)[0].tolist()
        return histogram

    return {
        "variable": _variable(meta, menu),
        "unit": unit_of(meta.get("kind", "")),
        "bin_edges": edges.tolist(),
        "background": counts(background),
        "signals": {label: counts(values) for label, values in signals.items()},
        "threshold": threshold,
    }


def _pileup_section(pileup: dict[str, Any], collision_rate_hz: float) -> dict[str, Any]:
    """The analysis pile-up section in the summary's series shape."""
    bins = pileup["bins"]
    series: dict[str, Any] = {
        "mu": bins["mu_mean"],
        "rate_hz": bins["rate_hz"],
        "error_hz": bins["rate_err_hz"],
    }
    fit = pileup.get("fit")
    if fit:
        extrapolation = pileup.get("extrapolation") or {}
        series["fit"] = {
            "a": fit["a"],
            "b": fit["b"],
            "covariance": fit["covariance"],
            "chi2": fit.get("chi2"),
            "ndf": fit.get("ndf"),
            "target_mu": extrapolation.get("mu", pileup.get("target_mu")),
            "rate_at_target_hz": extrapolation.get("rate_hz"),
            "error_at_target_hz": extrapolation.get("rate_err_hz"),
        }
    variable = {
        "true_interactions": "pile-up μ (true interactions per BX)",
        "n_vertices": "reconstructed primary vertices",
    }.get(pileup.get("variable", ""), str(pileup.get("variable")))
    return {
        "variable": variable,
        "series": {"total (final OR)": series},
        "collision_rate_hz": collision_rate_hz,
    }


def _timing_section(timing: dict[str, Any]) -> dict[str, Any]:
    """The timing report in the summary's per-algorithm list shape."""
    algorithms = [
        {
            "name": name,
            "latency_cycles": entry["latency_cycles"],
            "clock_mhz": entry["clock_mhz"],
            "latency_us": entry["latency_ns"] / 1000.0,
            "latency_bx": entry["latency_bx"],
            "initiation_interval": entry["ii"],
            "accepts_every_bx": entry["accepts_every_bx"],
        }
        for name, entry in timing["seeds"].items()
    ]
    return {
        "budget_us": timing.get("budget_us", LATENCY_BUDGET_US),
        "upstream_latency_bx": timing.get("upstream_latency_bx"),
        "upstream_latency_us": (timing.get("upstream_latency_bx") or 0) * BX_NS / 1000.0,
        "algorithms": algorithms,
        "total_latency_us": timing["total_latency_us"],
        "total_latency_bx": timing.get("total_latency_bx"),
        "within_budget": timing["within_budget"],
        "cannot_accept_every_bx": timing.get("cannot_accept_every_bx", []),
    }


def _occupancy_section(decisions: DecisionBatch) -> dict[str, Any]:
    """Per bunch slot counts over the replayed orbits."""
    occupancy = analysis.orbit_occupancy(decisions)
    placed = decisions.orbit[decisions.orbit >= 0]
    return {
        "n_orbits": int(np.unique(placed).size) or 1,
        "colliding": occupancy["colliding"],
        "events": occupancy["bx_seen"],
        "accepts": occupancy["l1a"],
    }
