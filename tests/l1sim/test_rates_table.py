"""``l1sim rates --table``: the menu tools' rate table of a run's decisions.

One number, one definition: every rate of the table equals the one summary.json and
the plain ``l1sim rates`` give for the same seed; the cumulative column is checked
against an OR computed here from the raw columns of decisions.parquet (pyarrow).
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.parquet as pq
import pytest

from l1sim.cli import main

ORBIT = 3564
F_REV = 11245.6
REFERENCE = Path(__file__).parents[2].parent / "shared" / "reference"
XML = REFERENCE / "menus" / "L1Menu_Collisions2016_v2c.xml"
NANO = REFERENCE / "events" / "nanoAOD_2015_CMS_Open_Data_ttbar.root"


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small run with pile-up (so that most seeds fire) over two orbits."""
    out = tmp_path_factory.mktemp("run") / "out"
    background = "synthetic:background?n=6000&seed=21"
    argv = ["run", background, "--out", str(out), "--pileup", "40", "--max-bx", str(2 * ORBIT)]
    assert main(argv) == 0
    return out


@pytest.fixture(scope="module")
def summary(run_dir: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((run_dir / "summary.json").read_text())
    return loaded


def _json_table(run_dir: Path, capsys: pytest.CaptureFixture[str], *extra: str) -> dict[str, Any]:
    capsys.readouterr()
    assert main(["rates", str(run_dir), "--table-format", "json", *extra]) == 0
    table: dict[str, Any] = json.loads(capsys.readouterr().out)
    return table


def test_table_rates_equal_the_summary_and_the_plain_output(
    run_dir: Path, summary: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    table = _json_table(run_dir, capsys)
    rows = {row["name"]: row for row in table["rows"]}
    assert list(rows) == [seed["name"] for seed in summary["rates"]["seeds"]]  # menu order
    for seed in summary["rates"]["seeds"]:
        row = rows[seed["name"]]
        assert row["prescaled"]["rate_hz"] == seed["rate_hz"]  # the same float, bit for bit
        assert row["prescaled"]["rate_err_hz"] == seed["error_hz"]
        assert row["unprescaled"]["rate_hz"] == seed["unprescaled_rate_hz"]
        assert row["pure"]["rate_hz"] == seed["pure_rate_hz"]
        assert row["pure"]["rate_err_hz"] == seed["pure_error_hz"]
        assert row["prescaled"]["n_accepted"] == seed["count"]
    assert table["total"]["rate_hz"] == summary["rates"]["total"]["rate_hz"]
    assert table["rows"][-1]["cumulative"]["rate_hz"] == summary["rates"]["total"]["rate_hz"]
    assert table["n_bx"] == summary["normalisation"]["n_colliding_bx"]
    # the plain table prints the same numbers (4 significant digits)
    assert main(["rates", str(run_dir)]) == 0
    plain = capsys.readouterr().out
    for seed in summary["rates"]["seeds"]:
        line = next(x for x in plain.splitlines() if x.split()[:1] == [seed["name"]])
        value = rows[seed["name"]]["prescaled"]["rate_hz"] / 1e3
        assert f"{value:.4g} ± " in line


def test_cumulative_column_against_the_raw_columns(
    run_dir: Path, summary: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    columns = pq.read_table(run_dir / "decisions.parquet")
    counted = columns.column("colliding").to_numpy() & columns.column("has_event").to_numpy()
    names = [seed["name"] for seed in summary["rates"]["seeds"]]
    passed = {n: columns.column(f"prescaled.{n}").to_numpy()[counted] for n in names}
    masked = {seed["name"] for seed in summary["rates"]["seeds"] if seed["masked"]}
    scale = F_REV * summary["normalisation"]["colliding_bunches"] / counted.sum()
    for order, extra in (
        ("menu", ()),
        ("rate", ("--order", "rate")),
        ("listed", ("--order", f"{names[-1]},{names[0]}")),
    ):
        table = _json_table(run_dir, capsys, *extra)
        listed = [row["name"] for row in table["rows"]]
        if order == "menu":
            assert listed == names
        elif order == "rate":
            after = [row["prescaled"]["n_accepted"] for row in table["rows"]]
            assert after == sorted(after, reverse=True)
        else:
            assert listed == [names[-1], names[0], *names[1:-1]]
        union = np.zeros(int(counted.sum()), bool)
        for row in table["rows"]:
            if row["name"] not in masked:
                union |= passed[row["name"]]
            assert row["cumulative"]["n_accepted"] == union.sum()
            assert row["cumulative"]["rate_hz"] == pytest.approx(union.sum() * scale, rel=1e-12)


def test_zero_counts_are_upper_limits(run_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    table = _json_table(run_dir, capsys, "--order", "rate", "--cl", "95")
    n_bx = table["n_bx"]
    scale = F_REV * 2760
    zero = [row for row in table["rows"] if row["pure"]["n_accepted"] == 0]
    assert zero, "every seed has a pure rate: the test needs a seed without one"
    for row in table["rows"]:
        for column in ("unprescaled", "prescaled", "pure", "cumulative"):
            entry = row[column]
            if entry["n_accepted"] == 0:
                assert entry["upper_limit_hz"] == pytest.approx(
                    (1 - 0.05 ** (1 / n_bx)) * scale, rel=1e-12
                )
            else:
                assert entry["upper_limit_hz"] is None
    assert main(["rates", str(run_dir), "--table", "--cl", "95"]) == 0
    text = capsys.readouterr().out
    assert "< " in text
    assert "(95% CL)" in text
    assert not re.search(r"(?<![\d.])0(\.0+)? ± 0(\.0+)?\b", text)  # never "0 ± 0"


def test_csv_has_one_row_per_seed(
    run_dir: Path, summary: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    table = _json_table(run_dir, capsys)
    assert main(["rates", str(run_dir), "--table-format", "csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert [row["name"] for row in rows] == [seed["name"] for seed in summary["rates"]["seeds"]]
    for row, expected in zip(rows, table["rows"], strict=True):
        assert float(row["prescaled_rate_hz"]) == expected["prescaled"]["rate_hz"]
        assert float(row["cumulative_rate_hz"]) == expected["cumulative"]["rate_hz"]
        limit = expected["pure"]["upper_limit_hz"]
        assert (row["pure_upper_limit_hz"] == "") == (limit is None)
        if limit is not None:
            assert math.isclose(float(row["pure_upper_limit_hz"]), limit, rel_tol=1e-15)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--order", "L1_Nope"], "unknown seed 'L1_Nope'"),
        (["--order", ","], "give menu, rate or seed names"),
        (["--table", "--seed", "L1_SingleMu22"], "takes no --seed"),
    ],
)
def test_bad_table_options_name_the_problem(
    run_dir: Path, argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    assert main(["rates", str(run_dir), *argv]) == 1
    assert message in capsys.readouterr().err


@pytest.mark.slow
@pytest.mark.skipif(not (XML.is_file() and NANO.is_file()), reason="reference files not available")
def test_table_of_the_2016_menu_on_nanoaod(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "run"
    argv = ["run", str(NANO), "--menu", str(XML), "--prescale-column", "1", "--out", str(out)]
    assert main(argv) == 0
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    table = _json_table(out, capsys, "--order", "rate")
    assert len(table["rows"]) == 175
    by_name = {seed["name"]: seed for seed in summary["rates"]["seeds"]}
    for row in table["rows"]:
        assert row["prescaled"]["rate_hz"] == by_name[row["name"]]["rate_hz"]
    assert table["rows"][-1]["cumulative"]["rate_hz"] == summary["rates"]["total"]["rate_hz"]
    assert main(["rates", str(out), "--table"]) == 0
    text = capsys.readouterr().out
    assert "L1_SingleMu22" in text
    assert "not a minimum-bias sample" in text
