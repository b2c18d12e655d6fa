"""The job behind ``l1sim run`` and ``l1sim demo``: streams → replay → analysis → summary.

This module glues the layers together and owns no physics: events come from
:mod:`streams` (readers, timeline, pile-up overlay), decisions from
:func:`emulator.run`, and every number from :mod:`emulator.analysis` and
:func:`emulator.timing.timing_report`. What it adds is the choice of inputs for
the demo, the translation of user mistakes into :class:`~l1sim._errors.UserError`,
and the shape of ``summary.json`` (see :mod:`l1sim._summary`).
"""

from __future__ import annotations

import datetime as dt
import functools
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
from emulator.analysis import DecisionCounts
from emulator.menu import Menu, SeedKind, default_menu
from emulator.replay import DecisionBatch, write_decisions
from emulator.timing import BX_NS, timing_report, with_timing
from l1sim import __version__
from l1sim._errors import UserError
from l1sim._inputs import filling_scheme, input_label, open_input, read_menu, signal_labels
from l1sim._plot_data import per_seed_sections, unit_of
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
    #: the background is an unbiased sample of collisions (None: infer, see
    #: :func:`minimum_bias`)
    minimum_bias: bool | None = None
    #: uGT XML menus: the prescale column (label in prescale_L1TGlobal.csv beside the XML)
    prescale_column: int | None = None
    #: replay on Dask (see :mod:`l1sim._distributed`): a new local cluster of this many
    #: worker processes, or the running scheduler at ``dask_address``, or ``client``
    #: (a ``distributed.Client``, from Python)
    workers: int | None = None
    dask_address: str | None = None
    client: Any = None
    #: blocks of :data:`BLOCK_BX` per Dask task (None: the default of :mod:`l1sim._distributed`)
    blocks_per_task: int | None = None
    #: a firmware directory of this menu: seed timing from its manifest (``--firmware``)
    firmware_dir: Path | None = None

    @property
    def distributed(self) -> bool:
        """Whether the replay runs on Dask."""
        return bool(self.workers) or self.dask_address is not None or self.client is not None


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


def _menu(job: Job) -> tuple[Menu, dict[str, Any]]:
    """The user's menu (or the built-in default) and what of the file it emulates.

    The second value is ``inputs.menu_algorithms`` of the summary: ``format`` (yaml,
    ugt-xml, built-in), ``prescale_column``, ``algorithms`` (in the file),
    ``emulated``, ``refused`` and ``refused_algorithms`` ([{index, name, reason}]:
    uGT algorithms l1sim cannot express). A bad menu is a UserError.
    """
    if job.menu_path is None:
        if job.prescale_column is not None:
            raise UserError("--prescale-column applies to uGT XML menus (--menu FILE.xml)")
        menu = default_menu()
        return menu, _menu_algorithms("built-in", None, len(menu.seeds), [])
    menu, imported = read_menu(job.menu_path, job.prescale_column)
    if imported is None:
        return menu, _menu_algorithms("yaml", None, len(menu.seeds), [])
    refused = [{"index": a.index, "name": a.name, "reason": a.reason} for a in imported.refused]
    return imported.menu, _menu_algorithms(
        "ugt-xml", job.prescale_column, len(imported.algorithms), refused
    )


def _firmware(job: Job, menu: Menu) -> dict[str, Any] | None:
    """The ``--firmware`` directory's timings and summary section (None without one).

    The firmware must have been built from this menu: the same seeds in the same order
    (a UserError names the first difference). Its manifest's latency, clock and II per
    seed replace the menu's declared timing (``emulator.timing.with_timing``).
    """
    if job.firmware_dir is None:
        return None
    from l1sim import _firmware_cmd  # noqa: PLC0415  (firmware is imported only when asked)

    fw = _firmware_cmd.open_firmware(job.firmware_dir)
    built = [a.seed for a in fw.manifest.algorithms]
    if built != list(menu.seed_names) or fw.manifest.menu_name != menu.name:
        missing = sorted(set(menu.seed_names) - set(built))
        extra = sorted(set(built) - set(menu.seed_names))
        detail = (
            f"seeds missing from the firmware: {missing[:5]}"
            if missing
            else f"seeds only in the firmware: {extra[:5]}"
            if extra
            else "the seeds are in another order or the menu has another name"
        )
        raise UserError(
            f"{job.firmware_dir}: built from menu {fw.manifest.menu_name!r}, not from "
            f"{menu.name!r} as given ({detail}); rebuild with 'l1sim firmware'"
        )
    return {
        "timings": fw.manifest.seed_timings(),
        "section": _firmware_cmd.firmware_section(fw),
    }


