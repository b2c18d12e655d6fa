"""The report's Firmware section (issue 8): latency and resources of the firmware a run
took its seed timing from, shown from ``summary.json`` alone."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from l1sim._html import render_html
from l1sim._summary import read_summary, write_summary

FIRMWARE = {
    "directory": "fw-<default>",
    "top_module": "l1sim_top",
    "clock_mhz": 240.0,
    "ii": 1,
    "latency_cycles": 17,
    "latency_ns": 70.8,
    "content_hash": "0123456789abcdef0123",
    "algorithms": [
        {
            "name": "L1_SingleMu22",
            "kind": "objects",
            "latency_cycles": 3,
            "latency_ns": 12.5,
            "ii": 1,
            "hls_project": None,
            "note": None,
            "yosys": {"lut": 325, "ff": 120, "dsp": 0, "carry": 12},
            "da4ml": {"lut": 300.5, "ff": 110},
        }
    ],
    "total": {"yosys": {"lut": 71234, "ff": 5120, "dsp": 4}},
}


def test_firmware_section_shows_latency_and_resources(example_summary: dict[str, Any]) -> None:
    text = render_html({**example_summary, "firmware": FIRMWARE}, [])
    assert "<h2 id='firmware'>Firmware</h2>" in text
    assert 'href="#firmware"' in text
    assert "fw-&lt;default&gt;" in text
    assert "325 / 120 / 0" in text
    assert "71,234 / 5,120 / 4" in text
    assert "l1sim_top" in text


def test_no_firmware_no_section(example_summary: dict[str, Any]) -> None:
    assert "id='firmware'" not in render_html(example_summary, [])


def test_firmware_section_fields_are_checked(
    example_summary: dict[str, Any], tmp_path: Path
) -> None:
    path = tmp_path / "summary.json"
    write_summary(path, {**example_summary, "firmware": FIRMWARE})
    assert read_summary(path)["firmware"]["latency_cycles"] == 17
    broken = json.loads(path.read_text())
    broken["firmware"]["algorithms"][0]["latency_ns"] = "fast"
    path.write_text(json.dumps(broken))
    with pytest.raises(Exception, match=r"firmware\.algorithms\[0\]\.latency_ns"):
        read_summary(path)
