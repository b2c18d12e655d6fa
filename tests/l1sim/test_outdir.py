"""Output directories appear whole or not at all."""

from __future__ import annotations

from pathlib import Path

import pytest

from l1sim._errors import UserError
from l1sim._outdir import staged_directory, write_bytes_atomic


def test_success_renames_into_place(tmp_path: Path) -> None:
    target = tmp_path / "out"
    with staged_directory(target) as staging:
        assert staging.parent == tmp_path
        assert not target.exists()
        (staging / "summary.json").write_text("{}")
    assert (target / "summary.json").read_text() == "{}"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]
    assert target.stat().st_mode & 0o055  # not the 0700 of a temporary directory


def _write_then_fail(target: Path) -> None:
    """Stage a half-written output, then fail as a crashing run would."""
    with staged_directory(target) as staging:
        (staging / "decisions.parquet").write_bytes(b"half")
        raise RuntimeError("boom")


def test_failure_leaves_nothing(tmp_path: Path) -> None:
    target = tmp_path / "deep" / "er" / "out"
    with pytest.raises(RuntimeError, match="boom"):
        _write_then_fail(target)
    assert list(tmp_path.iterdir()) == []  # the parents it created are gone too


def test_earlier_output_is_replaced(tmp_path: Path) -> None:
    target = tmp_path / "out"
    target.mkdir()
    (target / "summary.json").write_text("old")
    (target / "stale.png").write_bytes(b"old")
    with staged_directory(target) as staging:
        (staging / "summary.json").write_text("new")
    assert sorted(p.name for p in target.iterdir()) == ["summary.json"]
    assert (target / "summary.json").read_text() == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_failed_rerun_keeps_the_earlier_output(tmp_path: Path) -> None:
    target = tmp_path / "out"
    target.mkdir()
    (target / "summary.json").write_text("old")
    with pytest.raises(RuntimeError), staged_directory(target):
        raise RuntimeError
    assert (target / "summary.json").read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


@pytest.mark.parametrize("kind", ["file", "foreign directory"])
def test_refuses_to_replace_something_else(tmp_path: Path, kind: str) -> None:
    target = tmp_path / "precious"
    if kind == "file":
        target.write_text("keep me")
    else:
        target.mkdir()
        (target / "thesis.tex").write_text("keep me")
    with (
        pytest.raises(UserError, match="exists and is not an l1sim output"),
        staged_directory(target),
    ):
        pass
    assert "precious" in {p.name for p in tmp_path.iterdir()}
    assert len(list(tmp_path.iterdir())) == 1


def test_write_bytes_atomic(tmp_path: Path) -> None:
    path = tmp_path / "a.bin"
    write_bytes_atomic(path, b"one")
    write_bytes_atomic(path, b"two")
    assert path.read_bytes() == b"two"
    assert [p.name for p in tmp_path.iterdir()] == ["a.bin"]
