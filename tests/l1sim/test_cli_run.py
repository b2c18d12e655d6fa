"""``l1sim run``, ``rates``, ``report`` and ``demo`` end to end on small synthetic inputs.

Rates in summary.json are checked against a rate computed here, independently, from
the raw columns of decisions.parquet (pyarrow, not the l1sim reader): accepted
colliding BX / colliding BX x 11245.6 Hz x colliding bunches.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.parquet as pq
import pytest

from l1sim._outdir import LEDGER_NAME
from l1sim.cli import main

ORBIT = 3564
F_REV = 11245.6
PNGS = {
    "rate_vs_threshold.png",
    "rate_vs_pileup.png",
    "score_distributions.png",
    "efficiency_vs_rate.png",
    "latency.png",
    "occupancy.png",
}
BACKGROUND = "synthetic:background?n=6000&seed=11"
SIGNAL = "synthetic:A_4l?n=600&seed=12"


def _one_error_line(capsys: pytest.CaptureFixture[str]) -> str:
    lines = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    errors = [line for line in lines if "error" in line]
    assert len(errors) == 1, lines
    assert errors[0].startswith("l1sim: error: ")
    return errors[0]


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One small run with pile-up and a signal, shared by the read-only checks below."""
    out = tmp_path_factory.mktemp("run") / "out"
    argv = ["run", BACKGROUND, "--out", str(out), "--pileup", "40", "--max-bx", str(2 * ORBIT)]
    assert main([*argv, "--signal", SIGNAL]) == 0
    return out


