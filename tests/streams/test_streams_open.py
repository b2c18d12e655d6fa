"""streams.open: format detection, lists and chains, progress bar, missing/unknown input."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import h5py
import numpy as np
import pytest

import streams
from streams import StreamError, synthetic


@pytest.fixture
def parquet_file(tmp_path: Path) -> Path:
    path = tmp_path / "a.parquet"
    streams.write_parquet(synthetic.generate("background", 300, seed=1), path)
    return path


def test_detects_format_from_content_when_the_extension_is_unknown(
    parquet_file: Path, tmp_path: Path, reference_file: Callable[..., Path]
) -> None:
    renamed = tmp_path / "events.dat"
    shutil.copy(parquet_file, renamed)
    assert streams.open(renamed).format == "parquet"
    arrow = tmp_path / "x.bin"
    streams.write_arrow(synthetic.generate("background", 5), arrow)
    assert streams.open(arrow).format == "arrow"
    h5 = tmp_path / "adc.bin"
    with h5py.File(h5, "w") as fh:
        fh.create_dataset("Particles", data=np.zeros((4, 19, 4), np.float32))
    assert streams.open(h5).format == "hdf5"
    root = tmp_path / "tree.bin"
    shutil.copy(reference_file("events", "qcd.root"), root)
    assert streams.open(root).format == "root"


def test_format_can_be_forced(parquet_file: Path, tmp_path: Path) -> None:
    weird = tmp_path / "events.csv"
    shutil.copy(parquet_file, weird)
    assert streams.open(weird, format="parquet").n_events == 300


def test_missing_and_unknown(tmp_path: Path) -> None:
    with pytest.raises(StreamError, match=r"nothere\.parquet: no such file"):
        streams.open(tmp_path / "nothere.parquet")
    other = tmp_path / "notes.xyz"
    other.write_text("hello\n")
    with pytest.raises(StreamError, match=r"notes\.xyz: unknown event format"):
        streams.open(other)
    with pytest.raises(StreamError, match=r"unknown format 'yaml'"):
        streams.open(other, format="yaml")


def test_list_and_chain(parquet_file: Path) -> None:
    listed = streams.open([parquet_file, "synthetic:A_4l?n=50&seed=2"], chunk_size=128)
    assert listed.n_events == 350
    ids = np.concatenate([b.event_id for b in listed])
    np.testing.assert_array_equal(ids, np.concatenate([np.arange(300), np.arange(50)]))
    chained = streams.chain(parquet_file, synthetic.generate("h_tautau", 20))
    assert sum(len(b) for b in chained) == 320
    assert [p["format"] for p in chained.describe()["parts"]] == ["parquet", "synthetic"]
    # sources are re-iterable
    assert sum(len(b) for b in chained) == 320


def test_progress_bar_is_opt_in(parquet_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    list(streams.open(parquet_file))
    assert capsys.readouterr().err == ""
    list(streams.open(parquet_file, progress=True))
    assert "300/300" in capsys.readouterr().err
