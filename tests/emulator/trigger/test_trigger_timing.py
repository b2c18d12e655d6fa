"""Timing report against hand-computed latencies and initiation intervals."""

from __future__ import annotations

import pytest

from emulator.menu import Menu, Seed, SeedKind
from emulator.timing import BX_NS, accepts_every_bx, latency_bx, timing_report


def _seed(name: str, latency: int, clock: float, ii: int = 1, masked: bool = False) -> Seed:
    return Seed(
        name=name, kind=SeedKind.OBJECTS, collections=("muon",), pt_thresholds=(10.0,),
        latency_cycles=latency, clock_mhz=clock, initiation_interval=ii, masked=masked,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("latency", "clock", "expected_bx"),
    [
        (0, 240.0, 0),
        (1, 40.079, 1),  # one LHC clock cycle is one BX
        (6, 240.474, 1),  # 6 cycles at 6 x 40.079 MHz are exactly one BX
        (7, 240.474, 2),
        (12, 240.0, 3),  # 50 ns = 2.004 BX → 3
        (36, 360.0, 5),  # 100 ns = 4.0079 BX → 5
        (160, 40.0, 161),  # 4000 ns = 160.3 BX → 161
    ],
)
def test_latency_in_bx_rounds_up(latency: int, clock: float, expected_bx: int) -> None:
    assert latency_bx(_seed("s", latency, clock)) == expected_bx


@pytest.mark.parametrize(
    ("ii", "clock", "keeps_up"),
    [
        (1, 240.0, True),
        (6, 240.0, True),
        (7, 240.0, False),
        (2, 40.0, False),
        (1, 40.0, True),
        (2, 80.0, True),
    ],
)
def test_initiation_interval_against_25_ns(ii: int, clock: float, keeps_up: bool) -> None:
    assert accepts_every_bx(_seed("s", 1, clock, ii)) is keeps_up


def test_report_total_against_budget() -> None:
    menu = Menu(
        name="t",
        seeds=(
            _seed("fast", 12, 240.0),  # 3 BX
            _seed("slow", 480, 240.0, ii=8),  # 2000 ns = 80.16 BX → 81 BX; 33.3 ns II
            _seed("masked", 4800, 240.0, masked=True),  # 801 BX but masked: not in the total
        ),
        upstream_latency_bx=400,
    )
    report = timing_report(menu)
    assert report["seeds"]["fast"]["latency_bx"] == 3
    assert report["seeds"]["slow"]["latency_bx"] == 81
    assert report["seeds"]["slow"]["latency_ns"] == pytest.approx(2000.0)
    assert report["cannot_accept_every_bx"] == ["slow"]
    assert report["slowest_seed"] == "slow"
    assert report["total_latency_bx"] == 481
    assert report["margin_bx"] == 19
    assert report["within_budget"] is True
    assert report["total_latency_us"] == pytest.approx(481 * BX_NS / 1000)
    over = timing_report(Menu(name="t", seeds=menu.seeds[:2], upstream_latency_bx=420))
    assert over["total_latency_bx"] == 501
    assert over["within_budget"] is False
    assert over["margin_bx"] == -1


def test_timing_override_from_a_manifest() -> None:
    from emulator.menu import MenuError
    from emulator.timing import with_timing

    menu = Menu(name="t", seeds=(_seed("a", 12, 240.0), _seed("b", 12, 240.0)))
    updated = with_timing(menu, {"b": {"latency_cycles": 100, "clock_period_ns": 2.5, "ii": 4}})
    b = updated.seed("b")
    assert (b.latency_cycles, b.clock_mhz, b.initiation_interval) == (100, 400.0, 4)
    assert updated.seed("a") == menu.seed("a")
    assert timing_report(updated)["seeds"]["b"]["latency_bx"] == 11  # 250 ns = 10.02 BX
    with pytest.raises(MenuError, match="no such seed"):
        with_timing(menu, {"c": {"ii": 1}})
