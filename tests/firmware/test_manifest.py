"""manifest.json: round trip, determinism and the errors a user can meet."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from firmware._manifest import (
    MANIFEST_NAME,
    AlgorithmEntry,
    FieldEntry,
    FileEntry,
    FirmwareDir,
    Manifest,
    ManifestError,
    PortEntry,
    content_hash,
    file_digest,
)


def _manifest(files: tuple[FileEntry, ...] = ()) -> Manifest:
    return Manifest(
        l1sim_version="0.1.0",
        content_hash="ab" * 32,
        menu_name="test",
        top_module="l1sim_top",
        clock_mhz=240.0,
        ii=1,
        latency_cycles=7,
        ports=(
            PortEntry(
                "muon",
                "in",
                74,
                (FieldEntry("muon[0].pt", 0, 14, "ap_ufixed<14,12>"),),
            ),
        ),
        algorithms=(AlgorithmEntry("L1_SingleMu22", "single", "seed_0", 3, 240.0, 1),),
        files=files,
        tools={"yosys": "0.23", "da4ml": "0.6.0"},
    )


def test_round_trip_is_exact_and_deterministic() -> None:
    manifest = _manifest()
    text = manifest.to_json()
    assert Manifest.from_json(text) == manifest
    assert Manifest.from_json(text).to_json() == text
    data = json.loads(text)
    assert data["latency_ns"] == pytest.approx(7 * 1000 / 240)
    assert data["algorithms"][0]["latency_ns"] == pytest.approx(3 * 1000 / 240)
    assert manifest.seed_timings() == {
        "L1_SingleMu22": {"latency_cycles": 3, "clock_mhz": 240.0, "ii": 1}
    }


def test_open_checks_directory_format_and_version(tmp_path: Path) -> None:
    with pytest.raises(ManifestError, match="no such firmware directory"):
        FirmwareDir.open(tmp_path / "missing")
    with pytest.raises(ManifestError, match="not a firmware directory"):
        FirmwareDir.open(tmp_path)
    (tmp_path / MANIFEST_NAME).write_text(_manifest().to_json())
    assert FirmwareDir.open(tmp_path, l1sim_version="0.1.0").manifest.top_module == "l1sim_top"
    with pytest.raises(ManifestError, match="l1sim_version"):
        FirmwareDir.open(tmp_path, l1sim_version="9.9.9")
    data = json.loads(_manifest().to_json())
    data["format"] = "something-else/3"
    (tmp_path / MANIFEST_NAME).write_text(json.dumps(data))
    with pytest.raises(ManifestError, match="field 'format'"):
        FirmwareDir.open(tmp_path)
    data["format"] = Manifest.format
    del data["ports"]
    (tmp_path / MANIFEST_NAME).write_text(json.dumps(data))
    with pytest.raises(ManifestError, match="missing field 'ports'"):
        FirmwareDir.open(tmp_path)
    (tmp_path / MANIFEST_NAME).write_text("{not json")
    with pytest.raises(ManifestError, match="not JSON"):
        FirmwareDir.open(tmp_path)


def test_verify_files_names_changed_files(tmp_path: Path) -> None:
    rtl = tmp_path / "rtl"
    rtl.mkdir()
    (rtl / "top.v").write_text("module top; endmodule\n")
    entry = FileEntry("rtl/top.v", file_digest(rtl / "top.v"))
    (tmp_path / MANIFEST_NAME).write_text(_manifest((entry,)).to_json())
    firmware = FirmwareDir.open(tmp_path)
    assert firmware.verify_files() == []
    (rtl / "top.v").write_text("module top2; endmodule\n")
    assert firmware.verify_files() == ["rtl/top.v"]


def test_content_hash_depends_on_names_order_free() -> None:
    a = content_hash([("menu", b"x"), ("model", b"y")])
    assert a == content_hash([("model", b"y"), ("menu", b"x")])
    assert a != content_hash([("menu", b"xy"), ("model", b"")])
    assert a != content_hash([("menu", b"x"), ("model", b"z")])


def test_algorithm_and_port_lookup_errors() -> None:
    manifest = _manifest()
    assert manifest.algorithm("L1_SingleMu22").module == "seed_0"
    with pytest.raises(ManifestError, match="no algorithm"):
        manifest.algorithm("L1_Nope")
    assert manifest.port("muon").width == 74
    with pytest.raises(ManifestError, match="no port"):
        manifest.port("jet")