def _with_firmware(summary: Summary, firmware: dict[str, Any] | None) -> Summary:
    """``summary`` with its ``firmware`` section when the run used ``--firmware``."""
    if firmware is not None:
        summary["firmware"] = firmware["section"]
    return summary


def _menu_algorithms(
    kind: str, column: int | None, total: int, refused: list[dict[str, Any]]
) -> dict[str, Any]:
    return {
        "format": kind,
        "prescale_column": column,
        "algorithms": total,
        "emulated": total - len(refused),
        "refused": len(refused),
        "refused_algorithms": refused,
    }


def _scheme(job: Job) -> FillingScheme:
    """The job's filling scheme (file or the default 2760-bunch scheme)."""
    return filling_scheme(job.scheme_path)


def _note_max_bx(job: Job, n_events: int | None, summary: Summary, say: Say) -> None:
    """Say (log and summary) how many input events --max-bx left out of the replay."""
    replayed = int(summary["normalisation"]["n_colliding_bx"])
    left = None if n_events is None else max(0, n_events - replayed)
    summary["inputs"]["events_replayed"] = replayed
    summary["inputs"]["events_not_replayed"] = left
    if job.max_bx is not None and left:
        say(
            f"the replay stopped after {job.max_bx} BX (--max-bx): {left} of {n_events} "
            "input events were not replayed"
        )


#: synthetic processes that are unbiased samples of collisions
_MINIMUM_BIAS_PROCESSES = ("background", "minbias")


def minimum_bias(job: Job) -> tuple[bool, str]:
    """Whether the job's background is a minimum-bias sample, and why l1sim thinks so.

    Only then do the L1 accept rate, the deadtime and the 750 kHz check describe
    the collisions the trigger would see. A file cannot say whether it was
    selected by a trigger (the CMS tutorial files are muon-triggered), so a file is
    minimum bias only when the user declares it (``--minimum-bias``); the
    synthetic ``background`` and ``minbias`` processes are minimum bias by
    construction.
    """
    if job.minimum_bias is not None:
        return job.minimum_bias, (
            "declared with --minimum-bias" if job.minimum_bias else "declared not minimum bias"
        )
    synthetic = [
        spec.startswith("synthetic:") and input_label(spec) in _MINIMUM_BIAS_PROCESSES
        for spec in job.background
    ]
    if all(synthetic):
        return True, "synthetic minimum-bias background"
    return False, (
        "not declared minimum bias: a file does not say whether a trigger selected its "
        "events; pass --minimum-bias for an unbiased (zero- or minimum-bias) sample"
    )


def _refuse_own_pileup(
    stream: Iterable[streams.EventBatch], label: str, mu_text: str
) -> Iterator[streams.EventBatch]:
    """``stream`` unchanged; a UserError at the first event that carries its own pile-up.

    The overlay leaves such events unchanged (their objects were reconstructed with
    their own pile-up), so ``--pileup`` would apply to nothing but a report line.
    """
    for batch in stream:
        own = streams.pileup.carries_pileup(batch)
        if own.any():
            index = int(np.flatnonzero(own)[0])
            true_mu = float(batch.true_interactions[index])
            what = (
                f"μ = {true_mu:g} interactions, like NanoAOD's Pileup_nTrueInt"
                if np.isfinite(true_mu)
                else f"{int(batch.n_vertices[index])} reconstructed vertices, like "
                "NPrimaryVertices or PV_npvs"
            )
            raise UserError(
                f"{label}: event {int(batch.event_id[index])} carries its own pile-up ({what}); "
                f"--pileup {mu_text} cannot be overlaid on it. Run without --pileup to use "
                "the input's own pile-up"
            )
        yield batch


