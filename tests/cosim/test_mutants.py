"""Proof that the check can fail: corrupted generated RTL is reported at the right BX.

A small YAML menu (three cut seeds, an HT seed with its score output and a small
network seed) is built once with ``firmware.build``; each test copies that firmware
directory, corrupts its generated Verilog in one way and runs ``l1sim cosim`` (the
CLI's ``main``) on Icarus. The command must exit 1 and name, as its earliest
mismatch, the BX where the corruption first changes an output. That BX is computed
without the HDL:

* **threshold constant** (the muon seed's 22 GeV compare constant in da4ml's
  Verilog, 88 counts, becomes 80): the emulator with the menu's threshold at 20 GeV,
  first BX where its outputs differ from the unmutated emulator's;
* **weight constant** (da4ml builds constant products as adder graphs, so no
  literal weight exists in the Verilog): the network seed's datapath Verilog is
  replaced by the one ``firmware.build`` writes for the same network with one
  weight changed; the emulator with that model gives the BX;
* **adder to subtractor** (one adder of the HT sum's second pipeline stage):
  da4ml's own interpreter runs the datapath's ``pipeline.json`` with the same
  operation turned into a subtraction, on the datapath inputs of every BX;
* **pipeline stages** removed or added, in a seed's alignment (the double-e-gamma
  decision one stage early or late: the emulator's outputs shifted by one BX) and in the valid strobe (the latency check reports it: one
  cycle early, or BX 0 not marked valid when due);
* **one output bit inverted on a single BX** (L1A at a BX this test picks).

The unmutated firmware must agree (exit 0) in the same module, so every check
here is able to pass as well as to fail.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from cosim._check import Prepared, prepare
from cosim._stimulus import Expected, extract_field, field_ints
from emulator.fixed import FixedType
from emulator.menu import load_menu
from emulator.nn import Activation, Dense, Input, Model
from firmware._errors import FirmwareError
from firmware._manifest import FirmwareDir
from firmware._tools import find_iverilog
from l1sim._cosim_cmd import _stream
from l1sim.cli import main

pytest.importorskip("da4ml")
pytest.importorskip("cocotb")


def _have_icarus() -> bool:
    try:
        find_iverilog()
    except FirmwareError:
        return False
    return True


pytestmark = [
    pytest.mark.sim,
    pytest.mark.slow,
    pytest.mark.skipif(not _have_icarus(), reason="Icarus Verilog not installed"),
]

N_BX = 400
INVERTED_BX = 321
MU, EG, HT, NN = "L1_SingleMu22", "L1_DoubleEG_25_12", "L1_HTT250", "L1_NN"
MENU = f"""
name: cosim-mutants
hardware: {{slots: {{muon: 4, jet: 6, egamma: 2, tau: 2}}}}
trigger_rules: cms
seeds:
  - {{name: {MU}, kind: single, collection: muon, pt: 22, eta_max: 2.4}}
  - {{name: {EG}, kind: double, collection: egamma, pt: [25, 12]}}
  - {{name: L1_SingleJet120, kind: single, collection: jet, pt: 120}}
  - {{name: {HT}, kind: ht, collection: jet, object_pt: 30, eta_max: 2.4, threshold: 250,
     prescale: 1.5}}
  - {{name: {NN}, kind: nn, model: models/tiny.npz, score: tagger, output: 0,
     input_scale: 0.03125, inputs: {{met: false, slots: {{jet: 2}}, fields: [pt, eta]}},
     threshold: 0.5}}
