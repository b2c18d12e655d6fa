"""The Dark Machines challenge CSV: parsing, units, errors naming lines."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import streams
from streams import StreamError

LINES = [
    "1;ttbar;1.0;45000.5;0.5;j,120000,100000,1.2,0.3;b,90000,80000,-0.4,2.0;e-,30000,25000,0.1,-1.0;",
    "2;ttbar;1.0;12000;-2.0;m+,50000,40000,0.5,1.5;m-,30000,35000,-0.5,-1.5;g,9000,8000,0,0;",
    "3;wjets;0.5;80000;3.0",
]


def _write(tmp_path: Path, lines: list[str], name: str = "events.csv") -> Path:
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n")
    return path


def test_reads_objects_in_gev(tmp_path: Path) -> None:
    source = streams.open(_write(tmp_path, LINES))
    assert source.format == "darkmachines"
    assert source.n_events == 3
    batch = next(iter(source))
    np.testing.assert_array_equal(batch.event_id, [1, 2, 3])
    np.testing.assert_array_equal(batch.met_pt, np.float32([45.0005, 12.0, 80.0]))
    np.testing.assert_array_equal(batch.met_phi, np.float32([0.5, -2.0, 3.0]))
    jets = batch.objects["jet"]
    np.testing.assert_array_equal(jets.counts(), [2, 0, 0])
    np.testing.assert_array_equal(jets.pt, np.float32([100.0, 80.0]))
    np.testing.assert_array_equal(jets.quality, [0, 1])  # b-tag
    np.testing.assert_array_equal(batch.objects["muon"].pt, np.float32([40.0, 35.0]))
    np.testing.assert_array_equal(batch.objects["egamma"].pt, np.float32([25.0, 8.0]))


def test_chunks_and_content_detection(tmp_path: Path) -> None:
    path = _write(tmp_path, LINES * 5, name="events.txt")
    batches = list(streams.open(path, chunk_size=4))
    assert [len(b) for b in batches] == [4, 4, 4, 3]


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ("4;x;1", r"line 2: expected 'event ID; process ID"),
        ("4;x;1;abc;0", r"line 2: bad MET field"),
        ("4;x;1;10;0;j,1,2,3", r"line 2: field 6 'j,1,2,3': expected 'type,E,pt,eta,phi'"),
        ("4;x;1;10;0;q,1,2,3,4", r"line 2: field 6: unknown object type 'q'"),
        ("4;x;1;10;0;j,1,-2000,3,4", r"line 2: jet pt = -2.0"),
        ("4;x;1;10;0;j,1,nan,3,4", r"line 2: jet pt = nan"),
    ],
)
def test_bad_lines_are_named(tmp_path: Path, bad: str, message: str) -> None:
    path = _write(tmp_path, [LINES[0], bad, LINES[1]], name="bad.csv")
    with pytest.raises(StreamError, match=rf"bad\.csv: {message}"):
        list(streams.open(path))
