"""Menu YAML loading: the default menu, round values, and errors that name seed and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from emulator.menu import MenuError, SeedKind, default_menu, load_menu
from emulator.rules import CMS_RULES, TriggerRule

_MENU = """
name: test-menu
hardware:
  pt: "ap_ufixed<12,10,AP_TRN,AP_SAT>"
trigger_rules:
  - {max_accepts: 1, window_bx: 4}
defaults: {latency: 9, clock_mhz: 360, ii: 2}
seeds:
  - {name: Mu, kind: single, collection: muon, pt: 22.1, eta_max: 2.4, prescale: 1.5}
  - {name: DiEG, kind: double, collection: egamma, pt: [20, 10], pair: {dr_min: 0.2, mass_max: 90}}
  - {name: HT, kind: ht, object_pt: 30, threshold: 400.1, mask: true, latency: 30}
  - {name: MET, kind: met, source: event, threshold_raw: 7}
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "menu.yaml"
    path.write_text(text)
    return path


def test_load_menu_fields_and_raw_thresholds(tmp_path: Path) -> None:
    menu = load_menu(_write(tmp_path, _MENU))
    assert menu.name == "test-menu"
    assert menu.rules == (TriggerRule(1, 4),)
    mu, dieg, ht, met = menu.seeds
    assert str(mu.score_type) == "ap_ufixed<12,10,AP_TRN,AP_SAT>"
    assert mu.threshold_raw == 89  # 22.1 GeV at 0.25 GeV → at least 22.25 GeV
    assert mu.prescale == 1.5
    assert (mu.latency_cycles, mu.clock_mhz, mu.initiation_interval) == (9, 360.0, 2)
    assert dieg.pt_thresholds == (20.0, 10.0)
    assert dieg.pair is not None
    assert dieg.pair.dr_min == 0.2
    assert dieg.pair.mass_max == 90
    assert ht.kind is SeedKind.HT
    assert ht.masked
    assert ht.latency_cycles == 30
    assert ht.threshold_raw == 1601  # sum type ap_ufixed<16,14>: 0.25 GeV
    assert met.threshold_raw == 7


def test_default_menu_without_nn() -> None:
    menu = default_menu(with_nn=False)
    assert menu.rules == CMS_RULES
    assert len(menu.seeds) >= 10
    assert all(seed.kind is not SeedKind.NN for seed in menu.seeds)
    kinds = {seed.kind for seed in menu.seeds}
    assert kinds == {SeedKind.OBJECTS, SeedKind.HT, SeedKind.MET}


def test_default_menu_declares_nn_seeds() -> None:
    import yaml

    from emulator.menu._load import resources

    text = (resources.files("emulator") / "menus" / "default.yaml").read_text()
    scores = {s.get("score") for s in yaml.safe_load(text)["seeds"] if s["kind"] == "nn"}
    assert {"ae_mse", "cnf_norm"} <= scores


