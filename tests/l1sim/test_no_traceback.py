"""Bad values where they enter give one line naming file and field, never a traceback
(issue 11): filling schemes, summary.json, decisions metadata, a full disk."""

from __future__ import annotations

import errno
import json
import shutil
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from l1sim.cli import main

BACKGROUND = "synthetic:background?n=3000&seed=9"


def _error(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if line.startswith("l1sim: error:")]
    assert len(lines) == 1, err
    return lines[0]


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("run") / "out"
    assert main(["run", BACKGROUND, "--out", str(out), "--max-bx", "3564"]) == 0
    return out


def _copy(run_dir: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "copy"
    shutil.copytree(run_dir, copy)
    return copy


@pytest.mark.parametrize(
    ("content", "field"),
    [
        ('{"colliding_bx": [1e30]}', "colliding_bx[0]"),
        ('{"colliding_bx": [12, "x"]}', "colliding_bx[1]"),
        ('{"colliding_bx": 7}', "colliding_bx"),
        ('{"trains": [[1000000000, 8]]}', "trains[0][0]"),
        ('{"trains": [[72, 8, 3]]}', "trains[0]"),
        ('{"trains": [[72, 8]], "first_bx": -4}', "first_bx"),
    ],
)
def test_a_bad_filling_scheme_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str, field: str
) -> None:
    scheme = tmp_path / "scheme.json"
    scheme.write_text(content)
    out = tmp_path / "out"
    assert main(["run", BACKGROUND, "--scheme", str(scheme), "--out", str(out)]) == 1
    line = _error(capsys)
    assert str(scheme) in line
    assert field in line
    assert not out.exists()


def test_a_non_utf8_scheme_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    scheme = tmp_path / "scheme.txt"
    scheme.write_bytes(b"12 13 \xff\xfe 14\n")
    assert main(["run", BACKGROUND, "--scheme", str(scheme), "--out", str(tmp_path / "o")]) == 1
    line = _error(capsys)
    assert str(scheme) in line
    assert "UTF-8" in line


def _edit_summary(directory: Path, edit: Any) -> None:
    path = directory / "summary.json"
    summary = json.loads(path.read_text())
    edit(summary)
    path.write_text(json.dumps(summary))


def test_report_refuses_a_string_rate(
    run_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    copy = _copy(run_dir, tmp_path)
    _edit_summary(copy, lambda s: s["rates"]["seeds"][0].update(rate_hz="fast"))
    before = {p.name: p.stat().st_mtime_ns for p in copy.iterdir()}
    assert main(["report", str(copy)]) == 1
    line = _error(capsys)
    assert "summary.json" in line
    assert "'rates.seeds[0].rate_hz'" in line
    assert {p.name: p.stat().st_mtime_ns for p in copy.iterdir()} == before


def test_rates_refuses_a_list_normalisation(
    run_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    copy = _copy(run_dir, tmp_path)
    _edit_summary(copy, lambda s: s.update(normalisation=[1, 2]))
    assert main(["rates", str(copy)]) == 1
    line = _error(capsys)
    assert "summary.json" in line
    assert "'normalisation'" in line


@pytest.mark.parametrize(
    ("edit", "field"),
    [
        (lambda m: m.pop("seeds"), "'seeds'"),
        (lambda m: m["seeds"][0].pop("masked"), "'seeds[0].masked'"),
        (lambda m: m["seeds"][1].update(threshold_raw="12"), "'seeds[1].threshold_raw'"),
    ],
)
def test_rates_refuses_decisions_metadata_without_seeds(
    run_dir: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    edit: Any,
    field: str,
) -> None:
    copy = _copy(run_dir, tmp_path)
    path = copy / "decisions.parquet"
    table = pq.read_table(path)
    metadata = json.loads(table.schema.metadata[b"l1sim.decisions"])
    edit(metadata)
    table = table.replace_schema_metadata({b"l1sim.decisions": json.dumps(metadata).encode()})
    pq.write_table(table, path)
    assert main(["rates", str(copy)]) == 1
    line = _error(capsys)
    assert "decisions.parquet" in line
    assert field in line


def test_a_full_disk_is_one_line_naming_the_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def full(*_args: object, **_kwargs: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(pq.ParquetWriter, "write_table", full)
    monkeypatch.setattr(pq.ParquetWriter, "write_batch", full)
    mine = tmp_path / "notes.txt"
    mine.write_text("keep me")
    out = tmp_path / "out"
    assert main(["run", BACKGROUND, "--out", str(out), "--max-bx", "3564"]) == 1
    line = _error(capsys)
    assert "decisions.parquet" in line
    assert "No space left on device" in line
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"]
    assert mine.read_text() == "keep me"
