"""Proof that the check can fail: corrupted RTL is reported with exit 1 at the right BX.

The small traced design (see ``_small_design``) is copied and its generated Verilog
corrupted in six ways; ``l1sim cosim`` must exit 1 and name, as its earliest
mismatch, the BX where the corruption first changes an output:

* a threshold constant (the muon pT cut 22 GeV -> 20 GeV in the da4ml comparators);
* a weight (the shift of one HT adder term: that jet counts twice);
* an adder turned into a subtractor (the same HT adder);
* a pipeline stage removed (the muon decision's alignment delay one shorter);
* a pipeline stage added (the valid strobe's delay one longer: outputs a cycle late);
* one output bit inverted on a single BX (L1A at BX 1234).

Where the right BX follows from the emulator's data it is computed from the
stimulus (threshold, stage removed, stage added, inverted bit); for the datapath
mutants (weight, subtractor) it is the first cycle at which the mutant's raw
simulator outputs differ from the unmutated design's, found by a plain diff of the
two recordings. Icarus keeps the six rebuilds quick.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from cosim._check import Prepared, dut_spec, prepare
from cosim._stimulus import extract_field, field_ints, output_delay
from cosim.runner import get_runner
from emulator.fixed import FixedType
from firmware._errors import FirmwareError
from firmware._manifest import FirmwareDir
from firmware._tools import find_iverilog
from l1sim._cosim_cmd import _stream
from l1sim.cli import main

sys.path.insert(0, str(Path(__file__).parent))
from _small_design import build_small_firmware

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
    pytest.mark.skipif(not _have_icarus(), reason="Icarus Verilog not installed"),
]

N_BX = 3000
INVERTED_BX = 1234


@pytest.fixture(scope="module")
def firmware(tmp_path_factory: pytest.TempPathFactory) -> FirmwareDir:
    return build_small_firmware(tmp_path_factory.mktemp("mutant-base"))


def _args() -> argparse.Namespace:
    return argparse.Namespace(inputs=[], max_bx=N_BX, pileup=None, random_seed=2026)


@pytest.fixture(scope="module")
def prepared(firmware: FirmwareDir) -> Prepared:
    """The same stream ``l1sim cosim --max-bx N_BX`` replays, through the emulator."""
    return prepare(firmware, _stream(_args()))


def _record(fw_path: Path, prepared: Prepared) -> dict[str, np.ndarray]:
    """Raw output words of a firmware directory's RTL on the prepared stimulus (Icarus)."""
    fw = FirmwareDir.open(fw_path)
    runner = get_runner("icarus")
    delay = output_delay(fw.manifest)
    drive = {}
    for name, values in prepared.stimulus.port_stimulus().items():
        drive[name] = np.concatenate([values, np.zeros((delay, *values.shape[1:]), values.dtype)])
    result = runner.test(runner.build(dut_spec(fw)), drive)
    return {name: trace.words for name, trace in result.outputs.items()}


def _mutate(root: Path, relative: str, old: str, new: str, count: int = 1) -> None:
    path = root / relative
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == count, f"{relative}: {old!r} found {text.count(old)} times"
    path.write_text(text.replace(old, new), encoding="utf-8")


def _muon_fires(prepared: Prepared, threshold_raw: int) -> np.ndarray:
    """Whether a muon slot passes |eta| <= cut and pT >= threshold_raw, from the input words."""
    s = prepared.stimulus
    seed = prepared.plan.seed("L1_SingleMu22")
    assert seed.cut.eta_max is not None
    port = prepared.firmware.manifest.port("in_muon")
    fields = {f.name: f for f in port.fields}
    fires = np.zeros(len(s), np.bool_)
    for slot in range(prepared.plan.slot_count("muon")):
        pt_f, eta_f = fields[f"pt[{slot}]"], fields[f"eta[{slot}]"]
        pt = extract_field(s.words["in_muon"], pt_f.lsb, pt_f.width).astype(np.int64)
        eta = field_ints(extract_field(s.words["in_muon"], eta_f.lsb, eta_f.width),
                         FixedType.parse(eta_f.type))  # fmt: skip
        fires |= (pt >= threshold_raw) & (np.abs(eta) <= seed.cut.eta_max)
    return fires & s.valid


def _first_change(a: np.ndarray, b: np.ndarray) -> int:
    where = np.flatnonzero(a != b)
    assert where.size, "the mutant changes nothing on this stream"
    return int(where[0])


def threshold(root: Path, prepared: Prepared) -> int:
    seed = prepared.plan.seed("L1_SingleMu22")
    assert max(seed.threshold_raw, seed.legs[0]) == 88  # 22 GeV in 0.25 GeV counts
    _mutate(root, "rtl/dp_cmb/src/dp_cmb.v", "7'b1011000", "7'b1010000", count=4)  # 88 -> 80
    fired = prepared.stimulus.expected.fired[:, 0] & prepared.stimulus.valid
    return _first_change(fired, _muon_fires(prepared, 80))


