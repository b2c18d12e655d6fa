"""The 2016 CMS L1 menu as firmware: build, lint, and co-simulate against the emulator.

The menu is the reference uGT XML, read in place (skipped when absent). In ``make
test``: a sample of it, one seed per datapath shape (every condition kind the menu
uses: 1-4 legs over one or several collections, isolation sets, several η windows,
a pair limit, HT / HTM / ETM inside expressions, AND and OR programs), built with
``firmware.build``, linted with ``verilator --lint-only -Wall`` and co-simulated on
synthetic background with pile-up whose objects carry random charges and isolation
words (so the new slot fields are driven through the RTL); every output bit of
every BX is compared. The sample also holds the hand-made expression seeds of the
interpreter tests (charge cuts and correlations, φ windows, mass and ΔR limits
across collections, NOT / OR: what the 2016 menu lacks), so the charge field is
driven through the RTL too. ``l1sim cosim --firmware DIR`` then runs without
``--menu``: the build wrote the menu as ``menu.yaml``.

The whole menu (175 imported algorithms) is the same test on every seed; it is
marked slow and runs when ``L1SIM_MENU2016_FULL=1`` (see the module's timings in
the report of the change that added it: it takes longer than CI's budget).
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

import cosim
import firmware
import streams
from cosim._check import prepare
from emulator.menu import Menu
from firmware import FirmwareDir
from firmware._build import TOP_MODULE, verilog_sources
from firmware._errors import FirmwareError
from firmware._seeds import MENU_FILE
from firmware._tools import find_verilator, verilator_lint
from l1sim.cli import main
from streams.timeline import place

sys.path.insert(0, str(Path(__file__).parents[1] / "firmware"))
from _expression_menu import expression_menu
from _menu2016 import menu_2016, sample_2016

pytest.importorskip("da4ml")
pytest.importorskip("cocotb")


def _have(finder: Callable[[], object]) -> bool:
    try:
        finder()
    except FirmwareError:
        return False
    return True


pytestmark = [
    pytest.mark.sim,
    pytest.mark.skipif(not _have(find_verilator), reason="Verilator not installed"),
]

#: BX of the co-simulation of the sample
N_BX = 5_000


def _labelled(stream: Iterator[streams.EventBatch], seed: int) -> Iterator[streams.EventBatch]:
    """The batches with random quality words (0-15), charges (±1, some 0) and isolation
    words (-1 .. 4) on every object: the synthetic source has none of them, and the
    menu cuts on muon quality and e/gamma and tau isolation."""
    rng = np.random.default_rng(seed)
    for batch in stream:
        objects = {}
        for name, o in batch.objects.items():
            n = o.pt.shape[0]
            charge = rng.choice(np.array([-1, 1, 1, -1, 0], np.int8), n)
            isolation = np.asarray(rng.integers(-1, 5, size=n), np.int32)
            quality = np.asarray(rng.integers(0, 16, size=n), np.int32)
            objects[name] = replace(o, quality=quality, charge=charge, isolation=isolation)
        yield replace(batch, objects=objects)


def _stream(n_bx: int, seed: int = 2016, mu: float = 40.0) -> Iterator[streams.EventBatch]:
    source = streams.open(f"synthetic:background?n={n_bx}&seed={seed}")
    minimum_bias = streams.synthetic.generate("minbias", 20_000, seed=seed + 1)
    placed = streams.pileup.overlay(place(source, max_bx=n_bx), minimum_bias, mu, seed=seed)
    return _labelled(placed, seed)


def _build(menu: Menu, out: Path) -> tuple[FirmwareDir, float]:
    started = time.perf_counter()
    fw = firmware.build(menu, out, yosys_lut_limit=0.0)
    return fw, time.perf_counter() - started


def _sample_menu() -> Menu:
    """The 2016 sample plus the hand-made expression seeds, on the 2016 menu's hardware:
    one firmware, one simulator build (the simulator's C++ compile dominates)."""
    sample = sample_2016(menu_2016())
    # the 2016 hardware has different η and φ LSBs: no ΔR cut can be expressed on it
    extra = tuple(s for s in expression_menu().seeds if s.name != "MuJet_dR")
    return replace(sample, seeds=sample.seeds + extra)


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> tuple[FirmwareDir, float]:
    """The sample's firmware directory and the seconds its build took."""
    return _build(_sample_menu(), tmp_path_factory.mktemp("menu2016") / "sample")


def _lint(fw: FirmwareDir) -> None:
    verilator_lint(
        verilog_sources(fw.path), top=TOP_MODULE, waivers=[fw.path / "rtl" / "waivers.vlt"]
    )


def _agree(fw: FirmwareDir, n_bx: int, tmp_path: Path, share: float = 0.5) -> None:
    report = cosim.check(fw, _stream(n_bx), max_bx=n_bx, hls=False, out_dir=tmp_path / "report")
    failed = [(c.name, c.mismatches, c.first) for c in report.failed]
    assert report.agrees, failed[:5]
    names = {c.name for c in report.checks}
    menu = fw.path / MENU_FILE
    assert menu.is_file()
    prepared = prepare(fw, _stream(n_bx), max_bx=n_bx)
    fired = prepared.stimulus.expected.fired.sum(axis=0)
    seeds = prepared.stimulus.expected.seed_names
    assert all(any(s in n for n in names) for s in seeds), "a seed's decision was not compared"
    assert (fired > 0).sum() >= share * len(seeds), dict(zip(seeds, fired.tolist(), strict=True))


def test_sample_builds_and_lints_clean(sample: tuple[FirmwareDir, float]) -> None:
    fw, seconds = sample
    print(f"2016 sample: {len(fw.manifest.algorithms)} seeds built in {seconds:.0f} s")
    assert {a.kind for a in fw.manifest.algorithms} == {"expression"}
    ports = {p.name: p for p in fw.manifest.ports}
    assert any(f.name.startswith("isolation[") for f in ports["in_egamma"].fields)
    assert any(f.name.startswith("charge[") for f in ports["in_muon"].fields)
    assert not any(f.name.startswith("charge[") for f in ports["in_jet"].fields)
    _lint(fw)


def test_sample_cosimulation_agrees(sample: tuple[FirmwareDir, float], tmp_path: Path) -> None:
    _agree(sample[0], N_BX, tmp_path)


def test_cli_finds_the_menu_in_the_firmware_directory(
    sample: tuple[FirmwareDir, float], capsys: pytest.CaptureFixture[str]
) -> None:
    fw = sample[0]
    code = main(["cosim", "--firmware", str(fw.path), "--max-bx", "500", "--no-hls"])
    out = capsys.readouterr().out
    assert code == 0, out[-2000:]
    assert "L1Menu_Collisions2016_v2c-sample" in out


@pytest.mark.slow
@pytest.mark.skipif(
    os.environ.get("L1SIM_MENU2016_FULL") != "1",
    reason="the whole 2016 menu takes longer than CI's budget: set L1SIM_MENU2016_FULL=1",
)
def test_whole_menu_builds_lints_and_agrees(
    tmp_path_factory: pytest.TempPathFactory, tmp_path: Path
) -> None:
    menu = menu_2016()
    fw, seconds = _build(menu, tmp_path_factory.mktemp("menu2016") / "full")
    print(f"2016 menu: {len(fw.manifest.algorithms)} seeds built in {seconds:.0f} s")
    assert len(fw.manifest.algorithms) == len(menu.seeds)
    _lint(fw)
    _agree(fw, N_BX, tmp_path)