def _bx_stream(
    job: Job,
    source: Iterable[streams.EventBatch],
    scheme: FillingScheme,
    salt: int,
    max_bx: int | None,
    label: str,
) -> Iterator[streams.EventBatch]:
    """Events laid on the bunch clock, with pile-up overlaid when asked."""
    return overlay_blocks(job, placed_stream(job, source, scheme, max_bx, label), salt)


def placed_stream(
    job: Job,
    source: Iterable[streams.EventBatch],
    scheme: FillingScheme,
    max_bx: int | None,
    label: str,
    *,
    first_orbit: int = 0,
) -> Iterator[streams.EventBatch]:
    """Events laid on the bunch clock from ``first_orbit`` on, in blocks of :data:`BLOCK_BX`
    (before any pile-up); ``max_bx`` counts from there."""
    placed = streams.timeline.place(
        source, scheme, first_orbit=first_orbit, max_bx=max_bx, origin=label, chunk_bx=BLOCK_BX
    )
    if job.pileup is None:
        return placed
    mu_text = f"{job.pileup:g}" if isinstance(job.pileup, float | int) else "(a profile)"
    return _refuse_own_pileup(placed, label, mu_text)


#: BX of one block of the timeline (28 orbits, about 10^5 BX): the unit of the pile-up
#: random streams, and of the chunks of a distributed replay (whole blocks)
BLOCK_BX = 28 * BX_PER_ORBIT


@functools.lru_cache(maxsize=4)
def _minimum_bias_pool(seed: int) -> streams.EventBatch:
    """The pile-up pool: 100 000 synthetic minimum-bias events (made once per process)."""
    return streams.concat_batches(list(streams.synthetic.generate("minbias", 100_000, seed=seed)))


def block_seed(random_seed: int, salt: int, block: int) -> int:
    """The pile-up seed of one block: from the run's seed, the sample and the block's position.

    ``SeedSequence((random_seed, salt, block))``: each block of :data:`BLOCK_BX` has a
    random stream of its own, so pile-up does not depend on how the timeline is cut
    into chunks or spread over workers.
    """
    if min(random_seed, salt, block) < 0:
        raise UserError(f"--random-seed must be >= 0, got {random_seed}")
    state = np.random.SeedSequence((random_seed, salt, block)).generate_state(1, np.uint64)
    return int(state[0])


