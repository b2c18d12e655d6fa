"""No event is dropped for its id: negative ids count like any other (issue 11).

A BX holds an event when the timeline put one there (``has_event``), never because
its id is >= 0: a file whose ids are all negative gives the rates of the same file
with positive ids, and one negative id in a signal sample keeps every event.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import streams
from l1sim.cli import main
from streams import EventBatch, concat_batches, synthetic


def _write(path: Path, events: EventBatch, ids: np.ndarray) -> Path:
    streams.write_parquet(
        [EventBatch.from_events(ids, events.met_pt, events.met_phi, events.objects)], path
    )
    return path


def _run(tmp_path: Path, name: str, *argv: str) -> dict[str, Any]:
    out = tmp_path / name
    assert main(["run", *argv, "--out", str(out), "--minimum-bias"]) == 0
    summary: dict[str, Any] = json.loads((out / "summary.json").read_text())
    return summary


@pytest.fixture(scope="module")
def background() -> EventBatch:
    return concat_batches(list(synthetic.generate("background", 5000, seed=21)))


def test_all_negative_ids_give_the_rates_of_positive_ids(
    tmp_path: Path, background: EventBatch
) -> None:
    positive = _write(tmp_path / "pos.parquet", background, np.arange(5000, dtype=np.int64))
    negative = _write(tmp_path / "neg.parquet", background, -1 - np.arange(5000, dtype=np.int64))
    a = _run(tmp_path, "a", str(positive))
    b = _run(tmp_path, "b", str(negative))
    assert b["normalisation"]["n_colliding_bx"] == a["normalisation"]["n_colliding_bx"] == 5000
    assert b["rates"]["l1_accept"]["rate_hz"] is not None
    assert b["rates"]["l1_accept"] == a["rates"]["l1_accept"]
    assert b["rates"]["total"] == a["rates"]["total"]
    assert [s["rate_hz"] for s in b["rates"]["seeds"]] == [
        s["rate_hz"] for s in a["rates"]["seeds"]
    ]


def test_one_negative_id_in_a_signal_keeps_every_event(
    tmp_path: Path, background: EventBatch
) -> None:
    ids = np.arange(5000, dtype=np.int64)
    ids[1234] = -42
    signal = _write(tmp_path / "sig.parquet", background, ids)
    summary = _run(
        tmp_path,
        "s",
        "synthetic:background?n=4000&seed=1",
        "--max-bx",
        "3564",
        "--signal",
        str(signal),
    )
    assert summary["signals"][0]["n_events"] == 5000


def test_a_pre_placed_parquet_file_is_one_error_naming_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "placed.parquet"
    streams.write_parquet(streams.timeline.place(synthetic.generate("background", 100)), path)
    assert main(["run", str(path), "--out", str(tmp_path / "o")]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) >= 1
    assert err[-1].startswith(f"l1sim: error: {path}: the records are already placed")
    assert not (tmp_path / "o").exists()
