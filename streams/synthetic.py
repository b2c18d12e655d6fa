"""Synthetic events: a minimum-bias / SM-like background and ADC2021-like signals.

The generator is the embedded default for demos and tests: fast (vectorised numpy plus
one numba sort, well above 10^6 events/s) and reproducible. Events come from fixed
internal blocks of :data:`BLOCK_EVENTS` events, each with its own random stream
derived from ``(seed, process, block index)``, so the same ``seed`` gives the same
events whatever ``chunk_size`` is asked for.

Shapes are a physics caricature at L1 granularity (GeV, rad), chosen so that each
signal stands out in the ADC2021 57-feature view (:mod:`streams.slots`):

* ``background`` — minimum-bias / SM-like: a few soft jets, rare soft leptons, small
  MET. Also the pile-up source of :mod:`streams.pileup`.
* ``A_4l`` — neutral scalar A (50 GeV) → 4 leptons (e or μ).
* ``LQ_btau`` — leptoquark (80 GeV) → b-jet + τ.
* ``h_tautau`` — neutral scalar (60 GeV) → τ τ.
* ``hpm_taunu`` — charged scalar (60 GeV) → τ nu (large MET).
* ``minbias`` — one soft inelastic interaction: objects above L1 thresholds are rare.
  This is the pile-up source to overlay with :func:`streams.pileup.overlay`.

A τ decays hadronically 65 % of the time (a ``tau`` object plus a ``jet`` with its
kinematics) and otherwise leptonically (an e or μ carrying 60 % of its pT, more MET).

Muons and e/gamma carry a charge of +1 or -1 (equally likely, independent per object), so a
menu's charge cuts and charge correlations work on synthetic events; taus and jets have
none (unknown, 0). The charges come from a random stream of their own (the block's
seed sequence with spawn key 1), so every other value is the same as without charges.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ._batch import COLLECTIONS, EventBatch, Objects
from ._kernels import group_order_desc
from ._source import EventSource, rechunk

__all__ = ["BLOCK_EVENTS", "PROCESSES", "SIGNALS", "SyntheticSource", "generate"]

#: events per internal random block (the unit of reproducibility)
BLOCK_EVENTS = 1 << 16

#: process name -> one-line description
PROCESSES: dict[str, str] = {
    "background": "minimum-bias / Standard-Model-like background",
    "A_4l": "A (50 GeV) -> 4 leptons",
    "LQ_btau": "leptoquark (80 GeV) -> b tau",
    "h_tautau": "h0 (60 GeV) -> tau tau",
    "hpm_taunu": "h+- (60 GeV) -> tau nu",
    "minbias": "one soft inelastic pp interaction (the pile-up source)",
}

#: the ADC2021-like beyond-SM signal processes
SIGNALS: tuple[str, ...] = ("A_4l", "LQ_btau", "h_tautau", "hpm_taunu")

_ETA_MAX = {"egamma": 2.5, "muon": 2.4, "tau": 2.4, "jet": 4.7}
#: collections whose objects get a charge of ±1
_CHARGED = ("egamma", "muon")


@dataclass(frozen=True)
class _Soft:
    """Poisson(mean) objects with pT = pt_min + Exp(pt_mean)."""

    collection: str
    mean: float
    pt_min: float
    pt_mean: float


#: soft (underlying / SM-like) activity of every process
_SOFT: dict[str, tuple[_Soft, ...]] = {
    "background": (
        _Soft("jet", 2.5, 15.0, 12.0),
        _Soft("egamma", 0.25, 4.0, 6.0),
        _Soft("muon", 0.10, 3.0, 5.0),
        _Soft("tau", 0.20, 10.0, 8.0),
    ),
    "minbias": (
        _Soft("jet", 0.08, 15.0, 6.0),
        _Soft("egamma", 0.03, 3.0, 3.0),
        _Soft("muon", 0.005, 3.0, 3.0),
        _Soft("tau", 0.02, 10.0, 4.0),
    ),
    "signal": (
        _Soft("jet", 1.5, 15.0, 12.0),
        _Soft("egamma", 0.10, 4.0, 6.0),
        _Soft("muon", 0.05, 3.0, 5.0),
    ),
}


class _Builder:
    """Accumulates object parts for one block, then interleaves and sorts them per event."""

    def __init__(self, n: int, rng: np.random.Generator, charge_rng: np.random.Generator) -> None:
        self.n = n
        self.rng = rng
        #: a separate stream for the charges: drawing them leaves ``rng`` untouched
        self.charge_rng = charge_rng
        self.parts: dict[
            str, list[tuple[NDArray[np.int64], NDArray[np.float32], NDArray[np.float32]]]
        ] = {c: [] for c in COLLECTIONS}
        self.met_x = np.zeros(n)
        self.met_y = np.zeros(n)

    def add(
        self,
        collection: str,
        event: NDArray[np.int64],
        pt: NDArray[np.floating[Any]],
        eta_sigma: float = 1.4,
    ) -> None:
        """Objects of ``collection`` in the given events (event indices ascending)."""
        limit = np.float32(_ETA_MAX[collection])
        eta = np.asarray(
            self.rng.standard_normal(size=event.shape[0], dtype=np.float32), np.float32
        )
        eta *= np.float32(eta_sigma)
        np.clip(eta, -limit, limit, out=eta)
        self.parts[collection].append((event, pt.astype(np.float32), eta))

    def add_soft(self, soft: _Soft) -> None:
        counts = self.rng.poisson(soft.mean, self.n)
        event = np.repeat(np.arange(self.n, dtype=np.int64), counts)
        pt = np.float32(soft.pt_min) + np.float32(soft.pt_mean) * self.rng.standard_exponential(
            size=event.shape[0], dtype=np.float32
        )
        self.add(soft.collection, event, pt, eta_sigma=2.0 if soft.collection == "jet" else 1.4)

    def add_taus(self, event: NDArray[np.int64], pt: NDArray[np.float64]) -> None:
        """τ leptons: hadronic → tau + jet; leptonic → e/μ with 60 % pT, rest into MET."""
        hadronic = self.rng.random(event.shape[0]) < 0.65
        self.add("tau", event[hadronic], pt[hadronic])
        self.add("jet", event[hadronic], pt[hadronic] * 1.1)
        lep_ev, lep_pt = event[~hadronic], pt[~hadronic]
        is_e = self.rng.random(lep_ev.shape[0]) < 0.5
        self.add("egamma", lep_ev[is_e], 0.6 * lep_pt[is_e])
        self.add("muon", lep_ev[~is_e], 0.6 * lep_pt[~is_e])
        self.add_met(lep_ev, 0.4 * lep_pt)

    def add_met(self, event: NDArray[np.int64], magnitude: NDArray[np.float64]) -> None:
        phi = self.rng.uniform(-np.pi, np.pi, event.shape[0])
        self.met_x += np.bincount(event, magnitude * np.cos(phi), minlength=self.n)
        self.met_y += np.bincount(event, magnitude * np.sin(phi), minlength=self.n)

    def objects(self, collection: str) -> Objects:
        """The collection's parts grouped by event and sorted by decreasing pT."""
        parts = self.parts[collection]
        if not parts:
            return Objects.empty(self.n)
        event = np.concatenate([p[0] for p in parts])
        pt = np.concatenate([p[1] for p in parts])
        eta = np.concatenate([p[2] for p in parts])
        offsets, order = group_order_desc(event, self.n, pt)
        total = event.shape[0]
        phi = np.asarray(self.rng.random(size=total, dtype=np.float32), np.float32)
        phi *= np.float32(2 * np.pi)
        phi -= np.float32(np.pi)
        quality = np.zeros(total, np.int32)
        if collection not in _CHARGED:
            return Objects(offsets, pt[order], eta[order], phi, quality)
        draws = self.charge_rng.integers(0, 2, size=total, dtype=np.int8)
        charge: NDArray[np.int8] = np.asarray(2 * draws - 1, np.int8)
        return Objects(offsets, pt[order], eta[order], phi, quality, charge)


