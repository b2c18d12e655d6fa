"""The 2016 CMS L1 menu (reference XML, read in place) and a sample of it for the tests.

``menu_2016()`` imports the uGT XML of ``../shared/reference/menus`` (the test calling
it is skipped when the reference data is absent); ``sample_2016(menu)`` keeps one seed
per datapath shape — the collections of each leg, pair limits, isolation or several
η windows, sum conditions by kind, the boolean program's operators — so a small
build still covers every condition kind the menu uses.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from emulator.menu import Menu, from_uGT_xml
from emulator.plan import SeedPlan, build_plan

MENU_2016 = (
    Path(__file__).resolve().parents[2]
    / ".."
    / "shared"
    / "reference"
    / "menus"
    / "L1Menu_Collisions2016_v2c.xml"
)


def menu_2016() -> Menu:
    """The imported algorithms of the 2016 menu (skips the test when the XML is absent)."""
    if not MENU_2016.is_file():
        pytest.skip(f"reference menu {MENU_2016} not present")
    return from_uGT_xml(MENU_2016).menu


def shape(seed: SeedPlan) -> tuple[Any, ...]:
    """What kind of datapath an expression seed needs."""
    assert seed.expression is not None
    conditions: list[Any] = []
    for c in seed.expression.conditions:
        if c.inner is not None:
            conditions.append(c.inner.kind.name)
            continue
        conditions.append(
            (
                tuple(leg.collection for leg in c.legs),
                c.pair is not None,
                c.charge_rule.name,
                any(leg.isolation is not None for leg in c.legs),
                any(len(leg.eta_windows) > 1 for leg in c.legs),
                any(leg.charge != 0 for leg in c.legs),
            )
        )
    return tuple(conditions), tuple(op for op, _ in seed.expression.program)


def sample_names(menu: Menu) -> list[str]:
    """One seed per datapath shape, in menu order."""
    chosen: dict[tuple[Any, ...], str] = {}
    for seed in build_plan(menu).seeds:
        chosen.setdefault(shape(seed), seed.name)
    return list(chosen.values())


def sample_2016(menu: Menu) -> Menu:
    """The menu with one seed per datapath shape (its own name: another firmware)."""
    names = set(sample_names(menu))
    return replace(
        menu, name=f"{menu.name}-sample", seeds=tuple(s for s in menu.seeds if s.name in names)
    )