"""
MU_CUT = f"{{name: {MU}, kind: single, collection: muon, pt: 22,"
#: the weight the weight mutant changes: (layer, input, output) and its new raw value
WEIGHT = ("d1", 3, 1, -19)  # -18 -> -19: the second jet's η, one LSB


def _dense(name: str, n_in: int, n_out: int, rng: np.random.Generator) -> Dense:
    return Dense(
        name=name, result_type="ap_fixed<16,8,AP_TRN,AP_SAT>",
        weight=rng.integers(-40, 40, (n_in, n_out)), weight_type="ap_fixed<8,2>",
        bias=rng.integers(-20, 20, n_out), bias_type="ap_fixed<8,2>", accum_type="ap_fixed<32,16>",
    )  # fmt: skip


def _tiny_model() -> Model:
    """4 inputs (two jets' pT and η) -> 3 (ReLU) -> 2, random raw weights."""
    rng = np.random.default_rng(5)
    return Model([
        Input(name="x", result_type="ap_fixed<16,12,AP_TRN,AP_SAT>", shape=(4,)),
        _dense("d1", 4, 3, rng),
        Activation(name="r1", result_type="ap_fixed<16,8,AP_TRN,AP_SAT>", activation="relu"),
        _dense("d2", 3, 2, rng),
    ])  # fmt: skip


def _with_weight(model: Model, layer: str, row: int, column: int, raw: int) -> Model:
    """``model`` with one raw weight of one Dense layer set to ``raw``."""
    layers = []
    for current in model.layers:
        old = current
        if isinstance(old, Dense) and old.name == layer:
            weight = old.weight.copy()
            assert weight[row, column] != raw
            weight[row, column] = raw
            old = Dense(name=old.name, result_type=old.result_type, inputs=old.inputs,
                        weight=weight, weight_type=old.weight_type, bias=old.bias,
                        bias_type=old.bias_type, accum_type=old.accum_type)  # fmt: skip
        layers.append(old)
    return Model(layers, model.outputs)


def _write_menu(folder: Path, menu_text: str, model: Model) -> Path:
    model.save(folder / "models" / "tiny.npz")
    path = folder / "menu.yaml"
    path.write_text(menu_text, encoding="utf-8")
    return path


def _build(folder: Path, menu_text: str, model: Model) -> FirmwareDir:
    import firmware

    menu = load_menu(_write_menu(folder, menu_text, model))
    return firmware.build(menu, folder / "fw", yosys_lut_limit=0)  # no yosys: not needed here


def _args() -> argparse.Namespace:
    return argparse.Namespace(inputs=[], max_bx=N_BX, pileup=None, random_seed=2026)


@dataclass
class Base:
    """The unmutated firmware, its menu file and the emulator's view of the stream."""

    firmware: FirmwareDir
    menu_path: Path
    prepared: Prepared
    #: the firmware of the same menu with one network weight changed
    weight_firmware: FirmwareDir
    weight_menu: Path

    def prepare_with(self, menu_path: Path) -> Prepared:
        """The same stream through the emulator with another menu file."""
        return prepare(self.firmware, _stream(_args()), menu=load_menu(menu_path))


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Base:
    folder = tmp_path_factory.mktemp("mutant-base")
    fw = _build(folder, MENU, _tiny_model())
    menu_path = folder / "menu.yaml"
    changed = _with_weight(_tiny_model(), *WEIGHT)
    weight = _build(tmp_path_factory.mktemp("mutant-weight"), MENU, changed)
    prepared = prepare(fw, _stream(_args()), menu=load_menu(menu_path))
    assert len(prepared.stimulus) == N_BX
    return Base(fw, menu_path, prepared, weight, weight.path.parent / "menu.yaml")


def _run_cli(firmware: Path, menu: Path, out: Path) -> tuple[int, dict[str, object]]:
    code = main(["cosim", "--firmware", str(firmware), "--menu", str(menu), "--sim", "icarus",
                 "--max-bx", str(N_BX), "--out", str(out)])  # fmt: skip
    return code, json.loads((out / "cosim.json").read_text(encoding="utf-8"))


def _mutate(root: Path, relative: str, old: str, new: str) -> None:
    path = root / relative
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{relative}: {old!r} found {text.count(old)} times"
    path.write_text(text.replace(old, new), encoding="utf-8")


def _datapath_dir(fw: FirmwareDir, seed: str) -> str:
    """``rtl/<datapath>`` of a seed, from the manifest's file list."""
    entry = next(a for a in fw.manifest.algorithms if a.seed == seed)
    return str(Path(entry.files[0]).parent)


def _first(rows: np.ndarray) -> int:
    where = np.flatnonzero(rows)
    assert where.size, "the mutant changes no output on this stream"
    return int(where[0])


def _output_rows(e: Expected, valid: np.ndarray, scored: list[int]) -> list[np.ndarray]:
    """Per output the top drives, its expected value per row (as the check reads it)."""
    rows: list[np.ndarray] = [e.fired & valid[:, None], e.prescaled & valid[:, None]]
    rows += [e.final_or & valid, e.l1a & valid, e.dead & valid]
    rows += [np.where(valid, e.scores[:, i], 0) for i in scored]
    return rows


def _first_output_change(a: Prepared, b: Prepared) -> int:
    """First BX where the emulator's outputs under two menus differ."""
    valid = a.stimulus.valid
    scored = [i for i, s in enumerate(a.plan.seeds) if s.name in (HT, NN)]
    differs = np.zeros(len(valid), np.bool_)
    for x, y in zip(
        _output_rows(a.stimulus.expected, valid, scored),
        _output_rows(b.stimulus.expected, valid, scored),
        strict=True,
    ):
        d = x != y
        differs |= d.any(axis=1) if d.ndim == 2 else d
    return _first(differs)


# ---------------------------------------------------------------------------- mutants


def threshold(root: Path, base: Base) -> int:
    seed = base.prepared.plan.seed(MU)
    assert seed.threshold_raw == 88  # 22 GeV in 0.25 GeV counts
    folder = _datapath_dir(base.firmware, MU)
    stage = next(p for p in sorted((root / folder).glob("*_stage*.v"))
                 if "7'b1011000" in p.read_text())  # fmt: skip
    _mutate(root, str(stage.relative_to(root)), "7'b1011000", "7'b1010000")  # 88 -> 80
    lowered = base.menu_path.with_name("menu-threshold.yaml")
    lowered.write_text(MENU.replace(MU_CUT, MU_CUT.replace("pt: 22", "pt: 20")), encoding="utf-8")
    return _first_output_change(base.prepared, base.prepare_with(lowered))


def weight(root: Path, base: Base) -> int:
    folder = _datapath_dir(base.firmware, NN)
    source = base.weight_firmware.path / folder
    ours = sorted(p.name for p in (root / folder).glob("*.v"))
    assert sorted(p.name for p in source.glob("*.v")) == ours  # same pipeline depth
    changed = 0
    for name in ours:
        new = (source / name).read_bytes()
        changed += new != (root / folder / name).read_bytes()
        (root / folder / name).write_bytes(new)
    assert changed, "the changed weight did not change the datapath's Verilog"
    return _first_output_change(base.prepared, base.prepare_with(base.weight_menu))


def subtractor(root: Path, base: Base) -> int:
    from da4ml.types import Pipeline

    from firmware._seeds import trace_seed_datapath

    folder = _datapath_dir(base.firmware, HT)
    stage = f"{Path(folder).name}_stage1.v"
    _mutate(root, f"{folder}/{stage}", "shift_adder #(16, 14, 0, 0, 16, 0, 0) op_2",
            "shift_adder #(16, 14, 0, 0, 16, 0, 1) op_2")  # fmt: skip
    # the same operation in da4ml's description of the pipeline, run by its interpreter
    pipeline = Pipeline.load(str(base.firmware.path / folder / "pipeline.json"))
    ops = list(pipeline.solutions[1].ops)
    assert (ops[2].opcode, ops[2].id0, ops[2].id1) == (0, 0, 1)  # v2 = v0 + v1
    ops[2] = ops[2]._replace(opcode=1)
    stages = list(pipeline.solutions)
    stages[1] = stages[1]._replace(ops=ops)
    p = base.prepared
    traced = trace_seed_datapath(p.plan.seed(HT), p.plan)
    x = np.empty((len(p.stimulus), len(traced.inputs)), np.float64)
    for k, (port, name, _type) in enumerate(traced.inputs):
        f = next(f for f in p.firmware.manifest.port(port).fields if f.name == name)
        bits = extract_field(p.stimulus.words[port], f.lsb, f.width)
        x[:, k] = field_ints(bits, FixedType.parse(f.type))

    def run(solutions: list[object] | tuple[object, ...]) -> np.ndarray:
        out = x
        for solution in solutions:
            out = solution.predict(out)  # type: ignore[attr-defined]
        return np.asarray(out)

    good, bad = run(pipeline.solutions), run(stages)
    score = [o is not None and o[1].name == "SCORE" for o in traced.outputs].index(True)
    expected = p.stimulus.expected.scores[:, p.plan.seed(HT).index]
    valid = p.stimulus.valid
    np.testing.assert_array_equal(good[valid, score], expected[valid])  # interpreter == emulator
    return _first((good != bad).any(axis=1) & valid)


def _top(root: Path) -> str:
    """The top module's Verilog file, relative to the firmware directory."""
    return f"rtl/{FirmwareDir.open(root).manifest.top_module}.v"


def _alignment(root: Path, instance: str, depth: int, new_depth: int) -> None:
    old = f"#(.WIDTH({{}}), .DEPTH({depth}), .RESET({{}})) {instance} ("
    text = (root / _top(root)).read_text(encoding="utf-8")
    line = next(ln for ln in text.splitlines() if ln.rstrip().endswith(f"{instance} ("))
    assert f".DEPTH({depth})" in line, (line, old)
    _mutate(root, _top(root), line, line.replace(f".DEPTH({depth})", f".DEPTH({new_depth})"))


def stage_removed(root: Path, base: Base) -> int:
    """The double-e-gamma decision's alignment one stage short: BX t shows BX t+1's bit.

    Its delay line has one stage: it becomes a plain ``assign``.
    """
    text = (root / _top(root)).read_text(encoding="utf-8")
    line = re.compile(r"delay_line #\(\.WIDTH\(1\), \.DEPTH\(1\), \.RESET\(0\)\) u_delay_fire_1 \("
                      r"\s*\.clk\(clk\),\s*\.rst\(rst\),\s*\.d\((?P<d>[\w\[\]]+)\),"
                      r"\s*\.q\((?P<q>[\w\[\]]+)\)\s*\);")  # fmt: skip
    found = line.search(text)
    assert found is not None
    _mutate(root, _top(root), found.group(), f"assign {found['q']} = {found['d']};")
    s = base.prepared.stimulus
    fired = s.expected.fired[:, base.prepared.plan.seed(EG).index] & s.valid
    return _first((fired[:-1] != fired[1:]) & s.valid[:-1])


def stage_added(root: Path, base: Base) -> int:
    """The double-e-gamma decision's alignment one stage long: BX t shows BX t-1's bit."""
    _alignment(root, "u_delay_fire_1", 1, 2)
    s = base.prepared.stimulus
    fired = s.expected.fired[:, base.prepared.plan.seed(EG).index] & s.valid
    late = np.concatenate([[False], fired[:-1]])  # before BX 0: the empty reset input
    return _first(fired != late)


def valid_stage_removed(root: Path, base: Base) -> int:
    """The valid strobe one stage short: outputs are marked valid one cycle early."""
    _alignment(root, "u_delay_valid_a", 3, 2)
    return _first(base.prepared.stimulus.valid) - 1  # the cycle before BX 0's is row -1


def valid_stage_added(root: Path, base: Base) -> int:
    """The valid strobe one stage long: the first BX is not marked valid when due."""
    _alignment(root, "u_delay_valid_a", 3, 4)
    return _first(base.prepared.stimulus.valid)


def inverted_bit(root: Path, base: Base) -> int:
    s = base.prepared.stimulus
    assert s.valid[INVERTED_BX]
    bx, orbit = int(s.bx[INVERTED_BX]), int(s.orbit[INVERTED_BX] - s.orbit[0])
    _mutate(root, _top(root), ".accept(l1a),", ".accept(l1a_raw),")
    _mutate(root, _top(root), "    wire candidate;\n",
            "    wire candidate;\n    wire l1a_raw;\n    assign l1a = l1a_raw ^ "
            f"(out_orbit == 32'd{orbit} && out_bx == 12'd{bx});\n")  # fmt: skip
    return INVERTED_BX


MUTANTS: dict[str, Callable[[Path, Base], int]] = {
    "threshold constant": threshold,
    "weight constant": weight,
    "adder to subtractor": subtractor,
    "pipeline stage removed": stage_removed,
    "pipeline stage added": stage_added,
    "valid strobe stage removed": valid_stage_removed,
    "valid strobe stage added": valid_stage_added,
    "output bit inverted on one BX": inverted_bit,
}
#: checks that must be among the failures (the earliest one is checked for all)
EXPECTED_FAILURES = {
    "threshold constant": {f"decision/{MU}"},
    "weight constant": {f"score/{NN}"},
    "adder to subtractor": {f"score/{HT}"},
    "pipeline stage removed": {f"decision/{EG}"},
    "pipeline stage added": {f"decision/{EG}"},
    "valid strobe stage removed": {"latency"},
    "valid strobe stage added": {"latency"},
    "output bit inverted on one BX": {"l1a"},
}


def test_unmutated_firmware_agrees(base: Base, tmp_path: Path) -> None:
    code, report = _run_cli(base.firmware.path, base.menu_path, tmp_path / "report")
    assert code == 0, [c["name"] for c in report["checks"] if not c["agrees"]]  # type: ignore[attr-defined]


@pytest.mark.parametrize("name", list(MUTANTS))
def test_mutant_is_caught_at_the_right_bx(name: str, base: Base, tmp_path: Path) -> None:
    root = tmp_path / "firmware"
    shutil.copytree(base.firmware.path, root)
    first_bx = MUTANTS[name](root, base)
    assert -1 <= first_bx < N_BX
    code, report = _run_cli(root, base.menu_path, tmp_path / "report")
    assert code == 1
    checks = report["checks"]
    assert isinstance(checks, list)
    failed = {c["name"]: c for c in checks if not c["agrees"]}
    assert failed
    firsts = {k: c["first"]["row"] for k, c in failed.items()}
    assert min(firsts.values()) == first_bx, (name, first_bx, firsts)
    assert EXPECTED_FAILURES[name] <= set(failed), (name, sorted(failed))
    if name == "output bit inverted on one BX":
        assert set(failed) == {"l1a"}
        assert failed["l1a"]["mismatches"] == 1
    notes = report["notes"]
    assert isinstance(notes, list)
    assert "changed since the firmware was built" in " ".join(notes)