def _signal(process: str, b: _Builder) -> None:
    rng, n = b.rng, b.n
    every = np.arange(n, dtype=np.int64)
    if process == "A_4l":
        event = np.repeat(every, 4)
        pt = 5.0 + rng.gamma(2.0, 9.0, event.shape[0])
        is_e = rng.random(event.shape[0]) < 0.5
        b.add("egamma", event[is_e], pt[is_e])
        b.add("muon", event[~is_e], pt[~is_e])
    elif process == "LQ_btau":
        b.add("jet", every, 20.0 + rng.gamma(3.0, 12.0, n))
        b.add_taus(every, 15.0 + rng.gamma(3.0, 10.0, n))
        b.add_met(every, rng.gamma(2.0, 10.0, n))
    elif process == "h_tautau":
        event = np.repeat(every, 2)
        b.add_taus(event, 12.0 + rng.gamma(3.0, 7.0, 2 * n))
        b.add_met(every, rng.gamma(2.0, 10.0, n))
    elif process == "hpm_taunu":
        b.add_taus(every, 15.0 + rng.gamma(3.0, 8.0, n))
        b.add_met(every, 20.0 + rng.gamma(3.0, 10.0, n))


def _block(process: str, seed: int, block: int, n: int, first_id: int) -> EventBatch:
    """One block of ``n`` events with its own random stream."""
    index = list(PROCESSES).index(process)
    rng = np.random.default_rng([seed, index, block])
    charge_rng = np.random.default_rng(np.random.SeedSequence([seed, index, block], spawn_key=(1,)))
    b = _Builder(n, rng, charge_rng)
    for soft in _SOFT[process if process in _SOFT else "signal"]:
        b.add_soft(soft)
    _signal(process, b)
    # instrumental MET: a 2-D Gaussian per component (8 GeV; 3 GeV for one soft interaction)
    sigma = 3.0 if process == "minbias" else 8.0
    b.met_x += rng.normal(0.0, sigma, n)
    b.met_y += rng.normal(0.0, sigma, n)
    return EventBatch.from_events(
        event_id=np.arange(first_id, first_id + n, dtype=np.int64),
        met_pt=np.hypot(b.met_x, b.met_y).astype(np.float32),
        met_phi=np.arctan2(b.met_y, b.met_x).astype(np.float32),
        objects={c: b.objects(c) for c in COLLECTIONS},
    )


