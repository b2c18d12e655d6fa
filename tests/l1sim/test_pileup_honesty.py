"""The report never states a pile-up that was not applied, a negative rate, or a green
750 kHz check on a sample that is not minimum bias."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import streams
from l1sim.cli import main

REFERENCE = Path(__file__).resolve().parents[2] / ".." / "shared" / "reference" / "events"


def _events_with_own_pileup(path: Path, field: str) -> Path:
    """A Parquet file of synthetic events that carry ``field`` (their own pile-up)."""
    batches = []
    for batch in streams.open("synthetic:background?n=800&seed=61"):
        n = len(batch)
        value = (
            {"true_interactions": np.full(n, 35.0, np.float32)}
            if field == "true_interactions"
            else {"n_vertices": np.full(n, 22, np.int32)}
        )
        batches.append(dataclasses.replace(batch, **value))
    streams.write_parquet(batches, path)
    return path


def _error(capsys: pytest.CaptureFixture[str]) -> str:
    lines = [line for line in capsys.readouterr().err.splitlines() if "error" in line]
    assert len(lines) == 1, lines
    return lines[0]


@pytest.mark.parametrize("field", ["true_interactions", "n_vertices"])
def test_pileup_is_refused_for_inputs_with_their_own(
    field: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    events = _events_with_own_pileup(tmp_path / "own.parquet", field)
    out = tmp_path / "out"
    assert main(["run", str(events), "--out", str(out), "--pileup", "140"]) == 1
    line = _error(capsys)
    assert "own.parquet" in line
    assert "carries its own pile-up" in line
    assert ("35 interactions" if field == "true_interactions" else "22 reconstructed") in line
    assert "--pileup 140" in line
    assert not out.exists()


@pytest.mark.parametrize("name", ["uproot-HZZ.root", "nanoAOD_2015_CMS_Open_Data_ttbar.root"])
def test_pileup_is_refused_for_the_real_files(
    name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = REFERENCE / name
    if not path.is_file():
        pytest.skip(f"reference file {path.resolve()} is absent")
    assert main(["run", str(path), "--out", str(tmp_path / "out"), "--pileup", "140"]) == 1
    assert "carries its own pile-up" in _error(capsys)


def _run(tmp_path: Path, *argv: str) -> tuple[dict[str, Any], str]:
    out = tmp_path / "out"
    assert main(["run", *argv, "--out", str(out)]) == 0
    summary: dict[str, Any] = json.loads((out / "summary.json").read_text())
    return summary, (out / "report.html").read_text(encoding="utf-8")


def test_an_overlay_is_reported_and_binned_as_applied(tmp_path: Path) -> None:
    summary, html = _run(tmp_path, "synthetic:background?n=3000&seed=62", "--pileup", "40")
    assert summary["inputs"]["pileup"] == "Poisson μ = 40 overlaid on every colliding BX"
    section = summary["rate_vs_pileup"]
    assert section["key"] == "mu"
    # binned in the Poisson mean: one value, so one bin, and no fit pretending otherwise
    assert section["series"]["total (final OR)"]["mu"] == pytest.approx([40.0])
    assert "fit" not in section["series"]["total (final OR)"]
    assert any("no fit" in note for note in section["notes"])
    assert summary["inputs"]["minimum_bias"] is True  # synthetic background
    assert "below the 750 kHz limit" in html


def test_a_file_is_not_minimum_bias_unless_declared(tmp_path: Path) -> None:
    events = tmp_path / "events.parquet"
    streams.write_parquet(streams.open("synthetic:background?n=1500&seed=63"), events)
    summary, html = _run(tmp_path / "a", str(events))
    assert summary["inputs"]["minimum_bias"] is False
    assert summary["rates"]["within_limit"] is None
    assert "below the 750 kHz limit" not in html
    assert "not a minimum-bias sample" in html
    assert "Not minimum bias." in html
    declared, html = _run(tmp_path / "b", str(events), "--minimum-bias")
    assert declared["inputs"]["minimum_bias"] is True
    assert declared["inputs"]["minimum_bias_reason"] == "declared with --minimum-bias"
    assert "Not minimum bias." not in html


@pytest.mark.slow
@pytest.mark.parametrize("name", ["uproot-HZZ.root", "nanoAOD_2015_CMS_Open_Data_ttbar.root"])
def test_real_files_front_page(name: str, tmp_path: Path) -> None:
    path = REFERENCE / name
    if not path.is_file():
        pytest.skip(f"reference file {path.resolve()} is absent")
    summary, html = _run(tmp_path, str(path))
    section = summary["rate_vs_pileup"]
    fit = section["series"]["total (final OR)"]["fit"]
    # the issue: -9 469 MHz (HZZ) and -1 914 MHz (NanoAOD) on the front page
    assert fit["rate_at_target_hz"] is None or fit["rate_at_target_hz"] >= 0
    assert "extrapolated to μ" not in html
    assert "-9" not in html.split("<h2 id='run'>")[0]  # nothing negative among the cards
    if name == "uproot-HZZ.root":  # vertices, labelled as vertices
        assert section["key"] == "n_vertices"
        assert "not μ" in section["variable"]
        assert summary["inputs"]["pileup"].startswith("as in the input (reconstructed vertices")
    else:  # Pileup_nTrueInt is μ; 200 is far beyond 8-25
        assert section["key"] == "true_interactions"
        assert any("far beyond" in note for note in section["notes"])
    assert "χ²/ndf" in html or "χ² / ndf" in html
    assert summary["inputs"]["minimum_bias"] is False
    assert "below the 750 kHz limit" not in html
    assert "not a minimum-bias sample" in html
