"""Output directories appear whole or not at all."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from l1sim._errors import UserError
from l1sim._outdir import (
    LEDGER_NAME,
    read_ledger,
    remove_dead_staging,
    staged_directory,
    staged_files,
    write_bytes_atomic,
)


def test_success_renames_into_place(tmp_path: Path) -> None:
    target = tmp_path / "out"
    with staged_directory(target) as staging:
        assert staging.parent == tmp_path
        assert not target.exists()
        (staging / "summary.json").write_text("{}")
    assert (target / "summary.json").read_text() == "{}"
    assert read_ledger(target) == {"summary.json"}
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
    assert sorted(p.name for p in target.iterdir()) == [LEDGER_NAME, "summary.json"]
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
    message = "is not a directory" if kind == "file" else "holds files l1sim did not write"
    with pytest.raises(UserError, match=message), staged_directory(target):
        pass
    assert "precious" in {p.name for p in tmp_path.iterdir()}
    assert len(list(tmp_path.iterdir())) == 1


def test_write_bytes_atomic(tmp_path: Path) -> None:
    path = tmp_path / "a.bin"
    write_bytes_atomic(path, b"one")
    write_bytes_atomic(path, b"two")
    assert path.read_bytes() == b"two"
    assert [p.name for p in tmp_path.iterdir()] == ["a.bin"]


def _earlier_output(target: Path) -> None:
    with staged_directory(target) as staging:
        (staging / "summary.json").write_text("old")
        (staging / "old-plot.png").write_bytes(b"old")


def test_rerun_keeps_user_files_and_protects_inputs(tmp_path: Path) -> None:
    """A re-run replaces l1sim's own files only; the user's menu and notes stay."""
    target = tmp_path / "run1"
    _earlier_output(target)
    (target / "my_menu.yaml").write_text("seeds: []")
    with (
        pytest.raises(UserError, match=r"holds files l1sim did not write \(my_menu.yaml\)"),
        staged_directory(target, protect=[target / "my_menu.yaml"]),
    ):
        pass
    with staged_directory(target, force=True, protect=[target / "my_menu.yaml"]) as staging:
        (staging / "summary.json").write_text("new")
    assert sorted(p.name for p in target.iterdir()) == [LEDGER_NAME, "my_menu.yaml", "summary.json"]
    assert (target / "my_menu.yaml").read_text() == "seeds: []"
    assert (target / "summary.json").read_text() == "new"
    # an input that is one of l1sim's own earlier outputs is never replaced
    with (
        pytest.raises(UserError, match="is an input of this run"),
        staged_directory(target, force=True, protect=[target / "summary.json"]),
    ):
        pass
    assert (target / "summary.json").read_text() == "new"


def test_out_dot_never_removes_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "work"
    _earlier_output(target)
    (target / "notes.txt").write_text("mine")
    monkeypatch.chdir(target)
    with staged_directory(Path(), force=True) as staging:
        (staging / "summary.json").write_text("new")
    assert target.is_dir()
    assert (target / "notes.txt").read_text() == "mine"
    assert (target / "summary.json").read_text() == "new"
    assert not (target / "old-plot.png").exists()


def test_dead_staging_directories_are_removed(tmp_path: Path) -> None:
    """A staging directory whose process is gone (SIGKILL, OOM) is cleaned by the next run."""
    dead = tmp_path / ".out.partial-999999999-abc"
    dead.mkdir()
    (dead / ".decisions.parquet.1.tmp").write_bytes(b"x" * 10)
    alive = tmp_path / f".out.partial-{os.getpid()}-abc"
    alive.mkdir()
    other = tmp_path / ".notes.partial-x"
    other.mkdir()
    assert remove_dead_staging(tmp_path) == [dead]
    assert alive.exists()
    assert other.exists()


def test_staged_files_replace_own_files_and_drop_stale_plots(tmp_path: Path) -> None:
    target = tmp_path / "out"
    _earlier_output(target)
    (target / "mine.png").write_bytes(b"user")
    with staged_files(target) as staging:
        (staging / "new-plot.png").write_bytes(b"new")
        (staging / "report.html").write_text("<html>")
    names = sorted(p.name for p in target.iterdir())
    assert names == [LEDGER_NAME, "mine.png", "new-plot.png", "report.html", "summary.json"]
    assert read_ledger(target) == {"new-plot.png", "report.html", "summary.json"}


def _stage_then_fail(target: Path) -> None:
    with staged_files(target) as staging:
        (staging / "report.html").write_text("half")
        raise RuntimeError


def test_staged_files_failure_leaves_nothing(tmp_path: Path) -> None:
    target = tmp_path / "out"
    _earlier_output(target)
    with pytest.raises(RuntimeError):
        _stage_then_fail(target)
    assert sorted(p.name for p in target.iterdir()) == [LEDGER_NAME, "old-plot.png", "summary.json"]
