"""``l1sim menu show|convert`` and ``l1sim run --menu FILE.xml --prescale-column N``:
what of a menu file is emulated, in the table, the converted YAML, the log and the summary."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from emulator.menu import default_menu, from_uGT_xml, load_menu
from l1sim import _pipeline
from l1sim.cli import main

REFERENCE = Path(__file__).parents[2].parent / "shared" / "reference"
XML = REFERENCE / "menus" / "L1Menu_Collisions2016_v2c.xml"
NANO = REFERENCE / "events" / "nanoAOD_2015_CMS_Open_Data_ttbar.root"
DEFAULT_YAML = Path(__file__).parents[2] / "emulator" / "menus" / "default.yaml"
needs_xml = pytest.mark.skipif(not XML.is_file(), reason="reference menu not available")


@needs_xml
def test_show_xml_lists_every_algorithm_once(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["menu", "show", str(XML), "--prescale-column", "1"]) == 0
    out = capsys.readouterr().out
    names = [a.findtext("name") for a in ET.parse(XML).getroot().iter("algorithm")]
    rows = {line.split()[1]: line for line in out.splitlines()[1:-1]}
    assert sorted(rows) == sorted(str(n) for n in names)
    assert out.splitlines()[-1] == "175 of 227 algorithms emulated, 52 refused"
    assert "emulated" in rows["L1_SingleMu22"]
    assert "refused: external condition" in rows["L1_ZeroBias"]
    assert "refused: ETT" in rows["L1_ETT40"]


@needs_xml
def test_show_xml_with_expressions(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["menu", "show", str(XML), "--expressions"]) == 0
    assert "comb{MU10[MU-QLTY_DBLE],MU3p5[MU-QLTY_DBLE]}" in capsys.readouterr().out


def test_show_yaml_lists_the_seeds(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["menu", "show", str(DEFAULT_YAML)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[-1] == "15 seeds in menu 'l1sim-default'"
    seeds = {line.split()[0]: line for line in out[1:-1]}
    assert list(seeds) == list(default_menu().seed_names)
    assert "pair(dr_max=1.4, mass_min=7, mass_max=18)" in seeds["L1_DoubleMu11_Mass_7_18"]
    assert seeds["L1_DoubleMu11_Mass_7_18"].split()[1] == "2.5"  # prescale


def test_show_expression_seed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    menu = tmp_path / "menu.yaml"
    menu.write_text(
        "seeds:\n  - name: L1_X\n    kind: expression\n    expression: mu AND NOT eg\n"
        "    conditions:\n      mu: {kind: single, collection: muon, pt: 6, charge: -1}\n"
        "      eg: {kind: double, collection: egamma, pt: [17, 9], isolation: [1]}\n",
        encoding="utf-8",
    )
    assert main(["menu", "show", str(menu)]) == 0
    line = capsys.readouterr().out.splitlines()[1]
    assert "mu AND NOT eg  where mu = muon pT>=6 charge -1; eg = egamma pT>=17" in line


@needs_xml
def test_convert_xml_reloads_to_the_imported_menu(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "menu2016.yaml"
    assert main(["menu", "convert", str(XML), "--out", str(out), "--prescale-column", "1"]) == 0
    assert "175 seeds" in capsys.readouterr().err
    text = out.read_text(encoding="utf-8")
    assert "# 175 of 227 algorithms emulated, 52 refused" in text
    assert "#      0 L1_ZeroBias: external condition" in text
    assert load_menu(out).seeds == from_uGT_xml(XML, prescale_column=1).menu.seeds
    # an existing file is kept unless --force, and the input is never overwritten
    assert main(["menu", "convert", str(XML), "--out", str(out)]) == 1
    assert "exists already" in capsys.readouterr().err
    assert out.read_text(encoding="utf-8") == text
    assert main(["menu", "convert", str(out), "--out", str(out), "--force"]) == 1
    assert "is the menu being converted" in capsys.readouterr().err
    assert main(["menu", "convert", str(XML), "--out", str(out), "--force"]) == 0
    assert load_menu(out).seeds == from_uGT_xml(XML).menu.seeds  # prescales 1 now


def test_bad_inputs_are_one_line_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["menu", "show", str(tmp_path / "missing.xml")]) == 1
    assert "no such menu file" in capsys.readouterr().err
    assert main(["menu", "show", str(DEFAULT_YAML), "--prescale-column", "1"]) == 1
    assert "applies to uGT XML menus only" in capsys.readouterr().err
    broken = tmp_path / "broken.xml"
    broken.write_text("<menu><algorithm>", encoding="utf-8")
    assert main(["menu", "show", str(broken)]) == 1
    assert "not a readable uGT XML menu" in capsys.readouterr().err


@needs_xml
def test_pipeline_menu_reports_what_is_emulated() -> None:
    menu, algorithms = _pipeline._menu(
        _pipeline.Job(background=[], menu_path=XML, prescale_column=1)
    )
    assert len(menu.seeds) == 175
    assert {k: algorithms[k] for k in ("format", "prescale_column", "algorithms")} == {
        "format": "ugt-xml",
        "prescale_column": 1,
        "algorithms": 227,
    }
    assert (algorithms["emulated"], algorithms["refused"]) == (175, 52)
    assert len(algorithms["refused_algorithms"]) == 52
    assert algorithms["refused_algorithms"][0]["name"] == "L1_ZeroBias"
    _, builtin = _pipeline._menu(_pipeline.Job(background=[]))
    assert (builtin["format"], builtin["emulated"], builtin["refused"]) == ("built-in", 15, 0)


def test_prescale_column_needs_an_xml_menu(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "o"
    code = main(["run", "synthetic:background?n=10", "--out", str(out), "--prescale-column", "1"])
    assert code == 1
    assert "--prescale-column applies to uGT XML menus" in capsys.readouterr().err
    assert not out.exists()


@pytest.mark.slow
@pytest.mark.skipif(not (XML.is_file() and NANO.is_file()), reason="reference files not available")
def test_run_with_the_2016_menu(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "run"
    argv = ["run", str(NANO), "--menu", str(XML), "--prescale-column", "1", "--out", str(out)]
    assert main(argv) == 0
    assert "175 of 227 algorithms emulated, 52 refused" in capsys.readouterr().err
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    algorithms = summary["inputs"]["menu_algorithms"]
    assert (algorithms["emulated"], algorithms["refused"]) == (175, 52)
    assert len(summary["rates"]["seeds"]) == 175
