"""What ``l1sim run`` does with its inputs: unique signal names, events --max-bx left out,
and ``--format`` for files whose extension says nothing (issue 11)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

import streams
from l1sim.cli import main
from streams import synthetic

BACKGROUND = "synthetic:background?n=3000&seed=5"


def _summary(out: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((out / "summary.json").read_text())
    return loaded


def test_signals_with_the_same_file_stem_keep_their_own_names(tmp_path: Path) -> None:
    for directory, process, n in (("sigA", "A_4l", 300), ("sigB", "h_tautau", 200)):
        (tmp_path / directory).mkdir()
        streams.write_parquet(
            synthetic.generate(process, n, seed=3), tmp_path / directory / "events.parquet"
        )
    out = tmp_path / "out"
    signals = [str(tmp_path / d / "events.parquet") for d in ("sigA", "sigB")]
    assert main(["run", BACKGROUND, "--out", str(out), "--signal", *signals]) == 0
    entries = {s["name"]: s["n_events"] for s in _summary(out)["signals"]}
    assert entries == {"sigA/events": 300, "sigB/events": 200}


def test_the_same_synthetic_process_twice_keeps_both(tmp_path: Path) -> None:
    out = tmp_path / "out"
    signals = ["synthetic:A_4l?n=300&seed=1", "synthetic:A_4l?n=200&seed=2"]
    assert main(["run", BACKGROUND, "--out", str(out), "--signal", *signals]) == 0
    entries = {s["name"]: s["n_events"] for s in _summary(out)["signals"]}
    assert entries == {"A_4l?n=300&seed=1": 300, "A_4l?n=200&seed=2": 200}


def test_the_same_signal_given_twice_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "sig.parquet"
    streams.write_parquet(synthetic.generate("A_4l", 100, seed=3), path)
    argv = ["run", BACKGROUND, "--out", str(tmp_path / "o"), "--signal", str(path)]
    assert main([*argv, str(tmp_path / "." / "sig.parquet")]) == 1
    assert "given twice" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_max_bx_says_how_many_events_it_left_out(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    assert (
        main(["run", "synthetic:background?n=6000&seed=5", "--out", str(out), "--max-bx", "3564"])
        == 0
    )
    inputs = _summary(out)["inputs"]
    assert inputs["events_replayed"] == 2760
    assert inputs["events_not_replayed"] == 6000 - 2760
    assert "3240 of 6000 input events were not replayed" in capsys.readouterr().err


def test_max_bx_that_replays_everything_says_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    assert (
        main(["run", "synthetic:background?n=1000&seed=5", "--out", str(out), "--max-bx", "3564"])
        == 0
    )
    assert _summary(out)["inputs"]["events_not_replayed"] == 0
    assert "not replayed" not in capsys.readouterr().err


def test_format_option_reads_a_file_with_an_unknown_extension(tmp_path: Path) -> None:
    path = tmp_path / "events.parquet"
    streams.write_parquet(synthetic.generate("background", 2000, seed=4), path)
    odd = tmp_path / "events.dat"
    shutil.copy(path, odd)
    # the magic bytes find Parquet anyway; --format makes it explicit and must agree
    assert main(["run", str(odd), "--format", "parquet", "--out", str(tmp_path / "a")]) == 0
    assert _summary(tmp_path / "a")["normalisation"]["n_colliding_bx"] == 2000


def test_format_option_for_a_csv_without_signature(tmp_path: Path) -> None:
    line = "7;proc;1.0;15000;0.3;j,60000,50000,0.5,0.1;m+,30000,25000,-1.0,2.0;\n"
    odd = tmp_path / "events.txt"
    odd.write_text(line * 50)
    assert main(["run", str(odd), "--format", "csv", "--out", str(tmp_path / "a")]) == 0
    assert main(["run", f"darkmachines:{odd}", "--out", str(tmp_path / "b")]) == 0


def test_unknown_format_error_suggests_the_cli_option(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    odd = tmp_path / "events.xyz"
    odd.write_text("nothing recognisable here\n")
    assert main(["run", str(odd), "--out", str(tmp_path / "o")]) == 1
    err = capsys.readouterr().err
    assert "--format" in err
    assert "format=" not in err
    assert main(["run", str(odd), "--format", "nonsense", "--out", str(tmp_path / "o")]) in (1, 2)