def overlay_blocks(
    job: Job, placed: Iterable[streams.EventBatch], salt: int
) -> Iterator[streams.EventBatch]:
    """Poisson pile-up of ``job`` on each placed block, from the block's own random stream."""
    if job.pileup is None:
        yield from placed
        return
    pool = [_minimum_bias_pool(job.random_seed + 999_983 + salt)]
    for batch in placed:
        if len(batch) == 0:
            continue
        first = int(batch.orbit[0]) * BX_PER_ORBIT + int(batch.bx[0])
        if first % BLOCK_BX:
            raise ValueError(f"a placed chunk starts at BX {first}, not on a block boundary")
        seed = block_seed(job.random_seed, salt, first // BLOCK_BX)
        yield from streams.pileup.overlay([batch], pool, job.pileup, seed=seed)


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
    menu, menu_algorithms = _menu(job)
    firmware = _firmware(job, menu)
    if firmware is not None:
        menu = with_timing(menu, firmware["timings"])
        say(f"seed timing from the firmware in {job.firmware_dir}")
    if menu_algorithms["format"] == "ugt-xml":
        say(
            f"menu {menu.name!r}: {menu_algorithms['emulated']} of "
            f"{menu_algorithms['algorithms']} algorithms emulated, "
            f"{menu_algorithms['refused']} refused (l1sim menu show {job.menu_path} says why)"
        )
    scheme = _scheme(job)
    background = streams.chain(*[open_input(spec) for spec in job.background])
    signal_sources = dict(
        zip(signal_labels(job.signals), [open_input(s) for s in job.signals], strict=True)
    )
    show = progress and sys.stderr.isatty()
    say(f"replaying {', '.join(job.background)} through menu {menu.name!r}")
    if job.distributed:
        from l1sim import _distributed  # noqa: PLC0415  (dask is an optional dependency)

        replayed = _distributed.replay_job(
            job, menu, scheme, background, signal_sources, decisions_path, say
        )
        summary = _summarise(job, menu, scheme, background, replayed, menu_algorithms, say)
        return _with_firmware(summary, firmware)
    stream = _with_progress(
        _bx_stream(job, background, scheme, 0, job.max_bx, ", ".join(job.background)),
        "replay",
        job.max_bx,
        show,
    )
    started = time.perf_counter()
    counting = Counting(job)
    try:
        n_rows = write_decisions(counting.through(emulator.run(stream, menu)), decisions_path)
    except streams.StreamError as exc:
        raise UserError(str(exc)) from exc
    except ValueError as exc:
        if "no decisions to write" in str(exc):
            raise UserError(
                f"{', '.join(job.background)}: no events to replay (the input is empty)"
            ) from None
        raise
    decisions = counting.result()
    if decisions is None or not decisions.n_colliding_slots:
        raise UserError(f"{', '.join(job.background)}: no colliding bunch crossing was replayed")
    replay_s = time.perf_counter() - started
    say(
        f"{n_rows} BX replayed in {replay_s:.1f} s ({n_rows / replay_s / 1e3:.0f} kBX/s, "
        f"reading, pile-up and emulation); {len(signal_sources)} signal sample(s) next"
    )
    started = time.perf_counter()
    signals: dict[str, DecisionCounts] = {}
    for index, (name, source) in enumerate(signal_sources.items(), start=1):
        signal_stream = _with_progress(
            _bx_stream(job, source, scheme, index, None, f"signal {name}"),
            f"signal {name}",
            None,
            show,
        )
        signal_counting = Counting(job, pileup_mu=False)
        try:
            for _ in signal_counting.through(emulator.run(signal_stream, menu)):
                pass
        except streams.StreamError as exc:
            raise UserError(str(exc)) from exc
        counts = signal_counting.result()
        if counts is None or counts.n_counted == 0:
            raise UserError(f"signal {name}: no events to replay (the input is empty)")
        signals[name] = counts
    signals_s = time.perf_counter() - started
    replayed = Replayed(decisions, signals, n_rows, replay_s, signals_s)
    summary = _summarise(job, menu, scheme, background, replayed, menu_algorithms, say)
    return _with_firmware(summary, firmware)


@dataclass
class Replayed:
    """The counts of a replay (background and signals), however it ran, and its timing."""

    decisions: DecisionCounts
    signals: dict[str, DecisionCounts]
    n_rows: int
    replay_s: float
    signals_s: float
    #: how the replay ran (workers, tasks) when distributed
    distributed: dict[str, Any] | None = None


def _summarise(
    job: Job,
    menu: Menu,
    scheme: FillingScheme,
    background: streams.EventSource,
    replayed: Replayed,
    menu_algorithms: dict[str, Any],
    say: Say,
) -> Summary:
    """The summary of a replay's counts, with its performance."""
    say("analysing")
    started = time.perf_counter()
    summary = build_summary(
        job, menu, scheme, replayed.decisions, replayed.signals, menu_algorithms=menu_algorithms
    )
    _note_max_bx(job, background.n_events, summary, say)
    n_rows, replay_s = replayed.n_rows, replayed.replay_s
    summary["performance"] = {
        "replay_s": replay_s,
        "replay_bx_per_s": n_rows / replay_s if replay_s > 0 else None,
        "signals_s": replayed.signals_s,
        "signal_events": sum(counts.n_counted for counts in replayed.signals.values()),
        "analysis_s": time.perf_counter() - started,
    }
    if replayed.distributed is not None:
        summary["performance"]["distributed"] = replayed.distributed
    return summary


class Counting:
    """Counts decision chunks as they stream past (the analysis never holds the BX).

    ``pileup_mu``: count each BX's μ of the job's overlay (the background's pile-up
    variable); signals are counted without it, as their efficiencies need none.
    """

    def __init__(self, job: Job, *, pileup_mu: bool = True) -> None:
        self._pileup = job.pileup if pileup_mu else None
        self._accumulator = analysis.CountsAccumulator()

    def through(self, batches: Iterable[DecisionBatch]) -> Iterator[DecisionBatch]:
        """``batches`` unchanged, each counted on its way."""
        for batch in batches:
            mu = (
                None
                if self._pileup is None
                else streams.pileup.mean_interactions(self._pileup, batch.orbit, batch.bx)
            )
            self._accumulator.add(batch, mu=mu)
            yield batch

    def result(self) -> DecisionCounts | None:
        """The counts of everything that went through (None for nothing)."""
        return self._accumulator.result()


# ------------------------------------------------------------------------------ summary


def build_summary(
    job: Job,
    menu: Menu,
    scheme: FillingScheme,
    decisions: DecisionCounts,
    signals: dict[str, DecisionCounts],
    *,
    menu_algorithms: dict[str, Any] | None = None,
) -> Summary:
    """The summary.json content of a replay (see :mod:`l1sim._summary` for the keys).

    ``menu_algorithms``: what of the menu file is emulated (see :func:`_menu`).
    """
    n_colliding = scheme.n_colliding
    timing = timing_report(menu)
    is_minimum_bias, minimum_bias_reason = minimum_bias(job)
    core = analysis.summarize(
        decisions,
        n_colliding=n_colliding,
        timing=timing,
        pileup_target=job.target_mu,
        minimum_bias=is_minimum_bias,
    )
    metas = {meta["name"]: meta for meta in decisions.metadata.get("seeds", [])}
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
    summary: Summary = {
        "schema": SCHEMA_VERSION,
        "l1sim_version": __version__,
        "created": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "command": job.command,
        "inputs": {
            "background": job.background,
            "signals": job.signals,
            "menu": str(job.menu_path) if job.menu_path else f"built-in default ({menu.name})",
            "menu_algorithms": menu_algorithms
            or _menu_algorithms("built-in", None, len(menu.seeds), []),
            "pileup": _pileup_text(job, core.get("pileup")),
            "minimum_bias": is_minimum_bias,
            "minimum_bias_reason": minimum_bias_reason,
            "scheme": f"{scheme.name} ({n_colliding} colliding bunches)",
            "max_bx": job.max_bx,
        },
        "normalisation": {
            "revolution_hz": REVOLUTION_HZ,
            "colliding_bunches": n_colliding,
            "n_bx": decisions.n_rows,
            "n_colliding_bx": decisions.n_counted,
            "n_colliding_slots": decisions.n_colliding_slots,
            "n_orbits": decisions.n_orbits(),
        },
        "rates": {
            "seeds": seed_rows,
            "total": _rate_entry(core["rates"]["total"]),
            "l1_accept": _rate_entry(accepts["l1a"]),
            "limit_hz": MAX_L1_RATE_HZ,
            "deadtime_fraction": accepts["deadtime_fraction"],
            "minimum_bias": is_minimum_bias,
            "within_limit": accepts["within_limit"],
            "note": accepts.get("note"),
        },
        "overlap": {
            "seeds": list(decisions.seed_names),
            "rate_hz": core["overlap_hz"]["matrix"],
        },
        "rate_vs_threshold": {},
        "score_distributions": {},
        "efficiency_vs_rate": {},
        "signals": [],
        "timing": _timing_section(timing),
        "occupancy": _occupancy_section(decisions),
        "analysis": core,
    }
    summary.update(per_seed_sections(menu, decisions, signals, n_colliding))
    for label, batch in signals.items():
        efficiencies = analysis.signal_efficiencies(batch)
        summary["signals"].append(
            {
                "name": label,
                "n_events": efficiencies["n_events"],
                "efficiency": efficiencies["seeds"],
                "l1_efficiency": efficiencies["final_or"],
            }
        )
    targets = []
    for name in decisions.seed_names:
        if metas[name].get("kind") != str(SeedKind.NN):
            continue
        for target in TARGET_RATES_HZ:
            found = analysis.seed_threshold_for_rate(
                decisions, name, target, n_colliding=n_colliding
            )
            targets.append(
                {
                    "seed": name,
                    "target_rate_hz": target,
                    "found": found["found"],
                    "threshold": found["threshold"],
                    "threshold_raw": found["threshold_raw"],
                    "unit": unit_of(metas[name]["kind"]),
                    "rate_hz": found["rate_hz"],
                    "note": found.get("note"),
                }
            )
    summary["thresholds_for_target"] = targets
    summary["dropped_objects"] = {  # left out by the hardware's fixed object slots
        "collections": decisions.dropped_totals(counted=True),
        "slots": dict(decisions.metadata.get("slots") or {}),
    }
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


def _pileup_text(job: Job, pileup: dict[str, Any] | None) -> str:
    """What pile-up the replay had, for the report: only what was applied."""
    if job.pileup is not None:
        if job.pileup_label:
            return job.pileup_label
        if isinstance(job.pileup, float | int):
            return f"Poisson μ = {job.pileup:g} overlaid on every colliding BX"
        return "overlaid from a μ profile"
    variable = (pileup or {}).get("variable")
    if variable == "true_interactions":
        return "as in the input (mean interactions per BX, e.g. Pileup_nTrueInt)"
    if variable == "n_vertices":
        return "as in the input (reconstructed vertices only: μ unknown)"
    return "none"


#: axis label of each pile-up variable of :func:`emulator.analysis.pileup_section`
_PILEUP_AXIS = {
    "mu": "pile-up μ (mean number of interactions per BX)",
    "true_interactions": "pile-up μ (mean number of interactions per BX, from the input)",
    "n_vertices": "reconstructed primary vertices per BX (not μ)",
}


def _pileup_section(pileup: dict[str, Any], collision_rate_hz: float) -> dict[str, Any]:
    """The analysis pile-up section in the summary's series shape."""
    bins = pileup["bins"]
    series: dict[str, Any] = {
        "mu": bins["mu_mean"],
        "rate_hz": bins["rate_hz"],
        "error_hz": bins["rate_err_hz"],
        "n_bx": bins["n_bx"],
    }
    fit = pileup.get("fit")
    if fit:
        extrapolation = pileup.get("extrapolation") or {}
        series["fit"] = {
            "model": fit["model"],
            "a": fit["a"],
            "b": fit["b"],
            "c": fit["c"],
            "a_err": fit["a_err"],
            "b_err": fit["b_err"],
            "c_err": fit["c_err"],
            "covariance": fit["covariance"],
            "chi2": fit["chi2"],
            "ndf": fit["ndf"],
            "chi2_probability": fit["chi2_probability"],
            "bad": fit["bad"],
            "mu_range": fit["mu_range"],
            "alternatives": [
                {key: other[key] for key in ("model", "chi2", "ndf", "chi2_probability")}
                for other in fit["alternatives"]
            ],
            "curve": pileup.get("curve"),
            "target_mu": extrapolation.get("mu") if extrapolation else None,
            "rate_at_target_hz": extrapolation.get("rate_hz"),
            "error_at_target_hz": extrapolation.get("rate_err_hz"),
            "far_beyond": extrapolation.get("far_beyond", False),
        }
    variable = pileup.get("variable", "")
    return {
        "variable": _PILEUP_AXIS.get(variable, str(variable)),
        "key": variable,
        "is_mu": variable != "n_vertices",
        "notes": pileup.get("notes", []),
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


def _occupancy_section(decisions: DecisionCounts) -> dict[str, Any]:
    """Per bunch slot counts over the replayed orbits."""
    occupancy = analysis.orbit_occupancy(decisions)
    return {
        "n_orbits": decisions.n_orbits(placed_only=True) or 1,
        "colliding": occupancy["colliding"],
        "events": occupancy["bx_seen"],
        "accepts": occupancy["l1a"],
    }
