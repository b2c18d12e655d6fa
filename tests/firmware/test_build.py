"""``firmware.build``: the default menu as a firmware directory, end to end.

One build of the default menu per session (``default_firmware`` in conftest.py:
13 cut seeds and the two networks with their hls4ml projects) serves the main
checks: the manifest validates and describes every seed, every Verilog file lints
clean with ``verilator --lint-only -Wall`` (explained waivers only) and compiles
with ``iverilog -g2012``, a second build is a cache hit, and a rebuild into another
directory gives byte-identical files. Small cut-seed menus (yosys on the top only)
check that errors name the seed and leave nothing behind, that a changed menu
rebuilds in place and that a directory of the user's is never overwritten.
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Callable
from pathlib import Path

import pytest

import firmware
import firmware._build
from emulator.fixed import FixedType
from emulator.menu import Menu, SeedKind, default_menu
from firmware import FirmwareDir, FirmwareError
from firmware._tools import find_iverilog, find_verilator, iverilog_compile, verilator_lint

pytest.importorskip("da4ml")
from firmware._build import TOP_MODULE, _static_module, verilog_sources

pytestmark = pytest.mark.slow

Built = tuple[FirmwareDir, float]


def _have(finder: Callable[[], object]) -> bool:
    try:
        finder()
    except FirmwareError:
        return False
    return True


def _cut_menu() -> Menu:
    """A few of the default menu's small cut seeds (one of each kind the tracer knows)."""
    menu = default_menu(with_nn=False)
    keep = ("L1_SingleMu22", "L1_DoubleJet_70_70_dEta1p6", "L1_HTT290", "L1_ETM175")
    return dataclasses.replace(menu, seeds=tuple(s for s in menu.seeds if s.name in keep))


def _quick(menu: Menu, out: Path) -> FirmwareDir:
    """A build whose yosys run covers the top only (every datapath a black box)."""
    return firmware.build(menu, out, yosys_lut_limit=0)


# ----------------------------------------------------------------------------- default menu


def test_manifest_describes_every_seed(default_firmware: Built) -> None:
    fw, seconds = default_firmware
    print(f"default-menu build: {seconds:.1f} s")
    again = FirmwareDir.open(fw.path)
    assert again.manifest == fw.manifest
    m = fw.manifest
    menu = default_menu()
    assert m.top_module == TOP_MODULE
    assert [a.seed for a in m.algorithms] == [s.name for s in menu.seeds]
    assert m.latency_cycles == max(a.latency_cycles for a in m.algorithms) + 3
    assert m.ii == 1
    assert all(a.latency_cycles >= 1 and a.clock_mhz == m.clock_mhz for a in m.algorithms)
    assert fw.verify_files() == []
    decision = m.port("decision")
    assert [f.name for f in decision.fields] == [a.seed for a in m.algorithms]
    jets = m.port("in_jet")
    assert jets.fields[0].name == "pt[0]"
    assert jets.fields[0].type.startswith("ap_ufixed<14,12")
    assert m.port("score_L1_HTT290").fields[0].type.startswith("ap_ufixed<16,14")
    timings = m.seed_timings()
    assert timings["L1_HTT290"]["latency_cycles"] == m.algorithm("L1_HTT290").latency_cycles
    networks = [s.name for s in menu.seeds if s.kind is SeedKind.NN]
    assert len(networks) == 2
    for name in networks:
        entry = m.algorithm(name)
        assert entry.kind == "nn"
        assert entry.hls_project is not None, f"{name}: no hls4ml project"
        assert (fw.path / entry.hls_project).is_dir()
        assert m.port(f"score_{name}").width > 0


def test_resources_per_algorithm(default_firmware: Built) -> None:
    fw, _ = default_firmware
    resources = json.loads((fw.path / "resources.json").read_text())
    yosys = resources["yosys"]
    assert yosys["total"]["lut"] > 0
    assert yosys["version"].startswith("Yosys")
    skipped = yosys.get("not_synthesised", {})
    for a in fw.manifest.algorithms:
        entry = resources["algorithms"][a.seed]
        assert entry["da4ml"]["lut"] >= 0
        assert entry["da4ml"]["pipelined"]
        assert ("yosys" in entry) != (a.seed in skipped), a.seed
        if a.seed in skipped:
            assert "da4ml estimates" in skipped[a.seed]
            assert entry["da4ml"]["lut"] > firmware._build.YOSYS_LUT_LIMIT
        else:
            assert entry["yosys"]["lut"] > 0 or entry["yosys"]["ff"] > 0, a.seed
    assert "L1_SingleMu22" not in skipped  # small datapaths do go through yosys


@pytest.mark.sim
@pytest.mark.skipif(not _have(find_verilator), reason="Verilator not installed")
def test_every_verilog_file_lints_clean(default_firmware: Built) -> None:
    fw, _ = default_firmware
    sources = verilog_sources(fw.path)
    assert {p.parent.name for p in sources} >= {"rtl", "da4ml"}
    verilator_lint(sources, top=TOP_MODULE, waivers=[fw.path / "rtl" / "waivers.vlt"])


@pytest.mark.sim
@pytest.mark.skipif(not _have(find_iverilog), reason="Icarus Verilog not installed")
def test_compiles_with_icarus(default_firmware: Built, tmp_path: Path) -> None:
    fw, _ = default_firmware
    program = iverilog_compile(verilog_sources(fw.path), tmp_path / "top.vvp", top=TOP_MODULE)
    assert program.is_file()


def test_unchanged_menu_is_a_cache_hit(default_firmware: Built) -> None:
    fw, seconds = default_firmware
    stamp = (fw.path / "manifest.json").stat().st_mtime_ns
    started = time.perf_counter()
    again = firmware.build(default_menu(), fw.path)
    assert time.perf_counter() - started < max(5.0, seconds / 4)
    assert again.manifest == fw.manifest
    assert (fw.path / "manifest.json").stat().st_mtime_ns == stamp