@pytest.mark.parametrize(
    ("seed_yaml", "pattern"),
    [
        ("{name: X, kind: single, collection: muon, pt: -3}", r"seed 'X': field 'pt'"),
        ("{name: X, kind: single, collection: muons, pt: 3}", r"seed 'X': field 'collection'"),
        ("{name: X, kind: singel, collection: muon, pt: 3}", r"seed 'X': field 'kind'"),
        (
            "{name: X, kind: double, collection: muon, pt: [3, 5]}",
            r"seed 'X': field 'pt'.*decreasing",
        ),
        ("{name: X, kind: double, collection: muon, pt: 3}", r"seed 'X': field 'pt'.*2 pT"),
        (
            "{name: X, kind: single, collection: muon, pt: 3, prescale: 0.5}",
            r"seed 'X': field 'prescale'",
        ),
        ("{name: X, kind: single, collection: muon, pt: 3, prescale: 1.234}", r"field 'prescale'"),
        ("{name: X, kind: single, collection: muon, pt: 3, ptt: 4}", r"seed 'X': field 'ptt'"),
        ("{name: X, kind: single, collection: muon, pt: 3, pair: {dr_min: 1}}", r"field 'pair'"),
        (
            "{name: X, kind: double, collection: muon, pt: [3, 3], pair: {dr_mn: 1}}",
            r"field 'dr_mn'",
        ),
        (
            "{name: X, kind: double, collection: muon, pt: [3, 3], pair: {mass_min: 9, mass_max: 1}}",
            r"field 'pair.mass_min'",
        ),
        ("{name: X, kind: ht, threshold: abc}", r"seed 'X': field 'threshold'"),
        ("{name: X, kind: ht}", r"seed 'X': field 'threshold'"),
        ("{name: X, kind: met, source: calo, threshold: 5}", r"seed 'X': field 'source'"),
        ("{name: X, kind: nn, score: ae_mse, threshold: 1}", r"seed 'X': field 'model'"),
        ("{name: X, kind: nn, model: m.npz, score: mse, threshold: 1}", r"seed 'X': field 'score'"),
        (
            "{name: X, kind: nn, model: missing.npz, score: ae_mse, accum_type: 'ap_ufixed<32,16>', threshold: 1}",
            r"seed 'X': field 'model'.*missing",
        ),
        (
            "{name: X, kind: nn, model: m.npz, score: cnf_norm, threshold: 1}",
            r"seed 'X': field 'accum_type'",
        ),
        ("{name: 1X, kind: single, collection: muon, pt: 3}", r"field 'seeds\[0\].name'"),
        (
            "{name: X, kind: single, collection: muon, pt: 3, latency: -1}",
            r"seed 'X': field 'latency'",
        ),
    ],
)
def test_errors_name_file_seed_and_field(tmp_path: Path, seed_yaml: str, pattern: str) -> None:
    path = _write(tmp_path, f"seeds:\n  - {seed_yaml}\n")
    with pytest.raises(MenuError, match=pattern) as info:
        load_menu(path)
    assert str(path) in str(info.value)


@pytest.mark.parametrize(
    ("text", "pattern"),
    [
        ("seeds: []", "field 'seeds'"),
        (
            "hardware: {pt: 'ap_fixed<14,12>'}\nseeds: [{name: A, kind: single, collection: muon, pt: 1}]",
            "hardware.pt",
        ),
        (
            "hardware: {eta: 'ap_ufixed<8,3>'}\nseeds: [{name: A, kind: single, collection: muon, pt: 1}]",
            "hardware.eta",
        ),
        (
            "hardware: {pt: 'ap_fixd<8,3>'}\nseeds: [{name: A, kind: single, collection: muon, pt: 1}]",
            "field 'pt'",
        ),
        (
            "trigger_rules: [{max_accepts: 0, window_bx: 3}]\nseeds: [{name: A, kind: single, collection: muon, pt: 1}]",
            "max_accepts",
        ),
        (
            "seeds:\n - {name: A, kind: single, collection: muon, pt: 1}\n - {name: A, kind: ht, threshold: 1}",
            "duplicate",
        ),
        (
            "colour: red\nseeds: [{name: A, kind: single, collection: muon, pt: 1}]",
            "field 'colour'",
        ),
        ("seeds: [unclosed", "not valid YAML"),
    ],
)
def test_menu_level_errors(tmp_path: Path, text: str, pattern: str) -> None:
    with pytest.raises(MenuError, match=pattern):
        load_menu(_write(tmp_path, text))


def test_missing_menu_file(tmp_path: Path) -> None:
    with pytest.raises(MenuError, match="cannot read the menu"):
        load_menu(tmp_path / "nope.yaml")


def test_unknown_seed_lookup() -> None:
    menu = default_menu(with_nn=False)
    with pytest.raises(MenuError, match="no seed 'L1_Nope'"):
        menu.seed("L1_Nope")


def test_seeds_built_in_code_are_checked_too() -> None:
    from emulator.menu import Menu, PairCuts, Seed, SeedKind

    def build(**kw: object) -> None:
        Menu(name="m", seeds=(Seed(name="S", kind=SeedKind.OBJECTS, **kw),))  # type: ignore[arg-type]

    with pytest.raises(MenuError, match="decreasing"):
        build(collections=("muon",), pt_thresholds=(5.0, 10.0))
    with pytest.raises(MenuError, match="pair"):
        build(collections=("muon",), pt_thresholds=(5.0,), pair=PairCuts(dr_min=0.1))
    with pytest.raises(MenuError, match="1 to 4"):
        build(collections=("muon",), pt_thresholds=())
    with pytest.raises(MenuError, match="collection"):
        build(collections=("photon",), pt_thresholds=(5.0,))
