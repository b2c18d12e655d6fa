"""Timing of the menu's algorithms against the 40 MHz bunch clock and the latency budget.

Each seed declares a latency in clock cycles at its clock frequency and an
initiation interval (II, cycles between two accepted inputs); a firmware
manifest can override them. From these:

* latency in BX = ceil(latency_cycles / clock · f_LHC) — the decision for BX n
  is available at BX n + latency_bx (f_LHC = 40.079 MHz, 24.95 ns per BX);
* an algorithm keeps up with the collisions when II x clock period <= 25 ns
  (the nominal spacing; firmware clocks are multiples of the LHC clock, e.g.
  240 MHz = 6 x 40 MHz, so II = 6 at 240 MHz is exactly 25 ns and keeps up);
* the total latency is the menu's upstream latency plus the slowest unmasked
  seed (the global trigger waits for all of them), against the Phase-2
  budget of 12.5 µs = 500 BX.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from emulator.menu import Menu, MenuError, Seed

__all__ = [
    "BX_NS",
    "LATENCY_BUDGET_BX",
    "LHC_CLOCK_MHZ",
    "NOMINAL_BX_SPACING_NS",
    "accepts_every_bx",
    "latency_bx",
    "latency_ns",
    "timing_report",
    "with_timing",
]

#: LHC bunch clock [MHz] and its period [ns].
LHC_CLOCK_MHZ = 40.079
BX_NS = 1000.0 / LHC_CLOCK_MHZ
#: Nominal bunch spacing [ns] used for the "new event every BX" check.
NOMINAL_BX_SPACING_NS = 25.0
#: Phase-2 Level-1 latency budget: 12.5 µs = 500 BX.
LATENCY_BUDGET_BX = 500
LATENCY_BUDGET_US = 12.5


def latency_ns(seed: Seed) -> float:
    """Latency of a seed in ns."""
    return seed.latency_cycles * 1000.0 / seed.clock_mhz


def latency_bx(seed: Seed) -> int:
    """Whole BX after which the seed's decision for a BX is available (rounded up)."""
    cycles_per_bx = seed.clock_mhz / LHC_CLOCK_MHZ
    # round to 9 decimals first: 6 cycles at 240.474 MHz are exactly one BX
    return math.ceil(round(seed.latency_cycles / cycles_per_bx, 9))


def initiation_ns(seed: Seed) -> float:
    """Time between two inputs the algorithm can take, II x clock period [ns]."""
    return seed.initiation_interval * 1000.0 / seed.clock_mhz


def accepts_every_bx(seed: Seed) -> bool:
    """Whether the algorithm can take a new event every 25 ns (II x period <= 25 ns)."""
    return initiation_ns(seed) <= NOMINAL_BX_SPACING_NS + 1e-9


def timing_report(menu: Menu) -> dict[str, Any]:
    """JSON-able timing summary: per seed, the slowest path, and the budget check.

    Keys: ``seeds`` (name → latency_cycles, clock_mhz, ii, latency_ns, latency_bx,
    ii_ns, accepts_every_bx, masked), ``cannot_accept_every_bx`` (names),
    ``upstream_latency_bx``, ``max_seed_latency_bx``, ``slowest_seed``,
    ``total_latency_bx``, ``total_latency_us``, ``budget_bx``, ``budget_us``,
    ``margin_bx``, ``within_budget``.
    """
    seeds: dict[str, dict[str, Any]] = {}
    for seed in menu.seeds:
        seeds[seed.name] = {
            "latency_cycles": seed.latency_cycles,
            "clock_mhz": seed.clock_mhz,
            "ii": seed.initiation_interval,
            "latency_ns": latency_ns(seed),
            "latency_bx": latency_bx(seed),
            "ii_ns": initiation_ns(seed),
            "accepts_every_bx": accepts_every_bx(seed),
            "masked": seed.masked,
        }
    active = [s for s in menu.seeds if not s.masked] or list(menu.seeds)
    slowest = max(active, key=latency_bx)
    max_bx = latency_bx(slowest)
    total_bx = menu.upstream_latency_bx + max_bx
    return {
        "seeds": seeds,
        "cannot_accept_every_bx": [s.name for s in menu.seeds if not accepts_every_bx(s)],
        "upstream_latency_bx": menu.upstream_latency_bx,
        "max_seed_latency_bx": max_bx,
        "slowest_seed": slowest.name,
        "total_latency_bx": total_bx,
        "total_latency_us": total_bx * BX_NS / 1000.0,
        "budget_bx": LATENCY_BUDGET_BX,
        "budget_us": LATENCY_BUDGET_US,
        "margin_bx": LATENCY_BUDGET_BX - total_bx,
        "within_budget": total_bx <= LATENCY_BUDGET_BX,
    }


def with_timing(menu: Menu, timings: Mapping[str, Mapping[str, Any]]) -> Menu:
    """The menu with the timing of some seeds replaced (e.g. from a firmware manifest).

    ``timings`` maps seed names to ``latency_cycles`` (or ``latency``), the clock as
    ``clock_mhz`` or ``clock_period_ns``, and ``ii`` (or ``initiation_interval``);
    keys left out keep the menu's value. An unknown seed is a :class:`MenuError`.
    """
    seeds = {seed.name: seed for seed in menu.seeds}
    for name, timing in timings.items():
        if name not in seeds:
            raise MenuError(f"timing override for {name!r}: the menu has no such seed")
        seed = seeds[name]
        clock = seed.clock_mhz
        if "clock_period_ns" in timing:
            clock = 1000.0 / float(timing["clock_period_ns"])
        elif "clock_mhz" in timing:
            clock = float(timing["clock_mhz"])
        latency = int(timing.get("latency_cycles", timing.get("latency", seed.latency_cycles)))
        ii = int(timing.get("ii", timing.get("initiation_interval", seed.initiation_interval)))
        if latency < 0 or ii < 1 or not clock > 0:
            raise MenuError(
                f"timing override for {name!r}: need latency >= 0, ii >= 1, clock > 0; got "
                f"{latency}, {ii}, {clock} MHz"
            )
        seeds[name] = replace(seed, latency_cycles=latency, clock_mhz=clock, initiation_interval=ii)
    return replace(menu, seeds=tuple(seeds[seed.name] for seed in menu.seeds))
