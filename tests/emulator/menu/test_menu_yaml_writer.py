"""Menus written back as YAML reload to the same menu model and the same seed plan
integers: the 2016 uGT import, the default menu, and a menu using every field."""

from __future__ import annotations

import dataclasses
import enum
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from emulator.fixed import FixedType
from emulator.menu import (
    Menu,
    MenuError,
    default_menu,
    from_uGT_xml,
    load_menu,
    menu_to_yaml,
    write_menu,
)
from emulator.plan import build_plan

REFERENCE = Path(__file__).parents[3].parent / "shared" / "reference"
XML = REFERENCE / "menus" / "L1Menu_Collisions2016_v2c.xml"

EVERYTHING = """\
name: everything
hardware: {slots: {muon: 8, jet: 10}, lut_fraction_bits: 12}
trigger_rules: [{max_accepts: 1, window_bx: 2}]
upstream_latency_bx: 17
defaults: {latency: 3, clock_mhz: 360, ii: 1, prescale: 1}
seeds:
  - {name: L1_Mu20er, kind: single, collection: muon, pt: 20.5, eta_max: 2.1, min_quality: 4}
  - {name: L1_DoubleEG, kind: double, collection: egamma, pt: [25, 12.25],
     pair: {dr_min: 0.1, mass_min: 10, mass_max: 200, dphi_max: 3.0}, prescale: 2.5}
  - {name: L1_TripleJet, kind: triple, collection: jet, pt: [90, 70, 40], mask: true}
  - {name: L1_HTT, kind: ht, collection: jet, object_pt: 30, eta_max: 2.4, threshold: 280}
  - {name: L1_MHT, kind: met, collections: [jet, muon], object_pt: 25, threshold: 100,
     latency: 9, clock_mhz: 240, ii: 2}
  - {name: L1_ETM, kind: met, source: event, threshold_raw: 301}
  - {name: L1_Mu_OS, kind: double, collection: muon, pt: [5, 3], charge_correlation: os,
     eta: [[-2.4, -1.2], [1.2, 2.4]]}
  - name: L1_Cross
    kind: expression
    expression: (mu AND NOT jets) OR (eg AND ht) OR NOT met
    prescale: 0
    conditions:
      mu: {kind: single, collection: muon, pt: 6, quality: [12, 13, 14, 15], charge: -1,
           phi: [[2.5, -2.5]]}
      jets:
        legs:
          - {collection: jet, pt: 84, eta: [[-3.0, 3.0]]}
          - {collection: jet, pt: 68, eta_max: 5}
          - {collection: tau, pt: 20, isolation: [1, 3]}
        charge_correlation: like
      eg: {legs: [{collection: egamma, pt: 17, isolation: [2]}, {collection: egamma, pt: 9}],
           pair: {deta_max: 1.5, dr_max: 2}}
      ht: {kind: ht, collection: jet, object_pt: 30, eta_max: 2.4, threshold: 200, latency: 4}
      met: {kind: met, source: event, threshold: 50}
"""


def _plain(value: Any) -> Any:
    """A plan as nested plain values (numpy arrays as lists; the menu and models left out)."""
    if isinstance(value, Menu) or type(value).__name__ == "Model":
        return None
    if isinstance(value, FixedType | enum.Enum):
        return str(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    return value


def _assert_same(original: Menu, reloaded: Menu) -> None:
    assert reloaded.name == original.name
    assert reloaded.hardware == original.hardware
    assert reloaded.rules == original.rules
    assert reloaded.upstream_latency_bx == original.upstream_latency_bx
    assert reloaded.seed_names == original.seed_names
    for a, b in zip(original.seeds, reloaded.seeds, strict=True):
        assert a == b, a.name
    assert _plain(build_plan(reloaded)) == _plain(build_plan(original))


def _round_trip(menu: Menu, path: Path) -> Menu:
    write_menu(menu, path)
    return load_menu(path)


@pytest.mark.skipif(not XML.is_file(), reason="reference menu not available")
def test_2016_import_round_trip(tmp_path: Path) -> None:
    imported = from_uGT_xml(XML, prescale_column=1).menu
    reloaded = _round_trip(imported, tmp_path / "menu2016.yaml")
    assert len(reloaded.seeds) == 175
    _assert_same(imported, reloaded)
    # an edited threshold changes the plan (the comparison can fail)
    text = (tmp_path / "menu2016.yaml").read_text(encoding="utf-8")
    edited = tmp_path / "edited.yaml"
    edited.write_text(text.replace("pt: 22\n", "pt: 22.5\n", 1), encoding="utf-8")
    assert _plain(build_plan(load_menu(edited))) != _plain(build_plan(imported))


def test_default_menu_round_trip(tmp_path: Path) -> None:
    menu = default_menu()
    _assert_same(menu, _round_trip(menu, tmp_path / "default.yaml"))


def test_every_field_round_trips(tmp_path: Path) -> None:
    source = tmp_path / "everything.yaml"
    source.write_text(EVERYTHING, encoding="utf-8")
    menu = load_menu(source)
    reloaded = _round_trip(menu, tmp_path / "written.yaml")
    _assert_same(menu, reloaded)
    again = tmp_path / "again.yaml"
    write_menu(reloaded, again)
    assert again.read_text() == (tmp_path / "written.yaml").read_text()  # a fixed point


def test_models_beside_the_file_are_relative(tmp_path: Path) -> None:
    menu = default_menu()
    text = menu_to_yaml(menu, base=Path(__file__).parents[3] / "emulator" / "menus")
    assert "model: models/autoencoder.npz" in text
    text = menu_to_yaml(menu, base=tmp_path)
    assert f"model: {menu.seed('L1_ADT_CNF').nn.model_path}" in text  # type: ignore[union-attr]


def test_write_refuses_an_existing_file_and_writes_the_header(tmp_path: Path) -> None:
    path = tmp_path / "menu.yaml"
    path.write_text("precious\n", encoding="utf-8")
    menu = default_menu(with_nn=False)
    with pytest.raises(MenuError, match="exists already"):
        write_menu(menu, path)
    assert path.read_text() == "precious\n"
    write_menu(menu, path, header="converted from x.xml\nrefused: 0", overwrite=True)
    text = path.read_text(encoding="utf-8")
    assert text.startswith("# converted from x.xml\n# refused: 0\nname: l1sim-default\n")
    assert [p.name for p in tmp_path.iterdir()] == ["menu.yaml"]  # no temporary left
    with pytest.raises(MenuError, match="is a directory"):
        write_menu(menu, tmp_path, overwrite=True)
