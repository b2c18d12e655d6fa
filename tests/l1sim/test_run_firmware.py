"""``l1sim run --firmware DIR``: seed timing from the manifest, its section in the summary."""

from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path

import pytest

from emulator.menu import default_menu, write_menu
from l1sim.cli import main

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A two-seed menu file and its firmware directory (no yosys: a quick build)."""
    pytest.importorskip("da4ml")
    firmware = pytest.importorskip("firmware")
    if shutil.which("yosys") is None:
        pytest.skip("yosys not installed")
    root = tmp_path_factory.mktemp("run-firmware")
    menu = default_menu()
    keep = {"L1_SingleMu22", "L1_HTT290"}
    seeds = tuple(s for s in menu.seeds if s.name in keep)
    menu = dataclasses.replace(menu, name="two-seeds", seeds=seeds)
    menu_file = root / "menu.yaml"
    write_menu(menu, menu_file)
    fw_dir = root / "fw"
    firmware.build(menu, fw_dir, yosys_lut_limit=0)
    return menu_file, fw_dir


def test_timing_and_section_come_from_the_manifest(
    built: tuple[Path, Path], tmp_path: Path
) -> None:
    menu_file, fw_dir = built
    manifest = json.loads((fw_dir / "manifest.json").read_text())
    out = tmp_path / "run"
    argv = ["run", "synthetic:background?n=3000&seed=3", "--menu", str(menu_file)]
    assert main([*argv, "--firmware", str(fw_dir), "--out", str(out), "--max-bx", "7128"]) == 0
    summary = json.loads((out / "summary.json").read_text())
    section = summary["firmware"]
    assert [a["name"] for a in section["algorithms"]] == ["L1_SingleMu22", "L1_HTT290"]
    assert section["latency_cycles"] == manifest["latency_cycles"]
    timings = {t["name"]: t for t in summary["timing"]["algorithms"]}
    for algorithm in manifest["algorithms"]:
        assert timings[algorithm["seed"]]["latency_cycles"] == algorithm["latency_cycles"]
        assert timings[algorithm["seed"]]["clock_mhz"] == algorithm["clock_mhz"]
    assert "Firmware" in (out / "report.html").read_text()


def test_firmware_of_another_menu_is_refused(
    built: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, fw_dir = built
    out = tmp_path / "run"
    argv = ["run", "synthetic:background?n=500&seed=3", "--firmware", str(fw_dir)]
    assert main([*argv, "--out", str(out), "--max-bx", "3564"]) == 1
    err = capsys.readouterr().err
    assert "built from menu 'two-seeds', not from 'l1sim-default'" in err
    assert "seeds missing from the firmware" in err
    assert not out.exists()
