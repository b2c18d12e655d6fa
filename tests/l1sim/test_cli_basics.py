"""``l1sim --version/--help``, argument errors, and ``l1sim report`` on its own inputs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import l1sim
from l1sim._outdir import LEDGER_NAME
from l1sim._summary import SCHEMA_VERSION, write_summary
from l1sim.cli import main

SUBCOMMANDS = ("demo", "run", "rates", "report")


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.strip() == f"l1sim {l1sim.__version__}"


def test_help_lists_every_subcommand(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
    text = capsys.readouterr().out
    for command in SUBCOMMANDS:
        assert command in text


@pytest.mark.parametrize("command", SUBCOMMANDS)
def test_subcommand_help(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main([command, "--help"])
    assert exit_info.value.code == 0
    assert f"l1sim {command}" in capsys.readouterr().out


def test_console_script_runs_as_a_process() -> None:
    """The installed entry point, as a user types it."""
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from l1sim.cli import main; sys.exit(main())",
            "--version",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0
    assert result.stdout.strip() == f"l1sim {l1sim.__version__}"


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["frobnicate"],
        ["run", "--out", "x"],  # no INPUT
        ["run", "in.parquet"],  # no --out
        ["run", "in.parquet", "--out", "x", "--max-bx", "0"],
        ["run", "in.parquet", "--out", "x", "--pileup", "-3"],
        ["rates", "x", "--target-rate", "fast"],
    ],
)
def test_bad_command_lines_exit_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    assert "error:" in capsys.readouterr().err


def _one_error_line(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    assert err[0].startswith("l1sim: error: ")
    return err[0]


def test_report_rerenders_from_summary(
    example_summary: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_summary(tmp_path / "summary.json", example_summary)
    assert main(["report", str(tmp_path)]) == 0
    names = sorted(p.name for p in tmp_path.iterdir())
    assert "report.html" in names
    assert "rate_vs_threshold.png" in names
    assert not [n for n in names if n.startswith(".") and n != LEDGER_NAME]  # no staging left
    assert "report written" in capsys.readouterr().err


def test_report_on_missing_directory(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", str(tmp_path / "nowhere")]) == 1
    assert "nowhere: no such directory" in _one_error_line(capsys)


def test_report_without_summary(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", str(tmp_path)]) == 1
    assert "summary.json: no such file" in _one_error_line(capsys)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "not valid JSON"),
        ("[1, 2]", "expected a JSON object"),
        (json.dumps({"schema": 99, "rates": {"seeds": []}}), "field 'schema' is 99"),
        (json.dumps({"schema": SCHEMA_VERSION}), "'rates.seeds' is missing"),
        (
            json.dumps({"schema": SCHEMA_VERSION, "rates": {"seeds": [{"name": "x"}]}}),
            "rates.seeds[0]",
        ),
    ],
)
def test_report_on_bad_summary(
    content: str, message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "summary.json").write_text(content)
    assert main(["report", str(tmp_path)]) == 1
    line = _one_error_line(capsys)
    assert message in line
    assert "summary.json" in line
    assert sorted(p.name for p in tmp_path.iterdir()) == ["summary.json"]


def test_rates_needs_matching_targets(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["rates", str(tmp_path), "--seed", "A", "--seed", "B"]
    assert main([*argv, "--target-rate", "1", "--target-rate", "2", "--target-rate", "3"]) == 1
    assert "3 --target-rate values for 2 --seed" in _one_error_line(capsys)
    assert main(["rates", str(tmp_path), "--target-rate", "1000"]) == 1
    assert "needs at least one --seed" in _one_error_line(capsys)


def test_rates_on_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["rates", str(tmp_path / "decisions.parquet")]) == 1
    assert "decisions.parquet: no such file" in _one_error_line(capsys)
