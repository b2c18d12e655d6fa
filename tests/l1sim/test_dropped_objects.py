"""Objects beyond the hardware's fixed slots are counted in summary.json and the report
(issue 8): the replay truncates as the firmware does, and says how much it left out."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

import streams
from l1sim.cli import main
from streams import EventBatch, Objects


def test_dropped_objects_in_summary_and_report(tmp_path: Path) -> None:
    n, jets = 100, 20
    pt = np.tile(np.linspace(60.0, 20.0, jets), n)
    objects = {
        "jet": Objects.from_counts(np.full(n, jets), pt, np.zeros(n * jets), np.zeros(n * jets)),
        "muon": Objects.from_counts(np.full(n, 1), np.full(n, 5.0), np.zeros(n), np.zeros(n)),
    }
    batch = EventBatch.from_events(np.arange(n), np.zeros(n), np.zeros(n), objects)
    path = tmp_path / "crowded.parquet"
    streams.write_parquet([batch], path)
    out = tmp_path / "out"
    assert main(["run", str(path), "--out", str(out)]) == 0
    summary = json.loads((out / "summary.json").read_text())
    section = summary["dropped_objects"]
    assert section["slots"]["jet"] == 12
    assert section["collections"]["jet"] == n * (jets - 12)
    assert section["collections"]["muon"] == 0
    html = (out / "report.html").read_text()
    assert "Objects beyond the hardware slots" in html
    assert f"{n * (jets - 12):,}" in html or str(n * (jets - 12)) in html