@pytest.fixture(scope="module")
def summary(run_dir: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((run_dir / "summary.json").read_text())
    return loaded


def test_run_writes_every_output(run_dir: Path) -> None:
    names = {p.name for p in run_dir.iterdir()}
    assert names == {"decisions.parquet", "summary.json", "report.html", LEDGER_NAME, *PNGS}
    assert not [p for p in run_dir.parent.iterdir() if p.name.startswith(".")]


def test_summary_rates_match_the_raw_columns(run_dir: Path, summary: dict[str, Any]) -> None:
    table = pq.read_table(run_dir / "decisions.parquet")
    colliding = table.column("colliding").to_numpy()
    n_colliding_bx = int(colliding.sum())
    assert summary["normalisation"]["n_bx"] == table.num_rows == 2 * ORBIT
    assert summary["normalisation"]["n_colliding_bx"] == n_colliding_bx == 2 * 2760
    scale = F_REV * 2760 / n_colliding_bx
    for seed in summary["rates"]["seeds"]:
        passed = table.column(f"prescaled.{seed['name']}").to_numpy() & colliding
        assert seed["count"] == int(passed.sum())
        assert seed["rate_hz"] == pytest.approx(passed.sum() * scale, rel=1e-12)
        p = passed.sum() / n_colliding_bx
        assert seed["error_hz"] == pytest.approx(
            np.sqrt(p * (1 - p) / n_colliding_bx) * F_REV * 2760, rel=1e-9
        )
        assert 0 <= seed["pure_rate_hz"] <= seed["rate_hz"]
    l1a = table.column("l1a").to_numpy() & colliding
    assert summary["rates"]["l1_accept"]["rate_hz"] == pytest.approx(l1a.sum() * scale)
    final_or = table.column("final_or").to_numpy() & colliding
    assert summary["rates"]["total"]["rate_hz"] == pytest.approx(final_or.sum() * scale)
    assert summary["rates"]["total"]["rate_hz"] > 0  # pile-up 40 makes some seed fire
    dead = table.column("dead").to_numpy()[colliding]  # over the colliding BX that count
    assert summary["rates"]["deadtime_fraction"] == pytest.approx(dead.mean())


def test_summary_sections(summary: dict[str, Any]) -> None:
    from emulator.menu import default_menu

    names = [seed["name"] for seed in summary["rates"]["seeds"]]
    assert names == list(default_menu().seed_names)
    assert summary["schema"] == 2
    assert summary["inputs"]["background"] == [BACKGROUND]
    assert summary["inputs"]["signals"] == [SIGNAL]
    menu = default_menu()
    for seed in summary["rates"]["seeds"]:
        if seed["kind"] == "objects":  # the last leg's cut, rounded up to the 0.25 GeV LSB
            cut = menu.seed(seed["name"]).pt_thresholds[-1]
            assert cut <= seed["threshold"] < cut + 0.25
            assert seed["thresholds"] == list(menu.seed(seed["name"]).pt_thresholds)
    assert {s["name"] for s in summary["signals"]} == {"A_4l"}
    signal = summary["signals"][0]
    assert signal["n_events"] == 600
    assert 0.0 <= signal["l1_efficiency"] <= 1.0
    assert set(signal["efficiency"]) == set(names)
    timing = summary["timing"]
    assert timing["budget_us"] == 12.5
    assert timing["within_budget"] == (timing["total_latency_us"] <= 12.5)
    assert [a["name"] for a in timing["algorithms"]] == names
    occupancy = summary["occupancy"]
    assert len(occupancy["accepts"]) == ORBIT
    assert sum(occupancy["colliding"]) == 2 * 2760
    assert occupancy["n_orbits"] == 2
    for scan in summary["rate_vs_threshold"].values():
        rates = np.array(scan["rate_hz"])
        assert np.all(np.diff(rates) <= 1e-9)  # a higher threshold never raises the rate
    assert summary["rate_vs_pileup"]["series"]  # Poisson(40) spreads over several bins
    nn_seeds = {seed["name"] for seed in summary["rates"]["seeds"] if seed["kind"] == "nn"}
    assert len(nn_seeds) >= 2  # the default menu's autoencoder and CNF seeds
    assert {entry["seed"] for entry in summary["thresholds_for_target"]} == nn_seeds


def test_report_html_is_self_contained(run_dir: Path) -> None:
    text = (run_dir / "report.html").read_text(encoding="utf-8")
    assert len(re.findall(r'src="data:image/png;base64,', text)) == len(PNGS)
    stripped = re.sub(r"data:image/png;base64,[A-Za-z0-9+/=]+", "", text)
    assert not re.search(r"(?i)(https?:|@import|url\(|<script|<link|<iframe)", stripped)
    assert "L1_SingleMu22" in text


def test_rates_prints_every_seed(
    run_dir: Path, summary: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["rates", str(run_dir)]) == 0
    out = capsys.readouterr().out
    for seed in summary["rates"]["seeds"]:
        assert seed["name"] in out
    assert "L1 accept" in out


def test_rates_threshold_for_a_target(
    run_dir: Path, summary: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    seed = next(s["name"] for s in summary["rates"]["seeds"] if s["kind"] == "nn")
    target = 200e3
    argv = ["rates", str(run_dir / "decisions.parquet"), "--seed", seed, "--target-rate", "2e5"]
    assert main(argv) == 0
    line = next(x for x in capsys.readouterr().out.splitlines() if x.startswith(f"{seed}:"))
    raw = int(re.search(r"\(raw (-?\d+)\)", line).group(1))  # type: ignore[union-attr]
    table = pq.read_table(run_dir / "decisions.parquet")
    colliding = table.column("colliding").to_numpy()
    scores = table.column(f"score.{seed}").to_numpy()[colliding]
    per_bx = F_REV * 2760 / colliding.sum()
    assert (scores >= raw).sum() * per_bx <= target  # at most the target ...
    assert (scores >= raw - 1).sum() * per_bx > target  # ... and the lowest such threshold


def test_rates_unknown_seed(run_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["rates", str(run_dir), "--seed", "L1_Nope", "--target-rate", "1e3"]) == 1
    assert "unknown seed 'L1_Nope'" in _one_error_line(capsys)


def test_report_rerenders_a_run(run_dir: Path, tmp_path: Path) -> None:
    copy = tmp_path / "copy"
    copy.mkdir()
    (copy / "summary.json").write_bytes((run_dir / "summary.json").read_bytes())
    assert main(["report", str(copy)]) == 0
    assert {p.name for p in copy.iterdir()} == {"summary.json", "report.html", LEDGER_NAME, *PNGS}


def test_run_reads_a_parquet_file_and_a_scheme(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import streams

    events = tmp_path / "events.parquet"
    streams.write_parquet(streams.open("synthetic:background?n=3000&seed=3"), events)
    scheme = tmp_path / "scheme.txt"
    scheme.write_text("# two trains\n" + " ".join(str(b) for b in range(0, 1000, 2)) + "\n")
    menu = tmp_path / "menu.yaml"
    menu.write_text(
        "name: tiny\nseeds:\n"
        "  - {name: L1_SingleMu5, kind: single, collection: muon, pt: 5}\n"
        "  - {name: L1_HT100, kind: ht, collection: jet, object_pt: 20, threshold: 100}\n"
    )
    out = tmp_path / "out"
    argv = ["run", str(events), "--out", str(out), "--scheme", str(scheme), "--menu", str(menu)]
    assert main(argv) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["normalisation"]["colliding_bunches"] == 500
    assert summary["normalisation"]["n_colliding_bx"] >= 3000
    assert [s["name"] for s in summary["rates"]["seeds"]] == ["L1_SingleMu5", "L1_HT100"]
    assert "score_distributions" not in {p.stem for p in out.iterdir()}  # no signal given
    assert main(["rates", str(out)]) == 0  # normalised with the run's 500 bunches
    assert "counted BX" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("missing input", "no-such.parquet: no such file"),
        ("missing menu", "no-such-menu.yaml: no such menu file"),
        ("bad menu", "seed 'L1_Bad': field 'pt'"),
        ("unknown field", "field 'frobnicate'"),
        ("missing scheme", "no-such-scheme.txt: no such filling scheme file"),
        ("empty input", "no events to replay"),
        ("empty signal", "signal A_4l: no events to replay"),
        ("foreign out", "holds files l1sim did not write"),
    ],
)
def test_run_errors_leave_nothing(
    case: str, message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    argv = ["run", "synthetic:background?n=500&seed=1", "--out", str(out), "--max-bx", "3564"]
    if case == "missing input":
        argv[1] = str(tmp_path / "no-such.parquet")
    elif case == "missing menu":
        argv += ["--menu", str(tmp_path / "no-such-menu.yaml")]
    elif case in {"bad menu", "unknown field"}:
        menu = tmp_path / "menu.yaml"
        seed = (
            "{name: L1_Bad, kind: single, collection: muon, pt: fast}"
            if case == "bad menu"
            else "{name: L1_Ok, kind: single, collection: muon, pt: 5, frobnicate: 1}"
        )
        menu.write_text(f"name: broken\nseeds:\n  - {seed}\n")
        argv += ["--menu", str(menu)]
    elif case == "missing scheme":
        argv += ["--scheme", str(tmp_path / "no-such-scheme.txt")]
    elif case == "empty input":
        argv[1] = "synthetic:background?n=0&seed=1"
    elif case == "empty signal":
        argv += ["--signal", "synthetic:A_4l?n=0&seed=1"]
    elif case == "foreign out":
        out.mkdir()
        (out / "thesis.tex").write_text("keep me")
    assert main(argv) == 1
    line = _one_error_line(capsys)
    assert message in line
    if case == "foreign out":
        assert [p.name for p in out.iterdir()] == ["thesis.tex"]
    else:
        assert not out.exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


@pytest.mark.slow
def test_demo_small(tmp_path: Path) -> None:
    """The demo pipeline on one orbit (the full demo is `make demo`)."""
    out = tmp_path / "demo"
    assert main(["demo", "--out", str(out), "--max-bx", str(ORBIT)]) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert {s["name"] for s in summary["signals"]} == {"A_4l", "LQ_btau", "h_tautau", "hpm_taunu"}
    assert "levelled fill" in summary["inputs"]["pileup"]
    assert {p.name for p in out.iterdir()} >= {"report.html", "decisions.parquet", *PNGS}
    # re-running replaces the earlier output
    assert main(["demo", "--out", str(out), "--max-bx", str(ORBIT)]) == 0


REFERENCE = Path(__file__).resolve().parents[2] / ".." / "shared" / "reference" / "events"


def test_run_on_real_cms_files(tmp_path: Path) -> None:
    """A user's run on real CMS files: the 2012 tutorial tree and NanoAOD, a signal file."""
    background = REFERENCE / "uproot-HZZ.root"
    signal = REFERENCE / "ww.root"
    if not background.is_file() or not signal.is_file():
        pytest.skip(f"reference events not found in {REFERENCE.resolve()}")
    out = tmp_path / "real"
    argv = ["run", str(background), "--signal", str(signal), "--out", str(out)]
    assert main(argv) == 0
    summary = json.loads((out / "summary.json").read_text())
    table = pq.read_table(out / "decisions.parquet")
    has_event = table.column("has_event").to_numpy()
    assert int(has_event.sum()) == 2421  # every event of the file, once
    assert summary["signals"][0]["name"] == "ww"
    assert summary["signals"][0]["n_events"] == 4580
    # the tutorial tree carries NPrimaryVertices: the pile-up section uses it
    assert summary["rate_vs_pileup"]["key"] == "n_vertices"
    assert summary["rate_vs_pileup"]["variable"].startswith("reconstructed primary vertices")