def _ht_adder(root: Path, new: str) -> None:
    _mutate(root, "rtl/dp_ht/src/dp_ht_stage16.v",
            "shift_adder #(14, 14, 0, 0, 15, 0, 0) op_2", new)  # fmt: skip


def weight(root: Path, prepared: Prepared) -> int:
    del prepared  # the right BX comes from the recordings
    _ht_adder(root, "shift_adder #(14, 14, 0, 0, 15, 1, 0) op_2")  # second term x 2
    return -1


def subtractor(root: Path, prepared: Prepared) -> int:
    del prepared  # the right BX comes from the recordings
    _ht_adder(root, "shift_adder #(14, 14, 0, 0, 15, 0, 1) op_2")
    return -1


def stage_removed(root: Path, prepared: Prepared) -> int:
    old = "delay_line #(.WIDTH(1), .DEPTH(22), .RESET(0)) u_delay_fire_0"
    _mutate(root, "rtl/cosim_small_top.v", old, old.replace("DEPTH(22)", "DEPTH(21)"))
    fired = prepared.stimulus.expected.fired[:, 0]
    # the muon decision of BX t+1 arrives with the other outputs of BX t
    return _first_change(fired[:-1], fired[1:])


def stage_added(root: Path, prepared: Prepared) -> int:
    old = "delay_line #(.WIDTH(1), .DEPTH(23), .RESET(1)) u_delay_valid_a"
    _mutate(root, "rtl/cosim_small_top.v", old, old.replace("DEPTH(23)", "DEPTH(24)"))
    assert prepared.stimulus.valid[0]
    return 0  # BX 0's outputs are not marked valid when due


def inverted_bit(root: Path, prepared: Prepared) -> int:
    _mutate(root, "rtl/cosim_small_top.v", ".accept(l1a),", ".accept(l1a_raw),")
    _mutate(
        root, "rtl/cosim_small_top.v", "    wire candidate;\n",
        "    wire candidate;\n    wire l1a_raw;\n    assign l1a = l1a_raw ^ "
        f"(out_orbit == 32'd0 && out_bx == 12'd{INVERTED_BX});\n",
    )  # fmt: skip
    assert prepared.stimulus.valid[INVERTED_BX]
    return INVERTED_BX


MUTANTS: dict[str, Callable[[Path, Prepared], int]] = {
    "threshold constant": threshold,
    "weight constant": weight,
    "adder to subtractor": subtractor,
    "pipeline stage removed": stage_removed,
    "pipeline stage added": stage_added,
    "output bit inverted on one BX": inverted_bit,
}
EXPECTED_FAILURES = {
    "threshold constant": {"decision/L1_SingleMu22"},
    "pipeline stage removed": {"decision/L1_SingleMu22"},
    "pipeline stage added": {"latency"},
    "output bit inverted on one BX": {"l1a"},
    "weight constant": {"score/L1_HTT250"},
    "adder to subtractor": {"score/L1_HTT250"},
}


@pytest.mark.parametrize("name", list(MUTANTS))
def test_mutant_is_caught_at_the_right_bx(
    name: str, firmware: FirmwareDir, prepared: Prepared, tmp_path: Path
) -> None:
    root = tmp_path / "firmware"
    shutil.copytree(firmware.path, root)
    first_bx = MUTANTS[name](root, prepared)
    delay = output_delay(firmware.manifest)
    if first_bx < 0:  # datapath mutants: diff the raw recordings of both designs
        base, mutant = _record(firmware.path, prepared), _record(root, prepared)
        cycles = [
            _first_change(base[p][:, k], mutant[p][:, k])
            for p in base
            for k in range(base[p].shape[1])
            if np.any(base[p][:, k] != mutant[p][:, k])
        ]
        assert cycles, "the mutant's outputs equal the original's"
        first_bx = min(cycles) - delay
    out = tmp_path / "report"
    code = main(["cosim", "--firmware", str(root), "--sim", "icarus", "--max-bx", str(N_BX),
                 "--out", str(out)])  # fmt: skip
    assert code == 1
    report = json.loads((out / "cosim.json").read_text())
    failed = {c["name"]: c for c in report["checks"] if not c["agrees"]}
    assert failed
    earliest = min(c["first"]["row"] for c in failed.values())
    assert earliest == first_bx, (name, {k: c["first"]["row"] for k, c in failed.items()})
    for expected in EXPECTED_FAILURES.get(name, set()):
        assert expected in failed, (name, sorted(failed))
    if name == "output bit inverted on one BX":
        assert set(failed) == {"l1a"}
        assert failed["l1a"]["mismatches"] == 1
    assert "changed since the firmware was built" in " ".join(report["notes"])