class SyntheticSource(EventSource):
    """``n_events`` generated events of one process (see the module docstring)."""

    def __init__(
        self,
        process: str,
        n_events: int,
        seed: int,
        chunk_size: int,
        *,
        progress: bool = False,
    ) -> None:
        if process not in PROCESSES:
            raise ValueError(f"unknown synthetic process {process!r}; known: {sorted(PROCESSES)}")
        if n_events < 0:
            raise ValueError(f"n_events must be >= 0, got {n_events}")
        super().__init__(
            f"synthetic:{process}?n={n_events}&seed={seed}", n_events, chunk_size, progress=progress
        )
        self.process = process
        self.seed = int(seed)

    @property
    def format(self) -> str:
        """Always ``synthetic``."""
        return "synthetic"

    def _pieces_from(self, start: int) -> Iterator[tuple[int, EventBatch]]:
        """Blocks from the one holding event ``start`` (each block has its own stream)."""
        assert self.n_events is not None
        for block in range(start // BLOCK_EVENTS, -(-self.n_events // BLOCK_EVENTS)):
            first = block * BLOCK_EVENTS
            n = min(BLOCK_EVENTS, self.n_events - first)
            yield first, _block(self.process, self.seed, block, n, first)

    def _batches(self) -> Iterator[EventBatch]:
        return rechunk((batch for _, batch in self._pieces_from(0)), self.chunk_size)

    def describe(self) -> dict[str, Any]:
        """Summary with process and seed."""
        return {**super().describe(), "process": self.process, "seed": self.seed}


def generate(
    process: str = "background",
    n_events: int = 100_000,
    seed: int = 0,
    chunk_size: int = 100_000,
    *,
    progress: bool = False,
) -> SyntheticSource:
    """A reproducible synthetic source of ``n_events`` events of ``process``.

    ``process`` is one of :data:`PROCESSES`. Event ids run 0 … n_events-1.
    """
    return SyntheticSource(process, n_events, seed, chunk_size, progress=progress)
