"""One rate normalisation in every table, plot and command, on inputs that end mid-orbit.

Real files rarely fill whole orbits: ``streams.timeline.place`` completes the last
orbit with empty colliding slots, which never enter a number. The rates table of
``summary.json``, ``l1sim rates``, the overlap diagonal, the threshold scan and the
efficiency-versus-rate curve at the menu threshold must all give the same rate, and
that rate must equal an independent count over the input's events read here with
pyarrow from the raw columns of ``decisions.parquet``.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.parquet as pq
import pytest

from l1sim.cli import main

F_REV = 11245.6
REFERENCE = Path(__file__).resolve().parents[2] / ".." / "shared" / "reference" / "events"


def _run(tmp_path: Path, inputs: list[str], *extra: str) -> tuple[Path, dict[str, Any]]:
    out = tmp_path / "out"
    assert main(["run", *inputs, "--out", str(out), *extra]) == 0
    summary: dict[str, Any] = json.loads((out / "summary.json").read_text())
    return out, summary


def _rates_command(out: Path, capsys: pytest.CaptureFixture[str], *extra: str) -> str:
    capsys.readouterr()
    assert main(["rates", str(out), *extra]) == 0
    text: str = capsys.readouterr().out
    return text


def _printed_khz(text: str, label: str) -> float:
    """The rate [kHz] printed on the row of ``label`` (the first number before ``±``)."""
    line = next(row for row in text.splitlines() if row.startswith(label + " "))
    match = re.search(r"(\S+) ± ", line)
    assert match, line
    return float(match.group(1))


def _check_one_normalisation(
    out: Path, summary: dict[str, Any], n_events: int, capsys: pytest.CaptureFixture[str]
) -> None:
    table = pq.read_table(out / "decisions.parquet")
    counted = table.column("colliding").to_numpy() & (table.column("event_id").to_numpy() >= 0)
    assert int(counted.sum()) == n_events  # every input event, once
    assert table.column("colliding").to_numpy().sum() > n_events  # and padding was replayed
    assert summary["normalisation"]["n_colliding_bx"] == n_events
    per_bx = F_REV * summary["normalisation"]["colliding_bunches"] / n_events
    text = _rates_command(out, capsys)
    assert f"rates over {n_events} counted BX" in text
    overlap = summary["overlap"]
    for seed in summary["rates"]["seeds"]:
        name = seed["name"]
        independent = table.column(f"prescaled.{name}").to_numpy()[counted].sum() * per_bx
        assert seed["rate_hz"] == pytest.approx(independent, rel=1e-12), name
        assert _printed_khz(text, name) == pytest.approx(seed["rate_hz"] / 1e3, rel=1e-3), name
        index = overlap["seeds"].index(name)
        diagonal = overlap["rate_hz"][index][index]
        assert diagonal == pytest.approx(0.0 if seed["masked"] else seed["rate_hz"], rel=1e-12)
        scan = summary["rate_vs_threshold"].get(name)
        if scan is not None:  # the report's scan passes through the menu threshold
            at_menu = scan["rate_hz"][scan["thresholds"].index(scan["threshold"])]
            assert at_menu == pytest.approx(seed["unprescaled_rate_hz"], rel=1e-12), name
        curve = (summary.get("efficiency_vs_rate") or {}).get(name)
        if curve is not None:
            assert curve["menu_threshold"]["rate_hz"] == pytest.approx(
                seed["unprescaled_rate_hz"], rel=1e-12
            )
    total = summary["rates"]["total"]["rate_hz"]
    assert _printed_khz(text, "total (OR)") == pytest.approx(total / 1e3, rel=1e-3)
    l1a = summary["rates"]["l1_accept"]["rate_hz"]
    assert _printed_khz(text, "L1 accept") == pytest.approx(l1a / 1e3, rel=1e-3)
    assert l1a <= total * (1 + 1e-12)  # the trigger rules only remove accepts
    for histogram in (summary.get("score_distributions") or {}).values():
        assert sum(histogram["background"]) <= n_events


def test_synthetic_input_ending_mid_orbit(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """3000 events: one orbit of 2760 and 240 events of a second one (2520 empty slots)."""
    background = "synthetic:background?n=3000&seed=41"
    signal = "synthetic:A_4l?n=400&seed=42"
    out, summary = _run(tmp_path, [background], "--signal", signal)
    _check_one_normalisation(out, summary, 3000, capsys)


def test_too_small_a_sample_for_a_target_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out, summary = _run(tmp_path, ["synthetic:background?n=300&seed=43"])
    seed = next(s["name"] for s in summary["rates"]["seeds"] if s["kind"] == "nn")
    text = _rates_command(out, capsys, "--seed", seed, "--target-rate", "10000")
    line = next(row for row in text.splitlines() if row.startswith(f"{seed}:"))
    # one accepted BX among 300 is 103 kHz: a 10 kHz threshold cannot be measured
    assert "no threshold" in line
    assert "too small" in line
    assert "gives" not in line  # no threshold "giving 0 kHz"
    for entry in summary["thresholds_for_target"]:
        assert entry["found"] is False
        assert entry["threshold"] is None
        assert entry["rate_hz"] is None
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "the sample is too small" in html


@pytest.mark.slow
@pytest.mark.parametrize(
    ("name", "n_events"),
    [("uproot-HZZ.root", 2421), ("nanoAOD_2015_CMS_Open_Data_ttbar.root", 200)],
)
def test_real_files_ending_mid_orbit(
    name: str, n_events: int, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = REFERENCE / name
    if not path.is_file():
        pytest.skip(f"reference file {path.resolve()} is absent")
    out, summary = _run(tmp_path, [str(path)])
    _check_one_normalisation(out, summary, n_events, capsys)
    if name == "uproot-HZZ.root":  # the number from the issue: 30.2 MHz, not 26.5 MHz
        seed = next(s for s in summary["rates"]["seeds"] if s["name"] == "L1_SingleMu22")
        assert seed["rate_hz"] == pytest.approx(30.2e6, rel=2e-3)
    assert np.isfinite(summary["rates"]["total"]["rate_hz"])