def test_rebuild_is_byte_identical(default_firmware: Built, tmp_path: Path) -> None:
    fw, _ = default_firmware
    other = firmware.build(default_menu(), tmp_path / "again")
    assert other.manifest.files == fw.manifest.files
    ours = sorted(p.relative_to(fw.path) for p in fw.path.rglob("*") if p.is_file())
    theirs = sorted(p.relative_to(other.path) for p in other.path.rglob("*") if p.is_file())
    assert ours == theirs
    different = [
        str(r) for r in ours if (fw.path / r).read_bytes() != (other.path / r).read_bytes()
    ]
    assert different == []


# ----------------------------------------------------------------------------- small menus


def test_changed_menu_rebuilds_in_place(tmp_path: Path) -> None:
    target = tmp_path / "fw"
    first = _quick(_cut_menu(), target)
    menu = _cut_menu()
    seeds = tuple(
        dataclasses.replace(s, threshold_raw_override=1200) if s.name == "L1_HTT290" else s
        for s in menu.seeds
    )
    rebuilt = _quick(dataclasses.replace(menu, seeds=seeds), target)
    assert rebuilt.manifest.content_hash != first.manifest.content_hash
    assert rebuilt.verify_files() == []
    assert [p.name for p in tmp_path.iterdir()] == ["fw"]  # no staging left


def test_error_names_the_seed_and_leaves_nothing(tmp_path: Path) -> None:
    """A sum type too wide for da4ml's exact constants: one error naming the seed."""
    menu = _cut_menu()
    hardware = dataclasses.replace(
        menu.hardware, sum=FixedType.parse("ap_ufixed<60,40,AP_RND,AP_SAT>")
    )
    broken = dataclasses.replace(menu, hardware=hardware)
    out = tmp_path / "deep" / "fw"
    with pytest.raises(FirmwareError, match=r"L1_HTT290.*wider than"):
        firmware.build(broken, out)
    assert list(tmp_path.iterdir()) == []


def test_late_error_leaves_no_staging(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An error after files were written (here: in synthesis) removes them all."""

    def fail(*_args: object) -> None:
        raise FirmwareError("yosys not found: no 'yosys' on PATH")

    monkeypatch.setattr(firmware._build, "_resources", fail)
    with pytest.raises(FirmwareError, match="yosys"):
        firmware.build(_cut_menu(), tmp_path / "fw")
    assert list(tmp_path.iterdir()) == []


def test_refuses_a_directory_of_the_users(tmp_path: Path) -> None:
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("keep me")
    with pytest.raises(FirmwareError, match=r"notes\.txt.*--force"):
        firmware.build(_cut_menu(), out)
    (out / "rtl").mkdir()
    with pytest.raises(FirmwareError, match="rtl"):
        firmware.build(_cut_menu(), out, force=True)
    assert sorted(p.name for p in out.iterdir()) == ["notes.txt", "rtl"]
    assert (out / "notes.txt").read_text() == "keep me"


# ----------------------------------------------------------------------------- da4ml's RTL


def test_lookup_table_rom_style_is_stated_for_icarus(tmp_path: Path) -> None:
    """da4ml's ROM-style choice (an attribute Icarus 11 cannot evaluate) becomes its
    outcome; an unknown form of it is an error naming the seed, not a broken file."""
    source = tmp_path / "lookup_table.v"
    source.write_text(
        "module lookup_table #(parameter BW_IN = 8) ();\n"
        '  (* rom_style = (BW_IN <= 999) ? "distributed" : "block" *)\n'
        "  reg [7:0] lut_rom [0:(1<<BW_IN)-1];\nendmodule\n"
    )
    text = _static_module(source, "L1_X")
    assert '(* rom_style = "distributed" *)' in text
    assert "?" not in text
    source.write_text('  (* rom_style = (BW_IN <= 6) ? "distributed" : "block" *)\n')
    with pytest.raises(FirmwareError, match=r"L1_X.*lookup_table"):
        _static_module(source, "L1_X")
    other = tmp_path / "mux.v"
    other.write_text("module mux(); endmodule\n")
    assert _static_module(other, "L1_X") == other.read_text()


def test_cli_builds_a_menu(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """``l1sim firmware --menu FILE --out DIR`` builds and prints a line per seed."""
    from l1sim.cli import main

    menu = tmp_path / "menu.yaml"
    menu.write_text(
        "name: one-seed\nseeds:\n"
        "  - {name: L1_SingleMu22, kind: single, collection: muon, pt: 22, eta_max: 2.4}\n",
        encoding="utf-8",
    )
    out = tmp_path / "fw"
    assert main(["firmware", "--menu", str(menu), "--out", str(out)]) == 0
    printed = capsys.readouterr()
    assert "L1_SingleMu22" in printed.out
    assert "top latency" in printed.err
    assert FirmwareDir.open(out).manifest.menu_name == "one-seed"
    assert main(["firmware", "--menu", str(tmp_path / "missing.yaml"), "--out", str(out)]) == 1
    assert "missing.yaml" in capsys.readouterr().err
    bad_xml = tmp_path / "menu2016.xml"  # read as a CMS uGT menu, as `l1sim run` does
    bad_xml.write_text("<menu><broken", encoding="utf-8")
    assert main(["firmware", "--menu", str(bad_xml), "--out", str(tmp_path / "fw2")]) == 1
    assert "menu2016.xml: not a readable uGT XML menu" in capsys.readouterr().err
    assert not (tmp_path / "fw2").exists()
